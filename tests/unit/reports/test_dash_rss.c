// SPDX-License-Identifier: Apache-2.0
/* The dashboard's data carries the RSS sampled beside the heap
 * (timeline.points[].rss_bytes), null before the first sample. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <unistd.h>
#include "dash.h"
#include "dash_build.h"

Test(dash_rss, points_carry_rss_from_the_json)
{
	static const char json[] =
		"{\"format_version\": 1, \"timeline\": {\"interval_ns\": 1000000, \"points\": ["
		"{\"t_ns\": 1000000, \"live_bytes\": 10, \"rss_bytes\": null},"
		"{\"t_ns\": 2000000, \"live_bytes\": 20, \"rss_bytes\": 8388608},"
		"{\"t_ns\": 3000000, \"live_bytes\": 30}]}}";
	char path[] = "/tmp/ttbpf-dash-rss-XXXXXX";
	struct dash_build *b;
	const struct dash *d;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, json, sizeof(json) - 1), (ssize_t)sizeof(json) - 1);
	close(fd);
	cr_assert_eq(dash_build__load(&b, path, NULL), 0);
	unlink(path);
	d = dash_build__dash(b);
	cr_assert_eq(d->timeline_cnt, 3);
	cr_expect_not(d->timeline[0].has_rss);
	cr_expect(d->timeline[1].has_rss);
	cr_expect_eq(d->timeline[1].rss_bytes, 8388608);
	cr_expect_eq(d->timeline[1].live_bytes, 20);
	cr_expect_not(d->timeline[2].has_rss, "a report without rss_bytes has none");
	dash_build__free(b);
}
