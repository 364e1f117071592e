// SPDX-License-Identifier: Apache-2.0
/*
 * Where in a function's first instructions a uprobe goes so that the kernel
 * emulates the probed instruction instead of single-stepping it out of line:
 * a single-step is a second trap (#DB), ~35 us a hit under this hypervisor
 * against ~1 us for an emulated one. Lengths and branch kinds come from
 * x86_decode(); what is here is what placement needs beyond them: which
 * registers an instruction writes, whether it stores through or copies rsp,
 * and which instructions the kernel emulates.
 *
 * What the kernel emulates (6.18, arch/x86/kernel/uprobes.c,
 * arch_uprobe_analyze_insn()): branch_setup_xol_ops() takes the exact
 * x86_nops[insn->length] byte patterns and any "prefix* + 0x90", jmp rel8/rel32
 * (eb, e9), call rel32 (e8) and jcc rel8/rel32 (70-7f, 0f 80-8f), refusing a
 * 0x66 prefix on branches; push_setup_xol_ops() takes push reg only as the
 * one byte 50-57 or as 41 50-57. Everything else is single-stepped, and
 * uprobe_init_insn() refuses cs/ds/es/ss and lock prefixes outright (so the
 * 9- to 11-byte nops, which carry a cs prefix, cannot be probed at all).
 * Measured here (a probe on each, 20k hits): jcc, jmp, call, push, 90, 66 90
 * and the 3- to 8-byte nops ~0.5 us; the 5-byte nop ~0.26 us (6.18 optimizes
 * it into a call); cmp, test, mov, shr, endbr64 and the 9-byte nop without
 * cs ~17 us. 6.19 swaps the nop patterns for insn_is_nop(), which takes more
 * nops and all of these, so what is emulated here is emulated there too.
 *
 * Mistakes do not cost the same: calling an instruction emulated when it is
 * not only makes the probe slower, but skipping an instruction that writes a
 * register the probe reads makes it report garbage. So anything not fully
 * understood here stops the walk and the probe stays where the walk is.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "placement.h"
#include "x86_decode.h"

#define MAX_INSNS 16

enum insn_kind {
	INSN_UNKNOWN,  /* not understood: stop */
	INSN_STOP,     /* understood, but control does not fall through */
	INSN_SKIP,     /* falls through; writes only the registers in .writes */
	INSN_EMULATED, /* the kernel emulates it: probe here */
};

struct insn {
	enum insn_kind kind;
	unsigned int len;
	uint32_t writes; /* PLACEMENT_REG() mask */
	bool rsp_store;	 /* stores to memory addressed off rsp */
	bool rsp_copy;	 /* puts rsp's value (or an address off it) elsewhere: a
			  * store through the copy could reach [rsp] */
	char name[20];
};

/* An instruction's prefixes and opcode, as far as effects need them. */
struct parts {
	bool p66, pf2, pf3;
	bool seg;     /* fs/gs: allowed below on memory operands only */
	bool refused; /* cs/ds/es/ss, lock: uprobe_init_insn() refuses them; 67
		       * changes the addressing: not worth understanding */
	uint8_t rex;  /* only right before the opcode */
	bool two;     /* the 0F map */
	uint8_t opc;
	unsigned int at; /* the byte after the opcode: the ModRM, if any */
};

/* What an instruction writes and reads, before its ModRM (if it has one)
 * says which registers. */
enum dst { DST_NONE, DST_RM, DST_REG, DST_OPREG /* the opcode's low bits, REX.B */ };

enum {
	F_MODRM = 1 << 0,
	F_BYTE = 1 << 1,     /* 8-bit operands (both of them, unless F_SRC_BYTE) */
	F_SRC_REG = 1 << 2,  /* the ModRM reg field is read, as a value */
	F_SRC_RM = 1 << 3,   /* the r/m operand is read, as a value */
	F_SRC_BYTE = 1 << 4, /* the r/m source is 8-bit, the destination not (movzx) */
	F_LEA = 1 << 5,	     /* the destination gets the memory operand's address */
};

struct form {
	enum dst dst;
	unsigned int flags; /* F_* */
	uint32_t fixed;	    /* registers written whatever the operands */
};

#define REX_R(rex) (((rex) >> 2) & 1)
#define REX_B(rex) ((rex) & 1)

#define REG_RAX 0
#define REG_RDX 2
#define REG_RSP 4

/* x86_nops[1..8] of a 64-bit kernel (arch/x86/include/asm/nops.h) */
static const uint8_t nops[9][8] = {
	[1] = { 0x90 },
	[2] = { 0x66, 0x90 },
	[3] = { 0x0f, 0x1f, 0x00 },
	[4] = { 0x0f, 0x1f, 0x40, 0x00 },
	[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	[6] = { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	[7] = { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
	[8] = { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
};

static const char *const jcc_names[16] = {
	"jo", "jno", "jb", "jae", "je", "jne", "jbe", "ja",
	"js", "jns", "jp", "jnp", "jl", "jge", "jle", "jg",
};

static const char *const alu_names[8] = {
	"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp",
};

static const char *const shift_names[8] = {
	"rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar",
};

static const char *const grp3_names[8] = {
	"test", "test", "not", "neg", "mul", "imul", "div", "idiv",
};

static const char *const reg_names[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

static void insn__name(struct insn *in, const char *name)
{
	snprintf(in->name, sizeof(in->name), "%s", name);
}

/* The prefixes and opcode of the len bytes at p (an instruction, or as
 * much of one as there is). */
static void parts__split(const uint8_t *p, unsigned int len, struct parts *px)
{
	unsigned int i;

	memset(px, 0, sizeof(*px));
	for (i = 0; i < len; i++) {
		if ((p[i] & 0xf0) == 0x40) {
			px->rex = p[i];
			continue;
		}
		if (p[i] == 0x66)
			px->p66 = true;
		else if (p[i] == 0xf2)
			px->pf2 = true;
		else if (p[i] == 0xf3)
			px->pf3 = true;
		else if (p[i] == 0x64 || p[i] == 0x65)
			px->seg = true;
		else if (p[i] == 0x26 || p[i] == 0x2e || p[i] == 0x36 || p[i] == 0x3e ||
			 p[i] == 0xf0 || p[i] == 0x67)
			px->refused = true;
		else
			break;
		px->rex = 0;
	}
	if (i < len)
		px->opc = p[i++];
	if (px->opc == 0x0f && i < len) {
		px->two = true;
		px->opc = p[i++];
	}
	px->at = i;
}

static void parts__unknown_name(const struct parts *px, struct insn *in)
{
	snprintf(in->name, sizeof(in->name), px->two ? "opcode 0x0f 0x%02x" : "opcode 0x%02x",
		 px->opc);
}

/*
 * Branches, returns and the straight-line instructions that trap: true when
 * the instruction is one of them (in->kind then says what to do).
 */
static bool insn__control(struct insn *in, const struct x86_insn *xi, const struct parts *px)
{
	uint8_t opc = px->opc;

	switch (xi->kind) {
	case X86_INSN_JUMP_DIRECT:
		if (!px->two && opc >= 0x70 && opc <= 0x7f)
			insn__name(in, jcc_names[opc & 15]);
		else if (px->two && opc >= 0x80 && opc <= 0x8f)
			insn__name(in, jcc_names[opc & 15]);
		else if (!px->two && (opc == 0xe9 || opc == 0xeb))
			insn__name(in, "jmp");
		else
			return true; /* loop, jrcxz, xbegin: INSN_UNKNOWN */
		break;
	case X86_INSN_CALL_DIRECT:
		insn__name(in, "call");
		break;
	case X86_INSN_RET:
	case X86_INSN_FAR_RET:
		insn__name(in, "ret");
		in->kind = INSN_STOP;
		return true;
	case X86_INSN_JUMP_INDIRECT:
	case X86_INSN_CALL_INDIRECT:
		insn__name(in, xi->kind == X86_INSN_JUMP_INDIRECT ? "jmp" : "call");
		in->kind = INSN_STOP;
		return true;
	case X86_INSN_OTHER:
		if (!px->two && opc == 0xcc)
			insn__name(in, "int3");
		else if (px->two && (opc == 0x05 || opc == 0x0b))
			insn__name(in, opc == 0x05 ? "syscall" : "ud2");
		else
			return false;
		in->kind = INSN_STOP;
		return true;
	}
	/*
	 * A direct branch. The kernel refuses 66 on these (x86_decode() too)
	 * and bnd (f2) is no bad prefix to it; the rest would be odd enough to
	 * leave to single-stepping.
	 */
	in->kind = INSN_STOP;
	if (!px->p66 && !px->pf3 && !px->seg && !px->rex && !px->refused)
		in->kind = INSN_EMULATED;
	return true;
}

/* Fills *f; true, for form__of() to return. */
static bool form__set(struct insn *in, struct form *f, const char *name, enum dst dst,
		      unsigned int flags, uint32_t fixed)
{
	insn__name(in, name);
	f->dst = dst;
	f->flags = flags;
	f->fixed = fixed;
	return true;
}

#define RSP_W PLACEMENT_REG(REG_RSP)
#define RAX_W PLACEMENT_REG(REG_RAX)
#define RDX_W PLACEMENT_REG(REG_RDX)

/*
 * The form of the straight-line instructions understood here: integer
 * moves, arithmetic and logic, shifts, bit tests, push and pop, nops.
 * Returns false for any other.
 */
static bool form__of(const uint8_t *p, unsigned int len, const struct parts *px,
		     struct insn *in, struct form *f)
{
	unsigned int field = px->at < len ? (p[px->at] >> 3) & 7 : 0;
	unsigned int byte = px->opc & 1 ? 0 : F_BYTE; /* for the opcodes whose bit 0 says */
	uint8_t opc = px->opc;

	memset(f, 0, sizeof(*f));
	if (!px->two && opc < 0x40 && (opc & 7) < 6) {
		/* add, or, adc, sbb, and, sub, xor, cmp: r/m,reg; reg,r/m; acc,imm */
		unsigned int form = opc & 7, cmp = (opc >> 3) == 7;
		const char *name = alu_names[opc >> 3];

		if (form <= 1)
			return form__set(in, f, name, cmp ? DST_NONE : DST_RM,
					 F_MODRM | F_SRC_REG | byte, 0);
		if (form <= 3)
			return form__set(in, f, name, cmp ? DST_NONE : DST_REG,
					 F_MODRM | F_SRC_RM | byte, 0);
		return form__set(in, f, name, DST_NONE, byte, cmp ? 0 : RAX_W);
	}
	if (!px->two) {
		switch (opc) {
		case 0x50 ... 0x57:
		case 0x68:
		case 0x6a:
			return form__set(in, f, "push", DST_NONE, 0, RSP_W);
		case 0x58 ... 0x5f:
			return form__set(in, f, "pop", DST_OPREG, 0, RSP_W);
		case 0x63:
			return form__set(in, f, "movsxd", DST_REG, F_MODRM | F_SRC_RM, 0);
		case 0x69:
		case 0x6b:
			return form__set(in, f, "imul", DST_REG, F_MODRM | F_SRC_RM, 0);
		case 0x80:
		case 0x81:
		case 0x83:
			return form__set(in, f, alu_names[field], field == 7 ? DST_NONE : DST_RM,
					 F_MODRM | (opc == 0x80 ? F_BYTE : 0), 0);
		case 0x84:
		case 0x85:
			return form__set(in, f, "test", DST_NONE, F_MODRM | byte, 0);
		case 0xa8:
		case 0xa9:
			return form__set(in, f, "test", DST_NONE, byte, 0);
		case 0x88:
		case 0x89:
			return form__set(in, f, "mov", DST_RM, F_MODRM | F_SRC_REG | byte, 0);
		case 0x8a:
		case 0x8b:
			return form__set(in, f, "mov", DST_REG, F_MODRM | F_SRC_RM | byte, 0);
		case 0x8d:
			return form__set(in, f, "lea", DST_REG, F_MODRM | F_LEA, 0);
		case 0x90: /* not xchg %eax,%r8d, nor pause */
			return form__set(in, f, "nop", DST_NONE, 0, 0) && !px->rex && !px->pf3;
		case 0x98:
			return form__set(in, f, "cdqe", DST_NONE, 0, RAX_W);
		case 0x99:
			return form__set(in, f, "cqo", DST_NONE, 0, RDX_W);
		case 0xb0 ... 0xbf:
			return form__set(in, f, "mov", DST_OPREG, opc < 0xb8 ? F_BYTE : 0, 0);
		case 0xc0:
		case 0xc1:
		case 0xd0 ... 0xd3:
			return form__set(in, f, shift_names[field], DST_RM, F_MODRM | byte, 0);
		case 0xc6:
		case 0xc7: /* x86_decode() refuses /1-/6; /7 is xabort, xbegin */
			return form__set(in, f, "mov", DST_RM, F_MODRM | byte, 0) && field == 0;
		case 0xf6:
		case 0xf7:
			/* test; not, neg; mul, imul, div, idiv: (e/r)dx:(e/r)ax, or ax */
			return form__set(in, f, grp3_names[field],
					 field == 2 || field == 3 ? DST_RM : DST_NONE, F_MODRM | byte,
					 field < 4 ? 0 : opc == 0xf7 ? RAX_W | RDX_W : RAX_W);
		case 0xfe:
		case 0xff:
			if (field <= 1)
				return form__set(in, f, field ? "dec" : "inc", DST_RM, F_MODRM | byte, 0);
			return form__set(in, f, "push", DST_NONE, F_MODRM, RSP_W) && opc == 0xff &&
			       field == 6;
		}
		return false;
	}
	switch (opc) {
	case 0x1e: /* endbr64 only: f3 0f 1e /1 is rdsspq, which writes a register */
		return form__set(in, f, "endbr64", DST_NONE, 0, 0) && px->pf3 && !px->p66 &&
		       !px->pf2 && !px->rex && px->at < len && p[px->at] == 0xfa;
	case 0x1f: /* 0f 1f /0 is the only nop of its group */
		return form__set(in, f, "nop", DST_NONE, F_MODRM, 0) && field == 0;
	case 0x40 ... 0x4f:
		return form__set(in, f, "cmov", DST_REG, F_MODRM | F_SRC_RM, 0);
	case 0x90 ... 0x9f:
		return form__set(in, f, "set", DST_RM, F_MODRM | F_BYTE, 0);
	case 0xa3:
		return form__set(in, f, "bt", DST_NONE, F_MODRM | F_SRC_REG, 0);
	case 0xab:
	case 0xb3:
	case 0xbb:
		return form__set(in, f, opc == 0xab ? "bts" : opc == 0xb3 ? "btr" : "btc", DST_RM,
				 F_MODRM | F_SRC_REG, 0);
	case 0xba: /* /4-/7 with an imm8; /0-/3 are no instruction */
		return form__set(in, f, field == 4 ? "bt" : field == 5 ? "bts" : field == 6 ? "btr" : "btc",
				 field == 4 ? DST_NONE : DST_RM, F_MODRM, 0) && field >= 4;
	case 0xaf:
		return form__set(in, f, "imul", DST_REG, F_MODRM | F_SRC_RM, 0);
	case 0xb6:
	case 0xb7:
	case 0xbe:
	case 0xbf:
		return form__set(in, f, opc <= 0xb7 ? "movzx" : "movsx", DST_REG,
				 F_MODRM | F_SRC_RM | (opc & 1 ? 0 : F_SRC_BYTE), 0);
	case 0xc8 ... 0xcf:
		return form__set(in, f, "bswap", DST_OPREG, 0, 0);
	}
	return false;
}

/* Without REX, byte register numbers 4-7 are ah, ch, dh, bh. */
static unsigned int byte_reg(unsigned int r, const struct parts *px)
{
	return !px->rex && r >= 4 && r < 8 ? r - 4 : r;
}

/* What the straight-line instruction at p (xi from x86_decode()) writes. */
static void insn__effects(const uint8_t *p, const struct x86_insn *xi, const struct parts *px,
			  struct insn *in)
{
	unsigned int reg = 0, rm = 0, opreg = (px->opc & 7) | REX_B(px->rex) << 3;
	bool is_reg = false, rsp_base = false;
	struct form f;

	if (!form__of(p, xi->len, px, in, &f)) {
		parts__unknown_name(px, in);
		return;
	}
	if (f.flags & F_MODRM) {
		uint8_t modrm = p[px->at];

		reg = ((modrm >> 3) & 7) | REX_R(px->rex) << 3;
		rm = (modrm & 7) | REX_B(px->rex) << 3;
		is_reg = modrm >> 6 == 3;
		/* SIB base 4 is rsp unless REX.B makes it r12 */
		rsp_base = !is_reg && (modrm & 7) == 4 && (p[px->at + 1] & 7) == 4 &&
			   !REX_B(px->rex);
		if ((f.flags & F_LEA) && is_reg)
			goto unknown; /* lea of a register is #UD */
	}
	/* rep prefixes belong to none of these; fs/gs only to memory operands */
	if (px->refused || px->pf2 || (px->pf3 && px->opc != 0x1e) ||
	    (px->seg && (!(f.flags & F_MODRM) || is_reg)))
		goto unknown;
	if (f.flags & F_BYTE) {
		reg = byte_reg(reg, px);
		if (is_reg)
			rm = byte_reg(rm, px);
		opreg = byte_reg(opreg, px);
	}

	in->writes = f.fixed;
	if (f.dst == DST_REG)
		in->writes |= PLACEMENT_REG(reg);
	else if (f.dst == DST_RM && is_reg)
		in->writes |= PLACEMENT_REG(rm);
	else if (f.dst == DST_OPREG)
		in->writes |= PLACEMENT_REG(opreg);
	in->rsp_store = f.dst == DST_RM && rsp_base;
	/* mov %rsp,%rax; mov %rsp,%rax (8b); lea 8(%rsp),%rax; a store of rsp
	 * to memory is no copy a later store could go through in a few
	 * instructions */
	if ((f.dst == DST_REG || (f.dst == DST_RM && is_reg)) &&
	    (((f.flags & F_SRC_REG) && reg == REG_RSP) ||
	     ((f.flags & F_SRC_RM) && is_reg &&
	      ((f.flags & F_SRC_BYTE) ? byte_reg(rm, px) : rm) == REG_RSP) ||
	     ((f.flags & F_LEA) && rsp_base)))
		in->rsp_copy = true;
	in->kind = INSN_SKIP;

	/* the kernel's emulated ones */
	if (!px->two && px->opc == 0x90 && !px->pf2 && !px->seg && !px->refused)
		in->kind = INSN_EMULATED; /* "prefix* + nop" */
	if (!px->two && px->opc >= 0x50 && px->opc <= 0x57 && !px->p66 && !px->seg &&
	    (!px->rex || px->rex == 0x41) && xi->len == 1u + !!px->rex)
		in->kind = INSN_EMULATED; /* what push_setup_xol_ops() takes */
	if (px->two && px->opc == 0x1f && xi->len < sizeof(nops) / sizeof(nops[0]) &&
	    !memcmp(p, nops[xi->len], xi->len))
		in->kind = INSN_EMULATED; /* one of x86_nops[] exactly */
	return;

unknown:
	in->writes = 0;
	parts__unknown_name(px, in);
}

/*
 * Decodes one instruction at p (avail bytes there, at offset off). Returns 0
 * with *in filled (kind INSN_UNKNOWN when not understood), or -ENODATA when
 * the instruction runs past avail.
 */
static int insn__decode(const uint8_t *p, size_t avail, unsigned int off, struct insn *in)
{
	struct x86_insn xi;
	struct parts px;
	int n;

	memset(in, 0, sizeof(*in));
	n = x86_decode(p, avail, off, &xi);
	if (n == -ENODATA)
		return n;
	parts__split(p, (unsigned int)(avail < X86_INSN_MAX_BYTES ? avail : X86_INSN_MAX_BYTES),
		     &px);
	parts__unknown_name(&px, in);
	if (n < 0)
		return 0; /* -ENOTSUP: no instruction x86_decode() vouches for */
	in->len = xi.len;
	parts__split(p, xi.len, &px);
	if (px.refused)
		return 0;
	if (insn__control(in, &xi, &px))
		return 0;
	insn__effects(p, &xi, &px, in);
	return 0;
}

static const char *lowest_reg(uint32_t mask)
{
	for (unsigned int r = 0; r < 16; r++)
		if (mask & PLACEMENT_REG(r))
			return reg_names[r];
	return "?";
}

void placement__choose(const uint8_t *code, size_t len, uint32_t keep_regs,
		       struct placement *out)
{
	char skipped[96] = "";
	size_t used = 0;
	unsigned int off = 0, n;
	struct insn in;

	memset(out, 0, sizeof(*out));
	if (!code || !len) {
		snprintf(out->why, sizeof(out->why), "+0: no code to look at");
		return;
	}
	for (n = 0;; n++) {
		if (off >= len || off >= PLACEMENT_CODE_MAX || n >= MAX_INSNS) {
			snprintf(out->why, sizeof(out->why),
				 "+0: single-stepped; no emulated instruction in the first "
				 "%u instructions (%u bytes)", n, off);
			return;
		}
		if (insn__decode(code + off, len - off, off, &in) < 0) {
			snprintf(out->why, sizeof(out->why),
				 "+0: single-stepped; the code given ends inside the "
				 "instruction at +%u", off);
			return;
		}
		if (in.kind == INSN_EMULATED)
			break;
		if (in.kind == INSN_UNKNOWN) {
			snprintf(out->why, sizeof(out->why),
				 "+0: single-stepped; %s at +%u not understood", in.name, off);
			return;
		}
		if (in.kind == INSN_STOP) {
			snprintf(out->why, sizeof(out->why),
				 "+0: single-stepped; %s at +%u does not fall through", in.name,
				 off);
			return;
		}
		if (in.writes & keep_regs) {
			snprintf(out->why, sizeof(out->why),
				 "+0: single-stepped; %s at +%u writes %s, which the probe reads",
				 in.name, off, lowest_reg(in.writes & keep_regs));
			return;
		}
		/* the probe, or the kernel for a return probe, reads the return
		 * address at [rsp] */
		if (in.rsp_store && (keep_regs & PLACEMENT_RSP)) {
			snprintf(out->why, sizeof(out->why),
				 "+0: single-stepped; %s at +%u stores to the stack", in.name, off);
			return;
		}
		if (in.rsp_copy && (keep_regs & PLACEMENT_RSP)) {
			snprintf(out->why, sizeof(out->why),
				 "+0: single-stepped; %s at +%u copies rsp", in.name, off);
			return;
		}
		if (used < sizeof(skipped))
			used += (size_t)snprintf(skipped + used, sizeof(skipped) - used, "%s%s",
						 used ? ", " : "", in.name);
		off += in.len;
	}

	out->offset = off;
	out->emulated = 1;
	if (off)
		snprintf(out->why, sizeof(out->why), "+%u: %s (emulated); skipped %s", off,
			 in.name, skipped);
	else
		snprintf(out->why, sizeof(out->why), "+0: %s (emulated)", in.name);
}
