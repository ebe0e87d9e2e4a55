/* http.h — replies over evhttp, shared by every endpoint module: JSON
 * bodies, JSON errors with the status mapped in one place, bounded
 * request bodies, and the count of requests not yet answered (every
 * request is counted in by http_begin and out by exactly one reply). */
#ifndef HEARTH_HTTP_H
#define HEARTH_HTTP_H

#include <stddef.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <json-c/json.h>

#include "buf.h"
#include "error.h"

struct conns;

/* HTTP status for an error status (see error.h), and its JSON code. */
int http_status_of(int status);
const char *http_code_of(int status);
const char *http_method_name(enum evhttp_cmd_type m);

void http_begin(struct evhttp_request *req);
int http_inflight(void);

/* Every reply ends here: logs the line, sends, counts the request out. */
void http_finish(struct evhttp_request *req, int code, struct evbuffer *body);
void http_reply_json(struct evhttp_request *req, int code, json_object *o);
/* body is sent as is with the content type given. */
void http_reply_bytes(struct evhttp_request *req, int code, const char *content_type,
		      const char *body, size_t len);
/* The same with the body's bytes handed over, not copied (buf is empty
 * after). */
void http_reply_buf(struct evhttp_request *req, int code, const char *content_type,
		    struct buf *body);
/* A body of head (copied), then len bytes at ptr sent from where they lie,
 * then tail (its bytes handed over when the reply is made); head and tail
 * may be NULL.  block is the malloc'd block holding those bytes, handed
 * over too: freed once they are sent (or at once on an error). */
void http_reply_block(struct evhttp_request *req, int code, const char *content_type,
		      const struct buf *head, void *block, const char *ptr, size_t len,
		      struct buf *tail);
void http_reply_error_status(struct evhttp_request *req, int status, const char *msg);
void http_reply_error(struct evhttp_request *req, const struct hearth_error *e);
void http_reply_not_allowed(struct evhttp_request *req, const char *allow);
/* The same JSON error as a whole reply in bytes, for the connection layer
 * (conns.c) to write itself on a connection evhttp is not reading: status
 * line, Date, Content-Type, Content-Length, Connection: close, the header
 * lines in `extra` (each ending in CRLF, or NULL), the body. */
int http_error_raw(struct buf *out, int status, const char *msg, const char *extra,
		   struct hearth_error **err);
/* A reply sent in pieces (an event stream): started with the status line
 * and headers, then evhttp_send_reply_chunk as often as needed, and ended
 * once, by http_stream_end or, when the client left, http_forget. */
void http_stream_start(struct evhttp_request *req, const char *content_type);
void http_stream_end(struct evhttp_request *req);
/* The client left before its reply: counts the request out and lets
 * evhttp free it (never a free of our own). */
void http_forget(struct evhttp_request *req);
/* The client of a deferred request, watched while its reply waits: by
 * evhttp's close callback and, once the request has waited after_ms, by a
 * watch of its socket's close (libevent 2.1's evhttp does not read a
 * connection while its request waits, so it would never see the client
 * go).  When the client goes, gone(arg) runs once, then the request is
 * done with (answered 499, or left to evhttp): nobody touches it again. */
struct http_watch;
struct http_watch *http_watch_new(struct evhttp_request *req, struct conns *cs,
				  struct event_base *base, int after_ms, void (*gone)(void *arg),
				  void *arg);
/* Before the reply: stops watching (NULL is fine). */
void http_watch_stop(struct http_watch *w);

/* One query parameter, decoded and copied into dst (cut to size); NULL
 * when absent. */
const char *http_query_arg(struct evhttp_request *req, const char *key, char *dst, size_t size);
/* The request body as contiguous bytes, bounded by the route's limit;
 * *data lives as long as the request (a large call's lane reads it until
 * the call ends).  A body of HEAP_LARGE_BODY or more is copied into a
 * block of its own size that replaces the read chains. */
int http_body(struct evhttp_request *req, size_t max, const char **data, size_t *len,
	      struct hearth_error **err);
/* The request body parsed as one JSON value (jsontext_parse with `flags`):
 * -E2BIG over max, -EBADMSG with where it broke. */
int http_body_json(struct evhttp_request *req, size_t max, unsigned flags, json_object **out,
		   struct hearth_error **err);

#endif
