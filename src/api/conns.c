/* conns.c — see conns.h.
 *
 * How a connection is followed, with nothing but libevent 2.1's public
 * API:
 *   - evhttp asks for each new connection's bufferevent (on_accept) before
 *     it makes its evhttp_connection around it and gives it its socket;
 *     a zero-delay event, run in the same turn of the loop before any read,
 *     then attaches this layer: evhttp's connection is the argument of the
 *     callbacks it set on the bufferevent (bufferevent_getcb), the socket
 *     is the bufferevent's, and the close callback is set there.  A
 *     reference held from on_accept to the attach keeps the bufferevent
 *     alive should evhttp drop it meanwhile (it only does when out of
 *     memory, and then this layer lets go too);
 *   - every byte read lands in the bufferevent's input buffer, whose
 *     callback (on_input) runs before evhttp's read callback: the head is
 *     checked line by line there (reqcheck.h);
 *   - the API taking the request (conns_request, from evhttp's request
 *     callback) and its reply having gone out (evhttp's on-complete
 *     callback) frame the time no deadline applies;
 *   - to answer by itself, this layer takes the bufferevent's read and
 *     write callbacks from evhttp (it keeps the event callback, so evhttp
 *     still frees the connection on its close), writes its reply, reads
 *     and drops the rest, and closes by reporting an error event to evhttp,
 *     which frees a connection whose request it is still reading.
 *   - a plain connection's socket is watched edge-triggered (edge_on), so
 *     that a poll does not return again every connection whose request
 *     waits unread while the loop serves the runtimes' answers first.
 * A connection is found from its evhttp_connection through its socket's
 * number (by_fd): a number is only reused once its socket is closed. */
#include "conns.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event_struct.h>

#include "bounds.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "promtext.h"
#include "reqcheck.h"
#include "tls.h"

#define CONNS_REPORT_S 10	  /* at most one summary line this often */
#define CONNS_ACCEPT_PAUSE_MS 100 /* accept() failing for want of descriptors */
/* libevent's listener accepts all it can in one go: after this many the
 * loop gets a turn (a burst of thousands of connections would otherwise
 * hold up the requests of those already served). */
#define CONNS_ACCEPT_BATCH 64

enum conn_state {
	CONN_NEW,     /* accepted: evhttp sets it up, then this turn attaches it */
	CONN_HEAD,    /* reading a request's line and headers */
	CONN_BODY,    /* reading its body */
	CONN_BUSY,    /* the API has the request: no deadline */
	CONN_NEXT,    /* answered: the next request is looked at from the loop */
	CONN_CLOSING, /* answered by this layer: writing, dropping input, closing */
};

struct conn {
	struct conns *cs;
	struct bufferevent *bev;
	struct evhttp_connection *evcon;
	struct evbuffer_cb_entry *in_cb, *out_cb;
	struct event timer; /* the attach, the deadlines, the next request, the close */
	TAILQ_ENTRY(conn) link;
	enum conn_state state;
	evutil_socket_t fd;
	bool admitted;	    /* counted under the cap; a refused one is not */
	bool doomed;	    /* no TLS bufferevent could be made: closed at once */
	bool started;	    /* a byte of this request came: its head's deadline runs */
	bool half_closed;   /* this layer's reply went out, then a FIN */
	size_t line_start;  /* where the line being read starts in the input */
	size_t scanned;	    /* input bytes searched for that line's end */
	uint64_t body_left; /* CONN_BODY: its Content-Length's bytes not read yet */
	bool reading_body;  /* in read_body: its reads come back through on_input */
	struct evbuffer_cb_entry *edge_cb; /* set: its socket is edge-triggered (edge_on) */
	struct reqcheck rc;
	void (*closecb)(struct evhttp_connection *, void *); /* an endpoint's */
	void *closecb_arg;
	bufferevent_event_cb evhttp_eventcb; /* evhttp's, once this layer answers */
	void *evhttp_eventcb_arg;
};
TAILQ_HEAD(conn_list, conn);

struct conns {
	struct event_base *base;
	struct conns_config cfg;
	struct conn_list all;
	struct conn **by_fd;
	size_t n_by_fd;
	int open;
	unsigned batch;	      /* accepted since the listener last paused */
	struct conn *ticking; /* whose input is running loop_tick */
	char *line;	      /* one line of a head, for reqcheck (max_head + 1 bytes) */
	struct evconnlistener *lev;
	struct event *accept_pause, *report;
	uint64_t accepted, refused, header_timeouts, body_timeouts, rejected, accept_errors;
	uint64_t told_refused, told_header, told_body; /* at the last summary */
};

/* The listener's error callback gets evhttp's argument, not ours: the one
 * listening layer of the process. */
static struct conns *listening;

static void on_timer(evutil_socket_t fd, short what, void *arg);
static void on_closed(struct evhttp_connection *evcon, void *arg);
static void on_input(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg);

int conns_default_max(long nofile, int max_containers)
{
	long n = nofile - HTTP_FD_RESERVE - (long)HTTP_FD_PER_CONTAINER * max_containers;

	if (n < HTTP_CONNECTIONS_AUTO_MIN)
		return HTTP_CONNECTIONS_AUTO_MIN;
	return n > HTTP_CONNECTIONS_AUTO_MAX ? HTTP_CONNECTIONS_AUTO_MAX : (int)n;
}

/* ---- the summary in the log ---------------------------------------------------- */

/* Refusals and deadlines come in floods: one line now, then at most one a
 * CONNS_REPORT_S with what happened since (each is at debug level too). */
static void report_now(struct conns *cs)
{
	uint64_t r = cs->refused - cs->told_refused, h = cs->header_timeouts - cs->told_header,
		 b = cs->body_timeouts - cs->told_body;

	if (r)
		log_warn("http: %" PRIu64 " connection(s) refused (503): %d open, the most "
			 "--max-connections allows",
			 r, cs->cfg.max);
	if (h || b)
		log_info("http: %" PRIu64 " connection(s) closed (408) for not sending a request's "
			 "headers within %d s, %" PRIu64 " its body within %d s",
			 h, cs->cfg.header_timeout_s, b, cs->cfg.body_timeout_s);
	cs->told_refused = cs->refused;
	cs->told_header = cs->header_timeouts;
	cs->told_body = cs->body_timeouts;
}

static void on_report(evutil_socket_t fd, short what, void *arg)
{
	struct conns *cs = arg;
	struct timeval tv = { CONNS_REPORT_S, 0 };

	if (cs->refused == cs->told_refused && cs->header_timeouts == cs->told_header &&
	    cs->body_timeouts == cs->told_body)
		return;
	report_now(cs);
	evtimer_add(cs->report, &tv);
}

static void note(struct conns *cs)
{
	struct timeval tv = { CONNS_REPORT_S, 0 };

	if (evtimer_pending(cs->report, NULL))
		return;
	report_now(cs);
	evtimer_add(cs->report, &tv);
}

/* ---- one connection --------------------------------------------------------------- */

static void peer(const struct conn *c, char *dst, size_t size)
{
	char *addr = NULL;
	ev_uint16_t port = 0;

	if (c->evcon)
		evhttp_connection_get_peer(c->evcon, &addr, &port);
	snprintf(dst, size, "%s:%u", addr ? addr : "?", (unsigned)port);
}

static void arm(struct conn *c, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	evtimer_del(&c->timer);
	evtimer_add(&c->timer, &tv);
}

/* Runs the timer's work in this turn of the loop, after the current
 * callback (and before any read). */
static void soon(struct conn *c)
{
	evtimer_del(&c->timer);
	event_active(&c->timer, EV_TIMEOUT, 1);
}

static struct conn *find(const struct conns *cs, struct evhttp_connection *evcon)
{
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	struct conn *c;

	if (fd < 0 || (size_t)fd >= cs->n_by_fd)
		return NULL;
	c = cs->by_fd[fd];
	return c && c->evcon == evcon ? c : NULL;
}

/* Counts the connection out and frees it; its bufferevent is evhttp's. */
static void forget(struct conn *c)
{
	struct conns *cs = c->cs;

	event_del(&c->timer);
	TAILQ_REMOVE(&cs->all, c, link);
	if (c->fd >= 0 && (size_t)c->fd < cs->n_by_fd && cs->by_fd[c->fd] == c)
		cs->by_fd[c->fd] = NULL;
	if (c->admitted)
		cs->open--;
	free(c);
}

static int remember(struct conns *cs, struct conn *c)
{
	if ((size_t)c->fd >= cs->n_by_fd) {
		size_t n = cs->n_by_fd ? cs->n_by_fd : 256;
		struct conn **p;

		while (n <= (size_t)c->fd)
			n *= 2;
		p = realloc(cs->by_fd, n * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memset(p + cs->n_by_fd, 0, (n - cs->n_by_fd) * sizeof(*p));
		cs->by_fd = p;
		cs->n_by_fd = n;
	}
	/* The socket of that number was closed, or the kernel would not have
	 * handed the number out again: whatever kept it is gone. */
	if (cs->by_fd[c->fd]) {
		log_warn("http: connection on descriptor %d was never seen closing; "
			 "forgetting it",
			 (int)c->fd);
		forget(cs->by_fd[c->fd]);
	}
	cs->by_fd[c->fd] = c;
	return 0;
}

/* Closes the connection now: evhttp hears of an error and frees it (it
 * still reads this request, so nobody waits for it), which calls
 * on_closed.  Nothing may touch c afterwards. */
static void cut(struct conn *c)
{
	bufferevent_trigger_event(c->bev, BEV_EVENT_ERROR | BEV_EVENT_READING, 0);
}

/* This layer's reply went out: a FIN after it (and TLS's close_notify
 * before that); what the client still sends is read and dropped. */
static void on_output(struct evbuffer *out, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	if (c->half_closed || !info->n_deleted || evbuffer_get_length(out))
		return;
	c->half_closed = true;
	if (c->cs->cfg.tls)
		tls_close_notify(c->bev);
	shutdown(c->fd, SHUT_WR);
}

/* While this layer answers: whatever ends the connection (the client's
 * close, an error, evhttp's idle timeout) is an error to evhttp, which
 * then frees it whatever state its parser was left in. */
static void on_closing_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		c->evhttp_eventcb(bev, BEV_EVENT_ERROR | BEV_EVENT_READING, c->evhttp_eventcb_arg);
}

/* Answers the request (or the connection) with a JSON error of this
 * layer and closes: evhttp reads and writes nothing more here. */
static void answer(struct conn *c, int status, const char *msg, const char *extra)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64 * 1024);
	struct evbuffer *in = bufferevent_get_input(c->bev), *out = bufferevent_get_output(c->bev);

	c->state = CONN_CLOSING;
	bufferevent_getcb(c->bev, NULL, NULL, &c->evhttp_eventcb, &c->evhttp_eventcb_arg);
	bufferevent_setcb(c->bev, NULL, NULL, on_closing_event, c);
	evbuffer_drain(in, evbuffer_get_length(in));
	if (http_error_raw(&b, status, msg, extra, NULL) < 0 ||
	    !(c->out_cb = evbuffer_add_cb(out, on_output, c)) ||
	    evbuffer_add(out, b.ptr, b.len) < 0) {
		arm(c, 0);
		return;
	}
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	arm(c, HTTP_LINGER_MS);
}

/* ---- edge-triggered sockets ---------------------------------------------------- *
 *
 * The loop's epoll set is level-triggered: every poll returns every socket
 * that holds bytes not read yet.  Under load the loop polls again after
 * each runtime's answer, before it reads more clients (loop.h), so with
 * 256 connections a poll returned some 50 of them: 34 events returned per
 * request, each polled again by the kernel; 2 edge-triggered
 * (bench/RESULTS.md).
 * Edge-triggered, a socket is returned once for each arrival of bytes; its
 * event then waits in libevent's active queue until its turn comes.
 *
 * libevent's bufferevent has no flag for it: edge_on assigns the
 * bufferevent's two events again (bufferevent_struct.h), the same callback
 * and flags with EV_ET (libevent refuses to mix both kinds on a socket).
 * An edge comes again only for bytes that arrive later, so wherever a
 * read or write may have left work the socket could do now, this layer
 * runs the callback again itself (edge_kick), as an edge-triggered socket
 * must be read and written until it has no more:
 *   - after each of libevent's reads (on_input): it takes at most 4 KiB,
 *     and an end of file that came with the last bytes, or the rest
 *     behind TCP urgent data, would otherwise wait for a deadline;
 *     read_body's reads all come from within one such read;
 *   - libevent's write takes at most 16 KiB or 128 pieces: after a write
 *     that left bytes behind without the socket filling up (edge_output).
 * Disabling and enabling an event is an epoll_ctl (MOD, ADD or DEL), and
 * epoll reports what is pending then: nothing is lost there.  TLS
 * connections stay level-triggered: their bytes pass through OpenSSL's
 * own buffers. */

/* Runs the bufferevent's read or write callback in this pass, as a new
 * edge would, while it is enabled. */
static void edge_kick(struct event *ev, short what)
{
	if (event_pending(ev, what, NULL))
		event_active(ev, what, 1);
}

static void edge_output(struct evbuffer *out, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	/* a write left bytes behind while the socket may still take more */
	if (info->n_deleted && evbuffer_get_length(out))
		edge_kick(&c->bev->ev_write, EV_WRITE);
}

/* The bufferevent's events, edge-triggered from now on; -1 when out of
 * memory (the connection is then closed). */
static int edge_on(struct conn *c)
{
	struct bufferevent *bev = c->bev;
	struct event *evs[2] = { &bev->ev_read, &bev->ev_write };
	const struct timeval *tv[2] = { &bev->timeout_read, &bev->timeout_write };
	bool pending[2];

	for (int i = 0; i < 2; i++) {
		pending[i] = event_pending(evs[i], EV_READ | EV_WRITE, NULL) != 0;
		event_del(evs[i]);
	}
	for (int i = 0; i < 2; i++) {
		event_callback_fn cb = event_get_callback(evs[i]);
		void *arg = event_get_callback_arg(evs[i]);
		short what = event_get_events(evs[i]);

		if (event_assign(evs[i], c->cs->base, c->fd, what | EV_ET, cb, arg) < 0)
			return -1;
		if (pending[i] && event_add(evs[i], evutil_timerisset(tv[i]) ? tv[i] : NULL) < 0)
			return -1;
	}
	c->edge_cb = evbuffer_add_cb(bufferevent_get_output(bev), edge_output, c);
	return c->edge_cb ? 0 : -1;
}

/* libevent 2.1 reads a socket 4 KiB a turn of the loop (its
 * EVBUFFER_MAX_READ; evbuffer_set_max_read came in 2.2), each read after
 * an ioctl and an epoll_wait: a 64 KB body took 16 turns and 48 syscalls,
 * a 6 MB one 1,500 turns.  What the socket holds of a body whose length
 * is known is read here instead, in reads of up to READ_AHEAD bytes (a
 * chain of 256 KiB with its header).  Never more than the body: a
 * pipelined request's head is left to libevent's reads and read_head.
 * Not for TLS, whose bytes are the bufferevent's to decrypt. */
#define READ_AHEAD (256u * 1024u - 64u)

static void read_body(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	if (c->reading_body || c->cs->cfg.tls || c->fd < 0)
		return;
	c->reading_body = true;
	while (c->state == CONN_BODY && c->body_left > 0) {
		size_t want = c->body_left < READ_AHEAD ? (size_t)c->body_left : READ_AHEAD;
		struct evbuffer_iovec v[2];
		struct iovec iov[2];
		int n = evbuffer_reserve_space(in, (ev_ssize_t)want, v, 2);
		size_t room = 0;
		ssize_t r;

		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			if (v[i].iov_len > want - room)
				v[i].iov_len = want - room;
			iov[i] = (struct iovec){ v[i].iov_base, v[i].iov_len };
			room += v[i].iov_len;
		}
		do
			r = readv(c->fd, iov, n);
		while (r < 0 && errno == EINTR);
		if (r <= 0) /* nothing yet, the end, an error: libevent's to see */
			break;
		for (int i = 0, got = (int)r; i < n; i++) {
			v[i].iov_len = (size_t)got < v[i].iov_len ? (size_t)got : v[i].iov_len;
			got -= (int)v[i].iov_len;
		}
		/* on_input runs from here and counts the bytes off body_left */
		if (evbuffer_commit_space(in, v, n) < 0 || (size_t)r < room)
			break;
	}
	c->reading_body = false;
}

/* Searches the input for the end of the line being read and hands every
 * complete line to reqcheck; a head that evhttp would refuse is answered. */
static void read_head(struct conn *c)
{
	struct conns *cs = c->cs;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in);
	_cleanup_error_ struct hearth_error *err = NULL;
	char who[80];
	int r = 0;

	if (!c->started) {
		c->started = true;
		arm(c, (int64_t)cs->cfg.header_timeout_s * 1000);
	}
	/* Bytes in one piece (a request's head nearly always is) are scanned
	 * in place; otherwise through evbuffer's search. */
	const char *flat = len && evbuffer_get_contiguous_space(in) == len
				   ? (const char *)evbuffer_pullup(in, (ssize_t)len)
				   : NULL;

	while (r == 0 && c->scanned < len) {
		/* From one byte back: a CR may end what was searched before. */
		size_t from = c->scanned > c->line_start ? c->scanned - 1 : c->line_start;
		size_t eol_len = 0, eol_pos = 0, n;

		if (flat) {
			const char *lf = memchr(flat + from, '\n', len - from);

			if (lf) {
				eol_pos = (size_t)(lf - flat);
				eol_len = 1;
				if (eol_pos > from && flat[eol_pos - 1] == '\r') {
					eol_pos--;
					eol_len = 2;
				}
			}
		} else {
			struct evbuffer_ptr at, eol;

			evbuffer_ptr_set(in, &at, from, EVBUFFER_PTR_SET);
			eol = evbuffer_search_eol(in, &at, &eol_len, EVBUFFER_EOL_CRLF);
			eol_pos = eol.pos < 0 ? 0 : (size_t)eol.pos;
			eol_len = eol.pos < 0 ? 0 : eol_len;
		}
		if (eol_len == 0) {
			c->scanned = len;
			r = reqcheck_partial(&c->rc, len - c->line_start, &err);
			break;
		}
		n = eol_pos - c->line_start;
		if (n > cs->cfg.max_head) {
			r = reqcheck_partial(&c->rc, n, &err);
		} else {
			if (flat) {
				memcpy(cs->line, flat + c->line_start, n);
			} else {
				struct evbuffer_ptr at;

				evbuffer_ptr_set(in, &at, c->line_start, EVBUFFER_PTR_SET);
				evbuffer_copyout_from(in, &at, cs->line, n);
			}
			cs->line[n] = '\0';
			r = reqcheck_line(&c->rc, cs->line, n, &err);
		}
		c->line_start = c->scanned = eol_pos + eol_len;
	}
	if (r == 1) {
		/* the body's bytes still to come: its Content-Length
		 * (reqcheck's) less what the input holds after the head */
		c->state = CONN_BODY;
		c->body_left = c->rc.body_length > len - c->line_start
				       ? c->rc.body_length - (len - c->line_start)
				       : 0;
		arm(c, (int64_t)cs->cfg.body_timeout_s * 1000);
	} else if (r < 0) {
		cs->rejected++;
		peer(c, who, sizeof(who));
		log_info("http: %s: %d before evhttp parsed it: %s", who, http_status_of(r),
			 err ? err->msg : "malformed request");
		answer(c, err ? err->status : EBADMSG, err ? err->msg : "malformed request", NULL);
	}
}

/* A request is awaited: the first of a connection (whose deadline runs
 * from its start) or a later one (from its first byte). */
static void start_head(struct conn *c, bool first)
{
	c->state = CONN_HEAD;
	c->started = false;
	c->line_start = c->scanned = 0;
	reqcheck_init(&c->rc, c->cs->cfg.max_head, c->cs->cfg.max_body);
	evtimer_del(&c->timer);
	if (first || evbuffer_get_length(bufferevent_get_input(c->bev)))
		read_head(c);
}

static void on_input(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	c->line_start -= info->n_deleted < c->line_start ? info->n_deleted : c->line_start;
	c->scanned -= info->n_deleted < c->scanned ? info->n_deleted : c->scanned;
	if (!info->n_added)
		return;
	/* After each of libevent's reads, another, until the socket has no
	 * more (edge-triggered sockets above).  evhttp turns reading off
	 * once it has a whole request, which drops this again before it runs:
	 * only a request still incomplete costs a read that finds nothing. */
	if (c->edge_cb && !c->reading_body)
		edge_kick(&c->bev->ev_read, EV_READ);
	/* Between the clients' reads, the runtimes' answers (loop.h).  An
	 * answer to this very connection is not sent from in here
	 * (conns_send_now): evhttp is reading it. */
	c->cs->ticking = c;
	loop_tick(c->cs->base);
	c->cs->ticking = NULL;
	if (c->state == CONN_CLOSING) {
		evbuffer_drain(in, evbuffer_get_length(in));
	} else if (c->state == CONN_HEAD) {
		read_head(c);
		if (c->state == CONN_BODY)
			read_body(c);
	} else if (c->state == CONN_BODY) {
		c->body_left -= info->n_added < c->body_left ? info->n_added : c->body_left;
		read_body(c);
	}
}

static void attach(struct conn *c)
{
	struct conns *cs = c->cs;
	struct bufferevent *bev = c->bev;
	bufferevent_event_cb ecb = NULL;
	void *arg = NULL;
	char msg[160];

	bufferevent_getcb(bev, NULL, NULL, &ecb, &arg);
	if (!ecb || !arg) {
		/* evhttp let go of it already (it does when out of memory). */
		forget(c);
		bufferevent_decref(bev);
		return;
	}
	c->evcon = arg;
	c->fd = bufferevent_getfd(bev);
	if (c->fd < 0 || remember(cs, c) < 0) {
		c->fd = -1;
		forget(c);
		bufferevent_decref(bev);
		return;
	}
	evhttp_connection_set_closecb(c->evcon, on_closed, c);
	c->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), on_input, c);
	bufferevent_decref(bev); /* evhttp's alone again */
	if (c->doomed || !c->in_cb) {
		cut(c);
		return;
	}
	if (c->admitted && !cs->cfg.tls && edge_on(c) < 0) {
		cut(c);
		return;
	}
	if (!c->admitted) {
		cs->refused++;
		log_debug("http: connection refused: %d open, the most --max-connections allows",
			  cs->open);
		note(cs);
		snprintf(msg, sizeof(msg),
			 "hearthd has %d connections open, the most it serves at once "
			 "(--max-connections); retry shortly",
			 cs->cfg.max);
		answer(c, EUSERS, msg, "Retry-After: 1\r\n");
		return;
	}
	start_head(c, true);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct conns *cs = c->cs;
	char msg[160], who[80];

	switch (c->state) {
	case CONN_NEW: attach(c); return;
	case CONN_NEXT: start_head(c, false); return;
	case CONN_BUSY: return;
	case CONN_CLOSING: cut(c); return;
	case CONN_HEAD:
		cs->header_timeouts++;
		snprintf(msg, sizeof(msg),
			 "the request's line and headers did not arrive within %d s "
			 "(--header-timeout)",
			 cs->cfg.header_timeout_s);
		break;
	case CONN_BODY:
		cs->body_timeouts++;
		snprintf(msg, sizeof(msg),
			 "the request's body did not arrive within %d s (--body-timeout)",
			 cs->cfg.body_timeout_s);
		break;
	}
	peer(c, who, sizeof(who));
	log_debug("http: %s: 408: %s", who, msg);
	note(cs);
	answer(c, ETIME, msg, NULL);
}

static void on_closed(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;

	if (c->closecb)
		c->closecb(evcon, c->closecb_arg);
	if (c->cs->cfg.tls && !c->half_closed)
		tls_close_notify(c->bev);
	evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
	if (c->out_cb)
		evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
	if (c->edge_cb)
		evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->edge_cb);
	forget(c);
}

/* evhttp's bufferevent callback: a new connection. */
static struct bufferevent *on_accept(struct event_base *base, void *arg)
{
	struct conns *cs = arg;
	struct bufferevent *bev = NULL;
	struct conn *c = calloc(1, sizeof(*c));
	bool doomed = false;

	if (cs->cfg.tls)
		bev = tls_bufferevent(cs->cfg.tls, base);
	/* Without one, a plain bufferevent that is closed at the attach:
	 * never plain HTTP on a TLS port. */
	if (!bev) {
		doomed = cs->cfg.tls != NULL;
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	}
	if (!bev || !c) {
		free(c);
		return bev; /* evhttp serves it alone: uncounted, undeadlined */
	}
	c->cs = cs;
	c->bev = bev;
	c->fd = -1;
	c->state = CONN_NEW;
	c->doomed = doomed;
	c->admitted = !c->doomed && cs->open < cs->cfg.max;
	if (c->admitted)
		cs->open++;
	cs->accepted++;
	bufferevent_incref(bev);
	event_assign(&c->timer, base, -1, 0, on_timer, c);
	TAILQ_INSERT_TAIL(&cs->all, c, link);
	soon(c);
	if (++cs->batch >= CONNS_ACCEPT_BATCH && cs->lev) {
		struct timeval now = { 0, 0 };

		evconnlistener_disable(cs->lev);
		evtimer_add(cs->accept_pause, &now);
	}
	return bev;
}

/* ---- the layer ------------------------------------------------------------------------ */

static void on_accept_pause_end(evutil_socket_t fd, short what, void *arg)
{
	struct conns *cs = arg;

	cs->batch = 0;
	if (cs->lev)
		evconnlistener_enable(cs->lev);
}

static void on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct conns *cs = listening;
	int e = EVUTIL_SOCKET_ERROR();
	struct timeval tv = { 0, CONNS_ACCEPT_PAUSE_MS * 1000 };

	if (!cs)
		return;
	cs->accept_errors++;
	if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
		/* The listening socket stays readable: without a pause the loop
		 * would spin on it until a descriptor frees. */
		if (cs->accept_errors == 1 || cs->accept_errors % 1000 == 0)
			log_warn("http: cannot accept connections: %s (%d open); pausing accepts "
				 "for %d ms",
				 strerror(e), cs->open, CONNS_ACCEPT_PAUSE_MS);
		evconnlistener_disable(lev);
		evtimer_add(cs->accept_pause, &tv);
		return;
	}
	log_warn("http: accept: %s", strerror(e));
}

int conns_new(struct conns **out, struct event_base *base, const struct conns_config *cfg,
	      struct hearth_error **err)
{
	struct conns *cs = calloc(1, sizeof(*cs));

	if (!cs)
		return hearth_error_make(err, ENOMEM, "out of memory");
	cs->base = base;
	cs->cfg = *cfg;
	TAILQ_INIT(&cs->all);
	cs->line = malloc(cfg->max_head + 1);
	cs->accept_pause = evtimer_new(base, on_accept_pause_end, cs);
	cs->report = evtimer_new(base, on_report, cs);
	if (!cs->line || !cs->accept_pause || !cs->report) {
		conns_free(cs);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	*out = cs;
	return 0;
}

void conns_serve(struct conns *cs, struct evhttp *http)
{
	evhttp_set_bevcb(http, on_accept, cs);
}

void conns_listening(struct conns *cs, struct evconnlistener *lev)
{
	cs->lev = lev;
	listening = cs;
	evconnlistener_set_error_cb(lev, on_accept_error);
}

void conns_stop_accepting(struct conns *cs)
{
	if (!cs)
		return;
	evtimer_del(cs->accept_pause);
	cs->lev = NULL;
	if (listening == cs)
		listening = NULL;
}

/* evhttp's on-complete callback: the reply went out, the connection stays. */
static void on_answered(struct evhttp_request *req, void *arg)
{
	struct conn *c = find(arg, evhttp_request_get_connection(req));

	if (c && c->state == CONN_BUSY) {
		c->state = CONN_NEXT;
		soon(c);
	}
}

void conns_request(struct conns *cs, struct evhttp_request *req)
{
	struct conn *c = find(cs, evhttp_request_get_connection(req));

	if (!c)
		return;
	evtimer_del(&c->timer);
	c->state = CONN_BUSY;
	evhttp_request_set_on_complete_cb(req, on_answered, cs);
}

void conns_set_closecb(struct conns *cs, struct evhttp_connection *evcon,
		       void (*cb)(struct evhttp_connection *, void *), void *arg)
{
	struct conn *c = evcon ? find(cs, evcon) : NULL;

	if (c) {
		c->closecb = cb;
		c->closecb_arg = arg;
	} else if (evcon) {
		/* One this layer does not follow (see on_accept): evhttp's. */
		evhttp_connection_set_closecb(evcon, cb, arg);
	}
}

void conns_send_now(struct conns *cs, struct evhttp_connection *evcon)
{
	struct conn *c = cs->cfg.tls ? NULL : find(cs, evcon);
	struct evbuffer *out = c ? bufferevent_get_output(c->bev) : NULL;
	bufferevent_data_cb wcb = NULL;
	void *arg = NULL;
	int r;

	if (!c || c == cs->ticking || c->state != CONN_BUSY || evbuffer_get_length(out) == 0)
		return;
	/* The bufferevent keeps its output's front frozen between its own
	 * writes, which thaw it as this does: a frozen front fails the write. */
	evbuffer_unfreeze(out, 1);
	r = evbuffer_write(out, c->fd);
	evbuffer_freeze(out, 1);
	if (r < 0 || evbuffer_get_length(out) > 0)
		return;
	/* All of it went: what the bufferevent's write callback would have
	 * found after the next poll.  evhttp's callback ends the request. */
	bufferevent_getcb(c->bev, NULL, &wcb, NULL, &arg);
	if (wcb)
		wcb(c->bev, arg); /* may free c's connection: nothing after */
}

int conns_open(const struct conns *cs)
{
	return cs->open;
}

int conns_metrics(const struct conns *cs, struct buf *out, struct hearth_error **err)
{
	int r;

	if ((r = promtext_single(out, "hearth_http_connections", "gauge",
				 "Client connections open now (at most --max-connections).",
				 (uint64_t)cs->open, err)) < 0 ||
	    (r = promtext_single(out, "hearth_http_connections_max", "gauge",
				 "The most client connections served at once (--max-connections).",
				 (uint64_t)cs->cfg.max, err)) < 0 ||
	    (r = promtext_single(out, "hearth_http_connections_accepted_total", "counter",
				 "Client connections accepted.", cs->accepted, err)) < 0 ||
	    (r = promtext_single(out, "hearth_http_connections_refused_total", "counter",
				 "Connections answered 503 and closed for being over "
				 "--max-connections.",
				 cs->refused, err)) < 0 ||
	    (r = promtext_header(out, "hearth_http_request_timeouts_total", "counter",
				 "Connections answered 408 and closed for not sending a request's "
				 "headers (--header-timeout) or body (--body-timeout) in time.",
				 err)) < 0 ||
	    (r = buf_printf(out, err,
			    "hearth_http_request_timeouts_total{phase=\"header\"} %" PRIu64 "\n"
			    "hearth_http_request_timeouts_total{phase=\"body\"} %" PRIu64 "\n",
			    cs->header_timeouts, cs->body_timeouts)) < 0 ||
	    (r = promtext_single(out, "hearth_http_requests_rejected_total", "counter",
				 "Requests with a malformed or oversized line or headers, answered "
				 "in JSON before evhttp parsed them.",
				 cs->rejected, err)) < 0)
		return r;
	return promtext_single(out, "hearth_http_accept_errors_total", "counter",
			       "accept() failures (such as running out of file descriptors).",
			       cs->accept_errors, err);
}

void conns_free(struct conns *cs)
{
	struct conn *c;

	if (!cs)
		return;
	conns_stop_accepting(cs);
	if (cs->report)
		on_report(-1, 0, cs); /* what the last summary did not tell yet */
	/* evhttp_free closed every attached connection; one still waiting
	 * for its attach holds a reference of ours. */
	while ((c = TAILQ_FIRST(&cs->all)) != NULL) {
		struct bufferevent *bev = c->state == CONN_NEW ? c->bev : NULL;

		forget(c);
		if (bev)
			bufferevent_decref(bev);
	}
	if (cs->accept_pause)
		event_free(cs->accept_pause);
	if (cs->report)
		event_free(cs->report);
	free(cs->by_fd);
	free(cs->line);
	free(cs);
}
