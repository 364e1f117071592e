// SPDX-License-Identifier: Apache-2.0
/*
 * Return instructions of a function, found by decoding its code. See
 * ret_sites.h. Files come from the target: every size read from them is
 * bounded (the .eh_frame_hdr table by its section, pieces by the section
 * that holds them and RET_SITES_MAX_PIECE_BYTES), and a table that is not
 * sorted only makes pieces shorter or longer, never a read out of bounds.
 */
#include <dwarf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "elf_syms.h"
#include "ret_sites.h"
#include "x86_decode.h"

#define MAX_CODE_SECTIONS 64
#define MAX_HDR_BYTES (64u << 20)
#define MAX_FUNC_SYMS (1u << 21)

/* An executable section: where its bytes are in the file. */
struct code_sec {
	uint64_t lo, hi, off;
	bool plt; /* .plt, .plt.got, .plt.sec, .iplt: a jump there leaves the file */
};

struct code {
	int fd;
	struct code_sec sec[MAX_CODE_SECTIONS];
	size_t sec_cnt;
	const unsigned char *fdes; /* .eh_frame_hdr's sorted (initial_loc, fde) pairs */
	size_t fde_cnt;
	uint64_t hdr_vaddr;
	uint64_t *funcs; /* function symbols' addresses, sorted, where there
			  * is no .eh_frame_hdr (static executables) */
	size_t func_cnt;
	struct ret_sites *out;
	uint64_t start[RET_SITES_MAX_PIECES]; /* pieces to decode, then decoded */
	uint64_t end[RET_SITES_MAX_PIECES];   /* 0 until decoded */
	size_t piece_cnt;
};

static bool is_plt(const char *name)
{
	return name && (!strncmp(name, ".plt", 4) || !strcmp(name, ".iplt"));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The addresses of the function symbols of a symbol table section. */
static int add_func_syms(Elf_Scn *scn, const GElf_Shdr *sh, struct code *c)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n, i;
	uint64_t *grown;
	GElf_Sym sym;

	if (!d || !sh->sh_entsize)
		return 0;
	n = d->d_size / sh->sh_entsize;
	if (n > MAX_FUNC_SYMS - c->func_cnt)
		n = MAX_FUNC_SYMS - c->func_cnt;
	grown = realloc(c->funcs, (c->func_cnt + n) * sizeof(*grown) ?: 1);
	if (!grown)
		return -ENOMEM;
	c->funcs = grown;
	for (i = 0; i < n; i++)
		if (gelf_getsym(d, (int)i, &sym) && elf_syms__is_defined_func(&sym))
			c->funcs[c->func_cnt++] = sym.st_value;
	return 0;
}

static int read_sections(Elf *elf, struct code *c)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return -ENOEXEC;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			return -ENOEXEC;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) {
			int err = add_func_syms(scn, &sh, c);

			if (err)
				return err;
			continue;
		}
		if (name && !strcmp(name, ".eh_frame_hdr") && sh.sh_type == SHT_PROGBITS &&
		    sh.sh_size <= MAX_HDR_BYTES) {
			Elf_Data *d = elf_getdata(scn, NULL);
			const unsigned char *p = d ? d->d_buf : NULL;
			size_t n = d ? d->d_size : 0, pos;

			/* version 1; the table as every linker writes it: a
			 * udata4 count and datarel sdata4 pairs */
			if (!p || n < 4 || p[0] != 1 || p[2] != (DW_EH_PE_udata4) ||
			    p[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4))
				continue;
			switch (p[1] & 0x0f) { /* the encoded eh_frame_ptr before the count */
			case DW_EH_PE_udata4:
			case DW_EH_PE_sdata4:
				pos = 4 + 4;
				break;
			case DW_EH_PE_absptr:
			case DW_EH_PE_udata8:
			case DW_EH_PE_sdata8:
				pos = 4 + 8;
				break;
			default:
				continue;
			}
			if (n < pos + 4)
				continue;
			c->fde_cnt = elf_syms__uint(p + pos, 4, false);
			pos += 4;
			if (c->fde_cnt > (n - pos) / 8)
				c->fde_cnt = (n - pos) / 8;
			c->fdes = p + pos;
			c->hdr_vaddr = sh.sh_addr;
			continue;
		}
		if (!(sh.sh_flags & SHF_EXECINSTR) || sh.sh_type != SHT_PROGBITS ||
		    c->sec_cnt == MAX_CODE_SECTIONS || sh.sh_addr + sh.sh_size < sh.sh_addr)
			continue;
		c->sec[c->sec_cnt++] = (struct code_sec){ sh.sh_addr, sh.sh_addr + sh.sh_size,
							  sh.sh_offset, is_plt(name) };
	}
	/* a symbol inside a function (an assembler label typed as one) would
	 * cut it short: symbols only where nothing better bounds functions */
	if (c->fdes)
		c->func_cnt = 0;
	if (c->func_cnt)
		qsort(c->funcs, c->func_cnt, sizeof(*c->funcs), cmp_u64);
	return c->fdes || c->func_cnt ? 0 : -ENODATA;
}

static const struct code_sec *sec_of(const struct code *c, uint64_t vaddr)
{
	size_t i;

	for (i = 0; i < c->sec_cnt; i++)
		if (vaddr >= c->sec[i].lo && vaddr < c->sec[i].hi)
			return &c->sec[i];
	return NULL;
}

static uint64_t fde_start(const struct code *c, size_t i)
{
	return c->hdr_vaddr + (uint64_t)(int64_t)(int32_t)elf_syms__uint(c->fdes + 8 * i, 4, false);
}

/* The first function start above vaddr, by FDE or by symbol; 0: none. */
static uint64_t next_start(const struct code *c, uint64_t vaddr)
{
	size_t lo = 0, hi = c->fde_cnt, mid;
	uint64_t by_fde, by_sym;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (fde_start(c, mid) <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	by_fde = lo < c->fde_cnt ? fde_start(c, lo) : 0;
	for (lo = 0, hi = c->func_cnt; lo < hi;) {
		mid = lo + (hi - lo) / 2;
		if (c->funcs[mid] <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	by_sym = lo < c->func_cnt ? c->funcs[lo] : 0;
	if (!by_fde || (by_sym && by_sym < by_fde))
		return by_sym;
	return by_fde;
}

/* A jump to vaddr from outside the piece decoded: one more piece, unless a
 * piece already holds it. */
static int follow(struct code *c, uint64_t vaddr)
{
	const struct code_sec *s = sec_of(c, vaddr);
	size_t i;

	if (!s || s->plt)
		return -ENOTSUP;
	for (i = 0; i < c->piece_cnt; i++)
		if (vaddr == c->start[i] || (vaddr > c->start[i] && vaddr < c->end[i]))
			return 0;
	if (c->piece_cnt == RET_SITES_MAX_PIECES)
		return -E2BIG;
	c->start[c->piece_cnt] = vaddr;
	c->end[c->piece_cnt++] = 0;
	return 0;
}

static int add_site(struct ret_sites *out, uint64_t off)
{
	size_t i;

	for (i = 0; i < out->cnt; i++)
		if (out->off[i] == off)
			return 0;
	if (out->cnt == RET_SITES_MAX)
		return -E2BIG;
	out->off[out->cnt++] = off;
	return 0;
}

/*
 * Reads the function at vaddr, to the next function's start, into *buf
 * (malloc'd): its bytes, their length in *len.
 */
static int read_func(struct code *c, uint64_t vaddr, unsigned char **buf, size_t *len)
{
	const struct code_sec *s = sec_of(c, vaddr);
	uint64_t hi, next;

	if (!s || s->plt)
		return -ENOTSUP;
	hi = s->hi;
	next = next_start(c, vaddr);
	if (next > vaddr && next < hi)
		hi = next;
	if (hi - vaddr > RET_SITES_MAX_PIECE_BYTES)
		return -E2BIG;
	*len = (size_t)(hi - vaddr);
	*buf = malloc(*len ?: 1);
	if (!*buf)
		return -ENOMEM;
	if (pread(c->fd, *buf, *len, (off_t)(s->off + (vaddr - s->lo))) != (ssize_t)*len) {
		free(*buf);
		return -EIO;
	}
	return 0;
}

/* Decodes piece i from its start to the next function's. */
static int decode_piece(struct code *c, size_t i)
{
	const struct code_sec *s = sec_of(c, c->start[i]);
	uint64_t lo = c->start[i], hi;
	struct x86_insn insn;
	unsigned char *buf;
	size_t len, at;
	int err;

	err = read_func(c, lo, &buf, &len);
	if (err)
		return err;
	hi = lo + len;
	c->end[i] = hi;
	for (at = 0; !err && at < len; at += insn.len) {
		if (x86_decode(buf + at, len - at, lo + at, &insn) < 0) {
			err = -ENOTSUP; /* bytes that are no instruction, or cut at hi */
			break;
		}
		switch (insn.kind) {
		case X86_INSN_RET:
			err = add_site(c->out, s->off + (lo + at - s->lo));
			break;
		case X86_INSN_FAR_RET:
			err = -ENOTSUP; /* not a function's */
			break;
		case X86_INSN_JUMP_INDIRECT:
			err = -ENOTSUP; /* a jump table or a call through a pointer */
			break;
		case X86_INSN_JUMP_DIRECT:
			if (insn.target < lo || insn.target >= hi)
				err = follow(c, insn.target);
			break;
		default:
			break;
		}
	}
	free(buf);
	return err;
}

/* path's code sections and function bounds, for decoding; undone by
 * code__close(). */
static int code__open(const char *path, struct code **out, int *fd, Elf **elf)
{
	struct code *c;
	GElf_Ehdr eh;
	int err;

	err = elf_syms__open(path, fd, elf);
	if (err)
		return err;
	c = calloc(1, sizeof(*c));
	if (!c) {
		err = -ENOMEM;
		goto err_elf;
	}
	c->fd = *fd;
	if (!gelf_getehdr(*elf, &eh) || eh.e_machine != EM_X86_64 ||
	    gelf_getclass(*elf) != ELFCLASS64) {
		err = -ENOEXEC;
		goto err_free;
	}
	err = read_sections(*elf, c);
	if (err)
		goto err_free;
	*out = c;
	return 0;

err_free:
	free(c->funcs);
	free(c);
err_elf:
	elf_end(*elf);
	close(*fd);
	return err;
}

static void code__close(struct code *c, int fd, Elf *elf)
{
	free(c->funcs);
	free(c);
	elf_end(elf);
	close(fd);
}

int ret_sites__find(const char *path, uint64_t vaddr, struct ret_sites *out)
{
	struct code *c;
	Elf *elf;
	size_t i;
	int fd, err;

	out->cnt = out->piece_cnt = 0;
	err = code__open(path, &c, &fd, &elf);
	if (err)
		return err;
	c->out = out;
	if (!sec_of(c, vaddr)) {
		err = -ENOEXEC;
		goto out;
	}
	c->start[0] = vaddr;
	c->piece_cnt = 1;
	for (i = 0; !err && i < c->piece_cnt; i++)
		err = decode_piece(c, i);
	for (i = 0; !err && i < c->piece_cnt; i++)
		out->piece[i] = (struct ret_sites_piece){ c->start[i], c->end[i] };
	out->piece_cnt = err ? 0 : c->piece_cnt;
out:
	if (err)
		out->cnt = out->piece_cnt = 0;
	code__close(c, fd, elf);
	return err;
}

int ret_sites__jump_into(const char *path, uint64_t vaddr, uint64_t span, uint64_t *to)
{
	struct x86_insn insn;
	unsigned char *buf;
	size_t len, at;
	struct code *c;
	int fd, err, found = 0;
	Elf *elf;

	err = code__open(path, &c, &fd, &elf);
	if (err)
		return err;
	err = read_func(c, vaddr, &buf, &len);
	if (err)
		goto out;
	for (at = 0; at < len && !found; at += insn.len) {
		if (x86_decode(buf + at, len - at, vaddr + at, &insn) < 0) {
			err = -ENOTSUP;
			break;
		}
		if ((insn.kind == X86_INSN_JUMP_DIRECT || insn.kind == X86_INSN_CALL_DIRECT) &&
		    insn.target > vaddr && insn.target - vaddr <= span) {
			*to = insn.target - vaddr;
			found = 1;
		}
	}
	free(buf);
out:
	code__close(c, fd, elf);
	return err ? err : found;
}
