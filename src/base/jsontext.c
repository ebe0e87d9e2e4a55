/* jsontext.c — see jsontext.h. */
#include "jsontext.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool jsontext_blank(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_space(text[i]))
			return false;
	return true;
}

/* "line L, column C (byte B)" for a byte offset, counting from 1. */
static void where(const char *text, size_t len, size_t off, char *dst, size_t size)
{
	size_t line = 1, col = 1;

	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	snprintf(dst, size, "line %zu, column %zu (byte %zu)", line, col, off);
}

/* ---- the strict scanner (RFC 8259) ------------------------------------------ */

/* How deep arrays and objects may nest: deep enough for any real event,
 * and a bound on the scanner's memory (one bit a level). */
#define JSONTEXT_DEPTH_MAX 512

/* The bytes a string holds as they are: printable ASCII but the quote and
 * the backslash.  A table, so the scanner's common run is one load a byte. */
static const unsigned char plain_byte[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 10 */
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 20 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 30 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 40 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 50 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 60 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 70 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 80 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 90 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* a0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* b0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* c0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* d0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* e0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* f0 */
};

static inline const unsigned char *skip_space(const unsigned char *p, const unsigned char *end)
{
	if (p<end && * p> ' ')
		return p; /* compact JSON: nearly always */
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Of the 8 bytes at p, a word with the high bit set in each byte that
 * ends a plain run (a control byte, a byte >= 0x80, a quote, a backslash):
 * 0 when none does.  Bit tricks on one word; a borrow can flag a byte
 * above a real one, never below, so the lowest flag is exact. */
static inline uint64_t plain8_stops(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	uint64_t x, q, b;

	memcpy(&x, p, 8);
	q = x ^ (ones * '"');
	b = x ^ (ones * '\\');
	return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) | x) & high;
}
#endif

/* One UTF-8 sequence at p (its first byte >= 0x80): well-formed, no
 * overlong form, no surrogate, at most U+10FFFF.  Its end, or NULL. */
static const unsigned char *scan_utf8(const unsigned char *p, const unsigned char *end)
{
	size_t n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc2 ? 2 : 0;

	if (n == 0 || *p > 0xf4 || (size_t)(end - p) < n)
		return NULL;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return NULL;
	if ((n == 3 && ((*p == 0xe0 && p[1] < 0xa0) || (*p == 0xed && p[1] >= 0xa0))) ||
	    (n == 4 && ((*p == 0xf0 && p[1] < 0x90) || (*p == 0xf4 && p[1] >= 0x90))))
		return NULL;
	return p + n;
}

static bool is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The string whose opening quote is at *pp: true with *pp past its closing
 * quote, or false with *pp at the fault and *why set. */
static inline bool scan_string(const unsigned char **pp, const unsigned char *end, const char **why)
{
	const unsigned char *p = *pp + 1;

	for (;;) {
		/* the common run: plain printable ASCII, a word at a time (the
		 * lowest flag is the first byte on a little-endian machine) */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		while (end - p >= 8) {
			uint64_t stops = plain8_stops(p);

			if (stops) {
				p += __builtin_ctzll(stops) >> 3;
				goto stop;
			}
			p += 8;
		}
#endif
		while (p < end && plain_byte[*p])
			p++;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
stop:
#endif
		if (p == end) {
			*why = "unexpected end of input";
			break;
		}
		if (*p == '"') {
			*pp = p + 1;
			return true;
		}
		if (*p < 0x20) {
			*why = "a control character in a string must be escaped";
			break;
		}
		if (*p >= 0x80) {
			const unsigned char *q = scan_utf8(p, end);

			if (!q) {
				*why = "invalid UTF-8";
				break;
			}
			p = q;
			continue;
		}
		/* an escape */
		if (end - p < 2) {
			*why = "unexpected end of input";
			break;
		}
		switch (p[1]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't': p += 2; continue;
		case 'u':
			if (end - p < 6) {
				*why = "unexpected end of input";
				break;
			}
			for (int i = 2; i < 6; i++)
				if (!is_hex(p[i])) {
					*pp = p + i;
					*why = "\\u takes four hex digits";
					return false;
				}
			p += 6;
			continue;
		default:
			*pp = p + 1;
			*why = "invalid escape";
			return false;
		}
		break;
	}
	*pp = p;
	return false;
}

static inline const unsigned char *digits(const unsigned char *p, const unsigned char *end)
{
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?: no NaN, no Infinity, no
 * leading zero, no bare dot, no plus sign.  As scan_string. */
static inline bool scan_number(const unsigned char **pp, const unsigned char *end, const char **why)
{
	const unsigned char *p = *pp, *q;

	if (*p == '-')
		p++;
	if (p < end && *p == '0') {
		p++;
	} else if (p < end && *p >= '1' && *p <= '9') {
		p = digits(p, end);
	} else {
		*pp = p;
		*why = p == end ? "unexpected end of input" : "unexpected character";
		return false;
	}
	if (p < end && *p == '.') {
		q = p + 1;
		if ((p = digits(q, end)) == q) {
			*pp = p;
			*why = "a digit must follow the decimal point";
			return false;
		}
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		q = p;
		if ((p = digits(q, end)) == q) {
			*pp = p;
			*why = "an exponent needs digits";
			return false;
		}
	}
	*pp = p;
	return true;
}

/* Exactly one RFC 8259 value, white space around it: NULL, or why not with
 * *at the offending byte.  One loop, no recursion: the open arrays and
 * objects are a stack of bits (1: an object). */
static const char *scan_text(const char *text, size_t len, size_t *at)
{
	const unsigned char *start = (const unsigned char *)text, *p = start, *end = p + len;
	uint64_t objects[JSONTEXT_DEPTH_MAX / 64];
	const char *why = "unexpected character";
	unsigned depth = 0;

value:
	p = skip_space(p, end);
	if (p == end) {
		why = "unexpected end of input";
		goto fail;
	}
	switch (*p) {
	case '"':
		if (!scan_string(&p, end, &why))
			goto fail;
		goto next;
	case 't':
	case 'f':
	case 'n': {
		const char *word = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
		size_t n = strlen(word);

		if ((size_t)(end - p) < n || memcmp(p, word, n) != 0)
			goto fail;
		p += n;
		goto next;
	}
	case '[':
	case '{': {
		uint64_t bit = (uint64_t)1 << (depth % 64);
		bool object = *p == '{';

		if (depth >= JSONTEXT_DEPTH_MAX) {
			why = "nested deeper than 512 levels";
			goto fail;
		}
		if (object)
			objects[depth / 64] |= bit;
		else
			objects[depth / 64] &= ~bit;
		depth++;
		p = skip_space(p + 1, end);
		if (p < end && *p == (object ? '}' : ']')) {
			p++;
			depth--;
			goto next;
		}
		if (object)
			goto key;
		goto value;
	}
	default:
		if (*p == '-' || (*p >= '0' && *p <= '9')) {
			if (!scan_number(&p, end, &why))
				goto fail;
			goto next;
		}
		goto fail;
	}

key:
	p = skip_space(p, end);
	if (p == end) {
		why = "unexpected end of input";
		goto fail;
	}
	if (*p != '"')
		goto fail;
	if (!scan_string(&p, end, &why))
		goto fail;
	p = skip_space(p, end);
	if (p == end) {
		why = "unexpected end of input";
		goto fail;
	}
	if (*p != ':')
		goto fail;
	p++;
	goto value;

next: /* after a value: the end, or what its array or object says next */
	if (depth == 0) {
		p = skip_space(p, end);
		if (p == end)
			return NULL;
		why = "unexpected data after the value";
		goto fail;
	}
	p = skip_space(p, end);
	if (p == end) {
		why = "unexpected end of input";
		goto fail;
	}
	{
		bool object = (objects[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1;

		if (*p == ',') {
			p++;
			if (object)
				goto key;
			goto value;
		}
		if (*p == (object ? '}' : ']')) {
			p++;
			depth--;
			goto next;
		}
	}
fail:
	*at = (size_t)(p - start);
	return why;
}

int jsontext_parse(const char *text, size_t len, unsigned flags, const char *what,
		   json_object **out, struct hearth_error **err)
{
	json_tokener *tok;
	json_object *o;
	const char *why;
	size_t at;
	char where_s[96];

	if (out)
		*out = NULL;
	if (len > INT_MAX)
		return hearth_error_make(err, E2BIG, "%s: %zu bytes is too large to parse", what,
					 len);
	if (jsontext_blank(text, len))
		return hearth_error_make(err, EBADMSG, "%s: empty; expected JSON", what);
	/* The grammar is ours (RFC 8259, nothing more); json-c only builds the
	 * tree of what passed. */
	if ((why = scan_text(text, len, &at)) != NULL) {
		where(text, len, at, where_s, sizeof(where_s));
		return hearth_error_make(err, EBADMSG, "%s: malformed JSON at %s: %s", what,
					 where_s, why);
	}
	if (!out && !(flags & JSONTEXT_NOT_NULL))
		return 0;
	/* json-c's own bound (32 by default) must not refuse what the scanner
	 * took: as deep as the scanner, and one more for json-c's count. */
	tok = json_tokener_new_ex(JSONTEXT_DEPTH_MAX + 1);
	if (!tok)
		return hearth_error_make(err, ENOMEM, "out of memory");
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (!o && json_tokener_get_error(tok) == json_tokener_continue)
		o = json_tokener_parse_ex(tok, "", 1); /* a bare number ends at the end */
	if (!o && json_tokener_get_error(tok) != json_tokener_success) {
		int r = hearth_error_make(err, EBADMSG, "%s: %s", what,
					  json_tokener_error_desc(json_tokener_get_error(tok)));

		json_tokener_free(tok);
		return r;
	}
	json_tokener_free(tok);
	if (!o && (flags & JSONTEXT_NOT_NULL)) {
		where(text, len, strspn(text, " \t\r\n"), where_s, sizeof(where_s));
		return hearth_error_make(err, EBADMSG,
					 "%s: malformed JSON at %s: null is no value here", what,
					 where_s);
	}
	if (out)
		*out = o;
	else
		json_object_put(o);
	return 0;
}

json_object *jsontext_tree(const char *text)
{
	json_object *o = NULL;

	if (!text || jsontext_parse(text, strlen(text), 0, "stored JSON", &o, NULL) < 0)
		return NULL;
	return o;
}

bool jsontext_is_value(const char *text, size_t len)
{
	size_t at;

	return len > 0 && scan_text(text, len, &at) == NULL;
}

int jsontext_append_string(struct buf *b, const char *s, size_t len, struct hearth_error **err)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	int r = buf_append(b, "\"", 1, err);

	while (r == 0 && p < end) {
		const unsigned char *run = p;

		while (p < end && *p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80)
			p++;
		if (p > run && (r = buf_append(b, run, (size_t)(p - run), err)) < 0)
			break;
		if (p == end)
			break;
		if (*p < 0x80) {
			char esc[7] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15], 0 };

			if (*p == '"' || *p == '\\') {
				esc[1] = (char)*p;
				r = buf_append(b, esc, 2, err);
			} else if (*p == '\n') {
				r = buf_append(b, "\\n", 2, err);
			} else if (*p == '\t') {
				r = buf_append(b, "\\t", 2, err);
			} else if (*p == '\r') {
				r = buf_append(b, "\\r", 2, err);
			} else {
				r = buf_append(b, esc, 6, err);
			}
			p++;
			continue;
		}
		/* A multi-byte sequence: copied when well-formed. */
		size_t n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc2 ? 2 : 0;
		bool okseq = n && *p < 0xf5 && (size_t)(end - p) >= n;

		for (size_t i = 1; okseq && i < n; i++)
			okseq = (p[i] & 0xc0) == 0x80;
		if (okseq && n == 3)
			okseq = !(*p == 0xe0 && p[1] < 0xa0) && !(*p == 0xed && p[1] >= 0xa0);
		if (okseq && n == 4)
			okseq = !(*p == 0xf0 && p[1] < 0x90) && !(*p == 0xf4 && p[1] >= 0x90);
		if (okseq) {
			r = buf_append(b, p, n, err);
			p += n;
		} else {
			r = buf_append(b, "\xef\xbf\xbd", 3, err);
			p++;
		}
	}
	return r < 0 ? r : buf_append(b, "\"", 1, err);
}
