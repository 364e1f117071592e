/* SPDX-License-Identifier: Apache-2.0 */
/* The allocator functions ttbpf knows: one table for probing and naming. */
#ifndef TT_ALLOC_FNS_H
#define TT_ALLOC_FNS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "ttbpf.h"

struct alloc_fn {
	const char *name;
	enum tt_fn fn;
	bool required; /* a library without it is not an allocator */
	/* An exception may unwind through it: operator new throws
	 * std::bad_alloc and calls the new_handler, which may throw. Its
	 * returns are probed at its return instructions, never with a return
	 * probe, whose trampoline no unwinder gets past (docs/semantics.md). */
	bool may_throw;
};

/* The first TT_FN_CNT entries are indexed by enum tt_fn; more names of the
 * same kinds follow (operator new and delete have many). */
extern const struct alloc_fn alloc_fns[];
extern const size_t alloc_fn_cnt;

/* The longest list of symbols probed. */
#define ALLOC_FN_MAX 32

/* "malloc", ...; "unknown" out of range */
const char *tt_fn_name(unsigned int fn);

#endif /* TT_ALLOC_FNS_H */
