// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: memory beside malloc (tests/fixtures/sysmem.c). Two runs,
 * `sysmem 0` (what every run shares: the dynamic linker's and libc's own
 * mappings, glibc's arena) and `sysmem 1` (known anonymous mmaps and
 * munmaps, one cut in the middle; brk moved by +64 KiB and -16 KiB; one
 * 1 MiB malloc glibc maps itself): the differences of stats.mapped are the
 * fixture's calls exactly, the allocator's own mmap is its own, and the
 * heap's figures are not mixed with any of it. RSS sampled beside the heap
 * shows the 8 MiB mapping the heap does not.
 */
#include "e2e.h"

#define TRACE_TIMEOUT_MS 60000

static char dir[256];

static json_t *run_mode(struct proc *tt, const char *mode)
{
	char *fx_args[] = { (char *)mode, NULL };

	e2e_require_root();
	snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());
	return e2e_launch_json(tt, dir, NULL, "sysmem", fx_args, TRACE_TIMEOUT_MS);
}

static long long delta(json_t *a, json_t *b, const char *path)
{
	return jint(b, path) - jint(a, path);
}

Test(sysmem, mmap_munmap_brk_counted_exactly, .timeout = 180)
{
	static const char *const prog[][2] = {
		{ "mmap_calls", "mmap_calls" },	     { "mmap_bytes", "mmap_bytes" },
		{ "munmap_calls", "munmap_calls" }, { "munmap_bytes", "munmap_bytes" },
		{ "mapped_bytes", "mapped_bytes" }, { "brk_calls", "brk_calls" },
		{ "brk_grown_bytes", "brk_grown" }, { "brk_shrunk_bytes", "brk_shrunk" },
		{ "brk_bytes", "brk_bytes" },
	};
	struct proc t0, t1;
	json_t *a = run_mode(&t0, "0"), *b = run_mode(&t1, "1");
	char path[96];
	long long big;
	size_t i;

	cr_assert(json_is_object(json_object_get(json_object_get(b, "stats"), "mapped")),
		  "stats.mapped is not there (syscall tracepoints not attached?)");
	for (i = 0; i < sizeof(prog) / sizeof(prog[0]); i++) {
		snprintf(path, sizeof(path), "stats.mapped.program.%s", prog[i][0]);
		cr_expect_eq(delta(a, b, path), truth(t1.out, prog[i][1]) - truth(t0.out, prog[i][1]),
			     "%s: %lld more, the fixture made %lld", path, delta(a, b, path),
			     truth(t1.out, prog[i][1]));
	}
	/* the 5-page mapping cut in the middle: 2 pages + 2 pages stay */
	cr_expect_eq(truth(t1.out, "munmap_calls"), 3);

	/* glibc's mmap of the 1 MiB block and its munmap at the free: the
	 * allocator's, not the program's */
	cr_expect_eq(delta(a, b, "stats.mapped.allocator.mmap_calls"), 1);
	cr_expect_eq(delta(a, b, "stats.mapped.allocator.munmap_calls"), 1);
	big = delta(a, b, "stats.mapped.allocator.mmap_bytes");
	cr_expect(big > 1 << 20 && big <= (1 << 20) + 2 * 4096, "glibc mapped %lld for 1 MiB", big);
	cr_expect_eq(delta(a, b, "stats.mapped.allocator.munmap_bytes"), big);
	cr_expect_eq(delta(a, b, "stats.mapped.allocator.mapped_bytes"), 0);
	/* glibc's arena grows the break inside malloc, in both runs */
	cr_expect_geq(jint(a, "stats.mapped.allocator.brk_calls"), 1);
	cr_expect_eq(delta(a, b, "stats.mapped.allocator.brk_calls"), 0);

	/* the heap's figures are malloc's alone: one more block of 1 MiB */
	cr_expect_eq(delta(a, b, "stats.total_allocations"), 1);
	cr_expect_eq(delta(a, b, "stats.total_allocated"), 1 << 20);
	cr_expect_eq(jint(b, "stats.active_memory"), jint(a, "stats.active_memory"));

	json_decref(a);
	json_decref(b);
	proc_free(&t0);
	proc_free(&t1);
}

Test(sysmem, rss_beside_the_heap, .timeout = 120)
{
	struct proc tt;
	json_t *j = run_mode(&tt, "1"), *pts, *p;
	long long samples, peak, heap_max = 0, rss_max = 0;
	bool seen = false;
	size_t i;

	samples = jint(j, "timeline.rss_samples");
	peak = jint(j, "timeline.peak_rss_bytes");
	cr_expect_geq(samples, 2, "%lld RSS samples over a 300 ms run", samples);
	cr_expect_geq(peak, 8 << 20, "peak RSS %lld below the 8 MiB touched", peak);
	pts = json_object_get(json_object_get(j, "timeline"), "points");
	cr_assert_gt(json_array_size(pts), 0);
	json_array_foreach(pts, i, p) {
		json_t *r = json_object_get(p, "rss_bytes"), *mx = json_object_get(p, "max_rss_bytes");

		if (jint(p, "live_bytes") > heap_max)
			heap_max = jint(p, "live_bytes");
		if (json_is_null(r)) {
			cr_expect_not(seen, "point %zu: rss_bytes null after a sample", i);
			continue;
		}
		seen = true;
		if (json_is_integer(mx) && json_integer_value(mx) > rss_max)
			rss_max = json_integer_value(mx);
	}
	cr_expect(seen, "no point carries rss_bytes");
	cr_expect_eq(rss_max, peak, "the points' highest max_rss_bytes %lld is not the peak %lld",
		     rss_max, peak);
	/* RSS holds the mapping; the heap never did */
	cr_expect_lt(heap_max, 2 << 20, "heap reached %lld", heap_max);
	json_decref(j);
	proc_free(&tt);
}

/*
 * The summary beside the heap's lines: the program's mmaps and munmaps as
 * the JSON counts them, the fixture's brk moves exactly, the RSS; and
 * `ttbpf report` on the JSON prints the same lines.
 */
Test(sysmem, summary_lines, .timeout = 180)
{
	static const char *const heads[] = { "\n  mmap outside ", "\n  brk outside ", "\n  rss " };
	char json[300], want[160], *argv[] = { (char *)e2e_tool(), "--json", json, "--",
					       (char *)e2e_fixture("sysmem"), "1", NULL };
	char *rargv[] = { (char *)e2e_tool(), "report", json, NULL };
	struct proc tt, rep;
	json_t *j;
	size_t i;
	int rc;

	e2e_require_root();
	snprintf(json, sizeof(json), "%s/out.json", e2e_tmpdir());
	rc = run(&tt, argv, TRACE_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt.err);
	j = load_json(json);
	snprintf(want, sizeof(want), "\n  mmap outside   %lld anonymous mmaps (",
		 jint(j, "stats.mapped.program.mmap_calls"));
	cr_expect_not_null(strstr(tt.err, want), "no \"%s\" in:\n%s", want + 1, tt.err);
	cr_expect_not_null(strstr(tt.err, ", 3 munmaps (20.0 KB): "), "%s", tt.err);
	cr_expect_not_null(strstr(tt.err, "\n  brk outside    2 moves, +64.0 KB -16.0 KB: 48.0 KB at "
					  "end\n"), "%s", tt.err);
	cr_expect_not_null(strstr(tt.err, "\n  rss            peak "), "%s", tt.err);

	rc = run(&rep, rargv, TRACE_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "ttbpf report exited %d:\n%s", rc, rep.err);
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		const char *s = strstr(tt.err, heads[i]), *e = s ? strchr(s + 1, '\n') : NULL;

		cr_assert_not_null(e, "no \"%s\" line in the run's summary", heads[i] + 1);
		cr_expect_not_null(memmem(rep.out, strlen(rep.out), s, (size_t)(e - s) + 1),
				   "ttbpf report has not the run's line \"%.*s\":\n%s", (int)(e - s - 1),
				   s + 1, rep.out);
	}
	json_decref(j);
	proc_free(&tt);
	proc_free(&rep);
}
