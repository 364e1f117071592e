// SPDX-License-Identifier: Apache-2.0
// Benchmark workload: a tight single-thread loop of ::operator new(64) and
// ::operator delete, what a C++ program's small objects cost. Under
// LD_PRELOAD=libjemalloc.so.2, operator new is jemalloc's, which ttbpf --lib
// probes at its return instructions (user/elf/ret_sites.c); under glibc it
// is libstdc++'s, not probed (its malloc is). It times only its own loop.
//
//   newdel [OPS]       prints ns_per_op and ops, for scripts/bench.sh
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <new>

// volatile: the pointer escapes, so the compiler may not drop the pair
static void *volatile sink;

static unsigned long long now_ns()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long ops = argc > 1 ? atol(argv[1]) : 1000000;

	if (ops <= 0) {
		fprintf(stderr, "newdel: OPS must be positive\n");
		return 2;
	}
	// warm-up, untimed: the allocator's caches exist before the clock
	for (int i = 0; i < 256; i++) {
		sink = ::operator new(64);
		::operator delete(sink);
	}
	unsigned long long t0 = now_ns();
	for (long i = 0; i < ops; i++) {
		sink = ::operator new(64);
		::operator delete(sink);
	}
	unsigned long long t1 = now_ns();
	printf("ns_per_op %.1f\n", (double)(t1 - t0) / (double)ops);
	printf("ops %ld\n", ops);
	return 0;
}
