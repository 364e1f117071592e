/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The userspace half of the DWARF unwinder: which files the traced processes
 * map, their unwind tables (user/elf/unwind_table.c) loaded into the BPF maps
 * the BPF unwinder reads (bpf/unwind.h), and the holds that let a table be
 * loaded before the code it covers runs.
 *
 * A file is named as the kernel names a mapping's file (inode, device) and
 * gets one table, shared by every process and child that maps it, built
 * once. Its rows go into one array of rows, sized at start (--unwind-rows),
 * that is never compacted: a file that does not fit has no table and its
 * frames end "no-table". A file without usable CFI is marked so that BPF
 * walks its frames by frame pointer.
 *
 * When tables are loaded:
 *   - before the target runs: the command's executable, its dynamic linker
 *     and the allocator's library (launch); every executable mapping (-p);
 *   - at the dynamic linker's debugger hook (_dl_debug_state, called when it
 *     has mapped the needed libraries and around each dlopen): a ptraced
 *     thread (the launched command's main thread; every task with -f) is
 *     held there until its new mappings have tables (the BPF probe sends it
 *     SIGURG, whose ptrace signal stop the tracer absorbs: the target never
 *     sees it); an unheld one only makes us look at its mappings at once;
 *   - when a stack meets a file without a table (a record from BPF): that
 *     stack and those before it in the same file end "no-table".
 */
#ifndef TT_UNWINDER_H
#define TT_UNWINDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "ttbpf.h"
#include "unwind.h"

/* Rows in the row array unless --unwind-rows says otherwise: what the
 * target's files will take (unwinder__rows_for), and at least 24 MiB. */
#define UNWINDER_DEFAULT_ROWS (2u << 20)
#define UNWINDER_MAX_ROWS (16u << 20)
/* Room beyond the estimate: libraries opened later (dlopen), and with -f
 * the programs children exec (a compiler under make: 2.5M rows for clang). */
#define UNWINDER_SPARE_ROWS (1u << 20)
#define UNWINDER_FOLLOW_SPARE_ROWS (4u << 20)

struct unwinder;

struct unwinder_maps {
	int rows_fd;		/* BPF array of struct tt_unw_row_slot */
	void *rows;		/* its mmap: rows_cap rows, contiguous */
	__u32 rows_cap;
	__u64 *pages;		/* the mmap of the page indexes' array */
	__u32 pages_cap;
	int mods_fd;		/* BPF hash: struct tt_unw_mod_key -> struct tt_unw_mod */
	int hold_fd;		/* BPF hash: tid -> TT_UNW_HOLD_* */
};

/* Why a file has no table. */
enum unwinder_status {
	UNWINDER_TABLE = 0,	/* rows loaded */
	UNWINDER_NO_CFI,	/* none usable (err says why): walked by frame pointer */
	UNWINDER_NO_ROOM,	/* the row array is full: its frames end "no-table" */
	UNWINDER_UNREADABLE,	/* the file could not be opened: "no-table" */
};

struct unwinder_module {
	struct tt_unw_mod_key key;
	char *path;		/* as the process that first mapped it names it */
	enum unwinder_status status;
	int err;		/* the table builder's -errno when not UNWINDER_TABLE */
	uint32_t first, rows;	/* where its rows are in the row array */
	uint32_t npages;	/* entries of its page index (0: none, no room) */
	uint64_t bytes;		/* the rows' memory in the BPF map */
	uint64_t build_ns;		/* building and loading its table */
	uint64_t fdes, rows_unsupported;
	bool truncated;		/* the builder's bounds ended the table early */
};

struct unwinder_totals {
	size_t modules, tables;
	uint64_t rows, rows_cap, bytes, build_ns;
	uint64_t scans;		/* /proc/PID/maps reads */
	uint64_t holds;		/* holds at the dynamic linker's hook absorbed */
	uint64_t misses;		/* tables asked for by BPF */
	uint64_t files_no_room;	/* files whose table did not fit (UNWINDER_NO_ROOM) */
	uint64_t rows_no_room;	/* the rows those tables have */
};

int unwinder__new(struct unwinder **out, const struct unwinder_maps *maps, int verbose);
void unwinder__free(struct unwinder *u);

/* The file at path, before any process maps it (the launched command's
 * files). A key that the kernel will not give its mappings (overlayfs) only
 * costs a second build when the mapping is seen. */
int unwinder__add_path(struct unwinder *u, const char *path);
/* Every executable file mapping of pid that has no table yet. Returns 0 or
 * -errno (-ESRCH: gone). */
int unwinder__scan(struct unwinder *u, int pid);
/* BPF met a file without a table. */
void unwinder__on_miss(struct unwinder *u, const struct tt_unwind_miss_event *e);

/* tid may be held at the dynamic linker's hook: it is ptraced by us. */
void unwinder__arm_hold(struct unwinder *u, int tid);
void unwinder__disarm_hold(struct unwinder *u, int tid);
/*
 * A signal stop of tid with sig: true when it is a hold BPF sent (the signal
 * must then be suppressed). The tables of tid's new mappings are loaded
 * before it returns.
 */
bool unwinder__take_hold(struct unwinder *u, int tid, int sig);

/*
 * Rows for the row array: the estimate for the files pid maps now (pid 0:
 * none) and, when exe is given (a command not yet run), for exe and the
 * libraries it needs (elf_needed.h), plus the spare room; within UNWINDER_DEFAULT_ROWS and
 * UNWINDER_MAX_ROWS. -v says how it was reached.
 */
uint32_t unwinder__rows_for(const char *exe, int pid, bool follow, int verbose);

size_t unwinder__module_count(const struct unwinder *u);
const struct unwinder_module *unwinder__module(const struct unwinder *u, size_t i);
void unwinder__totals(const struct unwinder *u, struct unwinder_totals *out);
/* -v: a line per file on stderr. */
void unwinder__print(const struct unwinder *u);

#endif /* TT_UNWINDER_H */
