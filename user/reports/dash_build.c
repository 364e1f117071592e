// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dash_build.h"
#include "json_reader.h"
#include "symbolize.h"

#define TREE_ROOTS DASH_TOP_MAX /* call sites kept; --top of them drawn */
#define TREE_KIDS 3    /* callers shown under each */
#define DEFAULT_TOP 10
#define MAX_HEAT_COLS 256
/* bytes kept of a name: more than the dashboard ever draws of one (report_draw.c) */
#define NAME_MAX_BYTES (16u << 10)

/* A frame of a stack, as the call-site tree compares and draws it. */
struct frame {
	char *symbol, *file, *ip; /* may be NULL */
	char *label;              /* as drawn: the symbol, else module+0xOFFSET (sym_frame__label) */
	uint64_t line_u;          /* "line" as compared (jnode__u64) */
	int line;                 /* as drawn (jnode__i64) */
};

/* One root of the call-site tree, and its callers so far. */
struct tree_root {
	size_t idx;           /* its place in the report's call_sites */
	uint64_t rep_id;      /* the site's representative stack */
	struct frame site;    /* the site's frame, as call_sites names it */
	struct frame drawn;   /* the representative stack's call-site frame */
	bool rep_seen;
	uint64_t bytes, count;
	struct frame kid[TREE_KIDS + 1]; /* the first callers met, in stack order */
	uint64_t kid_bytes[TREE_KIDS + 1], kid_count[TREE_KIDS + 1];
	size_t kid_cnt;
};

/* The largest entries of a list, by a key; the others counted and summed. */
struct top_named {
	struct dash_named e[DASH_LIST_MAX];
	size_t idx[DASH_LIST_MAX]; /* their places in the report's list */
	size_t cnt, seen;
	size_t more;
	uint64_t more_bytes, more_count;
};

struct top_vars {
	struct dash_var e[DASH_LIST_MAX];
	size_t idx[DASH_LIST_MAX];
	size_t cnt, seen, more;
};

/* A row of the leak panel, with the names it owns. */
struct leak_row {
	struct dash_leak l;
	size_t idx; /* its place in the report's call_sites */
};

struct dash_build {
	struct dash d;
	enum dash_sort sort;
	unsigned int top;      /* 1..DASH_TOP_MAX */
	bool peak_missing;     /* a call site without figures at the peak */
	struct leak_row leaks[DASH_TOP_MAX];
	size_t leak_cnt, holding; /* rows kept; sites holding memory */
	struct dash_leak leak_out[DASH_TOP_MAX];
	char target[512];
	bool is_report;        /* format_version 1 */
	struct dash_point *points;
	uint64_t *heat;
	struct top_named types, cats;
	struct top_vars vars;
	struct tree_root roots[TREE_ROOTS];
	size_t root_cnt;
	bool roots_final;     /* every call site seen: the tree's roots chosen */
	bool stacks_early;    /* stacks came before: read again */
	struct dash_site sites[TREE_ROOTS * (1 + TREE_KIDS) + 1];
};

static uint64_t u64_at(const struct jnode *n, const char *key)
{
	return jnode__u64(jnode__get(n, key), 0);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* A copy of at most NAME_MAX_BYTES of s, cut at a character boundary. */
static size_t name_len(const char *s);

static int name_dup(char **out, const char *s)
{
	*out = strndup(s, name_len(s));
	return *out ? 0 : -ENOMEM;
}

static int opt_dup(char **out, const struct jnode *n)
{
	const char *s = jnode__str(n, NULL);

	*out = NULL;
	return s ? name_dup(out, s) : 0;
}

static void frame_free(struct frame *f)
{
	free(f->symbol);
	free(f->file);
	free(f->ip);
	free(f->label);
	memset(f, 0, sizeof(*f));
}

/* fn_key: what the object calls its symbol. A call site's label is its
 * "name"; a stack frame's is made as the summary makes it. */
static int frame_read(struct frame *f, const struct jnode *o, const char *fn_key)
{
	const char *name = jnode__str(jnode__get(o, "name"), NULL);
	char label[NAME_MAX_BYTES];
	struct sym_frame sf = {
		.symbol = jnode__str(jnode__get(o, fn_key), NULL),
		.module = jnode__str(jnode__get(o, "module"), NULL),
		.module_offset = jnode__u64(jnode__get(o, "offset"), 0),
		.ip = strtoull(jnode__str(jnode__get(o, "ip"), "0"), NULL, 16),
	};
	int err;

	memset(f, 0, sizeof(*f));
	err = opt_dup(&f->symbol, jnode__get(o, fn_key));
	err = err ?: opt_dup(&f->file, jnode__get(o, "file"));
	err = err ?: opt_dup(&f->ip, jnode__get(o, "ip"));
	if (!err && (name || sf.symbol || sf.module || sf.ip))
		err = name_dup(&f->label, name ? name : sym_frame__label(&sf, label, sizeof(label)));
	f->line_u = jnode__u64(jnode__get(o, "line"), 0);
	f->line = (int)jnode__i64(jnode__get(o, "line"), 0);
	if (err)
		frame_free(f);
	return err;
}

/* The bytes of s that name_dup keeps. */
static size_t name_len(const char *s)
{
	size_t n = strlen(s);

	if (n > NAME_MAX_BYTES) {
		n = NAME_MAX_BYTES;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return n;
}

/* Is kept (a name_dup copy) the name s? Names that long are told apart by
 * their first NAME_MAX_BYTES. */
static bool name_eq(const char *kept, const char *s)
{
	size_t n = name_len(s);

	return strlen(kept) == n && !memcmp(kept, s, n);
}

/* Same function: by symbol when both have one, by address when neither has. */
static bool same_fn(const struct frame *a, const struct jnode *b)
{
	const char *y = jnode__str(jnode__get(b, "symbol"), NULL);

	if (a->symbol || y)
		return a->symbol && y && name_eq(a->symbol, y);
	return name_eq(a->ip ? a->ip : "", jnode__str(jnode__get(b, "ip"), ""));
}

/*
 * Where an entry of key (the i-th of the report's list) goes among the k
 * largest kept so far (keys[], idx[], cnt of them), earlier entries first
 * among equals: a free slot, the slot of the entry it pushes out, or -1.
 */
static int rank_slot(const uint64_t *keys, const size_t *idx, size_t cnt, size_t k, uint64_t key)
{
	size_t i, low = 0;

	if (cnt < k)
		return (int)cnt;
	for (i = 1; i < cnt; i++)
		if (keys[i] < keys[low] || (keys[i] == keys[low] && idx[i] > idx[low]))
			low = i;
	return cnt && key > keys[low] ? (int)low : -1;
}

/* The same among the DASH_LIST_MAX largest (as the drawing picks them). */
static int top_slot(const uint64_t *keys, const size_t *idx, size_t cnt, uint64_t key)
{
	return rank_slot(keys, idx, cnt, DASH_LIST_MAX, key);
}

static int top_named__add(struct top_named *t, const struct jnode *e, const char *name_key)
{
	uint64_t keys[DASH_LIST_MAX], bytes = u64_at(e, "total_size"), count = u64_at(e, "allocation_count");
	struct dash_named *slot;
	size_t i;
	int k;

	for (i = 0; i < t->cnt; i++)
		keys[i] = dash_named_key(&t->e[i]);
	k = top_slot(keys, t->idx, t->cnt, bytes);
	t->seen++;
	if (k < 0 || (size_t)k < t->cnt) { /* one entry fewer listed */
		const struct dash_named *out = k < 0 ? NULL : &t->e[k];

		t->more++;
		t->more_bytes = sat_add(t->more_bytes, out ? out->bytes : bytes);
		t->more_count = sat_add(t->more_count, out ? out->count : count);
		if (k < 0)
			return 0;
		free((char *)t->e[k].name);
	} else {
		t->cnt++;
	}
	slot = &t->e[k];
	slot->bytes = bytes;
	slot->count = count;
	t->idx[k] = t->seen - 1;
	return name_dup((char **)&slot->name, jnode__str(jnode__get(e, name_key), "?"));
}

static int top_vars__add(struct top_vars *t, const struct jnode *g)
{
	const struct jnode *slices = jnode__get(g, "alive_in_slice");
	uint64_t keys[DASH_LIST_MAX];
	struct dash_var v = { 0 };
	size_t i, k;
	int s, err;

	v.instances = u64_at(g, "instances");
	v.alive = u64_at(g, "alive");
	v.folded = u64_at(g, "folded");
	v.bytes_alive = u64_at(g, "bytes_alive");
	v.peak_bytes = u64_at(g, "peak_bytes");
	for (k = 0; k < DASH_VAR_SLICES && k < jnode__len(slices); k++) {
		uint64_t c = jnode__u64(jnode__at(slices, k), 0);

		v.alive_in_slice[k] = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
	}
	for (i = 0; i < t->cnt; i++)
		keys[i] = dash_var_key(&t->e[i]);
	s = top_slot(keys, t->idx, t->cnt, dash_var_key(&v));
	t->seen++;
	if (s < 0 || (size_t)s < t->cnt) {
		t->more++;
		if (s < 0)
			return 0;
		free((char *)t->e[s].name);
		free((char *)t->e[s].type_name);
	} else {
		t->cnt++;
	}
	err = name_dup((char **)&v.name, jnode__str(jnode__get(g, "name"), "?"));
	if (!err)
		err = name_dup((char **)&v.type_name, jnode__str(jnode__get(g, "type_name"), "?"));
	t->e[s] = v;
	t->idx[s] = t->seen - 1;
	return err;
}

/* The kept entries back in the report's order. */
static void top_order(void *e, size_t *idx, size_t cnt, size_t size)
{
	char tmp[sizeof(struct dash_var) > sizeof(struct dash_named) ? sizeof(struct dash_var) :
							  sizeof(struct dash_named)];
	size_t i, j;

	for (i = 1; i < cnt; i++)
		for (j = i; j > 0 && idx[j - 1] > idx[j]; j--) {
			size_t t = idx[j];

			idx[j] = idx[j - 1];
			idx[j - 1] = t;
			memcpy(tmp, (char *)e + j * size, size);
			memcpy((char *)e + j * size, (char *)e + (j - 1) * size, size);
			memcpy((char *)e + (j - 1) * size, tmp, size);
		}
}

static int read_target(struct dash_build *b, const struct jnode *t)
{
	snprintf(b->target, sizeof(b->target), "pid %lld (%s)",
		 (long long)jnode__i64(jnode__get(t, "pid"), 0),
		 jnode__str(jnode__get(t, "command"), "?"));
	/* an exit status: the target exited, and what is live at the end leaked */
	b->d.exited = jnode__type(jnode__get(t, "exit_code")) == JNUM;
	return 0;
}

static int read_stats(struct dash_build *b, const struct jnode *stats)
{
	b->d.active_allocs = u64_at(stats, "active_allocations");
	b->d.current_bytes = u64_at(stats, "active_memory");
	b->d.peak_bytes = u64_at(stats, "peak_memory");
	b->d.peak_ns = u64_at(stats, "peak_time");
	b->d.total_allocs = u64_at(stats, "total_allocations");
	b->d.total_allocated = u64_at(stats, "total_allocated");
	b->d.total_frees = u64_at(stats, "total_frees");
	b->d.lost_events = u64_at(stats, "lost_events");
	b->d.peak_cnt = u64_at(stats, "peak_allocations");
	/* null with --aggregate: not counted */
	b->d.temps_known = jnode__type(jnode__get(stats, "temporary_allocations")) == JNUM;
	b->d.temp_allocs = u64_at(stats, "temporary_allocations");
	b->d.temp_bytes = u64_at(stats, "temporary_allocated");
	b->d.temp_window_ns = u64_at(stats, "temporary_window_ns");
	return 0;
}

/* The timeline's points: a piece holds at most JSON_PIECE_MAX_VALUES values. */
static int read_timeline(struct dash_build *b, const struct jnode *tl)
{
	const struct jnode *pts = jnode__get(tl, "points");
	size_t n = jnode__len(pts), i;

	free(b->points);
	b->points = calloc(n ? n : 1, sizeof(*b->points));
	if (!b->points)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct jnode *p = jnode__at(pts, i);

		b->points[i].t_ns = u64_at(p, "t_ns");
		b->points[i].live_bytes = u64_at(p, "live_bytes");
		b->points[i].live_cnt = u64_at(p, "live_count");
		b->points[i].max_live_bytes = u64_at(p, "max_live_bytes");
		b->points[i].allocs = u64_at(p, "allocations");
		b->points[i].frees = u64_at(p, "frees");
		/* null (or absent, in older reports) before the first sample */
		b->points[i].rss_bytes = jnode__u64(jnode__get(p, "rss_bytes"), UINT64_MAX);
		b->points[i].has_rss = b->points[i].rss_bytes != UINT64_MAX;
		if (!b->points[i].has_rss)
			b->points[i].rss_bytes = 0;
	}
	b->d.timeline = b->points;
	b->d.timeline_cnt = n;
	return 0;
}

static bool near_peak(uint64_t live, uint64_t peak)
{
	return (unsigned __int128)live * 100 >= (unsigned __int128)peak * DASH_NEAR_PEAK_PCT;
}

uint64_t dash_build__near_peak_ns(const struct dash_point *p, size_t n, uint64_t duration_ns,
				  uint64_t peak_bytes)
{
	uint64_t sum = 0, start = 0, end = 0;
	size_t i;

	if (!peak_bytes)
		return 0;
	for (i = 0; i < n; i++) {
		/* the last interval may run past the end of the run */
		end = duration_ns && p[i].t_ns > duration_ns ? duration_ns : p[i].t_ns;
		if (end <= start)
			continue; /* out of order or past the end: nothing to measure */
		if (near_peak(p[i].max_live_bytes, peak_bytes))
			sum += end - start;
		start = end;
	}
	/* after the last record the heap stays as it was */
	if (n && duration_ns > start && near_peak(p[n - 1].live_bytes, peak_bytes))
		sum += duration_ns - start;
	return sum;
}

static int read_heat(struct dash_build *b, const struct jnode *hm)
{
	const struct jnode *rows = jnode__get(hm, "rows");
	uint64_t cols = u64_at(hm, "slices");
	size_t r, c;

	if (cols > MAX_HEAT_COLS)
		cols = MAX_HEAT_COLS;
	if (jnode__len(rows) != DASH_SIZE_BUCKETS)
		cols = 0;
	free(b->heat);
	b->heat = calloc(DASH_SIZE_BUCKETS * (cols ? cols : 1), sizeof(*b->heat));
	if (!b->heat)
		return -ENOMEM;
	for (r = 0; cols && r < DASH_SIZE_BUCKETS; r++) {
		const struct jnode *counts = jnode__get(jnode__at(rows, r), "counts");

		for (c = 0; c < cols; c++)
			b->heat[r * cols + c] = jnode__u64(jnode__at(counts, c), 0);
	}
	b->d.heat = b->heat;
	b->d.heat_cols = (unsigned int)cols;
	return 0;
}

static int read_hist(struct dash_build *b, const struct jnode *hist)
{
	size_t r;

	for (r = 0; r < DASH_SIZE_BUCKETS && r < jnode__len(hist); r++)
		b->d.size_hist[r] = u64_at(jnode__at(hist, r), "allocations");
	return 0;
}

/* A site's or a stack's figures by the tree's sort: bytes, and the count
 * that goes with them (allocations, or blocks live). */
static const char *const sort_bytes_key[] = {
	[DASH_SORT_LIVE] = "live_bytes",
	[DASH_SORT_PEAK] = "at_peak_bytes",
	[DASH_SORT_ALLOCATED] = "bytes",
};

static const char *const sort_count_key[] = {
	[DASH_SORT_LIVE] = "live_count",
	[DASH_SORT_PEAK] = "at_peak_blocks",
	[DASH_SORT_ALLOCATED] = "allocations",
};

static uint64_t sort_bytes(const struct dash_build *b, const struct jnode *n)
{
	return u64_at(n, sort_bytes_key[b->sort]);
}

static uint64_t sort_count(const struct dash_build *b, const struct jnode *n)
{
	return u64_at(n, sort_count_key[b->sort]);
}

static void root_free(struct tree_root *r)
{
	size_t k;

	frame_free(&r->site);
	frame_free(&r->drawn);
	for (k = 0; k < r->kid_cnt; k++)
		frame_free(&r->kid[k]);
	memset(r, 0, sizeof(*r));
}

/* A call site: one of the tree's roots if among the --top largest by the
 * sort so far. */
static int add_root(struct dash_build *b, const struct jnode *site, size_t i)
{
	uint64_t keys[TREE_ROOTS] = { 0 }, key = sort_bytes(b, site);
	size_t idx[TREE_ROOTS] = { 0 }, k = b->top < TREE_ROOTS ? b->top : TREE_ROOTS, j;
	struct tree_root *r;
	int slot;

	for (j = 0; j < b->root_cnt; j++) {
		keys[j] = b->roots[j].bytes;
		idx[j] = b->roots[j].idx;
	}
	slot = rank_slot(keys, idx, b->root_cnt, k, key);
	if (slot < 0)
		return 0;
	r = &b->roots[slot];
	if ((size_t)slot < b->root_cnt)
		root_free(r);
	else
		b->root_cnt++;
	r->idx = i;
	r->rep_id = u64_at(site, "stack_id");
	r->bytes = key;
	r->count = sort_count(b, site);
	return frame_read(&r->site, site, "function");
}

static void leak_free(struct leak_row *r)
{
	free((char *)r->l.function);
	free((char *)r->l.file);
	memset(r, 0, sizeof(*r));
}

/*
 * A call site for the leak panel: kept if among the --top holding the most
 * live bytes so far. Its name is its first user frame (call_sites[].name:
 * the function, or module+offset), else its function.
 */
static int add_leak(struct dash_build *b, const struct jnode *site, size_t i)
{
	uint64_t keys[DASH_TOP_MAX] = { 0 }, live = u64_at(site, "live_bytes");
	size_t idx[DASH_TOP_MAX] = { 0 }, j;
	const char *name;
	struct leak_row *r;
	int slot, err;

	if (!live)
		return 0;
	b->holding++;
	for (j = 0; j < b->leak_cnt; j++) {
		keys[j] = b->leaks[j].l.live_bytes;
		idx[j] = b->leaks[j].idx;
	}
	slot = rank_slot(keys, idx, b->leak_cnt, b->top, live);
	if (slot < 0)
		return 0;
	r = &b->leaks[slot];
	if ((size_t)slot < b->leak_cnt)
		leak_free(r);
	else
		b->leak_cnt++;
	r->idx = i;
	r->l.live_bytes = live;
	r->l.live_cnt = u64_at(site, "live_count");
	r->l.allocs = u64_at(site, "allocations");
	r->l.line = (int)jnode__i64(jnode__get(site, "line"), 0);
	name = jnode__str(jnode__get(site, "name"), NULL);
	err = name ? name_dup((char **)&r->l.function, name)
		   : opt_dup((char **)&r->l.function, jnode__get(site, "function"));
	return err ?: opt_dup((char **)&r->l.file, jnode__get(site, "file"));
}

static int read_call_site(struct dash_build *b, const struct jnode *site, size_t i)
{
	if (jnode__type(jnode__get(site, "at_peak_bytes")) != JNUM)
		b->peak_missing = true;
	return add_root(b, site, i) ?: add_leak(b, site, i);
}

/* The roots by the sort, largest first; by live (or peak) bytes, sites
 * holding none say nothing, unless none holds any. */
static void rank_roots(struct dash_build *b)
{
	size_t i, j;

	for (i = 1; i < b->root_cnt; i++)
		for (j = i; j > 0; j--) {
			struct tree_root *x = &b->roots[j - 1], *y = &b->roots[j], t;

			if (x->bytes > y->bytes || (x->bytes == y->bytes && x->idx < y->idx))
				break;
			t = *x;
			*x = *y;
			*y = t;
		}
	while (b->root_cnt > 1 && !b->roots[b->root_cnt - 1].bytes && b->roots[0].bytes)
		root_free(&b->roots[--b->root_cnt]);
}

/* The leak rows, the most live bytes first, as the dash lists them. */
static void rank_leaks(struct dash_build *b)
{
	size_t i, j;

	for (i = 1; i < b->leak_cnt; i++)
		for (j = i; j > 0; j--) {
			struct leak_row *x = &b->leaks[j - 1], *y = &b->leaks[j], t;

			if (x->l.live_bytes > y->l.live_bytes ||
			    (x->l.live_bytes == y->l.live_bytes && x->idx < y->idx))
				break;
			t = *x;
			*x = *y;
			*y = t;
		}
	for (i = 0; i < b->leak_cnt; i++)
		b->leak_out[i] = b->leaks[i].l;
	b->d.leaks = b->leak_out;
	b->d.leak_cnt = b->leak_cnt;
	b->d.leaks_more = b->holding - b->leak_cnt;
}

/* The frame of a stack that is its call site (first outside the allocator). */
static const struct jnode *site_frame(const struct jnode *stack)
{
	return jnode__at(jnode__get(stack, "frames"), (size_t)u64_at(stack, "call_site"));
}

/* Is the stack's call site the root's? By the site the report grouped it in;
 * a report without site_index (older) by the site frame's function and line. */
static bool stack_of_root(const struct tree_root *r, const struct jnode *st,
			  const struct jnode *sf)
{
	const struct jnode *si = jnode__get(st, "site_index");

	if (jnode__type(si) == JNUM)
		return jnode__u64(si, 0) == r->idx;
	return same_fn(&r->site, sf) && jnode__u64(jnode__get(sf, "line"), 0) == r->site.line_u;
}

/*
 * A stack, for each root of the tree: is it the representative (whose
 * call-site frame is drawn), and is its call site the root's (its caller, the
 * frame after the call site, is then one of the root's callers)?
 */
static int read_stack(struct dash_build *b, const struct jnode *st)
{
	const struct jnode *sf = site_frame(st), *caller;
	size_t i, k;
	int err;

	/* the roots are known once every call site has been seen: read the
	 * stacks again then */
	if (!b->roots_final) {
		b->stacks_early = true;
		return 0;
	}
	caller = jnode__at(jnode__get(st, "frames"), (size_t)u64_at(st, "call_site") + 1);
	for (i = 0; i < b->root_cnt; i++) {
		struct tree_root *r = &b->roots[i];

		if (!r->rep_seen && u64_at(st, "id") == r->rep_id) {
			r->rep_seen = true;
			err = frame_read(&r->drawn, sf, "symbol"); /* no frame: an empty one */
			if (err)
				return err;
		}
		if (!sf || !caller || !stack_of_root(r, st, sf))
			continue;
		for (k = 0; k < r->kid_cnt && !same_fn(&r->kid[k], caller); k++)
			;
		if (k == r->kid_cnt) {
			if (r->kid_cnt == TREE_KIDS + 1)
				continue;
			err = frame_read(&r->kid[k], caller, "symbol");
			if (err)
				return err;
			r->kid_cnt++;
		}
		r->kid_bytes[k] += sort_bytes(b, st);
		r->kid_count[k] += sort_count(b, st);
	}
	return 0;
}

static void set_site(struct dash_site *s, int parent, const struct frame *f, uint64_t bytes,
		     uint64_t count)
{
	s->parent = parent;
	s->function = f->label;
	s->file = f->file;
	s->line = f->line;
	s->bytes = bytes;
	s->count = count;
}

/* The tree: each root, then its largest callers. */
static void make_tree(struct dash_build *b)
{
	size_t r, i, k, n = 0;

	for (r = 0; r < b->root_cnt; r++) {
		struct tree_root *t = &b->roots[r];
		size_t order[TREE_KIDS + 1], root_idx = n;

		set_site(&b->sites[n], -1, t->rep_seen ? &t->drawn : &t->site, t->bytes, t->count);
		if (t->site.label) /* named as the summary and the leak panel name it */
			b->sites[n].function = t->site.label;
		n++;
		if (!t->rep_seen)
			continue;
		for (i = 0; i < t->kid_cnt; i++)
			order[i] = i;
		/* largest callers first (the order of the sort the tree always had) */
		for (i = 0; i < t->kid_cnt; i++)
			for (k = i + 1; k < t->kid_cnt; k++)
				if (t->kid_bytes[order[k]] > t->kid_bytes[order[i]]) {
					size_t x = order[i];

					order[i] = order[k];
					order[k] = x;
				}
		/* callers that hold none of what the tree is sorted by say nothing */
		for (i = 0; i < t->kid_cnt && i < TREE_KIDS && (t->kid_bytes[order[i]] || !t->bytes);
		     i++)
			set_site(&b->sites[n++], (int)root_idx, &t->kid[order[i]],
				 t->kid_bytes[order[i]], t->kid_count[order[i]]);
	}
	b->d.sites = b->sites;
	b->d.site_cnt = n;
}

static int on_member(void *ctx, const char *key, size_t index, const struct jnode *v)
{
	struct dash_build *b = ctx;

	if (!strcmp(key, "format_version")) {
		b->is_report = jnode__u64(v, 0) == 1;
		return 0;
	}
	if (!strcmp(key, "duration_ns")) {
		b->d.duration_ns = jnode__u64(v, 0);
		return 0;
	}
	if (!strcmp(key, "target"))
		return read_target(b, v);
	if (!strcmp(key, "stats"))
		return read_stats(b, v);
	if (!strcmp(key, "timeline"))
		return read_timeline(b, v);
	if (!strcmp(key, "heatmap"))
		return read_heat(b, v);
	if (!strcmp(key, "size_histogram"))
		return read_hist(b, v);
	if (!strcmp(key, "variable_stats")) {
		b->d.vars_folded = u64_at(v, "instances_folded");
		return 0;
	}
	if (!strcmp(key, "memory_by_type"))
		return top_named__add(&b->types, v, "type_name");
	if (!strcmp(key, "memory_by_category"))
		return top_named__add(&b->cats, v, "category");
	if (!strcmp(key, "variable_groups"))
		return top_vars__add(&b->vars, v);
	if (!strcmp(key, "call_sites"))
		return read_call_site(b, v, index);
	if (!strcmp(key, "stacks"))
		return read_stack(b, v);
	return 0;
}

/* What the dashboard reads of a report; everything else streams by. */
static const struct json_member members[] = {
	{ "format_version", JSON_KEEP },    { "duration_ns", JSON_KEEP },
	{ "target", JSON_KEEP },            { "stats", JSON_KEEP },
	{ "timeline", JSON_KEEP },          { "heatmap", JSON_KEEP },
	{ "size_histogram", JSON_KEEP },    { "variable_stats", JSON_KEEP },
	{ "memory_by_type", JSON_EACH },    { "memory_by_category", JSON_EACH },
	{ "variable_groups", JSON_EACH },   { "call_sites", JSON_EACH },
	{ "stacks", JSON_EACH },            { NULL, JSON_SKIP },
};

/* A report that lists its stacks before its call sites: the stacks again. */
static const struct json_member stacks_only[] = {
	{ "stacks", JSON_EACH },
	{ NULL, JSON_SKIP },
};

static int on_stack_again(void *ctx, const char *key, size_t index, const struct jnode *v)
{
	(void)key;
	(void)index;
	return read_stack(ctx, v);
}

int dash_build__load(struct dash_build **out, const char *path, const struct dash_opts *opts)
{
	struct dash_build *b;
	char err[256];
	int rc;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->sort = opts && opts->sort <= DASH_SORT_ALLOCATED ? opts->sort : DASH_SORT_LIVE;
	b->top = opts && opts->top ? opts->top : DEFAULT_TOP;
	if (b->top > DASH_TOP_MAX)
		b->top = DASH_TOP_MAX;
	b->d.sort = b->sort;
	b->d.top = b->top;
	snprintf(b->target, sizeof(b->target), "pid 0 (?)");
	rc = json_stream__load(path, members, on_member, b, err, sizeof(err));
	if (!rc && b->is_report && b->sort == DASH_SORT_PEAK && b->peak_missing) {
		fprintf(stderr, "ttbpf: --sort peak: %s has no figures at the peak (a report made "
				"with --aggregate, or by an older ttbpf); sort by live or allocated\n",
			path);
		dash_build__free(b);
		return -EINVAL;
	}
	if (!rc) {
		rank_roots(b);
		b->roots_final = true;
	}
	if (!rc && b->is_report && b->stacks_early && b->root_cnt)
		rc = json_stream__load(path, stacks_only, on_stack_again, b, err, sizeof(err));
	if (rc == -EDOM || (!rc && !b->is_report)) {
		fprintf(stderr, "ttbpf: %s is not a ttbpf report (format_version 1)\n", path);
		dash_build__free(b);
		return -EINVAL;
	}
	if (rc) {
		fprintf(stderr, "ttbpf: cannot read report %s: %s\n", path, err);
		dash_build__free(b);
		return rc < 0 ? rc : -EINVAL;
	}
	b->d.target = b->target;
	top_order(b->types.e, b->types.idx, b->types.cnt, sizeof(b->types.e[0]));
	top_order(b->cats.e, b->cats.idx, b->cats.cnt, sizeof(b->cats.e[0]));
	top_order(b->vars.e, b->vars.idx, b->vars.cnt, sizeof(b->vars.e[0]));
	b->d.types = b->types.e;
	b->d.type_cnt = b->types.cnt;
	b->d.types_more = b->types.more;
	b->d.categories = b->cats.e;
	b->d.category_cnt = b->cats.cnt;
	b->d.categories_more = b->cats.more;
	b->d.categories_more_bytes = b->cats.more_bytes;
	b->d.categories_more_count = b->cats.more_count;
	b->d.vars = b->vars.e;
	b->d.var_cnt = b->vars.cnt;
	b->d.vars_more = b->vars.more;
	if (!b->d.timeline)
		read_timeline(b, NULL);
	if (!b->d.heat && read_heat(b, NULL)) {
		dash_build__free(b);
		return -ENOMEM;
	}
	make_tree(b);
	rank_leaks(b);
	b->d.near_peak_ns = dash_build__near_peak_ns(b->d.timeline, b->d.timeline_cnt,
						     b->d.duration_ns, b->d.peak_bytes);
	*out = b;
	return 0;
}

const struct dash *dash_build__dash(const struct dash_build *b)
{
	return &b->d;
}

void dash_build__free(struct dash_build *b)
{
	size_t i;

	if (!b)
		return;
	free(b->points);
	free(b->heat);
	for (i = 0; i < b->types.cnt; i++)
		free((char *)b->types.e[i].name);
	for (i = 0; i < b->cats.cnt; i++)
		free((char *)b->cats.e[i].name);
	for (i = 0; i < b->vars.cnt; i++) {
		free((char *)b->vars.e[i].name);
		free((char *)b->vars.e[i].type_name);
	}
	for (i = 0; i < b->root_cnt; i++)
		root_free(&b->roots[i]);
	for (i = 0; i < b->leak_cnt; i++)
		leak_free(&b->leaks[i]);
	free(b);
}
