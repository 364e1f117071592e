#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make demo`: trace the bundled examples examples/heavy.c and
# examples/webserver.c and write their reports to demo-out/ and
# demo-out/webserver/: JSON, SVG and PNG.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${DEMO_OUT:-demo-out}"

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: ttbpf loads BPF programs: run it as root (sudo make demo)" >&2
	exit 1
fi
# under sudo, a report directory belongs to the user who asked for it
mkdir_owned() {
	mkdir -p "$1"
	if [ -n "${SUDO_UID:-}" ] && [ -n "${SUDO_GID:-}" ]; then
		chown "$SUDO_UID:$SUDO_GID" "$1"
	fi
}
mkdir_owned "$out"

echo "demo: tracing build/examples/heavy (sessions, a pipeline, an LRU cache, 8 workers)" >&2
build/ttbpf -o "$out" -- build/examples/heavy
echo >&2
# the web server: every block a TT_TRACK_VAR in a loop or a thread names
mkdir_owned "$out/webserver"
echo "demo: tracing build/examples/webserver (100 requests, 4 workers, named variables)" >&2
build/ttbpf -o "$out/webserver" -- build/examples/webserver
echo >&2
echo "demo: reports written:" >&2
ls -l "$out" "$out/webserver" >&2
