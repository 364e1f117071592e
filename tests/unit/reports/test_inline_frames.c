// SPDX-License-Identifier: Apache-2.0
/*
 * Inlined frames through the reports: a stack whose address is inside calls
 * inlined into a function of this very binary (built -O2 -g; always_inline
 * inlines at any level), symbolized live from our own process. The JSON
 * report expands the address into its frames, marks the inlined ones and
 * points call_site at the innermost; the dashboard read back from that JSON
 * (what `ttbpf report FILE.json` draws) takes the inlined function as the
 * call site and the function it was inlined into as its caller; folded
 * output marks the inlined frames "_[i]".
 *
 * The addresses and their known lines come from inline_chain.h. Run from
 * the repo root (that file is read).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "callsites.h"
#include "dash_build.h"
#include "model.h"
#include "report_folded.h"
#include "report_json.h"
#include "report_text.h"
#include "stacks.h"

#include "inline_chain.h"

#define SRC INLINE_CHAIN_SRC

static struct model mo;
static struct report_meta meta;
static char *out;
static size_t out_len;

/*
 * One stack, innermost first: an address in libc (in the allocator: not the
 * call site), the one in inl_root inside the inlined calls, plain_fn's.
 */
static void model_up(void)
{
	uint64_t ips[3];
	uint32_t id;

	ips[0] = (uint64_t)(uintptr_t)&getppid + 1; /* a return address one past it */
	ips[1] = inl_root();
	ips[2] = plain_fn();
	cr_assert_eq(model__init(&mo, 1000, getpid(), true, 16), 0);
	cr_assert_not_null(mo.sym, "cannot symbolize our own process");
	id = stacks__intern(mo.stacks, ips, 3, TT_STACK_END_ROOT);
	cr_assert_eq(id, 1);
	stacks__on_alloc(mo.stacks, id, 64);
	cr_assert_eq(model__finish(&mo, "libc.so.6"), 0);
	meta = (struct report_meta){
		.pid = getpid(), .command = "test", .allocator = "libc.so.6", .launched = true,
		.start_ns = 1000, .end_ns = 1000 + 2000000,
	};
	out = NULL;
	out_len = 0;
}

static void model_down(void)
{
	model__fini(&mo);
	free(out);
}

TestSuite(inline_frames, .init = model_up, .fini = model_down);

static const char *str_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = s ? strlen(s) : 0, b = strlen(suffix);

	return s && a >= b && !strcmp(s + a - b, suffix);
}

static void check_json_frame(json_t *f, const char *sym, bool inlined, const char *mark,
			     const char *ip)
{
	json_t *inl = json_object_get(f, "inlined");

	cr_assert_str_eq(str_of(f, "symbol"), sym);
	cr_assert(ends_with(str_of(f, "file"), SRC), "%s: file %s", sym, str_of(f, "file"));
	cr_assert_eq(json_integer_value(json_object_get(f, "line")), mark_line(mark), "%s", sym);
	if (inlined)
		cr_assert(json_is_true(inl), "%s: not marked inlined", sym);
	else
		cr_assert_null(inl, "%s: a real frame has no \"inlined\"", sym);
	if (ip)
		cr_assert_str_eq(str_of(f, "ip"), ip, "%s: the address's ip", sym);
}

Test(inline_frames, json_has_them_and_the_dashboard_reads_them_back)
{
	char path[] = "/tmp/ttbpf-inline-XXXXXX";
	struct dash_build *b;
	const struct dash *d;
	json_t *j, *st, *frames, *f;
	json_error_t jerr;
	size_t k, site, nr;
	const char *ip;
	FILE *fp;
	int fd;

	fp = open_memstream(&out, &out_len);
	cr_assert_not_null(fp);
	cr_assert_eq(report_json__emit(fp, &mo, &meta), 0);
	cr_assert_eq(fclose(fp), 0);
	j = json_loadb(out, out_len, 0, &jerr);
	cr_assert_not_null(j, "jansson: %s", jerr.text);

	st = json_array_get(json_object_get(j, "stacks"), 0);
	frames = json_object_get(st, "frames");
	site = (size_t)json_integer_value(json_object_get(st, "call_site"));
	nr = json_array_size(frames);
	/* libc's frames (its own inlined ones too, with its debug info), then ours */
	cr_assert_geq(site, 1);
	cr_assert_eq(nr, site + 4, "frames: %zu, call site %zu", nr, site);
	for (k = 0; k < site; k++)
		cr_assert(strstr(str_of(json_array_get(frames, k), "module"), "libc"),
			  "frame %zu: %s", k, str_of(json_array_get(frames, k), "module"));
	f = json_array_get(frames, site);
	ip = str_of(f, "ip");
	cr_assert_not_null(ip);
	check_json_frame(f, "inl_inner", true, "inl_inner", ip);
	check_json_frame(json_array_get(frames, site + 1), "inl_outer", true, "inl_outer", ip);
	check_json_frame(json_array_get(frames, site + 2), "inl_root", false, "inl_root", ip);
	check_json_frame(json_array_get(frames, site + 3), "plain_fn", false, "plain_fn", NULL);
	cr_assert_str_neq(str_of(json_array_get(frames, site + 3), "ip"), ip);
	/* the call site is the inlined function that makes the call */
	f = json_array_get(json_object_get(j, "call_sites"), 0);
	cr_assert_str_eq(str_of(f, "function"), "inl_inner");
	cr_assert_eq(json_integer_value(json_object_get(f, "line")), mark_line("inl_inner"));
	json_decref(j);

	/* read back as `ttbpf report FILE.json` does */
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, out, out_len), (ssize_t)out_len);
	close(fd);
	cr_assert_eq(dash_build__load(&b, path, NULL), 0);
	unlink(path);
	d = dash_build__dash(b);
	cr_assert_geq(d->site_cnt, 2);
	cr_assert_eq(d->sites[0].parent, -1);
	cr_assert_str_eq(d->sites[0].function, "inl_inner");
	cr_assert_eq(d->sites[0].line, mark_line("inl_inner"));
	cr_assert_eq(d->sites[0].bytes, 64);
	/* its caller: the function it is inlined in, not the next address */
	cr_assert_eq(d->sites[1].parent, 0);
	cr_assert_str_eq(d->sites[1].function, "inl_outer");
	cr_assert_eq(d->sites[1].line, mark_line("inl_outer"));
	cr_assert_eq(d->sites[1].bytes, 64);
	dash_build__free(b);
}

Test(inline_frames, folded_marks_them)
{
	FILE *fp = open_memstream(&out, &out_len);

	cr_assert_not_null(fp);
	cr_assert_eq(report_folded__emit(fp, &mo, FOLDED_ALLOC_BYTES), 0);
	cr_assert_eq(fclose(fp), 0);
	/* root first: plain_fn, inl_root and what is inlined in it, then libc */
	cr_assert_not_null(strstr(out, "plain_fn;inl_root;inl_outer_[i];inl_inner_[i];"), "%s",
			   out);
	cr_assert(ends_with(out, " 64\n"), "%s", out);
	cr_assert_eq(strchr(out, '\n') + 1, out + out_len, "one line: %s", out);
}

Test(inline_frames, callsite_is_the_innermost_frame)
{
	const struct callsite *c = callsites__of_stack(mo.sites, 1, NULL);
	struct sym_frame fr[SYM_MAX_CHAIN], one;
	size_t nr;

	cr_assert_not_null(c);
	cr_assert_str_eq(c->frame.symbol, "inl_inner");
	cr_assert(c->frame.inlined);
	cr_assert_eq(callsites__frames(mo.sites, c->ip, fr, SYM_MAX_CHAIN, &nr), 0);
	cr_assert_eq(nr, 3);
	cr_assert_str_eq(fr[2].symbol, "inl_root");
	cr_assert_not(fr[2].inlined);
	/* one address: the same ip and module offset for each of its frames */
	cr_assert(fr[0].ip == c->ip && fr[1].ip == c->ip && fr[2].ip == c->ip);
	cr_assert(fr[0].module_offset == fr[2].module_offset &&
		  fr[1].module_offset == fr[2].module_offset);
	cr_assert_eq(fr[0].sym_offset, 0);
	cr_assert_gt(fr[2].sym_offset, 0);
	cr_assert_eq(callsites__frame(mo.sites, c->ip, &one), 0);
	cr_assert_str_eq(one.symbol, "inl_inner");
	cr_assert_eq(one.line, mark_line("inl_inner"));
}
