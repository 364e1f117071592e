/* SPDX-License-Identifier: Apache-2.0 */
/* The human-readable summary printed at the end of a run. */
#ifndef TT_REPORT_TEXT_H
#define TT_REPORT_TEXT_H

#include <stdio.h>
#include "mapped.h"
#include "model.h"
#include "report.h"

#include <stdbool.h>
#include <stdint.h>

struct report_text_opts {
	uint32_t top;         /* entries of each list (--top) */
	uint32_t stack_lines; /* frames shown under each call site (--stack-lines) */
};

/* The figures the summary opens with: of the model, or of a JSON report. */
struct report_totals {
	int pid;
	const char *command;
	uint64_t duration_ns;
	int exit_code; /* -1: none */
	size_t threads;
	uint64_t total_allocs, total_alloc_bytes, total_frees, total_freed_bytes;
	uint64_t live_cnt, live_bytes;
	bool has_peak;
	uint64_t peak_bytes, peak_cnt, peak_at_ns; /* at: since the start */
	uint64_t failed_allocs, unknown_frees, reallocs_in_place, reallocs_moved, dup_allocs;
	uint64_t lost_events, inflight_dropped, bad_records, calls_not_followed;
	bool aggregate;
	uint64_t agg_blocks_full, agg_stacks_full;
	/* unwind tables that did not fit in --unwind-rows' rows_cap rows */
	uint64_t unw_files_no_room, unw_rows_no_room, unw_rows_cap;
	/* beside malloc: the program's own anonymous mmap and brk (the
	 * allocator's are in the JSON), when counted; the RSS sampled */
	bool has_mapped;
	struct mapped_figures program;
	uint64_t rss_samples, rss_peak_bytes, rss_last_bytes;
};

void report_text__put_totals(FILE *f, const struct report_totals *t);

/* opts NULL: the defaults of options.h. */
void report_text__write(FILE *f, const struct model *mo, const struct report_meta *m,
			const struct report_text_opts *opts);
struct callsite;
/* A call site as the summary names it: function [inlined] (file:line),
 * cleaned (text_clean.h); NULL: "(no stack)". For the other text outputs. */
void report_text__put_site(FILE *f, const struct callsite *c);

/*
 * The summary of the JSON report at json (`ttbpf report FILE.json`), read as
 * a stream: the figures the summary of the run opened with, and the first
 * opts->top allocation sites (without their stack lines); 0 or a negative
 * errno (printed).
 */
int report_text__write_json(FILE *f, const char *json, const struct report_text_opts *opts);

#endif /* TT_REPORT_TEXT_H */
