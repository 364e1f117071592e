# SPDX-License-Identifier: Apache-2.0
#
#   make            build build/ttbpf
#   make test       install what is missing, build, run the whole suite
#   make demo       install what is missing, build, trace examples/ and write reports
#   make V=1        show full commands
#   make SANITIZE=1 build userspace with AddressSanitizer and UBSan
#   make install    PREFIX=/usr/local by default; DESTDIR=/staging honoured
#   make uninstall  removes what make install put there (same PREFIX, DESTDIR)

.DELETE_ON_ERROR:
.SUFFIXES:

OUT       := build
CLANG     ?= clang
CC        ?= cc
BPFTOOL   ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
ARCH      := x86
PKGS      := libbpf libelf libdw zlib liblzma cairo libprotobuf-c
PROTOC_C  ?= protoc-c

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS    ?= -O2 -g
CFLAGS    += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -fno-omit-frame-pointer
# user/ is grouped by layer (user/README.md); every layer is on the include
# path, so a file includes "heap.h" whichever folder either one is in.
USER_DIRS := user $(patsubst %/,%,$(sort $(dir $(wildcard user/*/*.c user/*/*.h))))
CPPFLAGS  += -I$(OUT) -Ibpf $(addprefix -I,$(USER_DIRS)) -MMD -MP -D_GNU_SOURCE \
	     $(shell pkg-config --cflags cairo 2>/dev/null)
# libstdc++ for __cxa_demangle (C++ names in stacks)
LDLIBS    += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lbpf -ldw -lelf -lz -llzma -lcairo -lprotobuf-c) -lstdc++ -lpthread -lm
ifeq ($(SANITIZE),1)
CFLAGS    += -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS   += -fsanitize=address,undefined
export LSAN_OPTIONS := suppressions=$(CURDIR)/tests/lsan.supp
export ASAN_OPTIONS := detect_leaks=1:abort_on_error=1
endif

MULTIARCH := $(shell $(CC) -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
# usdt.bpf.h includes <linux/errno.h>, which wants the multiarch asm/ headers
BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -idirafter /usr/include/$(MULTIARCH) \
	-Ivmlinux/$(ARCH) -Ibpf -MMD -MP

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(OUT)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))
USER_SRCS := $(wildcard user/*.c user/*/*.c)
# the pprof schema (third_party/pprof/profile.proto), compiled by protoc-c
PROTO_OBJS := $(OUT)/profile.pb-c.o
USER_OBJS := $(patsubst user/%.c,$(OUT)/user/%.o,$(USER_SRCS)) $(PROTO_OBJS)
LIB_OBJS  := $(filter-out $(OUT)/user/main.o,$(USER_OBJS))

# tests/unit/ mirrors user/: tests/unit/<layer>/test_X.c → $(OUT)/tests/<layer>/test_X
UNIT_SRCS := $(wildcard tests/unit/test_*.c tests/unit/*/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))
E2E_SRCS  := $(wildcard tests/e2e/test_*.c)
E2E_BINS  := $(patsubst tests/e2e/%.c,$(OUT)/tests/e2e/%,$(E2E_SRCS))
FIXTURE_SRCS := $(wildcard tests/fixtures/*.c)
FIXTURES  := $(patsubst tests/fixtures/%.c,$(OUT)/fixtures/%,$(FIXTURE_SRCS))
EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLES  := $(patsubst examples/%.c,$(OUT)/examples/%,$(EXAMPLE_SRCS))
TEST_LIBS := -lcriterion -ljansson

.PHONY: all clean deps test unit e2e demo examples fixtures bench fuzz fuzz-replay \
	install uninstall install-check

all: $(OUT)/ttbpf

deps:
	$(Q)scripts/install-deps.sh

$(OUT) $(OUT)/tests $(OUT)/tests/e2e $(OUT)/fixtures $(OUT)/examples:
	$(Q)mkdir -p $@

$(OUT)/%.bpf.o: bpf/%.bpf.c | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# Every userspace object may include a skeleton or the pprof schema's
# header: generate them first.
$(USER_OBJS): $(SKELS) $(OUT)/profile.pb-c.h

# one run of protoc-c makes both files (a pattern rule's targets are grouped)
$(OUT)/%.pb-c.c $(OUT)/%.pb-c.h: third_party/pprof/%.proto | $(OUT)
	$(call msg,PROTOC-C,$@)
	$(Q)$(PROTOC_C) --proto_path=third_party/pprof --c_out=$(OUT) $<

$(OUT)/%.pb-c.o: $(OUT)/%.pb-c.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(OUT)/user/%.o: user/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(OUT)/ttbpf: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/tests/%: tests/unit/%.c $(LIB_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $< $(LIB_OBJS) $(TEST_LIBS) $(LDLIBS) -o $@

# e2e binaries have their own directory: a unit and an e2e test may share a name
$(OUT)/tests/e2e/%: tests/e2e/%.c tests/e2e/e2e.h | $(OUT)/tests/e2e
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $< $(TEST_LIBS) -lpthread -o $@

# test_dashboard also builds the dashboard's data from the report the run
# wrote, as the dashboard does (dash_build, report_draw): it links the objects
$(OUT)/tests/e2e/test_dashboard: tests/e2e/test_dashboard.c tests/e2e/e2e.h $(LIB_OBJS) | $(OUT)/tests/e2e
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $< $(LIB_OBJS) $(TEST_LIBS) $(LDLIBS) -o $@

# (the old place, for names no unit test uses)
$(OUT)/tests/%: tests/e2e/%.c tests/e2e/e2e.h | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $< $(TEST_LIBS) -lpthread -o $@

# Fixtures and examples are traced programs: plain flags, frame pointers,
# no sanitizers (those replace malloc).
TRACED_CFLAGS := -O1 -g -fno-omit-frame-pointer -Wall -Iinclude -pthread

$(OUT)/fixtures/%: tests/fixtures/%.c tests/fixtures/tally.h | $(OUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) $(TRACED_CFLAGS) $< -o $@

$(OUT)/examples/%: examples/%.c | $(OUT)/examples
	$(call msg,CC,$@)
	$(Q)$(CC) $(TRACED_CFLAGS) $< -o $@

# Fixtures that need more than one source file or special flags; before the
# rules that list $(EXTRA_FIXTURES) as prerequisites
include $(wildcard tests/fixtures/*.mk)

fixtures: $(FIXTURES) $(EXTRA_FIXTURES)
examples: $(EXAMPLES)

unit: deps $(UNIT_BINS)
	$(Q)set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

e2e: deps $(OUT)/ttbpf $(E2E_BINS) $(FIXTURES) $(EXTRA_FIXTURES)
	$(Q)set -e; for t in $(E2E_BINS); do echo "== $$t"; TTBPF=$(OUT)/ttbpf FIXTURES=$(OUT)/fixtures $$t --jobs 1; done

# tests/bench/ programs that use the model and reports in-process, for
# scripts/bench.sh (which builds its traced workloads itself)
$(OUT)/tests/bench/%: tests/bench/%.c $(LIB_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

# Installs first, then re-enters make so that pkg-config sees the packages.
test:
	$(Q)scripts/install-deps.sh
	$(Q)$(MAKE) --no-print-directory unit e2e install-check fuzz-replay

# The GNU directory variables (DESTDIR staging, PREFIX/prefix either
# spelling). tt.h is header-only: its pkg-config file is arch-independent,
# so share/pkgconfig, which pkg-config searches under /usr and /usr/local.
PREFIX      ?= /usr/local
prefix      ?= $(PREFIX)
bindir      ?= $(prefix)/bin
includedir  ?= $(prefix)/include
datarootdir ?= $(prefix)/share
mandir      ?= $(datarootdir)/man
man1dir     ?= $(mandir)/man1
pkgconfigdir ?= $(datarootdir)/pkgconfig
bashcompdir ?= $(datarootdir)/bash-completion/completions
INSTALL     ?= install
# the one definition of the version is the one --version prints
VERSION     := $(shell sed -n 's/^\#define TT_VERSION "\(.*\)"/\1/p' user/options.c)

# ttbpf.pc is made from ttbpf.pc.in at each install: its paths are this
# install's
install: $(OUT)/ttbpf
	$(call msg,INSTALL,$(DESTDIR)$(prefix))
	$(Q)$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(includedir) $(DESTDIR)$(man1dir) \
		$(DESTDIR)$(pkgconfigdir) $(DESTDIR)$(bashcompdir)
	$(Q)$(INSTALL) -m 0755 $(OUT)/ttbpf $(DESTDIR)$(bindir)/ttbpf
	$(Q)$(INSTALL) -m 0644 include/tt.h $(DESTDIR)$(includedir)/tt.h
	$(Q)$(INSTALL) -m 0644 docs/ttbpf.1 $(DESTDIR)$(man1dir)/ttbpf.1
	$(Q)sed -e 's|@prefix@|$(prefix)|g' -e 's|@includedir@|$(includedir)|g' \
		-e 's|@version@|$(VERSION)|g' ttbpf.pc.in > $(DESTDIR)$(pkgconfigdir)/ttbpf.pc
	$(Q)chmod 0644 $(DESTDIR)$(pkgconfigdir)/ttbpf.pc
	$(Q)$(INSTALL) -m 0644 completion/ttbpf.bash $(DESTDIR)$(bashcompdir)/ttbpf

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(prefix))
	$(Q)rm -f $(DESTDIR)$(bindir)/ttbpf $(DESTDIR)$(includedir)/tt.h \
		$(DESTDIR)$(man1dir)/ttbpf.1 $(DESTDIR)$(pkgconfigdir)/ttbpf.pc \
		$(DESTDIR)$(bashcompdir)/ttbpf

# make install into a staging directory, then the installed files used as a
# user would: the binary, man, pkg-config with a C compiler, bash completion;
# and every option of --help in the man page and the completion
install-check: $(OUT)/ttbpf
	$(Q)OUT=$(OUT) tests/install/test_install.sh

demo:
	$(Q)scripts/install-deps.sh
	$(Q)$(MAKE) --no-print-directory $(OUT)/ttbpf examples
	$(Q)scripts/demo.sh

# Overhead and throughput against an untraced run, bpftrace and bcc's
# libbpf-tools memleak: prints numbers, asserts nothing. Needs root. Unless
# MEMLEAK is set, gets memleak first (scripts/build-memleak.sh); if that
# fails (it says why), the benchmark runs without memleak's row.
bench:
	$(Q)scripts/install-deps.sh
	$(Q)$(MAKE) --no-print-directory $(OUT)/ttbpf $(OUT)/tests/bench/pprof_write
	$(Q)if [ -z "$${MEMLEAK+set}" ] && m=$$(scripts/build-memleak.sh); then export MEMLEAK="$$m"; fi; \
		scripts/bench.sh

# Coverage-guided fuzzing (libFuzzer) of the code that reads untrusted input,
# for a bounded time (FUZZ_SECONDS per target); crashes become regression
# inputs under tests/fuzz/.
fuzz:
	$(Q)scripts/install-deps.sh
	$(Q)scripts/fuzz.sh

# The fuzzers' seeds and every input that once crashed, replayed (no fuzzing):
# part of the test suite.
fuzz-replay:
	$(Q)FUZZ_SECONDS=0 scripts/fuzz.sh

clean:
	$(call msg,CLEAN,$(OUT))
	$(Q)rm -rf $(OUT)

-include $(wildcard $(OUT)/*.d $(OUT)/user/*.d $(OUT)/user/*/*.d $(OUT)/tests/*.d $(OUT)/tests/*/*.d)
