/* SPDX-License-Identifier: Apache-2.0 */
/* The ring-buffer reader: decodes records and feeds the heap model. */
#ifndef TT_EVENTS_H
#define TT_EVENTS_H

#include <stdint.h>

#include <stddef.h>
#include "model.h"

struct events;

struct events_stats {
	uint64_t records;     /* records decoded */
	uint64_t bad_records; /* unknown type, wrong size, or from a process no
			       * model is kept for: a bug, reported */
	uint64_t model_errors; /* the model could not take a record (out of memory) */
	uint64_t unreadable_strings; /* marker strings gone before we could read them */
	/* From a record's making (its timestamp) to its reading, for the first
	 * record of each batch read (the oldest one waiting): the wait that
	 * batched wake-ups add, measured. */
	uint64_t max_delay_ns;
	uint64_t delay_sum_ns, delay_samples;
};

/* Records feed the model's heap, stacks, timeline and variables. */
int events__new(struct events **out, int ringbuf_fd, struct model *m);
/*
 * Records of processes other than m's (children followed with -f) go to
 * route(ctx, tgid)'s model; NULL drops them (counted as bad records: every
 * process probed has a model). Models
 * route returns must have been passed to events__adopt() once.
 */
typedef struct model *(*events_route_fn)(void *ctx, int tgid);
void events__route(struct events *ev, events_route_fn route, void *ctx);
/* Lets records of m keep its stacks and variables in step with its heap. */
void events__adopt(struct model *m);
/* The unwinder's records (tables BPF asks for, mappings changed) go to u. */
struct unwinder;
void events__set_unwinder(struct events *ev, struct unwinder *u);
/* Without a ring buffer, fed by events__feed(): tests and benchmarks. */
int events__new_offline(struct events **out, struct model *m);
/* Decodes one record as if it came from the ring buffer. */
void events__feed(struct events *ev, const void *data, size_t size);
/* Consumes what is pending, waiting up to timeout_ms for more. Returns the
 * number of records, or a negative errno (-EINTR on a signal). */
int events__poll(struct events *ev, int timeout_ms);
/* events__poll() also returns as soon as fd is readable (fd is not read). */
int events__wake_on(struct events *ev, int fd);
/* Consumes everything pending without waiting. */
int events__drain(struct events *ev);
const struct events_stats *events__stats(const struct events *ev);
void events__free(struct events *ev);

#endif /* TT_EVENTS_H */
