/* fnurl.c — function URLs: any method on /fn/ROUTE and every path below
 * it calls the function whose `route` is the longest prefix, the way a
 * Lambda function URL does: the request becomes an event of payload
 * format 2.0, and the function's {statusCode, headers, cookies, body,
 * isBase64Encoded} (or any other value, as a JSON 200) becomes the reply.
 * A handler error is a 502 and a timeout a 504, with no stack trace sent
 * out (the invocation record keeps it).  See routes.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "auth.h"
#include "b64.h"
#include "bounds.h"
#include "function.h"
#include "http.h"
#include "invoke.h"
#include "jsontext.h"
#include "log.h"
#include "pool.h"
#include "registry.h"
#include "routes.h"
#include "util.h"

#define FNURL_WATCH_AFTER_MS 50

struct fnurl_call {
	struct evhttp_request *req;
	struct invoke_call *call;
	struct http_watch *watch;
	char *event; /* the payload, alive until the call ends */
};

static void fnurl_free(struct fnurl_call *fc)
{
	free(fc->event);
	free(fc);
}

/* ---- the request as an event ----------------------------------------------------- */

/* Adds v to o[key], joining a repeated key's values with commas (as a
 * function URL's headers and query parameters do). */
static void add_joined(json_object *o, const char *key, const char *v)
{
	json_object *old;
	char *both;

	if (!json_object_object_get_ex(o, key, &old)) {
		json_object_object_add(o, key, json_object_new_string(v));
		return;
	}
	if (asprintf(&both, "%s,%s", json_object_get_string(old), v) < 0)
		return;
	json_object_object_add(o, key, json_object_new_string(both));
	free(both);
}

/* "a=1&b=2&a=3": {"a":"1,3","b":"2"}, decoded; NULL when there is none. */
static json_object *query_params(const char *q)
{
	json_object *o;

	if (!q || !*q)
		return NULL;
	o = json_object_new_object();
	while (*q) {
		size_t n = strcspn(q, "&"), klen = strcspn(q, "=");
		_cleanup_free_ char *rk = NULL, *rv = NULL;
		char *k = NULL, *v = NULL;

		if (klen > n)
			klen = n;
		rk = strndup(q, klen);
		rv = klen < n ? strndup(q + klen + 1, n - klen - 1) : strdup("");
		if (rk && rv) {
			k = evhttp_uridecode(rk, 1, NULL);
			v = evhttp_uridecode(rv, 1, NULL);
		}
		if (k && v && *k)
			add_joined(o, k, v);
		free(k);
		free(v);
		q += n;
		if (*q == '&')
			q++;
	}
	return o;
}

/* Text goes as it is, anything else in base64: UTF-8 that is valid and
 * holds no NUL. */
static bool is_text(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n = p[i] < 0x80	  ? 1
			   : p[i] >= 0xf0 ? 4
			   : p[i] >= 0xe0 ? 3
			   : p[i] >= 0xc2 ? 2
					  : 0;

		if (n == 0 || p[i] == 0 || p[i] > 0xf4 || i + n > len)
			return false;
		for (size_t k = 1; k < n; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
		i += n;
	}
	return true;
}

static const char *peer_ip(struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	char *addr = NULL;
	ev_uint16_t port;

	if (conn)
		evhttp_connection_get_peer(conn, &addr, &port);
	return addr ? addr : "";
}

/* Payload format 2.0 (API Gateway HTTP APIs and function URLs). */
static int build_event(struct api *a, struct evhttp_request *req, const char *path,
		       const struct fn *f, const char *request_id, char **out,
		       struct hearth_error **err)
{
	_cleanup_json_ json_object *ev = json_object_new_object();
	json_object *headers = json_object_new_object(), *cookies = json_object_new_array();
	json_object *ctx = json_object_new_object(), *http = json_object_new_object(), *q;
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t blen = evbuffer_get_length(in);
	const unsigned char *body = blen ? evbuffer_pullup(in, -1) : (const unsigned char *)"";
	const char *ua = "", *host = "";
	struct evkeyval *h;
	int64_t now = util_now_ms();
	char when[64];
	time_t sec = (time_t)(now / 1000);
	struct tm tm;
	const char *text;

	if (blen > INVOKE_PAYLOAD_MAX)
		return hearth_error_make(err, E2BIG,
					 "body: %zu bytes, over the %u-byte limit of a call", blen,
					 INVOKE_PAYLOAD_MAX);
	TAILQ_FOREACH(h, evhttp_request_get_input_headers(req), next) {
		char name[256];
		size_t i;

		for (i = 0; h->key[i] && i < sizeof(name) - 1; i++)
			name[i] = (char)tolower((unsigned char)h->key[i]);
		name[i] = '\0';
		if (strcmp(name, "cookie") == 0) {
			/* cookies get their own member, one per cookie */
			for (const char *c = h->value; *c;) {
				size_t n = strcspn(c, ";");

				while (*c == ' ')
					c++, n--;
				if (n > 0)
					json_object_array_add(cookies,
							      json_object_new_string_len(c,
											 (int)n));
				c += n;
				if (*c == ';')
					c++;
			}
			continue;
		}
		/* hearthd's own token is never handed to function code */
		if (strcmp(name, "authorization") == 0 && a->token && auth_bearer_ok(req, a->token))
			continue;
		if (strcmp(name, "user-agent") == 0)
			ua = h->value;
		if (strcmp(name, "host") == 0)
			host = h->value;
		add_joined(headers, name, h->value);
	}
	gmtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S +0000", &tm);
	json_object_object_add(ev, "version", json_object_new_string("2.0"));
	json_object_object_add(ev, "routeKey", json_object_new_string("$default"));
	json_object_object_add(ev, "rawPath", json_object_new_string(path));
	json_object_object_add(ev, "rawQueryString", json_object_new_string(query ? query : ""));
	if (json_object_array_length(cookies))
		json_object_object_add(ev, "cookies", cookies);
	else
		json_object_put(cookies);
	json_object_object_add(ev, "headers", headers);
	if ((q = query_params(query)) != NULL)
		json_object_object_add(ev, "queryStringParameters", q);
	json_object_object_add(
		http, "method",
		json_object_new_string(http_method_name(evhttp_request_get_command(req))));
	json_object_object_add(http, "path", json_object_new_string(path));
	json_object_object_add(http, "protocol", json_object_new_string("HTTP/1.1"));
	json_object_object_add(http, "sourceIp", json_object_new_string(peer_ip(req)));
	json_object_object_add(http, "userAgent", json_object_new_string(ua));
	json_object_object_add(ctx, "accountId", json_object_new_string("anonymous"));
	json_object_object_add(ctx, "apiId", json_object_new_string(f->name));
	json_object_object_add(ctx, "domainName", json_object_new_string(host));
	json_object_object_add(ctx, "domainPrefix", json_object_new_string(f->name));
	json_object_object_add(ctx, "http", http);
	json_object_object_add(ctx, "requestId", json_object_new_string(request_id));
	json_object_object_add(ctx, "routeKey", json_object_new_string("$default"));
	json_object_object_add(ctx, "stage", json_object_new_string("$default"));
	json_object_object_add(ctx, "time", json_object_new_string(when));
	json_object_object_add(ctx, "timeEpoch", json_object_new_int64(now));
	json_object_object_add(ev, "requestContext", ctx);
	if (blen && is_text(body, blen)) {
		json_object_object_add(ev, "body",
				       json_object_new_string_len((const char *)body, (int)blen));
		json_object_object_add(ev, "isBase64Encoded", json_object_new_boolean(0));
	} else if (blen) {
		_cleanup_free_ char *b64 = NULL;
		int r = b64_encode(body, blen, &b64, NULL, err);

		if (r < 0)
			return r;
		json_object_object_add(ev, "body", json_object_new_string(b64));
		json_object_object_add(ev, "isBase64Encoded", json_object_new_boolean(1));
	} else {
		json_object_object_add(ev, "isBase64Encoded", json_object_new_boolean(0));
	}
	text = json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	if (strlen(text) > INVOKE_PAYLOAD_MAX)
		return hearth_error_make(err, E2BIG,
					 "the request is over the %u-byte limit of a call",
					 INVOKE_PAYLOAD_MAX);
	*out = strdup(text);
	return *out ? 0 : hearth_error_make(err, ENOMEM, "out of memory");
}

/* ---- the function's answer as the reply --------------------------------------------- */

/* A header a function may set: a token for a name, no CR/LF in the value,
 * and none of those the connection owns. */
static bool header_ok(const char *name, const char *value)
{
	static const char *const owned[] = { "content-length", "transfer-encoding", "connection",
					     "keep-alive", "upgrade" };

	if (!*name || strpbrk(value, "\r\n"))
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p))
			return false;
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		if (strcasecmp(name, owned[i]) == 0)
			return false;
	return true;
}

/* A plain message for the client when the function did not answer as it
 * should; the details stay in the invocation record. */
static void reply_gateway(struct evhttp_request *req, int code, const char *msg)
{
	char body[160];

	snprintf(body, sizeof(body), "{\"message\":\"%s\"}", msg);
	http_reply_bytes(req, code, "application/json", body, strlen(body));
}

static void reply_structured(struct evhttp_request *req, json_object *r)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	json_object *v, *body = NULL;
	_cleanup_free_ unsigned char *bin = NULL;
	const char *text = "";
	size_t len = 0;
	bool have_type = false;
	int64_t code;

	json_object_object_get_ex(r, "statusCode", &v);
	code = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || code < 100 || code > 599) {
		reply_gateway(req, 502, "the function's statusCode is not an HTTP status");
		return;
	}
	/* The body first: a reply that fails here carries none of the
	 * function's headers. */
	if (json_object_object_get_ex(r, "body", &body) && body) {
		text = json_object_is_type(body, json_type_string)
			       ? json_object_get_string(body)
			       : json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
		len = json_object_is_type(body, json_type_string)
			      ? (size_t)json_object_get_string_len(body)
			      : strlen(text);
	}
	if (json_object_object_get_ex(r, "isBase64Encoded", &v) && json_object_get_boolean(v)) {
		if (b64_decode(text, len, "body", &bin, &len, NULL) < 0) {
			reply_gateway(req, 502, "the function's body is not valid base64");
			return;
		}
		text = (const char *)bin;
	}
	if (json_object_object_get_ex(r, "headers", &v) &&
	    json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, name, val) {
			const char *s = json_object_get_string(val);

			if (!json_object_is_type(val, json_type_object) &&
			    !json_object_is_type(val, json_type_array) && s && header_ok(name, s)) {
				evhttp_add_header(out, name, s);
				have_type |= strcasecmp(name, "content-type") == 0;
			}
		}
	}
	if (json_object_object_get_ex(r, "cookies", &v) && json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			const char *c = json_object_get_string(json_object_array_get_idx(v, i));

			if (c && header_ok("Set-Cookie", c))
				evhttp_add_header(out, "Set-Cookie", c);
		}
	if (!have_type)
		evhttp_add_header(out, "Content-Type", "application/json");
	http_reply_bytes(req, (int)code, NULL, text, len);
}

static void on_fnurl_done(void *arg, const struct pool_result *res, const struct hearth_error *err)
{
	struct fnurl_call *fc = arg;
	_cleanup_json_ json_object *r = NULL;
	json_object *code;

	http_watch_stop(fc->watch);
	if (!res) {
		if (err->status == EAGAIN)
			evhttp_add_header(evhttp_request_get_output_headers(fc->req), "Retry-After",
					  "1");
		http_reply_error_status(fc->req, err->status == ENXIO ? EHOSTDOWN : err->status,
					err->msg);
		fnurl_free(fc);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(fc->req), "X-Hearth-Invocation-Id",
			  res->request_id);
	if (res->status == INVOCATION_TIMEOUT) {
		reply_gateway(fc->req, 504, "Endpoint request timed out");
	} else if (res->status != INVOCATION_SUCCESS) {
		reply_gateway(fc->req, 502, "Internal Server Error");
	} else if (res->result.ptr &&
		   jsontext_parse(res->result.ptr, res->result.len, 0, "result", &r, NULL) == 0 &&
		   r && json_object_is_type(r, json_type_object) &&
		   json_object_object_get_ex(r, "statusCode", &code)) {
		reply_structured(fc->req, r);
	} else {
		/* Any other value is the body of a JSON 200. */
		http_reply_bytes(fc->req, 200, "application/json", res->result.ptr,
				 res->result.len);
	}
	fnurl_free(fc);
}

static void on_client_gone(void *arg)
{
	struct fnurl_call *fc = arg;

	invoke_abandon(fc->call);
	fnurl_free(fc);
}

int api_fnurl(struct api *a, struct evhttp_request *req, const char *path,
	      struct hearth_error **err)
{
	const struct fn *f;
	char rid[INVOKE_ID_LEN];
	struct fnurl_call *fc;
	size_t route_len;
	int64_t id;
	int r;

	if (!registry_route_match(a->registry, path, &id, &route_len) ||
	    !(f = pool_function_spec(a->pool, id)))
		return hearth_error_make(err, ENOENT, "no function has a route for %s", path);
	/* route_auth, as Lambda's AuthType: "none" is public, "token" needs
	 * the bearer token, and unset means "token" whenever hearthd has one.
	 * Without a token everything is as open as the API itself. */
	if (a->token && !(f->route_auth && strcmp(f->route_auth, "none") == 0) &&
	    (r = auth_bearer(req, a->token, err)) < 0)
		return r;
	fc = calloc(1, sizeof(*fc));
	if (!fc)
		return hearth_error_make(err, ENOMEM, "out of memory");
	fc->req = req;
	invoke_new_id(a->invoker, rid);
	if ((r = build_event(a, req, path, f, rid, &fc->event, err)) < 0 ||
	    (r = invoke_start_as(a->invoker, rid, id, fc->event, strlen(fc->event), on_fnurl_done,
				 fc, &fc->call, err)) < 0) {
		fnurl_free(fc);
		return r;
	}
	fc->watch = http_watch_new(req, a->conns, a->base, FNURL_WATCH_AFTER_MS, on_client_gone,
				   fc);
	return 0;
}
