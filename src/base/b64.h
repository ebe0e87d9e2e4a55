/* b64.h — base64 (RFC 4648, the standard alphabet) both ways, on
 * OpenSSL's block codec: zip uploads, binary bodies of function URLs,
 * Lambda's log tail. */
#ifndef HEARTH_B64_H
#define HEARTH_B64_H

#include <stddef.h>

#include "error.h"

/* Decodes s (white space skipped, padding optional); *out is malloc'd
 * (len/4*3+1 bytes at most).  -EINVAL naming `what` and the byte at fault. */
int b64_decode(const char *s, size_t len, const char *what, unsigned char **out, size_t *outlen,
	       struct hearth_error **err);
/* Encodes len bytes; *out is a malloc'd NUL-terminated string. */
int b64_encode(const void *data, size_t len, char **out, size_t *outlen, struct hearth_error **err);

#endif
