// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>
#include "callsites.h"
#include "outfile.h"
#include "report_folded.h"
#include "stacks.h"
#include "text_clean.h"

/* ';' separates frames and the weight follows the last space: names from the
 * target must hold neither ('_' instead), nor anything that breaks a line or
 * acts on a terminal (cleaned as every text output: text_clean.h). */
static void put_name(FILE *f, const char *s)
{
	char buf[TEXT_CLEAN_MAX + 1];

	text_clean__copy(buf, TEXT_CLEAN_MAX, s);
	for (char *c = buf; *c; c++)
		fputc(*c == ';' || *c == ' ' ? '_' : *c, f);
}

/* Inlined frames end in "_[i]", the annotation of stackcollapse-perf.pl
 * --inline that flamegraph.pl (--color=java) and inferno know. */
void report_folded__put_frame(FILE *f, const struct sym_frame *fr)
{
	const char *mod;

	if (fr->symbol) {
		put_name(f, fr->symbol);
	} else if (fr->module) {
		mod = strrchr(fr->module, '/');
		put_name(f, mod ? mod + 1 : fr->module);
		fprintf(f, "+0x%llx", (unsigned long long)fr->module_offset);
	} else {
		fprintf(f, "0x%llx", (unsigned long long)fr->ip);
	}
	if (fr->inlined)
		fputs("_[i]", f);
}

void report_folded__put_end(FILE *f, uint32_t end)
{
	/* say where a stack was cut instead of pretending it is whole */
	if (end == TT_STACK_END_CUT || end == TT_STACK_END_FAULT ||
	    end == TT_STACK_END_UNSUPPORTED || end == TT_STACK_END_NO_TABLE)
		fputs("[partial stack];", f);
	else if (end == TT_STACK_END_DEPTH)
		fputs("[depth limit];", f);
}

static uint64_t weight_of(const struct stack_info *st, enum folded_weight weight)
{
	switch (weight) {
	case FOLDED_ALLOC_COUNT:
		return st->allocs;
	case FOLDED_ALLOC_BYTES:
		return st->bytes;
	case FOLDED_PEAK_BYTES:
		return st->at_peak_bytes;
	case FOLDED_LIVE_BYTES:
	default:
		return st->live_bytes;
	}
}

/* lines: how many stacks were written (a weight of 0 writes none). */
static int emit_lines(FILE *f, const struct model *m, enum folded_weight weight, size_t *lines)
{
	size_t n = m->stacks ? stacks__count(m->stacks) : 0, i;
	struct sym_frame fr[SYM_MAX_CHAIN];
	size_t nr, j;
	uint32_t k;

	for (i = 1; i <= n; i++) {
		const struct stack_info *st = stacks__get(m->stacks, (uint32_t)i);
		uint64_t w = weight_of(st, weight);

		if (!w || !st->nr)
			continue;
		++*lines;
		report_folded__put_end(f, st->end);
		/* root first: each address's frames outermost first, the
		 * function its calls were inlined into, then those calls */
		for (k = st->nr; k-- > 0;) {
			callsites__frames(m->sites, st->ips[k], fr, SYM_MAX_CHAIN, &nr);
			for (j = nr; j-- > 0;) {
				report_folded__put_frame(f, &fr[j]);
				if (k || j)
					fputc(';', f);
			}
		}
		fprintf(f, " %llu\n", (unsigned long long)w);
	}
	return ferror(f) ? -EIO : 0;
}

int report_folded__emit(FILE *f, const struct model *m, enum folded_weight weight)
{
	size_t lines = 0;

	return emit_lines(f, m, weight, &lines);
}

struct folded_ctx {
	const struct model *m;
	enum folded_weight weight;
	size_t lines;
};

static int emit(FILE *f, void *ctx)
{
	struct folded_ctx *c = ctx;

	c->lines = 0;
	return emit_lines(f, c->m, c->weight, &c->lines);
}

int report_folded__write(const char *path, const struct model *m, enum folded_weight weight)
{
	static const char *const what[] = {
		[FOLDED_LIVE_BYTES] = "holds bytes at the end (everything was freed)",
		[FOLDED_ALLOC_BYTES] = "allocated bytes",
		[FOLDED_ALLOC_COUNT] = "made allocations",
		[FOLDED_PEAK_BYTES] = "held bytes at the peak",
	};
	struct folded_ctx c = { m, weight, 0 };
	int err = outfile__write(path, emit, &c);

	/* an empty flame graph without a word looks like a bug of ours */
	if (!err && !c.lines)
		fprintf(stderr, "ttbpf: %s is empty: no stack %s%s\n", path, what[weight],
			weight == FOLDED_LIVE_BYTES || weight == FOLDED_PEAK_BYTES
				? "; try --folded-by allocated"
				: "");
	return err;
}
