/* function.c — see function.h.  Validation is table-free on purpose: each
 * field has one small checker so every message can say which field is
 * wrong and what was expected. */
#include "function.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "b64.h"
#include "jsontext.h"
#include "util.h"

struct fn *fn_new(void)
{
	struct fn *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->timeout_s = FN_TIMEOUT_DEFAULT;
	f->memory_mb = FN_MEMORY_DEFAULT;
	f->min_warm = FN_MIN_WARM_DEFAULT;
	f->max_concurrency = FN_MAX_CONCURRENCY_DEFAULT;
	f->async_retries = FN_ASYNC_RETRIES_DEFAULT;
	f->async_max_age_s = FN_ASYNC_MAX_AGE_DEFAULT;
	f->architectures_json = strdup("[\"x86_64\"]");
	if (!f->architectures_json) {
		free(f);
		return NULL;
	}
	f->revision = 1;
	return f;
}

void fn_free(struct fn *f)
{
	if (!f)
		return;
	free(f->name);
	free(f->language);
	free(f->handler);
	free(f->route);
	free(f->env_json);
	free(f->code_path);
	free(f->description);
	free(f->runtime);
	free(f->role);
	free(f->architectures_json);
	free(f->route_auth);
	free(f);
}

/* strdup that keeps NULL as NULL; *ok goes to 0 on allocation failure. */
static char *dup_or_null(const char *s, int *ok)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*ok = 0;
	return d;
}

struct fn *fn_dup(const struct fn *f)
{
	struct fn *d;
	int ok = 1;

	if (!f)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	*d = *f;
	d->name = dup_or_null(f->name, &ok);
	d->language = dup_or_null(f->language, &ok);
	d->handler = dup_or_null(f->handler, &ok);
	d->route = dup_or_null(f->route, &ok);
	d->env_json = dup_or_null(f->env_json, &ok);
	d->code_path = dup_or_null(f->code_path, &ok);
	d->description = dup_or_null(f->description, &ok);
	d->runtime = dup_or_null(f->runtime, &ok);
	d->role = dup_or_null(f->role, &ok);
	d->architectures_json = dup_or_null(f->architectures_json, &ok);
	d->route_auth = dup_or_null(f->route_auth, &ok);
	if (!ok) {
		fn_free(d);
		return NULL;
	}
	return d;
}

static json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

json_object *fn_to_json(const struct fn *f)
{
	json_object *o, *env = NULL;
	char created[32], updated[32];

	o = json_object_new_object();
	if (!o)
		return NULL;
	if (f->env_json)
		env = jsontext_tree(f->env_json);
	if (!env)
		env = json_object_new_object();
	util_iso8601(f->created_at, created);
	util_iso8601(f->updated_at, updated);
	json_object_object_add(o, "id", json_object_new_int64(f->id));
	json_object_object_add(o, "name", str_or_null(f->name));
	json_object_object_add(o, "language", str_or_null(f->language));
	json_object_object_add(o, "handler", str_or_null(f->handler));
	json_object_object_add(o, "route", str_or_null(f->route));
	json_object_object_add(o, "timeout", json_object_new_int(f->timeout_s));
	json_object_object_add(o, "memory", json_object_new_int(f->memory_mb));
	json_object_object_add(o, "env", env);
	json_object_object_add(o, "min_warm", json_object_new_int(f->min_warm));
	json_object_object_add(o, "max_concurrency", json_object_new_int(f->max_concurrency));
	json_object_object_add(o, "revision", json_object_new_int64(f->revision));
	json_object_object_add(o, "code_sha256", json_object_new_string(f->code_sha256));
	json_object_object_add(o, "code_path", str_or_null(f->code_path));
	json_object_object_add(o, "created_at", json_object_new_string(created));
	json_object_object_add(o, "updated_at", json_object_new_string(updated));
	json_object_object_add(o, "description", str_or_null(f->description));
	json_object_object_add(o, "runtime", str_or_null(f->runtime));
	json_object_object_add(o, "route_auth", str_or_null(f->route_auth));
	json_object_object_add(o, "async_retries", json_object_new_int(f->async_retries));
	json_object_object_add(o, "async_max_age", json_object_new_int(f->async_max_age_s));
	json_object_object_add(o, "role", str_or_null(f->role));
	json_object_object_add(o, "architectures",
			       f->architectures_json ? jsontext_tree(f->architectures_json) : NULL);
	return o;
}

void fn_upload_release(struct fn_upload *u)
{
	if (!u)
		return;
	free(u->data);
	u->data = NULL;
	u->len = 0;
	u->kind = FN_CODE_NONE;
}

/* ---- parsing ---------------------------------------------------------- */

int fn_parse_body(const char *text, size_t len, json_object **out, struct hearth_error **err)
{
	*out = NULL;
	if (jsontext_blank(text, len))
		return hearth_error_make(err, EBADMSG, "body: empty; expected a JSON object");
	return jsontext_parse(text, len, JSONTEXT_NOT_NULL, "body", out, err);
}

/* ---- field checkers --------------------------------------------------- */

static const char *type_name(json_object *v)
{
	return v ? json_type_to_name(json_object_get_type(v)) : "null";
}

static int want_string(const char *field, json_object *v, const char **s, size_t *len,
		       struct hearth_error **err)
{
	if (!json_object_is_type(v, json_type_string))
		return hearth_error_make(err, EINVAL, "%s: expected a string, got %s", field,
					 type_name(v));
	*s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	return 0;
}

/* An integer in [min,max]; 3.5, "3", true and null are type errors. */
static int want_int(const char *field, json_object *v, int min, int max, int *out,
		    struct hearth_error **err)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return hearth_error_make(err, EINVAL, "%s: expected an integer, got %s", field,
					 type_name(v));
	n = json_object_get_int64(v);
	/* json-c keeps integers above INT64_MAX as uint64 and saturates here */
	if (n < min || n > max)
		return hearth_error_make(err, EINVAL, "%s: %s is out of range %d..%d", field,
					 json_object_to_json_string(v), min, max);
	*out = (int)n;
	return 0;
}

static int check_name(const char *s, size_t len, struct hearth_error **err)
{
	if (len == 0 || len > FN_NAME_MAX)
		return hearth_error_make(err, EINVAL, "name: must be 1 to %d characters, got %zu",
					 FN_NAME_MAX, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return hearth_error_make(
				err, EINVAL,
				"name: only letters, digits, '_' and '-' are allowed "
				"([A-Za-z0-9_-]{1,%d})",
				FN_NAME_MAX);
	}
	/* A URL segment that parses as an integer is an id. */
	if (strspn(s, "0123456789") == len)
		return hearth_error_make(
			err, EINVAL, "name: '%s' is all digits, which reads as an id; add a letter",
			s);
	return 0;
}

static int set_str(char **dst, const char *s, struct hearth_error **err)
{
	char *d = strdup(s);

	if (!d)
		return hearth_error_make(err, ENOMEM, "out of memory");
	free(*dst);
	*dst = d;
	return 0;
}

/* A string of at most max bytes, or null (which clears the field). */
static int set_str_or_null(const char *field, json_object *v, size_t max, char **dst,
			   struct hearth_error **err)
{
	const char *s;
	size_t len;

	if (json_object_is_type(v, json_type_null)) {
		free(*dst);
		*dst = NULL;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return hearth_error_make(err, EINVAL, "%s: expected a string or null, got %s",
					 field, type_name(v));
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len > max || strlen(s) != len)
		return hearth_error_make(err, EINVAL, "%s: at most %zu bytes, no NUL", field, max);
	return set_str(dst, s, err);
}

const char *fn_runtime_language(const char *rt)
{
	size_t n;

	if (!rt)
		return NULL;
	/* python3.9 ... python3.13 and beyond: "python3." and digits */
	if (strncmp(rt, "python3.", 8) == 0 && rt[8] &&
	    strspn(rt + 8, "0123456789") == strlen(rt + 8))
		return "python";
	/* nodejs18.x ... nodejs22.x: "nodejs", digits, ".x" */
	if (strncmp(rt, "nodejs", 6) == 0 && (n = strspn(rt + 6, "0123456789")) > 0 &&
	    strcmp(rt + 6 + n, ".x") == 0)
		return "node";
	return NULL;
}

static int set_runtime(json_object *v, struct fn *f, struct hearth_error **err)
{
	int r = set_str_or_null("runtime", v, FN_RUNTIME_MAX, &f->runtime, err);

	if (r < 0 || !f->runtime)
		return r;
	if (!fn_runtime_language(f->runtime))
		return hearth_error_make(err, EINVAL,
					 "runtime: '%s' is not one Hearth runs (python3.x or "
					 "nodejsN.x)",
					 f->runtime);
	return 0;
}

static int set_architectures(json_object *v, struct fn *f, struct hearth_error **err)
{
	const char *a;

	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) != 1 ||
	    !json_object_is_type(json_object_array_get_idx(v, 0), json_type_string))
		return hearth_error_make(err, EINVAL,
					 "architectures: expected one of [\"x86_64\"] or "
					 "[\"arm64\"]");
	a = json_object_get_string(json_object_array_get_idx(v, 0));
	/* "x86_64\u0000..." is not x86_64. */
	if ((size_t)json_object_get_string_len(json_object_array_get_idx(v, 0)) != strlen(a))
		return hearth_error_make(err, EINVAL, "architectures: no NUL");
	if (strcmp(a, "x86_64") != 0 && strcmp(a, "arm64") != 0)
		return hearth_error_make(err, EINVAL, "architectures: '%s' is not x86_64 or arm64",
					 a);
	return set_str(&f->architectures_json,
		       strcmp(a, "arm64") == 0 ? "[\"arm64\"]" : "[\"x86_64\"]", err);
}

const char *fn_language_canonical(const char *lang)
{
	if (!lang)
		return NULL;
	if (strcmp(lang, "python") == 0)
		return "python";
	if (strcmp(lang, "node") == 0 || strcmp(lang, "javascript") == 0)
		return "node";
	return NULL;
}

static const char *default_handler(const char *lang)
{
	return strcmp(lang, "python") == 0 ? "main.handler" : "index.handler";
}

static int is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

static int is_ident(unsigned char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static int is_module_char(unsigned char c)
{
	return is_ident(c) || c == '-';
}

/* "module.function": the module is a file path without extension
 * (segments of [A-Za-z0-9_$-], joined by '/', none of them "." or ".."
 * by construction), the function an identifier. */
static int check_handler(const char *s, size_t len, struct hearth_error **err)
{
	const char *dot;
	size_t mlen;

	if (len == 0 || len > FN_HANDLER_MAX || strlen(s) != len)
		return hearth_error_make(err, EINVAL, "handler: must be 1 to %d characters",
					 FN_HANDLER_MAX);
	dot = strrchr(s, '.');
	if (!dot || dot == s || !dot[1])
		return hearth_error_make(err, EINVAL,
					 "handler: '%s' is not of the form module.function "
					 "(e.g. main.handler)",
					 s);
	mlen = (size_t)(dot - s);
	for (size_t i = 0; i < mlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '/') {
			if (i == 0 || i + 1 == mlen || s[i + 1] == '/')
				return hearth_error_make(err, EINVAL,
							 "handler: '%s' has an empty folder name",
							 s);
			continue;
		}
		if (!is_module_char(c))
			return hearth_error_make(
				err, EINVAL,
				"handler: the module of '%s' may only hold letters, "
				"digits, '_', '-', '$' and '/'",
				s);
	}
	if (!is_ident_start((unsigned char)dot[1]))
		return hearth_error_make(err, EINVAL,
					 "handler: the function of '%s' is not an identifier", s);
	for (const char *p = dot + 1; *p; p++)
		if (!is_ident((unsigned char)*p))
			return hearth_error_make(
				err, EINVAL, "handler: the function of '%s' is not an identifier",
				s);
	return 0;
}

static int is_route_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

/* "/hello", "/api/v1/users": non-empty segments of URL-safe characters,
 * no "." or ".." segment, no trailing slash; routes are matched exactly. */
static int check_route(const char *s, size_t len, struct hearth_error **err)
{
	if (len < 2 || len > FN_ROUTE_MAX || s[0] != '/')
		return hearth_error_make(err, EINVAL,
					 "route: must start with '/' and be 2 to %d characters "
					 "(e.g. /hello)",
					 FN_ROUTE_MAX);
	for (size_t i = 1; i <= len; i++) {
		size_t seg = i;

		while (i < len && s[i] != '/') {
			if (!is_route_char((unsigned char)s[i]))
				return hearth_error_make(
					err, EINVAL,
					"route: only letters, digits and '-', '_', "
					"'.', '~', '/' are allowed");
			i++;
		}
		if (i == seg)
			return hearth_error_make(err, EINVAL,
						 "route: '%s' has an empty segment ('//' or a "
						 "trailing '/')",
						 s);
		if ((i - seg == 1 && s[seg] == '.') ||
		    (i - seg == 2 && s[seg] == '.' && s[seg + 1] == '.'))
			return hearth_error_make(err, EINVAL,
						 "route: '.' and '..' segments are not allowed");
	}
	return 0;
}

static int is_env_key(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > FN_ENV_KEY_MAX)
		return 0;
	if (!((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= 'A' && k[0] <= 'Z') || k[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++) {
		char c = k[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return 0;
	}
	return 1;
}

/* The runtime sets these itself (Lambda reserves the same families). */
static int is_reserved_env(const char *k)
{
	static const char *const prefixes[] = { "HEARTH_", "AWS_", "LAMBDA_" };
	static const char *const names[] = { "_HANDLER", "_X_AMZN_TRACE_ID" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(k, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(k, names[i]) == 0)
			return 1;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Checks an env object and renders it canonically (keys sorted, plain
 * JSON) so equal environments are equal strings. */
static int check_env(json_object *v, char **out, struct hearth_error **err)
{
	_cleanup_json_ json_object *canon = NULL;
	_cleanup_free_ const char **keys = NULL;
	const char *s;
	size_t n = 0, i = 0, len;

	if (!json_object_is_type(v, json_type_object))
		return hearth_error_make(err, EINVAL, "env: expected an object of strings, got %s",
					 type_name(v));
	n = (size_t)json_object_object_length(v);
	keys = calloc(n ? n : 1, sizeof(*keys));
	canon = json_object_new_object();
	if (!keys || !canon)
		return hearth_error_make(err, ENOMEM, "out of memory");
	json_object_object_foreach(v, key, val) {
		if (!is_env_key(key))
			return hearth_error_make(err, EINVAL,
						 "env: '%s' is not a valid variable name "
						 "([A-Za-z_][A-Za-z0-9_]*, at most %d characters)",
						 key, FN_ENV_KEY_MAX);
		if (is_reserved_env(key))
			return hearth_error_make(err, EINVAL,
						 "env: '%s' is reserved (HEARTH_*, AWS_*, LAMBDA_* "
						 "and _HANDLER are set by the runtime)",
						 key);
		if (!json_object_is_type(val, json_type_string))
			return hearth_error_make(err, EINVAL,
						 "env: the value of '%s' must be a string, got %s",
						 key, type_name(val));
		if (strlen(json_object_get_string(val)) != (size_t)json_object_get_string_len(val))
			return hearth_error_make(err, EINVAL,
						 "env: the value of '%s' contains a NUL character",
						 key);
		keys[i++] = key;
	}
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++)
		json_object_object_add(canon, keys[i],
				       json_object_get(json_object_object_get(v, keys[i])));
	s = json_object_to_json_string_ext(canon, JSON_C_TO_STRING_PLAIN);
	len = strlen(s);
	if (len > FN_ENV_MAX_BYTES)
		return hearth_error_make(err, EINVAL,
					 "env: %zu bytes as JSON, over the %d-byte limit", len,
					 FN_ENV_MAX_BYTES);
	*out = strdup(s);
	if (!*out)
		return hearth_error_make(err, ENOMEM, "out of memory");
	return 0;
}

/* Base64 as people produce it: whitespace (line breaks from base64(1))
 * is skipped and missing '=' padding is tolerated; anything else outside
 * the standard alphabet is an error. */

static int take_code(json_object *code, json_object *zip, struct fn_upload *up,
		     struct hearth_error **err)
{
	const char *s;
	size_t len;
	int r;

	if (code && zip)
		return hearth_error_make(err, EINVAL, "code, zip: give one of them, not both");
	if (code) {
		if ((r = want_string("code", code, &s, &len, err)) < 0)
			return r;
		if (len == 0)
			return hearth_error_make(err, EINVAL, "code: must not be empty");
		if (len > FN_CODE_MAX_BYTES)
			return hearth_error_make(err, EINVAL,
						 "code: %zu bytes, over the %u-byte limit", len,
						 FN_CODE_MAX_BYTES);
		up->data = malloc(len + 1);
		if (!up->data)
			return hearth_error_make(err, ENOMEM, "out of memory");
		memcpy(up->data, s, len + 1);
		up->len = len;
		up->kind = FN_CODE_FILE;
	} else if (zip) {
		if ((r = want_string("zip", zip, &s, &len, err)) < 0)
			return r;
		if ((r = b64_decode(s, len, "zip", &up->data, &up->len, err)) < 0)
			return r;
		up->kind = FN_CODE_ZIP;
		if (up->len == 0)
			return hearth_error_make(err, EINVAL, "zip: must not be empty");
	}
	return 0;
}


static const char *const read_only[] = { "id",	      "revision",   "code_sha256",
					 "code_path", "created_at", "updated_at" };

/* Applies every field of body onto f.  Shared by create and update; the
 * language/handler interplay and the cross-field rules are in the
 * callers' tails. */
enum { GIVEN_HANDLER = 1, GIVEN_LANGUAGE = 2 };

static int apply_fields(struct fn *f, json_object *body, json_object **code, json_object **zip,
			int *given, struct hearth_error **err)
{
	const char *s;
	size_t len;
	int r;

	if (!json_object_is_type(body, json_type_object))
		return hearth_error_make(err, EINVAL, "body: expected a JSON object, got %s",
					 type_name(body));
	json_object_object_foreach(body, key, val) {
		if (strcmp(key, "name") == 0) {
			if ((r = want_string(key, val, &s, &len, err)) < 0 ||
			    (r = check_name(s, len, err)) < 0 ||
			    (r = set_str(&f->name, s, err)) < 0)
				return r;
		} else if (strcmp(key, "language") == 0) {
			const char *canon;

			if ((r = want_string(key, val, &s, &len, err)) < 0)
				return r;
			canon = fn_language_canonical(s);
			if (!canon || strlen(s) != len)
				return hearth_error_make(err, EINVAL,
							 "language: '%s' is not python, node or "
							 "javascript",
							 s);
			if ((r = set_str(&f->language, canon, err)) < 0)
				return r;
			*given |= GIVEN_LANGUAGE;
		} else if (strcmp(key, "handler") == 0) {
			if ((r = want_string(key, val, &s, &len, err)) < 0 ||
			    (r = check_handler(s, len, err)) < 0 ||
			    (r = set_str(&f->handler, s, err)) < 0)
				return r;
			*given |= GIVEN_HANDLER;
		} else if (strcmp(key, "route") == 0) {
			if (json_object_is_type(val, json_type_null)) {
				free(f->route);
				f->route = NULL;
				continue;
			}
			if (!json_object_is_type(val, json_type_string))
				return hearth_error_make(err, EINVAL,
							 "route: expected a string or null, got %s",
							 type_name(val));
			s = json_object_get_string(val);
			len = (size_t)json_object_get_string_len(val);
			if ((r = check_route(s, len, err)) < 0 ||
			    (r = set_str(&f->route, s, err)) < 0)
				return r;
		} else if (strcmp(key, "timeout") == 0) {
			if ((r = want_int(key, val, FN_TIMEOUT_MIN, FN_TIMEOUT_MAX, &f->timeout_s,
					  err)) < 0)
				return r;
		} else if (strcmp(key, "memory") == 0) {
			if ((r = want_int(key, val, FN_MEMORY_MIN, FN_MEMORY_MAX, &f->memory_mb,
					  err)) < 0)
				return r;
		} else if (strcmp(key, "env") == 0) {
			char *env = NULL;

			if ((r = check_env(val, &env, err)) < 0)
				return r;
			free(f->env_json);
			f->env_json = env;
		} else if (strcmp(key, "min_warm") == 0) {
			if ((r = want_int(key, val, 0, FN_MAX_CONCURRENCY_MAX, &f->min_warm, err)) <
			    0)
				return r;
		} else if (strcmp(key, "max_concurrency") == 0) {
			if ((r = want_int(key, val, 1, FN_MAX_CONCURRENCY_MAX, &f->max_concurrency,
					  err)) < 0)
				return r;
		} else if (strcmp(key, "description") == 0) {
			if ((r = set_str_or_null(key, val, FN_DESCRIPTION_MAX, &f->description,
						 err)) < 0)
				return r;
		} else if (strcmp(key, "runtime") == 0) {
			if ((r = set_runtime(val, f, err)) < 0)
				return r;
		} else if (strcmp(key, "role") == 0) {
			if ((r = set_str_or_null(key, val, FN_ROLE_MAX, &f->role, err)) < 0)
				return r;
		} else if (strcmp(key, "architectures") == 0) {
			if ((r = set_architectures(val, f, err)) < 0)
				return r;
		} else if (strcmp(key, "route_auth") == 0) {
			if ((r = set_str_or_null(key, val, 8, &f->route_auth, err)) < 0)
				return r;
			if (f->route_auth && strcmp(f->route_auth, "none") != 0 &&
			    strcmp(f->route_auth, "token") != 0)
				return hearth_error_make(err, EINVAL,
							 "route_auth: '%s' is not none or token",
							 f->route_auth);
		} else if (strcmp(key, "async_retries") == 0) {
			if ((r = want_int(key, val, 0, FN_ASYNC_RETRIES_MAX, &f->async_retries,
					  err)) < 0)
				return r;
		} else if (strcmp(key, "async_max_age") == 0) {
			if ((r = want_int(key, val, FN_ASYNC_MAX_AGE_MIN, FN_ASYNC_MAX_AGE_MAX,
					  &f->async_max_age_s, err)) < 0)
				return r;
		} else if (strcmp(key, "code") == 0) {
			*code = val;
			if (!val) /* json-c's null */
				return hearth_error_make(err, EINVAL,
							 "code: expected a string, got null");
		} else if (strcmp(key, "zip") == 0) {
			*zip = val;
			if (!val)
				return hearth_error_make(err, EINVAL,
							 "zip: expected a base64 string, got null");
		} else {
			for (size_t i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++)
				if (strcmp(key, read_only[i]) == 0)
					return hearth_error_make(err, EINVAL,
								 "%s: is read-only (set by Hearth)",
								 key);
			return hearth_error_make(err, EINVAL, "%s: unknown field", key);
		}
	}
	return 0;
}

static int check_cross(const struct fn *f, struct hearth_error **err)
{
	const char *rl = fn_runtime_language(f->runtime);

	if (rl && f->language && strcmp(rl, f->language) != 0)
		return hearth_error_make(err, EINVAL,
					 "runtime: '%s' is a %s runtime, but language is %s",
					 f->runtime, rl, f->language);
	if (f->min_warm > f->max_concurrency)
		return hearth_error_make(err, EINVAL,
					 "min_warm: %d is more than max_concurrency (%d)",
					 f->min_warm, f->max_concurrency);
	return 0;
}

/* The code that came with a body, checked against the handler: a single
 * file has no folder to hold a handler path. */
static int take_upload(const struct fn *f, json_object *jcode, json_object *jzip,
		       struct fn_upload *code, struct hearth_error **err)
{
	int r;

	if (jcode && strchr(f->handler, '/'))
		return hearth_error_make(
			err, EINVAL,
			"handler: '%s' names a folder; a single-file upload ('code') "
			"needs a handler like main.handler (use 'zip' for folders)",
			f->handler);
	if ((r = take_code(jcode, jzip, code, err)) < 0)
		fn_upload_release(code);
	return r;
}

/* A create body (cur NULL) or an update of cur: the two differ only in
 * where they start and in what a create must carry. */
static int from_json(const struct fn *cur, json_object *body, struct fn **out,
		     struct fn_upload *code, struct hearth_error **err)
{
	_cleanup_fn_ struct fn *f = cur ? fn_dup(cur) : fn_new();
	json_object *jcode = NULL, *jzip = NULL;
	int given = 0, r;

	*out = NULL;
	memset(code, 0, sizeof(*code));
	if (!f)
		return hearth_error_make(err, ENOMEM, "out of memory");
	if ((r = apply_fields(f, body, &jcode, &jzip, &given, err)) < 0)
		return r;
	if (!cur) {
		if (!f->name)
			return hearth_error_make(err, EINVAL, "name: is required");
		/* The Lambda API names a runtime rather than a language. */
		if (!f->language && f->runtime &&
		    (r = set_str(&f->language, fn_runtime_language(f->runtime), err)) < 0)
			return r;
		if (!f->language)
			return hearth_error_make(err, EINVAL,
						 "language: is required (python or node), or a "
						 "runtime");
		if (!f->handler &&
		    (r = set_str(&f->handler, default_handler(f->language), err)) < 0)
			return r;
		if (!f->env_json && (r = set_str(&f->env_json, "{}", err)) < 0)
			return r;
	} else if (f->runtime && !(given & GIVEN_LANGUAGE) &&
		   strcmp(fn_runtime_language(f->runtime), f->language) != 0 &&
		   (r = set_str(&f->language, fn_runtime_language(f->runtime), err)) < 0) {
		/* A new runtime of the other language, the language unsaid:
		 * the language follows the runtime (checked below). */
		return r;
	}
	if (cur && !(given & GIVEN_HANDLER) && strcmp(f->language, cur->language) != 0 &&
	    strcmp(cur->handler, default_handler(cur->language)) == 0 &&
	    (r = set_str(&f->handler, default_handler(f->language), err)) < 0) {
		/* A function moving to the other language keeps a handler it
		 * was given, but trades the old default for the new one. */
		return r;
	}
	if ((r = check_cross(f, err)) < 0)
		return r;
	if (!cur && !jcode && !jzip)
		return hearth_error_make(err, EINVAL,
					 "code, zip: one of them is required (the source file as "
					 "text, or a base64 zip archive)");
	if ((r = take_upload(f, jcode, jzip, code, err)) < 0)
		return r;
	*out = f;
	f = NULL;
	return 0;
}

int fn_from_create_json(json_object *body, struct fn **out, struct fn_upload *code,
			struct hearth_error **err)
{
	return from_json(NULL, body, out, code, err);
}

int fn_apply_update_json(const struct fn *cur, json_object *body, struct fn **out,
			 struct fn_upload *code, struct hearth_error **err)
{
	return from_json(cur, body, out, code, err);
}

static int streq_null(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

int fn_same_config(const struct fn *a, const struct fn *b)
{
	return streq_null(a->name, b->name) && streq_null(a->language, b->language) &&
	       streq_null(a->handler, b->handler) && streq_null(a->route, b->route) &&
	       a->timeout_s == b->timeout_s && a->memory_mb == b->memory_mb &&
	       streq_null(a->env_json, b->env_json) && a->min_warm == b->min_warm &&
	       a->max_concurrency == b->max_concurrency &&
	       streq_null(a->description, b->description) && streq_null(a->runtime, b->runtime) &&
	       streq_null(a->role, b->role) &&
	       streq_null(a->architectures_json, b->architectures_json) &&
	       streq_null(a->route_auth, b->route_auth) && a->async_retries == b->async_retries &&
	       a->async_max_age_s == b->async_max_age_s;
}

static size_t module_len(const struct fn *f)
{
	const char *dot = f->handler ? strrchr(f->handler, '.') : NULL;

	return dot ? (size_t)(dot - f->handler) : 0;
}

int fn_source_filename(const struct fn *f, char dst[FN_FILE_MAX], struct hearth_error **err)
{
	size_t m = module_len(f);

	if (m == 0 || !f->language)
		return hearth_error_make(err, EINVAL, "handler: '%s' has no module",
					 f->handler ? f->handler : "");
	if (util_snprintf(dst, FN_FILE_MAX, err, "%.*s.%s", (int)m, f->handler,
			  strcmp(f->language, "python") == 0 ? "py" : "js") < 0)
		return -ENAMETOOLONG;
	return 0;
}

int fn_handler_files(const struct fn *f, char files[3][FN_FILE_MAX])
{
	static const char *const node_ext[] = { "js", "mjs", "cjs" };
	size_t m = module_len(f);
	int n;

	if (m == 0 || !f->language)
		return 0;
	if (strcmp(f->language, "python") == 0) {
		snprintf(files[0], FN_FILE_MAX, "%.*s.py", (int)m, f->handler);
		return 1;
	}
	for (n = 0; n < 3; n++)
		snprintf(files[n], FN_FILE_MAX, "%.*s.%s", (int)m, f->handler, node_ext[n]);
	return n;
}

int fn_parse_id(const char *s, int64_t *out, struct hearth_error **err)
{
	int64_t v = 0;
	size_t i;

	if (!s || s[0] < '1' || s[0] > '9')
		goto bad;
	for (i = 0; s[i]; i++) {
		int d = s[i] - '0';

		if (d < 0 || d > 9 || i >= 19 || v > (INT64_MAX - d) / 10)
			goto bad;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
bad:
	return hearth_error_make(err, ENOENT, "no function with id '%.40s'", s ? s : "");
}
