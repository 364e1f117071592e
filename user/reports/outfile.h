/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Report files written atomically: a temporary file created exclusively next
 * to the destination (never through a planted symlink), renamed over it when
 * complete, owned by the invoking user under sudo.
 */
#ifndef TT_OUTFILE_H
#define TT_OUTFILE_H

#include <stdio.h>

struct outfile {
	FILE *f;
	char *path;
	char *tmp;
};

int outfile__open(struct outfile *o, const char *path);
/* Flushes, syncs and renames; on failure removes the temporary. 0 or -errno. */
int outfile__commit(struct outfile *o);
void outfile__abort(struct outfile *o);
/* For writers that want a path, not a FILE (cairo): closes the FILE and
 * leaves o->tmp for them to write; outfile__commit then publishes it. */
void outfile__release_file(struct outfile *o);
/*
 * The whole cycle for one report: creates path's temporary, calls emit on it
 * (emit returns 0 or a negative errno), commits or removes it. Failures are
 * printed with the path. Returns 0 or a negative errno.
 */
int outfile__write(const char *path, int (*emit)(FILE *f, void *ctx), void *ctx);
/* The same for writers that take a path (cairo): draw writes to the temporary's path. */
int outfile__write_path(const char *path, int (*draw)(const char *tmp, void *ctx), void *ctx);

/* Checks, before tracing starts, that path can be created: its directory
 * exists and is writable, and path is not a directory. Prints why not. */
int outfile__check(const char *path);

#endif /* TT_OUTFILE_H */
