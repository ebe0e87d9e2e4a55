/* lambda_map.c — fuzz harness: the Lambda API's requests mapped onto
 * Hearth's function spec (src/api/lambdajson.c): CreateFunction,
 * UpdateFunctionCode and UpdateFunctionConfiguration bodies into native
 * bodies, the native bodies on through src/registry/function.c, and the
 * record back out as Lambda's FunctionConfiguration; Invoke's headers and
 * body; a failed invocation's payload.
 *
 * The input: an operation byte (mod 5), then
 *   0, 1, 2  a JSON body: CreateFunction, UpdateFunctionCode,
 *            UpdateFunctionConfiguration;
 *   3        Invoke: a byte whose bits say which headers are present, then
 *            the X-Amz-Invocation-Type line, the X-Amz-Log-Type line and the
 *            body;
 *   4        an invocation's failure: a status byte, the lengths of the
 *            error type and message (a byte each), then the type, the
 *            message and the stack.
 *
 * Beyond not crashing:
 *   - a Lambda body is accepted exactly when the rules, written again
 *     here, say it is (types, FunctionName, Handler and Runtime, inline
 *     Code.ZipFile and nothing in S3 or an image, Zip packages, no layers,
 *     no file systems); a refusal is -EINVAL (-EBADMSG when not an object)
 *     with a message and hands nothing back;
 *   - what is accepted becomes strict JSON holding the request's settings
 *     under Hearth's names, nothing else, FunctionName's ARN reduced to the
 *     name, the string values whole (their full length, NUL and all);
 *   - the native body goes through Hearth's validation: refused with
 *     -EINVAL naming a field, or accepted as a record whose settings are
 *     the request's (the rest defaults on create, untouched on update),
 *     whose FunctionConfiguration says the request's values back;
 *   - Invoke: accepted exactly for Lambda's enum values; the event is the
 *     body as it came ("{}" when blank) and one JSON value;
 *   - a failure's payload is strict JSON with Lambda's members, the
 *     handler's type and message intact when they are UTF-8. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "function.h"
#include "fuzz.h"
#include "jsontext.h"
#include "lambdajson.h"

/* ---- json-c shorthands ---------------------------------------------------------- */

/* A member that is there and not null (json-c's null is a NULL object). */
static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static bool absent_or(json_object *o, const char *key, json_type t)
{
	json_object *v = get(o, key);

	return !v || json_object_is_type(v, t);
}

/* A string member with no NUL in it, or not a string, or absent. */
static bool no_nul(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return !v || !json_object_is_type(v, json_type_string) ||
	       strlen(json_object_get_string(v)) == (size_t)json_object_get_string_len(v);
}

static bool same_bytes(json_object *v, const char *s, size_t n)
{
	return v && json_object_is_type(v, json_type_string) &&
	       (size_t)json_object_get_string_len(v) == n &&
	       !memcmp(json_object_get_string(v), s, n);
}

static bool empty_or_absent(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return !v || (json_object_is_type(v, json_type_array) && !json_object_array_length(v)) ||
	       (json_object_is_type(v, json_type_object) && !json_object_object_length(v));
}

/* ---- the rules, again ---------------------------------------------------------- */

/* What CreateFunction and UpdateFunctionConfiguration share. */
static bool config_ok(json_object *req)
{
	json_object *env = get(req, "Environment");

	return absent_or(req, "Handler", json_type_string) &&
	       absent_or(req, "Runtime", json_type_string) &&
	       absent_or(req, "Role", json_type_string) &&
	       absent_or(req, "Description", json_type_string) &&
	       absent_or(req, "Timeout", json_type_int) &&
	       absent_or(req, "MemorySize", json_type_int) &&
	       absent_or(req, "Environment", json_type_object) &&
	       (!env || absent_or(env, "Variables", json_type_object)) &&
	       empty_or_absent(req, "Layers") && empty_or_absent(req, "FileSystemConfigs");
}

/* Code (or UpdateFunctionCode's body): inline ZipFile only. */
static bool code_ok(json_object *code)
{
	return !get(code, "S3Bucket") && !get(code, "S3Key") && !get(code, "S3ObjectVersion") &&
	       !get(code, "ImageUri") && get(code, "ZipFile") &&
	       json_object_is_type(get(code, "ZipFile"), json_type_string);
}

/* FunctionName's last part, (a name or an ARN): its bytes and length. */
static bool name_of(json_object *req, const char **name, size_t *len)
{
	json_object *v = get(req, "FunctionName");
	const char *s, *fn = NULL;
	size_t n;

	if (!v || !json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	for (size_t i = 0; i + 10 <= n && !fn; i++)
		if (!memcmp(s + i, ":function:", 10))
			fn = s + i + 10;
	if (fn) {
		n -= (size_t)(fn - s);
		s = fn;
		if (memchr(s, ':', n))
			return false;
	}
	*name = s;
	*len = n;
	return true;
}

static bool create_ok(json_object *req)
{
	json_object *pkg = get(req, "PackageType"), *code = get(req, "Code");
	const char *n;
	size_t len;

	return name_of(req, &n, &len) && config_ok(req) &&
	       absent_or(req, "Architectures", json_type_array) &&
	       (!pkg || same_bytes(pkg, "Zip", 3)) && get(req, "Handler") && get(req, "Runtime") &&
	       code && json_object_is_type(code, json_type_object) && code_ok(code);
}

/* ---- the native body ------------------------------------------------------------ */

struct map {
	const char *lambda, *native;
};
static const struct map config_map[] = {
	{ "Handler", "handler" },	  { "Runtime", "runtime" }, { "Role", "role" },
	{ "Description", "description" }, { "Timeout", "timeout" }, { "MemorySize", "memory" },
};

/* The native body: strict JSON, an object of the keys allowed, each
 * member the request's, whole. */
static json_object *check_native(const char *text, json_object *req, bool create, bool code)
{
	json_object *n = NULL, *env = get(req, "Environment"), *want;
	size_t keys = 0;

	FUZZ_CHECK(text && jsontext_is_value(text, strlen(text)), "native body not JSON: %s",
		   text ? text : "(null)");
	FUZZ_CHECK(jsontext_parse(text, strlen(text), JSONTEXT_NOT_NULL, "native", &n, NULL) == 0 &&
			   json_object_is_type(n, json_type_object),
		   "native body not an object: %s", text);
	if (!code)
		for (size_t i = 0; i < sizeof(config_map) / sizeof(config_map[0]); i++) {
			want = get(req, config_map[i].lambda);
			keys += !!want;
			FUZZ_CHECK(want ? json_object_equal(want, get(n, config_map[i].native))
					: !get(n, config_map[i].native),
				   "%s is not %s: %s", config_map[i].native, config_map[i].lambda,
				   text);
		}
	if (!code && env) {
		want = get(env, "Variables");
		keys++;
		FUZZ_CHECK(want ? json_object_equal(want, get(n, "env"))
				: json_object_object_length(get(n, "env")) == 0,
			   "env is not Environment.Variables: %s", text);
	}
	if (create || code) {
		want = get(req, "Architectures");
		keys += !!want;
		FUZZ_CHECK(want ? json_object_equal(want, get(n, "architectures"))
				: !get(n, "architectures"),
			   "architectures: %s", text);
		want = get(code ? req : get(req, "Code"), "ZipFile");
		keys++;
		FUZZ_CHECK(json_object_equal(want, get(n, "zip")), "zip is not ZipFile: %s", text);
	}
	if (create) {
		const char *name;
		size_t len;

		FUZZ_CHECK(name_of(req, &name, &len), "no name");
		keys++;
		FUZZ_CHECK(same_bytes(get(n, "name"), name, len),
			   "name is not FunctionName's last part (%zu bytes): %s", len, text);
	}
	FUZZ_CHECK((size_t)json_object_object_length(n) == keys, "%d keys, %zu expected: %s",
		   json_object_object_length(n), keys, text);
	return n;
}

/* ---- on through Hearth's validation ------------------------------------------------ */

static const char *const fields[] = { "body",	"name",	     "language",     "handler", "timeout",
				      "memory", "env",	     "description",  "runtime", "role",
				      "zip",	"code, zip", "architectures" };

static void check_refusal(const char *what, int r, const struct hearth_error *err)
{
	FUZZ_CHECK(r == -EINVAL || r == -EBADMSG, "%s returned %d", what, r);
	FUZZ_CHECK(err && err->status == -r && err->msg && *err->msg, "%s: error without message",
		   what);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		size_t n = strlen(fields[i]);

		if (!strncmp(err->msg, fields[i], n) && err->msg[n] == ':')
			return;
	}
	fuzz_fail(__FILE__, __LINE__, "message names a field", "%s: %s", what, err->msg);
}

static bool str_is(const char *s, json_object *v)
{
	return s && same_bytes(v, s, strlen(s));
}

/* The record holds the native body's settings (or, for those it does
 * not carry, was's); its FunctionConfiguration says them back. */
static void check_record(const struct fn *f, json_object *n, const struct fn *was)
{
	json_object *v, *conf, *env, *cenv;

	if ((v = get(n, "name")))
		FUZZ_CHECK(str_is(f->name, v), "name %s", f->name);
	else
		FUZZ_CHECK(was && !strcmp(f->name, was->name), "name moved");
	if ((v = get(n, "handler")))
		FUZZ_CHECK(str_is(f->handler, v), "handler %s", f->handler);
	if ((v = get(n, "runtime")))
		FUZZ_CHECK(str_is(f->runtime, v) &&
				   !strcmp(f->language, fn_runtime_language(f->runtime)),
			   "runtime %s, language %s", f->runtime, f->language);
	if ((v = get(n, "role")))
		FUZZ_CHECK(str_is(f->role, v), "role");
	else
		FUZZ_CHECK(was ? !strcmp(f->role ? f->role : "", was->role ? was->role : "")
			       : !f->role,
			   "role moved");
	if ((v = get(n, "description")))
		FUZZ_CHECK(str_is(f->description, v), "description");
	if ((v = get(n, "timeout")))
		FUZZ_CHECK(json_object_get_int64(v) == f->timeout_s, "timeout %d", f->timeout_s);
	else
		FUZZ_CHECK(f->timeout_s == (was ? was->timeout_s : 3), "timeout moved");
	if ((v = get(n, "memory")))
		FUZZ_CHECK(json_object_get_int64(v) == f->memory_mb, "memory %d", f->memory_mb);
	else
		FUZZ_CHECK(f->memory_mb == (was ? was->memory_mb : 128), "memory moved");
	if (was) {
		FUZZ_CHECK(f->id == was->id && f->revision == was->revision &&
				   f->min_warm == was->min_warm &&
				   f->max_concurrency == was->max_concurrency &&
				   f->async_retries == was->async_retries &&
				   !strcmp(f->route ? f->route : "", was->route ? was->route : ""),
			   "an update touched what the Lambda API does not carry");
		if (!get(n, "env"))
			FUZZ_CHECK(!strcmp(f->env_json, was->env_json), "env moved");
	}

	conf = lambdajson_configuration(f, "us-east-1", 1234);
	FUZZ_CHECK(conf, "no configuration");
	FUZZ_CHECK(str_is(f->name, get(conf, "FunctionName")) &&
			   str_is(f->handler, get(conf, "Handler")) &&
			   (!f->runtime || str_is(f->runtime, get(conf, "Runtime"))) &&
			   (!f->role || str_is(f->role, get(conf, "Role"))) &&
			   str_is(f->description ? f->description : "", get(conf, "Description")) &&
			   json_object_get_int64(get(conf, "Timeout")) == f->timeout_s &&
			   json_object_get_int64(get(conf, "MemorySize")) == f->memory_mb,
		   "the configuration does not say the record: %s",
		   json_object_to_json_string(conf));
	env = json_tokener_parse(f->env_json);
	cenv = get(get(conf, "Environment"), "Variables");
	FUZZ_CHECK(json_object_object_length(env) ? json_object_equal(env, cenv) : !cenv,
		   "Environment.Variables is not the env: %s", f->env_json);
	if ((v = get(n, "env")))
		FUZZ_CHECK(json_object_equal(env, v), "env %s", f->env_json);
	if ((v = get(n, "architectures")))
		FUZZ_CHECK(json_object_equal(v, get(conf, "Architectures")), "architectures");
	json_object_put(env);
	json_object_put(conf);
}

static struct fn *base_fn(void)
{
	static const char body[] = "{\"name\":\"base\",\"runtime\":\"python3.12\",\"code\":\"x\","
				   "\"route\":\"/base\",\"env\":{\"K\":\"v\"},\"role\":\"r\","
				   "\"max_concurrency\":5,\"min_warm\":1,\"timeout\":9}";
	static struct fn *base;
	json_object *j = NULL;
	struct fn_upload up;

	if (base)
		return base;
	FUZZ_CHECK(fn_parse_body(body, strlen(body), &j, NULL) == 0 &&
			   fn_from_create_json(j, &base, &up, NULL) == 0,
		   "the base function");
	fn_upload_release(&up);
	json_object_put(j);
	base->id = 7;
	base->revision = 3;
	return base;
}

/* The native body through fn_parse_body and create or update. */
static void through_hearth(const char *text, json_object *n, bool create)
{
	struct hearth_error *err = NULL;
	json_object *body = NULL;
	struct fn *f = NULL;
	struct fn_upload up;
	int r;

	r = fn_parse_body(text, strlen(text), &body, &err);
	FUZZ_CHECK(r == 0, "Hearth cannot read the native body (%s): %s", err ? err->msg : "",
		   text);
	r = create ? fn_from_create_json(body, &f, &up, &err)
		   : fn_apply_update_json(base_fn(), body, &f, &up, &err);
	if (r < 0) {
		FUZZ_CHECK(!f, "a refusal handed a record back");
		check_refusal(create ? "create" : "update", r, err);
	} else {
		FUZZ_CHECK(f && !err, "accepted without a record");
		FUZZ_CHECK(!get(n, "zip") || up.kind == FN_CODE_ZIP, "zip upload kind %d", up.kind);
		check_record(f, n, create ? NULL : base_fn());
		fn_upload_release(&up);
		fn_free(f);
	}
	hearth_error_free(err);
	json_object_put(body);
}

/* ---- the operations ----------------------------------------------------------------- */

static void lambda_body(int op, const char *text, size_t size)
{
	struct hearth_error *err = NULL;
	struct lambdajson_update u = { 0 };
	json_object *req = NULL, *n, *rev;
	char *native = NULL;
	bool want;
	int r;

	if (jsontext_parse(text, size, JSONTEXT_NOT_NULL, "body", &req, NULL) < 0)
		return; /* json_strict's ground; lambda.c answers it before any mapping */
	if (op == 0) {
		want = json_object_is_type(req, json_type_object) && create_ok(req);
		r = lambdajson_create_body(req, &native, &err);
	} else if (op == 1) {
		want = json_object_is_type(req, json_type_object) && code_ok(req) &&
		       absent_or(req, "Architectures", json_type_array) &&
		       absent_or(req, "DryRun", json_type_boolean) &&
		       absent_or(req, "RevisionId", json_type_string) && no_nul(req, "RevisionId");
		r = lambdajson_update_code_body(req, &u, &err);
		native = u.native;
	} else {
		want = json_object_is_type(req, json_type_object) && config_ok(req) &&
		       absent_or(req, "RevisionId", json_type_string) && no_nul(req, "RevisionId");
		r = lambdajson_update_config_body(req, &u, &err);
		native = u.native;
	}
	FUZZ_CHECK((r == 0) == want, "operation %d %s what the rules %s: %s", op,
		   r == 0 ? "accepted" : "refused", want ? "accept" : "refuse",
		   err ? err->msg : "");
	if (r < 0) {
		FUZZ_CHECK(!native, "a refusal handed a body back");
		FUZZ_CHECK(r == (json_object_is_type(req, json_type_object) ? -EINVAL : -EBADMSG) &&
				   err && err->status == -r && err->msg && *err->msg,
			   "refused with %d", r);
		goto out;
	}
	FUZZ_CHECK(!err, "accepted with an error");
	if (op > 0) {
		rev = get(req, "RevisionId");
		FUZZ_CHECK(rev ? u.revision_id &&
					   same_bytes(rev, u.revision_id, strlen(u.revision_id))
			       : !u.revision_id,
			   "RevisionId is not the request's (%zu bytes)",
			   rev ? (size_t)json_object_get_string_len(rev) : 0);
	}
	if (op == 1)
		FUZZ_CHECK(u.dry_run == (get(req, "DryRun") &&
					 json_object_get_boolean(get(req, "DryRun"))),
			   "DryRun");
	n = check_native(native, req, op == 0, op == 1);
	through_hearth(native, n, op == 0);
	json_object_put(n);
out:
	free(native);
	hearth_error_free(err);
	json_object_put(req);
}

static char *line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	const uint8_t *stop = nl ? nl : end;
	char *s = strndup((const char *)*p, (size_t)(stop - *p));

	FUZZ_CHECK(s, "out of memory");
	*p = nl ? nl + 1 : end;
	return s;
}

static bool blank(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r\n", s[i]) || !s[i])
			return false;
	return true;
}

static void invoke(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 1, *end = data + size;
	char *type, *log;
	const char *it, *lt, *payload = NULL;
	struct lambdajson_invoke o;
	struct hearth_error *err = NULL;
	size_t plen = 0;
	bool want;
	int r;

	if (size < 1)
		return;
	type = line(&p, end);
	log = line(&p, end);
	it = data[0] & 1 ? type : NULL;
	lt = data[0] & 2 ? log : NULL;
	want = (!it || !strcmp(it, "RequestResponse") || !strcmp(it, "Event") ||
		!strcmp(it, "DryRun")) &&
	       (!lt || !strcmp(lt, "Tail") || !strcmp(lt, "None"));
	r = lambdajson_invoke_options(it, lt, &o, &err);
	FUZZ_CHECK((r == 0) == want, "options %s / %s: %d", it ? it : "-", lt ? lt : "-", r);
	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL && err && err->status == EINVAL && err->msg &&
				   strstr(err->msg, "validation error"),
			   "refused with %d", r);
		hearth_error_clear(&err);
	} else {
		FUZZ_CHECK(o.type == (!it || !strcmp(it, "RequestResponse") ? LAMBDAJSON_SYNC
				      : !strcmp(it, "Event")		    ? LAMBDAJSON_EVENT
									    : LAMBDAJSON_DRY_RUN),
			   "invocation type %d for %s", o.type, it);
		FUZZ_CHECK(o.tail == (lt && !strcmp(lt, "Tail")), "tail %d for %s", o.tail, lt);
	}

	r = lambdajson_invoke_payload((const char *)p, (size_t)(end - p), &payload, &plen, &err);
	if (blank(p, (size_t)(end - p))) {
		FUZZ_CHECK(r == 0 && plen == 2 && !memcmp(payload, "{}", 2), "a blank body");
	} else if (jsontext_is_value((const char *)p, (size_t)(end - p))) {
		FUZZ_CHECK(r == 0 && payload == (const char *)p && plen == (size_t)(end - p),
			   "the payload is not the body as it came");
	} else {
		FUZZ_CHECK(r == -EBADMSG && !payload && err && err->status == EBADMSG,
			   "a body that is no JSON went through (%d)", r);
	}
	FUZZ_CHECK(r < 0 || jsontext_is_value(payload, plen), "the event is not JSON");
	hearth_error_free(err);
	free(type);
	free(log);
}

/* ---- a failure's payload -------------------------------------------------------------- */

/* RFC 3629 UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static bool utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], need, min, cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, min = 0x80, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, min = 0x800, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, min = 0x10000, cp = c & 0x07;
		else
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

static void failure(const uint8_t *data, size_t size)
{
	static const char id[] = "11111111-2222-4333-a444-555555555555";
	struct pool_result res = { 0 };
	struct buf b = BUF_INIT(1 << 22);
	json_object *o = NULL, *stack = NULL;
	size_t tl, ml;
	int r;

	if (size < 3)
		return;
	res.request_id = id;
	res.status = (enum invocation_status)(1 + data[0] % 3);
	res.timeout_s = 1 + data[0];
	tl = data[1];
	ml = data[2];
	data += 3;
	size -= 3;
	tl = tl < size ? tl : size;
	ml = ml < size - tl ? ml : size - tl;
	res.error_type = (struct bytes){ (const char *)data, tl };
	res.error_message = (struct bytes){ (const char *)data + tl, ml };
	res.error_stack = (struct bytes){ (const char *)data + tl + ml, size - tl - ml };

	r = lambdajson_invoke_error(&b, &res, NULL);
	FUZZ_CHECK(r == 0, "invoke_error failed: %d", r);
	FUZZ_CHECK(jsontext_is_value(b.ptr, b.len), "not JSON: %s", b.ptr);
	/* A stack nested deeper than json-c builds trees for (64) passes
	 * as it came; the scanner checked it. */
	if (res.status == INVOCATION_ERROR && res.error_stack.len &&
	    res.error_stack.ptr[0] == '[' &&
	    jsontext_is_value(res.error_stack.ptr, res.error_stack.len) &&
	    jsontext_parse(res.error_stack.ptr, res.error_stack.len, JSONTEXT_NOT_NULL, "stack",
			   &stack, NULL) < 0)
		goto out;
	FUZZ_CHECK(jsontext_parse(b.ptr, b.len, 0, "error", &o, NULL) == 0 &&
			   json_object_is_type(o, json_type_object) &&
			   json_object_is_type(get(o, "errorMessage"), json_type_string) &&
			   json_object_is_type(get(o, "errorType"), json_type_string),
		   "not Lambda's error: %s", b.ptr);
	if (res.status == INVOCATION_TIMEOUT) {
		FUZZ_CHECK(str_is("Sandbox.Timedout", get(o, "errorType")), "timeout's type");
	} else if (utf8((const unsigned char *)res.error_type.ptr, res.error_type.len)) {
		FUZZ_CHECK(same_bytes(get(o, "errorType"), res.error_type.ptr, res.error_type.len),
			   "errorType is not the handler's");
	}
	if (res.status == INVOCATION_ERROR) {
		if (utf8((const unsigned char *)res.error_message.ptr, res.error_message.len))
			FUZZ_CHECK(same_bytes(get(o, "errorMessage"), res.error_message.ptr,
					      res.error_message.len),
				   "errorMessage is not the handler's");
		FUZZ_CHECK(str_is(id, get(o, "requestId")), "requestId");
		if (stack)
			FUZZ_CHECK(json_object_equal(stack, get(o, "stackTrace")), "stackTrace");
		else
			FUZZ_CHECK(json_object_is_type(get(o, "stackTrace"), json_type_array) &&
					   !json_object_array_length(get(o, "stackTrace")),
				   "a stack that is no list is not []");
	}
out:
	json_object_put(stack);
	json_object_put(o);
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 3: invoke(data + 1, size - 1); break;
	case 4: failure(data + 1, size - 1); break;
	default: lambda_body(data[0] % 5, (const char *)data + 1, size - 1); break;
	}
	return 0;
}
