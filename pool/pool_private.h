/* pool_private.h — the pool's own structures, shared by its files and by
 * nobody else (pool.h is the public face).
 *
 *   pool.c       the public operations: functions in and out, calls in,
 *                start-up and shutdown
 *   call.c       one call's life: queued, run on a container, answered
 *   schedule.c   who serves what: idle containers, stem cells, new
 *                containers, the caps and eviction
 *   container.c  one container's life: create, start, connect, init (or a
 *                stem cell's specialisation), idle/busy, removal
 *   engine.c     the engine's side: its event stream, reconciliation with
 *                what it runs, pings, the periodic sweep
 *   status.c     GET /pool and the pool's Prometheus gauges
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
#ifndef HEARTH_POOL_PRIVATE_H
#define HEARTH_POOL_PRIVATE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "backend.h"
#include "pool.h"
#include "shimconn.h"

#define POOL_START_TIMEOUT_S 20 /* create + start + socket ready */
#define POOL_CONNECT_RETRY_MS 2
#define POOL_BACKSTOP_MS 100 /* answer this long after the deadline at the latest */
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

struct pfn;
struct pool_call;
struct pool_bench;
TAILQ_HEAD(bench_list, pool_bench);

struct ctr {
	struct pool *pool;
	uint64_t n; /* local number: DIR/run/<n> */
	char *id;   /* engine id, NULL while creating */
	enum lang lang;
	struct pfn *fn; /* NULL for a stem cell */
	int64_t revision;
	enum ctr_state state;
	bool draining;		/* finish the call in hand, then go */
	enum pool_start origin; /* COLD, or STEM once specialised */
	int64_t created_ns, ready_ns, idle_since_ns, init_start_ns;
	double init_ms;
	uint64_t served;
	char dir[PATH_MAX];
	struct shimconn *conn;
	struct backend_req *req;
	struct event *timer; /* start timeout, connect retry, call backstop */
	struct pool_call *call;
	/* A benchmark's own container: outside its function's pool (never
	 * counted, scheduled or handed to an ordinary call), inside the cap. */
	struct pool_bench *bench;
	int bench_call;	       /* the bench call it serves (cold, stem), or -1 */
	TAILQ_ENTRY(ctr) link; /* in pool->ctrs */
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
	/* An asynchronous call's attempt: it waits behind every ordinary call
	 * of its function (the queue keeps them last) and is not counted
	 * against --queue-size. */
	bool background;
	struct ctr *ctr;
	struct event *timer; /* queue wait limit */
	TAILQ_ENTRY(pool_call) q;
};
TAILQ_HEAD(call_list, pool_call);

/* A call failed inside pool_execute's caller, answered from the loop
 * (call_fail_soon). */
struct deferred_fail {
	struct pool_call *call;
	int status;
	char msg[256];
	TAILQ_ENTRY(deferred_fail) link;
};
TAILQ_HEAD(deferred_list, deferred_fail);

struct pfn {
	struct pool *pool;
	int64_t id;
	struct fn *spec;	/* current revision */
	struct call_list queue; /* ordinary calls first, then background ones */
	int qlen;		/* all of them */
	int bg_qlen;		/* the background ones */
	bool deleted;
	int64_t init_failed_rev;  /* no warm-up for a revision whose init failed */
	int64_t fail_until_ns;	  /* no warm-up until then after a failed start */
	struct pool_bench *bench; /* the benchmark running, if any (one at a time) */
	TAILQ_ENTRY(pfn) link;
};
TAILQ_HEAD(pfn_list, pfn);

struct pool {
	struct event_base *base;
	struct backend *backend;
	char data_dir[PATH_MAX];
	char run_dir[PATH_MAX];
	char instance[17]; /* label value: this data dir's containers */
	char *image[LANG_N];
	int idle_ttl_s, max_containers, stem_cells, stem_memory_mb, queue_size;
	struct pfn_list fns;
	struct ctr_list ctrs;
	int n_ctrs;	/* not REMOVING */
	int fg_waiting; /* ordinary calls queued, over every function */
	uint64_t next_n;
	bool ready; /* orphans removed: containers may start */
	bool shutting_down;
	bool freeing;
	bool engine_up;	     /* the last ping was answered */
	bool engine_checked; /* a ping came back, answered or not */
	/* A removal failed (the engine restarting, say): the container may
	 * still be there, untracked.  The sweep lists again (pool_reconcile
	 * removes what we do not track) until a list comes back. */
	bool resync;
	int64_t stem_fail_until_ns;
	struct event *sweep, *ping, *shutdown_timer;
	/* call_fail_soon's answers: one event of the backend priority
	 * (loop.h), so a 429 leaves before the next client is read. */
	struct deferred_list fails;
	struct event *fail_ev;
	struct bench_list benches; /* every benchmark not yet freed */
	struct backend_req *watch_req, *ping_req, *list_req;
	void (*shutdown_done)(void *);
	void *shutdown_arg;
	/* Bumped by every change /pool would show (a container's state, the
	 * functions, the engine): watchers compare it instead of diffing. */
	uint64_t generation;
	/* counters for /metrics */
	uint64_t n_started[POOL_START_N], n_recycled, n_throttled;
};

/* ---- pool.c ---- */
int pool_lang_of(const char *language); /* enum lang, or -1 */
const char *pool_lang_name(enum lang l);
struct pfn *pfn_find(struct pool *p, int64_t id);
void pfn_free(struct pfn *f);

static inline void ctr_set_state(struct ctr *c, enum ctr_state st)
{
	c->state = st;
	c->pool->generation++;
}

static inline double ms_between(int64_t a_ns, int64_t b_ns)
{
	return b_ns > a_ns ? (double)(b_ns - a_ns) / 1e6 : 0.0;
}

/* ---- call.c ---- */
void call_free(struct pool_call *call);
void call_unqueue(struct pool_call *call);
/* Answers a call that could not run and frees it: now (from the loop
 * only), or soon (from the loop, so a caller inside pool_execute never
 * sees its callback before pool_execute returns). */
void call_fail_now(struct pool_call *call, int status, const char *msg);
/* pool_new's: the deferred answers' event (and its list); the event's
 * callback, and pool_free at the end: answering them. */
int call_fails_init(struct pool *p);
void call_fails_flush(struct pool *p);
void call_fail_soon(struct pool_call *call, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void call_queue_timeout(evutil_socket_t fd, short what, void *arg);
void pfn_fail_queue(struct pfn *f, int status, const char *msg);
/* Answers f's waiting calls with the handler's init error. */
void pfn_fail_init(struct pfn *f, struct ctr *c, struct bytes type, struct bytes message);
/* Runs call on the idle container c (the warm path). */
void ctr_run(struct ctr *c, struct pool_call *call);
/* Ends c's call with a result of our own (the shim did not answer). */
void ctr_end_call(struct ctr *c, enum invocation_status st, const char *type, const char *msg);

/* ---- schedule.c ---- */
/* f's live containers of its current revision (see the definition). */
int pfn_live(struct pfn *f, int *starting, struct ctr **idle);
void pfn_schedule(struct pfn *f);
void pool_fill_stems(struct pool *p);
void pool_fill_all(struct pool *p);

/* ---- container.c ---- */
/* Starts a container: bound to f, or a stem cell of `lang` when f is NULL;
 * a benchmark's own when bench is set. */
struct ctr *ctr_start(struct pool *p, enum lang lang, struct pfn *f, struct pool_bench *bench);
void stem_specialise(struct ctr *s, struct pfn *f);
void ctr_became_idle(struct ctr *c);
void ctr_remove(struct ctr *c, const char *why);
void ctr_died(struct ctr *c, const char *why);
struct ctr *ctr_by_id(struct pool *p, const char *id);

/* ---- call.c, for the benchmarks ---- */
/* A call of f not queued anywhere, to run with ctr_run. */
struct pool_call *call_new(struct pool *p, struct pfn *f, const char *request_id,
			   const void *payload, size_t len, pool_done_cb cb, void *arg);

/* ---- bench.c: what becomes of a benchmark's containers ---- */
/* Born: ctr_start attached it (before anything can fail). */
void bench_ctr_born(struct pool_bench *b, struct ctr *c);
/* Ready (its first time), or its call ended and it is idle again. */
void bench_ctr_idle(struct pool_bench *b, struct ctr *c);
/* Its init failed: the call it was made for failed with that error. */
void bench_ctr_init_failed(struct pool_bench *b, struct ctr *c, struct bytes type,
			   struct bytes message);
/* It is being removed (done, died, could not start). */
void bench_ctr_gone(struct pool_bench *b, struct ctr *c, const char *why);
/* Its function was deleted: the calls not run yet fail. */
void bench_function_gone(struct pool_bench *b);
/* hearthd stops: every benchmark answers ECANCELED (if not yet) and goes. */
void bench_free_all(struct pool *p);

/* ---- engine.c ---- */
int engine_init(struct pool *p, struct hearth_error **err);
/* Watches the engine's events, pings it, sweeps: the first reconciliation
 * removes what an earlier run left, then the pools fill. */
void engine_start(struct pool *p);
void engine_free(struct pool *p);

#endif
