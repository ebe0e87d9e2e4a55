/* conns.h — the connection layer under the HTTP API: every client
 * connection, from its accept to its close.
 *
 * evhttp (libevent 2.1) parses requests and hands them over whole, with
 * only idle timeouts and no hook before it parses.  This layer sits under
 * it, at the bufferevent evhttp reads from (evhttp_set_bevcb), and owns:
 *   - TLS: that bufferevent is OpenSSL's when --tls-cert is set (tls.h);
 *   - the cap on connections open at once (--max-connections): past it a
 *     new connection is answered 503 in JSON and closed, evhttp never
 *     reading from it, while the others go on;
 *   - deadlines for sending a request: its line and headers within
 *     --header-timeout (from the connection's start, or from its first
 *     byte on a kept-alive connection), its body within --body-timeout
 *     after; a client too slow is answered 408 and closed.  Once the API
 *     has the request no deadline of this layer applies: a call that runs
 *     for minutes, an event stream open for hours;
 *   - each request's head checked before evhttp parses it (reqcheck.h):
 *     what evhttp would answer with its own HTML page is answered here, in
 *     JSON;
 *   - the counters and gauges of /metrics about all that.
 * A reply this layer writes itself is the JSON error of every other
 * reply, with Connection: close; the rest of the client's input is read
 * and dropped for a moment (so the reply is not lost to a reset), then
 * the connection closes.
 *
 * evhttp's one close callback per connection is this layer's (it counts
 * connections out by it): an endpoint watching its client sets its own
 * with conns_set_closecb, never evhttp_connection_set_closecb (make lint
 * checks). */
#ifndef HEARTH_CONNS_H
#define HEARTH_CONNS_H

#include <stddef.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "buf.h"
#include "error.h"

struct tls;
struct conns;

struct conns_config {
	int max;	      /* connections open at once; more are refused (503) */
	int header_timeout_s; /* to send a request's line and headers */
	int body_timeout_s;   /* to send its body, once the headers are in */
	size_t max_head;      /* evhttp's limits, which the head check mirrors */
	size_t max_body;
	struct tls *tls; /* NULL: plain HTTP */
};

int conns_new(struct conns **out, struct event_base *base, const struct conns_config *cfg,
	      struct hearth_error **err);
/* Every connection of this server goes through the layer. */
void conns_serve(struct conns *cs, struct evhttp *http);
/* The listener: accepts pause for a moment when they fail for want of
 * file descriptors or memory, instead of spinning. */
void conns_listening(struct conns *cs, struct evconnlistener *lev);
void conns_stop_accepting(struct conns *cs);
/* The API has the request now (evhttp's request callback): its
 * connection's deadlines stop until the reply has gone out. */
void conns_request(struct conns *cs, struct evhttp_request *req);
/* evhttp_connection_set_closecb, for the endpoints (see above). */
void conns_set_closecb(struct conns *cs, struct evhttp_connection *evcon,
		       void (*cb)(struct evhttp_connection *, void *), void *arg);
/* After a reply handed to evhttp outside its callbacks (an answer from
 * the pool): writes it to the socket now, instead of after the next poll
 * finds the socket writable, and lets evhttp finish the request, which may
 * free evcon and the request.  Nothing when TLS is on, when this layer
 * does not follow the connection, or when the socket takes only part of
 * the reply (the rest goes as any reply does).  Never from inside an
 * evhttp callback: evhttp would find its request freed under it.  It
 * leans on libevent 2.1's evhttp: its write callback ends the request and
 * disables the write event; a libevent upgrade must check that again. */
void conns_send_now(struct conns *cs, struct evhttp_connection *evcon);
/* Connections open now (refused ones are not). */
int conns_open(const struct conns *cs);
BUF_MUST_CHECK int conns_metrics(const struct conns *cs, struct buf *out,
				 struct hearth_error **err);
/* After evhttp_free (which closes every connection). */
void conns_free(struct conns *cs);

/* The default cap: the open-file limit less what hearthd needs besides
 * clients (HTTP_FD_RESERVE, and HTTP_FD_PER_CONTAINER for each container
 * it may run), within [HTTP_CONNECTIONS_AUTO_MIN, HTTP_CONNECTIONS_AUTO_MAX]. */
int conns_default_max(long nofile, int max_containers);

#endif
