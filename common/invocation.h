/* invocation.h — the outcome of one invocation: the one status type every
 * layer shares, from the shim's reply frame (frame.h) through shimconn and
 * the pool to the envelope, the records and the metrics. */
#ifndef HEARTH_INVOCATION_H
#define HEARTH_INVOCATION_H

enum invocation_status {
	INVOCATION_SUCCESS = 0, /* the handler returned */
	INVOCATION_ERROR = 1,	/* the handler raised (or init failed) */
	INVOCATION_TIMEOUT = 2, /* the deadline passed; the runtime was killed */
	INVOCATION_CRASHED = 3, /* the runtime died or broke the protocol */
};
#define INVOCATION_STATUS_N 4

/* "success", "error", "timeout", "crashed" (the envelope's words). */
static inline const char *invocation_status_name(enum invocation_status s)
{
	static const char *const names[INVOCATION_STATUS_N] = { "success", "error", "timeout",
								"crashed" };

	return (unsigned)s < INVOCATION_STATUS_N ? names[s] : "crashed";
}

#endif
