// SPDX-License-Identifier: Apache-2.0
#include <criterion/criterion.h>
#include <fcntl.h>
#include <gelf.h>
#include <gnu/libc-version.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
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
	CHECK(BYTES(0x66, 0xe8, 0, 0, 0, 0), KEEP, 0, 0, "call at +0 does not fall through");
	CHECK(BYTES(0x3e, 0x74, 0x00), KEEP, 0, 0, "not understood");
	/* test; ret; je: never skip past a ret */
	CHECK(BYTES(0x48, 0x85, 0xff, 0xc3, 0x74, 0x00), KEEP, 0, 0,
	      "ret at +3 does not fall through");
	CHECK(BYTES(0xc3), KEEP, 0, 0, "ret at +0");
	CHECK(BYTES(0xf3, 0xc3), KEEP, 0, 0, "ret at +0");
	CHECK(BYTES(0xcc, 0x74, 0x00), KEEP, 0, 0, "int3 at +0");
	CHECK(BYTES(0x0f, 0x0b, 0x74, 0x00), KEEP, 0, 0, "ud2 at +0");
	CHECK(BYTES(0x0f, 0x05, 0x74, 0x00), KEEP, 0, 0, "syscall at +0");
	/* jmp *%rax */
	CHECK(BYTES(0xff, 0xe0, 0x74, 0x00), KEEP, 0, 0, "not understood");
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
	/* mul %rsi writes rdx:rax, xchg, cmpxchg, lock */
	CHECK(BYTES(0x48, 0xf7, 0xe6, 0x74, 0x00), KEEP, 0, 0, "not understood");
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
	/* nine mov %rax,%rax then je: more than 8 instructions */
	CHECK(BYTES(0x48, 0x89, 0xc0, 0x48, 0x89, 0xc0, 0x48, 0x89, 0xc0, 0x48, 0x89, 0xc0,
		    0x48, 0x89, 0xc0, 0x48, 0x89, 0xc0, 0x48, 0x89, 0xc0, 0x48, 0x89, 0xc0,
		    0x74, 0x00),
	      KEEP, 0, 0, "no emulated instruction in the first 8 instructions");
	/* seven of them then je: the 8th instruction is still looked at */
	CHECK(BYTES(0x48, 0x89, 0xc0, 0x48, 0x89, 0xc0, 0x48, 0x89, 0xc0, 0x48, 0x89, 0xc0,
		    0x48, 0x89, 0xc0, 0x48, 0x89, 0xc0, 0x48, 0x89, 0xc0, 0x74, 0x00),
	      KEEP, 21, 1, "je");
	/* five 7-byte loads then je at +35: past the 32-byte window */
	CHECK(BYTES(0x48, 0x8b, 0x05, 0, 0, 0, 0, 0x48, 0x8b, 0x05, 0, 0, 0, 0, 0x48, 0x8b,
		    0x05, 0, 0, 0, 0, 0x48, 0x8b, 0x05, 0, 0, 0, 0, 0x48, 0x8b, 0x05, 0, 0, 0,
		    0, 0x74, 0x00),
	      KEEP, 0, 0, "(35 bytes)");
	/* code that just ends without an emulated instruction */
	CHECK(BYTES(0x48, 0x85, 0xff), KEEP, 0, 0, "no emulated instruction");
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
