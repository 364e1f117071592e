// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dash_build.h"
#include "outfile.h"
#include "report_draw.h"
#include "report_folded.h"
#include "report_json.h"
#include "report_pprof.h"
#include "report_text.h"
#include "reports.h"

static int set_path(char *dst, const char *dir, const char *name)
{
	int n = dir ? snprintf(dst, PATH_MAX, "%s/%s", dir, name) : snprintf(dst, PATH_MAX, "%s", name);

	if (n < 0 || n >= PATH_MAX) {
		fprintf(stderr, "ttbpf: output path too long: %s/%s\n", dir ? dir : "", name);
		return -ENAMETOOLONG;
	}
	return 0;
}

int reports__plan(const struct options *o, struct report_plan *p)
{
	const char *const *path;
	static const char *const what[] = { "--json", "--svg", "--png", "--folded", "--pprof",
					    "the report read" };
	const char *paths[6];
	int err = 0, i = 0;

	memset(p, 0, sizeof(*p));
	p->folded_weight = o->folded_weight;
	p->quiet = o->quiet;
	p->top = o->top;
	p->stack_lines = o->stack_lines;
	p->sort = o->sort;
	if (o->out_dir) {
		err = outfile__make_dir(o->out_dir);
		err = err ?: (o->report_in ? 0 : set_path(p->json, o->out_dir, "ttbpf.json"));
		err = err ?: set_path(p->svg, o->out_dir, "ttbpf.svg");
		err = err ?: set_path(p->png, o->out_dir, "ttbpf.png");
		err = err ?: (o->report_in ? 0 : set_path(p->pprof, o->out_dir, "ttbpf.pb.gz"));
	}
	/* explicit paths win over -o's */
	if (!err && o->json_path && !o->report_in)
		err = set_path(p->json, NULL, o->json_path);
	if (!err && o->svg_path)
		err = set_path(p->svg, NULL, o->svg_path);
	if (!err && o->png_path)
		err = set_path(p->png, NULL, o->png_path);
	if (!err && o->folded_path)
		err = set_path(p->folded, NULL, o->folded_path);
	if (!err && o->pprof_path)
		err = set_path(p->pprof, NULL, o->pprof_path);
	if (err)
		return err;

	paths[i++] = p->json;
	paths[i++] = p->svg;
	paths[i++] = p->png;
	paths[i++] = p->folded;
	paths[i++] = p->pprof;
	paths[i] = o->report_in ? o->report_in : "";
	/* fail now, not after a long trace */
	for (path = paths; path < &paths[i]; path++)
		if (**path && outfile__check(*path))
			return -EINVAL;
	/* two reports in one file: the second would silently replace the first */
	if (outfile__check_distinct(paths, what, i + 1))
		return -EINVAL;
	return 0;
}

/*
 * dst: src with ".PID" before the extension of its last component
 * (/x/out.svg: /x/out.1234.svg); appended when it has none (/a.b/c:
 * /a.b/c.1234; a leading dot, as in .json, does not start one). A ".gz"
 * takes the extension before it along (ttbpf.pb.gz: ttbpf.1234.pb.gz).
 */
static int child_path(char *dst, const char *src, int pid)
{
	const char *base = strrchr(src, '/'), *dot;
	size_t stem;
	int n;

	base = base ? base + 1 : src;
	dot = strrchr(base, '.');
	if (dot && !strcmp(dot, ".gz"))
		for (const char *d = dot - 1; d > base; d--)
			if (*d == '.') {
				dot = d;
				break;
			}
	if (dot == base)
		dot = NULL;
	stem = dot ? (size_t)(dot - src) : strlen(src);
	n = snprintf(dst, PATH_MAX, "%.*s.%d%s", (int)stem, src, pid, dot ? dot : "");
	if (n < 0 || n >= PATH_MAX) {
		fprintf(stderr, "ttbpf: output path too long for child %d: %s\n", pid, src);
		return -ENAMETOOLONG;
	}
	return 0;
}

/*
 * Called after tracing: a path that cannot be derived or created is printed
 * and left out of the child's plan ("": not written), the others stay, so
 * the plan is usable whatever is returned (the first error).
 */
int reports__plan_child(const struct report_plan *target, int pid, struct report_plan *child)
{
	char *const dst[] = { child->json, child->svg, child->png, child->folded, child->pprof };
	const char *const src[] = { target->json, target->svg, target->png, target->folded,
				    target->pprof };
	int err = 0, e;
	size_t i;

	memset(child, 0, sizeof(*child));
	child->json_is_temp = target->json_is_temp;
	child->folded_weight = target->folded_weight;
	child->sort = target->sort;
	child->quiet = true;
	child->top = target->top;
	child->stack_lines = target->stack_lines;
	for (i = 0; i < sizeof(dst) / sizeof(dst[0]); i++) {
		/* stdout, a FIFO, a device: the target's alone */
		if (!src[i][0] || outfile__in_place(src[i]))
			continue;
		e = child_path(dst[i], src[i], pid);
		e = e ?: outfile__check(dst[i]);
		if (e)
			dst[i][0] = '\0';
		err = err ?: e;
	}
	return err;
}

int reports__plan_snapshot(const struct report_plan *p, struct report_plan *snap)
{
	char *const dst[] = { snap->json, snap->svg, snap->png, snap->folded, snap->pprof };
	int n = 0;
	size_t i;

	*snap = *p;
	snap->quiet = true;
	for (i = 0; i < sizeof(dst) / sizeof(dst[0]); i++) {
		if (dst[i][0] && outfile__in_place(dst[i]))
			dst[i][0] = '\0';
		n += dst[i][0] != '\0';
	}
	return n;
}

static int draw_from_json(const char *json, const struct report_plan *p)
{
	struct dash_build *b;
	int err = 0;

	if (!p->svg[0] && !p->png[0])
		return 0;
	err = dash_build__load(&b, json, &(struct dash_opts){ p->sort, p->top });
	if (err)
		return err;
	if (p->svg[0])
		err = report_draw__svg(dash_build__dash(b), p->svg);
	if (!err && p->png[0])
		err = report_draw__png(dash_build__dash(b), p->png);
	dash_build__free(b);
	return err;
}

static int copy_fd(FILE *f, void *ctx)
{
	int fd = *(int *)ctx;
	char buf[1 << 16];
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		if (fwrite(buf, 1, (size_t)n, f) != (size_t)n)
			return errno ? -errno : -EIO;
		off += n;
	}
	return n < 0 ? -errno : 0;
}

/*
 * The dashboard is drawn from the JSON report, held in an anonymous memfd:
 * no file anyone else can replace between writing and reading it back, and
 * the same bytes go to --json (a file, stdout, a FIFO, /dev/null).
 */
static int write_with_dash(const struct report_plan *p, const struct model *m,
			   const struct report_meta *meta)
{
	char self[64];
	int fd, dup_fd, err = 0;
	FILE *f;

	fd = memfd_create("ttbpf-report.json", MFD_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "ttbpf: cannot hold the report in memory to draw it: %s\n",
			strerror(errno));
		return err;
	}
	dup_fd = dup(fd);
	f = dup_fd < 0 ? NULL : fdopen(dup_fd, "w");
	if (!f) {
		err = -errno;
		if (dup_fd >= 0)
			close(dup_fd);
		fprintf(stderr, "ttbpf: cannot hold the report in memory to draw it: %s\n",
			strerror(-err));
	} else {
		err = report_json__emit(f, m, meta);
		if (fclose(f) && !err)
			err = errno ? -errno : -EIO;
		if (err)
			fprintf(stderr, "ttbpf: cannot hold the report in memory to draw it: %s\n",
				strerror(-err));
	}
	if (!err && p->json[0])
		err = outfile__write(p->json, copy_fd, &fd);
	if (!err) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		err = draw_from_json(self, p);
	}
	close(fd);
	return err;
}

int reports__write(const struct report_plan *p, const struct model *m, const struct report_meta *meta)
{
	struct report_text_opts to = { .top = p->top, .stack_lines = p->stack_lines };
	int err = 0, e;

	if (!p->quiet)
		report_text__write(stderr, m, meta, to.top ? &to : NULL);
	if (p->svg[0] || p->png[0])
		err = write_with_dash(p, m, meta);
	else if (p->json[0])
		err = report_json__write(p->json, m, meta);
	if (p->folded[0]) {
		e = report_folded__write(p->folded, m, p->folded_weight);
		err = err ?: e;
	}
	if (p->pprof[0]) {
		e = report_pprof__write(p->pprof, m, meta);
		err = err ?: e;
	}
	return err;
}

/* `ttbpf report FILE.json`: each output asked for, or the summary on stdout. */
int reports__redraw(const char *json_path, const struct report_plan *p)
{
	struct report_text_opts to = { .top = p->top, .stack_lines = p->stack_lines };
	int err = 0;

	if (!p->svg[0] && !p->png[0] && !p->folded[0])
		return report_text__write_json(stdout, json_path, &to);
	err = draw_from_json(json_path, p);
	if (!err && p->folded[0])
		err = report_folded__write_json(p->folded, json_path, p->folded_weight);
	return err;
}
