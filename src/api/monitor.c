/* monitor.c — what an operator watches: GET /healthz (liveness and
 * whether the container engine answers), GET /pool (every container) and
 * GET /metrics (Prometheus text: the invocation counters, the pool's
 * gauges, then the async calls').  See routes.h. */
#include <errno.h>

#include "asyncq.h"
#include "auth.h"
#include "buf.h"
#include "conns.h"
#include "events.h"
#include "http.h"
#include "jsontext.h"
#include "metrics.h"
#include "pool.h"
#include "promtext.h"
#include "records.h"
#include "routes.h"
#include "store.h"
#include "util.h"

int api_healthz(struct api *a, struct evhttp_request *req, const char *arg,
		struct hearth_error **err)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	bool up = pool_engine_up(a->pool);

	if (!o)
		return hearth_error_make(err, ENOMEM, "out of memory");
	json_object_object_add(o, "status", json_object_new_string("ok"));
	json_object_object_add(o, "store", json_object_new_string("ok"));
	json_object_object_add(o, "docker", json_object_new_string(up ? "ok" : "unreachable"));
	/* public, as a probe needs it; the engine's error (paths, addresses)
	 * only for those with the token */
	if (!up && pool_engine_error(a->pool) && auth_bearer_ok(req, a->token))
		json_object_object_add(o, "docker_error",
				       json_object_new_string(pool_engine_error(a->pool)));
	http_reply_json(req, 200, o);
	return 0;
}

int api_pool(struct api *a, struct evhttp_request *req, const char *arg, struct hearth_error **err)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o)
		return hearth_error_make(err, ENOMEM, "out of memory");
	json_object_object_add(o, "containers", pool_to_json(a->pool));
	http_reply_json(req, 200, o);
	return 0;
}

int api_metrics(struct api *a, struct evhttp_request *req, const char *arg,
		struct hearth_error **err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(16u << 20);
	int64_t sql_used, sql_high;
	int r;

	store_memory(&sql_used, &sql_high);
	if ((r = metrics_render(a->metrics, &b, err)) < 0 ||
	    (r = records_metrics(a->records, &b, err)) < 0 ||
	    (r = pool_metrics(a->pool, &b, err)) < 0 ||
	    (r = asyncq_metrics(a->asyncq, &b, err)) < 0 ||
	    (r = promtext_single(&b, "hearth_event_streams", "gauge",
				 "Clients of GET /events connected now.",
				 (uint64_t)events_streams(a->events), err)) < 0 ||
	    (r = promtext_single(&b, "hearth_event_stream_backlog_bytes", "gauge",
				 "The most bytes waiting for one /events client.",
				 (uint64_t)events_backlog_max(a->events), err)) < 0 ||
	    (r = conns_metrics(a->conns, &b, err)) < 0 ||
	    (r = promtext_single(&b, "hearth_sqlite_memory_bytes", "gauge",
				 "Heap held by SQLite (page caches, statements), every connection.",
				 (uint64_t)sql_used, err)) < 0 ||
	    (r = promtext_single(&b, "hearth_sqlite_memory_highwater_bytes", "gauge",
				 "The most heap SQLite ever held in this run.", (uint64_t)sql_high,
				 err)) < 0 ||
	    (r = promtext_single(&b, "hearth_heap_bytes", "gauge",
				 "Heap in use by hearthd (malloc's count, every arena).",
				 util_heap_in_use(), err)) < 0)
		return r;
	http_reply_bytes(req, 200, "text/plain; version=0.0.4", b.ptr, b.len);
	return 0;
}

int api_events(struct api *a, struct evhttp_request *req, const char *arg,
	       struct hearth_error **err)
{
	return events_stream(a->events, a->conns, req, err);
}
