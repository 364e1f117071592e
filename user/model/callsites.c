// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "callsites.h"
#include "stacks.h"

/*
 * Functions that only pass an allocation on, by their plain qualified names
 * (no return type, template arguments or parameters). Sorted (strcmp) for
 * bsearch. Sources: libstdc++ (operator new), gnulib/libiberty (x*), GLib
 * (gmem.c, gstrfuncs.c, gslice.c), SQLite (malloc.c, printf.c, vdbemem.c:
 * its buffer-growing helpers too), FFmpeg (libavutil/mem.c), CPython
 * (Objects/obmalloc.c), OpenSSL (crypto/mem.c),
 * PHP (Zend/zend_alloc.h), LLVM (Support/MemAlloc.h, SmallVector.h,
 * Allocator.h), and libc's own names for static binaries.
 */
static const char *const known_wrappers[] = {
	"CRYPTO_clear_realloc", "CRYPTO_malloc", "CRYPTO_memdup", "CRYPTO_realloc",
	"CRYPTO_strdup", "CRYPTO_strndup", "CRYPTO_zalloc", "PyMem_Calloc", "PyMem_Malloc",
	"PyMem_RawCalloc", "PyMem_RawMalloc", "PyMem_RawRealloc", "PyMem_Realloc",
	"PyObject_Calloc", "PyObject_Malloc", "PyObject_Realloc", "_PyMem_RawStrdup",
	"_PyMem_Strdup", "_PyObject_Calloc", "_PyObject_Malloc", "_PyObject_Realloc",
	"__asprintf", "__cxa_allocate_dependent_exception", "__cxa_allocate_exception",
	"__libc_calloc", "__libc_malloc", "__libc_memalign", "__libc_realloc", "__strdup",
	"__strndup", "_ecalloc", "_emalloc", "_erealloc", "_estrdup", "_estrndup",
	"aligned_alloc", "asprintf", "av_calloc", "av_fast_malloc", "av_fast_mallocz",
	"av_fast_realloc", "av_malloc", "av_malloc_array", "av_mallocz", "av_mallocz_array",
	"av_memdup", "av_realloc", "av_realloc_array", "av_realloc_f", "av_reallocp",
	"av_reallocp_array", "av_strdup", "av_strndup", "calloc", "dbMallocRawFinish",
	"dbReallocFinish", "ecalloc", "emalloc", "erealloc", "estrdup", "estrndup",
	"g_aligned_alloc", "g_aligned_alloc0", "g_malloc", "g_malloc0", "g_malloc0_n",
	"g_malloc_n", "g_memdup", "g_memdup2", "g_realloc", "g_realloc_n", "g_slice_alloc",
	"g_slice_alloc0", "g_slice_copy", "g_strconcat", "g_strdup", "g_strdup_printf",
	"g_strdup_vprintf", "g_strndup", "g_try_malloc", "g_try_malloc0", "g_try_malloc0_n",
	"g_try_malloc_n", "g_try_realloc", "g_try_realloc_n",
	"llvm::BumpPtrAllocatorImpl::Allocate", "llvm::BumpPtrAllocatorImpl::AllocateSlow",
	"llvm::BumpPtrAllocatorImpl::StartNewSlab", "llvm::MallocAllocator::Allocate",
	"llvm::SmallVectorBase::grow_pod", "llvm::SmallVectorBase::mallocForGrow",
	"llvm::SmallVectorTemplateBase::grow", "llvm::SmallVectorTemplateBase::mallocForGrow",
	"llvm::allocate_buffer", "llvm::safe_calloc", "llvm::safe_malloc", "llvm::safe_realloc",
	"malloc", "mallocWithAlarm", "memalign", "operator new", "operator new[]",
	"posix_memalign", "pvalloc", "realloc", "reallocarray", "sqlite3DbMallocRaw",
	"sqlite3DbMallocRawNN", "sqlite3DbMallocZero", "sqlite3DbRealloc",
	"sqlite3DbReallocOrFree", "sqlite3DbSpanDup", "sqlite3DbStrDup", "sqlite3DbStrNDup",
	"sqlite3MPrintf", "sqlite3Malloc", "sqlite3MallocZero", "sqlite3MemMalloc",
	"sqlite3MemRealloc", "sqlite3Realloc", "sqlite3StrAccumEnlarge", "sqlite3VMPrintf",
	"sqlite3VdbeMemGrow", "sqlite3_malloc", "sqlite3_malloc64", "sqlite3_mprintf",
	"sqlite3_realloc", "sqlite3_realloc64", "sqlite3_str_append", "sqlite3_str_appendall",
	"sqlite3_str_appendchar", "sqlite3_str_appendf", "sqlite3_str_vappendf",
	"sqlite3_vmprintf", "strdup", "strndup", "valloc", "vasprintf", "wcsdup", "xcalloc",
	"xcharalloc", "xmalloc", "xmemdup", "xmemdup0", "xnmalloc", "xrealloc", "xstrdup",
	"xstrndup", "xzalloc",
};

#define PLAIN_NAME_MAX 1024

struct callsites_filter {
	const char *allocator_base; /* basename of the probed library */
	regex_t *re;
	size_t re_cnt;
};

struct callsites {
	struct symbolizer *sym;
	struct callsite *sites;     /* sorted by bytes */
	size_t cnt;
	uint32_t *site_of;  /* by stack id: index + 1 in sites, 0 none */
	uint32_t *frame_of; /* by stack id: source-level frame index of the call site */
	size_t stack_cnt;
};

int callsites__frames(struct callsites *cs, uint64_t ip, struct sym_frame *out, size_t cap,
		      size_t *nr)
{
	size_t k;
	int err;

	memset(out, 0, sizeof(*out));
	out->ip = ip;
	*nr = 1;
	if (!cs->sym || !ip)
		return -ENOENT;
	/* a return address: the call is the instruction before it */
	err = symbolizer__resolve_chain(cs->sym, ip - 1, out, cap, nr);
	for (k = 0; k < *nr; k++) {
		out[k].ip = ip;
		if (out[k].symbol && !out[k].inlined)
			out[k].sym_offset++;
		if (out[k].module)
			out[k].module_offset++;
	}
	return err;
}

int callsites__frame(struct callsites *cs, uint64_t ip, struct sym_frame *out)
{
	struct sym_frame chain[SYM_MAX_CHAIN];
	size_t nr;
	int err = callsites__frames(cs, ip, chain, SYM_MAX_CHAIN, &nr);

	*out = chain[0];
	return err;
}

static const char *base_of(const char *path)
{
	const char *b = path ? strrchr(path, '/') : NULL;

	return b ? b + 1 : path;
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* Past the balanced group that starts at *p ('(' or '{'), or at the end. */
static const char *skip_group(const char *p)
{
	char open = *p, close = open == '(' ? ')' : '}';
	int depth = 0;

	for (; *p; p++) {
		if (*p == open)
			depth++;
		else if (*p == close && !--depth)
			return p + 1;
	}
	return p;
}

/*
 * The qualified name of a demangled function without its return type,
 * template arguments, parameters or a ".cold"-like suffix:
 * "void std::vector<int>::_M_realloc_insert<int>(...)" is
 * "std::vector::_M_realloc_insert", "operator new[](unsigned long)" is
 * "operator new[]". False when it does not fit.
 */
static bool plain_name(const char *in, char *out, size_t cap)
{
	const char *p = in, *g;
	size_t o = 0;
	int angle = 0;

#define PUT(c)                         \
	do {                           \
		if (o + 1 >= cap)      \
			return false;  \
		out[o++] = (c);        \
	} while (0)
	while (*p) {
		if (!angle && starts_with(p, "operator") && (p == in || p[-1] == ':' || p[-1] == ' ') &&
		    !(p[8] == '_' || (p[8] >= 'a' && p[8] <= 'z') || (p[8] >= 'A' && p[8] <= 'Z') ||
		      (p[8] >= '0' && p[8] <= '9'))) {
			/* "operator<", "operator()", "operator new": '<' and '('
			 * are the name here */
			for (g = p + 8; p < g; p++)
				PUT(*p);
			if (p[0] == '(' && p[1] == ')') {
				PUT('(');
				PUT(')');
				p += 2;
			}
			while (*p && *p != '(' && !(p[0] == ' ' && p[1] == '<')) {
				PUT(*p);
				p++;
			}
			continue;
		}
		if (*p == '<') {
			angle++;
		} else if (*p == '>') {
			angle -= angle > 0;
		} else if (angle) {
			/* inside template arguments */
		} else if (starts_with(p, "(anonymous namespace)")) {
			for (g = p + strlen("(anonymous namespace)"); p < g; p++)
				PUT(*p);
			continue;
		} else if (*p == '(') {
			/* the parameters, unless a local entity's name goes on */
			p = skip_group(p);
			if (!starts_with(p, "::"))
				break;
			continue;
		} else if (*p == '{') {
			/* "{lambda(int)#1}": one name */
			for (g = skip_group(p); p < g; p++)
				PUT(*p);
			continue;
		} else if (*p == ' ') {
			o = 0; /* what came before was the return type */
		} else if (*p == '.') {
			break; /* xmalloc.cold, f.part.0, g.isra.0 */
		} else {
			PUT(*p);
		}
		p++;
	}
#undef PUT
	out[o] = '\0';
	return true;
}

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

bool callsites__known_wrapper(const char *name)
{
	char plain[PLAIN_NAME_MAX];
	size_t len;

	if (!name || !plain_name(name, plain, sizeof(plain)))
		return false;
	/* the C++ standard library: containers, strings, allocators */
	if (starts_with(plain, "std::") || starts_with(plain, "__gnu_cxx::"))
		return true;
	/* a class's own operator new */
	len = strlen(plain);
	if ((len > 14 && !strcmp(plain + len - 14, "::operator new")) ||
	    (len > 16 && !strcmp(plain + len - 16, "::operator new[]")))
		return true;
	return bsearch(plain, known_wrappers, sizeof(known_wrappers) / sizeof(known_wrappers[0]),
		       sizeof(known_wrappers[0]), cmp_name);
}

int callsites_filter__new(struct callsites_filter **out, const char *allocator,
			  const char *const *skip_frames, size_t skip_cnt)
{
	struct callsites_filter *flt = calloc(1, sizeof(*flt));
	char msg[128];
	size_t i;
	int rc;

	*out = NULL;
	if (!flt || (skip_cnt && !(flt->re = calloc(skip_cnt, sizeof(*flt->re))))) {
		free(flt);
		return -ENOMEM;
	}
	flt->allocator_base = base_of(allocator);
	for (i = 0; i < skip_cnt; i++) {
		rc = regcomp(&flt->re[i], skip_frames[i], REG_EXTENDED | REG_NOSUB);
		if (rc) {
			regerror(rc, &flt->re[i], msg, sizeof(msg));
			fprintf(stderr, "ttbpf: invalid --skip-frames '%s': %s\n", skip_frames[i], msg);
			callsites_filter__free(flt);
			return rc == REG_ESPACE ? -ENOMEM : -EINVAL;
		}
		flt->re_cnt++;
	}
	*out = flt;
	return 0;
}

void callsites_filter__free(struct callsites_filter *flt)
{
	size_t i;

	if (!flt)
		return;
	for (i = 0; i < flt->re_cnt; i++)
		regfree(&flt->re[i]);
	free(flt->re);
	free(flt);
}

/* A wrapper by its name: built in, or --skip-frames. */
static bool wrapper_by_name(const struct callsites_filter *flt, const struct sym_frame *f)
{
	size_t i;

	if (!f->symbol)
		return false;
	if (callsites__known_wrapper(f->symbol))
		return true;
	for (i = 0; i < flt->re_cnt; i++)
		if (!regexec(&flt->re[i], f->symbol, 0, NULL, 0))
			return true;
	return false;
}

bool callsites_filter__skips(const struct callsites_filter *flt, const struct sym_frame *f)
{
	const char *b = base_of(f->module);

	/* libc and the C++ runtime: whatever they allocate, their caller asked */
	if (b && (starts_with(b, "libc.so") || starts_with(b, "libc-") ||
		  starts_with(b, "ld-musl") || starts_with(b, "libstdc++.so") ||
		  starts_with(b, "libc++.so") || starts_with(b, "libc++abi.so") ||
		  (flt->allocator_base && !strcmp(b, flt->allocator_base))))
		return true;
	return wrapper_by_name(flt, f);
}

/*
 * Frames without a name called by a wrapper (the next named frame out, a
 * wrapper by its name) are the wrapper's helpers: sqlite3MemMalloc, static
 * and called through a pointer from sqlite3Malloc, in a libsqlite3 without
 * symbols. Called by libc, they are not: a stripped program's main, called
 * by __libc_start_call_main.
 */
size_t callsites_filter__pick(const struct callsites_filter *flt, const struct sym_frame *frames,
			      size_t nr)
{
	size_t i, j;

	for (i = 0; i < nr; i++) {
		if (callsites_filter__skips(flt, &frames[i]))
			continue;
		if (frames[i].symbol)
			return i;
		for (j = i + 1; j < nr && !frames[j].symbol; j++)
			;
		if (j == nr || !wrapper_by_name(flt, &frames[j]))
			return i;
		i = j;
	}
	return 0;
}

/* Every source-level frame of a stack, innermost first, into *buf (grown as
 * needed); *addr_of[i]: the index in st->ips of frame i's address. */
static int expand_stack(struct callsites *cs, const struct stack_info *st, struct sym_frame **buf,
			uint32_t **addr_of, size_t *cap, size_t *nr)
{
	size_t need = (size_t)st->nr * SYM_MAX_CHAIN, k, j, got;

	if (need > *cap) {
		struct sym_frame *b = realloc(*buf, need * sizeof(**buf));
		uint32_t *a = b ? realloc(*addr_of, need * sizeof(**addr_of)) : NULL;

		if (b)
			*buf = b;
		if (!a)
			return -ENOMEM;
		*addr_of = a;
		*cap = need;
	}
	*nr = 0;
	for (k = 0; k < st->nr; k++) {
		callsites__frames(cs, st->ips[k], *buf + *nr, SYM_MAX_CHAIN, &got);
		for (j = 0; j < got; j++)
			(*addr_of)[*nr + j] = (uint32_t)k;
		*nr += got;
	}
	return 0;
}

static int cmp_site(const void *a, const void *b)
{
	const struct callsite *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	return (x->rep_stack > y->rep_stack) - (x->rep_stack < y->rep_stack);
}

/* A stack's site, before stacks are grouped. */
struct pick {
	uint64_t ip;
	const char *module, *symbol; /* owned by the symbolizer */
	uint32_t id, frame;
	bool by_address;
};

static int cmp_str(const char *a, const char *b)
{
	if (!a || !b)
		return !a - !b;
	return strcmp(a, b);
}

/* the same site: the same function of the same module (or the same address
 * when there is no name, or by_address) */
static int cmp_pick_key(const struct pick *x, const struct pick *y)
{
	int c;

	if (!x->by_address && x->symbol && y->symbol) {
		c = cmp_str(x->module, y->module);
		return c ? c : strcmp(x->symbol, y->symbol);
	}
	if (!x->by_address && (x->symbol || y->symbol))
		return x->symbol ? -1 : 1;
	return (x->ip > y->ip) - (x->ip < y->ip);
}

static int cmp_pick(const void *a, const void *b)
{
	const struct pick *x = a, *y = b;
	int c = cmp_pick_key(x, y);

	if (c)
		return c;
	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

int callsites__build(struct callsites **out, const struct model *m,
		     const struct callsites_opts *opts)
{
	size_t n = m->stacks ? stacks__count(m->stacks) : 0, np = 0, i, cap = 0, nr;
	struct callsites_filter *flt = NULL;
	struct sym_frame *buf = NULL;
	uint32_t *addr_of = NULL, *rank = NULL, id;
	struct pick *picks = NULL;
	struct callsites *cs;
	int err;

	*out = NULL;
	err = callsites_filter__new(&flt, opts->allocator, opts->skip_frames, opts->skip_cnt);
	if (err)
		return err;
	err = -ENOMEM;
	cs = calloc(1, sizeof(*cs));
	if (!cs)
		goto out;
	cs->sym = m->sym;
	cs->stack_cnt = n;
	cs->site_of = calloc(n + 1, sizeof(*cs->site_of));
	cs->frame_of = calloc(n + 1, sizeof(*cs->frame_of));
	cs->sites = calloc(n + 1, sizeof(*cs->sites));
	picks = calloc(n + 1, sizeof(*picks));
	if (!cs->site_of || !cs->frame_of || !cs->sites || !picks)
		goto out;
	/* each stack's call-site frame */
	for (id = 1; id <= n; id++) {
		const struct stack_info *st = stacks__get(m->stacks, id);
		struct pick *p = &picks[np];
		size_t f;

		if (!st->nr)
			continue;
		if (expand_stack(cs, st, &buf, &addr_of, &cap, &nr))
			goto out;
		f = callsites_filter__pick(flt, buf, nr);
		cs->frame_of[id] = (uint32_t)f;
		p->ip = st->ips[addr_of[f]];
		p->module = buf[f].module;
		p->symbol = buf[f].symbol;
		p->id = id;
		p->frame = (uint32_t)f;
		p->by_address = opts->by_address;
		np++;
	}
	/* stacks sharing a site make one */
	qsort(picks, np, sizeof(*picks), cmp_pick);
	for (i = 0; i < np; i++) {
		const struct stack_info *st = stacks__get(m->stacks, picks[i].id);
		struct callsite *site;

		if (!i || cmp_pick_key(&picks[i - 1], &picks[i]))
			cs->cnt++;
		site = &cs->sites[cs->cnt - 1];
		if (!site->stack_cnt || picks[i - 1].ip != picks[i].ip)
			site->addr_cnt++;
		site->stack_cnt++;
		site->allocs += st->allocs;
		site->bytes += st->bytes;
		site->live_cnt += st->live_cnt;
		site->live_bytes += st->live_bytes;
		site->at_peak_cnt += st->at_peak_cnt;
		site->at_peak_bytes += st->at_peak_bytes;
		if (!site->rep_stack || st->bytes > stacks__get(m->stacks, site->rep_stack)->bytes) {
			site->rep_stack = picks[i].id;
			site->site_frame = picks[i].frame;
			site->ip = picks[i].ip;
		}
		cs->site_of[picks[i].id] = (uint32_t)cs->cnt;
	}
	/* the frame of each site, from its representative */
	for (i = 0; i < cs->cnt; i++) {
		struct callsite *site = &cs->sites[i];

		if (expand_stack(cs, stacks__get(m->stacks, site->rep_stack), &buf, &addr_of, &cap,
				 &nr))
			goto out;
		site->frame = buf[site->site_frame < nr ? site->site_frame : 0];
	}
	/* largest first; renumber the stacks' sites to match (the
	 * representatives are unique) */
	rank = calloc(n + 1, sizeof(*rank));
	if (!rank)
		goto out;
	for (i = 0; i < cs->cnt; i++)
		rank[cs->sites[i].rep_stack] = (uint32_t)i + 1;
	qsort(cs->sites, cs->cnt, sizeof(*cs->sites), cmp_site);
	for (i = 0; i < cs->cnt; i++)
		picks[rank[cs->sites[i].rep_stack] - 1].id = (uint32_t)i + 1;
	for (id = 1; id <= n; id++)
		if (cs->site_of[id])
			cs->site_of[id] = picks[cs->site_of[id] - 1].id;
	err = 0;
out:
	free(rank);
	free(picks);
	free(buf);
	free(addr_of);
	callsites_filter__free(flt);
	if (err)
		callsites__free(cs);
	else
		*out = cs;
	return err;
}

void callsites__free(struct callsites *cs)
{
	if (!cs)
		return;
	free(cs->sites);
	free(cs->site_of);
	free(cs->frame_of);
	free(cs);
}

size_t callsites__count(const struct callsites *cs)
{
	return cs->cnt;
}

const struct callsite *callsites__get(const struct callsites *cs, size_t i)
{
	return i < cs->cnt ? &cs->sites[i] : NULL;
}

long callsites__index(const struct callsites *cs, const struct callsite *c)
{
	if (!c || c < cs->sites || c >= cs->sites + cs->cnt)
		return -1;
	return c - cs->sites;
}

const struct callsite *callsites__of_stack(const struct callsites *cs, uint32_t stack_id,
					   uint32_t *frame_idx)
{
	if (!stack_id || stack_id > cs->stack_cnt || !cs->site_of[stack_id])
		return NULL;
	if (frame_idx)
		*frame_idx = cs->frame_of[stack_id];
	return &cs->sites[cs->site_of[stack_id] - 1];
}
