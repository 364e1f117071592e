// SPDX-License-Identifier: Apache-2.0
#include <criterion/criterion.h>
#include <fcntl.h>
#include <gelf.h>
#include <gnu/libc-version.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "placement.h"

#define KEEP (PLACEMENT_RDI | PLACEMENT_RSP)
#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ })

static struct placement choose(const uint8_t *code, size_t len, uint32_t keep)
{
	struct placement pl;

	/* garbage first: placement__choose() must fill every field */
	memset(&pl, 0xa5, sizeof(pl));
	placement__choose(code, len, keep, &pl);
	cr_assert(memchr(pl.why, '\0', sizeof(pl.why)), "why is not terminated");
	cr_assert(pl.why[0] == '+', "why \"%s\" does not start with \"+\"", pl.why);
	return pl;
}

static void check(const uint8_t *code, size_t len, uint32_t keep, uint32_t offset,
		  int emulated, const char *needle, int line)
{
	struct placement pl = choose(code, len, keep);

	cr_assert_eq(pl.offset, offset, "line %d: offset %u, want %u (%s)", line, pl.offset,
		     offset, pl.why);
	cr_assert_eq(pl.emulated, emulated, "line %d: emulated %d, want %d (%s)", line,
		     pl.emulated, emulated, pl.why);
	if (needle)
		cr_assert(strstr(pl.why, needle), "line %d: why \"%s\" lacks \"%s\"", line,
			  pl.why, needle);
}

#define CHECK(code, keep, offset, emulated, needle) \
	check(code, sizeof(code), keep, offset, emulated, needle, __LINE__)

/* Debian 12, glibc 2.36: __libc_free, __libc_malloc, __libc_realloc, __libc_calloc */
static const uint8_t glibc236_free[] = {
	0x48, 0x85, 0xff,                         /* test %rdi,%rdi */
	0x0f, 0x84, 0xbf, 0x00, 0x00, 0x00,       /* je +0xc8 */
	0x55,                                     /* push %rbp */
	0x48, 0x8d, 0x77, 0xf0,                   /* lea -0x10(%rdi),%rsi */
	0x53,                                     /* push %rbx */
	0x48, 0x83, 0xec, 0x18,                   /* sub $0x18,%rsp */
	0x48, 0x8b, 0x1d, 0xd6, 0x9e, 0x13, 0x00, /* mov 0x139ed6(%rip),%rbx */
	0x48, 0x8b, 0x47, 0xf8,                   /* mov -0x8(%rdi),%rax */
	0x64, 0x8b, 0x2b,                         /* mov %fs:(%rbx),%ebp */
	0xa8, 0x02,                               /* test $0x2,%al */
	0x75, 0x5b,                               /* jne */
};

static const uint8_t glibc236_malloc[] = {
	0x41, 0x54,                               /* push %r12 */
	0x55,                                     /* push %rbp */
	0x53,                                     /* push %rbx */
	0x48, 0x89, 0xfb,                         /* mov %rdi,%rbx */
	0x48, 0x83, 0xec, 0x10,                   /* sub $0x10,%rsp */
	0x80, 0x3d, 0x46, 0x1b, 0x14, 0x00, 0x00, /* cmpb $0x0,0x141b46(%rip) */
	0x0f, 0x84, 0xf8, 0x01, 0x00, 0x00,       /* je */
	0x48, 0x85, 0xdb,                         /* test %rbx,%rbx */
	0x0f, 0x88, 0xfd, 0x01, 0x00, 0x00,       /* js */
};

static const uint8_t glibc236_realloc[] = {
	0x41, 0x57,       /* push %r15 */
	0x41, 0x56,       /* push %r14 */
	0x41, 0x55,       /* push %r13 */
	0x41, 0x54,       /* push %r12 */
	0x55,             /* push %rbp */
	0x48, 0x89, 0xf5, /* mov %rsi,%rbp */
};

static const uint8_t glibc236_calloc[] = {
	0x41, 0x55,       /* push %r13 */
	0x48, 0x89, 0xf8, /* mov %rdi,%rax */
	0x41, 0x54,       /* push %r12 */
};

Test(placement, glibc236_free_moves_to_je)
{
	struct placement pl = choose(glibc236_free, sizeof(glibc236_free), KEEP);

	cr_assert_eq(pl.offset, 3, "%s", pl.why);
	cr_assert_eq(pl.emulated, 1, "%s", pl.why);
	cr_assert_str_eq(pl.why, "+3: je (emulated); skipped test");
	/* a probe that reads nothing may move just as far */
	CHECK(glibc236_free, 0, 3, 1, "je");
	/* the probe reads rsp and rdi, not the flags test sets */
	CHECK(glibc236_free, ~0u & ~PLACEMENT_REG(7) & ~PLACEMENT_REG(4), 3, 1, "je");
}

Test(placement, glibc236_allocators_start_with_push)
{
	CHECK(glibc236_malloc, KEEP, 0, 1, "+0: push (emulated)");
	CHECK(glibc236_realloc, KEEP | PLACEMENT_REG(6), 0, 1, "push");
	CHECK(glibc236_calloc, KEEP | PLACEMENT_REG(6), 0, 1, "push");
}

Test(placement, cet_prologues)
{
	/* endbr64; push %rbp; mov %rsp,%rbp */
	CHECK(BYTES(0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5), KEEP, 4, 1,
	      "+4: push (emulated); skipped endbr64");
	/* endbr64; test %rdi,%rdi; je */
	CHECK(BYTES(0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x85, 0xff, 0x74, 0x10), KEEP, 7, 1,
	      "+7: je (emulated); skipped endbr64, test");
	/* endbr64; test %rdi,%rdi; je rel32 */
	CHECK(BYTES(0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x85, 0xff, 0x0f, 0x84, 0xc7, 0, 0, 0),
	      KEEP, 7, 1, "je");
	/* f3 0f 1e /1 is rdssp, which writes a register: not endbr64 */
	CHECK(BYTES(0xf3, 0x48, 0x0f, 0x1e, 0xcf, 0x74, 0x00), KEEP, 0, 0, "not understood");
	CHECK(BYTES(0xf3, 0x0f, 0x1e, 0xcf, 0x74, 0x00), KEEP, 0, 0, "not understood");
}

Test(placement, register_writes)
{
	/* mov %rdi,%rax reads rdi only */
	CHECK(BYTES(0x48, 0x89, 0xf8, 0x74, 0x05), KEEP, 3, 1, "skipped mov");
	/* xor %edi,%edi: a 32-bit write still clobbers rdi */
	CHECK(BYTES(0x31, 0xff, 0xeb, 0x05), PLACEMENT_RDI, 0, 0,
	      "+0: single-stepped; xor at +0 writes rdi");
	/* xor %eax,%eax does not */
	CHECK(BYTES(0x31, 0xc0, 0xeb, 0x05), PLACEMENT_RDI, 2, 1, "jmp");
	/* sub $0x18,%rsp */
	CHECK(BYTES(0x48, 0x83, 0xec, 0x18, 0x74, 0x02), KEEP, 0, 0, "sub at +0 writes rsp");
	CHECK(BYTES(0x48, 0x83, 0xec, 0x18, 0x74, 0x02), PLACEMENT_RDI, 4, 1, "je");
	/* sub $0x100,%rsp: imm32 form */
	CHECK(BYTES(0x48, 0x81, 0xec, 0x00, 0x01, 0x00, 0x00, 0x74, 0x02), PLACEMENT_RDI, 7,
	      1, "je");
	/* lea -0x10(%rdi),%rsi writes rsi only */
	CHECK(BYTES(0x48, 0x8d, 0x77, 0xf0, 0x74, 0x02), KEEP, 4, 1, "skipped lea");
	CHECK(BYTES(0x48, 0x8d, 0x77, 0xf0, 0x74, 0x02), KEEP | PLACEMENT_REG(6), 0, 0,
	      "lea at +0 writes rsi");
	/* lea -0x10(%rsi),%rdi */
	CHECK(BYTES(0x48, 0x8d, 0x7e, 0xf0, 0x74, 0x02), KEEP, 0, 0, "writes rdi");
	/* mov $1,%edi (c7 /0) and mov $1,%edi (bf imm32) */
	CHECK(BYTES(0xc7, 0xc7, 0x01, 0, 0, 0, 0x74, 0x00), KEEP, 0, 0, "mov at +0 writes rdi");
	CHECK(BYTES(0xbf, 0x01, 0, 0, 0, 0x74, 0x00), KEEP, 0, 0, "mov at +0 writes rdi");
	/* cmp and test write no register */
	CHECK(BYTES(0x48, 0x39, 0xfe, 0x48, 0x83, 0xff, 0x00, 0x48, 0x85, 0xff, 0xa8, 0x02,
		    0x74, 0x00),
	      KEEP, 12, 1, "skipped cmp, cmp, test, test");
	/* movzx/movsx/movsxd write their destination */
	CHECK(BYTES(0x0f, 0xb6, 0xc7, 0x48, 0x0f, 0xbf, 0xc7, 0x48, 0x63, 0xc7, 0x74, 0x00),
	      KEEP, 10, 1, "skipped movzx, movsx, movsxd");
	CHECK(BYTES(0x0f, 0xb6, 0xff, 0x74, 0x00), KEEP, 0, 0, "movzx at +0 writes rdi");
	/* add %rdi,%rax writes rax; add %rax,%rdi writes rdi */
	CHECK(BYTES(0x48, 0x01, 0xf8, 0x74, 0x00), KEEP, 3, 1, "skipped add");
	CHECK(BYTES(0x48, 0x01, 0xc7, 0x74, 0x00), KEEP, 0, 0, "add at +0 writes rdi");
	CHECK(BYTES(0x48, 0x03, 0xf8, 0x74, 0x00), KEEP, 0, 0, "add at +0 writes rdi");
}

Test(placement, rex_extends_registers)
{
	/* mov %rax,%r15: REX.B makes rm r15 */
	CHECK(BYTES(0x49, 0x89, 0xc7, 0x74, 0x00), KEEP, 3, 1, "je");
	CHECK(BYTES(0x49, 0x89, 0xc7, 0x74, 0x00), KEEP | PLACEMENT_REG(15), 0, 0,
	      "writes r15");
	/* mov %rdi,%r15 (REX.B) writes r15; mov %r15,%rdi (REX.R) writes rdi */
	CHECK(BYTES(0x49, 0x89, 0xff, 0x74, 0x00), KEEP, 3, 1, "je");
	CHECK(BYTES(0x4c, 0x89, 0xff, 0x74, 0x00), KEEP, 0, 0, "writes rdi");
	/* mov (%rdi),%r15 (REX.R on the reg field) */
	CHECK(BYTES(0x4c, 0x8b, 0x3f, 0x74, 0x00), KEEP, 3, 1, "je");
	CHECK(BYTES(0x4c, 0x8b, 0x3f, 0x74, 0x00), KEEP | PLACEMENT_REG(15), 0, 0,
	      "writes r15");
	/* mov $1,%r15d (41 bf) vs mov $1,%edi (bf) */
	CHECK(BYTES(0x41, 0xbf, 0x01, 0, 0, 0, 0x74, 0x00), KEEP, 6, 1, "je");
	/* movabs $imm64,%rdi */
	CHECK(BYTES(0x48, 0xbf, 1, 2, 3, 4, 5, 6, 7, 8, 0x74, 0x00), KEEP, 0, 0, "writes rdi");
	CHECK(BYTES(0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 0x74, 0x00), KEEP, 10, 1, "je");
}

Test(placement, byte_registers)
{
	/* without REX, byte register 7 is bh; with any REX it is dil */
	CHECK(BYTES(0xb7, 0x01, 0x74, 0x00), KEEP, 2, 1, "je");
	CHECK(BYTES(0x40, 0xb7, 0x01, 0x74, 0x00), KEEP, 0, 0, "writes rdi");
	CHECK(BYTES(0x88, 0xc7, 0x74, 0x00), KEEP, 2, 1, "je");
	CHECK(BYTES(0x88, 0xc7, 0x74, 0x00), KEEP | PLACEMENT_REG(3), 0, 0, "writes rbx");
	CHECK(BYTES(0x40, 0x88, 0xc7, 0x74, 0x00), KEEP, 0, 0, "writes rdi");
	/* mov %bh,%al writes rax only */
	CHECK(BYTES(0x88, 0xf8, 0x74, 0x00), KEEP, 2, 1, "je");
}

Test(placement, operand_sizes_and_addressing)
{
	/* add $0x1234,%ax: 66 shrinks the immediate to 2 bytes */
	CHECK(BYTES(0x66, 0x81, 0xc0, 0x34, 0x12, 0x74, 0x00), KEEP, 5, 1, "je");
	/* sub $0x10,%di writes rdi too */
	CHECK(BYTES(0x66, 0x81, 0xef, 0x10, 0x00, 0x74, 0x00), KEEP, 0, 0, "writes rdi");
	/* mov $0x1234,%ax */
	CHECK(BYTES(0x66, 0xb8, 0x34, 0x12, 0x74, 0x00), KEEP, 4, 1, "je");
	/* movw $1,(%rax): c7 with 66 takes imm16 */
	CHECK(BYTES(0x66, 0xc7, 0x00, 0x01, 0x00, 0x74, 0x00), KEEP, 5, 1, "je");
	/* mov 0x0(%rip),%rax: rip-relative disp32 */
	CHECK(BYTES(0x48, 0x8b, 0x05, 0, 0, 0, 0, 0x74, 0x00), KEEP, 7, 1, "je");
	/* cmpb $0x0,0x141b46(%rip): disp32 then imm8 */
	CHECK(BYTES(0x80, 0x3d, 0x46, 0x1b, 0x14, 0x00, 0x00, 0x74, 0x00), KEEP, 7, 1, "je");
	/* mov %fs:0x28,%rax: fs prefix, SIB without base, disp32 */
	CHECK(BYTES(0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0, 0x74, 0x00), KEEP, 9, 1,
	      "je");
	/* mov 0x8(%rsp),%rax: SIB with base rsp, disp8; a load leaves [rsp] alone */
	CHECK(BYTES(0x48, 0x8b, 0x44, 0x24, 0x08, 0x74, 0x00), KEEP, 5, 1, "je");
	/* mov 0x100(%rbx,%rcx,8),%rax: SIB with index, disp32 */
	CHECK(BYTES(0x48, 0x8b, 0x84, 0xcb, 0x00, 0x01, 0, 0, 0x74, 0x00), KEEP, 8, 1, "je");
	/* fs on a register operand means nothing: not understood */
	CHECK(BYTES(0x64, 0x48, 0x89, 0xc0, 0x74, 0x00), KEEP, 0, 0, "not understood");
	/* lea with a register operand is invalid */
	CHECK(BYTES(0x48, 0x8d, 0xc0, 0x74, 0x00), KEEP, 0, 0, "not understood");
}

Test(placement, stores)
{
	/* mov %rdi,(%rax) writes memory, no register */
	CHECK(BYTES(0x48, 0x89, 0x38, 0x74, 0x00), KEEP, 3, 1, "je");
	/* mov %rdi,(%rsp) would overwrite the return address the probe reads */
	CHECK(BYTES(0x48, 0x89, 0x3c, 0x24, 0x74, 0x00), KEEP, 0, 0, "stores to the stack");
	CHECK(BYTES(0x48, 0x89, 0x3c, 0x24, 0x74, 0x00), PLACEMENT_RDI, 4, 1, "je");
	/* mov %rsp,(%rax) only reads rsp */
	CHECK(BYTES(0x48, 0x89, 0x20, 0x74, 0x00), KEEP, 3, 1, "je");
	/* mov %rdi,(%r12): REX.B turns base 4 into r12 */
	CHECK(BYTES(0x49, 0x89, 0x3c, 0x24, 0x74, 0x00), KEEP, 4, 1, "je");
	/* movq $0,0x8(%rsp) */
	CHECK(BYTES(0x48, 0xc7, 0x44, 0x24, 0x08, 0, 0, 0, 0, 0x74, 0x00), KEEP, 0, 0,
	      "stores to the stack");
}

Test(placement, push_encodings)
{
	/* push %r12 at the start is emulated */
	CHECK(BYTES(0x41, 0x54, 0x55), KEEP, 0, 1, "+0: push (emulated)");
	/* push %rbp with an empty REX is not one of the kernel's encodings */
	CHECK(BYTES(0x40, 0x55, 0x74, 0x00), KEEP, 0, 0, "push at +0 writes rsp");
	CHECK(BYTES(0x40, 0x55, 0x74, 0x00), PLACEMENT_RDI, 2, 1, "je");
	/* nor is push %r12 with REX.W, nor push %ax */
	CHECK(BYTES(0x49, 0x54, 0x74, 0x00), KEEP, 0, 0, "writes rsp");
	CHECK(BYTES(0x66, 0x50, 0x74, 0x00), KEEP, 0, 0, "writes rsp");
}

Test(placement, branches)
{
	/* a jcc at the start is emulated, rel8 or rel32 */
	CHECK(BYTES(0x74, 0x05), KEEP, 0, 1, "+0: je (emulated)");
	CHECK(BYTES(0x0f, 0x85, 0x10, 0, 0, 0), KEEP, 0, 1, "+0: jne (emulated)");
	CHECK(BYTES(0xe8, 0, 0, 0, 0), KEEP, 0, 1, "+0: call (emulated)");
	CHECK(BYTES(0xe9, 0, 0, 0, 0), KEEP, 0, 1, "+0: jmp (emulated)");
	CHECK(BYTES(0xeb, 0x00), KEEP, 0, 1, "+0: jmp (emulated)");
	/* bnd jmp: f2 is no bad prefix to the kernel */
	CHECK(BYTES(0xf2, 0xe9, 0, 0, 0, 0), KEEP, 0, 1, "jmp");
	/* the kernel refuses 66 on branches; a ds hint makes the probe fail */
	CHECK(BYTES(0x66, 0xe8, 0, 0, 0, 0), KEEP, 0, 0, "opcode 0xe8 at +0 not understood");
	CHECK(BYTES(0x3e, 0x74, 0x00), KEEP, 0, 0, "not understood");
	/* test; ret; je: never skip past a ret */
	CHECK(BYTES(0x48, 0x85, 0xff, 0xc3, 0x74, 0x00), KEEP, 0, 0,
	      "ret at +3 does not fall through");
	CHECK(BYTES(0xc3), KEEP, 0, 0, "ret at +0");
	CHECK(BYTES(0xf3, 0xc3), KEEP, 0, 0, "ret at +0");
	CHECK(BYTES(0xcc, 0x74, 0x00), KEEP, 0, 0, "int3 at +0");
	CHECK(BYTES(0x0f, 0x0b, 0x74, 0x00), KEEP, 0, 0, "ud2 at +0");
	CHECK(BYTES(0x0f, 0x05, 0x74, 0x00), KEEP, 0, 0, "syscall at +0");
	/* jmp *%rax, call *%rax, call *0x0(%rip) */
	CHECK(BYTES(0xff, 0xe0, 0x74, 0x00), KEEP, 0, 0, "jmp at +0 does not fall through");
	CHECK(BYTES(0xff, 0xd0, 0x74, 0x00), KEEP, 0, 0, "call at +0 does not fall through");
	CHECK(BYTES(0xff, 0x15, 0, 0, 0, 0), KEEP, 0, 0, "call at +0 does not fall through");
	/* loop and jrcxz are branches the kernel single-steps */
	CHECK(BYTES(0xe2, 0x00, 0x74, 0x00), KEEP, 0, 0, "opcode 0xe2 at +0 not understood");
	CHECK(BYTES(0xe3, 0x00, 0x74, 0x00), KEEP, 0, 0, "not understood");
}

Test(placement, nops)
{
	/* the kernel's x86_nops[] patterns are emulated */
	CHECK(BYTES(0x90), KEEP, 0, 1, "+0: nop (emulated)");
	CHECK(BYTES(0x66, 0x90), KEEP, 0, 1, "nop");
	CHECK(BYTES(0x0f, 0x1f, 0x00), KEEP, 0, 1, "nop");
	CHECK(BYTES(0x0f, 0x1f, 0x44, 0x00, 0x00), KEEP, 0, 1, "nop");
	CHECK(BYTES(0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00), KEEP, 0, 1, "nop");
	CHECK(BYTES(0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0), KEEP, 0, 1, "nop");
	/* nopw 0x0(%rax,%rax,1) without cs is no x86_nops[] entry: skipped */
	CHECK(BYTES(0x66, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0, 0x55), KEEP, 9, 1,
	      "+9: push (emulated); skipped nop");
	/* a cs prefix makes the kernel refuse the probe */
	CHECK(BYTES(0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0, 0x55), KEEP, 0, 0,
	      "not understood");
	/* pause (f3 90) and xchg %eax,%r8d (41 90) are no nops to rely on */
	CHECK(BYTES(0xf3, 0x90, 0x55), KEEP, 0, 0, "not understood");
	CHECK(BYTES(0x41, 0x90, 0x55), KEEP, 0, 0, "not understood");
}

Test(placement, unknown_instructions)
{
	/* cpuid writes eax..edx */
	CHECK(BYTES(0x0f, 0xa2, 0x74, 0x00), KEEP, 0, 0,
	      "+0: single-stepped; opcode 0x0f 0xa2 at +0 not understood");
	/* xchg, cmpxchg, lock */
	CHECK(BYTES(0x48, 0x87, 0xfe, 0x74, 0x00), KEEP, 0, 0, "not understood");
	CHECK(BYTES(0x48, 0x0f, 0xb1, 0x3e, 0x74, 0x00), KEEP, 0, 0, "not understood");
	CHECK(BYTES(0xf0, 0x48, 0x01, 0x38, 0x74, 0x00), KEEP, 0, 0, "not understood");
	/* popcnt: f3 turns 0f b8 into another instruction */
	CHECK(BYTES(0xf3, 0x48, 0x0f, 0xb8, 0xc7, 0x74, 0x00), KEEP, 0, 0, "not understood");
	/* xbegin is c7 /7, not mov */
	CHECK(BYTES(0xc7, 0xf8, 0, 0, 0, 0, 0x74, 0x00), KEEP, 0, 0, "not understood");
	/* string ops write rdi/rsi/rcx */
	CHECK(BYTES(0xf3, 0xa4, 0x74, 0x00), KEEP, 0, 0, "not understood");
	/* after a skipped instruction the message names the offset */
	CHECK(BYTES(0x48, 0x85, 0xff, 0x0f, 0xa2), KEEP, 0, 0, "0x0f 0xa2 at +3");
}

#define ENDS "the code given ends inside the instruction at "

Test(placement, short_code)
{
	struct placement pl;

	/* two bytes of the three of test %rdi,%rdi */
	check(BYTES(0x48, 0x85, 0xff), 2, KEEP, 0, 0, ENDS "+0", __LINE__);
	/* a je cut short after a skipped test */
	check(glibc236_free, 5, KEEP, 0, 0, ENDS "+3", __LINE__);
	/* a lone REX or 0f escape */
	check(BYTES(0x48), 1, KEEP, 0, 0, ENDS, __LINE__);
	check(BYTES(0x0f), 1, KEEP, 0, 0, ENDS, __LINE__);
	/* SIB and displacement cut short */
	check(BYTES(0x48, 0x8b, 0x44, 0x24, 0x08), 4, KEEP, 0, 0, ENDS, __LINE__);
	check(BYTES(0x48, 0x8b, 0x05, 0, 0, 0, 0), 6, KEEP, 0, 0, ENDS, __LINE__);
	/* nothing at all */
	pl = choose(glibc236_free, 0, KEEP);
	cr_assert_eq(pl.offset, 0);
	cr_assert_eq(pl.emulated, 0);
	cr_assert_str_eq(pl.why, "+0: no code to look at");
	pl = choose(NULL, 0, KEEP);
	cr_assert_eq(pl.offset, 0);
	cr_assert_eq(pl.emulated, 0);
}

Test(placement, caps)
{
#define MOV_RAX 0x48, 0x89, 0xc0		/* mov %rax,%rax */
#define LOAD_RAX 0x48, 0x8b, 0x05, 0, 0, 0, 0	/* mov 0x0(%rip),%rax */
	/* seventeen mov %rax,%rax then je: more than 16 instructions */
	CHECK(BYTES(MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX,
		    MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX,
		    MOV_RAX, 0x74, 0x00),
	      KEEP, 0, 0, "no emulated instruction in the first 16 instructions");
	/* fifteen of them then je: the 16th instruction is still looked at */
	CHECK(BYTES(MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX,
		    MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX, MOV_RAX, 0x74, 0x00),
	      KEEP, 45, 1, "je");
	/* five 7-byte loads then je at +35: within the 64-byte window */
	CHECK(BYTES(LOAD_RAX, LOAD_RAX, LOAD_RAX, LOAD_RAX, LOAD_RAX, 0x74, 0x00), KEEP, 35, 1,
	      "je");
	/* ten of them then je at +70: past it */
	CHECK(BYTES(LOAD_RAX, LOAD_RAX, LOAD_RAX, LOAD_RAX, LOAD_RAX, LOAD_RAX, LOAD_RAX,
		    LOAD_RAX, LOAD_RAX, LOAD_RAX, 0x74, 0x00),
	      KEEP, 0, 0, "(70 bytes)");
	/* code that just ends without an emulated instruction */
	CHECK(BYTES(0x48, 0x85, 0xff), KEEP, 0, 0, "no emulated instruction");
}

/* Debian 12, jemalloc 5.3.0 (libjemalloc2): malloc, free, operator new,
 * sized operator delete */
static const uint8_t jemalloc53_malloc[] = {
	0x48, 0x81, 0xff, 0x00, 0x10, 0x00, 0x00, /* cmp $0x1000,%rdi */
	0x0f, 0x87, 0x93, 0x00, 0x00, 0x00,       /* ja */
	0x48, 0x8d, 0x15, 0x5c, 0x7f, 0x2c, 0x00, /* lea 0x2c7f5c(%rip),%rdx */
};

static const uint8_t jemalloc53_free[] = {
	0x48, 0x89, 0xf8,                         /* mov %rdi,%rax */
	0x48, 0x8b, 0x15, 0x0e, 0x53, 0x0a, 0x00, /* mov 0xa530e(%rip),%rdx */
	0x48, 0x89, 0xf9,                         /* mov %rdi,%rcx */
	0x48, 0xc1, 0xe8, 0x1a,                   /* shr $0x1a,%rax */
	0x48, 0x81, 0xe1, 0x00, 0x00, 0x00, 0xc0, /* and $0xffffffffc0000000,%rcx */
	0x25, 0xf0, 0x00, 0x00, 0x00,             /* and $0xf0,%eax */
	0x64, 0x48, 0x03, 0x04, 0x25, 0, 0, 0, 0, /* add %fs:0x0,%rax */
	0x48, 0x01, 0xd0,                         /* add %rdx,%rax */
	0x48, 0x3b, 0x88, 0xb0, 0x01, 0x00, 0x00, /* cmp 0x1b0(%rax),%rcx */
	0x0f, 0x85, 0x8a, 0x00, 0x00, 0x00,       /* jne */
	0x48, 0x89, 0xfe,                         /* mov %rdi,%rsi */
};

static const uint8_t jemalloc53_new[] = {
	0x48, 0x81, 0xff, 0x00, 0x10, 0x00, 0x00, /* cmp $0x1000,%rdi */
	0x0f, 0x87, 0x93, 0x00, 0x00, 0x00,       /* ja */
};

static const uint8_t jemalloc53_sized_delete[] = {
	0x48, 0x85, 0xff,       /* test %rdi,%rdi */
	0x74, 0x13,             /* je */
	0x48, 0x83, 0xec, 0x08, /* sub $0x8,%rsp */
};

/* What ttbpf's probes read: an allocating function's entry its arguments
 * and [rsp]; its return probe [rsp] (the kernel does). */
#define KEEP_ENTRY (PLACEMENT_RDI | PLACEMENT_RSI | PLACEMENT_RDX | PLACEMENT_RSP)
#define KEEP_RETURN PLACEMENT_RSP

Test(placement, jemalloc53_malloc_moves_to_ja)
{
	struct placement pl = choose(jemalloc53_malloc, sizeof(jemalloc53_malloc), KEEP_ENTRY);

	cr_assert_eq(pl.offset, 7, "%s", pl.why);
	cr_assert_eq(pl.emulated, 1, "%s", pl.why);
	cr_assert_str_eq(pl.why, "+7: ja (emulated); skipped cmp");
	/* the return probe goes to the same place: one uprobe for both */
	CHECK(jemalloc53_malloc, KEEP_RETURN, 7, 1, "+7: ja (emulated)");
	CHECK(jemalloc53_new, KEEP_ENTRY, 7, 1, "+7: ja (emulated)");
}

Test(placement, jemalloc53_free_moves_past_shr)
{
	struct placement pl = choose(jemalloc53_free, sizeof(jemalloc53_free), KEEP);

	cr_assert_eq(pl.offset, 48, "%s", pl.why);
	cr_assert_eq(pl.emulated, 1, "%s", pl.why);
	cr_assert_str_eq(pl.why, "+48: jne (emulated); skipped mov, mov, mov, shr, and, and, "
				 "add, add, cmp");
	/* a probe reading rax, rcx or rdx could not */
	CHECK(jemalloc53_free, KEEP | PLACEMENT_REG(0), 0, 0, "mov at +0 writes rax");
	CHECK(jemalloc53_free, KEEP | PLACEMENT_RDX, 0, 0, "mov at +3 writes rdx");
	CHECK(jemalloc53_free, KEEP | PLACEMENT_REG(1), 0, 0, "mov at +10 writes rcx");
	/* cut before the jne: nothing to move to */
	check(jemalloc53_free, 48, KEEP, 0, 0, "no emulated instruction in the first 9", __LINE__);
	CHECK(jemalloc53_sized_delete, KEEP, 3, 1, "+3: je (emulated); skipped test");
}

Test(placement, return_probe_needs_rsp)
{
	/* push %rbp behind an empty REX: written rsp, not emulated. An entry
	 * probe that reads only rdi moves past it, a return probe stays. */
	static const uint8_t rex_push[] = { 0x40, 0x55, 0x48, 0x85, 0xff, 0x74, 0x00 };
	/* push $0 and push 0x0(%rip) likewise */
	static const uint8_t push_imm[] = { 0x6a, 0x00, 0x74, 0x00 };
	static const uint8_t push_mem[] = { 0xff, 0x35, 0, 0, 0, 0, 0x74, 0x00 };

	CHECK(rex_push, PLACEMENT_RDI, 5, 1, "+5: je (emulated); skipped push, test");
	CHECK(rex_push, KEEP_RETURN, 0, 0, "+0: single-stepped; push at +0 writes rsp");
	CHECK(push_imm, PLACEMENT_RDI, 2, 1, "je");
	CHECK(push_imm, KEEP_RETURN, 0, 0, "push at +0 writes rsp");
	CHECK(push_mem, PLACEMENT_RDI, 6, 1, "je");
	CHECK(push_mem, KEEP_RETURN, 0, 0, "push at +0 writes rsp");
	/* pop, lea -8(%rsp),%rsp, and $-16,%rsp, mov %rbp,%rsp: all move rsp */
	CHECK(BYTES(0x5b, 0x74, 0x00), KEEP_RETURN, 0, 0, "pop at +0 writes rsp");
	CHECK(BYTES(0x48, 0x8d, 0x64, 0x24, 0xf8, 0x74, 0x00), KEEP_RETURN, 0, 0,
	      "lea at +0 writes rsp");
	CHECK(BYTES(0x48, 0x83, 0xe4, 0xf0, 0x74, 0x00), KEEP_RETURN, 0, 0, "and at +0 writes rsp");
	CHECK(BYTES(0x48, 0x89, 0xec, 0x74, 0x00), KEEP_RETURN, 0, 0, "mov at +0 writes rsp");
	/* an emulated push at +0 is where both probes go */
	CHECK(glibc236_malloc, KEEP_RETURN, 0, 1, "+0: push (emulated)");
}

Test(placement, stack_writes_stop_a_return_probe)
{
	/* mov %rdi,(%rsp): the return address itself */
	CHECK(BYTES(0x48, 0x89, 0x3c, 0x24, 0x74, 0x00), KEEP_RETURN, 0, 0,
	      "+0: single-stepped; mov at +0 stores to the stack");
	/* movb $0,0x8(%rsp), orq $1,(%rsp), incl (%rsp), sete (%rsp) */
	CHECK(BYTES(0xc6, 0x44, 0x24, 0x08, 0x00, 0x74, 0x00), KEEP_RETURN, 0, 0,
	      "stores to the stack");
	CHECK(BYTES(0x48, 0x83, 0x0c, 0x24, 0x01, 0x74, 0x00), KEEP_RETURN, 0, 0,
	      "or at +0 stores to the stack");
	CHECK(BYTES(0xff, 0x04, 0x24, 0x74, 0x00), KEEP_RETURN, 0, 0, "inc at +0 stores");
	CHECK(BYTES(0x0f, 0x94, 0x04, 0x24, 0x74, 0x00), KEEP_RETURN, 0, 0, "set at +0 stores");
	/* a load from the stack, a compare with it: nothing written */
	CHECK(BYTES(0x48, 0x8b, 0x04, 0x24, 0x48, 0x39, 0x3c, 0x24, 0x74, 0x00), KEEP_RETURN, 8,
	      1, "skipped mov, cmp");
	/* a copy of rsp (mov, lea): a later store through it could reach [rsp] */
	CHECK(BYTES(0x48, 0x89, 0xe0, 0x74, 0x00), KEEP_RETURN, 0, 0, "mov at +0 copies rsp");
	CHECK(BYTES(0x48, 0x8b, 0xc4, 0x74, 0x00), KEEP_RETURN, 0, 0, "mov at +0 copies rsp");
	CHECK(BYTES(0x48, 0x8d, 0x44, 0x24, 0x08, 0x74, 0x00), KEEP_RETURN, 0, 0,
	      "lea at +0 copies rsp");
	CHECK(BYTES(0x48, 0x8d, 0x44, 0x24, 0x08, 0x74, 0x00), PLACEMENT_RDI, 5, 1, "je");
	/* r12 as the base (REX.B) is no stack */
	CHECK(BYTES(0x49, 0x8d, 0x44, 0x24, 0x08, 0x74, 0x00), KEEP_RETURN, 5, 1, "je");
	/* mov %ah,%al: byte register 4 without REX is ah */
	CHECK(BYTES(0x88, 0xe0, 0x74, 0x00), KEEP_RETURN, 2, 1, "je");
}

Test(placement, integer_instructions)
{
	/* shifts (c1, d1, d3) write their r/m */
	CHECK(BYTES(0x48, 0xc1, 0xef, 0x04, 0x74, 0x00), KEEP, 0, 0, "shr at +0 writes rdi");
	CHECK(BYTES(0x48, 0xc1, 0xe0, 0x04, 0x48, 0xd1, 0xe8, 0x48, 0xd3, 0xe2, 0x74, 0x00),
	      KEEP, 10, 1, "skipped shl, shr, shl");
	CHECK(BYTES(0x48, 0xd3, 0xe7, 0x74, 0x00), KEEP, 0, 0, "shl at +0 writes rdi");
	/* imul reg, r/m (0f af) and reg, r/m, imm (6b, 69) write reg */
	CHECK(BYTES(0x48, 0x0f, 0xaf, 0xc7, 0x48, 0x6b, 0xc7, 0x03, 0x48, 0x69, 0xc7, 0, 1, 0,
		    0, 0x74, 0x00),
	      KEEP, 15, 1, "skipped imul, imul, imul");
	CHECK(BYTES(0x48, 0x0f, 0xaf, 0xfe, 0x74, 0x00), KEEP, 0, 0, "imul at +0 writes rdi");
	/* mul %rsi writes rdx:rax; mulb %sil ax only */
	CHECK(BYTES(0x48, 0xf7, 0xe6, 0x74, 0x00), KEEP, 3, 1, "skipped mul");
	CHECK(BYTES(0x48, 0xf7, 0xe6, 0x74, 0x00), KEEP | PLACEMENT_RDX, 0, 0, "writes rdx");
	CHECK(BYTES(0x40, 0xf6, 0xe6, 0x74, 0x00), KEEP | PLACEMENT_RDX, 3, 1, "je");
	/* inc, dec, neg, not */
	CHECK(BYTES(0x48, 0xff, 0xc0, 0x48, 0xff, 0xc9, 0x48, 0xf7, 0xda, 0x48, 0xf7, 0xd6,
		    0x74, 0x00),
	      KEEP, 12, 1, "skipped inc, dec, neg, not");
	CHECK(BYTES(0x48, 0xff, 0xcf, 0x74, 0x00), KEEP, 0, 0, "dec at +0 writes rdi");
	CHECK(BYTES(0x48, 0xf7, 0xdf, 0x74, 0x00), KEEP, 0, 0, "neg at +0 writes rdi");
	/* cmov writes its reg (even when the condition fails, the upper half) */
	CHECK(BYTES(0x48, 0x0f, 0x44, 0xc7, 0x74, 0x00), KEEP, 4, 1, "skipped cmov");
	CHECK(BYTES(0x48, 0x0f, 0x44, 0xf8, 0x74, 0x00), KEEP, 0, 0, "cmov at +0 writes rdi");
	/* setcc writes a byte register: dil with REX, bh without */
	CHECK(BYTES(0x0f, 0x94, 0xc7, 0x74, 0x00), KEEP, 3, 1, "skipped set");
	CHECK(BYTES(0x40, 0x0f, 0x94, 0xc7, 0x74, 0x00), KEEP, 0, 0, "set at +0 writes rdi");
	/* bt reads, bts writes; bt $3,%rdi (0f ba /4), btr $3,%rdi (/6) */
	CHECK(BYTES(0x48, 0x0f, 0xa3, 0xc7, 0x48, 0x0f, 0xba, 0xe7, 0x03, 0x74, 0x00), KEEP, 9,
	      1, "skipped bt, bt");
	CHECK(BYTES(0x48, 0x0f, 0xab, 0xc7, 0x74, 0x00), KEEP, 0, 0, "bts at +0 writes rdi");
	CHECK(BYTES(0x48, 0x0f, 0xba, 0xf7, 0x03, 0x74, 0x00), KEEP, 0, 0, "btr at +0 writes rdi");
	/* cdqe writes rax, cqo rdx, bswap its register */
	CHECK(BYTES(0x48, 0x98, 0x48, 0x99, 0x48, 0x0f, 0xc8, 0x74, 0x00), KEEP, 7, 1,
	      "skipped cdqe, cqo, bswap");
	CHECK(BYTES(0x48, 0x0f, 0xcf, 0x74, 0x00), KEEP, 0, 0, "bswap at +0 writes rdi");
	/* xor %r15d,%r15d, test %r8,%r8 */
	CHECK(BYTES(0x45, 0x31, 0xff, 0x4d, 0x85, 0xc0, 0x74, 0x00), KEEP, 6, 1,
	      "skipped xor, test");
}

Test(placement, unknown_stops_where_it_is)
{
	/* cmp, then cpuid: the walk stops at +0, never at the cpuid */
	CHECK(BYTES(0x48, 0x81, 0xff, 0x00, 0x10, 0x00, 0x00, 0x0f, 0xa2, 0x74, 0x00), KEEP_ENTRY,
	      0, 0, "+0: single-stepped; opcode 0x0f 0xa2 at +7 not understood");
	/* an SSE move, a VEX instruction, an xchg: x86_decode() knows their
	 * lengths, but not what they write here */
	CHECK(BYTES(0x66, 0x0f, 0x6f, 0xc1, 0x74, 0x00), KEEP, 0, 0, "opcode 0x0f 0x6f");
	CHECK(BYTES(0xc5, 0xf9, 0x6f, 0xc1, 0x74, 0x00), KEEP, 0, 0, "not understood");
	CHECK(BYTES(0x48, 0x87, 0xc7, 0x74, 0x00), KEEP, 0, 0, "opcode 0x87");
	/* leave and pop r/m move rsp in ways not followed */
	CHECK(BYTES(0xc9, 0x74, 0x00), PLACEMENT_RDI, 0, 0, "opcode 0xc9 at +0 not understood");
	CHECK(BYTES(0x8f, 0xc0, 0x74, 0x00), PLACEMENT_RDI, 0, 0, "not understood");
	/* no instruction at all */
	CHECK(BYTES(0x06, 0x74, 0x00), KEEP, 0, 0, "opcode 0x06 at +0 not understood");
	/* an address-size prefix */
	CHECK(BYTES(0x67, 0x48, 0x8b, 0x07, 0x74, 0x00), KEEP, 0, 0, "not understood");
}

/* The file offset of the defined dynamic symbol name in the ELF file fd. */
static int64_t dynsym_offset(int fd, const char *name)
{
	Elf_Scn *scn = NULL;
	int64_t off = -1;
	uint64_t vaddr = 0;
	size_t nph, i;
	Elf *elf;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -1;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return -1;
	while (!vaddr && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *data = NULL;
		GElf_Shdr sh;
		GElf_Sym sym;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		for (i = 0; data && i < sh.sh_size / sh.sh_entsize; i++) {
			const char *n;

			if (!gelf_getsym(data, i, &sym) || sym.st_shndx == SHN_UNDEF ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
				continue;
			n = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (n && !strcmp(n, name)) {
				vaddr = sym.st_value;
				break;
			}
		}
	}
	if (vaddr && !elf_getphdrnum(elf, &nph)) {
		for (i = 0; i < nph; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD &&
			    vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
				off = (int64_t)(vaddr - ph.p_vaddr + ph.p_offset);
				break;
			}
		}
	}
	elf_end(elf);
	return off;
}

Test(placement, real_libc_free)
{
	static const char path[] = "/lib/x86_64-linux-gnu/libc.so.6";
	uint8_t code[PLACEMENT_CODE_MAX];
	struct placement pl;
	int64_t off;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		cr_skip_test("%s is absent", path);
	off = dynsym_offset(fd, "free");
	if (off < 0) {
		close(fd);
		cr_skip_test("no free in %s", path);
	}
	n = pread(fd, code, sizeof(code), off);
	close(fd);
	cr_assert_gt(n, 0, "cannot read free at %lld", (long long)off);

	pl = choose(code, (size_t)n, KEEP);
	cr_assert_lt(pl.offset, PLACEMENT_CODE_MAX);
	/* other glibc builds may well start free with a push */
	if (!pl.offset && strcmp(gnu_get_libc_version(), "2.36"))
		cr_skip_test("glibc %s: free stays at +0 (%s)", gnu_get_libc_version(), pl.why);
	cr_assert_gt(pl.offset, 0, "glibc %s free: %s", gnu_get_libc_version(), pl.why);
	cr_assert_eq(pl.emulated, 1, "%s", pl.why);
}

/* The installed jemalloc (scripts/install-deps.sh: libjemalloc2), whose
 * malloc and free start with instructions the kernel single-steps. */
Test(placement, real_jemalloc)
{
	static const char path[] = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
	static const char *const names[] = { "malloc", "free", "_Znwm" };
	uint8_t code[PLACEMENT_CODE_MAX];
	struct placement pl;
	const char *ci = getenv("CI");
	int64_t off;
	ssize_t n;
	size_t i;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* CI installs it: there, its absence is a failure */
		cr_assert(!ci || strcmp(ci, "true"), "%s is absent (CI=true)", path);
		cr_skip_test("%s is absent", path);
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		off = dynsym_offset(fd, names[i]);
		cr_assert_geq(off, 0, "no %s in %s", names[i], path);
		n = pread(fd, code, sizeof(code), off);
		cr_assert_gt(n, 0, "cannot read %s at %lld", names[i], (long long)off);
		/* free's probe reads rdi and [rsp] only */
		pl = choose(code, (size_t)n, strcmp(names[i], "free") ? KEEP_ENTRY : KEEP);
		cr_assert_gt(pl.offset, 0, "jemalloc %s: %s", names[i], pl.why);
		cr_assert_eq(pl.emulated, 1, "jemalloc %s: %s", names[i], pl.why);
	}
	close(fd);
}
