/* webfiles.c — the dashboard's files at "/", from the web folder: a URL
 * path becomes a file under the web root only when it is decoded, has no
 * "." or ".." segment and no NUL, and (after symlinks) is still inside the
 * root.  See routes.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "http.h"
#include "routes.h"
#include "util.h"

static const char *content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ "html", "text/html; charset=utf-8" },
		{ "htm", "text/html; charset=utf-8" },
		{ "css", "text/css; charset=utf-8" },
		{ "js", "text/javascript; charset=utf-8" },
		{ "mjs", "text/javascript; charset=utf-8" },
		{ "json", "application/json" },
		{ "map", "application/json" },
		{ "txt", "text/plain; charset=utf-8" },
		{ "svg", "image/svg+xml" },
		{ "png", "image/png" },
		{ "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" },
		{ "gif", "image/gif" },
		{ "webp", "image/webp" },
		{ "ico", "image/x-icon" },
		{ "wasm", "application/wasm" },
		{ "woff", "font/woff" },
		{ "woff2", "font/woff2" },
	};
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');

	if (dot)
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

/* A URL path as a file under the web root: decoded, no "." or ".."
 * segments, no NUL, and (after symlinks) still inside the root. */
int api_webfile(struct api *a, struct evhttp_request *req, const char *raw_path,
		struct hearth_error **err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *real = NULL;
	_cleanup_close_ int fd = -1;
	char full[PATH_MAX];
	struct evbuffer *body;
	struct stat st;
	size_t len, rootlen;

	path = evhttp_uridecode(raw_path, 0, &len);
	if (!path || strlen(path) != len || path[0] != '/')
		return hearth_error_make(err, EBADMSG, "bad path");
	for (const char *p = path; *p;) {
		const char *seg = ++p; /* past the '/' */

		while (*p && *p != '/')
			p++;
		if ((p - seg == 1 && seg[0] == '.') ||
		    (p - seg == 2 && seg[0] == '.' && seg[1] == '.'))
			return hearth_error_make(err, EBADMSG,
						 "path: '.' and '..' segments are not allowed");
	}
	if (!a->web_root)
		return hearth_error_make(err, ENOENT, "no such file: %s (no web folder)", path);
	if (util_snprintf(full, sizeof(full), NULL, "%s%s%s", a->web_root, path,
			  path[len - 1] == '/' ? "index.html" : "") < 0)
		return hearth_error_make(err, ENOENT, "no such file: %s", path);
	real = realpath(full, NULL);
	if (real && stat(real, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* "/docs" names a folder: serve its index */
		char idx[PATH_MAX];

		if (util_snprintf(idx, sizeof(idx), NULL, "%s/index.html", real) < 0)
			return hearth_error_make(err, ENOENT, "no such file: %s", path);
		free(real);
		real = realpath(idx, NULL);
	}
	rootlen = strlen(a->web_root);
	if (!real || strncmp(real, a->web_root, rootlen) != 0 || real[rootlen] != '/')
		return hearth_error_make(err, ENOENT, "no such file: %s", path);
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return hearth_error_make(err, ENOENT, "no such file: %s", path);
	body = evbuffer_new();
	if (!body)
		return hearth_error_make(err, ENOMEM, "out of memory");
	if (st.st_size > 0) {
		if (evbuffer_add_file(body, fd, 0, st.st_size) < 0) {
			evbuffer_free(body);
			return hearth_error_make(err, EIO, "cannot read %s", path);
		}
		fd = -1; /* the evbuffer owns it now */
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  content_type(real));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-cache");
	http_finish(req, 200, body);
	evbuffer_free(body);
	return 0;
}
