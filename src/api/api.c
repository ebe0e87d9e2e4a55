/* api.c — see api.h: the HTTP server and its routing.
 *
 * One evhttp generic callback routes every request to a handler of
 * routes.h, which either replies (and returns 0) or returns a negative
 * status with *err set; on_request() turns that into the JSON error reply.
 *
 * Body limits: evhttp's own limit (evhttp_set_max_body_size) is the
 * largest any route takes, HTTP_BODY_MAX (bounds.h).  Above it libevent
 * 2.1.12 answers by itself, before any callback of ours runs: with
 * EVHTTP_SERVER_LINGERING_CLOSE it reads and discards the rest of the
 * body, then sends "413 Payload Too Large" (a small HTML page, then
 * Connection: close).  Without that flag it would close the connection
 * while the client is still sending, and the client would see a reset
 * instead of the 413.  libevent 2.1 has no hook to make that page JSON
 * (evhttp_set_errorcb arrived in 2.2).  Smaller per-route limits (an
 * invocation's INVOKE_PAYLOAD_MAX) are checked by the handlers and
 * answered with JSON.  Under evhttp, the connection layer (conns.h) sees
 * every connection first: TLS, the cap on connections, the deadlines for
 * sending a request, and JSON instead of evhttp's HTML for a malformed
 * one. */
#include "api.h"

#include <errno.h>
#include <stdbool.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/http.h>
#include <openssl/crypto.h>

#include "auth.h"
#include "bounds.h"
#include "http.h"
#include "log.h"
#include "routes.h"

/* ---- routing ----------------------------------------------------------- */

#define M_GET EVHTTP_REQ_GET
#define M_HEAD EVHTTP_REQ_HEAD
#define M_POST EVHTTP_REQ_POST
#define M_PUT EVHTTP_REQ_PUT
#define M_DELETE EVHTTP_REQ_DELETE

/* A path pattern is literal but for "{}", which matches one segment (an id
 * or a name) and is handed to the handler; a pattern with two holes hands
 * over both joined by '/' (a segment never holds one).  The first row whose pattern
 * and method match serves the request; a path that matches rows but none
 * of their methods is a 405 naming theirs. */
const struct api_route_row api_routes[] = {
	{ "/healthz", M_GET | M_HEAD, api_healthz },
	{ "/functions", M_GET, api_functions_list },
	{ "/functions", M_POST, api_functions_create },
	{ "/functions/", M_GET, api_functions_list },
	{ "/functions/", M_POST, api_functions_create },
	{ "/functions/execute", M_POST, api_execute_batch },
	{ "/functions/{}", M_GET, api_functions_get },
	{ "/functions/{}", M_PUT, api_functions_update },
	{ "/functions/{}", M_DELETE, api_functions_delete },
	{ "/functions/{}/execute", M_POST, api_execute },
	{ "/functions/{}/invocations", M_GET | M_HEAD, api_invocations_list },
	{ "/functions/{}/test-events", M_GET, api_test_events_get },
	{ "/functions/{}/test-events", M_PUT, api_test_events_put },
	{ "/functions/{}/bench", M_POST, api_bench },
	{ "/functions/{}/dead-letters", M_GET | M_HEAD, api_dead_letters_list },
	{ "/functions/{}/dead-letters/redrive", M_POST, api_dead_letters_redrive_all },
	{ "/functions/{}/dead-letters/{}/redrive", M_POST, api_dead_letter_redrive },
	{ "/invocations/{}", M_GET | M_HEAD, api_invocation_get },
	{ "/pool", M_GET | M_HEAD, api_pool },
	{ "/metrics", M_GET | M_HEAD, api_metrics },
	{ "/events", M_GET, api_events },
	/* The AWS Lambda API (lambda.c); ListFunctions is asked for with and
	 * without the trailing slash (botocore, the JavaScript SDK). */
	{ "/2015-03-31/functions", M_GET, api_lambda_list },
	{ "/2015-03-31/functions", M_POST, api_lambda_create },
	{ "/2015-03-31/functions/", M_GET, api_lambda_list },
	{ "/2015-03-31/functions/", M_POST, api_lambda_create },
	{ "/2015-03-31/functions/{}", M_GET, api_lambda_get },
	{ "/2015-03-31/functions/{}", M_DELETE, api_lambda_delete },
	{ "/2015-03-31/functions/{}/configuration", M_GET, api_lambda_get_configuration },
	{ "/2015-03-31/functions/{}/configuration", M_PUT, api_lambda_update_configuration },
	{ "/2015-03-31/functions/{}/code", M_PUT, api_lambda_update_code },
	{ "/2015-03-31/functions/{}/invocations", M_POST, api_lambda_invoke },
};
const size_t api_routes_n = sizeof(api_routes) / sizeof(api_routes[0]);

/* API paths, served or planned (function URLs at /fn, the Lambda API):
 * never looked up as files. */
static int is_reserved(const char *path)
{
	static const char *const prefixes[] = { "/functions", "/invocations", "/pool",
						"/metrics",   "/fn",	      "/2015-03-31",
						"/healthz",   "/events" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);

		if (strncmp(path, prefixes[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
			return 1;
	}
	return 0;
}

/* Whether a request to path needs the bearer token: every API endpoint
 * and the event stream, but not the dashboard's files, GET /healthz (a
 * probe; its details need the token), function URLs (their function's
 * route_auth, fnurl.c) or the Lambda API (SigV4, lambda.c). */
static bool needs_token(const char *path)
{
	static const char *const open_prefixes[] = { "/fn", "/2015-03-31", "/healthz" };

	if (!is_reserved(path))
		return false;
	for (size_t i = 0; i < sizeof(open_prefixes) / sizeof(open_prefixes[0]); i++) {
		size_t n = strlen(open_prefixes[i]);

		if (strncmp(path, open_prefixes[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
			return false;
	}
	return true;
}

/* Whether path matches pattern; the "{}" segments (still URL-encoded, as
 * ids and names never need encoding; the Lambda API decodes its ARNs) go
 * to arg, joined by '/', cut to its size. */
static bool matches(const char *pattern, const char *path, char *arg, size_t argsz)
{
	const char *hole;
	size_t pre, seg, used = 0;

	arg[0] = '\0';
	/* A pattern's only '{' is a hole's "{}". */
	while ((hole = strchr(pattern, '{')) != NULL) {
		pre = (size_t)(hole - pattern);
		if (strncmp(pattern, path, pre) != 0)
			return false;
		path += pre;
		seg = strcspn(path, "/");
		if (seg == 0)
			return false;
		/* An over-long segment cannot be an id or a name: cut, it is a
		 * 404. */
		if (used < argsz) {
			size_t need = (used ? 1 : 0) + seg, room = argsz - 1 - used;
			char *at = arg + used;

			if (used && room) {
				*at++ = '/';
				room--;
			}
			memcpy(at, path, seg < room ? seg : room);
			at[seg < room ? seg : room] = '\0';
			used += need;
		}
		path += seg;
		pattern = hole + 2;
	}
	return strcmp(pattern, path) == 0;
}

static void allow_list(unsigned methods, char *dst, size_t size)
{
	static const struct {
		unsigned m;
		const char *name;
	} names[] = {
		{ M_GET, "GET" }, { M_HEAD, "HEAD" },	  { M_POST, "POST" },
		{ M_PUT, "PUT" }, { M_DELETE, "DELETE" },
	};

	dst[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (methods & names[i].m)
			snprintf(dst + strlen(dst), size - strlen(dst), "%s%s", dst[0] ? ", " : "",
				 names[i].name);
}

/* Each pattern's length and where its first "{}" is: made once, on the
 * first request (the loop's thread routes every request). */
struct route_shape {
	size_t len, pre;
	bool templated;
};
static struct route_shape route_shapes[sizeof(api_routes) / sizeof(api_routes[0])];

static void route_shapes_init(void)
{
	static bool done;

	if (done)
		return;
	for (size_t i = 0; i < api_routes_n; i++) {
		const char *pat = api_routes[i].pattern, *hole = strchr(pat, '{');

		route_shapes[i].len = strlen(pat);
		route_shapes[i].pre = hole ? (size_t)(hole - pat) : route_shapes[i].len;
		route_shapes[i].templated = hole != NULL;
	}
	done = true;
}

void api_route_find(const char *path, unsigned m, struct api_route *out)
{
	unsigned seen = 0;
	size_t plen;

	memset(out, 0, sizeof(*out));
	/* Function URLs: every path below /fn is a function's. */
	if (strncmp(path, "/fn/", 4) == 0 || strcmp(path, "/fn") == 0) {
		if (m & (M_GET | M_HEAD | M_POST | M_PUT | M_DELETE | EVHTTP_REQ_PATCH |
			 EVHTTP_REQ_OPTIONS)) {
			out->kind = API_ROUTE_FNURL;
			out->arg = path[3] ? path + 3 : "/";
			return;
		}
		out->kind = API_ROUTE_NOT_ALLOWED;
		snprintf(out->allow, sizeof(out->allow),
			 "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
		return;
	}
	/* Literal patterns first: "/functions/execute" is not function
	 * "execute", whatever the method.  A pattern is walked only when its
	 * length (a literal one) or its text up to its first "{}" (a
	 * templated one) fits the path. */
	plen = strlen(path);
	route_shapes_init();
	for (int pass = 1; pass <= 2 && !seen; pass++) {
		for (size_t i = 0; i < api_routes_n; i++) {
			const struct route_shape *rs = &route_shapes[i];
			const char *pat = api_routes[i].pattern;
			bool hit = pass == 1 ? !rs->templated && rs->len == plen &&
						       memcmp(pat, path, plen) == 0
					     : rs->templated && plen > rs->pre &&
						       memcmp(pat, path, rs->pre) == 0 &&
						       matches(pat, path, out->argbuf,
							       sizeof(out->argbuf));

			if (!hit)
				continue;
			if (api_routes[i].methods & m) {
				out->kind = API_ROUTE_HANDLER;
				out->row = &api_routes[i];
				out->arg = pass == 2 ? out->argbuf : NULL;
				return;
			}
			seen |= api_routes[i].methods;
		}
	}
	if (!seen && is_reserved(path)) {
		out->kind = API_ROUTE_NOT_FOUND;
		return;
	}
	if (!seen) {
		if (m & (M_GET | M_HEAD)) {
			out->kind = API_ROUTE_WEBFILE;
			out->arg = path;
			return;
		}
		seen = M_GET | M_HEAD;
	}
	out->kind = API_ROUTE_NOT_ALLOWED;
	allow_list(seen, out->allow, sizeof(out->allow));
}

/* Under the Lambda API (lambda: api_lambda_path, a reserved prefix), what
 * no row serves is an operation Hearth does not serve, in Lambda's words. */
static int route(struct api *a, struct evhttp_request *req, const char *path, bool lambda,
		 struct hearth_error **err)
{
	struct api_route rt;

	api_route_find(path, (unsigned)evhttp_request_get_command(req), &rt);
	switch (rt.kind) {
	case API_ROUTE_HANDLER: return rt.row->fn(a, req, rt.arg, err);
	case API_ROUTE_FNURL: return api_fnurl(a, req, rt.arg, err);
	case API_ROUTE_WEBFILE: return api_webfile(a, req, rt.arg, err);
	case API_ROUTE_NOT_FOUND:
		if (lambda)
			return hearth_error_make(
				err, ENOTSUP,
				"Hearth does not serve this operation of the Lambda API: %s %s",
				http_method_name(evhttp_request_get_command(req)), path);
		return hearth_error_make(err, ENOENT, "no such endpoint: %s", path);
	case API_ROUTE_NOT_ALLOWED: break;
	}
	if (lambda) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", rt.allow);
		return hearth_error_make(err, ENOTSUP,
					 "Hearth does not serve this operation of the Lambda API: "
					 "%s %s (allowed: %s)",
					 http_method_name(evhttp_request_get_command(req)), path,
					 rt.allow);
	}
	http_reply_not_allowed(req, rt.allow);
	return 0;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct api *a = arg;
	_cleanup_error_ struct hearth_error *err = NULL;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	int r;

	bool lambda;

	conns_request(a->conns, req);
	http_begin(req);
	if (!path || !*path)
		path = "/";
	/* The Lambda API authenticates by SigV4 alone (never the bearer
	 * token: needs_token leaves it out), before anything else, and
	 * answers in Lambda's shapes. */
	lambda = api_lambda_path(path);
	if (lambda && api_lambda_refused(a, req))
		return;
	if (a->token && needs_token(path) && (r = auth_bearer(req, a->token, &err)) < 0) {
		http_reply_error(req, err);
		return;
	}
	r = route(a, req, path, lambda, &err);
	if (r < 0) {
		if (!err)
			hearth_error_make(&err, -r, "internal error (%d)", r);
		if (lambda)
			api_lambda_reply_error(req, err);
		else
			http_reply_error(req, err);
	}
}

/* ---- life cycle -------------------------------------------------------- */

int api_new(struct api **out, const struct api_deps *deps, struct hearth_error **err)
{
	struct api *a;
	int r;

	a = calloc(1, sizeof(*a));
	if (!a)
		return hearth_error_make(err, ENOMEM, "out of memory");
	a->base = deps->base;
	a->registry = deps->registry;
	a->store = deps->store;
	a->records = deps->records;
	a->metrics = deps->metrics;
	a->pool = deps->pool;
	a->invoker = deps->invoker;
	a->asyncq = deps->asyncq;
	a->events = deps->events;
	a->aws_region = deps->aws_region ? deps->aws_region : "us-east-1";
	a->aws_access_key_id = deps->aws_access_key_id;
	a->aws_secret_access_key = deps->aws_secret_access_key;
	if (deps->token && *deps->token && !(a->token = strdup(deps->token))) {
		api_free(a);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	if (deps->web_dir) {
		a->web_root = realpath(deps->web_dir, NULL);
		if (!a->web_root)
			log_warn("web dir %s: %s; the dashboard will not be served", deps->web_dir,
				 strerror(errno));
	}
	a->tls = deps->conns.tls != NULL;
	a->http = evhttp_new(a->base);
	if (!a->http) {
		api_free(a);
		return hearth_error_make(err, ENOMEM, "cannot create the HTTP server");
	}
	if ((r = conns_new(&a->conns, a->base, &deps->conns, err)) < 0) {
		api_free(a);
		return r;
	}
	conns_serve(a->conns, a->http);
	evhttp_set_max_body_size(a->http, HTTP_BODY_MAX);
	evhttp_set_max_headers_size(a->http, HTTP_HEADERS_MAX);
	evhttp_set_timeout(a->http, HTTP_IDLE_TIMEOUT_S);
	evhttp_set_flags(a->http, EVHTTP_SERVER_LINGERING_CLOSE);
	/* every method reaches route(), which answers 405 with Allow itself
	 * (evhttp would answer unknown ones with a bare 501) */
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
						    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
						    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_default_content_type(a->http, "application/json");
	evhttp_set_gencb(a->http, on_request, a);
	*out = a;
	return 0;
}

int api_listen(struct api *a, const char *host, int port, struct hearth_error **err)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char portstr[16], shown[300];
	int fd = -1, one = 1, rc, saved;

	char bare[256];
	size_t hl = strlen(host);

	/* "[::1]" as written in --listen [::1]:8080 */
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']' && hl - 2 < sizeof(bare)) {
		memcpy(bare, host + 1, hl - 2);
		bare[hl - 2] = '\0';
		host = bare;
	}
	snprintf(portstr, sizeof(portstr), "%d", port);
	snprintf(shown, sizeof(shown), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0)
		return hearth_error_make(err, EINVAL, "cannot listen on %s: %s", shown,
					 gai_strerror(rc));
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    res->ai_protocol);
	if (fd < 0) {
		saved = errno;
		freeaddrinfo(res);
		return hearth_error_errno(err, saved, "cannot listen on %s", shown);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Accepted sockets inherit it: without it, a reply that evhttp writes
	 * in two pieces (above 16 KB) waits for the client's delayed ACK. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, HTTP_LISTEN_BACKLOG) < 0) {
		saved = errno;
		freeaddrinfo(res);
		close(fd);
		if (saved == EADDRINUSE)
			return hearth_error_make(err, EADDRINUSE,
						 "cannot listen on %s: the port is already in use "
						 "(another hearthd, or another program?)",
						 shown);
		return hearth_error_errno(err, saved, "cannot listen on %s", shown);
	}
	freeaddrinfo(res);
	a->sock = evhttp_accept_socket_with_handle(a->http, fd);
	if (!a->sock) {
		close(fd);
		return hearth_error_make(err, EIO, "cannot listen on %s: evhttp refused the socket",
					 shown);
	}
	conns_listening(a->conns, evhttp_bound_socket_get_listener(a->sock));
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char h[NI_MAXHOST], p[NI_MAXSERV];

		/* The port as bound (--listen HOST:0 picks one). */
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
		    getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p, sizeof(p),
				NI_NUMERICHOST | NI_NUMERICSERV) == 0)
			log_info(strchr(h, ':') ? "http: listening on %s://[%s]:%s"
						: "http: listening on %s://%s:%s",
				 a->tls ? "https" : "http", h, p);
	}
	return 0;
}

void api_stop_accepting(struct api *a)
{
	if (a && a->sock) {
		conns_stop_accepting(a->conns);
		evhttp_del_accept_socket(a->http, a->sock);
		a->sock = NULL;
	}
}

int api_inflight(const struct api *a)
{
	(void)a;
	return http_inflight();
}

void api_free(struct api *a)
{
	if (!a)
		return;
	if (a->http)
		evhttp_free(a->http); /* closes every connection */
	conns_free(a->conns);
	free(a->web_root);
	if (a->token) {
		OPENSSL_cleanse(a->token, strlen(a->token));
		free(a->token);
	}
	free(a);
}
