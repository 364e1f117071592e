// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "diff.h"
#include "json_reader.h"
#include "outfile.h"
#include "report_folded.h"
#include "report_json.h"
#include "symbolize.h"
#include "text_clean.h"

#define MAX_REPORT_BYTES (1ULL << 30) /* as json_stream__load's */
#define TEXT_FRAMES 6                /* frames of a stack in the text table */

enum { OLD, NEW };
enum fig { LIVE_BYTES, LIVE_BLOCKS, ALLOCS, BYTES, AT_PEAK_BYTES, FIG_CNT };

/* The stacks of both reports that name the same frames, added up. */
struct row {
	char *key; /* folded form: root first, ';' between frames */
	uint64_t hash;
	uint64_t v[2][FIG_CNT];
};

struct table {
	struct row *rows;
	size_t cnt, cap;
	uint32_t *index; /* open addressing over rows; 0 empty, else row + 1 */
	size_t mask;
	bool no_peak[2]; /* a report without the peak breakdown (--aggregate) */
	uint64_t stats[2][3]; /* the reports' own totals: live bytes, blocks, allocations */
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static int grow_index(struct table *t)
{
	size_t n = t->mask ? (t->mask + 1) * 2 : 1024, i, j;
	uint32_t *idx = calloc(n, sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	for (i = 0; i < t->cnt; i++) {
		for (j = t->rows[i].hash & (n - 1); idx[j]; j = (j + 1) & (n - 1))
			;
		idx[j] = (uint32_t)(i + 1);
	}
	free(t->index);
	t->index = idx;
	t->mask = n - 1;
	return 0;
}

/* The row of key, added if new; takes key (freed when it is a known one). */
static struct row *row_of(struct table *t, char *key)
{
	uint64_t h = hash_str(key);
	struct row *r;
	size_t j;

	if ((t->cnt + 1) * 2 > t->mask + 1 && grow_index(t))
		goto nomem;
	for (j = h & t->mask; t->index[j]; j = (j + 1) & t->mask) {
		r = &t->rows[t->index[j] - 1];
		if (r->hash == h && !strcmp(r->key, key)) {
			free(key);
			return r;
		}
	}
	if (t->cnt == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct row *n = realloc(t->rows, cap * sizeof(*n));

		if (!n)
			goto nomem;
		t->rows = n;
		t->cap = cap;
	}
	r = &t->rows[t->cnt++];
	memset(r, 0, sizeof(*r));
	r->key = key;
	r->hash = h;
	t->index[j] = (uint32_t)t->cnt;
	return r;
nomem:
	free(key);
	return NULL;
}

static void table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->cnt; i++)
		free(t->rows[i].key);
	free(t->rows);
	free(t->index);
}

/* A stack's frames named as folded output names them, root first; NULL when
 * out of memory. */
static char *key_of(const struct jnode *st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (!report_folded__put_json(f, st))
		fputs("[no frames]", f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int add_stack(struct table *t, int side, const struct jnode *st)
{
	static const char *const names[FIG_CNT] = {
		[LIVE_BYTES] = "live_bytes", [LIVE_BLOCKS] = "live_count",
		[ALLOCS] = "allocations",    [BYTES] = "bytes",
		[AT_PEAK_BYTES] = "at_peak_bytes",
	};
	char *key = key_of(st);
	struct row *r;
	int i;

	if (!key || !(r = row_of(t, key)))
		return -ENOMEM;
	for (i = 0; i < FIG_CNT; i++)
		r->v[side][i] = sat_add(r->v[side][i], jnode__u64(jnode__get(st, names[i]), 0));
	/* null (or absent, in reports older than the breakdown) */
	if (jnode__type(jnode__get(st, "at_peak_bytes")) != JNUM)
		t->no_peak[side] = true;
	return 0;
}

struct reading {
	struct table *t;
	int side;
	bool stats; /* the report's stats object was seen */
};

static int on_member(void *ctx, const char *key, size_t index, const struct jnode *v)
{
	struct reading *r = ctx;

	if (!strcmp(key, "stacks"))
		return add_stack(r->t, r->side, v);
	if (jnode__type(v) != JOBJ)
		return 0; /* "stats" that is not an object: not a report */
	r->stats = true;
	r->t->stats[r->side][0] = jnode__u64(jnode__get(v, "active_memory"), 0);
	r->t->stats[r->side][1] = jnode__u64(jnode__get(v, "active_allocations"), 0);
	r->t->stats[r->side][2] = jnode__u64(jnode__get(v, "total_allocations"), 0);
	return 0;
}

/*
 * Opens path without blocking (a FIFO would wait for a writer) and reads it
 * only if it is a regular file; the descriptor opened is the one read. The
 * stacks stream by one at a time (json_reader's bounds): what is held is the
 * table of distinct stacks.
 */
static int read_report(struct table *t, int side, const char *path)
{
	static const struct json_member spec[] = {
		{ "stats", JSON_KEEP }, { "stacks", JSON_EACH }, { NULL, JSON_SKIP },
	};
	struct reading r = { t, side, false };
	char err[256] = "";
	struct stat sb;
	FILE *in;
	int fd, ret;

	if (!strcmp(path, "-")) {
		fprintf(stderr, "ttbpf diff: cannot read -: reading a report from stdin ('-') is not "
				"supported; save it to a file first\n");
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		fprintf(stderr, "ttbpf diff: cannot read %s: %s\n", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > MAX_REPORT_BYTES ||
	    fcntl(fd, F_SETFL, 0) || !(in = fdopen(fd, "r"))) {
		fprintf(stderr, "ttbpf diff: cannot read %s: not a regular file of at most 1 GiB\n",
			path);
		close(fd);
		return -EINVAL;
	}
	ret = json_stream__read(in, 0, spec, on_member, &r, err, sizeof(err));
	fclose(in);
	if (ret == -ENOMEM && !err[0])
		snprintf(err, sizeof(err), "out of memory");
	if (ret) {
		fprintf(stderr, "ttbpf diff: cannot read %s: %s\n", path, err[0] ? err : strerror(-ret));
		return ret;
	}
	if (!r.stats) {
		fprintf(stderr, "ttbpf diff: %s is not a ttbpf JSON report (no stats)\n", path);
		return -EINVAL;
	}
	return 0;
}

/* "+N" or "-N", exactly, whatever the magnitudes */
static void put_change(FILE *f, int width, uint64_t old, uint64_t new)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%c%llu", new >= old ? '+' : '-',
		 (unsigned long long)(new >= old ? new - old : old - new));
	fprintf(f, "%*s", width, buf);
}

static uint64_t magnitude(const struct row *r, enum fig i)
{
	return r->v[NEW][i] >= r->v[OLD][i] ? r->v[NEW][i] - r->v[OLD][i]
					    : r->v[OLD][i] - r->v[NEW][i];
}

/* A change in what the table shows or the bytes allocated (not at_peak). */
static bool changed(const struct row *r)
{
	int i;

	for (i = LIVE_BYTES; i <= BYTES; i++)
		if (r->v[OLD][i] != r->v[NEW][i])
			return true;
	return false;
}

static int cmp_change(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a, *y = *(const struct row *const *)b;
	uint64_t mx = magnitude(x, LIVE_BYTES), my = magnitude(y, LIVE_BYTES);

	if (mx != my)
		return mx < my ? 1 : -1;
	mx = magnitude(x, ALLOCS);
	my = magnitude(y, ALLOCS);
	if (mx != my)
		return mx < my ? 1 : -1;
	return strcmp(x->key, y->key);
}

/* The stack innermost first, at most TEXT_FRAMES frames: the key's names,
 * cleaned already (report_folded__put_frame). */
static void put_stack(FILE *f, const char *key)
{
	const char *end = key + strlen(key), *p = end, *q;
	int shown = 0;

	while (p > key && shown < TEXT_FRAMES) {
		for (q = p; q > key && q[-1] != ';'; q--)
			;
		fprintf(f, "%s%.*s", shown ? " < " : "", (int)(p - q), q);
		shown++;
		p = q > key ? q - 1 : key;
	}
	if (p > key)
		fputs(" < ...", f);
}

static void write_text(FILE *f, const struct table *t, const struct diff_opts *d)
{
	static const char *const what[3] = { "live bytes", "live blocks", "allocations" };
	const struct row **ch;
	size_t n = 0, i, shown;

	fputs("ttbpf diff: ", f);
	text_clean__put(f, d->old_path, 0);
	fputs(" -> ", f);
	text_clean__put(f, d->new_path, 0);
	fprintf(f, "\n%-14s %16s %16s %16s\n", "totals", "old", "new", "change");
	for (i = 0; i < 3; i++) {
		fprintf(f, "%-14s %16llu %16llu ", what[i], (unsigned long long)t->stats[OLD][i],
			(unsigned long long)t->stats[NEW][i]);
		put_change(f, 16, t->stats[OLD][i], t->stats[NEW][i]);
		fputc('\n', f);
	}
	ch = calloc(t->cnt ? t->cnt : 1, sizeof(*ch));
	if (!ch) {
		fputs("(out of memory: no stack list)\n", f);
		return;
	}
	for (i = 0; i < t->cnt; i++)
		if (changed(&t->rows[i]))
			ch[n++] = &t->rows[i];
	qsort(ch, n, sizeof(*ch), cmp_change);
	shown = n < d->top ? n : d->top;
	fprintf(f, "\n%zu of %zu stacks changed (matched by their frames)", n, t->cnt);
	if (shown < n)
		fprintf(f, "; the %zu largest changes in live bytes (--top)", shown);
	fprintf(f, ":\n%14s %12s %12s  %s\n", "live bytes", "live blocks", "allocations",
		"stack (innermost frame first)");
	for (i = 0; i < shown; i++) {
		put_change(f, 14, ch[i]->v[OLD][LIVE_BYTES], ch[i]->v[NEW][LIVE_BYTES]);
		fputc(' ', f);
		put_change(f, 12, ch[i]->v[OLD][LIVE_BLOCKS], ch[i]->v[NEW][LIVE_BLOCKS]);
		fputc(' ', f);
		put_change(f, 12, ch[i]->v[OLD][ALLOCS], ch[i]->v[NEW][ALLOCS]);
		fputs("  ", f);
		put_stack(f, ch[i]->key);
		fputc('\n', f);
	}
	if (shown < n)
		fprintf(f, "... and %zu more (--top N shows more)\n", n - shown);
	free(ch);
}

struct folded_ctx {
	const struct table *t;
	enum fig fig;
};

static int cmp_key(const void *a, const void *b)
{
	return strcmp((*(const struct row *const *)a)->key, (*(const struct row *const *)b)->key);
}

static int emit_folded(FILE *f, void *ctx)
{
	const struct folded_ctx *c = ctx;
	const struct row **rows = calloc(c->t->cnt ? c->t->cnt : 1, sizeof(*rows));
	size_t i;

	if (!rows)
		return -ENOMEM;
	for (i = 0; i < c->t->cnt; i++)
		rows[i] = &c->t->rows[i];
	qsort(rows, c->t->cnt, sizeof(*rows), cmp_key);
	for (i = 0; i < c->t->cnt; i++)
		if (rows[i]->v[OLD][c->fig] || rows[i]->v[NEW][c->fig])
			fprintf(f, "%s %llu %llu\n", rows[i]->key,
				(unsigned long long)rows[i]->v[OLD][c->fig],
				(unsigned long long)rows[i]->v[NEW][c->fig]);
	free(rows);
	return ferror(f) ? -EIO : 0;
}

int diff__run(const struct diff_opts *d, FILE *out)
{
	static const enum fig fig_of[] = {
		[FOLDED_LIVE_BYTES] = LIVE_BYTES, [FOLDED_ALLOC_BYTES] = BYTES,
		[FOLDED_ALLOC_COUNT] = ALLOCS,    [FOLDED_PEAK_BYTES] = AT_PEAK_BYTES,
	};
	struct table t = {};
	int err;

	err = read_report(&t, OLD, d->old_path);
	err = err ?: read_report(&t, NEW, d->new_path);
	if (!err && d->folded_path && d->weight == FOLDED_PEAK_BYTES &&
	    (t.no_peak[OLD] || t.no_peak[NEW])) {
		fprintf(stderr, "ttbpf diff: --folded-by peak: %s has no figures at the peak (a "
				"report of --aggregate, or of an older ttbpf)\n",
			t.no_peak[OLD] ? d->old_path : d->new_path);
		err = -EINVAL;
	}
	if (!err) {
		write_text(out, &t, d);
		if (fflush(out) || ferror(out))
			err = -EIO;
	}
	if (!err && d->folded_path) {
		struct folded_ctx c = { &t, fig_of[d->weight] };

		err = outfile__write(d->folded_path, emit_folded, &c);
	}
	table_free(&t);
	return err;
}
