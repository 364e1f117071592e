// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include "procmem.h"
#include "procs.h"

struct procs {
	struct proc **v;
	size_t cnt, cap;
	size_t last;        /* records come in runs from one process */
	uint32_t max_vars;  /* each child's variable instances listed */
};

int procs__new(struct procs **out, uint32_t max_vars)
{
	struct procs *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return -ENOMEM;
	ps->max_vars = max_vars;
	*out = ps;
	return 0;
}

struct proc *procs__add(struct procs *ps, int pid, int parent_pid, uint64_t start_ns)
{
	struct proc *p;

	if (ps->cnt == ps->cap) {
		size_t cap = ps->cap ? 2 * ps->cap : 16;
		struct proc **v = realloc(ps->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		ps->v = v;
		ps->cap = cap;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	if (model__init(&p->model, start_ns, pid, true, ps->max_vars)) {
		free(p);
		return NULL;
	}
	p->pid = pid;
	p->parent_pid = parent_pid;
	p->exit_code = -1;
	p->start_ns = start_ns;
	procmem__cmdline(pid, p->command, sizeof(p->command));
	ps->last = ps->cnt; /* a reused pid finds its newest holder */
	ps->v[ps->cnt++] = p;
	return p;
}

struct proc *procs__find(struct procs *ps, int pid)
{
	size_t i;

	if (ps->last < ps->cnt && ps->v[ps->last]->pid == pid)
		return ps->v[ps->last];
	/* newest first: a pid can be reused by a later child */
	for (i = ps->cnt; i-- > 0;)
		if (ps->v[i]->pid == pid) {
			ps->last = i;
			return ps->v[i];
		}
	return NULL;
}

size_t procs__count(const struct procs *ps)
{
	return ps->cnt;
}

struct proc *procs__at(struct procs *ps, size_t i)
{
	return i < ps->cnt ? ps->v[i] : NULL;
}

void procs__free(struct procs *ps)
{
	size_t i;

	if (!ps)
		return;
	for (i = 0; i < ps->cnt; i++) {
		model__fini(&ps->v[i]->model);
		free(ps->v[i]);
	}
	free(ps->v);
	free(ps);
}
