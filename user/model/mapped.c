// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "mapped.h"

/* An anonymous range followed: [start, end), disjoint, sorted by start. */
struct range {
	uint64_t start, end;
	uint32_t owner;
};

/* Bytes below the break, in the order they were grown (last on top). */
struct segment {
	uint64_t bytes;
	uint32_t owner;
};

struct mapped {
	struct range *r;
	size_t cnt, cap;
	struct segment *seg;
	size_t seg_cnt, seg_cap;
	struct mapped_stats st;
};

#define FIELD(f) { #f, offsetof(struct mapped_figures, f) }
const struct mapped_field mapped_fields[MAPPED_FIELD_CNT] = {
	FIELD(mmap_calls),   FIELD(mmap_bytes),      FIELD(munmap_calls),     FIELD(munmap_bytes),
	FIELD(mapped_bytes), FIELD(peak_mapped_bytes), FIELD(brk_calls),      FIELD(brk_grown_bytes),
	FIELD(brk_shrunk_bytes), FIELD(brk_bytes),
};
#undef FIELD
_Static_assert(sizeof(struct mapped_figures) == MAPPED_FIELD_CNT * sizeof(uint64_t),
	       "a figure of struct mapped_figures missing from mapped_fields");

int mapped__new(struct mapped **out)
{
	struct mapped *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	*out = m;
	return 0;
}

void mapped__free(struct mapped *m)
{
	if (!m)
		return;
	free(m->r);
	free(m->seg);
	free(m);
}

const struct mapped_stats *mapped__stats(const struct mapped *m)
{
	return &m->st;
}

/* Room for one more element in *arr of elem bytes each, up to bound. */
static int room(void **arr, size_t *cap, size_t cnt, size_t elem, size_t bound)
{
	size_t n = *cap ? *cap * 2 : 64;
	void *p;

	if (cnt < *cap)
		return 0;
	if (cnt >= bound)
		return -ENOSPC;
	if (n > bound)
		n = bound;
	p = realloc(*arr, n * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

/* The first range that ends after addr. */
static size_t first_after(const struct mapped *m, uint64_t addr)
{
	size_t lo = 0, hi = m->cnt;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->r[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void released(struct mapped *m, uint32_t owner, uint64_t bytes)
{
	m->st.by[owner].mapped_bytes -= bytes;
}

/*
 * Takes [start, end) out of the ranges followed; *bytes[owner]: what each
 * owner lost. Returns the owner of the first range it met, or -1 when it
 * met none. A range cut in the middle needs one more slot: when there is
 * none, its right part is forgotten (counted as released).
 */
static int cut(struct mapped *m, uint64_t start, uint64_t end, uint64_t bytes[MAPPED_OWNERS])
{
	size_t i = first_after(m, start);
	int first = -1;

	while (i < m->cnt && m->r[i].start < end) {
		struct range *x = &m->r[i];
		uint64_t lo = x->start > start ? x->start : start;
		uint64_t hi = x->end < end ? x->end : end;

		if (first < 0)
			first = (int)x->owner;
		bytes[x->owner] += hi - lo;
		if (x->start < start && x->end > end) {
			/* the middle goes: a left and a right part stay */
			if (room((void **)&m->r, &m->cap, m->cnt, sizeof(*m->r), MAPPED_MAX_RANGES)) {
				bytes[x->owner] += x->end - end;
				x->end = start;
				return first;
			}
			x = &m->r[i];
			memmove(&m->r[i + 1], &m->r[i], (m->cnt - i) * sizeof(*m->r));
			m->cnt++;
			m->r[i].end = start;
			m->r[i + 1].start = end;
			return first;
		}
		if (x->start < start) {
			x->end = start; /* its left part stays */
			i++;
		} else if (x->end > end) {
			x->start = end; /* its right part stays */
			i++;
		} else {
			memmove(&m->r[i], &m->r[i + 1], (m->cnt - i - 1) * sizeof(*m->r));
			m->cnt--;
		}
	}
	return first;
}

static void on_mmap(struct mapped *m, uint64_t start, uint64_t len, uint32_t owner)
{
	struct mapped_figures *f = &m->st.by[owner];
	uint64_t gone[MAPPED_OWNERS] = { 0 }, end = start + len;
	size_t i;
	uint32_t k;

	if (!len || end < start)
		return;
	f->mmap_calls++;
	f->mmap_bytes += len;
	/* MAP_FIXED over ranges followed replaces them */
	cut(m, start, end, gone);
	for (k = 0; k < MAPPED_OWNERS; k++)
		released(m, k, gone[k]);
	i = first_after(m, start);
	if (i > 0 && m->r[i - 1].end == start && m->r[i - 1].owner == owner) {
		/* grows its left neighbour (and joins the right one) */
		m->r[i - 1].end = end;
		if (i < m->cnt && m->r[i].start == end && m->r[i].owner == owner) {
			m->r[i - 1].end = m->r[i].end;
			memmove(&m->r[i], &m->r[i + 1], (m->cnt - i - 1) * sizeof(*m->r));
			m->cnt--;
		}
	} else if (i < m->cnt && m->r[i].start == end && m->r[i].owner == owner) {
		m->r[i].start = start;
	} else if (room((void **)&m->r, &m->cap, m->cnt, sizeof(*m->r), MAPPED_MAX_RANGES)) {
		m->st.ranges_dropped++;
		return;
	} else {
		memmove(&m->r[i + 1], &m->r[i], (m->cnt - i) * sizeof(*m->r));
		m->r[i] = (struct range){ .start = start, .end = end, .owner = owner };
		m->cnt++;
	}
	f->mapped_bytes += len;
	if (f->mapped_bytes > f->peak_mapped_bytes)
		f->peak_mapped_bytes = f->mapped_bytes;
}

static void on_munmap(struct mapped *m, uint64_t start, uint64_t len)
{
	uint64_t gone[MAPPED_OWNERS] = { 0 }, end = start + len;
	int first;
	uint32_t k;

	if (!len || end < start)
		return;
	first = cut(m, start, end, gone);
	if (first < 0) {
		m->st.unknown_munmap_calls++;
		return;
	}
	/* the call is its first range's owner's; the bytes each owner's */
	m->st.by[first].munmap_calls++;
	for (k = 0; k < MAPPED_OWNERS; k++) {
		m->st.by[k].munmap_bytes += gone[k];
		released(m, k, gone[k]);
	}
}

static void on_brk(struct mapped *m, uint64_t old_brk, uint64_t new_brk, uint32_t owner)
{
	struct segment *top;
	uint64_t d;
	bool counted = false;

	if (new_brk > old_brk) {
		d = new_brk - old_brk;
		m->st.by[owner].brk_calls++;
		m->st.by[owner].brk_grown_bytes += d;
		m->st.by[owner].brk_bytes += d;
		top = m->seg_cnt ? &m->seg[m->seg_cnt - 1] : NULL;
		if (top && top->owner == owner) {
			top->bytes += d;
			return;
		}
		if (room((void **)&m->seg, &m->seg_cap, m->seg_cnt, sizeof(*m->seg),
			 MAPPED_MAX_SEGMENTS)) {
			/* no room: the top segment takes them, bytes and owner */
			if (top) {
				m->st.by[owner].brk_bytes -= d;
				m->st.by[top->owner].brk_bytes += d;
				top->bytes += d;
			}
			return;
		}
		m->seg[m->seg_cnt++] = (struct segment){ .bytes = d, .owner = owner };
		return;
	}
	/* a shrink gives back the bytes grown last first */
	for (d = old_brk - new_brk; d && m->seg_cnt;) {
		uint64_t take;

		top = &m->seg[m->seg_cnt - 1];
		take = top->bytes < d ? top->bytes : d;
		if (!counted) {
			m->st.by[top->owner].brk_calls++;
			counted = true;
		}
		m->st.by[top->owner].brk_shrunk_bytes += take;
		m->st.by[top->owner].brk_bytes -= take;
		top->bytes -= take;
		d -= take;
		if (!top->bytes)
			m->seg_cnt--;
	}
	m->st.unknown_brk_shrunk_bytes += d;
}

int mapped__on_event(struct mapped *m, const struct tt_sysmem_event *e)
{
	uint32_t owner = e->in_alloc ? MAPPED_ALLOCATOR : MAPPED_PROGRAM;

	switch (e->kind) {
	case TT_SYSMEM_MMAP:
		on_mmap(m, e->addr, e->len, owner);
		break;
	case TT_SYSMEM_MUNMAP:
		on_munmap(m, e->addr, e->len);
		break;
	case TT_SYSMEM_BRK:
		on_brk(m, e->addr, e->new_brk, owner);
		break;
	default:
		return -EINVAL;
	}
	m->st.records++;
	return 0;
}
