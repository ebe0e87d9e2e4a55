/* error.c — see error.h. */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

/* What *err becomes when there is no memory for the error itself: a
 * caller that asked for an error always gets one. */
static char oom_msg[] = "out of memory";
static struct hearth_error oom_error = { ENOMEM, oom_msg };

/* The status a call returns: the kept error's, which is an earlier one when
 * *err was already set (the first error wins; callers only add context). */
static int kept(struct hearth_error **err, int status)
{
	if (err && *err)
		return -(*err)->status;
	return -(status > 0 ? status : EIO);
}

static int set(struct hearth_error **err, int status, char *msg)
{
	struct hearth_error *e;

	if (status <= 0)
		status = EIO;
	if (!err || *err) {
		free(msg);
		return kept(err, status);
	}
	e = msg ? calloc(1, sizeof(*e)) : NULL;
	if (!e) {
		free(msg);
		*err = &oom_error;
		return -ENOMEM;
	}
	e->status = status;
	e->msg = msg;
	*err = e;
	return -status;
}

int hearth_error_make(struct hearth_error **err, int status, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (!err || *err)
		return kept(err, status);
	va_start(ap, fmt);
	msg = vformat(fmt, ap);
	va_end(ap);
	return set(err, status, msg);
}

int hearth_error_errno(struct hearth_error **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	char *msg, *full = NULL;

	if (!err || *err)
		return kept(err, errnum);
	va_start(ap, fmt);
	msg = vformat(fmt, ap);
	va_end(ap);
	if (msg && asprintf(&full, "%s: %s", msg, strerror(errnum)) < 0)
		full = NULL;
	free(msg);
	return set(err, errnum, full);
}

int hearth_error_wrap(struct hearth_error **err, const char *fmt, ...)
{
	va_list ap;
	char *ctx, *full = NULL;

	if (!err || !*err)
		return -EIO;
	if (*err == &oom_error)
		return -ENOMEM;
	va_start(ap, fmt);
	ctx = vformat(fmt, ap);
	va_end(ap);
	if (ctx && asprintf(&full, "%s: %s", ctx, (*err)->msg) >= 0) {
		free((*err)->msg);
		(*err)->msg = full;
	}
	free(ctx);
	return -(*err)->status;
}

void hearth_error_free(struct hearth_error *e)
{
	if (!e || e == &oom_error)
		return;
	free(e->msg);
	free(e);
}

void hearth_error_clear(struct hearth_error **err)
{
	if (!err)
		return;
	hearth_error_free(*err);
	*err = NULL;
}
