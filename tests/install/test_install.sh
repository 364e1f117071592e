#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `make install` into a staging directory, then what was installed used as a
# user would: the binary, `man -l` on the page (no warnings), pkg-config and
# a C and a C++ compile against tt.h, bash completion; every option of
# `ttbpf --help` in the man page and in the completion (so they cannot
# drift); `make uninstall` leaves nothing. Run by `make install-check` (part
# of `make test`) from the repository root; needs no root.
set -uo pipefail

OUT=${OUT:-build}
MAKE=${MAKE:-make}
fails=0
n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); fails=$((fails + 1)); echo "FAIL $n - $1" >&2; }
check() { # check NAME COMMAND...
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name"; fi
}

version=$(sed -n 's/^#define TT_VERSION "\(.*\)"/\1/p' user/options.c)
[ -n "$version" ] || { echo "test_install: no TT_VERSION in user/options.c" >&2; exit 1; }

stage=$tmp/stage
if ! $MAKE --no-print-directory -s OUT="$OUT" install DESTDIR="$stage" PREFIX=/usr >"$tmp/make.log" 2>&1; then
	cat "$tmp/make.log" >&2
	fail "make install DESTDIR=... PREFIX=/usr"
	exit 1
fi
ok "make install DESTDIR=... PREFIX=/usr"

bin=$stage/usr/bin/ttbpf
page=$stage/usr/share/man/man1/ttbpf.1
comp=$stage/usr/share/bash-completion/completions/ttbpf
pc=$stage/usr/share/pkgconfig/ttbpf.pc
hdr=$stage/usr/include/tt.h

mode_is() { [ "$(stat -c %a "$1" 2>/dev/null)" = "$2" ]; }
check "bin/ttbpf installed, mode 755" mode_is "$bin" 755
for f in "$page" "$comp" "$pc" "$hdr"; do
	check "${f#"$stage"/} installed, mode 644" mode_is "$f" 644
done
check "tt.h installed is include/tt.h" cmp -s "$hdr" include/tt.h
check "the man page installed is docs/ttbpf.1" cmp -s "$page" docs/ttbpf.1

# the binary
check "installed ttbpf --version says 'ttbpf $version'" \
	test "$("$bin" --version 2>&1)" = "ttbpf $version"
"$bin" --help >"$tmp/help" 2>&1
check "installed ttbpf --help exits 0" test $? -eq 0
check "installed ttbpf --help prints the usage" grep -q '^Usage: ttbpf' "$tmp/help"
"$bin" --no-such-option >/dev/null 2>&1
check "installed ttbpf with a bad option exits 2" test $? -eq 2

# the man page: renders, without a warning, with its sections
MANWIDTH=80 man --warnings -l "$page" >"$tmp/man.out" 2>"$tmp/man.err"
check "man -l exits 0" test $? -eq 0
check "man -l prints no warning" test ! -s "$tmp/man.err"
[ -s "$tmp/man.err" ] && cat "$tmp/man.err" >&2
groff -ww -z -man "$page" 2>"$tmp/groff.err"
check "groff -ww -z -man: no warning" test ! -s "$tmp/groff.err"
for sec in NAME SYNOPSIS DESCRIPTION OPTIONS 'THE REPORT SUBCOMMAND' 'EXIT STATUS' \
	ENVIRONMENT FILES EXAMPLES; do
	check "man page has section $sec" grep -qx "$sec" "$tmp/man.out"
done
check "man page's header names ttbpf $version" grep -q "^\.TH TTBPF 1 .*\"ttbpf $version\"" "$page"

# pkg-config: the staged .pc file, its paths seen under the staging root
pcenv=(env PKG_CONFIG_PATH="$stage/usr/share/pkgconfig" PKG_CONFIG_LIBDIR=/nonexistent
	PKG_CONFIG_SYSROOT_DIR="$stage" PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1)
check "pkg-config --modversion ttbpf is $version" \
	test "$("${pcenv[@]}" pkg-config --modversion ttbpf)" = "$version"
check "pkg-config --variable=includedir ttbpf is /usr/include" \
	test "$(env PKG_CONFIG_PATH="$stage/usr/share/pkgconfig" pkg-config --variable=includedir ttbpf)" = /usr/include
cflags=$("${pcenv[@]}" pkg-config --cflags ttbpf | sed 's/ *$//')
check "pkg-config --cflags ttbpf gives -I<stage>/usr/include ($cflags)" \
	test "$cflags" = "-I$stage/usr/include"
check "pkg-config --libs ttbpf is empty (header-only)" \
	test -z "$("${pcenv[@]}" pkg-config --libs ttbpf | tr -d ' ')"

cat >"$tmp/app.c" <<'EOF'
#include <stdlib.h>
#include <tt.h>
int main(void)
{
	char *buf = (char *)malloc(64);
	TT_TRACK_VAR(buf);
	free(buf);
	return 0;
}
EOF
cp "$tmp/app.c" "$tmp/app.cc"
# shellcheck disable=SC2086
cc $cflags -Wall -Werror -o "$tmp/app" "$tmp/app.c" 2>"$tmp/cc.err"
check "a C program compiles with \$(pkg-config --cflags ttbpf)" test $? -eq 0
cat "$tmp/cc.err" >&2
# shellcheck disable=SC2086
cc $cflags -E "$tmp/app.c" >"$tmp/app.i"
# (not piped into grep -q: under pipefail cc's SIGPIPE, once grep has its
# match, would fail the check now and then)
grep -q "\"$stage/usr/include/tt.h\"" "$tmp/app.i"
check "... and its tt.h is the installed one" test $? -eq 0
check "... and it runs" "$tmp/app"
check "... and its marker is a USDT note" sh -c "readelf -n '$tmp/app' | grep -q 'Name: track_var'"
if command -v c++ >/dev/null; then
	# shellcheck disable=SC2086
	c++ $cflags -Wall -Werror -o "$tmp/appxx" "$tmp/app.cc" 2>"$tmp/cxx.err"
	check "a C++ program compiles with \$(pkg-config --cflags ttbpf)" test $? -eq 0
	cat "$tmp/cxx.err" >&2
fi

# bash completion: loads, registers, completes
complete_words() { # complete_words WORD... : the completions of the last word
	bash --norc --noprofile -c '
		source "$1" || exit 3
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_ttbpf
		printf "%s\n" "${COMPREPLY[@]}"' bash "$comp" "$@" | sort | tr '\n' ' ' | sed 's/ $//'
}
check "completion loads and registers ttbpf" \
	bash --norc --noprofile -c "source '$comp' && complete -p ttbpf | grep -q -- '-F _ttbpf ttbpf'"
check "completion: --pi completes to --pid" test "$(complete_words ttbpf --pi)" = "--pid"
check "completion: --unwind offers dwarf fp" test "$(complete_words ttbpf --unwind '')" = "dwarf fp"
check "completion: --folded-w completes to --folded-weight" \
	test "$(complete_words ttbpf --folded-w)" = "--folded-weight"
check "completion: --folded-weight offers bytes count live peak" \
	test "$(complete_words ttbpf --folded-weight '')" = "bytes count live peak"
check "completion: --folded-by offers allocated count live peak" \
	test "$(complete_words ttbpf --folded-by '')" = "allocated count live peak"
check "completion: rep completes to report" test "$(complete_words ttbpf rep)" = "report"
check "completion: dif completes to diff" test "$(complete_words ttbpf dif)" = "diff"
check "completion: diff F --folded-b completes to --folded-by" \
	test "$(complete_words ttbpf diff a.json --folded-b)" = "--folded-by"
check "completion: report F --s offers --sort --stack-lines --svg" \
	test "$(complete_words ttbpf report x.json --s)" = "--sort --stack-lines --svg"
check "completion: --sort offers allocated live peak" \
	test "$(complete_words ttbpf --sort '')" = "allocated live peak"
check "completion: after -- the command is completed" \
	sh -c "test \"\$(cd / && bash --norc --noprofile -c 'source $comp; COMP_WORDS=(ttbpf -- bas); COMP_CWORD=2; _ttbpf; printf \"%s\n\" \"\${COMPREPLY[@]}\"' | grep -cx bash)\" -ge 1"
check "completion: the command's own options are not ttbpf's" \
	test -z "$(complete_words ttbpf -- ls --pi)"

# every option of --help in the man page and in the completion
longs=$(grep -o -- '--[a-z][a-z-]*' "$tmp/help" | sort -u)
shorts=$(grep -oE '^  -[a-zA-Z],' "$tmp/help" | tr -d ' ,' | sort -u)
check "--help lists options (found $(echo "$longs" | wc -w) long, $(echo "$shorts" | wc -w) short)" \
	test "$(echo "$longs" | wc -w)" -ge 20 -a "$(echo "$shorts" | wc -w)" -ge 10
missing_man= missing_comp=
for o in $longs $shorts; do
	roff=${o//-/\\-}
	grep -qF -- "$roff" "$page" || missing_man+=" $o"
	# completing the whole option offers it
	words=$(complete_words ttbpf "$o")
	grep -qx -- "$o" <<<"${words// /$'\n'}" || missing_comp+=" $o"
done
# each subcommand of the usage lines (`ttbpf report ...`, `ttbpf diff ...`):
# offered after `ttbpf`, its section in the man page, its options offered
subs=$(grep -oE '^(Usage:)? +ttbpf [a-z]+' "$tmp/help" | awk '{print $NF}' | sort -u)
check "--help names subcommands (found: $(echo $subs))" test "$(echo "$subs" | wc -w)" -ge 2
for sub in $subs; do
	words=$(complete_words ttbpf "${sub:0:2}")
	grep -qx -- "$sub" <<<"${words// /$'\n'}" || missing_comp+=" $sub"
	grep -qx "THE ${sub^^} SUBCOMMAND" "$tmp/man.out" || missing_man+=" $sub"
	for o in $(grep -E "^(Usage:)? +ttbpf $sub " "$tmp/help" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		words=$(complete_words ttbpf "$sub" x.json "$o")
		grep -qx -- "$o" <<<"${words// /$'\n'}" || missing_comp+=" $sub:$o"
	done
done
check "every option of --help is in the man page${missing_man:+ (missing:$missing_man)}" test -z "$missing_man"
check "every option of --help is offered by the completion${missing_comp:+ (missing:$missing_comp)}" test -z "$missing_comp"

# the default prefix is /usr/local
def=$tmp/default
$MAKE --no-print-directory -s OUT="$OUT" install DESTDIR="$def" >"$tmp/make2.log" 2>&1
check "make install with no PREFIX installs under /usr/local" \
	test -x "$def/usr/local/bin/ttbpf" -a -f "$def/usr/local/share/pkgconfig/ttbpf.pc"
check "... and its .pc file says includedir=/usr/local/include" \
	grep -qx 'includedir=/usr/local/include' "$def/usr/local/share/pkgconfig/ttbpf.pc"

# uninstall removes every file install put there
$MAKE --no-print-directory -s OUT="$OUT" uninstall DESTDIR="$stage" PREFIX=/usr >"$tmp/make3.log" 2>&1
check "make uninstall exits 0" test $? -eq 0
left=$(find "$stage" -type f | sed "s|^$stage||")
check "make uninstall leaves no file${left:+ (left: $left)}" test -z "$left"

echo "test_install: $((n - fails)) of $n passed"
[ "$fails" -eq 0 ]
