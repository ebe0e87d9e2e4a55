/* testfs.h — the files and folders the C tests make for themselves: a
 * small file written whole, and the removal of a test's temporary folder.
 * Header-only and libc-only, like tap.h. */
#ifndef HEARTH_TESTFS_H
#define HEARTH_TESTFS_H

#include <stdio.h>
#include <stdlib.h>

/* Writes text to DIR/NAME; 0, or -1 with a TAP diagnostic. */
static inline int testfs_write(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f = NULL;
	int rc = -1;
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

	if (n > 0 && (size_t)n < sizeof(path) && (f = fopen(path, "w")) != NULL) {
		rc = fputs(text, f) < 0 ? -1 : 0;
		if (fclose(f) != 0)
			rc = -1;
	}
	if (rc < 0)
		printf("# could not write %s/%s\n", dir, name);
	return rc;
}

/* rm -rf DIR (a folder this test made with mkdtemp); a diagnostic, not a
 * failure, when it cannot. */
static inline void testfs_remove(const char *dir)
{
	char cmd[4200];
	int n = snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);

	if (n < 0 || (size_t)n >= sizeof(cmd) || system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

#endif
