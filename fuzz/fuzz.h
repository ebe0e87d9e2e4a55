/* fuzz.h — what the harnesses of fuzz/ share (fuzz/README.md): the entry
 * point libFuzzer calls, and which make check's replay (replay.c) calls
 * too; FUZZ_CHECK, an assertion that is a finding in either build; a
 * sandbox folder per harness, on memory-backed /dev/shm when there is one,
 * removed at exit; reading big-endian integers off the input.  Header-only
 * and static, so each harness compiles it once. */
#ifndef HEARTH_FUZZ_H
#define HEARTH_FUZZ_H

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken property: say which, then abort, which libFuzzer reports as a
 * crash (and keeps the input) and make check's replay as a failed test. */
__attribute__((noreturn, format(printf, 4, 5))) static inline void
fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\nfuzz: %s:%d: property broken: %s\nfuzz: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

#define FUZZ_CHECK(cond, ...) \
	do { \
		if (!(cond)) \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} while (0)

/* A path (or any string) that must fit: a finding of the harness when it
 * does not. */
#define FUZZ_PATH(dst, ...) \
	FUZZ_CHECK(util_snprintf((dst), sizeof(dst), NULL, __VA_ARGS__) >= 0, "%s: too long", #dst)

/* ---- the sandbox ----------------------------------------------------------- */

static char fuzz_sandbox_path[PATH_MAX];

static inline void fuzz_sandbox_remove(void)
{
	if (fuzz_sandbox_path[0])
		util_rm_rf(fuzz_sandbox_path, NULL);
	fuzz_sandbox_path[0] = '\0';
}

/* Removes the sandboxes of earlier runs of this harness that died
 * without cleaning up (a crash aborts): "hearth-fuzz-NAME-PID-XXXXXX"
 * whose PID is gone. */
static inline void fuzz_sandbox_sweep(const char *parent, const char *name)
{
	char prefix[128], path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(parent);

	if (!d)
		return;
	snprintf(prefix, sizeof(prefix), "hearth-fuzz-%s-", name);
	while ((e = readdir(d)) != NULL) {
		long pid;

		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		pid = strtol(e->d_name + strlen(prefix), NULL, 10);
		if (pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH)) {
			snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
			util_rm_rf(path, NULL);
		}
	}
	closedir(d);
}

/* The harness's own folder, made once per process: under /dev/shm (file
 * writes and fsync cost little there), else $TMPDIR or /tmp. */
static inline const char *fuzz_sandbox(const char *name)
{
	const char *parent = "/dev/shm";
	struct stat st;

	if (fuzz_sandbox_path[0])
		return fuzz_sandbox_path;
	if (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode) || access(parent, W_OK) < 0)
		parent = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	fuzz_sandbox_sweep(parent, name);
	snprintf(fuzz_sandbox_path, sizeof(fuzz_sandbox_path), "%s/hearth-fuzz-%s-%ld-XXXXXX",
		 parent, name, (long)getpid());
	FUZZ_CHECK(mkdtemp(fuzz_sandbox_path) != NULL, "mkdtemp %s: %s", fuzz_sandbox_path,
		   strerror(errno));
	atexit(fuzz_sandbox_remove);
	return fuzz_sandbox_path;
}

/* ---- reading the input ------------------------------------------------------- */

static inline uint32_t fuzz_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t fuzz_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* FNV-1a, to compare byte views that do not outlive a callback. */
static inline uint64_t fuzz_hash(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

#endif
