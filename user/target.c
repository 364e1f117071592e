// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "elf_syms.h"
#include "target.h"

#define CMDLINE_MAX 4096

struct target {
	pid_t pid;
	bool launched;
	bool exited;
	int status;     /* waitpid status, when launched and exited */
	int go_fd;      /* launch: write end the child waits on */
	int exec_fd;    /* launch: read end; carries errno if execvp failed */
	int pidfd;      /* attach: readable once the process exits */
	bool ptraced;   /* launch: seized, to stop at its exit */
	void (*exit_hook)(void *ctx);
	void *exit_ctx;
	char *argv0;    /* launch: the command as given */
	char command[CMDLINE_MAX];
};

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

int target__launch(struct target **out, char **argv)
{
	int go[2], ex[2], err;
	struct target *t;
	char c;

	t = target_alloc();
	if (!t)
		return -ENOMEM;
	if (pipe2(go, O_CLOEXEC) || pipe2(ex, O_CLOEXEC)) {
		err = -errno;
		free(t);
		return err;
	}
	t->pid = fork();
	if (t->pid < 0) {
		err = -errno;
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
		execvp(argv[0], argv);
		err = errno;
		if (write(ex[1], &err, sizeof(err)) < 0)
			_exit(TT_EXIT_NOT_EXEC);
		_exit(err == ENOENT ? TT_EXIT_NOT_FOUND : TT_EXIT_NOT_EXEC);
	}
	close(go[0]);
	close(ex[1]);
	/* only the exit event: the one moment its mappings are complete and
	 * still readable; no stop at exec, signals are passed straight on */
	t->ptraced = !ptrace(PTRACE_SEIZE, t->pid, 0, PTRACE_O_TRACEEXIT);
	t->go_fd = go[1];
	t->exec_fd = ex[0];
	t->launched = true;
	t->argv0 = argv[0];
	join_args(t->command, sizeof(t->command), argv);
	*out = t;
	return 0;
}

static void read_cmdline(struct target *t)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", t->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, t->command, sizeof(t->command) - 1);
	close(fd);
	if (n <= 0)
		return;
	t->command[n] = '\0';
	while (n > 0 && t->command[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (t->command[i] == '\0')
			t->command[i] = ' ';
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

int target__attach(struct target **out, int pid)
{
	char path[64], exe[PATH_MAX];
	struct target *t;

	if (pid == getpid()) {
		fprintf(stderr, "ttbpf: refusing to trace itself (pid %d)\n", pid);
		return -EINVAL;
	}
	if (kill(pid, 0) && errno == ESRCH) {
		fprintf(stderr, "ttbpf: no such process: %d\n", pid);
		return -ESRCH;
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
	read_cmdline(t);
	*out = t;
	return 0;
}

void target__free(struct target *t)
{
	if (!t)
		return;
	if (t->go_fd >= 0)
		close(t->go_fd); /* a held child sees EOF and exits */
	if (t->launched && !t->exited)
		target__wait(t);
	if (t->exec_fd >= 0)
		close(t->exec_fd);
	if (t->pidfd >= 0)
		close(t->pidfd);
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

/* The libc mapped by pid, as a path we can open (through its root). */
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
		unsigned long lo, hi;
		char perms[8], *path, *nl;
		int off = 0;

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &off) < 3 || !off)
			continue;
		path = line + off;
		if ((nl = strchr(path, '\n')))
			*nl = '\0';
		/* the code mapping of a file named like a libc */
		if (path[0] != '/' || perms[2] != 'x' || !is_libc(path))
			continue;
		if (strstr(path, " (deleted)"))
			/* replaced on disk: the mapping itself still names the inode */
			snprintf(buf, len, "/proc/%d/map_files/%lx-%lx", pid, lo, hi);
		else
			snprintf(buf, len, "/proc/%d/root%s", pid, path);
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
		fprintf(stderr, "ttbpf: cannot read --lib %s: %s\n", lib_path, strerror(errno));
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
			return elf_syms__is_static(buf) == 1 ? 0 : -ENOENT;
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
		fprintf(stderr, "ttbpf: %s: command not found\n", t->argv0);
		target__wait(t);
		return TT_EXIT_NOT_FOUND;
	}
	fprintf(stderr, "ttbpf: cannot execute %s: %s\n", t->argv0, strerror(err));
	target__wait(t);
	return TT_EXIT_NOT_EXEC;
}

void target__set_exit_hook(struct target *t, void (*fn)(void *ctx), void *ctx)
{
	t->exit_hook = fn;
	t->exit_ctx = ctx;
}

/* A wait status of the launched child: handles ptrace stops; true once it
 * has exited. */
static bool on_status(struct target *t, int status)
{
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		t->status = status;
		t->exited = true;
		return true;
	}
	if (!WIFSTOPPED(status) || !t->ptraced)
		return false;
	if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
		if (t->exit_hook)
			t->exit_hook(t->exit_ctx);
		ptrace(PTRACE_DETACH, t->pid, 0, 0);
		t->ptraced = false;
	} else if (status >> 16 == PTRACE_EVENT_STOP) {
		int sig = WSTOPSIG(status);

		/* a group stop (SIGSTOP, Ctrl-Z): stay stopped, as without us;
		 * anything else (SIGCONT ended it) runs on */
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
			ptrace(PTRACE_LISTEN, t->pid, 0, 0);
		else
			ptrace(PTRACE_CONT, t->pid, 0, 0);
	} else {
		/* a signal on its way: deliver it */
		ptrace(PTRACE_CONT, t->pid, 0, WSTOPSIG(status));
	}
	return false;
}

bool target__exited(struct target *t)
{
	struct pollfd p;
	int status;

	if (t->exited)
		return true;
	if (t->launched) {
		while (!t->exited && waitpid(t->pid, &status, WNOHANG) == t->pid)
			on_status(t, status);
	} else if (t->pidfd >= 0) {
		p.fd = t->pidfd;
		p.events = POLLIN;
		if (poll(&p, 1, 0) == 1)
			t->exited = true;
	} else if (kill(t->pid, 0) && errno == ESRCH) {
		t->exited = true;
	}
	return t->exited;
}

void target__wait(struct target *t)
{
	int status;
	pid_t r;

	if (!t->launched || t->exited)
		return;
	while (!t->exited) {
		r = waitpid(t->pid, &status, 0);
		if (r == t->pid)
			on_status(t, status);
		else if (r < 0 && errno != EINTR)
			break;
	}
}

int target__exit_code(const struct target *t)
{
	if (!t->launched || !t->exited)
		return -1;
	if (WIFEXITED(t->status))
		return WEXITSTATUS(t->status);
	if (WIFSIGNALED(t->status))
		return 128 + WTERMSIG(t->status);
	return -1;
}

void target__signal(const struct target *t, int sig)
{
	if (t && t->launched && !t->exited && t->pid > 0)
		kill(t->pid, sig);
}
