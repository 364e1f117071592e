/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dashboard: one drawing of a struct dash, through cairo, to SVG or PNG.
 * Both outputs come from the same drawing code on a fixed canvas, so they
 * show the same thing and the same dash always gives the same bytes.
 */
#ifndef TT_REPORT_DRAW_H
#define TT_REPORT_DRAW_H

#include "dash.h"

/* Canvas, in pixels (PNG) and user units (SVG; no unit suffix). */
#define REPORT_DRAW_WIDTH 1600
#define REPORT_DRAW_HEIGHT 2796

/* Width of the variable name column of the lifecycle panel: longer names
 * are cut with an ellipsis to fit. */
#define REPORT_DRAW_VAR_NAME_W 300

/* Write the dashboard to path, replacing it. Returns 0 or -errno. */
int report_draw__svg(const struct dash *d, const char *path);
int report_draw__png(const struct dash *d, const char *path);

/*
 * Test hook: called for every text label drawn, after cleaning and
 * ellipsizing, with the panel it belongs to and its box in user units
 * (x, y: top left; h: font ascent + descent). NULL to disable.
 */
typedef void (*report_draw_label_fn)(void *ctx, const char *panel, const char *text, double x,
				     double y, double w, double h);
void report_draw__set_label_hook(report_draw_label_fn fn, void *ctx);

#endif /* TT_REPORT_DRAW_H */
