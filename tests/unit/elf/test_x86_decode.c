// SPDX-License-Identifier: Apache-2.0
/*
 * x86_decode: hand-written encodings of each tricky class with the length
 * and kind the manuals give them, every truncation of each refused; then
 * the instruction boundaries of whole libraries (libc, libstdc++, jemalloc
 * where installed) against objdump's, which is another decoder than ours.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "elf_syms.h"
#include "x86_decode.h"

#define ADDR 0x401000ull

struct enc {
	const char *what;
	uint8_t b[X86_INSN_MAX_BYTES + 1];
	size_t n;
	int ret; /* the length, or -errno */
	enum x86_insn_kind kind;
};

#define ENC(what_, ret_, kind_, ...)                                                  \
	{ .what = what_, .b = { __VA_ARGS__ }, .n = sizeof((uint8_t[]){ __VA_ARGS__ }), \
	  .ret = ret_, .kind = X86_INSN_##kind_ }
#define LEN(what_, kind_, ...) ENC(what_, (int)sizeof((uint8_t[]){ __VA_ARGS__ }), kind_, __VA_ARGS__)
#define NOT(what_, ...) ENC(what_, -ENOTSUP, OTHER, __VA_ARGS__)
#define D32 0x78, 0x56, 0x34, 0x12
#define D64 0xf0, 0xde, 0xbc, 0x9a, D32

static const struct enc encs[] = {
	LEN("nop", OTHER, 0x90),
	/* returns */
	LEN("ret", RET, 0xc3),
	LEN("repz ret", RET, 0xf3, 0xc3),
	LEN("bnd ret", RET, 0xf2, 0xc3),
	LEN("ret $8", RET, 0xc2, 0x08, 0x00),
	LEN("rex.W ret", RET, 0x48, 0xc3),
	LEN("lret", FAR_RET, 0xcb),
	LEN("lretq", FAR_RET, 0x48, 0xcb),
	LEN("lret $16", FAR_RET, 0xca, 0x10, 0x00),
	LEN("iret", FAR_RET, 0xcf),
	LEN("iretq", FAR_RET, 0x48, 0xcf),
	NOT("retw", 0x66, 0xc3),
	/* jumps and calls */
	LEN("jmp *%rax", JUMP_INDIRECT, 0xff, 0xe0),
	LEN("notrack jmp *%rax", JUMP_INDIRECT, 0x3e, 0xff, 0xe0),
	LEN("jmp *%r11", JUMP_INDIRECT, 0x41, 0xff, 0xe3),
	LEN("notrack jmp *(%rdx,%rax,8)", JUMP_INDIRECT, 0x3e, 0xff, 0x24, 0xc2),
	LEN("jmp *disp(%rip)", JUMP_INDIRECT, 0xff, 0x25, D32),
	LEN("ljmp *(%rsp)", JUMP_INDIRECT, 0xff, 0x2c, 0x24),
	NOT("ljmp through a register", 0xff, 0xe8),
	LEN("call *%rax", CALL_INDIRECT, 0xff, 0xd0),
	LEN("call *disp(%rip)", CALL_INDIRECT, 0xff, 0x15, D32),
	LEN("lcall *(%rax)", CALL_INDIRECT, 0xff, 0x18),
	LEN("call rel32", CALL_DIRECT, 0xe8, 0x00, 0x00, 0x00, 0x00),
	LEN("data16 data16 rex.W call (TLS GD)", CALL_DIRECT, 0x66, 0x66, 0x48, 0xe8, D32),
	LEN("jmp rel32", JUMP_DIRECT, 0xe9, 0xfb, 0xff, 0xff, 0xff),
	LEN("bnd jmp rel32", JUMP_DIRECT, 0xf2, 0xe9, D32),
	LEN("jmp rel8", JUMP_DIRECT, 0xeb, 0xfe),
	LEN("je rel8", JUMP_DIRECT, 0x74, 0x10),
	LEN("jg rel8", JUMP_DIRECT, 0x7f, 0x80),
	LEN("je rel32", JUMP_DIRECT, 0x0f, 0x84, 0x00, 0x01, 0x00, 0x00),
	LEN("jle rel32 ,pn", JUMP_DIRECT, 0x2e, 0x0f, 0x8e, D32),
	LEN("loop", JUMP_DIRECT, 0xe2, 0xfe),
	LEN("loope", JUMP_DIRECT, 0xe1, 0x00),
	LEN("jrcxz", JUMP_DIRECT, 0xe3, 0x05),
	LEN("jecxz", JUMP_DIRECT, 0x67, 0xe3, 0x05),
	LEN("xbegin", JUMP_DIRECT, 0xc7, 0xf8, D32),
	LEN("xabort $1", OTHER, 0xc6, 0xf8, 0x01),
	NOT("jmpw rel16", 0x66, 0xe9, 0x00, 0x00),
	NOT("jmpw rel8", 0x66, 0xeb, 0x00),
	NOT("callw *%ax", 0x66, 0xff, 0xd0),
	/* prefixes and REX */
	LEN("lock cmpxchg %rcx,(%rdx)", OTHER, 0xf0, 0x48, 0x0f, 0xb1, 0x0a),
	LEN("movdqa (%r12),%xmm0", OTHER, 0x66, 0x41, 0x0f, 0x6f, 0x04, 0x24),
	LEN("rep stos %rax", OTHER, 0xf3, 0x48, 0xab),
	LEN("mov %fs:0x28,%rax", OTHER, 0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00),
	LEN("cs nopw 0(%rax,%rax)", OTHER, 0x2e, 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00),
	LEN("data16 cs nopw", OTHER, 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00),
	LEN("REX before a prefix (ignored)", OTHER, 0x48, 0x66, 0xb8, 0x34, 0x12),
	LEN("15 bytes: 14 prefixes", OTHER, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	    0x66, 0x66, 0x66, 0x66, 0x66, 0x90),
	NOT("16 bytes: 15 prefixes", 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	    0x66, 0x66, 0x66, 0x66, 0x66, 0x90),
	NOT("16 bytes: 10 prefixes, REX, a 5-byte instruction", 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	    0x66, 0x66, 0x66, 0x66, 0x48, 0x05, D32),
	/* immediates */
	LEN("add $0x1234,%cx", OTHER, 0x66, 0x81, 0xc1, 0x34, 0x12),
	LEN("movw $0x1234,(%rax)", OTHER, 0x66, 0xc7, 0x00, 0x34, 0x12),
	LEN("mov $0x1234,%ax", OTHER, 0x66, 0xb8, 0x34, 0x12),
	LEN("pushw $0x1234", OTHER, 0x66, 0x68, 0x34, 0x12),
	LEN("test $0x1234,%ax", OTHER, 0x66, 0xa9, 0x34, 0x12),
	LEN("add $imm32,%rcx (REX.W wins over 66)", OTHER, 0x66, 0x48, 0x81, 0xc1, D32),
	LEN("add $imm32,%ecx", OTHER, 0x81, 0xc1, D32),
	LEN("add $1,%ecx", OTHER, 0x83, 0xc1, 0x01),
	LEN("imul $10,%eax,%eax", OTHER, 0x6b, 0xc0, 0x0a),
	LEN("imul $imm32,%eax,%eax", OTHER, 0x69, 0xc0, D32),
	LEN("push $imm32", OTHER, 0x68, D32),
	LEN("mov $imm64,%rax", OTHER, 0x48, 0xb8, D64),
	LEN("mov $imm64,%r15", OTHER, 0x49, 0xbf, D64),
	LEN("mov $imm32,%eax", OTHER, 0xb8, D32),
	LEN("mov $imm32,%r8d", OTHER, 0x41, 0xb8, D32),
	LEN("movabs moffs64,%eax", OTHER, 0xa1, D64),
	LEN("movabs moffs64,%rax", OTHER, 0x48, 0xa1, D64),
	LEN("addr32 mov moffs32,%eax", OTHER, 0x67, 0xa1, D32),
	LEN("movabs %al,moffs64", OTHER, 0xa2, D64),
	LEN("addr32 mov %rax,moffs32", OTHER, 0x67, 0x48, 0xa3, D32),
	LEN("enter $16,$0", OTHER, 0xc8, 0x10, 0x00, 0x00),
	LEN("int $0x80", OTHER, 0xcd, 0x80),
	LEN("test $1,%cl (F6 /0)", OTHER, 0xf6, 0xc1, 0x01),
	LEN("test $1,%cl (F6 /1)", OTHER, 0xf6, 0xc9, 0x01),
	LEN("not %cl (F6 /2)", OTHER, 0xf6, 0xd1),
	LEN("test $imm32,%ecx (F7 /0)", OTHER, 0xf7, 0xc1, D32),
	LEN("not %ecx (F7 /2)", OTHER, 0xf7, 0xd1),
	LEN("mul %ecx (F7 /4)", OTHER, 0xf7, 0xe1),
	LEN("test $0x1234,%cx (66 F7 /0)", OTHER, 0x66, 0xf7, 0xc1, 0x34, 0x12),
	LEN("test $imm32,%rcx", OTHER, 0x48, 0xf7, 0xc1, D32),
	LEN("testl $imm32,disp(%rip)", OTHER, 0xf7, 0x05, D32, D32),
	LEN("testb $1,disp(%rip)", OTHER, 0xf6, 0x05, D32, 0x01),
	LEN("shl $3,%eax", OTHER, 0xc1, 0xe0, 0x03),
	/* ModRM, SIB, displacements */
	LEN("mov (%rsp),%eax", OTHER, 0x8b, 0x04, 0x24),
	LEN("mov 8(%rsp),%eax", OTHER, 0x8b, 0x44, 0x24, 0x08),
	LEN("mov disp32(%rsp),%eax", OTHER, 0x8b, 0x84, 0x24, D32),
	LEN("mov disp(%rip),%eax", OTHER, 0x8b, 0x05, D32),
	LEN("mov disp32,%eax (SIB, no base)", OTHER, 0x8b, 0x04, 0x25, D32),
	LEN("mov disp32(,%rax,1),%eax", OTHER, 0x8b, 0x04, 0x05, D32),
	LEN("mov 0(%rbp),%eax", OTHER, 0x8b, 0x45, 0x00),
	LEN("mov 0(%r13),%eax", OTHER, 0x41, 0x8b, 0x45, 0x00),
	LEN("mov 0(%r13,%r12,2),%eax (SIB base r13, mod 1)", OTHER, 0x43, 0x8b, 0x44, 0x65, 0x00),
	LEN("lea disp32(%rbp,%rax,4),%rcx", OTHER, 0x48, 0x8d, 0x8c, 0x85, D32),
	LEN("addr32 mov (%eax),%eax", OTHER, 0x67, 0x8b, 0x00),
	LEN("mov %cr0,%rax", OTHER, 0x0f, 0x20, 0xc0),
	LEN("mov %cr0,%rbp (mod 0, no memory form)", OTHER, 0x0f, 0x20, 0x05),
	LEN("pop %rax (8F /0)", OTHER, 0x8f, 0xc0),
	LEN("pop (%rax)", OTHER, 0x8f, 0x00),
	LEN("fldt 8(%rsp)", OTHER, 0xdb, 0x6c, 0x24, 0x08),
	LEN("fxch", OTHER, 0xd9, 0xc9),
	/* 0F, 0F38, 0F3A */
	LEN("endbr64", OTHER, 0xf3, 0x0f, 0x1e, 0xfa),
	LEN("ud2", OTHER, 0x0f, 0x0b),
	LEN("syscall", OTHER, 0x0f, 0x05),
	LEN("cpuid", OTHER, 0x0f, 0xa2),
	LEN("mfence", OTHER, 0x0f, 0xae, 0xf0),
	LEN("rdrand %eax", OTHER, 0x0f, 0xc7, 0xf0),
	LEN("bt $5,%eax", OTHER, 0x0f, 0xba, 0xe0, 0x05),
	LEN("shld $3,%edx,%eax", OTHER, 0x0f, 0xa4, 0xd0, 0x03),
	LEN("psrldq $8,%xmm0", OTHER, 0x66, 0x0f, 0x73, 0xd8, 0x08),
	LEN("shufpd $0,%xmm1,%xmm0", OTHER, 0x66, 0x0f, 0xc6, 0xc1, 0x00),
	LEN("prefetcht0 (%rax)", OTHER, 0x0f, 0x18, 0x08),
	LEN("pshufb %xmm1,%xmm0 (0F38)", OTHER, 0x66, 0x0f, 0x38, 0x00, 0xc1),
	LEN("crc32q %rax,%rbx (0F38 F1)", OTHER, 0xf2, 0x48, 0x0f, 0x38, 0xf1, 0xd8),
	LEN("palignr $8,%xmm1,%xmm0 (0F3A)", OTHER, 0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x08),
	LEN("pcmpistri $0x1a,disp(%rip),%xmm0", OTHER, 0x66, 0x0f, 0x3a, 0x63, 0x05, D32, 0x1a),
	LEN("extrq $1,$2,%xmm0", OTHER, 0x66, 0x0f, 0x78, 0xc0, 0x01, 0x02),
	LEN("insertq $1,$2,%xmm1,%xmm0", OTHER, 0xf2, 0x0f, 0x78, 0xc1, 0x01, 0x02),
	LEN("vmread %rax,%rax", OTHER, 0x0f, 0x78, 0xc0),
	LEN("cmovne %rcx,%rax", OTHER, 0x48, 0x0f, 0x45, 0xc1),
	/* VEX2, VEX3 */
	LEN("vzeroupper", OTHER, 0xc5, 0xf8, 0x77),
	LEN("vmovdqa (%rsp),%xmm0", OTHER, 0xc5, 0xf9, 0x6f, 0x04, 0x24),
	LEN("vmovdqa disp(%rip),%ymm0", OTHER, 0xc5, 0xfd, 0x6f, 0x05, D32),
	LEN("vmovss disp32(%rsp),%xmm0", OTHER, 0xc5, 0xfa, 0x10, 0x84, 0x24, D32),
	LEN("vpshufd $0x1b,%xmm1,%xmm0", OTHER, 0xc5, 0xf9, 0x70, 0xc1, 0x1b),
	LEN("vpbroadcastd %xmm0,%ymm0 (VEX3 0F38)", OTHER, 0xc4, 0xe2, 0x7d, 0x58, 0xc0),
	LEN("vextracti128 $1,%ymm0,%xmm1 (VEX3 0F3A)", OTHER, 0xc4, 0xe3, 0x7d, 0x39, 0xc1, 0x01),
	LEN("vblendvps %xmm3,%xmm2,%xmm0,%xmm0 (is4)", OTHER, 0xc4, 0xe3, 0x79, 0x4a, 0xc2, 0x30),
	LEN("vmovdqu (%r12),%ymm8 (VEX3 0F)", OTHER, 0xc4, 0x41, 0x7e, 0x6f, 0x04, 0x24),
	LEN("vmovq %xmm0,%rax", OTHER, 0xc4, 0xe1, 0xf9, 0x7e, 0xc0),
	LEN("vmovss disp32(%r12),%xmm0", OTHER, 0xc4, 0xc1, 0x7a, 0x10, 0x84, 0x24, D32),
	LEN("vpcmpeqb disp(%rip),%ymm0,%ymm1", OTHER, 0xc5, 0xfd, 0x74, 0x0d, D32),
	LEN("shlx %eax,%ecx,%edx (VEX3 0F38)", OTHER, 0xc4, 0xe2, 0x79, 0xf7, 0xd1),
	LEN("rorx $3,%eax,%edx (VEX3 0F3A)", OTHER, 0xc4, 0xe3, 0x7b, 0xf0, 0xd0, 0x03),
	NOT("VEX3 map 0", 0xc4, 0xe0, 0x7d, 0x58, 0xc0),
	NOT("VEX3 map 7", 0xc4, 0xe7, 0x7d, 0x58, 0xc0),
	NOT("66 before VEX", 0x66, 0xc5, 0xf8, 0x77),
	NOT("REX before VEX", 0x48, 0xc5, 0xf8, 0x77),
	NOT("F3 before VEX3", 0xf3, 0xc4, 0xe2, 0x7d, 0x58, 0xc0),
	/* EVEX */
	LEN("vmovdqa64 (%rsp),%zmm0", OTHER, 0x62, 0xf1, 0xfd, 0x48, 0x6f, 0x04, 0x24),
	LEN("vmovups disp(%rip),%zmm0", OTHER, 0x62, 0xf1, 0x7c, 0x48, 0x10, 0x05, D32),
	LEN("vmovups disp32(%rsp),%zmm0", OTHER, 0x62, 0xf1, 0x7c, 0x48, 0x10, 0x84, 0x24, D32),
	LEN("vmovdqu64 disp8*64(%rax),%zmm1", OTHER, 0x62, 0xf1, 0xfe, 0x48, 0x6f, 0x48, 0x01),
	LEN("vextractf32x8 $1,%zmm0,%ymm1 (map 3)", OTHER, 0x62, 0xf3, 0x7d, 0x48, 0x1b, 0xc1, 0x01),
	LEN("vpsrad $5,%zmm0,%zmm0 (map 1, ib)", OTHER, 0x62, 0xf1, 0x7d, 0x48, 0x72, 0xe0, 0x05),
	LEN("vpbroadcastd %xmm0,%zmm0 (map 2)", OTHER, 0x62, 0xf2, 0x7d, 0x48, 0x58, 0xc0),
	LEN("vaddph %zmm1,%zmm0,%zmm0 (map 5)", OTHER, 0x62, 0xf5, 0x7c, 0x48, 0x58, 0xc1),
	LEN("vpternlogd $0xff,(%rsp),%zmm0,%zmm0", OTHER, 0x62, 0xf3, 0x7d, 0x48, 0x25, 0x04, 0x24,
	    0xff),
	NOT("EVEX map 4 (APX)", 0x62, 0xf4, 0x7c, 0x48, 0x58, 0xc1),
	NOT("66 before EVEX", 0x66, 0x62, 0xf1, 0x7d, 0x48, 0x72, 0xe0, 0x05),
	/* refused */
	NOT("3DNow! pfadd", 0x0f, 0x0f, 0xc1, 0x9e),
	NOT("XOP vpcmov", 0x8f, 0xe8, 0x78, 0xa2, 0xc1, 0x20),
	NOT("push %es", 0x06),
	NOT("pop %es", 0x07),
	NOT("push %cs", 0x0e),
	NOT("push %ss", 0x16),
	NOT("pop %ss", 0x17),
	NOT("push %ds", 0x1e),
	NOT("pop %ds", 0x1f),
	NOT("daa", 0x27),
	NOT("das", 0x2f),
	NOT("aaa", 0x37),
	NOT("aas", 0x3f),
	NOT("pusha", 0x60),
	NOT("popa", 0x61),
	NOT("82 /0 (add alias)", 0x82, 0xc0, 0x01),
	NOT("lcall ptr16:32", 0x9a, D32, 0x00, 0x00),
	NOT("into", 0xce),
	NOT("aam", 0xd4, 0x0a),
	NOT("aad", 0xd5, 0x0a),
	NOT("salc", 0xd6),
	NOT("ljmp ptr16:32", 0xea, D32, 0x00, 0x00),
	NOT("FE /2", 0xfe, 0xd0),
	NOT("FF /7", 0xff, 0xf8),
	NOT("C7 /1", 0xc7, 0xc8, D32),
	NOT("C6 /7 other than xabort", 0xc6, 0xf9, 0x01),
	NOT("0F 04", 0x0f, 0x04),
	NOT("0F 24 (mov %tr)", 0x0f, 0x24, 0xc0),
};

static const char *kind_name(enum x86_insn_kind k)
{
	static const char *const names[] = { "OTHER", "RET", "FAR_RET", "JUMP_DIRECT",
					     "JUMP_INDIRECT", "CALL_DIRECT", "CALL_INDIRECT" };

	return k < sizeof(names) / sizeof(*names) ? names[k] : "?";
}

/* in a heap block of exactly len bytes: ASan sees any read past it */
static int decode_exact(const uint8_t *b, size_t len, struct x86_insn *insn)
{
	uint8_t *copy = malloc(len ?: 1);
	int ret;

	cr_assert(copy);
	memcpy(copy, b, len);
	ret = x86_decode(copy, len, ADDR, insn);
	free(copy);
	return ret;
}

Test(x86_decode, encodings)
{
	struct x86_insn insn;
	uint8_t padded[32];
	size_t i;
	int ret;

	for (i = 0; i < sizeof(encs) / sizeof(*encs); i++) {
		const struct enc *e = &encs[i];

		ret = decode_exact(e->b, e->n, &insn);
		cr_expect_eq(ret, e->ret, "%s: %d, %d expected", e->what, ret, e->ret);
		if (ret > 0) {
			cr_expect_eq(insn.len, (unsigned int)ret, "%s: len", e->what);
			cr_expect_eq(insn.kind, e->kind, "%s: %s, %s expected", e->what,
				     kind_name(insn.kind), kind_name(e->kind));
		}
		/* what follows the instruction changes nothing */
		memset(padded, 0x90, sizeof(padded));
		memcpy(padded, e->b, e->n);
		ret = x86_decode(padded, sizeof(padded), ADDR, &insn);
		cr_expect_eq(ret, e->ret, "%s, followed by nops: %d, %d expected", e->what, ret, e->ret);
	}
}

/* every prefix of a valid instruction is an error, read within its bounds */
Test(x86_decode, truncated)
{
	struct x86_insn insn;
	size_t i, k;
	int ret;

	for (i = 0; i < sizeof(encs) / sizeof(*encs); i++) {
		const struct enc *e = &encs[i];

		if (e->ret < 0)
			continue;
		for (k = 0; k < e->n; k++) {
			ret = decode_exact(e->b, k, &insn);
			cr_expect_eq(ret, -ENODATA, "%s cut to %zu bytes: %d", e->what, k, ret);
		}
	}
	cr_expect_eq(x86_decode(NULL, 0, 0, &insn), -EINVAL);
	cr_expect_eq(x86_decode((const uint8_t *)"\x90", 1, 0, NULL), -EINVAL);
}

static void expect_target(const char *what, const uint8_t *b, size_t n, enum x86_insn_kind kind,
			  uint64_t target)
{
	struct x86_insn insn;

	cr_assert_eq(decode_exact(b, n, &insn), (int)n, "%s", what);
	cr_expect_eq(insn.kind, kind, "%s: %s", what, kind_name(insn.kind));
	cr_expect_eq(insn.target, target, "%s: target %#llx, %#llx expected", what,
		     (unsigned long long)insn.target, (unsigned long long)target);
}

Test(x86_decode, targets)
{
	expect_target("jmp .", (const uint8_t[]){ 0xeb, 0xfe }, 2, X86_INSN_JUMP_DIRECT, ADDR);
	expect_target("jmp rel32 back to itself", (const uint8_t[]){ 0xe9, 0xfb, 0xff, 0xff, 0xff },
		      5, X86_INSN_JUMP_DIRECT, ADDR);
	expect_target("je +0x10", (const uint8_t[]){ 0x74, 0x10 }, 2, X86_INSN_JUMP_DIRECT,
		      ADDR + 2 + 0x10);
	expect_target("jg -128", (const uint8_t[]){ 0x7f, 0x80 }, 2, X86_INSN_JUMP_DIRECT,
		      ADDR + 2 - 128);
	expect_target("je rel32", (const uint8_t[]){ 0x0f, 0x84, 0x00, 0x01, 0x00, 0x00 }, 6,
		      X86_INSN_JUMP_DIRECT, ADDR + 6 + 0x100);
	expect_target("bnd jmp rel32", (const uint8_t[]){ 0xf2, 0xe9, 0x00, 0x00, 0x00, 0x80 }, 6,
		      X86_INSN_JUMP_DIRECT, ADDR + 6 - 0x80000000ull);
	expect_target("call next", (const uint8_t[]){ 0xe8, 0x00, 0x00, 0x00, 0x00 }, 5,
		      X86_INSN_CALL_DIRECT, ADDR + 5);
	expect_target("TLS GD call", (const uint8_t[]){ 0x66, 0x66, 0x48, 0xe8, 0x10, 0x00, 0x00, 0x00 },
		      8, X86_INSN_CALL_DIRECT, ADDR + 8 + 0x10);
	expect_target("loop .", (const uint8_t[]){ 0xe2, 0xfe }, 2, X86_INSN_JUMP_DIRECT, ADDR);
	expect_target("jecxz +5", (const uint8_t[]){ 0x67, 0xe3, 0x05 }, 3, X86_INSN_JUMP_DIRECT,
		      ADDR + 3 + 5);
	expect_target("xbegin +0x20", (const uint8_t[]){ 0xc7, 0xf8, 0x20, 0x00, 0x00, 0x00 }, 6,
		      X86_INSN_JUMP_DIRECT, ADDR + 6 + 0x20);
}

/* ---- against objdump ----------------------------------------------------- */

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#define LIBSTDCXX "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"
#define JEMALLOC "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
#define LIBM "/lib/x86_64-linux-gnu/libm.so.6"
#define LDSO "/lib64/ld-linux-x86-64.so.2"
#define MAX_SHOWN 10

struct text {
	uint8_t *bytes;
	uint64_t lo, hi; /* link-time addresses */
};

static void read_text(const char *path, struct text *t)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;
	Elf *elf;
	int fd;

	cr_assert_eq(elf_syms__open(path, &fd, &elf), 0, "%s: cannot open", path);
	cr_assert_eq(elf_getshdrstrndx(elf, &shstrndx), 0);
	memset(t, 0, sizeof(*t));
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		cr_assert(gelf_getshdr(scn, &sh));
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".text"))
			continue;
		t->bytes = malloc(sh.sh_size);
		cr_assert(t->bytes);
		cr_assert_eq(pread(fd, t->bytes, sh.sh_size, (off_t)sh.sh_offset), (ssize_t)sh.sh_size);
		t->lo = sh.sh_addr;
		t->hi = sh.sh_addr + sh.sh_size;
	}
	elf_end(elf);
	close(fd);
	cr_assert(t->bytes, "%s has no .text", path);
}

struct walk {
	uint64_t pos;	    /* where our decoder says the next instruction is */
	bool on;	    /* comparing: objdump and we are in step */
	bool pending;	    /* the last instruction's end is not checked yet */
	size_t compared;    /* instructions whose both ends agree */
	size_t mismatches;
	size_t bad;	    /* blocks cut short at objdump's (bad) */
	size_t kinds[X86_INSN_CALL_INDIRECT + 1];
};

/* objdump's words for prefixes, which it prints before the mnemonic */
static bool is_prefix_word(const char *w, size_t n)
{
	static const char *const words[] = { "cs", "ds", "es", "fs", "gs", "ss", "data16", "addr32",
					     "lock", "rep", "repz", "repnz", "repe", "repne",
					     "notrack", "bnd" };
	size_t i;

	if (n >= 3 && !strncmp(w, "rex", 3))
		return true;
	for (i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (strlen(words[i]) == n && !strncmp(w, words[i], n))
			return true;
	return false;
}

static bool word_is(const char *w, size_t n, const char *s)
{
	return strlen(s) == n && !strncmp(w, s, n);
}

/* The kind of objdump's instruction text, and a direct branch's target. */
static enum x86_insn_kind objdump_kind(const char *text, uint64_t *target)
{
	const char *w = text, *op;
	size_t n;

	for (;;) {
		w += strspn(w, " ");
		n = strcspn(w, " \n");
		if (!is_prefix_word(w, n))
			break;
		w += n;
	}
	op = w + n + strspn(w + n, " ");
	*target = strtoull(op, NULL, 16);
	if (word_is(w, n, "ret") || word_is(w, n, "retq"))
		return X86_INSN_RET;
	if (word_is(w, n, "lret") || word_is(w, n, "lretq") || word_is(w, n, "iret") ||
	    word_is(w, n, "iretq") || word_is(w, n, "iretl"))
		return X86_INSN_FAR_RET;
	if (word_is(w, n, "call") || word_is(w, n, "callq"))
		return *op == '*' ? X86_INSN_CALL_INDIRECT : X86_INSN_CALL_DIRECT;
	if (word_is(w, n, "lcall"))
		return X86_INSN_CALL_INDIRECT;
	if (word_is(w, n, "ljmp"))
		return X86_INSN_JUMP_INDIRECT;
	if ((w[0] == 'j' && n > 1) || !strncmp(w, "loop", 4) || word_is(w, n, "xbegin"))
		return *op == '*' ? X86_INSN_JUMP_INDIRECT : X86_INSN_JUMP_DIRECT;
	return X86_INSN_OTHER;
}

static void mismatch(struct walk *w, const char *path, uint64_t addr, const char *what,
		     const char *line)
{
	if (w->mismatches++ < MAX_SHOWN)
		fprintf(stderr, "x86_decode: %s: at %#llx %s; objdump: %s", path,
			(unsigned long long)addr, what, line);
	w->on = w->pending = false;
}

/* objdump prints the next instruction at addr: the last one ends there */
static void reach(struct walk *w, uint64_t addr, const char *path, const char *line)
{
	if (!w->on)
		return;
	if (addr != w->pos) {
		mismatch(w, path, addr, "is no boundary of ours", line);
		return;
	}
	if (w->pending)
		w->compared++;
	w->pending = false;
}

/* objdump's boundaries in .text from each symbol on, one by one against
 * ours: the walk restarts at each symbol as objdump's does, and stops at
 * objdump's (bad) or its "..." (zeros skipped) until the next symbol */
static void crosscheck(const char *path, struct walk *w)
{
	char cmd[512], what[64], *line = NULL, *end;
	enum x86_insn_kind kind;
	struct x86_insn insn;
	uint64_t target;
	struct text t;
	size_t cap = 0;
	uint64_t addr;
	FILE *f;
	int ret;

	read_text(path, &t);
	snprintf(cmd, sizeof(cmd), "objdump -d --no-show-raw-insn -M att -j .text '%s'", path);
	f = popen(cmd, "r");
	cr_assert(f, "cannot run objdump");
	while (getline(&line, &cap, f) > 0) {
		if (line[0] != ' ') {
			/* "0000000000026380 <abort@@GLIBC_2.2.5>:": a symbol */
			addr = strtoull(line, &end, 16);
			if (end == line || strncmp(end, " <", 2))
				continue;
			if (w->on && w->pending && addr == w->pos)
				w->compared++; /* the last instruction ends at the symbol */
			w->on = addr >= t.lo && addr < t.hi;
			w->pending = false;
			w->pos = addr;
			continue;
		}
		addr = strtoull(line, &end, 16);
		if (end == line || end[0] != ':' || end[1] != '\t') {
			if (strstr(line, "\t...") || !strcmp(line, "\t...\n"))
				w->on = false;
			continue;
		}
		reach(w, addr, path, line);
		if (!w->on)
			continue;
		if (!strncmp(end + 2, "(bad)", 5)) {
			w->bad++;
			w->on = false;
			continue;
		}
		ret = x86_decode(t.bytes + (addr - t.lo), (size_t)(t.hi - addr), addr, &insn);
		/* objdump prints fwait and the x87 instruction after it as one
		 * (fstcw is 9B with fnstcw); the CPU runs, and single-steps,
		 * them as two, as we decode them */
		if (ret == 1 && t.bytes[addr - t.lo] == 0x9b && strncmp(end + 2, "fwait", 5) &&
		    addr + 1 < t.hi) {
			ret = x86_decode(t.bytes + (addr + 1 - t.lo), (size_t)(t.hi - addr - 1),
					 addr + 1, &insn);
			ret = ret < 0 ? ret : ret + 1;
		}
		if (ret < 0) {
			mismatch(w, path, addr, ret == -ENODATA ? "runs past .text" : "refused", line);
			continue;
		}
		kind = objdump_kind(end + 2, &target);
		if (kind != insn.kind ||
		    ((kind == X86_INSN_JUMP_DIRECT || kind == X86_INSN_CALL_DIRECT) &&
		     target != insn.target)) {
			snprintf(what, sizeof(what), "is %s to %#llx", kind_name(insn.kind),
				 (unsigned long long)insn.target);
			mismatch(w, path, addr, what, line);
			continue;
		}
		w->kinds[kind]++;
		w->pos = addr + (uint64_t)ret;
		w->pending = true;
	}
	if (w->on && w->pending && w->pos == t.hi)
		w->compared++;
	cr_assert_eq(pclose(f), 0, "%s failed", cmd);
	free(line);
	free(t.bytes);
}

static bool have_objdump(void)
{
	return !system("objdump --version > /dev/null 2>&1");
}

Test(x86_decode, objdump_agrees)
{
	static const struct {
		const char *path;
		bool required;
	} libs[] = {
		{ LIBC, true }, { LIBSTDCXX, true }, { JEMALLOC, false },
		/* more VEX and EVEX code: libm's FMA paths, ld.so's AVX-512 saves */
		{ LIBM, false }, { LDSO, false },
	};
	size_t i, total = 0;

	if (!have_objdump()) {
		const char *ci = getenv("CI");

		cr_assert(!ci || strcmp(ci, "true"), "no objdump (binutils), and CI=true");
		cr_skip_test("no objdump: install binutils");
	}
	for (i = 0; i < sizeof(libs) / sizeof(*libs); i++) {
		struct walk w = { 0 };
		const size_t *k = w.kinds;

		if (access(libs[i].path, R_OK)) {
			cr_expect(!libs[i].required, "%s is missing", libs[i].path);
			continue;
		}
		crosscheck(libs[i].path, &w);
		fprintf(stderr,
			"x86_decode: %s: %zu instructions compared with objdump (ret %zu, far ret %zu, "
			"jump %zu, indirect jump %zu, call %zu, indirect call %zu), %zu mismatches, "
			"%zu blocks cut at (bad)\n",
			libs[i].path, w.compared, k[X86_INSN_RET], k[X86_INSN_FAR_RET],
			k[X86_INSN_JUMP_DIRECT], k[X86_INSN_JUMP_INDIRECT], k[X86_INSN_CALL_DIRECT],
			k[X86_INSN_CALL_INDIRECT], w.mismatches, w.bad);
		cr_expect_eq(w.mismatches, 0, "%s: %zu instructions differ from objdump's",
			     libs[i].path, w.mismatches);
		cr_expect_gt(w.compared, 1000, "%s: too few instructions compared", libs[i].path);
		total += w.compared;
	}
	fprintf(stderr, "x86_decode: %zu instructions compared with objdump in all\n", total);
}
