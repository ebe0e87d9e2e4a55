/* json_ref.c — see json_ref.h. */
#include "json_ref.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"

void json_dump_add(struct json_dump *d, const void *bytes, size_t len)
{
	if (d->cap - d->len < len + 1) {
		while (d->cap - d->len < len + 1)
			d->cap = d->cap ? d->cap * 2 : 256;
		d->p = realloc(d->p, d->cap);
		FUZZ_CHECK(d->p != NULL, "out of memory");
	}
	memcpy(d->p + d->len, bytes, len);
	d->len += len;
	d->p[d->len] = '\0';
}

void json_dump_printf(struct json_dump *d, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(tmp), "dump item too long");
	json_dump_add(d, tmp, (size_t)n);
}

void json_dump_str(struct json_dump *d, const char *s, size_t len)
{
	json_dump_printf(d, "s%zu:", len);
	json_dump_add(d, s, len);
}

struct key {
	const char *k;
	size_t len;
	json_t *v;
};

static int cmp_keys(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int c = memcmp(x->k, y->k, x->len < y->len ? x->len : y->len);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* false when a key holds a NUL (json-c cuts such keys: nothing to compare) */
static bool dump(struct json_dump *d, json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_NULL: json_dump_add(d, "n", 1); return true;
	case JSON_TRUE: json_dump_add(d, "t", 1); return true;
	case JSON_FALSE: json_dump_add(d, "f", 1); return true;
	case JSON_INTEGER:
		json_dump_printf(d, "i%lld;", (long long)json_integer_value(j));
		return true;
	case JSON_REAL: json_dump_printf(d, "r%.17g;", json_real_value(j)); return true;
	case JSON_STRING:
		json_dump_str(d, json_string_value(j), json_string_length(j));
		return true;
	case JSON_ARRAY:
		json_dump_add(d, "[", 1);
		for (size_t i = 0; i < json_array_size(j); i++)
			if (!dump(d, json_array_get(j, i)))
				return false;
		json_dump_add(d, "]", 1);
		return true;
	case JSON_OBJECT: {
		size_t n = json_object_size(j), i = 0, klen;
		struct key *keys = calloc(n ? n : 1, sizeof(*keys));
		const char *k;
		json_t *v;
		bool ok = true;

		FUZZ_CHECK(keys != NULL, "out of memory");
		json_object_keylen_foreach(j, k, klen, v)
		{
			keys[i++] = (struct key){ k, klen, v };
			ok &= strlen(k) == klen;
		}
		qsort(keys, n, sizeof(*keys), cmp_keys);
		json_dump_add(d, "{", 1);
		for (i = 0; ok && i < n; i++) {
			json_dump_str(d, keys[i].k, keys[i].len);
			ok = dump(d, keys[i].v);
		}
		json_dump_add(d, "}", 1);
		free(keys);
		return ok;
	}
	}
	return false;
}

static int hexval(uint8_t c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* The \uXXXX escape at s, or -1. */
static long escape_at(const uint8_t *s, size_t left)
{
	long v = 0;

	if (left < 6 || s[0] != '\\' || s[1] != 'u')
		return -1;
	for (int i = 2; i < 6; i++) {
		int h = hexval(s[i]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* Rewrites escapes inside strings into \u0041 (hex digits for hex
 * digits: the grammar cannot tell): every lone surrogate's, and with nul
 * every \u0000 too; how many. */
static int rewrite_escapes(uint8_t *s, size_t len, bool nul)
{
	bool in_string = false;
	int n = 0;

	for (size_t i = 0; i < len; i++) {
		long v, w;

		if (!in_string) {
			in_string = s[i] == '"';
			continue;
		}
		if (s[i] == '"') {
			in_string = false;
			continue;
		}
		if (s[i] != '\\')
			continue;
		v = escape_at(s + i, len - i);
		if (v < 0) {
			i++; /* a two-character escape (or a bad one) */
			continue;
		}
		if (v >= 0xd800 && v <= 0xdbff) {
			w = escape_at(s + i + 6, len - i - 6);
			if (w >= 0xdc00 && w <= 0xdfff) {
				i += 11; /* a pair */
				continue;
			}
		}
		if ((v >= 0xd800 && v <= 0xdfff) || (nul && v == 0)) {
			memcpy(s + i + 2, "0041", 4);
			n++;
		}
		i += 5;
	}
	return n;
}

/* s[0..n) is exactly one number of the RFC's grammar:
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool number_token(const uint8_t *s, size_t n)
{
	size_t i = 0, d;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0') {
		i++;
	} else {
		for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d || s[d] == '0')
			return false;
	}
	if (i < n && s[i] == '.') {
		for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return false;
	}
	return i == n;
}

/* Outside strings, a run of number characters is, in a valid text, one
 * number or the 'e' ending true or false.  Every run that is one number
 * jansson cannot hold (it says "numeric overflow" of it alone) becomes 0
 * and spaces; how many.  A number inside any other run is in an invalid
 * text anyway. */
static int rewrite_numbers(uint8_t *s, size_t len)
{
	bool in_string = false;
	int n = 0;

	for (size_t i = 0; i < len; i++) {
		size_t j;
		json_error_t e;
		json_t *alone;

		if (in_string) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_string = false;
			continue;
		}
		if (s[i] == '"') {
			in_string = true;
			continue;
		}
		for (j = i; j < len && s[j] && strchr("0123456789+-.eE", s[j]); j++)
			;
		if (j == i)
			continue;
		if (number_token(s + i, j - i)) {
			alone = json_loadb((const char *)s + i, j - i, JSON_DECODE_ANY, &e);
			if (!alone && json_error_code(&e) == json_error_numeric_overflow) {
				memset(s + i, ' ', j - i);
				s[i] = '0';
				n++;
			}
			json_decref(alone);
		}
		i = j - 1;
	}
	return n;
}

enum json_ref_verdict json_ref_read(const uint8_t *data, size_t size, char **dump_out,
				    size_t *dump_len)
{
	enum json_ref_verdict v = JSON_REF_REFUSES;
	uint8_t *s = malloc(size ? size : 1);
	bool rewritten;

	*dump_out = NULL;
	*dump_len = 0;
	FUZZ_CHECK(s != NULL, "out of memory");
	/* jansson skips a NUL byte after a number ("1\0", "[1\0]"); the RFC
	 * allows none anywhere (in a string it is a control character). */
	if (memchr(data, 0, size)) {
		free(s);
		return JSON_REF_REFUSES;
	}
	memcpy(s, data, size);
	rewritten = rewrite_escapes(s, size, false) > 0;
	rewritten |= rewrite_numbers(s, size) > 0;
	for (int tries = 0; tries < 2; tries++) {
		json_error_t e;
		json_t *j = json_loadb((const char *)s, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);

		if (j) {
			struct json_dump d = { NULL, 0, 0 };

			if (!rewritten && dump(&d, j)) {
				*dump_out = d.p;
				*dump_len = d.len;
			} else {
				free(d.p);
			}
			json_decref(j);
			v = JSON_REF_ACCEPTS;
			break;
		}
		/* A NUL in a key: jansson's limit, not the grammar's. */
		if (json_error_code(&e) != json_error_null_byte_in_key ||
		    !rewrite_escapes(s, size, true))
			break;
		rewritten = true;
	}
	free(s);
	return v;
}
