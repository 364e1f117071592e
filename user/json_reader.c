// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "json_reader.h"

#define MAX_DEPTH 64
#define MAX_FILE_BYTES (1ULL << 30)
#define NO_KEY UINT32_MAX

struct jnode {
	const struct json_doc *doc; /* children and strings live there */
	uint8_t type;
	uint8_t is_uint, is_int;
	uint32_t key;  /* offset of the member's key in strs, or NO_KEY */
	uint32_t kids; /* containers: offset in kid[] */
	uint32_t cnt;  /* containers: members */
	union {
		double num;
		uint32_t str; /* offset in strs */
		bool b;
	};
	uint64_t u;
	int64_t i;
};

struct json_doc {
	struct jnode *nodes;
	size_t node_cnt, node_cap;
	uint32_t *kid; /* children of every container, contiguous per container */
	size_t kid_cnt, kid_cap;
	char *strs;
	size_t str_len, str_cap;
};

struct parser {
	const char *s, *end, *start;
	const char *const *skip;
	struct json_doc *d;
	uint32_t *stack; /* children of open containers */
	size_t stack_cnt, stack_cap;
	char *err;
	size_t errlen;
	bool failed;
};

static void fail(struct parser *p, const char *what)
{
	if (!p->failed)
		snprintf(p->err, p->errlen, "%s at byte %zu", what, (size_t)(p->s - p->start));
	p->failed = true;
}

static bool grow(void **buf, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 64;
	void *b;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	if (n > UINT32_MAX)
		return false;
	b = realloc(*buf, n * elem);
	if (!b)
		return false;
	*buf = b;
	*cap = n;
	return true;
}

static uint32_t new_node(struct parser *p, enum jtype t)
{
	struct json_doc *d = p->d;

	if (!grow((void **)&d->nodes, &d->node_cap, d->node_cnt + 1, sizeof(*d->nodes))) {
		fail(p, "out of memory");
		return 0;
	}
	memset(&d->nodes[d->node_cnt], 0, sizeof(d->nodes[0]));
	d->nodes[d->node_cnt].type = (uint8_t)t;
	d->nodes[d->node_cnt].key = NO_KEY;
	d->nodes[d->node_cnt].doc = d;
	return (uint32_t)d->node_cnt++;
}

static void put_byte(struct parser *p, char c)
{
	struct json_doc *d = p->d;

	if (!grow((void **)&d->strs, &d->str_cap, d->str_len + 1, 1)) {
		fail(p, "out of memory");
		return;
	}
	d->strs[d->str_len++] = c;
}

static void put_utf8(struct parser *p, uint32_t cp)
{
	if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		cp = 0xFFFD; /* keep strings NUL-free and valid */
	if (cp < 0x80) {
		put_byte(p, (char)cp);
	} else if (cp < 0x800) {
		put_byte(p, (char)(0xC0 | cp >> 6));
		put_byte(p, (char)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		put_byte(p, (char)(0xE0 | cp >> 12));
		put_byte(p, (char)(0x80 | (cp >> 6 & 0x3F)));
		put_byte(p, (char)(0x80 | (cp & 0x3F)));
	} else {
		put_byte(p, (char)(0xF0 | cp >> 18));
		put_byte(p, (char)(0x80 | (cp >> 12 & 0x3F)));
		put_byte(p, (char)(0x80 | (cp >> 6 & 0x3F)));
		put_byte(p, (char)(0x80 | (cp & 0x3F)));
	}
}

static void skip_ws(struct parser *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
		p->s++;
}

static int hex4(struct parser *p, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	if (p->end - p->s < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		char c = *p->s++;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Length of a valid UTF-8 sequence at s, or 0. */
static int utf8_len(const unsigned char *s, const unsigned char *end)
{
	int n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (end - s < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return n;
}

/* Parses a string; keep: store it (else only checked). Returns its offset. */
static uint32_t parse_string(struct parser *p, bool keep)
{
	uint32_t off = (uint32_t)p->d->str_len, cp, lo;

	p->s++; /* the opening quote */
	while (!p->failed) {
		unsigned char c;
		int n;

		if (p->s >= p->end) {
			fail(p, "unterminated string");
			break;
		}
		c = (unsigned char)*p->s;
		if (c == '"') {
			p->s++;
			break;
		}
		if (c < 0x20) {
			fail(p, "control character in string");
			break;
		}
		if (c != '\\') {
			n = utf8_len((const unsigned char *)p->s, (const unsigned char *)p->end);
			if (!n) {
				if (keep)
					put_utf8(p, 0xFFFD);
				p->s++;
				continue;
			}
			while (n--) {
				if (keep)
					put_byte(p, *p->s);
				p->s++;
			}
			continue;
		}
		if (++p->s >= p->end) {
			fail(p, "unterminated escape");
			break;
		}
		c = (unsigned char)*p->s++;
		switch (c) {
		case '"': case '\\': case '/':
			cp = c;
			break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if (hex4(p, &cp)) {
				fail(p, "bad \\u escape");
				return off;
			}
			/* a surrogate pair is one code point; a lone half is not valid */
			if (cp >= 0xD800 && cp <= 0xDBFF && p->end - p->s >= 6 && p->s[0] == '\\' &&
			    p->s[1] == 'u') {
				const char *save = p->s;

				p->s += 2;
				if (!hex4(p, &lo) && lo >= 0xDC00 && lo <= 0xDFFF)
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				else
					p->s = save;
			}
			break;
		default:
			fail(p, "bad escape");
			return off;
		}
		if (keep)
			put_utf8(p, cp);
	}
	if (keep)
		put_byte(p, '\0');
	return off;
}

static void parse_number(struct parser *p, struct jnode *n)
{
	const char *b = p->s;
	char buf[64], *endp;
	size_t len;

	if (p->s < p->end && *p->s == '-')
		p->s++;
	while (p->s < p->end && ((*p->s >= '0' && *p->s <= '9') || *p->s == '.' || *p->s == 'e' ||
				 *p->s == 'E' || *p->s == '+' || *p->s == '-'))
		p->s++;
	len = (size_t)(p->s - b);
	if (!len || len >= sizeof(buf)) {
		fail(p, "bad number");
		return;
	}
	memcpy(buf, b, len);
	buf[len] = '\0';
	n->num = strtod(buf, &endp);
	if (*endp || !isfinite(n->num)) {
		fail(p, "bad number");
		return;
	}
	if (!strpbrk(buf, ".eE")) {
		errno = 0;
		if (buf[0] == '-') {
			n->i = strtoll(buf, &endp, 10);
			n->is_int = !errno && !*endp;
		} else {
			n->u = strtoull(buf, &endp, 10);
			n->is_uint = !errno && !*endp;
			n->is_int = n->is_uint && n->u <= INT64_MAX;
			n->i = (int64_t)n->u;
		}
	}
}

static bool literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n))
		return false;
	p->s += n;
	return true;
}

static bool skipped_key(struct parser *p, uint32_t key)
{
	const char *const *k;

	for (k = p->skip; k && *k; k++)
		if (!strcmp(p->d->strs + key, *k))
			return true;
	return false;
}

static void push_kid(struct parser *p, uint32_t idx)
{
	if (!grow((void **)&p->stack, &p->stack_cap, p->stack_cnt + 1, sizeof(*p->stack))) {
		fail(p, "out of memory");
		return;
	}
	p->stack[p->stack_cnt++] = idx;
}

/* Moves the children above base on the stack into the container's kid range. */
static void close_container(struct parser *p, uint32_t idx, size_t base)
{
	struct json_doc *d = p->d;
	size_t n = p->stack_cnt - base;

	if (!n) {
		d->nodes[idx].kids = 0;
		d->nodes[idx].cnt = 0;
		return;
	}
	if (!grow((void **)&d->kid, &d->kid_cap, d->kid_cnt + n, sizeof(*d->kid))) {
		fail(p, "out of memory");
		return;
	}
	memcpy(d->kid + d->kid_cnt, p->stack + base, n * sizeof(*d->kid));
	d->nodes[idx].kids = (uint32_t)d->kid_cnt;
	d->nodes[idx].cnt = (uint32_t)n;
	d->kid_cnt += n;
	p->stack_cnt = base;
}

/*
 * A skipped container (a million allocations): only its brackets and strings
 * are followed, fast; what is inside is not checked further.
 */
static void skip_container(struct parser *p, int depth)
{
	char stack[MAX_DEPTH + 1];
	int d = 0;

	while (p->s < p->end) {
		char c = *p->s++;

		if (c == '"') {
			while (p->s < p->end && *p->s != '"')
				p->s += *p->s == '\\' ? 2 : 1;
			if (p->s >= p->end)
				break;
			p->s++;
		} else if (c == '{' || c == '[') {
			if (depth + d >= MAX_DEPTH) {
				fail(p, "nesting too deep");
				return;
			}
			stack[d++] = c == '{' ? '}' : ']';
		} else if (c == '}' || c == ']') {
			if (!d || stack[d - 1] != c) {
				fail(p, "mismatched bracket");
				return;
			}
			if (!--d)
				return;
		} else if ((unsigned char)c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			fail(p, "control character");
			return;
		}
	}
	fail(p, "unterminated container");
}

/* Parses one value; keep=false checks it without building nodes. */
static uint32_t parse_value(struct parser *p, int depth, bool keep)
{
	uint32_t idx = 0, key;
	size_t base;
	bool obj, first = true;
	char c;

	skip_ws(p);
	if (p->failed)
		return 0;
	if (depth > MAX_DEPTH) {
		fail(p, "nesting too deep");
		return 0;
	}
	if (p->s >= p->end) {
		fail(p, "unexpected end");
		return 0;
	}
	c = *p->s;
	if (!keep && (c == '{' || c == '[')) {
		skip_container(p, depth);
		return 0;
	}
	if (c == '{' || c == '[') {
		obj = c == '{';
		if (keep)
			idx = new_node(p, obj ? JOBJ : JARR);
		base = p->stack_cnt;
		p->s++;
		for (;;) {
			skip_ws(p);
			if (p->failed)
				return 0;
			if (p->s < p->end && *p->s == (obj ? '}' : ']')) {
				p->s++;
				break;
			}
			if (!first) {
				if (p->s >= p->end || *p->s != ',') {
					fail(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
					return 0;
				}
				p->s++;
				skip_ws(p);
			}
			first = false;
			key = NO_KEY;
			if (obj) {
				bool keep_member;
				uint32_t v;

				if (p->s >= p->end || *p->s != '"') {
					fail(p, "expected a key");
					return 0;
				}
				/* keys are stored even when skipping, to check skip_keys */
				key = parse_string(p, true);
				if (p->failed)
					return 0;
				skip_ws(p);
				if (p->s >= p->end || *p->s != ':') {
					fail(p, "expected ':'");
					return 0;
				}
				p->s++;
				/* only the root's members are skipped: "active_allocations" is also a
				 * count inside "stats" */
				keep_member = keep && !(depth == 0 && skipped_key(p, key));
				v = parse_value(p, depth + 1, keep_member);
				if (!keep)
					p->d->str_len = key; /* drop the key again */
				if (keep) {
					if (!keep_member)
						v = new_node(p, JNULL);
					if (!p->failed) {
						p->d->nodes[v].key = key;
						push_kid(p, v);
					}
				}
			} else {
				uint32_t v = parse_value(p, depth + 1, keep);

				if (keep && !p->failed)
					push_kid(p, v);
			}
		}
		if (keep && !p->failed)
			close_container(p, idx, base);
		return idx;
	}
	if (c == '"') {
		if (keep) {
			idx = new_node(p, JSTR);
			if (!p->failed)
				p->d->nodes[idx].str = parse_string(p, true);
		} else {
			parse_string(p, false);
		}
		return idx;
	}
	if (c == '-' || (c >= '0' && c <= '9')) {
		struct jnode tmp = { 0 };

		parse_number(p, &tmp);
		if (keep && !p->failed) {
			idx = new_node(p, JNUM);
			if (!p->failed) {
				tmp.type = JNUM;
				tmp.key = NO_KEY;
				tmp.doc = p->d;
				p->d->nodes[idx] = tmp;
			}
		}
		return idx;
	}
	if (literal(p, "true") || literal(p, "false")) {
		if (keep) {
			idx = new_node(p, JBOOL);
			if (!p->failed)
				p->d->nodes[idx].b = p->s[-1] == 'e' && p->s[-2] == 'u';
		}
		return idx;
	}
	if (literal(p, "null"))
		return keep ? new_node(p, JNULL) : 0;
	fail(p, "unexpected character");
	return 0;
}

struct json_doc *json_doc__parse(const char *text, size_t len, const char *const *skip_keys,
				 char *err, size_t errlen)
{
	struct parser p = { .s = text, .end = text + len, .start = text, .skip = skip_keys,
			    .err = err, .errlen = errlen };

	p.d = calloc(1, sizeof(*p.d));
	if (!p.d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	parse_value(&p, 0, true);
	skip_ws(&p);
	if (!p.failed && p.s != p.end)
		fail(&p, "trailing data after the document");
	free(p.stack);
	if (p.failed) {
		json_doc__free(p.d);
		return NULL;
	}
	return p.d;
}

struct json_doc *json_doc__load(const char *path, const char *const *skip_keys, char *err,
				size_t errlen)
{
	struct json_doc *d = NULL;
	struct stat st;
	char *buf;
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_FILE_BYTES) {
		snprintf(err, errlen, "not a regular file of at most 1 GiB");
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size && (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	d = json_doc__parse(buf, got, skip_keys, err, errlen);
	free(buf);
	return d;
}

void json_doc__free(struct json_doc *d)
{
	if (!d)
		return;
	free(d->nodes);
	free(d->kid);
	free(d->strs);
	free(d);
}

const struct jnode *json_doc__root(const struct json_doc *d)
{
	return d && d->node_cnt ? &d->nodes[0] : NULL;
}

enum jtype jnode__type(const struct jnode *n)
{
	return n ? (enum jtype)n->type : JNULL;
}

static const struct json_doc *owner(const struct jnode *n)
{
	return n ? n->doc : NULL;
}

const struct jnode *jnode__at(const struct jnode *arr, size_t i)
{
	const struct json_doc *d = owner(arr);

	if (!d || (arr->type != JARR && arr->type != JOBJ) || i >= arr->cnt)
		return NULL;
	return &d->nodes[d->kid[arr->kids + i]];
}

const struct jnode *jnode__get(const struct jnode *obj, const char *key)
{
	const struct json_doc *d = owner(obj);
	size_t i;

	if (!d || obj->type != JOBJ)
		return NULL;
	for (i = 0; i < obj->cnt; i++) {
		const struct jnode *m = &d->nodes[d->kid[obj->kids + i]];

		if (m->key != NO_KEY && !strcmp(d->strs + m->key, key))
			return m;
	}
	return NULL;
}

size_t jnode__len(const struct jnode *n)
{
	return n && (n->type == JARR || n->type == JOBJ) ? n->cnt : 0;
}

uint64_t jnode__u64(const struct jnode *n, uint64_t def)
{
	return n && n->type == JNUM && n->is_uint ? n->u : def;
}

int64_t jnode__i64(const struct jnode *n, int64_t def)
{
	return n && n->type == JNUM && n->is_int ? n->i : def;
}

double jnode__num(const struct jnode *n, double def)
{
	return n && n->type == JNUM ? n->num : def;
}

bool jnode__bool(const struct jnode *n, bool def)
{
	return n && n->type == JBOOL ? n->b : def;
}

const char *jnode__str(const struct jnode *n, const char *def)
{
	const struct json_doc *d = owner(n);

	return d && n->type == JSTR ? d->strs + n->str : def;
}

const struct jnode *jnode__path(const struct jnode *n, ...)
{
	const char *key;
	va_list ap;

	va_start(ap, n);
	while (n && (key = va_arg(ap, const char *)))
		n = jnode__get(n, key);
	va_end(ap);
	return n;
}
