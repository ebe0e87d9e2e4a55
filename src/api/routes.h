/* routes.h — the API's own header: the state its endpoint files share and
 * each endpoint's handler.  A handler either replies (and returns 0) or
 * returns a negative status with *err set, and api.c turns that into the
 * JSON error reply, so every request ends in exactly one reply and the
 * status mapping stays in http.c.  Handlers only speak HTTP: what a
 * request does is the registry's, the invoker's or the pool's.
 *
 *   api.c          the server: listening, limits, routing
 *   http.c         replies, errors, request bodies (http.h)
 *   functions.c    /functions/ and /functions/{id}: the registry
 *   execute.c      POST /functions/{id}/execute and the batch
 *   bench.c        POST /functions/{id}/bench
 *   fnurl.c        function URLs: ANY /fn/{route}
 *   invocations.c  the invocation records (and an async call's, async.c)
 *   async.c        asynchronous calls: one as GET /invocations/{id} shows
 *                  it, the dead letters and their redrive
 *   monitor.c      /healthz, /pool, /metrics, /events (events.c: the feed)
 *   lambda.c       the AWS Lambda API under /2015-03-31 (lambdajson.c: its
 *                  JSON shapes; sigv4.c: its signatures)
 *   webfiles.c     the dashboard's files at / */
#ifndef HEARTH_ROUTES_H
#define HEARTH_ROUTES_H

#include <stdbool.h>

#include <event2/http.h>
#include <json-c/json.h>

#include "error.h"

struct api {
	struct event_base *base;
	struct registry *registry;
	struct store *store;	 /* invocation records are read here */
	struct records *records; /* ...once the pending batch is written */
	struct metrics *metrics;
	struct pool *pool;
	struct invoker *invoker;
	struct asyncq *asyncq;
	struct events *events;
	char *web_root; /* realpath of web_dir, or NULL when missing */
	/* The Lambda API: its region, and the key pair its signatures must
	 * use (NULL: not checked). */
	const char *aws_region;
	const char *aws_access_key_id, *aws_secret_access_key;
	char *token; /* the bearer token the API needs (auth.h), or NULL */
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	struct conns *conns; /* every connection under evhttp (conns.h) */
	bool tls;
};

/* Every handler: `arg` is the URL's {} segment (a function's id, an
 * invocation's id), or NULL on a route without one. */
typedef int (*api_handler)(struct api *a, struct evhttp_request *req, const char *arg,
			   struct hearth_error **err);

/* functions.c */
int api_functions_list(struct api *a, struct evhttp_request *req, const char *arg,
		       struct hearth_error **err);
int api_functions_create(struct api *a, struct evhttp_request *req, const char *arg,
			 struct hearth_error **err);
int api_functions_get(struct api *a, struct evhttp_request *req, const char *idstr,
		      struct hearth_error **err);
int api_functions_update(struct api *a, struct evhttp_request *req, const char *idstr,
			 struct hearth_error **err);
int api_functions_delete(struct api *a, struct evhttp_request *req, const char *idstr,
			 struct hearth_error **err);
int api_test_events_get(struct api *a, struct evhttp_request *req, const char *idstr,
			struct hearth_error **err);
int api_test_events_put(struct api *a, struct evhttp_request *req, const char *idstr,
			struct hearth_error **err);

/* execute.c: the reply may come later (deferred until the call ends). */
int api_execute(struct api *a, struct evhttp_request *req, const char *idstr,
		struct hearth_error **err);
int api_execute_batch(struct api *a, struct evhttp_request *req, const char *arg,
		      struct hearth_error **err);

/* bench.c: deferred until the benchmark ends. */
int api_bench(struct api *a, struct evhttp_request *req, const char *idstr,
	      struct hearth_error **err);

/* invocations.c */
int api_invocations_list(struct api *a, struct evhttp_request *req, const char *idstr,
			 struct hearth_error **err);
int api_invocation_get(struct api *a, struct evhttp_request *req, const char *id,
		       struct hearth_error **err);
/* A figure in milliseconds, written with three decimals (json-c's own
 * "%.17g" would print 3.4319999999999999). */
json_object *api_json_ms(double v);

/* async.c: arg of the redrive of one is "{function}/{call id}". */
int api_dead_letters_list(struct api *a, struct evhttp_request *req, const char *idstr,
			  struct hearth_error **err);
int api_dead_letters_redrive_all(struct api *a, struct evhttp_request *req, const char *idstr,
				 struct hearth_error **err);
int api_dead_letter_redrive(struct api *a, struct evhttp_request *req, const char *arg,
			    struct hearth_error **err);
/* GET /invocations/{id} of an async call: -ENOENT (nothing sent) when id
 * is no async call's. */
int api_async_call_get(struct api *a, struct evhttp_request *req, const char *id,
		       struct hearth_error **err);

/* monitor.c */
int api_healthz(struct api *a, struct evhttp_request *req, const char *arg,
		struct hearth_error **err);
int api_pool(struct api *a, struct evhttp_request *req, const char *arg, struct hearth_error **err);
int api_metrics(struct api *a, struct evhttp_request *req, const char *arg,
		struct hearth_error **err);
int api_events(struct api *a, struct evhttp_request *req, const char *arg,
	       struct hearth_error **err);

/* fnurl.c: path is what follows /fn ("/hello/x"), still encoded. */
int api_fnurl(struct api *a, struct evhttp_request *req, const char *path,
	      struct hearth_error **err);

/* lambda.c: the Lambda API.  Its paths are authenticated before routing
 * (api_lambda_refused answers a request it refuses) and its errors
 * answered in Lambda's shape (api_lambda_reply_error). */
bool api_lambda_path(const char *path);
bool api_lambda_refused(struct api *a, struct evhttp_request *req);
void api_lambda_reply_error(struct evhttp_request *req, const struct hearth_error *e);
int api_lambda_list(struct api *a, struct evhttp_request *req, const char *arg,
		    struct hearth_error **err);
int api_lambda_create(struct api *a, struct evhttp_request *req, const char *arg,
		      struct hearth_error **err);
int api_lambda_get(struct api *a, struct evhttp_request *req, const char *fn,
		   struct hearth_error **err);
int api_lambda_get_configuration(struct api *a, struct evhttp_request *req, const char *fn,
				 struct hearth_error **err);
int api_lambda_update_code(struct api *a, struct evhttp_request *req, const char *fn,
			   struct hearth_error **err);
int api_lambda_update_configuration(struct api *a, struct evhttp_request *req, const char *fn,
				    struct hearth_error **err);
int api_lambda_delete(struct api *a, struct evhttp_request *req, const char *fn,
		      struct hearth_error **err);
/* Deferred until the call ends (RequestResponse). */
int api_lambda_invoke(struct api *a, struct evhttp_request *req, const char *fn,
		      struct hearth_error **err);

/* webfiles.c: path is the URL's path, still encoded. */
int api_webfile(struct api *a, struct evhttp_request *req, const char *path,
		struct hearth_error **err);

/* api.c: the routing table and the decision it makes for a path and a
 * method, apart from any request (fuzz/api_route.c drives it). */
struct api_route_row {
	const char *pattern; /* literal, but "{}" matches one segment */
	unsigned methods;    /* EVHTTP_REQ_* */
	api_handler fn;
};
extern const struct api_route_row api_routes[];
extern const size_t api_routes_n;

enum api_route_kind {
	API_ROUTE_HANDLER,     /* row->fn serves it, with arg (its {} segments, or NULL) */
	API_ROUTE_FNURL,       /* a function URL: arg is the path below /fn */
	API_ROUTE_WEBFILE,     /* a file of the dashboard: arg is the path */
	API_ROUTE_NOT_FOUND,   /* an API path that does not exist (404) */
	API_ROUTE_NOT_ALLOWED, /* the path exists, not with this method: 405 with allow */
};

struct api_route {
	enum api_route_kind kind;
	const struct api_route_row *row;
	const char *arg; /* into argbuf or the path */
	char allow[64];
	char argbuf[256];
};

/* path is the URL's path (still encoded), method one EVHTTP_REQ_*. */
void api_route_find(const char *path, unsigned method, struct api_route *out);

#endif
