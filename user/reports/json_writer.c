// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "json_writer.h"

#define MAX_DEPTH 64

/*
 * The nesting stack is one bit per level (object or array). Only the
 * innermost level needs to know whether it is still empty: every enclosing
 * level holds at least the container being written.
 */
struct json_writer {
	FILE *f;
	uint64_t obj_mask; /* bit d set: level d is an object */
	unsigned depth;
	bool pretty;
	unsigned flat_depth; /* pretty: items of the container at this depth on one line each */
	bool empty;     /* innermost container has no member yet */
	bool have_name; /* a key was written; its value is due */
	bool top_done;
	bool misuse;
};

struct json_writer *jsonw_new(FILE *f, bool pretty)
{
	struct json_writer *w;

	if (!f) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->f = f;
	w->pretty = pretty;
	return w;
}

void jsonw_free(struct json_writer *w)
{
	free(w);
}

static bool in_object(const struct json_writer *w)
{
	return w->depth && (w->obj_mask >> (w->depth - 1) & 1);
}

/* inner: the depth of what the line break is for (an item, or a container
 * being closed) */
static void newline(struct json_writer *w, unsigned depth, unsigned inner)
{
	if (!w->pretty || (w->flat_depth && inner > w->flat_depth))
		return;
	putc('\n', w->f);
	while (depth--)
		fputs("  ", w->f);
}

static void separate(struct json_writer *w)
{
	if (!w->empty)
		putc(',', w->f);
	w->empty = false;
	newline(w, w->depth, w->depth);
}

/* Once misused, the output is known bad: stop adding to it. */
static bool usable(struct json_writer *w)
{
	return w && !w->misuse;
}

static bool begin_value(struct json_writer *w)
{
	if (!usable(w))
		return false;
	if (!w->depth) {
		if (w->top_done)
			return w->misuse = true, false;
	} else if (in_object(w)) {
		if (!w->have_name)
			return w->misuse = true, false;
		w->have_name = false; /* separate() ran with the key */
	} else {
		separate(w);
	}
	return true;
}

static void end_value(struct json_writer *w)
{
	if (w->depth)
		return;
	w->top_done = true;
	if (w->pretty)
		putc('\n', w->f);
}

static void start_container(struct json_writer *w, bool obj)
{
	if (w && w->depth >= MAX_DEPTH)
		w->misuse = true;
	if (!begin_value(w))
		return;
	if (obj)
		w->obj_mask |= UINT64_C(1) << w->depth;
	else
		w->obj_mask &= ~(UINT64_C(1) << w->depth);
	w->depth++;
	w->empty = true;
	putc(obj ? '{' : '[', w->f);
}

static void end_container(struct json_writer *w, bool obj)
{
	if (!usable(w))
		return;
	if (!w->depth || in_object(w) != obj || w->have_name) {
		w->misuse = true;
		return;
	}
	w->depth--;
	if (!w->empty)
		newline(w, w->depth, w->depth + 1);
	w->empty = false;
	putc(obj ? '}' : ']', w->f);
	end_value(w);
}

void jsonw_start_object(struct json_writer *w) { start_container(w, true); }
void jsonw_end_object(struct json_writer *w) { end_container(w, true); }
void jsonw_start_array(struct json_writer *w) { start_container(w, false); }
void jsonw_end_array(struct json_writer *w) { end_container(w, false); }

/*
 * Length of the UTF-8 sequence at s; if it is invalid, *ok is false and the
 * length is that of its maximal subpart (Unicode ch. 3, "U+FFFD Substitution
 * of Maximal Subparts"), so a byte that cannot continue it, such as a quote,
 * is never swallowed. The narrowed second-byte ranges are what reject
 * overlongs, surrogates and code points above U+10FFFF.
 */
static size_t utf8_seq(const unsigned char *s, size_t avail, bool *ok)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	*ok = false;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
	} else {
		return 1;
	}
	for (i = 1; i < need; i++) {
		if (i >= avail || s[i] < lo || s[i] > hi)
			return i;
		lo = 0x80;
		hi = 0xbf;
	}
	*ok = true;
	return need;
}

/* Literal runs go out in one fwrite; only escapes break them. */
static void put_string(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0, n;
	char ubuf[8];
	const char *esc;
	bool ok;

	putc('"', f);
	while (i < len) {
		unsigned char c = s[i];

		esc = NULL;
		n = 1;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			if (c < 0x20 || c == 0x7f) {
				snprintf(ubuf, sizeof(ubuf), "\\u%04x", c);
				esc = ubuf;
			} else if (c >= 0x80) {
				n = utf8_seq(s + i, len - i, &ok);
				if (!ok)
					esc = "\xef\xbf\xbd";
				/* JS string literals end lines at U+2028/9 */
				else if (c == 0xe2 && s[i + 1] == 0x80 &&
					 (s[i + 2] & 0xfe) == 0xa8)
					esc = s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
			}
		}
		if (esc) {
			fwrite(s + run, 1, i - run, f);
			fputs(esc, f);
			run = i + n;
		}
		i += n;
	}
	fwrite(s + run, 1, len - run, f);
	putc('"', f);
}

void jsonw_name(struct json_writer *w, const char *name)
{
	if (!usable(w))
		return;
	if (!in_object(w) || w->have_name || !name) {
		w->misuse = true;
		return;
	}
	separate(w);
	put_string(w->f, name, strlen(name));
	fputs(w->pretty && !(w->flat_depth && w->depth > w->flat_depth) ? ": " : ":", w->f);
	w->have_name = true;
}

static void put_raw(struct json_writer *w, const char *text)
{
	if (!begin_value(w))
		return;
	fputs(text, w->f);
	end_value(w);
}

void jsonw_raw(struct json_writer *w, const char *json)
{
	put_raw(w, json);
}

void jsonw_string_len(struct json_writer *w, const char *s, size_t len)
{
	if (!s) {
		jsonw_null(w);
		return;
	}
	if (!begin_value(w))
		return;
	put_string(w->f, s, len);
	end_value(w);
}

void jsonw_string(struct json_writer *w, const char *s)
{
	jsonw_string_len(w, s, s ? strlen(s) : 0);
}

void jsonw_u64(struct json_writer *w, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	put_raw(w, buf);
}

void jsonw_i64(struct json_writer *w, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	put_raw(w, buf);
}

void jsonw_hex(struct json_writer *w, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "\"0x%" PRIx64 "\"", v);
	put_raw(w, buf);
}

/*
 * Any decimal of at most 15 significant digits survives a trip through a
 * double, so the first of 15..17 digits that reads back exactly is the
 * shortest exact form: 0.1 prints as 0.1, not 0.10000000000000001.
 */
void jsonw_double(struct json_writer *w, double v)
{
	char buf[32], *comma;
	int prec;

	if (!isfinite(v)) {
		jsonw_null(w);
		return;
	}
	for (prec = 15;; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (prec == 17 || strtod(buf, NULL) == v)
			break;
	}
	/* a locale with a decimal comma would make this invalid JSON */
	comma = strchr(buf, ',');
	if (comma)
		*comma = '.';
	put_raw(w, buf);
}

void jsonw_bool(struct json_writer *w, bool v) { put_raw(w, v ? "true" : "false"); }
void jsonw_null(struct json_writer *w) { put_raw(w, "null"); }

/* The name-plus-value pairs differ only in the value's type. */
#define FIELD(kind, type)                                                    \
	void jsonw_##kind##_field(struct json_writer *w, const char *name,   \
				  type v)                                    \
	{                                                                    \
		jsonw_name(w, name);                                         \
		jsonw_##kind(w, v);                                          \
	}
FIELD(string, const char *)
FIELD(u64, uint64_t)
FIELD(i64, int64_t)
FIELD(double, double)
FIELD(bool, bool)
FIELD(hex, uint64_t)

void jsonw_null_field(struct json_writer *w, const char *name)
{
	jsonw_name(w, name);
	jsonw_null(w);
}

int jsonw_finish(struct json_writer *w)
{
	if (!w)
		return -EINVAL;
	if (fflush(w->f) || ferror(w->f))
		return -EIO;
	if (w->misuse || w->depth || !w->top_done)
		return -EINVAL;
	return 0;
}

void jsonw_flat_items(struct json_writer *w, bool on)
{
	if (usable(w))
		w->flat_depth = on ? w->depth : 0;
}
