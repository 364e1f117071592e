// SPDX-License-Identifier: Apache-2.0
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "units.h"

static const char *bytes(uint64_t v)
{
	static char buf[UNITS_BUF];

	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(units__bytes(buf, sizeof(buf), v), buf);
	return buf;
}

static const char *count(uint64_t v)
{
	static char buf[UNITS_BUF];

	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(units__count(buf, sizeof(buf), v), buf);
	return buf;
}

static const char *duration(uint64_t v)
{
	static char buf[UNITS_BUF];

	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(units__duration(buf, sizeof(buf), v), buf);
	return buf;
}

#define EXPECT(fn, v, want)                                                              \
	do {                                                                             \
		const char *got_ = fn(v);                                                \
		cr_assert_str_eq(got_, want, #fn "(%llu) = \"%s\", want \"%s\"",          \
				 (unsigned long long)(v), got_, want);                   \
	} while (0)

Test(units, bytes_plain)
{
	EXPECT(bytes, 0, "0 B");
	EXPECT(bytes, 1, "1 B");
	EXPECT(bytes, 512, "512 B");
	EXPECT(bytes, 1023, "1023 B");
}

Test(units, bytes_scaled)
{
	EXPECT(bytes, 1024, "1.0 KB");
	EXPECT(bytes, 1229, "1.2 KB");
	EXPECT(bytes, 1536, "1.5 KB");
	EXPECT(bytes, 10 * 1024, "10.0 KB");
	EXPECT(bytes, 5662310, "5.4 MB");
	EXPECT(bytes, 1ULL << 20, "1.0 MB");
	EXPECT(bytes, 1ULL << 30, "1.0 GB");
	EXPECT(bytes, 3ULL << 39, "1.5 TB");
	EXPECT(bytes, 1ULL << 50, "1.0 PB");
	EXPECT(bytes, 1ULL << 60, "1.0 EB");
	EXPECT(bytes, UINT64_MAX, "16.0 EB");
}

Test(units, bytes_unit_edges)
{
	/* the top of KB moves up to MB rather than printing "1024.0 KB" */
	EXPECT(bytes, 1048524, "1023.9 KB");
	EXPECT(bytes, 1048525, "1.0 MB");
	EXPECT(bytes, 1048575, "1.0 MB");
	EXPECT(bytes, (1ULL << 30) - 1, "1.0 GB");
	EXPECT(bytes, (1ULL << 40) - 1, "1.0 TB");
	EXPECT(bytes, (1ULL << 50) - 1, "1.0 PB");
	EXPECT(bytes, (1ULL << 60) - 1, "1.0 EB");
}

/* Printed figure within rounding of the value, never 1024.0 of a unit. */
static void check_bytes_shape(uint64_t v)
{
	static const char *const unit[] = { "KB", "MB", "GB", "TB", "PB", "EB" };
	const char *s = bytes(v);
	char u[8];
	double x, scale = 1024;
	int i;

	if (v < 1024) {
		char want[32];

		snprintf(want, sizeof(want), "%llu B", (unsigned long long)v);
		cr_assert_str_eq(s, want);
		return;
	}
	cr_assert_eq(sscanf(s, "%lf %7s", &x, u), 2, "\"%s\"", s);
	cr_assert_lt(x, 1024.0, "%llu printed as \"%s\"", (unsigned long long)v, s);
	cr_assert_geq(x, 0.95, "%llu printed as \"%s\"", (unsigned long long)v, s);
	cr_assert_null(strstr(s, "1024.0"), "%llu printed as \"%s\"", (unsigned long long)v, s);
	for (i = 0; i < 6; i++, scale *= 1024)
		if (!strcmp(u, unit[i]))
			break;
	cr_assert_lt(i, 6, "unit of \"%s\"", s);
	/* one decimal: within 0.05 of the unit, plus a hair for doubles */
	cr_assert_leq(((double)v / scale - x) * ((double)v / scale - x), 0.0501 * 0.0501,
		      "%llu printed as \"%s\"", (unsigned long long)v, s);
}

Test(units, bytes_never_1024_of_a_unit)
{
	uint64_t base, d, v = 1;
	int i;

	for (i = 1; i <= 6; i++) {
		base = 1ULL << (10 * i);
		for (d = 0; d < 2000; d++) {
			check_bytes_shape(base - d);
			check_bytes_shape(base + d);
		}
		/* around x.95 of the unit below, where rounding crosses over */
		for (d = 0; d < 200; d++)
			check_bytes_shape((uint64_t)(1023.95 * (double)(base >> 10)) - 100 + d);
	}
	for (i = 0; i < 200000; i++) {
		v = v * 6364136223846793005ULL + 1442695040888963407ULL;
		check_bytes_shape(v >> (i % 64));
	}
}

Test(units, count)
{
	EXPECT(count, 0, "0");
	EXPECT(count, 999, "999");
	EXPECT(count, 1000, "1.0K");
	EXPECT(count, 1049, "1.0K");
	EXPECT(count, 25000, "25.0K");
	EXPECT(count, 999949, "999.9K");
	EXPECT(count, 999950, "1.0M");
	EXPECT(count, 999999, "1.0M");
	EXPECT(count, 1000000, "1.0M");
	EXPECT(count, 1500000, "1.5M");
	EXPECT(count, 999999999, "1.0G");
	EXPECT(count, 2000000000, "2.0G");
	EXPECT(count, 1000000000000ULL, "1.0T");
	EXPECT(count, UINT64_MAX, "18.4E");
}

Test(units, count_never_1000_of_a_unit)
{
	uint64_t v = 7, p = 1000;
	char *end;
	double x;
	int i, d;

	for (i = 1; i <= 6; i++, p *= 1000)
		for (d = -3000; d < 3000; d++) {
			const char *s = count(p + (uint64_t)(int64_t)d);

			cr_assert_null(strstr(s, "1000.0"), "\"%s\"", s);
		}
	for (i = 0; i < 200000; i++) {
		const char *s;

		v = v * 6364136223846793005ULL + 1442695040888963407ULL;
		s = count(v >> (i % 64));
		x = strtod(s, &end);
		cr_assert_lt(x, 1000.0, "\"%s\"", s);
		cr_assert(!*end || (strchr("KMGTPE", *end) && !end[1]), "\"%s\"", s);
	}
}

Test(units, duration)
{
	EXPECT(duration, 0, "0 ns");
	EXPECT(duration, 850, "850 ns");
	EXPECT(duration, 999, "999 ns");
	EXPECT(duration, 1000, "1.0 us");
	EXPECT(duration, 12300, "12.3 us");
	EXPECT(duration, 999949, "999.9 us");
	EXPECT(duration, 1000000, "1.00 ms");
	EXPECT(duration, 4560000, "4.56 ms");
	EXPECT(duration, 999994999, "999.99 ms");
	EXPECT(duration, 1000000000, "1.00 s");
	EXPECT(duration, 1230000000, "1.23 s");
	EXPECT(duration, 59000000000ULL, "59.00 s");
	EXPECT(duration, 60000000000ULL, "1m00s");
	EXPECT(duration, 123000000000ULL, "2m03s");
	EXPECT(duration, 3599000000000ULL, "59m59s");
	EXPECT(duration, 3600000000000ULL, "1h00m");
	EXPECT(duration, 86399000000000ULL, "23h59m");
	EXPECT(duration, 86400000000000ULL, "1d00h");
	/* no wrap-around near the top: 584 years */
	EXPECT(duration, UINT64_MAX, "213503d23h");
}

/*
 * Same rounding edge as "1024.0 KB", in units__duration: 999950 ns prints
 * "1000.0 us", 999995000 ns "1000.00 ms", 59999999999 ns "60.00 s".
 */
Test(units, duration_unit_edges)
{
	cr_expect_null(strstr(duration(999950), "1000.0"), "\"%s\"", duration(999950));
	cr_expect_null(strstr(duration(999999), "1000.0"), "\"%s\"", duration(999999));
	cr_expect_null(strstr(duration(999995000), "1000.00"), "\"%s\"", duration(999995000));
	cr_expect_null(strstr(duration(59999999999ULL), "60.00 s"), "\"%s\"",
		       duration(59999999999ULL));
}

Test(units, small_buffer_truncates)
{
	char buf[4];

	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(units__bytes(buf, sizeof(buf), 5662310), buf);
	cr_assert_str_eq(buf, "5.4");
	cr_assert_eq(units__count(buf, sizeof(buf), 25000), buf);
	cr_assert_str_eq(buf, "25.");
	cr_assert_eq(units__duration(buf, sizeof(buf), 123000000000ULL), buf);
	cr_assert_str_eq(buf, "2m0");
}

Test(units, plural)
{
	const char *one = "block", *many = "blocks";

	cr_expect_eq(units__plural(1, one, many), one);
	cr_expect_eq(units__plural(0, one, many), many);
	cr_expect_eq(units__plural(2, one, many), many);
	cr_expect_eq(units__plural(11, one, many), many);
	cr_expect_eq(units__plural(UINT64_MAX, one, many), many);
	/* 2^32 + 1: the whole count decides, not its low bits */
	cr_expect_eq(units__plural((1ULL << 32) + 1, one, many), many);
}
