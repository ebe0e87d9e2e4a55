/* invoke.h — one call, whatever door it came in by (POST .../execute and
 * the batch today; the Lambda API and function URLs next): it gets a
 * request id, the pool runs it, its result is checked to be JSON, its
 * record is queued for the store and its metrics counted, and only then
 * does the caller's callback build its own reply.  No HTTP here. */
#ifndef HEARTH_INVOKE_H
#define HEARTH_INVOKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "buf.h"
#include "error.h"
#include "pool.h"

#define INVOKE_ID_LEN 37 /* a UUID and its NUL */

struct invoker;
struct invoke_call;
struct records;
struct metrics;

/* What a watcher (the dashboard's event stream) hears of every call that
 * ran, borrowed for the duration of the call. */
struct invoke_summary {
	const char *id;
	int64_t function_id;
	enum invocation_status status;
	enum pool_start start;
	double total_ms; /* as hearthd saw it, request to reply */
	double duration_ms, init_ms, queue_ms;
	int64_t at_ms; /* when it arrived, epoch ms */
};
typedef void (*invoke_observer)(void *arg, const struct invoke_summary *s);

struct invoke_deps {
	struct event_base *base;
	struct pool *pool;
	struct records *records;
	struct metrics *metrics;
	invoke_observer observer; /* may be NULL; must be cheap: it runs on the hot path */
	void *observer_arg;
};

int invoke_new(struct invoker **out, const struct invoke_deps *deps, struct hearth_error **err);
void invoke_free(struct invoker *x);

/* Exactly once per call unless it was abandoned.  res and err as for
 * pool_done_cb, except that on success res->result is always JSON text: an
 * empty result reads `null`, and one that is not JSON turned the call into
 * an INVOCATION_ERROR (Runtime.InvalidResult). */
typedef void (*invoke_done_cb)(void *arg, const struct pool_result *res,
			       const struct hearth_error *err);

/* Starts a call of function_id with the payload (JSON text, which must stay
 * valid until the callback or invoke_abandon).  Fails at once (no
 * callback) only when the function is unknown (-ENOENT) or memory ran
 * out.  *callp (may be NULL) is valid until then. */
int invoke_start(struct invoker *x, int64_t function_id, const char *payload, size_t len,
		 invoke_done_cb cb, void *arg, struct invoke_call **callp,
		 struct hearth_error **err);
/* invoke_start with flags:
 *  INVOKE_BACKGROUND  the call yields to ordinary calls in the pool
 *                     (pool_execute_background): an asynchronous attempt;
 *  INVOKE_DONE_FIRST  the callback runs before the call is counted,
 *                     recorded or told to the observer, so that what the
 *                     caller commits there (an asynchronous call's success)
 *                     is durable before anything else hears of the call. */
#define INVOKE_BACKGROUND 0x1u
#define INVOKE_DONE_FIRST 0x2u
int invoke_start_ex(struct invoker *x, int64_t function_id, const char *payload, size_t len,
		    unsigned flags, invoke_done_cb cb, void *arg, struct invoke_call **callp,
		    struct hearth_error **err);
/* A fresh id of the shape of a call's request id (a UUID), unique among
 * them: for a caller that must put it into the payload (a function URL's
 * event), or for what is not a call itself (an asynchronous call). */
void invoke_new_id(struct invoker *x, char dst[INVOKE_ID_LEN]);
/* The id invoke_new_id makes from a run's 64 random bits and a counter:
 * xxxxxxxx-xxxx-4xxx-axxx-xxxxxxxxxxxx. */
void invoke_id_format(uint64_t prefix, uint64_t counter, char dst[INVOKE_ID_LEN]);
/* invoke_start with the request id made beforehand by invoke_new_id. */
int invoke_start_as(struct invoker *x, const char *request_id, int64_t function_id,
		    const char *payload, size_t len, invoke_done_cb cb, void *arg,
		    struct invoke_call **callp, struct hearth_error **err);

/* The call's request id (a UUID), for headers and logs. */
const char *invoke_call_id(const struct invoke_call *c);
/* Takes back a call still waiting for a container: true when it was (it
 * leaves the queue and no callback comes), false when it already runs
 * (nothing changes: its callback comes). */
bool invoke_withdraw(struct invoke_call *c);
/* The caller went away: its callback never comes.  A call still waiting
 * leaves its queue; one already running finishes and is still recorded. */
void invoke_abandon(struct invoke_call *c);

#endif
