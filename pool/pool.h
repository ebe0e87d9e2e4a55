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
};

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

/* Whether the pool has the function (a cheap, in-memory lookup). */
bool pool_knows(struct pool *p, int64_t function_id);
/* Runs f (at its revision known to the pool) with the payload. The payload
 * must stay valid until the callback or pool_call_abandon(). *callp (may
 * be NULL) receives a handle valid until then. Fails at once (no callback)
 * only for -ENOENT (function unknown to the pool). */
int pool_execute(struct pool *p, int64_t function_id, const char *request_id, const void *payload,
		 size_t len, pool_done_cb cb, void *arg, struct pool_call **callp,
		 struct hearth_error **err);
/* The client went away. A call still waiting leaves its queue and no
 * callback comes (true). A call already running finishes in its container
 * and its callback still comes, so its result can be recorded (false). */
bool pool_call_abandon(struct pool_call *c);

/* GET /pool: every container. */
json_object *pool_to_json(struct pool *p);
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
