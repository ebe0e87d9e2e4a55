/* schedule.c — who serves what.  A function's queue is served by its idle
 * containers; what it still needs (one container per waiting call not
 * covered by one starting, and min_warm ready) comes from a stem cell if
 * one is idle, else a new container, within max_concurrency and the
 * global cap, evicting another function's idle container when a call
 * waits at the cap.  Stem cells are kept at their target per language.
 * See pool_private.h. */
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


/* f's containers of its current revision that are not going away; *idle
 * gets the one that became idle last (LIFO keeps few containers hot, so
 * the idle TTL can retire the rest). */
int pfn_live(struct pfn *f, int *starting, struct ctr **idle)
{
	struct ctr *c;
	int n = 0, s = 0;

	if (idle)
		*idle = NULL;
	TAILQ_FOREACH(c, &f->pool->ctrs, link) {
		if (c->fn != f || c->bench || c->draining || c->state == CTR_REMOVING ||
		    c->revision != f->spec->revision)
			continue;
		n++;
		if (c->state < CTR_IDLE)
			s++;
		else if (c->state == CTR_IDLE && idle &&
			 (!*idle || c->idle_since_ns > (*idle)->idle_since_ns))
			*idle = c;
	}
	if (starting)
		*starting = s;
	return n;
}

static struct ctr *stem_take(struct pool *p, enum lang lang)
{
	struct ctr *c;

	TAILQ_FOREACH(c, &p->ctrs, link)
		if (!c->fn && !c->bench && c->lang == lang && c->state == CTR_IDLE)
			return c;
	return NULL;
}

void pool_fill_stems(struct pool *p)
{
	struct ctr *c;
	int have[LANG_N] = { 0 };

	if (!p->ready || p->shutting_down || util_mono_ns() < p->stem_fail_until_ns ||
	    !backend_is_up(p->backend))
		return;
	struct pfn *f;
	int room = p->max_containers;

	/* Calls waiting for a container come first: stem cells never take the
	 * last free place while some queue is waiting. */
	TAILQ_FOREACH(f, &p->fns, link)
		if (f->qlen > 0) {
			room--;
			break;
		}
	TAILQ_FOREACH(c, &p->ctrs, link)
		if (!c->fn && !c->bench && c->state != CTR_REMOVING)
			have[c->lang]++;
	for (int l = 0; l < LANG_N; l++)
		while (have[l]++ < p->stem_cells && p->n_ctrs < room)
			if (!ctr_start(p, (enum lang)l, NULL, NULL))
				return;
}

/* Makes room under the global cap by retiring the idle container (of
 * another function, or a stem cell) that has been idle longest. */
static bool pool_evict_for(struct pool *p, struct pfn *f)
{
	struct ctr *c, *victim = NULL;

	TAILQ_FOREACH(c, &p->ctrs, link)
		if (c->state == CTR_IDLE && c->fn != f && !c->bench &&
		    (!victim || c->idle_since_ns < victim->idle_since_ns))
			victim = c;
	if (!victim)
		return false;
	ctr_remove(victim, "evicted to make room under --max-containers");
	return true;
}

/* Serves f's queue from idle containers and starts the containers f needs:
 * one per queued call not already covered by a starting one, and enough
 * to keep min_warm ready; within max_concurrency and the global cap. */
void pfn_schedule(struct pfn *f)
{
	struct pool *p = f->pool;
	struct pool_call *call;
	struct ctr *idle;
	int live, starting, want;
	int lang = pool_lang_of(f->spec->language);

	if (f->deleted || p->shutting_down || lang < 0)
		return;
	for (;;) {
		live = pfn_live(f, &starting, &idle);
		call = TAILQ_FIRST(&f->queue);
		if (!call || !idle)
			break;
		call_unqueue(call);
		ctr_run(idle, call);
	}
	if (!p->ready)
		return;
	/* One container at a time, counting afresh each round: starting one
	 * may evict another, whose removal reschedules its own function. */
	for (;;) {
		struct ctr *s;

		if (f->deleted || p->shutting_down)
			break;
		live = pfn_live(f, &starting, NULL);
		want = f->qlen - starting;
		/* Warming up is for an engine that answers and code that
		 * initialised; calls still try (and get a clear error). */
		if (f->init_failed_rev != f->spec->revision && backend_is_up(p->backend) &&
		    util_mono_ns() >= f->fail_until_ns && f->spec->min_warm - live > want)
			want = f->spec->min_warm - live;
		if (want > f->spec->max_concurrency - live)
			want = f->spec->max_concurrency - live;
		if (want <= 0)
			break;
		if (p->n_ctrs >= p->max_containers &&
		    (!(f->qlen > 0 && pool_evict_for(p, f)) || p->n_ctrs >= p->max_containers))
			break;
		s = stem_take(p, (enum lang)lang);
		if (s) {
			stem_specialise(s, f);
			pool_fill_stems(p);
		} else if (!ctr_start(p, (enum lang)lang, f, NULL)) {
			break;
		}
	}
}

/* Every function's pool and the stem cells filled to their targets. */
void pool_fill_all(struct pool *p)
{
	struct pfn *f;

	TAILQ_FOREACH(f, &p->fns, link)
		pfn_schedule(f);
	pool_fill_stems(p);
}
