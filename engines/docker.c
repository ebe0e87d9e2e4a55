/* docker.c — see docker.h.
 *
 * Each request is a `struct docker_req` owning one easy handle; all pending
 * requests sit on one list so docker_free can cancel them.  Completions
 * arrive through curlev's done callback, where the reply is turned into a
 * status, a parsed body and an error, and then into the typed callback of
 * the operation (`finish`).  The event watch is a request that never
 * finishes on its own: its write callback only buffers bytes and wakes a
 * libevent event which parses whole lines and calls the watcher, because
 * libcurl forbids API calls (which the watcher will make) from inside its
 * callbacks.
 *
 * Re-entrancy: callbacks may start requests, cancel others and call
 * docker_free.  `depth` counts callbacks on the stack; docker_free inside
 * one only marks `free_pending` and the outermost frame destroys. */
#include "docker.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "curlev.h"
#include "docker_spec.h"
#include "log.h"
#include "util.h"

#define DOCKER_MAX_REPLY (16u << 20) /* a container list can be long */
#define DOCKER_MAX_EVENT_LINE (1u << 20)
#define DOCKER_PING_TIMEOUT_MS 5000L
#define DOCKER_CONNECT_TIMEOUT_MS 5000L
#define DOCKER_RETRY_MIN_MS 250
#define DOCKER_RETRY_MAX_MS 10000

enum docker_kind {
	DK_JSON,
	DK_PING,
	DK_IMAGE_CHECK,
	DK_CREATE,
	DK_START,
	DK_KILL,
	DK_REMOVE,
	DK_UPDATE,
	DK_LIST,
	DK_INSPECT,
	DK_WATCH,
};

union docker_cb {
	docker_json_cb json;
	backend_done_cb done;
	backend_create_cb create;
	backend_list_cb list;
	backend_inspect_cb inspect;
	backend_event_cb event;
};

struct docker_req {
	struct docker *d;
	struct docker_req *prev, *next;
	enum docker_kind kind;
	CURL *easy;
	bool in_multi;
	struct curl_slist *headers;
	char *method;
	char *path;
	char *image; /* DK_IMAGE_CHECK/DK_JSON image inspect: for the hint */
	struct buf reply;
	char errbuf[CURL_ERROR_SIZE];
	union docker_cb cb;
	void *arg;
	/* DK_WATCH only */
	char *filters; /* URL-encoded filters JSON */
	struct event *deliver_ev;
	struct event *retry_ev;
	int64_t since_ns; /* last event seen (or watch start) */
	int retry_ms;
	bool connected; /* this connection answered 200 */
	bool announce;	/* tell the watcher it (re)connected */
	bool busy;	/* watcher callback on the stack */
	bool cancelled;
};

struct docker {
	struct event_base *base;
	struct curlev *cm;
	struct backend backend;
	char *socket_path;
	long timeout_ms;
	struct docker_req *reqs;
	bool up;
	char *last_error;
	int depth;
	bool closing;
	bool free_pending;
};

static const struct backend_ops docker_backend_ops;
#define CB(member, fn) ((union docker_cb){ .member = (fn) })
static void docker_on_done(void *arg, CURL *easy, CURLcode result);
static void docker_destroy(struct docker *d);
static int docker_watch_connect(struct docker_req *req, struct hearth_error **err);

/* ---- state ---- */

static void docker_set_up(struct docker *d)
{
	if (!d->up)
		log_info("docker: reachable at %s", d->socket_path);
	d->up = true;
	free(d->last_error);
	d->last_error = NULL;
}

static void docker_set_down(struct docker *d, const char *why)
{
	char *copy = strdup(why);

	if (d->up)
		log_warn("docker: %s", why);
	d->up = false;
	if (copy) {
		free(d->last_error);
		d->last_error = copy;
	}
}

bool docker_is_up(const struct docker *d)
{
	return d->up;
}

const char *docker_last_error(const struct docker *d)
{
	return d->up ? NULL : d->last_error;
}

const char *docker_socket_path(const struct docker *d)
{
	return d->socket_path;
}

void docker_set_timeout_ms(struct docker *d, long ms)
{
	d->timeout_ms = ms > 0 ? ms : 60000;
}

struct backend *docker_backend(struct docker *d)
{
	return &d->backend;
}

/* ---- small helpers ---- */

static int docker_urlencode(struct buf *b, const char *s, struct hearth_error **err)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char enc[3];
		int rc;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			rc = buf_append(b, s, 1, err);
		} else {
			enc[0] = '%';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			rc = buf_append(b, enc, 3, err);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* filters={"label":[...], extra...} URL-encoded into b. */
static int docker_filters(struct buf *b, const char *const *labels, bool events,
			  struct hearth_error **err)
{
	struct json_object *f = json_object_new_object(), *arr;
	int rc = -ENOMEM;

	if (!f)
		return hearth_error_make(err, ENOMEM, "out of memory");
	arr = json_object_new_array();
	json_object_object_add(f, "label", arr);
	for (size_t i = 0; labels && labels[i]; i++)
		json_object_array_add(arr, json_object_new_string(labels[i]));
	if (events) {
		static const char *const actions[] = { "start", "die", "oom", "destroy" };

		arr = json_object_new_array();
		json_object_array_add(arr, json_object_new_string("container"));
		json_object_object_add(f, "type", arr);
		arr = json_object_new_array();
		for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
			json_object_array_add(arr, json_object_new_string(actions[i]));
		json_object_object_add(f, "event", arr);
	}
	rc = docker_urlencode(b, json_object_to_json_string_ext(f, JSON_C_TO_STRING_PLAIN), err);
	json_object_put(f);
	return rc;
}

static const char *docker_json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static struct json_object *docker_json_get(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o && json_object_object_get_ex(o, key, &v))
		return v;
	return NULL;
}

/* ---- requests ---- */

static void docker_req_link(struct docker *d, struct docker_req *req)
{
	req->next = d->reqs;
	if (d->reqs)
		d->reqs->prev = req;
	d->reqs = req;
}

static void docker_req_unlink(struct docker *d, struct docker_req *req)
{
	if (req->prev)
		req->prev->next = req->next;
	else if (d->reqs == req)
		d->reqs = req->next;
	if (req->next)
		req->next->prev = req->prev;
	req->prev = req->next = NULL;
}

/* Takes a request off the client: out of its list and of curl, its
 * timers stopped.  Nothing is called and nothing freed. */
static void docker_req_stop(struct docker *d, struct docker_req *req)
{
	docker_req_unlink(d, req);
	if (req->in_multi)
		curlev_remove(d->cm, req->easy);
	req->in_multi = false;
	if (req->retry_ev)
		evtimer_del(req->retry_ev);
	if (req->deliver_ev)
		event_del(req->deliver_ev);
}

static void docker_req_free(struct docker_req *req)
{
	if (!req)
		return;
	if (req->easy)
		curl_easy_cleanup(req->easy);
	curl_slist_free_all(req->headers);
	if (req->deliver_ev)
		event_free(req->deliver_ev);
	if (req->retry_ev)
		event_free(req->retry_ev);
	buf_release(&req->reply);
	free(req->method);
	free(req->path);
	free(req->image);
	free(req->filters);
	free(req);
}

static size_t docker_write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct docker_req *req = userp;
	size_t n = size * nmemb;

	if (buf_append(&req->reply, data, n, NULL) < 0)
		return 0; /* too big: fails the transfer with CURLE_WRITE_ERROR */
	if (req->kind == DK_WATCH && req->connected)
		event_active(req->deliver_ev, EV_TIMEOUT, 1);
	return n;
}

static size_t docker_header_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct docker_req *req = userp;
	size_t n = size * nmemb;
	long status = 0;

	/* the empty line ends the headers: the event stream is open */
	if (req->kind == DK_WATCH && n <= 2 && (data[0] == '\r' || data[0] == '\n')) {
		curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status == 200) {
			docker_set_up(req->d);
			req->connected = true;
			req->announce = true;
			req->retry_ms = DOCKER_RETRY_MIN_MS;
			event_active(req->deliver_ev, EV_TIMEOUT, 1);
		}
	}
	return n;
}

/* A fresh easy handle for req (method, path, body already in req). */
static int docker_req_easy(struct docker_req *req, const char *body, long timeout_ms,
			   struct hearth_error **err)
{
	struct docker *d = req->d;
	_cleanup_buf_ struct buf url = BUF_INIT(8192);
	CURL *e;
	int rc;

	rc = buf_printf(&url, err, "http://localhost/%s%s", DOCKER_API_VERSION, req->path);
	if (rc < 0)
		return rc;
	e = curl_easy_init();
	if (!e)
		return hearth_error_make(err, ENOMEM, "curl_easy_init failed");
	req->easy = e;
	req->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, d->socket_path);
	curl_easy_setopt(e, CURLOPT_URL, url.ptr);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PRIVATE, req);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, docker_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, DOCKER_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTP);
#endif
	if (req->kind == DK_WATCH) {
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, docker_header_cb);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, req);
	}
	if (!req->headers) {
		/* no "Expect: 100-continue" round trip for larger create bodies */
		req->headers = curl_slist_append(NULL, "Expect:");
		if (req->headers && body)
			req->headers = curl_slist_append(req->headers,
							 "Content-Type: application/json");
		if (!req->headers)
			return hearth_error_make(err, ENOMEM, "out of memory");
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
	if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body ? body : "");
	} else if (strcmp(req->method, "GET") != 0) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	}
	return 0;
}

/* Starts a request; on failure nothing is left behind and no callback runs. */
static int docker_submit(struct docker *d, enum docker_kind kind, const char *method,
			 const char *path, const char *body, long timeout_ms, union docker_cb cb,
			 void *arg, struct docker_req **out, struct hearth_error **err)
{
	struct docker_req *req;
	int rc;

	if (d->closing)
		return hearth_error_make(err, ECANCELED, "docker client is shutting down");
	req = calloc(1, sizeof(*req));
	if (!req)
		return hearth_error_make(err, ENOMEM, "out of memory");
	req->d = d;
	req->kind = kind;
	buf_init(&req->reply, kind == DK_WATCH ? DOCKER_MAX_EVENT_LINE : DOCKER_MAX_REPLY);
	req->method = strdup(method);
	req->path = strdup(path);
	req->cb = cb;
	req->arg = arg;
	if (!req->method || !req->path) {
		rc = hearth_error_make(err, ENOMEM, "out of memory");
		goto fail;
	}
	rc = docker_req_easy(req, body, timeout_ms, err);
	if (rc < 0)
		goto fail;
	rc = curlev_add(d->cm, req->easy, err);
	if (rc < 0)
		goto fail;
	req->in_multi = true;
	docker_req_link(d, req);
	*out = req;
	return 0;
fail:
	docker_req_free(req);
	return rc;
}

/* Maps an HTTP error answer to an errno and a message. */
static int docker_http_error(struct docker_req *req, long status, struct json_object *body,
			     struct hearth_error **err)
{
	const char *msg = docker_json_str(body, "message");
	int e;

	if (!msg)
		msg = req->reply.len ? req->reply.ptr : "(no message)";
	switch (status) {
	case 400: e = EINVAL; break;
	case 404: e = ENOENT; break;
	case 409: e = EEXIST; break;
	case 500: e = EIO; break;
	case 503: e = EHOSTDOWN; break;
	default: e = EIO; break;
	}
	if (status == 404 && req->image)
		return hearth_error_make(err, ENOENT, "image %s is missing: run `make images`",
					 req->image);
	if (status == 404 && req->kind == DK_CREATE && strstr(msg, "No such image"))
		return hearth_error_make(err, ENOENT, "%s: run `make images`", msg);
	return hearth_error_make(err, e, "docker %s %s: %ld: %.*s", req->method, req->path, status,
				 512, msg);
}

/* Turns a finished transfer into (status, body, err); updates up/down. */
static void docker_outcome(struct docker_req *req, CURLcode result, long *statusp,
			   struct json_object **bodyp, struct hearth_error **err)
{
	struct docker *d = req->d;
	struct json_object *body = NULL;
	long status = 0;
	const char *why;

	*statusp = 0;
	*bodyp = NULL;
	if (result != CURLE_OK && !(result == CURLE_WRITE_ERROR && req->kind == DK_WATCH)) {
		why = req->errbuf[0] ? req->errbuf : curl_easy_strerror(result);
		if (result == CURLE_WRITE_ERROR) {
			hearth_error_make(err, E2BIG, "docker %s %s: reply over %zu bytes",
					  req->method, req->path, req->reply.max);
			return;
		}
		if (result == CURLE_OPERATION_TIMEDOUT) {
			curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
			hearth_error_make(err, ETIMEDOUT, "docker %s %s: no answer in time: %s",
					  req->method, req->path, why);
			if (req->kind == DK_PING || status == 0)
				docker_set_down(d, (*err)->msg);
			return;
		}
		if (result == CURLE_COULDNT_CONNECT) {
			/* curl's own words name "localhost port 80"; the
			 * socket's errno says what is wrong with it. */
			long oserr = 0;

			curl_easy_getinfo(req->easy, CURLINFO_OS_ERRNO, &oserr);
			hearth_error_make(err, EHOSTDOWN,
					  "cannot reach Docker at %s: %s (is dockerd running?)",
					  d->socket_path,
					  oserr ? strerror((int)oserr) : "cannot connect");
		} else {
			hearth_error_make(err, EHOSTDOWN, "cannot reach Docker at %s: %s",
					  d->socket_path, why);
		}
		docker_set_down(d, (*err)->msg);
		return;
	}
	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
	*statusp = status;
	docker_set_up(d);
	if (req->reply.len && req->kind != DK_PING && req->kind != DK_WATCH) {
		enum json_tokener_error jerr;

		body = json_tokener_parse_verbose(req->reply.ptr, &jerr);
		if (!body && status >= 200 && status < 300) {
			hearth_error_make(err, EBADMSG, "docker %s %s: malformed JSON reply: %s",
					  req->method, req->path, json_tokener_error_desc(jerr));
			return;
		}
	}
	if (status < 200 || (status >= 300 && status != 304))
		docker_http_error(req, status, body, err);
	*bodyp = body;
}

/* Calls the typed callback of a finished (non-watch) request. */
static void docker_finish(struct docker_req *req, long status, struct json_object *body,
			  const struct hearth_error *err)
{
	switch (req->kind) {
	case DK_JSON: req->cb.json(req->arg, status, body, err); break;
	case DK_PING:
	case DK_IMAGE_CHECK:
	case DK_START:
	case DK_KILL:
	case DK_REMOVE:
	case DK_UPDATE: req->cb.done(req->arg, err); break;
	case DK_CREATE: {
		const char *id = docker_json_str(body, "Id");
		struct hearth_error *e2 = NULL;

		if (!err && !id)
			hearth_error_make(&e2, EBADMSG, "docker create: the reply has no Id");
		req->cb.create(req->arg, err || e2 ? NULL : id, err ? err : e2);
		hearth_error_free(e2);
		break;
	}
	case DK_INSPECT: {
		struct backend_state st = { 0 };
		struct json_object *state = docker_json_get(body, "State");
		struct json_object *config = docker_json_get(body, "Config");
		struct hearth_error *e2 = NULL;

		if (!err) {
			st.id = docker_json_str(body, "Id");
			st.name = docker_json_str(body, "Name");
			if (st.name && st.name[0] == '/')
				st.name++;
			st.status = docker_json_str(state, "Status");
			st.running = json_object_get_boolean(docker_json_get(state, "Running"));
			st.oom_killed = json_object_get_boolean(docker_json_get(state,
										"OOMKilled"));
			st.exit_code = json_object_get_int(docker_json_get(state, "ExitCode"));
			st.pid = json_object_get_int(docker_json_get(state, "Pid"));
			st.labels = docker_json_get(config, "Labels");
			if (!st.id || !st.status)
				hearth_error_make(&e2, EBADMSG, "docker inspect: unexpected reply");
		}
		req->cb.inspect(req->arg, err || e2 ? NULL : &st, err ? err : e2);
		hearth_error_free(e2);
		break;
	}
	case DK_LIST: {
		struct backend_container *v = NULL;
		size_t n = 0;
		struct hearth_error *e2 = NULL;

		if (!err && !json_object_is_type(body, json_type_array)) {
			hearth_error_make(&e2, EBADMSG, "docker list: the reply is not an array");
		} else if (!err) {
			n = json_object_array_length(body);
			v = calloc(n ? n : 1, sizeof(*v));
			if (!v) {
				n = 0;
				hearth_error_make(&e2, ENOMEM, "out of memory");
			}
		}
		for (size_t i = 0; v && i < n; i++) {
			struct json_object *c = json_object_array_get_idx(body, i);
			struct json_object *names = docker_json_get(c, "Names");
			const char *name = NULL;

			if (json_object_is_type(names, json_type_array) &&
			    json_object_array_length(names) > 0)
				name = json_object_get_string(json_object_array_get_idx(names, 0));
			if (name && name[0] == '/')
				name++;
			v[i].id = docker_json_str(c, "Id");
			v[i].name = name ? name : "";
			v[i].state = docker_json_str(c, "State");
			v[i].created = json_object_get_int64(docker_json_get(c, "Created"));
			v[i].labels = docker_json_get(c, "Labels");
			if (!v[i].id)
				v[i].id = "";
			if (!v[i].state)
				v[i].state = "";
		}
		req->cb.list(req->arg, e2 || err ? NULL : v, e2 || err ? 0 : n, err ? err : e2);
		free(v);
		hearth_error_free(e2);
		break;
	}
	case DK_WATCH: break;
	}
}

/* ---- the event watch ---- */

static void docker_watch_deliver_line(struct docker_req *req, const char *line)
{
	struct json_object *o = json_tokener_parse(line), *actor;
	struct backend_event ev = { .kind = BACKEND_EVENT_OTHER, .exit_code = -1 };
	const char *code;

	if (!o) {
		log_warn("docker: malformed event: %.200s", line);
		return;
	}
	actor = docker_json_get(o, "Actor");
	ev.action = docker_json_str(o, "Action");
	ev.id = docker_json_str(actor, "ID");
	ev.attributes = docker_json_get(actor, "Attributes");
	ev.time_ns = json_object_get_int64(docker_json_get(o, "timeNano"));
	if (!ev.action || !ev.id)
		goto out;
	/* replayed by `since` after a reconnect: seen already */
	if (ev.time_ns && ev.time_ns <= req->since_ns)
		goto out;
	if (ev.time_ns)
		req->since_ns = ev.time_ns;
	if (strcmp(ev.action, "start") == 0)
		ev.kind = BACKEND_EVENT_START;
	else if (strcmp(ev.action, "die") == 0)
		ev.kind = BACKEND_EVENT_DIE;
	else if (strcmp(ev.action, "oom") == 0)
		ev.kind = BACKEND_EVENT_OOM;
	else if (strcmp(ev.action, "destroy") == 0)
		ev.kind = BACKEND_EVENT_DESTROY;
	code = docker_json_str(ev.attributes, "exitCode");
	if (ev.kind == BACKEND_EVENT_DIE && code) {
		int64_t v;

		if (util_parse_i64(code, -1, 255, &v, NULL) == 0)
			ev.exit_code = (int)v;
	}
	req->cb.event(req->arg, &ev, NULL);
out:
	json_object_put(o);
}

/* Calls the watcher for the announcement and every whole line buffered.
 * Returns false when the watch was cancelled meanwhile (and frees it). */
static bool docker_watch_deliver(struct docker_req *req)
{
	struct docker *d = req->d;
	size_t start = 0;

	req->busy = true;
	d->depth++;
	if (req->announce) {
		req->announce = false;
		req->cb.event(req->arg, NULL, NULL);
	}
	while (!req->cancelled) {
		char *nl = memchr(req->reply.ptr + start, '\n', req->reply.len - start);

		if (!nl)
			break;
		*nl = '\0';
		if (nl > req->reply.ptr + start)
			docker_watch_deliver_line(req, req->reply.ptr + start);
		start = (size_t)(nl - req->reply.ptr) + 1;
	}
	if (!req->cancelled && start > 0) {
		/* keep the partial tail */
		size_t rest = req->reply.len - start;

		memmove(req->reply.ptr, req->reply.ptr + start, rest);
		req->reply.len = rest;
		req->reply.ptr[rest] = '\0';
	}
	req->busy = false;
	d->depth--;
	if (req->cancelled) {
		docker_req_free(req);
		req = NULL;
	}
	if (d->free_pending && d->depth == 0)
		docker_destroy(d);
	return req != NULL;
}

static void docker_watch_deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	docker_watch_deliver(arg);
}

static void docker_watch_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct docker_req *req = arg;
	struct docker *d = req->d;
	_cleanup_error_ struct hearth_error *err = NULL;

	if (docker_watch_connect(req, &err) == 0)
		return;
	log_warn("docker: event stream: %s", err->msg);
	req->retry_ms = req->retry_ms < DOCKER_RETRY_MAX_MS / 2 ? req->retry_ms * 2
								: DOCKER_RETRY_MAX_MS;
	req->busy = true;
	d->depth++;
	req->cb.event(req->arg, NULL, err);
	req->busy = false;
	d->depth--;
	if (req->cancelled) {
		docker_req_free(req);
	} else {
		struct timeval tv = { req->retry_ms / 1000, (req->retry_ms % 1000) * 1000 };

		evtimer_add(req->retry_ev, &tv);
	}
	if (d->free_pending && d->depth == 0)
		docker_destroy(d);
}

static int docker_watch_connect(struct docker_req *req, struct hearth_error **err)
{
	_cleanup_buf_ struct buf path = BUF_INIT(8192);
	int rc;

	if (req->easy) {
		curl_easy_cleanup(req->easy);
		req->easy = NULL;
	}
	buf_reset(&req->reply);
	req->connected = false;
	rc = buf_printf(&path, err, "/events?since=%" PRId64 ".%09" PRId64 "&filters=%s",
			req->since_ns / 1000000000, req->since_ns % 1000000000, req->filters);
	if (rc < 0)
		return rc;
	free(req->path);
	req->path = buf_detach(&path, NULL);
	if (!req->path)
		return hearth_error_make(err, ENOMEM, "out of memory");
	rc = docker_req_easy(req, NULL, 0, err);
	if (rc < 0)
		return rc;
	rc = curlev_add(req->d->cm, req->easy, err);
	if (rc < 0)
		return rc;
	req->in_multi = true;
	return 0;
}

/* The stream ended: drain, tell the watcher, retry after a back-off. */
static void docker_watch_ended(struct docker_req *req, CURLcode result)
{
	struct docker *d = req->d;
	struct hearth_error *err = NULL;
	struct json_object *body = NULL;
	long status = 0;
	struct timeval tv;

	if (req->connected && !docker_watch_deliver(req))
		return; /* cancelled or freed meanwhile */
	if (d->closing)
		return;
	if (req->connected) {
		hearth_error_make(&err, ECONNRESET,
				  "Docker's event stream ended (%s); reconnecting",
				  result == CURLE_OK ? "closed" : curl_easy_strerror(result));
	} else {
		docker_outcome(req, result, &status, &body, &err);
		if (!err)
			hearth_error_make(&err, EIO, "docker event stream: unexpected status %ld",
					  status);
		json_object_put(body);
		req->retry_ms = req->retry_ms ? req->retry_ms * 2 : DOCKER_RETRY_MIN_MS;
		if (req->retry_ms > DOCKER_RETRY_MAX_MS)
			req->retry_ms = DOCKER_RETRY_MAX_MS;
	}
	log_warn("docker: event stream: %s", err->msg);
	req->busy = true;
	d->depth++;
	req->cb.event(req->arg, NULL, err);
	req->busy = false;
	d->depth--;
	hearth_error_free(err);
	if (req->cancelled) {
		docker_req_free(req);
	} else {
		tv.tv_sec = req->retry_ms / 1000;
		tv.tv_usec = (req->retry_ms % 1000) * 1000;
		evtimer_add(req->retry_ev, &tv);
	}
	if (d->free_pending && d->depth == 0)
		docker_destroy(d);
}

/* ---- completion ---- */

static void docker_on_done(void *arg, CURL *easy, CURLcode result)
{
	struct docker *d = arg;
	struct docker_req *req = NULL;
	struct hearth_error *err = NULL;
	struct json_object *body = NULL;
	long status;
	char *priv = NULL;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
	req = (struct docker_req *)(void *)priv;
	if (!req)
		return;
	req->in_multi = false;
	if (req->kind == DK_WATCH) {
		docker_watch_ended(req, result);
		return;
	}
	docker_req_unlink(d, req);
	docker_outcome(req, result, &status, &body, &err);
	/* outcomes that are success for the caller's purpose */
	if (err &&
	    ((req->kind == DK_KILL && status == 409) ||
	     (req->kind == DK_REMOVE && status == 409 && strstr(err->msg, "already in progress"))))
		hearth_error_clear(&err);
	d->depth++;
	docker_finish(req, status, body, err);
	d->depth--;
	hearth_error_free(err);
	json_object_put(body);
	docker_req_free(req);
	if (d->free_pending && d->depth == 0)
		docker_destroy(d);
}

/* ---- public operations ---- */

int docker_new(struct docker **out, struct event_base *base, const char *socket_path,
	       struct hearth_error **err)
{
	struct docker *d;
	int rc;

	if (!socket_path)
		socket_path = DOCKER_DEFAULT_SOCKET;
	if (socket_path[0] == '\0' || strlen(socket_path) >= 108)
		return hearth_error_make(err, EINVAL, "invalid Docker socket path '%s'",
					 socket_path);
	d = calloc(1, sizeof(*d));
	if (!d)
		return hearth_error_make(err, ENOMEM, "out of memory");
	d->base = base;
	d->timeout_ms = 60000;
	d->backend.ops = &docker_backend_ops;
	d->backend.impl = d;
	d->socket_path = strdup(socket_path);
	if (asprintf(&d->last_error, "Docker at %s not contacted yet", socket_path) < 0)
		d->last_error = NULL;
	if (!d->socket_path || !d->last_error) {
		rc = hearth_error_make(err, ENOMEM, "out of memory");
		goto fail;
	}
	rc = curlev_new(&d->cm, base, docker_on_done, d, err);
	if (rc < 0)
		goto fail;
	/* dockerd serves each connection one request at a time; bound the
	 * parallelism rather than open hundreds of sockets in a burst */
	curlev_set_max_connections(d->cm, 32);
	*out = d;
	return 0;
fail:
	free(d->socket_path);
	free(d->last_error);
	free(d);
	return rc;
}

static void docker_destroy(struct docker *d)
{
	curlev_free(d->cm);
	free(d->socket_path);
	free(d->last_error);
	free(d);
}

void docker_free(struct docker *d)
{
	struct hearth_error *err = NULL;

	if (!d || d->closing)
		return;
	d->closing = true;
	hearth_error_make(&err, ECANCELED, "cancelled: the Docker client is shutting down");
	d->depth++;
	while (d->reqs) {
		struct docker_req *req = d->reqs;

		docker_req_stop(d, req);
		if (req->kind == DK_WATCH) {
			if (!req->cancelled)
				req->cb.event(req->arg, NULL, err);
			if (req->busy)
				req->cancelled = true; /* its deliver loop frees it */
			else
				docker_req_free(req);
			continue;
		}
		docker_finish(req, 0, NULL, err);
		docker_req_free(req);
	}
	d->depth--;
	hearth_error_free(err);
	if (d->depth > 0)
		d->free_pending = true;
	else
		docker_destroy(d);
}

void docker_cancel(struct docker *d, struct docker_req *req)
{
	if (!req || req->cancelled)
		return;
	docker_req_stop(d, req);
	if (req->busy)
		req->cancelled = true; /* freed when its callback returns */
	else
		docker_req_free(req);
}

int docker_request(struct docker *d, const char *method, const char *path, struct json_object *body,
		   docker_json_cb cb, void *arg, struct docker_req **reqp,
		   struct hearth_error **err)
{
	struct docker_req *req;
	const char *s = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : NULL;
	int rc;

	if (!path || path[0] != '/')
		return hearth_error_make(err, EINVAL, "docker path must start with '/'");
	rc = docker_submit(d, DK_JSON, method, path, s, d->timeout_ms, CB(json, cb), arg, &req,
			   err);
	if (rc < 0)
		return rc;
	if (reqp)
		*reqp = req;
	return 0;
}

int docker_ping(struct docker *d, backend_done_cb cb, void *arg, struct docker_req **reqp,
		struct hearth_error **err)
{
	struct docker_req *req;
	int rc = docker_submit(d, DK_PING, "GET", "/_ping", NULL, DOCKER_PING_TIMEOUT_MS,
			       CB(done, cb), arg, &req, err);

	if (rc == 0 && reqp)
		*reqp = req;
	return rc;
}

int docker_version(struct docker *d, docker_json_cb cb, void *arg, struct docker_req **reqp,
		   struct hearth_error **err)
{
	return docker_request(d, "GET", "/version", NULL, cb, arg, reqp, err);
}

static int docker_image_req(struct docker *d, enum docker_kind kind, const char *image,
			    union docker_cb cb, void *arg, struct docker_req **reqp,
			    struct hearth_error **err)
{
	_cleanup_buf_ struct buf path = BUF_INIT(1024);
	struct docker_req *req;
	int rc;

	rc = docker_spec_check_image(image, err);
	if (rc < 0)
		return rc;
	rc = buf_printf(&path, err, "/images/%s/json", image);
	if (rc < 0)
		return rc;
	rc = docker_submit(d, kind, "GET", path.ptr, NULL, d->timeout_ms, cb, arg, &req, err);
	if (rc < 0)
		return rc;
	req->image = strdup(image); /* for the hint; message degrades if NULL */
	if (reqp)
		*reqp = req;
	return 0;
}

int docker_image_inspect(struct docker *d, const char *image, docker_json_cb cb, void *arg,
			 struct docker_req **reqp, struct hearth_error **err)
{
	return docker_image_req(d, DK_JSON, image, CB(json, cb), arg, reqp, err);
}

int docker_image_check(struct docker *d, const char *image, backend_done_cb cb, void *arg,
		       struct docker_req **reqp, struct hearth_error **err)
{
	return docker_image_req(d, DK_IMAGE_CHECK, image, CB(done, cb), arg, reqp, err);
}

int docker_container_create(struct docker *d, const struct backend_spec *spec, backend_create_cb cb,
			    void *arg, struct docker_req **reqp, struct hearth_error **err)
{
	_cleanup_buf_ struct buf path = BUF_INIT(512);
	struct json_object *body = NULL;
	struct docker_req *req;
	int rc;

	rc = docker_spec_json(spec, &body, err);
	if (rc < 0)
		return rc;
	rc = buf_puts(&path, "/containers/create", err);
	if (rc == 0 && spec->name)
		rc = buf_printf(&path, err, "?name=%s", spec->name);
	if (rc == 0)
		rc = docker_submit(d, DK_CREATE, "POST", path.ptr,
				   json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN),
				   d->timeout_ms, CB(create, cb), arg, &req, err);
	json_object_put(body);
	if (rc < 0)
		return rc;
	if (reqp)
		*reqp = req;
	return 0;
}

static int docker_container_op(struct docker *d, enum docker_kind kind, const char *method,
			       const char *id, const char *suffix, union docker_cb cb, void *arg,
			       struct docker_req **reqp, struct hearth_error **err)
{
	_cleanup_buf_ struct buf path = BUF_INIT(512);
	struct docker_req *req;
	int rc;

	rc = docker_spec_check_ref("id", id, err);
	if (rc < 0)
		return rc;
	rc = buf_printf(&path, err, "/containers/%s%s", id, suffix);
	if (rc < 0)
		return rc;
	rc = docker_submit(d, kind, method, path.ptr, NULL, d->timeout_ms, cb, arg, &req, err);
	if (rc < 0)
		return rc;
	if (reqp)
		*reqp = req;
	return 0;
}

int docker_container_start(struct docker *d, const char *id, backend_done_cb cb, void *arg,
			   struct docker_req **reqp, struct hearth_error **err)
{
	return docker_container_op(d, DK_START, "POST", id, "/start", CB(done, cb), arg, reqp, err);
}

int docker_container_kill(struct docker *d, const char *id, int signo, backend_done_cb cb,
			  void *arg, struct docker_req **reqp, struct hearth_error **err)
{
	char suffix[32];
	int rc;

	if (signo <= 0 || signo > 64)
		return hearth_error_make(err, EINVAL, "invalid signal %d", signo);
	rc = util_snprintf(suffix, sizeof(suffix), err, "/kill?signal=%d", signo);
	if (rc < 0)
		return rc;
	return docker_container_op(d, DK_KILL, "POST", id, suffix, CB(done, cb), arg, reqp, err);
}

int docker_container_remove(struct docker *d, const char *id, backend_done_cb cb, void *arg,
			    struct docker_req **reqp, struct hearth_error **err)
{
	return docker_container_op(d, DK_REMOVE, "DELETE", id, "?force=true&v=true", CB(done, cb),
				   arg, reqp, err);
}

int docker_container_update(struct docker *d, const char *id, unsigned memory_mb,
			    backend_done_cb cb, void *arg, struct docker_req **reqp,
			    struct hearth_error **err)
{
	_cleanup_buf_ struct buf path = BUF_INIT(512), body = BUF_INIT(256);
	int64_t mem = (int64_t)memory_mb * 1024 * 1024;
	struct docker_req *req;
	int rc;

	if (memory_mb < DOCKER_SPEC_MEMORY_MIN_MB || memory_mb > DOCKER_SPEC_MEMORY_MAX_MB)
		return hearth_error_make(err, EINVAL, "memory %u MB is out of range", memory_mb);
	if ((rc = docker_spec_check_ref("id", id, err)) < 0 ||
	    (rc = buf_printf(&path, err, "/containers/%s/update", id)) < 0 ||
	    /* Memory and swap move together (no swap); the CPU share follows
	     * the memory, as at create. */
	    (rc = buf_printf(&body, err, "{\"Memory\":%lld,\"MemorySwap\":%lld,\"CpuShares\":%u}",
			     (long long)mem, (long long)mem, memory_mb < 2 ? 2 : memory_mb)) < 0)
		return rc;
	rc = docker_submit(d, DK_UPDATE, "POST", path.ptr, body.ptr, d->timeout_ms, CB(done, cb),
			   arg, &req, err);
	if (rc < 0)
		return rc;
	if (reqp)
		*reqp = req;
	return 0;
}

int docker_container_inspect(struct docker *d, const char *id, backend_inspect_cb cb, void *arg,
			     struct docker_req **reqp, struct hearth_error **err)
{
	return docker_container_op(d, DK_INSPECT, "GET", id, "/json", CB(inspect, cb), arg, reqp,
				   err);
}

int docker_container_list(struct docker *d, const char *const *labels, backend_list_cb cb,
			  void *arg, struct docker_req **reqp, struct hearth_error **err)
{
	_cleanup_buf_ struct buf path = BUF_INIT(8192);
	struct docker_req *req;
	int rc;

	rc = buf_puts(&path, "/containers/json?all=1&filters=", err);
	if (rc == 0)
		rc = docker_filters(&path, labels, false, err);
	if (rc == 0)
		rc = docker_submit(d, DK_LIST, "GET", path.ptr, NULL, d->timeout_ms, CB(list, cb),
				   arg, &req, err);
	if (rc < 0)
		return rc;
	if (reqp)
		*reqp = req;
	return 0;
}

int docker_events_watch(struct docker *d, const char *const *labels, backend_event_cb cb, void *arg,
			struct docker_req **reqp, struct hearth_error **err)
{
	_cleanup_buf_ struct buf filters = BUF_INIT(8192);
	struct docker_req *req;
	int rc;

	if (d->closing)
		return hearth_error_make(err, ECANCELED, "docker client is shutting down");
	rc = docker_filters(&filters, labels, true, err);
	if (rc < 0)
		return rc;
	req = calloc(1, sizeof(*req));
	if (!req)
		return hearth_error_make(err, ENOMEM, "out of memory");
	req->d = d;
	req->kind = DK_WATCH;
	req->cb.event = cb;
	req->arg = arg;
	/* only what happens from now on */
	req->since_ns = util_now_ms() * 1000000 - 1;
	buf_init(&req->reply, DOCKER_MAX_EVENT_LINE);
	req->method = strdup("GET");
	req->filters = buf_detach(&filters, NULL);
	req->deliver_ev = event_new(d->base, -1, 0, docker_watch_deliver_cb, req);
	req->retry_ev = evtimer_new(d->base, docker_watch_retry_cb, req);
	if (!req->method || !req->filters || !req->deliver_ev || !req->retry_ev) {
		rc = hearth_error_make(err, ENOMEM, "out of memory");
		goto fail;
	}
	rc = docker_watch_connect(req, err);
	if (rc < 0)
		goto fail;
	docker_req_link(d, req);
	if (reqp)
		*reqp = req;
	return 0;
fail:
	docker_req_free(req);
	return rc;
}

/* ---- the backend.h table ---- */

#define D(impl) ((struct docker *)(impl))
#define R(reqp) ((struct docker_req **)(void *)(reqp))

static int dops_ping(void *impl, backend_done_cb cb, void *arg, struct backend_req **reqp,
		     struct hearth_error **err)
{
	return docker_ping(D(impl), cb, arg, R(reqp), err);
}
static int dops_image_check(void *impl, const char *image, backend_done_cb cb, void *arg,
			    struct backend_req **reqp, struct hearth_error **err)
{
	return docker_image_check(D(impl), image, cb, arg, R(reqp), err);
}
static int dops_create(void *impl, const struct backend_spec *spec, backend_create_cb cb, void *arg,
		       struct backend_req **reqp, struct hearth_error **err)
{
	return docker_container_create(D(impl), spec, cb, arg, R(reqp), err);
}
static int dops_start(void *impl, const char *id, backend_done_cb cb, void *arg,
		      struct backend_req **reqp, struct hearth_error **err)
{
	return docker_container_start(D(impl), id, cb, arg, R(reqp), err);
}
static int dops_kill(void *impl, const char *id, int signo, backend_done_cb cb, void *arg,
		     struct backend_req **reqp, struct hearth_error **err)
{
	return docker_container_kill(D(impl), id, signo, cb, arg, R(reqp), err);
}
static int dops_remove(void *impl, const char *id, backend_done_cb cb, void *arg,
		       struct backend_req **reqp, struct hearth_error **err)
{
	return docker_container_remove(D(impl), id, cb, arg, R(reqp), err);
}
static int dops_update(void *impl, const char *id, unsigned memory_mb, backend_done_cb cb,
		       void *arg, struct backend_req **reqp, struct hearth_error **err)
{
	return docker_container_update(D(impl), id, memory_mb, cb, arg, R(reqp), err);
}
static int dops_list(void *impl, const char *const *labels, backend_list_cb cb, void *arg,
		     struct backend_req **reqp, struct hearth_error **err)
{
	return docker_container_list(D(impl), labels, cb, arg, R(reqp), err);
}
static int dops_inspect(void *impl, const char *id, backend_inspect_cb cb, void *arg,
			struct backend_req **reqp, struct hearth_error **err)
{
	return docker_container_inspect(D(impl), id, cb, arg, R(reqp), err);
}
static int dops_watch(void *impl, const char *const *labels, backend_event_cb cb, void *arg,
		      struct backend_req **reqp, struct hearth_error **err)
{
	return docker_events_watch(D(impl), labels, cb, arg, R(reqp), err);
}
static void dops_cancel(void *impl, struct backend_req *req)
{
	docker_cancel(D(impl), (struct docker_req *)(void *)req);
}
static bool dops_is_up(void *impl)
{
	return docker_is_up(D(impl));
}
static const char *dops_last_error(void *impl)
{
	return docker_last_error(D(impl));
}
static void dops_free(void *impl)
{
	docker_free(D(impl));
}

static const struct backend_ops docker_backend_ops = {
	.name = "docker",
	.ping = dops_ping,
	.image_check = dops_image_check,
	.create = dops_create,
	.start = dops_start,
	.kill = dops_kill,
	.remove = dops_remove,
	.update = dops_update,
	.list = dops_list,
	.inspect = dops_inspect,
	.watch = dops_watch,
	.cancel = dops_cancel,
	.is_up = dops_is_up,
	.last_error = dops_last_error,
	.free = dops_free,
};
