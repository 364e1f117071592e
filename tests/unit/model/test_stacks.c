// SPDX-License-Identifier: Apache-2.0
/*
 * The peak breakdown: what each stack held at the moment of the global peak,
 * kept lazily (stacks__on_peak). First the stack table alone, then whole
 * records through the events decoder (heap and stacks together, realloc and
 * exec included), checked against a model that copies every stack's figures
 * at each new peak.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "events.h"
#include "heap.h"
#include "model.h"
#include "stacks.h"

static void expect_at_peak(struct stacks *s, uint32_t id, uint64_t cnt, uint64_t bytes)
{
	const struct stack_info *st = stacks__get(s, id);

	cr_assert_not_null(st);
	cr_expect_eq(st->at_peak_cnt, cnt, "stack %u: at_peak_cnt %llu, want %llu", id,
		     (unsigned long long)st->at_peak_cnt, (unsigned long long)cnt);
	cr_expect_eq(st->at_peak_bytes, bytes, "stack %u: at_peak_bytes %llu, want %llu", id,
		     (unsigned long long)st->at_peak_bytes, (unsigned long long)bytes);
}

static uint32_t intern1(struct stacks *s, uint64_t ip)
{
	return stacks__intern(s, &ip, 1, TT_STACK_END_ROOT);
}

Test(stacks_peak, nothing_before_the_first_peak)
{
	struct stacks *s;
	uint32_t a;

	cr_assert_eq(stacks__new(&s, 16), 0);
	a = intern1(s, 0x1000);
	stacks__on_alloc(s, a, 100);
	expect_at_peak(s, a, 0, 0);
	cr_expect(stacks__has_at_peak(s));
	stacks__free(s);
}

/* Three peaks, each read in the middle (a snapshot) and the figures changed
 * afterwards: each read gives the latest peak's, never the current ones. */
Test(stacks_peak, successive_peaks_read_at_any_moment)
{
	struct stacks *s;
	uint32_t a, b, c;

	cr_assert_eq(stacks__new(&s, 16), 0);
	a = intern1(s, 0x1000);
	b = intern1(s, 0x2000);
	c = intern1(s, 0x3000);

	/* peak 1: a 100 */
	stacks__on_alloc(s, a, 100);
	stacks__on_peak(s);
	stacks__on_release(s, a, 100);
	expect_at_peak(s, a, 1, 100);
	expect_at_peak(s, b, 0, 0);

	/* peak 2: a 60 + b 2x50 = 160 */
	stacks__on_alloc(s, a, 60);
	stacks__on_alloc(s, b, 50);
	stacks__on_alloc(s, b, 50);
	stacks__on_peak(s);
	expect_at_peak(s, a, 1, 60); /* read right at the peak */
	stacks__on_release(s, b, 50);
	stacks__on_release(s, a, 60);
	stacks__on_alloc(s, c, 30); /* 80 live: no peak */
	expect_at_peak(s, a, 1, 60);
	expect_at_peak(s, b, 2, 100);
	expect_at_peak(s, c, 0, 0);

	/* peak 3: b 50 + c 30 + c 90 = 170; a untouched since peak 2 (0 live) */
	stacks__on_alloc(s, c, 90);
	stacks__on_peak(s);
	stacks__on_release(s, c, 30);
	stacks__on_release(s, c, 90);
	stacks__on_release(s, b, 50);
	expect_at_peak(s, a, 0, 0);
	expect_at_peak(s, b, 1, 50);
	expect_at_peak(s, c, 2, 120);
	/* and the live figures went on */
	cr_expect_eq(stacks__get(s, c)->live_bytes, 0);
	cr_expect_eq(stacks__get(s, c)->bytes, 120);
	stacks__free(s);
}

Test(stacks_peak, kernel_figures_have_no_breakdown)
{
	struct stack_info counts = { .allocs = 3, .bytes = 300, .live_cnt = 1, .live_bytes = 100 };
	struct stacks *s;
	uint32_t a;

	cr_assert_eq(stacks__new(&s, 16), 0);
	a = intern1(s, 0x1000);
	stacks__add_counts(s, a, &counts);
	cr_expect_not(stacks__has_at_peak(s));
	stacks__free(s);
}

/* ---- whole records through the decoder ----------------------------------- */

struct run {
	struct model m;
	struct events *ev;
	uint64_t ts;
};

static void run_up(struct run *r)
{
	memset(r, 0, sizeof(*r));
	cr_assert_eq(model__init(&r->m, 1, 0, false, 16), 0);
	cr_assert_eq(events__new_offline(&r->ev, &r->m), 0);
	r->ts = 10;
}

static void run_down(struct run *r)
{
	events__free(r->ev);
	model__fini(&r->m);
}

static void feed_alloc(struct run *r, uint32_t fn, uint64_t ptr, uint64_t size, uint64_t old_ptr,
		       uint64_t ip)
{
	struct tt_alloc_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = TT_EV_ALLOC;
	e.hdr.tid = 1;
	e.hdr.ts_ns = r->ts++;
	e.entry_ns = e.hdr.ts_ns;
	e.fn = fn;
	e.ptr = ptr;
	e.size = size;
	e.old_ptr = old_ptr;
	e.nr_frames = 1;
	e.stack_end = TT_STACK_END_ROOT;
	e.frames[0] = ip;
	r->ts++;
	events__feed(r->ev, &e, offsetof(struct tt_alloc_event, frames) + sizeof(e.frames[0]));
}

static void feed_free(struct run *r, uint64_t ptr)
{
	struct tt_free_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = TT_EV_FREE;
	e.hdr.tid = 1;
	e.hdr.ts_ns = r->ts++;
	e.ptr = ptr;
	events__feed(r->ev, &e, sizeof(e));
}

static void feed_exec(struct run *r)
{
	struct tt_event_hdr e = { .type = TT_EV_EXEC, .tid = 1, .ts_ns = r->ts++ };

	events__feed(r->ev, &e, sizeof(e));
}

static uint32_t id_of(struct run *r, uint64_t ip)
{
	return stacks__intern(r->m.stacks, &ip, 1, TT_STACK_END_ROOT);
}

/*
 * A: 0x10 (1000) and 0x20 (500) live; a realloc in place grows 0x20 to 2000
 * (stack B): peak 3000 = A 1000 + B 2000. A free of a block from before
 * attach changes nothing. Then a realloc moves 0x10 to 0x30 (B, 1500):
 * 3500, a second peak = B 1500 + B 2000. Frees, then more allocated in total
 * than ever live: 20 x 400 (C) freed one by one, no new peak. Exec: all gone.
 */
Test(stacks_peak, realloc_unknown_free_exec)
{
	struct run r;
	uint32_t a, b, c;

	run_up(&r);
	feed_alloc(&r, TT_FN_MALLOC, 0x10, 1000, 0, 0xa);
	feed_alloc(&r, TT_FN_MALLOC, 0x20, 500, 0, 0xa);
	feed_alloc(&r, TT_FN_REALLOC, 0x20, 2000, 0x20, 0xb); /* in place */
	feed_free(&r, 0x999); /* allocated before attach */
	a = id_of(&r, 0xa);
	b = id_of(&r, 0xb);
	cr_assert_eq(heap__stats(r.m.heap)->peak_bytes, 3000);
	expect_at_peak(r.m.stacks, a, 1, 1000);
	expect_at_peak(r.m.stacks, b, 1, 2000);

	feed_alloc(&r, TT_FN_REALLOC, 0x30, 1500, 0x10, 0xb); /* moved: A's 1000 goes */
	cr_assert_eq(heap__stats(r.m.heap)->peak_bytes, 3500);
	feed_free(&r, 0x30);
	for (int i = 0; i < 20; i++) {
		feed_alloc(&r, TT_FN_MALLOC, 0x100, 400, 0, 0xc);
		feed_free(&r, 0x100);
	}
	c = id_of(&r, 0xc);
	cr_assert_eq(heap__stats(r.m.heap)->peak_bytes, 3500);
	expect_at_peak(r.m.stacks, a, 0, 0);
	expect_at_peak(r.m.stacks, b, 2, 3500);
	expect_at_peak(r.m.stacks, c, 0, 0);

	feed_exec(&r);
	cr_assert_eq(heap__stats(r.m.heap)->live_bytes, 0);
	expect_at_peak(r.m.stacks, b, 2, 3500);
	/* the new image: 3000 more is no peak, 4000 is */
	feed_alloc(&r, TT_FN_MALLOC, 0x40, 3000, 0, 0xc);
	expect_at_peak(r.m.stacks, b, 2, 3500);
	expect_at_peak(r.m.stacks, c, 0, 0);
	feed_alloc(&r, TT_FN_MALLOC, 0x50, 1000, 0, 0xa);
	expect_at_peak(r.m.stacks, a, 1, 1000);
	expect_at_peak(r.m.stacks, b, 0, 0);
	expect_at_peak(r.m.stacks, c, 1, 3000);
	run_down(&r);
}

/*
 * Random records fed to two models: `lazy` is only read at the end; `ref` has
 * every stack's live figures copied each time the peak rises (the costly way).
 * Both must give the same breakdown, and it must add up to the peak.
 */
#define NSTACKS 8
#define NPTRS 64

Test(stacks_peak, lazy_equals_copy_at_every_peak)
{
	uint64_t ref_cnt[NSTACKS + 1] = {}, ref_bytes[NSTACKS + 1] = {};
	uint64_t live[NPTRS] = {};
	struct run lazy, ref;
	unsigned seed = 12345, i;
	uint64_t sum = 0;

	run_up(&lazy);
	run_up(&ref);
	/* the ids are those of the ips, in this order, in both models */
	for (i = 1; i <= NSTACKS; i++) {
		cr_assert_eq(id_of(&lazy, i), i);
		cr_assert_eq(id_of(&ref, i), i);
	}
	for (i = 0; i < 20000; i++) {
		unsigned op = rand_r(&seed) % 100, p = rand_r(&seed) % NPTRS;
		unsigned q = rand_r(&seed) % NPTRS;
		uint64_t ptr = 0x1000 + p * 0x10, size = 1 + rand_r(&seed) % 5000;
		uint64_t ip = 1 + rand_r(&seed) % NSTACKS, to = 0;
		uint64_t peak = heap__stats(ref.m.heap)->peak_bytes;
		struct run *both[2] = { &lazy, &ref };

		if (op < 60 && live[p])
			to = live[q] && q != p ? ptr : 0x1000 + q * 0x10; /* in place, or moved */
		for (int k = 0; k < 2; k++) {
			if (op < 45 && !live[p])
				feed_alloc(both[k], TT_FN_MALLOC, ptr, size, 0, ip);
			else if (to)
				feed_alloc(both[k], TT_FN_REALLOC, to, size, ptr, ip);
			else if (op < 99)
				feed_free(both[k], live[p] ? ptr : 0x99990); /* some unknown */
			else
				feed_exec(both[k]);
		}
		if (op < 45 && !live[p]) {
			live[p] = size;
		} else if (to) {
			live[p] = 0;
			live[(to - 0x1000) / 0x10] = size;
		} else if (op < 99) {
			live[p] = 0;
		} else {
			memset(live, 0, sizeof(live));
		}
		if (heap__stats(ref.m.heap)->peak_bytes != peak) {
			for (uint32_t id = 1; id <= NSTACKS; id++) {
				ref_cnt[id] = stacks__get(ref.m.stacks, id)->live_cnt;
				ref_bytes[id] = stacks__get(ref.m.stacks, id)->live_bytes;
			}
		}
	}
	cr_assert_eq(heap__stats(lazy.m.heap)->live_bytes, heap__stats(ref.m.heap)->live_bytes);
	cr_assert_eq(heap__stats(lazy.m.heap)->reallocs_moved, heap__stats(ref.m.heap)->reallocs_moved);
	cr_assert_gt(heap__stats(lazy.m.heap)->reallocs_in_place, 0);
	cr_assert_gt(heap__stats(lazy.m.heap)->reallocs_moved, 0);
	cr_assert_gt(heap__stats(lazy.m.heap)->exec_released, 0);
	cr_assert_gt(heap__stats(lazy.m.heap)->unknown_frees, 0);
	cr_assert_gt(heap__stats(lazy.m.heap)->peak_bytes, 0);
	cr_assert_eq(heap__stats(lazy.m.heap)->peak_bytes, heap__stats(ref.m.heap)->peak_bytes);
	for (uint32_t id = 1; id <= NSTACKS; id++) {
		expect_at_peak(lazy.m.stacks, id, ref_cnt[id], ref_bytes[id]);
		sum += ref_bytes[id];
	}
	cr_expect_eq(sum, heap__stats(lazy.m.heap)->peak_bytes);
	run_down(&lazy);
	run_down(&ref);
}
