/* Unit tests for buf.c and error.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	/* buf_i64 and buf_fixed write what printf writes. */
	{
		struct buf f = BUF_INIT(1 << 20);
		char want[64];
		unsigned seed = 12345;
		int bad_i = 0, bad_f = 0;
		const int64_t ints[] = {
			0, 1, -1, 9, 10, 42, -42, INT64_MAX, INT64_MIN, 1000000007
		};
		const double fixed[] = { 0,	0.0005,		0.0015,	   0.125,
					 0.375, 1.005,		2.5,	   3.5,
					 12.5,	99.9995,	1234.5678, 75.842,
					 1e11,	999999999999.0, 0.0005,	   -2.5 };

		for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
			buf_reset(&f);
			snprintf(want, sizeof(want), "%" PRId64, ints[i]);
			bad_i += buf_i64(&f, ints[i], NULL) != 0 || strcmp(f.ptr, want) != 0;
		}
		for (int d = 0; d <= 6; d++)
			for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
				buf_reset(&f);
				snprintf(want, sizeof(want), "%.*f", d, fixed[i]);
				if (buf_fixed(&f, fixed[i], d, NULL) != 0 ||
				    strcmp(f.ptr, want) != 0) {
					fprintf(stderr, "# %.*f: buf_fixed %s, printf %s\n", d,
						fixed[i], f.ptr, want);
					bad_f++;
				}
			}
		/* measured durations: microseconds and kilobytes as they come */
		for (int i = 0; i < 200000; i++) {
			double v = (double)(rand_r(&seed) % 100000000) / (i % 2 ? 1000.0 : 1024.0);
			int d = i % 4;

			buf_reset(&f);
			snprintf(want, sizeof(want), "%.*f", d, v);
			if (buf_fixed(&f, v, d, NULL) != 0 || strcmp(f.ptr, want) != 0) {
				if (bad_f < 10)
					fprintf(stderr, "# %.*f: buf_fixed %s, printf %s\n", d, v,
						f.ptr, want);
				bad_f++;
			}
		}
		is_int(bad_i, 0,
		       "buf_i64 writes what printf's %%" PRId64 " writes (0, ±1, the extremes)");
		is_int(bad_f, 0,
		       "buf_fixed writes what printf's %%.Nf writes (halves, 200,000 measured values, 0-6 decimals)");
		buf_reset(&f);
		ok(buf_fixed(&f, 1e13, 1, NULL) == 0 && strcmp(f.ptr, "10000000000000.0") == 0,
		   "buf_fixed past 1e12 is printf's");
		buf_reset(&f);
		memset(want, 'x', 40);
		want[40] = '\0';
		ok(buf_printf(&f, NULL, "%s%s%s%s%s%s%s%s", want, want, want, want, want, want,
			      want, want) == 0 &&
			   f.len == 320 && f.ptr[319] == 'x' && f.ptr[320] == '\0',
		   "a printf longer than the stack buffer is written whole");
		buf_release(&f);
	}
	return tap_done();
}
