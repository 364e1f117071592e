// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: the x86-64 decoder (user/elf/x86_decode.c) and probe
 * placement on top of it (user/tracing/placement.c). Both read code from
 * the allocator's file, which the target may have written.
 *
 * The input is decoded from every offset. Checked beyond memory safety: a
 * length is 1 to 15 and within the input; the same bytes cut to that length
 * decode the same, and one byte shorter do not decode at all; a direct
 * branch's target is its address plus its length plus the displacement's
 * reach (within 2 GiB). Placement keeps its offset within the code it was
 * given and at an instruction boundary of the decoder's.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "placement.h"
#include "x86_decode.h"

#define FUZZ_NAME "fuzz_x86_decode"
#include "fuzz_check.h"

#define BASE 0x400000ull /* an address for the code, so targets wrap nowhere */

static void check_at(const uint8_t *data, size_t size, size_t off)
{
	struct x86_insn a, b;
	uint8_t cut[X86_INSN_MAX_BYTES];
	int n = x86_decode(data + off, size - off, BASE + off, &a), m;

	if (n < 0) {
		CHECK(n == -ENODATA || n == -ENOTSUP, "+%zu: error %d", off, n);
		return;
	}
	CHECK(n >= 1 && n <= X86_INSN_MAX_BYTES && (size_t)n <= size - off && a.len == (unsigned)n,
	      "+%zu: length %d (len field %u) of %zu bytes", off, n, a.len, size - off);
	/* exactly its bytes, in a buffer of that size: the same; one fewer: none */
	memcpy(cut, data + off, (size_t)n);
	m = x86_decode(cut, (size_t)n, BASE + off, &b);
	CHECK(m == n && b.kind == a.kind && b.target == a.target, "+%zu: %d then %d", off, n, m);
	CHECK(x86_decode(cut, (size_t)n - 1, BASE + off, &b) < 0, "+%zu: decodes cut short", off);
	if (a.kind == X86_INSN_JUMP_DIRECT || a.kind == X86_INSN_CALL_DIRECT) {
		uint64_t next = BASE + off + (uint64_t)n;
		int64_t rel = (int64_t)(a.target - next);

		CHECK(rel >= INT32_MIN && rel <= INT32_MAX, "+%zu: target %#llx from %#llx", off,
		      (unsigned long long)a.target, (unsigned long long)next);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct placement p;
	struct x86_insn insn;
	size_t off, at = 0;
	uint32_t keep;

	for (off = 0; off < size; off++)
		check_at(data, size, off);
	if (!size)
		return 0;
	/* placement: the registers kept from the first byte, the code after it */
	keep = (uint32_t)data[0] | PLACEMENT_RSP;
	placement__choose(data + 1, size - 1, keep, &p);
	CHECK(p.offset <= PLACEMENT_CODE_MAX && (!p.offset || p.offset < size - 1),
	      "placement at +%u of %zu bytes", p.offset, size - 1);
	CHECK(strnlen(p.why, sizeof(p.why)) < sizeof(p.why), "why not terminated");
	while (at < p.offset) {
		int n = x86_decode(data + 1 + at, size - 1 - at, BASE + at, &insn);

		CHECK(n > 0, "placement at +%u past an undecodable +%zu", p.offset, at);
		at += (size_t)n;
	}
	CHECK(at == p.offset, "placement at +%u, not an instruction boundary", p.offset);
	return 0;
}
