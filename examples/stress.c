// SPDX-License-Identifier: Apache-2.0
/*
 * A stress test for the tracer: as many allocator calls as fast as possible,
 * in five phases ~50 ms apart (~1-2.5 s untraced, ~0.6 s of it pauses).
 *
 *   stress [-q]      -q: a quicker run, every count divided by 10 (the 16
 *                    threads and the big objects stay as they are)
 *
 *   bursts     4 bursts of 50,000 blocks of 16..527 B, each burst allocated,
 *              then freed (alternately first-to-last and last-to-first)
 *   fragments  20,000 blocks of mixed sizes (24 B .. 4,000 B), every other one
 *              freed, then 2,000 larger blocks (8..15 KB) that fit none of the
 *              holes; then everything freed
 *   threads    16 threads released at once by a barrier, each making 10,000
 *              blocks of 16..2,063 B and holding the newest 128 (a ring)
 *   big        blocks of 1, 2, 4, 8 and 10 MB (malloc, touch, free); a 10 MB
 *              calloc; a buffer grown by realloc 1 -> 2 -> 4 -> 8 -> 10 MB; one
 *              10 MB block (big) kept to the end
 *   rapid      100,000 malloc/free cycles of 16..256 B, back to back
 *
 * Tracked variables (name, function, type / category, size):
 *   slots   run_bursts     void ** / bookkeeping          400,000 B, freed
 *   frag    run_fragments  void ** / bookkeeping          160,000 B, freed
 *   large   run_fragments  void ** / bookkeeping          16,000 B, freed
 *   ring    thread_main    void ** / bookkeeping          1,024 B, freed; one
 *                          variable, moved to each new thread's ring in turn
 *   zeroed  run_big        unsigned char * / large objects  10 MB, freed
 *   grown   run_big        char * / text                  1 -> 10 MB, follows
 *                          its reallocs, freed
 *   big     run_big        unsigned char * / large objects  10,485,760 B, live
 * With -q, slots, frag and large are a tenth of that.
 *
 * The program's own allocations (it counts them; the summary line prints them;
 * the sizes come from fixed seeds, so every run makes the same ones):
 *
 *                  full run                      -q
 *   allocations    482,031 (350,264,053 B)       48,231 (101,295,924 B)
 *                  bursts 200,001, fragments 22,002, threads 16 x 10,001,
 *                  big 12 (7 malloc, 1 calloc, 4 realloc), rapid 100,000
 *   frees          482,030                       48,230
 *   live at exit   1 block, 10,485,760 B (big)
 *   peak           33,031,806 B in 12,002        ~10 MB, in the big phase
 *                  blocks, in the fragments
 *                  phase
 *
 * glibc 2.36 adds its own: the stdout buffer of the final printf, one calloc
 * per thread created (its TLS vector, 272 B), and at each thread's exit frees
 * of its malloc cache (ttbpf counts those apart: allocator_internal_frees).
 *
 * About a million ring-buffer records: if ttbpf reports lost events with its
 * default ring buffer, give it a larger one (-b 64M).
 */
#define _POSIX_C_SOURCE 200809L /* pthread barriers, also under -std=c11 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tt.h"

#define MB (1024 * 1024)
#define THREADS 16
#define RING 128

/* keeps the compiler from deleting a malloc/free pair whose block is unused */
static void *volatile sink;

static atomic_ulong allocs, frees;
static unsigned long scale = 1; /* 10 with -q */

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void oom(void)
{
	fprintf(stderr, "stress: out of memory\n");
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		oom();
	atomic_fetch_add_explicit(&allocs, 1, memory_order_relaxed);
	sink = p;
	return p;
}

static void xfree(void *p)
{
	atomic_fetch_add_explicit(&frees, 1, memory_order_relaxed);
	free(p);
}

/* xorshift32, one state per caller */
static uint32_t rng(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void run_bursts(void)
{
	size_t n = 50000 / scale, i;
	void **slots = xmalloc(n * sizeof(*slots));
	uint32_t seed = 1;
	int burst;

	TT_TRACK_VAR_AS(slots, "bookkeeping");
	for (burst = 0; burst < 4; burst++) {
		for (i = 0; i < n; i++)
			slots[i] = xmalloc(16 + rng(&seed) % 512);
		if (burst % 2 == 0)
			for (i = 0; i < n; i++)
				xfree(slots[i]);
		else
			for (i = n; i-- > 0;)
				xfree(slots[i]);
		pause_ms(50);
	}
	xfree(slots);
}

static void run_fragments(void)
{
	static const size_t sizes[] = { 24, 40, 100, 250, 600, 1500, 4000 };
	size_t n = 20000 / scale, nl = 2000 / scale, i;
	void **frag = xmalloc(n * sizeof(*frag)), **large;

	TT_TRACK_VAR_AS(frag, "bookkeeping");
	for (i = 0; i < n; i++) {
		frag[i] = xmalloc(sizes[i % 7]);
		memset(frag[i], 1, sizes[i % 7]);
	}
	pause_ms(20);
	/* every other block goes: holes of every size between the survivors */
	for (i = 0; i < n; i += 2) {
		xfree(frag[i]);
		frag[i] = NULL;
	}
	pause_ms(20);
	/* larger blocks that fit none of the holes */
	large = xmalloc(nl * sizeof(*large));
	TT_TRACK_VAR_AS(large, "bookkeeping");
	for (i = 0; i < nl; i++) {
		large[i] = xmalloc(8192 + (i % 8) * 1024);
		memset(large[i], 2, 8192);
	}
	pause_ms(30);
	for (i = 1; i < n; i += 2)
		xfree(frag[i]);
	for (i = 0; i < nl; i++)
		xfree(large[i]);
	xfree(large);
	xfree(frag);
}

static pthread_barrier_t start;

static void *thread_main(void *arg)
{
	uint32_t seed = (uint32_t)(uintptr_t)arg * 2654435761u + 1;
	size_t n = 10000 / scale, i;
	void **ring = xmalloc(RING * sizeof(*ring));

	TT_TRACK_VAR_AS(ring, "bookkeeping");
	memset(ring, 0, RING * sizeof(*ring));
	pthread_barrier_wait(&start);
	for (i = 0; i < n; i++) {
		if (ring[i % RING])
			xfree(ring[i % RING]);
		ring[i % RING] = xmalloc(16 + rng(&seed) % 2048);
	}
	for (i = 0; i < RING; i++)
		if (ring[i])
			xfree(ring[i]);
	xfree(ring);
	return NULL;
}

static void run_threads(void)
{
	pthread_t th[THREADS];
	uintptr_t i;

	pthread_barrier_init(&start, NULL, THREADS);
	for (i = 0; i < THREADS; i++)
		if (pthread_create(&th[i], NULL, thread_main, (void *)i)) {
			fprintf(stderr, "stress: cannot create a thread\n");
			exit(1);
		}
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
}

/* 12 allocations (5 + 1 + 1 malloc, 1 calloc, 4 realloc) and 11 frees (4 by realloc) */
static unsigned char *run_big(void)
{
	static const size_t sizes[] = { 1 * MB, 2 * MB, 4 * MB, 8 * MB, 10 * MB };
	unsigned char *zeroed, *big;
	char *grown, *p;
	size_t i;

	for (i = 0; i < 5; i++) {
		unsigned char *obj = xmalloc(sizes[i]);

		memset(obj, (int)i, sizes[i]);
		xfree(obj);
		pause_ms(10);
	}
	zeroed = calloc(10, MB);
	if (!zeroed)
		oom();
	atomic_fetch_add(&allocs, 1);
	TT_TRACK_VAR_AS(zeroed, "large objects");
	zeroed[5 * MB] = 1;
	sink = zeroed;
	pause_ms(10);
	xfree(zeroed);

	grown = xmalloc(1 * MB);
	TT_TRACK_VAR(grown);
	memset(grown, 'g', 1 * MB);
	for (i = 1; i < 5; i++) {
		p = realloc(grown, sizes[i]);
		if (!p)
			oom();
		/* a successful realloc: one allocation, and its old block released */
		atomic_fetch_add(&allocs, 1);
		atomic_fetch_add(&frees, 1);
		grown = p;
		memset(grown + sizes[i - 1], 'g', sizes[i] - sizes[i - 1]);
		pause_ms(10);
	}
	xfree(grown);

	big = xmalloc(10 * MB);
	TT_TRACK_VAR_AS(big, "large objects");
	memset(big, 'b', 10 * MB);
	return big;
}

static void run_rapid(void)
{
	size_t n = 100000 / scale, i;

	for (i = 0; i < n; i++) {
		void *p = xmalloc(16 + (i * 7919) % 241);

		xfree(p);
	}
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	unsigned char *big;
	unsigned long a, f;

	if (argc == 2 && !strcmp(argv[1], "-q")) {
		scale = 10;
	} else if (argc != 1) {
		fprintf(stderr, "usage: stress [-q]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_bursts();
	pause_ms(50);
	run_fragments();
	pause_ms(50);
	run_threads();
	pause_ms(50);
	big = run_big();
	pause_ms(50);
	run_rapid();
	pause_ms(50);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	a = atomic_load(&allocs);
	f = atomic_load(&frees);
	printf("stress%s: %lu allocations, %lu frees, %lu live (big: %d B, first byte %c), "
	       "%d threads, %.2f s\n",
	       scale > 1 ? " -q" : "", a, f, a - f, 10 * MB, big[0], THREADS,
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
