/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The model of the target that records feed and reports read: the heap and
 * what hangs off it. Only heap is required; the rest may be NULL.
 */
#ifndef TT_MODEL_H
#define TT_MODEL_H

struct heap;
struct stacks;
struct timeline;
struct vars;
struct symbolizer;

struct model {
	struct heap *heap;
	struct stacks *stacks;       /* allocation stacks */
	struct timeline *timeline;   /* the heap over time */
	struct vars *vars;           /* tracked variables */
	struct symbolizer *sym;      /* addresses to names; reports only */
};

#endif /* TT_MODEL_H */
