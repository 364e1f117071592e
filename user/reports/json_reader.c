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
#define NO_KEY UINT32_MAX
#define CHUNK_BYTES (64 * 1024) /* json_stream__load's reads */

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
	uint64_t base;     /* offset in the file of the text's first byte */
	size_t max_nodes;  /* values one parse may build */
	const char *trail; /* what text after the value is called */
	size_t fail_at; /* offset in the text of the first error */
	char *err;
	size_t errlen;
	bool failed;
};

static void fail(struct parser *p, const char *what)
{
	if (!p->failed) {
		p->fail_at = (size_t)(p->s - p->start);
		snprintf(p->err, p->errlen, "%s at byte %llu", what,
			 (unsigned long long)(p->base + p->fail_at));
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

	if (d->node_cnt >= p->max_nodes) {
		fail(p, "too many values in one member");
		return 0;
	}
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

	/* byte by byte, to the first that is not a digit: where the text ends
	 * (a piece of the stream, or the whole) does not move the error */
	for (i = 0; i < 4; i++) {
		char c;

		if (p->s >= p->end)
			return -1;
		c = *p->s++;

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

/*
 * Parses text[0..len), a value at depth depth whose first byte is at offset
 * base in the file; trail: what text after it is called in a message.
 */
/* What a parse may reuse: the stream parses every piece into the same buffers. */
struct parse_bufs {
	struct json_doc doc;
	uint32_t *stack;
	size_t stack_cap;
};

static struct json_doc *parse_at(const char *text, size_t len, const char *const *skip_keys,
				 int depth, uint64_t base, size_t max_nodes, const char *trail,
				 size_t *fail_at, char *err, size_t errlen, struct parse_bufs *into)
{
	struct parser p = { .s = text, .end = text + len, .start = text, .skip = skip_keys,
			    .base = base, .max_nodes = max_nodes, .trail = trail, .err = err,
			    .errlen = errlen };

	if (into) {
		p.d = &into->doc;
		p.d->node_cnt = p.d->kid_cnt = p.d->str_len = 0;
		p.stack = into->stack;
		p.stack_cap = into->stack_cap;
	} else {
		p.d = calloc(1, sizeof(*p.d));
	}
	if (!p.d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	parse_value(&p, depth, true);
	skip_ws(&p);
	if (!p.failed && p.s != p.end)
		fail(&p, p.trail);
	if (into) {
		into->stack = p.stack;
		into->stack_cap = p.stack_cap;
	} else {
		free(p.stack);
	}
	if (p.failed) {
		if (fail_at)
			*fail_at = p.fail_at;
		if (!into)
			json_doc__free(p.d);
		return NULL;
	}
	return p.d;
}

struct json_doc *json_doc__parse(const char *text, size_t len, const char *const *skip_keys,
				 char *err, size_t errlen)
{
	return parse_at(text, len, skip_keys, 0, 0, SIZE_MAX, "trailing data after the document",
			NULL, err, errlen, NULL);
}

/*
 * The streaming reader. It follows the grammar of the root object itself and
 * holds one piece of text at a time: a root key, a root member's value, or
 * one element of an array read element by element. Each piece is parsed on
 * its own (at its depth, with its offset in the file, so that errors read as
 * they would for the whole text) and handed to the caller, then freed. A
 * skipped container goes through the skipper and is never held. So what is
 * in memory is bounded by JSON_PIECE_MAX_BYTES of text and
 * JSON_PIECE_MAX_VALUES values, whatever the size of the file.
 */
#define KEY_MAX_BYTES 4096 /* of a root key as written, quotes included */

enum stream_state {
	S_START,       /* before the root */
	S_OPEN,        /* after the root's '{': a key or '}' */
	S_NEXT,        /* after a ',' of the root: a key */
	S_KEY,         /* in a root key */
	S_COLON,       /* after a key */
	S_VALUE,       /* after its ':' */
	S_MEMBER,      /* in a member's value (a piece) */
	S_SKIP,        /* in a skipped container */
	S_AFTER_VALUE, /* after a member's value: ',' or '}' */
	S_ARR_OPEN,    /* after the '[' of an array read element by element */
	S_ARR_NEXT,    /* after a ',' of it */
	S_ELEM,        /* in one of its elements (a piece) */
	S_AFTER,       /* after the root */
	S_WHOLE,       /* the root is not an object: all of it is one piece */
	S_STOP,        /* an error, or the caller stopped */
};

struct streamer {
	const struct json_member *spec;
	uint64_t seen; /* spec entries met: the first member of a key counts */
	json_member_fn fn;
	void *ctx;
	enum stream_state st;
	enum json_mode mode; /* of the member being read */
	bool quiet;          /* a listed key met again: read, checked, not handed over */
	char *key;           /* decoded, of the member being read */
	size_t index;        /* of the element being read */
	uint64_t off;        /* in the file, of the byte being read */
	char *text;          /* the piece */
	size_t len, cap;
	uint64_t text_at;    /* its offset in the file */
	size_t open;         /* brackets open in the piece */
	bool in_str, esc;
	struct skipper sk;
	struct parse_bufs bufs; /* of the pieces' parses */
	char *err;
	size_t errlen;
	int rc;
};

static void stream_fail(struct streamer *s, int rc, const char *what, uint64_t at)
{
	snprintf(s->err, s->errlen, "%s at byte %llu", what, (unsigned long long)at);
	s->rc = rc;
	s->st = S_STOP;
}

static void piece_start(struct streamer *s)
{
	s->len = 0;
	s->text_at = s->off;
	s->open = 0;
	s->in_str = s->esc = false;
}

/*
 * Parses the piece (a value at depth); NULL on error, which is then said.
 * A piece cut at its bound is an error of its own unless the parser finds
 * one in what was read.
 */
static const struct jnode *piece_parse(struct streamer *s, int depth, const char *trail, bool cut)
{
	struct json_doc *d;
	size_t fail_at = 0;
	bool key = s->st == S_KEY;

	d = parse_at(s->text, s->len, NULL, depth, s->text_at, JSON_PIECE_MAX_VALUES, trail,
		     &fail_at, s->err, s->errlen, &s->bufs);
	if (d && !cut)
		return json_doc__root(d);
	s->rc = strstr(s->err, "out of memory") ? -ENOMEM : -EINVAL;
	s->st = S_STOP;
	/* cut: what was read holds no error before its end */
	if (cut && (d || fail_at >= s->len))
		stream_fail(s, -EINVAL, key ? "root key longer than 4 KiB" :
			    "value larger than the reader's bound of 4 MiB", s->text_at);
	return NULL;
}

/* What text after the piece's value is called, and the depth of the value. */
static const char *piece_trail(const struct streamer *s)
{
	return s->st == S_ELEM ? "expected ',' or ']'" : s->st == S_WHOLE ?
	       "trailing data after the document" : "expected ',' or '}'";
}

static int piece_depth(const struct streamer *s)
{
	return s->st == S_ELEM ? 2 : s->st == S_WHOLE ? 0 : 1;
}

/* false: the piece is full (it is then parsed for an earlier error). */
static bool piece_put(struct streamer *s, char c, size_t max)
{
	if (s->len == max || (s->len == s->cap && !grow((void **)&s->text, &s->cap, s->len + 1, 1))) {
		if (s->len < max) {
			stream_fail(s, -ENOMEM, "out of memory", s->off);
			return false;
		}
		piece_parse(s, piece_depth(s), piece_trail(s), true);
		return false;
	}
	s->text[s->len++] = c;
	return true;
}

/* The member's key is complete: decode it and look it up. */
static void key_done(struct streamer *s)
{
	const struct json_member *m;
	const struct jnode *root = piece_parse(s, 1, "", false);
	size_t i;

	if (!root)
		return;
	free(s->key);
	s->key = strdup(jnode__str(root, ""));
	if (!s->key) {
		stream_fail(s, -ENOMEM, "out of memory", s->off);
		return;
	}
	for (m = s->spec, i = 0; m->key && strcmp(m->key, s->key); m++, i++)
		;
	s->mode = m->mode;
	s->quiet = false;
	if (m->key && i < 64) {
		s->quiet = s->seen & (1ULL << i);
		s->seen |= 1ULL << i;
	}
	s->st = S_COLON;
}

static void deliver(struct streamer *s, const struct jnode *v, size_t index)
{
	int rc = s->quiet ? 0 : s->fn(s->ctx, s->key, index, v);

	if (rc) {
		snprintf(s->err, s->errlen, "%s", rc == -ENOMEM ? "out of memory" : strerror(rc < 0 ? -rc : rc));
		s->rc = rc;
		s->st = S_STOP;
	}
}

/* A piece ended at byte c (not part of it): a member's value or an element. */
static void piece_done(struct streamer *s, char c)
{
	bool elem = s->st == S_ELEM;
	const char *trail = piece_trail(s);
	const struct jnode *v;

	if (!s->len) {
		stream_fail(s, -EINVAL, "unexpected character", s->off);
		return;
	}
	v = piece_parse(s, piece_depth(s), trail, false);
	if (!v)
		return;
	if (elem)
		deliver(s, v, s->index++);
	else if (s->mode == JSON_KEEP)
		deliver(s, v, 0);
	if (s->st == S_STOP)
		return;
	if (c == ',')
		s->st = elem ? S_ARR_NEXT : S_NEXT;
	else if (c == (elem ? ']' : '}'))
		s->st = elem ? S_AFTER_VALUE : S_AFTER;
	else
		stream_fail(s, -EINVAL, trail, s->off);
}

/*
 * Follows s[0..n) of a piece: returns the bytes used, which end before the
 * byte that ends the piece (a ',', '}' or ']' outside its strings and
 * brackets) when one was found (*ended).
 */
static size_t piece_feed(struct streamer *st, const char *s, size_t n, bool *ended)
{
	size_t i = 0;

	*ended = false;
	while (i < n) {
		char c = s[i];

		if (st->in_str) {
			if (st->esc)
				st->esc = false;
			else if (c == '\\')
				st->esc = true;
			else if (c == '"')
				st->in_str = false;
		} else if (c == '"') {
			st->in_str = true;
		} else if (c == '{' || c == '[') {
			st->open++;
		} else if (c == '}' || c == ']' || c == ',') {
			if (!st->open) {
				*ended = true;
				return i;
			}
			if (c != ',')
				st->open--;
		}
		if (!piece_put(st, c, JSON_PIECE_MAX_BYTES))
			return i;
		st->off++;
		i++;
	}
	return i;
}

/* Follows one byte outside pieces and skipped containers. */
static void stream_byte(struct streamer *s, char c)
{
	switch (s->st) {
	case S_START:
		if (is_ws(c))
			break;
		piece_start(s);
		if (c == '{') {
			s->st = S_OPEN;
			break;
		}
		s->st = S_WHOLE;
		piece_put(s, c, JSON_PIECE_MAX_BYTES);
		break;
	case S_OPEN:
	case S_NEXT:
		if (is_ws(c))
			break;
		if (c == '}' && s->st == S_OPEN) {
			s->st = S_AFTER;
			break;
		}
		if (c != '"') {
			stream_fail(s, -EINVAL, "expected a key", s->off);
			break;
		}
		s->st = S_KEY;
		piece_start(s);
		s->esc = false;
		piece_put(s, c, KEY_MAX_BYTES);
		break;
	case S_KEY:
		if (!piece_put(s, c, KEY_MAX_BYTES))
			break;
		if (s->esc)
			s->esc = false;
		else if (c == '\\')
			s->esc = true;
		else if (c == '"' || (unsigned char)c < 0x20)
			key_done(s); /* a control character: the parser says so */
		break;
	case S_COLON:
		if (is_ws(c))
			break;
		if (c == ':')
			s->st = S_VALUE;
		else
			stream_fail(s, -EINVAL, "expected ':'", s->off);
		break;
	case S_VALUE: /* ws, or the '[' of an array read element by element */
		if (c == '[') {
			s->st = S_ARR_OPEN;
			s->index = 0;
		}
		break;
	case S_AFTER_VALUE:
		if (is_ws(c))
			break;
		if (c == ',')
			s->st = S_NEXT;
		else if (c == '}')
			s->st = S_AFTER;
		else
			stream_fail(s, -EINVAL, "expected ',' or '}'", s->off);
		break;
	case S_ARR_OPEN: /* ws, or ']' */
		if (c == ']')
			s->st = S_AFTER_VALUE;
		break;
	case S_AFTER:
		if (!is_ws(c))
			stream_fail(s, -EINVAL, "trailing data after the document", s->off);
		break;
	default:
		break;
	}
}

/* Follows the next n bytes of the file. */
static void stream_feed(struct streamer *s, const char *buf, size_t n)
{
	size_t i = 0, used;
	const char *what;
	bool ended;

	while (i < n && s->st != S_STOP) {
		char c = buf[i];

		switch (s->st) {
		case S_VALUE:
			if (is_ws(c) || (c == '[' && s->mode == JSON_EACH))
				break;
			if ((c == '{' || c == '[') && s->mode == JSON_SKIP) {
				s->st = S_SKIP; /* the skipper takes the bracket */
				s->sk = (struct skipper){ .depth = 1 };
				continue;
			}
			piece_start(s);
			s->st = S_MEMBER;
			continue;
		case S_ARR_OPEN:
		case S_ARR_NEXT:
			if (is_ws(c) || (c == ']' && s->st == S_ARR_OPEN))
				break;
			piece_start(s);
			s->st = S_ELEM;
			continue;
		case S_MEMBER:
		case S_ELEM:
			used = piece_feed(s, buf + i, n - i, &ended);
			i += used;
			if (ended && s->st != S_STOP) {
				piece_done(s, buf[i]); /* the byte that ended it is used */
				s->off++;
				i++;
			}
			continue;
		case S_SKIP:
			switch (skipper__feed(&s->sk, buf + i, n - i, &used, &what)) {
			case SKIP_DONE:
				s->st = S_AFTER_VALUE;
				break;
			case SKIP_ERR:
				stream_fail(s, -EINVAL, what, s->off + used);
				break;
			case SKIP_MORE:
				break;
			}
			s->off += used;
			i += used;
			continue;
		case S_WHOLE:
			if (piece_put(s, c, JSON_PIECE_MAX_BYTES))
				break;
			continue;
		default:
			break;
		}
		stream_byte(s, c);
		s->off++;
		i++;
	}
}

/* The end of the file: what the state says of it. */
static void stream_end(struct streamer *s)
{
	switch (s->st) {
	case S_STOP:
	case S_AFTER:
		return;
	case S_START:
	case S_VALUE:
	case S_ARR_OPEN:
	case S_ARR_NEXT:
		stream_fail(s, -EINVAL, "unexpected end", s->off);
		return;
	case S_OPEN:
	case S_NEXT:
		stream_fail(s, -EINVAL, "expected a key", s->off);
		return;
	case S_KEY:
		piece_parse(s, 1, "", false);
		if (s->st != S_STOP)
			stream_fail(s, -EINVAL, "unterminated string", s->off);
		return;
	case S_COLON:
		stream_fail(s, -EINVAL, "expected ':'", s->off);
		return;
	case S_AFTER_VALUE:
		stream_fail(s, -EINVAL, "expected ',' or '}'", s->off);
		return;
	case S_SKIP:
		stream_fail(s, -EINVAL, "unterminated container", s->off);
		return;
	case S_MEMBER:
	case S_ELEM:
		if (piece_parse(s, piece_depth(s), piece_trail(s), false))
			stream_fail(s, -EINVAL, piece_trail(s), s->off);
		return;
	case S_WHOLE:
		if (piece_parse(s, 0, piece_trail(s), false)) {
			snprintf(s->err, s->errlen, "the document is not an object");
			s->rc = -EDOM;
		}
		return;
	}
}

int json_stream__read(FILE *in, size_t chunk, const struct json_member *spec, json_member_fn fn,
		      void *ctx, char *err, size_t errlen)
{
	struct streamer s = { .spec = spec, .fn = fn, .ctx = ctx, .err = err, .errlen = errlen };
	size_t size = chunk ? chunk : CHUNK_BYTES, n;
	char *buf = malloc(size);

	err[0] = '\0';
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	while (s.st != S_STOP && (n = fread(buf, 1, size, in)))
		stream_feed(&s, buf, n);
	if (s.st != S_STOP && ferror(in)) {
		snprintf(err, errlen, "read error: %s", strerror(errno));
		s.rc = -EIO;
	} else {
		stream_end(&s);
	}
	free(buf);
	free(s.text);
	free(s.key);
	free(s.bufs.doc.nodes);
	free(s.bufs.doc.kid);
	free(s.bufs.doc.strs);
	free(s.bufs.stack);
	return s.rc;
}

int json_stream__load(const char *path, const struct json_member *spec, json_member_fn fn,
		      void *ctx, char *err, size_t errlen)
{
	struct stat st;
	FILE *in;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s", strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		close(fd);
		return -EINVAL;
	}
	in = fdopen(fd, "r");
	if (!in) {
		rc = -errno;
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return rc;
	}
	rc = json_stream__read(in, CHUNK_BYTES, spec, fn, ctx, err, errlen);
	fclose(in);
	return rc;
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
