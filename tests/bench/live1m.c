// SPDX-License-Identifier: Apache-2.0
// Export benchmark workload: allocates BLOCKS blocks (default 1,000,000) of
// varied small sizes (16..271 bytes), keeps every one live, and exits without
// freeing them. Just before exiting it prints the wall-clock time
// (CLOCK_REALTIME, ns since the epoch) so that scripts/bench.sh can tell how
// long the tracer kept running after its target was gone.
//
// With CHURN_SECONDS, the interval benchmark's workload: the blocks still
// held, it then makes malloc/free pairs of 64 B for that long (records keep
// flowing while ttbpf's snapshots are taken) and prints how many.
//
//   live1m [BLOCKS [CHURN_SECONDS]]
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>

static unsigned long long clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long blocks = argc > 1 ? atol(argv[1]) : 1000000;
	double churn_s = argc > 2 ? atof(argv[2]) : 0;
	unsigned long long pairs = 0, churn_end;
	unsigned int x = 2463534242u;
	struct rusage ru;

	if (blocks <= 0) {
		fprintf(stderr, "live1m: BLOCKS must be positive\n");
		return 2;
	}
	/* one more allocation, itself live: the table of blocks */
	void **live = malloc((size_t)blocks * sizeof(*live));
	if (!live) {
		fprintf(stderr, "live1m: out of memory\n");
		return 1;
	}
	unsigned long long t0 = clock_ns(CLOCK_MONOTONIC);
	for (long i = 0; i < blocks; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		live[i] = malloc(16 + x % 256);
		if (!live[i]) {
			fprintf(stderr, "live1m: out of memory after %ld blocks\n", i);
			return 1;
		}
	}
	unsigned long long t1 = clock_ns(CLOCK_MONOTONIC);

	churn_end = t1 + (unsigned long long)(churn_s * 1e9);
	while (churn_s > 0 && clock_ns(CLOCK_MONOTONIC) < churn_end) {
		for (int i = 0; i < 1000; i++) {
			void *volatile p = malloc(64);

			free(p);
		}
		pairs += 1000;
	}

	getrusage(RUSAGE_SELF, &ru);
	printf("blocks %ld\n", blocks);
	printf("ns_per_alloc %.1f\n", (double)(t1 - t0) / (double)blocks);
	if (churn_s > 0)
		printf("churn_pairs_per_s %.0f\n", (double)pairs / churn_s);
	printf("self_maxrss_kb %ld\n", ru.ru_maxrss);
	printf("exit_realtime_ns %llu\n", clock_ns(CLOCK_REALTIME));
	fflush(stdout);
	return 0;
}
