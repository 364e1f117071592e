// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: the real tool traces real processes; numbers are checked
 * against the fixture's own bookkeeping and against bpftrace in the same run.
 */
#include "e2e.h"

#define TRACE_TIMEOUT_MS 60000

static char json_path[256];

static void setup_dir(void)
{
	e2e_require_root();
	snprintf(json_path, sizeof(json_path), "%s/out.json", e2e_tmpdir());
}

/* The libc this test (and the commands it launches) maps. */
static void own_libc(char *buf, size_t len)
{
	char line[512], path[400];
	FILE *f = fopen("/proc/self/maps", "r");

	cr_assert(f);
	buf[0] = '\0';
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %*s %399s", path) == 1 && strstr(path, "/libc.so")) {
			snprintf(buf, len, "%s", path);
			break;
		}
	fclose(f);
	cr_assert(buf[0], "libc not found in /proc/self/maps");
}

/* Starts the bpftrace reference; returns once its probes are attached. */
static void reference_start(struct proc *bt, char *script, size_t len)
{
	char libc[400], *src, *dst;
	FILE *in, *out;
	size_t n;

	own_libc(libc, sizeof(libc));
	snprintf(script, len, "%s/ref.bt", e2e_tmpdir());
	in = fopen("tests/e2e/count_allocs.bt", "r");
	cr_assert(in, "tests/e2e/count_allocs.bt: %s (run from the repository root)", strerror(errno));
	src = calloc(1, 1 << 16);
	dst = calloc(1, 1 << 17);
	n = fread(src, 1, (1 << 16) - 1, in);
	fclose(in);
	src[n] = '\0';
	for (char *s = src, *d = dst; *s;) {
		if (!strncmp(s, "@LIBC@", 6)) {
			d += sprintf(d, "%s", libc);
			s += 6;
		} else {
			*d++ = *s++;
		}
	}
	out = fopen(script, "w");
	cr_assert(out);
	fputs(dst, out);
	fclose(out);
	free(src);
	free(dst);

	char *argv[] = { "bpftrace", script, NULL };
	proc_start(bt, argv, false);
	cr_assert(proc_wait_for(bt, "ready", false, 60000), "bpftrace did not start:\n%s", bt->err);
}

/* Stops bpftrace and returns its count for pid. */
static long long reference_finish(struct proc *bt, int pid)
{
	char key[64];
	const char *s;

	/* bpftrace now and then stays on after a SIGINT (seen: 1 run in ~15
	 * of real::*, until the timeout): ask again before giving up */
	for (int i = 0; i < 6; i++) {
		kill(bt->pid, SIGINT);
		if (proc_exits_within(bt, 10000))
			break;
	}
	proc_finish(bt, 60000);
	snprintf(key, sizeof(key), "@allocs[%d]: ", pid);
	s = strstr(bt->out, key);
	cr_assert(s, "bpftrace saw no allocation of pid %d:\n%s\n%s", pid, bt->out, bt->err);
	return strtoll(s + strlen(key), NULL, 10);
}

/* Leaked blocks of the fixture: LEAK_BASE + thread index, so many each. */
static void check_leaks(json_t *j, const char *out)
{
	long long base = truth(out, "leak_base"), per = truth(out, "leaked_per_thread");
	long long threads = truth(out, "threads"), found[64] = { 0 };
	json_t *active = json_object_get(j, "active_allocations"), *a;
	size_t i;

	cr_assert(json_is_array(active));
	json_array_foreach(active, i, a) {
		long long size = json_integer_value(json_object_get(a, "size"));

		cr_assert(json_is_string(json_object_get(a, "ptr")));
		cr_assert(json_integer_value(json_object_get(a, "thread_id")) > 0);
		if (size >= base && size < base + threads)
			found[size - base]++;
	}
	for (i = 0; i < (size_t)threads; i++)
		cr_expect_eq(found[i], per, "thread %zu: %lld leaked blocks of %lld bytes, expected %lld",
			     i, found[i], base + (long long)i, per);
}

Test(launch, fixture_counts_exact_and_match_bpftrace, .timeout = 180)
{
	char script[256], *argv[] = { (char *)e2e_tool(), "--json", json_path, "--",
				      (char *)e2e_fixture("known_allocs"), "-t", "4", "-r", "3", NULL };
	struct proc tt, bt;
	json_t *j;
	int rc;

	setup_dir();
	reference_start(&bt, script, sizeof(script));
	rc = run(&tt, argv, TRACE_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt.err);
	j = load_json(json_path);

	/* what only the fixture's pattern does: exact */
	cr_expect_eq(jint(j, "stats.total_frees"), truth(tt.out, "frees"));
	cr_expect_eq(jint(j, "stats.total_freed"), truth(tt.out, "freed_bytes"));
	cr_expect_eq(jint(j, "stats.failed_allocations"), truth(tt.out, "failed"));
	cr_expect_eq(jint(j, "stats.reallocs_in_place"), truth(tt.out, "in_place"));
	cr_expect_eq(jint(j, "stats.reallocs_moved"), truth(tt.out, "moved"));
	cr_expect_eq(jint(j, "stats.unknown_frees"), 0);
	cr_expect_eq(jint(j, "stats.lost_events"), 0);
	cr_expect_eq(jint(j, "target.exit_code"), 0);
	check_leaks(j, tt.out);
	/* startup (libc, thread creation) allocates too: bpftrace is the truth */
	cr_expect_eq(jint(j, "total_allocations"), reference_finish(&bt, (int)jint(j, "target.pid")));
	cr_expect_geq(jint(j, "total_allocations"), truth(tt.out, "allocs"));
	cr_expect_eq(jint(j, "total_allocations"), jint(j, "stats.total_allocations"));
	cr_expect_eq(jint(j, "stats.active_allocations"),
		     (long long)json_array_size(json_object_get(j, "active_allocations")));
	json_decref(j);
	proc_free(&tt);
	proc_free(&bt);
}

/*
 * Attach mode: the fixture waits for us before its first counted call, so
 * every number must equal its own bookkeeping. perf_uprobes: with the
 * allocator probed by perf-event uprobes, as on kernels without uprobe_multi
 * links (TTBPF_PERF_UPROBES=1), which -v must say.
 */
static void attach_exact(bool perf_uprobes)
{
	char pidbuf[16], *fx_argv[] = { (char *)e2e_fixture("known_allocs"), "-w", "-t", "4", "-r",
					"5", NULL };
	char *tt_argv[] = { (char *)e2e_tool(), "-v", "-p", pidbuf, "--json", json_path, NULL };
	struct proc fx, tt;
	json_t *j, *threads, *t;
	long long per_thread, with_allocs = 0;
	size_t i;
	int rc;

	setup_dir();
	proc_start(&fx, fx_argv, true);
	cr_assert(proc_wait_for(&fx, "ready ", false, 10000));
	snprintf(pidbuf, sizeof(pidbuf), "%lld", truth(fx.out, "ready"));
	if (perf_uprobes)
		cr_assert_eq(setenv("TTBPF_PERF_UPROBES", "1", 1), 0);
	proc_start(&tt, tt_argv, false);
	unsetenv("TTBPF_PERF_UPROBES");
	cr_assert(proc_wait_for(&tt, "tracing pid", true, 30000), "ttbpf did not attach:\n%s", tt.err);
	cr_expect(strstr(tt.err, perf_uprobes ? "allocator probes as perf-event uprobes"
					      : "allocator probes as uprobe_multi links"),
		  "stderr:\n%s", tt.err);
	cr_assert(write(fx.in_fd, "g", 1) == 1);
	cr_assert_eq(proc_finish(&fx, TRACE_TIMEOUT_MS), 0);
	/* the target's exit ends tracing */
	rc = proc_finish(&tt, TRACE_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt.err);
	j = load_json(json_path);

	cr_expect_eq(jint(j, "total_allocations"), truth(fx.out, "allocs"));
	cr_expect_eq(jint(j, "total_allocated"), truth(fx.out, "alloc_bytes"));
	cr_expect_eq(jint(j, "stats.total_frees"), truth(fx.out, "frees"));
	cr_expect_eq(jint(j, "stats.total_freed"), truth(fx.out, "freed_bytes"));
	cr_expect_eq(jint(j, "stats.failed_allocations"), truth(fx.out, "failed"));
	cr_expect_eq(jint(j, "stats.active_allocations"), truth(fx.out, "live_cnt"));
	cr_expect_eq(jint(j, "stats.active_memory"), truth(fx.out, "live_bytes"));
	cr_expect_eq(jint(j, "stats.reallocs_in_place"), truth(fx.out, "in_place"));
	cr_expect_eq(jint(j, "stats.reallocs_moved"), truth(fx.out, "moved"));
	cr_expect_eq(jint(j, "stats.unknown_frees"), 0);
	cr_expect_eq(jint(j, "stats.lost_events"), 0);
	cr_expect_eq(jint(j, "target.pid"), atoll(pidbuf));
	check_leaks(j, fx.out);
	/* how long records waited is measured (its bound is the bench's to show) */
	cr_expect_gt(jint(j, "stats.record_delay_max_ns"), 0);
	cr_expect_geq(jint(j, "stats.record_delay_max_ns"), jint(j, "stats.record_delay_mean_ns"));

	/* each of the 4 workers made the same number of allocations */
	per_thread = truth(fx.out, "allocs") / 4;
	threads = json_object_get(j, "threads");
	json_array_foreach(threads, i, t) {
		long long n = json_integer_value(json_object_get(t, "allocations"));

		if (n) {
			with_allocs++;
			cr_expect_eq(n, per_thread);
		}
	}
	cr_expect_eq(with_allocs, 4);
	json_decref(j);
	proc_free(&fx);
	proc_free(&tt);
}

Test(attach, fixture_counts_exact, .timeout = 180)
{
	attach_exact(false);
}

Test(attach, fixture_counts_exact_with_perf_uprobes, .timeout = 180)
{
	attach_exact(true);
}

static void check_real_program(char *const cmd[], int cmd_cnt)
{
	char script[256], *argv[16] = { (char *)e2e_tool(), "-q", "--json", json_path, "--" };
	struct proc tt, bt;
	json_t *j;
	int rc, i;

	for (i = 0; i < cmd_cnt; i++)
		argv[5 + i] = cmd[i];
	argv[5 + cmd_cnt] = NULL;
	reference_start(&bt, script, sizeof(script));
	rc = run(&tt, argv, TRACE_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt.err);
	j = load_json(json_path);
	cr_expect_gt(jint(j, "total_allocations"), 100);
	cr_expect_eq(jint(j, "total_allocations"), reference_finish(&bt, (int)jint(j, "target.pid")),
		     "ttbpf and bpftrace disagree on %s", cmd[0]);
	cr_expect_eq(jint(j, "stats.lost_events"), 0);
	json_decref(j);
	proc_free(&tt);
	proc_free(&bt);
}

Test(real, sqlite3_matches_bpftrace, .timeout = 180)
{
	char sql[300], *cmd[] = { "sqlite3", ":memory:", sql };

	setup_dir();
	snprintf(sql, sizeof(sql),
		 "create table t(a integer primary key, b text);"
		 "with recursive c(x) as (select 1 union all select x+1 from c where x<3000) "
		 "insert into t select x, printf('row %%d', x) from c;"
		 "create index ib on t(b); select count(*), sum(length(b)) from t;");
	check_real_program(cmd, 3);
}

Test(real, python3_matches_bpftrace, .timeout = 180)
{
	char *cmd[] = { "/usr/bin/python3", "-c",
			"d = {i: str(i) * 3 for i in range(50000)}\nl = [bytes(300) for _ in range(2000)]" };

	setup_dir();
	check_real_program(cmd, 3);
}

Test(launch, exit_status_is_the_commands, .timeout = 60)
{
	char *exit7[] = { (char *)e2e_tool(), "-q", "--", "sh", "-c", "exit 7", NULL };
	char *killed[] = { (char *)e2e_tool(), "-q", "--", "sh", "-c", "kill -TERM $$", NULL };
	struct proc p;

	e2e_require_root();
	cr_expect_eq(run(&p, exit7, TRACE_TIMEOUT_MS), 7, "%s", p.err);
	proc_free(&p);
	cr_expect_eq(run(&p, killed, TRACE_TIMEOUT_MS), 128 + SIGTERM, "%s", p.err);
	proc_free(&p);
}

Test(launch, command_not_found_or_not_executable, .timeout = 60)
{
	char *missing[] = { (char *)e2e_tool(), "--", "no-such-command-ttbpf", NULL };
	char noexec[300], *notexec[] = { (char *)e2e_tool(), "--", noexec, NULL };
	struct proc p;
	FILE *f;

	e2e_require_root();
	cr_expect_eq(run(&p, missing, TRACE_TIMEOUT_MS), 127);
	cr_expect(strstr(p.err, "no-such-command-ttbpf: command not found"), "stderr: %s", p.err);
	proc_free(&p);

	snprintf(noexec, sizeof(noexec), "%s/plain.txt", e2e_tmpdir());
	f = fopen(noexec, "w");
	cr_assert(f);
	fputs("not a program\n", f);
	fclose(f);
	chmod(noexec, 0644);
	cr_expect_eq(run(&p, notexec, TRACE_TIMEOUT_MS), 126);
	cr_expect(strstr(p.err, "cannot execute"), "stderr: %s", p.err);
	proc_free(&p);
}

static pid_t start_sleeper(void)
{
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		execlp("sleep", "sleep", "60", (char *)NULL);
		_exit(127);
	}
	usleep(100 * 1000); /* let it exec */
	return pid;
}

Test(attach, duration_ends_tracing, .timeout = 60)
{
	char pidbuf[16], *argv[] = { (char *)e2e_tool(), "-p", pidbuf, "-d", "1", "-j", json_path, NULL };
	uint64_t t0;
	struct proc p;
	pid_t sleeper;
	json_t *j;

	setup_dir();
	sleeper = start_sleeper();
	snprintf(pidbuf, sizeof(pidbuf), "%d", sleeper);
	t0 = e2e_now_ms();
	cr_expect_eq(run(&p, argv, TRACE_TIMEOUT_MS), 0, "%s", p.err);
	cr_expect_lt(e2e_now_ms() - t0, 20000);
	cr_expect_eq(kill(sleeper, 0), 0, "the target must outlive a -d trace");
	j = load_json(json_path);
	cr_expect_eq(jint(j, "target.pid"), sleeper);
	cr_expect_geq(jint(j, "duration_ns"), 1000000000LL);
	json_decref(j);
	kill(sleeper, SIGKILL);
	waitpid(sleeper, NULL, 0);
	proc_free(&p);
}

Test(attach, stop_signals_still_write_the_report, .timeout = 120)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	char pidbuf[16], *argv[] = { (char *)e2e_tool(), "-p", pidbuf, "-j", json_path, NULL };
	struct proc p;
	pid_t sleeper;
	json_t *j;
	size_t i;

	setup_dir();
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		unlink(json_path);
		sleeper = start_sleeper();
		snprintf(pidbuf, sizeof(pidbuf), "%d", sleeper);
		proc_start(&p, argv, false);
		cr_assert(proc_wait_for(&p, "tracing pid", true, 30000), "%s", p.err);
		kill(p.pid, sigs[i]);
		cr_expect_eq(proc_finish(&p, TRACE_TIMEOUT_MS), 0, "signal %d: %s", sigs[i], p.err);
		j = load_json(json_path);
		cr_expect_eq(jint(j, "target.pid"), sleeper);
		json_decref(j);
		kill(sleeper, SIGKILL);
		waitpid(sleeper, NULL, 0);
		proc_free(&p);
	}
}

Test(errors, usage_errors_exit_2)
{
	char *cases[][6] = {
		{ (char *)e2e_tool(), NULL },
		{ (char *)e2e_tool(), "-p", "abc", NULL },
		{ (char *)e2e_tool(), "-p", "1", "--", "true", NULL },
		{ (char *)e2e_tool(), "--bogus", NULL },
		{ (char *)e2e_tool(), "-d", "-3", "--", "true", NULL },
	};
	struct proc p;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_expect_eq(run(&p, cases[i], 10000), 2, "case %zu: %s", i, p.err);
		cr_expect(strstr(p.err, "ttbpf: "), "case %zu: no message", i);
		proc_free(&p);
	}
}

Test(errors, no_such_pid)
{
	char *argv[] = { (char *)e2e_tool(), "-p", "999999999", NULL };
	struct proc p;

	e2e_require_root();
	cr_expect_eq(run(&p, argv, 10000), 1);
	cr_expect(strstr(p.err, "no such process"), "%s", p.err);
	proc_free(&p);
}

Test(errors, bad_output_dir_fails_before_the_command_runs)
{
	char marker[300], *argv[] = { (char *)e2e_tool(), "-o", "/nonexistent/ttbpf-dir", "--",
				      "touch", marker, NULL };
	struct proc p;

	e2e_require_root();
	snprintf(marker, sizeof(marker), "%s/ran", e2e_tmpdir());
	cr_expect_eq(run(&p, argv, 10000), 1);
	cr_expect(strstr(p.err, "/nonexistent"), "%s", p.err);
	cr_expect_neq(access(marker, F_OK), 0, "the command ran although the report could not be written");
	proc_free(&p);
}

Test(launch, report_written_atomically_into_output_dir, .timeout = 60)
{
	char *argv[] = { (char *)e2e_tool(), "-q", "-o", NULL, "--", "true", NULL };
	const char *dir;
	char path[300];
	struct proc p;
	struct dirent;
	json_t *j;
	int entries = 0;
	FILE *ls;
	char line[300], cmd[400];

	e2e_require_root();
	dir = e2e_tmpdir();
	argv[3] = (char *)dir;
	cr_assert_eq(run(&p, argv, TRACE_TIMEOUT_MS), 0, "%s", p.err);
	snprintf(path, sizeof(path), "%s/ttbpf.json", dir);
	j = load_json(path);
	cr_expect_eq(jint(j, "format_version"), 1);
	json_decref(j);
	/* the four reports and nothing else: no temporary left behind */
	snprintf(cmd, sizeof(cmd), "ls -A %s", dir);
	ls = popen(cmd, "r");
	while (fgets(line, sizeof(line), ls)) {
		entries++;
		cr_expect(!strcmp(line, "ttbpf.json\n") || !strcmp(line, "ttbpf.png\n") ||
			  !strcmp(line, "ttbpf.svg\n") || !strcmp(line, "ttbpf.pb.gz\n"),
			  "unexpected file %s", line);
	}
	pclose(ls);
	cr_expect_eq(entries, 4);
	proc_free(&p);
}

Test(launch, lost_events_are_counted_and_shown, .timeout = 120)
{
	char *argv[] = { (char *)e2e_tool(), "-b", "4K", "--wakeup-bytes", "2K", "-j", json_path, "--",
			 (char *)e2e_fixture("known_allocs"), "-t", "4", "-r", "300", NULL };
	struct proc p;
	json_t *j;

	setup_dir();
	cr_assert_eq(run(&p, argv, TRACE_TIMEOUT_MS), 0, "%s", p.err);
	j = load_json(json_path);
	cr_expect_gt(jint(j, "stats.lost_events"), 0, "a 4 KB ring buffer must overflow");
	cr_expect(strstr(p.err, "lost events"), "%s", p.err);
	cr_expect(strstr(p.err, "raise --ringbuf-size"), "%s", p.err);
	json_decref(j);
	proc_free(&p);
}

/* Without root (nor CAP_BPF + CAP_PERFMON): a clear message, exit 1, and the
 * command never runs. */
Test(errors, without_privileges_says_which, .timeout = 60)
{
	char marker[300], *argv[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
				      "--inh-caps=-all", (char *)e2e_tool(), "--", "touch", marker,
				      NULL };
	const char *dir;
	struct proc p;

	e2e_require_root(); /* to drop privileges, we need them first */
	dir = e2e_tmpdir();
	chmod(dir, 0777); /* the unprivileged command could create the marker */
	snprintf(marker, sizeof(marker), "%s/ran", dir);
	cr_expect_eq(run(&p, argv, 30000), 1, "%s", p.err);
	cr_expect(strstr(p.err, "CAP_BPF") && strstr(p.err, "sudo"), "%s", p.err);
	cr_expect_neq(access(marker, F_OK), 0, "the command ran although nothing was traced");
	proc_free(&p);
}
