/* call.c — one call's life: it waits in its function's queue (bounded in
 * time), runs on a container (the frame goes out on the shim connection,
 * a backstop timer watches the deadline), and is answered exactly once:
 * with the shim's reply, a result of our own when the shim cannot answer,
 * or an error when it could not run at all.  See pool_private.h. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounds.h"
#include "log.h"
#include "loop.h"
#include "pool_private.h"
#include "util.h"

struct pool_call *call_new(struct pool *p, struct pfn *f, const char *request_id,
			   const void *payload, size_t len, pool_done_cb cb, void *arg)
{
	struct pool_call *call = calloc(1, sizeof(*call));

	if (!call)
		return NULL;
	call->pool = p;
	call->fn = f;
	util_strcpy_cut(call->request_id, sizeof(call->request_id), request_id);
	call->payload = payload;
	call->len = len;
	call->cb = cb;
	call->arg = arg;
	call->enq_ns = util_mono_ns();
	return call;
}

void call_free(struct pool_call *call)
{
	if (call->timer)
		event_free(call->timer);
	free(call);
}

void call_unqueue(struct pool_call *call)
{
	if (!call->queued)
		return;
	TAILQ_REMOVE(&call->fn->queue, call, q);
	call->fn->qlen--;
	if (call->background)
		call->fn->bg_qlen--;
	else
		call->pool->fg_waiting--;
	call->queued = false;
	evtimer_del(call->timer);
}

/* Answers a call that could not run and frees it (from the loop only). */
void call_fail_now(struct pool_call *call, int status, const char *msg)
{
	_cleanup_error_ struct hearth_error *e = NULL;

	call_unqueue(call);
	if (!call->abandoned) {
		hearth_error_make(&e, status, "%s", msg);
		call->cb(call->arg, NULL, e);
	}
	call_free(call);
}

static void on_fails(evutil_socket_t fd, short what, void *arg)
{
	call_fails_flush(arg);
}

int call_fails_init(struct pool *p)
{
	TAILQ_INIT(&p->fails);
	p->fail_ev = event_new(p->base, -1, 0, on_fails, p);
	if (!p->fail_ev)
		return -ENOMEM;
	event_priority_set(p->fail_ev, LOOP_PRIO_BACKEND);
	return 0;
}

/* Answers the deferred failures made so far, in order; those made by the
 * callbacks meanwhile wait for the loop's next pass (their own event). */
void call_fails_flush(struct pool *p)
{
	struct deferred_list now = TAILQ_HEAD_INITIALIZER(now);
	struct deferred_fail *d;

	TAILQ_CONCAT(&now, &p->fails, link);
	while ((d = TAILQ_FIRST(&now)) != NULL) {
		TAILQ_REMOVE(&now, d, link);
		call_fail_now(d->call, d->status, d->msg);
		free(d);
	}
}

/* Fails a call from the loop, never inside pool_execute's caller. */
void call_fail_soon(struct pool_call *call, int status, const char *fmt, ...)
{
	struct pool *p = call->pool;
	struct deferred_fail *d = calloc(1, sizeof(*d));
	va_list ap;

	if (!d) {
		call_fail_now(call, ENOMEM, "out of memory");
		return;
	}
	d->call = call;
	d->status = status;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	call_unqueue(call);
	if (TAILQ_EMPTY(&p->fails))
		event_active(p->fail_ev, EV_TIMEOUT, 0);
	TAILQ_INSERT_TAIL(&p->fails, d, link);
}

/* Callers may sit inside pool_execute(): answers always come from the
 * loop, so a caller never sees its callback before pool_execute returns. */
static void call_fail(struct pool_call *call, int status, const char *msg)
{
	call_fail_soon(call, status, "%s", msg);
}

void pfn_fail_queue(struct pfn *f, int status, const char *msg)
{
	struct pool_call *call;

	while ((call = TAILQ_FIRST(&f->queue)) != NULL)
		call_fail(call, status, msg);
}

void call_queue_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct pool_call *call = arg;
	char msg[160];

	call->fn->pool->n_throttled++;
	snprintf(msg, sizeof(msg), "no container of function %" PRId64 " became free within %d s",
		 call->fn->id, call->fn->spec->timeout_s + POOL_QUEUE_WAIT_EXTRA_S);
	call_fail(call, EAGAIN, msg);
}

void *pool_result_take(const struct pool_result *res)
{
	void *p;

	if (!res->result_block || !*res->result_block || *res->result_block != res->result.ptr)
		return NULL;
	p = *res->result_block;
	*res->result_block = NULL;
	return p;
}

static void result_from_reply(struct pool_result *res, struct ctr *c, struct pool_call *call,
			      const struct shimconn_reply *r)
{
	memset(res, 0, sizeof(*res));
	res->request_id = call->request_id;
	res->function_id = call->fn->id;
	res->revision = c->revision;
	res->status = r->status;
	res->result = r->result;
	res->error_type = r->error_type;
	res->error_message = r->error_message;
	res->error_stack = r->error_stack;
	res->logs = r->logs;
	res->duration_ms = (double)r->duration_us / 1000.0;
	res->max_memory_mb = (double)r->max_rss_kb / 1024.0;
	res->queue_ms = ms_between(call->enq_ns, call->run_ns);
	res->memory_mb = call->fn->spec->memory_mb;
	res->timeout_s = call->fn->spec->timeout_s;
	res->result_block = r->result_block;
	/* A call that waited for this container to come up is its cold or
	 * stem start; one that found it ready is warm. */
	if (c->served == 0 && c->ready_ns >= call->enq_ns) {
		/* init_ms is the part of the start this call waited for: all
		 * of it when the call started the container, less when the
		 * container was already coming up (a min_warm one). */
		double waited = ms_between(call->enq_ns, c->ready_ns);

		res->start = c->origin;
		res->init_ms = c->init_ms < waited ? c->init_ms : waited;
		res->queue_ms = ms_between(call->enq_ns, call->run_ns) - res->init_ms;
		if (res->queue_ms < 0)
			res->queue_ms = 0;
	} else {
		res->start = POOL_START_WARM;
	}
}

/* Ends the container's current call with a synthetic result (the shim did
 * not answer: deadline passed, container died, connection broke). */
void ctr_end_call(struct ctr *c, enum invocation_status st, const char *type, const char *msg)
{
	struct pool_call *call = c->call;
	struct shimconn_reply r = { 0 };
	struct pool_result res;

	if (!call)
		return;
	c->call = NULL;
	/* The caller's payload may go in the callback: the lane stops
	 * sending it (the container goes after this). */
	shimconn_payload_going(c->conn, false);
	r.status = st;
	r.error_type = (struct bytes){ type, strlen(type) };
	r.error_message = (struct bytes){ msg, strlen(msg) };
	r.duration_us = (uint64_t)((util_mono_ns() - call->run_ns) / 1000);
	result_from_reply(&res, c, call, &r);
	c->served++;
	c->pool->n_started[res.start]++;
	if (!call->abandoned)
		call->cb(call->arg, &res, NULL);
	call_free(call);
}

/* A call or the warm-up is waiting for this container of f: answer the
 * queued calls with the handler's init error, the way Lambda answers an
 * invocation whose init failed. */
void pfn_fail_init(struct pfn *f, struct ctr *c, struct bytes type, struct bytes message)
{
	struct pool_call *call;

	f->init_failed_rev = c->revision;
	while ((call = TAILQ_FIRST(&f->queue)) != NULL) {
		struct shimconn_reply r = { 0 };
		struct pool_result res;

		call_unqueue(call);
		call->run_ns = util_mono_ns();
		r.status = INVOCATION_ERROR;
		r.error_type = type;
		r.error_message = message;
		result_from_reply(&res, c, call, &r);
		res.start = c->origin;
		res.init_ms = ms_between(c->init_start_ns, util_mono_ns());
		if (!call->abandoned)
			call->cb(call->arg, &res, NULL);
		call_free(call);
	}
}

static void on_reply(void *arg, const struct shimconn_reply *r, const struct hearth_error *err)
{
	struct ctr *c = arg;
	struct pool_call *call = c->call;
	struct pool_result res;
	bool recycle;

	evtimer_del(c->timer);
	if (!call)
		return;
	if (!r) {
		ctr_remove(c, err ? err->msg : "shim connection broke");
		return;
	}
	c->call = NULL;
	result_from_reply(&res, c, call, r);
	c->served++;
	c->pool->n_started[res.start]++;
	recycle = res.status == INVOCATION_TIMEOUT || res.status == INVOCATION_CRASHED;
	/* The container stays BUSY during the callback, so a call the callback
	 * starts queues instead of re-entering this connection. */
	if (!call->abandoned)
		call->cb(call->arg, &res, NULL);
	call_free(call);
	if (c->state == CTR_REMOVING)
		return;
	if (recycle)
		ctr_remove(c, res.status == INVOCATION_TIMEOUT ? "the call timed out"
							       : "the runtime crashed");
	else
		ctr_became_idle(c);
}

static void on_backstop(evutil_socket_t fd, short what, void *arg)
{
	struct ctr *c = arg;
	char msg[128];

	if (!c->call)
		return;
	/* The same words as the shim's own timeout answer. */
	snprintf(msg, sizeof(msg), "Task timed out after %d ms", c->fn->spec->timeout_s * 1000);
	ctr_end_call(c, INVOCATION_TIMEOUT, "Runtime.Timeout", msg);
	ctr_remove(c, "the shim did not answer by the deadline");
}

void ctr_run(struct ctr *c, struct pool_call *call)
{
	struct hearth_error *err = NULL;
	unsigned timeout_ms = (unsigned)c->fn->spec->timeout_s * 1000u;
	struct timeval tv;

	ctr_set_state(c, CTR_BUSY);
	c->call = call;
	call->ctr = c;
	call->run_ns = util_mono_ns();
	if (shimconn_invoke(c->conn, call->request_id, timeout_ms, call->payload, call->len,
			    on_reply, c, &err) < 0) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		hearth_error_free(err);
		c->call = NULL;
		call->ctr = NULL;
		call_fail_soon(call, EIO, "%s", msg);
		ctr_remove(c, msg);
		return;
	}
	/* The pool is done with the payload; the connection may still send
	 * from it (shimconn_invoke) until the reply or
	 * shimconn_payload_going. */
	call->payload = NULL;
	event_assign(c->timer, c->pool->base, -1, 0, on_backstop, c);
	tv.tv_sec = (timeout_ms + POOL_BACKSTOP_MS) / 1000;
	tv.tv_usec = (suseconds_t)((timeout_ms + POOL_BACKSTOP_MS) % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}
