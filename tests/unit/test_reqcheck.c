/* test_reqcheck.c — the request-head checks (src/api/reqcheck.c): what
 * libevent 2.1's evhttp refuses is refused with the same status, and
 * what it takes passes.  tests/api/connections.sh sends the same cases
 * to a real hearthd. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reqcheck.h"
#include "tap.h"

#define MAX_HEAD 1024
#define MAX_BODY 1000

/* The last head check()ed: its body_length. */
static unsigned long long body_length;

/* Feeds a head ("\n"-separated lines, ending with an empty one) line by
 * line; returns 1 when it passes, else the negative status. */
static int check(const char *head, char *msg, size_t msgsz)
{
	struct reqcheck rc;
	struct hearth_error *err = NULL;
	char *copy = strdup(head), *line = copy, *nl;
	int r = 0;

	reqcheck_init(&rc, MAX_HEAD, MAX_BODY);
	msg[0] = '\0';
	while (r == 0 && (nl = strchr(line, '\n')) != NULL) {
		size_t len = (size_t)(nl - line);

		if (len && line[len - 1] == '\r')
			len--;
		line[len] = '\0';
		r = reqcheck_line(&rc, line, len, &err);
		line = nl + 1;
	}
	if (r == 0 && *line)
		r = reqcheck_partial(&rc, strlen(line), &err);
	if (err)
		snprintf(msg, msgsz, "%s", err->msg);
	body_length = rc.body_length;
	hearth_error_free(err);
	free(copy);
	return r;
}

static void passes(const char *head, const char *what)
{
	char msg[256];
	int r = check(head, msg, sizeof(msg));

	ok(r == 1, "passes: %s", what);
	if (r != 1)
		printf("#   got %d: %s\n", r, msg);
}

static void refused(const char *head, int status, const char *what)
{
	char msg[256];
	int r = check(head, msg, sizeof(msg));

	ok(r == -status && msg[0], "refused (%d): %s", status, what);
	if (r != -status)
		printf("#   got %d: %s\n", r, msg);
}

int main(void)
{
	char big[MAX_HEAD + 64], fill[MAX_HEAD + 1];

	passes("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "a plain GET");
	passes("GET /healthz HTTP/1.1\nHost: x\n\n", "line ends of LF alone");
	passes("GET /healthz HTTP/1.0\r\n\r\n", "HTTP/1.0");
	passes("GET /a b HTTP/1.1\r\n\r\n", "a space in the target (evhttp takes it)");
	passes("GET  /x HTTP/1.1\r\n\r\n",
	       "two spaces after the method (the target starts with one)");
	passes("GET http://example.com/x HTTP/1.1\r\n\r\n", "an absolute URI");
	passes("OPTIONS * HTTP/1.1\r\n\r\n", "OPTIONS *");
	passes("GET //ok/ HTTP/1.1\r\n\r\n", "a target starting with // and a fine authority");
	passes("POST /f HTTP/1.1\r\nContent-Length: 1000\r\n\r\n", "a body at the limit");
	passes("POST /f HTTP/1.1\r\nContent-Length: +2\r\n\r\n", "Content-Length +2 (strtoll's)");
	passes("POST /f HTTP/1.1\r\nContent-Length : 2\r\n\r\n",
	       "'Content-Length ' is another header");
	passes("POST /f HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: x\r\n\r\n",
	       "the first Content-Length counts");
	passes("POST /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "chunked");
	passes("POST /f HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n",
	       "Expect: 100-continue in any case");
	passes("POST /f HTTP/1.0\r\nExpect: fancy\r\nContent-Length: 2\r\n\r\n",
	       "Expect is HTTP/1.1's");
	passes("POST /f HTTP/1.1\r\nExpect: fancy\r\nContent-Length: 0\r\n\r\n",
	       "Expect on a request without a body");
	passes("HEAD /f HTTP/1.1\r\nContent-Length: abc\r\n\r\n", "HEAD has no body to check");
	passes("GET /f HTTP/1.1\r\n: empty name\r\nX-A: a\r\n b\r\n\r\n", "an empty name, a fold");
	passes("GET /f HTTP/1.1\r\nX-Fold: a\r\n\tb\r\n\r\n", "a fold with a tab");
	passes("GET /healthz HTTP/01.1\r\n\r\n", "HTTP/01.1 (evhttp's sscanf takes it)");

	refused("GET /healthz\r\n\r\n", EBADMSG, "HTTP/0.9: no version");
	refused("GET\r\n\r\n", EBADMSG, "a method alone");
	refused("\r\nGET / HTTP/1.1\r\n\r\n", EBADMSG, "an empty request line");
	refused("GET\t/x HTTP/1.1\r\n\r\n", EBADMSG, "a tab is no separator");
	refused("GET  HTTP/1.1\r\n\r\n", EBADMSG, "no target");
	refused("GET / HTTP/2.0\r\n\r\n", EBADMSG, "HTTP/2.0");
	refused("GET / HTTP/1.x\r\n\r\n", EBADMSG, "HTTP/1.x");
	refused("GET / http/1.1\r\n\r\n", EBADMSG, "http/1.1 in lower case");
	refused("GET / HTTP/1.1 extra\r\n\r\n", EBADMSG, "a word after the version");
	refused("GET //a:b/ HTTP/1.1\r\n\r\n", EBADMSG, "//authority with a bad port");
	refused("GET http://[::1/ HTTP/1.1\r\n\r\n", EBADMSG, "a broken IPv6 literal");
	refused("FOO / HTTP/1.1\r\n\r\n", ENOSYS, "an unknown method");
	refused("get / HTTP/1.1\r\n\r\n", ENOSYS, "a method in lower case");
	refused("GET / HTTP/1.1\r\nNoColon\r\n\r\n", EBADMSG, "a header without a colon");
	refused("GET / HTTP/1.1\r\n folded\r\n\r\n", EBADMSG, "a fold before any header");
	refused("GET / HTTP/1.1\r\nX\rY: v\r\n\r\n", EBADMSG, "a CR in a name");
	refused("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", EBADMSG, "a bare CR in a value");
	refused("POST /f HTTP/1.1\r\nContent-Length: -5\r\n\r\n", EBADMSG,
		"a negative Content-Length");
	refused("POST /f HTTP/1.1\r\nContent-Length: abc\r\n\r\n", EBADMSG,
		"a Content-Length of letters");
	refused("POST /f HTTP/1.1\r\nContent-Length: \r\n\r\n", EBADMSG, "an empty Content-Length");
	refused("POST /f HTTP/1.1\r\nContent-Length: 0x2\r\n\r\n", EBADMSG, "a hex Content-Length");
	refused("POST /f HTTP/1.1\r\nContent-Length: 2\r\n 3\r\n\r\n", EBADMSG,
		"a Content-Length folded into '2 3'");
	refused("GET /f HTTP/1.1\r\nContent-Length: x\r\n\r\n", EBADMSG,
		"GET's Content-Length is checked too (evhttp 2.1.12 reads GET bodies)");
	refused("POST /f HTTP/1.1\r\nContent-Length: 1001\r\n\r\n", E2BIG, "a body over the limit");
	refused("POST /f HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", E2BIG,
		"a Content-Length past 64 bits");
	refused("POST /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n",
		EBADMSG, "Transfer-Encoding beside Content-Length");
	refused("POST /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"
		"\r\n",
		EBADMSG, "Transfer-Encoding twice");
	refused("POST /f HTTP/1.1\r\nExpect: fancy\r\nContent-Length: 2\r\n\r\n", ENOMSG,
		"Expect: fancy");
	refused("POST /f HTTP/1.1\r\nExpect: fancy\r\nTransfer-Encoding: chunked\r\n\r\n", ENOMSG,
		"Expect: fancy, chunked");
	refused("FOO / HTTP/1.1\r\nX: y\r\n\r\n", ENOSYS, "an unknown method, after its headers");

	/* The limit is evhttp's: lines without their ends. */
	memset(fill, 'a', MAX_HEAD);
	fill[MAX_HEAD] = '\0';
	snprintf(big, sizeof(big), "GET /%.*s HTTP/1.1\r\n\r\n", MAX_HEAD - 14, fill);
	passes(big, "a request line of exactly the head limit");
	snprintf(big, sizeof(big), "GET /%.*s HTTP/1.1\r\n\r\n", MAX_HEAD - 13, fill);
	refused(big, EMSGSIZE, "one byte more");
	snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: %.*s", MAX_HEAD, fill);
	refused(big, EMSGSIZE, "a header line not complete yet, over the limit");
	/* The body's length the connection layer reads ahead by. */
	passes("POST /f HTTP/1.1\nHost: x\nContent-Length: 12\n\n", "a POST of 12 bytes");
	ok(body_length == 12, "  its body_length is 12 (%llu)", body_length);
	passes("HEAD /f HTTP/1.1\nHost: x\nContent-Length: 12\n\n", "a HEAD with a Content-Length");
	ok(body_length == 0, "  has no body to read, as evhttp reads none (%llu)", body_length);
	passes("POST /f HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n", "a chunked POST");
	ok(body_length == 0, "  has no length known ahead (%llu)", body_length);
	return tap_done();
}
