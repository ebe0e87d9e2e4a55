/* lambdajson.c — see lambdajson.h. */
#include "lambdajson.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "b64.h"
#include "envelope.h"
#include "jsontext.h"
#include "util.h"

void lambdajson_arn(char dst[LAMBDAJSON_ARN_MAX], const char *region, const char *name)
{
	snprintf(dst, LAMBDAJSON_ARN_MAX, "arn:aws:lambda:%s:" LAMBDAJSON_ACCOUNT ":function:%s",
		 region, name);
}

/* ---- FunctionConfiguration ------------------------------------------------ */

void lambdajson_revision_id(const struct fn *f, char out[37])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char seed[96];
	int len = snprintf(seed, sizeof(seed), "hearth:%" PRId64 ":%" PRId64 ":%" PRId64, f->id,
			   f->revision, f->updated_at);

	EVP_Digest(seed, (size_t)len, md, &n, EVP_sha256(), NULL);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10],
		 md[11], md[12], md[13], md[14], md[15]);
}

/* Lambda's LastModified: "2019-08-14T22:26:11.234+0000". */
static void last_modified(int64_t ms, char out[40])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char day[24];

	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%s.%03d+0000", day, (int)(ms % 1000));
}

/* CodeSha256 is base64, where Hearth keeps hex. */
static void sha_base64(const char *hex, char out[45])
{
	_cleanup_free_ char *enc = NULL;
	unsigned char raw[32];

	out[0] = '\0';
	if (strlen(hex) != 64)
		return;
	for (int i = 0; i < 32; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return;
		raw[i] = (unsigned char)v;
	}
	if (b64_encode(raw, sizeof(raw), &enc, NULL, NULL) == 0)
		snprintf(out, 45, "%s", enc);
}

static json_object *obj_of(const char *k1, json_object *v1, const char *k2, json_object *v2)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, k1, v1);
	if (k2)
		json_object_object_add(o, k2, v2);
	return o;
}

json_object *lambdajson_configuration(const struct fn *f, const char *region, int64_t code_size)
{
	json_object *o = json_object_new_object(), *env = NULL, *arch = NULL;
	char arn[LAMBDAJSON_ARN_MAX], modified[40], sha[45], rev[37], group[FN_NAME_MAX + 16];

	if (!o)
		return NULL;
	lambdajson_arn(arn, region, f->name);
	last_modified(f->updated_at, modified);
	sha_base64(f->code_sha256, sha);
	lambdajson_revision_id(f, rev);
	snprintf(group, sizeof(group), "/aws/lambda/%s", f->name);
	if (f->env_json)
		env = jsontext_tree(f->env_json);
	if (f->architectures_json)
		arch = jsontext_tree(f->architectures_json);
	json_object_object_add(o, "FunctionName", json_object_new_string(f->name));
	json_object_object_add(o, "FunctionArn", json_object_new_string(arn));
	/* A function made over /functions/ may name a language, no runtime. */
	if (f->runtime)
		json_object_object_add(o, "Runtime", json_object_new_string(f->runtime));
	if (f->role)
		json_object_object_add(o, "Role", json_object_new_string(f->role));
	json_object_object_add(o, "Handler", json_object_new_string(f->handler));
	json_object_object_add(o, "CodeSize", json_object_new_int64(code_size));
	json_object_object_add(o, "Description",
			       json_object_new_string(f->description ? f->description : ""));
	json_object_object_add(o, "Timeout", json_object_new_int(f->timeout_s));
	json_object_object_add(o, "MemorySize", json_object_new_int(f->memory_mb));
	json_object_object_add(o, "LastModified", json_object_new_string(modified));
	json_object_object_add(o, "CodeSha256", json_object_new_string(sha));
	json_object_object_add(o, "Version", json_object_new_string("$LATEST"));
	/* Lambda leaves Environment out when there are no variables. */
	if (env && json_object_is_type(env, json_type_object) && json_object_object_length(env))
		json_object_object_add(o, "Environment", obj_of("Variables", env, NULL, NULL));
	else
		json_object_put(env);
	json_object_object_add(o, "TracingConfig",
			       obj_of("Mode", json_object_new_string("PassThrough"), NULL, NULL));
	json_object_object_add(o, "RevisionId", json_object_new_string(rev));
	/* A commit is done when it returns: never Pending, never InProgress. */
	json_object_object_add(o, "State", json_object_new_string("Active"));
	json_object_object_add(o, "LastUpdateStatus", json_object_new_string("Successful"));
	json_object_object_add(o, "PackageType", json_object_new_string("Zip"));
	json_object_object_add(o, "Architectures", arch ? arch : json_object_new_array());
	json_object_object_add(o, "EphemeralStorage",
			       obj_of("Size", json_object_new_int(512), NULL, NULL));
	json_object_object_add(o, "SnapStart",
			       obj_of("ApplyOn", json_object_new_string("None"),
				      "OptimizationStatus", json_object_new_string("Off")));
	json_object_object_add(o, "LoggingConfig",
			       obj_of("LogFormat", json_object_new_string("Text"), "LogGroup",
				      json_object_new_string(group)));
	return o;
}

/* ---- requests into native bodies -------------------------------------------- */

static const char *type_name(json_type t)
{
	switch (t) {
	case json_type_string: return "a string";
	case json_type_int: return "an integer";
	case json_type_boolean: return "a boolean";
	case json_type_object: return "an object";
	case json_type_array: return "a list";
	default: return json_type_to_name(t);
	}
}

/* A member of obj of type t: *out NULL when absent or null. */
static int member(json_object *obj, const char *key, json_type t, json_object **out,
		  struct hearth_error **err)
{
	json_object *v = NULL;

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, t))
		return hearth_error_make(err, EINVAL, "%s: expected %s, got %s", key, type_name(t),
					 json_type_to_name(json_object_get_type(v)));
	*out = v;
	return 0;
}

/* Copies obj's member key (of type t), when given, to native's field. */
static int copy(json_object *obj, const char *key, json_type t, json_object *native,
		const char *field, struct hearth_error **err)
{
	json_object *v;
	int r = member(obj, key, t, &v, err);

	if (r == 0 && v)
		json_object_object_add(native, field, json_object_get(v));
	return r;
}

/* A non-empty list or object of something Hearth does not do. */
static int refuse_nonempty(json_object *obj, const char *key, const char *why,
			   struct hearth_error **err)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return 0;
	if ((json_object_is_type(v, json_type_array) && json_object_array_length(v) == 0) ||
	    (json_object_is_type(v, json_type_object) && json_object_object_length(v) == 0))
		return 0;
	return hearth_error_make(err, EINVAL, "%s: %s", key, why);
}

/* What CreateFunction and UpdateFunctionConfiguration share. */
static int config_fields(json_object *req, json_object *native, struct hearth_error **err)
{
	json_object *env, *vars;
	int r;

	if ((r = copy(req, "Handler", json_type_string, native, "handler", err)) < 0 ||
	    (r = copy(req, "Runtime", json_type_string, native, "runtime", err)) < 0 ||
	    (r = copy(req, "Role", json_type_string, native, "role", err)) < 0 ||
	    (r = copy(req, "Description", json_type_string, native, "description", err)) < 0 ||
	    (r = copy(req, "Timeout", json_type_int, native, "timeout", err)) < 0 ||
	    (r = copy(req, "MemorySize", json_type_int, native, "memory", err)) < 0 ||
	    (r = member(req, "Environment", json_type_object, &env, err)) < 0)
		return r;
	if (env) {
		/* Environment replaces every variable; without Variables, none. */
		if ((r = member(env, "Variables", json_type_object, &vars, err)) < 0)
			return hearth_error_wrap(err, "Environment");
		json_object_object_add(native, "env",
				       vars ? json_object_get(vars) : json_object_new_object());
	}
	if ((r = refuse_nonempty(req, "Layers",
				 "Hearth has no layers: put what they hold in the zip", err)) < 0 ||
	    (r = refuse_nonempty(req, "FileSystemConfigs", "Hearth mounts no file systems", err)) <
		    0)
		return r;
	return 0;
}

/* A name from FunctionName: the name itself, or the last part of a full
 * ("arn:aws:lambda:REGION:ACCOUNT:function:NAME") or partial
 * ("ACCOUNT:function:NAME") ARN. */
static int function_name(json_object *req, json_object *native, struct hearth_error **err)
{
	static const char marker[] = ":function:";
	json_object *v;
	const char *s, *fn;
	size_t len;
	int r;

	if ((r = member(req, "FunctionName", json_type_string, &v, err)) < 0)
		return r;
	if (!v)
		return hearth_error_make(err, EINVAL, "FunctionName: is required");
	/* Whole, NUL bytes and all: a name cut at a NUL would create
	 * another function than the one named (the registry refuses the NUL). */
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	fn = memmem(s, len, marker, sizeof(marker) - 1);
	if (fn) {
		len -= (size_t)(fn - s) + sizeof(marker) - 1;
		s = fn + sizeof(marker) - 1;
		if (memchr(s, ':', len))
			return hearth_error_make(err, EINVAL,
						 "FunctionName: a new function's ARN takes no "
						 "version or alias");
	}
	json_object_object_add(native, "name", json_object_new_string_len(s, (int)len));
	return 0;
}

/* Code.ZipFile, the one way Hearth takes code. */
static int zip_file(json_object *code, json_object *native, const char *where,
		    struct hearth_error **err)
{
	static const char *const elsewhere[] = { "S3Bucket", "S3Key", "S3ObjectVersion",
						 "ImageUri" };
	json_object *zip, *v;
	int r;

	for (size_t i = 0; i < sizeof(elsewhere) / sizeof(elsewhere[0]); i++)
		if (json_object_object_get_ex(code, elsewhere[i], &v) && v)
			return hearth_error_make(err, EINVAL,
						 "%s%s: Hearth takes a function's code inline, as "
						 "%sZipFile (a base64 zip archive); code in S3 and "
						 "container images are not supported",
						 where, elsewhere[i], where);
	if ((r = member(code, "ZipFile", json_type_string, &zip, err)) < 0)
		return r;
	if (zip)
		json_object_object_add(native, "zip", json_object_get(zip));
	return 0;
}

static int finish(json_object *native, char **out, struct hearth_error **err)
{
	const char *s = json_object_to_json_string_ext(native,
						       JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE);

	*out = s ? strdup(s) : NULL;
	if (!*out)
		return hearth_error_make(err, ENOMEM, "out of memory");
	return 0;
}

static int check_object(json_object *req, struct hearth_error **err)
{
	if (!json_object_is_type(req, json_type_object))
		return hearth_error_make(err, EBADMSG,
					 "Could not parse request body into json: expected an "
					 "object");
	return 0;
}

int lambdajson_create_body(json_object *req, char **out, struct hearth_error **err)
{
	_cleanup_json_ json_object *native = json_object_new_object();
	json_object *code, *pkg, *handler = NULL, *runtime = NULL;
	int r;

	*out = NULL;
	if (!native)
		return hearth_error_make(err, ENOMEM, "out of memory");
	if ((r = check_object(req, err)) < 0 || (r = function_name(req, native, err)) < 0 ||
	    (r = config_fields(req, native, err)) < 0 ||
	    (r = copy(req, "Architectures", json_type_array, native, "architectures", err)) < 0 ||
	    (r = member(req, "PackageType", json_type_string, &pkg, err)) < 0 ||
	    (r = member(req, "Code", json_type_object, &code, err)) < 0)
		return r;
	if (pkg && strcmp(json_object_get_string(pkg), "Zip") != 0)
		return hearth_error_make(err, EINVAL,
					 "PackageType: Hearth runs Zip packages only, not '%s'",
					 json_object_get_string(pkg));
	json_object_object_get_ex(native, "handler", &handler);
	json_object_object_get_ex(native, "runtime", &runtime);
	if (!handler || !runtime)
		return hearth_error_make(err, EINVAL,
					 "Runtime and Handler are mandatory parameters for "
					 "functions created with deployment packages.");
	if (!code || (r = zip_file(code, native, "Code.", err)) < 0 ||
	    !json_object_object_get_ex(native, "zip", NULL))
		return r < 0 ? r
			     : hearth_error_make(err, EINVAL,
						 "Code.ZipFile: is required (a base64 zip archive "
						 "of the function's code)");
	return finish(native, out, err);
}

static int revision_id(json_object *req, struct lambdajson_update *out, struct hearth_error **err)
{
	json_object *v;
	int r = member(req, "RevisionId", json_type_string, &v, err);

	if (r < 0 || !v)
		return r;
	/* A revision id is a UUID: one with a NUL in it is none of ours
	 * (and would be cut short as a C string). */
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return hearth_error_make(err, EINVAL, "RevisionId: contains a NUL character");
	out->revision_id = json_object_get_string(v);
	return 0;
}

int lambdajson_update_code_body(json_object *req, struct lambdajson_update *out,
				struct hearth_error **err)
{
	_cleanup_json_ json_object *native = json_object_new_object();
	json_object *dry;
	int r;

	memset(out, 0, sizeof(*out));
	if (!native)
		return hearth_error_make(err, ENOMEM, "out of memory");
	if ((r = check_object(req, err)) < 0 || (r = zip_file(req, native, "", err)) < 0 ||
	    (r = copy(req, "Architectures", json_type_array, native, "architectures", err)) < 0 ||
	    (r = member(req, "DryRun", json_type_boolean, &dry, err)) < 0 ||
	    (r = revision_id(req, out, err)) < 0)
		return r;
	if (!json_object_object_get_ex(native, "zip", NULL))
		return hearth_error_make(err, EINVAL,
					 "ZipFile: is required (a base64 zip archive of the "
					 "function's code)");
	out->dry_run = dry && json_object_get_boolean(dry);
	return finish(native, &out->native, err);
}

int lambdajson_update_config_body(json_object *req, struct lambdajson_update *out,
				  struct hearth_error **err)
{
	_cleanup_json_ json_object *native = json_object_new_object();
	int r;

	memset(out, 0, sizeof(*out));
	if (!native)
		return hearth_error_make(err, ENOMEM, "out of memory");
	if ((r = check_object(req, err)) < 0 || (r = config_fields(req, native, err)) < 0 ||
	    (r = revision_id(req, out, err)) < 0)
		return r;
	return finish(native, &out->native, err);
}

/* ---- Invoke's request ------------------------------------------------------ */

int lambdajson_invoke_options(const char *invocation_type, const char *log_type,
			      struct lambdajson_invoke *out, struct hearth_error **err)
{
	const char *v = invocation_type;

	out->type = LAMBDAJSON_SYNC;
	out->tail = false;
	if (v && strcmp(v, "Event") == 0)
		out->type = LAMBDAJSON_EVENT;
	else if (v && strcmp(v, "DryRun") == 0)
		out->type = LAMBDAJSON_DRY_RUN;
	else if (v && strcmp(v, "RequestResponse") != 0)
		return hearth_error_make(
			err, EINVAL,
			"1 validation error detected: Value '%.64s' at "
			"'invocationType' failed to satisfy constraint: Member must "
			"satisfy enum value set: [Event, RequestResponse, DryRun]",
			v);
	if (log_type && strcmp(log_type, "Tail") != 0 && strcmp(log_type, "None") != 0)
		return hearth_error_make(err, EINVAL,
					 "1 validation error detected: Value '%.64s' at 'logType' "
					 "failed to satisfy constraint: Member must satisfy enum "
					 "value set: [Tail, None]",
					 log_type);
	out->tail = log_type && strcmp(log_type, "Tail") == 0;
	return 0;
}

int lambdajson_invoke_payload(const char *body, size_t len, const char **payload, size_t *plen,
			      struct hearth_error **err)
{
	*payload = NULL;
	*plen = 0;
	if (jsontext_blank(body, len)) {
		*payload = "{}";
		*plen = 2;
		return 0;
	}
	if (!jsontext_is_value(body, len))
		return hearth_error_make(err, EBADMSG,
					 "Could not parse request body into json: Could not parse "
					 "payload into json: the payload is not one JSON value");
	*payload = body;
	*plen = len;
	return 0;
}

/* ---- an invocation's error ------------------------------------------------- */

int lambdajson_invoke_error(struct buf *b, const struct pool_result *res, struct hearth_error **err)
{
	_cleanup_buf_ struct buf msg = BUF_INIT(16 * HEARTH_KiB);
	int r;

	if (res->status == INVOCATION_TIMEOUT) {
		if ((r = buf_printf(&msg, err,
				    "RequestId: %s Error: Task timed out after %d.00 seconds",
				    res->request_id, res->timeout_s)) < 0 ||
		    (r = buf_puts(b, "{\"errorMessage\":", err)) < 0 ||
		    (r = jsontext_append_string(b, msg.ptr, msg.len, err)) < 0)
			return r;
		return buf_puts(b, ",\"errorType\":\"Sandbox.Timedout\"}", err);
	}
	if (res->status == INVOCATION_CRASHED) {
		if ((r = buf_printf(&msg, err, "RequestId: %s Error: %.*s", res->request_id,
				    (int)(res->error_message.len > 8192 ? 8192
									: res->error_message.len),
				    res->error_message.ptr ? res->error_message.ptr : "")) < 0 ||
		    (r = buf_puts(b, "{\"errorMessage\":", err)) < 0 ||
		    (r = jsontext_append_string(b, msg.ptr, msg.len, err)) < 0 ||
		    (r = buf_puts(b, ",\"errorType\":", err)) < 0 ||
		    (r = envelope_append_string(b, res->error_type, err)) < 0)
			return r;
		return buf_puts(b, "}", err);
	}
	if ((r = buf_puts(b, "{\"errorMessage\":", err)) < 0 ||
	    (r = envelope_append_string(b, res->error_message, err)) < 0 ||
	    (r = buf_puts(b, ",\"errorType\":", err)) < 0 ||
	    (r = envelope_append_string(b, res->error_type, err)) < 0 ||
	    (r = buf_printf(b, err, ",\"requestId\":\"%s\",\"stackTrace\":", res->request_id)) < 0)
		return r;
	/* The runtimes send their stack as a JSON list of strings, as Lambda's
	 * stackTrace is. */
	if ((r = envelope_append_stack(b, res, err)) < 0)
		return r;
	return buf_puts(b, "}", err);
}

/* ---- errors -------------------------------------------------------------------- */

void lambdajson_error_of(int status, struct lambdajson_error *e)
{
	static const struct lambdajson_error
		bad_json = { 400, "InvalidRequestContentException", "User", "message" },
		invalid = { 400, "InvalidParameterValueException", "User", "message" },
		denied = { 403, "AccessDeniedException", "User", "Message" },
		not_found = { 404, "ResourceNotFoundException", "User", "Message" },
		unknown_op = { 404, "UnknownOperationException", "User", "message" },
		conflict = { 409, "ResourceConflictException", "User", "message" },
		stale = { 412, "PreconditionFailedException", "User", "message" },
		too_large = { 413, "RequestTooLargeException", "User", "message" },
		throttled = { 429, "TooManyRequestsException", "User", "message" },
		internal = { 500, "ServiceException", "Service", "Message" },
		not_implemented = { 501, "ServiceException", "Service", "Message" },
		unavailable = { 503, "ServiceException", "Service", "Message" };

	switch (status < 0 ? -status : status) {
	case EBADMSG: *e = bad_json; break;
	case EINVAL: *e = invalid; break;
	case EPERM: *e = denied; break;
	case ENOENT: *e = not_found; break;
	case ENOTSUP: *e = unknown_op; break;
	case EEXIST: *e = conflict; break;
	case ESTALE: *e = stale; break;
	case E2BIG: *e = too_large; break;
	case EAGAIN: *e = throttled; break;
	case ENOSYS: *e = not_implemented; break;
	case EHOSTDOWN:
	case ENXIO:
	case ECANCELED: *e = unavailable; break;
	default: *e = internal; break;
	}
}

json_object *lambdajson_error_body(const struct lambdajson_error *e, const char *msg)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (e->http == 429)
		json_object_object_add(
			o, "Reason",
			json_object_new_string(
				"ReservedFunctionConcurrentInvocationLimitExceeded"));
	json_object_object_add(o, "Type", json_object_new_string(e->fault));
	json_object_object_add(o, e->message_key, json_object_new_string(msg));
	return o;
}
