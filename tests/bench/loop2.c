// SPDX-License-Identifier: Apache-2.0
// Benchmark workload: loop1 on 2 threads at once. Each thread does PAIRS
// malloc/free pairs of varied sizes (16..1024 bytes). Each thread reads the
// clock as it starts and ends its loop; the loop wall time runs from the first
// start to the last end, and ns_per_pair is that time divided by the pairs of
// ONE thread (so two threads that do not slow each other down give the same
// figure as loop1).
//
//   loop2 [PAIRS_PER_THREAD]
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>

#define NTHREADS 2

/* one per thread: a shared one would bounce its cache line between cores */
static _Thread_local void *volatile sink;
static pthread_barrier_t start;
static long pairs;
static size_t sizes[256];
static unsigned long long start_ns[NTHREADS], end_ns[NTHREADS];

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void *worker(void *arg)
{
	long idx = (long)(size_t)arg, offset = idx * 128;

	/* warm-up, untimed: the thread's arena and tcache exist before the clock */
	for (int i = 0; i < 256; i++) {
		sink = malloc(sizes[i]);
		free(sink);
	}
	pthread_barrier_wait(&start);
	start_ns[idx] = now_ns();
	for (long i = 0; i < pairs; i++) {
		sink = malloc(sizes[(i + offset) & 255]);
		free(sink);
	}
	end_ns[idx] = now_ns();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[NTHREADS];
	unsigned int x = 2463534242u;
	struct rusage ru;

	pairs = argc > 1 ? atol(argv[1]) : 100000;
	if (pairs <= 0) {
		fprintf(stderr, "loop2: PAIRS_PER_THREAD must be positive\n");
		return 2;
	}
	for (int i = 0; i < 256; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		sizes[i] = 16 + x % 1009;
	}

	pthread_barrier_init(&start, NULL, NTHREADS + 1);
	for (long i = 0; i < NTHREADS; i++) {
		if (pthread_create(&th[i], NULL, worker, (void *)(size_t)i) != 0) {
			fprintf(stderr, "loop2: pthread_create failed\n");
			return 1;
		}
	}
	/* both threads exist before either starts its loop */
	pthread_barrier_wait(&start);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	unsigned long long t0 = start_ns[0], t1 = end_ns[0];
	for (int i = 1; i < NTHREADS; i++) {
		if (start_ns[i] < t0)
			t0 = start_ns[i];
		if (end_ns[i] > t1)
			t1 = end_ns[i];
	}

	getrusage(RUSAGE_SELF, &ru);
	printf("ns_per_pair %.1f\n", (double)(t1 - t0) / (double)pairs);
	printf("pairs %ld\n", pairs);
	printf("threads %d\n", NTHREADS);
	printf("loop_ns %llu\n", t1 - t0);
	printf("self_cpu_us %lld %lld\n",
	       (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
	       (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec);
	printf("self_maxrss_kb %ld\n", ru.ru_maxrss);
	return 0;
}
