/* api.h — the HTTP API on evhttp: the server, its routing, and the
 * endpoints of docs/ARCHITECTURE.md (routes.h lists them and the files that hold
 * them), with the dashboard's files at "/". */
#ifndef HEARTH_API_H
#define HEARTH_API_H

#include <event2/event.h>

#include "conns.h"
#include "error.h"

struct registry;
struct store;
struct records;
struct metrics;
struct pool;
struct invoker;
struct asyncq;
struct api;

/* What the endpoints work with; the api owns none of it. */
struct api_deps {
	struct event_base *base;
	struct registry *registry;
	struct store *store; /* invocation records are read here */
	struct records *records;
	struct metrics *metrics;
	struct pool *pool;
	struct invoker *invoker;
	struct asyncq *asyncq; /* asynchronous calls */
	struct events *events; /* the feed behind GET /events */
	const char *web_dir;   /* folder served at "/" */
	/* The Lambda API's region, and the key pair its SigV4 signatures must
	 * use; NULL key: signatures are not checked. */
	const char *aws_region;
	const char *aws_access_key_id, *aws_secret_access_key;
	const char *token;	   /* the bearer token the API needs, or NULL */
	struct conns_config conns; /* the connection layer: cap, deadlines, TLS */
};

int api_new(struct api **out, const struct api_deps *deps, struct hearth_error **err);
/* Binds host:port; -EADDRINUSE with a clear message when taken.  Logs
 * the address it listens on ("listening on https://127.0.0.1:8443"). */
int api_listen(struct api *a, const char *host, int port, struct hearth_error **err);
/* Stops accepting new connections (requests in flight go on). */
void api_stop_accepting(struct api *a);
/* Requests received and not yet answered. */
int api_inflight(const struct api *a);
void api_free(struct api *a);

#endif
