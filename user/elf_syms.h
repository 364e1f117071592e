/* SPDX-License-Identifier: Apache-2.0 */
/* Function symbols of an ELF file and their file offsets (what uprobes take). */
#ifndef TT_ELF_SYMS_H
#define TT_ELF_SYMS_H

#include <stddef.h>
#include <stdint.h>

/*
 * For each of names[0..cnt), sets offsets[i] to the file offset of the defined
 * function of that name (from .symtab and .dynsym), or 0 when there is none.
 * Returns 0, or a negative errno when the file cannot be read as ELF.
 */
int elf_syms__func_offsets(const char *path, const char *const *names, size_t cnt,
			   uint64_t *offsets);

/* 1 when path is an ELF file without PT_INTERP (statically linked), 0 when it
 * has one, negative errno when it cannot be read as ELF. */
int elf_syms__is_static(const char *path);

#endif /* TT_ELF_SYMS_H */
