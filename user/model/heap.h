/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The heap model: every live allocation of the target and the running
 * figures, fed by decoded allocator records. It knows nothing of BPF or of
 * reports; its rules are documented in docs/semantics.md.
 */
#ifndef TT_HEAP_H
#define TT_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "ttbpf.h"

struct heap;

struct heap_block {
	uint64_t ptr;
	uint64_t size;
	uint64_t ts_ns; /* when it became live at this size */
	uint32_t tid;
	uint32_t aux; /* reserved for stack and variable ids */
};

struct heap_stats {
	uint64_t total_allocs;       /* successful allocating calls, realloc included */
	uint64_t total_alloc_bytes;  /* bytes requested by them */
	uint64_t total_frees;        /* known blocks released: free, realloc's old block */
	uint64_t total_freed_bytes;
	uint64_t failed_allocs;      /* NULL / non-zero return; nothing became live */
	uint64_t unknown_frees;      /* blocks released that were allocated before attach */
	uint64_t internal_frees;     /* frees of unseen blocks from the allocator's own
				      * code: glibc's thread-exit cache flush */
	uint64_t reallocs_in_place;  /* realloc returned its input block */
	uint64_t reallocs_moved;     /* realloc returned a different block */
	uint64_t dup_allocs;         /* an address returned while already live (lost free) */
	uint64_t exec_released;      /* blocks gone with the image that exec replaced */
	uint64_t live_cnt;
	uint64_t live_bytes;
	uint64_t peak_bytes;         /* highest live_bytes seen */
	uint64_t peak_cnt;           /* live_cnt at that moment */
	uint64_t peak_ns;            /* when (0 when nothing was ever live) */
	uint64_t first_ns, last_ns;  /* time of the first and last record */
	/* temporary allocations, as heaptrack counts them: freed by the thread
	 * that made them, within HEAP_TEMP_WINDOW_NS, with no allocation by that
	 * thread in between */
	uint64_t temp_allocs;
	uint64_t temp_bytes;
	uint64_t fn_allocs[TT_FN_CNT]; /* successful calls by outermost function */
};

/* A block freed this soon after its allocation, with nothing allocated by
 * its thread in between, is a temporary allocation. */
#define HEAP_TEMP_WINDOW_NS 1000000ULL /* 1 ms */

struct heap_thread {
	uint32_t tid;
	uint64_t allocs, alloc_bytes;
	uint64_t frees, freed_bytes; /* blocks this thread released */
	uint64_t failed;
	/* its latest allocation (0: none, or freed since): the one block whose
	 * free by this thread may be a temporary's */
	uint64_t last_ptr, last_ns;
};

/*
 * Told of every block that stops being live: freed, released by a realloc
 * (moved_to: the block realloc returned, the same address when resized in
 * place, and new_size its size), or replaced by an allocation at its address
 * (moved_to 0).
 */
struct heap_observer {
	void (*released)(void *ctx, const struct heap_block *b, uint64_t ts_ns, uint64_t moved_to,
			 uint64_t new_size);
	void *ctx;
};

struct heap *heap__new(void);
void heap__free(struct heap *h);
void heap__set_observer(struct heap *h, const struct heap_observer *obs);

/* Returns 0, or -ENOMEM (the model is then unchanged). The new block's aux
 * is set to aux (a stack id). */
int heap__on_alloc_tagged(struct heap *h, const struct tt_alloc_event *e, uint32_t aux);
int heap__on_alloc(struct heap *h, const struct tt_alloc_event *e);
int heap__on_free(struct heap *h, const struct tt_free_event *e);
/* The target exec'd: every live block is gone (not counted as frees). */
void heap__on_exec(struct heap *h, uint64_t ts_ns);

/*
 * Aggregate mode: the figures were kept in the kernel. heap__restore_block
 * puts back a block that was live at the end (no allocation is counted);
 * heap__set_totals then sets the running figures.
 */
int heap__restore_block(struct heap *h, uint64_t ptr, uint64_t size, uint64_t ts_ns, uint32_t tid,
			uint32_t aux);
void heap__set_totals(struct heap *h, const struct heap_stats *totals);

const struct heap_stats *heap__stats(const struct heap *h);
const struct heap_block *heap__find(const struct heap *h, uint64_t ptr);
/* The live block holding addr: its start, or inside it. Exact starts are a
 * hash lookup; an interior address scans the live blocks (markers are rare). */
const struct heap_block *heap__containing(const struct heap *h, uint64_t addr);

/* Iterates live blocks in table order: `size_t it = 0; while ((b = heap__next(h, &it)))` */
const struct heap_block *heap__next(const struct heap *h, size_t *it);

/* Per-thread figures, sorted by tid; valid until the next heap__on_* call. */
const struct heap_thread *heap__threads(struct heap *h, size_t *cnt);

/* Bytes the model holds for its live-block table (for the overhead figures). */
size_t heap__table_bytes(const struct heap *h);

#endif /* TT_HEAP_H */
