// SPDX-License-Identifier: Apache-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "elf_syms.h"
#include "procmem.h"
#include "target.h"
#include "text_clean.h"

#define CMDLINE_MAX 4096

/* Who a process runs as: real and effective user and group ids. */
struct creds {
	unsigned int uid, euid, gid, egid;
};

/* A task (thread) traced with -f, and its process; a process leader keeps
 * who the process ran as when last seen (born, or its last exec), to see an
 * exec that changes that (setuid, setgid). */
struct tracee {
	pid_t tid, tgid;
	struct creds creds;
	bool creds_known;
};

struct target {
	pid_t pid;
	bool launched;
	bool exited;    /* nothing left to trace: the target (and with -f, every
			 * process followed) has ended */
	bool ended;     /* the target itself has ended */
	int status;     /* waitpid status, once ended (launched, or followed) */
	int go_fd;      /* launch: write end the child waits on */
	int exec_fd;    /* launch: read end; carries errno if execvp failed */
	int pidfd;      /* attach: readable once the process exits */
	bool ptraced;   /* launch: seized, to stop at its exit */
	bool follow;    /* -f: every task of every process is traced */
	bool execed;    /* launch: the command's own exec was seen */
	struct tracee *tr; /* -f: the tasks traced */
	size_t tr_cnt, tr_cap;
	bool root_let_go; /* -f: the launched target was let go (see let_go()) */
	int procs_live; /* -f: processes not yet ended, the target included */
	struct target_hooks hooks;
	char *argv0;    /* launch: the command as given */
	char command[CMDLINE_MAX];
};

/* What following children asks of ptrace: their births, execs and exits. */
#define FOLLOW_OPTS (PTRACE_O_TRACEEXIT | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | \
		     PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC)

static struct target *target_alloc(void)
{
	struct target *t = calloc(1, sizeof(*t));

	if (t)
		t->go_fd = t->exec_fd = t->pidfd = -1;
	return t;
}

static void join_args(char *buf, size_t len, char **argv)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; argv[i] && off + 1 < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? " " : "", argv[i]);

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static void explain_follow_error(int pid, int err)
{
	if (err == -EPERM)
		fprintf(stderr, "ttbpf: cannot follow the forks of pid %d: ptrace refused (is it "
				"already traced, by a debugger? or is ptrace restricted: "
				"kernel.yama.ptrace_scope?)\n", pid);
	else
		fprintf(stderr, "ttbpf: cannot follow the forks of pid %d: ptrace: %s\n", pid,
			strerror(-err));
}

/* The ids of pid, from /proc/PID/status ("Uid: real effective saved fs"). */
static int proc_creds(pid_t pid, struct creds *c)
{
	char path[64], line[256];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (found < 2 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Uid: %u %u", &c->uid, &c->euid) == 2 ||
		    sscanf(line, "Gid: %u %u", &c->gid, &c->egid) == 2)
			found++;
	}
	fclose(f);
	return found == 2 ? 0 : -EIO;
}

static int tracee_add(struct target *t, pid_t tid, pid_t tgid)
{
	if (t->tr_cnt == t->tr_cap) {
		size_t cap = t->tr_cap ? 2 * t->tr_cap : 64;
		struct tracee *n = realloc(t->tr, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->tr = n;
		t->tr_cap = cap;
	}
	t->tr[t->tr_cnt].tid = tid;
	t->tr[t->tr_cnt].tgid = tgid;
	t->tr[t->tr_cnt].creds_known = tid == tgid && !proc_creds(tid, &t->tr[t->tr_cnt].creds);
	t->tr_cnt++;
	return 0;
}

static struct tracee *tracee_find(struct target *t, pid_t tid)
{
	size_t i;

	for (i = 0; i < t->tr_cnt; i++)
		if (t->tr[i].tid == tid)
			return &t->tr[i];
	return NULL;
}

static void tracee_remove(struct target *t, pid_t tid)
{
	struct tracee *tr = tracee_find(t, tid);

	if (tr)
		*tr = t->tr[--t->tr_cnt];
}

/* SIGPIPE as ttbpf was started with, for the command (SIG_DFL unless set). */
static struct sigaction inherited_sigpipe = { .sa_handler = SIG_DFL };

void target__ignore_sigpipe(void)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };

	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &inherited_sigpipe);
}

int target__launch(struct target **out, char **argv, bool follow)
{
	int go[2], ex[2], err;
	struct target *t;
	char c;

	t = target_alloc();
	if (!t)
		return -ENOMEM;
	if (pipe2(go, O_CLOEXEC) || pipe2(ex, O_CLOEXEC)) {
		err = -errno;
		fprintf(stderr, "ttbpf: cannot start %s: %s\n", argv[0], strerror(-err));
		free(t);
		return err;
	}
	t->pid = fork();
	if (t->pid < 0) {
		err = -errno;
		fprintf(stderr, "ttbpf: cannot start %s: %s\n", argv[0], strerror(-err));
		close(go[0]), close(go[1]), close(ex[0]), close(ex[1]);
		free(t);
		return err;
	}
	if (t->pid == 0) {
		/* nothing here may allocate: the probes may already count us */
		close(go[1]);
		close(ex[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(1); /* ttbpf gave up before attaching */
		/* an ignored signal stays ignored across exec: ours must not */
		sigaction(SIGPIPE, &inherited_sigpipe, NULL);
		execvp(argv[0], argv);
		err = errno;
		if (write(ex[1], &err, sizeof(err)) < 0)
			_exit(TT_EXIT_NOT_EXEC);
		_exit(err == ENOENT ? TT_EXIT_NOT_FOUND : TT_EXIT_NOT_EXEC);
	}
	close(go[0]);
	close(ex[1]);
	t->go_fd = go[1];
	t->exec_fd = ex[0];
	/* Without -f only the exit event: the one moment its mappings are
	 * complete and still readable; signals are passed straight on. */
	t->ptraced = !ptrace(PTRACE_SEIZE, t->pid, 0, follow ? FOLLOW_OPTS : PTRACE_O_TRACEEXIT);
	if (follow) {
		err = t->ptraced ? tracee_add(t, t->pid, t->pid) : -errno;
		if (err) {
			explain_follow_error(t->pid, err);
			t->launched = true;
			target__free(t); /* the held child sees EOF and exits */
			return err;
		}
		t->follow = true;
		t->procs_live = 1;
	}
	t->launched = true;
	t->argv0 = argv[0];
	join_args(t->command, sizeof(t->command), argv);
	*out = t;
	return 0;
}

#define PF_KTHREAD 0x00200000 /* include/linux/sched.h */

/* 'Z' zombie, 'K' kernel thread, 'U' user process, 0 gone: from
 * /proc/PID/stat (state, and the flags field). */
static char proc_kind(int pid)
{
	char path[64], buf[1024], *p, state;
	unsigned long flags = 0;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* the command may hold spaces and parentheses: fields follow the last ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c", &state) != 1)
		return 0;
	if (state == 'Z' || state == 'X')
		return 'Z';
	/* p + 2 is field 3 (state); field 9 (flags) follows 6 more spaces */
	p += 2;
	for (i = 0; i < 6 && p; i++)
		p = strchr(p + 1, ' ');
	if (p)
		flags = strtoul(p + 1, NULL, 10);
	return flags & PF_KTHREAD ? 'K' : 'U';
}

/* Tgid and parent of a task, from /proc/TID/status. */
static int task_ids(pid_t tid, pid_t *tgid, pid_t *ppid)
{
	char path[64], line[256];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (found < 2 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Tgid: %d", tgid) == 1 || sscanf(line, "PPid: %d", ppid) == 1)
			found++;
	}
	fclose(f);
	return found == 2 ? 0 : -EIO;
}

/* -f on a running process: every thread is seized (a fork may come from any
 * of them); threads they start from then on are attached by the kernel. */
static int seize_threads(struct target *t)
{
	char path[64];
	int pass, added, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", t->pid);
	for (pass = 0; pass < 1000 && !err; pass++) {
		struct dirent *de;
		DIR *d = opendir(path);

		if (!d)
			return -errno;
		added = 0;
		while (!err && (de = readdir(d))) {
			pid_t tid = (pid_t)atoi(de->d_name);

			if (tid <= 0 || tracee_find(t, tid))
				continue;
			if (ptrace(PTRACE_SEIZE, tid, 0, FOLLOW_OPTS)) {
				if (errno != ESRCH) /* ESRCH: it has just exited */
					err = -errno;
				continue;
			}
			err = tracee_add(t, tid, t->pid);
			added++;
		}
		closedir(d);
		if (!added)
			break;
	}
	return err;
}

int target__attach(struct target **out, int pid, bool follow)
{
	char path[64], exe[PATH_MAX];
	pid_t tgid, ppid;
	struct target *t;

	if (pid == getpid()) {
		fprintf(stderr, "ttbpf: refusing to trace itself (pid %d)\n", pid);
		return -EINVAL;
	}
	if (kill(pid, 0) && errno == ESRCH) {
		fprintf(stderr, "ttbpf: no such process: %d\n", pid);
		return -ESRCH;
	}
	/* a thread's id (ps -L, top -H, gettid()): the heap is its process's */
	if (!task_ids(pid, &tgid, &ppid) && tgid > 0 && tgid != pid) {
		fprintf(stderr, "ttbpf: %d is a thread of process %d: tracing process %d\n", pid,
			tgid, tgid);
		pid = tgid;
		if (pid == getpid()) {
			fprintf(stderr, "ttbpf: refusing to trace itself (pid %d)\n", pid);
			return -EINVAL;
		}
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (readlink(path, exe, sizeof(exe)) < 0) {
		if (errno == ENOENT) {
			switch (proc_kind(pid)) {
			case 'Z':
				fprintf(stderr, "ttbpf: pid %d has exited (a zombie)\n", pid);
				return -ESRCH;
			case 'K':
				fprintf(stderr, "ttbpf: pid %d is a kernel thread: it has no user-space "
						"heap\n", pid);
				return -EINVAL;
			case 'U':
				fprintf(stderr, "ttbpf: cannot inspect pid %d: its executable is gone\n",
					pid);
				return -ENOENT;
			default:
				fprintf(stderr, "ttbpf: no such process: %d\n", pid);
				return -ESRCH;
			}
		}
		fprintf(stderr, "ttbpf: cannot inspect pid %d: %s (needs root; try sudo)\n", pid,
			strerror(errno));
		return -errno;
	}
	t = target_alloc();
	if (!t)
		return -ENOMEM;
	t->pid = pid;
	t->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	procmem__cmdline(pid, t->command, sizeof(t->command));
	if (follow) {
		int err = seize_threads(t);

		if (err) {
			explain_follow_error(pid, err);
			target__free(t); /* the threads seized are let go */
			return err;
		}
		t->follow = true;
		t->procs_live = 1;
	}
	*out = t;
	return 0;
}

void target__free(struct target *t)
{
	if (!t)
		return;
	if (t->go_fd >= 0)
		close(t->go_fd); /* a held child sees EOF and exits */
	if (t->launched && !t->ended)
		target__wait(t);
	if (t->exec_fd >= 0)
		close(t->exec_fd);
	if (t->pidfd >= 0)
		close(t->pidfd);
	/* tasks still traced (they outlived tracing) run on untraced */
	for (size_t i = 0; i < t->tr_cnt; i++)
		ptrace(PTRACE_DETACH, t->tr[i].tid, 0, 0);
	free(t->tr);
	free(t);
}

int target__pid(const struct target *t)
{
	return t->pid;
}

bool target__launched(const struct target *t)
{
	return t->launched;
}

bool target__ptraced(const struct target *t)
{
	return t->ptraced || t->follow;
}

const char *target__command(const struct target *t)
{
	return t->command;
}

/* PATH lookup as execvp does it, to find out what the child will run */
static int resolve_command(const char *cmd, char *buf, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;

	if (strchr(cmd, '/')) {
		snprintf(buf, len, "%s", cmd);
		return access(buf, X_OK) ? -errno : 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p; p = *end ? end + 1 : end) {
		struct stat st;

		end = strchrnul(p, ':');
		snprintf(buf, len, "%.*s%s%s", (int)(end - p), p, end == p ? "" : "/", cmd);
		if (!stat(buf, &st) && S_ISREG(st.st_mode) && !access(buf, X_OK))
			return 0;
	}
	return -ENOENT;
}

/* glibc's libc.so.6 (older: libc-2.NN.so), musl's loader-and-libc: by exact
 * name, not prefix (libc-client.so is not a libc). */
static bool is_libc(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (!strcmp(base, "libc.so.6") || !strcmp(base, "libc.so"))
		return true;
	if (!strncmp(base, "libc-", 5) && base[5] >= '0' && base[5] <= '9' && n > 8 &&
	    !strcmp(base + n - 3, ".so"))
		return true;
	return !strncmp(base, "ld-musl-", 8) && n > 8 && !strcmp(base + n - 5, ".so.1");
}

/* A candidate is taken only if it really has malloc and free. */
static bool has_allocator(const char *path)
{
	static const char *const names[] = { "malloc", "free" };
	struct elf_func f[2];

	return !elf_syms__funcs(path, names, 2, f) && f[0].offset && f[1].offset;
}

/*
 * Where the file a mapping shows is, for us: the path through the target's
 * root when that is the very file (same device and inode), else the mapping
 * itself. A chroot'ed target's maps name files as the host sees them, and a
 * file replaced on disk is "(deleted)": /proc/PID/map_files still opens them.
 */
static void mapped_file_path(int pid, const char *path, unsigned long lo, unsigned long hi,
			     unsigned int dev_major, unsigned int dev_minor, unsigned long inode,
			     char *buf, size_t len)
{
	struct stat st;

	if (pid == getpid())
		snprintf(buf, len, "%s", path);
	else
		snprintf(buf, len, "/proc/%d/root%s", pid, path);
	if (!strstr(path, " (deleted)") && !stat(buf, &st) && st.st_ino == inode &&
	    major(st.st_dev) == dev_major && minor(st.st_dev) == dev_minor)
		return;
	snprintf(buf, len, "/proc/%d/map_files/%lx-%lx", pid, lo, hi);
}

/* The libc mapped by pid, as a path we can open. */
static int find_mapped_libc(int pid, char *buf, size_t len)
{
	char maps[64], *line = NULL;
	size_t cap = 0;
	int err = -ENOENT;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	f = fopen(maps, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		unsigned long lo, hi, inode;
		unsigned int dmaj, dmin;
		char perms[8], *path, *nl;
		int off = 0;

		if (sscanf(line, "%lx-%lx %7s %*s %x:%x %lu %n", &lo, &hi, perms, &dmaj, &dmin, &inode,
			   &off) < 6 || !off)
			continue;
		path = line + off;
		if ((nl = strchr(path, '\n')))
			*nl = '\0';
		/* the code mapping of a file named like a libc */
		if (path[0] != '/' || perms[2] != 'x' || !is_libc(path))
			continue;
		mapped_file_path(pid, path, lo, hi, dmaj, dmin, inode, buf, len);
		if (!has_allocator(buf))
			continue;
		err = 0;
		break;
	}
	free(line);
	fclose(f);
	return err;
}

int target__exe(const struct target *t, char *buf, size_t len)
{
	if (t->launched)
		return resolve_command(t->argv0, buf, len);
	snprintf(buf, len, "/proc/%d/exe", t->pid);
	return 0;
}

bool target__tools_disabled(const struct target *t)
{
	static const char key[] = "TRACE_TOOLS_DISABLED=1";
	char path[64], buf[65536];
	const char *v;
	ssize_t n, i;
	int fd;

	if (t->launched) {
		v = getenv("TRACE_TOOLS_DISABLED");
		return v && !strcmp(v, "1");
	}
	snprintf(path, sizeof(path), "/proc/%d/environ", t->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	/* a bounded read: an environment larger than this is not searched further */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	for (i = 0; n > 0 && i < n; i += (ssize_t)strnlen(buf + i, (size_t)(n - i)) + 1)
		if ((size_t)(n - i) >= sizeof(key) - 1 && !memcmp(buf + i, key, sizeof(key) - 1) &&
		    (i + (ssize_t)sizeof(key) - 1 == n || buf[i + sizeof(key) - 1] == '\0'))
			return true;
	return false;
}

int target__allocator(const struct target *t, const char *lib_path, char *buf, size_t len)
{
	char exe[PATH_MAX];
	int err;

	if (lib_path) {
		if (!access(lib_path, R_OK)) {
			snprintf(buf, len, "%s", lib_path);
			return 0;
		}
		if (!t->launched) {
			/* a path inside the target's mount namespace */
			snprintf(buf, len, "/proc/%d/root%s", t->pid, lib_path);
			if (!access(buf, R_OK))
				return 0;
		}
		fprintf(stderr, "ttbpf: cannot read --lib %s: %s\n", TEXT_CLEAN(lib_path), strerror(errno));
		return -ENOENT;
	}

	if (t->launched) {
		/* A static command carries its own malloc; a dynamic one gets the
		 * libc we map ourselves, from the same root. */
		if (!resolve_command(t->argv0, exe, sizeof(exe)) && elf_syms__is_static(exe) == 1) {
			snprintf(buf, len, "%s", exe);
			return 0;
		}
		err = find_mapped_libc(getpid(), buf, len);
	} else {
		err = find_mapped_libc(t->pid, buf, len);
		if (err == -ENOENT) {
			snprintf(buf, len, "/proc/%d/exe", t->pid);
			if (elf_syms__is_static(buf) == 1)
				return 0;
		}
	}
	if (err)
		fprintf(stderr, "ttbpf: cannot find the libc of pid %d: %s; name the allocator with --lib\n",
			t->pid, strerror(-err));
	return err;
}

int target__release(struct target *t)
{
	ssize_t n;
	int err = 0;

	if (!t->launched)
		return 0;
	if (write(t->go_fd, "g", 1) != 1)
		return TT_EXIT_NOT_EXEC;
	close(t->go_fd);
	t->go_fd = -1;
	/* EOF: the exec closed the pipe (O_CLOEXEC); data: execvp's errno */
	do
		n = read(t->exec_fd, &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(t->exec_fd);
	t->exec_fd = -1;
	if (n != sizeof(err))
		return 0;
	if (err == ENOENT) {
		fprintf(stderr, "ttbpf: %s: command not found\n", TEXT_CLEAN(t->argv0));
		target__wait(t);
		return TT_EXIT_NOT_FOUND;
	}
	fprintf(stderr, "ttbpf: cannot execute %s: %s\n", TEXT_CLEAN(t->argv0), strerror(err));
	target__wait(t);
	return TT_EXIT_NOT_EXEC;
}

void target__set_hooks(struct target *t, const struct target_hooks *h)
{
	if (h)
		t->hooks = *h;
	else
		memset(&t->hooks, 0, sizeof(t->hooks));
}

static int shell_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/* -f: a task we did not know of (a fork, or a thread): a new process is
 * handed to the spawned hook while it is still held. */
static void new_task(struct target *t, pid_t tid, pid_t tgid, pid_t parent)
{
	if (tracee_find(t, tid))
		return;
	if (!tgid && task_ids(tid, &tgid, &parent))
		tgid = tid, parent = 0;
	if (tracee_add(t, tid, tgid))
		return;
	if (tgid != tid)
		return; /* a thread */
	t->procs_live++;
	if (t->hooks.spawned)
		t->hooks.spawned(t->hooks.ctx, tid, parent);
}

static void task_ended(struct target *t, pid_t tid, int status)
{
	struct tracee *tr = t->follow ? tracee_find(t, tid) : NULL;

	if (tid == t->pid) {
		t->status = status;
		t->ended = true;
		if (!t->follow)
			t->exited = true;
	}
	if (!tr) {
		/* let go of on exec, but still our child: its end ends tracing */
		if (tid == t->pid && t->root_let_go && --t->procs_live <= 0)
			t->exited = true;
		return;
	}
	/* a process leader is reaped only once every thread of it has gone */
	if (tr->tgid == tid) {
		if (t->hooks.ended)
			t->hooks.ended(t->hooks.ctx, tid, shell_status(status));
		if (--t->procs_live <= 0)
			t->exited = true;
	}
	tracee_remove(t, tid);
}

static bool group_stop_sig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/*
 * After an exec: true when it changed who the process runs as, which only a
 * set-user-ID or set-group-ID program does (a process that called setuid()
 * before exec'ing an ordinary program is not counted); why says how.
 */
static bool exec_changed_creds(struct tracee *tr, char *why, size_t len)
{
	struct creds now;
	char exe[64];
	struct stat st;

	if (!tr->creds_known || proc_creds(tr->tgid, &now))
		return false;
	if (now.uid == tr->creds.uid && now.euid == tr->creds.euid && now.gid == tr->creds.gid &&
	    now.egid == tr->creds.egid)
		return false;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", tr->tgid);
	if (stat(exe, &st) || !(st.st_mode & (S_ISUID | S_ISGID))) {
		tr->creds = now;
		return false;
	}
	snprintf(why, len, "its exec of a set-%s-ID program changed its credentials (uid %u euid "
		 "%u gid %u egid %u, was %u %u %u %u)",
		 st.st_mode & S_ISUID ? "user" : "group", now.uid, now.euid, now.gid, now.egid,
		 tr->creds.uid, tr->creds.euid, tr->creds.gid, tr->creds.egid);
	return true;
}

/*
 * -f: a process that must not be traced any more (its credentials changed
 * on exec, as ptrace would have refused without privilege): its probes go
 * (the untraced hook) and every task of it runs on without ptrace.
 */
static void let_go(struct target *t, pid_t pid, const char *why)
{
	size_t i;

	if (t->hooks.untraced)
		t->hooks.untraced(t->hooks.ctx, pid, why);
	for (i = t->tr_cnt; i-- > 0;) {
		if (t->tr[i].tgid != pid)
			continue;
		ptrace(PTRACE_DETACH, t->tr[i].tid, 0, 0);
		t->tr[i] = t->tr[--t->tr_cnt];
	}
	if (pid == t->pid && t->launched)
		t->root_let_go = true; /* its exit still comes to us, its parent */
	else if (--t->procs_live <= 0)
		t->exited = true;
}

/* A ptrace event stop of tid. */
static void on_event(struct target *t, pid_t tid, int event, int sig)
{
	struct tracee *tr = t->follow ? tracee_find(t, tid) : NULL;
	unsigned long msg = 0;
	char why[256];

	switch (event) {
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		/* the new task waits, stopped, until we let it go */
		if (!ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) && tr) {
			if (event == PTRACE_EVENT_CLONE)
				new_task(t, (pid_t)msg, 0, 0); /* a thread, usually */
			else
				new_task(t, (pid_t)msg, (pid_t)msg, tr->tgid);
		}
		ptrace(PTRACE_CONT, tid, 0, 0);
		break;
	case PTRACE_EVENT_EXEC:
		/* a non-leader's exec took the leader's tid; its own is gone */
		if (!ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) && (pid_t)msg != tid)
			tracee_remove(t, (pid_t)msg);
		if (tid == t->pid && t->launched && !t->execed) {
			/* the command's own start: traced as asked, whatever it is */
			t->execed = true;
			if (tr && tr->creds_known)
				tr->creds_known = !proc_creds(tid, &tr->creds);
		} else if (tr && tr->tgid == tid && exec_changed_creds(tr, why, sizeof(why))) {
			let_go(t, tid, why);
			break; /* detached: it runs on */
		} else if (t->hooks.execed) {
			t->hooks.execed(t->hooks.ctx, tid);
		}
		ptrace(PTRACE_CONT, tid, 0, 0);
		break;
	case PTRACE_EVENT_EXIT:
		if ((tr ? tr->tgid == tid : tid == t->pid) && t->hooks.exiting)
			t->hooks.exiting(t->hooks.ctx, tid);
		if (t->follow) {
			ptrace(PTRACE_CONT, tid, 0, 0);
		} else {
			ptrace(PTRACE_DETACH, tid, 0, 0);
			t->ptraced = false;
		}
		break;
	case PTRACE_EVENT_STOP:
		/* a new task can stop before its creator reports it */
		if (t->follow && !tr && !group_stop_sig(sig))
			new_task(t, tid, 0, 0);
		/* a group stop (SIGSTOP, Ctrl-Z): stay stopped, as without us;
		 * anything else (a new task, SIGCONT ended it) runs on */
		if (group_stop_sig(sig))
			ptrace(PTRACE_LISTEN, tid, 0, 0);
		else
			ptrace(PTRACE_CONT, tid, 0, 0);
		break;
	default:
		ptrace(PTRACE_CONT, tid, 0, 0);
	}
}

/* A wait status of a task we trace, or of the launched command. */
static void on_status(struct target *t, pid_t tid, int status)
{
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		task_ended(t, tid, status);
		return;
	}
	if (!WIFSTOPPED(status) || (!t->ptraced && !t->follow))
		return;
	if (status >> 16)
		on_event(t, tid, status >> 16, WSTOPSIG(status));
	else if (t->hooks.signalled && t->hooks.signalled(t->hooks.ctx, tid, WSTOPSIG(status)))
		ptrace(PTRACE_CONT, tid, 0, 0); /* ours: absorbed */
	else /* a signal on its way: deliver it */
		ptrace(PTRACE_CONT, tid, 0, WSTOPSIG(status));
}

/* Handles what waitpid has for us; blocks for one status when asked. */
static void reap(struct target *t, bool block)
{
	pid_t who = t->follow ? -1 : t->pid;
	int status, flags = (t->follow ? __WALL : 0) | (block ? 0 : WNOHANG);
	pid_t r;

	do {
		r = waitpid(who, &status, flags);
		if (r > 0)
			on_status(t, r, status);
		else if (r < 0 && errno == EINTR && block)
			return;
	} while (r > 0 && !block && !t->exited);
}

bool target__exited(struct target *t)
{
	struct pollfd p;

	if (t->exited)
		return true;
	if (t->launched || t->follow) {
		reap(t, false);
	} else if (t->pidfd >= 0) {
		p.fd = t->pidfd;
		p.events = POLLIN;
		if (poll(&p, 1, 0) == 1)
			t->exited = t->ended = true;
	} else if (kill(t->pid, 0) && errno == ESRCH) {
		t->exited = t->ended = true;
	}
	return t->exited;
}

void target__wait(struct target *t)
{
	if (!t->launched)
		return;
	while (!t->ended) {
		errno = 0;
		reap(t, true);
		if (errno == ECHILD)
			break;
	}
}

int target__exit_code(const struct target *t)
{
	if (!t->ended || (!t->launched && !t->follow))
		return -1;
	return shell_status(t->status);
}

void target__signal(const struct target *t, int sig)
{
	if (t && t->launched && !t->ended && t->pid > 0)
		kill(t->pid, sig);
}
