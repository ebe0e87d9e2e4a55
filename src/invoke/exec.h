/* exec.h — the execution endpoints: POST /functions/{id}/execute (the hot
 * path), POST /functions/execute (a batch), the invocation records
 * (GET /functions/{id}/invocations, GET /invocations/{id}), GET /pool and
 * GET /metrics.  Replies are deferred until the pool answers; a client
 * that goes away abandons its call. */
#ifndef HEARTH_EXEC_H
#define HEARTH_EXEC_H

#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>

#include "bounds.h"
#include "error.h"


struct exec;
struct pool;
struct store;
struct records;
struct metrics;

struct exec_deps {
	struct event_base *base;
	struct pool *pool;
	struct store *store;
	struct records *records;
	struct metrics *metrics;
};

int exec_new(struct exec **out, const struct exec_deps *deps, struct hearth_error **err);
void exec_free(struct exec *x);

/* Each takes over the request and answers it exactly once (now or later);
 * a negative return (nothing sent) leaves the error reply to the caller. */
int exec_invoke(struct exec *x, struct evhttp_request *req, int64_t function_id,
		struct hearth_error **err);
int exec_batch(struct exec *x, struct evhttp_request *req, struct hearth_error **err);
int exec_list_invocations(struct exec *x, struct evhttp_request *req, int64_t function_id,
			  struct hearth_error **err);
int exec_get_invocation(struct exec *x, struct evhttp_request *req, const char *id,
			struct hearth_error **err);
int exec_pool(struct exec *x, struct evhttp_request *req, struct hearth_error **err);
int exec_metrics(struct exec *x, struct evhttp_request *req, struct hearth_error **err);

#endif
