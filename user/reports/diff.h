/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `ttbpf diff OLD.json NEW.json`: the change, stack by stack, between two
 * JSON reports. Stacks are matched by their symbolized frames (function
 * names, module+offset where there is no symbol: what folded output names
 * them by), not by address, so that two runs of one program line up; stacks
 * that name the same frames are added up. Memory is proportional to the
 * distinct stacks of the two files.
 */
#ifndef TT_DIFF_H
#define TT_DIFF_H

#include <stdint.h>
#include <stdio.h>
#include "options.h"

struct diff_opts {
	const char *old_path, *new_path;
	const char *folded_path;   /* NULL: none */
	enum folded_weight weight; /* of the folded file's two columns */
	uint32_t top;              /* rows of the text table */
};

/*
 * Writes the text table to out (changes sorted by |Δ live bytes|) and the
 * folded file if asked: "stack OLD NEW" per line, the two-column form
 * difffolded.pl writes, which flamegraph.pl and inferno-flamegraph draw as a
 * differential flame graph. 0, or a negative errno with the reason printed
 * on stderr.
 */
int diff__run(const struct diff_opts *d, FILE *out);

#endif /* TT_DIFF_H */
