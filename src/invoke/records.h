/* records.h — invocation records, written to the store in batches off the
 * hot path: a call only copies its record into memory; a writer thread,
 * on its own connection to db_path, writes what piled up (about every
 * 100 ms) as batch rows (store_batch_write: one row, one transaction, for
 * up to 1,024 records), and keeps an index in memory of where each kept
 * record is, by id and by function (rebuilt from the batches at start).
 * Past the retention bound the oldest records leave the index, and a
 * batch none of whose records is kept is deleted with the next one
 * written.
 * A batch the store refuses (a full disk) is dropped and counted, and
 * what waits is bounded in count and bytes: memory never grows with a
 * failing store. */
#ifndef HEARTH_RECORDS_H
#define HEARTH_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "pool.h"
#include "store.h"

struct records;

/* retention: the records kept, the oldest deleted past it; 0 keeps none
 * (and deletes those kept before): no writer thread, nothing copied. */
int records_new(struct records **out, const char *db_path, int64_t retention,
		struct hearth_error **err);
/* Whether records are kept at all (retention > 0). */
bool records_on(const struct records *r);
/* A call's record: the pool's result with its bytes (logs and result
 * up to their caps, the error's parts) and the event (up to its cap)
 * copied into one allocation, now; formatted later, by the writer.  NULL
 * when memory ran out (the record is lost, the call is not). */
struct records_entry *records_entry_new(const struct pool_result *res, int64_t created_ms,
					const char *payload, size_t payload_len);
/* A record's logs as Lambda shows them: the function's output between
 * START, and END and REPORT lines.  Records keep only the output and what
 * the lines say (since schema 6; memory_mb > 0), and the lines are made
 * here; older records hold them and are copied.  A string to free, or NULL
 * out of memory. */
char *records_logs(const struct store_invocation *r);
/* Hands e over to the next batch (NULL, a record lost to out of memory:
 * counted as dropped). */
void records_push(struct records *r, struct records_entry *e);
/* The writer at SCHED_OTHER for the flush it is in: for a thread about to
 * wait on it (arg: the records; store_on_busy's hook, for the loop's
 * connection waiting on SQLite's write lock, which the writer may hold). */
void records_boost(void *arg);
/* Writes the pending batch now (readers call this so they see every
 * answered call); returns when it is written or, the store failing,
 * dropped.  Never fails: a reader gets what the store has. */
int records_flush(struct records *r, struct hearth_error **err);
/* One record, with logs, result and event, read through s (a reader's
 * connection to the same store); -ENOENT when none is kept with that id
 * (never written, aged out, or retention 0).  Flushes first. */
int records_get(struct records *r, struct store *s, const char *id, struct store_invocation *out,
		struct hearth_error **err);
/* A function's records, newest first (by created_at, then id), without
 * logs, result and event; before: the last id of the previous page
 * (-ENOENT when no record is kept with it).  limit is capped at
 * STORE_INVOCATIONS_LIST_MAX.  *more: the index held a full page, so
 * older records may follow (a page may come shorter than limit when
 * records age out while it is read).  Flushes first. */
int records_list(struct records *r, struct store *s, int64_t function_id, const char *before,
		 size_t limit, struct store_invocation **out, size_t *n, bool *more,
		 struct hearth_error **err);
/* hearth_records_dropped_total, hearth_records_pending(_bytes). */
int records_metrics(struct records *r, struct buf *out, struct hearth_error **err);
/* Flushes and frees. */
void records_free(struct records *r);

#endif
