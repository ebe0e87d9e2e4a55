/* registry.h — the functions and their code, kept consistent.  Every
 * change goes through here in one order: the code store (content-addressed
 * folders), then the SQLite row, then whoever listens (the pool).  A step
 * that fails undoes the steps before it, so a refused change leaves
 * nothing behind: no row, no orphan code folder, no pool entry.  Reads
 * (get, list, the source of a function) come from here too.  No HTTP: the
 * API turns these results into replies. */
#ifndef HEARTH_REGISTRY_H
#define HEARTH_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "function.h"

struct registry;
struct registry_draft;
struct store;
struct codestore;

/* Told of every change once it is in the store.  A negative return from
 * `changed` refuses it: the registry puts everything back as it was and
 * fails with EIO (a fault of ours: HTTP 500).  `removed` cannot fail. */
struct registry_listener {
	int (*changed)(void *arg, const struct fn *f, struct hearth_error **err);
	void (*removed)(void *arg, int64_t id);
	void *arg;
};

int registry_new(struct registry **out, struct store *store, struct codestore *codes,
		 const struct registry_listener *listener, struct hearth_error **err);
void registry_free(struct registry *r);

/* A change in two steps, so the caller can let the request's bytes go
 * (a body with a zip can be 70 MB) before the code is stored: a draft is
 * the parsed, validated body; committing it stores it.  Drafts check
 * what can be checked without writing (-EBADMSG malformed JSON, -EINVAL
 * invalid field, -ENOENT no such function for an update). */
int registry_draft_create(struct registry *r, const char *body, size_t len,
			  struct registry_draft **out, struct hearth_error **err);
int registry_draft_update(struct registry *r, int64_t id, const char *body, size_t len,
			  struct registry_draft **out, struct hearth_error **err);
void registry_draft_free(struct registry_draft *d);
static inline void registry_draft_freep(struct registry_draft **d)
{
	registry_draft_free(*d);
}
#define _cleanup_draft_ __attribute__((cleanup(registry_draft_freep)))
/* Stores a draft: *out is the function as stored (revision 1 for a create,
 * +1 for an update that changes anything).  *changed is false when an
 * update changed nothing (no new revision, nobody told); it may be NULL.
 * -EINVAL when the code lacks the handler's file, -EEXIST when the name or
 * route is taken, -EIO when the listener refused. */
int registry_commit(struct registry *r, struct registry_draft *d, struct fn **out, bool *changed,
		    struct hearth_error **err);

/* -ENOENT when there is no such function; its containers go (listener). */
int registry_delete(struct registry *r, int64_t id, struct hearth_error **err);

int registry_get(struct registry *r, int64_t id, struct fn **out, struct hearth_error **err);
/* The function a reference names, from memory: an id ("12"), a name
 * ("hello") or an ARN ("arn:aws:lambda:REGION:ACCOUNT:function:NAME", with
 * no qualifier or $LATEST).  -ENOENT when none. */
int registry_resolve(struct registry *r, const char *ref, int64_t *id, struct hearth_error **err);
/* The function whose route is the longest segment-wise prefix of path
 * ("/a/b/c" tries /a/b/c, /a/b, /a): its id and the length of the route;
 * false when none.  A lookup per segment, never a scan of the routes. */
bool registry_route_match(struct registry *r, const char *path, int64_t *id, size_t *route_len);
/* Every function, by id ascending; free with registry_list_free. */
int registry_list(struct registry *r, struct fn ***out, size_t *n, struct hearth_error **err);
void registry_list_free(struct fn **list, size_t n);
/* The source file that holds f's handler, into out (bounded by out->max),
 * and its name into file.  -ENOENT when the code has none (a zip whose
 * handler file went missing cannot happen: commits check it). */
int registry_read_source(struct registry *r, const struct fn *f, struct buf *out,
			 char file[FN_FILE_MAX], struct hearth_error **err);

/* The size of f's code as stored (unpacked), in bytes. */
int registry_code_size(struct registry *r, const struct fn *f, int64_t *bytes,
		       struct hearth_error **err);

/* A function's saved test events (named payloads for the dashboard), as
 * the JSON text {"events":[{"name","payload"},...]}; -ENOENT without the
 * function. */
#define REGISTRY_TEST_EVENTS_MAX 50
#define REGISTRY_TEST_EVENT_NAME_MAX 64
#define REGISTRY_TEST_EVENT_PAYLOAD_MAX (256u * 1024)
int registry_test_events_get(struct registry *r, int64_t id, char **out, struct hearth_error **err);
/* Replaces them with a body of the same shape: at most 50 events, names of
 * 1 to 64 characters and unique, each payload at most 256 KB of JSON.
 * -EBADMSG, -EINVAL naming the field ("events[2].name: ..."); *out is
 * what was stored, as get answers it. */
int registry_test_events_put(struct registry *r, int64_t id, const char *body, size_t len,
			     char **out, struct hearth_error **err);

#endif
