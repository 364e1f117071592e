// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: C++ exceptions thrown through the allocator never change what
 * the traced program does (issue 14, finding 3).
 *
 * A return probe replaces the return address of the probed call with the
 * kernel's [uprobes] trampoline; libgcc's unwinder finds no unwind entry for
 * that address and std::terminate ends the program (exit 134). jemalloc's
 * operator new throws std::bad_alloc and calls the new_handler from inside
 * the library: under `--lib jemalloc` every throw went through such a frame.
 *
 * Fixture: tests/fixtures/cxx_throw.cc (and its jemalloc and static builds,
 * cxx_throw.mk). Each run is compared with the same run untraced: exit
 * status and output byte for byte. Figures are compared with the fixture's
 * tally, beside which ttbpf sees what the C++ runtime allocates itself: its
 * emergency exception pool at start, what the first throw sets up (a static
 * executable's unwinder sorts its FDEs in a malloc'd table), both what a run
 * with -n 1 shows, and one exception object per throw, allocated by the
 * throw and freed at the end of its catch, all of one size the runtime
 * chooses.
 */
#include "e2e.h"

#define JEMALLOC "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
#define ITERS "300"
#define RUN_TIMEOUT_MS 120000

struct figures {
	long long allocs, alloc_bytes, frees, freed_bytes, live_cnt, live_bytes;
};

static char dir[256];

/* The fixture without ttbpf: its status and output are the reference. */
static int run_plain(struct proc *p, const char *fixture, const char *iters)
{
	char *argv[] = { (char *)e2e_fixture(fixture), "-n", (char *)iters, NULL };

	return run(p, argv, RUN_TIMEOUT_MS);
}

/* ttbpf [opts] -- fixture -n iters, which must behave as untraced. */
static struct figures run_traced(const char *fixture, const char *iters, const char *lib,
				 struct proc *plain, struct proc *tt)
{
	char json[300], *argv[16];
	struct figures f;
	int n = 0, rc, want;
	json_t *j;

	want = run_plain(plain, fixture, iters);
	cr_assert_eq(want, 0, "%s -n %s exits %d untraced:\n%s", fixture, iters, want, plain->err);
	snprintf(json, sizeof(json), "%s/out.json", dir);
	unlink(json);
	argv[n++] = (char *)e2e_tool();
	argv[n++] = "-q";
	argv[n++] = "--json";
	argv[n++] = json;
	if (lib) {
		argv[n++] = "--lib";
		argv[n++] = (char *)lib;
	}
	argv[n++] = "--";
	argv[n++] = (char *)e2e_fixture(fixture);
	argv[n++] = "-n";
	argv[n++] = (char *)iters;
	argv[n] = NULL;
	rc = run(tt, argv, RUN_TIMEOUT_MS);
	cr_assert_eq(rc, want, "traced, %s -n %s exits %d (untraced: %d); stderr:\n%s", fixture,
		     iters, rc, want, tt->err);
	cr_assert_str_eq(tt->out, plain->out, "traced, %s printed something else", fixture);
	j = load_json(json);
	f = (struct figures){
		jint(j, "total_allocations"), jint(j, "total_allocated"), jint(j, "stats.total_frees"),
		jint(j, "stats.total_freed"), jint(j, "stats.active_allocations"),
		jint(j, "stats.active_memory"),
	};
	cr_expect_eq(jint(j, "stats.lost_events"), 0);
	cr_expect_eq(jint(j, "stats.unknown_frees"), 0, "a block freed that ttbpf never saw");
	json_decref(j);
	return f;
}

/*
 * Runs the fixture -n 1 and -n ITERS, each traced and untraced, and checks
 * that what ttbpf saw beyond the first iteration is the fixture's tally plus
 * one exception object per throw. Returns that object's size.
 */
static long long expect_exact(const char *fixture, const char *lib)
{
	struct proc plain0, tt0, plain, tt;
	struct figures b, f;
	long long throws, obj_bytes, extra;

	b = run_traced(fixture, "1", lib, &plain0, &tt0);
	f = run_traced(fixture, ITERS, lib, &plain, &tt);
	throws = truth(plain.out, "throws") - truth(plain0.out, "throws");
	cr_assert_gt(throws, 0);
	cr_expect_eq(truth(plain.out, "caught"), atoll(ITERS) * 2);
	cr_expect_eq(f.allocs - b.allocs,
		     truth(plain.out, "allocs") - truth(plain0.out, "allocs") + throws,
		     "allocations: %lld after the start, the fixture made %lld and threw %lld",
		     f.allocs - b.allocs, truth(plain.out, "allocs") - truth(plain0.out, "allocs"),
		     throws);
	cr_expect_eq(f.frees - b.frees, truth(plain.out, "frees") - truth(plain0.out, "frees") + throws);
	cr_expect_eq(f.live_cnt - b.live_cnt,
		     truth(plain.out, "live_cnt") - truth(plain0.out, "live_cnt"));
	cr_expect_eq(f.live_bytes - b.live_bytes,
		     truth(plain.out, "live_bytes") - truth(plain0.out, "live_bytes"));
	/* the exception objects: as many bytes allocated as freed, in blocks
	 * of one size */
	extra = f.alloc_bytes - b.alloc_bytes -
		(truth(plain.out, "alloc_bytes") - truth(plain0.out, "alloc_bytes"));
	cr_expect_eq(extra, f.freed_bytes - b.freed_bytes -
			    (truth(plain.out, "freed_bytes") - truth(plain0.out, "freed_bytes")));
	cr_expect_eq(extra % throws, 0, "%lld bytes beside the tally for %lld throws", extra, throws);
	obj_bytes = extra / throws;
	cr_expect(obj_bytes > (long long)sizeof(void *) && obj_bytes < 1024,
		  "%lld bytes an exception object", obj_bytes);
	proc_free(&plain0);
	proc_free(&tt0);
	proc_free(&plain);
	proc_free(&tt);
	return obj_bytes;
}

static void setup(void)
{
	e2e_require_root();
	snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());
}

static void teardown(void)
{
	if (dir[0])
		e2e_rmtree(dir);
	dir[0] = '\0';
	unsetenv("TTBPF_PERF_UPROBES");
}

/* glibc's malloc under libstdc++'s operator new (not probed: it is not in
 * libc); the handler runs after malloc returned. */
Test(cxx_exceptions, default_allocator, .init = setup, .fini = teardown, .timeout = 300)
{
	expect_exact("cxx_throw", NULL);
}

static void require_jemalloc(void)
{
	const char *ci = getenv("CI");

	if (!access(JEMALLOC, R_OK) && !access(e2e_fixture("cxx_throw_jemalloc"), X_OK))
		return;
	if (ci && !strcmp(ci, "true"))
		cr_assert_fail(JEMALLOC " or the fixture built with it is missing: "
				 "scripts/install-deps.sh must install libjemalloc2");
	cr_skip_test(JEMALLOC " not installed (Debian package libjemalloc2)");
}

/* glibc's malloc and libstdc++'s operator new linked into the executable,
 * which ttbpf probes: operator new is probed there, at its return
 * instruction; the new_handler, the throw's allocation and the program are
 * in the same file as the allocator. */
Test(cxx_exceptions, static_executable, .init = setup, .fini = teardown, .timeout = 300)
{
	long long glibc_obj, obj;

	glibc_obj = expect_exact("cxx_throw", NULL);
	obj = expect_exact("cxx_throw_static", NULL);
	cr_expect_eq(obj, glibc_obj, "exception objects of %lld bytes, %lld dynamically linked",
		     obj, glibc_obj);
}

/* jemalloc's operator new is probed: it throws from inside the library, and
 * calls the handler from there; both kinds of uprobe links. The exception
 * objects are libstdc++'s either way: the same size as on glibc. */
Test(cxx_exceptions, jemalloc_lib, .init = setup, .fini = teardown, .timeout = 600)
{
	long long glibc_obj, obj;

	require_jemalloc();
	glibc_obj = expect_exact("cxx_throw", NULL);
	obj = expect_exact("cxx_throw_jemalloc", JEMALLOC);
	cr_expect_eq(obj, glibc_obj, "exception objects of %lld bytes, %lld on glibc", obj,
		     glibc_obj);
	cr_assert_eq(setenv("TTBPF_PERF_UPROBES", "1", 1), 0);
	obj = expect_exact("cxx_throw_jemalloc", JEMALLOC);
	cr_expect_eq(obj, glibc_obj, "perf-event uprobes: exception objects of %lld bytes", obj);
}

/*
 * An operator new whose return instructions cannot all be found (it leaves
 * through an indirect jump: tests/fixtures/new_unfollowed/lib.S) is neither
 * given a return probe nor followed: its calls are counted, the message says
 * so, and the frees of its blocks are frees of blocks ttbpf never saw.
 */
Test(cxx_exceptions, unfollowed_new_counted, .init = setup, .fini = teardown, .timeout = 120)
{
	const char *lib = e2e_fixture("libnew_unfollowed.so");
	char json[300], *argv[] = { (char *)e2e_tool(), "-q", "--json", json, "--lib", (char *)lib,
				    "--", (char *)e2e_fixture("new_unfollowed"), NULL };
	struct proc tt;
	json_t *j;
	int rc;

	snprintf(json, sizeof(json), "%s/out.json", dir);
	rc = run(&tt, argv, RUN_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, tt.err);
	cr_expect(strstr(tt.err, "_Znwm in ") && strstr(tt.err, "return instructions cannot all be found"),
		  "no message about _Znwm:\n%s", tt.err);
	j = load_json(json);
	cr_expect_eq(jint(j, "stats.calls_not_followed"), truth(tt.out, "new_calls"));
	cr_expect_eq(jint(j, "stats.unknown_frees"), truth(tt.out, "new_calls"));
	cr_expect_geq(jint(j, "total_allocations"), truth(tt.out, "mallocs"));
	json_decref(j);
	proc_free(&tt);
}
