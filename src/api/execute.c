/* execute.c — POST /functions/{id}/execute and POST /functions/execute (a
 * batch): the request's payload goes to the invoker, and the reply waits
 * until the call ends.  What stays here is HTTP's part: the deferred
 * reply, the envelope as the body, and noticing a client that leaves (see
 * routes.h).  With ?async=1 the calls go to the async queue instead, and
 * the reply (202) comes once they are committed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "asyncq.h"
#include "bounds.h"
#include "buf.h"
#include "conns.h"
#include "envelope.h"
#include "function.h"
#include "http.h"
#include "invoke.h"
#include "jsontext.h"
#include "log.h"
#include "pool.h"
#include "registry.h"
#include "routes.h"

/* A call still running after this long gets its client's socket watched,
 * so a client that leaves is noticed; warm calls end sooner and pay no
 * system call for it. */
#define EXECUTE_WATCH_AFTER_MS 50

/* A failure as the client sees it: an image that is missing is the
 * service being unavailable, like the engine being down. */
static int client_status(int status)
{
	return status == ENXIO ? EHOSTDOWN : status;
}

/* Whether the raw query holds "async" with no value ("?async",
 * "?x=1&async"), which evhttp's query parser would not read at all. */
static bool async_bare(struct evhttp_request *req)
{
	const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));

	while (q && *q) {
		size_t n = strcspn(q, "&");

		if (n == 5 && strncmp(q, "async", 5) == 0)
			return true;
		q += n;
		if (*q == '&')
			q++;
	}
	return false;
}

/* ?async=1 (or true, yes, or a bare ?async): queue the calls instead of
 * running them now; 0, false or no run them now. */
static int async_requested(struct evhttp_request *req, bool *async, struct hearth_error **err)
{
	char v[16];

	*async = false;
	if (!http_query_arg(req, "async", v, sizeof(v))) {
		*async = async_bare(req);
		return 0;
	}
	if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || !*v)
		*async = true;
	else if (strcmp(v, "0") != 0 && strcmp(v, "false") != 0 && strcmp(v, "no") != 0)
		return hearth_error_make(err, EINVAL,
					 "async: must be 1 or 0 (true or false, yes or no)");
	return 0;
}

/* What a queued call answers: {"id","function_id","status":"queued"}. */
static json_object *queued_json(const char *id, int64_t function_id)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "function_id", json_object_new_int64(function_id));
	json_object_object_add(o, "status", json_object_new_string("queued"));
	return o;
}

static int execute_async(struct api *a, struct evhttp_request *req, int64_t id, const char *data,
			 size_t len, struct hearth_error **err)
{
	_cleanup_json_ json_object *o = NULL;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char cid[INVOKE_ID_LEN], loc[INVOKE_ID_LEN + 16];
	int r;

	if ((r = asyncq_submit(a->asyncq, id, data, len, cid, err)) < 0) {
		if (r == -EAGAIN)
			evhttp_add_header(h, "Retry-After", "1");
		return r;
	}
	if (!(o = queued_json(cid, id)))
		return hearth_error_make(err, ENOMEM, "out of memory");
	snprintf(loc, sizeof(loc), "/invocations/%s", cid);
	evhttp_add_header(h, "X-Hearth-Invocation-Id", cid);
	evhttp_add_header(h, "Location", loc);
	http_reply_json(req, 202, o);
	return 0;
}

/* ---- one call -------------------------------------------------------------------- */

struct single {
	struct evhttp_request *req;
	struct conns *conns;
	struct invoke_call *call;
	struct http_watch *watch;
};

/* The client left: its call is abandoned (a waiting one leaves its queue,
 * a running one finishes and is recorded), and nothing more is sent. */
static void single_client_left(void *arg)
{
	struct single *s = arg;

	log_info("http: client left before call %s was answered", invoke_call_id(s->call));
	invoke_abandon(s->call);
	free(s);
}

static void on_single_done(void *arg, const struct pool_result *res,
			   const struct hearth_error *perr)
{
	struct single *s = arg;
	_cleanup_buf_ struct buf b = BUF_INIT(INVOKE_PAYLOAD_MAX + INVOKE_ENVELOPE_EXTRA);
	_cleanup_error_ struct hearth_error *err = NULL;
	struct evkeyvalq *h = evhttp_request_get_output_headers(s->req);
	/* Taken before the reply: a request whose client left is freed by it. */
	struct evhttp_connection *evcon = evhttp_request_get_connection(s->req);
	struct conns *conns = s->conns;

	http_watch_stop(s->watch);
	if (!res) {
		if (perr->status == EAGAIN)
			evhttp_add_header(h, "Retry-After", "1");
		http_reply_error_status(s->req, client_status(perr->status), perr->msg);
	} else {
		int code = res->status == INVOCATION_TIMEOUT ? 504 : 200;
		/* A large result goes out from the block it was gathered in,
		 * between the envelope's two halves: no copy of it here. */
		void *block = res->status == INVOCATION_SUCCESS && res->result.len
				      ? pool_result_take(res)
				      : NULL;
		_cleanup_buf_ struct buf tail = BUF_INIT(INVOKE_ENVELOPE_EXTRA);

		if (block ? envelope_write_around(&b, &tail, res, &err) < 0
			  : envelope_write(&b, res, &err) < 0) {
			free(block);
			http_reply_error(s->req, err);
		} else {
			if (res->status != INVOCATION_SUCCESS)
				evhttp_add_header(h, "X-Amz-Function-Error", "Unhandled");
			evhttp_add_header(h, "X-Hearth-Invocation-Id", res->request_id);
			if (block)
				http_reply_block(s->req, code, "application/json", &b, block,
						 res->result.ptr, res->result.len, &tail);
			else
				http_reply_buf(s->req, code, "application/json", &b);
		}
	}
	free(s);
	/* From the pool, not from evhttp: the reply can go now (conns.h). */
	if (evcon)
		conns_send_now(conns, evcon);
}

/* The hot path: the function is looked up in the pool's memory, never in
 * SQLite, and the payload goes on as it came (checked to be JSON). */
int api_execute(struct api *a, struct evhttp_request *req, const char *idstr,
		struct hearth_error **err)
{
	struct single *s;
	const char *data;
	size_t len;
	int64_t id;
	bool async;
	int r;

	if ((r = async_requested(req, &async, err)) < 0 ||
	    (r = registry_resolve(a->registry, idstr, &id, err)) < 0)
		return r;
	if (!pool_knows(a->pool, id))
		return hearth_error_make(err, ENOENT, "no function %s", idstr);
	if ((r = http_body(req, INVOKE_PAYLOAD_MAX, &data, &len, err)) < 0)
		return r;
	if (jsontext_blank(data, len)) {
		data = "{}"; /* no payload: an empty event, as Lambda does */
		len = 2;
	} else if (!jsontext_is_value(data, len)) {
		/* the error path: the parser again, for where it broke */
		r = jsontext_parse(data, len, 0, "the payload", NULL, err);
		return r < 0 ? r : hearth_error_make(err, EBADMSG, "the payload is not valid JSON");
	}
	if (async)
		return execute_async(a, req, id, data, len, err);
	s = calloc(1, sizeof(*s));
	if (!s)
		return hearth_error_make(err, ENOMEM, "out of memory");
	s->req = req;
	s->conns = a->conns;
	if ((r = invoke_start(a->invoker, id, data, len, on_single_done, s, &s->call, err)) < 0) {
		free(s);
		return r;
	}
	/* Not answered yet (failures are answered from the loop, never here):
	 * watch for the client leaving meanwhile. */
	s->watch = http_watch_new(req, a->conns, a->base, EXECUTE_WATCH_AFTER_MS,
				  single_client_left, s);
	return 0;
}

/* ---- a batch ------------------------------------------------------------------------ */

struct batch;

struct item {
	struct batch *b;
	size_t index;
	struct invoke_call *call; /* NULL once answered */
	char *payload;		  /* the item's JSON text */
	char *answer;		  /* its part of the reply */
};

struct batch {
	struct evhttp_request *req;
	struct conns *conns;
	size_t n, left;
	struct item *items;
};

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->items[i].payload);
		free(b->items[i].answer);
	}
	free(b->items);
	free(b);
}

static void batch_reply(struct batch *b)
{
	_cleanup_buf_ struct buf out = BUF_INIT((size_t)INVOKE_BATCH_MAX *
						(INVOKE_PAYLOAD_MAX + INVOKE_ENVELOPE_EXTRA));
	_cleanup_error_ struct hearth_error *err = NULL;
	struct evhttp_connection *conn = evhttp_request_get_connection(b->req);
	int r = buf_puts(&out, "{\"results\":[", &err);

	for (size_t i = 0; r == 0 && i < b->n; i++) {
		if (i && (r = buf_puts(&out, ",", &err)) < 0)
			break;
		r = buf_puts(&out, b->items[i].answer ? b->items[i].answer : "null", &err);
	}
	if (r == 0)
		r = buf_puts(&out, "]}", &err);
	if (conn)
		conns_set_closecb(b->conns, conn, NULL, NULL);
	if (r < 0)
		http_reply_error(b->req, err);
	else
		http_reply_bytes(b->req, 200, "application/json", out.ptr, out.len);
	batch_free(b);
}

/* One item's answer when it could not run: {"error":{code,status,message}}. */
static char *item_error(int status, const char *msg)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64 * 1024);

	if (buf_printf(&b, NULL, "{\"error\":{\"code\":\"%s\",\"status\":%d,\"message\":",
		       http_code_of(status), http_status_of(status)) < 0 ||
	    jsontext_append_string(&b, msg, strlen(msg), NULL) < 0 || buf_puts(&b, "}}", NULL) < 0)
		return NULL;
	return buf_detach(&b, NULL);
}

static void item_answered(struct item *it, char *answer)
{
	struct batch *b = it->b;

	it->call = NULL;
	it->answer = answer;
	if (--b->left == 0)
		batch_reply(b);
}

static void on_item_done(void *arg, const struct pool_result *res, const struct hearth_error *perr)
{
	struct item *it = arg;
	_cleanup_buf_ struct buf out = BUF_INIT(INVOKE_PAYLOAD_MAX + INVOKE_ENVELOPE_EXTRA);
	_cleanup_error_ struct hearth_error *err = NULL;

	if (!res)
		item_answered(it, item_error(client_status(perr->status), perr->msg));
	else if (envelope_write(&out, res, &err) < 0)
		item_answered(it, item_error(err->status, err->msg));
	else
		item_answered(it, buf_detach(&out, NULL));
}

/* Nobody is left to answer: every call still going is abandoned (a
 * running one still ends in its container and is recorded). */
static void on_batch_conn_close(struct evhttp_connection *conn, void *arg)
{
	struct batch *b = arg;

	log_info("http: client left before its batch was answered");
	http_forget(b->req);
	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].call)
			invoke_abandon(b->items[i].call);
	batch_free(b);
}

/* Checks item i of a batch: its function's id and its payload as JSON
 * text (*payload, malloc'd); a negative status (with err) becomes that
 * item's answer. */
static int item_parse(struct api *a, size_t index, json_object *o, int64_t *idp, char **text_out,
		      struct hearth_error **err)
{
	json_object *fid, *payload = NULL;
	const char *text;
	int64_t id;

	*text_out = NULL;
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "function_id", &fid))
		return hearth_error_make(err, EINVAL, "invocations[%zu]: needs a function_id",
					 index);
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (strcmp(key, "function_id") != 0 && strcmp(key, "payload") != 0)
			return hearth_error_make(err, EINVAL,
						 "invocations[%zu]: unknown field '%s'", index,
						 key);
	}
	/* An id, or a name or an ARN as a string. */
	if (json_object_is_type(fid, json_type_string)) {
		if (registry_resolve(a->registry, json_object_get_string(fid), &id, err) < 0)
			return hearth_error_wrap(err, "invocations[%zu].function_id", index);
	} else if (!json_object_is_type(fid, json_type_int) ||
		   (id = json_object_get_int64(fid)) <= 0) {
		return hearth_error_make(err, EINVAL,
					 "invocations[%zu].function_id: a positive integer, or a "
					 "function's name",
					 index);
	}
	json_object_object_get_ex(o, "payload", &payload);
	text = payload ? json_object_to_json_string_ext(payload,
							JSON_C_TO_STRING_PLAIN |
								JSON_C_TO_STRING_NOSLASHESCAPE)
		       : "{}";
	*text_out = strdup(text);
	if (!*text_out)
		return hearth_error_make(err, ENOMEM, "invocations[%zu]: out of memory", index);
	*idp = id;
	return 0;
}

/* Checks and starts item i; a negative status (with err) when it cannot
 * run, which becomes that item's answer. */
static int item_start(struct api *a, struct item *it, json_object *o, struct hearth_error **err)
{
	int64_t id;
	int r;

	if ((r = item_parse(a, it->index, o, &id, &it->payload, err)) < 0)
		return r;
	if (invoke_start(a->invoker, id, it->payload, strlen(it->payload), on_item_done, it,
			 &it->call, err) < 0)
		return hearth_error_wrap(err, "invocations[%zu]", it->index);
	return 0;
}

/* One item's answer when it was refused, as a batch writes it. */
static json_object *item_error_json(const struct hearth_error *e)
{
	json_object *o = json_object_new_object(), *eo = json_object_new_object();

	if (!o || !eo) {
		json_object_put(o);
		json_object_put(eo);
		return NULL;
	}
	json_object_object_add(eo, "code", json_object_new_string(http_code_of(e->status)));
	json_object_object_add(eo, "status", json_object_new_int(http_status_of(e->status)));
	json_object_object_add(eo, "message", json_object_new_string(e->msg));
	json_object_object_add(o, "error", eo);
	return o;
}

/* The batch with ?async=1: every item that checks out is queued in one
 * transaction, and the reply (202) says, in order, each one's id or why
 * it was refused. */
static int execute_batch_async(struct api *a, struct evhttp_request *req, json_object *list,
			       size_t n, struct hearth_error **err)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *results = json_object_new_array();
	struct asyncq_item *items = calloc(n, sizeof(*items));
	struct hearth_error **errs = calloc(n, sizeof(*errs));
	char **texts = calloc(n, sizeof(*texts));
	size_t *at = calloc(n, sizeof(*at)); /* items[k] is the batch's item at[k] */
	size_t k = 0;
	int r = 0;

	if (!o || !results || !items || !errs || !texts || !at) {
		json_object_put(results);
		r = hearth_error_make(err, ENOMEM, "out of memory");
		goto out;
	}
	json_object_object_add(o, "results", results);
	for (size_t i = 0; i < n; i++) {
		int64_t fid;

		if (item_parse(a, i, json_object_array_get_idx(list, i), &fid, &texts[i],
			       &errs[i]) < 0)
			continue;
		items[k] = (struct asyncq_item){ .function_id = fid,
						 .payload = texts[i],
						 .len = strlen(texts[i]) };
		at[k++] = i;
	}
	if ((r = asyncq_submit_many(a->asyncq, items, k, err)) < 0)
		goto out;
	for (size_t j = 0; j < k; j++) {
		errs[at[j]] = items[j].err;
		items[j].err = NULL;
	}
	for (size_t i = 0, j = 0; i < n; i++) {
		const struct asyncq_item *it = j < k && at[j] == i ? &items[j++] : NULL;
		json_object *one;

		if (errs[i])
			one = item_error_json(errs[i]);
		else
			one = queued_json(it->id, it->function_id);
		if (!one || json_object_array_add(results, one) < 0) {
			json_object_put(one);
			r = hearth_error_make(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	http_reply_json(req, 202, o);
out:
	for (size_t i = 0; i < n; i++) {
		if (errs)
			hearth_error_free(errs[i]);
		if (texts)
			free(texts[i]);
		if (items && i < k)
			hearth_error_free(items[i].err);
	}
	free(items);
	free(errs);
	free(texts);
	free(at);
	return r;
}

int api_execute_batch(struct api *a, struct evhttp_request *req, const char *arg,
		      struct hearth_error **err)
{
	_cleanup_json_ json_object *body = NULL;
	json_object *list = NULL;
	struct batch *b;
	bool async;
	size_t n;
	int r;

	if ((r = async_requested(req, &async, err)) < 0 ||
	    (r = http_body_json(req, HTTP_BODY_MAX, JSONTEXT_NOT_NULL, &body, err)) < 0)
		return r;
	if (!json_object_is_type(body, json_type_object) ||
	    !json_object_object_get_ex(body, "invocations", &list) ||
	    !json_object_is_type(list, json_type_array))
		return hearth_error_make(err, EINVAL,
					 "the body must be {\"invocations\":[{\"function_id\":N,"
					 "\"payload\":{...}},...]}");
	json_object_object_foreach(body, key, val) {
		(void)val;
		if (strcmp(key, "invocations") != 0)
			return hearth_error_make(err, EINVAL, "unknown field '%s'", key);
	}
	n = json_object_array_length(list);
	if (n == 0)
		return hearth_error_make(err, EINVAL, "invocations: must hold at least one call");
	if (n > INVOKE_BATCH_MAX)
		return hearth_error_make(err, EINVAL, "invocations: %zu calls, at most %d at once",
					 n, INVOKE_BATCH_MAX);
	if (async)
		return execute_batch_async(a, req, list, n, err);
	b = calloc(1, sizeof(*b));
	if (!b || !(b->items = calloc(n, sizeof(*b->items)))) {
		free(b);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	b->req = req;
	b->conns = a->conns;
	b->n = n;
	/* `left` counts down as items answer; one more for this loop, so no
	 * item's answer replies while it still runs. */
	b->left = n + 1;
	for (size_t i = 0; i < n; i++) {
		_cleanup_error_ struct hearth_error *ierr = NULL;
		struct item *it = &b->items[i];

		it->b = b;
		it->index = i;
		if (item_start(a, it, json_object_array_get_idx(list, i), &ierr) < 0)
			item_answered(it, item_error(ierr->status, ierr->msg));
	}
	conns_set_closecb(a->conns, evhttp_request_get_connection(req), on_batch_conn_close, b);
	if (--b->left == 0)
		batch_reply(b);
	return 0;
}
