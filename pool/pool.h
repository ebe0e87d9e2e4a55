/* pool.h — warm containers per function, stem cells, and the scheduler.
 *
 * The API tells the pool when a function is created, changed or deleted;
 * the pool keeps `min_warm` containers of the current revision ready and a
 * few unbound stem cells per language, and runs calls: an idle warm
 * container if there is one, else a stem cell specialised for the
 * function, else a new container, else a wait in a bounded per-function
 * queue.  The warm path does no container operation and no disk write:
 * the payload goes to the container's shim connection as it came. */
#ifndef HEARTH_POOL_H
#define HEARTH_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "buf.h"
#include "bytes.h"
#include "error.h"
#include "function.h"
#include "invocation.h"

struct pool;
struct pool_call;
struct backend;

/* Every field is required: the defaults live in one place, src/config.c. */
struct pool_config {
	const char *data_dir; /* absolute; container folders go in DIR/run */
	const char *image_python;
	const char *image_node;
	int idle_ttl_s;		 /* idle containers above min_warm go after it */
	int max_containers;	 /* global cap */
	int stem_cells;		 /* per language */
	int stem_memory_mb;	 /* memory limit of stem cells */
	int queue_size;		 /* calls that may wait, per function */
	struct backend *backend; /* the container engine; the pool owns it from
					 * pool_new on (freed by pool_free, or by a
					 * failed pool_new) */
};

enum pool_start { POOL_START_WARM, POOL_START_STEM, POOL_START_COLD };
#define POOL_START_N 3

/* "warm", "stem", "cold". */
const char *pool_start_name(enum pool_start s);

/* What a call produced; borrowed, valid during the callback only. */
struct pool_result {
	const char *request_id;
	int64_t function_id;
	int64_t revision;
	enum invocation_status status;
	struct bytes result; /* JSON text as the runtime wrote it (success) */
	struct bytes error_type, error_message, error_stack;
	struct bytes logs;
	enum pool_start start;
	double duration_ms; /* handler time, measured by the shim */
	double init_ms;	    /* container start + init this call waited for */
	double queue_ms;    /* time waiting for a container */
	double max_memory_mb;
	/* The settings it ran under, for the lines Lambda writes around its
	 * logs (REPORT ... Memory Size, Task timed out after ...). */
	int memory_mb, timeout_s;
	/* Set when result.ptr starts a malloc'd block of its own (a large
	 * result, gathered from several messages), freed after the callback
	 * unless the callback takes it: pool_result_take. */
	void **result_block;
};

/* In the callback: the block result.ptr starts, now the caller's to
 * free(), so a large result can go out without a copy; NULL when the
 * result is in a buffer the pool reuses (take a copy then), or was
 * taken.  result.ptr stays valid (in the caller's block). */
void *pool_result_take(const struct pool_result *res);

/* Exactly once per call unless the call was abandoned: res set and err
 * NULL when the handler ran (any status); res NULL and err set when it
 * could not run (EAGAIN throttled, EHOSTDOWN/ENXIO engine or image
 * unavailable, ENOENT function deleted, ECANCELED shutting down). */
typedef void (*pool_done_cb)(void *arg, const struct pool_result *res,
			     const struct hearth_error *err);

int pool_new(struct pool **out, struct event_base *base, const struct pool_config *cfg,
	     struct hearth_error **err);
/* Daemon start: removes containers a previous run of this data dir left
 * behind, then warms every function given and the stem cells. */
int pool_start(struct pool *p, struct fn *const *fns, size_t n, struct hearth_error **err);
/* A function was created or got a new revision.  Fails (-ENOMEM, -EINVAL
 * for a language without a runtime) with the pool unchanged. */
int pool_function_changed(struct pool *p, const struct fn *f, struct hearth_error **err);
/* A function was deleted: its waiting calls fail, its containers go (a
 * busy one when its call ends).  Cannot fail. */
void pool_function_removed(struct pool *p, int64_t id);

/* The function's settings as the pool runs them, from memory; borrowed
 * until the function next changes (NULL when unknown). */
const struct fn *pool_function_spec(struct pool *p, int64_t function_id);
/* Whether the pool has the function (a cheap, in-memory lookup). */
bool pool_knows(struct pool *p, int64_t function_id);
/* Runs f (at its revision known to the pool) with the payload. The payload
 * must stay valid until the callback or pool_call_abandon(). *callp (may
 * be NULL) receives a handle valid until then. Fails at once (no callback)
 * only for -ENOENT (function unknown to the pool). */
int pool_execute(struct pool *p, int64_t function_id, const char *request_id, const void *payload,
		 size_t len, pool_done_cb cb, void *arg, struct pool_call **callp,
		 struct hearth_error **err);
/* The same for a call that yields (an asynchronous call's attempt): it
 * waits behind every ordinary call of its function, and it is not counted
 * against --queue-size (its caller bounds its own work). */
int pool_execute_background(struct pool *p, int64_t function_id, const char *request_id,
			    const void *payload, size_t len, pool_done_cb cb, void *arg,
			    struct pool_call **callp, struct hearth_error **err);
/* What ordinary calls wait for, so that background work can hold back:
 * `waiting`, the function's ordinary calls waiting for a container;
 * `cap_waiting`, whether some function's ordinary calls wait while the
 * pool is at --max-containers (a container freed then should go to them).
 * Cheap: counters. */
struct pool_pressure {
	int waiting;
	bool cap_waiting;
};
void pool_pressure(struct pool *p, int64_t function_id, struct pool_pressure *out);
/* The client went away. A call still waiting leaves its queue and no
 * callback comes (true). A call already running finishes in its container
 * and its callback still comes, so its result can be recorded (false). */
bool pool_call_abandon(struct pool_call *c);
/* After pool_call_abandon answered false: the caller's payload goes now,
 * before the callback; what the runtime has not been sent yet is copied
 * (out of memory fails the call). */
void pool_call_payload_going(struct pool_call *c);

/* A number that changes whenever GET /pool would show something else
 * (containers, their states, the functions, the engine): a watcher
 * compares it rather than the whole list.  Cheap. */
uint64_t pool_generation(const struct pool *p);
/* GET /pool: every container. */
json_object *pool_to_json(struct pool *p);
/* ---- benchmarks (POST /functions/{id}/bench) ----
 *
 * A benchmark runs `calls` calls of a function on containers of its own,
 * `concurrency` at a time, and times each one inside hearthd:
 *  - warm: containers started and initialised untimed, then every call
 *    timed from the invoke frame sent to the reply;
 *  - cold: a container created for each call and removed after it, timed
 *    from the create to the reply;
 *  - stem: a stem cell prestarted untimed for each call, then timed from
 *    its specialisation (memory, code, init) to the reply, and removed.
 * Its containers sit outside the function's max_concurrency and pool (no
 * ordinary call gets one) but inside the global cap; the function's warm
 * pool keeps serving meanwhile.  One benchmark per function at a time. */
struct pool_bench;

struct pool_bench_spec {
	enum pool_start start;
	int calls, concurrency;
	const char *payload; /* JSON text, kept by the pool for the run */
	size_t len;
};

/* One timed call. */
struct pool_bench_call {
	double ms;		       /* as timed above */
	bool ran;		       /* false: its container could not start */
	enum invocation_status status; /* when it ran */
	enum pool_start start;	       /* what served it (warm, stem, cold) */
	double duration_ms;	       /* the handler's own time */
};

/* When every call ended (err NULL; calls[n], the wall time of the whole
 * run), or when the run could not start or hearthd stops (err set).  Once,
 * from the loop, unless abandoned. */
typedef void (*pool_bench_cb)(void *arg, const struct pool_bench_call *calls, size_t n,
			      double wall_ms, const struct hearth_error *err);

/* -ENOENT no such function, -EEXIST one runs already, -EHOSTDOWN the
 * engine is down, -EAGAIN no room under the global cap. */
int pool_bench_start(struct pool *p, int64_t function_id, const struct pool_bench_spec *spec,
		     pool_bench_cb cb, void *arg, struct pool_bench **out,
		     struct hearth_error **err);
/* The caller went away: no callback; calls running finish, the rest are
 * not run, and the containers go. */
void pool_bench_abandon(struct pool_bench *b);

/* A function's containers, for the dashboard: idle (warm), busy and
 * starting ones of any revision still serving, and how many of them were
 * stem cells before they were specialised. */
struct pool_fn_containers {
	int idle, busy, starting, from_stem;
};
void pool_function_containers(struct pool *p, int64_t function_id, struct pool_fn_containers *out);
/* Prometheus gauges (pool sizes, queue depths) appended to out. */
int pool_metrics(struct pool *p, struct buf *out, struct hearth_error **err);
/* Docker reachability, for /healthz. */
bool pool_engine_up(struct pool *p);
const char *pool_engine_error(struct pool *p);

/* Stops taking calls and removes every container; `done` runs when all
 * are gone or after `grace_s`. */
void pool_shutdown(struct pool *p, int grace_s, void (*done)(void *arg), void *arg);
void pool_free(struct pool *p);

#endif
