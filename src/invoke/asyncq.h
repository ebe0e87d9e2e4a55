/* asyncq.h — asynchronous calls: accepted durably, run later through the
 * invoker when capacity allows, retried with back-off, dead-lettered when
 * they fail for good or grow too old, and re-driven on request.  The
 * queue lives in SQLite (store.h's async calls); in memory there are only
 * counts per function and the attempts in flight, so a restart (even
 * after kill -9) finds every accepted call where it was.
 *
 * Fairness to synchronous calls: an attempt starts only while none of its
 * function's ordinary calls waits for a container, none waits anywhere
 * while the pool is at --max-containers, fewer than half of the function's
 * max_concurrency are held by attempts, and fewer than half of
 * --max-containers over every function; in the pool an attempt yields to
 * every ordinary call (pool_execute_background).  docs/ARCHITECTURE.md,
 * "Asynchronous calls", has the rest.  No HTTP here. */
#ifndef HEARTH_ASYNCQ_H
#define HEARTH_ASYNCQ_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "buf.h"
#include "error.h"
#include "function.h"
#include "invoke.h"

struct asyncq;
struct store;
struct pool;

/* Lambda waits about a minute before the first retry, then two. */
#define ASYNCQ_BACKOFF_MS 60000
/* An attempt the pool throttled is not counted; it waits this long. */
#define ASYNCQ_THROTTLE_MS 1000
/* The share of a function's max_concurrency (and of --max-containers)
 * that attempts may hold at once (at least one). */
#define ASYNCQ_SHARE_PERCENT 50

struct asyncq_config {
	struct event_base *base;
	struct store *store; /* the loop's connection */
	struct invoker *invoker;
	struct pool *pool;
	int queue_max;	    /* calls queued or running, per function */
	int queue_total;    /* the same, over every function */
	int max_containers; /* the pool's cap, of which attempts take a share */
	int time_scale;	    /* divides every delay and age (tests only); >= 1 */
};

int asyncq_new(struct asyncq **out, const struct asyncq_config *cfg, struct hearth_error **err);
/* Daemon start: learns every function, queues again the calls an earlier
 * hearthd left running, counts the queues and starts dispatching. */
int asyncq_start(struct asyncq *q, struct fn *const *fns, size_t n, struct hearth_error **err);
/* A function was created or changed (its concurrency, retries, age).
 * Only memory can fail, which is logged: the function's calls are then
 * refused (-ENOENT) until its next change. */
void asyncq_function_changed(struct asyncq *q, const struct fn *f);
/* A function was deleted: its calls went with its rows; attempts in
 * flight end unrecorded. */
void asyncq_function_removed(struct asyncq *q, int64_t id);

/* Queues one call, committed durably before it returns 0 with its id.
 * -ENOENT no such function; -EAGAIN the queue is full (HTTP 429); -E2BIG
 * over INVOKE_PAYLOAD_MAX.  The payload is JSON text the caller checked. */
int asyncq_submit(struct asyncq *q, int64_t function_id, const char *payload, size_t len,
		  char id_out[INVOKE_ID_LEN], struct hearth_error **err);
/* Many at once, in one transaction: each item ends with an id, or with its
 * own error (err, which the caller frees, whatever the return).  A
 * negative return (the store failed) means none was queued. */
struct asyncq_item {
	int64_t function_id;
	const char *payload;
	size_t len;
	char id[INVOKE_ID_LEN];	  /* when queued */
	struct hearth_error *err; /* when refused */
};
int asyncq_submit_many(struct asyncq *q, struct asyncq_item *items, size_t n,
		       struct hearth_error **err);

/* A dead letter queued again with fresh tries and a fresh age: -ENOENT the
 * function has no such call, -EEXIST it is not a dead letter, -EAGAIN the
 * queue is full. */
int asyncq_redrive(struct asyncq *q, int64_t function_id, const char *call_id,
		   struct hearth_error **err);
/* Every dead letter of the function (oldest first), as far as the queue
 * has room; returns how many, or -EAGAIN when it has none. */
int64_t asyncq_redrive_all(struct asyncq *q, int64_t function_id, struct hearth_error **err);

/* Prometheus text: queued and running calls, attempts, dead letters and
 * refusals per function. */
int asyncq_metrics(const struct asyncq *q, struct buf *out, struct hearth_error **err);

/* SIGTERM: no new attempt starts; those waiting for a container go back
 * to the queue, those running end (asyncq_running counts them), and one
 * the shutdown cuts short goes back to the queue uncounted. */
void asyncq_stop(struct asyncq *q);
int asyncq_running(const struct asyncq *q);
/* Abandons the attempts still in flight (they run again after a restart). */
void asyncq_free(struct asyncq *q);

#endif
