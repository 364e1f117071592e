/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The live line: on a terminal, once a second, one line of stderr rewritten
 * in place (carriage return, the line, clear to its end) with what the run
 * has seen so far. The formatting is pure (unit-tested); live__show and
 * live__clear do the writing.
 */
#ifndef TT_LIVE_H
#define TT_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The running figures at one moment, from the model (summed over the
 * processes followed with -f). */
struct live_sample {
	uint64_t ns;          /* CLOCK_MONOTONIC */
	uint64_t allocs;      /* successful allocating calls so far */
	uint64_t frees;
	uint64_t live_cnt, live_bytes;
	uint64_t peak_bytes;  /* one process: its peak; -f: the sum of each one's */
	uint64_t rss_bytes;   /* the target's RSS at its last sample; 0: none (-f, --aggregate) */
	uint64_t lost;        /* records the kernel side could not send */
	uint32_t procs;       /* processes summed (1 without -f) */
	bool aggregate;       /* --aggregate: the model is filled at the end only */
};

#define LIVE_LINE_MAX 256

/*
 * The line for now: "12.3 s | live 54.3 MB, 1.2M blocks | peak 60.1 MB |
 * RSS 80.2 MB | 12.3K allocs/s 12.1K frees/s | lost 0" (", 3 procs" after
 * the time and "peaks" with -f; no RSS without a sample), rates over the time since prev (the first sample:
 * since start_ns, from zero), at most width columns (>= 20; it is cut, never
 * wrapped: a wrapped line could not be rewritten). ASCII only; no newline.
 * Returns its length.
 */
size_t live__format(char *buf, size_t cap, const struct live_sample *prev,
		    const struct live_sample *now, uint64_t start_ns, unsigned width);

/* Columns of the terminal on fd (80 when it cannot tell). */
unsigned live__width(int fd);
/* Rewrites the line on fd in one write. */
void live__show(int fd, const char *line, size_t len);
/* Erases it (before anything else is printed on fd). */
void live__clear(int fd);

#endif /* TT_LIVE_H */
