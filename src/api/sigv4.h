/* sigv4.h — AWS Signature Version 4, the verifier's side: whether a
 * request was signed with the secret of the access key it names, for the
 * region and service expected, close enough to now.  Both ways a client
 * signs are understood: the Authorization header ("AWS4-HMAC-SHA256
 * Credential=..., SignedHeaders=..., Signature=...") and the query string
 * of a presigned URL (X-Amz-Algorithm, X-Amz-Credential, ...).
 *
 * Pure: the request comes as plain strings and the time as a number (no
 * evhttp, no clock), so the unit tests run AWS's published test vectors.
 * The canonical request is the one every AWS service but S3 uses: the
 * path normalised (empty, "." and ".." segments removed) and
 * percent-encoded once more on top of the encoding it arrived with, the
 * query parameters decoded, re-encoded and sorted, the signed headers'
 * values trimmed with their inner runs of spaces folded, the payload
 * hashed here (never taken on trust from x-amz-content-sha256).
 *
 * A refusal says what AWS says, so SDKs raise the error people know:
 * its type (InvalidSignatureException, ...) and AWS's wording. */
#ifndef HEARTH_SIGV4_H
#define HEARTH_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* How far a request's date may be from now, either way (AWS's 5 minutes). */
#define SIGV4_MAX_SKEW_S 300
/* The longest a presigned URL may be valid (AWS's 7 days). */
#define SIGV4_MAX_EXPIRES_S 604800

struct sigv4_header {
	const char *name; /* any case */
	const char *value;
};

struct sigv4_request {
	const char *method;
	const char *path;		    /* as sent: still percent-encoded */
	const char *query;		    /* as sent, without the '?'; NULL when none */
	const struct sigv4_header *headers; /* as received, repeated names included */
	size_t n_headers;
	const void *body;
	size_t body_len;
};

/* What a signature must match: the one key pair hearthd knows, and the
 * scope it serves. */
struct sigv4_expect {
	const char *access_key_id; /* NULL: no key is known, every request is refused */
	const char *secret_access_key;
	const char *region;  /* "us-east-1" */
	const char *service; /* "lambda" */
	int64_t now;	     /* seconds since the epoch */
};

/* Why a request was refused, as AWS names it. */
enum sigv4_refusal {
	SIGV4_MISSING_TOKEN,	   /* not signed at all */
	SIGV4_INCOMPLETE,	   /* signed, but the signature is malformed */
	SIGV4_UNRECOGNIZED_CLIENT, /* an access key hearthd does not know */
	SIGV4_INVALID_SIGNATURE,   /* wrong signature, scope or date */
};

/* "MissingAuthenticationTokenException", "IncompleteSignatureException",
 * "UnrecognizedClientException", "InvalidSignatureException". */
const char *sigv4_refusal_type(enum sigv4_refusal why);

/* Whether the request carries a SigV4 signature at all (an Authorization
 * header or presigned query parameters), good or bad. */
bool sigv4_is_signed(const struct sigv4_request *req);

/* 0 when the signature holds.  -EPERM when it does not: *why is the
 * refusal and *err carries AWS's message.  -ENOMEM. */
int sigv4_verify(const struct sigv4_expect *exp, const struct sigv4_request *req,
		 enum sigv4_refusal *why, struct hearth_error **err);

#endif
