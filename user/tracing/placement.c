// SPDX-License-Identifier: Apache-2.0
/*
 * A small x86-64 decoder for the first instructions of a function, just
 * enough to move an entry uprobe past instructions the kernel would
 * single-step onto one it emulates.
 *
 * What the kernel emulates (6.18, arch/x86/kernel/uprobes.c,
 * arch_uprobe_analyze_insn()): branch_setup_xol_ops() takes the exact
 * x86_nops[insn->length] byte patterns and any "prefix* + 0x90", jmp rel8/rel32
 * (eb, e9), call rel32 (e8) and jcc rel8/rel32 (70-7f, 0f 80-8f), refusing a
 * 0x66 prefix on branches; push_setup_xol_ops() takes push reg only as the
 * one byte 50-57 or as 41 50-57. Everything else is single-stepped, and
 * uprobe_init_insn() refuses cs/ds/es/ss and lock prefixes outright (so the
 * 9- to 11-byte nops, which carry a cs prefix, cannot be probed at all).
 * 6.19 swaps the nop patterns for insn_is_nop(), which takes more nops and
 * all of these, so what is emulated here is emulated there too.
 *
 * Mistakes do not cost the same: calling an instruction emulated when it is
 * not only makes the probe slower, but skipping an instruction that writes a
 * register the probe reads makes it report garbage. So anything not fully
 * understood here stops the walk and the probe stays at the function's start.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "placement.h"

#define MAX_INSNS 8
#define MAX_INSN_LEN 15

enum insn_kind {
	INSN_UNKNOWN,  /* not understood: stop */
	INSN_STOP,     /* understood, but control does not fall through */
	INSN_SKIP,     /* falls through; writes only the registers in .writes */
	INSN_EMULATED, /* the kernel emulates it: probe here */
};

struct insn {
	enum insn_kind kind;
	unsigned int len;
	uint32_t writes;  /* PLACEMENT_REG() mask */
	bool rsp_store;   /* stores to memory addressed off rsp */
	char name[20];
};

struct prefixes {
	bool p66, pf2, pf3, seg;
	uint8_t rex;
};

#define REX_W(rex) (((rex) >> 3) & 1)
#define REX_R(rex) (((rex) >> 2) & 1)
#define REX_B(rex) ((rex) & 1)

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

static const char *const reg_names[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* Without REX, byte register numbers 4-7 are ah, ch, dh, bh. */
static unsigned int byte_reg(unsigned int r, const struct prefixes *px)
{
	return !px->rex && r >= 4 && r < 8 ? r - 4 : r;
}

/*
 * Decodes the ModRM operand at p[0]: its length (ModRM, SIB, displacement)
 * goes to *len, whether it names a register (rather than memory) to *is_reg,
 * whether the memory is addressed off rsp to *rsp_base. Returns the ModRM
 * byte, or -1 when it runs past avail.
 */
static int modrm__decode(const uint8_t *p, size_t avail, const struct prefixes *px,
			 unsigned int *len, bool *is_reg, bool *rsp_base)
{
	unsigned int mod, rm, n = 1;

	if (avail < 1)
		return -1;
	mod = p[0] >> 6;
	rm = p[0] & 7;
	*is_reg = mod == 3;
	*rsp_base = false;
	if (mod != 3 && rm == 4) {
		if (avail < 2)
			return -1;
		/* base 4 is rsp unless REX.B makes it r12; mod 0 base 5 is no base */
		*rsp_base = (p[1] & 7) == 4 && !REX_B(px->rex);
		if (mod == 0 && (p[1] & 7) == 5)
			n += 4;
		n++;
	}
	if (mod == 1)
		n += 1;
	else if (mod == 2 || (mod == 0 && rm == 5)) /* rm 5 at mod 0: rip-relative */
		n += 4;
	if (n > avail)
		return -1;
	*len = n;
	return p[0];
}

static void insn__name(struct insn *in, const char *name)
{
	snprintf(in->name, sizeof(in->name), "%s", name);
}

/* Control transfers: they never fall through, some are emulated. */
static int insn__branch(struct insn *in, size_t avail, unsigned int i,
			const struct prefixes *px, bool two, uint8_t opc)
{
	unsigned int imm = 0;
	bool rel = false;

	if (!two && (opc == 0xe8 || opc == 0xe9 || opc == 0xeb)) {
		insn__name(in, opc == 0xe8 ? "call" : "jmp");
		imm = opc == 0xeb ? 1 : 4;
		rel = true;
	} else if (!two && opc >= 0x70 && opc <= 0x7f) {
		insn__name(in, jcc_names[opc & 15]);
		imm = 1;
		rel = true;
	} else if (two && opc >= 0x80 && opc <= 0x8f) {
		insn__name(in, jcc_names[opc & 15]);
		imm = 4;
		rel = true;
	} else if (!two && (opc == 0xc3 || opc == 0xcb)) {
		insn__name(in, "ret");
	} else if (!two && (opc == 0xc2 || opc == 0xca)) {
		insn__name(in, "ret");
		imm = 2;
	} else if (!two && opc == 0xcc) {
		insn__name(in, "int3");
	} else if (two && (opc == 0x05 || opc == 0x0b)) {
		insn__name(in, opc == 0x05 ? "syscall" : "ud2");
	} else {
		return 1;
	}
	in->len = i + imm;
	if (in->len > avail)
		return -1;
	in->kind = INSN_STOP;
	/*
	 * The kernel refuses 66 on these and bnd (f2) is no bad prefix to it;
	 * the rest would be odd enough to leave to single-stepping.
	 */
	if (rel && !px->p66 && !px->pf3 && !px->seg && !px->rex)
		in->kind = INSN_EMULATED;
	return 0;
}

/*
 * Decodes one instruction at p (avail bytes there). Returns 0 with *in
 * filled (kind INSN_UNKNOWN when not understood), or -1 when the
 * instruction runs past avail.
 */
static int insn__decode(const uint8_t *p, size_t avail, struct insn *in)
{
	struct prefixes px = {};
	unsigned int i = 0, mlen = 0, imm = 0, field = 0, reg, rm;
	bool has_modrm = false, is_reg = false, rsp_base = false, two = false;
	bool byte_op = false, imm_z = false, writes_rm = false, writes_reg = false;
	int modrm = 0, err;
	uint8_t opc;

	memset(in, 0, sizeof(*in));
	if (avail > MAX_INSN_LEN)
		avail = MAX_INSN_LEN;

	for (;; i++) {
		if (i >= avail)
			return -1;
		if (p[i] == 0x66)
			px.p66 = true;
		else if (p[i] == 0xf2)
			px.pf2 = true;
		else if (p[i] == 0xf3)
			px.pf3 = true;
		else if (p[i] == 0x64 || p[i] == 0x65)
			px.seg = true; /* fs/gs: allowed below on memory operands only */
		else
			break;
	}
	if ((p[i] & 0xf0) == 0x40) {
		px.rex = p[i++];
		if (i >= avail)
			return -1;
	}
	opc = p[i++];
	if (opc == 0x0f) {
		if (i >= avail)
			return -1;
		two = true;
		opc = p[i++];
	}
	snprintf(in->name, sizeof(in->name), two ? "opcode 0x0f 0x%02x" : "opcode 0x%02x", opc);
	in->len = i;

	err = insn__branch(in, avail, i, &px, two, opc);
	if (err <= 0)
		return err;

	if (!two && opc >= 0x50 && opc <= 0x57) {
		insn__name(in, "push");
		/* only the encodings push_setup_xol_ops() takes are emulated */
		if (!px.p66 && !px.pf2 && !px.pf3 && !px.seg && (!px.rex || px.rex == 0x41))
			in->kind = INSN_EMULATED;
		else if (!px.pf2 && !px.pf3 && !px.seg)
			in->kind = INSN_SKIP;
		in->writes = PLACEMENT_RSP;
		return 0;
	}
	if (!two && opc == 0x90) {
		insn__name(in, "nop");
		/* "prefix* + nop", but neither pause (f3 90) nor xchg %eax,%r8d */
		if (!px.pf2 && !px.pf3 && !px.seg && !px.rex)
			in->kind = INSN_EMULATED;
		return 0;
	}
	if (two && opc == 0x1e && px.pf3 && !px.p66 && !px.pf2 && !px.seg && !px.rex) {
		if (i >= avail)
			return -1;
		if (p[i] == 0xfa) {
			insn__name(in, "endbr64");
			in->kind = INSN_SKIP;
			in->len = i + 1;
		}
		return 0;
	}

	/* the rest: ModRM forms that write at most one register or store */
	if (!two && opc < 0x40 && (opc & 7) < 6) {
		unsigned int form = opc & 7;

		insn__name(in, alu_names[opc >> 3]);
		has_modrm = form < 4;
		byte_op = !(form & 1);
		imm = form == 4 ? 1 : form == 5 ? 4 : 0;
		imm_z = form == 5;
		if ((opc >> 3) != 7) { /* cmp writes no register */
			writes_rm = form <= 1;
			writes_reg = form == 2 || form == 3;
			if (form >= 4)
				in->writes = PLACEMENT_REG(0);
		}
	} else if (!two && (opc == 0x80 || opc == 0x81 || opc == 0x83)) {
		has_modrm = true; /* named by the ModRM reg field below */
		byte_op = opc == 0x80;
		imm = opc == 0x81 ? 4 : 1;
		imm_z = opc == 0x81;
	} else if (!two && (opc == 0x84 || opc == 0x85)) {
		insn__name(in, "test");
		has_modrm = true;
		byte_op = opc == 0x84;
	} else if (!two && opc >= 0x88 && opc <= 0x8b) {
		insn__name(in, "mov");
		has_modrm = true;
		byte_op = !(opc & 1);
		writes_rm = opc <= 0x89;
		writes_reg = opc >= 0x8a;
	} else if (!two && (opc == 0x8d || opc == 0x63)) {
		insn__name(in, opc == 0x8d ? "lea" : "movsxd");
		has_modrm = writes_reg = true;
	} else if (!two && (opc == 0xa8 || opc == 0xa9)) {
		insn__name(in, "test");
		imm = opc == 0xa8 ? 1 : 4;
		imm_z = opc == 0xa9;
	} else if (!two && opc >= 0xb0 && opc <= 0xbf) {
		insn__name(in, "mov");
		byte_op = opc < 0xb8;
		imm = byte_op ? 1 : REX_W(px.rex) ? 8 : px.p66 ? 2 : 4;
		reg = (opc & 7) | REX_B(px.rex) << 3;
		in->writes = PLACEMENT_REG(byte_op ? byte_reg(reg, &px) : reg);
	} else if (!two && (opc == 0xc6 || opc == 0xc7 || opc == 0xf6 || opc == 0xf7)) {
		insn__name(in, opc <= 0xc7 ? "mov" : "test");
		has_modrm = true;
		byte_op = !(opc & 1);
		imm = byte_op ? 1 : 4;
		imm_z = !byte_op;
		writes_rm = opc <= 0xc7;
	} else if (two && (opc == 0x1f || opc == 0xb6 || opc == 0xb7 || opc == 0xbe ||
			   opc == 0xbf)) {
		insn__name(in, opc == 0x1f ? "nop" : opc <= 0xb7 ? "movzx" : "movsx");
		has_modrm = true;
		writes_reg = opc != 0x1f;
	} else {
		return 0;
	}

	if (has_modrm) {
		modrm = modrm__decode(p + i, avail - i, &px, &mlen, &is_reg, &rsp_base);
		if (modrm < 0)
			return -1;
		field = (modrm >> 3) & 7;
		in->len = i + mlen;
		/* before the immediate: other group members have other lengths */
		if (!two && opc >= 0xc6 && field != 0)
			return 0; /* xabort, xbegin, not, neg, mul, div... */
		if (two && opc == 0x1f && field != 0)
			return 0; /* 0f 1f /0 is the only nop of its group */
		if (!two && opc == 0x8d && is_reg)
			return 0; /* lea of a register is #UD */
	}
	/* a 16-bit operand shrinks a 4-byte immediate, unless REX.W widens it */
	if (imm_z && px.p66 && !REX_W(px.rex))
		imm = 2;
	in->len = i + mlen + imm;
	if (in->len > avail)
		return -1;
	/* rep prefixes belong to none of these; fs/gs only to memory operands */
	if (px.pf2 || px.pf3 || (px.seg && (!has_modrm || is_reg)))
		return 0;

	if (has_modrm) {
		reg = field | REX_R(px.rex) << 3;
		rm = (modrm & 7) | REX_B(px.rex) << 3;
		if (!two && opc >= 0x80 && opc <= 0x83) {
			insn__name(in, alu_names[field]);
			writes_rm = field != 7; /* cmp */
		}
		if (writes_reg)
			in->writes = PLACEMENT_REG(byte_op ? byte_reg(reg, &px) : reg);
		if (writes_rm && is_reg)
			in->writes = PLACEMENT_REG(byte_op ? byte_reg(rm, &px) : rm);
		in->rsp_store = writes_rm && !is_reg && rsp_base;
	}
	in->kind = INSN_SKIP;
	if (two && opc == 0x1f && in->len < sizeof(nops) / sizeof(nops[0]) &&
	    !memcmp(p, nops[in->len], in->len))
		in->kind = INSN_EMULATED; /* one of x86_nops[] exactly */
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
	char skipped[64] = "";
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
		if (insn__decode(code + off, len - off, &in) < 0) {
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
		/* the probe reads the return address at [rsp] */
		if (in.rsp_store && (keep_regs & PLACEMENT_RSP)) {
			snprintf(out->why, sizeof(out->why),
				 "+0: single-stepped; %s at +%u stores to the stack", in.name, off);
			return;
		}
		if (used < sizeof(skipped))
			used += snprintf(skipped + used, sizeof(skipped) - used, "%s%s",
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
