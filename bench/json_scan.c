/* json_scan.c — the speed of hearthd's JSON check (src/base/jsontext.c,
 * jsontext_is_value: the strict scanner every payload and result goes
 * through) on three shapes of a 1 MB text, against json-c building the
 * tree of the same text in the same process (the baseline).
 *
 *   token-heavy:  a list of small objects (bench/floor.py's echo payload)
 *   string-heavy: long strings (an HTML page and log lines)
 *   mixed:        objects whose fields are 200-byte strings
 *
 * usage: bench/json_scan [--rounds N] [--reps N]
 * Prints, per shape, the median ns per byte of each over N alternating
 * rounds and their ratio. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "buf.h"
#include "jsontext.h"

#define SIZE (1u << 20)
#define ROUNDS_MAX 99

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Appends s to b; exits on failure (a benchmark). */
static void put(struct buf *b, const char *s)
{
	if (buf_puts(b, s, NULL) < 0) {
		fprintf(stderr, "json_scan: out of memory\n");
		exit(1);
	}
}

static void make_text(struct buf *b, int shape)
{
	char item[512];
	unsigned seed = 12345;

	put(b, shape == 1 ? "{\"html\":\"<html><body>" : "{\"items\":[");
	for (unsigned i = 0; b->len < SIZE - 600; i++) {
		seed = seed * 1103515245u + 12345u;
		if (shape == 0)
			snprintf(item, sizeof(item),
				 "%s{\"id\":%u,\"name\":\"item-%u\",\"tags\":[\"a\",\"b\"],"
				 "\"score\":0.%06u,\"ok\":%s}",
				 i ? "," : "", i, i, seed % 1000000, i % 2 ? "false" : "true");
		else if (shape == 1)
			snprintf(item, sizeof(item),
				 "<p class=\\\"row\\\">Row %u of the report: value %u, "
				 "all systems nominal.</p>\\n",
				 i, seed % 100000);
		else
			snprintf(item, sizeof(item), "%s{\"line\":%u,\"text\":\"%.*s\"}",
				 i ? "," : "", i, 200,
				 "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
				 "eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut "
				 "enim ad minim veniam, quis nostrud exercitation ullamco laboris "
				 "nisi ut aliquip ex ea commodo.");
		put(b, item);
	}
	put(b, shape == 1 ? "</body></html>\"}" : "]}");
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "token-heavy", "string-heavy", "mixed" };
	int rounds = 9, reps = 20;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: json_scan [--rounds N] [--reps N]\n");
			return 2;
		}
	}
	if (rounds < 1 || rounds > ROUNDS_MAX || reps < 1) {
		fprintf(stderr, "json_scan: --rounds 1..%d, --reps 1 or more\n", ROUNDS_MAX);
		return 2;
	}
	printf("%-13s %12s %14s %8s   (ns per byte, medians of %d alternating rounds of %d)\n",
	       "shape", "jsontext", "json-c tree", "ratio", rounds, reps);
	for (int shape = 0; shape < 3; shape++) {
		struct buf text = BUF_INIT(2 * SIZE), *b = &text;
		double scan[ROUNDS_MAX], tree[ROUNDS_MAX];
		size_t len;

		make_text(b, shape);
		len = b->len;
		if (!jsontext_is_value(b->ptr, len)) {
			fprintf(stderr, "json_scan: the %s text is no JSON\n", names[shape]);
			return 1;
		}
		for (int r = 0; r < rounds; r++) {
			double t = now_s();

			for (int i = 0; i < reps; i++)
				if (!jsontext_is_value(b->ptr, len))
					return 1;
			scan[r] = (now_s() - t) / reps / (double)len * 1e9;
			t = now_s();
			for (int i = 0; i < reps; i++) {
				json_tokener *tok = json_tokener_new();
				json_object *o = tok ? json_tokener_parse_ex(tok, b->ptr, (int)len)
						     : NULL;

				if (!o)
					return 1;
				json_object_put(o);
				json_tokener_free(tok);
			}
			tree[r] = (now_s() - t) / reps / (double)len * 1e9;
		}
		qsort(scan, (size_t)rounds, sizeof(double), cmp_double);
		qsort(tree, (size_t)rounds, sizeof(double), cmp_double);
		printf("%-13s %12.3f %14.3f %7.2fx   (%zu bytes)\n", names[shape], scan[rounds / 2],
		       tree[rounds / 2], scan[rounds / 2] / tree[rounds / 2], len);
		buf_release(b);
	}
	return 0;
}
