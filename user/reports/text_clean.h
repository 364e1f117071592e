/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strings the target controls (symbol, file, variable and type names, paths,
 * command lines), made safe for a terminal, a text file or cairo: valid
 * UTF-8 without control characters. A byte outside any valid UTF-8 sequence
 * (0x9b alone is an 8-bit CSI to some terminals), a C0 control (ESC, BEL,
 * newline...), DEL and a C1 control (U+0080..U+009F) each become '?'; all
 * else is kept as it is. Every text output that prints such a string goes
 * through one of these.
 */
#ifndef TT_TEXT_CLEAN_H
#define TT_TEXT_CLEAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Copies at most max bytes of s (NULL: "") into out, which holds max + 1,
 * cleaned, cut at a character boundary. Returns true if s did not fit whole. */
bool text_clean__copy(char *out, size_t max, const char *s);

/* Writes s cleaned to f; s longer than width bytes (0: no limit) is cut to
 * width - 3 at a character boundary and ends in "...". NULL prints "?". */
void text_clean__put(FILE *f, const char *s, size_t width);

/* For printf arguments: s cleaned into a buffer that lives until the end of
 * the enclosing full expression's block. */
#define TEXT_CLEAN_MAX 4096
#define TEXT_CLEAN(s) text_clean__str((char[TEXT_CLEAN_MAX + 1]){ 0 }, TEXT_CLEAN_MAX, (s))
const char *text_clean__str(char *buf, size_t max, const char *s);

#endif /* TT_TEXT_CLEAN_H */
