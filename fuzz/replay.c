/* replay.c — make check's side of a fuzz harness (fuzz/README.md): a main
 * that feeds every file of the harness's committed corpus to its
 * LLVMFuzzerTestOneInput, built with the normal compiler and no
 * libFuzzer, so every build replays what the fuzzers found.
 *
 * Without arguments it replays fuzz/corpus/NAME and fuzz/crashes/NAME
 * (the inputs that once broke something, kept forever), one TAP point per
 * folder, files in name order.  With arguments it replays those files or
 * folders instead, which reproduces a finding without clang:
 *
 *     fuzz/replay_zip_unpack path/to/crash-1234
 *
 * A broken property aborts (fuzz.h), and so does a sanitizer in a
 * sanitizer build; each file's name goes to stderr first, so the test's
 * log names the input that did it. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error "FUZZ_NAME (the harness) is set by fuzz/local.mk"
#endif
#ifndef FUZZ_DIR
#error "FUZZ_DIR (the source folder fuzz/) is set by fuzz/local.mk"
#endif

static int tests, failures;

/* Reads a whole file; NULL (with a diagnostic) when it cannot. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		printf("# cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t r;

		if (n == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		printf("# cannot read %s\n", path);
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* One input, as libFuzzer would give it: a copy of exactly its bytes, so
 * a read past the end is caught in a sanitizer build. */
static int replay_file(const char *path)
{
	size_t len = 0;
	uint8_t *data = slurp(path, &len), *copy;

	if (!data)
		return -1;
	copy = malloc(len ? len : 1);
	if (!copy) {
		free(data);
		return -1;
	}
	memcpy(copy, data, len);
	fprintf(stderr, "# %s (%zu bytes)\n", path, len);
	fflush(stderr);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
	free(data);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order; how many, or -1. */
static int replay_dir(const char *dir)
{
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d = opendir(dir);
	int done = 0;

	if (!d) {
		printf("# cannot open %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

			if (!nn)
				break;
			names = nn;
		}
		names[n] = strdup(e->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && replay_file(path) == 0)
			done++;
		free(names[i]);
	}
	free(names);
	return done;
}

/* One TAP point: the folder (or file) replayed without a finding; a
 * finding never gets here, it aborts. */
static void replay_point(const char *what, int must_exist)
{
	const char *shown = what;
	struct stat st;
	int n;

	if (!strncmp(what, FUZZ_DIR "/", strlen(FUZZ_DIR "/")))
		shown = what + strlen(FUZZ_DIR "/") - strlen("fuzz/");

	if (stat(what, &st) < 0) {
		if (!must_exist)
			return;
		tests++;
		failures++;
		printf("not ok %d - %s: %s\n", tests, shown, strerror(errno));
		return;
	}
	n = S_ISDIR(st.st_mode) ? replay_dir(what) : (replay_file(what) == 0 ? 1 : -1);
	tests++;
	if (n < 0 || (must_exist && n == 0)) {
		failures++;
		printf("not ok %d - %s: nothing replayed\n", tests, shown);
	} else {
		printf("ok %d - %s: %d input%s replayed without a finding\n", tests, shown, n,
		       n == 1 ? "" : "s");
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			replay_point(argv[i], 1);
	} else {
		replay_point(FUZZ_DIR "/corpus/" FUZZ_NAME, 1);
		replay_point(FUZZ_DIR "/crashes/" FUZZ_NAME, 0);
	}
	printf("1..%d\n", tests);
	return failures ? 1 : 0;
}
