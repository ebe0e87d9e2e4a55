/* store.h — the durable registry: SQLite (WAL) at DIR/hearth.db.
 *
 * Owns the schema (versioned by PRAGMA user_version, migrated on open),
 * the prepared statements (kept for the life of the connection) and every
 * write (BEGIN IMMEDIATE).  Never called on the warm invocation path:
 * invocation records arrive in batches (store_batch_write). */
#ifndef HEARTH_STORE_H
#define HEARTH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "function.h"

struct store;

int store_open(struct store **out, const char *db_path, struct hearth_error **err);
void store_close(struct store *s);
/* fn(arg) is called when a statement on s first finds the database
 * locked by another connection, before s waits for it (up to 5 s, as
 * SQLite's busy timeout): the records writer is raised from SCHED_IDLE
 * so the lock it holds comes free (records_boost).  NULL: none. */
void store_on_busy(struct store *s, void (*fn)(void *arg), void *arg);
/* Inserts f (id ignored); on success sets f->id. -EEXIST names the clash
 * ("name 'x' is taken" / "route '/x' is taken"); -EINVAL when name,
 * language, handler or code_sha256 is missing.  The store keeps the values
 * it is given (revision, times): the caller sets them.  Ids are never
 * reused after a delete. */
int store_function_create(struct store *s, struct fn *f, struct hearth_error **err);
/* -ENOENT when absent. */
int store_function_get(struct store *s, int64_t id, struct fn **out, struct hearth_error **err);
/* All functions by id ascending; *out is a malloc'd array of *n pointers. */
int store_function_list(struct store *s, struct fn ***out, size_t *n, struct hearth_error **err);
void store_function_list_free(struct fn **list, size_t n);
/* Replaces every field of the row f->id; -ENOENT, -EEXIST as above. */
int store_function_update(struct store *s, const struct fn *f, struct hearth_error **err);
/* -ENOENT when absent.  The function's test events and asynchronous
 * calls go with it; its invocation records stay in their batches until
 * they age out (the records' index hides them, src/invoke/records.c). */
int store_function_delete(struct store *s, int64_t id, struct hearth_error **err);
/* 1 when some function still references code_sha256 == sha256, 0 when none
 * does (for code-store garbage collection). */
int store_code_in_use(struct store *s, const char *sha256, struct hearth_error **err);

/* One invocation record: the execute envelope, and the event when small.
 * A transparent value: the strings are owned by the record when it is
 * read back (free with store_invocation_clear); a writer keeps ownership
 * of what it passes.  NULL strings stay NULL. */
struct store_invocation {
	char *id; /* unique request id (text) */
	int64_t function_id;
	int64_t revision;
	char *status;	    /* "success" | "error" | "timeout" | "crashed" */
	char *start_kind;   /* "warm" | "stem" | "cold" */
	int64_t created_at; /* epoch ms, when the request arrived */
	double duration_ms;
	double init_ms;
	double queue_ms;
	int64_t max_memory_mb;
	char *error_json; /* {"type","message","stack"} or NULL */
	/* The function's memory and timeout when it ran, and when the call
	 * ended (epoch ms): with memory_mb > 0, logs is the function's own
	 * output and Lambda's START, END and REPORT lines are made from these
	 * when read (records_logs); 0, logs holds them already (records from
	 * before schema 6, and any writer that leaves them 0). */
	int64_t memory_mb;
	int64_t timeout_s;
	int64_t ended_at;
	char *logs;    /* captured output, or NULL */
	char *result;  /* the handler's result (JSON text), or NULL */
	char *payload; /* the event (JSON text) or NULL */
};

/* The most records (or dead letters) one page lists. */
#define STORE_INVOCATIONS_LIST_MAX 1000

/* Frees the strings of one record and zeroes it. */
void store_invocation_clear(struct store_invocation *r);
/* Frees an array of n records (store_legacy_take's). */
void store_invocations_free(struct store_invocation *recs, size_t n);

/* ---- invocation records, in batches ----
 *
 * One row per batch the records writer wrote: its records' heads and
 * their bodies, two byte strings whose layout src/invoke/records.c owns
 * (the store neither reads nor checks them).  Rows are numbered in the
 * order they were written. */
struct store_batch {
	const void *heads;
	size_t heads_len;
	const void *bodies;
	size_t bodies_len;
	int64_t n; /* records in it; 0 writes no row (only the deletes below) */
	/* In the same transaction: the batches up to this row id deleted
	 * (retention; 0: none), and the records from before schema 7 up to
	 * this rowid of theirs (moved into this batch; 0: none). */
	int64_t drop_through;
	int64_t legacy_through;
};

/* Writes b in one transaction; *rowid (may be NULL) gets its row id, 0
 * when none was written. */
int store_batch_write(struct store *s, const struct store_batch *b, int64_t *rowid,
		      struct hearth_error **err);
/* Calls fn for every batch, oldest first, with its heads (valid during
 * the call); a negative return from fn stops the walk and is returned. */
typedef int (*store_batch_fn)(void *arg, int64_t rowid, int64_t n, const void *heads,
			      size_t heads_len, struct hearth_error **err);
int store_batches_each(struct store *s, store_batch_fn fn, void *arg, struct hearth_error **err);
/* Reads len bytes at off of a batch's heads or bodies (incremental blob
 * I/O: the rest of the row stays on disk).  -ENOENT when the batch is
 * gone (deleted since: retention), -ERANGE past its end. */
enum store_batch_part { STORE_BATCH_HEADS, STORE_BATCH_BODIES };
int store_batch_read(struct store *s, int64_t rowid, enum store_batch_part part, size_t off,
		     void *dst, size_t len, struct hearth_error **err);
/* The oldest (by rowid) of at most limit records written before schema
 * 7, with everything they hold; *through gets the rowid of the last.
 * None left (*n == 0): their table is dropped.  store_batch_write's
 * legacy_through deletes them once moved. */
int store_legacy_take(struct store *s, size_t limit, struct store_invocation **out, size_t *n,
		      int64_t *through, struct hearth_error **err);

/* The heap SQLite holds now over every connection of the process (page
 * caches, statements, sorters), and the most it ever held. */
void store_memory(int64_t *used, int64_t *highwater);

/* A function's saved test events: the JSON text of an array (registry.c
 * validates it), "[]" when none were saved.  -ENOENT without the function;
 * they go with it when it is deleted. */
int store_test_events_get(struct store *s, int64_t function_id, char **out,
			  struct hearth_error **err);
/* Replaces the list, durably. */
int store_test_events_put(struct store *s, int64_t function_id, const char *events_json,
			  struct hearth_error **err);

/* ---- asynchronous calls ----
 *
 * An asynchronous call is a row that moves queued -> running -> succeeded,
 * or back to queued for a retry, or to failed / expired (a dead letter),
 * from where a redrive queues it again.  Every attempt is a row of its
 * own.  What a reply or a later step depends on is committed with
 * synchronous=FULL (the enqueue, each attempt's outcome, a redrive);
 * claiming a call for an attempt is not, since losing it only means the
 * call is run again, which a crash mid-attempt means anyway.  A call
 * found running when the store is opened by a new hearthd is queued again
 * (store_async_recover).  The calls and their attempts go with their
 * function. */
#define STORE_ASYNC_ID_MAX 64

/* A call as listed or read.  Strings are owned (store_async_call_clear). */
struct store_async_call {
	char *id;
	int64_t function_id;
	char *status;	     /* "queued" | "running" | "succeeded" | "failed" | "expired" */
	int64_t created_at;  /* epoch ms, when it was accepted */
	int64_t next_at;     /* queued: not before then (back-off) */
	int64_t expires_at;  /* queued: dropped as expired from then on */
	int64_t finished_at; /* succeeded, failed or expired: when; else 0 */
	int tries;	     /* attempts since it was queued or re-driven */
	int attempts;	     /* attempts in all */
	int redrives;
	char *reason;	  /* dead letters: "retries_exhausted" | "expired"; else NULL */
	char *last_error; /* the last attempt's error (JSON), or NULL */
	char *payload;	  /* store_async_call_get only */
};
void store_async_call_clear(struct store_async_call *c);
void store_async_calls_free(struct store_async_call *calls, size_t n);

/* One attempt: the invocation record's fields.  Borrowed strings going in
 * (store_async_finish), owned coming out (store_async_attempts_free). */
struct store_async_attempt {
	int n;		  /* 1, 2, ... over the call's life */
	char *request_id; /* the attempt's own invocation id */
	char *status;	  /* "success" | "error" | "timeout" | "crashed" | "unavailable" */
	char *start_kind; /* "warm" | "stem" | "cold", or NULL when it could not run */
	int64_t at;	  /* epoch ms, when it started */
	double duration_ms, init_ms, queue_ms;
	int64_t max_memory_mb;
	char *error_json, *logs, *result;
};
void store_async_attempts_free(struct store_async_attempt *a, size_t n);

/* New calls, all or none, durably.  Each needs id, function_id, payload
 * (payload_len bytes, not NUL-terminated necessarily), created_at,
 * next_at and expires_at.  -ENOENT when a function is missing, -EEXIST
 * when an id is taken. */
struct store_async_new {
	const char *id;
	int64_t function_id;
	const char *payload;
	size_t payload_len;
	int64_t created_at, next_at, expires_at;
};
int store_async_enqueue(struct store *s, const struct store_async_new *calls, size_t n,
			struct hearth_error **err);

/* A function's queued calls in the order they should run (next_at, then
 * arrival), at most `limit`: their ids, next_at, expires_at and tries. */
struct store_async_due {
	char id[STORE_ASYNC_ID_MAX];
	int64_t next_at, expires_at;
	int tries;
};
int store_async_due(struct store *s, int64_t function_id, size_t limit, struct store_async_due *out,
		    size_t *n, struct hearth_error **err);
/* Marks a queued call running and hands over its payload (malloc'd,
 * NUL-terminated, *len bytes before the NUL).  -ENOENT when it is not
 * queued (any more). */
int store_async_claim(struct store *s, const char *id, char **payload, size_t *len,
		      struct hearth_error **err);
/* A running call goes back to the queue without an attempt counted (it
 * could not be tried: throttled, or hearthd stopping). */
int store_async_requeue(struct store *s, const char *id, int64_t next_at,
			struct hearth_error **err);

/* An attempt's outcome, durably, in one transaction: the attempt row (its
 * n is the call's attempts + 1), and the call's new state: "succeeded",
 * "queued" again at next_at, "failed" or "expired" (with reason).  The
 * call's last_error becomes the attempt's error.  -ENOENT when the call is
 * gone (its function was deleted) or not running. */
struct store_async_outcome {
	const char *status; /* "succeeded" | "queued" | "failed" | "expired" */
	int64_t next_at;    /* queued */
	const char *reason; /* failed, expired */
	int64_t now;
};
int store_async_finish(struct store *s, const char *id, const struct store_async_attempt *a,
		       const struct store_async_outcome *o, struct hearth_error **err);

/* The function's queued calls whose age ran out (expires_at <= now) become
 * dead letters with reason "expired", durably; returns how many. */
int64_t store_async_expire(struct store *s, int64_t function_id, int64_t now,
			   struct hearth_error **err);
/* At start: calls left running by an earlier hearthd are queued again (at
 * least once: an attempt that may have run is run again); how many. */
int64_t store_async_recover(struct store *s, struct hearth_error **err);

/* A function's queue as the dispatcher needs it. */
struct store_async_counts {
	int64_t queued, running, dead;
	int64_t next_at;    /* earliest next_at of a queued call; INT64_MAX when none */
	int64_t expires_at; /* earliest expires_at of a queued call; INT64_MAX when none */
};
int store_async_counts(struct store *s, int64_t function_id, struct store_async_counts *out,
		       struct hearth_error **err);

/* One call with its payload and its attempts (oldest first).  -ENOENT when
 * no async call has that id. */
int store_async_call_get(struct store *s, const char *id, struct store_async_call *out,
			 struct store_async_attempt **attempts, size_t *n_attempts,
			 struct hearth_error **err);
/* A function's dead letters, newest first (by when they failed), without
 * payloads; keyset pagination like store_invocations_list (before: the
 * last call of the previous page, only its finished_at and id are read). */
int store_async_dead_letters(struct store *s, int64_t function_id,
			     const struct store_async_call *before, size_t limit,
			     struct store_async_call **out, size_t *n, struct hearth_error **err);
/* A dead letter of the function queued again, durably, with fresh tries
 * (its attempts so far are kept): -ENOENT when the function has no such
 * call, -EEXIST when the call is not a dead letter (queued, running or
 * succeeded). */
int store_async_redrive(struct store *s, int64_t function_id, const char *id, int64_t now,
			int64_t expires_at, struct hearth_error **err);
/* Every dead letter of the function (oldest first, at most limit) queued
 * again the same way; returns how many. */
int64_t store_async_redrive_all(struct store *s, int64_t function_id, int64_t now,
				int64_t expires_at, int64_t limit, struct hearth_error **err);
/* Keeps the function's `keep` newest succeeded calls and `keep` newest
 * dead letters, deleting older ones; returns how many went. */
int64_t store_async_prune(struct store *s, int64_t function_id, int64_t keep,
			  struct hearth_error **err);

#endif
