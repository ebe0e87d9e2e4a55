/* json_strict.c — fuzz harness: src/base/jsontext.c, the one JSON parser of
 * bodies and payloads, held to a strict RFC 8259 reference: jansson
 * (json_loadb with JSON_DECODE_ANY | JSON_ALLOW_NUL, which reads the RFC's
 * grammar and checks UTF-8), differentially.  json-c is not the
 * reference: it is lenient (NaN, comments, trailing commas).
 *
 * jansson refuses a few texts the RFC's grammar allows, for what they
 * mean rather than how they are written: a number too large for a double
 * or an int64 ("numeric overflow"), an escaped lone surrogate ("\ud800";
 * the RFC allows it and says its meaning is unpredictable) and a NUL in an
 * object key.  Those are rewritten into what jansson takes without
 * changing the text's validity (the escape into \u0041, the number into 0
 * and spaces) before it reads the text (json_ref.c).  And jansson skips
 * a NUL byte after a number ("[1\0]"), where the RFC allows none: a text
 * with a NUL byte is refused without asking it.  Our scanner stops at 512
 * levels of nesting, jansson at 2048: deeper texts are ours to refuse.
 *
 * Beyond not crashing:
 *   - jsontext accepts exactly what jansson accepts;
 *   - what jsontext accepts, json-c builds a tree of (jsontext_parse with
 *     out), and that tree holds what jansson read: the same types, arrays
 *     of the same length, objects with the same keys, strings with the
 *     same bytes, numbers of the same value;
 *   - jsontext_append_string makes any bytes into a string literal both
 *     parsers take, which reads back as the same bytes when they were
 *     UTF-8.
 * Without jansson (make check on a machine without libjansson-dev) the
 * replay checks the last two points only, against json-c alone, and says
 * so on stderr. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "fuzz.h"
#include "json_ref.h"
#include "jsontext.h"

/* Whether s is well-formed UTF-8 (RFC 3629: no overlong form, no
 * surrogate, at most U+10FFFF), written apart from jsontext.c's. */
static bool utf8_valid(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		uint32_t c = s[i], min;
		size_t n;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 1;
			c &= 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			c &= 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			c &= 0x07;
			min = 0x10000;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			c = c << 6 | (s[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

#ifdef FUZZ_HAVE_JANSSON
/* json-c's tree as json_ref.h's canonical dump. */
static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void dump_tree(struct json_dump *d, json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null: json_dump_add(d, "n", 1); break;
	case json_type_boolean: json_dump_add(d, json_object_get_boolean(o) ? "t" : "f", 1); break;
	case json_type_int:
		json_dump_printf(d, "i%lld;", (long long)json_object_get_int64(o));
		break;
	case json_type_double: json_dump_printf(d, "r%.17g;", json_object_get_double(o)); break;
	case json_type_string:
		json_dump_str(d, json_object_get_string(o), (size_t)json_object_get_string_len(o));
		break;
	case json_type_array:
		json_dump_add(d, "[", 1);
		for (size_t i = 0; i < json_object_array_length(o); i++)
			dump_tree(d, json_object_array_get_idx(o, i));
		json_dump_add(d, "]", 1);
		break;
	case json_type_object: {
		size_t n = (size_t)json_object_object_length(o), i = 0;
		const char **keys = calloc(n ? n : 1, sizeof(*keys));

		FUZZ_CHECK(keys != NULL, "out of memory");
		json_object_object_foreach(o, k, v) {
			(void)v;
			keys[i++] = k;
		}
		qsort(keys, n, sizeof(*keys), cmp_keys);
		json_dump_add(d, "{", 1);
		for (i = 0; i < n; i++) {
			json_dump_str(d, keys[i], strlen(keys[i]));
			dump_tree(d, json_object_object_get(o, keys[i]));
		}
		json_dump_add(d, "}", 1);
		free(keys);
		break;
	}
	}
}
#endif

/* Any bytes as a string literal: valid JSON, reading back as the bytes
 * when they were UTF-8. */
static void check_escaping(const uint8_t *data, size_t size)
{
	struct hearth_error *err = NULL;
	json_object *o = NULL;
	struct buf b;
	int r;

	buf_init(&b, 16 * size + 64);
	r = jsontext_append_string(&b, (const char *)data, size, &err);
	FUZZ_CHECK(r == 0, "append_string: %s", err ? err->msg : "");
	FUZZ_CHECK(jsontext_is_value(b.ptr, b.len), "escaped text is not JSON: %s", b.ptr);
	FUZZ_CHECK(jsontext_parse(b.ptr, b.len, 0, "s", &o, &err) == 0 &&
			   json_object_is_type(o, json_type_string),
		   "escaped text has no tree: %s", err ? err->msg : "");
	if (utf8_valid(data, size))
		FUZZ_CHECK((size_t)json_object_get_string_len(o) == size &&
				   !memcmp(json_object_get_string(o), data, size),
			   "escaped UTF-8 reads back otherwise");
#ifdef FUZZ_HAVE_JANSSON
	{
		char *dump = NULL;
		size_t dump_len = 0;
		struct json_dump want = { NULL, 0, 0 };

		FUZZ_CHECK(json_ref_read((const uint8_t *)b.ptr, b.len, &dump, &dump_len) ==
				   JSON_REF_ACCEPTS,
			   "jansson refuses escaped text: %s", b.ptr);
		json_dump_str(&want, (const char *)data, size);
		if (utf8_valid(data, size))
			FUZZ_CHECK(dump && dump_len == want.len && !memcmp(dump, want.p, want.len),
				   "jansson reads escaped UTF-8 back otherwise");
		free(want.p);
		free(dump);
	}
#endif
	json_object_put(o);
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct hearth_error *err = NULL;
	json_object *tree = NULL;
	bool ours;
	int r;

	r = jsontext_parse(text, size, 0, "input", NULL, &err);
	ours = r == 0;
	FUZZ_CHECK(ours == jsontext_is_value(text, size), "parse %d, is_value %d", r, !ours);
	FUZZ_CHECK(ours || (r == -EBADMSG && err && err->status == EBADMSG), "status %d", r);

	/* What the scanner takes, json-c builds a tree of. */
	if (ours) {
		struct hearth_error *e2 = NULL;

		r = jsontext_parse(text, size, 0, "input", &tree, &e2);
		FUZZ_CHECK(r == 0, "accepted, but no tree: %s", e2 ? e2->msg : "");
		r = jsontext_parse(text, size, JSONTEXT_NOT_NULL, "input", NULL, &e2);
		FUZZ_CHECK((r == 0) == (tree != NULL), "NOT_NULL %d for %s", r,
			   tree ? "a value" : "null");
		hearth_error_free(e2);
	}

#ifdef FUZZ_HAVE_JANSSON
	{
		char *dump = NULL;
		size_t dump_len = 0;
		enum json_ref_verdict v = json_ref_read(data, size, &dump, &dump_len);
		bool too_deep = !ours && strstr(err->msg, "nested deeper than");

		if (!too_deep)
			FUZZ_CHECK(ours == (v == JSON_REF_ACCEPTS), "jsontext %s, jansson %s: %s",
				   ours ? "accepts" : "refuses",
				   v == JSON_REF_ACCEPTS ? "accepts" : "refuses",
				   ours ? "" : err->msg);
		if (ours && dump) {
			struct json_dump mine = { NULL, 0, 0 };

			dump_tree(&mine, tree);
			FUZZ_CHECK(mine.len == dump_len && !memcmp(mine.p, dump, dump_len),
				   "json-c's tree differs from jansson's:\n  %s\n  %s", mine.p,
				   dump);
			free(mine.p);
		}
		free(dump);
	}
#else
	{
		static bool said;

		if (!said)
			fprintf(stderr, "# json_strict: built without jansson (libjansson-dev): "
					"no comparison with a strict reference\n");
		said = true;
	}
#endif
	check_escaping(data, size);
	json_object_put(tree);
	hearth_error_free(err);
	return 0;
}
