/* buf.h — the one bounded byte buffer (curl's dynbuf with git's strbuf
 * invariants).
 *
 * Invariants: `ptr` is never NULL and always NUL-terminated (an empty buf
 * points at a shared static ""), `len` never exceeds `max`, and appending
 * past `max` fails with -E2BIG without changing the buffer.  A buf is a
 * plain value: initialise with BUF_INIT(max) or buf_init(). */
#ifndef HEARTH_BUF_H
#define HEARTH_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct buf {
	char *ptr;
	size_t len;
	size_t alloc; /* 0 while ptr is the shared empty string */
	size_t max;   /* hard cap on len */
};

extern char buf_empty_[];
#define BUF_INIT(maxsize) \
	{ \
		buf_empty_, 0, 0, (maxsize) \
	}

/* A failed append must be noticed: the caller checks every result. */
#define BUF_MUST_CHECK __attribute__((warn_unused_result))

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b); /* frees; back to empty */
void buf_reset(struct buf *b);	 /* len = 0, keeps memory */
/* Room for extra more bytes now (one allocation instead of a doubling
 * chain); fails as an append of that many would. */
BUF_MUST_CHECK int buf_reserve(struct buf *b, size_t extra, struct hearth_error **err);
BUF_MUST_CHECK int buf_append(struct buf *b, const void *data, size_t len,
			      struct hearth_error **err);
BUF_MUST_CHECK int buf_puts(struct buf *b, const char *s, struct hearth_error **err);
BUF_MUST_CHECK int buf_printf(struct buf *b, struct hearth_error **err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
BUF_MUST_CHECK int buf_vprintf(struct buf *b, struct hearth_error **err, const char *fmt,
			       va_list ap) __attribute__((format(printf, 3, 0)));
/* The decimal integer, with no printf on the way. */
BUF_MUST_CHECK int buf_i64(struct buf *b, int64_t v, struct hearth_error **err);
/* v as printf's "%.*f" writes it (0 to 6 decimals), by integer arithmetic
 * while |v| < 1e12 (the same digits, halves and all), by printf beyond (and for NaN and infinities). */
BUF_MUST_CHECK int buf_fixed(struct buf *b, double v, int decimals, struct hearth_error **err);
/* Hands the bytes to the caller (always a malloc'd, NUL-terminated string,
 * even when empty, or NULL on allocation failure); the buf is empty after. */
char *buf_detach(struct buf *b, size_t *len);

static inline void buf_cleanup(struct buf *b)
{
	buf_release(b);
}
#define _cleanup_buf_ __attribute__((cleanup(buf_cleanup)))

#endif
