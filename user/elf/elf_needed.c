// SPDX-License-Identifier: Apache-2.0
/* The shared libraries an executable needs. See elf_needed.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "elf_needed.h"
#include "elf_syms.h"

/* Where the dynamic linker looks last (Debian's multiarch first). */
static const char *const default_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
	"/lib", "/usr/lib", "/usr/local/lib",
};

struct walk {
	char *queue[ELF_NEEDED_MAX_FILES]; /* paths to read, in order found */
	size_t queued;
	struct { dev_t dev; ino_t ino; } seen[ELF_NEEDED_MAX_FILES];
	size_t seen_cnt;
};

static bool seen(struct walk *w, const struct stat *st)
{
	size_t i;

	for (i = 0; i < w->seen_cnt; i++)
		if (w->seen[i].dev == st->st_dev && w->seen[i].ino == st->st_ino)
			return true;
	w->seen[w->seen_cnt].dev = st->st_dev; /* seen_cnt < queued <= MAX */
	w->seen[w->seen_cnt++].ino = st->st_ino;
	return false;
}

static int enqueue(struct walk *w, const char *path)
{
	size_t i;

	for (i = 0; i < w->queued; i++)
		if (!strcmp(w->queue[i], path))
			return 0;
	if (w->queued == ELF_NEEDED_MAX_FILES)
		return 0; /* enough to size by */
	w->queue[w->queued] = strdup(path);
	if (!w->queue[w->queued])
		return -ENOMEM;
	w->queued++;
	return 0;
}

/* dir (a search list entry, len bytes) with $ORIGIN & co. expanded, then
 * "/name", into buf; false when it does not fit. */
static bool expand(const char *dir, size_t len, const char *origin, const char *name,
		   char *buf, size_t size)
{
	static const struct { const char *tok, *val; } subst[] = {
		{ "ORIGIN", NULL }, { "LIB", "lib" }, { "PLATFORM", "x86_64" },
	};
	size_t at = 0, i, k;

	for (i = 0; i < len; i++) {
		const char *val = NULL, *p = dir + i + 1;
		size_t tok = 0, vlen;
		bool braced = p < dir + len && *p == '{';

		if (dir[i] == '$') {
			p += braced;
			for (k = 0; k < sizeof(subst) / sizeof(subst[0]); k++) {
				size_t n = strlen(subst[k].tok);

				if ((size_t)(dir + len - p) >= n + braced && !memcmp(p, subst[k].tok, n) &&
				    (!braced || p[n] == '}')) {
					val = subst[k].val ?: origin;
					tok = 1 + braced + n + braced;
					break;
				}
			}
		}
		if (!val) {
			if (at + 1 >= size)
				return false;
			buf[at++] = dir[i];
			continue;
		}
		vlen = strlen(val);
		if (at + vlen >= size)
			return false;
		memcpy(buf + at, val, vlen);
		at += vlen;
		i += tok - 1;
	}
	return (size_t)snprintf(buf + at, size - at, "/%s", name) < size - at;
}

/* The first regular file named name in the colon-separated list. */
static bool search(const char *list, const char *origin, const char *name, char *buf, size_t size)
{
	const char *p, *end;
	struct stat st;

	for (p = list; p && *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		if (end == p)
			continue;
		if (expand(p, (size_t)(end - p), origin, name, buf, size) && !stat(buf, &st) &&
		    S_ISREG(st.st_mode))
			return true;
	}
	return false;
}

static int add_needed(struct walk *w, const char *name, const char *rpath, const char *runpath,
		      const char *origin)
{
	char path[PATH_MAX];
	size_t i;

	if (strchr(name, '/'))
		return enqueue(w, name);
	if ((!runpath && search(rpath, origin, name, path, sizeof(path))) ||
	    search(getenv("LD_LIBRARY_PATH"), origin, name, path, sizeof(path)) ||
	    search(runpath, origin, name, path, sizeof(path)))
		return enqueue(w, path);
	for (i = 0; i < sizeof(default_dirs) / sizeof(default_dirs[0]); i++)
		if (search(default_dirs[i], origin, name, path, sizeof(path)))
			return enqueue(w, path);
	return 0; /* not found: the program may not even start; nothing to size */
}

/* The DT_NEEDED entries of the file, each found and queued. */
static int read_dynamic(struct walk *w, Elf *elf, const char *path)
{
	char real[PATH_MAX], *slash;
	const char *rpath = NULL, *runpath = NULL;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Dyn dyn;
	Elf_Data *d;
	size_t n, i;
	int err = 0;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_DYNAMIC)
			break;
	if (!scn || !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
		return 0; /* static, or no section headers: nothing more to find */
	if (!realpath(path, real))
		snprintf(real, sizeof(real), "%s", path);
	slash = strrchr(real, '/');
	if (slash)
		*(slash == real ? slash + 1 : slash) = '\0';
	n = d->d_size / sh.sh_entsize;
	for (i = 0; i < n && gelf_getdyn(d, (int)i, &dyn) && dyn.d_tag != DT_NULL; i++) {
		if (dyn.d_tag == DT_RPATH)
			rpath = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
		else if (dyn.d_tag == DT_RUNPATH)
			runpath = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
	}
	for (i = 0; !err && i < n && gelf_getdyn(d, (int)i, &dyn) && dyn.d_tag != DT_NULL; i++) {
		const char *name = dyn.d_tag == DT_NEEDED ? elf_strptr(elf, sh.sh_link, dyn.d_un.d_val)
							  : NULL;

		if (name && *name)
			err = add_needed(w, name, rpath, runpath, slash ? real : ".");
	}
	return err;
}

/* Opens one queued file: a regular file only (O_NONBLOCK: a FIFO put at its
 * path must not block us before fstat tells). */
static int open_elf(const char *path, int *fd, Elf **elf, struct stat *st)
{
	*elf = NULL;
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (*fd < 0)
		return -errno;
	if (fstat(*fd, st) || !S_ISREG(st->st_mode)) {
		close(*fd);
		return -EINVAL;
	}
	if (!elf_syms__header_sane(*fd, (uint64_t)st->st_size) || elf_version(EV_CURRENT) == EV_NONE ||
	    !(*elf = elf_begin(*fd, ELF_C_READ, NULL)) || elf_kind(*elf) != ELF_K_ELF) {
		if (*elf)
			elf_end(*elf);
		close(*fd);
		return -ENOEXEC;
	}
	return 0;
}

int elf_needed__walk(const char *path, elf_needed_fn fn, void *ctx)
{
	struct walk *w = calloc(1, sizeof(*w));
	size_t i;
	int err;

	if (!w)
		return -ENOMEM;
	err = enqueue(w, path);
	for (i = 0; !err && i < w->queued; i++) {
		struct stat st;
		Elf *elf;
		int fd, e = open_elf(w->queue[i], &fd, &elf, &st);

		if (e) {
			if (!i)
				err = e; /* the executable itself; a library: skipped */
			continue;
		}
		if (!seen(w, &st)) {
			fn(w->queue[i], elf, &st, ctx);
			err = read_dynamic(w, elf, w->queue[i]);
		}
		elf_end(elf);
		close(fd);
	}
	for (i = 0; i < w->queued; i++)
		free(w->queue[i]);
	free(w);
	return err;
}
