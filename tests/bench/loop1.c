// SPDX-License-Identifier: Apache-2.0
// Benchmark workload: a tight single-thread malloc/free loop of varied sizes
// (16..1024 bytes). It times only its own loop (CLOCK_MONOTONIC), so that a
// tracer's start-up and shutdown are not counted.
//
//   loop1 [PAIRS]      prints ns_per_pair, pairs, and its own CPU time and
//                      peak RSS (getrusage), for scripts/bench.sh
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>

/* volatile: gcc may not delete a malloc/free pair whose pointer is unused */
static void *volatile sink;

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long pairs = argc > 1 ? atol(argv[1]) : 100000;
	size_t sizes[256];
	unsigned int x = 2463534242u;
	struct rusage ru;

	if (pairs <= 0) {
		fprintf(stderr, "loop1: PAIRS must be positive\n");
		return 2;
	}
	/* xorshift32: a fixed, varied sequence of sizes in 16..1024 */
	for (int i = 0; i < 256; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		sizes[i] = 16 + x % 1009;
	}

	/* warm-up, untimed: the heap and tcache exist before the clock */
	for (int i = 0; i < 256; i++) {
		sink = malloc(sizes[i]);
		free(sink);
	}

	unsigned long long t0 = now_ns();
	for (long i = 0; i < pairs; i++) {
		sink = malloc(sizes[i & 255]);
		free(sink);
	}
	unsigned long long t1 = now_ns();

	getrusage(RUSAGE_SELF, &ru);
	printf("ns_per_pair %.1f\n", (double)(t1 - t0) / (double)pairs);
	printf("pairs %ld\n", pairs);
	printf("loop_ns %llu\n", t1 - t0);
	printf("self_cpu_us %lld %lld\n",
	       (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
	       (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec);
	printf("self_maxrss_kb %ld\n", ru.ru_maxrss);
	return 0;
}
