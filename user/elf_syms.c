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

/*
 * The header's tables must fit in the file: with ELF_C_READ libelf allocates
 * what the header claims before reading it.
 */
static bool header_sane(int fd)
{
	Elf64_Ehdr eh;
	struct stat st;

	if (fstat(fd, &st) || pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
		return false;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64)
		return false;
	if (eh.e_shoff > (uint64_t)st.st_size ||
	    (uint64_t)eh.e_shnum * eh.e_shentsize > (uint64_t)st.st_size - eh.e_shoff)
		return false;
	return eh.e_phoff <= (uint64_t)st.st_size &&
	       (uint64_t)eh.e_phnum * eh.e_phentsize <= (uint64_t)st.st_size - eh.e_phoff;
}

/*
 * Files come from the target and may be hostile: libelf bounds-checks the
 * section data it returns, and every index below is checked against it. They
 * are read, never mapped: a target that truncates its file under us would
 * otherwise kill us with SIGBUS.
 */
static int open_elf(const char *path, int *fd, Elf **elf)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	if (!header_sane(*fd)) {
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
		int type;

		if (!gelf_getsym(data, (int)i, &sym))
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
		    !sym.st_value)
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
	err = open_elf(path, &fd, &elf);
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

	err = open_elf(path, &fd, &elf);
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

	err = open_elf(path, &fd, &elf);
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
