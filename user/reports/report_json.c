// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "alloc_fns.h"
#include "callsites.h"
#include "heap.h"
#include "leaks.h"
#include "json_writer.h"
#include "outfile.h"
#include "report_json.h"
#include "unwinder.h"
#include "stacks.h"
#include "mapped.h"
#include "timeline.h"
#include "vars.h"

static void iso8601(char *buf, size_t len, int64_t wall_ns)
{
	time_t s = (time_t)(wall_ns / 1000000000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall_ns / 1000000 % 1000));
}

/* Record times are written relative to the start of tracing. */
static int64_t rel_ns(const struct report_meta *m, uint64_t ts_ns)
{
	return (int64_t)(ts_ns - m->start_ns);
}

/* A time since the start, or null for 0 (never happened). */
static void write_time_field(struct json_writer *w, const char *name, const struct report_meta *m,
			     uint64_t ts_ns)
{
	if (ts_ns)
		jsonw_i64_field(w, name, rel_ns(m, ts_ns));
	else
		jsonw_null_field(w, name);
}

static int cmp_block(const void *a, const void *b)
{
	const struct heap_block *x = *(const struct heap_block *const *)a;
	const struct heap_block *y = *(const struct heap_block *const *)b;

	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	return (x->ptr > y->ptr) - (x->ptr < y->ptr);
}

/* Number formatting for the million-line loop below: snprintf per field
 * costs more than the rest of the report. */
static char *put_dec(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

/* One active allocation without a variable: numbers only, so written as is. */
static void write_plain_block(struct json_writer *w, const struct heap_block *b,
			      const struct report_meta *m, bool stacks)
{
	static const char hex[] = "0123456789abcdef";
	char line[192], *p = line, digits[16];
	int64_t t = rel_ns(m, b->ts_ns);
	uint64_t v = b->ptr;
	int n = 0;

	p = put_str(p, "{\"ptr\":\"0x");
	do
		digits[n++] = hex[v & 15];
	while (v >>= 4);
	while (n)
		*p++ = digits[--n];
	p = put_str(p, "\",\"size\":");
	p = put_dec(p, b->size);
	p = put_str(p, ",\"timestamp_alloc\":");
	if (t < 0) {
		*p++ = '-';
		t = -t;
	}
	p = put_dec(p, (uint64_t)t);
	p = put_str(p, ",\"thread_id\":");
	p = put_dec(p, b->tid);
	if (stacks && b->aux) {
		p = put_str(p, ",\"stack_id\":");
		p = put_dec(p, b->aux);
	}
	*p++ = '}';
	*p = '\0';
	jsonw_raw(w, line);
}

static int write_active(struct json_writer *w, const struct model *mo, const struct report_meta *m)
{
	struct heap *h = mo->heap;
	const struct heap_stats *st = heap__stats(h);
	const struct heap_block **v, *b;
	struct var var;
	size_t n = 0, it = 0, i;

	/* oldest first, so the output does not depend on the table's layout */
	v = malloc((st->live_cnt ? st->live_cnt : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	while ((b = heap__next(h, &it)) && n < st->live_cnt)
		v[n++] = b;
	qsort(v, n, sizeof(*v), cmp_block);

	jsonw_name(w, "active_allocations");
	jsonw_start_array(w);
	/* a million blocks: one line each */
	jsonw_flat_items(w, true);
	for (i = 0; i < n; i++) {
		if (!mo->vars || !vars__of_block(mo->vars, v[i]->ptr, &var)) {
			write_plain_block(w, v[i], m, mo->stacks != NULL);
			continue;
		}
		jsonw_start_object(w);
		jsonw_hex_field(w, "ptr", v[i]->ptr);
		jsonw_u64_field(w, "size", v[i]->size);
		jsonw_i64_field(w, "timestamp_alloc", rel_ns(m, v[i]->ts_ns));
		jsonw_u64_field(w, "thread_id", v[i]->tid);
		if (mo->stacks && v[i]->aux)
			jsonw_u64_field(w, "stack_id", v[i]->aux);
		jsonw_string_field(w, "var_name", var.group->name);
		jsonw_string_field(w, "type_name", var.group->type_name);
		jsonw_u64_field(w, "var_group", var.group_id);
		jsonw_end_object(w);
	}
	jsonw_flat_items(w, false);
	jsonw_end_array(w);
	free(v);
	return 0;
}

static const char *const unwind_status_names[] = {
	[UNWINDER_TABLE] = "table", [UNWINDER_NO_CFI] = "no-cfi",
	[UNWINDER_NO_ROOM] = "no-room", [UNWINDER_UNREADABLE] = "unreadable",
};

/* stats.unwind: how stacks were walked, and the tables per file. */
static void write_unwind(struct json_writer *w, const struct report_meta *m)
{
	const struct unwinder *u = m->unwinder;
	struct unwinder_totals t;
	size_t i;

	jsonw_name(w, "unwind");
	jsonw_start_object(w);
	jsonw_string_field(w, "mode", u ? "dwarf" : m->stacks_off ? "off" : "fp");
	if (!u) {
		jsonw_end_object(w);
		return;
	}
	unwinder__totals(u, &t);
	jsonw_u64_field(w, "stacks_walked", m->unw_stacks);
	jsonw_u64_field(w, "frames_from_tables", m->unw_frames_cfi);
	jsonw_u64_field(w, "frames_by_frame_pointer", m->unw_frames_fp);
	jsonw_u64_field(w, "mapping_lookups_refused", m->unw_vma_busy);
	jsonw_u64_field(w, "tables_asked_by_stacks", t.misses);
	jsonw_u64_field(w, "holds", t.holds);
	jsonw_u64_field(w, "rows", t.rows);
	jsonw_u64_field(w, "rows_capacity", t.rows_cap);
	jsonw_u64_field(w, "files_no_room", t.files_no_room);
	jsonw_u64_field(w, "rows_no_room", t.rows_no_room);
	jsonw_u64_field(w, "table_bytes", t.bytes);
	jsonw_u64_field(w, "build_ns", t.build_ns);
	jsonw_name(w, "files");
	jsonw_start_array(w);
	for (i = 0; i < t.modules; i++) {
		const struct unwinder_module *f = unwinder__module(u, i);

		jsonw_start_object(w);
		jsonw_string_field(w, "path", f->path);
		jsonw_string_field(w, "table", unwind_status_names[f->status]);
		if (f->status != UNWINDER_TABLE)
			jsonw_string_field(w, "error", strerror(-f->err));
		jsonw_u64_field(w, "rows", f->rows);
		jsonw_u64_field(w, "bytes", f->bytes);
		jsonw_u64_field(w, "fdes", f->fdes);
		jsonw_u64_field(w, "rows_unsupported", f->rows_unsupported);
		jsonw_bool_field(w, "truncated", f->truncated);
		jsonw_u64_field(w, "build_ns", f->build_ns);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	jsonw_end_object(w);
}

static void write_mapped_figures(struct json_writer *w, const char *name,
				 const struct mapped_figures *f)
{
	size_t i;

	jsonw_name(w, name);
	jsonw_start_object(w);
	for (i = 0; i < MAPPED_FIELD_CNT; i++)
		jsonw_u64_field(w, mapped_fields[i].name, mapped_figure__get(f, &mapped_fields[i]));
	jsonw_end_object(w);
}

/* Memory beside the heap (anonymous mmap, brk): null when not counted. */
static void write_mapped(struct json_writer *w, const struct mapped *mp, const struct report_meta *m)
{
	const struct mapped_stats *ms;

	if (!mp || !m->sysmem || m->aggregate) {
		jsonw_null_field(w, "mapped");
		return;
	}
	ms = mapped__stats(mp);
	jsonw_name(w, "mapped");
	jsonw_start_object(w);
	write_mapped_figures(w, "program", &ms->by[MAPPED_PROGRAM]);
	write_mapped_figures(w, "allocator", &ms->by[MAPPED_ALLOCATOR]);
	jsonw_u64_field(w, "unknown_munmap_calls", ms->unknown_munmap_calls);
	jsonw_u64_field(w, "unknown_brk_shrunk_bytes", ms->unknown_brk_shrunk_bytes);
	jsonw_u64_field(w, "ranges_not_followed", ms->ranges_dropped);
	jsonw_u64_field(w, "records", ms->records);
	jsonw_u64_field(w, "records_lost", m->sysmem_lost);
	jsonw_end_object(w);
}

static void write_stats(struct json_writer *w, const struct heap_stats *st,
			const struct mapped *mp, const struct report_meta *m)
{
	int i;

	jsonw_name(w, "stats");
	jsonw_start_object(w);
	jsonw_u64_field(w, "total_allocations", st->total_allocs);
	jsonw_u64_field(w, "total_allocated", st->total_alloc_bytes);
	jsonw_u64_field(w, "active_allocations", st->live_cnt);
	jsonw_u64_field(w, "active_memory", st->live_bytes);
	jsonw_u64_field(w, "peak_memory", st->peak_bytes);
	jsonw_u64_field(w, "peak_allocations", st->peak_cnt);
	write_time_field(w, "peak_time", m, st->peak_ns);
	jsonw_u64_field(w, "total_frees", st->total_frees);
	jsonw_u64_field(w, "total_freed", st->total_freed_bytes);
	/* aggregate mode sees no frees one by one: unknown, not 0 */
	if (m->aggregate) {
		jsonw_null_field(w, "temporary_allocations");
		jsonw_null_field(w, "temporary_allocated");
	} else {
		jsonw_u64_field(w, "temporary_allocations", st->temp_allocs);
		jsonw_u64_field(w, "temporary_allocated", st->temp_bytes);
	}
	jsonw_u64_field(w, "temporary_window_ns", HEAP_TEMP_WINDOW_NS);
	jsonw_u64_field(w, "failed_allocations", st->failed_allocs);
	jsonw_u64_field(w, "unknown_frees", st->unknown_frees);
	jsonw_u64_field(w, "allocator_internal_frees", st->internal_frees);
	jsonw_u64_field(w, "reallocs_in_place", st->reallocs_in_place);
	jsonw_u64_field(w, "reallocs_moved", st->reallocs_moved);
	jsonw_u64_field(w, "duplicate_allocations", st->dup_allocs);
	jsonw_u64_field(w, "released_by_exec", st->exec_released);
	jsonw_u64_field(w, "lost_events", m->lost_events);
	jsonw_u64_field(w, "inflight_dropped", m->inflight_dropped);
	jsonw_u64_field(w, "calls_not_followed", m->calls_not_followed);
	jsonw_u64_field(w, "bad_records", m->bad_records);
	jsonw_u64_field(w, "records", m->records);
	jsonw_u64_field(w, "unreadable_marker_strings", m->unreadable_strings);
	jsonw_u64_field(w, "record_delay_max_ns", m->max_delay_ns);
	jsonw_u64_field(w, "record_delay_mean_ns", m->mean_delay_ns);
	jsonw_bool_field(w, "aggregate_only", m->aggregate);
	if (m->aggregate) {
		jsonw_u64_field(w, "aggregate_blocks_not_followed", m->agg_blocks_full);
		jsonw_u64_field(w, "aggregate_stacks_not_kept", m->agg_stacks_full);
		jsonw_u64_field(w, "aggregate_stack_collisions", m->agg_collisions);
	}
	write_unwind(w, m);
	write_mapped(w, mp, m);
	jsonw_name(w, "allocations_by_function");
	jsonw_start_object(w);
	for (i = 0; i < TT_FN_CNT; i++)
		jsonw_u64_field(w, tt_fn_name(i), st->fn_allocs[i]);
	jsonw_end_object(w);
	jsonw_end_object(w);
}

static void write_threads(struct json_writer *w, struct heap *h)
{
	const struct heap_thread *t;
	size_t cnt, i;

	t = heap__threads(h, &cnt);
	jsonw_name(w, "threads");
	jsonw_start_array(w);
	for (i = 0; i < cnt; i++) {
		jsonw_start_object(w);
		jsonw_u64_field(w, "thread_id", t[i].tid);
		jsonw_u64_field(w, "allocations", t[i].allocs);
		jsonw_u64_field(w, "allocated", t[i].alloc_bytes);
		jsonw_u64_field(w, "frees", t[i].frees);
		jsonw_u64_field(w, "freed", t[i].freed_bytes);
		jsonw_u64_field(w, "failed_allocations", t[i].failed);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
}

static int write_totals(struct json_writer *w, const struct vars *vars, bool by_category)
{
	struct var_total *g = NULL;
	size_t n = 0, i;
	int err;

	jsonw_name(w, by_category ? "memory_by_category" : "memory_by_type");
	jsonw_start_array(w);
	err = vars ? vars__totals(vars, by_category, &g, &n) : 0;
	for (i = 0; i < n; i++) {
		jsonw_start_object(w);
		jsonw_string_field(w, by_category ? "category" : "type_name", g[i].name);
		jsonw_u64_field(w, "total_size", g[i].bytes);
		jsonw_u64_field(w, "allocation_count", g[i].count);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	free(g);
	return err;
}

/* What a group's markers share: each instance carries it too (format 1). */
static void write_var_site(struct json_writer *w, const struct var_group *g)
{
	jsonw_string_field(w, "name", g->name);
	jsonw_string_field(w, "type_name", g->type_name);
	jsonw_string_field(w, "category", g->category);
	jsonw_string_field(w, "file", g->file);
	jsonw_i64_field(w, "line", g->line);
	jsonw_string_field(w, "function", g->function);
}

static void write_variables(struct json_writer *w, const struct vars *vars,
			    const struct report_meta *m)
{
	size_t i, n = vars ? vars__count(vars) : 0;
	struct var x;

	jsonw_name(w, "variables");
	jsonw_start_array(w);
	/* up to a million instances: one line each */
	jsonw_flat_items(w, true);
	for (i = 0; i < n && vars__get(vars, i, &x); i++) {
		const struct var_group *g = x.group;

		jsonw_start_object(w);
		jsonw_u64_field(w, "group", x.group_id);
		write_var_site(w, g);
		jsonw_hex_field(w, "ptr", x.ptr);
		jsonw_u64_field(w, "size", x.size);
		jsonw_u64_field(w, "thread_id", x.tid);
		jsonw_i64_field(w, "created_ns", rel_ns(m, x.created_ns));
		write_time_field(w, "freed_ns", m, x.freed_ns);
		jsonw_bool_field(w, "heap", x.heap);
		if (x.block)
			jsonw_hex_field(w, "block", x.block);
		jsonw_end_object(w);
	}
	jsonw_flat_items(w, false);
	jsonw_end_array(w);
}

static int write_variable_groups(struct json_writer *w, const struct vars *vars,
				 const struct report_meta *m)
{
	size_t i, n = vars ? vars__group_count(vars) : 0, k;
	uint32_t *slices = NULL;
	int err;

	err = n ? vars__alive_by_slice(vars, m->start_ns, m->end_ns, DASH_VAR_SLICES, &slices) : 0;
	if (err)
		return err;
	jsonw_name(w, "variable_groups");
	jsonw_start_array(w);
	for (i = 0; i < n; i++) {
		const struct var_group *g = vars__group(vars, i);

		jsonw_start_object(w);
		jsonw_u64_field(w, "id", i);
		write_var_site(w, g);
		jsonw_u64_field(w, "instances", g->instances);
		jsonw_u64_field(w, "alive", g->alive);
		jsonw_u64_field(w, "non_heap", g->non_heap);
		jsonw_u64_field(w, "folded", g->folded);
		jsonw_u64_field(w, "bytes_alive", g->bytes_alive);
		jsonw_u64_field(w, "peak_bytes", g->peak_bytes);
		jsonw_u64_field(w, "peak_alive", g->peak_alive);
		write_time_field(w, "peak_time", m, g->peak_ns);
		jsonw_i64_field(w, "first_ns", rel_ns(m, g->first_ns));
		jsonw_name(w, "alive_in_slice");
		jsonw_start_array(w);
		jsonw_flat_items(w, true);
		for (k = 0; k < DASH_VAR_SLICES; k++)
			jsonw_u64(w, slices[i * DASH_VAR_SLICES + k]);
		jsonw_flat_items(w, false);
		jsonw_end_array(w);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	free(slices);
	return 0;
}

static void write_variable_stats(struct json_writer *w, const struct vars *vars)
{
	jsonw_name(w, "variable_stats");
	jsonw_start_object(w);
	jsonw_u64_field(w, "instances_listed", vars ? vars__count(vars) : 0);
	jsonw_u64_field(w, "instances_folded", vars ? vars__folded(vars) : 0);
	jsonw_u64_field(w, "max_listed", vars ? vars__max_instances(vars) : 0);
	jsonw_u64_field(w, "markers_dropped", vars ? vars__dropped(vars) : 0);
	jsonw_u64_field(w, "groups", vars ? vars__group_count(vars) : 0);
	jsonw_u64_field(w, "container_moves", vars ? vars__container_moves(vars) : 0);
	jsonw_u64_field(w, "memory_bytes", vars ? vars__bytes(vars) : 0);
	jsonw_u64_field(w, "slices", DASH_VAR_SLICES);
	jsonw_end_object(w);
}

#define HEAT_COLS 32

/* The upper bound of size bucket k; null for the last, unbounded one. */
static void write_max_size(struct json_writer *w, unsigned int k)
{
	if (k < DASH_SIZE_BUCKETS - 1)
		jsonw_u64_field(w, "max_size", 16ULL << k);
	else
		jsonw_null_field(w, "max_size");
}

static void write_time_series(struct json_writer *w, struct timeline *t, const struct report_meta *m)
{
	uint64_t heat[DASH_SIZE_BUCKETS * HEAT_COLS], interval, dur = m->end_ns - m->start_ns;
	const struct timeline_point *p;
	const uint64_t *hist, *hist_bytes;
	uint64_t rss = 0, rss_samples, rss_peak, rss_last;
	bool rss_seen = false;
	size_t cnt, i;
	unsigned int k, c;

	if (!t)
		return;
	interval = timeline__interval_ns(t);
	p = timeline__points(t, &cnt);
	jsonw_name(w, "timeline");
	jsonw_start_object(w);
	jsonw_u64_field(w, "interval_ns", interval);
	timeline__rss(t, &rss_samples, &rss_peak, &rss_last);
	jsonw_u64_field(w, "rss_samples", rss_samples);
	if (rss_samples) {
		jsonw_u64_field(w, "peak_rss_bytes", rss_peak);
		jsonw_u64_field(w, "last_rss_bytes", rss_last);
	} else {
		jsonw_null_field(w, "peak_rss_bytes");
		jsonw_null_field(w, "last_rss_bytes");
	}
	jsonw_name(w, "points");
	jsonw_start_array(w);
	for (i = 0; i < cnt; i++) {
		if (p[i].rss_used)
			rss = p[i].rss_bytes, rss_seen = true;
		jsonw_start_object(w);
		jsonw_u64_field(w, "t_ns", (i + 1) * interval);
		jsonw_u64_field(w, "live_bytes", p[i].live_bytes);
		jsonw_u64_field(w, "live_count", p[i].live_cnt);
		jsonw_u64_field(w, "max_live_bytes", p[i].max_live_bytes);
		jsonw_u64_field(w, "allocations", p[i].allocs);
		jsonw_u64_field(w, "allocated", p[i].alloc_bytes);
		jsonw_u64_field(w, "frees", p[i].frees);
		/* the last sample up to the interval's end; null before the first */
		if (rss_seen)
			jsonw_u64_field(w, "rss_bytes", rss);
		else
			jsonw_null_field(w, "rss_bytes");
		if (p[i].rss_used)
			jsonw_u64_field(w, "max_rss_bytes", p[i].max_rss_bytes);
		else
			jsonw_null_field(w, "max_rss_bytes");
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	jsonw_end_object(w);

	timeline__heat(t, dur, HEAT_COLS, heat);
	jsonw_name(w, "heatmap");
	jsonw_start_object(w);
	jsonw_u64_field(w, "slices", HEAT_COLS);
	jsonw_u64_field(w, "slice_ns", dur / HEAT_COLS);
	jsonw_name(w, "rows");
	jsonw_start_array(w);
	for (k = 0; k < DASH_SIZE_BUCKETS; k++) {
		jsonw_start_object(w);
		write_max_size(w, k);
		jsonw_name(w, "counts");
		jsonw_start_array(w);
		for (c = 0; c < HEAT_COLS; c++)
			jsonw_u64(w, heat[k * HEAT_COLS + c]);
		jsonw_end_array(w);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	jsonw_end_object(w);

	hist = timeline__size_hist(t);
	hist_bytes = timeline__size_hist_bytes(t);
	jsonw_name(w, "size_histogram");
	jsonw_start_array(w);
	for (k = 0; k < DASH_SIZE_BUCKETS; k++) {
		jsonw_start_object(w);
		write_max_size(w, k);
		jsonw_u64_field(w, "allocations", hist[k]);
		jsonw_u64_field(w, "bytes", hist_bytes[k]);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
}

static const char *const stack_end_names[] = {
	[TT_STACK_END_ROOT] = "root", [TT_STACK_END_CUT] = "cut",
	[TT_STACK_END_DEPTH] = "depth", [TT_STACK_END_FAULT] = "fault",
	[TT_STACK_END_OFF] = "off", [TT_STACK_END_UNSUPPORTED] = "unsupported",
	[TT_STACK_END_NO_TABLE] = "no-table",
};

const char *report_json__stack_end_name(uint32_t end)
{
	return end < TT_STACK_END_CNT && stack_end_names[end] ? stack_end_names[end] : "?";
}

static void write_frame(struct json_writer *w, const struct sym_frame *f)
{
	jsonw_start_object(w);
	jsonw_hex_field(w, "ip", f->ip);
	jsonw_string_field(w, "symbol", f->symbol);
	jsonw_u64_field(w, "offset", f->symbol ? f->sym_offset : f->module_offset);
	jsonw_string_field(w, "module", f->module);
	jsonw_string_field(w, "file", f->file);
	jsonw_i64_field(w, "line", f->line);
	/* only where true: reports without inlining read as before */
	if (f->inlined)
		jsonw_bool_field(w, "inlined", true);
	jsonw_end_object(w);
}

/*
 * Each return address is written as its source-level frames, inlined ones
 * first (see callsites__frames): call_site is the index of the call site's
 * frame in that list, its innermost one.
 */
static void write_stacks(struct json_writer *w, const struct model *mo)
{
	size_t n = stacks__count(mo->stacks), i, k, j, nr;
	struct sym_frame f[SYM_MAX_CHAIN];

	jsonw_name(w, "stacks");
	jsonw_start_array(w);
	for (i = 1; i <= n; i++) {
		const struct stack_info *st = stacks__get(mo->stacks, (uint32_t)i);
		uint32_t site = 0;
		const struct callsite *c = callsites__of_stack(mo->sites, (uint32_t)i, &site);

		jsonw_start_object(w);
		jsonw_u64_field(w, "id", st->id);
		jsonw_string_field(w, "end", report_json__stack_end_name(st->end));
		jsonw_u64_field(w, "call_site", site);
		if (c)
			jsonw_u64_field(w, "site_index", (uint64_t)callsites__index(mo->sites, c));
		else
			jsonw_null_field(w, "site_index");
		jsonw_u64_field(w, "allocations", st->allocs);
		jsonw_u64_field(w, "bytes", st->bytes);
		jsonw_u64_field(w, "live_count", st->live_cnt);
		jsonw_u64_field(w, "live_bytes", st->live_bytes);
		jsonw_u64_field(w, "peak_live_bytes", st->peak_live_bytes);
		/* the kernel's figures (--aggregate) have no peak breakdown:
		 * null, not a 0 that would read as "nothing at the peak" */
		if (stacks__has_at_peak(mo->stacks)) {
			jsonw_u64_field(w, "at_peak_blocks", st->at_peak_cnt);
			jsonw_u64_field(w, "at_peak_bytes", st->at_peak_bytes);
		} else {
			jsonw_null_field(w, "at_peak_blocks");
			jsonw_null_field(w, "at_peak_bytes");
		}
		jsonw_name(w, "frames");
		jsonw_start_array(w);
		for (k = 0; k < st->nr; k++) {
			callsites__frames(mo->sites, st->ips[k], f, SYM_MAX_CHAIN, &nr);
			for (j = 0; j < nr; j++)
				write_frame(w, &f[j]);
		}
		jsonw_end_array(w);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	jsonw_u64_field(w, "stacks_dropped", stacks__dropped(mo->stacks));
}

/* A site's name for people (sym_frame__label): long C++ names are whole. */
#define LABEL_BYTES 4096

static void write_call_sites(struct json_writer *w, const struct model *mo)
{
	size_t n = callsites__count(mo->sites), i;
	char label[LABEL_BYTES];

	jsonw_name(w, "call_sites");
	jsonw_start_array(w);
	for (i = 0; i < n; i++) {
		const struct callsite *c = callsites__get(mo->sites, i);

		jsonw_start_object(w);
		jsonw_u64_field(w, "stack_id", c->rep_stack);
		jsonw_u64_field(w, "site_frame", c->site_frame);
		jsonw_hex_field(w, "ip", c->ip);
		jsonw_string_field(w, "function", c->frame.symbol);
		jsonw_string_field(w, "name", sym_frame__label(&c->frame, label, sizeof(label)));
		jsonw_string_field(w, "file", c->frame.file);
		jsonw_i64_field(w, "line", c->frame.line);
		jsonw_string_field(w, "module", c->frame.module);
		jsonw_u64_field(w, "stacks", c->stack_cnt);
		jsonw_u64_field(w, "addresses", c->addr_cnt);
		jsonw_u64_field(w, "allocations", c->allocs);
		jsonw_u64_field(w, "bytes", c->bytes);
		jsonw_u64_field(w, "live_count", c->live_cnt);
		jsonw_u64_field(w, "live_bytes", c->live_bytes);
		if (stacks__has_at_peak(mo->stacks)) {
			jsonw_u64_field(w, "at_peak_blocks", c->at_peak_cnt);
			jsonw_u64_field(w, "at_peak_bytes", c->at_peak_bytes);
		} else {
			jsonw_null_field(w, "at_peak_blocks");
			jsonw_null_field(w, "at_peak_bytes");
		}
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
}

static int write_leaks(struct json_writer *w, const struct model *mo, const struct report_meta *m)
{
	char label[LABEL_BYTES];
	struct leak *l;
	size_t n, i;
	int err;

	err = leaks__build(mo, &l, &n);
	if (err)
		return err;
	jsonw_name(w, "leaks");
	jsonw_start_array(w);
	for (i = 0; i < n; i++) {
		uint32_t fi = 0;
		const struct callsite *c = callsites__of_stack(mo->sites, l[i].stack_id, &fi);

		jsonw_start_object(w);
		if (l[i].stack_id)
			jsonw_u64_field(w, "stack_id", l[i].stack_id);
		else
			jsonw_null_field(w, "stack_id");
		if (c) {
			jsonw_u64_field(w, "call_site", (uint64_t)callsites__index(mo->sites, c));
			jsonw_u64_field(w, "site_frame", fi);
			jsonw_string_field(w, "name", sym_frame__label(&c->frame, label, sizeof(label)));
		} else {
			jsonw_null_field(w, "call_site");
			jsonw_null_field(w, "site_frame");
			jsonw_null_field(w, "name");
		}
		jsonw_string_field(w, "function", c ? c->frame.symbol : NULL);
		jsonw_string_field(w, "file", c ? c->frame.file : NULL);
		jsonw_i64_field(w, "line", c ? c->frame.line : 0);
		jsonw_u64_field(w, "live_count", l[i].live_cnt);
		jsonw_u64_field(w, "live_bytes", l[i].live_bytes);
		jsonw_i64_field(w, "oldest_age_ns", (int64_t)(m->end_ns - l[i].oldest_ns));
		jsonw_i64_field(w, "newest_age_ns", (int64_t)(m->end_ns - l[i].newest_ns));
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	free(l);
	return 0;
}

static void write_pid_or_null(struct json_writer *w, const char *name, int pid)
{
	if (pid > 0)
		jsonw_i64_field(w, name, pid);
	else
		jsonw_null_field(w, name);
}

static void write_exit_code(struct json_writer *w, int exit_code)
{
	if (exit_code >= 0)
		jsonw_i64_field(w, "exit_code", exit_code);
	else
		jsonw_null_field(w, "exit_code");
}

/* The children followed with -f, in the order they were followed. */
static void write_processes(struct json_writer *w, const struct report_meta *m)
{
	size_t i;

	jsonw_name(w, "processes");
	jsonw_start_array(w);
	for (i = 0; m->children && i < m->child_cnt; i++) {
		const struct report_proc *p = &m->children[i];

		jsonw_start_object(w);
		jsonw_i64_field(w, "pid", p->pid);
		write_pid_or_null(w, "parent_pid", p->parent_pid);
		jsonw_string_field(w, "command", p->command);
		write_exit_code(w, p->exit_code);
		jsonw_bool_field(w, "traced", !p->untraced);
		if (p->untraced)
			jsonw_string_field(w, "untraced_reason", p->untraced_why);
		if (p->never_traced) {
			/* nothing of it was seen: no figure, not zeros */
			jsonw_null_field(w, "total_allocations");
			jsonw_null_field(w, "total_allocated");
			jsonw_null_field(w, "live_blocks");
			jsonw_null_field(w, "live_bytes");
			jsonw_null_field(w, "peak_bytes");
		} else {
			jsonw_u64_field(w, "total_allocations", p->total_allocs);
			jsonw_u64_field(w, "total_allocated", p->total_alloc_bytes);
			jsonw_u64_field(w, "live_blocks", p->live_cnt);
			jsonw_u64_field(w, "live_bytes", p->live_bytes);
			jsonw_u64_field(w, "peak_bytes", p->peak_bytes);
		}
		jsonw_string_field(w, "report", p->report);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
}

int report_json__emit(FILE *f, const struct model *mo, const struct report_meta *m)
{
	struct heap *h = mo->heap;
	const struct heap_stats *st = heap__stats(h);
	struct json_writer *w;
	char when[80];
	int err;

	w = jsonw_new(f, true);
	if (!w)
		return -ENOMEM;
	jsonw_start_object(w);
	jsonw_u64_field(w, "format_version", TT_FORMAT_VERSION);
	jsonw_string_field(w, "tool", "ttbpf " TT_TOOL_VERSION);
	iso8601(when, sizeof(when), (int64_t)m->end_ns + m->wall_minus_mono_ns);
	jsonw_string_field(w, "timestamp", when);
	iso8601(when, sizeof(when), (int64_t)m->start_ns + m->wall_minus_mono_ns);
	jsonw_string_field(w, "start_time", when);
	jsonw_u64_field(w, "duration_ns", m->end_ns - m->start_ns);

	jsonw_name(w, "target");
	jsonw_start_object(w);
	jsonw_i64_field(w, "pid", m->pid);
	write_pid_or_null(w, "parent_pid", m->parent_pid);
	jsonw_string_field(w, "command", m->command);
	jsonw_string_field(w, "mode", m->launched ? "launch" : m->parent_pid ? "follow" : "attach");
	jsonw_string_field(w, "allocator", m->allocator);
	write_exit_code(w, m->exit_code);
	jsonw_end_object(w);

	jsonw_u64_field(w, "total_allocations", st->total_allocs);
	jsonw_u64_field(w, "total_allocated", st->total_alloc_bytes);
	write_processes(w, m);
	write_stats(w, st, mo->mapped, m);
	write_threads(w, h);
	err = write_totals(w, mo->vars, false);
	if (!err)
		err = write_totals(w, mo->vars, true);
	if (!err)
		err = write_variable_groups(w, mo->vars, m);
	write_variable_stats(w, mo->vars);
	write_variables(w, mo->vars, m);
	jsonw_u64_field(w, "bad_marker_sites", mo->vars ? vars__bad_sites(mo->vars) : 0);
	write_time_series(w, mo->timeline, m);
	if (mo->stacks && mo->sites) {
		/* the call sites first: `ttbpf report` then reads the stacks once */
		write_call_sites(w, mo);
		write_stacks(w, mo);
		if (!err)
			err = write_leaks(w, mo, m);
	}
	if (!err)
		err = write_active(w, mo, m);
	jsonw_end_object(w);
	if (!err)
		err = jsonw_finish(w);
	jsonw_free(w);
	return err;
}

struct json_ctx {
	const struct model *mo;
	const struct report_meta *m;
};

static int emit(FILE *f, void *ctx)
{
	struct json_ctx *c = ctx;

	return report_json__emit(f, c->mo, c->m);
}

int report_json__write(const char *path, const struct model *mo, const struct report_meta *m)
{
	struct json_ctx c = { mo, m };

	return outfile__write(path, emit, &c);
}
