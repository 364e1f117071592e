// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: `ttbpf report FILE.json` on hostile JSON, the path the
 * command and the end of every run take: the bytes are put in an anonymous
 * memory file (as a run holds its report) and read by dash_build__load
 * through /proc/self/fd, which streams them with json_stream__read. Run with
 * an RSS limit (scripts/fuzz.sh): the reader's memory must not follow the
 * input. Checked beyond memory safety, against json_doc__parse of the whole
 * text:
 *  - a document the parser reads whose root is an object with
 *    format_version 1 is read, any other document it reads is refused (one
 *    it refuses may be read: members the dashboard skips are checked for
 *    their brackets, strings and control characters only, as
 *    docs/json-format.md says);
 *  - the lists are bounded (DASH_LIST_MAX entries, names of at most 16 KiB,
 *    valid UTF-8) and count every entry: listed + not listed = the array's
 *    length, and the categories' sums add up;
 *  - the call-site tree is at most 8 roots of 3 callers, each node's parent
 *    a root before it.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "dash_build.h"
#include "json_reader.h"

#define FUZZ_NAME "fuzz_report"
#include "fuzz_check.h"

static bool valid_name(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	if (!s)
		return true;
	while (*p) {
		int need = *p < 0x80 ? 1 : *p >= 0xc2 && *p <= 0xdf ? 2 : *p >= 0xe0 && *p <= 0xef ? 3 :
			   *p >= 0xf0 && *p <= 0xf4 ? 4 : 0, i;

		if (!need)
			return false;
		for (i = 1; i < need; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += need;
		n += (size_t)need;
	}
	return n <= 16384;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* A root array's length, as the stream reads it: 0 when not an array. */
static size_t array_len(const struct jnode *root, const char *key)
{
	const struct jnode *a = jnode__get(root, key);

	return jnode__type(a) == JARR ? jnode__len(a) : 0;
}

/* root: the whole parse's, NULL when it refused the text. */
static void check_dash(const struct dash *d, const struct jnode *root)
{
	const struct jnode *cats = jnode__get(root, "memory_by_category");
	uint64_t bytes = 0, count = 0, want_bytes = 0, want_count = 0;
	size_t i;

	CHECK(d->type_cnt <= DASH_LIST_MAX && d->category_cnt <= DASH_LIST_MAX &&
	      d->var_cnt <= DASH_LIST_MAX, "a list over DASH_LIST_MAX");
	CHECK(!root || d->type_cnt + d->types_more == array_len(root, "memory_by_type"), "types miscounted");
	CHECK(!root || d->category_cnt + d->categories_more == array_len(root, "memory_by_category"),
	      "categories miscounted");
	CHECK(!root || d->var_cnt + d->vars_more == array_len(root, "variable_groups"), "groups miscounted");
	for (i = 0; i < d->type_cnt; i++)
		CHECK(valid_name(d->types[i].name), "a type name is not valid");
	for (i = 0; i < d->category_cnt; i++) {
		CHECK(valid_name(d->categories[i].name), "a category name is not valid");
		bytes = sat_add(bytes, d->categories[i].bytes);
		count = sat_add(count, d->categories[i].count);
	}
	bytes = sat_add(bytes, d->categories_more_bytes);
	count = sat_add(count, d->categories_more_count);
	for (i = 0; jnode__type(cats) == JARR && i < jnode__len(cats); i++) {
		const struct jnode *c = jnode__at(cats, i);

		want_bytes = sat_add(want_bytes, jnode__u64(jnode__get(c, "total_size"), 0));
		want_count = sat_add(want_count, jnode__u64(jnode__get(c, "allocation_count"), 0));
	}
	CHECK(!root || (bytes == want_bytes && count == want_count), "the categories' sums differ");
	for (i = 0; i < d->var_cnt; i++)
		CHECK(valid_name(d->vars[i].name) && valid_name(d->vars[i].type_name),
		      "a variable's name is not valid");
	CHECK(d->site_cnt <= 8 * 4, "%zu tree nodes", d->site_cnt);
	for (i = 0; i < d->site_cnt; i++) {
		const struct dash_site *s = &d->sites[i];

		CHECK(s->parent < (int)i && (s->parent < 0 || d->sites[s->parent].parent < 0),
		      "node %zu: parent %d", i, s->parent);
		CHECK(valid_name(s->function) && valid_name(s->file), "a site's name is not valid");
	}
	CHECK(d->heat_cols <= 256 && (d->heat || !d->heat_cols), "heatmap of %u columns",
	      d->heat_cols);
	CHECK(d->target && strlen(d->target) < 512, "target");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const none[] = { NULL };
	struct dash_build *b = NULL;
	const struct jnode *root;
	struct json_doc *doc;
	char path[64], err[256];
	bool report;
	int fd, rc;

	fd = memfd_create("fuzz-report.json", MFD_CLOEXEC);
	CHECK(fd >= 0, "memfd_create");
	CHECK(!size || write(fd, data, size) == (ssize_t)size, "write");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rc = dash_build__load(&b, path, NULL);
	close(fd);

	doc = json_doc__parse((const char *)data, size, none, err, sizeof(err));
	root = json_doc__root(doc);
	report = doc && jnode__type(root) == JOBJ &&
		 jnode__u64(jnode__get(root, "format_version"), 0) == 1;
	if (!doc && strstr(err, "out of memory")) {
		dash_build__free(b);
		return 0;
	}
	CHECK(!doc || !rc == report, "dash_build__load %s a document the parser %s",
	      rc ? "refuses" : "reads", report ? "takes for a report" : "does not take for a report");
	if (!rc)
		check_dash(dash_build__dash(b), root);
	json_doc__free(doc);
	dash_build__free(b);
	return 0;
}
