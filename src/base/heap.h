/* heap.h — hearthd's heap and large payloads (glibc).  A large call's
 * buffers stay on the heap for the next large call (no page faults while
 * large calls keep coming); once they stop, the free heap goes back to
 * the system.  Process-wide, like the heap itself. */
#ifndef HEARTH_HEAP_H
#define HEARTH_HEAP_H

#include <stddef.h>

#include <event2/event.h>

/* A body at least this large is a large call's. */
#define HEAP_LARGE_BODY (256u * 1024u)
/* How long after the last large body the free heap goes back. */
#define HEAP_TRIM_AFTER_MS 1000

/* At start, before any allocation that matters: glibc's mmap and trim
 * thresholds made room for a few buffers of the largest payload. */
void heap_setup(void);
/* The trim's timer on the loop: 0, or -ENOMEM. */
int heap_trim_start(struct event_base *base);
/* A body of len bytes went in or out: a large one (re)arms the trim. */
void heap_body_seen(size_t len);
void heap_trim_stop(void);

/* A large request body's block, lent to the runtime that takes it.  The
 * body stays with its request until the reply; a call's result block then
 * comes while it is held (three pieces of the payload's size at once:
 * read chains, body, result).  Once a runtime's lane has sent the whole
 * block (heap_lent_sent), it is drained from the request (in, len bytes),
 * which frees it, and the result can take its place.  heap_lent_gone: the
 * block was freed with its request first.  At most HEAP_LENT_MAX lent at
 * once (past them a block stays to its request's end).  The loop's thread
 * only. */
#define HEAP_LENT_MAX 16
struct evbuffer;
void heap_lend(const void *block, size_t len, struct evbuffer *in);
void heap_lent_sent(const void *block);
void heap_lent_gone(const void *block);

#endif
