/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CHECK(cond, fmt, ...): an invariant of a harness beyond memory safety.
 * When it does not hold, "FUZZ_NAME: message" goes to stderr (what
 * scripts/fuzz.sh quotes for a failing input) and the harness aborts, which
 * libFuzzer keeps as a crash. Define FUZZ_NAME before including this.
 */
#ifndef TT_FUZZ_CHECK_H
#define TT_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond, ...)                                            \
	do {                                                        \
		if (!(cond)) {                                      \
			fprintf(stderr, FUZZ_NAME ": " __VA_ARGS__); \
			fputc('\n', stderr);                        \
			abort();                                    \
		}                                                   \
	} while (0)

#endif /* TT_FUZZ_CHECK_H */
