// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: include/tt.h's C++ side (tests/fixtures/cxx/cxx_vars.cc).
 * Naming a type allocates nothing: the allocations under cxx_named() are
 * exactly the fixture's own. A std::vector marked once stays one variable
 * through every reallocation, alive on its last buffer with its size; one
 * marked while empty becomes heap at its first buffer and follows too.
 */
#include "e2e.h"

#define TRACE_TIMEOUT_MS 60000

static char dir[256];

static json_t *trace_fixture(struct proc *tt)
{
	e2e_require_root();
	snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());
	return e2e_launch_json(tt, dir, NULL, "cxx_vars", NULL, TRACE_TIMEOUT_MS);
}

static bool has_frame(json_t *stack, const char *symbol)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(stack, "frames"), i, f)
		if (!strcmp(nz(jstr(f, "symbol")), symbol))
			return true;
	return false;
}

static bool has_frame_prefix(json_t *stack, const char *prefix)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(stack, "frames"), i, f)
		if (!strncmp(nz(jstr(f, "symbol")), prefix, strlen(prefix)))
			return true;
	return false;
}

static json_t *by_name(json_t *j, const char *array, const char *name)
{
	json_t *o;
	size_t i;

	json_array_foreach(json_object_get(j, array), i, o)
		if (!strcmp(nz(jstr(o, "name")), name))
			return o;
	cr_assert_fail("no %s named %s", array, name);
	return NULL;
}

Test(cxx_vars, naming_types_allocates_nothing, .timeout = 120)
{
	struct proc tt;
	long long allocs = 0, bytes = 0, with_tt = 0;
	json_t *j = trace_fixture(&tt), *st;
	size_t i;

	json_array_foreach(json_object_get(j, "stacks"), i, st) {
		if (has_frame(st, "cxx_named")) {
			allocs += jint(st, "allocations");
			bytes += jint(st, "bytes");
		}
		if (has_frame_prefix(st, "tt::"))
			with_tt += jint(st, "allocations");
	}
	cr_expect_eq(allocs, truth(tt.out, "named_allocs"), "allocations under cxx_named: %lld",
		     allocs);
	cr_expect_eq(bytes, truth(tt.out, "named_bytes"), "bytes under cxx_named: %lld", bytes);
	cr_expect_eq(with_tt, 0, "%lld allocations made inside tt.h", with_tt);

	/* and the types are still named, by the compiler's spelling */
	cr_expect_str_eq(jstr(by_name(j, "variables", "arr"), "type_name"), "int*");
	cr_expect_str_eq(jstr(by_name(j, "variables", "up"), "type_name"), "std::unique_ptr<Node>");
	cr_expect_str_eq(jstr(by_name(j, "variables", "text"), "type_name"), "std::string");
	cr_expect_str_eq(jstr(by_name(j, "variables", "text"), "category"), "text");
	cr_expect_str_eq(jstr(by_name(j, "variables", "n"), "type_name"), "Node*");
	cr_expect_str_eq(jstr(by_name(j, "variables", "n"), "category"), "record");
	cr_expect_eq(jint(by_name(j, "variables", "text"), "size"), 101);
	json_decref(j);
	proc_free(&tt);
}

/* The variable `name` is one instance, alive on the block at key_ptr with
 * key_bytes, and its group says the same. */
static void expect_followed(json_t *j, const char *out, const char *name, const char *key_ptr,
			    const char *key_bytes)
{
	json_t *v = by_name(j, "variables", name), *g = by_name(j, "variable_groups", name);
	char hex[32];

	snprintf(hex, sizeof(hex), "0x%llx", truth(out, key_ptr));
	cr_expect(json_is_null(json_object_get(v, "freed_ns")), "%s ended", name);
	cr_expect_eq(json_is_true(json_object_get(v, "heap")), true, "%s is not heap", name);
	cr_expect_str_eq(nz(jstr(v, "block")), hex, "%s is not on its last buffer", name);
	cr_expect_str_eq(nz(jstr(v, "ptr")), hex);
	cr_expect_eq(jint(v, "size"), truth(out, key_bytes), "%s: %lld bytes", name, jint(v, "size"));
	cr_expect_eq(jint(g, "instances"), 1, "%s: %lld instances", name, jint(g, "instances"));
	cr_expect_eq(jint(g, "alive"), 1);
	cr_expect_eq(jint(g, "non_heap"), 0);
	cr_expect_eq(jint(g, "bytes_alive"), truth(out, key_bytes));
	cr_expect_eq(jint(g, "peak_bytes"), truth(out, key_bytes));
	cr_expect_str_eq(jstr(g, "type_name"), "std::vector<int>");
}

Test(cxx_vars, vector_followed_across_reallocations, .timeout = 120)
{
	struct proc tt;
	json_t *j = trace_fixture(&tt), *blk;
	long long moves = truth(tt.out, "grow_moves") + truth(tt.out, "empty_moves");
	size_t i;
	bool found = false;
	char hex[32];

	cr_assert_geq(truth(tt.out, "grow_moves"), 5, "the fixture's vector hardly moved");
	expect_followed(j, tt.out, "vec", "grow_ptr", "grow_bytes");
	expect_followed(j, tt.out, "late", "empty_ptr", "empty_bytes");
	cr_expect_eq(jint(j, "variable_stats.container_moves"), moves, "moves followed: %lld of %lld",
		     jint(j, "variable_stats.container_moves"), moves);

	/* the live block itself carries the name */
	snprintf(hex, sizeof(hex), "0x%llx", truth(tt.out, "grow_ptr"));
	json_array_foreach(json_object_get(j, "active_allocations"), i, blk) {
		if (strcmp(nz(jstr(blk, "ptr")), hex))
			continue;
		found = true;
		cr_expect_str_eq(nz(jstr(blk, "var_name")), "vec");
		cr_expect_eq(jint(blk, "size"), truth(tt.out, "grow_bytes"));
	}
	cr_expect(found, "the vector's last buffer %s is not among the live blocks", hex);
	json_decref(j);
	proc_free(&tt);
}
