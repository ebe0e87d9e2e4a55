/* pool.c — see pool.h.
 *
 * Containers move through: CREATING -> STARTING -> CONNECTING -> (INIT) ->
 * IDLE <-> BUSY, and end in REMOVING.  A container is either bound to a
 * function revision or a stem cell (bound to nothing, its interpreter
 * already running); a stem cell is bound by hard-linking the function's
 * code into its /var/task folder and sending init.  A call takes an idle
 * container of its function's current revision; otherwise it waits in the
 * function's queue while the scheduler starts (or specialises) containers,
 * and whichever container becomes idle first serves the head of the queue.
 * A container whose call timed out or whose runtime crashed is removed and
 * replaced in the background; so is one that dies outside our control
 * (seen on the engine's event stream). */
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

#include "backend.h"
#include "bounds.h"
#include "log.h"
#include "shimconn.h"
#include "util.h"

#define POOL_START_TIMEOUT_S 20	/* create + start + socket ready */
#define POOL_CONNECT_RETRY_MS 2
#define POOL_BACKSTOP_MS 100	/* answer this long after the deadline at the latest */
#define POOL_QUEUE_WAIT_EXTRA_S 30
#define POOL_SWEEP_MS 1000
#define POOL_PING_MS 2000
#define POOL_FAIL_BACKOFF_MS 2000

enum ctr_state {
	CTR_CREATING,
	CTR_STARTING,
	CTR_CONNECTING,
	CTR_INIT,
	CTR_IDLE,
	CTR_BUSY,
	CTR_REMOVING,
};

enum lang { LANG_PYTHON, LANG_NODE, LANG_N };
static const char *const lang_names[LANG_N] = { "python", "node" };

struct pfn;
struct pool_call;

struct ctr {
	struct pool *pool;
	uint64_t n;			/* local number: DIR/run/<n> */
	char *id;			/* engine id, NULL while creating */
	enum lang lang;
	struct pfn *fn;			/* NULL for a stem cell */
	int64_t revision;
	enum ctr_state state;
	bool draining;			/* finish the call in hand, then go */
	enum pool_start origin;		/* COLD, or STEM once specialised */
	int64_t created_ns, ready_ns, idle_since_ns, init_start_ns;
	double init_ms;
	uint64_t served;
	char dir[PATH_MAX];
	struct shimconn *conn;
	struct backend_req *req;
	struct event *timer;		/* start timeout, connect retry, call backstop */
	struct pool_call *call;
	TAILQ_ENTRY(ctr) link;		/* in pool->ctrs */
};
TAILQ_HEAD(ctr_list, ctr);

struct pool_call {
	struct pool *pool;
	struct pfn *fn;
	char request_id[64];
	const void *payload;
	size_t len;
	int64_t enq_ns, run_ns;
	pool_done_cb cb;
	void *arg;
	bool abandoned;
	bool queued;
	struct ctr *ctr;
	struct event *timer;		/* queue wait limit */
	TAILQ_ENTRY(pool_call) q;
};
TAILQ_HEAD(call_list, pool_call);

struct pfn {
	struct pool *pool;
	int64_t id;
	struct fn *spec;		/* current revision */
	struct call_list queue;
	int qlen;
	bool deleted;
	int64_t init_failed_rev;	/* no warm-up for a revision whose init failed */
	int64_t fail_until_ns;		/* no warm-up until then after a failed start */
	TAILQ_ENTRY(pfn) link;
};
TAILQ_HEAD(pfn_list, pfn);

struct pool {
	struct event_base *base;
	struct backend *backend;
	char data_dir[PATH_MAX];
	char run_dir[PATH_MAX];
	char instance[17];		/* label value: this data dir's containers */
	char *image[LANG_N];
	int idle_ttl_s, max_containers, stem_cells, stem_memory_mb, queue_size;
	struct pfn_list fns;
	struct ctr_list ctrs;
	int n_ctrs;			/* not REMOVING */
	uint64_t next_n;
	bool ready;			/* orphans removed: containers may start */
	bool shutting_down;
	bool freeing;
	bool engine_up;		/* the last ping was answered */
	int64_t stem_fail_until_ns;
	struct event *sweep, *ping, *shutdown_timer;
	struct backend_req *watch_req, *ping_req, *list_req;
	void (*shutdown_done)(void *);
	void *shutdown_arg;
	/* counters for /metrics */
	uint64_t n_started[3], n_recycled, n_throttled;
};

static void ctr_remove(struct ctr *c, const char *why);
static void pfn_schedule(struct pfn *f);
static void pool_fill_stems(struct pool *p);
static void ctr_run(struct ctr *c, struct pool_call *call);

const char *pool_start_name(enum pool_start s)
{
	static const char *const n[] = { "warm", "stem", "cold" };

	return (unsigned)s < 3 ? n[s] : "cold";
}

static double ms_between(int64_t a_ns, int64_t b_ns)
{
	return b_ns > a_ns ? (double)(b_ns - a_ns) / 1e6 : 0.0;
}

static int lang_of(const char *s)
{
	for (int i = 0; i < LANG_N; i++)
		if (strcmp(s, lang_names[i]) == 0)
			return i;
	return -1;
}

static struct pfn *pfn_find(struct pool *p, int64_t id)
{
	struct pfn *f;

	TAILQ_FOREACH(f, &p->fns, link)
		if (f->id == id)
			return f;
	return NULL;
}


/* f's containers of its current revision that are not going away; *idle
 * gets the one that became idle last (LIFO keeps few containers hot, so
 * the idle TTL can retire the rest). */
static int pfn_live(struct pfn *f, int *starting, struct ctr **idle)
{
	struct ctr *c;
	int n = 0, s = 0;

	if (idle)
		*idle = NULL;
	TAILQ_FOREACH(c, &f->pool->ctrs, link) {
		if (c->fn != f || c->draining || c->state == CTR_REMOVING ||
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

static void pfn_free(struct pfn *f)
{
	fn_free(f->spec);
	free(f);
}

/* ---- calls ---------------------------------------------------------------- */

static void call_free(struct pool_call *call)
{
	if (call->timer)
		event_free(call->timer);
	free(call);
}

static void call_unqueue(struct pool_call *call)
{
	if (!call->queued)
		return;
	TAILQ_REMOVE(&call->fn->queue, call, q);
	call->fn->qlen--;
	call->queued = false;
	evtimer_del(call->timer);
}

/* Answers a call that could not run and frees it (from the loop only). */
static void call_fail_now(struct pool_call *call, int status, const char *msg)
{
	struct hearth_error e = { .status = status, .msg = (char *)msg };

	call_unqueue(call);
	if (!call->abandoned)
		call->cb(call->arg, NULL, &e);
	call_free(call);
}

struct deferred_fail {
	struct pool_call *call;
	int status;
	char msg[256];
};

static void deferred_fail_cb(evutil_socket_t fd, short what, void *arg)
{
	struct deferred_fail *d = arg;

	call_fail_now(d->call, d->status, d->msg);
	free(d);
}

/* Fails a call from the loop, never inside pool_execute's caller. */
static void call_fail_soon(struct pool_call *call, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void call_fail_soon(struct pool_call *call, int status, const char *fmt, ...)
{
	struct deferred_fail *d = calloc(1, sizeof(*d));
	struct timeval now = { 0, 0 };
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
	if (event_base_once(call->pool->base, -1, EV_TIMEOUT, deferred_fail_cb, d, &now) < 0) {
		free(d);
		call_fail_now(call, ENOMEM, "out of memory");
	}
}

/* Callers may sit inside pool_execute(): answers always come from the
 * loop, so a caller never sees its callback before pool_execute returns. */
static void call_fail(struct pool_call *call, int status, const char *msg)
{
	call_fail_soon(call, status, "%s", msg);
}

static void pfn_fail_queue(struct pfn *f, int status, const char *msg)
{
	struct pool_call *call;

	while ((call = TAILQ_FIRST(&f->queue)) != NULL)
		call_fail(call, status, msg);
}

static void on_queue_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct pool_call *call = arg;
	char msg[160];

	call->fn->pool->n_throttled++;
	snprintf(msg, sizeof(msg), "no container of function %" PRId64 " became free within %d s",
		 call->fn->id, call->fn->spec->timeout_s + POOL_QUEUE_WAIT_EXTRA_S);
	call_fail(call, EAGAIN, msg);
}

/* ---- containers ------------------------------------------------------------ */

static void ctr_free_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctr *c = arg;
	struct pool *p = c->pool;
	struct pfn *f = c->fn;
	struct ctr *o;
	bool orphan_fn = f && f->deleted;

	TAILQ_REMOVE(&p->ctrs, c, link);
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
	if (err && err->status != ENOENT)
		log_warn("pool: removing container %.12s: %s", c->id, err->msg);
	ctr_free_soon(c);
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
	/* A call that waited for this container to come up is its cold or
	 * stem start; one that found it ready is warm. */
	if (c->served == 0 && c->ready_ns >= call->enq_ns) {
		res->start = c->origin;
		res->init_ms = c->init_ms;
		res->queue_ms = ms_between(call->enq_ns, call->run_ns) - c->init_ms;
		if (res->queue_ms < 0)
			res->queue_ms = 0;
	} else {
		res->start = POOL_START_WARM;
	}
}

/* Ends the container's current call with a synthetic result (the shim did
 * not answer: deadline passed, container died, connection broke). */
static void ctr_end_call(struct ctr *c, enum invocation_status st, const char *type, const char *msg)
{
	struct pool_call *call = c->call;
	struct shimconn_reply r = { 0 };
	struct pool_result res;

	if (!call)
		return;
	c->call = NULL;
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

static void ctr_remove(struct ctr *c, const char *why)
{
	struct pool *p = c->pool;
	struct pfn *f = c->fn;
	bool was_creating = c->state == CTR_CREATING;

	if (c->state == CTR_REMOVING)
		return;
	log_info("pool: removing container %.12s (%s %" PRId64 " r%" PRId64 "): %s",
		 c->id ? c->id : "(creating)", f ? "function" : "stem", f ? f->id : 0,
		 c->revision, why);
	if (c->call)
		ctr_end_call(c, INVOCATION_CRASHED, "Runtime.ContainerGone", why);
	if (c->timer)
		evtimer_del(c->timer);
	if (c->conn) {
		shimconn_free(c->conn);
		c->conn = NULL;
	}
	c->state = CTR_REMOVING;
	p->n_ctrs--;
	p->n_recycled++;
	if (was_creating) {
		/* The engine may be making it right now: on_created removes it. */
	} else {
		if (c->req) {
			backend_cancel(p->backend, c->req);
			c->req = NULL;
		}
		if (!c->id || backend_remove(p->backend, c->id, on_removed, c, &c->req, NULL) < 0)
			ctr_free_soon(c);
	}
	if (p->shutting_down)
		return;
	if (f && !f->deleted)
		pfn_schedule(f);
	else if (!f)
		pool_fill_stems(p);
}

static void ctr_start_failed(struct ctr *c, const struct hearth_error *err)
{
	struct pool *p = c->pool;
	struct pfn *f = c->fn;
	int status = err ? err->status : EIO;
	char msg[512];

	/* An image that is not there is the operator's to fix, not Docker's. */
	if (status == ENOENT)
		status = ENXIO;
	snprintf(msg, sizeof(msg), "cannot start a %s container: %s", lang_names[c->lang],
		 err ? err->msg : "unknown error");
	log_warn("pool: %s", msg);
	if (!f)
		p->stem_fail_until_ns = util_mono_ns() + POOL_FAIL_BACKOFF_MS * 1000000LL;
	else
		f->fail_until_ns = util_mono_ns() + POOL_FAIL_BACKOFF_MS * 1000000LL;
	c->fn = NULL;	/* no replacement loop from ctr_remove */
	ctr_remove(c, "start failed");
	c->fn = f;
	if (f && pfn_live(f, NULL, NULL) == 0)
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
	};

	c->state = CTR_INIT;
	c->init_start_ns = util_mono_ns();
	return shimconn_init(c->conn, &in, on_init, c, err);
}

/* A call or the warm-up is waiting for this container of f: answer the
 * queued calls with the handler's init error, the way Lambda answers an
 * invocation whose init failed. */
static void pfn_fail_init(struct pfn *f, struct ctr *c, struct bytes type, struct bytes message)
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

static void ctr_became_idle(struct ctr *c)
{
	c->state = CTR_IDLE;
	c->idle_since_ns = util_mono_ns();
	if (c->fn && (c->draining || c->fn->deleted || c->revision != c->fn->spec->revision)) {
		ctr_remove(c, "revision replaced");
		return;
	}
	if (c->fn)
		pfn_schedule(c->fn);
	else if (!c->pool->shutting_down)
		pool_fill_stems(c->pool);	/* a ready stem may be what a queue waits for */
}

static void on_init(void *arg, const struct shimconn_reply *r, const struct hearth_error *err)
{
	struct ctr *c = arg;
	int64_t now = util_mono_ns();

	if (!r || r->status != INVOCATION_SUCCESS) {
		/* The runtime's own words, or the broken connection's. */
		struct bytes type = r ? r->error_type : bytes_of_str("Runtime.InitError");
		struct bytes msg = r ? r->error_message : bytes_of_str(err ? err->msg : "init failed");

		log_info("pool: function %" PRId64 " r%" PRId64 " failed to initialise: %.*s: %.*s",
			 c->fn->id, c->revision, (int)type.len, type.ptr, (int)msg.len, msg.ptr);
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
			struct hearth_error e = { ETIMEDOUT, "the shim did not listen within the start timeout" };

			ctr_start_failed(c, &e);
			return;
		}
		struct timeval tv = { 0, POOL_CONNECT_RETRY_MS * 1000 };
		evtimer_add(c->timer, &tv);
		return;
	}
	if (r < 0) {
		ctr_start_failed(c, err);
		hearth_error_free(err);
		return;
	}
	if (c->fn) {
		if (ctr_send_init(c, &err) < 0) {
			ctr_start_failed(c, err);
			hearth_error_free(err);
		}
		return;
	}
	c->ready_ns = util_mono_ns();
	c->init_ms = ms_between(c->created_ns, c->ready_ns);
	log_debug("pool: %s stem cell %.12s ready in %.1f ms", lang_names[c->lang], c->id,
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
		ctr_start_failed(c, err);
		return;
	}
	c->state = CTR_CONNECTING;
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
		if (!c->id || backend_remove(p->backend, c->id, on_removed, c, &c->req, NULL) < 0)
			ctr_free_soon(c);
		return;
	}
	if (err || !c->id) {
		ctr_start_failed(c, err);
		return;
	}
	c->state = CTR_STARTING;
	if (backend_start(p->backend, c->id, on_started, c, &c->req, &e2) < 0) {
		ctr_start_failed(c, e2);
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
static struct ctr *ctr_start(struct pool *p, enum lang lang, struct pfn *f)
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
	c->revision = f ? f->spec->revision : 0;
	c->origin = POOL_START_COLD;
	c->state = CTR_CREATING;
	c->created_ns = util_mono_ns();
	c->timer = evtimer_new(p->base, on_connect_timer, c);
	TAILQ_INSERT_TAIL(&p->ctrs, c, link);
	p->n_ctrs++;

	snprintf(fid, sizeof(fid), "%" PRId64, f ? f->id : 0);
	snprintf(rev, sizeof(rev), "%" PRId64, c->revision);
	const struct backend_label labels[] = {
		{ "hearth.managed", "true" },
		{ "hearth.instance", p->instance },
		{ f ? "hearth.function" : "hearth.stem", f ? fid : lang_names[lang] },
		{ "hearth.revision", rev },
	};
	const char *const cmd[] = { "--socket", BACKEND_SOCK_DIR_TARGET "/shim.sock",
				    "--prestart", lang_names[lang], NULL };
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

	if (!c->timer || (r = ctr_make_dirs(c, &err)) < 0 || (f && (r = ctr_link_code(c, &err)) < 0))
		goto fail;
	snprintf(sock, sizeof(sock), "%s/sock", c->dir);
	snprintf(task, sizeof(task), "%s/task", c->dir);
	if ((r = backend_create(p->backend, &spec, on_created, c, &c->req, &err)) < 0)
		goto fail;
	return c;
fail:
	ctr_start_failed(c, err);
	hearth_error_free(err);
	return NULL;
}

static struct ctr *stem_take(struct pool *p, enum lang lang)
{
	struct ctr *c;

	TAILQ_FOREACH(c, &p->ctrs, link)
		if (!c->fn && c->lang == lang && c->state == CTR_IDLE)
			return c;
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
static int stem_specialise(struct ctr *s, struct pfn *f)
{
	struct hearth_error *err = NULL;

	s->fn = f;
	s->revision = f->spec->revision;
	s->origin = POOL_START_STEM;
	s->state = CTR_INIT;
	s->init_start_ns = util_mono_ns();
	if (f->spec->memory_mb == s->pool->stem_memory_mb) {
		stem_link_and_init(s);
		return 0;
	}
	if (backend_update(s->pool->backend, s->id, (unsigned)f->spec->memory_mb, on_stem_resized,
			   s, &s->req, &err) < 0) {
		stem_failed(s, err->msg);
		hearth_error_free(err);
	}
	return 0;
}

static void pool_fill_stems(struct pool *p)
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
		if (!c->fn && c->state != CTR_REMOVING)
			have[c->lang]++;
	for (int l = 0; l < LANG_N; l++)
		while (have[l]++ < p->stem_cells && p->n_ctrs < room)
			if (!ctr_start(p, (enum lang)l, NULL))
				return;
}

/* Makes room under the global cap by retiring the idle container (of
 * another function, or a stem cell) that has been idle longest. */
static bool pool_evict_for(struct pool *p, struct pfn *f)
{
	struct ctr *c, *victim = NULL;

	TAILQ_FOREACH(c, &p->ctrs, link)
		if (c->state == CTR_IDLE && c->fn != f &&
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
static void pfn_schedule(struct pfn *f)
{
	struct pool *p = f->pool;
	struct pool_call *call;
	struct ctr *idle;
	int live, starting, want;
	int lang = lang_of(f->spec->language);

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
		} else if (!ctr_start(p, (enum lang)lang, f)) {
			break;
		}
	}
}

/* ---- running a call ---------------------------------------------------------- */

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
		ctr_remove(c, res.status == INVOCATION_TIMEOUT ? "the call timed out" : "the runtime crashed");
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

static void ctr_run(struct ctr *c, struct pool_call *call)
{
	struct hearth_error *err = NULL;
	unsigned timeout_ms = (unsigned)c->fn->spec->timeout_s * 1000u;
	struct timeval tv;

	c->state = CTR_BUSY;
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
	/* The payload now sits in the connection's buffer: the caller's copy
	 * may go. */
	call->payload = NULL;
	event_assign(c->timer, c->pool->base, -1, 0, on_backstop, c);
	tv.tv_sec = (timeout_ms + POOL_BACKSTOP_MS) / 1000;
	tv.tv_usec = (suseconds_t)((timeout_ms + POOL_BACKSTOP_MS) % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

bool pool_knows(struct pool *p, int64_t function_id)
{
	struct pfn *f = p ? pfn_find(p, function_id) : NULL;

	return f && !f->deleted;
}

int pool_execute(struct pool *p, int64_t function_id, const char *request_id,
		 const void *payload, size_t len, pool_done_cb cb, void *arg,
		 struct pool_call **callp, struct hearth_error **err)
{
	struct pfn *f = pfn_find(p, function_id);
	struct pool_call *call;
	struct ctr *idle;

	if (!f || f->deleted)
		return hearth_error_make(err, ENOENT, "function %" PRId64 " is not in the pool",
					 function_id);
	call = calloc(1, sizeof(*call));
	if (!call)
		return hearth_error_make(err, ENOMEM, "out of memory");
	call->pool = p;
	call->fn = f;
	snprintf(call->request_id, sizeof(call->request_id), "%s", request_id);
	call->payload = payload;
	call->len = len;
	call->cb = cb;
	call->arg = arg;
	call->enq_ns = util_mono_ns();
	call->timer = evtimer_new(p->base, on_queue_timeout, call);
	if (callp)
		*callp = call;
	if (!call->timer) {
		call_fail_soon(call, ENOMEM, "out of memory");
		return 0;
	}
	if (p->shutting_down) {
		call_fail_soon(call, ECANCELED, "hearthd is shutting down");
		return 0;
	}
	pfn_live(f, NULL, &idle);
	if (idle && TAILQ_EMPTY(&f->queue)) {
		ctr_run(idle, call);	/* the warm path */
		return 0;
	}
	if (f->qlen >= p->queue_size) {
		p->n_throttled++;
		call_fail_soon(call, EAGAIN,
			       "function %" PRId64 " is at max_concurrency %d and its queue of %d is full",
			       f->id, f->spec->max_concurrency, p->queue_size);
		return 0;
	}
	if (!backend_is_up(p->backend) && pfn_live(f, NULL, NULL) == 0 && p->ready) {
		call_fail_soon(call, EHOSTDOWN, "%s",
			       backend_last_error(p->backend) ? backend_last_error(p->backend)
							      : "the container engine is unreachable");
		return 0;
	}
	TAILQ_INSERT_TAIL(&f->queue, call, q);
	f->qlen++;
	call->queued = true;
	struct timeval tv = { f->spec->timeout_s + POOL_QUEUE_WAIT_EXTRA_S, 0 };
	evtimer_add(call->timer, &tv);
	pfn_schedule(f);
	return 0;
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
		return false;		/* running: its result still comes, to be recorded */
	call->abandoned = true;		/* a failure on its way from the loop: dropped */
	return true;
}

/* ---- functions ------------------------------------------------------------------ */

void pool_function_changed(struct pool *p, const struct fn *spec)
{
	struct pfn *f = pfn_find(p, spec->id);
	struct fn *copy = fn_dup(spec);
	struct ctr *c, *next;

	if (!copy) {
		log_error("pool: out of memory taking function %" PRId64, spec->id);
		return;
	}
	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f) {
			fn_free(copy);
			log_error("pool: out of memory taking function %" PRId64, spec->id);
			return;
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
		if (c->fn != f || c->revision == copy->revision || c->state == CTR_REMOVING)
			continue;
		c->draining = true;
		if (c->state == CTR_IDLE)
			ctr_remove(c, "revision replaced");
	}
	pfn_schedule(f);
}

void pool_function_removed(struct pool *p, int64_t id)
{
	struct pfn *f = pfn_find(p, id);
	struct ctr *c, *next;
	bool referenced = false;

	if (!f)
		return;
	f->deleted = true;
	TAILQ_REMOVE(&p->fns, f, link);
	pfn_fail_queue(f, ENOENT, "the function was deleted");
	for (c = TAILQ_FIRST(&p->ctrs); c; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->fn != f)
			continue;
		referenced = true;
		c->draining = true;
		if (c->state != CTR_BUSY)
			ctr_remove(c, "function deleted");
	}
	if (!referenced)
		pfn_free(f);
}

/* ---- the engine: start-up, events, health ------------------------------------------ */

static struct ctr *ctr_by_id(struct pool *p, const char *id)
{
	struct ctr *c;

	if (!id)
		return NULL;
	TAILQ_FOREACH(c, &p->ctrs, link)
		if (c->id && strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

static void ctr_died(struct ctr *c, const char *why)
{
	if (c->state == CTR_REMOVING)
		return;
	if (c->call)
		ctr_end_call(c, INVOCATION_CRASHED, "Runtime.ExitError", why);
	ctr_remove(c, why);
}

static void on_orphan_removed(void *arg, const struct hearth_error *err)
{
	(void)arg;
	if (err && err->status != ENOENT && err->status != ECANCELED)
		log_warn("pool: removing a leftover container: %s", err->msg);
}

/* Every function's pool and the stem cells filled to their targets. */
static void pool_fill_all(struct pool *p)
{
	struct pfn *f;

	TAILQ_FOREACH(f, &p->fns, link)
		pfn_schedule(f);
	pool_fill_stems(p);
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
		pool_become_ready(p);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (ctr_by_id(p, v[i].id))
			continue;
		if (backend_remove(p->backend, v[i].id, on_orphan_removed, NULL, NULL, NULL) == 0)
			removed++;
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
	if (backend_list(p->backend, labels, on_list, p, &p->list_req, NULL) < 0)
		pool_become_ready(p);
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
			pool_reconcile(p);	/* (re)connected: we may have missed events */
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
	if (!p->engine_up) {
		if (was_up)
			log_warn("pool: the container engine is unreachable: %s", err->msg);
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
			if (c->fn == f && c->state == CTR_IDLE && now - c->idle_since_ns > ttl) {
				ctr_remove(c, "idle past --idle-ttl");
				live--;
			}
		}
		pfn_schedule(f);
	}
	pool_fill_stems(p);
	evtimer_add(p->sweep, &tv);
}

void pool_start(struct pool *p, struct fn *const *fns, size_t n)
{
	const char *labels[] = { "hearth.managed=true", NULL, NULL };
	char inst[64];
	struct timeval now = { 0, 0 };

	for (size_t i = 0; i < n; i++)
		pool_function_changed(p, fns[i]);	/* waits for ready to start anything */
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

/* ---- status ------------------------------------------------------------------------ */

static const char *ctr_state_name(const struct ctr *c)
{
	/* Removing is the end of draining: both are on their way out. */
	if (c->state == CTR_REMOVING || c->draining)
		return "draining";
	if (c->state < CTR_IDLE)
		return "starting";
	return c->state == CTR_IDLE ? "idle" : "busy";
}

json_object *pool_to_json(struct pool *p)
{
	json_object *arr = json_object_new_array();
	int64_t now = util_mono_ns();
	struct ctr *c;

	TAILQ_FOREACH(c, &p->ctrs, link) {
		json_object *o = json_object_new_object();
		char shortid[13] = "";

		if (c->id)
			snprintf(shortid, sizeof(shortid), "%.12s", c->id);
		json_object_object_add(o, "container", json_object_new_string(shortid));
		json_object_object_add(o, "function_id",
				       c->fn ? json_object_new_int64(c->fn->id) : NULL);
		json_object_object_add(o, "function",
				       c->fn ? json_object_new_string(c->fn->spec->name) : NULL);
		json_object_object_add(o, "revision",
				       c->fn ? json_object_new_int64(c->revision) : NULL);
		json_object_object_add(o, "language", json_object_new_string(lang_names[c->lang]));
		json_object_object_add(o, "stem", json_object_new_boolean(!c->fn));
		json_object_object_add(o, "state", json_object_new_string(ctr_state_name(c)));
		json_object_object_add(o, "origin", json_object_new_string(pool_start_name(c->origin)));
		char age[32];

		snprintf(age, sizeof(age), "%.1f", (double)(now - c->created_ns) / 1e9);
		json_object_object_add(o, "age_s", json_object_new_double_s(atof(age), age));
		json_object_object_add(o, "invocations", json_object_new_int64((int64_t)c->served));
		json_object_array_add(arr, o);
	}
	return arr;
}

int pool_metrics(struct pool *p, struct buf *out, struct hearth_error **err)
{
	static const char *const states[] = { "starting", "idle", "busy", "draining" };
	int count[LANG_N][4] = { { 0 } };
	struct ctr *c;
	struct pfn *f;
	int r = 0;

	TAILQ_FOREACH(c, &p->ctrs, link) {
		const char *s = ctr_state_name(c);

		for (int i = 0; i < 4; i++)
			if (strcmp(s, states[i]) == 0)
				count[c->lang][i]++;
	}
	r |= buf_puts(out, "# HELP hearth_containers Containers by language and state.\n"
		      "# TYPE hearth_containers gauge\n", err);
	for (int l = 0; l < LANG_N; l++)
		for (int i = 0; i < 4; i++)
			r |= buf_printf(out, err, "hearth_containers{language=\"%s\",state=\"%s\"} %d\n",
					lang_names[l], states[i], count[l][i]);
	r |= buf_puts(out, "# HELP hearth_function_containers Live containers per function.\n"
		      "# TYPE hearth_function_containers gauge\n"
		      "# HELP hearth_queue_depth Calls waiting for a container, per function.\n"
		      "# TYPE hearth_queue_depth gauge\n", err);
	TAILQ_FOREACH(f, &p->fns, link) {
		r |= buf_printf(out, err, "hearth_function_containers{function_id=\"%" PRId64 "\"} %d\n",
				f->id, pfn_live(f, NULL, NULL));
		r |= buf_printf(out, err, "hearth_queue_depth{function_id=\"%" PRId64 "\"} %d\n",
				f->id, f->qlen);
	}
	r |= buf_printf(out, err,
			"# HELP hearth_containers_recycled_total Containers removed (timeout, crash, TTL, revision).\n"
			"# TYPE hearth_containers_recycled_total counter\n"
			"hearth_containers_recycled_total %" PRIu64 "\n"
			"# HELP hearth_throttled_total Calls answered 429.\n"
			"# TYPE hearth_throttled_total counter\n"
			"hearth_throttled_total %" PRIu64 "\n"
			"# HELP hearth_engine_up Whether the container engine answers.\n"
			"# TYPE hearth_engine_up gauge\n"
			"hearth_engine_up %d\n",
			p->n_recycled, p->n_throttled, backend_is_up(p->backend) ? 1 : 0);
	return r < 0 ? -E2BIG : 0;
}

bool pool_engine_up(struct pool *p)
{
	return backend_is_up(p->backend);
}

const char *pool_engine_error(struct pool *p)
{
	return backend_last_error(p->backend);
}

/* ---- life ---------------------------------------------------------------------------- */

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

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
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
	snprintf(p->instance, sizeof(p->instance), "%016" PRIx64, fnv1a(p->data_dir));
	if ((r = util_rm_rf(p->run_dir, err)) < 0 || (r = util_mkdir_p(p->run_dir, 0, err)) < 0)
		goto fail;
	p->sweep = evtimer_new(base, on_sweep, p);
	p->ping = evtimer_new(base, on_ping_timer, p);
	p->shutdown_timer = evtimer_new(base, on_shutdown_timer, p);
	if (!p->image[0] || !p->image[1] || !p->sweep || !p->ping || !p->shutdown_timer) {
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
		backend_free(p->backend);	/* pending callbacks see `freeing` */
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
			struct hearth_error e = { ECANCELED, "hearthd is stopping" };

			c->call->cb(c->call->arg, NULL, &e);
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
	while ((f = TAILQ_FIRST(&p->fns)) != NULL) {
		struct pool_call *call;

		TAILQ_REMOVE(&p->fns, f, link);
		while ((call = TAILQ_FIRST(&f->queue)) != NULL)
			call_fail_now(call, ECANCELED, "hearthd is stopping");
		pfn_free(f);
	}
	if (p->sweep)
		event_free(p->sweep);
	if (p->ping)
		event_free(p->ping);
	if (p->shutdown_timer)
		event_free(p->shutdown_timer);
	free(p->image[0]);
	free(p->image[1]);
	free(p);
}
