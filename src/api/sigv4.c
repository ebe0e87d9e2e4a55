/* sigv4.c — see sigv4.h. */
#include "sigv4.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "util.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR "aws4_request"
/* Bounds on what a client sends us: a canonical request holds the path,
 * the query and the signed headers (HTTP_HEADERS_MAX at most). */
#define SIGV4_CANON_MAX (1u << 20)
#define SIGV4_CREDENTIAL_MAX 512
#define SIGV4_SIGNED_HEADERS_MAX 4096

const char *sigv4_refusal_type(enum sigv4_refusal why)
{
	switch (why) {
	case SIGV4_MISSING_TOKEN: return "MissingAuthenticationTokenException";
	case SIGV4_INCOMPLETE: return "IncompleteSignatureException";
	case SIGV4_UNRECOGNIZED_CLIENT: return "UnrecognizedClientException";
	case SIGV4_INVALID_SIGNATURE: break;
	}
	return "InvalidSignatureException";
}

/* ---- small helpers ------------------------------------------------------ */

static const char *header_get(const struct sigv4_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %XX decoded; a '%' not followed by two hex digits stays as it is, and
 * '+' stays '+' (SDKs send a space as %20). */
static int pct_decode(struct buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
		    hexval((unsigned char)s[i + 2]) >= 0) {
			c = (char)(hexval((unsigned char)s[i + 1]) * 16 +
				   hexval((unsigned char)s[i + 2]));
			i += 2;
		}
		if (buf_append(out, &c, 1, NULL) < 0)
			return -ENOMEM;
	}
	return 0;
}

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

/* RFC 3986 percent-encoding, upper-case hex, as AWS canonicalises. */
static int uri_encode(struct buf *out, const char *s, size_t n, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[3] = { '%', hex[c >> 4], hex[c & 15] };
		int r;

		if (is_unreserved(c) || (keep_slash && c == '/'))
			r = buf_append(out, &s[i], 1, NULL);
		else
			r = buf_append(out, e, 3, NULL);
		if (r < 0)
			return -ENOMEM;
	}
	return 0;
}

static void hex_of(const unsigned char *d, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static int sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return -EIO;
	hex_of(md, 32, out);
	return 0;
}

static int hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
	unsigned int len = 0;

	if (!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out,
		  &len) ||
	    len != 32)
		return -EIO;
	return 0;
}

/* "20150830T123600Z" (ISO 8601 basic) as epoch seconds; -1 when not that. */
static int64_t parse_amz_date(const char *s)
{
	struct tm tm = { 0 };
	const char *end;

	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return -1;
	for (int i = 0; i < 15; i++)
		if (i != 8 && (s[i] < '0' || s[i] > '9'))
			return -1;
	end = strptime(s, "%Y%m%dT%H%M%SZ", &tm);
	if (!end || *end)
		return -1;
	return (int64_t)timegm(&tm);
}

/* An HTTP Date header ("Sun, 30 Aug 2015 12:36:00 GMT") as an amz date. */
static bool http_date_to_amz(const char *s, char out[17])
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);

	if (!end || *end)
		return false;
	return strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) == 16;
}

static void amz_date_of(int64_t t, char out[17])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* The decoded value of the first query parameter whose decoded name is
 * name; false when there is none. */
static bool query_get(const char *query, const char *name, struct buf *out)
{
	const char *p = query;

	while (p && *p) {
		size_t n = strcspn(p, "&"), k = strcspn(p, "=");
		_cleanup_buf_ struct buf key = BUF_INIT(SIGV4_CANON_MAX);

		if (k > n)
			k = n;
		if (n && pct_decode(&key, p, k) == 0 && strcmp(key.ptr, name) == 0) {
			buf_reset(out);
			if (k < n && pct_decode(out, p + k + 1, n - k - 1) < 0)
				return false;
			return true;
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return false;
}

/* ---- the canonical request ------------------------------------------------ */

/* Drops empty, "." and ".." segments (a ".." takes the one before it),
 * keeps the leading '/' and a trailing one, then encodes what is left. */
static int canonical_uri(struct buf *out, const char *path)
{
	_cleanup_free_ const char **segs = NULL;
	_cleanup_free_ size_t *lens = NULL;
	size_t n = 0, cap = 1, plen = strlen(path);
	bool trailing = plen > 0 && path[plen - 1] == '/';

	for (size_t i = 0; i < plen; i++)
		cap += path[i] == '/';
	segs = calloc(cap, sizeof(*segs));
	lens = calloc(cap, sizeof(*lens));
	if (!segs || !lens)
		return -ENOMEM;
	for (const char *p = path; *p;) {
		size_t len = strcspn(p, "/");

		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (n)
				n--;
		} else if (len && !(len == 1 && p[0] == '.')) {
			segs[n] = p;
			lens[n++] = len;
		}
		p += len;
		if (*p == '/')
			p++;
	}
	if (buf_puts(out, "/", NULL) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if ((i && buf_puts(out, "/", NULL) < 0) ||
		    uri_encode(out, segs[i], lens[i], false) < 0)
			return -ENOMEM;
	if (trailing && n && buf_puts(out, "/", NULL) < 0)
		return -ENOMEM;
	return 0;
}

struct qparam {
	struct buf key, val; /* encoded the canonical way */
};

static int qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->key.ptr, y->key.ptr);

	return c ? c : strcmp(x->val.ptr, y->val.ptr);
}

/* Every parameter decoded and encoded again, sorted by name then value;
 * a presigned URL's own X-Amz-Signature is left out. */
static int canonical_query(struct buf *out, const char *query)
{
	struct qparam *ps = NULL;
	size_t n = 0, cap = 1;
	int r = 0;

	for (const char *p = query; p && *p; p++)
		cap += *p == '&';
	ps = calloc(cap, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	for (const char *p = query; p && *p;) {
		size_t len = strcspn(p, "&"), k = strcspn(p, "=");
		_cleanup_buf_ struct buf dk = BUF_INIT(SIGV4_CANON_MAX);
		_cleanup_buf_ struct buf dv = BUF_INIT(SIGV4_CANON_MAX);

		if (k > len)
			k = len;
		if (len) {
			if (pct_decode(&dk, p, k) < 0 ||
			    (k < len && pct_decode(&dv, p + k + 1, len - k - 1) < 0)) {
				r = -ENOMEM;
				break;
			}
			if (strcmp(dk.ptr, "X-Amz-Signature") != 0) {
				buf_init(&ps[n].key, SIGV4_CANON_MAX);
				buf_init(&ps[n].val, SIGV4_CANON_MAX);
				n++;
				if (uri_encode(&ps[n - 1].key, dk.ptr, dk.len, false) < 0 ||
				    uri_encode(&ps[n - 1].val, dv.ptr, dv.len, false) < 0) {
					r = -ENOMEM;
					break;
				}
			}
		}
		p += len;
		if (*p == '&')
			p++;
	}
	if (r == 0)
		qsort(ps, n, sizeof(*ps), qparam_cmp);
	for (size_t i = 0; r == 0 && i < n; i++)
		if ((i && buf_puts(out, "&", NULL) < 0) || buf_puts(out, ps[i].key.ptr, NULL) < 0 ||
		    buf_puts(out, "=", NULL) < 0 || buf_puts(out, ps[i].val.ptr, NULL) < 0)
			r = -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		buf_release(&ps[i].key);
		buf_release(&ps[i].val);
	}
	free(ps);
	return r;
}

/* One header value as AWS canonicalises it: trimmed, inner runs of white
 * space folded to one space. */
static int canonical_value(struct buf *out, const char *v)
{
	bool space = false, any = false;

	for (; *v; v++) {
		bool ws = *v == ' ' || *v == '\t' || *v == '\r' || *v == '\n';

		if (ws) {
			space = any;
			continue;
		}
		if ((space && buf_puts(out, " ", NULL) < 0) || buf_append(out, v, 1, NULL) < 0)
			return -ENOMEM;
		space = false;
		any = true;
	}
	return 0;
}

/* "name:value1,value2\n" for each name of signed_headers (";"-separated),
 * in the order given, with repeated headers joined in the order they came. */
static int canonical_headers(struct buf *out, const struct sigv4_request *req,
			     const char *signed_headers)
{
	for (const char *p = signed_headers; *p;) {
		size_t len = strcspn(p, ";");
		bool first = true;

		if (buf_append(out, p, len, NULL) < 0 || buf_puts(out, ":", NULL) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < req->n_headers; i++) {
			const char *name = req->headers[i].name;

			if (strlen(name) != len || strncasecmp(name, p, len) != 0)
				continue;
			if ((!first && buf_puts(out, ",", NULL) < 0) ||
			    canonical_value(out, req->headers[i].value) < 0)
				return -ENOMEM;
			first = false;
		}
		if (buf_puts(out, "\n", NULL) < 0)
			return -ENOMEM;
		p += len;
		if (*p == ';')
			p++;
	}
	return 0;
}

/* ---- what the client sent ---------------------------------------------------- */

struct signature {
	bool presigned;
	char credential[SIGV4_CREDENTIAL_MAX];
	char signed_headers[SIGV4_SIGNED_HEADERS_MAX];
	char signature[129];
	char amz_date[17];
	int64_t expires; /* presigned only */
	/* the credential's five parts, pointing into scope_copy */
	char scope_copy[SIGV4_CREDENTIAL_MAX];
	const char *akid, *date, *region, *service, *terminator;
};

/* Copies the value of "Name=value" parameter `name` of an Authorization
 * header into dst; false when absent or too long. */
static bool auth_param(const char *params, const char *name, char *dst, size_t size)
{
	size_t nl = strlen(name);

	for (const char *p = params; *p;) {
		size_t len;

		while (*p == ' ' || *p == ',')
			p++;
		len = strcspn(p, ",");
		while (len && p[len - 1] == ' ')
			len--;
		if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			if (len - nl - 1 >= size)
				return false;
			memcpy(dst, p + nl + 1, len - nl - 1);
			dst[len - nl - 1] = '\0';
			return true;
		}
		p += strcspn(p, ",");
	}
	return false;
}

/* The signature's parts from the Authorization header or the query; an
 * incomplete one is refused with AWS's wording. */
static int read_signature(const struct sigv4_request *req, struct signature *s,
			  enum sigv4_refusal *why, struct hearth_error **err)
{
	const char *auth = header_get(req, "Authorization");
	const char *xdate = header_get(req, "X-Amz-Date");
	const char *hdate = header_get(req, "Date");
	_cleanup_buf_ struct buf missing = BUF_INIT(1024);
	_cleanup_buf_ struct buf v = BUF_INIT(SIGV4_CANON_MAX);

	memset(s, 0, sizeof(*s));
	*why = SIGV4_INCOMPLETE;
	if (auth) {
		const char *params = "";
		bool ok_c, ok_h, ok_s;

		if (strncmp(auth, SIGV4_ALGORITHM " ", sizeof(SIGV4_ALGORITHM)) == 0)
			params = auth + sizeof(SIGV4_ALGORITHM);
		ok_c = auth_param(params, "Credential", s->credential, sizeof(s->credential));
		ok_h = auth_param(params, "SignedHeaders", s->signed_headers,
				  sizeof(s->signed_headers));
		ok_s = auth_param(params, "Signature", s->signature, sizeof(s->signature));
		if ((!ok_c && buf_puts(&missing,
				       "Authorization header requires 'Credential' "
				       "parameter. ",
				       NULL) < 0) ||
		    (!ok_s && buf_puts(&missing,
				       "Authorization header requires 'Signature' "
				       "parameter. ",
				       NULL) < 0) ||
		    (!ok_h && buf_puts(&missing,
				       "Authorization header requires 'SignedHeaders' "
				       "parameter. ",
				       NULL) < 0) ||
		    (!xdate && !hdate &&
		     buf_puts(&missing,
			      "Authorization header requires existence of either a "
			      "'X-Amz-Date' or a 'Date' header. ",
			      NULL) < 0))
			return hearth_error_make(err, ENOMEM, "out of memory");
		if (missing.len)
			return hearth_error_make(err, EPERM, "%sAuthorization=%.200s", missing.ptr,
						 auth);
		if (xdate)
			snprintf(s->amz_date, sizeof(s->amz_date), "%s", xdate);
		else if (!http_date_to_amz(hdate, s->amz_date))
			return hearth_error_make(
				err, EPERM,
				"Date must be in ISO-8601 'basic format'. Got "
				"'%.64s'. See http://en.wikipedia.org/wiki/ISO_8601",
				hdate);
		if (xdate && strlen(xdate) >= sizeof(s->amz_date))
			s->amz_date[0] = 'x'; /* refused below as not ISO 8601 */
	} else if (query_get(req->query, "X-Amz-Algorithm", &v)) {
		static const char *const need[] = { "X-Amz-Credential", "X-Amz-SignedHeaders",
						    "X-Amz-Signature", "X-Amz-Date",
						    "X-Amz-Expires" };
		char *dst[] = { s->credential, s->signed_headers, s->signature, s->amz_date, NULL };
		size_t sz[] = { sizeof(s->credential), sizeof(s->signed_headers),
				sizeof(s->signature), sizeof(s->amz_date), 0 };
		int64_t expires;

		s->presigned = true;
		if (strcmp(v.ptr, SIGV4_ALGORITHM) != 0)
			return hearth_error_make(err, EPERM,
						 "X-Amz-Algorithm only supports '" SIGV4_ALGORITHM
						 "'");
		for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
			if (!query_get(req->query, need[i], &v)) {
				if (buf_printf(&missing, NULL,
					       "AWS query-string parameters must include '%s'. ",
					       need[i]) < 0)
					return hearth_error_make(err, ENOMEM, "out of memory");
				continue;
			}
			if (!dst[i]) {
				if (util_parse_i64(v.ptr, 0, INT64_MAX, &expires, NULL) < 0)
					return hearth_error_make(
						err, EPERM, "X-Amz-Expires should be a number");
				if (expires > SIGV4_MAX_EXPIRES_S)
					return hearth_error_make(
						err, EPERM,
						"X-Amz-Expires must be less than a week (in "
						"seconds) that is %d",
						SIGV4_MAX_EXPIRES_S);
				s->expires = expires;
			} else if (v.len >= sz[i]) {
				return hearth_error_make(err, EPERM, "%s is too long", need[i]);
			} else {
				memcpy(dst[i], v.ptr, v.len + 1);
			}
		}
		if (missing.len)
			return hearth_error_make(err, EPERM,
						 "%sRe-examine the query-string "
						 "parameters.",
						 missing.ptr);
	} else {
		*why = SIGV4_MISSING_TOKEN;
		return hearth_error_make(err, EPERM, "Missing Authentication Token");
	}
	if (parse_amz_date(s->amz_date) < 0)
		return hearth_error_make(err, EPERM,
					 "Date must be in ISO-8601 'basic format'. Got '%s'. See "
					 "http://en.wikipedia.org/wiki/ISO_8601",
					 s->amz_date);
	/* keyid/date/region/service/terminator */
	memcpy(s->scope_copy, s->credential, sizeof(s->scope_copy));
	{
		char *parts[5], *p = s->scope_copy;
		int n = 0;

		for (; n < 5; n++) {
			parts[n] = p;
			p = strchr(p, '/');
			if (!p)
				break;
			*p++ = '\0';
		}
		if (n != 4 || strchr(parts[4], '/'))
			return hearth_error_make(
				err, EPERM,
				"Credential must have exactly 5 slash-delimited "
				"elements, e.g. keyid/date/region/service/term, got "
				"'%s'",
				s->credential);
		s->akid = parts[0];
		s->date = parts[1];
		s->region = parts[2];
		s->service = parts[3];
		s->terminator = parts[4];
	}
	return 0;
}

/* ---- verification --------------------------------------------------------- */

static int signing_key(const char *secret, const char *date, const char *region,
		       const char *service, unsigned char key[32])
{
	_cleanup_free_ char *k = NULL;
	unsigned char a[32], b[32];

	if (asprintf(&k, "AWS4%s", secret) < 0) {
		k = NULL;
		return -ENOMEM;
	}
	if (hmac(k, strlen(k), date, a) < 0 || hmac(a, 32, region, b) < 0 ||
	    hmac(b, 32, service, a) < 0 || hmac(a, 32, SIGV4_TERMINATOR, key) < 0)
		return -EIO;
	OPENSSL_cleanse(k, strlen(k));
	return 0;
}

bool sigv4_is_signed(const struct sigv4_request *req)
{
	/* As large as read_signature's: an X-Amz-Algorithm too long for a
	 * smaller one would make a signed request look unsigned. */
	_cleanup_buf_ struct buf v = BUF_INIT(SIGV4_CANON_MAX);

	return header_get(req, "Authorization") != NULL ||
	       query_get(req->query, "X-Amz-Algorithm", &v);
}

/* The clock: a header-signed request within SIGV4_MAX_SKEW_S of now either
 * way; a presigned one from a little before its date until it expires. */
static int check_time(const struct sigv4_expect *exp, const struct signature *s,
		      struct hearth_error **err)
{
	int64_t t = parse_amz_date(s->amz_date);
	char early[17], late[17], now[17];

	amz_date_of(exp->now, now);
	if (t > exp->now + SIGV4_MAX_SKEW_S) {
		amz_date_of(exp->now + SIGV4_MAX_SKEW_S, late);
		return hearth_error_make(err, EPERM,
					 "Signature not yet current: %s is still later than %s "
					 "(%s + 5 min.)",
					 s->amz_date, late, now);
	}
	if (s->presigned && t + s->expires < exp->now) {
		amz_date_of(exp->now - s->expires, early);
		return hearth_error_make(err, EPERM,
					 "Signature expired: %s is now earlier than %s (%s - "
					 "%" PRId64 " sec.)",
					 s->amz_date, early, now, s->expires);
	}
	if (!s->presigned && t < exp->now - SIGV4_MAX_SKEW_S) {
		amz_date_of(exp->now - SIGV4_MAX_SKEW_S, early);
		return hearth_error_make(err, EPERM,
					 "Signature expired: %s is now earlier than %s (%s - 5 "
					 "min.)",
					 s->amz_date, early, now);
	}
	return 0;
}

/* Whether ';'-separated list holds name. */
static bool list_has(const char *list, const char *name)
{
	size_t nl = strlen(name);

	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ";");

		if (len == nl && strncmp(p, name, nl) == 0)
			return true;
		p += len;
		if (*p == ';')
			p++;
	}
	return false;
}

int sigv4_verify(const struct sigv4_expect *exp, const struct sigv4_request *req,
		 enum sigv4_refusal *why, struct hearth_error **err)
{
	_cleanup_buf_ struct buf canon = BUF_INIT(SIGV4_CANON_MAX);
	_cleanup_buf_ struct buf sts = BUF_INIT(1024);
	struct signature s;
	char body_hash[65], canon_hash[65], want[65];
	unsigned char key[32], mac[32];
	int r;

	if ((r = read_signature(req, &s, why, err)) < 0)
		return r;
	*why = SIGV4_INVALID_SIGNATURE;
	if (strncmp(s.amz_date, s.date, 8) != 0 || strlen(s.date) != 8)
		return hearth_error_make(err, EPERM,
					 "Date in Credential scope does not match YYYYMMDD from "
					 "ISO-8601 version of date from HTTP: '%s' != '%.8s', from "
					 "'%s'.",
					 s.date, s.amz_date, s.amz_date);
	if (strcmp(s.region, exp->region) != 0)
		return hearth_error_make(err, EPERM,
					 "Credential should be scoped to a valid region, not '%s'.",
					 s.region);
	if (strcmp(s.service, exp->service) != 0)
		return hearth_error_make(err, EPERM,
					 "Credential should be scoped to correct service: '%s'.",
					 exp->service);
	if (strcmp(s.terminator, SIGV4_TERMINATOR) != 0)
		return hearth_error_make(err, EPERM,
					 "Credential should be scoped with a valid terminator: "
					 "'" SIGV4_TERMINATOR "', not '%s'.",
					 s.terminator);
	if (!exp->access_key_id || strcmp(s.akid, exp->access_key_id) != 0) {
		*why = SIGV4_UNRECOGNIZED_CLIENT;
		return hearth_error_make(err, EPERM,
					 "The security token included in the request is invalid.");
	}
	if ((r = check_time(exp, &s, err)) < 0)
		return r;
	if (!list_has(s.signed_headers, "host"))
		return hearth_error_make(err, EPERM,
					 "'Host' or ':authority' must be a 'SignedHeader' in the "
					 "AWS Authorization.");
	if (sha256_hex(req->body ? req->body : "", req->body_len, body_hash) < 0)
		return hearth_error_make(err, EIO, "SHA-256 failed");
	if (buf_printf(&canon, NULL, "%s\n", req->method) < 0 ||
	    canonical_uri(&canon, req->path && *req->path ? req->path : "/") < 0 ||
	    buf_puts(&canon, "\n", NULL) < 0 || canonical_query(&canon, req->query) < 0 ||
	    buf_puts(&canon, "\n", NULL) < 0 ||
	    canonical_headers(&canon, req, s.signed_headers) < 0 ||
	    buf_printf(&canon, NULL, "\n%s\n%s", s.signed_headers, body_hash) < 0)
		return hearth_error_make(err, EPERM, "the request is too large to verify");
	if (sha256_hex(canon.ptr, canon.len, canon_hash) < 0 ||
	    buf_printf(&sts, NULL, SIGV4_ALGORITHM "\n%s\n%s/%s/%s/" SIGV4_TERMINATOR "\n%s",
		       s.amz_date, s.date, s.region, s.service, canon_hash) < 0)
		return hearth_error_make(err, EIO, "SHA-256 failed");
	if (signing_key(exp->secret_access_key, s.date, s.region, s.service, key) < 0 ||
	    hmac(key, sizeof(key), sts.ptr, mac) < 0)
		return hearth_error_make(err, EIO, "HMAC-SHA256 failed");
	OPENSSL_cleanse(key, sizeof(key));
	hex_of(mac, sizeof(mac), want);
	if (strlen(s.signature) == 64 && CRYPTO_memcmp(want, s.signature, 64) == 0)
		return 0;
	/* What AWS answers: the canonical forms it computed, so the client
	 * can compare them with its own (they hold no secret). */
	return hearth_error_make(err, EPERM,
				 "The request signature we calculated does not match the "
				 "signature you provided. Check your AWS Secret Access Key and "
				 "signing method. Consult the service documentation for "
				 "details.\n\nThe Canonical String for this request should have "
				 "been\n'%s'\n\nThe String-to-Sign should have been\n'%s'\n",
				 canon.ptr, sts.ptr);
}
