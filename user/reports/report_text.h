/* SPDX-License-Identifier: Apache-2.0 */
/* The human-readable summary printed at the end of a run. */
#ifndef TT_REPORT_TEXT_H
#define TT_REPORT_TEXT_H

#include <stdio.h>
#include "model.h"
#include "report.h"

void report_text__write(FILE *f, const struct model *mo, const struct report_meta *m);

#endif /* TT_REPORT_TEXT_H */
