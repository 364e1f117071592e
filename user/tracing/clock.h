/* SPDX-License-Identifier: Apache-2.0 */
/* A clock read in nanoseconds. CLOCK_MONOTONIC is the clock of the records'
 * timestamps (bpf_ktime_get_ns). */
#ifndef TT_CLOCK_H
#define TT_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#endif /* TT_CLOCK_H */
