/* metrics.c — see metrics.h.  Counters live in small arrays searched
 * linearly: the number of (function, status) pairs is small, and an
 * observation must cost next to nothing on the warm path. */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define NSTART 3
#define NBUCKETS 16

static const char *const start_names[NSTART] = { "warm", "stem", "cold" };
/* Upper bounds in seconds. */
static const double bounds[NBUCKETS] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
					 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

struct counter {
	int64_t function_id;
	char status[16];
	uint64_t n;
};

struct histo {
	uint64_t bucket[NBUCKETS];
	uint64_t count;
	double sum;
};

struct metrics {
	struct counter *counters;
	size_t n, alloc;
	struct histo latency[NSTART];	/* end to end, by start kind */
	struct histo duration;		/* handler time */
};

int metrics_new(struct metrics **out, struct hearth_error **err)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return hearth_error_make(err, ENOMEM, "out of memory");
	*out = m;
	return 0;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	free(m->counters);
	free(m);
}

static void histo_add(struct histo *h, double seconds)
{
	for (int i = 0; i < NBUCKETS; i++)
		if (seconds <= bounds[i])
			h->bucket[i]++;
	h->count++;
	h->sum += seconds;
}

void metrics_observe(struct metrics *m, int64_t function_id, const char *status,
		     const char *start, double total_ms, double duration_ms)
{
	struct counter *c = NULL;

	for (size_t i = 0; i < m->n; i++)
		if (m->counters[i].function_id == function_id &&
		    strcmp(m->counters[i].status, status) == 0) {
			c = &m->counters[i];
			break;
		}
	if (!c) {
		if (m->n == m->alloc) {
			size_t na = m->alloc ? m->alloc * 2 : 16;
			struct counter *nc = realloc(m->counters, na * sizeof(*nc));

			if (!nc)
				return;	/* a lost sample beats a failed call */
			m->counters = nc;
			m->alloc = na;
		}
		c = &m->counters[m->n++];
		c->function_id = function_id;
		snprintf(c->status, sizeof(c->status), "%s", status);
		c->n = 0;
	}
	c->n++;
	if (!start)
		return;
	for (int i = 0; i < NSTART; i++)
		if (strcmp(start, start_names[i]) == 0)
			histo_add(&m->latency[i], total_ms / 1000.0);
	histo_add(&m->duration, duration_ms / 1000.0);
}

static int histo_render(const struct histo *h, const char *name, const char *labels,
			struct buf *out, struct hearth_error **err)
{
	const char *sep = labels[0] ? "," : "";
	int r = 0;

	for (int i = 0; i < NBUCKETS; i++)
		r |= buf_printf(out, err, "%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n", name, labels, sep,
				bounds[i], h->bucket[i]);
	r |= buf_printf(out, err, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, labels, sep,
			h->count);
	r |= buf_printf(out, err, "%s_sum{%s} %.6f\n%s_count{%s} %" PRIu64 "\n", name, labels,
			h->sum, name, labels, h->count);
	return r;
}

int metrics_render(const struct metrics *m, struct buf *out, struct hearth_error **err)
{
	uint64_t starts[NSTART];
	int r = 0;

	r |= buf_puts(out, "# HELP hearth_invocations_total Invocations by function and status.\n"
		      "# TYPE hearth_invocations_total counter\n", err);
	for (size_t i = 0; i < m->n; i++)
		r |= buf_printf(out, err,
				"hearth_invocations_total{function_id=\"%" PRId64 "\",status=\"%s\"} %" PRIu64 "\n",
				m->counters[i].function_id, m->counters[i].status, m->counters[i].n);
	r |= buf_puts(out, "# HELP hearth_starts_total Invocations by start kind.\n"
		      "# TYPE hearth_starts_total counter\n", err);
	for (int i = 0; i < NSTART; i++) {
		starts[i] = m->latency[i].count;
		r |= buf_printf(out, err, "hearth_starts_total{start=\"%s\"} %" PRIu64 "\n",
				start_names[i], starts[i]);
	}
	r |= buf_puts(out, "# HELP hearth_invocation_seconds End-to-end latency seen by hearthd, by start kind.\n"
		      "# TYPE hearth_invocation_seconds histogram\n", err);
	for (int i = 0; i < NSTART; i++) {
		char labels[32];

		snprintf(labels, sizeof(labels), "start=\"%s\"", start_names[i]);
		r |= histo_render(&m->latency[i], "hearth_invocation_seconds", labels, out, err);
	}
	r |= buf_puts(out, "# HELP hearth_handler_seconds Handler run time measured by the shim.\n"
		      "# TYPE hearth_handler_seconds histogram\n", err);
	r |= histo_render(&m->duration, "hearth_handler_seconds", "", out, err);
	return r < 0 ? -E2BIG : 0;
}
