#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Coverage-guided fuzzing (libFuzzer, with ASan and UBSan) of the code that
# reads untrusted input: `make fuzz` runs it.
#
#   json_writer   user/reports/json_writer.c   strings from the target → valid JSON
#   json_reader   user/reports/json_reader.c   report files given to `ttbpf report`
#   report        user/reports/dash_build.c    `ttbpf report` itself: the stream read into the dashboard's data, under a low RSS limit
#   symbolize     user/elf/symbolize.c         ELF files and DWARF the target maps
#   elf_syms      user/elf/elf_syms.c          the allocator's ELF file (probe placement)
#   unwind_table  user/elf/unwind_table.c      .eh_frame/.debug_frame of files the target maps
#   x86_decode    user/elf/x86_decode.c        code of the allocator's file (return sites, probe placement)
#   elf_needed    user/elf/elf_needed.c        a command's executable and the libraries it names
#
# For each target: build build/fuzz/fuzz_TARGET with clang, replay the seeds
# (tests/fuzz/corpus/TARGET/) and the regression inputs
# (tests/fuzz/regressions/TARGET/), then fuzz for FUZZ_SECONDS (default 60).
# New corpus entries go to build/fuzz/corpus/TARGET/ (not in git). An input
# that crashes, leaks, hangs or runs out of memory is copied to
# tests/fuzz/regressions/TARGET/ and the script exits 1 once every target ran.
#
#   FUZZ_SECONDS=600 make fuzz            longer
#   FUZZ_TARGETS="json_reader" make fuzz  some targets only
#   FUZZ_SECONDS=0 make fuzz              build and replay only
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_TARGETS=${FUZZ_TARGETS:-json_writer json_reader report symbolize elf_syms unwind_table x86_decode elf_needed}
CLANG=${CLANG:-clang}
OUT=build/fuzz
# every folder of user/ on the include path, as in the Makefile
USER_INC=(-Iuser)
for d in user/*/; do USER_INC+=("-I${d%/}"); done
CFLAGS=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
	-fno-omit-frame-pointer -D_GNU_SOURCE -Ibpf "${USER_INC[@]}" -Ibuild -Wall)

say() { printf 'fuzz: %s\n' "$*" >&2; }

# What each harness links besides itself.
sources() {
	case $1 in
	json_writer) echo "user/reports/json_writer.c user/reports/json_reader.c" ;;
	json_reader) echo "" ;; # the harness includes json_reader.c itself
	# symbolize.c for sym_frame__label, the frame names the dashboard draws
	report) echo "user/reports/dash_build.c user/reports/json_reader.c user/elf/symbolize.c user/elf/elf_syms.c" ;;
	symbolize) echo "user/elf/symbolize.c user/elf/elf_syms.c" ;;
	elf_syms) echo "user/elf/elf_syms.c" ;;
	unwind_table) echo "user/elf/unwind_table.c user/elf/elf_syms.c" ;;
	x86_decode) echo "user/elf/x86_decode.c user/tracing/placement.c" ;;
	elf_needed) echo "user/elf/elf_needed.c user/elf/elf_syms.c user/elf/unwind_table.c" ;;
	*) return 1 ;;
	esac
}
libs() {
	case $1 in
	json_writer | json_reader) echo "-ljansson" ;;
	report | symbolize) echo "-ldw -lelf -lz -llzma -lstdc++" ;;
	elf_syms) echo "-lelf" ;;
	unwind_table | elf_needed) echo "-ldw -lelf" ;;
	esac
}

# Memory limits. `report` reads in memory that does not grow with its input
# (docs/json-format.md): a low limit, with ASan's quarantine of freed blocks
# kept small so that the limit measures the reader, not the quarantine.
limits() {
	case $1 in
	report) echo "-rss_limit_mb=192 -malloc_limit_mb=64" ;;
	*) echo "-rss_limit_mb=2048 -malloc_limit_mb=1024" ;;
	esac
}
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16
if [[ ! $FUZZ_SECONDS =~ ^[0-9]+$ ]]; then
	say "FUZZ_SECONDS must be a number of seconds, not '$FUZZ_SECONDS'"
	exit 2
fi
if ! command -v "$CLANG" >/dev/null; then
	say "$CLANG not found (Debian package clang)"
	exit 1
fi
mkdir -p "$OUT"

# libFuzzer's runtime is in compiler-rt, which Debian ships apart from clang
# (and install-deps.sh installs without recommends).
probe=$OUT/probe
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$probe.c"
if ! "$CLANG" -fsanitize=fuzzer,address,undefined "$probe.c" -o "$probe" 2>"$probe.log"; then
	ver=$("$CLANG" -dumpversion 2>/dev/null | cut -d. -f1)
	say "$CLANG cannot build libFuzzer harnesses (-fsanitize=fuzzer):"
	sed 's/^/  /' "$probe.log" >&2
	say "install compiler-rt: apt-get install libclang-rt-${ver:-14}-dev"
	exit 1
fi
rm -f "$probe" "$probe.c" "$probe.log"

failed=()
summary=()

# Copies libFuzzer's artifacts of a target into its regression directory.
keep_artifacts() {
	local t=$1 a n=0
	for a in "$OUT/artifacts/$t"/*; do
		[ -f "$a" ] || continue
		mkdir -p "tests/fuzz/regressions/$t"
		cp "$a" "tests/fuzz/regressions/$t/"
		say "$t: kept $(basename "$a") in tests/fuzz/regressions/$t/"
		n=$((n + 1))
	done
	return $((n == 0))
}

for t in $FUZZ_TARGETS; do
	if ! srcs=$(sources "$t"); then
		say "unknown target '$t'"
		exit 2
	fi
	bin=$OUT/fuzz_$t
	say "$t: building $bin"
	# shellcheck disable=SC2046 # word splitting of the lists is intended
	"$CLANG" "${CFLAGS[@]}" "tests/fuzz/fuzz_$t.c" $srcs -o "$bin" $(libs "$t")

	rm -rf "$OUT/artifacts/$t"
	mkdir -p "$OUT/corpus/$t" "$OUT/artifacts/$t" "$OUT/logs"
	common=(-artifact_prefix="$OUT/artifacts/$t/" -timeout=20 $(limits "$t") -max_len=65536
		-print_final_stats=1)

	# Replay: every seed and every kept regression input, once, one at a time
	# (libFuzzer stops at the first that fails: each is named).
	mapfile -t replay < <(find "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t" \
		-type f 2>/dev/null | sort)
	bad=0
	: >"$OUT/logs/$t.replay.log"
	for f in "${replay[@]}"; do
		if ! "$bin" "${common[@]}" "$f" >"$OUT/logs/$t.one.log" 2>&1; then
			why=$(grep -E '^(SUMMARY: |fuzz_[a-z_]+: )' "$OUT/logs/$t.one.log" | head -n 1)
			say "$t: $f FAILS: ${why:-see $OUT/logs/$t.replay.log}"
			bad=$((bad + 1))
		fi
		cat "$OUT/logs/$t.one.log" >>"$OUT/logs/$t.replay.log"
	done
	rm -f "$OUT/logs/$t.one.log"
	if [ $bad -gt 0 ]; then
		say "$t: $bad of ${#replay[@]} seed and regression inputs fail (log: $OUT/logs/$t.replay.log);" \
			"not fuzzed until they pass"
		failed+=("$t (replay)")
		summary+=("$t: $bad known failing inputs, not fuzzed")
		continue
	fi
	[ ${#replay[@]} -eq 0 ] || say "$t: ${#replay[@]} seed and regression inputs replayed cleanly"

	[ "$FUZZ_SECONDS" -gt 0 ] || continue
	say "$t: fuzzing for ${FUZZ_SECONDS}s"
	log=$OUT/logs/$t.log
	set +e
	"$bin" "${common[@]}" -max_total_time="$FUZZ_SECONDS" \
		"$OUT/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	set -e
	runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
	secs=$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -Eo 'in [0-9]+' | grep -Eo '[0-9]+' | tail -1)
	cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
	corpus=$(find "$OUT/corpus/$t" -type f | wc -l)
	if [ -n "${runs:-}" ] && [ -n "${secs:-}" ] && [ "$secs" -gt 0 ]; then
		rate="$((runs / secs)) exec/s"
	else
		rate="? exec/s"
	fi
	line="$t: ${runs:-?} runs, $rate, ${cov:-cov ?}, $corpus new corpus entries"
	if keep_artifacts "$t" || [ $rc -ne 0 ]; then
		say "$t: FAILED (libFuzzer exit $rc; see $log):"
		grep -E '^(==[0-9]+== ?ERROR|SUMMARY|fuzz_[a-z_]+: )|deadly signal|timeout|out-of-memory' "$log" | head -n 20 >&2 || true
		failed+=("$t")
		line="$line — FAILED"
	fi
	summary+=("$line")
done

for l in "${summary[@]}"; do
	say "$l"
done
if [ ${#failed[@]} -gt 0 ]; then
	say "failures: ${failed[*]}"
	exit 1
fi
say "no findings"
