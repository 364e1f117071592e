// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <elf.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "clock.h"
#include "elf_needed.h"
#include "elf_syms.h"
#include "unwind_table.h"
#include "unwinder.h"
#include "text_clean.h"

_Static_assert(sizeof(struct tt_unw_row_slot) == TT_UNW_ROWS_PER_SLOT * TT_UNW_ROW_BYTES,
	       "rows back to back in the BPF array");
_Static_assert(sizeof(struct tt_unw_mod_key) == 16, "tt_unw_mod_key layout");
_Static_assert(sizeof(struct tt_unwind_miss_event) == 56, "tt_unwind_miss_event layout");

#define DEBUG_DIR "/usr/lib/debug/.build-id"
#define MAPS_LINE_MAX 8192 /* a line of /proc/PID/maps: the path is at most PATH_MAX */

struct unwinder {
	struct unwinder_maps maps;
	__u32 rows_used, pages_used;
	struct unwinder_module *mods;
	size_t mod_cnt, mod_cap;
	struct unwinder_totals tot;
	int verbose;
};

int unwinder__new(struct unwinder **out, const struct unwinder_maps *maps, int verbose)
{
	struct unwinder *u = calloc(1, sizeof(*u));

	if (!u)
		return -ENOMEM;
	u->maps = *maps;
	u->verbose = verbose;
	u->tot.rows_cap = maps->rows_cap;
	*out = u;
	return 0;
}

void unwinder__free(struct unwinder *u)
{
	size_t i;

	if (!u)
		return;
	for (i = 0; i < u->mod_cnt; i++)
		free(u->mods[i].path);
	free(u->mods);
	free(u);
}

static struct unwinder_module *find_module(const struct unwinder *u, const struct tt_unw_mod_key *k)
{
	size_t i;

	for (i = 0; i < u->mod_cnt; i++)
		if (u->mods[i].key.ino == k->ino && u->mods[i].key.dev == k->dev)
			return &u->mods[i];
	return NULL;
}

/* The kernel's encoding of a device number, as a mapping's file names it. */
static __u32 kernel_dev(unsigned int major, unsigned int minor)
{
	return (__u32)major << 20 | (minor & 0xfffff);
}

/*
 * The program headers of an ELF64 file the target controls, read with
 * bounded preads (the table builder has read the sections already; libelf
 * here would read the whole file again). Returns how many, or 0.
 */
#define MAX_PHDRS 64

static size_t read_phdrs(int fd, Elf64_Phdr *ph)
{
	Elf64_Ehdr eh;
	size_t n;

	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(*ph) || !eh.e_phnum || eh.e_phnum > MAX_PHDRS)
		return 0;
	n = eh.e_phnum;
	if (pread(fd, ph, n * sizeof(*ph), (off_t)eh.e_phoff) != (ssize_t)(n * sizeof(*ph)))
		return 0;
	return n;
}

/* The executable PT_LOAD segments as the BPF side converts file offsets. */
static int read_segments(int fd, __u64 base, struct tt_unw_mod *m)
{
	Elf64_Phdr ph[MAX_PHDRS];
	size_t n = read_phdrs(fd, ph), i;
	__u64 page = (__u64)sysconf(_SC_PAGESIZE);

	if (!n)
		return -ENOEXEC;
	for (i = 0; i < n; i++) {
		if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_X))
			continue;
		if (m->nseg == TT_UNW_MAX_SEGS || ph[i].p_offset + ph[i].p_filesz < ph[i].p_offset)
			return -E2BIG;
		/* a mapping starts at the page holding p_offset */
		m->seg[m->nseg].off_lo = ph[i].p_offset & ~(page - 1);
		m->seg[m->nseg].off_hi = ph[i].p_offset + ph[i].p_filesz;
		m->seg[m->nseg].pc_bias = ph[i].p_vaddr - ph[i].p_offset - base;
		m->nseg++;
	}
	return m->nseg ? 0 : -ENODATA;
}

/* /usr/lib/debug/.build-id/xx/yyyy.debug of the file at fd, if it exists:
 * the build-id from its PT_NOTE segments (each read whole, if at most 4 KiB). */
static bool debug_file(int fd, char *path, size_t len)
{
	unsigned char buf[4096];
	Elf64_Phdr ph[MAX_PHDRS];
	size_t n = read_phdrs(fd, ph), i, off, k;
	int w;

	for (i = 0; i < n; i++) {
		if (ph[i].p_type != PT_NOTE || ph[i].p_filesz > sizeof(buf) ||
		    pread(fd, buf, ph[i].p_filesz, (off_t)ph[i].p_offset) != (ssize_t)ph[i].p_filesz)
			continue;
		for (off = 0; off + sizeof(Elf64_Nhdr) <= ph[i].p_filesz;) {
			Elf64_Nhdr nh;
			size_t name_at = off + sizeof(nh), desc_at;

			memcpy(&nh, buf + off, sizeof(nh));
			desc_at = name_at + ((nh.n_namesz + 3) & ~3u);
			if (nh.n_namesz > sizeof(buf) || nh.n_descsz > sizeof(buf) ||
			    desc_at + nh.n_descsz > ph[i].p_filesz)
				break;
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp(buf + name_at, "GNU", 4) && nh.n_descsz >= 2 && nh.n_descsz <= 64) {
				w = snprintf(path, len, DEBUG_DIR "/%02x/", buf[desc_at]);
				for (k = 1; k < nh.n_descsz && w > 0 && (size_t)w + 3 < len; k++)
					w += snprintf(path + w, len - (size_t)w, "%02x", buf[desc_at + k]);
				if (w <= 0 || (size_t)w + 7 >= len)
					return false;
				memcpy(path + w, ".debug", 7);
				return !access(path, R_OK);
			}
			off = desc_at + ((nh.n_descsz + 3) & ~3u);
		}
	}
	return false;
}

/*
 * The page index of rows (placed at mod->first): for each 4 KiB page of
 * pc_off, the row covering its start (bpf/unwind.h). Without room for it
 * the table works without one, its searches over all its rows.
 */
static void add_page_index(struct unwinder *u, const struct tt_unwind_row *rows, size_t cnt,
			   struct unwinder_module *m, struct tt_unw_mod *mod)
{
	size_t npages = ((size_t)rows[cnt - 1].pc_off >> TT_UNW_PAGE_SHIFT) + 1, p, r = 0;
	__u64 *idx;

	if (npages > u->maps.pages_cap - u->pages_used)
		return;
	idx = u->maps.pages + u->pages_used;
	for (p = 0; p < npages; p++) {
		__u64 start = (__u64)p << TT_UNW_PAGE_SHIFT;

		/* the last row at or below the page's start (row 0 below it) */
		while (r + 1 < cnt && rows[r + 1].pc_off <= start)
			r++;
		idx[p] = mod->first + (__u32)r;
	}
	mod->page_first = u->pages_used;
	mod->npages = (__u32)npages;
	m->npages = (__u32)npages;
	m->bytes += npages * sizeof(*idx);
	u->pages_used += (__u32)npages;
}

/* Builds fd's table into the row array; fills m and mod. */
static void build(struct unwinder *u, int fd, struct unwinder_module *m, struct tt_unw_mod *mod)
{
	char dbg[PATH_MAX];
	struct unwind_table_opts o = { .sz = sizeof(o) };
	const struct unwind_table_stats *st;
	const struct tt_unwind_row *rows;
	struct unwind_table *t;
	size_t cnt;
	int err;

	if (debug_file(fd, dbg, sizeof(dbg)))
		o.debug_path = dbg;
	err = unwind_table__build_fd(fd, &o, &t);
	if (err) {
		m->status = UNWINDER_NO_CFI;
		m->err = err;
		mod->flags = TT_UNW_MOD_NO_CFI;
		return;
	}
	rows = unwind_table__rows(t, &cnt);
	st = unwind_table__stats(t);
	m->fdes = st->fdes;
	m->rows_unsupported = st->rows_unsupported;
	m->truncated = st->truncated;
	err = read_segments(fd, unwind_table__base(t), mod);
	if (err) {
		m->status = UNWINDER_NO_CFI;
		m->err = err;
		mod->flags = TT_UNW_MOD_NO_CFI;
		mod->nseg = 0;
	} else if (cnt > u->maps.rows_cap - u->rows_used) {
		m->status = UNWINDER_NO_ROOM;
		m->err = -ENOSPC;
		u->tot.files_no_room++;
		u->tot.rows_no_room += cnt;
		mod->nseg = 0; /* BPF: a file without a usable table, "no-table" */
	} else {
		memcpy((struct tt_unwind_row *)u->maps.rows + u->rows_used, rows,
		       cnt * sizeof(*rows));
		m->first = mod->first = u->rows_used;
		m->rows = mod->count = (__u32)cnt;
		m->bytes = cnt * sizeof(*rows);
		u->rows_used += (__u32)cnt;
		m->status = UNWINDER_TABLE;
		add_page_index(u, rows, cnt, m, mod);
	}
	unwind_table__free(t);
}

/* The table of the file open at fd, named key; path for messages. */
static int add_file(struct unwinder *u, int fd, const struct tt_unw_mod_key *key, const char *path)
{
	struct tt_unw_mod mod = {};
	struct unwinder_module *m;
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);

	if (find_module(u, key))
		return 0;
	if (u->mod_cnt >= TT_UNW_MAX_MODS)
		return -ENOSPC;
	if (u->mod_cnt == u->mod_cap) {
		size_t cap = u->mod_cap ? u->mod_cap * 2 : 16;
		void *p = realloc(u->mods, cap * sizeof(*u->mods));

		if (!p)
			return -ENOMEM;
		u->mods = p;
		u->mod_cap = cap;
	}
	m = &u->mods[u->mod_cnt];
	memset(m, 0, sizeof(*m));
	m->key = *key;
	m->path = strdup(path);
	if (!m->path)
		return -ENOMEM;
	if (fd >= 0) {
		build(u, fd, m, &mod);
	} else {
		m->status = UNWINDER_UNREADABLE;
		m->err = fd;
	}
	m->build_ns = clock_ns(CLOCK_MONOTONIC) - t0;
	u->mod_cnt++;
	/* the rows are in place before BPF can find them (a syscall orders it) */
	if (bpf_map_update_elem(u->maps.mods_fd, key, &mod, BPF_ANY))
		return -errno;
	if (u->verbose) {
		/* the name is the target's: no control character reaches the terminal */
		fputs("ttbpf: unwind table of ", stderr);
		text_clean__put(stderr, path, 0);
		fprintf(stderr, ": %u rows, %" PRIu64 " KiB, %.1f ms%s%s\n",
			m->rows, m->bytes >> 10, m->build_ns / 1e6,
			m->status == UNWINDER_TABLE ? "" :
			m->status == UNWINDER_NO_CFI ? " (no usable CFI: frame pointers) " :
			m->status == UNWINDER_NO_ROOM ? " (no room left: --unwind-rows) " :
							" (cannot open) ",
			m->status == UNWINDER_TABLE ? "" : strerror(-m->err));
	}
	return 0;
}

int unwinder__add_path(struct unwinder *u, const char *path)
{
	struct tt_unw_mod_key key = {};
	struct stat st;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	key.ino = st.st_ino;
	key.dev = kernel_dev(major(st.st_dev), minor(st.st_dev));
	err = add_file(u, fd, &key, path);
	close(fd);
	return err;
}

/* The file of one mapping, opened as the process maps it. */
static int open_mapping(int pid, unsigned long lo, unsigned long hi)
{
	char p[64];
	int fd;

	snprintf(p, sizeof(p), "/proc/%d/map_files/%lx-%lx", pid, lo, hi);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* One executable file mapping of a process: what names its file, and where. */
struct exec_mapping {
	struct tt_unw_mod_key key;
	const char *path;
	int pid;
	unsigned long lo, hi;
};

/* fn(m, ctx) for each executable file mapping of pid (it opens the file,
 * open_mapping, only if it needs it); a non-zero return stops. */
typedef int (*mapping_fn)(const struct exec_mapping *m, void *ctx);

static int for_each_exec_mapping(int pid, mapping_fn fn, void *ctx)
{
	char p[64], *line;
	FILE *f;
	int err = 0;

	snprintf(p, sizeof(p), "/proc/%d/maps", pid);
	f = fopen(p, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	line = malloc(MAPS_LINE_MAX);
	if (!line) {
		fclose(f);
		return -ENOMEM;
	}
	while (!err && fgets(line, MAPS_LINE_MAX, f)) {
		unsigned long off, ino;
		unsigned int maj, min;
		struct exec_mapping m = { .pid = pid };
		char perms[8];
		int path_at = 0;

		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &m.lo, &m.hi, perms, &off, &maj,
			   &min, &ino, &path_at) < 7 || !ino || perms[2] != 'x' || !path_at)
			continue;
		line[strcspn(line, "\n")] = '\0';
		m.key.ino = ino;
		m.key.dev = kernel_dev(maj, min);
		m.path = line + path_at;
		err = fn(&m, ctx);
	}
	free(line);
	fclose(f);
	return err;
}

static int scan_mapping(const struct exec_mapping *m, void *ctx)
{
	struct unwinder *u = ctx;
	int fd, err;

	if (find_module(u, &m->key))
		return 0;
	fd = open_mapping(m->pid, m->lo, m->hi);
	err = add_file(u, fd, &m->key, m->path);
	if (fd >= 0)
		close(fd);
	return err;
}

int unwinder__scan(struct unwinder *u, int pid)
{
	u->tot.scans++;
	return for_each_exec_mapping(pid, scan_mapping, u);
}

/* The files a row count is estimated from, each once. */
struct estimate {
	uint64_t rows;
	size_t files;
	struct tt_unw_mod_key seen[ELF_NEEDED_MAX_FILES];
};

/* Is key new to the estimate (then it counts it)? */
static bool estimate_new(struct estimate *e, const struct tt_unw_mod_key *key)
{
	size_t i;

	for (i = 0; i < e->files; i++)
		if (!memcmp(&e->seen[i], key, sizeof(*key)))
			return false;
	if (e->files == ELF_NEEDED_MAX_FILES)
		return false;
	e->seen[e->files++] = *key;
	return true;
}

static void estimate_needed(const char *path, Elf *elf, const struct stat *st, void *ctx)
{
	struct tt_unw_mod_key key = { .ino = st->st_ino,
				      .dev = kernel_dev(major(st->st_dev), minor(st->st_dev)) };

	(void)path;
	if (estimate_new(ctx, &key))
		((struct estimate *)ctx)->rows += unwind_table__rows_estimate(elf);
}

static int estimate_mapping(const struct exec_mapping *m, void *ctx)
{
	struct estimate *e = ctx;
	struct stat st;
	Elf *elf = NULL;
	int fd;

	if (!estimate_new(e, &m->key))
		return 0; /* a file's segments are several mappings */
	fd = open_mapping(m->pid, m->lo, m->hi);
	if (fd >= 0 && !fstat(fd, &st) && S_ISREG(st.st_mode) &&
	    elf_syms__header_sane(fd, (uint64_t)st.st_size) && elf_version(EV_CURRENT) != EV_NONE)
		elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF)
		e->rows += unwind_table__rows_estimate(elf);
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	return 0;
}

uint32_t unwinder__rows_for(const char *exe, int pid, bool follow, int verbose)
{
	struct estimate *e = calloc(1, sizeof(*e));
	uint64_t rows = UNWINDER_DEFAULT_ROWS;

	if (!e)
		return (uint32_t)rows;
	if (exe)
		elf_needed__walk(exe, estimate_needed, e);
	if (pid)
		for_each_exec_mapping(pid, estimate_mapping, e);
	rows = e->rows + (follow ? UNWINDER_FOLLOW_SPARE_ROWS : UNWINDER_SPARE_ROWS);
	if (rows < UNWINDER_DEFAULT_ROWS)
		rows = UNWINDER_DEFAULT_ROWS;
	if (rows > UNWINDER_MAX_ROWS)
		rows = UNWINDER_MAX_ROWS;
	rows = (rows + TT_UNW_ROWS_PER_SLOT - 1) & ~(uint64_t)(TT_UNW_ROWS_PER_SLOT - 1);
	if (verbose)
		fprintf(stderr, "ttbpf: unwind rows: %" PRIu64 " (about %" PRIu64
			" for the %zu files the target maps and needs, and room for more)\n",
			rows, e->rows, e->files);
	free(e);
	return (uint32_t)rows;
}

void unwinder__on_miss(struct unwinder *u, const struct tt_unwind_miss_event *e)
{
	struct tt_unw_mod_key key = { .ino = e->ino, .dev = e->dev };
	char p[64], path[PATH_MAX];
	ssize_t n;
	int fd;

	u->tot.misses++;
	if (find_module(u, &key))
		return;
	snprintf(p, sizeof(p), "/proc/%u/map_files/%llx-%llx", e->hdr.tgid,
		 (unsigned long long)e->vm_start, (unsigned long long)e->vm_end);
	n = readlink(p, path, sizeof(path) - 1);
	if (n < 0)
		n = snprintf(path, sizeof(path), "(inode %llu)", (unsigned long long)e->ino);
	path[n] = '\0';
	fd = open_mapping((int)e->hdr.tgid, e->vm_start, e->vm_end);
	add_file(u, fd, &key, path);
	if (fd >= 0)
		close(fd);
}

void unwinder__arm_hold(struct unwinder *u, int tid)
{
	__u32 k = (__u32)tid, v = TT_UNW_HOLD_ARMED;

	bpf_map_update_elem(u->maps.hold_fd, &k, &v, BPF_ANY);
}

void unwinder__disarm_hold(struct unwinder *u, int tid)
{
	__u32 k = (__u32)tid;

	bpf_map_delete_elem(u->maps.hold_fd, &k);
}

bool unwinder__take_hold(struct unwinder *u, int tid, int sig)
{
	__u32 k = (__u32)tid, v;

	if (sig != SIGURG || bpf_map_lookup_elem(u->maps.hold_fd, &k, &v) ||
	    !(v & TT_UNW_HOLD_SENT))
		return false;
	unwinder__scan(u, tid);
	v = TT_UNW_HOLD_ARMED;
	bpf_map_update_elem(u->maps.hold_fd, &k, &v, BPF_EXIST);
	u->tot.holds++;
	return true;
}

size_t unwinder__module_count(const struct unwinder *u)
{
	return u ? u->mod_cnt : 0;
}

const struct unwinder_module *unwinder__module(const struct unwinder *u, size_t i)
{
	return i < u->mod_cnt ? &u->mods[i] : NULL;
}

void unwinder__totals(const struct unwinder *u, struct unwinder_totals *out)
{
	size_t i;

	*out = u->tot;
	out->modules = u->mod_cnt;
	for (i = 0; i < u->mod_cnt; i++) {
		out->tables += u->mods[i].status == UNWINDER_TABLE;
		out->bytes += u->mods[i].bytes;
		out->build_ns += u->mods[i].build_ns;
	}
	out->rows = u->rows_used;
}

void unwinder__print(const struct unwinder *u)
{
	struct unwinder_totals t;

	unwinder__totals(u, &t);
	fprintf(stderr, "ttbpf: unwind tables: %zu of %zu files, %" PRIu64 " of %" PRIu64
			" rows (%" PRIu64 " KiB), built in %.1f ms; %" PRIu64 " holds, %" PRIu64
			" late tables\n",
		t.tables, t.modules, t.rows, t.rows_cap, t.bytes >> 10, t.build_ns / 1e6, t.holds,
		t.misses);
}
