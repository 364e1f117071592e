/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For the tests of user/reports/json_reader.c (tests/unit/reports/test_json_reader.c and the
 * json_reader fuzz harness): whether two trees are the same, and whether
 * reading a text as a stream (json_doc__read, in chunks) gives what parsing it
 * whole (json_doc__parse) gives.
 */
#ifndef TT_JSON_SAME_H
#define TT_JSON_SAME_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "json_reader.h"

/* Types, values (integers exactly, doubles bit for bit), keys and order. */
static bool json_same(const struct jnode *a, const struct jnode *b)
{
	const char *ka = jnode__key(a), *kb = jnode__key(b);
	double x, y;
	size_t i;

	if (jnode__type(a) != jnode__type(b) || !ka != !kb || (ka && strcmp(ka, kb)))
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

/*
 * text[0..len) read through an in-memory FILE in chunks of chunk bytes,
 * against json_doc__parse: NULL if they agree (the same tree, or the same
 * error message), else what differs, in why.
 */
static const char *json_stream_differs(const char *text, size_t len, size_t chunk,
				       const char *const *skip, char *why, size_t whylen)
{
	static char empty[1];
	char perr[256] = "", serr[256] = "";
	struct json_doc *pd, *sd;
	const char *res = NULL;
	FILE *in;

	in = fmemopen(len ? (void *)text : empty, len, "r");
	if (!in) {
		snprintf(why, whylen, "fmemopen failed");
		return why;
	}
	pd = json_doc__parse(text, len, skip, perr, sizeof(perr));
	sd = json_doc__read(in, chunk, skip, serr, sizeof(serr));
	fclose(in);
	if (strstr(perr, "out of memory") || strstr(serr, "out of memory"))
		res = NULL;
	else if (!pd != !sd)
		res = why, snprintf(why, whylen, "chunk %zu: parse %s, stream %s", chunk,
				    pd ? "reads it" : perr, sd ? "reads it" : serr);
	else if (!pd && strcmp(perr, serr))
		res = why, snprintf(why, whylen, "chunk %zu: parse says \"%s\", stream \"%s\"", chunk,
				    perr, serr);
	else if (pd && !json_same(json_doc__root(pd), json_doc__root(sd)))
		res = why, snprintf(why, whylen, "chunk %zu: the trees differ", chunk);
	json_doc__free(pd);
	json_doc__free(sd);
	return res;
}

#endif /* TT_JSON_SAME_H */
