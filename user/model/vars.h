/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tracked variables: TT_TRACK_VAR markers joined to the heap block that
 * holds the address they give. Every block a marker names is one *instance*;
 * instances of one (name, type, file, line, function) form a *group* with
 * exact figures. Rules in docs/variables.md.
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

/* Instances listed one by one before further ones are folded into their
 * group (--max-vars); groups kept (further markers are dropped, counted). */
#define TT_DEFAULT_MAX_VARS (1u << 20)
#define TT_MAX_MAX_VARS (16u << 20)
#define TT_MAX_VAR_GROUPS (1u << 16)

struct var_group {
	char name[TT_VAR_NAME_LEN];
	char type_name[TT_VAR_TYPE_LEN];    /* "unknown" when the marker gave none */
	char category[TT_VAR_CATEGORY_LEN]; /* explicit, or derived from the type */
	char file[TT_VAR_FILE_LEN];
	char function[TT_VAR_FUNC_LEN];
	int line;
	uint64_t instances;   /* instances its markers named, folded ones included */
	uint64_t alive;       /* heap instances alive now */
	uint64_t non_heap;    /* instances whose address was in no live block */
	uint64_t folded;      /* instances past the bound: counted here, not listed */
	uint64_t bytes_alive; /* sizes of the blocks of its alive instances */
	uint64_t peak_bytes;  /* highest bytes_alive */
	uint64_t peak_alive;  /* alive at that moment */
	uint64_t peak_ns;     /* when (0: never any bytes alive) */
	uint64_t first_ns;    /* its first marker */
	uint64_t name_key;    /* private: hash of (name, function) */
	uint64_t site_key;    /* private: hash of every string and the line */
};

/* One instance, as reports see it. */
struct var {
	const struct var_group *group;
	uint32_t group_id; /* index of group, 0..vars__group_count() - 1 */
	uint64_t ptr;      /* the address the marker gave (follows realloc) */
	uint64_t block;    /* start of the block holding ptr while alive; 0 otherwise */
	uint64_t size;     /* the block's current size, or at its free; 0: not heap */
	uint32_t tid;      /* thread of the latest marker */
	uint64_t created_ns;
	uint64_t freed_ns; /* 0 while alive (always for non-heap instances) */
	bool heap, alive;
};

/* max_instances: instances listed (0..TT_MAX_MAX_VARS). */
int vars__new(struct vars **out, struct heap *heap, uint32_t max_instances);
void vars__free(struct vars *v);

/* A marker: joins it to the block that holds e->ptr. 0, or -ENOMEM when it
 * could not be kept (counted in vars__dropped). */
int vars__on_track(struct vars *v, const struct tt_var_event *e);
/* The heap released b: its instances end, or follow realloc to moved_to
 * (new_size bytes; an instance past the new end ends). */
void vars__on_released(struct vars *v, const struct heap_block *b, uint64_t ts_ns,
		       uint64_t moved_to, uint64_t new_size);

/* A tracked container's data pointer moved (e->container, as a marker
 * gave it): its instance follows to the live block at e->new_ptr, even
 * after the old buffer's free ended it, if that block was allocated before
 * the free (a container that grew). 0, or -ENOMEM. */
int vars__on_move(struct vars *v, const struct tt_var_move_event *e);
/* Moves followed so far. */
uint64_t vars__container_moves(const struct vars *v);

/* Listed instances, in order of creation. */
size_t vars__count(const struct vars *v);
/* Instance i into *out; false when i is out of range. */
bool vars__get(const struct vars *v, size_t i, struct var *out);
/* The instance that names block, the most recently tracked of its alive
 * ones (listed or folded), into *out; false when none. */
bool vars__of_block(const struct vars *v, uint64_t block, struct var *out);

size_t vars__group_count(const struct vars *v);
/* Group i (in order of first marker), or NULL. */
const struct var_group *vars__group(const struct vars *v, size_t i);

uint64_t vars__bad_sites(const struct vars *v);
uint64_t vars__folded(const struct vars *v);  /* instances not listed */
uint64_t vars__dropped(const struct vars *v); /* markers not kept at all */
uint32_t vars__max_instances(const struct vars *v);
/* Bytes the instances, groups and indexes hold. */
size_t vars__bytes(const struct vars *v);

/* Live heap memory named by variables, by type name or by category. */
struct var_total {
	const char *name;
	uint64_t bytes;
	uint64_t count; /* blocks */
};

/* *out: totals, largest first (free() it); every named live block counts
 * once, for the instance vars__of_block gives. 0 or -ENOMEM. */
int vars__totals(const struct vars *v, bool by_category, struct var_total **out, size_t *cnt);

/*
 * The lifecycle panel's density: *out[g * slices + k] is how many listed heap
 * instances of group g were alive at some time in slice k of `slices` equal
 * slices of [start_ns, end_ns] (an instance still alive: until end_ns).
 * Folded instances have no times and are not in it. free() *out. 0, -EINVAL
 * (no slices) or -ENOMEM.
 */
int vars__alive_by_slice(const struct vars *v, uint64_t start_ns, uint64_t end_ns,
			 unsigned int slices, uint32_t **out);

/* The category of a type name (rules in docs/variables.md):
 * "text", "buffer", "record", "collection", "smart_pointer", "raw", "other". */
const char *vars__category_of(const char *type_name);

#endif /* TT_VARS_H */
