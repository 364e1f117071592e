/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tracked variables: TT_TRACK_VAR markers joined to the heap block that
 * holds the address they give, with types, categories and lifecycles.
 */
#ifndef TT_VARS_H
#define TT_VARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "ttbpf.h"

struct vars;
struct heap;
struct heap_block;

struct var {
	char name[TT_VAR_NAME_LEN];
	char type_name[TT_VAR_TYPE_LEN];
	char category[TT_VAR_CATEGORY_LEN]; /* explicit, or derived from the type */
	char file[TT_VAR_FILE_LEN];
	char function[TT_VAR_FUNC_LEN];
	int line;
	uint64_t site_ip;
	uint64_t ptr;        /* the address the marker gave (follows realloc) */
	uint64_t block;      /* start of the heap block holding ptr; 0: not heap */
	uint64_t size;       /* the block's size (at its free once freed) */
	uint32_t tid;
	uint64_t created_ns; /* record time of the marker */
	uint64_t freed_ns;   /* 0 while alive */
	bool heap;           /* ptr was inside a live heap block */
	bool alive;
	uint32_t next_in_block; /* private: index + 1 of the next var in this block */
};

int vars__new(struct vars **out, struct heap *heap);
void vars__free(struct vars *v);

/* A marker: joins it to the block that holds e->ptr. 0 or -ENOMEM. */
int vars__on_track(struct vars *v, const struct tt_var_event *e);
/* The heap released b: its variables end, or follow realloc to moved_to
 * (new_size bytes; a variable past the new end ends). */
void vars__on_released(struct vars *v, const struct heap_block *b, uint64_t ts_ns,
		       uint64_t moved_to, uint64_t new_size);

size_t vars__count(const struct vars *v);
/* Variable i (0..count-1, in order of creation); size is current when alive. */
const struct var *vars__get(struct vars *v, size_t i);
/* The first live variable naming block, or NULL. */
const struct var *vars__of_block(struct vars *v, uint64_t block);
uint64_t vars__bad_sites(const struct vars *v);

/* Live heap memory named by variables, grouped by type or by category. */
struct var_group {
	const char *name;
	uint64_t bytes;
	uint64_t count;
};

/* *out: groups, largest first (free() it). 0 or -ENOMEM. */
int vars__group(struct vars *v, bool by_category, struct var_group **out, size_t *cnt);

/* The category of a type name (rules in docs/variables.md):
 * "text", "buffer", "record", "collection", "smart_pointer", "raw", "other". */
const char *vars__category_of(const char *type_name);

#endif /* TT_VARS_H */
