/* invoke.c — see invoke.h. */
#include "invoke.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "jsontext.h"
#include "metrics.h"
#include "records.h"
#include "util.h"

struct invoker {
	struct pool *pool;
	struct records *records;
	struct metrics *metrics;
	invoke_observer observer;
	void *observer_arg;
	uint64_t id_prefix;
	uint64_t id_counter;
};

struct invoke_call {
	struct invoker *x;
	struct pool_call *pcall;
	invoke_done_cb cb;
	void *arg;
	bool abandoned;	     /* running: recorded, nobody told */
	unsigned flags;	     /* INVOKE_* */
	const char *payload; /* the caller's, until it abandons the call */
	size_t payload_len;
	char *payload_copy; /* made when the caller abandons a running call */
	int64_t function_id;
	int64_t t0_ns, created_ms;
	char request_id[INVOKE_ID_LEN];
};

int invoke_new(struct invoker **out, const struct invoke_deps *deps, struct hearth_error **err)
{
	struct invoker *x = calloc(1, sizeof(*x));

	if (!x)
		return hearth_error_make(err, ENOMEM, "out of memory");
	x->pool = deps->pool;
	x->records = deps->records;
	x->metrics = deps->metrics;
	x->observer = deps->observer;
	x->observer_arg = deps->observer_arg;
	if (getrandom(&x->id_prefix, sizeof(x->id_prefix), 0) != sizeof(x->id_prefix))
		x->id_prefix = (uint64_t)util_now_ms() ^ ((uint64_t)getpid() << 32);
	*out = x;
	return 0;
}

void invoke_free(struct invoker *x)
{
	free(x);
}

static char *hex(char *at, uint64_t v, int digits)
{
	static const char xd[] = "0123456789abcdef";

	for (int i = digits - 1; i >= 0; i--) {
		at[i] = xd[v & 0xf];
		v >>= 4;
	}
	return at + digits;
}

/* A UUID-shaped id, xxxxxxxx-xxxx-4xxx-axxx-xxxxxxxxxxxx: 64 random bits
 * per daemon run plus a counter, so it is unique without a syscall per
 * call; written digit by digit (the hot path). */
void invoke_id_format(uint64_t prefix, uint64_t c, char dst[INVOKE_ID_LEN])
{
	char *at = dst;

	at = hex(at, prefix >> 32, 8);
	*at++ = '-';
	at = hex(at, (prefix >> 16) & 0xffff, 4);
	*at++ = '-';
	*at++ = '4';
	at = hex(at, prefix & 0xfff, 3);
	*at++ = '-';
	*at++ = 'a';
	at = hex(at, (c >> 48) & 0xfff, 3);
	*at++ = '-';
	at = hex(at, c & (uint64_t)0xffffffffffff, 12);
	*at = '\0';
}

void invoke_new_id(struct invoker *x, char dst[INVOKE_ID_LEN])
{
	invoke_id_format(x->id_prefix, ++x->id_counter, dst);
}

/* A successful call's result must be JSON: empty reads null, and anything
 * else that is not JSON (a runtime that misbehaved) becomes an error
 * instead of breaking whatever reply is built from it. */
static void check_result(struct pool_result *res)
{
	static const char bad_type[] = "Runtime.InvalidResult";
	static const char bad_msg[] = "the runtime returned a result that is not JSON";

	if (res->status != INVOCATION_SUCCESS)
		return;
	if (res->result.len == 0) {
		res->result = bytes_of_str("null");
		return;
	}
	if (jsontext_is_value(res->result.ptr, res->result.len))
		return;
	res->status = INVOCATION_ERROR;
	res->result = (struct bytes){ NULL, 0 };
	res->error_type = (struct bytes){ bad_type, sizeof(bad_type) - 1 };
	res->error_message = (struct bytes){ bad_msg, sizeof(bad_msg) - 1 };
}

static void call_free(struct invoke_call *c)
{
	free(c->payload_copy);
	free(c);
}

static void on_pool_done(void *arg, const struct pool_result *pres, const struct hearth_error *perr)
{
	struct invoke_call *c = arg;
	struct pool_result res;
	struct records_entry *entry;
	bool keep;
	int64_t now;

	if (!pres) {
		metrics_observe_failure(c->x->metrics, c->function_id, perr->status);
		if (!c->abandoned)
			c->cb(c->arg, NULL, perr);
		call_free(c);
		return;
	}
	res = *pres;
	check_result(&res);
	/* The record's copy is made now (the caller may let the payload go
	 * in its callback); the writer thread formats it. */
	keep = records_on(c->x->records);
	entry = keep ? records_entry_new(&res, c->created_ms, c->payload, c->payload_len) : NULL;
	/* A callback may take the result's block (pool_result_take) and
	 * free it: after it, nothing here reads res.result. */
	if (c->flags & INVOKE_DONE_FIRST && !c->abandoned)
		c->cb(c->arg, &res, NULL);
	now = util_mono_ns();
	metrics_observe(c->x->metrics, c->function_id, res.status, res.start,
			(double)(now - c->t0_ns) / 1e6, res.duration_ms, now, c->created_ms);
	if (keep)
		records_push(c->x->records, entry);
	if (c->x->observer) {
		struct invoke_summary sum = {
			.id = c->request_id,
			.function_id = c->function_id,
			.status = res.status,
			.start = res.start,
			.total_ms = (double)(now - c->t0_ns) / 1e6,
			.duration_ms = res.duration_ms,
			.init_ms = res.init_ms,
			.queue_ms = res.queue_ms,
			.at_ms = c->created_ms,
		};

		c->x->observer(c->x->observer_arg, &sum);
	}
	if (!c->abandoned && !(c->flags & INVOKE_DONE_FIRST))
		c->cb(c->arg, &res, NULL);
	call_free(c);
}

/* Every way in: the request id made, and the flags given. */
static int start(struct invoker *x, const char *request_id, int64_t function_id,
		 const char *payload, size_t len, unsigned flags, invoke_done_cb cb, void *arg,
		 struct invoke_call **callp, struct hearth_error **err)
{
	struct invoke_call *c = calloc(1, sizeof(*c));
	size_t len_id;
	int r;

	if (!c)
		return hearth_error_make(err, ENOMEM, "out of memory");
	c->x = x;
	c->flags = flags;
	c->cb = cb;
	c->arg = arg;
	c->function_id = function_id;
	c->payload = payload;
	c->payload_len = len;
	c->t0_ns = util_mono_ns();
	c->created_ms = util_now_ms();
	len_id = strnlen(request_id, sizeof(c->request_id) - 1);
	memcpy(c->request_id, request_id, len_id);
	c->request_id[len_id] = '\0';
	r = (flags & INVOKE_BACKGROUND)
		    ? pool_execute_background(x->pool, function_id, c->request_id, payload, len,
					      on_pool_done, c, &c->pcall, err)
		    : pool_execute(x->pool, function_id, c->request_id, payload, len, on_pool_done,
				   c, &c->pcall, err);
	if (r < 0) {
		free(c);
		return r;
	}
	if (callp)
		*callp = c;
	return 0;
}

int invoke_start(struct invoker *x, int64_t function_id, const char *payload, size_t len,
		 invoke_done_cb cb, void *arg, struct invoke_call **callp,
		 struct hearth_error **err)
{
	return invoke_start_ex(x, function_id, payload, len, 0, cb, arg, callp, err);
}

int invoke_start_ex(struct invoker *x, int64_t function_id, const char *payload, size_t len,
		    unsigned flags, invoke_done_cb cb, void *arg, struct invoke_call **callp,
		    struct hearth_error **err)
{
	char id[INVOKE_ID_LEN];

	invoke_new_id(x, id);
	return start(x, id, function_id, payload, len, flags, cb, arg, callp, err);
}

int invoke_start_as(struct invoker *x, const char *request_id, int64_t function_id,
		    const char *payload, size_t len, invoke_done_cb cb, void *arg,
		    struct invoke_call **callp, struct hearth_error **err)
{
	return start(x, request_id, function_id, payload, len, 0, cb, arg, callp, err);
}

const char *invoke_call_id(const struct invoke_call *c)
{
	return c->request_id;
}

bool invoke_withdraw(struct invoke_call *c)
{
	/* The pool changes nothing about a call already running. */
	if (!pool_call_abandon(c->pcall))
		return false;
	call_free(c);
	return true;
}

void invoke_abandon(struct invoke_call *c)
{
	if (pool_call_abandon(c->pcall)) {
		call_free(c); /* no callback from the pool either */
		return;
	}
	/* Running: on_pool_done records it, then frees; the caller's payload
	 * goes now, so the record keeps a copy, and so does the runtime's
	 * lane of what it has not sent yet. */
	pool_call_payload_going(c->pcall);
	c->abandoned = true;
	if (c->payload && c->payload_len <= INVOKE_RECORD_BODY_MAX)
		c->payload_copy = strndup(c->payload, c->payload_len);
	c->payload = c->payload_copy;
	c->payload_len = c->payload_copy ? c->payload_len : 0;
}
