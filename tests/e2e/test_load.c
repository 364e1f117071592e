// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end under load: the real tool attached (-p) to
 * tests/fixtures/load_stress.c, which tallies every allocator call it makes.
 *
 * stress: 16 threads released together by a barrier, 2 bursts each of 5,000
 *   allocations (a few bytes to 10 MiB; malloc, calloc, realloc(NULL, n),
 *   aligned_alloc, posix_memalign), some reallocs, a failing malloc, then
 *   frees (some through realloc(p, 0)): 162,560 allocations and 322,304
 *   records, ~2-3 s traced on 2 busy cores (~100,000-190,000 records/s).
 *   With the default ring buffer nothing is lost and every figure is the
 *   tally's; with a 4 KiB one records are lost, and what was read plus what
 *   was lost is exactly what the probes produced.
 *
 *   Ring buffer needed for this load (measured on 2 shared cores, default
 *   --wakeup-bytes, i.e. a quarter of the buffer): 64K and 128K lose records
 *   (20,098 and 3,893 of 322,304), 256K sometimes does (0 to 10,709 over
 *   four runs), 512K and above lost none in eight runs. The default 16M is
 *   32 times that.
 *
 * soak: a flat live set churned for TTBPF_SOAK_SECONDS (default 60) while
 *   ttbpf's own resident memory is sampled every 5 s: after warm-up it must
 *   stay flat, as the target's live set does.
 *
 * jemalloc: the stress on 4 threads with jemalloc preloaded and probed
 *   (--lib), exact too, its probes on instructions the kernel emulates. It
 *   needs /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 (libjemalloc2): it skips
 *   without it, except under CI=true, where its absence is a failure.
 *
 * No timing is asserted: the machine is shared. Rates are printed.
 */
#include "e2e.h"

#define RUN_TIMEOUT_MS 300000 /* a run takes seconds; the machine may be crowded */
#define STRESS_ARGS "-t", "16", "-b", "2", "-n", "5000"
#define STRESS_THREADS 16
#define SOAK_DEFAULT_SECONDS 60
#define SOAK_SAMPLE_S 5
#define SOAK_WARMUP_S 15
#define SOAK_RSS_SLACK_KB (8 * 1024) /* 8 MiB */
#define JEMALLOC "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"

static char dir[64], json_path[256];

static void setup_dir(void)
{
	e2e_require_root();
	snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());
	snprintf(json_path, sizeof(json_path), "%s/out.json", dir);
}

/* After a test that got to its end: its report is not kept (one stopped by
 * an assertion keeps it to look at). */
static void done_dir(void)
{
	unlink(json_path);
	rmdir(dir);
}

struct traced {
	struct proc fx, tt;
	char pid[16];
	uint64_t go_ms; /* when the fixture was released */
};

/*
 * Starts load_stress -w with fx_args (under env LD_PRELOAD=preload unless
 * NULL), attaches ttbpf -p with tt_args (NULL-terminated lists), and
 * releases the fixture once every probe is in place: everything it tallies
 * is traced.
 */
static void attach_start(struct traced *r, char *const fx_args[], char *const tt_args[],
			 const char *preload)
{
	char *fx_argv[24] = { (char *)e2e_fixture("load_stress"), "-w" };
	char *tt_argv[24] = { (char *)e2e_tool(), "-p", r->pid, "--json", json_path };
	char preload_env[300];
	int n = 2, i;

	if (preload) {
		/* env execs the fixture: the pid it prints is the one traced */
		snprintf(preload_env, sizeof(preload_env), "LD_PRELOAD=%s", preload);
		fx_argv[0] = "env";
		fx_argv[1] = preload_env;
		fx_argv[2] = (char *)e2e_fixture("load_stress");
		fx_argv[3] = "-w";
		n = 4;
	}
	for (i = 0; fx_args[i]; i++)
		fx_argv[n++] = fx_args[i];
	fx_argv[n] = NULL;
	for (n = 5, i = 0; tt_args[i]; i++)
		tt_argv[n++] = tt_args[i];
	tt_argv[n] = NULL;

	proc_start(&r->fx, fx_argv, true);
	cr_assert(proc_wait_for(&r->fx, "ready ", false, 30000), "fixture did not start:\n%s",
		  r->fx.err);
	snprintf(r->pid, sizeof(r->pid), "%lld", truth(r->fx.out, "ready"));
	proc_start(&r->tt, tt_argv, false);
	cr_assert(proc_wait_for(&r->tt, "tracing pid", true, 60000), "ttbpf did not attach:\n%s",
		  r->tt.err);
	r->go_ms = e2e_now_ms();
	cr_assert(write(r->fx.in_fd, "g", 1) == 1);
}

/* Waits for the fixture, then for ttbpf (the target's exit ends tracing). */
static json_t *attach_finish(struct traced *r)
{
	int rc;

	cr_assert_eq(proc_finish(&r->fx, RUN_TIMEOUT_MS), 0, "fixture failed:\n%s", r->fx.err);
	rc = proc_finish(&r->tt, RUN_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, r->tt.err);
	return load_json(json_path);
}

static void traced_free(struct traced *r)
{
	proc_free(&r->fx);
	proc_free(&r->tt);
}

/* Every figure against the fixture's tally. */
static void expect_figures_exact(json_t *j, const char *out)
{
	cr_expect_eq(jint(j, "total_allocations"), truth(out, "allocs"));
	cr_expect_eq(jint(j, "stats.total_allocations"), truth(out, "allocs"));
	cr_expect_eq(jint(j, "total_allocated"), truth(out, "alloc_bytes"));
	cr_expect_eq(jint(j, "stats.total_frees"), truth(out, "frees"));
	cr_expect_eq(jint(j, "stats.total_freed"), truth(out, "freed_bytes"));
	cr_expect_eq(jint(j, "stats.failed_allocations"), truth(out, "failed"));
	cr_expect_eq(jint(j, "stats.reallocs_in_place"), truth(out, "in_place"));
	cr_expect_eq(jint(j, "stats.reallocs_moved"), truth(out, "moved"));
	cr_expect_eq(jint(j, "stats.active_allocations"), truth(out, "live_cnt"));
	cr_expect_eq(jint(j, "stats.active_memory"), truth(out, "live_bytes"));
	cr_expect_eq((long long)json_array_size(json_object_get(j, "active_allocations")),
		     truth(out, "live_cnt"));
	cr_expect_eq(jint(j, "stats.duplicate_allocations"), 0);
	cr_expect_eq(jint(j, "stats.inflight_dropped"), 0);
	cr_expect_eq(jint(j, "stats.bad_records"), 0);
}

/*
 * The syscall records sent beside the allocator's (the threads' stacks and
 * arenas: anonymous mmap, munmap, brk), read or lost: stats.mapped's, 0
 * when they are not counted (a kernel without syscall tracepoints).
 */
static long long sysmem_records(json_t *j, bool lost)
{
	json_t *m = json_object_get(json_object_get(j, "stats"), "mapped");

	if (!json_is_object(m))
		return 0;
	return jint(j, lost ? "stats.mapped.records_lost" : "stats.mapped.records");
}

static void log_rate(const char *what, json_t *j, const char *out)
{
	long long rec = jint(j, "stats.records") + jint(j, "stats.lost_events");
	double work_s = (double)truth(out, "elapsed_ns") / 1e9;

	cr_log_info("%s: %lld records produced (%lld read, %lld lost) in %.2f s of work "
		    "(%.0f records/s), %.2f s traced",
		    what, rec, jint(j, "stats.records"), jint(j, "stats.lost_events"), work_s,
		    (double)rec / work_s, (double)jint(j, "duration_ns") / 1e9);
}

/*
 * 16 threads at once, default ring buffer (16 MiB): nothing lost, every
 * figure exact. The workers return and are joined (-j), so glibc's
 * thread-exit paths run while traced and the records they add are accounted
 * for too:
 *
 *   records == alloc_calls + free_calls          (the fixture's own calls)
 *            + allocator_internal_frees          (tcache flush at thread exit)
 *            + unknown_frees                     (ld.so freeing the DTVs of
 *                                                 threads created before
 *                                                 attach, when pthread_join
 *                                                 trims the stack cache)
 *            + stats.mapped.records              (the threads' stacks and
 *                                                 arenas: mmap, munmap, brk)
 *
 * Neither kind of glibc free touches a block the program allocated while
 * traced, so every figure still equals the tally.
 */
Test(load, stress_16_threads_exact, .timeout = 900)
{
	char *fx_args[] = { STRESS_ARGS, "-j", NULL }, *tt_args[] = { NULL };
	long long per_thread, with_allocs = 0, internal, unknown;
	struct traced r;
	json_t *j, *t;
	size_t i;

	setup_dir();
	attach_start(&r, fx_args, tt_args, NULL);
	j = attach_finish(&r);

	cr_expect_eq(jint(j, "stats.lost_events"), 0,
		     "records lost with the default ring buffer:\n%s", r.tt.err);
	expect_figures_exact(j, r.fx.out);
	cr_expect_eq(jint(j, "target.pid"), atoll(r.pid));
	cr_expect_geq(truth(r.fx.out, "allocs"), 100000);

	/* glibc's own frees: at thread exit (from inside libc), and the DTVs
	 * (at most one per worker) */
	internal = jint(j, "stats.allocator_internal_frees");
	unknown = jint(j, "stats.unknown_frees");
	cr_expect_gt(internal, 0, "the workers' tcaches were flushed at exit: internal frees");
	cr_expect_leq(unknown, STRESS_THREADS);
	cr_expect_eq(jint(j, "stats.records"),
		     truth(r.fx.out, "records") + internal + unknown + sysmem_records(j, false),
		     "records %lld, the fixture's %lld + internal %lld + unknown %lld + syscalls %lld",
		     jint(j, "stats.records"), truth(r.fx.out, "records"), internal, unknown,
		     sysmem_records(j, false));
	cr_expect_eq(sysmem_records(j, true), 0);

	/* every worker made the same number of allocations */
	per_thread = truth(r.fx.out, "allocs") / STRESS_THREADS;
	json_array_foreach(json_object_get(j, "threads"), i, t) {
		long long n = json_integer_value(json_object_get(t, "allocations"));

		if (n) {
			with_allocs++;
			cr_expect_eq(n, per_thread, "thread %lld: %lld allocations",
				     json_integer_value(json_object_get(t, "thread_id")), n);
		}
	}
	cr_expect_eq(with_allocs, STRESS_THREADS);
	log_rate("stress, 16 MiB ring buffer", j, r.fx.out);
	json_decref(j);
	traced_free(&r);
	done_dir();
}

/*
 * The same load through a 4 KiB ring buffer, the reader woken every 1 KiB:
 * most records are lost. They must be counted, shown, and add up.
 *
 * Every record the BPF side produces is either read (stats.records) or
 * counted lost (stats.lost_events): nothing is produced after the target
 * exits, and ttbpf drains the buffer after detaching. What it produces:
 *   - one record per outermost allocating call, failed ones included
 *     (realloc(NULL, n) entering malloc is one call; realloc(p, 0) is one
 *     record: the free it makes inside is nested in it and sends nothing);
 *   - one record per free() of a non-NULL pointer outside an allocating
 *     call (free(NULL) sends nothing);
 *   - one record per anonymous mmap, munmap and brk move of the process
 *     (the threads' stacks and arenas), read or lost as stats.mapped counts
 *     them;
 *   - frees glibc makes on its own: a thread's tcache flush at exit, ld.so
 *     freeing DTVs. Under loss these cannot be counted from the report (the
 *     lost ones are invisible), so here the workers park instead of exiting
 *     and die with the process (exit_group runs no user code): glibc frees
 *     nothing on its own, and
 *
 *   stats.records + stats.lost_events == alloc_calls + free_calls
 *                                        + stats.mapped.records (+ _lost)
 *
 * exactly, with allocator_internal_frees == 0 and inflight_dropped == 0 (a
 * call whose per-thread state the kernel could not allocate sends nothing).
 */
Test(load, stress_tiny_ringbuf_losses_add_up, .timeout = 900)
{
	char *fx_args[] = { STRESS_ARGS, NULL };
	char *tt_args[] = { "-b", "4K", "--wakeup-bytes", "1K", NULL };
	long long lost, read, frees_seen, allocs_seen;
	char line[128];
	struct traced r;
	json_t *j;

	setup_dir();
	attach_start(&r, fx_args, tt_args, NULL);
	j = attach_finish(&r);

	lost = jint(j, "stats.lost_events");
	read = jint(j, "stats.records");
	cr_expect_gt(lost, 0, "a 4 KiB ring buffer kept up with 16 threads?");
	snprintf(line, sizeof(line), "lost events    %lld (ring buffer full", lost);
	cr_expect(strstr(r.tt.err, line), "the summary does not say '%s':\n%s", line, r.tt.err);
	cr_expect_eq(jint(j, "stats.inflight_dropped"), 0);
	cr_expect_eq(jint(j, "stats.bad_records"), 0);
	cr_expect_eq(jint(j, "stats.allocator_internal_frees"), 0);
	cr_expect_eq(read + lost,
		     truth(r.fx.out, "records") + sysmem_records(j, false) + sysmem_records(j, true),
		     "read %lld + lost %lld = %lld, but the probes produced %lld and the syscalls "
		     "%lld + %lld lost", read, lost, read + lost, truth(r.fx.out, "records"),
		     sysmem_records(j, false), sysmem_records(j, true));

	/* each record read makes at most one allocation (or failure) and at
	 * most one release (counted as a free, or as unknown when its
	 * allocation was lost): the figures never exceed the truth */
	allocs_seen = jint(j, "stats.total_allocations") + jint(j, "stats.failed_allocations");
	frees_seen = jint(j, "stats.total_frees") + jint(j, "stats.unknown_frees");
	cr_expect_leq(allocs_seen, truth(r.fx.out, "allocs") + truth(r.fx.out, "failed"));
	cr_expect_leq(frees_seen, truth(r.fx.out, "frees"));
	cr_expect_leq(jint(j, "stats.total_allocations"), truth(r.fx.out, "allocs"));
	cr_expect_leq(jint(j, "stats.total_frees"), truth(r.fx.out, "frees"));
	cr_expect_leq(jint(j, "stats.failed_allocations"), truth(r.fx.out, "failed"));
	log_rate("stress, 4 KiB ring buffer", j, r.fx.out);
	json_decref(j);
	traced_free(&r);
	done_dir();
}

/* The line of ttbpf -v saying where name's probes went. */
static void expect_probe_emulated(const char *err, const char *name)
{
	char needle[64], line[256];
	const char *at, *end;

	snprintf(needle, sizeof(needle), "ttbpf: %s probe at %s+", name, name);
	at = strstr(err, needle);
	cr_assert(at, "no '%s' line in -v's output:\n%s", needle, err);
	end = strchr(at, '\n');
	snprintf(line, sizeof(line), "%.*s", end ? (int)(end - at) : (int)strlen(at), at);
	cr_expect(strstr(line, "(emulated)") && !strstr(line, "single-stepped"),
		  "%s's probes are single-stepped: %s", name, line);
}

/*
 * The stress on 4 threads with jemalloc preloaded and probed (--lib). Its
 * malloc starts with a cmp, its free with movs and a shr: instructions the
 * kernel single-steps, ~35 us a hit here against ~1 us for one it emulates.
 * Entry and return probes sit on the first instruction it emulates
 * (user/tracing/placement.c: jemalloc 5.3's malloc+7, a ja; free+48, a
 * jne), and every figure must still be the tally's: a return probe there
 * sees the return address the caller left, and each call is seen once.
 */
Test(load, stress_jemalloc_emulated_exact, .timeout = 900)
{
	char *fx_args[] = { "-t", "4", "-b", "2", "-n", "5000", NULL };
	char *tt_args[] = { "--lib", JEMALLOC, "-v", NULL };
	const char *ci = getenv("CI");
	struct traced r;
	json_t *j;

	setup_dir();
	if (access(JEMALLOC, R_OK)) {
		/* CI installs it (scripts/install-deps.sh): there, a failure */
		cr_assert(!ci || strcmp(ci, "true"), JEMALLOC " is missing (CI=true): "
			  "scripts/install-deps.sh must install libjemalloc2");
		cr_skip_test(JEMALLOC " not installed (Debian package libjemalloc2)");
	}
	attach_start(&r, fx_args, tt_args, JEMALLOC);
	j = attach_finish(&r);

	cr_expect_str_eq(jstr(json_object_get(j, "target"), "allocator"), JEMALLOC);
	cr_expect_eq(jint(j, "stats.lost_events"), 0);
	expect_figures_exact(j, r.fx.out);
	cr_expect_eq(jint(j, "stats.records"), truth(r.fx.out, "records") + sysmem_records(j, false),
		     "records %lld, the fixture's %lld + syscalls %lld", jint(j, "stats.records"),
		     truth(r.fx.out, "records"), sysmem_records(j, false));
	cr_expect_eq(jint(j, "stats.allocator_internal_frees"), 0);
	cr_expect_eq(jint(j, "stats.unknown_frees"), 0);
	cr_expect_geq(truth(r.fx.out, "allocs"), 40000);
	expect_probe_emulated(r.tt.err, "malloc");
	expect_probe_emulated(r.tt.err, "free");
	log_rate("stress, jemalloc", j, r.fx.out);
	json_decref(j);
	traced_free(&r);
	done_dir();
}

static long long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int soak_seconds(void)
{
	const char *s = getenv("TTBPF_SOAK_SECONDS");
	int n = s && *s ? atoi(s) : SOAK_DEFAULT_SECONDS;

	cr_assert(n >= 10, "TTBPF_SOAK_SECONDS=%s: at least 10", s);
	return n;
}

/* When ttbpf is warm: 15 s, or a third of a short run; a sample time */
static int soak_warmup(int secs)
{
	int w = secs >= 3 * SOAK_WARMUP_S ? SOAK_WARMUP_S : secs / 3;

	return w < SOAK_SAMPLE_S ? SOAK_SAMPLE_S : w / SOAK_SAMPLE_S * SOAK_SAMPLE_S;
}

/* Pumps both processes' output until ms after the release. */
static void soak_wait_until(struct traced *r, uint64_t ms)
{
	while (e2e_now_ms() < r->go_ms + ms) {
		proc_pump(&r->tt, 20);
		proc_pump(&r->fx, 20);
	}
}

/*
 * Steady churn with a flat live set (2 threads x 4,096 blocks, about 10,000
 * free+malloc pairs a second), traced for TTBPF_SOAK_SECONDS: ttbpf's VmRSS
 * sampled every 5 s must be flat after warm-up (15 s, or a third of a short
 * run): the model holds the live set, the stack table the same few stacks,
 * the timeline at most 2,048 points.
 */
Test(load, soak_rss_stays_flat, .timeout = 1200)
{
	int secs = soak_seconds(), warm_s = soak_warmup(secs);
	char secs_arg[16], *fx_args[] = { "-s", secs_arg, "-t", "2", "-l", "4096", NULL };
	char *tt_args[] = { NULL }, log[2048]; /* not -q: attach_start waits for "tracing pid" */
	long long rss[256], warm = -1, end = -1;
	int at[256], n = 0, len = 0, t, i;
	struct traced r;
	json_t *j;

	setup_dir();
	snprintf(secs_arg, sizeof(secs_arg), "%d", secs);
	attach_start(&r, fx_args, tt_args, NULL);
	rss[n] = rss_kb(r.tt.pid);
	at[n++] = 0;
	/* every 5 s while the target churns; the last one a second before its end */
	for (t = SOAK_SAMPLE_S; n < 255; t = t + SOAK_SAMPLE_S < secs ? t + SOAK_SAMPLE_S : secs - 1) {
		soak_wait_until(&r, (uint64_t)t * 1000);
		rss[n] = rss_kb(r.tt.pid);
		cr_assert_gt(rss[n], 0, "ttbpf (pid %d) gone at %d s:\n%s", r.tt.pid, t, r.tt.err);
		at[n++] = t;
		if (t == warm_s)
			warm = rss[n - 1];
		if (t == secs - 1)
			break;
	}
	end = rss[n - 1];
	j = attach_finish(&r);

	for (i = 0; i < n && len < (int)sizeof(log) - 32; i++)
		len += snprintf(log + len, sizeof(log) - (size_t)len, " %ds:%lldK", at[i], rss[i]);
	cr_log_info("soak %d s: ttbpf VmRSS%s", secs, log);
	log_rate("soak", j, r.fx.out);
	cr_assert_geq(warm, 0, "no sample at warm-up (%d s)", warm_s);
	cr_expect_lt(llabs(end - warm), SOAK_RSS_SLACK_KB,
		     "ttbpf's RSS went from %lld KiB at %d s to %lld KiB at %d s (flat live set):%s",
		     warm, warm_s, end, at[n - 1], log);

	/* and it counted all of it */
	cr_expect_eq(jint(j, "stats.lost_events"), 0);
	expect_figures_exact(j, r.fx.out);
	cr_expect_eq(jint(j, "stats.records"), truth(r.fx.out, "records") + sysmem_records(j, false));
	cr_expect_leq(json_array_size(json_object_get(json_object_get(j, "timeline"), "points")),
		      2048);
	json_decref(j);
	traced_free(&r);
	done_dir();
}
