/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stack table: every distinct user stack seen in allocation records,
 * deduplicated by content (a hash finds candidates; frames are compared, so
 * two stacks are never mixed up), with per-stack allocation figures.
 */
#ifndef TT_STACKS_H
#define TT_STACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stacks;

struct stack_info {
	uint32_t id;        /* >= 1; 0 means "no stack" */
	uint32_t nr;        /* frames, innermost first */
	uint32_t end;       /* enum tt_stack_end */
	const uint64_t *ips;
	uint64_t allocs, bytes;        /* allocations made through this stack */
	uint64_t live_cnt, live_bytes; /* of them, still live */
	uint64_t peak_live_bytes;     /* this stack's own highest live_bytes */
	/* live through this stack at the moment of the latest global peak
	 * (heap_stats.peak_ns) as of the stacks__get call; 0 before any peak
	 * and when !stacks__has_at_peak */
	uint64_t at_peak_cnt, at_peak_bytes;
};

/* max_stacks: distinct stacks kept; beyond it records get id 0, counted. */
int stacks__new(struct stacks **out, size_t max_stacks);
void stacks__free(struct stacks *s);

/* The id of this stack, added if new; 0 when the table is full (counted). */
uint32_t stacks__intern(struct stacks *s, const uint64_t *ips, uint32_t nr, uint32_t end);
void stacks__on_alloc(struct stacks *s, uint32_t id, uint64_t size);
void stacks__on_release(struct stacks *s, uint32_t id, uint64_t size);
/*
 * The heap has just reached a new peak, every change of the record that made
 * it already told (its releases and its allocation): what every stack holds
 * now is what it held at the peak. O(1); the figures are saved lazily.
 */
void stacks__on_peak(struct stacks *s);
/* Aggregate mode: figures counted in the kernel, added to a stack. The
 * kernel keeps no peak breakdown: stacks__has_at_peak is false from then on. */
void stacks__add_counts(struct stacks *s, uint32_t id, const struct stack_info *counts);
/* Whether at_peak_* mean anything (false for figures from the kernel). */
bool stacks__has_at_peak(const struct stacks *s);

size_t stacks__count(const struct stacks *s);      /* ids are 1..count */
/* Its figures as of now, at_peak_* those of the latest peak so far: right at
 * any moment of a run (snapshots), not only at its end. Valid until the next
 * stacks__intern. */
const struct stack_info *stacks__get(const struct stacks *s, uint32_t id);
uint64_t stacks__dropped(const struct stacks *s);   /* records not given a stack: table full */
size_t stacks__memory_bytes(const struct stacks *s);

#endif /* TT_STACKS_H */
