/* Unit tests for jsontext.c: the strict scanner accepts RFC 8259 JSON and
 * nothing else (json-c's lenient grammar would take many of the refused
 * ones), its errors say where, and bodies parse into trees. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsontext.h"
#include "tap.h"

static const char *const accepted[] = {
	"{}",
	"[]",
	"0",
	"-0",
	"1",
	"-12.5e+3",
	"1E9",
	"0.5",
	"1e-7",
	"\"\"",
	"\"a\"",
	"true",
	"false",
	"null",
	" \t\r\n{\"a\" : [1, 2.0, true, null, {\"b\":\"c\"}]} \n",
	"\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00\"",
	"\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
	"[[[[[[[[[[]]]]]]]]]]",
	"{\"\":0}",
	"\"\\ud800\"",
	"123456789012345678901234567890",
};

static const char *const refused[][2] = {
	{ "{'a':1}", "single quotes" },
	{ "[1,2,]", "a trailing comma in an array" },
	{ "{\"a\":1,}", "a trailing comma in an object" },
	{ "NaN", "NaN" },
	{ "Infinity", "Infinity" },
	{ "-Infinity", "-Infinity" },
	{ "[NaN]", "NaN inside" },
	{ "/* c */ 1", "a comment" },
	{ "// c\n1", "a line comment" },
	{ "01", "a leading zero" },
	{ "+1", "a plus sign" },
	{ ".5", "a bare dot" },
	{ "1.", "a dot without digits" },
	{ "1e", "an exponent without digits" },
	{ "0x10", "hex" },
	{ "True", "capitalised true" },
	{ "nul", "a cut literal" },
	{ "\"a\tb\"", "a raw tab in a string" },
	{ "\"a\nb\"", "a raw newline in a string" },
	{ "\"\\x\"", "an unknown escape" },
	{ "\"\\u12\"", "a short \\u" },
	{ "\"\\u12G4\"", "a \\u with a non-hex digit" },
	{ "\"abc", "an unterminated string" },
	{ "{\"a\" 1}", "a missing colon" },
	{ "{1:2}", "a non-string key" },
	{ "[1 2]", "a missing comma" },
	{ "\"\xc3\"", "a cut UTF-8 sequence" },
	{ "\"\xc0\xaf\"", "an overlong UTF-8 form" },
	{ "\"\xed\xa0\x80\"", "a UTF-8 surrogate" },
	{ "\"\xf4\x90\x80\x80\"", "beyond U+10FFFF" },
	{ "\"\xff\"", "0xff" },
	{ "\xef\xbb\xbf{}", "a byte order mark" },
	{ "{} {}", "two values" },
	{ "", "nothing" },
	{ "[", "an open array" },
	{ "{\"a\":", "an object cut after a colon" },
};

int main(void)
{
	struct hearth_error *err = NULL;
	json_object *o = NULL;
	char *deep;

	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
		ok(jsontext_is_value(accepted[i], strlen(accepted[i])), "accepted: %s",
		   accepted[i]);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		ok(!jsontext_is_value(refused[i][0], strlen(refused[i][0])), "refused: %s",
		   refused[i][1]);
	ok(!jsontext_is_value("1\0", 2), "a NUL after the value is refused");
	ok(jsontext_is_value("\"a\\u0000b\"", 10), "an escaped NUL inside a string is fine");

	/* Nesting is bounded: 512 levels, not 513. */
	deep = malloc(2 * 513 + 1);
	memset(deep, '[', 513);
	memset(deep + 513, ']', 513);
	deep[2 * 513] = '\0';
	ok(!jsontext_is_value(deep, strlen(deep)), "513 levels deep is refused");
	ok(jsontext_is_value(deep + 1, strlen(deep) - 2), "512 levels is fine");
	{
		json_object *tree = NULL;

		ok(jsontext_parse(deep + 1, strlen(deep) - 2, 0, "deep", &tree, NULL) == 0 && tree,
		   "and json-c builds its tree (past its own default bound)");
		json_object_put(tree);
		ok(jsontext_parse(deep, strlen(deep), 0, "deep", &tree, NULL) == -EBADMSG,
		   "513 levels is refused by the parser too");
		/* What hearthd stored reads back whole: json_tokener_parse
		 * gives NULL past 32 levels (a result read as null). */
		deep[2 * 513 - 1] = '\0';
		tree = json_tokener_parse(deep + 1);
		ok(tree == NULL, "json_tokener_parse alone gives up on 512 levels");
		json_object_put(tree);
		tree = jsontext_tree(deep + 1);
		ok(tree && json_object_is_type(tree, json_type_array),
		   "jsontext_tree reads the 512 levels a stored result may have");
		json_object_put(tree);
		ok(jsontext_tree("null") == NULL && jsontext_tree(NULL) == NULL &&
			   jsontext_tree("{'a':1}") == NULL,
		   "jsontext_tree: NULL for null, no text, and what is not JSON");
		tree = jsontext_tree("{\"a\":[1,2]}");
		ok(tree && json_object_array_length(json_object_object_get(tree, "a")) == 2,
		   "and the tree of an object");
		json_object_put(tree);
	}
	free(deep);

	/* Errors say where and why. */
	ok(jsontext_parse("{\"a\":1,\n \"b\" 2}", 15, 0, "body", NULL, &err) == -EBADMSG && err &&
		   strstr(err->msg,
			  "body: malformed JSON at line 2, column 6 (byte 13): unexpected "
			  "character"),
	   "a missing colon: line, column, byte (%s)", err ? err->msg : "");
	hearth_error_clear(&err);
	ok(jsontext_parse("[1,2", 4, 0, "payload", NULL, &err) == -EBADMSG && err &&
		   strstr(err->msg, "unexpected end of input"),
	   "a cut array: unexpected end of input");
	hearth_error_clear(&err);
	ok(jsontext_parse("\"a\xff\"", 4, 0, "body", NULL, &err) == -EBADMSG && err &&
		   strstr(err->msg, "invalid UTF-8"),
	   "bad UTF-8 says so");
	hearth_error_clear(&err);
	ok(jsontext_parse("[NaN]", 5, 0, "body", NULL, &err) == -EBADMSG && err &&
		   strstr(err->msg, "byte 1"),
	   "NaN is refused at its byte");
	hearth_error_clear(&err);
	ok(jsontext_parse("   ", 3, 0, "body", NULL, &err) == -EBADMSG && err &&
		   strstr(err->msg, "empty"),
	   "white space only is empty");
	hearth_error_clear(&err);

	/* Trees where asked. */
	ok(jsontext_parse("{\"a\":[1,2]}", 11, JSONTEXT_NOT_NULL, "body", &o, &err) == 0 && o &&
		   json_object_array_length(json_object_object_get(o, "a")) == 2,
	   "a body parses into a tree");
	json_object_put(o);
	o = NULL;
	ok(jsontext_parse("null", 4, JSONTEXT_NOT_NULL, "body", &o, &err) == -EBADMSG && !o,
	   "a bare null is refused where a value is needed");
	hearth_error_clear(&err);
	ok(jsontext_parse("null", 4, 0, "payload", &o, &err) == 0 && !o, "  and taken where not");
	ok(jsontext_parse("42", 2, 0, "payload", &o, &err) == 0 && o &&
		   json_object_get_int(o) == 42,
	   "a bare number at the very end parses");
	json_object_put(o);
	return tap_done();
}
