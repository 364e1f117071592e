// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: `ttbpf report` on a report of over 1 GiB (what a run with 12M
 * live blocks writes) takes memory that does not grow with the file
 * (docs/json-format.md states the bound). The report is generated here: the
 * sections the dashboard draws, a million stacks under ten call sites, and a
 * few million live blocks and variable instances. Its dashboard must be the
 * one drawn from a small report that holds the same sections and, for each
 * call site and caller, one stack with the sums the test computed: the
 * streamed figures are the generated ones (the callers drawn under the
 * first call sites show their sums exactly in their labels). The child's peak RSS (ru_maxrss
 * from wait4) must stay under a fixed ceiling. No root needed.
 */
#include "e2e.h"
#include <sys/resource.h>

#define BIG_BYTES ((1ULL << 30) + (64ULL << 20)) /* over 1 GiB: the old reader's limit */
#define SITES 10
#define CALLERS 5 /* the dashboard lists the first 4 met under a site, draws 3 */
#define STACKS 1000000
#define TYPES 300
#define GROUPS 200
#define POINTS 2048
#define BUCKETS 20 /* of the size histogram and heatmap */

/*
 * The child's peak resident set. AddressSanitizer (make SANITIZE=1) adds its
 * shadow memory and a quarantine of freed blocks (256 MiB by default): a
 * higher ceiling there, still far below the input's size.
 */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_CEILING_MIB 192
#else
#define RSS_CEILING_MIB 64
#endif

E2E_SUITE_IN_DIR(report_stream, false);

struct sums {
	uint64_t bytes[SITES][CALLERS], allocs[SITES][CALLERS];
};

static void put_frame(FILE *f, const char *sym, const char *file, int line, unsigned ip, bool last)
{
	fprintf(f, "{\"ip\":\"0x%x\",\"symbol\":\"%s\",\"offset\":4,\"module\":\"/usr/bin/big\","
		   "\"file\":\"%s\",\"line\":%d}%s",
		ip, sym, file, line, last ? "" : ",");
}

/* One stack: malloc's wrapper, the call site, its caller, main. */
static void put_stack(FILE *f, uint64_t id, unsigned s, unsigned c, uint64_t bytes, uint64_t allocs,
		      bool first)
{
	char site[32], caller[32];

	snprintf(site, sizeof(site), "site_%u", s);
	snprintf(caller, sizeof(caller), "caller_%u", c);
	fprintf(f, "%s\n{\"id\":%llu,\"end\":\"root\",\"call_site\":1,\"allocations\":%llu,"
		   "\"bytes\":%llu,\"live_count\":0,\"live_bytes\":0,\"peak_live_bytes\":0,\"frames\":[",
		first ? "" : ",", (unsigned long long)id, (unsigned long long)allocs,
		(unsigned long long)bytes);
	put_frame(f, "xmalloc", "wrap.c", 7, 0x100, false);
	put_frame(f, site, "sites.c", 100 + (int)s, 0x1000 + s, false);
	put_frame(f, caller, "callers.c", 1 + (int)c, 0x2000 + c, false);
	put_frame(f, "main", "main.c", 3, 0x3000, true);
	fputs("]}", f);
}

/* Everything but the bulk, before the stacks. */
static void put_head(FILE *f)
{
	unsigned i, k;

	fprintf(f, "{\"format_version\":1,\"tool\":\"ttbpf 0.1.0\",\"duration_ns\":60000000000,\n"
		   "\"target\":{\"pid\":4242,\"command\":\"./big --live 12M\",\"mode\":\"launch\"},\n"
		   "\"total_allocations\":15000000,\"total_allocated\":960000000,\n"
		   "\"stats\":{\"total_allocations\":15000000,\"total_allocated\":960000000,"
		   "\"active_allocations\":12000000,\"active_memory\":768000000,"
		   "\"peak_memory\":800000000,\"peak_allocations\":12500000,\"peak_time\":41000000000,"
		   "\"total_frees\":3000000,\"total_freed\":192000000,\"lost_events\":167000},\n");
	fputs("\"memory_by_type\":[", f);
	for (i = 0; i < TYPES; i++)
		fprintf(f, "%s{\"type_name\":\"type_%u\",\"total_size\":%u,\"allocation_count\":%u}",
			i ? "," : "", i, (i * 7919) % 100000, i % 13);
	fputs("],\n\"memory_by_category\":[", f);
	for (i = 0; i < TYPES; i++)
		fprintf(f, "%s{\"category\":\"cat_%u\",\"total_size\":%u,\"allocation_count\":%u}",
			i ? "," : "", i, (i * 104729) % 50000, i % 7);
	fputs("],\n\"variable_groups\":[", f);
	for (i = 0; i < GROUPS; i++) {
		fprintf(f, "%s{\"id\":%u,\"name\":\"var_%u\",\"type_name\":\"struct t%u\",\"instances\":%u,"
			   "\"alive\":%u,\"folded\":0,\"bytes_alive\":%u,\"peak_bytes\":%u,"
			   "\"alive_in_slice\":[",
			i ? "," : "", i, i, i % 9, 100 + i, i % 3 ? i : 0, i % 3 ? 64 * i : 0, 96 * i);
		for (k = 0; k < 64; k++)
			fprintf(f, "%s%u", k ? "," : "", (i + k) % 11);
		fputs("]}", f);
	}
	fputs("],\n\"variable_stats\":{\"instances_listed\":3000000,\"instances_folded\":5,"
	      "\"groups\":200},\n\"timeline\":{\"interval_ns\":29296875,\"points\":[", f);
	for (i = 0; i < POINTS; i++)
		fprintf(f, "%s{\"t_ns\":%llu,\"live_bytes\":%u,\"live_count\":%u,\"allocations\":%u,"
			   "\"frees\":%u}",
			i ? "," : "", (unsigned long long)(i + 1) * 29296875ULL, 375000 * i, 5859 * i,
			7324, 1464);
	fputs("]},\n\"heatmap\":{\"slices\":32,\"rows\":[", f);
	for (i = 0; i < BUCKETS; i++) {
		fprintf(f, "%s{\"counts\":[", i ? "," : "");
		for (k = 0; k < 32; k++)
			fprintf(f, "%s%u", k ? "," : "", (i * 31 + k * 17) % 1000);
		fputs("]}", f);
	}
	fputs("]},\n\"size_histogram\":[", f);
	for (i = 0; i < BUCKETS; i++)
		fprintf(f, "%s{\"allocations\":%u,\"bytes\":%u}", i ? "," : "", (i * 977) % 5000,
			i * 1000);
	fputs("],\n\"call_sites\":[", f);
	for (i = 0; i < SITES; i++)
		fprintf(f, "%s{\"stack_id\":%u,\"ip\":\"0x%x\",\"function\":\"site_%u\","
			   "\"file\":\"sites.c\",\"line\":%u,\"module\":\"/usr/bin/big\","
			   "\"stacks\":%u,\"allocations\":%u,\"bytes\":%u}",
			i ? "," : "", i + 1, 0x1000 + i, i, 100 + i, STACKS / SITES,
			(SITES - i) * 1000, (SITES - i) * 100000);
	fputs("],\n\"stacks\":[", f);
}

/* The big report: the head, a million stacks, then the bulk the dashboard skips. */
static void write_big(const char *path, struct sums *sum)
{
	FILE *f = fopen(path, "w");
	uint64_t k, n = 0;
	struct stat st;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	put_head(f);
	for (k = 0; k < STACKS; k++) {
		unsigned s = k % SITES, c = (unsigned)(k / SITES % CALLERS);
		/* under 1000 allocations and 1024 bytes per caller: the tree's labels
		 * show them exactly */
		uint64_t bytes = k % 97 == 0 ? 1 + k % 5 : 0, allocs = k % 23 == 0;

		put_stack(f, k + 1, s, c, bytes, allocs, !k);
		sum->bytes[s][c] += bytes;
		sum->allocs[s][c] += allocs;
	}
	fputs("],\"stacks_dropped\":0,\n\"variables\":[", f);
	for (k = 0; k < 3000000; k++)
		fprintf(f, "%s\n{\"group\":%llu,\"ptr\":\"0x%llx\",\"size\":64,\"thread_id\":4242,"
			   "\"created_ns\":%llu,\"freed_ns\":null,\"heap\":true}",
			k ? "," : "", (unsigned long long)(k % GROUPS),
			(unsigned long long)(0x7f0000000000ULL + 64 * k), (unsigned long long)k);
	fputs("],\n\"active_allocations\":[", f);
	fflush(f);
	cr_assert_eq(fstat(fileno(f), &st), 0);
	/* live blocks until the file is over BIG_BYTES */
	for (k = 0; (uint64_t)st.st_size + n < BIG_BYTES; k++)
		n += (uint64_t)fprintf(f, "%s\n{\"ptr\":\"0x%llx\",\"size\":64,\"timestamp_alloc\":%llu,"
				      "\"thread_id\":4242,\"stack_id\":%llu}",
				      k ? "," : "", (unsigned long long)(0x600000000000ULL + 64 * k),
				      (unsigned long long)k, (unsigned long long)(1 + k % STACKS));
	fputs("]}\n", f);
	cr_assert_eq(fclose(f), 0, "writing %s: %s", path, strerror(errno));
}

/* The same dashboard's sections; per site and caller one stack of the sums. */
static void write_small(const char *path, const struct sums *sum)
{
	FILE *f = fopen(path, "w");
	unsigned s, c;
	bool first = true;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	put_head(f);
	/* callers in the order the big report meets them; each site's representative
	 * (id s + 1) is its first stack, as there */
	for (c = 0; c < CALLERS; c++)
		for (s = 0; s < SITES; s++) {
			put_stack(f, c ? 100 + c * SITES + s : s + 1, s, c, sum->bytes[s][c],
				  sum->allocs[s][c], first);
			first = false;
		}
	fputs("],\"variables\":[],\"active_allocations\":[]}\n", f);
	cr_assert_eq(fclose(f), 0, "writing %s: %s", path, strerror(errno));
}

/* ttbpf report ARGS: its exit status, and its peak RSS in KiB. */
static int report_rss(const char *in, const char *svg, const char *png, long *rss_kb)
{
	char errpath[128];
	struct rusage ru;
	int status, fd;
	pid_t pid;

	snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		execl(e2e_tool(), e2e_tool(), "report", in, "--svg", svg, "--png", png, (char *)NULL);
		_exit(127);
	}
	cr_assert_eq(wait4(pid, &status, 0, &ru), pid);
	*rss_kb = ru.ru_maxrss;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		char err[1024] = "";
		FILE *f = fopen(errpath, "r");

		if (f) {
			err[fread(err, 1, sizeof(err) - 1, f)] = '\0';
			fclose(f);
		}
		cr_log_error("ttbpf report %s: status 0x%x: %s", in, status, err);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool same_file(const char *a, const char *b)
{
	FILE *x = fopen(a, "r"), *y = fopen(b, "r");
	bool same = x && y;
	int c = 0, d = 0;

	while (same && c != EOF) {
		c = getc(x);
		d = getc(y);
		same = c == d;
	}
	if (x)
		fclose(x);
	if (y)
		fclose(y);
	return same;
}

Test(report_stream, report_of_over_1_gib_in_bounded_memory, .timeout = 900)
{
	char big[96], small[96], svg[2][96], png[2][96];
	static struct sums sum;
	struct stat st;
	long rss_kb, small_kb;

	snprintf(big, sizeof(big), "%s/big.json", dir);
	snprintf(small, sizeof(small), "%s/small.json", dir);
	snprintf(svg[0], sizeof(svg[0]), "%s/big.svg", dir);
	snprintf(png[0], sizeof(png[0]), "%s/big.png", dir);
	snprintf(svg[1], sizeof(svg[1]), "%s/small.svg", dir);
	snprintf(png[1], sizeof(png[1]), "%s/small.png", dir);
	write_big(big, &sum);
	write_small(small, &sum);
	cr_assert_eq(stat(big, &st), 0);
	cr_assert_geq((uint64_t)st.st_size, BIG_BYTES, "the report is %lld bytes",
		      (long long)st.st_size);

	cr_assert_eq(report_rss(big, svg[0], png[0], &rss_kb), 0, "ttbpf report failed on %s", big);
	unlink(big); /* 1 GiB less on the disk from here */
	cr_assert_eq(report_rss(small, svg[1], png[1], &small_kb), 0);
	cr_log_info("peak RSS of ttbpf report: %ld KiB on %lld bytes, %ld KiB on the small report",
		    rss_kb, (long long)st.st_size, small_kb);
	cr_expect_leq(rss_kb, RSS_CEILING_MIB * 1024L, "ttbpf report took %ld KiB (ceiling %d MiB)",
		      rss_kb, RSS_CEILING_MIB);
	/* the streamed sums are the generated ones, and every other figure is */
	cr_expect(same_file(svg[0], svg[1]), "the dashboards (SVG) differ");
	cr_expect(same_file(png[0], png[1]), "the dashboards (PNG) differ");
}
