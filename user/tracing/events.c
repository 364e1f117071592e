// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "clock.h"
#include "events.h"
#include "heap.h"
#include "mapped.h"
#include "procmem.h"
#include "stacks.h"
#include "timeline.h"
#include "unwinder.h"
#include "symbolize.h"
#include "vars.h"

_Static_assert(sizeof(struct tt_event_hdr) == 24, "tt_event_hdr layout");
_Static_assert(offsetof(struct tt_alloc_event, frames) == 72, "tt_alloc_event layout");
_Static_assert(sizeof(struct tt_alloc_event) == 72 + 8 * TT_MAX_FRAMES, "tt_alloc_event layout");
_Static_assert(sizeof(struct tt_free_event) == 32, "tt_free_event layout");
_Static_assert(sizeof(struct tt_var_site_v1) == 48, "include/tt.h's struct tt_var_site");
_Static_assert(sizeof(struct tt_var_move_event) == 48, "tt_var_move_event layout");
_Static_assert(sizeof(struct tt_sysmem_event) == 56, "tt_sysmem_event layout");

struct events {
	struct ring_buffer *rb;
	int ep;               /* -1, or the ring buffer and the wake-up fds */
	struct model *root;   /* the target: every record without a router */
	events_route_fn route; /* followed children's models, by tgid */
	void *route_ctx;
	struct unwinder *unw; /* takes the unwinder's records; NULL: none */
	bool batch_start;     /* the next record is the first of a read */
	struct events_stats st;
};

/*
 * A new stack may go through code mapped since we last looked (dlopen): read
 * the target's mappings now, while it is alive, so that the addresses can be
 * symbolized at the end even if it has exited by then.
 */
static void note_mappings(struct model *m, const struct tt_alloc_event *e)
{
	uint32_t i;

	if (!m->sym)
		return;
	for (i = 0; i < e->nr_frames && i < TT_MAX_FRAMES; i++)
		if (!symbolizer__knows(m->sym, e->frames[i])) {
			symbolizer__refresh(m->sym);
			return;
		}
}

static int on_alloc(struct model *m, const struct tt_alloc_event *e)
{
	uint64_t peak_bytes = heap__stats(m->heap)->peak_bytes;
	uint32_t stack_id = 0;
	int err;

	if (m->stacks && !e->failed && e->stack_end != TT_STACK_END_OFF) {
		stack_id = stacks__intern(m->stacks, (const uint64_t *)e->frames, e->nr_frames,
					  e->stack_end);
		if (stack_id > m->stacks_seen) {
			m->stacks_seen = stack_id;
			note_mappings(m, e);
		}
	}
	err = heap__on_alloc_tagged(m->heap, e, stack_id);
	if (err)
		return err;
	if (!e->failed && m->stacks) {
		stacks__on_alloc(m->stacks, stack_id, e->size);
		/* after the releases and the allocation this record made: the
		 * stacks hold now what they held at the peak */
		if (heap__stats(m->heap)->peak_bytes != peak_bytes)
			stacks__on_peak(m->stacks);
	}
	if (m->timeline) {
		const struct heap_stats *st = heap__stats(m->heap);

		if (!e->failed)
			timeline__on_alloc(m->timeline, e->hdr.ts_ns, e->size, st->live_bytes,
					   st->live_cnt);
		else if (e->fn == TT_FN_REALLOC && e->old_ptr && !e->size)
			timeline__on_free(m->timeline, e->hdr.ts_ns, st->live_bytes, st->live_cnt);
	}
	return 0;
}

static void on_released(void *ctx, const struct heap_block *b, uint64_t ts_ns, uint64_t moved_to,
			uint64_t new_size)
{
	struct model *m = ctx;

	if (m->stacks)
		stacks__on_release(m->stacks, b->aux, b->size);
	if (m->vars)
		vars__on_released(m->vars, b, ts_ns, moved_to, new_size);
}

/*
 * What BPF could not read (pages the target had not touched yet) is read
 * here from the target's memory, bounded like the BPF copies.
 */
static int on_var(struct events *ev, struct model *m, const struct tt_var_event *in)
{
	struct tt_var_event e = *in;
	char *dst[TT_VAR_STR_CNT] = { e.name, e.type_name, e.category, e.file, e.function };
	const size_t len[TT_VAR_STR_CNT] = { sizeof(e.name), sizeof(e.type_name),
					     sizeof(e.category), sizeof(e.file), sizeof(e.function) };
	struct tt_var_site_v1 site;
	int i;

	if (e.flags & TT_VAR_SITE_UNREAD) {
		if (procmem__read(m->pid, e.site, &site, sizeof(site)) || site.version != TT_VAR_SITE_VERSION) {
			e.flags |= TT_VAR_BAD_SITE;
		} else {
			for (i = 0; i < TT_VAR_STR_CNT; i++) {
				e.str_addr[i] = site.str[i];
				if (site.str[i])
					e.flags |= TT_VAR_STR_UNREAD(i);
			}
			e.line = site.line;
		}
	}
	for (i = 0; i < TT_VAR_STR_CNT; i++)
		if ((e.flags & TT_VAR_STR_UNREAD(i)) &&
		    procmem__read_str(m->pid, e.str_addr[i], dst[i], len[i]))
			ev->st.unreadable_strings++;
	return vars__on_track(m->vars, &e);
}

/* The oldest record of a read has waited longest: once per read, not per
 * record (a clock read costs a fifth of a record's decoding). */
static void note_delay(struct events *ev, uint64_t ts_ns)
{
	uint64_t now_ns = clock_ns(CLOCK_MONOTONIC), d;

	if (now_ns <= ts_ns)
		return;
	d = now_ns - ts_ns;
	if (d > ev->st.max_delay_ns)
		ev->st.max_delay_ns = d;
	ev->st.delay_sum_ns += d;
	ev->st.delay_samples++;
}

/* The model a record belongs to: the target's, or a followed child's. */
static struct model *model_of(struct events *ev, const struct tt_event_hdr *hdr)
{
	if (!ev->route || (int)hdr->tgid == ev->root->pid)
		return ev->root;
	return ev->route(ev->route_ctx, (int)hdr->tgid);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct events *ev = ctx;
	const struct tt_event_hdr *hdr = data;
	struct model *m;
	int err = 0;

	if (size < sizeof(*hdr)) {
		ev->st.bad_records++;
		return 0;
	}
	if (ev->batch_start) {
		note_delay(ev, hdr->ts_ns);
		ev->batch_start = false;
	}
	/* the unwinder's records are about files, not a model */
	if (hdr->type == TT_EV_UNWIND_MISS || hdr->type == TT_EV_MAPS) {
		if (!ev->unw || (hdr->type == TT_EV_UNWIND_MISS &&
				 size < sizeof(struct tt_unwind_miss_event)))
			goto bad;
		if (hdr->type == TT_EV_MAPS)
			unwinder__scan(ev->unw, (int)hdr->tid);
		else
			unwinder__on_miss(ev->unw, data);
		ev->st.records++;
		return 0;
	}
	m = model_of(ev, hdr);
	if (!m)
		goto bad;
	switch (hdr->type) {
	case TT_EV_ALLOC:
		if (size < offsetof(struct tt_alloc_event, frames) ||
		    ((const struct tt_alloc_event *)data)->nr_frames > TT_MAX_FRAMES ||
		    size < offsetof(struct tt_alloc_event, frames) +
				   ((const struct tt_alloc_event *)data)->nr_frames * sizeof(__u64))
			goto bad;
		err = on_alloc(m, data);
		break;
	case TT_EV_FREE:
		if (size < sizeof(struct tt_free_event))
			goto bad;
		err = heap__on_free(m->heap, data);
		if (!err && m->timeline)
			timeline__on_free(m->timeline, hdr->ts_ns, heap__stats(m->heap)->live_bytes,
					  heap__stats(m->heap)->live_cnt);
		break;
	case TT_EV_EXEC:
		heap__on_exec(m->heap, hdr->ts_ns);
		if (m->timeline)
			timeline__on_free(m->timeline, hdr->ts_ns, 0, 0);
		break;
	case TT_EV_VAR:
		if (size < sizeof(struct tt_var_event))
			goto bad;
		if (m->vars)
			err = on_var(ev, m, data);
		break;
	case TT_EV_SYSMEM:
		if (size < sizeof(struct tt_sysmem_event))
			goto bad;
		if (m->mapped)
			err = mapped__on_event(m->mapped, data);
		break;
	case TT_EV_VAR_MOVE:
		if (size < sizeof(struct tt_var_move_event))
			goto bad;
		if (m->vars)
			err = vars__on_move(m->vars, data);
		break;
	default:
		goto bad;
	}
	ev->st.records++;
	if (err)
		ev->st.model_errors++;
	return 0;
bad:
	ev->st.bad_records++;
	return 0;
}

int events__new_offline(struct events **out, struct model *m)
{
	return events__new(out, -1, m);
}

void events__adopt(struct model *m)
{
	struct heap_observer obs = { .released = on_released, .ctx = m };

	heap__set_observer(m->heap, &obs);
}

void events__route(struct events *ev, events_route_fn route, void *ctx)
{
	ev->route = route;
	ev->route_ctx = ctx;
}

void events__set_unwinder(struct events *ev, struct unwinder *u)
{
	ev->unw = u;
}

void events__feed(struct events *ev, const void *data, size_t size)
{
	on_record(ev, (void *)data, size);
}

int events__new(struct events **out, int ringbuf_fd, struct model *m)
{
	struct events *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return -ENOMEM;
	ev->ep = -1;
	ev->root = m;
	events__adopt(m);
	if (ringbuf_fd < 0) {
		*out = ev;
		return 0;
	}
	ev->rb = ring_buffer__new(ringbuf_fd, on_record, ev, NULL);
	if (!ev->rb) {
		int err = -errno;

		free(ev);
		return err;
	}
	*out = ev;
	return 0;
}

static int ep_add(int ep, int fd)
{
	struct epoll_event e = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) ? -errno : 0;
}

int events__wake_on(struct events *ev, int fd)
{
	int err;

	if (!ev->rb)
		return -EINVAL;
	if (ev->ep < 0) {
		ev->ep = epoll_create1(EPOLL_CLOEXEC);
		if (ev->ep < 0)
			return -errno;
		/* an epoll fd is readable while its own fds are */
		err = ep_add(ev->ep, ring_buffer__epoll_fd(ev->rb));
		if (err) {
			close(ev->ep);
			ev->ep = -1;
			return err;
		}
	}
	return ep_add(ev->ep, fd);
}

int events__poll(struct events *ev, int timeout_ms)
{
	struct epoll_event ready[4];
	int n;

	if (!ev->rb)
		return 0;
	ev->batch_start = true;
	if (ev->ep >= 0) {
		n = epoll_wait(ev->ep, ready, 4, timeout_ms);
		n = n < 0 ? -errno : 0;
	} else {
		n = ring_buffer__poll(ev->rb, timeout_ms);
	}
	ev->batch_start = true; /* what poll left is a read of its own */

	/* Records submitted without a wake-up are not signalled: take them too. */
	if (n >= 0) {
		int m = ring_buffer__consume(ev->rb);

		n = m < 0 ? m : n + m;
	}
	return n;
}

int events__drain(struct events *ev)
{
	ev->batch_start = true;
	return ev->rb ? ring_buffer__consume(ev->rb) : 0;
}

const struct events_stats *events__stats(const struct events *ev)
{
	return &ev->st;
}

void events__free(struct events *ev)
{
	if (!ev)
		return;
	if (ev->ep >= 0)
		close(ev->ep);
	ring_buffer__free(ev->rb);
	free(ev);
}
