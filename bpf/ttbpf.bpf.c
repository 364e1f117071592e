// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Allocator probes. One generic entry and one generic return program serve
 * every allocating function; the attach cookie says which function it is
 * (enum tt_fn). free has its own entry-only program.
 *
 * glibc calls itself (realloc(NULL, n) enters malloc, reallocarray enters
 * realloc, realloc(p, 0) enters free), and every entry hits a probe. The
 * per-thread in-flight record makes the outermost call the only one that is
 * reported: nested entries only bump its depth, and frees entered while an
 * allocating call is in flight belong to that call.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include "ttbpf.h"

/* GPL-compatible, as the kernel requires for bpf_probe_read_user and friends */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by userspace before load. */
const volatile __u64 wakeup_bytes = 0; /* 0: wake the reader on every record */
/* Link-time addresses in the allocator's file: the free probe, and the
 * executable segment. The load bias cancels out, so no maps are needed. */
const volatile __u64 free_probe_vaddr = 0;
const volatile __u64 lib_text_lo = 0, lib_text_hi = 0;
const volatile __u32 max_frames = TT_DEFAULT_FRAMES; /* 0: no stacks */
const volatile bool aggregate = false; /* keep figures in maps, send no records */
/* A frame pointer is believed only within this distance above the stack
 * pointer: thread stacks are 8 MiB by default. */
const volatile __u64 stack_span = 8 << 20;

/* The allocating call a thread is in; depth 0: none. */
struct inflight {
	__u64 entry_ns;
	__u64 size;
	__u64 old_ptr;
	__u64 memptr; /* posix_memalign's void ** */
	__u32 fn;
	__u32 depth;
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

SEC("uprobe")
int BPF_KPROBE(alloc_enter, __u64 a0, __u64 a1, __u64 a2)
{
	__u32 fn = bpf_get_attach_cookie(ctx);
	struct inflight *f, n = {};

	f = inflight_of_current(true);
	if (!f) {
		count(TT_CNT_INFLIGHT_FULL);
		return 0;
	}
	if (f->depth) {
		/* strdup(s) is malloc(strlen(s) + 1) inside: that is its size */
		if (f->depth == 1 && (f->fn == TT_FN_STRDUP || f->fn == TT_FN_STRNDUP) &&
		    fn == TT_FN_MALLOC)
			f->size = a0;
		f->depth++;
		return 0;
	}

	n.fn = fn;
	n.depth = 1;
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
	*f = n;
	return 0;
}

/*
 * Walks the frame-pointer chain from the allocator's return into its caller.
 * bpf_get_stack would fault on the garbage that code built without frame
 * pointers leaves in rbp (~4.8 us a call here); a frame pointer is followed
 * only if it is aligned, above the previous one and within the thread's
 * stack, so the walk stops before reading garbage and costs ~0.1 us.
 */
static __always_inline void walk_stack(struct pt_regs *ctx, struct tt_alloc_event *e)
{
	__u64 sp = PT_REGS_SP(ctx), fp = PT_REGS_FP(ctx), prev = sp;
	struct { __u64 next_fp, ret; } frame;
	__u32 i, n = 1;

	if (!max_frames) {
		e->nr_frames = 0;
		e->stack_end = TT_STACK_END_OFF;
		return;
	}
	/* at the return probe, ip is the return address into the caller */
	e->frames[0] = PT_REGS_IP(ctx);
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
 * (user/aggregate.c drops it there). A .bss load: no map lookup.
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

SEC("uretprobe")
int BPF_KRETPROBE(alloc_exit, __u64 ret)
{
	__u64 id = bpf_get_current_pid_tgid(), size;
	struct tt_alloc_event *e;
	struct inflight *f, n;
	__u64 ptr = 0;

	f = inflight_of_current(false);
	if (!f || !f->depth)
		return 0; /* entered before we attached, or no storage */
	if (--f->depth)
		return 0;
	n = *f;

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
	walk_stack(ctx, e);
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

/* free() called from the allocator's own code (see TT_FREE_FROM_ALLOCATOR)? */
static __always_inline bool from_allocator(struct pt_regs *ctx)
{
	__u64 ret, caller;

	/* at entry the return address sits at the stack pointer */
	/* the address arithmetic below holds for the probe on free only */
	if (!lib_text_hi || bpf_get_attach_cookie(ctx) != TT_FN_FREE ||
	    bpf_probe_read_user(&ret, sizeof(ret), (void *)PT_REGS_SP(ctx)))
		return false;
	caller = ret - PT_REGS_IP(ctx) + free_probe_vaddr;
	return caller >= lib_text_lo && caller < lib_text_hi;
}

SEC("uprobe")
int BPF_KPROBE(free_enter, __u64 ptr)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tt_free_event *e;
	struct inflight *f;

	if (!ptr)
		return 0;
	f = inflight_of_current(false);
	if (f && f->depth)
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
	e->hdr.type = TT_EV_VAR;
	e->hdr.tid = (__u32)id;
	e->hdr.tgid = id >> 32;
	e->hdr.flags = 0;
	e->hdr.ts_ns = bpf_ktime_get_ns();
	e->ptr = ptr;
	e->site_ip = site_ip;
	e->line = 0;
	e->flags = flags;
	e->site = 0;
	e->str_addr[0] = e->str_addr[1] = e->str_addr[2] = e->str_addr[3] = e->str_addr[4] = 0;
	e->name[0] = e->type_name[0] = e->category[0] = e->file[0] = e->function[0] = 0;
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

	e = var_event(ptr, PT_REGS_IP(ctx), 0);
	if (!e)
		return 0;
	e->site = site_addr;
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
