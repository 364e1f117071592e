// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: call sites name the user's functions, not the allocation
 * wrappers. tests/fixtures/callsites/wrapper_sites.c allocates everything
 * through xmalloc/xstrdup (gnulib's names, built-in wrappers), pool_alloc
 * (a wrapper only --skip-frames names) and a stripped library;
 * cxx_sites.cc through operator new, std::vector and std::string. The
 * summary's two lists ("allocated, by allocation site", and the leak report
 * "still live, by allocation site") and the JSON's call_sites and leaks
 * must name load_config, build_index, fill_vector()... with the stack under
 * each entry, exact figures (the fixtures' sizes are whole KiB where the
 * summary rounds), --skip-frames moving a site, --by-address splitting one,
 * --top and --stack-lines setting the lengths, and module+0xOFF for the
 * stripped library's function.
 */
#include "e2e.h"

#define TIMEOUT_MS 60000
#define WRAP "wrapper_sites"
#define CXX "cxx_sites"

E2E_SUITE_IN_DIR(callsites, true);

/* ttbpf --json DIR/out.json [opts] -- FIXTURE, summary on stderr (tt->err). */
static json_t *trace(struct proc *tt, const char *fixture, char *const *opts)
{
	char json[300], *argv[32];
	int n = 0, rc;

	snprintf(json, sizeof(json), "%s/out.json", dir);
	argv[n++] = (char *)e2e_tool();
	argv[n++] = "--json";
	argv[n++] = json;
	while (opts && *opts && n < 28)
		argv[n++] = *opts++;
	argv[n++] = "--";
	argv[n++] = (char *)e2e_fixture(fixture);
	argv[n] = NULL;
	rc = run(tt, argv, TIMEOUT_MS);
	e2e_expect_no_crash(tt);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt->err);
	return load_json(json);
}

/* ---- reading the summary ------------------------------------------------ */

#define MAX_LINES 512
#define LINE_MAX_BYTES 1024

struct list {
	char line[MAX_LINES][LINE_MAX_BYTES];
	size_t n;
};

/* The lines of the summary's list under title (an exact line), up to the
 * next line that is not indented by four spaces. */
static void read_list(const char *err, const char *title, struct list *l)
{
	const char *p = strstr(err, title), *end;

	memset(l, 0, sizeof(*l));
	cr_assert_not_null(p, "no \"%s\" in the summary:\n%s", title, err);
	p = strchr(p, '\n');
	while (p && p[1] && !strncmp(p + 1, "    ", 4) && l->n < MAX_LINES) {
		p++;
		end = strchr(p, '\n');
		if (!end)
			end = p + strlen(p);
		snprintf(l->line[l->n++], LINE_MAX_BYTES, "%.*s", (int)(end - p), p);
		p = *end ? end : NULL;
	}
}

/* "    40.0 KB in   40 allocations: fn ..." or "... in 40 blocks, oldest ...": an
 * entry, not one of the stack lines under it, nor the "... and N more" line */
static bool is_entry(const char *s)
{
	return strstr(s, " allocation: ") || strstr(s, " allocations: ") ||
	       strstr(s, " block, oldest ") || strstr(s, " blocks, oldest ");
}

static size_t entry_count(const struct list *l)
{
	size_t i, n = 0;

	for (i = 0; i < l->n; i++)
		n += is_entry(l->line[i]);
	return n;
}

/* The index of the entry whose site (what follows ": ") starts with site. */
static long entry_of(const struct list *l, const char *site)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const char *s = is_entry(l->line[i]) ? strstr(l->line[i], ": ") : NULL;

		if (s && !strncmp(s + 2, site, strlen(site)))
			return (long)i;
	}
	return -1;
}

static const char *entry(const struct list *l, const char *site, const char *err)
{
	long i = entry_of(l, site);

	cr_assert_geq(i, 0, "no entry for %s in:\n%s", site, err);
	return l->line[i];
}

/* The stack lines under an entry. */
static size_t stack_lines(const struct list *l, const char *site, const char **first)
{
	long i = entry_of(l, site);
	size_t n = 0;

	cr_assert_geq(i, 0, "no entry for %s", site);
	for (i++; (size_t)i < l->n && !is_entry(l->line[i]) && !strncmp(l->line[i], "          ", 10) &&
		  l->line[i][10] != ' ';
	     i++)
		if (n++ < 8)
			first[n - 1] = l->line[i] + 10;
	return n;
}

/* ---- reading the JSON --------------------------------------------------- */

static json_t *site_named(json_t *j, const char *fn, size_t nth)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(j, "call_sites"), i, c)
		if (!strcmp(nz(jstr(c, "function")), fn) && !nth--)
			return c;
	return NULL;
}

static size_t sites_named(json_t *j, const char *fn)
{
	size_t n = 0;

	while (site_named(j, fn, n))
		n++;
	return n;
}

static long long num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	cr_assert(json_is_integer(v), "field %s missing or not an integer", key);
	return json_integer_value(v);
}

static json_t *stack_by_id(json_t *j, long long id)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(j, "stacks"), i, s)
		if (num(s, "id") == id)
			return s;
	return NULL;
}

/* A site's site_frame names the frame of its stack that is the site. */
static void expect_site_frame(json_t *j, json_t *site)
{
	json_t *st = stack_by_id(j, num(site, "stack_id"));
	json_t *f;

	cr_assert_not_null(st, "no stack %lld", num(site, "stack_id"));
	f = json_array_get(json_object_get(st, "frames"), (size_t)num(site, "site_frame"));
	cr_assert_not_null(f, "site_frame %lld out of the stack", num(site, "site_frame"));
	cr_expect_str_eq(nz(jstr(f, "symbol")), nz(jstr(site, "function")));
	cr_expect_eq(num(st, "call_site"), num(site, "site_frame"),
		     "the stack's own call_site is the same frame");
}

/* ---- tests --------------------------------------------------------------- */

Test(callsites, wrappers_are_not_sites)
{
	static const char *const funcs[] = { "load_config", "pool_alloc", "two_calls",
					     "parse_lines" };
	struct list *al = calloc(1, sizeof(*al)), *lv = calloc(1, sizeof(*lv));
	const char *st[8];
	struct proc tt;
	json_t *j = trace(&tt, WRAP, NULL), *c, *l;
	size_t i, k;

	cr_assert(al && lv);
	read_list(tt.err, "  allocated, by allocation site:\n", al);
	read_list(tt.err, "  still live, by allocation site:\n", lv);
	/* the summary, exact where the fixture's sizes are whole KiB */
	cr_expect(strstr(entry(al, "load_config (", tt.err), "40.0 KB in        40 allocations: "),
		  "%s", entry(al, "load_config (", tt.err));
	cr_expect(strstr(entry(al, "pool_alloc (", tt.err), "12.0 KB in        24 allocations: "));
	cr_expect(strstr(entry(al, "two_calls (", tt.err), "8.0 KB in         2 allocations: "));
	cr_expect(strstr(entry(al, "two_calls (", tt.err), ", +1 other call)"),
		  "one function's two calls are one entry: %s", entry(al, "two_calls (", tt.err));
	cr_expect(strstr(entry(al, "parse_lines (", tt.err), "6.0 KB in        96 allocations: "));
	cr_expect(strstr(entry(lv, "load_config (", tt.err), "40.0 KB in     40 blocks, oldest "));
	cr_expect(strstr(entry(lv, "pool_alloc (", tt.err), "12.0 KB in     24 blocks, oldest "));
	cr_expect(strstr(entry(lv, "two_calls (", tt.err), "8.0 KB in      2 blocks, oldest "));
	cr_expect_lt(entry_of(lv, "parse_lines"), 0, "parse_lines freed all it allocated");
	/* the wrappers are never an entry */
	cr_expect_lt(entry_of(al, "xmalloc"), 0, "%s", tt.err);
	cr_expect_lt(entry_of(al, "xstrdup"), 0, "%s", tt.err);
	cr_expect_lt(entry_of(lv, "xmalloc"), 0, "%s", tt.err);
	/* the stack under each entry: its callers, 4 lines by default */
	cr_assert_eq(stack_lines(al, "load_config (", st), 4, "%s", tt.err);
	cr_expect(!strncmp(st[0], "run_all (tests/fixtures/callsites/wrapper_sites.c:", 50), "%s",
		  st[0]);
	cr_expect(!strncmp(st[1], "main (tests/fixtures/callsites/wrapper_sites.c:", 47), "%s",
		  st[1]);
	cr_assert_eq(stack_lines(lv, "load_config (", st), 4);
	cr_expect(!strncmp(st[0], "run_all (", 9), "%s", st[0]);
	cr_assert_eq(stack_lines(al, "pool_alloc (", st), 4);
	cr_expect(!strncmp(st[0], "build_index (", 13), "%s", st[0]);
	cr_expect(!strncmp(st[1], "run_all (", 9), "%s", st[1]);

	/* the JSON: exact figures, the site's frame, names */
	for (k = 0; k < sizeof(funcs) / sizeof(funcs[0]); k++) {
		c = site_named(j, funcs[k], 0);
		cr_assert_not_null(c, "no call site %s", funcs[k]);
		cr_expect_eq(sites_named(j, funcs[k]), 1, "%s is one site", funcs[k]);
		cr_expect_str_eq(nz(jstr(c, "name")), funcs[k]);
		expect_site_frame(j, c);
	}
	c = site_named(j, "load_config", 0);
	cr_expect_eq(num(c, "bytes"), truth(tt.out, "load_config_bytes"));
	cr_expect_eq(num(c, "allocations"), 40);
	cr_expect_eq(num(c, "live_bytes"), 40960);
	cr_expect_eq(num(c, "live_count"), 40);
	c = site_named(j, "pool_alloc", 0);
	cr_expect_eq(num(c, "bytes"), truth(tt.out, "build_index_bytes"));
	c = site_named(j, "two_calls", 0);
	cr_expect_eq(num(c, "bytes"), truth(tt.out, "two_calls_bytes"));
	cr_expect_eq(num(c, "stacks"), 2);
	c = site_named(j, "parse_lines", 0);
	cr_expect_eq(num(c, "bytes"), truth(tt.out, "parse_lines_bytes"));
	cr_expect_eq(num(c, "allocations"), 96);
	cr_expect_eq(num(c, "live_bytes"), 0);
	cr_expect_eq(sites_named(j, "xmalloc") + sites_named(j, "xstrdup"), 0);
	/* leaks: per stack, each pointing at its site */
	json_array_foreach(json_object_get(j, "leaks"), i, l) {
		json_t *site;

		if (json_is_null(json_object_get(l, "call_site")))
			continue;
		site = json_array_get(json_object_get(j, "call_sites"), (size_t)num(l, "call_site"));
		cr_assert_not_null(site);
		cr_expect_str_eq(nz(jstr(l, "function")), nz(jstr(site, "function")));
		cr_expect_str_eq(nz(jstr(l, "name")), nz(jstr(site, "name")));
		cr_expect_str_neq(nz(jstr(l, "function")), "xmalloc");
	}
	json_decref(j);
	proc_free(&tt);
	free(al);
	free(lv);
}

Test(callsites, stripped_module_reads_module_offset)
{
	struct list *al = calloc(1, sizeof(*al)), *lv = calloc(1, sizeof(*lv));
	const char *st[8], *e;
	struct proc tt;
	json_t *j = trace(&tt, WRAP, NULL), *c;
	size_t i;
	bool found = false;

	cr_assert(al && lv);
	read_list(tt.err, "  allocated, by allocation site:\n", al);
	read_list(tt.err, "  still live, by allocation site:\n", lv);
	e = entry(al, "libstripped_sites.so+0x", tt.err);
	cr_expect(strstr(e, "1.5 KB in         6 allocations: libstripped_sites.so+0x"), "%s", e);
	cr_expect(!strstr(tt.err, "??"), "no ?? anywhere:\n%s", tt.err);
	cr_assert_geq(stack_lines(al, "libstripped_sites.so+0x", st), 3);
	cr_expect_str_eq(st[0], "stripped_entry", "its caller, exported, has its name");
	cr_expect(!strncmp(st[1], "run_all (", 9), "%s", st[1]);
	entry(lv, "libstripped_sites.so+0x", tt.err);
	json_array_foreach(json_object_get(j, "call_sites"), i, c) {
		const char *name = nz(jstr(c, "name"));

		if (strncmp(name, "libstripped_sites.so+0x", 23))
			continue;
		found = true;
		cr_expect(json_is_null(json_object_get(c, "function")), "no symbol: function is null");
		cr_expect_eq(num(c, "bytes"), truth(tt.out, "stripped_bytes"));
		cr_expect_eq(num(c, "allocations"), 6);
		cr_expect_eq(num(c, "live_bytes"), 1536);
		cr_expect(strstr(e, name), "the summary's name is the JSON's: %s in %s", name, e);
	}
	cr_expect(found, "no call site named libstripped_sites.so+0x...");
	json_decref(j);
	proc_free(&tt);
	free(al);
	free(lv);
}

Test(callsites, skip_frames_moves_the_site)
{
	char *opts[] = { "--skip-frames", "^pool_alloc$", NULL };
	struct list *al = calloc(1, sizeof(*al)), *lv = calloc(1, sizeof(*lv));
	const char *st[8];
	struct proc tt;
	json_t *j = trace(&tt, WRAP, opts), *c;

	cr_assert(al && lv);
	read_list(tt.err, "  allocated, by allocation site:\n", al);
	read_list(tt.err, "  still live, by allocation site:\n", lv);
	cr_expect_lt(entry_of(al, "pool_alloc"), 0, "%s", tt.err);
	cr_expect_lt(entry_of(lv, "pool_alloc"), 0, "%s", tt.err);
	cr_expect(strstr(entry(al, "build_index (", tt.err), "12.0 KB in        24 allocations: "));
	cr_expect(strstr(entry(lv, "build_index (", tt.err), "12.0 KB in     24 blocks, oldest "));
	cr_assert_eq(stack_lines(al, "build_index (", st), 4);
	cr_expect(!strncmp(st[0], "run_all (", 9), "%s", st[0]);
	/* the other sites stay where they were */
	cr_expect(strstr(entry(al, "load_config (", tt.err), "40.0 KB in        40 allocations: "));
	c = site_named(j, "build_index", 0);
	cr_assert_not_null(c);
	cr_expect_eq(num(c, "bytes"), truth(tt.out, "build_index_bytes"));
	cr_expect_eq(num(c, "allocations"), 24);
	expect_site_frame(j, c);
	cr_expect_eq(sites_named(j, "pool_alloc"), 0);
	json_decref(j);
	proc_free(&tt);
	free(al);
	free(lv);
}

Test(callsites, by_address_splits)
{
	char *opts[] = { "--by-address", NULL };
	struct list *al = calloc(1, sizeof(*al));
	struct proc tt;
	json_t *j = trace(&tt, WRAP, opts), *a, *b;
	size_t i, n = 0;

	cr_assert(al);
	read_list(tt.err, "  allocated, by allocation site:\n", al);
	for (i = 0; i < al->n; i++)
		if (is_entry(al->line[i]) && strstr(al->line[i], ": two_calls (")) {
			n++;
			cr_expect(!strstr(al->line[i], "other call"), "%s", al->line[i]);
			cr_expect(strstr(al->line[i], "5.0 KB in         1 allocation: two_calls (") ||
					  strstr(al->line[i], "3.0 KB in         1 allocation: two_calls ("),
				  "%s", al->line[i]);
		}
	cr_expect_eq(n, 2, "two_calls's two calls are two entries:\n%s", tt.err);
	cr_assert_eq(sites_named(j, "two_calls"), 2);
	a = site_named(j, "two_calls", 0);
	b = site_named(j, "two_calls", 1);
	cr_expect_eq(num(a, "bytes"), 5120, "most bytes first");
	cr_expect_eq(num(b, "bytes"), 3072);
	cr_expect_neq(strcmp(nz(jstr(a, "ip")), nz(jstr(b, "ip"))), 0);
	cr_expect_neq(num(a, "line"), num(b, "line"));
	/* load_config has one call: nothing to split */
	cr_expect_eq(sites_named(j, "load_config"), 1);
	json_decref(j);
	proc_free(&tt);
	free(al);
}

Test(callsites, top_sets_the_list_lengths)
{
	char *top2[] = { "--top", "2", NULL }, *top100[] = { "--top", "100", NULL };
	struct list *al = calloc(1, sizeof(*al)), *lv = calloc(1, sizeof(*lv));
	struct proc tt, tt2;
	json_t *j = trace(&tt, WRAP, top2), *j2, *c;
	size_t sites, live = 0, i;
	char want[128];

	cr_assert(al && lv);
	sites = json_array_size(json_object_get(j, "call_sites"));
	json_array_foreach(json_object_get(j, "call_sites"), i, c)
		live += num(c, "live_bytes") > 0;
	cr_assert_gt(sites, 4, "the fixture has more sites than --top 2");
	cr_assert_gt(live, 3);
	read_list(tt.err, "  allocated, by allocation site:\n", al);
	read_list(tt.err, "  still live, by allocation site:\n", lv);
	cr_expect_eq(entry_count(al), 2, "%s", tt.err);
	cr_expect_eq(entry_count(lv), 2, "%s", tt.err);
	snprintf(want, sizeof(want), "    ... and %zu more allocation sites (use --top N", sites - 2);
	cr_expect(!strncmp(al->line[al->n - 1], want, strlen(want)), "want \"%s\", got \"%s\"", want,
		  al->line[al->n - 1]);
	snprintf(want, sizeof(want), "    ... and %zu more allocation sites holding memory (use --top N",
		 live - 2);
	cr_expect(!strncmp(lv->line[lv->n - 1], want, strlen(want)), "want \"%s\", got \"%s\"", want,
		  lv->line[lv->n - 1]);
	/* the first two are the largest */
	cr_expect_geq(entry_of(al, "load_config ("), 0);
	cr_expect_geq(entry_of(al, "pool_alloc ("), 0);

	/* room for all: every site, no "more" line */
	j2 = trace(&tt2, WRAP, top100);
	read_list(tt2.err, "  allocated, by allocation site:\n", al);
	read_list(tt2.err, "  still live, by allocation site:\n", lv);
	cr_expect_eq(entry_count(al), json_array_size(json_object_get(j2, "call_sites")));
	cr_expect(!strstr(tt2.err, "more allocation sites"), "%s", tt2.err);
	json_decref(j);
	json_decref(j2);
	proc_free(&tt);
	proc_free(&tt2);
	free(al);
	free(lv);
}

Test(callsites, stack_lines_option)
{
	char *none[] = { "--stack-lines", "0", NULL }, *two[] = { "--stack-lines", "2", NULL };
	struct list *al = calloc(1, sizeof(*al));
	const char *st[8];
	struct proc tt, tt2;
	json_t *j = trace(&tt, WRAP, none), *j2;
	size_t i;

	cr_assert(al);
	read_list(tt.err, "  allocated, by allocation site:\n", al);
	for (i = 0; i < al->n; i++)
		cr_expect(is_entry(al->line[i]), "not an entry with --stack-lines 0: %s", al->line[i]);
	j2 = trace(&tt2, WRAP, two);
	read_list(tt2.err, "  allocated, by allocation site:\n", al);
	cr_expect_eq(stack_lines(al, "load_config (", st), 2);
	cr_expect(!strncmp(st[0], "run_all (", 9), "%s", st[0]);
	cr_expect(!strncmp(st[1], "main (", 6), "%s", st[1]);
	cr_expect_eq(stack_lines(al, "libstripped_sites.so+0x", st), 2);
	json_decref(j);
	json_decref(j2);
	proc_free(&tt);
	proc_free(&tt2);
	free(al);
}

Test(callsites, cxx_operator_new_through_vector_and_string)
{
	static const char *const funcs[] = { "fill_vector()", "make_names()" };
	struct list *al = calloc(1, sizeof(*al)), *lv = calloc(1, sizeof(*lv));
	const char *st[8];
	struct proc tt;
	json_t *j = trace(&tt, CXX, NULL), *c;
	size_t i, k;

	cr_assert(al && lv);
	read_list(tt.err, "  allocated, by allocation site:\n", al);
	read_list(tt.err, "  still live, by allocation site:\n", lv);
	for (k = 0; k < 2; k++) {
		char site[64];

		snprintf(site, sizeof(site), "%s (tests/fixtures/callsites/cxx_sites.cc:", funcs[k]);
		entry(al, site, tt.err);
		entry(lv, site, tt.err);
		cr_assert_eq(stack_lines(al, site, st), 4, "%s", tt.err);
		cr_expect(!strncmp(st[0], "run_all() (", 11), "%s", st[0]);
		cr_expect(!strncmp(st[1], "main (", 6), "%s", st[1]);
		cr_assert_eq(stack_lines(lv, site, st), 4);
		cr_expect(!strncmp(st[0], "run_all() (", 11), "%s", st[0]);
		c = site_named(j, funcs[k], 0);
		cr_assert_not_null(c, "no call site %s", funcs[k]);
		cr_expect_eq(sites_named(j, funcs[k]), 1);
		expect_site_frame(j, c);
	}
	/* no entry is operator new or the standard library */
	for (i = 0; i < al->n; i++)
		if (is_entry(al->line[i]))
			cr_expect(!strstr(al->line[i], ": operator new") && !strstr(al->line[i], ": std::"),
				  "%s", al->line[i]);
	json_array_foreach(json_object_get(j, "call_sites"), i, c) {
		const char *fn = nz(jstr(c, "function"));

		cr_expect(strncmp(fn, "operator new", 12) && strncmp(fn, "std::", 5) &&
				  !strstr(fn, " std::"),
			  "call site %s", fn);
	}
	c = site_named(j, "fill_vector()", 0);
	cr_expect_eq(num(c, "allocations"), truth(tt.out, "vector_allocs"));
	cr_expect_eq(num(c, "bytes"), truth(tt.out, "vector_bytes"));
	cr_expect_eq(num(c, "live_bytes"), truth(tt.out, "vector_live_bytes"));
	cr_expect_eq(num(c, "live_count"), 2);
	c = site_named(j, "make_names()", 0);
	cr_expect_eq(num(c, "allocations"), truth(tt.out, "names_allocs"));
	cr_expect_eq(num(c, "bytes"), truth(tt.out, "names_bytes"));
	cr_expect_eq(num(c, "live_bytes"), truth(tt.out, "names_bytes"));
	json_decref(j);
	proc_free(&tt);
	free(al);
	free(lv);
}

/*
 * A site with no name three unnamed frames below the first named one: the
 * stack lines go on past --stack-lines 1 to deep_entry, the entry names a
 * function; with --stack-lines 0 there are none; `report` from the JSON
 * prints the same lines.
 */
Test(callsites, unnamed_site_lines_reach_a_name)
{
	char *one[] = { "--stack-lines", "1", NULL }, *none[] = { "--stack-lines", "0", NULL };
	char json[300], *rep[] = { (char *)e2e_tool(), "report", json, "--stack-lines", "1", NULL };
	struct list *al = calloc(3, sizeof(*al));
	const char *st[8], *e;
	struct proc tt, t0, r;
	json_t *j;
	size_t n, k;

	cr_assert(al);
	j = trace(&tt, "deep_sites", one);
	read_list(tt.err, "  allocated, by allocation site:\n", &al[0]);
	e = entry(&al[0], "libdeep_sites.so+0x", tt.err);
	cr_expect(strstr(e, "512 B in         4 allocations: libdeep_sites.so+0x"), "%s", e);
	n = stack_lines(&al[0], "libdeep_sites.so+0x", st);
	cr_assert_eq(n, 3, "deep_b, deep_a, deep_entry:\n%s", tt.err);
	for (k = 0; k < 2; k++)
		cr_expect(!strncmp(st[k], "libdeep_sites.so+0x", 19), "%s", st[k]);
	cr_expect_str_eq(st[2], "deep_entry");
	cr_expect_eq(jint(j, "total_allocated") >= truth(tt.out, "deep_bytes"), 1);

	snprintf(json, sizeof(json), "%s/out.json", dir);
	cr_assert_eq(run(&r, rep, TIMEOUT_MS), 0, "%s", r.err);
	read_list(r.out, "  allocated, by allocation site:\n", &al[1]);
	cr_expect_eq(stack_lines(&al[1], "libdeep_sites.so+0x", st), 3, "%s", r.out);
	cr_expect_str_eq(st[2], "deep_entry");

	json_decref(trace(&t0, "deep_sites", none));
	read_list(t0.err, "  allocated, by allocation site:\n", &al[2]);
	cr_expect_eq(stack_lines(&al[2], "libdeep_sites.so+0x", st), 0, "%s", t0.err);
	json_decref(j);
	proc_free(&tt);
	proc_free(&t0);
	proc_free(&r);
	free(al);
}
