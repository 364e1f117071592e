// SPDX-License-Identifier: Apache-2.0
/*
 * user/reports/json_reader.c: the streaming reader (json_stream__read,
 * json_stream__load) against the whole-buffer parser (json_doc__parse), at
 * every chunk size from 1 byte, so that every key, string, escape, element
 * and skipped container straddles a chunk boundary somewhere; and the
 * stream's bounds: what it holds does not grow with the input.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "json_reader.h"
#include "../../fuzz/json_same.h"

/* Skipped as the dashboard skips them, and one read element by element. */
static const char *const skip[] = { "active_allocations", "threads", NULL };
static const char each[] = "stacks";

/* Stream and parse agree on text at every chunk size up to its length + 1, and at 64 KiB. */
static void expect_same(const char *text, size_t len)
{
	char why[700];
	size_t c;

	for (c = 1; c <= len + 1; c++)
		cr_assert_null(json_stream_differs(text, len, c, skip, each, why, sizeof(why)), "%s in <%.*s>",
			       why, (int)len, text);
	cr_assert_null(json_stream_differs(text, len, 0, skip, each, why, sizeof(why)), "%s in <%.*s>", why,
		       (int)len, text);
}

/* What a test reads of a stream: every member kept, stacks element by element. */
static const struct json_member spec[] = {
	{ "active_allocations", JSON_SKIP }, { "threads", JSON_SKIP }, { "stacks", JSON_EACH },
	{ NULL, JSON_KEEP },
};

/* The values handed over: how many, and the last (as text of its type). */
struct seen {
	size_t cnt, elems;
	char last_key[64];
	enum jtype last_type;
	bool last_bool;
};

static int on_member(void *ctx, const char *key, size_t index, const struct jnode *v)
{
	struct seen *s = ctx;

	s->cnt++;
	s->elems += index > 0;
	snprintf(s->last_key, sizeof(s->last_key), "%s", key);
	s->last_type = jnode__type(v);
	s->last_bool = jnode__bool(jnode__at(v, 0), false);
	return 0;
}

/* text read as a stream in chunks of chunk bytes: its return; err gets the message. */
static int stream(const char *text, size_t chunk, char *err, size_t errlen)
{
	struct seen seen = { 0 };
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	int rc;

	cr_assert_not_null(in);
	err[0] = '\0';
	rc = json_stream__read(in, chunk, spec, on_member, &seen, err, errlen);
	fclose(in);
	return rc;
}

/* The error message of text at every chunk size (they must all agree with parsing). */
static void expect_error(const char *text, const char *msg)
{
	char err[256];

	expect_same(text, strlen(text));
	cr_assert_eq(stream(text, 3, err, sizeof(err)), -EINVAL, "<%s> was read", text);
	cr_expect_str_eq(err, msg, "<%s>: %s", text, err);
}

static const char *const handmade[] = {
	"{}",
	" \t\r\n{ \t\r\n} \t\r\n",
	"[]",
	"[1,2,{\"threads\":[3]}]",
	"\"threads\"",
	"42",
	"{\"threads\":[1,2,3]}",
	"{\"threads\" \t:\n [1,2,3] , \"a\":1}",
	"{\"a\":{\"threads\":[1,2],\"active_allocations\":7},\"threads\":{\"x\":[{}]}}",
	"{\"stats\":{\"active_allocations\":3},\"active_allocations\":[{\"ptr\":\"0x1\"}]}",
	/* escaped quotes and backslashes in keys and strings: never a key boundary */
	"{\"a\\\"threads\":[1],\"threads\\\\\":[2],\"x\":\"\\\"threads\\\":[\",\"threads\":[\"\\\"]\",\"\\\\\"]}",
	"{\"x\":\"\\\\\",\"threads\":[\"}\\\\\",\"\\\\\\\"]\"]}",
	/* a key spelled with an escape: skipped by the parser all the same */
	"{\"thr\\u0065ads\":[1,2],\"a\":2}",
	/* skipped values of every type */
	"{\"threads\":{},\"stacks\":[],\"active_allocations\":\"s\"}",
	"{\"threads\":\"a \\\" b\",\"stacks\":-1.5e3,\"active_allocations\":true}",
	"{\"threads\":false,\"stacks\":null,\"active_allocations\":[[[{\"a\":[]}]]]}",
	/* the same key twice */
	"{\"threads\":[1],\"threads\":[2],\"threads\":3}",
	/* long keys, near and over the filter's 64 bytes */
	"{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":[1],\"threads\":[]}",
	/* UTF-8 and \u escapes around skipped values */
	"{\"\xc3\xa9\":\"\\ud83d\\ude00\",\"threads\":[\"\xe2\x82\xac\\u00e9\"],\"z\":\"\\ud800\"}",
	/* invalid: before, in and after a skipped container */
	"{\"a\":tru,\"threads\":[1]}",
	"{\"a\":1 2,\"threads\":[1}",
	"{\"threads\":[1}",
	"{\"threads\":[1,\"\x01\"],\"a\":\"\x01\"}",
	"{\"threads\":[1,\x01]}",
	"{\"threads\":[1],\"a\":tru}",
	"{\"threads\":[1] \"a\":1}",
	"{\"threads\":[1]}x",
	"{\"threads\":[1]} {}",
	"{\"threads\":[1],}",
	"{\"threads\" [1]}",
	"{\"threads\":]",
	"{\"threads\":[\"\\",
	"{,\"threads\":[1]}",
	"{\"threads\":[1]]",
	"\xef\xbb\xbf{\"threads\":[1]}",
	"{\"threads\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	"{\"threads\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	"",
	"   ",
	"{\"threads\":[1]}\n\n",
};

Test(json_reader, stream_equals_parse_handmade)
{
	size_t i;

	for (i = 0; i < sizeof(handmade) / sizeof(handmade[0]); i++)
		expect_same(handmade[i], strlen(handmade[i]));
	/* a NUL byte in the text, in and out of a skipped container */
	expect_same("{\"threads\":[\"a\0b\"],\"a\":1}", 25);
	expect_same("{\"threads\":[1,\0],\"a\":1}", 23);
	expect_same("{\"a\":\"\0\",\"threads\":[1]}", 23);
}

/*
 * text parsed whole, its root checked by check (which gets text, for its
 * messages); then read as a stream at every chunk size from 1 byte, which
 * must hand over member by member what the parse holds.
 */
static void expect_read(const char *text, void (*check)(const struct jnode *root, const char *text))
{
	char err[256];
	struct json_doc *d = json_doc__parse(text, strlen(text), skip, err, sizeof(err));

	cr_assert_not_null(d, "%s in <%s>", err, text);
	check(json_doc__root(d), text);
	json_doc__free(d);
	expect_same(text, strlen(text));
}

static void check_skipped_null(const struct jnode *r, const char *text)
{
	const struct jnode *t = jnode__get(r, "threads");

	cr_expect_not_null(t, "%s: threads is missing", text);
	cr_expect_eq(jnode__type(t), JNULL, "%s: threads is not null", text);
	cr_expect_eq(jnode__len(r), 3, "%s", text);
	cr_expect_eq(jnode__u64(jnode__get(r, "a"), 0), 1, "%s", text);
	cr_expect_str_eq(jnode__str(jnode__get(r, "b"), ""), "two", "%s", text);
	cr_expect_str_eq(jnode__key(jnode__at(r, 1)), "threads", "%s", text);
}

Test(json_reader, skipped_values_read_as_null)
{
	const char *types[] = { "{\"k\":[1,{\"threads\":2}]}", "[1,\"]\",[]]", "\"x\\\"]\"", "-12.5",
				"true", "false", "null", "{}", "[]" };
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(text, sizeof(text), "{\"a\":1,\"threads\":%s,\"b\":\"two\"}", types[i]);
		expect_read(text, check_skipped_null);
	}
}

static void check_nested(const struct jnode *r, const char *text)
{
	cr_expect_eq(jnode__u64(jnode__path(r, "stats", "active_allocations", NULL), 0), 3);
	cr_expect_eq(jnode__len(jnode__path(r, "stats", "threads", NULL)), 2);
	cr_expect_eq(jnode__u64(jnode__path(jnode__at(jnode__get(r, "list"), 0), "threads", "n", NULL),
			       0), 4);
	cr_expect_eq(jnode__type(jnode__get(r, "threads")), JNULL);
}

Test(json_reader, nested_keys_named_like_skipped_ones_are_kept)
{
	expect_read("{\"stats\":{\"active_allocations\":3,\"threads\":[1,2]},"
		    "\"list\":[{\"threads\":{\"n\":4}}],\"threads\":[5]}",
		    check_nested);
}

static void check_escaped(const struct jnode *r, const char *text)
{
	cr_expect_str_eq(jnode__str(jnode__get(r, "s"), ""), "x\",\"threads\":[9]");
	cr_expect_eq(jnode__len(jnode__get(r, "threads\"")), 1);
	cr_expect_str_eq(jnode__str(jnode__get(r, "t"), ""), "\\");
	cr_expect_eq(jnode__type(jnode__get(r, "threads")), JNULL);
	cr_expect_eq(jnode__len(r), 4);
}

Test(json_reader, escaped_quotes_do_not_end_strings)
{
	/* "\"threads\":[" inside a string value, and "threads\"" as a key: neither
	 * is the key threads; only the last member is skipped */
	expect_read("{\"s\":\"x\\\",\\\"threads\\\":[9]\",\"threads\\\"\":[7],"
		    "\"t\":\"\\\\\",\"threads\":[\"\\\\\\\"\",\"]}\"]}",
		    check_escaped);
}

Test(json_reader, errors_have_the_file_offsets)
{
	/* after an elided container: the offset in the file, not in the text kept */
	expect_error("{\"threads\":[1,2,3,4,5,6,7,8],\"a\":tru}", "unexpected character at byte 33");
	expect_error("{\"threads\":[],\"stacks\":{\"a\":[1,2]},\"a\" 1}", "expected ':' at byte 39");
	/* in an elided container */
	expect_error("{\"a\":1,\"threads\":[1,2}", "mismatched bracket at byte 22");
	expect_error("{\"threads\":[1,\x02]}", "control character at byte 15");
	/* the first error wins, before or in the container */
	expect_error("{\"a\":\"\x01\",\"threads\":[}", "control character in string at byte 6");
	expect_error("{\"threads\":[}],\"a\":\"\x01\"}", "mismatched bracket at byte 13");
	expect_error("{\"threads\":[1]}]", "trailing data after the document at byte 15");
}

Test(json_reader, truncated_text_is_an_error)
{
	const char *text = "{\"format_version\":1,\"threads\":[{\"tid\":1,\"name\":\"a\\\"b\"}],"
			   "\"stats\":{\"threads\":2},\"active_allocations\":[{\"ptr\":\"0x1\"},[]],"
			   "\"t\":[1.5,true,null,\"\\u00e9\"]}";
	char err[256];
	size_t len = strlen(text), cut, c;

	expect_same(text, len);
	for (cut = 0; cut < len; cut++) {
		char *part = strndup(text, cut);

		cr_assert_not_null(part);
		expect_same(part, cut);
		for (c = 1; c <= 4; c++) {
			cr_expect_eq(stream(part, c, err, sizeof(err)), -EINVAL,
				     "the first %zu bytes were read", cut);
			cr_expect(strstr(err, " at byte "), "%zu bytes: %s", cut, err);
		}
		free(part);
	}
}

/* ---- random documents, and random damage to them ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

struct buf {
	char s[65536];
	size_t len;
};

static void put(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n < sizeof(b->s)) {
		memcpy(b->s + b->len, s, n);
		b->len += n;
	}
}

static void ws(struct buf *b)
{
	static const char *const spaces[] = { "", "", "", " ", "\n", "\t ", "\r\n  " };

	put(b, spaces[rnd(7)]);
}

static void string(struct buf *b, bool key)
{
	static const char *const keys[] = { "threads", "active_allocations", "stacks", "stats",
					    "a", "", "thread", "threads\\\"", "thr\\u0065ads",
					    "\\\\", "active_allocationsX" };
	static const char *const parts[] = { "x", "\\\"", "\\\\", "\\n", "\\u00e9", "\\ud83d\\ude00",
					     "\xc3\xa9", "}", "]", "{", "[", ",", ":", "threads",
					     "\\/", " " };
	int i, n;

	put(b, "\"");
	if (key && rnd(3)) {
		put(b, keys[rnd(sizeof(keys) / sizeof(keys[0]))]);
	} else {
		for (i = 0, n = (int)rnd(5); i < n; i++)
			put(b, parts[rnd(sizeof(parts) / sizeof(parts[0]))]);
	}
	put(b, "\"");
}

static void value(struct buf *b, int depth)
{
	static const char *const scalars[] = { "0", "-1", "3.25", "1e3", "18446744073709551615",
					       "-9223372036854775808", "true", "false", "null" };
	unsigned kind = rnd(depth > 4 ? 3 : 5), n, i;

	ws(b);
	switch (kind) {
	case 0:
	case 1:
		put(b, scalars[rnd(sizeof(scalars) / sizeof(scalars[0]))]);
		break;
	case 2:
		string(b, false);
		break;
	default:
		put(b, kind == 3 ? "[" : "{");
		for (i = 0, n = rnd(5); i < n; i++) {
			if (i)
				put(b, ",");
			if (kind == 4) {
				ws(b);
				string(b, true);
				ws(b);
				put(b, ":");
			}
			value(b, depth + 1);
		}
		ws(b);
		put(b, kind == 3 ? "]" : "}");
	}
	ws(b);
}

static void document(struct buf *b)
{
	unsigned n = rnd(6), i;

	b->len = 0;
	ws(b);
	put(b, "{");
	for (i = 0; i < n; i++) {
		if (i)
			put(b, ",");
		ws(b);
		string(b, true);
		ws(b);
		put(b, ":");
		value(b, 1);
	}
	put(b, "}");
	ws(b);
}

/* One change that makes most documents invalid, somewhere. */
static void damage(struct buf *b)
{
	static const char bytes[] = "\"\\{}[],: \x01\x00xa0";
	size_t at = rnd((unsigned)b->len + 1);

	switch (rnd(3)) {
	case 0: /* cut */
		b->len = at;
		break;
	case 1: /* one byte changed */
		if (at < b->len)
			b->s[at] = bytes[rnd(sizeof(bytes) - 1)];
		break;
	default: /* one byte inserted */
		if (b->len + 1 < sizeof(b->s)) {
			memmove(b->s + at + 1, b->s + at, b->len - at);
			b->s[at] = bytes[rnd(sizeof(bytes) - 1)];
			b->len++;
		}
	}
}

Test(json_reader, stream_equals_parse_random, .timeout = 120)
{
	static const size_t chunks[] = { 1, 2, 3, 5, 7, 16, 0 };
	size_t i, c, valid = 0;
	char why[700], err[256];
	struct buf b;

	for (i = 0; i < 4000; i++) {
		struct json_doc *d;

		document(&b);
		if (i % 2)
			damage(&b);
		for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
			cr_assert_null(json_stream_differs(b.s, b.len, chunks[c], skip, each, why, sizeof(why)),
				       "document %zu: %s in <%.*s>", i, why, (int)b.len, b.s);
		d = json_doc__parse(b.s, b.len, skip, err, sizeof(err));
		valid += d != NULL;
		json_doc__free(d);
	}
	/* the generator does make both kinds */
	cr_expect(valid > 2000 && valid < 3900, "%zu of 4000 documents valid", valid);
}

/* ---- big streams: the skipped container is never in memory ---- */

/* A stream of prefix, then fill bytes of c, then suffix, made as it is read. */
struct gen {
	const char *prefix, *suffix;
	uint64_t fill, pos;
	char c;
};

static ssize_t gen_read(void *cookie, char *out, size_t n)
{
	struct gen *g = cookie;
	uint64_t pl = strlen(g->prefix), sl = strlen(g->suffix);
	size_t i = 0;

	while (i < n && g->pos < pl + g->fill + sl) {
		if (g->pos < pl) {
			out[i++] = g->prefix[g->pos++];
		} else if (g->pos < pl + g->fill) {
			uint64_t k = pl + g->fill - g->pos;

			k = k < n - i ? k : n - i;
			memset(out + i, g->c, (size_t)k);
			i += (size_t)k;
			g->pos += k;
		} else {
			out[i++] = g->suffix[g->pos++ - pl - g->fill];
		}
	}
	return (ssize_t)i;
}

static long peak_rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int read_gen(struct gen *g, struct seen *seen, char *err, size_t errlen)
{
	cookie_io_functions_t io = { .read = gen_read };
	FILE *in = fopencookie(g, "r", io);
	int rc;

	cr_assert_not_null(in);
	memset(seen, 0, sizeof(*seen));
	rc = json_stream__read(in, 0, spec, on_member, seen, err, errlen);
	fclose(in);
	return rc;
}

Test(json_reader, skipped_container_is_not_held, .timeout = 60)
{
	/* 256 MiB of a skipped array's strings: the peak RSS barely moves */
	struct gen g = { "{\"format_version\":1,\"active_allocations\":[\"", "\"],\"b\":[true]}",
			 256ULL << 20, 0, 'x' };
	char err[256];
	long before = peak_rss_kb(), after;
	struct seen seen;
	int rc = read_gen(&g, &seen, err, sizeof(err));

	after = peak_rss_kb();
	cr_assert_eq(rc, 0, "%s", err);
	/* format_version and b, not the skipped array */
	cr_expect_eq(seen.cnt, 2);
	cr_expect_str_eq(seen.last_key, "b");
	cr_expect_eq(seen.last_type, JARR);
	cr_expect_eq(seen.last_bool, true);
	cr_expect_lt(after - before, 16 * 1024, "peak RSS grew by %ld kB", after - before);

	/* the same, cut short: the error is at the end of the stream */
	g = (struct gen){ "{\"threads\":[[\"", "", 1 << 20, 0, 'y' };
	cr_expect_eq(read_gen(&g, &seen, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "unterminated container at byte 1048590");

	/* data after the document: reading stops there */
	g = (struct gen){ "{\"threads\":[]} \n", "", 256ULL << 20, 0, 'w' };
	cr_expect_eq(read_gen(&g, &seen, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "trailing data after the document at byte 16");
	cr_expect_lt(g.pos, 1 << 20, "read %llu bytes", (unsigned long long)g.pos);
}

/* Over 1 GiB (a 12M-live run's report): read to its end, in the same memory. */
Test(json_reader, stream_over_1_gib_is_read, .timeout = 120)
{
	struct gen g = { "{\"threads\":[\"", "\"],\"b\":[true]}", (3ULL << 30) / 2, 0, 'z' };
	char err[256];
	long before = peak_rss_kb(), after;
	struct seen seen;

	cr_assert_eq(read_gen(&g, &seen, err, sizeof(err)), 0, "%s", err);
	after = peak_rss_kb();
	cr_expect_eq(seen.cnt, 1);
	cr_expect_eq(seen.last_bool, true);
	cr_expect_lt(after - before, 16 * 1024, "peak RSS grew by %ld kB", after - before);
}

/* A stream of a million elements, each handed over and let go. */
static ssize_t elems_read(void *cookie, char *out, size_t n)
{
	struct gen *g = cookie;
	static const char elem[] = "{\"id\":1,\"frames\":[{\"symbol\":\"main\"}]},";
	uint64_t total = g->fill * (sizeof(elem) - 1);
	size_t i = 0;

	while (i < n) {
		uint64_t pl = strlen(g->prefix), sl = strlen(g->suffix);

		if (g->pos < pl)
			out[i++] = g->prefix[g->pos++];
		else if (g->pos < pl + total)
			out[i++] = elem[(g->pos++ - pl) % (sizeof(elem) - 1)];
		else if (g->pos < pl + total + sl)
			out[i++] = g->suffix[g->pos++ - pl - total];
		else
			break;
	}
	return (ssize_t)i;
}

Test(json_reader, elements_are_not_held, .timeout = 120)
{
	struct gen g = { "{\"stacks\":[", "{}],\"b\":[true]}", 1000000, 0, 0 };
	cookie_io_functions_t io = { .read = elems_read };
	long before = peak_rss_kb(), after;
	struct seen seen = { 0 };
	char err[256];
	FILE *in = fopencookie(&g, "r", io);
	int rc;

	cr_assert_not_null(in);
	rc = json_stream__read(in, 0, spec, on_member, &seen, err, sizeof(err));
	fclose(in);
	after = peak_rss_kb();
	cr_assert_eq(rc, 0, "%s", err);
	/* a million and one elements (indexes 1 on), then b */
	cr_expect_eq(seen.cnt, 1000002);
	cr_expect_eq(seen.elems, 1000000);
	cr_expect_lt(after - before, 16 * 1024, "peak RSS grew by %ld kB", after - before);
}

/* One piece over its bounds: an error at the piece's first byte. */
Test(json_reader, pieces_are_bounded, .timeout = 60)
{
	struct gen g = { "{\"a\":1,\"big\":\"", "\"}", JSON_PIECE_MAX_BYTES, 0, 'q' };
	struct seen seen;
	char err[256], *text;
	size_t i, n = JSON_PIECE_MAX_VALUES + 1;

	cr_expect_eq(read_gen(&g, &seen, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "value larger than the reader's bound of 4 MiB at byte 13");
	/* an error in what was read comes first */
	g = (struct gen){ "{\"a\":1,\"big\":[1 2,\"", "\"]}", JSON_PIECE_MAX_BYTES, 0, 'q' };
	cr_expect_eq(read_gen(&g, &seen, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "expected ',' or ']' at byte 16");
	/* too many values in one element */
	text = malloc(2 * n + 32);
	cr_assert_not_null(text);
	strcpy(text, "{\"stacks\":[[");
	for (i = 0; i < n; i++)
		strcat(text + strlen(text) - (i ? 2 : 0), i ? ",0" : "0");
	strcat(text, "]]}");
	cr_expect_eq(stream(text, 0, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "too many values in one member at byte "), "%s", err);
	free(text);
	/* a root key */
	g = (struct gen){ "{\"", "\":1}", 5000, 0, 'k' };
	cr_expect_eq(read_gen(&g, &seen, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "root key longer than 4 KiB at byte 1");
}

Test(json_reader, not_an_object)
{
	char err[256];

	cr_expect_eq(stream("[1, 2]", 0, err, sizeof(err)), -EDOM);
	cr_expect_str_eq(err, "the document is not an object");
	cr_expect_eq(stream(" 42 ", 1, err, sizeof(err)), -EDOM);
	cr_expect_eq(stream("hello", 1, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "unexpected character at byte 0");
}

/* The first member of a key listed counts, as jnode__get finds it. */
Test(json_reader, a_listed_key_counts_once)
{
	char err[256];
	struct seen seen = { 0 };
	const char *text = "{\"stacks\":[1,2],\"stacks\":[3],\"x\":[true],\"x\":[false]}";
	FILE *in = fmemopen((void *)text, strlen(text), "r");

	cr_assert_eq(json_stream__read(in, 0, spec, on_member, &seen, err, sizeof(err)), 0, "%s", err);
	fclose(in);
	/* 1, 2, and both x (not listed: every one) */
	cr_expect_eq(seen.cnt, 4);
	cr_expect_eq(seen.elems, 1);
	cr_expect_eq(seen.last_bool, false);
}

static int stop_at_two(void *ctx, const char *key, size_t index, const struct jnode *v)
{
	(void)key;
	(void)v;
	(void)ctx;
	return index == 2 ? -ECANCELED : 0;
}

Test(json_reader, the_caller_stops_it)
{
	char err[256];
	const char *text = "{\"stacks\":[1,2,3,4]}";
	FILE *in = fmemopen((void *)text, strlen(text), "r");

	cr_expect_eq(json_stream__read(in, 0, spec, stop_at_two, NULL, err, sizeof(err)), -ECANCELED);
	fclose(in);
	cr_expect_str_eq(err, strerror(ECANCELED));
}

Test(json_reader, load_reads_a_file)
{
	char path[] = "/tmp/ttbpf-json-reader-XXXXXX", err[256];
	const char *text = "{\"threads\":[1,2],\"stats\":{\"threads\":3}}";
	struct seen seen = { 0 };
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cr_assert_eq(json_stream__load(path, spec, on_member, &seen, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(seen.cnt, 1);
	cr_expect_str_eq(seen.last_key, "stats");
	cr_expect_eq(seen.last_type, JOBJ);
	unlink(path);

	cr_expect_eq(json_stream__load(path, spec, on_member, &seen, err, sizeof(err)), -ENOENT);
	cr_expect_str_eq(err, strerror(ENOENT));
	cr_expect_eq(json_stream__load("/tmp", spec, on_member, &seen, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "not a regular file");
}
