/* shimconn.h — hearthd's side of one container's shim connection: a
 * non-blocking stream (unix socket today, TCP later) on the libevent loop
 * that sends init/invoke frames (runtimes/PROTOCOL.md) and hands back the
 * parsed replies.  One request at a time, as the shim serves one. */
#ifndef HEARTH_SHIMCONN_H
#define HEARTH_SHIMCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "bytes.h"
#include "error.h"
#include "invocation.h"

struct shimconn;

/* A reply of the shim, to an invoke or to init: views into the frame,
 * valid during the callback only. */
struct shimconn_reply {
	enum invocation_status status;
	struct bytes result; /* JSON text from the runtime */
	struct bytes error_type, error_message, error_stack;
	struct bytes logs;
	uint64_t duration_us;
	uint64_t max_rss_kb;
	/* Set when result is a malloc'd block of its own: see pool_result. */
	void **result_block;
};

struct shimconn_init {
	const char *code_dir; /* as the shim sees it */
	const char *handler;
	const char *language;
	const char *function_name;
	const char *env_json; /* JSON object of strings */
	unsigned memory_mb;
	unsigned timeout_ms;
	/* Ask for the direct lane (runtimes/PROTOCOL.md): when the shim
	 * passes the runtime's pipes with READY, invokes go to the runtime
	 * itself and the shim only supervises.  A shim that does not is
	 * served over frames, as before. */
	bool lane;
};

/* Init or invoke answered: r set, err NULL; or r NULL and err set when the
 * connection failed (EPIPE/ECONNRESET/EBADMSG).  A failure is told once
 * (to this callback, or to the closed one when nothing was pending), and
 * the connection stays failed: nothing more is read, and init and invoke
 * answer -EPIPE.  An init answer has status
 * INVOCATION_SUCCESS when the handler is loaded, else INVOCATION_ERROR with
 * the runtime's error_type and error_message (file and line). */
typedef void (*shimconn_reply_cb)(void *arg, const struct shimconn_reply *r,
				  const struct hearth_error *err);
/* The connection broke while idle. */
typedef void (*shimconn_closed_cb)(void *arg, const struct hearth_error *err);

/* Connects to the socket at `path` (non-blocking; -ENOENT/-ECONNREFUSED
 * while the shim is not listening yet, so the caller retries). */
int shimconn_connect(struct shimconn **out, struct event_base *base, const char *path,
		     shimconn_closed_cb closed, void *arg, struct hearth_error **err);
int shimconn_init(struct shimconn *c, const struct shimconn_init *in, shimconn_reply_cb cb,
		  void *arg, struct hearth_error **err);
/* deadline_ms: how long the handler may run.  Over frames the payload is
 * copied into the connection's output buffer before this returns; on the
 * direct lane what the runtime's channel does not take at once is sent
 * from the caller's payload later, so it must stay valid until the reply
 * callback or shimconn_payload_going (lane.h). */
int shimconn_invoke(struct shimconn *c, const char *request_id, unsigned deadline_ms,
		    const void *payload, size_t len, shimconn_reply_cb cb, void *arg,
		    struct hearth_error **err);
/* The caller's payload is going before the reply: see lane_payload_going.
 * Nothing over frames (the connection has its copy). */
void shimconn_payload_going(struct shimconn *c, bool keep_sending);
/* Closes without calling any callback. */
void shimconn_free(struct shimconn *c);

#endif
