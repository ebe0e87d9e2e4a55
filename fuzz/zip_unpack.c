/* zip_unpack.c — fuzz harness: a zip upload through the code store's zip
 * path (codestore_put_zip, src/registry/codestore.c), unpacked into a data
 * dir of its own per input (a sandbox folder on /dev/shm), then removed.
 * An input is a zip, or lines describing one (zip_of_lines), which lets
 * the fuzzer work on entry names and kinds directly.
 *
 * The process works from an empty folder beside the data dir, so a write
 * that escapes through a relative path lands where it is seen too.  Beyond
 * not crashing:
 *   - nothing lands outside the code folder: after every input the run's
 *     folder holds the working folder (still empty), the data dir, its
 *     code folder and, after a success, one folder named by the zip's
 *     sha256, and nothing else (no link, no device, no leftover .tmp-*);
 *   - what was unpacked is what the archive lists: each of its regular
 *     entries (read again with a reader of our own) as a file of the same
 *     size at its path, no file that is not an entry, no folder that is
 *     not an entry or the parent of one; modes 0644 and 0755;
 *     within FN_CODE_MAX_BYTES and FN_ZIP_ENTRIES_MAX;
 *   - a refusal is -EINVAL or -E2BIG with a "zip: " message, and leaves
 *     the code folder empty;
 *   - storing the same zip again answers the same folder, and removing it
 *     leaves the code folder empty. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounds.h"
#include "codestore.h"
#include "fuzz.h"
#include "log.h"

/* ---- what the archive lists, read with a reader of our own ------------------ */

struct listing {
	char **files;  /* normalised paths of the regular entries */
	size_t *sizes; /* their unpacked sizes */
	size_t nfiles;
	char **dirs; /* of the folder entries */
	size_t ndirs;
};

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->nfiles; i++)
		free(l->files[i]);
	for (size_t i = 0; i < l->ndirs; i++)
		free(l->dirs[i]);
	free(l->files);
	free(l->sizes);
	free(l->dirs);
	memset(l, 0, sizeof(*l));
}

/* The name as the code store takes it: "./" prefixes and trailing '/'
 * dropped. */
static char *normalise(const char *name)
{
	char *s;
	size_t len;

	while (name[0] == '.' && name[1] == '/')
		name += 2;
	s = strdup(name);
	FUZZ_CHECK(s != NULL, "out of memory");
	len = strlen(s);
	while (len > 0 && s[len - 1] == '/')
		s[--len] = '\0';
	return s;
}

static void list_archive(const uint8_t *data, size_t size, struct listing *l)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char block[16384];

	memset(l, 0, sizeof(*l));
	FUZZ_CHECK(a && archive_read_support_format_zip(a) == ARCHIVE_OK &&
			   archive_read_open_memory(a, data, size) == ARCHIVE_OK,
		   "the listing cannot open an archive the store took");
	for (;;) {
		int rc = archive_read_next_header(a, &e);
		const char *name;
		size_t n = 0;
		la_ssize_t r;

		if (rc == ARCHIVE_EOF)
			break;
		FUZZ_CHECK(rc >= ARCHIVE_WARN,
			   "the listing cannot read a header the store read: %s",
			   archive_error_string(a) ? archive_error_string(a) : "");
		name = archive_entry_pathname(e);
		if (!name)
			name = archive_entry_pathname_utf8(e);
		FUZZ_CHECK(name != NULL, "an entry without a name was unpacked");
		if (archive_entry_filetype(e) == AE_IFDIR) {
			l->dirs = realloc(l->dirs, (l->ndirs + 1) * sizeof(*l->dirs));
			FUZZ_CHECK(l->dirs != NULL, "out of memory");
			l->dirs[l->ndirs++] = normalise(name);
			continue;
		}
		while ((r = archive_read_data(a, block, sizeof(block))) > 0)
			n += (size_t)r;
		FUZZ_CHECK(r == 0, "the listing cannot read an entry the store unpacked: %s",
			   archive_error_string(a) ? archive_error_string(a) : "");
		l->files = realloc(l->files, (l->nfiles + 1) * sizeof(*l->files));
		l->sizes = realloc(l->sizes, (l->nfiles + 1) * sizeof(*l->sizes));
		FUZZ_CHECK(l->files && l->sizes, "out of memory");
		l->files[l->nfiles] = normalise(name);
		l->sizes[l->nfiles++] = n;
	}
	archive_read_free(a);
}

static bool listed(char **names, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], path))
			return true;
	return false;
}

/* A folder is an entry or the parent of one. */
static bool folder_listed(const struct listing *l, const char *path)
{
	size_t len = strlen(path);

	if (listed(l->dirs, l->ndirs, path))
		return true;
	for (size_t i = 0; i < l->nfiles; i++)
		if (!strncmp(l->files[i], path, len) && l->files[i][len] == '/')
			return true;
	for (size_t i = 0; i < l->ndirs; i++)
		if (!strncmp(l->dirs[i], path, len) && l->dirs[i][len] == '/')
			return true;
	return false;
}

/* ---- what is on disk ---------------------------------------------------------- */

struct tally {
	size_t files, bytes;
};

/* Every entry below dir (rel is its path below the unpacked folder) is a
 * plain file or folder the archive lists. */
static void walk_unpacked(const char *dir, const char *rel, int depth, const struct listing *l,
			  struct tally *t)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	FUZZ_CHECK(d != NULL, "opendir %s: %s", dir, strerror(errno));
	FUZZ_CHECK(depth <= 64, "unpacked %d folders deep", depth);
	while ((e = readdir(d)) != NULL) {
		char path[8192], sub[8192];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		FUZZ_PATH(path, "%s/%s", dir, e->d_name);
		FUZZ_PATH(sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		FUZZ_CHECK(lstat(path, &st) == 0, "lstat %s", path);
		if (S_ISDIR(st.st_mode)) {
			FUZZ_CHECK((st.st_mode & 07777) == 0755, "folder %s has mode %o", sub,
				   st.st_mode & 07777);
			FUZZ_CHECK(folder_listed(l, sub), "folder %s is not in the archive", sub);
			walk_unpacked(path, sub, depth + 1, l, t);
			continue;
		}
		FUZZ_CHECK(S_ISREG(st.st_mode), "%s is neither a file nor a folder (mode %o)", sub,
			   st.st_mode);
		FUZZ_CHECK((st.st_mode & 07777) == 0644, "file %s has mode %o", sub,
			   st.st_mode & 07777);
		t->files++;
		t->bytes += (size_t)st.st_size;
		for (size_t i = 0; i < l->nfiles; i++)
			if (!strcmp(l->files[i], sub)) {
				FUZZ_CHECK(l->sizes[i] == (size_t)st.st_size,
					   "file %s has %lld bytes, its entry %zu", sub,
					   (long long)st.st_size, l->sizes[i]);
				goto next;
			}
		fuzz_fail(__FILE__, __LINE__, "unpacked files are entries",
			  "file %s is not in the archive", sub);
next:;
	}
	closedir(d);
}

/* The names in dir, but for "." and ".."; how many, the first in *one. */
static size_t names_in(const char *dir, char *one, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	FUZZ_CHECK(d != NULL, "opendir %s: %s", dir, strerror(errno));
	one[0] = '\0';
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n++ == 0)
			snprintf(one, size, "%s", e->d_name);
	}
	closedir(d);
	return n;
}

/* The run folder holds cwd/ (empty) and data/code/, and in code/ the one
 * folder `sha` (or nothing when sha is NULL). */
static void check_sandbox(const char *run, const char *sha)
{
	char path[4096], one[256];
	size_t n;

	n = names_in(run, one, sizeof(one));
	FUZZ_CHECK(n == 2, "the run folder holds %zu entries (%s, ...)", n, one);
	FUZZ_PATH(path, "%s/cwd", run);
	FUZZ_CHECK(names_in(path, one, sizeof(one)) == 0, "written into the working folder: %s",
		   one);
	FUZZ_PATH(path, "%s/data", run);
	n = names_in(path, one, sizeof(one));
	FUZZ_CHECK(n == 1 && !strcmp(one, "code"), "written beside the code folder: %s", one);
	FUZZ_PATH(path, "%s/data/code", run);
	n = names_in(path, one, sizeof(one));
	if (sha)
		FUZZ_CHECK(n == 1 && !strcmp(one, sha), "the code folder holds %zu entries (%s)", n,
			   one);
	else
		FUZZ_CHECK(n == 0, "a refused zip left %s in the code folder", one);
}

static void sha256_hex(const uint8_t *data, size_t size, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	FUZZ_CHECK(EVP_Digest(data, size, md, &len, EVP_sha256(), NULL) && len == 32, "sha256");
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ---- archives described in lines ------------------------------------------------ */

struct out {
	uint8_t *p;
	size_t len, cap;
};

static la_ssize_t out_write(struct archive *a, void *arg, const void *buf, size_t n)
{
	struct out *o = arg;

	(void)a;
	if (o->cap - o->len < n) {
		while (o->cap - o->len < n)
			o->cap = o->cap ? o->cap * 2 : 65536;
		o->p = realloc(o->p, o->cap);
		FUZZ_CHECK(o->p != NULL, "out of memory");
	}
	memcpy(o->p + o->len, buf, n);
	o->len += n;
	return (la_ssize_t)n;
}

/* An input that is not a zip ("PK" first) describes one, a line an entry,
 * so the fuzzer works on names and kinds rather than on zip's layout:
 *
 *     f NAME<TAB>CONTENT   a file          s NAME<TAB>TARGET   a symlink
 *     d NAME               a folder        p NAME              a fifo
 *     F NAME<TAB>N         a file of N (at most 1 MiB) 'x's, deflated
 *
 * NAME is any bytes but newline and tab; a line of another kind is
 * skipped.  The zip is written with libarchive. */
static uint8_t *zip_of_lines(const uint8_t *data, size_t size, size_t *len)
{
	char *text = strndup((const char *)data, size), *line, *save = NULL;
	struct archive *a = archive_write_new();
	struct out o = { NULL, 0, 0 };

	FUZZ_CHECK(text && a && archive_write_set_format_zip(a) == ARCHIVE_OK &&
			   archive_write_open(a, &o, NULL, out_write, NULL) == ARCHIVE_OK,
		   "the zip writer");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct archive_entry *e;
		char *tab, *body = NULL;
		size_t n = 0;
		bool big = false;

		if (strlen(line) < 3 || line[1] != ' ' || !strchr("fFdsp", line[0]))
			continue;
		tab = strchr(line + 2, '\t');
		if (tab) {
			*tab = '\0';
			body = tab + 1;
			n = strlen(body);
		}
		e = archive_entry_new();
		FUZZ_CHECK(e != NULL, "out of memory");
		archive_entry_copy_pathname(e, line + 2);
		switch (line[0]) {
		case 'd': archive_entry_set_filetype(e, AE_IFDIR); break;
		case 's':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_copy_symlink(e, body ? body : "x");
			break;
		case 'p': archive_entry_set_filetype(e, AE_IFIFO); break;
		case 'F':
			big = true;
			n = body ? strtoul(body, NULL, 10) : 0;
			if (n > HEARTH_MiB)
				n = HEARTH_MiB;
			/* fall through */
		default:
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)n);
		}
		archive_entry_set_perm(e, 0644);
		if (archive_write_header(a, e) == ARCHIVE_OK &&
		    archive_entry_filetype(e) == AE_IFREG) {
			if (big) {
				static char xs[4096];

				memset(xs, 'x', sizeof(xs));
				for (size_t left = n; left > 0;) {
					size_t k = left < sizeof(xs) ? left : sizeof(xs);

					archive_write_data(a, xs, k);
					left -= k;
				}
			} else if (n) {
				archive_write_data(a, body, n);
			}
		}
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	free(text);
	*len = o.len;
	return o.p;
}

/* ---- the harness -------------------------------------------------------------- */

static void check_stored(const char *run, struct codestore *cs, const uint8_t *data, size_t size,
			 const char *sha, const char *path)
{
	char want[65], dir[4096], real[4096], *path2 = NULL, sha2[65];
	struct hearth_error *err = NULL;
	struct listing l;
	struct tally t = { 0, 0 };

	sha256_hex(data, size, want);
	FUZZ_CHECK(!strcmp(sha, want), "sha %s, want %s", sha, want);
	FUZZ_PATH(dir, "%s/data/code", run);
	FUZZ_CHECK(realpath(dir, real) != NULL, "realpath %s", dir);
	FUZZ_PATH(dir, "%s/%s", real, sha);
	FUZZ_CHECK(path && !strcmp(path, dir), "path %s, want %s", path ? path : "(null)", dir);
	check_sandbox(run, sha);

	list_archive(data, size, &l);
	walk_unpacked(dir, "", 0, &l, &t);
	FUZZ_CHECK(t.files == l.nfiles, "%zu files unpacked of %zu entries", t.files, l.nfiles);
	FUZZ_CHECK(t.files >= 1 && t.files <= FN_ZIP_ENTRIES_MAX, "%zu files", t.files);
	FUZZ_CHECK(t.bytes <= FN_CODE_MAX_BYTES, "%zu bytes unpacked", t.bytes);
	listing_free(&l);

	/* Content-addressed: the same bytes again are the same folder. */
	FUZZ_CHECK(codestore_put_zip(cs, data, size, sha2, &path2, &err) == 0 &&
			   !strcmp(sha2, sha) && !strcmp(path2, path),
		   "storing the zip again: %s", err ? err->msg : "another folder");
	free(path2);
	check_sandbox(run, sha);
	FUZZ_CHECK(codestore_remove(cs, sha, &err) == 0, "remove: %s", err ? err->msg : "");
	check_sandbox(run, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int home = -1;
	const char *root = fuzz_sandbox("zip_unpack");
	char run[4096], path[4096], sha[65];
	struct hearth_error *err = NULL;
	struct codestore *cs = NULL;
	char *code_path = NULL;
	uint8_t *zip = NULL;
	int r;

	log_set_level(LOG_LVL_ERROR);
	/* libFuzzer reads and writes its corpus by relative paths: the
	 * working folder is ours during an input only. */
	if (home < 0)
		home = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_CHECK(home >= 0, "open .: %s", strerror(errno));
	FUZZ_PATH(run, "%s/run-XXXXXX", root);
	FUZZ_CHECK(mkdtemp(run) != NULL, "mkdtemp: %s", strerror(errno));
	FUZZ_PATH(path, "%s/cwd", run);
	FUZZ_CHECK(mkdir(path, 0755) == 0 && chdir(path) == 0, "cwd %s", path);
	FUZZ_PATH(path, "%s/data", run);
	FUZZ_CHECK(codestore_open(&cs, path, &err) == 0, "codestore_open: %s", err ? err->msg : "");

	if (!(size >= 2 && data[0] == 'P' && data[1] == 'K')) {
		zip = zip_of_lines(data, size, &size);
		data = zip;
	}
	r = codestore_put_zip(cs, data, size, sha, &code_path, &err);
	if (r == 0) {
		FUZZ_CHECK(!err, "success with an error");
		check_stored(run, cs, data, size, sha, code_path);
	} else {
		FUZZ_CHECK(r == -EINVAL || r == -E2BIG, "put_zip returned %d: %s", r,
			   err ? err->msg : "");
		FUZZ_CHECK(err && err->status == -r && !strncmp(err->msg, "zip: ", 5),
			   "refusal message: %s", err ? err->msg : "(none)");
		FUZZ_CHECK(!code_path, "a refusal handed out a path");
		check_sandbox(run, NULL);
	}
	free(code_path);
	free(zip);
	hearth_error_free(err);
	codestore_close(cs);
	FUZZ_CHECK(fchdir(home) == 0, "back to the working folder: %s", strerror(errno));
	util_rm_rf(run, NULL);
	return 0;
}
