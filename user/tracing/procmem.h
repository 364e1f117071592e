/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded reads of another process's memory (process_vm_readv), and of
 * what /proc shows of it. */
#ifndef TT_PROCMEM_H
#define TT_PROCMEM_H

#include <stddef.h>
#include <stdint.h>

/* Reads exactly len bytes at addr. 0 or -errno (-EFAULT: not all mapped). */
int procmem__read(int pid, uint64_t addr, void *buf, size_t len);
/* Reads a NUL-terminated string of at most len - 1 bytes (cut there; always
 * terminated). Stops at the first unreadable page. 0 or -errno. */
int procmem__read_str(int pid, uint64_t addr, char *buf, size_t len);

/* Its command line, arguments joined by spaces, cut to len - 1 bytes;
 * buf is left "" when it cannot be read. */
void procmem__cmdline(int pid, char *buf, size_t len);

#endif /* TT_PROCMEM_H */
