// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: the allocator symbol finder (user/elf/elf_syms.c), which
 * reads the target's libc or executable (a static binary) to place uprobes.
 *
 * The input is written to a file in a private directory, then every entry
 * point of elf_syms.h runs on it with the names ttbpf really looks up.
 * Checked beyond memory safety: the text range, when there is one, is not
 * empty. (An offset past the end of the file is not checked: the ELF headers
 * may claim anything, and the kernel refuses such a uprobe.)
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "elf_syms.h"

#define FUZZ_NAME "fuzz_elf_syms"
#include "fuzz_check.h"

static const char *const names[] = {
	"malloc", "calloc", "realloc", "reallocarray", "free", "posix_memalign",
	"aligned_alloc", "memalign", "valloc", "pvalloc", "tt_track_var",
};
#define NR_NAMES (sizeof(names) / sizeof(names[0]))

static char dir[64], path[96];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ttbpf-fuzz-elf.XXXXXX");
	CHECK(mkdtemp(dir), "mkdtemp failed");
	snprintf(path, sizeof(path), "%s/input.elf", dir);
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_func funcs[NR_NAMES];
	uint64_t lo = 0, hi = 0;
	uint8_t code[64];
	size_t off = 0, i;
	ssize_t n;
	int fd;

	if (!dir[0])
		setup();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0, "cannot create %s", path);
	while (off < size) {
		n = write(fd, data + off, size - off);
		CHECK(n > 0, "write failed");
		off += (size_t)n;
	}
	close(fd);

	if (!elf_syms__funcs(path, names, NR_NAMES, funcs)) {
		for (i = 0; i < NR_NAMES; i++) {
			if (!funcs[i].offset)
				continue;
			/* what probes.c does with it: read the first instructions */
			(void)elf_syms__read(path, funcs[i].offset, code, sizeof(code));
		}
	}
	if (!elf_syms__text_range(path, &lo, &hi))
		CHECK(lo < hi, "empty text range reported as found");
	(void)elf_syms__is_static(path);
	return 0;
}
