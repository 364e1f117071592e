// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "alloc_fns.h"
#include "elf_syms.h"
#include "placement.h"
#include "probes.h"
#include "ttbpf.skel.h"

/*
 * An allocating function gets an entry and a return probe; free gets an
 * entry probe only; the variable markers one each. Uprobes are per process:
 * each followed child gets its own set, removed when it exits.
 */
struct probe_link {
	struct bpf_link *link;
	int pid; /* the process it is for; 0: all (the exec tracepoint) */
};

/* Links being removed in the background, each batch by one thread. */
struct reaper {
	pthread_t th;
	struct reaper *next;
	int cnt;
	struct bpf_link *links[];
};

struct probes {
	struct ttbpf_bpf *skel;
	const char *lib_path;
	struct elf_func funcs[ALLOC_FN_MAX];
	struct placement free_at; /* where free's entry-only probe goes */
	struct probe_link *links;
	int link_cnt, link_cap;
	int procs;               /* processes with probes */
	bool exec_attached;
	struct reaper *reapers;
	int verbose;
};

static int add_link(struct probes *p, struct bpf_link *link, int pid)
{
	if (p->link_cnt == p->link_cap) {
		int cap = p->link_cap ? 2 * p->link_cap : 64;
		struct probe_link *n = realloc(p->links, (size_t)cap * sizeof(*n));

		if (!n) {
			bpf_link__destroy(link);
			return -ENOMEM;
		}
		p->links = n;
		p->link_cap = cap;
	}
	p->links[p->link_cnt].link = link;
	p->links[p->link_cnt++].pid = pid;
	return 0;
}

static int resolve_funcs(struct probes *p);
static int verbose_level;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && verbose_level < 2)
		return 0;
	if (!verbose_level)
		return 0;
	return vfprintf(stderr, fmt, args);
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
	p->skel->rodata->wakeup_bytes = opts->wakeup_bytes;
	p->skel->rodata->max_frames = opts->max_frames;
	p->skel->rodata->aggregate = opts->aggregate;
	if (opts->aggregate &&
	    (bpf_map__set_max_entries(p->skel->maps.agg_stacks, TT_AGG_MAX_STACKS) ||
	     bpf_map__set_max_entries(p->skel->maps.agg_live, opts->max_live))) {
		err = -EINVAL;
		fprintf(stderr, "ttbpf: invalid --max-live %u\n", opts->max_live);
		goto err_destroy;
	}
	p->skel->rodata->free_probe_vaddr = p->funcs[TT_FN_FREE].vaddr + p->free_at.offset;
	if (!elf_syms__text_range(p->lib_path, &text_lo, &text_hi)) {
		p->skel->rodata->lib_text_lo = text_lo;
		p->skel->rodata->lib_text_hi = text_hi;
	} /* else cannot tell: every free counts as the program's */
	err = bpf_map__set_max_entries(p->skel->maps.events, opts->ringbuf_bytes);
	if (err) {
		fprintf(stderr, "ttbpf: invalid ring buffer size %u\n", opts->ringbuf_bytes);
		goto err_destroy;
	}
	err = ttbpf_bpf__load(p->skel);
	if (err) {
		explain_load_error(err);
		goto err_destroy;
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
		      uint64_t offset, enum tt_fn fn, bool retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = fn, .retprobe = retprobe);
	struct bpf_link *link;

	link = bpf_program__attach_uprobe_opts(prog, pid, path, (size_t)offset, &uo);
	if (!link)
		return -errno;
	return add_link(p, link, pid);
}

static void explain_attach_error(const char *name, const char *path, int err)
{
	if (err == -ENOENT || err == -EINVAL)
		fprintf(stderr, "ttbpf: cannot attach a uprobe to %s in %s: %s; is this kernel "
				"built with CONFIG_UPROBES=y?\n", name, path, strerror(-err));
	else
		fprintf(stderr, "ttbpf: cannot attach a uprobe to %s in %s: %s\n", name, path,
			strerror(-err));
}

/*
 * free's probe reads only rdi and the return address at [rsp]: it may sit on
 * the first instruction the kernel emulates instead of one it single-steps
 * (glibc 2.36: free+3, a je, instead of a test: ~5 us a call instead of ~19).
 */
static void place_free(struct probes *p)
{
	uint8_t code[PLACEMENT_CODE_MAX];
	int n;

	n = elf_syms__read(p->lib_path, p->funcs[TT_FN_FREE].offset, code, sizeof(code));
	placement__choose(code, n > 0 ? (size_t)n : 0, PLACEMENT_RDI | PLACEMENT_RSP, &p->free_at);
	if (p->verbose)
		fprintf(stderr, "ttbpf: free probe at free%s\n", p->free_at.why);
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
		fprintf(stderr, "ttbpf: cannot read symbols of %s: %s\n", p->lib_path, strerror(-err));
		return err;
	}
	for (i = 0; i < alloc_fn_cnt; i++) {
		if (p->funcs[i].offset || !alloc_fns[i].required)
			continue;
		fprintf(stderr, "ttbpf: %s has no symbol '%s': is it an allocator? (a stripped "
				"static binary cannot be traced)\n", p->lib_path, alloc_fns[i].name);
		return -ENOENT;
	}
	place_free(p);
	return 0;
}

int probes__attach(struct probes *p, int pid)
{
	const char *path = p->lib_path;
	struct bpf_link *link;
	__u32 tgid = (__u32)pid;
	__u8 one = 1;
	size_t i, j;
	int err;

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
	}
	if (bpf_map__update_elem(p->skel->maps.traced, &tgid, sizeof(tgid), &one, sizeof(one),
				 BPF_ANY)) {
		err = -errno;
		fprintf(stderr, "ttbpf: cannot follow pid %d: %s (more than %d processes?)\n", pid,
			strerror(-err), TT_MAX_PROCS);
		return err;
	}
	p->procs++;

	for (i = 0; i < alloc_fn_cnt; i++) {
		const struct alloc_fn *f = &alloc_fns[i];
		uint64_t off = p->funcs[i].offset;
		bool dup = false;

		if (!off) {
			if (p->verbose)
				fprintf(stderr, "ttbpf: %s: no %s, skipped\n", path, f->name);
			continue;
		}
		/* Aliases (glibc's memalign is aligned_alloc) share one address:
		 * two probes there would report every call twice. */
		for (j = 0; j < i; j++)
			if (p->funcs[j].offset == off)
				dup = true;
		if (dup) {
			if (p->verbose)
				fprintf(stderr, "ttbpf: %s: %s is an alias of an already probed "
						"function, skipped\n", path, f->name);
			continue;
		}

		if (f->fn == TT_FN_FREE && i == TT_FN_FREE) {
			err = attach_one(p, p->skel->progs.free_enter, pid, path, off + p->free_at.offset,
					 f->fn, false);
		} else if (f->fn == TT_FN_FREE || f->fn == TT_FN_DELETE) {
			err = attach_one(p, p->skel->progs.free_enter, pid, path, off, f->fn, false);
		} else {
			err = attach_one(p, p->skel->progs.alloc_enter, pid, path, off, f->fn, false);
			if (!err)
				err = attach_one(p, p->skel->progs.alloc_exit, pid, path, off, f->fn, true);
		}
		if (err) {
			explain_attach_error(f->name, path, err);
			return err;
		}
		if (p->verbose)
			fprintf(stderr, "ttbpf: probing %s at %s+0x%llx\n", f->name, path,
				(unsigned long long)(off + (i == TT_FN_FREE ? p->free_at.offset : 0)));
	}
	return 0;
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
			fprintf(stderr, "ttbpf: variable markers (USDT tt:track_var) in %s\n", exe);
	} else if (p->verbose) {
		fprintf(stderr, "ttbpf: no TT_TRACK_VAR markers in %s\n", exe);
	}

	err = elf_syms__funcs(exe, fn_name, 1, &fn);
	if (!err && fn.offset) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo);

		link = bpf_program__attach_uprobe_opts(p->skel->progs.track_var_fn, pid, exe,
						       (size_t)fn.offset, &uo);
		if (!link) {
			err = -errno;
			fprintf(stderr, "ttbpf: cannot attach to tt_track_var in %s: %s\n", exe,
				strerror(-err));
			return err;
		}
		err = add_link(p, link, pid);
		if (err)
			return err;
		kinds++;
		if (p->verbose)
			fprintf(stderr, "ttbpf: variable marker function tt_track_var in %s\n", exe);
	}
	return kinds;
}

int probes__events_fd(const struct probes *p)
{
	return bpf_map__fd(p->skel->maps.events);
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
	return p->link_cnt;
}

int probes__procs(const struct probes *p)
{
	return p->procs;
}

static void *destroy_links(void *arg)
{
	struct reaper *r = arg;
	int i;

	for (i = 0; i < r->cnt; i++)
		bpf_link__destroy(r->links[i]);
	return NULL;
}

/*
 * Removing a uprobe waits for the kernel to be sure no CPU is still in it,
 * ~80 ms here, one probe after the other: 1.3 s for 17 probes. Handed to
 * threads, per batches, those waits overlap.
 */
static void reap(struct probes *p, struct bpf_link **links, int cnt, int per_thread)
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
			bpf_link__destroy(links[i]);
	}
}

void probes__release(struct probes *p, int pid)
{
	struct bpf_link *mine[ALLOC_FN_MAX * 2 + 2];
	__u32 tgid = (__u32)pid;
	int i, kept = 0, n = 0;

	bpf_map__delete_elem(p->skel->maps.traced, &tgid, sizeof(tgid), 0);
	for (i = 0; i < p->link_cnt; i++) {
		if (p->links[i].pid == pid && n < (int)(sizeof(mine) / sizeof(mine[0])))
			mine[n++] = p->links[i].link;
		else
			p->links[kept++] = p->links[i];
	}
	p->link_cnt = kept;
	reap(p, mine, n, 4);
}

#define REAPERS_MAX 64

void probes__detach(struct probes *p)
{
	struct bpf_link **all = malloc((size_t)(p->link_cnt ?: 1) * sizeof(*all));
	struct reaper *r;
	int i;

	if (all) {
		for (i = 0; i < p->link_cnt; i++)
			all[i] = p->links[i].link;
		reap(p, all, p->link_cnt, (p->link_cnt + REAPERS_MAX - 1) / REAPERS_MAX ?: 1);
		free(all);
	} else {
		for (i = 0; i < p->link_cnt; i++)
			bpf_link__destroy(p->links[i].link);
	}
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
	ttbpf_bpf__destroy(p->skel);
	free(p->links);
	free(p);
}
