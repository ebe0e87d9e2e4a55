/* error.h — Hearth's one error convention.
 *
 * A fallible function returns a negative errno-like value and, when the
 * caller passed a non-NULL `err`, fills `*err` with the same status and a
 * human message.  Callers add context with hearth_error_wrap(); the HTTP
 * layer maps the status to an HTTP code in exactly one place
 * (http_status_of() in http.c).  Statuses used across the tree:
 *
 *   EBADMSG  malformed input (bad JSON, bad frame)      -> 400
 *   ETIME    a request not sent in time (its head or body) -> 408
 *   EINVAL   well-formed but invalid input               -> 422
 *   ENOKEY   no credentials, or not the right ones       -> 401
 *   EPERM    refused                                     -> 403
 *   ENOENT   no such object                              -> 404
 *   EEXIST   conflicts with an existing object           -> 409
 *   ESTALE   a precondition (a revision) no longer holds -> 412
 *   E2BIG    body or field over its size limit           -> 413
 *   ENOMSG   an Expect header other than 100-continue    -> 417
 *   EMSGSIZE a request's line and headers over their limit -> 431
 *   ENOTSUP  method not allowed on this path             -> 405
 *   EAGAIN   throttled, queue full                       -> 429
 *   ETIMEDOUT deadline passed                            -> 504
 *   ENOSYS   not implemented                             -> 501
 *   ENXIO    a runtime image is missing                  -> 503
 *   EHOSTDOWN container engine unreachable               -> 503
 *   ECANCELED hearthd is stopping                        -> 503
 *   EUSERS   too many connections open (--max-connections) -> 503
 *   ENOSPC   the data dir is full (SQLite, code store)   -> 507
 *   anything else                                        -> 500
 *
 * The Lambda API answers the same statuses with Lambda's own codes and
 * error types (src/api/lambdajson.c, lambdajson_error_of). */
#ifndef HEARTH_ERROR_H
#define HEARTH_ERROR_H

#include <stdarg.h>

struct hearth_error {
	int status; /* positive errno value */
	char *msg;  /* never NULL once set */
};

/* Sets *err (if err is non-NULL and *err is NULL) and returns the status
 * of the error actually kept: -status, or the earlier error's when *err
 * was already set (the first error wins).  A caller that passes err always
 * gets an error back, a shared "out of memory" one (-ENOMEM) when there is
 * no memory for its message. */
int hearth_error_make(struct hearth_error **err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, from errno after a failed system call: "<msg>: <strerror>". */
int hearth_error_errno(struct hearth_error **err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefixes context ("ctx: old message"); returns -(*err)->status
 * (or -EIO when there is no error to wrap). */
int hearth_error_wrap(struct hearth_error **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void hearth_error_free(struct hearth_error *e);
/* Frees *err and sets it to NULL. */
void hearth_error_clear(struct hearth_error **err);

static inline void hearth_error_cleanup(struct hearth_error **e)
{
	hearth_error_clear(e);
}
#define _cleanup_error_ __attribute__((cleanup(hearth_error_cleanup)))

#endif
