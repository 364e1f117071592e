// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "options.h"
#include "unwinder.h"

#define TT_VERSION "0.1.0"

static const char usage_text[] =
	"Usage: ttbpf [OPTIONS] -p PID\n"
	"       ttbpf [OPTIONS] -- COMMAND [ARGS...]\n"
	"       ttbpf report FILE.json [--svg FILE] [--png FILE] [-o DIR] [--sort S]\n"
	"                    [--top N] [--stack-lines N] [--folded FILE [--folded-by W]]\n"
	"       ttbpf diff OLD.json NEW.json [--folded FILE] [--folded-by W] [--top N]\n"
	"\n"
	"Trace the heap of a process with eBPF uprobes on its allocator.\n"
	"\n"
	"  -p, --pid PID           attach to a running process\n"
	"  -j, --json FILE         write the JSON report to FILE\n"
	"  -o, --output DIR        write DIR/ttbpf.json, DIR/ttbpf.svg, DIR/ttbpf.png,\n"
	"                          DIR/ttbpf.pb.gz (DIR is created, mode 0755\n"
	"                          less the umask)\n"
	"      --svg FILE          write the dashboard as SVG\n"
	"      --png FILE          write the dashboard as PNG\n"
	"      --folded FILE       write folded stacks for flame graphs\n"
	"      --folded-by W       weigh them by live (bytes still held at the\n"
	"                          end; default), peak (bytes held at the peak),\n"
	"                          allocated (bytes allocated) or count\n"
	"                          (allocations); --folded-weight W is the same,\n"
	"                          with bytes for allocated\n"
	"      --pprof FILE        write a gzipped pprof heap profile (go tool\n"
	"                          pprof, speedscope, Pyroscope, Parca)\n"
	"  -d, --duration SECONDS  stop tracing after SECONDS\n"
	"  -i, --interval SECONDS  every SECONDS (0.1 to 86400) while tracing: print\n"
	"                          the --top allocation sites by live bytes to\n"
	"                          stderr (not with -q) and rewrite every report\n"
	"                          file (stdout, FIFOs and devices: at the end only)\n"
	"  -f, --follow-forks      trace the processes the target forks too (and\n"
	"                          theirs), each with its own reports, named\n"
	"                          after the target's with .PID added\n"
	"  -l, --lib PATH          probe the allocator in PATH (jemalloc, tcmalloc,\n"
	"                          a static binary) instead of the target's libc\n"
	"  -b, --ringbuf-size N    ring buffer bytes (power of two, K/M suffix;\n"
	"                          default 16M)\n"
	"      --wakeup-bytes N    wake the reader when N bytes are pending (0: on\n"
	"                          every record; default 256K)\n"
	"      --aggregate         keep figures per stack in the kernel and send no\n"
	"                          records: lower overhead for long runs; no\n"
	"                          timeline, heatmap or variables\n"
	"      --max-live N        live blocks followed with --aggregate (default 1M)\n"
	"      --max-vars N        variable instances listed one by one (default\n"
	"                          1M, at most 16M); further ones are counted in\n"
	"                          their group\n"
	"      --stack-depth N     user stack frames kept per allocation (0: none;\n"
	"                          default 64, at most 128)\n"
	"      --unwind MODE       how stacks are walked: dwarf (the files' unwind\n"
	"                          tables: code without frame pointers too; the\n"
	"                          default where the kernel can, Linux 5.17+) or fp\n"
	"                          (frame pointers only)\n"
	"      --unwind-rows N     rows all unwind tables may take together (12\n"
	"                          bytes each, at most 16M; default: what the\n"
	"                          target's files need and room for more, at\n"
	"                          least 2M)\n"
	"      --top N             entries in each list of the summary, the\n"
	"                          reports, the dashboard and --interval's top\n"
	"                          sites (default 10)\n"
	"      --stack-lines N     frames of the stack shown under each call site\n"
	"                          in the summary (0: none; default 4)\n"
	"      --skip-frames RE    functions matching the POSIX extended regex RE\n"
	"                          (demangled names) are allocation wrappers, not\n"
	"                          call sites, like the built-in ones (xmalloc,\n"
	"                          g_malloc, operator new, std::...); repeatable\n"
	"      --by-address        a call site per address, not per function\n"
	"      --sort S            rank the dashboard's call sites by live (bytes\n"
	"                          still live at the end; default), peak (bytes\n"
	"                          live at the peak) or allocated bytes\n"
	"  -q, --quiet             no summary, status line or --interval top sites\n"
	"                          on stderr\n"
	"  -v, --verbose           say where probes go; libbpf messages\n"
	"  -h, --help              this text\n"
	"  -V, --version           print the version\n"
	"\n"
	"ttbpf report reads a JSON report as a stream (its memory does not grow\n"
	"with the file): --svg, --png and -o DIR draw its dashboard again,\n"
	"--folded FILE writes its stacks (--folded-by W); with no output it prints\n"
	"the summary's figures and the --top N allocation sites on stdout.\n"
	"\n"
	"ttbpf diff prints the change in live bytes, live blocks and allocations\n"
	"of each stack between two JSON reports (stacks matched by their frames'\n"
	"names), the --top N largest changes in live bytes; --folded FILE writes\n"
	"'stack OLD NEW' lines (weighed by --folded-by: live by default) for a\n"
	"differential flame graph (flamegraph.pl, inferno-flamegraph).\n"
	"\n"
	"Ends on Ctrl-C, SIGTERM, --duration or target exit (with -f: once every\n"
	"process followed has exited); then writes the summary and reports. In\n"
	"launch mode ttbpf exits with the command's status (1 instead of 0 when a\n"
	"process followed with -f could not be traced). SIGUSR1 rewrites every\n"
	"report file at once and tracing goes on (with none, it prints the top\n"
	"sites). On a terminal, a status line shows the figures every second.\n";

static void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "ttbpf: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'ttbpf --help' for more information.\n");
}

/* "16M", "64K", "4096": a byte count that fits 32 bits */
static int parse_bytes(const char *s, uint32_t *out)
{
	unsigned long long v, mult = 1;
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		mult = 1ULL << 10, end++;
	else if (*end == 'M' || *end == 'm')
		mult = 1ULL << 20, end++;
	else if (*end == 'G' || *end == 'g')
		mult = 1ULL << 30, end++;
	if (*end || v > UINT32_MAX / mult)
		return -EINVAL;
	*out = (uint32_t)(v * mult);
	return 0;
}

/* "0" to max, decimal, nothing else */
static int parse_small(const char *s, long max, uint32_t *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* --skip-frames: an ERE that regcomp() takes, or a usage error */
static bool valid_regex(const char *re)
{
	char msg[128], what[512];
	regex_t r;
	int rc;

	if (!*re) {
		usage_error("%s", "--skip-frames needs a pattern (an empty one matches every frame)");
		return false;
	}
	rc = regcomp(&r, re, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		regerror(rc, &r, msg, sizeof(msg));
		snprintf(what, sizeof(what), "invalid --skip-frames '%.300s': %s", re, msg);
		usage_error("%s", what);
		return false;
	}
	regfree(&r);
	return true;
}

/* --folded-by and the older --folded-weight take the same names: "bytes"
 * and "allocated" are one weight. 0 or -EINVAL (printed). */
static int parse_folded_weight(const char *opt, const char *s, enum folded_weight *out)
{
	char fmt[96];
	static const struct {
		const char *name;
		enum folded_weight w;
	} names[] = {
		{ "live", FOLDED_LIVE_BYTES },   { "peak", FOLDED_PEAK_BYTES },
		{ "allocated", FOLDED_ALLOC_BYTES }, { "bytes", FOLDED_ALLOC_BYTES },
		{ "count", FOLDED_ALLOC_COUNT },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name)) {
			*out = names[i].w;
			return 0;
		}
	snprintf(fmt, sizeof(fmt), "invalid %s '%%s' (live, peak, allocated or count)", opt);
	usage_error(fmt, s);
	return -EINVAL;
}

enum { OPT_WAKEUP = 256, OPT_STACK_DEPTH, OPT_SVG, OPT_PNG, OPT_FOLDED, OPT_FOLDED_WEIGHT, OPT_FOLDED_BY,
       OPT_AGGREGATE, OPT_MAX_LIVE, OPT_MAX_VARS, OPT_UNWIND, OPT_UNWIND_ROWS, OPT_TOP,
       OPT_PPROF, OPT_STACK_LINES, OPT_SKIP_FRAMES, OPT_BY_ADDRESS, OPT_SORT };

/* An option whose value names a file or directory: "" would be taken and
 * then mean nothing (`--json=`), so it is refused. 0 or -EINVAL (printed). */
static int path_arg(const char *name, const char *arg)
{
	if (*arg)
		return 0;
	usage_error("option '%s' needs a non-empty value", name);
	return -EINVAL;
}

static int parse_top(const char *arg, uint32_t *out)
{
	if (parse_bytes(arg, out) || !*out || *out > TT_MAX_TOP) {
		usage_error("invalid --top '%s' (a count from 1 to 1000000)", arg);
		return -EINVAL;
	}
	return 0;
}

/* What a subcommand's getopt loop does with -h, an option without its
 * argument and an unknown one: the parse ends. */
static enum options_result sub_option_end(int c, const char *sub, char **argv)
{
	char fmt[64];

	if (c == 'h') {
		fputs(usage_text, stdout);
		return OPTIONS_EXIT_OK;
	}
	if (c == ':') {
		usage_error("option '%s' needs an argument", argv[optind - 1]);
	} else {
		snprintf(fmt, sizeof(fmt), "unknown option '%%s' for %s", sub);
		usage_error(fmt, argv[optind - 1]);
	}
	return OPTIONS_EXIT_USAGE;
}

/* --folded FILE and --folded-by W (--folded-weight, its first name), which
 * the subcommands share; *by_given: a --folded-by was seen. */
static int parse_folded_opt(int c, const char *arg, struct options *o, bool *by_given)
{
	if (c == OPT_FOLDED) {
		if (path_arg("--folded", arg))
			return -EINVAL;
		o->folded_path = arg;
		return 0;
	}
	*by_given = true;
	return parse_folded_weight(c == OPT_FOLDED_BY ? "--folded-by" : "--folded-weight", arg,
				   &o->folded_weight);
}

/* How a subcommand's options end: want operands (else msg), and --folded-by
 * only with --folded. */
static bool sub_operands_ok(const struct options *o, int argc, int want, const char *msg,
			    bool folded_by_given)
{
	if (optind != argc - want) {
		usage_error("%s", msg);
		return false;
	}
	if (folded_by_given && !o->folded_path) {
		usage_error("%s", "--folded-by weighs the stacks of --folded FILE: give --folded");
		return false;
	}
	return true;
}

/* `ttbpf diff OLD.json NEW.json [--folded FILE] [--folded-by W] [--top N]` */
static enum options_result parse_diff(struct options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "folded", required_argument, NULL, OPT_FOLDED },
		{ "folded-by", required_argument, NULL, OPT_FOLDED_BY },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	bool folded_by_given = false;
	int c;

	o->top = TT_DEFAULT_TOP;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FOLDED:
		case OPT_FOLDED_BY:
			if (parse_folded_opt(c, optarg, o, &folded_by_given))
				return OPTIONS_EXIT_USAGE;
			break;
		case OPT_TOP:
			if (parse_top(optarg, &o->top))
				return OPTIONS_EXIT_USAGE;
			break;
		default:
			return sub_option_end(c, "diff", argv);
		}
	}
	if (!sub_operands_ok(o, argc, 2, "diff takes two reports: OLD.json NEW.json",
			     folded_by_given))
		return OPTIONS_EXIT_USAGE;
	o->diff_old = argv[optind];
	o->diff_new = argv[optind + 1];
	return OPTIONS_RUN;
}

static int parse_sort(const char *arg, enum dash_sort *out)
{
	if (!strcmp(arg, "live"))
		*out = DASH_SORT_LIVE;
	else if (!strcmp(arg, "peak"))
		*out = DASH_SORT_PEAK;
	else if (!strcmp(arg, "allocated"))
		*out = DASH_SORT_ALLOCATED;
	else {
		usage_error("invalid --sort '%s' (live, peak or allocated)", arg);
		return -EINVAL;
	}
	return 0;
}

static int parse_stack_lines(const char *arg, uint32_t *out)
{
	if (parse_small(arg, TT_MAX_STACK_LINES, out)) {
		usage_error("invalid --stack-lines '%s' (0 to 128)", arg);
		return -EINVAL;
	}
	return 0;
}

/* --top, --stack-lines and --sort, which a run and `ttbpf report` share. */
static int parse_list_opt(int c, const char *arg, struct options *o)
{
	if (c == OPT_STACK_LINES)
		return parse_stack_lines(arg, &o->stack_lines);
	return c == OPT_TOP ? parse_top(arg, &o->top) : parse_sort(arg, &o->sort);
}

/* `ttbpf report FILE.json [--svg F] [--png F] [-o DIR] [--folded F [--folded-by W]]
 * [--top N] [--stack-lines N]`: without an output, the summary */
static enum options_result parse_report(struct options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "svg", required_argument, NULL, 's' },
		{ "png", required_argument, NULL, 'g' },
		{ "output", required_argument, NULL, 'o' },
		{ "folded", required_argument, NULL, OPT_FOLDED },
		{ "folded-by", required_argument, NULL, OPT_FOLDED_BY },
		{ "folded-weight", required_argument, NULL, OPT_FOLDED_WEIGHT },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "stack-lines", required_argument, NULL, OPT_STACK_LINES },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	bool folded_by_given = false;
	int c;

	o->top = TT_DEFAULT_TOP;
	o->stack_lines = TT_DEFAULT_STACK_LINES;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (path_arg("--svg", optarg))
				return OPTIONS_EXIT_USAGE;
			o->svg_path = optarg;
			break;
		case 'g':
			if (path_arg("--png", optarg))
				return OPTIONS_EXIT_USAGE;
			o->png_path = optarg;
			break;
		case 'o':
			if (path_arg("--output", optarg))
				return OPTIONS_EXIT_USAGE;
			o->out_dir = optarg;
			break;
		case OPT_FOLDED:
		case OPT_FOLDED_BY:
		case OPT_FOLDED_WEIGHT:
			if (parse_folded_opt(c, optarg, o, &folded_by_given))
				return OPTIONS_EXIT_USAGE;
			break;
		case OPT_TOP:
		case OPT_SORT:
		case OPT_STACK_LINES:
			if (parse_list_opt(c, optarg, o))
				return OPTIONS_EXIT_USAGE;
			break;
		default:
			return sub_option_end(c, "report", argv);
		}
	}
	if (!sub_operands_ok(o, argc, 1, "report takes one FILE.json", folded_by_given))
		return OPTIONS_EXIT_USAGE;
	o->report_in = argv[optind];
	return OPTIONS_RUN;
}

enum options_result options__parse(struct options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "json", required_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "duration", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "follow-forks", no_argument, NULL, 'f' },
		{ "lib", required_argument, NULL, 'l' },
		{ "ringbuf-size", required_argument, NULL, 'b' },
		{ "wakeup-bytes", required_argument, NULL, OPT_WAKEUP },
		{ "stack-depth", required_argument, NULL, OPT_STACK_DEPTH },
		{ "svg", required_argument, NULL, OPT_SVG },
		{ "png", required_argument, NULL, OPT_PNG },
		{ "aggregate", no_argument, NULL, OPT_AGGREGATE },
		{ "max-live", required_argument, NULL, OPT_MAX_LIVE },
		{ "max-vars", required_argument, NULL, OPT_MAX_VARS },
		{ "unwind", required_argument, NULL, OPT_UNWIND },
		{ "unwind-rows", required_argument, NULL, OPT_UNWIND_ROWS },
		{ "folded", required_argument, NULL, OPT_FOLDED },
		{ "folded-weight", required_argument, NULL, OPT_FOLDED_WEIGHT },
		{ "folded-by", required_argument, NULL, OPT_FOLDED_BY },
		{ "pprof", required_argument, NULL, OPT_PPROF },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "stack-lines", required_argument, NULL, OPT_STACK_LINES },
		{ "skip-frames", required_argument, NULL, OPT_SKIP_FRAMES },
		{ "by-address", no_argument, NULL, OPT_BY_ADDRESS },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	bool wakeup_given = false, max_live_given = false, folded_by_given = false;
	char *end, num[16];
	long pid;
	int c;

	memset(o, 0, sizeof(*o));
	if (argc >= 2 && !strcmp(argv[1], "report"))
		return parse_report(o, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "diff"))
		return parse_diff(o, argc - 1, argv + 1);
	o->ringbuf_bytes = TT_DEFAULT_RINGBUF_BYTES;
	o->wakeup_bytes = TT_DEFAULT_WAKEUP_BYTES;
	o->stack_depth = TT_DEFAULT_FRAMES;
	o->max_live = TT_DEFAULT_MAX_LIVE;
	o->max_vars = TT_DEFAULT_MAX_VARS;
	o->top = TT_DEFAULT_TOP;
	o->stack_lines = TT_DEFAULT_STACK_LINES;
	opterr = 0;
	optind = 0; /* 0, not 1: also forgets a half-parsed group like -hq */
	/* '+': stop at the first non-option, so COMMAND's own options are its own */
	while ((c = getopt_long(argc, argv, "+:p:j:o:d:i:fl:b:qvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			errno = 0;
			pid = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || pid <= 0 || pid > INT_MAX) {
				usage_error("invalid PID '%s'", optarg);
				return OPTIONS_EXIT_USAGE;
			}
			o->pid = (int)pid;
			break;
		case 'j':
			if (path_arg("--json", optarg))
				return OPTIONS_EXIT_USAGE;
			o->json_path = optarg;
			break;
		case 'o':
			if (path_arg("--output", optarg))
				return OPTIONS_EXIT_USAGE;
			o->out_dir = optarg;
			break;
		case 'f':
			o->follow = true;
			break;
		case 'd':
			errno = 0;
			o->duration_s = strtod(optarg, &end);
			if (errno || *end || end == optarg || !isfinite(o->duration_s) ||
			    o->duration_s <= 0 || o->duration_s > 1e9) {
				usage_error("invalid duration '%s' (seconds, > 0)", optarg);
				return OPTIONS_EXIT_USAGE;
			}
			break;
		case 'i':
			errno = 0;
			o->interval_s = strtod(optarg, &end);
			if (errno || *end || end == optarg || !isfinite(o->interval_s) ||
			    o->interval_s < TT_MIN_INTERVAL_S || o->interval_s > TT_MAX_INTERVAL_S) {
				usage_error("invalid interval '%s' (seconds, 0.1 to 86400)", optarg);
				return OPTIONS_EXIT_USAGE;
			}
			break;
		case 'l':
			if (path_arg("--lib", optarg))
				return OPTIONS_EXIT_USAGE;
			o->lib_path = optarg;
			break;
		case 'b':
			if (parse_bytes(optarg, &o->ringbuf_bytes) || o->ringbuf_bytes < 4096 ||
			    (o->ringbuf_bytes & (o->ringbuf_bytes - 1))) {
				usage_error("invalid ring buffer size '%s' (a power of two >= 4K)", optarg);
				return OPTIONS_EXIT_USAGE;
			}
			break;
		case OPT_WAKEUP:
			if (parse_bytes(optarg, &o->wakeup_bytes)) {
				usage_error("invalid --wakeup-bytes '%s'", optarg);
				return OPTIONS_EXIT_USAGE;
			}
			wakeup_given = true;
			break;
		case OPT_STACK_DEPTH:
			if (parse_small(optarg, TT_MAX_FRAMES, &o->stack_depth)) {
				usage_error("invalid --stack-depth '%s' (0 to 128)", optarg);
				return OPTIONS_EXIT_USAGE;
			}
			break;
		case OPT_SVG:
			if (path_arg("--svg", optarg))
				return OPTIONS_EXIT_USAGE;
			o->svg_path = optarg;
			break;
		case OPT_AGGREGATE:
			o->aggregate = true;
			break;
		case OPT_MAX_LIVE:
			if (parse_bytes(optarg, &o->max_live) || !o->max_live) {
				usage_error("invalid --max-live '%s' (a count, K/M suffix)", optarg);
				return OPTIONS_EXIT_USAGE;
			}
			max_live_given = true;
			break;
		case OPT_MAX_VARS:
			if (parse_bytes(optarg, &o->max_vars) || o->max_vars > TT_MAX_MAX_VARS) {
				usage_error("invalid --max-vars '%s' (a count up to 16M, K/M suffix)",
					    optarg);
				return OPTIONS_EXIT_USAGE;
			}
			break;
		case OPT_UNWIND:
			if (!strcmp(optarg, "dwarf")) {
				o->unwind = UNWIND_DWARF;
			} else if (!strcmp(optarg, "fp")) {
				o->unwind = UNWIND_FP;
			} else {
				usage_error("invalid --unwind '%s' (dwarf or fp)", optarg);
				return OPTIONS_EXIT_USAGE;
			}
			break;
		case OPT_UNWIND_ROWS:
			if (parse_bytes(optarg, &o->unwind_rows) || o->unwind_rows < 2 ||
			    o->unwind_rows > UNWINDER_MAX_ROWS) {
				usage_error("invalid --unwind-rows '%s' (a count from 2 up to 16M, K/M "
					    "suffix)", optarg);
				return OPTIONS_EXIT_USAGE;
			}
			break;
		case OPT_PNG:
			if (path_arg("--png", optarg))
				return OPTIONS_EXIT_USAGE;
			o->png_path = optarg;
			break;
		case OPT_FOLDED:
			if (path_arg("--folded", optarg))
				return OPTIONS_EXIT_USAGE;
			o->folded_path = optarg;
			break;
		case OPT_PPROF:
			if (path_arg("--pprof", optarg))
				return OPTIONS_EXIT_USAGE;
			o->pprof_path = optarg;
			break;
		case OPT_FOLDED_WEIGHT:
		case OPT_FOLDED_BY:
			if (parse_folded_weight(c == OPT_FOLDED_BY ? "--folded-by" : "--folded-weight",
						optarg, &o->folded_weight))
				return OPTIONS_EXIT_USAGE;
			folded_by_given = true;
			break;
		case OPT_STACK_LINES:
			if (parse_stack_lines(optarg, &o->stack_lines))
				return OPTIONS_EXIT_USAGE;
			break;
		case OPT_SKIP_FRAMES:
			if (!valid_regex(optarg))
				return OPTIONS_EXIT_USAGE;
			if (o->skip_cnt == TT_MAX_SKIP_FRAMES) {
				snprintf(num, sizeof(num), "%d", TT_MAX_SKIP_FRAMES);
				usage_error("too many --skip-frames (at most %s: join patterns with "
					    "'|')", num);
				return OPTIONS_EXIT_USAGE;
			}
			o->skip_frames[o->skip_cnt++] = optarg;
			break;
		case OPT_BY_ADDRESS:
			o->by_address = true;
			break;
		case OPT_TOP:
		case OPT_SORT:
			if (parse_list_opt(c, optarg, o))
				return OPTIONS_EXIT_USAGE;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return OPTIONS_EXIT_OK;
		case 'V':
			printf("ttbpf %s\n", TT_VERSION);
			return OPTIONS_EXIT_OK;
		case ':':
			usage_error("option '%s' needs an argument", argv[optind - 1]);
			return OPTIONS_EXIT_USAGE;
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
			return OPTIONS_EXIT_USAGE;
		}
	}

	if (optind < argc)
		o->argv = &argv[optind];
	if (o->pid && o->argv) {
		usage_error("%s", "give either -p PID or a command, not both");
		return OPTIONS_EXIT_USAGE;
	}
	if (!o->pid && !o->argv) {
		usage_error("%s", "nothing to trace: give -p PID or -- COMMAND");
		return OPTIONS_EXIT_USAGE;
	}
	if (o->follow && o->aggregate) {
		/* the kernel-side tables are keyed by address: processes would mix */
		usage_error("%s", "--aggregate cannot follow forks: drop -f or --aggregate");
		return OPTIONS_EXIT_USAGE;
	}
	if (max_live_given && !o->aggregate) {
		/* without --aggregate every block is followed in userspace: no bound to set */
		usage_error("%s", "--max-live applies to --aggregate only: add --aggregate or drop "
				  "--max-live");
		return OPTIONS_EXIT_USAGE;
	}
	if (folded_by_given && !o->folded_path) {
		usage_error("%s", "--folded-by weighs the stacks of --folded FILE: give --folded");
		return OPTIONS_EXIT_USAGE;
	}
	if (o->aggregate && o->sort == DASH_SORT_PEAK) {
		usage_error("%s", "--aggregate keeps no figures at the peak: drop --aggregate or "
				  "--sort by live or allocated");
		return OPTIONS_EXIT_USAGE;
	}
	if (o->aggregate && o->folded_weight == FOLDED_PEAK_BYTES) {
		usage_error("%s", "--aggregate keeps no per-stack figures at the peak: drop "
				  "--aggregate or weigh --folded by live, allocated or count");
		return OPTIONS_EXIT_USAGE;
	}
	/* a small ring buffer keeps the default batching in proportion */
	if (!wakeup_given && o->wakeup_bytes > o->ringbuf_bytes / 4)
		o->wakeup_bytes = o->ringbuf_bytes / 4;
	if (o->wakeup_bytes >= o->ringbuf_bytes) {
		usage_error("%s", "--wakeup-bytes must be below the ring buffer size");
		return OPTIONS_EXIT_USAGE;
	}
	return OPTIONS_RUN;
}
