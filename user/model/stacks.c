// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "stacks.h"

struct entry {
	struct stack_info info;
	uint64_t hash;
	size_t pool_off; /* frames live in the pool, which may move */
	uint64_t saved_peak; /* the peak info.at_peak_* hold the figures of */
};

struct stacks {
	struct entry *entries; /* entries[id - 1] */
	size_t cnt, cap, max;
	uint32_t *index;       /* open addressing over ids; 0 = empty */
	size_t index_mask;
	uint64_t *pool;
	size_t pool_len, pool_cap;
	uint64_t dropped;
	uint64_t peak;     /* peaks so far: the number of the latest (0: none) */
	bool counted;      /* figures came from the kernel: no peak breakdown */
};

static uint64_t hash_frames(const uint64_t *ips, uint32_t nr, uint32_t end)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)nr << 32 | end);
	uint32_t i;

	for (i = 0; i < nr; i++) {
		h ^= ips[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 33;
	}
	return h;
}

int stacks__new(struct stacks **out, size_t max_stacks)
{
	struct stacks *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->index = calloc(1024, sizeof(*s->index));
	if (!s->index) {
		free(s);
		return -ENOMEM;
	}
	s->index_mask = 1023;
	s->max = max_stacks;
	*out = s;
	return 0;
}

void stacks__free(struct stacks *s)
{
	if (!s)
		return;
	free(s->entries);
	free(s->index);
	free(s->pool);
	free(s);
}

static int grow_index(struct stacks *s)
{
	size_t n = (s->index_mask + 1) * 2, i, j;
	uint32_t *idx = calloc(n, sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	for (i = 0; i < s->cnt; i++) {
		for (j = s->entries[i].hash & (n - 1); idx[j]; j = (j + 1) & (n - 1))
			;
		idx[j] = (uint32_t)(i + 1);
	}
	free(s->index);
	s->index = idx;
	s->index_mask = n - 1;
	return 0;
}

static int reserve(struct stacks *s, uint32_t nr)
{
	if (s->cnt == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct entry *e = realloc(s->entries, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		s->entries = e;
		s->cap = cap;
	}
	if (s->pool_len + nr > s->pool_cap) {
		size_t cap = s->pool_cap ? s->pool_cap * 2 : 4096;
		uint64_t *p;

		while (cap < s->pool_len + nr)
			cap *= 2;
		p = realloc(s->pool, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->pool = p;
		s->pool_cap = cap;
	}
	if ((s->cnt + 1) * 2 > s->index_mask + 1)
		return grow_index(s);
	return 0;
}

uint32_t stacks__intern(struct stacks *s, const uint64_t *ips, uint32_t nr, uint32_t end)
{
	uint64_t h = hash_frames(ips, nr, end);
	struct entry *e;
	size_t j;

	for (j = h & s->index_mask; s->index[j]; j = (j + 1) & s->index_mask) {
		e = &s->entries[s->index[j] - 1];
		if (e->hash == h && e->info.nr == nr && e->info.end == end &&
		    !memcmp(s->pool + e->pool_off, ips, nr * sizeof(*ips)))
			return e->info.id;
	}
	if (s->cnt >= s->max || reserve(s, nr)) {
		s->dropped++;
		return 0;
	}
	/* reserve may have rehashed: find the free slot again */
	for (j = h & s->index_mask; s->index[j]; j = (j + 1) & s->index_mask)
		;
	e = &s->entries[s->cnt];
	memset(e, 0, sizeof(*e));
	e->hash = h;
	e->pool_off = s->pool_len;
	memcpy(s->pool + s->pool_len, ips, nr * sizeof(*ips));
	s->pool_len += nr;
	e->info.id = (uint32_t)(++s->cnt);
	e->info.nr = nr;
	e->info.end = end;
	s->index[j] = e->info.id;
	return e->info.id;
}

static struct entry *entry_of(const struct stacks *s, uint32_t id)
{
	return id && id <= s->cnt ? &s->entries[id - 1] : NULL;
}

/*
 * The peak breakdown, O(1) per change (docs/semantics.md, "Live at the
 * peak"): a stack untouched since the latest peak still has the figures it
 * had then. So before a stack's live figures change, and whenever they are
 * read, a stack whose saved figures belong to an older peak saves its
 * current ones as the latest peak's.
 */
static void save_at_peak(const struct stacks *s, struct entry *e)
{
	if (e->saved_peak == s->peak)
		return;
	e->info.at_peak_cnt = e->info.live_cnt;
	e->info.at_peak_bytes = e->info.live_bytes;
	e->saved_peak = s->peak;
}

void stacks__on_peak(struct stacks *s)
{
	s->peak++;
}

void stacks__on_alloc(struct stacks *s, uint32_t id, uint64_t size)
{
	struct entry *e = entry_of(s, id);

	if (!e)
		return;
	save_at_peak(s, e);
	e->info.allocs++;
	e->info.bytes += size;
	e->info.live_cnt++;
	e->info.live_bytes += size;
	if (e->info.live_bytes > e->info.peak_live_bytes)
		e->info.peak_live_bytes = e->info.live_bytes;
}

void stacks__on_release(struct stacks *s, uint32_t id, uint64_t size)
{
	struct entry *e = entry_of(s, id);

	if (!e || !e->info.live_cnt)
		return;
	save_at_peak(s, e);
	e->info.live_cnt--;
	e->info.live_bytes -= size;
}

void stacks__add_counts(struct stacks *s, uint32_t id, const struct stack_info *c)
{
	struct entry *e = entry_of(s, id);

	if (!e)
		return;
	s->counted = true;
	e->info.allocs += c->allocs;
	e->info.bytes += c->bytes;
	e->info.live_cnt += c->live_cnt;
	e->info.live_bytes += c->live_bytes;
	/* the kernel keeps no per-stack peak: what is live is a lower bound */
	if (e->info.live_bytes > e->info.peak_live_bytes)
		e->info.peak_live_bytes = e->info.live_bytes;
}

size_t stacks__count(const struct stacks *s)
{
	return s->cnt;
}

const struct stack_info *stacks__get(const struct stacks *s, uint32_t id)
{
	struct entry *e = entry_of(s, id);

	if (!e)
		return NULL;
	/* the pool may have moved since the entry was made */
	e->info.ips = s->pool + e->pool_off;
	save_at_peak(s, e);
	return &e->info;
}

bool stacks__has_at_peak(const struct stacks *s)
{
	return !s->counted;
}

uint64_t stacks__dropped(const struct stacks *s)
{
	return s->dropped;
}

size_t stacks__memory_bytes(const struct stacks *s)
{
	return s->cap * sizeof(*s->entries) + (s->index_mask + 1) * sizeof(*s->index) +
	       s->pool_cap * sizeof(*s->pool);
}
