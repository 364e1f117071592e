/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The traced process: launched (fork, held until probes are attached, then
 * execvp) or attached by PID; which allocator it maps; how it ended.
 */
#ifndef TT_TARGET_H
#define TT_TARGET_H

#include <stdbool.h>
#include <stddef.h>

struct target;

/* Exit codes of launch mode when the command cannot run, as shells use. */
#define TT_EXIT_NOT_FOUND 127
#define TT_EXIT_NOT_EXEC 126

/*
 * Forks a child that waits for target__release() before execvp(argv).
 * follow (-f): its children, theirs, and so on are followed with ptrace
 * (see struct target_hooks); an error when ptrace is refused. Errors are
 * explained on stderr.
 */
int target__launch(struct target **out, char **argv, bool follow);
/* Ignores SIGPIPE in ttbpf (a closed stderr must not stop the reports); a
 * command launched afterwards gets the disposition ttbpf started with. */
void target__ignore_sigpipe(void);
/* Checks that pid is a live user-space process (a thread's id means its
 * process, said on stderr); follow: as above, for the children it forks
 * from now on. */
int target__attach(struct target **out, int pid, bool follow);
void target__free(struct target *t);

int target__pid(const struct target *t);
bool target__launched(const struct target *t);
/* We ptrace the target (a launched command, to stop at its exit; every task
 * with -f): its signal stops come to us. */
bool target__ptraced(const struct target *t);
/* Command line, for reports: argv joined by spaces (read from /proc in pid mode). */
const char *target__command(const struct target *t);

/* Path of the target's executable, usable from our mount namespace (the
 * command as execvp will find it; /proc/PID/exe when attached). */
int target__exe(const struct target *t, char *buf, size_t len);

/* Whether TRACE_TOOLS_DISABLED=1 is in the target's environment (ours, which
 * the command inherits, in launch mode). Read once. */
bool target__tools_disabled(const struct target *t);

/*
 * Path of the allocator to probe, usable from our mount namespace: lib_path
 * when given, else the libc the target maps (the executable itself when it is
 * statically linked). Returns 0 or a negative errno with a message printed.
 */
int target__allocator(const struct target *t, const char *lib_path, char *buf, size_t len);

/*
 * Lets a launched child exec. Returns 0 once exec succeeded, or the exit code
 * ttbpf should return (127 not found, 126 not executable) with a message
 * printed.
 */
int target__release(struct target *t);

/*
 * What happens to the traced processes, as ptrace sees it; every hook is
 * optional and runs from target__exited() or target__wait().
 */
struct target_hooks {
	/* -f: a new process (fork, vfork, clone), held stopped until this
	 * returns: the moment to attach its probes */
	void (*spawned)(void *ctx, int pid, int parent_pid);
	/* -f: a process exec'd (not the launched command's own start); the new
	 * image has not run yet */
	void (*execed)(void *ctx, int pid);
	/* a process is about to exit, before its memory is torn down: its
	 * mappings can still be read. Without -f, only for a launched command
	 * (ttbpf follows it with ptrace for that one event; not called if
	 * ptrace was refused). */
	void (*exiting)(void *ctx, int pid);
	/* a ptraced task stopped for a signal on its way: true when the signal
	 * is ours (the unwinder's hold, user/tracing/unwinder.h) and must not reach it */
	bool (*signalled)(void *ctx, int tid, int sig);
	/* -f: a process exec'd a set-user-ID or set-group-ID program that
	 * changed its credentials: it is no longer traced (why says so); ptrace
	 * lets it go once this returns, and its exit is not reported */
	void (*untraced)(void *ctx, int pid, const char *why);
	/* -f: a process has ended, with its status as a shell reports it */
	void (*ended)(void *ctx, int pid, int exit_code);
	void *ctx;
};

/* NULL: no hooks (the processes still run on). */
void target__set_hooks(struct target *t, const struct target_hooks *h);

/* Non-blocking: true once nothing is left to trace: the target has exited,
 * and with -f every process followed too. */
bool target__exited(struct target *t);
/* Blocks until a launched command exits. */
void target__wait(struct target *t);
/* The target's exit status as a shell reports it: code, or 128 + signal.
 * -1 if unknown (attached without -f: the status goes to its parent). */
int target__exit_code(const struct target *t);
/* Forwards a signal to a launched child. Async-signal-safe. */
void target__signal(const struct target *t, int sig);

#endif /* TT_TARGET_H */
