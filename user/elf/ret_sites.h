/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The return instructions of a function: where a plain uprobe sees what the
 * function returns without a return probe. A return probe replaces the
 * return address on the stack with the kernel's trampoline, an address no
 * unwind table covers: an exception unwinding through that frame finds no
 * caller and the C++ runtime calls std::terminate (docs/semantics.md). A
 * uprobe on a ret changes no data the program reads.
 *
 * The function's code is decoded (x86-64, x86_decode.h) from its address to the
 * next function's (the sorted table of .eh_frame_hdr, or where there is none,
 * as in static executables, the function symbols), together with the code
 * it jumps to outside itself (tail calls, cold parts), each piece to the next
 * function likewise. All of them or none: a jump whose target cannot be
 * followed (indirect, into the PLT, outside the executable segments), bytes
 * that do not decode, or more than the bounds below make the search fail, and
 * the caller must not rely on the sites.
 */
#ifndef TT_RET_SITES_H
#define TT_RET_SITES_H

#include <stddef.h>
#include <stdint.h>

#define RET_SITES_MAX 32	     /* return instructions of one function */
#define RET_SITES_MAX_PIECES 16	     /* pieces of code followed */
#define RET_SITES_MAX_PIECE_BYTES 65536

struct ret_sites {
	uint64_t off[RET_SITES_MAX]; /* file offsets, what uprobes take */
	size_t cnt;
	/* the code decoded: the function and what it jumps to, [lo, hi) in
	 * link-time addresses */
	struct ret_sites_piece {
		uint64_t lo, hi;
	} piece[RET_SITES_MAX_PIECES];
	size_t piece_cnt;
};

/*
 * The return instructions of the function at link-time address vaddr of the
 * ELF file at path, and of the code it jumps to. Returns 0, or:
 *   -ENOTSUP   control leaves some way that is not followed (see above)
 *   -E2BIG     more sites, pieces or bytes than the bounds
 *   -ENODATA   no .eh_frame_hdr table nor function symbol to bound pieces with
 *   -ENOEXEC   not an x86-64 ELF file, or vaddr is in no executable segment
 *   -ENOMEM, or the errno of opening or reading the file
 */
int ret_sites__find(const char *path, uint64_t vaddr, struct ret_sites *out);

/*
 * Whether a direct jump or call in the function at link-time address vaddr
 * (decoded to the next function's start, as above) lands in (vaddr, vaddr +
 * span]: a uprobe moved to vaddr + span would be hit again by it, once per
 * loop. Returns 1 (*to = the first such target, from vaddr), 0, or the
 * errors of ret_sites__find(), -ENOTSUP for bytes that do not decode.
 */
int ret_sites__jump_into(const char *path, uint64_t vaddr, uint64_t span, uint64_t *to);

#endif /* TT_RET_SITES_H */
