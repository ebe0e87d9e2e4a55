/* jsontext.c — see jsontext.h. */
#include "jsontext.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>

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

/* One value at the start of text: its object (NULL for a JSON null), the
 * tokener's verdict and where it stopped; -ENOMEM without a tokener. */
static int parse_one(const char *text, size_t len, unsigned flags, json_object **out,
		     enum json_tokener_error *jerr, size_t *end)
{
	json_tokener *tok = json_tokener_new_ex(64);
	json_object *o;

	*out = NULL;
	if (!tok)
		return -ENOMEM;
	if (flags & JSONTEXT_STRICT)
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)len);
	*jerr = json_tokener_get_error(tok);
	*end = json_tokener_get_parse_end(tok);
	if (!o && *jerr == json_tokener_continue) {
		/* A bare number or literal ("42") only ends at a delimiter:
		 * json-c takes a NUL as the end of the input. */
		o = json_tokener_parse_ex(tok, "", 1);
		if (json_tokener_get_error(tok) == json_tokener_success) {
			*jerr = json_tokener_success;
			*end = len;
		}
	}
	json_tokener_free(tok);
	*out = o;
	return 0;
}

int jsontext_parse(const char *text, size_t len, unsigned flags, const char *what,
		   json_object **out, struct hearth_error **err)
{
	enum json_tokener_error jerr;
	json_object *o;
	size_t end;
	char at[96];

	if (out)
		*out = NULL;
	if (len > INT_MAX)
		return hearth_error_make(err, E2BIG, "%s: %zu bytes is too large to parse", what,
					 len);
	if (jsontext_blank(text, len))
		return hearth_error_make(err, EBADMSG, "%s: empty; expected JSON", what);
	if (parse_one(text, len, flags, &o, &jerr, &end) < 0)
		return hearth_error_make(err, ENOMEM, "out of memory");
	if (!o && jerr == json_tokener_success && (flags & JSONTEXT_NOT_NULL))
		jerr = json_tokener_error_parse_unexpected;
	if (jerr == json_tokener_continue) {
		json_object_put(o);
		where(text, len, len, at, sizeof(at));
		return hearth_error_make(err, EBADMSG,
					 "%s: malformed JSON at %s: unexpected end of input", what,
					 at);
	}
	if (jerr != json_tokener_success) {
		json_object_put(o);
		/* json-c's parse end is the offending byte */
		where(text, len, end, at, sizeof(at));
		return hearth_error_make(err, EBADMSG, "%s: malformed JSON at %s: %s", what, at,
					 json_tokener_error_desc(jerr));
	}
	while (end < len && is_space(text[end]))
		end++;
	if (end < len) {
		json_object_put(o);
		where(text, len, end, at, sizeof(at));
		return hearth_error_make(
			err, EBADMSG, "%s: malformed JSON at %s: unexpected data after the value",
			what, at);
	}
	if (out)
		*out = o;
	else
		json_object_put(o);
	return 0;
}

bool jsontext_is_value(const char *text, size_t len)
{
	return len > 0 && jsontext_parse(text, len, 0, "", NULL, NULL) == 0;
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
