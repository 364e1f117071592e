/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The model of the target that records feed and reports read: the heap and
 * what hangs off it. Only heap is required; the rest may be NULL.
 */
#ifndef TT_MODEL_H
#define TT_MODEL_H

#include <stdbool.h>
#include <stdint.h>

struct heap;
struct stacks;
struct timeline;
struct vars;
struct mapped;
struct symbolizer;
struct callsites;
struct callsites_opts;

struct model {
	int pid;                     /* the target, for reading its memory */
	struct heap *heap;
	struct stacks *stacks;       /* allocation stacks */
	struct timeline *timeline;   /* the heap over time */
	struct vars *vars;           /* tracked variables */
	struct mapped *mapped;       /* anonymous mmap and brk beside the heap */
	struct symbolizer *sym;      /* addresses to names; reports only */
	struct callsites *sites;     /* built from stacks at report time */
	uint32_t stacks_seen;        /* events: stack ids up to this were checked
				      * against the known mappings */
};

/* Creates the parts a trace needs; pid names the target for symbolization
 * (0: none); map_now: read its mappings at once (not for a command that has
 * yet to exec); max_vars: variable instances listed. 0 or -ENOMEM. */
int model__init(struct model *m, uint64_t start_ns, int pid, bool map_now, uint32_t max_vars);
/* Once tracing is over: groups stacks into call sites (symbolizing them). */
int model__finish(struct model *m, const char *allocator);
/* The same with what is not a call site and how sites group (callsites.h);
 * -EINVAL for a bad --skip-frames pattern. */
int model__finish_opts(struct model *m, const struct callsites_opts *opts);
void model__fini(struct model *m);

#endif /* TT_MODEL_H */
