// SPDX-License-Identifier: Apache-2.0
#include <string.h>
#include "text_clean.h"

/* Length of the valid UTF-8 sequence at p, 0 if there is none. Never reads
 * past a NUL: a NUL fails every continuation test. */
static size_t utf8__len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return 1;
	if (p[0] < 0xc2)
		return 0;
	if (p[0] < 0xe0)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] < 0xf0) {
		if (p[0] == 0xe0)
			lo = 0xa0; /* overlong */
		if (p[0] == 0xed)
			hi = 0x9f; /* surrogates */
		if (p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	}
	if (p[0] < 0xf5) {
		if (p[0] == 0xf0)
			lo = 0x90; /* overlong */
		if (p[0] == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
		if (p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

/* Whether the sequence of n bytes at p is shown as it is. */
static bool shown(const unsigned char *p, size_t n)
{
	return n && !(n == 1 && (*p < 0x20 || *p == 0x7f)) && !(n == 2 && p[0] == 0xc2 && p[1] < 0xa0);
}

/* cairo refuses invalid UTF-8 (and then stops drawing altogether); controls
 * would draw as boxes or not at all, and act on a terminal. */
bool text_clean__copy(char *out, size_t max, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0, n;

	while (*p) {
		n = utf8__len(p);
		if (o + (n ? n : 1) > max)
			break;
		if (!shown(p, n)) {
			out[o++] = '?';
			p += n ? n : 1;
			continue;
		}
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	out[o] = '\0';
	return *p != '\0';
}

void text_clean__put(FILE *f, const char *s, size_t width)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len, keep, o = 0, n;

	if (!s) {
		fputc('?', f);
		return;
	}
	len = strlen(s);
	keep = width && len > width ? (width > 3 ? width - 3 : 0) : len;
	while (*p) {
		n = utf8__len(p);
		if (o + (n ? n : 1) > keep)
			break;
		if (shown(p, n))
			fwrite(p, 1, n, f);
		else
			fputc('?', f);
		o += n ? n : 1;
		p += n ? n : 1;
	}
	if (*p)
		fputs("...", f);
}

const char *text_clean__str(char *buf, size_t max, const char *s)
{
	text_clean__copy(buf, max, s);
	return buf;
}
