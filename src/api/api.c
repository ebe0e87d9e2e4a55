/* api.c — see api.h.
 *
 * One evhttp generic callback routes every request.  A route handler
 * either replies (and returns 0) or returns a negative status with *err
 * set, and on_request() turns that into the JSON error reply: so every
 * request ends in exactly one reply, and the status mapping stays in
 * http_status_of()/http_code_of() (http.c).
 *
 * Body limits: evhttp's own limit (evhttp_set_max_body_size) is the
 * largest any route takes, HTTP_BODY_MAX.  Above it libevent 2.1.12
 * answers by itself, before any callback of ours runs: with
 * EVHTTP_SERVER_LINGERING_CLOSE it reads and discards the rest of the
 * body, then sends "413 Payload Too Large" (a small HTML page, then
 * Connection: close).  Without that flag it would close the connection
 * while the client is still sending, and the client would see a reset
 * instead of the 413.  libevent 2.1 has no hook to make that page JSON
 * (evhttp_set_errorcb arrived in 2.2).  Smaller per-route limits (the
 * 6 MiB invocation payload) are checked here and answered with JSON. */
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <json-c/json.h>

#include "bounds.h"
#include "buf.h"
#include "codestore.h"
#include "exec.h"
#include "function.h"
#include "http.h"
#include "log.h"
#include "pool.h"
#include "store.h"
#include "util.h"


struct api {
	struct event_base *base;
	struct store *store;
	struct codestore *codes;
	struct pool *pool;
	struct exec *exec;
	char *web_root;		/* realpath of web_dir, or NULL when it is missing */
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
};

/* ---- /functions ------------------------------------------------------- */

static int load_fn(struct api *a, const char *idstr, struct fn **out, struct hearth_error **err)
{
	int64_t id;
	int r;

	if ((r = fn_parse_id(idstr, &id, err)) < 0)
		return r;
	if ((r = store_function_get(a->store, id, out, err)) < 0)
		return r;
	return 0;
}

/* Drops a code folder this request stored, unless a function uses it
 * (the same code can belong to several functions). */
static void drop_code(struct api *a, const char *sha)
{
	_cleanup_error_ struct hearth_error *e = NULL;
	int r = store_code_in_use(a->store, sha, &e);

	if (r == 0)
		r = codestore_remove(a->codes, sha, &e);
	if (r < 0)
		log_warn("code %s left in the code store: %s", sha, e ? e->msg : "?");
}

static int put_code(struct api *a, const struct fn *f, const struct fn_upload *up, char sha[65],
		    char **path, struct hearth_error **err)
{
	char name[FN_FILE_MAX];
	int r;

	if (up->kind == FN_CODE_FILE) {
		if ((r = fn_source_filename(f, name, err)) < 0)
			return r;
		if ((r = codestore_put_file(a->codes, name, up->data, up->len, sha, path, err)) < 0)
			return hearth_error_wrap(err, "code");
		return 0;
	}
	if ((r = codestore_put_zip(a->codes, up->data, up->len, sha, path, err)) < 0)
		return hearth_error_wrap(err, "zip");
	return 0;
}

/* The handler's module must be in the code folder: a function that can
 * never start is refused now rather than at its first invocation. */
static int check_handler_file(struct api *a, const struct fn *f, const char *sha,
			      enum fn_code_kind kind, struct hearth_error **err)
{
	char files[3][FN_FILE_MAX];
	char list[3 * FN_FILE_MAX + 16] = "";
	int n = fn_handler_files(f, files);

	for (int i = 0; i < n; i++) {
		if (codestore_has_file(a->codes, sha, files[i]) == 1)
			return 0;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 i ? (i == n - 1 ? " or " : ", ") : "", files[i]);
	}
	if (kind == FN_CODE_ZIP)
		return hearth_error_make(err, EINVAL,
					 "zip: the archive has no %s for handler '%s'", list,
					 f->handler);
	return hearth_error_make(err, EINVAL,
				 "handler: the function's code has no %s for handler '%s' "
				 "(%s); send 'code' or 'zip' with it", list, f->handler,
				 f->language);
}

static void reply_fn(struct api *a, struct evhttp_request *req, int code, const struct fn *f)
{
	_cleanup_json_ json_object *o = fn_to_json(f);

	http_reply_json(req, code, o);
}

static int functions_list(struct api *a, struct evhttp_request *req, struct hearth_error **err)
{
	_cleanup_json_ json_object *arr = NULL;
	struct fn **list = NULL;
	size_t n = 0;
	int r;

	if ((r = store_function_list(a->store, &list, &n, err)) < 0)
		return r;
	arr = json_object_new_array();
	for (size_t i = 0; arr && i < n; i++)
		json_object_array_add(arr, fn_to_json(list[i]));
	store_function_list_free(list, n);
	if (!arr)
		return hearth_error_make(err, ENOMEM, "out of memory");
	http_reply_json(req, 200, arr);
	return 0;
}

static int functions_create(struct api *a, struct evhttp_request *req, struct hearth_error **err)
{
	_cleanup_json_ json_object *body = NULL;
	_cleanup_fn_ struct fn *f = NULL;
	_cleanup_upload_ struct fn_upload up = { 0 };
	_cleanup_free_ char *path = NULL;
	char sha[65], loc[48];
	enum fn_code_kind kind;
	const char *data;
	size_t len;
	int64_t now;
	int r;

	if ((r = http_body(req, HTTP_BODY_MAX, &data, &len, err)) < 0 ||
	    (r = fn_parse_body(data, len, &body, err)) < 0 ||
	    (r = fn_from_create_json(body, &f, &up, err)) < 0)
		return r;
	json_object_put(body);	/* the zip's base64 can be 70 MB: free it early */
	body = NULL;
	evbuffer_drain(evhttp_request_get_input_buffer(req), len);
	/* Code first: if the row cannot be written, the folder goes again,
	 * so a failed create leaves nothing behind. */
	kind = up.kind;
	if ((r = put_code(a, f, &up, sha, &path, err)) < 0)
		return r;
	fn_upload_release(&up);
	if ((r = check_handler_file(a, f, sha, kind, err)) < 0)
		goto fail;
	memcpy(f->code_sha256, sha, sizeof(f->code_sha256));
	f->code_path = path;
	path = NULL;
	now = util_now_ms();
	f->created_at = f->updated_at = now;
	f->revision = 1;
	if ((r = store_function_create(a->store, f, err)) < 0)
		goto fail;
	log_info("function %lld '%s' created (%s, code %.12s)", (long long)f->id, f->name,
		 f->language, f->code_sha256);
	if (a->pool)
		pool_function_changed(a->pool, f);
	snprintf(loc, sizeof(loc), "/functions/%lld", (long long)f->id);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
	reply_fn(a, req, 201, f);
	return 0;
fail:
	drop_code(a, sha);
	return r;
}

static int functions_get(struct api *a, struct evhttp_request *req, const char *idstr,
			 struct hearth_error **err)
{
	_cleanup_fn_ struct fn *f = NULL;
	_cleanup_json_ json_object *o = NULL;
	struct evkeyvalq q;
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	const char *want;
	int with_code = 0, r;

	if ((r = load_fn(a, idstr, &f, err)) < 0)
		return r;
	TAILQ_INIT(&q);
	if (query && evhttp_parse_query_str(query, &q) == 0) {
		want = evhttp_find_header(&q, "code");
		with_code = want && (strcmp(want, "1") == 0 || strcmp(want, "true") == 0);
	}
	evhttp_clear_headers(&q);
	o = fn_to_json(f);
	if (!o)
		return hearth_error_make(err, ENOMEM, "out of memory");
	if (with_code) {
		_cleanup_buf_ struct buf src = BUF_INIT(FN_CODE_MAX_BYTES);
		char files[3][FN_FILE_MAX];
		int n = fn_handler_files(f, files);
		json_object *code = NULL;

		for (int i = 0; i < n && !code; i++) {
			_cleanup_error_ struct hearth_error *e = NULL;

			if (codestore_has_file(a->codes, f->code_sha256, files[i]) != 1)
				continue;
			if (codestore_read_file(a->codes, f->code_sha256, files[i], &src, &e) < 0) {
				log_warn("function %lld: cannot read %s: %s", (long long)f->id,
					 files[i], e->msg);
				break;
			}
			code = json_object_new_string_len(src.ptr, (int)src.len);
			json_object_object_add(o, "code_file", json_object_new_string(files[i]));
		}
		json_object_object_add(o, "code", code);
	}
	http_reply_json(req, 200, o);
	return 0;
}

static int functions_update(struct api *a, struct evhttp_request *req, const char *idstr,
			    struct hearth_error **err)
{
	_cleanup_json_ json_object *body = NULL;
	_cleanup_fn_ struct fn *cur = NULL;
	_cleanup_fn_ struct fn *nf = NULL;
	_cleanup_upload_ struct fn_upload up = { 0 };
	_cleanup_free_ char *path = NULL;
	enum fn_code_kind kind;
	char sha[65];
	const char *data;
	size_t len;
	int new_code = 0, r;

	if ((r = load_fn(a, idstr, &cur, err)) < 0)
		return r;
	if ((r = http_body(req, HTTP_BODY_MAX, &data, &len, err)) < 0 ||
	    (r = fn_parse_body(data, len, &body, err)) < 0 ||
	    (r = fn_apply_update_json(cur, body, &nf, &up, err)) < 0)
		return r;
	json_object_put(body);
	body = NULL;
	evbuffer_drain(evhttp_request_get_input_buffer(req), len);
	kind = up.kind;
	memcpy(sha, cur->code_sha256, sizeof(sha));
	if (kind != FN_CODE_NONE) {
		if ((r = put_code(a, nf, &up, sha, &path, err)) < 0)
			return r;
		fn_upload_release(&up);
		new_code = strcmp(sha, cur->code_sha256) != 0;
	}
	if ((r = check_handler_file(a, nf, sha, kind, err)) < 0)
		goto fail;
	if (!new_code && fn_same_config(cur, nf)) {
		/* nothing changed: no new revision, nothing for the pool */
		reply_fn(a, req, 200, cur);
		return 0;
	}
	if (new_code) {
		memcpy(nf->code_sha256, sha, sizeof(nf->code_sha256));
		free(nf->code_path);
		nf->code_path = path;
		path = NULL;
	}
	nf->revision = cur->revision + 1;
	nf->updated_at = util_now_ms();
	if ((r = store_function_update(a->store, nf, err)) < 0)
		goto fail;
	log_info("function %lld '%s' updated to revision %lld", (long long)nf->id, nf->name,
		 (long long)nf->revision);
	if (a->pool)
		pool_function_changed(a->pool, nf);
	/* The old code goes unless another function shares it: containers of
	 * the old revision run on hard links of it in their own folders. */
	if (new_code)
		drop_code(a, cur->code_sha256);
	reply_fn(a, req, 200, nf);
	return 0;
fail:
	if (new_code)
		drop_code(a, sha);
	return r;
}

static int functions_delete(struct api *a, struct evhttp_request *req, const char *idstr,
			    struct hearth_error **err)
{
	_cleanup_fn_ struct fn *f = NULL;
	int r;

	if ((r = load_fn(a, idstr, &f, err)) < 0)
		return r;
	if ((r = store_function_delete(a->store, f->id, err)) < 0)
		return r;
	log_info("function %lld '%s' deleted", (long long)f->id, f->name);
	if (a->pool)
		pool_function_removed(a->pool, f->id);
	drop_code(a, f->code_sha256);
	http_finish(req, 204, NULL);
	return 0;
}

/* Execution: the hot path looks the function up in the pool's memory,
 * never in SQLite. */
static int functions_execute(struct api *a, struct evhttp_request *req, const char *idstr,
			     struct hearth_error **err)
{
	int64_t id;
	int r;

	if (!a->exec)
		return hearth_error_make(err, ENOSYS, "this hearthd runs without a container pool");
	if (!idstr)
		return exec_batch(a->exec, req, err);
	if ((r = fn_parse_id(idstr, &id, err)) < 0)
		return r;
	if (!pool_knows(a->pool, id))
		return hearth_error_make(err, ENOENT, "no function %s", idstr);
	return exec_invoke(a->exec, req, id, err);
}

static int functions_invocations(struct api *a, struct evhttp_request *req, const char *idstr,
				 struct hearth_error **err)
{
	_cleanup_fn_ struct fn *f = NULL;
	int r;

	if ((r = load_fn(a, idstr, &f, err)) < 0)
		return r;
	if (!a->exec)
		return hearth_error_make(err, ENOSYS, "this hearthd runs without a container pool");
	return exec_list_invocations(a->exec, req, f->id, err);
}

/* ---- /healthz ---------------------------------------------------------- */

static int healthz(struct api *a, struct evhttp_request *req, struct hearth_error **err)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	bool up = a->pool && pool_engine_up(a->pool);

	if (!o)
		return hearth_error_make(err, ENOMEM, "out of memory");
	json_object_object_add(o, "status", json_object_new_string("ok"));
	json_object_object_add(o, "store", json_object_new_string("ok"));
	json_object_object_add(o, "docker", json_object_new_string(
		!a->pool ? "disabled" : up ? "ok" : "unreachable"));
	if (a->pool && !up && pool_engine_error(a->pool))
		json_object_object_add(o, "docker_error",
				       json_object_new_string(pool_engine_error(a->pool)));
	http_reply_json(req, 200, o);
	return 0;
}

/* ---- static files ------------------------------------------------------ */

static const char *content_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ "html", "text/html; charset=utf-8" },
		{ "htm", "text/html; charset=utf-8" },
		{ "css", "text/css; charset=utf-8" },
		{ "js", "text/javascript; charset=utf-8" },
		{ "mjs", "text/javascript; charset=utf-8" },
		{ "json", "application/json" },
		{ "map", "application/json" },
		{ "txt", "text/plain; charset=utf-8" },
		{ "svg", "image/svg+xml" },
		{ "png", "image/png" },
		{ "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" },
		{ "gif", "image/gif" },
		{ "webp", "image/webp" },
		{ "ico", "image/x-icon" },
		{ "wasm", "application/wasm" },
		{ "woff", "font/woff" },
		{ "woff2", "font/woff2" },
	};
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');

	if (dot)
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

/* A URL path as a file under the web root: decoded, no "." or ".."
 * segments, no NUL, and (after symlinks) still inside the root. */
static int serve_static(struct api *a, struct evhttp_request *req, const char *raw_path,
			struct hearth_error **err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *real = NULL;
	_cleanup_close_ int fd = -1;
	char full[PATH_MAX];
	struct evbuffer *body;
	struct stat st;
	size_t len, rootlen;

	path = evhttp_uridecode(raw_path, 0, &len);
	if (!path || strlen(path) != len || path[0] != '/')
		return hearth_error_make(err, EBADMSG, "bad path");
	for (const char *p = path; *p; ) {
		const char *seg = ++p;	/* past the '/' */

		while (*p && *p != '/')
			p++;
		if ((p - seg == 1 && seg[0] == '.') ||
		    (p - seg == 2 && seg[0] == '.' && seg[1] == '.'))
			return hearth_error_make(err, EBADMSG,
						 "path: '.' and '..' segments are not allowed");
	}
	if (!a->web_root)
		return hearth_error_make(err, ENOENT, "no such file: %s (no web folder)", path);
	if (util_snprintf(full, sizeof(full), NULL, "%s%s%s", a->web_root, path,
			  path[len - 1] == '/' ? "index.html" : "") < 0)
		return hearth_error_make(err, ENOENT, "no such file: %s", path);
	real = realpath(full, NULL);
	if (real && stat(real, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* "/docs" names a folder: serve its index */
		char idx[PATH_MAX];

		if (util_snprintf(idx, sizeof(idx), NULL, "%s/index.html", real) < 0)
			return hearth_error_make(err, ENOENT, "no such file: %s", path);
		free(real);
		real = realpath(idx, NULL);
	}
	rootlen = strlen(a->web_root);
	if (!real || strncmp(real, a->web_root, rootlen) != 0 || real[rootlen] != '/')
		return hearth_error_make(err, ENOENT, "no such file: %s", path);
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return hearth_error_make(err, ENOENT, "no such file: %s", path);
	body = evbuffer_new();
	if (!body)
		return hearth_error_make(err, ENOMEM, "out of memory");
	if (st.st_size > 0) {
		if (evbuffer_add_file(body, fd, 0, st.st_size) < 0) {
			evbuffer_free(body);
			return hearth_error_make(err, EIO, "cannot read %s", path);
		}
		fd = -1;	/* the evbuffer owns it now */
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  content_type(real));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-cache");
	http_finish(req, 200, body);
	evbuffer_free(body);
	return 0;
}

/* ---- routing ----------------------------------------------------------- */

/* Paths other issues will serve: never looked up as files. */
static int is_reserved(const char *path)
{
	static const char *const prefixes[] = { "/functions", "/invocations", "/pool",
						"/metrics", "/fn", "/2015-03-31", "/healthz" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);

		if (strncmp(path, prefixes[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
			return 1;
	}
	return 0;
}

static int route(struct api *a, struct evhttp_request *req, const char *path,
		 struct hearth_error **err)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	int get = m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD;
	char id[32];
	const char *rest;
	size_t idlen;

	if (strcmp(path, "/healthz") == 0) {
		if (!get)
			goto not_allowed_get;
		return healthz(a, req, err);
	}
	if (strcmp(path, "/functions") == 0 || strcmp(path, "/functions/") == 0) {
		if (m == EVHTTP_REQ_GET)
			return functions_list(a, req, err);
		if (m == EVHTTP_REQ_POST)
			return functions_create(a, req, err);
		http_reply_not_allowed(req, "GET, POST");
		return 0;
	}
	if (strcmp(path, "/functions/execute") == 0) {
		if (m != EVHTTP_REQ_POST) {
			http_reply_not_allowed(req, "POST");
			return 0;
		}
		return functions_execute(a, req, NULL, err);
	}
	if (strncmp(path, "/functions/", 11) == 0) {
		rest = strchr(path + 11, '/');
		idlen = rest ? (size_t)(rest - (path + 11)) : strlen(path + 11);
		if (idlen >= sizeof(id))
			idlen = sizeof(id) - 1;	/* too long to be an id: 404 below */
		memcpy(id, path + 11, idlen);
		id[idlen] = '\0';
		if (!rest) {
			if (m == EVHTTP_REQ_GET)
				return functions_get(a, req, id, err);
			if (m == EVHTTP_REQ_PUT)
				return functions_update(a, req, id, err);
			if (m == EVHTTP_REQ_DELETE)
				return functions_delete(a, req, id, err);
			http_reply_not_allowed(req, "GET, PUT, DELETE");
			return 0;
		}
		if (strcmp(rest, "/execute") == 0) {
			if (m != EVHTTP_REQ_POST) {
				http_reply_not_allowed(req, "POST");
				return 0;
			}
			return functions_execute(a, req, id, err);
		}
		if (strcmp(rest, "/invocations") == 0) {
			if (!get)
				goto not_allowed_get;
			return functions_invocations(a, req, id, err);
		}
		return hearth_error_make(err, ENOENT, "no such endpoint: %s", path);
	}
	if (strncmp(path, "/invocations/", 13) == 0 && path[13] && !strchr(path + 13, '/')) {
		if (!get)
			goto not_allowed_get;
		if (!a->exec)
			return hearth_error_make(err, ENOENT, "no invocation %s", path + 13);
		return exec_get_invocation(a->exec, req, path + 13, err);
	}
	if (strcmp(path, "/pool") == 0 || strcmp(path, "/metrics") == 0) {
		if (!get)
			goto not_allowed_get;
		if (!a->exec)
			return hearth_error_make(err, ENOSYS, "this hearthd runs without a container pool");
		return path[1] == 'p' ? exec_pool(a->exec, req, err) : exec_metrics(a->exec, req, err);
	}
	if (is_reserved(path))
		return hearth_error_make(err, ENOENT, "no such endpoint: %s", path);
	if (!get)
		goto not_allowed_get;
	return serve_static(a, req, path, err);
not_allowed_get:
	http_reply_not_allowed(req, "GET, HEAD");
	return 0;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct api *a = arg;
	_cleanup_error_ struct hearth_error *err = NULL;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	int r;

	http_begin(req);
	if (!path || !*path)
		path = "/";
	r = route(a, req, path, &err);
	if (r < 0) {
		if (!err)
			hearth_error_make(&err, -r, "internal error (%d)", r);
		http_reply_error(req, err);
	}
}

/* ---- life cycle -------------------------------------------------------- */

int api_new(struct api **out, const struct api_deps *deps, struct hearth_error **err)
{
	struct api *a;

	a = calloc(1, sizeof(*a));
	if (!a)
		return hearth_error_make(err, ENOMEM, "out of memory");
	a->base = deps->base;
	a->store = deps->store;
	a->codes = deps->codes;
	a->pool = deps->pool;
	a->exec = deps->exec;
	if (deps->web_dir) {
		a->web_root = realpath(deps->web_dir, NULL);
		if (!a->web_root)
			log_warn("web dir %s: %s; the dashboard will not be served", deps->web_dir,
				 strerror(errno));
	}
	a->http = evhttp_new(a->base);
	if (!a->http) {
		api_free(a);
		return hearth_error_make(err, ENOMEM, "cannot create the HTTP server");
	}
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
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		saved = errno;
		freeaddrinfo(res);
		close(fd);
		if (saved == EADDRINUSE)
			return hearth_error_make(err, EADDRINUSE,
						 "cannot listen on %s: the port is already in use "
						 "(another hearthd, or another program?)", shown);
		return hearth_error_errno(err, saved, "cannot listen on %s", shown);
	}
	freeaddrinfo(res);
	a->sock = evhttp_accept_socket_with_handle(a->http, fd);
	if (!a->sock) {
		close(fd);
		return hearth_error_make(err, EIO, "cannot listen on %s: evhttp refused the socket",
					 shown);
	}
	if (port == 0) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char h[NI_MAXHOST], p[NI_MAXSERV];

		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
		    getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p, sizeof(p),
				NI_NUMERICHOST | NI_NUMERICSERV) == 0)
			log_info("http: listening on %s port %s", h, p);
	}
	return 0;
}

void api_stop_accepting(struct api *a)
{
	if (a && a->sock) {
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
		evhttp_free(a->http);
	free(a->web_root);
	free(a);
}
