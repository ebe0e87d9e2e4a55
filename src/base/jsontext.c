/* jsontext.c — see jsontext.h. */
#include "jsontext.h"

#include <errno.h>
#include <limits.h>
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
 * and a bound on the scanner's stack. */
#define JSONTEXT_DEPTH_MAX 512

struct scan {
	const unsigned char *p, *start, *end;
	const char *why; /* set at the first failure */
};

static bool fail(struct scan *sc, const char *why)
{
	if (!sc->why)
		sc->why = why;
	return false;
}

static inline void skip_space(struct scan *sc)
{
	const unsigned char *p = sc->p, *end = sc->end;

	if (p < end && (*p > ' '))
		return; /* compact JSON: nearly always */

	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	sc->p = p;
}

/* One UTF-8 sequence at sc->p (its first byte >= 0x80): well-formed, no
 * overlong form, no surrogate, at most U+10FFFF. */
static bool scan_utf8(struct scan *sc)
{
	const unsigned char *p = sc->p;
	size_t n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc2 ? 2 : 0;

	if (n == 0 || *p > 0xf4 || (size_t)(sc->end - p) < n)
		return fail(sc, "invalid UTF-8");
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return fail(sc, "invalid UTF-8");
	if ((n == 3 && ((*p == 0xe0 && p[1] < 0xa0) || (*p == 0xed && p[1] >= 0xa0))) ||
	    (n == 4 && ((*p == 0xf0 && p[1] < 0x90) || (*p == 0xf4 && p[1] >= 0x90))))
		return fail(sc, "invalid UTF-8");
	sc->p += n;
	return true;
}

static bool is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline bool scan_string(struct scan *sc)
{
	sc->p++; /* the opening quote */
	for (;;) {
		/* the common run: plain printable ASCII */
		const unsigned char *p = sc->p, *end = sc->end;

		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		sc->p = p;
		if (sc->p == sc->end)
			return fail(sc, "unexpected end of input");
		if (*sc->p == '"') {
			sc->p++;
			return true;
		}
		if (*sc->p < 0x20)
			return fail(sc, "a control character in a string must be escaped");
		if (*sc->p >= 0x80) {
			if (!scan_utf8(sc))
				return false;
			continue;
		}
		/* an escape */
		if (sc->end - sc->p < 2)
			return fail(sc, "unexpected end of input");
		switch (sc->p[1]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't': sc->p += 2; break;
		case 'u':
			if (sc->end - sc->p < 6)
				return fail(sc, "unexpected end of input");
			for (int i = 2; i < 6; i++)
				if (!is_hex(sc->p[i])) {
					sc->p += i;
					return fail(sc, "\\u takes four hex digits");
				}
			sc->p += 6;
			break;
		default: sc->p++; return fail(sc, "invalid escape");
		}
	}
}

static inline bool digits(struct scan *sc)
{
	const unsigned char *from = sc->p, *p = from, *end = sc->end;

	while (p < end && *p >= '0' && *p <= '9')
		p++;
	sc->p = p;
	return p > from;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?: no NaN, no Infinity, no
 * leading zero, no bare dot, no plus sign. */
static bool scan_number(struct scan *sc)
{
	if (*sc->p == '-')
		sc->p++;
	if (sc->p < sc->end && *sc->p == '0')
		sc->p++;
	else if (!(sc->p < sc->end && *sc->p >= '1' && *sc->p <= '9' && digits(sc)))
		return fail(sc,
			    sc->p == sc->end ? "unexpected end of input" : "unexpected character");
	if (sc->p < sc->end && *sc->p == '.') {
		sc->p++;
		if (!digits(sc))
			return fail(sc, "a digit must follow the decimal point");
	}
	if (sc->p < sc->end && (*sc->p == 'e' || *sc->p == 'E')) {
		sc->p++;
		if (sc->p < sc->end && (*sc->p == '+' || *sc->p == '-'))
			sc->p++;
		if (!digits(sc))
			return fail(sc, "an exponent needs digits");
	}
	return true;
}

static bool scan_literal(struct scan *sc, const char *word, size_t n)
{
	if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0)
		return fail(sc, "unexpected character");
	sc->p += n;
	return true;
}

static bool scan_value(struct scan *sc, int depth)
{
	skip_space(sc);
	if (sc->p == sc->end)
		return fail(sc, "unexpected end of input");
	switch (*sc->p) {
	case '"': return scan_string(sc);
	case 't': return scan_literal(sc, "true", 4);
	case 'f': return scan_literal(sc, "false", 5);
	case 'n': return scan_literal(sc, "null", 4);
	case '[':
	case '{': {
		bool object = *sc->p == '{';
		char close = object ? '}' : ']';

		if (depth >= JSONTEXT_DEPTH_MAX)
			return fail(sc, "nested deeper than 512 levels");
		sc->p++;
		skip_space(sc);
		if (sc->p < sc->end && *sc->p == close) {
			sc->p++;
			return true;
		}
		for (;;) {
			if (object) {
				skip_space(sc);
				if (sc->p == sc->end)
					return fail(sc, "unexpected end of input");
				if (*sc->p != '"' || !scan_string(sc))
					return fail(sc, "unexpected character");
				skip_space(sc);
				if (sc->p == sc->end)
					return fail(sc, "unexpected end of input");
				if (*sc->p != ':')
					return fail(sc, "unexpected character");
				sc->p++;
			}
			if (!scan_value(sc, depth + 1))
				return false;
			skip_space(sc);
			if (sc->p == sc->end)
				return fail(sc, "unexpected end of input");
			if (*sc->p == close) {
				sc->p++;
				return true;
			}
			if (*sc->p != ',')
				return fail(sc, "unexpected character");
			sc->p++;
		}
	}
	default:
		if (*sc->p == '-' || (*sc->p >= '0' && *sc->p <= '9'))
			return scan_number(sc);
		return fail(sc, "unexpected character");
	}
}

/* Exactly one RFC 8259 value, white space around it: NULL, or why not with
 * *at the offending byte. */
static const char *scan_text(const char *text, size_t len, size_t *at)
{
	struct scan sc = { (const unsigned char *)text, (const unsigned char *)text,
			   (const unsigned char *)text + len, NULL };

	if (scan_value(&sc, 0)) {
		skip_space(&sc);
		if (sc.p == sc.end)
			return NULL;
		sc.why = "unexpected data after the value";
	}
	*at = (size_t)(sc.p - sc.start);
	return sc.why;
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
