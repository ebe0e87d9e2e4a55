/* reqcheck.c — see reqcheck.h.  Each rule below is one of evhttp's
 * (libevent 2.1.12 as Debian 12 ships it, which also refuses a
 * Transfer-Encoding given twice or beside a Content-Length), written out
 * so the same request is refused here first. */
#include "reqcheck.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/http.h>

void reqcheck_init(struct reqcheck *rc, size_t max_head, size_t max_body)
{
	memset(rc, 0, sizeof(*rc));
	rc->max_head = max_head;
	rc->max_body = max_body;
}

static int too_big(struct reqcheck *rc, struct hearth_error **err)
{
	return hearth_error_make(err, EMSGSIZE,
				 "the request line and headers are over the limit of %zu bytes",
				 rc->max_head);
}

int reqcheck_partial(struct reqcheck *rc, size_t len, struct hearth_error **err)
{
	return rc->head_bytes + len > rc->max_head ? too_big(rc, err) : 0;
}

static const struct {
	const char *name;
	int method;
} methods[] = {
	{ "GET", EVHTTP_REQ_GET },	 { "POST", EVHTTP_REQ_POST },
	{ "HEAD", EVHTTP_REQ_HEAD },	 { "PUT", EVHTTP_REQ_PUT },
	{ "DELETE", EVHTTP_REQ_DELETE }, { "OPTIONS", EVHTTP_REQ_OPTIONS },
	{ "TRACE", EVHTTP_REQ_TRACE },	 { "CONNECT", EVHTTP_REQ_CONNECT },
	{ "PATCH", EVHTTP_REQ_PATCH },
};

/* "METHOD SP target SP HTTP/x.y": evhttp takes the method up to the first
 * space and the version after the last one, so the target may hold
 * spaces; it reads the line as a C string (a NUL ends it). */
static int request_line(struct reqcheck *rc, char *line, struct hearth_error **err)
{
	char *sp = strchr(line, ' '), *target, *version;
	int major, minor, r = 0;
	char ch;

	if (!sp)
		return hearth_error_make(err, EBADMSG,
					 "malformed request line: no target and HTTP version");
	target = sp + 1;
	version = strrchr(target, ' ');
	if (!version || version == target)
		return hearth_error_make(err, EBADMSG,
					 "malformed request line: expected METHOD TARGET HTTP/1.1");
	version++;
	/* The two every client sends, without sscanf; anything else is
	 * parsed. */
	if (strncmp(version, "HTTP/1.", 7) == 0 && (version[7] == '1' || version[7] == '0') &&
	    version[8] == '\0') {
		major = 1;
		minor = version[7] - '0';
	} else if (sscanf(version, "HTTP/%d.%d%c", &major, &minor, &ch) != 2 || major > 1)
		return hearth_error_make(err, EBADMSG,
					 "unsupported HTTP version '%.32s' (HTTP/1.1 or 1.0)",
					 version);
	rc->major = major;
	rc->minor = minor;
	/* A target that starts with one '/' always parses; anything else
	 * (an absolute URI, "//authority", "*") goes through evhttp's parser. */
	if (!(target[0] == '/' && target[1] != '/')) {
		struct evhttp_uri *uri;

		version[-1] = '\0';
		uri = evhttp_uri_parse_with_flags(target, EVHTTP_URI_NONCONFORMANT);
		if (uri)
			evhttp_uri_free(uri);
		else
			r = hearth_error_make(err, EBADMSG, "malformed request target '%.64s'",
					      target);
		version[-1] = ' ';
		if (r < 0)
			return r;
	}
	*sp = '\0';
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(line, methods[i].name) == 0)
			rc->method = methods[i].method;
	/* An unknown method is evhttp's 501 once the head is in (kept for
	 * the end, as a bad header still makes it a 400 first). */
	if (!rc->method)
		snprintf(rc->unknown_method, sizeof(rc->unknown_method), "%s", line);
	*sp = ' ';
	return 0;
}

static void keep(struct reqcheck_value *v, const char *text, size_t len)
{
	v->seen = true;
	v->too_long = len >= sizeof(v->text);
	v->len = v->too_long ? sizeof(v->text) - 1 : len;
	memcpy(v->text, text, v->len);
	v->text[v->len] = '\0';
}

/* evhttp_append_to_last_header: " " and the line, trimmed. */
static void fold(struct reqcheck_value *v, const char *text, size_t len)
{
	size_t room = sizeof(v->text) - 1 - v->len;

	if (v->too_long || len + 1 > room) {
		v->too_long = true;
		return;
	}
	v->text[v->len++] = ' ';
	memcpy(v->text + v->len, text, len);
	v->len += len;
	v->text[v->len] = '\0';
}

static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int header_line(struct reqcheck *rc, char *line, struct hearth_error **err)
{
	size_t n = strlen(line);
	char *colon, *value;
	size_t vlen;

	if (line[0] == ' ' || line[0] == '\t') {
		if (rc->lines == 2)
			return hearth_error_make(err, EBADMSG,
						 "malformed header: a continuation line with no "
						 "header before it");
		while (*line == ' ' || *line == '\t')
			line++, n--;
		while (n && is_lws(line[n - 1]))
			n--;
		if (rc->last)
			fold(rc->last, line, n);
		return 0;
	}
	colon = memchr(line, ':', n);
	if (!colon)
		return hearth_error_make(err, EBADMSG, "malformed header line '%.64s': no colon",
					 line);
	if (memchr(line, '\r', (size_t)(colon - line)))
		return hearth_error_make(err, EBADMSG, "malformed header name: a CR in it");
	value = colon + 1;
	value += strspn(value, " ");
	vlen = n - (size_t)(value - line);
	while (vlen && is_lws(value[vlen - 1]))
		vlen--;
	/* A CR inside a value must start a fold (CR then space or tab). */
	for (const char *p = value, *end = value + vlen; (p = memchr(p, '\r', end - p));) {
		while (p < end && (*p == '\r' || *p == '\n'))
			p++;
		if (p == end || (*p != ' ' && *p != '\t'))
			return hearth_error_make(err, EBADMSG,
						 "malformed header '%.*s': a CR in its value",
						 (int)(colon - line), line);
	}
	*colon = '\0';
	rc->last = NULL;
	if (strcasecmp(line, "Transfer-Encoding") == 0)
		rc->te_count++;
	if (strcasecmp(line, "Content-Length") == 0 && !rc->content_length.seen)
		rc->last = &rc->content_length;
	else if (strcasecmp(line, "Transfer-Encoding") == 0 && !rc->transfer_encoding.seen)
		rc->last = &rc->transfer_encoding;
	else if (strcasecmp(line, "Expect") == 0 && !rc->expect.seen)
		rc->last = &rc->expect;
	*colon = ':';
	if (rc->last)
		keep(rc->last, value, vlen);
	return 0;
}

/* The last coding of a Transfer-Encoding list is "chunked". */
static bool is_chunked(const struct reqcheck_value *te)
{
	const char *last = strrchr(te->text, ',');

	last = last ? last + 1 : te->text;
	while (*last == ' ' || *last == '\t')
		last++;
	return !te->too_long && strncasecmp(last, "chunked", 7) == 0 &&
	       (last[7] == '\0' || last[7] == ' ' || last[7] == '\t');
}

static bool may_have_body(int method)
{
	return method != EVHTTP_REQ_HEAD && method != EVHTTP_REQ_TRACE;
}

/* The blank line came: evhttp_get_body's checks. */
static int head_done(struct reqcheck *rc, struct hearth_error **err)
{
	long long length = 0;
	bool chunked = false;

	if (!rc->method)
		return hearth_error_make(err, ENOSYS, "method '%s' is not supported",
					 rc->unknown_method);
	if (!may_have_body(rc->method))
		return 1;
	if (rc->te_count > 1)
		return hearth_error_make(err, EBADMSG, "Transfer-Encoding is given twice");
	if (rc->transfer_encoding.seen && rc->content_length.seen)
		return hearth_error_make(err, EBADMSG,
					 "Content-Length and Transfer-Encoding together: send one");
	if (rc->transfer_encoding.seen) {
		chunked = is_chunked(&rc->transfer_encoding);
	} else if (rc->content_length.seen && !rc->content_length.too_long) {
		const char *s = rc->content_length.text;
		char *end;

		errno = 0;
		length = strtoll(s, &end, 10);
		if (!*s || *end || length < 0)
			return hearth_error_make(err, EBADMSG,
						 "Content-Length '%s' is not a length in bytes", s);
		if (errno == ERANGE || (unsigned long long)length > rc->max_body)
			return hearth_error_make(
				err, E2BIG,
				"the body (Content-Length %s) is over the limit of "
				"%zu bytes",
				s, rc->max_body);
	}
	if ((chunked || length > 0) && rc->expect.seen &&
	    (rc->major > 1 || (rc->major == 1 && rc->minor >= 1)) &&
	    (rc->expect.too_long || strcasecmp(rc->expect.text, "100-continue") != 0))
		return hearth_error_make(err, ENOMSG,
					 "Expect: '%s' is not supported (only 100-continue)",
					 rc->expect.text);
	rc->body_length = (unsigned long long)length;
	return 1;
}

int reqcheck_line(struct reqcheck *rc, char *line, size_t len, struct hearth_error **err)
{
	/* evhttp counts the lines without their ends. */
	rc->head_bytes += len;
	if (rc->head_bytes > rc->max_head)
		return too_big(rc, err);
	if (rc->lines++ == 0)
		return request_line(rc, line, err);
	if (line[0] == '\0') /* as evhttp reads it: a NUL first ends the head too */
		return head_done(rc, err);
	return header_line(rc, line, err);
}
