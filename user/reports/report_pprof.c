// SPDX-License-Identifier: Apache-2.0
/*
 * The profile is built as protobuf-c structs (profile.pb-c.h, generated from
 * third_party/pprof/profile.proto) and packed straight into a gzip stream:
 * no copy of the packed profile is held. Tables (strings, functions,
 * locations, mappings) grow as arrays of plain structs with indices into
 * them; the pointer arrays protobuf-c wants are made once at the end, when
 * nothing moves any more.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "callsites.h"
#include "heap.h"
#include "outfile.h"
#include "profile.pb-c.h"
#include "report_pprof.h"
#include "stacks.h"
#include "symbolize.h"
#include "text_clean.h"
#include "ttbpf.h"

typedef Perftools__Profiles__Profile pb_profile;
typedef Perftools__Profiles__ValueType pb_value_type;
typedef Perftools__Profiles__Sample pb_sample;
typedef Perftools__Profiles__Mapping pb_mapping;
typedef Perftools__Profiles__Location pb_location;
typedef Perftools__Profiles__Line pb_line;
typedef Perftools__Profiles__Function pb_function;

#define NO_TOTAL SIZE_MAX

/*
 * The values of each sample, in this order. A column is a figure of
 * struct stack_info, and the heap-wide figure (struct heap_stats) it adds up
 * to: what no stack holds (allocations made without one) goes to one more
 * sample, "[no stack]", so that a column's total is the heap's. Adding a
 * column is one line here. Consumers show the last column, or
 * DEFAULT_COLUMN, first (speedscope: the last one).
 */
static const struct column {
	const char *type, *unit;
	size_t stack_off;  /* uint64_t in struct stack_info */
	size_t total_off;  /* uint64_t in struct heap_stats, or NO_TOTAL */
	bool at_peak;      /* the peak breakdown: left out where there is none */
} columns[] = {
	{ "alloc_objects", "count", offsetof(struct stack_info, allocs),
	  offsetof(struct heap_stats, total_allocs) },
	{ "alloc_space", "bytes", offsetof(struct stack_info, bytes),
	  offsetof(struct heap_stats, total_alloc_bytes) },
	/* live at the moment of the peak (docs/semantics.md); before inuse,
	 * which stays last, the default */
	{ "peak_objects", "count", offsetof(struct stack_info, at_peak_cnt),
	  offsetof(struct heap_stats, peak_cnt), true },
	{ "peak_space", "bytes", offsetof(struct stack_info, at_peak_bytes),
	  offsetof(struct heap_stats, peak_bytes), true },
	{ "inuse_objects", "count", offsetof(struct stack_info, live_cnt),
	  offsetof(struct heap_stats, live_cnt) },
	{ "inuse_space", "bytes", offsetof(struct stack_info, live_bytes),
	  offsetof(struct heap_stats, live_bytes) },
};
#define NR_COLUMNS (sizeof(columns) / sizeof(columns[0]))
#define DEFAULT_COLUMN "inuse_space"

static uint64_t field(const void *base, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)base + off, sizeof(v));
	return v;
}

/* Frames standing for what a stack does not show, at its root end. */
enum marker { MARK_NO_STACK, MARK_PARTIAL, MARK_DEPTH, MARK_CNT };
static const char *const marker_names[MARK_CNT] = {
	"[no stack]", "[partial stack]", "[depth limit]",
};

/* Open addressing, u64 key → nonzero u32 value (0: empty slot). */
struct table {
	uint64_t *keys;
	uint32_t *vals;
	size_t mask, used;
};

struct loc {
	uint64_t ip;
	uint32_t mapping; /* id, 0: none */
	uint32_t first_line, nr_lines;
};

struct build {
	const struct model *m;
	int err;
	char **strs;
	size_t nr_strs, cap_strs;
	struct table str_idx;   /* hash of the text → index */
	pb_function *funcs;
	size_t nr_funcs, cap_funcs;
	struct table func_idx;  /* name index << 32 | file index → id */
	pb_mapping *maps;
	size_t nr_maps, cap_maps;
	struct table map_idx;   /* mapping start → id */
	struct loc *locs;
	size_t nr_locs, cap_locs;
	struct table loc_idx;   /* ip → id */
	pb_line *lines;
	size_t nr_lines, cap_lines;
	uint32_t marker_loc[MARK_CNT];
	char *scratch;          /* a string made valid UTF-8 */
	size_t cap_scratch;
	const struct column *cols[NR_COLUMNS]; /* the columns written, in order */
	size_t nr_cols;
};

/* Every column, but the peak's where the stacks have no breakdown
 * (--aggregate: a 0 there would be false). */
static void choose_columns(struct build *b)
{
	bool peak = !b->m->stacks || stacks__has_at_peak(b->m->stacks);
	size_t c;

	for (c = 0; c < NR_COLUMNS; c++)
		if (peak || !columns[c].at_peak)
			b->cols[b->nr_cols++] = &columns[c];
}

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*v, n * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = n;
	return 0;
}

static size_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k;
}

static int table_grow(struct table *t)
{
	size_t cap = t->mask ? (t->mask + 1) * 2 : 1024, i, j;
	uint64_t *keys = calloc(cap, sizeof(*keys));
	uint32_t *vals = calloc(cap, sizeof(*vals));

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (i = 0; t->mask && i <= t->mask; i++) {
		if (!t->vals[i])
			continue;
		for (j = mix(t->keys[i]) & (cap - 1); vals[j]; j = (j + 1) & (cap - 1))
			;
		keys[j] = t->keys[i];
		vals[j] = t->vals[i];
	}
	free(t->keys);
	free(t->vals);
	t->keys = keys;
	t->vals = vals;
	t->mask = cap - 1;
	return 0;
}

/*
 * The slot of key: one whose value same() accepts (NULL: any with key), or
 * the empty one where it goes (then *val == 0: the caller stores the value
 * and counts it in t->used). NULL when out of memory.
 */
static uint32_t *table_slot(struct table *t, uint64_t key,
			    bool (*same)(const struct build *, uint32_t, const void *),
			    const struct build *b, const void *probe)
{
	size_t i;

	if ((t->used + 1) * 2 > (t->mask ? t->mask + 1 : 0) && table_grow(t))
		return NULL;
	for (i = mix(key) & t->mask; t->vals[i]; i = (i + 1) & t->mask)
		if (t->keys[i] == key && (!same || same(b, t->vals[i], probe)))
			return &t->vals[i];
	t->keys[i] = key;
	return &t->vals[i];
}

static void table_free(struct table *t)
{
	free(t->keys);
	free(t->vals);
}

/*
 * Strings come from the target (names, paths, its command line): cleaned as
 * every text output cleans them (valid UTF-8, what proto3 strings must be,
 * without control characters, which pprof would print to a terminal as
 * they are). Cleaning never lengthens a string.
 */
static const char *clean(struct build *b, const char *s)
{
	size_t len = strlen(s);

	if (grow((void **)&b->scratch, &b->cap_scratch, len + 1, 1))
		return NULL;
	text_clean__copy(b->scratch, len, s);
	return b->scratch;
}

static bool same_str(const struct build *b, uint32_t idx, const void *probe)
{
	return !strcmp(b->strs[idx], probe);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The string table index of s (0: "", NULL, or out of memory: b->err). */
static int64_t str_of(struct build *b, const char *s)
{
	uint32_t *slot;
	char *copy;

	if (!s || !*s || b->err)
		return 0;
	s = clean(b, s);
	if (!s)
		goto oom;
	slot = table_slot(&b->str_idx, hash_str(s), same_str, b, s);
	if (!slot)
		goto oom;
	if (*slot)
		return *slot;
	copy = strdup(s);
	if (!copy || grow((void **)&b->strs, &b->cap_strs, b->nr_strs + 1, sizeof(*b->strs))) {
		free(copy);
		goto oom;
	}
	b->strs[b->nr_strs] = copy;
	*slot = (uint32_t)b->nr_strs++;
	b->str_idx.used++;
	return *slot;
oom:
	b->err = -ENOMEM;
	return 0;
}

static uint32_t function_of(struct build *b, const char *name, const char *file)
{
	int64_t n = str_of(b, name), f = str_of(b, file);
	uint32_t *slot = table_slot(&b->func_idx, (uint64_t)n << 32 | (uint64_t)f, NULL, b, NULL);
	pb_function *fn;

	if (!slot || grow((void **)&b->funcs, &b->cap_funcs, b->nr_funcs + 1, sizeof(*b->funcs))) {
		b->err = -ENOMEM;
		return 0;
	}
	if (*slot)
		return *slot;
	fn = &b->funcs[b->nr_funcs++];
	perftools__profiles__function__init(fn);
	fn->id = b->nr_funcs;
	fn->name = n;
	fn->system_name = n;
	fn->filename = f;
	*slot = (uint32_t)fn->id;
	b->func_idx.used++;
	return *slot;
}

static uint32_t mapping_of(struct build *b, uint64_t ip)
{
	struct sym_mapping sm;
	uint32_t *slot;
	pb_mapping *pm;
	char hex[2 * 64 + 1];
	size_t i;

	if (!b->m->sym || symbolizer__mapping(b->m->sym, ip, &sm))
		return 0;
	slot = table_slot(&b->map_idx, sm.start, NULL, b, NULL);
	if (!slot || grow((void **)&b->maps, &b->cap_maps, b->nr_maps + 1, sizeof(*b->maps))) {
		b->err = -ENOMEM;
		return 0;
	}
	if (*slot)
		return *slot;
	pm = &b->maps[b->nr_maps++];
	perftools__profiles__mapping__init(pm);
	pm->id = b->nr_maps;
	pm->memory_start = sm.start;
	pm->memory_limit = sm.end;
	pm->file_offset = sm.pgoff;
	pm->filename = str_of(b, sm.path);
	for (i = 0; i < sm.build_id_len && i < 64; i++)
		snprintf(hex + 2 * i, 3, "%02x", sm.build_id[i]);
	hex[2 * i] = '\0';
	pm->build_id = str_of(b, hex);
	*slot = (uint32_t)pm->id;
	b->map_idx.used++;
	return *slot;
}

static int add_line(struct build *b, uint32_t func, int64_t line)
{
	pb_line *l;

	if (b->err || grow((void **)&b->lines, &b->cap_lines, b->nr_lines + 1, sizeof(*b->lines)))
		return b->err = -ENOMEM;
	l = &b->lines[b->nr_lines++];
	perftools__profiles__line__init(l);
	l->function_id = func;
	l->line = line;
	return 0;
}

static uint32_t new_location(struct build *b, uint64_t ip, uint32_t mapping)
{
	struct loc *l;

	if (b->err || grow((void **)&b->locs, &b->cap_locs, b->nr_locs + 1, sizeof(*b->locs))) {
		b->err = -ENOMEM;
		return 0;
	}
	l = &b->locs[b->nr_locs++];
	l->ip = ip;
	l->mapping = mapping;
	l->first_line = (uint32_t)b->nr_lines;
	l->nr_lines = 0;
	return (uint32_t)b->nr_locs;
}

/* One location per address: its frames as lines, innermost first. */
static uint32_t location_of(struct build *b, uint64_t ip)
{
	struct sym_frame fr[SYM_MAX_CHAIN];
	uint32_t *slot, id, func;
	pb_mapping *pm;
	size_t nr = 0, j;

	slot = table_slot(&b->loc_idx, ip, NULL, b, NULL);
	if (!slot) {
		b->err = -ENOMEM;
		return 0;
	}
	if (*slot)
		return *slot;
	/* (only looking up ips moves loc_idx's slots) */
	id = new_location(b, ip, mapping_of(b, ip));
	if (!id)
		return 0;
	*slot = id;
	b->loc_idx.used++;
	if (b->m->sites)
		callsites__frames(b->m->sites, ip, fr, SYM_MAX_CHAIN, &nr);
	pm = b->locs[id - 1].mapping ? &b->maps[b->locs[id - 1].mapping - 1] : NULL;
	for (j = 0; j < nr && fr[j].symbol; j++) {
		func = function_of(b, fr[j].symbol, fr[j].file);
		if (add_line(b, func, fr[j].line))
			return 0;
		b->locs[id - 1].nr_lines++;
		if (pm) {
			pm->has_functions = true;
			pm->has_filenames |= fr[j].file != NULL;
			pm->has_line_numbers |= fr[j].line > 0;
			pm->has_inline_frames |= fr[j].inlined;
		}
	}
	return id;
}

static uint32_t marker_location(struct build *b, enum marker k)
{
	uint32_t id;

	if (b->marker_loc[k])
		return b->marker_loc[k];
	id = new_location(b, 0, 0);
	if (!id || add_line(b, function_of(b, marker_names[k], NULL), 0))
		return 0;
	b->locs[id - 1].nr_lines = 1;
	return b->marker_loc[k] = id;
}

static void build_free(struct build *b)
{
	size_t i;

	for (i = 0; i < b->nr_strs; i++)
		free(b->strs[i]);
	free(b->strs);
	free(b->funcs);
	free(b->maps);
	free(b->locs);
	free(b->lines);
	free(b->scratch);
	table_free(&b->str_idx);
	table_free(&b->func_idx);
	table_free(&b->map_idx);
	table_free(&b->loc_idx);
}

/* ---- gzip output -------------------------------------------------------- */

/*
 * protobuf-c appends field by field, a few bytes at a time: they are
 * gathered into in[] and deflated a buffer at a time, since a deflate()
 * call costs far more than a few bytes' worth of compression.
 */
struct gz_out {
	ProtobufCBuffer base; /* first: protobuf-c calls append with it */
	z_stream z;
	FILE *f;
	int err;
	size_t in_len;
	unsigned char in[1 << 16], out[1 << 16];
};

static void gz_run(struct gz_out *g, const uint8_t *data, size_t len, int flush)
{
	size_t n;
	int rc;

	g->z.next_in = (Bytef *)data;
	g->z.avail_in = (uInt)len;
	do {
		g->z.next_out = g->out;
		g->z.avail_out = sizeof(g->out);
		rc = deflate(&g->z, flush);
		if (rc == Z_STREAM_ERROR) {
			g->err = g->err ?: -EIO;
			return;
		}
		n = sizeof(g->out) - g->z.avail_out;
		if (n && fwrite(g->out, 1, n, g->f) != n)
			g->err = g->err ?: -EIO;
	} while (g->z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
}

static void gz_append(ProtobufCBuffer *buf, size_t len, const uint8_t *data)
{
	struct gz_out *g = (struct gz_out *)buf;
	size_t n;

	while (len && !g->err) {
		if (g->in_len == sizeof(g->in)) {
			gz_run(g, g->in, g->in_len, Z_NO_FLUSH);
			g->in_len = 0;
		}
		n = sizeof(g->in) - g->in_len;
		n = n < len ? n : len;
		memcpy(g->in + g->in_len, data, n);
		g->in_len += n;
		data += n;
		len -= n;
	}
}

/* windowBits 15 + 16: a gzip header and trailer, what pprof reads; level 1
 * (fastest) as Go's runtime/pprof writes its profiles */
static int gz_write(FILE *f, const pb_profile *p)
{
	struct gz_out *g = calloc(1, sizeof(*g));
	int err;

	if (!g)
		return -ENOMEM;
	g->base.append = gz_append;
	g->f = f;
	if (deflateInit2(&g->z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(g);
		return -ENOMEM;
	}
	perftools__profiles__profile__pack_to_buffer(p, &g->base);
	if (!g->err)
		gz_run(g, g->in, g->in_len, Z_FINISH);
	deflateEnd(&g->z);
	err = g->err ? g->err : ferror(f) ? -EIO : 0;
	free(g);
	return err;
}

/* ---- the profile -------------------------------------------------------- */

static int mapping_cmp(const void *a, const void *b)
{
	const pb_mapping *x = *(pb_mapping *const *)a, *y = *(pb_mapping *const *)b;

	return x->memory_start < y->memory_start ? -1 : x->memory_start > y->memory_start;
}

struct arrays { /* what the profile points into, freed after writing */
	pb_value_type types[NR_COLUMNS], period_type;
	pb_value_type *type_ptrs[NR_COLUMNS];
	pb_sample *samples, **sample_ptrs;
	uint64_t *loc_ids;
	int64_t *values, comments[8];
	pb_location *locs, **loc_ptrs;
	pb_line **line_ptrs;
	pb_function **func_ptrs;
	pb_mapping **map_ptrs;
};

static void arrays_free(struct arrays *a)
{
	free(a->samples);
	free(a->sample_ptrs);
	free(a->loc_ids);
	free(a->values);
	free(a->locs);
	free(a->loc_ptrs);
	free(a->line_ptrs);
	free(a->func_ptrs);
	free(a->map_ptrs);
}

static void comment(struct build *b, pb_profile *p, struct arrays *a, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void comment(struct build *b, pb_profile *p, struct arrays *a, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (p->n_comment >= sizeof(a->comments) / sizeof(a->comments[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	a->comments[p->n_comment++] = str_of(b, text);
}

static enum marker marker_of(uint32_t end)
{
	if (end == TT_STACK_END_CUT || end == TT_STACK_END_FAULT ||
	    end == TT_STACK_END_UNSUPPORTED || end == TT_STACK_END_NO_TABLE)
		return MARK_PARTIAL;
	return end == TT_STACK_END_DEPTH ? MARK_DEPTH : MARK_CNT;
}

/* One sample per stack with a figure, and one for what no stack holds. */
static int add_samples(struct build *b, struct arrays *a, size_t *nr_samples)
{
	const struct stacks *st = b->m->stacks;
	size_t n = st ? stacks__count(st) : 0, i, c, k, frames = 0, s = 0, ids = 0;
	const struct heap_stats *hs = heap__stats(b->m->heap);
	uint64_t sums[NR_COLUMNS] = { 0 }, rest[NR_COLUMNS];
	bool any_rest = false;

	for (i = 1; i <= n; i++)
		frames += stacks__get(st, (uint32_t)i)->nr + 1;
	a->samples = calloc(n + 1, sizeof(*a->samples));
	a->loc_ids = calloc(frames + 1, sizeof(*a->loc_ids));
	a->values = calloc((n + 1) * b->nr_cols, sizeof(*a->values));
	if (!a->samples || !a->loc_ids || !a->values)
		return -ENOMEM;
	for (i = 1; i <= n && !b->err; i++) {
		const struct stack_info *si = stacks__get(st, (uint32_t)i);
		pb_sample *sm = &a->samples[s];
		enum marker mk = si->nr ? marker_of(si->end) : MARK_NO_STACK;
		bool any = false;

		for (c = 0; c < b->nr_cols; c++) {
			uint64_t v = field(si, b->cols[c]->stack_off);

			a->values[s * b->nr_cols + c] = (int64_t)v;
			sums[c] += v;
			any |= v != 0;
		}
		if (!any)
			continue;
		perftools__profiles__sample__init(sm);
		sm->location_id = &a->loc_ids[ids];
		for (k = 0; k < si->nr; k++)
			a->loc_ids[ids++] = location_of(b, si->ips[k]);
		if (mk != MARK_CNT)
			a->loc_ids[ids++] = marker_location(b, mk);
		sm->n_location_id = (size_t)(&a->loc_ids[ids] - sm->location_id);
		sm->value = &a->values[s * b->nr_cols];
		sm->n_value = b->nr_cols;
		s++;
	}
	for (c = 0; c < b->nr_cols; c++) {
		uint64_t total = b->cols[c]->total_off == NO_TOTAL ? 0 : field(hs, b->cols[c]->total_off);

		rest[c] = total > sums[c] ? total - sums[c] : 0;
		any_rest |= rest[c] != 0;
	}
	if (any_rest && !b->err) {
		pb_sample *sm = &a->samples[s];

		perftools__profiles__sample__init(sm);
		sm->location_id = &a->loc_ids[ids];
		a->loc_ids[ids++] = marker_location(b, MARK_NO_STACK);
		sm->n_location_id = 1;
		sm->value = &a->values[s * b->nr_cols];
		sm->n_value = b->nr_cols;
		for (c = 0; c < b->nr_cols; c++)
			sm->value[c] = (int64_t)rest[c];
		s++;
	}
	*nr_samples = s;
	return b->err;
}

/* The pointer arrays protobuf-c wants, now that the tables are final. */
static int link_tables(struct build *b, pb_profile *p, struct arrays *a, size_t nr_samples)
{
	size_t i, j;

	a->sample_ptrs = calloc(nr_samples + 1, sizeof(*a->sample_ptrs));
	a->locs = calloc(b->nr_locs + 1, sizeof(*a->locs));
	a->loc_ptrs = calloc(b->nr_locs + 1, sizeof(*a->loc_ptrs));
	a->line_ptrs = calloc(b->nr_lines + 1, sizeof(*a->line_ptrs));
	a->func_ptrs = calloc(b->nr_funcs + 1, sizeof(*a->func_ptrs));
	a->map_ptrs = calloc(b->nr_maps + 1, sizeof(*a->map_ptrs));
	if (!a->sample_ptrs || !a->locs || !a->loc_ptrs || !a->line_ptrs || !a->func_ptrs ||
	    !a->map_ptrs)
		return -ENOMEM;
	for (i = 0; i < nr_samples; i++)
		a->sample_ptrs[i] = &a->samples[i];
	for (i = 0; i < b->nr_lines; i++)
		a->line_ptrs[i] = &b->lines[i];
	for (i = 0; i < b->nr_locs; i++) {
		pb_location *l = &a->locs[i];

		perftools__profiles__location__init(l);
		l->id = i + 1;
		l->mapping_id = b->locs[i].mapping;
		l->address = b->locs[i].ip;
		l->n_line = b->locs[i].nr_lines;
		l->line = l->n_line ? &a->line_ptrs[b->locs[i].first_line] : NULL;
		a->loc_ptrs[i] = l;
	}
	for (i = 0; i < b->nr_funcs; i++)
		a->func_ptrs[i] = &b->funcs[i];
	for (j = 0; j < b->nr_maps; j++)
		a->map_ptrs[j] = &b->maps[j];
	/* mapping[0] is taken for the main binary: the lowest is, mostly */
	qsort(a->map_ptrs, b->nr_maps, sizeof(*a->map_ptrs), mapping_cmp);
	p->sample = a->sample_ptrs;
	p->n_sample = nr_samples;
	p->location = a->loc_ptrs;
	p->n_location = b->nr_locs;
	p->function = a->func_ptrs;
	p->n_function = b->nr_funcs;
	p->mapping = a->map_ptrs;
	p->n_mapping = b->nr_maps;
	p->string_table = b->strs;
	p->n_string_table = b->nr_strs;
	return 0;
}

/*
 * default_sample_type is a string index (of the type's name), but some
 * readers take it for an index into sample_type (speedscope's pprof import,
 * which only falls back to the last type when it is out of range). Strings
 * are interned so that both readings give the default column: other names
 * first, until the default's name gets its column's number.
 */
static void intern_default_column(struct build *b)
{
	size_t c, d = 0;

	for (c = 0; c < b->nr_cols; c++)
		if (!strcmp(b->cols[c]->type, DEFAULT_COLUMN))
			d = c;
	for (c = 0; c < b->nr_cols && b->nr_strs < d; c++)
		str_of(b, b->cols[c]->unit);
	for (c = 0; c < b->nr_cols && b->nr_strs < d; c++)
		if (c != d)
			str_of(b, b->cols[c]->type);
	str_of(b, DEFAULT_COLUMN);
}

static void describe(struct build *b, pb_profile *p, struct arrays *a,
		     const struct report_meta *meta)
{
	size_t c;

	intern_default_column(b);
	for (c = 0; c < b->nr_cols; c++) {
		perftools__profiles__value_type__init(&a->types[c]);
		a->types[c].type = str_of(b, b->cols[c]->type);
		a->types[c].unit = str_of(b, b->cols[c]->unit);
		a->type_ptrs[c] = &a->types[c];
	}
	p->sample_type = a->type_ptrs;
	p->n_sample_type = b->nr_cols;
	p->default_sample_type = str_of(b, DEFAULT_COLUMN);
	/* every allocation is counted: one byte per byte, no sampling */
	perftools__profiles__value_type__init(&a->period_type);
	a->period_type.type = str_of(b, "space");
	a->period_type.unit = str_of(b, "bytes");
	p->period_type = &a->period_type;
	p->period = 1;
	p->time_nanos = (int64_t)meta->start_ns + meta->wall_minus_mono_ns;
	p->duration_nanos = meta->end_ns > meta->start_ns ? (int64_t)(meta->end_ns - meta->start_ns) : 0;
	p->comment = a->comments;
	comment(b, p, a, "ttbpf %s heap profile: every allocation, not sampled", TT_TOOL_VERSION);
	comment(b, p, a, "command: %s", meta->command ? meta->command : "?");
	if (meta->parent_pid)
		comment(b, p, a, "pid: %d (child of %d)", meta->pid, meta->parent_pid);
	else
		comment(b, p, a, "pid: %d", meta->pid);
	if (meta->allocator)
		comment(b, p, a, "allocator: %s", meta->allocator);
	if (b->m->stacks && stacks__dropped(b->m->stacks))
		comment(b, p, a, "allocations without a stack (stack table full): %llu, in [no stack]",
			(unsigned long long)stacks__dropped(b->m->stacks));
	if (meta->lost_events)
		comment(b, p, a, "lost events: %llu (figures are low)",
			(unsigned long long)meta->lost_events);
}

int report_pprof__emit(FILE *f, const struct model *m, const struct report_meta *meta)
{
	pb_profile p = PERFTOOLS__PROFILES__PROFILE__INIT;
	struct build b = { .m = m };
	struct arrays a = { 0 };
	size_t nr_samples = 0;
	int err;

	choose_columns(&b);
	/* string_table[0] must be "" */
	err = grow((void **)&b.strs, &b.cap_strs, 1, sizeof(*b.strs));
	if (!err && !(b.strs[0] = strdup("")))
		err = -ENOMEM;
	if (!err)
		b.nr_strs = 1;
	if (!err)
		describe(&b, &p, &a, meta);
	err = err ?: b.err ?: add_samples(&b, &a, &nr_samples);
	err = err ?: link_tables(&b, &p, &a, nr_samples);
	if (!err)
		err = gz_write(f, &p);
	arrays_free(&a);
	build_free(&b);
	return err;
}

struct pprof_ctx {
	const struct model *m;
	const struct report_meta *meta;
};

static int emit(FILE *f, void *ctx)
{
	struct pprof_ctx *c = ctx;

	return report_pprof__emit(f, c->m, c->meta);
}

int report_pprof__write(const char *path, const struct model *m, const struct report_meta *meta)
{
	struct pprof_ctx c = { m, meta };

	return outfile__write(path, emit, &c);
}
