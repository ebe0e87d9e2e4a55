/* test_lambdajson.c — the Lambda API's JSON shapes (src/api/lambdajson.c):
 * FunctionConfiguration, Lambda's requests as native bodies, an
 * invocation's error payload and the error table, against what the real
 * service sends and takes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jsontext.h"
#include "lambdajson.h"
#include "tap.h"

static json_object *parse(const char *s)
{
	return json_tokener_parse(s);
}

static const char *str(json_object *o, const char *key)
{
	json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

static struct fn *sample(void)
{
	struct fn *f = fn_new();

	f->id = 7;
	f->name = strdup("hello");
	f->language = strdup("python");
	f->handler = strdup("main.handler");
	f->runtime = strdup("python3.12");
	f->role = strdup("arn:aws:iam::123456789012:role/r");
	f->env_json = strdup("{\"A\":\"b\"}");
	f->timeout_s = 5;
	f->memory_mb = 256;
	f->revision = 3;
	f->updated_at = 1566151571234; /* 2019-08-18T18:06:11.234Z */
	memset(f->code_sha256, 'a', 64);
	f->code_sha256[64] = '\0';
	return f;
}

static void test_configuration(void)
{
	struct fn *f = sample();
	json_object *o = lambdajson_configuration(f, "eu-west-1", 1234), *v = NULL;
	char rev1[37], rev2[37];

	is_str(str(o, "FunctionName"), "hello", "FunctionName");
	is_str(str(o, "FunctionArn"), "arn:aws:lambda:eu-west-1:000000000000:function:hello",
	       "FunctionArn in the region");
	is_str(str(o, "Runtime"), "python3.12", "Runtime kept as given");
	is_str(str(o, "Role"), "arn:aws:iam::123456789012:role/r", "Role kept");
	is_str(str(o, "Handler"), "main.handler", "Handler");
	is_str(str(o, "CodeSize"), "1234", "CodeSize");
	is_str(str(o, "Description"), "", "no description reads \"\"");
	is_str(str(o, "Timeout"), "5", "Timeout");
	is_str(str(o, "MemorySize"), "256", "MemorySize");
	is_str(str(o, "LastModified"), "2019-08-18T18:06:11.234+0000",
	       "LastModified as Lambda writes it");
	is_str(str(o, "CodeSha256"),
	       "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo=", "CodeSha256 in base64");
	is_str(str(o, "Version"), "$LATEST", "Version $LATEST");
	ok(json_object_object_get_ex(o, "Environment", &v) &&
		   strcmp(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
			  "{\"Variables\":{\"A\":\"b\"}}") == 0,
	   "Environment.Variables");
	is_str(str(o, "State"), "Active", "State Active at once");
	is_str(str(o, "LastUpdateStatus"), "Successful", "LastUpdateStatus Successful");
	is_str(str(o, "PackageType"), "Zip", "PackageType Zip");
	ok(json_object_object_get_ex(o, "Architectures", &v) &&
		   strcmp(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
			  "[\"x86_64\"]") == 0,
	   "Architectures");
	ok(strlen(str(o, "RevisionId")) == 36, "a RevisionId shaped like a UUID");
	json_object_put(o);

	lambdajson_revision_id(f, rev1);
	f->revision++;
	lambdajson_revision_id(f, rev2);
	ok(strcmp(rev1, rev2) != 0, "the RevisionId changes with the revision");
	free(f->env_json);
	f->env_json = strdup("{}");
	free(f->runtime);
	f->runtime = NULL;
	o = lambdajson_configuration(f, "us-east-1", 0);
	ok(!json_object_object_get_ex(o, "Environment", NULL), "no variables: no Environment");
	ok(!json_object_object_get_ex(o, "Runtime", NULL),
	   "a function made with a language and no runtime has no Runtime");
	json_object_put(o);
	fn_free(f);
}

/* Converts a request with fn and compares the native body with want
 * (plain JSON, json-c's key order), or the status and a message part. */
static void check_create(const char *req, const char *want, int want_r, const char *msg_part,
			 const char *desc)
{
	json_object *o = parse(req);
	struct hearth_error *err = NULL;
	char *native = NULL;
	int r = lambdajson_create_body(o, &native, &err);

	if (want) {
		ok(r == 0 && native && strcmp(native, want) == 0, "%s", desc);
		if (r || !native || strcmp(native, want))
			printf("#   got %s (%s)\n", native ? native : "NULL", err ? err->msg : "");
	} else {
		ok(r == want_r && err && strstr(err->msg, msg_part), "%s", desc);
		if (!(r == want_r && err && strstr(err->msg, msg_part)))
			printf("#   got %d: %s\n", r, err ? err->msg : "(no error)");
	}
	free(native);
	hearth_error_free(err);
	json_object_put(o);
}

static void test_create(void)
{
	check_create("{\"FunctionName\":\"f\",\"Runtime\":\"python3.13\",\"Handler\":\"app.main\","
		     "\"Role\":\"arn:aws:iam::1:role/r\",\"Code\":{\"ZipFile\":\"UEsFBg==\"},"
		     "\"Timeout\":9,\"MemorySize\":512,\"Description\":\"d\","
		     "\"Environment\":{\"Variables\":{\"K\":\"v\"}},\"Architectures\":[\"arm64\"],"
		     "\"Publish\":false,\"TracingConfig\":{\"Mode\":\"PassThrough\"},"
		     "\"Tags\":{\"t\":\"1\"},\"PackageType\":\"Zip\"}",
		     "{\"name\":\"f\",\"handler\":\"app.main\",\"runtime\":\"python3.13\","
		     "\"role\":\"arn:aws:iam::1:role/r\",\"description\":\"d\",\"timeout\":9,"
		     "\"memory\":512,\"env\":{\"K\":\"v\"},\"architectures\":[\"arm64\"],"
		     "\"zip\":\"UEsFBg==\"}",
		     0, NULL, "CreateFunction maps onto the native fields (tags, tracing ignored)");
	check_create("{\"FunctionName\":\"arn:aws:lambda:us-east-1:123456789012:function:g\","
		     "\"Runtime\":\"nodejs22.x\",\"Handler\":\"index.handler\","
		     "\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
		     "{\"name\":\"g\",\"handler\":\"index.handler\",\"runtime\":\"nodejs22.x\","
		     "\"zip\":\"UEsFBg==\"}",
		     0, NULL, "a FunctionName given as an ARN names the function");
	check_create("{\"FunctionName\":\"123456789012:function:h\",\"Runtime\":\"nodejs18.x\","
		     "\"Handler\":\"index.handler\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
		     "{\"name\":\"h\",\"handler\":\"index.handler\",\"runtime\":\"nodejs18.x\","
		     "\"zip\":\"UEsFBg==\"}",
		     0, NULL, "and so does a partial ARN");
	check_create(
		"{\"FunctionName\":\"f\",\"Handler\":\"a.b\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
		NULL, -EINVAL, "Runtime and Handler are mandatory",
		"no Runtime: Lambda's InvalidParameterValue");
	check_create("{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\",\"Handler\":\"a.b\","
		     "\"Code\":{\"S3Bucket\":\"b\",\"S3Key\":\"k\"}}",
		     NULL, -EINVAL, "Code.S3Bucket: Hearth takes a function's code inline",
		     "code in S3 is refused, saying why");
	check_create("{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\",\"Handler\":\"a.b\","
		     "\"Code\":{}}",
		     NULL, -EINVAL, "Code.ZipFile: is required", "no ZipFile is refused");
	check_create("{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\",\"Handler\":\"a.b\","
		     "\"PackageType\":\"Image\",\"Code\":{\"ImageUri\":\"x\"}}",
		     NULL, -EINVAL, "PackageType: Hearth runs Zip packages only",
		     "a container image is refused");
	check_create("{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\",\"Handler\":\"a.b\","
		     "\"Layers\":[\"arn:aws:lambda:us-east-1:1:layer:l:1\"],"
		     "\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
		     NULL, -EINVAL, "Layers: Hearth has no layers", "layers are refused");
	check_create("{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\",\"Handler\":\"a.b\","
		     "\"Layers\":[],\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
		     "{\"name\":\"f\",\"handler\":\"a.b\",\"runtime\":\"python3.12\","
		     "\"zip\":\"UEsFBg==\"}",
		     0, NULL, "an empty Layers list is fine");
	check_create("{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\",\"Handler\":\"a.b\","
		     "\"Timeout\":\"3\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
		     NULL, -EINVAL, "Timeout: expected an integer, got string",
		     "a Timeout that is not an integer names the member");
	check_create("{\"FunctionName\":\"ab\\u0000cd\",\"Runtime\":\"python3.12\","
		     "\"Handler\":\"a.b\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
		     "{\"name\":\"ab\\u0000cd\",\"handler\":\"a.b\",\"runtime\":\"python3.12\","
		     "\"zip\":\"UEsFBg==\"}",
		     0, NULL, "a FunctionName with a NUL goes whole (the registry refuses it)");
	check_create("{\"FunctionName\":\"0:function:f\\u0000:1\",\"Runtime\":\"python3.12\","
		     "\"Handler\":\"a.b\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
		     NULL, -EINVAL, "FunctionName: a new function's ARN takes no version",
		     "a version after a NUL is seen");
	check_create("{\"Runtime\":\"python3.12\",\"Handler\":\"a.b\"}", NULL, -EINVAL,
		     "FunctionName: is required", "FunctionName is required");
	check_create("[1]", NULL, -EBADMSG, "Could not parse request body into json",
		     "a body that is not an object");
}

static void test_updates(void)
{
	struct lambdajson_update u;
	struct hearth_error *err = NULL;
	json_object *o;
	int r;

	o = parse(
		"{\"ZipFile\":\"UEsFBg==\",\"DryRun\":true,\"RevisionId\":\"x\",\"Publish\":true}");
	r = lambdajson_update_code_body(o, &u, &err);
	ok(r == 0 && strcmp(u.native, "{\"zip\":\"UEsFBg==\"}") == 0 && u.dry_run &&
		   strcmp(u.revision_id, "x") == 0,
	   "UpdateFunctionCode: zip, DryRun, RevisionId");
	free(u.native);
	json_object_put(o);

	o = parse("{\"S3Bucket\":\"b\",\"S3Key\":\"k\"}");
	r = lambdajson_update_code_body(o, &u, &err);
	ok(r == -EINVAL && strstr(err->msg, "S3Bucket"), "UpdateFunctionCode from S3 is refused");
	hearth_error_clear(&err);
	json_object_put(o);

	o = parse("{\"Environment\":{},\"Timeout\":30,\"Handler\":\"x.y\"}");
	r = lambdajson_update_config_body(o, &u, &err);
	ok(r == 0 && strcmp(u.native, "{\"handler\":\"x.y\",\"timeout\":30,\"env\":{}}") == 0 &&
		   !u.revision_id,
	   "UpdateFunctionConfiguration: Environment without Variables clears them");
	free(u.native);
	json_object_put(o);
}

static void test_invoke_request(void)
{
	struct lambdajson_invoke o;
	struct hearth_error *err = NULL;
	const char *p;
	size_t n;

	ok(lambdajson_invoke_options(NULL, NULL, &o, &err) == 0 && o.type == LAMBDAJSON_SYNC &&
		   !o.tail,
	   "Invoke without headers: RequestResponse, no tail");
	ok(lambdajson_invoke_options("Event", "Tail", &o, &err) == 0 &&
		   o.type == LAMBDAJSON_EVENT && o.tail,
	   "Invoke: Event, Tail");
	ok(lambdajson_invoke_options("DryRun", "None", &o, &err) == 0 &&
		   o.type == LAMBDAJSON_DRY_RUN && !o.tail,
	   "Invoke: DryRun, None");
	ok(lambdajson_invoke_options("event", NULL, &o, &err) == -EINVAL &&
		   strstr(err->msg, "'event' at 'invocationType'"),
	   "Invoke: an unknown invocation type is refused, named");
	hearth_error_clear(&err);
	ok(lambdajson_invoke_options(NULL, "All", &o, &err) == -EINVAL &&
		   strstr(err->msg, "'All' at 'logType'"),
	   "Invoke: an unknown log type is refused, named");
	hearth_error_clear(&err);
	ok(lambdajson_invoke_payload(" \r\n", 3, &p, &n, &err) == 0 && n == 2 &&
		   !memcmp(p, "{}", 2),
	   "Invoke: a blank body is the event {}");
	ok(lambdajson_invoke_payload(" [1] ", 5, &p, &n, &err) == 0 && n == 5 &&
		   !memcmp(p, " [1] ", 5),
	   "Invoke: the payload goes as it came");
	ok(lambdajson_invoke_payload("{} {}", 5, &p, &n, &err) == -EBADMSG && !p,
	   "Invoke: a body that is not one JSON value is refused");
	hearth_error_clear(&err);
}

static void check_error(const struct pool_result *res, const char *want, const char *desc)
{
	struct buf b = BUF_INIT(1 << 20);
	int r = lambdajson_invoke_error(&b, res, NULL);

	ok(r == 0 && strcmp(b.ptr, want) == 0, "%s", desc);
	if (r || strcmp(b.ptr, want))
		printf("#   got %s\n", b.ptr);
	ok(jsontext_is_value(b.ptr, b.len), "%s: valid JSON", desc);
	buf_release(&b);
}

static void test_invoke_error(void)
{
	struct pool_result res = { 0 };

	res.request_id = "11111111-2222-4333-a444-555555555555";
	res.status = INVOCATION_ERROR;
	res.error_type = bytes_of_str("ValueError");
	res.error_message = bytes_of_str("boom \"quoted\"");
	res.error_stack = bytes_of_str("[\"  File \\\"/var/task/main.py\\\", line 3\\n\"]");
	check_error(&res,
		    "{\"errorMessage\":\"boom \\\"quoted\\\"\",\"errorType\":\"ValueError\","
		    "\"requestId\":\"11111111-2222-4333-a444-555555555555\",\"stackTrace\":"
		    "[\"  File \\\"/var/task/main.py\\\", line 3\\n\"]}",
		    "a handler's error: errorMessage, errorType, requestId, stackTrace");
	res.error_stack = bytes_of_str("not a list");
	check_error(&res,
		    "{\"errorMessage\":\"boom \\\"quoted\\\"\",\"errorType\":\"ValueError\","
		    "\"requestId\":\"11111111-2222-4333-a444-555555555555\",\"stackTrace\":[]}",
		    "a stack that is not a JSON list becomes []");
	res.status = INVOCATION_TIMEOUT;
	res.timeout_s = 3;
	check_error(&res,
		    "{\"errorMessage\":\"RequestId: 11111111-2222-4333-a444-555555555555 Error: "
		    "Task timed out after 3.00 seconds\",\"errorType\":\"Sandbox.Timedout\"}",
		    "a timeout, as Lambda words it");
	res.status = INVOCATION_CRASHED;
	res.error_type = bytes_of_str("Runtime.ExitError");
	res.error_message = bytes_of_str("Runtime exited with code 1");
	check_error(&res,
		    "{\"errorMessage\":\"RequestId: 11111111-2222-4333-a444-555555555555 Error: "
		    "Runtime exited with code 1\",\"errorType\":\"Runtime.ExitError\"}",
		    "a runtime that died");
}

static void test_errors(void)
{
	static const struct {
		int status, http;
		const char *type, *key;
	} cases[] = {
		{ EBADMSG, 400, "InvalidRequestContentException", "message" },
		{ EINVAL, 400, "InvalidParameterValueException", "message" },
		{ ENOENT, 404, "ResourceNotFoundException", "Message" },
		{ ENOTSUP, 404, "UnknownOperationException", "message" },
		{ EEXIST, 409, "ResourceConflictException", "message" },
		{ ESTALE, 412, "PreconditionFailedException", "message" },
		{ E2BIG, 413, "RequestTooLargeException", "message" },
		{ EAGAIN, 429, "TooManyRequestsException", "message" },
		{ EIO, 500, "ServiceException", "Message" },
		{ ENOSYS, 501, "ServiceException", "Message" },
		{ EHOSTDOWN, 503, "ServiceException", "Message" },
		{ ENXIO, 503, "ServiceException", "Message" },
	};
	struct lambdajson_error e;
	json_object *body;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lambdajson_error_of(cases[i].status, &e);
		ok(e.http == cases[i].http && strcmp(e.type, cases[i].type) == 0 &&
			   strcmp(e.message_key, cases[i].key) == 0,
		   "%s: %d %s, \"%s\"", strerror(cases[i].status), cases[i].http, cases[i].type,
		   cases[i].key);
	}
	lambdajson_error_of(EAGAIN, &e);
	body = lambdajson_error_body(&e, "Rate Exceeded.");
	is_str(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN),
	       "{\"Reason\":\"ReservedFunctionConcurrentInvocationLimitExceeded\",\"Type\":\"User\","
	       "\"message\":\"Rate Exceeded.\"}",
	       "a throttle's body, with its Reason");
	json_object_put(body);
	lambdajson_error_of(ENOENT, &e);
	body = lambdajson_error_body(&e, "Function not found: x");
	is_str(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN),
	       "{\"Type\":\"User\",\"Message\":\"Function not found: x\"}", "a not-found body");
	json_object_put(body);
}

int main(void)
{
	test_configuration();
	test_create();
	test_updates();
	test_invoke_request();
	test_invoke_error();
	test_errors();
	return tap_done();
}
