/* http.c — see http.h. */
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/keyvalq_struct.h>

#include "conns.h"
#include "heap.h"
#include "jsontext.h"
#include "log.h"

static int inflight;

int http_status_of(int status)
{
	switch (status < 0 ? -status : status) {
	case EBADMSG: return 400;
	case ETIME: return 408;
	case ENOKEY: return 401;
	case EPERM: return 403;
	case ENOENT: return 404;
	case ENOTSUP: return 405;
	case EEXIST: return 409;
	case ESTALE: return 412;
	case E2BIG: return 413;
	case ENOMSG: return 417;
	case EINVAL: return 422;
	case EAGAIN: return 429;
	case EMSGSIZE: return 431;
	case ENOSYS: return 501;
	case EUSERS:
	case EHOSTDOWN:
	case ECANCELED: /* hearthd is stopping */
	case ENXIO: return 503;
	case ETIMEDOUT: return 504;
	case ENOSPC: return 507; /* the data dir is full */
	default: return 500;
	}
}

const char *http_code_of(int status)
{
	switch (status < 0 ? -status : status) {
	case EBADMSG: return "bad_request";
	case ETIME: return "request_timeout";
	case ENOKEY: return "unauthorized";
	case EPERM: return "forbidden";
	case ENOENT: return "not_found";
	case ENOTSUP: return "method_not_allowed";
	case EEXIST: return "conflict";
	case ESTALE: return "precondition_failed";
	case E2BIG: return "too_large";
	case ENOMSG: return "expectation_failed";
	case EMSGSIZE: return "headers_too_large";
	case EINVAL: return "invalid";
	case EAGAIN: return "throttled";
	case ENOSYS: return "not_implemented";
	case EUSERS:
	case EHOSTDOWN:
	case ECANCELED:
	case ENXIO: return "unavailable";
	case ETIMEDOUT: return "timeout";
	case ENOSPC: return "insufficient_storage";
	default: return "internal";
	}
}

static const char *reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 507: return "Insufficient Storage";
	default: return code >= 500 ? "Internal Server Error" : "Error";
	}
}

const char *http_method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	default: return "?";
	}
}

void http_begin(struct evhttp_request *req)
{
	(void)req;
	inflight++;
}

int http_inflight(void)
{
	return inflight;
}

/* Now's Date header, made once a second: evhttp would format it for each
 * reply (gmtime and snprintf, 3,500 instructions: 5 % of a warm call's).
 * The loop thread's alone, as every reply is. */
static const char *date_now(void)
{
	static time_t made = (time_t)-1;
	static char date[64];
	time_t now = time(NULL);
	struct tm tm;

	if (now != made) {
		if (!gmtime_r(&now, &tm) || !evutil_date_rfc1123(date, sizeof(date), &tm))
			return NULL; /* evhttp makes one itself */
		made = now;
	}
	return date;
}

void http_finish(struct evhttp_request *req, int code, struct evbuffer *body)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const char *date = date_now();

	/* Successful calls are the hot path (execute, and the Lambda API's
	 * Invoke): one line each only at debug. */
	log_msg(code < 400 && evhttp_request_get_command(req) == EVHTTP_REQ_POST &&
				(strstr(evhttp_request_get_uri(req), "/execute") ||
				 strstr(evhttp_request_get_uri(req), "/invocations"))
			? LOG_LVL_DEBUG
			: LOG_LVL_INFO,
		"http: %s %s -> %d", http_method_name(evhttp_request_get_command(req)),
		evhttp_request_get_uri(req), code);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD && body) {
		/* HEAD tells the length GET would send, then sends nothing. */
		char len[24];

		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(body));
		evhttp_remove_header(out, "Content-Length");
		evhttp_add_header(out, "Content-Length", len);
		evbuffer_drain(body, evbuffer_get_length(body));
	}
	if (body)
		heap_body_seen(evbuffer_get_length(body));
	if (date && !evhttp_find_header(out, "Date"))
		evhttp_add_header(out, "Date", date);
	evhttp_send_reply(req, code, reason(code), body);
	inflight--;
}

void http_stream_start(struct evhttp_request *req, const char *content_type)
{
	log_msg(LOG_LVL_INFO, "http: %s %s -> 200 (a stream)",
		http_method_name(evhttp_request_get_command(req)), evhttp_request_get_uri(req));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", content_type);
	evhttp_send_reply_start(req, 200, "OK");
}

void http_stream_end(struct evhttp_request *req)
{
	evhttp_send_reply_end(req);
	inflight--;
}

void http_forget(struct evhttp_request *req)
{
	/* A request evhttp detached from its dead connection is freed by the
	 * reply call; one still attached is freed by evhttp itself. */
	if (!evhttp_request_get_connection(req))
		evhttp_send_reply(req, 499, "Client Closed Request", NULL);
	inflight--;
}

void http_reply_bytes(struct evhttp_request *req, int code, const char *content_type,
		      const char *body, size_t len)
{
	struct evbuffer *b = evbuffer_new();

	if (content_type)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
				  content_type);
	if (!b) {
		http_finish(req, 500, NULL);
		return;
	}
	evbuffer_add(b, body, len);
	http_finish(req, code, b);
	evbuffer_free(b);
}

/* evbuffer_add_reference's cleanup: frees the block handed with it. */
static void free_ref(const void *data, size_t len, void *block)
{
	(void)data;
	(void)len;
	free(block);
}

/* The same for a large body's block, which may have been lent (heap.h). */
static void free_body_ref(const void *data, size_t len, void *block)
{
	heap_lent_gone(block);
	free_ref(data, len, block);
}

/* Hands body's bytes to b by reference (body is empty after): 0, or -1
 * with them freed. */
static int add_buf(struct evbuffer *b, struct buf *body)
{
	size_t len;
	char *p = buf_detach(body, &len);

	if (!p || evbuffer_add_reference(b, p, len, free_ref, p) < 0) {
		free(p);
		return -1;
	}
	return 0;
}

/* Sends b (then freed) with the content type given. */
static void send_body(struct evhttp_request *req, int code, const char *content_type,
		      struct evbuffer *b)
{
	if (content_type)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
				  content_type);
	http_finish(req, code, b);
	evbuffer_free(b);
}

void http_reply_buf(struct evhttp_request *req, int code, const char *content_type,
		    struct buf *body)
{
	struct evbuffer *b = evbuffer_new();

	if (!b || add_buf(b, body) < 0) {
		if (b)
			evbuffer_free(b);
		http_reply_error_status(req, ENOMEM, "out of memory");
		return;
	}
	send_body(req, code, content_type, b);
}

void http_reply_block(struct evhttp_request *req, int code, const char *content_type,
		      const struct buf *head, void *block, const char *ptr, size_t len,
		      struct buf *tail)
{
	struct evbuffer *b = evbuffer_new();

	if (!b || (head && head->len && evbuffer_add(b, head->ptr, head->len) < 0) ||
	    evbuffer_add_reference(b, ptr, len, free_ref, block) < 0) {
		free(block); /* not the evbuffer's yet */
		if (b)
			evbuffer_free(b);
		http_reply_error_status(req, ENOMEM, "out of memory");
		return;
	}
	/* The tail by reference too: evbuffer_add after a chain of len
	 * bytes would make a chain as large as it for a few bytes. */
	if (tail && tail->len && add_buf(b, tail) < 0) {
		evbuffer_free(b); /* and the block with it */
		http_reply_error_status(req, ENOMEM, "out of memory");
		return;
	}
	send_body(req, code, content_type, b);
}

void http_reply_json(struct evhttp_request *req, int code, json_object *o)
{
	struct evbuffer *body = evbuffer_new();
	const char *s;

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	if (!body || !o) {
		if (body)
			evbuffer_free(body);
		http_finish(req, 500, NULL);
		return;
	}
	s = json_object_to_json_string_ext(o,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	evbuffer_add(body, s, strlen(s));
	evbuffer_add(body, "\n", 1);
	http_finish(req, code, body);
	evbuffer_free(body);
}

/* {"error":{"code":...,"message":...}} and a newline, the error body
 * every reply and http_error_raw send: written as text, no json-c tree
 * (a 429 under overload is the hot path of errors). */
static int error_body(struct buf *b, int status, const char *msg, struct hearth_error **err)
{
	int r;

	if ((r = buf_printf(b, err, "{\"error\":{\"code\":\"%s\",\"message\":",
			    http_code_of(status))) < 0 ||
	    (r = jsontext_append_string(b, msg, strlen(msg), err)) < 0)
		return r;
	return buf_puts(b, "}}\n", err);
}

void http_reply_error_status(struct evhttp_request *req, int status, const char *msg)
{
	/* Messages are bounded where they are made; this bound is only
	 * the body's own. */
	_cleanup_buf_ struct buf b = BUF_INIT(8u << 20);
	_cleanup_error_ struct hearth_error *err = NULL;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	int code = http_status_of(status);

	if (code >= 500 && code != 501 && code != 503)
		log_error("http: %s %s: %s", http_method_name(evhttp_request_get_command(req)),
			  evhttp_request_get_uri(req), msg);
	/* An error after a handler set its own type: the reply is JSON. */
	while (evhttp_remove_header(h, "Content-Type") == 0)
		;
	if (error_body(&b, status, msg, &err) < 0) {
		evhttp_add_header(h, "Content-Type", "application/json");
		http_finish(req, 500, NULL);
		return;
	}
	http_reply_bytes(req, code, "application/json", b.ptr, b.len);
}

void http_reply_error(struct evhttp_request *req, const struct hearth_error *e)
{
	http_reply_error_status(req, e ? e->status : EIO, e ? e->msg : "internal error");
}

void http_reply_not_allowed(struct evhttp_request *req, const char *allow)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "method %s is not allowed here (allowed: %s)",
		 http_method_name(evhttp_request_get_command(req)), allow);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
	http_reply_error_status(req, ENOTSUP, msg);
}

int http_error_raw(struct buf *out, int status, const char *msg, const char *extra,
		   struct hearth_error **err)
{
	_cleanup_buf_ struct buf body = BUF_INIT(64 * 1024);
	int code = http_status_of(status), r;
	const char *date = date_now();

	if ((r = error_body(&body, status, msg, err)) < 0)
		return r;
	if ((r = buf_printf(out, err,
			    "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: application/json\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
			    code, reason(code), date ? date : "", body.len, extra ? extra : "")) <
	    0)
		return r;
	return buf_append(out, body.ptr, body.len, err);
}

const char *http_query_arg(struct evhttp_request *req, const char *key, char *dst, size_t size)
{
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct evkeyvalq q;
	const char *v = NULL;

	TAILQ_INIT(&q);
	if (query && evhttp_parse_query_str(query, &q) == 0)
		v = evhttp_find_header(&q, key);
	if (v)
		snprintf(dst, size, "%s", v);
	evhttp_clear_headers(&q);
	return v ? dst : NULL;
}

int http_body(struct evhttp_request *req, size_t max, const char **data, size_t *len,
	      struct hearth_error **err)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	unsigned char *p;

	if (n > max)
		return hearth_error_make(err, E2BIG,
					 "body: %zu bytes, over the %zu-byte limit of "
					 "this endpoint",
					 n, max);
	heap_body_seen(n);
	if (n >= HEAP_LARGE_BODY && evbuffer_get_contiguous_space(in) < n) {
		/* Made contiguous in a block of its own size (evbuffer_pullup
		 * would take a chain of the next power of two: 8 MiB for 6 MB)
		 * that takes the read chains' place in the request, and is lent
		 * to the runtime that takes it (freed once sent: heap.h). */
		char *blk = malloc(n);

		if (!blk || evbuffer_copyout(in, blk, n) != (ev_ssize_t)n ||
		    evbuffer_add_reference(in, blk, n, free_body_ref, blk) < 0) {
			free(blk); /* the request keeps its body as it was */
			return hearth_error_make(err, ENOMEM, "out of memory");
		}
		evbuffer_drain(in, n); /* the read chains, before the block */
		heap_lend(blk, n, in);
		p = (unsigned char *)blk;
	} else {
		p = evbuffer_pullup(in, -1);
	}
	if (!p && n)
		return hearth_error_make(err, ENOMEM, "out of memory");
	*data = p ? (const char *)p : "";
	*len = n;
	return 0;
}

int http_body_json(struct evhttp_request *req, size_t max, unsigned flags, json_object **out,
		   struct hearth_error **err)
{
	const char *data;
	size_t len;
	int r;

	if ((r = http_body(req, max, &data, &len, err)) < 0)
		return r;
	return jsontext_parse(data, len, flags, "body", out, err);
}

struct http_watch {
	struct evhttp_request *req;
	struct conns *conns; /* evhttp's close callback is theirs */
	struct event_base *base;
	struct event ev; /* a timer, then the client's socket (no allocation of its own) */
	void (*gone)(void *arg);
	void *arg;
};

void http_watch_stop(struct http_watch *w)
{
	struct evhttp_connection *conn;

	if (!w)
		return;
	conn = evhttp_request_get_connection(w->req);
	if (conn)
		conns_set_closecb(w->conns, conn, NULL, NULL);
	event_del(&w->ev);
	free(w);
}

static void watch_gone(struct http_watch *w, bool evhttp_knows)
{
	struct evhttp_request *req = w->req;

	w->gone(w->arg);
	http_watch_stop(w);
	if (evhttp_knows)
		http_forget(req);
	else
		/* The one reply this request gets; evhttp then finds the socket
		 * closed and frees the connection. */
		http_finish(req, 499, NULL);
}

static void on_watch_close(struct evhttp_connection *conn, void *arg)
{
	watch_gone(arg, true);
}

static void on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct http_watch *w = arg;
	struct evhttp_connection *conn = evhttp_request_get_connection(w->req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	evutil_socket_t sock = bev ? bufferevent_getfd(bev) : -1;

	event_del(&w->ev);
	if (!(what & EV_TIMEOUT)) {
		watch_gone(w, false);
		return;
	}
	if (sock < 0)
		return;
	/* EV_CLOSED: epoll's EPOLLRDHUP, the client's end closed.  The event
	 * is assigned again, not pending (event_del above); if it cannot
	 * be added, nothing watches, as when the socket is unknown. */
	if (event_assign(&w->ev, w->base, sock, EV_CLOSED, on_watch, w) == 0)
		event_add(&w->ev, NULL);
}

struct http_watch *http_watch_new(struct evhttp_request *req, struct conns *cs,
				  struct event_base *base, int after_ms, void (*gone)(void *arg),
				  void *arg)
{
	struct http_watch *w = calloc(1, sizeof(*w));
	struct timeval tv = { after_ms / 1000, (after_ms % 1000) * 1000 };

	if (!w)
		return NULL;
	w->req = req;
	w->conns = cs;
	w->base = base;
	w->gone = gone;
	w->arg = arg;
	conns_set_closecb(cs, evhttp_request_get_connection(req), on_watch_close, w);
	evtimer_assign(&w->ev, base, on_watch, w);
	evtimer_add(&w->ev, &tv);
	return w;
}
