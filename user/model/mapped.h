/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Memory beside the heap, which the allocator probes do not see: anonymous
 * mappings (mmap/munmap) and the program break (brk), from the syscall
 * records (struct tt_sysmem_event). Each byte has an owner: the allocator
 * (mapped inside an allocating call ttbpf traces: glibc's mmap of a large
 * block, sbrk for its arena) or the program (anything else: its own mmap,
 * an allocator ttbpf does not probe, such as Python's pymalloc arenas).
 * A munmap releases its range's owner's bytes; a brk shrink the bytes of
 * whoever grew the break last. Never mixed into the heap's figures. Rules
 * in docs/semantics.md.
 */
#ifndef TT_MAPPED_H
#define TT_MAPPED_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "ttbpf.h"

/* Anonymous ranges followed (a further one is counted, not followed: its
 * munmap is then one of unknown memory), and brk segments kept. */
#define MAPPED_MAX_RANGES (1u << 16)
#define MAPPED_MAX_SEGMENTS 4096u

enum mapped_owner { MAPPED_PROGRAM = 0, MAPPED_ALLOCATOR, MAPPED_OWNERS };

struct mapped_figures {
	uint64_t mmap_calls, mmap_bytes;     /* anonymous mmaps that succeeded */
	uint64_t munmap_calls, munmap_bytes; /* bytes of its mappings released */
	uint64_t mapped_bytes, peak_mapped_bytes; /* its anonymous mappings now, highest */
	uint64_t brk_calls;                  /* brk calls that moved its bytes */
	uint64_t brk_grown_bytes, brk_shrunk_bytes;
	uint64_t brk_bytes;                  /* its bytes below the break now */
};

/* The figures by name (the JSON's stats.mapped keys, in its order), so that
 * its writer and its readers name them alike. */
struct mapped_field {
	const char *name;
	size_t offset; /* of its uint64_t in struct mapped_figures */
};
#define MAPPED_FIELD_CNT 10
extern const struct mapped_field mapped_fields[MAPPED_FIELD_CNT];

static inline uint64_t mapped_figure__get(const struct mapped_figures *f,
					  const struct mapped_field *k)
{
	return *(const uint64_t *)((const char *)f + k->offset);
}

static inline void mapped_figure__set(struct mapped_figures *f, const struct mapped_field *k,
				      uint64_t v)
{
	*(uint64_t *)((char *)f + k->offset) = v;
}

struct mapped_stats {
	struct mapped_figures by[MAPPED_OWNERS];
	/* munmaps of no range followed (file mappings, mappings older than the
	 * trace), and the bytes of brk shrinks below what the trace saw grown */
	uint64_t unknown_munmap_calls, unknown_brk_shrunk_bytes;
	uint64_t ranges_dropped; /* anonymous mmaps past MAPPED_MAX_RANGES */
	uint64_t records;        /* syscall records read */
};

struct mapped;

int mapped__new(struct mapped **out);
void mapped__free(struct mapped *m);
/* One record. 0, or -EINVAL for a kind it does not know. */
int mapped__on_event(struct mapped *m, const struct tt_sysmem_event *e);
const struct mapped_stats *mapped__stats(const struct mapped *m);

#endif /* TT_MAPPED_H */
