/* jsontext.h — JSON as text, in one place: the one parser every request
 * body, payload and result check goes through, strict RFC 8259 JSON and
 * nothing else (no NaN, no trailing comma, no comment, no single quote,
 * valid UTF-8; errors say line, column and byte), and the escaping of bytes
 * into a JSON string literal.  The grammar is checked by a scanner of ours
 * that builds nothing; json-c builds a tree only where one is asked for. */
#ifndef HEARTH_JSONTEXT_H
#define HEARTH_JSONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "buf.h"
#include "error.h"

static inline void jsontext_putp(json_object **o)
{
	json_object_put(*o);
}
#define _cleanup_json_ __attribute__((cleanup(jsontext_putp)))

enum jsontext_flags {
	/* *out must be a value: a bare `null` is refused. */
	JSONTEXT_NOT_NULL = 1u << 1,
};

/* Parses text as exactly one JSON value, white space around it allowed and
 * nothing else after it.  `what` names the input in messages ("body").
 * With out NULL it only checks.  -EBADMSG saying where it broke ("body:
 * malformed JSON at line 3, column 7 (byte 41): unexpected character"),
 * -E2BIG past INT_MAX bytes. */
int jsontext_parse(const char *text, size_t len, unsigned flags, const char *what,
		   json_object **out, struct hearth_error **err);
/* The tree of JSON text hearthd checked before it stored it (a result, a
 * payload, an env): as deep as the scanner allows, where json-c's own
 * json_tokener_parse stops at 32 levels and gives NULL.  NULL for `null`,
 * for NULL, and for text that is not JSON after all. */
json_object *jsontext_tree(const char *text);
/* Whether text is one JSON value (null included): the scanner alone, no
 * tree and no message, for the invocation path's payloads and results. */
bool jsontext_is_value(const char *text, size_t len);
/* Whether text is empty or white space only. */
bool jsontext_blank(const char *text, size_t len);
/* Appends bytes as a JSON string literal; invalid UTF-8 becomes U+FFFD, so
 * the text stays valid JSON whatever a handler printed. */
int jsontext_append_string(struct buf *b, const char *s, size_t len, struct hearth_error **err);

#endif
