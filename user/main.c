// SPDX-License-Identifier: Apache-2.0
/* Options → load → launch or attach → trace → reports → exit status. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "events.h"
#include "heap.h"
#include "options.h"
#include "outfile.h"
#include "probes.h"
#include "report_json.h"
#include "report_text.h"
#include "stacks.h"
#include "target.h"
#include "timeline.h"
#include "vars.h"

#define TT_MAX_STACKS (1u << 20) /* distinct stacks kept */
#define POLL_MS 50 /* also bounds how long a record waits without a wake-up */

static volatile sig_atomic_t stop_signal;
static struct target *signal_target;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
	/* like time(1): the command gets what we got */
	target__signal(signal_target, sig);
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

struct outputs {
	const char *json;
	char json_buf[PATH_MAX];
};

static int plan_outputs(const struct options *o, struct outputs *out)
{
	int n;

	memset(out, 0, sizeof(*out));
	out->json = o->json_path;
	if (o->out_dir && !o->json_path) {
		n = snprintf(out->json_buf, sizeof(out->json_buf), "%s/ttbpf.json", o->out_dir);
		if (n < 0 || (size_t)n >= sizeof(out->json_buf)) {
			fprintf(stderr, "ttbpf: output directory name too long\n");
			return -ENAMETOOLONG;
		}
		out->json = out->json_buf;
	}
	/* fail now, not after a long trace */
	if (out->json && outfile__check(out->json))
		return -EINVAL;
	return 0;
}

/* Reads records until the target exits, the duration ends or a signal comes. */
static int trace_loop(struct events *ev, struct target *t, const struct options *o,
		      uint64_t start_ns)
{
	uint64_t deadline = o->duration_s ? start_ns + (uint64_t)(o->duration_s * 1e9) : 0;
	int n;

	while (!stop_signal) {
		n = events__poll(ev, POLL_MS);
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "ttbpf: reading the ring buffer failed: %s\n", strerror(-n));
			return n;
		}
		if (target__exited(t))
			break;
		if (deadline && now_ns(CLOCK_MONOTONIC) >= deadline)
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

int main(int argc, char **argv)
{
	struct probes_opts popts = {};
	struct report_meta meta = { .exit_code = -1 };
	struct probes *probes = NULL;
	struct events *ev = NULL;
	struct target *t = NULL;
	struct heap *heap = NULL;
	struct stacks *stacks = NULL;
	struct timeline *timeline = NULL;
	struct vars *vars = NULL;
	struct model model = {};
	struct outputs outs;
	struct options o;
	char lib[PATH_MAX];
	int err, rc = 1;

	switch (options__parse(&o, argc, argv)) {
	case OPTIONS_RUN:
		break;
	case OPTIONS_EXIT_OK:
		return 0;
	default:
		return 2;
	}
	if (plan_outputs(&o, &outs))
		return 1;

	heap = heap__new();
	if (!heap) {
		fprintf(stderr, "ttbpf: out of memory\n");
		return 1;
	}
	err = o.argv ? target__launch(&t, o.argv) : target__attach(&t, o.pid);
	if (err) {
		if (o.argv)
			fprintf(stderr, "ttbpf: cannot start %s: %s\n", o.argv[0], strerror(-err));
		goto cleanup;
	}
	err = target__allocator(t, o.lib_path, lib, sizeof(lib));
	if (err)
		goto cleanup;

	popts.lib_path = lib;
	popts.ringbuf_bytes = o.ringbuf_bytes;
	popts.wakeup_bytes = o.wakeup_bytes;
	popts.max_frames = o.stack_depth;
	popts.verbose = o.verbose;
	err = probes__load(&probes, &popts);
	if (err)
		goto cleanup;

	meta.start_ns = now_ns(CLOCK_MONOTONIC);
	meta.wall_minus_mono_ns = (int64_t)(now_ns(CLOCK_REALTIME) - meta.start_ns);
	err = probes__attach(probes, target__pid(t));
	if (err)
		goto cleanup;
	err = attach_markers(probes, t, &o);
	if (err)
		goto cleanup;
	err = stacks__new(&stacks, TT_MAX_STACKS);
	if (err)
		goto cleanup;
	err = timeline__new(&timeline, meta.start_ns);
	if (err)
		goto cleanup;
	err = vars__new(&vars, heap);
	if (err)
		goto cleanup;
	model.vars = vars;
	model.heap = heap;
	model.stacks = stacks;
	model.timeline = timeline;
	err = events__new(&ev, probes__events_fd(probes), &model);
	if (err) {
		fprintf(stderr, "ttbpf: cannot read the ring buffer: %s\n", strerror(-err));
		goto cleanup;
	}

	signal_target = t;
	catch_stop_signals();
	if (target__launched(t)) {
		rc = target__release(t);
		if (rc) {
			err = 0;
			goto cleanup; /* 127/126: the command never ran */
		}
	}
	if (!o.quiet)
		fprintf(stderr, "ttbpf: tracing pid %d (%d probes on %s); Ctrl-C to stop\n",
			target__pid(t), probes__attached_cnt(probes), lib);

	err = trace_loop(ev, t, &o, meta.start_ns);
	meta.end_ns = now_ns(CLOCK_MONOTONIC);
	/* detach first, so that draining ends even if the target runs on */
	probes__detach(probes);
	events__drain(ev);
	meta.lost_events = probes__counter(probes, TT_CNT_LOST_EVENTS);
	meta.inflight_dropped = probes__counter(probes, TT_CNT_INFLIGHT_FULL);

	if (target__launched(t) && !target__exited(t) && stop_signal)
		target__wait(t); /* it got the same signal: let it finish */
	meta.pid = target__pid(t);
	meta.command = target__command(t);
	meta.allocator = lib;
	meta.launched = target__launched(t);
	meta.exit_code = target__exit_code(t);
	meta.records = events__stats(ev)->records;
	meta.bad_records = events__stats(ev)->bad_records;

	if (!o.quiet)
		report_text__write(stderr, heap, &meta);
	if (outs.json && report_json__write(outs.json, &model, &meta))
		err = -EIO;

	if (target__launched(t)) {
		/* tracing ended first (--duration): the command runs on untraced */
		target__wait(t);
		rc = target__exit_code(t);
		if (rc < 0)
			rc = 1;
	} else {
		rc = 0;
	}
	if (err)
		rc = 1;

cleanup:
	if (err && rc == 0)
		rc = 1;
	events__free(ev);
	probes__free(probes);
	signal_target = NULL;
	target__free(t);
	vars__free(vars);
	timeline__free(timeline);
	stacks__free(stacks);
	heap__free(heap);
	return rc;
}
