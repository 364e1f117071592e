// SPDX-License-Identifier: Apache-2.0
/*
 * The choice of a stack's call site: which frames are allocation wrappers
 * (the built-in list, libc and the C++ runtime by module, --skip-frames
 * patterns), which frame is picked, and how stacks group into sites by
 * function or by address. The last tests symbolize stacks of this very
 * binary (built -O2 -g), so that names come from the real symbolizer.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "callsites.h"
#include "heap.h"
#include "leaks.h"
#include "model.h"
#include "stacks.h"

/* ---- names --------------------------------------------------------------- */

Test(callsites, known_wrappers_by_demangled_name)
{
	static const char *const yes[] = {
		"operator new(unsigned long)",
		"operator new[](unsigned long)",
		"operator new(unsigned long, std::align_val_t)",
		"operator new(unsigned long, std::nothrow_t const&)",
		"operator new[](unsigned long, std::align_val_t, std::nothrow_t const&)",
		"Arena::operator new(unsigned long)",
		"xmalloc", "xmalloc.cold", "xcalloc", "xrealloc", "xstrdup",
		"g_malloc", "g_malloc0", "g_realloc", "g_malloc_n", "g_strdup",
		"sqlite3Malloc", "sqlite3MallocZero", "sqlite3DbMallocRaw", "sqlite3DbMallocRawNN",
		"av_malloc", "av_mallocz", "PyMem_Malloc", "PyObject_Malloc", "CRYPTO_malloc",
		"__cxa_allocate_exception",
		"std::allocator<int>::allocate(unsigned long)",
		"__gnu_cxx::new_allocator<char>::allocate(unsigned long, void const*)",
		"std::__new_allocator<Node>::allocate(unsigned long, void const*)",
		"void std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>"
		"(__gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > >, "
		"int const&)",
		"std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >"
		"::_M_create(unsigned long&, unsigned long)",
		"llvm::SmallVectorBase<unsigned int>::grow_pod(void*, unsigned long, unsigned long)",
		"llvm::safe_malloc(unsigned long)",
	};
	static const char *const no[] = {
		"parse_line", "xmalloc_stats", "my_xmalloc", "g_mallocx", "main",
		"mylib::xmalloc(unsigned long)",
		"(anonymous namespace)::make_node(int)",
		"operator<<(std::ostream&, Point const&)",
		"operator newline_helper()",
		"main::{lambda()#1}::operator()() const",
		"Table::load(std::__cxx11::basic_string<char, std::char_traits<char>, "
		"std::allocator<char> > const&)",
		"std::vector<int> make_table(int)",
		"",
	};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_expect(callsites__known_wrapper(yes[i]), "not taken for a wrapper: %s", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_expect(!callsites__known_wrapper(no[i]), "taken for a wrapper: %s", no[i]);
	cr_expect(!callsites__known_wrapper(NULL));
}

/* ---- the filter and the pick -------------------------------------------- */

static struct sym_frame fr(const char *module, const char *symbol)
{
	return (struct sym_frame){ .ip = 0x1000, .module = module, .symbol = symbol };
}

Test(callsites, skips_by_module)
{
	struct callsites_filter *flt;
	struct sym_frame f;

	cr_assert_eq(callsites_filter__new(&flt, "/opt/lib/libjemalloc.so.2", NULL, 0), 0);
	f = fr("/usr/lib/x86_64-linux-gnu/libc.so.6", "__strdup");
	cr_expect(callsites_filter__skips(flt, &f));
	f = fr("/usr/lib/x86_64-linux-gnu/libc.so.6", NULL);
	cr_expect(callsites_filter__skips(flt, &f), "libc without a name is still libc");
	f = fr("/opt/lib/libjemalloc.so.2", "je_malloc_default");
	cr_expect(callsites_filter__skips(flt, &f), "the allocator probed");
	f = fr("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "__cxa_throw");
	cr_expect(callsites_filter__skips(flt, &f), "the C++ runtime");
	f = fr("/usr/bin/app", "parse_line");
	cr_expect(!callsites_filter__skips(flt, &f));
	f = fr("/usr/bin/app", NULL);
	cr_expect(!callsites_filter__skips(flt, &f), "no name: nothing says it is a wrapper");
	f = fr(NULL, NULL);
	cr_expect(!callsites_filter__skips(flt, &f));
	callsites_filter__free(flt);
}

Test(callsites, skip_frames_patterns)
{
	static const char *const re[] = { "^pool_(alloc|grow)$", "Arena::New" };
	struct callsites_filter *flt;
	struct sym_frame f;

	cr_assert_eq(callsites_filter__new(&flt, NULL, re, 2), 0);
	f = fr("/usr/bin/app", "pool_alloc");
	cr_expect(callsites_filter__skips(flt, &f));
	f = fr("/usr/bin/app", "pool_grow");
	cr_expect(callsites_filter__skips(flt, &f));
	f = fr("/usr/bin/app", "pool_allocate");
	cr_expect(!callsites_filter__skips(flt, &f), "anchored: pool_allocate is not matched");
	f = fr("/usr/bin/app", "google::protobuf::Arena::New<Msg>(unsigned long)");
	cr_expect(callsites_filter__skips(flt, &f), "matched against the demangled name");
	callsites_filter__free(flt);
}

Test(callsites, invalid_pattern_is_einval)
{
	static const char *const re[] = { "ok", "(unclosed" };
	struct callsites_filter *flt = (void *)1;

	cr_expect_eq(callsites_filter__new(&flt, NULL, re, 2), -EINVAL);
	cr_expect_null(flt);
}

Test(callsites, pick_the_first_user_frame)
{
	static const char *const re[] = { "^parse_line$" };
	const char *libc = "/usr/lib/x86_64-linux-gnu/libc.so.6", *app = "/usr/bin/app";
	const char *cxx = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", *sq = "/lib/libsqlite3.so.0";
	struct sym_frame c_stack[] = {
		fr(libc, "malloc"), fr(app, "xmalloc"), fr(app, "parse_line"), fr(app, "main"),
	};
	struct sym_frame cxx_stack[] = {
		fr(cxx, "operator new(unsigned long)"),
		fr(app, "std::__new_allocator<int>::allocate(unsigned long, void const*)"),
		fr(app, "void std::vector<int, std::allocator<int> >::_M_realloc_insert<int>"
			"(__gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > >, "
			"int&&)"),
		fr(app, "load_table(int)"),
		fr(app, "main"),
	};
	/* a library without symbols: its static helper under a named wrapper */
	struct sym_frame sq_stack[] = {
		fr(libc, "malloc"), fr(sq, NULL), fr(sq, "sqlite3Malloc"), fr(sq, NULL),
		fr(sq, "sqlite3VdbeExec"),
	};
	struct sym_frame unnamed_site[] = { fr(libc, "malloc"), fr(app, NULL), fr(app, "main") };
	/* a stripped program: its unnamed main is called by libc, no wrapper */
	struct sym_frame stripped_main[] = {
		fr(libc, "_IO_file_doallocate"), fr(libc, "__printf_chk"), fr(app, NULL),
		fr(app, NULL), fr(libc, "__libc_start_call_main"), fr(app, NULL),
	};
	struct sym_frame all_wrappers[] = { fr(libc, "malloc"), fr(app, "xmalloc") };
	struct callsites_filter *flt, *user;

	cr_assert_eq(callsites_filter__new(&flt, NULL, NULL, 0), 0);
	cr_assert_eq(callsites_filter__new(&user, NULL, re, 1), 0);
	cr_expect_eq(callsites_filter__pick(flt, c_stack, 4), 2, "parse_line, not xmalloc");
	cr_expect_eq(callsites_filter__pick(user, c_stack, 4), 3, "--skip-frames moves it to main");
	cr_expect_eq(callsites_filter__pick(flt, cxx_stack, 5), 3, "load_table, past std::");
	cr_expect_eq(callsites_filter__pick(flt, sq_stack, 5), 3,
		     "the frame after sqlite3Malloc, not its unnamed helper");
	cr_expect_eq(callsites_filter__pick(flt, unnamed_site, 3), 1,
		     "an unnamed frame whose caller is no wrapper is the site");
	cr_expect_eq(callsites_filter__pick(flt, stripped_main, 6), 2,
		     "the program's first frame: libc calling it makes it no wrapper's helper");
	cr_expect_eq(callsites_filter__pick(flt, all_wrappers, 2), 0, "none: the innermost");
	cr_expect_eq(callsites_filter__pick(flt, c_stack, 2), 0, "cut short inside wrappers");
	callsites_filter__free(flt);
	callsites_filter__free(user);
}

/* ---- grouping, on stacks of this binary --------------------------------- */

#define KEEP(v) __asm__ volatile("" : : "r"(v) : "memory")

static __attribute__((noinline)) uint64_t ret_addr(void)
{
	uint64_t ip = (uint64_t)(uintptr_t)__builtin_return_address(0);

	KEEP(ip);
	return ip;
}

/* a wrapper by name, like gnulib's: its frame must never be the site */
__attribute__((noinline)) uint64_t xmalloc(void)
{
	uint64_t ip = ret_addr();

	KEEP(ip);
	return ip;
}

/* one function, two call addresses */
__attribute__((noinline)) void user_a(uint64_t *first, uint64_t *second)
{
	*first = ret_addr();
	KEEP(*first);
	*second = ret_addr();
	KEEP(*second);
}

__attribute__((noinline)) uint64_t user_b(void)
{
	uint64_t ip = ret_addr();

	KEEP(ip);
	return ip;
}

__attribute__((noinline)) uint64_t outer(void)
{
	uint64_t ip = ret_addr();

	KEEP(ip);
	return ip;
}

static struct model mo;
static uint32_t id_a1, id_a2, id_b;

/* Stacks xmalloc ← user_a (two addresses) and xmalloc ← user_b, each
 * under outer: 100 + 10 bytes through user_a, 50 through user_b, of
 * which 7 and 5 blocks stay live. */
static void model_up(void)
{
	uint64_t a1, a2, s[3];
	int i;

	cr_assert_eq(model__init(&mo, 1000, getpid(), true, 16), 0);
	cr_assert_not_null(mo.sym, "cannot symbolize our own process");
	user_a(&a1, &a2);
	cr_assert_neq(a1, a2);
	s[0] = xmalloc();
	s[2] = outer();
	s[1] = a1;
	id_a1 = stacks__intern(mo.stacks, s, 3, TT_STACK_END_ROOT);
	s[1] = a2;
	id_a2 = stacks__intern(mo.stacks, s, 3, TT_STACK_END_ROOT);
	s[1] = user_b();
	id_b = stacks__intern(mo.stacks, s, 3, TT_STACK_END_ROOT);
	cr_assert(id_a1 && id_a2 && id_b && id_a1 != id_a2);
	stacks__on_alloc(mo.stacks, id_a1, 100);
	stacks__on_alloc(mo.stacks, id_a2, 10);
	stacks__on_alloc(mo.stacks, id_b, 50);
	for (i = 0; i < 7; i++) {
		static struct tt_alloc_event e;

		memset(&e, 0, sizeof(e));
		e.hdr.type = TT_EV_ALLOC;
		e.hdr.ts_ns = 2000 + (uint64_t)i;
		e.fn = TT_FN_MALLOC;
		e.ptr = 0x10000 + 16 * (uint64_t)i;
		e.size = 16;
		cr_assert_eq(heap__on_alloc_tagged(mo.heap, &e, i < 4 ? id_a1 : id_a2), 0);
	}
}

static void model_down(void)
{
	model__fini(&mo);
}

static const struct callsite *site_named(const char *name)
{
	size_t i;

	for (i = 0; i < callsites__count(mo.sites); i++) {
		const struct callsite *c = callsites__get(mo.sites, i);

		if (c->frame.symbol && !strcmp(c->frame.symbol, name))
			return c;
	}
	return NULL;
}

Test(grouping, by_function_merges_addresses, .init = model_up, .fini = model_down)
{
	struct callsites_opts o = { .allocator = "libc.so.6" };
	const struct callsite *a, *b;
	uint32_t fi = 99;

	cr_assert_eq(model__finish_opts(&mo, &o), 0);
	cr_assert_eq(callsites__count(mo.sites), 2, "user_a and user_b");
	a = site_named("user_a");
	b = site_named("user_b");
	cr_assert(a && b, "the sites are the callers of xmalloc");
	cr_expect_eq(callsites__get(mo.sites, 0), a, "most bytes first");
	cr_expect_eq(a->bytes, 110);
	cr_expect_eq(a->allocs, 2);
	cr_expect_eq(a->stack_cnt, 2);
	cr_expect_eq(a->rep_stack, id_a1, "the stack with the most bytes");
	cr_expect_eq(a->site_frame, 1);
	cr_expect_eq(b->bytes, 50);
	cr_expect_eq(callsites__of_stack(mo.sites, id_a2, &fi), a);
	cr_expect_eq(fi, 1);
	cr_expect_eq(callsites__index(mo.sites, b), 1);
}

Test(grouping, by_address_splits, .init = model_up, .fini = model_down)
{
	struct callsites_opts o = { .allocator = "libc.so.6", .by_address = true };
	size_t i, n_a = 0;

	cr_assert_eq(model__finish_opts(&mo, &o), 0);
	cr_assert_eq(callsites__count(mo.sites), 3);
	for (i = 0; i < 3; i++)
		n_a += !strcmp(callsites__get(mo.sites, i)->frame.symbol, "user_a");
	cr_expect_eq(n_a, 2, "user_a's two addresses are two sites");
	cr_expect_eq(callsites__get(mo.sites, 0)->bytes, 100);
	cr_expect_eq(callsites__get(mo.sites, 1)->bytes, 50);
	cr_expect_eq(callsites__get(mo.sites, 2)->bytes, 10);
}

Test(grouping, skip_frames_moves_the_site, .init = model_up, .fini = model_down)
{
	static const char *const re[] = { "^user_" };
	struct callsites_opts o = { .allocator = "libc.so.6", .skip_frames = re, .skip_cnt = 1 };
	const struct callsite *c;

	cr_assert_eq(model__finish_opts(&mo, &o), 0);
	cr_assert_eq(callsites__count(mo.sites), 1, "every stack's site is now outer");
	c = callsites__get(mo.sites, 0);
	cr_expect_str_eq(c->frame.symbol, "outer");
	cr_expect_eq(c->bytes, 160);
	cr_expect_eq(c->site_frame, 2);
}

Test(grouping, bad_pattern_fails_the_build, .init = model_up, .fini = model_down)
{
	static const char *const re[] = { "[" };
	struct callsites_opts o = { .skip_frames = re, .skip_cnt = 1 };

	cr_expect_eq(model__finish_opts(&mo, &o), -EINVAL);
	cr_expect_null(mo.sites);
}

Test(grouping, leaks_by_site, .init = model_up, .fini = model_down)
{
	struct callsites_opts o = { .allocator = "libc.so.6" };
	struct leak *l;
	size_t n;

	cr_assert_eq(model__finish_opts(&mo, &o), 0);
	cr_assert_eq(leaks__build(&mo, &l, &n), 0);
	cr_expect_eq(n, 2, "by stack: user_a's two stacks");
	free(l);
	cr_assert_eq(leaks__by_site(&mo, mo.sites, &l, &n), 0);
	cr_assert_eq(n, 1, "by site: one entry");
	cr_expect_eq(l[0].live_cnt, 7);
	cr_expect_eq(l[0].live_bytes, 7 * 16);
	cr_expect_eq(l[0].stack_cnt, 2);
	cr_expect_eq(l[0].stack_id, id_a1, "the stack with most live bytes (4 blocks)");
	cr_expect_eq(l[0].oldest_ns, 2000);
	cr_expect_eq(l[0].newest_ns, 2006);
	free(l);
}
