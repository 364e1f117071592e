// SPDX-License-Identifier: Apache-2.0
#include <criterion/criterion.h>
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "report_draw.h"

#define ELLIPSIS "\xe2\x80\xa6"

/* ---- recorded labels ---- */

struct label {
	char *panel;
	char *text;
	double x, y, w, h;
};

static struct label *labels;
static size_t label_cnt, label_cap;

static void labels__reset(void)
{
	size_t i;

	for (i = 0; i < label_cnt; i++) {
		free(labels[i].panel);
		free(labels[i].text);
	}
	free(labels);
	labels = NULL;
	label_cnt = label_cap = 0;
}

static void labels__record(void *ctx, const char *panel, const char *text, double x, double y,
			   double w, double h)
{
	(void)ctx;
	if (label_cnt == label_cap) {
		label_cap = label_cap ? 2 * label_cap : 256;
		labels = realloc(labels, label_cap * sizeof(*labels));
		cr_assert_not_null(labels);
	}
	labels[label_cnt++] = (struct label){ strdup(panel ? panel : "(null)"), strdup(text), x, y,
					      w, h };
}

static void setup(void)
{
	report_draw__set_label_hook(labels__record, NULL);
}

static void teardown(void)
{
	report_draw__set_label_hook(NULL, NULL);
	labels__reset();
	/* cairo keeps the fonts it loaded for the life of the process: let
	 * LeakSanitizer see only what the drawing itself would leak */
	cairo_debug_reset_static_data();
}

static const struct label *label__find(const char *panel, const char *text)
{
	size_t i;

	for (i = 0; i < label_cnt; i++)
		if ((!panel || !strcmp(labels[i].panel, panel)) && !strcmp(labels[i].text, text))
			return &labels[i];
	return NULL;
}

static const struct label *label__find_sub(const char *panel, const char *sub)
{
	size_t i;

	for (i = 0; i < label_cnt; i++)
		if ((!panel || !strcmp(labels[i].panel, panel)) && strstr(labels[i].text, sub))
			return &labels[i];
	return NULL;
}

/* Touching edges are fine: rows and columns are laid out edge to edge. */
static void labels__assert_no_overlap(void)
{
	const double eps = 0.01;
	size_t i, j;

	for (i = 0; i < label_cnt; i++) {
		const struct label *a = &labels[i];

		cr_assert(a->w > 0 && a->h > 0, "empty box for \"%s\"", a->text);
		for (j = i + 1; j < label_cnt; j++) {
			const struct label *b = &labels[j];

			if (strcmp(a->panel, b->panel))
				continue;
			cr_assert(!(a->x < b->x + b->w - eps && b->x < a->x + a->w - eps &&
				    a->y < b->y + b->h - eps && b->y < a->y + a->h - eps),
				  "[%s] \"%s\" (%.1f,%.1f %.1fx%.1f) overlaps \"%s\" (%.1f,%.1f %.1fx%.1f)",
				  a->panel, a->text, a->x, a->y, a->w, a->h, b->text, b->x, b->y, b->w,
				  b->h);
		}
	}
}

/* Every label within the canvas drawn for d. */
static void labels__assert_on_canvas(const struct dash *d)
{
	int h = report_draw__height(d);
	size_t i;

	for (i = 0; i < label_cnt; i++) {
		const struct label *a = &labels[i];

		cr_assert(a->x >= 0 && a->y >= 0 && a->x + a->w <= REPORT_DRAW_WIDTH &&
				  a->y + a->h <= h,
			  "\"%s\" off the canvas", a->text);
	}
}

/* Labels of a panel, in drawing order; how many there are. */
static size_t labels__in(const char *panel)
{
	size_t i, n = 0;

	for (i = 0; i < label_cnt; i++)
		n += !strcmp(labels[i].panel, panel);
	return n;
}

/* The span of a panel's labels (title to axis labels): where it draws. */
static void panel__span(const char *panel, double *x0, double *y0, double *x1, double *y1)
{
	size_t k;

	*x0 = REPORT_DRAW_WIDTH, *y0 = 1e9, *x1 = 0, *y1 = 0;
	for (k = 0; k < label_cnt; k++) {
		const struct label *l = &labels[k];

		if (strcmp(l->panel, panel))
			continue;
		*x0 = l->x < *x0 ? l->x : *x0;
		*y0 = l->y < *y0 ? l->y : *y0;
		*x1 = l->x + l->w > *x1 ? l->x + l->w : *x1;
		*y1 = l->y + l->h > *y1 ? l->y + l->h : *y1;
	}
	cr_assert(*x1 > *x0 && *y1 > *y0, "no labels in panel %s", panel);
}

static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n, i;
		uint32_t cp;

		if (*p < 0x80) {
			if (*p < 0x20 || *p == 0x7f)
				return false;
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 2;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 3;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 4;
			cp = *p & 0x07;
		} else {
			return false;
		}
		for (i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
			return false;
		p += n;
	}
	return true;
}

/* ---- a realistic dash ---- */

#define DUR_NS 12500000000ULL
#define TL_N 200
#define HEAT_COLS 24
#define N_VARS 25

static char long_name[301];
static struct dash_point timeline[TL_N];
static uint64_t heat[DASH_SIZE_BUCKETS * HEAT_COLS];
static const struct dash_named types[] = {
	{ "struct request", 2400000, 1200 },
	{ "char[]", 1300000, 9000 },
	{ "struct conn", 820000, 64 },
	{ "uint8_t *", 310000, 410 },
	{ "struct cache_entry", 150000, 300 },
};
static const struct dash_named categories[] = {
	{ "network", 2900000, 5200 },
	{ "parser", 1400000, 12000 },
	{ "cache", 700000, 3100 },
	{ "logging", 90000, 4700 },
};
static const struct dash_site sites[] = {
	{ -1, "xmalloc", "/src/server/util.c", 41, 3100000, 14000 },
	{ 0, "parse_request", "/src/server/http.c", 210, 2000000, 9000 },
	{ 1, "handle_conn", "/src/server/conn.c", 88, 2000000, 9000 },
	{ 0, "cache_put", "/src/server/cache.c", 17, 1100000, 5000 },
	{ -1, "json_new_node", "json.c", 302, 1400000, 8000 },
	{ 4, NULL, NULL, 0, 1400000, 8000 },
	{ -1, "log_line", "log.c", 12, 90000, 3000 },
	{ 6, "main", "main.c", 77, 90000, 3000 },
};
static struct dash_var vars[N_VARS];
static char var_names[N_VARS][32];
/* not in rank order: the panel ranks them by live bytes */
static const struct dash_leak leaks[] = {
	{ "json_new_node", "json.c", 302, 900000, 300, 8000 },
	{ "xmalloc", "/src/server/util.c", 41, 2100000, 700, 14000 },
	{ "log_line", "log.c", 12, 4096, 1, 3000 },
	{ NULL, NULL, 0, 250000, 12, 12 },
};

static void dash__build(struct dash *d)
{
	static const char *const var_types[] = { "struct request", "char[]", "struct conn",
						 "uint8_t *" };
	unsigned int r, c, i;

	memset(d, 0, sizeof(*d));
	d->target = "pid 4242 (./server -c config.toml)";
	d->duration_ns = DUR_NS;
	d->active_allocs = 1234;
	d->current_bytes = 3250000;
	d->peak_bytes = 5662310; /* "5.4 MB" */
	d->peak_ns = 7300000000ULL;
	d->total_allocs = 25000;
	d->total_allocated = 126000000;
	d->total_frees = 23766;
	d->peak_cnt = 2001;
	d->exited = true;
	d->temps_known = true;
	d->temp_allocs = 6250;
	d->temp_bytes = 300000;
	d->temp_window_ns = 1000000;
	d->near_peak_ns = 1250000000ULL;
	d->leaks = leaks;
	d->leak_cnt = sizeof(leaks) / sizeof(leaks[0]);
	d->leaks_more = 3;

	for (i = 0; i < TL_N; i++) {
		uint64_t t = (uint64_t)(i + 1) * (DUR_NS / TL_N);
		double up = i < 117 ? (double)(i + 1) / 117 : 1.0 - 0.45 * (i - 116) / 83.0;

		timeline[i] = (struct dash_point){ t, (uint64_t)(5662310 * up * (0.9 + 0.1 * (i % 7) / 6.0)),
						   100 + i * 5, 125, 118, 0 };
		timeline[i].max_live_bytes = timeline[i].live_bytes;
	}
	timeline[116].live_bytes = 5662310;
	d->timeline = timeline;
	d->timeline_cnt = TL_N;

	for (r = 0; r < DASH_SIZE_BUCKETS; r++)
		for (c = 0; c < HEAT_COLS; c++) {
			/* most allocations small, a burst in the middle */
			uint64_t v = r < 12 ? (uint64_t)(4000 >> (r / 2)) / (1 + (c % 5)) : 0;

			if (c >= 10 && c <= 13 && r < 16)
				v = v * 3 + 40;
			if (r == 19 && c % 8 == 0)
				v = 1;
			heat[r * HEAT_COLS + c] = v;
			d->size_hist[r] += v;
		}
	d->heat = heat;
	d->heat_cols = HEAT_COLS;

	d->types = types;
	d->type_cnt = sizeof(types) / sizeof(types[0]);
	d->categories = categories;
	d->category_cnt = sizeof(categories) / sizeof(categories[0]);
	d->sites = sites;
	d->site_cnt = sizeof(sites) / sizeof(sites[0]);

	memset(long_name, 'v', 300);
	memcpy(long_name, "very_long_name_", 15);
	long_name[300] = '\0';
	for (i = 0; i < N_VARS; i++) {
		snprintf(var_names[i], sizeof(var_names[i]), "buf_%u", i);
		unsigned int k;

		vars[i] = (struct dash_var){ .name = var_names[i], .type_name = var_types[i % 4],
					     .instances = 100 + i, .alive = i % 3 ? 0 : 90,
					     .bytes_alive = i % 3 ? 0 : 4096 * (N_VARS - i) + 100,
					     .peak_bytes = 4096 * (N_VARS - i) + 200 };
		/* a band that rises and, for the freed ones, falls again */
		for (k = i; k < DASH_VAR_SLICES; k++)
			vars[i].alive_in_slice[k] = i % 3 && k > 40 ? 0 : k - i + 1;
	}
	vars[0].name = long_name;
	d->vars = vars;
	d->var_cnt = N_VARS;
}

/* ---- files ---- */

static char *tmp_path(const char *suffix)
{
	char *p;
	int fd;

	cr_assert(asprintf(&p, "/tmp/ttbpf-draw-XXXXXX%s", suffix) > 0);
	fd = mkstemps(p, (int)strlen(suffix));
	cr_assert(fd >= 0);
	close(fd);
	return p;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n ? n : 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, n, f), (size_t)n);
	fclose(f);
	*len = n;
	return buf;
}

/* Well-formed XML whose root is <svg> of the canvas' size (libxml2 is not
 * available: python's parser does it). */
static void assert_svg_ok(const char *path, const struct dash *d)
{
	char cmd[1024];
	int st;

	snprintf(cmd, sizeof(cmd),
		 "python3 -c \"import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); "
		 "sys.exit(0 if r.tag == '{http://www.w3.org/2000/svg}svg' and r.get('width') == sys.argv[2] "
		 "and r.get('height') == sys.argv[3] else 3)\" '%s' %d %d",
		 path, REPORT_DRAW_WIDTH, report_draw__height(d));
	st = system(cmd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: not a well-formed <svg> (status %d)",
		  path, st);
}

static const char *const titles[][2] = {
	{ "header", "ttbpf heap report" },
	{ "figures", "Key figures" },
	{ "leaks", "Still live at exit, by call site" },
	{ "heatmap", "Allocation heatmap (size \xc3\x97 time)" },
	{ "types", "Memory by type" },
	{ "sizes", "Allocation sizes" },
	{ "categories", "Allocations by category" },
	{ "sites", "Call-site tree, by live bytes" },
	{ "growth", "Memory growth" },
	{ "vars", "Variable lifecycle" },
	{ "summary", "Legend and summary" },
};
#define N_PANELS (sizeof(titles) / sizeof(titles[0]))

TestSuite(report_draw, .init = setup, .fini = teardown);

Test(report_draw, svg_is_well_formed)
{
	struct dash d;
	char *p = tmp_path(".svg");

	dash__build(&d);
	cr_assert_eq(report_draw__svg(&d, p), 0);
	assert_svg_ok(p, &d);
	unlink(p);
	free(p);
}

Test(report_draw, png_reads_back_and_every_panel_is_drawn)
{
	struct dash d;
	char *p = tmp_path(".png");
	cairo_surface_t *s;
	unsigned char *px;
	int stride, i;

	dash__build(&d);
	cr_assert_eq(report_draw__png(&d, p), 0);
	s = cairo_image_surface_create_from_png(p);
	cr_assert_eq(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
	cr_assert_eq(cairo_image_surface_get_width(s), REPORT_DRAW_WIDTH);
	cr_assert_eq(cairo_image_surface_get_height(s), report_draw__height(&d));
	px = cairo_image_surface_get_data(s);
	stride = cairo_image_surface_get_stride(s);

	/* each panel's region (the span of its labels) holds ink, and the
	 * charts colour besides */
	for (i = 0; i < (int)N_PANELS; i++) {
		double x0, y0, x1, y1;
		long ink = 0, colour = 0;
		int x, y;

		panel__span(titles[i][0], &x0, &y0, &x1, &y1);
		for (y = (int)y0; y < (int)y1; y++)
			for (x = (int)x0; x < (int)x1; x++) {
				uint32_t v = *(uint32_t *)(px + (size_t)y * stride + 4 * x);
				int r = v >> 16 & 0xff, g = v >> 8 & 0xff, b = v & 0xff;
				int hi = r > g ? (r > b ? r : b) : (g > b ? g : b);
				int lo = r < g ? (r < b ? r : b) : (g < b ? g : b);

				if (hi < 200)
					ink++;
				if (hi - lo > 40)
					colour++;
			}
		cr_assert(ink > 200, "panel %s: only %ld dark pixels", titles[i][0], ink);
		if (strcmp(titles[i][0], "header") && strcmp(titles[i][0], "summary") &&
		    strcmp(titles[i][0], "figures"))
			cr_assert(colour > 200, "panel %s: only %ld coloured pixels", titles[i][0],
				  colour);
	}
	cairo_surface_destroy(s);
	unlink(p);
	free(p);
}

Test(report_draw, labels)
{
	struct dash d;
	char *p = tmp_path(".png");
	const struct label *l;
	size_t i;

	dash__build(&d);
	cr_assert_eq(report_draw__png(&d, p), 0);
	for (i = 0; i < N_PANELS; i++)
		cr_assert_not_null(label__find(titles[i][0], titles[i][1]), "no title in %s",
				   titles[i][0]);
	cr_assert_not_null(label__find("header", "pid 4242 (./server -c config.toml)"));
	cr_assert_not_null(label__find("header", "12.50 s"));
	cr_assert_not_null(label__find("header", "25.0K"));
	cr_assert_not_null(label__find("header", "1.2K blocks live at the end"));
	cr_assert_not_null(label__find("growth", "peak 5.4 MB at +7.30 s"));

	/* units everywhere */
	cr_assert_not_null(label__find("types", "struct request \xe2\x80\x94 2.3 MB (1.2K)"));
	cr_assert_not_null(label__find("sizes", "\xe2\x89\xa4" "16 B"));
	cr_assert_not_null(label__find("sizes", "> 4.0 MB"));
	cr_assert_not_null(label__find("heatmap", "4.0 MB"));
	cr_assert_not_null(label__find_sub("summary", "25.0K allocations (120.2 MB)"));

	/* the tree: heaviest call site first, its callers below, "??" unknown */
	cr_assert_not_null(l = label__find("sites", "xmalloc (util.c:41) \xe2\x80\x94 3.0 MB live in "
						    "14.0K blocks"));
	cr_assert_not_null(label__find("sites", "?? \xe2\x80\x94 1.3 MB live in 8.0K blocks"));
	cr_assert(label__find_sub("sites", "parse_request")->y > l->y);
	cr_assert(label__find_sub("sites", "parse_request")->x > l->x);

	/* the 300-character name, cut to its column */
	l = label__find_sub("vars", "very_long_name_");
	cr_assert_not_null(l);
	cr_assert(strlen(l->text) > 3 && !strcmp(l->text + strlen(l->text) - 3, ELLIPSIS),
		  "not ellipsized: %s", l->text);
	cr_assert(l->w <= REPORT_DRAW_VAR_NAME_W, "%.1f wide", l->w);
	cr_assert_not_null(label__find("vars", "+5 more (smaller) variables"));
	/* top 20: groups still holding memory first (buf_24 holds little), then
	 * the others by peak: the smallest peaks are left out */
	cr_assert_not_null(label__find("vars", "buf_24"));
	cr_assert_not_null(label__find("vars", "\xc3\x97" "90 of 124"));
	cr_assert_not_null(label__find("vars", "buf_16"));
	cr_assert_null(label__find("vars", "buf_17"));

	labels__assert_no_overlap();
	labels__assert_on_canvas(&d);
	unlink(p);
	free(p);
}

/* The key figures, each exact for the dash's numbers. */
Test(report_draw, figures)
{
	static const char *const want[][2] = {
		{ "Peak heap", "5.4 MB" },
		{ "2.0K blocks, at +7.30 s", NULL },
		{ "Live at exit", "3.1 MB" },
		{ "1.2K blocks, 57.4% of the peak", NULL },
		{ "Leaked", "3.1 MB" },
		{ "never freed, from 7 call sites", NULL },
		{ "Allocation rate", "2.0K/s" },
		{ "9.6 MB/s allocated", NULL },
		{ "Temporary allocations", "6.2K" },
		{ "25.0% of all, freed in \xe2\x89\xa4 1.00 ms", NULL },
		{ "Time near the peak", "10.0%" },
		{ "1.25 s at \xe2\x89\xa5 90% of the peak", NULL },
	};
	struct dash d;
	char *p = tmp_path(".png");
	size_t i, k;

	dash__build(&d);
	cr_assert_eq(report_draw__png(&d, p), 0);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct label *c = label__find("figures", want[i][0]), *v;

		cr_assert_not_null(c, "no \"%s\" in the figures", want[i][0]);
		if (!want[i][1])
			continue;
		/* the value under its caption */
		for (v = NULL, k = 0; k < label_cnt && !v; k++)
			if (!strcmp(labels[k].panel, "figures") && !strcmp(labels[k].text, want[i][1]) &&
			    fabs(labels[k].x - c->x) < 0.01 && labels[k].y > c->y)
				v = &labels[k];
		cr_assert_not_null(v, "no %s value \"%s\" under it", want[i][0], want[i][1]);
	}
	/* the old ratios are gone */
	cr_assert_null(label__find("figures", "Memory efficiency"));

	/* a snapshot of a running target: nothing is known to leak; no
	 * temporaries from --aggregate; no timeline: no time near the peak */
	labels__reset();
	d.exited = false;
	d.temps_known = false;
	d.timeline_cnt = 0;
	cr_assert_eq(report_draw__png(&d, p), 0);
	cr_assert_not_null(label__find("figures", "Live at the end"));
	cr_assert_not_null(label__find("figures", "still running at the end: see live"));
	cr_assert_not_null(label__find("figures", "not counted (--aggregate)"));
	cr_assert_not_null(label__find("figures", "no timeline"));
	cr_assert_not_null(label__find("leaks", "Still live at the end, by call site"));
	/* everything freed */
	labels__reset();
	dash__build(&d);
	d.current_bytes = d.active_allocs = 0;
	d.leak_cnt = d.leaks_more = 0;
	d.peak_cnt = 1;
	cr_assert_eq(report_draw__png(&d, p), 0);
	cr_assert_not_null(label__find("figures", "everything was freed"));
	cr_assert_not_null(label__find("figures", "1 block, at +7.30 s"));
	cr_assert_not_null(label__find("figures", "0 blocks, 0.0% of the peak"));
	cr_assert_eq(labels__in("leaks"), 0, "a leak panel with nothing live");
	unlink(p);
	free(p);
}

/* The leak panel: call sites by live bytes, largest first, with their
 * blocks and allocations, whatever order the dash lists them in. */
Test(report_draw, leak_panel_ranks_by_live_bytes)
{
	static const char *const rank[][4] = {
		{ "xmalloc (util.c:41)", "2.0 MB", "700", "14.0K" },
		{ "json_new_node (json.c:302)", "878.9 KB", "300", "8.0K" },
		{ "??", "244.1 KB", "12", "12" },
		{ "log_line (log.c:12)", "4.0 KB", "1", "3.0K" },
	};
	const struct label *prev = NULL, *name, *fig;
	struct dash d;
	char *p = tmp_path(".png");
	size_t i, k;

	dash__build(&d);
	cr_assert_eq(report_draw__png(&d, p), 0);
	for (i = 0; i < 4; i++) {
		name = label__find("leaks", rank[i][0]);
		cr_assert_not_null(name, "no leak row %s", rank[i][0]);
		if (prev)
			cr_assert_gt(name->y, prev->y, "%s not below %s", rank[i][0], prev->text);
		/* its figures on its row, left to right */
		for (k = 1; k < 4; k++) {
			size_t j;

			fig = NULL;
			for (j = 0; j < label_cnt && !fig; j++)
				if (!strcmp(labels[j].panel, "leaks") && !strcmp(labels[j].text, rank[i][k]) &&
				    fabs(labels[j].y - name->y) < 1)
					fig = &labels[j];
			cr_assert_not_null(fig, "%s: no \"%s\" on its row", rank[i][0], rank[i][k]);
			cr_assert_gt(fig->x, name->x);
		}
		prev = name;
	}
	cr_assert_not_null(label__find("leaks", "+3 more call sites still holding memory (--top N; "
						"JSON: call_sites)"));

	/* --top 2: the two largest, the others counted */
	labels__reset();
	d.top = 2;
	cr_assert_eq(report_draw__png(&d, p), 0);
	cr_assert_not_null(label__find("leaks", "xmalloc (util.c:41)"));
	cr_assert_not_null(label__find("leaks", "json_new_node (json.c:302)"));
	cr_assert_null(label__find("leaks", "??"));
	cr_assert_not_null(label__find_sub("leaks", "+5 more call sites"));
	/* and every list: two variables */
	cr_assert_not_null(label__find("vars", "+23 more (smaller) variables"));
	labels__assert_no_overlap();
	labels__assert_on_canvas(&d);
	unlink(p);
	free(p);
}

/* Top to bottom, without overlapping, on the canvas. */
static void panels__assert_stacked(const struct dash *d, const char *const *want, size_t n)
{
	double prev_y = -1;
	size_t i, k;

	for (i = 0; i < n; i++) {
		double y = -1;

		for (k = 0; k < label_cnt; k++)
			if (!strcmp(labels[k].panel, want[i]) && (y < 0 || labels[k].y < y))
				y = labels[k].y;
		cr_assert_geq(y, 0, "panel %s not drawn", want[i]);
		cr_assert_gt(y, prev_y, "panel %s above the one before", want[i]);
		prev_y = y;
	}
	cr_assert_lt(prev_y, report_draw__height(d));
}

/*
 * Only panels with something to show: without tracked variables no type,
 * category or lifecycle panel (and nothing said about them), without a
 * heatmap none; the canvas shrinks to what is drawn.
 */
Test(report_draw, layout_adapts)
{
	static const char *const all[] = { "header", "figures", "leaks", "growth", "sites",
					   "heatmap", "sizes", "types", "vars", "summary" };
	static const char *const novars[] = { "header", "figures", "leaks", "growth", "sites",
					      "sizes", "summary" };
	struct dash d;
	char *p = tmp_path(".png");
	int full, h;
	size_t i;

	dash__build(&d);
	full = report_draw__height(&d);
	cr_assert_eq(report_draw__png(&d, p), 0);
	panels__assert_stacked(&d, all, sizeof(all) / sizeof(all[0]));

	labels__reset();
	d.types = NULL;
	d.type_cnt = 0;
	d.categories = NULL;
	d.category_cnt = 0;
	d.vars = NULL;
	d.var_cnt = 0;
	d.heat_cols = 0;
	h = report_draw__height(&d);
	cr_assert_lt(h, full - 1000, "height %d, with every panel %d", h, full);
	cr_assert_eq(report_draw__png(&d, p), 0);
	panels__assert_stacked(&d, novars, sizeof(novars) / sizeof(novars[0]));
	for (i = 0; i < label_cnt; i++) {
		cr_assert(strcmp(labels[i].panel, "types") && strcmp(labels[i].panel, "categories") &&
				  strcmp(labels[i].panel, "vars") && strcmp(labels[i].panel, "heatmap"),
			  "panel %s drawn: \"%s\"", labels[i].panel, labels[i].text);
		cr_assert_null(strstr(labels[i].text, "TT_TRACK_VAR"), "\"%s\" in %s", labels[i].text,
			       labels[i].panel);
		cr_assert_null(strstr(labels[i].text, "variable"), "\"%s\" in %s", labels[i].text,
			       labels[i].panel);
	}
	labels__assert_no_overlap();
	labels__assert_on_canvas(&d);
	/* the PNG is that tall */
	{
		cairo_surface_t *s = cairo_image_surface_create_from_png(p);

		cr_assert_eq(cairo_image_surface_get_height(s), h);
		cairo_surface_destroy(s);
	}

	/* categories alone take the whole width */
	labels__reset();
	d.categories = categories;
	d.category_cnt = sizeof(categories) / sizeof(categories[0]);
	cr_assert_eq(report_draw__png(&d, p), 0);
	cr_assert_not_null(label__find("categories", "Allocations by category"));
	cr_assert_lt(label__find("categories", "Allocations by category")->x, 100);
	unlink(p);
	free(p);
}

Test(report_draw, empty_dash)
{
	static const char *const only[] = { "header", "figures", "summary" };
	struct dash d;
	char *svg = tmp_path(".svg"), *png = tmp_path(".png");
	size_t i;

	memset(&d, 0, sizeof(d));
	cr_assert_eq(report_draw__svg(&d, svg), 0);
	assert_svg_ok(svg, &d);
	labels__reset();
	cr_assert_eq(report_draw__png(&d, png), 0);
	/* nothing to chart: the header, the figures and the summary only */
	for (i = 0; i < label_cnt; i++)
		cr_assert(!strcmp(labels[i].panel, only[0]) || !strcmp(labels[i].panel, only[1]) ||
				  !strcmp(labels[i].panel, only[2]),
			  "panel %s drawn for an empty dash", labels[i].panel);
	panels__assert_stacked(&d, only, 3);
	cr_assert_not_null(label__find("figures", "nothing was live"));
	cr_assert_not_null(label__find_sub("summary", "no call stacks recorded"));
	cr_assert_not_null(label__find("header", "unknown target"));
	labels__assert_no_overlap();
	labels__assert_on_canvas(&d);
	unlink(svg);
	unlink(png);
	free(svg);
	free(png);
}

Test(report_draw, hostile_strings)
{
	static const char *const bad[] = {
		"<script>alert(\"x\")</script>",
		"bad \xff\xfe utf8 \xc0\xaf overlong \xed\xa0\x80 surrogate",
		"ctl\x01\x02\t\n\r\x1b[31m\x7f end",
		"trunc \xe2\x82",
		"quote ' \" & amp; ]]> <!-- -->",
		"c1 \xc2\x85 \xc2\x9b",
		"",
	};
	struct dash_named t[7], cats[7];
	struct dash_site s[7];
	struct dash_var v[7];
	struct dash d;
	char *svg = tmp_path(".svg"), *png = tmp_path(".png");
	size_t i;

	dash__build(&d);
	for (i = 0; i < 7; i++) {
		t[i] = (struct dash_named){ bad[i], 1000 * (i + 1), i };
		cats[i] = (struct dash_named){ bad[6 - i], 1000 * (i + 1), i };
		s[i] = (struct dash_site){ i ? (int)i - 1 : -1, bad[i], bad[6 - i], (int)i, 100, 1 };
		v[i] = (struct dash_var){ .name = bad[i], .type_name = bad[6 - i], .instances = i + 1,
					  .alive = i + 1, .bytes_alive = 64 * (i + 1) };
	}
	d.target = bad[1];
	d.types = t;
	d.type_cnt = 7;
	d.categories = cats;
	d.category_cnt = 7;
	d.sites = s;
	d.site_cnt = 7;
	d.vars = v;
	d.var_cnt = 7;
	d.lost_events = 17;
	cr_assert_eq(report_draw__svg(&d, svg), 0);
	assert_svg_ok(svg, &d);
	cr_assert_eq(report_draw__png(&d, png), 0);
	for (i = 0; i < label_cnt; i++)
		cr_assert(utf8_valid(labels[i].text), "label not clean UTF-8: %s", labels[i].text);
	cr_assert_not_null(label__find_sub("vars", "<script>"));
	cr_assert_not_null(label__find("header", "17"));
	labels__reset();
	cr_assert_eq(report_draw__png(&d, png), 0);
	labels__assert_no_overlap();
	unlink(svg);
	unlink(png);
	free(svg);
	free(png);
}

Test(report_draw, deterministic)
{
	struct dash d;
	char *p1 = tmp_path(".svg"), *p2 = tmp_path(".svg");
	char *q1 = tmp_path(".png"), *q2 = tmp_path(".png");
	unsigned char *a, *b;
	size_t la, lb;

	report_draw__set_label_hook(NULL, NULL);
	dash__build(&d);
	cr_assert_eq(report_draw__svg(&d, p1), 0);
	cr_assert_eq(report_draw__png(&d, q1), 0);
	cr_assert_eq(report_draw__svg(&d, p2), 0);
	cr_assert_eq(report_draw__png(&d, q2), 0);

	a = slurp(p1, &la);
	b = slurp(p2, &lb);
	cr_assert(la > 1000 && la == lb && !memcmp(a, b, la), "SVG differs between renders");
	free(a);
	free(b);
	a = slurp(q1, &la);
	b = slurp(q2, &lb);
	cr_assert(la > 1000 && la == lb && !memcmp(a, b, la), "PNG differs between renders");
	free(a);
	free(b);
	unlink(p1);
	unlink(p2);
	unlink(q1);
	unlink(q2);
	free(p1);
	free(p2);
	free(q1);
	free(q2);
}

Test(report_draw, extreme_input)
{
	static struct dash_site many_sites[5000];
	static struct dash_var many_vars[5000];
	static uint64_t big_heat[DASH_SIZE_BUCKETS * 256];
	struct dash_point one = { 0, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX };
	struct dash_named huge = { "huge", UINT64_MAX, UINT64_MAX };
	struct dash d;
	char *png = tmp_path(".png"), *svg = tmp_path(".svg");
	size_t i;

	memset(&d, 0, sizeof(d));
	d.target = "x";
	d.duration_ns = 0;
	d.active_allocs = d.current_bytes = d.peak_bytes = UINT64_MAX;
	d.total_allocs = d.total_allocated = d.total_frees = d.lost_events = UINT64_MAX;
	d.peak_ns = UINT64_MAX;
	d.timeline = &one;
	d.timeline_cnt = 1;
	for (i = 0; i < DASH_SIZE_BUCKETS * 256; i++)
		big_heat[i] = i % 3 ? UINT64_MAX / 2 : i;
	d.heat = big_heat;
	d.heat_cols = 256;
	for (i = 0; i < DASH_SIZE_BUCKETS; i++)
		d.size_hist[i] = UINT64_MAX;
	d.types = &huge;
	d.type_cnt = 1;
	d.categories = &huge;
	d.category_cnt = 1;
	for (i = 0; i < 5000; i++) {
		/* a long chain, a self-loop and out-of-range parents among them */
		many_sites[i] = (struct dash_site){ (int)i - 1, "f", "f.c", (int)i, UINT64_MAX - i,
						    i };
		many_vars[i] = (struct dash_var){ .name = "v", .type_name = "t", .instances = UINT64_MAX,
						  .alive = UINT64_MAX - i, .folded = UINT64_MAX,
						  .bytes_alive = UINT64_MAX - i, .peak_bytes = UINT64_MAX };
		memset(many_vars[i].alive_in_slice, 0xff, sizeof(many_vars[i].alive_in_slice));
	}
	many_sites[7].parent = 7;
	many_sites[9].parent = 100000;
	d.sites = many_sites;
	d.site_cnt = 5000;
	d.vars = many_vars;
	d.var_cnt = 5000;
	d.vars_folded = UINT64_MAX;
	cr_assert_eq(report_draw__png(&d, png), 0);
	labels__assert_no_overlap();
	labels__assert_on_canvas(&d);
	cr_assert_not_null(label__find("figures", "16.0 EB"));
	cr_assert_not_null(label__find_sub("sites", "more nodes"));
	cr_assert_not_null(label__find_sub("vars", "5.0K more"));
	labels__reset();
	cr_assert_eq(report_draw__svg(&d, svg), 0);
	assert_svg_ok(svg, &d);

	/* peak 0 with live bytes, and a timeline whose points all sit at 0 */
	d.peak_bytes = 0;
	d.total_allocs = 0;
	one.live_bytes = 5;
	d.heat = NULL;
	cr_assert_eq(report_draw__png(&d, png), 0);
	unlink(png);
	unlink(svg);
	free(png);
	free(svg);
}

/* More time slices than pixels to show them: merged, counts summed. */
Test(report_draw, many_time_slices)
{
	static uint64_t wide[DASH_SIZE_BUCKETS * 5000];
	struct dash d;
	char *png = tmp_path(".png");
	size_t i;

	dash__build(&d);
	for (i = 0; i < DASH_SIZE_BUCKETS * 5000; i++)
		wide[i] = i % 5000 == 4999 ? 1000000 : 1;
	d.heat = wide;
	d.heat_cols = 5000;
	cr_assert_eq(report_draw__png(&d, png), 0);
	labels__assert_no_overlap();
	/* the scale's top is a merged cell: the burst plus its 13 neighbours */
	cr_assert_not_null(label__find("heatmap", "1.0M"));
	unlink(png);
	free(png);
}

Test(report_draw, errors)
{
	struct dash d;

	memset(&d, 0, sizeof(d));
	cr_assert_eq(report_draw__svg(NULL, "/tmp/x.svg"), -EINVAL);
	cr_assert_eq(report_draw__png(&d, NULL), -EINVAL);
	cr_assert_eq(report_draw__svg(&d, "/nonexistent-dir/x.svg"), -ENOENT);
	cr_assert_eq(report_draw__png(&d, "/nonexistent-dir/x.png"), -ENOENT);
	if (access("/dev/full", W_OK) == 0) {
		cr_assert_eq(report_draw__svg(&d, "/dev/full"), -ENOSPC);
		cr_assert_eq(report_draw__png(&d, "/dev/full"), -ENOSPC);
	}
}

/* TTBPF_DRAW_SAMPLE=path.png (or .svg) keeps a drawing of the test's dash to look at. */
Test(report_draw, sample)
{
	const char *out = getenv("TTBPF_DRAW_SAMPLE");
	struct dash d;
	size_t n;

	if (!out)
		return;
	dash__build(&d);
	n = strlen(out);
	if (n > 4 && !strcmp(out + n - 4, ".svg"))
		cr_assert_eq(report_draw__svg(&d, out), 0);
	else
		cr_assert_eq(report_draw__png(&d, out), 0);
}

/* One of a thing is singular on the dashboard too: "1 block", not "1 blocks". */
Test(report_draw, one_is_singular)
{
	static const struct dash_leak one[] = { { "f", "f.c", 1, 64, 1, 1 } };
	static const struct dash_site site[] = { { -1, "f", "f.c", 1, 64, 1 } };
	struct dash d;
	char *p = tmp_path(".png");
	size_t i;

	memset(&d, 0, sizeof(d));
	d.target = "x";
	d.duration_ns = 1000000000;
	d.total_allocs = d.total_frees = d.active_allocs = d.peak_cnt = 1;
	d.total_allocated = d.current_bytes = d.peak_bytes = 64;
	d.exited = true;
	d.leaks = one;
	d.leak_cnt = 1;
	d.leaks_more = 1;
	d.sites = site;
	d.site_cnt = 1;
	cr_assert_eq(report_draw__png(&d, p), 0);
	cr_assert_not_null(label__find("figures", "1 block, 100.0% of the peak"));
	cr_assert_not_null(label__find("figures", "never freed, from 2 call sites"));
	cr_assert_not_null(label__find("header", "1 block live at the end"));
	cr_assert_not_null(label__find_sub("leaks", "+1 more call site still holding memory"));
	cr_assert_not_null(label__find("sites", "f (f.c:1) \xe2\x80\x94 64 B live in 1 block"));
	cr_assert_not_null(label__find_sub("summary", "1 allocation (64 B), 1 free, 1 still live"));
	for (i = 0; i < label_cnt; i++)
		cr_assert_null(strstr(labels[i].text, " 1 blocks"), "\"%s\"", labels[i].text);
	unlink(p);
	free(p);
}

/* ---- RSS beside the heap ---- */

#define RSS_R 117 /* report_draw.c's RSS colour, { 0.46, 0.22, 0.64 } */
#define RSS_G 56
#define RSS_B 163

/* Pixels of the RSS line's colour in the growth panel of the PNG at path. */
static long growth__rss_pixels(const char *path)
{
	cairo_surface_t *s = cairo_image_surface_create_from_png(path);
	double x0, y0, x1, y1;
	unsigned char *px;
	long n = 0;
	int stride, x, y;

	cr_assert_eq(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
	px = cairo_image_surface_get_data(s);
	stride = cairo_image_surface_get_stride(s);
	panel__span("growth", &x0, &y0, &x1, &y1);
	for (y = (int)y0; y < (int)y1; y++)
		for (x = (int)x0; x < (int)x1; x++) {
			uint32_t v = *(uint32_t *)(px + (size_t)y * stride + 4 * x);

			n += abs((int)(v >> 16 & 0xff) - RSS_R) <= 8 &&
			     abs((int)(v >> 8 & 0xff) - RSS_G) <= 8 && abs((int)(v & 0xff) - RSS_B) <= 8;
		}
	cairo_surface_destroy(s);
	return n;
}

/* The growth panel's highest byte label ("10.7 MB"): its axis' top. */
static double growth__axis_top(void)
{
	static const char *const unit[] = { "B", "KB", "MB", "GB" };
	double top = -1;
	size_t i, u;

	for (i = 0; i < label_cnt; i++) {
		char *end;
		double v;

		if (strcmp(labels[i].panel, "growth"))
			continue;
		v = strtod(labels[i].text, &end);
		if (end == labels[i].text || *end != ' ')
			continue;
		for (u = 0; u < 4; u++)
			if (!strcmp(end + 1, unit[u]) && v * (double)(1ULL << (10 * u)) > top)
				top = v * (double)(1ULL << (10 * u));
	}
	cr_assert_geq(top, 0, "no byte axis in the growth panel");
	return top;
}

/* RSS at rss_bytes from point `from` on (the reader's: none before its first sample). */
static void timeline__set_rss(uint64_t rss_bytes, size_t from)
{
	size_t i;

	for (i = 0; i < TL_N; i++) {
		timeline[i].has_rss = i >= from;
		timeline[i].rss_bytes = i >= from ? rss_bytes + 1000 * i : 0;
	}
}

/* What a run without RSS (--aggregate, an older report) drew, and the
 * growth panel's axis top then. */
static double growth__without_rss(struct dash *d, const char *p)
{
	dash__build(d);
	timeline__set_rss(0, TL_N);
	cr_assert_eq(report_draw__png(d, p), 0);
	cr_expect_eq(growth__rss_pixels(p), 0, "an RSS line without RSS");
	cr_expect_null(label__find("growth", "RSS"));
	cr_expect_null(label__find("summary", "RSS"));
	cr_expect_null(label__find("growth", "live bytes"), "no legend for one line");
	return growth__axis_top();
}

Test(report_draw, rss_line_above_the_heap)
{
	struct dash d;
	char *p = tmp_path(".png");
	double top_heap, top;
	long px;

	top_heap = growth__without_rss(&d, p);
	cr_expect_lt(top_heap, 20 << 20);

	/* 20 MB resident from the 21st point on: 4x the heap's peak */
	labels__reset();
	timeline__set_rss(20 << 20, 20);
	cr_assert_eq(report_draw__png(&d, p), 0);
	px = growth__rss_pixels(p);
	cr_expect_gt(px, 1000, "only %ld pixels of the RSS line", px);
	cr_expect_not_null(label__find("growth", "RSS"), "its legend beside the heap's");
	cr_expect_not_null(label__find("growth", "live bytes"));
	cr_expect_not_null(label__find("summary", "RSS"));
	top = growth__axis_top();
	cr_expect_geq(top, 20 << 20, "the axis ends at %.0f, below the RSS", top);
	cr_expect_lt(top, 1.25 * (20 << 20), "the axis ends at %.0f, far above the RSS", top);
	labels__assert_no_overlap();
	unlink(p);
	free(p);
}

Test(report_draw, rss_line_below_the_heap_keeps_its_axis)
{
	struct dash d;
	char *p = tmp_path(".png");
	double top_heap;

	top_heap = growth__without_rss(&d, p);
	labels__reset();
	timeline__set_rss(1 << 20, 0);
	cr_assert_eq(report_draw__png(&d, p), 0);
	cr_expect_gt(growth__rss_pixels(p), 1000);
	cr_expect_eq(growth__axis_top(), top_heap, "the heap's peak sets the axis");
	unlink(p);
	free(p);
}
