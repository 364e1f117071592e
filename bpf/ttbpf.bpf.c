// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Allocator probes. One generic entry and one generic return program serve
 * every allocating function; the attach cookie says which function it is
 * (enum tt_fn). free has its own entry-only program.
 *
 * glibc calls itself (realloc(NULL, n) enters malloc, reallocarray enters
 * realloc, realloc(p, 0) enters free), and every entry hits a probe. The
 * per-thread in-flight record makes the outermost call the only one that is
 * reported: nested entries are folded into it, and frees entered by it belong
 * to it.
 *
 * A call is known by where its frame is: the stack pointer at entry (it
 * points at the return address), and the return probe sees that + 8. So a
 * call the thread left without returning (siglongjmp out of a signal handler,
 * or a return probe attached after it entered) is dropped as soon as the
 * stack is seen above it, and an allocation made by a signal handler that
 * interrupted a call (its frame lies below the kernel's signal frame, more
 * than NEST_SPAN_BYTES deeper) is a call of its own.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include "ttbpf.h"
#include "unwind.h"

/* GPL-compatible, as the kernel requires for bpf_probe_read_user and friends */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by userspace before load. */
const volatile __u64 wakeup_bytes = 0; /* 0: wake the reader on every record */
/* Link-time addresses in the allocator's file: the free probe, and the
 * executable segment. The load bias cancels out, so no maps are needed. */
const volatile __u64 lib_text_lo = 0, lib_text_hi = 0;
/* [lo, hi) link-time addresses of operator new's code (TT_NEW_CODE_MAX) */
const volatile __u64 new_code_lo[TT_NEW_CODE_MAX] = {}, new_code_hi[TT_NEW_CODE_MAX] = {};
const volatile __u32 new_code_cnt = 0;
const volatile __u32 max_frames = TT_DEFAULT_FRAMES; /* 0: no stacks */
const volatile bool aggregate = false; /* keep figures in maps, send no records */
/* A frame pointer is believed only within this distance above the stack
 * pointer: thread stacks are 8 MiB by default. */
const volatile __u64 stack_span = 8 << 20;
const volatile bool unwind_dwarf = false; /* --unwind dwarf: walk the unwind tables */
const volatile __u64 page_size = 4096;

/*
 * glibc's own nesting is shallow: realloc(NULL, n) jumps to malloc (same
 * stack pointer), strdup's malloc is 32 bytes deeper, realloc(p, 0)'s free 96
 * (glibc 2.36). A signal handler's frame is below the interrupted sp, a
 * 128-byte red zone and the kernel's signal frame (ucontext, siginfo and the
 * FPU state: over 1 KiB on x86-64).
 */
#define NEST_SPAN_BYTES 512
/* Calls in flight at once on one thread: one, plus one per signal handler
 * that allocates while another call is in flight (nested handlers). */
#define INFLIGHT_MAX 4

/* An allocating call a thread is in. */
struct inflight_call {
	__u64 entry_ns;
	__u64 size;
	__u64 old_ptr;
	__u64 memptr; /* posix_memalign's void ** */
	__u64 sp;     /* at entry: where the return address is */
	__u64 ret;    /* the return address the caller left there */
	__u32 fn;
	__u32 depth;  /* entries at this very sp: glibc's tail calls */
	__u32 at_ret; /* its returns are uprobes on ret instructions
		       * (TT_COOKIE_AT_RET), its return address the caller's */
	__u32 pad;
};

/* The calls in flight, innermost last. */
struct inflight {
	struct inflight_call c[INFLIGHT_MAX];
	__u32 cnt;
	__u32 pad;
	/* the last operator delete entered: jemalloc's jumps to free */
	__u64 del_ptr, del_sp;
};

/* Task storage: found through the task itself, no hashing and no table to
 * fill; freed with the thread. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} inflight SEC(".maps");

static __always_inline struct inflight *inflight_of_current(bool create)
{
	return bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24); /* resized by userspace before load */
} events SEC(".maps");

/*
 * Allocation records are built here, then sent with only the used frames.
 * Per task, not per CPU: uprobe programs run with migration disabled but
 * may be preempted, so two threads on one CPU would share a per-CPU buffer.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tt_alloc_event);
} scratch SEC(".maps");

/* Aggregate-only mode: figures per stack, and the live blocks they own.
 * Sized by userspace; no memory is taken until entries exist. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct tt_agg_stack);
} agg_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct tt_agg_block);
} agg_live SEC(".maps");

/* A new stack entry is built here before it is inserted (per task: see
 * scratch). */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tt_agg_stack);
} agg_scratch SEC(".maps");

/* Read by userspace through the skeleton's .bss. */
__u64 counters[TT_CNT_NUM];

static __always_inline void count(enum tt_counter c)
{
	__sync_fetch_and_add(&counters[c], 1);
}

/* A record's header, for the calling thread (id: bpf_get_current_pid_tgid) */
static __always_inline void fill_hdr(struct tt_event_hdr *h, __u32 type, __u64 id)
{
	h->type = type;
	h->tid = (__u32)id;
	h->tgid = id >> 32;
	h->flags = 0;
	h->ts_ns = bpf_ktime_get_ns();
}

static __always_inline void count_n(enum tt_counter c, __u64 n)
{
	__sync_fetch_and_add(&counters[c], n);
}

/*
 * Waking the reader costs the traced thread a wake-up per record; let data
 * pile up to wakeup_bytes and rely on the reader's poll timeout otherwise.
 */
static __always_inline __u64 wake_flags(void)
{
	if (!wakeup_bytes)
		return 0;
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* a * b, or ~0 when it overflows (the call then fails, as glibc's does) */
static __always_inline __u64 mul_size(__u64 a, __u64 b)
{
	__u64 limit;

	if (!((a | b) >> 32))
		return a * b;
	if (!a)
		return 0;
	limit = ~0ULL / a;
	/* keep clang from turning the check into a 128-bit multiply BPF lacks */
	asm volatile("" : "+r"(limit));
	return b > limit ? ~0ULL : a * b;
}

static __always_inline struct inflight_call *inflight_top(struct inflight *f)
{
	return &f->c[(f->cnt - 1) & (INFLIGHT_MAX - 1)];
}

/*
 * Drops the calls whose frames the stack has left: sp (a new entry's) is at
 * or above theirs. Returns true when this entry is glibc's tail call into
 * another allocating function (realloc(NULL, n) jumps to malloc, reallocarray
 * to realloc): the same sp, and the return address there is no longer the one
 * the caller left (the return probe replaced it), so this is the call in
 * flight going on, not a new call from the same frame.
 */
static __always_inline bool inflight_unwind(struct inflight *f, __u64 sp, __u64 ret, __u32 fn)
{
	struct inflight_call *t;
	__u32 i;

	for (i = 0; i < INFLIGHT_MAX; i++) {
		if (!f->cnt)
			break;
		t = inflight_top(f);
		if (sp < t->sp)
			break; /* deeper: inside it */
		if (sp - t->sp > stack_span)
			break; /* another stack (sigaltstack) */
		if (sp == t->sp && !t->at_ret && ret != t->ret &&
		    (fn == TT_FN_MALLOC || fn == TT_FN_REALLOC)) {
			t->depth++;
			return true;
		}
		f->cnt--;
	}
	return false;
}

/*
 * Tracked C++ containers (a marker's third argument): where each keeps its
 * data pointer, and the value last seen there. A std::vector that grows
 * allocates the new buffer, frees the old one, then stores the new pointer;
 * the store is seen at the process's next allocator call or marker, and
 * sent before that call's own record, so userspace follows the variable to
 * the new buffer in order. Per process; nothing is read until the first
 * container marker (containers_seen).
 */
struct containers {
	__u64 slot[TT_MAX_CONTAINERS];
	__u64 last[TT_MAX_CONTAINERS];
	__u32 cnt;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TT_MAX_PROCS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct containers);
} containers SEC(".maps");

__u32 containers_seen;

static __always_inline void container_moved(__u64 id, __u64 slot, __u64 old_ptr, __u64 new_ptr)
{
	struct tt_var_move_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(TT_CNT_LOST_EVENTS);
		return;
	}
	fill_hdr(&e->hdr, TT_EV_VAR_MOVE, id);
	e->container = slot;
	e->old_ptr = old_ptr;
	e->new_ptr = new_ptr;
	bpf_ringbuf_submit(e, wake_flags());
}

static __always_inline void check_containers(void)
{
	__u64 id, v;
	__u32 tgid, i;
	struct containers *c;

	if (!containers_seen)
		return;
	id = bpf_get_current_pid_tgid();
	tgid = id >> 32;
	c = bpf_map_lookup_elem(&containers, &tgid);
	if (!c)
		return;
	for (i = 0; i < TT_MAX_CONTAINERS; i++) {
		if (i >= c->cnt)
			break;
		if (bpf_probe_read_user(&v, sizeof(v), (const void *)c->slot[i]))
			continue; /* gone (a stack unmapped) or not faulted in */
		if (v == c->last[i])
			continue;
		container_moved(id, c->slot[i], c->last[i], v);
		c->last[i] = v;
	}
}

/* A container marker: watch its data pointer (data: its value now). */
static __always_inline void container_watch(__u64 slot, __u64 data)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, i;
	struct containers *c, zero = {};

	c = bpf_map_lookup_elem(&containers, &tgid);
	if (!c) {
		bpf_map_update_elem(&containers, &tgid, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&containers, &tgid);
		if (!c)
			return;
	}
	for (i = 0; i < TT_MAX_CONTAINERS; i++) {
		if (i >= c->cnt)
			break;
		if (c->slot[i] == slot) {
			c->last[i] = data;
			return;
		}
	}
	if (c->cnt >= TT_MAX_CONTAINERS) {
		count(TT_CNT_CONTAINERS_FULL);
		return;
	}
	i = c->cnt;
	if (i < TT_MAX_CONTAINERS) {
		c->slot[i] = slot;
		c->last[i] = data;
		c->cnt = i + 1;
	}
	containers_seen = 1;
}

/*
 * Whether the call a probe's ctx is at was made by the allocator's own code:
 * the return address ret, in the allocator's file, is in its text. The load
 * bias is where the probe is (the IP) less where the cookie says it is in the
 * file. 1 yes, 0 no (the program's: a callback of the allocator, a signal
 * handler), -1 cannot tell.
 */
static __always_inline int called_by_allocator(struct pt_regs *ctx, __u64 cookie, __u64 ret)
{
	__u64 vaddr = TT_COOKIE_VADDR(cookie), caller;

	if (!lib_text_hi || !vaddr)
		return -1;
	caller = ret - PT_REGS_IP(ctx) + vaddr;
	return caller >= lib_text_lo && caller < lib_text_hi;
}

/*
 * Whether a call entered while t is in flight, with return address ret, is
 * part of t. Inside operator new (t->at_ret) only a call from operator new's
 * own code is: the new_handler and the C++ runtime's throw are in the same
 * file in a static executable, and an exception may have left t without a
 * return. Elsewhere, any call from the allocator's text.
 */
static __always_inline bool nested_in(struct pt_regs *ctx, const struct inflight_call *t,
				      __u64 cookie, __u64 ret)
{
	__u64 vaddr = TT_COOKIE_VADDR(cookie), caller;
	__u32 i;

	if (!t->at_ret || !vaddr)
		return called_by_allocator(ctx, cookie, ret) != 0;
	caller = ret - PT_REGS_IP(ctx) + vaddr;
	for (i = 0; i < TT_NEW_CODE_MAX; i++) {
		if (i >= new_code_cnt)
			break;
		if (caller >= new_code_lo[i] && caller < new_code_hi[i])
			return true;
	}
	return false;
}

SEC("uprobe")
int BPF_KPROBE(alloc_enter, __u64 a0, __u64 a1, __u64 a2)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 fn = TT_COOKIE_FN(cookie), i;
	__u64 sp = PT_REGS_SP(ctx), ret = 0;
	struct inflight_call *t, n = {};
	struct inflight *f;

	if (cookie & TT_COOKIE_COUNT_ONLY) {
		count(TT_CNT_UNFOLLOWED_CALLS);
		return 0;
	}

	if (!aggregate)
		check_containers();
	f = inflight_of_current(true);
	if (!f) {
		count(TT_CNT_INFLIGHT_FULL);
		return 0;
	}
	bpf_probe_read_user(&ret, sizeof(ret), (void *)sp);
	if (inflight_unwind(f, sp, ret, fn))
		return 0;
	if (f->cnt) {
		t = inflight_top(f);
		/* t->sp > sp here, or far below it on another stack; a call
		 * the program makes from inside t (jemalloc's operator new
		 * calls the new_handler) is its own */
		if (t->sp - sp < NEST_SPAN_BYTES && nested_in(ctx, t, cookie, ret)) {
			/* strdup(s) is malloc(strlen(s) + 1) inside: that is its size */
			if ((t->fn == TT_FN_STRDUP || t->fn == TT_FN_STRNDUP) && fn == TT_FN_MALLOC)
				t->size = a0;
			return 0;
		}
	}

	n.fn = fn;
	n.depth = 1;
	n.at_ret = !!(cookie & TT_COOKIE_AT_RET);
	n.sp = sp;
	n.ret = ret;
	n.entry_ns = bpf_ktime_get_ns();
	switch (n.fn) {
	case TT_FN_MALLOC:
	case TT_FN_VALLOC:
	case TT_FN_PVALLOC:
	case TT_FN_NEW:
		n.size = a0;
		break;
	case TT_FN_CALLOC:
		n.size = mul_size(a0, a1);
		break;
	case TT_FN_REALLOC:
		n.old_ptr = a0;
		n.size = a1;
		break;
	case TT_FN_REALLOCARRAY:
		n.old_ptr = a0;
		n.size = mul_size(a1, a2);
		break;
	case TT_FN_POSIX_MEMALIGN:
		n.memptr = a0;
		n.size = a2;
		break;
	case TT_FN_ALIGNED_ALLOC:
	case TT_FN_MEMALIGN:
		n.size = a1;
		break;
	case TT_FN_STRDUP:
	case TT_FN_STRNDUP:
		n.size = 0; /* known at the nested malloc */
		break;
	default:
		return 0;
	}
	if (f->cnt >= INFLIGHT_MAX) {
		/* handlers nested deeper than this: the outermost call is given up */
		count(TT_CNT_INFLIGHT_FULL);
		for (i = 0; i + 1 < INFLIGHT_MAX; i++)
			f->c[i] = f->c[i + 1];
		f->cnt = INFLIGHT_MAX - 1;
	}
	f->c[f->cnt & (INFLIGHT_MAX - 1)] = n;
	f->cnt++;
	return 0;
}

/*
 * The DWARF unwinder (--unwind dwarf). Userspace builds one table per file
 * (user/elf/unwind_table.c, rows as bpf/unwind.h describes them) and loads the
 * rows into unw_rows and where each file's rows are into unw_mods. Per frame:
 * the mapping of the address (bpf_find_vma: the kernel's own table of the
 * process's mappings, exact under dlopen and dlclose and shared by every
 * process), its file's module record, a binary search of its rows, then CFA,
 * return address and rbp by the row's rule. A file without CFI is walked by
 * frame pointer, as is code in no file (JIT); a file whose table is not
 * loaded yet ends the stack ("no-table") and asks userspace for it once.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* sized by userspace */
	__type(key, __u32);
	__type(value, struct tt_unw_row_slot);
} unw_rows SEC(".maps");

/* The page indexes of all tables (struct tt_unw_mod). 64-bit values: an
 * array map's elements are 8-byte aligned, and its mmap must be an array. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* sized by userspace */
	__type(key, __u32);
	__type(value, __u64);
} unw_pages SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TT_UNW_MAX_MODS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tt_unw_mod_key);
	__type(value, struct tt_unw_mod);
} unw_mods SEC(".maps");

/* Files asked for once already: the request is not repeated. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TT_UNW_MAX_MODS);
	__type(key, struct tt_unw_mod_key);
	__type(value, __u8);
} unw_asked SEC(".maps");

/* Threads that may be held at the dynamic linker's hook (TT_UNW_HOLD_*):
 * ptraced ones only, whose stop userspace absorbs. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u32);
} unw_hold SEC(".maps");

/*
 * Mappings a thread's walks have resolved (range, and the module's rows or
 * frame-pointer walk), so that the next stacks through them skip
 * bpf_find_vma and the module lookup. An entry holds while the process's
 * mm_lock_seq (a count the kernel bumps at every write lock of its
 * mappings: mmap, munmap, mprotect) is what it was when the entry was
 * made: then no mapping has changed since, and the entry is exact. Per
 * thread: no entry is ever read while another thread writes it.
 *
 * bpf_find_vma only try-locks the mmap lock, and fails while another
 * thread maps or unmaps (glibc growing an arena, a large block) or
 * khugepaged collapses pages: a stack then goes on with an entry of this
 * thread's, or of its main thread's, that holds the address, whatever its
 * count (then a mapping replaced by another file at the very same range
 * would be read with the wrong table; the entry's module must still be
 * loaded, with the same rows).
 */
/* Where a frame's address is: its mapping, and how to walk it. */
struct unw_where {
	__u64 vm_start, vm_end; /* the mapping */
	__u64 pc_bias;		/* pc_off = ip + pc_bias */
	struct tt_unw_mod_key key; /* UNW_MOD_TABLE: its file */
	__u32 first, count;	/* UNW_MOD_TABLE: its rows */
	__u32 page_first, npages; /* and their page index */
	__u32 mod;		/* UNW_MOD_* */
	__u32 pad;
};

#define UNW_VMA_CACHE 8

struct unw_vma {
	struct unw_where w;
	__u32 seq;  /* mm_lock_seq when it was resolved; 1 (odd): being written */
	__u32 pad;
};

struct unw_vma_cache {
	struct unw_vma v[UNW_VMA_CACHE];
	__u32 next;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct unw_vma_cache);
} unw_vmas SEC(".maps");

#define UNW_MOD_NONE 0	   /* no mapping looked up yet */
#define UNW_MOD_TABLE 1	   /* rows [first, first + count) */
#define UNW_MOD_FP 2	   /* no CFI, or not a file: walk by frame pointer */
#define UNW_MOD_MISSING 3  /* a file whose table is not loaded */
#define UNW_SEARCH_STEPS 24 /* 2^24 rows: more than userspace ever loads */

struct unw_state {
	__u64 ip, sp, bp;
	__u64 sp0;		/* the first frame's sp: stack_span is from it */
	struct unw_where w;	/* of the mapping last looked up */
	__u32 end;		/* enum tt_stack_end, once it ends */
	__u32 cfi, fp;		/* caller frames by each method */
	bool bp_known;
};

/* What bpf_find_vma's callback found (on unw_step's own stack, as the
 * helper wants its context). */
struct unw_found {
	__u64 vm_start, vm_end;
	__u64 file_off;		/* the mapping's file offset */
	struct tt_unw_mod_key key;
	bool is_exec;		/* the mapping is executable */
	bool is_file;		/* and a file's */
};

static long unw_vma_cb(struct task_struct *task, struct vm_area_struct *vma, struct unw_found *f)
{
	struct file *file = vma->vm_file;

	f->vm_start = vma->vm_start;
	f->vm_end = vma->vm_end;
	f->is_exec = vma->vm_flags & 0x4 /* VM_EXEC */;
	f->is_file = file && f->is_exec;
	if (f->is_file) {
		f->key.ino = BPF_CORE_READ(file, f_inode, i_ino);
		f->key.dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
		f->key.pad = 0;
		f->file_off = vma->vm_pgoff * page_size;
	}
	return 0;
}

/* The process's mm_lock_seq, odd while its mappings are write-locked; 1
 * (odd: the cache is not used) where the kernel has no such seqcount
 * (before 6.13 it was a plain count bumped at unlock, or absent). */
static __always_inline __u32 unw_mm_seq(struct task_struct *task)
{
	struct mm_struct *mm = task->mm;

	if (!mm || !bpf_core_field_exists(mm->mm_lock_seq.sequence))
		return 1;
	return BPF_CORE_READ(mm, mm_lock_seq.sequence);
}


/* An entry of c holding pc: with seq, one still exact; with 0 (the lock
 * was busy), any complete one whose module is loaded as it was. */
static __always_inline bool unw_vma_find(struct unw_state *st, struct unw_vma_cache *c, __u64 pc,
					 __u32 seq)
{
	struct tt_unw_mod *m;
	__u32 i;

	for (i = 0; i < UNW_VMA_CACHE; i++) {
		struct unw_vma *v = &c->v[i];

		if (pc < v->w.vm_start || pc >= v->w.vm_end)
			continue;
		if (seq) {
			if (v->seq != seq)
				continue;
		} else {
			if (v->seq & 1)
				continue;
			if (v->w.mod == UNW_MOD_TABLE) {
				m = bpf_map_lookup_elem(&unw_mods, &v->w.key);
				if (!m || m->first != v->w.first || m->count != v->w.count)
					continue;
			}
		}
		st->w = v->w;
		return true;
	}
	return false;
}

static __always_inline void unw_vma_remember(struct unw_vma_cache *c, const struct unw_state *st,
					     __u32 seq)
{
	struct unw_vma *v = &c->v[c->next++ & (UNW_VMA_CACHE - 1)];

	v->seq = 1;
	v->w = st->w;
	v->seq = seq;
}

/* The module of st->ip - 1, looked up again only when it leaves the mapping
 * looked up last. Returns false when the stack ends (st->end set). */
static __always_inline bool unw_find_module(struct unw_state *st, struct unw_found *f)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pc = st->ip - 1, off;
	struct unw_vma_cache *c;
	struct tt_unw_mod *m;
	__u32 i, seq;
	long err;

	if (st->w.mod != UNW_MOD_NONE && pc >= st->w.vm_start && pc < st->w.vm_end)
		return true;
	seq = unw_mm_seq(task);
	c = bpf_task_storage_get(&unw_vmas, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (c && !(seq & 1) && unw_vma_find(st, c, pc, seq))
		return true;
	err = bpf_find_vma(task, pc, unw_vma_cb, f, 0);
	if (err == -16 /* EBUSY */) {
		struct unw_vma_cache *lc;

		if (c && unw_vma_find(st, c, pc, 0))
			return true;
		lc = bpf_task_storage_get(&unw_vmas, task->group_leader, 0, 0);
		if (lc && unw_vma_find(st, lc, pc, 0))
			return true;
		count(TT_CNT_UNW_VMA_BUSY);
	}
	st->w.vm_start = f->vm_start;
	st->w.vm_end = f->vm_end;
	if (err || !f->vm_end) {
		st->w.mod = UNW_MOD_NONE;
		st->end = TT_STACK_END_CUT; /* not in a mapping: garbage */
		return false;
	}
	if (!f->is_exec) {
		/* a return address into data: garbage */
		st->w.mod = UNW_MOD_NONE;
		st->end = TT_STACK_END_CUT;
		return false;
	}
	if (!f->is_file) {
		st->w.mod = UNW_MOD_FP; /* JIT code, [vdso], [uprobes] */
		goto found;
	}
	st->w.key = f->key;
	m = bpf_map_lookup_elem(&unw_mods, &f->key);
	if (!m) {
		__u8 one = 1;

		st->w.mod = UNW_MOD_MISSING;
		if (!bpf_map_update_elem(&unw_asked, &f->key, &one, BPF_NOEXIST)) {
			struct tt_unwind_miss_event *e;
			__u64 id = bpf_get_current_pid_tgid();

			count(TT_CNT_UNW_MISSES);
			e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
			if (e) {
				e->hdr.type = TT_EV_UNWIND_MISS;
				e->hdr.tid = (__u32)id;
				e->hdr.tgid = id >> 32;
				e->hdr.flags = 0;
				e->hdr.ts_ns = bpf_ktime_get_ns();
				e->ino = f->key.ino;
				e->dev = f->key.dev;
				e->pad = 0;
				e->vm_start = st->w.vm_start;
				e->vm_end = st->w.vm_end;
				bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
			} else {
				/* asked again by the next stack through it */
				bpf_map_delete_elem(&unw_asked, &f->key);
				count(TT_CNT_LOST_EVENTS);
			}
		}
		return true;
	}
	if (m->flags & TT_UNW_MOD_NO_CFI) {
		st->w.mod = UNW_MOD_FP;
		goto found;
	}
	st->w.mod = UNW_MOD_MISSING; /* unless a segment holds the mapping's start */
	off = f->file_off;
	for (i = 0; i < TT_UNW_MAX_SEGS; i++) {
		if (i >= m->nseg)
			break;
		if (off >= m->seg[i].off_lo && off < m->seg[i].off_hi) {
			st->w.pc_bias = off - st->w.vm_start + m->seg[i].pc_bias;
			st->w.first = m->first;
			st->w.count = m->count;
			st->w.page_first = m->page_first;
			st->w.npages = m->npages;
			st->w.mod = UNW_MOD_TABLE;
			break;
		}
	}
	if (st->w.mod != UNW_MOD_TABLE)
		return true;
found:
	if (c)
		unw_vma_remember(c, st, seq);
	return true;
}

static __always_inline const struct tt_unwind_row *unw_row(__u32 i)
{
	__u32 slot = i / TT_UNW_ROWS_PER_SLOT;
	struct tt_unw_row_slot *s = bpf_map_lookup_elem(&unw_rows, &slot);

	return s ? &s->r[i & 1] : NULL;
}

/* The row covering pc_off: the last with row.pc_off <= pc_off. A plain
 * loop: it runs inside unw_step, which the verifier checks once. */
static __always_inline const struct tt_unwind_row *unw_find_row(const struct unw_state *st, __u64 pc_off)
{
	__u32 lo = st->w.first, hi = st->w.first + st->w.count, mid, i, page;
	__u64 *a, *b;
	const struct tt_unwind_row *r;

	if (!st->w.count || pc_off >> 32)
		return NULL;
	if (st->w.npages) {
		page = (__u32)(pc_off >> TT_UNW_PAGE_SHIFT);
		if (page >= st->w.npages)
			page = st->w.npages - 1;
		page += st->w.page_first;
		a = bpf_map_lookup_elem(&unw_pages, &page);
		if (a && *a >= lo && *a < hi)
			lo = *a;
		page++;
		b = page < st->w.page_first + st->w.npages ? bpf_map_lookup_elem(&unw_pages, &page) : NULL;
		if (b && *b + 1 > lo && *b + 1 < hi)
			hi = *b + 1;
	}
	for (i = 0; i < UNW_SEARCH_STEPS && hi - lo > 1; i++) {
		mid = lo + (hi - lo) / 2;
		r = unw_row(mid);
		if (!r)
			return NULL;
		if (r->pc_off <= (__u32)pc_off)
			lo = mid;
		else
			hi = mid;
	}
	r = unw_row(lo);
	return r && r->pc_off <= (__u32)pc_off ? r : NULL;
}

/* A word of the stack at addr, which must lie above sp and within the span. */
static __always_inline bool unw_read(const struct unw_state *st, __u64 addr, __u64 *out)
{
	if (addr < st->sp || addr - st->sp0 > stack_span)
		return false;
	return !bpf_probe_read_user(out, sizeof(*out), (void *)addr);
}

/* One caller by frame pointer, with walk_stack's checks. */
static __always_inline bool unw_fp_step(struct unw_state *st)
{
	struct { __u64 next_fp, ret; } frame;

	if (!st->bp_known) {
		st->end = TT_STACK_END_CUT;
		return false;
	}
	if (!st->bp) {
		st->end = TT_STACK_END_ROOT;
		return false;
	}
	if ((st->bp & 7) || st->bp < st->sp || st->bp - st->sp0 > stack_span) {
		st->end = TT_STACK_END_CUT;
		return false;
	}
	if (bpf_probe_read_user(&frame, sizeof(frame), (void *)st->bp)) {
		st->end = TT_STACK_END_FAULT;
		return false;
	}
	if (!frame.ret) {
		st->end = TT_STACK_END_ROOT;
		return false;
	}
	st->sp = st->bp + 16;
	st->ip = frame.ret;
	st->bp = frame.next_fp;
	st->fp++;
	return true;
}

/* One caller from the row covering st->ip - 1. */
static __always_inline bool unw_cfi_step(struct unw_state *st)
{
	const struct tt_unwind_row *r;
	__u64 cfa, ra, bp;
	__u32 kind;

	r = unw_find_row(st, st->ip - 1 + st->w.pc_bias);
	kind = r ? tt_unw_kind(r) : TT_UNW_NO_INFO;
	switch (kind) {
	case TT_UNW_CFA_RSP:
		cfa = st->sp + r->cfa_off;
		break;
	case TT_UNW_CFA_RBP:
		if (!st->bp_known) {
			st->end = TT_STACK_END_UNSUPPORTED;
			return false;
		}
		cfa = st->bp + r->cfa_off;
		break;
	case TT_UNW_CFA_PLT11:
		cfa = st->sp + r->cfa_off + ((st->ip & 15) >= 11 ? 8 : 0);
		break;
	case TT_UNW_CFA_PLT10:
		cfa = st->sp + r->cfa_off + ((st->ip & 15) >= 10 ? 8 : 0);
		break;
	case TT_UNW_ROOT:
		st->end = TT_STACK_END_ROOT;
		return false;
	case TT_UNW_NO_INFO:
		st->end = TT_STACK_END_NO_TABLE;
		return false;
	default:
		st->end = TT_STACK_END_UNSUPPORTED;
		return false;
	}
	/* the caller's frame is above this one: anything else is garbage */
	if (cfa <= st->sp || (cfa & 7)) {
		st->end = TT_STACK_END_CUT;
		return false;
	}
	if (!unw_read(st, cfa - 8, &ra)) {
		st->end = TT_STACK_END_FAULT;
		return false;
	}
	switch (tt_unw_rbp(r)) {
	case TT_UNW_RBP_SAME:
		break;
	case TT_UNW_RBP_AT_CFA:
		if (!unw_read(st, cfa + tt_unw_rbp_off(r), &bp)) {
			st->end = TT_STACK_END_FAULT;
			return false;
		}
		st->bp = bp;
		st->bp_known = true;
		break;
	default:
		st->bp_known = false;
		break;
	}
	st->sp = cfa;
	st->ip = ra;
	st->cfi++;
	if (!ra) {
		st->end = TT_STACK_END_ROOT;
		return false;
	}
	return true;
}

/*
 * One caller frame: true when st now holds it. A global function: the
 * verifier checks it once, on its own, with st's contents unknown, instead
 * of along every path of every iteration of the frame loop (0.74 s of
 * verification before, at each start).
 */
__noinline int unw_step(struct unw_state *st)
{
	struct unw_found f = {};

	/* a global function is verified even where nothing calls it: with
	 * --unwind fp (and on kernels without bpf_find_vma) the constant makes
	 * the rest dead code, never checked */
	if (!unwind_dwarf || !st)
		return 0;
	if (!unw_find_module(st, &f))
		return 0;
	if (st->w.mod == UNW_MOD_MISSING) {
		st->end = TT_STACK_END_NO_TABLE;
		return 0;
	}
	return st->w.mod == UNW_MOD_TABLE ? unw_cfi_step(st) : unw_fp_step(st);
}

/* The frame loop's context: the walk, and the record its frames go in (a
 * pointer the verifier keeps track of on the stack; unw_step gets only st). */
struct unw_walk {
	struct unw_state st;
	struct tt_alloc_event *e;
};

static long unw_frame_cb(__u32 i, struct unw_walk *w)
{
	struct tt_alloc_event *e = w->e;
	__u32 n;

	if (!unw_step(&w->st))
		return 1;
	if (!e)
		return 1;
	/*
	 * The count lives in the record, not in st: the verifier tracks what
	 * is on the stack exactly, and an index it must bound would make each
	 * iteration a state of its own (128 of them, 0.7 s of verification).
	 */
	n = e->nr_frames;
	if (n >= TT_MAX_FRAMES)
		return 1;
	e->frames[n & (TT_MAX_FRAMES - 1)] = w->st.ip;
	e->nr_frames = n + 1;
	return 0;
}

/*
 * The registers just after the allocator returned into its caller: at a
 * return probe, ctx's own; at a uprobe on a ret instruction, the return
 * address is still at sp (rbp is already the caller's there).
 */
struct caller_regs {
	__u64 ip, sp, fp;
};

static __always_inline void caller_regs_of(struct pt_regs *ctx, bool at_ret,
					   struct caller_regs *r)
{
	r->ip = PT_REGS_IP(ctx);
	r->sp = PT_REGS_SP(ctx);
	r->fp = PT_REGS_FP(ctx);
	if (!at_ret)
		return;
	if (bpf_probe_read_user(&r->ip, sizeof(r->ip), (void *)r->sp))
		r->ip = 0;
	r->sp += 8;
}

/* The DWARF walk from the allocator's return (see unw_rows above). */
static __always_inline void unwind_stack(const struct caller_regs *r, struct tt_alloc_event *e)
{
	struct unw_walk w = {
		.st = {
			.ip = r->ip, .sp = r->sp, .bp = r->fp,
			.sp0 = r->sp, .bp_known = true, .end = TT_STACK_END_DEPTH,
		},
		.e = e,
	};
	__u32 steps = max_frames < TT_MAX_FRAMES ? max_frames : TT_MAX_FRAMES;

	e->frames[0] = w.st.ip;
	e->nr_frames = 1;
	if (steps > 1)
		bpf_loop(steps - 1, unw_frame_cb, &w, 0);
	e->stack_end = w.st.end;
	count(TT_CNT_UNW_STACKS);
	count_n(TT_CNT_UNW_FRAMES_CFI, w.st.cfi);
	if (w.st.fp)
		count_n(TT_CNT_UNW_FRAMES_FP, w.st.fp);
}

/*
 * Walks the frame-pointer chain from the allocator's return into its caller.
 * bpf_get_stack would fault on the garbage that code built without frame
 * pointers leaves in rbp (~4.8 us a call here); a frame pointer is followed
 * only if it is aligned, above the previous one and within the thread's
 * stack, so the walk stops before reading garbage and costs ~0.1 us.
 */
static __always_inline void walk_stack(const struct caller_regs *r, struct tt_alloc_event *e)
{
	__u64 sp = r->sp, fp = r->fp, prev = sp;
	struct { __u64 next_fp, ret; } frame;
	__u32 i, n = 1;

	if (!max_frames) {
		e->nr_frames = 0;
		e->stack_end = TT_STACK_END_OFF;
		return;
	}
	if (unwind_dwarf) {
		unwind_stack(r, e);
		return;
	}
	e->frames[0] = r->ip;
	e->stack_end = TT_STACK_END_DEPTH;
	for (i = 1; i < TT_MAX_FRAMES; i++) {
		if (i >= max_frames)
			break;
		if (!fp) {
			e->stack_end = TT_STACK_END_ROOT;
			break;
		}
		if ((fp & 7) || fp < prev || fp - sp > stack_span) {
			e->stack_end = TT_STACK_END_CUT;
			break;
		}
		if (bpf_probe_read_user(&frame, sizeof(frame), (void *)fp)) {
			e->stack_end = TT_STACK_END_FAULT;
			break;
		}
		if (!frame.ret) {
			e->stack_end = TT_STACK_END_ROOT;
			break;
		}
		e->frames[i & (TT_MAX_FRAMES - 1)] = frame.ret;
		n = i + 1;
		prev = fp + 16;
		fp = frame.next_fp;
	}
	e->nr_frames = n;
}

/* One compare-and-swap: a concurrent update may win, and it is then the
 * one at the peak unless both raced at the very top. */
static __always_inline void note_peak(__u64 live)
{
	__u64 peak = counters[TT_CNT_AGG_PEAK_BYTES];

	if (live > peak)
		__sync_val_compare_and_swap(&counters[TT_CNT_AGG_PEAK_BYTES], peak, live);
}

/*
 * Aggregate mode: the generation of the target's heap, bumped at each exec
 * (agg_on_exec). A block of an earlier one belongs to an image that exec
 * replaced: it stopped being live at the exec, and stays in agg_live only
 * until it is met again at its address (agg_drop_stale) or read at the end
 * (user/tracing/aggregate.c drops it there). A .bss load: no map lookup.
 */
static __always_inline bool agg_stale(const struct tt_agg_block *b)
{
	return b->gen != (__u32)counters[TT_CNT_AGG_EXECS];
}

/* A block of a replaced image met at its address: dropped, counted once as
 * released by the exec (its stack's and the live figures dropped then). */
static __always_inline void agg_drop_stale(__u64 ptr)
{
	if (!bpf_map_delete_elem(&agg_live, &ptr))
		count(TT_CNT_AGG_EXEC_RELEASED);
}

/* Aggregate mode: a live block b, found at ptr, stops being live. */
static __always_inline void agg_release_block(__u64 ptr, const struct tt_agg_block *b)
{
	struct tt_agg_stack *s;
	__u64 stack = b->stack, size = b->size;

	bpf_map_delete_elem(&agg_live, &ptr);
	count(TT_CNT_AGG_FREES);
	count_n(TT_CNT_AGG_FREED_BYTES, size);
	__sync_fetch_and_add(&counters[TT_CNT_AGG_LIVE_BYTES], -size);
	s = bpf_map_lookup_elem(&agg_stacks, &stack);
	if (s) {
		__sync_fetch_and_add(&s->live_cnt, -1);
		__sync_fetch_and_add(&s->live_bytes, -(__s64)size);
	}
}

/* Aggregate mode: the program released ptr. A block of a replaced image is
 * not there any more (streaming mode's reader dropped it at the exec): the
 * release is of an unknown block, as there. */
static __always_inline void agg_release(__u64 ptr, bool from_allocator)
{
	struct tt_agg_block *b = bpf_map_lookup_elem(&agg_live, &ptr);

	if (b && agg_stale(b)) {
		agg_drop_stale(ptr);
		b = NULL;
	}
	if (!b) {
		count(from_allocator ? TT_CNT_AGG_INTERNAL_FREES : TT_CNT_AGG_UNKNOWN_FREES);
		return;
	}
	agg_release_block(ptr, b);
}

static __always_inline __u64 hash_frames(const struct tt_alloc_event *e)
{
	__u64 h = 0x9E3779B97F4A7C15ULL ^ ((__u64)e->nr_frames << 32 | e->stack_end);
	__u32 i;

	for (i = 0; i < TT_MAX_FRAMES; i++) {
		if (i >= e->nr_frames)
			break;
		h ^= e->frames[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 33;
	}
	/* 0 and 1 name the no-stack and collision entries */
	return h > TT_AGG_COLLISION_STACK ? h : h + 2;
}

static __always_inline bool same_stack(const struct tt_agg_stack *s, const struct tt_alloc_event *e)
{
	__u32 i;

	if (s->nr_frames != e->nr_frames || s->stack_end != e->stack_end)
		return false;
	for (i = 0; i < TT_MAX_FRAMES; i++) {
		if (i >= e->nr_frames)
			break;
		if (s->frames[i] != e->frames[i])
			return false;
	}
	return true;
}

/* The stack entry for this record: found, added, or a fallback entry. */
static __always_inline struct tt_agg_stack *agg_stack(const struct tt_alloc_event *e, __u64 *key)
{
	struct tt_agg_stack *s, *n;
	__u32 i;

	*key = e->nr_frames ? hash_frames(e) : TT_AGG_NO_STACK;
	s = bpf_map_lookup_elem(&agg_stacks, key);
	if (s) {
		if (*key == TT_AGG_NO_STACK || same_stack(s, e))
			return s;
		count(TT_CNT_AGG_COLLISIONS);
		*key = TT_AGG_COLLISION_STACK;
	}
	n = bpf_task_storage_get(&agg_scratch, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!n)
		return NULL;
	__builtin_memset(n, 0, sizeof(n->allocs) * 4);
	n->nr_frames = *key > TT_AGG_COLLISION_STACK ? e->nr_frames : 0;
	n->stack_end = e->stack_end;
	for (i = 0; i < TT_MAX_FRAMES; i++) {
		if (i >= n->nr_frames)
			break;
		n->frames[i] = e->frames[i];
	}
	if (bpf_map_update_elem(&agg_stacks, key, n, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&agg_stacks, key)) {
		count(TT_CNT_AGG_STACKS_FULL);
		*key = TT_AGG_NO_STACK;
		n->nr_frames = 0;
		bpf_map_update_elem(&agg_stacks, key, n, BPF_NOEXIST);
	}
	return bpf_map_lookup_elem(&agg_stacks, key);
}

/* Aggregate mode: what the record would have told userspace. */
static __always_inline void agg_account(const struct tt_alloc_event *e)
{
	bool is_realloc = e->fn == TT_FN_REALLOC || e->fn == TT_FN_REALLOCARRAY;
	struct tt_agg_block b = {}, *held;
	struct tt_agg_stack *s;
	__u64 key, ptr = e->ptr;

	if (e->failed) {
		/* glibc's realloc(p, 0) frees p and returns NULL */
		if (e->fn == TT_FN_REALLOC && e->old_ptr && !e->size)
			agg_release(e->old_ptr, false);
		else
			count(TT_CNT_AGG_FAILED);
		return;
	}
	if (is_realloc && e->old_ptr)
		agg_release(e->old_ptr, false);
	/* an address still held lost its free; one that a replaced image held
	 * is only being handed out again */
	held = bpf_map_lookup_elem(&agg_live, &ptr);
	if (held && agg_stale(held))
		agg_drop_stale(ptr);
	else if (held)
		agg_release_block(ptr, held);
	count(TT_CNT_AGG_ALLOCS);
	count_n(TT_CNT_AGG_ALLOC_BYTES, e->size);
	s = agg_stack(e, &key);
	if (s) {
		__sync_fetch_and_add(&s->allocs, 1);
		__sync_fetch_and_add(&s->bytes, e->size);
		__sync_fetch_and_add(&s->live_cnt, 1);
		__sync_fetch_and_add(&s->live_bytes, (__s64)e->size);
	}
	note_peak(__sync_fetch_and_add(&counters[TT_CNT_AGG_LIVE_BYTES], e->size) + e->size);
	b.size = e->size;
	b.stack = key;
	b.ts_ns = e->hdr.ts_ns;
	b.tid = e->hdr.tid;
	b.gen = (__u32)counters[TT_CNT_AGG_EXECS];
	if (bpf_map_update_elem(&agg_live, &ptr, &b, BPF_ANY)) {
		count(TT_CNT_AGG_BLOCKS_FULL);
		__sync_fetch_and_add(&counters[TT_CNT_AGG_LIVE_BYTES], -e->size);
		if (s) {
			/* not followed: it cannot be freed from the figures either */
			__sync_fetch_and_add(&s->live_cnt, -1);
			__sync_fetch_and_add(&s->live_bytes, -(__s64)e->size);
		}
	}
}

/*
 * Aggregate mode: the target exec'd, and every block of the old image is gone
 * with it, as the exec record tells the reader in streaming mode. A new
 * generation makes them all stale at once (agg_stale); their stacks keep
 * their allocations, as history, and hold nothing live any more; the peak
 * stays. Wholesale, because the maps hold one process's heap (keyed by
 * address alone), and that process is a single thread here (exec has ended
 * the others): nothing updates the maps meanwhile. Deleting the blocks here
 * instead would cost ~0.55 us each with preemption off (0.55 s for 1M), and
 * 5 ms to walk the empty table; the stacks are at most TT_AGG_MAX_STACKS.
 */
static long agg_zero_live(struct bpf_map *map, const __u64 *key, struct tt_agg_stack *s, void *ctx)
{
	s->live_cnt = 0;
	s->live_bytes = 0;
	return 0;
}

static __always_inline void agg_on_exec(void)
{
	count(TT_CNT_AGG_EXECS);
	bpf_for_each_map_elem(&agg_stacks, agg_zero_live, NULL, 0);
	counters[TT_CNT_AGG_LIVE_BYTES] = 0;
}

/* A return probe, or a uprobe on a return instruction (TT_COOKIE_AT_RET). */
SEC("uretprobe")
int BPF_KRETPROBE(alloc_exit, __u64 ret)
{
	__u64 id = bpf_get_current_pid_tgid(), size;
	/* the entry's: a return probe runs after ret popped the return
	 * address, a uprobe on the ret before */
	bool at_ret = bpf_get_attach_cookie(ctx) & TT_COOKIE_AT_RET;
	__u64 sp = PT_REGS_SP(ctx) - (at_ret ? 0 : 8);
	struct caller_regs regs;
	struct inflight_call *t, n;
	struct tt_alloc_event *e;
	struct inflight *f;
	__u64 ptr = 0;
	__u32 i;

	f = inflight_of_current(false);
	if (!f)
		return 0; /* no storage */
	for (i = 0; i < INFLIGHT_MAX; i++) {
		if (!f->cnt)
			return 0; /* entered before we attached */
		t = inflight_top(f);
		if (t->sp > sp)
			return 0; /* a nested call, folded into t */
		if (t->sp == sp)
			break;
		f->cnt--; /* deeper: the thread left it without returning */
	}
	if (i == INFLIGHT_MAX || --t->depth)
		return 0;
	n = *t;
	f->cnt--;

	if (n.fn == TT_FN_POSIX_MEMALIGN) {
		/* returns an errno; the block is written through memptr */
		if ((int)ret == 0 && bpf_probe_read_user(&ptr, sizeof(ptr), (void *)n.memptr))
			ptr = 0;
	} else {
		ptr = ret;
	}

	e = bpf_task_storage_get(&scratch, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!e) {
		count(TT_CNT_LOST_EVENTS); /* no memory to build it: never silent */
		return 0;
	}
	e->hdr.type = TT_EV_ALLOC;
	e->hdr.tid = (__u32)id;
	e->hdr.tgid = id >> 32;
	e->hdr.flags = 0;
	e->hdr.ts_ns = bpf_ktime_get_ns();
	e->fn = n.fn;
	e->failed = ptr == 0;
	e->ptr = ptr;
	e->size = n.size;
	e->old_ptr = n.old_ptr;
	e->entry_ns = n.entry_ns;
	caller_regs_of(ctx, at_ret, &regs);
	walk_stack(&regs, e);
	if (aggregate) {
		agg_account(e);
		return 0;
	}

	size = sizeof(*e) - sizeof(e->frames) + (__u64)e->nr_frames * sizeof(e->frames[0]);
	if (size > sizeof(*e))
		size = sizeof(*e);
	if (bpf_ringbuf_output(&events, e, size, wake_flags()))
		count(TT_CNT_LOST_EVENTS);
	return 0;
}

/* free() called from the allocator's own code (see TT_FREE_FROM_ALLOCATOR)?
 * 1 yes, 0 no, -1 cannot tell. */
static __always_inline int free_by_allocator(struct pt_regs *ctx)
{
	__u64 ret;

	/* at entry the return address sits at the stack pointer */
	if (bpf_probe_read_user(&ret, sizeof(ret), (void *)PT_REGS_SP(ctx)))
		return -1;
	return called_by_allocator(ctx, bpf_get_attach_cookie(ctx), ret);
}

static __always_inline bool from_allocator(struct pt_regs *ctx)
{
	return free_by_allocator(ctx) == 1;
}

/* A free entered by the allocating call t, not by a signal handler or by
 * the program after leaving t with a longjmp: just below t's frame, and
 * called from the allocator itself (when its text range is known). Never
 * inside operator new (t->at_ret), which frees nothing of its own: a free
 * there is the new_handler's, or the C++ runtime's freeing an exception
 * caught inside the allocator, reached by tail calls that leave the
 * allocator's return address on the stack. */
static __always_inline bool freed_by_call(struct pt_regs *ctx, const struct inflight_call *t)
{
	__u64 sp = PT_REGS_SP(ctx);

	if (t->at_ret || sp >= t->sp || t->sp - sp >= NEST_SPAN_BYTES)
		return false;
	return free_by_allocator(ctx) != 0;
}

SEC("uprobe")
int BPF_KPROBE(free_enter, __u64 ptr)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tt_free_event *e;
	struct inflight *f;
	__u32 fn;

	if (!ptr)
		return 0;
	if (!aggregate)
		check_containers();
	fn = TT_COOKIE_FN(bpf_get_attach_cookie(ctx));
	f = inflight_of_current(fn == TT_FN_DELETE);
	if (f && fn == TT_FN_DELETE) {
		f->del_ptr = ptr;
		f->del_sp = PT_REGS_SP(ctx);
	} else if (f && f->del_ptr == ptr && f->del_sp == PT_REGS_SP(ctx)) {
		/* the delete's own tail call into free (jemalloc's unsized
		 * delete is `jmp free`): the same block, reported once */
		f->del_ptr = 0;
		return 0;
	}
	if (f && f->cnt && freed_by_call(ctx, inflight_top(f)))
		return 0; /* inside realloc(p, 0) and the like: that call reports it */
	if (aggregate) {
		agg_release(ptr, from_allocator(ctx));
		return 0;
	}

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(TT_CNT_LOST_EVENTS);
		return 0;
	}
	e->hdr.type = TT_EV_FREE;
	e->hdr.tid = (__u32)id;
	e->hdr.tgid = id >> 32;
	e->hdr.flags = from_allocator(ctx) ? TT_FREE_FROM_ALLOCATOR : 0;
	e->hdr.ts_ns = bpf_ktime_get_ns();
	e->ptr = ptr;
	bpf_ringbuf_submit(e, wake_flags());
	return 0;
}

static __always_inline struct tt_var_event *var_event(__u64 ptr, __u64 site_ip, __u32 flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tt_var_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(TT_CNT_LOST_EVENTS);
		return NULL;
	}
	fill_hdr(&e->hdr, TT_EV_VAR, id);
	e->ptr = ptr;
	e->site_ip = site_ip;
	e->line = 0;
	e->flags = flags;
	e->site = 0;
	e->str_addr[0] = e->str_addr[1] = e->str_addr[2] = e->str_addr[3] = e->str_addr[4] = 0;
	e->name[0] = e->type_name[0] = e->category[0] = e->file[0] = e->function[0] = 0;
	e->container = 0;
	return e;
}

/* The target's strings, bounded. One in a page not yet faulted in is left
 * for userspace: its address goes along with the record. */
static __always_inline void read_str(struct tt_var_event *e, enum tt_var_str i, char *dst,
				     __u32 len, __u64 src)
{
	if (i < TT_VAR_STR_CNT)
		e->str_addr[i] = src;
	if (!src)
		return;
	if (bpf_probe_read_user_str(dst, len, (const void *)src) < 0) {
		dst[0] = 0;
		e->flags |= TT_VAR_STR_UNREAD(i);
	}
}

SEC("usdt")
int BPF_USDT(track_var_usdt, __u64 ptr, __u64 site_addr)
{
	struct tt_var_site_v1 site;
	struct tt_var_event *e;
	long slot = 0;

	check_containers();
	/* C++ markers give a third argument: a container's data pointer */
	if (bpf_usdt_arg_cnt(ctx) >= 3 && bpf_usdt_arg(ctx, 2, &slot))
		slot = 0;
	if (slot)
		container_watch((__u64)slot, ptr);
	e = var_event(ptr, PT_REGS_IP(ctx), 0);
	if (!e)
		return 0;
	e->site = site_addr;
	e->container = (__u64)slot;
	if (bpf_probe_read_user(&site, sizeof(site), (const void *)site_addr)) {
		e->flags |= TT_VAR_SITE_UNREAD;
	} else if (site.version != TT_VAR_SITE_VERSION) {
		e->flags |= TT_VAR_BAD_SITE;
	} else {
		read_str(e, TT_VAR_STR_NAME, e->name, sizeof(e->name), site.str[TT_VAR_STR_NAME]);
		read_str(e, TT_VAR_STR_TYPE, e->type_name, sizeof(e->type_name),
			 site.str[TT_VAR_STR_TYPE]);
		read_str(e, TT_VAR_STR_CATEGORY, e->category, sizeof(e->category),
			 site.str[TT_VAR_STR_CATEGORY]);
		read_str(e, TT_VAR_STR_FILE, e->file, sizeof(e->file), site.str[TT_VAR_STR_FILE]);
		read_str(e, TT_VAR_STR_FUNCTION, e->function, sizeof(e->function),
			 site.str[TT_VAR_STR_FUNCTION]);
		e->line = site.line;
	}
	bpf_ringbuf_submit(e, wake_flags());
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(track_var_fn, __u64 ptr, __u64 name, __u64 type_name, __u64 category)
{
	struct tt_var_event *e;
	__u64 ret = 0;

	check_containers();
	/* at entry the return address sits at the stack pointer */
	bpf_probe_read_user(&ret, sizeof(ret), (void *)PT_REGS_SP(ctx));
	e = var_event(ptr, ret, TT_VAR_FROM_FUNCTION);
	if (!e)
		return 0;
	read_str(e, TT_VAR_STR_NAME, e->name, sizeof(e->name), name);
	read_str(e, TT_VAR_STR_TYPE, e->type_name, sizeof(e->type_name), type_name);
	read_str(e, TT_VAR_STR_CATEGORY, e->category, sizeof(e->category), category);
	bpf_ringbuf_submit(e, wake_flags());
	return 0;
}

/* The traced processes (the target, and the children followed with -f), for
 * exec records; kept by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TT_MAX_PROCS);
	__type(key, __u32);
	__type(value, __u8);
} traced SEC(".maps");

/* A traced process exec'd: every block of the old image is gone with it. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct tt_event_hdr *e;

	if (!bpf_map_lookup_elem(&traced, &tgid))
		return 0;
	if (aggregate)
		agg_on_exec(); /* the same drop, in the aggregate maps */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(TT_CNT_LOST_EVENTS);
		return 0;
	}
	e->type = TT_EV_EXEC;
	e->tid = (__u32)id;
	e->tgid = tgid;
	e->flags = 0;
	e->ts_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}

/*
 * Anonymous mmap, munmap and brk of the traced processes, beside malloc
 * (bpf/ttbpf.h's tt_sysmem_event). The entry's arguments wait in task
 * storage for the result at the exit.
 */
struct sysmem_call {
	__u64 addr, len;
	__u32 kind; /* enum tt_sysmem_kind; 0: none in flight */
	__u32 in_alloc;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sysmem_call);
} sysmem_calls SEC(".maps");

#define TT_MAP_ANONYMOUS 0x20

static __always_inline bool sysmem_traced(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return !aggregate && bpf_map_lookup_elem(&traced, &tgid);
}

static __always_inline void sysmem_enter(__u32 kind, __u64 addr, __u64 len)
{
	struct inflight *f = inflight_of_current(false);
	struct sysmem_call *c;

	c = bpf_task_storage_get(&sysmem_calls, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c)
		return;
	c->kind = kind;
	c->addr = addr;
	c->len = (len + page_size - 1) & ~(page_size - 1);
	c->in_alloc = f && f->cnt;
}

/* The call in flight on this thread, if it is of kind (taken). */
static __always_inline bool sysmem_exit(__u32 kind, struct sysmem_call *out)
{
	struct sysmem_call *c;

	c = bpf_task_storage_get(&sysmem_calls, bpf_get_current_task_btf(), 0, 0);
	if (!c || c->kind != kind)
		return false;
	*out = *c;
	c->kind = 0;
	return true;
}

static __always_inline void sysmem_send(const struct sysmem_call *c, __u64 addr, __u64 new_brk)
{
	struct tt_sysmem_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(TT_CNT_LOST_EVENTS);
		count(TT_CNT_SYSMEM_LOST);
		return;
	}
	fill_hdr(&e->hdr, TT_EV_SYSMEM, bpf_get_current_pid_tgid());
	e->kind = c->kind;
	e->in_alloc = c->in_alloc;
	e->addr = addr;
	e->len = c->len;
	e->new_brk = new_brk;
	bpf_ringbuf_submit(e, wake_flags());
}

SEC("tracepoint/syscalls/sys_enter_mmap")
int mmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	if (!(ctx->args[3] & TT_MAP_ANONYMOUS) || !sysmem_traced())
		return 0;
	sysmem_enter(TT_SYSMEM_MMAP, 0, ctx->args[1]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int mmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct sysmem_call c;

	/* an error is -errno: the top 4095 values */
	if (!sysmem_exit(TT_SYSMEM_MMAP, &c) || (__u64)ctx->ret >= (__u64)-4095)
		return 0;
	sysmem_send(&c, (__u64)ctx->ret, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_munmap")
int munmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	if (!sysmem_traced())
		return 0;
	sysmem_enter(TT_SYSMEM_MUNMAP, ctx->args[0], ctx->args[1]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_munmap")
int munmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct sysmem_call c;

	if (!sysmem_exit(TT_SYSMEM_MUNMAP, &c) || ctx->ret)
		return 0;
	sysmem_send(&c, c.addr, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_brk")
int brk_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	if (!sysmem_traced())
		return 0;
	/* the break before: brk(2) returns only the one after */
	sysmem_enter(TT_SYSMEM_BRK, BPF_CORE_READ(task, mm, brk), 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_brk")
int brk_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct sysmem_call c;

	if (!sysmem_exit(TT_SYSMEM_BRK, &c) || (__u64)ctx->ret == c.addr)
		return 0;
	sysmem_send(&c, c.addr, (__u64)ctx->ret);
	return 0;
}

/* The process is about to end: a container that grew after its last
 * allocator call is seen here. */
SEC("tracepoint/syscalls/sys_enter_exit_group")
int on_exit_group(void *ctx)
{
	check_containers();
	return 0;
}

/*
 * The dynamic linker's debugger hook (_dl_debug_state): it has mapped or is
 * about to unmap libraries (startup, dlopen, dlclose). A thread userspace
 * ptraces and armed in unw_hold gets SIGURG, whose signal stop userspace
 * absorbs after loading the new files' tables (user/tracing/unwinder.h): the target
 * never sees the signal. Others only tell userspace to look now.
 */
SEC("uprobe")
int BPF_KPROBE(ld_hook)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, tgid = id >> 32;
	struct tt_event_hdr *e;
	__u32 *hold;

	if (!unwind_dwarf)
		return 0;
	hold = bpf_map_lookup_elem(&unw_hold, &tid);
	if (hold) {
		if (!(*hold & TT_UNW_HOLD_SENT)) {
			*hold |= TT_UNW_HOLD_SENT;
			count(TT_CNT_UNW_HOLDS);
			bpf_send_signal_thread(23 /* SIGURG */);
		}
		return 0;
	}
	if (!bpf_map_lookup_elem(&traced, &tgid))
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(TT_CNT_LOST_EVENTS);
		return 0;
	}
	e->type = TT_EV_MAPS;
	e->tid = tid;
	e->tgid = tgid;
	e->flags = 0;
	e->ts_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}
