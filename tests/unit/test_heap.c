/* Unit tests for heap.c's lent blocks: a large body's block, held by its
 * request's evbuffer as a reference, is drained (freed) once a lane has
 * sent it, and nothing happens for a block not lent, or one whose request
 * went first. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "heap.h"
#include "tap.h"

static int freed;

/* As http.c's cleanup for a body's block: the lent slot goes, then the
 * block. */
static void cleanup(const void *data, size_t len, void *block)
{
	(void)data;
	(void)len;
	heap_lent_gone(block);
	free(block);
	freed++;
}

/* A request's input buffer holding a block of len bytes by reference. */
static struct evbuffer *body(size_t len, char **blk)
{
	struct evbuffer *in = evbuffer_new();

	*blk = malloc(len);
	if (!in || !*blk) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	memset(*blk, 'x', len);
	if (evbuffer_add_reference(in, *blk, len, cleanup, *blk) < 0) {
		printf("Bail out! evbuffer_add_reference\n");
		exit(1);
	}
	return in;
}

int main(void)
{
	struct evbuffer *in, *more[HEAP_LENT_MAX + 1];
	char *blk, *blks[HEAP_LENT_MAX + 1];

	/* lent, then sent: drained, freed once */
	in = body(300000, &blk);
	heap_lend(blk, 300000, in);
	heap_lent_sent(blk);
	is_int(freed, 1, "a lent block is freed once sent");
	is_int((long long)evbuffer_get_length(in), 0, "  and its request's body is empty");
	heap_lent_sent(blk);
	is_int(freed, 1, "  sent again (another lane): nothing more");
	evbuffer_free(in);
	is_int(freed, 1, "  the request's end frees nothing more");

	/* not lent: sent does nothing */
	freed = 0;
	in = body(1000, &blk);
	heap_lent_sent(blk);
	is_int(freed, 0, "a block not lent stays when sent");
	is_int((long long)evbuffer_get_length(in), 1000, "  with its request");
	evbuffer_free(in);
	is_int(freed, 1, "  and goes with it");

	/* the request first: its slot goes with it, sent does nothing */
	freed = 0;
	in = body(300000, &blk);
	heap_lend(blk, 300000, in);
	evbuffer_free(in);
	is_int(freed, 1, "a lent block whose request went first is freed with it");
	heap_lent_sent(blk); /* a dangling pointer: must not be touched */
	is_int(freed, 1, "  sent after: nothing (its slot went)");

	/* a body that is no longer the block alone: left to its request */
	freed = 0;
	in = body(300000, &blk);
	heap_lend(blk, 300000, in);
	evbuffer_add(in, "y", 1);
	heap_lent_sent(blk);
	is_int(freed, 0, "a request holding more than the block keeps it when sent");
	evbuffer_free(in);
	is_int(freed, 1, "  and frees it at its end");

	/* more than HEAP_LENT_MAX lent: the ones past them stay to the end */
	freed = 0;
	for (int i = 0; i <= HEAP_LENT_MAX; i++) {
		more[i] = body(300000, &blks[i]);
		heap_lend(blks[i], 300000, more[i]);
	}
	for (int i = 0; i <= HEAP_LENT_MAX; i++)
		heap_lent_sent(blks[i]);
	is_int(freed, HEAP_LENT_MAX, "%d lent at once: each freed when sent", HEAP_LENT_MAX);
	is_int((long long)evbuffer_get_length(more[HEAP_LENT_MAX]), 300000,
	       "  the one past them stays with its request");
	for (int i = 0; i <= HEAP_LENT_MAX; i++)
		evbuffer_free(more[i]);
	is_int(freed, HEAP_LENT_MAX + 1, "  and goes with it");

	/* slots free again: lent and sent */
	freed = 0;
	in = body(300000, &blk);
	heap_lend(blk, 300000, in);
	heap_lent_sent(blk);
	is_int(freed, 1, "after them, a slot is free again");
	evbuffer_free(in);
	return tap_done();
}
