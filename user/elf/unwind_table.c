// SPDX-License-Identifier: Apache-2.0
/*
 * ELF call-frame information → sorted unwind rows. See unwind_table.h.
 *
 *   file ──▶ CFI section (.eh_frame; .debug_frame of the file or of the
 *            debug file) copied and checked entry by entry, cut at the
 *            first malformed one
 *        ──▶ FDE ranges, clipped to the executable segments; .eh_frame
 *            wins where both cover an address
 *        ──▶ per range, libdw's frame state at each row's start
 *            (dwarf_cfi_addrframe; its [start, end) gives the next row)
 *        ──▶ rows, merged when equal, NO_INFO in the gaps and at the end
 *
 * Why a copy: libdw follows whatever the section says, and a few of its
 * readers trust what they read (the augmentation loop of dwarf_next_cfi
 * reads one encoding byte per character before it checks the bound, up to 9
 * bytes a character past the entry). libdw is therefore given an ELF image
 * in memory that holds only the checked prefix of the section, followed by
 * zeroed slack, and no .eh_frame_hdr: that index would send libdw to
 * whatever offsets it names, and we visit every FDE in turn anyway, so
 * without it libdw scans the checked section once.
 *
 * Pointer encodings of FDE ranges are decoded here (libdw has no call that
 * gives an FDE's range), and instructions are screened for register numbers
 * and nesting that would make libdw allocate without bound (insns_ok());
 * CFA and register rules are libdw's, never evaluated here: rows are built
 * from dwarf_frame_cfa() and dwarf_frame_register().
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "elf_syms.h"
#include "unwind_table.h"

_Static_assert(sizeof(struct tt_unwind_row) == TT_UNW_ROW_BYTES, "row size is ABI with BPF");
_Static_assert(TT_UNW_KIND_CNT <= 16, "kind has 4 bits");

#define MAX_TEXT_SEGS	64
#define MAX_FDES	(2u << 20)	/* per source; libdw keeps ~80 B for each */
#define MAX_AUG_CHARS	8		/* "zPLRS" is the longest real one */
#define SLACK_BYTES	256		/* > MAX_AUG_CHARS * 9: libdw's overread */
#define MAX_CFI_REG	255		/* x86-64's DWARF registers end at 130 */
#define MAX_REMEMBER	64		/* nested DW_CFA_remember_state */
#define REG_RBP		6
#define REG_RSP		7
#define REG_RA		16

struct unwind_table {
	struct tt_unwind_row *rows;
	size_t cnt;
	struct unwind_table_stats stats;
};

struct range {
	__u64 lo, hi;
	struct src *src;
};

struct cie {
	__u64 off;
	__u8 fde_enc;
	bool sized_aug; /* 'z': FDEs carry a sized augmentation block */
};

/* One CFI section: the checked copy, the ELF image libdw reads, the FDEs. */
struct src {
	bool eh;
	__u64 sh_addr;
	unsigned char *image; /* ELF header, names, section headers, data, slack */
	unsigned char *data;  /* the section inside image */
	size_t size;	      /* bytes kept: up to the first malformed entry */
	Elf *elf;
	Dwarf *dw;
	Dwarf_CFI *cfi;
	struct cie *cies;
	size_t cie_cnt, cie_cap;
	struct range *fdes;
	size_t fde_cnt, fde_cap;
	__s64 stopped_at;
};

struct build {
	__u64 max_rows, max_fde_rows, max_fde_ns, max_total_ns, max_cfi_bytes;
	__u64 t0_ns, deadline_ns;
	struct range text[MAX_TEXT_SEGS];
	size_t text_cnt;
	struct unwind_table *t;
	size_t cap;
	__u64 last_end; /* end of what rows cover so far (absolute) */
	bool have_last;
	bool stop;
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem, size_t max)
{
	size_t n;
	void *q;

	if (need <= *cap)
		return 0;
	if (need > max)
		return -E2BIG;
	n = *cap ? *cap * 2 : 64;
	if (n < need)
		n = need;
	if (n > max)
		n = max;
	q = realloc(*p, n * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

/* ---- reading the file ---------------------------------------------------- */

static int open_elf(int fd, Elf **elf)
{
	GElf_Ehdr eh;
	struct stat st;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) || !elf_syms__header_sane(fd, (uint64_t)st.st_size))
		return -ENOEXEC;
	/* pread into memory, never mmap: a target truncating its file under a
	 * mapping of ours would kill us with SIGBUS */
	*elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!*elf)
		return -ENOEXEC;
	if (elf_kind(*elf) != ELF_K_ELF || !gelf_getehdr(*elf, &eh) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64 || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)) {
		elf_end(*elf);
		*elf = NULL;
		return -ENOEXEC;
	}
	return 0;
}

static int text_segments(Elf *elf, struct build *b)
{
	size_t n, i, j;
	GElf_Phdr ph;
	__u64 lo = UINT64_MAX, hi = 0;

	if (elf_getphdrnum(elf, &n))
		return -ENOEXEC;
	for (i = 0; i < n && b->text_cnt < MAX_TEXT_SEGS; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X) ||
		    !ph.p_memsz || ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			continue;
		b->text[b->text_cnt++] = (struct range){ ph.p_vaddr, ph.p_vaddr + ph.p_memsz, NULL };
	}
	if (!b->text_cnt)
		return -ENODATA;
	/* sorted, so that clipping walks them in order (at most 64: insertion) */
	for (i = 1; i < b->text_cnt; i++)
		for (j = i; j > 0 && b->text[j].lo < b->text[j - 1].lo; j--) {
			struct range r = b->text[j];

			b->text[j] = b->text[j - 1];
			b->text[j - 1] = r;
		}
	for (i = 0; i < b->text_cnt; i++) {
		lo = b->text[i].lo < lo ? b->text[i].lo : lo;
		hi = b->text[i].hi > hi ? b->text[i].hi : hi;
	}
	if (hi - lo > UINT32_MAX)
		return -EFBIG;
	b->t->stats.base = lo;
	return 0;
}

static Elf_Scn *find_section(Elf *elf, const char *want, GElf_Shdr *sh)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	const char *name;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, sh) || sh->sh_type == SHT_NOBITS || !sh->sh_size)
			continue;
		name = elf_strptr(elf, shstrndx, sh->sh_name);
		if (name && !strcmp(name, want))
			return scn;
	}
	return NULL;
}

/*
 * An ELF image with one section, name, copied bytes at sh_addr, then
 * SLACK_BYTES of zeros that libdw's overreads land in.
 */
static int make_image(struct src *s, const char *name, const void *bytes, size_t size)
{
	size_t name_len = strlen(name), names_sz = 1 + name_len + 1 + sizeof(".shstrtab");
	size_t shoff = (sizeof(Elf64_Ehdr) + names_sz + 7) & ~(size_t)7;
	size_t data_off = shoff + 3 * sizeof(Elf64_Shdr);
	size_t total = data_off + size + SLACK_BYTES;
	Elf64_Ehdr *eh;
	Elf64_Shdr *sh;
	char *names;

	s->image = calloc(1, total);
	if (!s->image)
		return -ENOMEM;
	eh = (Elf64_Ehdr *)s->image;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_DYN;
	eh->e_machine = EM_X86_64; /* libdw's x86-64 backend gives the ABI's initial rules */
	eh->e_version = EV_CURRENT;
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_shoff = shoff;
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = 3;
	eh->e_shstrndx = 2;
	names = (char *)s->image + sizeof(Elf64_Ehdr);
	memcpy(names + 1, name, name_len);
	memcpy(names + 1 + name_len + 1, ".shstrtab", sizeof(".shstrtab"));
	sh = (Elf64_Shdr *)(s->image + shoff);
	sh[1].sh_name = 1;
	sh[1].sh_type = SHT_PROGBITS;
	sh[1].sh_flags = s->eh ? SHF_ALLOC : 0;
	sh[1].sh_addr = s->sh_addr;
	sh[1].sh_offset = data_off;
	sh[1].sh_size = size;
	sh[1].sh_addralign = 8;
	sh[2].sh_name = (Elf64_Word)(1 + name_len + 1);
	sh[2].sh_type = SHT_STRTAB;
	sh[2].sh_offset = sizeof(Elf64_Ehdr);
	sh[2].sh_size = names_sz;
	sh[2].sh_addralign = 1;
	s->data = s->image + data_off;
	memcpy(s->data, bytes, size);
	s->size = size;
	return 0;
}

/* The checked prefix of the section becomes the section libdw reads. */
static int open_image(struct src *s)
{
	Elf64_Shdr *sh = (Elf64_Shdr *)(s->image + ((Elf64_Ehdr *)s->image)->e_shoff);
	size_t total = (size_t)(s->data - s->image) + s->size + SLACK_BYTES;
	Elf_Scn *scn;
	Elf_Data *d;

	sh[1].sh_size = s->size;
	memset(s->data + s->size, 0, SLACK_BYTES);
	s->elf = elf_memory((char *)s->image, total);
	if (!s->elf)
		return -ENOMEM;
	/* the slack only helps if libelf hands libdw our bytes, not a copy */
	scn = elf_getscn(s->elf, 1);
	d = scn ? elf_rawdata(scn, NULL) : NULL;
	if (!d || d->d_buf != s->data)
		return -EBADMSG;
	if (s->eh) {
		s->cfi = dwarf_getcfi_elf(s->elf);
	} else {
		s->dw = dwarf_begin_elf(s->elf, DWARF_C_READ, NULL);
		s->cfi = s->dw ? dwarf_getcfi(s->dw) : NULL;
	}
	return s->cfi ? 0 : -EBADMSG;
}

static void src_free(struct src *s)
{
	if (s->eh && s->cfi)
		dwarf_cfi_end(s->cfi);
	if (s->dw)
		dwarf_end(s->dw);
	if (s->elf)
		elf_end(s->elf);
	free(s->image);
	free(s->cies);
	free(s->fdes);
	memset(s, 0, sizeof(*s));
}

/* ---- entries -------------------------------------------------------------- */

static __u64 rd(const unsigned char *p, size_t n)
{
	return elf_syms__uint(p, n, false);
}

/* Size of an encoded value's format (DW_EH_PE_*), 0 for the leb128 forms. */
static int enc_size(__u8 enc)
{
	switch (enc & 0x07) {
	case DW_EH_PE_absptr:
		return 8;
	case DW_EH_PE_udata2:
		return 2;
	case DW_EH_PE_udata4:
		return 4;
	case DW_EH_PE_udata8:
		return 8;
	case DW_EH_PE_uleb128:
		return 0;
	default:
		return -1;
	}
}

static bool read_leb(const unsigned char **p, const unsigned char *end, bool sign, __u64 *v)
{
	unsigned shift = 0;
	unsigned char c;

	*v = 0;
	do {
		if (*p >= end || shift >= 64)
			return false;
		c = *(*p)++;
		*v |= (__u64)(c & 0x7f) << shift;
		shift += 7;
	} while (c & 0x80);
	if (sign && shift < 64 && (c & 0x40))
		*v |= ~0ull << shift;
	return true;
}

/* A value of format enc & 0x0f, without its application (pcrel...). */
static bool read_value(const unsigned char **p, const unsigned char *end, __u8 enc, __u64 *v)
{
	int n;

	if ((enc & 0x07) == DW_EH_PE_uleb128)
		return read_leb(p, end, enc & DW_EH_PE_signed, v);
	n = enc_size(enc);
	if (n <= 0 || end - *p < n)
		return false;
	*v = rd(*p, (size_t)n);
	if ((enc & DW_EH_PE_signed) && n < 8 && (*v >> (8 * n - 1) & 1))
		*v |= ~0ull << (8 * n);
	*p += n;
	return true;
}

/*
 * Before dwarf_next_cfi sees a CIE: its augmentation string must be short
 * and made of the letters we and libdw both know, since libdw reads their
 * operands before checking bounds.
 */
static bool cie_header_ok(const struct src *s, size_t off, size_t end)
{
	const unsigned char *p = s->data + off, *e = s->data + end, *nul;
	size_t hdr = rd(p, 4) == 0xffffffffu ? 12 : 4;
	size_t idsz = hdr == 12 ? 8 : 4;
	__u64 id;

	if ((size_t)(e - p) < hdr + idsz + 2)
		return true; /* too short to be a CIE: dwarf_next_cfi says what it is */
	id = rd(p + hdr, idsz);
	if (s->eh ? id != 0 : (idsz == 4 ? id != 0xffffffffu : id != ~0ull))
		return true; /* an FDE */
	p += hdr + idsz + 1; /* version */
	nul = memchr(p, 0, (size_t)(e - p));
	if (!nul || nul - p > MAX_AUG_CHARS)
		return false;
	for (; p < nul; p++)
		if (!strchr("zLRPS", *p))
			return false;
	return true;
}

/* The FDE pointer encoding from a CIE's augmentation ('R'), checked. */
static bool cie_fde_enc(const Dwarf_CIE *c, __u8 *enc)
{
	const unsigned char *p = c->augmentation_data, *end;
	const char *a = c->augmentation;
	__u64 skip;

	*enc = DW_EH_PE_absptr;
	if (!a || !*a)
		return true;
	if (*a != 'z' || !p)
		return false;
	end = p + c->augmentation_data_size;
	for (a++; *a; a++) {
		switch (*a) {
		case 'L':
			if (p >= end)
				return false;
			p++;
			break;
		case 'R':
			if (p >= end)
				return false;
			*enc = *p++;
			break;
		case 'P': {
			const unsigned char *q = p + 1;

			if (p >= end || !read_value(&q, end, p[0], &skip))
				return false;
			p = q;
			break;
		}
		case 'S':
			break;
		default:
			return false;
		}
	}
	return true;
}

static struct cie *find_cie(struct src *s, __u64 off)
{
	size_t lo = 0, hi = s->cie_cnt;

	/* CIEs are recorded in section order: sorted by offset */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->cies[mid].off == off)
			return &s->cies[mid];
		if (s->cies[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * A screen, not an interpreter: libdw grows each frame state to the highest
 * register number an instruction names (up to 2^27 of them, 2 GiB, copied
 * again for every address looked up) and allocates a copy per
 * remember_state. Instructions naming a register past MAX_CFI_REG or
 * nesting deeper than MAX_REMEMBER make the entry malformed. Operands are
 * only skipped; libdw executes what passes.
 */
static bool insns_ok(const unsigned char *p, const unsigned char *end, __u8 fde_enc)
{
	unsigned depth = 0;
	__u64 reg, v;

	while (p < end) {
		unsigned char op = *p++;

		switch (op >> 6) {
		case 1: /* advance_loc */
			continue;
		case 2: /* offset */
			if (!read_leb(&p, end, false, &v))
				return false;
			continue;
		case 3: /* restore */
			continue;
		}
		switch (op) {
		case DW_CFA_nop:
		case DW_CFA_GNU_window_save:
			break;
		case DW_CFA_remember_state:
			if (++depth > MAX_REMEMBER)
				return false;
			break;
		case DW_CFA_restore_state:
			depth -= depth > 0;
			break;
		case DW_CFA_set_loc:
			if (!read_value(&p, end, fde_enc, &v))
				return false;
			break;
		case DW_CFA_advance_loc1:
		case DW_CFA_advance_loc2:
		case DW_CFA_advance_loc4: {
			size_t n = op == DW_CFA_advance_loc1 ? 1 : op == DW_CFA_advance_loc2 ? 2 : 4;

			if ((size_t)(end - p) < n)
				return false;
			p += n;
			break;
		}
		case DW_CFA_def_cfa_offset:
		case DW_CFA_def_cfa_offset_sf:
		case DW_CFA_GNU_args_size:
			if (!read_leb(&p, end, false, &v))
				return false;
			break;
		case DW_CFA_def_cfa_expression:
			if (!read_leb(&p, end, false, &v) || v > (__u64)(end - p))
				return false;
			p += v;
			break;
		case DW_CFA_restore_extended:
		case DW_CFA_undefined:
		case DW_CFA_same_value:
		case DW_CFA_def_cfa_register:
			if (!read_leb(&p, end, false, &reg) || reg > MAX_CFI_REG)
				return false;
			break;
		case DW_CFA_offset_extended:
		case DW_CFA_register:
		case DW_CFA_def_cfa:
		case DW_CFA_offset_extended_sf:
		case DW_CFA_def_cfa_sf:
		case DW_CFA_val_offset:
		case DW_CFA_val_offset_sf:
		case DW_CFA_GNU_negative_offset_extended:
			if (!read_leb(&p, end, false, &reg) || reg > MAX_CFI_REG ||
			    !read_leb(&p, end, false, &v))
				return false;
			if (op == DW_CFA_register && v > MAX_CFI_REG)
				return false;
			break;
		case DW_CFA_expression:
		case DW_CFA_val_expression:
			if (!read_leb(&p, end, false, &reg) || reg > MAX_CFI_REG ||
			    !read_leb(&p, end, false, &v) || v > (__u64)(end - p))
				return false;
			p += v;
			break;
		default:
			/* libdw stops at an opcode it does not know, and so do we:
			 * nothing after it is executed */
			return true;
		}
	}
	return true;
}

/*
 * An FDE's [lo, hi), decoded with its CIE's pointer encoding, and its
 * instructions screened: 1 usable, 0 empty (harmless: never looked up),
 * -1 malformed or in an encoding x86-64 does not use.
 */
static int fde_range(const struct src *s, const Dwarf_FDE *f, const struct cie *c, __u64 *lo,
		     __u64 *hi)
{
	const unsigned char *p = f->start, *end = f->end;
	__u8 enc = c->fde_enc;
	__u64 loc, len, aug;

	if (!p || !end || p < s->data || end > s->data + s->size || p > end)
		return -1;
	if ((enc & 0x70) != DW_EH_PE_absptr && (enc & 0x70) != DW_EH_PE_pcrel)
		return -1; /* textrel, datarel, funcrel, aligned: not on x86-64 */
	if (enc & DW_EH_PE_indirect)
		return -1;
	if (!read_value(&p, end, enc, &loc))
		return -1;
	if ((enc & 0x70) == DW_EH_PE_pcrel)
		loc += s->sh_addr + (__u64)(f->start - s->data);
	if (!read_value(&p, end, enc & 0x0f, &len))
		return -1;
	if (c->sized_aug) {
		if (!read_leb(&p, end, false, &aug) || aug > (__u64)(end - p))
			return -1;
		p += aug;
	}
	if (!insns_ok(p, end, enc))
		return -1;
	if (!len || loc + len < loc)
		return 0;
	*lo = loc;
	*hi = loc + len;
	return 1;
}

/* Every entry in turn, until the end or the first malformed one. */
static int walk(struct src *s, struct build *b)
{
	unsigned char ident[EI_NIDENT] = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB };
	Elf_Data data = { .d_buf = s->data, .d_size = s->size, .d_type = ELF_T_BYTE };
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry e;
	int err, rc;

	s->stopped_at = -1;
	for (;;) {
		if (now_ns() > b->deadline_ns) {
			b->t->stats.truncated = true;
			s->stopped_at = (__s64)off;
			break;
		}
		if (off >= s->size)
			break;
		if (!cie_header_ok(s, off, s->size)) {
			s->stopped_at = (__s64)off;
			break;
		}
		rc = dwarf_next_cfi(ident, &data, s->eh, off, &next, &e);
		if (rc > 0)
			break;
		if (rc < 0 || next <= off || next > s->size) {
			s->stopped_at = (__s64)off;
			break;
		}
		if (dwarf_cfi_cie_p(&e)) {
			__u8 enc;

			if (!cie_fde_enc(&e.cie, &enc) ||
			    !insns_ok(e.cie.initial_instructions, e.cie.initial_instructions_end, enc)) {
				s->stopped_at = (__s64)off;
				break;
			}
			err = grow((void **)&s->cies, &s->cie_cap, s->cie_cnt + 1, sizeof(*s->cies),
				   MAX_FDES);
			if (err == -E2BIG) {
				s->stopped_at = (__s64)off;
				break;
			}
			if (err)
				return err;
			s->cies[s->cie_cnt++] = (struct cie){ off, enc, e.cie.augmentation &&
								e.cie.augmentation[0] == 'z' };
		} else {
			struct cie *c = find_cie(s, e.fde.CIE_pointer);
			__u64 lo, hi;

			/* an FDE whose CIE we did not check would make libdw
			 * read that CIE: malformed, stop before it */
			if (!c) {
				s->stopped_at = (__s64)off;
				break;
			}
			rc = fde_range(s, &e.fde, c, &lo, &hi);
			if (rc < 0) {
				s->stopped_at = (__s64)off;
				break;
			}
			if (rc > 0) {
				err = grow((void **)&s->fdes, &s->fde_cap, s->fde_cnt + 1,
					   sizeof(*s->fdes), MAX_FDES);
				if (err == -E2BIG) {
					s->stopped_at = (__s64)off;
					break;
				}
				if (err)
					return err;
				s->fdes[s->fde_cnt++] = (struct range){ lo, hi, s };
			}
		}
		off = next;
	}
	if (s->stopped_at >= 0)
		s->size = (size_t)s->stopped_at;
	return 0;
}

static int load_src(struct src *s, Elf *elf, const char *name, bool eh, struct build *b)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(elf, name, &sh);
	Elf_Data *d;
	int err;

	s->eh = eh;
	s->stopped_at = -1;
	if (!scn)
		return -ENODATA;
	if (sh.sh_flags & SHF_COMPRESSED) {
		GElf_Chdr ch;

		/* libelf allocates what the header claims: check it first */
		if (!gelf_getchdr(scn, &ch) || ch.ch_size > b->max_cfi_bytes ||
		    elf_compress(scn, 0, 0) < 0)
			return -EBADMSG;
		d = elf_getdata(scn, NULL);
	} else {
		if (sh.sh_size > b->max_cfi_bytes)
			return -EFBIG;
		d = elf_rawdata(scn, NULL);
	}
	if (!d || !d->d_buf || !d->d_size || d->d_size > b->max_cfi_bytes)
		return -EBADMSG;
	s->sh_addr = sh.sh_addr;
	err = make_image(s, name, d->d_buf, d->d_size);
	if (err)
		return err;
	err = walk(s, b);
	if (err)
		return err;
	if (!s->fde_cnt)
		return s->stopped_at >= 0 ? -EBADMSG : -ENODATA;
	return open_image(s);
}

/* ---- ranges ---------------------------------------------------------------- */

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	/* the same start: the source listed first (.eh_frame) wins */
	return x->src < y->src ? -1 : x->src > y->src;
}

/*
 * Appends to out the parts of [lo, hi) inside the text segments and outside
 * every range of cover (sorted, disjoint).
 */
static int add_pieces(struct build *b, __u64 lo, __u64 hi, struct src *s,
		      const struct range *cover, size_t cover_cnt, struct range **out, size_t *cnt,
		      size_t *cap)
{
	size_t i, j;

	for (i = 0; i < b->text_cnt; i++) {
		__u64 a = lo > b->text[i].lo ? lo : b->text[i].lo;
		__u64 z = hi < b->text[i].hi ? hi : b->text[i].hi;
		size_t k = 0, l = cover_cnt;

		if (a >= z)
			continue;
		/* first cover range ending after a */
		while (k < l) {
			size_t m = k + (l - k) / 2;

			if (cover[m].hi <= a)
				k = m + 1;
			else
				l = m;
		}
		for (j = k; a < z; j++) {
			__u64 stop = j < cover_cnt && cover[j].lo < z ? cover[j].lo : z;

			if (a < stop) {
				int err = grow((void **)out, cap, *cnt + 1, sizeof(**out), 4 * MAX_FDES);

				if (err)
					return err;
				(*out)[(*cnt)++] = (struct range){ a, stop, s };
			}
			if (j >= cover_cnt || cover[j].lo >= z)
				break;
			a = cover[j].hi;
		}
	}
	return 0;
}

/*
 * Disjoint, sorted pieces: .eh_frame FDEs (an overlap goes to the one that
 * starts first), then .debug_frame FDEs where .eh_frame has none.
 */
static int plan(struct build *b, struct src *srcs, size_t src_cnt, struct range **out, size_t *cnt)
{
	struct range *cover = NULL, *tmp = NULL;
	size_t cover_cnt = 0, cover_cap = 0, tmp_cnt = 0, tmp_cap = 0, cap = 0, i, k;
	int err = 0;

	*out = NULL;
	*cnt = 0;
	for (k = 0; k < src_cnt; k++) {
		struct src *s = &srcs[k];

		if (!s->cfi)
			continue;
		if (s->fde_cnt)
			qsort(s->fdes, s->fde_cnt, sizeof(*s->fdes), cmp_range);
		/* make this source's ranges disjoint */
		tmp_cnt = 0;
		for (i = 0; i < s->fde_cnt; i++) {
			struct range r = s->fdes[i];

			if (tmp_cnt && r.lo < tmp[tmp_cnt - 1].hi)
				r.lo = tmp[tmp_cnt - 1].hi;
			if (r.lo >= r.hi)
				continue;
			err = grow((void **)&tmp, &tmp_cap, tmp_cnt + 1, sizeof(*tmp), MAX_FDES);
			if (err)
				goto out;
			tmp[tmp_cnt++] = r;
		}
		for (i = 0; i < tmp_cnt; i++) {
			size_t before = *cnt;

			err = add_pieces(b, tmp[i].lo, tmp[i].hi, s, cover, cover_cnt, out, cnt, &cap);
			if (err)
				goto out;
			/* an FDE wholly outside text, or covered, is no error */
			if (*cnt > before && !s->eh)
				b->t->stats.fdes_debug_frame++;
			b->t->stats.fdes += *cnt > before;
		}
		/* what is covered now, for the next source */
		if (*cnt)
			qsort(*out, *cnt, sizeof(**out), cmp_range);
		cover_cnt = 0;
		for (i = 0; i < *cnt; i++) {
			if (cover_cnt && (*out)[i].lo <= cover[cover_cnt - 1].hi) {
				if ((*out)[i].hi > cover[cover_cnt - 1].hi)
					cover[cover_cnt - 1].hi = (*out)[i].hi;
				continue;
			}
			err = grow((void **)&cover, &cover_cap, cover_cnt + 1, sizeof(*cover),
				   4 * MAX_FDES);
			if (err)
				goto out;
			cover[cover_cnt++] = (*out)[i];
		}
	}
out:
	free(cover);
	free(tmp);
	return err;
}

/* ---- rows ------------------------------------------------------------------ */

static void emit(struct build *b, __u64 pc, struct tt_unwind_row r)
{
	struct unwind_table *t = b->t;
	struct tt_unwind_row *last;

	if (b->stop)
		return;
	r.pc_off = (__u32)(pc - t->stats.base);
	if (t->cnt) {
		last = &t->rows[t->cnt - 1];
		if (last->pc_off == r.pc_off) {
			/* an empty row: the new one replaces it */
			t->cnt--;
			if (t->cnt && t->rows[t->cnt - 1].cfa_off == r.cfa_off &&
			    t->rows[t->cnt - 1].rule == r.rule)
				return;
		} else if (last->cfa_off == r.cfa_off && last->rule == r.rule) {
			return;
		}
	}
	/* one slot stays for the closing NO_INFO row */
	if (t->cnt + 2 > b->max_rows ||
	    grow((void **)&t->rows, &b->cap, t->cnt + 1, sizeof(*t->rows), b->max_rows)) {
		b->stop = true;
		t->stats.truncated = true;
		return;
	}
	t->rows[t->cnt++] = r;
}

static void emit_kind(struct build *b, __u64 pc, enum tt_unw_kind kind)
{
	emit(b, pc, (struct tt_unwind_row){ .rule = tt_unw_rule(kind, TT_UNW_RBP_SAME, 0) });
}

static bool fits_s32(__s64 v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/* The CFA rule from libdw's decoded form: reg+off, or the PLT expression. */
static enum tt_unw_kind cfa_rule(Dwarf_Frame *fr, __s32 *off)
{
	Dwarf_Op *op;
	size_t n;
	__s64 o;

	if (dwarf_frame_cfa(fr, &op, &n) || !op)
		return TT_UNW_UNSUPPORTED;
	if (n == 1 && (op[0].atom == DW_OP_bregx || op[0].atom == DW_OP_breg7 ||
		       op[0].atom == DW_OP_breg6)) {
		unsigned reg = op[0].atom == DW_OP_bregx ? (unsigned)op[0].number
							  : (unsigned)(op[0].atom - DW_OP_breg0);

		o = (__s64)(op[0].atom == DW_OP_bregx ? op[0].number2 : op[0].number);
		if (!fits_s32(o) || op[0].number > 0xffff)
			return TT_UNW_UNSUPPORTED;
		*off = (__s32)o;
		return reg == REG_RSP ? TT_UNW_CFA_RSP : reg == REG_RBP ? TT_UNW_CFA_RBP
									: TT_UNW_UNSUPPORTED;
	}
	/* breg7 N; breg16 0; lit15; and; lit11|lit10; ge; lit3; shl; plus */
	if (n == 9 && op[0].atom == DW_OP_breg7 && op[1].atom == DW_OP_breg16 && !op[1].number &&
	    op[2].atom == DW_OP_lit15 && op[3].atom == DW_OP_and &&
	    (op[4].atom == DW_OP_lit11 || op[4].atom == DW_OP_lit10) && op[5].atom == DW_OP_ge &&
	    op[6].atom == DW_OP_lit3 && op[7].atom == DW_OP_shl && op[8].atom == DW_OP_plus) {
		o = (__s64)op[0].number;
		if (!fits_s32(o))
			return TT_UNW_UNSUPPORTED;
		*off = (__s32)o;
		return op[4].atom == DW_OP_lit11 ? TT_UNW_CFA_PLT11 : TT_UNW_CFA_PLT10;
	}
	return TT_UNW_UNSUPPORTED;
}

/* Register rule in libdw's form: 0 same value, 1 at CFA+off, 2 undefined, 3 other. */
static int reg_rule(Dwarf_Frame *fr, int reg, __s64 *off)
{
	Dwarf_Op mem[3], *op;
	size_t n;

	*off = 0;
	if (dwarf_frame_register(fr, reg, mem, &op, &n))
		return 3;
	if (!n)
		return op ? 2 : 0;
	if (op[0].atom != DW_OP_call_frame_cfa)
		return 3;
	if (n == 1)
		return 1;
	if (n == 2 && op[1].atom == DW_OP_plus_uconst) {
		*off = (__s64)op[1].number;
		return 1;
	}
	return 3; /* val_offset (DW_OP_stack_value) */
}

static struct tt_unwind_row frame_row(Dwarf_Frame *fr)
{
	struct tt_unwind_row r = { 0 };
	enum tt_unw_kind kind;
	enum tt_unw_rbp rbp;
	bool signal = false;
	__s64 off;
	__s32 cfa = 0;
	int ra = dwarf_frame_info(fr, NULL, NULL, &signal);

	/* a signal frame's "return address" is the interrupted pc itself */
	if (ra != REG_RA || signal)
		goto unsupported;
	switch (reg_rule(fr, REG_RA, &off)) {
	case 2:
		r.rule = tt_unw_rule(TT_UNW_ROOT, TT_UNW_RBP_SAME, 0);
		return r;
	case 1:
		if (off == -8)
			break;
		goto unsupported;
	default:
		goto unsupported;
	}
	kind = cfa_rule(fr, &cfa);
	if (kind == TT_UNW_UNSUPPORTED)
		goto unsupported;
	switch (reg_rule(fr, REG_RBP, &off)) {
	case 0:
		rbp = TT_UNW_RBP_SAME;
		off = 0;
		break;
	case 1:
		rbp = TT_UNW_RBP_AT_CFA;
		if (off < TT_UNW_RBP_OFF_MIN || off > TT_UNW_RBP_OFF_MAX) {
			rbp = TT_UNW_RBP_UNSUPPORTED;
			off = 0;
		}
		break;
	case 2:
		rbp = TT_UNW_RBP_UNDEFINED;
		off = 0;
		break;
	default:
		rbp = TT_UNW_RBP_UNSUPPORTED;
		off = 0;
		break;
	}
	r.cfa_off = cfa;
	r.rule = tt_unw_rule(kind, rbp, (__s32)off);
	return r;
unsupported:
	r.rule = tt_unw_rule(TT_UNW_UNSUPPORTED, TT_UNW_RBP_SAME, 0);
	return r;
}

/*
 * Rows of one piece [lo, hi), one libdw frame state per row. b->last_end
 * follows what the rows cover, so that a stop at any point (row cap, time)
 * closes the table right there.
 */
static void piece_rows(struct build *b, const struct range *p)
{
	__u64 pc = p->lo, rows = 0, t0 = now_ns(), t;
	Dwarf_Frame *fr;
	Dwarf_Addr end;

	if (b->have_last && b->last_end < p->lo)
		emit_kind(b, b->last_end, TT_UNW_NO_INFO);
	if (b->stop)
		return;
	b->last_end = pc;
	b->have_last = true;
	while (pc < p->hi) {
		t = now_ns();
		if (t > b->deadline_ns) {
			b->stop = true;
			b->t->stats.truncated = true;
			return;
		}
		if (rows >= b->max_fde_rows || t - t0 > b->max_fde_ns) {
			b->t->stats.fdes_cut++;
			emit_kind(b, pc, TT_UNW_UNSUPPORTED);
			end = p->hi;
		} else if (dwarf_cfi_addrframe(p->src->cfi, pc, &fr) || !fr) {
			/* libdw finds no FDE where we decoded one: no table here */
			b->t->stats.fdes_skipped++;
			emit_kind(b, pc, TT_UNW_NO_INFO);
			end = p->hi;
		} else {
			emit(b, pc, frame_row(fr));
			if (dwarf_frame_info(fr, NULL, &end, NULL) < 0 || end <= pc) {
				/* not with libdw's rules; never loop on it */
				if (!b->stop && pc + 1 < p->hi)
					emit_kind(b, pc + 1, TT_UNW_UNSUPPORTED);
				end = p->hi;
			}
			free(fr);
			rows++;
		}
		if (b->stop)
			return;
		pc = end < p->hi ? end : p->hi;
		b->last_end = pc;
	}
}

/* ---- the object ------------------------------------------------------------ */

#define OPT(o, f, def) ((o) && (o)->sz >= offsetof(struct unwind_table_opts, f) + sizeof((o)->f) && (o)->f ? (o)->f : (def))

static int build(int fd, const struct unwind_table_opts *opts, struct unwind_table **out)
{
	struct src srcs[3] = { 0 };
	struct build b = { 0 };
	struct range *pieces = NULL;
	size_t piece_cnt = 0, i;
	Elf *elf = NULL, *dbg_elf = NULL;
	const char *debug_path = OPT(opts, debug_path, NULL);
	int dbg_fd = -1, err, err_eh, err_df, err_dbg = -ENODATA;

	*out = NULL;
	b.max_rows = OPT(opts, max_rows, UNWIND_TABLE_MAX_ROWS);
	b.max_fde_rows = OPT(opts, max_fde_rows, UNWIND_TABLE_MAX_FDE_ROWS);
	b.max_fde_ns = OPT(opts, max_fde_ns, UNWIND_TABLE_MAX_FDE_NS);
	b.max_total_ns = OPT(opts, max_total_ns, UNWIND_TABLE_MAX_TOTAL_NS);
	b.max_cfi_bytes = OPT(opts, max_cfi_bytes, UNWIND_TABLE_MAX_CFI_BYTES);
	if (b.max_rows < 2)
		b.max_rows = 2;
	b.t0_ns = now_ns();
	b.deadline_ns = b.t0_ns + b.max_total_ns;
	b.t = calloc(1, sizeof(*b.t));
	if (!b.t)
		return -ENOMEM;
	b.t->stats.stopped_at_eh_frame = -1;
	b.t->stats.stopped_at_debug_frame = -1;

	err = open_elf(fd, &elf);
	if (err)
		goto cleanup;
	err = text_segments(elf, &b);
	if (err)
		goto cleanup;

	/* in precedence order: plan() lets earlier sources win */
	err_eh = load_src(&srcs[0], elf, ".eh_frame", true, &b);
	err_df = load_src(&srcs[1], elf, ".debug_frame", false, &b);
	if (debug_path) {
		dbg_fd = open(debug_path, O_RDONLY | O_CLOEXEC);
		err_dbg = dbg_fd < 0 ? -errno : open_elf(dbg_fd, &dbg_elf);
		if (!err_dbg)
			err_dbg = load_src(&srcs[2], dbg_elf, ".debug_frame", false, &b);
	}
	b.t->stats.stopped_at_eh_frame = srcs[0].stopped_at;
	b.t->stats.stopped_at_debug_frame =
		srcs[1].stopped_at >= 0 ? srcs[1].stopped_at : srcs[2].stopped_at;
	if (!srcs[0].cfi && !srcs[1].cfi && !srcs[2].cfi) {
		/* the most telling reason: a broken section over a missing one */
		err = err_eh != -ENODATA ? err_eh : err_df != -ENODATA ? err_df : err_dbg;
		if (err == -ENODATA && b.t->stats.truncated)
			err = -ETIMEDOUT;
		goto cleanup;
	}

	err = plan(&b, srcs, 3, &pieces, &piece_cnt);
	if (err)
		goto cleanup;
	if (!piece_cnt) {
		err = -ENODATA; /* FDEs, but none inside an executable segment */
		goto cleanup;
	}
	for (i = 0; i < piece_cnt && !b.stop; i++)
		piece_rows(&b, &pieces[i]);
	if (!b.t->cnt) {
		err = b.t->stats.truncated ? -ETIMEDOUT : -ENODATA;
		goto cleanup;
	}
	/* the closing row, in the slot emit() kept free; a stop before any row
	 * of the last piece leaves last_end on a row's start: replace that row */
	if (b.t->rows[b.t->cnt - 1].pc_off == (__u32)(b.last_end - b.t->stats.base))
		b.t->cnt--;
	if (!b.t->cnt || tt_unw_kind(&b.t->rows[b.t->cnt - 1]) != TT_UNW_NO_INFO) {
		if (b.t->cnt + 1 > b.cap && grow((void **)&b.t->rows, &b.cap, b.t->cnt + 1,
						 sizeof(*b.t->rows), b.max_rows)) {
			err = -ENOMEM;
			goto cleanup;
		}
		b.t->rows[b.t->cnt++] = (struct tt_unwind_row){
			.pc_off = (__u32)(b.last_end - b.t->stats.base),
			.rule = tt_unw_rule(TT_UNW_NO_INFO, TT_UNW_RBP_SAME, 0),
		};
	}
	if (b.cap > b.t->cnt) {
		struct tt_unwind_row *r = realloc(b.t->rows, b.t->cnt * sizeof(*r));

		if (r)
			b.t->rows = r;
	}
	for (i = 0; i < b.t->cnt; i++)
		b.t->stats.rows_unsupported += tt_unw_kind(&b.t->rows[i]) == TT_UNW_UNSUPPORTED;
	b.t->stats.build_ns = now_ns() - b.t0_ns;
	*out = b.t;
	b.t = NULL;
	err = 0;

cleanup:
	free(pieces);
	for (i = 0; i < 3; i++)
		src_free(&srcs[i]);
	if (dbg_elf)
		elf_end(dbg_elf);
	if (dbg_fd >= 0)
		close(dbg_fd);
	if (elf)
		elf_end(elf);
	if (b.t)
		unwind_table__free(b.t);
	return err;
}

int unwind_table__build_fd(int fd, const struct unwind_table_opts *opts, struct unwind_table **out)
{
	if (!out || fd < 0)
		return -EINVAL;
	return build(fd, opts, out);
}

int unwind_table__build(const char *path, const struct unwind_table_opts *opts,
			struct unwind_table **out)
{
	int fd, err;

	if (!out || !path)
		return -EINVAL;
	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = build(fd, opts, out);
	close(fd);
	return err;
}

const struct tt_unwind_row *unwind_table__rows(const struct unwind_table *t, size_t *cnt)
{
	*cnt = t ? t->cnt : 0;
	return t ? t->rows : NULL;
}

const struct tt_unwind_row *unwind_table__find(const struct unwind_table *t, __u64 addr)
{
	size_t lo = 0, hi;
	__u64 off;

	if (!t || !t->cnt || addr < t->stats.base || addr - t->stats.base > UINT32_MAX)
		return NULL;
	off = addr - t->stats.base;
	if (off < t->rows[0].pc_off)
		return NULL;
	/* the last row with pc_off <= off (the BPF side will loop the same way) */
	hi = t->cnt;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->rows[mid].pc_off <= off)
			lo = mid;
		else
			hi = mid;
	}
	return &t->rows[lo];
}

__u64 unwind_table__base(const struct unwind_table *t)
{
	return t ? t->stats.base : 0;
}

const struct unwind_table_stats *unwind_table__stats(const struct unwind_table *t)
{
	return t ? &t->stats : NULL;
}

size_t unwind_table__bytes(const struct unwind_table *t)
{
	return t ? sizeof(*t) + t->cnt * sizeof(*t->rows) : 0;
}

void unwind_table__free(struct unwind_table *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t);
}

uint64_t unwind_table__rows_estimate(Elf *elf)
{
	static const char *const names[] = { ".eh_frame", ".debug_frame" };
	uint64_t bytes = 0;
	GElf_Shdr sh;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (find_section(elf, names[i], &sh))
			bytes += sh.sh_size < UNWIND_TABLE_MAX_CFI_BYTES ? sh.sh_size
									 : UNWIND_TABLE_MAX_CFI_BYTES;
	return bytes / UNWIND_TABLE_CFI_BYTES_PER_ROW;
}

const char *unwind_kind__str(enum tt_unw_kind kind)
{
	static const char *const names[] = {
		[TT_UNW_NO_INFO] = "no-info",	  [TT_UNW_CFA_RSP] = "rsp",
		[TT_UNW_CFA_RBP] = "rbp",	  [TT_UNW_CFA_PLT11] = "plt11",
		[TT_UNW_CFA_PLT10] = "plt10",	  [TT_UNW_ROOT] = "root",
		[TT_UNW_UNSUPPORTED] = "unsupported",
	};

	return (unsigned)kind < TT_UNW_KIND_CNT ? names[kind] : "?";
}
