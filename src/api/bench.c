/* bench.c — POST /functions/{id}/bench: a benchmark run by the pool on
 * containers of its own (pool.h says what each kind times), answered with
 * every call's time and their distribution.  HTTP's part: the body, the
 * bounds, the deferred reply, a client that leaves (see routes.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "function.h"
#include "http.h"
#include "jsontext.h"
#include "log.h"
#include "pool.h"
#include "registry.h"
#include "routes.h"

/* The bounds: a warm call costs microseconds, a cold one a container. */
#define BENCH_WARM_CALLS_MAX 1000
#define BENCH_WARM_CONCURRENCY_MAX 16
#define BENCH_START_CALLS_MAX 50 /* cold and stem */
#define BENCH_START_CONCURRENCY_MAX 4
#define BENCH_WATCH_AFTER_MS 50

struct bench_req {
	struct evhttp_request *req;
	struct pool_bench *bench;
	struct http_watch *watch;
	int64_t function_id;
	struct pool_bench_spec spec;
	char *payload;
};

static void bench_req_free(struct bench_req *br)
{
	free(br->payload);
	free(br);
}

static void on_client_gone(void *arg)
{
	struct bench_req *br = arg;

	log_info("http: client left before its benchmark of function %" PRId64 " ended",
		 br->function_id);
	pool_bench_abandon(br->bench);
	bench_req_free(br);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of sorted[n]. */
static double percentile(const double *sorted, size_t n, double pct)
{
	size_t rank = (size_t)ceil(pct / 100.0 * (double)n);

	return n ? sorted[rank ? rank - 1 : 0] : 0;
}

static json_object *ms(double v)
{
	char s[32];

	snprintf(s, sizeof(s), "%.3f", v);
	return json_object_new_double_s(v, s);
}

/* The distribution of the calls that ran: percentiles, and a histogram
 * in 1-2-5 steps (10 µs to 100 s) for a chart on a log axis. */
static void add_distribution(json_object *o, const struct pool_bench_call *calls, size_t n)
{
	static const double steps[] = { 1, 2, 5 };
	json_object *sum = json_object_new_object(), *hist = json_object_new_array();
	double *v = calloc(n ? n : 1, sizeof(*v)), total = 0;
	size_t m = 0, errors = 0, below = 0;

	for (size_t i = 0; v && i < n; i++) {
		if (calls[i].ran)
			v[m++] = calls[i].ms, total += calls[i].ms;
		if (!calls[i].ran || calls[i].status != INVOCATION_SUCCESS)
			errors++;
	}
	if (v)
		qsort(v, m, sizeof(*v), cmp_double);
	json_object_object_add(sum, "count", json_object_new_int64((int64_t)n));
	json_object_object_add(sum, "ran", json_object_new_int64((int64_t)m));
	json_object_object_add(sum, "errors", json_object_new_int64((int64_t)errors));
	if (v && m) {
		json_object_object_add(sum, "min", ms(v[0]));
		json_object_object_add(sum, "p50", ms(percentile(v, m, 50)));
		json_object_object_add(sum, "p90", ms(percentile(v, m, 90)));
		json_object_object_add(sum, "p99", ms(percentile(v, m, 99)));
		json_object_object_add(sum, "max", ms(v[m - 1]));
		json_object_object_add(sum, "mean", ms(total / (double)m));
	}
	json_object_object_add(o, "summary", sum);
	for (double decade = 0.01; v && decade < 1e5 && below < m; decade *= 10)
		for (size_t k = 0; k < 3 && below < m; k++) {
			double le = decade * steps[k];
			size_t count = 0;
			json_object *b = json_object_new_object();

			while (below < m && v[below] <= le)
				below++, count++;
			json_object_object_add(b, "le_ms", ms(le));
			json_object_object_add(b, "count", json_object_new_int64((int64_t)count));
			json_object_array_add(hist, b);
		}
	json_object_object_add(o, "histogram", hist);
	free(v);
}

static void on_bench_done(void *arg, const struct pool_bench_call *calls, size_t n, double wall_ms,
			  const struct hearth_error *err)
{
	struct bench_req *br = arg;
	_cleanup_json_ json_object *o = NULL;
	json_object *results;

	http_watch_stop(br->watch);
	if (err) {
		http_reply_error(br->req, err);
		bench_req_free(br);
		return;
	}
	o = json_object_new_object();
	results = json_object_new_array();
	json_object_object_add(o, "function_id", json_object_new_int64(br->function_id));
	json_object_object_add(o, "start", json_object_new_string(pool_start_name(br->spec.start)));
	json_object_object_add(o, "calls", json_object_new_int(br->spec.calls));
	json_object_object_add(o, "concurrency", json_object_new_int(br->spec.concurrency));
	json_object_object_add(o, "wall_ms", ms(wall_ms));
	add_distribution(o, calls, n);
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_new_object();

		json_object_object_add(c, "ms", calls[i].ran ? ms(calls[i].ms) : NULL);
		json_object_object_add(
			c, "status",
			json_object_new_string(calls[i].ran
						       ? invocation_status_name(calls[i].status)
						       : "failed"));
		json_object_object_add(c, "start",
				       json_object_new_string(pool_start_name(calls[i].start)));
		json_object_object_add(c, "duration_ms", ms(calls[i].duration_ms));
		json_object_array_add(results, c);
	}
	json_object_object_add(o, "results", results);
	http_reply_json(br->req, 200, o);
	bench_req_free(br);
}

/* {"calls","concurrency","start","payload"}, checked against the bounds
 * of its kind. */
static int parse_spec(json_object *body, struct bench_req *br, struct hearth_error **err)
{
	json_object *v;
	const char *start;
	int max_calls, max_conc;

	if (!json_object_is_type(body, json_type_object))
		return hearth_error_make(err, EINVAL,
					 "body: expected {\"calls\":N,\"concurrency\":N,"
					 "\"start\":\"warm|stem|cold\",\"payload\":...}");
	json_object_object_foreach(body, key, val) {
		(void)val;
		if (strcmp(key, "calls") && strcmp(key, "concurrency") && strcmp(key, "start") &&
		    strcmp(key, "payload"))
			return hearth_error_make(err, EINVAL, "%s: unknown field", key);
	}
	if (!json_object_object_get_ex(body, "start", &v) ||
	    !json_object_is_type(v, json_type_string))
		return hearth_error_make(err, EINVAL, "start: required, warm, stem or cold");
	start = json_object_get_string(v);
	if (!strcmp(start, "warm"))
		br->spec.start = POOL_START_WARM;
	else if (!strcmp(start, "stem"))
		br->spec.start = POOL_START_STEM;
	else if (!strcmp(start, "cold"))
		br->spec.start = POOL_START_COLD;
	else
		return hearth_error_make(err, EINVAL, "start: '%s' is not warm, stem or cold",
					 start);
	max_calls = br->spec.start == POOL_START_WARM ? BENCH_WARM_CALLS_MAX
						      : BENCH_START_CALLS_MAX;
	max_conc = br->spec.start == POOL_START_WARM ? BENCH_WARM_CONCURRENCY_MAX
						     : BENCH_START_CONCURRENCY_MAX;
	br->spec.calls = 10;
	br->spec.concurrency = 1;
	if (json_object_object_get_ex(body, "calls", &v) &&
	    (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
	     json_object_get_int64(v) > max_calls))
		return hearth_error_make(err, EINVAL,
					 "calls: an integer in 1..%d for a %s benchmark", max_calls,
					 start);
	if (v && json_object_is_type(v, json_type_int))
		br->spec.calls = (int)json_object_get_int64(v);
	v = NULL;
	if (json_object_object_get_ex(body, "concurrency", &v) &&
	    (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
	     json_object_get_int64(v) > max_conc))
		return hearth_error_make(err, EINVAL,
					 "concurrency: an integer in 1..%d for a %s benchmark",
					 max_conc, start);
	if (v && json_object_is_type(v, json_type_int))
		br->spec.concurrency = (int)json_object_get_int64(v);
	v = NULL;
	json_object_object_get_ex(body, "payload", &v);
	br->payload = strdup(v ? json_object_to_json_string_ext(
					 v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
			       : "{}");
	if (!br->payload)
		return hearth_error_make(err, ENOMEM, "out of memory");
	if (strlen(br->payload) > INVOKE_PAYLOAD_MAX)
		return hearth_error_make(err, E2BIG, "payload: over %u bytes", INVOKE_PAYLOAD_MAX);
	br->spec.payload = br->payload;
	br->spec.len = strlen(br->payload);
	return 0;
}

int api_bench(struct api *a, struct evhttp_request *req, const char *idstr,
	      struct hearth_error **err)
{
	_cleanup_json_ json_object *body = NULL;
	struct bench_req *br;
	int64_t id;
	int r;

	if ((r = registry_resolve(a->registry, idstr, &id, err)) < 0)
		return r;
	if (!pool_knows(a->pool, id))
		return hearth_error_make(err, ENOENT, "no function %s", idstr);
	if ((r = http_body_json(req, HTTP_BODY_MAX, JSONTEXT_NOT_NULL, &body, err)) < 0)
		return r;
	br = calloc(1, sizeof(*br));
	if (!br)
		return hearth_error_make(err, ENOMEM, "out of memory");
	br->req = req;
	br->function_id = id;
	if ((r = parse_spec(body, br, err)) < 0 ||
	    (r = pool_bench_start(a->pool, id, &br->spec, on_bench_done, br, &br->bench, err)) <
		    0) {
		bench_req_free(br);
		return r;
	}
	br->watch = http_watch_new(req, a->conns, a->base, BENCH_WATCH_AFTER_MS, on_client_gone,
				   br);
	return 0;
}
