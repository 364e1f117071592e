// SPDX-License-Identifier: Apache-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "snapshot.h"

#define CHILD_NICE 10 /* the reader and the target come first */

struct snapshot {
	pid_t pid;      /* the running child; 0 none */
	int done_fd;    /* its pipe: one byte (0 ok) then EOF when it ends */
	bool ok;        /* the byte read */
	uint64_t start_ns;
	struct snapshot_stats stats;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int snapshot__new(struct snapshot **out)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->done_fd = -1;
	*out = s;
	return 0;
}

void snapshot__free(struct snapshot *s)
{
	if (!s)
		return;
	snapshot__wait(s);
	free(s);
}

/*
 * What keeps a uprobe attached: a BPF link or a perf event. Found by what
 * the descriptors are, not by asking the tracing layer, so that whatever
 * else was opened since is covered too. The maps stay open: --aggregate's
 * snapshot reads them.
 */
static void close_probe_fds(int keep)
{
	char link[64], path[64];
	struct dirent *d;
	ssize_t n;
	DIR *dir;
	int fd;

	dir = opendir("/proc/self/fd");
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		fd = atoi(d->d_name);
		if (d->d_name[0] < '0' || d->d_name[0] > '9' || fd == dirfd(dir) || fd == keep ||
		    fd <= STDERR_FILENO)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (!strcmp(link, "anon_inode:bpf_link") || !strcmp(link, "anon_inode:[perf_event]"))
			close(fd);
	}
	closedir(dir);
}

static void in_child(int done_fd, int (*fn)(void *ctx), void *ctx)
{
	static const int ignored[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 };
	struct sigaction sa = { .sa_handler = SIG_IGN };
	sigset_t none;
	char ok;
	size_t i;

	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		sigaction(ignored[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	close_probe_fds(done_fd);
	if (setpriority(PRIO_PROCESS, 0, getpriority(PRIO_PROCESS, 0) + CHILD_NICE))
		errno = 0; /* best effort */
	ok = fn(ctx) ? 1 : 0;
	if (write(done_fd, &ok, 1) != 1)
		_exit(2);
	_exit(ok);
}

int snapshot__start(struct snapshot *s, int (*fn)(void *ctx), void *ctx)
{
	uint64_t t0, dt;
	int p[2], err;
	pid_t pid;

	if (snapshot__busy(s))
		return -EBUSY;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	t0 = mono_ns();
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		in_child(p[1], fn, ctx);
	}
	dt = mono_ns() - t0;
	err = -errno;
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return err;
	}
	s->pid = pid;
	s->start_ns = t0;
	s->done_fd = p[0];
	s->ok = false;
	s->stats.started++;
	s->stats.total_fork_ns += dt;
	if (dt > s->stats.longest_fork_ns)
		s->stats.longest_fork_ns = dt;
	return 0;
}

/*
 * The pipe says when the child ends: its wait status may be taken by
 * whoever else waits for any child (-f's ptrace loop does), which ignores
 * a pid it does not trace. Ours is reaped here if it is still there.
 */
static bool child_ended(struct snapshot *s, int timeout_ms)
{
	struct pollfd pfd = { .fd = s->done_fd, .events = POLLIN };
	char ok;
	ssize_t n;

	for (;;) {
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return false; /* EINTR included: asked again later */
		n = read(s->done_fd, &ok, 1);
		if (n == 1) {
			s->ok = !ok;
			continue; /* then EOF */
		}
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	close(s->done_fd);
	s->done_fd = -1;
	if (mono_ns() - s->start_ns > s->stats.longest_run_ns)
		s->stats.longest_run_ns = mono_ns() - s->start_ns;
	while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (!s->ok)
		s->stats.failed++;
	s->pid = 0;
	return true;
}

bool snapshot__busy(struct snapshot *s)
{
	return s->pid && !child_ended(s, 0);
}

void snapshot__wait(struct snapshot *s)
{
	while (s->pid && !child_ended(s, -1))
		;
}

const struct snapshot_stats *snapshot__stats(const struct snapshot *s)
{
	return &s->stats;
}
