/* heap.c — see heap.h. */
#include "heap.h"

#include <errno.h>
#include <event2/buffer.h>
#include <malloc.h>
#include <stdio.h>
#include <unistd.h>

#include "bounds.h"
#include "log.h"

static struct event *trim_ev;

static struct lent {
	const void *block; /* NULL: a free slot */
	size_t len;
	struct evbuffer *in;
} lent[HEAP_LENT_MAX];

/* A large call's buffers (the body, the result, the reply: up to
 * INVOKE_PAYLOAD_MAX each, several at once) come from the heap and stay
 * there for the next large call.  With glibc's defaults they were mapped
 * afresh or the heap's top given back after each call, and every page
 * faulted in again: about 1,000 page faults for a 1 MB echo and 5,800 for
 * a 6 MB one, a fifth to a third of hearthd's CPU for them (bench/
 * RESULTS.md).  The price, paid only until the large calls stop (the
 * trim below): up to 8 x INVOKE_PAYLOAD_MAX of free heap kept. */
void heap_setup(void)
{
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
	(void)mallopt(M_MMAP_THRESHOLD, (int)(4 * INVOKE_PAYLOAD_MAX));
	(void)mallopt(M_TRIM_THRESHOLD, (int)(8 * INVOKE_PAYLOAD_MAX));
#endif
}

static long rss_pages(void)
{
	long size = 0, rss = -1;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%ld %ld", &size, &rss) != 2)
			rss = -1;
		fclose(f);
	}
	return rss;
}

/* The bytes of RSS given back. */
static size_t trim_now(void)
{
	long before = rss_pages(), after;

	/* Every arena (the records writer has its own): the free top given
	 * back and the free pages inside the heap released. */
	(void)malloc_trim(0);
	after = rss_pages();
	return before > after && after >= 0
		       ? (size_t)(before - after) * (size_t)sysconf(_SC_PAGESIZE)
		       : 0;
}

static void on_trim(evutil_socket_t fd, short what, void *arg)
{
	size_t n;

	(void)fd;
	(void)what;
	(void)arg;
	n = trim_now();
	log_debug("heap: large calls stopped: %zu KiB of free heap given back", n / 1024);
}

int heap_trim_start(struct event_base *base)
{
	trim_ev = evtimer_new(base, on_trim, NULL);
	return trim_ev ? 0 : -ENOMEM;
}

void heap_body_seen(size_t len)
{
	static const struct timeval after = { HEAP_TRIM_AFTER_MS / 1000,
					      (HEAP_TRIM_AFTER_MS % 1000) * 1000 };

	if (len >= HEAP_LARGE_BODY && trim_ev)
		evtimer_add(trim_ev, &after);
}

void heap_trim_stop(void)
{
	if (trim_ev)
		event_free(trim_ev);
	trim_ev = NULL;
}

static struct lent *lent_find(const void *block)
{
	for (size_t i = 0; block && i < HEAP_LENT_MAX; i++)
		if (lent[i].block == block)
			return &lent[i];
	return NULL;
}

void heap_lend(const void *block, size_t len, struct evbuffer *in)
{
	struct lent *l = lent_find(block);

	for (size_t i = 0; !l && i < HEAP_LENT_MAX; i++)
		if (!lent[i].block)
			l = &lent[i];
	if (l && block && in)
		*l = (struct lent){ block, len, in };
}

void heap_lent_sent(const void *block)
{
	struct lent *l = lent_find(block);
	struct evbuffer *in;
	size_t len;

	if (!l)
		return;
	in = l->in;
	len = l->len;
	*l = (struct lent){ 0 };
	/* The request holds the block as a reference of len bytes and
	 * nothing else (http_body); draining it runs the block's cleanup. */
	if (evbuffer_get_length(in) == len)
		evbuffer_drain(in, len);
}

void heap_lent_gone(const void *block)
{
	struct lent *l = lent_find(block);

	if (l)
		*l = (struct lent){ 0 };
}
