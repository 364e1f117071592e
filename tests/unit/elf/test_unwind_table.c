// SPDX-License-Identifier: Apache-2.0
/*
 * The unwind-table builder (user/elf/unwind_table.c) against readelf: for every
 * row readelf --debug-dump=frames-interp prints, of the fixtures
 * (tests/fixtures/unwind.mk, built by make before this test) and of the
 * system's libc, the table's row at the row's first byte, its last byte and
 * its middle must say the same CFA rule, return address and rbp rule.
 * Expectations come from readelf's text, never from libdw. Run from the
 * repository root.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unwind_table.h"

#ifndef TT_FIXTURES
#define TT_FIXTURES "build/fixtures" /* the Makefile says which build */
#endif
#define FIX	    TT_FIXTURES "/unwind/"
#define LIBC	    "/lib/x86_64-linux-gnu/libc.so.6"
#define MAX_FDES    (1 << 16)
#define MAX_ROWS    (1 << 18)
#define MAX_COLS    40

/* ---- readelf's view --------------------------------------------------------- */

struct xrow {
	uint64_t loc;
	char cfa[32], rbp[32], ra[32];
};

struct xfde {
	uint64_t lo, hi;
	bool signal;
	size_t first, cnt; /* rows in xrows */
};

struct expect {
	struct xfde *fdes;
	size_t fde_cnt;
	struct xrow *rows;
	size_t row_cnt;
};

static void free_expect(struct expect *x)
{
	free(x->fdes);
	free(x->rows);
	memset(x, 0, sizeof(*x));
}

/*
 * Parses `readelf --debug-dump=frames-interp`: per CIE its augmentation and
 * initial row, per FDE its range and rows (an FDE without instructions has
 * none printed: its CIE's initial row applies).
 */
static void read_expect(const char *path, const char *section, struct expect *x)
{
	struct cie {
		unsigned long off;
		bool signal;
		struct xrow init;
	} *cies = calloc(4096, sizeof(*cies));
	char cmd[PATH_MAX + 64], line[4096], copy[4096], cols[MAX_COLS][16], aug[32] = "";
	size_t cie_cnt = 0, ncols = 0, i;
	bool in_section = false, in_cie = false, in_fde = false;
	struct xfde *cur = NULL;
	struct cie *cur_cie = NULL;
	FILE *p;

	memset(x, 0, sizeof(*x));
	x->fdes = calloc(MAX_FDES, sizeof(*x->fdes));
	x->rows = calloc(MAX_ROWS, sizeof(*x->rows));
	cr_assert(cies && x->fdes && x->rows);
	snprintf(cmd, sizeof(cmd), "readelf -wF '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p)) {
		unsigned long off, len, id, cie_off;
		uint64_t lo, hi, loc;
		char tok[MAX_COLS][32], *save, *w;
		int n;

		if (!strncmp(line, "Contents of the ", 16)) {
			in_section = !strncmp(line + 16, section, strlen(section)) &&
				     line[16 + strlen(section)] == ' ';
			in_cie = in_fde = false;
			continue;
		}
		if (!in_section)
			continue;
		if (sscanf(line, "%lx %lx %lx CIE \"%31[^\"]\"", &off, &len, &id, aug) == 4 ||
		    (sscanf(line, "%lx %lx %lx CIE \"\"", &off, &len, &id) == 3 &&
		     strstr(line, "CIE \"\"") && !(aug[0] = 0))) {
			cr_assert_lt(cie_cnt, 4096);
			cur_cie = &cies[cie_cnt++];
			memset(cur_cie, 0, sizeof(*cur_cie));
			cur_cie->off = off;
			cur_cie->signal = strchr(aug, 'S') != NULL;
			strcpy(cur_cie->init.ra, "u");
			in_cie = true;
			in_fde = false;
			continue;
		}
		if (sscanf(line, "%lx %lx %lx FDE cie=%lx pc=%" SCNx64 "..%" SCNx64, &off, &len, &id,
			   &cie_off, &lo, &hi) == 6) {
			cr_assert_lt(x->fde_cnt, MAX_FDES);
			cur = &x->fdes[x->fde_cnt++];
			cur->lo = lo;
			cur->hi = hi;
			cur->first = x->row_cnt;
			cur->cnt = 0;
			cur_cie = NULL;
			for (i = 0; i < cie_cnt; i++)
				if (cies[i].off == cie_off)
					cur_cie = &cies[i];
			cr_assert_not_null(cur_cie, "FDE at %lx: no CIE %lx", off, cie_off);
			cur->signal = cur_cie->signal;
			in_fde = true;
			in_cie = false;
			continue;
		}
		snprintf(copy, sizeof(copy), "%s", line);
		for (n = 0, w = strtok_r(copy, " \t\n", &save); w && n < MAX_COLS;
		     w = strtok_r(NULL, " \t\n", &save))
			/* a register rule prints as "r10 (r10)": one column */
			if (w[0] != '(' || !n)
				snprintf(tok[n++], sizeof(tok[0]), "%.31s", w);
		if (n >= 2 && !strcmp(tok[0], "LOC")) {
			ncols = (size_t)n;
			for (i = 0; i < ncols; i++)
				snprintf(cols[i], sizeof(cols[i]), "%.15s", tok[i]);
			continue;
		}
		if (n >= 2 && strlen(tok[0]) == 16 && sscanf(tok[0], "%" SCNx64, &loc) == 1 &&
		    (in_cie || in_fde)) {
			struct xrow r = { .loc = loc };

			strcpy(r.rbp, "u");
			strcpy(r.ra, "u");
			for (i = 1; i < (size_t)n && i < ncols; i++) {
				if (!strcmp(cols[i], "CFA"))
					snprintf(r.cfa, sizeof(r.cfa), "%s", tok[i]);
				else if (!strcmp(cols[i], "rbp"))
					snprintf(r.rbp, sizeof(r.rbp), "%s", tok[i]);
				else if (!strcmp(cols[i], "ra"))
					snprintf(r.ra, sizeof(r.ra), "%s", tok[i]);
			}
			if (in_cie) {
				cur_cie->init = r;
			} else {
				cr_assert_lt(x->row_cnt, MAX_ROWS);
				x->rows[x->row_cnt++] = r;
				cur->cnt++;
			}
		}
		if (in_fde && line[0] == '\n' && cur && !cur->cnt) {
			/* no instructions: the CIE's initial row, from the FDE's start */
			cr_assert_lt(x->row_cnt, MAX_ROWS);
			x->rows[x->row_cnt] = cur_cie->init;
			x->rows[x->row_cnt++].loc = cur->lo;
			cur->cnt = 1;
		}
	}
	pclose(p);
	free(cies);
	cr_assert_gt(x->fde_cnt, 0, "readelf found no FDE in %s of %s", section, path);
}

/* What the table must say for a readelf row (exp: any expression kind). */
static void check_row(const struct unwind_table *t, uint64_t addr, const struct xrow *x,
		      bool signal, size_t *checked)
{
	const struct tt_unwind_row *r = unwind_table__find(t, addr);
	unsigned kind, rbp;
	long off;

	cr_assert_not_null(r, "no row at %#" PRIx64, addr);
	kind = tt_unw_kind(r);
	rbp = tt_unw_rbp(r);
	(*checked)++;
	if (!strcmp(x->ra, "u")) {
		cr_assert_eq(kind, TT_UNW_ROOT, "%#" PRIx64 ": ra undefined, kind %s", addr,
			     unwind_kind__str(kind));
		return;
	}
	if (signal || strcmp(x->ra, "c-8")) {
		cr_assert_eq(kind, TT_UNW_UNSUPPORTED, "%#" PRIx64 ": ra %s%s, kind %s", addr, x->ra,
			     signal ? " (signal frame)" : "", unwind_kind__str(kind));
		return;
	}
	if (sscanf(x->cfa, "rsp+%ld", &off) == 1) {
		cr_assert_eq(kind, TT_UNW_CFA_RSP, "%#" PRIx64 ": CFA %s, kind %s", addr, x->cfa,
			     unwind_kind__str(kind));
		cr_assert_eq(r->cfa_off, off, "%#" PRIx64 ": CFA %s, offset %d", addr, x->cfa,
			     r->cfa_off);
	} else if (sscanf(x->cfa, "rbp+%ld", &off) == 1) {
		cr_assert_eq(kind, TT_UNW_CFA_RBP, "%#" PRIx64 ": CFA %s, kind %s", addr, x->cfa,
			     unwind_kind__str(kind));
		cr_assert_eq(r->cfa_off, off, "%#" PRIx64 ": CFA %s, offset %d", addr, x->cfa,
			     r->cfa_off);
	} else if (!strcmp(x->cfa, "exp")) {
		cr_assert(kind == TT_UNW_CFA_PLT11 || kind == TT_UNW_CFA_PLT10 ||
				  kind == TT_UNW_UNSUPPORTED,
			  "%#" PRIx64 ": CFA exp, kind %s", addr, unwind_kind__str(kind));
		if (kind == TT_UNW_UNSUPPORTED)
			return;
	} else {
		cr_assert_eq(kind, TT_UNW_UNSUPPORTED, "%#" PRIx64 ": CFA %s, kind %s", addr, x->cfa,
			     unwind_kind__str(kind));
		return;
	}
	if (!strcmp(x->rbp, "u") || !strcmp(x->rbp, "s")) {
		cr_assert_eq(rbp, TT_UNW_RBP_SAME, "%#" PRIx64 ": rbp %s, rule %u", addr, x->rbp, rbp);
	} else if (sscanf(x->rbp, "c%ld", &off) == 1 && x->rbp[1] == '-') {
		cr_assert_eq(rbp, TT_UNW_RBP_AT_CFA, "%#" PRIx64 ": rbp %s, rule %u", addr, x->rbp,
			     rbp);
		cr_assert_eq(tt_unw_rbp_off(r), off, "%#" PRIx64 ": rbp %s, off %d", addr, x->rbp,
			     tt_unw_rbp_off(r));
	} else {
		cr_assert(rbp == TT_UNW_RBP_UNSUPPORTED || rbp == TT_UNW_RBP_UNDEFINED,
			  "%#" PRIx64 ": rbp %s, rule %u", addr, x->rbp, rbp);
	}
}

/* Every readelf row at its first, middle and last byte (skip: ranges covered
 * by skip, which wins over x there). */
static size_t check_all(const struct unwind_table *t, const struct expect *x,
			const struct expect *skip)
{
	size_t checked = 0, f, i, k;

	for (f = 0; f < x->fde_cnt; f++) {
		const struct xfde *d = &x->fdes[f];

		if (d->lo >= d->hi)
			continue;
		for (i = 0; i < d->cnt; i++) {
			const struct xrow *r = &x->rows[d->first + i];
			uint64_t lo = r->loc, hi = i + 1 < d->cnt ? x->rows[d->first + i + 1].loc : d->hi;
			uint64_t at[3] = { lo, lo + (hi - lo) / 2, hi - 1 };
			bool covered = false;

			if (lo >= hi)
				continue;
			for (k = 0; skip && k < skip->fde_cnt; k++)
				if (lo < skip->fdes[k].hi && hi > skip->fdes[k].lo)
					covered = true;
			if (covered)
				continue;
			for (k = 0; k < 3; k++)
				check_row(t, at[k], r, d->signal, &checked);
		}
	}
	return checked;
}

/* The invariants the BPF side will rely on. */
static void check_shape(const struct unwind_table *t)
{
	size_t cnt, i;
	const struct tt_unwind_row *rows = unwind_table__rows(t, &cnt);

	cr_assert_geq(cnt, 1);
	for (i = 0; i < cnt; i++) {
		cr_assert_lt(tt_unw_kind(&rows[i]), TT_UNW_KIND_CNT);
		if (i) {
			cr_assert_gt(rows[i].pc_off, rows[i - 1].pc_off, "row %zu not sorted", i);
			cr_assert(rows[i].rule != rows[i - 1].rule ||
					  rows[i].cfa_off != rows[i - 1].cfa_off,
				  "row %zu equals the previous one", i);
		}
	}
	cr_assert_eq(tt_unw_kind(&rows[cnt - 1]), TT_UNW_NO_INFO);
	cr_assert_eq(unwind_table__bytes(t) >= cnt * sizeof(*rows), true);
}

static struct unwind_table *build_ok(const char *path, const char *debug)
{
	struct unwind_table_opts o = { .sz = sizeof(o), .debug_path = debug };
	struct unwind_table *t = NULL;
	int err = unwind_table__build(path, &o, &t);

	cr_assert_eq(err, 0, "%s: %s", path, strerror(-err));
	cr_assert_not_null(t);
	check_shape(t);
	return t;
}

static uint64_t nm_addr(const char *path, const char *sym)
{
	char cmd[PATH_MAX + 64], line[512], name[256], type;
	uint64_t addr;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, "%" SCNx64 " %c %255s", &addr, &type, name) == 3 &&
		    !strcmp(name, sym)) {
			pclose(p);
			return addr;
		}
	pclose(p);
	cr_assert_fail("nm: no %s in %s", sym, path);
	return 0;
}

/* ---- against readelf ----------------------------------------------------------- */

Test(unwind_table, fixture_matches_readelf)
{
	struct unwind_table *t = build_ok(FIX "unwind", NULL);
	struct expect x;
	size_t n;

	read_expect(FIX "unwind", ".eh_frame", &x);
	n = check_all(t, &x, NULL);
	cr_assert_gt(n, 60, "only %zu addresses checked", n);
	cr_assert_eq(unwind_table__stats(t)->stopped_at_eh_frame, -1);
	cr_assert_eq(unwind_table__stats(t)->fdes_skipped, 0);
	free_expect(&x);
	unwind_table__free(t);
}

Test(unwind_table, fixture_frames)
{
	struct unwind_table *t = build_ok(FIX "unwind", NULL);
	const struct tt_unwind_row *r;
	uint64_t big = nm_addr(FIX "unwind", "big_frame"), vla = nm_addr(FIX "unwind", "vla_frame");
	uint64_t addr;
	bool saw_big = false, saw_rbp = false;

	/* at a function's first instruction: CFA = rsp + 8, ra at CFA - 8 */
	r = unwind_table__find(t, big);
	cr_assert_eq(tt_unw_kind(r), TT_UNW_CFA_RSP);
	cr_assert_eq(r->cfa_off, 8);
	/* in the body: the 64 KiB frame, and an rbp-based CFA in the VLA one */
	for (addr = big; addr < big + 0x60; addr++) {
		r = unwind_table__find(t, addr);
		saw_big |= tt_unw_kind(r) == TT_UNW_CFA_RSP && r->cfa_off > 65536;
	}
	for (addr = vla; addr < vla + 0x60; addr++) {
		r = unwind_table__find(t, addr);
		if (tt_unw_kind(r) == TT_UNW_CFA_RBP) {
			saw_rbp = true;
			cr_assert_eq(r->cfa_off, 16);
			cr_assert_eq(tt_unw_rbp(r), TT_UNW_RBP_AT_CFA);
			cr_assert_eq(tt_unw_rbp_off(r), -16);
		}
	}
	cr_assert(saw_big, "no row with a 64 KiB frame in big_frame");
	cr_assert(saw_rbp, "no rbp-based CFA in vla_frame");
	/* crt1's _start: ra undefined, the outermost frame */
	cr_assert_eq(tt_unw_kind(unwind_table__find(t, nm_addr(FIX "unwind", "_start"))),
		     TT_UNW_ROOT);
	unwind_table__free(t);
}

/* .plt: the entries' push moves the CFA by 8 from byte 11 of each entry on */
Test(unwind_table, plt_expression)
{
	struct unwind_table *t = build_ok(FIX "unwind", NULL);
	char cmd[256], line[512], name[64];
	uint64_t plt = 0, size = 0, a, s;
	const struct tt_unwind_row *r;
	FILE *p;

	p = popen("readelf -SW " FIX "unwind", "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p)) {
		char *b = strchr(line, ']');

		if (b && sscanf(b + 1, "%63s %*s %" SCNx64 " %*x %" SCNx64, name, &a, &s) == 3 &&
		    !strcmp(name, ".plt")) {
			plt = a;
			size = s;
		}
	}
	pclose(p);
	cr_assert_gt(size, 16, "no .plt in the fixture");
	snprintf(cmd, sizeof(cmd), "readelf -wf " FIX "unwind | grep -c 'DW_OP_lit11'");
	p = popen(cmd, "r");
	cr_assert(fgets(line, sizeof(line), p) && atoi(line) >= 1,
		  "readelf shows no DW_OP_lit11 PLT expression");
	pclose(p);
	/* PLT0 has its own rows; the expression covers the entries after it */
	r = unwind_table__find(t, plt + 16);
	cr_assert_eq(tt_unw_kind(r), TT_UNW_CFA_PLT11, "kind %s", unwind_kind__str(tt_unw_kind(r)));
	cr_assert_eq(r->cfa_off, 8);
	cr_assert_eq(unwind_table__find(t, plt + size - 1), r);
	unwind_table__free(t);
}

Test(unwind_table, gaps_and_ends)
{
	struct unwind_table *t = build_ok(FIX "unwind", NULL);
	const struct tt_unwind_row *rows, *r;
	struct expect x;
	size_t cnt, i, k, gaps = 0;
	uint64_t top = 0;

	read_expect(FIX "unwind", ".eh_frame", &x);
	for (i = 0; i < x.fde_cnt; i++)
		top = x.fdes[i].hi > top ? x.fdes[i].hi : top;
	/* every byte of every gap between FDEs, inside the covered span */
	for (i = 0; i < x.fde_cnt; i++) {
		uint64_t a = x.fdes[i].hi, next = UINT64_MAX;

		for (k = 0; k < x.fde_cnt; k++)
			if (x.fdes[k].lo >= a && x.fdes[k].lo < next)
				next = x.fdes[k].lo;
		if (next == UINT64_MAX || next == a)
			continue;
		for (; a < next; a++) {
			r = unwind_table__find(t, a);
			cr_assert_not_null(r);
			cr_assert_eq(tt_unw_kind(r), TT_UNW_NO_INFO, "gap byte %#" PRIx64 ": %s", a,
				     unwind_kind__str(tt_unw_kind(r)));
			gaps++;
		}
	}
	cr_assert_gt(gaps, 0, "the fixture has no gap between FDEs");
	rows = unwind_table__rows(t, &cnt);
	cr_assert_eq(unwind_table__base(t) + rows[cnt - 1].pc_off, top);
	cr_assert_eq(tt_unw_kind(unwind_table__find(t, top)), TT_UNW_NO_INFO);
	cr_assert_eq(tt_unw_kind(unwind_table__find(t, top + 0x100000)), TT_UNW_NO_INFO);
	cr_assert_null(unwind_table__find(t, 0));
	free_expect(&x);
	unwind_table__free(t);
}

Test(unwind_table, libc_matches_readelf, .timeout = 120)
{
	struct unwind_table *t;
	struct expect x;
	size_t n;

	if (access(LIBC, R_OK))
		cr_skip_test("no %s", LIBC);
	t = build_ok(LIBC, NULL);
	read_expect(LIBC, ".eh_frame", &x);
	n = check_all(t, &x, NULL);
	cr_assert_gt(n, 3 * 20000);
	free_expect(&x);
	unwind_table__free(t);
}

/* .debug_frame of the debug file fills what .eh_frame (crt1's _start only) lacks */
Test(unwind_table, debug_frame_merged)
{
	struct unwind_table *t = build_ok(FIX "unwind_split", FIX "unwind_split.debug");
	struct expect eh, df;
	size_t n;

	read_expect(FIX "unwind_split", ".eh_frame", &eh);
	read_expect(FIX "unwind_split.debug", ".debug_frame", &df);
	n = check_all(t, &eh, NULL);
	n += check_all(t, &df, &eh);
	cr_assert_gt(n, 40);
	cr_assert_gt(unwind_table__stats(t)->fdes_debug_frame, 3);
	cr_assert_eq(tt_unw_kind(unwind_table__find(t, nm_addr(FIX "unwind_split.debug",
								 "vla_frame"))),
		     TT_UNW_CFA_RSP);
	free_expect(&eh);
	free_expect(&df);
	unwind_table__free(t);

	/* without the debug file: only _start has a row */
	t = build_ok(FIX "unwind_split", NULL);
	cr_assert_eq(tt_unw_kind(unwind_table__find(t, nm_addr(FIX "unwind_split.debug",
								 "vla_frame"))),
		     TT_UNW_NO_INFO);
	unwind_table__free(t);
}

/* ---- errors ------------------------------------------------------------------- */

Test(unwind_table, errors)
{
	struct unwind_table *t = (void *)1;

	cr_assert_eq(unwind_table__build(FIX "unwind_nocfi", NULL, &t), -ENODATA);
	cr_assert_null(t);
	cr_assert_eq(unwind_table__build("tests/fixtures/unwind/unwind.c", NULL, &t), -ENOEXEC);
	cr_assert_eq(unwind_table__build(FIX "does-not-exist", NULL, &t), -ENOENT);
	cr_assert_eq(unwind_table__build("/", NULL, &t), -ENOEXEC);
	/* a debug file that is not there: the .eh_frame rows still come */
	{
		struct unwind_table_opts o = { .sz = sizeof(o), .debug_path = FIX "nope.debug" };

		cr_assert_eq(unwind_table__build(FIX "unwind", &o, &t), 0);
		unwind_table__free(t);
	}
}

Test(unwind_table, bounds)
{
	struct unwind_table_opts o = { .sz = sizeof(o), .max_rows = 8 };
	struct unwind_table *t = NULL;
	size_t cnt;

	cr_assert_eq(unwind_table__build(LIBC, &o, &t), 0);
	unwind_table__rows(t, &cnt);
	cr_assert_leq(cnt, 8);
	cr_assert(unwind_table__stats(t)->truncated);
	check_shape(t);
	unwind_table__free(t);

	o = (struct unwind_table_opts){ .sz = sizeof(o), .max_fde_rows = 2 };
	cr_assert_eq(unwind_table__build(FIX "unwind", &o, &t), 0);
	cr_assert_gt(unwind_table__stats(t)->fdes_cut, 0);
	check_shape(t);
	unwind_table__free(t);
}

/* ---- damaged files -------------------------------------------------------------- */

static char *read_all(const char *path, size_t *size)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size);
	cr_assert_not_null(buf);
	cr_assert_eq(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*size = (size_t)st.st_size;
	return buf;
}

static int build_bytes(const char *bytes, size_t size)
{
	char path[] = "/tmp/ttbpf-unwind-XXXXXX";
	struct unwind_table *t = NULL;
	int fd = mkstemp(path), err;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, bytes, size), (ssize_t)size);
	err = unwind_table__build_fd(fd, NULL, &t);
	close(fd);
	unlink(path);
	cr_assert(err <= 0);
	if (!err)
		check_shape(t);
	else
		cr_assert_null(t);
	unwind_table__free(t);
	return err;
}

static uint64_t eh_frame_offset(const char *path, uint64_t *size)
{
	char cmd[PATH_MAX + 32], line[512], name[64];
	uint64_t off = 0, a, o, s;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "readelf -SW '%s'", path);
	p = popen(cmd, "r");
	while (fgets(line, sizeof(line), p)) {
		char *b = strchr(line, ']');

		if (b && sscanf(b + 1, "%63s %*s %" SCNx64 " %" SCNx64 " %" SCNx64, name, &a, &o, &s) == 4 &&
		    !strcmp(name, ".eh_frame")) {
			off = o;
			*size = s;
		}
	}
	pclose(p);
	cr_assert_gt(off, 0);
	return off;
}

Test(unwind_table, truncated_copies)
{
	size_t size, cut;
	char *bytes = read_all(FIX "unwind", &size);

	for (cut = 0; cut < size; cut += cut < 256 ? 16 : 509)
		build_bytes(bytes, cut);
	cr_assert_eq(build_bytes(bytes, size), 0);
	free(bytes);
}

/* Bytes of .eh_frame flipped, one copy per flip: an error or a sane table. */
Test(unwind_table, corrupted_eh_frame, .timeout = 120)
{
	size_t size, i, built = 0;
	uint64_t eh_size = 0, eh = eh_frame_offset(FIX "unwind", &eh_size);
	char *bytes = read_all(FIX "unwind", &size);
	unsigned seed = 12;

	for (i = 0; i < 600; i++) {
		char *copy = malloc(size);
		size_t at = eh + (i < eh_size ? i : (size_t)(rand_r(&seed) % eh_size)), k;

		memcpy(copy, bytes, size);
		copy[at] ^= (char)(i < eh_size ? 0xff : 1u << (rand_r(&seed) % 8));
		/* and a few more flips nearby for the random ones */
		for (k = 0; i >= eh_size && k < 3; k++)
			copy[eh + rand_r(&seed) % eh_size] = (char)rand_r(&seed);
		built += build_bytes(copy, size) == 0;
		free(copy);
	}
	cr_log_info("%zu of 600 corrupted copies still gave a table", built);
	free(bytes);
}

/* Offset in .eh_frame of the fixture's second CIE (the first is crt1's). */
static uint64_t second_cie(const char *bytes, uint64_t eh, uint64_t eh_size)
{
	uint64_t off = 0;
	int cies = 0;

	while (off + 8 <= eh_size) {
		uint32_t len, id;

		memcpy(&len, bytes + eh + off, 4);
		memcpy(&id, bytes + eh + off + 4, 4);
		if (!len)
			break;
		if (!id && ++cies == 2)
			return off;
		off += 4 + len;
	}
	cr_assert_fail("the fixture has one CIE only");
	return 0;
}

/* The fixture with its second CIE damaged by damage(): reading must stop at
 * that CIE, the FDE before it (_start) keep its row, the ones after have none. */
static void check_stops_at_second_cie(void (*damage)(char *cie))
{
	size_t size;
	uint64_t eh_size = 0, eh = eh_frame_offset(FIX "unwind", &eh_size);
	char *bytes = read_all(FIX "unwind", &size);
	char path[] = "/tmp/ttbpf-unwind-XXXXXX";
	struct unwind_table *t = NULL;
	uint64_t second = second_cie(bytes, eh, eh_size);
	int fd;

	damage(bytes + eh + second);
	fd = mkstemp(path);
	cr_assert_eq(write(fd, bytes, size), (ssize_t)size);
	cr_assert_eq(unwind_table__build_fd(fd, NULL, &t), 0);
	close(fd);
	unlink(path);
	check_shape(t);
	cr_assert_eq(unwind_table__stats(t)->stopped_at_eh_frame, (int64_t)second);
	cr_assert_eq(tt_unw_kind(unwind_table__find(t, nm_addr(FIX "unwind", "_start"))), TT_UNW_ROOT);
	cr_assert_eq(tt_unw_kind(unwind_table__find(t, nm_addr(FIX "unwind", "vla_frame"))),
		     TT_UNW_NO_INFO);
	unwind_table__free(t);
	free(bytes);
}

static void bad_version(char *cie)
{
	cie[8] = 9; /* no DWARF has CFI version 9 */
}

/*
 * "zR" CIE: length, id, version, "zR", code and data alignment, ra, augmentation
 * length and byte, then the initial instructions at 17. DW_CFA_same_value
 * r134217727 would make libdw allocate a 2 GiB frame state per lookup.
 */
static void huge_register(char *cie)
{
	cr_assert_eq(memcmp(cie + 9, "zR", 3), 0);
	memcpy(cie + 17, "\x08\xff\xff\xff\x3f", 5);
}

Test(unwind_table, malformed_cie_keeps_what_came_before)
{
	check_stops_at_second_cie(bad_version);
}

Test(unwind_table, huge_register_number_is_malformed, .timeout = 10)
{
	check_stops_at_second_cie(huge_register);
}

Test(unwind_table, libsqlite3_matches_readelf, .timeout = 120)
{
	const char *lib = "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0";
	struct unwind_table *t;
	struct expect x;

	if (access(lib, R_OK))
		cr_skip_test("no %s (Debian package libsqlite3-0)", lib);
	t = build_ok(lib, NULL);
	read_expect(lib, ".eh_frame", &x);
	cr_assert_gt(check_all(t, &x, NULL), 3 * 20000);
	free_expect(&x);
	unwind_table__free(t);
}

/* The estimate sizes the row array before any table is built: it must not be
 * below what the table takes (a file would find no room), nor far above it. */
Test(unwind_table, rows_estimate_covers_the_table, .timeout = 120)
{
	static const char *const files[] = {
		LIBC, "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
		"/usr/lib/x86_64-linux-gnu/libsqlite3.so.0", FIX "unwind_split",
	};
	size_t i, cnt, checked = 0;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct unwind_table *t;
		uint64_t est;
		Elf *elf;
		int fd;

		if (access(files[i], R_OK)) {
			cr_expect(!getenv("CI"), "%s missing", files[i]);
			continue;
		}
		t = build_ok(files[i], NULL);
		unwind_table__rows(t, &cnt);
		fd = open(files[i], O_RDONLY);
		cr_assert_geq(fd, 0);
		elf_version(EV_CURRENT);
		elf = elf_begin(fd, ELF_C_READ, NULL);
		cr_assert(elf);
		est = unwind_table__rows_estimate(elf);
		cr_expect_geq(est, cnt, "%s: estimate %" PRIu64 " < %zu rows", files[i], est, cnt);
		cr_expect_leq(est, 2 * cnt + 64, "%s: estimate %" PRIu64 " for %zu rows", files[i],
			      est, cnt);
		cr_log_info("%s: %zu rows, estimate %" PRIu64, files[i], cnt, est);
		elf_end(elf);
		close(fd);
		unwind_table__free(t);
		checked++;
	}
	cr_assert_gt(checked, 0);
}
