/* metrics.c — see metrics.h.  Counters live in a small array of functions
 * searched linearly, each with a count per outcome: the number of
 * functions is small, and an observation must cost next to nothing on the
 * warm path. */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "promtext.h"

#define NSTART POOL_START_N
#define NBUCKETS 16

/* The outcomes counted per function: a call that ran ends in one of the
 * invocation statuses; one that could not run in one of the failures. */
enum outcome {
	OUT_THROTTLED = INVOCATION_STATUS_N,
	OUT_UNAVAILABLE,
	OUT_NOT_FOUND,
	OUT_FAILED,
	NOUTCOMES
};
static const char *const failure_names[NOUTCOMES - INVOCATION_STATUS_N] = { "throttled",
									    "unavailable",
									    "not_found", "failed" };

static const char *outcome_name(int i)
{
	return i < INVOCATION_STATUS_N ? invocation_status_name((enum invocation_status)i)
				       : failure_names[i - INVOCATION_STATUS_N];
}
/* Upper bounds in seconds. */
static const double bounds[NBUCKETS] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
					 0.05,	 0.1,	  0.25,	  0.5,	 1,	 2.5,	5,    10 };

/* The last hour of a function, for the dashboard: slots of five minutes,
 * each with its calls, errors and a histogram of handler durations in
 * quarter octaves (10 µs to ~10 s), so a median costs no sorting. */
#define WIN_SLOTS 12
#define WIN_SLOT_NS (300 * 1000000000LL)
#define WIN_BUCKETS 80
#define WIN_BASE_MS 0.01

struct window_slot {
	int64_t index; /* now_ns / WIN_SLOT_NS when it was filled */
	uint32_t calls, errors;
	uint32_t hist[WIN_BUCKETS];
};

struct counter {
	int64_t function_id;
	uint64_t n[NOUTCOMES];
	struct window_slot win[WIN_SLOTS];
	enum invocation_status last_status;
	int64_t last_at_ms; /* 0: no call yet */
};

struct histo {
	uint64_t bucket[NBUCKETS];
	uint64_t count;
	double sum;
};

struct metrics {
	struct counter *counters;
	size_t n, alloc;
	struct histo latency[NSTART]; /* end to end, by start kind */
	struct histo duration;	      /* handler time */
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

static struct counter *counter_of(struct metrics *m, int64_t function_id)
{
	struct counter *c;

	for (size_t i = 0; i < m->n; i++)
		if (m->counters[i].function_id == function_id)
			return &m->counters[i];
	if (m->n == m->alloc) {
		size_t na = m->alloc ? m->alloc * 2 : 16;
		struct counter *nc = realloc(m->counters, na * sizeof(*nc));

		if (!nc)
			return NULL; /* a lost sample beats a failed call */
		m->counters = nc;
		m->alloc = na;
	}
	c = &m->counters[m->n++];
	memset(c, 0, sizeof(*c));
	c->function_id = function_id;
	for (int i = 0; i < WIN_SLOTS; i++)
		c->win[i].index = -1;
	return c;
}

/* Quarter-octave bucket of a duration: 10 µs << (i / 4). */
static int win_bucket(double ms)
{
	int i = 0;
	double ub = WIN_BASE_MS;

	while (i < WIN_BUCKETS - 1 && ms > ub) {
		ub *= 1.189207115; /* 2^(1/4) */
		i++;
	}
	return i;
}

static void window_add(struct counter *c, int64_t now_ns, enum invocation_status status,
		       double duration_ms)
{
	int64_t idx = now_ns / WIN_SLOT_NS;
	struct window_slot *w = &c->win[idx % WIN_SLOTS];

	if (w->index != idx) {
		memset(w, 0, sizeof(*w));
		w->index = idx;
	}
	w->calls++;
	if (status != INVOCATION_SUCCESS)
		w->errors++;
	w->hist[win_bucket(duration_ms)]++;
}

void metrics_observe(struct metrics *m, int64_t function_id, enum invocation_status status,
		     enum pool_start start, double total_ms, double duration_ms, int64_t now_ns,
		     int64_t at_ms)
{
	struct counter *c = counter_of(m, function_id);

	if (c && (unsigned)status < INVOCATION_STATUS_N) {
		c->n[status]++;
		window_add(c, now_ns, status, duration_ms);
		c->last_status = status;
		c->last_at_ms = at_ms;
	}
	if ((unsigned)start < NSTART)
		histo_add(&m->latency[start], total_ms / 1000.0);
	histo_add(&m->duration, duration_ms / 1000.0);
}

void metrics_observe_failure(struct metrics *m, int64_t function_id, int status)
{
	struct counter *c = counter_of(m, function_id);
	enum outcome o;

	switch (status < 0 ? -status : status) {
	case EAGAIN: o = OUT_THROTTLED; break;
	case EHOSTDOWN:
	case ENXIO: o = OUT_UNAVAILABLE; break;
	case ENOENT: o = OUT_NOT_FOUND; break;
	default: o = OUT_FAILED; break;
	}
	if (c)
		c->n[o]++;
}

static int histo_render(const struct histo *h, const char *name, const char *labels,
			struct buf *out, struct hearth_error **err)
{
	const char *sep = labels[0] ? "," : "";
	int r;

	for (int i = 0; i < NBUCKETS; i++)
		if ((r = buf_printf(out, err, "%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n", name,
				    labels, sep, bounds[i], h->bucket[i])) < 0)
			return r;
	if ((r = buf_printf(out, err, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, labels, sep,
			    h->count)) < 0)
		return r;
	return buf_printf(out, err, "%s_sum{%s} %.6f\n%s_count{%s} %" PRIu64 "\n", name, labels,
			  h->sum, name, labels, h->count);
}

int metrics_render(const struct metrics *m, struct buf *out, struct hearth_error **err)
{
	int r;

	if ((r = promtext_header(out, "hearth_invocations_total", "counter",
				 "Invocations by function and status.", err)) < 0)
		return r;
	for (size_t i = 0; i < m->n; i++)
		for (int o = 0; o < NOUTCOMES; o++)
			if (m->counters[i].n[o] &&
			    (r = buf_printf(out, err,
					    "hearth_invocations_total{function_id=\"%" PRId64
					    "\",status=\"%s\"} %" PRIu64 "\n",
					    m->counters[i].function_id, outcome_name(o),
					    m->counters[i].n[o])) < 0)
				return r;
	if ((r = promtext_header(out, "hearth_starts_total", "counter",
				 "Invocations by start kind.", err)) < 0)
		return r;
	for (int i = 0; i < NSTART; i++)
		if ((r = buf_printf(out, err, "hearth_starts_total{start=\"%s\"} %" PRIu64 "\n",
				    pool_start_name((enum pool_start)i), m->latency[i].count)) < 0)
			return r;
	if ((r = promtext_header(out, "hearth_invocation_seconds", "histogram",
				 "End-to-end latency seen by hearthd, by start kind.", err)) < 0)
		return r;
	for (int i = 0; i < NSTART; i++) {
		char labels[32];

		snprintf(labels, sizeof(labels), "start=\"%s\"",
			 pool_start_name((enum pool_start)i));
		if ((r = histo_render(&m->latency[i], "hearth_invocation_seconds", labels, out,
				      err)) < 0)
			return r;
	}
	if ((r = promtext_header(out, "hearth_handler_seconds", "histogram",
				 "Handler run time measured by the shim.", err)) < 0)
		return r;
	return histo_render(&m->duration, "hearth_handler_seconds", "", out, err);
}

void metrics_function_stats(const struct metrics *m, int64_t function_id, int64_t now_ns,
			    struct metrics_fn_stats *out)
{
	int64_t idx = now_ns / WIN_SLOT_NS;
	uint64_t hist[WIN_BUCKETS] = { 0 }, seen = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < m->n; i++) {
		const struct counter *c = &m->counters[i];

		if (c->function_id != function_id)
			continue;
		for (int k = 0; k < WIN_SLOTS; k++) {
			const struct window_slot *w = &c->win[k];

			if (w->index < 0 || idx - w->index >= WIN_SLOTS)
				continue;
			out->calls += w->calls;
			out->errors += w->errors;
			for (int b = 0; b < WIN_BUCKETS; b++)
				hist[b] += w->hist[b];
		}
		out->has_last = c->last_at_ms != 0;
		out->last_status = c->last_status;
		out->last_at_ms = c->last_at_ms;
	}
	/* The median's bucket, reported at its geometric middle. */
	for (int b = 0; b < WIN_BUCKETS && out->calls; b++) {
		seen += hist[b];
		if (seen * 2 >= out->calls) {
			double ub = WIN_BASE_MS;

			for (int k = 0; k < b; k++)
				ub *= 1.189207115;
			out->p50_ms = b == 0 ? ub / 2 : ub / 1.0905077327; /* 2^(1/8) */
			break;
		}
	}
}
