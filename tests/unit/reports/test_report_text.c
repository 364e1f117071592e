// SPDX-License-Identifier: Apache-2.0
/*
 * The summary's lines about memory beside malloc (mmap outside, brk
 * outside, rss): there only when there is something to say, singular for
 * one, the program's own (never the allocator's), and the same read back
 * from the JSON report (`ttbpf report FILE.json`) as printed by the run.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mapped.h"
#include "model.h"
#include "options.h"
#include "report_json.h"
#include "report_text.h"
#include "timeline.h"

#define PG 4096ULL

static struct model mo;
static struct report_meta meta;
static char *out;
static size_t out_len;

static void model_up(void)
{
	cr_assert_eq(model__init(&mo, 1000, 0, false, TT_DEFAULT_MAX_VARS), 0);
	meta = (struct report_meta){
		.pid = 100, .command = "app", .allocator = "libc.so.6", .launched = true,
		.exit_code = 0, .start_ns = 1000, .end_ns = 1000 + 2000000, .sysmem = true,
	};
	out = NULL;
	out_len = 0;
}

static void model_down(void)
{
	model__fini(&mo);
	free(out);
}

static void sysmem(uint32_t kind, bool in_alloc, uint64_t addr, uint64_t len, uint64_t new_brk)
{
	struct tt_sysmem_event e = {
		.hdr.type = TT_EV_SYSMEM, .kind = kind, .in_alloc = in_alloc, .addr = addr,
		.len = len, .new_brk = new_brk,
	};

	cr_assert_eq(mapped__on_event(mo.mapped, &e), 0);
}

/* One mmap of 2 pages, a munmap of one, a brk of 16 pages, an RSS sample. */
static void one_of_each(void)
{
	sysmem(TT_SYSMEM_MMAP, false, 0x10000, 2 * PG, 0);
	sysmem(TT_SYSMEM_MUNMAP, false, 0x10000, PG, 0);
	sysmem(TT_SYSMEM_BRK, false, 0x5000, 0, 0x5000 + 16 * PG);
	timeline__on_rss(mo.timeline, 1000 + 500000, 3 << 20);
}

static const char *summary(void)
{
	FILE *f;

	free(out);
	out = NULL;
	f = open_memstream(&out, &out_len);
	cr_assert_not_null(f);
	report_text__write(f, &mo, &meta, NULL);
	cr_assert_eq(fclose(f), 0);
	return out;
}

/* The line starting with head, newline included; "" when there is none. */
static char *line_of(const char *text, const char *head)
{
	const char *s = strstr(text, head), *e;

	if (!s)
		return strdup("");
	e = strchr(s, '\n');
	return strndup(s, e ? (size_t)(e - s) + 1 : strlen(s));
}

static void expect_line(const char *head, const char *want)
{
	char *got = line_of(out, head);

	cr_expect_str_eq(got, want, "summary:\n%s", out);
	free(got);
}

TestSuite(beside, .init = model_up, .fini = model_down);

Test(beside, nothing_mapped_no_lines)
{
	summary();
	expect_line("  mmap outside", "");
	expect_line("  brk outside", "");
	expect_line("  rss ", "");
}

Test(beside, the_allocators_own_are_not_the_programs)
{
	sysmem(TT_SYSMEM_MMAP, true, 0x10000, 1 << 20, 0);
	sysmem(TT_SYSMEM_BRK, true, 0x5000, 0, 0x5000 + 33 * PG);
	summary();
	expect_line("  mmap outside", "");
	expect_line("  brk outside", "");
}

Test(beside, one_of_each_is_singular)
{
	one_of_each();
	summary();
	expect_line("  mmap outside", "  mmap outside   1 anonymous mmap (8.0 KB), 1 munmap (4.0 KB): "
				      "4.0 KB mapped at end, not in the figures above\n");
	expect_line("  brk outside", "  brk outside    1 move, +64.0 KB: 64.0 KB at end\n");
	expect_line("  rss ", "  rss            peak 3.0 MB, last 3.0 MB (1 sample of "
			      "/proc/PID/statm)\n");
}

Test(beside, several_and_no_munmap)
{
	sysmem(TT_SYSMEM_MMAP, false, 0x10000, 2 * PG, 0);
	sysmem(TT_SYSMEM_MMAP, false, 0x40000, 3 * PG, 0);
	sysmem(TT_SYSMEM_BRK, false, 0x5000, 0, 0x5000 + 16 * PG);
	sysmem(TT_SYSMEM_BRK, false, 0x5000 + 16 * PG, 0, 0x5000 + 12 * PG);
	timeline__on_rss(mo.timeline, 1000 + 500000, 3 << 20);
	timeline__on_rss(mo.timeline, 1000 + 1500000, 2 << 20);
	summary();
	expect_line("  mmap outside", "  mmap outside   2 anonymous mmaps (20.0 KB): 20.0 KB mapped "
				      "at end, not in the figures above\n");
	expect_line("  brk outside", "  brk outside    2 moves, +64.0 KB -16.0 KB: 48.0 KB at end\n");
	expect_line("  rss ", "  rss            peak 3.0 MB, last 2.0 MB (2 samples of "
			      "/proc/PID/statm)\n");
	/* beside the heap's figures, before the run's health */
	cr_expect_lt(strstr(out, "  mmap outside"), strstr(out, "  lost events"));
}

Test(beside, not_counted_no_lines)
{
	sysmem(TT_SYSMEM_MMAP, false, 0x10000, 2 * PG, 0);
	sysmem(TT_SYSMEM_BRK, false, 0x5000, 0, 0x5000 + 16 * PG);
	meta.sysmem = false; /* the syscall tracepoints were not attached */
	summary();
	expect_line("  mmap outside", "");
	expect_line("  brk outside", "");
}

/* `ttbpf report F.json` prints what the run printed: the figures read back */
static void expect_json_summary_same(void)
{
	char path[] = "/tmp/ttbpf-test-text-XXXXXX", *from_json = NULL;
	const struct report_text_opts o = { .top = TT_DEFAULT_TOP, .stack_lines = 0 };
	static const char *const heads[] = { "  mmap outside", "  brk outside", "  rss " };
	size_t len, i;
	FILE *f;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	cr_assert_eq(report_json__emit(f, &mo, &meta), 0);
	cr_assert_eq(fclose(f), 0);
	f = open_memstream(&from_json, &len);
	cr_assert_not_null(f);
	cr_assert_eq(report_text__write_json(f, path, &o), 0);
	cr_assert_eq(fclose(f), 0);
	unlink(path);
	summary();
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		char *run = line_of(out, heads[i]), *read = line_of(from_json, heads[i]);

		cr_expect_str_eq(read, run, "%s: the JSON's summary differs", heads[i]);
		free(run);
		free(read);
	}
	free(from_json);
}

Test(beside, the_json_summary_prints_the_same)
{
	one_of_each();
	expect_json_summary_same();
	cr_expect_not_null(strstr(out, "  mmap outside   1 anonymous mmap"), "%s", out);
}

Test(beside, the_json_summary_of_nothing_mapped)
{
	expect_json_summary_same();
	cr_expect_null(strstr(out, "outside"), "%s", out);
}
