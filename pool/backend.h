/* backend.h — the container engine interface the pool programs against.
 *
 * A backend is an opaque handle plus a table of asynchronous operations
 * (create, start, kill, remove, list, inspect, watch events, ping).  The
 * Docker Engine API client (docker.h) is the one implementation today; a
 * remote Docker or a Kubernetes backend would fill in the same table, so pool
 * code includes this header only and never a particular engine's.
 *
 * Rules every backend keeps (the pool relies on them):
 *  - No operation blocks the event loop.  An operation either fails at once
 *    (returns a negative errno, fills *err, and never calls its callback) or
 *    returns 0 and later calls its callback exactly once, always from the
 *    event loop and never from inside the call that started it.
 *  - Errors reach callbacks as a borrowed `const struct hearth_error *`
 *    (NULL on success) valid only during the callback; statuses follow
 *    error.h: EHOSTDOWN engine unreachable, ENOENT no such container or
 *    image, EINVAL rejected spec, ETIMEDOUT, ECANCELED (see below), EIO.
 *  - `reqp` (may be NULL) receives a handle for backend_cancel(); the handle
 *    is valid until the callback has been called or the request cancelled.
 *    backend_cancel() never calls the callback.
 *  - backend_free() cancels everything in flight and calls each pending
 *    callback once with ECANCELED (the watch callback too), so callers can
 *    release per-request state; operations started from those callbacks
 *    fail at once with -ECANCELED.  It may be called from inside a callback.
 *  - Pointers handed to callbacks (ids, states, events) are borrowed for the
 *    duration of the callback; copy what you keep.
 */
#ifndef HEARTH_BACKEND_H
#define HEARTH_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "error.h"

struct backend_req; /* an operation in flight (or an event watch) */

struct backend_label {
	const char *key;
	const char *value;
};

/* What the pool asks for; the backend turns it into a hardened container:
 * no network, read-only root, tmpfs /tmp, all capabilities dropped,
 * no-new-privileges, memory limit = memory_mb with no swap, a pids limit,
 * CPU shares proportional to memory. */
struct backend_spec {
	const char *image;		    /* required, e.g. "hearth/python:latest" */
	const char *name;		    /* optional container name */
	const char *const *cmd;		    /* NULL-terminated argv, or NULL for the image's */
	const char *const *env;		    /* NULL-terminated "KEY=value", or NULL */
	const struct backend_label *labels; /* n_labels entries */
	size_t n_labels;
	const char *sock_dir; /* host folder -> /run/hearth (rw); optional */
	const char *code_dir; /* host folder -> /var/task (ro); optional */
	const char *user;     /* "uid:gid"; NULL = RUNTIME_USER (bounds.h) */
	const char *workdir;  /* optional */
	unsigned memory_mb;   /* required, 6..1048576 */
	unsigned pids_limit;  /* 0 = RUNTIME_PIDS_MAX (bounds.h) */
	unsigned tmp_mb;      /* size of the /tmp tmpfs; 0 = RUNTIME_TMP_MB */
	unsigned cpu_shares;  /* 0 = memory_mb (1024 MB = one default share) */
};

/* Container paths the spec's folders appear at. */
#define BACKEND_SOCK_DIR_TARGET "/run/hearth"
#define BACKEND_CODE_DIR_TARGET "/var/task"

struct backend_state {
	const char *id;
	const char *name;   /* without the leading '/' */
	const char *status; /* "created", "running", "exited", ... */
	bool running;
	bool oom_killed;
	int exit_code;
	int pid;		    /* 0 when not running */
	struct json_object *labels; /* object of strings, borrowed */
};

struct backend_container {
	const char *id;
	const char *name;	    /* without the leading '/', may be "" */
	const char *state;	    /* "created", "running", "exited", ... */
	int64_t created;	    /* epoch seconds */
	struct json_object *labels; /* object of strings, borrowed */
};

enum backend_event_kind {
	BACKEND_EVENT_OTHER,
	BACKEND_EVENT_START,
	BACKEND_EVENT_DIE, /* exit_code set */
	BACKEND_EVENT_OOM,
	BACKEND_EVENT_DESTROY,
};

struct backend_event {
	enum backend_event_kind kind;
	const char *action;		/* the engine's word, e.g. "die" */
	const char *id;			/* container id */
	int exit_code;			/* die only; -1 otherwise */
	int64_t time_ns;		/* epoch nanoseconds */
	struct json_object *attributes; /* labels, name, image...; borrowed */
};

typedef void (*backend_done_cb)(void *arg, const struct hearth_error *err);
typedef void (*backend_create_cb)(void *arg, const char *id, const struct hearth_error *err);
typedef void (*backend_inspect_cb)(void *arg, const struct backend_state *st,
				   const struct hearth_error *err);
typedef void (*backend_list_cb)(void *arg, const struct backend_container *v, size_t n,
				const struct hearth_error *err);
/* Called for each event (ev set, err NULL); with ev and err NULL each time
 * the stream (re)connects — events may have been missed before that, so a
 * careful caller re-lists; with err set when the stream broke (it
 * reconnects by itself) and, finally, with ECANCELED when the watch ends
 * because the backend is freed. */
typedef void (*backend_event_cb)(void *arg, const struct backend_event *ev,
				 const struct hearth_error *err);

struct backend_ops {
	const char *name;
	int (*ping)(void *impl, backend_done_cb cb, void *arg, struct backend_req **reqp,
		    struct hearth_error **err);
	/* ENOENT with a "run `make images`" hint when the image is missing. */
	int (*image_check)(void *impl, const char *image, backend_done_cb cb, void *arg,
			   struct backend_req **reqp, struct hearth_error **err);
	int (*create)(void *impl, const struct backend_spec *spec, backend_create_cb cb, void *arg,
		      struct backend_req **reqp, struct hearth_error **err);
	int (*start)(void *impl, const char *id, backend_done_cb cb, void *arg,
		     struct backend_req **reqp, struct hearth_error **err);
	/* Killing a container that is not running succeeds. */
	int (*kill)(void *impl, const char *id, int signo, backend_done_cb cb, void *arg,
		    struct backend_req **reqp, struct hearth_error **err);
	/* Forced (a running container is killed first); ENOENT when gone. */
	int (*remove)(void *impl, const char *id, backend_done_cb cb, void *arg,
		      struct backend_req **reqp, struct hearth_error **err);
	/* New memory limit (no swap) and a CPU share to match, on a running
	 * container: how a stem cell takes a function's size. */
	int (*update)(void *impl, const char *id, unsigned memory_mb, backend_done_cb cb, void *arg,
		      struct backend_req **reqp, struct hearth_error **err);
	/* Containers (running or not) carrying every "key=value" or "key" label
	 * of the NULL-terminated `labels`. */
	int (*list)(void *impl, const char *const *labels, backend_list_cb cb, void *arg,
		    struct backend_req **reqp, struct hearth_error **err);
	int (*inspect)(void *impl, const char *id, backend_inspect_cb cb, void *arg,
		       struct backend_req **reqp, struct hearth_error **err);
	/* A long-lived watch of container events for containers carrying every
	 * label in `labels`; lasts until cancelled or the backend is freed. */
	int (*watch)(void *impl, const char *const *labels, backend_event_cb cb, void *arg,
		     struct backend_req **reqp, struct hearth_error **err);
	void (*cancel)(void *impl, struct backend_req *req);
	/* Cheap: the engine answered the last time we spoke to it. */
	bool (*is_up)(void *impl);
	/* Why it is down (or NULL when up); borrowed until the next operation. */
	const char *(*last_error)(void *impl);
	void (*free)(void *impl);
};

struct backend {
	const struct backend_ops *ops;
	void *impl;
};

static inline int backend_ping(struct backend *b, backend_done_cb cb, void *arg,
			       struct backend_req **reqp, struct hearth_error **err)
{
	return b->ops->ping(b->impl, cb, arg, reqp, err);
}
static inline int backend_image_check(struct backend *b, const char *image, backend_done_cb cb,
				      void *arg, struct backend_req **reqp,
				      struct hearth_error **err)
{
	return b->ops->image_check(b->impl, image, cb, arg, reqp, err);
}
static inline int backend_create(struct backend *b, const struct backend_spec *spec,
				 backend_create_cb cb, void *arg, struct backend_req **reqp,
				 struct hearth_error **err)
{
	return b->ops->create(b->impl, spec, cb, arg, reqp, err);
}
static inline int backend_start(struct backend *b, const char *id, backend_done_cb cb, void *arg,
				struct backend_req **reqp, struct hearth_error **err)
{
	return b->ops->start(b->impl, id, cb, arg, reqp, err);
}
static inline int backend_kill(struct backend *b, const char *id, int signo, backend_done_cb cb,
			       void *arg, struct backend_req **reqp, struct hearth_error **err)
{
	return b->ops->kill(b->impl, id, signo, cb, arg, reqp, err);
}
static inline int backend_remove(struct backend *b, const char *id, backend_done_cb cb, void *arg,
				 struct backend_req **reqp, struct hearth_error **err)
{
	return b->ops->remove(b->impl, id, cb, arg, reqp, err);
}
static inline int backend_update(struct backend *b, const char *id, unsigned memory_mb,
				 backend_done_cb cb, void *arg, struct backend_req **reqp,
				 struct hearth_error **err)
{
	return b->ops->update(b->impl, id, memory_mb, cb, arg, reqp, err);
}
static inline int backend_list(struct backend *b, const char *const *labels, backend_list_cb cb,
			       void *arg, struct backend_req **reqp, struct hearth_error **err)
{
	return b->ops->list(b->impl, labels, cb, arg, reqp, err);
}
static inline int backend_inspect(struct backend *b, const char *id, backend_inspect_cb cb,
				  void *arg, struct backend_req **reqp, struct hearth_error **err)
{
	return b->ops->inspect(b->impl, id, cb, arg, reqp, err);
}
static inline int backend_watch(struct backend *b, const char *const *labels, backend_event_cb cb,
				void *arg, struct backend_req **reqp, struct hearth_error **err)
{
	return b->ops->watch(b->impl, labels, cb, arg, reqp, err);
}
static inline void backend_cancel(struct backend *b, struct backend_req *req)
{
	b->ops->cancel(b->impl, req);
}
static inline bool backend_is_up(struct backend *b)
{
	return b->ops->is_up(b->impl);
}
static inline const char *backend_last_error(struct backend *b)
{
	return b->ops->last_error(b->impl);
}
static inline void backend_free(struct backend *b)
{
	if (b)
		b->ops->free(b->impl);
}

#endif
