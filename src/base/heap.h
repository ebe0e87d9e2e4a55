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

#endif
