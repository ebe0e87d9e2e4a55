/* b64.c — see b64.h. */
#include "b64.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "util.h"

int b64_decode(const char *s, size_t len, const char *what, unsigned char **out, size_t *outlen,
	       struct hearth_error **err)
{
	_cleanup_free_ char *clean = NULL;
	_cleanup_free_ unsigned char *bin = NULL;
	size_t n = 0, pad = 0;
	int got;

	clean = malloc(len + 4);
	if (!clean)
		return hearth_error_make(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (pad && c != '=')
			return hearth_error_make(err, EINVAL,
						 "%s: invalid base64: data after '=' padding at "
						 "byte %zu",
						 what, i);
		if (c == '=') {
			pad++;
		} else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '+' || c == '/')) {
			return hearth_error_make(err, EINVAL,
						 "%s: invalid base64: unexpected character at "
						 "byte %zu",
						 what, i);
		}
		clean[n++] = (char)c;
	}
	if (pad > 2 || (n - pad) % 4 == 1 || (pad && n % 4))
		return hearth_error_make(err, EINVAL, "%s: invalid base64: bad length or padding",
					 what);
	n -= pad;
	if (n == 0) {
		bin = malloc(1);
		if (!bin)
			return hearth_error_make(err, ENOMEM, "out of memory");
		*outlen = 0;
		*out = bin;
		bin = NULL;
		return 0;
	}
	pad = (4 - n % 4) % 4;
	for (size_t i = 0; i < pad; i++)
		clean[n++] = '=';
	bin = malloc(n / 4 * 3 + 1);
	if (!bin)
		return hearth_error_make(err, ENOMEM, "out of memory");
	/* EVP_DecodeBlock counts padding as zero bytes: take them off */
	got = EVP_DecodeBlock(bin, (const unsigned char *)clean, (int)n);
	if (got < 0 || (size_t)got < pad)
		return hearth_error_make(err, EINVAL, "%s: invalid base64", what);
	*outlen = (size_t)got - pad;
	*out = bin;
	bin = NULL;
	return 0;
}

int b64_encode(const void *data, size_t len, char **out, size_t *outlen, struct hearth_error **err)
{
	size_t n = (len + 2) / 3 * 4;
	char *s;

	*out = NULL;
	if (len > (size_t)INT_MAX / 4 * 3)
		return hearth_error_make(err, E2BIG, "base64: %zu bytes is too many", len);
	s = malloc(n + 1);
	if (!s)
		return hearth_error_make(err, ENOMEM, "out of memory");
	EVP_EncodeBlock((unsigned char *)s, data, (int)len);
	s[n] = '\0';
	*out = s;
	if (outlen)
		*outlen = n;
	return 0;
}
