/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reports written while tracing goes on (--interval, SIGUSR1). A snapshot
 * fork()s: the child writes from its copy-on-write image of the model, which
 * no record changes any more, while the parent goes back to reading the ring
 * buffer at once. The parent is stalled only by fork() itself (copying the
 * page tables; the longest is kept in the stats). docs/outputs.md says why
 * and what the child may touch.
 *
 * The child: ignores the stop signals and SIGUSR1 (the parent decides when
 * tracing ends), closes the BPF links and perf events it inherited (so that
 * it never keeps probes on the target after the parent detached them), runs
 * at a lower priority than the reader, calls fn, and leaves with _exit (no
 * atexit handler, no stdio buffer of the parent flushed twice). It has no
 * ptrace link to anyone (ptrace is not inherited) and signals no one.
 */
#ifndef TT_SNAPSHOT_H
#define TT_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

struct snapshot;

struct snapshot_stats {
	uint64_t started;        /* children forked */
	uint64_t failed;         /* children whose fn failed or that died */
	uint64_t longest_fork_ns; /* the longest the parent spent in fork() */
	uint64_t total_fork_ns;
	uint64_t longest_run_ns;  /* fork to the end seen, the longest: how much
				   * older than the interval a report can be */
};

int snapshot__new(struct snapshot **out);
/* Waits for a running child first (its reports must not land after the
 * final ones). */
void snapshot__free(struct snapshot *s);

/*
 * Runs fn(ctx) in a child, which exits 0 when it returns 0. -EBUSY while the
 * previous child runs; another negative errno when fork fails.
 */
int snapshot__start(struct snapshot *s, int (*fn)(void *ctx), void *ctx);
/* Whether a child still runs; reaps it when it has ended. Never blocks. */
bool snapshot__busy(struct snapshot *s);
/* Blocks until no child runs. */
void snapshot__wait(struct snapshot *s);
const struct snapshot_stats *snapshot__stats(const struct snapshot *s);

#endif /* TT_SNAPSHOT_H */
