/* Unit tests for b64.c: RFC 4648's vectors both ways, white space,
 * missing padding, and refusals that name the field. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "tap.h"

static const char *const vec[][2] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

int main(void)
{
	struct hearth_error *err = NULL;
	unsigned char *bin;
	size_t n;
	char *s;

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		ok(b64_encode(vec[i][0], strlen(vec[i][0]), &s, &n, NULL) == 0 &&
			   strcmp(s, vec[i][1]) == 0 && n == strlen(vec[i][1]),
		   "encode '%s' -> '%s'", vec[i][0], vec[i][1]);
		free(s);
		ok(b64_decode(vec[i][1], strlen(vec[i][1]), "x", &bin, &n, NULL) == 0 &&
			   n == strlen(vec[i][0]) && memcmp(bin, vec[i][0], n) == 0,
		   "decode '%s'", vec[i][1]);
		free(bin);
	}
	ok(b64_decode("Zm9v\r\nYmE", 9, "x", &bin, &n, NULL) == 0 && n == 5 &&
		   memcmp(bin, "fooba", 5) == 0,
	   "line breaks skipped, padding optional");
	free(bin);
	ok(b64_decode("Zm9v!", 5, "body", &bin, &n, &err) == -EINVAL && err &&
		   strstr(err->msg, "body: invalid base64: unexpected character at byte 4"),
	   "a bad character is refused, naming the field and the byte");
	hearth_error_clear(&err);
	ok(b64_decode("Zg==Zg", 6, "zip", &bin, &n, &err) == -EINVAL && err &&
		   strstr(err->msg, "zip: invalid base64: data after '='"),
	   "data after the padding is refused");
	hearth_error_clear(&err);
	ok(b64_decode("Z", 1, "zip", &bin, &n, &err) == -EINVAL, "one character is no base64");
	hearth_error_clear(&err);
	{
		unsigned char all[256];

		for (int i = 0; i < 256; i++)
			all[i] = (unsigned char)i;
		ok(b64_encode(all, 256, &s, &n, NULL) == 0 &&
			   b64_decode(s, n, "x", &bin, &n, NULL) == 0 && n == 256 &&
			   memcmp(bin, all, 256) == 0,
		   "every byte value round-trips");
		free(s);
		free(bin);
	}
	return tap_done();
}
