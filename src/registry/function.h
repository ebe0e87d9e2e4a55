/* function.h — the function object: its record, its JSON form and the
 * validation of create/update bodies.  The record is a plain value shared
 * by the API, the store and the pool (the one transparent struct besides
 * struct buf), so every field is listed here; their bounds are in bounds.h. */
#ifndef HEARTH_FUNCTION_H
#define HEARTH_FUNCTION_H

#include <stdint.h>
#include <json-c/json.h>

#include "bounds.h"
#include "error.h"


struct fn {
	int64_t id; /* 0 until stored */
	char *name;
	char *language; /* "python" | "node" (never "javascript") */
	char *handler;	/* "main.handler" / "index.handler" */
	char *route;	/* "/hello", or NULL */
	int timeout_s;
	int memory_mb;
	char *env_json; /* canonical JSON object of strings, "{}" when empty */
	int min_warm;
	int max_concurrency;
	int64_t revision;     /* 1 on create, +1 on every change */
	char code_sha256[65]; /* lowercase hex */
	char *code_path;      /* absolute path of the code folder in the code store */
	int64_t created_at;   /* epoch ms */
	int64_t updated_at;   /* epoch ms */
	/* What the Lambda API carries, kept as given. */
	char *description;	  /* free text, or NULL */
	char *runtime;		  /* an AWS runtime ("python3.12", "nodejs20.x"), or NULL */
	char *role;		  /* an IAM role ARN, or NULL */
	char *architectures_json; /* ["x86_64"] or ["arm64"] */
	/* Function URLs: "none" or "token"; NULL: token when hearthd has one. */
	char *route_auth;
	/* Asynchronous calls: retries after a failed attempt, and how old a
	 * queued call may grow before it is dropped (seconds). */
	int async_retries;
	int async_max_age_s;
};

struct fn *fn_new(void);
void fn_free(struct fn *f);
struct fn *fn_dup(const struct fn *f);
static inline void fn_freep(struct fn **f)
{
	fn_free(*f);
}
#define _cleanup_fn_ __attribute__((cleanup(fn_freep)))

/* The public JSON object (docs/ARCHITECTURE.md's field list; times as ISO 8601). */
json_object *fn_to_json(const struct fn *f);

/* Validation of create/update bodies.  Every failure names the field:
 * -EBADMSG (HTTP 400) for malformed JSON, -EINVAL (422) for everything
 * else (wrong type, unknown field, out of range, bad charset).  Nothing
 * here touches the store or the code store: registry.c does that after. */

#define FN_FILE_MAX (FN_HANDLER_MAX + 8) /* "<module>.<ext>" */

enum fn_code_kind { FN_CODE_NONE, FN_CODE_FILE, FN_CODE_ZIP };

/* The code that came with a body: the source text of `code`, or the
 * decoded bytes of `zip`.  Release with fn_upload_release(). */
struct fn_upload {
	enum fn_code_kind kind;
	unsigned char *data;
	size_t len;
};
void fn_upload_release(struct fn_upload *u);
static inline void fn_upload_cleanup(struct fn_upload *u)
{
	fn_upload_release(u);
}
#define _cleanup_upload_ __attribute__((cleanup(fn_upload_cleanup)))

/* Parses a request body; -EBADMSG says where it broke ("line 3, column 7
 * (byte 41): unexpected character").  Trailing bytes after the value are
 * an error too. */
int fn_parse_body(const char *text, size_t len, json_object **out, struct hearth_error **err);

/* A create body: *out is a new record with the defaults filled in (id 0,
 * revision 1, no code yet, times unset) and *code holds exactly one of
 * `code` / `zip`. */
int fn_from_create_json(json_object *body, struct fn **out, struct fn_upload *code,
			struct hearth_error **err);
/* An update body (any subset of the create fields, `route` may be null to
 * clear it): *out is a copy of cur with the changes, *code the new code if
 * any (kind FN_CODE_NONE otherwise).  The revision is left alone; the
 * caller decides with fn_same_config() and the code's sha whether
 * anything changed. */
int fn_apply_update_json(const struct fn *cur, json_object *body, struct fn **out,
			 struct fn_upload *code, struct hearth_error **err);
/* 1 when a and b have the same settings (every user-set field but the
 * code), 0 when not. */
int fn_same_config(const struct fn *a, const struct fn *b);

/* The file a single-file upload is stored under: "main.py" for a python
 * function with handler "main.handler", "index.js" for node. */
int fn_source_filename(const struct fn *f, char dst[FN_FILE_MAX], struct hearth_error **err);
/* The files, relative to the code folder, that may hold the handler's
 * module, in the order the runtime tries them: python "<module>.py";
 * node "<module>.js", ".mjs", ".cjs".  Returns how many (1..3). */
int fn_handler_files(const struct fn *f, char files[3][FN_FILE_MAX]);

/* A function id from a URL segment: a positive decimal integer with no
 * sign, spaces or leading zeros that fits in int64; -ENOENT otherwise (an
 * id that cannot exist is an object that does not exist). */
int fn_parse_id(const char *s, int64_t *out, struct hearth_error **err);

/* The language of an AWS runtime string: python3.N is python, nodejsN.x is
 * node; NULL for any other (java21, provided.al2023, ...). */
const char *fn_runtime_language(const char *runtime);

/* "python" for "python", "node" for "node" and "javascript"; NULL when
 * unknown. */
const char *fn_language_canonical(const char *lang);

#endif
