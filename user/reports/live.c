// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "live.h"
#include "units.h"

static uint64_t per_second(uint64_t from, uint64_t to, uint64_t dt_ns)
{
	if (to <= from || !dt_ns)
		return 0;
	return (uint64_t)((double)(to - from) * 1e9 / (double)dt_ns + 0.5);
}

size_t live__format(char *buf, size_t cap, const struct live_sample *prev,
		    const struct live_sample *now, uint64_t start_ns, unsigned width)
{
	char el[UNITS_BUF], a[UNITS_BUF], f[UNITS_BUF], lc[UNITS_BUF], lb[UNITS_BUF],
		pk[UNITS_BUF], procs[32] = "", rss[UNITS_BUF + 8] = "";
	struct live_sample zero = { .ns = start_ns };
	uint64_t dt;
	int n;

	if (!cap)
		return 0;
	if (!prev)
		prev = &zero;
	dt = now->ns > prev->ns ? now->ns - prev->ns : 0;
	units__duration(el, sizeof(el), now->ns > start_ns ? now->ns - start_ns : 0);
	if (now->procs > 1)
		snprintf(procs, sizeof(procs), ", %u procs", now->procs);
	/* the most telling first: a narrow terminal cuts the end */
	if (now->aggregate) {
		n = snprintf(buf, cap, "%s%s | --aggregate: figures at the end | lost %llu", el, procs,
			     (unsigned long long)now->lost);
	} else {
		units__count(a, sizeof(a), per_second(prev->allocs, now->allocs, dt));
		units__count(f, sizeof(f), per_second(prev->frees, now->frees, dt));
		units__count(lc, sizeof(lc), now->live_cnt);
		units__bytes(lb, sizeof(lb), now->live_bytes);
		units__bytes(pk, sizeof(pk), now->peak_bytes);
		if (now->rss_bytes) {
			memcpy(rss, " | RSS ", 8);
			units__bytes(rss + 7, sizeof(rss) - 7, now->rss_bytes);
		}
		n = snprintf(buf, cap, "%s%s | live %s, %s blocks | %s %s%s | %s allocs/s %s frees/s | "
				       "lost %llu", el, procs, lb, lc,
			     now->procs > 1 ? "peaks" : "peak", pk, rss, a, f,
			     (unsigned long long)now->lost);
	}
	if (n < 0) {
		buf[0] = '\0';
		return 0;
	}
	if ((size_t)n >= cap)
		n = (int)cap - 1;
	if (width < 20)
		width = 20;
	/* the last column left empty: a line that fills it wraps on some terminals */
	if ((unsigned)n > width - 1) {
		n = (int)width - 1;
		buf[n] = '\0';
	}
	return (size_t)n;
}

unsigned live__width(int fd)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) || !ws.ws_col)
		return 80;
	return ws.ws_col;
}

static void write_all(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* a terminal gone: nothing to tell anyone */
		s += n;
		len -= (size_t)n;
	}
}

void live__show(int fd, const char *line, size_t len)
{
	char buf[LIVE_LINE_MAX + 8];

	if (len > LIVE_LINE_MAX)
		len = LIVE_LINE_MAX;
	buf[0] = '\r';
	memcpy(buf + 1, line, len);
	memcpy(buf + 1 + len, "\033[K", 3);
	write_all(fd, buf, len + 4);
}

void live__clear(int fd)
{
	write_all(fd, "\r\033[K", 4);
}
