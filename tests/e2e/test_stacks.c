// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: allocation stacks. tests/fixtures/callchain.c allocates through
 * known call chains (frame pointers, no inlining, no tail calls); the stacks
 * in the JSON report must be exactly those chains, innermost first (frame 0
 * is the function that called malloc), symbolized to the function, the
 * module and the source line of each call (found by the LINE-MARK comments
 * in the sources). Three builds of it: PIE, -no-pie, and one linked to a
 * shared library of its own. Also --stack-depth, --folded and attach mode.
 *
 * By default stacks are walked with the files' unwind tables and reach the
 * executable's _start ("root"); with --unwind fp, glibc's missing frame
 * pointers cut the walk after main at __libc_start_call_main ("cut").
 */
#include <ftw.h>
#include "e2e.h"

#define TRACE_TIMEOUT_MS 60000
#define SRC "tests/fixtures/callchain.c"
#define LIB_SRC "tests/fixtures/callchain/lib.c"
/*
 * In launch mode the fixture sleeps this long before exiting, so that ttbpf
 * reads its records (and the mappings they go through) while it still runs:
 * see launch_short_lived_is_symbolized below for what happens otherwise.
 */
#define STAY_MS "1500"

static char dir[256];

static void setup_dir(void)
{
	e2e_require_root();
	snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Removes a test's directory at its end (one stopped by an assertion keeps it). */
static void rm_tree(const char *d)
{
	nftw(d, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static long long jget(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	cr_assert(json_is_integer(v), "field %s missing or not an integer", key);
	return json_integer_value(v);
}

/* "leaf_alloc;mid;main;..." for messages (static buffer) */
static const char *describe(json_t *stack)
{
	static char buf[2048];
	json_t *frames = json_object_get(stack, "frames"), *f;
	size_t i, n = 0;

	buf[0] = '\0';
	json_array_foreach(frames, i, f) {
		const char *s = jstr(f, "symbol");

		n += (size_t)snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0, "%s%s:%lld",
				      i ? ";" : "", s ? s : jstr(f, "ip"),
				      (long long)json_integer_value(json_object_get(f, "line")));
		if (n >= sizeof(buf))
			break;
	}
	snprintf(buf + (n < sizeof(buf) ? n : sizeof(buf) - 1),
		 n < sizeof(buf) ? sizeof(buf) - n : 1, " (end %s)", jstr(stack, "end"));
	return buf;
}

/* Return addresses in a stack: its frames but those of inlined calls (which
 * share their address's ip; libc's, with its debug info installed). */
static size_t addresses(json_t *stack)
{
	json_t *f;
	size_t i, n = 0;

	json_array_foreach(json_object_get(stack, "frames"), i, f)
		n += !json_is_true(json_object_get(f, "inlined"));
	return n;
}

static json_t *stack_by_id(json_t *j, long long id)
{
	json_t *stacks = json_object_get(j, "stacks"), *s;
	size_t i;

	cr_assert(json_is_array(stacks), "no stacks array in the report");
	json_array_foreach(stacks, i, s)
		if (json_integer_value(json_object_get(s, "id")) == id)
			return s;
	cr_assert_fail("no stack with id %lld", id);
	return NULL;
}

/*
 * The distinct stack ids of the live blocks of this size; returns how many
 * blocks there are. Every one must have a stack.
 */
static size_t live_stacks_of_size(json_t *j, long long size, long long *ids, size_t *nids,
				  size_t max)
{
	json_t *active = json_object_get(j, "active_allocations"), *a;
	size_t i, k, blocks = 0;

	*nids = 0;
	cr_assert(json_is_array(active));
	json_array_foreach(active, i, a) {
		json_t *sid = json_object_get(a, "stack_id");

		if (json_integer_value(json_object_get(a, "size")) != size)
			continue;
		blocks++;
		cr_assert(json_is_integer(sid) && json_integer_value(sid) > 0,
			  "live block %s of %lld bytes has no stack_id", jstr(a, "ptr"), size);
		for (k = 0; k < *nids && ids[k] != json_integer_value(sid); k++)
			;
		if (k == *nids) {
			cr_assert(*nids < max, "too many stacks for %lld-byte blocks", size);
			ids[(*nids)++] = json_integer_value(sid);
		}
	}
	return blocks;
}

/* What frame k of a stack must be. */
struct want {
	const char *symbol;
	const char *src;    /* the file ends with this */
	const char *mark;   /* LINE-MARK of the call in src */
	const char *module; /* the module's file name */
};

static void check_frames(json_t *stack, const struct want *w, size_t n)
{
	json_t *frames = json_object_get(stack, "frames");
	char suffix[256];
	size_t k;

	cr_assert(json_is_array(frames));
	cr_assert_geq(json_array_size(frames), n, "stack %s: fewer than %zu frames", describe(stack), n);
	for (k = 0; k < n; k++) {
		json_t *f = json_array_get(frames, k);
		const char *sym = jstr(f, "symbol"), *file = jstr(f, "file"), *mod = jstr(f, "module");
		long long line = mark_line(w[k].src, w[k].mark);

		cr_assert(sym && !strcmp(sym, w[k].symbol), "frame %zu is %s, expected %s; stack %s", k,
			  sym ? sym : "(null)", w[k].symbol, describe(stack));
		/* DWARF has the name the compiler was given, relative to the repo */
		cr_expect(ends_with(file, w[k].src + strlen("tests/")),
			  "frame %zu (%s): file %s does not end with %s", k, sym, file ? file : "(null)",
			  w[k].src + strlen("tests/"));
		cr_expect_eq(json_integer_value(json_object_get(f, "line")), line,
			     "frame %zu (%s): line %lld, expected %lld (%s in %s); stack %s", k, sym,
			     (long long)json_integer_value(json_object_get(f, "line")), line, w[k].mark,
			     w[k].src, describe(stack));
		snprintf(suffix, sizeof(suffix), "/%s", w[k].module);
		cr_expect(ends_with(mod, suffix), "frame %zu (%s): module %s, expected .../%s", k, sym,
			  mod ? mod : "(null)", w[k].module);
		cr_expect(json_is_string(json_object_get(f, "ip")));
	}
}

/* --unwind fp: the tests that walk frame pointers say so */
static bool fp_walk;

/*
 * After main, libc's start code. Walking unwind tables (the default): its
 * __libc_start_call_main and __libc_start_main, then the executable's
 * _start, whose CFI marks the return address undefined: "root". Walking
 * frame pointers: glibc has none, so the walk is cut right after
 * __libc_start_call_main.
 */
static void check_tail(json_t *stack, size_t n)
{
	json_t *frames = json_object_get(stack, "frames"), *f;
	const char *end = jstr(stack, "end");
	size_t i;

	if (fp_walk) {
		cr_expect_str_eq(nz(end), "cut", "stack %s", describe(stack));
		cr_expect_eq(json_array_size(frames), n + 1, "stack %s", describe(stack));
	} else {
		cr_expect_str_eq(nz(end), "root", "stack %s", describe(stack));
		cr_expect_eq(json_array_size(frames), n + 3, "stack %s", describe(stack));
		cr_expect_str_eq(nz(jstr(json_array_get(frames, n + 1), "symbol")),
				 "__libc_start_main", "stack %s", describe(stack));
		f = json_array_get(frames, n + 2);
		cr_expect_str_eq(nz(jstr(f, "symbol")), "_start", "stack %s", describe(stack));
		cr_expect(!strstr(nz(jstr(f, "module")), "/libc.so"), "_start of %s is in libc",
			  describe(stack));
	}
	f = json_array_get(frames, n);
	cr_expect_str_eq(nz(jstr(f, "symbol")), "__libc_start_call_main",
			 "stack %s", describe(stack));
	json_array_foreach(frames, i, f)
		if (i >= n && i < n + 2)
			cr_expect(strstr(jstr(f, "module") ? jstr(f, "module") : "", "/libc.so"),
				  "frame %zu of %s is not in libc", i, describe(stack));
}

static json_t *site_of(json_t *j, const char *function)
{
	json_t *sites = json_object_get(j, "call_sites"), *c;
	size_t i;

	cr_assert(json_is_array(sites), "no call_sites array in the report");
	json_array_foreach(sites, i, c)
		if (jstr(c, "function") && !strcmp(jstr(c, "function"), function))
			return c;
	cr_assert_fail("no call site in %s", function);
	return NULL;
}

/*
 * Everything the fixture's output (fx_out) says it did, against the report.
 * exe: the fixture's file name; with_lib: it went through libcallchain.so.
 */
static void check_chains(json_t *j, const char *fx_out, const char *exe, bool with_lib)
{
	long long leaf_size = truth(fx_out, "leaf_size"), leaf_calls = truth(fx_out, "leaf_calls");
	long long leaf_live = leaf_calls - truth(fx_out, "leaf_freed");
	long long other_size = truth(fx_out, "other_size"), other_calls = truth(fx_out, "other_calls");
	long long dup_size = truth(fx_out, "dup_size"), dup_calls = truth(fx_out, "dup_calls");
	long long lib_size = truth(fx_out, "lib_size"), lib_calls = truth(fx_out, "lib_calls");
	const struct want leaf[] = {
		{ "leaf_alloc", SRC, "leaf_malloc", exe },
		{ "mid", SRC, "mid_call", exe },
		{ "main", SRC, "main_call_mid", exe },
	};
	const struct want other[] = {
		{ "leaf_alloc", SRC, "leaf_malloc", exe },
		{ "other_mid", SRC, "other_mid_call", exe },
		{ "main", SRC, "main_call_other_mid", exe },
	};
	const struct want lib[] = {
		{ "lib_alloc", LIB_SRC, "lib_malloc", "libcallchain.so" },
		{ "lib_outer", LIB_SRC, "lib_outer_call", "libcallchain.so" },
		{ "main", SRC, "main_call_lib_outer", exe },
	};
	long long ids[16], leaf_id, lib_allocs = 0;
	json_t *st, *site;
	size_t n, i;

	cr_expect_eq(jint(j, "stats.lost_events"), 0);
	cr_expect_eq(jint(j, "stacks_dropped"), 0);

	/* main -> mid -> leaf_alloc -> malloc: one stack, its own figures */
	cr_assert_eq(live_stacks_of_size(j, leaf_size, ids, &n, 16), (size_t)leaf_live);
	cr_assert_eq(n, 1, "the %lld live %lld-byte blocks have %zu stacks", leaf_live, leaf_size, n);
	leaf_id = ids[0];
	st = stack_by_id(j, leaf_id);
	check_frames(st, leaf, 3);
	check_tail(st, 3);
	cr_expect_eq(jget(st, "call_site"), 0, "the call site is frame 0 (leaf_alloc)");
	cr_expect_eq(jget(st, "allocations"), leaf_calls);
	cr_expect_eq(jget(st, "bytes"), leaf_calls * leaf_size);
	cr_expect_eq(jget(st, "live_count"), leaf_live);
	cr_expect_eq(jget(st, "live_bytes"), leaf_live * leaf_size);
	cr_expect_eq(jget(st, "peak_live_bytes"), leaf_calls * leaf_size);

	/* main -> other_mid -> leaf_alloc -> malloc: the same call site */
	cr_assert_eq(live_stacks_of_size(j, other_size, ids, &n, 16), (size_t)other_calls);
	cr_assert_eq(n, 1);
	cr_assert_neq(ids[0], leaf_id);
	st = stack_by_id(j, ids[0]);
	check_frames(st, other, 3);
	check_tail(st, 3);
	cr_expect_eq(jget(st, "allocations"), other_calls);
	cr_expect_eq(jget(st, "live_count"), other_calls);

	/* the call site in leaf_alloc adds both up, exactly */
	site = site_of(j, "leaf_alloc");
	cr_expect_eq(jget(site, "allocations"), leaf_calls + other_calls);
	cr_expect_eq(jget(site, "bytes"), leaf_calls * leaf_size + other_calls * other_size);
	cr_expect_eq(jget(site, "live_count"), leaf_live + other_calls);
	cr_expect_eq(jget(site, "live_bytes"), leaf_live * leaf_size + other_calls * other_size);
	cr_expect_eq(jget(site, "stacks"), 2);
	cr_expect_eq(jget(site, "stack_id"), leaf_id, "the representative stack has the most bytes");
	cr_expect_eq(jget(site, "line"), mark_line(SRC, "leaf_malloc"));
	cr_expect(ends_with(jstr(site, "file"), "fixtures/callchain.c"), "file %s", jstr(site, "file"));
	cr_expect(ends_with(jstr(site, "module"), exe), "module %s", jstr(site, "module"));
	cr_expect_str_eq(nz(jstr(site, "ip")),
			 nz(jstr(json_array_get(json_object_get(stack_by_id(j, leaf_id), "frames"), 0), "ip")),
			 "the site's address is frame 0 of its stacks");

	/* strdup's blocks have a stack (where it points: strdup_call_site_is_the_caller) */
	cr_expect_eq(live_stacks_of_size(j, dup_size, ids, &n, 16), (size_t)dup_calls);
	cr_expect_geq(n, 1);

	if (!with_lib)
		return;
	/* main -> lib_outer -> lib_alloc (libcallchain.so) -> malloc; the compiler
	 * may unroll main's loop, giving each call its own return address */
	cr_assert_eq(live_stacks_of_size(j, lib_size, ids, &n, 16), (size_t)lib_calls);
	cr_assert_geq(n, 1);
	for (i = 0; i < n; i++) {
		st = stack_by_id(j, ids[i]);
		check_frames(st, lib, 3);
		check_tail(st, 3);
		cr_expect_eq(jget(st, "call_site"), 0);
		lib_allocs += jget(st, "allocations");
	}
	cr_expect_eq(lib_allocs, lib_calls);
	site = site_of(j, "lib_alloc");
	cr_expect_eq(jget(site, "allocations"), lib_calls);
	cr_expect_eq(jget(site, "bytes"), lib_calls * lib_size);
	cr_expect_eq(jget(site, "live_count"), lib_calls);
	cr_expect_eq(jget(site, "stacks"), (long long)n);
	cr_expect_eq(jget(site, "line"), mark_line(LIB_SRC, "lib_malloc"));
	cr_expect(ends_with(jstr(site, "file"), "callchain/lib.c"), "file %s", jstr(site, "file"));
	cr_expect(ends_with(jstr(site, "module"), "/libcallchain.so"), "module %s",
		  jstr(site, "module"));
}

/* ttbpf [opts] --json DIR/out.json -- FIXTURE fx_args: the report. */
static json_t *launch(struct proc *tt, const char *fixture, char *const *opts, char *const *fx_args)
{
	return e2e_launch_json(tt, dir, opts, fixture, fx_args, TRACE_TIMEOUT_MS);
}

static void check_launch(const char *fixture, bool with_lib)
{
	char *fx_args[] = { "-s", STAY_MS, NULL }, *fp_opts[] = { "--unwind", "fp", NULL };
	struct proc tt;
	json_t *j;

	setup_dir();
	j = launch(&tt, fixture, fp_walk ? fp_opts : NULL, fx_args);
	check_chains(j, tt.out, fixture, with_lib);
	json_decref(j);
	proc_free(&tt);
	rm_tree(dir);
}

Test(stacks, pie_call_chains, .timeout = 120)
{
	check_launch("callchain", false);
}

/* frame pointers only: the same chains up to glibc's start code */
Test(stacks, pie_call_chains_fp, .timeout = 120)
{
	fp_walk = true;
	check_launch("callchain", false);
}

Test(stacks, shared_library_call_chains_fp, .timeout = 120)
{
	fp_walk = true;
	check_launch("callchain_lib", true);
}

Test(stacks, nopie_call_chains, .timeout = 120)
{
	check_launch("callchain_nopie", false);
}

Test(stacks, shared_library_call_chains, .timeout = 120)
{
	check_launch("callchain_lib", true);
}

/* -p on a running process: the same frames (its mappings are read at attach). */
Test(stacks, attach_same_frames, .timeout = 120)
{
	char json[300], pidbuf[16];
	char *fx_argv[] = { (char *)e2e_fixture("callchain_lib"), "-w", NULL };
	char *tt_argv[] = { (char *)e2e_tool(), "-p", pidbuf, "--json", json, NULL };
	struct proc fx, tt;
	json_t *j;
	int rc;

	setup_dir();
	snprintf(json, sizeof(json), "%s/out.json", dir);
	proc_start(&fx, fx_argv, true);
	cr_assert(proc_wait_for(&fx, "ready ", false, 10000), "fixture did not start:\n%s", fx.err);
	snprintf(pidbuf, sizeof(pidbuf), "%lld", truth(fx.out, "ready"));
	proc_start(&tt, tt_argv, false);
	cr_assert(proc_wait_for(&tt, "tracing pid", true, 30000), "ttbpf did not attach:\n%s", tt.err);
	cr_assert(write(fx.in_fd, "g", 1) == 1);
	cr_assert_eq(proc_finish(&fx, TRACE_TIMEOUT_MS), 0);
	rc = proc_finish(&tt, TRACE_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt.err);
	j = load_json(json);
	cr_expect_str_eq(nz(jstr(json_object_get(j, "target"), "mode")), "attach");
	check_chains(j, fx.out, "callchain_lib", true);
	json_decref(j);
	proc_free(&fx);
	proc_free(&tt);
	rm_tree(dir);
}

/*
 * The call site of a strdup is its caller: glibc's strdup has no frame
 * pointer (it holds strlen+1 in rbp when it calls malloc), so a walk from
 * malloc's return would stop at __strdup; ttbpf probes strdup itself and
 * walks from its return (regression).
 */
Test(stacks, strdup_call_site_is_the_caller, .timeout = 120)
{
	char *fx_args[] = { "-s", STAY_MS, NULL };
	const struct want dup[] = {
		{ "dup_name", SRC, "strdup_call", "callchain" },
		{ "main", SRC, "main_call_dup_name", "callchain" },
	};
	long long ids[16];
	struct proc tt;
	json_t *j, *st, *site, *f;
	uint64_t k;
	size_t n;

	setup_dir();
	j = launch(&tt, "callchain", NULL, fx_args);
	cr_assert_eq(live_stacks_of_size(j, truth(tt.out, "dup_size"), ids, &n, 16),
		     (size_t)truth(tt.out, "dup_calls"));
	cr_assert_eq(n, 1);
	st = stack_by_id(j, ids[0]);
	/* frames may start inside libc (strdup), but the call site is dup_name */
	k = (uint64_t)jget(st, "call_site");
	f = json_array_get(json_object_get(st, "frames"), k);
	cr_assert(f, "stack %s has no frame %llu", describe(st), (unsigned long long)k);
	cr_expect_str_eq(nz(jstr(f, "symbol")), "dup_name", "stack %s",
			 describe(st));
	cr_expect_eq(json_integer_value(json_object_get(f, "line")), mark_line(SRC, "strdup_call"));
	site = site_of(j, "dup_name");
	cr_expect_eq(jget(site, "allocations"), truth(tt.out, "dup_calls"));
	cr_expect_eq(jget(site, "line"), mark_line(SRC, "strdup_call"));
	/* and the frames from the call site on are dup_name, main */
	if (json_array_size(json_object_get(st, "frames")) >= k + 2) {
		json_t *sub = json_object(), *rest = json_array();

		for (size_t i = (size_t)k; i < json_array_size(json_object_get(st, "frames")); i++)
			json_array_append(rest, json_array_get(json_object_get(st, "frames"), i));
		json_object_set_new(sub, "end", json_string(nz(jstr(st, "end"))));
		json_object_set_new(sub, "frames", rest);
		check_frames(sub, dup, 2);
		json_decref(sub);
	} else {
		cr_expect_fail("stack %s does not reach main", describe(st));
	}
	json_decref(j);
	proc_free(&tt);
	rm_tree(dir);
}

/*
 * In launch mode a program that exits right after allocating is still
 * symbolized: ttbpf stops it at its exit (ptrace, that one event) and reads
 * its mappings then (regression: the reader used to come too late).
 */
Test(stacks, launch_short_lived_is_symbolized, .timeout = 120)
{
	const struct want leaf[] = {
		{ "leaf_alloc", SRC, "leaf_malloc", "callchain_lib" },
		{ "mid", SRC, "mid_call", "callchain_lib" },
		{ "main", SRC, "main_call_mid", "callchain_lib" },
	};
	long long ids[16];
	struct proc tt;
	json_t *j;
	size_t n;

	setup_dir();
	j = launch(&tt, "callchain_lib", NULL, NULL);
	live_stacks_of_size(j, truth(tt.out, "leaf_size"), ids, &n, 16);
	cr_assert_eq(n, 1);
	check_frames(stack_by_id(j, ids[0]), leaf, 3);
	json_decref(j);
	proc_free(&tt);
	rm_tree(dir);
}

/* --stack-depth 2: at most 2 frames; a walk that reached the limit says "depth". */
Test(stacks, depth_two, .timeout = 120)
{
	char *opts[] = { "--stack-depth", "2", NULL }, *fx_args[] = { "-s", STAY_MS, NULL };
	const struct want leaf[] = {
		{ "leaf_alloc", SRC, "leaf_malloc", "callchain_lib" },
		{ "mid", SRC, "mid_call", "callchain_lib" },
	};
	const struct want lib[] = {
		{ "lib_alloc", LIB_SRC, "lib_malloc", "libcallchain.so" },
		{ "lib_outer", LIB_SRC, "lib_outer_call", "libcallchain.so" },
	};
	json_t *j, *stacks, *st;
	long long ids[16];
	struct proc tt;
	size_t i, n;

	setup_dir();
	j = launch(&tt, "callchain_lib", opts, fx_args);
	stacks = json_object_get(j, "stacks");
	cr_assert(json_is_array(stacks) && json_array_size(stacks) > 0);
	json_array_foreach(stacks, i, st) {
		size_t nr = addresses(st);

		cr_expect(nr >= 1 && nr <= 2, "stack %s: %zu addresses", describe(st), nr);
		if (nr == 2)
			cr_expect_str_eq(nz(jstr(st, "end")), "depth", "stack %s", describe(st));
		else
			cr_expect_str_neq(nz(jstr(st, "end")), "depth", "stack %s", describe(st));
	}
	live_stacks_of_size(j, truth(tt.out, "leaf_size"), ids, &n, 16);
	cr_assert_eq(n, 1);
	st = stack_by_id(j, ids[0]);
	check_frames(st, leaf, 2);
	cr_expect_eq(json_array_size(json_object_get(st, "frames")), 2);
	cr_expect_str_eq(nz(jstr(st, "end")), "depth");
	cr_expect_eq(jget(st, "allocations"), truth(tt.out, "leaf_calls"));

	/* main's unrolled calls differ only beyond the limit: one stack now */
	live_stacks_of_size(j, truth(tt.out, "lib_size"), ids, &n, 16);
	cr_assert_eq(n, 1);
	st = stack_by_id(j, ids[0]);
	check_frames(st, lib, 2);
	cr_expect_str_eq(nz(jstr(st, "end")), "depth");
	cr_expect_eq(jget(st, "allocations"), truth(tt.out, "lib_calls"));
	cr_expect_eq(jget(site_of(j, "leaf_alloc"), "allocations"),
		     truth(tt.out, "leaf_calls") + truth(tt.out, "other_calls"));
	json_decref(j);
	proc_free(&tt);
	rm_tree(dir);
}

/* --stack-depth 0: no stacks at all. */
Test(stacks, depth_zero, .timeout = 120)
{
	char *opts[] = { "--stack-depth", "0", NULL }, *fx_args[] = { "-s", STAY_MS, NULL };
	json_t *j, *active, *a, *stacks, *sites;
	struct proc tt;
	size_t i;

	setup_dir();
	j = launch(&tt, "callchain_lib", opts, fx_args);
	active = json_object_get(j, "active_allocations");
	cr_assert(json_is_array(active));
	cr_expect_geq(json_array_size(active),
		      (size_t)(truth(tt.out, "leaf_calls") - truth(tt.out, "leaf_freed")));
	json_array_foreach(active, i, a)
		cr_expect(!json_object_get(a, "stack_id"), "block %s has a stack_id", jstr(a, "ptr"));
	stacks = json_object_get(j, "stacks");
	sites = json_object_get(j, "call_sites");
	cr_expect(json_is_array(stacks) && json_array_size(stacks) == 0, "stacks: %zu",
		  json_array_size(stacks));
	cr_expect(!sites || (json_is_array(sites) && json_array_size(sites) == 0), "call_sites: %zu",
		  json_array_size(sites));
	cr_expect_eq(jint(j, "total_allocations"), jint(j, "stats.total_allocations"));
	json_decref(j);
	proc_free(&tt);
	rm_tree(dir);
}

/*
 * --folded FILE: lines "frame;frame;... WEIGHT", outermost first; weights by
 * --folded-weight. Returns the sum of the weights; *leaf gets the weight of
 * main;mid;leaf_alloc.
 */
static long long read_folded(const char *path, long long *leaf)
{
	char *line = NULL, *sp, *end, *tok, *save;
	size_t cap = 0;
	ssize_t len;
	long long sum = 0, w;
	int lines = 0;
	FILE *f = fopen(path, "r");

	cr_assert(f, "%s: %s", path, strerror(errno));
	*leaf = -1;
	while ((len = getline(&line, &cap, f)) > 0) {
		lines++;
		cr_assert_eq(line[len - 1], '\n', "line %d does not end with a newline", lines);
		line[len - 1] = '\0';
		sp = strrchr(line, ' ');
		cr_assert(sp && sp > line, "line %d has no weight: %s", lines, line);
		*sp = '\0';
		errno = 0;
		w = strtoll(sp + 1, &end, 10);
		cr_assert(!errno && *end == '\0' && end != sp + 1 && w > 0,
			  "line %d: bad weight '%s'", lines, sp + 1);
		/* frames may hold spaces ("[partial stack]"): the weight follows the
		 * last one, as flamegraph.pl reads it */
		cr_assert(line[0] != ';' && line[strlen(line) - 1] != ';' && !strstr(line, ";;"),
			  "line %d: empty frame: %s", lines, line);
		if (ends_with(line, ";main;mid;leaf_alloc")) {
			cr_assert_eq(*leaf, -1, "two lines for main;mid;leaf_alloc");
			*leaf = w;
			/* the whole stack, from the executable's entry */
			cr_expect_str_eq(line, "_start;__libc_start_main;__libc_start_call_main;"
					       "main;mid;leaf_alloc", "line %d", lines);
		}
		for (tok = strtok_r(line, ";", &save); tok; tok = strtok_r(NULL, ";", &save))
			cr_assert(*tok, "line %d: empty frame", lines);
		sum += w;
	}
	free(line);
	fclose(f);
	cr_assert_gt(lines, 0, "%s is empty", path);
	return sum;
}

/* weight: NULL for the default */
static void check_folded(const char *weight)
{
	char folded[300], *opts[6] = { "--folded", folded }, *fx_args[] = { "-s", STAY_MS, NULL };
	long long sum, leaf, calls, size, live, want_sum, want_leaf;
	struct proc tt;
	json_t *j;

	setup_dir();
	snprintf(folded, sizeof(folded), "%s/out.folded", dir);
	if (weight) {
		opts[2] = "--folded-weight";
		opts[3] = (char *)weight;
	}
	j = launch(&tt, "callchain", opts, fx_args);
	sum = read_folded(folded, &leaf);
	calls = truth(tt.out, "leaf_calls");
	size = truth(tt.out, "leaf_size");
	live = calls - truth(tt.out, "leaf_freed");
	if (!weight || !strcmp(weight, "live")) {
		want_sum = jint(j, "stats.active_memory");
		want_leaf = live * size;
	} else if (!strcmp(weight, "count")) {
		want_sum = jint(j, "total_allocations");
		want_leaf = calls;
	} else {
		want_sum = jint(j, "total_allocated");
		want_leaf = calls * size;
	}
	cr_expect_eq(leaf, want_leaf, "main;mid;leaf_alloc weighs %lld, expected %lld", leaf,
		     want_leaf);
	cr_expect_eq(sum, want_sum, "weights (%s) sum to %lld, expected %lld",
		     weight ? weight : "default", sum, want_sum);
	cr_expect_eq(jint(j, "stacks_dropped"), 0);
	json_decref(j);
	proc_free(&tt);
	rm_tree(dir);
}

Test(folded, default_weight_is_live_bytes, .timeout = 120)
{
	check_folded(NULL);
}

Test(folded, live_weight, .timeout = 120)
{
	check_folded("live");
}

Test(folded, count_weight, .timeout = 120)
{
	check_folded("count");
}

Test(folded, bytes_weight, .timeout = 120)
{
	check_folded("bytes");
}
