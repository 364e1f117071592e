// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>
#include "callsites.h"
#include "heap.h"
#include "mapped.h"
#include "model.h"
#include "stacks.h"
#include "symbolize.h"
#include "timeline.h"
#include "vars.h"

#define MAX_STACKS (1u << 20) /* distinct stacks kept; more are counted, not kept */

int model__init(struct model *m, uint64_t start_ns, int pid, bool map_now, uint32_t max_vars)
{
	int err;

	memset(m, 0, sizeof(*m));
	m->pid = pid;
	m->heap = heap__new();
	if (!m->heap)
		return -ENOMEM;
	err = stacks__new(&m->stacks, MAX_STACKS);
	err = err ?: timeline__new(&m->timeline, start_ns);
	err = err ?: vars__new(&m->vars, m->heap, max_vars);
	err = err ?: mapped__new(&m->mapped);
	if (!err && pid) {
		/* a target we cannot read maps of still gets traced, unsymbolized */
		if (!symbolizer__new(&m->sym, pid) && map_now)
			symbolizer__refresh(m->sym);
	}
	if (err)
		model__fini(m);
	return err;
}

int model__finish_opts(struct model *m, const struct callsites_opts *opts)
{
	/* what was mapped last, if the target is still there to ask */
	if (m->sym)
		symbolizer__refresh(m->sym);
	return callsites__build(&m->sites, m, opts);
}

int model__finish(struct model *m, const char *allocator)
{
	struct callsites_opts opts = { .allocator = allocator };

	return model__finish_opts(m, &opts);
}

void model__fini(struct model *m)
{
	callsites__free(m->sites);
	symbolizer__free(m->sym);
	vars__free(m->vars);
	mapped__free(m->mapped);
	timeline__free(m->timeline);
	stacks__free(m->stacks);
	heap__free(m->heap);
	memset(m, 0, sizeof(*m));
}
