/* fn_body.c — fuzz harness: a create or update body, as POST and PUT
 * /functions/ take it, through src/registry/function.c (fn_parse_body,
 * fn_from_create_json, fn_apply_update_json), as tests/unit/test_function.c
 * drives them.
 *
 * Beyond not crashing, it holds the validation to its contract:
 *   - a refusal hands nothing back, carries -EBADMSG (malformed JSON) or
 *     -EINVAL (an invalid field) in both the return and the error, and its
 *     message names a field ("name: ...") or the body;
 *   - a record accepted is valid field by field, checked here again by
 *     rules written independently of function.c (the bounds of bounds.h,
 *     the charsets of docs/ARCHITECTURE.md);
 *   - what hearthd answers is what it takes: the record's JSON form
 *     (fn_to_json), read back as a create body and as an update, gives the
 *     same settings (fn_same_config), and fn_dup copies them;
 *   - the handler's file names stay inside the code folder. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

#include "b64.h"
#include "function.h"
#include "fuzz.h"
#include "jsontext.h"

/* ---- the rules, again ------------------------------------------------------ */

static bool all_of(const char *s, size_t len, const char *set)
{
	return strspn(s, set) >= len;
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

static void check_name(const char *n)
{
	size_t len = n ? strlen(n) : 0;

	FUZZ_CHECK(n && len >= 1 && len <= FN_NAME_MAX, "name length %zu", len);
	FUZZ_CHECK(all_of(n, len, ALNUM "_-"), "name '%s' outside [A-Za-z0-9_-]", n);
	FUZZ_CHECK(!all_of(n, len, "0123456789"), "name '%s' reads as an id", n);
}

/* module.function: segments of [A-Za-z0-9_$-] joined by '/', an
 * identifier after the last dot. */
static void check_handler(const char *h)
{
	const char *dot = h ? strrchr(h, '.') : NULL;
	size_t len = h ? strlen(h) : 0;

	FUZZ_CHECK(h && len >= 3 && len <= FN_HANDLER_MAX && dot && dot > h, "handler '%s'",
		   h ? h : "(null)");
	FUZZ_CHECK(dot[1] && strchr(ALNUM "_$", dot[1]) && !(dot[1] >= '0' && dot[1] <= '9') &&
			   all_of(dot + 1, strlen(dot + 1), ALNUM "_$"),
		   "handler '%s': function not an identifier", h);
	for (const char *seg = h; seg < dot;) {
		size_t n = strcspn(seg, "/");

		if (seg + n > dot)
			n = (size_t)(dot - seg);
		FUZZ_CHECK(n > 0 && all_of(seg, n, ALNUM "_$-"), "handler '%s': bad module segment",
			   h);
		seg += n;
		if (seg < dot) {
			FUZZ_CHECK(*seg == '/' && seg + 1 < dot, "handler '%s': bad folder", h);
			seg++;
		}
	}
}

static void check_route(const char *r)
{
	size_t len;

	if (!r)
		return;
	len = strlen(r);
	FUZZ_CHECK(len >= 2 && len <= FN_ROUTE_MAX && r[0] == '/', "route '%s'", r);
	for (const char *seg = r + 1;;) {
		size_t n = strcspn(seg, "/");

		FUZZ_CHECK(n > 0, "route '%s' has an empty segment", r);
		FUZZ_CHECK(all_of(seg, n, ALNUM "-_.~"), "route '%s' has a bad character", r);
		FUZZ_CHECK(!(n == 1 && seg[0] == '.') &&
				   !(n == 2 && seg[0] == '.' && seg[1] == '.'),
			   "route '%s' has a dot segment", r);
		if (!seg[n])
			break;
		seg += n + 1;
	}
}

static bool env_reserved(const char *k)
{
	return !strncmp(k, "HEARTH_", 7) || !strncmp(k, "AWS_", 4) || !strncmp(k, "LAMBDA_", 7) ||
	       !strcmp(k, "_HANDLER") || !strcmp(k, "_X_AMZN_TRACE_ID");
}

/* A JSON object of strings, keys valid, not reserved, sorted: plain JSON
 * of at most FN_ENV_MAX_BYTES. */
static void check_env(const char *env)
{
	json_object *o = NULL;
	const char *prev = NULL;

	FUZZ_CHECK(env && strlen(env) <= FN_ENV_MAX_BYTES, "env of %zu bytes",
		   env ? strlen(env) : 0);
	FUZZ_CHECK(jsontext_is_value(env, strlen(env)), "env is not JSON: %s", env);
	FUZZ_CHECK(jsontext_parse(env, strlen(env), 0, "env", &o, NULL) == 0 &&
			   json_object_is_type(o, json_type_object),
		   "env is not an object: %s", env);
	json_object_object_foreach(o, k, v) {
		size_t n = strlen(k);

		FUZZ_CHECK(n >= 1 && n <= FN_ENV_KEY_MAX && all_of(k, n, ALNUM "_") &&
				   !(k[0] >= '0' && k[0] <= '9'),
			   "env key '%s'", k);
		FUZZ_CHECK(!env_reserved(k), "env key '%s' is reserved", k);
		FUZZ_CHECK(json_object_is_type(v, json_type_string) &&
				   strlen(json_object_get_string(v)) ==
					   (size_t)json_object_get_string_len(v),
			   "env value of '%s'", k);
		FUZZ_CHECK(!prev || strcmp(prev, k) < 0, "env keys not sorted: %s", env);
		prev = k;
	}
	json_object_put(o);
}

static void check_opt_str(const char *what, const char *s, size_t max)
{
	FUZZ_CHECK(!s || strlen(s) <= max, "%s of %zu bytes", what, strlen(s));
}

static void check_fn(const struct fn *f)
{
	const char *rl = fn_runtime_language(f->runtime);
	char files[3][FN_FILE_MAX], file[FN_FILE_MAX];
	int n;

	check_name(f->name);
	FUZZ_CHECK(f->language && (!strcmp(f->language, "python") || !strcmp(f->language, "node")),
		   "language '%s'", f->language ? f->language : "(null)");
	check_handler(f->handler);
	check_route(f->route);
	FUZZ_CHECK(f->timeout_s >= FN_TIMEOUT_MIN && f->timeout_s <= FN_TIMEOUT_MAX, "timeout %d",
		   f->timeout_s);
	FUZZ_CHECK(f->memory_mb >= FN_MEMORY_MIN && f->memory_mb <= FN_MEMORY_MAX, "memory %d",
		   f->memory_mb);
	FUZZ_CHECK(f->max_concurrency >= 1 && f->max_concurrency <= FN_MAX_CONCURRENCY_MAX,
		   "max_concurrency %d", f->max_concurrency);
	FUZZ_CHECK(f->min_warm >= 0 && f->min_warm <= f->max_concurrency, "min_warm %d of %d",
		   f->min_warm, f->max_concurrency);
	check_env(f->env_json);
	check_opt_str("description", f->description, FN_DESCRIPTION_MAX);
	check_opt_str("role", f->role, FN_ROLE_MAX);
	check_opt_str("runtime", f->runtime, FN_RUNTIME_MAX);
	FUZZ_CHECK(!f->runtime || (rl && !strcmp(rl, f->language)), "runtime '%s' with %s",
		   f->runtime, f->language);
	FUZZ_CHECK(f->architectures_json && (!strcmp(f->architectures_json, "[\"x86_64\"]") ||
					     !strcmp(f->architectures_json, "[\"arm64\"]")),
		   "architectures %s", f->architectures_json ? f->architectures_json : "(null)");
	FUZZ_CHECK(!f->route_auth || !strcmp(f->route_auth, "none") ||
			   !strcmp(f->route_auth, "token"),
		   "route_auth '%s'", f->route_auth);
	FUZZ_CHECK(f->async_retries >= 0 && f->async_retries <= FN_ASYNC_RETRIES_MAX,
		   "async_retries %d", f->async_retries);
	FUZZ_CHECK(f->async_max_age_s >= FN_ASYNC_MAX_AGE_MIN &&
			   f->async_max_age_s <= FN_ASYNC_MAX_AGE_MAX,
		   "async_max_age %d", f->async_max_age_s);

	/* The handler's files: relative, no "..", the module and an extension. */
	n = fn_handler_files(f, files);
	FUZZ_CHECK(n == (strcmp(f->language, "python") ? 3 : 1), "%d handler files", n);
	for (int i = 0; i < n; i++)
		FUZZ_CHECK(files[i][0] != '/' && !strstr(files[i], "..") &&
				   !strncmp(files[i], f->handler,
					    strrchr(f->handler, '.') - f->handler),
			   "handler file '%s' of '%s'", files[i], f->handler);
	if (!strchr(f->handler, '/'))
		FUZZ_CHECK(fn_source_filename(f, file, NULL) == 0 && !strcmp(file, files[0]),
			   "source file of '%s'", f->handler);
}

/* ---- refusals -------------------------------------------------------------- */

static const char *const fields[] = {
	"body",	       "name",		"language",    "handler",	"route",
	"timeout",     "memory",	"env",	       "min_warm",	"max_concurrency",
	"description", "runtime",	"role",	       "code",		"zip",
	"code, zip",   "architectures", "route_auth",  "async_retries", "async_max_age",
	"id",	       "revision",	"code_sha256", "code_path",	"created_at",
	"updated_at",
};

/* msg starts with "<name>:" */
static bool names(const char *msg, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(msg, name, n) && msg[n] == ':';
}

/* The message names the field at fault: a known one, or a key of the
 * body (an unknown field; a key may hold ':' itself). */
static void check_refusal(const char *what, int r, const struct hearth_error *err,
			  json_object *body)
{
	FUZZ_CHECK(r == -EBADMSG || r == -EINVAL, "%s returned %d", what, r);
	FUZZ_CHECK(err && err->status == -r && err->msg && *err->msg, "%s: error %d vs %d", what,
		   err ? err->status : 0, r);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (names(err->msg, fields[i]))
			return;
	if (json_object_is_type(body, json_type_object)) {
		json_object_object_foreach(body, k, v) {
			(void)v;
			if (names(err->msg, k))
				return;
		}
	}
	fuzz_fail(__FILE__, __LINE__, "message names a field", "%s: %s", what, err->msg);
}

/* ---- round trips ------------------------------------------------------------- */

/* f's JSON form without what Hearth sets, plus code of the right kind:
 * the body a client would send back. */
static json_object *body_of(const struct fn *f)
{
	static const char *const read_only[] = { "id",	      "revision",   "code_sha256",
						 "code_path", "created_at", "updated_at" };
	json_object *o = fn_to_json(f);

	FUZZ_CHECK(o != NULL, "fn_to_json failed");
	for (size_t i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++)
		json_object_object_del(o, read_only[i]);
	if (strchr(f->handler, '/'))
		json_object_object_add(o, "zip",
				       json_object_new_string("UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="));
	else
		json_object_object_add(o, "code", json_object_new_string("x"));
	return o;
}

static void round_trip(const struct fn *f, const struct fn *base)
{
	struct hearth_error *err = NULL;
	struct fn *g = NULL, *d = fn_dup(f);
	struct fn_upload up;
	json_object *o = body_of(f), *reread = NULL;
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	int r;

	FUZZ_CHECK(d && fn_same_config(f, d) && fn_same_config(d, f), "fn_dup differs");
	fn_free(d);
	/* The text hearthd writes is strict JSON, and reads back. */
	FUZZ_CHECK(jsontext_is_value(text, strlen(text)), "fn_to_json wrote invalid JSON: %s",
		   text);
	r = fn_parse_body(text, strlen(text), &reread, &err);
	FUZZ_CHECK(r == 0, "own JSON refused: %s: %s", text, err ? err->msg : "");
	r = fn_from_create_json(reread, &g, &up, &err);
	FUZZ_CHECK(r == 0, "own JSON refused as a create: %s: %s", text, err ? err->msg : "");
	FUZZ_CHECK(fn_same_config(f, g), "create from own JSON differs: %s", text);
	fn_upload_release(&up);
	fn_free(g);
	g = NULL;
	r = fn_apply_update_json(base, reread, &g, &up, &err);
	FUZZ_CHECK(r == 0, "own JSON refused as an update: %s: %s", text, err ? err->msg : "");
	FUZZ_CHECK(fn_same_config(f, g), "update by own JSON differs: %s", text);
	fn_upload_release(&up);
	fn_free(g);
	json_object_put(reread);
	json_object_put(o);
	hearth_error_free(err);
}

/* ---- the upload -------------------------------------------------------------- */

static void check_upload(const struct fn *f, const struct fn_upload *up, json_object *body,
			 bool create)
{
	json_object *code = NULL, *zip = NULL;

	json_object_object_get_ex(body, "code", &code);
	json_object_object_get_ex(body, "zip", &zip);
	if (!code && !zip) {
		FUZZ_CHECK(!create, "a create without code was accepted");
		FUZZ_CHECK(up->kind == FN_CODE_NONE && !up->data, "code from nowhere");
		return;
	}
	FUZZ_CHECK(up->data && up->len > 0, "empty code accepted");
	if (code) {
		FUZZ_CHECK(up->kind == FN_CODE_FILE && !zip, "code kind %d", up->kind);
		FUZZ_CHECK(up->len == (size_t)json_object_get_string_len(code) &&
				   !memcmp(up->data, json_object_get_string(code), up->len),
			   "the code is not what came");
		FUZZ_CHECK(up->len <= FN_CODE_MAX_BYTES, "code of %zu bytes", up->len);
		FUZZ_CHECK(!strchr(f->handler, '/'), "a single file for handler %s", f->handler);
	} else {
		FUZZ_CHECK(up->kind == FN_CODE_ZIP, "zip kind %d", up->kind);
	}
}

/* ---- the harness -------------------------------------------------------------- */

static struct fn *base_fn(void)
{
	static const char body[] =
		"{\"name\":\"base\",\"language\":\"python\",\"code\":\"x\","
		"\"route\":\"/base\",\"env\":{\"K\":\"v\"},\"max_concurrency\":5}";
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct fn *base = base_fn(), *f = NULL;
	struct hearth_error *err = NULL;
	json_object *body = NULL;
	struct fn_upload up;
	int r;

	r = fn_parse_body(text, size, &body, &err);
	if (r < 0) {
		FUZZ_CHECK(!body, "a tree with an error");
		check_refusal("parse", r, err, NULL);
		FUZZ_CHECK(r == -EBADMSG || r == -E2BIG, "parse refused with %d", r);
		hearth_error_free(err);
		return 0;
	}
	FUZZ_CHECK(body && !err, "parse accepted without a tree");
	FUZZ_CHECK(jsontext_is_value(text, size), "parse accepted what the scanner refuses");

	/* As a create. */
	r = fn_from_create_json(body, &f, &up, &err);
	if (r < 0) {
		FUZZ_CHECK(!f && up.kind == FN_CODE_NONE && !up.data,
			   "a refused create handed back");
		check_refusal("create", r, err, body);
		hearth_error_clear(&err);
	} else {
		FUZZ_CHECK(f && !err, "create accepted without a record");
		FUZZ_CHECK(f->id == 0 && f->revision == 1, "create: id %lld revision %lld",
			   (long long)f->id, (long long)f->revision);
		check_fn(f);
		check_upload(f, &up, body, true);
		round_trip(f, base);
		fn_upload_release(&up);
		fn_free(f);
		f = NULL;
	}

	/* As an update of the base function. */
	r = fn_apply_update_json(base, body, &f, &up, &err);
	if (r < 0) {
		FUZZ_CHECK(!f && up.kind == FN_CODE_NONE && !up.data,
			   "a refused update handed back");
		check_refusal("update", r, err, body);
		hearth_error_clear(&err);
	} else {
		FUZZ_CHECK(f && !err, "update accepted without a record");
		FUZZ_CHECK(f->id == base->id && f->revision == base->revision,
			   "update moved the id or the revision");
		check_fn(f);
		check_upload(f, &up, body, false);
		round_trip(f, base);
		fn_upload_release(&up);
		fn_free(f);
	}
	json_object_put(body);
	return 0;
}
