// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: ttbpf's stacks against an independent unwinder, on code built
 * without frame pointers. tests/fixtures/sqlite_drive (-O2 -g, no frame
 * pointers) drives Debian's libsqlite3 (-O2, no frame pointers); in the same
 * test it runs once under `perf record --call-graph dwarf` (perf copies the
 * user stack at each probe hit and unwinds it afterwards with libdw from
 * .eh_frame) and once under ttbpf, and the two views of its allocations must
 * agree: the fraction that reaches the entry (_start), the median depth, the
 * chains of the top call sites (JSON and folded output).
 *
 * Aligning the two views. ttbpf counts the outermost call of each allocating
 * function it probes in libc (user/tracing/alloc_fns.c: malloc, calloc, realloc,
 * reallocarray, posix_memalign, aligned_alloc/memalign, valloc, pvalloc,
 * strdup, strndup); a call made inside one of them (strdup -> malloc,
 * realloc(NULL, n) -> malloc) is part of the outer call, and frame 0 is the
 * caller of the outer function. perf here probes exactly that set, by
 * address (memalign is aligned_alloc's alias: one address, one probe), at
 * entry with a DWARF call graph and at return without one; reading the
 * samples in time order with a depth per thread, as ttbpf's BPF side does,
 * keeps only the outermost entries. perf's frame 0 is the allocating
 * function itself: it is dropped, so perf's frame 1 lines up with ttbpf's
 * frame 0. Both views then hold the same calls of the same deterministic
 * program (allocations that fail would be in perf's and not in ttbpf's;
 * this fixture has none).
 *
 * Frames are those of the machine stack, one per return address: perf
 * script runs with --no-inline (perf 6.1's --inline renames and marks whole
 * functions "(inlined)": no reference), and the frames ttbpf adds for calls
 * inlined at an address ("inlined": true in the JSON, a "_[i]" suffix in
 * folded output) are left out of its view.
 *
 * Frames are compared by name: the symbol without its version suffix
 * (perf prints __libc_start_main@@GLIBC_2.34), or, where neither tool has
 * a symbol (libsqlite3's internal functions: Debian ships no .symtab),
 * "module+0xOFFSET" with OFFSET the ELF address of the return address, as
 * ttbpf's folded output writes it. perf prints the address of a caller
 * frame minus one (libdw's "pc - 1" for a return address); ttbpf's offset
 * is that of the return address itself: 1 is added to perf's.
 *
 * Checked: the number of outermost calls, the fraction reaching _start
 * (within 1 point), the median depth (equal), and each of the TOP_SITES
 * chains with the most calls in either view present in the other (ttbpf's
 * JSON and its folded output, --folded-weight count) with the same count,
 * give or take 2 calls or 1%: a walk ttbpf cuts now and then (3 of 29,751
 * in one run, end "cut") should not fail the test, a systematic one does.
 * Every chain counted differently is printed, with ttbpf's end when not
 * "root", and so is each view's summary.
 *
 * Probes are named ttcmpPID:ttcmpPID_{e,r}_FN (perf probe wants event names
 * unique across groups) and deleted at the end, also when an assertion
 * stops the test; groups left by a killed run of this test (its pid gone)
 * are deleted before. Needs perf (linux-perf): without it the test skips,
 * except under CI=true, where it fails.
 */
#include <limits.h>
#include "e2e.h"

#define FIXTURE "sqlite_drive"
#define ROWS "3000"
/* 8 KiB was enough for every stack of this fixture (all reached _start);
 * twice that, for margin. The buffer holds a whole run (~30k samples of
 * 16 KiB): perf lost 85% of the samples with 64M. */
#define PERF_STACK_BYTES "16384"
#define PERF_MMAP "1G"
#define TOP_SITES 8
/* the sqlite3 shell's work: a 3,000-row table, an index, lookups, a sort */
#define SHELL_SQL                                                                        \
	"CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT, tag TEXT);"                        \
	"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000) " \
	"INSERT INTO t(k, v, tag) SELECT x, printf('name-%08d', x * 7919 % 3001), "      \
	"'tag' || (x % 17) FROM c;"                                                       \
	"CREATE INDEX tv ON t(v);"                                                        \
	"SELECT count(*) FROM t WHERE v LIKE 'name-0001%';"                               \
	"SELECT tag, count(*), max(v) FROM t GROUP BY tag ORDER BY 2 DESC;"               \
	"SELECT v FROM t ORDER BY v DESC LIMIT 5;"
#define MIN_ALLOCS 10000
#define RUN_TIMEOUT_MS 120000
#define TRACEFS "/sys/kernel/tracing"

static const char *const probed_fns[] = {
	"malloc", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc",
	"memalign", "valloc", "pvalloc", "strdup", "strndup",
};
#define PROBED_CNT (sizeof(probed_fns) / sizeof(probed_fns[0]))

static char group[32];
static bool probes_added;
static char dir[256];

/* ------------------------------------------------------------ processes */

static const char *perf_path(void)
{
	static char path[512];
	const char *p = getenv("PATH");
	char *copy, *tok, *save = NULL;

	if (path[0])
		return path;
	copy = strdup(p ? p : "/usr/bin:/bin");
	cr_assert(copy);
	for (tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s/perf", tok);
		if (!access(path, X_OK))
			break;
		path[0] = '\0';
	}
	free(copy);
	return path[0] ? path : NULL;
}

/* Runs argv with stdout and stderr to files (perf script prints tens of MB,
 * more than struct proc keeps); returns the exit status as a shell shows it. */
static int run_to_files(char *const argv[], const char *out_path, const char *err_path,
			int timeout_ms)
{
	uint64_t end = e2e_now_ms() + (uint64_t)timeout_ms;
	int status = 0;
	pid_t pid = fork(), r;

	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (in < 0 || out < 0 || err < 0)
			_exit(125);
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(126);
	}
	while ((r = waitpid(pid, &status, WNOHANG)) == 0) {
		if (e2e_now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			cr_assert_fail("%s did not finish within %d ms", argv[0], timeout_ms);
		}
		usleep(20000);
	}
	cr_assert(r == pid, "waitpid: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	cr_assert(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	cr_assert(buf);
	cr_assert(fread(buf, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	return buf;
}

/* ------------------------------------------------------------ perf probes */

static void delete_group(const char *g)
{
	char spec[64], out[320], err[320];
	char *argv[] = { (char *)perf_path(), "probe", "-q", "-d", spec, NULL };

	snprintf(spec, sizeof(spec), "%s:*", g);
	snprintf(out, sizeof(out), "%s/probe-del.out", dir[0] ? dir : "/tmp");
	snprintf(err, sizeof(err), "%s/probe-del.err", dir[0] ? dir : "/tmp");
	run_to_files(argv, out, err, 30000);
	unlink(out);
	unlink(err);
}

/* Groups named ttcmpPID whose process is gone: left by a run that was killed. */
static void delete_stale_groups(void)
{
	char line[1024], stale[64][32];
	size_t n = 0, i;
	FILE *f = fopen(TRACEFS "/uprobe_events", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && n < 64) {
		char g[32];
		int pid;

		if (sscanf(line, "%*[pr]:%31[^/]/", g) != 1 || sscanf(g, "ttcmp%d", &pid) != 1)
			continue;
		if (pid == getpid() || !kill(pid, 0) || errno != ESRCH)
			continue;
		for (i = 0; i < n && strcmp(stale[i], g); i++)
			;
		if (i == n)
			snprintf(stale[n++], sizeof(stale[0]), "%s", g);
	}
	fclose(f);
	for (i = 0; i < n; i++)
		delete_group(stale[i]);
}

/* The libc the fixture loads, as ldd says; libc holds PATH_MAX bytes. */
static void fixture_libc(const char *exe, char *libc)
{
	char out[320], err[320], *text, *line, *save = NULL;
	char *argv[] = { "ldd", (char *)exe, NULL };

	snprintf(out, sizeof(out), "%s/ldd.out", dir);
	snprintf(err, sizeof(err), "%s/ldd.err", dir);
	cr_assert_eq(run_to_files(argv, out, err, 30000), 0, "ldd %s failed", exe);
	text = slurp(out);
	libc[0] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], path[512];

		if (sscanf(line, " %127s => %511s", name, path) == 2 && !strcmp(name, "libc.so.6")) {
			cr_assert(realpath(path, libc), "realpath %s: %s", path, strerror(errno));
			break;
		}
	}
	free(text);
	cr_assert(libc[0], "ldd %s names no libc.so.6", exe);
}

/* Address of each probed function in libc's dynamic symbols (0: absent). */
static void libc_addrs(const char *libc, unsigned long long *addr)
{
	char out[320], err[320], *text, *line, *save = NULL;
	char *argv[] = { "nm", "-D", "--defined-only", (char *)libc, NULL };
	size_t i;

	snprintf(out, sizeof(out), "%s/nm.out", dir);
	snprintf(err, sizeof(err), "%s/nm.err", dir);
	cr_assert_eq(run_to_files(argv, out, err, 30000), 0, "nm -D %s failed (binutils)", libc);
	text = slurp(out);
	memset(addr, 0, PROBED_CNT * sizeof(*addr));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char type, name[256], *at;
		unsigned long long a;

		if (sscanf(line, "%llx %c %255s", &a, &type, name) != 3 || (type != 'T' && type != 'W'))
			continue;
		at = strchr(name, '@');
		if (at)
			*at = '\0';
		for (i = 0; i < PROBED_CNT; i++)
			if (!strcmp(name, probed_fns[i]))
				addr[i] = a;
	}
	free(text);
	cr_assert(addr[0], "no malloc in %s's dynamic symbols", libc);
}

/*
 * Adds an entry and a return probe on each probed function, one per
 * address (aliases once). By address: given a name, perf probe looks the
 * function up in libc's DWARF and also puts return probes on its .cold
 * part, where the word at the stack pointer is no return address. The
 * addresses are ELF addresses; perf probe -x takes them as such.
 */
static void add_probes(const char *libc)
{
	unsigned long long addr[PROBED_CNT];
	char *argv[3 + 4 * PROBED_CNT + 2], specs[2 * PROBED_CNT][128], out[320], err[320];
	size_t i, k, n = 0, s = 0;
	int rc;

	libc_addrs(libc, addr);
	argv[n++] = (char *)perf_path();
	argv[n++] = "probe";
	argv[n++] = "-q";
	argv[n++] = "-x";
	argv[n++] = (char *)libc;
	for (i = 0; i < PROBED_CNT; i++) {
		if (!addr[i])
			continue;
		for (k = 0; k < i && addr[k] != addr[i]; k++)
			;
		if (k < i)
			continue; /* an alias of an earlier one */
		snprintf(specs[s], sizeof(specs[0]), "%s:%s_e_%s=0x%llx", group, group, probed_fns[i],
			 addr[i]);
		argv[n++] = "-a";
		argv[n++] = specs[s++];
		snprintf(specs[s], sizeof(specs[0]), "%s:%s_r_%s=0x%llx%%return", group, group,
			 probed_fns[i], addr[i]);
		argv[n++] = "-a";
		argv[n++] = specs[s++];
	}
	argv[n] = NULL;
	snprintf(out, sizeof(out), "%s/probe.out", dir);
	snprintf(err, sizeof(err), "%s/probe.err", dir);
	probes_added = true; /* some may be in even if perf fails */
	rc = run_to_files(argv, out, err, 60000);
	if (rc) {
		char *e = slurp(err);

		cr_assert_fail("perf probe -x %s failed (%d):\n%s", libc, rc, e);
	}
}

/* The events of the group, as perf named them: "-e G:EV" for entries,
 * "-e G:EV/call-graph=no/" for returns. */
static size_t event_args(char **argv, size_t max)
{
	char path[256], prefix[64];
	struct dirent *e;
	size_t n = 0, entries = 0;
	DIR *d;

	snprintf(path, sizeof(path), TRACEFS "/events/%s", group);
	d = opendir(path);
	cr_assert(d, "%s: %s (perf probe added no event?)", path, strerror(errno));
	snprintf(prefix, sizeof(prefix), "%s_", group);
	while ((e = readdir(d))) {
		char buf[320];
		bool ret;

		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		ret = e->d_name[strlen(prefix)] == 'r';
		cr_assert(n + 2 <= max);
		snprintf(buf, sizeof(buf), "%s:%s%s", group, e->d_name, ret ? "/call-graph=no/" : "");
		argv[n++] = "-e";
		argv[n++] = strdup(buf);
		entries += !ret;
	}
	closedir(d);
	cr_assert_geq(entries, 1, "no entry probe in %s", path);
	return n;
}

static void setup(void)
{
	const char *ci = getenv("CI");

	e2e_require_root();
	if (!perf_path()) {
		if (ci && !strcmp(ci, "true"))
			cr_assert_fail("perf is not installed (linux-perf; scripts/install-deps.sh installs it); under CI=true this test must run");
		cr_skip_test("perf is not installed: install linux-perf (scripts/install-deps.sh)");
	}
	cr_assert(!access(TRACEFS "/uprobe_events", W_OK), TRACEFS " is not mounted or not writable");
	snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());
	snprintf(group, sizeof(group), "ttcmp%d", (int)getpid());
	delete_stale_groups();
}

static void teardown(void)
{
	if (probes_added)
		delete_group(group);
	probes_added = false;
}

/* ------------------------------------------------------------ views */

/* Calls with one chain of frame names (innermost first, ';'-joined). */
struct chain {
	char *names;
	unsigned long long cnt;
	size_t depth;
	bool at_entry; /* the outermost frame is _start (ttbpf: and end "root") */
};

struct view {
	const char *name;
	struct chain *v;
	size_t n, cap;
	unsigned long long total;
};

/* The program's file name: its frames without a symbol are "NAME+0x..." */
static char exe_base[256];

/*
 * A chain of names, innermost first, that reaches the program's entry:
 * __libc_start_main, then _start, or, in a stripped program (Debian's
 * binaries have no .symtab), the one frame of the program after it.
 */
static bool reaches_entry(const char *names)
{
	const char *last = strrchr(names, ';'), *prev;
	size_t n = strlen(exe_base);

	if (!last || last == names)
		return false;
	for (prev = last - 1; prev > names && prev[-1] != ';'; prev--)
		;
	if ((size_t)(last - prev) != strlen("__libc_start_main") ||
	    strncmp(prev, "__libc_start_main", (size_t)(last - prev)))
		return false;
	last++;
	return !strcmp(last, "_start") || (!strncmp(last, exe_base, n) && !strncmp(last + n, "+0x", 3));
}

static void view_add(struct view *w, const char *names, unsigned long long cnt, size_t depth,
		     bool at_entry)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 1024;
		w->v = realloc(w->v, w->cap * sizeof(*w->v));
		cr_assert(w->v);
	}
	w->v[w->n++] = (struct chain){ strdup(names), cnt, depth, at_entry };
	cr_assert(w->v[w->n - 1].names);
	w->total += cnt;
}

static void view_free(struct view *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free(w->v[i].names);
	free(w->v);
	memset(w, 0, sizeof(*w));
}

static int by_names(const void *a, const void *b)
{
	return strcmp(((const struct chain *)a)->names, ((const struct chain *)b)->names);
}

static int by_count(const void *a, const void *b)
{
	const struct chain *x = a, *y = b;

	if (x->cnt != y->cnt)
		return x->cnt < y->cnt ? 1 : -1;
	return strcmp(x->names, y->names);
}

static int by_depth(const void *a, const void *b)
{
	const struct chain *x = a, *y = b;

	return x->depth < y->depth ? -1 : x->depth > y->depth;
}

/* One entry per chain, counts summed, by count (highest first). */
static void view_merge(struct view *w)
{
	size_t i, n = 0;

	qsort(w->v, w->n, sizeof(*w->v), by_names);
	for (i = 0; i < w->n; i++) {
		if (n && !strcmp(w->v[n - 1].names, w->v[i].names)) {
			w->v[n - 1].cnt += w->v[i].cnt;
			free(w->v[i].names);
			continue;
		}
		w->v[n++] = w->v[i];
	}
	w->n = n;
	qsort(w->v, w->n, sizeof(*w->v), by_count);
}

static double at_entry_fraction(const struct view *w)
{
	unsigned long long at = 0;
	size_t i;

	for (i = 0; i < w->n; i++)
		at += w->v[i].at_entry ? w->v[i].cnt : 0;
	return w->total ? (double)at / (double)w->total : 0;
}

/* Depth of the call at rank (total - 1) / 2 in depth order, each call
 * counted once. */
static size_t median_depth(struct view *w)
{
	unsigned long long want = w->total ? (w->total - 1) / 2 : 0, seen = 0;
	size_t i;

	qsort(w->v, w->n, sizeof(*w->v), by_depth);
	for (i = 0; i < w->n; i++) {
		seen += w->v[i].cnt;
		if (seen > want)
			return w->v[i].depth;
	}
	return 0;
}

static const struct chain *find_chain(const struct view *w, const char *names)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (!strcmp(w->v[i].names, names))
			return &w->v[i];
	return NULL;
}

/* Same calls in two runs of a deterministic program: equal counts, with a
 * little slack for anything outside the unwinders (it has needed none). */
static bool counts_agree(unsigned long long a, unsigned long long b)
{
	unsigned long long d = a > b ? a - b : b - a, big = a > b ? a : b;

	return d <= 2 || d * 100 <= big;
}

/* A frame's name: the symbol up to any '@' (symbol versions), else
 * "module-basename+0xOFFSET", else "0xIP". */
static void frame_name(char *buf, size_t len, const char *sym, const char *module,
		       unsigned long long off)
{
	const char *base;

	if (sym && sym[0] && strcmp(sym, "[unknown]")) {
		snprintf(buf, len, "%.*s", (int)strcspn(sym, "@"), sym);
		return;
	}
	if (module && module[0] && strcmp(module, "[unknown]")) {
		base = strrchr(module, '/');
		snprintf(buf, len, "%s+0x%llx", base ? base + 1 : module, off);
		return;
	}
	snprintf(buf, len, "0x%llx", off);
}

static void append(char **s, size_t *len, size_t *cap, const char *name)
{
	size_t need = strlen(name) + 2;

	if (*len + need > *cap) {
		*cap = (*len + need) * 2;
		*s = realloc(*s, *cap);
		cr_assert(*s);
	}
	if (*len)
		(*s)[(*len)++] = ';';
	memcpy(*s + *len, name, need - 1);
	*len += need - 2;
	(*s)[*len] = '\0';
}

/* ------------------------------------------------------------ perf's view */

struct tid_depth {
	long tid;
	int depth;
};

static int *depth_of(struct tid_depth *t, size_t *n, long tid)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (t[i].tid == tid)
			return &t[i].depth;
	cr_assert(*n < 256, "more than 256 threads");
	t[*n] = (struct tid_depth){ tid, 0 };
	return &t[(*n)++].depth;
}

/*
 * perf script -F tid,event,ip,sym,dso: a header line "TID GROUP:EVENT:",
 * for entries then one line per frame, "\tADDR SYM (DSO)", and a blank line.
 * The outermost entries are kept, without their frame 0.
 */
static void parse_perf(const char *path, struct view *w, unsigned long long *raw_entries)
{
	char *line = NULL, *names = NULL, ev_prefix[80], name[512];
	size_t cap = 0, nlen = 0, ncap = 0, frames = 0, ntids = 0;
	struct tid_depth tids[256];
	bool collecting = false;
	FILE *f = fopen(path, "r");
	ssize_t r;

	cr_assert(f, "%s: %s", path, strerror(errno));
	snprintf(ev_prefix, sizeof(ev_prefix), " %s:%s_", group, group);
	*raw_entries = 0;
	while ((r = getline(&line, &cap, f)) >= 0) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\t') {
			unsigned long long addr;
			char *p = line, *open, *close;
			int used = 0;

			if (!collecting)
				continue;
			if (sscanf(p, " %llx %n", &addr, &used) != 1 || !used)
				cr_assert_fail("perf script: unexpected frame line '%s'", line);
			p += used;
			open = strrchr(p, '(');
			close = open ? strrchr(open, ')') : NULL;
			cr_assert(open && close && open > p, "perf script: no (dso) in '%s'", line);
			open[-1] = '\0';
			*close = '\0';
			/* frame 0 is the allocating function; the others are
			 * return addresses less one */
			if (frames++ == 0)
				continue;
			frame_name(name, sizeof(name), p, open + 1, addr + 1);
			append(&names, &nlen, &ncap, name);
			continue;
		}
		if (line[0] == '\0') {
			if (collecting)
				view_add(w, names ? names : "", 1, frames ? frames - 1 : 0,
					 reaches_entry(names ? names : ""));
			collecting = false;
			continue;
		}
		{
			char *ev = strstr(line, ev_prefix);
			long tid = strtol(line, NULL, 10);
			int *depth;
			char kind;

			if (!ev)
				continue; /* mmap and other records */
			kind = ev[strlen(ev_prefix)];
			depth = depth_of(tids, &ntids, tid);
			if (kind == 'r') {
				if (*depth > 0)
					(*depth)--;
				collecting = false;
				continue;
			}
			cr_assert(kind == 'e', "perf script: unknown event in '%s'", line);
			(*raw_entries)++;
			collecting = *depth == 0;
			(*depth)++;
			nlen = 0;
			if (names)
				names[0] = '\0';
			frames = 0;
		}
	}
	if (collecting)
		view_add(w, names ? names : "", 1, frames ? frames - 1 : 0,
			 reaches_entry(names ? names : ""));
	free(line);
	free(names);
	fclose(f);
}

/* ------------------------------------------------------------ ttbpf's view */

static void parse_ttbpf_json(json_t *j, struct view *w)
{
	json_t *stacks = json_object_get(j, "stacks"), *s;
	char *names = NULL, name[512];
	size_t i, nlen, ncap = 0;

	cr_assert(json_is_array(stacks), "no stacks array in ttbpf's report");
	json_array_foreach(stacks, i, s) {
		json_t *frames = json_object_get(s, "frames"), *fr;
		const char *end = json_string_value(json_object_get(s, "end"));
		long long cnt = json_integer_value(json_object_get(s, "allocations"));
		size_t k;

		if (cnt <= 0)
			continue;
		nlen = 0;
		if (names)
			names[0] = '\0';
		name[0] = '\0';
		size_t depth = 0;

		json_array_foreach(frames, k, fr) {
			const char *sym = json_string_value(json_object_get(fr, "symbol"));
			const char *mod = json_string_value(json_object_get(fr, "module"));
			unsigned long long off =
				(unsigned long long)json_integer_value(json_object_get(fr, "offset"));

			if (json_is_true(json_object_get(fr, "inlined")))
				continue; /* no frame of the machine stack: see the top */
			depth++;
			if (!sym && !mod)
				off = strtoull(json_string_value(json_object_get(fr, "ip")) ?: "0", NULL, 16);
			frame_name(name, sizeof(name), sym, mod, off);
			append(&names, &nlen, &ncap, name);
		}
		/* as folded output's "[partial stack]": such a chain matches no
		 * whole one, and says how it ended */
		if (end && strcmp(end, "root")) {
			char mark[64];

			snprintf(mark, sizeof(mark), "[end %s]", end);
			append(&names, &nlen, &ncap, mark);
		}
		view_add(w, names ? names : "", (unsigned long long)cnt, depth,
			 end && !strcmp(end, "root") && reaches_entry(names ? names : ""));
	}
	free(names);
}

/* "outer;...;inner COUNT" lines; a "[partial stack]" or "[depth limit]"
 * prefix stays as the outermost name, so such a chain matches no full one. */
static void parse_folded(const char *path, struct view *w)
{
	char *line = NULL, *names = NULL;
	size_t cap = 0, ncap = 0, nlen;
	FILE *f = fopen(path, "r");

	cr_assert(f, "%s: %s", path, strerror(errno));
	while (getline(&line, &cap, f) >= 0) {
		char *sp, *parts[256], *save = NULL, *tok, name[512];
		size_t n = 0, k;
		unsigned long long cnt;

		line[strcspn(line, "\n")] = '\0';
		sp = strrchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		cnt = strtoull(sp + 1, NULL, 10);
		for (tok = strtok_r(line, ";", &save); tok && n < 256; tok = strtok_r(NULL, ";", &save))
			parts[n++] = tok;
		nlen = 0;
		if (names)
			names[0] = '\0';
		for (k = n; k-- > 0;) {
			size_t len = strlen(parts[k]);

			if (len >= 4 && !strcmp(parts[k] + len - 4, "_[i]"))
				continue; /* an inlined frame */
			snprintf(name, sizeof(name), "%.*s", (int)strcspn(parts[k], "@"), parts[k]);
			append(&names, &nlen, &ncap, name);
		}
		view_add(w, names ? names : "", cnt, n, reaches_entry(names ? names : ""));
	}
	free(line);
	free(names);
	fclose(f);
}

/* ------------------------------------------------------------ the test */

/* Chains whose counts differ between the views (at most max lines): what
 * to look at when a figure disagrees, or a chain beyond the top ones. */
static void print_differences(const struct view *a, const struct view *b, size_t max)
{
	size_t i, shown = 0, differ = 0;

	for (i = 0; i < a->n; i++) {
		const struct chain *o = find_chain(b, a->v[i].names);

		if (o && o->cnt == a->v[i].cnt)
			continue;
		differ++;
		if (shown++ < max)
			fprintf(stderr, "  %s %llu, %s %llu: %s\n", a->name, a->v[i].cnt, b->name,
				o ? o->cnt : 0, a->v[i].names);
	}
	for (i = 0; i < b->n; i++) {
		if (find_chain(a, b->v[i].names))
			continue;
		differ++;
		if (shown++ < max)
			fprintf(stderr, "  %s 0, %s %llu: %s\n", a->name, b->name, b->v[i].cnt,
				b->v[i].names);
	}
	fprintf(stderr, "%zu chains counted differently by %s and %s\n", differ, a->name, b->name);
}

static void print_view(const char *what, struct view *w, size_t top)
{
	size_t i;
	double frac = at_entry_fraction(w);
	size_t med = median_depth(w);

	qsort(w->v, w->n, sizeof(*w->v), by_count);
	fprintf(stderr, "%s: %llu calls, %zu chains, %.2f%% reach _start, median depth %zu\n", what,
		w->total, w->n, 100 * frac, med);
	for (i = 0; i < top && i < w->n; i++)
		fprintf(stderr, "  %6llu  %s\n", w->v[i].cnt, w->v[i].names);
}

/* exe with args (NULL-terminated, at most 8) under perf, then under ttbpf. */
static void compare_with_perf(const char *exe, char *const *args)
{
	char libc[PATH_MAX], data[320], script_out[320], script_err[320], rec_out[320], rec_err[320];
	char json_path[320], folded_path[320], *rec_argv[64], *script_argv[16], *err;
	const char *base = strrchr(exe, '/');
	struct view perf = { "perf" }, tt = { "ttbpf" }, folded = { "ttbpf --folded" };
	unsigned long long raw_entries;
	double perf_frac, tt_frac;
	size_t n = 0, i, perf_med, tt_med;
	struct proc p;
	json_t *j;
	int rc;

	cr_assert(!access(exe, X_OK), "%s is not there (make fixtures; install-deps)", exe);
	snprintf(exe_base, sizeof(exe_base), "%s", base ? base + 1 : exe);
	fixture_libc(exe, libc);
	add_probes(libc);

	/* (a) perf */
	snprintf(data, sizeof(data), "%s/perf.data", dir);
	snprintf(rec_out, sizeof(rec_out), "%s/record.out", dir);
	snprintf(rec_err, sizeof(rec_err), "%s/record.err", dir);
	rec_argv[n++] = (char *)perf_path();
	rec_argv[n++] = "record";
	rec_argv[n++] = "-q";
	rec_argv[n++] = "-o";
	rec_argv[n++] = data;
	rec_argv[n++] = "-m";
	rec_argv[n++] = PERF_MMAP;
	rec_argv[n++] = "--call-graph";
	rec_argv[n++] = "dwarf," PERF_STACK_BYTES;
	n += event_args(rec_argv + n, 64 - n - 5);
	rec_argv[n++] = "--";
	rec_argv[n++] = (char *)exe;
	for (i = 0; args[i] && i < 8; i++)
		rec_argv[n++] = args[i];
	rec_argv[n] = NULL;
	rc = run_to_files(rec_argv, rec_out, rec_err, RUN_TIMEOUT_MS);
	err = slurp(rec_err);
	cr_assert_eq(rc, 0, "perf record failed (%d):\n%s", rc, err);
	cr_assert(!strstr(err, "lost") && !strstr(err, "LOST"), "perf record lost samples:\n%s", err);
	free(err);

	snprintf(script_out, sizeof(script_out), "%s/script.out", dir);
	snprintf(script_err, sizeof(script_err), "%s/script.err", dir);
	n = 0;
	script_argv[n++] = (char *)perf_path();
	script_argv[n++] = "script";
	script_argv[n++] = "-i";
	script_argv[n++] = data;
	script_argv[n++] = "--no-inline";
	script_argv[n++] = "-F";
	script_argv[n++] = "tid,event,ip,sym,dso";
	script_argv[n] = NULL;
	rc = run_to_files(script_argv, script_out, script_err, RUN_TIMEOUT_MS);
	unlink(data); /* ~0.5 GB */
	err = slurp(script_err);
	cr_assert_eq(rc, 0, "perf script failed (%d):\n%s", rc, err);
	cr_assert(!strstr(err, "lost"), "perf lost samples (raise -m):\n%s", err);
	free(err);
	teardown(); /* the probes are no longer needed: ttbpf traces alone */

	parse_perf(script_out, &perf, &raw_entries);
	unlink(script_out);
	view_merge(&perf);
	fprintf(stderr, "perf: %llu entry samples, %llu outermost calls\n", raw_entries, perf.total);
	print_view("perf --call-graph dwarf", &perf, TOP_SITES);
	cr_assert_geq(perf.total, MIN_ALLOCS, "perf saw %llu outermost allocating calls",
		      perf.total);
	perf_frac = at_entry_fraction(&perf);
	/* the reference itself: a stack copy too small would cut perf's stacks */
	cr_assert_geq(perf_frac, 0.99, "only %.2f%% of perf's stacks reach _start: is %s bytes of stack enough?",
		      100 * perf_frac, PERF_STACK_BYTES);

	/* (b) ttbpf */
	snprintf(json_path, sizeof(json_path), "%s/ttbpf.json", dir);
	snprintf(folded_path, sizeof(folded_path), "%s/ttbpf.folded", dir);
	{
		char *argv[24] = { (char *)e2e_tool(), "-q", "--stack-depth", "128", "-j", json_path,
				   "--folded", folded_path, "--folded-weight", "count", "--",
				   (char *)exe };

		for (i = 0; args[i] && i < 8; i++)
			argv[12 + i] = args[i];

		rc = run(&p, argv, RUN_TIMEOUT_MS);
		e2e_expect_no_crash(&p);
		cr_assert_eq(rc, 0, "ttbpf failed (%d):\n%s", rc, p.err);
		proc_free(&p);
	}
	j = load_json(json_path);
	cr_assert_eq(jint(j, "stats.lost_events"), 0, "ttbpf lost events");
	cr_assert_eq(jint(j, "stacks_dropped"), 0, "ttbpf dropped stacks");
	parse_ttbpf_json(j, &tt);
	cr_expect_eq(tt.total, (unsigned long long)jint(j, "total_allocations"),
		     "the stacks hold %llu allocations, the report %lld", tt.total,
		     jint(j, "total_allocations"));
	json_decref(j);
	parse_folded(folded_path, &folded);

	view_merge(&tt);
	view_merge(&folded);
	print_view("ttbpf", &tt, TOP_SITES);
	print_differences(&perf, &tt, 20);
	perf_med = median_depth(&perf);
	tt_med = median_depth(&tt);
	tt_frac = at_entry_fraction(&tt);
	qsort(perf.v, perf.n, sizeof(*perf.v), by_count);
	qsort(tt.v, tt.n, sizeof(*tt.v), by_count);

	cr_expect(counts_agree(perf.total, tt.total),
		  "perf saw %llu outermost allocating calls, ttbpf %llu", perf.total, tt.total);
	cr_expect(tt_frac >= perf_frac - 0.01 && tt_frac <= perf_frac + 0.01,
		  "%.2f%% of ttbpf's allocations reach _start (end root), %.2f%% of perf's",
		  100 * tt_frac, 100 * perf_frac);
	cr_expect_eq(tt_med, perf_med, "median depth: ttbpf %zu, perf %zu", tt_med, perf_med);

	/* the top call sites, each way round: same chain, same count */
	for (i = 0; i < TOP_SITES && i < perf.n; i++) {
		const struct chain *c = &perf.v[i], *t = find_chain(&tt, c->names);
		const struct chain *fo = find_chain(&folded, c->names);

		cr_expect(t && counts_agree(t->cnt, c->cnt),
			  "perf's #%zu chain (%llu calls) has %llu in ttbpf's JSON: %s", i + 1, c->cnt,
			  t ? t->cnt : 0, c->names);
		cr_expect(fo && counts_agree(fo->cnt, c->cnt),
			  "perf's #%zu chain (%llu calls) has %llu in ttbpf's folded output: %s", i + 1,
			  c->cnt, fo ? fo->cnt : 0, c->names);
	}
	for (i = 0; i < TOP_SITES && i < tt.n; i++) {
		const struct chain *t = &tt.v[i], *c = find_chain(&perf, t->names);

		cr_expect(c && counts_agree(t->cnt, c->cnt),
			  "ttbpf's #%zu chain (%llu calls) has %llu in perf's: %s", i + 1, t->cnt,
			  c ? c->cnt : 0, t->names);
	}
	view_free(&perf);
	view_free(&tt);
	view_free(&folded);
	e2e_rmtree(dir);
}

Test(perf_compare, sqlite_stacks_match_perf_dwarf, .init = setup, .fini = teardown,
     .timeout = 600)
{
	char *args[] = { ROWS, NULL };

	compare_with_perf(e2e_fixture(FIXTURE), args);
}

/*
 * A Debian binary nobody here built: the sqlite3 shell (stripped: frames of
 * its own without a symbol compare as sqlite3+0xOFFSET, its entry as the
 * frame after __libc_start_main) on the same kind of work as the fixture.
 */
Test(perf_compare, debian_sqlite3_shell_matches_perf_dwarf, .init = setup, .fini = teardown,
     .timeout = 600)
{
	char *args[] = { ":memory:", SHELL_SQL, NULL };

	compare_with_perf("/usr/bin/sqlite3", args);
}
