/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small JSON reader for `ttbpf report FILE.json`: parses a document into a
 * tree, except the values of the keys it is told to skip (the report's
 * per-allocation arrays, which a dashboard does not need), so a report of a
 * million allocations is read without building a million nodes. A file is
 * read in chunks, and a skipped container is checked as it streams by, never
 * held in memory. The input is a file the user hands us: depth, sizes and
 * escapes are all checked.
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

/*
 * Parses text[0..len). skip_keys: NULL-terminated list of keys of the root
 * object whose values are checked for syntax but not kept (they read as null). On error
 * returns NULL and writes a message with the byte offset into err.
 */
struct json_doc *json_doc__parse(const char *text, size_t len, const char *const *skip_keys,
				 char *err, size_t errlen);
/*
 * Reads and parses a regular file (at most 1 GiB), with json_doc__read: what
 * json_doc__parse gives for the file's text, but the containers of skipped
 * root keys are never in memory.
 */
struct json_doc *json_doc__load(const char *path, const char *const *skip_keys, char *err,
				size_t errlen);
/*
 * Reads in to its end, chunk bytes at a time (0: 64 KiB; small ones are for
 * tests), keeping only the text not skipped, then parses that. The same
 * document, or the same error message (offsets are the stream's), as
 * json_doc__parse on the whole text; "out of memory" aside.
 */
struct json_doc *json_doc__read(FILE *in, size_t chunk, const char *const *skip_keys, char *err,
				size_t errlen);
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
