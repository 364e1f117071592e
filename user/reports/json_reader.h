/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small JSON reader for `ttbpf report FILE.json` and the dashboard. A
 * report is read as a stream, one root member at a time: the caller says
 * which members it wants whole (JSON_KEEP), which arrays it wants element by
 * element (JSON_EACH) and which it does not want (JSON_SKIP: checked as they
 * stream by, never held). Each value or element is parsed into a small tree
 * (struct jnode) that lives for one call. So the memory taken does not grow
 * with the file: one piece of at most JSON_PIECE_MAX_BYTES of text and
 * JSON_PIECE_MAX_VALUES values at a time. The input is a file the user hands
 * us: depth, sizes, escapes and number forms are all checked.
 */
#ifndef TT_JSON_READER_H
#define TT_JSON_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum jtype { JNULL, JBOOL, JNUM, JSTR, JARR, JOBJ };

struct jnode;
struct json_doc;

/* The bounds of one piece (a root member's value, or one element). */
#define JSON_PIECE_MAX_BYTES (4u << 20)
#define JSON_PIECE_MAX_VALUES (1u << 18)

/*
 * Parses text[0..len) whole (small documents: tests, the writer's fuzzer).
 * skip_keys: NULL-terminated list of keys of the root object whose values
 * are checked for syntax but not kept (they read as null). On error returns
 * NULL and writes a message with the byte offset into err.
 */
struct json_doc *json_doc__parse(const char *text, size_t len, const char *const *skip_keys,
				 char *err, size_t errlen);

enum json_mode { JSON_SKIP = 0, JSON_KEEP, JSON_EACH };

/*
 * What to do with a root member, by key; the list ends with a NULL key whose
 * mode is that of every other key. A key listed is taken once: the first
 * member of that key (as jnode__get finds it), later ones are skipped.
 */
struct json_member {
	const char *key;
	enum json_mode mode;
};

/*
 * Called with a JSON_KEEP member's value (index 0), or each element of a
 * JSON_EACH member's array in turn (a JSON_EACH member that is not an array
 * is checked, not passed). v lives until the call returns. A non-zero
 * return stops the reading, and json_stream__read returns it.
 */
typedef int (*json_member_fn)(void *ctx, const char *key, size_t index, const struct jnode *v);

/*
 * Reads in to its end, chunk bytes at a time (0: 64 KiB; small ones are for
 * tests). Returns 0; -EINVAL for text that is not JSON, with the message
 * json_doc__parse gives for the whole text (in a skipped container, the
 * skipper's: json_doc__parse skips the same way), or "... larger than the
 * reader's bound" for a piece over the bounds; -EDOM for JSON whose root is
 * not an object; -ENOMEM, -EIO; or what fn returned. err says why.
 */
int json_stream__read(FILE *in, size_t chunk, const struct json_member *spec, json_member_fn fn,
		      void *ctx, char *err, size_t errlen);
/* json_stream__read of a regular file. */
int json_stream__load(const char *path, const struct json_member *spec, json_member_fn fn,
		      void *ctx, char *err, size_t errlen);

void json_doc__free(struct json_doc *d);
const struct jnode *json_doc__root(const struct json_doc *d);

enum jtype jnode__type(const struct jnode *n);      /* JNULL for NULL */
const struct jnode *jnode__get(const struct jnode *obj, const char *key); /* NULL if absent */
const char *jnode__key(const struct jnode *n);     /* an object member's; NULL otherwise */
size_t jnode__len(const struct jnode *n);           /* array or object members; 0 otherwise */
const struct jnode *jnode__at(const struct jnode *arr, size_t i);
/* Values with a default when absent or of another type. */
uint64_t jnode__u64(const struct jnode *n, uint64_t def); /* non-negative integers, exactly */
int64_t jnode__i64(const struct jnode *n, int64_t def);
double jnode__num(const struct jnode *n, double def);
bool jnode__bool(const struct jnode *n, bool def);
const char *jnode__str(const struct jnode *n, const char *def); /* valid UTF-8, NUL-free */
/* A member by a path of keys: jnode__path(root, "stats", "peak_memory", NULL). */
const struct jnode *jnode__path(const struct jnode *n, ...);

#endif /* TT_JSON_READER_H */
