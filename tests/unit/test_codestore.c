/* Unit tests for codestore.c: content addressing, atomic writes, and the
 * zip unpacker's refusals.  The zips are built here with libarchive's
 * writer. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "codestore.h"
#include "error.h"
#include "function.h"
#include "tap.h"
#include "testfs.h"

static char dir[] = "/tmp/hearth-test-codestore-XXXXXX";
static char code_dir[PATH_MAX];
static const char *zip_passphrase; /* make_zip encrypts when set */

struct zentry {
	const char *name;
	const char *data; /* NULL for a folder */
	int symlink;	  /* data is the link target */
	size_t zeros;	  /* > 0: this many zero bytes instead of data */
};

/* Builds a deflated zip of the entries; returns a malloc'd buffer. */
static unsigned char *make_zip(const struct zentry *ents, size_t n, size_t *len)
{
	size_t cap = 8u << 20;
	unsigned char *out = malloc(cap);
	struct archive *a = archive_write_new();
	static char zero[1 << 20];

	*len = 0;
	archive_write_set_format_zip(a);
	archive_write_zip_set_compression_deflate(a);
	if (zip_passphrase &&
	    (archive_write_set_options(a, "zip:encryption=zipcrypt") != ARCHIVE_OK ||
	     archive_write_set_passphrase(a, zip_passphrase) != ARCHIVE_OK))
		printf("# zip writer cannot encrypt: %s\n", archive_error_string(a));
	if (archive_write_open_memory(a, out, cap, len) != ARCHIVE_OK) {
		printf("# zip writer: %s\n", archive_error_string(a));
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();

		archive_entry_set_pathname(e, ents[i].name);
		archive_entry_set_mtime(e, 1700000000, 0);
		if (ents[i].symlink) {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, ents[i].data);
		} else if (!ents[i].data && !ents[i].zeros) {
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, 0700);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0600);
			archive_entry_set_size(e, ents[i].zeros ? (la_int64_t)ents[i].zeros
								: (la_int64_t)strlen(ents[i].data));
		}
		if (archive_write_header(a, e) != ARCHIVE_OK)
			printf("# zip writer header %s: %s\n", ents[i].name,
			       archive_error_string(a));
		if (ents[i].zeros) {
			for (size_t left = ents[i].zeros; left > 0;) {
				size_t k = left < sizeof(zero) ? left : sizeof(zero);

				archive_write_data(a, zero, k);
				left -= k;
			}
		} else if (ents[i].data && !ents[i].symlink) {
			archive_write_data(a, ents[i].data, strlen(ents[i].data));
		}
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	return out;
}

/* Entries in the code folder (not counting . and ..); *tmp counts .tmp-*. */
static int count_entries(int *tmp)
{
	DIR *d = opendir(code_dir);
	struct dirent *de;
	int n = 0;

	*tmp = 0;
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		if (!strncmp(de->d_name, ".tmp-", 5))
			(*tmp)++;
	}
	closedir(d);
	return n;
}

static void sha_of(const char *a, size_t alen, const char *b, size_t blen, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, a, alen);
	EVP_DigestUpdate(ctx, b, blen);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static void test_put_file(struct codestore *cs)
{
	struct hearth_error *err = NULL;
	const char *src = "def handler(event, context):\n    return event\n";
	char sha[65] = "", sha2[65] = "", want[65], expect_path[PATH_MAX + 80];
	char *path = NULL, *path2 = NULL;
	struct buf b = BUF_INIT(1 << 20);
	struct stat st;

	is_int(codestore_put_file(cs, "main.py", src, strlen(src), sha, &path, &err), 0,
	       "put_file");
	sha_of("main.py", 8, src, strlen(src), want);
	is_str(sha, want, "the sha256 is of \"<filename>\\0<content>\"");
	snprintf(expect_path, sizeof(expect_path), "%s/%s", code_dir, want);
	is_str(path, expect_path, "the folder is <realpath>/code/<sha>");
	is_int(codestore_has_file(cs, sha, "main.py"), 1, "has_file finds it");
	is_int(codestore_has_file(cs, sha, "other.py"), 0, "has_file of another name is 0");
	is_int(codestore_has_file(cs, sha, "../main.py"), 0, "has_file refuses '..'");
	is_int(codestore_has_file(cs, "nothex", "main.py"), 0, "has_file refuses a bad sha");
	is_int(codestore_read_file(cs, sha, "main.py", &b, &err), 0, "read_file");
	is_str(b.ptr, src, "read_file round-trips the content");
	buf_release(&b);
	{
		char p[PATH_MAX + 160];

		snprintf(p, sizeof(p), "%s/main.py", path);
		ok(stat(p, &st) == 0 && (st.st_mode & 0777) == 0644, "the file is 0644");
		ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0755, "the folder is 0755");
	}
	{
		struct buf small = BUF_INIT(10);

		is_int(codestore_read_file(cs, sha, "main.py", &small, &err), -E2BIG,
		       "read_file is bounded by the buf's max");
		ok(small.len == 0, "and reads nothing then");
		hearth_error_clear(&err);
		buf_release(&small);
	}
	is_int(codestore_read_file(cs, sha, "nope.py", &b, &err), -ENOENT,
	       "read of a missing file");
	hearth_error_clear(&err);

	is_int(codestore_put_file(cs, "main.py", src, strlen(src), sha2, &path2, &err), 0,
	       "the same content again");
	is_str(sha2, sha, "gives the same sha");
	is_str(path2, path, "and the same folder");
	free(path2);
	path2 = NULL;
	is_int(codestore_put_file(cs, "index.js", src, strlen(src), sha2, &path2, &err), 0,
	       "the same content under another name");
	ok(strcmp(sha2, sha) != 0, "gives another sha");
	free(path2);
	path2 = NULL;

	is_int(codestore_put_file(cs, "a/b.py", "x", 1, sha2, &path2, &err), -EINVAL,
	       "a name with '/' is refused");
	hearth_error_clear(&err);
	is_int(codestore_put_file(cs, "..", "x", 1, sha2, &path2, &err), -EINVAL,
	       "'..' is refused");
	hearth_error_clear(&err);
	is_int(codestore_put_file(cs, ".", "x", 1, sha2, &path2, &err), -EINVAL, "'.' is refused");
	hearth_error_clear(&err);
	is_int(codestore_put_file(cs, "", "x", 1, sha2, &path2, &err), -EINVAL, "'' is refused");
	hearth_error_clear(&err);
	ok(path2 == NULL, "no path handed out on refusal");

	is_int(codestore_remove(cs, sha, &err), 0, "remove");
	is_int(codestore_has_file(cs, sha, "main.py"), 0, "the file is gone");
	ok(stat(path, &st) < 0 && errno == ENOENT, "the folder is gone");
	is_int(codestore_remove(cs, sha, &err), -ENOENT, "remove again is -ENOENT");
	hearth_error_clear(&err);
	is_int(codestore_remove(cs, "../../etc", &err), -EINVAL, "remove refuses a bad sha");
	hearth_error_clear(&err);
	free(path);
}

static void test_good_zip(struct codestore *cs)
{
	struct hearth_error *err = NULL;
	const struct zentry ents[] = {
		{ "main.py", "import lib.util\n", 0, 0 },
		{ "lib/", NULL, 0, 0 },
		{ "lib/util.py", "X = 1\n", 0, 0 },
		{ "deep/er/still/data.txt", "hello", 0, 0 }, /* no folder entries */
		{ "./dot.txt", "dot", 0, 0 },
	};
	size_t len;
	unsigned char *zip = make_zip(ents, sizeof(ents) / sizeof(ents[0]), &len);
	char sha[65] = "", sha2[65] = "", want[65];
	char *path = NULL, *path2 = NULL, p[PATH_MAX + 200];
	struct buf b = BUF_INIT(1 << 20);
	struct stat st;

	is_int(codestore_put_zip(cs, zip, len, sha, &path, &err), 0, "put_zip of a good zip");
	if (err)
		printf("# %s\n", err->msg);
	hearth_error_clear(&err);
	sha_of((const char *)zip, len, "", 0, want);
	is_str(sha, want, "the sha256 is of the zip bytes");
	is_int(codestore_has_file(cs, sha, "main.py"), 1, "main.py is there");
	is_int(codestore_has_file(cs, sha, "lib/util.py"), 1, "lib/util.py is there");
	is_int(codestore_has_file(cs, sha, "deep/er/still/data.txt"), 1,
	       "folders are created as needed");
	is_int(codestore_has_file(cs, sha, "dot.txt"), 1, "a './' prefix is dropped");
	is_int(codestore_has_file(cs, sha, "lib"), 0, "a folder is not a file");
	is_int(codestore_read_file(cs, sha, "lib/util.py", &b, &err), 0, "read a nested file");
	is_str(b.ptr, "X = 1\n", "with its content");
	buf_release(&b);
	snprintf(p, sizeof(p), "%s/lib/util.py", path ? path : "");
	ok(stat(p, &st) == 0 && (st.st_mode & 0777) == 0644,
	   "files are 0644 whatever the zip says");
	snprintf(p, sizeof(p), "%s/lib", path ? path : "");
	ok(stat(p, &st) == 0 && (st.st_mode & 0777) == 0755,
	   "folders are 0755 whatever the zip says");

	is_int(codestore_put_zip(cs, zip, len, sha2, &path2, &err), 0, "the same zip again");
	is_str(path2, path, "is the same folder");
	free(path);
	free(path2);
	free(zip);
}

/* Refused zips: the right status, and nothing left behind. */
static void refuse(struct codestore *cs, const struct zentry *ents, size_t n, const void *raw,
		   size_t rawlen, int want, const char *what)
{
	struct hearth_error *err = NULL;
	size_t len = rawlen;
	unsigned char *zip = raw ? NULL : make_zip(ents, n, &len);
	char sha[65] = "";
	char *path = NULL;
	int before, after, tmp_before, tmp_after;

	before = count_entries(&tmp_before);
	is_int(codestore_put_zip(cs, raw ? raw : zip, len, sha, &path, &err), want, "%s is refused",
	       what);
	printf("# %s\n", err ? err->msg : "(no message)");
	ok(err && !strncmp(err->msg, "zip: ", 5), "the message starts with 'zip: '");
	after = count_entries(&tmp_after);
	ok(before == after && tmp_after == 0, "nothing left behind (%d -> %d entries, %d temp)",
	   before, after, tmp_after);
	ok(path == NULL && sha[0] == '\0', "no path handed out");
	hearth_error_clear(&err);
	free(zip);
}

static void test_bad_zips(struct codestore *cs)
{
	const struct zentry abs_path[] = { { "main.py", "ok", 0, 0 }, { "/etc/evil", "x", 0, 0 } };
	const struct zentry dotdot[] = { { "main.py", "ok", 0, 0 }, { "../evil.py", "x", 0, 0 } };
	const struct zentry dotdot2[] = { { "a/../../evil.py", "x", 0, 0 } };
	const struct zentry link[] = { { "main.py", "ok", 0, 0 },
				       { "passwd", "/etc/passwd", 1, 0 } };
	const struct zentry bomb[] = { { "main.py", "ok", 0, 0 },
				       { "bomb.bin", NULL, 0, 60u << 20 } };
	const struct zentry dup[] = { { "main.py", "ok", 0, 0 }, { "main.py", "again", 0, 0 } };
	const struct zentry clash[] = { { "a", "file", 0, 0 }, { "a/b.py", "x", 0, 0 } };
	const struct zentry empty[] = { { "onlyafolder/", NULL, 0, 0 } };
	const char garbage[] = "this is not a zip archive at all, just some bytes";
	unsigned char truncated[64];

	refuse(cs, abs_path, 2, NULL, 0, -EINVAL, "an absolute path");
	refuse(cs, dotdot, 2, NULL, 0, -EINVAL, "a '..' entry");
	refuse(cs, dotdot2, 1, NULL, 0, -EINVAL, "a '..' in the middle");
	refuse(cs, link, 2, NULL, 0, -EINVAL, "a symlink");
	refuse(cs, bomb, 2, NULL, 0, -E2BIG, "a 60 MB zip bomb");
	refuse(cs, dup, 2, NULL, 0, -EINVAL, "a duplicate entry");
	refuse(cs, clash, 2, NULL, 0, -EINVAL, "a file used as a folder");
	refuse(cs, empty, 1, NULL, 0, -EINVAL, "a zip without files");
	refuse(cs, NULL, 0, garbage, sizeof(garbage), -EINVAL, "garbage bytes");
	zip_passphrase = "secret";
	refuse(cs, dup, 1, NULL, 0, -EINVAL, "an encrypted entry");
	zip_passphrase = NULL;
	{
		size_t len;
		const struct zentry one[] = { { "main.py", "print('hello world, long enough')", 0,
						0 } };
		unsigned char *zip = make_zip(one, 1, &len);

		memcpy(truncated, zip, sizeof(truncated));
		free(zip);
		refuse(cs, NULL, 0, truncated, sizeof(truncated), -EINVAL, "a truncated zip");
	}
}

static void test_leftovers(void)
{
	struct hearth_error *err = NULL;
	struct codestore *cs = NULL;
	char p[PATH_MAX + 64];
	int tmp;

	snprintf(p, sizeof(p), "%s/.tmp-abc123", code_dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/.tmp-abc123/sub", code_dir);
	mkdir(p, 0700);
	ok(testfs_write(p, "half.py", "half-writ") == 0,
	   "a leftover .tmp- folder (a crash mid-write)");
	is_int(codestore_open(&cs, dir, &err), 0, "reopen");
	count_entries(&tmp);
	is_int(tmp, 0, "open removed the leftover");
	codestore_close(cs);
	hearth_error_clear(&err);
}

int main(void)
{
	struct hearth_error *err = NULL;
	struct codestore *cs = NULL;
	char *real;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	real = realpath(dir, NULL);
	snprintf(code_dir, sizeof(code_dir), "%s/code", real);
	free(real);

	is_int(codestore_open(&cs, dir, &err), 0, "open creates DIR/code");
	if (!cs) {
		printf("# %s\n", err ? err->msg : "?");
		return 1;
	}
	test_put_file(cs);
	test_good_zip(cs);
	test_bad_zips(cs);
	codestore_close(cs);
	test_leftovers();

	testfs_remove(dir);
	return tap_done();
}
