/* lambdajson.h — the AWS Lambda API's JSON shapes, and nothing else (no
 * HTTP, no registry): a function as Lambda's FunctionConfiguration,
 * Lambda's CreateFunction / UpdateFunctionCode /
 * UpdateFunctionConfiguration requests turned into the native function
 * bodies the registry validates, a failed invocation's payload, and the
 * table that maps Hearth's error statuses onto Lambda's errors.  Pure, so
 * the unit tests check every shape against what the real service sends. */
#ifndef HEARTH_LAMBDAJSON_H
#define HEARTH_LAMBDAJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "buf.h"
#include "error.h"
#include "function.h"
#include "pool.h"

/* The account in every ARN Hearth writes: there are no accounts here, and
 * an ARN with any account resolves (registry_resolve). */
#define LAMBDAJSON_ACCOUNT "000000000000"
#define LAMBDAJSON_ARN_MAX (FN_NAME_MAX + 96)
/* What an invocation's tail (X-Amz-Log-Result) holds: Lambda's last 4 KB. */
#define LAMBDAJSON_TAIL_MAX 4096

/* "arn:aws:lambda:REGION:000000000000:function:NAME". */
void lambdajson_arn(char dst[LAMBDAJSON_ARN_MAX], const char *region, const char *name);

/* A function as Lambda's FunctionConfiguration (FunctionName,
 * FunctionArn, Runtime, Role, Handler, CodeSize, Description, Timeout,
 * MemorySize, LastModified, CodeSha256, Version, Environment, RevisionId,
 * State, LastUpdateStatus, PackageType, Architectures, ...).  NULL when
 * out of memory. */
json_object *lambdajson_configuration(const struct fn *f, const char *region, int64_t code_size);
/* A RevisionId: changes whenever the function does (a UUID made of its
 * id, revision and time of change). */
void lambdajson_revision_id(const struct fn *f, char out[37]);

/* CreateFunction's request as a native create body (JSON text, malloc'd):
 * FunctionName (a name or an ARN), Runtime, Handler, Code.ZipFile, Timeout,
 * MemorySize, Environment.Variables, Description, Role, Architectures.
 * What Hearth cannot honour (code in S3, container images, layers) is
 * refused with -EINVAL naming it; settings that change nothing here
 * (tracing, VPC, tags, ...) are accepted and ignored. */
int lambdajson_create_body(json_object *req, char **native, struct hearth_error **err);

/* UpdateFunctionCode's and UpdateFunctionConfiguration's requests as
 * native update bodies; the RevisionId (or NULL) the caller must check,
 * and UpdateFunctionCode's DryRun. */
struct lambdajson_update {
	char *native;
	const char *revision_id; /* borrowed from the request */
	bool dry_run;
};
int lambdajson_update_code_body(json_object *req, struct lambdajson_update *out,
				struct hearth_error **err);
int lambdajson_update_config_body(json_object *req, struct lambdajson_update *out,
				  struct hearth_error **err);

/* Invoke's headers: X-Amz-Invocation-Type (RequestResponse, the default;
 * Event; DryRun) and X-Amz-Log-Type (None, the default; Tail), NULL when
 * absent; anything else is -EINVAL with Lambda's validation message. */
enum lambdajson_invocation_type { LAMBDAJSON_SYNC, LAMBDAJSON_EVENT, LAMBDAJSON_DRY_RUN };
struct lambdajson_invoke {
	enum lambdajson_invocation_type type;
	bool tail; /* X-Amz-Log-Type: Tail */
};
int lambdajson_invoke_options(const char *invocation_type, const char *log_type,
			      struct lambdajson_invoke *out, struct hearth_error **err);
/* Invoke's body as the function's event: the bytes as they came, or "{}"
 * when blank (as Lambda does); -EBADMSG when it is not one JSON value. */
int lambdajson_invoke_payload(const char *body, size_t len, const char **payload, size_t *plen,
			      struct hearth_error **err);

/* A failed invocation's payload, as Lambda sends it with
 * X-Amz-Function-Error: {"errorMessage","errorType","requestId",
 * "stackTrace"} for a handler's error; {"errorMessage":"RequestId: ID
 * Error: Task timed out after N.00 seconds","errorType":"Sandbox.Timedout"}
 * for a timeout; Runtime.ExitError's for a runtime that died. */
int lambdajson_invoke_error(struct buf *b, const struct pool_result *res,
			    struct hearth_error **err);

/* Lambda's error for one of Hearth's statuses (error.h): the HTTP status,
 * x-amzn-ErrorType, the body's Type ("User" or "Service") and whether the
 * message goes in "Message" or "message" (Lambda's shapes differ). */
struct lambdajson_error {
	int http;
	const char *type;
	const char *fault;
	const char *message_key;
};
void lambdajson_error_of(int status, struct lambdajson_error *out);
/* The error body: {"Type":..., "Message"|"message":...}, and for a
 * throttle Lambda's "Reason". */
json_object *lambdajson_error_body(const struct lambdajson_error *e, const char *msg);

#endif
