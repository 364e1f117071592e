// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "heap.h"

/*
 * Live blocks live in an open-addressing table (linear probing, backward-shift
 * deletion, no tombstones) keyed by address; ptr == 0 marks an empty slot, as
 * no live block starts at 0. 32-byte slots at a load factor of at most 3/4
 * keep the model under 90 bytes per live allocation.
 */
#define MIN_SLOTS 1024

/*
 * A realloc reports the block it released at its return, after the release:
 * meanwhile another thread may be handed the same address and its record come
 * first. The old block, found live at the new one's address, is kept here
 * until the realloc's record arrives and claims it; unclaimed, it stays
 * counted as a duplicate (a lost free).
 */
#define PENDING 64

struct heap {
	struct heap_block pending[PENDING];
	uint64_t pending_ns[PENDING]; /* when its address was handed out again */
	unsigned pending_next;
	struct heap_block *slots;
	size_t mask; /* slot count - 1 */
	struct heap_stats st;

	struct heap_observer obs;

	struct heap_thread *threads; /* unsorted, small */
	size_t thread_cnt, thread_cap, last_thread;
	bool threads_sorted;
};

static size_t slot_of(const struct heap *h, uint64_t ptr)
{
	/* Fibonacci hashing: allocator addresses share their low bits */
	return (size_t)((ptr * 0x9E3779B97F4A7C15ULL) >> 17) & h->mask;
}

struct heap *heap__new(void)
{
	struct heap *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->slots = calloc(MIN_SLOTS, sizeof(*h->slots));
	if (!h->slots) {
		free(h);
		return NULL;
	}
	h->mask = MIN_SLOTS - 1;
	return h;
}

void heap__set_observer(struct heap *h, const struct heap_observer *obs)
{
	h->obs = *obs;
}

static void tell_released(struct heap *h, const struct heap_block *b, uint64_t ts_ns,
			  uint64_t moved_to, uint64_t new_size)
{
	if (h->obs.released)
		h->obs.released(h->obs.ctx, b, ts_ns, moved_to, new_size);
}

void heap__free(struct heap *h)
{
	if (!h)
		return;
	free(h->slots);
	free(h->threads);
	free(h);
}

static struct heap_block *lookup(const struct heap *h, uint64_t ptr)
{
	size_t i = slot_of(h, ptr);

	while (h->slots[i].ptr) {
		if (h->slots[i].ptr == ptr)
			return &h->slots[i];
		i = (i + 1) & h->mask;
	}
	return NULL;
}

static void place(struct heap *h, const struct heap_block *b)
{
	size_t i = slot_of(h, b->ptr);

	while (h->slots[i].ptr)
		i = (i + 1) & h->mask;
	h->slots[i] = *b;
}

static int grow(struct heap *h)
{
	size_t old_cnt = h->mask + 1, i;
	struct heap_block *old = h->slots, *slots;

	slots = calloc(old_cnt * 2, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	h->slots = slots;
	h->mask = old_cnt * 2 - 1;
	for (i = 0; i < old_cnt; i++)
		if (old[i].ptr)
			place(h, &old[i]);
	free(old);
	return 0;
}

static void remove_slot(struct heap *h, struct heap_block *b)
{
	size_t i = (size_t)(b - h->slots), j = i, home;

	/* shift later members of the probe run back so lookups never stop early */
	for (;;) {
		j = (j + 1) & h->mask;
		if (!h->slots[j].ptr)
			break;
		home = slot_of(h, h->slots[j].ptr);
		if (((j - home) & h->mask) >= ((j - i) & h->mask)) {
			h->slots[i] = h->slots[j];
			i = j;
		}
	}
	h->slots[i].ptr = 0;
}

static struct heap_thread *thread_of(struct heap *h, uint32_t tid)
{
	struct heap_thread *t;
	size_t i;

	/* consecutive records mostly come from one thread */
	if (h->last_thread < h->thread_cnt && h->threads[h->last_thread].tid == tid)
		return &h->threads[h->last_thread];
	for (i = h->thread_cnt; i-- > 0;)
		if (h->threads[i].tid == tid) {
			h->last_thread = i;
			return &h->threads[i];
		}
	if (h->thread_cnt == h->thread_cap) {
		size_t cap = h->thread_cap ? h->thread_cap * 2 : 16;

		t = realloc(h->threads, cap * sizeof(*t));
		if (!t)
			return NULL;
		h->threads = t;
		h->thread_cap = cap;
	}
	t = &h->threads[h->thread_cnt++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	h->threads_sorted = false;
	return t;
}

static void touch(struct heap *h, uint64_t ts_ns)
{
	if (!h->st.first_ns || ts_ns < h->st.first_ns)
		h->st.first_ns = ts_ns;
	if (ts_ns > h->st.last_ns)
		h->st.last_ns = ts_ns;
}

static void release(struct heap *h, struct heap_block *b, struct heap_thread *t, uint64_t ts_ns,
		    uint64_t moved_to, uint64_t new_size)
{
	tell_released(h, b, ts_ns, moved_to, new_size);
	h->st.total_frees++;
	h->st.total_freed_bytes += b->size;
	h->st.live_cnt--;
	h->st.live_bytes -= b->size;
	t->frees++;
	t->freed_bytes += b->size;
	remove_slot(h, b);
}

static void note_peak(struct heap *h, uint64_t ts_ns)
{
	if (h->st.live_bytes > h->st.peak_bytes) {
		h->st.peak_bytes = h->st.live_bytes;
		h->st.peak_cnt = h->st.live_cnt;
		h->st.peak_ns = ts_ns;
	}
}

/* Room was made and any block at e->ptr released before: it cannot fail. */
static void insert(struct heap *h, const struct tt_alloc_event *e, uint32_t aux)
{
	struct heap_block nb = {
		.ptr = e->ptr, .size = e->size, .ts_ns = e->hdr.ts_ns, .tid = e->hdr.tid, .aux = aux,
	};

	place(h, &nb);
	h->st.live_cnt++;
	h->st.live_bytes += e->size;
	note_peak(h, e->hdr.ts_ns);
}

static bool is_realloc(uint32_t fn)
{
	return fn == TT_FN_REALLOC || fn == TT_FN_REALLOCARRAY;
}

/*
 * The realloc's input block was taken for a duplicate when another thread got
 * its address first: it was released by this call after all. Counted as the
 * release it was, and no longer as a duplicate.
 */
static bool claim_pending(struct heap *h, const struct tt_alloc_event *e, struct heap_thread *t)
{
	unsigned i;

	for (i = 0; i < PENDING; i++) {
		struct heap_block *b = &h->pending[i];

		/* it was this call's input, and the call began before the
		 * address was handed out again */
		if (b->ptr != e->old_ptr || b->ts_ns > e->entry_ns || e->entry_ns > h->pending_ns[i])
			continue;
		h->st.dup_allocs--;
		h->st.total_frees++;
		h->st.total_freed_bytes += b->size;
		t->frees++;
		t->freed_bytes += b->size;
		b->ptr = 0;
		return true;
	}
	return false;
}

int heap__on_alloc(struct heap *h, const struct tt_alloc_event *e)
{
	return heap__on_alloc_tagged(h, e, 0);
}

int heap__on_alloc_tagged(struct heap *h, const struct tt_alloc_event *e, uint32_t aux)
{
	struct heap_thread *t = thread_of(h, e->hdr.tid);
	struct heap_block *old = NULL, *stale;
	bool claimed;

	if (!t)
		return -ENOMEM;
	/* make room first: growing moves slots, and failing later would leave
	 * the model half-updated */
	if (!e->failed && (h->st.live_cnt + 1) * 4 > (h->mask + 1) * 3 && grow(h))
		return -ENOMEM;
	touch(h, e->hdr.ts_ns);

	if (is_realloc(e->fn) && e->old_ptr) {
		old = lookup(h, e->old_ptr);
		/*
		 * Another thread may have been handed old_ptr between this
		 * realloc releasing it and our return probe: that block is
		 * younger than the call and is not ours to touch.
		 */
		if (old && old->ts_ns > e->entry_ns)
			old = NULL;
	}
	/* (a failed realloc other than realloc(p, 0) released nothing) */
	claimed = is_realloc(e->fn) && e->old_ptr && !old &&
		  (!e->failed || (e->fn == TT_FN_REALLOC && !e->size)) && claim_pending(h, e, t);

	if (e->failed) {
		/* glibc's realloc(p, 0) frees p and returns NULL: not a failure */
		if (e->fn == TT_FN_REALLOC && e->old_ptr && e->size == 0) {
			if (old)
				release(h, old, t, e->hdr.ts_ns, 0, 0);
			else if (!claimed)
				h->st.unknown_frees++;
			return 0;
		}
		h->st.failed_allocs++;
		t->failed++;
		return 0;
	}

	/*
	 * A block still live at the returned address lost its free: drop it
	 * before a realloc moves anything there, or what moves in would be
	 * dropped with it.
	 */
	stale = lookup(h, e->ptr);
	if (stale && stale != old) {
		tell_released(h, stale, e->hdr.ts_ns, 0, 0);
		h->pending_ns[h->pending_next % PENDING] = e->hdr.ts_ns;
		h->pending[h->pending_next++ % PENDING] = *stale;
		h->st.dup_allocs++;
		h->st.live_bytes -= stale->size;
		h->st.live_cnt--;
		remove_slot(h, stale);
		/* removal shifts slots: find the realloc's block again */
		if (old)
			old = lookup(h, e->old_ptr);
	}

	if (e->old_ptr && is_realloc(e->fn)) {
		if (e->ptr == e->old_ptr)
			h->st.reallocs_in_place++;
		else
			h->st.reallocs_moved++;
		if (old)
			release(h, old, t, e->hdr.ts_ns, e->ptr, e->size);
		else if (!claimed)
			h->st.unknown_frees++;
	}

	insert(h, e, aux);
	t->last_ptr = e->ptr;
	t->last_ns = e->hdr.ts_ns;
	h->st.total_allocs++;
	h->st.total_alloc_bytes += e->size;
	if (e->fn < TT_FN_CNT)
		h->st.fn_allocs[e->fn]++;
	t->allocs++;
	t->alloc_bytes += e->size;
	return 0;
}

/*
 * b, freed by t at ts_ns, is t's latest allocation (the same block: its
 * address and its time, as another thread may have been handed the address
 * since) and young enough.
 */
static bool is_temporary(const struct heap_thread *t, const struct heap_block *b, uint64_t ts_ns)
{
	return t->last_ptr == b->ptr && t->last_ns == b->ts_ns && b->tid == t->tid &&
	       ts_ns >= b->ts_ns && ts_ns - b->ts_ns <= HEAP_TEMP_WINDOW_NS;
}

int heap__on_free(struct heap *h, const struct tt_free_event *e)
{
	struct heap_thread *t;
	struct heap_block *b;

	if (!e->ptr)
		return 0;
	t = thread_of(h, e->hdr.tid);
	if (!t)
		return -ENOMEM;
	touch(h, e->hdr.ts_ns);
	b = lookup(h, e->ptr);
	if (b && is_temporary(t, b, e->hdr.ts_ns)) {
		h->st.temp_allocs++;
		h->st.temp_bytes += b->size;
		t->last_ptr = 0;
	}
	if (b)
		release(h, b, t, e->hdr.ts_ns, 0, 0);
	else if (e->hdr.flags & TT_FREE_FROM_ALLOCATOR)
		h->st.internal_frees++;
	else
		h->st.unknown_frees++;
	return 0;
}

int heap__restore_block(struct heap *h, uint64_t ptr, uint64_t size, uint64_t ts_ns, uint32_t tid,
			uint32_t aux)
{
	struct heap_block nb = { .ptr = ptr, .size = size, .ts_ns = ts_ns, .tid = tid, .aux = aux };

	if (!ptr || lookup(h, ptr))
		return -EEXIST;
	if ((h->st.live_cnt + 1) * 4 > (h->mask + 1) * 3 && grow(h))
		return -ENOMEM;
	place(h, &nb);
	h->st.live_cnt++;
	h->st.live_bytes += size;
	return 0;
}

void heap__set_totals(struct heap *h, const struct heap_stats *totals)
{
	uint64_t cnt = h->st.live_cnt, bytes = h->st.live_bytes;

	h->st = *totals;
	/* what is live is what was put back */
	h->st.live_cnt = cnt;
	h->st.live_bytes = bytes;
}

void heap__on_exec(struct heap *h, uint64_t ts_ns)
{
	size_t i;

	touch(h, ts_ns);
	for (i = 0; i <= h->mask; i++) {
		if (!h->slots[i].ptr)
			continue;
		tell_released(h, &h->slots[i], ts_ns, 0, 0);
		h->st.exec_released++;
		h->slots[i].ptr = 0;
	}
	h->st.live_cnt = 0;
	h->st.live_bytes = 0;
}

const struct heap_stats *heap__stats(const struct heap *h)
{
	return &h->st;
}

const struct heap_block *heap__find(const struct heap *h, uint64_t ptr)
{
	return ptr ? lookup(h, ptr) : NULL;
}

const struct heap_block *heap__containing(const struct heap *h, uint64_t addr)
{
	const struct heap_block *b = heap__find(h, addr);
	size_t i;

	if (b || !addr)
		return b;
	for (i = 0; i <= h->mask; i++) {
		b = &h->slots[i];
		if (b->ptr && addr > b->ptr && addr - b->ptr < b->size)
			return b;
	}
	return NULL;
}

const struct heap_block *heap__next(const struct heap *h, size_t *it)
{
	while (*it <= h->mask) {
		const struct heap_block *b = &h->slots[(*it)++];

		if (b->ptr)
			return b;
	}
	return NULL;
}

static int cmp_tid(const void *a, const void *b)
{
	const struct heap_thread *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

const struct heap_thread *heap__threads(struct heap *h, size_t *cnt)
{
	if (!h->threads_sorted && h->thread_cnt) {
		qsort(h->threads, h->thread_cnt, sizeof(*h->threads), cmp_tid);
		h->threads_sorted = true;
	}
	*cnt = h->thread_cnt;
	return h->threads;
}

size_t heap__table_bytes(const struct heap *h)
{
	return (h->mask + 1) * sizeof(*h->slots);
}
