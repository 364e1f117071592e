// SPDX-License-Identifier: Apache-2.0
/*
 * How many records the userspace reader consumes per second on one core, and
 * the model's memory per live allocation: synthetic records, shaped like the
 * BPF side's (12-frame stacks out of 1,000 distinct ones), go through the
 * same decoding and model code as a live run (events__feed).
 *
 *   reader [-n RECORDS] [-l LIVE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "events.h"
#include "heap.h"
#include "report_json.h"
#include "model.h"
#include "vars.h"
#include "stacks.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = 4000000, live = 1000000, i;
	const char *json = NULL;
	struct tt_alloc_event *a = calloc(1, sizeof(*a));
	struct tt_free_event f = { .hdr.type = TT_EV_FREE, .hdr.tid = 1 };
	size_t alloc_size = offsetof(struct tt_alloc_event, frames) + 12 * sizeof(__u64);
	struct events *ev;
	struct model m;
	uint64_t t0, t1, ts = 1000, addr = 0x10000000;
	int c, k;

	while ((c = getopt(argc, argv, "n:l:j:")) != -1) {
		if (c == 'n')
			n = atol(optarg);
		else if (c == 'l')
			live = atol(optarg);
		else if (c == 'j')
			json = optarg;
	}
	if (model__init(&m, 0, 0, false, TT_DEFAULT_MAX_VARS) || events__new_offline(&ev, &m))
		return 1;
	a->hdr.type = TT_EV_ALLOC;
	a->hdr.tid = 1;
	a->fn = TT_FN_MALLOC;
	a->nr_frames = 12;
	a->stack_end = TT_STACK_END_CUT;

	/* the live set first: what the model holds per live allocation */
	for (i = 0; i < live; i++) {
		a->hdr.ts_ns = a->entry_ns = ts++;
		a->ptr = addr + (uint64_t)i * 48;
		a->size = 16 + (uint64_t)(i % 64) * 8;
		for (k = 0; k < 12; k++)
			a->frames[k] = 0x400000 + (uint64_t)(i % 1000) * 64 + (uint64_t)k;
		events__feed(ev, a, alloc_size);
	}
	printf("live_allocations %ld\n", live);
	printf("heap_table_bytes_per_live %.1f\n",
	       (double)heap__table_bytes(m.heap) / (double)(live ? live : 1));

	/* then churn: alloc + free pairs on top of the live set */
	t0 = now_ns();
	for (i = 0; i < n / 2; i++) {
		a->hdr.ts_ns = a->entry_ns = ts++;
		a->ptr = addr + (uint64_t)(live + i % 4096) * 48;
		a->size = 16 + (uint64_t)(i % 64) * 16;
		for (k = 0; k < 12; k++)
			a->frames[k] = 0x400000 + (uint64_t)(i % 1000) * 64 + (uint64_t)k;
		events__feed(ev, a, alloc_size);
		f.hdr.ts_ns = ts++;
		f.ptr = a->ptr;
		events__feed(ev, &f, sizeof(f));
	}
	t1 = now_ns();
	printf("records %ld\n", (n / 2) * 2);
	printf("ns_per_record %.1f\n", (double)(t1 - t0) / (double)((n / 2) * 2));
	printf("records_per_s %.0f\n", (double)((n / 2) * 2) * 1e9 / (double)(t1 - t0));
	printf("stacks %zu (table %zu bytes)\n", stacks__count(m.stacks),
	       stacks__memory_bytes(m.stacks));
	if (json) {
		/* the JSON report of this live set, as a run would write it */
		struct report_meta meta = { .command = "reader", .allocator = "-", .exit_code = -1,
					    .end_ns = ts };

		model__finish(&m, NULL);
		t0 = now_ns();
		if (report_json__write(json, &m, &meta))
			return 1;
		t1 = now_ns();
		printf("json_write_s %.3f\n", (double)(t1 - t0) / 1e9);
	}
	events__free(ev);
	model__fini(&m);
	free(a);
	return 0;
}
