// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include "procmem.h"

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
