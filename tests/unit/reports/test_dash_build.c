// SPDX-License-Identifier: Apache-2.0
/*
 * dash_build: the dashboard's data from a JSON report written here by hand,
 * so that every figure is known: the leak panel's call sites ranked by live
 * bytes with their first user frame, the call-site tree by the three sorts,
 * --top, the key figures (temporaries, exit, time near the peak), and
 * --sort peak refused for a report without figures at the peak.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dash_build.h"

static char path[64];

static void write_report(const char *text)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/ttbpf-dash-build-XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void cleanup(void)
{
	if (path[0])
		unlink(path);
}

TestSuite(dash_build, .fini = cleanup);

#define FRAME(sym, file, line) \
	"{\"ip\": \"0x1\", \"symbol\": " sym ", \"file\": " file ", \"line\": " #line "}"

/*
 * Sites, as the report lists them (most bytes allocated first):
 *   alloc_a  9000 B allocated, 100 live (1 block), 5000 at the peak
 *   alloc_b  5000 B,          4000 live (40),       100 at the peak
 *   alloc_c  1000 B,             0 live,            900 at the peak
 *   (no symbol: libx.so+0x1234)  500 B, 2000 live (2), 0 at the peak
 * alloc_b is reached from main (stack 2) and from worker (stack 5).
 */
#define STACKS                                                                                 \
	"\"stacks\": ["                                                                          \
	"{\"id\": 1, \"call_site\": 0, \"allocations\": 90, \"bytes\": 9000, \"live_count\": 1, " \
	"\"live_bytes\": 100, \"at_peak_blocks\": 50, \"at_peak_bytes\": 5000, \"frames\": ["    \
	FRAME("\"alloc_a\"", "\"/src/a.c\"", 1) ", " FRAME("\"main\"", "\"m.c\"", 10) "]},"     \
	"{\"id\": 2, \"call_site\": 0, \"allocations\": 40, \"bytes\": 4000, \"live_count\": 10, " \
	"\"live_bytes\": 1000, \"at_peak_blocks\": 1, \"at_peak_bytes\": 100, \"frames\": ["     \
	FRAME("\"alloc_b\"", "\"b.c\"", 2) ", " FRAME("\"main\"", "\"m.c\"", 11) "]},"          \
	"{\"id\": 3, \"call_site\": 0, \"allocations\": 10, \"bytes\": 1000, \"live_count\": 0, " \
	"\"live_bytes\": 0, \"at_peak_blocks\": 9, \"at_peak_bytes\": 900, \"frames\": ["        \
	FRAME("\"alloc_c\"", "\"c.c\"", 3) ", " FRAME("\"worker\"", "\"w.c\"", 20) "]},"        \
	"{\"id\": 4, \"call_site\": 0, \"allocations\": 5, \"bytes\": 500, \"live_count\": 2, "   \
	"\"live_bytes\": 2000, \"at_peak_blocks\": 0, \"at_peak_bytes\": 0, \"frames\": ["       \
	FRAME("null", "null", 0) ", " FRAME("\"main\"", "\"m.c\"", 12) "]},"                     \
	"{\"id\": 5, \"call_site\": 0, \"allocations\": 10, \"bytes\": 1000, \"live_count\": 30, " \
	"\"live_bytes\": 3000, \"at_peak_blocks\": 0, \"at_peak_bytes\": 0, \"frames\": ["       \
	FRAME("\"alloc_b\"", "\"b.c\"", 2) ", " FRAME("\"worker\"", "\"w.c\"", 21) "]}]"

#define SITE(id, fn, name, file, line, allocs, bytes, lcnt, lbytes, pcnt, pbytes)               \
	"{\"stack_id\": " #id ", \"function\": " fn ", \"name\": " name ", \"file\": " file        \
	", \"line\": " #line ", \"allocations\": " #allocs ", \"bytes\": " #bytes                 \
	", \"live_count\": " #lcnt ", \"live_bytes\": " #lbytes ", \"at_peak_blocks\": " pcnt     \
	", \"at_peak_bytes\": " pbytes "}"

#define SITES(p1, p2)                                                                          \
	"\"call_sites\": ["                                                                      \
	SITE(1, "\"alloc_a\"", "\"alloc_a\"", "\"/src/a.c\"", 1, 90, 9000, 1, 100, "50", p1) ", " \
	SITE(2, "\"alloc_b\"", "\"alloc_b\"", "\"b.c\"", 2, 50, 5000, 40, 4000, "1", "100") ", "  \
	SITE(3, "\"alloc_c\"", "\"alloc_c\"", "\"c.c\"", 3, 10, 1000, 0, 0, "9", "900") ", "      \
	SITE(4, "null", "\"libx.so+0x1234\"", "null", 0, 5, 500, 2, 2000, "0", p2) "]"

/*
 * The heap over 100 ms in 10 ms intervals, peak 10000: the intervals that
 * reach 9000 (90 %) are the 2nd, 3rd, 5th, 6th and 10th: 50 ms.
 */
#define TIMELINE                                                                               \
	"\"timeline\": {\"interval_ns\": 10000000, \"points\": ["                                 \
	"{\"t_ns\": 10000000, \"live_bytes\": 900, \"max_live_bytes\": 1000},"                    \
	"{\"t_ns\": 20000000, \"live_bytes\": 9500, \"max_live_bytes\": 9500},"                   \
	"{\"t_ns\": 30000000, \"live_bytes\": 7000, \"max_live_bytes\": 10000},"                  \
	"{\"t_ns\": 40000000, \"live_bytes\": 8000, \"max_live_bytes\": 8999},"                   \
	"{\"t_ns\": 50000000, \"live_bytes\": 9000, \"max_live_bytes\": 9000},"                   \
	"{\"t_ns\": 60000000, \"live_bytes\": 100, \"max_live_bytes\": 9000},"                    \
	"{\"t_ns\": 70000000, \"live_bytes\": 2000, \"max_live_bytes\": 2000},"                   \
	"{\"t_ns\": 80000000, \"live_bytes\": 2000, \"max_live_bytes\": 2000},"                   \
	"{\"t_ns\": 90000000, \"live_bytes\": 2000, \"max_live_bytes\": 2000},"                   \
	"{\"t_ns\": 100000000, \"live_bytes\": 9500, \"max_live_bytes\": 9500}]}"

#define REPORT(duration, exit_code, temps, p1, p2)                                             \
	"{\"format_version\": 1, \"duration_ns\": " #duration ","                                \
	"\"target\": {\"pid\": 7, \"command\": \"./t\", \"exit_code\": " exit_code "},"           \
	"\"stats\": {\"total_allocations\": 160, \"total_allocated\": 16500, "                    \
	"\"active_allocations\": 43, \"active_memory\": 6100, \"peak_memory\": 10000, "           \
	"\"peak_allocations\": 77, \"peak_time\": 30000000, \"total_frees\": 117, "               \
	"\"temporary_allocations\": " temps ", \"temporary_allocated\": 4242, "                   \
	"\"temporary_window_ns\": 1000000, \"lost_events\": 0},"                                  \
	TIMELINE "," STACKS "," SITES(p1, p2) "}"

#define PLAIN REPORT(100000000, "0", "33", "5000", "0")

static const struct dash *load(struct dash_build **b, const char *text, enum dash_sort sort,
			       unsigned int top)
{
	struct dash_opts o = { sort, top };

	write_report(text);
	cr_assert_eq(dash_build__load(b, path, &o), 0);
	return dash_build__dash(*b);
}

Test(dash_build, leaks_ranked_by_live_bytes)
{
	struct dash_build *b;
	const struct dash *d = load(&b, PLAIN, DASH_SORT_LIVE, 0);

	/* alloc_b 4000, the unnamed site 2000, alloc_a 100; alloc_c holds nothing */
	cr_assert_eq(d->leak_cnt, 3);
	cr_assert_eq(d->leaks_more, 0);
	cr_assert_str_eq(d->leaks[0].function, "alloc_b");
	cr_assert_str_eq(d->leaks[0].file, "b.c");
	cr_assert_eq(d->leaks[0].line, 2);
	cr_assert_eq(d->leaks[0].live_bytes, 4000);
	cr_assert_eq(d->leaks[0].live_cnt, 40);
	cr_assert_eq(d->leaks[0].allocs, 50);
	/* no symbol: the report's name for it */
	cr_assert_str_eq(d->leaks[1].function, "libx.so+0x1234");
	cr_assert_null(d->leaks[1].file);
	cr_assert_eq(d->leaks[1].live_bytes, 2000);
	cr_assert_eq(d->leaks[1].live_cnt, 2);
	cr_assert_str_eq(d->leaks[2].function, "alloc_a");
	cr_assert_str_eq(d->leaks[2].file, "/src/a.c");
	cr_assert_eq(d->leaks[2].live_bytes, 100);
	cr_assert_eq(d->leaks[2].allocs, 90);
	dash_build__free(b);
}

Test(dash_build, top_bounds_every_list)
{
	struct dash_build *b;
	const struct dash *d = load(&b, PLAIN, DASH_SORT_LIVE, 2);
	size_t i, roots = 0;

	cr_assert_eq(d->top, 2);
	cr_assert_eq(d->leak_cnt, 2);
	cr_assert_eq(d->leaks_more, 1, "the third site holding memory is counted");
	cr_assert_str_eq(d->leaks[1].function, "libx.so+0x1234");
	for (i = 0; i < d->site_cnt; i++)
		roots += d->sites[i].parent < 0;
	cr_assert_eq(roots, 2);
	dash_build__free(b);

	/* more than a page holds: DASH_TOP_MAX */
	d = load(&b, PLAIN, DASH_SORT_LIVE, 1000000);
	cr_assert_eq(d->top, DASH_TOP_MAX);
	cr_assert_eq(d->leak_cnt, 3);
	dash_build__free(b);
	/* the default */
	d = load(&b, PLAIN, DASH_SORT_LIVE, 0);
	cr_assert_eq(d->top, 10);
	dash_build__free(b);
}

/* The roots of the tree in order, by function ("-" for none). */
static void expect_roots(const struct dash *d, const char *const *want, const uint64_t *bytes,
			 size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < d->site_cnt; i++) {
		const struct dash_site *s = &d->sites[i];

		if (s->parent >= 0)
			continue;
		cr_assert_lt(k, n, "more roots than %zu", n);
		cr_assert_str_eq(s->function ? s->function : "-", want[k], "root %zu", k);
		cr_assert_eq(s->bytes, bytes[k], "root %zu (%s): %llu bytes", k, want[k],
			     (unsigned long long)s->bytes);
		k++;
	}
	cr_assert_eq(k, n);
}

/* The callers of the root named fn, in order. */
static void expect_kids(const struct dash *d, const char *fn, const char *const *want,
			const uint64_t *bytes, const uint64_t *counts, size_t n)
{
	size_t i, r = SIZE_MAX, k = 0;

	for (i = 0; i < d->site_cnt && r == SIZE_MAX; i++)
		if (d->sites[i].parent < 0 && d->sites[i].function && !strcmp(d->sites[i].function, fn))
			r = i;
	cr_assert_neq(r, SIZE_MAX, "no root %s", fn);
	for (i = 0; i < d->site_cnt; i++) {
		if (d->sites[i].parent != (int)r)
			continue;
		cr_assert_lt(k, n);
		cr_assert_str_eq(d->sites[i].function, want[k]);
		cr_assert_eq(d->sites[i].bytes, bytes[k], "%s's caller %s", fn, want[k]);
		cr_assert_eq(d->sites[i].count, counts[k], "%s's caller %s", fn, want[k]);
		k++;
	}
	cr_assert_eq(k, n, "%s has %zu callers", fn, k);
}

Test(dash_build, tree_by_live_bytes)
{
	/* alloc_c holds nothing: not a root by live bytes */
	static const char *const roots[] = { "alloc_b", "libx.so+0x1234", "alloc_a" };
	static const uint64_t bytes[] = { 4000, 2000, 100 };
	static const char *const kids[] = { "worker", "main" };
	static const uint64_t kb[] = { 3000, 1000 }, kc[] = { 30, 10 };
	struct dash_build *b;
	const struct dash *d = load(&b, PLAIN, DASH_SORT_LIVE, 0);

	cr_assert_eq(d->sort, DASH_SORT_LIVE);
	expect_roots(d, roots, bytes, 3);
	expect_kids(d, "alloc_b", kids, kb, kc, 2);
	dash_build__free(b);
}

Test(dash_build, tree_by_allocated_bytes)
{
	static const char *const roots[] = { "alloc_a", "alloc_b", "alloc_c", "libx.so+0x1234" };
	static const uint64_t bytes[] = { 9000, 5000, 1000, 500 };
	static const char *const kids[] = { "main", "worker" };
	static const uint64_t kb[] = { 4000, 1000 }, kc[] = { 40, 10 };
	struct dash_build *b;
	const struct dash *d = load(&b, PLAIN, DASH_SORT_ALLOCATED, 0);

	expect_roots(d, roots, bytes, 4);
	expect_kids(d, "alloc_b", kids, kb, kc, 2);
	/* a root's count goes with its sort: allocations here */
	cr_assert_eq(d->sites[0].count, 90);
	dash_build__free(b);
}

Test(dash_build, tree_by_peak_bytes)
{
	static const char *const roots[] = { "alloc_a", "alloc_c", "alloc_b" };
	static const uint64_t bytes[] = { 5000, 900, 100 };
	static const char *const kids[] = { "main" };
	static const uint64_t kb[] = { 5000 }, kc[] = { 50 };
	struct dash_build *b;
	const struct dash *d = load(&b, PLAIN, DASH_SORT_PEAK, 0);

	expect_roots(d, roots, bytes, 3);
	expect_kids(d, "alloc_a", kids, kb, kc, 1);
	dash_build__free(b);
}

/* --sort peak without figures at the peak: refused, saying why. */
Test(dash_build, sort_peak_needs_the_figures, .init = cr_redirect_stderr)
{
	struct dash_opts o = { DASH_SORT_PEAK, 0 };
	struct dash_build *b = NULL;
	char want[256];

	/* --aggregate writes null */
	write_report(REPORT(100000000, "0", "null", "null", "null"));
	cr_assert_eq(dash_build__load(&b, path, &o), -EINVAL);
	cr_assert_null(b);
	/* the other sorts still draw it */
	o.sort = DASH_SORT_LIVE;
	cr_assert_eq(dash_build__load(&b, path, &o), 0);
	dash_build__free(b);
	fflush(stderr);
	snprintf(want, sizeof(want),
		 "ttbpf: --sort peak: %s has no figures at the peak (a report made with "
		 "--aggregate, or by an older ttbpf); sort by live or allocated\n",
		 path);
	cr_assert_stderr_eq_str(want);
}

Test(dash_build, figures)
{
	struct dash_build *b;
	const struct dash *d = load(&b, PLAIN, DASH_SORT_LIVE, 0);

	cr_assert_eq(d->peak_bytes, 10000);
	cr_assert_eq(d->peak_cnt, 77);
	cr_assert_eq(d->peak_ns, 30000000);
	cr_assert_eq(d->current_bytes, 6100);
	cr_assert_eq(d->active_allocs, 43);
	cr_assert(d->exited, "exit_code 0: the target exited");
	cr_assert(d->temps_known);
	cr_assert_eq(d->temp_allocs, 33);
	cr_assert_eq(d->temp_bytes, 4242);
	cr_assert_eq(d->temp_window_ns, 1000000);
	cr_assert_eq(d->timeline_cnt, 10);
	cr_assert_eq(d->timeline[2].max_live_bytes, 10000);
	cr_assert_eq(d->near_peak_ns, 50000000, "near the peak %llu ns",
		     (unsigned long long)d->near_peak_ns);
	dash_build__free(b);

	/* still running at 120 ms (exit_code null), still at 9500 after the
	 * last point: 20 ms more; no temporaries from --aggregate (null) */
	d = load(&b, REPORT(120000000, "null", "null", "5000", "0"), DASH_SORT_LIVE, 0);
	cr_assert_not(d->exited);
	cr_assert_not(d->temps_known);
	cr_assert_eq(d->near_peak_ns, 70000000);
	dash_build__free(b);
}

Test(dash_build, near_peak_ns)
{
	struct dash_point p[4] = {
		{ .t_ns = 10, .live_bytes = 95, .max_live_bytes = 95 },
		{ .t_ns = 20, .live_bytes = 10, .max_live_bytes = 100 },
		{ .t_ns = 30, .live_bytes = 89, .max_live_bytes = 89 },
		{ .t_ns = 45, .live_bytes = 90, .max_live_bytes = 90 },
	};

	cr_assert_eq(dash_build__near_peak_ns(p, 4, 45, 100), 10 + 10 + 15);
	/* the run ended inside the last interval: cut there */
	cr_assert_eq(dash_build__near_peak_ns(p, 4, 40, 100), 10 + 10 + 10);
	/* after the last point, at 90 still */
	cr_assert_eq(dash_build__near_peak_ns(p, 4, 60, 100), 10 + 10 + 15 + 15);
	/* no peak, no points */
	cr_assert_eq(dash_build__near_peak_ns(p, 4, 45, 0), 0);
	cr_assert_eq(dash_build__near_peak_ns(p, 0, 45, 100), 0);
	/* 90 % of a huge peak, without overflow */
	p[0].max_live_bytes = UINT64_MAX / 10 * 9 + 10;
	cr_assert_eq(dash_build__near_peak_ns(p, 1, 10, UINT64_MAX), 10);
	/* points out of order measure nothing backwards */
	p[1].t_ns = 5;
	cr_assert_eq(dash_build__near_peak_ns(p, 2, 10, 100), 10);
}

/* A report listing its call sites before its stacks: the same tree (the
 * roots are chosen first, the stacks read after). */
Test(dash_build, sites_before_stacks)
{
	static const char *const roots[] = { "alloc_b", "libx.so+0x1234", "alloc_a" };
	static const uint64_t bytes[] = { 4000, 2000, 100 };
	static const char *const kids[] = { "worker", "main" };
	static const uint64_t kb[] = { 3000, 1000 }, kc[] = { 30, 10 };
	struct dash_build *b;
	const struct dash *d = load(&b,
				    "{\"format_version\": 1, \"duration_ns\": 100, " SITES("5000", "0")
				    ", " STACKS "}",
				    DASH_SORT_LIVE, 0);

	expect_roots(d, roots, bytes, 3);
	expect_kids(d, "alloc_b", kids, kb, kc, 2);
	cr_assert_eq(d->leak_cnt, 3);
	dash_build__free(b);
}

/*
 * Sites merged by function: parse's two stacks call it from lines 5 and 9
 * (stacks[].site_index says both are site 0), so both callers are parse's,
 * the one without a symbol named module+0xOFFSET; the site without a symbol
 * is drawn by its name, not "??". idle calls parse too, but what it
 * allocated is freed: by live bytes it is no caller to show.
 */
#define MFRAME(sym, mod, off, line) \
	"{\"ip\": \"0x7f" #off "\", \"symbol\": " sym ", \"module\": " mod ", \"offset\": " #off \
	", \"file\": null, \"line\": " #line "}"
#define MSTACK(id, site, bytes, f0, f1)                                                          \
	"{\"id\": " #id ", \"call_site\": 0, \"site_index\": " #site ", \"allocations\": 1, "      \
	"\"bytes\": " #bytes ", \"live_count\": 1, \"live_bytes\": " #bytes ", \"frames\": [" f0 ", " \
	f1 "]}"
#define MERGED                                                                                 \
	"{\"format_version\": 1, \"duration_ns\": 1000, \"target\": {\"pid\": 7, "                \
	"\"command\": \"./t\"}, \"stats\": {\"total_allocations\": 3, \"total_allocated\": 180}, "  \
	"\"call_sites\": ["                                                                       \
	"{\"stack_id\": 1, \"function\": \"parse\", \"name\": \"parse\", \"file\": \"p.c\", "       \
	"\"line\": 5, \"allocations\": 2, \"bytes\": 150, \"live_count\": 2, \"live_bytes\": 150}, "  \
	"{\"stack_id\": 3, \"function\": null, \"name\": \"libq.so+0x40\", \"file\": null, "        \
	"\"line\": 0, \"allocations\": 1, \"bytes\": 30, \"live_count\": 1, \"live_bytes\": 30}], "  \
	"\"stacks\": ["                                                                           \
	MSTACK(1, 0, 100, MFRAME("\"parse\"", "\"/bin/t\"", 4, 5),                                 \
	       MFRAME("\"main\"", "\"/bin/t\"", 8, 10)) ", "                                          \
	MSTACK(2, 0, 50, MFRAME("\"parse\"", "\"/bin/t\"", 9, 9),                                  \
	       MFRAME("null", "\"/usr/lib/libz.so\"", 16, 0)) ", "                                    \
	MSTACK(3, 1, 30, MFRAME("null", "\"/usr/lib/libq.so\"", 64, 0),                             \
	       MFRAME("\"main\"", "\"/bin/t\"", 12, 12)) ", "                                          \
	"{\"id\": 4, \"call_site\": 0, \"site_index\": 0, \"allocations\": 1, \"bytes\": 20, "      \
	"\"live_count\": 0, \"live_bytes\": 0, \"frames\": [" MFRAME("\"parse\"", "\"/bin/t\"", 4, 5) \
	", " MFRAME("\"idle\"", "\"/bin/t\"", 2, 30) "]}]}"

Test(dash_build, merged_sites_and_unnamed_frames)
{
	static const char *const roots[] = { "parse", "libq.so+0x40" };
	static const uint64_t bytes[] = { 150, 30 };
	static const char *const kids[] = { "main", "libz.so+0x10" };
	static const uint64_t kb[] = { 100, 50 }, kc[] = { 1, 1 };
	static const char *const qkids[] = { "main" };
	static const uint64_t qb[] = { 30 }, qc[] = { 1 };
	struct dash_build *b;
	const struct dash *d = load(&b, MERGED, DASH_SORT_LIVE, 0);

	expect_roots(d, roots, bytes, 2);
	expect_kids(d, "parse", kids, kb, kc, 2);
	expect_kids(d, "libq.so+0x40", qkids, qb, qc, 1);
	dash_build__free(b);
}
