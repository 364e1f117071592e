// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: the JSON string escaper (user/reports/json_writer.c).
 *
 * Arbitrary bytes go in as a string value (jsonw_string_len) and, up to the
 * first NUL, as a key (jsonw_name), in pretty and compact mode. The output
 * must be valid JSON whatever the bytes: checked by a strict RFC 8259
 * validator written here (valid UTF-8, no raw control characters, only the
 * escapes JSON has, no lone surrogates, no raw U+2028/U+2029 as promised for
 * JavaScript), by jansson, and by reading it back with user/reports/json_reader.c:
 * when the input is valid UTF-8 without NUL it must come back byte for byte.
 *
 * First input byte: flags (bit 0 pretty, bit 1 inside an array); the rest is
 * the string.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_reader.h"
#include "json_writer.h"

#define FUZZ_NAME "fuzz_json_writer"
#include "fuzz_check.h"

/* Length of a valid UTF-8 sequence at s (RFC 3629), 0 if invalid. */
static size_t utf8_valid(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;
		if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (avail < need)
		return 0;
	for (i = 1; i < need; i++) {
		if (s[i] < lo || s[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

static bool all_valid_utf8_no_nul(const unsigned char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		if (!s[i])
			return false;
		n = utf8_valid(s + i, len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

struct cur {
	const unsigned char *s, *end;
};

static void ws(struct cur *c)
{
	while (c->s < c->end && (*c->s == ' ' || *c->s == '\n' || *c->s == '\t' || *c->s == '\r'))
		c->s++;
}

static bool lit(struct cur *c, char ch)
{
	ws(c);
	if (c->s < c->end && *c->s == (unsigned char)ch) {
		c->s++;
		return true;
	}
	return false;
}

static unsigned hexval(unsigned char h)
{
	if (h >= '0' && h <= '9')
		return h - '0';
	if (h >= 'a' && h <= 'f')
		return h - 'a' + 10;
	if (h >= 'A' && h <= 'F')
		return h - 'A' + 10;
	return 16;
}

static bool hex4(struct cur *c, unsigned *out)
{
	unsigned v = 0, d;
	int i;

	if (c->end - c->s < 4)
		return false;
	for (i = 0; i < 4; i++) {
		d = hexval(c->s[i]);
		if (d > 15)
			return false;
		v = v << 4 | d;
	}
	c->s += 4;
	*out = v;
	return true;
}

/* A strict JSON string at c (after whitespace). */
static void strict_string(struct cur *c)
{
	unsigned cp, lo;
	size_t n;

	CHECK(lit(c, '"'), "expected a string");
	for (;;) {
		CHECK(c->s < c->end, "unterminated string");
		if (*c->s == '"') {
			c->s++;
			return;
		}
		CHECK(*c->s >= 0x20, "raw control byte 0x%02x in output", *c->s);
		if (*c->s == '\\') {
			c->s++;
			CHECK(c->s < c->end, "escape at end");
			switch (*c->s++) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				break;
			case 'u':
				CHECK(hex4(c, &cp), "bad \\u escape");
				CHECK(cp < 0xdc00 || cp > 0xdfff, "lone low surrogate \\u%04x", cp);
				if (cp >= 0xd800 && cp <= 0xdbff) {
					CHECK(c->end - c->s >= 6 && c->s[0] == '\\' && c->s[1] == 'u',
					      "lone high surrogate");
					c->s += 2;
					CHECK(hex4(c, &lo) && lo >= 0xdc00 && lo <= 0xdfff,
					      "high surrogate without its low half");
				}
				break;
			default:
				CHECK(0, "escape \\%c is not JSON", c->s[-1]);
			}
			continue;
		}
		n = utf8_valid(c->s, (size_t)(c->end - c->s));
		CHECK(n, "invalid UTF-8 at output byte %zu", (size_t)(c->end - c->s));
		/* promised: U+2028/U+2029 escaped, so the output is also a JS literal */
		CHECK(!(n == 3 && c->s[0] == 0xe2 && c->s[1] == 0x80 && (c->s[2] & 0xfe) == 0xa8),
		      "raw U+2028/U+2029 in output");
		c->s += n;
	}
}

/* The document is {"key": "value"} or {"key": ["value"]}: checked strictly. */
static void strict_doc(const char *buf, size_t len, bool in_array)
{
	struct cur c = { (const unsigned char *)buf, (const unsigned char *)buf + len };

	CHECK(lit(&c, '{'), "expected '{'");
	strict_string(&c);
	CHECK(lit(&c, ':'), "expected ':'");
	if (in_array)
		CHECK(lit(&c, '['), "expected '['");
	ws(&c);
	strict_string(&c);
	if (in_array)
		CHECK(lit(&c, ']'), "expected ']'");
	CHECK(lit(&c, '}'), "expected '}'");
	ws(&c);
	CHECK(c.s == c.end, "trailing bytes after the document");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *str = (const char *)data + 1, *got;
	const struct jnode *root, *key_node, *val;
	size_t len = size ? size - 1 : 0, keylen, outlen = 0;
	struct json_writer *w;
	struct json_doc *doc;
	json_error_t jerr;
	char *out = NULL, *key, err[128];
	bool pretty, in_array;
	json_t *j;
	FILE *f;

	if (!size)
		return 0;
	pretty = data[0] & 1;
	in_array = data[0] & 2;
	keylen = strnlen(str, len);
	key = malloc(keylen + 1);
	CHECK(key, "out of memory");
	memcpy(key, str, keylen);
	key[keylen] = '\0';

	f = open_memstream(&out, &outlen);
	CHECK(f, "open_memstream");
	w = jsonw_new(f, pretty);
	CHECK(w, "jsonw_new");
	jsonw_start_object(w);
	jsonw_name(w, key);
	if (in_array)
		jsonw_start_array(w);
	jsonw_string_len(w, str, len);
	if (in_array)
		jsonw_end_array(w);
	jsonw_end_object(w);
	CHECK(jsonw_finish(w) == 0, "jsonw_finish failed on a well-formed sequence of calls");
	jsonw_free(w);
	fclose(f);

	strict_doc(out, outlen, in_array);

	/* jansson: strict UTF-8, no \u0000 unless allowed */
	j = json_loadb(out, outlen, JSON_ALLOW_NUL, &jerr);
	CHECK(j, "jansson rejects the output: %s at %d", jerr.text, jerr.position);
	json_decref(j);

	/* our own reader, and the round trip */
	doc = json_doc__parse(out, outlen, NULL, err, sizeof(err));
	CHECK(doc, "json_reader rejects the output: %s", err);
	root = json_doc__root(doc);
	CHECK(jnode__type(root) == JOBJ && jnode__len(root) == 1, "not a one-member object");
	key_node = jnode__at(root, 0);
	val = in_array ? jnode__at(key_node, 0) : key_node;
	got = jnode__str(val, NULL);
	CHECK(got, "the value is not a string");
	if (all_valid_utf8_no_nul((const unsigned char *)str, len))
		CHECK(strlen(got) == len && !memcmp(got, str, len),
		      "valid UTF-8 did not round-trip (%zu bytes in, %zu out)", len, strlen(got));
	if (all_valid_utf8_no_nul((const unsigned char *)key, keylen))
		CHECK(jnode__get(root, key) == key_node, "the key did not round-trip");
	json_doc__free(doc);
	free(out);
	free(key);
	return 0;
}
