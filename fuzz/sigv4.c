/* sigv4.c — fuzz harness: the Lambda API's SigV4 verifier (sigv4_verify,
 * src/api/sigv4.c), which stands between the network and every Lambda API
 * operation.
 *
 * The input: a mode byte, then a request as lines (METHOD, PATH, QUERY,
 * "Name: value" headers, a blank line) and the body.  Modes (mod 4):
 *   0  as it came: any Authorization header or presigned query;
 *   1  signed here, in an Authorization header, by a signer written apart
 *      from sigv4.c from AWS's description of the canonical request;
 *   2  presigned here (X-Amz-* query parameters) by the same signer;
 *   3  signed here, then the body (or, without one, the method) changed.
 * In modes 1 to 3 the clock is moved by up to ±6 minutes (from the
 * input), and headers a signer would not sign as given (Authorization,
 * X-Amz-Date, Date; names outside HTTP's token characters) are dropped.
 *
 * Beyond not crashing:
 *   - nothing unsigned passes: mode 0 is always refused (-EPERM), as
 *     MissingAuthenticationToken exactly when there is no Authorization
 *     header and no X-Amz-Algorithm parameter (sigv4_is_signed agrees);
 *   - what is signed right passes: modes 1 and 2 are accepted exactly
 *     when the clock is within AWS's window (5 minutes; a presigned URL's
 *     expiry), else refused as InvalidSignature;
 *   - a changed body or method never passes (mode 3);
 *   - a refusal is -EPERM with a message, and never holds the secret key
 *     (nor the signing key) unless the request itself did. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz.h"
#include "sigv4.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define REGION "us-east-1"
#define SERVICE "lambda"
#define T0 1440938160 /* 20150830T123600Z */
#define T0_AMZ "20150830T123600Z"
#define T0_DAY "20150830"
#define HEADERS_MAX 64

/* ---- a growing string ---------------------------------------------------------- */

struct str {
	char *p;
	size_t len, cap;
};

static void str_add(struct str *s, const void *b, size_t n)
{
	if (s->cap - s->len < n + 1) {
		while (s->cap - s->len < n + 1)
			s->cap = s->cap ? s->cap * 2 : 256;
		s->p = realloc(s->p, s->cap);
		FUZZ_CHECK(s->p != NULL, "out of memory");
	}
	memcpy(s->p + s->len, b, n);
	s->len += n;
	s->p[s->len] = '\0';
}

static void str_puts(struct str *s, const char *c)
{
	str_add(s, c, strlen(c));
}

/* ---- the signer, from AWS's description ------------------------------------------ */

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

static void encode(struct str *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[4];

		if (unreserved(c)) {
			str_add(out, &s[i], 1);
		} else {
			snprintf(e, sizeof(e), "%%%02X", c);
			str_add(out, e, 3);
		}
	}
}

static int hexdigit(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* %XX decoded; any other '%' (and '+') kept as it is. */
static void decode(struct str *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexdigit(s[i + 1]) >= 0 &&
		    hexdigit(s[i + 2]) >= 0) {
			char c = (char)(hexdigit(s[i + 1]) * 16 + hexdigit(s[i + 2]));

			str_add(out, &c, 1);
			i += 2;
		} else {
			str_add(out, &s[i], 1);
		}
	}
}

/* The path: segments split at '/', empty ones and "." dropped, ".." taking
 * the one before; each encoded again; a trailing '/' kept. */
static void canon_path(struct str *out, const char *path)
{
	const char *segs[2048];
	size_t lens[2048], n = 0, plen;

	if (!*path)
		path = "/";
	plen = strlen(path);
	for (const char *p = path; *p;) {
		size_t l = strcspn(p, "/");

		if (l == 2 && !strncmp(p, "..", 2)) {
			n -= n > 0;
		} else if (l && !(l == 1 && *p == '.')) {
			FUZZ_CHECK(n < 2048, "path too deep for the signer");
			segs[n] = p;
			lens[n++] = l;
		}
		p += l + (p[l] == '/');
	}
	str_puts(out, "/");
	for (size_t i = 0; i < n; i++) {
		if (i)
			str_puts(out, "/");
		encode(out, segs[i], lens[i]);
	}
	if (n && path[plen - 1] == '/')
		str_puts(out, "/");
}

struct param {
	struct str k, v;
};

static int cmp_param(const void *a, const void *b)
{
	const struct param *x = a, *y = b;
	int c = strcmp(x->k.p, y->k.p);

	return c ? c : strcmp(x->v.p, y->v.p);
}

/* Every parameter decoded, encoded, sorted by name and value; the
 * signature's own left out. */
static void canon_query(struct str *out, const char *q)
{
	struct param *ps = NULL;
	size_t n = 0;

	for (const char *p = q; p && *p;) {
		size_t l = strcspn(p, "&"), k = strcspn(p, "=");
		struct str dk = { 0 }, dv = { 0 };

		if (k > l)
			k = l;
		if (l) {
			decode(&dk, p, k);
			str_add(&dk, "", 0);
			if (k < l)
				decode(&dv, p + k + 1, l - k - 1);
			str_add(&dv, "", 0);
			if (strcmp(dk.p, "X-Amz-Signature") != 0) {
				ps = realloc(ps, (n + 1) * sizeof(*ps));
				FUZZ_CHECK(ps != NULL, "out of memory");
				memset(&ps[n], 0, sizeof(ps[n]));
				encode(&ps[n].k, dk.p, dk.len);
				encode(&ps[n].v, dv.p, dv.len);
				str_add(&ps[n].k, "", 0);
				str_add(&ps[n].v, "", 0);
				n++;
			}
		}
		free(dk.p);
		free(dv.p);
		p += l + (p[l] == '&');
	}
	if (n)
		qsort(ps, n, sizeof(*ps), cmp_param);
	for (size_t i = 0; i < n; i++) {
		if (i)
			str_puts(out, "&");
		str_puts(out, ps[i].k.p);
		str_puts(out, "=");
		str_puts(out, ps[i].v.p);
		free(ps[i].k.p);
		free(ps[i].v.p);
	}
	free(ps);
}

/* Trimmed, inner runs of white space as one space. */
static void canon_value(struct str *out, const char *v)
{
	bool pending = false, any = false;

	for (; *v; v++) {
		if (strchr(" \t\r\n", *v)) {
			pending = any;
			continue;
		}
		if (pending)
			str_puts(out, " ");
		str_add(out, v, 1);
		pending = false;
		any = true;
	}
}

struct hdr {
	char *name, *value;
};

struct req {
	char *method, *path, *query;
	struct hdr h[HEADERS_MAX + 4];
	size_t n;
	const uint8_t *body;
	size_t body_len;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The signed headers: every name present, lower case, sorted, once. */
static void signed_headers(const struct req *r, struct str *out)
{
	char *names[HEADERS_MAX + 4];
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++) {
		names[n] = strdup(r->h[i].name);
		FUZZ_CHECK(names[n] != NULL, "out of memory");
		for (char *c = names[n]; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		n++;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (!i || strcmp(names[i], names[i - 1])) {
			if (out->len)
				str_puts(out, ";");
			str_puts(out, names[i]);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
}

static void hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
	unsigned int len = 0;

	FUZZ_CHECK(HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out,
			&len) &&
			   len == 32,
		   "HMAC");
}

static void hexof(const unsigned char *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The signature of r with signed header list sh; the signing key's hex
 * into key_hex. */
static void sign(const struct req *r, const char *sh, char sig[65], char key_hex[65])
{
	struct str canon = { 0 }, sts = { 0 };
	unsigned char md[32], k1[32], k2[32];
	unsigned int mdlen = 0;
	char hash[65];

	str_puts(&canon, r->method);
	str_puts(&canon, "\n");
	canon_path(&canon, r->path);
	str_puts(&canon, "\n");
	canon_query(&canon, r->query);
	str_puts(&canon, "\n");
	for (const char *p = sh; *p;) {
		size_t l = strcspn(p, ";");
		bool first = true;

		str_add(&canon, p, l);
		str_puts(&canon, ":");
		for (size_t i = 0; i < r->n; i++)
			if (strlen(r->h[i].name) == l && !strncasecmp(r->h[i].name, p, l)) {
				if (!first)
					str_puts(&canon, ",");
				canon_value(&canon, r->h[i].value);
				first = false;
			}
		str_puts(&canon, "\n");
		p += l + (p[l] == ';');
	}
	str_puts(&canon, "\n");
	str_puts(&canon, sh);
	str_puts(&canon, "\n");
	FUZZ_CHECK(EVP_Digest(r->body, r->body_len, md, &mdlen, EVP_sha256(), NULL), "sha256");
	hexof(md, 32, hash);
	str_puts(&canon, hash);

	FUZZ_CHECK(EVP_Digest(canon.p, canon.len, md, &mdlen, EVP_sha256(), NULL), "sha256");
	hexof(md, 32, hash);
	str_puts(&sts,
		 "AWS4-HMAC-SHA256\n" T0_AMZ "\n" T0_DAY "/" REGION "/" SERVICE "/aws4_request\n");
	str_puts(&sts, hash);

	hmac("AWS4" SECRET, strlen("AWS4" SECRET), T0_DAY, k1);
	hmac(k1, 32, REGION, k2);
	hmac(k2, 32, SERVICE, k1);
	hmac(k1, 32, "aws4_request", k2);
	hexof(k2, 32, key_hex);
	hmac(k2, 32, sts.p, k1);
	hexof(k1, 32, sig);
	free(canon.p);
	free(sts.p);
}

/* ---- the request from the input ------------------------------------------------------ */

static char *take_line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	const uint8_t *stop = nl ? nl : end;
	char *s = strndup((const char *)*p, (size_t)(stop - *p));

	FUZZ_CHECK(s != NULL, "out of memory");
	*p = nl ? nl + 1 : end;
	return s;
}

static bool token_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("!#$%&'*+-.^_`|~", *s)))
			return false;
	return true;
}

static void parse(const uint8_t *data, size_t size, struct req *r)
{
	const uint8_t *p = data, *end = data + size;

	memset(r, 0, sizeof(*r));
	r->method = take_line(&p, end);
	r->path = take_line(&p, end);
	r->query = take_line(&p, end);
	while (p < end && *p != '\n' && r->n < HEADERS_MAX) {
		char *line = take_line(&p, end), *colon = strchr(line, ':');

		if (!colon) {
			free(line);
			continue;
		}
		*colon = '\0';
		r->h[r->n].name = line;
		r->h[r->n].value = colon + 1 + (colon[1] == ' ');
		r->n++;
	}
	if (p < end && *p == '\n')
		p++;
	r->body = p;
	r->body_len = (size_t)(end - p);
}

static void req_free(struct req *r)
{
	free(r->method);
	free(r->path);
	free(r->query);
	for (size_t i = 0; i < r->n; i++)
		free(r->h[i].name);
}

static void add_header(struct req *r, const char *name, const char *value)
{
	char *line = malloc(strlen(name) + strlen(value) + 2);

	FUZZ_CHECK(line != NULL, "out of memory");
	sprintf(line, "%s%c%s", name, '\0', value);
	r->h[r->n].name = line;
	r->h[r->n].value = line + strlen(name) + 1;
	r->n++;
}

/* Drops what a signer would not sign as given. */
static void drop_headers(struct req *r)
{
	size_t k = 0;

	for (size_t i = 0; i < r->n; i++) {
		const char *n = r->h[i].name;

		if (!token_name(n) || !strcasecmp(n, "authorization") ||
		    !strcasecmp(n, "x-amz-date") || !strcasecmp(n, "date"))
			free(r->h[i].name);
		else
			r->h[k++] = r->h[i];
	}
	r->n = k;
}

/* Whether a query parameter's decoded name is one of a presigned URL's. */
static bool has_amz_param(const char *q)
{
	static const char *const names[] = { "X-Amz-Algorithm",	    "X-Amz-Credential",
					     "X-Amz-SignedHeaders", "X-Amz-Signature",
					     "X-Amz-Date",	    "X-Amz-Expires" };

	for (const char *p = q; *p;) {
		size_t l = strcspn(p, "&"), k = strcspn(p, "=");
		struct str dk = { 0 };

		decode(&dk, p, k < l ? k : l);
		str_add(&dk, "", 0);
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(dk.p, names[i])) {
				free(dk.p);
				return true;
			}
		free(dk.p);
		p += l + (p[l] == '&');
	}
	return false;
}

/* ---- the harness ----------------------------------------------------------------------- */

static int verify(const struct req *r, const char *query, int64_t now, enum sigv4_refusal *why,
		  char **msg)
{
	struct sigv4_header hs[HEADERS_MAX + 4];
	struct sigv4_request sr = { r->method, r->path, query, hs, r->n, r->body, r->body_len };
	struct sigv4_expect exp = { AKID, SECRET, REGION, SERVICE, now };
	struct hearth_error *err = NULL;
	int rc;

	for (size_t i = 0; i < r->n; i++)
		hs[i] = (struct sigv4_header){ r->h[i].name, r->h[i].value };
	*why = (enum sigv4_refusal) - 1;
	rc = sigv4_verify(&exp, &sr, why, &err);
	*msg = NULL;
	if (rc < 0) {
		FUZZ_CHECK(rc == -EPERM && err && err->status == EPERM && err->msg && *err->msg,
			   "a refusal %d without its message", rc);
		FUZZ_CHECK(*why >= SIGV4_MISSING_TOKEN && *why <= SIGV4_INVALID_SIGNATURE,
			   "refusal reason %d", (int)*why);
		*msg = strdup(err->msg);
	} else {
		FUZZ_CHECK(rc == 0 && !err, "accepted with an error");
	}
	hearth_error_free(err);
	return rc;
}

static bool in_input(const uint8_t *data, size_t size, const char *s)
{
	return memmem(data, size, s, strlen(s)) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str sh = { 0 }, q = { 0 };
	enum sigv4_refusal why;
	char sig[65], key_hex[65], *msg = NULL, auth[8192], expires_s[16];
	int mode, rc;
	int64_t now = T0, skew, expires = 0;
	struct req r;
	bool signable = true, in_window;

	if (size < 2)
		return 0;
	mode = data[0] % 4;
	skew = ((int8_t)data[1]) * 3; /* -384 .. 381 s */
	parse(data + 2, size - 2, &r);

	if (mode == 0) {
		const char *query = *r.query ? r.query : NULL;
		struct sigv4_header hs[HEADERS_MAX];
		struct sigv4_request sr = { r.method, r.path, query, hs, r.n, NULL, 0 };
		bool auth_h = false;

		for (size_t i = 0; i < r.n; i++) {
			hs[i] = (struct sigv4_header){ r.h[i].name, r.h[i].value };
			auth_h |= !strcasecmp(r.h[i].name, "Authorization");
		}
		rc = verify(&r, query, T0 + skew, &why, &msg);
		FUZZ_CHECK(rc < 0, "an unsigned request passed: %s %s", r.method, r.path);
		FUZZ_CHECK((why == SIGV4_MISSING_TOKEN) == !sigv4_is_signed(&sr),
			   "MissingAuthenticationToken %d, sigv4_is_signed %d",
			   why == SIGV4_MISSING_TOKEN, sigv4_is_signed(&sr));
		if (!auth_h && !(query && has_amz_param(query)))
			FUZZ_CHECK(why == SIGV4_MISSING_TOKEN, "no signature, refused as %d", why);
		goto secrets;
	}

	drop_headers(&r);
	if (r.n > HEADERS_MAX - 2)
		r.n = HEADERS_MAX - 2;
	add_header(&r, "host", "lambda.us-east-1.amazonaws.com");
	now = T0 + skew;
	if (mode == 2) {
		/* presigned: the X-Amz-* parameters go in the query, the
		 * headers signed are host alone */
		for (size_t i = 0; i + 1 < r.n; i++)
			free(r.h[i].name);
		r.h[0] = r.h[r.n - 1];
		r.n = 1;
		signable = !has_amz_param(r.query);
		expires = 1 + (size > 2 ? data[2] : 0) * 10;
		snprintf(expires_s, sizeof(expires_s), "%lld", (long long)expires);
		str_puts(&q, r.query);
		if (q.len)
			str_puts(&q, "&");
		str_puts(&q, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AKID "%2F" T0_DAY
			     "%2F" REGION "%2F" SERVICE "%2Faws4_request&X-Amz-Date=" T0_AMZ
			     "&X-Amz-Expires=");
		str_puts(&q, expires_s);
		str_puts(&q, "&X-Amz-SignedHeaders=host");
		free(r.query);
		r.query = q.p;
		q = (struct str){ 0 };
		signed_headers(&r, &sh);
		sign(&r, sh.p, sig, key_hex);
		str_add(&q, r.query, strlen(r.query));
		str_puts(&q, "&X-Amz-Signature=");
		str_puts(&q, sig);
		in_window = T0 <= now + SIGV4_MAX_SKEW_S && T0 + expires >= now;
	} else {
		add_header(&r, "X-Amz-Date", T0_AMZ);
		signed_headers(&r, &sh);
		sign(&r, sh.p, sig, key_hex);
		signable = sh.len < 4096;
		snprintf(auth, sizeof(auth),
			 "AWS4-HMAC-SHA256 Credential=" AKID "/" T0_DAY "/" REGION "/" SERVICE
			 "/aws4_request, SignedHeaders=%s, Signature=%s",
			 sh.p, sig);
		add_header(&r, "Authorization", auth);
		str_puts(&q, r.query);
		in_window = T0 <= now + SIGV4_MAX_SKEW_S && T0 >= now - SIGV4_MAX_SKEW_S;
	}

	if (mode == 3) {
		char *m = NULL;

		if (r.body_len) {
			uint8_t *b = malloc(r.body_len);

			FUZZ_CHECK(b != NULL, "out of memory");
			memcpy(b, r.body, r.body_len);
			b[r.body_len / 2] ^= 0x20;
			r.body = b;
		} else {
			FUZZ_CHECK(asprintf(&m, "%sX", r.method) > 0, "out of memory");
			free(r.method);
			r.method = m;
		}
		rc = verify(&r, q.p && *q.p ? q.p : NULL, now, &why, &msg);
		FUZZ_CHECK(rc < 0, "a changed %s passed", r.body_len ? "body" : "method");
		if (r.body_len)
			free((void *)r.body);
	} else {
		rc = verify(&r, q.p && *q.p ? q.p : NULL, now, &why, &msg);
		if (signable && in_window)
			FUZZ_CHECK(rc == 0, "a request signed right was refused (%d): %s", why,
				   msg ? msg : "");
		else if (signable)
			FUZZ_CHECK(rc < 0 && why == SIGV4_INVALID_SIGNATURE,
				   "a request out of its time passed or was refused as %d",
				   rc < 0 ? (int)why : -1);
	}
	FUZZ_CHECK(!msg || !strstr(msg, key_hex) || in_input(data, size, key_hex),
		   "a refusal holds the signing key");
secrets:
	if (msg)
		FUZZ_CHECK(!strstr(msg, SECRET) || in_input(data, size, SECRET),
			   "a refusal holds the secret key");
	free(msg);
	free(sh.p);
	free(q.p);
	req_free(&r);
	return 0;
}
