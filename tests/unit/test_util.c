/* test_util.c — the small string helpers of src/base/util.c. */
#include <string.h>

#include "tap.h"
#include "util.h"

int main(void)
{
	char d[8];

	memset(d, 'x', sizeof(d));
	util_strcpy_cut(d, sizeof(d), "abc");
	is_str(d, "abc", "strcpy_cut: a short string whole");
	util_strcpy_cut(d, sizeof(d), "abcdefg");
	is_str(d, "abcdefg", "strcpy_cut: one that fits exactly");
	memset(d, 'x', sizeof(d));
	util_strcpy_cut(d, sizeof(d), "abcdefghijkl");
	is_str(d, "abcdefg", "strcpy_cut: a long one cut, ended");
	util_strcpy_cut(d, sizeof(d), "");
	is_str(d, "", "strcpy_cut: the empty string");
	util_strcpy_cut(d, 1, "abc");
	is_str(d, "", "strcpy_cut: size 1 holds the end only");
	d[0] = 'q';
	util_strcpy_cut(d, 0, "abc");
	ok(d[0] == 'q', "strcpy_cut: size 0 writes nothing");
	return tap_done();
}
