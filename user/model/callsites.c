// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "callsites.h"
#include "stacks.h"

struct callsites {
	struct symbolizer *sym;
	const char *allocator_base; /* basename of the probed library */
	struct callsite *sites;     /* sorted by bytes */
	size_t cnt;
	uint32_t *site_of;  /* by stack id: index + 1 in sites, 0 none */
	uint32_t *frame_of; /* by stack id: frame index of the call site */
	size_t stack_cnt;
};

int callsites__frames(struct callsites *cs, uint64_t ip, struct sym_frame *out, size_t cap,
		      size_t *nr)
{
	size_t k;
	int err;

	memset(out, 0, sizeof(*out));
	out->ip = ip;
	*nr = 1;
	if (!cs->sym || !ip)
		return -ENOENT;
	/* a return address: the call is the instruction before it */
	err = symbolizer__resolve_chain(cs->sym, ip - 1, out, cap, nr);
	for (k = 0; k < *nr; k++) {
		out[k].ip = ip;
		if (out[k].symbol && !out[k].inlined)
			out[k].sym_offset++;
		if (out[k].module)
			out[k].module_offset++;
	}
	return err;
}

int callsites__frame(struct callsites *cs, uint64_t ip, struct sym_frame *out)
{
	struct sym_frame chain[SYM_MAX_CHAIN];
	size_t nr;
	int err = callsites__frames(cs, ip, chain, SYM_MAX_CHAIN, &nr);

	*out = chain[0];
	return err;
}

static const char *base_of(const char *path)
{
	const char *b = path ? strrchr(path, '/') : NULL;

	return b ? b + 1 : path;
}

/* Frames in the allocator or libc are not call sites: their callers are. */
static bool in_allocator(const struct callsites *cs, const struct sym_frame *f)
{
	const char *b = base_of(f->module);

	if (!b)
		return false;
	if (!strncmp(b, "libc.so", 7) || !strncmp(b, "libc-", 5) || !strncmp(b, "ld-musl", 7))
		return true;
	return cs->allocator_base && !strcmp(b, cs->allocator_base);
}

static int cmp_site(const void *a, const void *b)
{
	const struct callsite *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return (x->ip > y->ip) - (x->ip < y->ip);
}

struct pick {
	uint64_t ip;
	uint32_t id;
};

static int cmp_pick_ip(const void *a, const void *b)
{
	const struct pick *x = a, *y = b;

	return (x->ip > y->ip) - (x->ip < y->ip);
}

static int cmp_pick(const void *a, const void *b)
{
	const struct pick *x = a, *y = b;

	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

int callsites__build(struct callsites **out, const struct model *m, const char *allocator)
{
	size_t n = m->stacks ? stacks__count(m->stacks) : 0, np = 0, i, k;
	struct pick *picks = NULL;
	uint32_t *rank = NULL;
	struct callsites *cs;
	uint32_t id;

	cs = calloc(1, sizeof(*cs));
	if (!cs)
		return -ENOMEM;
	cs->sym = m->sym;
	cs->allocator_base = base_of(allocator);
	cs->stack_cnt = n;
	cs->site_of = calloc(n + 1, sizeof(*cs->site_of));
	cs->frame_of = calloc(n + 1, sizeof(*cs->frame_of));
	cs->sites = calloc(n + 1, sizeof(*cs->sites));
	picks = calloc(n + 1, sizeof(*picks));
	if (!cs->site_of || !cs->frame_of || !cs->sites || !picks) {
		free(picks);
		callsites__free(cs);
		return -ENOMEM;
	}
	/* each stack's call-site frame: the first outside the allocator (the
	 * innermost when all are in it) */
	for (id = 1; id <= n; id++) {
		const struct stack_info *st = stacks__get(m->stacks, id);
		struct sym_frame f;

		if (!st->nr)
			continue;
		for (k = 0; k < st->nr; k++) {
			callsites__frame(cs, st->ips[k], &f);
			if (!in_allocator(cs, &f))
				break;
		}
		cs->frame_of[id] = k == st->nr ? 0 : (uint32_t)k;
		picks[np].ip = st->ips[cs->frame_of[id]];
		picks[np++].id = id;
	}
	/* stacks sharing a call-site address make one site */
	qsort(picks, np, sizeof(*picks), cmp_pick);
	for (i = 0; i < np; i++) {
		const struct stack_info *st = stacks__get(m->stacks, picks[i].id);
		struct callsite *site;

		if (!cs->cnt || cs->sites[cs->cnt - 1].ip != picks[i].ip) {
			site = &cs->sites[cs->cnt++];
			site->ip = picks[i].ip;
			callsites__frame(cs, site->ip, &site->frame);
		}
		site = &cs->sites[cs->cnt - 1];
		site->stack_cnt++;
		site->allocs += st->allocs;
		site->bytes += st->bytes;
		site->live_cnt += st->live_cnt;
		site->live_bytes += st->live_bytes;
		if (!site->rep_stack || st->bytes > stacks__get(m->stacks, site->rep_stack)->bytes)
			site->rep_stack = picks[i].id;
		cs->site_of[picks[i].id] = (uint32_t)cs->cnt;
	}
	/* largest first; renumber the stacks' sites to match */
	rank = calloc(cs->cnt + 1, sizeof(*rank));
	if (!rank) {
		free(picks);
		callsites__free(cs);
		return -ENOMEM;
	}
	for (i = 0; i < cs->cnt; i++)
		picks[i].ip = cs->sites[i].ip, picks[i].id = (uint32_t)i;
	qsort(cs->sites, cs->cnt, sizeof(*cs->sites), cmp_site);
	/* old index → new index, through the (unique) site addresses */
	for (i = 0; i < cs->cnt; i++) {
		struct pick key = { .ip = cs->sites[i].ip }, *hit;

		hit = bsearch(&key, picks, cs->cnt, sizeof(*picks), cmp_pick_ip);
		if (hit)
			rank[hit->id + 1] = (uint32_t)i + 1;
	}
	for (id = 1; id <= n; id++)
		if (cs->site_of[id])
			cs->site_of[id] = rank[cs->site_of[id]];
	free(rank);
	free(picks);
	*out = cs;
	return 0;
}

void callsites__free(struct callsites *cs)
{
	if (!cs)
		return;
	free(cs->sites);
	free(cs->site_of);
	free(cs->frame_of);
	free(cs);
}

size_t callsites__count(const struct callsites *cs)
{
	return cs->cnt;
}

const struct callsite *callsites__get(const struct callsites *cs, size_t i)
{
	return i < cs->cnt ? &cs->sites[i] : NULL;
}

const struct callsite *callsites__of_stack(const struct callsites *cs, uint32_t stack_id,
					   uint32_t *frame_idx)
{
	if (!stack_id || stack_id > cs->stack_cnt || !cs->site_of[stack_id])
		return NULL;
	if (frame_idx)
		*frame_idx = cs->frame_of[stack_id];
	return &cs->sites[cs->site_of[stack_id] - 1];
}
