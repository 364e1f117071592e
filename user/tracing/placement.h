/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where in a function's first bytes to put its uprobe so that the kernel
 * emulates the probed instruction instead of single-stepping it out of line,
 * which costs a second, much slower trap per hit (x86-64 only).
 */
#ifndef TT_PLACEMENT_H
#define TT_PLACEMENT_H

#include <stddef.h>
#include <stdint.h>

/* x86-64 register numbers as in ModRM/REX: rax 0, rcx 1, rdx 2, rbx 3, rsp 4,
 * rbp 5, rsi 6, rdi 7, r8..r15 8..15 */
#define PLACEMENT_REG(r) (1u << (r))
#define PLACEMENT_RDX PLACEMENT_REG(2)
#define PLACEMENT_RSP PLACEMENT_REG(4)
#define PLACEMENT_RSI PLACEMENT_REG(6)
#define PLACEMENT_RDI PLACEMENT_REG(7)

/* placement__choose() looks no further than this many bytes: read as many
 * (fewer near the end of a section) */
#define PLACEMENT_CODE_MAX 64

struct placement {
	uint32_t offset; /* bytes from the function's start where the probe goes */
	int emulated;    /* 1 if the instruction at offset is one the kernel emulates */
	char why[128];   /* starts with "+<offset>: ", meant to follow the symbol
			  * name, e.g. "free" "+3: je (emulated); skipped test" */
};

/*
 * code = the function's first bytes (len may be short near the end of a
 * section). keep_regs = registers the probe program reads at the probe
 * (PLACEMENT_* mask). Picks the first instruction the kernel emulates when
 * every instruction before it falls through and writes none of keep_regs
 * (nor, when rsp is kept, stores through rsp or copies it). Always fills
 * *out; offset 0 is the safe fallback.
 *
 * A return probe may sit there too, with rsp kept: the kernel takes the
 * return address from [rsp] at the hit (arch_uretprobe_hijack_return_addr())
 * and compares later stack pointers with that rsp, and when nothing before
 * the offset moved rsp or stored through it, both are what they were at the
 * function's first instruction. One uprobe for the entry and the return
 * there, instead of a single-stepped one at +0.
 */
void placement__choose(const uint8_t *code, size_t len, uint32_t keep_regs,
		       struct placement *out);

#endif /* TT_PLACEMENT_H */
