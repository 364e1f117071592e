// SPDX-License-Identifier: Apache-2.0
/*
 * ret_sites__find on tests/fixtures/ret_sites/ret_sites.S (built into
 * $(OUT)/fixtures/ret_sites/libret_sites.so by ret_sites.mk): the return
 * instructions it must find carry a symbol each; the shapes it must refuse
 * are refused. Then jemalloc's operator new forms, where installed.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "alloc_fns.h"
#include "elf_syms.h"
#include "ret_sites.h"

#ifndef TT_FIXTURES
#define TT_FIXTURES "build/fixtures" /* the Makefile says which build */
#endif
#define LIB TT_FIXTURES "/ret_sites/libret_sites.so"
#define JEMALLOC "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"

static struct elf_func sym(const char *path, const char *name)
{
	const char *names[1] = { name };
	struct elf_func f = { 0 };

	cr_assert_eq(elf_syms__funcs(path, names, 1, &f), 0, "%s: cannot read", path);
	cr_assert_neq(f.offset, 0, "%s has no %s", path, name);
	return f;
}

static bool has(const struct ret_sites *rs, uint64_t off)
{
	size_t i;

	for (i = 0; i < rs->cnt; i++)
		if (rs->off[i] == off)
			return true;
	return false;
}

/* fn's return instructions are exactly the symbols sites[] */
static void expect_sites(const char *fn, const char *const *sites, size_t cnt)
{
	struct ret_sites rs;
	size_t i;

	cr_assert_eq(ret_sites__find(LIB, sym(LIB, fn).vaddr, &rs), 0, "%s refused", fn);
	cr_expect_eq(rs.cnt, cnt, "%s: %zu sites, %zu expected", fn, rs.cnt, cnt);
	for (i = 0; i < cnt; i++)
		cr_expect(has(&rs, sym(LIB, sites[i]).offset), "%s: %s not found", fn, sites[i]);
}

Test(ret_sites, one_ret)
{
	const char *const s[] = { "one_ret_r1" };

	expect_sites("one_ret", s, 1);
}

Test(ret_sites, rep_ret_and_branches)
{
	const char *const s[] = { "two_rets_r1", "two_rets_r2" };

	expect_sites("two_rets", s, 2);
}

/* the tail-called helper's ret, and the cold part jumping back: followed;
 * the helper's call to one_ret is a call, not followed */
Test(ret_sites, tail_call_and_cold_part)
{
	const char *const s[] = { "tail_call_r1", "tail_call_r2" };

	expect_sites("tail_call", s, 2);
}

Test(ret_sites, jump_to_another_function)
{
	const char *const s[] = { "two_rets_r1", "two_rets_r2" };

	expect_sites("jumps_to_two_rets", s, 2);
}

static void expect_refused(const char *fn, int err)
{
	struct ret_sites rs = { .cnt = 7 };

	cr_expect_eq(ret_sites__find(LIB, sym(LIB, fn).vaddr, &rs), err, "%s", fn);
	cr_expect_eq(rs.cnt, 0, "%s: sites left after a failure", fn);
}

Test(ret_sites, indirect_jump_refused)
{
	expect_refused("indirect", -ENOTSUP);
}

Test(ret_sites, plt_tail_call_refused)
{
	expect_refused("through_plt", -ENOTSUP);
}

Test(ret_sites, undecodable_bytes_refused)
{
	expect_refused("bad_bytes", -ENOTSUP);
}

Test(ret_sites, bad_inputs)
{
	struct ret_sites rs;

	/* not in any executable section */
	cr_expect_eq(ret_sites__find(LIB, 0x7fffffff, &rs), -ENOEXEC);
	cr_expect_eq(ret_sites__find("/nonexistent/lib.so", 0x1000, &rs), -ENOENT);
	/* not ELF */
	cr_expect_eq(ret_sites__find("tests/fixtures/ret_sites/ret_sites.S", 0x1000, &rs), -ENOEXEC);
}

/* A jump inside the function onto its first bytes: a probe moved there
 * would be hit once per loop. */
Test(ret_sites, jump_into_head)
{
	uint64_t to = 0;

	cr_expect_eq(ret_sites__jump_into(LIB, sym(LIB, "loops_to_head").vaddr, 7, &to), 1);
	cr_expect_eq(to, 7);
	cr_expect_eq(ret_sites__jump_into(LIB, sym(LIB, "loops_to_head").vaddr, 6, &to), 0);
	/* a jump to +0 is a new entry wherever the probe is */
	cr_expect_eq(ret_sites__jump_into(LIB, sym(LIB, "loops_to_start").vaddr, 7, &to), 0);
	cr_expect_eq(ret_sites__jump_into(LIB, sym(LIB, "one_ret").vaddr, 2, &to), 0);
	cr_expect_eq(ret_sites__jump_into(LIB, sym(LIB, "bad_bytes").vaddr, 3, &to), -ENOTSUP);
	cr_expect_eq(ret_sites__jump_into("/nonexistent/lib.so", 0x1000, 3, &to), -ENOENT);
	cr_expect_eq(ret_sites__jump_into(LIB, 0x7fffffff, 3, &to), -ENOTSUP);
}

/* jemalloc 5.3's malloc, free and operator new, whose probes move to +7,
 * +48, +7: nothing inside them jumps back there. */
Test(ret_sites, jemalloc_heads_are_entered_once)
{
	static const struct {
		const char *name;
		uint64_t span;
	} f[] = { { "malloc", 7 }, { "free", 48 }, { "_Znwm", 7 } };
	uint64_t to = 0;
	size_t i;

	if (access(JEMALLOC, R_OK))
		cr_skip_test(JEMALLOC " not installed (Debian package libjemalloc2)");
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		cr_expect_eq(ret_sites__jump_into(JEMALLOC, sym(JEMALLOC, f[i].name).vaddr, f[i].span,
						  &to),
			     0, "%s: a jump to +%llu", f[i].name, (unsigned long long)to);
}

/* Every operator new form jemalloc defines: all returns found (their slow
 * paths are tail calls into local code), at instructions that are rets. */
Test(ret_sites, jemalloc_operator_new)
{
	struct ret_sites rs;
	unsigned char b[2];
	size_t i, k, forms = 0;

	if (access(JEMALLOC, R_OK))
		cr_skip_test(JEMALLOC " not installed (Debian package libjemalloc2)");
	for (i = 0; i < alloc_fn_cnt; i++) {
		if (!alloc_fns[i].may_throw)
			continue;
		cr_assert_eq(ret_sites__find(JEMALLOC, sym(JEMALLOC, alloc_fns[i].name).vaddr, &rs), 0,
			     "%s", alloc_fns[i].name);
		cr_expect_geq(rs.cnt, 2, "%s: %zu sites (fast and slow path)", alloc_fns[i].name,
			      rs.cnt);
		for (k = 0; k < rs.cnt; k++) {
			cr_assert_eq(elf_syms__read(JEMALLOC, rs.off[k], b, 2), 2);
			cr_expect(b[0] == 0xc3 || (b[0] == 0xf3 && b[1] == 0xc3), "%s+%#llx is no ret",
				  alloc_fns[i].name, (unsigned long long)rs.off[k]);
		}
		forms++;
	}
	cr_expect_eq(forms, 8);
}
