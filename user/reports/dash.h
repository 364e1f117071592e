/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Everything the dashboard draws, as plain data. Built from the live model at
 * the end of a run, or from a saved JSON report (`ttbpf report`), so that the
 * drawing code knows nothing of either. All strings are owned by whoever
 * built the struct and may hold any bytes (they come from the target).
 */
#ifndef TT_DASH_H
#define TT_DASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Allocation sizes in 20 log-scaled buckets: bucket 0 holds sizes up to 16
 * bytes, bucket k (1..18) sizes in (16 << (k-1), 16 << k], bucket 19 all
 * sizes above 4 MiB.
 */
#define DASH_SIZE_BUCKETS 20

static inline unsigned int dash_size_bucket(uint64_t size)
{
	unsigned int k = 0;

	while (k < DASH_SIZE_BUCKETS - 1 && size > (16ULL << k))
		k++;
	return k;
}

/* Small/medium/large classes of the size histogram's colours. */
#define DASH_SMALL_MAX 256ULL     /* <= 256 B: small */
#define DASH_MEDIUM_MAX 65536ULL  /* <= 64 KB: medium; above: large */

/* What ranks the call-site tree (`--sort`). */
enum dash_sort {
	DASH_SORT_LIVE = 0, /* default: bytes still live at the end */
	DASH_SORT_PEAK,     /* bytes live at the moment of the peak */
	DASH_SORT_ALLOCATED,
};

/* The dashboard's lists (leaks, call sites) show `--top` entries, at most this
 * many: what a page can hold and a reader take in. */
#define DASH_TOP_MAX 32

/* "Near the peak": live bytes at DASH_NEAR_PEAK_PCT % of the peak or more. */
#define DASH_NEAR_PEAK_PCT 90

struct dash_point {
	uint64_t t_ns;       /* end of the interval, since the start of tracing */
	uint64_t live_bytes; /* at the end of the interval */
	uint64_t live_cnt;
	uint64_t allocs;     /* in the interval */
	uint64_t frees;
	uint64_t max_live_bytes; /* the highest within it */
	uint64_t rss_bytes;  /* the target's RSS at the last sample up to t_ns */
	bool has_rss;        /* false before the first sample (or none taken) */
};

struct dash_named {
	const char *name; /* type name or category */
	uint64_t bytes;
	uint64_t count;
};

/* One node of the call-site tree. Roots (parent -1) are call sites (the
 * first frame outside the allocator); a child is a caller of its parent. */
struct dash_site {
	int parent;
	const char *function; /* may be NULL: unknown */
	const char *file;     /* may be NULL */
	int line;             /* 0: unknown */
	uint64_t bytes;       /* through this path, by the tree's sort: allocated,
			       * live at the end or live at the peak */
	uint64_t count;       /* allocations, blocks live at the end or at the peak */
};

/* A call site still holding memory at the end: the leak panel's row. */
struct dash_leak {
	const char *function; /* the first user frame; may be NULL: unknown */
	const char *file;     /* may be NULL */
	int line;             /* 0: unknown */
	uint64_t live_bytes, live_cnt;
	uint64_t allocs;      /* all it allocated, freed or not */
};

/* Time slices of a variable group's lifecycle band. */
#define DASH_VAR_SLICES 64

/* The instances of one tracked variable (name, type, marker's place). */
struct dash_var {
	const char *name;
	const char *type_name;
	uint64_t instances;   /* named over the run, folded ones included */
	uint64_t alive;       /* heap instances alive at the end */
	uint64_t folded;      /* counted, not listed: not in alive_in_slice */
	uint64_t bytes_alive; /* at the end */
	uint64_t peak_bytes;
	/* listed heap instances alive at some time in each slice of the run */
	uint32_t alive_in_slice[DASH_VAR_SLICES];
};

/*
 * The dashboard's lists (types, categories, variable groups) hold the
 * DASH_LIST_MAX largest entries by the keys below, in the report's order, and
 * count (and for categories sum) the others: the most the drawing shows, so
 * that it picks what it would pick from the whole list, in memory that does
 * not grow with the report.
 */
#define DASH_LIST_MAX 32

static inline uint64_t dash_named_key(const struct dash_named *e)
{
	return e->bytes;
}

/* Alive at the end first (by bytes), then by peak. */
static inline uint64_t dash_var_key(const struct dash_var *v)
{
	return v->bytes_alive ? (1ULL << 63) | (v->bytes_alive >> 1) : v->peak_bytes >> 1;
}

struct dash {
	const char *target; /* "pid 4242 (./server -c x)" */
	uint64_t duration_ns;
	uint64_t active_allocs;
	uint64_t current_bytes;
	uint64_t peak_bytes;
	uint64_t peak_ns; /* since the start; meaningful when peak_bytes > 0 */
	uint64_t total_allocs;
	uint64_t total_allocated;
	uint64_t total_frees;
	uint64_t lost_events;
	uint64_t peak_cnt;      /* blocks live at the peak */
	bool exited;            /* the target exited: what is live at the end leaked */
	bool temps_known;       /* not with --aggregate */
	uint64_t temp_allocs;   /* temporary allocations (heap.h) and their bytes */
	uint64_t temp_bytes;
	uint64_t temp_window_ns;
	/* time spent near the peak (DASH_NEAR_PEAK_PCT), from the timeline: the
	 * intervals that reached it, and after the last one while live stayed there */
	uint64_t near_peak_ns;
	unsigned int top;       /* list lengths (--top), 1..DASH_TOP_MAX */
	enum dash_sort sort;    /* what ranks the call-site tree */

	const struct dash_point *timeline; /* in time order */
	size_t timeline_cnt;

	/* heat[row * heat_cols + col]: allocations of size bucket `row` in time
	 * slice `col` (slices of equal length over duration_ns). */
	const uint64_t *heat;
	unsigned int heat_cols; /* 0: no heatmap */

	uint64_t size_hist[DASH_SIZE_BUCKETS]; /* allocations per size bucket */

	const struct dash_named *types; /* memory by type of tracked variable */
	size_t type_cnt;
	size_t types_more; /* types not listed */
	const struct dash_named *categories;
	size_t category_cnt;
	size_t categories_more; /* categories not listed, and their sums */
	uint64_t categories_more_bytes, categories_more_count;
	const struct dash_site *sites;
	size_t site_cnt;
	const struct dash_leak *leaks; /* ranked by live bytes, at most top */
	size_t leak_cnt;
	size_t leaks_more;             /* sites still holding memory not listed */
	const struct dash_var *vars; /* one per group */
	size_t var_cnt;
	size_t vars_more;            /* groups not listed */
	uint64_t vars_folded;        /* instances past the bound, all groups */
};

#endif /* TT_DASH_H */
