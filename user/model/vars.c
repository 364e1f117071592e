// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "heap.h"
#include "vars.h"

enum {
	I_HEAP = 0x1,   /* its address was inside a live block when marked */
	I_ALIVE = 0x2,  /* not ended (a non-heap instance never ends) */
	I_FOLDED = 0x4, /* past the bound: its slot is reused once it ends */
	I_FREE = 0x8,   /* a folded slot on the free list */
};

/*
 * One instance in 48 bytes: a marker in a hot loop can make millions. The
 * block is only needed while alive and the size only once ended (a live
 * block's size is the heap's), so they share a word.
 */
struct inst {
	uint64_t ptr;
	union {
		uint64_t block;    /* I_HEAP and I_ALIVE: start of its block */
		uint64_t end_size; /* I_HEAP, ended: the size at its free */
	};
	uint64_t created_ns;
	uint64_t freed_ns;
	uint32_t group;
	uint32_t tid;
	uint32_t next; /* index + 1: next instance of the same block, or next free slot */
	uint8_t flags;
};
_Static_assert(sizeof(struct inst) == 48, "an instance is 48 bytes");

/*
 * Open-addressing sets of index + 1 (0: empty slot), 4 bytes a slot: the key
 * of an entry is derived from what it points to, not stored.
 */
struct index {
	uint32_t *slot;
	size_t mask, cnt;
};

#define FOLDED_ID 0x80000000u /* above TT_MAX_MAX_VARS */
_Static_assert(TT_MAX_MAX_VARS < FOLDED_ID, "listed ids stay below the folded bit");

struct vars;
typedef uint64_t (*key_fn)(const struct vars *v, uint32_t val);

struct vars {
	struct heap *heap;
	struct inst *inst;  /* listed instances, in order of creation */
	size_t listed, cap;
	uint32_t max_listed;
	/* Past the bound: folded instances, ids FOLDED_ID | (index + 1), as
	 * many as are alive at once (a slot is reused once its instance ends) */
	struct inst *fold;
	size_t fold_cnt, fold_cap;
	uint32_t free_head; /* id of a folded slot to reuse, chained by next */
	struct var_group *groups;
	size_t group_cnt, group_cap;
	struct index by_block; /* alive heap instances: block → the most recent one */
	struct index non_heap; /* non-heap instances by (name, function, ptr) */
	struct index by_site;  /* groups */
	uint64_t bad_sites, dropped, folded;
	/* C++ containers followed (BPF watches as many per process): where
	 * each keeps its data pointer, and its listed instance (0: none) */
	struct {
		uint64_t slot;
		uint32_t inst;
	} cont[TT_MAX_CONTAINERS];
	uint64_t cont_moves; /* moves followed */
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL; /* ("ab", "c") and ("a", "bc") differ */
}

/* The instance of an id (index + 1, with FOLDED_ID for the folded ones). */
static struct inst *at(const struct vars *v, uint32_t id)
{
	return id & FOLDED_ID ? &v->fold[(id & ~FOLDED_ID) - 1] : &v->inst[id - 1];
}

static uint64_t block_key(const struct vars *v, uint32_t val)
{
	return at(v, val)->block;
}

static uint64_t non_heap_key(const struct vars *v, uint32_t val)
{
	const struct inst *x = at(v, val);

	return mix(x->ptr) ^ v->groups[x->group].name_key;
}

static uint64_t site_key(const struct vars *v, uint32_t val)
{
	return v->groups[val - 1].site_key;
}

static int index_init(struct index *ix)
{
	ix->slot = calloc(256, sizeof(*ix->slot));
	ix->mask = 255;
	ix->cnt = 0;
	return ix->slot ? 0 : -ENOMEM;
}

/* The slot of the first entry at or after *j whose key is key (*j: where to
 * go on from), or SIZE_MAX. Start with *j = mix(key) & mask. */
static size_t index_next(const struct vars *v, const struct index *ix, key_fn key_of,
			 uint64_t key, size_t *j)
{
	size_t s;

	for (; ix->slot[*j]; *j = (*j + 1) & ix->mask) {
		if (key_of(v, ix->slot[*j]) == key) {
			s = *j;
			*j = (*j + 1) & ix->mask;
			return s;
		}
	}
	return SIZE_MAX;
}

static size_t index_find(const struct vars *v, const struct index *ix, key_fn key_of, uint64_t key)
{
	size_t j = mix(key) & ix->mask;

	return index_next(v, ix, key_of, key, &j);
}

static void index_place(const struct vars *v, struct index *ix, key_fn key_of, uint32_t val)
{
	size_t j;

	for (j = mix(key_of(v, val)) & ix->mask; ix->slot[j]; j = (j + 1) & ix->mask)
		;
	ix->slot[j] = val;
}

static int index_add(const struct vars *v, struct index *ix, key_fn key_of, uint32_t val)
{
	if ((ix->cnt + 1) * 2 > ix->mask + 1) {
		struct index old = *ix;
		size_t i;

		ix->mask = old.mask * 2 + 1;
		ix->slot = calloc(ix->mask + 1, sizeof(*ix->slot));
		if (!ix->slot) {
			*ix = old;
			return -ENOMEM;
		}
		for (i = 0; i <= old.mask; i++)
			if (old.slot[i])
				index_place(v, ix, key_of, old.slot[i]);
		free(old.slot);
	}
	index_place(v, ix, key_of, val);
	ix->cnt++;
	return 0;
}

/* Empties slot i; backward-shift deletion keeps probe runs intact. */
static void index_del(const struct vars *v, struct index *ix, key_fn key_of, size_t i)
{
	size_t j = i, home;

	ix->cnt--;
	for (;;) {
		j = (j + 1) & ix->mask;
		if (!ix->slot[j])
			break;
		home = mix(key_of(v, ix->slot[j])) & ix->mask;
		if (((j - home) & ix->mask) >= ((j - i) & ix->mask)) {
			ix->slot[i] = ix->slot[j];
			i = j;
		}
	}
	ix->slot[i] = 0;
}

int vars__new(struct vars **out, struct heap *heap, uint32_t max_instances)
{
	struct vars *v = calloc(1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	v->heap = heap;
	v->max_listed = max_instances < TT_MAX_MAX_VARS ? max_instances : TT_MAX_MAX_VARS;
	if (index_init(&v->by_block) || index_init(&v->non_heap) || index_init(&v->by_site)) {
		vars__free(v);
		return -ENOMEM;
	}
	*out = v;
	return 0;
}

void vars__free(struct vars *v)
{
	if (!v)
		return;
	free(v->by_block.slot);
	free(v->non_heap.slot);
	free(v->by_site.slot);
	free(v->groups);
	free(v->inst);
	free(v->fold);
	free(v);
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}


/* Scalar element types: a pointer to one or an array of them is a buffer. */
static const char *const scalars[] = {
	"int", "unsigned", "unsigned int", "signed", "signed int", "short", "short int",
	"unsigned short", "unsigned short int", "long", "long int", "unsigned long",
	"unsigned long int", "long long", "long long int", "unsigned long long",
	"unsigned long long int", "float", "double", "long double", "bool", "_Bool",
	"unsigned char", "uint8_t", "int8_t", "uint16_t", "int16_t", "uint32_t", "int32_t",
	"uint64_t", "int64_t", "size_t", "ssize_t", "ptrdiff_t", "intptr_t", "uintptr_t",
	"char16_t", "char32_t", "std::byte", "std::uint8_t", "std::int32_t", "std::size_t",
};
/* Character types: a pointer to one or an array of them is text. */
static const char *const chars[] = { "char", "signed char", "wchar_t", "char8_t" };

static bool in_list(const char *s, size_t n, const char *const *list, size_t cnt)
{
	size_t i;

	for (i = 0; i < cnt; i++)
		if (strlen(list[i]) == n && !strncmp(s, list[i], n))
			return true;
	return false;
}

const char *vars__category_of(const char *t)
{
	size_t n, stars = 0;
	bool array;
	const char *end;

	while (*t == ' ')
		t++;
	while (!strncmp(t, "const ", 6) || !strncmp(t, "volatile ", 9))
		t += t[0] == 'c' ? 6 : 9;
	if (!*t || !strcmp(t, "unknown"))
		return "other";
	/* smart pointers, strings and containers by their std:: template */
	if (starts(t, "std::unique_ptr<") || starts(t, "std::shared_ptr<") || starts(t, "std::weak_ptr<"))
		return "smart_pointer";
	if (starts(t, "std::string") || starts(t, "std::basic_string<") ||
	    starts(t, "std::__cxx11::basic_string<") || starts(t, "std::wstring") ||
	    starts(t, "std::u16string") || starts(t, "std::u32string"))
		return "text";
	if (starts(t, "std::vector<") || starts(t, "std::map<") || starts(t, "std::unordered_") ||
	    starts(t, "std::set<") || starts(t, "std::multi") || starts(t, "std::list<") ||
	    starts(t, "std::forward_list<") || starts(t, "std::deque<") || starts(t, "std::array<") ||
	    starts(t, "std::queue<") || starts(t, "std::stack<") || starts(t, "std::priority_queue<"))
		return "collection";
	if (!strcmp(t, "void *") || !strcmp(t, "void*"))
		return "raw";

	/* the element type: the name before any '*', '[' or "const" after it */
	end = t + strcspn(t, "*[&");
	array = strchr(t, '[') != NULL;
	for (const char *c = t; *c; c++)
		stars += *c == '*';
	n = (size_t)(end - t);
	while (n && t[n - 1] == ' ')
		n--;
	if (n >= 6 && !strncmp(t + n - 6, " const", 6))
		n -= 6;
	/* a pointer to pointers (argv, tables of records): not one kind of data */
	if (stars + array > 1)
		return "other";
	if (in_list(t, n, chars, sizeof(chars) / sizeof(chars[0])))
		return stars || array ? "text" : "other";
	if (in_list(t, n, scalars, sizeof(scalars) / sizeof(scalars[0])))
		return stars || array ? "buffer" : "other";
	if (starts(t, "struct ") || starts(t, "class ") || starts(t, "union "))
		return "record";
	if (starts(t, "void"))
		return "other";
	/* any other named type, C++ class or typedef'd struct: a user record,
	 * unless it is from the standard library */
	if (!starts(t, "std::") && n && strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789:<>, ") >= n)
		return "record";
	return "other";
}


static void copy_str(char *dst, const char *src, size_t len)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool same_name(const struct var_group *a, const struct var_group *b)
{
	return a->name_key == b->name_key && !strcmp(a->name, b->name) &&
	       !strcmp(a->function, b->function);
}

static bool same_site(const struct var_group *a, const struct var_group *b)
{
	return a->line == b->line && same_name(a, b) && !strcmp(a->type_name, b->type_name) &&
	       !strcmp(a->category, b->category) && !strcmp(a->file, b->file);
}

/* The group of the marker e (found or made): its index, or -1 (full or out
 * of memory). */
static int64_t group_for(struct vars *v, const struct tt_var_event *e)
{
	struct var_group key;
	uint64_t h;
	size_t j, s;

	memset(&key, 0, sizeof(key));
	copy_str(key.name, e->name, sizeof(key.name));
	copy_str(key.type_name, e->type_name[0] ? e->type_name : "unknown", sizeof(key.type_name));
	copy_str(key.category, e->category[0] ? e->category : vars__category_of(key.type_name),
		 sizeof(key.category));
	copy_str(key.file, e->file, sizeof(key.file));
	copy_str(key.function, e->function, sizeof(key.function));
	key.line = e->line;
	key.name_key = hash_str(hash_str(0xcbf29ce484222325ULL, key.name), key.function);
	h = hash_str(hash_str(hash_str(key.name_key, key.type_name), key.category), key.file);
	key.site_key = mix(h ^ (uint32_t)key.line);

	j = mix(key.site_key) & v->by_site.mask;
	while ((s = index_next(v, &v->by_site, site_key, key.site_key, &j)) != SIZE_MAX)
		if (same_site(&v->groups[v->by_site.slot[s] - 1], &key))
			return v->by_site.slot[s] - 1;
	if (v->group_cnt >= TT_MAX_VAR_GROUPS)
		return -1;
	if (v->group_cnt == v->group_cap) {
		size_t cap = v->group_cap ? v->group_cap * 2 : 16;
		struct var_group *n = realloc(v->groups, cap * sizeof(*n));

		if (!n)
			return -1;
		v->groups = n;
		v->group_cap = cap;
	}
	key.first_ns = e->hdr.ts_ns;
	v->groups[v->group_cnt] = key;
	if (index_add(v, &v->by_site, site_key, (uint32_t)v->group_cnt + 1))
		return -1;
	return (int64_t)v->group_cnt++;
}

static void group_alive(struct var_group *g, uint64_t ts_ns)
{
	if (g->bytes_alive > g->peak_bytes) {
		g->peak_bytes = g->bytes_alive;
		g->peak_alive = g->alive;
		g->peak_ns = ts_ns;
	}
}

static void group_join(struct var_group *g, uint64_t size, uint64_t ts_ns)
{
	g->instances++;
	g->alive++;
	g->bytes_alive += size;
	group_alive(g, ts_ns);
}

static void group_leave(struct var_group *g, uint64_t size)
{
	g->alive--;
	g->bytes_alive -= size;
}

/* Room for one more in *arr (cap a bound, or 0: none). */
static int grow(struct inst **arr, size_t *cap, size_t cnt, size_t bound)
{
	size_t n = *cap ? *cap * 2 : 64;
	struct inst *p;

	if (cnt < *cap)
		return 0;
	/* the listed part fills its bound exactly: no slack past it */
	if (bound && n > bound)
		n = bound;
	p = realloc(*arr, n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

/* A new instance: listed while there is room, else folded. Its id, or 0
 * when out of memory. */
static uint32_t inst_new(struct vars *v)
{
	uint32_t id;

	if (v->listed < v->max_listed) {
		if (grow(&v->inst, &v->cap, v->listed, v->max_listed))
			return 0;
		return (uint32_t)++v->listed;
	}
	if (v->free_head) {
		id = v->free_head;
		v->free_head = at(v, id)->next;
		return id;
	}
	if (v->fold_cnt >= FOLDED_ID - 1 || grow(&v->fold, &v->fold_cap, v->fold_cnt, 0))
		return 0;
	return FOLDED_ID | (uint32_t)++v->fold_cnt;
}

/* Gives back the id inst_new gave last, unused. */
static void inst_undo(struct vars *v, uint32_t id)
{
	if (!(id & FOLDED_ID)) {
		v->listed--;
		return;
	}
	at(v, id)->flags = I_FOLDED | I_FREE;
	at(v, id)->next = v->free_head;
	v->free_head = id;
}

static uint32_t block_head(const struct vars *v, uint64_t block)
{
	size_t s = index_find(v, &v->by_block, block_key, block);

	return s == SIZE_MAX ? 0 : v->by_block.slot[s];
}

/* Puts instance i first among those of its block (x->block). */
static int block_link(struct vars *v, uint32_t i)
{
	struct inst *x = at(v, i);
	size_t s = index_find(v, &v->by_block, block_key, x->block);

	if (s == SIZE_MAX) {
		x->next = 0;
		return index_add(v, &v->by_block, block_key, i);
	}
	x->next = v->by_block.slot[s];
	v->by_block.slot[s] = i;
	return 0;
}

/* Instance i, already in its block's chain, becomes its first. */
static void block_to_front(struct vars *v, uint32_t i)
{
	struct inst *x = at(v, i);
	size_t s = index_find(v, &v->by_block, block_key, x->block);
	uint32_t *link;

	if (s == SIZE_MAX || v->by_block.slot[s] == i)
		return;
	for (link = &at(v, v->by_block.slot[s])->next; *link && *link != i;
	     link = &at(v, *link)->next)
		;
	if (*link == i)
		*link = x->next;
	x->next = v->by_block.slot[s];
	v->by_block.slot[s] = i;
}

/*
 * A marker inside live block b: the instance of the same (name, function)
 * in b is updated; else one at the same address under another name is
 * renamed; else the block gets a new instance.
 */
static int track_heap(struct vars *v, const struct tt_var_event *e, uint32_t gi,
		      const struct heap_block *b, uint32_t *id)
{
	struct var_group *g = &v->groups[gi];
	uint32_t i, same = 0, rename = 0;
	struct inst *x;
	bool folded;

	for (i = block_head(v, b->ptr); i && !same; i = at(v, i)->next) {
		x = at(v, i);
		if (same_name(&v->groups[x->group], g))
			same = i;
		else if (!rename && x->ptr == e->ptr)
			rename = i;
	}
	if ((i = same ? same : rename)) {
		x = at(v, i);
		if (x->group != gi) {
			group_leave(&v->groups[x->group], b->size);
			group_join(g, b->size, e->hdr.ts_ns);
			g->folded += (x->flags & I_FOLDED) != 0;
			x->group = gi;
		}
		x->ptr = e->ptr;
		x->tid = e->hdr.tid;
		block_to_front(v, i);
		*id = i;
		return 0;
	}

	i = inst_new(v);
	if (!i)
		return -ENOMEM;
	*id = i;
	folded = i & FOLDED_ID;
	x = at(v, i);
	*x = (struct inst){ .ptr = e->ptr, .block = b->ptr, .created_ns = e->hdr.ts_ns,
			    .group = gi, .tid = e->hdr.tid,
			    .flags = I_HEAP | I_ALIVE | (folded ? I_FOLDED : 0) };
	if (block_link(v, i)) {
		inst_undo(v, i);
		return -ENOMEM;
	}
	group_join(g, b->size, e->hdr.ts_ns);
	if (folded) {
		g->folded++;
		v->folded++;
	}
	return 0;
}

/* A marker on an address in no live block: the same (name, function, ptr)
 * again is one instance; past the bound, further ones are only counted. */
static int track_non_heap(struct vars *v, const struct tt_var_event *e, uint32_t gi,
			  uint32_t *id)
{
	struct var_group *g = &v->groups[gi];
	uint64_t key = mix(e->ptr) ^ g->name_key;
	size_t j = mix(key) & v->non_heap.mask, s;
	struct inst *x;
	uint32_t i;

	while ((s = index_next(v, &v->non_heap, non_heap_key, key, &j)) != SIZE_MAX) {
		x = at(v, v->non_heap.slot[s]);
		if (x->ptr != e->ptr || !same_name(&v->groups[x->group], g))
			continue;
		if (x->group != gi) {
			v->groups[x->group].non_heap--;
			g->instances++;
			g->non_heap++;
			x->group = gi;
		}
		x->tid = e->hdr.tid;
		*id = v->non_heap.slot[s];
		return 0;
	}
	g->instances++;
	g->non_heap++;
	if (v->listed >= v->max_listed) {
		/* it would never end: a folded slot would never be reused */
		g->folded++;
		v->folded++;
		return 0;
	}
	i = inst_new(v);
	if (!i)
		goto nomem;
	x = at(v, i);
	*x = (struct inst){ .ptr = e->ptr, .created_ns = e->hdr.ts_ns, .group = gi,
			    .tid = e->hdr.tid, .flags = I_ALIVE };
	if (index_add(v, &v->non_heap, non_heap_key, i)) {
		inst_undo(v, i);
		goto nomem;
	}
	*id = i;
	return 0;
nomem:
	g->instances--;
	g->non_heap--;
	return -ENOMEM;
}

static void container_watch(struct vars *v, uint64_t slot, uint32_t id);

int vars__on_track(struct vars *v, const struct tt_var_event *in)
{
	const struct heap_block *b;
	struct tt_var_event cut, *e = &cut;
	uint32_t id = 0;
	int64_t gi;
	int err;

	if (in->flags & TT_VAR_BAD_SITE) {
		v->bad_sites++;
		return 0;
	}
	/* names are stored NUL-terminated: compare and hash them as stored */
	cut = *in;
	cut.name[sizeof(cut.name) - 1] = '\0';
	cut.type_name[sizeof(cut.type_name) - 1] = '\0';
	cut.category[sizeof(cut.category) - 1] = '\0';
	cut.file[sizeof(cut.file) - 1] = '\0';
	cut.function[sizeof(cut.function) - 1] = '\0';

	gi = group_for(v, e);
	if (gi < 0) {
		v->dropped++;
		return -ENOMEM;
	}
	b = e->ptr ? heap__containing(v->heap, e->ptr) : NULL;
	err = b ? track_heap(v, e, (uint32_t)gi, b, &id) : track_non_heap(v, e, (uint32_t)gi, &id);
	if (err)
		v->dropped++;
	else if (e->container)
		container_watch(v, e->container, id);
	return err;
}

/*
 * A container marker: its instance is followed when the container's data
 * pointer moves. Folded instances are not (their slot is reused once they
 * end); past TT_MAX_CONTAINERS slots, neither is the new one (BPF stops
 * watching there too).
 */
static void container_watch(struct vars *v, uint64_t slot, uint32_t id)
{
	size_t i, spare = TT_MAX_CONTAINERS;

	if (id & FOLDED_ID)
		id = 0;
	for (i = 0; i < TT_MAX_CONTAINERS; i++) {
		if (v->cont[i].slot == slot) {
			v->cont[i].inst = id;
			return;
		}
		if (!v->cont[i].slot && spare == TT_MAX_CONTAINERS)
			spare = i;
	}
	if (spare < TT_MAX_CONTAINERS && id) {
		v->cont[spare].slot = slot;
		v->cont[spare].inst = id;
	}
}

/* Instance i (alive on no block, or ended) now names live block b. */
static int inst_onto(struct vars *v, uint32_t i, const struct heap_block *b, uint64_t ts_ns)
{
	struct inst *x = at(v, i);
	struct var_group *g = &v->groups[x->group];

	x->ptr = b->ptr;
	x->block = b->ptr;
	x->freed_ns = 0;
	x->flags |= I_HEAP | I_ALIVE;
	g->alive++;
	g->bytes_alive += b->size;
	group_alive(g, ts_ns);
	if (!block_link(v, i))
		return 0;
	group_leave(g, b->size);
	x->flags &= (uint8_t)~I_ALIVE;
	x->end_size = b->size;
	x->freed_ns = ts_ns;
	return -ENOMEM;
}

/* Takes alive heap instance i off its block's chain. */
static void block_unlink(struct vars *v, uint32_t i)
{
	struct inst *x = at(v, i);
	size_t s = index_find(v, &v->by_block, block_key, x->block);
	uint32_t *link;

	if (s == SIZE_MAX)
		return;
	if (v->by_block.slot[s] == i) {
		if (x->next)
			v->by_block.slot[s] = x->next;
		else
			index_del(v, &v->by_block, block_key, s);
		return;
	}
	for (link = &at(v, v->by_block.slot[s])->next; *link && *link != i;
	     link = &at(v, *link)->next)
		;
	if (*link == i)
		*link = x->next;
}

int vars__on_move(struct vars *v, const struct tt_var_move_event *e)
{
	const struct heap_block *b;
	struct var_group *g;
	struct inst *x;
	size_t c, s;
	uint32_t i;

	for (c = 0; c < TT_MAX_CONTAINERS; c++)
		if (v->cont[c].slot == e->container && v->cont[c].inst)
			break;
	if (c == TT_MAX_CONTAINERS)
		return 0;
	i = v->cont[c].inst;
	x = at(v, i);
	g = &v->groups[x->group];
	b = e->new_ptr ? heap__find(v->heap, e->new_ptr) : NULL;
	if (!b) {
		/* emptied, moved from, or gone: nothing to follow any more */
		v->cont[c].inst = 0;
		return 0;
	}
	if ((x->flags & (I_HEAP | I_ALIVE)) == (I_HEAP | I_ALIVE)) {
		if (x->block == b->ptr)
			return 0;
		const struct heap_block *old = heap__find(v->heap, x->block);

		/* the pointer was stored before the old buffer was freed */
		block_unlink(v, i);
		group_leave(g, old ? old->size : 0);
	} else if (x->flags & I_HEAP) {
		/*
		 * Ended at the free of the old buffer. A container that grew
		 * allocated the new one while the old was live; one allocated
		 * after that free is another container's (a vector made anew
		 * at the same address): then this instance stays ended.
		 */
		if (x->ptr != e->old_ptr || b->ts_ns > x->freed_ns) {
			v->cont[c].inst = 0;
			return 0;
		}
	} else {
		/* tracked while empty (not heap): its first buffer */
		uint64_t key = non_heap_key(v, i);
		size_t j = mix(key) & v->non_heap.mask;

		while ((s = index_next(v, &v->non_heap, non_heap_key, key, &j)) != SIZE_MAX &&
		       v->non_heap.slot[s] != i)
			;
		if (s != SIZE_MAX)
			index_del(v, &v->non_heap, non_heap_key, s);
		g->non_heap--;
	}
	v->cont_moves++;
	if (inst_onto(v, i, b, e->hdr.ts_ns)) {
		v->dropped++;
		v->cont[c].inst = 0;
		return -ENOMEM;
	}
	return 0;
}

uint64_t vars__container_moves(const struct vars *v)
{
	return v->cont_moves;
}

void vars__on_released(struct vars *v, const struct heap_block *b, uint64_t ts_ns,
		       uint64_t moved_to, uint64_t new_size)
{
	size_t s = index_find(v, &v->by_block, block_key, b->ptr);
	uint32_t i, next, rev = 0;

	if (s == SIZE_MAX)
		return;
	i = v->by_block.slot[s];
	index_del(v, &v->by_block, block_key, s);
	/* reversed, so that relinking one by one at the front keeps the order */
	for (; i; i = next) {
		next = at(v, i)->next;
		at(v, i)->next = rev;
		rev = i;
	}
	for (i = rev; i; i = next) {
		struct inst *x = at(v, i);
		struct var_group *g = &v->groups[x->group];
		uint64_t off = x->ptr - b->ptr;

		next = x->next;
		if (moved_to && (off == 0 || off < new_size)) {
			/* realloc carries the instance, at the same offset */
			x->ptr = moved_to + off;
			x->block = moved_to;
			g->bytes_alive += new_size - b->size;
			group_alive(g, ts_ns);
			if (!block_link(v, i))
				continue;
			/* no room to follow it: it ends here, as if freed */
			g->bytes_alive -= new_size - b->size;
			v->dropped++;
		}
		/* freed, or a field a shrinking realloc cut off */
		group_leave(g, b->size);
		x->end_size = b->size;
		x->freed_ns = ts_ns;
		x->flags &= (uint8_t)~I_ALIVE;
		if (x->flags & I_FOLDED) {
			x->flags |= I_FREE;
			x->next = v->free_head;
			v->free_head = i;
		}
	}
}

static void view(const struct vars *v, uint32_t id, struct var *out)
{
	const struct inst *x = at(v, id);
	const struct heap_block *b;

	memset(out, 0, sizeof(*out));
	out->group = &v->groups[x->group];
	out->group_id = x->group;
	out->ptr = x->ptr;
	out->tid = x->tid;
	out->created_ns = x->created_ns;
	out->freed_ns = x->freed_ns;
	out->heap = x->flags & I_HEAP;
	out->alive = x->flags & I_ALIVE;
	if (out->heap && out->alive) {
		out->block = x->block;
		b = heap__find(v->heap, x->block);
		out->size = b ? b->size : 0;
	} else if (out->heap) {
		out->size = x->end_size;
	}
}

size_t vars__count(const struct vars *v)
{
	return v->listed;
}

bool vars__get(const struct vars *v, size_t i, struct var *out)
{
	if (i >= v->listed)
		return false;
	view(v, (uint32_t)i + 1, out);
	return true;
}

bool vars__of_block(const struct vars *v, uint64_t block, struct var *out)
{
	uint32_t i = block ? block_head(v, block) : 0;

	if (!i)
		return false;
	view(v, i, out);
	return true;
}

size_t vars__group_count(const struct vars *v)
{
	return v->group_cnt;
}

const struct var_group *vars__group(const struct vars *v, size_t i)
{
	return i < v->group_cnt ? &v->groups[i] : NULL;
}

uint64_t vars__bad_sites(const struct vars *v)
{
	return v->bad_sites;
}

uint64_t vars__folded(const struct vars *v)
{
	return v->folded;
}

uint64_t vars__dropped(const struct vars *v)
{
	return v->dropped;
}

uint32_t vars__max_instances(const struct vars *v)
{
	return v->max_listed;
}

size_t vars__bytes(const struct vars *v)
{
	return sizeof(*v) + (v->cap + v->fold_cap) * sizeof(*v->inst) + v->group_cap * sizeof(*v->groups) +
	       (v->by_block.mask + v->non_heap.mask + v->by_site.mask + 3) * sizeof(uint32_t);
}

static unsigned int slice_of(uint64_t t, uint64_t start_ns, uint64_t end_ns, unsigned int slices)
{
	if (t <= start_ns || end_ns <= start_ns)
		return 0;
	if (t >= end_ns)
		return slices - 1;
	return (unsigned int)((unsigned __int128)(t - start_ns) * slices / (end_ns - start_ns));
}

int vars__alive_by_slice(const struct vars *v, uint64_t start_ns, uint64_t end_ns,
			 unsigned int slices, uint32_t **out)
{
	size_t n = v->group_cnt ? v->group_cnt : 1, i;
	uint32_t *d;

	if (!slices)
		return -EINVAL;
	/* a difference array per group, one slot past the last slice */
	d = calloc(n * (slices + 1), sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (i = 0; i < v->listed; i++) {
		const struct inst *x = &v->inst[i];
		uint32_t *row = d + (size_t)x->group * (slices + 1);

		if (!(x->flags & I_HEAP))
			continue;
		row[slice_of(x->created_ns, start_ns, end_ns, slices)]++;
		if (!(x->flags & I_ALIVE))
			row[slice_of(x->freed_ns, start_ns, end_ns, slices) + 1]--;
	}
	/* prefix sums, packed to `slices` a group */
	for (i = 0; i < v->group_cnt; i++) {
		const uint32_t *row = d + i * (slices + 1);
		uint32_t *o = d + i * slices, run = 0;
		unsigned int k;

		for (k = 0; k < slices; k++) {
			run += row[k];
			o[k] = run;
		}
	}
	*out = d;
	return 0;
}

static int cmp_total_name(const void *a, const void *b)
{
	return strcmp(((const struct var_total *)a)->name, ((const struct var_total *)b)->name);
}

static int cmp_total(const void *a, const void *b)
{
	const struct var_total *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return strcmp(x->name, y->name);
}

int vars__totals(const struct vars *v, bool by_category, struct var_total **out, size_t *cnt)
{
	struct var_total *t = calloc(v->group_cnt ? v->group_cnt : 1, sizeof(*t));
	size_t i, n = 0;

	if (!t)
		return -ENOMEM;
	for (i = 0; i < v->group_cnt; i++)
		t[i].name = by_category ? v->groups[i].category : v->groups[i].type_name;
	/* per group first: a block named by several instances counts for the
	 * one that names it */
	for (i = 0; i < v->listed + v->fold_cnt; i++) {
		uint32_t id = i < v->listed ? (uint32_t)i + 1 : FOLDED_ID | (uint32_t)(i - v->listed + 1);
		const struct inst *x = at(v, id);
		const struct heap_block *b;

		if ((x->flags & (I_HEAP | I_ALIVE | I_FREE)) != (I_HEAP | I_ALIVE) ||
		    block_head(v, x->block) != id || !(b = heap__find(v->heap, x->block)))
			continue;
		t[x->group].bytes += b->size;
		t[x->group].count++;
	}
	/* then groups of one name merged: sorted by name, O(groups log groups) */
	qsort(t, v->group_cnt, sizeof(*t), cmp_total_name);
	for (i = 0; i < v->group_cnt; i++) {
		if (!t[i].count)
			continue;
		if (n && !strcmp(t[n - 1].name, t[i].name)) {
			t[n - 1].bytes += t[i].bytes;
			t[n - 1].count += t[i].count;
		} else {
			t[n++] = t[i];
		}
	}
	qsort(t, n, sizeof(*t), cmp_total);
	*out = t;
	*cnt = n;
	return 0;
}
