// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: the figures the dashboard shows, from a traced fixture whose
 * temporary allocations, peak and leaks are known exactly
 * (tests/fixtures/temporaries.c). The JSON report carries them; the
 * dashboard is drawn from that JSON.
 */
#include "e2e.h"

#define TRACE_TIMEOUT_MS 60000

static char dir[64];

static void setup(void)
{
	e2e_require_root();
	snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());
}

static void done(void)
{
	e2e_rmtree(dir);
}

TestSuite(dashboard, .init = setup, .fini = done);

/* The report's counters equal the fixture's tally. */
Test(dashboard, temporaries_and_peak_in_the_report, .timeout = 120)
{
	static const char *const pairs[][2] = {
		{ "total_allocations", "allocs" },
		{ "stats.temporary_allocations", "temporaries" },
		{ "stats.temporary_allocated", "temporary_bytes" },
		{ "stats.peak_memory", "peak_bytes" },
		{ "stats.peak_allocations", "peak_count" },
		{ "stats.active_memory", "live_bytes" },
		{ "stats.active_allocations", "live_count" },
		{ NULL },
	};
	struct proc tt;
	json_t *j;

	j = e2e_launch_json(&tt, dir, NULL, "temporaries", NULL, TRACE_TIMEOUT_MS);
	e2e_expect_tallies(j, tt.out, pairs);
	cr_expect_eq(jint(j, "stats.temporary_window_ns"), 1000000);
	json_decref(j);
	proc_free(&tt);
}

/* --aggregate keeps no per-thread order: temporaries unknown, not 0. */
Test(dashboard, aggregate_has_no_temporaries, .timeout = 120)
{
	char *opts[] = { "--aggregate", NULL };
	struct proc tt;
	json_t *j, *stats;

	j = e2e_launch_json(&tt, dir, opts, "temporaries", NULL, TRACE_TIMEOUT_MS);
	stats = json_object_get(j, "stats");
	cr_expect(json_is_null(json_object_get(stats, "temporary_allocations")),
		  "temporary_allocations is not null with --aggregate");
	cr_expect(json_is_null(json_object_get(stats, "temporary_allocated")));
	cr_expect_eq(jint(j, "stats.peak_memory"), truth(tt.out, "peak_bytes"));
	json_decref(j);
	proc_free(&tt);
}
