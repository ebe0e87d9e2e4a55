/* api_route.c — fuzz harness: the HTTP API's path router
 * (api_route_find in src/api/api.c, the decision route() acts on): the
 * first byte picks the method, the rest, up to a NUL, is the URL's path as
 * evhttp hands it over.
 *
 * Beyond not crashing, the decision is the one a reference router written
 * here makes from the same table (api_routes) by splitting paths and
 * patterns at '/': function URLs first, literal rows before rows with
 * "{}", a "{}" standing for one non-empty segment, the first row whose
 * method matches, 405 with the methods of the rows that matched the path
 * otherwise; the handler's argument is the "{}" segments joined by '/'
 * and cut to 255 bytes; an API path (docs/ARCHITECTURE.md's families) is
 * never looked up as a file, and a 404 only ever answers one. */
#include <stdbool.h>
#include <string.h>

#include <event2/http.h>

#include "fuzz.h"
#include "routes.h"

static const unsigned methods[] = {
	EVHTTP_REQ_GET,	  EVHTTP_REQ_POST,    EVHTTP_REQ_HEAD,
	EVHTTP_REQ_PUT,	  EVHTTP_REQ_DELETE,  EVHTTP_REQ_OPTIONS,
	EVHTTP_REQ_TRACE, EVHTTP_REQ_CONNECT, EVHTTP_REQ_PATCH,
};

/* The API's families, from the contract. */
static bool api_path(const char *path)
{
	static const char *const families[] = { "/functions", "/invocations", "/pool",
						"/metrics",   "/fn",	      "/2015-03-31",
						"/healthz",   "/events" };

	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		size_t n = strlen(families[i]);

		if (!strncmp(path, families[i], n) && (path[n] == '\0' || path[n] == '/'))
			return true;
	}
	return false;
}

/* Segment by segment: as many segments, literal ones equal, "{}" any
 * non-empty one; the holes' segments joined by '/' into arg. */
static bool ref_match(const char *pattern, const char *path, char *arg, size_t argsz)
{
	char joined[8192] = "";
	size_t used = 0;

	for (;;) {
		size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");

		if (pl == 2 && !strncmp(pattern, "{}", 2)) {
			if (sl == 0)
				return false;
			used += (size_t)snprintf(joined + used, sizeof(joined) - used, "%s%.*s",
						 used ? "/" : "", (int)sl, path);
			FUZZ_CHECK(used < sizeof(joined), "reference out of room");
		} else if (pl != sl || strncmp(pattern, path, pl)) {
			return false;
		}
		if (!pattern[pl] || !path[sl]) {
			if (pattern[pl] || path[sl])
				return false;
			break;
		}
		pattern += pl + 1;
		path += sl + 1;
	}
	snprintf(arg, argsz, "%s", joined);
	return true;
}

static void ref_allow(unsigned seen, char *dst, size_t size)
{
	static const struct {
		unsigned m;
		const char *name;
	} names[] = { { EVHTTP_REQ_GET, "GET" },
		      { EVHTTP_REQ_HEAD, "HEAD" },
		      { EVHTTP_REQ_POST, "POST" },
		      { EVHTTP_REQ_PUT, "PUT" },
		      { EVHTTP_REQ_DELETE, "DELETE" } };

	dst[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (seen & names[i].m)
			snprintf(dst + strlen(dst), size - strlen(dst), "%s%s", dst[0] ? ", " : "",
				 names[i].name);
}

static void ref_route(const char *path, unsigned m, struct api_route *out)
{
	unsigned seen = 0;

	memset(out, 0, sizeof(*out));
	if (!strcmp(path, "/fn") || !strncmp(path, "/fn/", 4)) {
		if (m & (EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT)) {
			out->kind = API_ROUTE_NOT_ALLOWED;
			snprintf(out->allow, sizeof(out->allow),
				 "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
		} else {
			out->kind = API_ROUTE_FNURL;
			out->arg = path[3] ? path + 3 : "/";
		}
		return;
	}
	for (int templated = 0; templated < 2 && !seen; templated++) {
		for (size_t i = 0; i < api_routes_n; i++) {
			const struct api_route_row *row = &api_routes[i];

			if ((strstr(row->pattern, "{}") != NULL) != templated ||
			    !ref_match(row->pattern, path, out->argbuf, sizeof(out->argbuf)))
				continue;
			if (row->methods & m) {
				out->kind = API_ROUTE_HANDLER;
				out->row = row;
				out->arg = templated ? out->argbuf : NULL;
				return;
			}
			seen |= row->methods;
		}
	}
	if (!seen && api_path(path)) {
		out->kind = API_ROUTE_NOT_FOUND;
	} else if (!seen && (m & (EVHTTP_REQ_GET | EVHTTP_REQ_HEAD))) {
		out->kind = API_ROUTE_WEBFILE;
		out->arg = path;
	} else {
		out->kind = API_ROUTE_NOT_ALLOWED;
		ref_allow(seen ? seen : EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, out->allow,
			  sizeof(out->allow));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_route got, want;
	unsigned m;
	char *path;

	if (size == 0)
		return 0;
	m = methods[data[0] % (sizeof(methods) / sizeof(methods[0]))];
	path = strndup((const char *)data + 1, size - 1);
	FUZZ_CHECK(path != NULL, "out of memory");

	api_route_find(path, m, &got);
	ref_route(path, m, &want);
	FUZZ_CHECK(got.kind == want.kind, "%s: kind %d, want %d", path, got.kind, want.kind);
	switch (got.kind) {
	case API_ROUTE_HANDLER:
		FUZZ_CHECK(got.row == want.row, "%s: row '%s', want '%s'", path, got.row->pattern,
			   want.row->pattern);
		FUZZ_CHECK((got.arg == NULL) == (want.arg == NULL) &&
				   (!got.arg || !strcmp(got.arg, want.arg)),
			   "%s: arg '%s', want '%s'", path, got.arg ? got.arg : "(null)",
			   want.arg ? want.arg : "(null)");
		FUZZ_CHECK(got.row->methods & m, "%s: a row of other methods", path);
		break;
	case API_ROUTE_FNURL:
	case API_ROUTE_WEBFILE:
		FUZZ_CHECK(got.arg && !strcmp(got.arg, want.arg), "%s: arg '%s', want '%s'", path,
			   got.arg ? got.arg : "(null)", want.arg);
		FUZZ_CHECK(got.kind == API_ROUTE_FNURL || !api_path(path),
			   "%s: an API path looked up as a file", path);
		break;
	case API_ROUTE_NOT_FOUND:
		FUZZ_CHECK(api_path(path), "%s: a 404 for no API path", path);
		break;
	case API_ROUTE_NOT_ALLOWED:
		FUZZ_CHECK(!strcmp(got.allow, want.allow) && got.allow[0],
			   "%s: Allow '%s', want '%s'", path, got.allow, want.allow);
		break;
	}
	free(path);
	return 0;
}
