// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: the ELF symbol and DWARF loader (user/symbolize.c),
 * which reads files a hostile target maps.
 *
 * symbolize.h has no in-memory entry point, so the input is written to a
 * file in a private directory and symbolized through
 * symbolizer__resolve_file() at a few addresses: the ELF entry point the
 * input claims and addresses near it, the start of each PT_LOAD it claims,
 * and fixed ones. The directory is also the debug root, so that debug-file
 * lookups stay inside it (it holds nothing but the input). Every string
 * handed back must be NUL-terminated (ASan checks the strlen).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "symbolize.h"

static char dir[64], path[96];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ttbpf-fuzz-sym.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
	snprintf(path, sizeof(path), "%s/input.elf", dir);
	atexit(cleanup);
}

static void write_input(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;
	ssize_t n;

	if (fd < 0) {
		perror(path);
		abort();
	}
	while (off < size) {
		n = write(fd, data + off, size - off);
		if (n <= 0) {
			perror("write");
			abort();
		}
		off += (size_t)n;
	}
	close(fd);
}

static uint64_t le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static void check_frame(const struct sym_frame *f)
{
	volatile size_t sink = 0;

	if (f->module)
		sink += strlen(f->module);
	if (f->symbol)
		sink += strlen(f->symbol);
	if (f->file)
		sink += strlen(f->file);
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t addrs[24];
	size_t n = 0, i;
	struct symbolizer *s;
	struct sym_frame f;

	if (!dir[0])
		setup();
	write_input(data, size);

	addrs[n++] = 0;
	addrs[n++] = 0x1000;
	addrs[n++] = 0x401000;
	if (size >= 64 && data[4] == 2 /* ELFCLASS64 */) {
		uint64_t entry = le(data + 24, 8), phoff = le(data + 32, 8);
		unsigned phnum = (unsigned)le(data + 56, 2);

		addrs[n++] = entry;
		addrs[n++] = entry + 1;
		addrs[n++] = entry + 0x40;
		addrs[n++] = entry - 1;
		/* the start and middle of up to 8 PT_LOADs (64-bit little-endian) */
		for (i = 0; i < phnum && i < 8 && n + 2 <= sizeof(addrs) / sizeof(addrs[0]); i++) {
			uint64_t ph = phoff + i * 56;

			if (ph > size || size - ph < 56 || le(data + ph, 4) != 1 /* PT_LOAD */)
				continue;
			addrs[n++] = le(data + ph + 16, 8);
			addrs[n++] = le(data + ph + 16, 8) + le(data + ph + 40, 8) / 2;
		}
	}

	if (symbolizer__new(&s, 0))
		return 0;
	symbolizer__set_debug_root(s, dir);
	for (i = 0; i < n; i++) {
		int err = symbolizer__resolve_file(s, path, addrs[i], &f);

		if (err && err != -ENOEXEC)
			break;
		check_frame(&f);
		if (err)
			break;
	}
	symbolizer__free(s);
	return 0;
}
