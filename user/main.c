// SPDX-License-Identifier: Apache-2.0
/* Options → load → launch or attach → trace → reports → exit status. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "aggregate.h"
#include "callsites.h"
#include "clock.h"
#include "elf_syms.h"
#include "diff.h"
#include "events.h"
#include "follow.h"
#include "heap.h"
#include "live.h"
#include "model.h"
#include "options.h"
#include "probes.h"
#include "procmem.h"
#include "procs.h"
#include "report_top.h"
#include "reports.h"
#include "snapshot.h"
#include "symbolize.h"
#include "target.h"
#include "unwinder.h"
#include "text_clean.h"
#define POLL_MS 50 /* also bounds how long a record waits without a wake-up */

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t snapshot_asked; /* SIGUSR1 */
static struct target *signal_target;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
	/* like time(1): the command gets what we got */
	target__signal(signal_target, sig);
}

/* SIGUSR1: the reports now. Ours alone: the target never sees it. */
static void on_snapshot_signal(int sig)
{
	snapshot_asked = 1;
}

static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* From the start: a SIGUSR1 while probes are being attached must not kill
 * ttbpf (a launched command's exec resets it to the default). */
static void catch_snapshot_signal(void)
{
	struct sigaction sa = { .sa_handler = on_snapshot_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

/* What the run loop, the live line and the snapshots share. */
struct run {
	const struct options *o;
	const struct report_plan *plan;
	struct report_plan snap_plan; /* the files a snapshot rewrites */
	size_t snap_files;
	const char *lib;
	struct callsites_opts sites; /* how stacks are grouped into call sites */
	struct target *t;
	struct probes *probes;
	struct events *ev;
	struct procs *procs;
	struct model model;
	struct rss_sampler rss;   /* the target's RSS into model.timeline */
	struct report_meta meta;
	struct report_proc *rows; /* -f: the children's lines, once written */
	struct snapshot *snap;
	bool snap_top;            /* the snapshot being taken prints the top-N */
	bool live;                /* the live line is on stderr */
	struct live_sample last;  /* the live line's previous sample */
	bool have_last;
};

/*
 * What happens to our children (the launched command; with -f, every task
 * followed stops for ptrace) arrives as SIGCHLD: read from a signalfd that
 * wakes the reader, so that a stopped task waits for nothing. -1 when not
 * needed or not possible (the poll timeout then bounds the wait).
 */
static int child_events_fd(struct events *ev, const struct target *t, const struct options *o)
{
	sigset_t chld;
	int fd;

	if (!target__launched(t) && !o->follow)
		return -1;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	/* after the launch: the command must not inherit SIGCHLD blocked */
	if (sigprocmask(SIG_BLOCK, &chld, NULL))
		return -1;
	fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd >= 0 && events__wake_on(ev, fd)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void drain_fd(int fd)
{
	struct signalfd_siginfo si[8];

	while (fd >= 0 && read(fd, si, sizeof(si)) > 0)
		;
}

/*
 * -f: each process followed holds a few files (its probe links while it
 * lives, the files its symbols come from until the reports): the default
 * 1,024 ran out after ~240 children. Raised to the hard limit, after the
 * launch (the command keeps the limits it had).
 */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Variable markers, unless the target opted out. */
static int attach_markers(struct probes *probes, const struct target *t, const struct options *o)
{
	char exe[PATH_MAX];
	int n;

	if (target__tools_disabled(t)) {
		if (!o->quiet)
			fprintf(stderr, "ttbpf: TRACE_TOOLS_DISABLED=1 in the target's environment: "
					"variable markers are left alone\n");
		return 0;
	}
	if (target__exe(t, exe, sizeof(exe)))
		return 0; /* the command will not run: launch reports it */
	n = probes__attach_vars(probes, target__pid(t), exe);
	return n < 0 ? n : 0;
}

/*
 * --unwind: dwarf unless fp is asked for, or stacks are off, or the kernel
 * lacks what the BPF unwinder calls. Returns false when dwarf was asked for
 * and cannot be had (explained).
 */
static bool choose_unwind(const struct options *o, bool *dwarf)
{
	*dwarf = o->stack_depth && o->unwind != UNWIND_FP;
	if (!*dwarf || probes__dwarf_supported())
		return true;
	*dwarf = false;
	if (o->unwind == UNWIND_DWARF) {
		fprintf(stderr, "ttbpf: --unwind dwarf needs bpf_loop and bpf_find_vma (Linux "
				"5.17+), which this kernel lacks; --unwind fp walks frame pointers\n");
		return false;
	}
	if (!o->quiet)
		fprintf(stderr, "ttbpf: this kernel lacks bpf_loop or bpf_find_vma (Linux 5.17+): "
				"stacks are walked by frame pointer, and end early in code built "
				"without them\n");
	return true;
}

/*
 * Unwind tables before the target runs. A launched command has not exec'd
 * yet: its executable, its dynamic linker and the allocator's library are
 * known by path, and its main thread is held at the dynamic linker's hook
 * once the libraries it needs are mapped. An attached process: what it maps.
 */
static void prepare_unwinder(struct follow *f, struct target *t, const char *lib)
{
	char exe[PATH_MAX], interp[PATH_MAX];
	int err;

	if (!f->unw)
		return;
	if (!target__launched(t)) {
		follow__unwind_process(f, target__pid(t), target__ptraced(t));
		return;
	}
	if (target__exe(t, exe, sizeof(exe)))
		return; /* the command will not run: launch reports it */
	unwinder__add_path(f->unw, exe);
	unwinder__add_path(f->unw, lib);
	if (elf_syms__interp(exe, interp, sizeof(interp)))
		return; /* static: nothing is mapped later but by dlopen */
	unwinder__add_path(f->unw, interp);
	err = probes__attach_loader(f->probes, target__pid(t), interp);
	if (err && f->verbose)
		fprintf(stderr, "ttbpf: no hook in the dynamic linker %s: %s\n", TEXT_CLEAN(interp),
			strerror(-err));
	/* a thread not ptraced would get the signal itself */
	if (!err && target__ptraced(t))
		unwinder__arm_hold(f->unw, target__pid(t));
}

/* Fills what the reports say about the run, once tracing is over. */
static void describe_run(struct report_meta *meta, struct target *t, struct probes *probes,
			 struct events *ev, const char *lib, bool aggregate)
{
	meta->lost_events = probes__counter(probes, TT_CNT_LOST_EVENTS);
	meta->inflight_dropped = probes__counter(probes, TT_CNT_INFLIGHT_FULL);
	meta->calls_not_followed = probes__counter(probes, TT_CNT_UNFOLLOWED_CALLS);
	meta->pid = target__pid(t);
	meta->command = target__command(t);
	meta->allocator = lib;
	meta->launched = target__launched(t);
	meta->exit_code = target__exit_code(t);
	meta->records = events__stats(ev)->records;
	meta->bad_records = events__stats(ev)->bad_records;
	meta->unreadable_strings = events__stats(ev)->unreadable_strings;
	meta->max_delay_ns = events__stats(ev)->max_delay_ns;
	meta->mean_delay_ns = events__stats(ev)->delay_samples
				      ? events__stats(ev)->delay_sum_ns / events__stats(ev)->delay_samples
				      : 0;
	meta->aggregate = aggregate;
	meta->sysmem = probes__sysmem(probes);
	meta->sysmem_lost = probes__counter(probes, TT_CNT_SYSMEM_LOST);
	meta->agg_blocks_full = probes__counter(probes, TT_CNT_AGG_BLOCKS_FULL);
	meta->agg_stacks_full = probes__counter(probes, TT_CNT_AGG_STACKS_FULL);
	meta->agg_collisions = probes__counter(probes, TT_CNT_AGG_COLLISIONS);
	meta->unw_stacks = probes__counter(probes, TT_CNT_UNW_STACKS);
	meta->unw_frames_cfi = probes__counter(probes, TT_CNT_UNW_FRAMES_CFI);
	meta->unw_frames_fp = probes__counter(probes, TT_CNT_UNW_FRAMES_FP);
	meta->unw_vma_busy = probes__counter(probes, TT_CNT_UNW_VMA_BUSY);
}

/* -f: each child's reports, then its line in the target's report. */
static int report_children(const struct report_plan *plan, struct procs *procs,
			   const struct report_meta *target_meta,
			   const struct callsites_opts *sites, struct report_proc **out)
{
	size_t i, n = procs ? procs__count(procs) : 0;
	struct report_proc *rows;
	struct report_plan cp;
	int err = 0, e;

	*out = NULL;
	if (!n)
		return 0;
	rows = calloc(n, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct proc *p = procs__at(procs, i);
		struct report_meta meta = *target_meta;
		const struct heap_stats *st = heap__stats(p->model.heap);

		meta.pid = p->pid;
		meta.parent_pid = p->parent_pid;
		meta.command = p->command;
		meta.launched = false;
		meta.exit_code = p->exit_code;
		/* its own life: born, and ended (or still running when tracing did) */
		meta.start_ns = p->start_ns;
		if (p->end_ns && p->end_ns < meta.end_ns)
			meta.end_ns = p->end_ns;
		rows[i] = (struct report_proc){
			.pid = p->pid, .parent_pid = p->parent_pid, .command = p->command,
			.exit_code = p->exit_code, .untraced = p->untraced,
			.untraced_why = p->untraced ? p->untraced_why : NULL,
			.never_traced = p->never_traced,
			.total_allocs = st->total_allocs,
			.total_alloc_bytes = st->total_alloc_bytes, .live_cnt = st->live_cnt,
			.live_bytes = st->live_bytes, .peak_bytes = st->peak_bytes,
		};
		/* one never traced has no figures: no reports that would show zeros */
		if (p->never_traced)
			continue;
		if (model__finish_opts(&p->model, sites))
			fprintf(stderr, "ttbpf: out of memory grouping call sites of pid %d\n", p->pid);
		/* a path that could not be derived is left out, the rest written */
		e = reports__plan_child(plan, p->pid, &cp);
		if (reports__write(&cp, &p->model, &meta) || e)
			err = -EIO;
		if (cp.json[0] && !cp.json_is_temp)
			rows[i].report = strdup(cp.json);
	}
	*out = rows;
	return err;
}

static void free_rows(struct report_proc *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++)
		free((char *)rows[i].report);
	free(rows);
}

/* The figures of the live line now: the target's, or summed with -f. */
static void live_sample(struct run *r, struct live_sample *ls, uint64_t now_ns)
{
	size_t i, n = r->procs ? procs__count(r->procs) : 0;

	memset(ls, 0, sizeof(*ls));
	ls->ns = now_ns;
	ls->lost = probes__counter(r->probes, TT_CNT_LOST_EVENTS);
	ls->aggregate = r->o->aggregate;
	ls->rss_bytes = n ? 0 : r->rss.last_bytes; /* the root's only: not a sum */
	for (i = 0; i <= n; i++) {
		const struct heap_stats *st =
			heap__stats(i ? procs__at(r->procs, i - 1)->model.heap : r->model.heap);

		ls->allocs += st->total_allocs;
		ls->frees += st->total_frees;
		ls->live_cnt += st->live_cnt;
		ls->live_bytes += st->live_bytes;
		ls->peak_bytes += st->peak_bytes;
		ls->procs++;
	}
}

static void show_live(struct run *r, uint64_t now_ns)
{
	struct live_sample ls;
	char line[LIVE_LINE_MAX];
	size_t len;

	live_sample(r, &ls, now_ns);
	len = live__format(line, sizeof(line), r->have_last ? &r->last : NULL, &ls,
			   r->meta.start_ns, live__width(STDERR_FILENO));
	live__show(STDERR_FILENO, line, len);
	r->last = ls;
	r->have_last = true;
}

/* The reports of -f's children, then the target's (finished first unless a
 * snapshot's top-N already did). */
static int write_reports(struct run *r, const struct report_plan *plan)
{
	int err = 0;

	if (report_children(plan, r->procs, &r->meta, &r->sites, &r->rows))
		err = -EIO;
	r->meta.children = r->rows;
	r->meta.child_cnt = r->rows ? procs__count(r->procs) : 0;
	if (!r->model.sites && model__finish_opts(&r->model, &r->sites))
		fprintf(stderr, "ttbpf: out of memory grouping call sites\n");
	if (reports__write(plan, &r->model, &r->meta))
		err = -EIO;
	return err;
}

/* The top-N on stderr in one write, over the live line. */
static int print_top(struct run *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	if (r->live)
		fputs("\r\033[K", f);
	err = report_top__write(f, &r->model, r->o->top, r->meta.end_ns - r->meta.start_ns);
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (!err && write(STDERR_FILENO, buf, len) != (ssize_t)len)
		err = -EIO;
	free(buf);
	return err;
}

/* In the snapshot's child: its own copy of the model, written out. */
static int write_snapshot(void *ctx)
{
	struct run *r = ctx;
	int err = 0;

	if (r->o->aggregate && aggregate__collect(r->probes, &r->model))
		err = -EIO;
	if (r->snap_top) {
		if (model__finish_opts(&r->model, &r->sites))
			fprintf(stderr, "ttbpf: out of memory grouping call sites\n");
		err = print_top(r) ?: err;
	}
	if (r->snap_files)
		err = write_reports(r, &r->snap_plan) ?: err;
	return err;
}

/*
 * A snapshot now, unless the last one still runs (-EBUSY: the caller asks
 * again). The child's model is this moment's: the records read so far, and
 * the kernel's counters read here.
 */
static int take_snapshot(struct run *r, bool top, uint64_t now_ns)
{
	int err;

	if (snapshot__busy(r->snap))
		return -EBUSY;
	/* what was sent before the tick or the signal is in the snapshot */
	events__drain(r->ev);
	describe_run(&r->meta, r->t, r->probes, r->ev, r->lib, r->o->aggregate);
	r->meta.end_ns = now_ns;
	r->snap_top = top;
	fflush(NULL); /* nothing buffered is written twice */
	err = snapshot__start(r->snap, write_snapshot, r);
	if (err && err != -EBUSY) {
		if (r->live)
			live__clear(STDERR_FILENO);
		fprintf(stderr, "ttbpf: cannot start a snapshot of the reports: %s\n",
			strerror(-err));
	}
	return err;
}

/*
 * Reads records until the target exits, the duration ends or a signal
 * comes; meanwhile the live line, the interval's snapshots and SIGUSR1's.
 */
static int trace_loop(struct run *r, int chld_fd)
{
	const struct options *o = r->o;
	uint64_t start_ns = r->meta.start_ns, now;
	uint64_t deadline = o->duration_s ? start_ns + (uint64_t)(o->duration_s * 1e9) : 0;
	uint64_t interval_ns = (uint64_t)(o->interval_s * 1e9);
	uint64_t next_live = start_ns + 1000000000ull, next_snap = start_ns + interval_ns;
	bool tick_due = false;
	int n;

	while (!stop_signal) {
		n = events__poll(r->ev, POLL_MS);
		if (n < 0 && n != -EINTR) {
			if (r->live)
				live__clear(STDERR_FILENO);
			fprintf(stderr, "ttbpf: reading the ring buffer failed: %s\n", strerror(-n));
			return n;
		}
		drain_fd(chld_fd);
		now = clock_ns(CLOCK_MONOTONIC);
		/* after the records read: the RSS beside the heap they made */
		procmem__rss_tick(&r->rss, now);
		if (target__exited(r->t))
			break;
		if (deadline && now >= deadline)
			break;
		if (r->live && now >= next_live) {
			show_live(r, now);
			next_live = next_live + 1000000000ull > now ? next_live + 1000000000ull
								   : now + 1000000000ull;
		}
		if (interval_ns && now >= next_snap) {
			tick_due = true;
			next_snap = now + interval_ns;
		}
		/* a tick or a signal that finds the last snapshot running waits for it */
		if (snapshot_asked &&
		    take_snapshot(r, (tick_due || !r->snap_files) && !o->quiet, now) != -EBUSY) {
			snapshot_asked = 0;
			tick_due = false;
		}
		if (tick_due && take_snapshot(r, !o->quiet, now) != -EBUSY)
			tick_due = false;
	}
	return 0;
}

/* How the snapshots went: failures always, their cost with -v. */
static void print_snapshot_stats(const struct run *r)
{
	const struct snapshot_stats *st = snapshot__stats(r->snap);

	if (st->failed)
		fprintf(stderr, "ttbpf: %llu of %llu snapshots failed (said why above)\n",
			(unsigned long long)st->failed, (unsigned long long)st->started);
	if (r->o->verbose && st->started)
		fprintf(stderr, "ttbpf: %llu snapshots, the reader stalled %.3f ms at most "
				"(fork), %.3f ms on average; the longest took %.3f s to write\n",
			(unsigned long long)st->started, st->longest_fork_ns / 1e6,
			st->total_fork_ns / 1e6 / st->started, st->longest_run_ns / 1e9);
}

static int trace(const struct options *o, const struct report_plan *plan)
{
	struct probes_opts popts = {};
	struct target_hooks hooks;
	struct follow follow = {};
	struct unwinder *unw = NULL;
	struct unwinder_maps umaps;
	struct run r = { .o = o, .plan = plan, .rss = { .fd = -1 }, .meta = { .exit_code = -1 } };
	char lib[PATH_MAX];
	int err, rc = 1, chld_fd = -1;

	r.lib = lib;
	r.sites = (struct callsites_opts){
		.allocator = lib, .skip_frames = o->skip_frames, .skip_cnt = o->skip_cnt,
		.by_address = o->by_address,
	};
	catch_snapshot_signal();
	r.snap_files = reports__plan_snapshot(plan, &r.snap_plan);
	/* a terminal to rewrite a line on */
	r.live = !o->quiet && isatty(STDERR_FILENO);
	if (snapshot__new(&r.snap)) {
		fprintf(stderr, "ttbpf: out of memory\n");
		return 1;
	}

	err = o->argv ? target__launch(&r.t, o->argv, o->follow)
		      : target__attach(&r.t, o->pid, o->follow);
	if (err)
		goto cleanup; /* explained */
	if (o->follow)
		raise_fd_limit();
	err = target__allocator(r.t, o->lib_path, lib, sizeof(lib));
	if (err)
		goto cleanup;

	popts.lib_path = lib;
	popts.ringbuf_bytes = o->ringbuf_bytes;
	popts.wakeup_bytes = o->wakeup_bytes;
	popts.max_frames = o->stack_depth;
	popts.aggregate = o->aggregate;
	popts.max_live = o->max_live;
	popts.unwind_rows = o->unwind_rows;
	popts.verbose = o->verbose;
	if (!choose_unwind(o, &popts.unwind_dwarf)) {
		err = -ENOTSUP;
		goto cleanup;
	}
	if (popts.unwind_dwarf && !popts.unwind_rows) {
		char exe[PATH_MAX];

		/* a launched command has not run yet: what it maps is ours */
		if (target__launched(r.t))
			popts.unwind_rows = unwinder__rows_for(
				target__exe(r.t, exe, sizeof(exe)) ? NULL : exe, 0, o->follow, o->verbose);
		else
			popts.unwind_rows = unwinder__rows_for(NULL, target__pid(r.t), o->follow,
							       o->verbose);
	}
	err = probes__load(&r.probes, &popts);
	if (err)
		goto cleanup;
	if (probes__unwind_maps(r.probes, &umaps) && unwinder__new(&unw, &umaps, o->verbose)) {
		err = -ENOMEM;
		fprintf(stderr, "ttbpf: out of memory\n");
		goto cleanup;
	}
	follow.probes = r.probes;
	follow.unw = unw;
	follow.root_pid = target__pid(r.t);
	follow.verbose = o->verbose;

	r.meta.start_ns = clock_ns(CLOCK_MONOTONIC);
	r.meta.wall_minus_mono_ns = (int64_t)(clock_ns(CLOCK_REALTIME) - r.meta.start_ns);
	err = model__init(&r.model, r.meta.start_ns, target__pid(r.t), !target__launched(r.t),
			  o->max_vars);
	if (!err && o->follow)
		err = procs__new(&r.procs, o->max_vars);
	if (err) {
		fprintf(stderr, "ttbpf: out of memory\n");
		goto cleanup;
	}
	follow.procs = r.procs;
	prepare_unwinder(&follow, r.t, lib);
	err = probes__attach(r.probes, target__pid(r.t));
	err = err ?: attach_markers(r.probes, r.t, o);
	if (err)
		goto cleanup;
	err = events__new(&r.ev, probes__events_fd(r.probes), &r.model);
	if (err) {
		fprintf(stderr, "ttbpf: cannot read the ring buffer: %s\n", strerror(-err));
		goto cleanup;
	}

	events__set_unwinder(r.ev, unw);

	/* children (-f), the last chance to read what a short-lived command had
	 * mapped, and the unwinder's holds */
	follow.events = r.ev;
	follow.root = &r.model;
	follow.markers = !target__tools_disabled(r.t);
	follow__hooks(&follow, &hooks);
	target__set_hooks(r.t, &hooks);
	if (r.procs)
		events__route(r.ev, follow__route, &follow);
	chld_fd = child_events_fd(r.ev, r.t, o);
	signal_target = r.t;
	catch_stop_signals();
	if (target__launched(r.t)) {
		rc = target__release(r.t);
		if (rc)
			goto cleanup; /* 127/126: the command never ran */
	}
	if (!o->quiet)
		fprintf(stderr, "ttbpf: tracing pid %d (%d probes on %s); Ctrl-C to stop\n",
			target__pid(r.t), probes__attached_cnt(r.probes), TEXT_CLEAN(lib));

	r.meta.unwinder = unw;
	r.meta.stacks_off = !o->stack_depth;
	procmem__rss_start(&r.rss, target__pid(r.t), o->aggregate ? NULL : r.model.timeline);
	err = trace_loop(&r, chld_fd);
	procmem__rss_stop(&r.rss);
	if (r.live)
		live__clear(STDERR_FILENO);
	follow.done = true; /* processes born from now on run untraced */
	r.meta.end_ns = clock_ns(CLOCK_MONOTONIC);
	/* detach first, so that draining ends even if the target runs on */
	probes__detach(r.probes);
	events__drain(r.ev);
	if (o->aggregate && aggregate__collect(r.probes, &r.model))
		err = -EIO;
	if (target__launched(r.t) && !target__exited(r.t) && stop_signal)
		target__wait(r.t); /* it got the same signal: let it finish */
	describe_run(&r.meta, r.t, r.probes, r.ev, lib, o->aggregate);
	if (unw && o->verbose)
		unwinder__print(unw);

	/* a snapshot still being written must not land after the final reports */
	snapshot__wait(r.snap);
	if (write_reports(&r, plan))
		err = -EIO;
	/* results first, then what to say about them */
	if (follow.unlisted)
		fprintf(stderr, "ttbpf: %u child processes were not followed (out of memory)\n",
			follow.unlisted);
	if (follow.not_traced)
		fprintf(stderr, "ttbpf: %u of %zu child processes could not be traced (their probes "
				"could not be attached; processes[] of the JSON report lists them): "
				"exit status 1 unless the command's own is not 0\n",
			follow.not_traced, procs__count(r.procs));
	print_snapshot_stats(&r);

	rc = 0;
	if (target__launched(r.t)) {
		/* tracing ended first (--duration): the command runs on untraced */
		target__wait(r.t);
		rc = target__exit_code(r.t);
		if (rc < 0)
			rc = 1;
	}
	/* a run that missed processes it was asked to follow is not a success;
	 * a process let go by design (its exec changed credentials) is no failure */
	if (err || ((follow.not_traced || follow.unlisted) && rc == 0))
		rc = 1;

cleanup:
	if (err && rc == 0)
		rc = 1;
	if (r.t) /* what the hooks use is freed below; a last wait must not call them */
		target__set_hooks(r.t, NULL);
	if (chld_fd >= 0)
		close(chld_fd);
	snapshot__free(r.snap); /* before the fds it may use are closed */
	events__free(r.ev);
	unwinder__free(unw);
	probes__free(r.probes);
	signal_target = NULL;
	target__free(r.t);
	free_rows(r.rows, r.procs ? procs__count(r.procs) : 0);
	procs__free(r.procs);
	follow__fini(&follow);
	model__fini(&r.model);
	return rc;
}

/*
 * `ttbpf report FILE`: the reader takes a regular file only (it sizes it
 * first); anything else (a FIFO would block open() until a writer comes,
 * `-` is not stdin) is refused before it is opened.
 */
static int check_report_input(const char *path)
{
	struct stat st;

	if (!strcmp(path, "-")) {
		fprintf(stderr, "ttbpf: report: reading a report from stdin ('-') is not supported; "
				"save it to a file first\n");
		return -EINVAL;
	}
	if (stat(path, &st)) {
		fprintf(stderr, "ttbpf: report: cannot read %s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "ttbpf: report: %s is not a regular file (%s); save the report to "
				"a file first\n", path,
			S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISDIR(st.st_mode) ? "a directory"
			: S_ISSOCK(st.st_mode) ? "a socket" : "a device");
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct report_plan plan, snap;
	struct options o;

	/* a reader that went away (`2>&1 | head -1`) must not cost the reports:
	 * writes to it fail instead */
	target__ignore_sigpipe();

	switch (options__parse(&o, argc, argv)) {
	case OPTIONS_RUN:
		break;
	case OPTIONS_EXIT_OK:
		return 0;
	default:
		return 2;
	}
	if (o.diff_old) {
		struct diff_opts d = { o.diff_old, o.diff_new, o.folded_path, o.folded_weight, o.top };

		return diff__run(&d, stdout) ? 1 : 0;
	}
	if (o.report_in && check_report_input(o.report_in))
		return 1;
	if (reports__plan(&o, &plan))
		return 1;
	if (o.report_in)
		return reports__redraw(o.report_in, &plan) ? 1 : 0;
	if (o.interval_s && o.quiet && !reports__plan_snapshot(&plan, &snap)) {
		fprintf(stderr, "ttbpf: --interval with -q and no report file to rewrite (stdout, "
				"FIFOs and devices are written at the end only): nothing to do each "
				"interval\nTry 'ttbpf --help' for more information.\n");
		return 2;
	}
	return trace(&o, &plan);
}
