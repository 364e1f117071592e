/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streaming JSON writer: output goes straight to a FILE, memory is constant
 * whatever the document's size. One top-level value per writer. Strings may
 * come from the traced process, so every string (keys too) is escaped into
 * valid UTF-8 JSON whatever its bytes.
 *
 * Misuse (a value in an object without a key, a mismatched or missing end,
 * nesting deeper than 64, a second top-level value) is never fatal: the
 * writer stops writing and jsonw_finish() reports -EINVAL. Every call accepts
 * a NULL writer, so a failed jsonw_new() need not be checked at each call.
 */
#ifndef TT_JSON_WRITER_H
#define TT_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct json_writer;

/* NULL with errno set on failure; f stays the caller's to close. */
struct json_writer *jsonw_new(FILE *f, bool pretty);
void jsonw_free(struct json_writer *w);

void jsonw_start_object(struct json_writer *w);
void jsonw_end_object(struct json_writer *w);
void jsonw_start_array(struct json_writer *w);
void jsonw_end_array(struct json_writer *w);

/* Key of the next value; only inside an object. */
void jsonw_name(struct json_writer *w, const char *name);

void jsonw_string(struct json_writer *w, const char *s); /* NULL: null */
/* A value already written as JSON by the caller, who vouches that it is
 * (for hot loops over numbers only; never for strings from the target). */
void jsonw_raw(struct json_writer *w, const char *json);
void jsonw_string_len(struct json_writer *w, const char *s, size_t len);
void jsonw_u64(struct json_writer *w, uint64_t v);
void jsonw_i64(struct json_writer *w, int64_t v);
void jsonw_double(struct json_writer *w, double v); /* NaN, inf: null */
void jsonw_bool(struct json_writer *w, bool v);
void jsonw_null(struct json_writer *w);
void jsonw_hex(struct json_writer *w, uint64_t v); /* the string "0x1f2e" */

void jsonw_string_field(struct json_writer *w, const char *name, const char *s);
void jsonw_u64_field(struct json_writer *w, const char *name, uint64_t v);
void jsonw_i64_field(struct json_writer *w, const char *name, int64_t v);
void jsonw_double_field(struct json_writer *w, const char *name, double v);
void jsonw_bool_field(struct json_writer *w, const char *name, bool v);
void jsonw_hex_field(struct json_writer *w, const char *name, uint64_t v);
void jsonw_null_field(struct json_writer *w, const char *name);

/*
 * Flushes f. 0 once exactly one complete top-level value was written;
 * -EIO if any write to f failed (checked first: the output is lost anyway);
 * -EINVAL on misuse, unclosed containers or no value at all.
 */
/*
 * Pretty output of a long array: each item of the container just started
 * goes on one line of its own, compact inside. Off again with false.
 */
void jsonw_flat_items(struct json_writer *w, bool on);

int jsonw_finish(struct json_writer *w);

#endif /* TT_JSON_WRITER_H */
