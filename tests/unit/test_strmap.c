/* Unit tests for strmap.c: put, get, replace, delete, growth, binary keys. */
#include <stdio.h>
#include <string.h>

#include "strmap.h"
#include "tap.h"

int main(void)
{
	struct strmap *m = strmap_new();
	int64_t v = 0;
	char key[32];
	int all = 1;

	ok(m != NULL, "a new map");
	ok(!strmap_get(m, "a", 1, &v), "empty: nothing found");
	ok(strmap_put(m, "hello", 5, 7) == 0 && strmap_get(m, "hello", 5, &v) && v == 7,
	   "put, get");
	ok(strmap_put(m, "hello", 5, 8) == 0 && strmap_get(m, "hello", 5, &v) && v == 8 &&
		   strmap_count(m) == 1,
	   "put again replaces, one entry");
	ok(!strmap_get(m, "hell", 4, &v) && !strmap_get(m, "hello!", 6, &v),
	   "a prefix is not a key");
	ok(strmap_put(m, "a\0b", 3, 3) == 0 && strmap_get(m, "a\0b", 3, &v) && v == 3 &&
		   !strmap_get(m, "a", 1, &v),
	   "keys are bytes: a NUL inside counts");
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "/route/%d", i);
		all &= strmap_put(m, key, strlen(key), i) == 0;
	}
	ok(all && strmap_count(m) == 5002, "5,000 more keys (the map grows)");
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "/route/%d", i);
		all &= strmap_get(m, key, strlen(key), &v) && v == i;
	}
	ok(all, "every one found with its value");
	for (int i = 0; i < 5000; i += 2) {
		snprintf(key, sizeof(key), "/route/%d", i);
		strmap_del(m, key, strlen(key));
	}
	strmap_del(m, "absent", 6);
	ok(strmap_count(m) == 2502, "half deleted (and an absent key is no error)");
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "/route/%d", i);
		all &= strmap_get(m, key, strlen(key), &v) == (i % 2 == 1);
	}
	ok(all, "the deleted are gone, the others stay");
	strmap_free(m);
	strmap_free(NULL);
	return tap_done();
}
