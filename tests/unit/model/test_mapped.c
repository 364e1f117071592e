// SPDX-License-Identifier: Apache-2.0
/* user/model/mapped.c: anonymous ranges and brk segments, by owner. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include "mapped.h"

#define PG 4096ULL

static struct mapped *m;

static void setup(void)
{
	cr_assert_eq(mapped__new(&m), 0);
}

static void teardown(void)
{
	mapped__free(m);
}

TestSuite(mapped, .init = setup, .fini = teardown);

static void ev(uint32_t kind, uint64_t addr, uint64_t len, uint64_t new_brk, bool in_alloc)
{
	struct tt_sysmem_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = TT_EV_SYSMEM;
	e.kind = kind;
	e.in_alloc = in_alloc;
	e.addr = addr;
	e.len = len;
	e.new_brk = new_brk;
	cr_assert_eq(mapped__on_event(m, &e), 0);
}

static const struct mapped_figures *prog(void)
{
	return &mapped__stats(m)->by[MAPPED_PROGRAM];
}

static const struct mapped_figures *alloc(void)
{
	return &mapped__stats(m)->by[MAPPED_ALLOCATOR];
}

Test(mapped, munmap_cuts_ranges)
{
	ev(TT_SYSMEM_MMAP, 0x10000, 5 * PG, 0, false);
	ev(TT_SYSMEM_MUNMAP, 0x10000 + 2 * PG, PG, 0, false); /* the middle */
	cr_expect_eq(prog()->mapped_bytes, 4 * PG);
	ev(TT_SYSMEM_MUNMAP, 0x10000, PG, 0, false);          /* left end */
	ev(TT_SYSMEM_MUNMAP, 0x10000 + 4 * PG, PG, 0, false); /* right end */
	cr_expect_eq(prog()->mapped_bytes, 2 * PG);
	/* one call over both pieces left and the hole between */
	ev(TT_SYSMEM_MUNMAP, 0x10000, 5 * PG, 0, false);
	cr_expect_eq(prog()->mmap_calls, 1);
	cr_expect_eq(prog()->mmap_bytes, 5 * PG);
	cr_expect_eq(prog()->munmap_calls, 4);
	cr_expect_eq(prog()->munmap_bytes, 5 * PG);
	cr_expect_eq(prog()->mapped_bytes, 0);
	cr_expect_eq(prog()->peak_mapped_bytes, 5 * PG);
	/* again: nothing left there */
	ev(TT_SYSMEM_MUNMAP, 0x10000, PG, 0, false);
	cr_expect_eq(prog()->munmap_calls, 4);
	cr_expect_eq(mapped__stats(m)->unknown_munmap_calls, 1);
}

Test(mapped, owners_kept_apart)
{
	ev(TT_SYSMEM_MMAP, 0x10000, 2 * PG, 0, true); /* glibc's large block */
	ev(TT_SYSMEM_MMAP, 0x10000 + 2 * PG, 2 * PG, 0, false); /* adjacent, the program's */
	cr_expect_eq(alloc()->mapped_bytes, 2 * PG);
	cr_expect_eq(prog()->mapped_bytes, 2 * PG);
	/* free()'s munmap is not inside an allocating call: its range says whose */
	ev(TT_SYSMEM_MUNMAP, 0x10000, 3 * PG, 0, false);
	cr_expect_eq(alloc()->munmap_calls, 1);
	cr_expect_eq(alloc()->munmap_bytes, 2 * PG);
	cr_expect_eq(prog()->munmap_calls, 0);
	cr_expect_eq(prog()->munmap_bytes, PG);
	cr_expect_eq(prog()->mapped_bytes, PG);
	cr_expect_eq(alloc()->mapped_bytes, 0);
}

Test(mapped, map_fixed_replaces)
{
	ev(TT_SYSMEM_MMAP, 0x10000, 4 * PG, 0, false);
	ev(TT_SYSMEM_MMAP, 0x10000 + PG, 2 * PG, 0, false); /* MAP_FIXED inside it */
	cr_expect_eq(prog()->mmap_calls, 2);
	cr_expect_eq(prog()->mapped_bytes, 4 * PG);
	cr_expect_eq(prog()->munmap_calls, 0);
	ev(TT_SYSMEM_MUNMAP, 0x10000, 4 * PG, 0, false);
	cr_expect_eq(prog()->munmap_bytes, 4 * PG);
	cr_expect_eq(prog()->mapped_bytes, 0);
}

Test(mapped, brk_is_last_in_first_out)
{
	ev(TT_SYSMEM_BRK, 0x600000, 0, 0x621000, true); /* glibc's arena */
	ev(TT_SYSMEM_BRK, 0x621000, 0, 0x631000, false); /* the program's sbrk(64K) */
	/* glibc trims from free(): not in an allocating call, but the bytes
	 * on top are the program's first */
	ev(TT_SYSMEM_BRK, 0x631000, 0, 0x62d000, false);
	cr_expect_eq(prog()->brk_calls, 2);
	cr_expect_eq(prog()->brk_grown_bytes, 0x10000);
	cr_expect_eq(prog()->brk_shrunk_bytes, 0x4000);
	cr_expect_eq(prog()->brk_bytes, 0xc000);
	/* below the program's bytes: the allocator's */
	ev(TT_SYSMEM_BRK, 0x62d000, 0, 0x611000, false);
	cr_expect_eq(prog()->brk_bytes, 0);
	cr_expect_eq(prog()->brk_shrunk_bytes, 0x10000);
	cr_expect_eq(alloc()->brk_shrunk_bytes, 0x10000);
	cr_expect_eq(alloc()->brk_bytes, 0x11000);
	/* below anything seen grown (attached late): unknown */
	ev(TT_SYSMEM_BRK, 0x611000, 0, 0x5f0000, false);
	cr_expect_eq(alloc()->brk_bytes, 0);
	cr_expect_eq(alloc()->brk_shrunk_bytes, 0x21000);
	cr_expect_eq(mapped__stats(m)->unknown_brk_shrunk_bytes, 0x10000);
}

Test(mapped, unknown_kind_is_an_error)
{
	struct tt_sysmem_event e = { .kind = 99 };

	cr_expect_eq(mapped__on_event(m, &e), -EINVAL);
	cr_expect_eq(mapped__stats(m)->records, 0, "a bad record is no syscall record");
}

/* Every record read counts, whatever it did to the figures (test_load adds
 * them to the allocator's records). */
Test(mapped, records_counted)
{
	ev(TT_SYSMEM_MMAP, 0x10000, PG, 0, false);
	ev(TT_SYSMEM_MUNMAP, 0x90000, PG, 0, false); /* of no range followed */
	ev(TT_SYSMEM_BRK, 0x5000, 0, 0x4000, false); /* below anything grown */
	ev(TT_SYSMEM_BRK, 0x4000, 0, 0x6000, true);
	cr_expect_eq(mapped__stats(m)->records, 4);
}
