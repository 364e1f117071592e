// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: the ELF symbol and DWARF loader (user/elf/symbolize.c),
 * which reads files a hostile target maps.
 *
 * symbolize.h has no in-memory entry point, so the input is written to a
 * file in a private directory and symbolized through
 * symbolizer__resolve_file() and symbolizer__resolve_file_chain() (inlined
 * frames, from the DWARF scopes) at a few addresses: the ELF entry point the
 * input claims and addresses near it, the start of each PT_LOAD it claims,
 * and fixed ones. The directory is also the debug root, so that debug-file
 * lookups stay inside it (it holds nothing but the input). Every string
 * handed back must be NUL-terminated (ASan checks the strlen).
 *
 * An input starting with "MINI" is the rest as the ELF inside .gnu_debugdata
 * (MiniDebugInfo): it is xz-compressed here and put in a stripped ELF file of
 * its own, so that mutations reach the decompressed ELF past the stream's
 * integrity check; addresses are then taken from that inner ELF.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elf.h>
#include <lzma.h>
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

static const char mini_tag[4] = "MINI";

/* An ELF64 x86-64 file with only .shstrtab and .gnu_debugdata = xz(inner),
 * and the inner's first 8 program headers; NULL when xz fails. */
static uint8_t *wrap_mini(const uint8_t *inner, size_t inner_len, size_t *len)
{
	static const char names[] = "\0.shstrtab\0.gnu_debugdata";
	size_t cap = lzma_stream_buffer_bound(inner_len), xz_len = 0, nph = 0, i, off;
	Elf64_Ehdr *eh;
	Elf64_Phdr ph[8];
	Elf64_Shdr *sh;
	uint8_t *out, *xz;

	if (inner_len >= sizeof(Elf64_Ehdr)) {
		Elf64_Ehdr ih; /* inner is not aligned */
		uint64_t phoff;

		memcpy(&ih, inner, sizeof(ih));
		phoff = ih.e_phoff;
		for (i = 0; i < 8 && i < ih.e_phnum; i++) {
			if (phoff > inner_len || (inner_len - phoff) / sizeof(Elf64_Phdr) <= i)
				break;
			memcpy(&ph[nph++], inner + phoff + i * sizeof(Elf64_Phdr), sizeof(Elf64_Phdr));
		}
	}
	xz = malloc(cap);
	if (!xz)
		return NULL;
	if (lzma_easy_buffer_encode(0, LZMA_CHECK_CRC64, NULL, inner, inner_len, xz, &xz_len,
				    cap) != LZMA_OK) {
		free(xz);
		return NULL;
	}
	off = sizeof(*eh) + nph * sizeof(Elf64_Phdr);
	*len = off + sizeof(names) + xz_len + 3 * sizeof(Elf64_Shdr) + 8;
	out = calloc(1, *len);
	if (!out) {
		free(xz);
		return NULL;
	}
	eh = (Elf64_Ehdr *)out;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_ehsize = sizeof(*eh);
	eh->e_phoff = nph ? sizeof(*eh) : 0;
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = (uint16_t)nph;
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = 3;
	eh->e_shstrndx = 1;
	memcpy(out + sizeof(*eh), ph, nph * sizeof(Elf64_Phdr));
	memcpy(out + off, names, sizeof(names));
	memcpy(out + off + sizeof(names), xz, xz_len);
	eh->e_shoff = (off + sizeof(names) + xz_len + 7) & ~(size_t)7;
	sh = (Elf64_Shdr *)(out + eh->e_shoff);
	sh[1].sh_name = 1;
	sh[1].sh_type = SHT_STRTAB;
	sh[1].sh_offset = off;
	sh[1].sh_size = sizeof(names);
	sh[1].sh_addralign = 1;
	sh[2].sh_name = 11;
	sh[2].sh_type = SHT_PROGBITS;
	sh[2].sh_offset = off + sizeof(names);
	sh[2].sh_size = xz_len;
	sh[2].sh_addralign = 1;
	free(xz);
	return out;
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
	uint8_t *wrapped = NULL;
	struct symbolizer *s;
	struct sym_frame f, chain[SYM_MAX_CHAIN];
	size_t wlen, nr, k;

	if (!dir[0])
		setup();
	if (size >= sizeof(mini_tag) && !memcmp(data, mini_tag, sizeof(mini_tag))) {
		data += sizeof(mini_tag);
		size -= sizeof(mini_tag);
		wrapped = wrap_mini(data, size, &wlen);
		if (!wrapped)
			return 0;
		write_input(wrapped, wlen);
		free(wrapped);
	} else {
		write_input(data, size);
	}

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
		if (symbolizer__resolve_file_chain(s, path, addrs[i], chain, SYM_MAX_CHAIN, &nr) ||
		    nr < 1 || nr > SYM_MAX_CHAIN)
			abort();
		for (k = 0; k < nr; k++)
			check_frame(&chain[k]);
	}
	symbolizer__free(s);
	return 0;
}
