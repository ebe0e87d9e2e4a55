/* envelope.h — a call's answer as the execute envelope (docs/ARCHITECTURE.md),
 * written as text straight into a buffer: the handler's result goes in as
 * the runtime wrote it (checked to be JSON before, never re-encoded), the
 * logs and the error texts are escaped as JSON strings, the timings are
 * figures with three decimals. */
#ifndef HEARTH_ENVELOPE_H
#define HEARTH_ENVELOPE_H

#include "buf.h"
#include "error.h"
#include "pool.h"

/* The whole envelope: {"id","function_id","revision","status","result",
 * "error","logs","start","duration_ms","init_ms","queue_ms",
 * "max_memory_mb"}.  res->result must be JSON text (invoke.h checks it). */
int envelope_write(struct buf *b, const struct pool_result *res, struct hearth_error **err);
/* The "error" member alone: {"type","message","stack"}, or null for a
 * success (invocation records keep it). */
int envelope_write_error(struct buf *b, const struct pool_result *res, struct hearth_error **err);

/* Pieces the Lambda API's error payload shares with the envelope:
 * bytes as a JSON string literal (none is ""), and the runtime's stack as
 * the JSON array of strings it sent, or [] for anything else, so a
 * hostile runtime cannot break the JSON around it. */
int envelope_append_string(struct buf *b, struct bytes s, struct hearth_error **err);
int envelope_append_stack(struct buf *b, const struct pool_result *res, struct hearth_error **err);

#endif
