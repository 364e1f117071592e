/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The heap as a pprof profile (google/pprof's profile.proto, gzipped), as Go
 * writes heap profiles: one sample per stack, with the columns of
 * report_pprof.c's table (alloc_objects, alloc_space, inuse_objects,
 * inuse_space), locations symbolized with their inlined frames, the mappings
 * they are in. What `go tool pprof`, speedscope, Pyroscope and Parca read.
 */
#ifndef TT_REPORT_PPROF_H
#define TT_REPORT_PPROF_H

#include <stdio.h>
#include "model.h"
#include "report.h"

/* The gzipped profile to f. 0, -ENOMEM, or -EIO when writing failed. */
int report_pprof__emit(FILE *f, const struct model *m, const struct report_meta *meta);
/* Atomically; 0 or a negative errno (printed). */
int report_pprof__write(const char *path, const struct model *m, const struct report_meta *meta);

#endif /* TT_REPORT_PPROF_H */
