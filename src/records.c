/* records.c — see records.h. */
#include "records.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define RECORDS_FLUSH_MS 100
#define RECORDS_MAX_PENDING 20000	/* beyond this (store failing) the oldest go */
#define RECORDS_PRUNE_EVERY 10		/* flushes: about a second under load */

struct records {
	struct event_base *base;
	struct store *store;
	int64_t retention;
	struct store_invocation *pending;
	size_t n, alloc;
	struct event *timer;
	unsigned flushes;
	uint64_t dropped;
};

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct records *r = arg;
	struct hearth_error *err = NULL;

	if (records_flush(r, &err) < 0) {
		log_error("records: %s (%zu pending, retrying)", err->msg, r->n);
		hearth_error_free(err);
		struct timeval tv = { 1, 0 };
		evtimer_add(r->timer, &tv);
	}
}

int records_new(struct records **out, struct event_base *base, struct store *store,
		int64_t retention, struct hearth_error **err)
{
	struct records *r = calloc(1, sizeof(*r));

	if (!r)
		return hearth_error_make(err, ENOMEM, "out of memory");
	r->base = base;
	r->store = store;
	r->retention = retention;
	r->timer = evtimer_new(base, on_timer, r);
	if (!r->timer) {
		free(r);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	*out = r;
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void records_add(struct records *r, const struct store_invocation *rec)
{
	struct store_invocation *c;

	if (r->n >= RECORDS_MAX_PENDING) {
		store_invocation_clear(&r->pending[0]);
		memmove(&r->pending[0], &r->pending[1], (r->n - 1) * sizeof(*r->pending));
		r->n--;
		if (r->dropped++ % 1000 == 0)
			log_warn("records: the store is not keeping up; dropping the oldest records");
	}
	if (r->n == r->alloc) {
		size_t na = r->alloc ? r->alloc * 2 : 64;
		struct store_invocation *np = realloc(r->pending, na * sizeof(*np));

		if (!np)
			return;
		r->pending = np;
		r->alloc = na;
	}
	c = &r->pending[r->n++];
	*c = *rec;
	c->id = dup_or_null(rec->id);
	c->status = dup_or_null(rec->status);
	c->start_kind = dup_or_null(rec->start_kind);
	c->error_json = dup_or_null(rec->error_json);
	c->logs = dup_or_null(rec->logs);
	c->result = dup_or_null(rec->result);
	if (!evtimer_pending(r->timer, NULL)) {
		struct timeval tv = { 0, RECORDS_FLUSH_MS * 1000 };

		evtimer_add(r->timer, &tv);
	}
}

int records_flush(struct records *r, struct hearth_error **err)
{
	int rc;

	if (r->n == 0)
		return 0;
	rc = store_invocations_insert(r->store, r->pending, r->n, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < r->n; i++)
		store_invocation_clear(&r->pending[i]);
	r->n = 0;
	if (++r->flushes % RECORDS_PRUNE_EVERY == 1 &&
	    store_invocations_prune(r->store, r->retention, NULL) < 0)
		log_warn("records: pruning old records failed");
	return 0;
}

void records_free(struct records *r)
{
	struct hearth_error *err = NULL;

	if (!r)
		return;
	if (records_flush(r, &err) < 0) {
		log_error("records: %zu record(s) lost at exit: %s", r->n, err->msg);
		hearth_error_free(err);
	}
	for (size_t i = 0; i < r->n; i++)
		store_invocation_clear(&r->pending[i]);
	free(r->pending);
	event_free(r->timer);
	free(r);
}
