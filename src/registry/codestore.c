/* codestore.c — see codestore.h.
 *
 * Every write goes to DIR/code/.tmp-XXXXXX (mkdtemp), is fsynced (files,
 * then every folder, bottom up) and only then renamed to DIR/code/<sha>,
 * and the code folder itself is fsynced so the rename is durable.  A crash
 * leaves at worst a .tmp-* folder, which codestore_open removes.  Removal
 * runs the other way: rename to a .tmp-* name first (atomic), then delete.
 *
 * All file work below the code folder goes through *at() calls relative to
 * a folder we created ourselves, with O_NOFOLLOW, so nothing in an archive
 * can make us write outside it. */
#include "codestore.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "function.h"
#include "log.h"
#include "util.h"

#define CS_TMP_PREFIX ".tmp-"
#define CS_ZIP_MAX_DEPTH 64 /* path components; bounds recursion and open fds */
#define CS_MAX_RELPATH 1024
/* Above this many files one syncfs() is cheaper than an fsync() each. */
#define CS_FSYNC_EACH_MAX 64

struct codestore {
	char *root; /* realpath of DIR/code */
	int root_fd;
	unsigned removals; /* names the doomed folders of codestore_remove */
};

/* ---- helpers ---- */

static int sha_valid(const char *sha)
{
	if (!sha || strlen(sha) != 64)
		return 0;
	for (const char *p = sha; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

static int name_valid(const char *name, size_t len)
{
	if (len == 0 || len > NAME_MAX)
		return 0;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	return memchr(name, '/', len) == NULL;
}

/* A relative path made of plain names: no leading '/', no '.' or '..'
 * component, no empty component, at most CS_ZIP_MAX_DEPTH deep. */
static int relpath_valid(const char *p)
{
	size_t depth = 0;

	if (!p || !*p || *p == '/' || strlen(p) > CS_MAX_RELPATH)
		return 0;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if (!name_valid(p, len) || ++depth > CS_ZIP_MAX_DEPTH)
			return 0;
		if (!slash)
			break;
		p = slash + 1;
		if (!*p)
			return 0;
	}
	return 1;
}

static int has_dotdot(const char *p)
{
	for (;;) {
		const char *slash = strchr(p, '/');

		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
			return 1;
		if (!slash)
			return 0;
		p = slash + 1;
	}
}

static void hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int sha256_hex(const void *a, size_t alen, const void *b, size_t blen, char out[65],
		      struct hearth_error **err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (!ctx)
		return hearth_error_make(err, ENOMEM, "out of memory");
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	     (alen == 0 || EVP_DigestUpdate(ctx, a, alen)) &&
	     (blen == 0 || EVP_DigestUpdate(ctx, b, blen)) && EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	if (!ok || mdlen != 32)
		return hearth_error_make(err, EIO, "sha256 failed");
	hex(md, 32, out);
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* fsync every folder below fd (bottom up), then fd; chmod them 0755. */
static int sync_dirs(int fd, int depth)
{
	DIR *d;
	struct dirent *de;
	int dup_fd, r = 0;

	if (depth > CS_ZIP_MAX_DEPTH + 2)
		return -ELOOP;
	dup_fd = dup(fd);
	if (dup_fd < 0)
		return -errno;
	d = fdopendir(dup_fd);
	if (!d) {
		r = -errno;
		close(dup_fd);
		return r;
	}
	rewinddir(d);
	while (r == 0 && (de = readdir(d)) != NULL) {
		struct stat st;
		int sub;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			break;
		}
		if (!S_ISDIR(st.st_mode))
			continue;
		sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			r = -errno;
			break;
		}
		r = sync_dirs(sub, depth + 1);
		close(sub);
	}
	closedir(d);
	if (r == 0 && fchmod(fd, 0755) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	return r;
}

/* ---- open / close ---- */

static void remove_leftovers(struct codestore *cs)
{
	int fd = openat(cs->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		int r;

		if (strncmp(de->d_name, CS_TMP_PREFIX, strlen(CS_TMP_PREFIX)) != 0)
			continue;
		r = util_rm_tree_at(cs->root_fd, de->d_name, CS_ZIP_MAX_DEPTH + 2);
		if (r < 0)
			log_warn("codestore: removing leftover %s/%s: %s", cs->root, de->d_name,
				 strerror(-r));
		else
			log_info("codestore: removed leftover %s/%s (an interrupted write)",
				 cs->root, de->d_name);
	}
	closedir(d);
}

int codestore_open(struct codestore **out, const char *dir, struct hearth_error **err)
{
	char path[PATH_MAX];
	struct codestore *cs;
	int r;

	r = util_snprintf(path, sizeof(path), err, "%s/code", dir);
	if (r < 0)
		return r;
	r = util_mkdir_p(path, 0, err);
	if (r < 0)
		return r;
	cs = calloc(1, sizeof(*cs));
	if (!cs)
		return hearth_error_make(err, ENOMEM, "out of memory");
	cs->root_fd = -1;
	cs->root = realpath(path, NULL);
	if (!cs->root) {
		r = hearth_error_errno(err, errno, "realpath %s", path);
		goto fail;
	}
	cs->root_fd = open(cs->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cs->root_fd < 0) {
		r = hearth_error_errno(err, errno, "open %s", cs->root);
		goto fail;
	}
	remove_leftovers(cs);
	*out = cs;
	return 0;
fail:
	codestore_close(cs);
	return r;
}

void codestore_close(struct codestore *cs)
{
	if (!cs)
		return;
	if (cs->root_fd >= 0)
		close(cs->root_fd);
	free(cs->root);
	free(cs);
}

/* ---- the write transaction: temp folder -> rename ---- */

struct cs_tmp {
	char name[32]; /* ".tmp-XXXXXX", relative to root */
	int fd;	       /* the temp folder */
	size_t files;
};

static int tmp_begin(struct codestore *cs, struct cs_tmp *t, struct hearth_error **err)
{
	char path[PATH_MAX];
	char *base;

	t->fd = -1;
	t->files = 0;
	if (util_snprintf(path, sizeof(path), err, "%s/" CS_TMP_PREFIX "XXXXXX", cs->root) < 0)
		return -ENAMETOOLONG;
	if (!mkdtemp(path))
		return hearth_error_errno(err, errno, "mkdtemp in %s", cs->root);
	base = strrchr(path, '/') + 1;
	snprintf(t->name, sizeof(t->name), "%s", base);
	t->fd = openat(cs->root_fd, t->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (t->fd < 0) {
		int e = errno;

		unlinkat(cs->root_fd, t->name, AT_REMOVEDIR);
		return hearth_error_errno(err, e, "open %s", path);
	}
	return 0;
}

static void tmp_abort(struct codestore *cs, struct cs_tmp *t)
{
	int r;

	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (!t->name[0])
		return;
	r = util_rm_tree_at(cs->root_fd, t->name, CS_ZIP_MAX_DEPTH + 2);
	if (r < 0)
		log_warn("codestore: removing %s/%s: %s", cs->root, t->name, strerror(-r));
	t->name[0] = '\0';
}

static int make_path_out(struct codestore *cs, const char *sha, char **path_out,
			 struct hearth_error **err)
{
	if (!path_out)
		return 0;
	if (asprintf(path_out, "%s/%s", cs->root, sha) < 0) {
		*path_out = NULL;
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	return 0;
}

/* 1 when the final folder is already there. */
static int exists(struct codestore *cs, const char *sha)
{
	struct stat st;

	return fstatat(cs->root_fd, sha, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* Makes the temp folder durable and renames it to sha.  When sha is
 * already there (the same content, stored by an earlier call), the temp
 * folder is discarded. */
static int tmp_commit(struct codestore *cs, struct cs_tmp *t, const char *sha,
		      struct hearth_error **err)
{
	int r;

	if (t->files > CS_FSYNC_EACH_MAX && syncfs(t->fd) < 0) {
		r = hearth_error_errno(err, errno, "syncfs %s", cs->root);
		goto fail;
	}
	r = sync_dirs(t->fd, 0);
	if (r < 0) {
		r = hearth_error_errno(err, -r, "syncing %s/%s", cs->root, t->name);
		goto fail;
	}
	close(t->fd);
	t->fd = -1;
	if (renameat2(cs->root_fd, t->name, cs->root_fd, sha, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY) {
			tmp_abort(cs, t);
			return 0;
		}
		if (errno != EINVAL && errno != ENOSYS) {
			r = hearth_error_errno(err, errno, "rename %s/%s", cs->root, t->name);
			goto fail;
		}
		/* No RENAME_NOREPLACE on this file system: rename() onto a
		 * non-empty folder fails, which is what we need. */
		if (renameat(cs->root_fd, t->name, cs->root_fd, sha) < 0) {
			if (errno == EEXIST || errno == ENOTEMPTY) {
				tmp_abort(cs, t);
				return 0;
			}
			r = hearth_error_errno(err, errno, "rename %s/%s", cs->root, t->name);
			goto fail;
		}
	}
	t->name[0] = '\0';
	if (fsync(cs->root_fd) < 0)
		return hearth_error_errno(err, errno, "fsync %s", cs->root);
	return 0;
fail:
	tmp_abort(cs, t);
	return r;
}

/* Creates dirfd/name (exclusive) with data; fsynced when few files. */
static int write_file_at(struct cs_tmp *t, int dirfd, const char *name, const void *data,
			 size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	int r;

	if (fd < 0)
		return -errno;
	r = write_all(fd, data, len);
	if (r == 0 && fchmod(fd, 0644) < 0)
		r = -errno;
	if (r == 0 && t->files < CS_FSYNC_EACH_MAX && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	t->files++;
	return r;
}

int codestore_put_file(struct codestore *cs, const char *filename, const void *data, size_t len,
		       char sha_out[65], char **path_out, struct hearth_error **err)
{
	struct cs_tmp t = { .fd = -1 };
	char sha[65];
	int r;

	if (!filename || !name_valid(filename, strlen(filename)))
		return hearth_error_make(err, EINVAL, "'%s' is not a plain file name",
					 filename ? filename : "");
	if (len > FN_CODE_MAX_BYTES)
		return hearth_error_make(err, E2BIG, "code is over %u MB", FN_CODE_MAX_BYTES >> 20);
	r = sha256_hex(filename, strlen(filename) + 1, data, len, sha, err);
	if (r < 0)
		return r;
	if (!exists(cs, sha)) {
		r = tmp_begin(cs, &t, err);
		if (r < 0)
			return r;
		r = write_file_at(&t, t.fd, filename, data, len);
		if (r < 0) {
			hearth_error_errno(err, -r, "writing %s/%s/%s", cs->root, t.name, filename);
			tmp_abort(cs, &t);
			return r;
		}
		r = tmp_commit(cs, &t, sha, err);
		if (r < 0)
			return r;
	}
	r = make_path_out(cs, sha, path_out, err);
	if (r < 0)
		return r;
	memcpy(sha_out, sha, 65);
	return 0;
}

/* ---- zip ---- */

/* Opens (creating as needed) the folders of relpath's parent below base;
 * returns a folder fd (base itself is dup'ed) and sets *leaf. */
static int open_parent(int base, char *relpath, const char **leaf)
{
	int fd = dup(base);
	char *p = relpath, *slash;

	if (fd < 0)
		return -errno;
	while ((slash = strchr(p, '/')) != NULL) {
		int sub;

		*slash = '\0';
		if (mkdirat(fd, p, 0755) < 0 && errno != EEXIST) {
			int e = errno;

			*slash = '/';
			close(fd);
			return -e;
		}
		sub = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		*slash = '/';
		close(fd);
		if (sub < 0)
			return errno == ENOTDIR || errno == ELOOP ? -ENOTDIR : -errno;
		fd = sub;
		p = slash + 1;
	}
	*leaf = p;
	return fd;
}

static int parent_error(int r, const char *relpath, struct hearth_error **err)
{
	if (r == -ENOTDIR)
		return hearth_error_make(err, EINVAL,
					 "zip: entry '%s' needs a folder where there is a file",
					 relpath);
	return hearth_error_errno(err, -r, "zip: entry '%s'", relpath);
}

/* Reads the current entry's data into a new file, counting every byte
 * against the archive's budget (headers may lie). */
static int unpack_file(struct archive *a, struct cs_tmp *t, char *relpath, size_t *total,
		       struct hearth_error **err)
{
	char block[64 * 1024];
	const char *leaf;
	int dfd, fd, r = 0;

	dfd = open_parent(t->fd, relpath, &leaf);
	if (dfd < 0)
		return parent_error(dfd, relpath, err);
	fd = openat(dfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;

		close(dfd);
		if (e == EEXIST)
			return hearth_error_make(err, EINVAL, "zip: entry '%s' appears twice",
						 relpath);
		return hearth_error_errno(err, e, "zip: entry '%s'", relpath);
	}
	for (;;) {
		la_ssize_t n = archive_read_data(a, block, sizeof(block));

		if (n == 0)
			break;
		if (n < 0) {
			r = hearth_error_make(err, EINVAL, "zip: entry '%s': %s", relpath,
					      archive_error_string(a) ? archive_error_string(a)
								      : "read error");
			goto out;
		}
		*total += (size_t)n;
		if (*total > FN_CODE_MAX_BYTES) {
			r = hearth_error_make(err, E2BIG, "zip: over %u MB unpacked",
					      FN_CODE_MAX_BYTES >> 20);
			goto out;
		}
		r = write_all(fd, block, (size_t)n);
		if (r < 0) {
			r = hearth_error_errno(err, -r, "zip: writing '%s'", relpath);
			goto out;
		}
	}
	if (fchmod(fd, 0644) < 0 || (t->files < CS_FSYNC_EACH_MAX && fsync(fd) < 0))
		r = hearth_error_errno(err, errno, "zip: writing '%s'", relpath);
out:
	if (close(fd) < 0 && r == 0)
		r = hearth_error_errno(err, errno, "zip: writing '%s'", relpath);
	close(dfd);
	t->files++;
	return r;
}

static int unpack_dir(struct cs_tmp *t, char *relpath, struct hearth_error **err)
{
	const char *leaf;
	int dfd, r = 0;

	dfd = open_parent(t->fd, relpath, &leaf);
	if (dfd < 0)
		return parent_error(dfd, relpath, err);
	if (mkdirat(dfd, leaf, 0755) < 0) {
		struct stat st;

		if (errno != EEXIST || fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			r = hearth_error_make(err, EINVAL, "zip: entry '%s/' clashes with a file",
					      relpath);
	}
	close(dfd);
	return r;
}

/* Unpacks every entry into the temp folder. */
static int unpack(struct archive *a, struct cs_tmp *t, struct hearth_error **err)
{
	struct archive_entry *e;
	size_t entries = 0, total = 0;
	char relpath[CS_MAX_RELPATH + 2];
	int rc, r;

	for (;;) {
		const char *name;
		size_t len;
		mode_t type;

		rc = archive_read_next_header(a, &e);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc < ARCHIVE_WARN)
			return hearth_error_make(err, EINVAL, "zip: %s",
						 archive_error_string(a) ? archive_error_string(a)
									 : "not a zip archive");
		if (++entries > FN_ZIP_ENTRIES_MAX)
			return hearth_error_make(err, E2BIG, "zip: more than %d entries",
						 FN_ZIP_ENTRIES_MAX);
		name = archive_entry_pathname(e);
		if (!name)
			name = archive_entry_pathname_utf8(e);
		if (!name || !*name)
			return hearth_error_make(err, EINVAL, "zip: an entry has no name");
		if (archive_entry_is_encrypted(e))
			return hearth_error_make(err, EINVAL, "zip: entry '%s' is encrypted", name);
		if (archive_entry_hardlink(e))
			return hearth_error_make(err, EINVAL, "zip: entry '%s' is a link", name);
		type = archive_entry_filetype(e);
		if (type == AE_IFLNK)
			return hearth_error_make(err, EINVAL, "zip: entry '%s' is a link", name);
		if (type != AE_IFREG && type != AE_IFDIR)
			return hearth_error_make(err, EINVAL,
						 "zip: entry '%s' is not a file or a folder", name);
		if (name[0] == '/')
			return hearth_error_make(err, EINVAL, "zip: entry '%s' is an absolute path",
						 name);
		/* Normalise: drop "./" prefixes and a folder's trailing '/'. */
		while (name[0] == '.' && name[1] == '/')
			name += 2;
		len = strlen(name);
		if (len > CS_MAX_RELPATH)
			return hearth_error_make(err, EINVAL, "zip: entry name too long");
		memcpy(relpath, name, len + 1);
		while (len > 0 && relpath[len - 1] == '/')
			relpath[--len] = '\0';
		if (len == 0 && type == AE_IFDIR)
			continue;
		if (has_dotdot(relpath))
			return hearth_error_make(err, EINVAL,
						 "zip: entry '%s' has a '..' component", name);
		if (!relpath_valid(relpath))
			return hearth_error_make(err, EINVAL, "zip: entry '%s' is not a valid path",
						 name);
		r = type == AE_IFDIR ? unpack_dir(t, relpath, err)
				     : unpack_file(a, t, relpath, &total, err);
		if (r < 0)
			return r;
	}
	if (t->files == 0)
		return hearth_error_make(err, EINVAL, "zip: the archive holds no files");
	return 0;
}

int codestore_put_zip(struct codestore *cs, const void *zip, size_t len, char sha_out[65],
		      char **path_out, struct hearth_error **err)
{
	struct cs_tmp t = { .fd = -1 };
	struct archive *a = NULL;
	char sha[65];
	int r;

	if (len == 0)
		return hearth_error_make(err, EINVAL, "zip: empty body");
	r = sha256_hex(zip, len, NULL, 0, sha, err);
	if (r < 0)
		return r;
	if (!exists(cs, sha)) {
		a = archive_read_new();
		if (!a)
			return hearth_error_make(err, ENOMEM, "out of memory");
		if (archive_read_support_format_zip(a) != ARCHIVE_OK ||
		    archive_read_open_memory(a, zip, len) != ARCHIVE_OK) {
			r = hearth_error_make(err, EINVAL, "zip: %s",
					      archive_error_string(a) ? archive_error_string(a)
								      : "cannot read");
			goto out;
		}
		r = tmp_begin(cs, &t, err);
		if (r < 0)
			goto out;
		r = unpack(a, &t, err);
		if (r < 0) {
			tmp_abort(cs, &t);
			goto out;
		}
		r = tmp_commit(cs, &t, sha, err);
		if (r < 0)
			goto out;
	}
	r = make_path_out(cs, sha, path_out, err);
	if (r < 0)
		goto out;
	memcpy(sha_out, sha, 65);
out:
	if (a)
		archive_read_free(a);
	return r;
}

/* ---- reading and removal ---- */

static int open_code_file(struct codestore *cs, const char *sha, const char *relpath,
			  struct stat *st)
{
	char path[CS_MAX_RELPATH + 80];
	int fd;

	if (!sha_valid(sha) || !relpath_valid(relpath))
		return -EINVAL;
	if (snprintf(path, sizeof(path), "%s/%s", sha, relpath) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = openat(cs->root_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

int codestore_has_file(struct codestore *cs, const char *sha, const char *relpath)
{
	struct stat st;
	int fd = open_code_file(cs, sha, relpath, &st);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

int codestore_read_file(struct codestore *cs, const char *sha, const char *relpath, struct buf *out,
			struct hearth_error **err)
{
	char block[16 * 1024];
	struct stat st;
	int fd, r = 0;

	fd = open_code_file(cs, sha, relpath, &st);
	if (fd == -EINVAL || fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP)
		return hearth_error_make(err, ENOENT, "no file '%s' in code %s",
					 relpath ? relpath : "", sha ? sha : "");
	if (fd < 0)
		return hearth_error_errno(err, -fd, "code %s: %s", sha, relpath);
	if ((uint64_t)st.st_size > out->max - out->len) {
		r = hearth_error_make(err, E2BIG, "code %s: %s is over %zu bytes", sha, relpath,
				      out->max - out->len);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, block, sizeof(block));

		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = hearth_error_errno(err, errno, "reading code %s: %s", sha, relpath);
			goto out;
		}
		r = buf_append(out, block, (size_t)n, err);
		if (r < 0)
			goto out;
	}
out:
	close(fd);
	return r;
}

/* The regular files' bytes under parent/name, never following a link;
 * -errno, or -ELOOP deeper than depth. */
static int64_t tree_size_at(int parent, const char *name, int depth)
{
	struct dirent *e;
	int64_t total = 0;
	DIR *d;
	int fd;

	if (depth < 0)
		return -ELOOP;
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		int saved = errno;

		close(fd);
		return -saved;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		int64_t sub;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			total += st.st_size;
		} else if (S_ISDIR(st.st_mode)) {
			if ((sub = tree_size_at(dirfd(d), e->d_name, depth - 1)) < 0) {
				closedir(d);
				return sub;
			}
			total += sub;
		}
	}
	closedir(d);
	return total;
}

int codestore_size(struct codestore *cs, const char *sha, int64_t *bytes, struct hearth_error **err)
{
	int64_t n;

	if (!sha_valid(sha))
		return hearth_error_make(err, EINVAL, "'%s' is not a sha256", sha ? sha : "");
	n = tree_size_at(cs->root_fd, sha, CS_ZIP_MAX_DEPTH + 2);
	if (n < 0)
		return hearth_error_errno(err, (int)-n, "code %s", sha);
	*bytes = n;
	return 0;
}

int codestore_remove(struct codestore *cs, const char *sha, struct hearth_error **err)
{
	char doomed[64];
	int r;

	if (!sha_valid(sha))
		return hearth_error_make(err, EINVAL, "'%s' is not a sha256", sha ? sha : "");
	/* Rename first, so the folder disappears atomically under its name and
	 * a crash halfway through the delete leaves only a .tmp-* leftover. */
	snprintf(doomed, sizeof(doomed), CS_TMP_PREFIX "rm-%ld-%u", (long)getpid(), cs->removals++);
	if (renameat(cs->root_fd, sha, cs->root_fd, doomed) < 0) {
		if (errno == ENOENT)
			return hearth_error_make(err, ENOENT, "no code %s", sha);
		return hearth_error_errno(err, errno, "rename %s/%s", cs->root, sha);
	}
	fsync(cs->root_fd);
	r = util_rm_tree_at(cs->root_fd, doomed, CS_ZIP_MAX_DEPTH + 2);
	if (r < 0)
		log_warn("codestore: removing %s/%s: %s (removed on next start)", cs->root, doomed,
			 strerror(-r));
	return 0;
}
