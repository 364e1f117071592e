// SPDX-License-Identifier: Apache-2.0
#include <stdlib.h>
#include <string.h>
#include "callsites.h"
#include "options.h"
#include "heap.h"
#include "leaks.h"
#include "stacks.h"
#include "vars.h"
#include "report_text.h"
#include "text_clean.h"
#include "units.h"

#define CHILDREN_MAX 50   /* children listed; the JSON report has them all */
#define COMMAND_WIDTH 40  /* bytes of a child's command shown */
#define NAME_WIDTH 80     /* bytes of a variable's name, type or file shown */
#define FUNC_WIDTH 200    /* bytes of a function's name shown (C++ templates) */
#define FILE_WIDTH 120    /* bytes of a source file's path shown */

/* "parse_line (src/parse.c:42)", "libfoo.so+0x1234"; an inlined function's
 * frame says so; other_calls: more call addresses of the function merged
 * with this one (its line is the one of the stack with most bytes) */
static void put_frame(FILE *f, const struct sym_frame *fr, uint32_t other_calls)
{
	char label[FUNC_WIDTH + 64];

	text_clean__put(f, sym_frame__label(fr, label, sizeof(label)), FUNC_WIDTH);
	if (fr->inlined)
		fputs(" [inlined]", f);
	if (fr->file) {
		fputs(" (", f);
		text_clean__put(f, fr->file, FILE_WIDTH);
		fprintf(f, ":%d", fr->line);
	}
	if (other_calls)
		fprintf(f, "%s+%u other %s", fr->file ? ", " : " (", other_calls,
			units__plural(other_calls, "call", "calls"));
	if (fr->file || other_calls)
		fputc(')', f);
}

static void put_site(FILE *f, const struct callsite *c)
{
	if (c)
		put_frame(f, &c->frame, c->addr_cnt > 1 ? c->addr_cnt - 1 : 0);
	else
		fputs("(no stack)", f);
}

/* Up to lines frames of a stack after its call site (site_frame), as
 * memleak and heaptrack show them under each entry. */
static void put_stack(FILE *f, struct callsites *cs, const struct model *mo, uint32_t stack_id,
		      uint32_t site_frame, uint32_t lines)
{
	const struct stack_info *st = stack_id ? stacks__get(mo->stacks, stack_id) : NULL;
	struct sym_frame fr[SYM_MAX_CHAIN];
	size_t k, j, nr, at = 0, shown = 0;

	for (k = 0; st && k < st->nr && shown < lines; k++) {
		callsites__frames(cs, st->ips[k], fr, SYM_MAX_CHAIN, &nr);
		for (j = 0; j < nr && shown < lines; j++, at++) {
			if (at <= site_frame)
				continue;
			fputs("          ", f);
			put_frame(f, &fr[j], 0);
			fputc('\n', f);
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

/* Where the memory still held was allocated, largest first, by call site. */
static void write_leaks(FILE *f, const struct model *mo, const struct report_meta *m,
			const struct report_text_opts *o)
{
	char a[UNITS_BUF], b[UNITS_BUF];
	struct leak *l;
	size_t n, i;

	if (!mo->sites || leaks__by_site(mo, mo->sites, &l, &n))
		return;
	if (n)
		fprintf(f, "  still live, by allocation site:\n");
	for (i = 0; i < n && i < o->top; i++) {
		uint32_t fi = 0;
		const struct callsite *c = callsites__of_stack(mo->sites, l[i].stack_id, &fi);

		fprintf(f, "    %10s in %6llu %s oldest %s ago: ",
			units__bytes(a, sizeof(a), l[i].live_bytes), (unsigned long long)l[i].live_cnt,
			units__plural(l[i].live_cnt, "block,", "blocks,"),
			units__duration(b, sizeof(b), m->end_ns - l[i].oldest_ns));
		put_site(f, c);
		fputc('\n', f);
		if (c)
			put_stack(f, mo->sites, mo, l[i].stack_id, fi, o->stack_lines);
	}
	put_more(f, n > o->top ? n - o->top : 0, "allocation sites holding memory",
		 "call_sites, leaks");
	free(l);
}

/* Where the most was allocated, freed or not. */
static void write_sites(FILE *f, const struct model *mo, const struct report_text_opts *o)
{
	size_t n = mo->sites ? callsites__count(mo->sites) : 0, i;
	char a[UNITS_BUF], b[UNITS_BUF];

	if (n)
		fprintf(f, "  allocated, by allocation site:\n");
	for (i = 0; i < n && i < o->top; i++) {
		const struct callsite *c = callsites__get(mo->sites, i);

		fprintf(f, "    %10s in %9s %s ", units__bytes(a, sizeof(a), c->bytes),
			units__count(b, sizeof(b), c->allocs),
			units__plural(c->allocs, "allocation:", "allocations:"));
		put_site(f, c);
		fputc('\n', f);
		put_stack(f, mo->sites, mo, c->rep_stack, c->site_frame, o->stack_lines);
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

void report_text__write(FILE *f, const struct model *mo, const struct report_meta *m,
			const struct report_text_opts *opts)
{
	static const struct report_text_opts defaults = {
		.top = TT_DEFAULT_TOP, .stack_lines = TT_DEFAULT_STACK_LINES,
	};
	const struct report_text_opts *o = opts ? opts : &defaults;
	struct heap *h = mo->heap;
	const struct heap_stats *st = heap__stats(h);
	char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF];
	size_t threads;

	heap__threads(h, &threads);
	fprintf(f, "\nttbpf: pid %d (%s), traced for %s", m->pid, TEXT_CLEAN(m->command),
		units__duration(a, sizeof(a), m->end_ns - m->start_ns));
	if (m->exit_code >= 0)
		fprintf(f, ", exit status %d", m->exit_code);
	fprintf(f, "\n");
	fprintf(f, "  allocations    %llu (%s)", (unsigned long long)st->total_allocs,
		units__bytes(a, sizeof(a), st->total_alloc_bytes));
	if (threads)
		fprintf(f, ", in %zu thread%s", threads, threads == 1 ? "" : "s");
	fprintf(f, "%s\n", m->aggregate ? " (aggregate-only: no timeline, no variables)" : "");
	fprintf(f, "  frees          %llu (%s)\n", (unsigned long long)st->total_frees,
		units__bytes(a, sizeof(a), st->total_freed_bytes));
	fprintf(f, "  live at end    %llu %s, %s\n", (unsigned long long)st->live_cnt,
		units__plural(st->live_cnt, "block", "blocks"), units__bytes(a, sizeof(a), st->live_bytes));
	if (st->peak_ns)
		fprintf(f, "  peak           %s in %llu %s, at +%s\n",
			units__bytes(b, sizeof(b), st->peak_bytes), (unsigned long long)st->peak_cnt,
			units__plural(st->peak_cnt, "block", "blocks"),
			units__duration(c, sizeof(c), st->peak_ns - m->start_ns));
	if (st->failed_allocs)
		fprintf(f, "  failed         %llu %s NULL\n", (unsigned long long)st->failed_allocs,
			units__plural(st->failed_allocs, "allocation returned", "allocations returned"));
	if (st->unknown_frees)
		fprintf(f, "  unknown frees  %llu (blocks allocated before tracing began%s)\n",
			(unsigned long long)st->unknown_frees,
			m->lost_events ? ", or whose allocation record was lost" : "");
	if (st->reallocs_in_place || st->reallocs_moved)
		fprintf(f, "  reallocs       %llu in place, %llu moved\n",
			(unsigned long long)st->reallocs_in_place, (unsigned long long)st->reallocs_moved);
	fprintf(f, "  lost events    %llu%s\n", (unsigned long long)m->lost_events,
		m->lost_events ? " (ring buffer full: figures are incomplete; raise --ringbuf-size)" : "");
	if (m->calls_not_followed)
		fprintf(f, "  not followed   %llu calls to an operator new whose returns could not "
			   "be found (their allocations are missing)\n",
			(unsigned long long)m->calls_not_followed);
	if (m->inflight_dropped)
		fprintf(f, "  dropped calls  %llu (the kernel had no memory for a thread's call "
			   "state)\n", (unsigned long long)m->inflight_dropped);
	if (st->dup_allocs)
		fprintf(f, "  inconsistent   %llu %s allocated while already live\n",
			(unsigned long long)st->dup_allocs,
			units__plural(st->dup_allocs, "address", "addresses"));
	if (m->aggregate && (m->agg_blocks_full || m->agg_stacks_full))
		fprintf(f, "  not followed   %llu %s, %llu %s (aggregate tables full; raise "
			   "--max-live)\n", (unsigned long long)m->agg_blocks_full,
			units__plural(m->agg_blocks_full, "block", "blocks"),
			(unsigned long long)m->agg_stacks_full,
			units__plural(m->agg_stacks_full, "stack", "stacks"));
	if (m->bad_records)
		fprintf(f, "  bad records    %llu (a ttbpf bug: please report)\n",
			(unsigned long long)m->bad_records);
	write_sites(f, mo, o);
	write_leaks(f, mo, m, o);
	write_vars(f, mo->vars, o->top);
	write_children(f, m);
}

void report_text__put_site(FILE *f, const struct callsite *c)
{
	put_site(f, c);
}
