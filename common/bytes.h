/* bytes.h — the one byte-view type: a pointer and a length into memory
 * someone else owns (a frame, a reply buffer), never NUL-terminated by
 * promise.  Whoever hands one out says how long it stays valid. */
#ifndef HEARTH_BYTES_H
#define HEARTH_BYTES_H

#include <stddef.h>
#include <string.h>

struct bytes {
	const char *ptr;
	size_t len;
};

/* A view of a C string (NULL is the empty view). */
static inline struct bytes bytes_of_str(const char *s)
{
	return (struct bytes){ s ? s : "", s ? strlen(s) : 0 };
}

#endif
