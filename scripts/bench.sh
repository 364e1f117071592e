#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Overhead and throughput of ttbpf, against an untraced run, a bpftrace script
# probing the same functions and (when there is one: see MEMLEAK) bcc's
# libbpf-tools memleak; and, on code without frame pointers (libsqlite3), the
# DWARF unwinder against --unwind fp and bpftrace. Prints numbers and asserts nothing: it exits non-zero
# only when something is broken (a run failed, a tool is missing). Needs root.
# What each row means and how ns/pair is computed: tests/bench/README.md.
#
#   sudo make bench                      # or, once build/ttbpf is built:
#   sudo scripts/bench.sh
#
# Environment:
#   BENCH_RUNS=N     runs of each (workload, tool), interleaved (default 5)
#   BENCH_SCALE=F    multiply every workload's size by F (default 1)
#   BENCH_EXPORT_RUNS=N  runs of the export benchmark (default 1; 0: none)
#   BENCH_LIVE_BLOCKS=N  blocks the export benchmark keeps live (default 1000000)
#   BENCH_PPROF_STACKS=N distinct stacks of the pprof benchmark (default 100000)
#   PPROF_BENCH=PATH the pprof benchmark (default: next to TTBPF, tests/bench/pprof_write)
#   BENCH_INTERVAL_RUNS=N  runs of the --interval benchmark (default 1; 0: none)
#   BENCH_NEWDEL_RUNS=N  runs of the new/delete benchmark (default 3; 0: none)
#   TTBPF=PATH       the ttbpf to measure (default build/ttbpf)
#   BENCH_OUT=DIR    where workloads and logs go (default build/bench)
#   MEMLEAK=PATH     the libbpf-tools memleak to run (default: build/memleak/memleak
#                    if scripts/build-memleak.sh made it, as make bench does;
#                    MEMLEAK= with no value: no memleak row)
set -euo pipefail

cd "$(dirname "$0")/.."

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "needs root (uprobes and BPF): run sudo make bench"

RUNS=${BENCH_RUNS:-5}
SCALE=${BENCH_SCALE:-1}
EXPORT_RUNS=${BENCH_EXPORT_RUNS:-1}
INTERVAL_RUNS=${BENCH_INTERVAL_RUNS:-1}
[[ $INTERVAL_RUNS =~ ^[0-9]+$ ]] || die "BENCH_INTERVAL_RUNS must be an integer, not '$INTERVAL_RUNS'"
NEWDEL_RUNS=${BENCH_NEWDEL_RUNS:-3}
[[ $NEWDEL_RUNS =~ ^[0-9]+$ ]] || die "BENCH_NEWDEL_RUNS must be an integer, not '$NEWDEL_RUNS'"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, not '$RUNS'"
[[ $EXPORT_RUNS =~ ^[0-9]+$ ]] || die "BENCH_EXPORT_RUNS must be an integer, not '$EXPORT_RUNS'"
[[ $SCALE =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]] || die "BENCH_SCALE must be a positive number, not '$SCALE'"
scaled() { awk -v n="$1" -v s="$SCALE" 'BEGIN { v = int(n * s); print (v < 1 ? 1 : v) }'; }

TTBPF=${TTBPF:-build/ttbpf}
[ -x "$TTBPF" ] || die "$TTBPF is not built: run make (or sudo make bench)"
SRC=tests/bench
OUT=${BENCH_OUT:-build/bench}
LOGS=$OUT/runs
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || true)
[ -n "$PY" ] || die "python3 is needed to read ttbpf's JSON (scripts/install-deps.sh installs it)"

# ---------------------------------------------------------------- build
mkdir -p "$OUT"
rm -rf "$LOGS"
mkdir -p "$LOGS"
for prog in loop1 loop2 live1m selfusage; do
	cc -O2 -fno-omit-frame-pointer -pthread -Wall -Wextra \
		-o "$OUT/$prog" "$SRC/$prog.c" || die "cannot build $SRC/$prog.c"
done
# the marker loop of the variables benchmark (a test fixture: it prints its truth)
cc -O2 -fno-omit-frame-pointer -pthread -Wall -Iinclude -o "$OUT/var_patterns" \
	tests/fixtures/var_patterns.c || die "cannot build tests/fixtures/var_patterns.c"
VAR_ITERS=$(scaled 2000000)
# the FP-less workload: the e2e fixture that drives libsqlite3, built as in
# tests/fixtures/sqlite_drive.mk (-O2 -g, no frame pointers)
NOFP_ROWS=$(scaled 3000)
NOFP=
if [ -f /usr/include/sqlite3.h ]; then
	cc -O2 -g -Wall -Wextra -Wno-unused-parameter -o "$OUT/sqlite_drive" \
		tests/fixtures/sqlite_drive/sqlite_drive.c -lsqlite3 ||
		die "cannot build tests/fixtures/sqlite_drive/sqlite_drive.c"
	NOFP=$OUT/sqlite_drive
fi

# the new/delete loop, C++: operator new under glibc's libstdc++ and jemalloc
JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
NEWDEL_OPS=$(scaled 100000)
NEWDEL=
if [ "$NEWDEL_RUNS" -gt 0 ]; then
	if command -v "${CXX:-c++}" > /dev/null; then
		"${CXX:-c++}" -O2 -fno-omit-frame-pointer -Wall -Wextra -o "$OUT/newdel" \
			"$SRC/newdel.cc" || die "cannot build $SRC/newdel.cc"
		NEWDEL=$OUT/newdel
	else
		note "no C++ compiler (${CXX:-c++}): no new/delete benchmark (scripts/install-deps.sh installs g++)"
	fi
fi

LOOP1_PAIRS=$(scaled 100000)
LOOP2_PAIRS=$(scaled 50000)
SQL_ROWS=$(scaled 10000)
LIVE_BLOCKS=${BENCH_LIVE_BLOCKS:-1000000}
[[ $LIVE_BLOCKS =~ ^[1-9][0-9]*$ ]] || die "BENCH_LIVE_BLOCKS must be a positive integer, not '$LIVE_BLOCKS'"

SQLITE=$(command -v sqlite3 || true)
if [ -n "$SQLITE" ]; then
	sed "s/@ROWS@/$SQL_ROWS/g" "$SRC/sqlite.sql" > "$OUT/sqlite.sql"
fi

# ---------------------------------------------------------------- what runs
# Workload commands are plain words: bpftrace -c splits on spaces, no quotes.
declare -A CMD DESC
WORKLOADS=(loop1 loop2)
CMD[loop1]="$OUT/loop1 $LOOP1_PAIRS"
DESC[loop1]="1 thread, $LOOP1_PAIRS malloc+free pairs of 16..1024 B"
CMD[loop2]="$OUT/loop2 $LOOP2_PAIRS"
DESC[loop2]="2 threads, $LOOP2_PAIRS pairs each, 16..1024 B; ns/pair = loop wall time / pairs per thread"
if [ -z "$SQLITE" ]; then
	note "sqlite3 is not installed: no sqlite workload (scripts/install-deps.sh installs it)"
else
	WORKLOADS+=(sqlite)
	CMD[sqlite]="$SQLITE -batch -init $OUT/sqlite.sql :memory:"
	DESC[sqlite]="sqlite3: $SQL_ROWS-row table built, indexed, searched, sorted; ns/pair = statement wall time / pairs counted by ttbpf"
fi
if [ -z "$NOFP" ]; then
	note "no /usr/include/sqlite3.h: no sqlite_nofp workload (scripts/install-deps.sh installs libsqlite3-dev)"
else
	WORKLOADS+=(sqlite_nofp)
	CMD[sqlite_nofp]="$NOFP $NOFP_ROWS"
	DESC[sqlite_nofp]="sqlite_drive $NOFP_ROWS (-O2, no frame pointers, libsqlite3): insert, index, look up, sort; ns/call = the program's work_ns / allocating calls counted by ttbpf"
fi

declare -A SKIP
TOOLS=(untraced ttbpf ttbpf_agg ttbpf_fp bpftrace memleak)
if ! "$TTBPF" --help 2>&1 | grep -qE '(^|[[:space:],])--aggregate([[:space:]=,]|$)'; then
	SKIP[ttbpf_agg]="$TTBPF --help lists no --aggregate option"
fi
if ! "$TTBPF" --help 2>&1 | grep -qE '(^|[[:space:],])--unwind([[:space:]=,]|$)'; then
	SKIP[ttbpf_fp]="$TTBPF --help lists no --unwind option"
fi
# which tools run on which workload: every one on every workload (--unwind
# fp on the frame-pointer loops too: what the DWARF walk costs over it),
# except that the FP-less workload compares the unwinders and bpftrace only
applies() { # workload tool
	case $1/$2 in
	sqlite_nofp/untraced | sqlite_nofp/ttbpf | sqlite_nofp/ttbpf_fp | sqlite_nofp/bpftrace) return 0 ;;
	sqlite_nofp/*) return 1 ;;
	esac
	return 0
}
if ! command -v bpftrace > /dev/null; then
	SKIP[bpftrace]="bpftrace is not installed (scripts/install-deps.sh installs it)"
fi
# memleak is told the libc that the workloads load (its -O keeps 31 characters)
# and an interval, in seconds, longer than any run (see run_memleak)
MEMLEAK_INTERVAL=86400
LIBC=$(ldd "$OUT/loop1" | awk '$1 == "libc.so.6" { print $3 }')
if [ -z "${MEMLEAK+set}" ] && [ -x build/memleak/memleak ]; then
	MEMLEAK=build/memleak/memleak
fi
if [ -n "${MEMLEAK+set}" ] && [ -z "$MEMLEAK" ]; then
	SKIP[memleak]="MEMLEAK is set and empty"
elif [ -z "${MEMLEAK:-}" ]; then
	SKIP[memleak]="no build/memleak/memleak: run scripts/build-memleak.sh (make bench does), or set MEMLEAK=PATH"
elif [ ! -x "$MEMLEAK" ]; then
	SKIP[memleak]="MEMLEAK=$MEMLEAK is not an executable file"
elif [ -z "$LIBC" ] || [ ${#LIBC} -gt 31 ]; then
	SKIP[memleak]="libc path '$LIBC' (from ldd $OUT/loop1) is empty or longer than memleak's -O takes (31)"
else
	note "memleak: $MEMLEAK -p PID -O $LIBC $MEMLEAK_INTERVAL"
fi

declare -A LABEL=(
	[untraced]="untraced"
	[ttbpf]="ttbpf (default, stacks)"
	[ttbpf_agg]="ttbpf --aggregate"
	[ttbpf_fp]="ttbpf --unwind fp"
	[bpftrace]="bpftrace malloc_free.bt"
	[memleak]="libbpf-tools memleak"
)

FAILED=()

# ---------------------------------------------------------------- runners
# Each writes $1.out (the workload's stdout and the tool's), $1.err and
# $1.wall (seconds of the whole command, tool start-up and shutdown included).

run_untraced() {
	local log=$1; shift
	"$@" > "$log.out" 2> "$log.err" < /dev/null
}

run_ttbpf() {
	local log=$1; shift
	"$OUT/selfusage" "$log.usage" "$TTBPF" -q -j "$log.json" -- "$@" \
		> "$log.out" 2> "$log.err" < /dev/null
}

run_ttbpf_agg() {
	local log=$1; shift
	"$OUT/selfusage" "$log.usage" "$TTBPF" -q --aggregate -j "$log.json" -- "$@" \
		> "$log.out" 2> "$log.err" < /dev/null
}

run_ttbpf_fp() {
	local log=$1; shift
	"$OUT/selfusage" "$log.usage" "$TTBPF" -q --unwind fp -j "$log.json" -- "$@" \
		> "$log.out" 2> "$log.err" < /dev/null
}

run_bpftrace() {
	local log=$1; shift
	bpftrace "$SRC/malloc_free.bt" -c "$*" > "$log.out" 2> "$log.err" < /dev/null
}

# memleak attaches to a pid: the workload is started stopped (a subshell that
# stops itself before exec), memleak attaches, then the workload goes on.
# memleak reports every INTERVAL seconds and once more at SIGINT: an interval
# longer than any run leaves that one report, after the workload has exited.
run_memleak() {
	local log=$1; shift
	local wpid mpid rc=0 i
	( kill -STOP "$BASHPID"; exec "$@" ) > "$log.out" 2> "$log.err" < /dev/null &
	wpid=$!
	for ((i = 0; i < 500; i++)); do
		grep -q '^State:[[:space:]]*T' "/proc/$wpid/status" 2> /dev/null && break
		sleep 0.01
	done
	stdbuf -oL -eL "$MEMLEAK" -p "$wpid" -O "$LIBC" "$MEMLEAK_INTERVAL" \
		> "$log.tool.out" 2> "$log.tool.err" < /dev/null &
	mpid=$!
	# libbpf-tools memleak (bcc 0.27 to 0.31 at least) says "Tracing
	# outstanding memory allocs..." once attached (its earlier "tracing
	# kernel: false" is no sign of that); without it the run is not measured
	local attached=
	for ((i = 0; i < 300; i++)); do
		if grep -q 'Tracing outstanding' "$log.tool.out" "$log.tool.err" 2> /dev/null; then
			attached=1
			break
		fi
		kill -0 "$mpid" 2> /dev/null || break
		sleep 0.1
	done
	if [ -z "$attached" ]; then
		kill -INT "$mpid" 2> /dev/null || true
		kill -KILL "$wpid" 2> /dev/null || true
		wait "$wpid" 2> /dev/null || true
		wait "$mpid" 2> /dev/null || true
		echo "memleak did not say 'Tracing outstanding' within 30 s, or exited (see $log.tool.err)" >> "$log.err"
		return 1
	fi
	kill -CONT "$wpid"
	wait "$wpid" || rc=$?
	kill -INT "$mpid" 2> /dev/null || true
	wait "$mpid" 2> /dev/null || true
	return "$rc"
}

# the figures of a ttbpf JSON report that the tables use, as "key value" lines
json_stats() {
	"$PY" - "$1" <<'PYEOF'
import json, sys
j = json.load(open(sys.argv[1]))
st = j.get("stats", {})
d = j.get("duration_ns") or 0
a = j.get("total_allocations", st.get("total_allocations"))
f = st.get("total_frees")
rec = st.get("records")
print("allocations", a)
print("frees", f)
print("lost_events", st.get("lost_events"))
print("records", rec)
print("delay_max_ms", round(st.get("record_delay_max_ns", 0) / 1e6, 1))
print("duration_ns", d)
print("aggregate_only", 1 if st.get("aggregate_only") else 0)
if rec is not None and d:
    print("records_per_s", round(rec / (d / 1e9)))
# free() calls: total_frees also counts the blocks realloc released (no free()
# probe fires for those) and leaves out glibc's own frees at thread exit
if f is not None:
    fc = (f - st.get("reallocs_in_place", 0) - st.get("reallocs_moved", 0)
          + st.get("allocator_internal_frees", 0))
    print("free_calls", fc)
    if a is not None:
        print("pairs", (a + fc) / 2)
# stacks: the share of allocations whose stack ends "root" at _start, and the
# median depth (frames), each allocation counted once
stacks = [(s.get("allocations", 0), s) for s in j.get("stacks", [])]
total = sum(n for n, _ in stacks)
if total:
    root = sum(n for n, s in stacks if s.get("end") == "root" and s.get("frames")
               and s["frames"][-1].get("symbol") == "_start")
    print("root_pct", round(100.0 * root / total, 2))
    seen, want = 0, (total - 1) // 2
    for n, s in sorted(stacks, key=lambda x: len(x[1].get("frames", []))):
        seen += n
        if seen > want:
            print("median_depth", len(s.get("frames", [])))
            break
PYEOF
}

# the measure of one run of a workload: ns per pair (loops) or seconds of the
# program's own statements (sqlite)
measure() {
	local w=$1 f=$2
	case $w in
	sqlite) awk '/^Run Time: real/ { s += $4; n++ } END { if (n) printf "%.3f\n", s }' "$f" ;;
	sqlite_nofp) awk '$1 == "work_ns" { print $2 }' "$f" | tail -n 1 ;;
	*) awk '$1 == "ns_per_pair" { print $2 }' "$f" | tail -n 1 ;;
	esac
}

# ---------------------------------------------------------------- the runs
# Others may rebuild build/ttbpf while this runs: say so if they did.
TTBPF_STAMP=$(stat -c '%Y %s' "$TTBPF")
note "workloads: ${WORKLOADS[*]}; $RUNS runs each, interleaved; logs in $LOGS/"
for ((r = 1; r <= RUNS; r++)); do
	for w in "${WORKLOADS[@]}"; do
		for t in "${TOOLS[@]}"; do
			[ -z "${SKIP[$t]:-}" ] || continue
			applies "$w" "$t" || continue
			log=$LOGS/$w.$t.$r
			read -r -a argv <<< "${CMD[$w]}"
			t0=$EPOCHREALTIME
			rc=0
			"run_$t" "$log" "${argv[@]}" || rc=$?
			t1=$EPOCHREALTIME
			awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' > "$log.wall"
			if [ "$rc" -ne 0 ]; then
				FAILED+=("$w/$t run $r: exit status $rc (see $log.err)")
				rm -f "$log.wall"
			elif [ -z "$(measure "$w" "$log.out")" ]; then
				FAILED+=("$w/$t run $r: the workload printed no timing (see $log.out, $log.err)")
				rm -f "$log.wall"
			elif [[ $t == ttbpf* ]] && ! json_stats "$log.json" > "$log.stats"; then
				FAILED+=("$w/$t run $r: no readable JSON report $log.json")
				rm -f "$log.wall"
			fi
		done
	done
	note "round $r/$RUNS done"
done

# ---------------------------------------------------------------- reading
median() { # numbers on stdin, one per line; "-" when none
	sort -g | awk '{ a[NR] = $1 } END {
		if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2];
		else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# values of one (workload, tool) over the runs that succeeded
values() {
	local w=$1 t=$2 r
	for ((r = 1; r <= RUNS; r++)); do
		[ -f "$LOGS/$w.$t.$r.wall" ] || continue
		case $3 in
		measure) measure "$w" "$LOGS/$w.$t.$r.out" ;;
		wall) cat "$LOGS/$w.$t.$r.wall" ;;
		*) "$3" "$LOGS/$w.$t.$r" ;;
		esac
	done
}

stat_of() { awk -v k="$2" '$1 == k { print $2 }' "$1.stats" 2> /dev/null; }
v_records_per_s() { stat_of "$1" records_per_s; }
v_lost() { stat_of "$1" lost_events; }
v_delay_max_ms() { stat_of "$1" delay_max_ms; }
v_aggregate_only() { stat_of "$1" aggregate_only; }
v_pairs() { stat_of "$1" pairs; }
v_allocs() { stat_of "$1" allocations; }
v_free_calls() { stat_of "$1" free_calls; }
v_root_pct() { stat_of "$1" root_pct; }
v_median_depth() { stat_of "$1" median_depth; }
v_rss_kb() { awk '$1 == "peak_rss_kb" { print $2 }' "$1.usage" 2> /dev/null; }
v_cpu_user() { awk '$1 == "user_ms" { print $2 }' "$1.usage" 2> /dev/null; }
v_cpu_sys() { awk '$1 == "sys_ms" { print $2 }' "$1.usage" 2> /dev/null; }
v_bt_lost() { # bpftrace says "Lost N events" when its perf buffer overflowed
	{ grep -hoE 'Lost [0-9]+ events' "$1.out" "$1.err" 2> /dev/null || true; } |
		awk '{ s += $2 } END { print s + 0 }'
}
v_bt_allocs() { awk -F': ' '/^@allocs\[/ { s += $2 } END { print s + 0 }' "$1.out"; }
v_bt_frees() { awk -F': ' '/^@frees\[/ { s += $2 } END { print s + 0 }' "$1.out"; }
maxof() { sort -g | tail -n 1; }
fmt_mb() { awk -v k="$1" 'BEGIN { if (k == "-" || k == "") print "-"; else printf "%.1f MB", k / 1024 }'; }

# ---------------------------------------------------------------- tables
echo
echo "ttbpf benchmark: $(uname -r), $(nproc) CPUs, BENCH_RUNS=$RUNS, BENCH_SCALE=$SCALE; medians over runs"
echo "ns/pair: time per malloc+free pair (see tests/bench/README.md); +ns/pair: minus untraced;"
echo "x untraced, x ttbpf: ns/pair over the untraced row's, over the ttbpf (default) row's; cmd s: whole command, tool start-up and exit included"

for w in "${WORKLOADS[@]}"; do
	echo
	echo "== $w: ${DESC[$w]}"
	declare -A NS=()
	pairs=""
	unit=ns/pair
	if [ "$w" = sqlite ]; then
		pairs=$(values "$w" ttbpf v_pairs | median)
		if [ "$pairs" = "-" ] || [ "$pairs" = 0 ]; then
			echo "   (no ttbpf run succeeded: no pair count, no ns/pair)"
		fi
	elif [ "$w" = sqlite_nofp ]; then
		# the divisor is allocating calls, not pairs; scale: work_ns is in ns
		unit=ns/call
		pairs=$(values "$w" ttbpf v_allocs | median)
		if [ "$pairs" = "-" ] || [ "$pairs" = 0 ]; then
			echo "   (no ttbpf run succeeded: no allocation count, no ns/call)"
		fi
	fi
	for t in "${TOOLS[@]}"; do
		[ -z "${SKIP[$t]:-}" ] || continue
		applies "$w" "$t" || continue
		m=$(values "$w" "$t" measure | median)
		if [ -n "$pairs" ] && [ "$m" != "-" ]; then
			if [ "$pairs" != "-" ] && [ "$pairs" != 0 ]; then
				m=$(awk -v s="$m" -v p="$pairs" -v f="$([ "$w" = sqlite ] && echo 1e9 || echo 1)" \
					'BEGIN { print s * f / p }')
			else
				m="-"
			fi
		fi
		NS[$t]=$m
	done
	printf '   %-26s %10s %10s %11s %9s %8s   %s\n' tool "$unit" "+$unit" "x untraced" "x ttbpf" "cmd s" "runs (ns/pair, or statement s for sqlite, work ns for sqlite_nofp)"
	for t in "${TOOLS[@]}"; do
		applies "$w" "$t" || continue
		if [ -n "${SKIP[$t]:-}" ]; then
			printf '   %-26s skipped: %s\n' "${LABEL[$t]}" "${SKIP[$t]}"
			continue
		fi
		m=${NS[$t]}
		u=${NS[untraced]:--}
		b=${NS[ttbpf]:--}
		wall=$(values "$w" "$t" wall | median)
		runs=$(values "$w" "$t" measure | paste -sd' ' -)
		awk -v m="$m" -v u="$u" -v b="$b" -v t="$t" -v label="${LABEL[$t]}" -v wall="$wall" -v runs="$runs" 'BEGIN {
			if (m == "-") { printf "   %-26s %10s %10s %11s %9s %8s   %s\n", label, "FAILED", "-", "-", "-", wall, runs; exit }
			plus = (t == "untraced" || u == "-") ? "-" : sprintf("%.1f", m - u)
			xu = (u == "-" || u == 0) ? "-" : sprintf("%.1fx", m / u)
			xb = (t == "untraced" || b == "-" || b == 0) ? "-" : sprintf("%.2fx", m / b)
			printf "   %-26s %10.1f %10s %11s %9s %8s   %s\n", label, m, plus, xu, xb, wall, runs
		}'
	done
	if [ "$w" = sqlite ] && [ -n "$pairs" ] && [ "$pairs" != "-" ]; then
		printf '   pairs: %s per run, (allocating calls + free calls) / 2 from ttbpf'"'"'s JSON (median)\n' "$pairs"
	fi
	if [ "$w" = sqlite_nofp ]; then
		printf '   allocating calls: %s per run, from ttbpf'"'"'s JSON (median)\n' "$pairs"
		awk -v d="${NS[ttbpf]:--}" -v b="${NS[bpftrace]:--}" -v f="${NS[ttbpf_fp]:--}" 'BEGIN {
			r1 = (d == "-" || b == "-" || b == 0) ? "-" : sprintf("%.2f", d / b)
			r2 = (d == "-" || f == "-" || f == 0) ? "-" : sprintf("%.2f", d / f)
			printf "   ratios: ttbpf (dwarf) / bpftrace %s, ttbpf (dwarf) / ttbpf --unwind fp %s\n", r1, r2
		}'
		for t in ttbpf ttbpf_fp; do
			[ -z "${SKIP[$t]:-}" ] || continue
			printf '   %s stacks: %s%% of allocations end "root" at _start, median depth %s frames (medians of runs)\n' \
				"${LABEL[$t]}" "$(values "$w" "$t" v_root_pct | median)" "$(values "$w" "$t" v_median_depth | median)"
		done
	fi
	for t in ttbpf ttbpf_agg ttbpf_fp; do
		[ -z "${SKIP[$t]:-}" ] || continue
		applies "$w" "$t" || continue
		rps=$(values "$w" "$t" v_records_per_s | median)
		if [ "$(values "$w" "$t" v_aggregate_only | maxof)" = 1 ]; then
			rps="no records (figures kept in the kernel), so 0"
		fi
		lost=$(values "$w" "$t" v_lost | maxof)
		delay=$(values "$w" "$t" v_delay_max_ms | maxof)
		rss=$(values "$w" "$t" v_rss_kb | median)
		cu=$(values "$w" "$t" v_cpu_user | median)
		cs=$(values "$w" "$t" v_cpu_sys | median)
		printf '   %s: %s records/s, lost events %s (max of runs), longest a record waited %s ms (max of runs), peak RSS %s, own CPU %s ms user + %s ms sys\n' \
			"${LABEL[$t]}" "$rps" "${lost:--}" "${delay:--}" "$(fmt_mb "$rss")" "$cu" "$cs"
	done
	if [ -z "${SKIP[bpftrace]:-}" ]; then
		btl=$(values "$w" bpftrace v_bt_lost | maxof)
		bta=$(values "$w" bpftrace v_bt_allocs | median)
		btf=$(values "$w" bpftrace v_bt_frees | median)
		printf '   bpftrace: lost events %s (max of runs); counted %s allocations, %s free calls (ttbpf: %s, %s)\n' \
			"${btl:--}" "$bta" "$btf" "$(values "$w" ttbpf v_allocs | median)" "$(values "$w" ttbpf v_free_calls | median)"
	fi
	unset NS
done

# ---------------------------------------------------------------- export
# How long ttbpf runs on after its target has exited: draining the ring
# buffer, writing the reports, tearing down. live1m prints the wall-clock
# time (CLOCK_REALTIME) just before it exits; this script takes the time
# ttbpf returns. Three variants tell the parts apart: no report file, JSON
# only, JSON and SVG (the last is the figure asked for).
if [ "$EXPORT_RUNS" -gt 0 ]; then
	echo
	echo "== export: $OUT/live1m allocates $LIVE_BLOCKS blocks (16..271 B), keeps them all live, exits"
	echo "   after exit: ttbpf's return minus the target's last timestamp (drain, reports, teardown)"
	printf '   %-34s %5s %12s %12s %12s %12s %13s %10s %6s\n' \
		"ttbpf -q ... -- live1m" run "after exit s" "trace s" "JSON bytes" "SVG bytes" "peak RSS" "B/live blk" lost
	declare -A EXPORT_ARGS=(
		[1_none]=""
		[2_json]="-j @.json"
		[3_json_svg]="-j @.json --svg @.svg"
	)
	for ((r = 1; r <= EXPORT_RUNS; r++)); do
		for v in 1_none 2_json 3_json_svg; do
			log=$LOGS/export.$v.$r
			args=${EXPORT_ARGS[$v]//@/$log}
			read -r -a extra <<< "$args"
			rc=0
			"$OUT/selfusage" "$log.usage" "$TTBPF" -q "${extra[@]}" -- "$OUT/live1m" "$LIVE_BLOCKS" \
				> "$log.out" 2> "$log.err" < /dev/null || rc=$?
			tend=$EPOCHREALTIME
			texit=$(awk '$1 == "exit_realtime_ns" { print $2 }' "$log.out")
			blocks=$(awk '$1 == "blocks" { print $2 }' "$log.out")
			if [ "$rc" -ne 0 ] || [ -z "$texit" ] || [ -z "$blocks" ]; then
				FAILED+=("export $v run $r: exit status $rc (see $log.err)")
				continue
			fi
			jsz=-; ssz=-; lost=-; dur=-
			if [ -f "$log.json" ]; then
				jsz=$(stat -c %s "$log.json")
				# the stats come before the million live blocks: no need to parse them
				head -c 4000000 "$log.json" > "$log.head"
				lost=$(grep -oE '"lost_events": *[0-9]+' "$log.head" | head -n 1 | grep -oE '[0-9]+$' || true)
				dur=$(grep -oE '"duration_ns": *[0-9]+' "$log.head" | head -n 1 | grep -oE '[0-9]+$' || true)
				dur=$(awk -v d="${dur:-0}" 'BEGIN { printf "%.2f", d / 1e9 }')
				rm -f "$log.head"
			fi
			[ -f "$log.svg" ] && ssz=$(stat -c %s "$log.svg")
			rss=$(v_rss_kb "$log")
			awk -v v="${args//$log/OUT}" -v r="$r" -v te="$tend" -v tx="$texit" -v j="$jsz" -v s="$ssz" \
				-v rss="$rss" -v n="$blocks" -v lost="${lost:--}" -v dur="$dur" 'BEGIN {
				if (v == "") v = "(no report)"
				printf "   %-34s %5d %12.3f %12s %12s %12s %10.1f MB %10.0f %6s\n",
					v, r, te - tx / 1e9, dur, j, s, rss / 1024, rss * 1024 / n, lost
			}'
		done
	done
	echo "   B/live blk: ttbpf's whole peak RSS / live blocks (an upper bound: it includes everything ttbpf maps)"
fi

# ---------------------------------------------------------------- pprof
# --pprof for many distinct stacks: the file's size and how long writing it
# takes, in-process (tests/bench/pprof_write.c; make bench builds it).
PPROF_BENCH=${PPROF_BENCH:-$(dirname "$TTBPF")/tests/bench/pprof_write}
PPROF_STACKS=${BENCH_PPROF_STACKS:-100000}
echo
if [ -x "$PPROF_BENCH" ]; then
	log=$LOGS/pprof
	echo "== pprof: $PPROF_STACKS distinct stacks of 16 frames (4096 addresses in the bench and libc), symbolized"
	if "$PPROF_BENCH" -n "$PPROF_STACKS" -o "$LOGS" > "$log.out" 2> "$log.err"; then
		awk '{ v[$1] = $2 } END {
			printf "   %-34s %12s\n", "pprof file", v["pprof_bytes"] " B (" v["pprof_bytes_per_stack"] " B/stack)"
			printf "   %-34s %12s\n", "first write (symbolizes)", v["pprof_write_first_s"] " s"
			printf "   %-34s %12s\n", "next write (an --interval rewrite)", v["pprof_write_again_s"] " s"
			printf "   %-34s %12s\n", "packed and gzipped to memory", v["pprof_emit_memory_s"] " s"
			printf "   %-34s %12s\n", "the JSON report, for scale", v["json_bytes"] " B, " v["json_write_s"] " s"
		}' "$log.out"
	else
		FAILED+=("pprof: see $log.err")
	fi
else
	note "no $PPROF_BENCH (make bench builds it): no pprof rows"
fi

# ---------------------------------------------------------------- interval
# --interval 1 with LIVE_BLOCKS live blocks: live1m holds them, then makes
# malloc/free pairs for CHURN_S seconds while ttbpf snapshots every second.
# A snapshot forks; the reader is stalled for fork() alone (ttbpf -v says the
# longest), which the records' own longest wait to be read
# (stats.record_delay_max_ns) bounds from the other side. Lost events must
# stay 0. The same run without --interval for comparison.
CHURN_S=8
if [ "$INTERVAL_RUNS" -gt 0 ]; then
	echo
	echo "== interval: $OUT/live1m $LIVE_BLOCKS $CHURN_S: $LIVE_BLOCKS blocks held, then ${CHURN_S} s of malloc/free pairs"
	printf '   %-26s %4s %9s %12s %13s %13s %13s %10s %6s\n' "ttbpf -q -v -j F ..." run snapshots \
		"fork max ms" "fork mean ms" "longest s" "rec. wait ms" "pairs/s" lost
	declare -A IV_ARGS=([1_none]="" [2_interval]="--interval 1")
	for ((r = 1; r <= INTERVAL_RUNS; r++)); do
		for v in 1_none 2_interval; do
			log=$LOGS/interval.$v.$r
			read -r -a extra <<< "${IV_ARGS[$v]}"
			rc=0
			"$TTBPF" -q -v -j "$log.json" "${extra[@]}" -- "$OUT/live1m" "$LIVE_BLOCKS" "$CHURN_S" \
				> "$log.out" 2> "$log.err" < /dev/null || rc=$?
			if [ "$rc" -ne 0 ] || [ ! -f "$log.json" ]; then
				FAILED+=("interval $v run $r: exit status $rc (see $log.err)")
				continue
			fi
			head -c 4000000 "$log.json" > "$log.head"
			lost=$(grep -oE '"lost_events": *[0-9]+' "$log.head" | head -n 1 | grep -oE '[0-9]+$' || true)
			wait=$(grep -oE '"record_delay_max_ns": *[0-9]+' "$log.head" | head -n 1 | grep -oE '[0-9]+$' || true)
			rm -f "$log.head"
			pairs=$(awk '$1 == "churn_pairs_per_s" { print $2 }' "$log.out")
			# "ttbpf: N snapshots, the reader stalled X ms at most (fork), Y ms on average"
			snap=$(grep -E '^ttbpf: [0-9]+ snapshots, the reader stalled' "$log.err" || true)
			awk -v v="${IV_ARGS[$v]:-(no --interval)}" -v r="$r" -v s="$snap" -v w="${wait:-0}" \
				-v p="${pairs:--}" -v lost="${lost:--}" 'BEGIN {
				n = 0; mx = "-"; mean = "-"; took = "-"
				if (s != "") { split(s, f, " "); n = f[2]; mx = f[7]; mean = f[12]; took = f[19] }
				printf "   %-26s %4d %9s %12s %13s %13s %13.1f %10s %6s\n",
					v, r, n, mx, mean, took, w / 1e6, p, lost
			}'
		done
	done
	echo "   fork: the reader's stall per snapshot; longest: a snapshot's fork to its end (the child"
	echo "   writing the reports); rec. wait: the longest any record waited to be read"
fi

# ---------------------------------------------------------------- variables
# A TT_TRACK_VAR in a hot loop (malloc, mark, free; every 1000th block kept):
# what each marked iteration costs, and what the model holds per instance at
# the default --max-vars (1M listed, the rest folded).
echo
echo "== variables: $OUT/var_patterns loop $VAR_ITERS (malloc, TT_TRACK_VAR, free)"
printf '   %-30s %12s %10s %10s %12s %10s %12s %6s\n' \
	run "ns/iter" listed folded "vars bytes" "B/inst" "peak RSS" lost
log=$LOGS/vars.untraced
s0=$EPOCHREALTIME
if "$OUT/var_patterns" loop "$VAR_ITERS" > "$log.out" 2> "$log.err"; then
	awk -v t0="$s0" -v t1="$EPOCHREALTIME" -v n="$VAR_ITERS" 'BEGIN {
		printf "   %-30s %12.1f\n", "untraced", (t1 - t0) * 1e9 / n }'
else
	FAILED+=("variables untraced: see $log.err")
fi
log=$LOGS/vars.ttbpf
s0=$EPOCHREALTIME
if "$OUT/selfusage" "$log.usage" "$TTBPF" -q -j "$log.json" -- "$OUT/var_patterns" loop "$VAR_ITERS" \
	> "$log.out" 2> "$log.err" < /dev/null; then
	t1=$EPOCHREALTIME
	"$PY" - "$log.json" "$s0" "$t1" "$VAR_ITERS" "$(v_rss_kb "$log")" <<'PYEOF'
import json, sys
j = json.load(open(sys.argv[1]))
vs = j["variable_stats"]
n = int(sys.argv[4])
listed = vs["instances_listed"]
print("   %-30s %12.1f %10d %10d %12d %10.1f %9.1f MB %6d" % (
    "ttbpf -q -j (whole run)", (float(sys.argv[3]) - float(sys.argv[2])) * 1e9 / n, listed,
    vs["instances_folded"], vs["memory_bytes"], vs["memory_bytes"] / max(listed, 1),
    int(sys.argv[5] or 0) / 1024, j["stats"]["lost_events"]))
PYEOF
	echo "   ns/iter: wall time of the whole command / iterations (start-up, reports included)"
	echo "   B/inst: the variables model's bytes / listed instances (folded ones that ended hold nothing)"
else
	FAILED+=("variables ttbpf: see $log.err")
fi

# ---------------------------------------------------------------- new/delete
# ::operator new(64) and ::operator delete in a loop (tests/bench/newdel.cc).
# With glibc, operator new is libstdc++'s, which is not probed (the malloc it
# calls is); with LD_PRELOAD=libjemalloc.so.2 and --lib it is jemalloc's,
# seen by plain uprobes on its return instructions (user/elf/ret_sites.c)
# instead of a return probe. LD_PRELOAD is the workload's (env), not ttbpf's.
if [ -n "$NEWDEL" ]; then
	declare -A ND_PRE=([glibc]="" [jemalloc]="env LD_PRELOAD=$JEMALLOC")
	declare -A ND_LIB=([glibc]="" [jemalloc]="--lib $JEMALLOC")
	declare -A ND_LABEL=([glibc]="glibc (libstdc++'s new)" [jemalloc]="jemalloc (LD_PRELOAD, --lib)")
	ND_ALLOCS=(glibc)
	if [ -f "$JEMALLOC" ]; then
		ND_ALLOCS+=(jemalloc)
	else
		note "no $JEMALLOC (Debian's libjemalloc2): no jemalloc new/delete row"
	fi
	for ((r = 1; r <= NEWDEL_RUNS; r++)); do
		for a in "${ND_ALLOCS[@]}"; do
			read -r -a pre <<< "${ND_PRE[$a]}"
			read -r -a lib <<< "${ND_LIB[$a]}"
			log=$LOGS/newdel.$a.untraced.$r
			"${pre[@]}" "$NEWDEL" "$NEWDEL_OPS" > "$log.out" 2> "$log.err" < /dev/null ||
				FAILED+=("new/delete $a untraced run $r: see $log.err")
			log=$LOGS/newdel.$a.ttbpf.$r
			if ! "$TTBPF" -q "${lib[@]}" -j "$log.json" -- "${pre[@]}" "$NEWDEL" "$NEWDEL_OPS" \
				> "$log.out" 2> "$log.err" < /dev/null || ! json_stats "$log.json" > "$log.stats"; then
				FAILED+=("new/delete $a ttbpf run $r: see $log.err")
			fi
		done
	done
	nd_values() { # allocator, untraced or ttbpf, what
		local f r
		for ((r = 1; r <= NEWDEL_RUNS; r++)); do
			f=$LOGS/newdel.$1.$2.$r
			case $3 in
			ns) awk '$1 == "ns_per_op" { print $2 }' "$f.out" 2> /dev/null ;;
			allocs) v_allocs "$f" ;;
			esac
		done
	}
	echo
	echo "== new/delete: $OUT/newdel $NEWDEL_OPS: ::operator new(64) + ::operator delete, 1 thread; medians of $NEWDEL_RUNS runs"
	printf '   %-30s %14s %14s %11s %17s\n' allocator "untraced ns/op" "ttbpf ns/op" "x untraced" "allocations seen"
	for a in "${ND_ALLOCS[@]}"; do
		awk -v l="${ND_LABEL[$a]}" -v u="$(nd_values "$a" untraced ns | median)" \
			-v t="$(nd_values "$a" ttbpf ns | median)" -v n="$(nd_values "$a" ttbpf allocs | median)" 'BEGIN {
			x = (u == "-" || t == "-" || u == 0) ? "-" : sprintf("%.1fx", t / u)
			printf "   %-30s %14s %14s %11s %17s\n", l, u, t, x, n
		}'
	done
	echo "   ns/op: the workload's own loop time / ops; ttbpf: ttbpf -q [--lib] -j F -- WORKLOAD"
	echo "   allocations seen: ttbpf's total_allocations ($NEWDEL_OPS in the loop, 256 warm-up, the runtime's own)"
fi

echo
if [ "$(stat -c '%Y %s' "$TTBPF")" != "$TTBPF_STAMP" ]; then
	echo "NOTE: $TTBPF was rebuilt while the benchmark ran: its rows may mix two builds; run again"
fi
if [ ${#FAILED[@]} -gt 0 ]; then
	echo "bench: ${#FAILED[@]} run(s) failed:" >&2
	printf '  %s\n' "${FAILED[@]}" >&2
	exit 1
fi
