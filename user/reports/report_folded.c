// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include "callsites.h"
#include "json_reader.h"
#include "outfile.h"
#include "report_json.h"
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

/* An empty flame graph without a word looks like a bug of ours. */
static void say_if_empty(const char *path, size_t lines, enum folded_weight weight)
{
	static const char *const what[] = {
		[FOLDED_LIVE_BYTES] = "holds bytes at the end (everything was freed)",
		[FOLDED_ALLOC_BYTES] = "allocated bytes",
		[FOLDED_ALLOC_COUNT] = "made allocations",
		[FOLDED_PEAK_BYTES] = "held bytes at the peak",
	};

	if (!lines)
		fprintf(stderr, "ttbpf: %s is empty: no stack %s%s\n", path, what[weight],
			weight == FOLDED_LIVE_BYTES || weight == FOLDED_PEAK_BYTES
				? "; try --folded-by allocated"
				: "");
}

int report_folded__write(const char *path, const struct model *m, enum folded_weight weight)
{
	struct folded_ctx c = { m, weight, 0 };
	int err = outfile__write(path, emit, &c);

	if (!err)
		say_if_empty(path, c.lines, weight);
	return err;
}

static uint32_t end_of(const char *name)
{
	uint32_t e;

	for (e = 0; e < TT_STACK_END_CNT; e++)
		if (!strcmp(name, report_json__stack_end_name(e)))
			return e;
	return TT_STACK_END_ROOT; /* unknown: no marker rather than a false one */
}

/*
 * The JSON lists a stack's frames innermost first, each address's inlined
 * calls before the function they were inlined into: reversed, they are in
 * folded order, and named as report_folded__put_frame names the model's.
 */
size_t report_folded__put_json(FILE *f, const struct jnode *st)
{
	const struct jnode *frames = jnode__get(st, "frames");
	size_t n = jnode__type(frames) == JARR ? jnode__len(frames) : 0, k;

	report_folded__put_end(f, end_of(jnode__str(jnode__get(st, "end"), "root")));
	for (k = n; k-- > 0;) {
		const struct jnode *fr = jnode__at(frames, k);
		struct sym_frame sf = {
			.ip = strtoull(jnode__str(jnode__get(fr, "ip"), "0"), NULL, 16),
			.symbol = jnode__str(jnode__get(fr, "symbol"), NULL),
			.module = jnode__str(jnode__get(fr, "module"), NULL),
			.inlined = jnode__bool(jnode__get(fr, "inlined"), false),
		};

		if (!sf.symbol)
			sf.module_offset = jnode__u64(jnode__get(fr, "offset"), 0);
		report_folded__put_frame(f, &sf);
		if (k)
			fputc(';', f);
	}
	return n;
}

/* The figure of a JSON stack that --folded-by weighs it by. */
static uint64_t json_weight(const struct jnode *st, enum folded_weight weight)
{
	static const char *const key[] = {
		[FOLDED_LIVE_BYTES] = "live_bytes",
		[FOLDED_ALLOC_BYTES] = "bytes",
		[FOLDED_ALLOC_COUNT] = "allocations",
		[FOLDED_PEAK_BYTES] = "at_peak_bytes",
	};

	return jnode__u64(jnode__get(st, key[weight]), 0);
}

struct folded_json {
	bool is_report; /* format_version 1 */
	const char *json;
	enum folded_weight weight;
	FILE *f;
	size_t lines;
	char err[256];
};

static int json_stack(void *ctx, const char *key, size_t index, const struct jnode *st)
{
	struct folded_json *c = ctx;
	const struct jnode *frames = jnode__get(st, "frames");
	uint64_t w = json_weight(st, c->weight);

	(void)index;
	if (!strcmp(key, "format_version")) {
		c->is_report = jnode__u64(st, 0) == 1;
		return 0;
	}
	/* as for the model's: no line for a stack of no weight or no frames */
	if (!w || jnode__type(frames) != JARR || !jnode__len(frames))
		return 0;
	report_folded__put_json(c->f, st);
	fprintf(c->f, " %llu\n", (unsigned long long)w);
	c->lines++;
	return ferror(c->f) ? -EIO : 0;
}

static int emit_json(FILE *f, void *ctx)
{
	static const struct json_member stacks[] = {
		{ "format_version", JSON_KEEP }, { "stacks", JSON_EACH }, { NULL, JSON_SKIP },
	};
	struct folded_json *c = ctx;
	int err;

	c->f = f;
	c->lines = 0;
	err = json_stream__load(c->json, stacks, json_stack, c, c->err, sizeof(c->err));
	if (!err && !c->is_report)
		err = -EDOM;
	if (err && err != -EIO)
		fprintf(stderr, "ttbpf: cannot read report %s: %s\n", c->json,
			err == -EDOM ? "not a ttbpf report" : c->err);
	return err == -EDOM ? -EINVAL : err;
}

int report_folded__write_json(const char *path, const char *json, enum folded_weight weight)
{
	struct folded_json c = { .json = json, .weight = weight };
	int err = outfile__write(path, emit_json, &c);

	if (!err)
		say_if_empty(path, c.lines, weight);
	return err;
}
