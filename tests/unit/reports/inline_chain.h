/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Return addresses with a known source-level chain, for the reports' unit
 * tests (test_inline_frames.c, test_report_pprof.c): inl_root() returns an
 * address inside calls inlined into it (always_inline inlines at any level:
 * inl_inner in inl_outer in inl_root), plain_fn() one in a plain function.
 * Lines tagged LINE-MARK are what each level's file:line must be: keep each
 * call on its tagged line; mark_line() finds them by reading this file (run
 * from the repo root).
 */
#ifndef TT_TEST_INLINE_CHAIN_H
#define TT_TEST_INLINE_CHAIN_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>

#define INLINE_CHAIN_SRC "tests/unit/reports/inline_chain.h"
#define KEEP(v) __asm__ volatile("" : : "r"(v) : "memory")

static __attribute__((noinline)) uint64_t where(void)
{
	uint64_t ip = (uint64_t)(uintptr_t)__builtin_return_address(0);

	KEEP(ip);
	return ip;
}

static inline __attribute__((always_inline)) uint64_t inl_inner(void)
{
	uint64_t ip = where(); /* LINE-MARK: inl_inner */

	KEEP(ip);
	return ip;
}

static inline __attribute__((always_inline)) uint64_t inl_outer(void)
{
	uint64_t ip = inl_inner(); /* LINE-MARK: inl_outer */

	KEEP(ip);
	return ip;
}

__attribute__((noinline)) uint64_t inl_root(void)
{
	uint64_t ip = inl_outer(); /* LINE-MARK: inl_root */

	KEEP(ip);
	return ip;
}

__attribute__((noinline)) uint64_t plain_fn(void)
{
	uint64_t ip = where(); /* LINE-MARK: plain_fn */

	KEEP(ip);
	return ip;
}

static int mark_line(const char *tag)
{
	char line[1024], want[128];
	int n = 0;
	FILE *f = fopen(INLINE_CHAIN_SRC, "r");

	cr_assert_not_null(f, "run from the repo root");
	snprintf(want, sizeof(want), "LINE-MARK: %s */", tag);
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, want)) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	cr_assert_fail("no LINE-MARK %s", tag);
	return 0;
}

#endif /* TT_TEST_INLINE_CHAIN_H */
