/* util.h — small helpers with no better home: bounded integer parsing
 * (OpenBSD strtonum style), checked path formatting, time, the heap. */
#ifndef HEARTH_UTIL_H
#define HEARTH_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Parses a whole decimal string into [min,max]; -EINVAL/-ERANGE otherwise. */
int util_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out,
		   struct hearth_error **err);
/* snprintf that fails with -ENAMETOOLONG on truncation. */
int util_snprintf(char *dst, size_t size, struct hearth_error **err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Copies the string src into dst (size bytes), cut to fit, always ended:
 * snprintf(dst, size, "%s", src) without printf's machinery. */
void util_strcpy_cut(char *dst, size_t size, const char *src);
/* Milliseconds since the epoch (wall clock) and a monotonic clock in ns. */
int64_t util_now_ms(void);
int64_t util_mono_ns(void);
/* Bytes malloc has handed out and not had back, over every arena (unlike
 * the RSS, it keeps no peak's pages); 0 where the C library cannot say,
 * or under a sanitizer's or valgrind's allocator. */
uint64_t util_heap_in_use(void);
/* "2026-11-25T19:08:34.123Z" from epoch ms; dst needs 32 bytes. */
void util_iso8601(int64_t ms, char dst[32]);
/* mkdir -p with mode 0755 (0700 for the last component when private). */
int util_mkdir_p(const char *path, int private_last, struct hearth_error **err);

#define _cleanup_free_ __attribute__((cleanup(util_freep)))
void util_freep(void *pp);
#define _cleanup_close_ __attribute__((cleanup(util_closep)))
void util_closep(int *fd);


/* rm -rf: removes path and everything under it, never following links
 * (no error when missing). */
int util_rm_rf(const char *path, struct hearth_error **err);
/* The same for parent/name below an open folder; returns -errno, and
 * -ELOOP past max_depth levels. */
int util_rm_tree_at(int parent, const char *name, int max_depth);
/* Recreates the tree at src under dst (which must exist): folders are made,
 * files hard-linked (copied when linking is impossible, e.g. across file
 * systems).  Symlinks and special files are refused. */
int util_link_tree(const char *src, const char *dst, struct hearth_error **err);

#endif
