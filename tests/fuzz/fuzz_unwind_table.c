// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: the unwind-table builder (user/elf/unwind_table.c), which
 * reads .eh_frame and .debug_frame of files a hostile target maps.
 *
 * Two kinds of input, by the first byte:
 *   'E' + bytes   the bytes are a whole ELF file (mutations reach headers,
 *                 segments, sections and, less often, the CFI)
 *   'C' + bytes   the bytes are the contents of both .eh_frame and
 *                 .debug_frame of an ELF file made here (one executable
 *                 segment over [0, 1 MiB), .eh_frame at 0x80000): the
 *                 mutations go to the CIEs and FDEs themselves
 *   (anything else: as 'E', the first byte included)
 * The file is written to a private directory and built twice: alone, and
 * with itself as the debug file (so that its .debug_frame is read too).
 * Every table must keep the shape the BPF side relies on: rows strictly
 * sorted, kinds in range, the last row NO_INFO; lookups at and around every
 * row must land on a row.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unwind_table.h"

static char dir[64], path[96];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ttbpf-fuzz-unw.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
	snprintf(path, sizeof(path), "%s/input.elf", dir);
	atexit(cleanup);
}

static void write_all(int fd, const void *buf, size_t size)
{
	const uint8_t *p = buf;
	size_t off = 0;
	ssize_t n;

	while (off < size) {
		n = write(fd, p + off, size - off);
		if (n <= 0) {
			perror("write");
			abort();
		}
		off += (size_t)n;
	}
}

/*
 * An x86-64 ET_DYN with cfi as .eh_frame (at CFI_VADDR) and .debug_frame:
 * the .eh_frame of a real file, whose pc-relative FDEs point a few pages
 * back, and the absolute addresses of a small .debug_frame both land in its
 * executable segment.
 */
#define CFI_VADDR 0x80000
static void write_cfi_elf(const uint8_t *cfi, size_t size)
{
	static const char names[] = "\0.eh_frame\0.debug_frame\0.shstrtab";
	size_t data_off = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + sizeof(names);
	size_t sh_off = (data_off + size + 7) & ~(size_t)7;
	Elf64_Ehdr eh = { .e_type = ET_DYN, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
			  .e_phoff = sizeof(Elf64_Ehdr), .e_shoff = sh_off,
			  .e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr),
			  .e_phnum = 1, .e_shentsize = sizeof(Elf64_Shdr), .e_shnum = 4,
			  .e_shstrndx = 3 };
	Elf64_Phdr ph = { .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_filesz = sh_off,
			  .p_memsz = 1 << 20, .p_align = 0x1000 };
	Elf64_Shdr sh[4] = {
		[1] = { .sh_name = 1, .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC, .sh_addr = CFI_VADDR,
			.sh_offset = data_off, .sh_size = size, .sh_addralign = 8 },
		[2] = { .sh_name = 11, .sh_type = SHT_PROGBITS, .sh_offset = data_off,
			.sh_size = size, .sh_addralign = 8 },
		[3] = { .sh_name = 24, .sh_type = SHT_STRTAB, .sh_offset = data_off - sizeof(names),
			.sh_size = sizeof(names), .sh_addralign = 1 },
	};
	static const uint8_t zeros[8];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0) {
		perror(path);
		abort();
	}
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	write_all(fd, &eh, sizeof(eh));
	write_all(fd, &ph, sizeof(ph));
	write_all(fd, names, sizeof(names));
	write_all(fd, cfi, size);
	write_all(fd, zeros, sh_off - data_off - size);
	write_all(fd, sh, sizeof(sh));
	close(fd);
}

static void write_input(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0) {
		perror(path);
		abort();
	}
	write_all(fd, data, size);
	close(fd);
}

static void check(const struct unwind_table *t)
{
	size_t cnt, i;
	const struct tt_unwind_row *rows = unwind_table__rows(t, &cnt);
	__u64 base = unwind_table__base(t);

	if (!cnt || tt_unw_kind(&rows[cnt - 1]) != TT_UNW_NO_INFO) {
		fprintf(stderr, "fuzz_unwind_table: %zu rows, last not NO_INFO\n", cnt);
		abort();
	}
	if (unwind_table__bytes(t) < cnt * sizeof(*rows))
		abort();
	for (i = 0; i < cnt; i++) {
		if (tt_unw_kind(&rows[i]) >= TT_UNW_KIND_CNT) {
			fprintf(stderr, "fuzz_unwind_table: row %zu kind %u\n", i, tt_unw_kind(&rows[i]));
			abort();
		}
		if (i && rows[i].pc_off <= rows[i - 1].pc_off) {
			fprintf(stderr, "fuzz_unwind_table: row %zu not sorted\n", i);
			abort();
		}
		if (unwind_table__find(t, base + rows[i].pc_off) != &rows[i])
			abort();
		/* the byte before a row belongs to the previous one */
		if (i && unwind_table__find(t, base + rows[i].pc_off - 1) != &rows[i - 1])
			abort();
	}
}

/* A table is built, or an error returned with none: never both. */
static void build_and_check(const char *file, const struct unwind_table_opts *o)
{
	struct unwind_table *t = NULL;
	int err = unwind_table__build(file, o, &t);

	if (err > 0 || (err && t))
		abort();
	if (!err)
		check(t);
	unwind_table__free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unwind_table_opts o = { .sz = sizeof(o), .max_fde_ns = 20 * 1000 * 1000,
				       .max_total_ns = 2000ull * 1000 * 1000 };

	if (!dir[0])
		setup();
	if (size && data[0] == 'C')
		write_cfi_elf(data + 1, size - 1);
	else if (size && data[0] == 'E')
		write_input(data + 1, size - 1);
	else
		write_input(data, size);

	build_and_check(path, &o);
	/* the same file as its own debug file: the .debug_frame merge */
	o.debug_path = path;
	build_and_check(path, &o);
	return 0;
}
