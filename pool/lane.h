/* lane.h — the direct lane: hearthd driving a container's loaded runtime
 * itself, on the runtime's own pipes and channel that the shim passed
 * with READY (runtimes/PROTOCOL.md, "The direct lane").  The shim stays
 * PID 1 and supervisor, off the data path: a warm call is hearthd →
 * runtime → hearthd, two hand-offs instead of four.
 *
 * Owns those four descriptors (reopened, so their flags are ours alone),
 * their events on the loop, the nonce of the call in flight, the deadline
 * timer, the gathering of the answer and the capture of the logs.  It
 * speaks the runtime's side of chan.h exactly as the shim does, and reads
 * everything that comes from the container as hostile.  Ending the
 * runtime is the shim's (KILL → DIED): the lane asks its owner,
 * shimconn.c, through lane_ops.kill. */
#ifndef HEARTH_LANE_H
#define HEARTH_LANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "error.h"
#include "invocation.h"
#include "shimconn.h"

struct lane;

struct lane_ops {
	/* The call in flight is answered (views valid during the call). */
	void (*answer)(void *arg, const struct shimconn_reply *r);
	/* The runtime has to go: its deadline passed (INVOCATION_TIMEOUT),
	 * it broke the protocol or died (INVOCATION_CRASHED; its pipes
	 * closed), with or without a call in flight.  Called once; the
	 * lane reads nothing more from the runtime after it.  The owner
	 * sends KILL and, with the shim's DIED, calls lane_died. */
	void (*kill)(void *arg, enum invocation_status status, const char *type, const char *msg);
};

/* fds: the runtime's input pipe (write end), result pipe (read end),
 * channel (SEQPACKET), log pipe (read end), as received.  They are
 * checked for what they must be and reopened; the received ones are
 * closed in every case.  -EBADMSG when they are not what they must be. */
int lane_new(struct lane **out, struct event_base *base, const int fds[4],
	     const struct lane_ops *ops, void *arg, struct hearth_error **err);
/* Sends an invoke to the runtime and starts its deadline.  What the pipe
 * or the channel does not take at once is sent from the caller's payload
 * as the channel takes it: the payload must stay valid until the call is
 * answered (lane_ops.answer or .kill) or lane_payload_going.  -EPIPE once
 * the runtime is gone. */
int lane_invoke(struct lane *l, const char *request_id, unsigned deadline_ms, const void *payload,
		size_t len, struct hearth_error **err);
/* The shim ended the runtime (DIED: why, its peak RSS): answers the call
 * in flight, if any, with what lane_ops.kill said (a crash says why).
 * The lane is dead from then on. */
void lane_died(struct lane *l, struct bytes why, uint64_t max_rss_kb);
/* The caller's payload is going before the answer: the lane copies what
 * it has not sent yet (keep_sending: the call goes on; out of memory
 * fails it; nothing when all of it went or the lane has its copy) or
 * stops sending anything (the call is over). */
void lane_payload_going(struct lane *l, bool keep_sending);
/* After the owner's answer callback: lets go of a large answer's buffer,
 * so an idle container does not keep megabytes. */
void lane_release(struct lane *l);
void lane_free(struct lane *l);

#endif
