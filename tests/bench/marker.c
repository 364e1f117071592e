// SPDX-License-Identifier: Apache-2.0
/*
 * Cost of one variable marker, untraced and traced:
 *   marker        TT_TRACK_VAR from include/tt.h (a 5-byte nop site)
 *   marker_sdt    the same probe (tt:track_var, same arguments) through
 *                 <sys/sdt.h>, whose site is a 1-byte nop
 * Prints "ns_per_marker X" for N markers in a loop (-n N).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#ifdef USE_SDT
#include <sys/sdt.h>
#endif
#include "tt.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = 1000000, i;
	char *buf = malloc(64);
	uint64_t t0, t1;
	int c;

	while ((c = getopt(argc, argv, "n:")) != -1)
		if (c == 'n')
			n = atol(optarg);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
#ifdef USE_SDT
		static const struct tt_var_site site = { "buf", "char *", 0, __FILE__, "main",
							 __LINE__, 1 };

		STAP_PROBE2(tt, track_var, buf, &site);
#else
		TT_TRACK_VAR(buf);
#endif
	}
	t1 = now_ns();
	printf("ns_per_marker %.1f\n", (double)(t1 - t0) / (double)n);
	free(buf);
	return 0;
}
