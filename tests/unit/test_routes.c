/* test_routes.c — the API's route table (api_route_find, src/api/api.c):
 * literal paths before templated ones, the "{}" segments into arg, 404
 * for an API path that does not exist, 405 with Allow for one that does
 * without the method, the dashboard's files and function URLs.  The API
 * suites (tests/api/) send the same paths to a real hearthd. */
#include <string.h>

#include "routes.h"
#include "tap.h"

#define GET EVHTTP_REQ_GET
#define POST EVHTTP_REQ_POST
#define PUT EVHTTP_REQ_PUT
#define DELETE EVHTTP_REQ_DELETE
#define HEAD EVHTTP_REQ_HEAD

static struct api_route r;

/* A handler's route: its pattern and its arg (NULL: none). */
static void handler(const char *path, unsigned m, const char *pattern, const char *arg)
{
	api_route_find(path, m, &r);
	ok(r.kind == API_ROUTE_HANDLER && r.row && strcmp(r.row->pattern, pattern) == 0,
	   "%s: pattern %s", path, pattern);
	if (arg)
		is_str(r.arg ? r.arg : "(null)", arg, "%s: arg", path);
	else
		ok(r.arg == NULL, "%s: no arg (got %s)", path, r.arg ? r.arg : "");
}

static void kind(const char *path, unsigned m, enum api_route_kind k, const char *what)
{
	api_route_find(path, m, &r);
	is_int(r.kind, k, "%s: %s", path, what);
}

int main(void)
{
	handler("/healthz", GET, "/healthz", NULL);
	handler("/functions", POST, "/functions", NULL);
	handler("/functions/", GET, "/functions/", NULL);
	/* a literal before a templated pattern of the same shape */
	handler("/functions/execute", POST, "/functions/execute", NULL);
	handler("/functions/42/execute", POST, "/functions/{}/execute", "42");
	handler("/functions/noop", GET, "/functions/{}", "noop");
	handler("/functions/noop", DELETE, "/functions/{}", "noop");
	handler("/functions/7/dead-letters/ab-cd/redrive", POST,
		"/functions/{}/dead-letters/{}/redrive", "7/ab-cd");
	handler("/2015-03-31/functions/my%3Afn/invocations", POST,
		"/2015-03-31/functions/{}/invocations", "my%3Afn");
	handler("/invocations/x-1", HEAD, "/invocations/{}", "x-1");

	/* "/functions/execute" is the batch, so GET of it is a 405, not
	 * function "execute" */
	kind("/functions/execute", GET, API_ROUTE_NOT_ALLOWED, "405: a literal path's method");
	is_str(r.allow, "POST", "/functions/execute: Allow");
	kind("/functions/3", POST, API_ROUTE_NOT_ALLOWED, "405");
	is_str(r.allow, "GET, PUT, DELETE", "/functions/3: Allow");
	kind("/functions/3/execute", GET, API_ROUTE_NOT_ALLOWED, "405");
	/* an empty segment is no id; a prefix or a longer path is no match */
	kind("/functions//execute", POST, API_ROUTE_NOT_FOUND, "404: an empty {} segment");
	kind("/functions/3/execute/more", POST, API_ROUTE_NOT_FOUND, "404: longer than a pattern");
	kind("/functions/3/exec", POST, API_ROUTE_NOT_FOUND, "404: a prefix of a pattern");
	kind("/healthzz", GET, API_ROUTE_WEBFILE, "not reserved: a dashboard file");
	kind("/metrics", POST, API_ROUTE_NOT_ALLOWED, "405");
	kind("/pool/x", GET, API_ROUTE_NOT_FOUND, "404 under a reserved prefix");
	kind("/index.html", GET, API_ROUTE_WEBFILE, "the dashboard");
	kind("/index.html", POST, API_ROUTE_NOT_ALLOWED,
	     "405: the dashboard's files are read only");
	kind("/fn/hello/world", POST, API_ROUTE_FNURL, "a function URL");
	is_str(r.arg, "/hello/world", "/fn/hello/world: arg");
	kind("/fn", GET, API_ROUTE_FNURL, "a function URL's root");
	is_str(r.arg, "/", "/fn: arg");

	/* a segment longer than argbuf is cut, not overflowed */
	{
		char path[600];

		memcpy(path, "/functions/", 11);
		memset(path + 11, 'a', 400);
		strcpy(path + 411, "/execute");
		api_route_find(path, POST, &r);
		ok(r.kind == API_ROUTE_HANDLER && r.arg && strlen(r.arg) == sizeof(r.argbuf) - 1,
		   "an over-long segment: cut to argbuf (%zu)", r.arg ? strlen(r.arg) : 0);
	}
	return tap_done();
}
