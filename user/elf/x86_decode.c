// SPDX-License-Identifier: Apache-2.0
/*
 * x86-64 instruction length decoding (x86_decode.h). The maps' tables say
 * what follows each opcode (ModRM, immediates); the Intel SDM volume 2,
 * appendix A, and AMD's APM volume 3, appendix A, are the sources. Every
 * byte is read through at(), which knows both the buffer's end and the
 * architectural limit of 15 bytes: input from a target's files cannot make
 * it read out of bounds.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include "x86_decode.h"

/* What follows an opcode. Immediates add up: ENTER is I16 | I8. */
enum {
	M = 1 << 0,	  /* ModRM (with SIB and displacement as it says) */
	I8 = 1 << 1,	  /* ib */
	IZ = 1 << 2,	  /* iw with 66, id otherwise (REX.W wins over 66) */
	IV = 1 << 3,	  /* B8+r: iw, id, io with REX.W */
	I16 = 1 << 4,	  /* iw whatever the operand size */
	MOFFS = 1 << 5,	  /* A0-A3: an address, 8 bytes, 4 with 67 */
	REL8 = 1 << 6,	  /* a direct branch's rel8 */
	REL32 = 1 << 7,	  /* a direct branch's rel32 */
	GRP3 = 1 << 8,	  /* F6/F7: /0 and /1 (test) carry an immediate */
	MREG = 1 << 9,	  /* 0F 20-23: the mod field is ignored, no memory form */
	SSE4A = 1 << 10,  /* 0F 78: with 66 or F2, extrq/insertq's ib, ib */
	BAD = 1 << 11,	  /* invalid in 64-bit mode, or a class refused */
};

#define ALU(b) [b] = M, [(b) + 1] = M, [(b) + 2] = M, [(b) + 3] = M, [(b) + 4] = I8, [(b) + 5] = IZ

/* The one-byte map. Prefixes (26 2E 36 3E 40-4F 64-67 F0 F2 F3) and escapes
 * (0F, VEX C4 C5, EVEX 62, 8F's XOP) are taken before it is read. */
static const uint16_t map0[256] = {
	ALU(0x00), ALU(0x08), ALU(0x10), ALU(0x18), ALU(0x20), ALU(0x28), ALU(0x30), ALU(0x38),
	/* push/pop of segments, daa/das/aaa/aas */
	[0x06] = BAD, [0x07] = BAD, [0x0e] = BAD, [0x16] = BAD, [0x17] = BAD,
	[0x1e] = BAD, [0x1f] = BAD, [0x27] = BAD, [0x2f] = BAD, [0x37] = BAD, [0x3f] = BAD,
	[0x60] = BAD, [0x61] = BAD, /* pusha, popa */
	[0x63] = M,		    /* movsxd */
	[0x68] = IZ, [0x69] = M | IZ, [0x6a] = I8, [0x6b] = M | I8,
	[0x70 ... 0x7f] = REL8,
	[0x80] = M | I8, [0x81] = M | IZ, [0x82] = BAD, [0x83] = M | I8,
	[0x84 ... 0x8f] = M,
	[0x9a] = BAD, /* far call */
	[0xa0 ... 0xa3] = MOFFS, [0xa8] = I8, [0xa9] = IZ,
	[0xb0 ... 0xb7] = I8, [0xb8 ... 0xbf] = IV,
	[0xc0] = M | I8, [0xc1] = M | I8, [0xc2] = I16,
	[0xc6] = M | I8, [0xc7] = M | IZ, [0xc8] = I16 | I8, [0xca] = I16, [0xcd] = I8,
	[0xce] = BAD, /* into */
	[0xd0 ... 0xd3] = M, [0xd4 ... 0xd6] = BAD, [0xd8 ... 0xdf] = M,
	[0xe0 ... 0xe3] = REL8, [0xe4 ... 0xe7] = I8, [0xe8] = REL32, [0xe9] = REL32,
	[0xea] = BAD, [0xeb] = REL8,
	[0xf6] = M | GRP3, [0xf7] = M | GRP3, [0xfe] = M, [0xff] = M,
};

/* The 0F map (0F 38 and 0F 3A escape before it is read). */
static const uint16_t map1[256] = {
	[0x00 ... 0x03] = M, [0x04] = BAD, [0x0a] = BAD, [0x0c] = BAD, [0x0d] = M,
	[0x0f] = BAD, /* 3DNow!: its opcode is an imm8 after the operands */
	[0x10 ... 0x1f] = M, [0x20 ... 0x23] = M | MREG, [0x24 ... 0x27] = BAD, [0x28 ... 0x2f] = M,
	[0x36] = BAD, [0x39] = BAD, [0x3b ... 0x3f] = BAD,
	[0x40 ... 0x6f] = M, [0x70 ... 0x73] = M | I8, [0x74 ... 0x76] = M,
	[0x78] = M | SSE4A, [0x79] = M, [0x7a] = BAD, [0x7b] = BAD, [0x7c ... 0x7f] = M,
	[0x80 ... 0x8f] = REL32, [0x90 ... 0x9f] = M,
	[0xa3] = M, [0xa4] = M | I8, [0xa5] = M, [0xa6] = BAD, [0xa7] = BAD,
	[0xab] = M, [0xac] = M | I8, [0xad ... 0xaf] = M,
	[0xb0 ... 0xb9] = M, [0xba] = M | I8, [0xbb ... 0xbf] = M,
	[0xc0] = M, [0xc1] = M, [0xc2] = M | I8, [0xc3] = M, [0xc4 ... 0xc6] = M | I8, [0xc7] = M,
	[0xd0 ... 0xff] = M,
};

/* The byte at i, or why there is none. */
static int at(const uint8_t *code, size_t len, size_t i)
{
	if (i >= X86_INSN_MAX_BYTES)
		return -ENOTSUP;
	if (i >= len)
		return -ENODATA;
	return code[i];
}

/* The bytes the ModRM at i takes with its SIB and displacement; *modrm is
 * the ModRM. The same for 32-bit addressing (67): 64-bit mode has no 16-bit
 * forms. */
static int modrm_bytes(const uint8_t *code, size_t len, size_t i, bool reg_only, int *modrm)
{
	int m = at(code, len, i), mod, sib;

	if (m < 0)
		return m;
	*modrm = m;
	mod = m >> 6;
	if (mod == 3 || reg_only)
		return 1;
	if ((m & 7) == 4) {
		sib = at(code, len, i + 1);
		if (sib < 0)
			return sib;
		if (mod == 0 && (sib & 7) == 5)
			return 2 + 4; /* no base: disp32 */
		return 2 + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
	}
	if (mod == 0 && (m & 7) == 5)
		return 1 + 4; /* RIP-relative */
	return 1 + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
}

/* What follows a VEX or EVEX opcode of map 1 (0F), 2 (0F38), 3 (0F3A), 5 or 6. */
static uint16_t vex_flags(int map, int op)
{
	switch (map) {
	case 1:
		if (op == 0x77) /* vzeroupper, vzeroall */
			return 0;
		if ((op >= 0x70 && op <= 0x73) || op == 0xc2 || (op >= 0xc4 && op <= 0xc6))
			return M | I8;
		return M;
	case 3:
		return M | I8;
	case 2:
	case 5:
	case 6:
		return M;
	}
	return BAD;
}

static int64_t rel_at(const uint8_t *p, unsigned int bytes)
{
	if (bytes == 1)
		return (int8_t)p[0];
	if (bytes == 2)
		return (int16_t)(p[0] | p[1] << 8);
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			 (uint32_t)p[3] << 24);
}

int x86_decode(const uint8_t *code, size_t len, uint64_t addr, struct x86_insn *out)
{
	bool opsize = false, adsize = false, simd_prefix = false;
	int b, op, map, modrm = -1, reg, rep = 0, rex = 0, err;
	unsigned int imm = 0, rel = 0;
	size_t n = 0;
	uint16_t f;

	if (!code || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	for (;; n++) {
		b = at(code, len, n);
		if (b < 0)
			return b;
		if ((b & 0xf0) == 0x40) {
			rex = b; /* the last one counts */
			continue;
		}
		switch (b) {
		case 0x66:
			opsize = simd_prefix = true;
			break;
		case 0x67:
			adsize = true;
			break;
		case 0xf2:
		case 0xf3:
			rep = b;
			simd_prefix = true;
			break;
		case 0xf0:
			simd_prefix = true;
			break;
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
			break;
		default:
			goto opcode;
		}
		rex = 0; /* a REX prefix counts only right before the opcode */
	}
opcode:
	op = b;
	n++;
	switch (op) {
	case 0x0f:
		b = at(code, len, n++);
		if (b < 0)
			return b;
		map = b == 0x38 ? 2 : b == 0x3a ? 3 : 1;
		if (map == 1) {
			op = b;
			f = map1[op];
			break;
		}
		op = at(code, len, n++);
		if (op < 0)
			return op;
		f = map == 3 ? M | I8 : M; /* 0F38: ModRM; 0F3A: ModRM, ib */
		break;
	case 0xc5: /* VEX2 (in 64-bit mode, never lds/les) */
	case 0xc4: /* VEX3 */
	case 0x62: /* EVEX (never bound) */
		if (simd_prefix || rex)
			return -ENOTSUP; /* #UD */
		b = at(code, len, n);
		if (b < 0)
			return b;
		map = op == 0xc5 ? 1 : op == 0xc4 ? b & 0x1f : b & 0x07;
		n += op == 0xc5 ? 1 : op == 0xc4 ? 2 : 3;
		op = at(code, len, n++);
		if (op < 0)
			return op;
		f = vex_flags(map, op);
		break;
	case 0x8f:
		/* pop r/m is /0; XOP (AMD's, not decoded) has its map, 8 to 10,
		 * where the reg bits are */
		b = at(code, len, n);
		if (b < 0)
			return b;
		if ((b >> 3) & 7)
			return -ENOTSUP;
		map = 0;
		f = M;
		break;
	default:
		map = 0;
		f = map0[op];
	}
	if (f & BAD)
		return -ENOTSUP;

	if (f & M) {
		err = modrm_bytes(code, len, n, f & MREG, &modrm);
		if (err < 0)
			return err;
		n += (size_t)err;
	}
	reg = modrm >= 0 ? (modrm >> 3) & 7 : 0;
	if (f & I8)
		imm += 1;
	if (f & I16)
		imm += 2;
	if ((f & IZ) || ((f & GRP3) && reg < 2 && (op & 1)))
		imm += opsize && !(rex & 8) ? 2 : 4;
	if ((f & GRP3) && reg < 2 && !(op & 1))
		imm += 1;
	if (f & IV)
		imm += rex & 8 ? 8 : opsize ? 2 : 4;
	if (f & MOFFS)
		imm += adsize ? 4 : 8;
	if ((f & SSE4A) && (rep == 0xf2 || (opsize && !rep)))
		imm += 2;
	if (f & REL8)
		rel = 1;
	if (f & REL32)
		rel = 4;

	/* what kind, and the refusals that need the ModRM */
	if (map == 0) {
		switch (op) {
		case 0xc2:
		case 0xc3:
			out->kind = X86_INSN_RET;
			break;
		case 0xca:
		case 0xcb:
		case 0xcf:
			out->kind = X86_INSN_FAR_RET;
			break;
		case 0xe8:
			out->kind = X86_INSN_CALL_DIRECT;
			break;
		case 0xc6:
		case 0xc7:
			if (reg && modrm != 0xf8) /* mov is /0; xabort, xbegin are F8 */
				return -ENOTSUP;
			if (op == 0xc7 && modrm == 0xf8) { /* xbegin: its iz is a rel */
				out->kind = X86_INSN_JUMP_DIRECT;
				rel = imm;
				imm = 0;
			}
			break;
		case 0xfe:
			if (reg >= 2)
				return -ENOTSUP;
			break;
		case 0xff:
			if (reg == 7 || ((reg == 3 || reg == 5) && (modrm >> 6) == 3))
				return -ENOTSUP; /* far branches need memory */
			if (reg == 2 || reg == 3)
				out->kind = X86_INSN_CALL_INDIRECT;
			else if (reg == 4 || reg == 5)
				out->kind = X86_INSN_JUMP_INDIRECT;
			break;
		default:
			if (rel)
				out->kind = X86_INSN_JUMP_DIRECT;
		}
	} else if (rel) { /* 0F 80-8F: no VEX or EVEX opcode has a rel */
		out->kind = X86_INSN_JUMP_DIRECT;
	}
	/* 66 on a near branch: a 16-bit operand on AMD, ignored on Intel */
	if (opsize && !(rex & 8) && out->kind != X86_INSN_OTHER && out->kind != X86_INSN_FAR_RET)
		return -ENOTSUP;

	n += imm + rel;
	if (n > X86_INSN_MAX_BYTES)
		return -ENOTSUP;
	if (n > len)
		return -ENODATA;
	if (rel)
		out->target = addr + n + (uint64_t)rel_at(code + n - rel, rel);
	out->len = (unsigned int)n;
	return (int)n;
}
