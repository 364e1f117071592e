// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "alloc_fns.h"
#include "elf_syms.h"
#include "placement.h"
#include "probes.h"
#include "ret_sites.h"
#include "ttbpf.skel.h"
#include "text_clean.h"

/*
 * An allocating function gets an entry and a return probe; free gets an
 * entry probe only; the variable markers one each. A function an exception
 * may unwind through (operator new: alloc_fns.h) has its return probe
 * replaced by uprobes on its return instructions (ret_sites.h): a return
 * probe's trampoline on the stack ends the program when an exception meets
 * it. One whose return instructions cannot all be found is not probed. Uprobes are per process:
 * each followed child gets its own set, removed when it exits.
 *
 * Where the kernel has them (Linux 6.6+), the allocator's probes are three
 * uprobe_multi links per process (entries, returns, frees) instead of a
 * perf-event uprobe each: a perf uprobe is created and removed under the
 * kernel's trace event_mutex, and each removal waits ~80 ms for RCU there,
 * which held up every other attach (a new child waited seconds behind an
 * exited one's removal). libbpf 1.1 has no API for them: the link is made
 * with the bpf() syscall.
 */
struct probe_link {
	struct bpf_link *link; /* NULL: fd is a uprobe_multi link */
	int fd;
	int pid; /* the process it is for; 0: all (the exec tracepoint) */
};

/* Links being removed in the background, each batch by one thread. */
struct reaper {
	pthread_t th;
	struct reaper *next;
	int cnt;
	struct probe_link links[];
};

/* From the kernel's uapi linux/bpf.h (6.6), newer than the system headers. */
#define TT_BPF_TRACE_UPROBE_MULTI 48
#define TT_BPF_F_UPROBE_MULTI_RETURN 1u

/* Places probed in one link: every allocating function, or the return
 * instructions of those that may throw. */
#define PROBE_SET_MAX 128

/* Offsets in the allocator's file, and their attach cookies (TT_COOKIE). */
struct probe_set {
	__u64 off[PROBE_SET_MAX], cookie[PROBE_SET_MAX];
	size_t cnt;
};

/* union bpf_attr's link_create, with its uprobe_multi member. */
struct tt_link_create_uprobe_multi {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__aligned_u64 path;
	__aligned_u64 offsets;
	__aligned_u64 ref_ctr_offsets;
	__aligned_u64 cookies;
	__u32 cnt;
	__u32 multi_flags;
	__u32 pid;
}; /* the kernel zeroes the rest of union bpf_attr */

struct probes {
	struct ttbpf_bpf *skel;
	const char *lib_path;
	struct elf_func funcs[ALLOC_FN_MAX];
	struct placement at[ALLOC_FN_MAX]; /* where each function's uprobe goes */
	struct probe_set rets;   /* return instructions of the functions that
				  * may throw (alloc_fn.may_throw) */
	bool unprobed[ALLOC_FN_MAX]; /* may throw, returns not found: left alone */
	__u64 new_code_lo[TT_NEW_CODE_MAX], new_code_hi[TT_NEW_CODE_MAX];
	__u32 new_code_cnt;      /* the code of those probed (ret_sites pieces) */
	struct probe_link *links;
	int link_cnt, link_cap;
	int points;              /* places probed (entry and return apart), and
				  * the exec tracepoint and marker links */
	bool exec_attached;
	bool sysmem;             /* the mmap, munmap and brk tracepoints attached */
	bool multi;              /* uprobe_multi links for the allocator */
	struct reaper *reapers;
	void *unw_rows;          /* mmap of the unwind rows; NULL: fp walk */
	size_t unw_rows_len;
	__u32 unw_rows_cap;
	__u64 *unw_pages;        /* mmap of their page indexes */
	size_t unw_pages_len;
	__u32 unw_pages_cap;
	int verbose;
	unsigned errors_told;    /* attach errors printed (a bounded number) */
};

/* Attach errors printed; with -f a thousand children can fail alike, and the
 * summary counts them. */
#define ERRORS_TOLD 5

/* Whether one more attach error may be printed; says once when not. */
static bool tell_error(struct probes *p)
{
	if (p->errors_told < ERRORS_TOLD)
		return ++p->errors_told, true;
	if (p->errors_told++ == ERRORS_TOLD)
		fputs("ttbpf: further attach errors are not shown\n", stderr);
	return false;
}

static void destroy_link(const struct probe_link *l)
{
	if (l->link)
		bpf_link__destroy(l->link);
	else
		close(l->fd);
}

/* Takes ownership of link (a bpf_link, or a link fd when link is NULL). */
static int add_link_fd(struct probes *p, struct bpf_link *link, int fd, int pid)
{
	struct probe_link l = { .link = link, .fd = fd, .pid = pid };

	if (p->link_cnt == p->link_cap) {
		int cap = p->link_cap ? 2 * p->link_cap : 64;
		struct probe_link *n = realloc(p->links, (size_t)cap * sizeof(*n));

		if (!n) {
			destroy_link(&l);
			return -ENOMEM;
		}
		p->links = n;
		p->link_cap = cap;
	}
	p->links[p->link_cnt++] = l;
	p->points++;
	return 0;
}

static int add_link(struct probes *p, struct bpf_link *link, int pid)
{
	return add_link_fd(p, link, -1, pid);
}

static int link_uprobe_multi(int prog_fd, const char *path, const __u64 *offsets,
			     const __u64 *cookies, __u32 cnt, bool ret, int pid)
{
	struct tt_link_create_uprobe_multi a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_fd = (__u32)prog_fd;
	a.attach_type = TT_BPF_TRACE_UPROBE_MULTI;
	a.path = (__u64)(uintptr_t)path;
	a.offsets = (__u64)(uintptr_t)offsets;
	a.cookies = (__u64)(uintptr_t)cookies;
	a.cnt = cnt;
	a.multi_flags = ret ? TT_BPF_F_UPROBE_MULTI_RETURN : 0;
	a.pid = (__u32)pid;
	fd = (int)syscall(SYS_bpf, BPF_LINK_CREATE, &a, sizeof(a));
	return fd < 0 ? -errno : fd;
}

static bool getenv_is_1(const char *name)
{
	const char *v = getenv(name);

	return v && !strcmp(v, "1");
}

/*
 * Whether this kernel makes uprobe_multi links: a program of that attach
 * type is loaded, and linked to a directory, which a kernel that knows them
 * refuses with EBADF (not a regular file) and an older one with EINVAL.
 */
static bool uprobe_multi_supported(void)
{
	const struct bpf_insn ret0[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, lo, .expected_attach_type = TT_BPF_TRACE_UPROBE_MULTI);
	__u64 off = 0;
	int prog, fd;

	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", ret0, 2, &lo);
	if (prog < 0)
		return false;
	fd = link_uprobe_multi(prog, "/", &off, NULL, 1, false, 0);
	close(prog);
	if (fd >= 0) {
		close(fd);
		return true;
	}
	return fd == -EBADF;
}

static int resolve_funcs(struct probes *p);
static int verbose_level;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && verbose_level < 2)
		return 0;
	char *msg, *line, *nl;
	int n;

	if (!verbose_level)
		return 0;
	/* libbpf names the target's files (paths it maps): cleaned, line by line */
	n = vasprintf(&msg, fmt, args);
	if (n < 0)
		return 0;
	for (line = msg; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		text_clean__put(stderr, line, 0);
		if (!nl)
			break;
		fputc('\n', stderr);
	}
	free(msg);
	return n;
}

static void explain_load_error(int err)
{
	if (err == -EPERM || err == -EACCES) {
		if (geteuid())
			fprintf(stderr, "ttbpf: loading BPF programs needs root or CAP_BPF and "
					"CAP_PERFMON; try sudo\n");
		else
			fprintf(stderr, "ttbpf: the kernel refused the BPF programs (%s); "
					"is BPF restricted by lockdown or a security module?\n",
				strerror(-err));
	} else if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr, "ttbpf: this kernel has no BTF (/sys/kernel/btf/vmlinux); "
				"ttbpf needs a kernel built with CONFIG_DEBUG_INFO_BTF=y\n");
	} else {
		fprintf(stderr, "ttbpf: cannot load the BPF programs: %s (run with -v for "
				"libbpf's log)\n", strerror(-err));
	}
}

int probes__load(struct probes **out, const struct probes_opts *opts)
{
	uint64_t text_lo, text_hi;
	struct probes *p;
	int err;

	verbose_level = opts->verbose;
	libbpf_set_print(libbpf_print);

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->verbose = opts->verbose;
	p->lib_path = opts->lib_path;
	err = resolve_funcs(p);
	if (err)
		goto err_free;
	p->skel = ttbpf_bpf__open();
	if (!p->skel) {
		err = -errno;
		fprintf(stderr, "ttbpf: cannot open the BPF object: %s\n", strerror(-err));
		goto err_free;
	}
	/* TTBPF_PERF_UPROBES=1: the older kind anyway, to compare the two, or
	 * as a way round a kernel whose uprobe_multi misbehaves */
	p->multi = !getenv_is_1("TTBPF_PERF_UPROBES") && uprobe_multi_supported();
	if (p->multi) {
		bpf_program__set_expected_attach_type(p->skel->progs.ld_hook,
						      TT_BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(p->skel->progs.alloc_enter,
						      TT_BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(p->skel->progs.alloc_exit,
						      TT_BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(p->skel->progs.free_enter,
						      TT_BPF_TRACE_UPROBE_MULTI);
	}
	if (p->verbose)
		fprintf(stderr, "ttbpf: allocator probes as %s\n",
			p->multi ? "uprobe_multi links" : "perf-event uprobes");
	p->skel->rodata->wakeup_bytes = opts->wakeup_bytes;
	memcpy((void *)p->skel->rodata->new_code_lo, p->new_code_lo, sizeof(p->new_code_lo));
	memcpy((void *)p->skel->rodata->new_code_hi, p->new_code_hi, sizeof(p->new_code_hi));
	p->skel->rodata->new_code_cnt = p->new_code_cnt;
	p->skel->rodata->max_frames = opts->max_frames;
	p->skel->rodata->aggregate = opts->aggregate;
	if (opts->aggregate &&
	    (bpf_map__set_max_entries(p->skel->maps.agg_stacks, TT_AGG_MAX_STACKS) ||
	     bpf_map__set_max_entries(p->skel->maps.agg_live, opts->max_live))) {
		err = -EINVAL;
		fprintf(stderr, "ttbpf: invalid --max-live %u\n", opts->max_live);
		goto err_destroy;
	}
	if (!elf_syms__text_range(p->lib_path, &text_lo, &text_hi)) {
		p->skel->rodata->lib_text_lo = text_lo;
		p->skel->rodata->lib_text_hi = text_hi;
	} /* else cannot tell: every free counts as the program's */
	err = bpf_map__set_max_entries(p->skel->maps.events, opts->ringbuf_bytes);
	if (err) {
		fprintf(stderr, "ttbpf: invalid ring buffer size %u\n", opts->ringbuf_bytes);
		goto err_destroy;
	}
	if (opts->unwind_dwarf && opts->max_frames) {
		p->unw_rows_cap = opts->unwind_rows & ~(TT_UNW_ROWS_PER_SLOT - 1);
		p->skel->rodata->unwind_dwarf = true;
		p->skel->rodata->page_size = (__u64)sysconf(_SC_PAGESIZE);
		err = bpf_map__set_max_entries(p->skel->maps.unw_rows,
					       p->unw_rows_cap / TT_UNW_ROWS_PER_SLOT);
		err = err ?: bpf_map__set_map_flags(p->skel->maps.unw_rows, BPF_F_MMAPABLE);
		/* a page index entry per 4 KiB of code: 1/16 of the rows is room
		 * for tables of 16+ rows a page, what compiled code has */
		p->unw_pages_cap = p->unw_rows_cap / 16 > 4096 ? p->unw_rows_cap / 16 : 4096;
		err = err ?: bpf_map__set_max_entries(p->skel->maps.unw_pages, p->unw_pages_cap);
		err = err ?: bpf_map__set_map_flags(p->skel->maps.unw_pages, BPF_F_MMAPABLE);
		if (err || !p->unw_rows_cap) {
			err = -EINVAL;
			fprintf(stderr, "ttbpf: invalid --unwind-rows %u\n", opts->unwind_rows);
			goto err_destroy;
		}
	}
	err = ttbpf_bpf__load(p->skel);
	if (err) {
		explain_load_error(err);
		goto err_destroy;
	}
	if (p->unw_rows_cap) {
		long pg = sysconf(_SC_PAGESIZE);

		p->unw_rows_len = ((size_t)p->unw_rows_cap * TT_UNW_ROW_BYTES + pg - 1) & ~(size_t)(pg - 1);
		p->unw_rows = mmap(NULL, p->unw_rows_len, PROT_READ | PROT_WRITE, MAP_SHARED,
				   bpf_map__fd(p->skel->maps.unw_rows), 0);
		p->unw_pages_len = ((size_t)p->unw_pages_cap * sizeof(__u64) + pg - 1) & ~(size_t)(pg - 1);
		p->unw_pages = mmap(NULL, p->unw_pages_len, PROT_READ | PROT_WRITE, MAP_SHARED,
				    bpf_map__fd(p->skel->maps.unw_pages), 0);
		if (p->unw_rows == MAP_FAILED || p->unw_pages == MAP_FAILED) {
			err = -errno;
			if (p->unw_rows != MAP_FAILED)
				munmap(p->unw_rows, p->unw_rows_len);
			if (p->unw_pages != MAP_FAILED)
				munmap(p->unw_pages, p->unw_pages_len);
			p->unw_rows = NULL;
			fprintf(stderr, "ttbpf: cannot map the unwind tables: %s\n", strerror(-err));
			goto err_destroy;
		}
	}
	*out = p;
	return 0;

err_destroy:
	ttbpf_bpf__destroy(p->skel);
err_free:
	free(p);
	return err;
}

static int attach_one(struct probes *p, struct bpf_program *prog, int pid, const char *path,
		      uint64_t offset, __u64 cookie, bool retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = cookie, .retprobe = retprobe);
	struct bpf_link *link;

	link = bpf_program__attach_uprobe_opts(prog, pid, path, (size_t)offset, &uo);
	if (!link)
		return -errno;
	return add_link(p, link, pid);
}

/* The "uprobe" PMU (CONFIG_UPROBE_EVENTS): libbpf creates perf-event uprobes
 * with it, and falls back to tracefs' uprobe_events only where it is missing. */
#define UPROBE_PMU_TYPE "/sys/bus/event_source/devices/uprobe/type"

static void explain_attach_error(struct probes *p, const char *name, const char *path, int err)
{
	int pmu_err = access(UPROBE_PMU_TYPE, R_OK) ? errno : 0;

	if (!tell_error(p))
		return;
	if (pmu_err && !uprobe_multi_supported())
		/* no uprobe_multi links, no PMU, and libbpf's tracefs fallback
		 * failed too: this kernel makes no uprobes at all */
		fprintf(stderr, "ttbpf: cannot attach a uprobe to %s in %s: uprobes are "
				"unavailable (no uprobe_multi links; %s: %s); ttbpf needs a kernel "
				"built with CONFIG_UPROBE_EVENTS=y, with sysfs mounted on /sys\n",
			name, path, UPROBE_PMU_TYPE, strerror(pmu_err));
	else if (err == -ENOENT || err == -EINVAL)
		fprintf(stderr, "ttbpf: cannot attach a uprobe to %s in %s: %s; is this kernel "
				"built with CONFIG_UPROBES=y?\n", name, TEXT_CLEAN(path), strerror(-err));
	else
		fprintf(stderr, "ttbpf: cannot attach a uprobe to %s in %s: %s\n", name, TEXT_CLEAN(path),
			strerror(-err));
}

/*
 * Each function's probes may sit on the first instruction the kernel
 * emulates instead of one it single-steps (~1 us a hit instead of ~35 here;
 * glibc 2.36's free: +3, a je; jemalloc's malloc: +7, a ja, past a cmp)
 * when the instructions before it leave alone what the probes read: free's
 * and delete's entry reads rdi and the return address at [rsp];
 * alloc_enter reads the first three arguments (BPF_KPROBE) and [rsp]; a
 * return probe makes the kernel take the return address from [rsp] at the
 * hit. So entry and return share one place, and one uprobe there.
 */
/*
 * A loop inside the function back onto the bytes the probe moved past, or
 * onto the probe itself, would hit it once per turn: one call seen as many
 * (a return probe would even take the trampoline for the return address).
 * Where that cannot be ruled out, the probe stays at the entry.
 */
static void check_no_reentry(struct probes *p, size_t i)
{
	struct placement *at = &p->at[i];
	uint64_t to = 0;
	int err;

	err = ret_sites__jump_into(p->lib_path, p->funcs[i].vaddr, at->offset, &to);
	if (!err)
		return;
	if (err == 1)
		snprintf(at->why, sizeof(at->why),
			 "+0: single-stepped; a jump inside it lands at +%llu, which +%u would "
			 "see again", (unsigned long long)to, at->offset);
	else
		snprintf(at->why, sizeof(at->why),
			 "+0: single-stepped; cannot tell whether a jump inside it lands before "
			 "+%u (%s)", at->offset, strerror(-err));
	at->offset = 0;
	at->emulated = 0;
}

static void place_probes(struct probes *p)
{
	uint8_t code[PLACEMENT_CODE_MAX];
	uint32_t keep;
	size_t i;
	int n;

	for (i = 0; i < alloc_fn_cnt; i++) {
		if (!p->funcs[i].offset)
			continue;
		keep = PLACEMENT_RDI | PLACEMENT_RSP;
		if (alloc_fns[i].fn != TT_FN_FREE && alloc_fns[i].fn != TT_FN_DELETE)
			keep |= PLACEMENT_RSI | PLACEMENT_RDX;
		n = elf_syms__read(p->lib_path, p->funcs[i].offset, code, sizeof(code));
		placement__choose(code, n > 0 ? (size_t)n : 0, keep, &p->at[i]);
		if (p->at[i].offset)
			check_no_reentry(p, i);
		if (p->verbose)
			fprintf(stderr, "ttbpf: %s probe at %s%s\n", alloc_fns[i].name,
				alloc_fns[i].name, p->at[i].why);
	}
}

/*
 * The return instructions of alloc_fns[i], added to p->rets; a function
 * whose returns cannot all be found is marked unprobed: without a return
 * probe, the entries would never be matched, and with one, a throw through
 * it would end the program.
 */
static void find_ret_sites(struct probes *p, size_t i)
{
	struct ret_sites rs;
	size_t k, j, before = p->rets.cnt;
	int err;

	__u32 code_before = p->new_code_cnt;

	err = ret_sites__find(p->lib_path, p->funcs[i].vaddr, &rs);
	if (!err && !rs.cnt)
		err = -ENOENT;
	for (k = 0; !err && k < rs.piece_cnt; k++) {
		for (j = 0; j < p->new_code_cnt && (p->new_code_lo[j] != rs.piece[k].lo ||
						     p->new_code_hi[j] != rs.piece[k].hi); j++)
			;
		if (j < p->new_code_cnt)
			continue;
		if (p->new_code_cnt == TT_NEW_CODE_MAX) {
			err = -E2BIG;
			break;
		}
		p->new_code_lo[p->new_code_cnt] = rs.piece[k].lo;
		p->new_code_hi[p->new_code_cnt++] = rs.piece[k].hi;
	}
	for (k = 0; !err && k < rs.cnt; k++) {
		for (j = 0; j < p->rets.cnt && p->rets.off[j] != rs.off[k]; j++)
			;
		if (j < p->rets.cnt)
			continue; /* shared: new[] jumps to new */
		if (p->rets.cnt == PROBE_SET_MAX) {
			err = -E2BIG;
			break;
		}
		p->rets.off[p->rets.cnt] = rs.off[k];
		p->rets.cookie[p->rets.cnt++] = TT_COOKIE(alloc_fns[i].fn, TT_COOKIE_AT_RET, 0);
	}
	if (err) {
		p->rets.cnt = before;
		p->new_code_cnt = code_before;
		p->unprobed[i] = true;
		fprintf(stderr, "ttbpf: %s in %s: its return instructions cannot all be found "
				"(%s); its calls are only counted (stats.calls_not_followed), since an "
				"exception thrown through a return probe would end the program\n",
			alloc_fns[i].name, TEXT_CLEAN(p->lib_path), strerror(-err));
		return;
	}
	if (p->verbose)
		fprintf(stderr, "ttbpf: %s: %zu return instructions probed instead of its return\n",
			alloc_fns[i].name, rs.cnt);
}

/* Symbols of the allocator, and the aliases among them. */
static int resolve_funcs(struct probes *p)
{
	const char *names[ALLOC_FN_MAX] = {};
	size_t i;
	int err;

	for (i = 0; i < alloc_fn_cnt; i++)
		names[i] = alloc_fns[i].name;
	err = elf_syms__funcs(p->lib_path, names, alloc_fn_cnt, p->funcs);
	if (err) {
		fprintf(stderr, "ttbpf: cannot read symbols of %s: %s\n", TEXT_CLEAN(p->lib_path), strerror(-err));
		return err;
	}
	for (i = 0; i < alloc_fn_cnt; i++) {
		if (p->funcs[i].offset || !alloc_fns[i].required)
			continue;
		fprintf(stderr, "ttbpf: %s has no symbol '%s': is it an allocator? (a stripped "
				"static binary cannot be traced)\n", TEXT_CLEAN(p->lib_path), alloc_fns[i].name);
		return -ENOENT;
	}
	place_probes(p);
	for (i = 0; i < alloc_fn_cnt; i++)
		if (alloc_fns[i].may_throw && p->funcs[i].offset)
			find_ret_sites(p, i);
	return 0;
}

int probes__unprobed_cnt(const struct probes *p)
{
	size_t i;
	int n = 0;

	for (i = 0; i < alloc_fn_cnt; i++)
		n += p->unprobed[i];
	return n;
}

static void add_place(struct probe_set *set, __u64 off, __u64 cookie)
{
	if (set->cnt < PROBE_SET_MAX) {
		set->off[set->cnt] = off;
		set->cookie[set->cnt++] = cookie;
	}
}

static const char *cookie_fn_name(__u64 cookie)
{
	size_t i;

	for (i = 0; i < alloc_fn_cnt; i++)
		if (alloc_fns[i].fn == TT_COOKIE_FN(cookie))
			return alloc_fns[i].name;
	return "?";
}

static int attach_multi(struct probes *p, int pid, const struct probe_set *entries,
			const struct probe_set *returns, const struct probe_set *frees)
{
	const struct {
		struct bpf_program *prog;
		const struct probe_set *set;
		bool ret;
	} links[] = {
		/* returns first: see probes__attach */
		{ p->skel->progs.alloc_exit, returns, true },
		{ p->skel->progs.alloc_exit, &p->rets, false },
		{ p->skel->progs.alloc_enter, entries, false },
		{ p->skel->progs.free_enter, frees, false },
	};
	size_t i;
	int fd, err;

	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		if (!links[i].set->cnt)
			continue;
		fd = link_uprobe_multi(bpf_program__fd(links[i].prog), p->lib_path, links[i].set->off,
				       links[i].set->cookie, (__u32)links[i].set->cnt, links[i].ret,
				       pid);
		if (fd < 0) {
			explain_attach_error(p, links[i].set == frees ? "free" : "malloc and others",
					     p->lib_path, fd);
			return fd;
		}
		err = add_link_fd(p, NULL, fd, pid);
		if (err)
			return err;
		p->points += (int)links[i].set->cnt - 1; /* one link, cnt places */
	}
	return 0;
}

/*
 * Whether n more descriptors can be opened now. A uprobe link that fails for
 * want of a descriptor fails only after the kernel has put its breakpoints
 * into the process and must take them out again (~50 ms a process here):
 * with a thousand children over the limit that is most of a minute, so the
 * shortage is found first, at the cost of n dup()s.
 */
static bool fds_available(int n)
{
	int fds[ALLOC_FN_MAX * 2 + 1 + PROBE_SET_MAX], i, got = 0;
	bool ok = true;

	for (i = 0; i < n && i < (int)(sizeof(fds) / sizeof(fds[0])); i++) {
		fds[i] = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
		if (fds[i] < 0) {
			ok = errno != EMFILE && errno != ENFILE;
			break;
		}
		got++;
	}
	for (i = 0; i < got; i++)
		close(fds[i]);
	return ok;
}

/*
 * The syscall tracepoints, each optional (a kernel without
 * CONFIG_FTRACE_SYSCALLS has none): exit_group gives the tracked
 * containers a last look (without it a container that grows after the
 * process's last allocator call is not followed there); mmap, munmap and
 * brk count the memory beside malloc (all six, or it is not counted).
 */
static int attach_syscall_tps(struct probes *p)
{
	struct bpf_program *const progs[] = {
		p->skel->progs.on_exit_group, p->skel->progs.mmap_enter, p->skel->progs.mmap_exit,
		p->skel->progs.munmap_enter, p->skel->progs.munmap_exit, p->skel->progs.brk_enter,
		p->skel->progs.brk_exit,
	};
	struct bpf_link *link;
	size_t i, sysmem = 0;
	int err;

	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		link = bpf_program__attach(progs[i]);
		if (!link) {
			if (p->verbose)
				fprintf(stderr, "ttbpf: cannot attach %s: %s\n",
					bpf_program__section_name(progs[i]), strerror(errno));
			continue;
		}
		err = add_link(p, link, 0);
		if (err)
			return err;
		sysmem += i > 0;
	}
	p->sysmem = sysmem == sizeof(progs) / sizeof(progs[0]) - 1;
	return 0;
}

bool probes__sysmem(const struct probes *p)
{
	return p->sysmem;
}

int probes__attach(struct probes *p, int pid)
{
	struct probe_set entries = {}, returns = {}, frees = {};
	const char *path = p->lib_path;
	struct bpf_link *link;
	__u32 tgid = (__u32)pid;
	__u8 one = 1;
	size_t i, j;
	int err;

	/* each link is a descriptor (multi: one per program; else one per probe) */
	if (!fds_available(p->multi ? 3 + (p->rets.cnt > 0)
				    : (int)(alloc_fn_cnt * 2 + 1 + p->rets.cnt))) {
		struct rlimit rl = {};

		getrlimit(RLIMIT_NOFILE, &rl);
		if (tell_error(p))
			fprintf(stderr, "ttbpf: cannot attach the probes for pid %d: no descriptor "
					"left (the limit is %llu: ulimit -n)\n", pid,
				(unsigned long long)rl.rlim_cur);
		return -EMFILE;
	}
	/* exec ends the old image's heap: the reader must know when */
	if (!p->exec_attached) {
		link = bpf_program__attach(p->skel->progs.on_exec);
		if (!link) {
			err = -errno;
			fprintf(stderr, "ttbpf: cannot attach to sched_process_exec: %s\n",
				strerror(-err));
			return err;
		}
		err = add_link(p, link, 0);
		if (err)
			return err;
		p->exec_attached = true;
		err = attach_syscall_tps(p);
		if (err)
			return err;
	}
	if (bpf_map__update_elem(p->skel->maps.traced, &tgid, sizeof(tgid), &one, sizeof(one),
				 BPF_ANY)) {
		err = -errno;
		if (tell_error(p))
			fprintf(stderr, "ttbpf: cannot follow pid %d: %s (more than %d processes?)\n",
				pid, strerror(-err), TT_MAX_PROCS);
		return err;
	}

	for (i = 0; i < alloc_fn_cnt; i++) {
		const struct alloc_fn *f = &alloc_fns[i];
		uint64_t off = p->funcs[i].offset;
		bool dup = false;

		__u64 vaddr = p->funcs[i].vaddr, cookie;

		if (!off) {
			if (p->verbose)
				fprintf(stderr, "ttbpf: %s: no %s, skipped\n", TEXT_CLEAN(path), f->name);
			continue;
		}
		/* Aliases (glibc's memalign is aligned_alloc) share one address:
		 * two probes there would report every call twice. So would two
		 * functions whose probes, moved on, meet. */
		for (j = 0; j < i; j++)
			if (p->funcs[j].offset == off ||
			    (p->funcs[j].offset &&
			     p->funcs[j].offset + p->at[j].offset == off + p->at[i].offset))
				dup = true;
		if (dup) {
			if (p->verbose)
				fprintf(stderr, "ttbpf: %s: %s is an alias of an already probed "
						"function, skipped\n", TEXT_CLEAN(path), f->name);
			continue;
		}
		/* the cookie's vaddr is where the probe is: called_by_allocator()
		 * takes the load bias from it and the probe's ip */
		off += p->at[i].offset;
		vaddr += p->at[i].offset;
		cookie = TT_COOKIE(f->fn, f->may_throw ? TT_COOKIE_AT_RET : 0, vaddr);
		if (p->unprobed[i]) {
			/* counted, not followed: its calls are a figure of what
			 * is missing */
			add_place(&entries, off, TT_COOKIE(f->fn, TT_COOKIE_COUNT_ONLY, vaddr));
			continue;
		}
		if (f->fn == TT_FN_FREE || f->fn == TT_FN_DELETE) {
			add_place(&frees, off, cookie);
		} else {
			add_place(&entries, off, cookie);
			if (!f->may_throw)
				add_place(&returns, off, cookie);
		}
		if (p->verbose)
			fprintf(stderr, "ttbpf: probing %s at %s+0x%llx\n", f->name, TEXT_CLEAN(path),
				(unsigned long long)off);
	}
	if (p->multi)
		return attach_multi(p, pid, &entries, &returns, &frees);
	/* The returns before the entries: a call entered between the two
	 * would otherwise stay in flight with no return ever seen. */
	for (i = 0, err = 0; i < returns.cnt && !err; i++) {
		err = attach_one(p, p->skel->progs.alloc_exit, pid, path, returns.off[i],
				 returns.cookie[i], true);
		if (err)
			explain_attach_error(p, cookie_fn_name(returns.cookie[i]), path, err);
	}
	for (i = 0; i < p->rets.cnt && !err; i++) {
		err = attach_one(p, p->skel->progs.alloc_exit, pid, path, p->rets.off[i],
				 p->rets.cookie[i], false);
		if (err)
			explain_attach_error(p, "a return instruction of operator new", path, err);
	}
	for (i = 0; i < entries.cnt && !err; i++) {
		err = attach_one(p, p->skel->progs.alloc_enter, pid, path, entries.off[i],
				 entries.cookie[i], false);
		if (err)
			explain_attach_error(p, cookie_fn_name(entries.cookie[i]), path, err);
	}
	for (i = 0; i < frees.cnt && !err; i++) {
		err = attach_one(p, p->skel->progs.free_enter, pid, path, frees.off[i],
				 frees.cookie[i], false);
		if (err)
			explain_attach_error(p, cookie_fn_name(frees.cookie[i]), path, err);
	}
	return err;
}

int probes__attach_vars(struct probes *p, int pid, const char *exe)
{
	static const char *const fn_name[] = { "tt_track_var" };
	struct elf_func fn;
	struct bpf_link *link;
	int kinds = 0, err;

	link = bpf_program__attach_usdt(p->skel->progs.track_var_usdt, pid, exe, "tt", "track_var",
					NULL);
	if (link) {
		err = add_link(p, link, pid);
		if (err)
			return err;
		kinds++;
		if (p->verbose)
			fprintf(stderr, "ttbpf: variable markers (USDT tt:track_var) in %s\n", TEXT_CLEAN(exe));
	} else if (p->verbose) {
		fprintf(stderr, "ttbpf: no TT_TRACK_VAR markers in %s\n", TEXT_CLEAN(exe));
	}

	err = elf_syms__funcs(exe, fn_name, 1, &fn);
	if (!err && fn.offset) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo);

		link = bpf_program__attach_uprobe_opts(p->skel->progs.track_var_fn, pid, exe,
						       (size_t)fn.offset, &uo);
		if (!link) {
			err = -errno;
			fprintf(stderr, "ttbpf: cannot attach to tt_track_var in %s: %s\n", TEXT_CLEAN(exe),
				strerror(-err));
			return err;
		}
		err = add_link(p, link, pid);
		if (err)
			return err;
		kinds++;
		if (p->verbose)
			fprintf(stderr, "ttbpf: variable marker function tt_track_var in %s\n", TEXT_CLEAN(exe));
	}
	return kinds;
}

int probes__events_fd(const struct probes *p)
{
	return bpf_map__fd(p->skel->maps.events);
}

bool probes__dwarf_supported(void)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_loop, NULL) == 1 &&
	       libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_find_vma, NULL) == 1;
}

bool probes__unwind_maps(const struct probes *p, struct unwinder_maps *out)
{
	if (!p->unw_rows)
		return false;
	*out = (struct unwinder_maps){
		.rows_fd = bpf_map__fd(p->skel->maps.unw_rows), .rows = p->unw_rows,
		.rows_cap = p->unw_rows_cap, .pages = p->unw_pages, .pages_cap = p->unw_pages_cap,
		.mods_fd = bpf_map__fd(p->skel->maps.unw_mods),
		.hold_fd = bpf_map__fd(p->skel->maps.unw_hold),
	};
	return true;
}

int probes__attach_loader(struct probes *p, int pid, const char *interp)
{
	static const char *const name[] = { "_dl_debug_state" };
	struct elf_func f = {};
	int err;

	if (!p->unw_rows)
		return 0;
	err = elf_syms__funcs(interp, name, 1, &f);
	if (err)
		return err;
	if (!f.offset)
		return -ENOENT;
	if (p->multi) {
		/* a perf uprobe's removal would wait ~60 ms at the end */
		__u64 off = f.offset;
		int fd = link_uprobe_multi(bpf_program__fd(p->skel->progs.ld_hook), interp, &off,
					   NULL, 1, false, pid);

		return fd < 0 ? fd : add_link_fd(p, NULL, fd, pid);
	}
	return attach_one(p, p->skel->progs.ld_hook, pid, interp, f.offset, 0, false);
}

int probes__agg_stacks_fd(const struct probes *p)
{
	return bpf_map__fd(p->skel->maps.agg_stacks);
}

int probes__agg_live_fd(const struct probes *p)
{
	return bpf_map__fd(p->skel->maps.agg_live);
}

uint64_t probes__counter(const struct probes *p, enum tt_counter c)
{
	return __atomic_load_n(&p->skel->bss->counters[c], __ATOMIC_RELAXED);
}

int probes__attached_cnt(const struct probes *p)
{
	return p->points;
}

static void *destroy_links(void *arg)
{
	struct reaper *r = arg;
	int i;

	for (i = 0; i < r->cnt; i++)
		destroy_link(&r->links[i]);
	return NULL;
}

/*
 * Removing a uprobe waits for the kernel to be sure no CPU is still in it,
 * ~80 ms here, one probe after the other: 1.3 s for 17 probes. Handed to
 * threads, per batches, those waits overlap.
 */
static void reap(struct probes *p, const struct probe_link *links, int cnt, int per_thread)
{
	struct reaper *r;
	int i, n;

	for (; cnt > 0; links += n, cnt -= n) {
		n = cnt < per_thread ? cnt : per_thread;
		r = malloc(sizeof(*r) + (size_t)n * sizeof(r->links[0]));
		if (r) {
			r->cnt = n;
			memcpy(r->links, links, (size_t)n * sizeof(links[0]));
			if (!pthread_create(&r->th, NULL, destroy_links, r)) {
				r->next = p->reapers;
				p->reapers = r;
				continue;
			}
			free(r);
		}
		for (i = 0; i < n; i++)
			destroy_link(&links[i]);
	}
}

void probes__release(struct probes *p, int pid)
{
	/* perf uprobes: two per allocating function, one per return
	 * instruction, free's, and the loader's and markers' */
	struct probe_link mine[ALLOC_FN_MAX * 2 + PROBE_SET_MAX + 4];
	__u32 tgid = (__u32)pid;
	int i, kept = 0, n = 0;

	bpf_map__delete_elem(p->skel->maps.traced, &tgid, sizeof(tgid), 0);
	for (i = 0; i < p->link_cnt; i++) {
		if (p->links[i].pid == pid && n < (int)(sizeof(mine) / sizeof(mine[0])))
			mine[n++] = p->links[i];
		else
			p->links[kept++] = p->links[i];
	}
	p->link_cnt = kept;
	reap(p, mine, n, 4);
}

#define REAPERS_MAX 64

void probes__detach(struct probes *p)
{
	struct reaper *r;

	reap(p, p->links, p->link_cnt, (p->link_cnt + REAPERS_MAX - 1) / REAPERS_MAX ?: 1);
	p->link_cnt = 0;
	while ((r = p->reapers)) {
		p->reapers = r->next;
		pthread_join(r->th, NULL);
		free(r);
	}
}

void probes__free(struct probes *p)
{
	if (!p)
		return;
	probes__detach(p);
	if (p->unw_rows) {
		munmap(p->unw_rows, p->unw_rows_len);
		munmap(p->unw_pages, p->unw_pages_len);
	}
	ttbpf_bpf__destroy(p->skel);
	free(p->links);
	free(p);
}
