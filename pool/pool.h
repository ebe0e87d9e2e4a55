/* pool.h — warm containers per function (the seam the API calls).
 *
 * The API tells the pool when a function is created, changed or deleted;
 * the pool keeps `min_warm` containers of the current revision ready.  The
 * execution path (pool_execute) arrives with the execution issue. */
#ifndef HEARTH_POOL_H
#define HEARTH_POOL_H

#include <event2/event.h>

#include "error.h"
#include "function.h"

struct pool;

struct pool_config {
	const char *docker_socket;
	const char *data_dir;
};

int pool_new(struct pool **out, struct event_base *base, const struct pool_config *cfg,
	     struct hearth_error **err);
/* A function was created or got a new revision. */
void pool_function_changed(struct pool *p, const struct fn *f);
/* A function was deleted: its containers go. */
void pool_function_removed(struct pool *p, int64_t id);
void pool_free(struct pool *p);

#endif
