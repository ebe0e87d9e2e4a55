/* lambda.c — the AWS Lambda API under /2015-03-31/functions: Lambda's
 * requests and replies around the registry, the invoker and the durable
 * queue of asynchronous calls, so an AWS SDK or the AWS CLI pointed at
 * hearthd (endpoint_url) works unchanged.  The functions are the ones
 * /functions/ serves: a FunctionName is a name, an id or an ARN.  What the
 * JSON looks like is lambdajson.c's; what stays here is HTTP: the routes
 * of routes.h, authentication by SigV4 before any of them runs, Lambda's
 * headers, and every error in Lambda's shape. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include "asyncq.h"
#include "b64.h"
#include "bounds.h"
#include "buf.h"
#include "conns.h"
#include "envelope.h"
#include "http.h"
#include "invoke.h"
#include "jsontext.h"
#include "lambdajson.h"
#include "log.h"
#include "pool.h"
#include "registry.h"
#include "routes.h"
#include "sigv4.h"
#include "util.h"

#define LAMBDA_PREFIX "/2015-03-31"
#define LAMBDA_SERVICE "lambda"
#define LAMBDA_LIST_DEFAULT 50
#define LAMBDA_LIST_MAX 10000
/* As execute.c: a call still running after this long has its client's
 * socket watched. */
#define LAMBDA_WATCH_AFTER_MS 50

bool api_lambda_path(const char *path)
{
	size_t n = sizeof(LAMBDA_PREFIX) - 1;

	return strncmp(path, LAMBDA_PREFIX, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* ---- replies ------------------------------------------------------------------- */

/* x-amzn-RequestId on every reply, as Lambda sends it (an invocation's is
 * its own id): 64 random bits per daemon run and a counter. */
static void request_id(struct evhttp_request *req)
{
	static uint64_t prefix, counter;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char id[40];

	if (evhttp_find_header(h, "x-amzn-RequestId"))
		return;
	if (!prefix && getrandom(&prefix, sizeof(prefix), 0) != sizeof(prefix))
		prefix = (uint64_t)util_now_ms() ^ ((uint64_t)getpid() << 32);
	counter++;
	snprintf(id, sizeof(id),
		 "%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-b%03" PRIx64 "-%012" PRIx64,
		 prefix >> 32, (prefix >> 16) & 0xffff, prefix & 0xfff, (counter >> 48) & 0xfff,
		 counter & (uint64_t)0xffffffffffff);
	evhttp_add_header(h, "x-amzn-RequestId", id);
}

static void reply_json(struct evhttp_request *req, int code, json_object *o)
{
	request_id(req);
	http_reply_json(req, code, o);
}

/* Lambda's error: x-amzn-ErrorType and {"Type", "Message"|"message"}. */
static void reply_error_status(struct evhttp_request *req, int status, const char *msg)
{
	_cleanup_json_ json_object *body = NULL;
	struct lambdajson_error e;

	lambdajson_error_of(status, &e);
	if (e.http >= 500 && e.http != 501 && e.http != 503)
		log_error("lambda: %s %s: %s", http_method_name(evhttp_request_get_command(req)),
			  evhttp_request_get_uri(req), msg);
	evhttp_add_header(evhttp_request_get_output_headers(req), "x-amzn-ErrorType", e.type);
	if (e.http == 429)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
	body = lambdajson_error_body(&e, msg);
	reply_json(req, e.http, body);
}

void api_lambda_reply_error(struct evhttp_request *req, const struct hearth_error *e)
{
	reply_error_status(req, e ? e->status : EIO, e ? e->msg : "internal error");
}

/* "Function not found: arn:aws:lambda:...:function:NAME", for whatever
 * reference the client gave (an ARN as it is). */
static int not_found(struct api *a, const char *ref, struct hearth_error **err)
{
	char arn[LAMBDAJSON_ARN_MAX + 64];

	if (strncmp(ref, "arn:", 4) == 0)
		snprintf(arn, sizeof(arn), "%.*s", (int)sizeof(arn) - 1, ref);
	else
		lambdajson_arn(arn, a->aws_region, ref);
	return hearth_error_make(err, ENOENT, "Function not found: %s", arn);
}

/* ---- authentication ------------------------------------------------------------- */

/* A refusal as AWS's front door answers it, not Lambda: 403,
 * x-amzn-ErrorType and {"message"} alone. */
static void refuse(struct evhttp_request *req, enum sigv4_refusal why, const char *msg)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	log_info("lambda: %s %s refused: %s", http_method_name(evhttp_request_get_command(req)),
		 evhttp_request_get_uri(req), sigv4_refusal_type(why));
	evhttp_add_header(evhttp_request_get_output_headers(req), "x-amzn-ErrorType",
			  sigv4_refusal_type(why));
	if (o)
		json_object_object_add(o, "message", json_object_new_string(msg));
	reply_json(req, 403, o);
}

bool api_lambda_refused(struct api *a, struct evhttp_request *req)
{
	const char *uri = evhttp_request_get_uri(req);
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	_cleanup_free_ struct sigv4_header *hs = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_error_ struct hearth_error *err = NULL;
	struct sigv4_expect exp = { 0 };
	struct sigv4_request sr = { 0 };
	struct evkeyval *kv;
	enum sigv4_refusal why;
	size_t n = 0, plen;
	const char *q;

	TAILQ_FOREACH(kv, in, next)
		n++;
	hs = calloc(n ? n : 1, sizeof(*hs));
	q = strchr(uri, '?');
	plen = q ? (size_t)(q - uri) : strlen(uri);
	path = strndup(uri, plen);
	if (!hs || !path) {
		reply_error_status(req, ENOMEM, "out of memory");
		return true;
	}
	n = 0;
	TAILQ_FOREACH(kv, in, next) {
		hs[n].name = kv->key;
		hs[n++].value = kv->value;
	}
	sr.method = http_method_name(evhttp_request_get_command(req));
	sr.path = path;
	sr.query = q ? q + 1 : NULL;
	sr.headers = hs;
	sr.n_headers = n;
	/* The Lambda API authenticates by SigV4 alone, never by the bearer
	 * token.  Without a key pair it is as open as hearthd is: taken signed
	 * or not when hearthd has no token (it then serves loopback only, or
	 * was told --insecure); refused whole when it has one, since no
	 * signature could hold (sigv4_verify with no key says why as AWS
	 * would: missing, incomplete, or an unknown key). */
	if (!a->aws_access_key_id && !a->token)
		return false;
	sr.body_len = evbuffer_get_length(body);
	sr.body = sr.body_len ? (const void *)evbuffer_pullup(body, -1) : "";
	if (!sr.body) {
		reply_error_status(req, ENOMEM, "out of memory");
		return true;
	}
	exp.access_key_id = a->aws_access_key_id;
	exp.secret_access_key = a->aws_secret_access_key;
	exp.region = a->aws_region;
	exp.service = LAMBDA_SERVICE;
	exp.now = (int64_t)time(NULL);
	if (sigv4_verify(&exp, &sr, &why, &err) == 0)
		return false;
	if (err->status != EPERM)
		api_lambda_reply_error(req, err);
	else
		refuse(req, why, err->msg);
	return true;
}

/* ---- the pieces of a request ------------------------------------------------------ */

/* The function a FunctionName segment names (URL-encoded: an ARN's ':'
 * come as %3A); ref gets it decoded, for messages. */
static int resolve(struct api *a, const char *seg, int64_t *id, char ref[256],
		   struct hearth_error **err)
{
	size_t len = 0;
	char *dec = evhttp_uridecode(seg, 0, &len);
	int r;

	if (!dec)
		return hearth_error_make(err, ENOMEM, "out of memory");
	snprintf(ref, 256, "%s", dec);
	r = strlen(dec) == len && len < 256 ? registry_resolve(a->registry, dec, id, NULL)
					    : -ENOENT;
	free(dec);
	return r < 0 ? not_found(a, ref, err) : 0;
}

/* A query parameter, decoded, or NULL; the caller frees. */
static char *query_param(struct evhttp_request *req, const char *name)
{
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct evkeyvalq q;
	const char *v;
	char *out = NULL;

	TAILQ_INIT(&q);
	if (query && evhttp_parse_query_str(query, &q) == 0 && (v = evhttp_find_header(&q, name)))
		out = strdup(v);
	evhttp_clear_headers(&q);
	return out;
}

/* Hearth keeps one version of a function, $LATEST: any other Qualifier
 * names something that does not exist. */
static int check_qualifier(struct api *a, struct evhttp_request *req, const char *ref,
			   struct hearth_error **err)
{
	_cleanup_free_ char *qual = query_param(req, "Qualifier");
	char versioned[256 + 64];

	if (!qual || strcmp(qual, "$LATEST") == 0)
		return 0;
	snprintf(versioned, sizeof(versioned), "%.255s:%.60s", ref, qual);
	return not_found(a, versioned, err);
}

/* The body as one JSON object; Lambda's InvalidRequestContentException
 * when it is not. */
static int body_json(struct evhttp_request *req, json_object **out, struct hearth_error **err)
{
	int r = http_body_json(req, HTTP_BODY_MAX, JSONTEXT_NOT_NULL, out, err);

	if (r == -EBADMSG)
		return hearth_error_wrap(err, "Could not parse request body into json");
	return r;
}

/* A function's FunctionConfiguration, with the size of its code. */
static json_object *configuration(struct api *a, const struct fn *f)
{
	_cleanup_error_ struct hearth_error *e = NULL;
	int64_t size = 0;

	if (registry_code_size(a->registry, f, &size, &e) < 0)
		log_warn("lambda: function %" PRId64 ": %s", f->id, e->msg);
	return lambdajson_configuration(f, a->aws_region, size);
}

static int reply_configuration(struct api *a, struct evhttp_request *req, int code,
			       const struct fn *f, struct hearth_error **err)
{
	_cleanup_json_ json_object *o = configuration(a, f);

	if (!o)
		return hearth_error_make(err, ENOMEM, "out of memory");
	reply_json(req, code, o);
	return 0;
}

/* The bytes of a body with a zip can go once parsed (up to 70 MB). */
static void drop_body(struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);

	evbuffer_drain(in, evbuffer_get_length(in));
}

/* ---- the operations ------------------------------------------------------------------ */

int api_lambda_list(struct api *a, struct evhttp_request *req, const char *arg,
		    struct hearth_error **err)
{
	_cleanup_free_ char *marker_s = query_param(req, "Marker");
	_cleanup_free_ char *max_s = query_param(req, "MaxItems");
	_cleanup_json_ json_object *out = json_object_new_object();
	json_object *arr = json_object_new_array();
	int64_t marker = 0, max = LAMBDA_LIST_DEFAULT, last = 0;
	struct fn **list = NULL;
	size_t n = 0, taken = 0, i;
	int r;

	if (!out || !arr) {
		json_object_put(arr);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	json_object_object_add(out, "Functions", arr);
	if (max_s && util_parse_i64(max_s, 1, LAMBDA_LIST_MAX, &max, NULL) < 0)
		return hearth_error_make(err, EINVAL, "MaxItems: '%s' is not an integer in 1..%d",
					 max_s, LAMBDA_LIST_MAX);
	/* The marker is the id of the last function of the page before. */
	if (marker_s && util_parse_i64(marker_s, 0, INT64_MAX, &marker, NULL) < 0)
		return hearth_error_make(err, EINVAL,
					 "Marker: '%s' is not a marker ListFunctions gave",
					 marker_s);
	if ((r = registry_list(a->registry, &list, &n, err)) < 0)
		return r;
	for (i = 0; i < n && taken < (size_t)max; i++) {
		if (list[i]->id <= marker)
			continue;
		json_object_array_add(arr, configuration(a, list[i]));
		last = list[i]->id;
		taken++;
	}
	for (; i < n; i++)
		if (list[i]->id > last) {
			char next[24];

			snprintf(next, sizeof(next), "%" PRId64, last);
			json_object_object_add(out, "NextMarker", json_object_new_string(next));
			break;
		}
	registry_list_free(list, n);
	reply_json(req, 200, out);
	return 0;
}

/* The last part of a FunctionName that may be an ARN. */
static const char *plain_name(const char *ref)
{
	const char *fn = strstr(ref, ":function:");

	return fn ? fn + strlen(":function:") : ref;
}

int api_lambda_create(struct api *a, struct evhttp_request *req, const char *arg,
		      struct hearth_error **err)
{
	_cleanup_json_ json_object *body = NULL;
	_cleanup_free_ char *native = NULL;
	_cleanup_draft_ struct registry_draft *d = NULL;
	_cleanup_fn_ struct fn *f = NULL;
	json_object *name = NULL;
	char namebuf[FN_NAME_MAX + 1] = "";
	int r;

	if ((r = body_json(req, &body, err)) < 0 ||
	    (r = lambdajson_create_body(body, &native, err)) < 0)
		return r;
	if (json_object_object_get_ex(body, "FunctionName", &name))
		snprintf(namebuf, sizeof(namebuf), "%s", plain_name(json_object_get_string(name)));
	json_object_put(body);
	body = NULL;
	drop_body(req);
	if ((r = registry_draft_create(a->registry, native, strlen(native), &d, err)) < 0)
		return r;
	free(native);
	native = NULL;
	r = registry_commit(a->registry, d, &f, NULL, err);
	if (r == -EEXIST) {
		hearth_error_clear(err);
		return hearth_error_make(err, EEXIST, "Function already exist: %s", namebuf);
	}
	if (r < 0)
		return r;
	return reply_configuration(a, req, 201, f, err);
}

static int get_fn(struct api *a, struct evhttp_request *req, const char *seg, struct fn **f,
		  struct hearth_error **err)
{
	char ref[256];
	int64_t id;
	int r;

	if ((r = resolve(a, seg, &id, ref, err)) < 0 || (r = check_qualifier(a, req, ref, err)) < 0)
		return r;
	r = registry_get(a->registry, id, f, err);
	if (r == -ENOENT) {
		hearth_error_clear(err);
		return not_found(a, ref, err);
	}
	return r;
}

int api_lambda_get(struct api *a, struct evhttp_request *req, const char *seg,
		   struct hearth_error **err)
{
	_cleanup_fn_ struct fn *f = NULL;
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *code = json_object_new_object();
	int r;

	if (!o || !code) {
		json_object_put(code);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	json_object_object_add(o, "Code", code);
	if ((r = get_fn(a, req, seg, &f, err)) < 0)
		return r;
	json_object_object_add(o, "Configuration", configuration(a, f));
	/* Lambda adds a presigned S3 URL of the zip (Location); Hearth keeps
	 * the code unpacked, and has no zip to point at. */
	json_object_object_add(code, "RepositoryType", json_object_new_string("S3"));
	reply_json(req, 200, o);
	return 0;
}

int api_lambda_get_configuration(struct api *a, struct evhttp_request *req, const char *seg,
				 struct hearth_error **err)
{
	_cleanup_fn_ struct fn *f = NULL;
	int r;

	if ((r = get_fn(a, req, seg, &f, err)) < 0)
		return r;
	return reply_configuration(a, req, 200, f, err);
}

/* UpdateFunctionCode and UpdateFunctionConfiguration: a native update of
 * the function, after the RevisionId check Lambda does. */
static int update(struct api *a, struct evhttp_request *req, const char *seg, bool code,
		  struct hearth_error **err)
{
	_cleanup_json_ json_object *body = NULL;
	_cleanup_fn_ struct fn *cur = NULL;
	_cleanup_fn_ struct fn *f = NULL;
	_cleanup_draft_ struct registry_draft *d = NULL;
	struct lambdajson_update u = { 0 };
	char rev[37];
	int r;

	if ((r = get_fn(a, req, seg, &cur, err)) < 0 || (r = body_json(req, &body, err)) < 0)
		return r;
	r = code ? lambdajson_update_code_body(body, &u, err)
		 : lambdajson_update_config_body(body, &u, err);
	if (r < 0)
		goto out;
	lambdajson_revision_id(cur, rev);
	if (u.revision_id && strcmp(u.revision_id, rev) != 0) {
		r = hearth_error_make(
			err, ESTALE,
			"The Revision Id provided does not match the latest Revision "
			"Id. Call the GetFunction/GetAlias API to retrieve the latest "
			"Revision Id");
		goto out;
	}
	json_object_put(body);
	body = NULL;
	drop_body(req);
	if ((r = registry_draft_update(a->registry, cur->id, u.native, strlen(u.native), &d, err)) <
	    0)
		goto out;
	free(u.native);
	u.native = NULL;
	/* DryRun: checked, not stored. */
	if (u.dry_run) {
		r = reply_configuration(a, req, 200, cur, err);
		goto out;
	}
	if ((r = registry_commit(a->registry, d, &f, NULL, err)) < 0)
		goto out;
	r = reply_configuration(a, req, 200, f, err);
out:
	free(u.native);
	return r;
}

int api_lambda_update_code(struct api *a, struct evhttp_request *req, const char *seg,
			   struct hearth_error **err)
{
	return update(a, req, seg, true, err);
}

int api_lambda_update_configuration(struct api *a, struct evhttp_request *req, const char *seg,
				    struct hearth_error **err)
{
	return update(a, req, seg, false, err);
}

int api_lambda_delete(struct api *a, struct evhttp_request *req, const char *seg,
		      struct hearth_error **err)
{
	char ref[256];
	int64_t id;
	int r;

	if ((r = resolve(a, seg, &id, ref, err)) < 0 || (r = check_qualifier(a, req, ref, err)) < 0)
		return r;
	if ((r = registry_delete(a->registry, id, err)) == -ENOENT) {
		hearth_error_clear(err);
		return not_found(a, ref, err);
	}
	if (r < 0)
		return r;
	request_id(req);
	http_finish(req, 204, NULL);
	return 0;
}

/* ---- Invoke ---------------------------------------------------------------------------- */

struct lambda_call {
	struct api *a;
	struct evhttp_request *req;
	struct invoke_call *call;
	struct http_watch *watch;
	bool tail;
	char ref[256];
};

static void call_client_left(void *arg)
{
	struct lambda_call *lc = arg;

	log_info("lambda: client left before call %s was answered", invoke_call_id(lc->call));
	invoke_abandon(lc->call);
	free(lc);
}

/* X-Amz-Log-Result: the last 4 KB of the call's logs as Lambda writes
 * them, base64 (cut at a character, not inside one). */
static void add_tail(struct evhttp_request *req, const struct pool_result *res)
{
	_cleanup_buf_ struct buf logs = BUF_INIT(ENVELOPE_LAMBDA_LOGS_MAX);
	_cleanup_free_ char *tail = NULL;
	const char *p;
	size_t n;

	if (envelope_write_lambda_logs(&logs, res, INVOKE_LOGS_MAX, util_now_ms(), NULL) < 0)
		return;
	p = logs.ptr;
	n = logs.len;
	if (n > LAMBDAJSON_TAIL_MAX) {
		p += n - LAMBDAJSON_TAIL_MAX;
		n = LAMBDAJSON_TAIL_MAX;
		while (n && ((unsigned char)*p & 0xc0) == 0x80) {
			p++;
			n--;
		}
	}
	if (b64_encode(p, n, &tail, NULL, NULL) == 0)
		evhttp_add_header(evhttp_request_get_output_headers(req), "X-Amz-Log-Result", tail);
}

static void on_invoked(void *arg, const struct pool_result *res, const struct hearth_error *perr)
{
	struct lambda_call *lc = arg;
	struct evkeyvalq *h = evhttp_request_get_output_headers(lc->req);
	_cleanup_buf_ struct buf b = BUF_INIT(INVOKE_PAYLOAD_MAX + INVOKE_ENVELOPE_EXTRA);
	_cleanup_error_ struct hearth_error *err = NULL;
	/* Taken before the reply: a request whose client left is freed by it. */
	struct evhttp_connection *evcon = evhttp_request_get_connection(lc->req);
	struct conns *conns = lc->a->conns;

	http_watch_stop(lc->watch);
	if (!res) {
		if (perr->status == ENOENT)
			not_found(lc->a, lc->ref, &err);
		else
			hearth_error_make(&err, perr->status, "%s", perr->msg);
		api_lambda_reply_error(lc->req, err);
		free(lc);
		return;
	}
	evhttp_add_header(h, "x-amzn-RequestId", res->request_id);
	evhttp_add_header(h, "X-Amz-Executed-Version", "$LATEST");
	if (lc->tail)
		add_tail(lc->req, res);
	if (res->status == INVOCATION_SUCCESS) {
		/* A large result goes out from its own block, not copied. */
		void *block = pool_result_take(res);

		if (block)
			http_reply_block(lc->req, 200, "application/json", NULL, block,
					 res->result.ptr, res->result.len, NULL);
		else
			http_reply_bytes(lc->req, 200, "application/json", res->result.ptr,
					 res->result.len);
	} else if (lambdajson_invoke_error(&b, res, &err) < 0) {
		api_lambda_reply_error(lc->req, err);
	} else {
		/* Every failure the runtime reports is "Unhandled" today, as on
		 * Lambda (only the retired Node.js callback(err) style gave
		 * "Handled"). */
		evhttp_add_header(h, "X-Amz-Function-Error", "Unhandled");
		http_reply_bytes(lc->req, 200, "application/json", b.ptr, b.len);
	}
	free(lc);
	/* From the pool, not from evhttp: the reply can go now (conns.h). */
	if (evcon)
		conns_send_now(conns, evcon);
}

/* Event: the call is committed to the durable queue before the 202, and
 * its id is the x-amzn-RequestId, as Lambda's is; a full queue is Lambda's
 * throttle (429 TooManyRequestsException). */
static int invoke_event(struct api *a, struct evhttp_request *req, int64_t id, const char *ref,
			const char *data, size_t len, struct hearth_error **err)
{
	char call_id[INVOKE_ID_LEN];
	int r = asyncq_submit(a->asyncq, id, data, len, call_id, err);

	if (r == -ENOENT) {
		hearth_error_clear(err);
		return not_found(a, ref, err);
	}
	if (r < 0)
		return r;
	evhttp_add_header(evhttp_request_get_output_headers(req), "x-amzn-RequestId", call_id);
	http_finish(req, 202, NULL);
	return 0;
}

/* The hot path of the Lambda API: the function comes from memory, the
 * payload goes to the invoker as it came, the result back as it came. */
int api_lambda_invoke(struct api *a, struct evhttp_request *req, const char *seg,
		      struct hearth_error **err)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *type = evhttp_find_header(in, "X-Amz-Invocation-Type");
	const char *log_type = evhttp_find_header(in, "X-Amz-Log-Type");
	struct lambdajson_invoke opt;
	struct lambda_call *lc;
	char ref[256];
	const char *data;
	size_t len;
	int64_t id;
	int r;

	if ((r = resolve(a, seg, &id, ref, err)) < 0 ||
	    (r = check_qualifier(a, req, ref, err)) < 0 ||
	    (r = lambdajson_invoke_options(type, log_type, &opt, err)) < 0)
		return r;
	if (!pool_knows(a->pool, id))
		return not_found(a, ref, err);
	if ((r = http_body(req, INVOKE_PAYLOAD_MAX, &data, &len, NULL)) < 0)
		return r != -E2BIG ? hearth_error_make(err, -r, "out of memory")
				   : hearth_error_make(err, E2BIG,
						       "Request must be smaller than %u bytes for "
						       "the InvokeFunction operation",
						       INVOKE_PAYLOAD_MAX);
	if ((r = lambdajson_invoke_payload(data, len, &data, &len, err)) < 0)
		return r;
	if (opt.type == LAMBDAJSON_DRY_RUN) {
		request_id(req);
		http_finish(req, 204, NULL);
		return 0;
	}
	if (opt.type == LAMBDAJSON_EVENT)
		return invoke_event(a, req, id, ref, data, len, err);
	lc = calloc(1, sizeof(*lc));
	if (!lc)
		return hearth_error_make(err, ENOMEM, "out of memory");
	lc->a = a;
	lc->req = req;
	lc->tail = opt.tail;
	snprintf(lc->ref, sizeof(lc->ref), "%s", ref);
	if ((r = invoke_start(a->invoker, id, data, len, on_invoked, lc, &lc->call, err)) < 0) {
		free(lc);
		if (r != -ENOENT)
			return r;
		hearth_error_clear(err);
		return not_found(a, ref, err);
	}
	lc->watch = http_watch_new(req, a->conns, a->base, LAMBDA_WATCH_AFTER_MS, call_client_left,
				   lc);
	return 0;
}
