// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include "callsites.h"
#include "heap.h"
#include "report_text.h"
#include "report_top.h"
#include "units.h"

static int cmp_live(const void *a, const void *b)
{
	const struct callsite *x = *(const struct callsite *const *)a;
	const struct callsite *y = *(const struct callsite *const *)b;

	if (x->live_bytes != y->live_bytes)
		return x->live_bytes < y->live_bytes ? 1 : -1;
	return (x->ip > y->ip) - (x->ip < y->ip);
}

int report_top__write(FILE *f, const struct model *m, uint32_t top, uint64_t elapsed_ns)
{
	const struct heap_stats *st = heap__stats(m->heap);
	size_t n = m->sites ? callsites__count(m->sites) : 0, i, k = 0;
	char el[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF];
	const struct callsite **live;

	live = calloc(n ? n : 1, sizeof(*live));
	if (!live)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct callsite *s = callsites__get(m->sites, i);

		if (s->live_bytes || s->live_cnt)
			live[k++] = s;
	}
	qsort(live, k, sizeof(*live), cmp_live);
	fprintf(f, "ttbpf: +%s: live %s in %s blocks; top %u of %zu allocation sites by live "
		   "bytes:\n", units__duration(el, sizeof(el), elapsed_ns),
		units__bytes(b, sizeof(b), st->live_bytes), units__count(c, sizeof(c), st->live_cnt),
		top, k);
	for (i = 0; i < k && i < top; i++) {
		const struct callsite *s = live[i];

		fprintf(f, "  %10s %14llu B %10llu blocks  ", units__bytes(b, sizeof(b), s->live_bytes),
			(unsigned long long)s->live_bytes, (unsigned long long)s->live_cnt);
		report_text__put_site(f, s);
		fputc('\n', f);
	}
	free(live);
	return ferror(f) ? -EIO : 0;
}
