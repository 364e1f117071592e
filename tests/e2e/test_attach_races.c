// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: the per-thread in-flight record (bpf/ttbpf.bpf.c) against the
 * races that used to leave it wrong (issue 14, items 1 and 6), with
 * tests/fixtures/race_loops.c counting what it did.
 *
 * - ttbpf -p attaching while threads are inside malloc: a call that entered
 *   before its return probe existed must not leave the thread blind. Each
 *   attach is checked per thread against the fixture's counters read just
 *   after the attach and just before the detach (lower bound) and just
 *   before ttbpf started and after it ended (upper bound).
 * - siglongjmp out of a SIGALRM handler that interrupted malloc, and a
 *   handler that allocates while malloc or strdup is in flight: every figure
 *   equals the fixture's tally.
 */
#include "e2e.h"

#define RACE_TIMEOUT_MS 60000
#define LOOP_WINDOW_US 500000
#define MAX_THREADS 16

static char json_path[256];

static void setup_dir(void)
{
	e2e_require_root();
	snprintf(json_path, sizeof(json_path), "%s/out.json", e2e_tmpdir());
}

/* Asks the loop fixture for its per-thread counts (a "snap" line). */
static void snapshot(struct proc *fx, int threads, unsigned long long *cnt)
{
	size_t from = fx->out_len;
	uint64_t end = e2e_now_ms() + 10000;
	const char *s = NULL;
	char *p;
	int i;

	cr_assert_eq(kill(fx->pid, SIGUSR1), 0);
	while (e2e_now_ms() < end) {
		s = strstr(fx->out + from, "snap ");
		if (s && strchr(s, '\n'))
			break;
		s = NULL;
		proc_pump(fx, 20);
	}
	cr_assert(s, "race_loops printed no snapshot:\n%s", fx->out + from);
	p = (char *)s + 4;
	for (i = 0; i < threads; i++)
		cnt[i] = strtoull(p, &p, 10);
}

static long long thread_allocs(json_t *j, long long tid)
{
	json_t *threads = json_object_get(j, "threads"), *t;
	size_t i;

	cr_assert(json_is_array(threads));
	json_array_foreach(threads, i, t)
		if (json_integer_value(json_object_get(t, "thread_id")) == tid)
			return json_integer_value(json_object_get(t, "allocations"));
	return 0; /* not seen at all */
}

/* Attaches runs times to one busy process, each for LOOP_WINDOW_US. */
static void attach_repeatedly(int threads, int runs, bool perf_uprobes)
{
	char nthreads[8], pidbuf[16], key[16];
	char *fx_argv[] = { (char *)e2e_fixture("race_loops"), "loop", nthreads, NULL };
	char *tt_argv[] = { (char *)e2e_tool(), "-p", pidbuf, "--json", json_path, NULL };
	unsigned long long s0[MAX_THREADS], s1[MAX_THREADS], s2[MAX_THREADS], s3[MAX_THREADS];
	long long tid[MAX_THREADS];
	struct proc fx, tt;
	int r, i, rc;

	setup_dir();
	snprintf(nthreads, sizeof(nthreads), "%d", threads);
	proc_start(&fx, fx_argv, false);
	cr_assert(proc_wait_for(&fx, "ready ", false, 10000), "race_loops did not start:\n%s", fx.err);
	snprintf(pidbuf, sizeof(pidbuf), "%lld", truth(fx.out, "ready"));
	for (i = 0; i < threads; i++) {
		snprintf(key, sizeof(key), "tid%d", i);
		tid[i] = truth(fx.out, key);
	}
	for (r = 0; r < runs; r++) {
		json_t *j;

		snapshot(&fx, threads, s0);
		if (perf_uprobes)
			cr_assert_eq(setenv("TTBPF_PERF_UPROBES", "1", 1), 0);
		proc_start(&tt, tt_argv, false);
		unsetenv("TTBPF_PERF_UPROBES");
		cr_assert(proc_wait_for(&tt, "tracing pid", true, 30000), "ttbpf did not attach:\n%s",
			  tt.err);
		snapshot(&fx, threads, s1);
		usleep(LOOP_WINDOW_US);
		snapshot(&fx, threads, s2);
		cr_assert_eq(kill(tt.pid, SIGINT), 0);
		rc = proc_finish(&tt, RACE_TIMEOUT_MS);
		cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt.err);
		snapshot(&fx, threads, s3);
		j = load_json(json_path);
		cr_expect_eq(jint(j, "stats.lost_events"), 0, "run %d", r);
		for (i = 0; i < threads; i++) {
			long long got = thread_allocs(j, tid[i]);

			/* one call in flight at each end may fall either side */
			cr_expect(got + 1 >= (long long)(s2[i] - s1[i]) &&
					  got <= (long long)(s3[i] - s0[i]) + 1,
				  "run %d, thread %d: ttbpf saw %lld allocations; the thread made "
				  "%llu while it was surely traced, %llu while it may have been",
				  r, i, got, s2[i] - s1[i], s3[i] - s0[i]);
		}
		json_decref(j);
		proc_free(&tt);
	}
	kill(fx.pid, SIGTERM);
	proc_finish(&fx, 10000);
	proc_free(&fx);
}

Test(attach_races, one_thread_every_attach_sees_it, .timeout = 300)
{
	attach_repeatedly(1, 10, false);
}

Test(attach_races, four_threads_every_attach_sees_them, .timeout = 300)
{
	attach_repeatedly(4, 10, false);
}

Test(attach_races, perf_uprobes_every_attach_sees_them, .timeout = 300)
{
	attach_repeatedly(4, 5, true);
}

/* race_loops MODE N under ttbpf -p: every figure equals its tally. */
static void signals_exact(const char *mode, const char *want, const char *what)
{
	char pidbuf[16], *fx_argv[] = { (char *)e2e_fixture("race_loops"), (char *)mode,
					(char *)want, NULL };
	char *tt_argv[] = { (char *)e2e_tool(), "-p", pidbuf, "--json", json_path, NULL };
	static const char *const pairs[][2] = {
		{ "total_allocations", "allocs" },
		{ "total_allocated", "alloc_bytes" },
		{ "stats.total_frees", "frees" },
		{ "stats.total_freed", "freed_bytes" },
		{ "stats.failed_allocations", "failed" },
		{ "stats.active_allocations", "live_cnt" },
		{ "stats.active_memory", "live_bytes" },
		{ NULL },
	};
	struct proc fx, tt;
	json_t *j;
	int rc;

	setup_dir();
	proc_start(&fx, fx_argv, true);
	cr_assert(proc_wait_for(&fx, "ready ", false, 10000), "race_loops did not start:\n%s", fx.err);
	snprintf(pidbuf, sizeof(pidbuf), "%lld", truth(fx.out, "ready"));
	proc_start(&tt, tt_argv, false);
	cr_assert(proc_wait_for(&tt, "tracing pid", true, 30000), "ttbpf did not attach:\n%s", tt.err);
	cr_assert(write(fx.in_fd, "g", 1) == 1);
	cr_assert_eq(proc_finish(&fx, RACE_TIMEOUT_MS), 0, "race_loops failed:\n%s", fx.err);
	rc = proc_finish(&tt, RACE_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt.err);
	/* the race happened as many times as asked */
	cr_assert_eq(truth(fx.out, what), atoll(want), "fixture output:\n%s", fx.out);
	j = load_json(json_path);
	e2e_expect_tallies(j, fx.out, pairs);
	cr_expect_eq(jint(j, "stats.unknown_frees"), 0);
	cr_expect_eq(jint(j, "stats.lost_events"), 0);
	cr_expect_eq((long long)json_array_size(json_object_get(j, "active_allocations")), 0,
		     "false live blocks");
	if (!strcmp(mode, "nest"))
		cr_expect_gt(truth(fx.out, "nested_strdup"), 0, "no signal landed in strdup");
	json_decref(j);
	proc_free(&tt);
	proc_free(&fx);
}

Test(signal_races, siglongjmp_out_of_malloc_exact, .timeout = 300)
{
	for (int i = 0; i < 3; i++)
		signals_exact("jump", "50", "jumps");
}

Test(signal_races, handler_allocating_during_malloc_exact, .timeout = 300)
{
	for (int i = 0; i < 3; i++)
		signals_exact("nest", "100", "nested");
}
