// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include "units.h"

const char *units__bytes(char *buf, size_t len, uint64_t bytes)
{
	static const char *const unit[] = { "B", "KB", "MB", "GB", "TB", "PB", "EB" };
	double v = (double)bytes;
	int i = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
		return buf;
	}
	while (v >= 1024 && i < 6) {
		v /= 1024;
		i++;
	}
	/* 1023.96 KB would print as "1024.0 KB": move up a unit instead */
	if (v >= 1023.95 && i < 6) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, "%.1f %s", v, unit[i]);
	return buf;
}

const char *units__count(char *buf, size_t len, uint64_t cnt)
{
	static const char *const unit[] = { "", "K", "M", "G", "T", "P", "E" };
	double v = (double)cnt;
	int i = 0;

	if (cnt < 1000) {
		snprintf(buf, len, "%llu", (unsigned long long)cnt);
		return buf;
	}
	while (v >= 1000 && i < 6) {
		v /= 1000;
		i++;
	}
	if (v >= 999.95 && i < 6) {
		v /= 1000;
		i++;
	}
	snprintf(buf, len, "%.1f%s", v, unit[i]);
	return buf;
}

const char *units__duration(char *buf, size_t len, uint64_t ns)
{
	/* switch units where the rounded value would print as "1000.0 us" */
	if (ns < 1000)
		snprintf(buf, len, "%llu ns", (unsigned long long)ns);
	else if (ns < 999950)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 999995000)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else if (ns < 59995000000ULL)
		snprintf(buf, len, "%.2f s", ns / 1e9);
	else {
		/* rounded to the second without overflowing near UINT64_MAX */
		uint64_t s = ns / 1000000000ULL + (ns % 1000000000ULL >= 500000000ULL);

		if (s < 3600)
			snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60),
				 (unsigned long long)(s % 60));
		else if (s < 86400)
			snprintf(buf, len, "%lluh%02llum", (unsigned long long)(s / 3600),
				 (unsigned long long)(s / 60 % 60));
		else
			snprintf(buf, len, "%llud%02lluh", (unsigned long long)(s / 86400),
				 (unsigned long long)(s / 3600 % 24));
	}
	return buf;
}

const char *units__plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}
