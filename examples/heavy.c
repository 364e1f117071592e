// SPDX-License-Identifier: Apache-2.0
/*
 * A heavy workload with tracked variables, in four phases ~100 ms apart (the
 * whole run takes ~1.3 s):
 *
 *   sessions  a table of 1,000 struct session (64 B each, one calloc'd block),
 *             each with a name string (22 B) and a buffer (1, 2, 3 or 4 KB:
 *             2,560,000 B in all). Opened 100 at a time, live at exit.
 *   pipeline  10,000 records of 128 B are read, transformed into 10,000
 *             records of 192 B (each old record freed as its new one is made),
 *             then aggregated and freed; two pointer arrays of 80,000 B hold them.
 *   cache     an LRU cache of capacity 256 (entries of 512 B, 512 hash buckets),
 *             5,000 lookups of a skewed key stream: a miss allocates an entry,
 *             and once full evicts (frees) the least recent one. Live at exit.
 *   workers   8 threads take 2,000 tasks from a mutex-protected queue; each
 *             task allocates a result buffer (256 B .. 4 KB); main frees them
 *             all once the pool has been joined.
 *
 * Tracked variables (name, function: type / category):
 *
 *   table, open_sessions: struct session / record        64,000 B, live
 *   in, run_pipeline: struct record *[10000] / record     80,000 B, freed
 *   out, run_pipeline: struct enriched *[10000] / record  80,000 B, freed
 *   rec, run_pipeline: struct record / record             128 B, follows the newest record; freed
 *   cache, run_cache: struct lru / cache                  64 B, live
 *   buckets, run_cache: struct lru_entry *[512] / cache   4,096 B, live
 *   entry, lru_get: struct lru_entry / record             512 B, the newest entry, live
 *   ring, run_workers: struct task *[2000] / record       16,000 B, freed
 *   tasks, run_workers: struct task / record              96,000 B, freed
 *   result, worker: unsigned char * / results             follows the newest result; freed
 *
 * (C's _Generic cannot name a struct pointer's type: TT_TRACK_VAR_T names
 * it, TT_TRACK_VAR_T_AS names it and a category.)
 *
 * The program's own allocations (it counts them; the summary line prints them):
 *
 *   allocations  26,936 (10,796,208 B): sessions 2,001, pipeline 20,002,
 *                cache 2 + 2,929 misses, workers 2,002; 2,000 of them (the
 *                results) made by the 8 worker threads
 *   frees        24,677 (8,014,976 B), all by the main thread
 *   live at exit 2,259 blocks, 2,781,232 B: the table, 1,000 names, 1,000 buffers,
 *                the cache, its buckets and its 256 entries
 *   lookups      5,000 (a fixed seed): 2,071 hits, 2,929 misses, 2,673 evictions
 *   peak         6,067,632 B in 4,261 blocks, when the 2,000 results (3,174,400 B)
 *                are all alive, just before main frees them
 *
 * glibc 2.36 adds its own: the stdout buffer of the final printf, one calloc
 * per thread created (its TLS vector: 8; some are freed when their stacks are,
 * at join) and, at each thread's exit, a free of its malloc cache (ttbpf counts
 * those 8 apart, as allocator_internal_frees).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tt.h"

#define SESSIONS 1000
#define RECORDS 10000
#define CACHE_CAP 256
#define CACHE_BUCKETS 512
#define LOOKUPS 5000
#define THREADS 8
#define TASKS 2000

/* keeps the compiler from deleting a malloc/free pair whose block is unused */
static void *volatile sink;

static atomic_ulong allocs, frees, alloc_bytes, freed_bytes;

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p) {
		fprintf(stderr, "heavy: out of memory\n");
		exit(1);
	}
	atomic_fetch_add(&allocs, 1);
	atomic_fetch_add(&alloc_bytes, n);
	sink = p;
	return p;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		fprintf(stderr, "heavy: out of memory\n");
		exit(1);
	}
	atomic_fetch_add(&allocs, 1);
	atomic_fetch_add(&alloc_bytes, n * size);
	sink = p;
	return p;
}

static void xfree(void *p, size_t n)
{
	atomic_fetch_add(&frees, 1);
	atomic_fetch_add(&freed_bytes, n);
	free(p);
}

/* xorshift64: the same stream on every run */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* ---- sessions -------------------------------------------------------------- */

#define NAME_LEN 22 /* "user-0000@example.org" and its NUL */

struct session {
	char *name;
	unsigned char *buf;
	size_t buf_len;
	unsigned int id;
	unsigned int requests;
	double last_seen;
	char token[24];
};
_Static_assert(sizeof(struct session) == 64, "struct session is 64 bytes");

static struct session *open_sessions(void)
{
	struct session *table = xcalloc(SESSIONS, sizeof(*table));
	unsigned int i;

	TT_TRACK_VAR_T(table, "struct session");
	for (i = 0; i < SESSIONS; i++) {
		struct session *s = &table[i];

		s->id = i;
		s->name = xmalloc(NAME_LEN);
		snprintf(s->name, NAME_LEN, "user-%04u@example.org", i);
		s->buf_len = 1024 * (1 + i % 4);
		s->buf = xmalloc(s->buf_len);
		memset(s->buf, (int)i, s->buf_len);
		snprintf(s->token, sizeof(s->token), "tok-%08x", i * 2654435761u);
		if (i % 100 == 99)
			pause_ms(20);
	}
	return table;
}

/* ---- pipeline -------------------------------------------------------------- */

struct record {
	uint64_t id;
	double v[15];
};
_Static_assert(sizeof(struct record) == 128, "struct record is 128 bytes");

struct enriched {
	uint64_t id;
	double mean, min, max;
	char label[40];
	double norm[15];
};
_Static_assert(sizeof(struct enriched) == 192, "struct enriched is 192 bytes");

static double run_pipeline(void)
{
	struct record **in = xmalloc(RECORDS * sizeof(*in));
	struct enriched **out = xmalloc(RECORDS * sizeof(*out));
	double total = 0;
	size_t i, k;

	TT_TRACK_VAR_T(in, "struct record *[10000]");
	TT_TRACK_VAR_T(out, "struct enriched *[10000]");

	/* read */
	for (i = 0; i < RECORDS; i++) {
		struct record *rec = xmalloc(sizeof(*rec));

		TT_TRACK_VAR_T(rec, "struct record");
		rec->id = i;
		for (k = 0; k < 15; k++)
			rec->v[k] = (double)((i * 31 + k * 7) % 1000);
		in[i] = rec;
		if (i % 1000 == 999)
			pause_ms(10);
	}
	/* transform: each new record replaces an old one */
	for (i = 0; i < RECORDS; i++) {
		struct enriched *e = xmalloc(sizeof(*e));
		double sum = 0;

		e->id = in[i]->id;
		e->min = e->max = in[i]->v[0];
		for (k = 0; k < 15; k++) {
			sum += in[i]->v[k];
			if (in[i]->v[k] < e->min)
				e->min = in[i]->v[k];
			if (in[i]->v[k] > e->max)
				e->max = in[i]->v[k];
		}
		e->mean = sum / 15;
		for (k = 0; k < 15; k++)
			e->norm[k] = e->max > e->min ? (in[i]->v[k] - e->min) / (e->max - e->min) : 0;
		snprintf(e->label, sizeof(e->label), "record-%zu", i);
		out[i] = e;
		xfree(in[i], sizeof(*in[i]));
		in[i] = NULL;
		if (i % 1000 == 999)
			pause_ms(10);
	}
	pause_ms(30);
	/* aggregate */
	for (i = 0; i < RECORDS; i++) {
		total += out[i]->mean;
		xfree(out[i], sizeof(*out[i]));
	}
	xfree(in, RECORDS * sizeof(*in));
	xfree(out, RECORDS * sizeof(*out));
	return total / RECORDS;
}

/* ---- LRU cache ------------------------------------------------------------- */

struct lru_entry {
	uint64_t key;
	struct lru_entry *prev, *next; /* recency list, most recent first */
	struct lru_entry *hnext;       /* hash chain */
	char value[480];
};
_Static_assert(sizeof(struct lru_entry) == 512, "struct lru_entry is 512 bytes");

struct lru {
	struct lru_entry **buckets;
	struct lru_entry *head, *tail;
	size_t count, cap;
	unsigned long hits, misses, evictions;
};

static void lru_unlink(struct lru *c, struct lru_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push_front(struct lru *c, struct lru_entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

static void lru_evict(struct lru *c)
{
	struct lru_entry *e = c->tail, **pp;

	lru_unlink(c, e);
	for (pp = &c->buckets[e->key % CACHE_BUCKETS]; *pp != e; pp = &(*pp)->hnext)
		;
	*pp = e->hnext;
	c->count--;
	c->evictions++;
	xfree(e, sizeof(*e));
}

static const char *lru_get(struct lru *c, uint64_t key)
{
	struct lru_entry *entry, **b = &c->buckets[key % CACHE_BUCKETS];

	for (entry = *b; entry; entry = entry->hnext) {
		if (entry->key == key) {
			c->hits++;
			lru_unlink(c, entry);
			lru_push_front(c, entry);
			return entry->value;
		}
	}
	/* miss: "load" the value */
	c->misses++;
	if (c->count == c->cap)
		lru_evict(c);
	entry = xmalloc(sizeof(*entry));
	TT_TRACK_VAR_T(entry, "struct lru_entry");
	entry->key = key;
	snprintf(entry->value, sizeof(entry->value), "value of key %llu", (unsigned long long)key);
	entry->hnext = *b;
	*b = entry;
	lru_push_front(c, entry);
	c->count++;
	return entry->value;
}

static struct lru *run_cache(void)
{
	struct lru *cache = xmalloc(sizeof(*cache));
	struct lru_entry **buckets = xcalloc(CACHE_BUCKETS, sizeof(*buckets));
	size_t i, len = 0;

	TT_TRACK_VAR_T_AS(cache, "struct lru", "cache");
	TT_TRACK_VAR_T_AS(buckets, "struct lru_entry *[512]", "cache");
	memset(cache, 0, sizeof(*cache));
	cache->buckets = buckets;
	cache->cap = CACHE_CAP;
	for (i = 0; i < LOOKUPS; i++) {
		uint64_t r = rng();
		/* 3 lookups in 4 go to 300 hot keys, the rest to 100,000 cold ones */
		uint64_t key = r % 4 ? (r >> 8) % 300 : 1000 + (r >> 8) % 100000;

		len += strlen(lru_get(cache, key));
		if (i % 500 == 499)
			pause_ms(20);
	}
	sink = (void *)len;
	return cache;
}

/* ---- worker pool ----------------------------------------------------------- */

struct task {
	unsigned int id;
	unsigned int done;
	size_t size;
	unsigned char *result;
	uint64_t checksum;
	uint64_t seed;
	struct task *pad;
};
_Static_assert(sizeof(struct task) == 48, "struct task is 48 bytes");

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t nonempty, drained;
	struct task **ring;
	size_t head, tail, pending; /* ring indices grow; TASKS slots, never wrap */
	int closed;
};

static void *worker(void *arg)
{
	struct queue *q = arg;
	struct task *t;
	size_t i;
	int pass;

	for (;;) {
		pthread_mutex_lock(&q->lock);
		while (q->head == q->tail && !q->closed)
			pthread_cond_wait(&q->nonempty, &q->lock);
		if (q->head == q->tail) {
			pthread_mutex_unlock(&q->lock);
			return NULL;
		}
		t = q->ring[q->head++];
		pthread_mutex_unlock(&q->lock);

		unsigned char *result = xmalloc(t->size);

		TT_TRACK_VAR_AS(result, "results");
		for (pass = 0; pass < 8; pass++)
			for (i = 0; i < t->size; i++)
				result[i] = (unsigned char)(t->seed + i * 131 + (uint64_t)pass * result[i]);
		for (i = 0; i < t->size; i++)
			t->checksum = t->checksum * 31 + result[i];
		t->result = result;

		pthread_mutex_lock(&q->lock);
		t->done = 1;
		if (--q->pending == 0)
			pthread_cond_broadcast(&q->drained);
		pthread_mutex_unlock(&q->lock);
	}
}

static uint64_t run_workers(void)
{
	struct task *tasks = xcalloc(TASKS, sizeof(*tasks));
	struct task **ring = xmalloc(TASKS * sizeof(*ring));
	struct queue q = { .ring = ring };
	pthread_t th[THREADS];
	uint64_t sum = 0;
	int i, wave;

	TT_TRACK_VAR_T(tasks, "struct task");
	TT_TRACK_VAR_T(ring, "struct task *[2000]");
	pthread_mutex_init(&q.lock, NULL);
	pthread_cond_init(&q.nonempty, NULL);
	pthread_cond_init(&q.drained, NULL);
	for (i = 0; i < THREADS; i++)
		if (pthread_create(&th[i], NULL, worker, &q)) {
			fprintf(stderr, "heavy: cannot create a thread\n");
			exit(1);
		}
	/* 10 waves of 200 tasks */
	for (wave = 0; wave < 10; wave++) {
		pthread_mutex_lock(&q.lock);
		for (i = wave * (TASKS / 10); i < (wave + 1) * (TASKS / 10); i++) {
			tasks[i].id = (unsigned int)i;
			tasks[i].size = (size_t)256 << (i % 5);
			tasks[i].seed = rng();
			q.ring[q.tail++] = &tasks[i];
			q.pending++;
		}
		pthread_cond_broadcast(&q.nonempty);
		pthread_mutex_unlock(&q.lock);
		pause_ms(20);
	}
	pthread_mutex_lock(&q.lock);
	while (q.pending)
		pthread_cond_wait(&q.drained, &q.lock);
	q.closed = 1;
	pthread_cond_broadcast(&q.nonempty);
	pthread_mutex_unlock(&q.lock);
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	pause_ms(30);

	for (i = 0; i < TASKS; i++) {
		sum += tasks[i].checksum;
		xfree(tasks[i].result, tasks[i].size);
	}
	xfree(ring, TASKS * sizeof(*ring));
	xfree(tasks, TASKS * sizeof(*tasks));
	pthread_mutex_destroy(&q.lock);
	pthread_cond_destroy(&q.nonempty);
	pthread_cond_destroy(&q.drained);
	return sum;
}

int main(void)
{
	struct session *table;
	struct lru *cache;
	double mean;
	uint64_t sum;
	unsigned long a, f;

	table = open_sessions();
	pause_ms(100);
	mean = run_pipeline();
	pause_ms(100);
	cache = run_cache();
	pause_ms(100);
	sum = run_workers();
	pause_ms(50);

	a = atomic_load(&allocs);
	f = atomic_load(&frees);
	printf("heavy: %lu allocations (%lu B), %lu frees, %lu live (%lu B); %d sessions; "
	       "pipeline mean %.3f; cache %lu hits, %lu misses, %lu evictions; "
	       "%d tasks on %d threads, checksum %016llx\n",
	       a, atomic_load(&alloc_bytes), f, a - f, atomic_load(&alloc_bytes) - atomic_load(&freed_bytes),
	       SESSIONS, mean, cache->hits, cache->misses, cache->evictions, TASKS, THREADS,
	       (unsigned long long)sum);
	sink = table;
	return 0;
}
