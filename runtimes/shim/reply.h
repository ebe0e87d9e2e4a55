/* reply.h — the frames the shim answers hearthd with (runtimes/PROTOCOL.md):
 * PONG, READY, INIT_ERROR, REPLY, DIED and PROTO_ERROR.
 *
 * Owns their layout and their sending.  Each function lays out one frame
 * with the frame writer (frame.h) in this module's buffers, values
 * referenced where they lie unless they are small, and writes it whole
 * to fd with one sendmsg (blocking).  An invocation's logs travel as one
 * LOGS field, followed by a marker line when the capture dropped bytes.
 * A hearthd that went away shows at the connection's next read, so
 * nothing is returned. */
#ifndef HEARTH_REPLY_H
#define HEARTH_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "invocation.h"
#include "runtime.h"

void reply_pong(int fd);
/* The last frame was refused (Hearth.ProtocolError). */
void reply_proto_error(int fd, const char *why);
/* An init refused before any runtime ran it (Runtime.InitError). */
void reply_init_refused(int fd, const char *why);
/* lane_fds: NULL, or the four fds of the direct lane (runtime_lane) to
 * pass with the frame. */
void reply_ready(int fd, uint64_t init_us, uint64_t rss_kb, const struct runtime_logs *logs,
		 const int *lane_fds);
/* The answer to KILL: how the runtime ended (runtime_death_reason) and
 * its peak RSS. */
void reply_died(int fd, const char *why, uint64_t rss_kb);
/* err: the error's type, message and, from a runtime, its stack: n of them. */
void reply_init_error(int fd, const struct bytes *err, int n, uint64_t init_us,
		      const struct runtime_logs *logs);
/* An invocation's outcome: the handler's result, or an error. */
void reply_result(int fd, uint64_t duration_us, uint64_t rss_kb, const void *result, size_t len,
		  const struct runtime_logs *logs);
void reply_error(int fd, enum invocation_status status, uint64_t duration_us, uint64_t rss_kb,
		 const struct bytes *err, int n, const struct runtime_logs *logs);

#endif
