// SPDX-License-Identifier: Apache-2.0
#include "heap.h"
#include "report_text.h"
#include "units.h"

void report_text__write(FILE *f, const struct model *mo, const struct report_meta *m)
{
	struct heap *h = mo->heap;
	const struct heap_stats *st = heap__stats(h);
	char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF];
	size_t threads;

	heap__threads(h, &threads);
	fprintf(f, "\nttbpf: pid %d (%s), traced for %s", m->pid, m->command,
		units__duration(a, sizeof(a), m->end_ns - m->start_ns));
	if (m->exit_code >= 0)
		fprintf(f, ", exit status %d", m->exit_code);
	fprintf(f, "\n");
	fprintf(f, "  allocations    %llu (%s), in %zu thread%s\n",
		(unsigned long long)st->total_allocs, units__bytes(a, sizeof(a), st->total_alloc_bytes),
		threads, threads == 1 ? "" : "s");
	fprintf(f, "  frees          %llu (%s)\n", (unsigned long long)st->total_frees,
		units__bytes(a, sizeof(a), st->total_freed_bytes));
	fprintf(f, "  live at end    %llu blocks, %s\n", (unsigned long long)st->live_cnt,
		units__bytes(a, sizeof(a), st->live_bytes));
	if (st->peak_ns)
		fprintf(f, "  peak           %s in %llu blocks, at +%s\n",
			units__bytes(b, sizeof(b), st->peak_bytes), (unsigned long long)st->peak_cnt,
			units__duration(c, sizeof(c), st->peak_ns - m->start_ns));
	if (st->failed_allocs)
		fprintf(f, "  failed         %llu allocations returned NULL\n",
			(unsigned long long)st->failed_allocs);
	if (st->unknown_frees)
		fprintf(f, "  unknown frees  %llu (blocks allocated before tracing began)\n",
			(unsigned long long)st->unknown_frees);
	if (st->reallocs_in_place || st->reallocs_moved)
		fprintf(f, "  reallocs       %llu in place, %llu moved\n",
			(unsigned long long)st->reallocs_in_place, (unsigned long long)st->reallocs_moved);
	fprintf(f, "  lost events    %llu%s\n", (unsigned long long)m->lost_events,
		m->lost_events ? " (ring buffer full: figures are incomplete; raise --ringbuf-size)" : "");
	if (m->inflight_dropped)
		fprintf(f, "  dropped calls  %llu (more threads in the allocator at once than "
			   "ttbpf tracks)\n", (unsigned long long)m->inflight_dropped);
	if (st->dup_allocs)
		fprintf(f, "  inconsistent   %llu addresses allocated while already live\n",
			(unsigned long long)st->dup_allocs);
	if (m->bad_records)
		fprintf(f, "  bad records    %llu (a ttbpf bug: please report)\n",
			(unsigned long long)m->bad_records);
}
