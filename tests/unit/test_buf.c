/* Unit tests for buf.c and error.c. */
#include <errno.h>
#include <stdlib.h>

#include "buf.h"
#include "error.h"
#include "tap.h"

int main(void)
{
	struct buf b = BUF_INIT(16);
	struct hearth_error *err = NULL;
	char *s;
	size_t n;

	ok(b.ptr != NULL && b.ptr[0] == '\0', "a new buf is an empty string, never NULL");
	is_int(buf_puts(&b, "hello", &err), 0, "append within the cap");
	is_str(b.ptr, "hello", "contents are NUL-terminated");
	is_int(buf_printf(&b, &err, " %d", 42), 0, "printf appends");
	is_str(b.ptr, "hello 42", "printf result");
	is_int(buf_puts(&b, "0123456789", &err), -E2BIG, "append past the cap fails");
	ok(err && err->status == E2BIG, "the error carries E2BIG");
	is_str(b.ptr, "hello 42", "a failed append changes nothing");
	hearth_error_clear(&err);
	s = buf_detach(&b, &n);
	is_str(s, "hello 42", "detach hands over the bytes");
	is_int(n, 8, "detach reports the length");
	ok(b.ptr != NULL && b.len == 0, "the buf is empty after detach");
	free(s);
	s = buf_detach(&b, &n);
	ok(s && s[0] == '\0' && n == 0, "detaching an empty buf gives an empty string");
	free(s);

	is_int(hearth_error_make(&err, ENOENT, "no function %d", 7), -ENOENT,
	       "make returns -status");
	is_int(hearth_error_wrap(&err, "GET /functions/7"), -ENOENT, "wrap keeps the status");
	is_str(err->msg, "GET /functions/7: no function 7", "wrap prefixes context");
	is_int(hearth_error_make(&err, EINVAL, "second"), -ENOENT,
	       "a second error does not replace the first, and make returns the kept one's status");
	is_str(err->msg, "GET /functions/7: no function 7", "the first error is kept");
	is_int(hearth_error_errno(&err, EACCES, "third"), -ENOENT, "so does hearth_error_errno");
	is_int(hearth_error_make(NULL, EINVAL, "nobody asked"), -EINVAL,
	       "without an error to fill, make returns its own status");
	hearth_error_clear(&err);
	ok(err == NULL, "clear resets the pointer");
	buf_release(&b);
	return tap_done();
}
