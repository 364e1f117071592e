// SPDX-License-Identifier: Apache-2.0
/*
 * A small program with a known allocation pattern, for `make demo`:
 *
 *   phase 1  load a "config": 1 string of 4 KB, kept to the end
 *   phase 2  build a cache of 2,000 records of 256 B, then drop 1,500
 *   phase 3  grow a buffer by realloc from 1 KB to 1 MB (doubling: 11 steps)
 *   phase 4  300 requests, each allocating and freeing 3 blocks of 64..4096 B
 *   leaks    the 500 remaining records, the 1 MB buffer and the config
 *
 * Totals it prints at the end are what ttbpf must report in attach mode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct record {
	struct record *next;
	char payload[248];
};

/* keeps the compiler from deleting a malloc/free pair whose block is unused */
static void *volatile sink;

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int main(void)
{
	struct record *cache = NULL, *r, *keep = NULL;
	size_t cap = 1024, i;
	char *config, *buf;

	config = malloc(4096);
	memset(config, 'c', 4095);
	config[4095] = '\0';
	pause_ms(100);

	for (i = 0; i < 2000; i++) {
		r = malloc(sizeof(*r));
		snprintf(r->payload, sizeof(r->payload), "record %zu", i);
		r->next = cache;
		cache = r;
		if (i % 200 == 0)
			pause_ms(10);
	}
	/* keep every fourth record, drop the rest */
	for (i = 0; cache; i++) {
		r = cache;
		cache = r->next;
		if (i % 4 == 0) {
			r->next = keep;
			keep = r;
		} else {
			free(r);
		}
	}
	pause_ms(100);

	buf = malloc(cap);
	while (cap < (1 << 20)) {
		cap *= 2;
		buf = realloc(buf, cap);
		memset(buf, 0, cap);
		pause_ms(10);
	}

	for (i = 0; i < 300; i++) {
		char *a = malloc(64), *b = malloc(64 + (i % 32) * 64), *c = calloc(1, 4096);

		sink = a, sink = b, sink = c;
		free(a);
		free(b);
		free(c);
		if (i % 30 == 0)
			pause_ms(10);
	}

	printf("basic: config %p, %d records kept, buffer of %zu bytes\n", (void *)config, 500, cap);
	return keep && buf ? 0 : 1;
}
