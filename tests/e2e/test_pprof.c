// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: --pprof, read back by pprof itself (`go tool pprof`, Debian's
 * golang-go, installed by scripts/install-deps.sh). Every profile a test
 * writes is read with -raw, and its per-sample-type totals must be the JSON
 * report's of the same run exactly; -traces must show the fixtures' known
 * chains (tests/fixtures/callchain.c: main -> mid -> leaf_alloc -> malloc,
 * 100 calls, 40 freed; main -> lib_outer -> lib_alloc in libcallchain.so,
 * 3 calls) with their known counts; the peak columns the known peak of
 * tests/fixtures/peak_stacks.c. With -f (tests/fixtures/forker.c), one
 * profile per process, each the same as that process's JSON.
 *
 * go runs with HOME and GOCACHE in a private directory (it wants both
 * writable, and root's may not be) and GOPROXY=off, GOTOOLCHAIN=local: it
 * never downloads anything. Without go the tests skip, except under CI=true.
 */
#include "e2e.h"

#define TRACE_TIMEOUT_MS 120000
#define GO_TIMEOUT_MS 120000

#define NT 6 /* sample types */
static const char *const types[NT] = { "alloc_objects", "alloc_space", "peak_objects",
				       "peak_space", "inuse_objects", "inuse_space" };
/* the JSON's figures each type must add up to */
static const char *const json_totals[NT] = { "stats.total_allocations", "stats.total_allocated",
					     "stats.peak_allocations", "stats.peak_memory",
					     "stats.active_allocations", "stats.active_memory" };

static char dir[256];

static void setup(void)
{
	const char *ci = getenv("CI");
	char env[300];

	e2e_require_root();
	if (system("command -v go > /dev/null 2>&1")) {
		if (ci && !strcmp(ci, "true"))
			cr_assert_fail("go is not installed (golang-go, scripts/install-deps.sh); "
				       "under CI=true these tests must run");
		cr_skip_test("needs go tool pprof: run scripts/install-deps.sh (golang-go)");
	}
	snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());
	snprintf(env, sizeof(env), "%s/go-home", dir);
	cr_assert_eq(mkdir(env, 0700), 0);
	cr_assert_eq(setenv("HOME", env, 1), 0);
	snprintf(env, sizeof(env), "%s/go-cache", dir);
	cr_assert_eq(setenv("GOCACHE", env, 1), 0);
	cr_assert_eq(setenv("GOPROXY", "off", 1), 0);
	cr_assert_eq(setenv("GOTOOLCHAIN", "local", 1), 0);
	cr_assert_eq(setenv("GOFLAGS", "", 1), 0);
}

static void done_dir(void)
{
	if (dir[0])
		e2e_rmtree(dir);
	dir[0] = '\0';
}

/* `go tool pprof -MODE [-sample_index=INDEX [-unit=B]] FILE`'s stdout, which the
 * caller frees; it must exit 0. */
static char *go_pprof(const char *mode, const char *index, const char *file)
{
	char idx[64], *argv[8];
	struct proc p;
	char *out;
	int n = 0, rc;

	argv[n++] = "go";
	argv[n++] = "tool";
	argv[n++] = "pprof";
	argv[n++] = (char *)mode;
	if (index) {
		snprintf(idx, sizeof(idx), "-sample_index=%s", index);
		argv[n++] = idx;
		/* bytes as plain numbers, not 2.93kB */
		if (ends_with(index, "_space"))
			argv[n++] = "-unit=B";
	}
	argv[n++] = (char *)file;
	argv[n] = NULL;
	rc = run(&p, argv, GO_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "go tool pprof %s %s exited %d:\n%s", mode, file, rc, p.err);
	out = strdup(p.out);
	cr_assert_not_null(out);
	proc_free(&p);
	return out;
}

/* -raw: the sum of each sample type over the samples, in the file's order. */
static void raw_totals(const char *raw, long long total[NT], int *samples)
{
	const char *s = strstr(raw, "\nSamples:\n"), *eol;
	char want[256];
	int i;

	cr_assert_not_null(s, "no samples in:\n%s", raw);
	s += strlen("\nSamples:\n");
	snprintf(want, sizeof(want), "%s/count %s/bytes %s/count %s/bytes %s/count %s/bytes[dflt]\n",
		 types[0], types[1], types[2], types[3], types[4], types[5]);
	cr_assert(!strncmp(s, want, strlen(want)), "sample types, inuse_space the default:\n%.200s",
		  s);
	s += strlen(want);
	memset(total, 0, NT * sizeof(*total));
	*samples = 0;
	while (*s == ' ') {
		char *end;

		for (i = 0; i < NT; i++) {
			total[i] += strtoll(s, &end, 10);
			cr_assert(end != s, "not a sample line: %.80s", s);
			s = end;
		}
		cr_assert_eq(*s, ':', "six values and the locations: %.80s", s);
		(*samples)++;
		eol = strchr(s, '\n');
		cr_assert_not_null(eol);
		s = eol + 1;
	}
	cr_assert(!strncmp(s, "Locations", 9), "after the samples: %.80s", s);
}

/* What `go tool pprof -raw` says of file: totals the JSON's; returns the
 * -raw text (to free). */
static char *expect_same_as_json(const char *file, json_t *j)
{
	char *raw = go_pprof("-raw", NULL, file);
	long long total[NT];
	int i, samples;

	raw_totals(raw, total, &samples);
	for (i = 0; i < NT; i++)
		cr_expect_eq(total[i], jint(j, json_totals[i]), "%s: %s is %lld, the JSON's %s %lld",
			     file, types[i], total[i], json_totals[i], jint(j, json_totals[i]));
	cr_expect_geq((size_t)samples, json_array_size(json_object_get(j, "stacks")) ? 1u : 0u);
	return raw;
}

/*
 * -traces at a count index: the sum of the samples whose stack starts (leaf
 * first) with the functions of chain, NULL-terminated, consecutively.
 */
static long long traces_sum(const char *traces, const char *const *chain)
{
	const char *sep = "-----------+", *s = strstr(traces, sep), *block, *next, *line;
	long long sum = 0, v;
	bool match;
	size_t k, len;
	char *end;

	cr_assert_not_null(s, "no traces in:\n%s", traces);
	/* each trace: "  VALUE   leaf\n  caller\n ..." between two separators */
	while ((block = strchr(s, '\n')) && *++block) {
		next = strstr(block, sep);
		v = strtoll(block, &end, 10);
		cr_assert(end != block, "a trace starts with its value: %.80s", block);
		line = end + strcspn(end, " \n"); /* a unit: "3000B" */
		match = true;
		for (k = 0; chain[k] && match; k++) {
			line += strspn(line, " ");
			len = strcspn(line, "\n");
			match = (!next || line < next) && len == strlen(chain[k]) &&
				!strncmp(line, chain[k], len);
			line += len + (line[len] == '\n');
		}
		if (match)
			sum += v;
		if (!next)
			break;
		s = next;
	}
	return sum;
}

Test(pprof, launched_totals_and_known_chains, .timeout = 300)
{
	static const char *const leaf[] = { "leaf_alloc", "mid", "main", NULL };
	static const char *const other[] = { "leaf_alloc", "other_mid", "main", NULL };
	static const char *const lib[] = { "lib_alloc", "lib_outer", "main", NULL };
	char prof[300], *opts[] = { "--pprof", prof, NULL }, *raw, *tr, want[64];
	struct proc tt;
	json_t *j;

	setup();
	snprintf(prof, sizeof(prof), "%s/heap.pb.gz", dir);
	j = e2e_launch_json(&tt, dir, opts, "callchain_lib", NULL, TRACE_TIMEOUT_MS);
	cr_expect_eq(jint(j, "stats.lost_events"), 0);
	raw = expect_same_as_json(prof, j);
	/* the comments name the target; the mappings are the files, with build-ids */
	snprintf(want, sizeof(want), "Comment: pid: %lld\n", jint(j, "target.pid"));
	cr_expect_not_null(strstr(raw, want), "no '%s' in:\n%s", want, raw);
	cr_expect_not_null(strstr(raw, "/fixtures/libcallchain.so "), "mappings:\n%s", raw);
	cr_expect_not_null(strstr(raw, "/fixtures/callchain_lib "), "mappings:\n%s", raw);

	tr = go_pprof("-traces", "alloc_objects", prof);
	cr_expect_eq(traces_sum(tr, leaf), truth(tt.out, "leaf_calls"), "traces:\n%s", tr);
	cr_expect_eq(traces_sum(tr, other), truth(tt.out, "other_calls"));
	cr_expect_eq(traces_sum(tr, lib), truth(tt.out, "lib_calls"));
	free(tr);
	/* the leak: what leaf_alloc's chain still holds */
	tr = go_pprof("-traces", "inuse_objects", prof);
	cr_expect_eq(traces_sum(tr, leaf), truth(tt.out, "leaf_calls") - truth(tt.out, "leaf_freed"),
		     "traces:\n%s", tr);
	free(tr);
	free(raw);
	json_decref(j);
	proc_free(&tt);
	done_dir();
}

/* The peak breakdown (tests/fixtures/peak_stacks.c): peak_space and
 * peak_objects give what each stack held at the peak, as the JSON does. */
Test(pprof, peak_columns_are_the_breakdown, .timeout = 300)
{
	static const char *const a[] = { "keep_a", "main", NULL };
	static const char *const b[] = { "keep_b", "main", NULL };
	static const char *const c[] = { "grow_c", "main", NULL };
	static const char *const churn[] = { "churn_d", "main", NULL };
	char prof[300], *opts[] = { "--pprof", prof, NULL }, *tr;
	struct proc tt;
	json_t *j;

	setup();
	snprintf(prof, sizeof(prof), "%s/peak.pb.gz", dir);
	j = e2e_launch_json(&tt, dir, opts, "peak_stacks", (char *[]){ "3", NULL }, TRACE_TIMEOUT_MS);
	free(expect_same_as_json(prof, j));
	tr = go_pprof("-traces", "peak_space", prof);
	cr_expect_eq(traces_sum(tr, a), truth(tt.out, "keep_a_at_peak_bytes"), "traces:\n%s", tr);
	cr_expect_eq(traces_sum(tr, b), truth(tt.out, "keep_b_at_peak_bytes"), "traces:\n%s", tr);
	cr_expect_eq(traces_sum(tr, c), truth(tt.out, "grow_c_at_peak_bytes"), "traces:\n%s", tr);
	cr_expect_eq(traces_sum(tr, churn), 0, "churn_d held nothing at the peak:\n%s", tr);
	free(tr);
	tr = go_pprof("-traces", "peak_objects", prof);
	cr_expect_eq(traces_sum(tr, a), truth(tt.out, "keep_a_at_peak_blocks"), "traces:\n%s", tr);
	cr_expect_eq(traces_sum(tr, b), truth(tt.out, "keep_b_at_peak_blocks"), "traces:\n%s", tr);
	free(tr);
	json_decref(j);
	proc_free(&tt);
	done_dir();
}

/* pattern's allocations in a report, as its call site says */
static long long pattern_allocs(json_t *j)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(j, "call_sites"), i, s) {
		const char *fn = json_string_value(json_object_get(s, "function"));

		if (fn && !strcmp(fn, "pattern"))
			return jint(s, "allocations");
	}
	cr_assert_fail("no call site named pattern");
	return -1;
}

/* One profile and its JSON, from the same process. */
static void expect_process(const char *prof, json_t *j, int parent_pid)
{
	static const char *const chain[] = { "pattern", NULL };
	char want[96], *raw, *tr;

	raw = expect_same_as_json(prof, j);
	if (parent_pid)
		snprintf(want, sizeof(want), "Comment: pid: %lld (child of %d)\n",
			 jint(j, "target.pid"), parent_pid);
	else
		snprintf(want, sizeof(want), "Comment: pid: %lld\n", jint(j, "target.pid"));
	cr_expect_not_null(strstr(raw, want), "%s: no '%s' in:\n%s", prof, want, raw);
	tr = go_pprof("-traces", "alloc_objects", prof);
	cr_expect_eq(traces_sum(tr, chain), pattern_allocs(j), "%s: traces:\n%s", prof, tr);
	free(tr);
	free(raw);
}

Test(pprof, follow_writes_one_profile_per_process, .timeout = 600)
{
	char out[300], path[400], *argv[] = { (char *)e2e_tool(), "-q", "-f", "-o", out, "--",
					      (char *)e2e_fixture("forker"), NULL };
	json_t *j, *p, *c;
	struct proc tt;
	size_t i;
	int rc;

	setup();
	snprintf(out, sizeof(out), "%s/out", dir);
	cr_assert_eq(mkdir(out, 0755), 0);
	rc = run(&tt, argv, TRACE_TIMEOUT_MS);
	e2e_expect_no_crash(&tt);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt.err);
	snprintf(path, sizeof(path), "%s/ttbpf.json", out);
	j = load_json(path);
	snprintf(path, sizeof(path), "%s/ttbpf.pb.gz", out);
	expect_process(path, j, 0);
	cr_assert_geq(json_array_size(json_object_get(j, "processes")), 2,
		      "forker's children are followed");
	json_array_foreach(json_object_get(j, "processes"), i, p) {
		const char *report = json_string_value(json_object_get(p, "report"));

		cr_assert_not_null(report, "child %lld has no report", jint(p, "pid"));
		c = load_json(report);
		snprintf(path, sizeof(path), "%s/ttbpf.%lld.pb.gz", out, jint(p, "pid"));
		expect_process(path, c, (int)jint(p, "parent_pid"));
		json_decref(c);
	}
	json_decref(j);
	proc_free(&tt);
	done_dir();
}
