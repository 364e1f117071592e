#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Regenerates the seed corpora under tests/fuzz/corpus/ (they are checked in;
# this says how they were made). Run from the repository root:
#
#   tests/fuzz/make-seeds.sh [REPORT.json]
#
# REPORT.json: a ttbpf report to shrink into the json_reader seeds, e.g.
#   sudo build/ttbpf -q --stack-depth 4 -j /tmp/r.json -- build/fixtures/tracked_vars
set -euo pipefail
cd "$(dirname "$0")/../.."
C=tests/fuzz/corpus
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p $C/json_writer $C/json_reader $C/symbolize $C/elf_syms

# ---- ELF files: small, each reaching another part of the loaders ----------
cat >"$T/hello.c" <<'EOF'
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
EOF
cat >"$T/tiny.c" <<'EOF'
static int helper(int x) { return x * 3 + 1; }
int counter;
__attribute__((noinline)) int work(int n) { int s = 0; for (int i = 0; i < n; i++) s += helper(i); return s; }
void *malloc(unsigned long n) { (void)n; return 0; }
void free(void *p) { (void)p; }
void _start(void) { counter = work(10); __asm__ volatile("mov $60, %eax; xor %edi, %edi; syscall"); }
EOF
cat >"$T/tiny.cc" <<'EOF'
namespace ns { struct K { __attribute__((noinline)) int f(int x) { return x + 1; } }; }
extern "C" void _start() { ns::K k; volatile int r = k.f(1); (void)r; __asm__ volatile("mov $60, %eax; xor %edi, %edi; syscall"); }
EOF
# -Wl,-n: no page alignment, so the files stay a few KB
TINY="-Os -nostdlib -static -Wl,-n -Wl,-z,noseparate-code -Wl,--build-id -fno-asynchronous-unwind-tables"
(
	cd "$T"
	cc -Os -s hello.c -o hello_s                        # real dynamic PIE, stripped: .dynsym only
	cc $TINY -g tiny.c -o tiny_g 2>/dev/null            # .symtab, DWARF 5, build-id, malloc/free
	cc $TINY -g -gz=zlib tiny.c -o tiny_gz 2>/dev/null  # compressed debug sections
	cc $TINY -g -gdwarf-4 tiny.c -o tiny_dw4 2>/dev/null
	objcopy --only-keep-debug tiny_g tiny.debug         # a separate debug file
	objcopy --strip-all --add-gnu-debuglink=tiny.debug tiny_g tiny_dl
	cc -Os -g -fPIC -shared -nostdlib -Wl,-z,noseparate-code -fno-asynchronous-unwind-tables \
		tiny.c -o tiny.so                            # ET_DYN with .dynsym and .symtab
	if command -v c++ >/dev/null; then
		c++ $TINY -g -fno-exceptions tiny.cc -o tiny_cxx 2>/dev/null  # mangled names
	fi
)
# MiniDebugInfo: tiny_g's function symbols, xz'd, as .gnu_debugdata of it stripped
(
	cd "$T"
	nm tiny_g --format=posix --defined-only | awk '$2 == "T" || $2 == "t" { print $1 }' >mini.keep
	objcopy -S --remove-section .comment --keep-symbols=mini.keep tiny_g mini.elf
	xz -T1 -c mini.elf >mini.xz
	objcopy --strip-all --add-section .gnu_debugdata=mini.xz tiny_g tiny_mini
	# the harness's "MINI" mode: the inner ELF itself, wrapped and xz'd there
	{ printf MINI; cat mini.elf; } >mini_inner
)
for f in hello_s tiny_g tiny_gz tiny_dw4 tiny.debug tiny_dl tiny.so tiny_cxx; do
	[ -f "$T/$f" ] || continue
	cp "$T/$f" $C/symbolize/$f
	cp "$T/$f" $C/elf_syms/$f
done
cp "$T/tiny_mini" "$T/mini_inner" $C/symbolize/

# ---- CFI for the unwind-table builder ---------------------------------------
# .eh_frame (with and without .eh_frame_hdr), .debug_frame in the file, in a
# compressed section and in a separate debug file, an rbp-based CFA (VLA), a
# large frame; hello_s brings a real PLT
mkdir -p $C/unwind_table
cat >"$T/unw.c" <<'EOF'
__attribute__((noinline)) int vla(int n) { volatile char b[n + 1]; b[n] = 1; return b[n / 2]; }
__attribute__((noinline)) int big(int n) { volatile char b[5000]; b[n] = 2; return b[1]; }
__attribute__((noinline)) int rec(int n) { return n ? rec(n - 1) * 2 + vla(n) : big(3); }
void _start(void) { rec(3); __asm__ volatile("mov $60, %eax; xor %edi, %edi; syscall"); }
EOF
UNW="-O2 -fomit-frame-pointer -nostdlib -static -Wl,-n -Wl,-z,noseparate-code"
(
	cd "$T"
	cc $UNW unw.c -o unw_eh 2>/dev/null                         # .eh_frame
	cc $UNW -Wl,--eh-frame-hdr unw.c -o unw_hdr 2>/dev/null     # and .eh_frame_hdr
	cc $UNW -g -fno-asynchronous-unwind-tables unw.c -o unw_df 2>/dev/null
	cc $UNW -g -gz=zlib -fno-asynchronous-unwind-tables unw.c -o unw_dfz 2>/dev/null
	cc -O2 -fomit-frame-pointer -fPIC -shared -nostdlib -Wl,-z,noseparate-code \
		unw.c -o unw.so                                     # ET_DYN
	objcopy --only-keep-debug unw_df unw_df.debug
)
for f in unw_eh unw_hdr unw_df unw_dfz unw.so unw_df.debug hello_s; do
	[ -f "$T/$f" ] || continue
	cp "$T/$f" $C/unwind_table/$f
done
# 'C' seeds: a CFI section alone, which fuzz_unwind_table.c puts into an ELF
# file of its own (the whole-file seeds above are read as they are)
for f in unw_eh unw_hdr hello_s unw.so; do
	objcopy -O binary --only-section=.eh_frame "$T/$f" "$T/$f.cfi" 2>/dev/null || continue
	{ printf 'C'; cat "$T/$f.cfi"; } >$C/unwind_table/cfi_eh_$f
done
if objcopy -O binary --only-section=.debug_frame --set-section-flags .debug_frame=alloc \
	"$T/unw_df" "$T/unw_df.cfi" 2>/dev/null; then
	{ printf 'C'; cat "$T/unw_df.cfi"; } >$C/unwind_table/cfi_df_unw_df
fi

# ---- code for the x86 decoder: the first 512 bytes of real functions -------
# (first byte: the registers placement keeps; fuzz_x86_decode.c decodes all)
mkdir -p $C/x86_decode
code_seed() { # FILE SYMBOL NAME
	local a off
	a=$(nm -D --defined-only "$1" 2>/dev/null | awk -v s="$2" '!v && ($3 == s || index($3, s "@") == 1) { v = $1 } END { print v }')
	[ -n "$a" ] || return 0 # (awk reads all of nm's output: no SIGPIPE under pipefail)
	off=$((16#$a))
	# these libraries lay their segments out at vaddr = file offset: the address is the offset
	dd if="$1" of="$C/x86_decode/$3" bs=1 skip="$off" count=512 status=none
}
LIBC=/lib/x86_64-linux-gnu/libc.so.6
JE=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
code_seed $LIBC malloc libc_malloc
code_seed $LIBC free libc_free
code_seed $LIBC memcpy libc_memcpy
code_seed $LIBC posix_memalign libc_posix_memalign
code_seed $JE malloc je_malloc
code_seed $JE free je_free
code_seed $JE _Znwm je_new
printf '\x80\xc5\x0f\xb6\x4d\x00\x62\xf1\x7c\x48\x10\x44\x24\x01\xf3\xc3' >$C/x86_decode/vex_evex_ret

# ---- executables for the library walk (elf_needed) --------------------------
mkdir -p $C/elf_needed
(
	cd "$T"
	cc -Os -s hello.c -Wl,-rpath,'$ORIGIN/lib:${PLATFORM}/x:$LIB' -o hello_rpath # DT_RUNPATH
	cc -Os -s hello.c -Wl,--disable-new-dtags,-rpath,'$ORIGIN/../lib' -o hello_oldrpath # DT_RPATH
	printf 'int f(void) { return 1; }\n' >self.c
	cc -Os -s -shared -fPIC self.c -Wl,-soname,libself.so -o libself.so
	cc -Os -s -shared -fPIC self.c -Wl,-soname,libself.so -L. -Wl,--no-as-needed -lself -o libself2.so # needs itself
)
for f in hello_rpath hello_oldrpath libself2.so; do
	cp "$T/$f" $C/elf_needed/$f
done
cp $C/elf_syms/hello_s $C/elf_needed/hello_s

# ---- strings for the escaper: first byte = flags (1 pretty, 2 in an array) --
w() { printf "$2" >"$C/json_writer/$1"; }
w quotes '\001say "hi" \\ back\\slash /'
w controls '\000\001\002\010\011\012\014\015\037\177 end'
w invalid_utf8 '\002a\377b\376c\300\257d\355\240\200e\364\220\200\200f\341\200'
w valid_utf8 '\003caf\303\251 \342\202\254 \360\237\230\200 \344\270\255\346\226\207'
w separators '\000line\342\200\250para\342\200\251end'
w html '\001<script>alert(1)</script>&amp;]]><!--'
w truncated_tail '\000abc\360\237\230'
w nul_in_key '\000key\000value after a NUL'

# ---- documents for the reader ---------------------------------------------
r() { printf '%s' "$2" >"$C/json_reader/$1"; }
r escapes '{"a":"\u00e9\ud83d\ude00\ud800x\/\b\f\n\r\t\"\\","b":[1,-2,3.5e2,18446744073709551615,-9223372036854775808]}'
r literals '[true,false,null,{},[],"",0,-0,1e-400]'
r skipped '{"active_allocations":[{"ptr":"0x1","size":1}],"threads":[1,2],"stacks":{"x":[]},"stats":{"active_allocations":3,"peak_memory":10},"target":{"pid":4}}'
r deep '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]'
r dup_keys '{"k":1,"k":2,"":3}'
# for the streaming reader: skip keys that are not root keys, an error after a
# skipped container (reported at the file's offset), a cut inside one
r stream_keys '{"a\"threads":[1],"x":"\"threads\":[","threads":["\"]","\\"],"stats":{"threads":[2]},"thr\u0065ads":{"k":[]},"threads":7}'
r stream_error_after '{"stacks":{"x":[1,"}"]},"active_allocations":[[],{}],"a":tru}'
r stream_cut '{"format_version":1,"threads":[{"name":"a\\"},[1,2'
if [ $# -ge 1 ]; then
	# every array cut to 3 elements, compact: a small report with every field
	python3 - "$1" "$C/json_reader/report.json" <<'EOF'
import json, sys
def cut(v):
    if isinstance(v, list):
        return [cut(x) for x in v[:3]]
    if isinstance(v, dict):
        return {k: cut(x) for k, x in v.items()}
    return v
d = cut(json.load(open(sys.argv[1])))
open(sys.argv[2], "w").write(json.dumps(d, separators=(",", ":")))
EOF
fi
ls -l $C/*
