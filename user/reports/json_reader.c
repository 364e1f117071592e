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
#define CHUNK_BYTES (64 * 1024) /* json_doc__load's reads */

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

/*
 * Where the streaming reader (json_doc__read) replaced a skipped container by
 * `null`: text from kept_end on comes from the file at file_end on.
 */
struct elision {
	size_t kept_end;
	uint64_t file_end;
};

struct parser {
	const char *s, *end, *start;
	const char *const *skip;
	struct json_doc *d;
	uint32_t *stack; /* children of open containers */
	size_t stack_cnt, stack_cap;
	const struct elision *map; /* error offsets are the file's: see struct elision */
	size_t map_cnt;
	size_t fail_at; /* offset in the text of the first error */
	char *err;
	size_t errlen;
	bool failed;
};

/* The offset in the file of offset off of the text parsed. */
static uint64_t file_offset(const struct elision *map, size_t cnt, size_t off)
{
	size_t lo = 0, hi = cnt;

	while (lo < hi) { /* the last elision ending at or before off */
		size_t mid = lo + (hi - lo) / 2;

		if (map[mid].kept_end <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? map[lo - 1].file_end + (off - map[lo - 1].kept_end) : off;
}

static void fail(struct parser *p, const char *what)
{
	if (!p->failed) {
		p->fail_at = (size_t)(p->s - p->start);
		snprintf(p->err, p->errlen, "%s at byte %llu", what,
			 (unsigned long long)file_offset(p->map, p->map_cnt, p->fail_at));
	}
	p->failed = true;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
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
	while (p->s < p->end && is_ws(*p->s))
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
 * are followed, fast; what is inside is not checked further. Fed in pieces by
 * the streaming reader, in one by the parser, so that both find the same
 * errors at the same bytes.
 */
struct skipper {
	int depth; /* of the container */
	int open;  /* brackets open */
	bool in_str, esc;
	char close[MAX_DEPTH + 1];
};

enum skip_result { SKIP_MORE, SKIP_DONE, SKIP_ERR };

/*
 * Follows s[0..n), the first byte of the first piece being the container's
 * opening bracket. SKIP_DONE: *used bytes end with its closing bracket;
 * SKIP_ERR: *what is wrong with byte *used - 1; SKIP_MORE: all used.
 */
static enum skip_result skipper__feed(struct skipper *k, const char *s, size_t n, size_t *used,
				      const char **what)
{
	size_t i = 0;

	while (i < n) {
		char c;

		if (k->in_str) { /* the bulk of the bytes: keep this loop tight */
			while (i < n && !k->esc && s[i] != '"' && s[i] != '\\')
				i++;
			if (i == n)
				break;
			if (k->esc)
				k->esc = false;
			else if (s[i] == '\\')
				k->esc = true;
			else
				k->in_str = false;
			i++;
			continue;
		}
		c = s[i++];
		if (c == '"') {
			k->in_str = true;
		} else if (c == '{' || c == '[') {
			if (k->depth + k->open >= MAX_DEPTH) {
				*what = "nesting too deep";
				goto err;
			}
			k->close[k->open++] = c == '{' ? '}' : ']';
		} else if (c == '}' || c == ']') {
			if (!k->open || k->close[k->open - 1] != c) {
				*what = "mismatched bracket";
				goto err;
			}
			if (!--k->open) {
				*used = i;
				return SKIP_DONE;
			}
		} else if ((unsigned char)c < 0x20 && !is_ws(c)) {
			*what = "control character";
			goto err;
		}
	}
	*used = n;
	return SKIP_MORE;
err:
	*used = i;
	return SKIP_ERR;
}

static void skip_container(struct parser *p, int depth)
{
	struct skipper k = { .depth = depth };
	const char *what = "unterminated container";
	size_t used;

	switch (skipper__feed(&k, p->s, (size_t)(p->end - p->s), &used, &what)) {
	case SKIP_DONE:
		p->s += used;
		return;
	case SKIP_ERR:
	case SKIP_MORE:
		p->s += used;
		fail(p, what);
		return;
	}
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

/* Parses text whose error offsets map to a file's through map (see struct elision). */
static struct json_doc *parse_mapped(const char *text, size_t len, const char *const *skip_keys,
				     const struct elision *map, size_t map_cnt, size_t *fail_at,
				     char *err, size_t errlen)
{
	struct parser p = { .s = text, .end = text + len, .start = text, .skip = skip_keys,
			    .map = map, .map_cnt = map_cnt, .err = err, .errlen = errlen };

	p.d = calloc(1, sizeof(*p.d));
	if (!p.d) {
		snprintf(err, errlen, "out of memory");
		*fail_at = 0;
		return NULL;
	}
	parse_value(&p, 0, true);
	skip_ws(&p);
	if (!p.failed && p.s != p.end)
		fail(&p, "trailing data after the document");
	free(p.stack);
	if (p.failed) {
		*fail_at = p.fail_at;
		json_doc__free(p.d);
		return NULL;
	}
	return p.d;
}

struct json_doc *json_doc__parse(const char *text, size_t len, const char *const *skip_keys,
				 char *err, size_t errlen)
{
	size_t fail_at;

	return parse_mapped(text, len, skip_keys, NULL, 0, &fail_at, err, errlen);
}

/*
 * The streaming reader: a filter in front of the parser. It follows the
 * grammar of the root object just enough to know where each root member's
 * value starts; a container under a skipped key goes through the skipper
 * instead of into the kept text, and `null` takes its place (what the parser
 * makes of a skipped value anyway). Everything else is kept as it is, for the
 * parser to check. Where the input stops looking like a root object (another
 * root, a syntax error at the root), the filter keeps the rest unchanged: the
 * parser then reports what it reports for the whole file. Keys are compared
 * raw: one with an escape is never elided, nor a skipped scalar (a report has
 * none): the parser skips those itself. So what is held is the text kept,
 * never more than the file, and for a report a few hundred KB.
 */
enum filter_state {
	F_START,  /* before the root */
	F_OPEN,   /* after the root's '{': a key or '}' */
	F_NEXT,   /* after a ',' of the root: a key */
	F_KEY,    /* in a key of the root */
	F_COLON,  /* after a key */
	F_VALUE,  /* after its ':' */
	F_MEMBER, /* in a value kept: until the ',' or '}' of the root */
	F_SKIP,   /* in a container elided */
	F_AFTER,  /* after the root */
	F_PASS,   /* the rest is kept unchanged */
	F_STOP,   /* nothing more to read */
};

struct filter {
	const char *const *skip;
	enum filter_state st;
	char key[64]; /* its first bytes */
	size_t key_len;
	bool key_esc, in_str, esc;
	size_t open; /* brackets open in a member's value */
	struct skipper sk;
	char *kept;
	size_t kept_len, kept_cap;
	struct elision *map;
	size_t map_cnt, map_cap;
	uint64_t off;       /* in the file, of the byte being read */
	const char *what;   /* an error in an elided container */
	uint64_t what_at;   /* and its offset */
	bool oom;
};

static void keep(struct filter *f, const char *s, size_t n)
{
	if (f->oom || !grow((void **)&f->kept, &f->kept_cap, f->kept_len + n, 1)) {
		f->oom = true;
		return;
	}
	memcpy(f->kept + f->kept_len, s, n);
	f->kept_len += n;
}

static bool filter__skipped_key(const struct filter *f)
{
	const char *const *k;

	if (f->key_esc || f->key_len > sizeof(f->key))
		return false;
	for (k = f->skip; k && *k; k++)
		if (strlen(*k) == f->key_len && !memcmp(*k, f->key, f->key_len))
			return true;
	return false;
}

/* Follows one byte outside an elided container; false: not kept. */
static bool filter__byte(struct filter *f, char c)
{
	switch (f->st) {
	case F_START:
		if (!is_ws(c))
			f->st = c == '{' ? F_OPEN : F_PASS;
		break;
	case F_OPEN:
	case F_NEXT:
		if (is_ws(c))
			break;
		if (c == '"') {
			f->st = F_KEY;
			f->key_len = 0;
			f->key_esc = f->esc = false;
		} else {
			f->st = c == '}' && f->st == F_OPEN ? F_AFTER : F_PASS;
		}
		break;
	case F_KEY:
		if (f->esc) {
			f->esc = false;
		} else if (c == '\\') {
			f->esc = f->key_esc = true;
		} else if (c == '"') {
			f->st = F_COLON;
		} else {
			if (f->key_len < sizeof(f->key))
				f->key[f->key_len] = c;
			/* stops one past the buffer: too long to be a skip key */
			f->key_len += f->key_len <= sizeof(f->key);
		}
		break;
	case F_COLON:
		if (!is_ws(c))
			f->st = c == ':' ? F_VALUE : F_PASS;
		break;
	case F_VALUE:
		if (is_ws(c))
			break;
		if ((c == '{' || c == '[') && filter__skipped_key(f)) {
			f->st = F_SKIP;
			f->sk = (struct skipper){ .depth = 1 };
			return false;
		}
		f->st = F_MEMBER;
		f->open = 0;
		f->in_str = f->esc = false;
		/* fall through */
	case F_MEMBER:
		if (f->in_str) {
			if (f->esc)
				f->esc = false;
			else if (c == '\\')
				f->esc = true;
			else if (c == '"')
				f->in_str = false;
		} else if (c == '"') {
			f->in_str = true;
		} else if (c == '{' || c == '[') {
			f->open++;
		} else if ((c == '}' || c == ']') && f->open) {
			f->open--;
		} else if (c == '}' || c == ']') {
			f->st = c == '}' ? F_AFTER : F_PASS;
		} else if (c == ',' && !f->open) {
			f->st = F_NEXT;
		}
		break;
	case F_AFTER:
		if (!is_ws(c))
			f->st = F_STOP; /* kept: the parser says "trailing data" there */
		break;
	case F_SKIP:
	case F_PASS:
	case F_STOP:
		break;
	}
	return true;
}

/* Filters the next n bytes of the file. */
static void filter__feed(struct filter *f, const char *s, size_t n)
{
	size_t i = 0, run = 0; /* s[run..i): kept, not yet copied */

	while (i < n && f->st != F_STOP && !f->oom) {
		const char *what;
		size_t used;

		if (f->st == F_PASS) {
			i = n;
			break;
		}
		if (f->st != F_SKIP) {
			if (filter__byte(f, s[i]))
				i++;
			continue;
		}
		keep(f, s + run, i - run);
		switch (skipper__feed(&f->sk, s + i, n - i, &used, &what)) {
		case SKIP_DONE:
			keep(f, "null", 4);
			if (f->oom || !grow((void **)&f->map, &f->map_cap, f->map_cnt + 1,
					    sizeof(*f->map))) {
				f->oom = true;
				break;
			}
			f->map[f->map_cnt++] = (struct elision){ f->kept_len, f->off + i + used };
			f->st = F_MEMBER;
			f->open = 0;
			f->in_str = f->esc = false;
			break;
		case SKIP_ERR:
			f->what = what;
			f->what_at = f->off + i + used;
			f->st = F_STOP;
			break;
		case SKIP_MORE:
			break;
		}
		i += used;
		run = i;
	}
	if (f->st != F_SKIP)
		keep(f, s + run, i - run);
	f->off += n;
}

struct json_doc *json_doc__read(FILE *in, size_t chunk, const char *const *skip_keys, char *err,
				size_t errlen)
{
	struct filter f = { .skip = skip_keys };
	struct json_doc *d = NULL;
	size_t n, fail_at;
	char *buf;

	buf = malloc(chunk ? chunk : CHUNK_BYTES);
	if (!buf || !grow((void **)&f.kept, &f.kept_cap, 1, 1)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	while (f.st != F_STOP && !f.oom && (n = fread(buf, 1, chunk ? chunk : CHUNK_BYTES, in))) {
		if (f.off + n > MAX_FILE_BYTES) {
			snprintf(err, errlen, "larger than 1 GiB");
			goto out;
		}
		filter__feed(&f, buf, n);
	}
	if (ferror(in)) {
		snprintf(err, errlen, "read error: %s", strerror(errno));
		goto out;
	}
	if (f.oom) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (f.st == F_SKIP) { /* the file ends in an elided container */
		f.what = "unterminated container";
		f.what_at = f.off;
	}
	d = parse_mapped(f.kept, f.kept_len, skip_keys, f.map, f.map_cnt, &fail_at, err, errlen);
	/* the kept text stops at the elided container's error: what the parser finds
	 * before it came first in the file (it cannot parse the document) */
	if (f.what && (d || fail_at >= f.kept_len)) {
		json_doc__free(d);
		d = NULL;
		snprintf(err, errlen, "%s at byte %llu", f.what, (unsigned long long)f.what_at);
	}
out:
	free(buf);
	free(f.kept);
	free(f.map);
	return d;
}

struct json_doc *json_doc__load(const char *path, const char *const *skip_keys, char *err,
				size_t errlen)
{
	struct json_doc *d;
	struct stat st;
	FILE *in;
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
	in = fdopen(fd, "r");
	if (!in) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return NULL;
	}
	d = json_doc__read(in, CHUNK_BYTES, skip_keys, err, errlen);
	fclose(in);
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

const char *jnode__key(const struct jnode *n)
{
	const struct json_doc *d = owner(n);

	return d && n->key != NO_KEY ? d->strs + n->key : NULL;
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
