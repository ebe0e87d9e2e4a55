/* store.h — the durable registry: SQLite (WAL) at DIR/hearth.db.
 *
 * Owns the schema (versioned by PRAGMA user_version, migrated on open),
 * the prepared statements (kept for the life of the connection) and every
 * write (BEGIN IMMEDIATE).  Never called on the warm invocation path:
 * invocation records arrive in batches (store_invocations_insert). */
#ifndef HEARTH_STORE_H
#define HEARTH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "function.h"

struct store;

int store_open(struct store **out, const char *db_path, struct hearth_error **err);
void store_close(struct store *s);

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
/* -ENOENT when absent.  The function's invocation records go with it. */
int store_function_delete(struct store *s, int64_t id, struct hearth_error **err);
/* 1 when some function still references code_sha256 == sha256, 0 when none
 * does (for code-store garbage collection). */
int store_code_in_use(struct store *s, const char *sha256, struct hearth_error **err);

/* One invocation record: the execute envelope, and the event when small.
 * A transparent value: the strings are owned by the record when it comes
 * from the store (free with store_invocation_clear); for
 * store_invocations_insert the caller keeps ownership.  NULL strings are
 * stored as NULL. */
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
	char *logs;	  /* captured output, or NULL */
	char *result;	  /* the handler's result (JSON text), or NULL */
	char *payload;	  /* the event (JSON text) or NULL; store_invocation_get reads it */
};

/* Frees the strings of one record and zeroes it. */
void store_invocation_clear(struct store_invocation *r);
/* Frees an array returned by store_invocations_list. */
void store_invocations_free(struct store_invocation *recs, size_t n);

/* Inserts n records in one transaction (all or nothing).  A record whose id
 * is already stored is skipped, so a retried batch is harmless. */
int store_invocations_insert(struct store *s, const struct store_invocation *recs, size_t n,
			     struct hearth_error **err);

/* Keyset pagination, newest first: pass before = NULL for the first page,
 * then the last record of the previous page (only its created_at and id are
 * read).  function_id <= 0 lists every function.  limit is capped at
 * STORE_INVOCATIONS_LIST_MAX.  Without STORE_INV_WITH_BODIES the records
 * come without logs and result (both NULL), which keeps a page small. */
#define STORE_INVOCATIONS_LIST_MAX 1000
#define STORE_INV_WITH_BODIES 0x1u
int store_invocations_list(struct store *s, int64_t function_id,
			   const struct store_invocation *before, size_t limit, unsigned flags,
			   struct store_invocation **out, size_t *n, struct hearth_error **err);
/* One record with logs and result; -ENOENT when absent. */
int store_invocation_get(struct store *s, const char *id, struct store_invocation *out,
			 struct hearth_error **err);
/* Deletes all but the newest keep_n records (over all functions); returns
 * how many were deleted (>= 0) or a negative error. */
int64_t store_invocations_prune(struct store *s, int64_t keep_n, struct hearth_error **err);

/* A function's saved test events: the JSON text of an array (registry.c
 * validates it), "[]" when none were saved.  -ENOENT without the function;
 * they go with it when it is deleted. */
int store_test_events_get(struct store *s, int64_t function_id, char **out,
			  struct hearth_error **err);
/* Replaces the list, durably. */
int store_test_events_put(struct store *s, int64_t function_id, const char *events_json,
			  struct hearth_error **err);

#endif
