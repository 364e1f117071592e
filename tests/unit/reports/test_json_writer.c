// SPDX-License-Identifier: Apache-2.0
#include <criterion/criterion.h>
#include <errno.h>
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_writer.h"

#define R "\xef\xbf\xbd" /* U+FFFD, the replacement of an invalid subpart */

struct mem {
	FILE *f;
	char *data;
	size_t len;
};

static struct json_writer *mem_open(struct mem *m, bool pretty)
{
	struct json_writer *w;

	m->data = NULL;
	m->len = 0;
	m->f = open_memstream(&m->data, &m->len);
	cr_assert_not_null(m->f);
	w = jsonw_new(m->f, pretty);
	cr_assert_not_null(w);
	return w;
}

/* Finishes and frees w; m->data then holds the whole output. */
static int mem_close(struct mem *m, struct json_writer *w)
{
	int rc = jsonw_finish(w);

	jsonw_free(w);
	cr_assert_eq(fclose(m->f), 0);
	return rc;
}

static json_t *parse(const struct mem *m)
{
	json_error_t err;
	json_t *j = json_loadb(m->data, m->len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &err);

	cr_assert_not_null(j, "jansson: %s at %d in <%.200s>", err.text, err.position, m->data);
	return j;
}

/* Compact output of one top-level string, as a malloc'd buffer. */
static char *escape(const char *s, size_t len, size_t *out_len)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, false);

	jsonw_string_len(w, s, len);
	cr_assert_eq(mem_close(&m, w), 0);
	*out_len = m.len;
	return m.data;
}

/*
 * Reference UTF-8 rules, built from an encoder rather than byte ranges so
 * that they do not share the writer's reasoning: a byte string is a valid
 * prefix iff some scalar value's encoding starts with it.
 */
static bool prefix1[256];
static bool prefix2[65536];
static uint8_t *prefix3; /* bitmap over 24-bit prefixes */

static size_t encode(uint32_t cp, unsigned char *b)
{
	if (cp < 0x80) {
		b[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = 0xc0 | cp >> 6;
		b[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = 0xe0 | cp >> 12;
		b[1] = 0x80 | (cp >> 6 & 0x3f);
		b[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	b[0] = 0xf0 | cp >> 18;
	b[1] = 0x80 | (cp >> 12 & 0x3f);
	b[2] = 0x80 | (cp >> 6 & 0x3f);
	b[3] = 0x80 | (cp & 0x3f);
	return 4;
}

static void ref_init(void)
{
	unsigned char b[4];
	uint32_t cp;

	if (prefix3)
		return;
	prefix3 = calloc(1 << 21, 1);
	cr_assert_not_null(prefix3);
	for (cp = 0x80; cp <= 0x10ffff; cp++) {
		size_t n;

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		n = encode(cp, b);
		prefix1[b[0]] = true;
		prefix2[b[0] << 8 | b[1]] = true;
		if (n >= 3) {
			uint32_t k = (uint32_t)b[0] << 16 | b[1] << 8 | b[2];

			prefix3[k >> 3] |= 1 << (k & 7);
		}
	}
}

static bool ref_complete(const unsigned char *s, size_t n)
{
	uint32_t cp;

	switch (n) {
	case 2: cp = (s[0] & 0x1f) << 6 | (s[1] & 0x3f); break;
	case 3: cp = (s[0] & 0x0f) << 12 | (s[1] & 0x3f) << 6 | (s[2] & 0x3f); break;
	case 4: cp = (uint32_t)(s[0] & 0x07) << 18 | (s[1] & 0x3f) << 12 |
		     (s[2] & 0x3f) << 6 | (s[3] & 0x3f); break;
	default: return false;
	}
	unsigned char b[4];
	return encode(cp, b) == n && memcmp(b, s, n) == 0 &&
	       !(cp >= 0xd800 && cp <= 0xdfff) && cp <= 0x10ffff;
}

static bool ref_prefix(const unsigned char *s, size_t n)
{
	uint32_t k;

	switch (n) {
	case 1: return prefix1[s[0]];
	case 2: return prefix2[s[0] << 8 | s[1]];
	case 3:
		k = (uint32_t)s[0] << 16 | s[1] << 8 | s[2];
		return prefix3[k >> 3] >> (k & 7) & 1;
	default: return false;
	}
}

/*
 * What a JSON parser should read back from the writer's output for input s:
 * s with each maximal invalid subpart replaced by U+FFFD. Returns length.
 */
static size_t ref_sanitize(const unsigned char *s, size_t len, unsigned char *out)
{
	size_t i = 0, o = 0;

	while (i < len) {
		size_t n = 0, k;

		if (s[i] < 0x80) {
			out[o++] = s[i++];
			continue;
		}
		/* longest prefix of a valid sequence */
		for (k = 1; k <= 4 && i + k <= len; k++) {
			if (ref_complete(s + i, k)) {
				n = k;
				break;
			}
			if (!ref_prefix(s + i, k))
				break;
			n = k;
		}
		if (n >= 2 && ref_complete(s + i, n)) {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		} else {
			memcpy(out + o, R, 3);
			o += 3;
			i += n ? n : 1;
		}
	}
	return o;
}

static bool valid_utf8(const char *s, size_t len)
{
	unsigned char *tmp = malloc(len * 3 + 1);
	size_t n = ref_sanitize((const unsigned char *)s, len, tmp);
	bool ok = n == len && memcmp(tmp, s, len) == 0;

	free(tmp);
	return ok;
}

/*
 * Writes s, parses the output back and checks it reads as ref_sanitize(s),
 * is valid UTF-8 and holds no raw control byte or raw U+2028/9.
 */
static void check_roundtrip(const unsigned char *s, size_t len)
{
	unsigned char want[64 * 3 + 8];
	size_t want_len, out_len, i;
	char *out;
	json_t *j;
	json_error_t err;

	cr_assert_leq(len, 64);
	want_len = ref_sanitize(s, len, want);
	out = escape((const char *)s, len, &out_len);
	cr_assert(valid_utf8(out, out_len), "invalid UTF-8 output");
	for (i = 0; i < out_len; i++) {
		unsigned char c = out[i];

		cr_assert(c >= 0x20 && c != 0x7f, "raw byte 0x%02x in output", c);
		if (i + 2 < out_len && c == 0xe2 && (unsigned char)out[i + 1] == 0x80)
			cr_assert(((unsigned char)out[i + 2] & 0xfe) != 0xa8, "raw U+2028/9");
	}
	j = json_loadb(out, out_len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &err);
	cr_assert_not_null(j, "jansson: %s", err.text);
	cr_assert(json_is_string(j));
	cr_assert_eq(json_string_length(j), want_len);
	cr_assert_arr_eq(json_string_value(j), want, want_len);
	json_decref(j);
	free(out);
}

/* --- values --- */

Test(json_writer, nested_document_parses_back)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, false);
	json_t *j, *a, *o;

	jsonw_start_object(w);
	jsonw_string_field(w, "s", "hello");
	jsonw_u64_field(w, "u", 42);
	jsonw_i64_field(w, "neg", -1234567890123LL);
	jsonw_i64_field(w, "min", INT64_MIN);
	jsonw_u64_field(w, "i64max", INT64_MAX);
	jsonw_double_field(w, "d", -2.5);
	jsonw_double_field(w, "nan", NAN);
	jsonw_double_field(w, "inf", -INFINITY);
	jsonw_bool_field(w, "t", true);
	jsonw_bool_field(w, "f", false);
	jsonw_null_field(w, "n");
	jsonw_hex_field(w, "h", 0x1f2e);
	jsonw_string_field(w, "nullstr", NULL);
	jsonw_name(w, "arr");
	jsonw_start_array(w);
	jsonw_u64(w, 1);
	jsonw_start_object(w);
	jsonw_name(w, "deep");
	jsonw_start_array(w);
	jsonw_end_array(w);
	jsonw_end_object(w);
	jsonw_string(w, "x");
	jsonw_end_array(w);
	jsonw_name(w, "empty");
	jsonw_start_object(w);
	jsonw_end_object(w);
	jsonw_end_object(w);
	cr_assert_eq(mem_close(&m, w), 0);

	j = parse(&m);
	cr_assert(json_is_object(j));
	cr_assert_eq(json_object_size(j), 15);
	cr_assert_str_eq(json_string_value(json_object_get(j, "s")), "hello");
	cr_assert_eq(json_integer_value(json_object_get(j, "u")), 42);
	cr_assert_eq(json_integer_value(json_object_get(j, "neg")), -1234567890123LL);
	cr_assert_eq(json_integer_value(json_object_get(j, "min")), INT64_MIN);
	cr_assert_eq(json_integer_value(json_object_get(j, "i64max")), INT64_MAX);
	cr_assert_eq(json_real_value(json_object_get(j, "d")), -2.5);
	cr_assert(json_is_null(json_object_get(j, "nan")));
	cr_assert(json_is_null(json_object_get(j, "inf")));
	cr_assert(json_is_true(json_object_get(j, "t")));
	cr_assert(json_is_false(json_object_get(j, "f")));
	cr_assert(json_is_null(json_object_get(j, "n")));
	cr_assert_str_eq(json_string_value(json_object_get(j, "h")), "0x1f2e");
	cr_assert(json_is_null(json_object_get(j, "nullstr")));
	a = json_object_get(j, "arr");
	cr_assert(json_is_array(a));
	cr_assert_eq(json_array_size(a), 3);
	cr_assert_eq(json_integer_value(json_array_get(a, 0)), 1);
	o = json_array_get(a, 1);
	cr_assert(json_is_array(json_object_get(o, "deep")));
	cr_assert_eq(json_array_size(json_object_get(o, "deep")), 0);
	cr_assert_str_eq(json_string_value(json_array_get(a, 2)), "x");
	cr_assert_eq(json_object_size(json_object_get(j, "empty")), 0);
	json_decref(j);
	free(m.data);
}

Test(json_writer, u64_max_textual)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, false);

	/* beyond json_int_t, so only the text can be checked */
	jsonw_start_array(w);
	jsonw_u64(w, UINT64_MAX);
	jsonw_u64(w, 0);
	jsonw_i64(w, INT64_MIN);
	jsonw_i64(w, -1);
	jsonw_end_array(w);
	cr_assert_eq(mem_close(&m, w), 0);
	cr_assert_str_eq(m.data, "[18446744073709551615,0,-9223372036854775808,-1]");
	free(m.data);
}

Test(json_writer, hex)
{
	static const struct { uint64_t v; const char *text; } cases[] = {
		{ 0, "\"0x0\"" },
		{ 0x1f2e, "\"0x1f2e\"" },
		{ 0xABCDEF, "\"0xabcdef\"" },
		{ 0x7f0000001000ULL, "\"0x7f0000001000\"" },
		{ UINT64_MAX, "\"0xffffffffffffffff\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mem m;
		struct json_writer *w = mem_open(&m, false);

		jsonw_hex(w, cases[i].v);
		cr_assert_eq(mem_close(&m, w), 0);
		cr_assert_str_eq(m.data, cases[i].text);
		free(m.data);
	}
}

Test(json_writer, doubles_round_trip)
{
	static const double vals[] = {
		0.0, -0.0, 0.1, 1.0 / 3, -2.5, 1e300, -1e-300, 5e-324, DBL_MAX,
		DBL_MIN, 123456789.125, 9007199254740993.0, 2.0 / 3 * 1e22, M_PI,
	};

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		struct mem m;
		struct json_writer *w = mem_open(&m, false);
		json_t *j;

		jsonw_double(w, vals[i]);
		cr_assert_eq(mem_close(&m, w), 0);
		j = parse(&m);
		cr_assert(json_is_number(j), "%s", m.data);
		cr_assert_eq(json_number_value(j), vals[i], "%.17g printed as %s",
			     vals[i], m.data);
		json_decref(j);
		free(m.data);
	}
}

Test(json_writer, doubles_text)
{
	static const struct { double v; const char *text; } cases[] = {
		{ 0.1, "0.1" }, { -2.5, "-2.5" }, { 1.0, "1" }, { 1e300, "1e+300" },
		{ 0.30000000000000004, "0.30000000000000004" },
		{ NAN, "null" }, { -NAN, "null" }, { INFINITY, "null" },
		{ -INFINITY, "null" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mem m;
		struct json_writer *w = mem_open(&m, false);

		jsonw_double(w, cases[i].v);
		cr_assert_eq(mem_close(&m, w), 0);
		cr_assert_str_eq(m.data, cases[i].text);
		free(m.data);
	}
}

Test(json_writer, scalars_at_top_level)
{
	static const char *want[] = { "true", "false", "null", "null", "\"\"" };

	for (int i = 0; i < 5; i++) {
		struct mem m;
		struct json_writer *w = mem_open(&m, false);

		switch (i) {
		case 0: jsonw_bool(w, true); break;
		case 1: jsonw_bool(w, false); break;
		case 2: jsonw_null(w); break;
		case 3: jsonw_string(w, NULL); break;
		case 4: jsonw_string(w, ""); break;
		}
		cr_assert_eq(mem_close(&m, w), 0);
		cr_assert_str_eq(m.data, want[i]);
		free(m.data);
	}
}

/* --- layout --- */

static void small_document(struct json_writer *w)
{
	jsonw_start_object(w);
	jsonw_string_field(w, "name", "x");
	jsonw_u64_field(w, "n", 1);
	jsonw_name(w, "list");
	jsonw_start_array(w);
	jsonw_u64(w, 1);
	jsonw_string(w, "two");
	jsonw_null(w);
	jsonw_start_object(w);
	jsonw_bool_field(w, "b", true);
	jsonw_end_object(w);
	jsonw_end_array(w);
	jsonw_name(w, "empty_obj");
	jsonw_start_object(w);
	jsonw_end_object(w);
	jsonw_name(w, "empty_arr");
	jsonw_start_array(w);
	jsonw_end_array(w);
	jsonw_hex_field(w, "h", 255);
	jsonw_end_object(w);
}

Test(json_writer, compact_text)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, false);

	small_document(w);
	cr_assert_eq(mem_close(&m, w), 0);
	cr_assert_str_eq(m.data,
		"{\"name\":\"x\",\"n\":1,\"list\":[1,\"two\",null,{\"b\":true}],"
		"\"empty_obj\":{},\"empty_arr\":[],\"h\":\"0xff\"}");
	free(m.data);
}

Test(json_writer, pretty_text)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, true);

	small_document(w);
	cr_assert_eq(mem_close(&m, w), 0);
	cr_assert_str_eq(m.data,
		"{\n"
		"  \"name\": \"x\",\n"
		"  \"n\": 1,\n"
		"  \"list\": [\n"
		"    1,\n"
		"    \"two\",\n"
		"    null,\n"
		"    {\n"
		"      \"b\": true\n"
		"    }\n"
		"  ],\n"
		"  \"empty_obj\": {},\n"
		"  \"empty_arr\": [],\n"
		"  \"h\": \"0xff\"\n"
		"}\n");
	free(m.data);
}

Test(json_writer, pretty_top_level_array_and_scalar)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, true);

	jsonw_start_array(w);
	jsonw_start_array(w);
	jsonw_end_array(w);
	jsonw_i64(w, -3);
	jsonw_end_array(w);
	cr_assert_eq(mem_close(&m, w), 0);
	cr_assert_str_eq(m.data, "[\n  [],\n  -3\n]\n");
	free(m.data);

	w = mem_open(&m, true);
	jsonw_u64(w, 7);
	cr_assert_eq(mem_close(&m, w), 0);
	cr_assert_str_eq(m.data, "7\n");
	free(m.data);
}

Test(json_writer, large_output_streams)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, false);
	json_t *j;

	jsonw_start_array(w);
	for (int i = 0; i < 200000; i++) {
		jsonw_start_object(w);
		jsonw_u64_field(w, "i", i);
		jsonw_string_field(w, "s", "abc\n");
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	cr_assert_eq(mem_close(&m, w), 0);
	j = parse(&m);
	cr_assert_eq(json_array_size(j), 200000);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(j, 199999), "i")),
		     199999);
	json_decref(j);
	free(m.data);
}

/* --- escaping --- */

#define S(lit) { lit, sizeof(lit) - 1 }

static const struct {
	struct { const char *s; size_t len; } in;
	const char *out; /* compact output, quotes included */
} escapes[] = {
	{ S(""), "\"\"" },
	{ S("plain text"), "\"plain text\"" },
	{ S("a\"b"), "\"a\\\"b\"" },
	{ S("a\\b"), "\"a\\\\b\"" },
	{ S("\\\""), "\"\\\\\\\"\"" },
	{ S("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"" },
	{ S("\x01\x02\x1b\x1f"), "\"\\u0001\\u0002\\u001b\\u001f\"" },
	{ S("\x7f"), "\"\\u007f\"" },
	{ S("\0"), "\"\\u0000\"" },
	{ S("a\0b\0"), "\"a\\u0000b\\u0000\"" },
	{ S("/<>&' "), "\"/<>&' \"" },
	/* valid 2-, 3- and 4-byte UTF-8, boundaries included, kept */
	{ S("\xc3\xa9"), "\"\xc3\xa9\"" },
	{ S("\xc2\x80"), "\"\xc2\x80\"" },
	{ S("\xdf\xbf"), "\"\xdf\xbf\"" },
	{ S("\xe2\x82\xac"), "\"\xe2\x82\xac\"" },
	{ S("\xe0\xa0\x80"), "\"\xe0\xa0\x80\"" },
	{ S("\xed\x9f\xbf"), "\"\xed\x9f\xbf\"" },
	{ S("\xee\x80\x80"), "\"\xee\x80\x80\"" },
	{ S("\xef\xbf\xbf"), "\"\xef\xbf\xbf\"" },
	{ S("\xef\xbb\xbf"), "\"\xef\xbb\xbf\"" },
	{ S("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"" },
	{ S("\xf0\x90\x80\x80"), "\"\xf0\x90\x80\x80\"" },
	{ S("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"" },
	{ S(R), "\"" R "\"" },
	/* line and paragraph separators break JS string literals */
	{ S("\xe2\x80\xa8"), "\"\\u2028\"" },
	{ S("a\xe2\x80\xa9" "b"), "\"a\\u2029b\"" },
	{ S("\xe2\x80\xa7\xe2\x80\xaa"), "\"\xe2\x80\xa7\xe2\x80\xaa\"" },
	/* stray continuation bytes */
	{ S("\x80"), "\"" R "\"" },
	{ S("\xbf\x80"), "\"" R R "\"" },
	{ S("a\x80" "b"), "\"a" R "b\"" },
	/* bytes that never occur */
	{ S("\xc0\x80"), "\"" R R "\"" },
	{ S("\xc1\xbf"), "\"" R R "\"" },
	{ S("\xf5\x80\x80\x80"), "\"" R R R R "\"" },
	{ S("\xf8\x88\x80\x80\x80"), "\"" R R R R R "\"" },
	{ S("\xfe\xff"), "\"" R R "\"" },
	/* overlong encodings */
	{ S("\xe0\x80\x80"), "\"" R R R "\"" },
	{ S("\xe0\x9f\xbf"), "\"" R R R "\"" },
	{ S("\xf0\x80\x80\x80"), "\"" R R R R "\"" },
	{ S("\xf0\x8f\xbf\xbf"), "\"" R R R R "\"" },
	/* surrogates, CESU-8 pairs included */
	{ S("\xed\xa0\x80"), "\"" R R R "\"" },
	{ S("\xed\xbf\xbf"), "\"" R R R "\"" },
	{ S("\xed\xa0\xbd\xed\xb8\x80"), "\"" R R R R R R "\"" },
	/* beyond U+10FFFF */
	{ S("\xf4\x90\x80\x80"), "\"" R R R R "\"" },
	{ S("\xf7\xbf\xbf\xbf"), "\"" R R R R "\"" },
	/* truncated sequences: one U+FFFD per maximal subpart */
	{ S("\xc3"), "\"" R "\"" },
	{ S("\xe2\x82"), "\"" R "\"" },
	{ S("\xf0\x9f\x98"), "\"" R "\"" },
	{ S("\xe2\x82" "A"), "\"" R "A\"" },
	{ S("\xf0\x9f\x98" "A"), "\"" R "A\"" },
	{ S("\xc3\""), "\"" R "\\\"\"" },
	{ S("\xe2\\"), "\"" R "\\\\\"" },
	{ S("\xf0\x9f\n"), "\"" R "\\n\"" },
	{ S("\xe2\x82\0"), "\"" R "\\u0000\"" },
	{ S("\xc3\xc3\xa9"), "\"" R "\xc3\xa9\"" },
	/* Unicode ch. 3 examples of maximal subparts */
	{ S("a\xf1\x80\x80\xe1\x80\xc2" "b\x80" "c\x80\xbf" "d"),
	  "\"a" R R R "b" R "c" R R "d\"" },
	{ S("\xc0\xaf\xe0\x80\xbf\xf0\x81\x82" "A"),
	  "\"" R R R R R R R R "A\"" },
	{ S("\xed\xa0\x80\xed\xbf\xbf\xed\xaf" "A"),
	  "\"" R R R R R R R R "A\"" },
	{ S("\xf4\x91\x92\x93\xff" "A\x80\xbf" "B"),
	  "\"" R R R R R "A" R R "B\"" },
	{ S("\xe1\x80\xe2\xf0\x91\x92\xf1\xbf" "A"), "\"" R R R R "A\"" },
};

Test(json_writer, escape_table)
{
	for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		size_t len;
		char *out = escape(escapes[i].in.s, escapes[i].in.len, &len);

		cr_assert_eq(len, strlen(escapes[i].out), "case %zu: got <%s>", i, out);
		cr_assert_str_eq(out, escapes[i].out, "case %zu", i);
		free(out);
		/* the reference model must agree with the table too */
		ref_init();
		check_roundtrip((const unsigned char *)escapes[i].in.s, escapes[i].in.len);
	}
}

Test(json_writer, escaped_keys)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, false);

	jsonw_start_object(w);
	jsonw_u64_field(w, "k\"\n\xff\xe2\x80\xa8", 1);
	jsonw_end_object(w);
	cr_assert_eq(mem_close(&m, w), 0);
	cr_assert_str_eq(m.data, "{\"k\\\"\\n" R "\\u2028\":1}");
	free(m.data);
}

Test(json_writer, every_single_byte)
{
	for (int b = 0; b < 256; b++) {
		unsigned char c = b;
		size_t len;
		char *out = escape((const char *)&c, 1, &len);
		char want[16];

		if (b == '"' || b == '\\')
			snprintf(want, sizeof(want), "\"\\%c\"", b);
		else if (b && strchr("\b\f\n\r\t", b))
			snprintf(want, sizeof(want), "\"\\%c\"",
				 "bfnrt"[strchr("\b\f\n\r\t", b) - "\b\f\n\r\t"]);
		else if (b < 0x20 || b == 0x7f)
			snprintf(want, sizeof(want), "\"\\u%04x\"", b);
		else if (b < 0x80)
			snprintf(want, sizeof(want), "\"%c\"", b);
		else
			snprintf(want, sizeof(want), "\"" R "\"");
		cr_assert_str_eq(out, want, "byte 0x%02x", b);
		cr_assert_eq(len, strlen(want));
		free(out);
	}
	ref_init();
	for (int b = 0; b < 256; b++) {
		unsigned char c = b;

		check_roundtrip(&c, 1);
	}
}

Test(json_writer, every_byte_pair)
{
	ref_init();
	for (int a = 0; a < 256; a++)
		for (int b = 0; b < 256; b++) {
			unsigned char s[2] = { a, b };

			check_roundtrip(s, 2);
		}
}

/* Bytes where UTF-8 validity changes, and the ASCII that must not be eaten. */
static const unsigned char edges[] = {
	0x00, 0x22, 0x41, 0x5c, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xa8,
	0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4,
	0xf5, 0xff,
};
#define NEDGES (sizeof(edges) / sizeof(edges[0]))

Test(json_writer, edge_byte_triples_and_quads)
{
	unsigned char s[4];

	ref_init();
	for (size_t a = 0; a < NEDGES; a++)
		for (size_t b = 0; b < NEDGES; b++)
			for (size_t c = 0; c < NEDGES; c++) {
				s[0] = edges[a];
				s[1] = edges[b];
				s[2] = edges[c];
				check_roundtrip(s, 3);
				for (size_t d = 0; d < NEDGES; d += 3) {
					s[3] = edges[d];
					check_roundtrip(s, 4);
				}
			}
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	/* xorshift64*: same sequence on every libc */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

Test(json_writer, fuzz_random_strings)
{
	unsigned char s[64 + 4];

	ref_init();
	for (int iter = 0; iter < 100000; iter++) {
		size_t len = next_rand() % 65, n = 0;

		/* mix raw bytes, edge bytes and whole valid characters */
		while (n < len) {
			uint64_t r = next_rand();

			switch (r % 4) {
			case 0:
				s[n++] = r >> 8;
				break;
			case 1:
				s[n++] = edges[(r >> 8) % NEDGES];
				break;
			case 2:
				s[n++] = 0x80 | (r >> 8 & 0x3f);
				break;
			default: {
				uint32_t cp = (r >> 8) % 0x110000;

				if (cp >= 0xd800 && cp <= 0xdfff)
					cp = 0x2028 + (cp & 1);
				n += encode(cp, s + n);
			}
			}
		}
		if (n > len)
			n = len; /* cuts the last character: truncated sequence */
		check_roundtrip(s, n);
	}
}

/* --- misuse and errors --- */

Test(json_writer, value_without_name_in_object)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, false);

	jsonw_start_object(w);
	jsonw_u64(w, 1);
	/* further output is dropped */
	jsonw_u64_field(w, "a", 2);
	jsonw_end_object(w);
	cr_assert_eq(mem_close(&m, w), -EINVAL);
	cr_assert_str_eq(m.data, "{");
	free(m.data);
}

Test(json_writer, mismatched_ends)
{
	for (int i = 0; i < 8; i++) {
		struct mem m;
		struct json_writer *w = mem_open(&m, false);

		switch (i) {
		case 0:
			jsonw_start_object(w);
			jsonw_end_array(w);
			break;
		case 1:
			jsonw_start_array(w);
			jsonw_end_object(w);
			break;
		case 2:
			jsonw_end_object(w);
			break;
		case 3: /* unclosed */
			jsonw_start_array(w);
			jsonw_start_object(w);
			jsonw_end_object(w);
			break;
		case 4: /* key without value */
			jsonw_start_object(w);
			jsonw_name(w, "a");
			jsonw_end_object(w);
			break;
		case 5: /* two keys in a row */
			jsonw_start_object(w);
			jsonw_name(w, "a");
			jsonw_name(w, "b");
			jsonw_u64(w, 1);
			jsonw_end_object(w);
			break;
		case 6: /* key in an array, then at top level */
			jsonw_start_array(w);
			jsonw_name(w, "a");
			break;
		case 7:
			jsonw_name(w, "a");
			break;
		}
		cr_assert_eq(mem_close(&m, w), -EINVAL, "case %d: <%s>", i, m.data);
		free(m.data);
	}
}

Test(json_writer, null_key_and_second_top_level_value)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, false);

	jsonw_start_object(w);
	jsonw_name(w, NULL);
	jsonw_end_object(w);
	cr_assert_eq(mem_close(&m, w), -EINVAL);
	free(m.data);

	w = mem_open(&m, false);
	jsonw_u64(w, 1);
	jsonw_u64(w, 2);
	cr_assert_eq(mem_close(&m, w), -EINVAL);
	cr_assert_str_eq(m.data, "1");
	free(m.data);

	w = mem_open(&m, false);
	cr_assert_eq(mem_close(&m, w), -EINVAL, "no value at all");
	free(m.data);
}

Test(json_writer, nesting_limit)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, false);
	int i;

	for (i = 0; i < 64; i++)
		jsonw_start_array(w);
	for (i = 0; i < 64; i++)
		jsonw_end_array(w);
	cr_assert_eq(mem_close(&m, w), 0, "64 levels are allowed");
	cr_assert_eq(m.len, 128);
	free(m.data);

	w = mem_open(&m, true);
	for (i = 0; i < 1000; i++) {
		jsonw_start_object(w);
		jsonw_name(w, "k");
	}
	for (i = 0; i < 1000; i++)
		jsonw_end_object(w);
	cr_assert_eq(mem_close(&m, w), -EINVAL);
	/* nothing after the 64th level's key: level d took 9 + 2d bytes */
	cr_assert_eq(m.len, 64 * 9 + 64 * 63, "%zu", m.len);
	cr_assert_eq(m.data[m.len - 1], ' ', "<%s>", m.data + m.len - 20);
	free(m.data);
}

Test(json_writer, null_writer_is_harmless)
{
	cr_assert_null(jsonw_new(NULL, false));
	jsonw_start_object(NULL);
	jsonw_name(NULL, "a");
	jsonw_string(NULL, "x");
	jsonw_double_field(NULL, "d", 1.0);
	jsonw_hex(NULL, 1);
	jsonw_end_object(NULL);
	cr_assert_eq(jsonw_finish(NULL), -EINVAL);
	jsonw_free(NULL);
}

Test(json_writer, full_memory_buffer_is_eio)
{
	char buf[16];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct json_writer *w;

	cr_assert_not_null(f);
	w = jsonw_new(f, false);
	cr_assert_not_null(w);
	jsonw_start_object(w);
	jsonw_string_field(w, "key", "a value longer than sixteen bytes");
	jsonw_end_object(w);
	cr_assert_eq(jsonw_finish(w), -EIO);
	jsonw_free(w);
	fclose(f);
}

Test(json_writer, dev_full_is_eio)
{
	FILE *f = fopen("/dev/full", "w");
	struct json_writer *w;

	if (!f)
		cr_skip_test("no /dev/full");
	w = jsonw_new(f, true);
	cr_assert_not_null(w);
	jsonw_start_array(w);
	jsonw_u64(w, 1);
	jsonw_end_array(w);
	/* buffered: the error surfaces only at the flush */
	cr_assert_eq(jsonw_finish(w), -EIO);
	jsonw_free(w);
	fclose(f);
}

/* A long array in pretty output: one item per line, compact inside. */
Test(json_writer, flat_items_one_per_line)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, true);

	jsonw_start_object(w);
	jsonw_name(w, "a");
	jsonw_start_array(w);
	jsonw_flat_items(w, true);
	jsonw_start_object(w);
	jsonw_u64_field(w, "x", 1);
	jsonw_string_field(w, "y", "z");
	jsonw_end_object(w);
	jsonw_start_object(w);
	jsonw_u64_field(w, "x", 2);
	jsonw_end_object(w);
	jsonw_flat_items(w, false);
	jsonw_end_array(w);
	jsonw_u64_field(w, "b", 3);
	jsonw_end_object(w);
	cr_assert_eq(mem_close(&m, w), 0);
	cr_assert_str_eq(m.data, "{\n  \"a\": [\n    {\"x\":1,\"y\":\"z\"},\n    {\"x\":2}\n  ],\n"
				 "  \"b\": 3\n}\n");
	free(m.data);
}
