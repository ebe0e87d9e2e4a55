/* runtime.h — the shim's language runtime and the private channel to it
 * (chan.h; runtimes/PROTOCOL.md, "Inside the container").
 *
 * Owns the runtime process (python3/node + bootstrap, in its own session
 * and process group): spawning it, killing it with everything it started,
 * reaping it and every orphan the shim inherits as PID 1 or subreaper.
 * Owns our ends of its SEQPACKET channel and of its input and result
 * pipes, the nonce of the request in flight, the wait for the runtime's
 * answer, and the capture of its stdout+stderr as the current
 * invocation's logs.  What the messages mean is the frame handlers'
 * business (shim.c).  One runtime at a time, so the state is this
 * module's own. */
#ifndef HEARTH_RUNTIME_H
#define HEARTH_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The monotonic clock every deadline here is counted on, in ns. */
static inline int64_t runtime_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Once, before anything else here: the bootstraps to run, and the
 * signalfd that carries SIGCHLD, SIGTERM and SIGINT.  Returns 0, or
 * -errno when the shim (not PID 1) cannot become the reaper of the
 * runtime's orphans: they would linger as zombies, worth a warning. */
int runtime_setup(const char *python_bootstrap, const char *node_bootstrap, int sigfd);

/* Starts a runtime for "python" or "node"; false (errno set) if it cannot. */
bool runtime_spawn(const char *lang);
/* Kills the runtime's process group (as PID 1 every other process of the
 * container too, which catches descendants that left the group), reaps
 * it, closes our ends of its channel and pipes. */
void runtime_kill(void);
/* Closes our ends of a runtime that died by itself, its logs drained. */
void runtime_close(void);
/* SIGTERM to the runtime's group, then up to grace_ms for it to end. */
void runtime_terminate(int grace_ms);

bool runtime_running(void);
/* Whether the running runtime has loaded a function (answered an init
 * with CHAN_READY); runtime_set_loaded records that it has. */
bool runtime_loaded(void);
void runtime_set_loaded(void);
const char *runtime_lang(void);
/* After it died: why, in Lambda's words, and its peak RSS (wait4). */
void runtime_death_reason(char *buf, size_t len);
uint64_t runtime_maxrss_kb(void);

/* The direct lane (PROTOCOL.md): our ends of the runtime's input pipe,
 * result pipe, channel and log pipe, in that order, for hearthd to drive
 * the loaded runtime itself.  From now on the logs are hearthd's (not
 * read here), and when the runtime dies everything in the container is
 * killed, so hearthd's ends see the end at once. */
void runtime_lane(int fds[4]);

/* Sends an init message built by the caller (CHAN_INIT, room for the
 * nonce, then its strings) with a fresh nonce, on the channel; false with
 * errno set when it cannot. */
bool runtime_send_init(uint8_t *msg, size_t len);
/* Sends an invoke with a fresh nonce: whole on the input pipe when it
 * fits, else announced there and sent on the channel in chunks.  Nothing
 * is returned: a failure shows in the wait that follows (death, timeout). */
void runtime_send_invoke(uint32_t deadline_ms, const uint8_t *rid, uint32_t rid_len,
			 const uint8_t *payload, uint32_t payload_len, int64_t deadline);

enum runtime_outcome {
	RUNTIME_MSG,	 /* an answer to the request in flight */
	RUNTIME_TIMEOUT, /* the deadline passed */
	RUNTIME_DIED,	 /* the runtime died: runtime_death_reason */
	RUNTIME_TERM,	 /* SIGTERM or SIGINT came for the shim */
	RUNTIME_BROKEN,	 /* the channel failed */
};
/* Waits for the next message carrying the nonce of the request in
 * flight, draining logs and reaping children meanwhile; deadline 0 is
 * none.  On RUNTIME_MSG, *msg and *len hold the message (nonce first),
 * valid until the next wait. */
enum runtime_outcome runtime_wait(int64_t deadline, const uint8_t **msg, size_t *len);

/* Between invocations: waits until fd has something and returns its
 * revents, looking after the runtime meanwhile (its output drained into
 * the logs; its death noticed and its ends closed, the next invoke
 * restarts it).  0 when interrupted, or when SIGTERM or SIGINT came
 * (*term set); -1 with errno set when poll fails. */
int runtime_idle(int fd, bool *term);

/* The logs of the current invocation: the bytes kept (at most
 * INVOKE_LOGS_MAX) and how many more were read and dropped.  A view into
 * this module's buffer: new output only adds behind it, until the reset. */
struct runtime_logs {
	const char *buf;
	size_t len;
	uint64_t dropped;
};
struct runtime_logs runtime_logs(void);
void runtime_logs_reset(void);

#endif
