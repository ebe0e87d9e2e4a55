/* container.c — one container's life: created and started through the
 * backend, its shim connected, init sent (or, for a stem cell, its memory
 * resized and the function's code linked in before init), then idle and
 * busy until it is removed: on purpose (TTL, revision, eviction,
 * shutdown) or because it died.  Its folder DIR/run/<n> holds the shim's
 * socket and the code.  See pool_private.h. */
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

static void ctr_free_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctr *c = arg;
	struct pool *p = c->pool;
	struct pfn *f = c->fn;
	struct ctr *o;
	bool orphan_fn = f && f->deleted;

	TAILQ_REMOVE(&p->ctrs, c, link);
	p->generation++;
	util_rm_rf(c->dir, NULL);
	if (c->timer)
		event_free(c->timer);
	shimconn_free(c->conn);
	free(c->id);
	free(c);
	if (orphan_fn) {
		TAILQ_FOREACH(o, &p->ctrs, link)
			if (o->fn == f)
				orphan_fn = false;
		if (orphan_fn)
			pfn_free(f);
	}
	if (p->shutting_down && TAILQ_EMPTY(&p->ctrs) && p->shutdown_done) {
		void (*done)(void *) = p->shutdown_done;

		p->shutdown_done = NULL;
		done(p->shutdown_arg);
	}
}

/* Frees c from the loop (never while a caller may still be iterating). */
static void ctr_free_soon(struct ctr *c)
{
	struct timeval now = { 0, 0 };

	if (c->timer)
		event_free(c->timer);
	c->timer = evtimer_new(c->pool->base, ctr_free_cb, c);
	if (c->timer)
		evtimer_add(c->timer, &now);
}

static void on_removed(void *arg, const struct hearth_error *err)
{
	struct ctr *c = arg;

	c->req = NULL;
	if (c->pool->freeing)
		return;
	if (err && err->status != ENOENT) {
		log_warn("pool: removing container %.12s: %s (removed at the next reconciliation)",
			 c->id, err->msg);
		c->pool->resync = true;
	}
	ctr_free_soon(c);
}

void ctr_remove(struct ctr *c, const char *why)
{
	struct pool *p = c->pool;
	struct pfn *f = c->fn;
	bool was_creating = c->state == CTR_CREATING;

	if (c->state == CTR_REMOVING)
		return;
	log_info("pool: removing container %.12s (%s %" PRId64 " r%" PRId64 "): %s",
		 c->id ? c->id : "(creating)", f ? "function" : "stem", f ? f->id : 0, c->revision,
		 why);
	if (c->call)
		ctr_end_call(c, INVOCATION_CRASHED, "Runtime.ContainerGone", why);
	if (c->timer)
		evtimer_del(c->timer);
	if (c->conn) {
		shimconn_free(c->conn);
		c->conn = NULL;
	}
	ctr_set_state(c, CTR_REMOVING);
	p->n_ctrs--;
	p->n_recycled++;
	if (was_creating && c->req) {
		/* The engine is making it right now: on_created removes it. */
	} else {
		/* Never created (the create failed, at once or in on_created):
		 * nothing to remove, but the entry must go, or /pool would
		 * show it as draining for ever. */
		if (c->req) {
			backend_cancel(p->backend, c->req);
			c->req = NULL;
		}
		if (!c->id || backend_remove(p->backend, c->id, on_removed, c, &c->req, NULL) < 0) {
			p->resync |= c->id != NULL;
			ctr_free_soon(c);
		}
	}
	if (c->bench) {
		struct pool_bench *b = c->bench;

		c->bench = NULL;
		bench_ctr_gone(b, c, why);
	}
	if (p->shutting_down)
		return;
	/* Room under the cap came free: for this function's queue, or for a
	 * stem cell. */
	if (f && !f->deleted)
		pfn_schedule(f);
	else if (!f)
		pool_fill_stems(p);
}

/* What the calls waiting for a container get when the engine could not
 * give one.  An image that is not there is the operator's to fix (ENXIO);
 * whatever else the engine answered (a 500 while it restarts, "transport
 * is closing", a timeout, a reply we could not read) means it cannot run
 * containers now: 503 unavailable, with its words in the message, never
 * a 500 of ours. */
static int engine_status(int status)
{
	switch (status) {
	case ENOENT: return ENXIO;
	case ENXIO:
	case EHOSTDOWN:
	case ECANCELED:
	case ENOMEM: return status;
	default: return EHOSTDOWN;
	}
}

/* engine: the engine failed (create, start, the shim never listening);
 * otherwise a step of ours did (a folder, the code's links, the socket),
 * whose status stands (ENOSPC: the data dir is full, 507). */
static void ctr_start_failed(struct ctr *c, const struct hearth_error *err, bool engine)
{
	struct pool *p = c->pool;
	struct pfn *f = c->fn;
	bool bench = c->bench != NULL;
	int status = err ? err->status : EIO;
	char msg[512];

	if (engine) {
		status = engine_status(status);
		/* A create whose answer was lost (the engine going away
		 * mid-request) may have made a container we have no id for:
		 * the next reconciliation removes it. */
		p->resync = true;
	}
	snprintf(msg, sizeof(msg), "cannot start a %s container: %s", pool_lang_name(c->lang),
		 err ? err->msg : "unknown error");
	log_warn("pool: %s", msg);
	/* A benchmark's container tells its benchmark (ctr_remove), and
	 * nothing else: no back-off, no queue to fail. */
	if (!bench && !f)
		p->stem_fail_until_ns = util_mono_ns() + POOL_FAIL_BACKOFF_MS * 1000000LL;
	else if (!bench)
		f->fail_until_ns = util_mono_ns() + POOL_FAIL_BACKOFF_MS * 1000000LL;
	c->fn = NULL; /* no replacement loop from ctr_remove */
	ctr_remove(c, msg);
	c->fn = f;
	if (!bench && f && pfn_live(f, NULL, NULL) == 0)
		pfn_fail_queue(f, status, msg);
}

static void on_init(void *arg, const struct shimconn_reply *r, const struct hearth_error *err);

static int ctr_send_init(struct ctr *c, struct hearth_error **err)
{
	const struct fn *s = c->fn->spec;
	struct shimconn_init in = {
		.code_dir = BACKEND_CODE_DIR_TARGET,
		.handler = s->handler,
		.language = s->language,
		.function_name = s->name,
		.env_json = s->env_json,
		.memory_mb = (unsigned)s->memory_mb,
		.timeout_ms = (unsigned)s->timeout_s * 1000u,
		.lane = true,
	};

	ctr_set_state(c, CTR_INIT);
	c->init_start_ns = util_mono_ns();
	return shimconn_init(c->conn, &in, on_init, c, err);
}

void ctr_became_idle(struct ctr *c)
{
	ctr_set_state(c, CTR_IDLE);
	c->idle_since_ns = util_mono_ns();
	if (c->bench) {
		bench_ctr_idle(c->bench, c);
		return;
	}
	if (c->fn && (c->draining || c->fn->deleted || c->revision != c->fn->spec->revision)) {
		ctr_remove(c, "revision replaced");
		return;
	}
	if (c->fn)
		pfn_schedule(c->fn);
	else if (!c->pool->shutting_down)
		pool_fill_stems(c->pool); /* a ready stem may be what a queue waits for */
}

static void on_init(void *arg, const struct shimconn_reply *r, const struct hearth_error *err)
{
	struct ctr *c = arg;
	int64_t now = util_mono_ns();

	if (!r || r->status != INVOCATION_SUCCESS) {
		/* The runtime's own words, or the broken connection's. */
		struct bytes type = r ? r->error_type : bytes_of_str("Runtime.InitError");
		struct bytes msg = r ? r->error_message
				     : bytes_of_str(err ? err->msg : "init failed");

		log_info("pool: function %" PRId64 " r%" PRId64 " failed to initialise: %.*s: %.*s",
			 c->fn->id, c->revision, (int)type.len, type.ptr, (int)msg.len, msg.ptr);
		if (c->bench)
			bench_ctr_init_failed(c->bench, c, type, msg);
		else
			pfn_fail_init(c->fn, c, type, msg);
		ctr_remove(c, "init failed");
		return;
	}
	c->ready_ns = now;
	c->init_ms = c->origin == POOL_START_STEM ? ms_between(c->init_start_ns, now)
						  : ms_between(c->created_ns, now);
	log_debug("pool: container %.12s ready for function %" PRId64 " r%" PRId64 " in %.1f ms",
		  c->id, c->fn->id, c->revision, c->init_ms);
	ctr_became_idle(c);
}

static void on_conn_closed(void *arg, const struct hearth_error *err)
{
	struct ctr *c = arg;

	ctr_remove(c, err ? err->msg : "shim connection closed");
}

static void on_connect_timer(evutil_socket_t fd, short what, void *arg)
{
	struct ctr *c = arg;
	struct pool *p = c->pool;
	struct hearth_error *err = NULL;
	char path[PATH_MAX + 32];
	int r;

	snprintf(path, sizeof(path), "%s/sock/shim.sock", c->dir);
	r = shimconn_connect(&c->conn, p->base, path, on_conn_closed, c, &err);
	if (r == -ENOENT || r == -ECONNREFUSED) {
		hearth_error_clear(&err);
		if (util_mono_ns() - c->created_ns > POOL_START_TIMEOUT_S * 1000000000LL) {
			_cleanup_error_ struct hearth_error *e = NULL;

			hearth_error_make(&e, ETIMEDOUT,
					  "the shim did not listen within the start timeout");
			ctr_start_failed(c, e, true);
			return;
		}
		struct timeval tv = { 0, POOL_CONNECT_RETRY_MS * 1000 };
		evtimer_add(c->timer, &tv);
		return;
	}
	if (r < 0) {
		ctr_start_failed(c, err, false);
		hearth_error_free(err);
		return;
	}
	if (c->fn) {
		if (ctr_send_init(c, &err) < 0) {
			ctr_start_failed(c, err, false);
			hearth_error_free(err);
		}
		return;
	}
	c->ready_ns = util_mono_ns();
	c->init_ms = ms_between(c->created_ns, c->ready_ns);
	log_debug("pool: %s stem cell %.12s ready in %.1f ms", pool_lang_name(c->lang), c->id,
		  c->init_ms);
	ctr_became_idle(c);
}

static void on_started(void *arg, const struct hearth_error *err)
{
	struct ctr *c = arg;

	c->req = NULL;
	if (c->pool->freeing)
		return;
	if (err) {
		ctr_start_failed(c, err, true);
		return;
	}
	ctr_set_state(c, CTR_CONNECTING);
	on_connect_timer(-1, 0, c);
}

static void on_created(void *arg, const char *id, const struct hearth_error *err)
{
	struct ctr *c = arg;
	struct pool *p = c->pool;
	struct hearth_error *e2 = NULL;

	c->req = NULL;
	if (p->freeing)
		return;
	if (id)
		c->id = strdup(id);
	if (c->state == CTR_REMOVING) {
		/* Removed while the engine was making it.  A create that
		 * failed (the engine going away mid-request, "transport is
		 * closing") may still have made a container whose id never
		 * reached us: the next reconciliation removes it. */
		if (!c->id || backend_remove(p->backend, c->id, on_removed, c, &c->req, NULL) < 0) {
			p->resync = true;
			ctr_free_soon(c);
		}
		return;
	}
	if (err || !c->id) {
		ctr_start_failed(c, err, true);
		return;
	}
	ctr_set_state(c, CTR_STARTING);
	if (backend_start(p->backend, c->id, on_started, c, &c->req, &e2) < 0) {
		ctr_start_failed(c, e2, true);
		hearth_error_free(e2);
	}
}

/* Makes DIR/run/<n>/{sock,task}: the shim's socket folder (writable by
 * the container's user) and the code folder (read-only inside). */
static int ctr_make_dirs(struct ctr *c, struct hearth_error **err)
{
	char sock[PATH_MAX + 8], task[PATH_MAX + 8];

	if (util_snprintf(c->dir, sizeof(c->dir), err, "%s/%" PRIu64, c->pool->run_dir, c->n) < 0)
		return -ENAMETOOLONG;
	snprintf(sock, sizeof(sock), "%s/sock", c->dir);
	snprintf(task, sizeof(task), "%s/task", c->dir);
	util_rm_rf(c->dir, NULL);
	if (mkdir(c->dir, 0755) < 0 || mkdir(sock, 0700) < 0 || mkdir(task, 0755) < 0)
		return hearth_error_errno(err, errno, "make container folder %s", c->dir);
	if (chown(sock, RUNTIME_UID, RUNTIME_GID) < 0)
		return hearth_error_errno(err, errno, "chown %s", sock);
	return 0;
}

static int ctr_link_code(struct ctr *c, struct hearth_error **err)
{
	char task[PATH_MAX + 8];

	snprintf(task, sizeof(task), "%s/task", c->dir);
	return util_link_tree(c->fn->spec->code_path, task, err);
}

/* Starts a container: bound to f, or a stem cell of `lang` when f is NULL. */
struct ctr *ctr_start(struct pool *p, enum lang lang, struct pfn *f, struct pool_bench *bench)
{
	struct hearth_error *err = NULL;
	struct ctr *c;
	char fid[24], rev[24];
	int r;

	/* The one place containers are born, so the global cap holds here
	 * whatever path (a nested schedule after an eviction, say) got here. */
	if (p->n_ctrs >= p->max_containers)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->pool = p;
	c->n = ++p->next_n;
	c->lang = lang;
	c->fn = f;
	c->bench = bench;
	c->bench_call = -1;
	c->revision = f ? f->spec->revision : 0;
	c->origin = POOL_START_COLD;
	ctr_set_state(c, CTR_CREATING);
	c->created_ns = util_mono_ns();
	c->timer = evtimer_new(p->base, on_connect_timer, c);
	TAILQ_INSERT_TAIL(&p->ctrs, c, link);
	p->n_ctrs++;
	if (bench)
		bench_ctr_born(bench, c);

	snprintf(fid, sizeof(fid), "%" PRId64, f ? f->id : 0);
	snprintf(rev, sizeof(rev), "%" PRId64, c->revision);
	const struct backend_label labels[] = {
		{ "hearth.managed", "true" },
		{ "hearth.instance", p->instance },
		{ f ? "hearth.function" : "hearth.stem", f ? fid : pool_lang_name(lang) },
		{ "hearth.revision", rev },
	};
	const char *const cmd[] = { "--socket", BACKEND_SOCK_DIR_TARGET "/shim.sock", "--prestart",
				    pool_lang_name(lang), NULL };
	char sock[PATH_MAX + 8], task[PATH_MAX + 8];
	struct backend_spec spec = {
		.image = p->image[lang],
		.cmd = cmd,
		.labels = labels,
		.n_labels = sizeof(labels) / sizeof(labels[0]),
		.sock_dir = sock,
		.code_dir = task,
		.memory_mb = (unsigned)(f ? f->spec->memory_mb : p->stem_memory_mb),
		.pids_limit = RUNTIME_PIDS_MAX,
	};

	if (!c->timer) {
		hearth_error_make(&err, ENOMEM, "out of memory");
		goto fail;
	}
	if ((r = ctr_make_dirs(c, &err)) < 0 || (f && (r = ctr_link_code(c, &err)) < 0))
		goto fail;
	snprintf(sock, sizeof(sock), "%s/sock", c->dir);
	snprintf(task, sizeof(task), "%s/task", c->dir);
	if ((r = backend_create(p->backend, &spec, on_created, c, &c->req, &err)) < 0) {
		ctr_start_failed(c, err, true);
		hearth_error_free(err);
		return NULL;
	}
	return c;
fail:
	ctr_start_failed(c, err, false);
	hearth_error_free(err);
	return NULL;
}

/* Binds an idle stem cell to f: its code appears in the stem's /var/task
 * (hard links), then init imports the handler in the already running
 * interpreter. */
static void stem_failed(struct ctr *s, const char *msg)
{
	log_warn("pool: specialising a stem cell: %s", msg);
	/* Still bound to its function: the removal reschedules it, and the
	 * next container is a cold one (or another stem cell). */
	ctr_remove(s, "specialisation failed");
}

static void stem_link_and_init(struct ctr *s)
{
	struct hearth_error *err = NULL;

	if (ctr_link_code(s, &err) < 0 || ctr_send_init(s, &err) < 0) {
		stem_failed(s, err->msg);
		hearth_error_free(err);
	}
}

static void on_stem_resized(void *arg, const struct hearth_error *err)
{
	struct ctr *s = arg;

	s->req = NULL;
	if (s->pool->freeing)
		return;
	if (err) {
		stem_failed(s, err->msg);
		return;
	}
	stem_link_and_init(s);
}

/* Binds an idle stem cell to f: it takes f's memory limit (a live
 * update), its code appears in the stem's /var/task (hard links), then
 * init imports the handler in the already running interpreter. */
void stem_specialise(struct ctr *s, struct pfn *f)
{
	struct hearth_error *err = NULL;

	s->fn = f;
	s->revision = f->spec->revision;
	s->origin = POOL_START_STEM;
	ctr_set_state(s, CTR_INIT);
	s->init_start_ns = util_mono_ns();
	if (f->spec->memory_mb == s->pool->stem_memory_mb) {
		stem_link_and_init(s);
		return;
	}
	if (backend_update(s->pool->backend, s->id, (unsigned)f->spec->memory_mb, on_stem_resized,
			   s, &s->req, &err) < 0) {
		stem_failed(s, err->msg);
		hearth_error_free(err);
	}
}

struct ctr *ctr_by_id(struct pool *p, const char *id)
{
	struct ctr *c;

	if (!id)
		return NULL;
	TAILQ_FOREACH(c, &p->ctrs, link)
		if (c->id && strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

void ctr_died(struct ctr *c, const char *why)
{
	if (c->state == CTR_REMOVING)
		return;
	if (c->call)
		ctr_end_call(c, INVOCATION_CRASHED, "Runtime.ExitError", why);
	ctr_remove(c, why);
}
