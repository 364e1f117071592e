/* SPDX-License-Identifier: Apache-2.0 */
/* Command-line parsing into one options struct; no other logic. */
#ifndef TT_OPTIONS_H
#define TT_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "dash.h"
#include "ttbpf.h"
#include "vars.h"

#define TT_DEFAULT_RINGBUF_BYTES (16u << 20)
#define TT_DEFAULT_WAKEUP_BYTES (256u << 10)
#define TT_DEFAULT_MAX_LIVE (1u << 20)
#define TT_DEFAULT_TOP 10u
#define TT_MAX_TOP 1000000u
#define TT_DEFAULT_STACK_LINES 4u
#define TT_MAX_STACK_LINES 128u
#define TT_MAX_SKIP_FRAMES 32
#define TT_MIN_INTERVAL_S 0.1
#define TT_MAX_INTERVAL_S 86400.0

/* What --folded weighs each stack by (--folded-by, --folded-weight). */
enum folded_weight {
	FOLDED_LIVE_BYTES = 0, /* default: what is still held */
	FOLDED_ALLOC_BYTES,
	FOLDED_ALLOC_COUNT,
	FOLDED_PEAK_BYTES,     /* held at the moment of the peak */
};

enum unwind_mode {
	UNWIND_AUTO = 0, /* dwarf where the kernel has what it needs, else fp */
	UNWIND_DWARF,    /* --unwind dwarf: an error where the kernel cannot */
	UNWIND_FP,       /* --unwind fp: frame pointers only */
};

struct options {
	const char *report_in; /* `ttbpf report FILE.json`: draw again, no tracing */
	const char *diff_old, *diff_new; /* `ttbpf diff OLD.json NEW.json` */
	int pid;              /* -p: attach to this process; 0 when launching */
	char **argv;          /* -- CMD ARGS: NULL-terminated, or NULL in pid mode */
	const char *json_path; /* -j/--json FILE */
	const char *out_dir;   /* -o DIR: DIR/ttbpf.{json,svg,png,pb.gz} */
	const char *svg_path;
	const char *png_path;
	const char *folded_path;
	enum folded_weight folded_weight;
	const char *pprof_path; /* --pprof FILE */
	const char *lib_path;  /* -l/--lib: allocator library or binary to probe */
	double duration_s;     /* -d: 0 = until Ctrl-C or target exit */
	double interval_s;     /* -i: top-N and report files every interval; 0: none */
	bool follow;           /* -f: children too, each with its own model */
	uint32_t ringbuf_bytes;
	uint32_t wakeup_bytes;
	uint32_t stack_depth;  /* frames per allocation; 0: no stacks */
	bool aggregate;        /* --aggregate: figures kept in BPF maps, no records */
	uint32_t max_live;     /* --max-live: blocks followed in aggregate mode */
	uint32_t max_vars;     /* --max-vars: variable instances listed */
	enum unwind_mode unwind; /* --unwind */
	uint32_t unwind_rows;  /* --unwind-rows: rows of all unwind tables together; 0: sized from the target's files */
	uint32_t top;          /* --top: entries in each list of every output */
	uint32_t stack_lines;  /* --stack-lines: frames shown under each call site */
	bool by_address;       /* --by-address: a call site per address, not per function */
	/* --skip-frames: POSIX EREs, checked here; frames whose demangled
	 * function matches are wrappers, not call sites */
	const char *skip_frames[TT_MAX_SKIP_FRAMES];
	uint32_t skip_cnt;
	enum dash_sort sort;   /* --sort: what ranks the dashboard's call-site tree */
	int verbose;
	bool quiet;
};

enum options_result {
	OPTIONS_RUN = 0,
	OPTIONS_EXIT_OK,    /* --help, --version: done */
	OPTIONS_EXIT_USAGE, /* bad usage: message printed, exit 2 */
};

enum options_result options__parse(struct options *o, int argc, char **argv);

#endif /* TT_OPTIONS_H */
