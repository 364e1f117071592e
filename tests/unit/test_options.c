// SPDX-License-Identifier: Apache-2.0
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "options.h"

/*
 * A NULL-terminated argv that outlives the parse (o->argv points into it),
 * with stdout and stderr captured so the usage text can be checked.
 */
struct run {
	int argc;
	char *argv[32];
	char out[8192], err[8192];
	enum options_result res;
	struct options o;
};

static void slurp(FILE *f, char *buf, size_t len)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Parses "ttbpf" followed by the given arguments (NULL-terminated). */
static void parse_(struct run *r, ...)
{
	FILE *out = tmpfile(), *err = tmpfile();
	int save_out, save_err;
	const char *a;
	va_list ap;

	memset(r, 0, sizeof(*r));
	r->argv[r->argc++] = "ttbpf";
	va_start(ap, r);
	while ((a = va_arg(ap, const char *))) {
		cr_assert_lt(r->argc, 31);
		r->argv[r->argc++] = (char *)a;
	}
	va_end(ap);
	r->argv[r->argc] = NULL;

	cr_assert(out && err);
	fflush(stdout);
	fflush(stderr);
	save_out = dup(1);
	save_err = dup(2);
	dup2(fileno(out), 1);
	dup2(fileno(err), 2);
	r->res = options__parse(&r->o, r->argc, r->argv);
	fflush(stdout);
	fflush(stderr);
	dup2(save_out, 1);
	dup2(save_err, 2);
	close(save_out);
	close(save_err);
	slurp(out, r->out, sizeof(r->out));
	slurp(err, r->err, sizeof(r->err));
}

#define parse(r, ...) parse_(r, __VA_ARGS__, (const char *)NULL)

#define assert_result(r, want)                                                          \
	cr_assert_eq((r)->res, want, "result %d, want %d; stderr: %s", (int)(r)->res,    \
		     (int)(want), (r)->err)

static void assert_usage(const struct run *r, const char *msg)
{
	assert_result(r, OPTIONS_EXIT_USAGE);
	cr_assert_not_null(strstr(r->err, "ttbpf: "), "stderr: %s", r->err);
	if (msg)
		cr_assert_not_null(strstr(r->err, msg), "want \"%s\" in stderr: %s", msg, r->err);
	cr_assert_str_eq(r->out, "", "usage errors print nothing on stdout");
}

Test(options, pid_mode_defaults)
{
	struct run r;

	parse(&r, "-p", "1234");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.pid, 1234);
	cr_assert_null(r.o.argv);
	cr_assert_null(r.o.json_path);
	cr_assert_null(r.o.out_dir);
	cr_assert_null(r.o.lib_path);
	cr_assert_eq(r.o.duration_s, 0.0);
	cr_assert_eq(r.o.ringbuf_bytes, TT_DEFAULT_RINGBUF_BYTES);
	cr_assert_eq(r.o.wakeup_bytes, TT_DEFAULT_WAKEUP_BYTES);
	cr_assert_eq(r.o.verbose, 0);
	cr_assert_not(r.o.quiet);
	cr_assert_str_eq(r.err, "");
	cr_assert_str_eq(r.out, "");
}

Test(options, pid_forms)
{
	struct run r;

	parse(&r, "--pid", "42");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.pid, 42);
	parse(&r, "--pid=43");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.pid, 43);
	parse(&r, "-p44");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.pid, 44);
	parse(&r, "-p", "2147483647");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.pid, 2147483647);
	/* the last -p wins */
	parse(&r, "-p", "1", "-p", "2");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.pid, 2);
}

Test(options, pid_invalid)
{
	static const char *const bad[] = {
		"0", "-1", "abc", "12x", "", "2147483648", "99999999999999999999", "1.5", "0x",
	};
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(&r, "-p", bad[i]);
		assert_usage(&r, "invalid PID");
		cr_assert_not_null(strstr(r.err, "--help"), "stderr: %s", r.err);
	}
	parse(&r, "-p");
	assert_usage(&r, "needs an argument");
	parse(&r, "--pid");
	assert_usage(&r, "needs an argument");
}

Test(options, pid_and_command)
{
	struct run r;

	parse(&r, "-p", "1", "--", "ls");
	assert_usage(&r, "not both");
	parse(&r, "-p", "1", "ls", "-l");
	assert_usage(&r, "not both");
	parse(&r, "--", "ls", "-p", "1");
	assert_result(&r, OPTIONS_RUN); /* -p 1 is ls's */
	cr_assert_eq(r.o.pid, 0);
}

Test(options, nothing_to_trace)
{
	struct run r;

	parse(&r, "-q");
	assert_usage(&r, "nothing to trace");
	parse(&r, "--");
	assert_usage(&r, "nothing to trace");
	/* argc 1: no arguments at all */
	parse_(&r, (const char *)NULL);
	assert_usage(&r, "nothing to trace");
}

Test(options, command_keeps_its_options)
{
	struct run r;

	parse(&r, "--", "cmd", "-x");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.pid, 0);
	cr_assert_not_null(r.o.argv);
	cr_assert_str_eq(r.o.argv[0], "cmd");
	cr_assert_str_eq(r.o.argv[1], "-x");
	cr_assert_null(r.o.argv[2]);
	cr_assert_eq(r.o.argv, &r.argv[2]);
	cr_assert_not(r.o.quiet);

	/* stops at the first non-option even without "--" */
	parse(&r, "-q", "-j", "out.json", "cmd", "-q", "--json", "x", "--", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert(r.o.quiet);
	cr_assert_str_eq(r.o.json_path, "out.json");
	cr_assert_eq(r.o.pid, 0);
	cr_assert_str_eq(r.o.argv[0], "cmd");
	cr_assert_str_eq(r.o.argv[1], "-q");
	cr_assert_str_eq(r.o.argv[2], "--json");
	cr_assert_str_eq(r.o.argv[3], "x");
	cr_assert_str_eq(r.o.argv[4], "--");
	cr_assert_str_eq(r.o.argv[5], "-p");
	cr_assert_str_eq(r.o.argv[6], "1");
	cr_assert_null(r.o.argv[7]);

	/* a second "--" belongs to the command */
	parse(&r, "--", "--", "x");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_str_eq(r.o.argv[0], "--");
	cr_assert_str_eq(r.o.argv[1], "x");
}

Test(options, other_options)
{
	struct run r;

	parse(&r, "-j", "a.json", "-o", "dir", "-l", "/lib/libjemalloc.so.2", "-v", "-v",
	      "--quiet", "-d", "2.5", "--", "true");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_str_eq(r.o.json_path, "a.json");
	cr_assert_str_eq(r.o.out_dir, "dir");
	cr_assert_str_eq(r.o.lib_path, "/lib/libjemalloc.so.2");
	cr_assert_eq(r.o.verbose, 2);
	cr_assert(r.o.quiet);
	cr_assert_eq(r.o.duration_s, 2.5);

	parse(&r, "--json=b.json", "--output", "d2", "--lib=x", "--verbose", "--duration=1e9",
	      "-p", "7");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_str_eq(r.o.json_path, "b.json");
	cr_assert_str_eq(r.o.out_dir, "d2");
	cr_assert_str_eq(r.o.lib_path, "x");
	cr_assert_eq(r.o.verbose, 1);
	cr_assert_eq(r.o.duration_s, 1e9);
	cr_assert_eq(r.o.pid, 7);
}

Test(options, duration_invalid)
{
	static const char *const bad[] = {
		"0", "abc", "-1", "", "1s", "nan", "inf", "1e10", "0.0", "-0",
	};
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(&r, "-d", bad[i], "-p", "1");
		assert_usage(&r, "invalid duration");
	}
	parse(&r, "-d", "0.001", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.duration_s, 0.001);
}

Test(options, ringbuf_size)
{
	struct run r;

	parse(&r, "--ringbuf-size", "64K", "--wakeup-bytes", "16K", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.ringbuf_bytes, 64u << 10);
	cr_assert_eq(r.o.wakeup_bytes, 16u << 10);

	parse(&r, "-b", "1M", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.ringbuf_bytes, 1u << 20);
	cr_assert_eq(r.o.wakeup_bytes, TT_DEFAULT_WAKEUP_BYTES);

	parse(&r, "--ringbuf-size=1g", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.ringbuf_bytes, 1u << 30);

	parse(&r, "-b", "4096", "--wakeup-bytes", "0", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.ringbuf_bytes, 4096);
	cr_assert_eq(r.o.wakeup_bytes, 0);

	parse(&r, "-b", "2097152", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.ringbuf_bytes, 2u << 20);
}

Test(options, ringbuf_size_invalid)
{
	static const char *const bad[] = {
		"3000", "5M", "2048", "0", "-4K", "64KB", "", "K", "4G", "8G", "99999999999",
		"12T", "3K",
	};
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(&r, "--ringbuf-size", bad[i], "-p", "1");
		assert_usage(&r, "invalid ring buffer size");
	}
}

Test(options, wakeup_bytes)
{
	struct run r;

	parse(&r, "--wakeup-bytes", "16M", "-p", "1"); /* == default ring buffer */
	assert_usage(&r, "below the ring buffer size");
	parse(&r, "--wakeup-bytes", "1M", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.wakeup_bytes, 1u << 20);
	parse(&r, "--wakeup-bytes", "abc", "-p", "1");
	assert_usage(&r, "invalid --wakeup-bytes");
	parse(&r, "--wakeup-bytes", "-1", "-p", "1");
	assert_usage(&r, "invalid --wakeup-bytes");
}

Test(options, max_vars)
{
	static const char *const bad[] = { "abc", "-1", "17M", "16777217", "", "1T" };
	struct run r;
	size_t i;

	parse(&r, "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.max_vars, 1u << 20);
	parse(&r, "--max-vars", "10000", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.max_vars, 10000);
	parse(&r, "--max-vars", "16M", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.max_vars, 16u << 20);
	/* 0: every instance folded, the groups still exact */
	parse(&r, "--max-vars", "0", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.max_vars, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(&r, "--max-vars", bad[i], "-p", "1");
		assert_usage(&r, "invalid --max-vars");
	}
}

/*
 * Regression: "--ringbuf-size 64K" alone was refused, because the default
 * --wakeup-bytes (256K) was not below it.
 */
Test(options, ringbuf_size_small_keeps_default_wakeup_valid)
{
	struct run r;

	parse(&r, "--ringbuf-size", "64K", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.ringbuf_bytes, 64u << 10);
	cr_assert_lt(r.o.wakeup_bytes, r.o.ringbuf_bytes);
}

Test(options, help_and_version)
{
	struct run r;

	parse(&r, "--help");
	assert_result(&r, OPTIONS_EXIT_OK);
	cr_assert_not_null(strstr(r.out, "Usage: ttbpf"), "stdout: %s", r.out);
	cr_assert_not_null(strstr(r.out, "--ringbuf-size"));
	cr_assert_str_eq(r.err, "");

	parse(&r, "-h");
	assert_result(&r, OPTIONS_EXIT_OK);
	cr_assert_not_null(strstr(r.out, "Usage: ttbpf"));

	/* --help wins over what follows, even a bad value */
	parse(&r, "--help", "-p", "abc");
	assert_result(&r, OPTIONS_EXIT_OK);

	parse(&r, "--version");
	assert_result(&r, OPTIONS_EXIT_OK);
	cr_assert_eq(strncmp(r.out, "ttbpf ", 6), 0, "stdout: %s", r.out);
	parse(&r, "-V");
	assert_result(&r, OPTIONS_EXIT_OK);
}

Test(options, unknown_option)
{
	struct run r;

	parse(&r, "--bogus", "-p", "1");
	assert_usage(&r, "unknown option");
	parse(&r, "-Z", "-p", "1");
	assert_usage(&r, "unknown option");
	parse(&r, "--pid=1", "--json");
	assert_usage(&r, "needs an argument");
}

Test(options, parses_again)
{
	struct run r1, r2;

	/* each call starts over: nothing carried from the previous argv */
	parse(&r1, "-q", "-v", "-p", "5");
	assert_result(&r1, OPTIONS_RUN);
	parse(&r2, "--", "ls");
	assert_result(&r2, OPTIONS_RUN);
	cr_assert_eq(r2.o.pid, 0);
	cr_assert_not(r2.o.quiet);
	cr_assert_eq(r2.o.verbose, 0);
	cr_assert_str_eq(r2.o.argv[0], "ls");
	parse(&r1, "-p", "6");
	assert_result(&r1, OPTIONS_RUN);
	cr_assert_eq(r1.o.pid, 6);
	cr_assert_null(r1.o.argv);
}

/*
 * After a parse that returned in the middle of grouped short options
 * ("-hq": --help returns at 'h'), glibc's getopt still holds "q" of the old
 * argv; resetting optind to 1 does not clear it (optind = 0 does). The next
 * parse then reads that stale "q" and skips an argument.
 */
Test(options, parses_again_after_grouped_return)
{
	struct run r1, r2;

	parse(&r1, "-hq");
	assert_result(&r1, OPTIONS_EXIT_OK);
	parse(&r2, "-p", "5");
	assert_result(&r2, OPTIONS_RUN);
	cr_assert_eq(r2.o.pid, 5);
	cr_assert_not(r2.o.quiet);
	cr_assert_null(r2.o.argv);
}

Test(options, top)
{
	struct run r;

	parse(&r, "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.top, TT_DEFAULT_TOP);
	parse(&r, "--top", "25", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.top, 25);
	parse(&r, "--top=1000000", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.top, TT_MAX_TOP);
	parse(&r, "--top", "0", "-p", "1");
	assert_usage(&r, "invalid --top '0'");
	parse(&r, "--top", "1000001", "-p", "1");
	assert_usage(&r, "invalid --top '1000001'");
	parse(&r, "--top", "ten", "-p", "1");
	assert_usage(&r, "invalid --top 'ten'");
}

/* Accepted and then ignored would mislead: --max-live bounds --aggregate's
 * table only. */
Test(options, max_live_needs_aggregate)
{
	struct run r;

	parse(&r, "--max-live", "4096", "--", "true");
	assert_usage(&r, "--max-live applies to --aggregate only");
	parse(&r, "--aggregate", "--max-live", "4K", "--", "true");
	assert_result(&r, OPTIONS_RUN);
	cr_assert(r.o.aggregate);
	cr_assert_eq(r.o.max_live, 4096);
	/* either order */
	parse(&r, "--max-live", "8", "--aggregate", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.max_live, 8);
	parse(&r, "--", "true");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.max_live, TT_DEFAULT_MAX_LIVE);
}

/* Every option naming a file or directory refuses "", in every spelling. */
Test(options, empty_path_values_are_errors)
{
	static const char *const longs[] = { "--json", "--output", "--svg", "--png", "--folded",
					     "--lib" };
	static const char *const shorts[] = { "-j", "-o", "-l" };
	char eq[64];
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(longs) / sizeof(longs[0]); i++) {
		snprintf(eq, sizeof(eq), "%s=", longs[i]);
		parse(&r, eq, "--", "true");
		assert_usage(&r, "needs a non-empty value");
		cr_assert_not_null(strstr(r.err, longs[i]), "%s not named: %s", longs[i], r.err);
		parse(&r, longs[i], "", "--", "true");
		assert_usage(&r, "needs a non-empty value");
	}
	for (i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++) {
		parse(&r, shorts[i], "", "--", "true");
		assert_usage(&r, "needs a non-empty value");
	}
	parse(&r, "report", "x.json", "--svg=");
	assert_usage(&r, "'--svg' needs a non-empty value");
	parse(&r, "report", "x.json", "--png", "");
	assert_usage(&r, "'--png' needs a non-empty value");
	parse(&r, "report", "x.json", "-o", "");
	assert_usage(&r, "'--output' needs a non-empty value");
}

/* --folded-by (and its older spelling --folded-weight) names the weight. */
Test(options, folded_by)
{
	static const struct {
		const char *opt, *name;
		enum folded_weight w;
	} ok[] = {
		{ "--folded-by", "live", FOLDED_LIVE_BYTES },
		{ "--folded-by", "peak", FOLDED_PEAK_BYTES },
		{ "--folded-by", "allocated", FOLDED_ALLOC_BYTES },
		{ "--folded-by", "count", FOLDED_ALLOC_COUNT },
		{ "--folded-weight", "bytes", FOLDED_ALLOC_BYTES },
		{ "--folded-weight", "peak", FOLDED_PEAK_BYTES },
		{ "--folded-weight", "live", FOLDED_LIVE_BYTES },
	};
	struct run r;
	size_t i;

	parse(&r, "--folded", "f", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.folded_weight, FOLDED_LIVE_BYTES);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		parse(&r, "--folded", "f", ok[i].opt, ok[i].name, "-p", "1");
		assert_result(&r, OPTIONS_RUN);
		cr_assert_eq(r.o.folded_weight, ok[i].w, "%s %s", ok[i].opt, ok[i].name);
	}
	parse(&r, "--folded", "f", "--folded-by", "heap", "-p", "1");
	assert_usage(&r, "invalid --folded-by 'heap' (live, peak, allocated or count)");
	parse(&r, "--folded", "f", "--folded-weight", "x", "-p", "1");
	assert_usage(&r, "invalid --folded-weight 'x'");
	/* accepted and ignored would be a lie */
	parse(&r, "--folded-by", "peak", "-p", "1");
	assert_usage(&r, "--folded-by weighs the stacks of --folded FILE");
	parse(&r, "--aggregate", "--folded", "f", "--folded-by", "peak", "-p", "1");
	assert_usage(&r, "--aggregate keeps no per-stack figures at the peak");
	parse(&r, "--aggregate", "--folded", "f", "--folded-by", "allocated", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
}

Test(options, call_site_options)
{
	struct run r;

	parse(&r, "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.stack_lines, TT_DEFAULT_STACK_LINES);
	cr_assert_eq(r.o.skip_cnt, 0);
	cr_assert_not(r.o.by_address);
	parse(&r, "--stack-lines", "0", "--by-address", "--skip-frames", "^my_alloc$",
	      "--skip-frames=pool_(get|grow)", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.stack_lines, 0);
	cr_assert(r.o.by_address);
	cr_assert_eq(r.o.skip_cnt, 2);
	cr_assert_str_eq(r.o.skip_frames[0], "^my_alloc$");
	cr_assert_str_eq(r.o.skip_frames[1], "pool_(get|grow)");
	parse(&r, "--stack-lines", "128", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.stack_lines, 128);
	parse(&r, "--stack-lines", "129", "-p", "1");
	assert_usage(&r, "invalid --stack-lines '129'");
	parse(&r, "--stack-lines", "-1", "-p", "1");
	assert_usage(&r, "invalid --stack-lines '-1'");
	parse(&r, "--skip-frames", "pool_(get", "-p", "1");
	assert_usage(&r, "invalid --skip-frames 'pool_(get'");
	parse(&r, "--skip-frames", "", "-p", "1");
	assert_usage(&r, "--skip-frames needs a pattern");
}

Test(options, skip_frames_bounded)
{
	char *argv[2 * TT_MAX_SKIP_FRAMES + 8];
	struct options o;
	int i, n = 0;

	argv[n++] = "ttbpf";
	for (i = 0; i < TT_MAX_SKIP_FRAMES; i++) {
		argv[n++] = "--skip-frames";
		argv[n++] = "x";
	}
	argv[n++] = "-p";
	argv[n++] = "1";
	argv[n] = NULL;
	cr_assert_eq(options__parse(&o, n, argv), OPTIONS_RUN, "at the bound: taken");
	cr_assert_eq(o.skip_cnt, TT_MAX_SKIP_FRAMES);
	/* one past it: refused (the message says to join patterns with '|') */
	argv[n - 2] = "--skip-frames";
	argv[n - 1] = "x";
	argv[n++] = "-p";
	argv[n++] = "1";
	argv[n] = NULL;
	cr_assert_eq(options__parse(&o, n, argv), OPTIONS_EXIT_USAGE);
}

/* ttbpf diff OLD NEW, its options before or after the files. */
Test(options, diff)
{
	struct run r;

	parse(&r, "diff", "a.json", "b.json");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_str_eq(r.o.diff_old, "a.json");
	cr_assert_str_eq(r.o.diff_new, "b.json");
	cr_assert_null(r.o.folded_path);
	cr_assert_eq(r.o.top, TT_DEFAULT_TOP);
	cr_assert_null(r.o.argv);
	parse(&r, "diff", "--top", "3", "a.json", "b.json", "--folded", "d.folded", "--folded-by",
	      "allocated");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.top, 3);
	cr_assert_str_eq(r.o.folded_path, "d.folded");
	cr_assert_eq(r.o.folded_weight, FOLDED_ALLOC_BYTES);
	cr_assert_str_eq(r.o.diff_new, "b.json");
	parse(&r, "diff", "a.json");
	assert_usage(&r, "diff takes two reports: OLD.json NEW.json");
	parse(&r, "diff", "a.json", "b.json", "c.json");
	assert_usage(&r, "diff takes two reports");
	parse(&r, "diff", "a.json", "b.json", "--svg", "x");
	assert_usage(&r, "unknown option '--svg' for diff");
	parse(&r, "diff", "a.json", "b.json", "--folded-by", "peak");
	assert_usage(&r, "--folded-by weighs the stacks of --folded FILE");
	parse(&r, "diff", "a.json", "b.json", "--folded=");
	assert_usage(&r, "'--folded' needs a non-empty value");
	parse(&r, "diff", "a.json", "b.json", "--top", "0");
	assert_usage(&r, "invalid --top '0'");
}

Test(options, pprof)
{
	struct run r;

	parse(&r, "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_null(r.o.pprof_path, "no profile unless asked");

	parse(&r, "--pprof", "heap.pb.gz", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_str_eq(r.o.pprof_path, "heap.pb.gz");

	parse(&r, "--pprof=-", "--", "true");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_str_eq(r.o.pprof_path, "-", "stdout, as for every output");

	parse(&r, "-p", "1", "--pprof");
	assert_usage(&r, "'--pprof' needs an argument");
	parse(&r, "--pprof=", "-p", "1");
	assert_usage(&r, "option '--pprof' needs a non-empty value");

	parse(&r, "--help");
	assert_result(&r, OPTIONS_EXIT_OK);
	cr_assert_not_null(strstr(r.out, "--pprof FILE"), "--help: %s", r.out);
	cr_assert_not_null(strstr(r.out, "DIR/ttbpf.pb.gz"), "-o's line names the profile");
}

Test(options, interval)
{
	struct run r;

	parse(&r, "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.interval_s, 0.0, "no --interval: no snapshots");
	parse(&r, "-i", "5", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.interval_s, 5.0);
	parse(&r, "--interval", "0.5", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.interval_s, 0.5);
	parse(&r, "--interval=0.1", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.interval_s, TT_MIN_INTERVAL_S);
	parse(&r, "-i", "86400", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.interval_s, TT_MAX_INTERVAL_S);
	/* with -q too: whether any file is left to rewrite is known from the
	 * report plan, later (main refuses it then) */
	parse(&r, "-q", "-i", "1", "-j", "x.json", "-p", "1");
	assert_result(&r, OPTIONS_RUN);
	cr_assert(r.o.quiet);
	cr_assert_eq(r.o.interval_s, 1.0);
}

Test(options, interval_invalid)
{
	static const char *const bad[] = {
		"0", "0.0", "-1", "-0", "0.09", "86401", "1e9", "abc", "", "1s", "nan", "inf", "-inf",
	};
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(&r, "-i", bad[i], "-p", "1");
		assert_usage(&r, "invalid interval");
	}
	parse(&r, "-p", "1", "-i");
	assert_usage(&r, "needs an argument");
}

Test(options, sort)
{
	static const char *const bad[] = { "bytes", "", "Live", "peak ", "count" };
	struct run r;
	size_t i;

	parse(&r, "--", "true");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.sort, DASH_SORT_LIVE);
	parse(&r, "--sort", "peak", "--", "true");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.sort, DASH_SORT_PEAK);
	parse(&r, "--sort=allocated", "--", "true");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.sort, DASH_SORT_ALLOCATED);
	parse(&r, "--sort=peak", "--sort=live", "--", "true");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.sort, DASH_SORT_LIVE);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(&r, "--sort", bad[i], "--", "true");
		assert_usage(&r, "invalid --sort");
	}
	/* the kernel's tables keep nothing at the peak */
	parse(&r, "--aggregate", "--sort", "peak", "--", "true");
	assert_usage(&r, "--aggregate keeps no figures at the peak");
	parse(&r, "--aggregate", "--sort", "allocated", "--", "true");
	assert_result(&r, OPTIONS_RUN);
}

/* `ttbpf report` takes --sort and --top as a run does. */
Test(options, report_sort_and_top)
{
	struct run r;

	parse(&r, "report", "x.json", "--svg", "x.svg");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.sort, DASH_SORT_LIVE);
	cr_assert_eq(r.o.top, TT_DEFAULT_TOP);
	parse(&r, "report", "x.json", "--svg", "x.svg", "--sort", "allocated", "--top", "3");
	assert_result(&r, OPTIONS_RUN);
	cr_assert_eq(r.o.sort, DASH_SORT_ALLOCATED);
	cr_assert_eq(r.o.top, 3);
	cr_assert_str_eq(r.o.report_in, "x.json");
	parse(&r, "report", "x.json", "--svg", "x.svg", "--top", "0");
	assert_usage(&r, "invalid --top");
	parse(&r, "report", "x.json", "--svg", "x.svg", "--sort", "x");
	assert_usage(&r, "invalid --sort");
}
