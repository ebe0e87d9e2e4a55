/* json_ref.h — json_strict's strict reference parser, jansson, behind an
 * interface free of jansson's names (they clash with json-c's, so the two
 * cannot meet in one file).  See json_strict.c for what it stands for.
 *
 * What a parser read is compared as a canonical dump, written the same way
 * from either tree: null "n", true "t", false "f", an integer "i<decimal>;",
 * any other number "r<%.17g>;", a string "s<length>:<bytes>", an array
 * "[" items "]", an object "{" key (as a string) and value pairs "}" with
 * the keys in byte order. */
#ifndef HEARTH_FUZZ_JSON_REF_H
#define HEARTH_FUZZ_JSON_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum json_ref_verdict {
	JSON_REF_REFUSES,
	JSON_REF_ACCEPTS,
};

/* jansson's verdict on the text under RFC 8259's grammar.  *dump (malloc'd,
 * *dump_len bytes) is what it read, when it read the text unchanged and
 * no object key holds a NUL; NULL otherwise. */
enum json_ref_verdict json_ref_read(const uint8_t *data, size_t size, char **dump,
				    size_t *dump_len);

/* A growing byte string for the dumps. */
struct json_dump {
	char *p;
	size_t len, cap;
};
void json_dump_add(struct json_dump *d, const void *bytes, size_t len);
void json_dump_str(struct json_dump *d, const char *s, size_t len);
void json_dump_printf(struct json_dump *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
