/* test_sigv4.c — the SigV4 verifier (src/api/sigv4.c) against AWS's
 * published Signature Version 4 test suite, then the ways a signature is
 * refused and the words each refusal carries.
 *
 * The vectors are the signed requests of AWS's SigV4 test suite (the
 * "aws-sig-v4-test-suite" of the SigV4 documentation, as kept in
 * awslabs/aws-c-auth's tests/aws-signing-test-suite/v4/<name>/
 * header-signed-request.txt and query-signed-request.txt): key
 * AKIDEXAMPLE, region us-east-1, service "service", 2015-08-30T12:36:00Z.
 * Each one is a request as it would arrive; the verifier must accept it
 * with that key and refuse it with any other. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"
#include "tap.h"

#define KEY_ID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define VECTOR_TIME 1440938160 /* 2015-08-30T12:36:00Z */
#define AUTH_PREFIX \
	"Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/" \
	"aws4_request, "
#define DATE_LINE "X-Amz-Date:20150830T123600Z\n"

static const struct vector {
	const char *name;
	const char *text;
} vectors[] = {
	{ "get-vanilla-query", "GET / HTTP/1.1\nHost:example.amazonaws.com\n" AUTH_PREFIX
			       "SignedHeaders=host;x-amz-date, "
			       "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d7"
			       "63fbf31\n" DATE_LINE "\n" },
	{ "get-vanilla-query-order-key-case",
	  "GET /?Param2=value2&Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\n" AUTH_PREFIX
	  "SignedHeaders=host;x-amz-date, "
	  "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500\n" DATE_LINE
	  "\n" },
	{ "get-vanilla-query-unreserved",
	  "GET /?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~"
	  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\n"
	  "Host:example.amazonaws.com\n" AUTH_PREFIX "SignedHeaders=host;x-amz-date, "
	  "Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197\n" DATE_LINE
	  "\n" },
	{ "get-vanilla-utf8-query",
	  "GET /?\xe1\x88\xb4=bar HTTP/1.1\nHost:example.amazonaws.com\n" AUTH_PREFIX
	  "SignedHeaders=host;x-amz-date, "
	  "Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04\n" DATE_LINE
	  "\n" },
	{ "get-vanilla-empty-query-key",
	  "GET /?Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\n" AUTH_PREFIX
	  "SignedHeaders=host;x-amz-date, "
	  "Signature=a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb\n" DATE_LINE
	  "\n" },
	{ "get-vanilla-query-order-encoded",
	  "GET /?Param-3=Value3&Param=Value2&%E1%88%B4=Value1 HTTP/1.1\n"
	  "Host:example.amazonaws.com\n" AUTH_PREFIX "SignedHeaders=host;x-amz-date, "
	  "Signature=371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac\n" DATE_LINE
	  "\n" },
	{ "get-unreserved",
	  "GET /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\n"
	  "Host:example.amazonaws.com\n" AUTH_PREFIX "SignedHeaders=host;x-amz-date, "
	  "Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f\n" DATE_LINE
	  "\n" },
	{ "get-utf8",
	  "GET /\xe1\x88\xb4 HTTP/1.1\nHost:example.amazonaws.com\n" AUTH_PREFIX
	  "SignedHeaders=host;x-amz-date, "
	  "Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85\n" DATE_LINE
	  "\n" },
	{ "get-space-normalized",
	  "GET /example space/ HTTP/1.1\nHost:example.amazonaws.com\n" AUTH_PREFIX
	  "SignedHeaders=host;x-amz-date, "
	  "Signature=652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741\n" DATE_LINE
	  "\n" },
	{ "get-slashes-normalized",
	  "GET //example// HTTP/1.1\nHost:example.amazonaws.com\n" AUTH_PREFIX
	  "SignedHeaders=host;x-amz-date, "
	  "Signature=9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84\n" DATE_LINE
	  "\n" },
	{ "get-slash-normalized",
	  "GET // HTTP/1.1\nHost:example.amazonaws.com\n" AUTH_PREFIX
	  "SignedHeaders=host;x-amz-date, "
	  "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\n" DATE_LINE
	  "\n" },
	{ "get-slash-dot-slash-normalized",
	  "GET /./ HTTP/1.1\nHost:example.amazonaws.com\n" AUTH_PREFIX
	  "SignedHeaders=host;x-amz-date, "
	  "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\n" DATE_LINE
	  "\n" },
	{ "get-slash-pointless-dot-normalized",
	  "GET /./example HTTP/1.1\nHost:example.amazonaws.com\n" AUTH_PREFIX
	  "SignedHeaders=host;x-amz-date, "
	  "Signature=ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5\n" DATE_LINE
	  "\n" },
	{ "get-relative-normalized",
	  "GET /example/.. HTTP/1.1\nHost:example.amazonaws.com\n" AUTH_PREFIX
	  "SignedHeaders=host;x-amz-date, "
	  "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\n" DATE_LINE
	  "\n" },
	{ "get-relative-relative-normalized",
	  "GET /example1/example2/../.. HTTP/1.1\nHost:example.amazonaws.com\n" AUTH_PREFIX
	  "SignedHeaders=host;x-amz-date, "
	  "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\n" DATE_LINE
	  "\n" },
	{ "get-header-key-duplicate",
	  "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value2\nMy-Header1:value2\n"
	  "My-Header1:value1\n" AUTH_PREFIX "SignedHeaders=host;my-header1;x-amz-date, "
	  "Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea\n" DATE_LINE
	  "\n" },
	{ "get-header-value-order",
	  "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value4\nMy-Header1:value1\n"
	  "My-Header1:value3\nMy-Header1:value2\n" AUTH_PREFIX
	  "SignedHeaders=host;my-header1;x-amz-date, "
	  "Signature=08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01\n" DATE_LINE
	  "\n" },
	{ "get-header-value-trim",
	  "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1: value1\n"
	  "My-Header2: \"a   b   c\"\n" AUTH_PREFIX
	  "SignedHeaders=host;my-header1;my-header2;x-amz-date, "
	  "Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736\n" DATE_LINE
	  "\n" },
	{ "get-vanilla-with-session-token",
	  "GET / HTTP/1.1\nHost:example.amazonaws.com\n" AUTH_PREFIX
	  "SignedHeaders=host;x-amz-date;x-amz-security-token, "
	  "Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8\n" DATE_LINE
	  "X-Amz-Security-Token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267\n"
	  "\n" },
	{ "post-vanilla", "POST / HTTP/1.1\nHost:example.amazonaws.com\n" AUTH_PREFIX
			  "SignedHeaders=host;x-amz-date, "
			  "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5"
			  "d6b\n" DATE_LINE "\n" },
	{ "post-vanilla-query",
	  "POST /?Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\n" AUTH_PREFIX
	  "SignedHeaders=host;x-amz-date, "
	  "Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11\n" DATE_LINE
	  "\n" },
	{ "post-header-key-sort",
	  "POST / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value1\n" AUTH_PREFIX
	  "SignedHeaders=host;my-header1;x-amz-date, "
	  "Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c\n" DATE_LINE
	  "\n" },
	{ "post-header-value-case",
	  "POST / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:VALUE1\n" AUTH_PREFIX
	  "SignedHeaders=host;my-header1;x-amz-date, "
	  "Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d\n" DATE_LINE
	  "\n" },
	{ "post-sts-header-before",
	  "POST / HTTP/1.1\nHost:example.amazonaws.com\n"
	  "X-Amz-Security-Token:AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQ"
	  "WLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp"
	  "2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT3"
	  "8xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/"
	  "oLxBA==\n" AUTH_PREFIX "SignedHeaders=host;x-amz-date;x-amz-security-token, "
	  "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead\n" DATE_LINE
	  "\n" },
	{ "post-x-www-form-urlencoded",
	  "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded\n"
	  "Host:example.amazonaws.com\nContent-Length:13\n"
	  "x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\n"
	  "Authorization:AWS4-HMAC-SHA256 "
	  "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
	  "SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, "
	  "Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b\n" DATE_LINE
	  "\nParam1=value1" },
	{ "post-x-www-form-urlencoded-parameters",
	  "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded; charset=utf-8\n"
	  "Host:example.amazonaws.com\nContent-Length:13\n"
	  "x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\n"
	  "Authorization:AWS4-HMAC-SHA256 "
	  "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
	  "SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, "
	  "Signature=328d1b9eaadca9f5818ef05e8392801e091653bafec24fcab71e7344e7f51422\n" DATE_LINE
	  "\nParam1=value1" },
	/* Presigned URLs: the signature is in the query string. */
	{ "get-vanilla-query-order-key-case (query-signed)",
	  "GET /?Param2=value2&Param1=value1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
	  "AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z"
	  "&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature="
	  "86012e2c9ad4d77369f5d81c11f75158aae4f895a085212cc6d3f923d300bed5 HTTP/1.1\n"
	  "Host:example.amazonaws.com\n" DATE_LINE "\n" },
	{ "get-utf8 (query-signed)",
	  "GET /\xe1\x88\xb4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830"
	  "%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders="
	  "host&X-Amz-Expires=3600&X-Amz-Signature=10eae3f14a260bd3911cc6d008d3c576d143b05b62f0978"
	  "2a7a4b37f52178e44 HTTP/1.1\nHost:example.amazonaws.com\n" DATE_LINE "\n" },
	{ "get-header-value-trim (query-signed)",
	  "GET /?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-"
	  "1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host%3Bmy-"
	  "header1%3Bmy-header2&X-Amz-Expires=3600&X-Amz-Signature=e7bb0fd515e125e1aec2ecc4c0c1748"
	  "4fb06f6846b927c35e46005dd3df3acd4 HTTP/1.1\nHost:example.amazonaws.com\n"
	  "My-Header1: value1\nMy-Header2: \"a   b   c\"\n" DATE_LINE "\n" },
};

/* A request parsed from the test suite's text form. */
struct parsed {
	char *copy;
	char method[16];
	char *path, *query;
	struct sigv4_header headers[16];
	struct sigv4_request req;
};

static void parse(const char *text, struct parsed *p)
{
	char *line, *nl, *sp;

	memset(p, 0, sizeof(*p));
	p->copy = strdup(text);
	line = p->copy;
	nl = strchr(line, '\n');
	*nl = '\0';
	sp = strchr(line, ' ');
	snprintf(p->method, sizeof(p->method), "%.*s", (int)(sp - line), line);
	p->path = sp + 1;
	*strrchr(p->path, ' ') = '\0'; /* " HTTP/1.1" */
	p->query = strchr(p->path, '?');
	if (p->query)
		*p->query++ = '\0';
	line = nl + 1;
	while (*line != '\n') {
		struct sigv4_header *h = &p->headers[p->req.n_headers++];

		nl = strchr(line, '\n');
		*nl = '\0';
		h->name = line;
		sp = strchr(line, ':');
		*sp = '\0';
		h->value = sp + 1;
		line = nl + 1;
	}
	p->req.method = p->method;
	p->req.path = p->path;
	p->req.query = p->query;
	p->req.headers = p->headers;
	p->req.body = line + 1;
	p->req.body_len = strlen(line + 1);
}

static const struct sigv4_expect good = { KEY_ID, SECRET, "us-east-1", "service", VECTOR_TIME };

/* Verifies text with exp: the status, and the refusal and message kept. */
static int verify(const struct sigv4_expect *exp, const char *text, enum sigv4_refusal *why,
		  char *msg, size_t msgsz)
{
	struct parsed p;
	struct hearth_error *err = NULL;
	int r;

	parse(text, &p);
	r = sigv4_verify(exp, &p.req, why, &err);
	snprintf(msg, msgsz, "%s", err ? err->msg : "");
	hearth_error_free(err);
	free(p.copy);
	return r;
}

static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	char *out;

	if (!at)
		return strdup(s);
	out = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
	sprintf(out, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	return out;
}

static void test_vectors(void)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		struct sigv4_expect other = good;
		enum sigv4_refusal why = SIGV4_MISSING_TOKEN;
		char msg[4096];
		int r = verify(&good, vectors[i].text, &why, msg, sizeof(msg));

		ok(r == 0, "AWS test vector %s is accepted", vectors[i].name);
		if (r != 0)
			printf("#   %s: %s\n", sigv4_refusal_type(why), msg);
		other.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ";
		r = verify(&other, vectors[i].text, &why, msg, sizeof(msg));
		ok(r == -EPERM && why == SIGV4_INVALID_SIGNATURE,
		   "%s with another secret: InvalidSignatureException", vectors[i].name);
	}
}

static void test_refusals(void)
{
	const char *vanilla = vectors[0].text;
	struct sigv4_expect exp = good;
	enum sigv4_refusal why;
	char msg[4096], *t;
	int r;

	/* The canonical forms are in the message, as AWS gives them. */
	exp.secret_access_key = "not the secret";
	r = verify(&exp, vanilla, &why, msg, sizeof(msg));
	ok(r == -EPERM && why == SIGV4_INVALID_SIGNATURE, "a wrong secret is refused");
	is_str(sigv4_refusal_type(why), "InvalidSignatureException",
	       "as InvalidSignatureException");
	ok(strstr(msg, "The request signature we calculated does not match the signature you "
		       "provided.") != NULL,
	   "with AWS's words");
	ok(strstr(msg,
		  "'GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;"
		  "x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
		  "'") != NULL,
	   "and the canonical request");
	ok(strstr(msg,
		  "'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
		  "aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e"
		  "63'") != NULL,
	   "and the string to sign");

	exp = good;
	exp.access_key_id = "AKIDOTHER";
	r = verify(&exp, vanilla, &why, msg, sizeof(msg));
	ok(r == -EPERM && why == SIGV4_UNRECOGNIZED_CLIENT, "an unknown key id is refused");
	is_str(sigv4_refusal_type(why), "UnrecognizedClientException",
	       "as UnrecognizedClientException");
	is_str(msg, "The security token included in the request is invalid.", "with AWS's words");

	exp = good;
	exp.access_key_id = NULL;
	r = verify(&exp, vanilla, &why, msg, sizeof(msg));
	ok(r == -EPERM && why == SIGV4_UNRECOGNIZED_CLIENT,
	   "with no key known, a good signature is an unknown key's");

	exp = good;
	exp.region = "eu-west-1";
	r = verify(&exp, vanilla, &why, msg, sizeof(msg));
	ok(r == -EPERM && why == SIGV4_INVALID_SIGNATURE, "another region is refused");
	is_str(msg, "Credential should be scoped to a valid region, not 'us-east-1'.",
	       "naming the region signed for");

	exp = good;
	exp.service = "lambda";
	r = verify(&exp, vanilla, &why, msg, sizeof(msg));
	ok(r == -EPERM && why == SIGV4_INVALID_SIGNATURE, "another service is refused");
	is_str(msg, "Credential should be scoped to correct service: 'lambda'.",
	       "naming the service expected");

	/* The clock: 5 minutes either way. */
	exp = good;
	exp.now = VECTOR_TIME + SIGV4_MAX_SKEW_S;
	ok(verify(&exp, vanilla, &why, msg, sizeof(msg)) == 0, "5 minutes old is accepted");
	exp.now = VECTOR_TIME - SIGV4_MAX_SKEW_S;
	ok(verify(&exp, vanilla, &why, msg, sizeof(msg)) == 0, "5 minutes ahead is accepted");
	exp.now = VECTOR_TIME + SIGV4_MAX_SKEW_S + 1;
	r = verify(&exp, vanilla, &why, msg, sizeof(msg));
	ok(r == -EPERM && why == SIGV4_INVALID_SIGNATURE, "5 minutes and 1 s old is refused");
	is_str(msg,
	       "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z "
	       "(20150830T124101Z - 5 min.)",
	       "as expired, in AWS's words");
	exp.now = VECTOR_TIME - SIGV4_MAX_SKEW_S - 1;
	r = verify(&exp, vanilla, &why, msg, sizeof(msg));
	ok(r == -EPERM && why == SIGV4_INVALID_SIGNATURE, "5 minutes and 1 s ahead is refused");
	is_str(msg,
	       "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z "
	       "(20150830T123059Z + 5 min.)",
	       "as not yet current");

	/* A presigned URL lives until it expires (3600 s here). */
	exp = good;
	exp.now = VECTOR_TIME + 3600;
	ok(verify(&exp, vectors[27].text, &why, msg, sizeof(msg)) == 0,
	   "a presigned URL is accepted until it expires");
	exp.now = VECTOR_TIME + 3601;
	r = verify(&exp, vectors[27].text, &why, msg, sizeof(msg));
	ok(r == -EPERM && why == SIGV4_INVALID_SIGNATURE && strstr(msg, "Signature expired"),
	   "and refused after");

	/* What the client changed after signing. */
	t = replace(vectors[25].text, "Param1=value1", "Param1=value2");
	r = verify(&good, t, &why, msg, sizeof(msg));
	ok(r == -EPERM && why == SIGV4_INVALID_SIGNATURE, "a changed body is refused");
	free(t);
	t = replace(vectors[17].text, "My-Header1: value1", "My-Header1: value9");
	r = verify(&good, t, &why, msg, sizeof(msg));
	ok(r == -EPERM && why == SIGV4_INVALID_SIGNATURE, "a changed signed header is refused");
	free(t);
	t = replace(vanilla, "\n\n", "\nUser-Agent: something else\n\n");
	ok(verify(&good, t, &why, msg, sizeof(msg)) == 0, "an unsigned header may change");
	free(t);
	t = replace(vectors[1].text, "Param2=value2", "Param2=value3");
	r = verify(&good, t, &why, msg, sizeof(msg));
	ok(r == -EPERM && why == SIGV4_INVALID_SIGNATURE, "a changed query is refused");
	free(t);

	/* Malformed or missing. */
	r = verify(&good, "GET / HTTP/1.1\nHost:example.amazonaws.com\n" DATE_LINE "\n", &why, msg,
		   sizeof(msg));
	ok(r == -EPERM && why == SIGV4_MISSING_TOKEN, "an unsigned request is refused");
	is_str(sigv4_refusal_type(why), "MissingAuthenticationTokenException",
	       "as MissingAuthenticationTokenException");
	is_str(msg, "Missing Authentication Token", "with AWS's words");
	r = verify(
		&good,
		"GET / HTTP/1.1\nHost:example.amazonaws.com\nAuthorization:Bearer abc\n" DATE_LINE
		"\n",
		&why, msg, sizeof(msg));
	ok(r == -EPERM && why == SIGV4_INCOMPLETE, "a bearer token is an incomplete signature");
	ok(strstr(msg, "Authorization header requires 'Credential' parameter.") &&
		   strstr(msg, "Authorization=Bearer abc"),
	   "naming what is missing");
	t = replace(vanilla, DATE_LINE, "");
	r = verify(&good, t, &why, msg, sizeof(msg));
	ok(r == -EPERM && why == SIGV4_INCOMPLETE && strstr(msg, "'X-Amz-Date' or a 'Date'"),
	   "no date is an incomplete signature");
	free(t);
	t = replace(vanilla, "/us-east-1/service/aws4_request", "/us-east-1/aws4_request");
	r = verify(&good, t, &why, msg, sizeof(msg));
	ok(r == -EPERM && why == SIGV4_INCOMPLETE &&
		   strstr(msg, "Credential must have exactly 5 slash-delimited elements"),
	   "a credential of 4 parts is incomplete");
	free(t);
	t = replace(vanilla, "SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date");
	r = verify(&good, t, &why, msg, sizeof(msg));
	ok(r == -EPERM && strstr(msg, "'Host' or ':authority' must be a 'SignedHeader'"),
	   "a signature that leaves Host out is refused");
	free(t);
	t = replace(vanilla, "20150830/us-east-1", "20150831/us-east-1");
	r = verify(&good, t, &why, msg, sizeof(msg));
	ok(r == -EPERM && strstr(msg, "Date in Credential scope does not match"),
	   "a scope of another day is refused");
	free(t);
	t = replace(vanilla, "Signature=5fa00f", "Signature=6fa00f");
	r = verify(&good, t, &why, msg, sizeof(msg));
	ok(r == -EPERM && why == SIGV4_INVALID_SIGNATURE, "one changed hex digit is refused");
	free(t);
}

/* Lambda's paths carry URL-encoded ARNs: the canonical path encodes them
 * once more ("%3A" is signed as "%253A"), as every service but S3 does. */
static void test_double_encoding(void)
{
	enum sigv4_refusal why;
	char msg[4096];
	struct sigv4_expect exp = good;
	struct parsed p;

	exp.secret_access_key = "x";
	verify(&exp,
	       "POST /2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3A"
	       "hello/invocations HTTP/1.1\nHost:example.amazonaws.com\n" AUTH_PREFIX
	       "SignedHeaders=host;x-amz-date, Signature=00\n" DATE_LINE "\n{}",
	       &why, msg, sizeof(msg));
	ok(strstr(msg, "'POST\n/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A"
		       "000000000000%253Afunction%253Ahello/invocations\n") != NULL,
	   "an encoded ARN in the path is encoded again in the canonical request");
	parse("GET / HTTP/1.1\nHost:a\n\n", &p);
	ok(!sigv4_is_signed(&p.req), "a request without a signature is not signed");
	free(p.copy);
	parse(vectors[0].text, &p);
	ok(sigv4_is_signed(&p.req), "one with an Authorization header is");
	free(p.copy);
	parse(vectors[27].text, &p);
	ok(sigv4_is_signed(&p.req), "and so is a presigned URL");
	free(p.copy);
	{
		char q[600] = "X-Amz-Algorithm=";
		struct sigv4_request r = { "GET", "/", q, NULL, 0, "", 0 };

		memset(q + strlen(q), 'A', 400);
		ok(sigv4_is_signed(&r) && sigv4_verify(&good, &r, &why, NULL) == -EPERM &&
			   why != SIGV4_MISSING_TOKEN,
		   "a presigned URL with a long X-Amz-Algorithm is signed (badly), as the "
		   "verifier sees it");
	}
}

int main(void)
{
	test_vectors();
	test_refusals();
	test_double_encoding();
	return tap_done();
}
