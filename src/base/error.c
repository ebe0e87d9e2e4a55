/* error.c — see error.h. */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

static int set(struct hearth_error **err, int status, char *msg)
{
	struct hearth_error *e;

	if (status <= 0)
		status = EIO;
	if (!err || *err) {
		free(msg);
		return -status;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		free(msg);
		return -status;
	}
	e->status = status;
	e->msg = msg ? msg : strdup("out of memory");
	*err = e;
	return -status;
}

int hearth_error_make(struct hearth_error **err, int status, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (!err || *err)
		return -(status > 0 ? status : EIO);
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
		return -(errnum > 0 ? errnum : EIO);
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
	if (!e)
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
