// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: variables named with include/tt.h (tests/fixtures/tracked_vars.c)
 * are joined to the right heap blocks, with the right types, categories,
 * sizes, threads and lifecycles, in attach and in launch mode; and
 * TRACE_TOOLS_DISABLED=1 in the target's environment leaves them alone.
 */
#include "e2e.h"

#define TRACE_TIMEOUT_MS 60000
#define THREADS 4

static char json_path[256];

static void setup_dir(void)
{
	e2e_require_root();
	snprintf(json_path, sizeof(json_path), "%s/out.json", e2e_tmpdir());
}

/* What the fixture says one variable must look like. */
struct expect {
	char name[16];
	char function[16]; /* "" for tt_track_var() */
	const char *type, *category;
	long long size, ptr, block; /* block 0: no "block" field */
	long long tid, line;        /* line 0: the function marker */
	bool heap, freed;
};

/* The fixture's 6 variables of thread i, in the order it tracks them. */
static size_t expected(const char *out, int i, struct expect e[6])
{
	char key[32];
	long long tid, line, rec_ptr, grow_ptr;

#define T(k) (snprintf(key, sizeof(key), "%s_%d", k, i), truth(out, key))
	tid = T("tid");
	line = T("line");
	rec_ptr = T("rec_ptr");
	grow_ptr = T("grow_ptr");
	cr_assert_eq(T("grow_moved"), 1, "thread %d: realloc(64 -> 1 MiB) did not move", i);
	cr_assert_neq(grow_ptr, T("grow_old"));

	memset(e, 0, 6 * sizeof(*e));
	for (int k = 0; k < 6; k++) {
		snprintf(e[k].function, sizeof(e[k].function), "worker_%d", i);
		e[k].tid = tid;
		e[k].line = line;
		e[k].heap = true;
	}
	snprintf(e[0].name, sizeof(e[0].name), "buf");
	e[0].type = "char *";
	e[0].category = "text";
	e[0].size = T("buf_size");
	e[0].ptr = e[0].block = T("buf_ptr");

	/* an interior pointer names the whole block */
	snprintf(e[1].name, sizeof(e[1].name), "field");
	e[1].type = "struct rec";
	e[1].category = "record";
	e[1].size = truth(out, "rec_size");
	e[1].ptr = rec_ptr + truth(out, "field_offset");
	e[1].block = rec_ptr;

	/* realloc moved the block: the variable followed */
	snprintf(e[2].name, sizeof(e[2].name), "grow");
	e[2].type = "char *";
	e[2].category = "text";
	e[2].size = truth(out, "grow_size");
	e[2].ptr = e[2].block = grow_ptr;

	/* a stack array: not heap, alive, no size */
	snprintf(e[3].name, sizeof(e[3].name), "local");
	e[3].type = "char *";
	e[3].category = "text";
	e[3].ptr = T("local_ptr");
	e[3].heap = false;

	/* TT_TRACK_VAR_AS, then freed: the size at its free */
	snprintf(e[4].name, sizeof(e[4].name), "gone");
	e[4].type = "int *";
	e[4].category = "scratch";
	e[4].size = T("gone_size");
	e[4].ptr = T("gone_ptr");
	e[4].freed = true;

	/* tt_track_var(): no function, file or line */
	snprintf(e[5].name, sizeof(e[5].name), "ffi_%d", i);
	e[5].function[0] = '\0';
	e[5].type = "double *";
	e[5].category = "buffer";
	e[5].size = T("ffi_size");
	e[5].ptr = e[5].block = T("ffi_ptr");
	e[5].line = 0;
#undef T
	return 6;
}

static const char *str(json_t *o, const char *k)
{
	json_t *s = json_object_get(o, k);

	cr_assert(json_is_string(s), "field %s missing or not a string", k);
	return json_string_value(s);
}

static long long num(json_t *o, const char *k)
{
	json_t *n = json_object_get(o, k);

	cr_assert(json_is_integer(n), "field %s missing or not an integer", k);
	return json_integer_value(n);
}

static long long addr(json_t *o, const char *k)
{
	const char *s = str(o, k);

	cr_assert(!strncmp(s, "0x", 2), "%s: %s is not a hex string", k, s);
	return (long long)strtoull(s, NULL, 16);
}

/* The entry of j's array (active_allocations, variables) at ptr, or NULL. */
static json_t *entry_at(json_t *j, const char *array, long long ptr)
{
	json_t *a;
	size_t i;

	json_array_foreach(json_object_get(j, array), i, a)
		if (addr(a, "ptr") == ptr)
			return a;
	return NULL;
}

static json_t *active_at(json_t *j, long long ptr)
{
	return entry_at(j, "active_allocations", ptr);
}

static json_t *group_named(json_t *arr, const char *key, const char *name)
{
	json_t *g;
	size_t i;

	json_array_foreach(arr, i, g)
		if (!strcmp(str(g, key), name))
			return g;
	return NULL;
}

static void check_group(json_t *j, const char *field, const char *key, const char *name,
			long long bytes, long long count)
{
	json_t *g = group_named(json_object_get(j, field), key, name);

	cr_assert(g, "%s has no %s \"%s\"", field, key, name);
	cr_expect_eq(num(g, "total_size"), bytes, "%s \"%s\": %lld bytes, expected %lld", field,
		     name, num(g, "total_size"), bytes);
	cr_expect_eq(num(g, "allocation_count"), count, "%s \"%s\": %lld variables, expected %lld",
		     field, name, num(g, "allocation_count"), count);
}

/* Every variable the fixture tracked, exactly once and exactly as it was. */
static void check_variables(json_t *j, const char *out)
{
	json_t *vars = json_object_get(j, "variables"), *x, *a, *match;
	long long text = 0, record = 0, buffer = 0, named = 0;
	struct expect e[6];
	size_t i, k, n;
	int t;

	cr_assert_eq(truth(out, "threads"), THREADS);
	cr_assert(json_is_array(vars), "no variables array");
	cr_expect_eq(json_array_size(vars), THREADS * truth(out, "vars_per_thread"),
		     "%zu variables, expected %lld", json_array_size(vars),
		     THREADS * truth(out, "vars_per_thread"));

	for (t = 0; t < THREADS; t++) {
		long long last_created = -1;

		n = expected(out, t, e);
		for (k = 0; k < n; k++) {
			const struct expect *w = &e[k];
			int found = 0;

			match = NULL;
			json_array_foreach(vars, i, x)
				if (!strcmp(str(x, "name"), w->name) &&
				    !strcmp(str(x, "function"), w->function)) {
					found++;
					match = x;
				}
			cr_expect_eq(found, 1, "variable %s in \"%s\": %d entries", w->name,
				     w->function, found);
			if (!match)
				continue;
			x = match;
			cr_expect_str_eq(str(x, "type_name"), w->type, "%s/%s: type \"%s\", expected \"%s\"",
					 w->function, w->name, str(x, "type_name"), w->type);
			cr_expect_str_eq(str(x, "category"), w->category,
					 "%s/%s: category \"%s\", expected \"%s\"", w->function, w->name,
					 str(x, "category"), w->category);
			cr_expect_eq(num(x, "size"), w->size, "%s/%s: size %lld, expected %lld",
				     w->function, w->name, num(x, "size"), w->size);
			cr_expect_eq(addr(x, "ptr"), w->ptr, "%s/%s: ptr %s, expected 0x%llx",
				     w->function, w->name, str(x, "ptr"), w->ptr);
			cr_expect_eq(num(x, "thread_id"), w->tid, "%s/%s: thread %lld, expected %lld",
				     w->function, w->name, num(x, "thread_id"), w->tid);
			cr_expect_eq(json_is_true(json_object_get(x, "heap")), w->heap, "%s/%s: heap",
				     w->function, w->name);
			cr_expect_eq(num(x, "line"), w->line, "%s/%s: line %lld, expected %lld",
				     w->function, w->name, num(x, "line"), w->line);
			if (w->line) {
				const char *f = str(x, "file");
				size_t fl = strlen(f);

				cr_expect(fl >= 14 && !strcmp(f + fl - 14, "tracked_vars.c"),
					  "%s/%s: file %s", w->function, w->name, f);
			} else {
				cr_expect_str_eq(str(x, "file"), "");
			}
			if (w->block)
				cr_expect_eq(addr(x, "block"), w->block,
					     "%s/%s: block %s, expected 0x%llx", w->function,
					     w->name, str(x, "block"), w->block);
			else
				cr_expect_null(json_object_get(x, "block"),
					       "%s/%s: a block and none expected", w->function,
					       w->name);
			/* in the order the thread tracked them */
			cr_expect_gt(num(x, "created_ns"), last_created, "%s/%s: created_ns",
				     w->function, w->name);
			last_created = num(x, "created_ns");
			if (w->freed) {
				json_t *f = json_object_get(x, "freed_ns");

				cr_expect(json_is_integer(f), "%s/%s: freed_ns is not set",
					  w->function, w->name);
				cr_expect_geq(json_integer_value(f), num(x, "created_ns"));
			} else {
				cr_expect(json_is_null(json_object_get(x, "freed_ns")),
					  "%s/%s: freed_ns is not null", w->function, w->name);
			}

			/* the live heap ones name their block in active_allocations */
			if (w->heap && !w->freed) {
				a = active_at(j, w->block);
				cr_expect(a, "%s/%s: its block 0x%llx is not live", w->function,
					  w->name, w->block);
				if (!a)
					continue;
				cr_expect_eq(num(a, "size"), w->size);
				cr_expect_eq(num(a, "thread_id"), w->tid);
				cr_expect(json_is_string(json_object_get(a, "var_name")),
					  "block of %s/%s has no var_name", w->function, w->name);
				if (json_is_string(json_object_get(a, "var_name"))) {
					cr_expect_str_eq(str(a, "var_name"), w->name);
					cr_expect_str_eq(str(a, "type_name"), w->type);
				}
			}
			if (w->heap && !w->freed && !strcmp(w->category, "text"))
				text += w->size;
			else if (w->heap && !w->freed && !strcmp(w->category, "record"))
				record += w->size;
			else if (w->heap && !w->freed && !strcmp(w->category, "buffer"))
				buffer += w->size;
		}
	}

	/* only those blocks are named */
	json_array_foreach(json_object_get(j, "active_allocations"), i, a)
		if (json_object_get(a, "var_name")) {
			named++;
			cr_expect_str_neq(str(a, "var_name"), "gone");
			cr_expect_str_neq(str(a, "var_name"), "local");
		}
	cr_expect_eq(named, THREADS * 4, "%lld named blocks, expected %d", named, THREADS * 4);

	/* live heap variables only: local (stack) and gone (freed) are not there */
	cr_expect_eq(json_array_size(json_object_get(j, "memory_by_category")), 3);
	check_group(j, "memory_by_category", "category", "text", text, THREADS * 2);
	check_group(j, "memory_by_category", "category", "record", record, THREADS);
	check_group(j, "memory_by_category", "category", "buffer", buffer, THREADS);
	cr_expect_null(group_named(json_object_get(j, "memory_by_category"), "category", "scratch"));
	cr_expect_eq(json_array_size(json_object_get(j, "memory_by_type")), 3);
	check_group(j, "memory_by_type", "type_name", "char *", text, THREADS * 2);
	check_group(j, "memory_by_type", "type_name", "struct rec", record, THREADS);
	check_group(j, "memory_by_type", "type_name", "double *", buffer, THREADS);
	/* largest first */
	x = json_array_get(json_object_get(j, "memory_by_type"), 0);
	cr_expect(x && !strcmp(str(x, "type_name"), "char *"));
	x = json_array_get(json_object_get(j, "memory_by_category"), 0);
	cr_expect(x && !strcmp(str(x, "category"), "text"));
}

/* With markers left alone: no variables, but the heap is still traced. */
static void check_no_variables(json_t *j, const char *out)
{
	json_t *a;
	size_t i;
	int t;

	cr_expect_eq(json_array_size(json_object_get(j, "variables")), 0,
		     "%zu variables with TRACE_TOOLS_DISABLED=1",
		     json_array_size(json_object_get(j, "variables")));
	cr_expect_eq(json_array_size(json_object_get(j, "memory_by_type")), 0);
	cr_expect_eq(json_array_size(json_object_get(j, "memory_by_category")), 0);
	json_array_foreach(json_object_get(j, "active_allocations"), i, a)
		cr_expect_null(json_object_get(a, "var_name"));
	cr_expect_geq(jint(j, "total_allocations"), THREADS * 6);
	cr_expect_geq(jint(j, "stats.reallocs_moved"), THREADS);
	for (t = 0; t < THREADS; t++) {
		char key[32];

		snprintf(key, sizeof(key), "buf_ptr_%d", t);
		a = active_at(j, truth(out, key));
		cr_expect(a, "thread %d: buf's block is not live", t);
		snprintf(key, sizeof(key), "buf_size_%d", t);
		if (a)
			cr_expect_eq(num(a, "size"), truth(out, key));
		snprintf(key, sizeof(key), "grow_ptr_%d", t);
		a = active_at(j, truth(out, key));
		cr_expect(a, "thread %d: grow's block is not live", t);
		if (a)
			cr_expect_eq(num(a, "size"), truth(out, "grow_size"));
	}
}

/* Attach to the fixture waiting on its go byte; returns the JSON. */
static json_t *trace_attached(struct proc *fx, struct proc *tt)
{
	char pidbuf[16], *fx_argv[] = { (char *)e2e_fixture("tracked_vars"), "-w", NULL };
	char *tt_argv[] = { (char *)e2e_tool(), "-p", pidbuf, "--json", json_path, NULL };
	int rc;

	proc_start(fx, fx_argv, true);
	cr_assert(proc_wait_for(fx, "ready ", false, 10000), "fixture not ready:\n%s", fx->err);
	snprintf(pidbuf, sizeof(pidbuf), "%lld", truth(fx->out, "ready"));
	/* TRACE_TOOLS_DISABLED is read from the target's environment, not ours */
	unsetenv("TRACE_TOOLS_DISABLED");
	proc_start(tt, tt_argv, false);
	cr_assert(proc_wait_for(tt, "tracing pid", true, 30000), "ttbpf did not attach:\n%s", tt->err);
	cr_assert(write(fx->in_fd, "g", 1) == 1);
	cr_assert_eq(proc_finish(fx, TRACE_TIMEOUT_MS), 0, "fixture failed:\n%s", fx->err);
	/* the target's exit ends tracing */
	rc = proc_finish(tt, TRACE_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt->err);
	return load_json(json_path);
}

static json_t *trace_launched(struct proc *tt)
{
	char *argv[] = { (char *)e2e_tool(), "--json", json_path, "--",
			 (char *)e2e_fixture("tracked_vars"), NULL };
	int rc;

	rc = run(tt, argv, TRACE_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt->err);
	return load_json(json_path);
}

Test(attach, variables_joined_to_their_blocks, .timeout = 120)
{
	struct proc fx, tt;
	json_t *j;

	setup_dir();
	j = trace_attached(&fx, &tt);
	check_variables(j, fx.out);
	/* the fixture waited for us: the heap figures are exact too */
	cr_expect_eq(jint(j, "total_allocations"), THREADS * 6);
	cr_expect_eq(jint(j, "stats.reallocs_moved"), THREADS);
	cr_expect_eq(jint(j, "stats.total_frees"), THREADS * 2);
	cr_expect_eq(jint(j, "stats.active_allocations"), THREADS * 4);
	cr_expect_eq(jint(j, "stats.lost_events"), 0);
	cr_expect_eq(jint(j, "stats.bad_records"), 0);
	json_decref(j);
	proc_free(&fx);
	proc_free(&tt);
}

Test(launch, variables_joined_to_their_blocks, .timeout = 120)
{
	struct proc tt;
	json_t *j;

	setup_dir();
	unsetenv("TRACE_TOOLS_DISABLED");
	j = trace_launched(&tt);
	check_variables(j, tt.out);
	cr_expect_eq(jint(j, "stats.lost_events"), 0);
	json_decref(j);
	proc_free(&tt);
}

/*
 * -f: a child that execs a program with markers gets them attached before the
 * new image runs, and its variables are in its own report. (sh forks for a
 * command that is not its last.)
 */
Test(launch, variables_of_a_followed_child, .timeout = 120)
{
	char cmd[600];
	char *argv[] = { (char *)e2e_tool(), "-f", "--json", json_path, "--", "sh", "-c", cmd, NULL };
	json_t *j, *procs, *c;
	struct proc tt;
	int rc;

	setup_dir();
	unsetenv("TRACE_TOOLS_DISABLED");
	snprintf(cmd, sizeof(cmd), "%s; true", e2e_fixture("tracked_vars"));
	rc = run(&tt, argv, TRACE_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt.err);
	j = load_json(json_path);
	cr_expect_eq(json_array_size(json_object_get(j, "variables")), 0, "sh has no variables");
	procs = json_object_get(j, "processes");
	cr_assert_eq(json_array_size(procs), 1, "children: %zu", json_array_size(procs));
	cr_assert(json_is_string(json_object_get(json_array_get(procs, 0), "report")));
	c = load_json(json_string_value(json_object_get(json_array_get(procs, 0), "report")));
	check_variables(c, tt.out);
	cr_expect_eq(jint(c, "stats.lost_events"), 0);
	json_decref(c);
	json_decref(j);
	proc_free(&tt);
}

Test(launch, tools_disabled_leaves_markers_alone, .timeout = 120)
{
	struct proc tt;
	json_t *j;

	setup_dir();
	/* the launched command inherits ttbpf's environment */
	cr_assert_eq(setenv("TRACE_TOOLS_DISABLED", "1", 1), 0);
	j = trace_launched(&tt);
	unsetenv("TRACE_TOOLS_DISABLED");
	cr_expect(strstr(tt.err, "TRACE_TOOLS_DISABLED"), "ttbpf did not say so:\n%s", tt.err);
	check_no_variables(j, tt.out);
	json_decref(j);
	proc_free(&tt);
}

Test(attach, tools_disabled_in_the_target_leaves_markers_alone, .timeout = 120)
{
	struct proc fx, tt;
	json_t *j;

	setup_dir();
	/* in the fixture's environment only: trace_attached clears it for ttbpf */
	cr_assert_eq(setenv("TRACE_TOOLS_DISABLED", "1", 1), 0);
	j = trace_attached(&fx, &tt);
	cr_expect(strstr(tt.err, "TRACE_TOOLS_DISABLED"), "ttbpf did not say so:\n%s", tt.err);
	check_no_variables(j, fx.out);
	cr_expect_eq(jint(j, "total_allocations"), THREADS * 6);
	json_decref(j);
	proc_free(&fx);
	proc_free(&tt);
}

Test(launch, other_values_do_not_disable, .timeout = 120)
{
	struct proc tt;
	json_t *j;

	setup_dir();
	/* only "1" opts out */
	cr_assert_eq(setenv("TRACE_TOOLS_DISABLED", "0", 1), 0);
	j = trace_launched(&tt);
	unsetenv("TRACE_TOOLS_DISABLED");
	cr_expect_eq(json_array_size(json_object_get(j, "variables")), THREADS * 6);
	json_decref(j);
	proc_free(&tt);
}

/* ---- the patterns users mark variables in (tests/fixtures/var_patterns.c) ---- */

static json_t *group_of(json_t *j, const char *name)
{
	return group_named(json_object_get(j, "variable_groups"), "name", name);
}

/* The group's figures, as the fixture says they must be. */
static void check_var_group(json_t *g, const char *name, long long instances, long long alive,
			    long long bytes_alive, long long peak_bytes, long long folded)
{
	cr_assert(g, "no variable group \"%s\"", name);
	cr_expect_eq(num(g, "instances"), instances, "%s: %lld instances, expected %lld", name,
		     num(g, "instances"), instances);
	cr_expect_eq(num(g, "alive"), alive, "%s: %lld alive, expected %lld", name, num(g, "alive"),
		     alive);
	cr_expect_eq(num(g, "bytes_alive"), bytes_alive, "%s: %lld bytes alive, expected %lld", name,
		     num(g, "bytes_alive"), bytes_alive);
	cr_expect_eq(num(g, "peak_bytes"), peak_bytes, "%s: peak %lld, expected %lld", name,
		     num(g, "peak_bytes"), peak_bytes);
	cr_expect_eq(num(g, "folded"), folded, "%s: %lld folded, expected %lld", name,
		     num(g, "folded"), folded);
	cr_expect_eq(num(g, "non_heap"), 0, "%s: non-heap instances", name);
}

/* The listed instance at ptr, or NULL. */
static json_t *instance_at(json_t *j, long long ptr)
{
	return entry_at(j, "variables", ptr);
}

static json_t *trace_pattern(struct proc *tt, char **pattern, const char *max_vars)
{
	char *argv[12] = { (char *)e2e_tool(), "--json", json_path };
	int rc, n = 3, i;

	if (max_vars) {
		argv[n++] = "--max-vars";
		argv[n++] = (char *)max_vars;
	}
	argv[n++] = "--";
	argv[n++] = (char *)e2e_fixture("var_patterns");
	for (i = 0; pattern[i]; i++)
		argv[n++] = pattern[i];
	argv[n] = NULL;
	unsetenv("TRACE_TOOLS_DISABLED");
	rc = run(tt, argv, 3 * TRACE_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, tt->err);
	return load_json(json_path);
}

/*
 * The web server of the original tool's examples: 100 connection strings and
 * 100 1 KiB responses marked in a loop, every 10th connection freed: 200
 * instances in 2 groups, every live one named.
 */
Test(launch, every_block_a_loop_marks_is_named, .timeout = 180)
{
	char *pattern[] = { "webserver", NULL };
	struct proc tt;
	json_t *j, *x, *a, *conn, *resp;
	long long n, alive_bytes, resp_size, named = 0;
	size_t i;
	char key[32];

	setup_dir();
	j = trace_pattern(&tt, pattern, NULL);
	n = truth(tt.out, "requests");
	resp_size = truth(tt.out, "response_size");
	alive_bytes = truth(tt.out, "conn_alive_bytes");
	cr_expect_eq(json_array_size(json_object_get(j, "variables")), 2 * n, "%zu instances",
		     json_array_size(json_object_get(j, "variables")));
	cr_expect_eq(json_array_size(json_object_get(j, "variable_groups")), 2);
	conn = group_of(j, "connection");
	resp = group_of(j, "response_data");
	/* freed once all were made: the peak is all 100 */
	check_var_group(conn, "connection", n, truth(tt.out, "conn_alive"), alive_bytes,
			truth(tt.out, "conn_total_bytes"), 0);
	check_var_group(resp, "response_data", n, n, n * resp_size, n * resp_size, 0);
	cr_expect_eq(num(conn, "line"), truth(tt.out, "conn_line"));
	cr_expect_eq(num(resp, "line"), truth(tt.out, "resp_line"));
	cr_expect_str_eq(str(conn, "type_name"), "char *");
	cr_expect_str_eq(str(resp, "type_name"), "unsigned char *");

	for (i = 0; i < (size_t)n; i++) {
		long long cp, rp, csize;
		bool freed;

		snprintf(key, sizeof(key), "conn_ptr_%zu", i);
		cp = truth(tt.out, key);
		snprintf(key, sizeof(key), "conn_size_%zu", i);
		csize = truth(tt.out, key);
		snprintf(key, sizeof(key), "conn_freed_%zu", i);
		freed = truth(tt.out, key);
		snprintf(key, sizeof(key), "resp_ptr_%zu", i);
		rp = truth(tt.out, key);

		x = instance_at(j, cp);
		cr_assert(x, "connection %zu (0x%llx) is not listed", i, cp);
		cr_expect_str_eq(str(x, "name"), "connection");
		cr_expect_eq(num(x, "group"), num(conn, "id"));
		cr_expect_eq(num(x, "size"), csize, "connection %zu: size %lld, expected %lld", i,
			     num(x, "size"), csize);
		cr_expect_eq(json_is_integer(json_object_get(x, "freed_ns")), freed,
			     "connection %zu: freed_ns", i);
		a = active_at(j, cp);
		cr_expect_eq(a != NULL, !freed, "connection %zu: live %d", i, a != NULL);
		if (a)
			cr_expect_str_eq(str(a, "var_name"), "connection");

		x = instance_at(j, rp);
		cr_assert(x, "response %zu (0x%llx) is not listed", i, rp);
		cr_expect_str_eq(str(x, "name"), "response_data");
		cr_expect_eq(num(x, "size"), resp_size);
		a = active_at(j, rp);
		cr_assert(a, "response %zu is not live", i);
		cr_expect_str_eq(str(a, "var_name"), "response_data");
		cr_expect_str_eq(str(a, "type_name"), "unsigned char *");
	}
	json_array_foreach(json_object_get(j, "active_allocations"), i, a)
		named += json_object_get(a, "var_name") != NULL;
	cr_expect_eq(named, n + truth(tt.out, "conn_alive"), "%lld named live blocks", named);

	/* every named block counts */
	check_group(j, "memory_by_type", "type_name", "unsigned char *", n * resp_size, n);
	check_group(j, "memory_by_type", "type_name", "char *", alive_bytes,
		    truth(tt.out, "conn_alive"));
	check_group(j, "memory_by_category", "category", "buffer", n * resp_size, n);
	check_group(j, "memory_by_category", "category", "text", alive_bytes,
		    truth(tt.out, "conn_alive"));
	cr_expect_eq(jint(j, "variable_stats.instances_listed"), 2 * n);
	cr_expect_eq(jint(j, "variable_stats.instances_folded"), 0);
	cr_expect_eq(jint(j, "stats.lost_events"), 0);

	/* the summary groups them */
	cr_expect(strstr(tt.err, "response_data \xc3\x97" "100 alive (unsigned char *)"),
		  "summary:\n%s", tt.err);
	cr_expect(strstr(tt.err, "connection \xc3\x97" "90 alive of 100 (char *)"), "summary:\n%s",
		  tt.err);
	json_decref(j);
	proc_free(&tt);
}

/* One worker function on 4 threads, each marking its own block under one
 * name: 4 instances of one group, on 4 threads. */
Test(launch, one_name_marked_on_four_threads, .timeout = 120)
{
	char *pattern[] = { "threads", NULL };
	struct proc tt;
	json_t *j, *x, *g;
	long long t, total = 0, tids[4];
	char key[32];

	setup_dir();
	j = trace_pattern(&tt, pattern, NULL);
	cr_assert_eq(truth(tt.out, "threads"), 4);
	cr_expect_eq(json_array_size(json_object_get(j, "variables")), 4);
	cr_expect_eq(json_array_size(json_object_get(j, "variable_groups")), 1);
	for (t = 0; t < 4; t++) {
		snprintf(key, sizeof(key), "ptr_%lld", t);
		x = instance_at(j, truth(tt.out, key));
		cr_assert(x, "thread %lld's block is not listed", t);
		cr_expect_str_eq(str(x, "name"), "thread_data");
		cr_expect_str_eq(str(x, "function"), "worker");
		snprintf(key, sizeof(key), "size_%lld", t);
		cr_expect_eq(num(x, "size"), truth(tt.out, key));
		total += truth(tt.out, key);
		snprintf(key, sizeof(key), "tid_%lld", t);
		tids[t] = truth(tt.out, key);
		cr_expect_eq(num(x, "thread_id"), tids[t], "thread %lld: tid %lld, expected %lld", t,
			     num(x, "thread_id"), tids[t]);
		cr_expect(json_is_null(json_object_get(x, "freed_ns")));
		snprintf(key, sizeof(key), "ptr_%lld", t);
		cr_expect(active_at(j, truth(tt.out, key)), "thread %lld's block is not live", t);
	}
	cr_expect(tids[0] != tids[1] && tids[0] != tids[2] && tids[0] != tids[3] &&
		  tids[1] != tids[2] && tids[1] != tids[3] && tids[2] != tids[3]);
	g = group_of(j, "thread_data");
	check_var_group(g, "thread_data", 4, 4, total, total, 0);
	check_group(j, "memory_by_type", "type_name", "char *", total, 4);
	json_decref(j);
	proc_free(&tt);
}

/*
 * A marker in a hot loop: 2M iterations of malloc, mark, free (every 1000th
 * block kept), with --max-vars 10000. The first 10,000 instances are listed,
 * the rest folded into the group, whose figures stay exact; the model's
 * memory stays bounded by what is listed and what is alive.
 */
Test(launch, a_hot_loop_is_bounded_and_exact, .timeout = 300)
{
	char *pattern[] = { "loop", "2000000", NULL };
	const long long max = 10000;
	struct proc tt;
	json_t *j, *g, *a;
	long long n, alive, named = 0;
	size_t i;

	setup_dir();
	j = trace_pattern(&tt, pattern, "10000");
	n = truth(tt.out, "iterations");
	alive = truth(tt.out, "alive");
	cr_assert_eq(n, 2000000);
	g = group_of(j, "item");
	check_var_group(g, "item", n, alive, truth(tt.out, "alive_bytes"),
			truth(tt.out, "peak_bytes"), n - max);
	cr_expect_eq(num(g, "peak_alive"), truth(tt.out, "peak_alive"));
	cr_expect_eq(json_array_size(json_object_get(j, "variables")), max);
	cr_expect_eq(jint(j, "variable_stats.instances_listed"), max);
	cr_expect_eq(jint(j, "variable_stats.instances_folded"), n - max);
	cr_expect_eq(jint(j, "variable_stats.max_listed"), max);
	cr_expect_eq(jint(j, "variable_stats.markers_dropped"), 0);
	/* 48 bytes a listed instance and its share of the indexes: under 64
	 * bytes each, plus a fixed part; nothing per folded instance that ended */
	cr_expect_leq(jint(j, "variable_stats.memory_bytes"), 64 * (max + alive) + (256 << 10),
		      "variables hold %lld bytes", jint(j, "variable_stats.memory_bytes"));
	/* folded or listed, every live block is named and counted */
	json_array_foreach(json_object_get(j, "active_allocations"), i, a)
		if (json_object_get(a, "var_name")) {
			named++;
			cr_expect_str_eq(str(a, "var_name"), "item");
		}
	cr_expect_eq(named, alive);
	check_group(j, "memory_by_type", "type_name", "char *", truth(tt.out, "alive_bytes"), alive);
	cr_expect_eq(jint(j, "stats.lost_events"), 0);
	cr_expect(strstr(tt.err, "1990000 instances past --max-vars 10000"), "summary:\n%s", tt.err);
	json_decref(j);
	proc_free(&tt);
}
