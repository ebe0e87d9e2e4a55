/* shimconn.h — hearthd's side of one container's shim connection: a
 * non-blocking stream (unix socket today, TCP later) on the libevent loop
 * that sends init/invoke frames (runtimes/PROTOCOL.md) and hands back the
 * parsed replies.  One request at a time, as the shim serves one. */
#ifndef HEARTH_SHIMCONN_H
#define HEARTH_SHIMCONN_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "error.h"

struct shimconn;

enum shimconn_status {
	SHIMCONN_SUCCESS,
	SHIMCONN_ERROR,		/* the handler raised */
	SHIMCONN_TIMEOUT,
	SHIMCONN_CRASHED,
};

/* Borrowed views into the reply frame, valid during the callback only. */
struct shimconn_bytes {
	const char *ptr;
	size_t len;
};

struct shimconn_reply {
	enum shimconn_status status;
	struct shimconn_bytes result;	/* JSON text from the runtime */
	struct shimconn_bytes error_type, error_message, error_stack;
	struct shimconn_bytes logs;
	uint64_t duration_us;
	uint64_t max_rss_kb;
};

struct shimconn_init {
	const char *code_dir;	/* as the shim sees it */
	const char *handler;
	const char *language;
	const char *function_name;
	const char *env_json;	/* JSON object of strings */
	unsigned memory_mb;
	unsigned timeout_ms;
};

/* Init answered: err NULL when ready; otherwise an init error whose
 * message holds the runtime's type and message (file and line). */
typedef void (*shimconn_init_cb)(void *arg, const struct hearth_error *err);
/* Invoke answered: r set, err NULL; or r NULL and err set when the
 * connection failed (EPIPE/ECONNRESET/EBADMSG). */
typedef void (*shimconn_reply_cb)(void *arg, const struct shimconn_reply *r,
				  const struct hearth_error *err);
/* The connection broke while idle. */
typedef void (*shimconn_closed_cb)(void *arg, const struct hearth_error *err);

/* Connects to the socket at `path` (non-blocking; -ENOENT/-ECONNREFUSED
 * while the shim is not listening yet, so the caller retries). */
int shimconn_connect(struct shimconn **out, struct event_base *base, const char *path,
		     shimconn_closed_cb closed, void *arg, struct hearth_error **err);
int shimconn_init(struct shimconn *c, const struct shimconn_init *in, shimconn_init_cb cb,
		  void *arg, struct hearth_error **err);
/* deadline_ms: how long the handler may run. The payload is copied into
 * the connection's output buffer before this returns. */
int shimconn_invoke(struct shimconn *c, const char *request_id, unsigned deadline_ms,
		    const void *payload, size_t len, shimconn_reply_cb cb, void *arg,
		    struct hearth_error **err);
/* Closes without calling any callback. */
void shimconn_free(struct shimconn *c);

#endif
