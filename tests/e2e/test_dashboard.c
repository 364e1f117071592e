// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: the figures the dashboard shows, from a traced fixture whose
 * temporary allocations, peak and leaks are known exactly
 * (tests/fixtures/temporaries.c). The JSON report carries them; the
 * dashboard is drawn from that JSON.
 */
#include "e2e.h"

#define TRACE_TIMEOUT_MS 60000

E2E_SUITE_IN_DIR(dashboard, true);

/*
 * Temporaries as the fixture counts them: exactly, unless a pair took over
 * half the 1 ms window in the fixture (preempted on a loaded machine); each
 * such pair may be missing, and only those.
 */
static void expect_temporaries(json_t *j, const char *out)
{
	long long got = jint(j, "stats.temporary_allocations"), want = truth(out, "temporaries");
	long long slow = truth(out, "slow_pairs"), bytes = jint(j, "stats.temporary_allocated");

	cr_expect(got <= want && got >= want - slow,
		  "%lld temporaries, the fixture made %lld (%lld of them slow)", got, want, slow);
	if (got == want)
		cr_expect_eq(bytes, truth(out, "temporary_bytes"));
	else
		cr_expect(bytes < truth(out, "temporary_bytes"));
}

/* The report's counters equal the fixture's tally. */
Test(dashboard, temporaries_and_peak_in_the_report, .timeout = 120)
{
	static const char *const pairs[][2] = {
		{ "total_allocations", "allocs" },
		{ "stats.peak_memory", "peak_bytes" },
		{ "stats.peak_allocations", "peak_count" },
		{ "stats.active_memory", "live_bytes" },
		{ "stats.active_allocations", "live_count" },
		{ NULL },
	};
	struct proc tt;
	json_t *j;

	j = e2e_launch_json(&tt, dir, NULL, "temporaries", NULL, TRACE_TIMEOUT_MS);
	e2e_expect_tallies(j, tt.out, pairs);
	expect_temporaries(j, tt.out);
	cr_expect_eq(jint(j, "stats.temporary_window_ns"), 1000000);
	json_decref(j);
	proc_free(&tt);
}

/* --aggregate keeps no per-thread order: temporaries unknown, not 0. */
Test(dashboard, aggregate_has_no_temporaries, .timeout = 120)
{
	char *opts[] = { "--aggregate", NULL };
	struct proc tt;
	json_t *j, *stats;

	j = e2e_launch_json(&tt, dir, opts, "temporaries", NULL, TRACE_TIMEOUT_MS);
	stats = json_object_get(j, "stats");
	cr_expect(json_is_null(json_object_get(stats, "temporary_allocations")),
		  "temporary_allocations is not null with --aggregate");
	cr_expect(json_is_null(json_object_get(stats, "temporary_allocated")));
	cr_expect_eq(jint(j, "stats.peak_memory"), truth(tt.out, "peak_bytes"));
	json_decref(j);
	proc_free(&tt);
}

/* ---- the dashboard drawn from that report ------------------------------------ */

#include "dash_build.h"
#include "report_draw.h"
#include "units.h"

struct label {
	char panel[32];
	char text[256];
	double x, y;
};

static struct label labels[4096];
static size_t label_cnt;

static void on_label(void *ctx, const char *panel, const char *text, double x, double y, double w,
		     double h)
{
	struct label *l;

	(void)ctx;
	(void)w;
	(void)h;
	if (label_cnt == sizeof(labels) / sizeof(labels[0]))
		return;
	l = &labels[label_cnt++];
	snprintf(l->panel, sizeof(l->panel), "%s", panel);
	snprintf(l->text, sizeof(l->text), "%s", text);
	l->x = x;
	l->y = y;
}

static const struct label *find(const char *panel, const char *text)
{
	size_t i;

	for (i = 0; i < label_cnt; i++)
		if (!strcmp(labels[i].panel, panel) && !strcmp(labels[i].text, text))
			return &labels[i];
	return NULL;
}

static const struct label *find_prefix(const char *panel, const char *prefix)
{
	size_t i;

	for (i = 0; i < label_cnt; i++)
		if (!strcmp(labels[i].panel, panel) && !strncmp(labels[i].text, prefix, strlen(prefix)))
			return &labels[i];
	return NULL;
}

/* The JSON's call sites holding memory, largest first (ties: the report's order). */
static size_t live_sites(json_t *j, json_t **out, size_t cap)
{
	json_t *sites = json_object_get(j, "call_sites"), *s;
	size_t n = 0, i, k;

	json_array_foreach(sites, i, s) {
		long long live = json_integer_value(json_object_get(s, "live_bytes"));

		if (live <= 0 || n == cap)
			continue;
		for (k = n; k > 0 && json_integer_value(json_object_get(out[k - 1], "live_bytes")) < live;
		     k--)
			out[k] = out[k - 1];
		out[k] = s;
		n++;
	}
	return n;
}

/*
 * The run's own report, read back as the dashboard reads it: the leak
 * panel ranks the JSON's call sites by live bytes (keep_tail's one block of
 * 1000 B above leak_some's three of 333 B, though the report lists sites by
 * bytes allocated), the figures are the fixture's, and a program without
 * TT_TRACK_VAR gets no variable panel at all.
 */
Test(dashboard, drawn_from_the_report, .timeout = 120)
{
	char *opts[] = { "--png", NULL, NULL }, png[300], again[300], want[64], c[UNITS_BUF];
	struct dash_build *b;
	const struct dash *d;
	const struct label *prev = NULL, *l;
	json_t *j, *ranked[16];
	struct proc tt;
	size_t n, i;
	long long hold_ns;

	snprintf(png, sizeof(png), "%s/run.png", dir);
	opts[1] = png;
	j = e2e_launch_json(&tt, dir, opts, "temporaries", NULL, TRACE_TIMEOUT_MS);
	snprintf(again, sizeof(again), "%s/out.json", dir);
	cr_assert_eq(dash_build__load(&b, again, NULL), 0);
	d = dash_build__dash(b);

	/* the leak panel's data: the JSON's sites by live bytes */
	n = live_sites(j, ranked, 16);
	cr_assert_geq(n, 2, "%zu call sites hold memory", n);
	cr_assert_eq(d->leak_cnt, n);
	for (i = 0; i < n; i++) {
		cr_expect_eq((long long)d->leaks[i].live_bytes,
			     json_integer_value(json_object_get(ranked[i], "live_bytes")), "leak %zu", i);
		cr_expect_str_eq(nz(d->leaks[i].function), nz(jstr(ranked[i], "function")));
	}
	cr_expect_str_eq(nz(d->leaks[0].function), "keep_tail");
	cr_expect_eq(d->leaks[0].live_bytes, (uint64_t)truth(tt.out, "tail_bytes"));
	cr_expect_eq(d->leaks[0].live_cnt, 1);
	cr_expect_str_eq(nz(d->leaks[1].function), "leak_some");
	cr_expect_eq(d->leaks[1].live_bytes, (uint64_t)truth(tt.out, "leak_bytes"));
	cr_expect_eq(d->leaks[1].live_cnt, (uint64_t)truth(tt.out, "leak_blocks"));
	/* the report's order is another: by bytes allocated */
	cr_expect_str_neq(nz(jstr(json_array_get(json_object_get(j, "call_sites"), 0), "function")),
			  "keep_tail");

	/* the figures, exact */
	/* the dash carries the report's temporaries (checked against the
	 * fixture above) */
	cr_expect_eq((long long)d->temp_allocs, jint(j, "stats.temporary_allocations"));
	cr_expect_eq((long long)d->temp_bytes, jint(j, "stats.temporary_allocated"));
	expect_temporaries(j, tt.out);
	cr_expect_eq(d->peak_bytes, (uint64_t)truth(tt.out, "peak_bytes"));
	cr_expect_eq(d->peak_cnt, (uint64_t)truth(tt.out, "peak_count"));
	cr_expect_eq(d->current_bytes, (uint64_t)truth(tt.out, "live_bytes"));
	cr_expect(d->exited);
	/* at the peak for the fixture's hold (200 ms), a few 1 ms intervals more
	 * around it (the blocks allocated and freed next to it) */
	hold_ns = truth(tt.out, "hold_ms") * 1000000LL;
	cr_expect_geq((long long)d->near_peak_ns, hold_ns, "near the peak %llu ns",
		      (unsigned long long)d->near_peak_ns);
	cr_expect_leq((long long)d->near_peak_ns, hold_ns + 30000000LL, "near the peak %llu ns",
		      (unsigned long long)d->near_peak_ns);

	/* drawn: the rows in that order, the figures as the fixture counts them */
	report_draw__set_label_hook(on_label, NULL);
	snprintf(again, sizeof(again), "%s/again.png", dir);
	cr_assert_eq(report_draw__png(d, again), 0);
	report_draw__set_label_hook(NULL, NULL);
	for (i = 0; i < n; i++) {
		char name[256];

		snprintf(name, sizeof(name), "%s (", nz(d->leaks[i].function));
		l = find_prefix("leaks", name);
		cr_assert_not_null(l, "no leak row for %s", name);
		if (prev)
			cr_expect_gt(l->y, prev->y, "%s not below %s", l->text, prev->text);
		prev = l;
	}
	cr_expect_not_null(find("figures", units__count(c, sizeof(c), d->temp_allocs)));
	cr_expect_not_null(find("figures", units__bytes(c, sizeof(c), d->peak_bytes)));
	snprintf(want, sizeof(want), "%s", units__bytes(c, sizeof(c), d->current_bytes));
	cr_expect_not_null(find("figures", want));
	/* no TT_TRACK_VAR: no variable panels; every panel drawn has content */
	for (i = 0; i < label_cnt; i++)
		cr_expect(strcmp(labels[i].panel, "vars") && strcmp(labels[i].panel, "types") &&
				  strcmp(labels[i].panel, "categories"),
			  "panel %s drawn without tracked variables", labels[i].panel);
	{
		static const char *const drawn[] = { "header", "figures", "leaks", "growth",
						     "sites", "heatmap", "sizes", "summary" };

		for (i = 0; i < sizeof(drawn) / sizeof(drawn[0]); i++) {
			size_t k, cnt = 0;

			for (k = 0; k < label_cnt; k++)
				cnt += !strcmp(labels[k].panel, drawn[i]);
			cr_expect_geq(cnt, 3, "panel %s: %zu labels", drawn[i], cnt);
		}
	}
	/* the RSS sampled beside the heap, read back and drawn beside it */
	for (i = 0; i < d->timeline_cnt && !d->timeline[i].has_rss; i++)
		;
	cr_expect_lt(i, d->timeline_cnt, "no timeline point carries the RSS");
	cr_expect_not_null(find("growth", "RSS"), "no RSS legend in the growth panel");
	/* the run's PNG is the same drawing */
	{
		FILE *a = fopen(png, "rb"), *z = fopen(again, "rb");
		int ca, cz;

		cr_assert(a && z);
		do {
			ca = fgetc(a);
			cz = fgetc(z);
		} while (ca == cz && ca != EOF);
		cr_expect_eq(ca, cz, "the run's PNG differs from one drawn from its JSON");
		fclose(a);
		fclose(z);
	}
	dash_build__free(b);
	json_decref(j);
	proc_free(&tt);
}
