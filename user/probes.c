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

/* An allocating function gets an entry and a return probe; free gets an
 * entry probe only. */
/* entry + return per function, and the two variable markers */
#define MAX_LINKS (2 * ALLOC_FN_MAX + 3)

struct probes {
	struct ttbpf_bpf *skel;
	const char *lib_path;
	struct elf_func funcs[ALLOC_FN_MAX];
	struct placement free_at; /* where free's entry-only probe goes */
	struct bpf_link *links[MAX_LINKS];
	int link_cnt;
	int verbose;
};

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
	p->skel->rodata->target_tgid = (__u32)opts->target_pid;
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
	p->links[p->link_cnt++] = link;
	return 0;
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
	size_t i, j;
	int err;

	/* exec ends the old image's heap: the reader must know when */
	link = bpf_program__attach(p->skel->progs.on_exec);
	if (!link) {
		err = -errno;
		fprintf(stderr, "ttbpf: cannot attach to sched_process_exec: %s\n", strerror(-err));
		return err;
	}
	p->links[p->link_cnt++] = link;

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

	if (p->link_cnt + 2 > MAX_LINKS)
		return -E2BIG;
	link = bpf_program__attach_usdt(p->skel->progs.track_var_usdt, pid, exe, "tt", "track_var",
					NULL);
	if (link) {
		p->links[p->link_cnt++] = link;
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
		p->links[p->link_cnt++] = link;
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

static void *destroy_link(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/*
 * Removing a uprobe waits for the kernel to be sure no CPU is still in it,
 * ~80 ms here, one probe after the other: 1.3 s for 17 probes. Removed from
 * threads, those waits overlap.
 */
void probes__detach(struct probes *p)
{
	pthread_t th[MAX_LINKS];
	bool started[MAX_LINKS] = {};
	int i;

	for (i = 0; i < p->link_cnt; i++)
		started[i] = !pthread_create(&th[i], NULL, destroy_link, p->links[i]);
	for (i = 0; i < p->link_cnt; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		else
			bpf_link__destroy(p->links[i]);
	}
	p->link_cnt = 0;
}

void probes__free(struct probes *p)
{
	if (!p)
		return;
	probes__detach(p);
	ttbpf_bpf__destroy(p->skel);
	free(p);
}
