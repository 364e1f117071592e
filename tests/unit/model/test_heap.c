// SPDX-License-Identifier: Apache-2.0
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "heap.h"

/* ---- record builders ---------------------------------------------------- */

static struct tt_alloc_event mk_alloc(uint32_t tid, uint64_t ts, uint32_t fn, uint64_t ptr,
				      uint64_t size, uint64_t old_ptr, uint64_t entry_ns,
				      bool failed)
{
	struct tt_alloc_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = TT_EV_ALLOC;
	e.hdr.tid = tid;
	e.hdr.ts_ns = ts;
	e.fn = fn;
	e.failed = failed;
	e.ptr = failed ? 0 : ptr;
	e.size = size;
	e.old_ptr = old_ptr;
	e.entry_ns = entry_ns;
	return e;
}

static void on_alloc(struct heap *h, const struct tt_alloc_event *e)
{
	cr_assert_eq(heap__on_alloc(h, e), 0);
}

/* A successful allocating call with no input block. */
static void fn_ok(struct heap *h, uint32_t tid, uint64_t ts, uint32_t fn, uint64_t ptr,
		  uint64_t size)
{
	struct tt_alloc_event e = mk_alloc(tid, ts, fn, ptr, size, 0, ts - 1, false);

	on_alloc(h, &e);
}

static void do_malloc(struct heap *h, uint32_t tid, uint64_t ts, uint64_t ptr, uint64_t size)
{
	fn_ok(h, tid, ts, TT_FN_MALLOC, ptr, size);
}

/* realloc-style call entered at entry_ns, returning at ts. */
static void do_realloc_fn(struct heap *h, uint32_t fn, uint32_t tid, uint64_t ts,
			  uint64_t entry_ns, uint64_t old_ptr, uint64_t ptr, uint64_t size)
{
	struct tt_alloc_event e = mk_alloc(tid, ts, fn, ptr, size, old_ptr, entry_ns, false);

	on_alloc(h, &e);
}

static void do_realloc(struct heap *h, uint32_t tid, uint64_t ts, uint64_t old_ptr,
		       uint64_t ptr, uint64_t size)
{
	do_realloc_fn(h, TT_FN_REALLOC, tid, ts, ts - 1, old_ptr, ptr, size);
}

static void do_failed(struct heap *h, uint32_t fn, uint32_t tid, uint64_t ts, uint64_t old_ptr,
		      uint64_t size, uint64_t entry_ns)
{
	struct tt_alloc_event e = mk_alloc(tid, ts, fn, 0, size, old_ptr, entry_ns, true);

	on_alloc(h, &e);
}

static void do_free(struct heap *h, uint32_t tid, uint64_t ts, uint64_t ptr)
{
	struct tt_free_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = TT_EV_FREE;
	e.hdr.tid = tid;
	e.hdr.ts_ns = ts;
	e.ptr = ptr;
	cr_assert_eq(heap__on_free(h, &e), 0);
}

static struct heap *new_heap(void)
{
	struct heap *h = heap__new();

	cr_assert_not_null(h);
	return h;
}

#define ST(h) (heap__stats(h))

static void assert_block(const struct heap *h, uint64_t ptr, uint64_t size, uint64_t ts,
			 uint32_t tid)
{
	const struct heap_block *b = heap__find(h, ptr);

	cr_assert_not_null(b, "block %#llx not live", (unsigned long long)ptr);
	cr_assert_eq(b->ptr, ptr);
	cr_assert_eq(b->size, size, "block %#llx size %llu, want %llu", (unsigned long long)ptr,
		     (unsigned long long)b->size, (unsigned long long)size);
	cr_assert_eq(b->ts_ns, ts, "block %#llx ts %llu, want %llu", (unsigned long long)ptr,
		     (unsigned long long)b->ts_ns, (unsigned long long)ts);
	cr_assert_eq(b->tid, tid);
}

/* Every counter equal (first_ns/last_ns excluded: they follow records). */
static void assert_counters_eq(const struct heap_stats *a, const struct heap_stats *b)
{
#define F(x) cr_assert_eq(a->x, b->x, #x ": %llu != %llu", (unsigned long long)a->x, \
			  (unsigned long long)b->x)
	F(total_allocs);
	F(total_alloc_bytes);
	F(total_frees);
	F(total_freed_bytes);
	F(failed_allocs);
	F(unknown_frees);
	F(reallocs_in_place);
	F(reallocs_moved);
	F(dup_allocs);
	F(live_cnt);
	F(live_bytes);
	F(peak_bytes);
	F(peak_cnt);
	F(peak_ns);
#undef F
}

static size_t count_live(const struct heap *h)
{
	const struct heap_block *b;
	size_t it = 0, n = 0;

	while ((b = heap__next(h, &it))) {
		cr_assert_neq(b->ptr, 0);
		n++;
	}
	return n;
}

/* ---- one test per documented rule -------------------------------------- */

Test(heap, new_is_empty)
{
	struct heap *h = new_heap();
	struct heap_stats zero;
	size_t it = 0, cnt = 99;

	memset(&zero, 0, sizeof(zero));
	assert_counters_eq(ST(h), &zero);
	cr_assert_eq(ST(h)->first_ns, 0);
	cr_assert_eq(ST(h)->last_ns, 0);
	cr_assert_null(heap__next(h, &it));
	cr_assert_null(heap__find(h, 0));
	cr_assert_null(heap__find(h, 0x1000));
	heap__threads(h, &cnt);
	cr_assert_eq(cnt, 0);
	cr_assert_gt(heap__table_bytes(h), 0);
	heap__free(h);
	heap__free(NULL);
}

Test(heap, every_allocating_call_counts)
{
	static const uint32_t fns[] = {
		TT_FN_MALLOC, TT_FN_CALLOC, TT_FN_REALLOC, TT_FN_REALLOCARRAY,
		TT_FN_POSIX_MEMALIGN, TT_FN_ALIGNED_ALLOC, TT_FN_MEMALIGN, TT_FN_VALLOC,
		TT_FN_PVALLOC,
	};
	struct heap *h = new_heap();
	uint64_t bytes = 0;
	size_t i, n = sizeof(fns) / sizeof(fns[0]);

	for (i = 0; i < n; i++) {
		/* realloc(NULL, n) / reallocarray(NULL, ...) is an allocation */
		fn_ok(h, 1, 100 + i, fns[i], 0x10000 + 0x100 * i, 10 * (i + 1));
		bytes += 10 * (i + 1);
	}
	cr_assert_eq(ST(h)->total_allocs, n);
	cr_assert_eq(ST(h)->total_alloc_bytes, bytes);
	cr_assert_eq(ST(h)->live_cnt, n);
	cr_assert_eq(ST(h)->live_bytes, bytes);
	cr_assert_eq(ST(h)->total_frees, 0);
	cr_assert_eq(ST(h)->reallocs_in_place + ST(h)->reallocs_moved, 0);
	cr_assert_eq(ST(h)->unknown_frees, 0);
	cr_assert_eq(ST(h)->failed_allocs, 0);
	for (i = 0; i < n; i++)
		assert_block(h, 0x10000 + 0x100 * i, 10 * (i + 1), 100 + i, 1);
	cr_assert_eq(count_live(h), n);

	/* a zero-byte allocation that returns a block is live with size 0 */
	do_malloc(h, 1, 200, 0x90000, 0);
	cr_assert_eq(ST(h)->total_allocs, n + 1);
	cr_assert_eq(ST(h)->live_cnt, n + 1);
	cr_assert_eq(ST(h)->live_bytes, bytes);
	assert_block(h, 0x90000, 0, 200, 1);
	heap__free(h);
}

Test(heap, free_releases_known_block)
{
	struct heap *h = new_heap();

	do_malloc(h, 1, 10, 0x1000, 100);
	do_malloc(h, 1, 20, 0x2000, 50);
	do_free(h, 1, 30, 0x1000);
	cr_assert_eq(ST(h)->total_frees, 1);
	cr_assert_eq(ST(h)->total_freed_bytes, 100);
	cr_assert_eq(ST(h)->live_cnt, 1);
	cr_assert_eq(ST(h)->live_bytes, 50);
	cr_assert_null(heap__find(h, 0x1000));
	assert_block(h, 0x2000, 50, 20, 1);
	/* a second free of the same address is now unknown */
	do_free(h, 1, 40, 0x1000);
	cr_assert_eq(ST(h)->total_frees, 1);
	cr_assert_eq(ST(h)->unknown_frees, 1);
	heap__free(h);
}

Test(heap, realloc_in_place)
{
	struct heap *h = new_heap();

	do_malloc(h, 1, 10, 0x1000, 100);
	do_realloc(h, 1, 20, 0x1000, 0x1000, 200);
	cr_assert_eq(ST(h)->total_allocs, 2);
	cr_assert_eq(ST(h)->total_alloc_bytes, 300);
	cr_assert_eq(ST(h)->total_frees, 1);
	cr_assert_eq(ST(h)->total_freed_bytes, 100);
	cr_assert_eq(ST(h)->reallocs_in_place, 1);
	cr_assert_eq(ST(h)->reallocs_moved, 0);
	cr_assert_eq(ST(h)->unknown_frees, 0);
	cr_assert_eq(ST(h)->dup_allocs, 0);
	cr_assert_eq(ST(h)->live_cnt, 1);
	cr_assert_eq(ST(h)->live_bytes, 200);
	assert_block(h, 0x1000, 200, 20, 1);
	/* shrinking in place */
	do_realloc(h, 2, 30, 0x1000, 0x1000, 8);
	cr_assert_eq(ST(h)->reallocs_in_place, 2);
	cr_assert_eq(ST(h)->total_frees, 2);
	cr_assert_eq(ST(h)->total_freed_bytes, 300);
	cr_assert_eq(ST(h)->live_bytes, 8);
	assert_block(h, 0x1000, 8, 30, 2);
	cr_assert_eq(count_live(h), 1);
	heap__free(h);
}

Test(heap, realloc_moved)
{
	struct heap *h = new_heap();

	do_malloc(h, 1, 10, 0x1000, 100);
	do_malloc(h, 1, 11, 0x5000, 7);
	do_realloc(h, 1, 20, 0x1000, 0x3000, 4000);
	cr_assert_eq(ST(h)->total_allocs, 3);
	cr_assert_eq(ST(h)->total_alloc_bytes, 4107);
	cr_assert_eq(ST(h)->total_frees, 1);
	cr_assert_eq(ST(h)->total_freed_bytes, 100);
	cr_assert_eq(ST(h)->reallocs_in_place, 0);
	cr_assert_eq(ST(h)->reallocs_moved, 1);
	cr_assert_eq(ST(h)->live_cnt, 2);
	cr_assert_eq(ST(h)->live_bytes, 4007);
	cr_assert_null(heap__find(h, 0x1000));
	assert_block(h, 0x3000, 4000, 20, 1);
	assert_block(h, 0x5000, 7, 11, 1);
	cr_assert_eq(count_live(h), 2);
	heap__free(h);
}

Test(heap, reallocarray_like_realloc)
{
	struct heap *h = new_heap();

	do_malloc(h, 1, 10, 0x1000, 100);
	do_realloc_fn(h, TT_FN_REALLOCARRAY, 1, 20, 19, 0x1000, 0x1000, 160);
	do_realloc_fn(h, TT_FN_REALLOCARRAY, 1, 30, 29, 0x1000, 0x2000, 320);
	cr_assert_eq(ST(h)->total_allocs, 3);
	cr_assert_eq(ST(h)->total_alloc_bytes, 580);
	cr_assert_eq(ST(h)->total_frees, 2);
	cr_assert_eq(ST(h)->total_freed_bytes, 260);
	cr_assert_eq(ST(h)->reallocs_in_place, 1);
	cr_assert_eq(ST(h)->reallocs_moved, 1);
	cr_assert_eq(ST(h)->live_cnt, 1);
	cr_assert_eq(ST(h)->live_bytes, 320);
	assert_block(h, 0x2000, 320, 30, 1);
	heap__free(h);
}

Test(heap, old_ptr_ignored_for_non_realloc)
{
	struct heap *h = new_heap();
	struct tt_alloc_event e;

	do_malloc(h, 1, 10, 0x1000, 100);
	/* old_ptr is documented as 0 for other calls; a stray one must not free */
	e = mk_alloc(1, 20, TT_FN_MALLOC, 0x2000, 10, 0x1000, 19, false);
	on_alloc(h, &e);
	cr_assert_eq(ST(h)->total_frees, 0);
	cr_assert_eq(ST(h)->unknown_frees, 0);
	cr_assert_eq(ST(h)->reallocs_in_place + ST(h)->reallocs_moved, 0);
	cr_assert_eq(ST(h)->live_cnt, 2);
	assert_block(h, 0x1000, 100, 10, 1);
	heap__free(h);
}

Test(heap, realloc_of_unknown_block)
{
	struct heap *h = new_heap();

	do_malloc(h, 1, 5, 0x9000, 1);
	/* 0x1000 was allocated before tracing */
	do_realloc(h, 1, 10, 0x1000, 0x1000, 100);
	cr_assert_eq(ST(h)->unknown_frees, 1);
	cr_assert_eq(ST(h)->total_frees, 0);
	cr_assert_eq(ST(h)->total_freed_bytes, 0);
	cr_assert_eq(ST(h)->reallocs_in_place, 1);
	cr_assert_eq(ST(h)->total_allocs, 2);
	cr_assert_eq(ST(h)->total_alloc_bytes, 101);
	cr_assert_eq(ST(h)->live_cnt, 2);
	cr_assert_eq(ST(h)->live_bytes, 101);
	assert_block(h, 0x1000, 100, 10, 1);

	do_realloc(h, 1, 20, 0x7000, 0x8000, 50);
	cr_assert_eq(ST(h)->unknown_frees, 2);
	cr_assert_eq(ST(h)->total_frees, 0);
	cr_assert_eq(ST(h)->reallocs_moved, 1);
	cr_assert_eq(ST(h)->live_cnt, 3);
	cr_assert_eq(ST(h)->live_bytes, 151);
	cr_assert_null(heap__find(h, 0x7000));
	assert_block(h, 0x8000, 50, 20, 1);
	heap__free(h);
}

Test(heap, realloc_zero_returning_null_frees)
{
	struct heap *h = new_heap();

	do_malloc(h, 1, 10, 0x1000, 100);
	do_malloc(h, 1, 11, 0x2000, 30);
	/* glibc realloc(p, 0): frees p, returns NULL */
	do_failed(h, TT_FN_REALLOC, 2, 20, 0x1000, 0, 19);
	cr_assert_eq(ST(h)->failed_allocs, 0);
	cr_assert_eq(ST(h)->total_frees, 1);
	cr_assert_eq(ST(h)->total_freed_bytes, 100);
	cr_assert_eq(ST(h)->total_allocs, 2);
	cr_assert_eq(ST(h)->total_alloc_bytes, 130);
	cr_assert_eq(ST(h)->unknown_frees, 0);
	cr_assert_eq(ST(h)->reallocs_in_place + ST(h)->reallocs_moved, 0);
	cr_assert_eq(ST(h)->live_cnt, 1);
	cr_assert_eq(ST(h)->live_bytes, 30);
	cr_assert_null(heap__find(h, 0x1000));

	/* the same with a block from before tracing: an unknown free */
	do_failed(h, TT_FN_REALLOC, 2, 30, 0x4000, 0, 29);
	cr_assert_eq(ST(h)->failed_allocs, 0);
	cr_assert_eq(ST(h)->unknown_frees, 1);
	cr_assert_eq(ST(h)->total_frees, 1);
	cr_assert_eq(ST(h)->live_cnt, 1);

	{
		size_t cnt;
		const struct heap_thread *t = heap__threads(h, &cnt);

		cr_assert_eq(cnt, 2);
		cr_assert_eq(t[1].tid, 2);
		cr_assert_eq(t[1].frees, 1);
		cr_assert_eq(t[1].freed_bytes, 100);
		cr_assert_eq(t[1].failed, 0);
		cr_assert_eq(t[1].allocs, 0);
	}
	heap__free(h);
}

Test(heap, realloc_zero_rule_is_realloc_only)
{
	struct heap *h = new_heap();

	do_malloc(h, 1, 10, 0x1000, 100);
	/* reallocarray(p, 0, n) returning NULL: a failure, p stays */
	do_failed(h, TT_FN_REALLOCARRAY, 1, 20, 0x1000, 0, 19);
	cr_assert_eq(ST(h)->failed_allocs, 1);
	cr_assert_eq(ST(h)->total_frees, 0);
	cr_assert_eq(ST(h)->live_cnt, 1);
	assert_block(h, 0x1000, 100, 10, 1);
	/* realloc(NULL, 0) returning NULL: a failure (no old block) */
	do_failed(h, TT_FN_REALLOC, 1, 30, 0, 0, 29);
	cr_assert_eq(ST(h)->failed_allocs, 2);
	cr_assert_eq(ST(h)->unknown_frees, 0);
	/* malloc(0) returning NULL: a failure */
	do_failed(h, TT_FN_MALLOC, 1, 40, 0, 0, 39);
	cr_assert_eq(ST(h)->failed_allocs, 3);
	cr_assert_eq(ST(h)->total_allocs, 1);
	cr_assert_eq(ST(h)->live_cnt, 1);
	assert_block(h, 0x1000, 100, 10, 1);
	heap__free(h);
}

Test(heap, realloc_zero_returning_block)
{
	struct heap *h = new_heap();

	/* an allocator whose realloc(p, 0) returns a minimum block */
	do_malloc(h, 1, 10, 0x1000, 100);
	do_realloc(h, 1, 20, 0x1000, 0x2000, 0);
	cr_assert_eq(ST(h)->total_allocs, 2);
	cr_assert_eq(ST(h)->total_frees, 1);
	cr_assert_eq(ST(h)->reallocs_moved, 1);
	cr_assert_eq(ST(h)->failed_allocs, 0);
	cr_assert_eq(ST(h)->live_cnt, 1);
	cr_assert_eq(ST(h)->live_bytes, 0);
	assert_block(h, 0x2000, 0, 20, 1);
	heap__free(h);
}

Test(heap, failed_calls)
{
	static const uint32_t fns[] = {
		TT_FN_MALLOC, TT_FN_CALLOC, TT_FN_POSIX_MEMALIGN, TT_FN_ALIGNED_ALLOC,
		TT_FN_MEMALIGN, TT_FN_VALLOC, TT_FN_PVALLOC,
	};
	struct heap *h = new_heap();
	size_t i, n = sizeof(fns) / sizeof(fns[0]);

	for (i = 0; i < n; i++)
		do_failed(h, fns[i], 3, 10 + i, 0, 1ULL << 40, 9 + i);
	cr_assert_eq(ST(h)->failed_allocs, n);
	cr_assert_eq(ST(h)->total_allocs, 0);
	cr_assert_eq(ST(h)->total_alloc_bytes, 0);
	cr_assert_eq(ST(h)->live_cnt, 0);
	cr_assert_eq(ST(h)->live_bytes, 0);
	cr_assert_eq(ST(h)->peak_bytes, 0);
	cr_assert_eq(ST(h)->peak_ns, 0, "peak_ns is 0 when nothing was ever live");
	cr_assert_eq(count_live(h), 0);

	/* failed realloc / reallocarray: the old block stays live, unchanged */
	do_malloc(h, 1, 100, 0x1000, 64);
	do_failed(h, TT_FN_REALLOC, 1, 110, 0x1000, 1ULL << 40, 105);
	do_failed(h, TT_FN_REALLOCARRAY, 2, 120, 0x1000, 1ULL << 41, 115);
	cr_assert_eq(ST(h)->failed_allocs, n + 2);
	cr_assert_eq(ST(h)->total_allocs, 1);
	cr_assert_eq(ST(h)->total_frees, 0);
	cr_assert_eq(ST(h)->unknown_frees, 0);
	cr_assert_eq(ST(h)->reallocs_in_place + ST(h)->reallocs_moved, 0);
	cr_assert_eq(ST(h)->live_cnt, 1);
	cr_assert_eq(ST(h)->live_bytes, 64);
	assert_block(h, 0x1000, 64, 100, 1);
	/* failed realloc of an unknown block: a failure, not an unknown free */
	do_failed(h, TT_FN_REALLOC, 1, 130, 0x7000, 100, 125);
	cr_assert_eq(ST(h)->failed_allocs, n + 3);
	cr_assert_eq(ST(h)->unknown_frees, 0);
	heap__free(h);
}

Test(heap, realloc_skips_younger_block)
{
	struct heap *h = new_heap();

	/*
	 * Thread 1's realloc(0x1000) is entered at 50 and releases 0x1000;
	 * thread 2 is handed 0x1000 at 100 (its record replaces the stale
	 * one); thread 1's realloc record (moved to 0x2000) comes at 200.
	 */
	do_malloc(h, 2, 100, 0x1000, 64);
	do_realloc_fn(h, TT_FN_REALLOC, 1, 200, 50, 0x1000, 0x2000, 500);
	assert_block(h, 0x1000, 64, 100, 2);
	assert_block(h, 0x2000, 500, 200, 1);
	cr_assert_eq(ST(h)->total_frees, 0);
	cr_assert_eq(ST(h)->total_freed_bytes, 0);
	cr_assert_eq(ST(h)->live_cnt, 2);
	cr_assert_eq(ST(h)->live_bytes, 564);
	cr_assert_eq(ST(h)->reallocs_moved, 1);
	cr_assert_eq(ST(h)->total_allocs, 2);

	/* the same with reallocarray */
	do_realloc_fn(h, TT_FN_REALLOCARRAY, 1, 300, 99, 0x1000, 0x3000, 7);
	assert_block(h, 0x1000, 64, 100, 2);
	cr_assert_eq(ST(h)->total_frees, 0);
	cr_assert_eq(ST(h)->live_cnt, 3);

	/* realloc(p, 0) -> NULL with a younger block at p: not ours either */
	do_failed(h, TT_FN_REALLOC, 1, 400, 0x1000, 0, 99);
	assert_block(h, 0x1000, 64, 100, 2);
	cr_assert_eq(ST(h)->total_frees, 0);
	cr_assert_eq(ST(h)->failed_allocs, 0);
	cr_assert_eq(ST(h)->live_cnt, 3);
	cr_assert_eq(ST(h)->live_bytes, 571);

	/* a block exactly as old as the call (ts == entry_ns) is released */
	do_realloc_fn(h, TT_FN_REALLOC, 2, 500, 100, 0x1000, 0x4000, 1);
	cr_assert_null(heap__find(h, 0x1000));
	cr_assert_eq(ST(h)->total_frees, 1);
	cr_assert_eq(ST(h)->total_freed_bytes, 64);
	cr_assert_eq(ST(h)->live_cnt, 3);
	cr_assert_eq(ST(h)->live_bytes, 508);
	heap__free(h);
}

Test(heap, free_unknown_changes_nothing_else)
{
	struct heap *h = new_heap();
	struct heap_stats before;

	do_malloc(h, 1, 10, 0x1000, 100);
	do_free(h, 1, 20, 0x1000);
	do_malloc(h, 1, 30, 0x2000, 40);
	before = *ST(h);
	do_free(h, 1, 40, 0x3000);
	do_free(h, 2, 50, 0x1000);
	before.unknown_frees += 2;
	assert_counters_eq(ST(h), &before);
	assert_block(h, 0x2000, 40, 30, 1);
	cr_assert_eq(count_live(h), 1);
	{
		size_t cnt;
		const struct heap_thread *t = heap__threads(h, &cnt);

		cr_assert_eq(cnt, 2);
		cr_assert_eq(t[0].frees, 1);
		cr_assert_eq(t[1].tid, 2);
		cr_assert_eq(t[1].frees, 0);
		cr_assert_eq(t[1].freed_bytes, 0);
	}
	heap__free(h);
}

Test(heap, free_null_ignored)
{
	struct heap *h = new_heap();
	struct heap_stats before;

	do_free(h, 1, 5, 0);
	cr_assert_eq(ST(h)->unknown_frees, 0);
	cr_assert_eq(ST(h)->total_frees, 0);
	do_malloc(h, 1, 10, 0x1000, 100);
	before = *ST(h);
	do_free(h, 1, 20, 0);
	do_free(h, 2, 30, 0);
	assert_counters_eq(ST(h), &before);
	assert_block(h, 0x1000, 100, 10, 1);
	cr_assert_null(heap__find(h, 0));
	cr_assert_eq(count_live(h), 1);
	heap__free(h);
}

Test(heap, dup_alloc_replaces_block)
{
	struct heap *h = new_heap();

	do_malloc(h, 1, 10, 0x1000, 100);
	do_malloc(h, 1, 11, 0x2000, 10);
	/* the free of 0x1000 was lost */
	do_malloc(h, 2, 20, 0x1000, 300);
	cr_assert_eq(ST(h)->dup_allocs, 1);
	cr_assert_eq(ST(h)->total_allocs, 3);
	cr_assert_eq(ST(h)->total_alloc_bytes, 410);
	cr_assert_eq(ST(h)->total_frees, 0);
	cr_assert_eq(ST(h)->live_cnt, 2);
	cr_assert_eq(ST(h)->live_bytes, 310);
	assert_block(h, 0x1000, 300, 20, 2);
	cr_assert_eq(count_live(h), 2);
	/* smaller replacement */
	do_malloc(h, 1, 30, 0x1000, 5);
	cr_assert_eq(ST(h)->dup_allocs, 2);
	cr_assert_eq(ST(h)->live_cnt, 2);
	cr_assert_eq(ST(h)->live_bytes, 15);
	/* the one free releases the replacement */
	do_free(h, 1, 40, 0x1000);
	cr_assert_eq(ST(h)->total_frees, 1);
	cr_assert_eq(ST(h)->total_freed_bytes, 5);
	cr_assert_eq(ST(h)->live_cnt, 1);
	cr_assert_eq(ST(h)->live_bytes, 10);

	/* a realloc moving onto a live address is a dup too */
	do_malloc(h, 1, 50, 0x3000, 1);
	do_realloc(h, 1, 60, 0x3000, 0x2000, 77);
	cr_assert_eq(ST(h)->dup_allocs, 3);
	cr_assert_eq(ST(h)->total_frees, 2);
	cr_assert_eq(ST(h)->live_cnt, 1);
	cr_assert_eq(ST(h)->live_bytes, 77);
	assert_block(h, 0x2000, 77, 60, 1);
	heap__free(h);
}

Test(heap, peak)
{
	struct heap *h = new_heap();

	do_malloc(h, 1, 10, 0x1000, 100);
	cr_assert_eq(ST(h)->peak_bytes, 100);
	cr_assert_eq(ST(h)->peak_cnt, 1);
	cr_assert_eq(ST(h)->peak_ns, 10);
	do_malloc(h, 1, 20, 0x2000, 50);
	do_malloc(h, 1, 30, 0x3000, 50);
	cr_assert_eq(ST(h)->peak_bytes, 200);
	cr_assert_eq(ST(h)->peak_cnt, 3);
	cr_assert_eq(ST(h)->peak_ns, 30);
	do_free(h, 1, 40, 0x1000);
	cr_assert_eq(ST(h)->peak_bytes, 200);
	cr_assert_eq(ST(h)->peak_ns, 30);
	/* back to 200 with fewer blocks: the max is not exceeded, peak stays */
	do_malloc(h, 1, 50, 0x4000, 100);
	cr_assert_eq(ST(h)->live_bytes, 200);
	cr_assert_eq(ST(h)->peak_cnt, 3);
	cr_assert_eq(ST(h)->peak_ns, 30);
	/* realloc growth: released and re-added at once, counted once */
	do_realloc(h, 1, 60, 0x4000, 0x4000, 1000);
	cr_assert_eq(ST(h)->live_bytes, 1100);
	cr_assert_eq(ST(h)->peak_bytes, 1100);
	cr_assert_eq(ST(h)->peak_cnt, 3);
	cr_assert_eq(ST(h)->peak_ns, 60);
	/* moved realloc: never both blocks at once */
	do_realloc(h, 1, 70, 0x4000, 0x5000, 1000);
	cr_assert_eq(ST(h)->peak_bytes, 1100);
	cr_assert_eq(ST(h)->peak_ns, 60);
	/* dup replacement that grows live bytes */
	do_malloc(h, 1, 80, 0x2000, 151);
	cr_assert_eq(ST(h)->live_bytes, 1201);
	cr_assert_eq(ST(h)->peak_bytes, 1201);
	cr_assert_eq(ST(h)->peak_cnt, 3);
	cr_assert_eq(ST(h)->peak_ns, 80);
	do_free(h, 1, 90, 0x2000);
	do_free(h, 1, 91, 0x3000);
	do_free(h, 1, 92, 0x5000);
	cr_assert_eq(ST(h)->live_cnt, 0);
	cr_assert_eq(ST(h)->live_bytes, 0);
	cr_assert_eq(ST(h)->peak_bytes, 1201);
	cr_assert_eq(ST(h)->peak_cnt, 3);
	cr_assert_eq(ST(h)->peak_ns, 80);
	heap__free(h);
}

/*
 * Temporary allocations (heaptrack's): freed by the thread that made them,
 * within HEAP_TEMP_WINDOW_NS, with no allocation by that thread in between.
 */
Test(heap, temporary_allocations)
{
	struct heap *h = new_heap();
	const uint64_t W = HEAP_TEMP_WINDOW_NS;

	/* malloc; free: temporary */
	do_malloc(h, 1, 1000, 0x1000, 10);
	do_free(h, 1, 1100, 0x1000);
	cr_assert_eq(ST(h)->temp_allocs, 1);
	cr_assert_eq(ST(h)->temp_bytes, 10);

	/* a b, free a: b came between; free b: nothing allocated since b
	 * (a free between does not count) */
	do_malloc(h, 1, 2000, 0x2000, 20);
	do_malloc(h, 1, 2100, 0x3000, 30);
	do_free(h, 1, 2200, 0x2000);
	cr_assert_eq(ST(h)->temp_allocs, 1);
	do_free(h, 1, 2300, 0x3000);
	cr_assert_eq(ST(h)->temp_allocs, 2);
	cr_assert_eq(ST(h)->temp_bytes, 40);

	/* the window, inclusive: W after is temporary, W + 1 is not */
	do_malloc(h, 1, 10000, 0x4000, 4);
	do_free(h, 1, 10000 + W, 0x4000);
	cr_assert_eq(ST(h)->temp_allocs, 3);
	do_malloc(h, 1, 20000 + W, 0x5000, 5);
	do_free(h, 1, 20000 + 2 * W + 1, 0x5000);
	cr_assert_eq(ST(h)->temp_allocs, 3);

	/* per thread: thread 2 allocating does not break thread 1's pair */
	do_malloc(h, 1, 5 * W, 0x6000, 6);
	do_malloc(h, 2, 5 * W + 10, 0x7000, 7);
	do_free(h, 1, 5 * W + 20, 0x6000);
	cr_assert_eq(ST(h)->temp_allocs, 4);
	/* a block freed by another thread is not its temporary */
	do_free(h, 3, 5 * W + 30, 0x7000);
	cr_assert_eq(ST(h)->temp_allocs, 4);

	/* the address handed to another thread meanwhile: thread 1's latest
	 * allocation is gone, so freeing the new block is not thread 1's */
	do_malloc(h, 1, 6 * W, 0x8000, 8);
	do_free(h, 2, 6 * W + 1, 0x8000);
	do_malloc(h, 2, 6 * W + 2, 0x8000, 9);
	do_free(h, 1, 6 * W + 3, 0x8000);
	cr_assert_eq(ST(h)->temp_allocs, 4);

	/* a realloc is an allocation: it breaks the pair and is one itself */
	do_malloc(h, 1, 7 * W, 0x9000, 10);
	do_realloc(h, 1, 7 * W + 1, 0x9000, 0xa000, 100);
	do_free(h, 1, 7 * W + 2, 0xa000);
	cr_assert_eq(ST(h)->temp_allocs, 5);
	cr_assert_eq(ST(h)->temp_bytes, 10 + 30 + 4 + 6 + 100);

	/* a freed block counts once: a second free of the address is unknown */
	do_free(h, 1, 7 * W + 3, 0xa000);
	cr_assert_eq(ST(h)->temp_allocs, 5);
	cr_assert_eq(ST(h)->unknown_frees, 1);

	/* a block that was live before tracing started (restored) is not */
	cr_assert_eq(heap__restore_block(h, 0xb000, 1, 8 * W, 1, 0), 0);
	do_free(h, 1, 8 * W + 1, 0xb000);
	cr_assert_eq(ST(h)->temp_allocs, 5);
	heap__free(h);
}

Test(heap, first_last_ns)
{
	struct heap *h = new_heap();

	do_malloc(h, 1, 500, 0x1000, 1);
	do_free(h, 1, 700, 0x1000);
	/* records from several CPUs may come slightly out of order */
	do_failed(h, TT_FN_MALLOC, 1, 400, 0, 1, 399);
	do_free(h, 1, 600, 0x9999000);
	cr_assert_eq(ST(h)->first_ns, 400);
	cr_assert_eq(ST(h)->last_ns, 700);
	heap__free(h);
}

Test(heap, per_thread_figures)
{
	struct heap *h = new_heap();
	const struct heap_thread *t;
	size_t cnt;

	/* first seen in non-sorted order */
	do_malloc(h, 300, 10, 0x1000, 100);
	do_malloc(h, 7, 20, 0x2000, 40);
	do_malloc(h, 4000000, 30, 0x3000, 1);
	do_free(h, 7, 40, 0x1000);                     /* 7 releases 300's block */
	do_realloc(h, 300, 50, 0x2000, 0x4000, 80);   /* 300 releases 7's block */
	do_failed(h, TT_FN_CALLOC, 7, 60, 0, 10, 59);
	do_failed(h, TT_FN_REALLOC, 7, 70, 0x3000, 0, 69); /* 7 frees via realloc(p, 0) */
	do_free(h, 4000000, 80, 0xdead0);              /* unknown: no thread free */
	do_malloc(h, 1, 90, 0x5000, 9);
	do_realloc(h, 1, 100, 0x5000, 0x5000, 19);

	t = heap__threads(h, &cnt);
	cr_assert_eq(cnt, 4);
	cr_assert_eq(t[0].tid, 1);
	cr_assert_eq(t[1].tid, 7);
	cr_assert_eq(t[2].tid, 300);
	cr_assert_eq(t[3].tid, 4000000);

	cr_assert_eq(t[0].allocs, 2);
	cr_assert_eq(t[0].alloc_bytes, 28);
	cr_assert_eq(t[0].frees, 1);
	cr_assert_eq(t[0].freed_bytes, 9);
	cr_assert_eq(t[0].failed, 0);

	cr_assert_eq(t[1].allocs, 1);
	cr_assert_eq(t[1].alloc_bytes, 40);
	cr_assert_eq(t[1].frees, 2);
	cr_assert_eq(t[1].freed_bytes, 101);
	cr_assert_eq(t[1].failed, 1);

	cr_assert_eq(t[2].allocs, 2);
	cr_assert_eq(t[2].alloc_bytes, 180);
	cr_assert_eq(t[2].frees, 1);
	cr_assert_eq(t[2].freed_bytes, 40);
	cr_assert_eq(t[2].failed, 0);

	cr_assert_eq(t[3].allocs, 1);
	cr_assert_eq(t[3].alloc_bytes, 1);
	cr_assert_eq(t[3].frees, 0);
	cr_assert_eq(t[3].freed_bytes, 0);
	cr_assert_eq(t[3].failed, 0);

	/* still right after more records (the list was re-sorted in place) */
	do_malloc(h, 2, 110, 0x6000, 3);
	do_malloc(h, 300, 120, 0x7000, 3);
	do_free(h, 7, 130, 0x6000);
	t = heap__threads(h, &cnt);
	cr_assert_eq(cnt, 5);
	cr_assert_eq(t[1].tid, 2);
	cr_assert_eq(t[1].allocs, 1);
	cr_assert_eq(t[2].tid, 7);
	cr_assert_eq(t[2].frees, 3);
	cr_assert_eq(t[2].freed_bytes, 104);
	cr_assert_eq(t[3].tid, 300);
	cr_assert_eq(t[3].allocs, 3);
	heap__free(h);
}

Test(heap, many_threads)
{
	struct heap *h = new_heap();
	const struct heap_thread *t;
	size_t cnt, i;

	/* more threads than the first capacity, interleaved */
	for (i = 0; i < 1000; i++) {
		uint32_t tid = (uint32_t)((i * 7919) % 1000) + 1;

		do_malloc(h, tid, 10 + i, 0x100000 + 16 * i, tid);
		do_malloc(h, tid, 10 + i, 0x200000 + 16 * i, 1);
	}
	t = heap__threads(h, &cnt);
	cr_assert_eq(cnt, 1000);
	for (i = 0; i < cnt; i++) {
		cr_assert_eq(t[i].tid, i + 1);
		cr_assert_eq(t[i].allocs, 2);
		cr_assert_eq(t[i].alloc_bytes, i + 2);
	}
	heap__free(h);
}

/* heap__next visits every live block once and nothing else. */
Test(heap, iteration_is_the_live_set)
{
	enum { N = 5000 };
	struct heap *h = new_heap();
	static bool seen[N];
	const struct heap_block *b;
	size_t it = 0, n = 0, i;

	for (i = 0; i < N; i++)
		do_malloc(h, 1, 1 + i, 0x7f0000000000ULL + 4096 * i, i + 1);
	for (i = 0; i < N; i += 3)
		do_free(h, 1, 10000 + i, 0x7f0000000000ULL + 4096 * i);
	while ((b = heap__next(h, &it))) {
		uint64_t k = (b->ptr - 0x7f0000000000ULL) / 4096;

		cr_assert_lt(k, N);
		cr_assert_eq(b->ptr, 0x7f0000000000ULL + 4096 * k);
		cr_assert_neq(k % 3, 0, "freed block %llu iterated", (unsigned long long)k);
		cr_assert_not(seen[k], "block %llu twice", (unsigned long long)k);
		cr_assert_eq(b->size, k + 1);
		seen[k] = true;
		n++;
	}
	cr_assert_eq(n, ST(h)->live_cnt);
	cr_assert_eq(n, N - (N + 2) / 3);
	for (i = 0; i < N; i++) {
		cr_assert_eq(seen[i], i % 3 != 0);
		cr_assert_eq(heap__find(h, 0x7f0000000000ULL + 4096 * i) != NULL, i % 3 != 0);
	}
	/* the iterator stays at the end */
	cr_assert_null(heap__next(h, &it));
	heap__free(h);
}

Test(heap, million_live_blocks)
{
	enum { N = 1000000 };
	struct heap *h = new_heap();
	size_t i, tb, max_per_block = 0;
	uint64_t bytes = 0;

	for (i = 0; i < N; i++) {
		uint64_t p = 0x555555560000ULL + 48 * i;

		do_malloc(h, 1 + (uint32_t)(i & 3), 1 + i, p, 24 + (i & 31));
		bytes += 24 + (i & 31);
		/* right after every grow the table is at its emptiest */
		if (i >= 1000) {
			tb = heap__table_bytes(h);
			if (tb / (i + 1) > max_per_block)
				max_per_block = tb / (i + 1);
		}
	}
	cr_assert_eq(ST(h)->live_cnt, N);
	cr_assert_eq(ST(h)->live_bytes, bytes);
	tb = heap__table_bytes(h);
	cr_assert_lt((double)tb / N, 100.0, "%zu table bytes for %d blocks", tb, N);
	cr_assert_lt(max_per_block, 100, "%zu bytes per block at some point", max_per_block);
	cr_assert_eq(count_live(h), N);
	for (i = 0; i < N; i++) {
		const struct heap_block *b = heap__find(h, 0x555555560000ULL + 48 * i);

		cr_assert_not_null(b);
		cr_assert_eq(b->size, 24 + (i & 31));
		cr_assert_eq(b->ts_ns, 1 + i);
	}
	cr_assert_null(heap__find(h, 0x555555560000ULL + 48 * N));
	cr_assert_null(heap__find(h, 0x555555560000ULL + 8));

	/* release every other block, then the rest */
	for (i = 0; i < N; i += 2)
		do_free(h, 1, 2 * N + i, 0x555555560000ULL + 48 * i);
	cr_assert_eq(ST(h)->live_cnt, N / 2);
	cr_assert_eq(count_live(h), N / 2);
	for (i = 0; i < N; i++)
		cr_assert_eq(heap__find(h, 0x555555560000ULL + 48 * i) != NULL, i % 2 == 1);
	for (i = 1; i < N; i += 2)
		do_free(h, 1, 3 * N + i, 0x555555560000ULL + 48 * i);
	cr_assert_eq(ST(h)->live_cnt, 0);
	cr_assert_eq(ST(h)->live_bytes, 0);
	cr_assert_eq(ST(h)->total_frees, N);
	cr_assert_eq(ST(h)->total_freed_bytes, bytes);
	cr_assert_eq(ST(h)->unknown_frees, 0);
	cr_assert_eq(count_live(h), 0);
	heap__free(h);
}

/* ---- randomized cross-check against a naive reference model ------------ */

struct ref_block {
	bool live;
	uint64_t size, ts;
	uint32_t tid;
};

struct ref {
	size_t n;             /* address pool size */
	const uint64_t *addr; /* pool, sorted, distinct, non-zero */
	struct ref_block *b;  /* by pool index */
	size_t *live, *pos;   /* live pool indices and their positions */
	size_t live_n;
	struct heap_stats st;
	struct heap_thread th[8];
	size_t th_n;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: fixed seed, same sequence everywhere */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static size_t rnd_below(size_t n)
{
	return (size_t)(rnd() % n);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Pool index of ptr, or -1 (a plain binary search: the reference's "map"). */
static long ref_index(const struct ref *r, uint64_t ptr)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->addr[mid] == ptr)
			return (long)mid;
		if (r->addr[mid] < ptr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static struct heap_thread *ref_thread(struct ref *r, uint32_t tid)
{
	size_t i;

	for (i = 0; i < r->th_n; i++)
		if (r->th[i].tid == tid)
			return &r->th[i];
	cr_assert_lt(r->th_n, 8);
	memset(&r->th[r->th_n], 0, sizeof(r->th[0]));
	r->th[r->th_n].tid = tid;
	return &r->th[r->th_n++];
}

static void ref_touch(struct ref *r, uint64_t ts)
{
	if (!r->st.first_ns || ts < r->st.first_ns)
		r->st.first_ns = ts;
	if (ts > r->st.last_ns)
		r->st.last_ns = ts;
}

static void ref_set_live(struct ref *r, size_t k, bool live)
{
	if (live) {
		r->pos[k] = r->live_n;
		r->live[r->live_n++] = k;
	} else {
		size_t p = r->pos[k], last = r->live[--r->live_n];

		r->live[p] = last;
		r->pos[last] = p;
	}
	r->b[k].live = live;
}

static void ref_release(struct ref *r, size_t k, struct heap_thread *t)
{
	r->st.total_frees++;
	r->st.total_freed_bytes += r->b[k].size;
	r->st.live_cnt--;
	r->st.live_bytes -= r->b[k].size;
	t->frees++;
	t->freed_bytes += r->b[k].size;
	ref_set_live(r, k, false);
}

static void ref_free(struct ref *r, uint32_t tid, uint64_t ts, uint64_t ptr)
{
	struct heap_thread *t;
	long k;

	if (!ptr)
		return; /* free(NULL) is no event at all */
	t = ref_thread(r, tid);
	ref_touch(r, ts);
	k = ref_index(r, ptr);
	if (k >= 0 && r->b[k].live)
		ref_release(r, (size_t)k, t);
	else
		r->st.unknown_frees++;
}

/*
 * The heap's rule for a realloc whose record comes after another thread got
 * its input address: the block found live there was kept (last 64) and the
 * realloc claims it as released. Written here apart from heap.c's code.
 */
#define REF_PENDING 64
static struct {
	uint64_t ptr, ts, size, dup_ts;
} ref_pending[REF_PENDING];
static unsigned ref_pending_next;

static bool ref_claim(struct ref *r, const struct tt_alloc_event *e, struct heap_thread *t)
{
	unsigned i;

	for (i = 0; i < REF_PENDING; i++) {
		if (ref_pending[i].ptr != e->old_ptr || ref_pending[i].ts > e->entry_ns ||
		    e->entry_ns > ref_pending[i].dup_ts)
			continue;
		r->st.dup_allocs--;
		r->st.total_frees++;
		r->st.total_freed_bytes += ref_pending[i].size;
		t->frees++;
		t->freed_bytes += ref_pending[i].size;
		ref_pending[i].ptr = 0;
		return true;
	}
	return false;
}

static void ref_alloc(struct ref *r, const struct tt_alloc_event *e)
{
	struct heap_thread *t = ref_thread(r, e->hdr.tid);
	bool realloc_like = e->fn == TT_FN_REALLOC || e->fn == TT_FN_REALLOCARRAY;
	bool claimed = false;
	long old = -1, k;

	ref_touch(r, e->hdr.ts_ns);
	if (realloc_like && e->old_ptr) {
		old = ref_index(r, e->old_ptr);
		/* not live, or younger than the call: not the realloc's block */
		if (old >= 0 && (!r->b[old].live || r->b[old].ts > e->entry_ns))
			old = -1;
		if (old < 0 && (!e->failed || (e->fn == TT_FN_REALLOC && !e->size)))
			claimed = ref_claim(r, e, t);
	}
	if (e->failed) {
		if (e->fn == TT_FN_REALLOC && e->old_ptr && e->size == 0) {
			if (old >= 0)
				ref_release(r, (size_t)old, t);
			else if (!claimed)
				r->st.unknown_frees++;
		} else {
			r->st.failed_allocs++;
			t->failed++;
		}
		return;
	}
	if (realloc_like && e->old_ptr) {
		if (e->ptr == e->old_ptr)
			r->st.reallocs_in_place++;
		else
			r->st.reallocs_moved++;
		if (old >= 0)
			ref_release(r, (size_t)old, t);
		else if (!claimed)
			r->st.unknown_frees++;
	}
	k = ref_index(r, e->ptr);
	cr_assert_geq(k, 0);
	if (r->b[k].live) {
		unsigned slot = ref_pending_next++ % REF_PENDING;

		ref_pending[slot].ptr = e->ptr;
		ref_pending[slot].ts = r->b[k].ts;
		ref_pending[slot].size = r->b[k].size;
		ref_pending[slot].dup_ts = e->hdr.ts_ns;
		r->st.dup_allocs++;
		r->st.live_bytes -= r->b[k].size;
	} else {
		ref_set_live(r, (size_t)k, true);
		r->st.live_cnt++;
	}
	r->b[k].size = e->size;
	r->b[k].ts = e->hdr.ts_ns;
	r->b[k].tid = e->hdr.tid;
	r->st.live_bytes += e->size;
	r->st.total_allocs++;
	r->st.total_alloc_bytes += e->size;
	t->allocs++;
	t->alloc_bytes += e->size;
	if (r->st.live_bytes > r->st.peak_bytes) {
		r->st.peak_bytes = r->st.live_bytes;
		r->st.peak_cnt = r->st.live_cnt;
		r->st.peak_ns = e->hdr.ts_ns;
	}
}

static void ref_check_stats(const struct ref *r, const struct heap *h, size_t step)
{
	const struct heap_stats *s = heap__stats(h);

#define F(x) cr_assert_eq(s->x, r->st.x, "step %zu: " #x " %llu, reference %llu", step, \
			  (unsigned long long)s->x, (unsigned long long)r->st.x)
	F(total_allocs);
	F(total_alloc_bytes);
	F(total_frees);
	F(total_freed_bytes);
	F(failed_allocs);
	F(unknown_frees);
	F(reallocs_in_place);
	F(reallocs_moved);
	F(dup_allocs);
	F(live_cnt);
	F(live_bytes);
	F(peak_bytes);
	F(peak_cnt);
	F(peak_ns);
	F(first_ns);
	F(last_ns);
#undef F
}

static void ref_check_all(const struct ref *r, struct heap *h, size_t step)
{
	const struct heap_block *b;
	const struct heap_thread *t;
	bool *seen = calloc(r->n, sizeof(*seen));
	size_t it = 0, n = 0, i, cnt;

	cr_assert_not_null(seen);
	ref_check_stats(r, h, step);
	while ((b = heap__next(h, &it))) {
		long k = ref_index(r, b->ptr);

		cr_assert_geq(k, 0, "step %zu: iterated %#llx, not in the pool", step,
			      (unsigned long long)b->ptr);
		cr_assert(r->b[k].live, "step %zu: iterated %#llx, not live in the reference",
			  step, (unsigned long long)b->ptr);
		cr_assert_not(seen[k], "step %zu: %#llx iterated twice", step,
			      (unsigned long long)b->ptr);
		seen[k] = true;
		cr_assert_eq(b->size, r->b[k].size, "step %zu: %#llx size", step,
			     (unsigned long long)b->ptr);
		cr_assert_eq(b->ts_ns, r->b[k].ts);
		cr_assert_eq(b->tid, r->b[k].tid);
		n++;
	}
	cr_assert_eq(n, r->live_n, "step %zu: iterated %zu, reference has %zu live", step, n,
		     r->live_n);
	for (i = 0; i < r->n; i++) {
		b = heap__find(h, r->addr[i]);
		cr_assert_eq(b != NULL, r->b[i].live, "step %zu: find(%#llx) %s", step,
			     (unsigned long long)r->addr[i], b ? "found a dead block" : "missed");
		if (b) {
			cr_assert_eq(b->ptr, r->addr[i]);
			cr_assert_eq(b->size, r->b[i].size);
		}
	}
	t = heap__threads(h, &cnt);
	cr_assert_eq(cnt, r->th_n);
	for (i = 0; i < cnt; i++) {
		const struct heap_thread *rt = NULL;
		size_t j;

		if (i)
			cr_assert_lt(t[i - 1].tid, t[i].tid, "threads not sorted by tid");
		for (j = 0; j < r->th_n; j++)
			if (r->th[j].tid == t[i].tid)
				rt = &r->th[j];
		cr_assert_not_null(rt, "unexpected thread %u", t[i].tid);
		cr_assert_eq(t[i].allocs, rt->allocs, "step %zu tid %u allocs", step, t[i].tid);
		cr_assert_eq(t[i].alloc_bytes, rt->alloc_bytes);
		cr_assert_eq(t[i].frees, rt->frees, "step %zu tid %u frees", step, t[i].tid);
		cr_assert_eq(t[i].freed_bytes, rt->freed_bytes);
		cr_assert_eq(t[i].failed, rt->failed);
	}
	free(seen);
}

static const uint32_t tids[] = { 4242, 7, 100000, 13, 1 };

static uint64_t rnd_size(void)
{
	uint64_t r = rnd_below(100);

	if (r < 5)
		return 0;
	if (r < 90)
		return 1 + rnd_below(512);
	if (r < 99)
		return 4096 + rnd_below(1 << 20);
	return 1ULL << (20 + rnd_below(12));
}

static size_t pick_live(const struct ref *r)
{
	return r->live[rnd_below(r->live_n)];
}

/* A pool index not live (falls back to any after a few tries). */
static size_t pick_dead(const struct ref *r)
{
	size_t k = 0;
	int i;

	for (i = 0; i < 64; i++) {
		k = rnd_below(r->n);
		if (!r->b[k].live)
			break;
	}
	return k;
}

/*
 * One random record, applied to both models. `target` steers the live count
 * so the table keeps a high load across sizes.
 */
enum { OP_ALLOC, OP_FREE, OP_REALLOC_LIVE, OP_REALLOC_ANY, OP_FAIL };

static void random_step(struct ref *r, struct heap *h, size_t step, size_t target)
{
	static const uint32_t alloc_fns[] = {
		TT_FN_MALLOC, TT_FN_CALLOC, TT_FN_REALLOC, TT_FN_REALLOCARRAY,
		TT_FN_POSIX_MEMALIGN, TT_FN_ALIGNED_ALLOC, TT_FN_MEMALIGN,
		TT_FN_VALLOC, TT_FN_PVALLOC,
	};
	uint64_t ts = 1000 + 16 * (uint64_t)step;
	uint32_t tid = tids[rnd_below(sizeof(tids) / sizeof(tids[0]))];
	unsigned op = (unsigned)rnd_below(1000);
	bool want_more = r->live_n < target;
	struct tt_alloc_event e;
	int kind;

	if (op < 300)
		kind = OP_ALLOC;
	else if (op < 550)
		kind = OP_FREE;
	else if (op < 850)
		kind = OP_REALLOC_LIVE;
	else if (op < 950)
		kind = OP_REALLOC_ANY;
	else
		kind = OP_FAIL;
	if (kind == OP_ALLOC && !want_more && rnd_below(100) < 60)
		kind = OP_FREE;
	else if (kind == OP_FREE && want_more && rnd_below(100) < 60)
		kind = OP_ALLOC;
	if ((kind == OP_FREE || kind == OP_REALLOC_LIVE) && !r->live_n)
		kind = OP_ALLOC;

	switch (kind) {
	case OP_ALLOC: {
		/* mostly a dead address, sometimes a live one (dup) */
		size_t k = rnd_below(100) < 2 ? rnd_below(r->n) : pick_dead(r);

		e = mk_alloc(tid, ts, alloc_fns[rnd_below(9)], r->addr[k], rnd_size(), 0,
			     ts - 1 - rnd_below(8), rnd_below(100) < 3);
		break;
	}
	case OP_FREE: {
		uint64_t ptr;

		if (rnd_below(1000) < 5)
			ptr = 0;                            /* free(NULL) */
		else if (rnd_below(100) < 3)
			ptr = r->addr[rnd_below(r->n)];     /* maybe unknown */
		else if (rnd_below(100) < 1)
			ptr = 0x10 + 16 * rnd_below(64);    /* never allocated */
		else
			ptr = r->addr[pick_live(r)];
		ref_free(r, tid, ts, ptr);
		do_free(h, tid, ts, ptr);
		return;
	}
	case OP_REALLOC_LIVE: {
		size_t k = pick_live(r);
		uint64_t old = r->addr[k], entry = ts - 1 - rnd_below(8);
		uint32_t fn = rnd_below(4) ? TT_FN_REALLOC : TT_FN_REALLOCARRAY;
		unsigned sub = (unsigned)rnd_below(100);

		if (sub < 3) {
			/* another thread got `old` after this call released it */
			entry = r->b[k].ts - 1 - rnd_below(8);
			sub = 3 + (unsigned)rnd_below(97);
		}
		if (sub < 8)       /* failed: old block stays */
			e = mk_alloc(tid, ts, fn, 0, rnd_size() + 1, old, entry, true);
		else if (sub < 12) /* realloc(p, 0) -> NULL: frees p */
			e = mk_alloc(tid, ts, TT_FN_REALLOC, 0, 0, old, entry, true);
		else if (sub < 50) /* in place */
			e = mk_alloc(tid, ts, fn, old, rnd_size(), old, entry, false);
		else if (sub < 97) /* moved */
			e = mk_alloc(tid, ts, fn, r->addr[pick_dead(r)], rnd_size(), old, entry,
				     false);
		else               /* moved onto any address, maybe a live one */
			e = mk_alloc(tid, ts, fn, r->addr[rnd_below(r->n)], rnd_size(), old, entry,
				     false);
		break;
	}
	case OP_REALLOC_ANY: {
		/* realloc of any pool address (often unknown), maybe to itself */
		uint64_t old = r->addr[rnd_below(r->n)];
		uint64_t ptr = rnd_below(2) ? old : r->addr[pick_dead(r)];
		bool zero = rnd_below(10) == 0;

		e = mk_alloc(tid, ts, TT_FN_REALLOC, ptr, zero ? 0 : rnd_size(), old, ts - 1,
			     zero);
		break;
	}
	default: {
		/* a failed call of any kind */
		uint32_t fn = alloc_fns[rnd_below(9)];
		uint64_t old = rnd_below(2) ? r->addr[rnd_below(r->n)] : 0;
		uint64_t size = rnd_size();

		if (fn != TT_FN_REALLOC && fn != TT_FN_REALLOCARRAY)
			old = 0;
		if (fn == TT_FN_REALLOC && old && size == 0)
			size = 1;
		e = mk_alloc(tid, ts, fn, 0, size, old, ts - 1, true);
		break;
	}
	}
	ref_alloc(r, &e);
	on_alloc(h, &e);
}

static void run_random(const uint64_t *addr, size_t n, size_t steps, size_t lo, size_t hi,
		       uint64_t seed)
{
	struct ref r;
	struct heap *h = new_heap();
	uint64_t *sorted = malloc(n * sizeof(*sorted));
	size_t step, i;

	cr_assert_not_null(sorted);
	memcpy(sorted, addr, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u64);
	for (i = 1; i < n; i++)
		cr_assert_neq(sorted[i - 1], sorted[i], "pool has duplicates");
	cr_assert_neq(sorted[0], 0);

	memset(&r, 0, sizeof(r));
	r.n = n;
	r.addr = sorted;
	r.b = calloc(n, sizeof(*r.b));
	r.live = calloc(n, sizeof(*r.live));
	r.pos = calloc(n, sizeof(*r.pos));
	cr_assert(r.b && r.live && r.pos);
	rng_state = seed;

	for (step = 0; step < steps; step++) {
		/* a sawtooth target: fill towards hi, drain towards lo, repeat */
		size_t period = 20000, phase = step % period;
		size_t target = phase < period / 2 ? hi : lo;

		if (step < period / 2)
			target = hi * step / (period / 2) + 1;
		random_step(&r, h, step, target);
		if (step % 97 == 0)
			ref_check_stats(&r, h, step);
		if (step % 5003 == 0)
			ref_check_all(&r, h, step);
	}
	ref_check_all(&r, h, steps);
	/* the run must have exercised every path */
	cr_assert_gt(r.st.dup_allocs, 100);
	cr_assert_gt(r.st.unknown_frees, 100);
	cr_assert_gt(r.st.reallocs_in_place, 1000);
	cr_assert_gt(r.st.reallocs_moved, 1000);
	cr_assert_gt(r.st.failed_allocs, 1000);
	cr_assert_gt(r.st.total_frees, 10000);
	cr_assert_gt(r.st.peak_cnt, lo);

	/* drain: free everything left, in pool order */
	for (i = 0; i < n; i++)
		if (r.b[i].live) {
			ref_free(&r, tids[i % 5], 1ULL << 40, sorted[i]);
			do_free(h, tids[i % 5], 1ULL << 40, sorted[i]);
		}
	ref_check_all(&r, h, steps + 1);
	cr_assert_eq(heap__stats(h)->live_cnt, 0);
	cr_assert_eq(heap__stats(h)->live_bytes, 0);

	heap__free(h);
	free(r.b);
	free(r.live);
	free(r.pos);
	free(sorted);
}

/* Addresses that are multiples of 16, of 4096 and of 1 MiB. */
Test(heap, random_vs_reference)
{
	enum { N = 4000 };
	static uint64_t addr[N];
	size_t i;

	for (i = 0; i < N; i++) {
		switch (i % 4) {
		case 0: /* small chunks, 16 apart */
			addr[i] = 0x555555559000ULL + 16 * (i / 4);
			break;
		case 1: /* page-aligned */
			addr[i] = 0x7f1200000000ULL + 4096 * (i / 4);
			break;
		case 2: /* mmap'd chunks: page + 16 */
			addr[i] = 0x7f3400000010ULL + 4096 * 3 * (i / 4);
			break;
		default: /* 1 MiB aligned: few distinct hash homes */
			addr[i] = 0x7f5600000000ULL + ((uint64_t)(i / 4) << 20);
			break;
		}
	}
	/* live count swings between ~1600 and ~3050: 4096 slots at up to 3/4 load */
	run_random(addr, N, 200000, 1600, 3050, 0x5eed1234abcdULL);
}

/*
 * The same on a pool whose addresses all hash to a handful of slots around
 * the end of the first table (1024 slots), live count kept below its growth
 * point: one probe run of hundreds of blocks that wraps past slot 0, so every
 * deletion shifts across the wrap. The hash is copied here only to pick such
 * addresses; the test stays valid (if gentler) should the hash change.
 */
Test(heap, random_clustered_wrapping)
{
	enum { N = 1500 };
	static uint64_t addr[N];
	uint64_t p = 0x555555560000ULL;
	size_t n = 0;

	while (n < N) {
		size_t home = (size_t)((p * 0x9E3779B97F4A7C15ULL) >> 17) & 1023;

		if (home >= 1018 || home <= 3)
			addr[n++] = p;
		p += 16;
	}
	run_random(addr, N, 200000, 300, 740, 0xc0ffee1234ULL);
}

/*
 * realloc(p, 0) releases p inside the call and reports it at its return;
 * meanwhile another thread is handed p's address and its record comes first
 * (seen under 4 threads with mmapped blocks). The old block is then found
 * live at the new one's address: it is kept, and the realloc's record claims
 * it as the free it was: no unknown free, no duplicate, every free counted.
 */
Test(heap, realloc_released_block_reused_before_its_record)
{
	struct heap *h = new_heap();

	do_malloc(h, 1, 10, 0x7000, 100);
	/* thread 1 enters realloc(0x7000, 0) at 20; thread 2 gets 0x7000 at 30 */
	do_malloc(h, 2, 30, 0x7000, 4096);
	do_failed(h, TT_FN_REALLOC, 1, 40, 0x7000, 0, 20);
	cr_expect_eq(ST(h)->total_frees, 1);
	cr_expect_eq(ST(h)->total_freed_bytes, 100);
	cr_expect_eq(ST(h)->unknown_frees, 0);
	cr_expect_eq(ST(h)->dup_allocs, 0);
	assert_block(h, 0x7000, 4096, 30, 2);

	/* the same when realloc moves: entered at 50, 0x7000 reused at 60 */
	do_realloc(h, 2, 45, 0x7000, 0x7000, 4096);
	do_malloc(h, 3, 60, 0x7000, 64);
	do_realloc_fn(h, TT_FN_REALLOC, 2, 70, 50, 0x7000, 0x9000, 8192);
	cr_expect_eq(ST(h)->unknown_frees, 0);
	cr_expect_eq(ST(h)->dup_allocs, 0);
	cr_expect_eq(ST(h)->live_cnt, 2);
	assert_block(h, 0x7000, 64, 60, 3);
	assert_block(h, 0x9000, 8192, 70, 2);

	/* a realloc that began after the address was handed out again claims
	 * nothing: that dropped block stays a duplicate (a lost free) */
	do_malloc(h, 4, 80, 0xa000, 10);
	do_malloc(h, 5, 90, 0xa000, 20);
	do_realloc_fn(h, TT_FN_REALLOC, 4, 110, 100, 0xa000, 0xb000, 30);
	cr_expect_eq(ST(h)->dup_allocs, 1);
	heap__free(h);
}
