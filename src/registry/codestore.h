/* codestore.h — content-addressed function code under DIR/code/<sha256>/.
 *
 * A code folder is written under a temporary name and renamed into place,
 * so a crash never leaves a half-written folder under its final name; a
 * folder, once there, is never changed.  Zip archives are unpacked with
 * libarchive, refusing absolute paths, ".." entries, links, device files
 * and more than FN_CODE_MAX_BYTES unpacked. */
#ifndef HEARTH_CODESTORE_H
#define HEARTH_CODESTORE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

struct codestore;

/* dir is the data dir; the store lives in dir/code (created as needed) and
 * every path it hands out starts with realpath(dir/code).  Removes the
 * .tmp-* leftovers of an interrupted write. */
int codestore_open(struct codestore **out, const char *dir, struct hearth_error **err);
void codestore_close(struct codestore *cs);

/* Stores one source file under the name `filename` (e.g. "main.py").
 * The sha256 is of "<filename>\0<content>".  Fills sha_out (65 bytes) and
 * *path_out (malloc'd absolute folder path). */
int codestore_put_file(struct codestore *cs, const char *filename, const void *data, size_t len,
		       char sha_out[65], char **path_out, struct hearth_error **err);
/* Stores a zip archive's contents; the sha256 is of the zip bytes.
 * Bad archives are -EINVAL with the reason. */
int codestore_put_zip(struct codestore *cs, const void *zip, size_t len, char sha_out[65],
		      char **path_out, struct hearth_error **err);
/* 1 when <sha>/<relpath> is a regular file, 0 when not. */
int codestore_has_file(struct codestore *cs, const char *sha, const char *relpath);
/* Reads <sha>/<relpath> into out (bounded by out->max); -ENOENT, -E2BIG. */
int codestore_read_file(struct codestore *cs, const char *sha, const char *relpath, struct buf *out,
			struct hearth_error **err);
/* The bytes of the regular files under <sha>/ (what a code folder holds
 * unpacked, links and special files aside). */
int codestore_size(struct codestore *cs, const char *sha, int64_t *bytes,
		   struct hearth_error **err);
/* Removes a folder no function refers to any more. */
int codestore_remove(struct codestore *cs, const char *sha, struct hearth_error **err);

#endif
