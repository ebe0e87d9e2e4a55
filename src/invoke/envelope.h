/* envelope.h — a call's answer as the execute envelope (docs/ARCHITECTURE.md),
 * written as text straight into a buffer: the handler's result goes in as
 * the runtime wrote it (checked to be JSON before, never re-encoded), the
 * logs and the error texts are escaped as JSON strings, the timings are
 * figures with three decimals. */
#ifndef HEARTH_ENVELOPE_H
#define HEARTH_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "buf.h"
#include "error.h"
#include "pool.h"

/* The whole envelope: {"id","function_id","revision","status","result",
 * "error","logs","start","duration_ms","init_ms","queue_ms",
 * "max_memory_mb"}.  res->result must be JSON text (invoke.h checks it). */
int envelope_write(struct buf *b, const struct pool_result *res, struct hearth_error **err);
/* The same envelope with the result left out, for a reply that sends a
 * large result from where it lies: head ends with "result": and tail
 * holds the rest; res->result goes between them.  For a success with a
 * result only. */
int envelope_write_around(struct buf *head, struct buf *tail, const struct pool_result *res,
			  struct hearth_error **err);
/* The "error" member alone: {"type","message","stack"}, or null for a
 * success (invocation records keep it). */
int envelope_write_error(struct buf *b, const struct pool_result *res, struct hearth_error **err);

/* Pieces the Lambda API's error payload shares with the envelope:
 * bytes as a JSON string literal (none is ""), and the runtime's stack as
 * the JSON array of strings it sent, or [] for anything else, so a
 * hostile runtime cannot break the JSON around it. */
int envelope_append_string(struct buf *b, struct bytes s, struct hearth_error **err);
int envelope_append_stack(struct buf *b, const struct pool_result *res, struct hearth_error **err);

/* A call's logs as Lambda writes them: "START RequestId: <id> Version:
 * $LATEST", the function's own output (its first max_own bytes), Lambda's
 * "Task timed out after N.NN seconds" line on a timeout, "END RequestId:
 * <id>" and the tab-separated REPORT line (Duration, Billed Duration,
 * Memory Size, Max Memory Used, then Init Duration after a cold or stem
 * start and Status for a call that did not end on its own).  Invocation
 * records keep this; the Lambda API's tail is its end.  The execute
 * envelope's "logs" stay the function's own output: it carries the same
 * figures as fields.  at_ms (epoch ms) is when the call ended: the
 * timeout line's time. */
int envelope_write_lambda_logs(struct buf *b, const struct pool_result *res, size_t max_own,
			       int64_t at_ms, struct hearth_error **err);
/* A buffer's bound for those logs with max_own INVOKE_LOGS_MAX: the
 * function's output and room for Lambda's lines around it. */
#define ENVELOPE_LAMBDA_LOGS_MAX (INVOKE_LOGS_MAX + 4 * HEARTH_KiB)

#endif
