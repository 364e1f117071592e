// SPDX-License-Identifier: Apache-2.0
/* The heap over time: intervals, gaps carried forward, the bound of
 * TIMELINE_MAX_POINTS (neighbours merged, the interval doubled), and what
 * merging keeps. */
#include <criterion/criterion.h>
#include "timeline.h"

#define MS 1000000ULL
#define START (1000 * MS)

static struct timeline *tl;

static void setup(void)
{
	cr_assert_eq(timeline__new(&tl, START), 0);
}

static void teardown(void)
{
	timeline__free(tl);
}

TestSuite(timeline, .init = setup, .fini = teardown);

Test(timeline, one_interval_per_millisecond_and_gaps_carry_live_figures)
{
	const struct timeline_point *p;
	size_t n;

	timeline__on_alloc(tl, START + MS / 2, 100, 100, 1);
	timeline__on_alloc(tl, START + 5 * MS + 1, 50, 150, 2);
	p = timeline__points(tl, &n);
	cr_assert_eq(n, 6);
	cr_expect_eq(timeline__interval_ns(tl), MS);
	cr_expect_eq(p[0].allocs, 1);
	cr_expect_eq(p[0].live_bytes, 100);
	for (size_t i = 1; i < 5; i++) {
		cr_expect_eq(p[i].allocs, 0, "interval %zu", i);
		cr_expect_eq(p[i].live_bytes, 100, "interval %zu carries the live bytes", i);
		cr_expect_eq(p[i].live_cnt, 1);
		cr_expect_eq(p[i].used, 0);
	}
	cr_expect_eq(p[5].allocs, 1);
	cr_expect_eq(p[5].live_bytes, 150);
	cr_expect_eq(p[5].max_live_bytes, 150);
}

Test(timeline, a_late_record_never_goes_back)
{
	const struct timeline_point *p;
	size_t n;

	timeline__on_alloc(tl, START + 3 * MS, 10, 10, 1);
	timeline__on_free(tl, START + 1 * MS, 0, 0); /* another CPU's, a bit late */
	p = timeline__points(tl, &n);
	cr_assert_eq(n, 4);
	cr_expect_eq(p[3].frees, 1);
	cr_expect_eq(p[1].frees, 0);
	cr_expect_eq(p[3].live_bytes, 0);
	cr_expect_eq(p[3].max_live_bytes, 10);
}

/* Past TIMELINE_MAX_POINTS intervals the resolution halves, as often as
 * needed; counts are kept whole and the peak survives the merges. */
Test(timeline, bounded_whatever_the_length)
{
	const uint64_t steps = 10 * TIMELINE_MAX_POINTS + 7;
	uint64_t allocs = 0, frees = 0, max_seen = 0, i;
	const struct timeline_point *p;
	size_t n, k;

	for (i = 0; i < steps; i++) {
		uint64_t live = i == steps / 3 ? 1 << 20 : 64 + i % 5;

		timeline__on_alloc(tl, START + i * MS, 16 << (i % 4), live, 1);
		if (i % 2)
			timeline__on_free(tl, START + i * MS + 1, live - 16, 0);
	}
	p = timeline__points(tl, &n);
	cr_assert_leq(n, TIMELINE_MAX_POINTS);
	cr_assert_gt(n, TIMELINE_MAX_POINTS / 2, "resolution halved more than needed: %zu", n);
	/* 20,487 ms in at most 2,048 intervals: 16 ms is the first doubling that fits */
	cr_expect_eq(timeline__interval_ns(tl), 16 * MS, "interval %llu ns",
		     (unsigned long long)timeline__interval_ns(tl));
	for (k = 0; k < n; k++) {
		allocs += p[k].allocs;
		frees += p[k].frees;
		if (p[k].max_live_bytes > max_seen)
			max_seen = p[k].max_live_bytes;
	}
	cr_expect_eq(allocs, steps);
	cr_expect_eq(frees, steps / 2);
	cr_expect_eq(max_seen, 1 << 20, "the peak was merged away");
	/* the last interval holds the last record's live figures */
	cr_expect_eq(p[n - 1].live_cnt, (steps - 1) % 2 ? 0 : 1);
}

Test(timeline, size_histogram_counts_every_allocation)
{
	const uint64_t *h, *hb;
	uint64_t cnt = 0, bytes = 0;

	for (int i = 0; i < 1000; i++)
		timeline__on_alloc(tl, START + (uint64_t)i * 1000, (uint64_t)i * 37 + 1, 0, 0);
	h = timeline__size_hist(tl);
	hb = timeline__size_hist_bytes(tl);
	for (int k = 0; k < DASH_SIZE_BUCKETS; k++) {
		cnt += h[k];
		bytes += hb[k];
	}
	cr_expect_eq(cnt, 1000);
	cr_expect_eq(bytes, 37ULL * 999 * 1000 / 2 + 1000);
}

/* RSS samples: per interval the last and the highest, apart from the heap's
 * figures; merging keeps the later one and the higher maximum. */
Test(timeline, rss_samples_beside_the_heap)
{
	const struct timeline_point *p;
	uint64_t samples, peak, last;
	size_t n, i;

	timeline__on_alloc(tl, START + MS / 2, 100, 100, 1);
	timeline__on_rss(tl, START + MS / 4, 8000);
	timeline__on_rss(tl, START + MS / 2 + 1, 9000);
	timeline__on_rss(tl, START + 3 * MS + 1, 7000); /* past the last record */
	p = timeline__points(tl, &n);
	cr_assert_eq(n, 4, "the RSS sample's interval exists: %zu", n);
	cr_expect_eq(p[0].rss_bytes, 9000);
	cr_expect_eq(p[0].max_rss_bytes, 9000);
	cr_expect_eq(p[0].live_bytes, 100);
	cr_expect_not(p[1].rss_used);
	cr_expect_eq(p[3].rss_bytes, 7000);
	cr_expect_eq(p[3].live_bytes, 100, "the heap carried forward, not the RSS");
	timeline__rss(tl, &samples, &peak, &last);
	cr_expect_eq(samples, 3);
	cr_expect_eq(peak, 9000);
	cr_expect_eq(last, 7000);

	/* far enough to merge pairs many times over */
	timeline__on_rss(tl, START + 2 * TIMELINE_MAX_POINTS * MS, 5000);
	p = timeline__points(tl, &n);
	cr_assert_gt(timeline__interval_ns(tl), MS);
	cr_expect_eq(p[0].rss_bytes, 7000, "the later sample of the merged intervals");
	cr_expect_eq(p[0].max_rss_bytes, 9000);
	cr_expect_eq(p[n - 1].rss_bytes, 5000);
	for (i = 1; i + 1 < n; i++)
		cr_expect_not(p[i].rss_used, "interval %zu", i);
}
