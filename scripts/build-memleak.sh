#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Obtains bcc's libbpf-tools memleak for the benchmark (scripts/bench.sh) and
# prints the path of a command that runs it: nothing else goes to stdout, so
#
#   MEMLEAK=$(scripts/build-memleak.sh) scripts/bench.sh
#
# works. Idempotent: once build/memleak/memleak works, it only prints it.
# Exits non-zero, saying why on stderr, when memleak cannot be had.
#
# Where it comes from (tests/bench/README.md says why this way):
#   1. an installed memleak-libbpf (Debian 13's package libbpf-tools ships it);
#   2. otherwise Debian's own build, from the archive of the suite
#      $MEMLEAK_SUITE (default trixie): packages libbpf-tools (memleak-libbpf,
#      libbpf linked in) and libc6, downloaded with apt through a private
#      configuration under build/memleak/apt/ (nothing under /etc/apt is
#      touched, nothing is installed) and unpacked under build/memleak/root/.
#      That build needs glibc 2.38, and Debian 12 has 2.36: build/memleak/memleak
#      runs it with the unpacked glibc's loader. Only memleak's own process uses
#      that glibc; the programs it traces keep the system's.
# Debian 12's bcc (0.26.0) predates memleak in libbpf-tools (bcc 0.27.0).
#
# Environment:
#   MEMLEAK_SUITE=S    Debian suite to take libbpf-tools and libc6 from (trixie)
#   MEMLEAK_MIRROR=U   Debian mirror (default: the one apt uses for this system)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=$ROOT/build/memleak
WRAPPER=$DIR/memleak
SUITE=${MEMLEAK_SUITE:-trixie}

die() { echo "build-memleak: $*" >&2; exit 1; }
note() { echo "build-memleak: $*" >&2; }

# a command that runs and says its version is a usable memleak
works() { "$1" --version > /dev/null 2>&1; }

if [ -x "$WRAPPER" ] && works "$WRAPPER"; then
	echo "$WRAPPER"
	exit 0
fi
for m in "$(command -v memleak-libbpf || true)" /usr/sbin/memleak-libbpf; do
	if [ -n "$m" ] && [ -x "$m" ] && works "$m"; then
		echo "$m"
		exit 0
	fi
done

if ! command -v apt-get > /dev/null || ! command -v dpkg-deb > /dev/null; then
	die "needs apt-get and dpkg-deb (a Debian system) to fetch Debian's libbpf-tools"
fi
arch=$(dpkg --print-architecture)
[ "$arch" = amd64 ] || die "only amd64 is handled (this is $arch): the glibc loader's path is amd64's"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || die "$keyring is missing (package debian-archive-keyring)"

# shellcheck source=/dev/null
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
mirror=${MEMLEAK_MIRROR:-}
if [ -z "$mirror" ] && [ -n "$codename" ]; then
	# shellcheck disable=SC2016 # $(REPO_URI) is apt's, not the shell's
	mirror=$(apt-get indextargets --format '$(REPO_URI)' "Codename: $codename" "Component: main" 2> /dev/null |
		grep -v -- '-security' | head -n 1 || true)
fi
mirror=${mirror:-http://deb.debian.org/debian/}

# A private apt: its own sources, lists and caches, the system's apt.conf.d
# (proxies and the like) kept.
APT=$DIR/apt
rm -rf "$APT"
mkdir -p "$APT/lists/partial" "$APT/sources.list.d" "$APT/debs"
echo "deb [arch=$arch signed-by=$keyring] $mirror $SUITE main" > "$APT/sources.list"
apt_opts=(
	-o "Dir::Etc::SourceList=$APT/sources.list"
	-o "Dir::Etc::SourceParts=$APT/sources.list.d"
	-o "Dir::State::Lists=$APT/lists"
	-o "Dir::Cache::pkgcache="
	-o "Dir::Cache::srcpkgcache="
	-o "APT::Sandbox::User=root"
)
LOG=$APT/log
note "fetching libbpf-tools and libc6 from Debian $SUITE ($mirror), log in ${LOG#"$ROOT"/}"
if ! timeout 300 apt-get "${apt_opts[@]}" update > "$LOG" 2>&1; then
	tail -n 5 "$LOG" >&2
	die "apt-get update for Debian $SUITE failed (see ${LOG#"$ROOT"/})"
fi
if ! (cd "$APT/debs" && timeout 300 apt-get "${apt_opts[@]}" download "libbpf-tools/$SUITE" "libc6/$SUITE") >> "$LOG" 2>&1; then
	tail -n 5 "$LOG" >&2
	die "cannot download libbpf-tools and libc6 from Debian $SUITE (see ${LOG#"$ROOT"/})"
fi

NEW=$DIR/root.new
rm -rf "$NEW"
mkdir -p "$NEW"
for deb in "$APT"/debs/*.deb; do
	dpkg-deb -x "$deb" "$NEW" || die "cannot unpack $deb"
done
versions=$(for deb in "$APT"/debs/*.deb; do
	echo "$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)"
done | paste -sd, - | sed 's/,/, /g')
tools_version=$(dpkg-deb -f "$APT"/debs/libbpf-tools_*.deb Version)
[ -x "$NEW/usr/sbin/memleak-libbpf" ] ||
	die "Debian $SUITE's libbpf-tools $tools_version ships no usr/sbin/memleak-libbpf"
loader=usr/lib64/ld-linux-x86-64.so.2
libdir=usr/lib/x86_64-linux-gnu
if [ ! -x "$NEW/$loader" ] || [ ! -e "$NEW/$libdir/libc.so.6" ]; then
	die "Debian $SUITE's libc6 has no $loader or $libdir/libc.so.6"
fi

# what memleak does not use: libbpf-tools' other tools, docs, iconv modules
find "$NEW/usr/sbin" -mindepth 1 ! -name memleak-libbpf -delete
rm -rf "${NEW:?}/usr/share" "${NEW:?}/$libdir/gconv"
rm -rf "$DIR/root"
mv "$NEW" "$DIR/root"
# The unpacked glibc first, then the system's directories for the rest
# (libelf, zlib). libbpf, linked in, reads LD_LIBRARY_PATH to find a bare
# library name such as memleak's default -O libc.so.6: it is left alone.
cat > "$WRAPPER.new" <<EOF
#!/bin/sh
# Written by scripts/build-memleak.sh: bcc's libbpf-tools memleak as built by
# Debian $SUITE ($versions), run with that glibc's loader.
r=\$(dirname "\$0")/root
exec "\$r/$loader" --library-path "\$r/$libdir:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu" \\
	"\$r/usr/sbin/memleak-libbpf" "\$@"
EOF
chmod 755 "$WRAPPER.new"
works "$WRAPPER.new" || {
	"$WRAPPER.new" --version 2>&1 | tail -n 3 >&2 || true
	die "the unpacked memleak does not run"
}
mv "$WRAPPER.new" "$WRAPPER"
echo "$versions" > "$DIR/VERSIONS"
rm -rf "$APT/lists" "$APT/debs"
note "memleak from Debian $SUITE libbpf-tools $tools_version: $WRAPPER"
echo "$WRAPPER"
