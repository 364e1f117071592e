// SPDX-License-Identifier: Apache-2.0
/*
 * The web-server example of the original tool, in C: a request loop that
 * makes a connection string and a 1 KiB response per request, names each
 * with TT_TRACK_VAR and keeps them; a pool of 4 worker threads that each
 * name their own block, under one name (the original's concurrent example);
 * then it closes every 10th connection.
 *
 *   sudo build/ttbpf -o out/ -- build/examples/webserver
 *
 * What ttbpf should report (variables; glibc and the threads add blocks of
 * their own):
 *
 *   connection     100 instances, 90 alive at the end, 32 B each
 *   response_data  100 instances, 100 alive, 102,400 B
 *   thread_data    4 instances on 4 threads, 4 x 4,096 B
 *   memory by type unsigned char * 100 blocks 102,400 B; char * 94 blocks 19,264 B
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tt.h"

#define REQUESTS 100
#define RESPONSE_SIZE 1024
#define WORKERS 4
#define WORKER_DATA 4096

static char *connections[REQUESTS];
static unsigned char *responses[REQUESTS];
static char *worker_data[WORKERS];

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void handle_request(int i)
{
	char *connection = malloc(32);
	unsigned char *response_data = malloc(RESPONSE_SIZE);

	if (!connection || !response_data)
		exit(1);
	snprintf(connection, 32, "Connection_%d", i);
	TT_TRACK_VAR(connection);
	memset(response_data, 'A' + i % 26, RESPONSE_SIZE);
	TT_TRACK_VAR(response_data);
	connections[i] = connection;
	responses[i] = response_data;
}

static void *worker(void *arg)
{
	char *thread_data = malloc(WORKER_DATA);

	if (!thread_data)
		exit(1);
	memset(thread_data, 'w', WORKER_DATA);
	TT_TRACK_VAR(thread_data);
	worker_data[(long)arg] = thread_data;
	return NULL;
}

int main(void)
{
	pthread_t th[WORKERS];
	long w;
	int i;

	for (i = 0; i < REQUESTS; i++) {
		handle_request(i);
		if (i % 10 == 9)
			pause_ms(20); /* requests arrive over time: the lifecycle band shows it */
	}
	for (w = 0; w < WORKERS; w++)
		if (pthread_create(&th[w], NULL, worker, (void *)w))
			return 1;
	for (w = 0; w < WORKERS; w++)
		pthread_join(th[w], NULL);
	pause_ms(50);
	for (i = 0; i < REQUESTS; i += 10) {
		free(connections[i]); /* closed */
		connections[i] = NULL;
	}
	pause_ms(50);
	printf("served %d requests with %d workers\n", REQUESTS, WORKERS);
	return 0;
}
