// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "alloc_fns.h"
#include "heap.h"
#include "json_writer.h"
#include "outfile.h"
#include "report_json.h"

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

static int cmp_block(const void *a, const void *b)
{
	const struct heap_block *x = *(const struct heap_block *const *)a;
	const struct heap_block *y = *(const struct heap_block *const *)b;

	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	return (x->ptr > y->ptr) - (x->ptr < y->ptr);
}

static int write_active(struct json_writer *w, struct heap *h, const struct report_meta *m)
{
	const struct heap_stats *st = heap__stats(h);
	const struct heap_block **v, *b;
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
	for (i = 0; i < n; i++) {
		jsonw_start_object(w);
		jsonw_hex_field(w, "ptr", v[i]->ptr);
		jsonw_u64_field(w, "size", v[i]->size);
		jsonw_i64_field(w, "timestamp_alloc", rel_ns(m, v[i]->ts_ns));
		jsonw_u64_field(w, "thread_id", v[i]->tid);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	free(v);
	return 0;
}

static void write_stats(struct json_writer *w, const struct heap_stats *st,
			const struct report_meta *m)
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
	if (st->peak_ns)
		jsonw_i64_field(w, "peak_time", rel_ns(m, st->peak_ns));
	else
		jsonw_null_field(w, "peak_time");
	jsonw_u64_field(w, "total_frees", st->total_frees);
	jsonw_u64_field(w, "total_freed", st->total_freed_bytes);
	jsonw_u64_field(w, "failed_allocations", st->failed_allocs);
	jsonw_u64_field(w, "unknown_frees", st->unknown_frees);
	jsonw_u64_field(w, "allocator_internal_frees", st->internal_frees);
	jsonw_u64_field(w, "reallocs_in_place", st->reallocs_in_place);
	jsonw_u64_field(w, "reallocs_moved", st->reallocs_moved);
	jsonw_u64_field(w, "duplicate_allocations", st->dup_allocs);
	jsonw_u64_field(w, "lost_events", m->lost_events);
	jsonw_u64_field(w, "inflight_dropped", m->inflight_dropped);
	jsonw_u64_field(w, "bad_records", m->bad_records);
	jsonw_u64_field(w, "records", m->records);
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

int report_json__emit(FILE *f, struct heap *h, const struct report_meta *m)
{
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
	jsonw_string_field(w, "command", m->command);
	jsonw_string_field(w, "mode", m->launched ? "launch" : "attach");
	jsonw_string_field(w, "allocator", m->allocator);
	if (m->exit_code >= 0)
		jsonw_i64_field(w, "exit_code", m->exit_code);
	else
		jsonw_null_field(w, "exit_code");
	jsonw_end_object(w);

	jsonw_u64_field(w, "total_allocations", st->total_allocs);
	jsonw_u64_field(w, "total_allocated", st->total_alloc_bytes);
	write_stats(w, st, m);
	write_threads(w, h);
	jsonw_name(w, "memory_by_type");
	jsonw_start_array(w);
	jsonw_end_array(w);
	err = write_active(w, h, m);
	jsonw_end_object(w);
	if (!err)
		err = jsonw_finish(w);
	jsonw_free(w);
	return err;
}

int report_json__write(const char *path, struct heap *h, const struct report_meta *m)
{
	struct outfile o;
	int err;

	err = outfile__open(&o, path);
	if (err) {
		fprintf(stderr, "ttbpf: cannot create %s: %s\n", path, strerror(-err));
		return err;
	}
	err = report_json__emit(o.f, h, m);
	if (err) {
		outfile__abort(&o);
		fprintf(stderr, "ttbpf: cannot write %s: %s\n", path, strerror(-err));
		return err;
	}
	err = outfile__commit(&o);
	if (err)
		fprintf(stderr, "ttbpf: cannot write %s: %s\n", path, strerror(-err));
	return err;
}
