/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --interval's periodic report: the allocation sites holding the most live
 * bytes right now, like memleak's, from a model whose call sites are built
 * (model__finish). Grouped by call site as callsites.h defines it.
 */
#ifndef TT_REPORT_TOP_H
#define TT_REPORT_TOP_H

#include <stdint.h>
#include <stdio.h>
#include "model.h"

/* top: sites listed at most; elapsed_ns: how long tracing has run. */
int report_top__write(FILE *f, const struct model *m, uint32_t top, uint64_t elapsed_ns);

#endif /* TT_REPORT_TOP_H */
