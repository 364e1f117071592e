/* SPDX-License-Identifier: Apache-2.0 */
/*
 * x86-64 instruction lengths, and which instructions leave the straight
 * line (returns, jumps, calls): what ret_sites.c needs to walk a function's
 * code, and no more. No operands, no mnemonics.
 *
 * It decodes what compilers and hand-written assembly emit in 64-bit mode:
 * legacy prefixes, REX, the one-byte, 0F, 0F38 and 0F3A maps, VEX (C4, C5)
 * and EVEX (62) with maps 0F, 0F38, 0F3A and the AVX512-FP16 maps 5 and 6.
 * It refuses, with -ENOTSUP, what it cannot be sure of: opcodes invalid in
 * 64-bit mode, 3DNow! (0F 0F), XOP (8F with a map), VEX and EVEX behind
 * 66/F2/F3/F0/REX (#UD), other VEX/EVEX maps (APX's map 4), near branches
 * and returns with a 66 prefix and no REX.W (their operand size, the length
 * of rel16 and the target's truncation differ between Intel and AMD), and
 * the group encodings no instruction has (FE /2-/7, FF /7, C6/C7 /1-/6).
 */
#ifndef TT_X86_DECODE_H
#define TT_X86_DECODE_H

#include <stddef.h>
#include <stdint.h>

#define X86_INSN_MAX_BYTES 15 /* longer raises #GP: not an instruction */

enum x86_insn_kind {
	X86_INSN_OTHER,		/* control goes on to the next instruction (or traps) */
	X86_INSN_RET,		/* near return: C3, C2 iw, with any prefix (rep, bnd) */
	X86_INSN_FAR_RET,	/* CB, CA iw, CF iret, and their REX.W forms */
	X86_INSN_JUMP_DIRECT,	/* jmp, jcc, loop, jrcxz, xbegin's abort path: ->target */
	X86_INSN_JUMP_INDIRECT, /* FF /4, FF /5 (notrack or not) */
	X86_INSN_CALL_DIRECT,	/* E8: ->target */
	X86_INSN_CALL_INDIRECT, /* FF /2, FF /3 */
};

struct x86_insn {
	enum x86_insn_kind kind;
	unsigned int len;	/* bytes, prefixes included */
	uint64_t target;	/* direct jumps and calls: where to */
};

/*
 * Decodes the instruction at code[0..len), which is at address addr (direct
 * targets are relative to it). Never reads code[len] or beyond, nor beyond
 * X86_INSN_MAX_BYTES. Returns the instruction's length (out filled), or:
 *   -ENODATA  the instruction goes on past len
 *   -ENOTSUP  no instruction, or one of the classes refused above
 *   -EINVAL   code or out is NULL
 */
int x86_decode(const uint8_t *code, size_t len, uint64_t addr, struct x86_insn *out);

#endif /* TT_X86_DECODE_H */
