// SPDX-License-Identifier: Apache-2.0
/*
 * The dashboard, drawn with cairo onto a fixed canvas: an SVG surface for the
 * scalable report, an image surface for the PNG. One drawing routine serves
 * both, so the two cannot drift apart.
 *
 * Text goes through cairo's toy text API with "DejaVu Sans" (Debian/Ubuntu:
 * fonts-dejavu-core). No Pango: no shaping, but one font, and nothing that
 * makes the layout depend on the host's configuration. Hinting is off so that
 * the widths measured to fit labels are the same on both surfaces.
 *
 * Every label goes through draw__label(), which cleans the bytes (target
 * strings may hold anything, cairo accepts only valid UTF-8), cuts what does
 * not fit with an ellipsis, and reports the box to the test hook.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cairo.h>
#include <cairo-svg.h>
#include "outfile.h"
#include "report_draw.h"
#include "text_clean.h"
#include "units.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define FONT "DejaVu Sans"
#define ELLIPSIS "\xe2\x80\xa6"    /* … */
#define EM_DASH " \xe2\x80\x94 "   /* " — " */
#define LE "\xe2\x89\xa4"          /* ≤ */
#define GE "\xe2\x89\xa5"          /* ≥ */
#define TIMES "\xc3\x97"           /* × */

/* Bytes of one label looked at: far more than the widest panel shows, so
 * only ever hit by strings that are cut anyway. */
#define LABEL_MAX 4096

/* Layout, in user units (= PNG pixels). Panels are stacked top to bottom,
 * only those with something to show (layout__make); two-column rows split
 * the width in halves. The canvas is as tall as the panels drawn. */
#define MARGIN 24
#define GAP 16
#define PAD 16
#define TITLE_H 44 /* a panel's title row: content starts this far down */
#define CONTENT_W (REPORT_DRAW_WIDTH - 2 * MARGIN)
#define HALF_W ((CONTENT_W - GAP) / 2)

#define HEADER_H 148
#define FIGURES_H 150
#define HEAT_ROW_H 19
#define HEAT_H (TITLE_H + DASH_SIZE_BUCKETS * HEAT_ROW_H + 28 + PAD)
#define SIZES_H 340
#define TYPE_ROW_H 32
#define CATS_H 372
#define GROWTH_H 320
#define VAR_ROWS 20 /* groups listed when the dash sets no --top */
#define VAR_ROW_H 21
#define LEAK_ROW_H 24
#define SITE_ROW_H 24
#define MORE_H 24   /* the "+N more" line under a list */
#define SUM_LINE_H 20

/* Heatmap: more time slices than this are merged, so cells stay >= 4 px. */
#define HEAT_MAX_COLS 360
/* Call-site tree: nodes shown at most (and so the deepest path followed). */
#define SITE_ROWS (DASH_TOP_MAX * 4)
/* Call sites shown when the dash sets no --top. */
#define SITE_ROOTS 8
/* Memory by type: rows when the dash sets no --top, and at most. */
#define TYPE_ROWS 9
#define TYPE_ROWS_MAX DASH_TOP_MAX
/* Categories: legend entries, the last one "other" when there are more. */
#define CAT_ROWS 12
/* dash_build keeps the DASH_LIST_MAX largest of each list: enough for every panel */
_Static_assert(VAR_ROWS <= DASH_LIST_MAX && CAT_ROWS <= DASH_LIST_MAX &&
		       TYPE_ROWS_MAX <= DASH_LIST_MAX && DASH_TOP_MAX <= DASH_LIST_MAX,
	       "a panel shows more entries than the dashboard's lists keep");

struct rgb {
	double r, g, b;
};

static const struct rgb INK = { 0.12, 0.16, 0.22 };
static const struct rgb MUTED = { 0.42, 0.45, 0.50 };
static const struct rgb ALERT = { 0.80, 0.11, 0.11 };
static const struct rgb CANVAS = { 0.95, 0.96, 0.97 };
static const struct rgb FRAME = { 0.85, 0.87, 0.90 };
static const struct rgb TRACK = { 0.90, 0.91, 0.93 };
static const struct rgb GRID = { 0.92, 0.93, 0.95 };
static const struct rgb EMPTY_CELL = { 0.94, 0.95, 0.97 };
static const struct rgb SMALL = { 0.30, 0.66, 0.62 };
static const struct rgb MEDIUM = { 0.27, 0.47, 0.74 };
static const struct rgb LARGE = { 0.89, 0.40, 0.25 };
static const struct rgb ALIVE = { 0.93, 0.55, 0.15 };
static const struct rgb LINE = { 0.16, 0.42, 0.75 };
/* the target's RSS beside the heap's line: a hue no other panel uses */
static const struct rgb RSS = { 0.46, 0.22, 0.64 };

static const struct rgb PALETTE[] = {
	{ 0.31, 0.47, 0.65 }, { 0.95, 0.56, 0.17 }, { 0.88, 0.34, 0.35 }, { 0.46, 0.72, 0.70 },
	{ 0.35, 0.63, 0.31 }, { 0.93, 0.79, 0.28 }, { 0.69, 0.48, 0.63 }, { 1.00, 0.62, 0.66 },
	{ 0.61, 0.46, 0.37 }, { 0.73, 0.69, 0.67 },
};
#define PALETTE_N (sizeof(PALETTE) / sizeof(PALETTE[0]))

static report_draw_label_fn label_hook;
static void *label_ctx;

void report_draw__set_label_hook(report_draw_label_fn fn, void *ctx)
{
	label_hook = fn;
	label_ctx = ctx;
}

enum align { AL_LEFT, AL_CENTER, AL_RIGHT };

/* draw__label() flags */
#define LBL_WHOLE 1 /* draw only if it fits whole: a cut number would mislead */

struct draw {
	cairo_t *cr;
	const char *panel;  /* for the label hook */
	double asc, desc;   /* of the current font */
};

struct box {
	double x, y, w, h;
};

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Saturating: converting 2^64 or more is undefined, and UINT64_MAX as a
 * double is 2^64. */
static uint64_t u64__from(double v)
{
	if (!(v > 0))
		return 0;
	if (v >= 18446744073709551616.0)
		return UINT64_MAX;
	return (uint64_t)v;
}

static double clamp01(double v)
{
	return v < 0 || v != v ? 0 : v > 1 ? 1 : v;
}

/* ---- text ---------------------------------------------------------------- */

/* Advance width of clean text in the current font. */
static double draw__width(struct draw *dr, const char *s)
{
	cairo_text_extents_t te;

	cairo_text_extents(dr->cr, s, &te);
	return te.x_advance;
}

static double draw__text_h(const struct draw *dr)
{
	return dr->asc + dr->desc;
}

/*
 * Cuts buf (clean UTF-8 with room for 4 more bytes) to fit max_w with an
 * ellipsis, at a character boundary. Binary search on the bytes kept, each
 * candidate moved back to the start of its character: width grows with the
 * prefix, so the search finds the longest prefix that fits. cut: buf is a
 * truncated copy and needs the ellipsis even if it fits. Returns the width,
 * or -1 (buf emptied) when not even the ellipsis fits.
 */
static double draw__fit(struct draw *dr, char *buf, bool cut, double max_w)
{
	char tmp[2 * LABEL_MAX + 8];
	size_t len = strlen(buf), lo = 0, hi = len, mid, keep;
	double w = draw__width(dr, buf);

	if (!cut && w <= max_w)
		return w;
	if (draw__width(dr, ELLIPSIS) > max_w) {
		buf[0] = '\0';
		return -1;
	}
	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		keep = mid;
		while (keep > 0 && ((unsigned char)buf[keep] & 0xc0) == 0x80)
			keep--;
		memcpy(tmp, buf, keep);
		memcpy(tmp + keep, ELLIPSIS, sizeof(ELLIPSIS));
		if (draw__width(dr, tmp) <= max_w)
			lo = mid;
		else
			hi = mid - 1;
	}
	keep = lo;
	while (keep > 0 && ((unsigned char)buf[keep] & 0xc0) == 0x80)
		keep--;
	while (keep > 0 && buf[keep - 1] == ' ')
		keep--; /* "foo …" reads as a separate word */
	memcpy(buf + keep, ELLIPSIS, sizeof(ELLIPSIS));
	return draw__width(dr, buf);
}

/*
 * The one way text reaches the canvas: cleans s, fits it into max_w, draws it
 * with its box's top at `top` and x at its left, centre or right, and reports
 * it to the label hook. Uses the current font and source. Returns the width
 * drawn, 0 if nothing was.
 */
static double draw__label(struct draw *dr, const char *s, double x, double top, double max_w,
			  enum align al, unsigned int flags)
{
	char buf[2 * LABEL_MAX + 8];
	bool cut = text_clean__copy(buf, 2 * LABEL_MAX, s);
	double w;

	if (!buf[0] || !(max_w > 0))
		return 0;
	w = draw__width(dr, buf);
	if (cut || w > max_w) {
		if (flags & LBL_WHOLE)
			return 0;
		w = draw__fit(dr, buf, cut, max_w);
		if (w < 0)
			return 0;
	}
	if (al == AL_CENTER)
		x -= w / 2;
	else if (al == AL_RIGHT)
		x -= w;
	cairo_move_to(dr->cr, x, top + dr->asc);
	cairo_show_text(dr->cr, buf);
	cairo_new_path(dr->cr);
	if (label_hook)
		label_hook(label_ctx, dr->panel, buf, x, top, w, draw__text_h(dr));
	return w;
}

/*
 * head + tail into out, head cut so that the whole fits max_w: a long name
 * must not push the numbers after it out of sight.
 */
static void draw__compose(struct draw *dr, char *out, size_t cap, const char *head,
			  const char *tail, double max_w)
{
	char h[LABEL_MAX + 8], t[LABEL_MAX + 8];
	bool cut = text_clean__copy(h, LABEL_MAX, head);
	size_t hl, tl;
	double tw;

	text_clean__copy(t, LABEL_MAX, tail);
	tw = draw__width(dr, t);
	if (cut || draw__width(dr, h) + tw > max_w)
		draw__fit(dr, h, cut, max_w - tw);
	/* callers give room for both; a cut here is cleaned by draw__label() */
	hl = strlen(h);
	tl = strlen(t);
	if (hl >= cap)
		hl = cap - 1;
	if (hl + tl >= cap)
		tl = cap - 1 - hl;
	memcpy(out, h, hl);
	memcpy(out + hl, t, tl);
	out[hl + tl] = '\0';
}

static void draw__font(struct draw *dr, double size, bool bold)
{
	cairo_font_extents_t fe;

	cairo_select_font_face(dr->cr, FONT, CAIRO_FONT_SLANT_NORMAL,
			       bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(dr->cr, size);
	cairo_font_extents(dr->cr, &fe);
	dr->asc = fe.ascent;
	dr->desc = fe.descent;
}

static void draw__rgb(struct draw *dr, struct rgb c)
{
	cairo_set_source_rgb(dr->cr, c.r, c.g, c.b);
}

static void draw__rect(struct draw *dr, double x, double y, double w, double h, struct rgb c)
{
	draw__rgb(dr, c);
	cairo_rectangle(dr->cr, x, y, w, h);
	cairo_fill(dr->cr);
}

/* A panel that has nothing to show says why, instead of an empty frame. */
static void draw__empty(struct draw *dr, double cx, double cy, double max_w, const char *msg)
{
	draw__font(dr, 13, false);
	draw__rgb(dr, MUTED);
	draw__label(dr, msg, cx, cy - draw__text_h(dr) / 2, max_w, AL_CENTER, 0);
}

/* A legend entry ending at *xr, laid out right to left; skipped, and the
 * row closed, once it would cross xmin. */
static void legend__right(struct draw *dr, double *xr, double xmin, double cy, struct rgb c,
			  const char *text)
{
	double w, x;

	draw__font(dr, 10, false);
	w = draw__width(dr, text);
	x = *xr - w;
	if (x - 16 < xmin) {
		*xr = xmin;
		return;
	}
	draw__rect(dr, x - 16, cy - 5, 11, 11, c);
	draw__rgb(dr, MUTED);
	draw__label(dr, text, x, cy - draw__text_h(dr) / 2, w, AL_LEFT, LBL_WHOLE);
	*xr = x - 16 - 16;
}

/* The same, left to right from *xl up to xmax. */
static void legend__left(struct draw *dr, double *xl, double xmax, double cy, struct rgb c,
			 const char *text)
{
	double w;

	draw__font(dr, 11, false);
	w = draw__width(dr, text);
	if (*xl + 16 + w > xmax) {
		*xl = xmax;
		return;
	}
	draw__rect(dr, *xl, cy - 5, 11, 11, c);
	draw__rgb(dr, INK);
	draw__label(dr, text, *xl + 16, cy - draw__text_h(dr) / 2, w, AL_LEFT, LBL_WHOLE);
	*xl += 16 + w + 20;
}

/* ---- panels ---------------------------------------------------------------- */

static void path__round_rect(cairo_t *cr, double x, double y, double w, double h, double r)
{
	cairo_new_sub_path(cr);
	cairo_arc(cr, x + w - r, y + r, r, -M_PI / 2, 0);
	cairo_arc(cr, x + w - r, y + h - r, r, 0, M_PI / 2);
	cairo_arc(cr, x + r, y + h - r, r, M_PI / 2, M_PI);
	cairo_arc(cr, x + r, y + r, r, M_PI, 1.5 * M_PI);
	cairo_close_path(cr);
}

/* Frame and title; returns the x where the title ends, for what shares its row. */
static double panel__begin(struct draw *dr, const char *name, const char *title, struct box b)
{
	cairo_t *cr = dr->cr;

	dr->panel = name;
	path__round_rect(cr, b.x + 0.5, b.y + 0.5, b.w - 1, b.h - 1, 8);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_fill_preserve(cr);
	draw__rgb(dr, FRAME);
	cairo_set_line_width(cr, 1);
	cairo_stroke(cr);
	if (!title)
		return b.x + PAD;
	draw__font(dr, 15, true);
	draw__rgb(dr, INK);
	return b.x + PAD + draw__label(dr, title, b.x + PAD, b.y + 14, b.w - 2 * PAD, AL_LEFT, 0);
}

/* Vertical centre of a panel's title row, for legends sharing it. */
static double panel__title_cy(struct box b)
{
	return b.y + 14 + 9;
}

/*
 * Time labels under a horizontal axis running from x0 (time 0) to x1 (t_max):
 * as many as fit with room between them, the first and last flush with the
 * ends.
 */
static void axis__time(struct draw *dr, double x0, double x1, double top, double t_max)
{
	char buf[UNITS_BUF];
	int n, i;

	draw__font(dr, 10, false);
	/* no more ticks than nanoseconds: "0 ns" twice says nothing */
	for (n = t_max < 10 ? (t_max >= 1 ? (int)t_max : 1) : 10; n > 1; n--) {
		double widest = 0;

		for (i = 0; i <= n; i++) {
			double w = draw__width(dr, units__duration(buf, sizeof(buf),
								   u64__from(t_max * i / n)));

			if (w > widest)
				widest = w;
		}
		/* the end labels sit flush with the ends, so a centred neighbour
		 * needs one and a half widths of room */
		if ((x1 - x0) / n >= 1.5 * widest + 8)
			break;
	}
	for (i = 0; i <= n; i++) {
		double x = x0 + (x1 - x0) * i / n;
		enum align al = i == 0 ? AL_LEFT : i == n ? AL_RIGHT : AL_CENTER;

		draw__rgb(dr, FRAME);
		cairo_rectangle(dr->cr, x - 0.5, top - 5, 1, 4);
		cairo_fill(dr->cr);
		draw__rgb(dr, MUTED);
		units__duration(buf, sizeof(buf), u64__from(t_max * i / n));
		draw__label(dr, buf, x, top, (x1 - x0) / n, al, LBL_WHOLE);
	}
}

/* ---- ordering ------------------------------------------------------------- */

typedef uint64_t (*key_fn)(const void *base, size_t i);

/*
 * The k largest of n entries by key into out, largest first, ties in index
 * order (so the same dash always picks the same). O(n * k), no allocation:
 * k is what fits on screen, n may be thousands.
 */
static size_t top__pick(const void *base, size_t n, key_fn key, size_t *out, size_t k)
{
	size_t cnt = 0, i, j;

	if (!base || !k)
		return 0;
	for (i = 0; i < n; i++) {
		uint64_t v = key(base, i);

		if (cnt == k && v <= key(base, out[k - 1]))
			continue;
		j = cnt < k ? cnt++ : k - 1;
		while (j > 0 && key(base, out[j - 1]) < v) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = i;
	}
	return cnt;
}

static uint64_t key__named(const void *base, size_t i)
{
	return dash_named_key((const struct dash_named *)base + i);
}

/* Groups holding memory at the end first, by bytes; then the others by peak. */
static uint64_t key__var(const void *base, size_t i)
{
	return dash_var_key((const struct dash_var *)base + i);
}

/* ---- header ---------------------------------------------------------------- */

/* alert: the value and its note in red, as something went wrong */
static void header__stat(struct draw *dr, double x, double y, double w, const char *caption,
			 const char *value, const char *sub, bool alert)
{
	draw__font(dr, 11, false);
	draw__rgb(dr, MUTED);
	draw__label(dr, caption, x, y, w, AL_LEFT, 0);
	draw__font(dr, 20, true);
	draw__rgb(dr, alert ? ALERT : INK);
	draw__label(dr, value, x, y + 16, w, AL_LEFT, 0);
	if (sub && *sub) {
		draw__font(dr, 11, false);
		draw__rgb(dr, alert ? ALERT : MUTED);
		draw__label(dr, sub, x, y + 42, w, AL_LEFT, 0);
	}
}

static void panel__header(struct draw *dr, const struct dash *d, struct box b)
{
	double x = b.x + PAD, y = b.y + 76, col = (b.w - 2 * PAD) / 6, w = col - 16;
	char v[UNITS_BUF], t[UNITS_BUF], sub[64];

	panel__begin(dr, "header", NULL, b);
	draw__font(dr, 24, true);
	draw__rgb(dr, INK);
	draw__label(dr, "ttbpf heap report", x, b.y + 12, b.w - 2 * PAD, AL_LEFT, 0);
	draw__font(dr, 13, false);
	draw__rgb(dr, MUTED);
	draw__label(dr, d->target && *d->target ? d->target : "unknown target", x, b.y + 48,
		    b.w - 2 * PAD, AL_LEFT, 0);

	header__stat(dr, x, y, w, "Duration", units__duration(v, sizeof(v), d->duration_ns), NULL,
		     false);
	snprintf(sub, sizeof(sub), "%s allocated", units__bytes(t, sizeof(t), d->total_allocated));
	header__stat(dr, x + col, y, w, "Allocations", units__count(v, sizeof(v), d->total_allocs),
		     sub, false);
	snprintf(sub, sizeof(sub), "%s %s live at the end", units__count(t, sizeof(t), d->active_allocs),
		 units__plural(d->active_allocs, "block", "blocks"));
	header__stat(dr, x + 2 * col, y, w, "Frees", units__count(v, sizeof(v), d->total_frees), sub,
		     false);
	header__stat(dr, x + 3 * col, y, w, "Lost events", units__count(v, sizeof(v), d->lost_events),
		     d->lost_events ? "figures are incomplete" : "none", d->lost_events > 0);
}

/* ---- key figures ----------------------------------------------------------- */

struct figure {
	const char *caption;
	const char *value;
	const char *sub;
	double frac; /* of the bar filled; NAN: no bar */
	struct rgb c;
	bool alert;  /* the value in red: something the reader should look at */
};

static void figure__draw(struct draw *dr, struct box b, const struct figure *f)
{
	double x = b.x, w = b.w;

	draw__font(dr, 12, true);
	draw__rgb(dr, MUTED);
	draw__label(dr, f->caption, x, b.y, w, AL_LEFT, 0);
	draw__font(dr, 24, true);
	draw__rgb(dr, f->alert ? ALERT : INK);
	draw__label(dr, f->value, x, b.y + 20, w, AL_LEFT, 0);
	if (!isnan(f->frac)) {
		draw__rect(dr, x, b.y + 58, w, 6, TRACK);
		if (clamp01(f->frac) > 0)
			draw__rect(dr, x, b.y + 58, w * clamp01(f->frac) < 2 ? 2 : w * clamp01(f->frac),
				   6, f->c);
	}
	draw__font(dr, 11, false);
	draw__rgb(dr, MUTED);
	draw__label(dr, f->sub, x, b.y + 72, w, AL_LEFT, 0);
}

/* "12.3K/s": a count per second of the run. */
static const char *rate__count(char *buf, size_t len, uint64_t n, uint64_t ns)
{
	char c[UNITS_BUF];

	snprintf(buf, len, "%s/s", units__count(c, sizeof(c), u64__from((double)n * 1e9 / ns)));
	return buf;
}

static const char *rate__bytes(char *buf, size_t len, uint64_t n, uint64_t ns)
{
	char c[UNITS_BUF];

	snprintf(buf, len, "%s/s", units__bytes(c, sizeof(c), u64__from((double)n * 1e9 / ns)));
	return buf;
}

#define FIGURES 6

/*
 * What a reader asks first: the peak, what is live at the end and whether it
 * leaked, how fast the program allocates, how much of it is churn
 * (temporaries), and how long the heap stays near its peak.
 */
static void panel__figures(struct draw *dr, const struct dash *d, struct box b)
{
	char v[FIGURES][UNITS_BUF + 8], sub[FIGURES][160], x[UNITS_BUF], y[UNITS_BUF];
	double slot = (b.w - 2 * PAD) / FIGURES;
	struct figure f[FIGURES];
	size_t sites = d->leak_cnt + d->leaks_more;
	int i;

	panel__begin(dr, "figures", "Key figures", b);

	f[0] = (struct figure){ "Peak heap", v[0], sub[0], NAN, LINE, false };
	units__bytes(v[0], sizeof(v[0]), d->peak_bytes);
	if (d->peak_bytes)
		snprintf(sub[0], sizeof(sub[0]), "%s %s, at +%s",
			 units__count(x, sizeof(x), d->peak_cnt),
			 units__plural(d->peak_cnt, "block", "blocks"),
			 units__duration(y, sizeof(y), d->peak_ns));
	else
		snprintf(sub[0], sizeof(sub[0]), "nothing was live");

	f[1] = (struct figure){ d->exited ? "Live at exit" : "Live at the end", v[1], sub[1], NAN,
				ALIVE, false };
	units__bytes(v[1], sizeof(v[1]), d->current_bytes);
	snprintf(sub[1], sizeof(sub[1]), "%s %s", units__count(x, sizeof(x), d->active_allocs),
		 units__plural(d->active_allocs, "block", "blocks"));
	if (d->peak_bytes) {
		size_t n = strlen(sub[1]);

		f[1].frac = (double)d->current_bytes / d->peak_bytes;
		snprintf(sub[1] + n, sizeof(sub[1]) - n, ", %.1f%% of the peak", 100.0 * f[1].frac);
	}

	/* only a process that exited has leaked: a running one may still free */
	f[2] = (struct figure){ "Leaked", v[2], sub[2], NAN, ALERT, false };
	if (!d->exited) {
		snprintf(v[2], sizeof(v[2]), "n/a");
		snprintf(sub[2], sizeof(sub[2]), "still running at the end: see live");
	} else if (!d->current_bytes) {
		units__bytes(v[2], sizeof(v[2]), 0);
		snprintf(sub[2], sizeof(sub[2]), "everything was freed");
	} else {
		f[2].alert = true;
		units__bytes(v[2], sizeof(v[2]), d->current_bytes);
		snprintf(sub[2], sizeof(sub[2]), "never freed, from %s call %s",
			 units__count(x, sizeof(x), sites), units__plural(sites, "site", "sites"));
		if (!sites)
			snprintf(sub[2], sizeof(sub[2]), "never freed");
	}

	f[3] = (struct figure){ "Allocation rate", v[3], sub[3], NAN, MEDIUM, false };
	if (d->duration_ns) {
		rate__count(v[3], sizeof(v[3]), d->total_allocs, d->duration_ns);
		snprintf(sub[3], sizeof(sub[3]), "%s allocated",
			 rate__bytes(x, sizeof(x), d->total_allocated, d->duration_ns));
	} else {
		snprintf(v[3], sizeof(v[3]), "n/a");
		snprintf(sub[3], sizeof(sub[3]), "no time measured");
	}

	f[4] = (struct figure){ "Temporary allocations", v[4], sub[4], NAN, SMALL, false };
	if (d->temps_known) {
		units__count(v[4], sizeof(v[4]), d->temp_allocs);
		if (d->total_allocs)
			f[4].frac = (double)d->temp_allocs / d->total_allocs;
		snprintf(sub[4], sizeof(sub[4]), "%.1f%% of all, freed in " LE " %s",
			 d->total_allocs ? 100.0 * f[4].frac : 0.0,
			 units__duration(x, sizeof(x), d->temp_window_ns));
	} else {
		snprintf(v[4], sizeof(v[4]), "n/a");
		snprintf(sub[4], sizeof(sub[4]), "not counted (--aggregate)");
	}

	f[5] = (struct figure){ "Time near the peak", v[5], sub[5], NAN, LARGE, false };
	if (d->peak_bytes && d->duration_ns && d->timeline_cnt) {
		f[5].frac = (double)d->near_peak_ns / d->duration_ns;
		snprintf(v[5], sizeof(v[5]), "%.1f%%", 100.0 * clamp01(f[5].frac));
		snprintf(sub[5], sizeof(sub[5]), "%s at " GE " %d%% of the peak",
			 units__duration(x, sizeof(x), d->near_peak_ns), DASH_NEAR_PEAK_PCT);
	} else {
		snprintf(v[5], sizeof(v[5]), "n/a");
		snprintf(sub[5], sizeof(sub[5]), d->timeline_cnt ? "no peak" : "no timeline");
	}

	for (i = 0; i < FIGURES; i++) {
		struct box t = { b.x + PAD + slot * i, b.y + TITLE_H, slot - 24, b.h - TITLE_H - PAD };

		figure__draw(dr, t, &f[i]);
	}
}

/* ---- leaks ----------------------------------------------------------------- */

/* Entries a list shows: the dash's --top, else the panel's own default. */
static size_t rows__of(const struct dash *d, size_t dflt, size_t max)
{
	size_t n = d->top ? d->top : dflt;

	return n > max ? max : n;
}

static uint64_t key__leak(const void *base, size_t i)
{
	return ((const struct dash_leak *)base)[i].live_bytes;
}

static size_t leaks__rows(const struct dash *d)
{
	size_t n = d->leaks ? d->leak_cnt : 0, rows = rows__of(d, 10, DASH_TOP_MAX);

	return n < rows ? n : rows;
}

static double leaks__height(const struct dash *d)
{
	size_t rows = leaks__rows(d);

	return TITLE_H + 18 + rows * LEAK_ROW_H + (rows < d->leak_cnt + d->leaks_more ? MORE_H : 0) +
	       PAD;
}

/* "parse_line (parser.c:41)": the function and where, base name only. */
static void where__label(char *out, size_t cap, const char *function, const char *file, int line)
{
	const char *fn = function && *function ? function : "??", *slash;

	/* the base name: directories would crowd out the function */
	if (file && !*file)
		file = NULL;
	if (file && (slash = strrchr(file, '/')) && slash[1])
		file = slash + 1;
	if (file && line > 0)
		snprintf(out, cap, "%.2000s (%.1000s:%d)", fn, file, line);
	else if (file)
		snprintf(out, cap, "%.2000s (%.1000s)", fn, file);
	else if (line > 0)
		snprintf(out, cap, "%.2000s (?:%d)", fn, line);
	else
		snprintf(out, cap, "%.2000s", fn);
}

/*
 * What is still live, by call site, the most bytes first: the first user
 * frame of each (the call site when the report names none), its live bytes
 * and blocks, and how many allocations it made in all.
 */
static void panel__leaks(struct draw *dr, const struct dash *d, struct box b)
{
	const double cw = 120; /* each figure's column */
	double x0 = b.x + PAD, w = b.w - 2 * PAD, nw = w - 3 * cw - 16, y = b.y + TITLE_H + 18;
	double title_end, xr, max;
	size_t idx[DASH_TOP_MAX], rows = leaks__rows(d), shown, all = d->leak_cnt + d->leaks_more, i;
	char name[LABEL_MAX], buf[UNITS_BUF], more[128];

	title_end = panel__begin(dr, "leaks",
				 d->exited ? "Still live at exit, by call site" :
					     "Still live at the end, by call site", b);
	xr = b.x + b.w - PAD;
	legend__right(dr, &xr, title_end + 16, panel__title_cy(b), ALIVE, "live bytes");
	draw__font(dr, 10, false);
	draw__rgb(dr, MUTED);
	draw__label(dr, "call site (first user frame)", x0, y - 16, nw, AL_LEFT, 0);
	draw__label(dr, "live", x0 + nw + 16 + cw, y - 16, cw, AL_RIGHT, 0);
	draw__label(dr, "blocks", x0 + nw + 16 + 2 * cw, y - 16, cw, AL_RIGHT, 0);
	draw__label(dr, "allocations", x0 + w, y - 16, cw, AL_RIGHT, 0);

	shown = top__pick(d->leaks, d->leak_cnt, key__leak, idx, rows);
	max = shown ? (double)d->leaks[idx[0]].live_bytes : 0;
	for (i = 0; i < shown; i++, y += LEAK_ROW_H) {
		const struct dash_leak *l = &d->leaks[idx[i]];
		double bw = max > 0 ? nw * ((double)l->live_bytes / max) : 0, ty;

		draw__rect(dr, x0, y + 1, bw < 3 ? 3 : bw, LEAK_ROW_H - 3, (struct rgb){ 0.99, 0.88, 0.74 });
		draw__font(dr, 11, false);
		ty = y + (LEAK_ROW_H - 2 - draw__text_h(dr)) / 2;
		where__label(name, sizeof(name), l->function, l->file, l->line);
		draw__rgb(dr, INK);
		draw__label(dr, name, x0 + 6, ty, nw - 12, AL_LEFT, 0);
		draw__font(dr, 11, true);
		draw__label(dr, units__bytes(buf, sizeof(buf), l->live_bytes), x0 + nw + 16 + cw, ty,
			    cw, AL_RIGHT, 0);
		draw__font(dr, 11, false);
		draw__label(dr, units__count(buf, sizeof(buf), l->live_cnt), x0 + nw + 16 + 2 * cw, ty,
			    cw, AL_RIGHT, 0);
		draw__label(dr, units__count(buf, sizeof(buf), l->allocs), x0 + w, ty, cw, AL_RIGHT,
			    0);
	}
	if (shown < all) {
		snprintf(more, sizeof(more), "+%s more call %s still holding memory (--top N; JSON: "
			 "call_sites)", units__count(buf, sizeof(buf), all - shown),
			 units__plural(all - shown, "site", "sites"));
		draw__font(dr, 11, false);
		draw__rgb(dr, MUTED);
		draw__label(dr, more, x0, y + 4, w, AL_LEFT, 0);
	}
}

/* ---- heatmap --------------------------------------------------------------- */

/* Cold to hot: dark blue, teal, yellow, red. */
static struct rgb heat__colour(double t)
{
	static const struct {
		double t;
		struct rgb c;
	} stop[] = {
		{ 0.00, { 0.12, 0.16, 0.44 } },
		{ 0.33, { 0.13, 0.50, 0.62 } },
		{ 0.66, { 0.98, 0.82, 0.25 } },
		{ 1.00, { 0.84, 0.12, 0.10 } },
	};
	size_t i;
	double f;

	t = clamp01(t);
	for (i = 1; i < sizeof(stop) / sizeof(stop[0]) - 1 && t > stop[i].t; i++)
		;
	f = (t - stop[i - 1].t) / (stop[i].t - stop[i - 1].t);
	return (struct rgb){ stop[i - 1].c.r + f * (stop[i].c.r - stop[i - 1].c.r),
			     stop[i - 1].c.g + f * (stop[i].c.g - stop[i - 1].c.g),
			     stop[i - 1].c.b + f * (stop[i].c.b - stop[i - 1].c.b) };
}

/* Allocations of size bucket `row` in display column c of n: time slices
 * are merged when there are more of them than fit. */
static uint64_t heat__cell(const struct dash *d, unsigned int row, unsigned int c, unsigned int n)
{
	uint64_t lo = (uint64_t)c * d->heat_cols / n, hi = (uint64_t)(c + 1) * d->heat_cols / n;
	uint64_t v = 0;

	for (; lo < hi; lo++)
		v = sat_add(v, d->heat[(size_t)row * d->heat_cols + lo]);
	return v;
}

static const char *bucket__label(char *buf, size_t len, unsigned int k)
{
	char b[UNITS_BUF];

	if (k == 0)
		snprintf(buf, len, LE "%s", units__bytes(b, sizeof(b), 16));
	else if (k == DASH_SIZE_BUCKETS - 1)
		snprintf(buf, len, "> %s", units__bytes(b, sizeof(b), 16ULL << (k - 1)));
	else
		snprintf(buf, len, "%s", units__bytes(b, sizeof(b), 16ULL << k));
	return buf;
}

static void heat__scale(struct draw *dr, struct box b, double xmin, uint64_t max)
{
	char buf[UNITS_BUF];
	double cy = panel__title_cy(b), xr = b.x + b.w - PAD, w;
	cairo_pattern_t *p;
	int i;

	draw__font(dr, 10, false);
	draw__rgb(dr, MUTED);
	units__count(buf, sizeof(buf), max);
	w = draw__width(dr, buf) + draw__width(dr, "1") + draw__width(dr, "allocations per cell (log)") +
	    120 + 3 * 8;
	if (xr - w < xmin + 16)
		return;
	xr -= draw__label(dr, buf, xr, cy - draw__text_h(dr) / 2, 80, AL_RIGHT, LBL_WHOLE) + 8;
	p = cairo_pattern_create_linear(xr - 120, 0, xr, 0);
	for (i = 0; i <= 8; i++) {
		struct rgb c = heat__colour(i / 8.0);

		cairo_pattern_add_color_stop_rgb(p, i / 8.0, c.r, c.g, c.b);
	}
	cairo_set_source(dr->cr, p);
	cairo_rectangle(dr->cr, xr - 120, cy - 5, 120, 10);
	cairo_fill(dr->cr);
	cairo_pattern_destroy(p);
	xr -= 120 + 8;
	draw__rgb(dr, MUTED);
	xr -= draw__label(dr, "1", xr, cy - draw__text_h(dr) / 2, 40, AL_RIGHT, LBL_WHOLE) + 8;
	draw__label(dr, "allocations per cell (log)", xr, cy - draw__text_h(dr) / 2, xr - xmin - 16,
		    AL_RIGHT, 0);
}

static void panel__heatmap(struct draw *dr, const struct dash *d, struct box b)
{
	double gx0 = b.x + PAD + 84, gx1 = b.x + b.w - PAD, gy0 = b.y + TITLE_H;
	double gy1 = gy0 + DASH_SIZE_BUCKETS * HEAT_ROW_H, title_end, cw, lmax;
	unsigned int n, r, c;
	uint64_t max = 0;
	char buf[UNITS_BUF];

	title_end = panel__begin(dr, "heatmap", "Allocation heatmap (size " TIMES " time)", b);
	n = d->heat && d->heat_cols ? d->heat_cols : 0;
	if (n > HEAT_MAX_COLS)
		n = HEAT_MAX_COLS;
	for (r = 0; r < DASH_SIZE_BUCKETS; r++)
		for (c = 0; c < n; c++) {
			uint64_t v = heat__cell(d, r, c, n);

			if (v > max)
				max = v;
		}
	if (!max) {
		draw__empty(dr, b.x + b.w / 2, (gy0 + gy1) / 2, b.w - 2 * PAD, "no allocations");
		return;
	}
	heat__scale(dr, b, title_end, max);

	cw = (gx1 - gx0) / n;
	lmax = log1p((double)max);
	for (r = 0; r < DASH_SIZE_BUCKETS; r++) {
		/* the smallest sizes at the bottom, like a y axis */
		double y = gy1 - (r + 1) * HEAT_ROW_H;

		draw__font(dr, 10, false);
		draw__rgb(dr, MUTED);
		draw__label(dr, bucket__label(buf, sizeof(buf), r), gx0 - 8,
			    y + (HEAT_ROW_H - draw__text_h(dr)) / 2, 76, AL_RIGHT, 0);
		draw__font(dr, 9, false);
		for (c = 0; c < n; c++) {
			uint64_t v = heat__cell(d, r, c, n);
			double x = gx0 + c * cw, inset = cw >= 4 ? 0.5 : 0;
			struct rgb col = v ? heat__colour(log1p((double)v) / lmax) : EMPTY_CELL;

			draw__rect(dr, x + inset, y + 0.5, cw - 2 * inset, HEAT_ROW_H - 1, col);
			if (!v || cw < 16)
				continue;
			/* dark text on the light middle of the scale */
			if (0.299 * col.r + 0.587 * col.g + 0.114 * col.b > 0.55)
				draw__rgb(dr, INK);
			else
				cairo_set_source_rgb(dr->cr, 1, 1, 1);
			draw__label(dr, units__count(buf, sizeof(buf), v), x + cw / 2,
				    y + (HEAT_ROW_H - draw__text_h(dr)) / 2, cw - 4, AL_CENTER,
				    LBL_WHOLE);
		}
	}
	axis__time(dr, gx0, gx1, gy1 + 8, (double)d->duration_ns);
}

/* ---- memory by type, size histogram ----------------------------------------- */

static void named__label(struct draw *dr, char *out, size_t cap, const struct dash_named *e,
			 const char *fallback, double max_w)
{
	char tail[96], b[UNITS_BUF], c[UNITS_BUF];

	snprintf(tail, sizeof(tail), EM_DASH "%s (%s)", units__bytes(b, sizeof(b), e->bytes),
		 units__count(c, sizeof(c), e->count));
	draw__compose(dr, out, cap, e->name && *e->name ? e->name : fallback, tail, max_w);
}

/* Rows of the types panel, its "+N more" line included. */
static size_t types__rows(const struct dash *d)
{
	size_t n = d->types ? d->type_cnt : 0, want = rows__of(d, TYPE_ROWS, TYPE_ROWS_MAX);
	size_t all = n + (d->types ? d->types_more : 0);

	return all > want ? want + 1 : all;
}

static double types__height(const struct dash *d)
{
	return TITLE_H + types__rows(d) * TYPE_ROW_H + PAD;
}

static void panel__types(struct draw *dr, const struct dash *d, struct box b)
{
	double x = b.x + PAD, w = b.w - 2 * PAD, y = b.y + TITLE_H, row = TYPE_ROW_H;
	size_t n = d->types ? d->type_cnt : 0, rows = types__rows(d);
	size_t all = n + d->types_more, idx[TYPE_ROWS_MAX + 1], shown, i;
	char label[2 * LABEL_MAX + 8], more[64];
	uint64_t max;

	panel__begin(dr, "types", "Memory by type", b);
	if (!n) {
		draw__empty(dr, b.x + b.w / 2, b.y + b.h / 2, w,
			    "no tracked variables " "\xe2\x80\x94" " add TT_TRACK_VAR");
		return;
	}
	shown = top__pick(d->types, n, key__named, idx, all > rows ? rows - 1 : rows);
	max = d->types[idx[0]].bytes;
	for (i = 0; i < shown; i++, y += row) {
		const struct dash_named *e = &d->types[idx[i]];
		double bw = max ? w * ((double)e->bytes / max) : 0;

		draw__font(dr, 11, false);
		named__label(dr, label, sizeof(label), e, "(unnamed)", w);
		draw__rgb(dr, INK);
		draw__label(dr, label, x, y, w, AL_LEFT, 0);
		draw__rect(dr, x, y + 16, w, 10, GRID);
		draw__rect(dr, x, y + 16, bw < 2 && e->bytes ? 2 : bw, 10,
			   PALETTE[i % PALETTE_N]);
	}
	if (shown < all) {
		char c[UNITS_BUF];

		snprintf(more, sizeof(more), "+%s more %s", units__count(c, sizeof(c), all - shown),
			 units__plural(all - shown, "type", "types"));
		draw__font(dr, 11, false);
		draw__rgb(dr, MUTED);
		draw__label(dr, more, x, y + 4, w, AL_LEFT, 0);
	}
}

static struct rgb bucket__class(unsigned int k)
{
	/* a bucket's upper bound decides its class; the last has none */
	uint64_t top = k == DASH_SIZE_BUCKETS - 1 ? UINT64_MAX : 16ULL << k;

	return top <= DASH_SMALL_MAX ? SMALL : top <= DASH_MEDIUM_MAX ? MEDIUM : LARGE;
}

static void panel__sizes(struct draw *dr, const struct dash *d, struct box b)
{
	double x0 = b.x + PAD + 8, x1 = b.x + b.w - PAD - 8, slot = (x1 - x0) / DASH_SIZE_BUCKETS;
	double base = b.y + b.h - PAD - 2 * 14 - 8, top = b.y + TITLE_H + 16, xr, title_end;
	char buf[UNITS_BUF], legend[64];
	uint64_t max = 0;
	unsigned int k;

	title_end = panel__begin(dr, "sizes", "Allocation sizes", b);
	for (k = 0; k < DASH_SIZE_BUCKETS; k++)
		if (d->size_hist[k] > max)
			max = d->size_hist[k];
	if (!max) {
		draw__empty(dr, b.x + b.w / 2, b.y + b.h / 2, b.w - 2 * PAD, "no allocations");
		return;
	}

	xr = b.x + b.w - PAD;
	snprintf(legend, sizeof(legend), "large > %s", units__bytes(buf, sizeof(buf), DASH_MEDIUM_MAX));
	legend__right(dr, &xr, title_end + 16, panel__title_cy(b), LARGE, legend);
	snprintf(legend, sizeof(legend), "medium " LE " %s",
		 units__bytes(buf, sizeof(buf), DASH_MEDIUM_MAX));
	legend__right(dr, &xr, title_end + 16, panel__title_cy(b), MEDIUM, legend);
	snprintf(legend, sizeof(legend), "small " LE " %s", units__bytes(buf, sizeof(buf), DASH_SMALL_MAX));
	legend__right(dr, &xr, title_end + 16, panel__title_cy(b), SMALL, legend);

	draw__rect(dr, x0, base, x1 - x0, 1, FRAME);
	for (k = 0; k < DASH_SIZE_BUCKETS; k++) {
		uint64_t v = d->size_hist[k];
		double cx = x0 + slot * (k + 0.5), h = (base - top) * ((double)v / max);

		if (v && h < 1)
			h = 1;
		draw__rect(dr, cx - slot * 0.4, base - h, slot * 0.8, h, bucket__class(k));
		draw__font(dr, 9, false);
		draw__rgb(dr, INK);
		if (v)
			draw__label(dr, units__count(buf, sizeof(buf), v), cx,
				    base - h - 2 - draw__text_h(dr), slot - 2, AL_CENTER, LBL_WHOLE);
		/* staggered on two rows, so that every bucket gets its label */
		draw__font(dr, 10, false);
		draw__rgb(dr, MUTED);
		draw__label(dr, bucket__label(buf, sizeof(buf), k), cx, base + 6 + (k % 2) * 14,
			    2 * slot - 6, AL_CENTER, LBL_WHOLE);
	}
}

/* ---- categories, call-site tree ------------------------------------------------ */

static void panel__categories(struct draw *dr, const struct dash *d, struct box b)
{
	double cx = b.x + PAD + 140, cy = b.y + TITLE_H + (b.h - TITLE_H - PAD) / 2;
	double ro = 130, ri = 78, lx = b.x + PAD + 300, lw = b.x + b.w - PAD - lx, ly, a, total = 0;
	size_t n = d->categories ? d->category_cnt : 0, idx[CAT_ROWS], shown, i;
	size_t all = n + d->categories_more;
	struct dash_named other = { "other", 0, 0 };
	char label[2 * LABEL_MAX + 8], buf[UNITS_BUF], name[48];
	bool by_count = false;
	uint64_t sum_bytes = 0, sum_count = 0;

	panel__begin(dr, "categories", "Allocations by category", b);
	if (!n) {
		draw__empty(dr, b.x + b.w / 2, b.y + b.h / 2, b.w - 2 * PAD,
			    "no tracked variables " "\xe2\x80\x94" " add TT_TRACK_VAR");
		return;
	}
	shown = top__pick(d->categories, n, key__named, idx, all > CAT_ROWS ? CAT_ROWS - 1 : CAT_ROWS);
	for (i = 0; i < n; i++) {
		sum_bytes = sat_add(sum_bytes, d->categories[i].bytes);
		sum_count = sat_add(sum_count, d->categories[i].count);
		total += (double)d->categories[i].bytes;
	}
	sum_bytes = sat_add(sum_bytes, d->categories_more_bytes);
	sum_count = sat_add(sum_count, d->categories_more_count);
	total += (double)d->categories_more_bytes;
	if (total <= 0) {
		/* nothing measured in bytes: share by count rather than nothing */
		by_count = true;
		for (i = 0; i < n; i++)
			total += (double)d->categories[i].count;
		total += (double)d->categories_more_count;
	}
	if (shown < all) {
		other.bytes = d->categories_more_bytes;
		other.count = d->categories_more_count;
		/* what is not among the picked few goes to "other" */
		for (i = 0; i < n; i++) {
			size_t j;

			for (j = 0; j < shown && idx[j] != i; j++)
				;
			if (j < shown)
				continue;
			other.bytes = sat_add(other.bytes, d->categories[i].bytes);
			other.count = sat_add(other.count, d->categories[i].count);
		}
	}

	/* the ring */
	draw__rgb(dr, TRACK);
	cairo_arc(dr->cr, cx, cy, ro, 0, 2 * M_PI);
	cairo_arc_negative(dr->cr, cx, cy, ri, 2 * M_PI, 0);
	cairo_fill(dr->cr);
	a = -M_PI / 2;
	for (i = 0; i <= shown && total > 0; i++) {
		const struct dash_named *e = i < shown ? &d->categories[idx[i]] : &other;
		double v = by_count ? (double)e->count : (double)e->bytes, s = 2 * M_PI * v / total;

		if (i == shown && shown == all)
			break;
		if (s <= 0)
			continue;
		draw__rgb(dr, i < shown ? PALETTE[i % PALETTE_N] : TRACK);
		cairo_arc(dr->cr, cx, cy, ro, a, a + s);
		cairo_arc_negative(dr->cr, cx, cy, ri, a + s, a);
		cairo_close_path(dr->cr);
		if (s > 2 * M_PI - 1e-6) {
			/* the whole ring: a separator would be a stray seam */
			cairo_fill(dr->cr);
			break;
		}
		cairo_fill_preserve(dr->cr);
		cairo_set_source_rgb(dr->cr, 1, 1, 1);
		cairo_set_line_width(dr->cr, 1.5);
		cairo_stroke(dr->cr);
		a += s;
	}
	draw__font(dr, 18, true);
	draw__rgb(dr, INK);
	draw__label(dr, units__bytes(buf, sizeof(buf), sum_bytes), cx, cy - 4 - draw__text_h(dr),
		    2 * ri - 12, AL_CENTER, 0);
	draw__font(dr, 11, false);
	draw__rgb(dr, MUTED);
	snprintf(label, sizeof(label), "%s %s", units__count(buf, sizeof(buf), sum_count),
		 units__plural(sum_count, "allocation", "allocations"));
	draw__label(dr, label, cx, cy + 4, 2 * ri - 12, AL_CENTER, 0);

	/* the legend */
	ly = b.y + TITLE_H + 4;
	for (i = 0; i <= shown; i++, ly += 22) {
		const struct dash_named *e = i < shown ? &d->categories[idx[i]] : &other;

		if (i == shown) {
			if (shown == all)
				break;
			snprintf(name, sizeof(name), "other (%s more)",
				 units__count(buf, sizeof(buf), all - shown));
			other.name = name;
		}
		draw__rect(dr, lx, ly + 2, 11, 11, i < shown ? PALETTE[i % PALETTE_N] : TRACK);
		draw__font(dr, 11, false);
		named__label(dr, label, sizeof(label), e, "(unnamed)", lw - 18);
		draw__rgb(dr, INK);
		draw__label(dr, label, lx + 18, ly, lw - 18, AL_LEFT, 0);
	}
}

/* Is site i a root? A parent out of range counts as none. */
static bool site__is_root(const struct dash *d, size_t i)
{
	return d->sites[i].parent < 0 || (size_t)d->sites[i].parent >= d->site_cnt;
}

static bool site__before(const struct dash *d, size_t a, size_t b)
{
	return d->sites[a].bytes > d->sites[b].bytes ||
	       (d->sites[a].bytes == d->sites[b].bytes && a < b);
}

/*
 * The child of p (a root when p is SIZE_MAX) that follows `after` in order
 * of bytes, SIZE_MAX for the first; SIZE_MAX when there is none. A scan per
 * step keeps it allocation-free; only a dozen nodes are ever shown. A cycle
 * of parents cannot be entered: none of its nodes descends from a root.
 */
static size_t site__next(const struct dash *d, size_t p, size_t after)
{
	size_t i, best = SIZE_MAX;

	for (i = 0; i < d->site_cnt; i++) {
		if (p == SIZE_MAX ? !site__is_root(d, i) :
				    site__is_root(d, i) || (size_t)d->sites[i].parent != p)
			continue;
		if (after != SIZE_MAX && !site__before(d, after, i))
			continue;
		if (best == SIZE_MAX || site__before(d, i, best))
			best = i;
	}
	return best;
}

static void site__label(struct draw *dr, char *out, size_t cap, const struct dash_site *s,
			enum dash_sort sort, double max_w)
{
	char head[LABEL_MAX], tail[96], c[UNITS_BUF], b[UNITS_BUF];

	where__label(head, sizeof(head), s->function, s->file, s->line);
	units__count(c, sizeof(c), s->count);
	units__bytes(b, sizeof(b), s->bytes);
	if (sort == DASH_SORT_ALLOCATED)
		snprintf(tail, sizeof(tail), EM_DASH "%s %s, %s", c,
			 units__plural(s->count, "alloc", "allocs"), b);
	else
		snprintf(tail, sizeof(tail), EM_DASH "%s %s in %s %s", b,
			 sort == DASH_SORT_PEAK ? "at the peak" : "live", c,
			 units__plural(s->count, "block", "blocks"));
	draw__compose(dr, out, cap, head, tail, max_w);
}

static const char *const sort_titles[] = {
	[DASH_SORT_LIVE] = "Call-site tree, by live bytes",
	[DASH_SORT_PEAK] = "Call-site tree, by bytes at the peak",
	[DASH_SORT_ALLOCATED] = "Call-site tree, by bytes allocated",
};

static enum dash_sort sort__of(const struct dash *d)
{
	return d->sort <= DASH_SORT_ALLOCATED ? d->sort : DASH_SORT_LIVE;
}

/* Nodes the tree shows: every node the dash holds, up to SITE_ROWS. */
static size_t sites__rows(const struct dash *d)
{
	return d->site_cnt < SITE_ROWS ? d->site_cnt : SITE_ROWS;
}

static double sites__height(const struct dash *d)
{
	size_t rows = sites__rows(d);

	return TITLE_H + rows * SITE_ROW_H + (rows < d->site_cnt ? MORE_H : 0) + PAD;
}

static void panel__sites(struct draw *dr, const struct dash *d, struct box b)
{
	static const struct rgb depth_rgb[] = {
		{ 0.74, 0.83, 0.96 }, { 0.78, 0.91, 0.80 }, { 0.99, 0.85, 0.70 },
		{ 0.89, 0.80, 0.95 }, { 0.97, 0.82, 0.82 }, { 0.84, 0.88, 0.91 },
	};
	double x0 = b.x + PAD, w = b.w - 2 * PAD, y = b.y + TITLE_H, row = SITE_ROW_H, max;
	size_t path[SITE_ROWS + 1], dep = 0, shown = 0, rows = sites__rows(d), c;
	char label[2 * LABEL_MAX + 8], buf[UNITS_BUF], more[64];

	panel__begin(dr, "sites", sort_titles[sort__of(d)], b);
	path[0] = d->sites ? site__next(d, SIZE_MAX, SIZE_MAX) : SIZE_MAX;
	if (path[0] == SIZE_MAX) {
		draw__empty(dr, b.x + b.w / 2, b.y + b.h / 2, w, "no call stacks recorded");
		return;
	}
	max = (double)d->sites[path[0]].bytes;

	/* depth first, heaviest first: each call site followed by its callers */
	while (path[0] != SIZE_MAX && shown < rows) {
		const struct dash_site *s = &d->sites[path[dep]];
		double indent = 16.0 * (dep < 8 ? dep : 8), bw;

		bw = max > 0 ? (w - indent) * ((double)s->bytes / max) : 0;
		if (bw > w - indent)
			bw = w - indent;
		if (bw < 3)
			bw = 3;
		draw__rect(dr, x0 + indent, y + 1, bw, row - 3,
			   depth_rgb[dep % (sizeof(depth_rgb) / sizeof(depth_rgb[0]))]);
		draw__font(dr, 11, false);
		site__label(dr, label, sizeof(label), s, sort__of(d), w - indent - 12);
		draw__rgb(dr, INK);
		draw__label(dr, label, x0 + indent + 6, y + (row - 2 - draw__text_h(dr)) / 2,
			    w - indent - 12, AL_LEFT, 0);
		y += row;
		shown++;

		c = dep + 1 < SITE_ROWS ? site__next(d, path[dep], SIZE_MAX) : SIZE_MAX;
		if (c != SIZE_MAX) {
			path[++dep] = c;
			continue;
		}
		for (;;) {
			c = site__next(d, dep ? path[dep - 1] : SIZE_MAX, path[dep]);
			if (c != SIZE_MAX) {
				path[dep] = c;
				break;
			}
			if (!dep) {
				path[0] = SIZE_MAX;
				break;
			}
			dep--;
		}
	}
	if (shown < d->site_cnt) {
		snprintf(more, sizeof(more), "+%s more %s",
			 units__count(buf, sizeof(buf), d->site_cnt - shown),
			 units__plural(d->site_cnt - shown, "node", "nodes"));
		draw__font(dr, 11, false);
		draw__rgb(dr, MUTED);
		draw__label(dr, more, x0, y + 4, w, AL_LEFT, 0);
	}
}

/* ---- growth ------------------------------------------------------------------ */

/* The chart's frame: time 0..tmax across x0..x1, bytes 0..ymax up y1..y0. */
struct chart {
	double x0, x1, y0, y1, tmax, ymax;
};

static double chart__x(const struct chart *c, double t)
{
	return c->x0 + (c->x1 - c->x0) * clamp01(t / c->tmax);
}

static double chart__y(const struct chart *c, double v)
{
	return c->y1 - (c->y1 - c->y0) * clamp01(v / c->ymax);
}

/* A point's value in one series; false: it has none. */
typedef bool (*point_fn)(const struct dash_point *p, double *v);

static bool point__live(const struct dash_point *p, double *v)
{
	*v = (double)p->live_bytes;
	return true;
}

static bool point__rss(const struct dash_point *p, double *v)
{
	*v = (double)p->rss_bytes;
	return p->has_rss;
}

/* No RSS was sampled (--aggregate, a report without rss_bytes): no line. */
static bool growth__has_rss(const struct dash *d)
{
	size_t i;

	for (i = 0; d->timeline && i < d->timeline_cnt; i++)
		if (d->timeline[i].has_rss)
			return true;
	return false;
}

/*
 * One series as a path, in time order, from (0, 0) with from_zero (tracing
 * starts with nothing live), else from its first value (RSS has none before
 * its first sample). A pixel column keeps its highest point only, so that
 * huge timelines stay small and peaks stay. False: no point has a value.
 */
static bool chart__series(cairo_t *cr, const struct chart *c, const struct dash *d, point_fn val,
			  bool from_zero)
{
	double px = -1, pmax = 0, v, t_last = 0;
	size_t i;

	if (from_zero)
		cairo_move_to(cr, chart__x(c, 0), chart__y(c, 0));
	for (i = 0; i < d->timeline_cnt; i++) {
		const struct dash_point *p = &d->timeline[i];
		double x;

		if (!val(p, &v))
			continue;
		x = floor(chart__x(c, (double)p->t_ns));
		if (px < 0 && !from_zero)
			cairo_move_to(cr, x, chart__y(c, v));
		if (x != px && px >= 0)
			cairo_line_to(cr, px, chart__y(c, pmax));
		if (x != px)
			pmax = 0;
		if (v >= pmax)
			pmax = v;
		px = x;
		t_last = (double)p->t_ns;
	}
	if (px < 0)
		return false;
	cairo_line_to(cr, chart__x(c, t_last), chart__y(c, pmax));
	return true;
}

static void panel__growth(struct draw *dr, const struct dash *d, struct box b)
{
	struct chart c = { b.x + PAD + 84, b.x + b.w - PAD - 8, b.y + TITLE_H + 8,
			   b.y + b.h - PAD - 24, 0, 0 };
	size_t n = d->timeline ? d->timeline_cnt : 0, i;
	bool rss = growth__has_rss(d);
	double title_end, xr, v;
	cairo_t *cr = dr->cr;
	char buf[UNITS_BUF], t[UNITS_BUF], label[96];
	int k;

	title_end = panel__begin(dr, "growth", "Memory growth", b);
	if (!n) {
		draw__empty(dr, b.x + b.w / 2, b.y + b.h / 2, b.w - 2 * PAD, "no timeline");
		return;
	}
	if (rss) {
		xr = b.x + b.w - PAD;
		legend__right(dr, &xr, title_end + 16, panel__title_cy(b), RSS, "RSS");
		legend__right(dr, &xr, title_end + 16, panel__title_cy(b), LINE, "live bytes");
	}
	c.tmax = (double)d->duration_ns;
	if ((double)d->timeline[n - 1].t_ns > c.tmax)
		c.tmax = (double)d->timeline[n - 1].t_ns;
	if (c.tmax <= 0)
		c.tmax = 1;
	/* one byte axis for both lines */
	for (i = 0; i < n; i++) {
		if ((double)d->timeline[i].live_bytes > c.ymax)
			c.ymax = (double)d->timeline[i].live_bytes;
		if (point__rss(&d->timeline[i], &v) && v > c.ymax)
			c.ymax = v;
	}
	if ((double)d->peak_bytes > c.ymax)
		c.ymax = (double)d->peak_bytes;
	/* headroom for the peak's label above its line */
	c.ymax = c.ymax > 0 ? c.ymax * 1.12 : 1;

	for (k = 0; k <= 4; k++) {
		double y = c.y1 - (c.y1 - c.y0) * k / 4;

		draw__rect(dr, c.x0, y - 0.5, c.x1 - c.x0, 1, k ? GRID : FRAME);
		draw__font(dr, 10, false);
		draw__rgb(dr, MUTED);
		draw__label(dr, units__bytes(buf, sizeof(buf), u64__from(c.ymax * k / 4)), c.x0 - 8,
			    y - draw__text_h(dr) / 2, 76, AL_RIGHT, LBL_WHOLE);
	}

	chart__series(cr, &c, d, point__live, true);
	{
		cairo_path_t *line = cairo_copy_path(cr);

		cairo_line_to(cr, chart__x(&c, (double)d->timeline[n - 1].t_ns), c.y1);
		cairo_line_to(cr, chart__x(&c, 0), c.y1);
		cairo_close_path(cr);
		cairo_set_source_rgba(cr, LINE.r, LINE.g, LINE.b, 0.22);
		cairo_fill(cr);
		cairo_new_path(cr);
		cairo_append_path(cr, line);
		cairo_path_destroy(line);
	}
	draw__rgb(dr, LINE);
	cairo_set_line_width(cr, 2);
	cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
	cairo_stroke(cr);

	/* over the heap's area, under the peak's line: no fill, the heap's is
	 * what the other panels break down */
	if (rss && chart__series(cr, &c, d, point__rss, false)) {
		draw__rgb(dr, RSS);
		cairo_set_line_width(cr, 2);
		cairo_stroke(cr);
	}

	if (d->peak_bytes) {
		double dash[] = { 6, 4 }, yp = chart__y(&c, (double)d->peak_bytes);

		draw__rgb(dr, ALERT);
		cairo_set_line_width(cr, 1.2);
		cairo_set_dash(cr, dash, 2, 0);
		cairo_move_to(cr, c.x0, yp);
		cairo_line_to(cr, c.x1, yp);
		cairo_stroke(cr);
		cairo_set_dash(cr, NULL, 0, 0);
		cairo_arc(cr, chart__x(&c, (double)d->peak_ns), yp, 4, 0, 2 * M_PI);
		cairo_fill(cr);
		snprintf(label, sizeof(label), "peak %s at +%s",
			 units__bytes(buf, sizeof(buf), d->peak_bytes),
			 units__duration(t, sizeof(t), d->peak_ns));
		draw__font(dr, 11, true);
		draw__label(dr, label, c.x1 - 4, yp - 4 - draw__text_h(dr), (c.x1 - c.x0) / 2,
			    AL_RIGHT, 0);
	}
	axis__time(dr, c.x0, c.x1, c.y1 + 8, c.tmax);
}

/* ---- variables ----------------------------------------------------------------- */

static size_t vars__rows(const struct dash *d)
{
	return rows__of(d, VAR_ROWS, DASH_TOP_MAX > VAR_ROWS ? DASH_TOP_MAX : VAR_ROWS);
}

/* The rows shown, the time axis and the line about what is not shown. */
static double vars__height(const struct dash *d)
{
	size_t n = d->vars ? d->var_cnt : 0, rows = vars__rows(d);

	return TITLE_H + 20 + (n < rows ? n : rows) * VAR_ROW_H + 24 + 20 + PAD;
}

static void panel__vars(struct draw *dr, const struct dash *d, struct box b)
{
	/* columns: name, type, bytes alive (80, right-aligned to sx), instances
	 * (110), the band */
	double nx = b.x + PAD, tx = nx + REPORT_DRAW_VAR_NAME_W + 12, sx = tx + 150 + 12 + 80;
	double cx = sx + 12, bx0 = cx + 110 + 16, bx1 = b.x + b.w - PAD;
	double y = b.y + TITLE_H + 20, sw = (bx1 - bx0) / DASH_VAR_SLICES, xr;
	size_t n = d->vars ? d->var_cnt : 0, idx[DASH_TOP_MAX > VAR_ROWS ? DASH_TOP_MAX : VAR_ROWS];
	size_t shown, i, k;
	char type[LABEL_MAX + 8], open[2048], buf[UNITS_BUF], more[160], c1[UNITS_BUF];
	char c2[UNITS_BUF];
	double title_end;

	title_end = panel__begin(dr, "vars", "Variable lifecycle", b);
	if (!n) {
		draw__empty(dr, b.x + b.w / 2, b.y + b.h / 2, b.w - 2 * PAD,
			    "no tracked variables " "\xe2\x80\x94" " add TT_TRACK_VAR");
		return;
	}
	xr = b.x + b.w - PAD;
	legend__right(dr, &xr, title_end + 16, panel__title_cy(b), ALIVE,
		      "instances alive (bar height: share of the row's most)");

	shown = top__pick(d->vars, n, key__var, idx, vars__rows(d));
	draw__font(dr, 10, false);
	draw__rgb(dr, MUTED);
	draw__label(dr, "variable", nx, y - 18, REPORT_DRAW_VAR_NAME_W, AL_LEFT, 0);
	draw__label(dr, "type", tx, y - 18, 150, AL_LEFT, 0);
	draw__label(dr, "alive at end", sx, y - 18, 80, AL_RIGHT, 0);
	draw__label(dr, "instances", cx, y - 18, 110, AL_LEFT, 0);
	draw__label(dr, "instances alive over time", bx0, y - 18, bx1 - bx0, AL_LEFT, 0);

	for (i = 0; i < shown; i++, y += VAR_ROW_H) {
		const struct dash_var *v = &d->vars[idx[i]];
		uint32_t most = 0;
		double ty;

		if (i % 2)
			draw__rect(dr, b.x + 4, y, b.w - 8, VAR_ROW_H, GRID);
		draw__font(dr, 11, false);
		ty = y + (VAR_ROW_H - draw__text_h(dr)) / 2;
		draw__rgb(dr, INK);
		draw__label(dr, v->name && *v->name ? v->name : "(unnamed)", nx, ty,
			    REPORT_DRAW_VAR_NAME_W, AL_LEFT, 0);
		draw__rgb(dr, MUTED);
		snprintf(open, sizeof(open), "(%.2000s",
			 v->type_name && *v->type_name ? v->type_name : "?");
		draw__compose(dr, type, sizeof(type), open, ")", 150);
		draw__label(dr, type, tx, ty, 150, AL_LEFT, 0);
		draw__rgb(dr, INK);
		draw__label(dr, units__bytes(buf, sizeof(buf), v->bytes_alive), sx, ty, 80, AL_RIGHT, 0);
		/* "×90 of 100": alive at the end of all named */
		snprintf(more, sizeof(more), "\xc3\x97%s of %s", units__count(c1, sizeof(c1), v->alive),
			 units__count(c2, sizeof(c2), v->instances));
		draw__label(dr, more, cx, ty, 110, AL_LEFT, 0);

		for (k = 0; k < DASH_VAR_SLICES; k++)
			if (v->alive_in_slice[k] > most)
				most = v->alive_in_slice[k];
		draw__rect(dr, bx0, y + VAR_ROW_H - 3, bx1 - bx0, 1, FRAME);
		for (k = 0; most && k < DASH_VAR_SLICES; k++) {
			double h = (VAR_ROW_H - 6) * (double)v->alive_in_slice[k] / most;

			if (v->alive_in_slice[k])
				draw__rect(dr, bx0 + k * sw, y + VAR_ROW_H - 3 - h, sw > 1.5 ? sw - 0.5 : sw,
					   h, ALIVE);
		}
	}
	/* right under the last row: a short list leaves the space below blank */
	axis__time(dr, bx0, bx1, y + 8, (double)(d->duration_ns ? d->duration_ns : 1));
	more[0] = '\0';
	if (shown < n + d->vars_more)
		snprintf(more, sizeof(more), "+%s more (smaller) %s",
			 units__count(buf, sizeof(buf), n + d->vars_more - shown),
			 units__plural(n + d->vars_more - shown, "variable", "variables"));
	if (d->vars_folded) {
		size_t len = strlen(more);

		snprintf(more + len, sizeof(more) - len, "%s%s %s folded (not in the bars)",
			 len ? "; " : "", units__count(c1, sizeof(c1), d->vars_folded),
			 units__plural(d->vars_folded, "instance", "instances"));
	}
	if (more[0]) {
		draw__font(dr, 11, false);
		draw__rgb(dr, MUTED);
		draw__label(dr, more, nx, y + 8, bx0 - nx - 16, AL_LEFT, 0);
	}
}

/* ---- summary ------------------------------------------------------------------- */

static void summary__line(struct draw *dr, double x, double y, double w, const char *key,
			  const char *value, struct rgb c)
{
	draw__font(dr, 12, true);
	draw__rgb(dr, INK);
	draw__label(dr, key, x, y, 150, AL_LEFT, 0);
	draw__font(dr, 12, false);
	draw__rgb(dr, c);
	draw__label(dr, value, x + 160, y, w - 160, AL_LEFT, 0);
}

static void panel__summary(struct draw *dr, const struct dash *d, struct box b)
{
	double x = b.x + PAD, w = b.w - 2 * PAD, y = b.y + TITLE_H, xl;
	char line[2 * LABEL_MAX + 8], a[UNITS_BUF], c[UNITS_BUF], e[UNITS_BUF], f[UNITS_BUF];
	char g[UNITS_BUF], h[UNITS_BUF];
	size_t top, root;

	panel__begin(dr, "summary", "Legend and summary", b);

	/* one buffer per number: all are formatted before printing */
	snprintf(line, sizeof(line), "%s %s (%s), %s %s, %s still live (%s) after %s",
		 units__count(a, sizeof(a), d->total_allocs),
		 units__plural(d->total_allocs, "allocation", "allocations"),
		 units__bytes(c, sizeof(c), d->total_allocated),
		 units__count(e, sizeof(e), d->total_frees),
		 units__plural(d->total_frees, "free", "frees"),
		 units__count(f, sizeof(f), d->active_allocs),
		 units__bytes(g, sizeof(g), d->current_bytes),
		 units__duration(h, sizeof(h), d->duration_ns));
	summary__line(dr, x, y, w, "Totals", line, INK);
	y += SUM_LINE_H;

	if (d->peak_bytes)
		snprintf(line, sizeof(line), "%s at +%s", units__bytes(a, sizeof(a), d->peak_bytes),
			 units__duration(c, sizeof(c), d->peak_ns));
	else
		snprintf(line, sizeof(line), "none recorded");
	summary__line(dr, x, y, w, "Peak memory", line, INK);
	y += SUM_LINE_H;

	draw__font(dr, 12, false);
	if (top__pick(d->types, d->types ? d->type_cnt : 0, key__named, &top, 1)) {
		named__label(dr, line, sizeof(line), &d->types[top], "(unnamed)", w - 160);
		summary__line(dr, x, y, w, "Top type", line, INK);
		y += SUM_LINE_H;
	}

	root = d->sites ? site__next(d, SIZE_MAX, SIZE_MAX) : SIZE_MAX;
	draw__font(dr, 12, false);
	if (root != SIZE_MAX)
		site__label(dr, line, sizeof(line), &d->sites[root], sort__of(d), w - 160);
	else
		snprintf(line, sizeof(line), "none " "\xe2\x80\x94" " no call stacks recorded");
	summary__line(dr, x, y, w, "Top call site", line, INK);
	y += SUM_LINE_H;

	draw__font(dr, 12, false);
	if (top__pick(d->vars, d->vars ? d->var_cnt : 0, key__var, &top, 1)) {
		const struct dash_var *v = &d->vars[top];
		char tail[LABEL_MAX + 160];

		snprintf(tail, sizeof(tail), " \xc3\x97%s alive of %s (%.1000s), %s alive, peak %s",
			 units__count(c, sizeof(c), v->alive), units__count(e, sizeof(e), v->instances),
			 v->type_name && *v->type_name ? v->type_name : "?",
			 units__bytes(a, sizeof(a), v->bytes_alive),
			 units__bytes(f, sizeof(f), v->peak_bytes));
		draw__compose(dr, line, sizeof(line), v->name && *v->name ? v->name : "(unnamed)",
			      tail, w - 160);
		summary__line(dr, x, y, w, "Largest variable", line, INK);
		y += SUM_LINE_H;
	}

	if (d->lost_events)
		snprintf(line, sizeof(line),
			 "%s " "\xe2\x80\x94" " the ring buffer was full: figures are incomplete",
			 units__count(a, sizeof(a), d->lost_events));
	else
		snprintf(line, sizeof(line), "none");
	summary__line(dr, x, y, w, "Lost events", line, d->lost_events ? ALERT : INK);
	y += 28;

	xl = x;
	snprintf(line, sizeof(line), "small " LE " %s", units__bytes(a, sizeof(a), DASH_SMALL_MAX));
	legend__left(dr, &xl, x + w, y + 7, SMALL, line);
	snprintf(line, sizeof(line), "medium " LE " %s", units__bytes(a, sizeof(a), DASH_MEDIUM_MAX));
	legend__left(dr, &xl, x + w, y + 7, MEDIUM, line);
	snprintf(line, sizeof(line), "large > %s", units__bytes(a, sizeof(a), DASH_MEDIUM_MAX));
	legend__left(dr, &xl, x + w, y + 7, LARGE, line);
	legend__left(dr, &xl, x + w, y + 7, LINE, "live bytes");
	if (growth__has_rss(d))
		legend__left(dr, &xl, x + w, y + 7, RSS, "RSS");
	if (d->vars && d->var_cnt)
		legend__left(dr, &xl, x + w, y + 7, ALIVE, "variable instances alive");
	legend__left(dr, &xl, x + w, y + 7, ALERT, "peak, lost events");
}

/* Totals, peak, top call site and lost events; the top type and the largest
 * variable when there are tracked variables; then the legend. */
static double summary__height(const struct dash *d)
{
	size_t lines = 4 + (d->types && d->type_cnt) + (d->vars && d->var_cnt);

	return TITLE_H + lines * SUM_LINE_H + 8 + 20 + PAD;
}

/* ---- layout -------------------------------------------------------------------- */

enum panel {
	P_HEADER, P_FIGURES, P_LEAKS, P_GROWTH, P_SITES, P_HEAT, P_SIZES, P_TYPES, P_CATS, P_VARS,
	P_SUMMARY, P_CNT
};

/* Where each panel goes; h == 0: not drawn (nothing to show). */
struct layout {
	struct box b[P_CNT];
	double height;
};

static bool heat__any(const struct dash *d)
{
	size_t i;

	for (i = 0; d->heat && i < (size_t)DASH_SIZE_BUCKETS * d->heat_cols; i++)
		if (d->heat[i])
			return true;
	return false;
}

static bool sizes__any(const struct dash *d)
{
	unsigned int k;

	for (k = 0; k < DASH_SIZE_BUCKETS; k++)
		if (d->size_hist[k])
			return true;
	return false;
}

/* A full-width panel of height h at *y. */
static void layout__row(struct layout *l, enum panel p, double *y, double h)
{
	l->b[p] = (struct box){ MARGIN, *y, CONTENT_W, h };
	*y += h + GAP;
}

/* Two panels side by side (of the taller one's height), or the one that
 * has something to show across the whole width. */
static void layout__pair(struct layout *l, enum panel a, double ha, enum panel b, double hb,
			 double *y)
{
	double h = ha > hb ? ha : hb;

	if (ha > 0 && hb > 0) {
		l->b[a] = (struct box){ MARGIN, *y, HALF_W, h };
		l->b[b] = (struct box){ MARGIN + HALF_W + GAP, *y, HALF_W, h };
		*y += h + GAP;
	} else if (ha > 0) {
		layout__row(l, a, y, ha);
	} else if (hb > 0) {
		layout__row(l, b, y, hb);
	}
}

/*
 * The panels a dash has data for, top to bottom: what a reader asks first
 * (the figures, what is still live and where from) before the detail.
 * Panels about tracked variables only when there are some (TT_TRACK_VAR),
 * the heatmap only when it has a count, and so on: no empty frame.
 */
static void layout__make(const struct dash *d, struct layout *l)
{
	double y = MARGIN;

	memset(l, 0, sizeof(*l));
	layout__row(l, P_HEADER, &y, HEADER_H);
	layout__row(l, P_FIGURES, &y, FIGURES_H);
	if (d->leaks && d->leak_cnt)
		layout__row(l, P_LEAKS, &y, leaks__height(d));
	if (d->timeline && d->timeline_cnt)
		layout__row(l, P_GROWTH, &y, GROWTH_H);
	if (d->sites && site__next(d, SIZE_MAX, SIZE_MAX) != SIZE_MAX)
		layout__row(l, P_SITES, &y, sites__height(d));
	if (heat__any(d))
		layout__row(l, P_HEAT, &y, HEAT_H);
	if (sizes__any(d))
		layout__row(l, P_SIZES, &y, SIZES_H);
	layout__pair(l, P_TYPES, d->types && d->type_cnt ? types__height(d) : 0, P_CATS,
		     d->categories && d->category_cnt ? CATS_H : 0, &y);
	if (d->vars && d->var_cnt)
		layout__row(l, P_VARS, &y, vars__height(d));
	layout__row(l, P_SUMMARY, &y, summary__height(d));
	l->height = ceil(y - GAP + MARGIN);
}

int report_draw__height(const struct dash *d)
{
	struct layout l;

	layout__make(d, &l);
	return (int)l.height;
}

/* ---- surfaces ------------------------------------------------------------------ */

static int status__err(cairo_status_t st)
{
	switch (st) {
	case CAIRO_STATUS_SUCCESS:
		return 0;
	case CAIRO_STATUS_NO_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

typedef void (*panel_fn)(struct draw *dr, const struct dash *d, struct box b);

static const panel_fn panels[P_CNT] = {
	[P_HEADER] = panel__header, [P_FIGURES] = panel__figures, [P_LEAKS] = panel__leaks,
	[P_GROWTH] = panel__growth, [P_SITES] = panel__sites,     [P_HEAT] = panel__heatmap,
	[P_SIZES] = panel__sizes,   [P_TYPES] = panel__types,     [P_CATS] = panel__categories,
	[P_VARS] = panel__vars,     [P_SUMMARY] = panel__summary,
};

static int report_draw__render(cairo_surface_t *s, const struct dash *d, const struct layout *l)
{
	cairo_font_options_t *fo;
	struct draw dr = { 0 };
	int err, p;

	dr.cr = cairo_create(s);
	/* no hinting: text widths, and so the layout, equal on both surfaces */
	fo = cairo_font_options_create();
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
	cairo_set_font_options(dr.cr, fo);
	cairo_font_options_destroy(fo);

	draw__rect(&dr, 0, 0, REPORT_DRAW_WIDTH, l->height, CANVAS);
	for (p = 0; p < P_CNT; p++)
		if (l->b[p].h > 0)
			panels[p](&dr, d, l->b[p]);

	err = status__err(cairo_status(dr.cr));
	cairo_destroy(dr.cr);
	return err;
}

/* Output through the report's FILE (outfile: its own descriptor). */
struct sink {
	FILE *f;
	int err;
};

static cairo_status_t sink__write(void *closure, const unsigned char *data, unsigned int len)
{
	struct sink *sk = closure;

	if (sk->err)
		return CAIRO_STATUS_WRITE_ERROR;
	errno = 0;
	if (fwrite(data, 1, len, sk->f) != len) {
		sk->err = errno ? errno : EIO;
		return CAIRO_STATUS_WRITE_ERROR;
	}
	return CAIRO_STATUS_SUCCESS;
}

/* The SVG, whole in memory: it needs one fix before it is written. */
struct membuf {
	char *buf;
	size_t len, cap;
	bool oom;
};

static cairo_status_t membuf__write(void *closure, const unsigned char *data, unsigned int len)
{
	struct membuf *m = closure;

	if (m->oom)
		return CAIRO_STATUS_NO_MEMORY;
	if (len > m->cap - m->len) {
		size_t cap = m->cap ? m->cap : 1 << 20;
		char *p;

		while (len > cap - m->len)
			cap *= 2;
		p = realloc(m->buf, cap);
		if (!p) {
			m->oom = true;
			return CAIRO_STATUS_NO_MEMORY;
		}
		m->buf = p;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, data, len);
	m->len += len;
	return CAIRO_STATUS_SUCCESS;
}

/*
 * cairo names the root group after the surface's serial number, a counter
 * shared by every surface the process ever made: the second report of a run
 * would differ from the first. Nothing refers to that id (the drawing uses
 * no groups nor source surfaces), so it is made constant.
 */
static void svg__fix_ids(struct membuf *m)
{
	static const char tag[] = "<g id=\"surface";
	char *p = memmem(m->buf, m->len, tag, sizeof(tag) - 1), *q;

	if (!p)
		return;
	p += sizeof(tag) - 1;
	for (q = p; q < m->buf + m->len && *q >= '0' && *q <= '9'; q++)
		;
	if (q == p || q == m->buf + m->len || *q != '"')
		return;
	*p++ = '1';
	memmove(p, q, m->buf + m->len - q);
	m->len -= q - p;
}

static int svg__emit(FILE *f, void *ctx)
{
	const struct dash *d = ctx;
	struct membuf m = { 0 };
	struct layout l;
	cairo_surface_t *s;
	int err;

	layout__make(d, &l);
	s = cairo_svg_surface_create_for_stream(membuf__write, &m, REPORT_DRAW_WIDTH, l.height);
#if CAIRO_VERSION >= CAIRO_VERSION_ENCODE(1, 16, 0)
	/* width="1600", not "1600pt": the same size as the PNG in a browser */
	cairo_svg_surface_set_document_unit(s, CAIRO_SVG_UNIT_USER);
#endif
	err = report_draw__render(s, d, &l);
	cairo_surface_finish(s);
	if (!err)
		err = status__err(cairo_surface_status(s));
	cairo_surface_destroy(s);
	if (!err && m.oom)
		err = -ENOMEM;
	if (!err) {
		svg__fix_ids(&m);
		errno = 0;
		if (m.len && fwrite(m.buf, 1, m.len, f) != m.len)
			err = errno ? -errno : -EIO;
	}
	free(m.buf);
	return err;
}

static int png__emit(FILE *f, void *ctx)
{
	const struct dash *d = ctx;
	struct sink sk = { f, 0 };
	struct layout l;
	cairo_surface_t *s;
	int err;

	layout__make(d, &l);
	s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, REPORT_DRAW_WIDTH, (int)l.height);
	err = status__err(cairo_surface_status(s));
	if (!err)
		err = report_draw__render(s, d, &l);
	if (!err) {
		cairo_surface_flush(s);
		err = status__err(cairo_surface_write_to_png_stream(s, sink__write, &sk));
	}
	cairo_surface_destroy(s);
	return sk.err ? -sk.err : err;
}

/* Through outfile, as every report: one descriptor, never a name reopened. */
int report_draw__svg(const struct dash *d, const char *path)
{
	if (!d || !path)
		return -EINVAL;
	return outfile__write(path, svg__emit, (void *)d);
}

int report_draw__png(const struct dash *d, const char *path)
{
	if (!d || !path)
		return -EINVAL;
	return outfile__write(path, png__emit, (void *)d);
}
