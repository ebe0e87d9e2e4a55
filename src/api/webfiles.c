/* webfiles.c — the dashboard's files at "/", from the web folder: a URL
 * path becomes a file under the web root only when it is decoded, has no
 * "." or ".." segment and no NUL, and (after symlinks) is still inside the
 * root.  See routes.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

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
		{ "gz", "application/gzip" },
	};
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');

	if (dot)
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

/* The regular file at `path` if it lies inside the web root after every
 * symlink is resolved: its descriptor and stat, or -1. */
static int open_inside(const struct api *a, const char *path, struct stat *st)
{
	_cleanup_free_ char *real = realpath(path, NULL);
	size_t rootlen = strlen(a->web_root);
	int fd;

	if (!real || strncmp(real, a->web_root, rootlen) != 0 || real[rootlen] != '/')
		return -1;
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && (fstat(fd, st) < 0 || !S_ISREG(st->st_mode))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Whether the client takes gzip (Accept-Encoding names it, not with q=0). */
static bool accepts_gzip(struct evhttp_request *req)
{
	const char *ae = evhttp_find_header(evhttp_request_get_input_headers(req),
					    "Accept-Encoding");
	const char *g = ae ? strcasestr(ae, "gzip") : NULL;

	if (!g)
		return false;
	g += 4;
	while (*g == ' ')
		g++;
	if (*g != ';')
		return true;
	g++;
	while (*g == ' ')
		g++;
	return !(strncasecmp(g, "q=0", 3) == 0 && strspn(g + 3, ".0") == strlen(g + 3));
}

/* A strong validator from what changes when a file is replaced: its
 * modification time, size and inode (the build writes files anew). */
static void etag_of(const struct stat *st, bool gz, char dst[96])
{
	snprintf(dst, 96, "\"%llx-%llx-%llx%s\"",
		 (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
			 (unsigned long long)st->st_mtim.tv_nsec,
		 (unsigned long long)st->st_size, (unsigned long long)st->st_ino, gz ? "-gz" : "");
}

/* If-None-Match holds our ETag (or "*"): the client's copy is current. */
static bool not_modified(struct evhttp_request *req, const char *etag)
{
	const char *inm = evhttp_find_header(evhttp_request_get_input_headers(req),
					     "If-None-Match");

	return inm && (strstr(inm, etag) || strcmp(inm, "*") == 0);
}

/* A URL path as a file under the web root: decoded, no "." or ".."
 * segments, no NUL, and (after symlinks) still inside the root.  A file
 * with a pre-compressed sibling (NAME.gz, made by the dashboard's build)
 * goes out compressed to a client that accepts gzip.  Every file carries
 * an ETag; a matching If-None-Match is answered 304. */
int api_webfile(struct api *a, struct evhttp_request *req, const char *raw_path,
		struct hearth_error **err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	_cleanup_close_ int gzfd = -1;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char full[PATH_MAX], gzpath[PATH_MAX + 4], etag[96];
	struct evbuffer *body;
	struct stat st, gzst;
	size_t len;

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
	if (stat(full, &st) == 0 && S_ISDIR(st.st_mode) &&
	    util_snprintf(full + strlen(full), sizeof(full) - strlen(full), NULL, "/index.html") <
		    0) /* "/docs" names a folder: its index */
		return hearth_error_make(err, ENOENT, "no such file: %s", path);
	fd = open_inside(a, full, &st);
	if (fd < 0)
		return hearth_error_make(err, ENOENT, "no such file: %s", path);
	snprintf(gzpath, sizeof(gzpath), "%s.gz", full);
	gzfd = open_inside(a, gzpath, &gzst);
	evhttp_add_header(h, "Content-Type", content_type(full));
	/* Revalidated every time (cheap: a 304), so a rebuilt dashboard is
	 * seen at the next load. */
	evhttp_add_header(h, "Cache-Control", "no-cache");
	if (gzfd >= 0) {
		evhttp_add_header(h, "Vary", "Accept-Encoding");
		if (accepts_gzip(req) && gzst.st_mtim.tv_sec >= st.st_mtim.tv_sec) {
			close(fd);
			fd = gzfd;
			gzfd = -1;
			st = gzst;
			evhttp_add_header(h, "Content-Encoding", "gzip");
			etag_of(&st, true, etag);
		} else {
			etag_of(&st, false, etag);
		}
	} else {
		etag_of(&st, false, etag);
	}
	evhttp_add_header(h, "ETag", etag);
	if (not_modified(req, etag)) {
		http_finish(req, 304, NULL);
		return 0;
	}
	body = evbuffer_new();
	if (!body) {
		evhttp_clear_headers(h); /* the error's reply is JSON, not this file */
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	if (st.st_size > 0) {
		if (evbuffer_add_file(body, fd, 0, st.st_size) < 0) {
			evbuffer_free(body);
			evhttp_clear_headers(h);
			return hearth_error_make(err, EIO, "cannot read %s", path);
		}
		fd = -1; /* the evbuffer owns it now */
	}
	http_finish(req, 200, body);
	evbuffer_free(body);
	return 0;
}
