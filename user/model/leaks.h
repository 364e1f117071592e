/* SPDX-License-Identifier: Apache-2.0 */
/* The leak report: blocks still live at the end, grouped by allocation stack,
 * largest first, with their ages. */
#ifndef TT_LEAKS_H
#define TT_LEAKS_H

#include <stddef.h>
#include <stdint.h>
#include "model.h"

struct callsites;

struct leak {
	uint32_t stack_id;   /* 0: blocks allocated without a stack; by site: the
			      * site's stack with the most live bytes */
	uint32_t stack_cnt;  /* by site: the stacks merged (1 by stack) */
	uint64_t live_cnt;
	uint64_t live_bytes;
	uint64_t oldest_ns;  /* allocation times of the oldest and newest block */
	uint64_t newest_ns;
};

/* *out is malloc'ed (free() it). 0 or -ENOMEM. */
int leaks__build(const struct model *m, struct leak **out, size_t *cnt);
/* The same grouped by call site (callsites.h: by function, or by address),
 * largest first; blocks without a stack or a site stay on their own. */
int leaks__by_site(const struct model *m, const struct callsites *cs, struct leak **out,
		   size_t *cnt);

#endif /* TT_LEAKS_H */
