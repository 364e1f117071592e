// SPDX-License-Identifier: Apache-2.0
/*
 * elf_needed__walk on tests/fixtures/callchain's callchain_lib (built by
 * callchain.mk: DT_NEEDED libcallchain.so and libc.so.6, DT_RUNPATH
 * $ORIGIN) and on clang: exactly the files the dynamic linker loads for
 * them (its own list, LD_TRACE_LOADED_OBJECTS); through a symlink ($ORIGIN
 * is the file's own directory); and the refusals.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "elf_needed.h"

#ifndef TT_FIXTURES
#define TT_FIXTURES "build/fixtures" /* the Makefile says which build */
#endif
#define EXE TT_FIXTURES "/callchain_lib"

struct seen {
	char real[64][PATH_MAX];
	size_t cnt;
};

static void record(const char *path, Elf *elf, const struct stat *st, void *ctx)
{
	struct seen *s = ctx;

	cr_assert(elf && S_ISREG(st->st_mode), "%s", path);
	cr_assert_lt(s->cnt, 64);
	cr_assert(realpath(path, s->real[s->cnt]), "%s", path);
	s->cnt++;
}

static bool has(const struct seen *s, const char *path)
{
	char real[PATH_MAX];
	size_t i;

	if (!realpath(path, real))
		return false;
	for (i = 0; i < s->cnt; i++)
		if (!strcmp(s->real[i], real))
			return true;
	return false;
}

/* What the dynamic linker itself loads for exe (LD_TRACE_LOADED_OBJECTS:
 * it maps the libraries and prints them, running none of their code). */
static size_t loaded(const char *exe, struct seen *out)
{
	char cmd[PATH_MAX + 64], line[PATH_MAX + 64], *p, *end;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "LD_TRACE_LOADED_OBJECTS=1 /lib64/ld-linux-x86-64.so.2 %s", exe);
	f = popen(cmd, "r");
	cr_assert(f);
	out->cnt = 0;
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, "=> ");
		p = p ? p + 3 : line + strspn(line, "\t ");
		if (*p != '/')
			continue; /* linux-vdso.so.1 */
		end = strchr(p, ' ');
		if (end)
			*end = '\0';
		cr_assert_lt(out->cnt, 64);
		cr_assert(realpath(p, out->real[out->cnt]), "%s", p);
		out->cnt++;
	}
	cr_assert_eq(pclose(f), 0);
	return out->cnt;
}

static void check_against_ld_so(const char *exe)
{
	struct seen *s = calloc(2, sizeof(*s)), *ld = s + 1;
	char real[PATH_MAX];
	size_t i;

	cr_assert(s);
	cr_assert_eq(elf_needed__walk(exe, record, s), 0, "%s", exe);
	cr_assert(realpath(exe, real));
	cr_expect_str_eq(s->real[0], real, "the executable first");
	cr_assert_gt(loaded(exe, ld), 1);
	/* ld.so lists itself and the libraries, not the executable */
	for (i = 0; i < ld->cnt; i++)
		cr_expect(has(s, ld->real[i]), "%s: %s not found", exe, ld->real[i]);
	cr_expect_eq(s->cnt, ld->cnt + 1, "%s: %zu files, ld.so loads %zu and the executable",
		     exe, s->cnt, ld->cnt);
	free(s);
}

Test(elf_needed, the_files_the_dynamic_linker_loads)
{
	struct seen s = { 0 };

	cr_assert_eq(elf_needed__walk(EXE, record, &s), 0);
	cr_expect(has(&s, TT_FIXTURES "/libcallchain.so"), "$ORIGIN not searched");
	cr_expect(has(&s, "/lib/x86_64-linux-gnu/libc.so.6"));
	check_against_ld_so(EXE);
}

/* clang: 18 libraries, libclang-cpp through $ORIGIN/../lib (the file's own
 * directory, /usr/lib/llvm-14/bin, not /usr/bin's symlink) */
Test(elf_needed, clang_as_ld_so_loads_it)
{
	if (access("/usr/bin/clang", X_OK)) {
		cr_assert(!getenv("CI"), "no clang (installed by scripts/install-deps.sh)");
		cr_skip_test("no /usr/bin/clang");
	}
	check_against_ld_so("/usr/bin/clang");
}

/* $ORIGIN is the directory of the file, not of the name it was reached by */
Test(elf_needed, origin_through_a_symlink)
{
	char dir[] = "/tmp/tt_needed_XXXXXX", link[PATH_MAX], target[PATH_MAX];
	struct seen s = { 0 };

	cr_assert(mkdtemp(dir));
	cr_assert(realpath(EXE, target));
	snprintf(link, sizeof(link), "%s/app", dir);
	cr_assert_eq(symlink(target, link), 0);
	cr_assert_eq(elf_needed__walk(link, record, &s), 0);
	cr_expect(has(&s, TT_FIXTURES "/libcallchain.so"));
	unlink(link);
	rmdir(dir);
}

/* A FIFO at the path is refused at once, not opened for reading (which
 * would block until a writer came); so is a file that is not ELF. */
Test(elf_needed, refusals, .timeout = 10)
{
	char dir[] = "/tmp/tt_needed_XXXXXX", p[PATH_MAX];
	struct seen s = { 0 };
	FILE *f;

	cr_assert(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/fifo", dir);
	cr_assert_eq(mkfifo(p, 0600), 0);
	cr_expect_eq(elf_needed__walk(p, record, &s), -EINVAL);
	unlink(p);
	snprintf(p, sizeof(p), "%s/text", dir);
	f = fopen(p, "w");
	cr_assert(f);
	fputs("#!/bin/sh\n", f);
	fclose(f);
	cr_expect_eq(elf_needed__walk(p, record, &s), -ENOEXEC);
	unlink(p);
	cr_expect_eq(elf_needed__walk("/nonexistent/app", record, &s), -ENOENT);
	cr_expect_eq(s.cnt, 0);
	rmdir(dir);
}
