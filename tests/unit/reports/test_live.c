// SPDX-License-Identifier: Apache-2.0
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "live.h"

#define S 1000000000ull

static const char *fmt(const struct live_sample *prev, const struct live_sample *now,
		       uint64_t start_ns, unsigned width)
{
	static char buf[LIVE_LINE_MAX];
	size_t n;

	memset(buf, 'x', sizeof(buf));
	n = live__format(buf, sizeof(buf), prev, now, start_ns, width);
	cr_assert_eq(n, strlen(buf), "the length returned is the line's");
	return buf;
}

Test(live, first_line_rates_since_start)
{
	struct live_sample now = {
		.ns = 12 * S, .allocs = 30000, .frees = 10000, .live_cnt = 2000,
		.live_bytes = 3 << 19, .peak_bytes = 2 << 20, .lost = 5, .procs = 1,
	};

	/* started at 10 s: 2 s, so 15,000 and 5,000 a second */
	cr_assert_str_eq(fmt(NULL, &now, 10 * S, 200),
			 "2.00 s | live 1.5 MB, 2.0K blocks | peak 2.0 MB | 15.0K allocs/s 5.0K "
			 "frees/s | lost 5");
}

Test(live, rates_over_the_last_second)
{
	struct live_sample prev = { .ns = 60 * S, .allocs = 1000, .frees = 900, .procs = 1 };
	struct live_sample now = {
		.ns = 61 * S + S / 2, .allocs = 1300, .frees = 1200, .live_cnt = 100,
		.live_bytes = 1000, .peak_bytes = 4096, .procs = 1,
	};

	/* 300 in 1.5 s; 61.5 s shown rounded */
	cr_assert_str_eq(fmt(&prev, &now, 0, 200),
			 "1m02s | live 1000 B, 100 blocks | peak 4.0 KB | 200 allocs/s 200 frees/s | "
			 "lost 0");
}

Test(live, no_time_no_rate)
{
	struct live_sample prev = { .ns = 5 * S, .allocs = 10, .procs = 1 };
	struct live_sample now = { .ns = 5 * S, .allocs = 20, .procs = 1 };

	cr_assert_str_eq(fmt(&prev, &now, 5 * S, 200),
			 "0 ns | live 0 B, 0 blocks | peak 0 B | 0 allocs/s 0 frees/s | lost 0");
}

Test(live, follow_says_procs_and_peaks)
{
	struct live_sample now = {
		.ns = 3 * S, .allocs = 3, .frees = 0, .live_cnt = 3, .live_bytes = 300,
		.peak_bytes = 900, .procs = 3,
	};

	cr_assert_str_eq(fmt(NULL, &now, 0, 200),
			 "3.00 s, 3 procs | live 300 B, 3 blocks | peaks 900 B | 1 allocs/s 0 frees/s | "
			 "lost 0");
}

/* the target's RSS beside the heap once sampled; none before */
Test(live, rss_after_the_peak)
{
	struct live_sample now = {
		.ns = 2 * S, .allocs = 2, .live_cnt = 2, .live_bytes = 300, .peak_bytes = 900,
		.rss_bytes = 80 << 20, .procs = 1,
	};

	cr_assert_str_eq(fmt(NULL, &now, 0, 200),
			 "2.00 s | live 300 B, 2 blocks | peak 900 B | RSS 80.0 MB | 1 allocs/s 0 "
			 "frees/s | lost 0");
	now.rss_bytes = 0;
	cr_assert(!strstr(fmt(NULL, &now, 0, 200), "RSS"));
}

Test(live, aggregate_has_no_figures_yet)
{
	struct live_sample now = { .ns = 2 * S, .lost = 7, .procs = 1, .aggregate = true };

	cr_assert_str_eq(fmt(NULL, &now, S, 200), "1.00 s | --aggregate: figures at the end | lost 7");
}

/* cut one column short of the width, never wrapped; 20 columns at least */
Test(live, cut_to_the_terminal)
{
	struct live_sample now = { .ns = 2 * S, .live_cnt = 1, .live_bytes = 1, .procs = 1 };
	const char *full = "2.00 s | live 1 B, 1 blocks | peak 0 B | 0 allocs/s 0 frees/s | lost 0";
	char want[80];

	cr_assert_str_eq(fmt(NULL, &now, 0, 200), full);
	cr_assert_str_eq(fmt(NULL, &now, 0, (unsigned)strlen(full) + 1), full);
	snprintf(want, sizeof(want), "%.*s", (int)strlen(full) - 1, full);
	cr_assert_str_eq(fmt(NULL, &now, 0, (unsigned)strlen(full)), want);
	cr_assert_str_eq(fmt(NULL, &now, 0, 40), "2.00 s | live 1 B, 1 blocks | peak 0 B ");
	cr_assert_eq(strlen(fmt(NULL, &now, 0, 3)), 19);
	cr_assert_eq(strlen(fmt(NULL, &now, 0, 0)), 19);
}

Test(live, small_buffer)
{
	struct live_sample now = { .ns = 2 * S, .procs = 1 };
	char buf[8];

	cr_assert_eq(live__format(buf, sizeof(buf), NULL, &now, 0, 200), 7);
	cr_assert_str_eq(buf, "2.00 s ");
	cr_assert_eq(live__format(buf, 0, NULL, &now, 0, 200), 0);
}
