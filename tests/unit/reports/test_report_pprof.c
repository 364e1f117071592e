// SPDX-License-Identifier: Apache-2.0
/*
 * The pprof writer against a decoder: the profile is gunzipped (zlib) and
 * unpacked by protobuf-c from the same profile.proto, then every sample,
 * location, line, function, mapping and string is checked against the
 * model it was written from. The stacks are addresses of this very binary
 * (built -g), symbolized live from our own process, one of them inside
 * calls inlined into inl_root (inline_chain.h, whose LINE-MARK comments tag
 * the expected lines). Run from the repo root (that file is read). Also: the plan's pprof paths (-o DIR, -f children,
 * the same file given twice).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "heap.h"
#include "model.h"
#include "options.h"
#include "profile.pb-c.h"
#include "report_pprof.h"
#include "reports.h"
#include "stacks.h"

#include "inline_chain.h"

#define SRC INLINE_CHAIN_SRC

typedef Perftools__Profiles__Profile pb_profile;
typedef Perftools__Profiles__Location pb_location;
typedef Perftools__Profiles__Function pb_function;
typedef Perftools__Profiles__Mapping pb_mapping;

/* ---- the model and its profile ------------------------------------------ */

static struct model mo;
static struct report_meta meta;
static uint64_t ip_inl, ip_plain, ip_unknown;
/* what no stack holds (heap__set_totals): the "[no stack]" sample */
#define REST_ALLOCS 3
#define REST_BYTES 300
#define REST_LIVE 1
#define REST_LIVE_BYTES 100
/* and at the peak: the heap's peak less what the stacks held then */
#define REST_PEAK 2
#define REST_PEAK_BYTES 200

static void model_up(void)
{
	struct heap_stats totals;
	uint64_t ips[3];
	uint32_t a, b;

	ip_inl = inl_root();
	ip_plain = plain_fn();
	ip_unknown = 0x10; /* in no mapping */
	cr_assert_eq(model__init(&mo, 1000, getpid(), true, 16), 0);
	cr_assert_not_null(mo.sym, "cannot symbolize our own process");
	/* a: innermost first, the inlined address then its caller, whole */
	ips[0] = ip_inl;
	ips[1] = ip_plain;
	a = stacks__intern(mo.stacks, ips, 2, TT_STACK_END_ROOT);
	stacks__on_alloc(mo.stacks, a, 64);
	stacks__on_alloc(mo.stacks, a, 32);
	stacks__on_peak(mo.stacks); /* a held 2 blocks, 96 bytes, at the peak */
	stacks__on_release(mo.stacks, a, 32);
	/* b: cut short, through an address no mapping holds */
	ips[0] = ip_plain;
	ips[1] = ip_unknown;
	b = stacks__intern(mo.stacks, ips, 2, TT_STACK_END_CUT);
	stacks__on_alloc(mo.stacks, b, 1000);
	cr_assert(a == 1 && b == 2);
	/* the heap's live figures are its blocks' (aggregate mode's way in) */
	cr_assert_eq(heap__restore_block(mo.heap, 0x1000, 64, 1, 1, a), 0);
	cr_assert_eq(heap__restore_block(mo.heap, 0x2000, 1000, 1, 1, b), 0);
	cr_assert_eq(heap__restore_block(mo.heap, 0x3000, REST_LIVE_BYTES, 1, 1, 0), 0);
	totals = (struct heap_stats){
		.total_allocs = 3 + REST_ALLOCS, .total_alloc_bytes = 1096 + REST_BYTES,
		.peak_cnt = 2 + REST_PEAK, .peak_bytes = 96 + REST_PEAK_BYTES,
	};
	heap__set_totals(mo.heap, &totals);
	cr_assert_eq(heap__stats(mo.heap)->live_cnt, 2 + REST_LIVE);
	cr_assert_eq(model__finish(&mo, "libc.so.6"), 0);
	meta = (struct report_meta){
		/* a hostile command line: a control character, invalid UTF-8 */
		.pid = getpid(), .command = "test \x1b[2J\xff--x", .allocator = "libc.so.6",
		.launched = true, .start_ns = 1000, .end_ns = 1000 + 2000000,
		.wall_minus_mono_ns = 1700000000000000000LL,
	};
}

static void model_down(void)
{
	model__fini(&mo);
}

static unsigned char *gunzip(const unsigned char *in, size_t len, size_t *out_len)
{
	size_t cap = 1 << 16;
	unsigned char *out = malloc(cap);
	z_stream z = { 0 };
	int rc;

	cr_assert_not_null(out);
	cr_assert_eq(inflateInit2(&z, 15 + 16), Z_OK, "gzip, not zlib or raw deflate");
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	do {
		if (z.total_out == cap) {
			cap *= 2;
			out = realloc(out, cap);
			cr_assert_not_null(out);
		}
		z.next_out = out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		rc = inflate(&z, Z_NO_FLUSH);
		cr_assert(rc == Z_OK || rc == Z_STREAM_END, "inflate: %d", rc);
	} while (rc != Z_STREAM_END);
	cr_assert_eq(z.avail_in, 0, "nothing after the gzip stream");
	*out_len = z.total_out;
	inflateEnd(&z);
	return out;
}

/* The profile of m written to memory, decoded. */
static pb_profile *decode_model(const struct model *m)
{
	unsigned char *gz = NULL, *raw;
	size_t gz_len = 0, raw_len;
	pb_profile *p;
	FILE *f = open_memstream((char **)&gz, &gz_len);

	cr_assert_not_null(f);
	cr_assert_eq(report_pprof__emit(f, m, &meta), 0);
	cr_assert_eq(fclose(f), 0);
	raw = gunzip(gz, gz_len, &raw_len);
	p = perftools__profiles__profile__unpack(NULL, raw_len, raw);
	cr_assert_not_null(p, "protobuf-c cannot unpack the profile");
	free(gz);
	free(raw);
	return p;
}

static pb_profile *decode(void)
{
	return decode_model(&mo);
}

static const char *str(const pb_profile *p, int64_t i)
{
	cr_assert(i >= 0 && (size_t)i < p->n_string_table, "string index %lld of %zu",
		  (long long)i, p->n_string_table);
	return p->string_table[i];
}

static const pb_location *loc(const pb_profile *p, uint64_t id)
{
	cr_assert(id >= 1 && id <= p->n_location, "location id %llu", (unsigned long long)id);
	cr_assert_eq(p->location[id - 1]->id, id, "locations are in id order");
	return p->location[id - 1];
}

static const pb_function *func(const pb_profile *p, uint64_t id)
{
	cr_assert(id >= 1 && id <= p->n_function, "function id %llu", (unsigned long long)id);
	cr_assert_eq(p->function[id - 1]->id, id);
	return p->function[id - 1];
}

static const pb_mapping *mapping(const pb_profile *p, uint64_t id)
{
	for (size_t i = 0; i < p->n_mapping; i++)
		if (p->mapping[i]->id == id)
			return p->mapping[i];
	cr_assert_fail("no mapping %llu", (unsigned long long)id);
	return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

TestSuite(pprof, .init = model_up, .fini = model_down);

Test(pprof, header_and_string_table)
{
	static const char *const types[][2] = {
		{ "alloc_objects", "count" }, { "alloc_space", "bytes" },
		{ "peak_objects", "count" },  { "peak_space", "bytes" },
		{ "inuse_objects", "count" }, { "inuse_space", "bytes" },
	};
	pb_profile *p = decode();
	bool cmd = false, pid = false;
	char want[64];
	size_t i, j;

	cr_assert_geq(p->n_string_table, 1);
	cr_assert_str_eq(p->string_table[0], "", "string_table[0] must be \"\"");
	for (i = 1; i < p->n_string_table; i++) {
		const unsigned char *s = (const unsigned char *)p->string_table[i];

		cr_assert_neq(s[0], 0, "only string 0 is empty");
		for (; *s; s++)
			cr_assert(*s >= 0x20 && *s != 0x7f, "control character in string %zu", i);
		for (j = 1; j < i; j++)
			cr_assert_str_neq(p->string_table[i], p->string_table[j],
					  "strings %zu and %zu are the same", j, i);
	}
	cr_assert_eq(p->n_sample_type, 6);
	for (i = 0; i < 6; i++) {
		cr_assert_str_eq(str(p, p->sample_type[i]->type), types[i][0]);
		cr_assert_str_eq(str(p, p->sample_type[i]->unit), types[i][1]);
	}
	cr_assert_str_eq(str(p, p->default_sample_type), "inuse_space");
	cr_assert_eq(p->default_sample_type, 5,
		     "read as an index of sample_type too (speedscope), it is inuse_space");
	cr_assert_str_eq(str(p, p->period_type->type), "space");
	cr_assert_str_eq(str(p, p->period_type->unit), "bytes");
	cr_assert_eq(p->period, 1);
	cr_assert_eq(p->time_nanos, 1000 + 1700000000000000000LL, "wall clock of the start");
	cr_assert_eq(p->duration_nanos, 2000000);
	snprintf(want, sizeof(want), "pid: %d", getpid());
	for (i = 0; i < p->n_comment; i++) {
		const char *c = str(p, p->comment[i]);

		/* ESC and the invalid byte became '?' (text_clean) */
		cmd |= !strcmp(c, "command: test ?[2J?--x");
		pid |= !strcmp(c, want);
	}
	cr_assert(cmd && pid, "comments name the command and the pid");
	perftools__profiles__profile__free_unpacked(p, NULL);
}

/* every id referenced exists, ids are unique, no two functions are one */
Test(pprof, references_are_whole)
{
	pb_profile *p = decode();
	size_t i, j;

	for (i = 0; i < p->n_function; i++) {
		const pb_function *f = func(p, i + 1);

		cr_assert_neq(str(p, f->name)[0], 0, "function %zu has no name", i + 1);
		cr_assert_eq(f->system_name, f->name);
		str(p, f->filename);
		for (j = 0; j < i; j++)
			cr_assert(p->function[j]->name != f->name ||
				  p->function[j]->filename != f->filename,
				  "functions %zu and %zu are the same", j + 1, i + 1);
	}
	for (i = 0; i < p->n_location; i++) {
		const pb_location *l = loc(p, i + 1);

		for (j = 0; j < l->n_line; j++)
			func(p, l->line[j]->function_id);
		if (l->mapping_id) {
			const pb_mapping *m = mapping(p, l->mapping_id);

			cr_assert(l->address >= m->memory_start && l->address < m->memory_limit,
				  "location %zu outside its mapping", i + 1);
		}
		for (j = 0; j < i; j++)
			cr_assert(p->location[j]->address != l->address || !l->address,
				  "two locations for one address");
	}
	for (i = 0; i < p->n_mapping; i++) {
		const pb_mapping *m = p->mapping[i];

		cr_assert(m->id >= 1 && m->id <= p->n_mapping, "mapping ids are 1..n");
		cr_assert_lt(m->memory_start, m->memory_limit);
		cr_assert(i == 0 || p->mapping[i - 1]->memory_start < m->memory_start,
			  "mappings by address: the main binary first");
		str(p, m->filename);
		str(p, m->build_id);
	}
	for (i = 0; i < p->n_sample; i++) {
		cr_assert_eq(p->sample[i]->n_value, p->n_sample_type);
		cr_assert_geq(p->sample[i]->n_location_id, 1);
		for (j = 0; j < p->sample[i]->n_location_id; j++)
			loc(p, p->sample[i]->location_id[j]);
	}
	perftools__profiles__profile__free_unpacked(p, NULL);
}

static void expect_line(const pb_profile *p, const pb_location *l, size_t k, const char *name,
			const char *mark)
{
	const pb_function *f;

	cr_assert_lt(k, l->n_line);
	f = func(p, l->line[k]->function_id);
	cr_assert_str_eq(str(p, f->name), name, "line %zu", k);
	cr_assert(ends_with(str(p, f->filename), SRC), "%s: file %s", name, str(p, f->filename));
	cr_assert_eq(l->line[k]->line, mark_line(mark), "%s", name);
}

static const char *last_name(const pb_profile *p, const pb_location *l)
{
	cr_assert_geq(l->n_line, 1);
	return str(p, func(p, l->line[l->n_line - 1]->function_id)->name);
}

Test(pprof, samples_are_the_stacks)
{
	pb_profile *p = decode();
	const Perftools__Profiles__Sample *a, *b, *rest;
	const pb_location *l;
	const pb_mapping *m;
	char self[PATH_MAX];
	ssize_t n;
	size_t i, k;
	int64_t sum[6] = { 0 };

	cr_assert_eq(p->n_sample, 3, "two stacks and what no stack holds");
	a = p->sample[0];
	b = p->sample[1];
	rest = p->sample[2];
	cr_assert_eq(a->value[0], 2);
	cr_assert_eq(a->value[1], 96);
	cr_assert_eq(a->value[2], 2, "a held 2 blocks at the peak");
	cr_assert_eq(a->value[3], 96);
	cr_assert_eq(a->value[4], 1);
	cr_assert_eq(a->value[5], 64);
	cr_assert_eq(b->value[0], 1);
	cr_assert_eq(b->value[1], 1000);
	cr_assert_eq(b->value[2], 0, "b came after the peak");
	cr_assert_eq(b->value[3], 0);
	cr_assert_eq(b->value[4], 1);
	cr_assert_eq(b->value[5], 1000);
	for (i = 0; i < p->n_sample; i++)
		for (k = 0; k < 6; k++)
			sum[k] += p->sample[i]->value[k];
	cr_assert_eq(sum[0], 3 + REST_ALLOCS, "columns add up to the heap's totals");
	cr_assert_eq(sum[1], 1096 + REST_BYTES);
	cr_assert_eq(sum[2], 2 + REST_PEAK);
	cr_assert_eq(sum[3], 96 + REST_PEAK_BYTES);
	cr_assert_eq(sum[4], 2 + REST_LIVE);
	cr_assert_eq(sum[5], 1064 + REST_LIVE_BYTES);

	/* a: the inlined address, three lines innermost first, then plain_fn */
	cr_assert_eq(a->n_location_id, 2, "a whole stack has no marker");
	l = loc(p, a->location_id[0]);
	cr_assert_eq(l->address, ip_inl);
	cr_assert_eq(l->n_line, 3);
	expect_line(p, l, 0, "inl_inner", "inl_inner");
	expect_line(p, l, 1, "inl_outer", "inl_outer");
	expect_line(p, l, 2, "inl_root", "inl_root");
	m = mapping(p, l->mapping_id);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	cr_assert_gt(n, 0);
	self[n] = '\0';
	cr_assert_str_eq(str(p, m->filename), self);
	cr_assert(m->has_functions && m->has_filenames && m->has_line_numbers &&
		  m->has_inline_frames);
	cr_assert_eq(strlen(str(p, m->build_id)) % 2, 0);
	cr_assert_geq(strlen(str(p, m->build_id)), 16, "gcc links a build-id: %s",
		      str(p, m->build_id));
	cr_assert_eq(strspn(str(p, m->build_id), "0123456789abcdef"),
		     strlen(str(p, m->build_id)), "hex");
	l = loc(p, a->location_id[1]);
	cr_assert_eq(l->address, ip_plain);
	cr_assert_eq(l->n_line, 1);
	expect_line(p, l, 0, "plain_fn", "plain_fn");

	/* b: plain_fn's location shared, the unknown address without lines,
	 * then the marker of a cut stack */
	cr_assert_eq(b->n_location_id, 3);
	cr_assert_eq(b->location_id[0], a->location_id[1], "one location per address");
	l = loc(p, b->location_id[1]);
	cr_assert_eq(l->address, ip_unknown);
	cr_assert_eq(l->mapping_id, 0);
	cr_assert_eq(l->n_line, 0, "nothing known, nothing made up");
	cr_assert_str_eq(last_name(p, loc(p, b->location_id[2])), "[partial stack]");

	cr_assert_eq(rest->n_location_id, 1);
	cr_assert_str_eq(last_name(p, loc(p, rest->location_id[0])), "[no stack]");
	cr_assert_eq(rest->value[0], REST_ALLOCS);
	cr_assert_eq(rest->value[3], REST_PEAK_BYTES);
	cr_assert_eq(rest->value[5], REST_LIVE_BYTES);
	perftools__profiles__profile__free_unpacked(p, NULL);
}

/* --aggregate's stacks have no peak breakdown: the peak columns are left
 * out (a 0 would be false), inuse stays last and the default. */
Test(pprof, no_peak_columns_without_the_breakdown)
{
	struct stack_info counts = { .allocs = 4, .bytes = 400, .live_cnt = 1, .live_bytes = 100 };
	struct model agg;
	uint64_t ip = ip_plain;
	pb_profile *p;
	size_t i;

	cr_assert_eq(model__init(&agg, 1000, 0, false, 16), 0);
	stacks__add_counts(agg.stacks, stacks__intern(agg.stacks, &ip, 1, TT_STACK_END_ROOT),
			   &counts);
	cr_assert_eq(model__finish(&agg, "libc.so.6"), 0);
	p = decode_model(&agg);
	cr_assert_eq(p->n_sample_type, 4);
	for (i = 0; i < 4; i++)
		cr_assert_null(strstr(str(p, p->sample_type[i]->type), "peak"));
	cr_assert_str_eq(str(p, p->sample_type[3]->type), "inuse_space");
	cr_assert_eq(p->default_sample_type, 3);
	cr_assert_geq(p->n_sample, 1);
	cr_assert_eq(p->sample[0]->n_value, 4);
	cr_assert_eq(p->sample[0]->value[1], 400);
	cr_assert_eq(p->sample[0]->value[3], 100);
	perftools__profiles__profile__free_unpacked(p, NULL);
	model__fini(&agg);
}

/* ---- the plan ----------------------------------------------------------- */

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ttbpf-test-pprof.XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "test_report_pprof: could not remove %s\n", dir);
}

TestSuite(pprof_plan, .init = make_dir, .fini = remove_dir);

Test(pprof_plan, out_dir_and_children)
{
	struct options o = { 0 };
	struct report_plan p, c;
	char want[PATH_MAX];

	o.out_dir = dir;
	cr_assert_eq(reports__plan(&o, &p), 0);
	snprintf(want, sizeof(want), "%s/ttbpf.pb.gz", dir);
	cr_assert_str_eq(p.pprof, want, "-o DIR writes DIR/ttbpf.pb.gz");
	cr_assert_eq(reports__plan_child(&p, 1234, &c), 0);
	snprintf(want, sizeof(want), "%s/ttbpf.1234.pb.gz", dir);
	cr_assert_str_eq(c.pprof, want, "the pid goes before .pb.gz");

	snprintf(want, sizeof(want), "%s/heap.pb.gz", dir);
	o.pprof_path = want;
	cr_assert_eq(reports__plan(&o, &p), 0);
	cr_assert_str_eq(p.pprof, want, "--pprof wins over -o's name");
	strcpy(p.pprof, "prof.gz");
	cr_assert_eq(reports__plan_child(&p, 7, &c), 0);
	cr_assert_str_eq(c.pprof, "prof.7.gz", "a lone .gz is the extension");
	strcpy(p.pprof, "-");
	cr_assert_eq(reports__plan_child(&p, 7, &c), 0);
	cr_assert_str_eq(c.pprof, "", "stdout is the target's alone");
}

Test(pprof_plan, same_file_twice)
{
	struct options o = { 0 };
	struct report_plan p;
	char path[PATH_MAX], other[PATH_MAX];

	snprintf(path, sizeof(path), "%s/x", dir);
	snprintf(other, sizeof(other), "%s/./x", dir);
	o.json_path = path;
	o.pprof_path = other;
	cr_assert_eq(reports__plan(&o, &p), -EINVAL, "--json and --pprof name one file");
	o.json_path = NULL;
	o.folded_path = path;
	cr_assert_eq(reports__plan(&o, &p), -EINVAL, "--folded and --pprof name one file");
}

/* reports__write puts it through outfile: a whole file, gzip from byte 0 */
Test(pprof_plan, written_with_the_others, .init = make_dir, .fini = remove_dir)
{
	struct options o = { 0 };
	struct report_plan p;
	unsigned char head[2];
	char path[PATH_MAX];
	FILE *f;

	model_up();
	snprintf(path, sizeof(path), "%s/heap.pb.gz", dir);
	o.pprof_path = path;
	o.quiet = true;
	cr_assert_eq(reports__plan(&o, &p), 0);
	cr_assert_eq(reports__write(&p, &mo, &meta), 0);
	f = fopen(path, "rb");
	cr_assert_not_null(f);
	cr_assert_eq(fread(head, 1, 2, f), 2);
	fclose(f);
	cr_assert(head[0] == 0x1f && head[1] == 0x8b, "gzip magic");
	model_down();
}
