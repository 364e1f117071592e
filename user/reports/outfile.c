// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "outfile.h"

static char *dir_of(const char *path)
{
	char *copy = strdup(path), *d;

	if (!copy)
		return NULL;
	d = strdup(dirname(copy));
	free(copy);
	return d;
}

int outfile__check(const char *path)
{
	struct stat st;
	char *dir;
	int err = 0;

	if (!*path) {
		fprintf(stderr, "ttbpf: empty output file name\n");
		return -EINVAL;
	}
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "ttbpf: cannot write %s: it is a directory\n", path);
		return -EISDIR;
	}
	dir = dir_of(path);
	if (!dir)
		return -ENOMEM;
	if (stat(dir, &st)) {
		err = -errno;
		fprintf(stderr, "ttbpf: cannot write %s: directory %s: %s\n", path, dir, strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		err = -ENOTDIR;
		fprintf(stderr, "ttbpf: cannot write %s: %s is not a directory\n", path, dir);
	} else if (access(dir, W_OK | X_OK)) {
		err = -errno;
		fprintf(stderr, "ttbpf: cannot write %s: directory %s: %s\n", path, dir, strerror(errno));
	}
	free(dir);
	return err;
}

int outfile__open(struct outfile *o, const char *path)
{
	size_t len = strlen(path) + sizeof(".XXXXXX");
	int fd, err;

	memset(o, 0, sizeof(*o));
	o->path = strdup(path);
	o->tmp = malloc(len);
	if (!o->path || !o->tmp) {
		err = -ENOMEM;
		goto err_free;
	}
	snprintf(o->tmp, len, "%s.XXXXXX", path);
	fd = mkostemp(o->tmp, O_CLOEXEC); /* O_EXCL: never follows a symlink */
	if (fd < 0) {
		err = -errno;
		goto err_free;
	}
	fchmod(fd, 0644);
	o->f = fdopen(fd, "w");
	if (!o->f) {
		err = -errno;
		close(fd);
		unlink(o->tmp);
		goto err_free;
	}
	/* reports run to a hundred megabytes: fewer, larger writes */
	setvbuf(o->f, NULL, _IOFBF, 1 << 20);
	return 0;

err_free:
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
	return err;
}

/* Under sudo the report belongs to the user who asked for it. */
static void give_to_sudo_user(int fd)
{
	const char *uid_s = getenv("SUDO_UID"), *gid_s = getenv("SUDO_GID");
	char *end;
	long uid, gid;

	if (!uid_s || !gid_s || geteuid())
		return;
	uid = strtol(uid_s, &end, 10);
	if (*end || uid <= 0 || uid > INT_MAX)
		return;
	gid = strtol(gid_s, &end, 10);
	if (*end || gid < 0 || gid > INT_MAX)
		return;
	if (fchown(fd, (uid_t)uid, (gid_t)gid))
		return; /* best effort: root still owns a complete report */
}

void outfile__release_file(struct outfile *o)
{
	if (o->f)
		fclose(o->f);
	o->f = NULL;
}

int outfile__commit(struct outfile *o)
{
	int err = 0;

	if (!o->f) {
		/* written by path: reopen to sync it and hand it over */
		int fd = open(o->tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

		o->f = fd < 0 ? NULL : fdopen(fd, "r");
		if (!o->f) {
			err = fd < 0 ? -errno : -ENOMEM;
			if (fd >= 0)
				close(fd);
			unlink(o->tmp);
			goto out;
		}
	}
	if (fflush(o->f) || ferror(o->f))
		err = errno ? -errno : -EIO;
	if (!err && fsync(fileno(o->f)))
		err = -errno;
	if (!err)
		give_to_sudo_user(fileno(o->f));
	if (fclose(o->f) && !err)
		err = -errno;
	o->f = NULL;
	if (!err && rename(o->tmp, o->path))
		err = -errno;
	if (err)
		unlink(o->tmp);
out:
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
	return err;
}

void outfile__abort(struct outfile *o)
{
	if (o->f)
		fclose(o->f);
	if (o->tmp)
		unlink(o->tmp);
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
}

static int write_with(const char *path, int (*emit)(FILE *f, void *ctx),
		      int (*draw)(const char *tmp, void *ctx), void *ctx)
{
	struct outfile o;
	int err;

	err = outfile__open(&o, path);
	if (err) {
		fprintf(stderr, "ttbpf: cannot create %s: %s\n", path, strerror(-err));
		return err;
	}
	if (draw) {
		outfile__release_file(&o);
		err = draw(o.tmp, ctx);
	} else {
		err = emit(o.f, ctx);
	}
	if (err) {
		outfile__abort(&o);
		fprintf(stderr, "ttbpf: cannot write %s: %s\n", path, strerror(-err));
		return err;
	}
	err = outfile__commit(&o);
	if (err)
		fprintf(stderr, "ttbpf: cannot write %s: %s\n", path, strerror(-err));
	return err;
}

int outfile__write(const char *path, int (*emit)(FILE *f, void *ctx), void *ctx)
{
	return write_with(path, emit, NULL, ctx);
}

int outfile__write_path(const char *path, int (*draw)(const char *tmp, void *ctx), void *ctx)
{
	return write_with(path, NULL, draw, ctx);
}
