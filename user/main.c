// SPDX-License-Identifier: Apache-2.0
/* Options → load → launch or attach → trace → reports → exit status. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
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
#include "model.h"
#include "options.h"
#include "probes.h"
#include "procs.h"
#include "reports.h"
#include "symbolize.h"
#include "target.h"
#include "unwinder.h"
#include "text_clean.h"
#define POLL_MS 50 /* also bounds how long a record waits without a wake-up */

static volatile sig_atomic_t stop_signal;
static struct target *signal_target;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
	/* like time(1): the command gets what we got */
	target__signal(signal_target, sig);
}

static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

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

/* Reads records until the target exits, the duration ends or a signal comes. */
static int trace_loop(struct events *ev, struct target *t, const struct options *o,
		      uint64_t start_ns, int chld_fd)
{
	uint64_t deadline = o->duration_s ? start_ns + (uint64_t)(o->duration_s * 1e9) : 0;
	int n;

	while (!stop_signal) {
		n = events__poll(ev, POLL_MS);
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "ttbpf: reading the ring buffer failed: %s\n", strerror(-n));
			return n;
		}
		drain_fd(chld_fd);
		if (target__exited(t))
			break;
		if (deadline && clock_ns(CLOCK_MONOTONIC) >= deadline)
			break;
	}
	return 0;
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

static int trace(const struct options *o, const struct report_plan *plan)
{
	struct probes_opts popts = {};
	struct report_meta meta = { .exit_code = -1 };
	struct callsites_opts sites = {
		.skip_frames = o->skip_frames, .skip_cnt = o->skip_cnt, .by_address = o->by_address,
	};
	struct report_proc *rows = NULL;
	struct target_hooks hooks;
	struct follow follow = {};
	struct probes *probes = NULL;
	struct procs *procs = NULL;
	struct events *ev = NULL;
	struct target *t = NULL;
	struct unwinder *unw = NULL;
	struct unwinder_maps umaps;
	struct model model = {};
	char lib[PATH_MAX];
	int err, rc = 1, chld_fd = -1;

	err = o->argv ? target__launch(&t, o->argv, o->follow)
		      : target__attach(&t, o->pid, o->follow);
	if (err)
		goto cleanup; /* explained */
	if (o->follow)
		raise_fd_limit();
	err = target__allocator(t, o->lib_path, lib, sizeof(lib));
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
	err = probes__load(&probes, &popts);
	if (err)
		goto cleanup;
	if (probes__unwind_maps(probes, &umaps) && unwinder__new(&unw, &umaps, o->verbose)) {
		err = -ENOMEM;
		fprintf(stderr, "ttbpf: out of memory\n");
		goto cleanup;
	}
	follow.probes = probes;
	follow.unw = unw;
	follow.root_pid = target__pid(t);
	follow.verbose = o->verbose;

	meta.start_ns = clock_ns(CLOCK_MONOTONIC);
	meta.wall_minus_mono_ns = (int64_t)(clock_ns(CLOCK_REALTIME) - meta.start_ns);
	err = model__init(&model, meta.start_ns, target__pid(t), !target__launched(t),
			  o->max_vars);
	if (!err && o->follow)
		err = procs__new(&procs, o->max_vars);
	if (err) {
		fprintf(stderr, "ttbpf: out of memory\n");
		goto cleanup;
	}
	follow.procs = procs;
	prepare_unwinder(&follow, t, lib);
	err = probes__attach(probes, target__pid(t));
	err = err ?: attach_markers(probes, t, o);
	if (err)
		goto cleanup;
	err = events__new(&ev, probes__events_fd(probes), &model);
	if (err) {
		fprintf(stderr, "ttbpf: cannot read the ring buffer: %s\n", strerror(-err));
		goto cleanup;
	}

	events__set_unwinder(ev, unw);

	/* children (-f), the last chance to read what a short-lived command had
	 * mapped, and the unwinder's holds */
	follow.events = ev;
	follow.root = &model;
	follow.markers = !target__tools_disabled(t);
	follow__hooks(&follow, &hooks);
	target__set_hooks(t, &hooks);
	if (procs)
		events__route(ev, follow__route, &follow);
	chld_fd = child_events_fd(ev, t, o);
	signal_target = t;
	catch_stop_signals();
	if (target__launched(t)) {
		rc = target__release(t);
		if (rc)
			goto cleanup; /* 127/126: the command never ran */
	}
	if (!o->quiet)
		fprintf(stderr, "ttbpf: tracing pid %d (%d probes on %s); Ctrl-C to stop\n",
			target__pid(t), probes__attached_cnt(probes), TEXT_CLEAN(lib));

	err = trace_loop(ev, t, o, meta.start_ns, chld_fd);
	follow.done = true; /* processes born from now on run untraced */
	meta.end_ns = clock_ns(CLOCK_MONOTONIC);
	/* detach first, so that draining ends even if the target runs on */
	probes__detach(probes);
	events__drain(ev);
	if (o->aggregate && aggregate__collect(probes, &model))
		err = -EIO;
	if (target__launched(t) && !target__exited(t) && stop_signal)
		target__wait(t); /* it got the same signal: let it finish */
	describe_run(&meta, t, probes, ev, lib, o->aggregate);
	meta.unwinder = unw;
	meta.stacks_off = !o->stack_depth;
	if (unw && o->verbose)
		unwinder__print(unw);

	sites.allocator = lib;
	if (report_children(plan, procs, &meta, &sites, &rows))
		err = -EIO;
	meta.children = rows;
	meta.child_cnt = rows ? procs__count(procs) : 0;
	if (model__finish_opts(&model, &sites))
		fprintf(stderr, "ttbpf: out of memory grouping call sites\n");
	if (reports__write(plan, &model, &meta))
		err = -EIO;
	/* results first, then what to say about them */
	if (follow.unlisted)
		fprintf(stderr, "ttbpf: %u child processes were not followed (out of memory)\n",
			follow.unlisted);
	if (follow.not_traced)
		fprintf(stderr, "ttbpf: %u of %zu child processes could not be traced (their probes "
				"could not be attached; processes[] of the JSON report lists them): "
				"exit status 1 unless the command's own is not 0\n",
			follow.not_traced, procs__count(procs));

	rc = 0;
	if (target__launched(t)) {
		/* tracing ended first (--duration): the command runs on untraced */
		target__wait(t);
		rc = target__exit_code(t);
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
	if (t) /* what the hooks use is freed below; a last wait must not call them */
		target__set_hooks(t, NULL);
	if (chld_fd >= 0)
		close(chld_fd);
	events__free(ev);
	unwinder__free(unw);
	probes__free(probes);
	signal_target = NULL;
	target__free(t);
	free_rows(rows, procs ? procs__count(procs) : 0);
	procs__free(procs);
	follow__fini(&follow);
	model__fini(&model);
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
	struct report_plan plan;
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
	return trace(&o, &plan);
}
