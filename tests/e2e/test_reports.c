// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end: the dashboard reports. `-o DIR` writes ttbpf.json, ttbpf.svg
 * and ttbpf.png; the SVG is XML, the PNG decodes, both 1600 wide; `ttbpf
 * report` redraws them from the JSON byte for byte (the live run draws from
 * the JSON it wrote); bad input to `ttbpf report` fails cleanly with nothing
 * left behind; `--svg` without `--json` leaves no JSON around.
 *
 * The traced program is build/examples/tracked_basic when `make examples` has
 * built it (variables and types fill every panel), else the fixture
 * known_allocs. python3 checks the SVG and PNG (a test dependency already).
 */
#include <dirent.h>
#include <ftw.h>
#include "e2e.h"

#define TRACE_TIMEOUT_MS 60000

static char dir[256];

static void setup_dir(void)
{
	snprintf(dir, sizeof(dir), "%s", e2e_tmpdir());
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Removes a test's directory at its end (one stopped by an assertion keeps it). */
static void rm_tree(const char *d)
{
	nftw(d, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void path_in(char *buf, size_t len, const char *d, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", d, name);

	cr_assert(n > 0 && (size_t)n < len, "path too long: %s/%s", d, name);
}

/* The command traced for the dashboard tests. */
static void target_cmd(char **argv)
{
	static char ex[512];
	const char *d = getenv("EXAMPLES");

	snprintf(ex, sizeof(ex), "%s/tracked_basic", d ? d : "build/examples");
	if (!access(ex, X_OK)) {
		argv[0] = ex;
		argv[1] = NULL;
	} else {
		argv[0] = (char *)e2e_fixture("known_allocs");
		argv[1] = "-t";
		argv[2] = "2";
		argv[3] = NULL;
	}
}

/* ttbpf -q OPTS -- target; asserts exit 0. */
static void trace(char *const *opts)
{
	char *argv[32], *cmd[4];
	struct proc p;
	int n = 0, rc;

	argv[n++] = (char *)e2e_tool();
	argv[n++] = "-q";
	while (*opts)
		argv[n++] = *opts++;
	argv[n++] = "--";
	target_cmd(cmd);
	for (int i = 0; cmd[i]; i++)
		argv[n++] = cmd[i];
	argv[n] = NULL;
	rc = run(&p, argv, TRACE_TIMEOUT_MS);
	cr_assert_eq(rc, 0, "ttbpf exited %d:\n%s", rc, p.err);
	proc_free(&p);
}

/* Names in a directory, sorted, joined by spaces. */
static void list_dir(const char *d, char *buf, size_t len)
{
	struct dirent **ents;
	size_t n = 0;
	int cnt, i;

	buf[0] = '\0';
	cnt = scandir(d, &ents, NULL, alphasort);
	cr_assert(cnt >= 0, "%s: %s", d, strerror(errno));
	for (i = 0; i < cnt; i++) {
		if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, "..") && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "", ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert(f, "%s: %s", path, strerror(errno));
	cr_assert(!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET));
	buf = malloc((size_t)n + 1);
	cr_assert(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static void expect_same_bytes(const char *a, const char *b)
{
	size_t la, lb;
	char *x = slurp(a, &la), *y = slurp(b, &lb);
	size_t i;

	for (i = 0; i < la && i < lb && x[i] == y[i]; i++)
		;
	cr_expect(la == lb && i == la, "%s (%zu bytes) and %s (%zu bytes) differ at byte %zu", a, la,
		  b, lb, i);
	free(x);
	free(y);
}

/* Runs a python3 check on a file; its stdout in *out (static). */
static int python_check(const char *script, const char *path, const char **out)
{
	char *argv[] = { "python3", "-c", (char *)script, (char *)path, NULL };
	static char buf[4096];
	struct proc p;
	int rc;

	rc = run(&p, argv, TRACE_TIMEOUT_MS);
	snprintf(buf, sizeof(buf), "%s%s", p.out, p.err);
	*out = buf;
	proc_free(&p);
	return rc;
}

/* Parses as XML; prints the root's tag and width. */
static const char svg_py[] =
	"import sys, xml.etree.ElementTree as E\n"
	"r = E.parse(sys.argv[1]).getroot()\n"
	"print(r.tag, r.get('width'), r.get('height'))\n";

/*
 * Decodes the PNG: signature, every chunk's CRC, IHDR, the inflated IDAT
 * stream exactly as long as the image, each row's filter type valid, IEND
 * last. Prints width and height.
 */
static const char png_py[] =
	"import sys, struct, zlib\n"
	"d = open(sys.argv[1], 'rb').read()\n"
	"assert d[:8] == b'\\x89PNG\\r\\n\\x1a\\n', 'signature'\n"
	"i, idat, ihdr, last = 8, b'', None, None\n"
	"while i < len(d):\n"
	"    n, t = struct.unpack('>I4s', d[i:i + 8])\n"
	"    body = d[i + 8:i + 8 + n]\n"
	"    crc, = struct.unpack('>I', d[i + 8 + n:i + 12 + n])\n"
	"    assert zlib.crc32(t + body) == crc, 'crc of %s' % t\n"
	"    if t == b'IHDR': ihdr = struct.unpack('>IIBBBBB', body)\n"
	"    if t == b'IDAT': idat += body\n"
	"    last = t\n"
	"    i += 12 + n\n"
	"assert last == b'IEND', 'last chunk %s' % last\n"
	"w, h, depth, ctype, comp, filt, inter = ihdr\n"
	"assert depth == 8 and inter == 0, (depth, inter)\n"
	"ch = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]\n"
	"raw = zlib.decompress(idat)\n"
	"stride = 1 + w * ch\n"
	"assert len(raw) == h * stride, (len(raw), h * stride)\n"
	"assert all(raw[r * stride] <= 4 for r in range(h)), 'filter type'\n"
	"print(w, h)\n";

static void check_svg(const char *path)
{
	const char *out;
	int rc = python_check(svg_py, path, &out);

	cr_expect_eq(rc, 0, "%s does not parse as XML:\n%s", path, out);
	cr_expect(!strncmp(out, "{http://www.w3.org/2000/svg}svg 1600 ", 37),
		  "%s: root is not a 1600-wide svg: %s", path, out);
}

/* Also reads IHDR here: width 1600, some height. */
static void check_png(const char *path)
{
	unsigned char h[24];
	const char *out;
	char want[32];
	uint32_t w, ht;
	FILE *f;
	int rc;

	f = fopen(path, "rb");
	cr_assert(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fread(h, 1, sizeof(h), f), sizeof(h), "%s: too short for a PNG", path);
	fclose(f);
	cr_assert(!memcmp(h, "\x89PNG\r\n\x1a\n", 8) && !memcmp(h + 12, "IHDR", 4),
		  "%s: not a PNG", path);
	w = (uint32_t)h[16] << 24 | (uint32_t)h[17] << 16 | (uint32_t)h[18] << 8 | h[19];
	ht = (uint32_t)h[20] << 24 | (uint32_t)h[21] << 16 | (uint32_t)h[22] << 8 | h[23];
	cr_expect_eq(w, 1600, "%s: width %u", path, w);
	cr_expect(ht > 0 && ht < 100000, "%s: height %u", path, ht);

	rc = python_check(png_py, path, &out);
	snprintf(want, sizeof(want), "%u %u\n", w, ht);
	cr_expect_eq(rc, 0, "%s does not decode:\n%s", path, out);
	cr_expect_str_eq(out, want, "%s", path);
}

/* ttbpf report ARGS...: exit status, stderr in err (static). */
static int report(const char **err, char *const *args)
{
	static char buf[8192];
	char *argv[16];
	struct proc p;
	int n = 0, rc;

	argv[n++] = (char *)e2e_tool();
	argv[n++] = "report";
	while (*args)
		argv[n++] = *args++;
	argv[n] = NULL;
	rc = run(&p, argv, TRACE_TIMEOUT_MS);
	snprintf(buf, sizeof(buf), "%s", p.err);
	*err = buf;
	proc_free(&p);
	return rc;
}

Test(reports, output_dir_and_redraw_are_identical, .timeout = 180)
{
	char out[300], json[300], svg[300], png[300], svg2[300], png2[300], ls[1024], dir2[300];
	char *opts[] = { "-o", out, NULL };
	const char *err;
	size_t len;
	char *doc;
	int rc;

	e2e_require_root();
	setup_dir();
	path_in(out, sizeof(out), dir, "out");
	cr_assert_eq(mkdir(out, 0755), 0);
	trace(opts);
	list_dir(out, ls, sizeof(ls));
	cr_expect_str_eq(ls, "ttbpf.json ttbpf.pb.gz ttbpf.png ttbpf.svg", "-o wrote: %s", ls);
	path_in(json, sizeof(json), out, "ttbpf.json");
	path_in(svg, sizeof(svg), out, "ttbpf.svg");
	path_in(png, sizeof(png), out, "ttbpf.png");
	json_decref(load_json(json));
	check_svg(svg);
	check_png(png);

	/* redrawn from the JSON: byte for byte what the live run drew */
	path_in(svg2, sizeof(svg2), dir, "again.svg");
	path_in(png2, sizeof(png2), dir, "again.png");
	rc = report(&err, (char *[]){ json, "--svg", svg2, "--png", png2, NULL });
	cr_assert_eq(rc, 0, "ttbpf report exited %d:\n%s", rc, err);
	expect_same_bytes(svg, svg2);
	expect_same_bytes(png, png2);

	/* report -o DIR: the two pictures, and no JSON */
	path_in(dir2, sizeof(dir2), dir, "redrawn");
	cr_assert_eq(mkdir(dir2, 0755), 0);
	rc = report(&err, (char *[]){ json, "-o", dir2, NULL });
	cr_assert_eq(rc, 0, "ttbpf report -o exited %d:\n%s", rc, err);
	list_dir(dir2, ls, sizeof(ls));
	cr_expect_str_eq(ls, "ttbpf.png ttbpf.svg", "report -o wrote: %s", ls);
	path_in(svg2, sizeof(svg2), dir2, "ttbpf.svg");
	path_in(png2, sizeof(png2), dir2, "ttbpf.png");
	expect_same_bytes(svg, svg2);
	expect_same_bytes(png, png2);

	/* the live report cut short: refused, nothing written */
	doc = slurp(json, &len);
	path_in(json, sizeof(json), dir2, "cut.json");
	write_file(json, doc, len / 2);
	free(doc);
	path_in(svg2, sizeof(svg2), dir2, "cut.svg");
	path_in(png2, sizeof(png2), dir2, "cut.png");
	rc = report(&err, (char *[]){ json, "--svg", svg2, "--png", png2, NULL });
	cr_expect_eq(rc, 1, "a truncated report: exit %d:\n%s", rc, err);
	cr_expect(strstr(err, "cannot read report") && strstr(err, "cut.json"), "stderr: %s", err);
	list_dir(dir2, ls, sizeof(ls));
	cr_expect_str_eq(ls, "cut.json ttbpf.png ttbpf.svg", "left behind: %s", ls);
	rm_tree(dir);
}

/* One bad input: exit 1, a message naming the file, no file written. */
static void expect_refused(const char *name, const char *content, const char *message)
{
	char in[300], svg[300], png[300], ls[1024], want[300];
	const char *err;
	int rc;

	path_in(in, sizeof(in), dir, name);
	if (content)
		write_file(in, content, strlen(content));
	path_in(svg, sizeof(svg), dir, "out.svg");
	path_in(png, sizeof(png), dir, "out.png");
	rc = report(&err, (char *[]){ in, "--svg", svg, "--png", png, NULL });
	cr_expect_eq(rc, 1, "%s: exit %d, expected 1; stderr:\n%s", name, rc, err);
	cr_expect(strstr(err, message), "%s: stderr does not say '%s':\n%s", name, message, err);
	cr_expect(strstr(err, name), "%s: stderr does not name the file:\n%s", name, err);
	cr_expect(!strstr(err, "out of memory"), "%s: %s", name, err);
	list_dir(dir, ls, sizeof(ls));
	snprintf(want, sizeof(want), "%s", content ? name : "");
	cr_expect_str_eq(ls, want, "%s: left behind: %s", name, ls);
	if (content)
		unlink(in);
}

/* No BPF involved: runs without root too. */
Test(reports, bad_input_is_refused, .timeout = 60)
{
	setup_dir();
	expect_refused("missing.json", NULL, "No such file or directory");
	expect_refused("notjson.json", "hello, I am not JSON\n", "cannot read report");
	expect_refused("empty.json", "", "cannot read report");
	expect_refused("truncated.json",
		       "{\"format_version\": 1, \"tool\": \"ttbpf 0.1.0\", \"stats\": {\"total_al",
		       "cannot read report");
	expect_refused("v2.json", "{\"format_version\": 2}", "not a ttbpf report");
	expect_refused("array.json", "[1, 2, 3]", "not a ttbpf report");
	expect_refused("string_version.json", "{\"format_version\": \"1\"}", "not a ttbpf report");
	rm_tree(dir);
}

Test(reports, usage_errors_exit_2, .timeout = 60)
{
	const char *err;
	char in[300], ls[1024];
	int rc;

	setup_dir();
	path_in(in, sizeof(in), dir, "x.json");
	write_file(in, "{\"format_version\": 1}", 21);
	/* without an output it prints the summary (tests/e2e/test_report_json.c) */
	rc = report(&err, (char *[]){ in, NULL });
	cr_expect_eq(rc, 0, "report without an output: exit %d:\n%s", rc, err);
	rc = report(&err, (char *[]){ in, "--folded-by", "live", NULL });
	cr_expect_eq(rc, 2, "report --folded-by without --folded: exit %d:\n%s", rc, err);
	rc = report(&err, (char *[]){ NULL });
	cr_expect_eq(rc, 2, "report without a file: exit %d:\n%s", rc, err);
	rc = report(&err, (char *[]){ in, in, "--svg", "/dev/null/x.svg", NULL });
	cr_expect_eq(rc, 2, "report with two files: exit %d:\n%s", rc, err);
	rc = report(&err, (char *[]){ in, "--bogus", NULL });
	cr_expect_eq(rc, 2, "report --bogus: exit %d:\n%s", rc, err);
	list_dir(dir, ls, sizeof(ls));
	cr_expect_str_eq(ls, "x.json", "left behind: %s", ls);
	rm_tree(dir);
}

/* --svg (or --png) without --json: the picture and nothing else. */
Test(reports, picture_alone_leaves_no_json, .timeout = 180)
{
	char svg[300], png[300], ls[1024];
	char *svg_opts[] = { "--svg", svg, NULL }, *png_opts[] = { "--png", png, NULL };

	e2e_require_root();
	setup_dir();
	path_in(svg, sizeof(svg), dir, "dash.svg");
	trace(svg_opts);
	list_dir(dir, ls, sizeof(ls));
	cr_expect_str_eq(ls, "dash.svg", "--svg alone left: %s", ls);
	check_svg(svg);
	unlink(svg);

	path_in(png, sizeof(png), dir, "dash.png");
	trace(png_opts);
	list_dir(dir, ls, sizeof(ls));
	cr_expect_str_eq(ls, "dash.png", "--png alone left: %s", ls);
	check_png(png);
	rm_tree(dir);
}

/*
 * `--svg F` without --json draws from a private temporary JSON: a file
 * named F.json that was there before is left alone (regression).
 */
Test(reports, picture_alone_keeps_a_file_named_like_its_json, .timeout = 180)
{
	char svg[300], mine[300], *opts[] = { "--svg", svg, NULL };
	size_t len;
	char *s;

	e2e_require_root();
	setup_dir();
	path_in(svg, sizeof(svg), dir, "dash.svg");
	path_in(mine, sizeof(mine), dir, "dash.svg.json");
	write_file(mine, "precious\n", 9);
	trace(opts);
	cr_assert_eq(access(mine, F_OK), 0, "%s was deleted", mine);
	s = slurp(mine, &len);
	cr_expect_str_eq(s, "precious\n", "%s was overwritten", mine);
	free(s);
	rm_tree(dir);
}
