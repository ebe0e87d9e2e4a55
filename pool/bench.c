/* bench.c — a benchmark's run: its own containers, its calls, their times
 * (see pool.h for what each kind times).  The containers carry c->bench;
 * container.c tells this file when one is ready or idle again
 * (bench_ctr_idle), failed its init, or goes (bench_ctr_gone), and it
 * decides what comes next: the next call, the next container, or the end.
 * A benchmark is freed once it answered (or was abandoned) and the last of
 * its containers is gone.  See pool_private.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pool_private.h"
#include "util.h"

/* How long a benchmark's stem cell settles after its shim answers: its
 * interpreter starts meanwhile (python3 ~30 ms, node ~60 ms here). */
#define BENCH_STEM_SETTLE_MS 300

/* One call of the run: where its time starts, and the benchmark. */
struct bench_slot {
	struct pool_bench *b;
	int index;
	int64_t t0_ns;
	bool finished; /* its result is in */
};

struct pool_bench {
	struct pool *pool;
	struct pfn *f; /* NULL once the function was deleted */
	enum lang lang;
	enum pool_start kind;
	int calls, concurrency;
	char *payload;
	size_t len;
	struct pool_bench_call *results;
	struct bench_slot *slots;
	int launched;	/* calls handed to a container (or failed before) */
	int next_call;	/* the call the container being born will serve, or -1 */
	bool launching; /* inside bench_launch: no recursion from a failure */
	int done;	/* calls with a result */
	int ctrs;	/* containers still carrying c->bench == this */
	int64_t t0_ns;
	bool answered, abandoned;
	int busy; /* entries of ours on the stack: no free until they return */
	pool_bench_cb cb;
	void *arg;
	TAILQ_ENTRY(pool_bench) link; /* in pool->benches */
};

static void bench_launch(struct pool_bench *b);

static void bench_free(struct pool_bench *b)
{
	TAILQ_REMOVE(&b->pool->benches, b, link);
	if (b->f && b->f->bench == b)
		b->f->bench = NULL;
	free(b->payload);
	free(b->results);
	free(b->slots);
	free(b);
}

/* Freed once nobody waits for it, no container points at it, and no call
 * of ours is on the stack (removing a container calls back in here). */
static void bench_maybe_free(struct pool_bench *b)
{
	if ((b->answered || b->abandoned) && b->ctrs == 0 && b->busy == 0)
		bench_free(b);
}

/* Every entry from outside brackets its work with these. */
static void bench_enter(struct pool_bench *b)
{
	b->busy++;
}

static void bench_leave(struct pool_bench *b)
{
	b->busy--;
	bench_maybe_free(b);
}

static void bench_answer(struct pool_bench *b, const struct hearth_error *err)
{
	if (b->answered)
		return;
	b->answered = true;
	if (b->f && b->f->bench == b)
		b->f->bench = NULL; /* the next benchmark may start */
	if (!b->abandoned)
		b->cb(b->arg, err ? NULL : b->results, err ? 0 : (size_t)b->calls,
		      ms_between(b->t0_ns, util_mono_ns()), err);
}

/* Every call has its result: the answer, and the idle containers go. */
static void bench_check_done(struct pool_bench *b)
{
	struct ctr *c, *next;

	if (b->done < b->calls || b->answered)
		return;
	bench_answer(b, NULL);
	if (b->pool->freeing)
		return;
	for (c = TAILQ_FIRST(&b->pool->ctrs); c; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->bench == b && c->state != CTR_BUSY)
			ctr_remove(c, "benchmark done");
	}
}

static void slot_result(struct pool_bench *b, int i, bool ran, enum invocation_status st,
			enum pool_start start, double duration_ms)
{
	struct pool_bench_call *r = &b->results[i];

	if (b->slots[i].finished)
		return;
	b->slots[i].finished = true;
	r->ms = b->slots[i].t0_ns ? ms_between(b->slots[i].t0_ns, util_mono_ns()) : 0;
	r->ran = ran;
	r->status = ran ? st : INVOCATION_CRASHED;
	r->start = start;
	r->duration_ms = duration_ms;
	b->done++;
}

/* The calls not handed out yet fail at once (shutdown, function gone,
 * no container could start at all). */
static void bench_fail_rest(struct pool_bench *b)
{
	while (b->launched < b->calls)
		slot_result(b, b->launched++, false, INVOCATION_CRASHED, b->kind, 0);
	bench_check_done(b);
}

static void on_call_done(void *arg, const struct pool_result *res, const struct hearth_error *err)
{
	struct bench_slot *s = arg;
	struct pool_bench *b = s->b;

	bench_enter(b);
	if (res)
		slot_result(b, s->index, true, res->status, res->start, res->duration_ms);
	else
		slot_result(b, s->index, false, INVOCATION_CRASHED, b->kind, 0);
	/* What comes next is decided when the container is idle again or
	 * goes (a timeout or crash recycles it). */
	bench_check_done(b);
	bench_leave(b);
}

/* Runs call i on c, its time counted from slot t0 (cold, stem) or now. */
static void bench_run(struct pool_bench *b, struct ctr *c, int i)
{
	struct bench_slot *s = &b->slots[i];
	struct pool_call *call;
	char rid[64];

	if (!s->t0_ns)
		s->t0_ns = util_mono_ns();
	snprintf(rid, sizeof(rid), "bench-%" PRId64 "-%d", c->fn->id, i);
	call = call_new(b->pool, c->fn, rid, b->payload, b->len, on_call_done, s);
	if (!call) {
		slot_result(b, i, false, INVOCATION_CRASHED, b->kind, 0);
		ctr_remove(c, "out of memory");
		return;
	}
	call->enq_ns = s->t0_ns;
	ctr_run(c, call);
}

enum birth { BORN, NO_ROOM, DIED };

/* A container for call `call` (cold, stem), or one more of the warm ones
 * (call -1).  DIED: it failed at once, and that call's result is in. */
static enum birth bench_new_ctr(struct pool_bench *b, int call)
{
	struct pool *p = b->pool;

	if (p->n_ctrs >= p->max_containers)
		return NO_ROOM;
	b->next_call = call;
	return ctr_start(p, b->lang, b->kind == POOL_START_STEM ? NULL : b->f, b) ? BORN : DIED;
}

void bench_ctr_born(struct pool_bench *b, struct ctr *c)
{
	b->ctrs++;
	c->bench_call = b->next_call;
	if (c->bench_call >= 0 && b->kind == POOL_START_COLD)
		b->slots[c->bench_call].t0_ns = c->created_ns;
}

/* Cold and stem: one container per call, `concurrency` at a time. */
static void bench_launch(struct pool_bench *b)
{
	if (b->answered || b->abandoned || b->launching || b->kind == POOL_START_WARM ||
	    b->pool->freeing)
		return;
	if (!b->f || b->pool->shutting_down) {
		bench_fail_rest(b);
		return;
	}
	b->launching = true;
	while (b->launched < b->calls && b->launched - b->done < b->concurrency) {
		enum birth got = bench_new_ctr(b, b->launched);

		if (got == NO_ROOM) {
			/* The calls running will make room; with none running,
			 * nothing ever will. */
			if (b->launched == b->done) {
				b->launching = false;
				bench_fail_rest(b);
				return;
			}
			break;
		}
		b->launched++;
	}
	b->launching = false;
	bench_check_done(b);
}

/* The stem cell settled: its call's time starts with the specialisation. */
static void on_stem_settled(evutil_socket_t fd, short what, void *arg)
{
	struct ctr *c = arg;
	struct pool_bench *b = c->bench;

	if (!b || c->state != CTR_IDLE)
		return;
	bench_enter(b);
	if (b->answered || b->abandoned || !b->f) {
		ctr_remove(c, "benchmark over");
	} else {
		b->slots[c->bench_call].t0_ns = util_mono_ns();
		stem_specialise(c, b->f);
	}
	bench_leave(b);
}

static void ctr_idle(struct pool_bench *b, struct ctr *c)
{
	if (b->answered || b->abandoned || !b->f) {
		ctr_remove(c, "benchmark over");
		return;
	}
	switch (b->kind) {
	case POOL_START_WARM:
		/* Warmed untimed; then it serves calls until none is left. */
		if (b->launched < b->calls)
			bench_run(b, c, b->launched++);
		else
			ctr_remove(c, "benchmark done");
		return;
	case POOL_START_STEM:
		if (!c->fn) {
			/* Its shim answers; its interpreter is still starting.  A
			 * stem cell of the pool has long been up when a call needs
			 * it, so this one settles, untimed, before its time starts. */
			struct timeval tv = { 0, BENCH_STEM_SETTLE_MS * 1000 };

			event_assign(c->timer, b->pool->base, -1, 0, on_stem_settled, c);
			evtimer_add(c->timer, &tv);
			return;
		}
		/* specialised: ready for its one call, like a cold one */
		__attribute__((fallthrough));
	case POOL_START_COLD:
		if (c->served == 0 && c->bench_call >= 0)
			bench_run(b, c, c->bench_call);
		else
			ctr_remove(c, "benchmark: one call each");
		return;
	}
}

void bench_ctr_idle(struct pool_bench *b, struct ctr *c)
{
	bench_enter(b);
	ctr_idle(b, c);
	bench_leave(b);
}

void bench_ctr_init_failed(struct pool_bench *b, struct ctr *c, struct bytes type,
			   struct bytes message)
{
	bench_enter(b);
	log_info("pool: benchmark of function %" PRId64 ": init failed: %.*s: %.*s",
		 b->f ? b->f->id : 0, (int)type.len, type.ptr, (int)message.len, message.ptr);
	/* Ran, and failed: as Lambda answers a call whose init failed. */
	if (c->bench_call >= 0)
		slot_result(b, c->bench_call, true, INVOCATION_ERROR, c->origin, 0);
	/* Warm: the container goes (ctr_remove follows), calls carry on on
	 * the others, or fail when none is left (bench_ctr_gone). */
	bench_check_done(b);
	bench_leave(b);
}

void bench_ctr_gone(struct pool_bench *b, struct ctr *c, const char *why)
{
	int i = c->bench_call;

	bench_enter(b);
	b->ctrs--;
	/* A container that went before its call ended: that call failed. */
	if (i >= 0 && !b->slots[i].finished) {
		log_info("pool: benchmark call %d failed: %s", i, why);
		slot_result(b, i, false, INVOCATION_CRASHED, b->kind, 0);
	}
	c->bench_call = -1;
	if (b->kind == POOL_START_WARM && !b->answered && !b->abandoned && b->ctrs == 0 &&
	    !b->launching)
		bench_fail_rest(b); /* no warm container left to serve the rest */
	bench_check_done(b);
	bench_launch(b);
	bench_leave(b);
}

void bench_function_gone(struct pool_bench *b)
{
	bench_enter(b);
	if (b->f && b->f->bench == b)
		b->f->bench = NULL;
	b->f = NULL;
	bench_fail_rest(b);
	bench_leave(b);
}

void bench_free_all(struct pool *p)
{
	struct pool_bench *b;

	while ((b = TAILQ_FIRST(&p->benches)) != NULL) {
		_cleanup_error_ struct hearth_error *e = NULL;

		hearth_error_make(&e, ECANCELED, "hearthd is stopping");
		bench_answer(b, e);
		bench_free(b);
	}
}

int pool_bench_start(struct pool *p, int64_t function_id, const struct pool_bench_spec *spec,
		     pool_bench_cb cb, void *arg, struct pool_bench **out,
		     struct hearth_error **err)
{
	struct pfn *f = pfn_find(p, function_id);
	struct pool_bench *b;
	int n;

	if (!f || f->deleted)
		return hearth_error_make(err, ENOENT, "function %" PRId64 " is not in the pool",
					 function_id);
	if (f->bench)
		return hearth_error_make(err, EEXIST,
					 "a benchmark of function %" PRId64
					 " is running; one at a time",
					 function_id);
	if (p->shutting_down)
		return hearth_error_make(err, ECANCELED, "hearthd is shutting down");
	if (!backend_is_up(p->backend))
		return hearth_error_make(err, EHOSTDOWN, "%s",
					 backend_last_error(p->backend)
						 ? backend_last_error(p->backend)
						 : "the container engine is unreachable");
	if (spec->calls < 1 || spec->concurrency < 1)
		return hearth_error_make(err, EINVAL,
					 "a benchmark needs calls and concurrency >= 1");
	b = calloc(1, sizeof(*b));
	if (!b)
		return hearth_error_make(err, ENOMEM, "out of memory");
	b->pool = p;
	b->f = f;
	b->lang = (enum lang)pool_lang_of(f->spec->language);
	b->kind = spec->start;
	b->calls = spec->calls;
	b->concurrency = spec->concurrency < spec->calls ? spec->concurrency : spec->calls;
	b->len = spec->len;
	b->payload = malloc(spec->len + 1);
	b->results = calloc((size_t)b->calls, sizeof(*b->results));
	b->slots = calloc((size_t)b->calls, sizeof(*b->slots));
	b->cb = cb;
	b->arg = arg;
	b->t0_ns = util_mono_ns();
	TAILQ_INSERT_TAIL(&p->benches, b, link);
	if (!b->payload || !b->results || !b->slots) {
		bench_free(b);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	memcpy(b->payload, spec->payload, spec->len);
	b->payload[spec->len] = '\0';
	for (int i = 0; i < b->calls; i++)
		b->slots[i] = (struct bench_slot){ b, i, 0, false };
	/* The first containers; none at all is an error now, with no callback. */
	b->launching = true;
	for (n = 0; n < b->concurrency; n++) {
		enum birth got = bench_new_ctr(b, b->kind == POOL_START_WARM ? -1 : b->launched);

		if (got == NO_ROOM)
			break;
		if (b->kind != POOL_START_WARM)
			b->launched++;
	}
	b->launching = false;
	if (b->ctrs == 0) {
		bench_free(b);
		return hearth_error_make(err, EAGAIN,
					 "no room for the benchmark's containers under "
					 "--max-containers %d (or they could not start)",
					 p->max_containers);
	}
	f->bench = b;
	*out = b;
	return 0;
}

void pool_bench_abandon(struct pool_bench *b)
{
	struct ctr *c, *next;

	if (b->answered) /* its answer is on its way (a reply in flight) */
		return;
	bench_enter(b);
	b->abandoned = true;
	if (b->f && b->f->bench == b)
		b->f->bench = NULL;
	for (c = TAILQ_FIRST(&b->pool->ctrs); c; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->bench == b && c->state != CTR_BUSY)
			ctr_remove(c, "benchmark abandoned");
	}
	bench_leave(b);
}
