/* SPDX-License-Identifier: Apache-2.0 */
/* Folded stacks ("root;...;leaf weight" per line), as flame graph tools read. */
#ifndef TT_REPORT_FOLDED_H
#define TT_REPORT_FOLDED_H

#include <stdint.h>
#include <stdio.h>
#include "model.h"
#include "options.h"

struct sym_frame;
/* One frame as folded lines name it: its function, else module+0xOFFSET,
 * else its address; "_[i]" after an inlined one; no ';', space or control
 * character. ttbpf diff names the frames of a JSON report the same way. */
void report_folded__put_frame(FILE *f, const struct sym_frame *fr);
/* The marker a stack that does not reach its root starts with, if any:
 * "[partial stack];" or "[depth limit];" (end: enum tt_stack_end). */
void report_folded__put_end(FILE *f, uint32_t end);

struct jnode;
/* A stack of a JSON report (its end and frames) named so, root first, no
 * weight; returns its frame count. */
size_t report_folded__put_json(FILE *f, const struct jnode *st);

int report_folded__emit(FILE *f, const struct model *m, enum folded_weight weight);
/* Atomically; 0 or a negative errno (printed). */
int report_folded__write(const char *path, const struct model *m, enum folded_weight weight);
/* The same from the stacks of the JSON report at json (`ttbpf report
 * --folded`), streamed: what is held does not grow with the report. */
int report_folded__write_json(const char *path, const char *json, enum folded_weight weight);

#endif /* TT_REPORT_FOLDED_H */
