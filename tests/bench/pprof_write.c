// SPDX-License-Identifier: Apache-2.0
/*
 * Size and write time of a --pprof file for N distinct stacks (default
 * 100,000), with the same model and report code as a run: the stacks go into
 * a model of this very process, symbolized from its own mappings (this
 * binary, built -O2 -g, and libc), and report_pprof__write writes the file
 * through outfile (temporary, fsync, rename) as ttbpf does. The first write
 * symbolizes every address (cached afterwards); the second is what each
 * later --interval rewrite costs. The JSON report of the same model is
 * written too, for scale.
 *
 *   pprof_write [-n STACKS] [-d DEPTH] [-a ADDRESSES] [-o DIR] [-J]
 *
 * -J: no JSON report. pprof_emit_memory_s is the profile packed and gzipped
 * into memory (open_memstream): the write without the file system's part.
 *
 * Frames come from a pool of ADDRESSES return addresses (default 4096) spread
 * over this binary's code and libc's: stack i's two innermost frames spell
 * i in base ADDRESSES (so every stack is distinct), the others are a
 * pseudo-random walk through the pool, DEPTH frames in all (default 16).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "heap.h"
#include "model.h"
#include "report_json.h"
#include "report_pprof.h"
#include "stacks.h"
#include "vars.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* [lo, hi) of the executable mapping holding addr */
static int text_of(uint64_t addr, uint64_t *lo, uint64_t *hi)
{
	char line[512], perms[8];
	unsigned long long a, b;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx-%llx %7s", &a, &b, perms) == 3 && perms[2] == 'x' &&
		    addr >= a && addr < b) {
			*lo = a;
			*hi = b;
			fclose(f);
			return 0;
		}
	fclose(f);
	return -1;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (long)st.st_size;
}

static uint64_t timed_write(const char *path, const struct model *m, const struct report_meta *meta,
			    bool json)
{
	uint64_t t0 = now_ns();
	int err = json ? report_json__write(path, m, meta) : report_pprof__write(path, m, meta);

	if (err) {
		fprintf(stderr, "pprof_write: writing %s failed\n", path);
		exit(1);
	}
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	long n = 100000, depth = 16, pool_n = 4096, i, k;
	const char *dir = "/tmp";
	uint64_t lo[2], hi[2], *pool, ips[128], t_first, t_again, t_mem, t_json = 0, x;
	bool want_json = true;
	char *mem = NULL;
	size_t mem_len = 0;
	FILE *mf;
	struct report_meta meta = { .command = "pprof_write", .allocator = "-", .exit_code = -1 };
	char prof[4096], json[4096];
	struct model m;
	int c;

	while ((c = getopt(argc, argv, "n:d:a:o:J")) != -1) {
		if (c == 'n')
			n = atol(optarg);
		else if (c == 'd')
			depth = atol(optarg);
		else if (c == 'a')
			pool_n = atol(optarg);
		else if (c == 'o')
			dir = optarg;
		else if (c == 'J')
			want_json = false;
	}
	if (n < 1 || depth < 2 || depth > 128 || pool_n < 2 || pool_n * pool_n < n) {
		fprintf(stderr, "pprof_write: bad -n/-d/-a (need ADDRESSES^2 >= STACKS)\n");
		return 2;
	}
	if (text_of((uint64_t)(uintptr_t)&main, &lo[0], &hi[0]) ||
	    text_of((uint64_t)(uintptr_t)&fopen, &lo[1], &hi[1])) {
		fprintf(stderr, "pprof_write: cannot find our code in /proc/self/maps\n");
		return 1;
	}
	pool = calloc((size_t)pool_n, sizeof(*pool));
	if (!pool || model__init(&m, 1000, getpid(), true, TT_DEFAULT_MAX_VARS))
		return 1;
	/* a quarter of the addresses in our code, the rest in libc's */
	for (i = 0; i < pool_n; i++) {
		int f = i % 4 != 0;
		uint64_t span = hi[f] - lo[f] - 16;

		pool[i] = lo[f] + 1 + ((uint64_t)i * 2654435761u) % span;
	}
	x = 88172645463325252ULL;
	for (i = 0; i < n; i++) {
		uint32_t id;

		ips[0] = pool[i % pool_n];
		ips[1] = pool[i / pool_n];
		for (k = 2; k < depth; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			ips[k] = pool[x % (uint64_t)pool_n];
		}
		id = stacks__intern(m.stacks, ips, (uint32_t)depth, TT_STACK_END_ROOT);
		if (!id) {
			fprintf(stderr, "pprof_write: the stack table is full at %ld stacks\n", i);
			return 1;
		}
		stacks__on_alloc(m.stacks, id, 16 + (uint64_t)(i % 512));
		if (i % 3)
			stacks__on_release(m.stacks, id, 16 + (uint64_t)(i % 512));
	}
	if (stacks__count(m.stacks) != (size_t)n) {
		fprintf(stderr, "pprof_write: %zu distinct stacks, not %ld\n", stacks__count(m.stacks), n);
		return 1;
	}
	if (model__finish(&m, NULL))
		return 1;
	meta.pid = getpid();
	meta.end_ns = 1000 + 1000000000ULL;
	snprintf(prof, sizeof(prof), "%s/pprof_write.%d.pb.gz", dir, getpid());
	snprintf(json, sizeof(json), "%s/pprof_write.%d.json", dir, getpid());

	t_first = timed_write(prof, &m, &meta, false);
	t_again = timed_write(prof, &m, &meta, false);
	mf = open_memstream(&mem, &mem_len);
	t_mem = now_ns();
	if (!mf || report_pprof__emit(mf, &m, &meta) || fclose(mf))
		return 1;
	t_mem = now_ns() - t_mem;
	free(mem);
	if (want_json)
		t_json = timed_write(json, &m, &meta, true);
	printf("stacks %ld\n", n);
	printf("frames_per_stack %ld\n", depth);
	printf("addresses %ld\n", pool_n);
	printf("pprof_bytes %ld\n", file_size(prof));
	printf("pprof_bytes_per_stack %.1f\n", (double)file_size(prof) / (double)n);
	printf("pprof_write_first_s %.3f\n", (double)t_first / 1e9);
	printf("pprof_write_again_s %.3f\n", (double)t_again / 1e9);
	printf("pprof_emit_memory_s %.3f\n", (double)t_mem / 1e9);
	if (want_json) {
		printf("json_bytes %ld\n", file_size(json));
		printf("json_write_s %.3f\n", (double)t_json / 1e9);
	}
	unlink(prof);
	unlink(json);
	model__fini(&m);
	free(pool);
	return 0;
}
