/* util.c — see util.h. */
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int util_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out,
		   struct hearth_error **err)
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
