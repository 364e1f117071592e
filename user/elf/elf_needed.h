/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shared libraries an executable needs (DT_NEEDED, directly or through
 * another library), found as the dynamic linker finds nearly all of them:
 * the needing file's DT_RPATH (when it has no DT_RUNPATH), LD_LIBRARY_PATH,
 * its DT_RUNPATH ($ORIGIN, $LIB and $PLATFORM expanded), then the multiarch
 * and default directories. ld.so.cache's extra directories are not read: a
 * library only found there is missed. Used before the program has run, to
 * size what its files will take (user/tracing/unwinder.c); nothing depends
 * on the list being complete.
 *
 * The files may be the target's (hostile): only regular files are opened
 * (never a FIFO, which would block), each once (by device and inode), at most
 * ELF_NEEDED_MAX_FILES of them, and every string read from a file is bounded
 * by its section.
 */
#ifndef TT_ELF_NEEDED_H
#define TT_ELF_NEEDED_H

#include <gelf.h>
#include <sys/stat.h>

#define ELF_NEEDED_MAX_FILES 512

/* Called for path itself, then for each library found, with the file open
 * for libelf and its stat (device and inode name it). */
typedef void (*elf_needed_fn)(const char *path, Elf *elf, const struct stat *st, void *ctx);

/* Returns 0 when path itself was read (libraries not found are skipped), or
 * a negative errno: -ENOEXEC not ELF, -EINVAL not a regular file, -ENOMEM. */
int elf_needed__walk(const char *path, elf_needed_fn fn, void *ctx);

#endif /* TT_ELF_NEEDED_H */
