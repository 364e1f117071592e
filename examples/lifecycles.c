// SPDX-License-Identifier: Apache-2.0
/*
 * Variable lifecycles: tracked blocks created and freed at different times, in
 * nested scopes and functions, so that a lifecycle timeline shows bars that
 * start and end at different points. The run takes ~1.5 s; times below are
 * approximate (they are sums of nanosleep pauses).
 *
 *   variable    function        type / category           size        alive
 *   app         main            struct app / record       2,048 B     0 .. ~1,500 ms (freed last)
 *   history     main            char * / log              1 -> 256 KB 0 .. ~1,500 ms; doubled by
 *                                                          realloc 8 times during the run (some
 *                                                          moves: the variable follows them)
 *   dataset     load_dataset    double * / buffer         200,000 B   ~100 .. ~950 ms: made in a
 *                                                          function, freed later by main
 *   chunk       load_dataset    char * / text             8,192 B     ~100 .. ~500 ms: a rolling
 *                                                          buffer, each new chunk tracked before
 *                                                          the previous one is freed (8 chunks)
 *   index       main (a block)  int * / buffer            100,000 B   ~550 .. ~1,350 ms
 *   scratch     build_index     unsigned char * / buffer  16,384 B    4 rounds, each allocated and
 *                                                          freed before the next; the report
 *                                                          keeps the last: ~850 .. ~900 ms
 *   report      make_report     char * / text             32,768 B    ~1,050 .. ~1,350 ms
 *   last_error  remember_error  char * / text             512 B       ~1,200 ms .. never: leaked
 *
 * A variable is one (expression, function) pair: tracking the same name while
 * its block is alive moves it to the new block (chunk); tracking it again once
 * freed starts a new lifecycle (scratch).
 *
 * What ttbpf should report (launch mode; glibc adds the stdout buffer of the
 * final printf, 1,024 B on a terminal, 4,096 B on a pipe or file):
 *
 *   allocations     26 (989,664 B): 17 malloc, 1 calloc, 8 realloc
 *   frees           25 (989,152 B), the 8 reallocs' old blocks included
 *   reallocs        8: 5 in place, 3 moved with glibc 2.36 (the program prints its count)
 *   live at exit    1 block, 512 B: last_error (+ the stdout buffer)
 *   peak            334,816 B in 5 blocks at ~560 ms (app, history 16 KB, dataset, index,
 *                   the first scratch)
 *   variables       8, all freed but last_error
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tt.h"

struct app {
	char name[64];
	unsigned long ticks;
	unsigned long events;
	unsigned char state[1968];
};
_Static_assert(sizeof(struct app) == 2048, "struct app is 2 KB");

#define HISTORY_START 1024
#define DATASET_LEN 25000 /* doubles: 200,000 B */
#define CHUNKS 8
#define CHUNK_SIZE 8192
#define INDEX_LEN 25000 /* ints: 100,000 B */
#define ROUNDS 4
#define SCRATCH_SIZE 16384
#define REPORT_SIZE 32768
#define ERROR_SIZE 512

/* keeps the compiler from deleting a malloc/free pair whose block is unused */
static void *volatile sink;

static unsigned long allocs, frees, reallocs, moved;

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p) {
		fprintf(stderr, "lifecycles: out of memory\n");
		exit(1);
	}
	allocs++;
	sink = p;
	return p;
}

static void xfree(void *p)
{
	frees++;
	free(p);
}

/* the history log doubles: 1 KB, 2 KB, ... 256 KB after 8 calls */
static char *grow_history(char *history, size_t *cap, const char *event)
{
	uintptr_t old = (uintptr_t)history;
	size_t len = strlen(history);
	char *p = realloc(history, *cap * 2);

	if (!p) {
		fprintf(stderr, "lifecycles: out of memory\n");
		exit(1);
	}
	reallocs++;
	allocs++;
	frees++; /* the old block is released, moved or not */
	if ((uintptr_t)p != old)
		moved++;
	*cap *= 2;
	memset(p + len, 0, *cap - len);
	snprintf(p + len, *cap - len, "%s\n", event);
	return p;
}

/* Made here, returned, freed by the caller much later. */
static double *load_dataset(char **history, size_t *history_cap)
{
	double *dataset = xmalloc(DATASET_LEN * sizeof(*dataset));
	char *chunk = NULL, *prev;
	size_t i, j;

	TT_TRACK_VAR(dataset);
	for (i = 0; i < CHUNKS; i++) {
		/* a rolling buffer: the new chunk exists before the old one goes */
		prev = chunk;
		chunk = xmalloc(CHUNK_SIZE);
		TT_TRACK_VAR(chunk);
		for (j = 0; j < CHUNK_SIZE; j++)
			chunk[j] = (char)('a' + (i + j) % 26);
		if (prev)
			xfree(prev);
		for (j = 0; j < DATASET_LEN / CHUNKS; j++)
			dataset[i * (DATASET_LEN / CHUNKS) + j] = chunk[j % CHUNK_SIZE] * 0.5;
		if (i == CHUNKS / 2)
			*history = grow_history(*history, history_cap, "dataset half loaded");
		pause_ms(50);
	}
	xfree(chunk);
	*history = grow_history(*history, history_cap, "dataset loaded");
	return dataset;
}

/* Inner loop: one scratch block per round, freed before the next. */
static void build_index(int *index, const double *dataset)
{
	size_t r, i;

	for (r = 0; r < ROUNDS; r++) {
		unsigned char *scratch = xmalloc(SCRATCH_SIZE);

		TT_TRACK_VAR(scratch);
		memset(scratch, (int)r, SCRATCH_SIZE);
		for (i = r; i < INDEX_LEN; i += ROUNDS)
			index[i] = (int)dataset[i] + scratch[i % SCRATCH_SIZE];
		pause_ms(50);
		xfree(scratch);
		pause_ms(50);
	}
}

/* Never freed: the pointer is dropped on purpose. */
static void remember_error(const char *what)
{
	char *last_error = xmalloc(ERROR_SIZE);

	TT_TRACK_VAR(last_error);
	snprintf(last_error, ERROR_SIZE, "last error: %s", what);
}

static size_t make_report(const int *index, char **history, size_t *history_cap)
{
	char *report = xmalloc(REPORT_SIZE);
	size_t len = 0, i;

	TT_TRACK_VAR(report);
	for (i = 0; i < INDEX_LEN && len + 32 < REPORT_SIZE; i += 97)
		len += (size_t)snprintf(report + len, REPORT_SIZE - len, "%zu:%d\n", i, index[i]);
	pause_ms(150);
	remember_error("report truncated");
	*history = grow_history(*history, history_cap, "report written");
	pause_ms(150);
	xfree(report);
	return len;
}

int main(void)
{
	size_t history_cap = HISTORY_START, report_len;
	struct app *app;
	double *dataset;
	char *history;

	/* alive for the whole run */
	app = calloc(1, sizeof(*app));
	if (!app)
		return 1;
	allocs++;
	TT_TRACK_VAR_T(app, "struct app");
	snprintf(app->name, sizeof(app->name), "lifecycles");
	history = xmalloc(HISTORY_START);
	TT_TRACK_VAR_AS(history, "log");
	memset(history, 0, HISTORY_START);
	pause_ms(100);

	dataset = load_dataset(&history, &history_cap);
	history = grow_history(history, &history_cap, "dataset returned");
	pause_ms(50);

	{
		/* a nested scope: index lives ~500 ms, dataset dies inside it */
		int *index = xmalloc(INDEX_LEN * sizeof(*index));

		TT_TRACK_VAR(index);
		history = grow_history(history, &history_cap, "index started");
		build_index(index, dataset);
		history = grow_history(history, &history_cap, "index built");
		xfree(dataset);
		dataset = NULL;
		pause_ms(100);

		report_len = make_report(index, &history, &history_cap);
		history = grow_history(history, &history_cap, "index dropped");
		xfree(index);
	}
	pause_ms(100);

	history = grow_history(history, &history_cap, "shutting down");
	pause_ms(50);
	xfree(history);
	xfree(app);

	printf("lifecycles: %lu allocations, %lu frees, %lu reallocs (%lu moved), 1 leak of %d B, "
	       "report of %zu B\n",
	       allocs, frees, reallocs, moved, ERROR_SIZE, report_len);
	return 0;
}
