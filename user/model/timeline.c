// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "timeline.h"

struct timeline {
	uint64_t start_ns;
	uint64_t interval_ns;
	size_t cnt; /* intervals in use: the last one is the current one */
	size_t cap; /* of pts: grown as needed up to TIMELINE_MAX_POINTS (a
		     * short-lived process followed with -f needs few) */
	struct timeline_point *pts;
	uint64_t size_hist[DASH_SIZE_BUCKETS];
	uint64_t size_hist_bytes[DASH_SIZE_BUCKETS];
	uint64_t last_live_bytes, last_live_cnt;
	uint64_t rss_samples, rss_peak, rss_last;
};

int timeline__new(struct timeline **out, uint64_t start_ns)
{
	struct timeline *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->cap = 64;
	t->pts = calloc(t->cap, sizeof(*t->pts));
	if (!t->pts) {
		free(t);
		return -ENOMEM;
	}
	t->start_ns = start_ns;
	t->interval_ns = TIMELINE_FIRST_INTERVAL_NS;
	*out = t;
	return 0;
}

void timeline__free(struct timeline *t)
{
	if (t)
		free(t->pts);
	free(t);
}

static void merge(struct timeline_point *dst, const struct timeline_point *a,
		  const struct timeline_point *b)
{
	struct timeline_point m = *a;
	unsigned int k;

	if (b->used) {
		m.live_bytes = b->live_bytes;
		m.live_cnt = b->live_cnt;
		if (b->max_live_bytes > m.max_live_bytes || !m.used)
			m.max_live_bytes = b->max_live_bytes;
		m.allocs += b->allocs;
		m.frees += b->frees;
		m.alloc_bytes += b->alloc_bytes;
		for (k = 0; k < DASH_SIZE_BUCKETS; k++)
			m.heat[k] += b->heat[k];
		m.used = 1;
	}
	if (b->rss_used) {
		m.rss_bytes = b->rss_bytes;
		if (b->max_rss_bytes > m.max_rss_bytes || !m.rss_used)
			m.max_rss_bytes = b->max_rss_bytes;
		m.rss_used = 1;
	}
	*dst = m;
}

/* Halves the resolution: pairs of intervals become one. */
static void compact(struct timeline *t)
{
	size_t i;

	for (i = 0; i < t->cap / 2; i++)
		merge(&t->pts[i], &t->pts[2 * i], &t->pts[2 * i + 1]);
	memset(&t->pts[t->cap / 2], 0, sizeof(t->pts[0]) * (t->cap - t->cap / 2));
	t->interval_ns *= 2;
	t->cnt = (t->cnt + 1) / 2;
}

/* Room for interval i: more points while there may be, else a coarser
 * interval (also when memory runs out: the timeline stays bounded). */
static void make_room(struct timeline *t, uint64_t rel)
{
	while (rel / t->interval_ns >= t->cap) {
		size_t cap = t->cap * 2;
		struct timeline_point *n;

		n = cap <= TIMELINE_MAX_POINTS ? realloc(t->pts, cap * sizeof(*n)) : NULL;
		if (!n) {
			compact(t);
			continue;
		}
		memset(&n[t->cap], 0, (cap - t->cap) * sizeof(*n));
		t->pts = n;
		t->cap = cap;
	}
}

static struct timeline_point *point_at(struct timeline *t, uint64_t ts_ns)
{
	uint64_t rel = ts_ns > t->start_ns ? ts_ns - t->start_ns : 0;
	size_t i;

	make_room(t, rel);
	i = (size_t)(rel / t->interval_ns);
	/* records may come slightly out of order across CPUs: never go back */
	if (t->cnt && i < t->cnt - 1)
		i = t->cnt - 1;
	/* intervals without records carry the live figures forward */
	while (t->cnt <= i) {
		struct timeline_point *p = &t->pts[t->cnt++];

		p->live_bytes = p->max_live_bytes = t->last_live_bytes;
		p->live_cnt = t->last_live_cnt;
	}
	return &t->pts[i];
}

static void note_live(struct timeline *t, struct timeline_point *p, uint64_t live_bytes,
		      uint64_t live_cnt)
{
	p->live_bytes = live_bytes;
	p->live_cnt = live_cnt;
	if (live_bytes > p->max_live_bytes)
		p->max_live_bytes = live_bytes;
	p->used = 1;
	t->last_live_bytes = live_bytes;
	t->last_live_cnt = live_cnt;
}

void timeline__on_alloc(struct timeline *t, uint64_t ts_ns, uint64_t size, uint64_t live_bytes,
			uint64_t live_cnt)
{
	struct timeline_point *p = point_at(t, ts_ns);
	unsigned int k = dash_size_bucket(size);

	p->allocs++;
	p->alloc_bytes += size;
	if (p->heat[k] < UINT32_MAX)
		p->heat[k]++;
	t->size_hist[k]++;
	t->size_hist_bytes[k] += size;
	note_live(t, p, live_bytes, live_cnt);
}

void timeline__on_free(struct timeline *t, uint64_t ts_ns, uint64_t live_bytes, uint64_t live_cnt)
{
	struct timeline_point *p = point_at(t, ts_ns);

	p->frees++;
	note_live(t, p, live_bytes, live_cnt);
}

void timeline__on_rss(struct timeline *t, uint64_t ts_ns, uint64_t rss_bytes)
{
	struct timeline_point *p = point_at(t, ts_ns);

	if (!p->rss_used || rss_bytes > p->max_rss_bytes)
		p->max_rss_bytes = rss_bytes;
	p->rss_bytes = rss_bytes;
	p->rss_used = 1;
	t->rss_samples++;
	t->rss_last = rss_bytes;
	if (rss_bytes > t->rss_peak)
		t->rss_peak = rss_bytes;
}

void timeline__rss(const struct timeline *t, uint64_t *samples, uint64_t *peak_bytes,
		   uint64_t *last_bytes)
{
	*samples = t->rss_samples;
	*peak_bytes = t->rss_peak;
	*last_bytes = t->rss_last;
}

uint64_t timeline__interval_ns(const struct timeline *t)
{
	return t->interval_ns;
}

const struct timeline_point *timeline__points(const struct timeline *t, size_t *cnt)
{
	*cnt = t->cnt;
	return t->pts;
}

const uint64_t *timeline__size_hist(const struct timeline *t)
{
	return t->size_hist;
}

const uint64_t *timeline__size_hist_bytes(const struct timeline *t)
{
	return t->size_hist_bytes;
}

void timeline__heat(const struct timeline *t, uint64_t duration_ns, unsigned int cols,
		    uint64_t *out)
{
	size_t i;
	unsigned int k, col;

	memset(out, 0, sizeof(*out) * DASH_SIZE_BUCKETS * cols);
	if (!cols)
		return;
	if (!duration_ns)
		duration_ns = 1;
	for (i = 0; i < t->cnt; i++) {
		/* an interval goes to the slice its start falls in */
		uint64_t start = (uint64_t)i * t->interval_ns;

		col = start >= duration_ns ? cols - 1 : (unsigned int)((double)start / duration_ns * cols);
		if (col >= cols)
			col = cols - 1;
		for (k = 0; k < DASH_SIZE_BUCKETS; k++)
			out[k * cols + col] += t->pts[i].heat[k];
	}
}
