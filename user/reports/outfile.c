// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
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

static bool is_stdout(const char *path)
{
	return !strcmp(path, "-");
}

bool outfile__in_place(const char *path)
{
	struct stat st;

	if (is_stdout(path))
		return true;
	return !lstat(path, &st) && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) &&
	       !S_ISLNK(st.st_mode);
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
	if (is_stdout(path))
		return 0;
	if (!lstat(path, &st)) {
		if (S_ISLNK(st.st_mode)) {
			fprintf(stderr,
				"ttbpf: refusing to write %s: it is a symbolic link (ttbpf never "
				"writes through one; give the file it points to)\n", path);
			return -ELOOP;
		}
		if (S_ISDIR(st.st_mode)) {
			fprintf(stderr, "ttbpf: cannot write %s: it is a directory\n", path);
			return -EISDIR;
		}
		if (!S_ISREG(st.st_mode))
			return 0; /* a FIFO or a device: written in place */
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

/* One name per file: "-", the inode of an existing one, else the real
 * directory and the last component. */
static int file_key(const char *path, char *key, size_t len)
{
	char *copy, *dir, *real;
	struct stat st;
	int n;

	if (is_stdout(path)) {
		snprintf(key, len, "-");
		return 0;
	}
	if (!stat(path, &st)) {
		snprintf(key, len, "inode %llu:%llu", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
		return 0;
	}
	copy = strdup(path);
	dir = dir_of(path);
	real = dir ? realpath(dir, NULL) : NULL;
	n = copy && real ? snprintf(key, len, "%s/%s", real, basename(copy)) : -1;
	if (!real && copy && dir)
		n = snprintf(key, len, "%s", path); /* outfile__check tells why */
	free(copy);
	free(dir);
	free(real);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int outfile__check_distinct(const char *const *paths, const char *const *what, int n)
{
	char (*keys)[PATH_MAX + 64] = calloc(n ? n : 1, sizeof(*keys));
	int err = 0, i, j;

	if (!keys)
		return -ENOMEM;
	for (i = 0; i < n && !err; i++) {
		if (!paths[i][0])
			continue;
		if (file_key(paths[i], keys[i], sizeof(keys[i])))
			snprintf(keys[i], sizeof(keys[i]), "%s", paths[i]);
		for (j = 0; j < i; j++) {
			if (paths[j][0] && !strcmp(keys[i], keys[j])) {
				fprintf(stderr, "ttbpf: %s and %s are the same file (%s%s%s): one "
					"would overwrite the other; give each its own path\n",
					what[j], what[i], paths[j],
					strcmp(paths[i], paths[j]) ? ", " : "",
					strcmp(paths[i], paths[j]) ? paths[i] : "");
				err = -EINVAL;
				break;
			}
		}
	}
	free(keys);
	return err;
}

static ssize_t cookie_write(void *c, const char *buf, size_t len)
{
	struct outfile *o = c;
	size_t done = 0;
	ssize_t n;

	if (o->err) {
		errno = o->err;
		return -1;
	}
	while (done < len) {
		n = write(o->fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			o->err = n < 0 ? errno : EIO;
			errno = o->err;
			return done ? (ssize_t)done : -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int cookie_close(void *c)
{
	return 0; /* the descriptor is closed by outfile */
}

/* Under sudo the report belongs to the user who asked for it, from its
 * first byte: only ever a file ttbpf just created. */
static void give_to_sudo_user(int fd)
{
	const char *uid_s = getenv("SUDO_UID"), *gid_s = getenv("SUDO_GID");
	char *end;
	long uid, gid;

	if (!uid_s || !gid_s || geteuid())
		return;
	uid = strtol(uid_s, &end, 10);
	if (*end || end == uid_s || uid <= 0 || uid > INT_MAX)
		return;
	gid = strtol(gid_s, &end, 10);
	if (*end || end == gid_s || gid < 0 || gid > INT_MAX)
		return;
	if (fchown(fd, (uid_t)uid, (gid_t)gid))
		return; /* best effort (a file system without owners): root keeps it */
}

static int create_temp(struct outfile *o)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t len = strlen(o->path) + sizeof(".XXXXXX");
	unsigned char rnd[6];
	int tries, i;

	o->tmp = malloc(len);
	if (!o->tmp)
		return -ENOMEM;
	for (tries = 0; tries < 100; tries++) {
		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
			return errno ? -errno : -EIO;
		snprintf(o->tmp, len, "%s.", o->path);
		for (i = 0; i < 6; i++)
			o->tmp[len - 7 + i] = chars[rnd[i] % (sizeof(chars) - 1)];
		o->tmp[len - 1] = '\0';
		o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (o->fd >= 0)
			break;
		if (errno != EEXIST)
			return -errno;
	}
	if (o->fd < 0)
		return -EEXIST;
	give_to_sudo_user(o->fd);
	if (fchmod(o->fd, 0644)) {
		int err = -errno;

		close(o->fd);
		o->fd = -1;
		unlink(o->tmp);
		return err;
	}
	return 0;
}

/* A FIFO or a device: its own descriptor, no temporary. 1: it is a regular
 * file after all (replaced since lstat), take the temporary path. */
static int open_in_place(struct outfile *o)
{
	struct stat st;

	o->fd = open(o->path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (o->fd < 0)
		return errno == ENOENT ? 1 : -errno;
	if (fstat(o->fd, &st)) {
		int err = -errno;

		close(o->fd);
		o->fd = -1;
		return err;
	}
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		close(o->fd);
		o->fd = -1;
		return 1;
	}
	return 0;
}

int outfile__open(struct outfile *o, const char *path)
{
	cookie_io_functions_t io = { .write = cookie_write, .close = cookie_close };
	struct stat st;
	int err = 0;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->path = strdup(path);
	if (!o->path)
		return -ENOMEM;
	if (is_stdout(path)) {
		o->fd = STDOUT_FILENO;
	} else if (!lstat(path, &st) && S_ISLNK(st.st_mode)) {
		err = -ELOOP;
	} else if (!lstat(path, &st) && S_ISDIR(st.st_mode)) {
		err = -EISDIR;
	} else if (!lstat(path, &st) && !S_ISREG(st.st_mode)) {
		err = open_in_place(o);
		if (err == 1)
			err = create_temp(o);
	} else {
		err = create_temp(o);
	}
	if (err)
		goto err_free;
	o->f = fopencookie(o, "w", io);
	if (!o->f) {
		err = -errno;
		goto err_free;
	}
	/* reports run to a hundred megabytes: fewer, larger writes */
	setvbuf(o->f, NULL, _IOFBF, 1 << 20);
	return 0;

err_free:
	outfile__abort(o);
	return err;
}

static void outfile__free(struct outfile *o)
{
	if (o->fd > STDOUT_FILENO)
		close(o->fd);
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
	o->fd = -1;
}

int outfile__commit(struct outfile *o)
{
	int err = 0;

	errno = 0;
	if (fflush(o->f) || ferror(o->f))
		err = o->err ? -o->err : errno ? -errno : -EIO;
	fclose(o->f);
	o->f = NULL;
	if (!err && o->tmp && fsync(o->fd))
		err = -errno;
	if (!err && o->fd > STDOUT_FILENO && close(o->fd))
		err = -errno;
	if (o->fd > STDOUT_FILENO)
		o->fd = -1;
	/* the one step by name: rename never follows a symlink at either end */
	if (!err && o->tmp && rename(o->tmp, o->path))
		err = -errno;
	if (err && o->tmp)
		unlink(o->tmp);
	outfile__free(o);
	return err;
}

void outfile__abort(struct outfile *o)
{
	if (o->f)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp && o->fd >= 0)
		unlink(o->tmp);
	outfile__free(o);
}

int outfile__write(const char *path, int (*emit)(FILE *f, void *ctx), void *ctx)
{
	struct outfile o;
	int err;

	err = outfile__open(&o, path);
	if (err) {
		if (err == -ELOOP)
			fprintf(stderr, "ttbpf: refusing to write %s: it is a symbolic link\n", path);
		else
			fprintf(stderr, "ttbpf: cannot create %s: %s\n", path, strerror(-err));
		return err;
	}
	err = emit(o.f, ctx);
	if (err || o.err) {
		/* a writer sees EIO from its FILE; the descriptor knows why */
		err = o.err ? -o.err : err;
		outfile__abort(&o);
		fprintf(stderr, "ttbpf: cannot write %s: %s\n", path, strerror(-err));
		return err;
	}
	err = outfile__commit(&o);
	if (err)
		fprintf(stderr, "ttbpf: cannot write %s: %s\n", path, strerror(-err));
	return err;
}

/* What is at dir is usable as an output directory: a directory, not a link. */
static int check_dir(const char *dir, const struct stat *st)
{
	if (S_ISLNK(st->st_mode)) {
		fprintf(stderr,
			"ttbpf: refusing to write into %s: it is a symbolic link (ttbpf never "
			"writes through one; give the directory it points to)\n", dir);
		return -ELOOP;
	}
	if (!S_ISDIR(st->st_mode)) {
		fprintf(stderr, "ttbpf: cannot write reports into %s: it is not a directory\n", dir);
		return -ENOTDIR;
	}
	return 0;
}

int outfile__make_dir(const char *dir)
{
	struct stat st;
	int fd, err;

	if (!*dir) {
		fprintf(stderr, "ttbpf: empty output directory name\n");
		return -EINVAL;
	}
	if (!lstat(dir, &st))
		return check_dir(dir, &st);
	if (errno != ENOENT || mkdir(dir, 0755)) {
		err = -errno;
		/* made meanwhile by someone else: judged as if it had been there */
		if (err == -EEXIST && !lstat(dir, &st))
			return check_dir(dir, &st);
		fprintf(stderr, "ttbpf: cannot create output directory %s: %s\n", dir,
			strerror(-err));
		return err;
	}
	/* the one just made, unless it was swapped for a link: O_NOFOLLOW */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "ttbpf: cannot open output directory %s: %s\n", dir, strerror(errno));
		return err;
	}
	give_to_sudo_user(fd);
	close(fd);
	return 0;
}
