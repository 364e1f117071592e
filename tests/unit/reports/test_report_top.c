// SPDX-License-Identifier: Apache-2.0
/*
 * --interval's top sites: sites holding live bytes only, most first, the
 * exact bytes and blocks, at most --top of them. Stacks of this very binary,
 * symbolized by the real symbolizer (call sites are functions).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "callsites.h"
#include "heap.h"
#include "model.h"
#include "report_top.h"
#include "stacks.h"

#define KEEP(v) __asm__ volatile("" : : "r"(v) : "memory")

static __attribute__((noinline)) uint64_t ret_addr(void)
{
	uint64_t ip = (uint64_t)(uintptr_t)__builtin_return_address(0);

	KEEP(ip);
	return ip;
}

__attribute__((noinline)) uint64_t top_site_big(void)
{
	uint64_t ip = ret_addr();

	KEEP(ip);
	return ip;
}

__attribute__((noinline)) uint64_t top_site_small(void)
{
	uint64_t ip = ret_addr();

	KEEP(ip);
	return ip;
}

__attribute__((noinline)) uint64_t top_site_freed(void)
{
	uint64_t ip = ret_addr();

	KEEP(ip);
	return ip;
}

static struct model mo;
static uint64_t next_ptr = 0x10000;

/* n blocks of size through the stack whose call site is ip, live or not. */
static void alloc_at(uint64_t ip, int n, uint64_t size, bool keep)
{
	uint64_t s[1] = { ip };
	uint32_t id = stacks__intern(mo.stacks, s, 1, TT_STACK_END_ROOT);
	struct tt_alloc_event e;
	struct tt_free_event fe;

	cr_assert(id);
	for (int i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.hdr.type = TT_EV_ALLOC;
		e.hdr.ts_ns = 2000;
		e.fn = TT_FN_MALLOC;
		e.ptr = next_ptr;
		e.size = size;
		next_ptr += 0x10000;
		cr_assert_eq(heap__on_alloc_tagged(mo.heap, &e, id), 0);
		stacks__on_alloc(mo.stacks, id, size);
		if (keep)
			continue;
		memset(&fe, 0, sizeof(fe));
		fe.hdr.type = TT_EV_FREE;
		fe.hdr.ts_ns = 3000;
		fe.ptr = e.ptr;
		cr_assert_eq(heap__on_free(mo.heap, &fe), 0);
		stacks__on_release(mo.stacks, id, size);
	}
}

/* 3 x 4096 B and 6 x 1000 B live; 50 x 64 B allocated (the most blocks)
 * and freed. */
static void model_up(void)
{
	struct callsites_opts o = { .allocator = "libc.so.6" };

	cr_assert_eq(model__init(&mo, 1000, getpid(), true, 16), 0);
	cr_assert_not_null(mo.sym, "cannot symbolize our own process");
	alloc_at(top_site_small(), 6, 1000, true);
	alloc_at(top_site_freed(), 50, 64, false);
	alloc_at(top_site_big(), 3, 4096, true);
	cr_assert_eq(model__finish_opts(&mo, &o), 0);
}

static void model_down(void)
{
	model__fini(&mo);
}

static char *top_text(uint32_t top)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(report_top__write(f, &mo, top, 2000000000ull), 0);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

Test(report_top, live_sites_most_first, .init = model_up, .fini = model_down)
{
	char *t = top_text(10);
	const char *big, *small;

	static const char head[] = "ttbpf: +2.00 s: live 17.9 KB in 9 blocks; top 10 of 2 "
				   "allocation sites by live bytes:\n";

	cr_expect(!strncmp(t, head, strlen(head)), "%s", t);
	big = strstr(t, "\n     12.0 KB          12288 B          3 blocks  top_site_big (");
	small = strstr(t, "\n      5.9 KB           6000 B          6 blocks  top_site_small (");
	cr_expect(big && small && big < small, "%s", t);
	cr_expect_null(strstr(t, "top_site_freed"), "a site holding nothing is not listed:\n%s", t);
	cr_expect(strstr(t, "test_report_top.c:"), "file:line of the call: %s", t);
	free(t);
}

Test(report_top, at_most_top, .init = model_up, .fini = model_down)
{
	char *t = top_text(1);
	size_t lines = 0;

	for (const char *p = t; *p; p++)
		lines += *p == '\n';
	cr_expect_eq(lines, 2, "the header and one site:\n%s", t);
	cr_expect(strstr(t, "top 1 of 2 allocation sites"), "%s", t);
	cr_expect(strstr(t, "top_site_big"), "%s", t);
	cr_expect_null(strstr(t, "top_site_small"), "%s", t);
	free(t);
}

Test(report_top, empty_model)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	cr_assert_eq(model__init(&mo, 1000, 0, false, 16), 0);
	cr_assert_eq(model__finish_opts(&mo, &(struct callsites_opts){ .allocator = "libc.so.6" }), 0);
	f = open_memstream(&buf, &len);
	cr_assert_eq(report_top__write(f, &mo, 10, 0), 0);
	fclose(f);
	cr_expect_str_eq(buf, "ttbpf: +0 ns: live 0 B in 0 blocks; top 10 of 0 allocation sites by "
			      "live bytes:\n");
	free(buf);
	model__fini(&mo);
}
