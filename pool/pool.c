/* pool.c — see pool.h: the pool's public operations.  How the work is
 * split among the pool's files is in pool_private.h. */
#include "pool.h"

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
#include "pool_private.h"
#include "strmap.h"
#include "util.h"

static const char *const lang_names[LANG_N] = { "python", "node" };

int pool_lang_of(const char *s)
{
	for (int i = 0; i < LANG_N; i++)
		if (strcmp(s, lang_names[i]) == 0)
			return i;
	return -1;
}

const char *pool_lang_name(enum lang l)
{
	return (unsigned)l < LANG_N ? lang_names[l] : "?";
}

struct pfn *pfn_find(struct pool *p, int64_t id)
{
	struct pfn *f;

	TAILQ_FOREACH(f, &p->fns, link)
		if (f->id == id)
			return f;
	return NULL;
}

void pfn_free(struct pfn *f)
{
	fn_free(f->spec);
	free(f);
}

const struct fn *pool_function_spec(struct pool *p, int64_t function_id)
{
	struct pfn *f = p ? pfn_find(p, function_id) : NULL;

	return f && !f->deleted ? f->spec : NULL;
}

bool pool_knows(struct pool *p, int64_t function_id)
{
	struct pfn *f = p ? pfn_find(p, function_id) : NULL;

	return f && !f->deleted;
}

/* Ordinary calls go before the first background one: a background call
 * never holds a place an ordinary call could take. */
static void enqueue(struct pfn *f, struct pool_call *call)
{
	struct pool_call *c, *first_bg = NULL;

	if (!call->background)
		for (c = TAILQ_LAST(&f->queue, call_list); c && c->background;
		     c = TAILQ_PREV(c, call_list, q))
			first_bg = c;
	if (first_bg)
		TAILQ_INSERT_BEFORE(first_bg, call, q);
	else
		TAILQ_INSERT_TAIL(&f->queue, call, q);
	f->qlen++;
	if (call->background)
		f->bg_qlen++;
	else
		f->pool->fg_waiting++;
	call->queued = true;
}

static int execute(struct pool *p, int64_t function_id, const char *request_id, const void *payload,
		   size_t len, bool background, pool_done_cb cb, void *arg,
		   struct pool_call **callp, struct hearth_error **err)
{
	struct pfn *f = pfn_find(p, function_id);
	struct pool_call *call;
	struct ctr *idle;

	if (!f || f->deleted)
		return hearth_error_make(err, ENOENT, "function %" PRId64 " is not in the pool",
					 function_id);
	call = call_new(p, f, request_id, payload, len, cb, arg);
	if (!call)
		return hearth_error_make(err, ENOMEM, "out of memory");
	call->background = background;
	if (callp)
		*callp = call;
	if (p->shutting_down) {
		call_fail_soon(call, ECANCELED, "hearthd is shutting down");
		return 0;
	}
	pfn_live(f, NULL, &idle);
	if (idle && TAILQ_EMPTY(&f->queue)) {
		ctr_run(idle, call); /* the warm path */
		return 0;
	}
	if (!background && f->qlen - f->bg_qlen >= p->queue_size) {
		p->n_throttled++;
		call_fail_soon(call, EAGAIN,
			       "function %" PRId64
			       " is at max_concurrency %d and its queue of %d is full",
			       f->id, f->spec->max_concurrency, p->queue_size);
		return 0;
	}
	/* No container can serve it and the engine is known to be down (not
	 * merely not asked yet, in hearthd's first moments): 503 at once. */
	if (!backend_is_up(p->backend) && pfn_live(f, NULL, NULL) == 0 &&
	    (p->ready || p->engine_checked)) {
		call_fail_soon(call, EHOSTDOWN, "%s",
			       backend_last_error(p->backend)
				       ? backend_last_error(p->backend)
				       : "the container engine is unreachable");
		return 0;
	}
	/* Only a queued call needs its wait limit: the warm path above
	 * allocates no timer (the container's backstop watches its deadline). */
	call->timer = evtimer_new(p->base, call_queue_timeout, call);
	if (!call->timer) {
		call_fail_soon(call, ENOMEM, "out of memory");
		return 0;
	}
	enqueue(f, call);
	struct timeval tv = { f->spec->timeout_s + POOL_QUEUE_WAIT_EXTRA_S, 0 };
	evtimer_add(call->timer, &tv);
	pfn_schedule(f);
	return 0;
}

int pool_execute(struct pool *p, int64_t function_id, const char *request_id, const void *payload,
		 size_t len, pool_done_cb cb, void *arg, struct pool_call **callp,
		 struct hearth_error **err)
{
	return execute(p, function_id, request_id, payload, len, false, cb, arg, callp, err);
}

int pool_execute_background(struct pool *p, int64_t function_id, const char *request_id,
			    const void *payload, size_t len, pool_done_cb cb, void *arg,
			    struct pool_call **callp, struct hearth_error **err)
{
	return execute(p, function_id, request_id, payload, len, true, cb, arg, callp, err);
}

void pool_pressure(struct pool *p, int64_t function_id, struct pool_pressure *out)
{
	struct pfn *f = pfn_find(p, function_id);

	out->waiting = f ? f->qlen - f->bg_qlen : 0;
	out->cap_waiting = p->fg_waiting > 0 && p->n_ctrs >= p->max_containers;
}

bool pool_call_abandon(struct pool_call *call)
{
	if (!call)
		return true;
	if (call->queued) {
		call_unqueue(call);
		call_free(call);
		return true;
	}
	if (call->ctr)
		return false;	/* running: its result still comes, to be recorded */
	call->abandoned = true; /* a failure on its way from the loop: dropped */
	return true;
}

void pool_call_payload_going(struct pool_call *call)
{
	if (call && call->ctr)
		shimconn_payload_going(call->ctr->conn, true);
}

int pool_function_changed(struct pool *p, const struct fn *spec, struct hearth_error **err)
{
	struct pfn *f = pfn_find(p, spec->id);
	struct fn *copy;
	struct ctr *c, *next;

	/* Everything that can fail comes first: a refused change leaves the
	 * pool as it was, so the caller can roll its own side back. */
	if (pool_lang_of(spec->language) < 0)
		return hearth_error_make(err, EINVAL,
					 "pool: function %" PRId64 ": no runtime for '%s'",
					 spec->id, spec->language);
	copy = fn_dup(spec);
	if (!copy)
		return hearth_error_make(err, ENOMEM,
					 "pool: out of memory taking function %" PRId64, spec->id);
	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f) {
			fn_free(copy);
			return hearth_error_make(err, ENOMEM,
						 "pool: out of memory taking function %" PRId64,
						 spec->id);
		}
		f->pool = p;
		f->id = spec->id;
		TAILQ_INIT(&f->queue);
		TAILQ_INSERT_TAIL(&p->fns, f, link);
	}
	fn_free(f->spec);
	f->spec = copy;
	/* Old revisions: idle ones go now, busy and starting ones when done. */
	for (c = TAILQ_FIRST(&p->ctrs); c; c = next) {
		next = TAILQ_NEXT(c, link);
		/* A benchmark keeps the revision it started with. */
		if (c->fn != f || c->bench || c->revision == copy->revision ||
		    c->state == CTR_REMOVING)
			continue;
		c->draining = true;
		p->generation++;
		if (c->state == CTR_IDLE)
			ctr_remove(c, "revision replaced");
	}
	p->generation++;
	pfn_schedule(f);
	return 0;
}

void pool_function_removed(struct pool *p, int64_t id)
{
	struct pfn *f = pfn_find(p, id);
	struct ctr *c, *next;
	bool referenced = false;

	if (!f)
		return;
	f->deleted = true;
	p->generation++;
	if (f->bench)
		bench_function_gone(f->bench);
	TAILQ_REMOVE(&p->fns, f, link);
	pfn_fail_queue(f, ENOENT, "the function was deleted");
	for (c = TAILQ_FIRST(&p->ctrs); c; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->fn != f)
			continue;
		referenced = true;
		c->draining = true;
		p->generation++;
		if (c->state != CTR_BUSY)
			ctr_remove(c, "function deleted");
	}
	if (!referenced)
		pfn_free(f);
}

int pool_start(struct pool *p, struct fn *const *fns, size_t n, struct hearth_error **err)
{
	int r;

	/* Nothing starts before the engine's first reconciliation (`ready`). */
	for (size_t i = 0; i < n; i++)
		if ((r = pool_function_changed(p, fns[i], err)) < 0)
			return r;
	engine_start(p);
	return 0;
}

static void on_shutdown_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pool *p = arg;
	void (*done)(void *) = p->shutdown_done;

	if (!done)
		return;
	log_warn("pool: containers still being removed after the grace period");
	p->shutdown_done = NULL;
	done(p->shutdown_arg);
}

void pool_shutdown(struct pool *p, int grace_s, void (*done)(void *arg), void *arg)
{
	struct pfn *f;
	struct ctr *c, *next;
	struct timeval tv = { grace_s, 0 };

	p->shutting_down = true;
	p->shutdown_done = done;
	p->shutdown_arg = arg;
	TAILQ_FOREACH(f, &p->fns, link)
		pfn_fail_queue(f, ECANCELED, "hearthd is shutting down");
	for (c = TAILQ_FIRST(&p->ctrs); c; c = next) {
		next = TAILQ_NEXT(c, link);
		ctr_remove(c, "hearthd is shutting down");
	}
	if (TAILQ_EMPTY(&p->ctrs)) {
		p->shutdown_done = NULL;
		done(arg);
		return;
	}
	log_info("pool: removing every container before stopping");
	evtimer_add(p->shutdown_timer, &tv);
}

int pool_new(struct pool **out, struct event_base *base, const struct pool_config *cfg,
	     struct hearth_error **err)
{
	struct pool *p = calloc(1, sizeof(*p));
	int r;

	if (!p) {
		backend_free(cfg->backend);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	p->backend = cfg->backend;
	p->base = base;
	TAILQ_INIT(&p->fns);
	TAILQ_INIT(&p->ctrs);
	TAILQ_INIT(&p->benches);
	p->idle_ttl_s = cfg->idle_ttl_s;
	p->max_containers = cfg->max_containers;
	p->stem_cells = cfg->stem_cells;
	p->stem_memory_mb = cfg->stem_memory_mb;
	p->queue_size = cfg->queue_size;
	if (!p->backend || !cfg->image_python || !cfg->image_node || p->idle_ttl_s <= 0 ||
	    p->max_containers <= 0 || p->stem_cells < 0 || p->stem_memory_mb < FN_MEMORY_MIN ||
	    p->queue_size < 0) {
		r = hearth_error_make(err, EINVAL, "pool: incomplete configuration");
		goto fail;
	}
	p->image[LANG_PYTHON] = strdup(cfg->image_python);
	p->image[LANG_NODE] = strdup(cfg->image_node);
	if ((r = util_snprintf(p->data_dir, sizeof(p->data_dir), err, "%s", cfg->data_dir)) < 0 ||
	    (r = util_snprintf(p->run_dir, sizeof(p->run_dir), err, "%s/run", cfg->data_dir)) < 0)
		goto fail;
	/* Containers are labelled with their data dir's hash: two hearthd on one
	 * engine (a user's and a test's) never touch each other's. */
	snprintf(p->instance, sizeof(p->instance), "%016" PRIx64,
		 strmap_hash(p->data_dir, strlen(p->data_dir)));
	if ((r = util_rm_rf(p->run_dir, err)) < 0 || (r = util_mkdir_p(p->run_dir, 0, err)) < 0)
		goto fail;
	if ((r = engine_init(p, err)) < 0)
		goto fail;
	p->shutdown_timer = evtimer_new(base, on_shutdown_timer, p);
	if (!p->image[0] || !p->image[1] || !p->shutdown_timer || call_fails_init(p) < 0) {
		r = hearth_error_make(err, ENOMEM, "out of memory");
		goto fail;
	}
	*out = p;
	return 0;
fail:
	pool_free(p);
	return r;
}

void pool_free(struct pool *p)
{
	struct ctr *c;
	struct pfn *f;

	if (!p)
		return;
	p->freeing = true;
	if (p->backend)
		backend_free(p->backend); /* pending callbacks see `freeing` */
	while ((c = TAILQ_FIRST(&p->ctrs)) != NULL) {
		struct ctr *o;
		bool last_of_deleted = c->fn && c->fn->deleted;

		TAILQ_REMOVE(&p->ctrs, c, link);
		TAILQ_FOREACH(o, &p->ctrs, link)
			if (o->fn == c->fn)
				last_of_deleted = false;
		if (last_of_deleted)
			pfn_free(c->fn);
		if (c->call && !c->call->abandoned) {
			_cleanup_error_ struct hearth_error *e = NULL;

			/* Its payload may go in the callback. */
			shimconn_payload_going(c->conn, false);
			hearth_error_make(&e, ECANCELED, "hearthd is stopping");
			c->call->cb(c->call->arg, NULL, e);
		}
		if (c->call)
			call_free(c->call);
		shimconn_free(c->conn);
		if (c->timer)
			event_free(c->timer);
		if (c->dir[0])
			util_rm_rf(c->dir, NULL);
		free(c->id);
		free(c);
	}
	bench_free_all(p);
	while ((f = TAILQ_FIRST(&p->fns)) != NULL) {
		struct pool_call *call;

		TAILQ_REMOVE(&p->fns, f, link);
		while ((call = TAILQ_FIRST(&f->queue)) != NULL)
			call_fail_now(call, ECANCELED, "hearthd is stopping");
		pfn_free(f);
	}
	engine_free(p);
	if (p->shutdown_timer)
		event_free(p->shutdown_timer);
	if (p->fail_ev) {
		/* Failures on their way are answered, not lost: those made
		 * before, and those the answers above made in their turn. */
		while (!TAILQ_EMPTY(&p->fails))
			call_fails_flush(p);
		event_free(p->fail_ev);
	}
	free(p->image[0]);
	free(p->image[1]);
	free(p);
}
