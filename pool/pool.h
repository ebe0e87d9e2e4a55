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
#include "error.h"
#include "function.h"

struct pool;
struct pool_call;
struct backend;

struct pool_config {
	const char *docker_socket;
	const char *data_dir;		/* absolute; container folders go in DIR/run */
	const char *image_python;	/* default "hearth/python:latest" */
	const char *image_node;		/* default "hearth/node:latest" */
	int idle_ttl_s;			/* default 600 */
	int max_containers;		/* global cap, default 64 */
	int stem_cells;			/* per language, default 1 */
	int stem_memory_mb;		/* memory limit of stem cells, default 128 */
	int queue_size;			/* per function, default 100 */
	struct backend *backend;	/* NULL: Docker at docker_socket (the pool owns it) */
};

enum pool_status { POOL_SUCCESS, POOL_ERROR, POOL_TIMEOUT, POOL_CRASHED };
enum pool_start { POOL_START_WARM, POOL_START_STEM, POOL_START_COLD };

const char *pool_status_name(enum pool_status s);
const char *pool_start_name(enum pool_start s);

struct pool_bytes {
	const char *ptr;
	size_t len;
};

/* What a call produced; borrowed, valid during the callback only. */
struct pool_result {
	const char *request_id;
	int64_t function_id;
	int64_t revision;
	enum pool_status status;
	struct pool_bytes result;	/* JSON text as the runtime wrote it (success) */
	struct pool_bytes error_type, error_message, error_stack;
	struct pool_bytes logs;
	enum pool_start start;
	double duration_ms;		/* handler time, measured by the shim */
	double init_ms;			/* container start + init this call waited for */
	double queue_ms;		/* time waiting for a container */
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
void pool_start(struct pool *p, struct fn *const *fns, size_t n);
/* A function was created or got a new revision. */
void pool_function_changed(struct pool *p, const struct fn *f);
/* A function was deleted: its containers go. */
void pool_function_removed(struct pool *p, int64_t id);

/* Whether the pool has the function (a cheap, in-memory lookup). */
bool pool_knows(struct pool *p, int64_t function_id);
/* Runs f (at its revision known to the pool) with the payload. The payload
 * must stay valid until the callback or pool_call_abandon(). *callp (may
 * be NULL) receives a handle valid until then. Fails at once (no callback)
 * only for -ENOENT (function unknown to the pool). */
int pool_execute(struct pool *p, int64_t function_id, const char *request_id,
		 const void *payload, size_t len, pool_done_cb cb, void *arg,
		 struct pool_call **callp, struct hearth_error **err);
/* The client went away. A call still waiting leaves its queue and no
 * callback comes (true). A call already running finishes in its container
 * and its callback still comes, so its result can be recorded (false). */
bool pool_call_abandon(struct pool_call *c);

/* GET /pool: every container. */
json_object *pool_to_json(struct pool *p);
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
