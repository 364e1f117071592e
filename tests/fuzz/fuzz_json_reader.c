// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: the JSON reader (user/reports/json_reader.c), which parses
 * report files a user hands to `ttbpf report`.
 *
 * Arbitrary bytes are parsed with the dashboard's skip keys, then the whole
 * tree is walked with every jnode__ accessor. Checked beyond memory safety:
 *  - strings are valid UTF-8 without NUL (json_reader.h promises it);
 *  - a skipped key of the root object reads as null;
 *  - jnode__get finds each member by its key (the first of equal keys);
 *  - a document jansson accepts (strict RFC 8259) is accepted too, unless it
 *    nests deeper than the reader's documented limit;
 *  - the streaming reader (json_stream__read, what `ttbpf report` uses), fed
 *    the same bytes through an in-memory FILE in chunks of 1..16 bytes (so
 *    that keys, strings, escapes, elements and skipped containers straddle
 *    chunks) and in one chunk, hands over what json_doc__parse holds (every
 *    member, "stacks" element by element), or the same error message.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* the reader itself, for its keys (the API has no key accessor) */
#include "json_reader.c"
#include "json_same.h"

#define FUZZ_NAME "fuzz_json_reader"
#include "fuzz_check.h"

static const char *const skip_keys[] = { "active_allocations", "threads", NULL };
static const char each_key[] = "stacks";

static bool valid_utf8(const unsigned char *s)
{
	while (*s) {
		unsigned char c = *s, lo = 0x80, hi = 0xbf;
		int need, i;

		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 2;
		else if (c >= 0xe0 && c <= 0xef)
			need = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		else
			return false;
		for (i = 1; i < need; i++) {
			if (s[i] < lo || s[i] > hi)
				return false;
			lo = 0x80, hi = 0xbf;
		}
		s += need;
	}
	return true;
}

static void walk(const struct jnode *n, int depth, bool is_root)
{
	size_t len = jnode__len(n), i, k;
	const struct jnode *m;
	const char *s;

	CHECK(depth <= 200, "tree deeper than the input could make it");
	switch (jnode__type(n)) {
	case JNULL:
		CHECK(len == 0, "null with members");
		break;
	case JBOOL:
		(void)jnode__bool(n, false);
		CHECK(jnode__bool(n, false) == jnode__bool(n, true), "bool without a value");
		break;
	case JNUM:
		(void)jnode__u64(n, 0);
		(void)jnode__i64(n, 0);
		(void)jnode__num(n, 0);
		break;
	case JSTR:
		s = jnode__str(n, NULL);
		CHECK(s, "string without text");
		CHECK(valid_utf8((const unsigned char *)s), "string is not valid UTF-8");
		break;
	case JARR:
		for (i = 0; i < len; i++) {
			m = jnode__at(n, i);
			CHECK(m, "array member %zu missing", i);
			walk(m, depth + 1, false);
		}
		CHECK(!jnode__at(n, len), "array member past the end");
		CHECK(!jnode__get(n, ""), "an array has keys");
		break;
	case JOBJ:
		for (i = 0; i < len; i++) {
			m = jnode__at(n, i);
			CHECK(m, "object member %zu missing", i);
			walk(m, depth + 1, false);
		}
		/* keys: jnode__get finds the first member of each key */
		for (i = 0; i < len; i++) {
			const char *key;

			m = jnode__at(n, i);
			CHECK(m->key != NO_KEY, "object member without a key");
			key = m->doc->strs + m->key;
			CHECK(valid_utf8((const unsigned char *)key), "key is not valid UTF-8");
			for (k = 0; k < i; k++)
				if (!strcmp(m->doc->strs + jnode__at(n, k)->key, key))
					break;
			CHECK(jnode__get(n, key) == jnode__at(n, k), "jnode__get(\"%s\") finds another member",
			      key);
		}
		if (is_root)
			for (i = 0; skip_keys[i]; i++) {
				m = jnode__get(n, skip_keys[i]);
				CHECK(!m || jnode__type(m) == JNULL, "skipped key %s was kept",
				      skip_keys[i]);
			}
		(void)jnode__path(n, "stats", "peak_memory", NULL);
		(void)jnode__path(n, "target", "pid", NULL);
		break;
	default:
		CHECK(0, "unknown node type %d", (int)jnode__type(n));
	}
	/* accessors of another type give their default */
	if (jnode__type(n) != JSTR)
		CHECK(!jnode__str(n, NULL), "a non-string has text");
	if (jnode__type(n) != JNUM)
		CHECK(jnode__u64(n, 7) == 7 && jnode__i64(n, -7) == -7, "a non-number has a value");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc *doc;
	char err[256];
	json_error_t jerr;
	json_t *j;
	char why[600];
	size_t chunk;

	err[0] = '\0';
	doc = json_doc__parse((const char *)data, size, skip_keys, err, sizeof(err));
	if (doc) {
		CHECK(json_doc__root(doc), "a parsed document without a root");
		walk(json_doc__root(doc), 0, true);
		json_doc__free(doc);
	} else {
		CHECK(err[0] && memchr(err, '\0', sizeof(err)), "failure without a message");
	}

	/* differential: what strict JSON accepts, the reader accepts (jansson
	 * takes a NUL byte for the end of its input: not compared then) */
	j = memchr(data, '\0', size) ? NULL
				      : json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
	if (j) {
		CHECK(doc || strstr(err, "nesting too deep") || strstr(err, "out of memory"),
		      "jansson accepts the input but json_reader says: %s", err);
		json_decref(j);
	}

	chunk = 1 + (size ^ (size ? data[size - 1] : 0)) % 16;
	CHECK(!json_stream_differs((const char *)data, size, chunk, skip_keys, each_key, why, sizeof(why)),
	      "streaming: %s", why);
	CHECK(!json_stream_differs((const char *)data, size, 0, skip_keys, each_key, why, sizeof(why)),
	      "streaming: %s", why);
	return 0;
}
