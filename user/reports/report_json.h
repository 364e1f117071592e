/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON report (format documented in docs/json-format.md). */
#ifndef TT_REPORT_JSON_H
#define TT_REPORT_JSON_H

#include <stdint.h>
#include <stdio.h>
#include "model.h"
#include "report.h"

/* stacks[].end's name for an enum tt_stack_end ("root", "cut", ...; "?"). */
const char *report_json__stack_end_name(uint32_t end);
/* Writes the report to f. 0, or a negative errno. */
int report_json__emit(FILE *f, const struct model *mo, const struct report_meta *m);
/* Writes the report to path atomically. 0, or a negative errno (printed). */
int report_json__write(const char *path, const struct model *mo, const struct report_meta *m);

#endif /* TT_REPORT_JSON_H */
