// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include "callsites.h"
#include "heap.h"
#include "leaks.h"
#include "stacks.h"

static int cmp_leak(const void *a, const void *b)
{
	const struct leak *x = a, *y = b;

	if (x->live_bytes != y->live_bytes)
		return x->live_bytes < y->live_bytes ? 1 : -1;
	return (x->stack_id > y->stack_id) - (x->stack_id < y->stack_id);
}

int leaks__build(const struct model *m, struct leak **out, size_t *cnt)
{
	size_t n = m->stacks ? stacks__count(m->stacks) : 0, it = 0, i, k = 0;
	const struct heap_block *b;
	struct leak *by_id;

	/* one slot per stack id, 0 included: blocks are grouped in one pass */
	by_id = calloc(n + 1, sizeof(*by_id));
	if (!by_id)
		return -ENOMEM;
	while ((b = heap__next(m->heap, &it))) {
		struct leak *l = &by_id[b->aux <= n ? b->aux : 0];

		if (!l->live_cnt || b->ts_ns < l->oldest_ns)
			l->oldest_ns = b->ts_ns;
		if (b->ts_ns > l->newest_ns)
			l->newest_ns = b->ts_ns;
		l->live_cnt++;
		l->live_bytes += b->size;
	}
	for (i = 0; i <= n; i++) {
		if (!by_id[i].live_cnt)
			continue;
		by_id[k] = by_id[i];
		by_id[k].stack_cnt = 1;
		by_id[k++].stack_id = (uint32_t)i;
	}
	qsort(by_id, k, sizeof(*by_id), cmp_leak);
	*out = by_id;
	*cnt = k;
	return 0;
}

int leaks__by_site(const struct model *m, const struct callsites *cs, struct leak **out,
		   size_t *cnt)
{
	size_t n, i, k = 0, nsites = cs ? callsites__count(cs) : 0;
	struct leak *l;
	uint32_t *slot; /* by site index: index + 1 in l of its entry */
	int err = leaks__build(m, &l, &n);

	if (err)
		return err;
	slot = calloc(nsites + 1, sizeof(*slot));
	if (!slot) {
		free(l);
		return -ENOMEM;
	}
	/* l is largest first: a site's first stack is its representative */
	for (i = 0; i < n; i++) {
		long s = cs ? callsites__index(cs, callsites__of_stack(cs, l[i].stack_id, NULL)) : -1;
		struct leak *into;

		if (s < 0 || !slot[s]) {
			l[k] = l[i];
			if (s >= 0)
				slot[s] = (uint32_t)++k;
			else
				k++;
			continue;
		}
		into = &l[slot[s] - 1];
		into->live_cnt += l[i].live_cnt;
		into->live_bytes += l[i].live_bytes;
		into->stack_cnt++;
		if (l[i].oldest_ns < into->oldest_ns)
			into->oldest_ns = l[i].oldest_ns;
		if (l[i].newest_ns > into->newest_ns)
			into->newest_ns = l[i].newest_ns;
	}
	free(slot);
	qsort(l, k, sizeof(*l), cmp_leak);
	*out = l;
	*cnt = k;
	return 0;
}
