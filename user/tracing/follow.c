// SPDX-License-Identifier: Apache-2.0
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "clock.h"
#include "elf_syms.h"
#include "follow.h"
#include "procmem.h"
#include "symbolize.h"
#include "text_clean.h"

/* Children that could not be traced named one by one on stderr; the rest are
 * counted at the end (a thousand children must not bury the summary). */
#define FAILURES_TOLD 5

/* Markers of the image pid runs now; a process without them is fine. */
static void attach_markers(struct follow *f, int pid)
{
	char exe[64];

	if (!f->markers)
		return;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	probes__attach_vars(f->probes, pid, exe);
}

void follow__unwind_process(struct follow *f, int pid, bool hold)
{
	char exe[64], interp[PATH_MAX], at[PATH_MAX + 32];
	int err;

	if (!f->unw)
		return;
	unwinder__scan(f->unw, pid);
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	if (!elf_syms__interp(exe, interp, sizeof(interp))) {
		/* the dynamic linker as the process sees it (a container's) */
		snprintf(at, sizeof(at), "/proc/%d/root%s", pid, interp);
		err = probes__attach_loader(f->probes, pid, at);
		if (err && f->verbose)
			fprintf(stderr, "ttbpf: no hook in %s's dynamic linker %s: %s (tables of "
					"libraries it loads come when a stack needs them)\n",
				TEXT_CLEAN(exe), TEXT_CLEAN(interp), strerror(-err));
	}
	if (hold)
		unwinder__arm_hold(f->unw, pid);
}

static void on_spawned(void *ctx, int pid, int parent_pid)
{
	struct follow *f = ctx;
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
	struct proc *p;
	int err;

	if (f->done || !f->procs)
		return;
	/* records of an earlier process with this pid must not land here */
	if (procs__find(f->procs, pid) && f->events)
		events__drain(f->events);
	p = procs__add(f->procs, pid, parent_pid, t0);
	if (!p) {
		fprintf(stderr, "ttbpf: out of memory: pid %d (child of %d) is not followed\n", pid,
			parent_pid);
		f->unlisted++;
		return;
	}
	events__adopt(&p->model);
	err = probes__attach(f->probes, pid);
	if (err) {
		/* what did attach goes: none of its records is counted */
		probes__release(f->probes, pid);
		p->untraced = p->never_traced = true;
		snprintf(p->untraced_why, sizeof(p->untraced_why),
			 "its probes could not be attached: %s", strerror(-err));
		if (f->not_traced++ < FAILURES_TOLD)
			fprintf(stderr, "ttbpf: pid %d (child of %d) is not traced: %s\n", pid,
				parent_pid, p->untraced_why);
		else if (f->not_traced == FAILURES_TOLD + 1)
			fputs("ttbpf: further children not traced are counted at the end\n", stderr);
		return;
	}
	attach_markers(f, pid);
	follow__unwind_process(f, pid, true);
	if (f->verbose)
		fprintf(stderr, "ttbpf: following pid %d, child of %d (held %.1f ms for its probes)\n",
			pid, parent_pid, (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e6);
}

static void on_execed(void *ctx, int pid)
{
	struct follow *f = ctx;
	struct proc *p = f->procs ? procs__find(f->procs, pid) : NULL;

	if (f->done)
		return;
	if (p)
		procmem__cmdline(pid, p->command, sizeof(p->command));
	if (p || pid == f->root_pid) {
		attach_markers(f, pid);
		follow__unwind_process(f, pid, true);
	}
}

/* The last moment its mappings can be read. */
static void on_exiting(void *ctx, int pid)
{
	struct follow *f = ctx;
	struct proc *p = f->procs ? procs__find(f->procs, pid) : NULL;
	struct model *m = pid == f->root_pid ? f->root : p ? &p->model : NULL;

	if (m && m->sym)
		symbolizer__refresh(m->sym);
}

static void on_ended(void *ctx, int pid, int exit_code)
{
	struct follow *f = ctx;
	struct proc *p = f->procs ? procs__find(f->procs, pid) : NULL;

	if (f->unw)
		unwinder__disarm_hold(f->unw, pid);
	if (!p)
		return;
	p->exit_code = exit_code;
	p->end_ns = clock_ns(CLOCK_MONOTONIC);
	if (!f->done)
		probes__release(f->probes, pid);
}

/* Its exec changed its credentials: nothing it does from now on is counted. */
static void on_untraced(void *ctx, int pid, const char *why)
{
	struct follow *f = ctx;
	struct proc *p = f->procs ? procs__find(f->procs, pid) : NULL;

	if (f->unw)
		unwinder__disarm_hold(f->unw, pid);
	if (f->done)
		return;
	/* held at its exec still: what it did before is read, the rest (until
	 * its probes are gone) goes to the discard model */
	if (f->events)
		events__drain(f->events);
	if (!f->has_discard)
		f->has_discard = !model__init(&f->discard, clock_ns(CLOCK_MONOTONIC), 0, false, 0);
	probes__release(f->probes, pid);
	if (p) {
		procmem__cmdline(pid, p->command, sizeof(p->command));
		p->untraced = true;
		snprintf(p->untraced_why, sizeof(p->untraced_why), "%s", why);
	}
	fprintf(stderr, "ttbpf: pid %d (%s) is no longer traced: %s%s\n", pid,
		p ? TEXT_CLEAN(p->command) : "the command", why, p ? "; its exit status is not known" : "");
}

static bool on_signalled(void *ctx, int tid, int sig)
{
	struct follow *f = ctx;

	return f->unw && unwinder__take_hold(f->unw, tid, sig);
}

void follow__hooks(struct follow *f, struct target_hooks *h)
{
	h->signalled = on_signalled;
	h->spawned = on_spawned;
	h->execed = on_execed;
	h->exiting = on_exiting;
	h->ended = on_ended;
	h->untraced = on_untraced;
	h->ctx = f;
}

struct model *follow__route(void *ctx, int tgid)
{
	struct follow *f = ctx;
	struct proc *p = f->procs ? procs__find(f->procs, tgid) : NULL;

	if (p && p->untraced)
		return f->has_discard ? &f->discard : NULL;
	return p ? &p->model : NULL;
}

void follow__fini(struct follow *f)
{
	if (f->has_discard)
		model__fini(&f->discard);
	f->has_discard = false;
}
