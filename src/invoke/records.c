/* records.c — see records.h.
 *
 * The batches are written by a thread of their own, on a SQLite connection
 * of its own: a transaction of a few hundred rows takes milliseconds, a WAL
 * checkpoint (fdatasync) tens of them on a busy disk, and neither may stall
 * the event loop that answers calls.
 *
 * Memory is bounded whatever the store does: the records waiting for the
 * writer are capped in number and in bytes (a record keeps up to 64 KB
 * each of logs, result and event), and when the store cannot take a batch
 * (the disk is full, say) the batch is dropped, counted and logged (once
 * when it starts, then every RECORDS_LOG_EVERY_S), never kept to retry. */
#include "records.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "promtext.h"
#include "util.h"

#define RECORDS_FLUSH_MS 100
/* Beyond either (a writer far behind) the oldest records go. */
#define RECORDS_MAX_PENDING 20000
#define RECORDS_MAX_PENDING_BYTES (32u << 20)
#define RECORDS_PRUNE_EVERY 10 /* flushes: about a second under load */
#define RECORDS_LOG_EVERY_S 10 /* while batches fail, a line this often */

struct records {
	struct store *wstore; /* the writer thread's connection */
	int64_t retention;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake, done;
	/* under mu: */
	struct store_invocation *pending;
	size_t n, alloc;
	size_t bytes;		  /* the strings of the pending records */
	uint64_t queued, written; /* records handed over / written or dropped */
	bool flush_now, stop, failing;
	uint64_t dropped; /* not written: the store failed, or the writer fell behind */
};

static size_t rec_bytes(const struct store_invocation *v)
{
	const char *const s[] = { v->id,   v->status, v->start_kind, v->error_json,
				  v->logs, v->result, v->payload };
	size_t n = sizeof(*v);

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		n += s[i] ? strlen(s[i]) + 1 : 0;
	return n;
}

static void batch_free(struct store_invocation *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_invocation_clear(&b[i]);
	free(b);
}

static void *writer(void *arg)
{
	struct records *r = arg;
	unsigned flushes = 0;
	int64_t last_log_ns = 0;
	uint64_t dropped_at_failure = 0;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct store_invocation *batch;
		struct hearth_error *err = NULL;
		size_t bn;
		uint64_t upto, dropped;
		bool was_failing;
		int rc;

		while (r->n == 0 && !r->stop)
			pthread_cond_wait(&r->wake, &r->mu);
		if (r->n == 0 && r->stop)
			break;
		if (!r->flush_now && !r->stop) {
			/* let a batch pile up (or a reader ask for it) */
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += RECORDS_FLUSH_MS * 1000000L;
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			while (!r->flush_now && !r->stop &&
			       pthread_cond_timedwait(&r->wake, &r->mu, &ts) != ETIMEDOUT)
				;
		}
		batch = r->pending;
		bn = r->n;
		upto = r->queued;
		r->pending = NULL;
		r->n = r->alloc = 0;
		r->bytes = 0;
		r->flush_now = false;
		was_failing = r->failing;
		dropped = r->dropped;
		pthread_mutex_unlock(&r->mu);

		rc = store_invocations_insert(r->wstore, batch, bn, &err);
		if (rc < 0) {
			int64_t now = util_mono_ns();

			/* Dropped, not kept: a full disk must not become a
			 * full memory.  One line when it starts, then a few. */
			if (!was_failing) {
				log_error("records: %s: dropping invocation records until the "
					  "store takes them again (%zu now)",
					  err->msg, bn);
				last_log_ns = now;
				dropped_at_failure = dropped;
			} else if (now - last_log_ns >= RECORDS_LOG_EVERY_S * 1000000000LL) {
				log_error("records: still failing (%s): %" PRIu64
					  " records dropped so far",
					  err->msg, dropped + bn - dropped_at_failure);
				last_log_ns = now;
			}
			hearth_error_free(err);
		} else {
			if (was_failing)
				log_info("records: written again after %" PRIu64
					 " records were dropped",
					 dropped - dropped_at_failure);
			if (++flushes % RECORDS_PRUNE_EVERY == 1 &&
			    store_invocations_prune(r->wstore, r->retention, NULL) < 0)
				log_warn("records: pruning old records failed");
		}
		batch_free(batch, bn);

		pthread_mutex_lock(&r->mu);
		r->failing = rc < 0;
		if (rc < 0)
			r->dropped += bn;
		r->written = upto;
		pthread_cond_broadcast(&r->done);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int records_new(struct records **out, const char *db_path, int64_t retention,
		struct hearth_error **err)
{
	struct records *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return hearth_error_make(err, ENOMEM, "out of memory");
	r->retention = retention;
	if ((rc = store_open(&r->wstore, db_path, err)) < 0) {
		free(r);
		return rc;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->wake, NULL);
	pthread_cond_init(&r->done, NULL);
	if ((rc = pthread_create(&r->thread, NULL, writer, r)) != 0) {
		store_close(r->wstore);
		free(r);
		return hearth_error_errno(err, rc, "records: cannot start the writer thread");
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

	pthread_mutex_lock(&r->mu);
	while (r->n > 0 && (r->n >= RECORDS_MAX_PENDING || r->bytes >= RECORDS_MAX_PENDING_BYTES)) {
		r->bytes -= rec_bytes(&r->pending[0]);
		store_invocation_clear(&r->pending[0]);
		memmove(&r->pending[0], &r->pending[1], (r->n - 1) * sizeof(*r->pending));
		r->n--;
		if (r->dropped++ % 1000 == 0)
			log_warn(
				"records: the store is not keeping up; dropping the oldest records");
	}
	if (r->n == r->alloc) {
		size_t na = r->alloc ? r->alloc * 2 : 64;
		struct store_invocation *np = realloc(r->pending, na * sizeof(*np));

		if (!np)
			goto out;
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
	c->payload = dup_or_null(rec->payload);
	r->bytes += rec_bytes(c);
	r->queued++;
	if (r->n == 1)
		pthread_cond_signal(&r->wake);
out:
	pthread_mutex_unlock(&r->mu);
}

/* Readers wait (on the loop: a control-plane request) until every record
 * handed over so far is written, or dropped: what could not be written is
 * counted and logged, and the reader gets what the store has. */
int records_flush(struct records *r, struct hearth_error **err)
{
	uint64_t want;

	pthread_mutex_lock(&r->mu);
	want = r->queued;
	if (r->written < want) {
		r->flush_now = true;
		pthread_cond_signal(&r->wake);
		while (r->written < want)
			pthread_cond_wait(&r->done, &r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return 0;
}

int records_metrics(struct records *r, struct buf *out, struct hearth_error **err)
{
	uint64_t dropped, pending, bytes;
	int rc;

	pthread_mutex_lock(&r->mu);
	dropped = r->dropped;
	pending = r->n;
	bytes = r->bytes;
	pthread_mutex_unlock(&r->mu);
	if ((rc = promtext_single(out, "hearth_records_dropped_total", "counter",
				  "Invocation records never written (store failing, or behind).",
				  dropped, err)) < 0 ||
	    (rc = promtext_single(out, "hearth_records_pending", "gauge",
				  "Invocation records waiting for the next batch.", pending, err)) <
		    0)
		return rc;
	return promtext_single(out, "hearth_records_pending_bytes", "gauge",
			       "Memory held by the records waiting for the next batch.", bytes,
			       err);
}

void records_free(struct records *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL); /* it writes what is pending first */
	batch_free(r->pending, r->n);
	store_close(r->wstore);
	pthread_cond_destroy(&r->wake);
	pthread_cond_destroy(&r->done);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
