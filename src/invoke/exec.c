/* exec.c — see exec.h.
 *
 * The envelope of a call is written straight into the reply buffer: the
 * handler's result goes in as the runtime wrote it (checked to be JSON,
 * never re-encoded), logs and error texts are escaped as JSON strings. */
#include "exec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>

#include "buf.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "records.h"
#include "store.h"
#include "util.h"

#define EXEC_LIST_DEFAULT 50
/* A call still running after this long gets its client's socket watched,
 * so a client that leaves is noticed; warm calls end sooner and pay no
 * system call for it. */
#define EXEC_WATCH_AFTER_MS 50

struct exec {
	struct event_base *base;
	struct pool *pool;
	struct store *store;
	struct records *records;
	struct metrics *metrics;
	uint64_t id_prefix;
	uint64_t id_counter;
};

struct batch;

/* One call in flight: a single execute, or one item of a batch. */
struct call_ctx {
	struct exec *x;
	struct evhttp_request *req;	/* NULL once the client went away */
	struct pool_call *call;
	struct batch *batch;		/* NULL for a single execute */
	size_t index;
	char request_id[40];
	int64_t function_id;
	int64_t t0_ns, created_ms;
	char *payload;			/* batch items own their payload text */
	struct event *watch;		/* a timer, then the client's socket */
};

struct batch {
	struct exec *x;
	struct evhttp_request *req;
	size_t n, left;
	char **parts;			/* each item's JSON text */
	struct call_ctx *items;
};

int exec_new(struct exec **out, const struct exec_deps *deps, struct hearth_error **err)
{
	struct exec *x = calloc(1, sizeof(*x));

	if (!x)
		return hearth_error_make(err, ENOMEM, "out of memory");
	x->base = deps->base;
	x->pool = deps->pool;
	x->store = deps->store;
	x->records = deps->records;
	x->metrics = deps->metrics;
	if (getrandom(&x->id_prefix, sizeof(x->id_prefix), 0) != sizeof(x->id_prefix))
		x->id_prefix = (uint64_t)util_now_ms() ^ ((uint64_t)getpid() << 32);
	*out = x;
	return 0;
}

void exec_free(struct exec *x)
{
	free(x);
}

/* A UUID-shaped id: 64 random bits per daemon run plus a counter, so it is
 * unique without a syscall per call. */
static void new_request_id(struct exec *x, char dst[40])
{
	uint64_t c = ++x->id_counter;

	snprintf(dst, 40, "%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-a%03" PRIx64 "-%012" PRIx64,
		 x->id_prefix >> 32, (x->id_prefix >> 16) & 0xffff, x->id_prefix & 0xfff,
		 (c >> 48) & 0xfff, c & (uint64_t)0xffffffffffff);
}

/* ---- JSON text ------------------------------------------------------------ */

/* Appends s as a JSON string literal; invalid UTF-8 becomes U+FFFD so the
 * envelope stays valid JSON whatever a handler printed. */
static int json_str(struct buf *b, const char *s, size_t len, struct hearth_error **err)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	int r = buf_append(b, "\"", 1, err);

	while (r == 0 && p < end) {
		const unsigned char *run = p;

		while (p < end && *p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80)
			p++;
		if (p > run && (r = buf_append(b, run, (size_t)(p - run), err)) < 0)
			break;
		if (p == end)
			break;
		if (*p < 0x80) {
			char esc[7] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15], 0 };

			if (*p == '"' || *p == '\\') {
				esc[1] = (char)*p;
				r = buf_append(b, esc, 2, err);
			} else if (*p == '\n') {
				r = buf_append(b, "\\n", 2, err);
			} else if (*p == '\t') {
				r = buf_append(b, "\\t", 2, err);
			} else if (*p == '\r') {
				r = buf_append(b, "\\r", 2, err);
			} else {
				r = buf_append(b, esc, 6, err);
			}
			p++;
			continue;
		}
		/* A multi-byte sequence: copied when well-formed. */
		size_t n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc2 ? 2 : 0;
		bool okseq = n && *p < 0xf5 && (size_t)(end - p) >= n;

		for (size_t i = 1; okseq && i < n; i++)
			okseq = (p[i] & 0xc0) == 0x80;
		if (okseq && n == 3)
			okseq = !(*p == 0xe0 && p[1] < 0xa0) && !(*p == 0xed && p[1] >= 0xa0);
		if (okseq && n == 4)
			okseq = !(*p == 0xf0 && p[1] < 0x90) && !(*p == 0xf4 && p[1] >= 0x90);
		if (okseq) {
			r = buf_append(b, p, n, err);
			p += n;
		} else {
			r = buf_append(b, "\xef\xbf\xbd", 3, err);
			p++;
		}
	}
	return r < 0 ? r : buf_append(b, "\"", 1, err);
}

static bool is_json(const char *s, size_t len)
{
	struct json_tokener *tok;
	json_object *o;
	bool ok;

	if (len == 0)
		return false;
	tok = json_tokener_new_ex(64);
	if (!tok)
		return false;
	/* (A JSON null parses to a NULL object: the error says what happened.) */
	o = json_tokener_parse_ex(tok, s, (int)len);
	ok = json_tokener_get_error(tok) == json_tokener_success &&
	     (size_t)json_tokener_get_parse_end(tok) == len;
	/* A bare number or literal at the very end of the input is only known
	 * to be whole once something follows it: a space ends it. */
	if (!o && json_tokener_get_error(tok) == json_tokener_continue) {
		o = json_tokener_parse_ex(tok, " ", 1);
		ok = json_tokener_get_error(tok) == json_tokener_success;
	}
	json_object_put(o);
	json_tokener_free(tok);
	return ok;
}

static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
			return false;
	return true;
}

/* The "error" member: {"type","message","stack"} or null. */
static int error_json(struct buf *b, const struct pool_result *res, struct hearth_error **err)
{
	int r = 0;

	if (res->status == INVOCATION_SUCCESS)
		return buf_puts(b, "null", err);
	r |= buf_puts(b, "{\"type\":", err);
	r |= json_str(b, res->error_type.ptr ? res->error_type.ptr : "", res->error_type.len, err);
	r |= buf_puts(b, ",\"message\":", err);
	r |= json_str(b, res->error_message.ptr ? res->error_message.ptr : "",
		      res->error_message.len, err);
	r |= buf_puts(b, ",\"stack\":", err);
	if (res->error_stack.len && res->error_stack.ptr[0] == '[' &&
	    is_json(res->error_stack.ptr, res->error_stack.len))
		r |= buf_append(b, res->error_stack.ptr, res->error_stack.len, err);
	else
		r |= buf_puts(b, "[]", err);
	r |= buf_puts(b, "}", err);
	return r < 0 ? -E2BIG : 0;
}

/* The envelope of DESIGN.md. */
static int envelope(struct buf *b, const struct pool_result *res, const char *result_text,
		    size_t result_len, struct hearth_error **err)
{
	int r = 0;

	r |= buf_printf(b, err, "{\"id\":\"%s\",\"function_id\":%" PRId64 ",\"revision\":%" PRId64
			",\"status\":\"%s\",\"result\":",
			res->request_id, res->function_id, res->revision,
			invocation_status_name(res->status));
	if (result_text)
		r |= buf_append(b, result_text, result_len, err);
	else
		r |= buf_puts(b, "null", err);
	r |= buf_puts(b, ",\"error\":", err);
	r |= error_json(b, res, err);
	r |= buf_puts(b, ",\"logs\":", err);
	r |= json_str(b, res->logs.ptr ? res->logs.ptr : "", res->logs.len, err);
	r |= buf_printf(b, err,
			",\"start\":\"%s\",\"duration_ms\":%.3f,\"init_ms\":%.3f,\"queue_ms\":%.3f,"
			"\"max_memory_mb\":%.1f}",
			pool_start_name(res->start), res->duration_ms, res->init_ms, res->queue_ms,
			res->max_memory_mb);
	return r < 0 ? -E2BIG : 0;
}

/* A successful call whose result is not JSON (a runtime that misbehaved)
 * is reported as an error instead of breaking the envelope. */
static void checked_result(struct pool_result *res, const char **text, size_t *len)
{
	static const char bad_type[] = "Runtime.InvalidResult";
	static const char bad_msg[] = "the runtime returned a result that is not JSON";

	*text = NULL;
	*len = 0;
	if (res->status != INVOCATION_SUCCESS)
		return;
	if (res->result.len && is_json(res->result.ptr, res->result.len)) {
		*text = res->result.ptr;
		*len = res->result.len;
		return;
	}
	if (res->result.len == 0) {
		*text = "null";
		*len = 4;
		return;
	}
	res->status = INVOCATION_ERROR;
	res->error_type = (struct bytes){ bad_type, sizeof(bad_type) - 1 };
	res->error_message = (struct bytes){ bad_msg, sizeof(bad_msg) - 1 };
}

static void record(struct call_ctx *c, const struct pool_result *res, const char *result_text,
		   size_t result_len)
{
	struct store_invocation rec = { 0 };
	_cleanup_buf_ struct buf ej = BUF_INIT(1u << 20);
	_cleanup_free_ char *logs = NULL, *result = NULL;
	size_t loglen = res->logs.len > INVOKE_LOGS_MAX ? INVOKE_LOGS_MAX : res->logs.len;

	rec.id = (char *)c->request_id;
	rec.function_id = res->function_id;
	rec.revision = res->revision;
	rec.status = (char *)invocation_status_name(res->status);
	rec.start_kind = (char *)pool_start_name(res->start);
	rec.created_at = c->created_ms;
	rec.duration_ms = res->duration_ms;
	rec.init_ms = res->init_ms;
	rec.queue_ms = res->queue_ms;
	rec.max_memory_mb = (int64_t)(res->max_memory_mb + 0.5);
	if (res->status != INVOCATION_SUCCESS && error_json(&ej, res, NULL) == 0)
		rec.error_json = ej.ptr;
	logs = strndup(res->logs.ptr ? res->logs.ptr : "", loglen);
	rec.logs = logs;
	if (result_text && result_len <= INVOKE_LOGS_MAX)
		rec.result = result = strndup(result_text, result_len);
	records_add(c->x->records, &rec);
}

static void observe(struct call_ctx *c, const struct pool_result *res, const char *failed)
{
	double total_ms = (double)(util_mono_ns() - c->t0_ns) / 1e6;

	metrics_observe(c->x->metrics, c->function_id,
			res ? invocation_status_name(res->status) : failed,
			res ? pool_start_name(res->start) : NULL, total_ms,
			res ? res->duration_ms : 0);
}

static const char *failure_name(int status)
{
	switch (status) {
	case EAGAIN: return "throttled";
	case EHOSTDOWN:
	case ENXIO: return "unavailable";
	case ENOENT: return "not_found";
	default: return "failed";
	}
}

/* ---- POST /functions/{id}/execute ------------------------------------------ */

static void ctx_detach(struct call_ctx *c)
{
	if (c->req) {
		struct evhttp_connection *conn = evhttp_request_get_connection(c->req);

		if (conn)
			evhttp_connection_set_closecb(conn, NULL, NULL);
	}
}

static void ctx_stop_watch(struct call_ctx *c)
{
	if (c->watch) {
		event_free(c->watch);
		c->watch = NULL;
	}
}

/* libevent 2.1's evhttp does not read a connection while its request
 * waits for a reply, so it never sees the client leave: watch the socket
 * for its close ourselves (EV_CLOSED: epoll's EPOLLRDHUP). */
static void on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct call_ctx *c = arg;
	struct evhttp_connection *conn = evhttp_request_get_connection(c->req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	evutil_socket_t s = bev ? bufferevent_getfd(bev) : -1;
	bool dropped;

	ctx_stop_watch(c);
	if (what & EV_TIMEOUT) {
		if (s < 0)
			return;
		c->watch = event_new(c->x->base, s, EV_CLOSED, on_watch, c);
		if (c->watch && event_add(c->watch, NULL) < 0)
			ctx_stop_watch(c);
		return;
	}
	log_info("http: client left before call %s was answered", c->request_id);
	ctx_detach(c);
	dropped = pool_call_abandon(c->call);
	/* The one reply this request gets; evhttp then finds the socket
	 * closed and frees the connection. */
	http_finish(c->req, 499, NULL);
	c->req = NULL;
	if (dropped)
		free(c);	/* else on_single_done records the result, then frees */
}

static void on_single_done(void *arg, const struct pool_result *cres,
			   const struct hearth_error *perr)
{
	struct call_ctx *c = arg;
	_cleanup_buf_ struct buf b = BUF_INIT(INVOKE_PAYLOAD_MAX + INVOKE_ENVELOPE_EXTRA);
	_cleanup_error_ struct hearth_error *err = NULL;
	struct pool_result res;
	const char *text;
	size_t len;
	int code;

	ctx_stop_watch(c);
	ctx_detach(c);
	if (!cres) {
		observe(c, NULL, failure_name(perr->status));
		if (c->req) {
			if (perr->status == EAGAIN)
				evhttp_add_header(evhttp_request_get_output_headers(c->req),
						  "Retry-After", "1");
			http_reply_error_status(c->req, perr->status == ENXIO ? EHOSTDOWN : perr->status,
						perr->msg);
		}
		free(c);
		return;
	}
	res = *cres;
	checked_result(&res, &text, &len);
	observe(c, &res, NULL);
	record(c, &res, text, len);
	if (c->req) {
		if (envelope(&b, &res, text, len, &err) < 0) {
			http_reply_error(c->req, err);
		} else {
			struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);

			code = res.status == INVOCATION_TIMEOUT ? 504 : 200;
			if (res.status != INVOCATION_SUCCESS)
				evhttp_add_header(h, "X-Amz-Function-Error", "Unhandled");
			evhttp_add_header(h, "X-Hearth-Invocation-Id", c->request_id);
			http_reply_bytes(c->req, code, "application/json", b.ptr, b.len);
		}
	}
	free(c);
}

/* The client went away (evhttp noticed).  A waiting call leaves its
 * queue and the context goes now; a running one finishes in its container
 * and on_single_done records it, answering nobody. */
static void ctx_forget_req(struct evhttp_connection *conn, void *arg)
{
	struct call_ctx *c = arg;
	bool dropped;

	log_info("http: client left before call %s was answered", c->request_id);
	ctx_stop_watch(c);
	dropped = pool_call_abandon(c->call);
	http_forget(c->req);
	c->req = NULL;
	if (dropped)
		free(c);
}

int exec_invoke(struct exec *x, struct evhttp_request *req, int64_t function_id,
		struct hearth_error **err)
{
	struct call_ctx *c;
	const char *data;
	size_t len;
	int r;

	if ((r = http_body(req, INVOKE_PAYLOAD_MAX, &data, &len, err)) < 0)
		return r;
	if (blank(data, len)) {
		data = "{}";	/* no payload: an empty event, as Lambda does */
		len = 2;
	} else if (!is_json(data, len)) {
		return hearth_error_make(err, EBADMSG, "the payload is not valid JSON");
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return hearth_error_make(err, ENOMEM, "out of memory");
	c->x = x;
	c->req = req;
	c->function_id = function_id;
	c->t0_ns = util_mono_ns();
	c->created_ms = util_now_ms();
	new_request_id(x, c->request_id);
	r = pool_execute(x->pool, function_id, c->request_id, data, len, on_single_done, c,
			 &c->call, err);
	if (r < 0) {
		free(c);
		return r;
	}
	/* Not answered yet (failures are answered from the loop, never here):
	 * watch for the client leaving meanwhile. */
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), ctx_forget_req, c);
	c->watch = evtimer_new(x->base, on_watch, c);
	if (c->watch) {
		struct timeval tv = { 0, EXEC_WATCH_AFTER_MS * 1000 };

		evtimer_add(c->watch, &tv);
	}
	return 0;
}

/* ---- POST /functions/execute (a batch) ---------------------------------------- */

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->parts[i]);
		free(b->items[i].payload);
	}
	free(b->parts);
	free(b->items);
	free(b);
}

static void batch_detach(struct batch *b)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(b->req);

	if (conn)
		evhttp_connection_set_closecb(conn, NULL, NULL);
}

static void batch_reply_now(struct batch *b);

static void batch_reply(struct batch *b)
{
	if (!b->req) {		/* the client left: nobody to answer */
		batch_free(b);
		return;
	}
	batch_reply_now(b);
}

static void batch_reply_now(struct batch *b)
{
	_cleanup_buf_ struct buf out = BUF_INIT((size_t)INVOKE_BATCH_MAX * (INVOKE_PAYLOAD_MAX + 4096));
	_cleanup_error_ struct hearth_error *err = NULL;
	int r = buf_puts(&out, "{\"results\":[", &err);

	for (size_t i = 0; r == 0 && i < b->n; i++) {
		if (i)
			r = buf_append(&out, ",", 1, &err);
		if (r == 0)
			r = buf_puts(&out, b->parts[i] ? b->parts[i] : "null", &err);
	}
	if (r == 0)
		r = buf_puts(&out, "]}", &err);
	batch_detach(b);
	if (r < 0)
		http_reply_error(b->req, err);
	else
		http_reply_bytes(b->req, 200, "application/json", out.ptr, out.len);
	batch_free(b);
}

/* One item's answer when it could not run. */
static char *item_error(int status, const char *msg)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64 * 1024);

	if (buf_printf(&b, NULL, "{\"error\":{\"code\":\"%s\",\"status\":%d,\"message\":",
		       http_code_of(status), http_status_of(status)) < 0 ||
	    json_str(&b, msg, strlen(msg), NULL) < 0 || buf_puts(&b, "}}", NULL) < 0)
		return NULL;
	return buf_detach(&b, NULL);
}

static void batch_item_done(struct batch *b, size_t i, char *part)
{
	b->parts[i] = part;
	if (--b->left == 0)
		batch_reply(b);
}

static void on_item_done(void *arg, const struct pool_result *cres,
			 const struct hearth_error *perr)
{
	struct call_ctx *c = arg;
	struct batch *b = c->batch;
	_cleanup_buf_ struct buf out = BUF_INIT(INVOKE_PAYLOAD_MAX + INVOKE_ENVELOPE_EXTRA);
	_cleanup_error_ struct hearth_error *err = NULL;
	struct pool_result res;
	const char *text;
	size_t len;

	c->call = NULL;
	if (!cres) {
		observe(c, NULL, failure_name(perr->status));
		batch_item_done(b, c->index, item_error(perr->status == ENXIO ? EHOSTDOWN : perr->status,
							 perr->msg));
		return;
	}
	res = *cres;
	checked_result(&res, &text, &len);
	observe(c, &res, NULL);
	record(c, &res, text, len);
	if (envelope(&out, &res, text, len, &err) < 0) {
		batch_item_done(b, c->index, item_error(err->status, err->msg));
		return;
	}
	batch_item_done(b, c->index, buf_detach(&out, NULL));
}

static void batch_forget_req(struct evhttp_connection *conn, void *arg)
{
	struct batch *b = arg;

	log_info("http: client left before its batch was answered");
	http_forget(b->req);
	b->req = NULL;
	/* Waiting calls are dropped; running ones end (and are recorded) in
	 * on_item_done, the last of which frees the batch. */
	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].call && pool_call_abandon(b->items[i].call)) {
			b->items[i].call = NULL;
			b->left--;
		}
	if (b->left == 0)
		batch_free(b);
}

/* Checks and starts item i; a negative status (with err) when it cannot
 * run, which becomes that item's answer. */
static int batch_item_start(struct batch *b, size_t i, json_object *item,
			    struct hearth_error **err)
{
	struct call_ctx *c = &b->items[i];
	json_object *fid, *payload = NULL;
	const char *text;
	int64_t id;
	int r;

	c->x = b->x;
	c->batch = b;
	c->index = i;
	c->t0_ns = util_mono_ns();
	c->created_ms = util_now_ms();
	new_request_id(b->x, c->request_id);
	if (!json_object_is_type(item, json_type_object) ||
	    !json_object_object_get_ex(item, "function_id", &fid))
		return hearth_error_make(err, EINVAL, "invocations[%zu]: needs a function_id", i);
	json_object_object_foreach(item, key, val) {
		(void)val;
		if (strcmp(key, "function_id") != 0 && strcmp(key, "payload") != 0)
			return hearth_error_make(err, EINVAL, "invocations[%zu]: unknown field '%s'",
						 i, key);
	}
	if (!json_object_is_type(fid, json_type_int) || (id = json_object_get_int64(fid)) <= 0)
		return hearth_error_make(err, EINVAL,
					 "invocations[%zu].function_id: must be a positive integer", i);
	c->function_id = id;
	json_object_object_get_ex(item, "payload", &payload);
	text = payload ? json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE)
		       : "{}";
	c->payload = strdup(text);
	if (!c->payload)
		return hearth_error_make(err, ENOMEM, "invocations[%zu]: out of memory", i);
	r = pool_execute(b->x->pool, id, c->request_id, c->payload, strlen(c->payload),
			 on_item_done, c, &c->call, err);
	return r < 0 ? hearth_error_wrap(err, "invocations[%zu]", i) : 0;
}

static void batch_item(struct batch *b, size_t i, json_object *item)
{
	_cleanup_error_ struct hearth_error *err = NULL;

	if (batch_item_start(b, i, item, &err) < 0) {
		b->parts[i] = item_error(err->status, err->msg);
		b->left--;
	}
}

int exec_batch(struct exec *x, struct evhttp_request *req, struct hearth_error **err)
{
	_cleanup_json_ json_object *body = NULL;
	json_object *list = NULL;
	struct json_tokener *tok;
	struct batch *b;
	const char *data;
	size_t len, n;
	int r;

	if ((r = http_body(req, (size_t)INVOKE_BATCH_MAX * INVOKE_PAYLOAD_MAX, &data, &len, err)) < 0)
		return r;
	tok = json_tokener_new_ex(64);
	if (!tok)
		return hearth_error_make(err, ENOMEM, "out of memory");
	body = json_tokener_parse_ex(tok, data, (int)len);
	if (!body || json_tokener_get_error(tok) != json_tokener_success) {
		r = hearth_error_make(err, EBADMSG, "malformed JSON at byte %zu: %s",
				      json_tokener_get_parse_end(tok),
				      json_tokener_error_desc(json_tokener_get_error(tok)));
		json_tokener_free(tok);
		return r;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(body, json_type_object) ||
	    !json_object_object_get_ex(body, "invocations", &list) ||
	    !json_object_is_type(list, json_type_array))
		return hearth_error_make(err, EINVAL,
					 "the body must be {\"invocations\":[{\"function_id\":N,\"payload\":{...}},...]}");
	json_object_object_foreach(body, key, val) {
		(void)val;
		if (strcmp(key, "invocations") != 0)
			return hearth_error_make(err, EINVAL, "unknown field '%s'", key);
	}
	n = json_object_array_length(list);
	if (n == 0)
		return hearth_error_make(err, EINVAL, "invocations: must hold at least one call");
	if (n > INVOKE_BATCH_MAX)
		return hearth_error_make(err, EINVAL, "invocations: %zu calls, at most %d at once", n,
					 INVOKE_BATCH_MAX);
	b = calloc(1, sizeof(*b));
	if (!b)
		return hearth_error_make(err, ENOMEM, "out of memory");
	b->x = x;
	b->req = req;
	b->n = n;
	b->left = n;
	b->parts = calloc(n, sizeof(*b->parts));
	b->items = calloc(n, sizeof(*b->items));
	if (!b->parts || !b->items) {
		batch_free(b);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	/* `left` counts down as items answer; keep one for ourselves so no
	 * item's answer replies while the loop below still runs. */
	b->left++;
	for (size_t i = 0; i < n; i++)
		batch_item(b, i, json_object_array_get_idx(list, i));
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), batch_forget_req, b);
	if (--b->left == 0)
		batch_reply(b);
	return 0;
}

/* ---- invocation records ------------------------------------------------------------ */

/* A figure in milliseconds, written with three decimals (json-c's own
 * "%.17g" would print 3.4319999999999999). */
static json_object *json_ms(double v)
{
	char s[32];

	snprintf(s, sizeof(s), "%.3f", v);
	return json_object_new_double_s(v, s);
}

static json_object *record_json(const struct store_invocation *r, bool full)
{
	json_object *o = json_object_new_object();
	char ts[32];

	util_iso8601(r->created_at, ts);
	json_object_object_add(o, "id", json_object_new_string(r->id ? r->id : ""));
	json_object_object_add(o, "function_id", json_object_new_int64(r->function_id));
	json_object_object_add(o, "revision", json_object_new_int64(r->revision));
	json_object_object_add(o, "status", json_object_new_string(r->status ? r->status : ""));
	json_object_object_add(o, "start", json_object_new_string(r->start_kind ? r->start_kind : ""));
	json_object_object_add(o, "created_at", json_object_new_string(ts));
	json_object_object_add(o, "duration_ms", json_ms(r->duration_ms));
	json_object_object_add(o, "init_ms", json_ms(r->init_ms));
	json_object_object_add(o, "queue_ms", json_ms(r->queue_ms));
	json_object_object_add(o, "max_memory_mb", json_object_new_int64(r->max_memory_mb));
	json_object_object_add(o, "error", r->error_json ? json_tokener_parse(r->error_json) : NULL);
	if (full) {
		json_object_object_add(o, "logs", json_object_new_string(r->logs ? r->logs : ""));
		json_object_object_add(o, "result", r->result ? json_tokener_parse(r->result) : NULL);
	}
	return o;
}

static const char *query_arg(struct evhttp_request *req, const char *key, struct evkeyvalq *q)
{
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));

	if (!query || evhttp_parse_query_str(query, q) < 0)
		return NULL;
	return evhttp_find_header(q, key);
}

int exec_list_invocations(struct exec *x, struct evhttp_request *req, int64_t function_id,
			  struct hearth_error **err)
{
	struct evkeyvalq q = { 0 };
	struct store_invocation *recs = NULL, cursor = { 0 };
	size_t n = 0;
	int64_t limit = EXEC_LIST_DEFAULT;
	const char *s;
	json_object *o = NULL, *arr;
	int r;

	TAILQ_INIT(&q);
	if ((r = records_flush(x->records, err)) < 0)
		goto out;
	if ((s = query_arg(req, "limit", &q)) &&
	    (r = util_parse_i64(s, 1, STORE_INVOCATIONS_LIST_MAX, &limit, NULL)) < 0) {
		r = hearth_error_make(err, EINVAL, "limit: must be an integer in 1..%d",
				      STORE_INVOCATIONS_LIST_MAX);
		goto out;
	}
	evhttp_clear_headers(&q);
	TAILQ_INIT(&q);
	if ((s = query_arg(req, "before", &q)) != NULL) {
		if ((r = store_invocation_get(x->store, s, &cursor, err)) < 0) {
			if (r == -ENOENT) {
				hearth_error_clear(err);
				r = hearth_error_make(err, EINVAL, "before: no invocation '%s'", s);
			}
			goto out;
		}
	}
	if ((r = store_invocations_list(x->store, function_id, s ? &cursor : NULL, (size_t)limit, 0,
					&recs, &n, err)) < 0)
		goto out;
	o = json_object_new_object();
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, record_json(&recs[i], false));
	json_object_object_add(o, "invocations", arr);
	json_object_object_add(o, "next", n == (size_t)limit ?
				   json_object_new_string(recs[n - 1].id) : NULL);
	http_reply_json(req, 200, o);
	r = 0;
out:
	json_object_put(o);
	evhttp_clear_headers(&q);
	store_invocation_clear(&cursor);
	store_invocations_free(recs, n);
	return r;
}

int exec_get_invocation(struct exec *x, struct evhttp_request *req, const char *id,
			struct hearth_error **err)
{
	struct store_invocation rec = { 0 };
	json_object *o;
	int r;

	if ((r = records_flush(x->records, err)) < 0)
		return r;
	if ((r = store_invocation_get(x->store, id, &rec, err)) < 0)
		return r;
	o = record_json(&rec, true);
	http_reply_json(req, 200, o);
	json_object_put(o);
	store_invocation_clear(&rec);
	return 0;
}

/* ---- status -------------------------------------------------------------------------- */

int exec_pool(struct exec *x, struct evhttp_request *req, struct hearth_error **err)
{
	json_object *o = json_object_new_object();

	if (!o)
		return hearth_error_make(err, ENOMEM, "out of memory");
	json_object_object_add(o, "containers", pool_to_json(x->pool));
	http_reply_json(req, 200, o);
	json_object_put(o);
	return 0;
}

int exec_metrics(struct exec *x, struct evhttp_request *req, struct hearth_error **err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(16u << 20);
	int r;

	if ((r = metrics_render(x->metrics, &b, err)) < 0 || (r = pool_metrics(x->pool, &b, err)) < 0)
		return r;
	http_reply_bytes(req, 200, "text/plain; version=0.0.4", b.ptr, b.len);
	return 0;
}
