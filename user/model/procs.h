/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The child processes followed with -f: each has its own model (its heap,
 * stacks, timeline and variables: a child's addresses are its own), its
 * parent, its command and how it ended.
 */
#ifndef TT_PROCS_H
#define TT_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model.h"

#define PROC_COMMAND_MAX 4096

struct proc {
	int pid, parent_pid;
	struct model model;
	char command[PROC_COMMAND_MAX];
	int exit_code; /* as a shell reports it; -1 while running */
	bool untraced; /* not traced: its probes could not be attached, or its
			* exec changed its credentials */
	bool never_traced; /* untraced because tracing it failed (its probes
			    * could not be attached): no figure of it is known,
			    * and the run ends with a non-zero status */
	char untraced_why[96]; /* which, for the reports */
	uint64_t start_ns, end_ns; /* CLOCK_MONOTONIC: born, ended (0: running) */
};

struct procs;

/* max_vars: variable instances listed per process. */
int procs__new(struct procs **out, uint32_t max_vars);
/* A new child, born at start_ns: its model is created (its mappings read at
 * once: a forked child maps what its parent did), its timeline starting
 * there. NULL when out of memory. */
struct proc *procs__add(struct procs *ps, int pid, int parent_pid, uint64_t start_ns);
/* NULL when pid is not followed. */
struct proc *procs__find(struct procs *ps, int pid);
size_t procs__count(const struct procs *ps);
/* In the order they were added. */
struct proc *procs__at(struct procs *ps, size_t i);
void procs__free(struct procs *ps);

#endif /* TT_PROCS_H */
