/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Aggregate-only mode (--aggregate): the BPF side keeps figures per stack and
 * the live blocks in maps instead of sending records. At the end they are
 * read back into the model, which the reports then read as usual (without a
 * timeline: nothing was recorded over time).
 */
#ifndef TT_AGGREGATE_H
#define TT_AGGREGATE_H

#include "model.h"

struct probes;

/* 0 or a negative errno (printed). */
int aggregate__collect(struct probes *p, struct model *m);

#endif /* TT_AGGREGATE_H */
