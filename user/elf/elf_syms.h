/* SPDX-License-Identifier: Apache-2.0 */
/* Function symbols of an ELF file and their file offsets (what uprobes take). */
#ifndef TT_ELF_SYMS_H
#define TT_ELF_SYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gelf.h>

struct elf_func {
	uint64_t offset; /* file offset, what uprobes take; 0: not found */
	uint64_t vaddr;  /* link-time address */
};

/*
 * For each of names[0..cnt), finds the defined function of that name (from
 * .symtab and .dynsym); funcs[i].offset stays 0 when there is none.
 * Returns 0, or a negative errno when the file cannot be read as ELF.
 */
int elf_syms__funcs(const char *path, const char *const *names, size_t cnt,
		    struct elf_func *funcs);

/*
 * Whether an ELF header's section and program header tables fit in a file of
 * size bytes (extended numbering included), before libelf, which allocates
 * for what the header claims, is let at it.
 */
bool elf_syms__header_sane(int fd, uint64_t size);
/* A function defined in this file (a plain or indirect function with an
 * address): what probes and symbolization both take from a symbol table. */
bool elf_syms__is_defined_func(const GElf_Sym *sym);
/* An n-byte unsigned integer of the file's byte order. */
uint64_t elf_syms__uint(const unsigned char *p, size_t n, bool msb);

/* Opens path for libelf (ELF_C_READ), the header checked first (see
 * elf_syms__header_sane). Returns 0 or -errno; the caller ends both. */
int elf_syms__open(const char *path, int *fd, Elf **elf);

/* Reads up to len bytes of path at file offset off; returns the count or -errno. */
int elf_syms__read(const char *path, uint64_t off, void *buf, size_t len);
/* The dynamic linker path's file names (PT_INTERP) into buf. Returns 0,
 * -ENOENT when it has none (static), -ENOEXEC when it is malformed. */
int elf_syms__interp(const char *path, char *buf, size_t len);

/* The link-time address range [lo, hi) of the executable segments. */
int elf_syms__text_range(const char *path, uint64_t *lo, uint64_t *hi);

/* 1 when path is an ELF file without PT_INTERP (statically linked), 0 when it
 * has one, negative errno when it cannot be read as ELF. */
int elf_syms__is_static(const char *path);

#endif /* TT_ELF_SYMS_H */
