// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
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
	const char *paths[4];
	int err = 0, i = 0;

	memset(p, 0, sizeof(*p));
	p->folded_weight = o->folded_weight;
	p->quiet = o->quiet;
	if (o->out_dir) {
		err = err ?: (o->report_in ? 0 : set_path(p->json, o->out_dir, "ttbpf.json"));
		err = err ?: set_path(p->svg, o->out_dir, "ttbpf.svg");
		err = err ?: set_path(p->png, o->out_dir, "ttbpf.png");
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
	if (err)
		return err;

	paths[i++] = p->json;
	paths[i++] = p->svg;
	paths[i++] = p->png;
	paths[i] = p->folded;
	/* fail now, not after a long trace */
	for (path = paths; path <= &paths[3]; path++)
		if (**path && outfile__check(*path))
			return -EINVAL;
	return 0;
}

/*
 * dst: src with ".PID" before the extension of its last component
 * (/x/out.svg: /x/out.1234.svg); appended when it has none (/a.b/c:
 * /a.b/c.1234; a leading dot, as in .json, does not start one).
 */
static int child_path(char *dst, const char *src, int pid)
{
	const char *base = strrchr(src, '/'), *dot;
	size_t stem;
	int n;

	base = base ? base + 1 : src;
	dot = strrchr(base, '.');
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
	char *const dst[] = { child->json, child->svg, child->png, child->folded };
	const char *const src[] = { target->json, target->svg, target->png, target->folded };
	int err = 0, e;
	size_t i;

	memset(child, 0, sizeof(*child));
	child->json_is_temp = target->json_is_temp;
	child->folded_weight = target->folded_weight;
	child->quiet = true;
	for (i = 0; i < sizeof(dst) / sizeof(dst[0]); i++) {
		if (!src[i][0])
			continue;
		e = child_path(dst[i], src[i], pid);
		e = e ?: outfile__check(dst[i]);
		if (e)
			dst[i][0] = '\0';
		err = err ?: e;
	}
	return err;
}

struct draw_ctx {
	const struct dash *d;
	bool png;
};

static int draw_to(const char *tmp, void *ctx)
{
	struct draw_ctx *c = ctx;

	return c->png ? report_draw__png(c->d, tmp) : report_draw__svg(c->d, tmp);
}

static int draw(const struct dash *d, const char *path, bool png)
{
	struct draw_ctx c = { d, png };

	return outfile__write_path(path, draw_to, &c);
}

static int draw_from_json(const char *json, const struct report_plan *p)
{
	struct dash_build *b;
	int err = 0;

	if (!p->svg[0] && !p->png[0])
		return 0;
	err = dash_build__load(&b, json);
	if (err)
		return err;
	if (p->svg[0])
		err = draw(dash_build__dash(b), p->svg, false);
	if (!err && p->png[0])
		err = draw(dash_build__dash(b), p->png, true);
	dash_build__free(b);
	return err;
}

int reports__write(const struct report_plan *p, const struct model *m, const struct report_meta *meta)
{
	char tmp_json[PATH_MAX];
	const char *json = p->json;
	int err = 0, e;

	if (!p->quiet)
		report_text__write(stderr, m, meta);
	if (!json[0] && (p->svg[0] || p->png[0])) {
		/* the dashboard is always drawn from a JSON report: a private one
		 * next to the picture, never a name someone else may use */
		int n = snprintf(tmp_json, sizeof(tmp_json), "%s.json.XXXXXX", p->svg[0] ? p->svg : p->png);
		int fd;

		if (n < 0 || n >= (int)sizeof(tmp_json))
			return -ENAMETOOLONG;
		fd = mkostemp(tmp_json, O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "ttbpf: cannot create a temporary file next to %s: %s\n",
				p->svg[0] ? p->svg : p->png, strerror(errno));
			return -errno;
		}
		close(fd);
		json = tmp_json;
	}
	if (json[0])
		err = report_json__write(json, m, meta);
	if (!err) {
		e = draw_from_json(json, p);
		err = err ?: e;
	}
	if (json == tmp_json)
		unlink(tmp_json);
	if (p->folded[0]) {
		e = report_folded__write(p->folded, m, p->folded_weight);
		err = err ?: e;
	}
	return err;
}

int reports__redraw(const char *json_path, const struct report_plan *p)
{
	return draw_from_json(json_path, p);
}
