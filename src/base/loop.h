/* loop.h — hearthd's event loop, its two priorities, and the runtimes'
 * answers in a poll set of their own.
 *
 * The containers' side goes first: a reply from a shim, and a call failed
 * inside pool_execute, are handled before any client's request, and the
 * loop looks for them again after LOOP_MAX_LOW_US of client-side
 * callbacks.  Under a flood of clients (hundreds of
 * connections, most answered 429) a container's next call then still
 * leaves as soon as its reply is in, instead of after a pass over every
 * ready connection.
 *
 * The other way round, clients wait only for backend work that hearthd
 * asked for: a shim answers the one request it was sent (any frame out of
 * turn fails its connection, pool/shimconn.c), and a deferred failure is
 * answered once; so the backend priority is never busy for long.
 *
 * The runtimes' answers on the warm path (each lane's result pipe and
 * channel, pool/lane.c) are watched apart (loop_watch_new): in a small
 * epoll set of their own, which is one descriptor of the loop at the
 * backend priority, and which the client side also runs every
 * LOOP_TICK_EVERY reads (loop_tick).  Why: libevent polls again whenever a
 * backend event was handled, and skips the clients in that round; a
 * level-triggered socket is returned by each poll while its bytes wait
 * unread.  With the answers among them, 256 connections cost about 240
 * events returned (and each polled by the kernel) per answer; read between
 * the clients' reads, an answer rarely makes the loop poll at all.  (Plain
 * HTTP connections are edge-triggered too, api/conns.c.) */
#ifndef HEARTH_LOOP_H
#define HEARTH_LOOP_H

#include <event2/event.h>

#define LOOP_PRIORITIES 2
#define LOOP_PRIO_BACKEND 0  /* shim connections, the pool's deferred answers */
#define LOOP_PRIO_DEFAULT 1  /* everything else: libevent's default (n/2) */
#define LOOP_MAX_LOW_US 1000 /* of client callbacks between two polls at most */
#define LOOP_TICK_EVERY 4    /* client reads between two runs of the watches */

/* NULL when out of memory. */
struct event_base *loop_new(void);
/* Frees a loop_new base, after every watch of it was freed. */
void loop_free(struct event_base *base);

/* fd watched for reading in base's set of answers: cb(fd, EV_READ, arg)
 * each time the set runs while fd is readable (or at its end of file),
 * until the watch is stopped.  base must come from loop_new.  Stop or
 * free the watch before closing fd: another process may hold the same
 * open file (a socket a container passed), and epoll would go on
 * reporting it.  NULL with errno set on failure. */
struct loop_watch *loop_watch_new(struct event_base *base, int fd, event_callback_fn cb, void *arg);
/* No more callbacks, from now on (also none already polled); idempotent. */
void loop_watch_stop(struct loop_watch *w);
void loop_watch_free(struct loop_watch *w);

/* Closes fd after the loop's next poll.  The loop hands its changes to
 * epoll at the next poll (EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST), a
 * deletion too: a descriptor whose open file another process may hold (a
 * socket a container passed) and that had a libevent event must not be
 * closed before that, or epoll would go on reporting the open file under
 * its number.  Descriptors hearthd alone holds may close at once. */
void loop_close_later(struct event_base *base, int fd);

/* From the client side, once per read: every LOOP_TICK_EVERY calls, the
 * callbacks of base's readable watches run (never from inside one). */
void loop_tick(struct event_base *base);

#endif
