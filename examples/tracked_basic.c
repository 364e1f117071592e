// SPDX-License-Identifier: Apache-2.0
/*
 * Variable tracking, the basics: four heap buffers named with the markers of
 * include/tt.h, one of them with an explicit type, one with a category.
 *
 *   phase 1  config   4,096 B   TT_TRACK_VAR          "char *"          text     live
 *   phase 2  64 lines of 128 B, parsed out of config and freed (not tracked)
 *   phase 3  samples  80,000 B  TT_TRACK_VAR          "double *"        buffer   freed (phase 6)
 *   phase 4  sess     256 B     TT_TRACK_VAR_T        "struct session"  record   live
 *   phase 5  packet   65,536 B  TT_TRACK_VAR_AS       "unsigned char *" network  live
 *   phase 6  free(samples)
 *
 * Phases are ~150 ms apart (the whole run takes ~0.8 s). What ttbpf should
 * report (launch mode; glibc adds one block of its own, the stdout buffer of
 * the final printf: 1,024 B on a terminal, 4,096 B on a pipe or file):
 *
 *   allocations     68 (158,080 B) + the stdout buffer
 *   frees           65 (88,192 B)
 *   live at exit    3 blocks, 69,888 B (config, sess, packet) + the stdout buffer
 *   peak            149,888 B in 4 blocks, between phases 5 and 6
 *   variables       4: config, samples (freed), sess, packet
 *   memory by type  unsigned char * 65,536, char * 4,096, struct session 256
 *   by category     network 65,536, text 4,096, record 256
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tt.h"

struct session {
	char user[32];
	char host[64];
	unsigned int id;
	unsigned int flags;
	double started;
	double last_seen;
	unsigned char key[136];
};
_Static_assert(sizeof(struct session) == 256, "struct session is 256 bytes");

#define CONFIG_SIZE 4096
#define LINES 64
#define LINE_SIZE 128
#define SAMPLES 10000
#define PACKET_SIZE 65536

/* keeps the compiler from deleting a malloc/free pair whose block is unused */
static void *volatile sink;

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int main(void)
{
	struct session *sess;
	unsigned char *packet;
	double *samples, mean = 0;
	size_t i, used = 0, parsed = 0;
	char *config;

	/* phase 1: a configuration text, kept to the end */
	config = malloc(CONFIG_SIZE);
	if (!config)
		return 1;
	TT_TRACK_VAR(config);
	for (i = 0; i < LINES; i++)
		used += (size_t)snprintf(config + used, CONFIG_SIZE - used, "option_%02zu = %zu\n", i,
					 i * 37 % 101);
	pause_ms(150);

	/* phase 2: each line copied out and parsed; the copies are temporary */
	for (i = 0; i < LINES; i++) {
		char *line = malloc(LINE_SIZE);
		unsigned int n, v;

		if (!line)
			return 1;
		sink = line;
		snprintf(line, LINE_SIZE, "option_%02zu = %zu", i, i * 37 % 101);
		if (sscanf(line, "option_%u = %u", &n, &v) == 2)
			parsed++;
		free(line);
	}
	pause_ms(150);

	/* phase 3: an array of doubles, freed in phase 6 */
	samples = malloc(SAMPLES * sizeof(*samples));
	if (!samples)
		return 1;
	TT_TRACK_VAR(samples);
	for (i = 0; i < SAMPLES; i++)
		samples[i] = (double)(i % 100) / 10.0;
	for (i = 0; i < SAMPLES; i++)
		mean += samples[i] / SAMPLES;
	pause_ms(150);

	/* phase 4: a struct, named by its type */
	sess = calloc(1, sizeof(*sess));
	if (!sess)
		return 1;
	TT_TRACK_VAR_T(sess, "struct session");
	snprintf(sess->user, sizeof(sess->user), "alice");
	snprintf(sess->host, sizeof(sess->host), "db.example.org");
	sess->id = 42;
	pause_ms(150);

	/* phase 5: a receive buffer, filed under a category of its own */
	packet = malloc(PACKET_SIZE);
	if (!packet)
		return 1;
	TT_TRACK_VAR_AS(packet, "network");
	memset(packet, 0xab, PACKET_SIZE);
	pause_ms(150);

	/* phase 6: the samples are no longer needed */
	free(samples);
	pause_ms(100);

	printf("tracked_basic: 68 allocations, 65 frees, 3 live (config %d B, sess %zu B, packet %d B), "
	       "%zu lines parsed, mean %.2f\n",
	       CONFIG_SIZE, sizeof(*sess), PACKET_SIZE, parsed, mean);
	sink = config;
	sink = sess;
	sink = packet;
	return 0;
}
