/* loop.h — hearthd's event loop, and its two priorities.
 *
 * The containers' side goes first: a reply from a shim, and a call failed
 * inside pool_execute, are handled before any client's request, and the
 * loop looks for them again after every LOOP_MAX_LOW_CALLBACKS
 * client-side callbacks.  Under a flood of clients (hundreds of
 * connections, most answered 429) a container's next call then still
 * leaves as soon as its reply is in, instead of after a pass over every
 * ready connection.
 *
 * The other way round, clients wait only for backend work that hearthd
 * asked for: a shim answers the one request it was sent (any frame out of
 * turn fails its connection, pool/shimconn.c), and a deferred failure is
 * answered once; so the backend priority is never busy for long. */
#ifndef HEARTH_LOOP_H
#define HEARTH_LOOP_H

#include <event2/event.h>

#define LOOP_PRIORITIES 2
#define LOOP_PRIO_BACKEND 0 /* shim connections, the pool's deferred answers */
#define LOOP_PRIO_DEFAULT 1 /* everything else: libevent's default (n/2) */
#define LOOP_MAX_LOW_CALLBACKS 16

/* NULL when out of memory. */
struct event_base *loop_new(void);

#endif
