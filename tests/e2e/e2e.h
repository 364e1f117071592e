/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for end-to-end tests: run build/ttbpf against real processes,
 * capture their output, load the JSON report with jansson.
 *
 * Environment: TTBPF (path of the tool), FIXTURES (directory of fixture
 * binaries), both set by `make e2e`. Without root the tests skip, except under
 * CI=true, where they fail: CI must run them.
 */
#ifndef TT_E2E_H
#define TT_E2E_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define E2E_OUT_MAX (1 << 20)

struct proc {
	pid_t pid;
	int in_fd;  /* write end of the child's stdin, or -1 */
	int out_fd; /* read end of its stdout */
	int err_fd; /* read end of its stderr */
	char *out, *err; /* captured so far, NUL-terminated */
	size_t out_len, err_len;
	int status; /* waitpid status once reaped */
	bool reaped;
};

static inline const char *e2e_tool(void)
{
	const char *t = getenv("TTBPF");

	return t ? t : "build/ttbpf";
}

static inline const char *e2e_fixture(const char *name)
{
	static char buf[4][512];
	static int i;
	const char *dir = getenv("FIXTURES");
	char *b = buf[i++ % 4];

	snprintf(b, sizeof(buf[0]), "%s/%s", dir ? dir : "build/fixtures", name);
	return b;
}

static inline void e2e_require_root(void)
{
	const char *ci = getenv("CI");

	if (geteuid() == 0 && !access("/sys/kernel/btf/vmlinux", R_OK))
		return;
	if (ci && !strcmp(ci, "true"))
		cr_assert_fail("BPF tests need root and a BTF kernel; under CI=true they must run");
	cr_skip_test("needs root (BPF and uprobes): run `sudo make test`");
}

static inline uint64_t e2e_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Starts argv with piped stdin/stdout/stderr (stdin from /dev/null unless
 * want_stdin). */
static inline void proc_start(struct proc *p, char *const argv[], bool want_stdin)
{
	int in[2] = { -1, -1 }, out[2], err[2];

	memset(p, 0, sizeof(*p));
	cr_assert(pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0);
	if (want_stdin)
		cr_assert(pipe2(in, O_CLOEXEC) == 0);
	p->out = calloc(1, E2E_OUT_MAX + 1);
	p->err = calloc(1, E2E_OUT_MAX + 1);
	cr_assert(p->out && p->err);
	p->pid = fork();
	cr_assert(p->pid >= 0);
	if (p->pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		/* a test worker killed (a timeout) takes what it started with it:
		 * a busy fixture or a ttbpf must not outlive it */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(want_stdin ? in[0] : devnull, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(126);
	}
	close(out[1]);
	close(err[1]);
	p->out_fd = out[0];
	p->err_fd = err[0];
	p->in_fd = -1;
	if (want_stdin) {
		close(in[0]);
		p->in_fd = in[1];
	}
}

/* Reads what is available from stdout/stderr for up to ms milliseconds. */
static inline void proc_pump(struct proc *p, int ms)
{
	struct pollfd fds[2] = { { p->out_fd, POLLIN, 0 }, { p->err_fd, POLLIN, 0 } };
	char buf[65536];
	ssize_t n;
	int i;

	if (poll(fds, 2, ms) <= 0)
		return;
	for (i = 0; i < 2; i++) {
		char *dst = i ? p->err : p->out;
		size_t *len = i ? &p->err_len : &p->out_len;

		if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP)))
			continue;
		n = read(fds[i].fd, buf, sizeof(buf));
		if (n <= 0) {
			close(fds[i].fd);
			if (i)
				p->err_fd = -1;
			else
				p->out_fd = -1;
			continue;
		}
		if (*len + (size_t)n > E2E_OUT_MAX)
			n = (ssize_t)(E2E_OUT_MAX - *len);
		memcpy(dst + *len, buf, (size_t)n);
		*len += (size_t)n;
		dst[*len] = '\0';
	}
}

/* Waits until needle shows up on stdout (or stderr when on_err). */
static inline bool proc_wait_for(struct proc *p, const char *needle, bool on_err, int timeout_ms)
{
	uint64_t end = e2e_now_ms() + (uint64_t)timeout_ms;

	while (e2e_now_ms() < end) {
		if (strstr(on_err ? p->err : p->out, needle))
			return true;
		if (p->out_fd < 0 && p->err_fd < 0)
			break;
		proc_pump(p, 50);
	}
	return strstr(on_err ? p->err : p->out, needle) != NULL;
}

/* Whether p exits within ms, collecting its output meanwhile; it is left
 * for proc_finish() to reap. */
static inline bool proc_exits_within(struct proc *p, int ms)
{
	uint64_t end = e2e_now_ms() + (uint64_t)ms;
	siginfo_t si;

	while (e2e_now_ms() < end) {
		proc_pump(p, 20);
		si.si_pid = 0;
		if (!waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) &&
		    si.si_pid == p->pid)
			return true;
	}
	return false;
}

/* Reaps the process, collecting its output; kills it after timeout_ms.
 * Returns the exit status as a shell shows it (128 + signal). */
static inline int proc_finish(struct proc *p, int timeout_ms)
{
	uint64_t end = e2e_now_ms() + (uint64_t)timeout_ms;
	pid_t r;

	if (p->in_fd >= 0) {
		close(p->in_fd);
		p->in_fd = -1;
	}
	for (;;) {
		proc_pump(p, 20);
		r = waitpid(p->pid, &p->status, WNOHANG);
		if (r == p->pid)
			break;
		if (e2e_now_ms() > end) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &p->status, 0);
			cr_assert_fail("process %d did not finish within %d ms; stderr:\n%s", p->pid,
				timeout_ms, p->err);
			break;
		}
	}
	p->reaped = true;
	while (p->out_fd >= 0 || p->err_fd >= 0)
		proc_pump(p, 100);
	if (WIFEXITED(p->status))
		return WEXITSTATUS(p->status);
	return 128 + WTERMSIG(p->status);
}

static inline void proc_free(struct proc *p)
{
	if (p->in_fd >= 0)
		close(p->in_fd);
	if (p->out_fd >= 0)
		close(p->out_fd);
	if (p->err_fd >= 0)
		close(p->err_fd);
	if (!p->reaped && p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	free(p->out);
	free(p->err);
}

/* Runs argv to completion; returns the exit status. */
static inline int run(struct proc *p, char *const argv[], int timeout_ms)
{
	proc_start(p, argv, false);
	return proc_finish(p, timeout_ms);
}

/* A private temporary directory for one test's files. */
static inline const char *e2e_tmpdir(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/ttbpf-e2e.XXXXXX");
	cr_assert(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	chmod(dir, 0755);
	return dir;
}

static inline int e2e_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Removes a directory tree; symbolic links are removed, not followed. */
static inline void e2e_rmtree(const char *path)
{
	nftw(path, e2e_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A criterion suite whose every test gets its own fresh directory, `dir`,
 * removed after it; root: the tests need it (BPF), else they only read and
 * write files. */
#define E2E_SUITE_IN_DIR(name, root)                                             \
	static char dir[64];                                                     \
	static void e2e_suite_init(void)                                         \
	{                                                                        \
		if (root)                                                        \
			e2e_require_root();                                      \
		snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());                  \
	}                                                                        \
	static void e2e_suite_fini(void)                                         \
	{                                                                        \
		if (dir[0])                                                      \
			e2e_rmtree(dir);                                         \
	}                                                                        \
	TestSuite(name, .init = e2e_suite_init, .fini = e2e_suite_fini)

/* ttbpf's own status: a crash of ttbpf is a failure whatever the case. */
static inline void e2e_expect_no_crash(const struct proc *p)
{
	cr_expect(!WIFSIGNALED(p->status), "ttbpf was killed by signal %d; stderr:\n%s",
		  WIFSIGNALED(p->status) ? WTERMSIG(p->status) : 0, p->err);
}

/* The names in d are exactly those of want[] (NULL-terminated): a report is
 * complete or absent, and no temporary file is left behind. */
static inline void e2e_expect_dir_holds(const char *d, const char *const *want)
{
	struct dirent *e;
	size_t n = 0, i;
	DIR *dp = opendir(d);

	cr_assert(dp, "%s: %s", d, strerror(errno));
	while ((e = readdir(dp))) {
		bool known = false;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		for (i = 0; want[i]; i++)
			known |= !strcmp(e->d_name, want[i]);
		cr_expect(known, "unexpected file %s/%s (a temporary left behind?)", d, e->d_name);
		n++;
	}
	closedir(dp);
	for (i = 0; want[i]; i++)
		;
	cr_expect_eq(n, i, "%s holds %zu files, expected %zu", d, n, i);
}

/* The line of the "LINE-MARK: name" comment in a source file (tests run
 * from the repository root). */
static inline long long mark_line(const char *path, const char *name)
{
	char line[512], pat[128];
	long long n = 0;
	FILE *f = fopen(path, "r");

	cr_assert(f, "%s: %s (run from the repository root)", path, strerror(errno));
	snprintf(pat, sizeof(pat), "/* LINE-MARK: %s */", name);
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, pat)) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	cr_assert_fail("%s has no '%s'", path, pat);
	return 0;
}

static inline bool ends_with(const char *s, const char *suffix)
{
	size_t a = s ? strlen(s) : 0, b = strlen(suffix);

	return s && a >= b && !strcmp(s + a - b, suffix);
}

static inline const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* for string comparisons that must not crash on a missing field */
static inline const char *nz(const char *s)
{
	return s ? s : "(null)";
}

static inline json_t *load_json(const char *path)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);

	cr_assert(j, "%s: invalid JSON at line %d: %s", path, jerr.line, jerr.text);
	return j;
}

/*
 * ttbpf -q --json DIR/out.json [opts] -- FIXTURE [fx_args], which must exit
 * 0 within timeout_ms; its stdout (the fixture's) ends up in tt->out.
 * Returns the report. opts and fx_args: NULL-terminated, or NULL.
 */
static inline json_t *e2e_launch_json(struct proc *tt, const char *dir, char *const *opts,
				      const char *fixture, char *const *fx_args, int timeout_ms)
{
	char json[300], *argv[48];
	int n = 0, rc;

	snprintf(json, sizeof(json), "%s/out.json", dir);
	argv[n++] = (char *)e2e_tool();
	argv[n++] = "-q";
	argv[n++] = "--json";
	argv[n++] = json;
	while (opts && *opts && n < 40)
		argv[n++] = *opts++;
	argv[n++] = "--";
	argv[n++] = (char *)e2e_fixture(fixture);
	while (fx_args && *fx_args && n < 47)
		argv[n++] = *fx_args++;
	argv[n] = NULL;
	rc = run(tt, argv, timeout_ms);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s\nfixture's stdout:\n%s", rc, tt->err, tt->out);
	return load_json(json);
}


/* Integer at a '.'-separated path of object keys, e.g. "stats.lost_events". */
static inline long long jint(json_t *root, const char *path)
{
	char key[128], *dot, *k = key;
	json_t *v = root;

	snprintf(key, sizeof(key), "%s", path);
	while (v && k) {
		dot = strchr(k, '.');
		if (dot)
			*dot = '\0';
		v = json_object_get(v, k);
		k = dot ? dot + 1 : NULL;
	}
	cr_assert(v && json_is_integer(v), "JSON field %s missing or not an integer", path);
	return json_integer_value(v);
}

/* A small text file's contents (at most 64 KiB), valid until the next call. */
static inline const char *e2e_slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert(f, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* "key value" lines printed by the fixtures. */
static inline long long truth(const char *out, const char *key)
{
	char pat[64];
	const char *s;

	cr_assert(snprintf(pat, sizeof(pat), "\n%s ", key) < (int)sizeof(pat), "key too long: %s", key);
	if (!strncmp(out, pat + 1, strlen(pat + 1)))
		s = out + strlen(pat + 1);
	else if ((s = strstr(out, pat)))
		s += strlen(pat);
	else
		cr_assert_fail("fixture printed no '%s'; output:\n%s", key, out);
	return strtoll(s, NULL, 10);
}

/* Each report figure equals a fixture's tally: pairs of { JSON path (as
 * jint), key (as truth) }, ending with { NULL }. */
static inline void e2e_expect_tallies(json_t *j, const char *out, const char *const (*pairs)[2])
{
	for (; pairs[0][0]; pairs++)
		cr_expect_eq(jint(j, pairs[0][0]), truth(out, pairs[0][1]), "%s is not the fixture's %s",
			     pairs[0][0], pairs[0][1]);
}

#endif /* TT_E2E_H */
