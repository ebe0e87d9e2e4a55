/* envelope.c — see envelope.h. */
#include "envelope.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>

#include "jsontext.h"
#include "util.h"

int envelope_append_string(struct buf *b, struct bytes s, struct hearth_error **err)
{
	return jsontext_append_string(b, s.ptr ? s.ptr : "", s.len, err);
}

int envelope_append_stack(struct buf *b, const struct pool_result *res, struct hearth_error **err)
{
	if (res->error_stack.len && res->error_stack.ptr[0] == '[' &&
	    jsontext_is_value(res->error_stack.ptr, res->error_stack.len))
		return buf_append(b, res->error_stack.ptr, res->error_stack.len, err);
	return buf_puts(b, "[]", err);
}

int envelope_write_error(struct buf *b, const struct pool_result *res, struct hearth_error **err)
{
	int r;

	if (res->status == INVOCATION_SUCCESS)
		return buf_puts(b, "null", err);
	if ((r = buf_puts(b, "{\"type\":", err)) < 0 ||
	    (r = envelope_append_string(b, res->error_type, err)) < 0 ||
	    (r = buf_puts(b, ",\"message\":", err)) < 0 ||
	    (r = envelope_append_string(b, res->error_message, err)) < 0 ||
	    (r = buf_puts(b, ",\"stack\":", err)) < 0)
		return r;
	if ((r = envelope_append_stack(b, res, err)) < 0)
		return r;
	return buf_puts(b, "}", err);
}

/* Up to "result": (the head) and from ,"error": on (the tail).  The hot
 * path's: no printf (integers and fixed-point by buf_i64 and buf_fixed,
 * the same digits). */
static int write_head(struct buf *b, const struct pool_result *res, struct hearth_error **err)
{
	int r;

	if ((r = buf_puts(b, "{\"id\":\"", err)) < 0 ||
	    (r = buf_puts(b, res->request_id, err)) < 0 ||
	    (r = buf_puts(b, "\",\"function_id\":", err)) < 0 ||
	    (r = buf_i64(b, res->function_id, err)) < 0 ||
	    (r = buf_puts(b, ",\"revision\":", err)) < 0 ||
	    (r = buf_i64(b, res->revision, err)) < 0 ||
	    (r = buf_puts(b, ",\"status\":\"", err)) < 0 ||
	    (r = buf_puts(b, invocation_status_name(res->status), err)) < 0)
		return r;
	return buf_puts(b, "\",\"result\":", err);
}

static int write_tail(struct buf *b, const struct pool_result *res, struct hearth_error **err)
{
	int r;

	if ((r = buf_puts(b, ",\"error\":", err)) < 0 ||
	    (r = envelope_write_error(b, res, err)) < 0 ||
	    (r = buf_puts(b, ",\"logs\":", err)) < 0 ||
	    (r = envelope_append_string(b, res->logs, err)) < 0 ||
	    (r = buf_puts(b, ",\"start\":\"", err)) < 0 ||
	    (r = buf_puts(b, pool_start_name(res->start), err)) < 0 ||
	    (r = buf_puts(b, "\",\"duration_ms\":", err)) < 0 ||
	    (r = buf_fixed(b, res->duration_ms, 3, err)) < 0 ||
	    (r = buf_puts(b, ",\"init_ms\":", err)) < 0 ||
	    (r = buf_fixed(b, res->init_ms, 3, err)) < 0 ||
	    (r = buf_puts(b, ",\"queue_ms\":", err)) < 0 ||
	    (r = buf_fixed(b, res->queue_ms, 3, err)) < 0 ||
	    (r = buf_puts(b, ",\"max_memory_mb\":", err)) < 0 ||
	    (r = buf_fixed(b, res->max_memory_mb, 1, err)) < 0)
		return r;
	return buf_puts(b, "}", err);
}

/* One allocation for the envelope's text besides the result, as a rule:
 * the fields and a margin for escaping. */
static size_t around_want(const struct pool_result *res)
{
	return 320 + res->logs.len + res->logs.len / 8 + res->error_type.len +
	       res->error_message.len + res->error_stack.len;
}

int envelope_write(struct buf *b, const struct pool_result *res, struct hearth_error **err)
{
	size_t want = around_want(res) + res->result.len;
	int r;

	if (want <= b->max - b->len && (r = buf_reserve(b, want, err)) < 0)
		return r;
	if ((r = write_head(b, res, err)) < 0)
		return r;
	if (res->status == INVOCATION_SUCCESS && res->result.len)
		r = buf_append(b, res->result.ptr, res->result.len, err);
	else
		r = buf_puts(b, "null", err);
	return r < 0 ? r : write_tail(b, res, err);
}

int envelope_write_around(struct buf *head, struct buf *tail, const struct pool_result *res,
			  struct hearth_error **err)
{
	size_t want = around_want(res);
	int r;

	if (want <= tail->max - tail->len && (r = buf_reserve(tail, want, err)) < 0)
		return r;
	if ((r = write_head(head, res, err)) < 0)
		return r;
	return write_tail(tail, res, err);
}

int envelope_write_lambda_logs(struct buf *b, const struct pool_result *res, size_t max_own,
			       int64_t at_ms, struct hearth_error **err)
{
	size_t own = res->logs.len > max_own ? max_own : res->logs.len;
	double billed = ceil(res->duration_ms);
	int r;

	if ((r = buf_puts(b, "START RequestId: ", err)) < 0 ||
	    (r = buf_puts(b, res->request_id, err)) < 0 ||
	    (r = buf_puts(b, " Version: $LATEST\n", err)) < 0 ||
	    (own && (r = buf_append(b, res->logs.ptr, own, err)) < 0) ||
	    (own && res->logs.ptr[own - 1] != '\n' && (r = buf_puts(b, "\n", err)) < 0))
		return r;
	if (res->status == INVOCATION_TIMEOUT) {
		char at[32];

		util_iso8601(at_ms, at);
		if ((r = buf_printf(b, err, "%s %s Task timed out after %d.00 seconds\n", at,
				    res->request_id, res->timeout_s)) < 0)
			return r;
	}
	if ((r = buf_puts(b, "END RequestId: ", err)) < 0 ||
	    (r = buf_puts(b, res->request_id, err)) < 0 ||
	    (r = buf_puts(b, "\nREPORT RequestId: ", err)) < 0 ||
	    (r = buf_puts(b, res->request_id, err)) < 0 ||
	    (r = buf_puts(b, "\tDuration: ", err)) < 0 ||
	    (r = buf_fixed(b, res->duration_ms, 2, err)) < 0 ||
	    (r = buf_puts(b, " ms\tBilled Duration: ", err)) < 0 ||
	    (r = buf_fixed(b, billed < 1 ? 1 : billed, 0, err)) < 0 ||
	    (r = buf_puts(b, " ms\tMemory Size: ", err)) < 0 ||
	    (r = buf_i64(b, res->memory_mb, err)) < 0 ||
	    (r = buf_puts(b, " MB\tMax Memory Used: ", err)) < 0 ||
	    (r = buf_i64(b, (int64_t)floor(res->max_memory_mb + 0.5), err)) < 0 ||
	    (r = buf_puts(b, " MB\t", err)) < 0)
		return r;
	if (res->start != POOL_START_WARM &&
	    ((r = buf_puts(b, "Init Duration: ", err)) < 0 ||
	     (r = buf_fixed(b, res->init_ms, 2, err)) < 0 || (r = buf_puts(b, " ms\t", err)) < 0))
		return r;
	if (res->status == INVOCATION_TIMEOUT && (r = buf_puts(b, "Status: timeout\t", err)) < 0)
		return r;
	if (res->status == INVOCATION_CRASHED &&
	    (r = buf_printf(b, err, "Status: error\tError Type: %.*s\t", (int)res->error_type.len,
			    res->error_type.ptr ? res->error_type.ptr : "")) < 0)
		return r;
	return buf_puts(b, "\n", err);
}
