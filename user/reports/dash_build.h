/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dashboard's data (struct dash) from a JSON report. The live run and
 * `ttbpf report FILE.json` both draw from the JSON, so they cannot differ.
 */
#ifndef TT_DASH_BUILD_H
#define TT_DASH_BUILD_H

#include "dash.h"

struct dash_build;

/* How the dashboard is cut: what ranks the call-site tree, how long the
 * lists are. */
struct dash_opts {
	enum dash_sort sort;
	unsigned int top; /* 0: the default (10); at most DASH_TOP_MAX are kept */
};

/*
 * Loads path (opts NULL: the defaults); on error returns a negative errno and
 * prints why. What is kept is bounded whatever the report's size: the top
 * entries of each list. --sort peak needs the report's figures at the peak
 * (call_sites[].at_peak_bytes): a report without them (--aggregate, an
 * older ttbpf) is refused with -EINVAL.
 */
int dash_build__load(struct dash_build **out, const char *path, const struct dash_opts *opts);
const struct dash *dash_build__dash(const struct dash_build *b);
/*
 * Time the heap spent near its peak (at DASH_NEAR_PEAK_PCT % or more), from
 * timeline points in time order: the intervals whose highest live bytes got
 * there, cut at duration_ns, and the time after the last point when its live
 * bytes stayed there. Exposed for tests.
 */
uint64_t dash_build__near_peak_ns(const struct dash_point *p, size_t n, uint64_t duration_ns,
				  uint64_t peak_bytes);
void dash_build__free(struct dash_build *b);

#endif /* TT_DASH_BUILD_H */
