/* functions.c — /functions/ and /functions/{id}: HTTP around the registry
 * (see routes.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "bounds.h"
#include "function.h"
#include "http.h"
#include "jsontext.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "registry.h"
#include "routes.h"
#include "util.h"

static int reply_fn(struct evhttp_request *req, int code, const struct fn *f,
		    struct hearth_error **err)
{
	_cleanup_json_ json_object *o = fn_to_json(f);

	if (!o)
		return hearth_error_make(err, ENOMEM, "out of memory");
	http_reply_json(req, code, o);
	return 0;
}

/* A query flag: ?NAME=1 or ?NAME=true. */
static bool query_flag(struct evhttp_request *req, const char *name)
{
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct evkeyvalq q;
	const char *v;
	bool yes = false;

	TAILQ_INIT(&q);
	if (query && evhttp_parse_query_str(query, &q) == 0) {
		v = evhttp_find_header(&q, name);
		yes = v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
	}
	evhttp_clear_headers(&q);
	return yes;
}

/* ?stats=1: what the dashboard's list shows beside each function, its
 * containers now and its last hour. */
static void add_stats(struct api *a, json_object *o, int64_t id, int64_t now_ns)
{
	struct pool_fn_containers pc;
	struct metrics_fn_stats ms;
	json_object *pool = json_object_new_object(), *stats = json_object_new_object();
	char at[32], p50[32];

	pool_function_containers(a->pool, id, &pc);
	json_object_object_add(pool, "idle", json_object_new_int(pc.idle));
	json_object_object_add(pool, "busy", json_object_new_int(pc.busy));
	json_object_object_add(pool, "starting", json_object_new_int(pc.starting));
	json_object_object_add(pool, "from_stem", json_object_new_int(pc.from_stem));
	json_object_object_add(o, "pool", pool);
	metrics_function_stats(a->metrics, id, now_ns, &ms);
	json_object_object_add(stats, "calls_1h", json_object_new_int64((int64_t)ms.calls));
	json_object_object_add(stats, "errors_1h", json_object_new_int64((int64_t)ms.errors));
	snprintf(p50, sizeof(p50), "%.3f", ms.p50_ms);
	json_object_object_add(stats, "p50_ms_1h",
			       ms.calls ? json_object_new_double_s(ms.p50_ms, p50) : NULL);
	json_object_object_add(
		stats, "last_status",
		ms.has_last ? json_object_new_string(invocation_status_name(ms.last_status))
			    : NULL);
	if (ms.has_last)
		util_iso8601(ms.last_at_ms, at);
	json_object_object_add(stats, "last_at", ms.has_last ? json_object_new_string(at) : NULL);
	json_object_object_add(o, "stats", stats);
}

int api_functions_list(struct api *a, struct evhttp_request *req, const char *arg,
		       struct hearth_error **err)
{
	_cleanup_json_ json_object *arr = NULL;
	bool stats = query_flag(req, "stats");
	int64_t now_ns = util_mono_ns();
	struct fn **list = NULL;
	size_t n = 0;
	int r;

	if ((r = registry_list(a->registry, &list, &n, err)) < 0)
		return r;
	arr = json_object_new_array();
	for (size_t i = 0; arr && i < n; i++) {
		json_object *o = fn_to_json(list[i]);

		if (o && stats)
			add_stats(a, o, list[i]->id, now_ns);
		json_object_array_add(arr, o);
	}
	registry_list_free(list, n);
	if (!arr)
		return hearth_error_make(err, ENOMEM, "out of memory");
	http_reply_json(req, 200, arr);
	return 0;
}

/* Drafts are made from the request's bytes, which can then go (a body with
 * a base64 zip is up to HTTP_BODY_MAX) before the code is stored. */
static int commit(struct api *a, struct evhttp_request *req, struct registry_draft *d,
		  struct fn **out, bool *changed, struct hearth_error **err)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);

	evbuffer_drain(in, evbuffer_get_length(in));
	return registry_commit(a->registry, d, out, changed, err);
}

int api_functions_create(struct api *a, struct evhttp_request *req, const char *arg,
			 struct hearth_error **err)
{
	_cleanup_draft_ struct registry_draft *d = NULL;
	_cleanup_fn_ struct fn *f = NULL;
	const char *data;
	size_t len;
	char loc[48];
	int r;

	if ((r = http_body(req, HTTP_BODY_MAX, &data, &len, err)) < 0 ||
	    (r = registry_draft_create(a->registry, data, len, &d, err)) < 0 ||
	    (r = commit(a, req, d, &f, NULL, err)) < 0)
		return r;
	snprintf(loc, sizeof(loc), "/functions/%" PRId64, f->id);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
	return reply_fn(req, 201, f, err);
}

int api_functions_update(struct api *a, struct evhttp_request *req, const char *idstr,
			 struct hearth_error **err)
{
	_cleanup_draft_ struct registry_draft *d = NULL;
	_cleanup_fn_ struct fn *f = NULL;
	const char *data;
	size_t len;
	int64_t id;
	int r;

	if ((r = registry_resolve(a->registry, idstr, &id, err)) < 0 ||
	    (r = http_body(req, HTTP_BODY_MAX, &data, &len, err)) < 0 ||
	    (r = registry_draft_update(a->registry, id, data, len, &d, err)) < 0 ||
	    (r = commit(a, req, d, &f, NULL, err)) < 0)
		return r;
	return reply_fn(req, 200, f, err);
}

int api_functions_delete(struct api *a, struct evhttp_request *req, const char *idstr,
			 struct hearth_error **err)
{
	int64_t id;
	int r;

	if ((r = registry_resolve(a->registry, idstr, &id, err)) < 0 ||
	    (r = registry_delete(a->registry, id, err)) < 0)
		return r;
	http_finish(req, 204, NULL);
	return 0;
}

int api_functions_get(struct api *a, struct evhttp_request *req, const char *idstr,
		      struct hearth_error **err)
{
	_cleanup_fn_ struct fn *f = NULL;
	_cleanup_json_ json_object *o = NULL;
	int64_t id;
	int r;

	if ((r = registry_resolve(a->registry, idstr, &id, err)) < 0 ||
	    (r = registry_get(a->registry, id, &f, err)) < 0)
		return r;
	o = fn_to_json(f);
	if (!o)
		return hearth_error_make(err, ENOMEM, "out of memory");
	if (query_flag(req, "code")) { /* adds the handler's source file */
		_cleanup_buf_ struct buf src = BUF_INIT(FN_CODE_MAX_BYTES);
		_cleanup_error_ struct hearth_error *e = NULL;
		char file[FN_FILE_MAX];
		json_object *code = NULL;

		/* A function without a readable source (a zip) answers code null. */
		if (registry_read_source(a->registry, f, &src, file, &e) == 0) {
			code = json_object_new_string_len(src.ptr, (int)src.len);
			json_object_object_add(o, "code_file", json_object_new_string(file));
		} else if (e->status != ENOENT) {
			log_warn("function %" PRId64 ": %s", f->id, e->msg);
		}
		json_object_object_add(o, "code", code);
	}
	http_reply_json(req, 200, o);
	return 0;
}

int api_test_events_get(struct api *a, struct evhttp_request *req, const char *idstr,
			struct hearth_error **err)
{
	_cleanup_free_ char *json = NULL;
	int64_t id;
	int r;

	if ((r = registry_resolve(a->registry, idstr, &id, err)) < 0 ||
	    (r = registry_test_events_get(a->registry, id, &json, err)) < 0)
		return r;
	http_reply_bytes(req, 200, "application/json", json, strlen(json));
	return 0;
}

int api_test_events_put(struct api *a, struct evhttp_request *req, const char *idstr,
			struct hearth_error **err)
{
	_cleanup_free_ char *json = NULL;
	const char *data;
	size_t len;
	int64_t id;
	int r;

	if ((r = registry_resolve(a->registry, idstr, &id, err)) < 0 ||
	    (r = http_body(req, HTTP_BODY_MAX, &data, &len, err)) < 0 ||
	    (r = registry_test_events_put(a->registry, id, data, len, &json, err)) < 0)
		return r;
	http_reply_bytes(req, 200, "application/json", json, strlen(json));
	return 0;
}
