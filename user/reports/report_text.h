/* SPDX-License-Identifier: Apache-2.0 */
/* The human-readable summary printed at the end of a run. */
#ifndef TT_REPORT_TEXT_H
#define TT_REPORT_TEXT_H

#include <stdio.h>
#include "model.h"
#include "report.h"

#include <stdint.h>

struct report_text_opts {
	uint32_t top;         /* entries of each list (--top) */
	uint32_t stack_lines; /* frames shown under each call site (--stack-lines) */
};

/* opts NULL: the defaults of options.h. */
void report_text__write(FILE *f, const struct model *mo, const struct report_meta *m,
			const struct report_text_opts *opts);
struct callsite;
/* A call site as the summary names it: function [inlined] (file:line),
 * cleaned (text_clean.h); NULL: "(no stack)". For the other text outputs. */
void report_text__put_site(FILE *f, const struct callsite *c);

#endif /* TT_REPORT_TEXT_H */
