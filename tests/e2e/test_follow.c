// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: -f/--follow-forks. tests/fixtures/forker.c builds a process
 * tree whose allocations are known per process (fork, a fork of a fork, a
 * fork from a thread, vfork + exec, posix_spawn); every child ends with its
 * own exit code, which names it here. Each process must be counted exactly,
 * in its own report, and never in its parent's.
 */
#include <sys/ptrace.h>
#include "e2e.h"

#define TRACE_TIMEOUT_MS 120000
#define CHILDREN 5

/* tests/fixtures/forker.c, by exit code: allocations, size, kept, parent */
static const struct {
	int n, size, kept;
	int parent_exit; /* -1: the target itself */
} want[CHILDREN + 1] = {
	[1] = { 20, 200, 3, -1 }, [2] = { 30, 300, 4, 1 }, [3] = { 40, 400, 5, -1 },
	[4] = { 50, 500, 6, -1 }, [5] = { 60, 600, 7, -1 },
};

static char dir[256];

static void done_dir(void)
{
	if (dir[0])
		e2e_rmtree(dir);
	dir[0] = '\0';
}

/* The call site "pattern" of a report: its allocations and live blocks. */
static void expect_pattern_site(json_t *j, long long n, long long kept, const char *what)
{
	json_t *sites = json_object_get(j, "call_sites"), *s;
	size_t i;

	json_array_foreach(sites, i, s) {
		const char *fn = json_string_value(json_object_get(s, "function"));

		if (!fn || strcmp(fn, "pattern"))
			continue;
		cr_expect_eq(jint(s, "allocations"), n, "%s: pattern's allocations", what);
		cr_expect_eq(jint(s, "live_count"), kept, "%s: pattern's live blocks", what);
		return;
	}
	cr_expect_fail("%s: no call site named pattern", what);
}

static int exit_code_of(json_t *proc)
{
	json_t *e = json_object_get(proc, "exit_code");

	cr_assert(json_is_integer(e), "a child without an exit code");
	return (int)json_integer_value(e);
}

/*
 * The target's report lists CHILDREN children, each exact, each with its own
 * report that says the same; the target's own pattern is exact too.
 */
static void expect_tree(json_t *root, int root_pid)
{
	json_t *procs = json_object_get(root, "processes"), *p;
	int pid_of_exit[CHILDREN + 1] = { 0 };
	size_t i;

	cr_expect_eq(jint(root, "target.pid"), root_pid);
	cr_expect(json_is_null(json_object_get(json_object_get(root, "target"), "parent_pid")));
	expect_pattern_site(root, 10, 2, "the target");
	cr_expect_eq(jint(root, "stats.lost_events"), 0);
	cr_expect_eq(jint(root, "stats.bad_records"), 0, "records of no known process");
	cr_assert_eq(json_array_size(procs), CHILDREN, "%zu children followed, not %d",
		     json_array_size(procs), CHILDREN);
	json_array_foreach(procs, i, p) {
		int code = exit_code_of(p);

		cr_assert(code >= 1 && code <= CHILDREN, "unexpected child exit code %d", code);
		cr_expect_eq(pid_of_exit[code], 0, "two children exited %d", code);
		pid_of_exit[code] = (int)jint(p, "pid");
	}
	json_array_foreach(procs, i, p) {
		int code = exit_code_of(p), parent = want[code].parent_exit;
		const char *report = json_string_value(json_object_get(p, "report"));
		char what[64];
		json_t *c;

		snprintf(what, sizeof(what), "the child that exited %d", code);
		cr_expect_eq(jint(p, "parent_pid"), parent < 0 ? root_pid : pid_of_exit[parent],
			     "%s: parent", what);
		cr_expect_eq(jint(p, "total_allocations"), want[code].n, "%s", what);
		cr_expect_eq(jint(p, "total_allocated"), (long long)want[code].n * want[code].size,
			     "%s", what);
		cr_expect_eq(jint(p, "live_blocks"), want[code].kept, "%s", what);
		cr_expect_eq(jint(p, "live_bytes"), (long long)want[code].kept * want[code].size,
			     "%s", what);

		cr_assert(report, "%s: no report", what);
		c = load_json(report);
		cr_expect_eq(jint(c, "target.pid"), jint(p, "pid"), "%s: its report", what);
		cr_expect_eq(jint(c, "target.parent_pid"), jint(p, "parent_pid"), "%s", what);
		cr_expect_eq(jint(c, "target.exit_code"), code, "%s", what);
		cr_expect_eq(jint(c, "total_allocations"), want[code].n, "%s: its report", what);
		cr_expect_eq(jint(c, "stats.active_memory"),
			     (long long)want[code].kept * want[code].size, "%s: its report", what);
		cr_expect_eq(json_array_size(json_object_get(c, "processes")), 0, "%s", what);
		expect_pattern_site(c, want[code].n, want[code].kept, what);
		json_decref(c);
	}
}

/* A private directory for the test, and json: its report's path there. */
static void setup(char *json, size_t len)
{
	e2e_require_root();
	snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());
	snprintf(json, len, "%s/t.json", dir);
}

/* forker -w, started and waiting for a byte on stdin; its pid in pidbuf. */
static pid_t start_waiting_forker(struct proc *fx, char *pidbuf, size_t len)
{
	char *fx_argv[] = { (char *)e2e_fixture("forker"), "-w", NULL };

	proc_start(fx, fx_argv, true);
	cr_assert(proc_wait_for(fx, "ready ", false, 10000), "fixture not ready:\n%s", fx->err);
	snprintf(pidbuf, len, "%lld", truth(fx->out, "ready"));
	return (pid_t)atoi(pidbuf);
}

Test(follow, launched_tree_exact, .timeout = 300)
{
	char out_dir[300], json[320], *argv[] = { (char *)e2e_tool(), "-f", "-o", out_dir, "--",
						  (char *)e2e_fixture("forker"), NULL };
	struct dirent *e;
	struct proc tt;
	int rc, files = 0;
	json_t *j;
	DIR *dp;

	e2e_require_root();
	snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());
	snprintf(out_dir, sizeof(out_dir), "%s", dir);
	snprintf(json, sizeof(json), "%s/ttbpf.json", dir);
	rc = run(&tt, argv, TRACE_TIMEOUT_MS);
	e2e_expect_no_crash(&tt);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt.err);
	cr_expect(strstr(tt.err, "followed 5 child processes"), "summary:\n%s", tt.err);
	j = load_json(json);
	expect_tree(j, (int)jint(j, "target.pid"));

	/* json, svg, png and pb.gz for the target and for each child; nothing
	 * else */
	dp = opendir(dir);
	cr_assert(dp);
	while ((e = readdir(dp)))
		if (e->d_name[0] != '.') {
			const char *ext = strrchr(e->d_name, '.');

			cr_expect(ext && (!strcmp(ext, ".json") || !strcmp(ext, ".svg") ||
					  !strcmp(ext, ".png") || !strcmp(ext, ".gz")),
				  "unexpected file %s", e->d_name);
			files++;
		}
	closedir(dp);
	cr_expect_eq(files, 4 * (CHILDREN + 1));
	json_decref(j);
	proc_free(&tt);
	done_dir();
}

/* -p PID -f: children forked after attaching are followed; tracing ends
 * when the last of them has exited, and the target's status is known. */
Test(follow, attached_tree_exact, .timeout = 300)
{
	char pidbuf[16], json[320];
	char *argv[] = { (char *)e2e_tool(), "-f", "-p", pidbuf, "--json", json, NULL };
	struct proc fx, tt;
	int rc;
	json_t *j;

	setup(json, sizeof(json));
	start_waiting_forker(&fx, pidbuf, sizeof(pidbuf));
	proc_start(&tt, argv, false);
	cr_assert(proc_wait_for(&tt, "tracing pid", true, 60000), "ttbpf did not attach:\n%s", tt.err);
	cr_assert(write(fx.in_fd, "g", 1) == 1);
	rc = proc_finish(&fx, TRACE_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "fixture exited %d", rc);
	rc = proc_finish(&tt, TRACE_TIMEOUT_MS);
	e2e_expect_no_crash(&tt);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt.err);
	j = load_json(json);
	expect_tree(j, atoi(pidbuf));
	cr_expect_eq(jint(j, "target.exit_code"), 0);
	json_decref(j);
	proc_free(&fx);
	proc_free(&tt);
	done_dir();
}

/* Without -f the same tree counts the target alone, and lists no child. */
Test(follow, children_ignored_without_f, .timeout = 300)
{
	char json[320], *argv[] = { (char *)e2e_tool(), "--json", json, "--",
				    (char *)e2e_fixture("forker"), NULL };
	struct proc tt;
	int rc;
	json_t *j;

	setup(json, sizeof(json));
	rc = run(&tt, argv, TRACE_TIMEOUT_MS);
	e2e_expect_no_crash(&tt);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt.err);
	j = load_json(json);
	expect_pattern_site(j, 10, 2, "the target");
	cr_expect_eq(json_array_size(json_object_get(j, "processes")), 0);
	json_decref(j);
	proc_free(&tt);
	done_dir();
}

/* A process someone else already traces cannot be followed: say so, exit 1,
 * write nothing. */
Test(follow, already_traced_target_is_refused, .timeout = 120)
{
	char pidbuf[16], json[320];
	char *argv[] = { (char *)e2e_tool(), "-f", "-p", pidbuf, "--json", json, NULL };
	struct proc fx, tt;
	pid_t pid;
	int rc;

	setup(json, sizeof(json));
	pid = start_waiting_forker(&fx, pidbuf, sizeof(pidbuf));
	cr_assert_eq(ptrace(PTRACE_SEIZE, pid, 0, 0), 0, "seize: %s", strerror(errno));
	rc = run(&tt, argv, 60000);
	e2e_expect_no_crash(&tt);
	cr_expect_eq(rc, 1, "ttbpf exited %d:\n%s", rc, tt.err);
	cr_expect(strstr(tt.err, "cannot follow the forks of pid") && strstr(tt.err, "ptrace refused"),
		  "stderr:\n%s", tt.err);
	cr_expect(access(json, F_OK) && errno == ENOENT, "a report was written");
	ptrace(PTRACE_DETACH, pid, 0, 0);
	proc_free(&fx);
	proc_free(&tt);
	done_dir();
}

/*
 * Tracing goes on while any process followed lives: a child that allocates
 * only once its parent (the target) has exited is counted, and a child
 * killed by a signal is listed with 128 + 9; ttbpf's status is the target's.
 */
Test(follow, orphan_and_killed_children, .timeout = 300)
{
	char json[320], *argv[] = { (char *)e2e_tool(), "-f", "--json", json, "--",
				    (char *)e2e_fixture("forker"), "orphan", NULL };
	json_t *j, *procs, *p;
	bool seen6 = false, seen137 = false;
	struct proc tt;
	size_t i;
	int rc;

	setup(json, sizeof(json));
	rc = run(&tt, argv, TRACE_TIMEOUT_MS);
	e2e_expect_no_crash(&tt);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt.err);
	j = load_json(json);
	cr_expect_eq(jint(j, "target.exit_code"), 0);
	procs = json_object_get(j, "processes");
	cr_assert_eq(json_array_size(procs), 2, "children: %zu", json_array_size(procs));
	json_array_foreach(procs, i, p) {
		int code = exit_code_of(p);
		long long n = code == 6 ? 70 : 80, size = code == 6 ? 700 : 800;
		long long kept = code == 6 ? 8 : 9;

		cr_expect(code == 6 || code == 137, "exit code %d", code);
		seen6 |= code == 6;
		seen137 |= code == 137;
		cr_expect_eq(jint(p, "total_allocations"), n, "child exiting %d", code);
		cr_expect_eq(jint(p, "total_allocated"), n * size, "child exiting %d", code);
		cr_expect_eq(jint(p, "live_blocks"), kept, "child exiting %d", code);
	}
	cr_expect(seen6 && seen137);
	json_decref(j);
	proc_free(&tt);
	done_dir();
}

/*
 * SIGINT to ttbpf while a child lives on: ttbpf passes it to the command,
 * ends tracing once the command has exited, and writes complete reports;
 * the child still running is listed without an exit code, and left running.
 */
Test(follow, interrupted_with_a_child_still_running, .timeout = 120)
{
	char json[320], *argv[] = { (char *)e2e_tool(), "-f", "-v", "--json", json, "--", "sh",
				    "-c", "sleep 60 >/dev/null 2>&1 & wait", NULL };
	json_t *j, *procs, *child;
	struct proc tt;
	int rc, child_pid;

	setup(json, sizeof(json));
	proc_start(&tt, argv, false);
	cr_assert(proc_wait_for(&tt, "ttbpf: following pid", true, 60000), "no child:\n%s", tt.err);
	kill(tt.pid, SIGINT);
	rc = proc_finish(&tt, 60000);
	e2e_expect_no_crash(&tt);
	cr_expect_eq(rc, 128 + SIGINT, "ttbpf exited %d:\n%s", rc, tt.err);
	j = load_json(json);
	cr_expect_eq(jint(j, "target.exit_code"), 128 + SIGINT);
	procs = json_object_get(j, "processes");
	cr_assert_eq(json_array_size(procs), 1, "children: %zu", json_array_size(procs));
	child = json_array_get(procs, 0);
	child_pid = (int)jint(child, "pid");
	cr_expect(json_is_null(json_object_get(child, "exit_code")), "the child has not exited");
	/* (its output goes elsewhere: ttbpf's pipes close when ttbpf exits) */
	cr_expect(strstr(json_string_value(json_object_get(child, "command")), "sleep 60"),
		  "command %s", json_string_value(json_object_get(child, "command")));
	cr_expect_eq(kill(child_pid, 0), 0, "the child was not left running");
	kill(child_pid, SIGKILL);
	json_decref(j);
	proc_free(&tt);
	done_dir();
}

Test(follow, aggregate_is_a_usage_error, .timeout = 60)
{
	char *argv[] = { (char *)e2e_tool(), "-f", "--aggregate", "--", "true", NULL };
	struct proc tt;
	int rc;

	e2e_require_root();
	rc = run(&tt, argv, 30000);
	cr_expect_eq(rc, 2, "ttbpf exited %d:\n%s", rc, tt.err);
	cr_expect(strstr(tt.err, "--aggregate cannot follow forks"), "stderr:\n%s", tt.err);
	proc_free(&tt);
}

#define MANY 1000

/* forker many MANY: child i makes i % 7 + 1 allocations of 64 B, keeps 1. */
static long long many_allocs_total(void)
{
	long long n = 0;

	for (int i = 0; i < MANY; i++)
		n += i % 7 + 1;
	return n;
}

/*
 * The children of `forker many` in a report: how many were traced, and
 * those exact (one block of 64 B kept each; each child's count is one of
 * 1..7, and together they are the fixture's total when all are traced).
 */
static int expect_many(json_t *j, long long *allocs)
{
	json_t *procs = json_object_get(j, "processes"), *p;
	int traced = 0;
	size_t i;

	*allocs = 0;
	cr_assert_eq(json_array_size(procs), MANY, "%zu children followed, not %d",
		     json_array_size(procs), MANY);
	json_array_foreach(procs, i, p) {
		long long n;

		cr_assert_eq(exit_code_of(p), 0);
		if (!json_is_true(json_object_get(p, "traced")))
			continue;
		traced++;
		n = jint(p, "total_allocations");
		cr_expect(n >= 1 && n <= 7, "pid %lld: %lld allocations", jint(p, "pid"), n);
		cr_expect_eq(jint(p, "total_allocated"), n * 64);
		cr_expect_eq(jint(p, "live_blocks"), 1);
		cr_expect_eq(jint(p, "live_bytes"), 64);
		*allocs += n;
	}
	return traced;
}

/* A thousand children alive at once are all traced, each exactly. */
Test(follow, thousand_children_all_traced, .timeout = 300)
{
	char json[320], many[16], *argv[] = { (char *)e2e_tool(), "-q", "-f", "--json", json, "--",
					     (char *)e2e_fixture("forker"), "many", many, NULL };
	long long allocs;
	struct proc tt;
	int rc;
	json_t *j;

	snprintf(many, sizeof(many), "%d", MANY);
	setup(json, sizeof(json));
	rc = run(&tt, argv, TRACE_TIMEOUT_MS);
	e2e_expect_no_crash(&tt);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%.2000s", rc, tt.err);
	j = load_json(json);
	cr_expect_eq(expect_many(j, &allocs), MANY, "children not traced:\n%.2000s", tt.err);
	cr_expect_eq(allocs, many_allocs_total());
	cr_expect_eq(jint(j, "stats.lost_events"), 0);
	json_decref(j);
	proc_free(&tt);
	done_dir();
}

/*
 * With too few descriptors for a thousand children's probes, the ones that
 * could not be traced are listed as such, with no figures and no report,
 * stderr names a few and counts the rest (it is not buried under a line per
 * child), and the run exits 1 although the command exited 0. Before, 960
 * children were untraced with exit status 0, zeros as their figures and a
 * report each, and two lines each on stderr.
 */
Test(follow, children_not_traced_fail_the_run, .timeout = 300)
{
	char json[320], many[16];
	char *argv[] = { "prlimit", "--nofile=200:200", (char *)e2e_tool(), "-f", "--json", json,
			 "--", (char *)e2e_fixture("forker"), "many", many, NULL };
	int rc, traced, untraced = 0, lines = 0;
	json_t *j, *p;
	long long allocs;
	struct proc tt;
	size_t i;

	snprintf(many, sizeof(many), "%d", MANY);
	setup(json, sizeof(json));
	rc = run(&tt, argv, TRACE_TIMEOUT_MS);
	e2e_expect_no_crash(&tt);
	cr_assert_eq(rc, 1, "ttbpf exited %d, not 1:\n%.2000s", rc, tt.err);
	j = load_json(json);
	traced = expect_many(j, &allocs);
	cr_assert(traced > 0 && traced < MANY, "%d of %d traced with 200 descriptors", traced, MANY);
	json_array_foreach(json_object_get(j, "processes"), i, p) {
		if (json_is_true(json_object_get(p, "traced")))
			continue;
		untraced++;
		cr_expect(strstr(nz(jstr(p, "untraced_reason")), "could not be attached: Too many "
							       "open files"),
			  "reason: %s", nz(jstr(p, "untraced_reason")));
		cr_expect(json_is_null(json_object_get(p, "total_allocations")));
		cr_expect(json_is_null(json_object_get(p, "live_bytes")));
		cr_expect(json_is_null(json_object_get(p, "report")), "a report of zeros");
	}
	cr_expect_eq(traced + untraced, MANY);
	for (const char *s = tt.err; (s = strchr(s, '\n')); s++)
		lines++;
	cr_expect_lt(lines, 100, "%d lines on stderr for %d children not traced", lines, untraced);
	cr_expect(strstr(tt.err, "child processes could not be traced"), "stderr:\n%.3000s",
		  tt.err);
	cr_expect(strstr(tt.err, "NOT TRACED"), "the summary does not say so:\n%.3000s", tt.err);
	json_decref(j);
	proc_free(&tt);
	done_dir();
}
