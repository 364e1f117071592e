// SPDX-License-Identifier: Apache-2.0
/*
 * Addresses to module, symbol and file:line. See symbolize.h.
 *
 * ip → mapping (start, end, file offset) → file offset → link-time address
 * through the file's PT_LOAD headers → symbol (sorted array, binary search)
 * and file:line (libdw's line tables, found through a sorted table of CU
 * address ranges).
 *
 * Files are read with ELF_C_READ (pread into memory), never mmap: the target
 * can truncate a file it maps, and a mapping of ours past the new end would
 * kill us with SIGBUS.
 *
 * A file is opened and parsed once for all the symbolizers that map it (one
 * per process with -f): modules are shared through a process-wide table keyed
 * by the opened file's identity (see "shared modules" below) and counted; a
 * symbolizer holds one reference to each module in its mods[], and only its
 * mappings (where each file is loaded in its process) are its own.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <limits.h>
#include <linux/openat2.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>
#include "elf_syms.h"
#include "symbolize.h"

/*
 * C++ names are demangled by libstdc++'s __cxa_demangle (the Itanium C++ ABI
 * demangler, the same code as GCC's libiberty cp-demangle, which bounds its
 * recursion). Declared here rather than through <cxxabi.h>, which is C++:
 * anything linking this file needs -lstdc++.
 */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* Bounds on what a hostile target can make us hold or do. */
#define MAX_SYMS	  (4u << 20)	  /* function symbols per module */
#define MAX_PATH_LEN	  4096		  /* any path, with its NUL */
#define MAX_MANGLED	  4096		  /* longer names stay mangled */
#define MAX_NAME	  (64u << 10)	  /* demangled names, file names */
#define MAX_BUILD_ID	  64		  /* bytes; SHA-1 ids have 20 */
#define MAX_SEGS	  64		  /* PT_LOAD headers kept per module */
#define MAX_NOTE_BYTES	  (1u << 20)
#define MAX_MAPPINGS	  (1u << 16)	  /* executable file mappings kept */
#define MAX_MODULES	  (1u << 14)	  /* open files */
#define MAX_UNITS	  (1u << 20)	  /* DWARF units scanned per module */
#define MAX_CU_RANGES	  (1u << 21)
#define MAX_UNIT_RANGES	  (1u << 16)
#define MAX_DEBUG_SECTION (1ull << 30)	  /* uncompressed size libdw may inflate */
#define MAX_CRC_BYTES	  (4ull << 30)	  /* debuglink files we checksum */
#define MAX_MAPS_LINES	  (1u << 20)
#define MAX_XZ_IN	  (64ull << 20)	  /* .gnu_debugdata, compressed */
#define MAX_XZ_OUT	  (256ull << 20)  /* and decompressed; beyond: ignored */
#define XZ_MEMLIMIT	  (128ull << 20)  /* liblzma's own memory (xz -9 needs 65 MiB) */
#define UNSIZED_SPAN	  4096		  /* reach of a size-0 symbol nothing bounds */
#define MAX_DIE_DEPTH	  64		  /* DIE nesting followed down to an address */
#define MAX_DIE_VISITS	  (1u << 20)	  /* DIEs looked at for one address */
#define MAX_CHAINS	  (1u << 16)	  /* inline chains cached per module */
#define DEBUG_DIR	  "/usr/lib/debug"

/* ---- interned strings --------------------------------------------------- */

struct chunk {
	struct chunk *next;
	size_t used, cap;
	char data[];
};

struct slot {
	const char *str;
	uint64_t hash;
};

/* Strings live in chunks that never move, so pointers handed out stay valid. */
struct strpool {
	struct chunk *chunks;
	struct slot *slots; /* open addressing; str NULL = empty */
	size_t nr, mask;
};

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int strpool__grow(struct strpool *p)
{
	size_t cap = p->slots ? (p->mask + 1) * 2 : 64, i, j;
	struct slot *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; p->slots && i <= p->mask; i++) {
		if (!p->slots[i].str)
			continue;
		for (j = p->slots[i].hash & (cap - 1); slots[j].str; j = (j + 1) & (cap - 1))
			;
		slots[j] = p->slots[i];
	}
	free(p->slots);
	p->slots = slots;
	p->mask = cap - 1;
	return 0;
}

/* The pool's copy of str[0..len), NUL-terminated; NULL when out of memory. */
static const char *strpool__intern(struct strpool *p, const char *str, size_t len)
{
	uint64_t h = hash_bytes(str, len);
	struct chunk *c = p->chunks;
	size_t i;
	char *copy;

	if (len >= MAX_NAME)
		return NULL;
	if ((!p->slots || (p->nr + 1) * 2 > p->mask + 1) && strpool__grow(p))
		return NULL;
	for (i = h & p->mask; p->slots[i].str; i = (i + 1) & p->mask)
		if (p->slots[i].hash == h && !strncmp(p->slots[i].str, str, len) &&
		    !p->slots[i].str[len])
			return p->slots[i].str;
	if (!c || c->cap - c->used < len + 1) {
		/* small at first: a symbolizer's pool holds a few paths */
		size_t cap = !c ? 1024 : c->cap < 16384 ? c->cap * 2 : 16384;

		if (cap < len + 1)
			cap = len + 1;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = p->chunks;
		p->chunks = c;
	}
	copy = c->data + c->used;
	memcpy(copy, str, len);
	copy[len] = '\0';
	c->used += len + 1;
	p->slots[i].str = copy;
	p->slots[i].hash = h;
	p->nr++;
	return copy;
}

static void strpool__free(struct strpool *p)
{
	struct chunk *c, *next;

	for (c = p->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	free(p->slots);
	memset(p, 0, sizeof(*p));
}

/* ---- modules ------------------------------------------------------------ */

struct seg {
	uint64_t off, vaddr, filesz, memsz;
};

struct sym {
	uint64_t start, end; /* [start, end) */
	const char *name;    /* in a string table of elf or dbg_elf, or in strs */
};

struct cu_range {
	uint64_t lo, hi;
	Dwarf_Die cu;
};

/* A frame of an inline chain, as cached: no per-address fields. */
struct inl_frame {
	const char *name; /* in strs, or NULL */
	const char *file; /* in strs, or NULL */
	int line;
};

/* The chain at one link-time address: nr inlined frames innermost first,
 * then f[nr], the real function's file:line (its name is the symbol's). */
struct inl_chain {
	uint64_t vaddr;
	size_t nr;
	struct inl_frame f[];
};

/*
 * One ELF file, shared by every mapping of it, in every symbolizer. Nothing in
 * it depends on where a process loaded the file: addresses here are the
 * file's link-time ones.
 */
struct module {
	struct module *next;	/* in its bucket of the shared table */
	size_t refs;		/* symbolizers holding it */
	int fd;
	Elf *elf;		/* NULL when the file is not usable ELF */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	/* where its debug files are looked for (shared_find compares all but
	 * path): */
	char *path;		/* the first name seen; its directory is .gnu_debuglink's */
	bool in_root;		/* path is in the target's root, root_dev/root_ino */
	dev_t root_dev;
	ino_t root_ino;
	char *debug_root;	/* the symbolizer's, when the file was first met */
	uint8_t build_id[MAX_BUILD_ID];
	size_t build_id_len;
	struct seg *segs;	/* PT_LOAD */
	size_t nr_segs;

	bool loaded;		/* symbols and DWARF looked for */
	int dbg_fd;		/* separate debug file, or -1 */
	Elf *dbg_elf;
	Dwarf *dw;
	void *mini_buf;		/* .gnu_debugdata decompressed, under mini_elf */
	Elf *mini_elf;		/* MiniDebugInfo: its .symtab, or NULL */
	struct sym *syms;	/* by start, distinct starts */
	size_t nr_syms;
	uint8_t *tidied;	/* bit per symbol: name already demangled */
	struct cu_range *cus;	/* by lo */
	size_t nr_cus;
	bool cus_built;
	struct inl_chain **chains; /* open addressing by vaddr; NULL = empty */
	size_t nr_chains, chains_mask;
	struct strpool strs;
};

struct mapping {
	uint64_t start, end, pgoff;
	uint64_t ino;
	unsigned int dev_major, dev_minor;
	const char *path;	/* in symbolizer.paths */
	struct module *mod;	/* NULL when the file could not be opened */
};

struct symbolizer {
	int pid;
	uint64_t start_time;	/* tells the target from a later process with its pid */
	int root_fd;		/* the target's root when it is not ours, else -1 */
	dev_t root_dev;		/* and its identity, when root_fd >= 0 */
	ino_t root_ino;
	char *debug_root;	/* prefix of DEBUG_DIR on our side; NULL: none */
	struct mapping *maps;	/* by start, not overlapping */
	size_t nr_maps, cap_maps;
	struct module **mods;	/* a reference to each */
	size_t nr_mods, cap_mods;
	struct strpool paths;
};

/* ---- files -------------------------------------------------------------- */

/*
 * Opens a regular file read-only: O_NONBLOCK so that a FIFO planted where a
 * debug file is expected cannot block us, and anything but a regular file is
 * refused. With root_fd >= 0, path is resolved inside that root, absolute
 * symlinks included (openat2 RESOLVE_IN_ROOT; before Linux 5.6 a plain openat
 * relative to it, where absolute symlinks escape to our root: what is found
 * is still checked by build-id or CRC before use).
 */
static int open_regular(int root_fd, const char *path)
{
	int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	struct stat st;
	int fd;

	if (root_fd >= 0) {
		struct open_how how = {
			.flags = flags,
			.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
		};

		fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
		if (fd < 0 && errno == ENOSYS)
			fd = openat(root_fd, path[0] == '/' ? path + 1 : path, flags);
	} else {
		fd = open(path, flags);
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* An Elf handle on fd for an executable or shared object, or NULL. */
static Elf *elf_open_fd(int fd, uint64_t size)
{
	GElf_Ehdr eh;
	Elf *elf;

	if (!elf_syms__header_sane(fd, size))
		return NULL;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return NULL;
	/* ET_REL symbols are section-relative: no link-time address to map */
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)) {
		elf_end(elf);
		return NULL;
	}
	return elf;
}

static const char *section_name(Elf *elf, size_t shstrndx, const GElf_Shdr *sh)
{
	/* elf_strptr checks the index, the type and the termination */
	return shstrndx ? elf_strptr(elf, shstrndx, sh->sh_name) : NULL;
}

static size_t shstrndx_of(Elf *elf)
{
	size_t ndx;

	return elf_getshdrstrndx(elf, &ndx) ? 0 : ndx;
}

static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *sh)
{
	size_t shstrndx = shstrndx_of(elf);
	Elf_Scn *scn = NULL;
	const char *n;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, sh))
			continue;
		n = section_name(elf, shstrndx, sh);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

static bool has_symtab(Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB && sh.sh_size)
			return true;
	return false;
}

static bool has_dwarf(Elf *elf)
{
	GElf_Shdr sh;

	return (find_section(elf, ".debug_info", &sh) || find_section(elf, ".zdebug_info", &sh)) &&
	       sh.sh_type != SHT_NOBITS && sh.sh_size;
}

/*
 * Makes a file's DWARF safe to hand to libdw, or says it is not:
 *  - libdw inflates compressed sections to whatever size their header claims:
 *    refuse more than MAX_DEBUG_SECTION, and inflate them here first (libdw
 *    then finds them inflated) so that the checks below see the real bytes;
 *  - GNU-style .zdebug sections cannot be told inflated from not: refused;
 *  - libdw takes the string sections to be NUL-terminated (strlen on
 *    DW_FORM_strp/line_strp): refuse them when they are not;
 *  - from .gnu_debugaltlink libdw would open() a path the file names (a FIFO
 *    there blocks for ever, a device may act on open): hide the section from
 *    it (dwz "alt" files are not supported). The header is only changed in
 *    memory: the descriptor is read-only and elf_update() is never called.
 */
static bool prepare_dwarf(Elf *elf)
{
	size_t shstrndx = shstrndx_of(elf);
	Elf_Scn *scn = NULL;
	Elf_Data *data;
	const char *name;
	GElf_Shdr sh;
	GElf_Chdr ch;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || !(name = section_name(elf, shstrndx, &sh)))
			continue;
		if (!strncmp(name, ".zdebug", 7))
			return false;
		if (!strcmp(name, ".gnu_debugaltlink")) {
			sh.sh_type = SHT_NOBITS;
			if (!gelf_update_shdr(scn, &sh))
				return false;
			continue;
		}
		if (strncmp(name, ".debug_", 7) || sh.sh_type == SHT_NOBITS)
			continue;
		if (sh.sh_flags & SHF_COMPRESSED) {
			if (!gelf_getchdr(scn, &ch) || ch.ch_size > MAX_DEBUG_SECTION ||
			    elf_compress(scn, 0, 0) < 0)
				return false;
		}
		if (strcmp(name, ".debug_str") && strcmp(name, ".debug_line_str"))
			continue;
		data = elf_getdata(scn, NULL);
		if (data && data->d_size &&
		    (!data->d_buf || ((const char *)data->d_buf)[data->d_size - 1]))
			return false;
	}
	return true;
}

/* NT_GNU_BUILD_ID from one block of notes; gelf_getnote bounds each note. */
static bool build_id_in(Elf_Data *data, uint8_t *id, size_t *len)
{
	size_t off = 0, next, name_off, desc_off;
	GElf_Nhdr nh;

	if (!data || !data->d_buf)
		return false;
	while (off < data->d_size && (next = gelf_getnote(data, off, &nh, &name_off, &desc_off))) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == sizeof(ELF_NOTE_GNU) &&
		    !memcmp((char *)data->d_buf + name_off, ELF_NOTE_GNU, sizeof(ELF_NOTE_GNU)) &&
		    nh.n_descsz > 0 && nh.n_descsz <= MAX_BUILD_ID) {
			memcpy(id, (char *)data->d_buf + desc_off, nh.n_descsz);
			*len = nh.n_descsz;
			return true;
		}
		if (next <= off)
			break;
		off = next;
	}
	return false;
}

/* From PT_NOTE segments (present even when section headers are stripped),
 * else from SHT_NOTE sections (what debug files keep). */
static size_t read_build_id(Elf *elf, uint8_t *id)
{
	size_t n, i, len = 0;
	Elf_Scn *scn = NULL;
	GElf_Phdr ph;
	GElf_Shdr sh;

	if (elf_getphdrnum(elf, &n))
		n = 0;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE ||
		    !ph.p_filesz || ph.p_filesz > MAX_NOTE_BYTES)
			continue;
		if (build_id_in(elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz,
						     ph.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR),
				id, &len))
			return len;
	}
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_NOTE && sh.sh_size <= MAX_NOTE_BYTES &&
		    build_id_in(elf_getdata(scn, NULL), id, &len))
			return len;
	return 0;
}

/* .gnu_debuglink: a file name, NUL, padding to 4, CRC-32 in file byte order. */
static bool read_debuglink(Elf *elf, char *name, size_t name_cap, uint32_t *crc)
{
	const unsigned char *p;
	Elf_Data *data;
	Elf_Scn *scn;
	GElf_Ehdr eh;
	GElf_Shdr sh;
	size_t len, crc_off;

	scn = find_section(elf, ".gnu_debuglink", &sh);
	if (!scn || sh.sh_type == SHT_NOBITS || !gelf_getehdr(elf, &eh))
		return false;
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf || !data->d_size)
		return false;
	p = data->d_buf;
	len = strnlen((const char *)p, data->d_size);
	crc_off = (len + 4) & ~(size_t)3;
	if (len == data->d_size || !len || len >= name_cap || data->d_size < 4 ||
	    crc_off > data->d_size - 4)
		return false;
	memcpy(name, p, len + 1);
	/* a bare file name: nothing that leaves the directories we look in */
	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	*crc = (uint32_t)elf_syms__uint(p + crc_off, 4, eh.e_ident[EI_DATA] == ELFDATA2MSB);
	return true;
}

/* The GNU debuglink checksum is zlib's CRC-32 over the whole file. */
static bool file_crc(int fd, uint64_t size, uint32_t *out)
{
	const size_t bufsz = 1 << 16;
	uLong crc = crc32(0, Z_NULL, 0);
	unsigned char *buf;
	uint64_t off = 0;
	ssize_t n;

	if (size > MAX_CRC_BYTES || !(buf = malloc(bufsz)))
		return false;
	while (off < size) {
		/* no further than the size we checked: the file may grow */
		n = pread(fd, buf, size - off < bufsz ? (size_t)(size - off) : bufsz, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		crc = crc32(crc, buf, (uInt)n);
		off += (uint64_t)n;
	}
	free(buf);
	*out = (uint32_t)crc;
	return off >= size;
}

/* ---- separate debug files ----------------------------------------------- */

struct dbg_want {
	bool by_crc; /* found through .gnu_debuglink: crc must match */
	uint32_t crc;
};

/* Takes fd as m's debug file if it is one, else closes it. */
static bool accept_debug(struct module *m, int fd, const struct dbg_want *want)
{
	uint8_t id[MAX_BUILD_ID];
	struct stat st;
	size_t id_len;
	uint32_t crc;
	Elf *elf = NULL;

	if (fstat(fd, &st) || (st.st_dev == m->dev && st.st_ino == m->ino))
		goto reject;
	elf = elf_open_fd(fd, (uint64_t)st.st_size);
	if (!elf)
		goto reject;
	id_len = read_build_id(elf, id);
	if (id_len && m->build_id_len &&
	    (id_len != m->build_id_len || memcmp(id, m->build_id, id_len)))
		goto reject;
	if (!want->by_crc && !id_len)
		goto reject;
	if (want->by_crc && (!file_crc(fd, (uint64_t)st.st_size, &crc) || crc != want->crc))
		goto reject;
	if (!has_symtab(elf) && !has_dwarf(elf))
		goto reject;
	m->dbg_fd = fd;
	m->dbg_elf = elf;
	return true;
reject:
	if (elf)
		elf_end(elf);
	close(fd);
	return false;
}

/*
 * One candidate path. For a module of a target whose root is not ours it is
 * looked for in the target's root first (s's: the same root as every holder
 * of m), then on our side; global candidates (under DEBUG_DIR) take m's debug
 * root prefix on our side only.
 */
static bool try_debug_path(struct symbolizer *s, struct module *m, const char *path,
			   bool global, const struct dbg_want *want)
{
	char buf[MAX_PATH_LEN];
	int fd;

	/* every holder of an in_root module has a root_fd on that root */
	if (m->in_root && s->root_fd >= 0) {
		fd = open_regular(s->root_fd, path);
		if (fd >= 0 && accept_debug(m, fd, want))
			return true;
	}
	if (global && m->debug_root) {
		if (snprintf(buf, sizeof(buf), "%s%s", m->debug_root, path) >= (int)sizeof(buf))
			return false;
		path = buf;
	}
	fd = open_regular(-1, path);
	return fd >= 0 && accept_debug(m, fd, want);
}

static void find_debug_file(struct symbolizer *s, struct module *m)
{
	struct dbg_want want = { 0 };
	char path[MAX_PATH_LEN], name[256];
	const char *slash, *dir;
	int dir_len, n;
	size_t i;

	if (m->build_id_len >= 2) {
		n = snprintf(path, sizeof(path), DEBUG_DIR "/.build-id/%02x/", m->build_id[0]);
		for (i = 1; i < m->build_id_len; i++)
			n += snprintf(path + n, sizeof(path) - (size_t)n, "%02x", m->build_id[i]);
		snprintf(path + n, sizeof(path) - (size_t)n, ".debug");
		if (try_debug_path(s, m, path, true, &want))
			return;
	}
	want.by_crc = true;
	if (!read_debuglink(m->elf, name, sizeof(name), &want.crc))
		return;
	slash = strrchr(m->path, '/');
	dir = slash ? m->path : ".";
	dir_len = slash ? (int)(slash - m->path) : 1;

	/* next to the file, in .debug/ beside it, under DEBUG_DIR/<its dir>/ */
	if (snprintf(path, sizeof(path), "%.*s/%s", dir_len, dir, name) < (int)sizeof(path) &&
	    try_debug_path(s, m, path, false, &want))
		return;
	if (snprintf(path, sizeof(path), "%.*s/.debug/%s", dir_len, dir, name) < (int)sizeof(path) &&
	    try_debug_path(s, m, path, false, &want))
		return;
	if (dir[0] == '/' &&
	    snprintf(path, sizeof(path), DEBUG_DIR "%.*s/%s", dir_len, dir, name) < (int)sizeof(path))
		try_debug_path(s, m, path, true, &want);
}

/* ---- MiniDebugInfo ------------------------------------------------------ */

/*
 * Whether the section and program header tables an in-memory ELF header
 * claims fit in its len bytes, extended numbering included: the memory
 * counterpart of elf_syms__header_sane(), before elf_memory() is let at it.
 */
static bool table_fits(uint64_t off, uint64_t entsize, uint64_t num, uint64_t min, size_t len)
{
	return !num || (entsize >= min && off <= len && num <= (len - off) / entsize);
}

static bool mem_header_sane(const unsigned char *p, size_t len)
{
	uint64_t phoff, shoff, phentsize, shentsize, phnum, shnum;
	bool msb, is64;

	if (len < EI_NIDENT || memcmp(p, ELFMAG, SELFMAG) ||
	    (p[EI_CLASS] != ELFCLASS64 && p[EI_CLASS] != ELFCLASS32) ||
	    (p[EI_DATA] != ELFDATA2LSB && p[EI_DATA] != ELFDATA2MSB))
		return false;
	msb = p[EI_DATA] == ELFDATA2MSB;
	is64 = p[EI_CLASS] == ELFCLASS64;
	if (len < (is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return false;
	phoff = elf_syms__uint(p + (is64 ? 32 : 28), is64 ? 8 : 4, msb);
	shoff = elf_syms__uint(p + (is64 ? 40 : 32), is64 ? 8 : 4, msb);
	phentsize = elf_syms__uint(p + (is64 ? 54 : 42), 2, msb);
	phnum = elf_syms__uint(p + (is64 ? 56 : 44), 2, msb);
	shentsize = elf_syms__uint(p + (is64 ? 58 : 46), 2, msb);
	shnum = elf_syms__uint(p + (is64 ? 60 : 48), 2, msb);
	if (shoff && (shnum == 0 || phnum == PN_XNUM)) {
		/* the real counts are in section 0 */
		if (!table_fits(shoff, shentsize, 1, is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr),
				len))
			return false;
		if (!shnum)
			shnum = elf_syms__uint(p + shoff + (is64 ? 32 : 20), is64 ? 8 : 4, msb);
		if (phnum == PN_XNUM)
			phnum = elf_syms__uint(p + shoff + (is64 ? 44 : 28), 4, msb);
	}
	return table_fits(shoff, shentsize, shnum, is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr),
			  len) &&
	       table_fits(phoff, phentsize, phnum, is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr),
			  len);
}

/*
 * .gnu_debugdata (MiniDebugInfo, as Fedora ships): an xz-compressed ELF
 * whose .symtab has the function symbols .dynsym lacks. Decompressed into
 * memory within MAX_XZ_OUT; a section that is larger, does not decompress
 * whole with a good check, or is not an ELF file of the module's kind is
 * ignored. Returns the output (malloc'd, *len bytes) or NULL.
 */
static void *xz_decompress(const uint8_t *in, size_t in_len, size_t *len)
{
	lzma_stream strm = LZMA_STREAM_INIT;
	size_t cap = in_len < (1u << 18) ? (1u << 20) : in_len * 4;
	uint8_t *out = NULL, *v;
	lzma_ret ret;

	if (cap > MAX_XZ_OUT)
		cap = MAX_XZ_OUT;
	if (lzma_stream_decoder(&strm, XZ_MEMLIMIT, 0) != LZMA_OK)
		return NULL;
	out = malloc(cap);
	if (!out)
		goto fail;
	strm.next_in = in;
	strm.avail_in = in_len;
	strm.next_out = out;
	strm.avail_out = cap;
	for (;;) {
		ret = lzma_code(&strm, LZMA_FINISH);
		if (ret == LZMA_STREAM_END)
			break;
		if (ret != LZMA_OK && ret != LZMA_BUF_ERROR)
			goto fail;
		if (strm.avail_out) /* no output room missing: input ended early */
			goto fail;
		if (cap >= MAX_XZ_OUT)
			goto fail;
		cap = cap * 2 > MAX_XZ_OUT ? MAX_XZ_OUT : cap * 2;
		v = realloc(out, cap);
		if (!v)
			goto fail;
		out = v;
		strm.next_out = out + strm.total_out;
		strm.avail_out = cap - strm.total_out;
	}
	*len = strm.total_out;
	lzma_end(&strm);
	return out;
fail:
	lzma_end(&strm);
	free(out);
	return NULL;
}

static void load_mini_debuginfo(struct module *m)
{
	GElf_Ehdr eh, meh;
	Elf_Data *data;
	GElf_Shdr sh;
	Elf_Scn *scn;
	size_t len = 0;
	void *buf;
	Elf *elf;

	scn = find_section(m->elf, ".gnu_debugdata", &sh);
	if (!scn || sh.sh_type == SHT_NOBITS || !sh.sh_size || sh.sh_size > MAX_XZ_IN ||
	    !gelf_getehdr(m->elf, &eh))
		return;
	data = elf_rawdata(scn, NULL);
	if (!data || !data->d_buf || !data->d_size || data->d_size > MAX_XZ_IN)
		return;
	buf = xz_decompress(data->d_buf, data->d_size, &len);
	if (!buf)
		return;
	if (!mem_header_sane(buf, len) || !(elf = elf_memory(buf, len))) {
		free(buf);
		return;
	}
	/* the file's own kind: its link-time addresses are the module's */
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &meh) ||
	    meh.e_ident[EI_CLASS] != eh.e_ident[EI_CLASS] ||
	    meh.e_ident[EI_DATA] != eh.e_ident[EI_DATA] || meh.e_machine != eh.e_machine ||
	    (meh.e_type != ET_EXEC && meh.e_type != ET_DYN) || !has_symtab(elf)) {
		elf_end(elf);
		free(buf);
		return;
	}
	m->mini_buf = buf;
	m->mini_elf = elf;
}

/* ---- symbols ------------------------------------------------------------ */

struct tsym {
	uint64_t start, size, bound; /* bound: end of its section or segment, 0 unknown */
	const char *name;
	uint32_t seq;
	uint8_t rank;
	uint8_t underscores;
};

struct tsyms {
	struct tsym *v;
	size_t nr, cap;
};

static int tsym_cmp(const void *a, const void *b)
{
	const struct tsym *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;
	if (x->underscores != y->underscores)
		return x->underscores < y->underscores ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* End of the PT_LOAD segment holding vaddr, 0 if none. */
static uint64_t segment_end(const struct module *m, uint64_t vaddr)
{
	size_t i;

	for (i = 0; i < m->nr_segs; i++)
		if (vaddr >= m->segs[i].vaddr && vaddr - m->segs[i].vaddr < m->segs[i].memsz)
			return m->segs[i].vaddr + m->segs[i].memsz;
	return 0;
}

static void add_symtab(struct module *m, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh,
		       struct tsyms *ts)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t fsz = gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT), nsyms, i, shnum;
	const char *name;
	GElf_Shdr ssh;
	GElf_Sym sym;
	Elf_Scn *sscn;
	int bind;

	if (!data || !fsz || elf_getshdrnum(elf, &shnum))
		return;
	nsyms = data->d_size / fsz;
	for (i = 1; i < nsyms && ts->nr < MAX_SYMS; i++) {
		struct tsym *t;

		if (!gelf_getsym(data, (int)i, &sym))
			break;
		if (!elf_syms__is_defined_func(&sym))
			continue;
		/* elf_strptr checks sh_link, st_name and the termination */
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !name[0])
			continue;
		if (ts->nr == ts->cap) {
			size_t cap = ts->cap ? ts->cap * 2 : 1024;
			struct tsym *v = realloc(ts->v, cap * sizeof(*v));

			if (!v)
				return;
			ts->v = v;
			ts->cap = cap;
		}
		t = &ts->v[ts->nr];
		t->start = sym.st_value;
		t->size = sym.st_size;
		t->bound = 0;
		if (sym.st_shndx < SHN_LORESERVE && sym.st_shndx < shnum &&
		    (sscn = elf_getscn(elf, sym.st_shndx)) && gelf_getshdr(sscn, &ssh) &&
		    sym.st_value >= ssh.sh_addr && sym.st_value - ssh.sh_addr < ssh.sh_size)
			t->bound = ssh.sh_addr + ssh.sh_size;
		if (!t->bound)
			t->bound = segment_end(m, sym.st_value);
		t->name = name;
		t->seq = (uint32_t)ts->nr;
		bind = GELF_ST_BIND(sym.st_info);
		/* at one address, prefer global over weak over local, sized over not */
		t->rank = (uint8_t)((bind == STB_GLOBAL ? 2 : bind == STB_WEAK ? 1 : 0) * 2 +
				    (sym.st_size != 0));
		t->underscores = 0;
		while (t->underscores < 8 && name[t->underscores] == '_')
			t->underscores++;
		ts->nr++;
	}
}

static void add_symtabs(struct module *m, Elf *elf, bool dynsym, struct tsyms *ts)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) &&
		    (sh.sh_type == SHT_SYMTAB || (dynsym && sh.sh_type == SHT_DYNSYM)))
			add_symtab(m, elf, scn, &sh, ts);
}

/* Sorted, one symbol per address, each with the end its size or its
 * neighbours give it. */
static void build_symbols(struct module *m, struct tsyms *ts)
{
	const struct tsym *t;
	struct sym *sy;
	size_t i, n = 0;

	if (!ts->nr)
		return;
	qsort(ts->v, ts->nr, sizeof(*ts->v), tsym_cmp);
	for (i = 0; i < ts->nr; i++) /* the best ranked first at each address */
		if (!n || ts->v[i].start != ts->v[n - 1].start)
			ts->v[n++] = ts->v[i];
	m->syms = malloc(n * sizeof(*m->syms));
	if (!m->syms)
		return;
	for (i = 0; i < n; i++) {
		t = &ts->v[i];
		sy = &m->syms[i];
		sy->start = t->start;
		sy->name = t->name;
		if (t->size) {
			sy->end = t->start + t->size;
			if (sy->end < sy->start)
				sy->end = UINT64_MAX;
			continue;
		}
		/* size 0: up to the next symbol, or its section's or segment's
		 * end when sooner; with nothing after it, a short reach */
		sy->end = i + 1 < n ? ts->v[i + 1].start : t->start + UNSIZED_SPAN;
		if (sy->end < sy->start)
			sy->end = UINT64_MAX;
		if (t->bound > t->start && t->bound < sy->end)
			sy->end = t->bound;
	}
	m->nr_syms = n;
	m->tidied = calloc(n / 8 + 1, 1);
}

static const struct sym *find_symbol(const struct module *m, uint64_t addr, size_t *idx)
{
	size_t lo = 0, hi = m->nr_syms, mid, i;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (m->syms[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* the nearest start, else a larger symbol enclosing a smaller one */
	for (i = lo; i > 0 && lo - i < 8; i--)
		if (addr < m->syms[i - 1].end) {
			*idx = i - 1;
			return &m->syms[i - 1];
		}
	return NULL;
}

/* Version suffix off ("memcpy@@GLIBC_2.14"), C++ names demangled. */
static const char *tidy_name(struct module *m, size_t idx)
{
	struct sym *sy = &m->syms[idx];
	const char *name = sy->name, *at;
	size_t len;
	char *dem;
	int status = -1;

	if (!m->tidied || (m->tidied[idx / 8] & (1u << (idx % 8))))
		return name;
	m->tidied[idx / 8] |= (uint8_t)(1u << (idx % 8));
	at = strchr(name, '@');
	if (at && at != name && (name = strpool__intern(&m->strs, name, (size_t)(at - name))))
		sy->name = name;
	name = sy->name;
	len = strnlen(name, MAX_MANGLED + 1);
	if (name[0] != '_' || name[1] != 'Z' || len > MAX_MANGLED)
		return name;
	dem = __cxa_demangle(name, NULL, NULL, &status);
	if (dem && !status && (name = strpool__intern(&m->strs, dem, strnlen(dem, MAX_NAME))))
		sy->name = name;
	free(dem);
	return sy->name;
}

/* ---- DWARF -------------------------------------------------------------- */

static int cu_cmp(const void *a, const void *b)
{
	const struct cu_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/*
 * Address ranges of every compile unit, from the units themselves: GCC's
 * .debug_aranges is optional (clang does not emit it) and libdw before 0.191
 * relies on it in dwarf_addrdie().
 *
 * Only DW_UT_compile units: for a skeleton unit libdw would look for its
 * split unit, opening the .dwo path the file names (see prepare_dwarf).
 */
static void build_cu_table(struct module *m)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	Dwarf_Addr base, lo, hi;
	uint8_t unit_type;
	size_t units = 0, cap = 0, n;
	ptrdiff_t off;

	m->cus_built = true;
	while (units++ < MAX_UNITS &&
	       !dwarf_get_units(m->dw, cu, &cu, NULL, &unit_type, &cudie, NULL)) {
		if (unit_type != DW_UT_compile)
			continue;
		for (off = 0, n = 0; n < MAX_UNIT_RANGES && m->nr_cus < MAX_CU_RANGES; n++) {
			off = dwarf_ranges(&cudie, off, &base, &lo, &hi);
			if (off <= 0)
				break;
			if (hi <= lo)
				continue;
			if (m->nr_cus == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				struct cu_range *v = realloc(m->cus, ncap * sizeof(*v));

				if (!v)
					goto out;
				m->cus = v;
				cap = ncap;
			}
			m->cus[m->nr_cus].lo = lo;
			m->cus[m->nr_cus].hi = hi;
			m->cus[m->nr_cus].cu = cudie;
			m->nr_cus++;
		}
	}
out:
	if (m->nr_cus)
		qsort(m->cus, m->nr_cus, sizeof(*m->cus), cu_cmp);
}

static bool find_cu(struct module *m, uint64_t addr, Dwarf_Die *out)
{
	size_t lo = 0, hi, mid, i;
	uint8_t unit_type;

	if (!m->cus_built)
		build_cu_table(m);
	hi = m->nr_cus;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (m->cus[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i > 0 && lo - i < 16; i--)
		if (addr < m->cus[i - 1].hi) {
			*out = m->cus[i - 1].cu;
			return true;
		}
	/* a unit without ranges of its own may still be in .debug_aranges */
	return dwarf_addrdie(m->dw, addr, out) &&
	       !dwarf_cu_info(out->cu, NULL, &unit_type, NULL, NULL, NULL, NULL, NULL) &&
	       unit_type == DW_UT_compile;
}

static void dwarf_lookup(struct module *m, uint64_t addr, struct sym_frame *out)
{
	Dwarf_Die cu;
	Dwarf_Line *line;
	const char *src;
	int lineno;

	if (!m->dw || !find_cu(m, addr, &cu))
		return;
	line = dwarf_getsrc_die(&cu, addr);
	if (!line)
		return;
	if (!dwarf_lineno(line, &lineno) && lineno > 0)
		out->line = lineno;
	src = dwarf_linesrc(line, NULL, NULL);
	if (src)
		out->file = strpool__intern(&m->strs, src, strnlen(src, MAX_PATH_LEN));
}

/* ---- inlined calls -------------------------------------------------------- */

/* DIEs with addresses that may hold the address's inlined calls. */
static bool is_code_scope(int tag)
{
	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_lexical_block || tag == DW_TAG_try_block ||
	       tag == DW_TAG_catch_block || tag == DW_TAG_entry_point;
}

/* DIEs without addresses of their own that may hold functions (C++). */
static bool is_container(int tag)
{
	return tag == DW_TAG_namespace || tag == DW_TAG_class_type ||
	       tag == DW_TAG_structure_type || tag == DW_TAG_union_type ||
	       tag == DW_TAG_module || tag == DW_TAG_interface_type;
}

/* Whether die's ranges hold addr; at most MAX_UNIT_RANGES ranges read. */
static bool die_has_pc(Dwarf_Die *die, uint64_t addr)
{
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;
	size_t n;

	for (n = 0; n < MAX_UNIT_RANGES; n++) {
		off = dwarf_ranges(die, off, &base, &lo, &hi);
		if (off <= 0)
			return false;
		if (lo <= addr && addr < hi)
			return true;
	}
	return false;
}

/*
 * The DW_TAG_inlined_subroutine DIEs whose ranges hold addr in its unit,
 * outermost first, into inl[0..*nr): a walk down from the unit DIE through
 * the scopes holding addr (and, until one is found, through namespaces and
 * classes). Written out here rather than done by dwarf_getscopes(), whose
 * recursion follows the file's nesting on our stack: depth and the number of
 * DIEs looked at are bounded, so that no file can exhaust the stack or loop.
 */
static void find_inlined(Dwarf_Die *cu, uint64_t addr, Dwarf_Die *inl, size_t *nr)
{
	Dwarf_Die path[MAX_DIE_DEPTH], next;
	size_t depth = 0, floor = 0, visits = 0;
	bool in_code = false, found;
	int tag;

	*nr = 0;
	if (dwarf_child(cu, &path[0]))
		return;
	for (;;) {
		Dwarf_Die *d = &path[depth];
		bool down = false;

		if (++visits > MAX_DIE_VISITS)
			return;
		tag = dwarf_tag(d);
		found = is_code_scope(tag) && die_has_pc(d, addr);
		if (found) {
			/* a function nested in another has a chain of its own */
			if (tag == DW_TAG_subprogram)
				*nr = 0;
			else if (tag == DW_TAG_inlined_subroutine && *nr < MAX_DIE_DEPTH)
				inl[(*nr)++] = *d;
			/* scopes at one level do not overlap: no way back up */
			in_code = true;
			floor = depth + 1;
			down = true;
		} else if (!in_code && is_container(tag)) {
			down = true;
		}
		if (down && depth + 1 < MAX_DIE_DEPTH && !dwarf_child(d, &path[depth + 1])) {
			depth++;
			continue;
		}
		if (found)
			return; /* nothing inside it, or too deep */
		/* the next sibling, going back up no higher than floor */
		for (;;) {
			if (!dwarf_siblingof(&path[depth], &next)) {
				path[depth] = next;
				break;
			}
			if (depth == floor)
				return;
			depth--;
		}
	}
}

/* A C++ function's demangled linkage name, else its DW_AT_name; from the
 * abstract origin (or specification) of an inlined instance. */
static const char *die_name(struct module *m, Dwarf_Die *die)
{
	Dwarf_Attribute at;
	const char *name = NULL, *r = NULL;
	char *dem;
	int status = -1;

	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &at) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &at))
		name = dwarf_formstring(&at);
	if (name && name[0] == '_' && name[1] == 'Z' && strnlen(name, MAX_MANGLED + 1) <= MAX_MANGLED) {
		dem = __cxa_demangle(name, NULL, NULL, &status);
		if (dem && !status)
			r = strpool__intern(&m->strs, dem, strnlen(dem, MAX_NAME));
		free(dem);
		if (r)
			return r;
	}
	name = dwarf_diename(die);
	return name ? strpool__intern(&m->strs, name, strnlen(name, MAX_NAME)) : NULL;
}

/* Where an inlined instance is called from: DW_AT_call_file, DW_AT_call_line. */
static void call_site(struct module *m, Dwarf_Die *cu, Dwarf_Die *inl, struct inl_frame *out)
{
	Dwarf_Attribute at;
	Dwarf_Files *files;
	Dwarf_Word v;
	size_t nfiles;
	const char *src;

	out->file = NULL;
	out->line = 0;
	if (dwarf_attr(inl, DW_AT_call_line, &at) && !dwarf_formudata(&at, &v) && v <= INT_MAX)
		out->line = (int)v;
	/* libdw names a missing DWARF 4 file entry 0 "???" */
	if (dwarf_attr(inl, DW_AT_call_file, &at) && !dwarf_formudata(&at, &v) &&
	    !dwarf_getsrcfiles(cu, &files, &nfiles) && v < nfiles &&
	    (src = dwarf_filesrc(files, (size_t)v, NULL, NULL)) && strcmp(src, "???"))
		out->file = strpool__intern(&m->strs, src, strnlen(src, MAX_PATH_LEN));
}

/*
 * The chain at addr into f[0..*nr] (*nr inlined frames, then the real
 * function's file:line); f has SYM_MAX_CHAIN entries. Only the outermost
 * SYM_MAX_INLINED inlined frames are kept: each frame's line is where it
 * calls the next one in, so dropping the innermost leaves the others right.
 */
static void chain_compute(struct module *m, uint64_t addr, struct inl_frame *f, size_t *nr)
{
	Dwarf_Die cu = { 0 }, inl[MAX_DIE_DEPTH];
	struct sym_frame lf = { 0 };
	struct inl_frame at;
	size_t n = 0, k, skip;

	dwarf_lookup(m, addr, &lf);
	at.name = NULL;
	at.file = lf.file;
	at.line = lf.line;
	if (m->dw && find_cu(m, addr, &cu))
		find_inlined(&cu, addr, inl, &n);
	skip = n > SYM_MAX_INLINED ? n - SYM_MAX_INLINED : 0;
	/* inl[n - 1] is the innermost */
	for (k = 0; k < n; k++) {
		Dwarf_Die *d = &inl[n - 1 - k];

		if (k >= skip) {
			f[k - skip] = at;
			f[k - skip].name = die_name(m, d);
		}
		call_site(m, &cu, d, &at);
		at.name = NULL;
	}
	f[n - skip] = at;
	*nr = n - skip;
}

static size_t chain_hash(uint64_t vaddr)
{
	return (size_t)((vaddr * 0x9e3779b97f4a7c15ULL) >> 29);
}

/* Adds c to m's cache, which owns it from then on; false if it cannot. */
static bool chain_cache_add(struct module *m, struct inl_chain *c)
{
	size_t i;

	if (m->nr_chains >= MAX_CHAINS)
		return false;
	if (!m->chains || (m->nr_chains + 1) * 2 > m->chains_mask + 1) {
		size_t cap = m->chains ? (m->chains_mask + 1) * 2 : 64, j;
		struct inl_chain **v = calloc(cap, sizeof(*v));

		if (!v)
			return false;
		for (i = 0; m->chains && i <= m->chains_mask; i++) {
			if (!m->chains[i])
				continue;
			for (j = chain_hash(m->chains[i]->vaddr) & (cap - 1); v[j]; j = (j + 1) & (cap - 1))
				;
			v[j] = m->chains[i];
		}
		free(m->chains);
		m->chains = v;
		m->chains_mask = cap - 1;
	}
	for (i = chain_hash(c->vaddr) & m->chains_mask; m->chains[i]; i = (i + 1) & m->chains_mask)
		;
	m->chains[i] = c;
	m->nr_chains++;
	return true;
}

/* The chain at vaddr: from the cache, else found and cached; in tmp (with
 * SYM_MAX_CHAIN entries) when it cannot be cached. */
static const struct inl_frame *module__chain(struct module *m, uint64_t vaddr,
					     struct inl_frame *tmp, size_t *nr)
{
	struct inl_chain *c;
	size_t i;

	for (i = m->chains ? chain_hash(vaddr) & m->chains_mask : 0; m->chains && m->chains[i];
	     i = (i + 1) & m->chains_mask)
		if (m->chains[i]->vaddr == vaddr) {
			*nr = m->chains[i]->nr;
			return m->chains[i]->f;
		}
	chain_compute(m, vaddr, tmp, nr);
	c = malloc(sizeof(*c) + (*nr + 1) * sizeof(c->f[0]));
	if (!c)
		return tmp;
	c->vaddr = vaddr;
	c->nr = *nr;
	memcpy(c->f, tmp, (*nr + 1) * sizeof(c->f[0]));
	if (!chain_cache_add(m, c)) {
		free(c);
		return tmp;
	}
	return c->f;
}

static void chain_cache_free(struct module *m)
{
	size_t i;

	for (i = 0; m->chains && i <= m->chains_mask; i++)
		free(m->chains[i]);
	free(m->chains);
}

/* ---- modules, continued --------------------------------------------------- */

static void module__free(struct module *m)
{
	if (!m)
		return;
	if (m->dw)
		dwarf_end(m->dw);
	if (m->dbg_elf)
		elf_end(m->dbg_elf);
	if (m->dbg_fd >= 0)
		close(m->dbg_fd);
	if (m->mini_elf)
		elf_end(m->mini_elf);
	free(m->mini_buf);
	if (m->elf)
		elf_end(m->elf);
	if (m->fd >= 0)
		close(m->fd);
	free(m->segs);
	free(m->syms);
	free(m->tidied);
	free(m->cus);
	chain_cache_free(m);
	strpool__free(&m->strs);
	free(m->path);
	free(m->debug_root);
	free(m);
}

static void read_segments(struct module *m)
{
	size_t n, i;
	GElf_Phdr ph;

	if (elf_getphdrnum(m->elf, &n) || !n)
		return;
	m->segs = calloc(n < MAX_SEGS ? n : MAX_SEGS, sizeof(*m->segs));
	if (!m->segs)
		return;
	for (i = 0; i < n && m->nr_segs < MAX_SEGS; i++) {
		if (!gelf_getphdr(m->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		m->segs[m->nr_segs].off = ph.p_offset;
		m->segs[m->nr_segs].vaddr = ph.p_vaddr;
		m->segs[m->nr_segs].filesz = ph.p_filesz;
		m->segs[m->nr_segs].memsz = ph.p_memsz;
		m->nr_segs++;
	}
}

/* ---- shared modules ------------------------------------------------------ */

/*
 * Every module any symbolizer holds, so that a file mapped by many processes
 * (libc, the shell, the dynamic linker) is opened, parsed and cached once. A
 * module is found again by the identity of the opened file (device, inode,
 * and size and mtime as a guard against a file rewritten in place; never a
 * path, which differs between processes and can name another file in another
 * mount namespace or once the file was replaced), and by what its debug
 * files are looked for with: the root they are looked in and the debug root.
 * An inode number cannot be reused while it is in the table: the module
 * holds the file open, and the root of an in_root module is held open by each
 * symbolizer holding the module.
 *
 * Process-wide and not locked: ttbpf creates, uses and frees every symbolizer
 * on one thread (see symbolize.h).
 */
static struct {
	struct module **buckets; /* chained through module.next */
	size_t nr, mask;
} shared;

static size_t file_hash(dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)dev * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)ino;

	return (size_t)((h * 0xff51afd7ed558ccdULL) >> 32);
}

static bool same_file(const struct module *m, const struct stat *st)
{
	return m->dev == st->st_dev && m->ino == st->st_ino && m->size == st->st_size &&
	       m->mtime.tv_sec == st->st_mtim.tv_sec && m->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* A module other symbolizers hold for this file, and s would have made. */
static struct module *shared_find(const struct symbolizer *s, const struct stat *st, bool in_root)
{
	struct module *m;

	if (!shared.buckets)
		return NULL;
	for (m = shared.buckets[file_hash(st->st_dev, st->st_ino) & shared.mask]; m; m = m->next)
		if (same_file(m, st) && m->in_root == in_root &&
		    (!in_root || (m->root_dev == s->root_dev && m->root_ino == s->root_ino)) &&
		    same_str(m->debug_root, s->debug_root))
			return m;
	return NULL;
}

static int shared_add(struct module *m)
{
	size_t cap = shared.buckets ? (shared.mask + 1) * 2 : 64, i, b;
	struct module **buckets, *n, *next;

	if (!shared.buckets || shared.nr >= shared.mask + 1) {
		buckets = calloc(cap, sizeof(*buckets));
		if (buckets) {
			for (i = 0; shared.buckets && i <= shared.mask; i++)
				for (n = shared.buckets[i]; n; n = next) {
					next = n->next;
					b = file_hash(n->dev, n->ino) & (cap - 1);
					n->next = buckets[b];
					buckets[b] = n;
				}
			free(shared.buckets);
			shared.buckets = buckets;
			shared.mask = cap - 1;
		} else if (!shared.buckets) {
			return -ENOMEM;
		} /* else: longer chains */
	}
	b = file_hash(m->dev, m->ino) & shared.mask;
	m->next = shared.buckets[b];
	shared.buckets[b] = m;
	shared.nr++;
	return 0;
}

/* Drops one reference; the last frees m. */
static void module__put(struct module *m)
{
	struct module **pp;

	if (--m->refs)
		return;
	for (pp = &shared.buckets[file_hash(m->dev, m->ino) & shared.mask]; *pp; pp = &(*pp)->next)
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	module__free(m);
	if (!--shared.nr) {
		free(shared.buckets);
		memset(&shared, 0, sizeof(shared));
	}
}

/* A module of s's (another mapping of one file) with this build-id. */
static struct module *held_build_id(const struct symbolizer *s, const struct module *m)
{
	size_t i;

	for (i = 0; m->build_id_len && i < s->nr_mods; i++)
		if (s->mods[i]->build_id_len == m->build_id_len &&
		    !memcmp(s->mods[i]->build_id, m->build_id, m->build_id_len))
			return s->mods[i];
	return NULL;
}

/* A new module for fd (owned by it from here), held by nobody yet. */
static struct module *module__new(const struct symbolizer *s, int fd, const struct stat *st,
				  const char *path, bool in_root)
{
	struct module *m = calloc(1, sizeof(*m));

	if (!m) {
		close(fd);
		return NULL;
	}
	m->fd = fd;
	m->dbg_fd = -1;
	m->dev = st->st_dev;
	m->ino = st->st_ino;
	m->size = st->st_size;
	m->mtime = st->st_mtim;
	m->in_root = in_root;
	m->root_dev = in_root ? s->root_dev : 0;
	m->root_ino = in_root ? s->root_ino : 0;
	m->path = strdup(path);
	m->debug_root = s->debug_root ? strdup(s->debug_root) : NULL;
	if (!m->path || (s->debug_root && !m->debug_root)) {
		module__free(m);
		return NULL;
	}
	m->elf = elf_open_fd(fd, (uint64_t)st->st_size);
	if (m->elf) {
		read_segments(m);
		m->build_id_len = read_build_id(m->elf, m->build_id);
	}
	return m;
}

/*
 * The module for an open file (fd is then owned by it, or closed), held by s:
 * one s holds already when this is a file it has open (same inode, size and
 * mtime: we hold the inode open, so its number cannot have been reused) or a
 * file with the same build-id, else another symbolizer's for this file (s
 * takes a reference), else a new one. NULL when out of memory.
 */
static struct module *module__get(struct symbolizer *s, int fd, const char *path, bool in_target)
{
	bool in_root = in_target && s->root_fd >= 0;
	struct module *m, *held;
	struct stat st;
	size_t i;

	if (fstat(fd, &st)) {
		close(fd);
		return NULL;
	}
	for (i = 0; i < s->nr_mods; i++)
		if (same_file(s->mods[i], &st)) {
			close(fd);
			return s->mods[i];
		}
	if (s->nr_mods >= MAX_MODULES) {
		close(fd);
		return NULL;
	}
	if (s->nr_mods == s->cap_mods) {
		size_t cap = s->cap_mods ? s->cap_mods * 2 : 16;
		struct module **v = realloc(s->mods, cap * sizeof(*v));

		if (!v) {
			close(fd);
			return NULL;
		}
		s->mods = v;
		s->cap_mods = cap;
	}
	m = shared_find(s, &st, in_root);
	if (m)
		close(fd);
	else if (!(m = module__new(s, fd, &st, path, in_root)))
		return NULL;
	/* another file of s's with this build-id: the same module */
	held = held_build_id(s, m);
	if (held || (!m->refs && shared_add(m))) {
		if (!m->refs)
			module__free(m);
		return held;
	}
	m->refs++;
	s->mods[s->nr_mods++] = m;
	return m;
}

/* Symbols and DWARF, from the file and, for what it lacks, its debug file. */
static void module__load(struct symbolizer *s, struct module *m)
{
	struct tsyms ts = { 0 };
	bool symtab, dwarf;

	m->loaded = true;
	if (!m->elf)
		return;
	symtab = has_symtab(m->elf);
	dwarf = has_dwarf(m->elf);
	if (!symtab || !dwarf)
		find_debug_file(s, m);
	/* MiniDebugInfo only when no debug file gives a .symtab */
	if (!symtab && !(m->dbg_elf && has_symtab(m->dbg_elf)))
		load_mini_debuginfo(m);
	add_symtabs(m, m->elf, true, &ts);
	if (!symtab && m->dbg_elf)
		add_symtabs(m, m->dbg_elf, false, &ts);
	if (m->mini_elf)
		add_symtabs(m, m->mini_elf, false, &ts);
	build_symbols(m, &ts);
	free(ts.v);
	if (dwarf && prepare_dwarf(m->elf))
		m->dw = dwarf_begin_elf(m->elf, DWARF_C_READ, NULL);
	if (!m->dw && m->dbg_elf && has_dwarf(m->dbg_elf) && prepare_dwarf(m->dbg_elf))
		m->dw = dwarf_begin_elf(m->dbg_elf, DWARF_C_READ, NULL);
}

/* File offset → link-time address through the PT_LOAD holding it. */
static bool module__vaddr(const struct module *m, uint64_t off, uint64_t *vaddr)
{
	const struct seg *best = NULL, *sg;
	size_t i;

	for (i = 0; i < m->nr_segs; i++) {
		sg = &m->segs[i];
		if (off < sg->off)
			continue;
		if (off - sg->off < sg->filesz) {
			*vaddr = off - sg->off + sg->vaddr;
			return true;
		}
		/* past every segment's file bytes (a page's tail): the bias of the
		 * closest segment before it */
		if (!best || sg->off > best->off)
			best = sg;
	}
	if (!best)
		return false;
	*vaddr = off - best->off + best->vaddr;
	return true;
}

static void module__resolve(struct symbolizer *s, struct module *m, uint64_t vaddr,
			    struct sym_frame *out)
{
	const struct sym *sy;
	size_t idx;

	if (!m->loaded)
		module__load(s, m);
	sy = find_symbol(m, vaddr, &idx);
	if (sy) {
		out->symbol = tidy_name(m, idx);
		out->sym_offset = vaddr - sy->start;
	}
	dwarf_lookup(m, vaddr, out);
}

/* out[0] has the address's ip, module and module_offset; fills the chain
 * there, at most cap (>= 1) frames; returns how many. */
static size_t module__resolve_chain(struct symbolizer *s, struct module *m, uint64_t vaddr,
				    struct sym_frame *out, size_t cap)
{
	struct inl_frame tmp[SYM_MAX_CHAIN];
	const struct inl_frame *f;
	struct sym_frame real = out[0];
	const struct sym *sy;
	size_t idx, nr, first, k;

	if (!m->loaded)
		module__load(s, m);
	sy = find_symbol(m, vaddr, &idx);
	if (sy) {
		real.symbol = tidy_name(m, idx);
		real.sym_offset = vaddr - sy->start;
	}
	f = module__chain(m, vaddr, tmp, &nr);
	first = nr + 1 > cap ? nr + 1 - cap : 0;
	for (k = first; k < nr; k++) {
		out[k - first] = real;
		out[k - first].symbol = f[k].name;
		out[k - first].sym_offset = 0;
		out[k - first].file = f[k].file;
		out[k - first].line = f[k].line;
		out[k - first].inlined = true;
	}
	real.file = f[nr].file;
	real.line = f[nr].line;
	out[nr - first] = real;
	return nr + 1 - first;
}

/* ---- the process -------------------------------------------------------- */

/* Field 22 of /proc/PID/stat: when it started, in clock ticks since boot. */
static int read_start_time(int pid, uint64_t *out)
{
	char path[64], buf[4096], *p, *end;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold anything */
	if (!p)
		return -EINVAL;
	for (i = 3; i <= 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -EINVAL;
	/* p is at the space before field 22 */
	errno = 0;
	*out = strtoull(p + 1, &end, 10);
	return errno || end == p + 1 ? -EINVAL : 0;
}

/* The target's root, when it is not ours, with its identity in s. */
static int open_target_root(struct symbolizer *s)
{
	struct stat ours, theirs;
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/root", s->pid);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* without its identity, it could not be told from other roots */
	if (fstat(fd, &theirs) || (!stat("/", &ours) && ours.st_dev == theirs.st_dev &&
				   ours.st_ino == theirs.st_ino)) {
		close(fd);
		return -1;
	}
	s->root_dev = theirs.st_dev;
	s->root_ino = theirs.st_ino;
	return fd;
}

static const struct mapping *find_mapping(const struct symbolizer *s, uint64_t ip)
{
	size_t lo = 0, hi = s->nr_maps, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->maps[mid].start <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && ip < s->maps[lo - 1].end)
		return &s->maps[lo - 1];
	return NULL;
}

/* Adds nm; older mappings it overlaps keep only their parts outside it. */
static int maps_insert(struct symbolizer *s, const struct mapping *nm)
{
	struct mapping head, tail;
	size_t lo = 0, hi, mid, add, nr;
	bool has_head = false, has_tail = false;

	hi = s->nr_maps;
	while (lo < hi) { /* first mapping ending after nm->start */
		mid = lo + (hi - lo) / 2;
		if (s->maps[mid].end <= nm->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (hi = lo; hi < s->nr_maps && s->maps[hi].start < nm->end; hi++)
		;
	if (lo < hi && s->maps[lo].start < nm->start) {
		head = s->maps[lo];
		head.end = nm->start;
		has_head = true;
	}
	if (lo < hi && s->maps[hi - 1].end > nm->end) {
		tail = s->maps[hi - 1];
		tail.pgoff += nm->end - tail.start;
		tail.start = nm->end;
		has_tail = true;
	}
	add = 1 + has_head + has_tail;
	nr = s->nr_maps - (hi - lo) + add;
	if (nr > MAX_MAPPINGS)
		return -E2BIG;
	if (nr > s->cap_maps) {
		size_t cap = s->cap_maps ? s->cap_maps * 2 : 16;
		struct mapping *v;

		while (cap < nr)
			cap *= 2;
		v = realloc(s->maps, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->maps = v;
		s->cap_maps = cap;
	}
	memmove(&s->maps[lo + add], &s->maps[hi], (s->nr_maps - hi) * sizeof(*s->maps));
	if (has_head)
		s->maps[lo++] = head;
	s->maps[lo++] = *nm;
	if (has_tail)
		s->maps[lo] = tail;
	s->nr_maps = nr;
	return 0;
}

static bool known_mapping(const struct symbolizer *s, const struct mapping *nm)
{
	const struct mapping *m = find_mapping(s, nm->start);

	return m && m->start == nm->start && m->end == nm->end && m->pgoff == nm->pgoff &&
	       m->ino == nm->ino && m->dev_major == nm->dev_major && m->dev_minor == nm->dev_minor;
}

/* One line of /proc/PID/maps: "start-end perms offset major:minor inode path". */
static int add_maps_line(struct symbolizer *s, char *line)
{
	static const char deleted[] = " (deleted)";
	struct mapping nm = { 0 };
	char perms[8], buf[64];
	size_t len;
	bool gone = false;
	int pos = -1, fd;
	char *path;

	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n", &nm.start,
		   &nm.end, perms, &nm.pgoff, &nm.dev_major, &nm.dev_minor, &nm.ino, &pos) < 7 ||
	    pos < 0)
		return 0;
	path = line + pos;
	len = strcspn(path, "\n");
	path[len] = '\0';
	if (strlen(perms) < 3 || perms[2] != 'x' || path[0] != '/' || nm.end <= nm.start)
		return 0;
	if (len >= MAX_PATH_LEN)
		return 0;
	if (len > sizeof(deleted) - 1 && !strcmp(path + len - (sizeof(deleted) - 1), deleted)) {
		len -= sizeof(deleted) - 1;
		path[len] = '\0';
		gone = true;
	}
	if (known_mapping(s, &nm))
		return 0;
	nm.path = strpool__intern(&s->paths, path, len);
	if (!nm.path)
		return -ENOMEM;
	/* map_files reaches the very file mapped, even deleted or replaced; it
	 * needs CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE). The path is only
	 * worth trying while it still names that file. */
	snprintf(buf, sizeof(buf), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, s->pid, nm.start,
		 nm.end);
	fd = open_regular(-1, buf);
	if (fd < 0 && !gone)
		fd = open_regular(s->root_fd, path);
	if (fd >= 0)
		nm.mod = module__get(s, fd, nm.path, true);
	return maps_insert(s, &nm);
}

/* ---- API ---------------------------------------------------------------- */

int symbolizer__new(struct symbolizer **out, int pid)
{
	struct symbolizer *s;
	int err;

	*out = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->root_fd = -1;
	if (pid > 0) {
		s->pid = pid;
		err = read_start_time(pid, &s->start_time);
		if (err) {
			free(s);
			return err;
		}
		s->root_fd = open_target_root(s);
	}
	*out = s;
	return 0;
}

void symbolizer__free(struct symbolizer *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nr_mods; i++)
		module__put(s->mods[i]);
	free(s->mods);
	free(s->maps);
	if (s->root_fd >= 0)
		close(s->root_fd);
	free(s->debug_root);
	strpool__free(&s->paths);
	free(s);
}

void symbolizer__set_debug_root(struct symbolizer *s, const char *dir)
{
	free(s->debug_root);
	s->debug_root = NULL;
	if (dir && dir[0] && strlen(dir) < MAX_PATH_LEN)
		s->debug_root = strdup(dir);
}

bool symbolizer__knows(const struct symbolizer *s, uint64_t ip)
{
	return find_mapping(s, ip) != NULL;
}

int symbolizer__mapping(const struct symbolizer *s, uint64_t ip, struct sym_mapping *out)
{
	const struct mapping *m = find_mapping(s, ip);

	memset(out, 0, sizeof(*out));
	if (!m)
		return -ENOENT;
	out->start = m->start;
	out->end = m->end;
	out->pgoff = m->pgoff;
	out->path = m->path;
	if (m->mod && m->mod->build_id_len) {
		out->build_id = m->mod->build_id;
		out->build_id_len = m->mod->build_id_len;
	}
	return 0;
}

int symbolizer__refresh(struct symbolizer *s)
{
	char path[64], *line = NULL;
	size_t cap = 0, lines = 0;
	uint64_t start_time;
	int err = 0;
	FILE *f;

	if (s->pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/maps", s->pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	/* The open file reads the memory of the process it was opened for; if
	 * the pid still has our start time now, that process is the target. */
	if (read_start_time(s->pid, &start_time) || start_time != s->start_time) {
		fclose(f);
		return -ESRCH;
	}
	while (lines < MAX_MAPS_LINES && getline(&line, &cap, f) > 0) {
		lines++;
		err = add_maps_line(s, line);
		if (err == -ENOMEM)
			break;
		err = 0;
	}
	free(line);
	fclose(f);
	if (err)
		return err;
	return lines ? 0 : -ESRCH; /* an exiting process has no mappings left */
}

/*
 * Where ip is: out gets ip, module and module_offset; *mod the module to
 * resolve out->module_offset in, or NULL when there is none to read.
 */
static int locate(struct symbolizer *s, uint64_t ip, struct sym_frame *out, struct module **mod)
{
	const struct mapping *mp = find_mapping(s, ip);
	uint64_t off, vaddr;

	memset(out, 0, sizeof(*out));
	out->ip = ip;
	*mod = NULL;
	if (!mp)
		return -ENOENT;
	off = ip - mp->start + mp->pgoff;
	out->module = mp->path;
	out->module_offset = off;
	if (!mp->mod || !mp->mod->elf || !module__vaddr(mp->mod, off, &vaddr))
		return 0;
	out->module_offset = vaddr;
	*mod = mp->mod;
	return 0;
}

/* The same for a file of ours (symbolizer__resolve_file). */
static int locate_file(struct symbolizer *s, const char *path, uint64_t vaddr,
		       struct sym_frame *out, struct module **mod)
{
	struct module *m;
	const char *name;
	size_t len;
	int fd;

	memset(out, 0, sizeof(*out));
	out->ip = vaddr;
	out->module_offset = vaddr;
	*mod = NULL;
	len = strnlen(path, MAX_PATH_LEN);
	if (len >= MAX_PATH_LEN)
		return -ENAMETOOLONG;
	name = strpool__intern(&s->paths, path, len);
	if (!name)
		return -ENOMEM;
	fd = open_regular(-1, path);
	if (fd < 0)
		return fd;
	m = module__get(s, fd, name, false);
	if (!m)
		return -ENOMEM;
	out->module = name;
	if (!m->elf)
		return -ENOEXEC;
	*mod = m;
	return 0;
}

int symbolizer__resolve(struct symbolizer *s, uint64_t ip, struct sym_frame *out)
{
	struct module *m;
	int err = locate(s, ip, out, &m);

	if (m)
		module__resolve(s, m, out->module_offset, out);
	return err;
}

int symbolizer__resolve_file(struct symbolizer *s, const char *path, uint64_t vaddr,
			     struct sym_frame *out)
{
	struct module *m;
	int err = locate_file(s, path, vaddr, out, &m);

	if (m)
		module__resolve(s, m, vaddr, out);
	return err;
}

int symbolizer__resolve_chain(struct symbolizer *s, uint64_t ip, struct sym_frame *out,
			      size_t cap, size_t *nr)
{
	struct module *m;
	int err;

	*nr = 0;
	if (!cap)
		return -EINVAL;
	err = locate(s, ip, out, &m);
	*nr = m ? module__resolve_chain(s, m, out->module_offset, out, cap) : 1;
	return err;
}

int symbolizer__resolve_file_chain(struct symbolizer *s, const char *path, uint64_t vaddr,
				   struct sym_frame *out, size_t cap, size_t *nr)
{
	struct module *m;
	int err;

	*nr = 0;
	if (!cap)
		return -EINVAL;
	err = locate_file(s, path, vaddr, out, &m);
	*nr = m ? module__resolve_chain(s, m, vaddr, out, cap) : 1;
	return err;
}

const char *sym_frame__label(const struct sym_frame *f, char *buf, size_t len)
{
	const char *base = f->module ? strrchr(f->module, '/') : NULL;

	if (f->symbol)
		snprintf(buf, len, "%s", f->symbol);
	else if (f->module)
		snprintf(buf, len, "%s+0x%llx", base ? base + 1 : f->module,
			 (unsigned long long)f->module_offset);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)f->ip);
	return buf;
}
