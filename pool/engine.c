/* engine.c — the engine's side of the pool: its event stream (containers
 * that die, run out of memory or are removed behind our back), the
 * reconciliation of what we track with what the engine runs (leftovers of
 * an earlier run are removed), the ping that says whether the engine
 * answers, and the sweep that retires idle containers past the TTL and
 * refills the pools.  See pool_private.h. */
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
#include "util.h"

static void on_orphan_removed(void *arg, const struct hearth_error *err)
{
	struct pool *p = arg;

	if (err && err->status != ENOENT && err->status != ECANCELED) {
		log_warn("pool: removing a leftover container: %s", err->msg);
		if (!p->freeing)
			p->resync = true;
	}
}

static void pool_become_ready(struct pool *p)
{
	if (p->ready)
		return;
	p->ready = true;
	pool_fill_all(p);
}

/* Reconciles with the engine: containers of this data dir we do not track
 * are leftovers (removed); tracked ones the engine no longer runs died. */
static void on_list(void *arg, const struct backend_container *v, size_t n,
		    const struct hearth_error *err)
{
	struct pool *p = arg;
	struct ctr *c, *next;
	size_t removed = 0;

	p->list_req = NULL;
	if (p->freeing)
		return;
	if (err) {
		log_warn("pool: listing containers: %s", err->msg);
		p->resync = true;
		pool_become_ready(p);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (ctr_by_id(p, v[i].id))
			continue;
		if (backend_remove(p->backend, v[i].id, on_orphan_removed, p, NULL, NULL) == 0)
			removed++;
		else
			p->resync = true;
	}
	if (removed)
		log_info("pool: removing %zu container(s) left by an earlier run", removed);
	for (c = TAILQ_FIRST(&p->ctrs); c; c = next) {
		bool seen = false;

		next = TAILQ_NEXT(c, link);
		if (!c->id || c->state < CTR_CONNECTING || c->state == CTR_REMOVING)
			continue;
		for (size_t i = 0; i < n && !seen; i++)
			seen = strcmp(v[i].id, c->id) == 0 && strcmp(v[i].state, "running") == 0;
		if (!seen)
			ctr_died(c, "the container is no longer running");
	}
	pool_become_ready(p);
}

static void pool_reconcile(struct pool *p)
{
	const char *labels[] = { "hearth.managed=true", NULL, NULL };
	char inst[64];

	if (p->list_req || p->shutting_down)
		return;
	snprintf(inst, sizeof(inst), "hearth.instance=%s", p->instance);
	labels[1] = inst;
	/* A removal that fails from now on is after this list: it sets it
	 * again. */
	p->resync = false;
	if (backend_list(p->backend, labels, on_list, p, &p->list_req, NULL) < 0) {
		p->resync = true;
		pool_become_ready(p);
	}
}

static void on_event(void *arg, const struct backend_event *ev, const struct hearth_error *err)
{
	struct pool *p = arg;
	struct ctr *c;
	char why[96];

	if (p->freeing || (err && err->status == ECANCELED))
		return;
	if (!ev) {
		if (!err)
			pool_reconcile(p); /* (re)connected: we may have missed events */
		return;
	}
	if (ev->kind != BACKEND_EVENT_DIE && ev->kind != BACKEND_EVENT_OOM &&
	    ev->kind != BACKEND_EVENT_DESTROY)
		return;
	c = ctr_by_id(p, ev->id);
	if (!c || c->state == CTR_REMOVING)
		return;
	if (ev->kind == BACKEND_EVENT_OOM)
		snprintf(why, sizeof(why), "the container ran out of memory (%d MB)",
			 c->fn ? c->fn->spec->memory_mb : p->stem_memory_mb);
	else
		snprintf(why, sizeof(why), "the container exited (code %d)", ev->exit_code);
	ctr_died(c, why);
}

static void on_ping(void *arg, const struct hearth_error *err)
{
	struct pool *p = arg;
	bool was_up = p->engine_up;

	p->ping_req = NULL;
	if (p->freeing)
		return;
	p->engine_up = err == NULL;
	p->engine_checked = true;
	if (p->engine_up != was_up)
		p->generation++;
	if (!p->engine_up) {
		struct pfn *f;

		if (was_up)
			log_warn("pool: the container engine is unreachable: %s", err->msg);
		/* Calls that wait for a container no one can start get their
		 * 503 now, not at the end of their queue wait. */
		TAILQ_FOREACH(f, &p->fns, link)
			if (!TAILQ_EMPTY(&f->queue) && pfn_live(f, NULL, NULL) == 0)
				pfn_fail_queue(f, EHOSTDOWN, err->msg);
		return;
	}
	if (was_up)
		return;
	log_info("pool: the container engine answers");
	/* Up (again): reconcile, then fill the pools (the watch reconnects by
	 * itself and reconciles too; a second list is harmless).  Before the
	 * first reconciliation is done, it fills them itself. */
	pool_reconcile(p);
	if (p->ready)
		pool_fill_all(p);
}

static void on_ping_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pool *p = arg;
	struct timeval tv = { POOL_PING_MS / 1000, (POOL_PING_MS % 1000) * 1000 };

	if (!p->ping_req)
		backend_ping(p->backend, on_ping, p, &p->ping_req, NULL);
	evtimer_add(p->ping, &tv);
}

/* Retires idle containers above min_warm that idled past the TTL, and
 * keeps the pools full after failures. */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct pool *p = arg;
	struct timeval tv = { 0, POOL_SWEEP_MS * 1000 };
	int64_t now = util_mono_ns(), ttl = (int64_t)p->idle_ttl_s * 1000000000LL;
	struct pfn *f;
	struct ctr *c, *next;

	TAILQ_FOREACH(f, &p->fns, link) {
		int live = pfn_live(f, NULL, NULL);

		for (c = TAILQ_FIRST(&p->ctrs); c && live > f->spec->min_warm; c = next) {
			next = TAILQ_NEXT(c, link);
			if (c->fn == f && !c->bench && c->state == CTR_IDLE &&
			    now - c->idle_since_ns > ttl) {
				ctr_remove(c, "idle past --idle-ttl");
				live--;
			}
		}
		pfn_schedule(f);
	}
	pool_fill_stems(p);
	/* A container whose removal failed is still the engine's: once the
	 * engine answers, list again and remove what we do not track. */
	if (p->resync && p->engine_up && p->ready)
		pool_reconcile(p);
	evtimer_add(p->sweep, &tv);
}

bool pool_engine_up(struct pool *p)
{
	return backend_is_up(p->backend);
}

const char *pool_engine_error(struct pool *p)
{
	return backend_last_error(p->backend);
}

int engine_init(struct pool *p, struct hearth_error **err)
{
	p->sweep = evtimer_new(p->base, on_sweep, p);
	p->ping = evtimer_new(p->base, on_ping_timer, p);
	if (!p->sweep || !p->ping)
		return hearth_error_make(err, ENOMEM, "out of memory");
	return 0;
}

void engine_start(struct pool *p)
{
	const char *labels[] = { "hearth.managed=true", NULL, NULL };
	char inst[64];
	struct timeval now = { 0, 0 };

	snprintf(inst, sizeof(inst), "hearth.instance=%s", p->instance);
	labels[1] = inst;
	/* The watch's "connected" callback reconciles: leftovers go, then the
	 * pools fill. When the engine is down it keeps retrying, and calls get
	 * 503 meanwhile. */
	if (backend_watch(p->backend, labels, on_event, p, &p->watch_req, NULL) < 0)
		pool_reconcile(p);
	evtimer_add(p->ping, &now);
	evtimer_add(p->sweep, &now);
}

void engine_free(struct pool *p)
{
	if (p->sweep)
		event_free(p->sweep);
	if (p->ping)
		event_free(p->ping);
	p->sweep = p->ping = NULL;
}
