/* util.c — see util.h. */
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int util_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out, struct hearth_error **err)
{
	char *end;
	long long v;

	if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
		return hearth_error_make(err, EINVAL, "'%s' is not an integer", s ? s : "");
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return hearth_error_make(err, EINVAL, "'%s' is not an integer", s);
	if (errno == ERANGE || v < min || v > max)
		return hearth_error_make(err, ERANGE, "%s is out of range %lld..%lld", s,
					 (long long)min, (long long)max);
	*out = v;
	return 0;
}

int util_snprintf(char *dst, size_t size, struct hearth_error **err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		return hearth_error_make(err, ENAMETOOLONG, "path or string too long (limit %zu)",
					 size - 1);
	return n;
}

void util_strcpy_cut(char *dst, size_t size, const char *src)
{
	if (size && !memccpy(dst, src, '\0', size))
		dst[size - 1] = '\0';
}

int64_t util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t util_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

uint64_t util_heap_in_use(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
	struct mallinfo2 mi = mallinfo2();

	return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
#else
	return 0;
#endif
}

void util_iso8601(int64_t ms, char dst[32])
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	char tmp[24];

	gmtime_r(&sec, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(dst, 32, "%s.%03dZ", tmp, (int)(ms % 1000));
}

int util_mkdir_p(const char *path, int private_last, struct hearth_error **err)
{
	char tmp[4096];
	size_t len;

	if (util_snprintf(tmp, sizeof(tmp), err, "%s", path) < 0)
		return -ENAMETOOLONG;
	len = strlen(tmp);
	while (len > 1 && tmp[len - 1] == '/')
		tmp[--len] = '\0';
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return hearth_error_errno(err, errno, "mkdir %s", tmp);
		*p = '/';
	}
	if (mkdir(tmp, private_last ? 0700 : 0755) < 0 && errno != EEXIST)
		return hearth_error_errno(err, errno, "mkdir %s", tmp);
	return 0;
}

void util_freep(void *pp)
{
	free(*(void **)pp);
}

void util_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

/* rm -rf of parent/name, without following links.  max_depth bounds the
 * recursion (and the folders held open). */
static int rm_tree_at(int parent, const char *name, int depth, int max_depth)
{
	DIR *d;
	struct dirent *de;
	int fd, r = 0;

	if (unlinkat(parent, name, 0) == 0)
		return 0;
	if (errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	if (depth > max_depth)
		return -ELOOP;
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		int rr;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rr = rm_tree_at(fd, de->d_name, depth + 1, max_depth);
		if (rr < 0 && r == 0)
			r = rr;
	}
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && r == 0 && errno != ENOENT)
		r = -errno;
	return r;
}

int util_rm_tree_at(int parent, const char *name, int max_depth)
{
	return rm_tree_at(parent, name, 0, max_depth);
}

int util_rm_rf(const char *path, struct hearth_error **err)
{
	int r = rm_tree_at(AT_FDCWD, path, 0, 256);

	return r < 0 ? hearth_error_errno(err, -r, "remove %s", path) : 0;
}

static int copy_file(const char *from, const char *to, mode_t mode, struct hearth_error **err)
{
	_cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int out = -1;
	char chunk[65536];
	ssize_t n;

	if (in < 0)
		return hearth_error_errno(err, errno, "open %s", from);
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0755);
	if (out < 0)
		return hearth_error_errno(err, errno, "create %s", to);
	while ((n = read(in, chunk, sizeof(chunk))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, chunk + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return hearth_error_errno(err, errno, "write %s", to);
			off += w;
		}
	}
	if (n < 0)
		return hearth_error_errno(err, errno, "read %s", from);
	return 0;
}

int util_link_tree(const char *src, const char *dst, struct hearth_error **err)
{
	DIR *d = opendir(src);
	struct dirent *de;
	int r = 0;

	if (!d)
		return hearth_error_errno(err, errno, "open folder %s", src);
	while ((de = readdir(d)) != NULL && r == 0) {
		char from[4096], to[4096];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (util_snprintf(from, sizeof(from), err, "%s/%s", src, de->d_name) < 0 ||
		    util_snprintf(to, sizeof(to), err, "%s/%s", dst, de->d_name) < 0) {
			r = -ENAMETOOLONG;
			break;
		}
		if (lstat(from, &st) < 0) {
			r = hearth_error_errno(err, errno, "stat %s", from);
		} else if (S_ISDIR(st.st_mode)) {
			if (mkdir(to, 0755) < 0 && errno != EEXIST)
				r = hearth_error_errno(err, errno, "mkdir %s", to);
			else
				r = util_link_tree(from, to, err);
		} else if (S_ISREG(st.st_mode)) {
			if (link(from, to) < 0) {
				if (errno == EEXIST)
					continue;
				r = copy_file(from, to, st.st_mode, err);
			}
		} else {
			r = hearth_error_make(err, EINVAL, "%s is not a file or folder", from);
		}
	}
	closedir(d);
	return r;
}
