/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Report files. ttbpf runs as root in directories other users may write, so
 * every output is opened once and written through that descriptor only:
 *  - a path that does not exist, or names a regular file: a temporary file
 *    next to it, created O_EXCL|O_NOFOLLOW, owned by the invoking user under
 *    sudo and mode 0644 before the first byte, renamed over the path when
 *    complete (the file that was there is replaced, never changed);
 *  - "-": standard output;
 *  - a FIFO or a device (/dev/null, /dev/stdout's tty): written in place;
 *  - a symlink as the last component: refused (a symlinked directory is fine).
 */
#ifndef TT_OUTFILE_H
#define TT_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

struct outfile {
	FILE *f;    /* writes through fd; write errors kept in err */
	char *path;
	char *tmp;  /* NULL when written in place */
	int fd;
	int err;    /* errno of the first failed write */
};

/* 0 or -errno (not printed). */
int outfile__open(struct outfile *o, const char *path);
/* Flushes, syncs and renames; on failure removes the temporary. 0 or -errno:
 * the errno of the first failed write when there was one. */
int outfile__commit(struct outfile *o);
void outfile__abort(struct outfile *o);
/*
 * The whole cycle for one report: opens path, calls emit on it (emit returns
 * 0 or a negative errno), commits or removes it. Failures are printed with
 * the path and the real cause (ENOSPC, not the EIO a writer may return).
 * Returns 0 or a negative errno.
 */
int outfile__write(const char *path, int (*emit)(FILE *f, void *ctx), void *ctx);

/* Whether path is written in place ("-", a FIFO, a device), not replaced. */
bool outfile__in_place(const char *path);
/* Checks, before tracing starts, that path can be written: "-", a FIFO or a
 * device, or a name in a writable directory that is not a directory nor a
 * symlink. Prints why not; 0 or a negative errno. */
int outfile__check(const char *path);
/*
 * -o DIR: DIR as a directory to write reports into, created when absent
 * (mode 0755 less the umask; under sudo it belongs to the invoking user, as
 * the files do). A symlink is refused as for files, so is anything else that
 * is not a directory. Its parent must exist. Prints why not; 0 or -errno.
 */
int outfile__make_dir(const char *dir);
/* Checks that no two of the n paths ("" ignored) name the same file, however
 * spelled (dir/./x, a symlinked directory). Prints the pair; 0 or -EINVAL. */
int outfile__check_distinct(const char *const *paths, const char *const *what, int n);

#endif /* TT_OUTFILE_H */
