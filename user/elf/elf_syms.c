// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "elf_syms.h"

#define MAX_SECTIONS (1u << 20)
#define MAX_PHDRS (1u << 16)

uint64_t elf_syms__uint(const unsigned char *p, size_t n, bool msb)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[msb ? i : n - 1 - i] << (8 * (n - 1 - i));
	return v;
}

/*
 * libelf reading through a descriptor (ELF_C_READ) does not know the file's
 * size, and allocates for as many sections as the header claims: a header
 * claiming 2^28 sections would cost gigabytes. Check the counts against the
 * size first. (A file changed between this check and elf_begin() escapes
 * it; the window is a few system calls.)
 */
bool elf_syms__header_sane(int fd, uint64_t size)
{
	unsigned char h[64], s0[64];
	uint64_t phoff, shoff, shnum, phnum;
	size_t shsz, phsz;
	bool is64, msb;

	if (size < sizeof(h) || pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return false;
	if (memcmp(h, ELFMAG, SELFMAG) || (h[EI_CLASS] != ELFCLASS32 && h[EI_CLASS] != ELFCLASS64) ||
	    (h[EI_DATA] != ELFDATA2LSB && h[EI_DATA] != ELFDATA2MSB))
		return false;
	is64 = h[EI_CLASS] == ELFCLASS64;
	msb = h[EI_DATA] == ELFDATA2MSB;
	phoff = is64 ? elf_syms__uint(h + 32, 8, msb) : elf_syms__uint(h + 28, 4, msb);
	shoff = is64 ? elf_syms__uint(h + 40, 8, msb) : elf_syms__uint(h + 32, 4, msb);
	phnum = elf_syms__uint(h + (is64 ? 56 : 44), 2, msb);
	shnum = elf_syms__uint(h + (is64 ? 60 : 48), 2, msb);
	shsz = is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	phsz = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	if ((shnum == 0 || phnum == PN_XNUM) && shoff) {
		/* extended numbering: the counts are in section 0 */
		if (shoff > size || size - shoff < shsz ||
		    pread(fd, s0, shsz, (off_t)shoff) != (ssize_t)shsz)
			return false;
		if (shnum == 0)
			shnum = is64 ? elf_syms__uint(s0 + 32, 8, msb) : elf_syms__uint(s0 + 20, 4, msb);
		if (phnum == PN_XNUM)
			phnum = elf_syms__uint(s0 + (is64 ? 44 : 28), 4, msb);
	}
	if (shnum > MAX_SECTIONS || phnum > MAX_PHDRS)
		return false;
	if (shnum && (shoff > size || (size - shoff) / shsz < shnum))
		return false;
	if (phnum && (phoff > size || (size - phoff) / phsz < phnum))
		return false;
	return true;
}

/*
 * Files come from the target and may be hostile: libelf bounds-checks the
 * section data it returns, and every index below is checked against it. They
 * are read, never mapped: a target that truncates its file under us would
 * otherwise kill us with SIGBUS.
 */
int elf_syms__open(const char *path, int *fd, Elf **elf)
{
	struct stat st;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	/* O_NONBLOCK: a FIFO at a path the target names must not block us */
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (*fd < 0)
		return -errno;
	if (fstat(*fd, &st) || !S_ISREG(st.st_mode) ||
	    !elf_syms__header_sane(*fd, (uint64_t)st.st_size)) {
		close(*fd);
		return -ENOEXEC;
	}
	*elf = elf_begin(*fd, ELF_C_READ, NULL);
	if (!*elf || elf_kind(*elf) != ELF_K_ELF) {
		if (*elf)
			elf_end(*elf);
		close(*fd);
		return -ENOEXEC;
	}
	return 0;
}

/* vaddr → file offset through the PT_LOAD segment that maps it */
static uint64_t vaddr_to_offset(Elf *elf, uint64_t vaddr)
{
	size_t n, i;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &n))
		return 0;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_filesz)
			return vaddr - ph.p_vaddr + ph.p_offset;
	}
	return 0;
}

static void scan_symtab(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, const char *const *names,
			size_t cnt, struct elf_func *funcs)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t nsyms, i, k;
	GElf_Sym sym;

	if (!data || !sh->sh_entsize)
		return;
	nsyms = data->d_size / sh->sh_entsize;
	for (i = 0; i < nsyms; i++) {
		const char *name;

		if (!gelf_getsym(data, (int)i, &sym))
			break;
		if (!elf_syms__is_defined_func(&sym))
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name)
			continue;
		for (k = 0; k < cnt; k++)
			if (!funcs[k].offset && !strcmp(name, names[k])) {
				funcs[k].offset = vaddr_to_offset(elf, sym.st_value);
				funcs[k].vaddr = sym.st_value;
			}
	}
}

int elf_syms__funcs(const char *path, const char *const *names, size_t cnt,
		    struct elf_func *funcs)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf *elf;
	int fd, err;

	memset(funcs, 0, cnt * sizeof(*funcs));
	err = elf_syms__open(path, &fd, &elf);
	if (err)
		return err;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM)
			scan_symtab(elf, scn, &sh, names, cnt, funcs);
	}
	elf_end(elf);
	close(fd);
	return 0;
}

int elf_syms__is_static(const char *path)
{
	size_t n, i;
	GElf_Phdr ph;
	Elf *elf;
	int fd, err, ret = 1;

	err = elf_syms__open(path, &fd, &elf);
	if (err)
		return err;
	if (elf_getphdrnum(elf, &n)) {
		ret = -ENOEXEC;
		n = 0;
	}
	for (i = 0; i < n; i++)
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_INTERP)
			ret = 0;
	elf_end(elf);
	close(fd);
	return ret;
}

int elf_syms__text_range(const char *path, uint64_t *lo, uint64_t *hi)
{
	size_t n, i;
	GElf_Phdr ph;
	Elf *elf;
	int fd, err;

	err = elf_syms__open(path, &fd, &elf);
	if (err)
		return err;
	*lo = UINT64_MAX;
	*hi = 0;
	if (elf_getphdrnum(elf, &n))
		n = 0;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (ph.p_vaddr < *lo)
			*lo = ph.p_vaddr;
		if (ph.p_vaddr + ph.p_memsz > *hi)
			*hi = ph.p_vaddr + ph.p_memsz;
	}
	elf_end(elf);
	close(fd);
	if (*hi <= *lo)
		return -ENOEXEC;
	return 0;
}

int elf_syms__interp(const char *path, char *buf, size_t len)
{
	int fd, err = -ENOENT;
	size_t n, i;
	GElf_Phdr ph;
	Elf *elf;

	err = elf_syms__open(path, &fd, &elf);
	if (err)
		return err;
	err = -ENOENT;
	if (elf_getphdrnum(elf, &n))
		n = 0;
	for (i = 0; i < n && i < 64; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_INTERP)
			continue;
		/* a path, NUL-terminated within the segment, that fits */
		if (!ph.p_filesz || ph.p_filesz > len ||
		    pread(fd, buf, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz ||
		    buf[ph.p_filesz - 1] || buf[0] != '/' || strlen(buf) != ph.p_filesz - 1)
			err = -ENOEXEC;
		else
			err = 0;
		break;
	}
	elf_end(elf);
	close(fd);
	return err;
}

int elf_syms__read(const char *path, uint64_t off, void *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, (off_t)off);
	if (n < 0)
		n = -errno;
	close(fd);
	return (int)n;
}

bool elf_syms__is_defined_func(const GElf_Sym *sym)
{
	int type = GELF_ST_TYPE(sym->st_info);

	return (type == STT_FUNC || type == STT_GNU_IFUNC) && sym->st_shndx != SHN_UNDEF &&
	       sym->st_value;
}
