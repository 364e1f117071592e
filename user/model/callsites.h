/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Symbolized stacks and the call sites they go through: a stack's call site
 * is its first frame outside the allocator and libc (malloc called from
 * strdup called from parse_line: the call site is in parse_line). Built at
 * report time: symbolization happens once per distinct address, lazily.
 *
 * A return address where calls were inlined stands for several source-level
 * frames (callsites__frames). The call site is the innermost of them, the
 * function whose code calls the allocator: malloc called from an inlined
 * xmalloc is the call site xmalloc, as it would be were xmalloc not inlined,
 * and the frame after it (its caller) is the function it was inlined into.
 */
#ifndef TT_CALLSITES_H
#define TT_CALLSITES_H

#include <stddef.h>
#include <stdint.h>
#include "model.h"
#include "symbolize.h"

struct callsites;

struct callsite {
	uint64_t ip;           /* the call site's return address */
	struct sym_frame frame;
	uint32_t rep_stack;    /* the stack through it with the most bytes */
	uint32_t stack_cnt;    /* distinct stacks through it */
	uint64_t allocs, bytes;
	uint64_t live_cnt, live_bytes;
};

/* allocator: path of the probed library (its frames are skipped too). */
int callsites__build(struct callsites **out, const struct model *m, const char *allocator);
void callsites__free(struct callsites *cs);

/* Sites sorted by bytes allocated, largest first. */
size_t callsites__count(const struct callsites *cs);
const struct callsite *callsites__get(const struct callsites *cs, size_t i);
/* The site of a stack, and the index of its frame in the stack. */
const struct callsite *callsites__of_stack(const struct callsites *cs, uint32_t stack_id,
					   uint32_t *frame_idx);
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
