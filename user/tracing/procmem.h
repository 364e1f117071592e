/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded reads of another process's memory (process_vm_readv), and of
 * what /proc shows of it. */
#ifndef TT_PROCMEM_H
#define TT_PROCMEM_H

#include <stddef.h>
#include <stdint.h>

/* Reads exactly len bytes at addr. 0 or -errno (-EFAULT: not all mapped). */
int procmem__read(int pid, uint64_t addr, void *buf, size_t len);
/* Reads a NUL-terminated string of at most len - 1 bytes (cut there; always
 * terminated). Stops at the first unreadable page. 0 or -errno. */
int procmem__read_str(int pid, uint64_t addr, char *buf, size_t len);

/* Its command line, arguments joined by spaces, cut to len - 1 bytes;
 * buf is left "" when it cannot be read. */
void procmem__cmdline(int pid, char *buf, size_t len);

/* /proc/PID/statm, opened once for procmem__rss: a descriptor or -errno. */
int procmem__open_statm(int pid);
/* The resident set in bytes, read anew through that descriptor. 0 or
 * -errno (-ESRCH once the process is gone). */
int procmem__rss(int statm_fd, uint64_t *bytes);

/*
 * The target's RSS over time, into its timeline: sampled by the reader
 * loop, at most once per timeline interval (which doubles as the run goes
 * on), so at the timeline's own resolution.
 */
struct timeline;
struct rss_sampler {
	int fd;           /* /proc/PID/statm, or -1 */
	uint64_t last_ns; /* the last sample */
	uint64_t last_bytes; /* what it read; 0: none yet */
	struct timeline *timeline;
};

/* fd -1 (nothing sampled) when statm cannot be opened or timeline is NULL. */
void procmem__rss_start(struct rss_sampler *s, int pid, struct timeline *timeline);
/* A sample at now_ns if an interval has passed since the last one. */
void procmem__rss_tick(struct rss_sampler *s, uint64_t now_ns);
void procmem__rss_stop(struct rss_sampler *s);

#endif /* TT_PROCMEM_H */
