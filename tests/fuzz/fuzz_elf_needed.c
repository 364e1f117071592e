// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: the walk of the libraries a command needs
 * (user/elf/elf_needed.c) and the row estimate of each file it meets
 * (unwind_table__rows_estimate): both read the command's executable before
 * it runs, which its owner wrote, and the files its DT_NEEDED, DT_RPATH and
 * DT_RUNPATH strings name.
 *
 * The input is written to a file in a private directory and walked.
 * Checked beyond memory safety: the input itself comes first, each file
 * comes once (by device and inode), no more than ELF_NEEDED_MAX_FILES, and
 * every one is a regular file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "elf_needed.h"
#include "unwind_table.h"

#define FUZZ_NAME "fuzz_elf_needed"
#include "fuzz_check.h"

static char dir[64], path[96];

struct seen {
	size_t cnt;
	struct stat st[ELF_NEEDED_MAX_FILES];
	uint64_t rows;
};

static void on_file(const char *p, Elf *elf, const struct stat *st, void *ctx)
{
	struct seen *s = ctx;
	size_t i;

	CHECK(s->cnt || !strcmp(p, path), "first file %s, not the input", p);
	CHECK(s->cnt < ELF_NEEDED_MAX_FILES, "more than %d files", ELF_NEEDED_MAX_FILES);
	CHECK(S_ISREG(st->st_mode), "%s is not a regular file", p);
	for (i = 0; i < s->cnt; i++)
		CHECK(s->st[i].st_dev != st->st_dev || s->st[i].st_ino != st->st_ino,
		      "%s met twice", p);
	s->st[s->cnt++] = *st;
	s->rows += unwind_table__rows_estimate(elf);
}

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct seen s;
	int fd, err;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/ttbpf-fuzz-needed.XXXXXX");
		CHECK(mkdtemp(dir), "mkdtemp failed");
		snprintf(path, sizeof(path), "%s/app", dir);
		atexit(cleanup);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0, "cannot write %s", path);
	CHECK(write(fd, data, size) == (ssize_t)size, "short write");
	close(fd);
	memset(&s, 0, sizeof(s));
	err = elf_needed__walk(path, on_file, &s);
	CHECK(err == 0 || err == -ENOEXEC || err == -ENOMEM, "walk: %d", err);
	CHECK(err || s.cnt >= 1, "read, but no file reported");
	return 0;
}
