// SPDX-License-Identifier: Apache-2.0
// Time and memory to build the unwind tables (user/elf/unwind_table.c) of ELF
// files: prints, per file, the median build time over RUNS builds, rows,
// bytes held, bytes per row, FDEs and what was skipped; then the peak RSS
// the process reached. Asserts nothing.
//
//   build/bench/unwind_build [-n RUNS] [-d DEBUGFILE] FILE...
//   (default files: libc.so.6 and libsqlite3.so.0 of this machine)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "unwind_table.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static long rss_kb(const char *field)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			kb = strtol(line + strlen(field), NULL, 10);
	fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	static const char *defaults[] = { "/lib/x86_64-linux-gnu/libc.so.6",
					  "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0" };
	const char **files = defaults;
	int nfiles = 2, runs = 11, c, i, r, failed = 0;
	double total_ms = 0;
	long hwm0_kb = rss_kb("VmHWM:");
	struct unwind_table_opts opts = { .sz = sizeof(opts) };

	while ((c = getopt(argc, argv, "n:d:")) != -1) {
		switch (c) {
		case 'n':
			runs = atoi(optarg) > 0 ? atoi(optarg) : 1;
			break;
		case 'd':
			opts.debug_path = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [-n RUNS] [-d DEBUGFILE] FILE...\n", argv[0]);
			return 2;
		}
	}
	if (optind < argc) {
		files = (const char **)argv + optind;
		nfiles = argc - optind;
	}
	printf("%-44s %9s %9s %9s %10s %7s %7s %9s %8s\n", "file", "median_ms", "min_ms", "rows",
	       "bytes", "B/row", "fdes", "skipped", "unsupp");
	for (i = 0; i < nfiles; i++) {
		double *ms = calloc((size_t)runs, sizeof(*ms));
		struct unwind_table *t = NULL;
		const struct unwind_table_stats *st;
		size_t cnt = 0;
		int err = 0;

		if (!ms)
			return 1;
		for (r = 0; r < runs; r++) {
			double t0 = now_ms();

			unwind_table__free(t);
			t = NULL;
			err = unwind_table__build(files[i], &opts, &t);
			ms[r] = now_ms() - t0;
			if (err)
				break;
		}
		if (err) {
			fprintf(stderr, "unwind_build: %s: %s\n", files[i], strerror(-err));
			failed = 1;
			free(ms);
			continue;
		}
		qsort(ms, (size_t)runs, sizeof(*ms), cmp_double);
		unwind_table__rows(t, &cnt);
		st = unwind_table__stats(t);
		printf("%-44s %9.2f %9.2f %9zu %10zu %7.1f %7llu %9llu %8llu%s\n", files[i],
		       ms[runs / 2], ms[0], cnt, unwind_table__bytes(t),
		       (double)unwind_table__bytes(t) / (double)(cnt ? cnt : 1),
		       (unsigned long long)st->fdes, (unsigned long long)st->fdes_skipped,
		       (unsigned long long)st->rows_unsupported, st->truncated ? " TRUNCATED" : "");
		total_ms += ms[runs / 2];
		unwind_table__free(t);
		free(ms);
	}
	printf("sum of medians: %.2f ms; peak RSS %ld kB (%ld kB before the first build, now %ld kB)\n",
	       total_ms, rss_kb("VmHWM:"), hwm0_kb, rss_kb("VmRSS:"));
	return failed;
}
