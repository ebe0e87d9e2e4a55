/* strmap.h — a map from strings to 64-bit integers (names and routes to
 * function ids): chained hashing (FNV-1a), keys copied, grown as it
 * fills.  For lookups on the request path that must not scan a list. */
#ifndef HEARTH_STRMAP_H
#define HEARTH_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strmap;

struct strmap *strmap_new(void);
void strmap_free(struct strmap *m);
/* Sets key (len bytes, not NUL-terminated) to value; -ENOMEM. */
int strmap_put(struct strmap *m, const char *key, size_t len, int64_t value);
/* The value of key, or false. */
bool strmap_get(const struct strmap *m, const char *key, size_t len, int64_t *value);
/* Removes key (nothing when absent). */
void strmap_del(struct strmap *m, const char *key, size_t len);
size_t strmap_count(const struct strmap *m);
/* The map's hash of len bytes (64-bit FNV-1a), for other tables keyed by
 * strings. */
uint64_t strmap_hash(const char *key, size_t len);

#endif
