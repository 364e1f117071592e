/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The heap over time, bounded whatever the run length: at most
 * TIMELINE_MAX_POINTS intervals; when they run out, neighbours are merged and
 * the interval doubles. Each interval keeps the live figures at its end, the
 * highest live bytes within it, its allocations and frees, and its
 * allocations per size bucket (the heatmap's raw data).
 */
#ifndef TT_TIMELINE_H
#define TT_TIMELINE_H

#include <stddef.h>
#include <stdint.h>
#include "dash.h"

#define TIMELINE_MAX_POINTS 2048
#define TIMELINE_FIRST_INTERVAL_NS 1000000ULL /* 1 ms, doubled as needed */

struct timeline_point {
	uint64_t live_bytes, live_cnt; /* at the last record of the interval */
	uint64_t max_live_bytes;       /* highest within it */
	uint64_t allocs, frees;
	uint64_t alloc_bytes;
	uint32_t heat[DASH_SIZE_BUCKETS]; /* allocations by size bucket */
	uint8_t used;                   /* a record fell in this interval */
	uint8_t rss_used;               /* an RSS sample fell in it */
	uint64_t rss_bytes;             /* the target's RSS at the last one */
	uint64_t max_rss_bytes;         /* the highest within it */
};

struct timeline;

int timeline__new(struct timeline **out, uint64_t start_ns);
void timeline__free(struct timeline *t);

/* One record at ts_ns: live figures after it, and what it did. */
void timeline__on_alloc(struct timeline *t, uint64_t ts_ns, uint64_t size,
			uint64_t live_bytes, uint64_t live_cnt);
void timeline__on_free(struct timeline *t, uint64_t ts_ns, uint64_t live_bytes, uint64_t live_cnt);

/*
 * The target's resident set (from /proc/PID/statm) at ts_ns, sampled by
 * the reader beside the records: kept per interval, never mixed into the
 * heap's figures. Intervals up to ts_ns exist from then on.
 */
void timeline__on_rss(struct timeline *t, uint64_t ts_ns, uint64_t rss_bytes);
/* Samples taken, the highest and the last one. */
void timeline__rss(const struct timeline *t, uint64_t *samples, uint64_t *peak_bytes,
		   uint64_t *last_bytes);

uint64_t timeline__interval_ns(const struct timeline *t);
/* Intervals 0..cnt-1 (interval i ends at start + (i+1) * interval_ns). */
const struct timeline_point *timeline__points(const struct timeline *t, size_t *cnt);
/*
 * The heatmap: allocations per size bucket (row) and time slice (column),
 * cols equal slices over [0, duration_ns), into out[row * cols + col].
 */
void timeline__heat(const struct timeline *t, uint64_t duration_ns, unsigned int cols,
		    uint64_t *out);
/* Allocations per size bucket over the whole run. */
const uint64_t *timeline__size_hist(const struct timeline *t);
const uint64_t *timeline__size_hist_bytes(const struct timeline *t);

#endif /* TT_TIMELINE_H */
