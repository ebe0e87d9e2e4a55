/* api.h — the HTTP API on evhttp: routing, request validation, and the
 * static files of the dashboard at "/". */
#ifndef HEARTH_API_H
#define HEARTH_API_H

#include <event2/event.h>

#include "error.h"

struct store;
struct codestore;
struct pool;
struct exec;
struct api;

struct api_deps {
	struct event_base *base;
	struct store *store;
	struct codestore *codes;
	struct pool *pool;	/* may be NULL (no containers: tests of the registry) */
	struct exec *exec;	/* the execution endpoints; may be NULL likewise */
	const char *web_dir;	/* folder served at "/" */
};

int api_new(struct api **out, const struct api_deps *deps, struct hearth_error **err);
/* Binds host:port; -EADDRINUSE with a clear message when taken. */
int api_listen(struct api *a, const char *host, int port, struct hearth_error **err);
/* Stops accepting new connections (requests in flight go on). */
void api_stop_accepting(struct api *a);
/* Requests received and not yet answered. */
int api_inflight(const struct api *a);
void api_free(struct api *a);

#endif
