/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Unwind-table rows, shared by the table builder (user/elf/unwind_table.c) and
 * the BPF unwinder (bpf/ttbpf.bpf.c) that binary-searches them in an array
 * map, and the module records that say where a file's rows are. Only
 * __u32/__s32 fields: the layout is the same on both sides, and
 * user/elf/unwind_table.c checks the size with _Static_assert.
 *
 * A table covers one ELF file. Rows are sorted by pc_off (strictly
 * increasing); a row covers [its pc_off, the next row's pc_off). The last row
 * is always TT_UNW_NO_INFO, so that a search past the end of the last FDE
 * does not land on it. Addresses are link-time (file) virtual addresses
 * minus the table's base, so a table is shared by every process mapping the
 * file: the unwinder subtracts the load bias and the base first.
 *
 * The caller frame, from a row:
 *   CFA      = rsp + cfa_off                       (TT_UNW_CFA_RSP)
 *            = rbp + cfa_off                       (TT_UNW_CFA_RBP)
 *            = rsp + cfa_off + ((rip & 15) >= 11 ? 8 : 0)   (TT_UNW_CFA_PLT11)
 *            = rsp + cfa_off + ((rip & 15) >= 10 ? 8 : 0)   (TT_UNW_CFA_PLT10)
 *   ra       = *(CFA - 8)                          (checked when the table is built)
 *   caller's rsp = CFA
 *   caller's rbp = rbp                             (TT_UNW_RBP_SAME)
 *                = *(CFA + rbp_off)                (TT_UNW_RBP_AT_CFA)
 *                unknown                           (TT_UNW_RBP_UNDEFINED, _UNSUPPORTED):
 *                  fine until a frame needs rbp (a CFA_RBP row, or
 *                  RBP_SAME feeding one), then the stack ends "unsupported".
 */
#ifndef TT_UNWIND_H
#define TT_UNWIND_H

enum tt_unw_kind {
	TT_UNW_NO_INFO = 0,	/* no FDE covers this range: stack ends "no-table" */
	TT_UNW_CFA_RSP = 1,
	TT_UNW_CFA_RBP = 2,
	TT_UNW_CFA_PLT11 = 3,	/* glibc/binutils .plt: 16-byte entries, push at +6 */
	TT_UNW_CFA_PLT10 = 4,	/* the same with the threshold one byte earlier */
	TT_UNW_ROOT = 5,	/* return address undefined: the outermost frame (_start, clone) */
	TT_UNW_UNSUPPORTED = 6, /* a CFA or return-address rule we do not follow */
	TT_UNW_KIND_CNT,
};

enum tt_unw_rbp {
	TT_UNW_RBP_SAME = 0,
	TT_UNW_RBP_AT_CFA = 1,
	TT_UNW_RBP_UNDEFINED = 2,	/* DW_CFA_undefined */
	TT_UNW_RBP_UNSUPPORTED = 3,	/* register, expression or val_offset rule */
};

/*
 * rule: bits 0-3 enum tt_unw_kind, bits 4-5 enum tt_unw_rbp, bits 6-7 zero,
 * bits 8-31 rbp_off, a signed byte offset from the CFA (arithmetic shift:
 * (__s32)rule >> 8). Offsets that do not fit make the rbp rule unsupported.
 */
struct tt_unwind_row {
	__u32 pc_off;
	__s32 cfa_off;
	__u32 rule;
};

#define TT_UNW_ROW_BYTES	12

/*
 * The BPF row array holds two rows per element: an array map rounds its
 * values up to 8 bytes, which would make a 12-byte row cost 16. Row i is
 * element i / 2, r[i % 2]; the mmap of the array is the rows back to back.
 */
#define TT_UNW_ROWS_PER_SLOT	2

struct tt_unw_row_slot {
	struct tt_unwind_row r[TT_UNW_ROWS_PER_SLOT];
};
#define TT_UNW_RBP_OFF_MIN	(-(1 << 23))
#define TT_UNW_RBP_OFF_MAX	((1 << 23) - 1)

static inline __u32 tt_unw_rule(__u32 kind, __u32 rbp, __s32 rbp_off)
{
	return (kind & 0xf) | (rbp & 3) << 4 | (__u32)rbp_off << 8;
}

static inline __u32 tt_unw_kind(const struct tt_unwind_row *r)
{
	return r->rule & 0xf;
}

static inline __u32 tt_unw_rbp(const struct tt_unwind_row *r)
{
	return r->rule >> 4 & 3;
}

static inline __s32 tt_unw_rbp_off(const struct tt_unwind_row *r)
{
	return (__s32)r->rule >> 8;
}

/*
 * A module: one ELF file, named as the kernel names the file of a mapping
 * (its inode number and its superblock's device, kernel encoding
 * MAJOR << 20 | MINOR), so that every process and child mapping it shares
 * one table. The unwinder finds the mapping of an address with
 * bpf_find_vma, and converts the address to a row offset with the segment
 * that holds its file offset:
 *   file offset = ip - vm_start + vm_pgoff * page size
 *   pc_off      = file offset + seg.pc_bias        (mod 2^64)
 * where pc_bias = p_vaddr - p_offset - table base, for the executable
 * PT_LOAD covering [off_lo, off_hi).
 */
struct tt_unw_mod_key {
	__u64 ino;
	__u32 dev;
	__u32 pad; /* 0 */
};

/* Files with a module record at most: the BPF module map's size, and the
 * bound userspace keeps to (user/tracing/unwinder.c). */
#define TT_UNW_MAX_MODS 4096

#define TT_UNW_MAX_SEGS 4

struct tt_unw_seg {
	__u64 off_lo, off_hi;
	__u64 pc_bias;
};

/* count 0 with TT_UNW_MOD_NO_CFI: the file has no call-frame information
 * (or none we could read): its frames are walked by frame pointer. */
#define TT_UNW_MOD_NO_CFI 0x1

/*
 * The page index narrows the binary search: pages[page_first + p] is the
 * row covering pc_off p * 4096, so the row of a pc_off in page p lies in
 * [pages[p], pages[p + 1]] (the last page: up to the last row). It holds
 * absolute row indexes; npages 0: no index, the search covers all rows.
 */
#define TT_UNW_PAGE_SHIFT 12

struct tt_unw_mod {
	__u32 first; /* index of its first row in the row array */
	__u32 count; /* its rows */
	__u32 nseg;
	__u32 flags; /* TT_UNW_MOD_* */
	__u32 page_first; /* its page index in the page array */
	__u32 npages;
	struct tt_unw_seg seg[TT_UNW_MAX_SEGS];
};

/* Bits of the loader-hold map's value (per thread id): the thread may be
 * held at the dynamic linker's debugger hook; a hold is pending. */
#define TT_UNW_HOLD_ARMED 1
#define TT_UNW_HOLD_SENT 2

#endif /* TT_UNWIND_H */
