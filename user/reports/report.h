/* SPDX-License-Identifier: Apache-2.0 */
/* What every report needs besides the heap model: the run it describes. */
#ifndef TT_REPORT_H
#define TT_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#define TT_TOOL_VERSION "0.1.0"
#define TT_FORMAT_VERSION 1

/* A child process followed with -f, as the target's report lists it. */
struct report_proc {
	int pid;
	int parent_pid;
	const char *command;
	int exit_code;               /* -1: unknown (still running at the end) */
	bool untraced;               /* not traced (why says why): no figures, or
				      * only those before it stopped being traced */
	const char *untraced_why;
	bool never_traced;           /* tracing it failed: no figure is known */
	uint64_t total_allocs, total_alloc_bytes;
	uint64_t live_cnt, live_bytes, peak_bytes;
	const char *report;          /* its JSON report's path; NULL: none written */
};

struct unwinder;

struct report_meta {
	int pid;
	int parent_pid;           /* a followed child's parent; 0 for the target */
	const struct report_proc *children; /* the target's report: processes followed */
	size_t child_cnt;
	const char *command;
	const char *allocator; /* the library or binary probed */
	bool launched;
	int exit_code;          /* exit status (launched command, followed child); -1 unknown */
	uint64_t start_ns;      /* CLOCK_MONOTONIC, as record timestamps */
	uint64_t end_ns;
	int64_t wall_minus_mono_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC at start */
	uint64_t lost_events;   /* records the BPF side could not reserve */
	uint64_t inflight_dropped; /* calls not followed: no per-thread storage */
	uint64_t calls_not_followed; /* calls into operator new forms left unprobed
				      * (probes__unprobed_cnt) */
	uint64_t bad_records;
	uint64_t records;
	uint64_t unreadable_strings; /* marker strings the target unmapped first */
	uint64_t max_delay_ns;       /* longest a record waited to be read */
	uint64_t mean_delay_ns;      /* over the reads (oldest record of each) */
	bool aggregate;             /* --aggregate: figures from BPF maps */
	bool sysmem;                /* anonymous mmap and brk counted (model's mapped) */
	uint64_t sysmem_lost;       /* their records lost (ring buffer full) */
	uint64_t agg_blocks_full;   /* aggregate: blocks not followed (table full) */
	uint64_t agg_stacks_full;   /* aggregate: stacks not kept (table full) */
	uint64_t agg_collisions;    /* aggregate: stacks sharing a hash, kept apart */
	/* --unwind dwarf: the tables (NULL: frame pointers) and the BPF
	 * unwinder's counters */
	const struct unwinder *unwinder;
	bool stacks_off;            /* --stack-depth 0: no walk at all */
	uint64_t unw_stacks, unw_frames_cfi, unw_frames_fp, unw_vma_busy;
};

#endif /* TT_REPORT_H */
