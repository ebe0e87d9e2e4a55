/* metrics.h — invocation counters and latency histograms, rendered in
 * Prometheus text format for GET /metrics (the pool adds its gauges). */
#ifndef HEARTH_METRICS_H
#define HEARTH_METRICS_H

#include <stdint.h>

#include "buf.h"
#include "error.h"

struct metrics;

int metrics_new(struct metrics **out, struct hearth_error **err);
void metrics_free(struct metrics *m);
/* One finished call: status "success|error|timeout|crashed|throttled|
 * unavailable", start "warm|stem|cold" (NULL when it never ran), the
 * end-to-end latency hearthd saw and the handler's own duration. */
void metrics_observe(struct metrics *m, int64_t function_id, const char *status,
		     const char *start, double total_ms, double duration_ms);
/* Appends every metric to out. */
int metrics_render(const struct metrics *m, struct buf *out, struct hearth_error **err);

#endif
