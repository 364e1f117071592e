// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include "procmem.h"
#include "timeline.h"

#define PAGE 4096ULL

int procmem__read(int pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (!pid || !addr)
		return -EINVAL;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

int procmem__read_str(int pid, uint64_t addr, char *buf, size_t len)
{
	size_t got = 0;

	if (!len)
		return -EINVAL;
	buf[0] = '\0';
	/* page by page: a string may end just before an unmapped page */
	while (got + 1 < len) {
		uint64_t a = addr + got;
		size_t chunk = (size_t)(PAGE - (a & (PAGE - 1)));
		char *nul;
		int err;

		if (chunk > len - 1 - got)
			chunk = len - 1 - got;
		err = procmem__read(pid, a, buf + got, chunk);
		if (err) {
			buf[got] = '\0';
			return got ? 0 : err;
		}
		nul = memchr(buf + got, '\0', chunk);
		if (nul)
			return 0;
		got += chunk;
	}
	buf[len - 1] = '\0';
	return 0;
}

void procmem__cmdline(int pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	if (!len)
		return;
	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0) {
		buf[0] = '\0';
		return;
	}
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
}

int procmem__open_statm(int pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/statm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int procmem__rss(int statm_fd, uint64_t *bytes)
{
	unsigned long long size, resident;
	char buf[128];
	ssize_t n;

	/* the kernel writes it anew at each read from offset 0 */
	n = pread(statm_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return n < 0 ? -errno : -ESRCH;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return -EINVAL;
	if (!size)
		return -ESRCH; /* a zombie: its memory is gone */
	*bytes = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
	return 0;
}

void procmem__rss_start(struct rss_sampler *s, int pid, struct timeline *timeline)
{
	s->timeline = timeline;
	s->last_ns = 0;
	s->fd = timeline ? procmem__open_statm(pid) : -1;
	if (s->fd < 0)
		s->fd = -1;
}

void procmem__rss_tick(struct rss_sampler *s, uint64_t now_ns)
{
	uint64_t rss;

	if (s->fd < 0 || (s->last_ns && now_ns - s->last_ns < timeline__interval_ns(s->timeline)))
		return;
	s->last_ns = now_ns;
	if (procmem__rss(s->fd, &rss)) {
		procmem__rss_stop(s); /* gone: nothing more to sample */
		return;
	}
	s->last_bytes = rss;
	timeline__on_rss(s->timeline, now_ns, rss);
}

void procmem__rss_stop(struct rss_sampler *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}
