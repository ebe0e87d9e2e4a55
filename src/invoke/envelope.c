/* envelope.c — see envelope.h. */
#include "envelope.h"

#include <errno.h>
#include <inttypes.h>

#include "jsontext.h"

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

int envelope_write(struct buf *b, const struct pool_result *res, struct hearth_error **err)
{
	int r;

	if ((r = buf_printf(b, err,
			    "{\"id\":\"%s\",\"function_id\":%" PRId64 ",\"revision\":%" PRId64
			    ",\"status\":\"%s\",\"result\":",
			    res->request_id, res->function_id, res->revision,
			    invocation_status_name(res->status))) < 0)
		return r;
	if (res->status == INVOCATION_SUCCESS && res->result.len)
		r = buf_append(b, res->result.ptr, res->result.len, err);
	else
		r = buf_puts(b, "null", err);
	if (r < 0 || (r = buf_puts(b, ",\"error\":", err)) < 0 ||
	    (r = envelope_write_error(b, res, err)) < 0 ||
	    (r = buf_puts(b, ",\"logs\":", err)) < 0 ||
	    (r = envelope_append_string(b, res->logs, err)) < 0)
		return r;
	return buf_printf(
		b, err,
		",\"start\":\"%s\",\"duration_ms\":%.3f,\"init_ms\":%.3f,\"queue_ms\":%.3f,"
		"\"max_memory_mb\":%.1f}",
		pool_start_name(res->start), res->duration_ms, res->init_ms, res->queue_ms,
		res->max_memory_mb);
}
