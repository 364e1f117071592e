// SPDX-License-Identifier: Apache-2.0
/*
 * A long run watched while it goes on: --interval's snapshots and top sites,
 * SIGUSR1, kill -9 of ttbpf, and the live line on a terminal. The target is
 * tests/fixtures/interval_steps, attached with -p: it does one step of known
 * allocations for each byte written to its stdin and keeps its running
 * tally in a file, so that at each checkpoint the report's figures are
 * known exactly.
 */
#include <limits.h>
#include <sys/ioctl.h>
#include "e2e.h"

#define BIG_SITE "interval_grow_big"
#define SMALL_SITE "interval_grow_small"

struct fixture {
	struct proc p;
	char pid[16];
	char tally[PATH_MAX];
	int steps;
};

static void fx_start(struct fixture *f, const char *dir)
{
	char *argv[] = { (char *)e2e_fixture("interval_steps"), f->tally, NULL };

	snprintf(f->tally, sizeof(f->tally), "%s/tally", dir);
	proc_start(&f->p, argv, true);
	cr_assert(proc_wait_for(&f->p, "ready 0\n", false, 20000), "fixture not ready:\n%s",
		  f->p.err);
	snprintf(f->pid, sizeof(f->pid), "%d", f->p.pid);
	f->steps = 0;
}

/* One step of the fixture; returns once it has counted it. */
static void fx_step(struct fixture *f)
{
	char want[32];

	f->steps++;
	snprintf(want, sizeof(want), "step %d\n", f->steps);
	cr_assert(write(f->p.in_fd, "x", 1) == 1);
	cr_assert(proc_wait_for(&f->p, want, false, 20000), "fixture did not do step %d:\n%s",
		  f->steps, f->p.out);
}

/* The fixture's running tally for key. */
static long long fx_tally(const struct fixture *f, const char *key)
{
	char buf[1024];
	ssize_t n;
	int fd = open(f->tally, O_RDONLY);

	cr_assert(fd >= 0, "%s: %s", f->tally, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_assert(n > 0);
	buf[n] = '\0';
	return truth(buf, key);
}

/* ttbpf -p FIXTURE ARGS..., attached once it says so. */
static void tt_start(struct proc *tt, const struct fixture *f, const char *const *args)
{
	char *argv[16] = { (char *)e2e_tool(), "-p", (char *)f->pid };
	int n = 3;

	while (*args && n < 15)
		argv[n++] = (char *)*args++;
	argv[n] = NULL;
	proc_start(tt, argv, false);
	cr_assert(proc_wait_for(tt, "Ctrl-C to stop", true, 60000), "ttbpf did not attach:\n%s",
		  tt->err);
}

/* The report at path, or NULL when there is none yet. A snapshot is renamed
 * into place whole: a file that is there must parse. */
static json_t *try_json(const char *path)
{
	json_error_t jerr;
	json_t *j;

	if (access(path, F_OK))
		return NULL;
	j = json_load_file(path, 0, &jerr);
	cr_assert(j, "%s is there but not valid JSON (line %d: %s)", path, jerr.line, jerr.text);
	return j;
}

static long long stat_of(json_t *j, const char *key)
{
	json_t *v = json_object_get(json_object_get(j, "stats"), key);

	cr_assert(json_is_integer(v), "stats.%s missing", key);
	return json_integer_value(v);
}

/* call_sites[function == fn].live_bytes, -1 when the site is not listed. */
static long long site_live(json_t *j, const char *fn)
{
	json_t *sites = json_object_get(j, "call_sites"), *s;
	size_t i;

	json_array_foreach(sites, i, s)
		if (!strcmp(nz(jstr(s, "function")), fn))
			return json_integer_value(json_object_get(s, "live_bytes"));
	return -1;
}

/* The report's figures are the fixture's tally, exactly. */
static void expect_tally(json_t *j, const struct fixture *f)
{
	static const char *const pairs[][2] = {
		{ "total_allocations", "allocs" }, { "total_allocated", "alloc_bytes" },
		{ "total_frees", "frees" },         { "total_freed", "freed_bytes" },
		{ "active_allocations", "live_cnt" }, { "active_memory", "live_bytes" },
	};
	size_t i;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		cr_expect_eq(stat_of(j, pairs[i][0]), fx_tally(f, pairs[i][1]),
			     "step %d: stats.%s is %lld, the fixture's %s %lld", f->steps, pairs[i][0],
			     stat_of(j, pairs[i][0]), pairs[i][1], fx_tally(f, pairs[i][1]));
	cr_expect_eq(site_live(j, BIG_SITE), fx_tally(f, "big_bytes"));
	cr_expect_eq(site_live(j, SMALL_SITE), fx_tally(f, "small_bytes"));
	cr_expect_eq(stat_of(j, "lost_events"), 0);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Waits up to ms for path to be replaced (another inode or mtime than *was;
 * a zeroed *was: for it to exist). */
static bool wait_new(const char *path, struct stat *was, int ms)
{
	uint64_t end = e2e_now_ms() + (uint64_t)ms;
	struct stat st;

	while (e2e_now_ms() < end) {
		if (!stat(path, &st) && !same_file(&st, was)) {
			*was = st;
			return true;
		}
		usleep(10000);
	}
	return false;
}

/* The same for a JSON report: the new one. */
static json_t *wait_replaced(const char *path, struct stat *was, int ms)
{
	return wait_new(path, was, ms) ? try_json(path) : NULL;
}

/*
 * --interval 1: a report is on disk while ttbpf runs, rewritten each
 * second; each one read shows no more than the fixture had done, never less
 * than the one before, and, once the fixture has paused at a checkpoint,
 * exactly its tally.
 */
Test(interval, report_on_disk_grows_with_the_tally, .timeout = 90)
{
	const char *dir = e2e_tmpdir();
	const char *args[] = { "--interval", "1", "-j", NULL, NULL };
	struct fixture f;
	struct proc tt;
	char json[PATH_MAX];
	long long prev_allocs = 0;
	int step;

	e2e_require_root();
	snprintf(json, sizeof(json), "%s/live.json", dir);
	args[3] = json;
	fx_start(&f, dir);
	tt_start(&tt, &f, args);
	for (step = 1; step <= 3; step++) {
		uint64_t end;
		json_t *j = NULL;
		long long allocs = -1, frees = -1;

		fx_step(&f);
		/* the next snapshot (within a second) has the step; one taken inside
		 * the step's last free has its allocations, not that free */
		end = e2e_now_ms() + 20000;
		while (e2e_now_ms() < end &&
		       (allocs != fx_tally(&f, "allocs") || frees != fx_tally(&f, "frees"))) {
			if (j)
				json_decref(j);
			proc_pump(&tt, 50);
			j = try_json(json);
			if (!j)
				continue;
			allocs = stat_of(j, "total_allocations");
			frees = stat_of(j, "total_frees");
			cr_expect(allocs >= prev_allocs, "a snapshot went back: %lld allocations after %lld",
				  allocs, prev_allocs);
			cr_expect(allocs <= fx_tally(&f, "allocs"), "more allocations than the fixture made");
			prev_allocs = allocs;
		}
		cr_assert(j, "no report on disk %d s into the run; stderr:\n%s", step + 1, tt.err);
		expect_tally(j, &f);
		cr_expect(json_is_null(json_object_get(json_object_get(j, "target"), "exit_code")));
		json_decref(j);
		cr_expect_eq(kill(tt.pid, 0), 0, "ttbpf stopped");
	}
	kill(tt.pid, SIGINT);
	cr_expect_eq(proc_finish(&tt, 30000), 0, "stderr:\n%s", tt.err);
	e2e_expect_no_crash(&tt);
	/* the final report replaced the last snapshot: the same figures */
	{
		json_t *j = try_json(json);

		cr_assert(j);
		expect_tally(j, &f);
		json_decref(j);
	}
	e2e_expect_dir_holds(dir, (const char *const[]){ "live.json", "tally", NULL });
	fx_step(&f); /* the target runs on, untraced */
	proc_free(&f.p);
	proc_free(&tt);
	e2e_rmtree(dir);
}

/*
 * SIGUSR1 (no --interval): every report file written at once, tracing goes
 * on; the target never sees the signal (it would have killed it).
 */
Test(interval, sigusr1_writes_the_reports_at_once, .timeout = 90)
{
	const char *dir = e2e_tmpdir();
	const char *args[] = { "-j", NULL, "--folded", NULL, "--pprof", NULL, NULL };
	char json[PATH_MAX], folded[PATH_MAX], pprof[PATH_MAX];
	struct stat was = {}, was_folded = {}, was_pprof = {};
	struct fixture f;
	struct proc tt;
	json_t *j;
	int round;

	e2e_require_root();
	snprintf(json, sizeof(json), "%s/usr1.json", dir);
	snprintf(folded, sizeof(folded), "%s/usr1.folded", dir);
	snprintf(pprof, sizeof(pprof), "%s/usr1.pb.gz", dir);
	args[1] = json;
	args[3] = folded;
	args[5] = pprof;
	fx_start(&f, dir);
	tt_start(&tt, &f, args);
	usleep(300000);
	cr_expect(access(json, F_OK), "a report before it was asked for");
	for (round = 1; round <= 2; round++) {
		fx_step(&f);
		fx_step(&f);
		cr_assert_eq(kill(tt.pid, SIGUSR1), 0);
		/* nothing else writes it without --interval: SIGUSR1 did (the bound is
		 * for a loaded machine, not a measure) */
		j = wait_replaced(json, &was, 20000);
		cr_assert(j, "round %d: SIGUSR1 did not rewrite %s; stderr:\n%s", round, json, tt.err);
		expect_tally(j, &f);
		json_decref(j);
		/* the child writes them after the JSON */
		cr_expect(wait_new(folded, &was_folded, 20000), "the folded stacks were not written");
		cr_expect(wait_new(pprof, &was_pprof, 20000), "the profile was not written");
	}
	cr_expect_eq(kill(f.p.pid, 0), 0, "the target died");
	fx_step(&f);
	cr_expect_eq(kill(tt.pid, 0), 0, "SIGUSR1 stopped ttbpf");
	kill(tt.pid, SIGINT);
	cr_expect_eq(proc_finish(&tt, 30000), 0, "stderr:\n%s", tt.err);
	j = try_json(json);
	cr_assert(j);
	expect_tally(j, &f);
	json_decref(j);
	proc_free(&f.p);
	proc_free(&tt);
	e2e_rmtree(dir);
}

/* kill -9 of ttbpf (the OOM killer, a closed terminal): the last snapshot
 * stays, whole, with the figures it had. */
Test(interval, kill_9_leaves_the_last_snapshot, .timeout = 90)
{
	const char *dir = e2e_tmpdir();
	const char *args[] = { "-i", "1", "-j", NULL, NULL };
	struct stat was = {};
	char json[PATH_MAX];
	struct fixture f;
	struct proc tt;
	json_t *j = NULL;
	int i;

	e2e_require_root();
	snprintf(json, sizeof(json), "%s/kill.json", dir);
	args[3] = json;
	fx_start(&f, dir);
	tt_start(&tt, &f, args);
	fx_step(&f);
	fx_step(&f);
	/* two snapshots after the steps: the second surely has them */
	for (i = 0; i < 2; i++) {
		if (j)
			json_decref(j);
		j = wait_replaced(json, &was, 20000);
		cr_assert(j, "no snapshot; stderr:\n%s", tt.err);
	}
	expect_tally(j, &f);
	json_decref(j);
	kill(tt.pid, SIGKILL);
	cr_expect_eq(proc_finish(&tt, 10000), 128 + SIGKILL);
	sleep(2); /* a snapshot being written when the kill came lands whole, or not */
	j = try_json(json);
	cr_assert(j, "the snapshot is gone");
	expect_tally(j, &f);
	json_decref(j);
	e2e_expect_dir_holds(dir, (const char *const[]){ "kill.json", "tally", NULL });
	fx_step(&f); /* the target runs on */
	proc_free(&f.p);
	proc_free(&tt);
	e2e_rmtree(dir);
}

/* The top sites by live bytes each interval: the fixture's two keeping
 * sites with their exact live bytes and blocks, the churning one absent. */
Test(interval, top_sites_each_interval, .timeout = 90)
{
	const char *dir = e2e_tmpdir();
	const char *args[] = { "--interval", "1", "--top", "5", NULL };
	char big[128], small[128];
	struct fixture f;
	struct proc tt;
	const char *last;

	e2e_require_root();
	fx_start(&f, dir);
	tt_start(&tt, &f, args);
	fx_step(&f);
	fx_step(&f);
	fx_step(&f);
	/* as report_top.c prints a site: bytes, blocks, the function */
	snprintf(big, sizeof(big), "%14lld B %10d blocks  " BIG_SITE " (",
		 fx_tally(&f, "big_bytes"), 3);
	snprintf(small, sizeof(small), "%14lld B %10d blocks  " SMALL_SITE " (",
		 fx_tally(&f, "small_bytes"), 6);
	cr_assert(proc_wait_for(&tt, small, true, 20000), "no top with %s; stderr:\n%s", small,
		  tt.err);
	cr_assert(proc_wait_for(&tt, big, true, 5000), "no top with %s; stderr:\n%s", big, tt.err);
	/* the churn's blocks are all freed: not a site holding anything */
	cr_expect_null(strstr(tt.err, "interval_churn"), "stderr:\n%s", tt.err);
	/* the biggest first, under a header counting the two sites */
	last = strstr(tt.err, small);
	cr_expect(strstr(tt.err, big) < last);
	cr_expect(strstr(tt.err, "top 5 of 2 allocation sites by live bytes:\n"), "stderr:\n%s",
		  tt.err);
	/* no live line on a pipe */
	cr_expect_null(strchr(tt.err, '\r'), "a carriage return on a pipe:\n%s", tt.err);
	cr_expect_null(strstr(tt.err, "allocs/s"), "a live line on a pipe:\n%s", tt.err);
	kill(tt.pid, SIGINT);
	cr_expect_eq(proc_finish(&tt, 30000), 0, "stderr:\n%s", tt.err);
	proc_free(&f.p);
	proc_free(&tt);
	e2e_rmtree(dir);
}

/* ttbpf with stderr (and stdout) on a new pseudo-terminal; its output in
 * out, until it exits: it is stopped with SIGINT once want was printed
 * after the fixture's three steps (or 30 s after them). Returns its wait
 * status. */
static int run_on_pty(char *const argv[], struct fixture *f, const char *want, char *out,
		      size_t cap)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY), status = 0;
	size_t len = 0;
	bool stepped = false, stopped = false;
	uint64_t stop_by = 0;
	pid_t pid;

	struct winsize ws = { .ws_row = 24, .ws_col = 200 };

	cr_assert(master >= 0 && !grantpt(master) && !unlockpt(master));
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int slave;

		setsid();
		slave = open(ptsname(master), O_RDWR);
		if (slave < 0)
			_exit(126);
		ioctl(slave, TIOCSWINSZ, &ws); /* wide enough for the whole line */
		dup2(slave, 1);
		dup2(slave, 2);
		execv(argv[0], argv);
		_exit(126);
	}
	for (;;) {
		struct pollfd p = { master, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 100) > 0) {
			n = read(master, out + len, cap - 1 - len);
			if (n <= 0)
				break; /* EIO: the last holder of the slave is gone */
			len += (size_t)n;
			out[len] = '\0';
		}
		if (!stepped && strstr(out, "Ctrl-C to stop")) {
			fx_step(f);
			fx_step(f);
			fx_step(f);
			stepped = true;
			stop_by = e2e_now_ms() + 30000;
		}
		if (stepped && !stopped && (strstr(out, want) || e2e_now_ms() > stop_by)) {
			kill(pid, SIGINT);
			stopped = true;
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			while (poll(&p, 1, 100) > 0 && (n = read(master, out + len, cap - 1 - len)) > 0)
				len += (size_t)n;
			out[len] = '\0';
			break;
		}
	}
	close(master);
	return status;
}

/* On a terminal, the line rewritten in place each second: after three
 * steps, 9 blocks of 17.9 KB live; cleared before the summary. */
Test(interval, live_line_on_a_terminal, .timeout = 90)
{
	static char out[1 << 20];
	const char *dir = e2e_tmpdir();
	struct fixture f;
	char *argv[8];
	const char *clear, *line;
	int status;

	e2e_require_root();
	fx_start(&f, dir);
	argv[0] = (char *)e2e_tool();
	argv[1] = "-p";
	argv[2] = f.pid;
	argv[3] = NULL;
	status = run_on_pty(argv, &f, " | live 17.9 KB, 9 blocks | peak 17.9 KB | ", out,
			    sizeof(out));
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d; output:\n%s", status,
		  out);
	cr_expect_eq(fx_tally(&f, "live_cnt"), 9);
	cr_expect_eq(fx_tally(&f, "live_bytes"), 18288);
	/* 18,288 B is 17.9 KB; the tty turns \n into \r\n, not \r alone */
	line = strstr(out, " | live 17.9 KB, 9 blocks | peak 17.9 KB | ");
	cr_assert(line, "no live line with the steps:\n%s", out);
	while (line > out && line[-1] != '\r' && line[-1] != '\n')
		line--;
	cr_expect(line > out && line[-1] == '\r', "the line is not rewritten in place:\n%s", out);
	cr_expect(strstr(line, " allocs/s ") && strstr(line, " frees/s | lost 0"), "%s", out);
	/* the target's RSS after the peak: a fixture of ~18 KB of heap maps more */
	cr_expect(strstr(line, " | peak 17.9 KB | RSS ") && !strstr(line, "RSS 0 B"), "%s", out);
	cr_expect(strstr(out, "\033[K"), "the line is not cleared to its end:\n%s", out);
	/* the summary starts on a cleared line */
	clear = strstr(out, "\r\033[K\r\nttbpf: pid ");
	cr_expect(clear, "the live line is not cleared before the summary:\n%s", out);
	proc_free(&f.p);
	e2e_rmtree(dir);
}

/* -i and -q with no file to rewrite: nothing to do each interval, said
 * before anything is traced. */
Test(interval, quiet_interval_without_files_is_refused)
{
	char *argv[] = { (char *)e2e_tool(), "-q", "-i", "1", "-p", "1", NULL };
	char *argv_stdout[] = { (char *)e2e_tool(), "-q", "-i", "1", "-j", "-", "-p", "1", NULL };
	struct proc p;

	cr_expect_eq(run(&p, argv, 10000), 2);
	cr_expect(strstr(p.err, "nothing to do each interval"), "%s", p.err);
	proc_free(&p);
	/* stdout is written at the end only */
	cr_expect_eq(run(&p, argv_stdout, 10000), 2);
	cr_expect(strstr(p.err, "nothing to do each interval"), "%s", p.err);
	cr_expect_eq(p.out_len, 0);
	proc_free(&p);
}
