/* async.c — asynchronous calls over HTTP, beyond queueing them (execute.c
 * does that with ?async=1): GET /invocations/{id} of an async call (the
 * call and each attempt), GET /functions/{id}/dead-letters, and their
 * redrive, one (POST .../dead-letters/{call}/redrive) or all (POST
 * .../dead-letters/redrive).  What a call is and does is asyncq.h's and
 * store.h's; see routes.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/keyvalq_struct.h>

#include "asyncq.h"
#include "http.h"
#include "jsontext.h"
#include "pool.h"
#include "registry.h"
#include "routes.h"
#include "store.h"
#include "util.h"

#define DEAD_LETTERS_PAGE_DEFAULT 50

static json_object *json_time(int64_t ms)
{
	char ts[32];

	if (ms <= 0)
		return NULL;
	util_iso8601(ms, ts);
	return json_object_new_string(ts);
}

/* JSON text as stored (NULL stays null). */
static json_object *json_text(const char *text)
{
	return text ? jsontext_tree(text) : NULL;
}

static bool is_queued(const struct store_async_call *c)
{
	return strcmp(c->status, "queued") == 0;
}

static bool is_finished(const struct store_async_call *c)
{
	return !is_queued(c) && strcmp(c->status, "running") != 0;
}

/* The fields a call shows everywhere (dead letters leave out the payload
 * and the attempts themselves). */
static json_object *call_json(const struct store_async_call *c)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "id", json_object_new_string(c->id));
	json_object_object_add(o, "function_id", json_object_new_int64(c->function_id));
	json_object_object_add(o, "async", json_object_new_boolean(1));
	json_object_object_add(o, "status", json_object_new_string(c->status));
	json_object_object_add(o, "created_at", json_time(c->created_at));
	json_object_object_add(o, "next_attempt_at", is_queued(c) ? json_time(c->next_at) : NULL);
	json_object_object_add(o, "expires_at", is_finished(c) ? NULL : json_time(c->expires_at));
	json_object_object_add(o, "finished_at", is_finished(c) ? json_time(c->finished_at) : NULL);
	json_object_object_add(o, "reason", c->reason ? json_object_new_string(c->reason) : NULL);
	json_object_object_add(o, "last_error", json_text(c->last_error));
	json_object_object_add(o, "redrives", json_object_new_int(c->redrives));
	return o;
}

static json_object *attempt_json(const struct store_async_attempt *t)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "n", json_object_new_int(t->n));
	json_object_object_add(o, "id", json_object_new_string(t->request_id));
	json_object_object_add(o, "status", json_object_new_string(t->status));
	json_object_object_add(o, "start",
			       t->start_kind ? json_object_new_string(t->start_kind) : NULL);
	json_object_object_add(o, "at", json_time(t->at));
	json_object_object_add(o, "duration_ms", api_json_ms(t->duration_ms));
	json_object_object_add(o, "init_ms", api_json_ms(t->init_ms));
	json_object_object_add(o, "queue_ms", api_json_ms(t->queue_ms));
	json_object_object_add(o, "max_memory_mb", json_object_new_int64(t->max_memory_mb));
	json_object_object_add(o, "error", json_text(t->error_json));
	json_object_object_add(o, "logs", json_object_new_string(t->logs ? t->logs : ""));
	json_object_object_add(o, "result", json_text(t->result));
	return o;
}

int api_async_call_get(struct api *a, struct evhttp_request *req, const char *id,
		       struct hearth_error **err)
{
	_cleanup_json_ json_object *o = NULL;
	struct store_async_call c = { 0 };
	struct store_async_attempt *att = NULL;
	json_object *arr;
	size_t n = 0;
	int r;

	if ((r = store_async_call_get(a->store, id, &c, &att, &n, err)) < 0)
		return r;
	o = call_json(&c);
	arr = json_object_new_array();
	if (o && arr) {
		json_object_object_add(o, "payload", json_text(c.payload));
		json_object_object_add(o, "attempts", arr);
		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, attempt_json(&att[i]));
	} else {
		json_object_put(arr);
	}
	store_async_call_clear(&c);
	store_async_attempts_free(att, n);
	if (!o)
		return hearth_error_make(err, ENOMEM, "out of memory");
	http_reply_json(req, 200, o);
	return 0;
}

int api_dead_letters_list(struct api *a, struct evhttp_request *req, const char *idstr,
			  struct hearth_error **err)
{
	_cleanup_json_ json_object *o = NULL;
	struct store_async_call *calls = NULL, cursor = { 0 };
	struct store_async_attempt *att = NULL;
	char limit_s[32], before_s[STORE_ASYNC_ID_MAX];
	int64_t id, limit = DEAD_LETTERS_PAGE_DEFAULT;
	const char *before;
	json_object *arr;
	size_t n = 0, na = 0;
	int r;

	if ((r = registry_resolve(a->registry, idstr, &id, err)) < 0)
		return r;
	if (!pool_knows(a->pool, id))
		return hearth_error_make(err, ENOENT, "no function %s", idstr);
	if (http_query_arg(req, "limit", limit_s, sizeof(limit_s)) &&
	    util_parse_i64(limit_s, 1, STORE_INVOCATIONS_LIST_MAX, &limit, NULL) < 0)
		return hearth_error_make(err, EINVAL, "limit: must be an integer in 1..%d",
					 STORE_INVOCATIONS_LIST_MAX);
	before = http_query_arg(req, "before", before_s, sizeof(before_s));
	if (before) {
		r = store_async_call_get(a->store, before, &cursor, &att, &na, err);
		store_async_attempts_free(att, na);
		if (r == -ENOENT || (r == 0 && cursor.function_id != id)) {
			store_async_call_clear(&cursor);
			hearth_error_clear(err);
			return hearth_error_make(err, EINVAL, "before: no dead letter '%s'",
						 before);
		}
		if (r < 0)
			return r;
	}
	r = store_async_dead_letters(a->store, id, before ? &cursor : NULL, (size_t)limit, &calls,
				     &n, err);
	store_async_call_clear(&cursor);
	if (r < 0)
		return r;
	o = json_object_new_object();
	arr = json_object_new_array();
	for (size_t i = 0; o && arr && i < n; i++) {
		json_object *one = call_json(&calls[i]);

		if (one)
			json_object_object_add(one, "attempts",
					       json_object_new_int(calls[i].attempts));
		json_object_array_add(arr, one);
	}
	json_object_object_add(o, "dead_letters", arr);
	json_object_object_add(o, "next",
			       n == (size_t)limit ? json_object_new_string(calls[n - 1].id) : NULL);
	store_async_calls_free(calls, n);
	http_reply_json(req, 200, o);
	return 0;
}

int api_dead_letter_redrive(struct api *a, struct evhttp_request *req, const char *arg,
			    struct hearth_error **err)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	const char *slash = strchr(arg, '/');
	char ref[256], loc[STORE_ASYNC_ID_MAX + 16];
	int64_t id;
	int r;

	if (!slash || !o)
		return hearth_error_make(err, slash ? ENOMEM : ENOENT, "no such dead letter");
	snprintf(ref, sizeof(ref), "%.*s", (int)(slash - arg), arg);
	if ((r = registry_resolve(a->registry, ref, &id, err)) < 0)
		return r;
	if ((r = asyncq_redrive(a->asyncq, id, slash + 1, err)) < 0) {
		if (r == -EAGAIN)
			evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
					  "1");
		return r;
	}
	snprintf(loc, sizeof(loc), "/invocations/%s", slash + 1);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
	json_object_object_add(o, "id", json_object_new_string(slash + 1));
	json_object_object_add(o, "function_id", json_object_new_int64(id));
	json_object_object_add(o, "status", json_object_new_string("queued"));
	http_reply_json(req, 202, o);
	return 0;
}

int api_dead_letters_redrive_all(struct api *a, struct evhttp_request *req, const char *idstr,
				 struct hearth_error **err)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	int64_t id, n;
	int r;

	if (!o)
		return hearth_error_make(err, ENOMEM, "out of memory");
	if ((r = registry_resolve(a->registry, idstr, &id, err)) < 0)
		return r;
	if ((n = asyncq_redrive_all(a->asyncq, id, err)) < 0)
		return (int)n;
	json_object_object_add(o, "function_id", json_object_new_int64(id));
	json_object_object_add(o, "redriven", json_object_new_int64(n));
	http_reply_json(req, 202, o);
	return 0;
}
