/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dashboard's data (struct dash) from a JSON report. The live run and
 * `ttbpf report FILE.json` both draw from the JSON, so they cannot differ.
 */
#ifndef TT_DASH_BUILD_H
#define TT_DASH_BUILD_H

#include "dash.h"

struct dash_build;

/* Loads path; on error returns a negative errno and prints why. */
int dash_build__load(struct dash_build **out, const char *path);
const struct dash *dash_build__dash(const struct dash_build *b);
void dash_build__free(struct dash_build *b);

#endif /* TT_DASH_BUILD_H */
