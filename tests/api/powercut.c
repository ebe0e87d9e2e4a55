/* powercut.c — an LD_PRELOAD library for the power-cut test
 * (tests/api/power-cut.sh): it keeps, beside a data dir, the image of it a
 * disk would hold after a power cut, in which only what was fsynced
 * survives.
 *
 * A kill -9 loses nothing the kernel has: written bytes sit in the page
 * cache, which outlives the process, so a store that never fsyncs passes
 * every kill -9 test.  A power cut loses what the page cache held and the
 * disk did not.  This library models that: every write to a file below
 * PCUT_DIR marks its byte range dirty; fsync, fdatasync (of that file),
 * syncfs and sync copy the dirty ranges and the file's size into the same
 * file below PCUT_SHADOW, which therefore holds each file as of its last
 * sync.  Folders, creations, renames and removals are mirrored at once
 * (the model is a journaling file system's: metadata in order, data only
 * when synced).  After a kill -9, PCUT_SHADOW is what a power cut at that
 * moment would have left; the test starts hearthd on it.
 *
 * Not modelled (not durable state): DIR/run/ (the containers' folders)
 * and SQLite's -shm files (rebuilt from the WAL when nothing holds them).
 * PCUT_LOG, when set, gets one line per sync of a file:
 * "sync <path below DIR> <bytes copied>".  Without PCUT_DIR the library
 * does nothing.
 *
 * Built by the test suite (tests/local.mk) without sanitizers; under an
 * ASan hearthd, set ASAN_OPTIONS=verify_asan_link_order=0. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- the real functions ---- */

#define REAL(name) \
	static __typeof__(name) *real_##name; \
	static void init_##name(void) \
	{ \
		if (!real_##name) \
			real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name); \
	}

REAL(open)
REAL(openat)
REAL(write)
REAL(pwrite)
REAL(pwrite64)
REAL(writev)
REAL(pwritev)
REAL(ftruncate)
REAL(ftruncate64)
REAL(fsync)
REAL(fdatasync)
REAL(syncfs)
REAL(sync)
REAL(mkdir)
REAL(mkdirat)
REAL(rename)
REAL(renameat)
REAL(renameat2)
REAL(unlink)
REAL(unlinkat)
REAL(rmdir)
REAL(remove)
#define CALL(name, ...) (init_##name(), real_##name(__VA_ARGS__))

/* ---- state ---- */

struct dirty {
	char *rel;    /* path below DIR */
	off_t lo, hi; /* bytes written since the last sync: [lo, hi) */
	bool to_end;  /* a truncation: up to the end of the file */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char dir[PATH_MAX], shadow[PATH_MAX];
static size_t dir_len;
static int log_fd = -1;
static struct dirty *tab;
static size_t ntab, atab;

__attribute__((constructor)) static void pcut_init(void)
{
	const char *d = getenv("PCUT_DIR"), *s = getenv("PCUT_SHADOW"), *l = getenv("PCUT_LOG");

	if (!d || !s || !*d || !*s || strlen(d) >= sizeof(dir) || strlen(s) >= sizeof(shadow))
		return;
	snprintf(dir, sizeof(dir), "%s", d);
	snprintf(shadow, sizeof(shadow), "%s", s);
	while (strlen(dir) > 1 && dir[strlen(dir) - 1] == '/')
		dir[strlen(dir) - 1] = '\0';
	dir_len = strlen(dir);
	if (l && *l)
		log_fd = CALL(open, l, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

/* The part of abs below DIR ("" for DIR itself) when it is modelled. */
static const char *rel_of(const char *abs)
{
	const char *rel;
	size_t n;

	if (!dir_len || strncmp(abs, dir, dir_len) != 0 || (abs[dir_len] && abs[dir_len] != '/'))
		return NULL;
	rel = abs + dir_len + (abs[dir_len] == '/');
	if (strncmp(rel, "run", 3) == 0 && (rel[3] == '/' || !rel[3]))
		return NULL;
	n = strlen(rel);
	if (n >= 4 && strcmp(rel + n - 4, "-shm") == 0)
		return NULL;
	return rel;
}

/* dirfd + path as an absolute path (no symbolic links resolved: hearthd
 * names its files by their real paths). */
static bool abs_of(int dirfd, const char *path, char *out, size_t size)
{
	char base[PATH_MAX], link[64];
	ssize_t n;

	if (!path)
		return false;
	if (path[0] == '/')
		return (size_t)snprintf(out, size, "%s", path) < size;
	if (dirfd == AT_FDCWD) {
		if (!getcwd(base, sizeof(base)))
			return false;
	} else {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
		n = readlink(link, base, sizeof(base) - 1);
		if (n < 0)
			return false;
		base[n] = '\0';
	}
	return (size_t)snprintf(out, size, "%s/%s", base, path) < size;
}

/* The path of a regular file open on fd, below DIR, or NULL. */
static const char *fd_rel(int fd, char *buf, size_t size)
{
	char link[64];
	struct stat st;
	ssize_t n;

	if (!dir_len || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, size - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return rel_of(buf);
}

/* a/b (or a when b is empty); false when it does not fit. */
static bool join(char *out, size_t size, const char *a, const char *b)
{
	int n = snprintf(out, size, "%s%s%s", a, *b ? "/" : "", b);

	return n >= 0 && (size_t)n < size;
}

static bool shadow_of(const char *rel, char *out, size_t size)
{
	return join(out, size, shadow, rel);
}

static void mkdir_p(const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			CALL(mkdir, p, 0755);
			*s = '/';
		}
	CALL(mkdir, p, 0755);
}

static void mkdir_parent(const char *path)
{
	char p[PATH_MAX];
	char *slash;

	snprintf(p, sizeof(p), "%s", path);
	slash = strrchr(p, '/');
	if (slash && slash != p) {
		*slash = '\0';
		mkdir_p(p);
	}
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		CALL(rmdir, path);
	else
		CALL(unlink, path);
	return 0;
}

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct dirty *find(const char *rel, bool add)
{
	for (size_t i = 0; i < ntab; i++)
		if (strcmp(tab[i].rel, rel) == 0)
			return &tab[i];
	if (!add)
		return NULL;
	if (ntab == atab) {
		size_t na = atab ? atab * 2 : 64;
		struct dirty *nt = realloc(tab, na * sizeof(*nt));

		if (!nt)
			abort(); /* a model that lost track would pass what it should fail */
		tab = nt;
		atab = na;
	}
	tab[ntab] = (struct dirty){ .rel = strdup(rel), .lo = INT64_MAX, .hi = 0 };
	if (!tab[ntab].rel)
		abort();
	return &tab[ntab++];
}

static void forget(const char *rel, bool subtree)
{
	size_t n = strlen(rel);

	for (size_t i = 0; i < ntab;) {
		if (strcmp(tab[i].rel, rel) == 0 ||
		    (subtree && strncmp(tab[i].rel, rel, n) == 0 && tab[i].rel[n] == '/')) {
			free(tab[i].rel);
			tab[i] = tab[--ntab];
		} else {
			i++;
		}
	}
}

static void rekey(const char *from, const char *to)
{
	size_t n = strlen(from);
	char buf[PATH_MAX];

	forget(to, true);
	for (size_t i = 0; i < ntab; i++)
		if (strcmp(tab[i].rel, from) == 0 ||
		    (strncmp(tab[i].rel, from, n) == 0 && tab[i].rel[n] == '/')) {
			char *r;

			if (snprintf(buf, sizeof(buf), "%s%s", to, tab[i].rel + n) >=
			    (int)sizeof(buf))
				abort();
			r = strdup(buf);
			if (!r)
				abort();
			free(tab[i].rel);
			tab[i].rel = r;
		}
}

static void mark(const char *rel, off_t off, off_t len, bool to_end)
{
	struct dirty *d = find(rel, true);

	if (off < d->lo)
		d->lo = off;
	if (off + len > d->hi)
		d->hi = off + len;
	d->to_end |= to_end;
}

/* Copies rel's dirty bytes and its size from the real file (open on fd,
 * or by name when fd < 0) into the shadow: under mu. */
static void sync_rel(const char *rel, int fd)
{
	char src[PATH_MAX], dst[PATH_MAX], buf[65536];
	struct dirty *d = find(rel, false);
	struct stat st;
	off_t lo, hi, copied = 0;
	int in, out;

	if (fd >= 0)
		snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
	else if (!join(src, sizeof(src), dir, rel))
		return;
	if (!shadow_of(rel, dst, sizeof(dst)))
		return;
	in = CALL(open, src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return;
	if (fstat(in, &st) < 0) {
		close(in);
		return;
	}
	mkdir_parent(dst);
	out = CALL(open, dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (out < 0) {
		close(in);
		return;
	}
	lo = d ? d->lo : 0;
	hi = d ? (d->to_end ? st.st_size : d->hi) : 0;
	if (hi > st.st_size)
		hi = st.st_size;
	while (lo < hi) {
		size_t want = (size_t)(hi - lo) < sizeof(buf) ? (size_t)(hi - lo) : sizeof(buf);
		ssize_t n = pread(in, buf, want, lo);

		if (n <= 0 || CALL(pwrite, out, buf, (size_t)n, lo) != n)
			break;
		lo += n;
		copied += n;
	}
	CALL(ftruncate, out, st.st_size);
	close(out);
	close(in);
	if (d) {
		d->lo = INT64_MAX;
		d->hi = 0;
		d->to_end = false;
	}
	if (log_fd >= 0) {
		char line[PATH_MAX + 64];
		int n = snprintf(line, sizeof(line), "sync %s %lld\n", rel, (long long)copied);

		if (n > 0 && (size_t)n < sizeof(line))
			CALL(write, log_fd, line, (size_t)n);
	}
}

/* ---- what a file's data does ---- */

/* off < 0: at the file's offset, which the write has moved past. */
static void wrote(int fd, off_t off, ssize_t n)
{
	char buf[PATH_MAX];
	const char *rel;

	if (n <= 0 || !(rel = fd_rel(fd, buf, sizeof(buf))))
		return;
	if (off < 0 && (off = lseek(fd, 0, SEEK_CUR) - n) < 0)
		off = 0;
	pthread_mutex_lock(&mu);
	mark(rel, off, n, false);
	pthread_mutex_unlock(&mu);
}

ssize_t write(int fd, const void *b, size_t n)
{
	ssize_t r = CALL(write, fd, b, n);

	wrote(fd, -1, r);
	return r;
}

ssize_t pwrite(int fd, const void *b, size_t n, off_t off)
{
	ssize_t r = CALL(pwrite, fd, b, n, off);

	wrote(fd, off, r);
	return r;
}

ssize_t pwrite64(int fd, const void *b, size_t n, off64_t off)
{
	ssize_t r = CALL(pwrite64, fd, b, n, off);

	wrote(fd, (off_t)off, r);
	return r;
}

ssize_t writev(int fd, const struct iovec *v, int cnt)
{
	ssize_t r = CALL(writev, fd, v, cnt);

	wrote(fd, -1, r);
	return r;
}

ssize_t pwritev(int fd, const struct iovec *v, int cnt, off_t off)
{
	ssize_t r = CALL(pwritev, fd, v, cnt, off);

	wrote(fd, off, r);
	return r;
}

static void truncated(int fd, off_t len)
{
	char buf[PATH_MAX];
	const char *rel;

	if (!(rel = fd_rel(fd, buf, sizeof(buf))))
		return;
	pthread_mutex_lock(&mu);
	mark(rel, len, 0, true);
	pthread_mutex_unlock(&mu);
}

int ftruncate(int fd, off_t len)
{
	int r = CALL(ftruncate, fd, len);

	if (r == 0)
		truncated(fd, len);
	return r;
}

int ftruncate64(int fd, off64_t len)
{
	int r = CALL(ftruncate64, fd, len);

	if (r == 0)
		truncated(fd, (off_t)len);
	return r;
}

static void synced(int fd)
{
	char buf[PATH_MAX];
	const char *rel = fd_rel(fd, buf, sizeof(buf));

	if (!rel) /* a folder: its entries are mirrored as they change */
		return;
	pthread_mutex_lock(&mu);
	sync_rel(rel, fd);
	pthread_mutex_unlock(&mu);
}

int fsync(int fd)
{
	int r = CALL(fsync, fd);

	if (r == 0)
		synced(fd);
	return r;
}

int fdatasync(int fd)
{
	int r = CALL(fdatasync, fd);

	if (r == 0)
		synced(fd);
	return r;
}

static void synced_all(void)
{
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < ntab; i++)
		if (tab[i].lo != INT64_MAX || tab[i].to_end)
			sync_rel(tab[i].rel, -1);
	pthread_mutex_unlock(&mu);
}

int syncfs(int fd)
{
	int r = CALL(syncfs, fd);

	if (r == 0 && dir_len)
		synced_all();
	return r;
}

void sync(void)
{
	CALL(sync);
	if (dir_len)
		synced_all();
}

/* ---- what the names do (mirrored at once) ---- */

static void created(int dirfd, const char *path, int flags)
{
	char abs[PATH_MAX], dst[PATH_MAX];
	const char *rel;
	int fd;

	if (!dir_len || !(flags & (O_CREAT | O_TRUNC)) || !abs_of(dirfd, path, abs, sizeof(abs)) ||
	    !(rel = rel_of(abs)) || !shadow_of(rel, dst, sizeof(dst)))
		return;
	pthread_mutex_lock(&mu);
	mkdir_parent(dst);
	fd = CALL(open, dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	if (flags & O_TRUNC)
		mark(rel, 0, 0, true);
	pthread_mutex_unlock(&mu);
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | __O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;
	int fd;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	fd = CALL(open, path, flags, m);
	if (fd >= 0)
		created(AT_FDCWD, path, flags);
	return fd;
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;
	int fd;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	fd = CALL(open, path, flags | O_LARGEFILE, m);
	if (fd >= 0)
		created(AT_FDCWD, path, flags);
	return fd;
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;
	int fd;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	fd = CALL(openat, dirfd, path, flags, m);
	if (fd >= 0)
		created(dirfd, path, flags);
	return fd;
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;
	int fd;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	fd = CALL(openat, dirfd, path, flags | O_LARGEFILE, m);
	if (fd >= 0)
		created(dirfd, path, flags);
	return fd;
}

static void made_dir(int dirfd, const char *path)
{
	char abs[PATH_MAX], dst[PATH_MAX];
	const char *rel;

	if (!dir_len || !abs_of(dirfd, path, abs, sizeof(abs)) || !(rel = rel_of(abs)) ||
	    !shadow_of(rel, dst, sizeof(dst)))
		return;
	pthread_mutex_lock(&mu);
	mkdir_p(dst);
	pthread_mutex_unlock(&mu);
}

int mkdir(const char *path, mode_t m)
{
	int r = CALL(mkdir, path, m);

	if (r == 0)
		made_dir(AT_FDCWD, path);
	return r;
}

int mkdirat(int dirfd, const char *path, mode_t m)
{
	int r = CALL(mkdirat, dirfd, path, m);

	if (r == 0)
		made_dir(dirfd, path);
	return r;
}

/* Called before the rename with both names resolved; after it, mirrors. */
static void renamed(const char *from_abs, const char *to_abs)
{
	const char *from = rel_of(from_abs), *to = rel_of(to_abs);
	char sf[PATH_MAX], st_[PATH_MAX];
	struct stat st;

	if ((!from && !to) || (to && !shadow_of(to, st_, sizeof(st_))) ||
	    (from && !shadow_of(from, sf, sizeof(sf))))
		return;
	pthread_mutex_lock(&mu);
	if (from && to && lstat(sf, &st) == 0) {
		mkdir_parent(st_);
		if (CALL(rename, sf, st_) < 0 && errno == ENOTEMPTY) {
			rm_rf(st_);
			CALL(rename, sf, st_);
		}
	} else if (to) {
		/* Its data never reached the shadow under its old name. */
		mkdir_parent(st_);
		if (lstat(to_abs, &st) == 0 && S_ISDIR(st.st_mode)) {
			mkdir_p(st_);
		} else {
			int fd = CALL(open, st_, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

			if (fd >= 0)
				close(fd);
		}
	} else {
		rm_rf(sf);
	}
	if (from && to)
		rekey(from, to);
	else if (from)
		forget(from, true);
	pthread_mutex_unlock(&mu);
}

int renameat2(int ofd, const char *old, int nfd, const char *new, unsigned int flags)
{
	char a[PATH_MAX], b[PATH_MAX];
	bool known = dir_len && abs_of(ofd, old, a, sizeof(a)) && abs_of(nfd, new, b, sizeof(b));
	int r = CALL(renameat2, ofd, old, nfd, new, flags);

	if (r == 0 && known)
		renamed(a, b);
	return r;
}

int renameat(int ofd, const char *old, int nfd, const char *new)
{
	char a[PATH_MAX], b[PATH_MAX];
	bool known = dir_len && abs_of(ofd, old, a, sizeof(a)) && abs_of(nfd, new, b, sizeof(b));
	int r = CALL(renameat, ofd, old, nfd, new);

	if (r == 0 && known)
		renamed(a, b);
	return r;
}

int rename(const char *old, const char *new)
{
	char a[PATH_MAX], b[PATH_MAX];
	bool known = dir_len && abs_of(AT_FDCWD, old, a, sizeof(a)) &&
		     abs_of(AT_FDCWD, new, b, sizeof(b));
	int r = CALL(rename, old, new);

	if (r == 0 && known)
		renamed(a, b);
	return r;
}

static void removed(int dirfd, const char *path)
{
	char abs[PATH_MAX], dst[PATH_MAX];
	const char *rel;

	if (!dir_len || !abs_of(dirfd, path, abs, sizeof(abs)) || !(rel = rel_of(abs)) ||
	    !shadow_of(rel, dst, sizeof(dst)))
		return;
	pthread_mutex_lock(&mu);
	rm_rf(dst);
	forget(rel, true);
	pthread_mutex_unlock(&mu);
}

int unlink(const char *path)
{
	int r = CALL(unlink, path);

	if (r == 0)
		removed(AT_FDCWD, path);
	return r;
}

int unlinkat(int dirfd, const char *path, int flags)
{
	char abs[PATH_MAX];
	bool known = dir_len && abs_of(dirfd, path, abs, sizeof(abs));
	int r = CALL(unlinkat, dirfd, path, flags);

	if (r == 0 && known)
		removed(AT_FDCWD, abs);
	return r;
}

int rmdir(const char *path)
{
	int r = CALL(rmdir, path);

	if (r == 0)
		removed(AT_FDCWD, path);
	return r;
}

int remove(const char *path)
{
	char abs[PATH_MAX];
	bool known = dir_len && abs_of(AT_FDCWD, path, abs, sizeof(abs));
	int r = CALL(remove, path);

	if (r == 0 && known)
		removed(AT_FDCWD, abs);
	return r;
}
