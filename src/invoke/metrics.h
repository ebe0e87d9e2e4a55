/* metrics.h — invocation counters and latency histograms, rendered in
 * Prometheus text format for GET /metrics (the pool adds its gauges). */
#ifndef HEARTH_METRICS_H
#define HEARTH_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "invocation.h"
#include "pool.h"

struct metrics;

int metrics_new(struct metrics **out, struct hearth_error **err);
void metrics_free(struct metrics *m);
/* A call that ran: its status and start, the end-to-end latency hearthd
 * saw and the handler's own duration, when it ended (monotonic ns) and
 * when it arrived (wall clock ms).  Costs no allocation once the function
 * has been seen. */
void metrics_observe(struct metrics *m, int64_t function_id, enum invocation_status status,
		     enum pool_start start, double total_ms, double duration_ms, int64_t now_ns,
		     int64_t at_ms);
/* A call that could not run; `status` is its error.h status (EAGAIN
 * counts as throttled, EHOSTDOWN/ENXIO as unavailable, ENOENT as
 * not_found, anything else as failed). */
void metrics_observe_failure(struct metrics *m, int64_t function_id, int status);
/* A function's last hour (55 to 60 minutes: slots of five), for the
 * dashboard: calls that ran, those that did not succeed, the median
 * handler duration (to within a quarter octave), and its last call. */
struct metrics_fn_stats {
	uint64_t calls, errors;
	double p50_ms;
	bool has_last;
	enum invocation_status last_status;
	int64_t last_at_ms;
};
void metrics_function_stats(const struct metrics *m, int64_t function_id, int64_t now_ns,
			    struct metrics_fn_stats *out);
/* Appends every metric to out. */
int metrics_render(const struct metrics *m, struct buf *out, struct hearth_error **err);

#endif
