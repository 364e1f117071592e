// SPDX-License-Identifier: Apache-2.0
/*
 * ttbpf diff on small hand-made reports: stacks matched by their frames'
 * names (not addresses), added up when they name the same frames, sorted by
 * the change in live bytes, cut at --top; the folded "stack OLD NEW" lines;
 * names from the target never reach the terminal as control characters; bad
 * input is an error, never a half-written output.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "diff.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ttbpf-diff.XXXXXX");
	cr_assert(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(diff, .init = setup, .fini = teardown);

static const char *path_of(const char *name)
{
	static char buf[4][128];
	static int i;
	char *b = buf[i++ % 4];

	snprintf(b, sizeof(buf[0]), "%s/%s", dir, name);
	return b;
}

static const char *put(const char *name, const char *text)
{
	const char *p = path_of(name);
	FILE *f = fopen(p, "w");

	cr_assert(f);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	return p;
}

/* A frame: symbol (NULL: none) in module at ip. */
#define FR(ip, sym, mod, off) \
	"{\"ip\":\"" ip "\",\"symbol\":" sym ",\"offset\":" off ",\"module\":" mod "}"
#define ST(end, fig, frames)                                                            \
	"{\"id\":1,\"end\":\"" end "\",\"call_site\":0," fig ",\"frames\":[" frames "]}"
#define FIG(allocs, bytes, cnt, live, pcnt, pbytes)                                     \
	"\"allocations\":" #allocs ",\"bytes\":" #bytes ",\"live_count\":" #cnt               \
	",\"live_bytes\":" #live ",\"at_peak_blocks\":" pcnt ",\"at_peak_bytes\":" pbytes
#define REPORT(live, blocks, allocs, stacks)                                            \
	"{\"format_version\":1,\"stats\":{\"active_memory\":" #live                         \
	",\"active_allocations\":" #blocks ",\"total_allocations\":" #allocs "},"           \
	"\"timeline\":{\"points\":[1,2,3]},\"stacks\":[" stacks "]}"

#define MAIN(ip) FR(ip, "\"main\"", "\"/bin/app\"", "4")

/* old: parse (0x1000) holds 100 in 1; util.so+0x40 holds 50; grow 0;
 * new (other addresses, as after ASLR): parse holds 400 in 3 through two
 * stacks (two return addresses in it), util.so+0x40 still 50, grow 1000. */
static const char old_json[] = REPORT(
	150, 2, 10,
	ST("root", FIG(2, 200, 1, 100, "1", "100"), FR("0x1000", "\"parse\"", "\"/bin/app\"", "8") "," MAIN("0x1100")) ","
	ST("root", FIG(1, 50, 1, 50, "1", "50"), FR("0x7f0040", "null", "\"/lib/util.so\"", "64") "," MAIN("0x1100")) ","
	ST("cut", FIG(1, 10, 0, 0, "0", "0"), FR("0x1300", "\"grow\"", "\"/bin/app\"", "0")));
static const char new_json[] = REPORT(
	1450, 5, 13,
	ST("root", FIG(2, 300, 2, 300, "2", "300"), FR("0x2000", "\"parse\"", "\"/bin/app\"", "8") "," MAIN("0x2100")) ","
	ST("root", FIG(1, 100, 1, 100, "0", "0"), FR("0x2010", "\"parse\"", "\"/bin/app\"", "24") "," MAIN("0x2100")) ","
	ST("root", FIG(1, 50, 1, 50, "1", "50"), FR("0x5f0040", "null", "\"/lib/util.so\"", "64") "," MAIN("0x2100")) ","
	ST("cut", FIG(3, 1010, 1, 1000, "1", "1000"), FR("0x2300", "\"grow\"", "\"/bin/app\"", "0")));

static char *run_diff(struct diff_opts *d, int *ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert(f);
	*ret = diff__run(d, f);
	fclose(f);
	return buf;
}

static char *slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert(f, "%s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

Test(diff, matched_by_names_sorted_and_folded)
{
	struct diff_opts d = { put("old.json", old_json), put("new.json", new_json),
			       path_of("d.folded"), FOLDED_LIVE_BYTES, 10 };
	int ret;
	char *out = run_diff(&d, &ret), *grow, *parse;

	cr_assert_eq(ret, 0, "%s", out);
	/* the reports' own totals */
	cr_expect(strstr(out, "live bytes                  150             1450            +1300\n"),
		  "%s", out);
	cr_expect(strstr(out, "allocations                  10               13               +3\n"),
		  "%s", out);
	/* util.so+0x40 did not change: 2 of 3 distinct stacks */
	cr_expect(strstr(out, "2 of 3 stacks changed"), "%s", out);
	cr_expect_null(strstr(out, "util.so"), "%s", out);
	grow = strstr(out, "         +1000           +1           +2  grow < [partial stack]\n");
	parse = strstr(out, "          +300           +2           +1  parse < main\n");
	cr_expect(grow && parse && grow < parse, "grow (+1000) first, then parse (+300):\n%s", out);
	cr_expect_str_eq(slurp(d.folded_path),
			 "[partial stack];grow 0 1000\n"
			 "main;parse 100 400\n"
			 "main;util.so+0x40 50 50\n");
	free(out);

	/* --top 1: the largest only, and how many are left out */
	d.top = 1;
	d.folded_path = NULL;
	out = run_diff(&d, &ret);
	cr_expect(strstr(out, "grow < [partial stack]\n"), "%s", out);
	cr_expect_null(strstr(out, "parse < main"), "%s", out);
	cr_expect(strstr(out, "... and 1 more (--top N shows more)\n"), "%s", out);
	free(out);

	/* weighed by allocations, and by the bytes held at the peak */
	d.top = 10;
	d.folded_path = path_of("c.folded");
	d.weight = FOLDED_ALLOC_COUNT;
	free(run_diff(&d, &ret));
	cr_expect_str_eq(slurp(d.folded_path),
			 "[partial stack];grow 1 3\nmain;parse 2 3\nmain;util.so+0x40 1 1\n");
	d.weight = FOLDED_PEAK_BYTES;
	free(run_diff(&d, &ret));
	cr_expect_eq(ret, 0);
	cr_expect_str_eq(slurp(d.folded_path),
			 "[partial stack];grow 0 1000\nmain;parse 100 300\nmain;util.so+0x40 50 50\n");
}

/* A symbol holding an escape sequence, a C1 control, a newline, ';' and a
 * space: none of it reaches stdout or the folded file as it was. */
Test(diff, target_names_are_escaped)
{
	static const char evil_old[] = REPORT(0, 0, 0, "");
	static const char evil_new[] = REPORT(
		1, 1, 1,
		ST("root", FIG(1, 1, 1, 1, "1", "1"),
		   FR("0x1", "\"x\\u001b[2J\\u009b1m\\ny;z w\"", "\"/a\\u0007b\"", "0") ","
		   FR("0x2", "null", "\"/lib/\\u001b]0;t\\u0007.so\"", "16")));
	struct diff_opts d = { put("o.json", evil_old), put("n.json", evil_new), path_of("e.folded"),
			       FOLDED_LIVE_BYTES, 10 };
	const unsigned char *c;
	int ret;
	char *out = run_diff(&d, &ret), *folded;

	cr_assert_eq(ret, 0);
	for (c = (const unsigned char *)out; *c; c++) {
		cr_expect(*c >= 0x20 || *c == '\n', "control 0x%02x in:\n%s", *c, out);
		cr_expect(*c != 0x7f && !(c[0] == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f));
	}
	cr_expect(strstr(out, "  x?[2J?1m?y_z_w < ?]0_t?.so+0x10\n"), "%s", out);
	folded = slurp(d.folded_path);
	cr_expect_str_eq(folded, "?]0_t?.so+0x10;x?[2J?1m?y_z_w 0 1\n");
	free(out);
}

Test(diff, bad_input_is_an_error)
{
	static const char *const bad[][2] = {
		{ "missing.json", NULL },
		{ "text.json", "hello\n" },
		{ "truncated.json", "{\"stats\":{\"active_memory\":1},\"stacks\":[{\"id\":1,\"fra" },
		{ "other.json", "{\"a\":1}" },
		{ "array.json", "[1,2]" },
		{ "stats_not_object.json", "{\"stats\":5,\"stacks\":[]}" },
	};
	char good[128], folded[128];
	size_t i;

	/* path_of's buffers are reused: keep these */
	snprintf(good, sizeof(good), "%s", put("good.json", old_json));
	snprintf(folded, sizeof(folded), "%s", path_of("never.folded"));

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p = bad[i][1] ? put(bad[i][0], bad[i][1]) : path_of(bad[i][0]);
		struct diff_opts d = { good, p, folded, FOLDED_LIVE_BYTES, 10 };
		int ret;
		char *out = run_diff(&d, &ret);

		cr_expect_lt(ret, 0, "%s was taken", bad[i][0]);
		cr_expect_str_eq(out, "", "%s: nothing on stdout", bad[i][0]);
		cr_expect_neq(access(d.folded_path, F_OK), 0, "%s: no folded file", bad[i][0]);
		free(out);
	}
	/* a directory, and stdin */
	{
		struct diff_opts d = { dir, good, NULL, FOLDED_LIVE_BYTES, 10 };
		int ret;

		free(run_diff(&d, &ret));
		cr_expect_lt(ret, 0);
		d.old_path = "-";
		free(run_diff(&d, &ret));
		cr_expect_lt(ret, 0);
	}
}

/* A report without the breakdown (--aggregate: null) cannot be weighed by
 * peak; the rest of the diff still can. */
Test(diff, peak_needs_the_breakdown)
{
	static const char agg[] = REPORT(
		100, 1, 1, ST("root", FIG(1, 100, 1, 100, "null", "null"), MAIN("0x1")));
	struct diff_opts d = { put("agg.json", agg), put("new.json", new_json), path_of("p.folded"),
			       FOLDED_PEAK_BYTES, 10 };
	int ret;

	free(run_diff(&d, &ret));
	cr_expect_lt(ret, 0);
	cr_expect_neq(access(d.folded_path, F_OK), 0);
	d.weight = FOLDED_LIVE_BYTES;
	free(run_diff(&d, &ret));
	cr_expect_eq(ret, 0);
	cr_expect_str_eq(slurp(d.folded_path), "[partial stack];grow 0 1000\n"
						"main 100 0\n"
						"main;parse 0 400\n"
						"main;util.so+0x40 0 50\n");
}
