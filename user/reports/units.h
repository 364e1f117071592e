/* SPDX-License-Identifier: Apache-2.0 */
/* Human-readable numbers for every report: "1.2 KB", "5.4 MB", "25.0K". */
#ifndef TT_UNITS_H
#define TT_UNITS_H

#include <stddef.h>
#include <stdint.h>

#define UNITS_BUF 32

/* Binary units (1 KB = 1024 B): "512 B", "1.2 KB", "5.4 MB". Returns buf. */
const char *units__bytes(char *buf, size_t len, uint64_t bytes);
/* Counts: "999", "25.0K", "1.5M", "2.0G". Returns buf. */
const char *units__count(char *buf, size_t len, uint64_t cnt);
/* Durations: "850 ns", "12.3 us", "4.56 ms", "1.23 s", "2m03s", "3h07m", "2d04h". */
const char *units__duration(char *buf, size_t len, uint64_t ns);
/* The word for n things: one when n is 1, else many ("1 block", "0 blocks",
 * "2 blocks"). Returns one of its arguments. */
const char *units__plural(uint64_t n, const char *one, const char *many);

#endif /* TT_UNITS_H */
