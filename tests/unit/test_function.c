/* Unit tests for function.c: the validation table (each bad body -> the
 * right status and a message naming the field), defaults, updates, the
 * JSON form, ids and the handler's file names. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "function.h"
#include "http.h"
#include "tap.h"

#define PY "\"language\":\"python\",\"code\":\"def handler(e, c):\\n  return 1\\n\""

struct bad {
	const char *body;
	int status;	     /* positive errno */
	int http;	     /* what the API answers */
	const char *mention; /* the message must contain this */
};

/* Create bodies that must be refused. */
static const struct bad bad_creates[] = {
	{ "", EBADMSG, 400, "empty" },
	{ "   \n ", EBADMSG, 400, "empty" },
	{ "{", EBADMSG, 400, "line 1, column 2" },
	{ "{\"name\": \"a\",\n \"x\" 1}", EBADMSG, 400, "line 2" },
	{ "{\"name\":\"a\"} trailing", EBADMSG, 400, "byte 13" },
	{ "{\"name\":\"a\" \"x\"}", EBADMSG, 400, "column 13 (byte 12)" },
	{ "[1,]", EBADMSG, 400, "column 4 (byte 3): unexpected character" },
	{ "{\"name\":\"a\",}", EBADMSG, 400, "malformed JSON" },
	{ "null", EBADMSG, 400, "malformed JSON" },
	{ "[1,2]", EINVAL, 422, "expected a JSON object" },
	{ "\"str\"", EINVAL, 422, "expected a JSON object" },
	{ "42", EINVAL, 422, "expected a JSON object" },
	{ "{" PY "}", EINVAL, 422, "name" },
	{ "{\"name\":\"a\",\"code\":\"x\"}", EINVAL, 422, "language" },
	{ "{\"name\":\"a\",\"language\":\"python\"}", EINVAL, 422, "code, zip" },
	{ "{\"name\":\"a\"," PY ",\"zip\":\"UEsFBg==\"}", EINVAL, 422, "not both" },
	{ "{\"name\":\"a\"," PY ",\"bogus\":1}", EINVAL, 422, "bogus: unknown field" },
	{ "{\"name\":\"a\"," PY ",\"id\":3}", EINVAL, 422, "id: is read-only" },
	{ "{\"name\":\"a\"," PY ",\"revision\":3}", EINVAL, 422, "revision: is read-only" },
	{ "{\"name\":7," PY "}", EINVAL, 422, "name: expected a string, got int" },
	{ "{\"name\":null," PY "}", EINVAL, 422, "name: expected a string, got null" },
	{ "{\"name\":\"\"," PY "}", EINVAL, 422, "name: must be 1 to 64" },
	{ "{\"name\":\"a b\"," PY "}", EINVAL, 422, "name: only letters" },
	{ "{\"name\":\"a/b\"," PY "}", EINVAL, 422, "name: only letters" },
	{ "{\"name\":\"h\\u00e9llo\"," PY "}", EINVAL, 422, "name: only letters" },
	{ "{\"name\":\"a\\u0000b\"," PY "}", EINVAL, 422, "name: only letters" },
	{ "{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"," PY "}",
	  EINVAL, 422, "name: must be 1 to 64 characters, got 65" },
	{ "{\"name\":\"a\",\"language\":\"ruby\",\"code\":\"x\"}", EINVAL, 422,
	  "language: 'ruby'" },
	{ "{\"name\":\"a\",\"language\":\"Python\",\"code\":\"x\"}", EINVAL, 422, "language" },
	{ "{\"name\":\"a\",\"language\":1,\"code\":\"x\"}", EINVAL, 422,
	  "language: expected a string" },
	{ "{\"name\":\"a\"," PY ",\"handler\":\"main\"}", EINVAL, 422,
	  "handler: 'main' is not of the form" },
	{ "{\"name\":\"a\"," PY ",\"handler\":\".handler\"}", EINVAL, 422, "handler" },
	{ "{\"name\":\"a\"," PY ",\"handler\":\"main.\"}", EINVAL, 422, "handler" },
	{ "{\"name\":\"a\"," PY ",\"handler\":\"../x.handler\"}", EINVAL, 422, "handler" },
	{ "{\"name\":\"a\"," PY ",\"handler\":\"/x.handler\"}", EINVAL, 422, "handler" },
	{ "{\"name\":\"a\"," PY ",\"handler\":\"main.1h\"}", EINVAL, 422, "not an identifier" },
	{ "{\"name\":\"a\"," PY ",\"handler\":\"src/main.handler\"}", EINVAL, 422,
	  "handler: 'src/main.handler' names a folder" },
	{ "{\"name\":\"a\"," PY ",\"handler\":5}", EINVAL, 422, "handler: expected a string" },
	{ "{\"name\":\"a\"," PY ",\"route\":\"hello\"}", EINVAL, 422,
	  "route: must start with '/'" },
	{ "{\"name\":\"a\"," PY ",\"route\":\"/\"}", EINVAL, 422, "route" },
	{ "{\"name\":\"a\"," PY ",\"route\":\"/a//b\"}", EINVAL, 422, "route" },
	{ "{\"name\":\"a\"," PY ",\"route\":\"/a/\"}", EINVAL, 422, "route" },
	{ "{\"name\":\"a\"," PY ",\"route\":\"/a/../b\"}", EINVAL, 422, "route" },
	{ "{\"name\":\"a\"," PY ",\"route\":\"/a b\"}", EINVAL, 422, "route: only" },
	{ "{\"name\":\"a\"," PY ",\"route\":\"/a?b\"}", EINVAL, 422, "route: only" },
	{ "{\"name\":\"a\"," PY ",\"route\":5}", EINVAL, 422, "route: expected a string or null" },
	{ "{\"name\":\"123\"," PY "}", EINVAL, 422, "name: '123' is all digits" },
	{ "{\"name\":\"a\",\"runtime\":\"java21\",\"code\":\"x\"}", EINVAL, 422,
	  "runtime: 'java21' is not one Hearth runs" },
	{ "{\"name\":\"a\",\"runtime\":\"python3\",\"code\":\"x\"}", EINVAL, 422, "runtime:" },
	{ "{\"name\":\"a\",\"runtime\":\"nodejs.x\",\"code\":\"x\"}", EINVAL, 422, "runtime:" },
	{ "{\"name\":\"a\"," PY ",\"runtime\":\"nodejs20.x\"}", EINVAL, 422,
	  "runtime: 'nodejs20.x' is a node runtime, but language is python" },
	{ "{\"name\":\"a\"," PY ",\"runtime\":5}", EINVAL, 422,
	  "runtime: expected a string or null" },
	{ "{\"name\":\"a\"," PY ",\"architectures\":[\"sparc\"]}", EINVAL, 422,
	  "architectures: 'sparc' is not x86_64 or arm64" },
	{ "{\"name\":\"a\"," PY ",\"architectures\":[\"x86_64\\u0000\"]}", EINVAL, 422,
	  "architectures: no NUL" },
	{ "{\"name\":\"a\"," PY ",\"architectures\":[\"x86_64\",\"arm64\"]}", EINVAL, 422,
	  "architectures: expected one of" },
	{ "{\"name\":\"a\"," PY ",\"architectures\":\"x86_64\"}", EINVAL, 422,
	  "architectures: expected one of" },
	{ "{\"name\":\"a\"," PY ",\"route_auth\":\"open\"}", EINVAL, 422,
	  "route_auth: 'open' is not none or token" },
	{ "{\"name\":\"a\"," PY ",\"async_retries\":3}", EINVAL, 422,
	  "async_retries: 3 is out of range 0..2" },
	{ "{\"name\":\"a\"," PY ",\"async_max_age\":59}", EINVAL, 422,
	  "async_max_age: 59 is out of range 60..21600" },
	{ "{\"name\":\"a\"," PY ",\"async_max_age\":21601}", EINVAL, 422, "async_max_age" },
	{ "{\"name\":\"a\"," PY ",\"description\":7}", EINVAL, 422,
	  "description: expected a string or null" },
	{ "{\"name\":\"a\"," PY ",\"role\":[]}", EINVAL, 422, "role: expected a string or null" },
	{ "{\"name\":\"a\"," PY ",\"timeout\":0}", EINVAL, 422,
	  "timeout: 0 is out of range 1..900" },
	{ "{\"name\":\"a\"," PY ",\"timeout\":901}", EINVAL, 422, "timeout: 901 is out of range" },
	{ "{\"name\":\"a\"," PY ",\"timeout\":-1}", EINVAL, 422, "timeout" },
	{ "{\"name\":\"a\"," PY ",\"timeout\":\"3\"}", EINVAL, 422,
	  "timeout: expected an integer, got string" },
	{ "{\"name\":\"a\"," PY ",\"timeout\":3.5}", EINVAL, 422,
	  "timeout: expected an integer, got double" },
	{ "{\"name\":\"a\"," PY ",\"timeout\":true}", EINVAL, 422,
	  "timeout: expected an integer, got boolean" },
	{ "{\"name\":\"a\"," PY ",\"timeout\":null}", EINVAL, 422,
	  "timeout: expected an integer, got null" },
	{ "{\"name\":\"a\"," PY ",\"timeout\":99999999999999999999}", EINVAL, 422, "timeout" },
	{ "{\"name\":\"a\"," PY ",\"timeout\":-99999999999999999999}", EINVAL, 422, "timeout" },
	{ "{\"name\":\"a\"," PY ",\"memory\":63}", EINVAL, 422,
	  "memory: 63 is out of range 64..10240" },
	{ "{\"name\":\"a\"," PY ",\"memory\":10241}", EINVAL, 422, "memory: 10241" },
	{ "{\"name\":\"a\"," PY ",\"memory\":\"128\"}", EINVAL, 422,
	  "memory: expected an integer" },
	{ "{\"name\":\"a\"," PY ",\"env\":[]}", EINVAL, 422,
	  "env: expected an object of strings, got array" },
	{ "{\"name\":\"a\"," PY ",\"env\":\"A=1\"}", EINVAL, 422, "env: expected an object" },
	{ "{\"name\":\"a\"," PY ",\"env\":{\"A\":1}}", EINVAL, 422,
	  "env: the value of 'A' must be a string, got int" },
	{ "{\"name\":\"a\"," PY ",\"env\":{\"A\":null}}", EINVAL, 422, "env: the value of 'A'" },
	{ "{\"name\":\"a\"," PY ",\"env\":{\"1A\":\"x\"}}", EINVAL, 422,
	  "env: '1A' is not a valid variable name" },
	{ "{\"name\":\"a\"," PY ",\"env\":{\"A-B\":\"x\"}}", EINVAL, 422, "env: 'A-B'" },
	{ "{\"name\":\"a\"," PY ",\"env\":{\"\":\"x\"}}", EINVAL, 422, "env: '' is not a valid" },
	{ "{\"name\":\"a\"," PY ",\"env\":{\"HEARTH_X\":\"x\"}}", EINVAL, 422,
	  "env: 'HEARTH_X' is reserved" },
	{ "{\"name\":\"a\"," PY ",\"env\":{\"AWS_LAMBDA_FUNCTION_NAME\":\"x\"}}", EINVAL, 422,
	  "is reserved" },
	{ "{\"name\":\"a\"," PY ",\"min_warm\":-1}", EINVAL, 422, "min_warm: -1 is out of range" },
	{ "{\"name\":\"a\"," PY ",\"min_warm\":11}", EINVAL, 422,
	  "min_warm: 11 is more than max_concurrency (10)" },
	{ "{\"name\":\"a\"," PY ",\"min_warm\":2,\"max_concurrency\":1}", EINVAL, 422,
	  "min_warm: 2 is more than max_concurrency (1)" },
	{ "{\"name\":\"a\"," PY ",\"max_concurrency\":0}", EINVAL, 422,
	  "max_concurrency: 0 is out of range" },
	{ "{\"name\":\"a\"," PY ",\"max_concurrency\":1001}", EINVAL, 422,
	  "max_concurrency: 1001" },
	{ "{\"name\":\"a\"," PY ",\"max_concurrency\":1.0}", EINVAL, 422,
	  "max_concurrency: expected an integer" },
	{ "{\"name\":\"a\",\"language\":\"python\",\"code\":\"\"}", EINVAL, 422,
	  "code: must not be empty" },
	{ "{\"name\":\"a\",\"language\":\"python\",\"code\":5}", EINVAL, 422,
	  "code: expected a string" },
	{ "{\"name\":\"a\",\"language\":\"python\",\"code\":null}", EINVAL, 422,
	  "code: expected a string, got null" },
	{ "{\"name\":\"a\",\"language\":\"python\",\"zip\":{}}", EINVAL, 422,
	  "zip: expected a string" },
	{ "{\"name\":\"a\",\"language\":\"python\",\"zip\":\"\"}", EINVAL, 422,
	  "zip: must not be empty" },
	{ "{\"name\":\"a\",\"language\":\"python\",\"zip\":\"not base64!\"}", EINVAL, 422,
	  "zip: invalid base64" },
	{ "{\"name\":\"a\",\"language\":\"python\",\"zip\":\"QUJD=\"}", EINVAL, 422,
	  "zip: invalid base64" },
	{ "{\"name\":\"a\",\"language\":\"python\",\"zip\":\"Q\"}", EINVAL, 422,
	  "zip: invalid base64" },
	{ "{\"name\":\"a\",\"language\":\"python\",\"zip\":\"QQ==QQ==\"}", EINVAL, 422,
	  "zip: invalid base64" },
	{ "{\"name\":\"a\",\"language\":\"python\",\"zip\":\"QUJD-_\"}", EINVAL, 422,
	  "zip: invalid base64" },
};

/* One test point: `what` (create, update) of b->body failed as b says, with
 * nothing handed back (`none_out`). */
static void is_refused(const char *what, const struct bad *b, int r, const struct hearth_error *err,
		       bool none_out)
{
	char shown[64];

	snprintf(shown, sizeof(shown), "%s", b->body);
	for (char *p = shown; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '#')
			*p = ' ';
	ok(r == -b->status && err && err->status == b->status &&
		   http_status_of(err->status) == b->http && strstr(err->msg, b->mention) != NULL &&
		   none_out,
	   "%s %s -> %d naming '%s'", what, shown, b->http, b->mention);
	if (!(err && strstr(err->msg, b->mention)))
		printf("#   got %d: %s\n", r, err ? err->msg : "(no error)");
}

static void test_bad_creates(void)
{
	for (size_t i = 0; i < sizeof(bad_creates) / sizeof(bad_creates[0]); i++) {
		const struct bad *b = &bad_creates[i];
		struct hearth_error *err = NULL;
		json_object *body = NULL;
		struct fn *f = NULL;
		struct fn_upload up;
		int r;

		r = fn_parse_body(b->body, strlen(b->body), &body, &err);
		if (r == 0)
			r = fn_from_create_json(body, &f, &up, &err);
		is_refused("create", b, r, err, f == NULL);
		if (r == 0)
			fn_upload_release(&up);
		fn_free(f);
		json_object_put(body);
		hearth_error_free(err);
	}
}

/* env over 4 KB is refused; exactly at the limit is fine */
static void test_env_size(void)
{
	char *body = malloc(8192), *val = malloc(5000);
	struct hearth_error *err = NULL;
	json_object *j = NULL;
	struct fn *f = NULL;
	struct fn_upload up;
	int r;

	/* {"A":"xxx..."} is 8 bytes of framing plus the value */
	memset(val, 'x', 4096 - 8);
	val[4096 - 8] = '\0';
	snprintf(body, 8192, "{\"name\":\"a\"," PY ",\"env\":{\"A\":\"%s\"}}", val);
	r = fn_parse_body(body, strlen(body), &j, &err);
	if (r == 0)
		r = fn_from_create_json(j, &f, &up, &err);
	is_int(r, 0, "env of exactly 4096 bytes is accepted");
	if (r == 0)
		is_int(strlen(f->env_json), 4096, "and stored canonically in 4096 bytes");
	else
		ok(0, "(no record)");
	fn_free(f);
	f = NULL;
	if (r == 0)
		fn_upload_release(&up);
	json_object_put(j);
	j = NULL;
	hearth_error_clear(&err);

	memset(val, 'x', 4096 - 7);
	val[4096 - 7] = '\0';
	snprintf(body, 8192, "{\"name\":\"a\"," PY ",\"env\":{\"A\":\"%s\"}}", val);
	r = fn_parse_body(body, strlen(body), &j, &err);
	if (r == 0)
		r = fn_from_create_json(j, &f, &up, &err);
	ok(r == -EINVAL && err && strstr(err->msg, "env: 4097 bytes"),
	   "env of 4097 bytes -> 422 naming env and the size");
	fn_free(f);
	json_object_put(j);
	hearth_error_free(err);
	free(body);
	free(val);
}

static struct fn *create_ok(const char *body, struct fn_upload *up)
{
	struct hearth_error *err = NULL;
	json_object *j = NULL;
	struct fn *f = NULL;

	if (fn_parse_body(body, strlen(body), &j, &err) == 0)
		fn_from_create_json(j, &f, up, &err);
	if (err)
		printf("#   unexpected error: %s\n", err->msg);
	hearth_error_free(err);
	json_object_put(j);
	return f;
}

static int update(const struct fn *cur, const char *body, struct fn **out, struct fn_upload *up,
		  struct hearth_error **err);

static void test_create_defaults(void)
{
	struct fn_upload up;
	struct fn *f;
	char name[FN_FILE_MAX], files[3][FN_FILE_MAX];

	f = create_ok("{\"name\":\"hello\",\"language\":\"python\",\"code\":\"x = 1\\n\"}", &up);
	ok(f != NULL, "a minimal python create is accepted");
	if (!f)
		return;
	is_str(f->language, "python", "language");
	is_str(f->handler, "main.handler", "python's default handler");
	ok(f->route == NULL, "no route by default");
	is_int(f->timeout_s, 3, "timeout defaults to 3");
	is_int(f->memory_mb, 128, "memory defaults to 128");
	is_str(f->env_json, "{}", "env defaults to {}");
	is_int(f->min_warm, 1, "min_warm defaults to 1");
	is_int(f->max_concurrency, 10, "max_concurrency defaults to 10");
	is_int(f->revision, 1, "revision 1");
	is_int(up.kind, FN_CODE_FILE, "code is a single file");
	is_int(up.len, 6, "the code's bytes");
	is_int(fn_source_filename(f, name, NULL), 0, "source filename");
	is_str(name, "main.py", "stored as main.py");
	is_int(fn_handler_files(f, files), 1, "python has one candidate file");
	fn_upload_release(&up);
	fn_free(f);

	f = create_ok("{\"name\":\"n\",\"language\":\"javascript\",\"code\":\"exports.handler=1\","
		      "\"env\":{\"B\":\"2\",\"A\":\"1\"},\"route\":\"/api/v1/x-y_z.~\","
		      "\"timeout\":900,\"memory\":10240,\"min_warm\":0,\"max_concurrency\":1000}",
		      &up);
	ok(f != NULL, "a node create with every field is accepted");
	if (!f)
		return;
	is_str(f->language, "node", "javascript is stored as node");
	is_str(f->handler, "index.handler", "node's default handler");
	is_str(f->route, "/api/v1/x-y_z.~", "route kept");
	is_str(f->env_json, "{\"A\":\"1\",\"B\":\"2\"}", "env canonical (sorted keys)");
	is_int(f->timeout_s, 900, "timeout 900");
	is_int(f->memory_mb, 10240, "memory 10240");
	is_int(f->min_warm, 0, "min_warm 0");
	is_int(f->max_concurrency, 1000, "max_concurrency 1000");
	fn_source_filename(f, name, NULL);
	is_str(name, "index.js", "node code stored as index.js");
	is_int(fn_handler_files(f, files), 3, "node has three candidates");
	is_str(files[1], "index.mjs", "index.mjs is one");
	is_str(files[2], "index.cjs", "index.cjs is one");
	fn_upload_release(&up);
	fn_free(f);

	f = create_ok("{\"name\":\"z\",\"language\":\"python\",\"handler\":\"src/app.main\","
		      "\"zip\":\"UEsF\\nBgAA\\r\\nAAAAAAAAAAAAAAAAAAAAAA==\"}",
		      &up);
	ok(f != NULL, "a zip create (base64 with line breaks) is accepted");
	if (!f)
		return;
	is_int(up.kind, FN_CODE_ZIP, "zip upload");
	is_int(up.len, 22, "the decoded length (padding taken off)");
	ok(up.len >= 4 && memcmp(up.data, "PK\005\006", 4) == 0, "the decoded bytes");
	fn_handler_files(f, files);
	is_str(files[0], "src/app.py", "handler in a folder");
	fn_upload_release(&up);
	fn_free(f);

	/* What the Lambda API carries. */
	f = create_ok("{\"name\":\"aws\",\"runtime\":\"python3.12\",\"code\":\"x\","
		      "\"description\":\"d\",\"role\":\"arn:aws:iam::1:role/r\","
		      "\"architectures\":[\"arm64\"],\"route_auth\":\"none\",\"async_retries\":0,"
		      "\"async_max_age\":60}",
		      &up);
	ok(f != NULL, "a create with a runtime and no language is accepted");
	if (!f)
		return;
	is_str(f->language, "python", "python3.12 is a python runtime");
	is_str(f->runtime, "python3.12", "the runtime is kept as given");
	is_str(f->handler, "main.handler", "and the handler defaults for python");
	is_str(f->description, "d", "description kept");
	is_str(f->role, "arn:aws:iam::1:role/r", "role kept");
	is_str(f->architectures_json, "[\"arm64\"]", "architectures kept");
	is_str(f->route_auth, "none", "route_auth kept");
	ok(f->async_retries == 0 && f->async_max_age_s == 60,
	   "async_retries and async_max_age kept");
	{
		struct fn *g = NULL;
		struct fn_upload up2;

		ok(update(f, "{\"runtime\":\"nodejs20.x\"}", &g, &up2, NULL) == 0 && g &&
			   !strcmp(g->language, "node") && !strcmp(g->handler, "index.handler"),
		   "updating to a node runtime moves the language (and the default handler) along");
		fn_free(g);
		g = NULL;
		ok(update(f, "{\"language\":\"python\",\"runtime\":\"nodejs20.x\"}", &g, &up2,
			  NULL) == -EINVAL,
		   "a language and a runtime that disagree are refused");
		fn_free(g);
		g = NULL;
		ok(update(f, "{\"description\":null,\"runtime\":null}", &g, &up2, NULL) == 0 && g &&
			   !g->description && !g->runtime && !strcmp(g->language, "python"),
		   "description and runtime cleared with null, the language stays");
		fn_free(g);
	}
	fn_upload_release(&up);
	fn_free(f);
	f = create_ok("{\"name\":\"js\",\"runtime\":\"nodejs22.x\",\"code\":\"x\"}", &up);
	ok(f && !strcmp(f->language, "node") && f->async_retries == 2 &&
		   f->async_max_age_s == 21600 && !strcmp(f->architectures_json, "[\"x86_64\"]"),
	   "nodejs22.x is node; async and architecture defaults");
	fn_upload_release(&up);
	fn_free(f);

	f = create_ok("{\"name\":\"p\",\"language\":\"python\",\"zip\":\"QUI\"}", &up);
	ok(f && up.len == 2 && memcmp(up.data, "AB", 2) == 0, "base64 without its padding");
	fn_upload_release(&up);
	fn_free(f);
	f = create_ok("{\"name\":\"p\",\"language\":\"python\",\"zip\":\"QUJD\"}", &up);
	ok(f && up.len == 3 && memcmp(up.data, "ABC", 3) == 0, "base64 without padding needed");
	fn_upload_release(&up);
	fn_free(f);
	f = create_ok("{\"name\":\"p\",\"language\":\"python\",\"zip\":\"QQ==\"}", &up);
	ok(f && up.len == 1 && up.data[0] == 'A', "base64 with two '='");
	fn_upload_release(&up);
	fn_free(f);
}

static int update(const struct fn *cur, const char *body, struct fn **out, struct fn_upload *up,
		  struct hearth_error **err)
{
	json_object *j = NULL;
	int r = fn_parse_body(body, strlen(body), &j, err);

	if (r == 0)
		r = fn_apply_update_json(cur, j, out, up, err);
	json_object_put(j);
	return r;
}

/* Update bodies that must be refused (the function has max_concurrency 10). */
static const struct bad bad_updates[] = {
	{ "{\"min_warm\":20}", EINVAL, 422, "min_warm: 20 is more than max_concurrency" },
	{ "{\"timeout\":0}", EINVAL, 422, "timeout" },
	{ "{\"created_at\":\"x\"}", EINVAL, 422, "created_at: is read-only" },
	{ "{\"nme\":\"x\"}", EINVAL, 422, "nme: unknown field" },
	{ "[]", EINVAL, 422, "expected a JSON object" },
	{ "{\"name\":", EBADMSG, 400, "unexpected end" },
};

static void test_update(void)
{
	struct fn_upload up0, up;
	struct hearth_error *err = NULL;
	struct fn *cur, *nf = NULL;
	int r;

	cur = create_ok("{\"name\":\"u\",\"language\":\"python\",\"code\":\"x\",\"route\":\"/u\"}",
			&up0);
	fn_upload_release(&up0);
	if (!cur) {
		ok(0, "setup");
		return;
	}
	strcpy(cur->code_sha256,
	       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	cur->id = 7;
	cur->revision = 4;

	is_int(update(cur, "{}", &nf, &up, &err), 0, "an empty update is valid");
	ok(nf && fn_same_config(cur, nf), "and changes nothing");
	ok(nf && nf->revision == 4 && nf->id == 7, "id and revision are left alone");
	is_int(up.kind, FN_CODE_NONE, "no code");
	fn_free(nf);
	nf = NULL;

	is_int(update(cur, "{\"name\":\"u\",\"language\":\"python\",\"timeout\":3}", &nf, &up,
		      &err),
	       0, "same values");
	ok(nf && fn_same_config(cur, nf), "same values are no change");
	fn_free(nf);
	nf = NULL;

	is_int(update(cur, "{\"timeout\":30}", &nf, &up, &err), 0, "timeout update");
	ok(nf && !fn_same_config(cur, nf) && nf->timeout_s == 30, "is a change");
	fn_free(nf);
	nf = NULL;

	is_int(update(cur, "{\"route\":null}", &nf, &up, &err), 0, "route null clears it");
	ok(nf && nf->route == NULL && !fn_same_config(cur, nf), "route cleared is a change");
	fn_free(nf);
	nf = NULL;

	is_int(update(cur, "{\"env\":{\"Y\":\"1\",\"X\":\"2\"}}", &nf, &up, &err), 0, "env update");
	ok(nf && strcmp(nf->env_json, "{\"X\":\"2\",\"Y\":\"1\"}") == 0, "env canonical");
	fn_free(nf);
	nf = NULL;

	is_int(update(cur, "{\"language\":\"javascript\",\"code\":\"exports.handler=1\"}", &nf, &up,
		      &err),
	       0, "language change with code");
	ok(nf && strcmp(nf->language, "node") == 0 && strcmp(nf->handler, "index.handler") == 0,
	   "the default python handler becomes node's default");
	is_int(up.kind, FN_CODE_FILE, "with its code");
	fn_upload_release(&up);
	fn_free(nf);
	nf = NULL;

	for (size_t i = 0; i < sizeof(bad_updates) / sizeof(bad_updates[0]); i++) {
		r = update(cur, bad_updates[i].body, &nf, &up, &err);
		is_refused("update", &bad_updates[i], r, err, nf == NULL);
		hearth_error_clear(&err);
	}
	fn_free(cur);
}

static void test_json(void)
{
	struct fn *f = fn_new(), *d;
	json_object *o;
	const char *s;

	f->id = 12;
	f->name = strdup("j");
	f->language = strdup("python");
	f->handler = strdup("main.handler");
	f->env_json = strdup("{\"A\":\"1\"}");
	f->code_path = strdup("/data/code/abc");
	strcpy(f->code_sha256, "abc");
	f->created_at = 1764097714123LL;
	f->updated_at = 1764097714123LL;
	d = fn_dup(f);
	ok(d && d != f && d->name != f->name && strcmp(d->name, "j") == 0 && d->id == 12,
	   "fn_dup copies deeply");
	o = fn_to_json(d);
	s = json_object_to_json_string_ext(o,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	is_str(s,
	       "{\"id\":12,\"name\":\"j\",\"language\":\"python\",\"handler\":\"main.handler\","
	       "\"route\":null,\"timeout\":3,\"memory\":128,\"env\":{\"A\":\"1\"},\"min_warm\":1,"
	       "\"max_concurrency\":10,\"revision\":1,\"code_sha256\":\"abc\","
	       "\"code_path\":\"/data/code/abc\",\"created_at\":\"2025-11-25T19:08:34.123Z\","
	       "\"updated_at\":\"2025-11-25T19:08:34.123Z\",\"description\":null,\"runtime\":null,"
	       "\"route_auth\":null,\"async_retries\":2,\"async_max_age\":21600,\"role\":null,"
	       "\"architectures\":[\"x86_64\"]}",
	       "fn_to_json has every field");
	json_object_put(o);
	fn_free(d);
	fn_free(f);
	fn_free(NULL);
}

static void test_ids(void)
{
	static const char *const bad[] = { "0",
					   "-1",
					   "+1",
					   "abc",
					   "1.5",
					   "1e3",
					   " 1",
					   "1 ",
					   "01",
					   "",
					   "0x10",
					   "99999999999999999999",
					   "9223372036854775808" };
	struct hearth_error *err = NULL;
	int64_t id = 0;

	is_int(fn_parse_id("1", &id, NULL), 0, "id 1");
	is_int(id, 1, "is 1");
	is_int(fn_parse_id("9223372036854775807", &id, NULL), 0, "the largest int64 id");
	is_int(id, INT64_MAX, "parses");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = fn_parse_id(bad[i], &id, &err);

		ok(r == -ENOENT && err && http_status_of(err->status) == 404, "id '%s' -> 404",
		   bad[i]);
		hearth_error_clear(&err);
	}
}

static void test_mapping(void)
{
	is_int(http_status_of(EBADMSG), 400, "EBADMSG -> 400");
	is_int(http_status_of(EINVAL), 422, "EINVAL -> 422");
	is_int(http_status_of(ENOENT), 404, "ENOENT -> 404");
	is_int(http_status_of(EEXIST), 409, "EEXIST -> 409");
	is_int(http_status_of(E2BIG), 413, "E2BIG -> 413");
	is_int(http_status_of(ENOTSUP), 405, "ENOTSUP -> 405");
	is_int(http_status_of(EAGAIN), 429, "EAGAIN -> 429");
	is_int(http_status_of(ETIMEDOUT), 504, "ETIMEDOUT -> 504");
	is_int(http_status_of(EHOSTDOWN), 503, "EHOSTDOWN -> 503");
	is_int(http_status_of(ENOSYS), 501, "ENOSYS -> 501");
	is_int(http_status_of(EIO), 500, "anything else -> 500");
	is_str(http_code_of(ENOSYS), "not_implemented", "ENOSYS code");
	is_str(http_code_of(EINVAL), "invalid", "EINVAL code");
}

int main(void)
{
	test_bad_creates();
	test_env_size();
	test_create_defaults();
	test_update();
	test_json();
	test_ids();
	test_mapping();
	return tap_done();
}
