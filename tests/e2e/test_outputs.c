// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: how reports reach their paths (issue 14). ttbpf runs as root
 * in directories other users can write: a symlink at an output path is
 * refused, one swapped in during the run changes nothing outside the
 * outputs; "-" is stdout; a device or a FIFO is written in place; under
 * sudo a new file belongs to the user from the start and a file ttbpf did
 * not create is never chowned; ENOSPC is reported as such, with nothing
 * left; one path given for two reports is refused before tracing.
 *
 * The directories are owned by nobody (65534), as a user's would be.
 */
#include <pthread.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include "e2e.h"

#define TRACE_TIMEOUT_MS 60000
#define NOBODY 65534

static char dir[64], outside[64];

static void setup(void)
{
	e2e_require_root();
	snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());
	snprintf(outside, sizeof(outside), "%s", e2e_tmpdir());
	cr_assert_eq(chown(dir, NOBODY, NOBODY), 0, "chown %s: %s", dir, strerror(errno));
}

static void done(void)
{
	e2e_rmtree(dir);
	e2e_rmtree(outside);
}

static void path_in(char *buf, size_t len, const char *d, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", d, name);

	cr_assert(n > 0 && (size_t)n < len);
}

static void put(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	cr_assert(f, "%s: %s", path, strerror(errno));
	fputs(s, f);
	cr_assert_eq(fclose(f), 0);
}

static char *get(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY | O_NOFOLLOW);
	ssize_t n;

	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* ttbpf OPTS [-- true]: exit status, stderr in *err (static). */
static int tool(bool trace, const char **err, char *const *opts, struct proc *keep)
{
	static char buf[8192];
	char *argv[32];
	struct proc p;
	int n = 0, rc;

	argv[n++] = (char *)e2e_tool();
	if (trace)
		argv[n++] = "-q";
	while (*opts)
		argv[n++] = *opts++;
	if (trace) {
		argv[n++] = "--";
		argv[n++] = "true";
	}
	argv[n] = NULL;
	rc = run(&p, argv, TRACE_TIMEOUT_MS);
	e2e_expect_no_crash(&p);
	snprintf(buf, sizeof(buf), "%s", p.err);
	if (err)
		*err = buf;
	if (keep)
		*keep = p;
	else
		proc_free(&p);
	return rc;
}

/* A saved report to draw from (`ttbpf report`, no BPF per run). */
static void make_json(char *json, size_t len)
{
	const char *err;
	int rc;

	path_in(json, len, outside, "in.json");
	rc = tool(true, &err, (char *[]){ "--json", json, NULL }, NULL);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, err);
}

Test(outputs, symlink_at_the_path_is_refused, .timeout = 180)
{
	char json[300], canary[300], link[300], real[300], ldir[300], via[300];
	const char *err;
	struct stat st;
	int rc;

	setup();
	make_json(json, sizeof(json));
	path_in(canary, sizeof(canary), outside, "canary");
	put(canary, "canary\n");
	path_in(link, sizeof(link), dir, "out");
	cr_assert_eq(symlink(canary, link), 0);

	rc = tool(false, &err, (char *[]){ "report", json, "--svg", link, NULL }, NULL);
	cr_expect_neq(rc, 0, "--svg through a symlink: exit 0");
	cr_expect(strstr(err, "symbolic link") && strstr(err, link), "stderr: %s", err);
	rc = tool(false, &err, (char *[]){ "report", json, "--png", link, NULL }, NULL);
	cr_expect_neq(rc, 0, "--png through a symlink: exit 0");
	rc = tool(true, &err, (char *[]){ "--json", link, NULL }, NULL);
	cr_expect_neq(rc, 0, "--json through a symlink: exit 0");
	cr_expect(strstr(err, "symbolic link"), "stderr: %s", err);
	cr_expect(!strstr(err, "Tracing") && !strstr(err, "attached"), "traced first: %s", err);
	cr_expect_eq(lstat(link, &st), 0);
	cr_expect(S_ISLNK(st.st_mode), "the symlink was replaced");
	cr_expect_str_eq(get(canary), "canary\n", "the canary was written");

	/* a symlinked directory on the way is the user's business: written */
	path_in(real, sizeof(real), outside, "realdir");
	cr_assert_eq(mkdir(real, 0755), 0);
	path_in(ldir, sizeof(ldir), dir, "ldir");
	cr_assert_eq(symlink(real, ldir), 0);
	path_in(via, sizeof(via), ldir, "x.svg");
	rc = tool(false, &err, (char *[]){ "report", json, "--svg", via, NULL }, NULL);
	cr_expect_eq(rc, 0, "--svg via a symlinked directory: exit %d\n%s", rc, err);
	path_in(via, sizeof(via), real, "x.svg");
	cr_expect_eq(stat(via, &st), 0, "%s not written", via);
	done();
}

static volatile bool racing;
static char race_canary[300];

/* The other user: whatever ttbpf creates in dir becomes a symlink to the canary. */
static void *swapper(void *arg)
{
	struct dirent *e;
	char p[400];
	struct stat st;

	while (racing) {
		DIR *d = opendir(dir);

		if (!d)
			continue;
		while ((e = readdir(d))) {
			if (strncmp(e->d_name, "out.", 4))
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			if (lstat(p, &st) || !S_ISREG(st.st_mode))
				continue;
			unlink(p);
			symlink(race_canary, p);
		}
		closedir(d);
	}
	return NULL;
}

Test(outputs, symlink_swapped_in_during_the_run_writes_nothing_else, .timeout = 300)
{
	char json[300], png[300], svg[300], ls[300];
	pthread_t t;
	int i;

	setup();
	make_json(json, sizeof(json));
	path_in(race_canary, sizeof(race_canary), outside, "canary");
	put(race_canary, "canary\n");
	path_in(png, sizeof(png), dir, "out.png");
	path_in(svg, sizeof(svg), dir, "out.svg");
	racing = true;
	cr_assert_eq(pthread_create(&t, NULL, swapper, NULL), 0);
	for (i = 0; i < 40; i++) {
		unlink(png);
		unlink(svg);
		/* the exit status is not the point: the canary is */
		tool(false, NULL, (char *[]){ "report", json, "--svg", svg, "--png", png, NULL }, NULL);
		if (strcmp(get(race_canary), "canary\n"))
			break;
	}
	racing = false;
	pthread_join(t, NULL);
	cr_expect_str_eq(get(race_canary), "canary\n", "run %d wrote through the symlink", i);
	(void)ls;
	done();
}

Test(outputs, dash_is_stdout, .timeout = 120)
{
	char svg[300];
	json_error_t je;
	struct proc p;
	const char *err;
	json_t *j;
	int rc;

	setup();
	unlink("-");
	path_in(svg, sizeof(svg), dir, "x.svg");
	rc = tool(true, &err, (char *[]){ "--json", "-", "--svg", svg, NULL }, &p);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, err);
	j = json_loads(p.out, 0, &je);
	cr_expect(j, "stdout is not JSON (%s): %.200s", je.text, p.out);
	cr_expect_eq(json_integer_value(json_object_get(j, "format_version")), 1);
	json_decref(j);
	cr_expect_neq(access("-", F_OK), 0, "a file named - was created");
	cr_expect_eq(access(svg, F_OK), 0, "the picture was not drawn from it");
	proc_free(&p);
	done();
}

Test(outputs, devices_are_written_in_place, .timeout = 120)
{
	char node[300];
	const char *err;
	struct stat st;
	int rc;

	setup();
	/* a private /dev/null first: the old code replaced the device */
	path_in(node, sizeof(node), dir, "null");
	cr_assert_eq(mknod(node, S_IFCHR | 0666, makedev(1, 3)), 0, "mknod: %s", strerror(errno));
	rc = tool(true, &err, (char *[]){ "--json", node, NULL }, NULL);
	cr_expect_eq(rc, 0, "exit %d:\n%s", rc, err);
	cr_assert(!lstat(node, &st) && S_ISCHR(st.st_mode), "%s is no longer a device", node);
	cr_expect_eq(st.st_uid, 0, "the device was chowned");
	rc = tool(true, &err, (char *[]){ "--json", "/dev/null", NULL }, NULL);
	cr_expect_eq(rc, 0, "exit %d:\n%s", rc, err);
	cr_expect(!lstat("/dev/null", &st) && S_ISCHR(st.st_mode), "/dev/null replaced");
	done();
}

Test(outputs, fifo_gets_the_report_in_place, .timeout = 120)
{
	char fifo[300], *argv[] = { (char *)e2e_tool(), "-q", "--json", fifo, "--", "true", NULL };
	static char buf[1 << 20];
	uint64_t end;
	size_t len = 0;
	struct pollfd pf;
	struct stat st;
	struct proc p;
	json_t *j;
	bool eof = false;
	int fd, rc;

	setup();
	path_in(fifo, sizeof(fifo), dir, "fifo");
	cr_assert_eq(mkfifo(fifo, 0666), 0);
	fd = open(fifo, O_RDONLY | O_NONBLOCK);
	cr_assert(fd >= 0);
	cr_assert_eq(setenv("SUDO_UID", "65534", 1), 0);
	cr_assert_eq(setenv("SUDO_GID", "65534", 1), 0);
	proc_start(&p, argv, false);
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
	/* no POLLHUP on a FIFO until a writer came: wait for the writer's EOF */
	end = e2e_now_ms() + TRACE_TIMEOUT_MS;
	while (!eof && e2e_now_ms() < end) {
		pf = (struct pollfd){ .fd = fd, .events = POLLIN };
		proc_pump(&p, 0);
		if (poll(&pf, 1, 100) <= 0)
			continue;
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (n > 0)
			len += (size_t)n;
		else if (n == 0)
			eof = true;
		if (proc_exits_within(&p, 0) && !(pf.revents & POLLIN))
			break;
	}
	close(fd);
	rc = proc_finish(&p, TRACE_TIMEOUT_MS);
	cr_expect_eq(rc, 0, "exit %d:\n%s", rc, p.err);
	buf[len] = '\0';
	j = json_loads(buf, 0, NULL);
	cr_expect(j, "the FIFO did not get the JSON (%zu bytes)", len);
	json_decref(j);
	cr_expect(!lstat(fifo, &st) && S_ISFIFO(st.st_mode), "the FIFO was replaced");
	cr_expect_eq(st.st_uid, 0, "the FIFO was chowned");
	proc_free(&p);
	done();
}

/* inotify: the first write to a name after its last change of owner or mode */
static void expect_owned_before_written(int in, const char *what)
{
	char buf[65536], modified[64][256];
	int nmod = 0, i;
	ssize_t n;

	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (char *q = buf; q < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)q;

			if (ev->len && (ev->mask & IN_MODIFY) && nmod < 64)
				snprintf(modified[nmod++], 256, "%s", ev->name);
			if (ev->len && (ev->mask & IN_ATTRIB))
				for (i = 0; i < nmod; i++)
					cr_expect_str_neq(modified[i], ev->name,
							  "%s: %s changed owner or mode after it was written",
							  what, ev->name);
			q += sizeof(*ev) + ev->len;
		}
	}
}

Test(outputs, sudo_user_owns_new_files_from_the_start, .timeout = 180)
{
	char json[300], svg[300], out[300], pre[300], alias[300];
	const char *err;
	struct stat st, old;
	int in, rc;

	setup();
	make_json(json, sizeof(json));
	path_in(svg, sizeof(svg), dir, "x.svg");
	path_in(out, sizeof(out), dir, "x.json");
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	cr_assert(in >= 0);
	cr_assert(inotify_add_watch(in, dir, IN_MODIFY | IN_ATTRIB) >= 0);
	cr_assert_eq(setenv("SUDO_UID", "65534", 1), 0);
	cr_assert_eq(setenv("SUDO_GID", "65534", 1), 0);
	rc = tool(false, &err, (char *[]){ "report", json, "--svg", svg, NULL }, NULL);
	cr_expect_eq(rc, 0, "exit %d:\n%s", rc, err);
	rc = tool(true, &err, (char *[]){ "--json", out, NULL }, NULL);
	cr_expect_eq(rc, 0, "exit %d:\n%s", rc, err);
	expect_owned_before_written(in, "new file");
	cr_expect(!stat(svg, &st) && st.st_uid == NOBODY && st.st_gid == NOBODY, "svg uid %d",
		  (int)st.st_uid);
	cr_expect(!stat(out, &st) && st.st_uid == NOBODY && (st.st_mode & 0777) == 0644,
		  "json uid %d mode %o", (int)st.st_uid, st.st_mode & 0777);

	/* a file already there (root's, linked from elsewhere): replaced by a new
	 * file of the user's; the old one is neither changed nor chowned */
	path_in(pre, sizeof(pre), dir, "pre.json");
	path_in(alias, sizeof(alias), outside, "alias");
	put(alias, "root's\n");
	cr_assert_eq(chmod(alias, 0600), 0);
	cr_assert_eq(link(alias, pre), 0);
	cr_assert_eq(stat(alias, &old), 0);
	rc = tool(true, &err, (char *[]){ "--json", pre, NULL }, NULL);
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
	cr_expect_eq(rc, 0, "exit %d:\n%s", rc, err);
	expect_owned_before_written(in, "replacing file");
	cr_assert_eq(stat(alias, &st), 0);
	cr_expect(st.st_uid == 0 && (st.st_mode & 0777) == 0600, "the old file was chowned");
	cr_expect_str_eq(get(alias), "root's\n", "the old file was written");
	cr_expect(!stat(pre, &st) && st.st_ino != old.st_ino && st.st_uid == NOBODY,
		  "new file: ino %llu uid %d", (unsigned long long)st.st_ino, (int)st.st_uid);
	close(in);
	done();
}

Test(outputs, enospc_is_reported_and_leaves_nothing, .timeout = 180)
{
	char json[300], small[300], fill[300], svg[300], out[300], buf[4096] = { 0 };
	const char *err;
	struct dirent *e;
	DIR *d;
	int fd, rc;

	setup();
	make_json(json, sizeof(json));
	path_in(small, sizeof(small), dir, "small");
	cr_assert_eq(mkdir(small, 0755), 0);
	cr_assert_eq(mount("tmpfs", small, "tmpfs", 0, "size=64k"), 0, "mount: %s", strerror(errno));
	path_in(fill, sizeof(fill), small, "fill");
	fd = open(fill, O_WRONLY | O_CREAT, 0644);
	while (write(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	path_in(svg, sizeof(svg), small, "x.svg");
	path_in(out, sizeof(out), small, "x.json");
	rc = tool(false, &err, (char *[]){ "report", json, "--svg", svg, NULL }, NULL);
	cr_expect_neq(rc, 0, "svg on a full disk: exit 0");
	cr_expect(strstr(err, "No space left on device"), "svg: %s", err);
	rc = tool(true, &err, (char *[]){ "--json", out, NULL }, NULL);
	cr_expect_neq(rc, 0, "json on a full disk: exit 0");
	cr_expect(strstr(err, "No space left on device"), "json: %s", err);
	d = opendir(small);
	while (d && (e = readdir(d)))
		cr_expect(e->d_name[0] == '.' || !strcmp(e->d_name, "fill"), "left: %s", e->d_name);
	if (d)
		closedir(d);
	umount2(small, MNT_DETACH);
	done();
}

Test(outputs, one_path_for_two_reports_is_refused, .timeout = 120)
{
	char x[300], x2[300], dj[300], json[300];
	const char *err;
	int rc;

	setup();
	make_json(json, sizeof(json));
	path_in(x, sizeof(x), dir, "x");
	path_in(x2, sizeof(x2), dir, "./x");
	path_in(dj, sizeof(dj), dir, "ttbpf.json");
	rc = tool(true, &err, (char *[]){ "--json", x, "--svg", x, NULL }, NULL);
	cr_expect_eq(rc, 1, "--json x --svg x: exit %d", rc);
	cr_expect(strstr(err, "same file"), "stderr: %s", err);
	rc = tool(true, &err, (char *[]){ "-o", dir, "--json", dj, "--svg", x, NULL }, NULL);
	cr_expect_eq(rc, 0, "-o DIR --json DIR/ttbpf.json (the same report): exit %d\n%s", rc, err);
	rc = tool(true, &err, (char *[]){ "-o", dir, "--svg", dj, NULL }, NULL);
	cr_expect_eq(rc, 1, "-o DIR --svg DIR/ttbpf.json: exit %d", rc);
	cr_expect(strstr(err, "same file"), "stderr: %s", err);
	rc = tool(true, &err, (char *[]){ "--json", x, "--folded", x2, NULL }, NULL);
	cr_expect_eq(rc, 1, "--json x --folded ./x: exit %d", rc);
	rc = tool(false, &err, (char *[]){ "report", json, "--svg", x, "--png", x2, NULL }, NULL);
	cr_expect_eq(rc, 1, "report --svg x --png ./x: exit %d", rc);
	rc = tool(false, &err, (char *[]){ "report", json, "--svg", json, NULL }, NULL);
	cr_expect_eq(rc, 1, "report over its own input: exit %d", rc);
	done();
}

/* `-o DIR`: DIR made (mode 0755 less the umask, the sudo user's), the four
 * reports in it (JSON, pprof, PNG, SVG); a symlink or a file there refused before tracing; no
 * parent, no directory made. */
Test(outputs, output_dir_is_created, .timeout = 180)
{
	char made[300], sub[300], link[300], file[300], orphan[300], p[340];
	static const char *const four[] = { "ttbpf.json", "ttbpf.pb.gz", "ttbpf.png", "ttbpf.svg",
					    NULL };
	static const char *const two[] = { "ttbpf.png", "ttbpf.svg", NULL };
	static const char *const none[] = { NULL };
	const char *err;
	struct stat st;
	mode_t old;
	int rc;

	setup();
	path_in(made, sizeof(made), dir, "reports");
	old = umask(022);
	rc = tool(true, &err, (char *[]){ "-o", made, NULL }, NULL);
	cr_expect_eq(rc, 0, "-o a new directory: exit %d\n%s", rc, err);
	cr_assert_eq(lstat(made, &st), 0, "%s was not made", made);
	cr_expect(S_ISDIR(st.st_mode), "not a directory");
	cr_expect_eq(st.st_mode & 07777, 0755, "mode %o", st.st_mode & 07777);
	e2e_expect_dir_holds(made, four);

	/* the umask is honoured, and the directory goes to the sudo user */
	umask(077);
	path_in(sub, sizeof(sub), dir, "private");
	setenv("SUDO_UID", "65534", 1);
	setenv("SUDO_GID", "65534", 1);
	rc = tool(true, &err, (char *[]){ "-o", sub, NULL }, NULL);
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
	umask(old);
	cr_expect_eq(rc, 0, "-o under umask 077: exit %d\n%s", rc, err);
	cr_assert_eq(lstat(sub, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0700, "mode %o under umask 077", st.st_mode & 07777);
	cr_expect_eq(st.st_uid, NOBODY, "owner %u, not the sudo user", st.st_uid);
	path_in(p, sizeof(p), sub, "ttbpf.json");
	cr_expect_eq(stat(p, &st), 0, "no report in %s", sub);

	/* a symlink at DIR, even to a directory: refused, nothing written there */
	path_in(link, sizeof(link), dir, "link");
	cr_assert_eq(symlink(outside, link), 0);
	rc = tool(true, &err, (char *[]){ "-o", link, NULL }, NULL);
	cr_expect_eq(rc, 1, "-o a symlink: exit %d", rc);
	cr_expect(strstr(err, "symbolic link"), "stderr: %s", err);
	e2e_expect_dir_holds(outside, none);

	/* a file at DIR */
	path_in(file, sizeof(file), dir, "file");
	put(file, "x");
	rc = tool(true, &err, (char *[]){ "-o", file, NULL }, NULL);
	cr_expect_eq(rc, 1, "-o a file: exit %d", rc);
	cr_expect(strstr(err, "not a directory"), "stderr: %s", err);
	cr_expect_str_eq(get(file), "x", "the file was changed");

	/* no parent: an error, no directory tree made */
	path_in(orphan, sizeof(orphan), dir, "no/such");
	rc = tool(true, &err, (char *[]){ "-o", orphan, NULL }, NULL);
	cr_expect_eq(rc, 1, "-o without its parent: exit %d", rc);
	cr_expect(strstr(err, "No such file or directory"), "stderr: %s", err);

	/* `ttbpf report -o NEWDIR` too */
	path_in(sub, sizeof(sub), dir, "again");
	path_in(p, sizeof(p), made, "ttbpf.json");
	rc = tool(false, &err, (char *[]){ "report", p, "-o", sub, NULL }, NULL);
	cr_expect_eq(rc, 0, "report -o a new directory: exit %d\n%s", rc, err);
	e2e_expect_dir_holds(sub, two);
	done();
}
