#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian package that building, demoing and testing ttbpf needs.
# Idempotent: does nothing (and needs no network) when all are present.
set -euo pipefail

PKGS=(
	make gcc clang llvm pkg-config          # build; llvm-strip for the BPF object
	g++ man-db groff-base                   # C++ fixtures and tt.h's C++ side; make install-check reads the man page
	bpftool libbpf-dev libelf-dev libdw-dev zlib1g-dev liblzma-dev  # BPF loader, ELF/DWARF, MiniDebugInfo
	libcairo2-dev fonts-dejavu-core         # dashboard (issue 5)
	libprotobuf-c-dev protobuf-c-compiler   # --pprof: profile.proto through protoc-c
	golang-go                               # go tool pprof reads --pprof output in tests
	libcriterion-dev libjansson-dev         # unit tests; JSON parsing in tests
	bpftrace valgrind python3 sqlite3       # independent references in tests
	linux-perf libsqlite3-dev               # perf's DWARF unwinder as a reference; the libsqlite3 fixture
	libjemalloc2                            # --lib with another allocator, in tests
	libclang-rt-14-dev                      # libFuzzer for make fuzz
	binutils systemtap-sdt-dev xz-utils     # readelf, objcopy; <sys/sdt.h>; xz for MiniDebugInfo fixtures
	util-linux mount libc-bin               # unshare, pivot_root, mount, ldd: namespace tests
	sudo                                    # the README says `sudo make ...`
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root (sudo make ...) to install them" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
