/* auth.c — see auth.h. */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "bounds.h"

bool auth_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	unsigned char da[EVP_MAX_MD_SIZE], db[EVP_MAX_MD_SIZE];
	unsigned int la = 0, lb = 0;

	if (!EVP_Digest(a, alen, da, &la, EVP_sha256(), NULL) ||
	    !EVP_Digest(b, blen, db, &lb, EVP_sha256(), NULL) || la != lb || la == 0)
		return false;
	return CRYPTO_memcmp(da, db, la) == 0;
}

/* The credentials after "Bearer " (the scheme is case-insensitive, RFC
 * 7235), or NULL when the header is missing or names another scheme. */
static const char *bearer_of(struct evhttp_request *req, bool *present)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");

	*present = h != NULL;
	if (!h || strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
		return NULL;
	h += 6;
	while (*h == ' ' || *h == '\t')
		h++;
	return h;
}

static bool bearer_matches(const char *given, const char *token)
{
	size_t n = strlen(given);

	/* trailing blanks are the header's, not the token's */
	while (n > 0 && (given[n - 1] == ' ' || given[n - 1] == '\t'))
		n--;
	return auth_equal(given, n, token, strlen(token));
}

bool auth_bearer_ok(struct evhttp_request *req, const char *token)
{
	bool present;
	const char *given = bearer_of(req, &present);

	return !token || !*token || (given && bearer_matches(given, token));
}

int auth_bearer(struct evhttp_request *req, const char *token, struct hearth_error **err)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	bool present;
	const char *given;

	if (!token || !*token)
		return 0;
	given = bearer_of(req, &present);
	if (given && bearer_matches(given, token))
		return 0;
	if (!present) {
		evhttp_add_header(out, "WWW-Authenticate", "Bearer realm=\"hearth\"");
		return hearth_error_make(err, ENOKEY,
					 "this hearthd needs a token: send \"Authorization: Bearer "
					 "<token>\" with the token it was started with (--token, "
					 "--token-file or HEARTH_TOKEN)");
	}
	evhttp_add_header(out, "WWW-Authenticate",
			  "Bearer realm=\"hearth\", error=\"invalid_token\"");
	if (!given)
		return hearth_error_make(err, ENOKEY,
					 "the Authorization header is not \"Bearer <token>\"");
	return hearth_error_make(err, ENOKEY,
				 "the bearer token is not this hearthd's (it is not shown here)");
}

bool auth_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_LOOPBACK(a))
			return true;
		return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
	}
	return false;
}

int auth_listen_check(const char *host, bool has_token, bool insecure, struct hearth_error **err)
{
	struct addrinfo hints = { 0 }, *res = NULL, *ai;
	char bare[256];
	size_t hl = strlen(host);
	bool loopback = true;
	int rc;

	if (has_token || insecure)
		return 0;
	/* "[::1]" as written in --listen [::1]:8080 */
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']' && hl - 2 < sizeof(bare)) {
		memcpy(bare, host + 1, hl - 2);
		bare[hl - 2] = '\0';
		host = bare;
	}
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host, "0", &hints, &res);
	if (rc != 0)
		return hearth_error_make(err, EINVAL, "--listen: cannot resolve '%s': %s", host,
					 gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next)
		if (!auth_is_loopback(ai->ai_addr))
			loopback = false;
	freeaddrinfo(res);
	if (loopback)
		return 0;
	return hearth_error_make(err, EPERM,
				 "refusing to listen on %s without a token: anyone who can reach "
				 "the port could run code on this machine. Set one with "
				 "--token-file FILE (or HEARTH_TOKEN), or pass --insecure if the "
				 "network is yours alone",
				 host);
}

int auth_token_check(const char *token, const char *from, struct hearth_error **err)
{
	size_t n = strlen(token);

	if (n == 0)
		return hearth_error_make(err, EINVAL, "%s: the token is empty", from);
	if (n > AUTH_TOKEN_MAX)
		return hearth_error_make(err, EINVAL, "%s: the token is over %d bytes", from,
					 AUTH_TOKEN_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)token[i] <= 0x20 || (unsigned char)token[i] >= 0x7f)
			return hearth_error_make(
				err, EINVAL,
				"%s: the token may hold only visible ASCII characters (byte %zu "
				"is not one)",
				from, i + 1);
	return 0;
}

int auth_token_read(const char *path, char *out, size_t size, struct hearth_error **err)
{
	char buf[AUTH_TOKEN_MAX + 3];
	ssize_t n;
	size_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC), saved;

	if (fd < 0)
		return hearth_error_errno(err, errno, "--token-file %s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	saved = errno;
	close(fd);
	if (n < 0)
		return hearth_error_errno(err, saved, "--token-file %s", path);
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	if (len == (size_t)n && (size_t)n == sizeof(buf) - 1)
		return hearth_error_make(err, EINVAL, "--token-file %s: the token is over %d bytes",
					 path, AUTH_TOKEN_MAX);
	buf[len] = '\0';
	if (len >= size)
		return hearth_error_make(err, EINVAL,
					 "--token-file %s: the token is over %zu bytes", path,
					 size - 1);
	char from[300];

	snprintf(from, sizeof(from), "--token-file %s", path);
	if (auth_token_check(buf, from, err) < 0) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return -EINVAL;
	}
	memcpy(out, buf, len + 1);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}
