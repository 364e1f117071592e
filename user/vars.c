// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "heap.h"
#include "vars.h"

#define MAX_VARS (1u << 20) /* distinct (name, function) pairs kept */

/* Open-addressing maps of uint64 keys to var index + 1 (0: empty slot). */
struct idx_map {
	uint64_t *keys;
	uint32_t *vals;
	size_t mask, cnt;
};

struct vars {
	struct heap *heap;
	struct var *v;
	size_t cnt, cap;
	struct idx_map by_name;  /* hash(name, function) → var; collisions chained by probing */
	struct idx_map by_block; /* block start → first var in it (alive heap vars) */
	uint64_t bad_sites, dropped;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static uint64_t hash_str(uint64_t h, const char *s, size_t max)
{
	size_t i;

	for (i = 0; i < max && s[i]; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

static int map_init(struct idx_map *m)
{
	m->keys = calloc(256, sizeof(*m->keys));
	m->vals = calloc(256, sizeof(*m->vals));
	m->mask = 255;
	m->cnt = 0;
	return m->keys && m->vals ? 0 : -ENOMEM;
}

static void map_fini(struct idx_map *m)
{
	free(m->keys);
	free(m->vals);
}

static int map_grow(struct idx_map *m)
{
	struct idx_map n;
	size_t i, j;

	n.mask = m->mask * 2 + 1;
	n.keys = calloc(n.mask + 1, sizeof(*n.keys));
	n.vals = calloc(n.mask + 1, sizeof(*n.vals));
	if (!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return -ENOMEM;
	}
	for (i = 0; i <= m->mask; i++) {
		if (!m->vals[i])
			continue;
		for (j = mix(m->keys[i]) & n.mask; n.vals[j]; j = (j + 1) & n.mask)
			;
		n.keys[j] = m->keys[i];
		n.vals[j] = m->vals[i];
	}
	n.cnt = m->cnt;
	map_fini(m);
	*m = n;
	return 0;
}

/* Slot of key, or of the empty slot where it would go. */
static size_t map_slot(const struct idx_map *m, uint64_t key)
{
	size_t j;

	for (j = mix(key) & m->mask; m->vals[j] && m->keys[j] != key; j = (j + 1) & m->mask)
		;
	return j;
}

static int map_put(struct idx_map *m, uint64_t key, uint32_t val)
{
	size_t j;

	if ((m->cnt + 1) * 2 > m->mask + 1 && map_grow(m))
		return -ENOMEM;
	j = map_slot(m, key);
	if (!m->vals[j])
		m->cnt++;
	m->keys[j] = key;
	m->vals[j] = val;
	return 0;
}

static uint32_t map_get(const struct idx_map *m, uint64_t key)
{
	return m->vals[map_slot(m, key)];
}

static void map_del(struct idx_map *m, uint64_t key)
{
	size_t i = map_slot(m, key), j = i, home;

	if (!m->vals[i])
		return;
	m->cnt--;
	/* backward-shift deletion keeps probe runs intact */
	for (;;) {
		j = (j + 1) & m->mask;
		if (!m->vals[j])
			break;
		home = mix(m->keys[j]) & m->mask;
		if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			i = j;
		}
	}
	m->vals[i] = 0;
}

int vars__new(struct vars **out, struct heap *heap)
{
	struct vars *v = calloc(1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	v->heap = heap;
	if (map_init(&v->by_name) || map_init(&v->by_block)) {
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
	map_fini(&v->by_name);
	map_fini(&v->by_block);
	free(v->v);
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

static uint64_t name_key(const char *name, const char *function)
{
	uint64_t h = hash_str(0xcbf29ce484222325ULL, name, TT_VAR_NAME_LEN);

	h = hash_str(h ^ 0xff, function, TT_VAR_FUNC_LEN);
	return h ? h : 1;
}

static void copy_str(char *dst, const char *src, size_t len)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void unlink_block(struct vars *v, struct var *x)
{
	uint32_t self = (uint32_t)(x - v->v) + 1, head, *link;

	if (!x->block)
		return;
	head = map_get(&v->by_block, x->block);
	if (head == self) {
		if (x->next_in_block)
			map_put(&v->by_block, x->block, x->next_in_block);
		else
			map_del(&v->by_block, x->block);
	} else {
		for (link = &head; *link && *link != self; link = &v->v[*link - 1].next_in_block)
			;
		if (*link == self)
			*link = x->next_in_block;
	}
	x->next_in_block = 0;
}

static int link_block(struct vars *v, struct var *x)
{
	uint32_t self = (uint32_t)(x - v->v) + 1;

	x->next_in_block = map_get(&v->by_block, x->block);
	return map_put(&v->by_block, x->block, self);
}

/* A new var, or the existing one with this name (re-tracking updates). */
static struct var *var_for(struct vars *v, const struct tt_var_event *e, bool *fresh)
{
	uint64_t key = name_key(e->name, e->function);
	uint32_t i = map_get(&v->by_name, key);
	const struct heap_block *b;
	struct var *x;

	*fresh = false;
	if (i && !strncmp(v->v[i - 1].name, e->name, TT_VAR_NAME_LEN) &&
	    !strncmp(v->v[i - 1].function, e->function, TT_VAR_FUNC_LEN))
		return &v->v[i - 1];
	/* re-tracking an address: the live variable there takes the new name */
	if (e->ptr && (b = heap__containing(v->heap, e->ptr))) {
		for (i = map_get(&v->by_block, b->ptr); i; i = v->v[i - 1].next_in_block)
			if (v->v[i - 1].ptr == e->ptr)
				return &v->v[i - 1];
	}
	if (v->cnt >= MAX_VARS)
		return NULL;
	if (v->cnt == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct var *n = realloc(v->v, cap * sizeof(*n));

		if (!n)
			return NULL;
		v->v = n;
		v->cap = cap;
	}
	x = &v->v[v->cnt++];
	memset(x, 0, sizeof(*x));
	*fresh = true;
	if (map_put(&v->by_name, key, (uint32_t)v->cnt)) {
		v->cnt--;
		return NULL;
	}
	return x;
}

int vars__on_track(struct vars *v, const struct tt_var_event *in)
{
	const struct heap_block *b;
	struct tt_var_event cut, *e = &cut;
	struct var *x;
	bool fresh;

	/* names are stored NUL-terminated: compare and hash them as stored */
	cut = *in;
	cut.name[sizeof(cut.name) - 1] = '\0';
	cut.type_name[sizeof(cut.type_name) - 1] = '\0';
	cut.category[sizeof(cut.category) - 1] = '\0';
	cut.file[sizeof(cut.file) - 1] = '\0';
	cut.function[sizeof(cut.function) - 1] = '\0';

	if (e->flags & TT_VAR_BAD_SITE) {
		v->bad_sites++;
		return 0;
	}
	x = var_for(v, e, &fresh);
	if (!x) {
		v->dropped++;
		return -ENOMEM;
	}
	if (!fresh) {
		unlink_block(v, x);
		/* found by address under another name: it is renamed */
		if (strncmp(x->name, e->name, TT_VAR_NAME_LEN) ||
		    strncmp(x->function, e->function, TT_VAR_FUNC_LEN)) {
			map_del(&v->by_name, name_key(x->name, x->function));
			if (map_put(&v->by_name, name_key(e->name, e->function),
				    (uint32_t)(x - v->v) + 1))
				return -ENOMEM;
		}
	}
	copy_str(x->name, e->name, sizeof(x->name));
	copy_str(x->type_name, e->type_name, sizeof(x->type_name));
	if (!x->type_name[0])
		copy_str(x->type_name, "unknown", sizeof(x->type_name));
	copy_str(x->category, e->category[0] ? e->category : vars__category_of(x->type_name),
		 sizeof(x->category));
	copy_str(x->file, e->file, sizeof(x->file));
	copy_str(x->function, e->function, sizeof(x->function));
	x->line = e->line;
	x->site_ip = e->site_ip;
	x->ptr = e->ptr;
	x->tid = e->hdr.tid;
	if (fresh || !x->alive)
		x->created_ns = e->hdr.ts_ns;
	x->freed_ns = 0;
	x->alive = true;

	b = heap__containing(v->heap, e->ptr);
	x->heap = b != NULL;
	x->block = b ? b->ptr : 0;
	x->size = b ? b->size : 0;
	return x->block ? link_block(v, x) : 0;
}

void vars__on_released(struct vars *v, const struct heap_block *b, uint64_t ts_ns,
		       uint64_t moved_to, uint64_t new_size)
{
	uint32_t i = map_get(&v->by_block, b->ptr), next;

	if (!i)
		return;
	map_del(&v->by_block, b->ptr);
	for (; i; i = next) {
		struct var *x = &v->v[i - 1];

		next = x->next_in_block;
		x->next_in_block = 0;
		if (moved_to && (x->ptr == b->ptr || x->ptr - b->ptr < new_size)) {
			/* realloc carries the variable, at the same offset */
			x->ptr = moved_to + (x->ptr - b->ptr);
			x->block = moved_to;
			link_block(v, x);
		} else {
			/* freed, or a field a shrinking realloc cut off */
			x->size = b->size;
			x->freed_ns = ts_ns;
			x->alive = false;
			x->block = 0;
		}
	}
}

size_t vars__count(const struct vars *v)
{
	return v->cnt;
}

const struct var *vars__get(struct vars *v, size_t i)
{
	struct var *x;
	const struct heap_block *b;

	if (i >= v->cnt)
		return NULL;
	x = &v->v[i];
	if (x->alive && x->block && (b = heap__find(v->heap, x->block)))
		x->size = b->size;
	return x;
}

const struct var *vars__of_block(struct vars *v, uint64_t block)
{
	uint32_t i = map_get(&v->by_block, block);

	return i ? &v->v[i - 1] : NULL;
}

uint64_t vars__bad_sites(const struct vars *v)
{
	return v->bad_sites;
}

static int cmp_group(const void *a, const void *b)
{
	const struct var_group *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return strcmp(x->name, y->name);
}

int vars__group(struct vars *v, bool by_category, struct var_group **out, size_t *cnt)
{
	struct var_group *g = calloc(v->cnt ? v->cnt : 1, sizeof(*g));
	size_t n = 0, i, j;

	if (!g)
		return -ENOMEM;
	/* few distinct types: a linear search per variable is fine */
	for (i = 0; i < v->cnt; i++) {
		const struct var *x = vars__get(v, i);
		const char *name = by_category ? x->category : x->type_name;

		if (!x->alive || !x->heap)
			continue;
		/* a block named by several variables counts once, for its first */
		if (x->block && vars__of_block(v, x->block) != x)
			continue;
		for (j = 0; j < n && strcmp(g[j].name, name); j++)
			;
		if (j == n)
			g[n++].name = name;
		g[j].bytes += x->size;
		g[j].count++;
	}
	qsort(g, n, sizeof(*g), cmp_group);
	*out = g;
	*cnt = n;
	return 0;
}
