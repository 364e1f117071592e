// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: ttbpf where Linux namespaces make the machine hostile, made
 * for real with util-linux (unshare, mount, pivot_root):
 *
 *  - the target is PID 1 of a container: PID and mount namespaces of its
 *    own and a root of its own (pivot_root, as container runtimes do), which
 *    holds copies of the fixture and of its libraries at paths the host does
 *    not have (/ttbpf-ns/...). ttbpf -p must find the libc, probe it and
 *    symbolize the frames through the target (/proc/PID/root, map_files):
 *    nothing it needs exists under those names on its side;
 *  - a kernel without BTF: an empty tmpfs over /sys/kernel/btf, in a mount
 *    namespace of ttbpf's own (libbpf finds no vmlinux BTF);
 *  - a kernel without uprobes: an empty tmpfs over the uprobe PMU's sysfs
 *    directory and over tracefs (libbpf's fallback, uprobe_events), and a
 *    seccomp filter that refuses BPF links (so no uprobe_multi link, which
 *    needs neither).
 *
 * A refusal is exit status 1 with one line naming the cause, no crash, no
 * report nor temporary file, and in launch mode a command that never ran;
 * in attach mode a target that runs on unharmed.
 *
 * Fixture: tests/fixtures/ns_target.c. Every test ends its processes and
 * removes its files even after a failed assertion (.fini); the namespaces
 * and their mounts go with their processes. (After a criterion timeout,
 * which kills the test's process, the fixtures still end: their stdin
 * closes; and ttbpf ends with its target.)
 */
#include <limits.h>
#include <libgen.h>
#include <stddef.h>
#include <linux/audit.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include "e2e.h"

#define TRACE_TIMEOUT_MS 60000
#define REFUSE_TIMEOUT_MS 30000
/* the container's own files, inside it: the host must not have this path */
#define CT_DIR "/ttbpf-ns"
#define CT_EXE CT_DIR "/ns_target"
#define CT_LIB CT_DIR "/lib"
#define UPROBE_PMU "/sys/bus/event_source/devices/uprobe"

static char dir[256];
static struct proc *started[4]; /* ended by cleanup(), last first */
static int nstarted;

static void setup_dir(void)
{
	e2e_require_root();
	snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());
}

static void start(struct proc *p, char *const argv[], bool want_stdin)
{
	cr_assert(nstarted < (int)(sizeof(started) / sizeof(started[0])));
	proc_start(p, argv, want_stdin);
	started[nstarted++] = p;
}

/* .fini of every test: kills what still runs (an unshare takes its
 * namespace's init with it: --kill-child), removes the files */
static void cleanup(void)
{
	while (nstarted > 0)
		proc_free(started[--nstarted]);
	if (dir[0])
		e2e_rmtree(dir);
	dir[0] = '\0';
}

static void path_in(char *buf, size_t len, const char *d, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", d, name);

	cr_assert(n > 0 && (size_t)n < len, "path too long: %s/%s", d, name);
}

static void read_text(const char *path, char *buf, size_t len)
{
	ssize_t n, got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	while ((n = read(fd, buf + got, len - 1 - (size_t)got)) > 0)
		got += n;
	close(fd);
	cr_assert(n == 0, "%s: %s", path, strerror(errno));
	buf[got] = '\0';
}

/* ---- the container ---------------------------------------------------------- */

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY | O_CLOEXEC), out;

	cr_assert(in >= 0, "%s: %s", from, strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	cr_assert(out >= 0, "%s: %s", to, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		cr_assert_eq(write(out, buf, (size_t)n), n, "%s: %s", to, strerror(errno));
	cr_assert_eq(n, 0, "%s: %s", from, strerror(errno));
	close(in);
	cr_assert_eq(close(out), 0, "%s: %s", to, strerror(errno));
}

/* mkdir -p of the directory that will hold path */
static void make_parents(const char *path)
{
	char buf[PATH_MAX], *s;

	snprintf(buf, sizeof(buf), "%s", path);
	for (s = strchr(buf + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		cr_assert(!mkdir(buf, 0755) || errno == EEXIST, "mkdir %s: %s", buf, strerror(errno));
		*s = '/';
	}
}

/* Copies the libraries exe needs (as ldd finds them) into root: each under
 * CT_LIB, the dynamic loader where its PT_INTERP says. Returns how many. */
static int copy_libraries(const char *exe, const char *root)
{
	char *argv[] = { "ldd", (char *)exe, NULL }, *line, *save, from[PATH_MAX], to[PATH_MAX * 2];
	struct proc p;
	int n = 0, rc;

	rc = run(&p, argv, 30000);
	cr_assert_eq(rc, 0, "ldd %s exited %d:\n%s", exe, rc, p.err);
	for (line = strtok_r(p.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *arrow = strstr(line, "=> ");

		/* "libc.so.6 => /lib/.../libc.so.6 (0x...)", "/lib64/ld-linux... (0x...)";
		 * the vDSO has no file */
		if (sscanf(arrow ? arrow + 3 : line, " %4095s", from) != 1 || from[0] != '/')
			continue;
		if (arrow)
			snprintf(to, sizeof(to), "%s" CT_LIB "/%s", root, basename(from));
		else
			snprintf(to, sizeof(to), "%s%s", root, from);
		make_parents(to);
		copy_file(from, to);
		n++;
	}
	proc_free(&p);
	return n;
}

/*
 * The container's init: run by `unshare --pid --mount --fork` as PID 1 of
 * the new namespaces, with its root as $1. It makes the root a mount point,
 * pivots into it (the host's root stays mounted at /.old, unused), and
 * becomes the fixture.
 */
static const char ct_init[] = "set -e; mount --bind \"$1\" \"$1\"; cd \"$1\"; pivot_root . .old; "
			      "cd /; LD_LIBRARY_PATH=" CT_LIB " exec " CT_EXE;

/* The one child of pid: the container's init, seen from the host. */
static pid_t only_child(pid_t pid)
{
	char path[64], buf[256], *end;
	long child;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	read_text(path, buf, sizeof(buf));
	child = strtol(buf, &end, 10);
	cr_assert(child > 0 && (*end == '\0' || !strcmp(end, " ")),
		  "unshare (pid %d) has children '%s', not one", (int)pid, buf);
	return (pid_t)child;
}

/* The call sites named fn: how many allocations and bytes, and each names
 * the fixture's source file and module as the target's maps do. */
static void expect_call_site(json_t *j, const char *fn, const char *module, long long allocs,
			     long long bytes, long long live)
{
	json_t *sites = json_object_get(j, "call_sites"), *s;
	long long a = 0, b = 0, l = 0;
	size_t i;

	json_array_foreach(sites, i, s) {
		const char *f = json_string_value(json_object_get(s, "function"));
		const char *file = json_string_value(json_object_get(s, "file"));
		const char *m = json_string_value(json_object_get(s, "module"));

		if (!f || strcmp(f, fn))
			continue;
		a += jint(s, "allocations");
		b += jint(s, "bytes");
		l += jint(s, "live_count");
		cr_expect(m && !strcmp(m, module), "%s's module is %s, not %s", fn, m ? m : "null",
			  module);
		cr_expect(file && strstr(file, "ns_target.c"), "%s's file is %s", fn,
			  file ? file : "null");
		cr_expect_gt(jint(s, "line"), 0, "%s has no line", fn);
	}
	cr_expect_eq(a, allocs, "call sites in %s: %lld allocations, expected %lld", fn, a, allocs);
	cr_expect_eq(b, bytes, "call sites in %s: %lld bytes, expected %lld", fn, b, bytes);
	cr_expect_eq(l, live, "call sites in %s: %lld live, expected %lld", fn, l, live);
}

/* Frame k of a stack: symbol sym (or alt), in module. */
static void expect_frame(json_t *stack, size_t k, const char *module, const char *sym,
			 const char *alt)
{
	json_t *f = json_array_get(json_object_get(stack, "frames"), k);
	const char *s = json_string_value(json_object_get(f, "symbol"));
	const char *m = json_string_value(json_object_get(f, "module"));

	cr_assert(f, "stack %lld has no frame %zu", jint(stack, "id"), k);
	cr_expect(s && (!strcmp(s, sym) || (alt && !strcmp(s, alt))),
		  "stack %lld, frame %zu: symbol %s, expected %s%s%s", jint(stack, "id"), k,
		  s ? s : "null", sym, alt ? " or " : "", alt ? alt : "");
	cr_expect(m && !strcmp(m, module), "stack %lld, frame %zu: module %s, not %s",
		  jint(stack, "id"), k, m ? m : "null", module);
}

static const char *target_str(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(json_object_get(j, "target"), key));

	cr_assert(s, "target.%s missing or not a string", key);
	return s;
}

/* tests/fixtures/ns_target.c allocates with malloc only */
static const char *const ct_tallies[][2] = {
	{ "total_allocations", "allocs" },
	{ "total_allocated", "alloc_bytes" },
	{ "stats.total_frees", "frees" },
	{ "stats.total_freed", "freed_bytes" },
	{ "stats.active_allocations", "live_cnt" },
	{ "stats.active_memory", "live_bytes" },
	{ "stats.allocations_by_function.malloc", "allocs" },
	{ NULL },
};

static char root[300], out[300]; /* the target's root; ttbpf -o's directory */
static struct proc ct, tt;       /* what starts the target (its stdin); ttbpf */

/* dir/root: copies of the fixture (CT_EXE) and of its libraries; dir/out */
static void build_root(void)
{
	char path[PATH_MAX];

	cr_assert(access(CT_DIR, F_OK) && errno == ENOENT,
		  "the host has " CT_DIR ": the target's paths would not be its own");
	path_in(root, sizeof(root), dir, "root");
	path_in(out, sizeof(out), dir, "out");
	cr_assert(!mkdir(root, 0755) && !mkdir(out, 0755));
	snprintf(path, sizeof(path), "%s/.old", root);
	cr_assert(!mkdir(path, 0755));
	snprintf(path, sizeof(path), "%s" CT_EXE, root);
	make_parents(path);
	copy_file(e2e_fixture("ns_target"), path);
	cr_assert_geq(copy_libraries(e2e_fixture("ns_target"), root), 2, "no libc or loader copied");
}

/* Starts argv, which runs the fixture in root with its stdin, until it is
 * ready. */
static void start_rooted(char *const argv[])
{
	start(&ct, argv, true);
	cr_assert(proc_wait_for(&ct, "ready ", false, 10000), "the target did not start:\n%s%s",
		  ct.out, ct.err);
}

/*
 * ttbpf -p host_pid -o out, then the fixture allocates; the end of its stdin
 * ends it, which ends the trace. Checks what does not depend on how the
 * root was made: exact figures (the probes were on the root's copy of libc),
 * the target's pid and threads as the host sees them, its command as it
 * sees itself. Returns the report.
 */
static json_t *trace_rooted(pid_t host_pid)
{
	static const char *const reports[] = { "ttbpf.json", "ttbpf.svg", "ttbpf.png", "ttbpf.pb.gz",
					       NULL };
	char pidbuf[16], path[400], *tt_argv[] = { (char *)e2e_tool(), "-p", pidbuf, "-o", out,
						   NULL };
	json_t *j, *threads;
	int rc;

	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)host_pid);
	start(&tt, tt_argv, false);
	cr_assert(proc_wait_for(&tt, "tracing pid", true, 30000), "ttbpf did not attach:\n%s", tt.err);
	cr_assert(write(ct.in_fd, "g", 1) == 1);
	cr_assert(proc_wait_for(&ct, "done ", false, 30000), "the fixture did not finish:\n%s%s",
		  ct.out, ct.err);
	rc = proc_finish(&ct, TRACE_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "the target exited %d:\n%s", rc, ct.err);
	rc = proc_finish(&tt, TRACE_TIMEOUT_MS);
	e2e_expect_no_crash(&tt);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt.err);
	e2e_expect_dir_holds(out, reports);
	path_in(path, sizeof(path), out, "ttbpf.json");
	j = load_json(path);

	e2e_expect_tallies(j, ct.out, ct_tallies);
	cr_expect_eq(jint(j, "stats.failed_allocations"), 0);
	cr_expect_eq(jint(j, "stats.unknown_frees"), 0);
	cr_expect_eq(jint(j, "stats.lost_events"), 0);
	cr_expect_eq(jint(j, "target.pid"), host_pid);
	cr_expect_str_eq(target_str(j, "command"), CT_EXE);
	threads = json_object_get(j, "threads");
	cr_assert_eq(json_array_size(threads), 1, "%zu threads, expected 1", json_array_size(threads));
	cr_expect_eq(jint(json_array_get(threads, 0), "thread_id"), host_pid);
	cr_expect_eq(jint(json_array_get(threads, 0), "allocations"), truth(ct.out, "allocs"));
	return j;
}

/* The fixture's own functions, files and lines, read from its copy in the
 * root: at each call site, in every stack, in the leak report. */
static void expect_fixture_symbols(json_t *j, const char *module)
{
	long long keep = truth(ct.out, "keep_cnt"), keep_size = truth(ct.out, "keep_size");
	long long churn = truth(ct.out, "churn_cnt"), churn_size = truth(ct.out, "churn_size");
	json_t *stacks = json_object_get(j, "stacks"), *st, *leaks, *leak;
	size_t i;

	expect_call_site(j, "ns_keep_block", module, keep, keep * keep_size, keep);
	expect_call_site(j, "ns_churn_block", module, churn, churn * churn_size, 0);
	cr_assert_gt(json_array_size(stacks), 0, "no stacks");
	json_array_foreach(stacks, i, st) {
		expect_frame(st, 0, module, "ns_keep_block", "ns_churn_block");
		expect_frame(st, 1, module, "ns_run", NULL);
		expect_frame(st, 2, module, "main", NULL);
	}
	leaks = json_object_get(j, "leaks");
	cr_assert_eq(json_array_size(leaks), 1, "%zu leak groups, expected 1",
		     json_array_size(leaks));
	leak = json_array_get(leaks, 0);
	cr_expect_str_eq(json_string_value(json_object_get(leak, "function")) ?: "null",
			 "ns_keep_block");
	cr_expect_eq(jint(leak, "live_count"), keep);
	cr_expect_eq(jint(leak, "live_bytes"), keep * keep_size);
}

Test(ns, container_pid1, .fini = cleanup, .timeout = 120)
{
	char *argv[] = { "unshare", "--pid", "--mount", "--fork", "--kill-child", "sh", "-c",
			 (char *)ct_init, "sh", root, NULL };
	char path[64], want[64], status[4096], maps[65536];
	pid_t host_pid;
	json_t *j;

	setup_dir();
	build_root();
	start_rooted(argv);
	cr_assert_eq(truth(ct.out, "ready"), 1, "the fixture is not its namespace's init");
	host_pid = only_child(ct.pid);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)host_pid);
	read_text(path, status, sizeof(status));
	snprintf(want, sizeof(want), "\nNSpid:\t%d\t1\n", (int)host_pid);
	cr_assert(strstr(status, want), "pid %d is not 1 in a PID namespace:\n%s", (int)host_pid,
		  status);
	/* what ttbpf sees: paths that name nothing on the host */
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)host_pid);
	read_text(path, maps, sizeof(maps));
	cr_assert(strstr(maps, " " CT_EXE "\n") && strstr(maps, " " CT_LIB "/libc.so.6\n"),
		  "the container's maps do not name " CT_DIR ":\n%s", maps);

	j = trace_rooted(host_pid);
	/* found through the target's root: the host has no such file */
	snprintf(want, sizeof(want), "/proc/%d/root" CT_LIB "/libc.so.6", (int)host_pid);
	cr_expect_str_eq(target_str(j, "allocator"), want);
	expect_fixture_symbols(j, CT_EXE);
	json_decref(j);
}

/*
 * A chrooted target (no namespaces: chroot(8), or a runtime that chroots
 * instead of pivoting): its /proc/PID/maps names files as the reader's root
 * sees them (DIR/root/ttbpf-ns/lib/libc.so.6), not as its own root does, so
 * the path through /proc/PID/root names nothing; ttbpf must open the mapping
 * itself (/proc/PID/map_files) and trace it exactly, without --lib.
 */
Test(ns, chrooted_target, .fini = cleanup, .timeout = 120)
{
	char *argv[] = { "env", "LD_LIBRARY_PATH=" CT_LIB, "chroot", root, CT_EXE, NULL };
	char module[400];
	json_t *j;

	setup_dir();
	build_root();
	start_rooted(argv);
	cr_assert_eq(truth(ct.out, "ready"), ct.pid, "env and chroot exec the fixture");
	j = trace_rooted(ct.pid);
	snprintf(module, sizeof(module), "%s" CT_EXE, root); /* as its maps say */
	expect_fixture_symbols(j, module);
	json_decref(j);
}

/* ---- a kernel without BTF or uprobes ---------------------------------------- */

/* What a test takes away from ttbpf, and what ttbpf must then say. */
struct lack {
	const char *hide[8];  /* paths covered by an empty tmpfs where they exist */
	bool refuse_links;    /* bpf(BPF_LINK_CREATE) fails with EINVAL */
	const char *words[8]; /* the message holds each */
};

/* /sys/kernel/btf/vmlinux, and wherever else libbpf looks for a vmlinux */
static const struct lack no_btf = {
	.hide = { "/sys/kernel/btf", "/boot", "/lib/modules", "/usr/lib/modules",
		  "/usr/lib/debug/boot", "/usr/lib/debug/lib/modules" },
	.words = { "no BTF", "/sys/kernel/btf/vmlinux", "CONFIG_DEBUG_INFO_BTF" },
};

/*
 * Every way to make a uprobe: uprobe_multi links (Linux 6.6+; they need no
 * file), the uprobe PMU in sysfs, tracefs' uprobe_events (libbpf's fallback,
 * wherever tracefs may be mounted).
 */
static const struct lack no_uprobes = {
	.hide = { UPROBE_PMU, "/sys/kernel/tracing", "/sys/kernel/debug" },
	.refuse_links = true,
	.words = { "uprobes are unavailable", "uprobe_multi", UPROBE_PMU "/type",
		   "CONFIG_UPROBE_EVENTS" },
};

/*
 * From here on this process and its children get EINVAL from
 * bpf(BPF_LINK_CREATE), as from a kernel without the link type asked for: no
 * uprobe_multi links (libbpf then attaches the exec tracepoint with
 * BPF_RAW_TRACEPOINT_OPEN). Criterion runs each test in a process of its own:
 * the filter ends with the test. x86-64 only, like ttbpf.
 */
static void refuse_bpf_links(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_bpf, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, BPF_LINK_CREATE, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { (unsigned short)(sizeof(f) / sizeof(f[0])), f };

	cr_assert_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0, "%s", strerror(errno));
	cr_assert_eq(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog), 0, "seccomp: %s",
		     strerror(errno));
}

/*
 * Starts ttbpf with args in a mount namespace of its own (private: nothing
 * reaches the host) without what l takes away.
 */
static void start_lacking(struct proc *p, const struct lack *l, const char *const *args)
{
	static const char script[] = "set -e; while [ \"$1\" != -- ]; do "
				     "if [ -e \"$1\" ]; then mount -t tmpfs ttbpf-e2e \"$1\"; fi; "
				     "shift; done; shift; exec \"$@\"";
	const char *const *hide = l->hide;
	char *argv[32];
	int n = 0;

	if (l->refuse_links)
		refuse_bpf_links();
	argv[n++] = "unshare";
	argv[n++] = "--mount";
	argv[n++] = "sh";
	argv[n++] = "-c";
	argv[n++] = (char *)script;
	argv[n++] = "sh";
	while (*hide && n < 20)
		argv[n++] = (char *)*hide++;
	argv[n++] = "--";
	argv[n++] = (char *)e2e_tool();
	while (*args && n < 31)
		argv[n++] = (char *)*args++;
	cr_assert(!*hide && !*args, "start_lacking: too many arguments");
	argv[n] = NULL;
	start(p, argv, false);
}

/* ttbpf (started by start_lacking) refuses: status 1, one line on stderr
 * holding every word of l, no crash, nothing written in dir. */
static void expect_refusal(struct proc *p, const struct lack *l)
{
	static const char *const none[] = { NULL };
	const char *const *w;
	const char *nl;
	int rc;

	rc = proc_finish(p, REFUSE_TIMEOUT_MS);
	e2e_expect_no_crash(p);
	cr_expect_eq(rc, 1, "ttbpf exited %d:\n%s", rc, p->err);
	nl = strchr(p->err, '\n');
	cr_expect(nl && !nl[1], "not one line on stderr:\n%s", p->err);
	for (w = l->words; *w; w++)
		cr_expect(strstr(p->err, *w), "no '%s' in the message:\n%s", *w, p->err);
	e2e_expect_dir_holds(dir, none);
	cr_expect(!access("/sys/kernel/btf/vmlinux", R_OK) && !access(UPROBE_PMU "/type", R_OK),
		  "a mount of the test reached the host");
}

/* Launch mode: the command (which would create a file) never runs. */
static void expect_launch_refused(const struct lack *l)
{
	char marker[300];
	const char *const args[] = { "-o", dir, "--", "touch", marker, NULL };
	static struct proc tt;

	path_in(marker, sizeof(marker), dir, "ran");
	start_lacking(&tt, l, args);
	expect_refusal(&tt, l); /* the dir is empty: no marker either */
}

/* Attach mode: the target runs on as if nothing happened. */
static void expect_attach_refused(const struct lack *l)
{
	char pidbuf[16], *fx_argv[] = { (char *)e2e_fixture("ns_target"), NULL };
	const char *const args[] = { "-p", pidbuf, "-o", dir, NULL };
	static struct proc fx, tt;
	int rc;

	start(&fx, fx_argv, true);
	cr_assert(proc_wait_for(&fx, "ready ", false, 10000), "fixture not ready:\n%s%s", fx.out,
		  fx.err);
	snprintf(pidbuf, sizeof(pidbuf), "%lld", truth(fx.out, "ready"));
	start_lacking(&tt, l, args);
	expect_refusal(&tt, l);
	cr_assert_eq(waitpid(fx.pid, NULL, WNOHANG), 0, "the target did not survive");
	cr_assert(write(fx.in_fd, "g", 1) == 1);
	cr_assert(proc_wait_for(&fx, "done ", false, 10000), "the target did not run on:\n%s%s",
		  fx.out, fx.err);
	rc = proc_finish(&fx, 10000);
	cr_expect_eq(rc, 0, "the target exited %d:\n%s", rc, fx.err);
}

Test(ns, no_btf_launch, .fini = cleanup, .timeout = 60)
{
	setup_dir();
	expect_launch_refused(&no_btf);
}

Test(ns, no_btf_attach, .fini = cleanup, .timeout = 60)
{
	setup_dir();
	expect_attach_refused(&no_btf);
}

Test(ns, no_uprobes_launch, .fini = cleanup, .timeout = 60)
{
	setup_dir();
	cr_assert(!access(UPROBE_PMU "/type", R_OK), "this kernel has no uprobe PMU to hide");
	expect_launch_refused(&no_uprobes);
}

Test(ns, no_uprobes_attach, .fini = cleanup, .timeout = 60)
{
	setup_dir();
	cr_assert(!access(UPROBE_PMU "/type", R_OK), "this kernel has no uprobe PMU to hide");
	expect_attach_refused(&no_uprobes);
}
