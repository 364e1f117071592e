// SPDX-License-Identifier: Apache-2.0
/*
 * The peak breakdown end to end: tests/fixtures/peak_stacks.c reaches a known
 * peak (10,000 bytes in 8 blocks, from three stacks), then allocates far more
 * in total (churn_d: 200,000 bytes) without a new peak, with frees and
 * reallocs between. stacks[].at_peak_* and --folded-by peak must give that
 * peak exactly.
 */
#include "e2e.h"

static json_t *stack_of(json_t *j, const char *fn)
{
	json_t *stacks = json_object_get(j, "stacks"), *st, *found = NULL;
	size_t i;

	json_array_foreach(stacks, i, st) {
		json_t *f0 = json_array_get(json_object_get(st, "frames"), 0);

		if (f0 && !strcmp(nz(jstr(f0, "symbol")), fn)) {
			cr_assert_null(found, "two stacks start in %s", fn);
			found = st;
		}
	}
	cr_assert_not_null(found, "no stack starts in %s", fn);
	return found;
}

/* The weight of the folded line whose leaf frame is fn (-1: none). */
static long long folded_weight_of(const char *text, const char *fn)
{
	char pat[128];
	const char *s;

	snprintf(pat, sizeof(pat), ";%s ", fn);
	s = strstr(text, pat);
	return s ? strtoll(s + strlen(pat), NULL, 10) : -1;
}

static size_t lines_of(const char *text)
{
	size_t n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

Test(peak, breakdown_is_exact)
{
	static const char *const fns[] = { "keep_a", "keep_b", "grow_c" };
	static const char *const zero[] = { "temp_e", "start_c", "shrink_c", "churn_d", "leak_l" };
	const char *dir;
	char folded[300];
	struct proc tt;
	long long sum = 0;
	json_t *j, *st;
	size_t i;

	e2e_require_root();
	dir = e2e_tmpdir();
	snprintf(folded, sizeof(folded), "%s/peak.folded", dir);
	j = e2e_launch_json(&tt, dir, (char *[]){ "--folded", folded, "--folded-by", "peak", NULL },
			    "peak_stacks", (char *[]){ "3", NULL }, 30000);
	cr_expect_eq(jint(j, "stats.lost_events"), 0);
	cr_expect_eq(jint(j, "stats.peak_memory"), truth(tt.out, "peak_bytes"));
	cr_expect_eq(jint(j, "stats.peak_allocations"), truth(tt.out, "peak_blocks"));
	/* allocated in all: far more than the peak */
	cr_expect_gt(jint(j, "total_allocated"), 20 * jint(j, "stats.peak_memory"));

	for (i = 0; i < 3; i++) {
		char k[64];

		st = stack_of(j, fns[i]);
		snprintf(k, sizeof(k), "%s_at_peak_bytes", fns[i]);
		cr_expect_eq(jint(st, "at_peak_bytes"), truth(tt.out, k), "%s", fns[i]);
		snprintf(k, sizeof(k), "%s_at_peak_blocks", fns[i]);
		cr_expect_eq(jint(st, "at_peak_blocks"), truth(tt.out, k), "%s", fns[i]);
	}
	for (i = 0; i < 5; i++) {
		st = stack_of(j, zero[i]);
		cr_expect_eq(jint(st, "at_peak_bytes"), 0, "%s held nothing at the peak", zero[i]);
		cr_expect_eq(jint(st, "at_peak_blocks"), 0, "%s", zero[i]);
	}
	/* keep_a: 1 of its 3 still live at the end; leak_l's 3 came after */
	cr_expect_eq(jint(stack_of(j, "keep_a"), "live_bytes"), 1000);
	cr_expect_eq(jint(stack_of(j, "leak_l"), "live_bytes"), truth(tt.out, "leak_l_bytes"));
	/* every stack together: the peak, nothing more */
	json_array_foreach(json_object_get(j, "stacks"), i, st)
		sum += jint(st, "at_peak_bytes");
	cr_expect_eq(sum, jint(j, "stats.peak_memory"));

	/* --folded-by peak: those three stacks, root first, nothing else */
	{
		const char *text = e2e_slurp(folded);

		cr_expect_eq(lines_of(text), 3, "folded:\n%s", text);
		cr_expect_eq(folded_weight_of(text, "keep_a"), 3000, "folded:\n%s", text);
		cr_expect_eq(folded_weight_of(text, "keep_b"), 2000, "folded:\n%s", text);
		cr_expect_eq(folded_weight_of(text, "grow_c"), 5000, "folded:\n%s", text);
		cr_expect(strstr(text, "main;keep_a 3000\n"), "folded:\n%s", text);
	}
	json_decref(j);
	proc_free(&tt);
	e2e_rmtree(dir);
}

/* The old spelling --folded-weight takes "peak" too; "bytes" is allocated. */
Test(peak, folded_weight_names)
{
	const char *dir;
	char f1[300], f2[300];
	struct proc tt;
	json_t *j;

	e2e_require_root();
	dir = e2e_tmpdir();
	snprintf(f1, sizeof(f1), "%s/a.folded", dir);
	j = e2e_launch_json(&tt, dir, (char *[]){ "--folded", f1, "--folded-weight", "bytes", NULL },
			    "peak_stacks", (char *[]){ "1", NULL }, 30000);
	cr_expect_eq(folded_weight_of(e2e_slurp(f1), "churn_d"), 200000);
	cr_expect_eq(folded_weight_of(e2e_slurp(f1), "start_c"), 100);
	json_decref(j);
	proc_free(&tt);
	snprintf(f2, sizeof(f2), "%s/b.folded", dir);
	j = e2e_launch_json(&tt, dir, (char *[]){ "--folded", f2, "--folded-weight", "peak", NULL },
			    "peak_stacks", (char *[]){ "1", NULL }, 30000);
	cr_expect_eq(folded_weight_of(e2e_slurp(f2), "grow_c"), 5000);
	cr_expect_eq(folded_weight_of(e2e_slurp(f2), "churn_d"), -1);
	json_decref(j);
	proc_free(&tt);
	e2e_rmtree(dir);
}

/* A run that frees everything: the default (live) folded file is empty, and
 * ttbpf says so and what to use instead. */
Test(peak, empty_folded_says_so)
{
	const char *dir;
	char folded[300];
	struct proc tt;
	json_t *j;

	e2e_require_root();
	dir = e2e_tmpdir();
	snprintf(folded, sizeof(folded), "%s/live.folded", dir);
	j = e2e_launch_json(&tt, dir, (char *[]){ "--folded", folded, NULL }, "peak_stacks",
			    (char *[]){ "2", "free", NULL }, 30000);
	cr_expect_eq(jint(j, "stats.active_memory"), 0);
	cr_expect_str_eq(e2e_slurp(folded), "");
	cr_expect(strstr(tt.err, "live.folded is empty") && strstr(tt.err, "--folded-by allocated"),
		  "stderr:\n%s", tt.err);
	json_decref(j);
	proc_free(&tt);
	e2e_rmtree(dir);
}

/* The kernel's figures have no breakdown: null, not 0; peak is refused. */
Test(peak, aggregate_says_absent)
{
	const char *dir;
	struct proc tt;
	json_t *j, *st;
	size_t i;
	int rc;

	e2e_require_root();
	dir = e2e_tmpdir();
	j = e2e_launch_json(&tt, dir, (char *[]){ "--aggregate", NULL }, "peak_stacks",
			    (char *[]){ "1", NULL }, 30000);
	cr_expect_eq(jint(j, "stats.peak_memory"), 10000);
	cr_assert_gt(json_array_size(json_object_get(j, "stacks")), 0);
	json_array_foreach(json_object_get(j, "stacks"), i, st) {
		cr_expect(json_is_null(json_object_get(st, "at_peak_bytes")));
		cr_expect(json_is_null(json_object_get(st, "at_peak_blocks")));
	}
	json_decref(j);
	proc_free(&tt);
	rc = run(&tt, (char *[]){ (char *)e2e_tool(), "--aggregate", "--folded", "x.folded",
				  "--folded-by", "peak", "--", (char *)e2e_fixture("peak_stacks"),
				  NULL }, 10000);
	cr_expect_eq(rc, 2);
	cr_expect(strstr(tt.err, "--aggregate keeps no per-stack figures at the peak"), "%s", tt.err);
	cr_expect(access("x.folded", F_OK), "nothing written");
	proc_free(&tt);
	e2e_rmtree(dir);
}

/* -f: each process has its own peak and breakdown. A shell runs the fixture
 * twice (fork, exec): each child's report has the fixture's breakdown, the
 * shell's own is not mixed in. */
Test(peak, each_process_its_own)
{
	char json[300], script[1024], path[600];
	const char *dir;
	struct dirent *e;
	struct proc tt;
	int rc, children = 0;
	DIR *dp;

	e2e_require_root();
	dir = e2e_tmpdir();
	snprintf(json, sizeof(json), "%s/t.json", dir);
	snprintf(script, sizeof(script), "%s 1 >/dev/null; %s 2 >/dev/null", e2e_fixture("peak_stacks"),
		 e2e_fixture("peak_stacks"));
	rc = run(&tt, (char *[]){ (char *)e2e_tool(), "-q", "-f", "--json", json, "--", "sh", "-c",
				  script, NULL }, 60000);
	cr_assert_eq(rc, 0, "%s", tt.err);
	proc_free(&tt);
	dp = opendir(dir);
	cr_assert(dp);
	while ((e = readdir(dp))) {
		json_t *j;

		if (strncmp(e->d_name, "t.", 2) || !strcmp(e->d_name, "t.json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		j = load_json(path);
		cr_expect_eq(jint(j, "stats.peak_memory"), 10000, "%s", e->d_name);
		cr_expect_eq(jint(stack_of(j, "keep_a"), "at_peak_bytes"), 3000, "%s", e->d_name);
		cr_expect_eq(jint(stack_of(j, "keep_b"), "at_peak_bytes"), 2000, "%s", e->d_name);
		cr_expect_eq(jint(stack_of(j, "grow_c"), "at_peak_bytes"), 5000, "%s", e->d_name);
		cr_expect_eq(jint(stack_of(j, "leak_l"), "at_peak_bytes"), 0, "%s", e->d_name);
		json_decref(j);
		children++;
	}
	closedir(dp);
	cr_expect_eq(children, 2, "two children's reports");
	/* the shell's: its own stacks add up to its own peak */
	{
		json_t *j = load_json(json), *st;
		long long sum = 0;
		size_t i;

		json_array_foreach(json_object_get(j, "stacks"), i, st)
			sum += jint(st, "at_peak_bytes");
		cr_expect_eq(sum, jint(j, "stats.peak_memory"));
		cr_expect_lt(sum, 10000, "the children's blocks are not the shell's");
		json_decref(j);
	}
	e2e_rmtree(dir);
}
