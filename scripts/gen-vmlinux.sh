#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Regenerates vmlinux/x86/vmlinux.h from the running kernel's BTF.
# The checked-in header is what builds use (CO-RE relocates at load time),
# so this only needs running to pick up types of a newer kernel.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
btf="${1:-/sys/kernel/btf/vmlinux}"
[ -r "$btf" ] || { echo "gen-vmlinux: $btf not readable: kernel built without CONFIG_DEBUG_INFO_BTF?" >&2; exit 1; }
out="$here/vmlinux/x86/vmlinux.h"
tmp="$(mktemp "$out.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
bpftool btf dump file "$btf" format c > "$tmp"
chmod 644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "gen-vmlinux: wrote $out ($(wc -l < "$out") lines)" >&2
