/* SPDX-License-Identifier: Apache-2.0 */
/*
 * -f/--follow-forks: what happens when the target forks. Each new process
 * gets its probes (while ptrace holds it, before it runs) and a model of its
 * own; its records are routed there; its probes go when it ends.
 */
#ifndef TT_FOLLOW_H
#define TT_FOLLOW_H

#include <stdbool.h>
#include "events.h"
#include "model.h"
#include "probes.h"
#include "procs.h"
#include "target.h"
#include "unwinder.h"

struct follow {
	struct probes *probes;
	struct procs *procs;   /* NULL: not following (only the target's exit) */
	struct events *events;
	struct model *root;    /* the target's */
	struct unwinder *unw;  /* NULL: frame-pointer stacks */
	int root_pid;
	bool markers;          /* attach TT_TRACK_VAR markers in new images */
	bool done;             /* tracing is over: new processes are left alone */
	int verbose;
	unsigned unlisted;     /* children not followed at all (out of memory) */
	unsigned not_traced;   /* children whose probes could not be attached */
	/* where the records of a process let go of go (their probes are
	 * removed in the background, after it runs on): counted nowhere */
	struct model discard;
	bool has_discard;
};

/*
 * The unwind tables of what pid maps now, and the probe on its dynamic
 * linker's hook; hold: pid is ptraced by us, and may be held there until
 * the tables of what it maps next are loaded (user/tracing/unwinder.h).
 */
void follow__unwind_process(struct follow *f, int pid, bool hold);
/* Hooks for target__set_hooks() with f as their context. */
void follow__hooks(struct follow *f, struct target_hooks *h);
/* events_route_fn: the model of a followed process. */
struct model *follow__route(void *ctx, int tgid);
/* Frees what following kept for itself (not the probes, procs or events). */
void follow__fini(struct follow *f);

#endif /* TT_FOLLOW_H */
