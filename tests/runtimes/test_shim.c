/* test_shim.c — drives hearth-shim and both bootstraps over the frame
 * protocol (runtimes/PROTOCOL.md), once per language.
 *
 * Direct mode (default): the shim is started here as a plain process on a
 * temporary socket.  Docker mode: with SHIM_LAUNCHER set, the test runs
 * `$SHIM_LAUNCHER start LANGUAGE SOCKDIR CODEDIR` (which prints an opaque
 * id and the code dir as the shim sees it) and `$SHIM_LAUNCHER stop ID`;
 * checks that need the shim's host pid are then skipped.
 *
 * Paths: HEARTH_SHIM (the shim binary), HEARTH_BOOTSTRAP_DIR (holding
 * python/bootstrap.py and node/bootstrap.js), HEARTH_FIXTURES (holding
 * python/ and node/ handler folders); defaults from the build tree.
 * Every wait is bounded. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "frame.h"
#include "tap.h"

#ifndef TEST_TOP_SRCDIR
#define TEST_TOP_SRCDIR "."
#endif
#ifndef TEST_TOP_BUILDDIR
#define TEST_TOP_BUILDDIR "."
#endif

static char shim_bin[4096], boot_dir[4096], fixtures[4096];
static const char *launcher;

struct shim {
	pid_t pid;    /* direct mode */
	char id[256]; /* launcher mode */
	char dir[256];
	char sock[300];
	char codedir[4200]; /* as the shim sees it */
	int fd;
};

struct reply {
	int type; /* frame type, or -1 on a transport failure */
	uint64_t status, duration_us, rss_kb, lane;
	char *result, *etype, *emsg, *estack, *logs;
	size_t result_len, logs_len;
	double elapsed_ms; /* measured here */
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void reply_free(struct reply *r)
{
	free(r->result);
	free(r->etype);
	free(r->emsg);
	free(r->estack);
	free(r->logs);
	memset(r, 0, sizeof(*r));
}

static char *dupmem(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

static const char *S(const char *s)
{
	return s ? s : "(null)";
}

/* ---- transport ------------------------------------------------------ */

static bool write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		b += w;
		n -= (size_t)w;
	}
	return true;
}

static int connect_sock(const char *path, int wait_ms)
{
	double until = now_ms() + wait_ms;
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		if (now_ms() > until)
			return -1;
		usleep(10000);
	}
}

/* Reads one frame within timeout_ms; fills r. */
/* Descriptors that came with the last reply (READY of a lane init). */
static int rx_fds[8];
static int n_rx_fds;

static void rx_fds_close(void)
{
	for (int i = 0; i < n_rx_fds; i++)
		close(rx_fds[i]);
	n_rx_fds = 0;
}

/* One read of the connection, keeping any descriptors that come along. */
static ssize_t read_fds(int fd, void *buf, size_t len)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(8 * sizeof(int))];
	} ctl;
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); n > 0 && cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int f;
			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(f));
			if (n_rx_fds < 8)
				rx_fds[n_rx_fds++] = f;
			else
				close(f);
		}
	}
	return n;
}

static void recv_reply(int fd, int timeout_ms, struct reply *r)
{
	static uint8_t *buf;
	static size_t alloc;
	size_t len = 0, need = FRAME_HDR_LEN;
	struct frame f;
	double until = now_ms() + timeout_ms;
	memset(r, 0, sizeof(*r));
	r->type = -1;
	for (;;) {
		int pr = frame_parse(buf, len, &f, &need);
		if (pr < 0)
			return;
		if (pr == 1)
			break;
		if (need > alloc) {
			buf = realloc(buf, need);
			alloc = need;
		}
		int left = (int)(until - now_ms());
		if (left <= 0)
			return;
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, left) <= 0)
			continue;
		ssize_t n = read_fds(fd, buf + len, need - len);
		if (n <= 0)
			return;
		len += (size_t)n;
	}
	r->type = f.type;
	struct frame_iter it;
	struct frame_field fld;
	frame_iter_init(&it, &f);
	while (frame_iter_next(&it, &fld) == 1) {
		switch (fld.tag) {
		case FT_STATUS: frame_field_u64(&fld, &r->status); break;
		case FT_DURATION_US: frame_field_u64(&fld, &r->duration_us); break;
		case FT_MAX_RSS_KB: frame_field_u64(&fld, &r->rss_kb); break;
		case FT_LANE: frame_field_u64(&fld, &r->lane); break;
		case FT_RESULT:
			r->result = dupmem(fld.val, fld.len);
			r->result_len = fld.len;
			break;
		case FT_ERROR_TYPE: r->etype = dupmem(fld.val, fld.len); break;
		case FT_ERROR_MESSAGE: r->emsg = dupmem(fld.val, fld.len); break;
		case FT_ERROR_STACK: r->estack = dupmem(fld.val, fld.len); break;
		case FT_LOGS:
			r->logs = dupmem(fld.val, fld.len);
			r->logs_len = fld.len;
			break;
		}
	}
}

/* The frame being written (one at a time): strings copied, a payload
 * referenced, then written piece by piece. */
static struct frame_writer out;

static void out_begin(uint8_t type)
{
	static uint8_t scratch[16384];
	static struct iovec iov[4];
	frame_writer_init(&out, type, scratch, sizeof(scratch), iov, 4);
}

static bool out_send(int fd)
{
	size_t len;
	int n = frame_writer_finish(&out, &len);
	for (int i = 0; i < n; i++)
		if (!write_all(fd, out.iov[i].iov_base, out.iov[i].iov_len))
			return false;
	return n > 0;
}

/* Sends the frame written and reads the answer within timeout_ms. */
static void request(struct shim *s, int timeout_ms, struct reply *r)
{
	double t0 = now_ms();
	if (!out_send(s->fd)) {
		memset(r, 0, sizeof(*r));
		r->type = -1;
		return;
	}
	recv_reply(s->fd, timeout_ms, r);
	r->elapsed_ms = now_ms() - t0;
}

static void do_init_lane(struct shim *s, const char *lang, const char *handler, bool lane,
			 struct reply *r)
{
	out_begin(FRAME_INIT);
	if (lane)
		frame_write_u64(&out, FT_LANE, 1);
	frame_write_str(&out, FT_CODE_DIR, s->codedir);
	frame_write_str(&out, FT_HANDLER, handler);
	frame_write_str(&out, FT_LANGUAGE, lang);
	frame_write_str(&out, FT_FUNCTION_NAME, "testfn");
	frame_write_u64(&out, FT_MEMORY_MB, 256);
	frame_write_u64(&out, FT_TIMEOUT_MS, 3000);
	frame_write_str(&out, FT_ENV, "HEARTH_TEST_ENV=from-init");
	frame_write_str(&out, FT_ENV, "OTHER=a=b");
	request(s, 15000, r);
}

static void do_init(struct shim *s, const char *lang, const char *handler, struct reply *r)
{
	do_init_lane(s, lang, handler, false, r);
}

static void invoke(struct shim *s, const void *payload, size_t len, uint64_t deadline_ms,
		   struct reply *r)
{
	static unsigned seq;
	char rid[64];
	snprintf(rid, sizeof(rid), "req-%u", ++seq);
	out_begin(FRAME_INVOKE);
	frame_write_str(&out, FT_REQUEST_ID, rid);
	frame_write_u64(&out, FT_DEADLINE_MS, deadline_ms);
	frame_write_bytes(&out, FT_PAYLOAD, payload, len);
	/* Allow for the deadline, a restart after it, and a slow machine. */
	request(s, (int)deadline_ms + 15000, r);
}

static void invoke_str(struct shim *s, const char *json, uint64_t deadline_ms, struct reply *r)
{
	invoke(s, json, strlen(json), deadline_ms, r);
}

static bool ping(struct shim *s)
{
	struct reply r;
	out_begin(FRAME_PING);
	request(s, 5000, &r);
	bool ok = r.type == FRAME_PONG;
	reply_free(&r);
	return ok;
}

/* ---- starting and stopping the shim --------------------------------- */

static bool shim_start(struct shim *s, const char *lang)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	snprintf(s->dir, sizeof(s->dir), "/tmp/hearth-shim-test.XXXXXX");
	if (!mkdtemp(s->dir))
		return false;
	chmod(s->dir, 0777); /* the container user must create its socket */
	snprintf(s->sock, sizeof(s->sock), "%s/shim.sock", s->dir);
	char code[4200];
	snprintf(code, sizeof(code), "%s/%s", fixtures, lang);
	if (launcher) {
		char cmd[8192];
		snprintf(cmd, sizeof(cmd), "'%s' start %s '%s' '%s'", launcher, lang, s->dir, code);
		FILE *p = popen(cmd, "r");
		if (!p)
			return false;
		bool ok = fgets(s->id, sizeof(s->id), p) &&
			  fgets(s->codedir, sizeof(s->codedir), p);
		int st = pclose(p);
		if (!ok || st != 0) {
			printf("# launcher failed (status %d)\n", st);
			return false;
		}
		s->id[strcspn(s->id, "\r\n")] = 0;
		s->codedir[strcspn(s->codedir, "\r\n")] = 0;
	} else {
		snprintf(s->codedir, sizeof(s->codedir), "%s", code);
		char py[4200], js[4200];
		snprintf(py, sizeof(py), "%s/python/bootstrap.py", boot_dir);
		snprintf(js, sizeof(js), "%s/node/bootstrap.js", boot_dir);
		s->pid = fork();
		if (s->pid == 0) {
			execl(shim_bin, "hearth-shim", "--socket", s->sock, "--prestart", lang,
			      "--python-bootstrap", py, "--node-bootstrap", js, (char *)NULL);
			perror(shim_bin);
			_exit(127);
		}
		if (s->pid < 0)
			return false;
	}
	s->fd = connect_sock(s->sock, 20000);
	return s->fd >= 0;
}

static bool shim_reconnect(struct shim *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = connect_sock(s->sock, 5000);
	return s->fd >= 0;
}

/* Waits up to ms for the directly started shim to exit; its status or -1. */
static int shim_wait(struct shim *s, int ms)
{
	double until = now_ms() + ms;
	while (now_ms() < until) {
		int st;
		pid_t p = waitpid(s->pid, &st, WNOHANG);
		if (p == s->pid) {
			s->pid = 0;
			return st;
		}
		usleep(10000);
	}
	return -1;
}

static void shim_stop(struct shim *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (launcher && s->id[0]) {
		char cmd[8192];
		snprintf(cmd, sizeof(cmd), "'%s' stop '%s' >/dev/null", launcher, s->id);
		if (system(cmd) != 0)
			printf("# launcher stop failed\n");
	} else if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		if (shim_wait(s, 5000) == -1) {
			kill(s->pid, SIGKILL);
			shim_wait(s, 5000);
		}
	}
	unlink(s->sock);
	rmdir(s->dir);
}

/* ---- host-side checks (direct mode) --------------------------------- */

static long proc_status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	long v = -1;
	if (!f)
		return -1;
	size_t kl = strlen(key);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':')
			v = strtol(line + kl + 1, NULL, 10);
	fclose(f);
	return v;
}

/* Zombie children of pid, from /proc/<p>/stat. */
static int count_zombie_children(pid_t parent)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[300], buf[512];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		ssize_t r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (r <= 0)
			continue;
		buf[r] = 0;
		char *cp = strrchr(buf, ')');
		char st;
		int ppid;
		if (cp && sscanf(cp + 2, "%c %d", &st, &ppid) == 2 && ppid == parent && st == 'Z')
			n++;
	}
	closedir(d);
	return n;
}

/* True if no pid of the list (space/comma separated digits in text) exists. */
static bool host_pids_gone(const char *text, int wait_ms)
{
	double until = now_ms() + wait_ms;
	for (;;) {
		bool all = true;
		for (const char *p = text; *p;) {
			if (*p >= '0' && *p <= '9') {
				long pid = strtol(p, (char **)&p, 10);
				if (pid > 1 && kill((pid_t)pid, 0) == 0)
					all = false;
			} else {
				p++;
			}
		}
		if (all || now_ms() > until)
			return all;
		usleep(20000);
	}
}

/* ---- the cases ------------------------------------------------------ */

static bool is_reply(const struct reply *r, uint64_t status)
{
	return r->type == FRAME_REPLY && r->status == status;
}

static bool contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle);
}

/* Loads a node handler and calls it once: the call must end with `status`
 * and `want` in its result, or for an error in its error type. */
static void check_node_handler(struct shim *s, const char *handler, const char *payload,
			       uint64_t status, const char *want, const char *what)
{
	struct reply r;
	do_init(s, "node", handler, &r);
	bool loaded = r.type == FRAME_READY;
	reply_free(&r);
	invoke_str(s, payload, 3000, &r);
	const char *got = status == INVOCATION_SUCCESS ? r.result : r.etype;
	ok(loaded && is_reply(&r, status) && contains(got, want), "node: %s (%s%s%s)", what, S(got),
	   r.emsg ? ": " : "", r.emsg ? r.emsg : "");
	reply_free(&r);
}

static void run_language(const char *lang)
{
	bool py = strcmp(lang, "python") == 0;
	struct shim s;
	struct reply r;
	char buf[1024];

	printf("# ---- %s ----\n", lang);
	if (!shim_start(&s, lang)) {
		ok(0, "%s: shim started and accepted a connection", lang);
		shim_stop(&s);
		return;
	}
	ok(1, "%s: shim started and accepted a connection", lang);
	ok(ping(&s), "%s: ping answered with pong", lang);

	/* Init errors first: each leaves no runtime behind, then a good init. */
	do_init(&s, lang, "syntax_err.handler", &r);
	ok(r.type == FRAME_INIT_ERROR && contains(r.etype, "Runtime.UserCodeSyntaxError") &&
		   contains(r.emsg, "syntax_err") &&
		   (contains(r.emsg, "line 3") || contains(r.emsg, ":3")),
	   "%s: syntax error at init -> init_error naming file and line (%s: %s)", lang, S(r.etype),
	   S(r.emsg));
	reply_free(&r);

	do_init(&s, lang, "nohandler.handler", &r);
	ok(r.type == FRAME_INIT_ERROR && contains(r.etype, "Runtime.HandlerNotFound") &&
		   contains(r.emsg, "nohandler"),
	   "%s: missing handler -> init_error naming the file (%s: %s)", lang, S(r.etype),
	   S(r.emsg));
	reply_free(&r);

	invoke_str(&s, "{}", 1000, &r);
	ok(is_reply(&r, INVOCATION_CRASHED) && contains(r.etype, "NotInitialised"),
	   "%s: invoke without init refused (%s)", lang, S(r.etype));
	reply_free(&r);

	do_init(&s, lang, py ? "main.handler" : "index.handler", &r);
	ok(r.type == FRAME_READY, "%s: init -> ready in %.1f ms", lang, r.elapsed_ms);
	reply_free(&r);

	const char *echo = "{\"op\":\"echo\",\"x\":[1,2.5,null,true,\"y\"]}";
	invoke_str(&s, echo, 3000, &r);
	ok(is_reply(&r, INVOCATION_SUCCESS) && r.result && strcmp(r.result, echo) == 0,
	   "%s: echo returns the payload (%s)", lang, S(r.result));
	ok(r.duration_us > 0 && r.rss_kb > 0,
	   "%s: reply carries duration (%llu us) and max RSS (%llu KB)", lang,
	   (unsigned long long)r.duration_us, (unsigned long long)r.rss_kb);
	reply_free(&r);

	const char *uni =
		"{\"op\":\"echo\",\"s\":\"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80 \\u0000 \\\"q\\\" \\n\"}";
	invoke_str(&s, uni, 3000, &r);
	ok(is_reply(&r, INVOCATION_SUCCESS) && r.result && strcmp(r.result, uni) == 0,
	   "%s: unicode payload round-trips byte for byte (%s)", lang, S(r.result));
	reply_free(&r);

	uint8_t bin[256];
	for (int i = 0; i < 256; i++)
		bin[i] = (uint8_t)i;
	invoke(&s, bin, sizeof(bin), 3000, &r);
	ok(is_reply(&r, INVOCATION_SUCCESS) && r.result_len > 2 && r.result[0] == '"' &&
		   memmem(r.result, r.result_len, "\\u0000", 6) &&
		   memmem(r.result, r.result_len, "\xef\xbf\xbd", 3),
	   "%s: binary (non-JSON) payload passes through as a string event", lang);
	reply_free(&r);

	/* Just under 6 MiB in all. */
	size_t big = INVOKE_PAYLOAD_MAX;
	char *p6 = malloc(big + 1);
	int hl = snprintf(p6, big, "{\"op\":\"echo\",\"data\":\"");
	for (size_t i = (size_t)hl; i < big - 2; i++)
		p6[i] = (char)('a' + i % 26);
	p6[big - 2] = '"';
	p6[big - 1] = '}';
	p6[big] = 0;
	invoke(&s, p6, big, 10000, &r);
	ok(is_reply(&r, INVOCATION_SUCCESS) && r.result_len == big &&
		   memcmp(r.result, p6, big) == 0,
	   "%s: 6 MiB payload echoed intact (%zu bytes back, %.1f ms)", lang, r.result_len,
	   r.elapsed_ms);
	reply_free(&r);
	free(p6);

	char *p7 = calloc(1, big + 100);
	memset(p7, ' ', big + 100);
	invoke(&s, p7, big + 100, 3000, &r);
	ok(r.type == FRAME_REPLY && r.status == INVOCATION_ERROR && contains(r.emsg, "6 MiB"),
	   "%s: payload over 6 MiB refused with an error (%s)", lang, S(r.emsg));
	reply_free(&r);
	free(p7);

	invoke_str(&s, "{\"op\":\"context\"}", 2500, &r);
	ok(is_reply(&r, INVOCATION_SUCCESS) && contains(r.result, "\"rid\":\"req-") &&
		   contains(r.result, "\"fn\":\"testfn\"") && contains(r.result, "\"mem\":256") &&
		   contains(r.result, "\"env_at_import\":\"from-init\"") &&
		   contains(r.result, "\"remaining\":2"),
	   "%s: context (request id, function name, memory, remaining time) and env before import (%s)",
	   lang, S(r.result));
	reply_free(&r);

	invoke_str(&s, "{\"op\":\"log\"}", 3000, &r);
	ok(is_reply(&r, INVOCATION_SUCCESS) && r.result && strcmp(r.result, "{\"ok\":true}") == 0 &&
		   contains(r.logs, "hello from stdout") && contains(r.logs, "to stderr"),
	   "%s: stdout/stderr go to logs, apart from the result (result %s, logs %zu bytes)", lang,
	   S(r.result), r.logs_len);
	reply_free(&r);

	invoke_str(&s, "{\"op\":\"raise\",\"n\":7}", 3000, &r);
	ok(is_reply(&r, INVOCATION_ERROR) && contains(r.etype, py ? "ValueError" : "TypeError") &&
		   contains(r.emsg, "boom 7") && r.estack && r.estack[0] == '[' &&
		   contains(r.estack, py ? "main.py" : "index.js"),
	   "%s: raised error -> errorType/errorMessage/stackTrace (%s: %s)", lang, S(r.etype),
	   S(r.emsg));
	reply_free(&r);

	invoke_str(&s, "{\"op\":\"nonserial\"}", 3000, &r);
	ok(is_reply(&r, INVOCATION_ERROR) && contains(r.etype, "Runtime.MarshalError"),
	   "%s: non-serialisable result is an error, not a crash (%s: %s)", lang, S(r.etype),
	   S(r.emsg));
	reply_free(&r);

	/* NaN and Infinity are not JSON: Python's encoder refuses them (a
	 * MarshalError), Node's writes null, as JSON.stringify does. */
	invoke_str(&s, "{\"op\":\"nan\"}", 3000, &r);
	if (py)
		ok(is_reply(&r, INVOCATION_ERROR) && contains(r.etype, "Runtime.MarshalError"),
		   "%s: NaN in the result is a MarshalError, never invalid JSON (%s: %s)", lang,
		   S(r.etype), S(r.emsg));
	else
		ok(is_reply(&r, INVOCATION_SUCCESS) && r.result &&
			   strcmp(r.result, "{\"x\":null,\"y\":null}") == 0,
		   "%s: NaN in the result is null, as JSON.stringify writes it (%s)", lang,
		   S(r.result));
	reply_free(&r);

	if (!py) {
		check_node_handler(&s, "index.cb", "{\"k\":1}", INVOCATION_SUCCESS,
				   "{\"cb\":{\"k\":1}}", "callback-style handler");
		check_node_handler(&s, "index.cberr", "{}", INVOCATION_ERROR, "RangeError",
				   "callback error");
		invoke_str(&s, "{}", 3000, &r);
		ok(is_reply(&r, INVOCATION_ERROR),
		   "node: served again after a synchronous callback");
		reply_free(&r);
		check_node_handler(&s, "esm.handler", "{\"k\":2}", INVOCATION_SUCCESS,
				   "\"esm\":true", ".mjs module init, ESM handler");
		do_init(&s, lang, "index.handler", &r);
		reply_free(&r);
	}

	/* Timeout: answered close to the deadline, runtime back afterwards. */
	invoke_str(&s, "{\"op\":\"sleep\",\"s\":5}", 400, &r);
	ok(is_reply(&r, INVOCATION_TIMEOUT) && r.elapsed_ms >= 390 && r.elapsed_ms < 1000,
	   "%s: sleeping past a 400 ms deadline -> timeout after %.1f ms (%s)", lang, r.elapsed_ms,
	   S(r.emsg));
	reply_free(&r);
	invoke_str(&s, echo, 3000, &r);
	ok(is_reply(&r, INVOCATION_SUCCESS), "%s: next invoke works after a timeout", lang);
	reply_free(&r);

	/* Children that ignore SIGTERM: all gone after the timeout. */
	char pidfile[256];
	snprintf(pidfile, sizeof(pidfile), "/tmp/hearth-shim-test-%d-%s.pids", (int)getpid(), lang);
	snprintf(buf, sizeof(buf), "{\"op\":\"ignore_term\",\"pidfile\":\"%s\"}", pidfile);
	invoke_str(&s, buf, 1500, &r);
	ok(is_reply(&r, INVOCATION_TIMEOUT),
	   "%s: SIGTERM-ignoring handler with children -> timeout (%.1f ms)", lang, r.elapsed_ms);
	reply_free(&r);
	snprintf(buf, sizeof(buf), "{\"op\":\"checkpids\",\"pidfile\":\"%s\"}", pidfile);
	invoke_str(&s, buf, 3000, &r);
	ok(is_reply(&r, INVOCATION_SUCCESS) && r.result && strlen(r.result) > 8 &&
		   !contains(r.result, "\"S\"") && !contains(r.result, "\"R\"") &&
		   !contains(r.result, "\"Z\""),
	   "%s: every child of the timed-out runtime is gone (%s)", lang, S(r.result));
	if (!launcher && r.result)
		ok(host_pids_gone(r.result, 2000), "%s: ... and gone as seen from the host", lang);
	else
		ok(1, "# SKIP host pid check needs direct mode");
	reply_free(&r);
	if (!launcher)
		unlink(pidfile);

	invoke_str(&s, "{\"op\":\"exit\",\"code\":3}", 3000, &r);
	ok(is_reply(&r, INVOCATION_CRASHED) && contains(r.emsg, "exited with code 3"),
	   "%s: %s -> crashed (%s)", lang, py ? "os._exit(3)" : "process.exit(3)", S(r.emsg));
	reply_free(&r);

	invoke_str(&s, "{\"op\":\"segv\"}", 3000, &r);
	ok(is_reply(&r, INVOCATION_CRASHED) && contains(r.emsg, "SIGSEGV"),
	   "%s: segfault -> crashed (%s)", lang, S(r.emsg));
	reply_free(&r);

	invoke_str(&s, echo, 3000, &r);
	ok(is_reply(&r, INVOCATION_SUCCESS), "%s: next invoke works after a crash", lang);
	reply_free(&r);

	/* 100 MB on stdout: logs capped, the shim's memory bounded. */
	long hwm0 = launcher ? 0 : proc_status_kb(s.pid, "VmHWM");
	invoke_str(&s, "{\"op\":\"flood\",\"mb\":100}", 20000, &r);
	ok(is_reply(&r, INVOCATION_SUCCESS) && contains(r.result, "flooded") &&
		   r.logs_len <= 64 * 1024 + 128 && contains(r.logs, "truncated"),
	   "%s: 100 MB stdout flood -> result intact, logs capped at %zu bytes with a marker (%.0f ms)",
	   lang, r.logs_len, r.elapsed_ms);
	reply_free(&r);
	if (!launcher) {
		long hwm = proc_status_kb(s.pid, "VmHWM");
		ok(hwm > 0 && hwm < 48 * 1024 && hwm - hwm0 < 4096,
		   "%s: shim peak RSS stays bounded (%ld KB, +%ld KB over the flood)", lang, hwm,
		   hwm - hwm0);
	} else {
		ok(1, "# SKIP shim RSS check needs direct mode");
	}

	invoke_str(&s, "{\"op\":\"fakeframes\"}", 3000, &r);
	ok(is_reply(&r, INVOCATION_SUCCESS) && r.result && strcmp(r.result, "\"REAL\"") == 0,
	   "%s: fake frames written to every fd -> the real result wins (%s)", lang, S(r.result));
	reply_free(&r);
	ok(ping(&s), "%s: connection intact after fake frames", lang);
	/* Including the runtime's own internal pipes: that may kill the
	 * runtime (Node), but a fake must never be taken for the result. */
	invoke_str(&s, "{\"op\":\"fakeframes_all\"}", 3000, &r);
	ok(r.type == FRAME_REPLY && !contains(r.result, "FAKE") &&
		   ((r.status == INVOCATION_SUCCESS && contains(r.result, "REAL")) ||
		    r.status == INVOCATION_CRASHED),
	   "%s: fake frames into every fd incl. the runtime's internal pipes -> %s, never the fake (%s)",
	   lang, invocation_status_name((unsigned)r.status), r.result ? r.result : S(r.emsg));
	reply_free(&r);
	invoke_str(&s, echo, 3000, &r);
	ok(is_reply(&r, INVOCATION_SUCCESS), "%s: next invoke works after that", lang);
	reply_free(&r);

	/* Orphans: reaped by the shim (PID 1 or subreaper). */
	invoke_str(&s, "{\"op\":\"orphans\"}", 5000, &r);
	ok(is_reply(&r, INVOCATION_SUCCESS) && r.result && r.result[0] == '[',
	   "%s: handler spawned orphans %s", lang, S(r.result));
	char pids[256] = "";
	if (r.result)
		snprintf(pids, sizeof(pids), "%s", r.result);
	reply_free(&r);
	usleep(800000);
	snprintf(buf, sizeof(buf), "{\"op\":\"states\",\"pids\":%s}", pids[0] ? pids : "[]");
	invoke_str(&s, buf, 3000, &r);
	ok(is_reply(&r, INVOCATION_SUCCESS) && r.result && !contains(r.result, "\"Z\"") &&
		   !contains(r.result, "\"S\""),
	   "%s: orphans exited and were reaped, no zombies (%s)", lang, S(r.result));
	reply_free(&r);
	if (!launcher) {
		int z = -1;
		for (int i = 0; i < 50 && (z = count_zombie_children(s.pid)) != 0; i++)
			usleep(20000);
		is_int(z, 0, "%s: no zombie children under the shim's pid", lang);
	} else {
		ok(1, "# SKIP zombie scan by host pid needs direct mode");
	}

	/* Malformed and oversized frames: refused, the shim survives. */
	static const uint8_t unknown[] = { 'H', 'F', 1, 77, 0, 0, 0, 0 };
	write_all(s.fd, unknown, sizeof(unknown));
	recv_reply(s.fd, 3000, &r);
	ok(r.type == FRAME_PROTO_ERROR && ping(&s),
	   "%s: unknown frame type -> protocol error, connection kept", lang);
	reply_free(&r);
	static const uint8_t badfield[] = { 'H', 'F', 1, FRAME_INVOKE, 0, 0,   0,  8, 0,
					    18,	 0,   0, 0x10,	       0, 'x', 'y' };
	write_all(s.fd, badfield, sizeof(badfield));
	recv_reply(s.fd, 3000, &r);
	ok(r.type == FRAME_PROTO_ERROR && ping(&s),
	   "%s: field overrunning its frame -> protocol error, connection kept", lang);
	reply_free(&r);
	static const uint8_t huge[] = { 'H', 'F', 1, FRAME_INVOKE, 0x10, 0, 0, 0 }; /* 256 MiB */
	write_all(s.fd, huge, sizeof(huge));
	recv_reply(s.fd, 3000, &r);
	ok(r.type == FRAME_PROTO_ERROR && contains(r.emsg, "too large"),
	   "%s: oversized frame refused (%s)", lang, S(r.emsg));
	reply_free(&r);
	ok(shim_reconnect(&s) && ping(&s), "%s: shim alive after an oversized frame", lang);
	static const char http[] = "GET / HTTP/1.1\r\n\r\n";
	write_all(s.fd, http, sizeof(http) - 1);
	recv_reply(s.fd, 3000, &r);
	ok(r.type == FRAME_PROTO_ERROR, "%s: garbage (bad magic) refused", lang);
	reply_free(&r);
	ok(shim_reconnect(&s) && ping(&s), "%s: shim alive after garbage", lang);
	static const uint8_t partial[] = { 'H', 'F', 1, FRAME_INVOKE, 0, 0, 1, 0, 0, 18 };
	write_all(s.fd, partial, sizeof(partial));
	ok(shim_reconnect(&s) && ping(&s), "%s: shim alive after a peer vanished mid-frame", lang);
	invoke_str(&s, echo, 3000, &r);
	ok(is_reply(&r, INVOCATION_SUCCESS), "%s: the loaded function survived all of that", lang);
	reply_free(&r);

	/* Shutdown: the shim exits when told. */
	out_begin(FRAME_SHUTDOWN);
	out_send(s.fd);
	if (!launcher) {
		int st = shim_wait(&s, 5000);
		ok(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		   "%s: shutdown frame -> shim exits 0", lang);
	} else {
		uint8_t c;
		struct pollfd pf = { .fd = s.fd, .events = POLLIN };
		ok(poll(&pf, 1, 5000) == 1 && read(s.fd, &c, 1) == 0,
		   "%s: shutdown frame -> shim closes", lang);
	}
	shim_stop(&s);
}

/* ---- the direct lane: what hearthd's pool/lane.c does, by hand -------- */

static bool is_fifo(int fd, int mode)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);
	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && fl >= 0 && (fl & O_ACCMODE) == mode;
}

static bool is_seqpacket(int fd)
{
	int type = 0;
	socklen_t l = sizeof(type);
	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) == 0 && type == SOCK_SEQPACKET;
}

/* Sends an invoke on the lane's input pipe and reads the answer from its
 * result pipe (small ones only): the result's bytes, or NULL. */
static char *lane_call(const int *fds, const char *json, int timeout_ms)
{
	static uint64_t rng = 42;
	uint8_t nonce[CHAN_NONCE_LEN], hdr[CHAN_INVOKE_HEAD_MAX], trailer[CHAN_IN_TRAILER];
	uint8_t buf[CHAN_RES_BUF], msg[CHAN_PIPE_MSG_MAX];
	size_t len = 0, n;
	double until = now_ms() + timeout_ms;
	chan_nonce_next(&rng, nonce);
	size_t hl = chan_invoke_head(hdr, nonce, 5000, (uint32_t)strlen(json),
				     (const uint8_t *)"lane-1", 6);
	chan_in_trailer(trailer, (uint32_t)(hl + strlen(json)));
	struct iovec iov[3] = { { hdr, hl }, { (void *)json, strlen(json) }, { trailer, 8 } };
	if (writev(fds[0], iov, 3) != (ssize_t)(hl + strlen(json) + 8))
		return NULL;
	for (;;) {
		int left = (int)(until - now_ms());
		struct pollfd pf = { .fd = fds[1], .events = POLLIN };
		if (left <= 0 || poll(&pf, 1, left) <= 0)
			return NULL;
		ssize_t r = read(fds[1], buf + len, sizeof(buf) - len);
		if (r <= 0)
			return NULL;
		len += (size_t)r;
		if (chan_res_take(buf, &len, nonce, msg, &n)) {
			struct chan_answer a = { 0 };
			chan_answer_start(&a);
			char *res = chan_answer_feed(&a, msg, n) == CHAN_ANSWER_DONE && !a.is_error
					    ? dupmem(a.result, a.total)
					    : NULL;
			chan_answer_free(&a);
			return res;
		}
	}
}

/* The end of a pipe within ms: every writer gone. */
static bool pipe_ends(int fd, int ms)
{
	char b[4096];
	double until = now_ms() + ms;
	for (;;) {
		int left = (int)(until - now_ms());
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&pf, 1, left) <= 0)
			return false;
		ssize_t r = read(fd, b, sizeof(b));
		if (r == 0)
			return true;
		if (r < 0 && errno != EINTR && errno != EAGAIN)
			return false;
	}
}

static void run_lane(const char *lang)
{
	struct shim s;
	struct reply r;
	int fds[4] = { -1, -1, -1, -1 };

	printf("# ---- %s, the direct lane ----\n", lang);
	if (!shim_start(&s, lang)) {
		ok(0, "%s lane: shim started", lang);
		shim_stop(&s);
		return;
	}
	n_rx_fds = 0;
	do_init_lane(&s, lang, strcmp(lang, "python") == 0 ? "main.handler" : "index.handler", true,
		     &r);
	ok(r.type == FRAME_READY && r.lane == 1 && n_rx_fds == 4,
	   "%s lane: an init asking for the lane -> READY with LANE 1 and 4 descriptors (%d, %d)",
	   lang, r.type, n_rx_fds);
	reply_free(&r);
	if (n_rx_fds == 4)
		memcpy(fds, rx_fds, sizeof(fds));
	else
		rx_fds_close();
	n_rx_fds = 0;
	ok(fds[0] >= 0 && is_fifo(fds[0], O_WRONLY) && is_fifo(fds[1], O_RDONLY) &&
		   is_seqpacket(fds[2]) && is_fifo(fds[3], O_RDONLY),
	   "%s lane: they are the input pipe, result pipe, channel and log pipe", lang);
	char *res = fds[0] >= 0 ? lane_call(fds, "{\"op\":\"echo\",\"n\":7}", 10000) : NULL;
	ok(res && strcmp(res, "{\"op\":\"echo\",\"n\":7}") == 0,
	   "%s lane: a call on them, with no frame, is answered by the runtime (%s)", lang, S(res));
	free(res);
	ok(ping(&s), "%s lane: the shim still answers frames", lang);
	/* The runtime dies by itself: the shim ends everything, the result
	 * pipe closes at once, and KILL tells why. */
	res = fds[0] >= 0 ? lane_call(fds, "{\"op\":\"exit\",\"code\":5}", 3000) : NULL;
	ok(!res && fds[1] >= 0 && pipe_ends(fds[1], 3000),
	   "%s lane: the runtime exits -> its result pipe ends", lang);
	free(res);
	out_begin(FRAME_KILL);
	request(&s, 5000, &r);
	ok(r.type == FRAME_DIED && contains(r.etype, "Runtime.ExitError") &&
		   contains(r.emsg, "exited with code 5"),
	   "%s lane: KILL -> DIED with how it ended (%s: %s)", lang, S(r.etype), S(r.emsg));
	reply_free(&r);
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);

	/* A live runtime: KILL ends it (a deadline in hearthd). */
	do_init_lane(&s, lang, strcmp(lang, "python") == 0 ? "main.handler" : "index.handler", true,
		     &r);
	bool ready = r.type == FRAME_READY && n_rx_fds == 4;
	reply_free(&r);
	out_begin(FRAME_KILL);
	request(&s, 5000, &r);
	ok(ready && r.type == FRAME_DIED && contains(r.emsg, "signal 9") && r.rss_kb > 0 &&
		   pipe_ends(rx_fds[1], 3000),
	   "%s lane: KILL of a live runtime -> DIED (%s, %llu KB), its pipes end", lang, S(r.emsg),
	   (unsigned long long)r.rss_kb);
	reply_free(&r);
	rx_fds_close();
	shim_stop(&s);
}

/* SIGTERM is forwarded and the shim exits (direct mode: we hold its pid). */
static void run_sigterm(void)
{
	struct shim s;
	struct reply r;
	if (launcher) {
		ok(1, "# SKIP SIGTERM check by pid needs direct mode");
		return;
	}
	if (!shim_start(&s, "python")) {
		ok(0, "sigterm: shim started");
		shim_stop(&s);
		return;
	}
	do_init(&s, "python", "main.handler", &r);
	reply_free(&r);
	kill(s.pid, SIGTERM);
	int st = shim_wait(&s, 5000);
	ok(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 && access(s.sock, F_OK) != 0,
	   "SIGTERM: shim ends its runtime, removes its socket and exits 0");
	shim_stop(&s);
}

static void pathenv(char *dst, size_t n, const char *env, const char *base, const char *rel)
{
	const char *v = getenv(env);
	if (v && *v)
		snprintf(dst, n, "%s", v);
	else
		snprintf(dst, n, "%s/%s", base, rel);
}

int main(void)
{
	const char *src = getenv("top_srcdir"), *bld = getenv("top_builddir");
	if (!src || !*src)
		src = TEST_TOP_SRCDIR;
	if (!bld || !*bld)
		bld = TEST_TOP_BUILDDIR;
	pathenv(shim_bin, sizeof(shim_bin), "HEARTH_SHIM", bld, "runtimes/shim/hearth-shim");
	pathenv(boot_dir, sizeof(boot_dir), "HEARTH_BOOTSTRAP_DIR", src, "runtimes");
	pathenv(fixtures, sizeof(fixtures), "HEARTH_FIXTURES", src, "tests/runtimes/fixtures");
	launcher = getenv("SHIM_LAUNCHER");
	if (launcher && !*launcher)
		launcher = NULL;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# shim %s, bootstraps %s, fixtures %s, %s\n", launcher ? "(launcher)" : shim_bin,
	       boot_dir, fixtures, launcher ? launcher : "direct mode");

	const char *only = getenv("HEARTH_TEST_LANG"); /* python|node to run one */
	if (!only || strcmp(only, "node") != 0)
		run_language("python");
	if (!only || strcmp(only, "python") != 0)
		run_language("node");
	if (!only || strcmp(only, "node") != 0)
		run_lane("python");
	if (!only || strcmp(only, "python") != 0)
		run_lane("node");
	run_sigterm();
	return tap_done();
}
