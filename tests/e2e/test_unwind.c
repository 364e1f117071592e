// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: the DWARF-CFI unwinder (--unwind dwarf, the default) on code
 * without frame pointers. tests/fixtures/nofp/nofp.c (-O2
 * -fomit-frame-pointer, tests/fixtures/nofp.mk) leaks one block of its own
 * size per scenario; the stack of each block must be exactly the chain below,
 * innermost first (frame 0 calls malloc), through glibc to the outermost
 * frame, which has an undefined return address in glibc's CFI: end "root".
 *
 * The chains were confirmed independently, on the fixture as built here, by
 * `perf probe -x libc.so.6 -a 'malloc bytes=%di:u64'` and
 * `perf record -e probe_libc:malloc --call-graph dwarf,65528` then
 * `perf script` (glibc 2.36, Debian 12), except big: its 64 KiB frame is
 * beyond the most stack perf copies (65528 bytes), so perf stops after
 * big_frame; gdb (`break malloc if $rdi == 7039`, `set backtrace past-main
 * on`, `bt`) gave that one.
 *
 *   depth3    d3_c d3_b d3_a main MAIN
 *   depth12   d12_12 d12_11 ... d12_01 main MAIN
 *   tail      tail_target main MAIN        tail_caller is `jmp tail_target`
 *                                          (objdump -d): on no stack
 *   recurse   recurse (20 times) main MAIN
 *   big       big_frame main MAIN          (gdb) `sub $0x10008,%rsp`
 *   vla       vla_leaf vla_frame main MAIN vla_frame's FDE (readelf
 *                                          --debug-dump=frames-interp) has
 *                                          CFA rbp+16 at the call
 *   thread_a  thr_leaf thread_a THREAD
 *   thread_b  thr_leaf thr_mid thread_b THREAD
 *   plugin    plugin_leaf plugin_entry run_plugin main MAIN
 *   callback  exe_callback plugin_mid plugin_entry run_plugin main MAIN
 *
 *   MAIN   = __libc_start_call_main __libc_start_main _start
 *   THREAD = start_thread clone3
 *
 * perf and gdb name the second libc frame __libc_start_main_impl (its DWARF
 * name); ttbpf prints the global symbol at that address, __libc_start_main
 * (libc's .symtab has both). clone3 is glibc's local alias of __clone3,
 * named clone3 by perf and gdb too. plugin_* are in libnofp_plugin.so
 * (dlopen'ed), _start, main and the rest in the executable, the others in
 * libc.so.6.
 *
 * --unwind fp on the same program: frame pointers are absent, so every walk
 * ends early; each stack is strictly shorter than its DWARF one.
 */
#include "e2e.h"

#define TRACE_TIMEOUT_MS 60000
#define SRC "tests/fixtures/nofp/nofp.c"
#define PLUGIN_SRC "tests/fixtures/nofp/plugin.c"
#define EXE "nofp"
#define PLUGIN "libnofp_plugin.so"
#define LIBC "libc.so.6"
/* the fixture stays this long before exiting, so that ttbpf reads its
 * records, and the mappings they go through, while it runs */
#define STAY_MS "1500"
#define MAX_FRAMES 40

static char dir[256];

static void setup_dir(void)
{
	e2e_require_root();
	snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());
}

/* "d3_c;d3_b;...;_start (end root)" for messages (static buffer) */
static const char *describe(json_t *stack)
{
	static char buf[4096];
	json_t *frames = json_object_get(stack, "frames"), *f;
	size_t i, n = 0;

	buf[0] = '\0';
	json_array_foreach(frames, i, f) {
		const char *s = jstr(f, "symbol");

		n += (size_t)snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0, "%s%s",
				      i ? ";" : "", s ? s : nz(jstr(f, "ip")));
		if (n >= sizeof(buf))
			break;
	}
	snprintf(buf + (n < sizeof(buf) ? n : sizeof(buf) - 1),
		 n < sizeof(buf) ? sizeof(buf) - n : 1, " (end %s)", nz(jstr(stack, "end")));
	return buf;
}

/* What frame k of a stack must be. */
struct want {
	const char *symbol;
	const char *module; /* the module's file name */
	const char *src;    /* NULL: not a fixture frame, no line checked */
	const char *mark;   /* LINE-MARK of the call in src */
};

struct chain {
	const char *name;     /* scenario, for messages */
	const char *size_key; /* the fixture's "KEY N" line with the block's size */
	struct want w[MAX_FRAMES];
	size_t n;
};

static void push(struct chain *c, const char *symbol, const char *module, const char *src,
		 const char *mark)
{
	cr_assert_lt(c->n, MAX_FRAMES);
	c->w[c->n++] = (struct want){ symbol, module, src, mark };
}

static void exe(struct chain *c, const char *symbol, const char *mark)
{
	push(c, symbol, EXE, SRC, mark);
}

static void plugin(struct chain *c, const char *symbol, const char *mark)
{
	push(c, symbol, PLUGIN, PLUGIN_SRC, mark);
}

/* main, called from libc's start, called from _start */
static void main_tail(struct chain *c, const char *main_mark)
{
	exe(c, "main", main_mark);
	push(c, "__libc_start_call_main", LIBC, NULL, NULL);
	push(c, "__libc_start_main", LIBC, NULL, NULL);
	push(c, "_start", EXE, NULL, NULL);
}

/* a pthread's start in glibc 2.36: clone3's child calls start_thread */
static void thread_tail(struct chain *c)
{
	push(c, "start_thread", LIBC, NULL, NULL);
	push(c, "clone3", LIBC, NULL, NULL);
}

enum { DEPTH3, DEPTH12, TAIL, RECURSE, BIG, VLA, THREAD_A, THREAD_B, PLUGIN_OWN, CALLBACK, NR_CHAINS };

/* The chains of the header comment. */
static void build_chains(struct chain *c)
{
	static char marks[12][8];
	size_t i;

	memset(c, 0, NR_CHAINS * sizeof(*c));

	c[DEPTH3] = (struct chain){ "depth3", "depth3_size" };
	exe(&c[DEPTH3], "d3_c", "d3_c");
	exe(&c[DEPTH3], "d3_b", "d3_b");
	exe(&c[DEPTH3], "d3_a", "d3_a");
	main_tail(&c[DEPTH3], "main_depth3");

	/* d12_12 ... d12_01: the symbol is its own mark */
	c[DEPTH12] = (struct chain){ "depth12", "depth12_size" };
	for (i = 12; i >= 1; i--) {
		snprintf(marks[12 - i], sizeof(marks[0]), "d12_%02zu", i);
		exe(&c[DEPTH12], marks[12 - i], marks[12 - i]);
	}
	main_tail(&c[DEPTH12], "main_depth12");

	c[TAIL] = (struct chain){ "tail", "tail_size" };
	exe(&c[TAIL], "tail_target", "tail_target");
	main_tail(&c[TAIL], "main_tail");

	c[RECURSE] = (struct chain){ "recurse", "recurse_size" };
	exe(&c[RECURSE], "recurse", "recurse_malloc");
	for (i = 1; i < 20; i++)
		exe(&c[RECURSE], "recurse", "recurse_self");
	main_tail(&c[RECURSE], "main_recurse");

	c[BIG] = (struct chain){ "big", "big_size" };
	exe(&c[BIG], "big_frame", "big_frame");
	main_tail(&c[BIG], "main_big");

	c[VLA] = (struct chain){ "vla", "vla_size" };
	exe(&c[VLA], "vla_leaf", "vla_leaf");
	exe(&c[VLA], "vla_frame", "vla_frame");
	main_tail(&c[VLA], "main_vla");

	c[THREAD_A] = (struct chain){ "thread_a", "thread_a_size" };
	exe(&c[THREAD_A], "thr_leaf", "thr_leaf");
	exe(&c[THREAD_A], "thread_a", "thread_a");
	thread_tail(&c[THREAD_A]);

	c[THREAD_B] = (struct chain){ "thread_b", "thread_b_size" };
	exe(&c[THREAD_B], "thr_leaf", "thr_leaf");
	exe(&c[THREAD_B], "thr_mid", "thr_mid");
	exe(&c[THREAD_B], "thread_b", "thread_b");
	thread_tail(&c[THREAD_B]);

	c[PLUGIN_OWN] = (struct chain){ "plugin", "plugin_size" };
	plugin(&c[PLUGIN_OWN], "plugin_leaf", "plugin_leaf");
	plugin(&c[PLUGIN_OWN], "plugin_entry", "plugin_entry_own");
	exe(&c[PLUGIN_OWN], "run_plugin", "run_plugin");
	main_tail(&c[PLUGIN_OWN], "main_plugin");

	c[CALLBACK] = (struct chain){ "callback", "callback_size" };
	exe(&c[CALLBACK], "exe_callback", "exe_callback");
	plugin(&c[CALLBACK], "plugin_mid", "plugin_mid");
	plugin(&c[CALLBACK], "plugin_entry", "plugin_entry_back");
	exe(&c[CALLBACK], "run_plugin", "run_plugin");
	main_tail(&c[CALLBACK], "main_plugin");
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

/* The stack of the one live block of this size. */
static json_t *stack_of_size(json_t *j, long long size, const char *scenario)
{
	json_t *active = json_object_get(j, "active_allocations"), *a, *found = NULL;
	size_t i;

	cr_assert(json_is_array(active), "no active_allocations array in the report");
	json_array_foreach(active, i, a) {
		if (json_integer_value(json_object_get(a, "size")) != size)
			continue;
		cr_assert(!found, "%s: two live blocks of %lld bytes", scenario, size);
		found = a;
	}
	cr_assert(found, "%s: no live block of %lld bytes", scenario, size);
	cr_assert(json_is_integer(json_object_get(found, "stack_id")),
		  "%s: the %lld-byte block has no stack_id", scenario, size);
	return stack_by_id(j, json_integer_value(json_object_get(found, "stack_id")));
}

/* Exactly the chain, to the root. */
static void check_chain(json_t *j, const char *fx_out, const struct chain *c)
{
	json_t *st = stack_of_size(j, truth(fx_out, c->size_key), c->name), *frames, *f;
	char suffix[256];
	size_t k;

	frames = json_object_get(st, "frames");
	cr_assert(json_is_array(frames));
	cr_expect_eq(json_array_size(frames), c->n, "%s: %zu frames, expected %zu; stack %s",
		     c->name, json_array_size(frames), c->n, describe(st));
	cr_expect_str_eq(nz(jstr(st, "end")), "root", "%s: stack %s", c->name, describe(st));
	for (k = 0; k < c->n && k < json_array_size(frames); k++) {
		const struct want *w = &c->w[k];
		const char *sym, *mod, *file;

		f = json_array_get(frames, k);
		sym = jstr(f, "symbol");
		mod = jstr(f, "module");
		file = jstr(f, "file");
		cr_expect_str_eq(nz(sym), w->symbol, "%s: frame %zu is %s, expected %s; stack %s",
				 c->name, k, nz(sym), w->symbol, describe(st));
		snprintf(suffix, sizeof(suffix), "/%s", w->module);
		cr_expect(ends_with(mod, suffix), "%s: frame %zu (%s): module %s, expected .../%s",
			  c->name, k, sym, nz(mod), w->module);
		if (!w->src)
			continue;
		/* DWARF has the name the compiler was given, relative to the repo */
		cr_expect(ends_with(file, w->src + strlen("tests/")),
			  "%s: frame %zu (%s): file %s, expected .../%s", c->name, k, sym, nz(file),
			  w->src + strlen("tests/"));
		cr_expect_eq(json_integer_value(json_object_get(f, "line")), mark_line(w->src, w->mark),
			     "%s: frame %zu (%s): line %lld, expected %lld (%s)", c->name, k, sym,
			     (long long)json_integer_value(json_object_get(f, "line")),
			     mark_line(w->src, w->mark), w->mark);
	}
}

/* The folded file has the chain's line, outermost first, weighing the
 * block's live bytes, exactly once. */
static void check_folded_line(const char *path, const char *fx_out, const struct chain *c)
{
	char want[4096], *line = NULL;
	size_t cap = 0, n = 0, k, seen = 0;
	ssize_t len;
	FILE *f;

	for (k = c->n; k-- > 0;)
		n += (size_t)snprintf(want + n, sizeof(want) - n, "%s%s", c->w[k].symbol, k ? ";" : "");
	snprintf(want + n, sizeof(want) - n, " %lld", truth(fx_out, c->size_key));
	f = fopen(path, "r");
	cr_assert(f, "%s: %s", path, strerror(errno));
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		seen += !strcmp(line, want);
	}
	free(line);
	fclose(f);
	cr_expect_eq(seen, 1, "%s: %s has %zu lines '%s'", c->name, path, seen, want);
}

static void check_all(json_t *j, const char *fx_out, const char *folded)
{
	struct chain c[NR_CHAINS];
	size_t i;

	cr_expect_eq(jint(j, "stats.lost_events"), 0);
	cr_expect_eq(jint(j, "stacks_dropped"), 0);
	build_chains(c);
	for (i = 0; i < NR_CHAINS; i++) {
		check_chain(j, fx_out, &c[i]);
		if (folded)
			check_folded_line(folded, fx_out, &c[i]);
	}
}

/* ttbpf -q --json DIR/out.json [opts] -- nofp -s STAY_MS: the report. */
static json_t *launch(struct proc *tt, char *const *opts)
{
	char *fx_args[] = { "-s", STAY_MS, NULL };

	return e2e_launch_json(tt, dir, opts, EXE, fx_args, TRACE_TIMEOUT_MS);
}

/* The default unwinder is DWARF: no --unwind. */
Test(unwind, launch_exact_chains, .timeout = 120)
{
	char folded[300], *opts[] = { "--folded", folded, NULL };
	struct proc tt;
	json_t *j;

	setup_dir();
	snprintf(folded, sizeof(folded), "%s/out.folded", dir);
	j = launch(&tt, opts);
	check_all(j, tt.out, folded);
	/* held at the dynamic linker's hook at startup and around the dlopen,
	 * with a SIGURG the program's own handler never saw */
	cr_expect_geq(jint(j, "stats.unwind.holds"), 4);
	cr_expect_eq(truth(tt.out, "sigurg"), 0);
	cr_expect_eq(jint(j, "stats.unwind.tables_asked_by_stacks"), 0,
		     "every table was loaded before a stack needed it");
	json_decref(j);
	proc_free(&tt);
	e2e_rmtree(dir);
}

Test(unwind, launch_dwarf_explicit, .timeout = 120)
{
	char *opts[] = { "--unwind", "dwarf", NULL };
	struct proc tt;
	json_t *j;

	setup_dir();
	j = launch(&tt, opts);
	check_all(j, tt.out, NULL);
	json_decref(j);
	proc_free(&tt);
	e2e_rmtree(dir);
}

/*
 * -p on a running process: the same chains. The fixture stays before it
 * exits here too: libnofp_plugin.so is mapped after the attach, and this
 * test is about unwinding, not about late mappings of a process gone. A
 * process ttbpf attached to without -f is not ptraced and cannot be held
 * at its dynamic linker's hook: the library's table is loaded a few
 * milliseconds after its dlopen, as the hook's record is read, and a stack
 * through it before then ends "no-table" (docs/stacks.md). The fixture
 * waits -d 300 ms after the dlopen.
 */
Test(unwind, attach_exact_chains, .timeout = 120)
{
	char json[300], folded[300], pidbuf[16];
	char *fx_argv[] = { (char *)e2e_fixture(EXE), "-w", "-s", STAY_MS, "-d", "300", NULL };
	char *tt_argv[] = { (char *)e2e_tool(), "-p", pidbuf, "--json", json, "--folded", folded, NULL };
	struct proc fx, tt;
	json_t *j;
	int rc;

	setup_dir();
	snprintf(json, sizeof(json), "%s/out.json", dir);
	snprintf(folded, sizeof(folded), "%s/out.folded", dir);
	proc_start(&fx, fx_argv, true);
	cr_assert(proc_wait_for(&fx, "ready ", false, 10000), "fixture did not start:\n%s", fx.err);
	snprintf(pidbuf, sizeof(pidbuf), "%lld", truth(fx.out, "ready"));
	proc_start(&tt, tt_argv, false);
	cr_assert(proc_wait_for(&tt, "tracing pid", true, 30000), "ttbpf did not attach:\n%s", tt.err);
	cr_assert(write(fx.in_fd, "g", 1) == 1);
	cr_assert_eq(proc_finish(&fx, TRACE_TIMEOUT_MS), 0, "fixture failed:\n%s", fx.err);
	rc = proc_finish(&tt, TRACE_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt.err);
	j = load_json(json);
	cr_expect_str_eq(nz(jstr(json_object_get(j, "target"), "mode")), "attach");
	check_all(j, fx.out, folded);
	json_decref(j);
	proc_free(&fx);
	proc_free(&tt);
	e2e_rmtree(dir);
}

/*
 * --unwind fp, today's walk, on the same program: without frame pointers
 * each walk stops early, where its DWARF stack goes on to the root. Frame 0
 * is the same either way (the return address malloc was called with). Its
 * end is not checked: in a thread rbp is still the 0 clone3 set, so the fp
 * walk says "root" after one frame.
 */
Test(unwind, fp_is_shorter, .timeout = 120)
{
	char *opts[] = { "--unwind", "fp", NULL };
	struct chain c[NR_CHAINS];
	struct proc tt;
	json_t *j, *st, *frames;
	size_t i;

	setup_dir();
	j = launch(&tt, opts);
	build_chains(c);
	for (i = 0; i < NR_CHAINS; i++) {
		st = stack_of_size(j, truth(tt.out, c[i].size_key), c[i].name);
		frames = json_object_get(st, "frames");
		cr_assert(json_is_array(frames));
		cr_expect_lt(json_array_size(frames), c[i].n,
			     "%s: the fp stack has %zu frames, the DWARF one %zu; stack %s", c[i].name,
			     json_array_size(frames), c[i].n, describe(st));
		cr_expect_str_eq(nz(jstr(json_array_get(frames, 0), "symbol")), c[i].w[0].symbol,
				 "%s: stack %s", c[i].name, describe(st));
	}
	json_decref(j);
	proc_free(&tt);
	e2e_rmtree(dir);
}

/*
 * -f: a shell forks the fixture and it execs: the child is ptraced, held at
 * its dynamic linker's hook like a launched command, and its own report has
 * the same exact chains.
 */
Test(unwind, follow_child_exact_chains, .timeout = 120)
{
	char json[300], cmd[600];
	char *argv[] = { (char *)e2e_tool(), "-q", "-f", "--json", json, "--", "/bin/sh", "-c",
			 cmd, NULL };
	json_t *j, *procs, *c;
	const char *report;
	struct proc tt;
	int rc;

	setup_dir();
	snprintf(json, sizeof(json), "%s/out.json", dir);
	/* "; true": the shell forks for the fixture instead of exec'ing it */
	snprintf(cmd, sizeof(cmd), "%s -s %s; true", e2e_fixture(EXE), STAY_MS);
	rc = run(&tt, argv, TRACE_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt.err);
	j = load_json(json);
	procs = json_object_get(j, "processes");
	cr_assert_eq(json_array_size(procs), 1, "%zu children", json_array_size(procs));
	report = json_string_value(json_object_get(json_array_get(procs, 0), "report"));
	cr_assert(report, "the child has no report");
	c = load_json(report);
	check_all(c, tt.out, NULL);
	cr_expect_eq(truth(tt.out, "sigurg"), 0);
	cr_expect_geq(jint(c, "stats.unwind.holds"), 4);
	json_decref(c);
	json_decref(j);
	proc_free(&tt);
	e2e_rmtree(dir);
}

/*
 * The row array is sized from the files the command needs: clang (18
 * libraries, 2.5M rows: libLLVM's and libclang-cpp's 1M each) fits by
 * default, where the old fixed 2M left libclang-cpp without a table. With
 * too few rows, the files that found no room are counted in the JSON and
 * said in the summary, and their rows plus the rows loaded are exactly all
 * the tables' rows (those of the run where every file fitted).
 */
static json_t *clang_run(const char *d, const char *rows, struct proc *tt)
{
	char src[300], obj[300], json[300], *argv[16];
	FILE *f;
	int n = 0, rc;

	argv[n++] = (char *)e2e_tool();
	argv[n++] = "--json";
	argv[n++] = json;
	if (rows) {
		argv[n++] = "--unwind-rows";
		argv[n++] = (char *)rows;
	}
	argv[n++] = "--";
	argv[n++] = "clang";
	argv[n++] = "-c";
	argv[n++] = src;
	argv[n++] = "-o";
	argv[n++] = obj;
	argv[n] = NULL;
	snprintf(src, sizeof(src), "%s/x.c", d);
	snprintf(obj, sizeof(obj), "%s/x.o", d);
	snprintf(json, sizeof(json), "%s/%s.json", d, rows ? rows : "default");
	f = fopen(src, "w");
	cr_assert(f);
	fputs("int main(void) { return 0; }\n", f);
	fclose(f);
	rc = run(tt, argv, 60000);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt->err);
	return load_json(json);
}

static size_t files_with(json_t *j, const char *table)
{
	json_t *files = json_object_get(json_object_get(json_object_get(j, "stats"), "unwind"),
					"files"), *f;
	size_t i, n = 0;

	json_array_foreach(files, i, f)
		n += !strcmp(nz(jstr(f, "table")), table);
	return n;
}

Test(unwind, rows_sized_from_the_files, .timeout = 180)
{
	char rep[300], *argv[] = { (char *)e2e_tool(), "report", rep, NULL };
	struct proc tt, small, report;
	json_t *all, *cut;

	if (access("/usr/bin/clang", X_OK)) {
		cr_assert(!getenv("CI"), "no clang (installed by scripts/install-deps.sh)");
		cr_skip_test("no /usr/bin/clang");
	}
	setup_dir();
	all = clang_run(dir, NULL, &tt);
	cr_expect_eq(jint(all, "stats.unwind.files_no_room"), 0, "%s", tt.err);
	cr_expect_eq(files_with(all, "no-room"), 0);
	cr_expect_gt(files_with(all, "table"), 10);
	cr_expect_gt(jint(all, "stats.unwind.rows"), 2 << 20, "clang's tables are 2.5M rows");
	cr_expect_geq(jint(all, "stats.unwind.rows_capacity"), jint(all, "stats.unwind.rows"));
	cr_expect_eq(jint(all, "stats.unwind.rows_capacity"),
		     jint(all, "stats.unwind.rows_capacity") & ~1LL);
	cr_expect(!strstr(tt.err, "unwind tables"), "%s", tt.err);

	cut = clang_run(dir, "1M", &small);
	cr_expect_eq(jint(cut, "stats.unwind.rows_capacity"), 1 << 20);
	cr_expect_gt(jint(cut, "stats.unwind.files_no_room"), 0);
	cr_expect_eq(jint(cut, "stats.unwind.files_no_room"), (long long)files_with(cut, "no-room"));
	cr_expect_eq(jint(cut, "stats.unwind.rows") + jint(cut, "stats.unwind.rows_no_room"),
		     jint(all, "stats.unwind.rows"));
	cr_expect(strstr(small.err, "  unwind tables  "), "no summary line:\n%s", small.err);
	cr_expect(strstr(small.err, "no room in --unwind-rows 1.0M ("), "%s", small.err);
	/* and read back */
	snprintf(rep, sizeof(rep), "%s/1M.json", dir);
	cr_assert_eq(run(&report, argv, 30000), 0, "%s", report.err);
	cr_expect(strstr(report.out, "  unwind tables  ") || strstr(report.err, "  unwind tables  "),
		  "%s%s", report.out, report.err);
	json_decref(all);
	json_decref(cut);
	proc_free(&tt);
	proc_free(&small);
	proc_free(&report);
	e2e_rmtree(dir);
}
