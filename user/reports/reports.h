/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which reports a run writes and where: the JSON first, then the dashboard
 * drawn from that JSON (so `ttbpf report` on it draws the same), folded
 * stacks, the pprof profile, and the text summary. Paths are checked before tracing starts.
 */
#ifndef TT_REPORTS_H
#define TT_REPORTS_H

#include <limits.h>
#include <stdbool.h>
#include "model.h"
#include "options.h"
#include "report.h"

struct report_plan {
	char json[PATH_MAX];   /* "" when none */
	bool json_is_temp;     /* only for drawing: removed afterwards */
	char svg[PATH_MAX];
	char png[PATH_MAX];
	char folded[PATH_MAX];
	char pprof[PATH_MAX];  /* --pprof, -o DIR's ttbpf.pb.gz */
	enum folded_weight folded_weight;
	enum dash_sort sort;   /* the dashboard's call-site tree */
	bool quiet;
	uint32_t top;          /* entries of each list (--top) */
	uint32_t stack_lines;  /* frames under each call site of the summary */
};

/* Fills the plan from the options; checks every output can be created.
 * Prints what is wrong; returns 0 or a negative errno. */
int reports__plan(const struct options *o, struct report_plan *p);
/*
 * The plan for a child followed with -f: the same reports, named after the
 * target's with ".PID" before the extension (ttbpf.json: ttbpf.1234.json),
 * without the text summary (the target's lists the children).
 */
int reports__plan_child(const struct report_plan *target, int pid, struct report_plan *child);
/*
 * The plan of a snapshot written while tracing goes on: the files of p that
 * are replaced whole (a regular file, or a name yet to exist); stdout, a
 * FIFO or a device is written once, at the end, because a reader of those
 * would get one report after the other. No text summary. Returns how many
 * files are left.
 */
int reports__plan_snapshot(const struct report_plan *p, struct report_plan *snap);
/* Writes everything planned. Returns 0 or the first negative errno. */
int reports__write(const struct report_plan *p, const struct model *m, const struct report_meta *meta);
/* `ttbpf report FILE.json`: draws the planned SVG/PNG from a saved report. */
int reports__redraw(const char *json_path, const struct report_plan *p);

#endif /* TT_REPORTS_H */
