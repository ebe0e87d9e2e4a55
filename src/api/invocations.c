/* invocations.c — GET /functions/{id}/invocations (a page of records,
 * newest first) and GET /invocations/{id} (one, with logs and result).
 * Records are written in batches off the hot path: a read writes the
 * pending batch first, so it sees every call that was answered (see
 * routes.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "function.h"
#include "http.h"
#include "jsontext.h"
#include "records.h"
#include "registry.h"
#include "routes.h"
#include "store.h"
#include "util.h"

#define INVOCATIONS_PAGE_DEFAULT 50

json_object *api_json_ms(double v)
{
	char s[32];

	snprintf(s, sizeof(s), "%.3f", v);
	return json_object_new_double_s(v, s);
}

static json_object *record_json(const struct store_invocation *r, bool full)
{
	json_object *o = json_object_new_object();
	char ts[32];

	if (!o)
		return NULL;
	util_iso8601(r->created_at, ts);
	json_object_object_add(o, "id", json_object_new_string(r->id ? r->id : ""));
	json_object_object_add(o, "function_id", json_object_new_int64(r->function_id));
	json_object_object_add(o, "revision", json_object_new_int64(r->revision));
	json_object_object_add(o, "status", json_object_new_string(r->status ? r->status : ""));
	json_object_object_add(o, "start",
			       json_object_new_string(r->start_kind ? r->start_kind : ""));
	json_object_object_add(o, "created_at", json_object_new_string(ts));
	json_object_object_add(o, "duration_ms", api_json_ms(r->duration_ms));
	json_object_object_add(o, "init_ms", api_json_ms(r->init_ms));
	json_object_object_add(o, "queue_ms", api_json_ms(r->queue_ms));
	json_object_object_add(o, "max_memory_mb", json_object_new_int64(r->max_memory_mb));
	json_object_object_add(o, "error", r->error_json ? jsontext_tree(r->error_json) : NULL);
	if (full) {
		char *logs = records_logs(r);

		if (!logs) {
			json_object_put(o);
			return NULL;
		}
		json_object_object_add(o, "logs", json_object_new_string(logs));
		free(logs);
		json_object_object_add(o, "result", r->result ? jsontext_tree(r->result) : NULL);
		json_object_object_add(o, "payload", r->payload ? jsontext_tree(r->payload) : NULL);
	}
	return o;
}

int api_invocations_list(struct api *a, struct evhttp_request *req, const char *idstr,
			 struct hearth_error **err)
{
	_cleanup_fn_ struct fn *f = NULL;
	_cleanup_json_ json_object *o = NULL;
	struct store_invocation *recs = NULL;
	int64_t id, limit = INVOCATIONS_PAGE_DEFAULT;
	char limit_s[32], before_s[INVOKE_REQUEST_ID_MAX + 1];
	const char *before;
	json_object *arr;
	size_t n = 0;
	bool more;
	int r;

	if ((r = registry_resolve(a->registry, idstr, &id, err)) < 0 ||
	    (r = registry_get(a->registry, id, &f, err)) < 0)
		return r;
	if (http_query_arg(req, "limit", limit_s, sizeof(limit_s)) &&
	    util_parse_i64(limit_s, 1, STORE_INVOCATIONS_LIST_MAX, &limit, NULL) < 0)
		return hearth_error_make(err, EINVAL, "limit: must be an integer in 1..%d",
					 STORE_INVOCATIONS_LIST_MAX);
	before = http_query_arg(req, "before", before_s, sizeof(before_s));
	r = records_list(a->records, a->store, f->id, before, (size_t)limit, &recs, &n, &more, err);
	if (r == -ENOENT) {
		hearth_error_clear(err);
		return hearth_error_make(err, EINVAL, "before: no invocation '%s'", before);
	}
	if (r < 0)
		return r;
	o = json_object_new_object();
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, record_json(&recs[i], false));
	json_object_object_add(o, "invocations", arr);
	json_object_object_add(o, "next",
			       more && n > 0 ? json_object_new_string(recs[n - 1].id) : NULL);
	store_invocations_free(recs, n);
	http_reply_json(req, 200, o);
	return 0;
}

int api_invocation_get(struct api *a, struct evhttp_request *req, const char *id,
		       struct hearth_error **err)
{
	_cleanup_json_ json_object *o = NULL;
	_cleanup_fn_ struct fn *f = NULL;
	struct store_invocation rec = { 0 };
	int r;

	/* An async call's id, or else one call's (an attempt's too). */
	if ((r = api_async_call_get(a, req, id, err)) != -ENOENT)
		return r;
	hearth_error_clear(err);
	if ((r = records_get(a->records, a->store, id, &rec, err)) < 0)
		return r;
	/* A deleted function's records stay until they age out, unseen. */
	if ((r = registry_get(a->registry, rec.function_id, &f, err)) < 0) {
		store_invocation_clear(&rec);
		if (r == -ENOENT) {
			hearth_error_clear(err);
			r = hearth_error_make(err, ENOENT, "no invocation '%s'", id);
		}
		return r;
	}
	o = record_json(&rec, true);
	store_invocation_clear(&rec);
	http_reply_json(req, 200, o);
	return 0;
}
