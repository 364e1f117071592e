/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For the tests of user/reports/json_reader.c (tests/unit/reports/test_json_reader.c and the
 * json_reader fuzz harness): whether two trees are the same, and whether
 * reading a text as a stream (json_stream__read, in chunks) gives what parsing
 * it whole (json_doc__parse) gives.
 */
#ifndef TT_JSON_SAME_H
#define TT_JSON_SAME_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "json_reader.h"

static bool json_same(const struct jnode *a, const struct jnode *b);

/* Types, values (integers exactly, doubles bit for bit), keys and order,
 * but the key of a and b themselves. */
static bool json_same_value(const struct jnode *a, const struct jnode *b)
{
	double x, y;
	size_t i;

	if (jnode__type(a) != jnode__type(b))
		return false;
	switch (jnode__type(a)) {
	case JNULL:
		return true;
	case JBOOL:
		return jnode__bool(a, false) == jnode__bool(b, false);
	case JNUM:
		x = jnode__num(a, 0);
		y = jnode__num(b, 0);
		return !memcmp(&x, &y, sizeof(x)) && jnode__u64(a, 1) == jnode__u64(b, 1) &&
		       jnode__u64(a, 2) == jnode__u64(b, 2) && jnode__i64(a, 1) == jnode__i64(b, 1) &&
		       jnode__i64(a, 2) == jnode__i64(b, 2);
	case JSTR:
		return !strcmp(jnode__str(a, ""), jnode__str(b, ""));
	case JARR:
	case JOBJ:
		if (jnode__len(a) != jnode__len(b))
			return false;
		for (i = 0; i < jnode__len(a); i++)
			if (!json_same(jnode__at(a, i), jnode__at(b, i)))
				return false;
		return true;
	}
	return false;
}

/* The same, keys included. */
static bool json_same(const struct jnode *a, const struct jnode *b)
{
	const char *ka = jnode__key(a), *kb = jnode__key(b);

	return !ka == !kb && (!ka || !strcmp(ka, kb)) && json_same_value(a, b);
}

/*
 * What the stream should hand over, from the whole text's tree: every root
 * member in order, but those of the skipped keys; of the each key, its first
 * member only, element by element (nothing when it is not an array).
 */
struct stream_check {
	const struct jnode *root;
	const char *const *skip;
	const char *each;
	size_t member, elem; /* what comes next */
	bool each_seen;
	bool any; /* the text is not an object, or not JSON: no values to check */
	bool differs;
	char what[200];
};

static bool listed(const char *const *keys, const char *key)
{
	for (; keys && *keys; keys++)
		if (!strcmp(*keys, key))
			return true;
	return false;
}

/* The next value expected, and its key; NULL when none is. */
static const struct jnode *stream_check__next(struct stream_check *c, const char **key)
{
	while (c->member < jnode__len(c->root)) {
		const struct jnode *m = jnode__at(c->root, c->member);

		*key = jnode__key(m);
		if (listed(c->skip, *key) || (c->each && !strcmp(*key, c->each) && c->each_seen &&
					      !c->elem)) {
			c->member++;
			continue;
		}
		if (!c->each || strcmp(*key, c->each))
			return m;
		c->each_seen = true;
		if (jnode__type(m) == JARR && c->elem < jnode__len(m))
			return jnode__at(m, c->elem);
		c->member++;
		c->elem = 0;
	}
	return NULL;
}

static int stream_check__member(void *ctx, const char *key, size_t index, const struct jnode *v)
{
	struct stream_check *c = ctx;
	const char *want_key = NULL;
	const struct jnode *want = stream_check__next(c, &want_key);
	bool elem = c->each && !strcmp(key, c->each);

	if (c->any)
		return 0;
	if (!want || strcmp(want_key, key) || index != (elem ? c->elem : 0) || !json_same_value(want, v)) {
		snprintf(c->what, sizeof(c->what), "member \"%.40s\" [%zu] is not %s%.40s%s", key,
			 index, want ? "\"" : "", want ? want_key : "the end", want ? "\"" : "");
		c->differs = true;
		return -ECANCELED;
	}
	if (elem)
		c->elem++;
	else
		c->member++;
	return 0;
}

/*
 * text[0..len) read through an in-memory FILE in chunks of chunk bytes (the
 * keys of skip skipped, each read element by element, the others whole),
 * against json_doc__parse (skip skipped): NULL if they agree (the same
 * values, or the same error message; a root that is not an object is -EDOM),
 * else what differs, in why.
 */
static const char *json_stream_differs(const char *text, size_t len, size_t chunk,
				       const char *const *skip, const char *each, char *why,
				       size_t whylen)
{
	static char empty[1];
	struct json_member spec[16];
	struct stream_check c = { .skip = skip, .each = each };
	char perr[256] = "", serr[256] = "";
	struct json_doc *pd;
	const char *res = NULL, *key;
	size_t n = 0;
	FILE *in;
	int rc;

	for (; skip && skip[n] && n < 14; n++)
		spec[n] = (struct json_member){ skip[n], JSON_SKIP };
	if (each)
		spec[n++] = (struct json_member){ each, JSON_EACH };
	spec[n] = (struct json_member){ NULL, JSON_KEEP };
	in = fmemopen(len ? (void *)text : empty, len, "r");
	if (!in) {
		snprintf(why, whylen, "fmemopen failed");
		return why;
	}
	pd = json_doc__parse(text, len, skip, perr, sizeof(perr));
	c.root = json_doc__root(pd);
	if (pd && jnode__type(c.root) != JOBJ)
		c.root = NULL;
	c.any = !c.root;
	rc = json_stream__read(in, chunk, spec, stream_check__member, &c, serr, sizeof(serr));
	fclose(in);
	if (strstr(perr, "out of memory") || strstr(serr, "out of memory"))
		res = NULL;
	else if (c.differs)
		res = why, snprintf(why, whylen, "chunk %zu: %s", chunk, c.what);
	else if (pd && !c.root)
		res = rc == -EDOM ? NULL : why,
		snprintf(why, whylen, "chunk %zu: not an object, stream %d: %s", chunk, rc, serr);
	else if (!pd != !!rc)
		res = why, snprintf(why, whylen, "chunk %zu: parse %s, stream %s", chunk,
				    pd ? "reads it" : perr, rc ? serr : "reads it");
	else if (!pd && strcmp(perr, serr))
		res = why, snprintf(why, whylen, "chunk %zu: parse says \"%s\", stream \"%s\"", chunk,
				    perr, serr);
	else if (pd && stream_check__next(&c, &key))
		res = why, snprintf(why, whylen, "chunk %zu: the stream stopped before \"%.40s\"", chunk,
				    key);
	json_doc__free(pd);
	return res;
}

#endif /* TT_JSON_SAME_H */
