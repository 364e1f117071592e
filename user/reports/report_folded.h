/* SPDX-License-Identifier: Apache-2.0 */
/* Folded stacks ("root;...;leaf weight" per line), as flame graph tools read. */
#ifndef TT_REPORT_FOLDED_H
#define TT_REPORT_FOLDED_H

#include <stdio.h>
#include "model.h"
#include "options.h"

int report_folded__emit(FILE *f, const struct model *m, enum folded_weight weight);
/* Atomically; 0 or a negative errno (printed). */
int report_folded__write(const char *path, const struct model *m, enum folded_weight weight);

#endif /* TT_REPORT_FOLDED_H */
