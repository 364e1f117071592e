/* SPDX-License-Identifier: Apache-2.0 */
/* The BPF side: skeleton open → configure → load → attach, from a table of
 * allocator functions. */
#ifndef TT_PROBES_H
#define TT_PROBES_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "ttbpf.h"
#include "unwinder.h"

struct probes;

struct probes_opts {
	const char *lib_path; /* allocator library or binary; must outlive probes */
	uint32_t ringbuf_bytes;
	uint32_t wakeup_bytes; /* 0: wake the reader on every record */
	uint32_t max_frames;   /* stack depth; 0: no stacks */
	bool aggregate;        /* figures in BPF maps instead of records */
	uint32_t max_live;     /* aggregate: live blocks followed */
	bool unwind_dwarf;     /* walk unwind tables, not frame pointers */
	uint32_t unwind_rows;  /* rows the unwind tables may hold, all files together */
	int verbose;
};

/* Finds the allocator's functions, opens and loads the BPF object. Prints
 * what failed and what to do. */
int probes__load(struct probes **out, const struct probes_opts *opts);
/* Attaches to the allocator functions for process pid (again for each
 * process followed); exec records are sent for the processes attached. */
int probes__attach(struct probes *p, int pid);
/* Attaches to the variable markers in exe (TT_TRACK_VAR's USDT sites and the
 * tt_track_var function); an executable without markers is not an error.
 * Returns the number of marker kinds attached (0, 1 or 2) or a negative errno. */
int probes__attach_vars(struct probes *p, int pid, const char *exe);
int probes__events_fd(const struct probes *p);
/* The kernel has what the DWARF unwinder needs (bpf_loop, bpf_find_vma:
 * Linux 5.17+)? */
bool probes__dwarf_supported(void);
/* The unwinder's maps (user/tracing/unwinder.h); false without --unwind dwarf. */
bool probes__unwind_maps(const struct probes *p, struct unwinder_maps *out);
/* Attaches the unwinder's probe on the dynamic linker's debugger hook in
 * interp (the target's PT_INTERP), for pid. */
int probes__attach_loader(struct probes *p, int pid, const char *interp);
/* Aggregate mode's maps: stacks (key: hash, value: struct tt_agg_stack) and
 * live blocks (key: address, value: struct tt_agg_block). */
int probes__agg_stacks_fd(const struct probes *p);
int probes__agg_live_fd(const struct probes *p);
uint64_t probes__counter(const struct probes *p, enum tt_counter c);
/* The mmap, munmap and brk tracepoints are attached: memory beside malloc
 * is counted (user/model/mapped.h). */
bool probes__sysmem(const struct probes *p);
/* Probes attached so far: places probed (entry and return counted apart,
 * whether as uprobe_multi links or one perf uprobe each), the exec
 * tracepoint and the marker links; all processes together. */
int probes__attached_cnt(const struct probes *p);
/* Allocator functions not followed because an exception may unwind through
 * them and their return instructions could not all be found (a message on
 * stderr names each): their calls are only counted
 * (TT_CNT_UNFOLLOWED_CALLS), their allocations not seen. */
int probes__unprobed_cnt(const struct probes *p);
/* A followed process exited: its probes are removed in the background. */
void probes__release(struct probes *p, int pid);
/* Removes all probes, waiting for the background removals too; counters and
 * the ring buffer stay readable. */
void probes__detach(struct probes *p);
void probes__free(struct probes *p);

#endif /* TT_PROBES_H */
