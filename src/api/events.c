/* events.c — see events.h. */
#include "events.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>

#include "buf.h"
#include "conns.h"
#include "http.h"
#include "jsontext.h"
#include "log.h"
#include "pool.h"
#include "util.h"

/* Calls kept between two flushes; more are counted as dropped (at 4
 * flushes a second that is 1,024 calls a second shown one by one: a chart
 * needs no more, and the counts in /metrics are exact anyway). */
#define EVENTS_RING 256
#define EVENTS_FN_CHANGES 64

struct stream {
	struct events *ev;
	struct conns *conns;
	struct evhttp_request *req;
	TAILQ_ENTRY(stream) link;
};
TAILQ_HEAD(stream_list, stream);

struct call_note {
	char id[INVOKE_ID_LEN];
	int64_t function_id;
	enum invocation_status status;
	enum pool_start start;
	double total_ms, duration_ms, init_ms, queue_ms;
	int64_t at_ms;
};

struct fn_note {
	const char *op;
	int64_t id, revision;
};

struct events {
	struct event_base *base;
	struct pool *pool;
	struct stream_list streams;
	int n_streams;
	struct event *timer;
	bool timer_on;
	unsigned ticks;
	uint64_t pool_seen;
	struct call_note calls[EVENTS_RING];
	size_t n_calls;
	uint64_t dropped;
	struct fn_note fns[EVENTS_FN_CHANGES];
	size_t n_fns;
	bool fns_overflow;
};

static void on_flush(evutil_socket_t fd, short what, void *arg);

int events_new(struct events **out, struct event_base *base, struct pool *pool,
	       struct hearth_error **err)
{
	struct events *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return hearth_error_make(err, ENOMEM, "out of memory");
	ev->base = base;
	ev->pool = pool;
	TAILQ_INIT(&ev->streams);
	ev->timer = evtimer_new(base, on_flush, ev);
	if (!ev->timer) {
		free(ev);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	*out = ev;
	return 0;
}

void events_free(struct events *ev)
{
	if (!ev)
		return;
	events_close_all(ev);
	event_free(ev->timer);
	free(ev);
}

int events_streams(const struct events *ev)
{
	return ev->n_streams;
}

static size_t stream_backlog(const struct stream *s);

size_t events_backlog_max(const struct events *ev)
{
	const struct stream *s;
	size_t most = 0, b;

	TAILQ_FOREACH(s, &ev->streams, link)
		if ((b = stream_backlog(s)) > most)
			most = b;
	return most;
}

/* ---- producers: a note, nothing more --------------------------------------- */

void events_invocation(void *arg, const struct invoke_summary *s)
{
	struct events *ev = arg;
	struct call_note *n;

	if (!ev->n_streams)
		return;
	if (ev->n_calls == EVENTS_RING) {
		ev->dropped++;
		return;
	}
	n = &ev->calls[ev->n_calls++];
	snprintf(n->id, sizeof(n->id), "%s", s->id);
	n->function_id = s->function_id;
	n->status = s->status;
	n->start = s->start;
	n->total_ms = s->total_ms;
	n->duration_ms = s->duration_ms;
	n->init_ms = s->init_ms;
	n->queue_ms = s->queue_ms;
	n->at_ms = s->at_ms;
}

void events_function(struct events *ev, const char *op, int64_t id, int64_t revision)
{
	if (!ev->n_streams)
		return;
	if (ev->n_fns == EVENTS_FN_CHANGES) {
		ev->fns_overflow = true;
		return;
	}
	ev->fns[ev->n_fns++] = (struct fn_note){ op, id, revision };
}

/* ---- event text ------------------------------------------------------------- */

/* The pool as it is now; `seen` when every stream gets it (a new stream's
 * first snapshot must not hide a change the others have yet to hear). */
static int pool_event(struct events *ev, struct buf *b, bool seen, struct hearth_error **err)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	int r;

	if (!o)
		return hearth_error_make(err, ENOMEM, "out of memory");
	json_object_object_add(o, "containers", pool_to_json(ev->pool));
	json_object_object_add(o, "engine_up", json_object_new_boolean(pool_engine_up(ev->pool)));
	if ((r = buf_puts(b, "event: pool\ndata: ", err)) < 0 ||
	    (r = buf_puts(b, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), err)) < 0)
		return r;
	if (seen)
		ev->pool_seen = pool_generation(ev->pool);
	return buf_puts(b, "\n\n", err);
}

static int calls_event(struct events *ev, struct buf *b, struct hearth_error **err)
{
	int r = buf_printf(b, err, "event: invocations\ndata: {\"dropped\":%" PRIu64 ",\"calls\":[",
			   ev->dropped);

	for (size_t i = 0; r >= 0 && i < ev->n_calls; i++) {
		const struct call_note *n = &ev->calls[i];
		char at[32];

		util_iso8601(n->at_ms, at);
		r = buf_printf(
			b, err,
			"%s{\"id\":\"%s\",\"function_id\":%" PRId64
			",\"status\":\"%s\",\"start\":\"%s\",\"total_ms\":%.3f,"
			"\"duration_ms\":%.3f,\"init_ms\":%.3f,\"queue_ms\":%.3f,\"at\":\"%s\"}",
			i ? "," : "", n->id, n->function_id, invocation_status_name(n->status),
			pool_start_name(n->start), n->total_ms, n->duration_ms, n->init_ms,
			n->queue_ms, at);
	}
	ev->n_calls = 0;
	ev->dropped = 0;
	return r < 0 ? r : buf_puts(b, "]}\n\n", err);
}

static int functions_events(struct events *ev, struct buf *b, struct hearth_error **err)
{
	int r = 0;

	if (ev->fns_overflow)
		r = buf_puts(b, "event: functions\ndata: {\"op\":\"resync\"}\n\n", err);
	for (size_t i = 0; r >= 0 && !ev->fns_overflow && i < ev->n_fns; i++)
		r = buf_printf(b, err,
			       "event: functions\ndata: {\"op\":\"%s\",\"id\":%" PRId64
			       ",\"revision\":%" PRId64 "}\n\n",
			       ev->fns[i].op, ev->fns[i].id, ev->fns[i].revision);
	ev->n_fns = 0;
	ev->fns_overflow = false;
	return r;
}

/* ---- streams ------------------------------------------------------------------ */

static void stream_unlink(struct stream *s)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(s->req);

	if (conn)
		conns_set_closecb(s->conns, conn, NULL, NULL);
	TAILQ_REMOVE(&s->ev->streams, s, link);
	s->ev->n_streams--;
}

/* The client went away: evhttp frees the request itself. */
static void on_stream_closed(struct evhttp_connection *conn, void *arg)
{
	struct stream *s = arg;

	stream_unlink(s);
	http_forget(s->req);
	free(s);
}

/* Ends a stream from our side: the reply's last chunk, then the connection
 * closes (the stream was sent with Connection: close). */
static void stream_end(struct stream *s)
{
	stream_unlink(s);
	http_stream_end(s->req);
	free(s);
}

/* Bytes already waiting in the stream's connection for its client. */
static size_t stream_backlog(const struct stream *s)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(s->req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;

	return bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

static void stream_send(struct stream *s, const char *text, size_t len)
{
	struct evbuffer *chunk;

	if (stream_backlog(s) + len > EVENTS_STREAM_BUFFER_MAX) {
		log_info("events: a stream's client fell %zu bytes behind; ending it",
			 stream_backlog(s));
		stream_end(s);
		return;
	}
	chunk = evbuffer_new();
	if (!chunk || evbuffer_add(chunk, text, len) < 0) {
		if (chunk)
			evbuffer_free(chunk);
		stream_end(s);
		return;
	}
	evhttp_send_reply_chunk(s->req, chunk);
	evbuffer_free(chunk);
}

static void timer_arm(struct events *ev)
{
	struct timeval tv = { 0, EVENTS_FLUSH_MS * 1000 };

	if (!ev->timer_on && ev->n_streams) {
		evtimer_add(ev->timer, &tv);
		ev->timer_on = true;
	}
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct events *ev = arg;
	_cleanup_buf_ struct buf b = BUF_INIT(8u << 20);
	_cleanup_error_ struct hearth_error *err = NULL;
	struct stream *s, *next;
	int r = 0;

	ev->timer_on = false;
	if (!ev->n_streams)
		return;
	ev->ticks++;
	if (pool_generation(ev->pool) != ev->pool_seen)
		r = pool_event(ev, &b, true, &err);
	if (r >= 0 && (ev->n_calls || ev->dropped))
		r = calls_event(ev, &b, &err);
	if (r >= 0 && (ev->n_fns || ev->fns_overflow))
		r = functions_events(ev, &b, &err);
	if (r >= 0 && ev->ticks % (EVENTS_PING_S * 1000 / EVENTS_FLUSH_MS) == 0)
		r = buf_puts(&b, ": ping\n\n", &err);
	if (r < 0)
		log_warn("events: %s", err->msg);
	if (b.len)
		for (s = TAILQ_FIRST(&ev->streams); s; s = next) {
			next = TAILQ_NEXT(s, link);
			stream_send(s, b.ptr, b.len);
		}
	timer_arm(ev);
}

int events_stream(struct events *ev, struct conns *cs, struct evhttp_request *req,
		  struct hearth_error **err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(8u << 20);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct stream *s;
	int r;

	if (ev->n_streams >= EVENTS_STREAMS_MAX)
		return hearth_error_make(err, EAGAIN,
					 "%d event streams are open, the most there may be",
					 EVENTS_STREAMS_MAX);
	/* The first text: a comment, and the pool as it is now. */
	if ((r = buf_puts(&b, ": hearth events\n\n", err)) < 0 ||
	    (r = pool_event(ev, &b, false, err)) < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return hearth_error_make(err, ENOMEM, "out of memory");
	s->ev = ev;
	s->conns = cs;
	s->req = req;
	TAILQ_INSERT_TAIL(&ev->streams, s, link);
	ev->n_streams++;
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_add_header(h, "X-Accel-Buffering", "no");
	evhttp_add_header(h, "Connection", "close");
	http_stream_start(req, "text/event-stream; charset=utf-8");
	conns_set_closecb(cs, evhttp_request_get_connection(req), on_stream_closed, s);
	stream_send(s, b.ptr, b.len);
	timer_arm(ev);
	return 0;
}

void events_close_all(struct events *ev)
{
	struct stream *s;

	while ((s = TAILQ_FIRST(&ev->streams)) != NULL)
		stream_end(s);
	if (ev->timer_on) {
		evtimer_del(ev->timer);
		ev->timer_on = false;
	}
}
