/* asyncq.c — see asyncq.h.
 *
 * The dispatcher is one timer on the loop.  Whatever may let an attempt
 * start (a call queued, an attempt ended, a retry or an expiry coming due)
 * arms it; a pass walks the functions with queued calls, expires what grew
 * too old (one UPDATE per function), and starts the due calls each
 * function has room for, in next_at order, reading only ids from SQLite
 * until a call is claimed and its payload loaded.  The pass then arms the
 * timer for the next due time, or for a short poll when ordinary calls
 * were waiting: the pool tells nobody when its queues empty.
 *
 * An attempt's outcome is committed (synchronous=FULL) in the invoker's
 * callback, which runs before the attempt is counted, recorded or
 * announced (INVOKE_DONE_FIRST): once anything has heard that a call
 * succeeded, no restart can run it again. */
#include "asyncq.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "bounds.h"
#include "envelope.h"
#include "log.h"
#include "pool.h"
#include "promtext.h"
#include "store.h"
#include "util.h"

/* While ordinary calls wait, attempts hold back; the pool says nothing
 * when they stop waiting, so the dispatcher looks again this soon. */
#define ASYNCQ_PRESSURE_POLL_MS 20
/* Calls read from the queue per look (no more can start at once anyway). */
#define ASYNCQ_FETCH_MAX 32
/* How often old succeeded calls and dead letters are pruned. */
#define ASYNCQ_PRUNE_MS 60000
/* After a store failure the dispatcher tries again this much later. */
#define ASYNCQ_RETRY_STORE_MS 1000

/* What an attempt can end as, for the counters. */
enum aq_outcome { AQ_SUCCESS, AQ_ERROR, AQ_TIMEOUT, AQ_CRASHED, AQ_UNAVAILABLE, AQ_OUTCOMES };
static const char *const outcome_names[AQ_OUTCOMES] = { "success", "error", "timeout", "crashed",
							"unavailable" };
enum aq_dead { AQ_DEAD_RETRIES, AQ_DEAD_EXPIRED, AQ_DEADS };
static const char *const dead_names[AQ_DEADS] = { "retries_exhausted", "expired" };

struct aq_fn {
	int64_t id;
	int max_concurrency, retries, max_age_s;
	int64_t queued;	     /* in the store as queued (due or backing off) */
	int running;	     /* attempts in flight */
	int64_t next_due;    /* no queued call is due before this (epoch ms) */
	int64_t next_expiry; /* no queued call expires before this */
	int batch_add;	     /* asyncq_submit_many's count while it runs */
	uint64_t n_attempts[AQ_OUTCOMES], n_dead[AQ_DEADS], n_rejected, n_redriven;
	TAILQ_ENTRY(aq_fn) link;
};
TAILQ_HEAD(aq_fn_list, aq_fn);

struct aq_attempt {
	struct asyncq *q;
	int64_t function_id;
	bool orphan; /* its function was deleted meanwhile: not counted */
	char call_id[STORE_ASYNC_ID_MAX];
	char request_id[INVOKE_ID_LEN];
	int tries; /* before this one */
	int64_t expires_at, started_ms;
	char *payload;
	size_t len;
	struct invoke_call *call;
	LIST_ENTRY(aq_attempt) link;
};
LIST_HEAD(aq_attempt_list, aq_attempt);

struct asyncq {
	struct event_base *base;
	struct store *store;
	struct invoker *invoker;
	struct pool *pool;
	int queue_max, queue_total, max_running, time_scale;
	struct aq_fn_list fns;
	struct aq_attempt_list attempts;
	int64_t pending; /* queued + running, over every function */
	int running;	 /* attempts in flight */
	bool started, stopping;
	struct event *timer;
	int64_t next_prune;
};

static int64_t scaled(const struct asyncq *q, int64_t ms)
{
	return ms / q->time_scale;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static struct aq_fn *fn_find(const struct asyncq *q, int64_t id)
{
	struct aq_fn *f;

	TAILQ_FOREACH(f, &q->fns, link)
		if (f->id == id)
			return f;
	return NULL;
}

/* How many attempts of f may be in flight at once. */
static int fn_share(const struct aq_fn *f)
{
	int n = f->max_concurrency * ASYNCQ_SHARE_PERCENT / 100;

	return n < 1 ? 1 : n;
}

/* The dispatcher runs at `at` (epoch ms), or at once when that is past. */
static void arm(struct asyncq *q, int64_t at)
{
	int64_t now = util_now_ms(), d = at > now ? at - now : 0;
	struct timeval tv = { (time_t)(d / 1000), (suseconds_t)(d % 1000) * 1000 };

	if (at == INT64_MAX || q->stopping)
		return;
	evtimer_add(q->timer, &tv);
}

static void kick(struct asyncq *q)
{
	if (q->started)
		arm(q, 0);
}

/* The function's counts and due times, as the store has them. */
static int fn_resync(struct asyncq *q, struct aq_fn *f, struct hearth_error **err)
{
	struct store_async_counts c;
	int r;

	if ((r = store_async_counts(q->store, f->id, &c, err)) < 0)
		return r;
	q->pending += c.queued - f->queued;
	f->queued = c.queued;
	f->next_due = c.next_at;
	f->next_expiry = c.expires_at;
	return 0;
}

/* ---- attempts ------------------------------------------------------------------ */

static void attempt_free(struct aq_attempt *a)
{
	free(a->payload);
	free(a);
}

/* The attempt could not be tried (throttled, hearthd stopping): back to
 * the queue, uncounted. */
static void attempt_requeue(struct asyncq *q, struct aq_fn *f, struct aq_attempt *a,
			    int64_t next_at)
{
	_cleanup_error_ struct hearth_error *err = NULL;

	if (store_async_requeue(q->store, a->call_id, next_at, &err) < 0) {
		/* Left running in the store: the next start queues it again. */
		log_error("async: call %s: %s", a->call_id, err->msg);
		q->pending--;
		return;
	}
	f->queued++;
	f->next_due = min64(f->next_due, next_at);
	f->next_expiry = min64(f->next_expiry, a->expires_at);
}

/* The error of an attempt that could not run, as an invocation record
 * writes one. */
static char *unavailable_error(const struct hearth_error *perr)
{
	static const char type[] = "Hearth.Unavailable";
	_cleanup_buf_ struct buf b = BUF_INIT(64 * 1024);
	struct pool_result res = { .status = INVOCATION_ERROR };

	res.error_type = (struct bytes){ type, sizeof(type) - 1 };
	res.error_message = bytes_of_str(perr->msg);
	if (envelope_write_error(&b, &res, NULL) < 0)
		return NULL;
	return buf_detach(&b, NULL);
}

static void on_attempt_done(void *arg, const struct pool_result *res,
			    const struct hearth_error *perr)
{
	struct aq_attempt *a = arg;
	struct asyncq *q = a->q;
	struct aq_fn *f = fn_find(q, a->function_id);
	struct store_async_attempt rec = { 0 };
	struct store_async_outcome out = { 0 };
	_cleanup_error_ struct hearth_error *err = NULL;
	_cleanup_buf_ struct buf ej = BUF_INIT(1u << 20);
	_cleanup_free_ char *logs = NULL, *result = NULL, *perr_json = NULL;
	enum aq_outcome oc;
	int64_t now = util_now_ms();

	LIST_REMOVE(a, link);
	if (a->orphan || !f) { /* deleted: its rows went with it, and its counts */
		attempt_free(a);
		return;
	}
	q->running--;
	f->running--;
	if (!res) {
		switch (perr->status) {
		case EAGAIN: /* the pool's queue wait ran out */
			attempt_requeue(q, f, a, now + scaled(q, ASYNCQ_THROTTLE_MS));
			goto out;
		case ECANCELED: /* hearthd is stopping */
		case ENOENT:	/* the pool lost the function: it is being deleted */
			attempt_requeue(q, f, a, now);
			goto out;
		}
		oc = AQ_UNAVAILABLE;
		rec.status = (char *)"unavailable";
		rec.error_json = perr_json = unavailable_error(perr);
	} else if (q->stopping && res->status == INVOCATION_CRASHED) {
		/* The shutdown removed its container under it: not the
		 * function's failure. */
		attempt_requeue(q, f, a, now);
		goto out;
	} else {
		struct buf lb = BUF_INIT(ENVELOPE_LAMBDA_LOGS_MAX);

		oc = (enum aq_outcome)res->status;
		rec.status = (char *)invocation_status_name(res->status);
		rec.start_kind = (char *)pool_start_name(res->start);
		rec.duration_ms = res->duration_ms;
		rec.init_ms = res->init_ms;
		rec.queue_ms = res->queue_ms;
		rec.max_memory_mb = (int64_t)(res->max_memory_mb + 0.5);
		if (res->status != INVOCATION_SUCCESS && envelope_write_error(&ej, res, NULL) == 0)
			rec.error_json = ej.ptr;
		/* Lambda's lines around the function's output, as the attempt's
		 * invocation record has them (one writer, invoke.h). */
		(void)envelope_write_lambda_logs(&lb, res, INVOKE_LOGS_MAX, util_now_ms(), NULL);
		rec.logs = logs = buf_detach(&lb, NULL);
		if (res->status == INVOCATION_SUCCESS && res->result.len <= INVOKE_RECORD_BODY_MAX)
			rec.result = result = strndup(res->result.ptr, res->result.len);
	}
	rec.request_id = a->request_id;
	rec.at = a->started_ms;
	out.now = now;
	if (oc == AQ_SUCCESS) {
		out.status = "succeeded";
	} else if (a->tries + 1 <= f->retries) {
		/* Lambda's back-off: about a minute, then two; never past the
		 * call's age, where it is dropped as expired instead. */
		out.status = "queued";
		out.next_at = min64(now + scaled(q, (int64_t)ASYNCQ_BACKOFF_MS << a->tries),
				    a->expires_at);
	} else {
		out.status = "failed";
		out.reason = dead_names[AQ_DEAD_RETRIES];
	}
	f->n_attempts[oc]++;
	if (store_async_finish(q->store, a->call_id, &rec, &out, &err) < 0) {
		/* Still running in the store: the next start runs it again. */
		log_error("async: call %s: recording attempt %d: %s", a->call_id, a->tries + 1,
			  err->msg);
		q->pending--;
		goto out;
	}
	if (oc != AQ_SUCCESS)
		log_info("async: call %s of function %" PRId64 ": attempt %d %s%s", a->call_id,
			 f->id, a->tries + 1, rec.status,
			 out.reason ? ", now a dead letter" : ", to be retried");
	if (strcmp(out.status, "queued") == 0) {
		f->queued++;
		f->next_due = min64(f->next_due, out.next_at);
		f->next_expiry = min64(f->next_expiry, a->expires_at);
	} else {
		q->pending--;
		if (out.reason)
			f->n_dead[AQ_DEAD_RETRIES]++;
	}
out:
	attempt_free(a);
	kick(q);
}

/* Claims a due call and starts its attempt: 0 when it started, 1 when the
 * pool refused it (the call waits a while), a negative status when the
 * store failed; for both, the dispatcher looks at f again later. */
static int attempt_start(struct asyncq *q, struct aq_fn *f, const struct store_async_due *d,
			 int64_t now)
{
	_cleanup_error_ struct hearth_error *err = NULL;
	struct aq_attempt *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	a->q = q;
	a->function_id = f->id;
	a->tries = d->tries;
	a->expires_at = d->expires_at;
	a->started_ms = now;
	memcpy(a->call_id, d->id, sizeof(a->call_id)); /* both STORE_ASYNC_ID_MAX */
	if ((r = store_async_claim(q->store, d->id, &a->payload, &a->len, &err)) < 0) {
		log_error("async: claiming call %s: %s", d->id, err->msg);
		attempt_free(a);
		return r;
	}
	f->queued--;
	f->running++;
	q->running++;
	LIST_INSERT_HEAD(&q->attempts, a, link);
	r = invoke_start_ex(q->invoker, f->id, a->payload, a->len,
			    INVOKE_BACKGROUND | INVOKE_DONE_FIRST, on_attempt_done, a, &a->call,
			    &err);
	if (r < 0) {
		/* The pool does not know the function (yet): later. */
		log_warn("async: call %s: %s", d->id, err->msg);
		LIST_REMOVE(a, link);
		q->running--;
		f->running--;
		attempt_requeue(q, f, a, now + scaled(q, ASYNCQ_THROTTLE_MS));
		attempt_free(a);
		return 1;
	}
	snprintf(a->request_id, sizeof(a->request_id), "%s", invoke_call_id(a->call));
	return 0;
}

/* ---- the dispatcher ------------------------------------------------------------ */

/* Drops f's calls that grew too old; -1 when the store failed (it is
 * tried again a little later). */
static int fn_expire(struct asyncq *q, struct aq_fn *f, int64_t now)
{
	_cleanup_error_ struct hearth_error *err = NULL;
	int64_t n = store_async_expire(q->store, f->id, now, &err);

	if (n < 0 || fn_resync(q, f, &err) < 0) {
		log_error("async: expiring calls of function %" PRId64 ": %s", f->id, err->msg);
		f->next_expiry = now + ASYNCQ_RETRY_STORE_MS;
		return -1;
	}
	if (n > 0) {
		f->n_dead[AQ_DEAD_EXPIRED] += (uint64_t)n;
		log_info("async: %" PRId64 " call(s) of function %" PRId64
			 " expired (async_max_age %d s)",
			 n, f->id, f->max_age_s);
	}
	return 0;
}

/* Starts what f has room for; lowers *wake to when f wants a look next. */
static void fn_dispatch(struct asyncq *q, struct aq_fn *f, int64_t now, int64_t *wake)
{
	struct store_async_due due[ASYNCQ_FETCH_MAX];
	struct pool_pressure pp;

	while (f->queued > 0) {
		_cleanup_error_ struct hearth_error *err = NULL;
		int room = fn_share(f) - f->running;
		size_t n = 0, i;

		if (f->next_due > now) {
			*wake = min64(*wake, f->next_due);
			return;
		}
		if (q->max_running - q->running < room)
			room = q->max_running - q->running;
		if (room <= 0)
			return; /* an attempt that ends looks again */
		pool_pressure(q->pool, f->id, &pp);
		if (pp.waiting > 0 || pp.cap_waiting) {
			*wake = min64(*wake, now + ASYNCQ_PRESSURE_POLL_MS);
			return;
		}
		if (room > ASYNCQ_FETCH_MAX)
			room = ASYNCQ_FETCH_MAX;
		if (store_async_due(q->store, f->id, (size_t)room, due, &n, &err) < 0) {
			log_error("async: reading the queue of function %" PRId64 ": %s", f->id,
				  err->msg);
			*wake = min64(*wake, now + ASYNCQ_RETRY_STORE_MS);
			return;
		}
		if (n == 0) { /* the count was off: the store knows */
			if (fn_resync(q, f, &err) < 0 || f->queued > 0)
				*wake = min64(*wake, now + ASYNCQ_RETRY_STORE_MS);
			return;
		}
		for (i = 0; i < n; i++) {
			if (due[i].next_at > now) {
				f->next_due = due[i].next_at;
				break;
			}
			if (due[i].expires_at <= now) {
				if (fn_expire(q, f, now) < 0) {
					*wake = min64(*wake, f->next_expiry);
					return;
				}
				break;
			}
			if (attempt_start(q, f, &due[i], now) != 0) {
				*wake = min64(*wake, now + ASYNCQ_RETRY_STORE_MS);
				return;
			}
		}
		/* All of them started and the queue may hold no more due
		 * calls than were asked for: nothing is known to be due. */
		if (i == n && n < (size_t)room)
			f->next_due = f->queued > 0 ? now + 1 : INT64_MAX;
	}
	f->next_due = INT64_MAX;
}

static void prune(struct asyncq *q)
{
	struct aq_fn *f;

	TAILQ_FOREACH(f, &q->fns, link) {
		_cleanup_error_ struct hearth_error *err = NULL;

		if (store_async_prune(q->store, f->id, q->queue_max, &err) < 0)
			log_warn("async: pruning calls of function %" PRId64 ": %s", f->id,
				 err->msg);
	}
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct asyncq *q = arg;
	int64_t now = util_now_ms(), wake;
	struct aq_fn *f;

	(void)fd;
	(void)what;
	if (q->stopping)
		return;
	if (now >= q->next_prune) {
		prune(q);
		q->next_prune = now + ASYNCQ_PRUNE_MS;
	}
	wake = q->next_prune;
	TAILQ_FOREACH(f, &q->fns, link) {
		if (f->queued == 0)
			continue;
		if (f->next_expiry <= now && fn_expire(q, f, now) < 0) {
			wake = min64(wake, f->next_expiry);
			continue;
		}
		fn_dispatch(q, f, now, &wake);
		if (f->queued > 0)
			wake = min64(wake, f->next_expiry);
	}
	arm(q, wake);
}

/* ---- life cycle ------------------------------------------------------------------ */

int asyncq_new(struct asyncq **out, const struct asyncq_config *cfg, struct hearth_error **err)
{
	struct asyncq *q;

	if (!cfg->base || !cfg->store || !cfg->invoker || !cfg->pool || cfg->queue_max < 1 ||
	    cfg->queue_total < 1 || cfg->max_containers < 1 || cfg->time_scale < 1)
		return hearth_error_make(err, EINVAL, "asyncq: incomplete configuration");
	q = calloc(1, sizeof(*q));
	if (!q)
		return hearth_error_make(err, ENOMEM, "out of memory");
	q->base = cfg->base;
	q->store = cfg->store;
	q->invoker = cfg->invoker;
	q->pool = cfg->pool;
	q->queue_max = cfg->queue_max;
	q->queue_total = cfg->queue_total;
	q->max_running = cfg->max_containers * ASYNCQ_SHARE_PERCENT / 100;
	if (q->max_running < 1)
		q->max_running = 1;
	q->time_scale = cfg->time_scale;
	TAILQ_INIT(&q->fns);
	LIST_INIT(&q->attempts);
	q->timer = evtimer_new(q->base, on_timer, q);
	if (!q->timer) {
		free(q);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	*out = q;
	return 0;
}

static struct aq_fn *fn_take(struct asyncq *q, const struct fn *spec)
{
	struct aq_fn *f = fn_find(q, spec->id);

	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f)
			return NULL;
		f->id = spec->id;
		f->next_due = f->next_expiry = INT64_MAX;
		TAILQ_INSERT_TAIL(&q->fns, f, link);
	}
	f->max_concurrency = spec->max_concurrency;
	f->retries = spec->async_retries;
	f->max_age_s = spec->async_max_age_s;
	return f;
}

int asyncq_start(struct asyncq *q, struct fn *const *fns, size_t n, struct hearth_error **err)
{
	int64_t recovered;
	int r;

	if ((recovered = store_async_recover(q->store, err)) < 0)
		return hearth_error_wrap(err, "async calls");
	if (recovered > 0)
		log_info("async: %" PRId64 " call(s) were running when hearthd stopped: queued "
			 "again",
			 recovered);
	for (size_t i = 0; i < n; i++) {
		struct aq_fn *f = fn_take(q, fns[i]);

		if (!f)
			return hearth_error_make(err, ENOMEM, "out of memory");
		if ((r = fn_resync(q, f, err)) < 0)
			return hearth_error_wrap(err, "async calls");
	}
	if (q->pending > 0)
		log_info("async: %" PRId64 " call(s) queued", q->pending);
	q->started = true;
	q->next_prune = util_now_ms() + ASYNCQ_PRUNE_MS;
	kick(q);
	return 0;
}

void asyncq_function_changed(struct asyncq *q, const struct fn *f)
{
	if (!fn_take(q, f))
		log_error("async: out of memory taking function %" PRId64, f->id);
	kick(q); /* more concurrency may mean more room */
}

void asyncq_function_removed(struct asyncq *q, int64_t id)
{
	struct aq_fn *f = fn_find(q, id);
	struct aq_attempt *a;

	if (!f)
		return;
	/* Its attempts end unrecorded, and hold no shutdown up meanwhile. */
	LIST_FOREACH(a, &q->attempts, link)
		if (a->function_id == id && !a->orphan) {
			a->orphan = true;
			q->running--;
		}
	q->pending -= f->queued + f->running;
	TAILQ_REMOVE(&q->fns, f, link);
	free(f);
}

void asyncq_stop(struct asyncq *q)
{
	struct aq_attempt *a, *next;
	int64_t now = util_now_ms();

	q->stopping = true;
	evtimer_del(q->timer);
	/* Attempts still waiting for a container go back to the queue now:
	 * the drain waits only for those running (the engine may be down and
	 * a container never come). */
	for (a = LIST_FIRST(&q->attempts); a; a = next) {
		struct aq_fn *f = fn_find(q, a->function_id);

		next = LIST_NEXT(a, link);
		if (a->orphan || !f || !invoke_withdraw(a->call))
			continue;
		LIST_REMOVE(a, link);
		q->running--;
		f->running--;
		attempt_requeue(q, f, a, now);
		attempt_free(a);
	}
}

int asyncq_running(const struct asyncq *q)
{
	return q->running;
}

void asyncq_free(struct asyncq *q)
{
	struct aq_attempt *a;
	struct aq_fn *f;

	if (!q)
		return;
	while ((a = LIST_FIRST(&q->attempts)) != NULL) {
		LIST_REMOVE(a, link);
		invoke_abandon(a->call);
		attempt_free(a);
	}
	while ((f = TAILQ_FIRST(&q->fns)) != NULL) {
		TAILQ_REMOVE(&q->fns, f, link);
		free(f);
	}
	event_free(q->timer);
	free(q);
}

/* ---- submitting ------------------------------------------------------------------ */

int asyncq_submit_many(struct asyncq *q, struct asyncq_item *items, size_t n,
		       struct hearth_error **err)
{
	struct store_async_new *rows = calloc(n ? n : 1, sizeof(*rows));
	int64_t now = util_now_ms(), added = 0;
	struct aq_fn *f;
	size_t k = 0;
	int r;

	if (!rows)
		return hearth_error_make(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct asyncq_item *it = &items[i];

		it->id[0] = '\0';
		it->err = NULL;
		f = fn_find(q, it->function_id);
		if (!f) {
			hearth_error_make(&it->err, ENOENT, "no function %" PRId64,
					  it->function_id);
		} else if (it->len > INVOKE_PAYLOAD_MAX) {
			hearth_error_make(&it->err, E2BIG, "the payload is %zu bytes, over %u",
					  it->len, INVOKE_PAYLOAD_MAX);
		} else if (f->queued + f->running + f->batch_add >= q->queue_max) {
			f->n_rejected++;
			hearth_error_make(&it->err, EAGAIN,
					  "function %" PRId64 " has %d async calls queued, "
					  "its most (--async-queue-max)",
					  f->id, q->queue_max);
		} else if (q->pending + added >= q->queue_total) {
			f->n_rejected++;
			hearth_error_make(&it->err, EAGAIN,
					  "%d async calls are queued, the most over every function "
					  "(--async-queue-total)",
					  q->queue_total);
		} else {
			invoke_new_id(q->invoker, it->id);
			rows[k++] = (struct store_async_new){
				.id = it->id,
				.function_id = f->id,
				.payload = it->payload,
				.payload_len = it->len,
				.created_at = now,
				.next_at = now,
				.expires_at = now + scaled(q, (int64_t)f->max_age_s * 1000),
			};
			f->batch_add++;
			added++;
		}
	}
	r = store_async_enqueue(q->store, rows, k, err);
	free(rows);
	TAILQ_FOREACH(f, &q->fns, link) {
		if (!f->batch_add)
			continue;
		if (r == 0) {
			f->queued += f->batch_add;
			f->next_due = min64(f->next_due, now);
			f->next_expiry = min64(f->next_expiry,
					       now + scaled(q, (int64_t)f->max_age_s * 1000));
		}
		f->batch_add = 0;
	}
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			items[i].id[0] = '\0';
		return r;
	}
	q->pending += added;
	if (added)
		kick(q);
	return 0;
}

int asyncq_submit(struct asyncq *q, int64_t function_id, const char *payload, size_t len,
		  char id_out[INVOKE_ID_LEN], struct hearth_error **err)
{
	struct asyncq_item it = { .function_id = function_id, .payload = payload, .len = len };
	int r = asyncq_submit_many(q, &it, 1, err);

	if (r < 0) {
		hearth_error_free(it.err);
		return r;
	}
	if (it.err) {
		r = hearth_error_make(err, it.err->status, "%s", it.err->msg);
		hearth_error_free(it.err);
		return r;
	}
	memcpy(id_out, it.id, INVOKE_ID_LEN);
	return 0;
}

/* ---- dead letters ------------------------------------------------------------------ */

static struct aq_fn *fn_with_room(struct asyncq *q, int64_t function_id, int64_t *room,
				  struct hearth_error **err)
{
	struct aq_fn *f = fn_find(q, function_id);
	int64_t total_room;

	if (!f) {
		hearth_error_make(err, ENOENT, "no function %" PRId64, function_id);
		return NULL;
	}
	*room = q->queue_max - (f->queued + f->running);
	total_room = q->queue_total - q->pending;
	if (total_room < *room)
		*room = total_room;
	return f;
}

int asyncq_redrive(struct asyncq *q, int64_t function_id, const char *call_id,
		   struct hearth_error **err)
{
	int64_t now = util_now_ms(), room, expires;
	struct aq_fn *f = fn_with_room(q, function_id, &room, err);
	int r;

	if (!f)
		return -ENOENT;
	if (room <= 0) {
		f->n_rejected++;
		return hearth_error_make(err, EAGAIN,
					 "the async queue is full (--async-queue-max, "
					 "--async-queue-total)");
	}
	expires = now + scaled(q, (int64_t)f->max_age_s * 1000);
	if ((r = store_async_redrive(q->store, function_id, call_id, now, expires, err)) < 0)
		return r;
	f->queued++;
	f->n_redriven++;
	q->pending++;
	f->next_due = min64(f->next_due, now);
	f->next_expiry = min64(f->next_expiry, expires);
	kick(q);
	return 0;
}

int64_t asyncq_redrive_all(struct asyncq *q, int64_t function_id, struct hearth_error **err)
{
	int64_t now = util_now_ms(), room, expires, n;
	struct aq_fn *f = fn_with_room(q, function_id, &room, err);

	if (!f)
		return -ENOENT;
	if (room <= 0) {
		f->n_rejected++;
		return hearth_error_make(err, EAGAIN,
					 "the async queue is full (--async-queue-max, "
					 "--async-queue-total)");
	}
	expires = now + scaled(q, (int64_t)f->max_age_s * 1000);
	if ((n = store_async_redrive_all(q->store, function_id, now, expires, room, err)) < 0)
		return n;
	f->queued += n;
	f->n_redriven += (uint64_t)n;
	q->pending += n;
	if (n > 0) {
		f->next_due = min64(f->next_due, now);
		f->next_expiry = min64(f->next_expiry, expires);
		kick(q);
	}
	return n;
}

/* ---- metrics ----------------------------------------------------------------------- */

int asyncq_metrics(const struct asyncq *q, struct buf *out, struct hearth_error **err)
{
	const struct aq_fn *f;
	int r;

	if ((r = promtext_header(out, "hearth_async_queued", "gauge",
				 "Asynchronous calls waiting to run (due or backing off), per "
				 "function.",
				 err)) < 0)
		return r;
	TAILQ_FOREACH(f, &q->fns, link)
		if ((r = buf_printf(out, err,
				    "hearth_async_queued{function_id=\"%" PRId64 "\"} %" PRId64
				    "\n",
				    f->id, f->queued)) < 0)
			return r;
	if ((r = promtext_header(out, "hearth_async_running", "gauge",
				 "Attempts of asynchronous calls in flight, per function.", err)) <
	    0)
		return r;
	TAILQ_FOREACH(f, &q->fns, link)
		if ((r = buf_printf(out, err,
				    "hearth_async_running{function_id=\"%" PRId64 "\"} %d\n", f->id,
				    f->running)) < 0)
			return r;
	if ((r = promtext_header(out, "hearth_async_attempts_total", "counter",
				 "Attempts of asynchronous calls by function and outcome.", err)) <
	    0)
		return r;
	TAILQ_FOREACH(f, &q->fns, link)
		for (int o = 0; o < AQ_OUTCOMES; o++)
			if (f->n_attempts[o] &&
			    (r = buf_printf(out, err,
					    "hearth_async_attempts_total{function_id=\"%" PRId64
					    "\",status=\"%s\"} %" PRIu64 "\n",
					    f->id, outcome_names[o], f->n_attempts[o])) < 0)
				return r;
	if ((r = promtext_header(out, "hearth_async_dead_letters_total", "counter",
				 "Asynchronous calls that failed for good, by function and reason.",
				 err)) < 0)
		return r;
	TAILQ_FOREACH(f, &q->fns, link)
		for (int d = 0; d < AQ_DEADS; d++)
			if ((r = buf_printf(out, err,
					    "hearth_async_dead_letters_total{function_id=\"%" PRId64
					    "\",reason=\"%s\"} %" PRIu64 "\n",
					    f->id, dead_names[d], f->n_dead[d])) < 0)
				return r;
	if ((r = promtext_header(out, "hearth_async_rejected_total", "counter",
				 "Asynchronous calls refused with 429 (queue full), per function.",
				 err)) < 0)
		return r;
	TAILQ_FOREACH(f, &q->fns, link)
		if ((r = buf_printf(out, err,
				    "hearth_async_rejected_total{function_id=\"%" PRId64
				    "\"} %" PRIu64 "\n",
				    f->id, f->n_rejected)) < 0)
			return r;
	if ((r = promtext_header(out, "hearth_async_redriven_total", "counter",
				 "Dead letters queued again, per function.", err)) < 0)
		return r;
	TAILQ_FOREACH(f, &q->fns, link)
		if ((r = buf_printf(out, err,
				    "hearth_async_redriven_total{function_id=\"%" PRId64
				    "\"} %" PRIu64 "\n",
				    f->id, f->n_redriven)) < 0)
			return r;
	return 0;
}
