// SPDX-License-Identifier: Apache-2.0
/*
 * The symbolizer against fixtures built at start (tests/fixtures/symbolize/
 * build.sh, so run from the repo root). Expected addresses come from nm and
 * expected lines from LINE-MARK comments in the sources or from addr2line:
 * never from the code under test.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "symbolize.h"

#define SRC_DIR "tests/fixtures/symbolize"
#define FIX_ENV "TTBPF_SYMFIX_DIR"

/* ---- fixtures, built once for all tests --------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Test workers are started after this and inherit the environment. */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	char dir[] = "/tmp/ttbpf-symfix-XXXXXX", cmd[PATH_MAX + 64];

	(void)set;
	if (!mkdtemp(dir))
		return;
	snprintf(cmd, sizeof(cmd), "sh " SRC_DIR "/build.sh %s", dir);
	if (system(cmd) == 0) {
		setenv(FIX_ENV, dir, 1);
		return;
	}
	fprintf(stderr, "test_symbolize: building fixtures failed (run from the repo root)\n");
	rm_tree(dir);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	const char *dir = getenv(FIX_ENV);

	(void)stats;
	if (dir && !strncmp(dir, "/tmp/ttbpf-symfix-", 18))
		rm_tree(dir);
}

static const char *fixdir(void)
{
	const char *dir = getenv(FIX_ENV);

	cr_assert_not_null(dir, "fixtures were not built");
	return dir;
}

static const char *fix(const char *name)
{
	static char bufs[4][PATH_MAX];
	static int i;
	char *buf = bufs[i++ % 4];

	snprintf(buf, PATH_MAX, "%s/%s", fixdir(), name);
	return buf;
}

/* ---- independent expectations --------------------------------------------- */

/* Address (and size, when asked) of a symbol as nm lists it. */
static uint64_t nm_addr(const char *path, const char *sym, uint64_t *size)
{
	char cmd[PATH_MAX + 32], line[1024], name[512], type;
	uint64_t addr, sz;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm -S '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %c %511s", &addr, &sz, &type, name) == 4 &&
		    !strcmp(name, sym))
			goto found;
		if (sscanf(line, "%" SCNx64 " %c %511s", &addr, &type, name) == 3 &&
		    !strcmp(name, sym)) {
			sz = 0;
			goto found;
		}
	}
	pclose(p);
	cr_assert_fail("nm: no %s in %s", sym, path);
	return 0;
found:
	pclose(p);
	if (size)
		*size = sz;
	return addr;
}

/* Line of the LINE-MARK comment for tag in a fixture source. */
static int mark_line(const char *src, const char *tag)
{
	char path[PATH_MAX], line[1024], want[256];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), SRC_DIR "/%s", src);
	snprintf(want, sizeof(want), "LINE-MARK: %s */", tag);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, want)) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	cr_assert_fail("no LINE-MARK for %s in %s", tag, src);
	return 0;
}

/* addr2line's line for each of addrs[0..n) (0 for "??"). */
static void addr2line_lines(const char *path, const uint64_t *addrs, size_t n, int *lines)
{
	char cmd[65536], line[PATH_MAX + 64], *colon;
	size_t len, i;
	FILE *p;

	len = (size_t)snprintf(cmd, sizeof(cmd), "addr2line -e '%s'", path);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, " %" PRIx64, addrs[i]);
	cr_assert_lt(len, sizeof(cmd));
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	for (i = 0; i < n; i++) {
		cr_assert_not_null(fgets(line, sizeof(line), p));
		colon = strrchr(line, ':');
		lines[i] = colon ? atoi(colon + 1) : 0;
	}
	pclose(p);
}

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = s ? strlen(s) : 0, b = strlen(suffix);

	return s && a >= b && !strcmp(s + a - b, suffix);
}

/* Resolves start + off in path, which should be want_sym + off; checks
 * everything but file and line. */
static struct sym_frame check_at(struct symbolizer *s, const char *path, uint64_t start,
				 uint64_t off, const char *want_sym)
{
	uint64_t addr = start + off;
	struct sym_frame f;
	const char *sym = want_sym;

	cr_assert_eq(symbolizer__resolve_file(s, path, addr, &f), 0, "%s %s", path, sym);
	cr_assert_str_eq(f.module, path);
	cr_assert_eq(f.module_offset, addr);
	cr_assert_eq(f.ip, addr);
	cr_assert_not_null(f.symbol, "%s: no symbol at %s+%" PRIu64, path, sym, off);
	cr_assert_str_eq(f.symbol, want_sym);
	cr_assert_eq(f.sym_offset, off, "%s+%" PRIu64 ": sym_offset %" PRIu64, sym, off,
		     f.sym_offset);
	return f;
}

/* The same, with the start from nm: sym there, shown as want_sym (or sym). */
static struct sym_frame check_file(struct symbolizer *s, const char *path, const char *nm_path,
				   const char *sym, uint64_t off, const char *want_sym)
{
	return check_at(s, path, nm_addr(nm_path, sym, NULL), off, want_sym ? want_sym : sym);
}

/* Each function's entry: name, offset 0, file and the LINE-MARK line. */
static void check_entries(struct symbolizer *s, const char *path, const char *nm_path)
{
	static const char *const fns[] = { "leaf_alloc", "mid", "main" };
	struct sym_frame f;
	size_t i;

	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		f = check_file(s, path, nm_path, fns[i], 0, NULL);
		cr_assert_str_eq(base_name(f.file), "symfix.c", "%s: file %s", fns[i], f.file);
		cr_assert_eq(f.line, mark_line("symfix.c", fns[i]), "%s: line %d", fns[i], f.line);
	}
}

static struct symbolizer *new_offline(const char *debug_root)
{
	struct symbolizer *s;

	cr_assert_eq(symbolizer__new(&s, 0), 0);
	symbolizer__set_debug_root(s, debug_root);
	return s;
}

/* ---- files -------------------------------------------------------------- */

Test(symbolize, pie_functions)
{
	struct symbolizer *s = new_offline(NULL);

	check_entries(s, fix("symfix_pie"), fix("symfix_pie"));
	symbolizer__free(s);
}

Test(symbolize, non_pie_functions)
{
	struct symbolizer *s = new_offline(NULL);

	/* ET_EXEC: link-time addresses are absolute (0x400000 and up) */
	cr_assert_geq(nm_addr(fix("symfix_nopie"), "main", NULL), 0x400000);
	check_entries(s, fix("symfix_nopie"), fix("symfix_nopie"));
	symbolizer__free(s);
}

/* Every byte of two functions: offset within the symbol, and the line
 * addr2line gives. */
Test(symbolize, interior_addresses_match_addr2line)
{
	static const char *const fns[] = { "leaf_alloc", "mid" };
	struct symbolizer *s = new_offline(NULL);
	uint64_t addrs[256], start, size, k;
	int lines[256];
	struct sym_frame f;
	size_t i;

	for (i = 0; i < 2; i++) {
		start = nm_addr(fix("symfix_pie"), fns[i], &size);
		cr_assert(size > 4 && size <= 256, "%s size %" PRIu64, fns[i], size);
		for (k = 0; k < size; k++)
			addrs[k] = start + k;
		addr2line_lines(fix("symfix_pie"), addrs, size, lines);
		for (k = 0; k < size; k++) {
			f = check_at(s, fix("symfix_pie"), start, k, fns[i]);
			cr_assert_eq(f.line, lines[k], "%s+%" PRIu64 ": line %d, addr2line %d",
				     fns[i], k, f.line, lines[k]);
		}
	}
	symbolizer__free(s);
}

/* zero_sized has st_size 0: it reaches up to the next symbol. */
Test(symbolize, zero_size_symbol)
{
	struct symbolizer *s = new_offline(NULL);
	uint64_t zero, size, next, k;
	struct sym_frame f;

	zero = nm_addr(fix("symfix_pie"), "zero_sized", &size);
	next = nm_addr(fix("symfix_pie"), "leaf_alloc", NULL);
	cr_assert_eq(size, 0);
	cr_assert(next > zero && next - zero < 64, "leaf_alloc should follow zero_sized");
	for (k = 0; k < next - zero; k++)
		check_at(s, fix("symfix_pie"), zero, k, "zero_sized");
	check_at(s, fix("symfix_pie"), next, 0, "leaf_alloc");
	/* nothing claims an address below the first function */
	cr_assert_eq(symbolizer__resolve_file(s, fix("symfix_pie"), 0x10, &f), 0);
	cr_assert_null(f.symbol);
	symbolizer__free(s);
}

/* Stripped (--strip-all, the functions are in no table left): names and
 * lines only come from DEBUG_ROOT/usr/lib/debug/.build-id/5e/b01d….debug. */
Test(symbolize, stripped_with_build_id_debug_file)
{
	struct symbolizer *s = new_offline(NULL);
	char root[PATH_MAX];
	struct sym_frame f;

	cr_assert_eq(symbolizer__resolve_file(s, fix("symfix_buildid"),
					      nm_addr(fix("symfix_buildid.full"), "mid", NULL), &f),
		     0);
	cr_assert_null(f.symbol, "stripped file resolved without its debug file: %s", f.symbol);
	symbolizer__free(s);

	snprintf(root, sizeof(root), "%s/debugroot", fixdir());
	s = new_offline(root);
	check_entries(s, fix("symfix_buildid"), fix("symfix_buildid.full"));
	symbolizer__free(s);
}

Test(symbolize, stripped_with_debuglink_same_dir)
{
	struct symbolizer *s = new_offline(NULL);

	check_entries(s, fix("symfix_dl"), fix("symfix_dl.full"));
	symbolizer__free(s);
}

Test(symbolize, debuglink_in_debug_subdir)
{
	struct symbolizer *s = new_offline(NULL);

	check_entries(s, fix("symfix_dlsub"), fix("symfix_dlsub.full"));
	symbolizer__free(s);
}

Test(symbolize, debuglink_in_global_debug_dir)
{
	struct symbolizer *s;
	char root[PATH_MAX];

	snprintf(root, sizeof(root), "%s/debugroot", fixdir());
	s = new_offline(root);
	check_entries(s, fix("symfix_dlglobal"), fix("symfix_dlglobal.full"));
	symbolizer__free(s);
}

/* The debug file was changed after linking: its CRC does not match. */
Test(symbolize, debuglink_crc_mismatch_is_refused)
{
	struct symbolizer *s = new_offline(NULL);
	struct sym_frame f;

	cr_assert_eq(symbolizer__resolve_file(s, fix("symfix_badcrc"),
					      nm_addr(fix("symfix_badcrc.full"), "mid", NULL), &f),
		     0);
	cr_assert_str_eq(f.module, fix("symfix_badcrc"));
	cr_assert_null(f.symbol);
	cr_assert_null(f.file);
	cr_assert_eq(f.line, 0);
	symbolizer__free(s);
}

Test(symbolize, cxx_names_are_demangled)
{
	struct symbolizer *s;
	struct sym_frame f;

	if (access(fix("symfix_cxx"), F_OK))
		cr_skip_test("no C++ compiler to build the fixture");
	s = new_offline(NULL);

	f = check_file(s, fix("symfix_cxx"), fix("symfix_cxx"), "_ZN2ns5Klass6methodEi", 0,
		       "ns::Klass::method(int)");
	cr_assert_str_eq(base_name(f.file), "symfix_cxx.cc");
	cr_assert_eq(f.line, mark_line("symfix_cxx.cc", "ns::Klass::method"));
	/* the tidied name is kept: a second lookup gives the same string */
	cr_assert_eq(check_file(s, fix("symfix_cxx"), fix("symfix_cxx"), "_ZN2ns5Klass6methodEi", 1,
				"ns::Klass::method(int)")
			     .symbol,
		     f.symbol);
	symbolizer__free(s);
}

/* ---- inlined calls -------------------------------------------------------- */

/* Address of the (only) call to malloc in fn of path, from objdump. */
static uint64_t malloc_call_in(const char *path, const char *fn)
{
	char cmd[PATH_MAX + 64], line[1024];
	uint64_t start, size, addr, found = 0;
	FILE *p;

	start = nm_addr(path, fn, &size);
	snprintf(cmd, sizeof(cmd), "objdump -d --no-show-raw-insn '%s'", path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, " %" SCNx64 ":", &addr) == 1 && addr >= start &&
		    addr < start + size && strstr(line, "call") && strstr(line, "<malloc"))
			found = addr;
	pclose(p);
	cr_assert_neq(found, 0, "no call to malloc in %s", fn);
	return found;
}

static void check_level(const struct sym_frame *f, uint64_t addr, const char *path,
			const char *sym, bool inlined, const char *mark)
{
	cr_assert_eq(f->ip, addr);
	cr_assert_str_eq(f->module, path);
	cr_assert_eq(f->module_offset, addr);
	cr_assert_not_null(f->symbol, "%s: no name", sym);
	cr_assert_str_eq(f->symbol, sym);
	cr_assert_eq(f->inlined, inlined, "%s: inlined %d", sym, f->inlined);
	cr_assert_str_eq(base_name(f->file), "symfix_inline.c", "%s: file %s", sym, f->file);
	cr_assert_eq(f->line, mark_line("symfix_inline.c", mark), "%s: line %d", sym, f->line);
}

static bool same_frame(const struct sym_frame *a, const struct sym_frame *b)
{
	/* strings are the symbolizer's: the same lookup gives the same pointers */
	return a->ip == b->ip && a->module == b->module && a->module_offset == b->module_offset &&
	       a->symbol == b->symbol && a->sym_offset == b->sym_offset && a->file == b->file &&
	       a->line == b->line && a->inlined == b->inlined;
}

Test(symbolize, inline_chain)
{
	struct symbolizer *s = new_offline(NULL);
	const char *path = fix("symfix_inline");
	uint64_t addr = malloc_call_in(path, "inline_root");
	struct sym_frame f[SYM_MAX_CHAIN], one, again[SYM_MAX_CHAIN];
	size_t nr, nr2;

	cr_assert_eq(symbolizer__resolve_file_chain(s, path, addr, f, SYM_MAX_CHAIN, &nr), 0);
	cr_assert_eq(nr, 3, "frames: %zu", nr);
	check_level(&f[0], addr, path, "inner_alloc", true, "inner_call");
	cr_assert_eq(f[0].sym_offset, 0);
	check_level(&f[1], addr, path, "outer_alloc", true, "outer_call");
	check_level(&f[2], addr, path, "inline_root", false, "root_call");
	cr_assert_eq(f[2].sym_offset, addr - nm_addr(path, "inline_root", NULL));

	/* one frame: the real function with the line table's line */
	cr_assert_eq(symbolizer__resolve_file(s, path, addr, &one), 0);
	cr_assert_str_eq(one.symbol, "inline_root");
	cr_assert_eq(one.sym_offset, f[2].sym_offset);
	cr_assert_not(one.inlined);
	cr_assert_eq(one.line, mark_line("symfix_inline.c", "inner_call"));

	/* cached: the same frames, the same strings */
	cr_assert_eq(symbolizer__resolve_file_chain(s, path, addr, again, SYM_MAX_CHAIN, &nr2), 0);
	cr_assert_eq(nr2, nr);
	for (size_t k = 0; k < nr; k++)
		cr_assert(same_frame(&again[k], &f[k]), "frame %zu", k);

	/* fewer slots: the outermost frames */
	cr_assert_eq(symbolizer__resolve_file_chain(s, path, addr, again, 2, &nr2), 0);
	cr_assert_eq(nr2, 2);
	cr_assert(same_frame(&again[0], &f[1]) && same_frame(&again[1], &f[2]));
	cr_assert_eq(symbolizer__resolve_file_chain(s, path, addr, again, 1, &nr2), 0);
	cr_assert_eq(nr2, 1);
	cr_assert(same_frame(&again[0], &f[2]));
	cr_assert_eq(symbolizer__resolve_file_chain(s, path, addr, again, 0, &nr2), -EINVAL);
	cr_assert_eq(nr2, 0);
	symbolizer__free(s);
}

/* Nothing inlined: one frame, what symbolizer__resolve gives. */
Test(symbolize, chain_without_inlining)
{
	static const char *const fns[] = { "leaf_alloc", "mid", "main" };
	struct symbolizer *s = new_offline(NULL);
	const char *path = fix("symfix_inline");
	uint64_t addr = malloc_call_in(path, "plain_alloc");
	struct sym_frame f[SYM_MAX_CHAIN], one;
	size_t nr, i;

	cr_assert_eq(symbolizer__resolve_file_chain(s, path, addr, f, SYM_MAX_CHAIN, &nr), 0);
	cr_assert_eq(nr, 1, "frames: %zu", nr);
	check_level(&f[0], addr, path, "plain_alloc", false, "plain_call");
	cr_assert_eq(symbolizer__resolve_file(s, path, addr, &one), 0);
	cr_assert(same_frame(&one, &f[0]));

	/* -O0: every address of the chain fixture is one frame */
	path = fix("symfix_pie");
	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		addr = nm_addr(path, fns[i], NULL) + 4;
		cr_assert_eq(symbolizer__resolve_file_chain(s, path, addr, f, SYM_MAX_CHAIN, &nr),
			     0);
		cr_assert_eq(nr, 1, "%s: frames: %zu", fns[i], nr);
		cr_assert_eq(symbolizer__resolve_file(s, path, addr, &one), 0);
		cr_assert(same_frame(&one, &f[0]), "%s", fns[i]);
	}
	/* no DWARF at all (stripped, no debug file found): one frame */
	cr_assert_eq(symbolizer__resolve_file_chain(s, fix("symfix_mini_nodata"), 0x1000, f,
						    SYM_MAX_CHAIN, &nr),
		     0);
	cr_assert_eq(nr, 1);
	cr_assert_not(f[0].inlined);
	symbolizer__free(s);
}

/* 20 inlined levels: the outermost SYM_MAX_INLINED, each with its call line. */
Test(symbolize, inline_chain_is_bounded)
{
	struct symbolizer *s = new_offline(NULL);
	const char *path = fix("symfix_inline");
	uint64_t addr = malloc_call_in(path, "deep_root");
	struct sym_frame f[SYM_MAX_CHAIN + 4];
	char name[32];
	size_t nr, k;

	cr_assert_eq(SYM_MAX_INLINED, 16);
	cr_assert_eq(symbolizer__resolve_file_chain(s, path, addr, f, SYM_MAX_CHAIN + 4, &nr), 0);
	cr_assert_eq(nr, SYM_MAX_CHAIN, "frames: %zu", nr);
	/* deep0..deep3 are dropped: deep4 is innermost, at its call of deep3 */
	for (k = 0; k < SYM_MAX_INLINED; k++) {
		snprintf(name, sizeof(name), "deep%zu", k + 4);
		check_level(&f[k], addr, path, name, true, name);
	}
	check_level(&f[SYM_MAX_INLINED], addr, path, "deep_root", false, "deep_root");
	symbolizer__free(s);
}

Test(symbolize, shared_library_file)
{
	struct symbolizer *s = new_offline(NULL);
	struct sym_frame f;

	f = check_file(s, fix("libsymfix.so"), fix("libsymfix.so"), "symfix_lib_alloc", 3, NULL);
	cr_assert_str_eq(base_name(f.file), "symfix_lib.c");
	f = check_file(s, fix("libsymfix.so"), fix("libsymfix.so"), "symfix_lib_where", 0, NULL);
	cr_assert_eq(f.line, mark_line("symfix_lib.c", "symfix_lib_where"));
	symbolizer__free(s);
}

/* Two files with one build-id share one module: the same interned strings. */
Test(symbolize, modules_are_shared_by_build_id)
{
	struct symbolizer *s = new_offline(NULL);
	struct sym_frame a, b;
	char cmd[2 * PATH_MAX];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", fix("symfix_pie"), fix("symfix_pie.copy"));
	cr_assert_eq(system(cmd), 0);
	a = check_file(s, fix("symfix_pie"), fix("symfix_pie"), "leaf_alloc", 2, NULL);
	b = check_file(s, fix("symfix_pie.copy"), fix("symfix_pie"), "leaf_alloc", 2, NULL);
	cr_assert_str_eq(b.module, fix("symfix_pie.copy"));
	cr_assert_eq(a.file, b.file, "the copy should share the first file's cache");
	cr_assert_eq(a.symbol, b.symbol);
	unlink(fix("symfix_pie.copy"));
	symbolizer__free(s);
}

Test(symbolize, unknown_and_bad_input)
{
	struct symbolizer *s = new_offline(NULL);
	struct sym_frame f;
	pid_t pid;

	cr_assert_not(symbolizer__knows(s, 0x401000));
	cr_assert_eq(symbolizer__resolve(s, 0x401000, &f), -ENOENT);
	cr_assert_eq(f.ip, 0x401000);
	cr_assert_null(f.module);
	cr_assert_null(f.symbol);
	cr_assert_eq(symbolizer__refresh(s), -ESRCH);
	cr_assert_eq(symbolizer__resolve_file(s, fix("no-such-file"), 0x1000, &f), -ENOENT);
	cr_assert_eq(symbolizer__resolve_file(s, SRC_DIR "/symfix.c", 0x1000, &f), -ENOEXEC);
	cr_assert_eq(symbolizer__resolve_file(s, fixdir(), 0x1000, &f), -EINVAL);
	cr_assert_eq(symbolizer__resolve_file(s, fix("symfix.o"), 0x10, &f), -ENOEXEC,
		     "ET_REL has no link-time addresses");
	symbolizer__set_debug_root(s, NULL);
	symbolizer__free(s);

	/* a pid that is gone */
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	cr_assert_eq(symbolizer__new(&s, pid), -ESRCH);
	cr_assert_null(s);
}

/* ---- live processes ------------------------------------------------------- */

struct child {
	pid_t pid;
	int stdin_fd;
	uint64_t leaf, lib; /* runtime addresses it printed */
};

/* Starts exe in wait mode and reads the addresses it prints. */
static void spawn(const char *exe, struct child *c)
{
	int in[2], out[2];
	FILE *f;

	cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	c->pid = fork();
	cr_assert_geq(c->pid, 0);
	if (!c->pid) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(exe, exe, "wait", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->stdin_fd = in[1];
	f = fdopen(out[0], "r");
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%" SCNx64 " %" SCNx64, &c->leaf, &c->lib), 2, "%s printed no addresses",
		     exe);
	fclose(f);
}

static void kill_child(struct child *c)
{
	kill(c->pid, SIGKILL);
	cr_assert_eq(waitpid(c->pid, NULL, 0), c->pid);
	close(c->stdin_fd);
}

static void check_live(struct symbolizer *s, uint64_t ip, const char *want_module,
		       const char *nm_path, const char *sym, uint64_t off, const char *src)
{
	uint64_t link = nm_addr(nm_path, sym, NULL) + off;
	struct sym_frame f;
	int line;

	cr_assert(symbolizer__knows(s, ip));
	cr_assert_eq(symbolizer__resolve(s, ip, &f), 0);
	cr_assert_eq(f.ip, ip);
	cr_assert_str_eq(f.module, want_module);
	cr_assert_eq(f.module_offset, link, "module_offset %#" PRIx64 ", nm says %#" PRIx64,
		     f.module_offset, link);
	cr_assert_str_eq(f.symbol, sym);
	cr_assert_eq(f.sym_offset, off);
	cr_assert_str_eq(base_name(f.file), src);
	addr2line_lines(nm_path, &link, 1, &line);
	cr_assert_eq(f.line, line);
}

Test(symbolize, live_process_then_exited)
{
	char exe[PATH_MAX], lib[PATH_MAX];
	struct symbolizer *s;
	struct sym_frame f;
	struct child c;

	cr_assert_not_null(realpath(fix("symfix_pie"), exe));
	cr_assert_not_null(realpath(fix("libsymfix.so"), lib));
	spawn(exe, &c);
	cr_assert_eq(symbolizer__new(&s, c.pid), 0);
	cr_assert_not(symbolizer__knows(s, c.leaf));
	cr_assert_eq(symbolizer__refresh(s), 0);
	check_live(s, c.leaf + 5, exe, exe, "leaf_alloc", 5, "symfix.c");
	cr_assert_eq(symbolizer__resolve(s, c.leaf, &f), 0);
	cr_assert(ends_with(f.module, "/symfix_pie"), "module %s", f.module);
	/* a second refresh changes nothing */
	cr_assert_eq(symbolizer__refresh(s), 0);
	check_live(s, c.leaf + 5, exe, exe, "leaf_alloc", 5, "symfix.c");

	kill_child(&c);
	cr_assert_eq(symbolizer__refresh(s), -ESRCH);
	/* the library is first looked at now: its file stayed open */
	check_live(s, c.lib + 2, lib, lib, "symfix_lib_alloc", 2, "symfix_lib.c");
	cr_assert_eq(symbolizer__resolve(s, c.lib, &f), 0);
	cr_assert(ends_with(f.module, "/libsymfix.so"), "module %s", f.module);
	check_live(s, c.leaf, exe, exe, "leaf_alloc", 0, "symfix.c");
	cr_assert_eq(symbolizer__resolve(s, 0x10, &f), -ENOENT);
	symbolizer__free(s);
}

/* The files are deleted while it runs, before we first look at them. */
Test(symbolize, live_process_deleted_files)
{
	char dir[] = "/tmp/ttbpf-symfix-del-XXXXXX", cmd[4 * PATH_MAX], exe[PATH_MAX],
	     lib[PATH_MAX], probe[64];
	struct symbolizer *s;
	struct child c;
	int fd;

	/* reading through /proc/PID/map_files takes CAP_SYS_ADMIN */
	snprintf(probe, sizeof(probe), "/proc/self/map_files");
	fd = open(probe, O_RDONLY | O_DIRECTORY);
	if (fd < 0 || geteuid() != 0) {
		if (fd >= 0)
			close(fd);
		cr_skip_test("needs /proc/PID/map_files (root)");
	}
	close(fd);
	fixdir(); /* before anything is made that a failed assertion would leave */
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' '%s'", fix("symfix_pie"), fix("libsymfix.so"), dir);
	cr_assert_eq(system(cmd), 0);
	snprintf(exe, sizeof(exe), "%s/symfix_pie", dir);
	snprintf(lib, sizeof(lib), "%s/libsymfix.so", dir);
	spawn(exe, &c);
	cr_assert_eq(symbolizer__new(&s, c.pid), 0);
	cr_assert_eq(unlink(exe), 0);
	cr_assert_eq(unlink(lib), 0);
	cr_assert_eq(rmdir(dir), 0);
	cr_assert_eq(symbolizer__refresh(s), 0);
	kill_child(&c);
	check_live(s, c.leaf + 1, exe, fix("symfix_pie"), "leaf_alloc", 1, "symfix.c");
	check_live(s, c.lib, lib, fix("libsymfix.so"), "symfix_lib_alloc", 0, "symfix_lib.c");
	symbolizer__free(s);
}

/* ---- files shared by symbolizers -------------------------------------------- */

/* How many of our descriptors are open on path (as /proc/self/fd names it:
 * absolute, " (deleted)" appended once it is gone). */
static int fds_on(const char *path)
{
	char link[PATH_MAX + 16];
	struct dirent *e;
	ssize_t n;
	int count = 0;
	DIR *d = opendir("/proc/self/fd");

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		n = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		count += !strcmp(link, path);
	}
	closedir(d);
	return count;
}

static struct symbolizer *new_live(const struct child *c)
{
	struct symbolizer *s;

	cr_assert_eq(symbolizer__new(&s, c->pid), 0);
	cr_assert_eq(symbolizer__refresh(s), 0);
	return s;
}

/* Two processes of one executable: each file they map is opened once, each
 * process keeps its own load addresses, and either symbolizer can go first. */
Test(symbolize, processes_share_open_files)
{
	char exe[PATH_MAX], lib[PATH_MAX];
	struct symbolizer *s1, *s2;
	struct sym_frame f1, f2;
	struct child c1, c2;

	cr_assert_not_null(realpath(fix("symfix_pie"), exe));
	cr_assert_not_null(realpath(fix("libsymfix.so"), lib));
	cr_assert_eq(fds_on(exe), 0);
	spawn(exe, &c1);
	spawn(exe, &c2);
	s1 = new_live(&c1);
	s2 = new_live(&c2);
	cr_assert_eq(fds_on(exe), 1, "the executable should be open once, not %d times",
		     fds_on(exe));
	cr_assert_eq(fds_on(lib), 1, "the library should be open once, not %d times",
		     fds_on(lib));

	check_live(s1, c1.leaf + 5, exe, exe, "leaf_alloc", 5, "symfix.c");
	check_live(s2, c2.leaf + 5, exe, exe, "leaf_alloc", 5, "symfix.c");
	/* one cache: the same interned strings */
	cr_assert_eq(symbolizer__resolve(s1, c1.leaf, &f1), 0);
	cr_assert_eq(symbolizer__resolve(s2, c2.leaf, &f2), 0);
	cr_assert_eq(f1.symbol, f2.symbol);
	cr_assert_eq(f1.file, f2.file);

	/* the first one goes: the second keeps the files and what was parsed */
	kill_child(&c1);
	symbolizer__free(s1);
	cr_assert_eq(fds_on(exe), 1);
	cr_assert_eq(fds_on(lib), 1);
	kill_child(&c2);
	cr_assert_eq(symbolizer__refresh(s2), -ESRCH);
	check_live(s2, c2.leaf, exe, exe, "leaf_alloc", 0, "symfix.c");
	/* first looked at now, after the other symbolizer was freed */
	check_live(s2, c2.lib + 2, lib, lib, "symfix_lib_alloc", 2, "symfix_lib.c");
	symbolizer__free(s2);
	cr_assert_eq(fds_on(exe), 0, "the last one closes the file");
	cr_assert_eq(fds_on(lib), 0);
}

/* symbolizer__resolve_file() shares files too; freed in either order. */
Test(symbolize, offline_symbolizers_share_open_files)
{
	struct symbolizer *s1 = new_offline(NULL), *s2 = new_offline(NULL);
	char path[PATH_MAX];
	struct sym_frame a, b;

	cr_assert_not_null(realpath(fix("libsymfix.so"), path));
	a = check_file(s1, path, path, "symfix_lib_alloc", 3, NULL);
	b = check_file(s2, path, path, "symfix_lib_alloc", 3, NULL);
	cr_assert_eq(fds_on(path), 1);
	cr_assert_eq(a.symbol, b.symbol);
	cr_assert_eq(a.file, b.file);
	symbolizer__free(s1);
	b = check_file(s2, path, path, "symfix_lib_where", 0, NULL);
	cr_assert_eq(b.line, mark_line("symfix_lib.c", "symfix_lib_where"));
	cr_assert_eq(fds_on(path), 1);
	s1 = new_offline(NULL);
	check_file(s1, path, path, "symfix_lib_where", 0, NULL);
	symbolizer__free(s2);
	check_file(s1, path, path, "symfix_lib_alloc", 1, NULL);
	symbolizer__free(s1);
	cr_assert_eq(fds_on(path), 0);
}

/* An executable replaced on disk (a new inode at the same path) while a
 * process of the old one runs: each process gets its own file's symbols. */
Test(symbolize, replaced_file_is_not_shared)
{
	char dir[] = "/tmp/ttbpf-symfix-repl-XXXXXX", cmd[4 * PATH_MAX], exe[PATH_MAX],
	     lib[PATH_MAX], tmp[PATH_MAX], gone[PATH_MAX + 16];
	struct symbolizer *s1, *s2, *s3;
	struct sym_frame f;
	struct child c1, c2;

	fixdir();
	cr_assert_not_null(mkdtemp(dir));
	snprintf(exe, sizeof(exe), "%s/prog", dir);
	snprintf(lib, sizeof(lib), "%s/libsymfix.so", dir);
	snprintf(tmp, sizeof(tmp), "%s/prog.new", dir);
	snprintf(gone, sizeof(gone), "%s (deleted)", exe);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && cp '%s' '%s' && cp '%s' '%s'",
		 fix("symfix_pie"), exe, fix("libsymfix.so"), lib, fix("symfix_nopie"), tmp);
	cr_assert_eq(system(cmd), 0);

	spawn(exe, &c1); /* the PIE */
	s1 = new_live(&c1);
	cr_assert_eq(rename(tmp, exe), 0);
	spawn(exe, &c2); /* the non-PIE, same path */
	s2 = new_live(&c2);
	cr_assert_eq(fds_on(gone), 1);
	cr_assert_eq(fds_on(exe), 1);
	cr_assert_eq(fds_on(lib), 1, "the library did not change: open once");

	check_live(s1, c1.leaf + 3, exe, fix("symfix_pie"), "leaf_alloc", 3, "symfix.c");
	check_live(s2, c2.leaf + 3, exe, fix("symfix_nopie"), "leaf_alloc", 3, "symfix.c");
	check_live(s1, c1.lib, lib, lib, "symfix_lib_alloc", 0, "symfix_lib.c");
	check_live(s2, c2.lib, lib, lib, "symfix_lib_alloc", 0, "symfix_lib.c");

	/* the path now names the new file: shared with s2, not s1's old one */
	s3 = new_offline(NULL);
	check_file(s3, exe, fix("symfix_nopie"), "main", 0, NULL);
	cr_assert_eq(fds_on(exe), 1);
	cr_assert_eq(fds_on(gone), 1);

	kill_child(&c1);
	kill_child(&c2);
	symbolizer__free(s2);
	check_file(s3, exe, fix("symfix_nopie"), "mid", 0, NULL);
	check_live(s1, c1.leaf, exe, fix("symfix_pie"), "leaf_alloc", 0, "symfix.c");
	symbolizer__free(s3);
	cr_assert_eq(fds_on(exe), 0);
	cr_assert_eq(fds_on(gone), 1);
	cr_assert_eq(symbolizer__resolve(s1, c1.leaf + 1, &f), 0);
	cr_assert_str_eq(f.symbol, "leaf_alloc");
	symbolizer__free(s1);
	cr_assert_eq(fds_on(gone), 0);
	cr_assert_eq(fds_on(lib), 0);
	rm_tree(dir);
}

/* Files are only shared by symbolizers that would find the same debug files:
 * one without the debug root does not get what one with it found, nor the
 * other way round. */
Test(symbolize, debug_root_is_not_shared)
{
	struct symbolizer *plain, *plain2, *rooted, *rooted2;
	char root[PATH_MAX], path[PATH_MAX];
	struct sym_frame f;
	uint64_t mid = nm_addr(fix("symfix_buildid.full"), "mid", NULL);

	cr_assert_not_null(realpath(fix("symfix_buildid"), path));
	snprintf(root, sizeof(root), "%s/debugroot", fixdir());
	rooted = new_offline(root);
	check_entries(rooted, path, fix("symfix_buildid.full"));
	plain = new_offline(NULL);
	cr_assert_eq(symbolizer__resolve_file(plain, path, mid, &f), 0);
	cr_assert_null(f.symbol, "found through the other symbolizer's debug root");
	cr_assert_eq(fds_on(path), 2);
	/* and each kind still shares with its own */
	plain2 = new_offline(NULL);
	rooted2 = new_offline(root);
	cr_assert_eq(symbolizer__resolve_file(plain2, path, mid, &f), 0);
	cr_assert_null(f.symbol);
	check_entries(rooted2, path, fix("symfix_buildid.full"));
	cr_assert_eq(fds_on(path), 2);
	symbolizer__free(rooted);
	symbolizer__free(plain);
	cr_assert_eq(symbolizer__resolve_file(plain2, path, mid, &f), 0);
	cr_assert_null(f.symbol);
	check_entries(rooted2, path, fix("symfix_buildid.full"));
	symbolizer__free(plain2);
	symbolizer__free(rooted2);
	cr_assert_eq(fds_on(path), 0);
}

/* ---- hostile files ---------------------------------------------------------- */

static uint64_t rng_state = 0x5eb01d2024ULL;

static uint64_t rnd(void)
{
	/* xorshift64*: fixed seed, same corruptions every run */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	unsigned char *buf;
	struct stat st;
	FILE *f = fopen(path, "rb");

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fstat(fileno(f), &st), 0);
	buf = malloc((size_t)st.st_size);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);
	*len = (size_t)st.st_size;
	return buf;
}

static void spit(const char *path, const unsigned char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/* A random section's bytes [*lo, *hi) in a pristine 64-bit little-endian ELF
 * file (the fixtures'), so that flips reach symbol tables, notes and DWARF. */
static bool pick_section(const unsigned char *orig, size_t len, size_t *lo, size_t *hi)
{
	uint64_t shoff, off, size;
	uint16_t shnum;
	size_t i;

	memcpy(&shoff, orig + 40, 8);
	memcpy(&shnum, orig + 60, 2);
	if (!shnum || shoff > len || (len - shoff) / 64 < shnum)
		return false;
	i = 1 + rnd() % shnum;
	if (i >= shnum)
		return false;
	memcpy(&off, orig + shoff + i * 64 + 24, 8);
	memcpy(&size, orig + shoff + i * 64 + 32, 8);
	if (!size || off > len || size > len - off)
		return false;
	*lo = off;
	*hi = off + size;
	return true;
}

/* Flips bytes (anywhere, in the ELF and program headers, in the section
 * headers, in one section; at random or to 0x00/0xff) or truncates. */
static size_t corrupt(unsigned char *buf, const unsigned char *orig, size_t len)
{
	size_t n, i, pos, lo, hi;
	uint64_t shoff;

	if (rnd() % 8 == 0)
		return rnd() % len;
	memcpy(&shoff, orig + 40, 8);
	n = 1 + rnd() % 24;
	for (i = 0; i < n; i++) {
		switch (rnd() % 5) {
		case 0:
			pos = rnd() % (len < 1024 ? len : 1024);
			break;
		case 1:
			pos = shoff < len ? shoff + rnd() % (len - shoff) : rnd() % len;
			break;
		case 2:
		case 3:
			pos = pick_section(orig, len, &lo, &hi) ? lo + rnd() % (hi - lo)
								: rnd() % len;
			break;
		default:
			pos = rnd() % len;
		}
		switch (rnd() % 4) {
		case 0:
			buf[pos] = 0xff;
			break;
		case 1:
			buf[pos] = 0;
			break;
		default:
			buf[pos] ^= (unsigned char)(1 + rnd() % 255);
		}
	}
	return len;
}

/* Corrupted copies of each kind of file, main files and a debug file found
 * by build-id: no crash, no hang, only the documented errors. */
Test(symbolize, corrupted_files, .timeout = 60)
{
	/* the last is the debug file; C++ names feed the demangler */
	const char *srcs[] = { "symfix_pie", "libsymfix.so", "symfix_nopie", "symfix_dlsub",
			       "symfix_cxx", "symfix_mini", "symfix_inline", NULL };
	const char *dbg_rel = "usr/lib/debug/.build-id/5e/b01d00000000000000000000000000000000a1.debug";
	char dir[] = "/tmp/ttbpf-symfix-fuzz-XXXXXX", path[PATH_MAX], dbg[PATH_MAX],
	     cmd[3 * PATH_MAX];
	enum { KINDS = sizeof(srcs) / sizeof(srcs[0]), DBG = KINDS - 1 };
	unsigned char *orig[KINDS], *buf;
	size_t len[KINDS], n, maxlen = 0, k;
	int i, err, which, named = 0, lined = 0, chained = 0;
	uint64_t addrs[5];
	struct symbolizer *s;
	struct sym_frame f, chain[SYM_MAX_CHAIN];
	size_t nr, c;

	if (access(fix("symfix_cxx"), F_OK)) /* also: fixtures were built, before mkdtemp */
		srcs[4] = "symfix_pie";
	cr_assert_not_null(mkdtemp(dir));
	for (k = 0; k < DBG; k++)
		orig[k] = slurp(fix(srcs[k]), &len[k]);
	snprintf(dbg, sizeof(dbg), "%s/debugroot/%s", fixdir(), dbg_rel);
	orig[DBG] = slurp(dbg, &len[DBG]);
	for (k = 0; k < KINDS; k++)
		maxlen = len[k] > maxlen ? len[k] : maxlen;
	buf = malloc(maxlen);
	cr_assert_not_null(buf);
	/* the stripped file whose debug file gets corrupted */
	snprintf(dbg, sizeof(dbg), "%s/%s", dir, dbg_rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && cp '%s' '%s/stripped'", dbg,
		 fix("symfix_buildid"), dir);
	cr_assert_eq(system(cmd), 0);
	addrs[0] = nm_addr(fix("symfix_pie"), "leaf_alloc", NULL);
	addrs[1] = nm_addr(fix("symfix_pie"), "main", NULL) + 7;
	addrs[2] = nm_addr(fix("libsymfix.so"), "symfix_lib_alloc", NULL) + 3;
	addrs[4] = malloc_call_in(fix("symfix_inline"), "deep_root");

	for (i = 0; i < 2000; i++) {
		which = i % KINDS;
		memcpy(buf, orig[which], len[which]);
		n = corrupt(buf, orig[which], len[which]);
		if (which == DBG) {
			spit(dbg, buf, n);
			snprintf(path, sizeof(path), "%s/stripped", dir);
		} else {
			snprintf(path, sizeof(path), "%s/f%d", dir, i);
			spit(path, buf, n);
		}
		cr_assert_eq(symbolizer__new(&s, 0), 0);
		symbolizer__set_debug_root(s, dir);
		addrs[3] = rnd() % 0x3000;
		for (k = 0; k < 5; k++) {
			err = symbolizer__resolve_file(s, path, addrs[k], &f);
			cr_assert(err == 0 || err == -ENOEXEC, "iteration %d: %d", i, err);
			/* touch every string, for the sanitizers */
			if (f.symbol)
				cr_assert_lt(strlen(f.symbol), 1 << 16);
			if (f.file)
				cr_assert_lt(strlen(f.file), 1 << 16);
			named += f.symbol != NULL;
			lined += f.line != 0;
			/* and the inline chains, through DWARF that may be broken */
			err = symbolizer__resolve_file_chain(s, path, addrs[k], chain,
							     SYM_MAX_CHAIN, &nr);
			cr_assert(err == 0 || err == -ENOEXEC, "iteration %d: %d", i, err);
			cr_assert(nr >= 1 && nr <= SYM_MAX_CHAIN, "iteration %d: %zu", i, nr);
			for (c = 0; c < nr; c++) {
				if (chain[c].symbol)
					cr_assert_lt(strlen(chain[c].symbol), 1 << 16);
				if (chain[c].file)
					cr_assert_lt(strlen(chain[c].file), 1 << 16);
				cr_assert_eq(chain[c].inlined, c + 1 < nr);
			}
			chained += nr > 1;
		}
		symbolizer__free(s);
		if (which != DBG)
			unlink(path);
	}
	free(buf);
	for (k = 0; k < KINDS; k++)
		free(orig[k]);
	rm_tree(dir);
	cr_log_info("corrupted_files: %d lookups named, %d with a line, %d inlined, of %d", named,
		    lined, chained, 2000 * 5);
	/* most corruptions leave something to parse: the deep paths ran */
	cr_assert_gt(named, 500);
	cr_assert_gt(lined, 100);
	cr_assert_gt(chained, 20);
}

/* ---- MiniDebugInfo (.gnu_debugdata) -------------------------------------- */

static const char *const mini_fns[] = { "mini_first", "mini_second", "mini_third", "main" };

/* Inside each static function of symfix_mini (entry, entry + 5): the name the
 * unstripped binary gives (nm), or none at all when want_names is false. */
static void check_mini(const char *name, bool want_names)
{
	struct symbolizer *s = new_offline(fixdir()); /* no debug file there */
	uint64_t addr, size, off;
	struct sym_frame f;
	size_t i;

	for (i = 0; i < sizeof(mini_fns) / sizeof(mini_fns[0]); i++) {
		addr = nm_addr(fix("symfix_mini.full"), mini_fns[i], &size);
		cr_assert_gt(size, 5, "%s: size %" PRIu64, mini_fns[i], size);
		for (off = 0; off <= 5; off += 5) {
			cr_assert_eq(symbolizer__resolve_file(s, fix(name), addr + off, &f), 0,
				     "%s %s", name, mini_fns[i]);
			cr_assert_str_eq(f.module, fix(name));
			cr_assert_eq(f.module_offset, addr + off);
			if (want_names) {
				cr_assert_not_null(f.symbol, "%s: %s+%" PRIu64 " unnamed", name,
						   mini_fns[i], off);
				cr_assert_str_eq(f.symbol, mini_fns[i], "%s", name);
				cr_assert_eq(f.sym_offset, off);
			} else {
				cr_assert(!f.symbol || strcmp(f.symbol, mini_fns[i]),
					  "%s: %s named without MiniDebugInfo", name, mini_fns[i]);
			}
			cr_assert_null(f.file);
		}
	}
	symbolizer__free(s);
}

Test(symbolize, mini_debuginfo_names_static_functions)
{
	struct sym_frame f;
	struct symbolizer *s = new_offline(NULL);
	size_t i;

	/* the unstripped binary's names, the reference */
	for (i = 0; i < sizeof(mini_fns) / sizeof(mini_fns[0]); i++) {
		cr_assert_eq(symbolizer__resolve_file(s, fix("symfix_mini.full"),
						      nm_addr(fix("symfix_mini.full"), mini_fns[i],
							      NULL) + 5,
						      &f),
			     0);
		cr_assert_str_eq(f.symbol, mini_fns[i]);
	}
	symbolizer__free(s);
	check_mini("symfix_mini", true);
}

Test(symbolize, mini_debuginfo_absent_gives_no_names)
{
	check_mini("symfix_mini_nodata", false);
}

/* Broken sections: ignored whole, the frame keeps its module and offset. */
Test(symbolize, mini_debuginfo_broken_is_ignored, .timeout = 60)
{
	check_mini("symfix_mini_corrupt", false);
	check_mini("symfix_mini_truncated", false);
	check_mini("symfix_mini_notelf", false);
	check_mini("symfix_mini_notxz", false);
	/* decompresses to more than 256 MiB: the bound stops it */
	check_mini("symfix_mini_huge", false);
}

/* The section header of .gnu_debugdata in a 64-bit little-endian file. */
static size_t mini_shdr(const unsigned char *b, size_t len)
{
	uint64_t shoff = 0, sh, names;
	unsigned shnum = 0, shstrndx = 0, i, k;

	cr_assert_gt(len, 64);
	for (k = 0; k < 8; k++)
		shoff |= (uint64_t)b[40 + k] << (8 * k);
	shnum = b[60] | b[61] << 8;
	shstrndx = b[62] | b[63] << 8;
	cr_assert(shoff < len && shstrndx < shnum && shnum <= (len - shoff) / 64);
	sh = shoff + 64 * (uint64_t)shstrndx;
	for (names = 0, k = 0; k < 8; k++)
		names |= (uint64_t)b[sh + 24 + k] << (8 * k);
	for (i = 0; i < shnum; i++) {
		uint32_t name = 0;

		sh = shoff + 64 * (uint64_t)i;
		for (k = 0; k < 4; k++)
			name |= (uint32_t)b[sh + k] << (8 * k);
		if (names + name + sizeof(".gnu_debugdata") <= len &&
		    !memcmp(b + names + name, ".gnu_debugdata", sizeof(".gnu_debugdata")))
			return (size_t)sh;
	}
	cr_assert_fail("no .gnu_debugdata section header");
	return 0;
}

/* A section header claiming more than the 64 MiB bound, or more than the
 * file holds: ignored, and no allocation of what it claims. */
Test(symbolize, mini_debuginfo_oversized_claim_is_ignored)
{
	static const uint64_t claims[] = { (64ull << 20) + 1, 1ull << 40, UINT64_MAX, 1 };
	unsigned char *b;
	size_t len, sh, i, k;
	char name[64];

	b = slurp(fix("symfix_mini"), &len);
	sh = mini_shdr(b, len);
	for (i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
		for (k = 0; k < 8; k++) /* sh_size */
			b[sh + 32 + k] = (unsigned char)(claims[i] >> (8 * k));
		snprintf(name, sizeof(name), "symfix_mini_claim%zu", i);
		spit(fix(name), b, len);
		check_mini(name, false);
		unlink(fix(name));
	}
	free(b);
}

/* Hostile contents in a well-formed xz stream (what a mutating fuzzer rarely
 * reaches past the stream's check): corrupted copies of the mini debug ELF,
 * compressed and added as .gnu_debugdata. Never a crash, a hang or a name
 * outside the symbols; frames stay module+offset at worst. */
Test(symbolize, mini_debuginfo_hostile_elf_inside, .timeout = 120)
{
	char dir[] = "/tmp/ttbpf-symfix-mini-XXXXXX", elf[PATH_MAX], out[PATH_MAX],
	     cmd[6 * PATH_MAX];
	unsigned char *orig, *buf;
	size_t len, n, k;
	uint64_t addrs[4];
	int i, named = 0, runs = 400;
	struct symbolizer *s;
	struct sym_frame f;

	orig = slurp(fix("mini.elf"), &len);
	buf = malloc(len);
	cr_assert_not_null(buf);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(elf, sizeof(elf), "%s/mini.elf", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(cmd, sizeof(cmd),
		 "xz -T1 -c '%s' >'%s.xz' && objcopy --add-section .gnu_debugdata='%s.xz' '%s' '%s'",
		 elf, elf, elf, fix("symfix_mini_nodata"), out);
	for (k = 0; k < 4; k++)
		addrs[k] = nm_addr(fix("symfix_mini.full"), mini_fns[k], NULL) + 2;
	for (i = 0; i < runs; i++) {
		memcpy(buf, orig, len);
		n = corrupt(buf, orig, len);
		spit(elf, buf, n);
		cr_assert_eq(system(cmd), 0, "iteration %d", i);
		s = new_offline(dir);
		for (k = 0; k < 4; k++) {
			cr_assert_eq(symbolizer__resolve_file(s, out, addrs[k], &f), 0);
			cr_assert_str_eq(f.module, out);
			cr_assert_eq(f.module_offset, addrs[k]);
			if (f.symbol)
				cr_assert_lt(strlen(f.symbol), 1 << 16);
			named += f.symbol && !strcmp(f.symbol, mini_fns[k]);
		}
		symbolizer__free(s);
	}
	free(buf);
	free(orig);
	rm_tree(dir);
	cr_log_info("mini_debuginfo_hostile_elf_inside: %d of %d lookups kept their name", named,
		    runs * 4);
	/* most corruptions leave the symbol table readable: the path ran */
	cr_assert_gt(named, runs);
}
