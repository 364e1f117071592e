/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Symbolized stacks and the call sites they go through. A stack's call site
 * is its first source-level frame that is not the allocator, libc or an
 * allocation wrapper: malloc called from xmalloc called from parse_line, or
 * operator new called from std::vector<int>::_M_realloc_insert called from
 * load_table: the call sites are parse_line and load_table. Wrappers are a
 * built-in list of common ones (callsites_filter__skips) and the patterns
 * of --skip-frames. Built at report time: symbolization happens once per
 * distinct address, lazily.
 *
 * A return address where calls were inlined stands for several source-level
 * frames (callsites__frames), innermost first; the site is chosen among
 * those frames as among the others: an inlined xmalloc is skipped like a
 * real one, and the function it was inlined into may be the site.
 *
 * Stacks whose sites are the same function make one call site (by_address:
 * the same address), named after the stack of theirs with the most bytes.
 */
#ifndef TT_CALLSITES_H
#define TT_CALLSITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model.h"
#include "symbolize.h"

struct callsites;
struct callsites_filter;

struct callsites_opts {
	const char *allocator;          /* path of the probed library: its frames are skipped */
	const char *const *skip_frames; /* POSIX EREs on demangled names: wrappers too */
	size_t skip_cnt;
	bool by_address;                /* one site per address, not per function */
};

struct callsite {
	uint64_t ip;           /* the return address of the representative's site */
	struct sym_frame frame; /* the site's source-level frame there */
	uint32_t rep_stack;    /* the stack through it with the most bytes */
	uint32_t site_frame;   /* index of the site in rep_stack's frames (callsites__frames
				* of each address, in order) */
	uint32_t stack_cnt;    /* distinct stacks through it */
	uint32_t addr_cnt;     /* distinct call addresses merged into it (1 by address) */
	uint64_t allocs, bytes;
	uint64_t live_cnt, live_bytes;
	uint64_t at_peak_cnt, at_peak_bytes; /* its stacks' at the peak (stacks.h) */
};

/*
 * What is not a call site. 0, -ENOMEM, or -EINVAL when a pattern is not a
 * valid ERE (a message is printed). allocator: as in callsites_opts.
 */
int callsites_filter__new(struct callsites_filter **out, const char *allocator,
			  const char *const *skip_frames, size_t skip_cnt);
void callsites_filter__free(struct callsites_filter *flt);
/* Is f the allocator, libc, a known wrapper or a --skip-frames match? */
bool callsites_filter__skips(const struct callsites_filter *flt, const struct sym_frame *f);
/* The index of the call site among frames[0..nr) (innermost first): the
 * first not skipped, nor without a name and called by a skipped one; 0 when
 * there is none. */
size_t callsites_filter__pick(const struct callsites_filter *flt, const struct sym_frame *frames,
			      size_t nr);
/* Is the demangled name one of the built-in wrappers (return type, template
 * arguments, parameters and .cold-like suffixes disregarded; the C++
 * standard library's std:: and __gnu_cxx:: functions count as wrappers)? */
bool callsites__known_wrapper(const char *name);

/* 0, -ENOMEM, or -EINVAL for a bad --skip-frames pattern. */
int callsites__build(struct callsites **out, const struct model *m,
		     const struct callsites_opts *opts);
void callsites__free(struct callsites *cs);

/* Sites sorted by bytes allocated, largest first. */
size_t callsites__count(const struct callsites *cs);
const struct callsite *callsites__get(const struct callsites *cs, size_t i);
/* The site of a stack, and the index of its frame among the stack's
 * source-level frames (as callsite.site_frame). */
const struct callsite *callsites__of_stack(const struct callsites *cs, uint32_t stack_id,
					   uint32_t *frame_idx);
/* Its position in callsites__get() order; -1 when c is not one of cs. */
long callsites__index(const struct callsites *cs, const struct callsite *c);
/* Frame i of a stack (i < its nr), symbolized; the caller's line for return
 * addresses. Returns 0 or -ENOENT (out->ip still set). With inlining, the
 * innermost frame of callsites__frames(). */
int callsites__frame(struct callsites *cs, uint64_t ip, struct sym_frame *out);
/* Every source-level frame at a stack's address, innermost first (inlined
 * ones marked, the real function last): out[0..*nr), at most cap (>= 1) and
 * *nr >= 1; see symbolizer__resolve_chain(). Each has ip; offsets are the
 * return address's. Returns as callsites__frame(). */
int callsites__frames(struct callsites *cs, uint64_t ip, struct sym_frame *out, size_t cap,
		      size_t *nr);

#endif /* TT_CALLSITES_H */
