// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "aggregate.h"
#include "heap.h"
#include "probes.h"
#include "stacks.h"

#define BATCH 1024

/* Stack map keys (hashes) to stack table ids, sorted by key for lookups. */
struct key_id {
	uint64_t key;
	uint32_t id;
};

static int cmp_key(const void *a, const void *b)
{
	const struct key_id *x = a, *y = b;

	return (x->key > y->key) - (x->key < y->key);
}

/*
 * Calls fn for every entry of a hash map, BATCH at a time (a lookup per key
 * would be two system calls per live block).
 */
static int for_each(int fd, size_t key_size, size_t value_size,
		    int (*fn)(void *ctx, const void *key, const void *value), void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	char *keys = malloc(BATCH * key_size), *values = malloc(BATCH * value_size);
	__u64 in = 0, out = 0;
	bool first = true;
	int err = 0, rc;

	if (!keys || !values) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		__u32 cnt = BATCH, i;

		rc = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, values, &cnt, &opts);
		if (rc && errno != ENOENT) {
			err = -errno;
			break;
		}
		for (i = 0; i < cnt && !err; i++)
			err = fn(ctx, keys + i * key_size, values + i * value_size);
		if (rc || err)
			break; /* ENOENT: that was the last batch */
		in = out;
		first = false;
	}
out:
	free(keys);
	free(values);
	return err;
}

struct collect {
	struct model *m;
	struct key_id *ids;
	size_t cnt, cap;
	uint32_t gen;           /* the target's current image (TT_CNT_AGG_EXECS) */
	uint64_t exec_released; /* blocks of images it exec'd away, dropped here */
};

static int on_stack(void *ctx, const void *key, const void *value)
{
	const struct tt_agg_stack *v = value;
	struct collect *c = ctx;
	struct stack_info counts = {};
	uint32_t id, nr = v->nr_frames < TT_MAX_FRAMES ? v->nr_frames : TT_MAX_FRAMES;

	if (c->cnt == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct key_id *n = realloc(c->ids, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		c->ids = n;
		c->cap = cap;
	}
	/* the no-stack and collision entries have no frames: they get no id */
	id = nr ? stacks__intern(c->m->stacks, (const uint64_t *)v->frames, nr, v->stack_end) : 0;
	counts.allocs = v->allocs;
	counts.bytes = v->bytes;
	counts.live_cnt = v->live_cnt > 0 ? (uint64_t)v->live_cnt : 0;
	counts.live_bytes = v->live_bytes > 0 ? (uint64_t)v->live_bytes : 0;
	stacks__add_counts(c->m->stacks, id, &counts);
	c->ids[c->cnt].key = *(const uint64_t *)key;
	c->ids[c->cnt++].id = id;
	return 0;
}

static int on_block(void *ctx, const void *key, const void *value)
{
	const struct tt_agg_block *b = value;
	struct collect *c = ctx;
	struct key_id k = { .key = b->stack }, *hit;

	/* an image that exec replaced left it: gone with that image (its
	 * stack's live figures were dropped at the exec, in BPF) */
	if (b->gen != c->gen) {
		c->exec_released++;
		return 0;
	}
	hit = bsearch(&k, c->ids, c->cnt, sizeof(*c->ids), cmp_key);
	heap__restore_block(c->m->heap, *(const uint64_t *)key, b->size, b->ts_ns, b->tid,
			    hit ? hit->id : 0);
	return 0;
}

int aggregate__collect(struct probes *p, struct model *m)
{
	struct collect c = { .m = m, .gen = (uint32_t)probes__counter(p, TT_CNT_AGG_EXECS) };
	struct heap_stats totals = {};
	int err;

	err = for_each(probes__agg_stacks_fd(p), sizeof(__u64), sizeof(struct tt_agg_stack),
		       on_stack, &c);
	if (!err) {
		qsort(c.ids, c.cnt, sizeof(*c.ids), cmp_key);
		err = for_each(probes__agg_live_fd(p), sizeof(__u64), sizeof(struct tt_agg_block),
			       on_block, &c);
	}
	free(c.ids);
	if (err) {
		fprintf(stderr, "ttbpf: cannot read the aggregated figures: %s\n", strerror(-err));
		return err;
	}
	totals.total_allocs = probes__counter(p, TT_CNT_AGG_ALLOCS);
	totals.total_alloc_bytes = probes__counter(p, TT_CNT_AGG_ALLOC_BYTES);
	totals.total_frees = probes__counter(p, TT_CNT_AGG_FREES);
	totals.total_freed_bytes = probes__counter(p, TT_CNT_AGG_FREED_BYTES);
	totals.failed_allocs = probes__counter(p, TT_CNT_AGG_FAILED);
	totals.unknown_frees = probes__counter(p, TT_CNT_AGG_UNKNOWN_FREES);
	totals.internal_frees = probes__counter(p, TT_CNT_AGG_INTERNAL_FREES);
	totals.exec_released = probes__counter(p, TT_CNT_AGG_EXEC_RELEASED) + c.exec_released;
	totals.peak_bytes = probes__counter(p, TT_CNT_AGG_PEAK_BYTES);
	heap__set_totals(m->heap, &totals);
	return 0;
}
