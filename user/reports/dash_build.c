// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dash_build.h"
#include "json_reader.h"

#define TREE_ROOTS 8   /* call sites shown */
#define TREE_KIDS 3    /* callers shown under each */
#define MAX_HEAT_COLS 256

struct dash_build {
	struct dash d;
	struct json_doc *doc; /* owns every string the dash points to */
	char target[512];
	struct dash_point *points;
	uint64_t *heat;
	struct dash_named *types, *cats;
	struct dash_site *sites;
	struct dash_var *vars;
};

/* Keys whose values the dashboard never needs: not built when reading. */
static const char *const skip_keys[] = { "active_allocations", "threads", "variables", NULL };

static uint64_t u64_at(const struct jnode *n, const char *key)
{
	return jnode__u64(jnode__get(n, key), 0);
}

static int read_named(const struct jnode *arr, const char *name_key, struct dash_named **out,
		      size_t *cnt)
{
	size_t n = jnode__len(arr), i;

	*cnt = 0;
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct jnode *e = jnode__at(arr, i);

		(*out)[i].name = jnode__str(jnode__get(e, name_key), "?");
		(*out)[i].bytes = u64_at(e, "total_size");
		(*out)[i].count = u64_at(e, "allocation_count");
	}
	*cnt = n;
	return 0;
}

static int read_timeline(struct dash_build *b, const struct jnode *root)
{
	const struct jnode *pts = jnode__path(root, "timeline", "points", NULL);
	size_t n = jnode__len(pts), i;

	b->points = calloc(n ? n : 1, sizeof(*b->points));
	if (!b->points)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct jnode *p = jnode__at(pts, i);

		b->points[i].t_ns = u64_at(p, "t_ns");
		b->points[i].live_bytes = u64_at(p, "live_bytes");
		b->points[i].live_cnt = u64_at(p, "live_count");
		b->points[i].allocs = u64_at(p, "allocations");
		b->points[i].frees = u64_at(p, "frees");
	}
	b->d.timeline = b->points;
	b->d.timeline_cnt = n;
	return 0;
}

static int read_heat(struct dash_build *b, const struct jnode *root)
{
	const struct jnode *rows = jnode__path(root, "heatmap", "rows", NULL), *hist;
	uint64_t cols = jnode__u64(jnode__path(root, "heatmap", "slices", NULL), 0);
	size_t r, c;

	if (cols > MAX_HEAT_COLS)
		cols = MAX_HEAT_COLS;
	if (jnode__len(rows) != DASH_SIZE_BUCKETS)
		cols = 0;
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

	hist = jnode__get(root, "size_histogram");
	for (r = 0; r < DASH_SIZE_BUCKETS && r < jnode__len(hist); r++)
		b->d.size_hist[r] = u64_at(jnode__at(hist, r), "allocations");
	return 0;
}

/* One row per variable group; its instances are summed in the report. */
static int read_vars(struct dash_build *b, const struct jnode *root)
{
	const struct jnode *arr = jnode__get(root, "variable_groups");
	size_t n = jnode__len(arr), i, k;

	b->vars = calloc(n ? n : 1, sizeof(*b->vars));
	if (!b->vars)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct jnode *g = jnode__at(arr, i), *slices = jnode__get(g, "alive_in_slice");
		struct dash_var *v = &b->vars[i];

		v->name = jnode__str(jnode__get(g, "name"), "?");
		v->type_name = jnode__str(jnode__get(g, "type_name"), "?");
		v->instances = u64_at(g, "instances");
		v->alive = u64_at(g, "alive");
		v->folded = u64_at(g, "folded");
		v->bytes_alive = u64_at(g, "bytes_alive");
		v->peak_bytes = u64_at(g, "peak_bytes");
		for (k = 0; k < DASH_VAR_SLICES && k < jnode__len(slices); k++) {
			uint64_t c = jnode__u64(jnode__at(slices, k), 0);

			v->alive_in_slice[k] = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
		}
	}
	b->d.vars = b->vars;
	b->d.var_cnt = n;
	b->d.vars_folded = jnode__u64(jnode__path(root, "variable_stats", "instances_folded", NULL), 0);
	return 0;
}

/* The frame of a stack that is its call site (first outside the allocator). */
static const struct jnode *site_frame(const struct jnode *stack)
{
	const struct jnode *frames = jnode__get(stack, "frames");
	uint64_t k = jnode__u64(jnode__get(stack, "call_site"), 0);

	return jnode__at(frames, (size_t)k);
}

static void set_site(struct dash_site *s, int parent, const struct jnode *frame, uint64_t bytes,
		     uint64_t count)
{
	s->parent = parent;
	s->function = jnode__str(jnode__get(frame, "symbol"), NULL);
	s->file = jnode__str(jnode__get(frame, "file"), NULL);
	s->line = (int)jnode__i64(jnode__get(frame, "line"), 0);
	s->bytes = bytes;
	s->count = count;
}

static bool same_fn(const struct jnode *a, const struct jnode *b)
{
	const char *x = jnode__str(jnode__get(a, "symbol"), NULL);
	const char *y = jnode__str(jnode__get(b, "symbol"), NULL);

	if (x && y)
		return !strcmp(x, y);
	return !strcmp(jnode__str(jnode__get(a, "ip"), ""), jnode__str(jnode__get(b, "ip"), ""));
}

/*
 * Call-site tree: the top call sites by bytes, each with its top callers, from
 * the per-stack figures (a caller is the frame above the call site).
 */
static int read_sites(struct dash_build *b, const struct jnode *root)
{
	const struct jnode *sites = jnode__get(root, "call_sites");
	const struct jnode *stacks = jnode__get(root, "stacks");
	size_t nroots = jnode__len(sites), nst = jnode__len(stacks), r, i, k, n = 0;

	if (nroots > TREE_ROOTS)
		nroots = TREE_ROOTS;
	b->sites = calloc(nroots * (1 + TREE_KIDS) + 1, sizeof(*b->sites));
	if (!b->sites)
		return -ENOMEM;
	for (r = 0; r < nroots; r++) {
		const struct jnode *site = jnode__at(sites, r);
		const struct jnode *rep = NULL;
		struct dash_site kid[TREE_KIDS + 1];
		const struct jnode *kid_frame[TREE_KIDS + 1];
		size_t nk = 0, root_idx = n;
		uint64_t rep_id = jnode__u64(jnode__get(site, "stack_id"), 0);

		/* the site as drawn: the call-site frame of its representative stack */
		for (i = 0; i < nst && !rep; i++)
			if (u64_at(jnode__at(stacks, i), "id") == rep_id)
				rep = jnode__at(stacks, i);
		set_site(&b->sites[n], -1, rep ? site_frame(rep) : site, u64_at(site, "bytes"),
			 u64_at(site, "allocations"));
		if (!rep) {
			b->sites[n].function = jnode__str(jnode__get(site, "function"), NULL);
			b->sites[n].file = jnode__str(jnode__get(site, "file"), NULL);
			b->sites[n].line = (int)jnode__i64(jnode__get(site, "line"), 0);
		}
		n++;
		if (!rep)
			continue;
		/* callers: the frame after the call site, summed over the site's stacks */
		memset(kid, 0, sizeof(kid));
		for (i = 0; i < nst; i++) {
			const struct jnode *st = jnode__at(stacks, i), *sf = site_frame(st), *caller;
			uint64_t ci = jnode__u64(jnode__get(st, "call_site"), 0);

			if (!sf || !same_fn(sf, site_frame(rep)) ||
			    jnode__u64(jnode__get(sf, "line"), 0) !=
				    jnode__u64(jnode__get(site_frame(rep), "line"), 0))
				continue;
			caller = jnode__at(jnode__get(st, "frames"), (size_t)ci + 1);
			if (!caller)
				continue;
			for (k = 0; k < nk && !same_fn(kid_frame[k], caller); k++)
				;
			if (k == nk) {
				if (nk == TREE_KIDS + 1)
					continue;
				kid_frame[nk] = caller;
				set_site(&kid[nk], (int)root_idx, caller, 0, 0);
				nk++;
			}
			kid[k].bytes += u64_at(st, "bytes");
			kid[k].count += u64_at(st, "allocations");
		}
		/* largest callers first */
		for (i = 0; i < nk; i++)
			for (k = i + 1; k < nk; k++)
				if (kid[k].bytes > kid[i].bytes) {
					struct dash_site t = kid[i];

					kid[i] = kid[k];
					kid[k] = t;
				}
		for (i = 0; i < nk && i < TREE_KIDS; i++)
			b->sites[n++] = kid[i];
	}
	b->d.sites = b->sites;
	b->d.site_cnt = n;
	return 0;
}

int dash_build__load(struct dash_build **out, const char *path)
{
	const struct jnode *root, *stats;
	struct dash_build *b;
	char err[256];
	int rc;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->doc = json_doc__load(path, skip_keys, err, sizeof(err));
	if (!b->doc) {
		fprintf(stderr, "ttbpf: cannot read report %s: %s\n", path, err);
		free(b);
		return -EINVAL;
	}
	root = json_doc__root(b->doc);
	if (jnode__type(root) != JOBJ || jnode__u64(jnode__get(root, "format_version"), 0) != 1) {
		fprintf(stderr, "ttbpf: %s is not a ttbpf report (format_version 1)\n", path);
		dash_build__free(b);
		return -EINVAL;
	}
	stats = jnode__get(root, "stats");
	snprintf(b->target, sizeof(b->target), "pid %lld (%s)",
		 (long long)jnode__i64(jnode__path(root, "target", "pid", NULL), 0),
		 jnode__str(jnode__path(root, "target", "command", NULL), "?"));
	b->d.target = b->target;
	b->d.duration_ns = u64_at(root, "duration_ns");
	b->d.active_allocs = u64_at(stats, "active_allocations");
	b->d.current_bytes = u64_at(stats, "active_memory");
	b->d.peak_bytes = u64_at(stats, "peak_memory");
	b->d.peak_ns = jnode__u64(jnode__get(stats, "peak_time"), 0);
	b->d.total_allocs = u64_at(stats, "total_allocations");
	b->d.total_allocated = u64_at(stats, "total_allocated");
	b->d.total_frees = u64_at(stats, "total_frees");
	b->d.lost_events = u64_at(stats, "lost_events");

	rc = read_timeline(b, root);
	if (!rc)
		rc = read_heat(b, root);
	if (!rc)
		rc = read_named(jnode__get(root, "memory_by_type"), "type_name", &b->types,
				&b->d.type_cnt);
	if (!rc)
		rc = read_named(jnode__get(root, "memory_by_category"), "category", &b->cats,
				&b->d.category_cnt);
	if (!rc)
		rc = read_sites(b, root);
	if (!rc)
		rc = read_vars(b, root);
	if (rc) {
		fprintf(stderr, "ttbpf: out of memory reading %s\n", path);
		dash_build__free(b);
		return rc;
	}
	b->d.types = b->types;
	b->d.categories = b->cats;
	*out = b;
	return 0;
}

const struct dash *dash_build__dash(const struct dash_build *b)
{
	return &b->d;
}

void dash_build__free(struct dash_build *b)
{
	if (!b)
		return;
	json_doc__free(b->doc);
	free(b->points);
	free(b->heat);
	free(b->types);
	free(b->cats);
	free(b->sites);
	free(b->vars);
	free(b);
}
