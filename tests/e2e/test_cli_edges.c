// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: the command line's edges (issue 14). A stderr whose reader is
 * gone, a set-user-ID program exec'd under -f, `report` on a FIFO, and -p
 * with a thread's id.
 */
#include <pwd.h>
#include "e2e.h"

#define TRACE_TIMEOUT_MS 120000
#define SIGPIPE_BIT (1ULL << (SIGPIPE - 1))

static char dir[256];

static void done_dir(void)
{
	if (dir[0])
		e2e_rmtree(dir);
	dir[0] = '\0';
}

/* The SigIgn mask in "SigIgn:\t0000000000001000" lines of output. */
static unsigned long long sigign_of(const char *out)
{
	const char *s = strstr(out, "SigIgn:");

	cr_assert(s, "the command printed no SigIgn line:\n%s", out);
	return strtoull(s + 7, NULL, 16);
}

/*
 * stderr is a pipe nobody reads any more (`2>&1 | head -1`): the report is
 * written whole, ttbpf exits with the command's status, and the command
 * does not inherit SIGPIPE ignored.
 */
Test(cli_edges, closed_stderr_keeps_the_report, .timeout = 120)
{
	char json[320], out[320];
	int errp[2], status, fd;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	json_t *j;
	pid_t pid;
	FILE *f;
	char buf[4096] = "";
	size_t n;

	e2e_require_root();
	snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());
	snprintf(json, sizeof(json), "%s/t.json", dir);
	snprintf(out, sizeof(out), "%s/out.txt", dir);
	cr_assert(!pipe(errp));
	close(errp[0]); /* the reader is gone before ttbpf writes a word */
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		sigaction(SIGPIPE, &dfl, NULL);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(errp[1], 2);
		execl(e2e_tool(), e2e_tool(), "--json", json, "--", "sh", "-c",
		      "grep SigIgn /proc/$$/status; exit 3", (char *)NULL);
		_exit(126);
	}
	close(errp[1]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(!WIFSIGNALED(status), "ttbpf was killed by signal %d", WTERMSIG(status));
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 3,
		  "ttbpf exited %d, the command's status is 3", WEXITSTATUS(status));
	j = load_json(json);
	cr_expect_eq(jint(j, "target.exit_code"), 3);
	json_decref(j);
	f = fopen(out, "r");
	cr_assert(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	cr_expect(!(sigign_of(buf) & SIGPIPE_BIT), "the command inherited SIGPIPE ignored:\n%s",
		  buf);
	done_dir();
}

/* The fixture's row (by command) among the processes of a -f report. */
static json_t *process_running(json_t *root, const char *needle)
{
	json_t *procs = json_object_get(root, "processes"), *p;
	size_t i;

	json_array_foreach(procs, i, p)
		if (strstr(nz(jstr(p, "command")), needle))
			return p;
	return NULL;
}

/*
 * Root running a set-user-ID (nobody) program under -f: its exec changes
 * its effective uid, so it is let go as ptrace would for an unprivileged
 * tracer: marked untraced, none of its allocations counted, and it runs to
 * its end with its own exit code.
 */
Test(cli_edges, setuid_exec_is_let_go, .timeout = 300)
{
	char fx[320], json[320], script[700], cmd[1100];
	char *argv[] = { (char *)e2e_tool(), "-f", "--json", json, "--", "sh", "-c", script, NULL };
	struct passwd *nobody = getpwnam("nobody");
	struct proc tt;
	json_t *j, *row;
	int rc;

	e2e_require_root();
	cr_assert(nobody, "no user nobody");
	snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());
	snprintf(fx, sizeof(fx), "%s/setuid_allocs", dir);
	snprintf(json, sizeof(json), "%s/t.json", dir);
	snprintf(cmd, sizeof(cmd), "cp %s %s", e2e_fixture("setuid_allocs"), fx);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	cr_assert(!chown(fx, nobody->pw_uid, nobody->pw_gid));
	cr_assert(!chmod(fx, 04755));
	snprintf(script, sizeof(script), "%s; echo \"rc $?\"; true", fx);

	rc = run(&tt, argv, TRACE_TIMEOUT_MS);
	e2e_expect_no_crash(&tt);
	cr_expect_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt.err);
	/* it ran, as nobody, to its end */
	cr_expect_eq(truth(tt.out, "euid"), (long long)nobody->pw_uid, "output:\n%s", tt.out);
	cr_expect_eq(truth(tt.out, "rc"), 7, "output:\n%s", tt.out);
	cr_expect(strstr(tt.err, "is no longer traced") && strstr(tt.err, "set-user-ID"),
		  "no word of it on stderr:\n%s", tt.err);

	j = load_json(json);
	row = process_running(j, "setuid_allocs");
	cr_assert(row, "no process row for the set-user-ID program");
	cr_expect(json_is_false(json_object_get(row, "traced")), "it is reported traced");
	cr_expect(strstr(nz(jstr(row, "untraced_reason")), "set-user-ID"), "reason: %s",
		  nz(jstr(row, "untraced_reason")));
	/* what sh's child did before the exec may be counted; never the 333 */
	cr_expect_lt(jint(row, "total_allocations"), 333, "its allocations were counted: %lld", jint(row, "total_allocations"));
	/* records that came before its probes were gone are dropped, not bad */
	cr_expect_eq(jint(j, "stats.bad_records"), 0);
	cr_expect_lt(jint(row, "live_bytes"), 7777, "its live blocks were counted: %lld bytes", jint(row, "live_bytes"));
	json_decref(j);
	proc_free(&tt);
	done_dir();
}

/* A FIFO would block open() until a writer comes: refused at once. */
Test(cli_edges, report_on_a_fifo_is_refused, .timeout = 60)
{
	char fifo[320], out[320], *argv[] = { (char *)e2e_tool(), "report", fifo, "-o", out, NULL };
	char *dash[] = { (char *)e2e_tool(), "report", "-", "-o", out, NULL };
	struct proc tt;
	int rc;

	e2e_require_root();
	snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());
	snprintf(fifo, sizeof(fifo), "%s/report.json", dir);
	snprintf(out, sizeof(out), "%s", dir); /* exists: nothing else stops it first */
	cr_assert(!mkfifo(fifo, 0644));

	proc_start(&tt, argv, false);
	cr_assert(proc_exits_within(&tt, 1000), "ttbpf report FIFO still runs after a second");
	rc = proc_finish(&tt, 1000);
	cr_expect_neq(rc, 0);
	cr_expect(strstr(tt.err, "not a regular file") && strstr(tt.err, "FIFO"), "stderr:\n%s",
		  tt.err);
	proc_free(&tt);

	/* `-` is not stdin: the reader needs a regular file */
	proc_start(&tt, dash, true);
	cr_assert(proc_exits_within(&tt, 1000), "ttbpf report - still runs after a second");
	rc = proc_finish(&tt, 1000);
	cr_expect_neq(rc, 0);
	cr_expect(strstr(tt.err, "stdin"), "stderr:\n%s", tt.err);
	proc_free(&tt);
	done_dir();
}

/* -p with a thread's id traces the thread's process, and says so. */
Test(cli_edges, thread_id_means_its_process, .timeout = 120)
{
	char json[320], tidbuf[16], path[64], want[128];
	char *fx_argv[] = { (char *)e2e_fixture("known_allocs"), "-t", "2", "-w", NULL };
	char *argv[] = { (char *)e2e_tool(), "-p", tidbuf, "-d", "1", "--json", json, NULL };
	struct proc fx, tt;
	struct dirent *e;
	pid_t pid, tid = 0;
	DIR *d;
	json_t *j;
	int rc;

	e2e_require_root();
	snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());
	snprintf(json, sizeof(json), "%s/t.json", dir);
	proc_start(&fx, fx_argv, true);
	cr_assert(proc_wait_for(&fx, "ready ", false, 10000), "fixture not ready:\n%s", fx.err);
	pid = (pid_t)truth(fx.out, "ready");
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	cr_assert(d);
	while ((e = readdir(d)))
		if (atoi(e->d_name) > 0 && atoi(e->d_name) != pid)
			tid = (pid_t)atoi(e->d_name);
	closedir(d);
	cr_assert(tid, "the fixture has no thread");
	snprintf(tidbuf, sizeof(tidbuf), "%d", tid);

	rc = run(&tt, argv, TRACE_TIMEOUT_MS);
	e2e_expect_no_crash(&tt);
	cr_expect_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt.err);
	snprintf(want, sizeof(want), "%d is a thread of process %d", tid, pid);
	cr_expect(strstr(tt.err, want), "no '%s' on stderr:\n%s", want, tt.err);
	j = load_json(json);
	cr_expect_eq(jint(j, "target.pid"), pid);
	json_decref(j);
	proc_free(&tt);
	proc_free(&fx);
	done_dir();
}
