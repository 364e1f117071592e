// SPDX-License-Identifier: Apache-2.0
/*
 * The reports of a run with followed children (-f): the child's plan (its
 * file names), the target's JSON report listing the children, and the text
 * summary's section about them.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include "model.h"
#include "vars.h"
#include "report_json.h"
#include "report_text.h"
#include "reports.h"

#define HOSTILE "evil\"\n\x01"

/* ---- reports__plan_child ---------------------------------------------- */

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ttbpf-test-reports.XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "test_reports: could not remove %s\n", dir);
}

static void in_dir(char *buf, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);

	cr_assert(n > 0 && n < PATH_MAX);
}

/* reports__plan_child with stderr captured into err. */
static int plan_child(const struct report_plan *t, int pid, struct report_plan *c, char *err,
		      size_t len)
{
	FILE *f = tmpfile();
	int save, rc;
	size_t n;

	cr_assert_not_null(f);
	fflush(stderr);
	save = dup(2);
	dup2(fileno(f), 2);
	rc = reports__plan_child(t, pid, c);
	fflush(stderr);
	dup2(save, 2);
	close(save);
	rewind(f);
	n = fread(err, 1, len - 1, f);
	err[n] = '\0';
	fclose(f);
	return rc;
}

/* ---- reports__plan_snapshot ------------------------------------------- */

TestSuite(plan_snapshot, .init = make_dir, .fini = remove_dir);

/* Files (there or not yet) are rewritten each snapshot; stdout, a FIFO and
 * a device only at the end; never the text summary. */
Test(plan_snapshot, files_only)
{
	struct report_plan t = { 0 }, s;
	char fifo[PATH_MAX], want_svg[PATH_MAX], want_folded[PATH_MAX];

	in_dir(fifo, "pipe");
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	strcpy(t.json, "-");
	in_dir(t.svg, "dash.svg");
	strcpy(t.png, "/dev/null");
	in_dir(t.folded, "stacks");
	cr_assert_eq(close(open(t.folded, O_WRONLY | O_CREAT, 0644)), 0);
	in_dir(t.pprof, "heap.pb.gz");
	t.folded_weight = FOLDED_ALLOC_BYTES;
	strcpy(want_svg, t.svg);
	strcpy(want_folded, t.folded);

	cr_assert_eq(reports__plan_snapshot(&t, &s), 3);
	cr_assert_str_eq(s.pprof, t.pprof);
	cr_assert_str_eq(s.json, "");
	cr_assert_str_eq(s.svg, want_svg, "not there yet: a file to come");
	cr_assert_str_eq(s.png, "");
	cr_assert_str_eq(s.folded, want_folded);
	cr_assert_eq(s.folded_weight, FOLDED_ALLOC_BYTES);
	cr_assert(s.quiet);

	strcpy(t.svg, fifo);
	t.folded[0] = '\0';
	strcpy(t.pprof, "-");
	cr_assert_eq(reports__plan_snapshot(&t, &s), 0, "nothing left to rewrite");
	cr_assert_str_eq(s.pprof, "");
	cr_assert_str_eq(s.svg, "");
}

TestSuite(plan_child, .init = make_dir, .fini = remove_dir);

Test(plan_child, names_after_the_target)
{
	struct report_plan t = { 0 }, c;
	char want[PATH_MAX], err[512];

	in_dir(t.json, "ttbpf.json");
	in_dir(t.svg, "out.svg");
	in_dir(t.folded, "stacks");
	t.json_is_temp = true;
	t.folded_weight = FOLDED_ALLOC_COUNT;
	t.quiet = false;
	memset(&c, 0x55, sizeof(c));

	cr_assert_eq(plan_child(&t, 1234, &c, err, sizeof(err)), 0, "stderr: %s", err);
	cr_assert_str_eq(err, "");
	in_dir(want, "ttbpf.1234.json");
	cr_assert_str_eq(c.json, want);
	in_dir(want, "out.1234.svg");
	cr_assert_str_eq(c.svg, want);
	cr_assert_str_eq(c.png, "", "no PNG for the target: none for the child");
	in_dir(want, "stacks.1234");
	cr_assert_str_eq(c.folded, want, "no extension: the pid is appended");
	cr_assert(c.json_is_temp);
	cr_assert_eq(c.folded_weight, FOLDED_ALLOC_COUNT);
	cr_assert(c.quiet, "children have no text summary");
}

Test(plan_child, relative_names)
{
	struct report_plan t = { 0 }, c;
	char err[512];

	strcpy(t.json, "ttbpf.json");
	strcpy(t.png, "a.b.png");
	cr_assert_eq(plan_child(&t, 7, &c, err, sizeof(err)), 0, "stderr: %s", err);
	cr_assert_str_eq(c.json, "ttbpf.7.json");
	cr_assert_str_eq(c.png, "a.b.7.png", "only the last extension counts");
}

Test(plan_child, only_the_last_component_has_an_extension)
{
	struct report_plan t = { 0 }, c;
	char want[PATH_MAX], err[512];

	in_dir(want, "a.b");
	cr_assert_eq(mkdir(want, 0755), 0);
	in_dir(t.json, "a.b/c");
	in_dir(t.svg, ".hidden");
	cr_assert_eq(plan_child(&t, 42, &c, err, sizeof(err)), 0, "stderr: %s", err);
	in_dir(want, "a.b/c.42");
	cr_assert_str_eq(c.json, want);
	in_dir(want, ".hidden.42");
	cr_assert_str_eq(c.svg, want, "a leading dot does not start an extension");
}

Test(plan_child, too_long)
{
	struct report_plan t = { 0 }, c;
	char want[PATH_MAX], err[PATH_MAX + 512], msg[PATH_MAX + 128];
	size_t n;

	/* fits as it is, not with ".1234" more */
	n = (size_t)snprintf(t.json, PATH_MAX, "%s/", dir);
	memset(t.json + n, 'x', PATH_MAX - 1 - n - 5);
	strcpy(t.json + PATH_MAX - 1 - 5, ".json");
	cr_assert_eq(strlen(t.json), PATH_MAX - 1);
	in_dir(t.svg, "out.svg");

	cr_assert_eq(plan_child(&t, 1234, &c, err, sizeof(err)), -ENAMETOOLONG);
	snprintf(msg, sizeof(msg), "ttbpf: output path too long for child 1234: %s\n", t.json);
	cr_assert_str_eq(err, msg);
	cr_assert_str_eq(c.json, "", "left out");
	in_dir(want, "out.1234.svg");
	cr_assert_str_eq(c.svg, want, "the other reports are still planned");
	cr_assert(c.quiet);
}

Test(plan_child, cannot_be_created)
{
	struct report_plan t = { 0 }, c;
	char want[PATH_MAX], err[PATH_MAX + 512];

	in_dir(t.json, "ttbpf.json");
	in_dir(t.png, "ttbpf.png");
	in_dir(want, "ttbpf.9.json");
	cr_assert_eq(mkdir(want, 0755), 0, "a directory where the child's JSON would go");

	cr_assert_eq(plan_child(&t, 9, &c, err, sizeof(err)), -EISDIR);
	cr_assert_not_null(strstr(err, "it is a directory"), "stderr: %s", err);
	cr_assert_str_eq(c.json, "");
	in_dir(want, "ttbpf.9.png");
	cr_assert_str_eq(c.png, want);
}

Test(plan_child, directory_gone)
{
	struct report_plan t = { 0 }, c;
	char err[PATH_MAX + 512];

	in_dir(t.folded, "gone/stacks.txt");
	cr_assert_eq(plan_child(&t, 9, &c, err, sizeof(err)), -ENOENT);
	cr_assert_not_null(strstr(err, "gone/stacks.9.txt"), "stderr: %s", err);
	cr_assert_str_eq(c.folded, "");
}

/* ---- the target's reports ----------------------------------------------- */

static struct model mo;
static struct report_meta meta;
static char *out;
static size_t out_len;

static const struct report_proc two[] = {
	{ .pid = 101, .parent_pid = 100, .command = "worker --x", .exit_code = 0,
	  .total_allocs = 3, .total_alloc_bytes = 1024, .live_cnt = 1, .live_bytes = 512,
	  .peak_bytes = 1024, .report = "/r/ttbpf.101.json" },
	{ .pid = 102, .parent_pid = 101, .command = HOSTILE, .exit_code = -1, .untraced = true,
	  .untraced_why = "its probes could not be attached",
	  .total_allocs = 12345678901ULL, .total_alloc_bytes = 3ULL << 30, .live_cnt = 0,
	  .live_bytes = 0, .peak_bytes = 5ULL << 20, .report = NULL },
};

static void model_up(void)
{
	cr_assert_eq(model__init(&mo, 1000, 0, false, TT_DEFAULT_MAX_VARS), 0);
	meta = (struct report_meta){
		.pid = 100, .command = "app", .allocator = "libc.so.6", .launched = true,
		.exit_code = 0, .start_ns = 1000, .end_ns = 1000 + 2000000,
	};
	out = NULL;
	out_len = 0;
}

static void model_down(void)
{
	model__fini(&mo);
	free(out);
}

/* ---- JSON ---- */

static json_t *emit_json(void)
{
	FILE *f = open_memstream(&out, &out_len);
	json_error_t jerr;
	json_t *j;

	cr_assert_not_null(f);
	cr_assert_eq(report_json__emit(f, &mo, &meta), 0);
	cr_assert_eq(fclose(f), 0);
	j = json_loadb(out, out_len, 0, &jerr);
	cr_assert_not_null(j, "jansson: %s at %d", jerr.text, jerr.position);
	return j;
}

static json_int_t int_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	cr_assert(json_is_integer(v), "%s: not an integer", key);
	return json_integer_value(v);
}

static const char *str_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	cr_assert(json_is_string(v), "%s: not a string", key);
	return json_string_value(v);
}

static void assert_null(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	cr_assert(v && json_is_null(v), "%s: not null", key);
}

/* Where key first stands in the output (as a key). */
static size_t key_at(const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "\"%s\":", key);
	p = strstr(out, k);
	cr_assert_not_null(p, "no key %s", key);
	return (size_t)(p - out);
}

TestSuite(json, .init = model_up, .fini = model_down);

Test(json, no_children)
{
	json_t *j = emit_json(), *t = json_object_get(j, "target"), *p;

	cr_assert_eq(int_of(j, "format_version"), 1);
	cr_assert_eq(int_of(t, "pid"), 100);
	assert_null(t, "parent_pid");
	cr_assert_eq(int_of(t, "exit_code"), 0);
	p = json_object_get(j, "processes");
	cr_assert(json_is_array(p), "processes: always there");
	cr_assert_eq(json_array_size(p), 0);
	cr_assert(key_at("total_allocated") < key_at("processes") &&
		  key_at("processes") < key_at("stats"), "after the totals, before stats");
	json_decref(j);
}

Test(json, a_child_report_names_its_parent)
{
	json_t *j, *t;

	meta.pid = 101;
	meta.parent_pid = 100;
	meta.launched = false;
	meta.exit_code = 3;
	j = emit_json();
	t = json_object_get(j, "target");
	cr_assert_eq(int_of(t, "pid"), 101);
	cr_assert_eq(int_of(t, "parent_pid"), 100);
	cr_assert_eq(int_of(t, "exit_code"), 3);
	cr_assert_eq(json_array_size(json_object_get(j, "processes")), 0);
	json_decref(j);
}

Test(json, two_children)
{
	json_t *j, *p, *c;

	meta.children = two;
	meta.child_cnt = 2;
	j = emit_json();
	p = json_object_get(j, "processes");
	cr_assert(json_is_array(p));
	cr_assert_eq(json_array_size(p), 2);

	c = json_array_get(p, 0);
	cr_assert_eq(json_object_size(c), 11, "exactly the documented fields");
	cr_assert(json_is_true(json_object_get(c, "traced")));
	cr_assert_eq(int_of(c, "pid"), 101);
	cr_assert_eq(int_of(c, "parent_pid"), 100);
	cr_assert_str_eq(str_of(c, "command"), "worker --x");
	cr_assert_eq(int_of(c, "exit_code"), 0);
	cr_assert_eq(int_of(c, "total_allocations"), 3);
	cr_assert_eq(int_of(c, "total_allocated"), 1024);
	cr_assert_eq(int_of(c, "live_blocks"), 1);
	cr_assert_eq(int_of(c, "live_bytes"), 512);
	cr_assert_eq(int_of(c, "peak_bytes"), 1024);
	cr_assert_str_eq(str_of(c, "report"), "/r/ttbpf.101.json");

	c = json_array_get(p, 1);
	cr_assert_eq(json_object_size(c), 12, "and untraced_reason");
	cr_assert(json_is_false(json_object_get(c, "traced")));
	cr_assert_str_eq(str_of(c, "untraced_reason"), "its probes could not be attached");
	cr_assert_eq(int_of(c, "pid"), 102);
	cr_assert_eq(int_of(c, "parent_pid"), 101);
	cr_assert_str_eq(str_of(c, "command"), HOSTILE);
	assert_null(c, "exit_code");
	cr_assert_eq(int_of(c, "total_allocations"), 12345678901LL);
	cr_assert_eq(int_of(c, "total_allocated"), 3LL << 30);
	cr_assert_eq(int_of(c, "live_blocks"), 0);
	cr_assert_eq(int_of(c, "live_bytes"), 0);
	cr_assert_eq(int_of(c, "peak_bytes"), 5LL << 20);
	assert_null(c, "report");
	cr_assert_not_null(strstr(out, "\"evil\\\"\\n\\u0001\""), "escaped as JSON");

	assert_null(json_object_get(j, "target"), "parent_pid");
	json_decref(j);
}

/* ---- text summary ---- */

static const char *emit_text(void)
{
	FILE *f = open_memstream(&out, &out_len);

	cr_assert_not_null(f);
	report_text__write(f, &mo, &meta, NULL);
	cr_assert_eq(fclose(f), 0);
	return out;
}

/* The summary from its line starting with from. */
static const char *section(const char *from)
{
	const char *s = strstr(out, from);

	cr_assert_not_null(s, "no \"%s\" in:\n%s", from, out);
	return s;
}

TestSuite(text, .init = model_up, .fini = model_down);

Test(text, no_children)
{
	emit_text();
	cr_assert_null(strstr(out, "followed"), "summary:\n%s", out);
	section("\nttbpf: pid 100 (app)");
}

Test(text, two_children)
{
	meta.children = two;
	meta.child_cnt = 2;
	emit_text();
	cr_assert_str_eq(section("  followed "),
			 "  followed 2 child processes:\n"
			 "    pid 101 (worker --x), exit status 0: 3 allocations (1.0 KB), live 1 "
			 "block, 512 B -> /r/ttbpf.101.json\n"
			 "    pid 102 (evil\"?" "?), still running, NOT TRACED (its probes could not be "
			 "attached): 12345678901 allocations (3.0 GB), "
			 "live 0 blocks, 0 B\n");
	cr_assert(section("  lost events") < section("  followed "), "after the summary");
}

Test(text, one_child)
{
	meta.children = two;
	meta.child_cnt = 1;
	emit_text();
	cr_assert_not_null(strstr(out, "\n  followed 1 child process:\n    pid 101 "), "%s", out);
}

Test(text, long_command_is_cut)
{
	/* 36 ASCII bytes, then "é" across the cut at 37: cut before it */
	struct report_proc p = two[0];
	char cmd[80];

	memset(cmd, 'a', 36);
	strcpy(cmd + 36, "\xc3\xa9 and a long tail of arguments");
	p.command = cmd;
	p.report = NULL;
	meta.children = &p;
	meta.child_cnt = 1;
	emit_text();
	cr_assert_not_null(strstr(out, "    pid 101 (aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...), exit "),
			   "%s", out);

	/* 40 bytes: shown whole */
	memset(cmd, 'b', 40);
	cmd[40] = '\0';
	free(out);
	emit_text();
	cr_assert_not_null(strstr(out, "(bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb), exit"), "%s", out);
}

Test(text, bounded)
{
	struct report_proc p[53];
	const char *s;
	size_t i, lines = 0;

	for (i = 0; i < 53; i++) {
		p[i] = two[0];
		p[i].pid = 1000 + (int)i;
	}
	meta.children = p;
	meta.child_cnt = 53;
	emit_text();
	s = section("  followed 53 child processes:\n");
	for (; (s = strstr(s, "\n    pid ")); s++)
		lines++;
	cr_assert_eq(lines, 50);
	cr_assert_not_null(strstr(out, "    pid 1049 ("));
	cr_assert_null(strstr(out, "    pid 1050 ("));
	cr_assert_not_null(strstr(out, "\n    ... and 3 more\n"), "%s", out);
	cr_assert_eq(out[out_len - 1], '\n');
	cr_assert_null(strstr(strstr(out, "... and 3 more"), "pid"), "last");
}
