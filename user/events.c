// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <bpf/libbpf.h>
#include "events.h"
#include "heap.h"

_Static_assert(sizeof(struct tt_event_hdr) == 16, "tt_event_hdr layout");
_Static_assert(sizeof(struct tt_alloc_event) == 56, "tt_alloc_event layout");
_Static_assert(sizeof(struct tt_free_event) == 32, "tt_free_event layout");

struct events {
	struct ring_buffer *rb;
	struct heap *heap;
	struct events_stats st;
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct events *ev = ctx;
	const struct tt_event_hdr *hdr = data;
	int err = 0;

	if (size < sizeof(*hdr)) {
		ev->st.bad_records++;
		return 0;
	}
	switch (hdr->type) {
	case TT_EV_ALLOC:
		if (size < sizeof(struct tt_alloc_event))
			goto bad;
		err = heap__on_alloc(ev->heap, data);
		break;
	case TT_EV_FREE:
		if (size < sizeof(struct tt_free_event))
			goto bad;
		err = heap__on_free(ev->heap, data);
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

int events__new(struct events **out, int ringbuf_fd, struct heap *heap)
{
	struct events *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return -ENOMEM;
	ev->heap = heap;
	ev->rb = ring_buffer__new(ringbuf_fd, on_record, ev, NULL);
	if (!ev->rb) {
		int err = -errno;

		free(ev);
		return err;
	}
	*out = ev;
	return 0;
}

int events__poll(struct events *ev, int timeout_ms)
{
	int n = ring_buffer__poll(ev->rb, timeout_ms);

	/* Records submitted without a wake-up are not signalled: take them too. */
	if (n >= 0) {
		int m = ring_buffer__consume(ev->rb);

		n = m < 0 ? m : n + m;
	}
	return n;
}

int events__drain(struct events *ev)
{
	return ring_buffer__consume(ev->rb);
}

const struct events_stats *events__stats(const struct events *ev)
{
	return &ev->st;
}

void events__free(struct events *ev)
{
	if (!ev)
		return;
	ring_buffer__free(ev->rb);
	free(ev);
}
