// SPDX-License-Identifier: Apache-2.0
/*
 * ttbpf diff on two real runs: tests/fixtures/peak_stacks.c with N = 1 and
 * N = 4 differs only in leak_l, which keeps N blocks of 700 bytes. The diff
 * must say exactly that (+2100 live bytes, +3 blocks, +3 allocations), in
 * text and in the folded "stack OLD NEW" file, although the two runs' stacks
 * have other addresses (ASLR): they are matched by their frames' names.
 */
#include "e2e.h"

static void trace_to(const char *dir, const char *name, const char *n)
{
	char path[300];
	struct proc tt;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = run(&tt, (char *[]){ (char *)e2e_tool(), "-q", "--json", path, "--",
				  (char *)e2e_fixture("peak_stacks"), (char *)n, NULL }, 30000);
	cr_assert_eq(rc, 0, "ttbpf exited %d: %s", rc, tt.err);
	proc_free(&tt);
}

/* The first frame of a stack address differs between the runs: ASLR is on
 * (else matching by address would pass too, and prove nothing). */
static void expect_other_addresses(const char *a, const char *b)
{
	json_t *ja = load_json(a), *jb = load_json(b);
	json_t *sa = json_array_get(json_object_get(ja, "stacks"), 0);
	json_t *sb = json_array_get(json_object_get(jb, "stacks"), 0);
	const char *ipa = jstr(json_array_get(json_object_get(sa, "frames"), 0), "ip");
	const char *ipb = jstr(json_array_get(json_object_get(sb, "frames"), 0), "ip");

	cr_expect(ipa && ipb && strcmp(ipa, ipb), "the runs' addresses are the same (%s): no ASLR?",
		  nz(ipa));
	json_decref(ja);
	json_decref(jb);
}

Test(diff, two_runs_give_the_known_difference)
{
	static const char *const same[] = { "keep_a", "keep_b", "temp_e", "start_c",
					    "grow_c", "shrink_c", "churn_d" };
	char a[300], b[300], folded[300], line[128];
	const char *dir, *text, *row;
	struct proc tt;
	size_t i;
	int rc;

	e2e_require_root();
	dir = e2e_tmpdir();
	trace_to(dir, "a.json", "1");
	trace_to(dir, "b.json", "4");
	snprintf(a, sizeof(a), "%s/a.json", dir);
	snprintf(b, sizeof(b), "%s/b.json", dir);
	snprintf(folded, sizeof(folded), "%s/d.folded", dir);
	expect_other_addresses(a, b);

	rc = run(&tt, (char *[]){ (char *)e2e_tool(), "diff", a, b, "--folded", folded, NULL }, 30000);
	cr_assert_eq(rc, 0, "ttbpf diff exited %d: %s", rc, tt.err);
	/* exactly leak_l's three more blocks, and no fixture stack else */
	row = strstr(tt.out, "         +2100           +3           +3  leak_l < main < ");
	cr_expect(row, "no +2100 +3 +3 row for leak_l:\n%s", tt.out);
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		snprintf(line, sizeof(line), "  %s < main", same[i]);
		cr_expect_null(strstr(tt.out, line), "%s did not change:\n%s", same[i], tt.out);
	}
	cr_expect(strstr(tt.out, "live bytes                 5700             7800            +2100\n"),
		  "%s", tt.out);
	proc_free(&tt);

	/* folded: live bytes old and new, the unchanged stacks with equal columns */
	text = e2e_slurp(folded);
	cr_expect(strstr(text, ";main;leak_l 700 2800\n"), "%s", text);
	cr_expect(strstr(text, ";main;keep_a 1000 1000\n"), "%s", text);
	cr_expect(strstr(text, ";main;shrink_c 4000 4000\n"), "%s", text);
	cr_expect_null(strstr(text, "churn_d"), "nothing live there: no line\n%s", text);

	/* and by the figures at the peak: the same in both runs */
	rc = run(&tt, (char *[]){ (char *)e2e_tool(), "diff", a, b, "--folded", folded, "--folded-by",
				  "peak", NULL }, 30000);
	cr_assert_eq(rc, 0, "%s", tt.err);
	text = e2e_slurp(folded);
	cr_expect(strstr(text, ";main;grow_c 5000 5000\n"), "%s", text);
	cr_expect(strstr(text, ";main;keep_a 3000 3000\n"), "%s", text);
	cr_expect_null(strstr(text, "leak_l"), "%s", text);
	proc_free(&tt);
	e2e_rmtree(dir);
}

/* Bad input: exit 1, the reason on stderr, no output file. */
Test(diff, bad_input_exits_1)
{
	char good[300], trunc[300], text[300], folded[300], missing[300];
	const char *dir, *cases[3][2];
	struct proc tt;
	FILE *f;
	size_t i;
	int rc;

	e2e_require_root();
	dir = e2e_tmpdir();
	trace_to(dir, "good.json", "1");
	snprintf(good, sizeof(good), "%s/good.json", dir);
	snprintf(trunc, sizeof(trunc), "%s/trunc.json", dir);
	snprintf(text, sizeof(text), "%s/text.json", dir);
	snprintf(missing, sizeof(missing), "%s/missing.json", dir);
	snprintf(folded, sizeof(folded), "%s/d.folded", dir);
	/* the report cut in the middle */
	{
		const char *all = e2e_slurp(good);

		f = fopen(trunc, "w");
		cr_assert(f);
		fwrite(all, 1, strlen(all) / 2, f);
		fclose(f);
	}
	f = fopen(text, "w");
	cr_assert(f);
	fputs("not json\n", f);
	fclose(f);
	cases[0][0] = missing, cases[0][1] = "No such file or directory";
	cases[1][0] = text, cases[1][1] = "unexpected character at byte 0";
	cases[2][0] = trunc, cases[2][1] = "cannot read";
	for (i = 0; i < 3; i++) {
		rc = run(&tt, (char *[]){ (char *)e2e_tool(), "diff", good, (char *)cases[i][0],
					  "--folded", folded, NULL }, 30000);
		e2e_expect_no_crash(&tt);
		cr_expect_eq(rc, 1, "%s: exit %d", cases[i][0], rc);
		cr_expect(strstr(tt.err, "ttbpf diff: ") && strstr(tt.err, cases[i][0]) &&
			  strstr(tt.err, cases[i][1]), "%s: stderr: %s", cases[i][0], tt.err);
		cr_expect_str_eq(tt.out, "", "nothing on stdout");
		cr_expect_neq(access(folded, F_OK), 0, "no folded file");
		proc_free(&tt);
	}
	e2e_rmtree(dir);
}
