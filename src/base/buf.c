/* buf.c — see buf.h. */
#include "buf.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char buf_empty_[1];

void buf_init(struct buf *b, size_t max)
{
	b->ptr = buf_empty_;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->ptr);
	b->ptr = buf_empty_;
	b->len = 0;
	b->alloc = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->ptr[0] = '\0';
}

static int grow(struct buf *b, size_t extra, struct hearth_error **err)
{
	size_t need, nalloc;
	char *p;

	if (extra > b->max - b->len)
		return hearth_error_make(err, E2BIG, "buffer over its %zu-byte limit", b->max);
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	nalloc = b->alloc ? b->alloc : 64;
	while (nalloc < need)
		nalloc = nalloc > SIZE_MAX / 2 ? need : nalloc * 2;
	p = realloc(b->alloc ? b->ptr : NULL, nalloc);
	if (!p)
		return hearth_error_make(err, ENOMEM, "out of memory");
	if (!b->alloc)
		p[0] = '\0';
	b->ptr = p;
	b->alloc = nalloc;
	return 0;
}

int buf_reserve(struct buf *b, size_t extra, struct hearth_error **err)
{
	return grow(b, extra, err);
}

int buf_append(struct buf *b, const void *data, size_t len, struct hearth_error **err)
{
	int r = grow(b, len, err);

	if (r < 0)
		return r;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	if (b->alloc)
		b->ptr[b->len] = '\0';
	return 0;
}

int buf_puts(struct buf *b, const char *s, struct hearth_error **err)
{
	return buf_append(b, s, strlen(s), err);
}

int buf_vprintf(struct buf *b, struct hearth_error **err, const char *fmt, va_list ap)
{
	char small[256];
	va_list cp;
	int n, r;

	/* Formatted once when it fits the stack (nearly every line), twice
	 * only when it is longer. */
	va_copy(cp, ap);
	n = vsnprintf(small, sizeof(small), fmt, cp);
	va_end(cp);
	if (n < 0)
		return hearth_error_make(err, EINVAL, "bad format");
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n, err);
	r = grow(b, (size_t)n, err);
	if (r < 0)
		return r;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, struct hearth_error **err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, err, fmt, ap);
	va_end(ap);
	return r;
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p;

	if (len)
		*len = b->len;
	if (b->alloc) {
		p = b->ptr;
	} else {
		p = malloc(1);
		if (p)
			p[0] = '\0';
	}
	b->ptr = buf_empty_;
	b->len = 0;
	b->alloc = 0;
	return p;
}

int buf_i64(struct buf *b, int64_t v, struct hearth_error **err)
{
	char tmp[24], *e = tmp + sizeof(tmp), *p = e;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return buf_append(b, p, (size_t)(e - p), err);
}

int buf_fixed(struct buf *b, double v, int decimals, struct hearth_error **err)
{
	static const double scale[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6 };
	char tmp[40], *e = tmp + sizeof(tmp), *p = e;
	double x, fl, frac;
	uint64_t u;

	if (decimals < 0 || decimals > 6 || !(fabs(v) < 1e12) ||
	    !(fabs(v) * scale[decimals] < 0x1p52))
		return buf_printf(b, err, "%.*f", decimals, v);
	/* printf rounds v's exact value, half to even.  The product is
	 * rounded once more; where that lands on a half, the product's exact
	 * remainder (fma) tells which side the true value is on. */
	x = fabs(v) * scale[decimals];
	fl = floor(x);
	frac = x - fl;
	if (frac > 0.5 || (frac == 0.5 && fma(fabs(v), scale[decimals], -x) > 0) ||
	    (frac == 0.5 && fma(fabs(v), scale[decimals], -x) == 0 && fmod(fl, 2) != 0))
		fl += 1;
	u = (uint64_t)fl;
	for (int i = 0; i < decimals; i++) {
		*--p = (char)('0' + u % 10);
		u /= 10;
	}
	if (decimals)
		*--p = '.';
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (signbit(v))
		*--p = '-';
	return buf_append(b, p, (size_t)(e - p), err);
}
