/* function.h — the function object: its record, its JSON form and the
 * validation of create/update bodies.  The record is a plain value shared
 * by the API, the store and the pool (the one transparent struct besides
 * struct buf), so every field and its bounds are listed here. */
#ifndef HEARTH_FUNCTION_H
#define HEARTH_FUNCTION_H

#include <stdint.h>
#include <json-c/json.h>

#include "error.h"

#define FN_NAME_MAX 64
#define FN_TIMEOUT_MIN 1
#define FN_TIMEOUT_MAX 900
#define FN_TIMEOUT_DEFAULT 3
#define FN_MEMORY_MIN 64
#define FN_MEMORY_MAX 10240
#define FN_MEMORY_DEFAULT 128
#define FN_ENV_MAX_BYTES 4096
#define FN_MIN_WARM_DEFAULT 1
#define FN_MAX_CONCURRENCY_DEFAULT 10
#define FN_MAX_CONCURRENCY_MAX 1000
#define FN_CODE_MAX_BYTES (50u * 1024 * 1024)	/* unpacked */

struct fn {
	int64_t id;		/* 0 until stored */
	char *name;
	char *language;		/* "python" | "node" (never "javascript") */
	char *handler;		/* "main.handler" / "index.handler" */
	char *route;		/* "/hello", or NULL */
	int timeout_s;
	int memory_mb;
	char *env_json;		/* canonical JSON object of strings, "{}" when empty */
	int min_warm;
	int max_concurrency;
	int64_t revision;	/* 1 on create, +1 on every change */
	char code_sha256[65];	/* lowercase hex */
	char *code_path;	/* absolute path of the code folder in the code store */
	int64_t created_at;	/* epoch ms */
	int64_t updated_at;	/* epoch ms */
};

struct fn *fn_new(void);
void fn_free(struct fn *f);
struct fn *fn_dup(const struct fn *f);
static inline void fn_freep(struct fn **f) { fn_free(*f); }
#define _cleanup_fn_ __attribute__((cleanup(fn_freep)))

/* The public JSON object (DESIGN.md's field list; times as ISO 8601). */
json_object *fn_to_json(const struct fn *f);

#endif
