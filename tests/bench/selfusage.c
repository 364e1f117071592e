// SPDX-License-Identifier: Apache-2.0
// Runs a command and reports the peak RSS and CPU time of that process alone,
// not of the processes it starts: used by scripts/bench.sh to measure ttbpf
// without the program ttbpf launches. GNU time cannot do this: the rusage of
// a waited-for process includes its own waited-for children, so `time ttbpf --
// prog` adds prog's CPU time (where every uprobe trap is charged) to ttbpf's,
// and reports the larger of the two peak RSS.
//
//   selfusage OUTFILE COMMAND [ARGS...]
//
// The command runs under ptrace with PTRACE_O_TRACEEXIT only: it stops once,
// as it exits, with its memory still mapped; then VmHWM (peak RSS) and the
// utime/stime of its thread group are read from /proc. Signals it receives are
// passed on unchanged; its children are not traced. OUTFILE gets
//   peak_rss_kb N / user_ms N / sys_ms N
// (CPU times come from /proc/PID/stat: clock-tick resolution, 10 ms on most
// kernels). Exits with the command's status, 128+N if killed by signal N.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static long hwm_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* fields 14 and 15 of /proc/PID/stat, after the parenthesised comm */
static int cpu_ms(pid_t pid, double *user_ms, double *sys_ms)
{
	char path[64], buf[4096];
	unsigned long long ut, st;
	long hz = sysconf(_SC_CLK_TCK);
	size_t n;
	FILE *f;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -1;
	*user_ms = 1000.0 * (double)ut / (double)hz;
	*sys_ms = 1000.0 * (double)st / (double)hz;
	return 0;
}

int main(int argc, char **argv)
{
	long rss_kb = -1;
	double user_ms = -1, sys_ms = -1;
	int status, code;
	pid_t pid;
	FILE *out;

	if (argc < 3) {
		fprintf(stderr, "usage: selfusage OUTFILE COMMAND [ARGS...]\n");
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("selfusage: fork");
		return 1;
	}
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) {
			perror("selfusage: PTRACE_TRACEME");
			_exit(126);
		}
		raise(SIGSTOP); /* lets the parent set options before exec */
		execvp(argv[2], argv + 2);
		fprintf(stderr, "selfusage: %s: %s\n", argv[2], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}

	/* the child's own raise(SIGSTOP): set options, then let it exec */
	if (waitpid(pid, &status, 0) < 0 || !WIFSTOPPED(status)) {
		fprintf(stderr, "selfusage: %s did not start\n", argv[2]);
		return 1;
	}
	if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
		   (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)) < 0) {
		perror("selfusage: PTRACE_SETOPTIONS");
		kill(pid, SIGKILL);
		return 1;
	}
	ptrace(PTRACE_CONT, pid, NULL, NULL);

	for (;;) {
		int sig = 0;

		if (waitpid(pid, &status, 0) < 0) {
			if (errno == EINTR)
				continue;
			perror("selfusage: waitpid");
			return 1;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
		if (!WIFSTOPPED(status))
			continue;
		if ((status >> 16) == PTRACE_EVENT_EXIT) {
			rss_kb = hwm_kb(pid);
			cpu_ms(pid, &user_ms, &sys_ms);
		} else if ((status >> 16) == 0) {
			sig = WSTOPSIG(status); /* a signal for it: deliver it */
		}
		ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig);
	}

	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	out = fopen(argv[1], "w");
	if (!out) {
		fprintf(stderr, "selfusage: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	fprintf(out, "peak_rss_kb %ld\nuser_ms %.0f\nsys_ms %.0f\n", rss_kb, user_ms, sys_ms);
	fclose(out);
	return code;
}
