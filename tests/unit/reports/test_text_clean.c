// SPDX-License-Identifier: Apache-2.0
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "text_clean.h"

/* What text_clean__put(s, width) writes. */
static char *put(const char *s, size_t width)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert(f);
	text_clean__put(f, s, width);
	fclose(f);
	return buf;
}

static void expect_put(const char *s, size_t width, const char *want)
{
	char *got = put(s, width);

	cr_expect_str_eq(got, want, "put(width %zu)", width);
	free(got);
}

Test(text_clean, controls_become_question_marks)
{
	/* C0 (ESC, BEL, newline, tab, NUL ends the string), DEL */
	expect_put("a\x1b[2Jb\x07\n\tc\x7f" "d", 0, "a?[2Jb???c?d");
	/* a raw 8-bit CSI is no UTF-8; U+009B (C1 CSI) and U+0085 (NEL) are controls */
	expect_put("x\x9by\xc2\x9bz\xc2\x85", 0, "x?y?z?");
	/* U+00A0 and above are kept, as are 3- and 4-byte characters */
	expect_put("\xc2\xa0\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 0,
		   "\xc2\xa0\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* overlong forms, surrogates, truncated sequences, above U+10FFFF */
	expect_put("\xc0\xaf|\xed\xa0\x80|\xe2\x82|\xf4\x90\x80\x80", 0, "??|???|??|????");
	expect_put(NULL, 0, "?");
	expect_put("", 0, "");
}

Test(text_clean, width_cuts_at_a_character_boundary)
{
	expect_put("abcdefgh", 8, "abcdefgh");
	expect_put("abcdefghi", 8, "abcde...");
	/* the euro sign (3 bytes) would straddle byte 5: cut before it */
	expect_put("abcd\xe2\x82\xac" "fghi", 8, "abcd...");
	expect_put("abcdef", 2, "...");
}

Test(text_clean, copy_and_str)
{
	char out[8], big[TEXT_CLEAN_MAX + 1];

	cr_expect(text_clean__copy(out, 7, "ab\x1b" "cdefgh"), "did not fit");
	cr_expect_str_eq(out, "ab?cdef");
	cr_expect_not(text_clean__copy(out, 7, "\xc2\x9b"), "fits");
	cr_expect_str_eq(out, "?");
	/* never a cut inside a character */
	text_clean__copy(out, 5, "abcd\xc3\xa9");
	cr_expect_str_eq(out, "abcd");
	cr_expect_str_eq(TEXT_CLEAN("p\x1b]0;t\x07q"), "p?]0;t?q");
	cr_expect_str_eq(TEXT_CLEAN(NULL), "");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_expect_eq(strlen(TEXT_CLEAN(big)), TEXT_CLEAN_MAX);
}
