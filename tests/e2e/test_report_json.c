// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: `ttbpf report FILE.json` with no output prints the summary's
 * figures and allocation sites on stdout, and `--folded FILE [--folded-by W]`
 * writes the report's stacks as folded lines, both read as a stream. Against
 * a traced known_allocs run: the figures are the fixture's own tally, the
 * summary's lines those the run printed, the folded files those the run
 * wrote, byte for byte.
 */
#include "e2e.h"

#define TRACE_TIMEOUT_MS 60000

E2E_SUITE_IN_DIR(report_json, true);

/* ttbpf report ARGS...: its exit status; its stdout and stderr in *p. */
static int report(struct proc *p, char *const *args)
{
	char *argv[16];
	int n = 0;

	argv[n++] = (char *)e2e_tool();
	argv[n++] = "report";
	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	return run(p, argv, 60000);
}

/* The fixture traced: the run's stderr (its summary) in tt, JSON and folded files. */
static void trace(struct proc *tt, const char *json, const char *folded, const char *by)
{
	char *argv[] = { (char *)e2e_tool(), "--json", (char *)json, "--folded", (char *)folded,
			 "--folded-by", (char *)by, "--", (char *)e2e_fixture("known_allocs"), NULL };
	int rc = run(tt, argv, TRACE_TIMEOUT_MS);

	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt->err);
}

/* The sum of the weights of the folded lines that hold frame. */
static long long folded_sum(const char *text, const char *frame)
{
	long long sum = 0;
	const char *line = text;

	while (*line) {
		const char *end = strchr(line, '\n'), *sp;

		end = end ? end : line + strlen(line);
		sp = memrchr(line, ' ', (size_t)(end - line));
		if (sp && memmem(line, (size_t)(sp - line), frame, strlen(frame)))
			sum += strtoll(sp + 1, NULL, 10);
		line = *end ? end + 1 : end;
	}
	return sum;
}

Test(report_json, summary_and_folded_from_the_report, .timeout = 180)
{
	char json[128], live[128], folded[128], line[128], *want, *got;
	struct proc tt, rp;
	const char *fx;
	json_t *j;
	int rc;

	snprintf(json, sizeof(json), "%s/run.json", dir);
	snprintf(live, sizeof(live), "%s/run.folded", dir);
	snprintf(folded, sizeof(folded), "%s/again.folded", dir);
	trace(&tt, json, live, "allocated");
	fx = tt.out;
	j = load_json(json);

	/* the summary: the run's own, on stdout: figures, the sites allocating
	 * most and those still holding memory, with their stacks */
	rc = report(&rp, (char *[]){ json, NULL });
	cr_assert_eq(rc, 0, "ttbpf report exited %d:\n%s", rc, rp.err);
	want = strdup(strstr(tt.err, "\nttbpf: pid "));
	got = strdup(strstr(rp.out, "\nttbpf: pid "));
	cr_assert(want && got);
	cr_expect(strstr(want, "  still live, by allocation site:\n"), "%s", want);
	cr_expect_str_eq(got, want, "the summary differs from the run's");
	free(want);
	free(got);
	snprintf(line, sizeof(line), "  allocations    %lld (", jint(j, "stats.total_allocations"));
	cr_expect(strstr(rp.out, line), "no '%s' in:\n%s", line, rp.out);
	snprintf(line, sizeof(line), "  frees          %lld (", truth(fx, "frees"));
	cr_expect(strstr(rp.out, line), "no '%s' in:\n%s", line, rp.out);
	snprintf(line, sizeof(line), "  failed         %lld allocations returned NULL", truth(fx, "failed"));
	cr_expect(strstr(rp.out, line), "no '%s' in:\n%s", line, rp.out);
	snprintf(line, sizeof(line), "  reallocs       %lld in place, %lld moved", truth(fx, "in_place"),
		 truth(fx, "moved"));
	cr_expect(strstr(rp.out, line), "no '%s' in:\n%s", line, rp.out);
	snprintf(line, sizeof(line), "in %9lld allocations: pattern (", truth(fx, "allocs"));
	cr_expect(strstr(rp.out, line), "no '%s' in:\n%s", line, rp.out);
	/* with the stack under the site, as the run printed it */
	cr_expect(strstr(rp.out, "\n          worker (") && strstr(tt.err, "\n          worker ("),
		  "no stack line under pattern:\n%s", rp.out);
	cr_expect_eq(rp.err_len, 0, "stderr: %s", rp.err);
	proc_free(&rp);

	/* --folded-by allocated: the run's file, byte for byte; pattern's lines
	 * weigh what the fixture allocated */
	rc = report(&rp, (char *[]){ json, "--folded", folded, "--folded-by", "allocated", NULL });
	cr_assert_eq(rc, 0, "ttbpf report --folded exited %d:\n%s", rc, rp.err);
	proc_free(&rp);
	want = strdup(e2e_slurp(live));
	cr_expect_str_eq(e2e_slurp(folded), want, "the folded stacks differ from the run's");
	cr_expect_eq(folded_sum(want, ";pattern"), truth(fx, "alloc_bytes"));
	free(want);

	/* the default, live bytes: what the fixture still held */
	rc = report(&rp, (char *[]){ json, "--folded", folded, NULL });
	cr_assert_eq(rc, 0, "ttbpf report --folded exited %d:\n%s", rc, rp.err);
	proc_free(&rp);
	cr_expect_eq(folded_sum(e2e_slurp(folded), ";pattern"), truth(fx, "live_bytes"));
	/* --folded-weight count: the fixture's allocations */
	rc = report(&rp, (char *[]){ json, "--folded", folded, "--folded-weight", "count", NULL });
	cr_assert_eq(rc, 0, "ttbpf report --folded exited %d:\n%s", rc, rp.err);
	proc_free(&rp);
	cr_expect_eq(folded_sum(e2e_slurp(folded), ";pattern"), truth(fx, "allocs"));

	json_decref(j);
	proc_free(&tt);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

/* Bad input: exit 1 with the reason, no file written; bad usage: exit 2. */
Test(report_json, bad_input_is_refused, .timeout = 60)
{
	char bad[128], v2[128], out[128];
	struct proc rp;
	struct stat st;
	int rc;

	snprintf(bad, sizeof(bad), "%s/bad.json", dir);
	snprintf(v2, sizeof(v2), "%s/v2.json", dir);
	snprintf(out, sizeof(out), "%s/out.folded", dir);
	write_text(bad, "{\"format_version\":1,\"stacks\":[{\"id\":1,\"frames\":[}]}");
	write_text(v2, "{\"format_version\":2,\"stacks\":[]}");

	rc = report(&rp, (char *[]){ bad, NULL });
	cr_expect_eq(rc, 1, "summary of bad JSON: exit %d", rc);
	cr_expect(strstr(rp.err, "cannot read report") && strstr(rp.err, "at byte 48"), "stderr: %s",
		  rp.err);
	cr_expect_eq(rp.out_len, 0, "stdout: %s", rp.out);
	proc_free(&rp);
	rc = report(&rp, (char *[]){ bad, "--folded", out, NULL });
	cr_expect_eq(rc, 1, "--folded of bad JSON: exit %d", rc);
	cr_expect(strstr(rp.err, "at byte 48"), "stderr: %s", rp.err);
	cr_expect_neq(stat(out, &st), 0, "a folded file was left from bad input");
	proc_free(&rp);
	rc = report(&rp, (char *[]){ v2, NULL });
	cr_expect_eq(rc, 1, "version 2: exit %d", rc);
	cr_expect(strstr(rp.err, "not a ttbpf report"), "stderr: %s", rp.err);
	proc_free(&rp);
	rc = report(&rp, (char *[]){ v2, "--folded", out, NULL });
	cr_expect_eq(rc, 1, "version 2 --folded: exit %d", rc);
	cr_expect_neq(stat(out, &st), 0, "a folded file was left from version 2");
	proc_free(&rp);
	rc = report(&rp, (char *[]){ v2, "--folded-by", "allocated", NULL });
	cr_expect_eq(rc, 2, "--folded-by without --folded: exit %d", rc);
	proc_free(&rp);
	rc = report(&rp, (char *[]){ v2, "--folded-by", "sideways", "--folded", out, NULL });
	cr_expect_eq(rc, 2, "--folded-by sideways: exit %d", rc);
	proc_free(&rp);
}
