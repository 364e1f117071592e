/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unwind tables: an x86-64 ELF file's call-frame information (.eh_frame, and
 * .debug_frame for what .eh_frame lacks) flattened into sorted rows that a
 * BPF program can binary-search (struct tt_unwind_row, bpf/unwind.h).
 *
 * Files come from the traced process and may be hostile: the build is
 * bounded in rows, time and memory, and stops at the first malformed CIE or
 * FDE, keeping the rows of the FDEs before it (stats.stopped_at_* says
 * where); it fails only when nothing usable came before. Malformed, besides
 * what libdw rejects: an augmentation other than z/L/R/P/S or longer than 8,
 * an FDE whose CIE was not read before it, an FDE pointer encoding other
 * than absolute or pc-relative, an instruction naming a register above 255
 * or nesting remember_state deeper than 64 (libdw would allocate for them).
 * Only the executable PT_LOAD segments are covered; FDE ranges outside them
 * (such as .debug_frame's FDEs of discarded functions, at 0) are dropped.
 *
 * Errors (negative errno):
 *   -ENOENT, -EACCES, ...  the file cannot be opened
 *   -ENOEXEC    not an ELF64 x86-64 executable or shared object (ET_EXEC/ET_DYN)
 *   -ENODATA    no executable segment, or no .eh_frame (nor .debug_frame, in
 *               the file or the debug file) with an FDE inside one
 *   -EBADMSG    CFI is there but malformed before any usable FDE
 *   -EFBIG      the executable segments span more than 4 GiB (rows hold
 *               32-bit offsets), or a CFI section is larger than the cap
 *   -ETIMEDOUT  the time budget ran out before any row was built
 *   -E2BIG      more FDE pieces than the bound (a hostile overlap of
 *               .debug_frame and .eh_frame ranges)
 *   -ENOMEM
 */
#ifndef TT_UNWIND_TABLE_H
#define TT_UNWIND_TABLE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gelf.h>
#include "unwind.h"

/* Default bounds (opts fields left 0 take them). */
#define UNWIND_TABLE_MAX_ROWS	     (4u << 20)	 /* 48 MiB of rows; then stats.truncated */
#define UNWIND_TABLE_MAX_FDE_ROWS    (1u << 16)	 /* rows one FDE may produce */
#define UNWIND_TABLE_MAX_FDE_NS	     (50ull * 1000 * 1000)
#define UNWIND_TABLE_MAX_TOTAL_NS    (10ull * 1000 * 1000 * 1000)
#define UNWIND_TABLE_MAX_CFI_BYTES   (64u << 20) /* one .eh_frame or .debug_frame; larger: -EFBIG */

struct unwind_table_opts {
	size_t sz; /* sizeof(struct unwind_table_opts), as libbpf's opts */
	/* A separate debug file (same build) whose .debug_frame fills the
	 * ranges .eh_frame has no FDE for. NULL: none. */
	const char *debug_path;
	__u32 max_rows;
	__u32 max_fde_rows;
	__u64 max_fde_ns;   /* an FDE that takes longer ends in an unsupported row */
	__u64 max_total_ns; /* the whole build: then the table ends where it got */
	__u64 max_cfi_bytes;
};

struct unwind_table_stats {
	__u64 base;		/* link-time address of pc_off 0 */
	__u64 fdes;		/* FDEs whose rows are in the table */
	__u64 fdes_debug_frame; /* of which from .debug_frame */
	__u64 fdes_skipped;	/* FDEs libdw found no frame for: NO_INFO rows */
	__u64 fdes_cut;		/* FDEs cut by max_fde_rows or max_fde_ns */
	__u64 rows_unsupported;
	__u64 build_ns;
	/* Offset in the CFI section of the malformed entry where reading
	 * stopped; -1: read to the end. One per source. */
	__s64 stopped_at_eh_frame;
	__s64 stopped_at_debug_frame;
	bool truncated;		/* max_rows or max_total_ns hit: the table ends early */
};

struct unwind_table;

/* Builds the table of the ELF file at path. Returns 0 or a negative errno. */
int unwind_table__build(const char *path, const struct unwind_table_opts *opts,
			struct unwind_table **out);
/* The same from an open descriptor (read with pread; not closed). */
int unwind_table__build_fd(int fd, const struct unwind_table_opts *opts,
			   struct unwind_table **out);

/* The rows, sorted by pc_off; the last is TT_UNW_NO_INFO. */
const struct tt_unwind_row *unwind_table__rows(const struct unwind_table *t, size_t *cnt);
/* The row covering link-time address addr; NULL below the first row. */
const struct tt_unwind_row *unwind_table__find(const struct unwind_table *t, __u64 addr);
/* link-time address of pc_off 0 */
__u64 unwind_table__base(const struct unwind_table *t);
const struct unwind_table_stats *unwind_table__stats(const struct unwind_table *t);
/* Memory the table holds (rows and the object). */
size_t unwind_table__bytes(const struct unwind_table *t);
void unwind_table__free(struct unwind_table *t);

/*
 * About how many rows the file's table will have, from the size of its CFI
 * sections (compressed ones counted as stored), without building it: more
 * than it will have on compiled code (measured on Debian's libc, libstdc++,
 * libLLVM, libclang-cpp and libsqlite3: a row per 5.0 to 5.9 bytes of
 * .eh_frame).
 */
#define UNWIND_TABLE_CFI_BYTES_PER_ROW 4
uint64_t unwind_table__rows_estimate(Elf *elf);

const char *unwind_kind__str(enum tt_unw_kind kind);

#endif /* TT_UNWIND_TABLE_H */
