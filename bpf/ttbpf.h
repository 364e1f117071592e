/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one header shared by the BPF programs and userspace: ring-buffer
 * records, allocator kinds and limits. Only fixed-size __u32/__u64 fields, so
 * the layout is the same on both sides; userspace checks sizes with
 * _Static_assert. Every record starts with struct tt_event_hdr.
 */
#ifndef TTBPF_H
#define TTBPF_H

/* Allocator entry points, used as the uprobe attach cookie. */
enum tt_fn {
	TT_FN_MALLOC = 0,
	TT_FN_CALLOC,
	TT_FN_REALLOC,
	TT_FN_REALLOCARRAY,
	TT_FN_FREE,
	TT_FN_POSIX_MEMALIGN,
	TT_FN_ALIGNED_ALLOC,
	TT_FN_MEMALIGN,
	TT_FN_VALLOC,
	TT_FN_PVALLOC,
	/*
	 * libc functions that allocate through malloc. Probed so that their
	 * caller is frame 0 of the stack: glibc is built without frame
	 * pointers, so a walk from inside them stops at them. The nested
	 * malloc gives the size.
	 */
	TT_FN_STRDUP,
	TT_FN_STRNDUP,
	/* C++ operator new / delete, where the allocator defines its own
	 * (jemalloc, tcmalloc); glibc's libc has none: libstdc++'s call malloc */
	TT_FN_NEW,
	TT_FN_DELETE,
	TT_FN_CNT,
};

/*
 * An allocator probe's attach cookie: the enum tt_fn in bits 0-7, flags in
 * bits 8-15, and in bits 16-63 the probe's link-time address in the
 * allocator's file (0: not known), from which the BPF side tells the
 * allocator's own calls from the program's (a callback such as a C++
 * new_handler that allocates or frees while operator new is in flight).
 */
#define TT_COOKIE_FN(c)		((__u32)((c) & 0xff))
#define TT_COOKIE_VADDR(c)	((__u64)(c) >> 16)
#define TT_COOKIE_VADDR_MAX	((1ull << 48) - 1)
/* A plain uprobe on a return instruction of the function, in place of a
 * return probe: the stack pointer there is the entry's (docs/semantics.md,
 * "Exceptions through the allocator"). On the entry probe too: its call's
 * return address is never replaced by the kernel's trampoline. */
#define TT_COOKIE_AT_RET	(1ull << 8)
/* An entry probe that only counts the call (TT_CNT_UNFOLLOWED_CALLS): an
 * operator new whose returns could not all be found, which neither a return
 * probe (an exception would end the program) nor ret-site probes can follow. */
#define TT_COOKIE_COUNT_ONLY	(1ull << 9)
/* Pieces of code of the operator new forms probed at their return
 * instructions (user/elf/ret_sites.h): a call made from there is operator
 * new's own; any other, made while it is in flight, the program's. */
#define TT_NEW_CODE_MAX 32
#define TT_COOKIE(fn, flags, vaddr)                                                     \
	((__u64)(fn) | (__u64)(flags) |                                                   \
	 ((__u64)(vaddr) <= TT_COOKIE_VADDR_MAX ? (__u64)(vaddr) << 16 : 0))

enum tt_event_type {
	TT_EV_ALLOC = 1, /* an allocating call returned (success or failure) */
	TT_EV_FREE = 2,  /* free(ptr) entered with ptr != NULL */
	TT_EV_VAR = 3,   /* a TT_TRACK_VAR marker or tt_track_var() call */
	TT_EV_EXEC = 4,  /* the target exec'd: its old heap is gone */
	TT_EV_UNWIND_MISS = 5, /* a stack went through a file that has no unwind
				* table loaded yet: struct tt_unwind_miss_event */
	TT_EV_MAPS = 6,  /* the dynamic linker changed the mappings (its debugger
			  * hook ran): struct tt_event_hdr only */
	TT_EV_VAR_MOVE = 7, /* a tracked container's data pointer changed:
			     * struct tt_var_move_event */
	TT_EV_SYSMEM = 8, /* an anonymous mmap, a munmap or a brk move:
			   * struct tt_sysmem_event */
};

/* Limits */
#define TT_MAX_FRAMES 128    /* deepest user stack an allocation record carries */
#define TT_DEFAULT_FRAMES 64
#define TT_MAX_PROCS 4096    /* processes followed at once (-f) */
#define TT_MAX_CONTAINERS 16 /* tracked containers followed per process */

/* Why a captured stack ends where it does. */
enum tt_stack_end {
	TT_STACK_END_ROOT = 0,  /* the outermost frame: its return address is
				 * undefined in the CFI, or 0, or its frame pointer 0 */
	TT_STACK_END_CUT,       /* the walk cannot go on: a frame without a frame
				 * pointer (or garbage in rbp) where there is no table,
				 * a frame pointer or CFA that does not climb the stack,
				 * or the mapping changed under the walk */
	TT_STACK_END_DEPTH,     /* the depth limit */
	TT_STACK_END_FAULT,     /* the stack memory could not be read */
	TT_STACK_END_OFF,       /* stacks not captured */
	TT_STACK_END_UNSUPPORTED, /* a CFI rule the unwinder does not follow */
	TT_STACK_END_NO_TABLE,  /* the frame is in a file whose table is not loaded
				 * (yet), or in a range no CFI covers */
	TT_STACK_END_CNT,
};

struct tt_event_hdr {
	__u32 type;  /* enum tt_event_type */
	__u32 tid;   /* kernel thread id of the caller */
	__u32 tgid;  /* its process: records of followed children are told apart */
	__u32 flags; /* per type: TT_FREE_* for frees, else 0 */
	__u64 ts_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
};

/*
 * One logical allocating call, emitted at its return. realloc-style calls
 * carry the block they were given in old_ptr. entry_ns lets userspace tell a
 * block that another thread got at old_ptr after this realloc released it.
 */
struct tt_alloc_event {
	struct tt_event_hdr hdr;
	__u32 fn;     /* enum tt_fn of the outermost call */
	__u32 failed; /* 1: returned NULL / non-zero; nothing became live */
	__u64 ptr;    /* returned block (0 when failed) */
	__u64 size;   /* requested bytes (nmemb * size for calloc) */
	__u64 old_ptr; /* realloc/reallocarray input block, else 0 */
	__u64 entry_ns; /* when the outermost call was entered */
	__u32 nr_frames; /* valid entries of frames[] */
	__u32 stack_end; /* enum tt_stack_end */
	/*
	 * User stack, innermost first: frames[0] is the return address into
	 * the allocator's immediate caller. Records are variable-length: only
	 * nr_frames entries are sent.
	 */
	__u64 frames[TT_MAX_FRAMES];
};

/* Sent once per file (device and inode as the kernel names it), the first
 * time a stack meets it without a table: userspace opens the mapping through
 * /proc/TGID/map_files/VM_START-VM_END and loads its table. */
struct tt_unwind_miss_event {
	struct tt_event_hdr hdr;
	__u64 ino;
	__u32 dev;
	__u32 pad;
	__u64 vm_start, vm_end;
};

/* free() was called from the allocator's own code (glibc returning its
 * per-thread cache at thread exit, fclose, ...), not by the program. In
 * hdr.flags. */
#define TT_FREE_FROM_ALLOCATOR 0x1

struct tt_free_event {
	struct tt_event_hdr hdr;
	__u64 ptr;
};

/*
 * A variable marker. Strings are copied from the target with bounded reads
 * and always NUL-terminated (cut when longer). The site layout read from the
 * target is include/tt.h's struct tt_var_site, version 1.
 */
#define TT_VAR_NAME_LEN 64
#define TT_VAR_TYPE_LEN 96
#define TT_VAR_CATEGORY_LEN 32
#define TT_VAR_FILE_LEN 160
#define TT_VAR_FUNC_LEN 64

#define TT_VAR_FROM_FUNCTION 0x1 /* tt_track_var(): no file, line or function */
#define TT_VAR_BAD_SITE 0x2      /* the site descriptor is not one we know */
/*
 * A probe cannot fault pages in: a string (or the site) in a page the target
 * has not touched yet cannot be read from BPF. Its address is sent instead,
 * with its bit set, for userspace to read from the target's memory.
 */
#define TT_VAR_SITE_UNREAD 0x4
#define TT_VAR_STR_UNREAD(i) (0x100u << (i)) /* i: enum tt_var_str */

enum tt_var_str {
	TT_VAR_STR_NAME = 0,
	TT_VAR_STR_TYPE,
	TT_VAR_STR_CATEGORY,
	TT_VAR_STR_FILE,
	TT_VAR_STR_FUNCTION,
	TT_VAR_STR_CNT,
};

/*
 * include/tt.h's struct tt_var_site, version 1, as a 64-bit target lays it
 * out: five string pointers in enum tt_var_str order, then line and version.
 * Read by BPF, and by userspace when BPF could not.
 */
#define TT_VAR_SITE_VERSION 1

struct tt_var_site_v1 {
	__u64 str[TT_VAR_STR_CNT];
	__s32 line;
	__s32 version;
};

struct tt_var_event {
	struct tt_event_hdr hdr;
	__u64 ptr;     /* the address the variable points to */
	__u64 site_ip; /* marker address, or tt_track_var()'s return address */
	__s32 line;
	__u32 flags;   /* TT_VAR_* */
	__u64 site;    /* address of the site descriptor (0: function marker) */
	__u64 str_addr[TT_VAR_STR_CNT]; /* where each string is in the target */
	char name[TT_VAR_NAME_LEN];
	char type_name[TT_VAR_TYPE_LEN];
	char category[TT_VAR_CATEGORY_LEN]; /* "" when not given */
	char file[TT_VAR_FILE_LEN];
	char function[TT_VAR_FUNC_LEN];
	/* C++: where the container marked keeps its data pointer (the USDT
	 * marker's third argument), or 0. BPF watches it from then on. */
	__u64 container;
};

/*
 * A container's data pointer (at `container`, as a marker gave it) holds a
 * new value: it moved its elements to another buffer (a std::vector that
 * grew). Seen at the process's next allocator call or marker after the
 * store, so before any record that follows it.
 */
struct tt_var_move_event {
	struct tt_event_hdr hdr;
	__u64 container;
	__u64 old_ptr; /* the value before */
	__u64 new_ptr;
};

/*
 * Memory the allocator probes do not see, from the syscalls of a traced
 * process: anonymous mmap (its result), munmap (that succeeded), brk (that
 * moved the break). in_alloc: made inside an allocating call ttbpf traces
 * (the allocator's own: glibc's mmap for a large block, sbrk for its arena).
 */
enum tt_sysmem_kind {
	TT_SYSMEM_MMAP = 1, /* [addr, addr + len), len rounded up to pages */
	TT_SYSMEM_MUNMAP,   /* [addr, addr + len), len rounded up to pages */
	TT_SYSMEM_BRK,      /* the break moved from addr to new_brk */
};

struct tt_sysmem_event {
	struct tt_event_hdr hdr;
	__u32 kind;     /* enum tt_sysmem_kind */
	__u32 in_alloc; /* 1: inside an allocating call */
	__u64 addr;
	__u64 len;
	__u64 new_brk;
};

/* Counters kept by the BPF side, read by userspace at the end. */
enum tt_counter {
	TT_CNT_LOST_EVENTS = 0,   /* ring buffer full: record not reserved */
	TT_CNT_INFLIGHT_FULL,     /* no per-thread storage for a call (out of memory) */
	/* aggregate-only mode (--aggregate): the figures themselves */
	TT_CNT_AGG_ALLOCS,
	TT_CNT_AGG_ALLOC_BYTES,
	TT_CNT_AGG_FREES,
	TT_CNT_AGG_FREED_BYTES,
	TT_CNT_AGG_FAILED,
	TT_CNT_AGG_UNKNOWN_FREES,
	TT_CNT_AGG_INTERNAL_FREES,
	TT_CNT_AGG_BLOCKS_FULL,   /* live-block table full: block not followed */
	TT_CNT_AGG_STACKS_FULL,   /* stack table full: counted under no stack */
	TT_CNT_AGG_COLLISIONS,    /* two stacks with one hash: the second counted apart */
	TT_CNT_AGG_LIVE_BYTES,
	TT_CNT_AGG_PEAK_BYTES,    /* highest TT_CNT_AGG_LIVE_BYTES seen */
	TT_CNT_AGG_EXECS,         /* execs of the target: the generation of its heap */
	TT_CNT_AGG_EXEC_RELEASED, /* blocks of an old image dropped in BPF (the rest
				   * are dropped at collect time): not frees */
	/* the DWARF unwinder (--unwind dwarf) */
	TT_CNT_UNW_STACKS,        /* stacks it walked */
	TT_CNT_UNW_FRAMES_CFI,    /* caller frames found from a table row */
	TT_CNT_UNW_FRAMES_FP,     /* caller frames found by frame pointer (no CFI) */
	TT_CNT_UNW_VMA_BUSY,      /* mapping lookup refused (mmap lock held): cut */
	TT_CNT_UNW_MISSES,        /* tables requested from userspace */
	TT_CNT_UNW_HOLDS,         /* threads held at the dynamic linker's hook */
	TT_CNT_CONTAINERS_FULL,   /* container markers past TT_MAX_CONTAINERS in
				   * a process: named, not followed */
	TT_CNT_UNFOLLOWED_CALLS,  /* calls into an allocator function left unprobed
				   * (TT_COOKIE_COUNT_ONLY) */
	TT_CNT_SYSMEM_LOST,       /* tt_sysmem_event records not reserved (also in
				   * TT_CNT_LOST_EVENTS): stats.mapped is short */
	TT_CNT_NUM,
};

/*
 * Aggregate-only mode keeps figures per stack in BPF maps instead of
 * streaming records: for long runs that need no timeline. Stacks are keyed by
 * a hash of their frames; the frames are kept and compared, and two stacks
 * with one hash are never merged: the second is counted under
 * TT_AGG_COLLISION_STACK. TT_AGG_NO_STACK holds what had no room.
 */
#define TT_AGG_MAX_STACKS 65536
#define TT_AGG_NO_STACK 0ULL
#define TT_AGG_COLLISION_STACK 1ULL

struct tt_agg_stack {
	__u64 allocs, bytes;
	__s64 live_cnt, live_bytes;
	__u32 nr_frames, stack_end;
	__u64 frames[TT_MAX_FRAMES];
};

struct tt_agg_block {
	__u64 size;
	__u64 stack;  /* key in the stack map */
	__u64 ts_ns;
	__u32 tid;
	__u32 gen;    /* TT_CNT_AGG_EXECS when allocated: an older one is the block
		       * of an image that exec replaced, gone with it */
};

#endif /* TTBPF_H */
