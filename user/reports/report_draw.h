/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dashboard: one drawing of a struct dash, through cairo, to SVG or PNG.
 * Both outputs come from the same drawing code on one canvas, as tall as the
 * panels the dash has data for, so they show the same thing and the same
 * dash always gives the same bytes.
 */
#ifndef TT_REPORT_DRAW_H
#define TT_REPORT_DRAW_H

#include "dash.h"

/* Canvas width, in pixels (PNG) and user units (SVG; no unit suffix). */
#define REPORT_DRAW_WIDTH 1600

/* Width of the variable name column of the lifecycle panel: longer names
 * are cut with an ellipsis to fit. */
#define REPORT_DRAW_VAR_NAME_W 300

/* The canvas' height for d: only the panels that have something to show are
 * laid out (no variable panels without tracked variables, ...). */
int report_draw__height(const struct dash *d);

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
