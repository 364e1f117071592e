// SPDX-License-Identifier: Apache-2.0
/*
 * Tracked variables (user/model/vars.c) against a real heap model (user/model/heap.c),
 * wired together the way user/tracing/events.c wires them: the heap's observer
 * tells vars__on_released of every block that stops being live.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "heap.h"
#include "vars.h"
#include "../../../include/tt.h" /* TT_TYPE_NAME: the type names C markers send */

static struct heap *h;
static struct vars *v;
static uint64_t now = 1000; /* record clock: every record is later than the last */

/* ---- wiring, as user/tracing/events.c does it ---------------------------- */

static void on_released(void *ctx, const struct heap_block *b, uint64_t ts_ns, uint64_t moved_to,
			uint64_t new_size)
{
	vars__on_released(ctx, b, ts_ns, moved_to, new_size);
}

static void setup(void)
{
	struct heap_observer obs = { .released = on_released };

	h = heap__new();
	cr_assert(h);
	cr_assert_eq(vars__new(&v, h, TT_DEFAULT_MAX_VARS), 0);
	obs.ctx = v;
	heap__set_observer(h, &obs);
	now = 1000;
}

static void teardown(void)
{
	vars__free(v);
	heap__free(h);
	v = NULL;
	h = NULL;
}

TestSuite(vars, .init = setup, .fini = teardown);
TestSuite(vars_category);

/* ---- records -------------------------------------------------------------- */

static uint64_t tick(void)
{
	return now += 10;
}

static void alloc_fn(uint32_t fn, uint64_t old_ptr, uint64_t ptr, uint64_t size)
{
	struct tt_alloc_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = TT_EV_ALLOC;
	e.hdr.tid = 7;
	e.entry_ns = tick();
	e.hdr.ts_ns = tick();
	e.fn = fn;
	e.failed = ptr == 0;
	e.ptr = ptr;
	e.size = size;
	e.old_ptr = old_ptr;
	e.stack_end = TT_STACK_END_OFF;
	cr_assert_eq(heap__on_alloc(h, &e), 0);
}

static void do_malloc(uint64_t ptr, uint64_t size)
{
	alloc_fn(TT_FN_MALLOC, 0, ptr, size);
}

static void do_realloc(uint64_t old_ptr, uint64_t ptr, uint64_t size)
{
	alloc_fn(TT_FN_REALLOC, old_ptr, ptr, size);
}

static void do_free(uint64_t ptr)
{
	struct tt_free_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = TT_EV_FREE;
	e.hdr.tid = 7;
	e.hdr.ts_ns = tick();
	e.ptr = ptr;
	cr_assert_eq(heap__on_free(h, &e), 0);
}

static struct tt_var_event mk_var(uint64_t ptr, const char *name, const char *type,
				  const char *category, const char *function)
{
	struct tt_var_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = TT_EV_VAR;
	e.hdr.tid = 42;
	e.hdr.ts_ns = tick();
	e.ptr = ptr;
	e.site_ip = 0x401000;
	e.line = 17;
	snprintf(e.name, sizeof(e.name), "%s", name);
	snprintf(e.type_name, sizeof(e.type_name), "%s", type ? type : "");
	snprintf(e.category, sizeof(e.category), "%s", category ? category : "");
	snprintf(e.file, sizeof(e.file), "%s", "app.c");
	snprintf(e.function, sizeof(e.function), "%s", function ? function : "");
	return e;
}

static void track_in(uint64_t ptr, const char *name, const char *type, const char *function)
{
	struct tt_var_event e = mk_var(ptr, name, type, NULL, function);

	cr_assert_eq(vars__on_track(v, &e), 0);
}

static void track(uint64_t ptr, const char *name, const char *type)
{
	track_in(ptr, name, type, "main");
}

/* Instance i as a view that stays valid until 8 more are taken. */
static const struct var *get(size_t i)
{
	static struct var ring[8];
	static unsigned int k;
	struct var *x = &ring[k++ % 8];

	cr_assert(vars__get(v, i, x), "no instance %zu", i);
	return x;
}

/* The one instance of (name, function); fails when there are several. */
static const struct var *find_in(const char *name, const char *function)
{
	const struct var *x, *found = NULL;
	size_t i;

	for (i = 0; i < vars__count(v); i++) {
		x = get(i);
		if (!strcmp(x->group->name, name) && !strcmp(x->group->function, function)) {
			cr_assert_null(found, "two instances named %s in %s", name, function);
			found = x;
		}
	}
	cr_assert_not_null(found, "no instance %s in %s", name, function);
	return found;
}

/* Views are copies: the same instance has the same place, birth and group. */
static bool same(const struct var *a, const struct var *b)
{
	return a && b && a->ptr == b->ptr && a->created_ns == b->created_ns && a->group == b->group;
}

/* The instance that names block, or NULL. */
static const struct var *of_block(uint64_t block)
{
	static struct var x;

	return vars__of_block(v, block, &x) ? &x : NULL;
}

static const struct var *find(const char *name)
{
	return find_in(name, "main");
}

#define A 0x10000ULL
#define B 0x20000ULL
#define C 0x30000ULL
#define STACK 0x7ffd00001000ULL

/* ---- joining a marker to its block ------------------------------------------ */

Test(vars, join_at_block_start)
{
	const struct var *x;

	do_malloc(A, 100);
	track(A, "buf", "char *");
	cr_assert_eq(vars__count(v), 1);
	x = find("buf");
	cr_expect(x->heap);
	cr_expect(x->alive);
	cr_expect_eq(x->ptr, A);
	cr_expect_eq(x->block, A);
	cr_expect_eq(x->size, 100);
	cr_expect_eq(x->freed_ns, 0);
	cr_expect_eq(x->tid, 42);
	cr_expect_gt(x->created_ns, 0);
	cr_expect_str_eq(x->group->type_name, "char *");
	cr_expect_str_eq(x->group->category, "text");
	cr_expect_str_eq(x->group->file, "app.c");
	cr_expect_str_eq(x->group->function, "main");
	cr_expect_eq(x->group->line, 17);
}

Test(vars, interior_pointer_names_the_whole_block)
{
	const struct var *x;

	do_malloc(B, 50); /* a neighbour that must not be picked */
	do_malloc(A, 256);
	track(A + 40, "field", "struct rec");
	x = find("field");
	cr_expect(x->heap);
	cr_expect_eq(x->ptr, A + 40);
	cr_expect_eq(x->block, A);
	cr_expect_eq(x->size, 256);
	cr_expect_str_eq(x->group->category, "record");
	/* the last byte is inside, one past the end is not */
	track(A + 255, "last", "char *");
	cr_expect_eq(find("last")->block, A);
	track(A + 256, "past", "char *");
	cr_expect_not(find("past")->heap);
	cr_expect_eq(find("past")->size, 0);
}

Test(vars, stack_address_is_not_heap_and_stays_alive)
{
	const struct var *x;

	do_malloc(A, 100);
	track(STACK, "local", "char *");
	x = find("local");
	cr_expect_not(x->heap);
	cr_expect(x->alive);
	cr_expect_eq(x->block, 0);
	cr_expect_eq(x->size, 0);
	cr_expect_eq(x->freed_ns, 0);
	cr_expect_eq(x->ptr, STACK);
	/* heap activity elsewhere does not touch it */
	do_free(A);
	x = find("local");
	cr_expect(x->alive);
	cr_expect_eq(x->freed_ns, 0);
}

Test(vars, null_pointer_is_not_heap)
{
	const struct var *x;

	track(0, "nothing", "char *");
	x = find("nothing");
	cr_expect_not(x->heap);
	cr_expect(x->alive);
	cr_expect_eq(x->size, 0);
}

Test(vars, marker_before_the_allocation_is_not_heap)
{
	/* the block the address will belong to does not exist yet */
	track(A, "early", "char *");
	do_malloc(A, 64);
	cr_expect_not(find("early")->heap);
	cr_expect_null(of_block(A));
}

/* ---- lifecycle ------------------------------------------------------------------ */

Test(vars, free_ends_the_lifecycle_and_keeps_the_size)
{
	const struct var *x;
	uint64_t freed_at;

	do_malloc(A, 100);
	track(A, "buf", "char *");
	do_free(A);
	freed_at = now;
	x = find("buf");
	cr_expect_not(x->alive);
	cr_expect_eq(x->freed_ns, freed_at);
	cr_expect_gt(x->freed_ns, x->created_ns);
	cr_expect_eq(x->size, 100);
	cr_expect(x->heap, "it was a heap variable");
	cr_expect_null(of_block(A));
	/* the address given back and reused: the dead variable does not name it */
	do_malloc(A, 300);
	x = find("buf");
	cr_expect_not(x->alive);
	cr_expect_eq(x->size, 100);
	cr_expect_null(of_block(A));
}

Test(vars, interior_variable_ends_when_its_block_is_freed)
{
	do_malloc(A, 256);
	track(A + 8, "field", "struct rec");
	do_free(A);
	cr_expect_not(find("field")->alive);
	cr_expect_eq(find("field")->size, 256);
}

Test(vars, realloc_moving_carries_the_variable)
{
	const struct var *x;

	do_malloc(A, 64);
	track(A, "grow", "char *");
	track(A + 16, "mid", "struct rec");
	do_realloc(A, B, 1 << 20);
	x = find("grow");
	cr_expect(x->alive);
	cr_expect_eq(x->ptr, B);
	cr_expect_eq(x->block, B);
	cr_expect_eq(x->size, 1 << 20);
	cr_expect_eq(x->freed_ns, 0);
	x = find("mid");
	cr_expect(x->alive);
	cr_expect_eq(x->ptr, B + 16, "same offset in the new block");
	cr_expect_eq(x->block, B);
	cr_expect_eq(x->size, 1 << 20);
	cr_expect_null(of_block(A));
	cr_expect_not_null(of_block(B));
	/* and it ends when the new block is freed */
	do_free(B);
	cr_expect_not(find("grow")->alive);
	cr_expect_eq(find("grow")->size, 1 << 20);
	cr_expect_not(find("mid")->alive);
}

Test(vars, realloc_moving_twice)
{
	do_malloc(A, 64);
	track(A + 4, "p", "int *");
	do_realloc(A, B, 128);
	do_realloc(B, C, 4096);
	cr_expect_eq(find("p")->ptr, C + 4);
	cr_expect_eq(find("p")->block, C);
	cr_expect_eq(find("p")->size, 4096);
	cr_expect_eq(vars__count(v), 1);
}

Test(vars, realloc_in_place_keeps_it)
{
	const struct var *x;

	do_malloc(A, 64);
	track(A + 8, "grow", "char *");
	do_realloc(A, A, 512);
	x = find("grow");
	cr_expect(x->alive);
	cr_expect_eq(x->ptr, A + 8);
	cr_expect_eq(x->block, A);
	cr_expect_eq(x->size, 512);
	cr_expect(same(of_block(A), x));
	/* shrinking in place too */
	do_realloc(A, A, 32);
	cr_expect_eq(find("grow")->size, 32);
	cr_expect(find("grow")->alive);
}

Test(vars, realloc_to_zero_ends_it)
{
	const struct var *x;

	do_malloc(A, 64);
	track(A, "buf", "char *");
	/* glibc: realloc(p, 0) frees p and returns NULL */
	alloc_fn(TT_FN_REALLOC, A, 0, 0);
	x = find("buf");
	cr_expect_not(x->alive);
	cr_expect_neq(x->freed_ns, 0);
	cr_expect_eq(x->size, 64);
	cr_expect_eq(heap__stats(h)->live_cnt, 0);
}

Test(vars, failed_realloc_leaves_it_alive)
{
	do_malloc(A, 64);
	track(A, "buf", "char *");
	alloc_fn(TT_FN_REALLOC, A, 0, 1ULL << 62);
	cr_expect(find("buf")->alive);
	cr_expect_eq(find("buf")->size, 64);
	cr_expect_eq(find("buf")->block, A);
}

Test(vars, lost_free_then_same_address_ends_it)
{
	/* a new block at a live address: the old one was freed unseen */
	do_malloc(A, 64);
	track(A, "buf", "char *");
	do_malloc(A, 80);
	cr_expect_not(find("buf")->alive);
	cr_expect_null(of_block(A));
}

/* ---- re-tracking ------------------------------------------------------------------ */

Test(vars, a_marker_in_a_loop_names_every_block)
{
	uint64_t created;

	do_malloc(A, 100);
	do_malloc(B, 200);
	track(A, "cur", "char *");
	created = get(0)->created_ns;
	track(B, "cur", "char *");
	cr_expect_eq(vars__count(v), 2);
	cr_expect_eq(vars__group_count(v), 1);
	cr_expect_eq(get(0)->created_ns, created);
	cr_expect_eq(get(0)->block, A);
	cr_expect_eq(get(1)->block, B);
	cr_expect_eq(get(1)->size, 200);
	cr_expect(same(of_block(A), get(0)));
	cr_expect(same(of_block(B), get(1)));
	cr_expect_eq(vars__group(v, 0)->alive, 2);
	cr_expect_eq(vars__group(v, 0)->bytes_alive, 300);
	do_free(A);
	cr_expect_not(get(0)->alive);
	cr_expect(get(1)->alive);
	cr_expect_null(of_block(A));
	cr_expect_eq(vars__group(v, 0)->alive, 1);
	cr_expect_eq(vars__group(v, 0)->bytes_alive, 200);
	do_free(B);
	cr_expect_not(get(1)->alive);
	cr_expect_eq(vars__group(v, 0)->alive, 0);
	cr_expect_eq(vars__group(v, 0)->instances, 2);
	cr_expect_eq(vars__group(v, 0)->peak_bytes, 300);
	cr_expect_eq(vars__group(v, 0)->peak_alive, 2);
}

Test(vars, a_name_marked_on_the_stack_is_another_instance)
{
	do_malloc(A, 100);
	track(A, "cur", "char *");
	track(STACK, "cur", "char *");
	track(STACK, "cur", "char *"); /* the same non-heap address: no duplicate */
	cr_expect_eq(vars__count(v), 2);
	cr_expect(get(0)->heap);
	cr_expect_not(get(1)->heap);
	cr_expect_eq(get(1)->ptr, STACK);
	cr_expect(same(of_block(A), get(0)));
	cr_expect_eq(get(0)->group->instances, 2);
	cr_expect_eq(get(0)->group->non_heap, 1);
	cr_expect_eq(get(0)->group->alive, 1);
	do_free(A);
	cr_expect_not(get(0)->alive);
	cr_expect(get(1)->alive, "a non-heap instance never ends");
	cr_expect_eq(get(0)->group->alive, 0);
	cr_expect_eq(get(0)->group->bytes_alive, 0);
	cr_expect_eq(get(0)->group->peak_bytes, 100);
}

Test(vars, same_name_in_another_function_is_another_variable)
{
	do_malloc(A, 100);
	do_malloc(B, 200);
	track_in(A, "buf", "char *", "reader");
	track_in(B, "buf", "char *", "writer");
	cr_expect_eq(vars__count(v), 2);
	cr_expect_eq(find_in("buf", "reader")->block, A);
	cr_expect_eq(find_in("buf", "writer")->block, B);
	do_free(A);
	cr_expect_not(find_in("buf", "reader")->alive);
	cr_expect(find_in("buf", "writer")->alive);
}

Test(vars, retracking_an_address_under_another_name_renames)
{
	const struct var *x;

	do_malloc(A, 100);
	track(A, "tmp", "char *");
	track(A, "line", "char *");
	cr_expect_eq(vars__count(v), 1);
	x = get(0);
	cr_expect_str_eq(x->group->name, "line");
	cr_expect_eq(x->block, A);
	cr_expect(same(of_block(A), x));
	/* the old name is free again: a new variable */
	do_malloc(B, 10);
	track(B, "tmp", "char *");
	cr_expect_eq(vars__count(v), 2);
	cr_expect_eq(find("tmp")->block, B);
	/* and the new name is the renamed one */
	track(A, "line", "const char *");
	cr_expect_eq(vars__count(v), 2);
	cr_expect_str_eq(find("line")->group->type_name, "const char *");
}

Test(vars, renaming_into_another_function)
{
	do_malloc(A, 100);
	track_in(A, "req", "struct request *", "parse");
	track_in(A, "r", "struct request *", "handle");
	cr_expect_eq(vars__count(v), 1);
	cr_expect_str_eq(get(0)->group->function, "handle");
	/* the old (name, function) makes a new variable now */
	do_malloc(B, 100);
	track_in(B, "req", "struct request *", "parse");
	cr_expect_eq(vars__count(v), 2);
}

Test(vars, a_name_marked_after_its_block_was_freed_is_a_new_instance)
{
	uint64_t freed;

	do_malloc(A, 100);
	track(A, "buf", "char *");
	do_free(A);
	freed = get(0)->freed_ns;
	cr_expect_neq(freed, 0);
	do_malloc(B, 300);
	track(B, "buf", "char *");
	cr_expect_eq(vars__count(v), 2);
	cr_expect_not(get(0)->alive);
	cr_expect_eq(get(0)->freed_ns, freed, "the first stays ended");
	cr_expect_eq(get(0)->size, 100);
	cr_expect(get(1)->alive);
	cr_expect_eq(get(1)->freed_ns, 0);
	cr_expect_gt(get(1)->created_ns, freed);
	cr_expect_eq(get(1)->block, B);
	cr_expect_eq(get(1)->size, 300);
	cr_expect_eq(vars__group(v, 0)->instances, 2);
	cr_expect_eq(vars__group(v, 0)->alive, 1);
	cr_expect_eq(vars__group(v, 0)->peak_bytes, 300);
}

/* ---- several variables in one block ----------------------------------------------- */

Test(vars, two_fields_of_one_block_end_together)
{
	const struct var *a, *b;

	do_malloc(A, 256);
	do_malloc(B, 64);
	track(A + 8, "name", "char *");
	track(A + 64, "items", "int *");
	track(B, "other", "char *");
	a = find("name");
	b = find("items");
	cr_expect_eq(a->block, A);
	cr_expect_eq(b->block, A);
	cr_expect_eq(a->size, 256);
	cr_expect_eq(b->size, 256);
	do_free(A);
	cr_expect_not(find("name")->alive);
	cr_expect_not(find("items")->alive);
	cr_expect_eq(find("name")->freed_ns, find("items")->freed_ns);
	cr_expect(find("other")->alive);
	cr_expect_not_null(of_block(B));
}

Test(vars, a_field_name_marked_in_another_block_is_another_instance)
{
	do_malloc(A, 256);
	do_malloc(B, 64);
	track(A + 8, "x", "char *");
	track(A + 16, "y", "char *");
	track(A + 24, "z", "char *");
	/* the same name in another block: the one in A stays */
	track(B, "y", "char *");
	cr_expect_eq(vars__count(v), 4);
	cr_expect_eq(vars__group_count(v), 3);
	cr_expect_eq(get(1)->block, A);
	do_free(A);
	cr_expect_not(get(0)->alive);
	cr_expect_not(get(1)->alive);
	cr_expect_not(get(2)->alive);
	cr_expect(get(3)->alive);
	cr_expect_eq(get(3)->block, B);
	cr_expect(same(of_block(B), get(3)));
	cr_expect_eq(get(3)->group, get(1)->group);
	cr_expect_eq(get(3)->group->instances, 2);
	cr_expect_eq(get(3)->group->alive, 1);
	cr_expect_eq(get(3)->group->bytes_alive, 64);
}

Test(vars, fields_follow_a_moving_realloc_together)
{
	do_malloc(A, 128);
	track(A + 8, "x", "char *");
	track(A + 32, "y", "char *");
	do_realloc(A, B, 4096);
	cr_expect_eq(find("x")->ptr, B + 8);
	cr_expect_eq(find("y")->ptr, B + 32);
	do_free(B);
	cr_expect_not(find("x")->alive);
	cr_expect_not(find("y")->alive);
}

/*
 * Re-tracking an interior address under another name renames the variable
 * there (regression: only block starts used to be looked up).
 */
Test(vars, retracking_an_interior_address_renames)
{
	do_malloc(A, 256);
	track(A + 8, "tmp", "char *");
	track(A + 8, "name", "char *");
	cr_expect_eq(vars__count(v), 1, "%zu variables", vars__count(v));
	cr_expect_str_eq(get(0)->group->name, "name");
	/* another interior address under another name: a second instance */
	track(A + 16, "other", "char *");
	cr_expect_eq(vars__count(v), 2);
	cr_expect_eq(vars__group(v, 0)->alive, 0, "tmp left its group");
	cr_expect_eq(vars__group(v, 1)->alive, 1);
}

/*
 * Another name at the block's start renames the instance marked there; at an
 * interior address no instance was marked at, it is a second instance.
 */
Test(vars, rename_at_the_start_but_not_at_another_interior_address)
{
	do_malloc(A, 256);
	track(A, "tmp", "char *");
	track(A + 8, "field", "char *"); /* interior, no instance there: new */
	cr_expect_eq(vars__count(v), 2);
	cr_expect_eq(vars__group_count(v), 2);
	cr_expect_eq(get(0)->block, A);
	cr_expect_eq(get(1)->block, A);
	cr_expect_eq(get(1)->ptr, A + 8);
	cr_expect(same(of_block(A), get(1)), "the one named last names the block");
	track(A, "line", "char *"); /* the start: renames tmp, not field */
	cr_expect_eq(vars__count(v), 2);
	cr_expect_eq(vars__group_count(v), 3);
	cr_expect_str_eq(get(0)->group->name, "line");
	cr_expect_eq(get(0)->group_id, 2);
	cr_expect_str_eq(get(1)->group->name, "field");
	cr_expect(same(of_block(A), get(0)));
	cr_expect_eq(vars__group(v, 0)->instances, 1);
	cr_expect_eq(vars__group(v, 0)->alive, 0);
	cr_expect_eq(vars__group(v, 0)->bytes_alive, 0);
	cr_expect_eq(vars__group(v, 1)->alive, 1);
	cr_expect_eq(vars__group(v, 2)->instances, 1);
	cr_expect_eq(vars__group(v, 2)->alive, 1);
	cr_expect_eq(vars__group(v, 2)->bytes_alive, 256);
	/* totals count the block once, for the instance named last */
	{
		struct var_total *t;
		size_t n;

		cr_assert_eq(vars__totals(v, false, &t, &n), 0);
		cr_assert_eq(n, 1);
		cr_expect_eq(t[0].count, 1);
		cr_expect_eq(t[0].bytes, 256);
		free(t);
	}
	/* another interior address under another name: a third instance */
	track(A + 40, "line2", "char *");
	cr_expect_eq(vars__count(v), 3);
	cr_expect_eq(get(2)->ptr, A + 40);
}

/*
 * A realloc that moves onto an address ttbpf still holds live (its free was
 * lost: ring buffer full) carries the moved variable and ends the stale
 * block's (regression: the stale block's release used to end the moved one).
 */
Test(vars, realloc_onto_a_stale_block_keeps_the_moved_variable)
{
	do_malloc(A, 64);
	do_malloc(B, 64);
	track(A, "a", "char *");
	track(B, "b", "char *");
	do_realloc(A, B, 4096); /* B's free was never seen */
	cr_expect(find("a")->alive, "the moved variable was ended");
	cr_expect_eq(find("a")->block, B);
	cr_expect_eq(find("a")->size, 4096);
	cr_expect_not(find("b")->alive, "the stale block's variable is still alive");
}

/*
 * A field past the end of a block that realloc shrinks (in place or moving)
 * keeps its offset: the variable stays alive with ptr outside its own block.
 * Such a variable ends (regression: it used to stay alive outside its block).
 */
Test(vars, field_cut_off_by_a_shrinking_realloc)
{
	const struct var *x;

	do_malloc(A, 256);
	track(A + 200, "tail", "char *");
	track(A + 16, "head", "int *");
	do_realloc(A, B, 64);
	x = find("tail");
	cr_expect(!x->alive || (x->ptr >= x->block && x->ptr < x->block + x->size),
		  "alive at 0x%llx, outside its block 0x%llx of %llu bytes",
		  (unsigned long long)x->ptr, (unsigned long long)x->block,
		  (unsigned long long)x->size);
	cr_expect_not(x->alive);
	cr_expect_eq(x->block, 0);
	cr_expect_eq(x->size, 256, "the size when it was cut off");
	cr_expect_eq(x->freed_ns, now, "ended at the realloc");
	cr_expect_eq(x->group->alive, 0);
	cr_expect_eq(x->group->bytes_alive, 0);
	/* the field below the new end follows */
	x = find("head");
	cr_expect(x->alive);
	cr_expect_eq(x->ptr, B + 16);
	cr_expect_eq(x->size, 64);
	cr_expect_eq(x->group->bytes_alive, 64);
	cr_expect(same(of_block(B), x));
	/* and in place */
	do_malloc(C, 128);
	track(C + 100, "tail2", "char *");
	do_realloc(C, C, 100);
	cr_expect_not(find("tail2")->alive);
	cr_expect_null(of_block(C));
	cr_expect_eq(find("tail2")->size, 128);
}

Test(vars, of_block)
{
	const struct var *x;

	do_malloc(A, 100);
	do_malloc(B, 100);
	do_malloc(C, 100);
	track(A, "a", "char *");
	track(B + 10, "b", "char *");
	x = of_block(A);
	cr_assert_not_null(x);
	cr_expect_str_eq(x->group->name, "a");
	x = of_block(B);
	cr_assert_not_null(x, "an interior variable names its block");
	cr_expect_str_eq(x->group->name, "b");
	cr_expect_null(of_block(B + 10), "blocks are looked up by their start");
	cr_expect_null(of_block(C));
	cr_expect_null(of_block(0));
	do_free(A);
	cr_expect_null(of_block(A));
}

/* ---- grouping --------------------------------------------------------------------- */

static const struct var_total *group(const struct var_total *g, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(g[i].name, name))
			return &g[i];
	return NULL;
}

Test(vars, group_by_type_and_category)
{
	struct var_total *g;
	size_t n, i;

	do_malloc(A, 100);
	do_malloc(B, 1000);
	do_malloc(C, 40);
	do_malloc(C + 0x1000, 500);
	do_malloc(C + 0x2000, 7);
	track(A, "s1", "char *");           /* text 100 */
	track(B, "s2", "char *");           /* text 1000 */
	track(C, "n", "int *");             /* buffer 40 */
	track(C + 0x1000, "r", "struct rec"); /* record 500 */
	track(C + 0x2000, "gone", "std::string");
	do_free(C + 0x2000);                /* not live: not counted */
	track(STACK, "local", "char *");    /* not heap: not counted */

	cr_assert_eq(vars__totals(v, false, &g, &n), 0);
	cr_expect_eq(n, 3);
	cr_expect_str_eq(g[0].name, "char *");
	cr_expect_eq(g[0].bytes, 1100);
	cr_expect_eq(g[0].count, 2);
	cr_expect_str_eq(g[1].name, "struct rec");
	cr_expect_eq(g[1].bytes, 500);
	cr_expect_eq(g[1].count, 1);
	cr_expect_str_eq(g[2].name, "int *");
	cr_expect_eq(g[2].bytes, 40);
	cr_expect_null(group(g, n, "std::string"));
	for (i = 1; i < n; i++)
		cr_expect_geq(g[i - 1].bytes, g[i].bytes, "largest first");
	free(g);

	cr_assert_eq(vars__totals(v, true, &g, &n), 0);
	cr_expect_eq(n, 3);
	cr_expect_str_eq(g[0].name, "text");
	cr_expect_eq(g[0].bytes, 1100);
	cr_expect_eq(g[0].count, 2);
	cr_expect_str_eq(g[1].name, "record");
	cr_expect_eq(g[2].bytes, 40);
	cr_expect_str_eq(g[2].name, "buffer");
	free(g);
}

Test(vars, group_uses_current_sizes)
{
	struct var_total *g;
	size_t n;

	do_malloc(A, 64);
	track(A, "grow", "char *");
	do_realloc(A, B, 1 << 20);
	cr_assert_eq(vars__totals(v, true, &g, &n), 0);
	cr_assert_eq(n, 1);
	cr_expect_eq(g[0].bytes, 1 << 20);
	free(g);
}

Test(vars, group_explicit_category)
{
	struct var_total *g;
	size_t n;
	struct tt_var_event e;

	do_malloc(A, 64);
	do_malloc(B, 32);
	e = mk_var(A, "pkt", "unsigned char *", "network", "main");
	cr_assert_eq(vars__on_track(v, &e), 0);
	track(B, "raw", "unsigned char *");
	cr_expect_str_eq(find("pkt")->group->category, "network");
	cr_expect_str_eq(find("raw")->group->category, "buffer");
	cr_assert_eq(vars__totals(v, true, &g, &n), 0);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(g[0].name, "network");
	cr_expect_eq(g[0].bytes, 64);
	cr_expect_str_eq(g[1].name, "buffer");
	free(g);
	cr_assert_eq(vars__totals(v, false, &g, &n), 0);
	cr_assert_eq(n, 1);
	cr_expect_eq(g[0].bytes, 96);
	cr_expect_eq(g[0].count, 2);
	free(g);
}

Test(vars, group_empty)
{
	struct var_total *g = NULL;
	size_t n = 99;

	cr_assert_eq(vars__totals(v, false, &g, &n), 0);
	cr_expect_eq(n, 0);
	free(g);
}

/*
 * Two variables naming one block (a struct and a field of it, or two fields)
 * each add the block's size to their group, so memory_by_category /
 * memory_by_type could exceed the live memory (regression).
 */
Test(vars, group_counts_a_block_once)
{
	struct var_total *g;
	size_t n;

	do_malloc(A, 256);
	track(A + 8, "name", "char *");
	track(A + 64, "label", "char *");
	cr_assert_eq(vars__totals(v, true, &g, &n), 0);
	cr_assert_eq(n, 1);
	cr_expect_eq(g[0].bytes, 256, "one block of 256 bytes, counted %llu",
		     (unsigned long long)g[0].bytes);
	free(g);
}

/* ---- robustness ------------------------------------------------------------------- */

Test(vars, bad_sites_are_counted_and_ignored)
{
	struct tt_var_event e;

	do_malloc(A, 64);
	e = mk_var(A, "", "", "", "");
	e.flags = TT_VAR_BAD_SITE;
	cr_assert_eq(vars__on_track(v, &e), 0);
	cr_assert_eq(vars__on_track(v, &e), 0);
	cr_expect_eq(vars__bad_sites(v), 2);
	cr_expect_eq(vars__count(v), 0);
	cr_expect_null(of_block(A));
	/* even with plausible strings: the record is not trusted */
	e = mk_var(A, "buf", "char *", "", "main");
	e.flags = TT_VAR_BAD_SITE;
	cr_assert_eq(vars__on_track(v, &e), 0);
	cr_expect_eq(vars__bad_sites(v), 3);
	cr_expect_eq(vars__count(v), 0);
}

Test(vars, function_marker_record)
{
	struct tt_var_event e;
	const struct var *x;

	/* tt_track_var(): no file, line or function */
	do_malloc(A, 80);
	e = mk_var(A, "ffi_buf", "double *", "", "");
	e.flags = TT_VAR_FROM_FUNCTION;
	e.file[0] = '\0';
	e.line = 0;
	cr_assert_eq(vars__on_track(v, &e), 0);
	x = find_in("ffi_buf", "");
	cr_expect_str_eq(x->group->category, "buffer");
	cr_expect_str_eq(x->group->file, "");
	cr_expect_eq(x->size, 80);
	cr_expect_eq(vars__bad_sites(v), 0);
}

Test(vars, empty_type_becomes_unknown)
{
	do_malloc(A, 8);
	track(A, "x", "");
	cr_expect_str_eq(find("x")->group->type_name, "unknown");
	cr_expect_str_eq(find("x")->group->category, "other");
}

static void fill(char *dst, size_t len, char c)
{
	memset(dst, c, len); /* no NUL anywhere */
}

Test(vars, unterminated_strings_are_cut)
{
	struct tt_var_event e;
	const struct var *x;
	size_t i;

	do_malloc(A, 64);
	e = mk_var(A, "", "", "", "");
	fill(e.name, sizeof(e.name), 'n');
	fill(e.type_name, sizeof(e.type_name), 't');
	fill(e.category, sizeof(e.category), 'c');
	fill(e.file, sizeof(e.file), 'f');
	fill(e.function, sizeof(e.function), 'u');
	cr_assert_eq(vars__on_track(v, &e), 0);
	cr_assert_eq(vars__count(v), 1);
	x = get(0);
	cr_expect_eq(strlen(x->group->name), TT_VAR_NAME_LEN - 1);
	cr_expect_eq(strlen(x->group->type_name), TT_VAR_TYPE_LEN - 1);
	cr_expect_eq(strlen(x->group->category), TT_VAR_CATEGORY_LEN - 1);
	cr_expect_eq(strlen(x->group->file), TT_VAR_FILE_LEN - 1);
	cr_expect_eq(strlen(x->group->function), TT_VAR_FUNC_LEN - 1);
	for (i = 0; i < TT_VAR_NAME_LEN - 1; i++)
		cr_assert_eq(x->group->name[i], 'n');
	cr_expect_eq(x->block, A);

	/* an unterminated type with no explicit category: derived from the cut type */
	do_malloc(B, 64);
	e = mk_var(B, "other", "", "", "main");
	fill(e.type_name, sizeof(e.type_name), 'x');
	cr_assert_eq(vars__on_track(v, &e), 0);
	cr_expect_eq(strlen(find("other")->group->type_name), TT_VAR_TYPE_LEN - 1);
	/* an identifier that is no scalar: a user type name, so a record */
	cr_expect_str_eq(find("other")->group->category, "record");
}

Test(vars, longest_terminated_name_is_kept_whole)
{
	char name[TT_VAR_NAME_LEN];

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	do_malloc(A, 64);
	track(A, name, "char *");
	track(A, name, "char *");
	cr_expect_eq(vars__count(v), 1);
	cr_expect_eq(vars__group_count(v), 1);
	cr_expect_str_eq(get(0)->group->name, name);
}

/*
 * A name that fills the field with no NUL is cut to 63 bytes when stored,
 * but vars.c keys and compares the record's full 64 bytes against the cut
 * copy, so re-tracking such a variable does not find it: a duplicate appears.
 * The BPF side always terminates strings, so only a malformed record can do
 * this (regression: the uncut name used to be compared).
 */
Test(vars, unterminated_name_retracked_updates)
{
	struct tt_var_event e;

	do_malloc(A, 64);
	do_malloc(B, 64);
	e = mk_var(A, "", "char *", "", "main");
	fill(e.name, sizeof(e.name), 'n');
	cr_assert_eq(vars__on_track(v, &e), 0);
	cr_assert_eq(vars__on_track(v, &e), 0);
	cr_expect_eq(vars__count(v), 1, "re-tracking made %zu instances", vars__count(v));
	e.ptr = B;
	cr_assert_eq(vars__on_track(v, &e), 0);
	cr_expect_eq(vars__count(v), 2);
	cr_expect_eq(vars__group_count(v), 1, "the name is cut the same way each time");
}

Test(vars, many_variables_and_blocks)
{
	char name[32];
	size_t i;

	for (i = 0; i < 5000; i++) {
		do_malloc(A + i * 0x100, 0x80);
		snprintf(name, sizeof(name), "v%zu", i);
		track(A + i * 0x100 + (i % 0x80), name, "char *");
	}
	cr_expect_eq(vars__count(v), 5000);
	for (i = 0; i < 5000; i += 2)
		do_free(A + i * 0x100);
	for (i = 0; i < 5000; i++) {
		const struct var *x = get(i);

		snprintf(name, sizeof(name), "v%zu", i);
		cr_assert_str_eq(x->group->name, name);
		cr_assert_eq(x->alive, i % 2 == 1, "v%zu", i);
		cr_assert_eq(x->size, 0x80);
		if (i % 2)
			cr_assert(same(of_block(A + i * 0x100), x));
		else
			cr_assert_null(of_block(A + i * 0x100));
	}
	/* re-marking each live block under its name updates its instance */
	for (i = 1; i < 5000; i += 2) {
		snprintf(name, sizeof(name), "v%zu", i);
		track(A + i * 0x100 + 1, name, "char *");
	}
	cr_expect_eq(vars__count(v), 5000);
	cr_expect_eq(vars__group_count(v), 5000);
	cr_expect_eq(get(1)->ptr, A + 0x100 + 1);
}

Test(vars, get_out_of_range)
{
	struct var x;

	cr_expect_not(vars__get(v, 0, &x));
	track(STACK, "x", "char *");
	cr_expect(vars__get(v, 0, &x));
	cr_expect_not(vars__get(v, 1, &x));
	cr_expect_not(vars__get(v, SIZE_MAX, &x));
}

/* ---- category rules ---------------------------------------------------------------- */

static const struct {
	const char *type, *category;
} rules[] = {
	{ "char *", "text" },
	{ "const char *", "text" },
	{ "char*", "text" },
	{ "const char*", "text" },
	{ "char[32]", "text" },
	{ "char [32]", "text" },
	{ "signed char *", "text" },
	{ "wchar_t *", "text" },
	{ "std::string", "text" },
	{ "const std::string", "text" },
	{ "std::__cxx11::basic_string<char>", "text" },
	{ "std::wstring", "text" },
	{ "unsigned char *", "buffer" },
	{ "const unsigned char *", "buffer" },
	{ "int *", "buffer" },
	{ "int*", "buffer" },
	{ "const int *", "buffer" },
	{ "double *", "buffer" },
	{ "uint8_t *", "buffer" },
	{ "uint64_t *", "buffer" },
	{ "size_t *", "buffer" },
	{ "long long *", "buffer" },
	{ "float[16]", "buffer" },
	{ "unsigned int *", "buffer" },
	{ "struct session", "record" },
	{ "struct session *", "record" },
	{ "union value *", "record" },
	{ "class Widget", "record" },
	{ "Node *", "record" },
	{ "Node*", "record" },
	{ "ns::Klass *", "record" },
	{ "ns::Klass", "record" },
	{ "std::vector<int>", "collection" },
	{ "std::map<int, int>", "collection" },
	{ "std::unordered_map<std::string, int>", "collection" },
	{ "std::unordered_set<int>", "collection" },
	{ "std::deque<int>", "collection" },
	{ "std::array<int, 4>", "collection" },
	{ "std::unique_ptr<Node>", "smart_pointer" },
	{ "std::unique_ptr<Node, std::default_delete<Node> >", "smart_pointer" },
	{ "std::shared_ptr<Node>", "smart_pointer" },
	{ "std::weak_ptr<Node>", "smart_pointer" },
	{ "void *", "raw" },
	{ "const void *", "raw" },
	{ "void*", "raw" },
	{ "void **", "other" },
	{ "int **", "other" },
	{ "unknown", "other" },
	{ "", "other" },
	{ "int", "other" },
	{ "Node", "record" },   /* a C++ class object tracked by address */
	{ "session_t", "record" }, /* a typedef name given with TT_TRACK_VAR_T */
	{ "std::mutex", "other" },
};

Test(vars_category, rules_table)
{
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		cr_expect_str_eq(vars__category_of(rules[i].type), rules[i].category,
				 "\"%s\" is %s, expected %s", rules[i].type,
				 vars__category_of(rules[i].type), rules[i].category);
}

Test(vars_category, leading_spaces_ignored)
{
	cr_expect_str_eq(vars__category_of("  char *"), "text");
	cr_expect_str_eq(vars__category_of(" void *"), "raw");
}

/*
 * Rules that used to surprise C/C++ users (regressions).
 * The scalar rule is a prefix match with no word boundary: user typedefs
 * whose names start with a scalar keyword are classed as buffers. "char **"
 * (argv) is text while "int **" / "void **" are other. A C++ class object
 * tracked by reference ("Node") is other while "Node *" and "ns::Klass" are
 * records.
 */
Test(vars_category, questionable_rules)
{
	cr_expect_str_eq(vars__category_of("interval_tree *"), "record");
	cr_expect_str_eq(vars__category_of("long_msg_t *"), "record");
	cr_expect_str_eq(vars__category_of("double_list *"), "record");
	cr_expect_str_eq(vars__category_of("boolvec *"), "record");
	cr_expect_str_eq(vars__category_of("char **"), "other");
	cr_expect_str_eq(vars__category_of("Node"), "record");
}

/* What C markers send: TT_TYPE_NAME's _Generic names, and their categories. */
Test(vars_category, c_type_names_from_tt_h)
{
	char arr[32], *s = arr;
	const char *cs = arr;
	unsigned char *u = NULL;
	int *ip = NULL;
	double *dp = NULL;
	void *vp = NULL;
	void **vpp = NULL;
	char **argv = NULL;
	struct session {
		int id;
	} *sess = NULL;
	long n = 0;

	cr_expect_str_eq(TT_TYPE_NAME(arr), "char *", "arrays decay");
	cr_expect_str_eq(vars__category_of(TT_TYPE_NAME(arr)), "text");
	cr_expect_str_eq(vars__category_of(TT_TYPE_NAME(s)), "text");
	cr_expect_str_eq(TT_TYPE_NAME(cs), "const char *");
	cr_expect_str_eq(vars__category_of(TT_TYPE_NAME(cs)), "text");
	cr_expect_str_eq(vars__category_of(TT_TYPE_NAME(u)), "buffer");
	cr_expect_str_eq(vars__category_of(TT_TYPE_NAME(ip)), "buffer");
	cr_expect_str_eq(vars__category_of(TT_TYPE_NAME(dp)), "buffer");
	cr_expect_str_eq(vars__category_of(TT_TYPE_NAME(vp)), "raw");
	cr_expect_str_eq(vars__category_of(TT_TYPE_NAME(vpp)), "other");
	cr_expect_str_eq(TT_TYPE_NAME(argv), "char **");
	/* a struct pointer has no name in C: TT_TRACK_VAR_T gives one */
	cr_expect_str_eq(TT_TYPE_NAME(sess), "unknown");
	cr_expect_str_eq(vars__category_of(TT_TYPE_NAME(sess)), "other");
	cr_expect_str_eq(TT_TYPE_NAME(n), "unknown");
}

Test(vars, derived_category_recorded)
{
	do_malloc(A, 8);
	do_malloc(B, 8);
	do_malloc(C, 8);
	track(A, "s", "std::vector<int>");
	track(B, "u", "std::unique_ptr<Node>");
	track(C, "p", "void *");
	cr_expect_str_eq(find("s")->group->category, "collection");
	cr_expect_str_eq(find("u")->group->category, "smart_pointer");
	cr_expect_str_eq(find("p")->group->category, "raw");
}

/* ---- instances and groups ---------------------------------------------------- */

static void track_at_line(uint64_t ptr, const char *name, int line, uint32_t tid)
{
	struct tt_var_event e = mk_var(ptr, name, "char *", NULL, "main");

	e.line = line;
	e.hdr.tid = tid;
	cr_assert_eq(vars__on_track(v, &e), 0);
}

/* The web server: 100 connections and 100 responses, 10 connections freed. */
Test(vars, loop_of_two_markers)
{
	uint64_t conn_bytes = 0, peak = 0, i;
	struct var_total *t;
	size_t n;

	for (i = 0; i < 100; i++) {
		do_malloc(A + i * 0x1000, 13 + i % 3);
		conn_bytes += 13 + i % 3;
		track_in(A + i * 0x1000, "connection", "char *", "serve");
		do_malloc(A + i * 0x1000 + 0x800, 1024);
		track_in(A + i * 0x1000 + 0x800, "response_data", "unsigned char *", "serve");
	}
	peak = conn_bytes;
	for (i = 0; i < 100; i += 10) {
		do_free(A + i * 0x1000);
		conn_bytes -= 13 + i % 3;
	}
	cr_expect_eq(vars__count(v), 200);
	cr_expect_eq(vars__folded(v), 0);
	cr_expect_eq(vars__dropped(v), 0);
	cr_expect_eq(vars__group_count(v), 2);
	for (i = 0; i < 100; i++) {
		const struct var *x = of_block(A + i * 0x1000);

		if (i % 10 == 0) {
			cr_assert_null(x);
			cr_assert_not(get(2 * i)->alive);
			cr_assert_eq(get(2 * i)->size, 13 + i % 3);
		} else {
			cr_assert_not_null(x);
			cr_assert_str_eq(x->group->name, "connection");
			cr_assert(same(x, get(2 * i)));
		}
		x = of_block(A + i * 0x1000 + 0x800);
		cr_assert_not_null(x);
		cr_assert_str_eq(x->group->name, "response_data");
		cr_assert_eq(x->group_id, 1);
	}
	cr_expect_str_eq(vars__group(v, 0)->name, "connection");
	cr_expect_str_eq(vars__group(v, 0)->function, "serve");
	cr_expect_eq(vars__group(v, 0)->non_heap, 0);
	cr_expect_eq(vars__group(v, 0)->folded, 0);
	cr_expect_eq(vars__group(v, 0)->instances, 100);
	cr_expect_eq(vars__group(v, 0)->alive, 90);
	cr_expect_eq(vars__group(v, 0)->bytes_alive, conn_bytes);
	cr_expect_eq(vars__group(v, 0)->peak_bytes, peak);
	cr_expect_eq(vars__group(v, 0)->peak_alive, 100);
	cr_expect_eq(vars__group(v, 1)->instances, 100);
	cr_expect_eq(vars__group(v, 1)->alive, 100);
	cr_expect_eq(vars__group(v, 1)->bytes_alive, 102400);
	cr_expect_eq(vars__group(v, 1)->peak_bytes, 102400);
	cr_expect_eq(vars__group(v, 1)->peak_alive, 100);
	cr_assert_eq(vars__totals(v, false, &t, &n), 0);
	cr_expect_eq(n, 2);
	cr_expect_str_eq(t[0].name, "unsigned char *");
	cr_expect_eq(t[0].bytes, 102400);
	cr_expect_eq(t[0].count, 100);
	cr_expect_str_eq(t[1].name, "char *");
	cr_expect_eq(t[1].bytes, conn_bytes);
	cr_expect_eq(t[1].count, 90);
	free(t);
	cr_assert_eq(vars__totals(v, true, &t, &n), 0);
	cr_expect_eq(n, 2);
	cr_expect_str_eq(t[0].name, "buffer");
	cr_expect_eq(t[0].count, 100);
	cr_expect_str_eq(t[1].name, "text");
	cr_expect_eq(t[1].count, 90);
	cr_expect_eq(t[1].bytes, conn_bytes);
	free(t);
}

/* A recursive function marking its own block at every depth. */
Test(vars, recursion)
{
	int depth;

	for (depth = 0; depth < 32; depth++) {
		do_malloc(A + (uint64_t)depth * 0x100, 48);
		track_in(A + (uint64_t)depth * 0x100, "node", "char *", "walk");
	}
	cr_expect_eq(vars__count(v), 32);
	cr_expect_eq(vars__group_count(v), 1);
	cr_expect_eq(vars__group(v, 0)->bytes_alive, 32 * 48);
	/* unwinding frees the deepest first */
	cr_expect_eq(vars__group(v, 0)->instances, 32);
	for (depth = 0; depth < 32; depth++)
		cr_expect_eq(get((size_t)depth)->block, A + (uint64_t)depth * 0x100);
	for (depth = 31; depth >= 16; depth--)
		do_free(A + (uint64_t)depth * 0x100);
	cr_expect_eq(vars__group(v, 0)->instances, 32);
	cr_expect_eq(vars__group(v, 0)->alive, 16);
	cr_expect_eq(vars__group(v, 0)->bytes_alive, 16 * 48);
	cr_expect_eq(vars__group(v, 0)->peak_bytes, 32 * 48);
	cr_expect_eq(vars__group(v, 0)->peak_alive, 32);
	cr_expect(get(15)->alive);
	cr_expect_not(get(16)->alive);
}

/* One worker on 4 threads, each marking its own block under one name. */
Test(vars, threads)
{
	uint32_t tid;

	for (tid = 100; tid < 104; tid++) {
		do_malloc(A + tid * 0x100, 256);
		track_at_line(A + tid * 0x100, "thread_data", 30, tid);
	}
	cr_expect_eq(vars__count(v), 4);
	cr_expect_eq(vars__group_count(v), 1);
	for (tid = 0; tid < 4; tid++) {
		cr_expect_eq(get(tid)->tid, 100 + tid);
		cr_expect_eq(get(tid)->group_id, 0);
		cr_expect_eq(get(tid)->block, A + (100 + tid) * 0x100);
	}
	cr_expect_eq(vars__group(v, 0)->instances, 4);
	cr_expect_eq(vars__group(v, 0)->alive, 4);
	cr_expect_eq(vars__group(v, 0)->bytes_alive, 4 * 256);
	cr_expect_eq(vars__group(v, 0)->line, 30);
}

Test(vars, remarking_the_same_block_updates_its_instance)
{
	uint64_t created;

	do_malloc(A, 512);
	track_at_line(A, "buf", 30, 1);
	created = get(0)->created_ns;
	track_at_line(A + 64, "buf", 30, 2);
	cr_expect_eq(vars__count(v), 1);
	cr_expect_eq(get(0)->ptr, A + 64, "a pointer may move inside its block");
	cr_expect_eq(get(0)->tid, 2);
	cr_expect_eq(get(0)->created_ns, created);
	cr_expect_eq(vars__group(v, 0)->instances, 1);
	cr_expect_eq(vars__group(v, 0)->bytes_alive, 512);
}

Test(vars, remarking_at_another_line_moves_the_instance_to_its_group)
{
	do_malloc(A, 512);
	track_at_line(A, "buf", 30, 1);
	track_at_line(A, "buf", 40, 1);
	cr_expect_eq(vars__count(v), 1);
	cr_expect_eq(vars__group_count(v), 2);
	cr_expect_eq(get(0)->group_id, 1);
	cr_expect_eq(get(0)->group->line, 40);
	cr_expect_eq(vars__group(v, 0)->instances, 1);
	cr_expect_eq(vars__group(v, 0)->alive, 0);
	cr_expect_eq(vars__group(v, 0)->bytes_alive, 0);
	cr_expect_eq(vars__group(v, 0)->peak_bytes, 512);
	cr_expect_eq(vars__group(v, 1)->instances, 1);
	cr_expect_eq(vars__group(v, 1)->alive, 1);
	cr_expect_eq(vars__group(v, 1)->bytes_alive, 512);
}

Test(vars, realloc_carries_the_instance_and_its_group_bytes)
{
	do_malloc(A, 100);
	do_malloc(B, 50);
	track(A, "a", "char *");
	track(B, "a", "char *");
	do_realloc(A, C, 1000);
	cr_expect_eq(get(0)->block, C);
	cr_expect_eq(get(0)->size, 1000);
	cr_expect(same(of_block(C), get(0)));
	cr_expect_null(of_block(A));
	cr_expect_eq(vars__group(v, 0)->bytes_alive, 1050);
	cr_expect_eq(vars__group(v, 0)->peak_bytes, 1050);
	do_realloc(C, C, 10); /* in place */
	cr_expect_eq(vars__group(v, 0)->bytes_alive, 60);
	do_free(C);
	cr_expect_eq(vars__group(v, 0)->alive, 1);
	cr_expect_eq(vars__group(v, 0)->bytes_alive, 50);
	cr_expect_eq(get(0)->size, 10, "the size at its free");
}

Test(vars, a_name_in_two_functions_is_two_groups)
{
	do_malloc(A, 10);
	do_malloc(B, 20);
	track_in(A, "buf", "char *", "reader");
	track_in(B, "buf", "char *", "writer");
	cr_expect_eq(vars__group_count(v), 2);
	cr_expect_eq(vars__group(v, 0)->bytes_alive, 10);
	cr_expect_eq(vars__group(v, 1)->bytes_alive, 20);
	/* the other function's marker at the same address renames it */
	track_in(A, "buf", "char *", "writer");
	cr_expect_eq(vars__count(v), 2);
	cr_expect_str_eq(of_block(A)->group->function, "writer");
	cr_expect_eq(vars__group(v, 0)->alive, 0);
	cr_expect_eq(vars__group(v, 1)->alive, 2);
	cr_expect_eq(vars__group(v, 1)->bytes_alive, 30);
	/* at an interior address of A it is another instance, and names A now */
	track_in(A + 4, "buf", "char *", "reader");
	cr_expect_eq(vars__count(v), 3);
	cr_expect_str_eq(of_block(A)->group->function, "reader");
}

/* A fresh model with the given bound, wired to the heap. */
static void rebound(uint32_t max)
{
	struct heap_observer obs = { .released = on_released };

	vars__free(v);
	cr_assert_eq(vars__new(&v, h, max), 0);
	obs.ctx = v;
	heap__set_observer(h, &obs);
}

/* --max-vars: listed first, then folded; groups exact; slots reused. */
Test(vars, the_bound_folds_and_stays_exact)
{
	struct var_total *t;
	size_t n, bytes_live = 0;
	const struct var *x;
	int round, i;

	rebound(10);
	cr_expect_eq(vars__max_instances(v), 10);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 25; i++) {
			do_malloc(A + (uint64_t)i * 0x100, 64 + (uint64_t)i);
			track(A + (uint64_t)i * 0x100, "item", "char *");
		}
		if (round == 0) {
			/* 10 listed, 15 folded */
			cr_expect_eq(vars__count(v), 10);
			cr_expect_eq(vars__folded(v), 15);
			cr_expect_eq(vars__group(v, 0)->folded, 15);
			cr_expect_eq(vars__group(v, 0)->instances, 25);
			for (i = 0; i < 10; i++)
				cr_expect_eq(get((size_t)i)->block, A + (uint64_t)i * 0x100);
			cr_expect_not(vars__get(v, 10, &(struct var){ 0 }));
			bytes_live = vars__bytes(v);
		} else {
			cr_expect_leq(vars__bytes(v), bytes_live,
				      "round %d holds %zu bytes, the first 25 live needed %zu", round,
				      vars__bytes(v), bytes_live);
		}
		cr_expect_eq(vars__group(v, 0)->alive, 25);
		cr_expect_eq(vars__group(v, 0)->bytes_alive, 25 * 64 + 300);
		cr_expect_eq(vars__group(v, 0)->peak_bytes, 25 * 64 + 300);
		cr_expect_eq(vars__group(v, 0)->peak_alive, 25);
		/* folded ones still name their blocks and count */
		for (i = 0; i < 25; i++) {
			x = of_block(A + (uint64_t)i * 0x100);
			cr_assert_not_null(x, "round %d block %d", round, i);
			cr_assert_str_eq(x->group->name, "item");
			cr_assert(x->heap && x->alive);
			cr_assert_eq(x->block, A + (uint64_t)i * 0x100);
			cr_assert_eq(x->size, 64 + (uint64_t)i);
		}
		cr_assert_eq(vars__totals(v, false, &t, &n), 0);
		cr_expect_eq(n, 1);
		cr_expect_eq(t[0].count, 25);
		cr_expect_eq(t[0].bytes, 25 * 64 + 300);
		free(t);
		for (i = 0; i < 25; i++)
			do_free(A + (uint64_t)i * 0x100);
		cr_expect_eq(vars__group(v, 0)->alive, 0);
		cr_expect_eq(vars__group(v, 0)->bytes_alive, 0);
		cr_expect_null(of_block(A + 24 * 0x100));
		cr_expect_leq(vars__bytes(v), bytes_live);
	}
	cr_expect_eq(vars__count(v), 10);
	cr_expect_eq(vars__folded(v), 3 * 25 - 10);
	cr_expect_eq(vars__group(v, 0)->instances, 75);
	cr_expect_eq(vars__group(v, 0)->folded, 65);
	cr_expect_eq(vars__group(v, 0)->alive, 0);
	cr_expect_eq(vars__group(v, 0)->peak_bytes, 25 * 64 + 300);
	/* the listed ones are the first 10, ended, with their sizes */
	for (i = 0; i < 10; i++) {
		cr_expect_not(get((size_t)i)->alive);
		cr_expect_eq(get((size_t)i)->size, 64 + (uint64_t)i);
	}
	/* past the bound, a new non-heap marker is only counted */
	track(STACK, "item", "char *");
	cr_expect_eq(vars__count(v), 10);
	cr_expect_eq(vars__group(v, 0)->instances, 76);
	cr_expect_eq(vars__group(v, 0)->non_heap, 1);
	cr_expect_eq(vars__group(v, 0)->folded, 66);
	cr_expect_eq(vars__folded(v), 66);
	cr_expect_eq(vars__group(v, 0)->alive, 0);
	cr_expect_eq(vars__dropped(v), 0);
}

/* Folded slots are reused: many rounds of many live blocks past the bound. */
Test(vars, folded_slots_are_reused_at_scale)
{
	size_t bytes_first = 0;
	int round, i;

	rebound(10);
	for (round = 0; round < 6; round++) {
		for (i = 0; i < 3000; i++) {
			do_malloc(A + (uint64_t)i * 0x100, 16);
			track(A + (uint64_t)i * 0x100, "item", "char *");
		}
		cr_assert_eq(vars__group(v, 0)->alive, 3000);
		for (i = 0; i < 3000; i++)
			do_free(A + (uint64_t)i * 0x100);
		if (round == 1)
			bytes_first = vars__bytes(v);
		else if (round > 1)
			cr_expect_eq(vars__bytes(v), bytes_first, "round %d", round);
	}
	cr_expect_eq(vars__count(v), 10);
	cr_expect_eq(vars__folded(v), 6 * 3000 - 10);
	cr_expect_eq(vars__group(v, 0)->instances, 6 * 3000);
	cr_expect_eq(vars__group(v, 0)->alive, 0);
	cr_expect_eq(vars__group(v, 0)->peak_alive, 3000);
	cr_expect_eq(vars__group(v, 0)->peak_bytes, 3000 * 16);
	/* well under what 18,000 folded slots would take */
	cr_expect_lt(vars__bytes(v), 18000 * 48 / 2, "%zu bytes", vars__bytes(v));
}

/* Past the bound, a marker that matches a listed instance still updates it. */
Test(vars, past_the_bound_listed_instances_are_updated)
{
	rebound(2);
	do_malloc(A, 64);
	track(STACK, "s", "char *");
	track(A, "a", "char *");
	cr_expect_eq(vars__count(v), 2);
	track(STACK, "s", "char *"); /* the listed non-heap one */
	track(A + 8, "a", "char *"); /* the listed heap one */
	cr_expect_eq(vars__count(v), 2);
	cr_expect_eq(vars__folded(v), 0);
	cr_expect_eq(find("s")->group->instances, 1);
	cr_expect_eq(find("s")->group->non_heap, 1);
	cr_expect_eq(find("a")->group->instances, 1);
	cr_expect_eq(find("a")->ptr, A + 8);
	/* a third block: folded */
	do_malloc(B, 32);
	track(B, "a", "char *");
	cr_expect_eq(vars__count(v), 2);
	cr_expect_eq(vars__folded(v), 1);
	cr_expect_eq(find("a")->group->instances, 2);
	cr_expect_eq(find("a")->group->alive, 2);
	cr_expect_eq(find("a")->group->bytes_alive, 96);
	cr_expect_eq(of_block(B)->ptr, B);
	/* a folded instance moving group: its new group counts it folded */
	track_at_line(B, "a", 99, 5);
	cr_expect_eq(of_block(B)->group->line, 99);
	cr_expect_eq(of_block(B)->tid, 5);
	cr_expect_eq(of_block(B)->group->folded, 1);
	cr_expect_eq(of_block(B)->group->alive, 1);
	cr_expect_eq(of_block(B)->group->bytes_alive, 32);
	cr_expect_eq(find("a")->group->alive, 1);
	cr_expect_eq(find("a")->group->bytes_alive, 64);
	cr_expect_eq(vars__folded(v), 1);
}

Test(vars, a_bound_of_zero_folds_everything)
{
	rebound(0);
	do_malloc(A, 64);
	track(A, "x", "char *");
	cr_expect_eq(vars__count(v), 0);
	cr_expect_eq(vars__max_instances(v), 0);
	cr_expect_str_eq(of_block(A)->group->name, "x");
	cr_expect_eq(vars__group(v, 0)->alive, 1);
	cr_expect_eq(vars__group(v, 0)->instances, 1);
	cr_expect_eq(vars__group(v, 0)->folded, 1);
	cr_expect_eq(vars__folded(v), 1);
	track(A, "x", "char *"); /* the same block again: no second folded one */
	cr_expect_eq(vars__folded(v), 1);
	cr_expect_eq(vars__group(v, 0)->instances, 1);
	track(STACK, "x", "char *"); /* non-heap: only counted */
	cr_expect_eq(vars__count(v), 0);
	cr_expect_eq(vars__group(v, 0)->non_heap, 1);
	cr_expect_eq(vars__group(v, 0)->instances, 2);
	cr_expect_eq(vars__folded(v), 2);
	do_realloc(A, B, 128);
	cr_expect_eq(of_block(B)->size, 128);
	cr_expect_eq(vars__group(v, 0)->bytes_alive, 128);
	do_free(B);
	cr_expect_null(of_block(B));
	cr_expect_eq(vars__group(v, 0)->alive, 0);
	cr_expect_eq(vars__group(v, 0)->bytes_alive, 0);
	cr_expect_eq(vars__group(v, 0)->peak_bytes, 128);
	cr_expect_eq(vars__dropped(v), 0);
}

Test(vars, alive_by_slice)
{
	uint64_t start = now, end;
	uint32_t *d;

	do_malloc(A, 8);
	track(A, "early", "char *"); /* alive to the end */
	do_malloc(B, 8);
	track(B, "short", "char *");
	do_free(B);
	end = now + 1000;
	cr_assert_eq(vars__alive_by_slice(v, start, end, 4, &d), 0);
	/* everything happened in the first quarter */
	cr_expect_eq(d[0], 1);
	cr_expect_eq(d[1], 1);
	cr_expect_eq(d[2], 1);
	cr_expect_eq(d[3], 1);
	cr_expect_eq(d[4 + 0], 1);
	cr_expect_eq(d[4 + 1], 0);
	cr_expect_eq(d[4 + 3], 0);
	free(d);
	cr_expect_eq(vars__alive_by_slice(v, start, end, 0, &d), -EINVAL);
}

/* The next record is at time t. */
static void at_time(uint64_t t)
{
	now = t - 10;
}

/* A known pattern: 4 slices of 1000 ns. */
Test(vars, alive_by_slice_pattern)
{
	const uint64_t S = 100000;
	uint32_t *d;

	rebound(3); /* the 4th heap instance is folded: not in the panel */
	at_time(S + 50);
	do_malloc(A, 8);
	do_malloc(B, 8);
	do_malloc(C, 8);
	do_malloc(C + 0x1000, 8);
	do_malloc(C + 0x2000, 8);
	at_time(S + 100);
	track(A, "a", "char *");      /* a#1: 100 .. 1500 → slices 0, 1 */
	at_time(S + 1100);
	track(B, "b", "char *");      /* b#1: 1100 .. 1200 → slice 1 */
	at_time(S + 1200);
	do_free(B);
	at_time(S + 1300);
	track(C, "a", "char *");      /* a#2: 1300 .. 2500 → slices 1, 2 */
	at_time(S + 1500);
	do_free(A);
	at_time(S + 2100);
	track(C + 0x1000, "a", "char *"); /* folded: not counted */
	at_time(S + 2500);
	do_free(C);
	at_time(S + 3100);
	track(STACK, "b", "char *");  /* non-heap, only counted: not in it */
	cr_assert_eq(vars__count(v), 3);
	cr_assert_eq(vars__folded(v), 2);
	cr_assert_eq(vars__group_count(v), 2);
	cr_assert_eq(vars__alive_by_slice(v, S, S + 4000, 4, &d), 0);
	cr_expect_eq(d[0], 1);
	cr_expect_eq(d[1], 2);
	cr_expect_eq(d[2], 1);
	cr_expect_eq(d[3], 0);
	cr_expect_eq(d[4 + 0], 0);
	cr_expect_eq(d[4 + 1], 1);
	cr_expect_eq(d[4 + 2], 0);
	cr_expect_eq(d[4 + 3], 0);
	free(d);
	/* a listed instance still alive counts until the end */
	rebound(10);
	at_time(S + 5100);
	do_malloc(A + 0x100, 8);
	track(A + 0x100, "late", "char *");
	at_time(S + 5200);
	do_malloc(A + 0x200, 8);
	track(A + 0x200, "gone", "char *");
	at_time(S + 6600);
	do_free(A + 0x200);
	cr_assert_eq(vars__alive_by_slice(v, S + 5000, S + 8000, 3, &d), 0);
	cr_expect_eq(d[0], 1);
	cr_expect_eq(d[1], 1);
	cr_expect_eq(d[2], 1);
	cr_expect_eq(d[3 + 0], 1);
	cr_expect_eq(d[3 + 1], 1);
	cr_expect_eq(d[3 + 2], 0);
	free(d);
	/* one slice: everything that was alive at all */
	cr_assert_eq(vars__alive_by_slice(v, S + 5000, S + 8000, 1, &d), 0);
	cr_expect_eq(d[0], 1);
	cr_expect_eq(d[1], 1);
	free(d);
}

/* Peak figures: the highest bytes_alive, the alive count and time then. */
Test(vars, peak_figures)
{
	const struct var_group *g;
	uint64_t t_peak;

	do_malloc(A, 100);
	do_malloc(B, 200);
	at_time(5000);
	track(A, "p", "char *");
	g = vars__group(v, 0);
	cr_expect_eq(g->first_ns, 5000);
	cr_expect_eq(g->peak_ns, 5000);
	cr_expect_eq(g->peak_bytes, 100);
	at_time(6000);
	track(B, "p", "char *");           /* 300, 2 alive */
	cr_expect_eq(g->peak_bytes, 300);
	cr_expect_eq(g->peak_alive, 2);
	cr_expect_eq(g->peak_ns, 6000);
	do_free(A);                         /* 200, 1 */
	do_malloc(C, 50);
	do_malloc(C + 0x1000, 50);
	track(C, "p", "char *");           /* 250, 2 */
	track(C + 0x1000, "p", "char *");  /* 300, 3: not higher */
	cr_expect_eq(g->peak_bytes, 300);
	cr_expect_eq(g->peak_alive, 2);
	cr_expect_eq(g->peak_ns, 6000);
	at_time(9000);
	do_realloc(B, B, 1000);             /* in place: 1100, 3 */
	t_peak = 9000 + 10;                 /* the record's ts (entry_ns first) */
	cr_expect_eq(g->bytes_alive, 1100);
	cr_expect_eq(g->peak_bytes, 1100);
	cr_expect_eq(g->peak_alive, 3);
	cr_expect_eq(g->peak_ns, t_peak);
	do_free(B);
	do_free(C);
	do_free(C + 0x1000);
	cr_expect_eq(g->alive, 0);
	cr_expect_eq(g->bytes_alive, 0);
	cr_expect_eq(g->peak_bytes, 1100);
	cr_expect_eq(g->peak_alive, 3);
	cr_expect_eq(g->peak_ns, t_peak);
	cr_expect_eq(g->instances, 4);
	/* a group with only non-heap instances never had bytes alive */
	track(STACK, "q", "char *");
	cr_expect_eq(vars__group(v, 1)->peak_ns, 0);
	cr_expect_eq(vars__group(v, 1)->peak_bytes, 0);
	cr_expect_eq(vars__group(v, 1)->alive, 0);
	cr_expect_eq(vars__group(v, 1)->non_heap, 1);
}

/* The goal: under 64 bytes an instance, measured at 1M live ones. */
Test(vars, bytes_per_instance, .timeout = 60)
{
	const uint64_t n = 1000000;
	struct tt_var_event e = mk_var(0, "item", "char *", NULL, "main");
	uint64_t i;
	double per;

	for (i = 0; i < n; i++) {
		do_malloc(0x100000 + i * 64, 32);
		e.ptr = 0x100000 + i * 64;
		e.hdr.ts_ns = tick();
		cr_assert_eq(vars__on_track(v, &e), 0);
	}
	cr_assert_eq(vars__count(v), n);
	per = (double)vars__bytes(v) / (double)n;
	cr_expect_eq(vars__folded(v), 0);
	cr_expect_eq(vars__group(v, 0)->alive, n);
	cr_expect_eq(vars__group(v, 0)->bytes_alive, 32 * n);
	printf("vars: %.1f bytes per live instance at %llu instances (%zu bytes)\n", per,
	       (unsigned long long)n, vars__bytes(v));
	cr_log_info("vars: %.1f bytes per live instance at %llu instances", per,
		    (unsigned long long)n);
	cr_expect_lt(per, 64.0, "%.1f bytes per instance", per);
}

Test(vars, the_group_limit_drops_and_counts)
{
	char name[32];
	struct tt_var_event e;
	unsigned int i;

	do_malloc(A, 8);
	for (i = 0; i < TT_MAX_VAR_GROUPS; i++) {
		snprintf(name, sizeof(name), "g%u", i);
		track(STACK + i, name, "char *");
	}
	cr_expect_eq(vars__group_count(v), TT_MAX_VAR_GROUPS);
	e = mk_var(A, "one_more", "char *", NULL, "main");
	cr_expect_eq(vars__on_track(v, &e), -ENOMEM);
	cr_expect_eq(vars__dropped(v), 1);
	cr_expect_eq(vars__group_count(v), TT_MAX_VAR_GROUPS);
	cr_expect_eq(vars__count(v), TT_MAX_VAR_GROUPS);
	cr_expect_null(of_block(A));
	/* an existing group still takes markers */
	track(A, "g0", "char *");
	cr_expect(of_block(A));
	cr_expect_eq(vars__count(v), TT_MAX_VAR_GROUPS + 1);
	cr_expect_eq(vars__group(v, 0)->instances, 2);
	cr_expect_eq(vars__group(v, 0)->non_heap, 1);
	cr_expect_eq(vars__group(v, 0)->alive, 1);
	cr_expect_eq(vars__dropped(v), 1);
}

/* C++ containers: a marker with a data-pointer slot, then its moves. */
#define SLOT 0x7ffd0000ULL

static void track_container(uint64_t ptr, const char *name)
{
	struct tt_var_event e = mk_var(ptr, name, "std::vector<int>", NULL, "main");

	e.container = SLOT;
	cr_assert_eq(vars__on_track(v, &e), 0);
}

static void moved(uint64_t old_ptr, uint64_t new_ptr)
{
	struct tt_var_move_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = TT_EV_VAR_MOVE;
	e.hdr.tid = 42;
	e.hdr.ts_ns = tick();
	e.container = SLOT;
	e.old_ptr = old_ptr;
	e.new_ptr = new_ptr;
	cr_assert_eq(vars__on_move(v, &e), 0);
}

/* std::vector growing: new buffer, free of the old one, then the store. */
Test(vars, container_follows_growth)
{
	const struct var *x;
	const struct var_group *g;

	do_malloc(0x1000, 4);
	track_container(0x1000, "vec");
	do_malloc(0x2000, 8);
	do_free(0x1000);
	cr_assert_not(find_in("vec", "main")->alive, "ended at the old buffer's free");
	moved(0x1000, 0x2000);
	do_malloc(0x3000, 16);
	do_free(0x2000);
	moved(0x2000, 0x3000);

	cr_assert_eq(vars__count(v), 1);
	x = find_in("vec", "main");
	cr_expect(x->alive && x->heap);
	cr_expect_eq(x->block, 0x3000);
	cr_expect_eq(x->ptr, 0x3000);
	cr_expect_eq(x->size, 16);
	cr_expect_eq(x->freed_ns, 0);
	g = x->group;
	cr_expect_eq(g->instances, 1);
	cr_expect_eq(g->alive, 1);
	cr_expect_eq(g->bytes_alive, 16);
	cr_expect_eq(vars__container_moves(v), 2);

	/* and its end is the last buffer's free */
	do_free(0x3000);
	x = find_in("vec", "main");
	cr_expect_not(x->alive);
	cr_expect_eq(x->size, 16);
	cr_expect_eq(x->group->alive, 0);
	cr_expect_eq(x->group->bytes_alive, 0);
}

/* An implementation that stores the new pointer before freeing the old one. */
Test(vars, container_moves_before_free)
{
	const struct var *x;

	do_malloc(0x1000, 4);
	track_container(0x1000, "vec");
	do_malloc(0x2000, 8);
	moved(0x1000, 0x2000);
	x = find_in("vec", "main");
	cr_expect(x->alive);
	cr_expect_eq(x->block, 0x2000);
	cr_expect_eq(x->group->bytes_alive, 8);
	do_free(0x1000); /* no longer its block */
	x = find_in("vec", "main");
	cr_expect(x->alive);
	cr_expect_eq(x->size, 8);
	cr_expect_eq(x->group->alive, 1);
	cr_expect_eq(x->group->bytes_alive, 8);
}

/* A vector destroyed, another made at the same address afterwards: its
 * buffer is younger than the free, so the old variable stays ended. */
Test(vars, container_reused_address_is_not_followed)
{
	const struct var *x;

	do_malloc(0x1000, 4);
	track_container(0x1000, "vec");
	do_free(0x1000);
	do_malloc(0x2000, 40);
	moved(0x1000, 0x2000);
	x = find_in("vec", "main");
	cr_expect_not(x->alive);
	cr_expect_eq(x->size, 4);
	cr_expect_eq(x->group->alive, 0);
	cr_expect_eq(vars__container_moves(v), 0);
	/* and the slot is forgotten: a later move does nothing either */
	do_malloc(0x3000, 80);
	moved(0x2000, 0x3000);
	cr_expect_not(find_in("vec", "main")->alive);
}

/* Marked while empty (data() NULL: not heap), then its first buffers. */
Test(vars, container_marked_empty_becomes_heap)
{
	const struct var *x;

	track_container(0, "vec");
	x = find_in("vec", "main");
	cr_expect_not(x->heap);
	cr_expect_eq(x->group->non_heap, 1);
	do_malloc(0x1000, 4);
	moved(0, 0x1000);
	do_malloc(0x2000, 8);
	do_free(0x1000);
	moved(0x1000, 0x2000);
	x = find_in("vec", "main");
	cr_expect(x->heap && x->alive);
	cr_expect_eq(x->block, 0x2000);
	cr_expect_eq(x->size, 8);
	cr_expect_eq(x->group->non_heap, 0);
	cr_expect_eq(x->group->instances, 1);
	cr_expect_eq(x->group->alive, 1);
	cr_expect_eq(x->group->bytes_alive, 8);
}
