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
 * when it starts, then every RECORDS_LOG_EVERY_S), never kept to retry.
 *
 * The loop's share is one allocation and a few copies per call
 * (records_entry_new), and a pointer handed over under the lock; the
 * writer thread formats the record (Lambda's log lines, the error's JSON)
 * before it writes the batch. */
#include "records.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>

#include "envelope.h"
#include "jsontext.h"
#include "log.h"
#include "promtext.h"
#include "util.h"

#define RECORDS_FLUSH_MS 100
/* Beyond either (a writer far behind) the oldest records go. */
#define RECORDS_MAX_PENDING 20000
#define RECORDS_MAX_PENDING_BYTES (32u << 20)
#define RECORDS_LOG_EVERY_S 10 /* while batches fail, a line this often */

struct records {
	struct store *wstore; /* the writer thread's connection */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake, done;
	/* under mu: */
	struct records_entry **pending;
	size_t n, alloc;
	size_t bytes;		  /* what the pending entries hold */
	uint64_t queued, written; /* records handed over / written or dropped */
	bool flush_now, stop, failing;
	bool off;	  /* retention 0: no records, no writer thread */
	uint64_t dropped; /* not written: the store failed, or the writer fell behind */
};

/* A call's ending as the pool told it, its bytes copied behind it: all the
 * record needs, nothing formatted yet. */
struct records_entry {
	struct pool_result res; /* its strings and bytes point into data */
	int64_t created_ms, ended_ms;
	const char *payload; /* NUL-terminated, or NULL (over the record's cap) */
	size_t size;	     /* the allocation */
	char data[];
};

static char *put(char **at, const char *src, size_t len)
{
	char *p = *at;

	if (len)
		memcpy(p, src, len);
	p[len] = '\0';
	*at += len + 1;
	return p;
}

static struct bytes put_bytes(char **at, struct bytes b)
{
	return (struct bytes){ b.len ? put(at, b.ptr, b.len) : NULL, b.len };
}

/* An error's part kept in a record: the writer keeps the error's JSON up
 * to 1 MiB, so more would be held only to be dropped. */
#define RECORDS_ERROR_PART_MAX (256u * HEARTH_KiB)

static struct bytes capped(struct bytes b)
{
	return (struct bytes){ b.ptr,
			       b.len > RECORDS_ERROR_PART_MAX ? RECORDS_ERROR_PART_MAX : b.len };
}

struct records_entry *records_entry_new(const struct pool_result *res, int64_t created_ms,
					const char *payload, size_t payload_len)
{
	bool ok = res->status == INVOCATION_SUCCESS;
	size_t logs = res->logs.len > INVOKE_LOGS_MAX ? INVOKE_LOGS_MAX : res->logs.len;
	size_t result = ok && res->result.len <= INVOKE_RECORD_BODY_MAX ? res->result.len : 0;
	bool keep_payload = payload && payload_len <= INVOKE_RECORD_BODY_MAX;
	size_t size = sizeof(struct records_entry) + strlen(res->request_id) + 1 + logs + 1 +
		      (result ? result + 1 : 0) + (keep_payload ? payload_len + 1 : 0);
	struct records_entry *e;
	char *at;

	if (!ok)
		size += capped(res->error_type).len + capped(res->error_message).len +
			capped(res->error_stack).len + 3;
	e = malloc(size);
	if (!e)
		return NULL;
	at = e->data;
	e->size = size;
	e->created_ms = created_ms;
	e->ended_ms = util_now_ms();
	e->res = *res;
	e->res.request_id = put(&at, res->request_id, strlen(res->request_id));
	e->res.logs = put_bytes(&at, (struct bytes){ res->logs.ptr, logs });
	e->res.result = result ? put_bytes(&at, res->result) : (struct bytes){ NULL, 0 };
	if (ok) {
		e->res.error_type = e->res.error_message = e->res.error_stack = (struct bytes){
			NULL, 0
		};
	} else {
		e->res.error_type = put_bytes(&at, capped(res->error_type));
		e->res.error_message = put_bytes(&at, capped(res->error_message));
		e->res.error_stack = put_bytes(&at, capped(res->error_stack));
	}
	e->payload = keep_payload ? put(&at, payload, payload_len) : NULL;
	return e;
}

/* The row of an entry, formatted (on the writer thread); *owned gets what
 * was allocated for it. */
static void entry_row(const struct records_entry *e, struct store_invocation *v, char *owned[2])
{
	const struct pool_result *res = &e->res;
	struct buf ej = BUF_INIT(1u << 20);

	memset(v, 0, sizeof(*v));
	v->id = (char *)res->request_id;
	v->function_id = res->function_id;
	v->revision = res->revision;
	v->status = (char *)invocation_status_name(res->status);
	v->start_kind = (char *)pool_start_name(res->start);
	v->created_at = e->created_ms;
	v->duration_ms = res->duration_ms;
	v->init_ms = res->init_ms;
	v->queue_ms = res->queue_ms;
	v->max_memory_mb = (int64_t)(res->max_memory_mb + 0.5);
	owned[0] = owned[1] = NULL;
	if (res->status != INVOCATION_SUCCESS && envelope_write_error(&ej, res, NULL) == 0)
		v->error_json = owned[0] = buf_detach(&ej, NULL);
	buf_release(&ej);
	/* A crash's REPORT line names its error type, read back from the
	 * error: without the error stored (out of memory), the lines now. */
	if (res->memory_mb > 0 && (res->status != INVOCATION_CRASHED || v->error_json)) {
		/* What the function printed, as it is: Lambda's lines around
		 * it are made when the record is read (records_logs). */
		v->memory_mb = res->memory_mb;
		v->timeout_s = res->timeout_s;
		v->ended_at = e->ended_ms;
		v->logs = (char *)res->logs.ptr;
	} else {
		struct buf logs = BUF_INIT(ENVELOPE_LAMBDA_LOGS_MAX);

		/* Nothing to make them from later: the lines now (out of
		 * memory, the record keeps what was written). */
		(void)envelope_write_lambda_logs(&logs, res, INVOKE_LOGS_MAX, e->ended_ms, NULL);
		v->logs = owned[1] = buf_detach(&logs, NULL);
	}
	v->result = (char *)res->result.ptr;
	v->payload = (char *)e->payload;
}

char *records_logs(const struct store_invocation *r)
{
	struct pool_result res = { 0 };
	struct buf b = BUF_INIT(ENVELOPE_LAMBDA_LOGS_MAX);
	json_object *ej = NULL, *type;
	char *out;

	if (r->memory_mb <= 0)
		return strdup(r->logs ? r->logs : "");
	res.request_id = r->id ? r->id : "";
	res.logs = r->logs ? bytes_of_str(r->logs) : (struct bytes){ NULL, 0 };
	res.status = INVOCATION_CRASHED;
	for (int i = 0; i < INVOCATION_STATUS_N; i++)
		if (r->status && strcmp(r->status, invocation_status_name(i)) == 0)
			res.status = i;
	res.start = r->start_kind && strcmp(r->start_kind, pool_start_name(POOL_START_WARM)) == 0
			    ? POOL_START_WARM
			    : POOL_START_COLD;
	res.duration_ms = r->duration_ms;
	res.init_ms = r->init_ms;
	res.max_memory_mb = (double)r->max_memory_mb;
	res.memory_mb = (int)r->memory_mb;
	res.timeout_s = (int)r->timeout_s;
	if (res.status == INVOCATION_CRASHED && r->error_json &&
	    (ej = jsontext_tree(r->error_json)) != NULL &&
	    json_object_object_get_ex(ej, "type", &type) &&
	    json_object_is_type(type, json_type_string))
		res.error_type = (struct bytes){ json_object_get_string(type),
						 (size_t)json_object_get_string_len(type) };
	/* Past the buffer's bound (a crash's long error type), what was
	 * written, as the writer kept before schema 6; NULL only when
	 * nothing could be. */
	(void)envelope_write_lambda_logs(&b, &res, INVOKE_LOGS_MAX, r->ended_at, NULL);
	out = b.len > 0 ? buf_detach(&b, NULL) : NULL;
	buf_release(&b);
	json_object_put(ej);
	return out;
}

/* Rows per transaction: a sixteenth of the batch, between
 * RECORDS_PIECE_MIN and _MAX.  A heavy load (thousands of calls in a
 * flush) gets fewer commits, and each commit's cost (the same last pages
 * of the table and its indexes written to the WAL again) is shared by
 * more rows (bench/RESULTS.md, bench/records_rows).  Whatever the piece,
 * the writer lets the CPU go every RECORDS_YIELD_EVERY rows (inside a
 * transaction too: store_set_yield_every), a few tens of microseconds of
 * its work between two chances for the loop to take the CPU back: on 2
 * CPUs the writer is what makes the tail of single calls (bench/
 * RESULTS.md). */
size_t records_piece_rows(size_t n)
{
	size_t piece = n / 16;

	return piece < RECORDS_PIECE_MIN   ? RECORDS_PIECE_MIN
	       : piece > RECORDS_PIECE_MAX ? RECORDS_PIECE_MAX
					   : piece;
}

/* Formats and writes a batch, a piece of rows to a transaction, and lets
 * the CPU go between pieces: the loop, woken on the CPU this thread
 * holds, would otherwise wait there for the whole batch (milliseconds;
 * bench/RESULTS.md).  *lost counts the rows of the pieces the store
 * refused; the first refusal is the error. */
static int batch_write(struct store *s, struct records_entry **batch, size_t n, size_t *lost,
		       struct hearth_error **err)
{
	size_t piece = records_piece_rows(n);
	int rc = 0;

	*lost = 0;
	for (size_t at = 0; at < n; at += piece) {
		struct store_invocation rows[RECORDS_PIECE_MAX];
		char *owned[RECORDS_PIECE_MAX][2];
		size_t k = n - at < piece ? n - at : piece;
		int r;

		for (size_t i = 0; i < k; i++)
			entry_row(batch[at + i], &rows[i], owned[i]);
		r = store_invocations_insert(s, rows, k, rc < 0 ? NULL : err);
		for (size_t i = 0; i < k; i++) {
			free(owned[i][0]);
			free(owned[i][1]);
		}
		if (r < 0) {
			*lost += k;
			rc = rc < 0 ? rc : r;
		}
		sched_yield();
	}
	return rc;
}

static void batch_free(struct records_entry **b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b[i]);
	free(b);
}

static void *writer(void *arg)
{
	struct records *r = arg;
	int64_t last_log_ns = 0;
	uint64_t dropped_at_failure = 0;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct records_entry **batch;
		struct hearth_error *err = NULL;
		size_t bn;
		uint64_t upto, dropped;
		size_t lost;
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

		rc = batch_write(r->wstore, batch, bn, &lost, &err);
		if (rc < 0) {
			int64_t now = util_mono_ns();

			/* Dropped, not kept: a full disk must not become a
			 * full memory.  One line when it starts, then a few. */
			if (!was_failing) {
				log_error("records: %s: dropping invocation records until the "
					  "store takes them again (%zu now)",
					  err->msg, lost);
				last_log_ns = now;
				dropped_at_failure = dropped;
			} else if (now - last_log_ns >= RECORDS_LOG_EVERY_S * 1000000000LL) {
				log_error("records: still failing (%s): %" PRIu64
					  " records dropped so far",
					  err->msg, dropped + lost - dropped_at_failure);
				last_log_ns = now;
			}
			hearth_error_free(err);
		} else {
			if (was_failing)
				log_info("records: written again after %" PRIu64
					 " records were dropped",
					 dropped - dropped_at_failure);
		}
		batch_free(batch, bn);

		pthread_mutex_lock(&r->mu);
		r->failing = rc < 0;
		if (rc < 0)
			r->dropped += lost;
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
	if ((rc = store_open(&r->wstore, db_path, err)) < 0) {
		free(r);
		return rc;
	}
	if (retention == 0) {
		/* None kept: the ones an earlier run kept go too, and no
		 * thread is started. */
		int64_t gone = store_invocations_prune(r->wstore, 0, err);

		store_close(r->wstore);
		r->wstore = NULL;
		if (gone < 0) {
			free(r);
			return (int)gone;
		}
		if (gone > 0)
			log_info("records: --retention 0: deleted the %" PRId64
				 " invocation records kept before",
				 gone);
		r->off = true;
	} else {
		store_set_yield_every(r->wstore, RECORDS_YIELD_EVERY);
		/* Old records go with each piece of new ones, in its commit (a
		 * second's worth deleted at once took ~100 ms: bench/RESULTS.md). */
		store_set_retention(r->wstore, retention);
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->wake, NULL);
	pthread_cond_init(&r->done, NULL);
	if (!r->off && (rc = pthread_create(&r->thread, NULL, writer, r)) != 0) {
		store_close(r->wstore);
		free(r);
		return hearth_error_errno(err, rc, "records: cannot start the writer thread");
	}
	*out = r;
	return 0;
}

bool records_on(const struct records *r)
{
	return !r->off;
}

void records_push(struct records *r, struct records_entry *e)
{
	if (r->off) {
		free(e);
		return;
	}
	pthread_mutex_lock(&r->mu);
	if (!e) {
		/* records_entry_new ran out of memory: lost, and counted */
		r->dropped++;
		pthread_mutex_unlock(&r->mu);
		return;
	}
	while (r->n > 0 && (r->n >= RECORDS_MAX_PENDING || r->bytes >= RECORDS_MAX_PENDING_BYTES)) {
		r->bytes -= r->pending[0]->size;
		free(r->pending[0]);
		memmove(&r->pending[0], &r->pending[1], (r->n - 1) * sizeof(*r->pending));
		r->n--;
		if (r->dropped++ % 1000 == 0)
			log_warn(
				"records: the store is not keeping up; dropping the oldest records");
	}
	if (r->n == r->alloc) {
		size_t na = r->alloc ? r->alloc * 2 : 64;
		struct records_entry **np = realloc(r->pending, na * sizeof(*np));

		if (!np) {
			r->dropped++;
			pthread_mutex_unlock(&r->mu);
			free(e);
			return;
		}
		r->pending = np;
		r->alloc = na;
	}
	r->pending[r->n++] = e;
	r->bytes += e->size;
	r->queued++;
	if (r->n == 1)
		pthread_cond_signal(&r->wake);
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
	if (!r->off) {
		pthread_mutex_lock(&r->mu);
		r->stop = true;
		pthread_cond_signal(&r->wake);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->thread, NULL); /* it writes what is pending first */
	}
	batch_free(r->pending, r->n);
	store_close(r->wstore);
	pthread_cond_destroy(&r->wake);
	pthread_cond_destroy(&r->done);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
