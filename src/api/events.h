/* events.h — the dashboard's live feed, GET /events: server-sent events
 * carrying the pool's changes, summaries of the calls that ran and the
 * registry's changes.
 *
 * Producers only leave a note (a slot in a ring, a generation counter the
 * pool bumps); a timer turns the notes into event text four times a
 * second and hands the same text to every stream.  So the warm path pays a
 * struct copy when somebody watches and a branch when nobody does.  A
 * stream whose client reads slower than events come is ended once
 * EVENTS_STREAM_BUFFER_MAX bytes wait for it: the client reconnects, and
 * hearthd's memory never grows with a slow reader.
 *
 * The events (each `data:` is one line of JSON):
 *   pool         {"containers":[...as GET /pool...],"engine_up":true}: on
 *                connect and whenever the pool changed
 *   invocations  {"calls":[{"id","function_id","status","start","total_ms",
 *                "duration_ms","init_ms","queue_ms","at"},...],"dropped":N}
 *   functions    {"op":"created"|"updated"|"deleted","id":N,"revision":R},
 *                or {"op":"resync"} when changes came faster than kept
 *   and a comment line ": ping" every 15 s, so a dead client is noticed. */
#ifndef HEARTH_EVENTS_H
#define HEARTH_EVENTS_H

#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>

#include "error.h"
#include "invoke.h"

#define EVENTS_STREAM_BUFFER_MAX (1u << 20) /* bytes waiting for one client */
#define EVENTS_STREAMS_MAX 32
#define EVENTS_FLUSH_MS 250
#define EVENTS_PING_S 15

struct conns;
struct events;
struct pool;

int events_new(struct events **out, struct event_base *base, struct pool *pool,
	       struct hearth_error **err);
/* Ends every stream (see events_close_all) and frees. */
void events_free(struct events *ev);

/* A call ran: an invoke_observer (arg is the struct events). */
void events_invocation(void *arg, const struct invoke_summary *s);
/* A function was created (revision 1), updated or deleted. */
void events_function(struct events *ev, const char *op, int64_t id, int64_t revision);

/* Takes over req as a stream (its client watched through cs):
 * -EAGAIN (429) beyond EVENTS_STREAMS_MAX. */
int events_stream(struct events *ev, struct conns *cs, struct evhttp_request *req,
		  struct hearth_error **err);
/* Ends every stream now (shutdown: clients reconnect to the next hearthd). */
void events_close_all(struct events *ev);
/* Streams open now, and the most bytes waiting for one of their clients
 * (for /metrics: a slow reader shows there before it is dropped). */
int events_streams(const struct events *ev);
size_t events_backlog_max(const struct events *ev);

#endif
