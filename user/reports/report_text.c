// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "callsites.h"
#include "options.h"
#include "heap.h"
#include "json_reader.h"
#include "leaks.h"
#include "stacks.h"
#include "timeline.h"
#include "vars.h"
#include "report_text.h"
#include "text_clean.h"
#include "units.h"
#include "unwinder.h"

#define CHILDREN_MAX 50   /* children listed; the JSON report has them all */
#define COMMAND_WIDTH 40  /* bytes of a child's command shown */
#define NAME_WIDTH 80     /* bytes of a variable's name, type or file shown */
#define FUNC_WIDTH 200    /* bytes of a function's name shown (C++ templates) */
#define FILE_WIDTH 120    /* bytes of a source file's path shown */

/* "parse_line (src/parse.c:42)", "libfoo.so+0x1234" (label); an inlined
 * function's frame says so; other_calls: more call addresses of the function
 * merged with this one (its line is the one of the stack with most bytes) */
static void put_label(FILE *f, const char *label, bool inlined, const char *file, int line,
		      uint32_t other_calls)
{
	text_clean__put(f, label, FUNC_WIDTH);
	if (inlined)
		fputs(" [inlined]", f);
	if (file) {
		fputs(" (", f);
		text_clean__put(f, file, FILE_WIDTH);
		fprintf(f, ":%d", line);
	}
	if (other_calls)
		fprintf(f, "%s+%u other %s", file ? ", " : " (", other_calls,
			units__plural(other_calls, "call", "calls"));
	if (file || other_calls)
		fputc(')', f);
}

static void put_frame(FILE *f, const struct sym_frame *fr, uint32_t other_calls)
{
	char label[FUNC_WIDTH + 64];

	put_label(f, sym_frame__label(fr, label, sizeof(label)), fr->inlined, fr->file, fr->line,
		  other_calls);
}

static void put_site(FILE *f, const struct callsite *c)
{
	if (c)
		put_frame(f, &c->frame, c->addr_cnt > 1 ? c->addr_cnt - 1 : 0);
	else
		fputs("(no stack)", f);
}

/*
 * Is there a stack line after shown of them (--stack-lines: lines)? When
 * neither the site nor the lines shown have a name (code whose functions
 * have no symbol: libraries built with hidden visibility, stripped), the
 * lines go on to the first frame that has one, up to STACK_LINES_TO_A_NAME:
 * every entry names a function if its stack has one near.
 */
#define STACK_LINES_TO_A_NAME 16

static bool stack_line_next(size_t shown, uint32_t lines, bool named)
{
	return shown < lines || (lines && !named && shown < STACK_LINES_TO_A_NAME);
}

/* Up to lines frames of a stack after its call site (site_frame), as
 * memleak and heaptrack show them under each entry; named: the site has a
 * symbol. */
static void put_stack(FILE *f, struct callsites *cs, const struct model *mo, uint32_t stack_id,
		      uint32_t site_frame, uint32_t lines, bool named)
{
	const struct stack_info *st = stack_id ? stacks__get(mo->stacks, stack_id) : NULL;
	struct sym_frame fr[SYM_MAX_CHAIN];
	size_t k, j, nr, at = 0, shown = 0;

	for (k = 0; st && k < st->nr && stack_line_next(shown, lines, named); k++) {
		callsites__frames(cs, st->ips[k], fr, SYM_MAX_CHAIN, &nr);
		for (j = 0; j < nr && stack_line_next(shown, lines, named); j++, at++) {
			if (at <= site_frame)
				continue;
			fputs("          ", f);
			put_frame(f, &fr[j], 0);
			fputc('\n', f);
			named |= fr[j].symbol != NULL;
			shown++;
		}
	}
}

/* The line after a list cut at --top. */
static void put_more(FILE *f, size_t rest, const char *what, const char *json)
{
	if (rest)
		fprintf(f, "    ... and %zu more %s (use --top N to list them; JSON: %s)\n", rest,
			what, json);
}

/* "    12.0 KB in     30 blocks, oldest 1.20 s ago: " */
static void put_live_head(FILE *f, uint64_t bytes, uint64_t cnt, uint64_t age_ns)
{
	char a[UNITS_BUF], b[UNITS_BUF];

	fprintf(f, "    %10s in %6llu %s oldest %s ago: ", units__bytes(a, sizeof(a), bytes),
		(unsigned long long)cnt, units__plural(cnt, "block,", "blocks,"),
		units__duration(b, sizeof(b), age_ns));
}

/* Where the memory still held was allocated, largest first, by call site. */
static void write_leaks(FILE *f, const struct model *mo, const struct report_meta *m,
			const struct report_text_opts *o)
{
	struct leak *l;
	size_t n, i;

	if (!mo->sites || leaks__by_site(mo, mo->sites, &l, &n))
		return;
	if (n)
		fprintf(f, "  still live, by allocation site:\n");
	for (i = 0; i < n && i < o->top; i++) {
		uint32_t fi = 0;
		const struct callsite *c = callsites__of_stack(mo->sites, l[i].stack_id, &fi);

		put_live_head(f, l[i].live_bytes, l[i].live_cnt, m->end_ns - l[i].oldest_ns);
		put_site(f, c);
		fputc('\n', f);
		if (c)
			put_stack(f, mo->sites, mo, l[i].stack_id, fi, o->stack_lines, c->frame.symbol);
	}
	put_more(f, n > o->top ? n - o->top : 0, "allocation sites holding memory",
		 "call_sites, leaks");
	free(l);
}

/* "    12.0 KB in       300 allocations: " */
static void put_site_head(FILE *f, uint64_t bytes, uint64_t allocs)
{
	char a[UNITS_BUF], b[UNITS_BUF];

	fprintf(f, "    %10s in %9s %s ", units__bytes(a, sizeof(a), bytes),
		units__count(b, sizeof(b), allocs), units__plural(allocs, "allocation:", "allocations:"));
}

/* Where the most was allocated, freed or not. */
static void write_sites(FILE *f, const struct model *mo, const struct report_text_opts *o)
{
	size_t n = mo->sites ? callsites__count(mo->sites) : 0, i;

	if (n)
		fprintf(f, "  allocated, by allocation site:\n");
	for (i = 0; i < n && i < o->top; i++) {
		const struct callsite *c = callsites__get(mo->sites, i);

		put_site_head(f, c->bytes, c->allocs);
		put_site(f, c);
		fputc('\n', f);
		put_stack(f, mo->sites, mo, c->rep_stack, c->site_frame, o->stack_lines,
			  c->frame.symbol);
	}
	put_more(f, n > o->top ? n - o->top : 0, "allocation sites", "call_sites");
}

static int cmp_group_bytes(const void *a, const void *b)
{
	const struct var_group *x = *(const struct var_group *const *)a;
	const struct var_group *y = *(const struct var_group *const *)b;

	if (x->bytes_alive != y->bytes_alive)
		return x->bytes_alive < y->bytes_alive ? 1 : -1;
	return (x->alive < y->alive) - (x->alive > y->alive);
}

/* The groups holding most at the end: "connection ×90 alive of 100, 2.8 KB". */
static void write_vars(FILE *f, const struct vars *vars, uint32_t top)
{
	size_t n = vars ? vars__group_count(vars) : 0, k = 0, i;
	const struct var_group **g;
	char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF];

	if (n && (g = calloc(n, sizeof(*g)))) {
		for (i = 0; i < n; i++)
			if (vars__group(vars, i)->alive)
				g[k++] = vars__group(vars, i);
		qsort(g, k, sizeof(*g), cmp_group_bytes);
		if (k)
			fprintf(f, "  largest tracked variables:\n");
		for (i = 0; i < k && i < top; i++) {
			fprintf(f, "    %10s  ", units__bytes(a, sizeof(a), g[i]->bytes_alive));
			text_clean__put(f, g[i]->name, NAME_WIDTH);
			fprintf(f, " \xc3\x97%s alive", units__count(b, sizeof(b), g[i]->alive));
			if (g[i]->instances != g[i]->alive)
				fprintf(f, " of %s", units__count(c, sizeof(c), g[i]->instances));
			fputs(" (", f);
			text_clean__put(f, g[i]->type_name, NAME_WIDTH);
			fputs(") ", f);
			text_clean__put(f, g[i]->file[0] ? g[i]->file : "?", NAME_WIDTH);
			fprintf(f, ":%d\n", g[i]->line);
		}
		put_more(f, k > top ? k - top : 0, "variables alive", "variable_groups");
		free(g);
	}
	if (vars && vars__folded(vars))
		fprintf(f, "  variables      %llu %s past --max-vars %u: counted in their groups, "
			   "not listed\n", (unsigned long long)vars__folded(vars),
			units__plural(vars__folded(vars), "instance", "instances"),
			vars__max_instances(vars));
	if (vars && vars__dropped(vars))
		fprintf(f, "  variables      %llu %s not kept (out of memory, or more than "
			   "%u distinct variables)\n", (unsigned long long)vars__dropped(vars),
			units__plural(vars__dropped(vars), "marker", "markers"), TT_MAX_VAR_GROUPS);
}

static void write_children(FILE *f, const struct report_meta *m)
{
	char a[UNITS_BUF], b[UNITS_BUF];
	size_t i, failed = 0;

	if (!m->children || !m->child_cnt)
		return;
	for (i = 0; i < m->child_cnt; i++)
		failed += m->children[i].never_traced;
	fprintf(f, "  followed %zu child process%s", m->child_cnt, m->child_cnt == 1 ? "" : "es");
	if (failed)
		fprintf(f, ", %zu of them NOT TRACED (their probes could not be attached)", failed);
	fputs(":\n", f);
	for (i = 0; i < m->child_cnt && i < CHILDREN_MAX; i++) {
		const struct report_proc *p = &m->children[i];

		fprintf(f, "    pid %d (", p->pid);
		text_clean__put(f, p->command, COMMAND_WIDTH);
		if (p->exit_code >= 0)
			fprintf(f, "), exit status %d", p->exit_code);
		else
			fprintf(f, "), still running");
		if (p->untraced) {
			fputs(", NOT TRACED (", f);
			text_clean__put(f, p->untraced_why ? p->untraced_why : "?", COMMAND_WIDTH);
			fputc(')', f);
		}
		if (p->never_traced) {
			fputc('\n', f);
			continue;
		}
		fprintf(f, ": %llu %s (%s), live %llu %s, %s", (unsigned long long)p->total_allocs,
			units__plural(p->total_allocs, "allocation", "allocations"),
			units__bytes(a, sizeof(a), p->total_alloc_bytes), (unsigned long long)p->live_cnt,
			units__plural(p->live_cnt, "block", "blocks"),
			units__bytes(b, sizeof(b), p->live_bytes));
		if (p->report)
			fprintf(f, " -> %s", TEXT_CLEAN(p->report));
		fputc('\n', f);
	}
	if (i < m->child_cnt)
		fprintf(f, "    ... and %zu more\n", m->child_cnt - i);
}

/* What malloc's figures leave out, each line only when there is some. */
static void put_beside(FILE *f, const struct report_totals *t)
{
	const struct mapped_figures *p = &t->program;
	char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF];

	/* a munmap counted is of a mapping the trace saw made */
	if (t->has_mapped && p->mmap_calls) {
		fprintf(f, "  mmap outside   %llu anonymous %s (%s)", (unsigned long long)p->mmap_calls,
			units__plural(p->mmap_calls, "mmap", "mmaps"),
			units__bytes(a, sizeof(a), p->mmap_bytes));
		if (p->munmap_calls)
			fprintf(f, ", %llu %s (%s)", (unsigned long long)p->munmap_calls,
				units__plural(p->munmap_calls, "munmap", "munmaps"),
				units__bytes(b, sizeof(b), p->munmap_bytes));
		fprintf(f, ": %s mapped at end, not in the figures above\n",
			units__bytes(c, sizeof(c), p->mapped_bytes));
	}
	if (t->has_mapped && p->brk_calls) {
		fprintf(f, "  brk outside    %llu %s, +%s", (unsigned long long)p->brk_calls,
			units__plural(p->brk_calls, "move", "moves"),
			units__bytes(a, sizeof(a), p->brk_grown_bytes));
		if (p->brk_shrunk_bytes)
			fprintf(f, " -%s", units__bytes(b, sizeof(b), p->brk_shrunk_bytes));
		fprintf(f, ": %s at end\n", units__bytes(c, sizeof(c), p->brk_bytes));
	}
	if (t->rss_samples)
		fprintf(f, "  rss            peak %s, last %s (%llu %s of /proc/PID/statm)\n",
			units__bytes(a, sizeof(a), t->rss_peak_bytes),
			units__bytes(b, sizeof(b), t->rss_last_bytes), (unsigned long long)t->rss_samples,
			units__plural(t->rss_samples, "sample", "samples"));
}

void report_text__put_totals(FILE *f, const struct report_totals *t)
{
	char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF];

	fprintf(f, "\nttbpf: pid %d (%s), traced for %s", t->pid, TEXT_CLEAN(t->command),
		units__duration(a, sizeof(a), t->duration_ns));
	if (t->exit_code >= 0)
		fprintf(f, ", exit status %d", t->exit_code);
	fprintf(f, "\n");
	fprintf(f, "  allocations    %llu (%s)", (unsigned long long)t->total_allocs,
		units__bytes(a, sizeof(a), t->total_alloc_bytes));
	if (t->threads)
		fprintf(f, ", in %zu thread%s", t->threads, t->threads == 1 ? "" : "s");
	fprintf(f, "%s\n", t->aggregate ? " (aggregate-only: no timeline, no variables)" : "");
	fprintf(f, "  frees          %llu (%s)\n", (unsigned long long)t->total_frees,
		units__bytes(a, sizeof(a), t->total_freed_bytes));
	fprintf(f, "  live at end    %llu %s, %s\n", (unsigned long long)t->live_cnt,
		units__plural(t->live_cnt, "block", "blocks"), units__bytes(a, sizeof(a), t->live_bytes));
	if (t->has_peak)
		fprintf(f, "  peak           %s in %llu %s, at +%s\n",
			units__bytes(b, sizeof(b), t->peak_bytes), (unsigned long long)t->peak_cnt,
			units__plural(t->peak_cnt, "block", "blocks"),
			units__duration(c, sizeof(c), t->peak_at_ns));
	put_beside(f, t);
	if (t->failed_allocs)
		fprintf(f, "  failed         %llu %s NULL\n", (unsigned long long)t->failed_allocs,
			units__plural(t->failed_allocs, "allocation returned", "allocations returned"));
	if (t->unknown_frees)
		fprintf(f, "  unknown frees  %llu (blocks allocated before tracing began%s)\n",
			(unsigned long long)t->unknown_frees,
			t->lost_events ? ", or whose allocation record was lost" : "");
	if (t->reallocs_in_place || t->reallocs_moved)
		fprintf(f, "  reallocs       %llu in place, %llu moved\n",
			(unsigned long long)t->reallocs_in_place, (unsigned long long)t->reallocs_moved);
	fprintf(f, "  lost events    %llu%s\n", (unsigned long long)t->lost_events,
		t->lost_events ? " (ring buffer full: figures are incomplete; raise --ringbuf-size)" : "");
	if (t->calls_not_followed)
		fprintf(f, "  not followed   %llu calls to an operator new whose returns could not "
			   "be found (their allocations are missing)\n",
			(unsigned long long)t->calls_not_followed);
	if (t->inflight_dropped)
		fprintf(f, "  dropped calls  %llu (the kernel had no memory for a thread's call "
			   "state)\n", (unsigned long long)t->inflight_dropped);
	if (t->dup_allocs)
		fprintf(f, "  inconsistent   %llu %s allocated while already live\n",
			(unsigned long long)t->dup_allocs,
			units__plural(t->dup_allocs, "address", "addresses"));
	if (t->aggregate && (t->agg_blocks_full || t->agg_stacks_full))
		fprintf(f, "  not followed   %llu %s, %llu %s (aggregate tables full; raise "
			   "--max-live)\n", (unsigned long long)t->agg_blocks_full,
			units__plural(t->agg_blocks_full, "block", "blocks"),
			(unsigned long long)t->agg_stacks_full,
			units__plural(t->agg_stacks_full, "stack", "stacks"));
	if (t->unw_files_no_room)
		fprintf(f, "  unwind tables  %llu %s no room in --unwind-rows %s (%s rows more): "
			   "stacks through %s end there\n",
			(unsigned long long)t->unw_files_no_room,
			units__plural(t->unw_files_no_room, "file had", "files had"),
			units__count(b, sizeof(b), t->unw_rows_cap),
			units__count(a, sizeof(a), t->unw_rows_no_room),
			t->unw_files_no_room == 1 ? "it" : "them");
	if (t->bad_records)
		fprintf(f, "  bad records    %llu (a ttbpf bug: please report)\n",
			(unsigned long long)t->bad_records);
}

void report_text__write(FILE *f, const struct model *mo, const struct report_meta *m,
			const struct report_text_opts *opts)
{
	static const struct report_text_opts defaults = {
		.top = TT_DEFAULT_TOP, .stack_lines = TT_DEFAULT_STACK_LINES,
	};
	const struct report_text_opts *o = opts ? opts : &defaults;
	const struct heap_stats *st = heap__stats(mo->heap);
	struct report_totals t = {
		.pid = m->pid, .command = m->command, .duration_ns = m->end_ns - m->start_ns,
		.exit_code = m->exit_code, .total_allocs = st->total_allocs,
		.total_alloc_bytes = st->total_alloc_bytes, .total_frees = st->total_frees,
		.total_freed_bytes = st->total_freed_bytes, .live_cnt = st->live_cnt,
		.live_bytes = st->live_bytes, .has_peak = st->peak_ns != 0,
		.peak_bytes = st->peak_bytes, .peak_cnt = st->peak_cnt,
		.peak_at_ns = st->peak_ns - m->start_ns, .failed_allocs = st->failed_allocs,
		.unknown_frees = st->unknown_frees, .reallocs_in_place = st->reallocs_in_place,
		.reallocs_moved = st->reallocs_moved, .lost_events = m->lost_events,
		.inflight_dropped = m->inflight_dropped, .calls_not_followed = m->calls_not_followed,
		.dup_allocs = st->dup_allocs,
		.bad_records = m->bad_records, .aggregate = m->aggregate,
		.agg_blocks_full = m->agg_blocks_full, .agg_stacks_full = m->agg_stacks_full,
	};

	if (m->unwinder) {
		struct unwinder_totals ut;

		unwinder__totals(m->unwinder, &ut);
		t.unw_files_no_room = ut.files_no_room;
		t.unw_rows_no_room = ut.rows_no_room;
		t.unw_rows_cap = ut.rows_cap;
	}
	heap__threads(mo->heap, &t.threads);
	t.has_mapped = mo->mapped && m->sysmem && !m->aggregate;
	if (t.has_mapped)
		t.program = mapped__stats(mo->mapped)->by[MAPPED_PROGRAM];
	if (mo->timeline)
		timeline__rss(mo->timeline, &t.rss_samples, &t.rss_peak_bytes, &t.rss_last_bytes);
	report_text__put_totals(f, &t);
	write_sites(f, mo, o);
	write_leaks(f, mo, m, o);
	write_vars(f, mo->vars, o->top);
	write_children(f, m);
}

void report_text__put_site(FILE *f, const struct callsite *c)
{
	put_site(f, c);
}

/* ---- the summary of a JSON report (`ttbpf report FILE.json`) ---- */

#define NAME_KEEP 4096 /* bytes kept of a name: more than a line shows */

struct json_site {
	char *name, *file;
	int line;
	uint32_t other_calls;        /* call addresses merged into it, less one */
	uint64_t bytes, allocs;
	uint64_t rep_id, site_frame; /* its stack with most bytes, and the frame it is */
	bool named;                  /* the site has a function name */
	char *lines;                 /* the stack lines under it, as written */
	/* in the still-live list: */
	uint64_t idx;                /* its place in call_sites; UINT64_MAX: no stack */
	uint64_t live_bytes, live_cnt, oldest_age_ns;
	uint64_t rep_live;           /* the live bytes of rep_id, its stack holding most */
};

struct summary_json {
	struct report_totals t;
	char command[NAME_KEEP];
	struct json_site *sites; /* the first --top of call_sites */
	size_t site_cnt, sites_all, top;
	struct json_site *live;  /* the --top holding most live bytes, as leaks__by_site */
	size_t live_cnt, live_all;
	uint32_t stack_lines;
	bool is_report; /* format_version 1 */
};

static uint64_t u64_of(const struct jnode *o, const char *key)
{
	return jnode__u64(jnode__get(o, key), 0);
}

/* stats.mapped.program: null (or absent, in older reports) when not counted */
static void summary_mapped(struct report_totals *t, const struct jnode *mp)
{
	const struct jnode *p = jnode__get(mp, "program");
	size_t i;

	t->has_mapped = jnode__type(p) == JOBJ;
	for (i = 0; i < MAPPED_FIELD_CNT; i++)
		mapped_figure__set(&t->program, &mapped_fields[i], u64_of(p, mapped_fields[i].name));
}

static void summary_stats(struct report_totals *t, const struct jnode *st)
{
	t->total_allocs = u64_of(st, "total_allocations");
	t->total_alloc_bytes = u64_of(st, "total_allocated");
	t->total_frees = u64_of(st, "total_frees");
	t->total_freed_bytes = u64_of(st, "total_freed");
	t->live_cnt = u64_of(st, "active_allocations");
	t->live_bytes = u64_of(st, "active_memory");
	t->has_peak = jnode__type(jnode__get(st, "peak_time")) == JNUM;
	t->peak_bytes = u64_of(st, "peak_memory");
	t->peak_cnt = u64_of(st, "peak_allocations");
	t->peak_at_ns = u64_of(st, "peak_time");
	t->failed_allocs = u64_of(st, "failed_allocations");
	t->unknown_frees = u64_of(st, "unknown_frees");
	t->reallocs_in_place = u64_of(st, "reallocs_in_place");
	t->reallocs_moved = u64_of(st, "reallocs_moved");
	t->dup_allocs = u64_of(st, "duplicate_allocations");
	t->lost_events = u64_of(st, "lost_events");
	t->inflight_dropped = u64_of(st, "inflight_dropped");
	t->calls_not_followed = u64_of(st, "calls_not_followed");
	t->bad_records = u64_of(st, "bad_records");
	t->aggregate = jnode__bool(jnode__get(st, "aggregate_only"), false);
	t->agg_blocks_full = u64_of(st, "aggregate_blocks_not_followed");
	t->agg_stacks_full = u64_of(st, "aggregate_stacks_not_kept");
	t->unw_files_no_room = u64_of(jnode__get(st, "unwind"), "files_no_room");
	t->unw_rows_no_room = u64_of(jnode__get(st, "unwind"), "rows_no_room");
	t->unw_rows_cap = u64_of(jnode__get(st, "unwind"), "rows_capacity");
	summary_mapped(t, jnode__get(st, "mapped"));
}

/* The lines under a site whose stack this is (put_stack's, from the JSON),
 * into c->lines (replaced). */
static int summary_lines(const struct summary_json *s, struct json_site *c, const struct jnode *st)
{
	const struct jnode *frames = jnode__get(st, "frames");
	size_t k, len, shown;
	bool named = c->named;
	FILE *f;

	free(c->lines);
	c->lines = NULL;
	f = open_memstream(&c->lines, &len);
	if (!f)
		return -ENOMEM;
	for (k = c->site_frame + 1, shown = 0; k < jnode__len(frames) &&
	     stack_line_next(shown, s->stack_lines, named); k++, shown++) {
		const struct jnode *fr = jnode__at(frames, k);
		struct sym_frame sf = {
			.symbol = jnode__str(jnode__get(fr, "symbol"), NULL),
			.module = jnode__str(jnode__get(fr, "module"), NULL),
			.file = jnode__str(jnode__get(fr, "file"), NULL),
			.line = (int)jnode__i64(jnode__get(fr, "line"), 0),
			.inlined = jnode__bool(jnode__get(fr, "inlined"), false),
			.ip = strtoull(jnode__str(jnode__get(fr, "ip"), "0"), NULL, 16),
		};

		if (sf.symbol)
			sf.sym_offset = u64_of(fr, "offset");
		else
			sf.module_offset = u64_of(fr, "offset");
		fputs("          ", f);
		put_frame(f, &sf, 0);
		fputc('\n', f);
		named |= sf.symbol != NULL;
	}
	return fclose(f) ? -ENOMEM : 0;
}

/* A stack: the lines under the allocated sites it represents, and under the
 * live site it is grouped in if it holds more of it than the ones before
 * (leaks__by_site's representative: most live bytes, the lowest id). */
static int summary_stack(struct summary_json *s, const struct jnode *st)
{
	const struct jnode *si = jnode__get(st, "site_index");
	uint64_t id = u64_of(st, "id"), live = u64_of(st, "live_bytes");
	size_t i;
	int err = 0;

	for (i = 0; !err && i < s->site_cnt; i++)
		if (s->sites[i].rep_id == id && !s->sites[i].lines)
			err = summary_lines(s, &s->sites[i], st);
	for (i = 0; !err && live && jnode__type(si) == JNUM && i < s->live_cnt; i++) {
		struct json_site *c = &s->live[i];

		if (c->idx != jnode__u64(si, 0) || (c->lines && live <= c->rep_live))
			continue;
		c->rep_id = id;
		c->rep_live = live;
		c->site_frame = u64_of(st, "call_site");
		err = summary_lines(s, c, st);
	}
	return err;
}

static void site_free(struct json_site *c)
{
	free(c->name);
	free(c->file);
	free(c->lines);
	memset(c, 0, sizeof(*c));
}

/* A site's name, file, line and merged calls, from a call_sites entry. */
static int site_read(struct json_site *c, const struct jnode *v)
{
	const char *file = jnode__str(jnode__get(v, "file"), NULL);
	uint64_t addrs = u64_of(v, "addresses");

	c->name = strndup(jnode__str(jnode__get(v, "name"), "??"), NAME_KEEP);
	c->file = file ? strndup(file, NAME_KEEP) : NULL;
	c->line = (int)jnode__i64(jnode__get(v, "line"), 0);
	c->other_calls = addrs > 1 && addrs <= UINT32_MAX ? (uint32_t)(addrs - 1) : 0;
	c->named = jnode__str(jnode__get(v, "function"), NULL) != NULL;
	return !c->name || (file && !c->file) ? -ENOMEM : 0;
}

/* Does x come before y in the still-live list (most live bytes first)? */
static bool live_before(const struct json_site *x, const struct json_site *y)
{
	if (x->live_bytes != y->live_bytes)
		return x->live_bytes > y->live_bytes;
	return x->idx < y->idx;
}

/* A slot for an entry holding live bytes among the --top kept, in order;
 * NULL when it is not among them. The one pushed out is freed. */
static struct json_site *live_slot(struct summary_json *s, const struct json_site *e)
{
	size_t at;

	s->live_all++;
	for (at = s->live_cnt; at > 0 && live_before(e, &s->live[at - 1]); at--)
		;
	if (at == s->top)
		return NULL;
	if (s->live_cnt == s->top)
		site_free(&s->live[--s->live_cnt]);
	memmove(&s->live[at + 1], &s->live[at], (s->live_cnt - at) * sizeof(*s->live));
	s->live_cnt++;
	s->live[at] = *e;
	return &s->live[at];
}

/* A leaks entry: the oldest age of its site, or the blocks with no stack. */
static int summary_leak(struct summary_json *s, const struct jnode *v)
{
	const struct jnode *cs = jnode__get(v, "call_site");
	uint64_t age = u64_of(v, "oldest_age_ns");
	struct json_site e = { .idx = UINT64_MAX };
	size_t i;

	if (jnode__type(cs) == JNUM) {
		for (i = 0; i < s->live_cnt; i++)
			if (s->live[i].idx == jnode__u64(cs, 0) && age > s->live[i].oldest_age_ns)
				s->live[i].oldest_age_ns = age;
		return 0;
	}
	e.live_bytes = u64_of(v, "live_bytes");
	e.live_cnt = u64_of(v, "live_count");
	e.oldest_age_ns = age;
	e.name = strdup("(no stack)");
	if (!e.name)
		return -ENOMEM;
	if (!live_slot(s, &e))
		free(e.name);
	return 0;
}

/* A call site holding live bytes, for the still-live list. */
static int summary_live_site(struct summary_json *s, const struct jnode *v, size_t index)
{
	struct json_site e = {
		.idx = index, .live_bytes = u64_of(v, "live_bytes"),
		.live_cnt = u64_of(v, "live_count"),
	}, *c;

	if (!e.live_bytes)
		return 0;
	c = live_slot(s, &e);
	return c ? site_read(c, v) : 0;
}

static int summary_member(void *ctx, const char *key, size_t index, const struct jnode *v)
{
	struct summary_json *s = ctx;
	struct json_site *c;

	if (!strcmp(key, "format_version")) {
		s->is_report = jnode__u64(v, 0) == 1;
	} else if (!strcmp(key, "duration_ns")) {
		s->t.duration_ns = jnode__u64(v, 0);
	} else if (!strcmp(key, "target")) {
		s->t.pid = (int)jnode__i64(jnode__get(v, "pid"), 0);
		s->t.exit_code = (int)jnode__i64(jnode__get(v, "exit_code"), -1);
		snprintf(s->command, sizeof(s->command), "%s",
			 jnode__str(jnode__get(v, "command"), "?"));
	} else if (!strcmp(key, "stats")) {
		summary_stats(&s->t, v);
	} else if (!strcmp(key, "timeline")) {
		s->t.rss_samples = u64_of(v, "rss_samples");
		s->t.rss_peak_bytes = u64_of(v, "peak_rss_bytes");
		s->t.rss_last_bytes = u64_of(v, "last_rss_bytes");
	} else if (!strcmp(key, "threads")) {
		s->t.threads = index + 1;
	} else if (!strcmp(key, "call_sites")) {
		s->sites_all = index + 1;
		if (summary_live_site(s, v, index))
			return -ENOMEM;
		if (s->site_cnt == s->top)
			return 0;
		c = &s->sites[s->site_cnt++];
		c->bytes = u64_of(v, "bytes");
		c->allocs = u64_of(v, "allocations");
		c->rep_id = u64_of(v, "stack_id");
		c->site_frame = u64_of(v, "site_frame");
		return site_read(c, v);
	} else if (!strcmp(key, "stacks")) {
		return summary_stack(s, v);
	} else if (!strcmp(key, "leaks")) {
		return summary_leak(s, v);
	}
	return 0;
}

/* The still-live list in leaks__by_site's order: most live bytes, then the
 * representative stack's id (0: no stack). */
static int cmp_live(const void *a, const void *b)
{
	const struct json_site *x = a, *y = b;

	if (x->live_bytes != y->live_bytes)
		return x->live_bytes < y->live_bytes ? 1 : -1;
	return (x->rep_id > y->rep_id) - (x->rep_id < y->rep_id);
}

static void summary_put_live(FILE *f, struct summary_json *s)
{
	size_t i;

	qsort(s->live, s->live_cnt, sizeof(*s->live), cmp_live);
	if (s->live_cnt)
		fprintf(f, "  still live, by allocation site:\n");
	for (i = 0; i < s->live_cnt; i++) {
		const struct json_site *c = &s->live[i];

		put_live_head(f, c->live_bytes, c->live_cnt, c->oldest_age_ns);
		if (c->idx == UINT64_MAX)
			fputs(c->name, f);
		else
			put_label(f, c->name, false, c->file, c->line, c->other_calls);
		fputc('\n', f);
		fputs(c->lines ? c->lines : "", f);
	}
	put_more(f, s->live_all - s->live_cnt, "allocation sites holding memory", "call_sites, leaks");
}

int report_text__write_json(FILE *f, const char *json, const struct report_text_opts *opts)
{
	static const struct json_member members[] = {
		{ "format_version", JSON_KEEP }, { "duration_ns", JSON_KEEP }, { "target", JSON_KEEP },
		{ "stats", JSON_KEEP },          { "threads", JSON_EACH },     { "call_sites", JSON_EACH },
		{ "stacks", JSON_EACH },         { "leaks", JSON_EACH },       { "timeline", JSON_KEEP },
		{ NULL, JSON_SKIP },
	};
	struct summary_json s = { .t.exit_code = -1, .top = opts->top,
				  .stack_lines = opts->stack_lines };
	char err[256];
	size_t i;
	int rc;

	snprintf(s.command, sizeof(s.command), "?");
	s.sites = calloc(s.top ? s.top : 1, sizeof(*s.sites));
	s.live = calloc(s.top ? s.top : 1, sizeof(*s.live));
	if (!s.sites || !s.live) {
		free(s.sites);
		free(s.live);
		return -ENOMEM;
	}
	rc = json_stream__load(json, members, summary_member, &s, err, sizeof(err));
	if (!rc && !s.is_report)
		rc = -EDOM;
	if (rc)
		fprintf(stderr, "ttbpf: cannot read report %s: %s\n", json,
			rc == -EDOM ? "not a ttbpf report" : err);
	if (!rc) {
		s.t.command = s.command;
		report_text__put_totals(f, &s.t);
		if (s.site_cnt)
			fprintf(f, "  allocated, by allocation site:\n");
		for (i = 0; i < s.site_cnt; i++) {
			put_site_head(f, s.sites[i].bytes, s.sites[i].allocs);
			put_label(f, s.sites[i].name, false, s.sites[i].file, s.sites[i].line,
				  s.sites[i].other_calls);
			fputc('\n', f);
			fputs(s.sites[i].lines ? s.sites[i].lines : "", f);
		}
		put_more(f, s.sites_all - s.site_cnt, "allocation sites", "call_sites");
		summary_put_live(f, &s);
		if (fflush(f) || ferror(f))
			rc = -EIO;
	}
	for (i = 0; i < s.site_cnt; i++)
		site_free(&s.sites[i]);
	for (i = 0; i < s.live_cnt; i++)
		site_free(&s.live[i]);
	free(s.sites);
	free(s.live);
	return rc;
}
