#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make demo`: trace a bundled example (examples/heavy.c) and write its reports
# to demo-out/: JSON, SVG and PNG.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${DEMO_OUT:-demo-out}"

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: ttbpf loads BPF programs: run it as root (sudo make demo)" >&2
	exit 1
fi
mkdir -p "$out"
# under sudo, the directory belongs to the user who asked for it
if [ -n "${SUDO_UID:-}" ] && [ -n "${SUDO_GID:-}" ]; then
	chown "$SUDO_UID:$SUDO_GID" "$out"
fi

echo "demo: tracing build/examples/heavy (sessions, a pipeline, an LRU cache, 8 workers)" >&2
build/ttbpf -o "$out" -- build/examples/heavy
echo >&2
echo "demo: reports written:" >&2
ls -l "$out" >&2
