/* shim.c — hearth-shim: PID 1 of every function container.
 *
 * Serves one hearthd connection at a time on a unix socket and answers
 * its frames (frame.h): INIT loads a function into the language runtime,
 * INVOKE calls it under the deadline the shim owns, PING, SHUTDOWN.  The
 * runtime itself (its process, its private channel and pipes, its logs)
 * is runtime.c's, the frames of the answers reply.c's; this file holds
 * main, the connection loop and the frame handlers, and keeps the last
 * init to load a fresh runtime after a timeout or crash.
 *
 * Single-threaded and sequential on purpose: one request at a time is the
 * contract, so a poll loop with a deadline is all the machinery needed,
 * and the warm path stays at 6 syscalls (poll, read, writev to the input
 * pipe, ppoll, read of the result pipe, writev of the reply). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bounds.h"
#include "chan.h"
#include "frame.h"
#include "reply.h"
#include "runtime.h"

#define INIT_MIN_BUDGET_MS 10000
#define TERM_GRACE_MS 2000

static const char *opt_socket;
static const char *opt_prestart;
static const char *opt_py_boot = "/opt/hearth/bootstrap.py";
static const char *opt_node_boot = "/opt/hearth/bootstrap.js";

static int listenfd = -1, conn = -1;

/* The last init, kept to re-init after a crash or timeout. */
static uint8_t *init_msg;
static size_t init_msg_len;
static uint64_t init_budget_ms;
static char init_lang[8];
static char init_failure[512]; /* why the last (re)init failed */
static bool init_lane;	       /* hearthd asked for the direct lane */

__attribute__((format(printf, 1, 0))) static void vwarnx(const char *fmt, va_list ap)
{
	fputs("hearth-shim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

__attribute__((format(printf, 1, 2))) static void warnx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	exit(1);
}

static void handle_term(void);

/* Sends the saved init to the (fresh) runtime and waits for its answer.
 * With `answer`, hearthd is answered READY or INIT_ERROR; otherwise a
 * failure is remembered in init_failure. */
static bool do_init(bool answer, int64_t t0)
{
	char why[256];
	const char *etype = "Runtime.InitError";
	if (!runtime_send_init(init_msg, init_msg_len)) {
		snprintf(why, sizeof(why), "cannot send init to the runtime: %s", strerror(errno));
	} else {
		const uint8_t *msg;
		size_t n;
		enum runtime_outcome w = runtime_wait(t0 + (int64_t)init_budget_ms * 1000000, &msg,
						      &n);
		if (w == RUNTIME_MSG && n >= CHAN_NONCE_LEN + 5) {
			uint8_t kind = msg[CHAN_NONCE_LEN];
			uint32_t rss = chan_get32(msg + CHAN_NONCE_LEN + 1);
			uint64_t init_us = (uint64_t)(runtime_now_ns() - t0) / 1000;
			struct runtime_logs logs = runtime_logs();
			if (kind == CHAN_READY) {
				int fds[4];
				runtime_set_loaded();
				if (answer && init_lane)
					runtime_lane(fds);
				if (answer)
					reply_ready(conn, init_us, rss, &logs,
						    init_lane ? fds : NULL);
				return true;
			}
			if (kind == CHAN_INIT_ERR) {
				struct bytes e[3];
				int ne = chan_strings(msg + CHAN_NONCE_LEN + 5, msg + n, e, 3);
				/* The answer holds what was logged up to the error,
				 * and goes out once the runtime is gone. */
				runtime_kill();
				if (answer)
					reply_init_error(conn, e, ne, init_us, &logs);
				else
					snprintf(init_failure, sizeof(init_failure),
						 "re-init failed: %.*s: %.*s",
						 (int)(e[0].len > 100 ? 100 : e[0].len), e[0].ptr,
						 (int)(e[1].len > 300 ? 300 : e[1].len), e[1].ptr);
				return false;
			}
			snprintf(why, sizeof(why),
				 "unexpected message '%c' from the runtime during init", kind);
		} else if (w == RUNTIME_TIMEOUT) {
			etype = "Runtime.InitTimeout";
			snprintf(why, sizeof(why), "init did not finish within %llu ms",
				 (unsigned long long)init_budget_ms);
		} else if (w == RUNTIME_DIED) {
			etype = "Runtime.ExitError";
			runtime_death_reason(why, sizeof(why));
		} else if (w == RUNTIME_TERM) {
			handle_term();
		} else {
			snprintf(why, sizeof(why), "runtime channel broken during init");
		}
	}
	runtime_kill();
	if (answer) {
		struct bytes e[2] = { bytes_of_str(etype), bytes_of_str(why) };
		struct runtime_logs logs = runtime_logs();
		reply_init_error(conn, e, 2, (uint64_t)(runtime_now_ns() - t0) / 1000, &logs);
	} else {
		snprintf(init_failure, sizeof(init_failure), "re-init failed: %s", why);
	}
	return false;
}

/* After a timeout or crash: a fresh runtime with the same init, so the
 * next invoke works even if hearthd keeps the container. */
static void restart_runtime(void)
{
	init_failure[0] = 0;
	if (!init_msg)
		return;
	if (!runtime_spawn(init_lang)) {
		snprintf(init_failure, sizeof(init_failure), "cannot start the %s runtime: %s",
			 init_lang, strerror(errno));
		return;
	}
	runtime_logs_reset();
	do_init(false, runtime_now_ns());
	runtime_logs_reset(); /* restart noise does not belong to the next call */
}

static void prestart_if_asked(void)
{
	if (opt_prestart && !runtime_running() && !runtime_spawn(opt_prestart))
		warnx("cannot prestart %s: %s", opt_prestart, strerror(errno));
}

/* ---- frame handlers ------------------------------------------------- */

static void handle_init(const struct frame *f)
{
	struct frame_iter it;
	struct frame_field fld;
	const struct frame_field *code = NULL, *handler = NULL, *lang = NULL, *fname = NULL;
	struct frame_field fcode, fhandler, flang, fname_;
	uint64_t mem = FN_MEMORY_DEFAULT, tmo = FN_TIMEOUT_DEFAULT * 1000, lane = 0;
	size_t envsz = 0;
	int64_t t0 = runtime_now_ns();

	frame_iter_init(&it, f);
	while (frame_iter_next(&it, &fld) == 1) {
		switch (fld.tag) {
		case FT_CODE_DIR:
			fcode = fld;
			code = &fcode;
			break;
		case FT_HANDLER:
			fhandler = fld;
			handler = &fhandler;
			break;
		case FT_LANGUAGE:
			flang = fld;
			lang = &flang;
			break;
		case FT_FUNCTION_NAME:
			fname_ = fld;
			fname = &fname_;
			break;
		case FT_MEMORY_MB: frame_field_u64(&fld, &mem); break;
		case FT_TIMEOUT_MS: frame_field_u64(&fld, &tmo); break;
		case FT_LANE: frame_field_u64(&fld, &lane); break;
		case FT_ENV: envsz += 4 + fld.len; break;
		}
	}
	/* The function's timeout is at most Lambda's 15 minutes (and a
	 * larger one would overflow the init deadline's nanoseconds). */
	if (tmo > FN_TIMEOUT_MAX * 1000ull)
		tmo = FN_TIMEOUT_MAX * 1000ull;
	char langs[8] = "";
	if (lang && lang->len < sizeof(langs)) {
		memcpy(langs, lang->val, lang->len);
		langs[lang->len] = 0;
	}
	if (strcmp(langs, "javascript") == 0)
		strcpy(langs, "node");
	const char *bad = NULL;
	if (!code || !handler || code->len == 0 || handler->len == 0)
		bad = "init needs a code dir and a handler";
	else if (strcmp(langs, "python") != 0 && strcmp(langs, "node") != 0)
		bad = "init language must be python or node";
	size_t total = 1 + CHAN_NONCE_LEN + 5 * 4 + (code ? code->len : 0) +
		       (handler ? handler->len : 0) + (fname ? fname->len : 0) + 40 + envsz;
	if (!bad && total > CHAN_MSG_MAX)
		bad = "init too large (environment over ~60 KB)";
	if (bad) {
		reply_init_refused(conn, bad);
		return;
	}

	/* Build the channel init message once; restarts resend it. */
	free(init_msg);
	init_msg = malloc(total);
	if (!init_msg)
		die("out of memory");
	uint8_t *p = init_msg;
	*p++ = CHAN_INIT;
	p += CHAN_NONCE_LEN;
	char num[2][24];
	snprintf(num[0], sizeof(num[0]), "%llu", (unsigned long long)mem);
	snprintf(num[1], sizeof(num[1]), "%llu", (unsigned long long)tmo);
	const void *sv[5] = { code->val, handler->val, fname ? fname->val : (const uint8_t *)"",
			      num[0], num[1] };
	size_t sl[5] = { code->len, handler->len, fname ? fname->len : 0, strlen(num[0]),
			 strlen(num[1]) };
	for (int i = 0; i < 5; i++) {
		chan_put32(p, (uint32_t)sl[i]);
		memcpy(p + 4, sv[i], sl[i]);
		p += 4 + sl[i];
	}
	frame_iter_init(&it, f);
	while (frame_iter_next(&it, &fld) == 1) {
		if (fld.tag != FT_ENV)
			continue;
		chan_put32(p, fld.len);
		memcpy(p + 4, fld.val, fld.len);
		p += 4 + fld.len;
	}
	init_msg_len = (size_t)(p - init_msg);
	init_budget_ms = tmo > INIT_MIN_BUDGET_MS ? tmo : INIT_MIN_BUDGET_MS;
	snprintf(init_lang, sizeof(init_lang), "%s", langs);

	/* A prestarted runtime of the right language that has not loaded a
	 * function yet is the stem cell: reuse it.  Anything else is replaced. */
	if (runtime_running() && (runtime_loaded() || strcmp(runtime_lang(), langs) != 0))
		runtime_kill();
	if (!runtime_running()) {
		runtime_close();
		if (!runtime_spawn(langs)) {
			char why[160];
			snprintf(why, sizeof(why), "cannot start the %s runtime: %s", langs,
				 strerror(errno));
			reply_init_refused(conn, why);
			return;
		}
	}
	init_failure[0] = 0;
	init_lane = lane == 1;
	bool ok = do_init(true, t0);
	runtime_logs_reset();
	if (!ok) {
		free(init_msg);
		init_msg = NULL;
		prestart_if_asked();
	}
}

/* An invocation that ended without the handler's answer. */
static void reply_failure(enum invocation_status status, const char *type, const char *message,
			  uint64_t dur_us, uint64_t rss)
{
	struct bytes e[2] = { bytes_of_str(type), bytes_of_str(message) };
	struct runtime_logs logs = runtime_logs();
	reply_error(conn, status, dur_us, rss, e, 2, &logs);
	runtime_logs_reset();
}

static void handle_invoke(const struct frame *f)
{
	static struct chan_answer ans; /* its buffer is kept for reuse */
	struct frame_iter it;
	struct frame_field fld;
	const uint8_t *rid = (const uint8_t *)"", *payload = (const uint8_t *)"";
	uint32_t rid_len = 0, payload_len = 0;
	uint64_t deadline_ms = 0;

	frame_iter_init(&it, f);
	while (frame_iter_next(&it, &fld) == 1) {
		if (fld.tag == FT_REQUEST_ID) {
			rid = fld.val;
			rid_len = fld.len;
		} else if (fld.tag == FT_PAYLOAD) {
			payload = fld.val;
			payload_len = fld.len;
		} else if (fld.tag == FT_DEADLINE_MS) {
			frame_field_u64(&fld, &deadline_ms);
		}
	}
	if (rid_len > INVOKE_REQUEST_ID_MAX || payload_len > INVOKE_PAYLOAD_MAX) {
		reply_failure(INVOCATION_ERROR, "Hearth.BadRequest",
			      rid_len > INVOKE_REQUEST_ID_MAX ? "request id too long"
							      : "payload over 6 MiB",
			      0, 0);
		return;
	}
	if (!init_msg) {
		reply_failure(INVOCATION_CRASHED, "Hearth.NotInitialised",
			      "invoke before a successful init", 0, 0);
		return;
	}
	if (!runtime_loaded()) {
		if (runtime_running())
			runtime_kill();
		restart_runtime();
		if (!runtime_loaded()) {
			reply_failure(INVOCATION_CRASHED, "Runtime.InitError", init_failure, 0, 0);
			return;
		}
	}
	if (deadline_ms == 0)
		deadline_ms = init_budget_ms; /* the function's timeout (>= 10 s) */
	if (deadline_ms > FN_TIMEOUT_MAX * 1000ull)
		deadline_ms = FN_TIMEOUT_MAX * 1000ull;

	int64_t t0 = runtime_now_ns();
	int64_t deadline = t0 + (int64_t)deadline_ms * 1000000;
	runtime_send_invoke((uint32_t)deadline_ms, rid, rid_len, payload, payload_len, deadline);

	const uint8_t *msg;
	size_t n = 0;
	enum runtime_outcome w;
	int a = CHAN_ANSWER_MORE;
	char why[200];
	chan_answer_start(&ans);
	/* Even when sending failed, the wait tells us why (death, timeout). */
	while ((w = runtime_wait(deadline, &msg, &n)) == RUNTIME_MSG &&
	       (a = chan_answer_feed(&ans, msg, n)) == CHAN_ANSWER_MORE)
		;
	if (a == CHAN_ANSWER_NOMEM)
		die("out of memory for a %u-byte result", ans.total);
	bool violated = a == CHAN_ANSWER_BAD;
	uint64_t dur = (uint64_t)(runtime_now_ns() - t0) / 1000;
	if (w == RUNTIME_MSG && !violated) {
		struct runtime_logs logs = runtime_logs();
		if (ans.is_error)
			reply_error(conn, INVOCATION_ERROR, dur, ans.rss_kb, ans.err, ans.nerr,
				    &logs);
		else
			reply_result(conn, dur, ans.rss_kb, ans.result, ans.total, &logs);
		runtime_logs_reset();
		return;
	}
	if (w == RUNTIME_TERM)
		handle_term();
	enum invocation_status status = INVOCATION_CRASHED;
	const char *type = "Runtime.ExitError";
	if (w == RUNTIME_TIMEOUT) {
		status = INVOCATION_TIMEOUT;
		type = "Runtime.Timeout";
		snprintf(why, sizeof(why), "Task timed out after %llu ms",
			 (unsigned long long)deadline_ms);
	} else if (w == RUNTIME_DIED) {
		runtime_death_reason(why, sizeof(why));
	} else {
		type = "Runtime.ProtocolError";
		snprintf(why, sizeof(why), "%s",
			 violated ? "the runtime broke the channel protocol"
				  : "the runtime channel broke");
	}
	runtime_kill(); /* a dead runtime's leftover children too */
	reply_failure(status, type, why, dur, runtime_maxrss_kb());
	restart_runtime();
}

/* The direct lane: hearthd ends the runtime (deadline, death, broken
 * protocol) and is told how it ended.  hearthd recycles the container
 * then, so no fresh runtime is started here. */
static void handle_kill(void)
{
	char why[200];

	runtime_kill();
	runtime_death_reason(why, sizeof(why));
	reply_died(conn, why, runtime_maxrss_kb());
	runtime_logs_reset();
}

static void shutdown_and_exit(int code)
{
	runtime_kill();
	if (conn >= 0)
		close(conn);
	if (opt_socket)
		unlink(opt_socket);
	exit(code);
}

/* SIGTERM/SIGINT: pass it on to the runtime, give it a short grace,
 * then end everything and exit. */
static void handle_term(void)
{
	runtime_terminate(TERM_GRACE_MS);
	shutdown_and_exit(0);
}

/* ---- the connection loop -------------------------------------------- */

static uint8_t *inbuf;
static size_t inlen, inalloc;

/* Waits, between invocations, until fd has something; 0 when poll was
 * interrupted.  SIGTERM or SIGINT ends the shim here. */
static short idle_poll(int fd)
{
	bool term;
	int ev = runtime_idle(fd, &term);
	if (ev < 0)
		die("poll: %s", strerror(errno));
	if (term)
		handle_term();
	return (short)ev;
}

/* Serves one hearthd connection until it closes or breaks the stream. */
static void serve(void)
{
	inlen = 0;
	for (;;) {
		struct frame f;
		size_t need;
		int pr = frame_parse(inbuf, inlen, &f, &need);
		if (pr < 0) {
			reply_proto_error(conn, frame_strerror(pr));
			return; /* the stream cannot be resynchronised */
		}
		if (pr == 1) {
			int v = frame_validate(&f);
			if (v < 0) {
				reply_proto_error(conn, frame_strerror(v));
			} else {
				switch (f.type) {
				case FRAME_PING: reply_pong(conn); break;
				case FRAME_INIT: handle_init(&f); break;
				case FRAME_INVOKE: handle_invoke(&f); break;
				case FRAME_SHUTDOWN: shutdown_and_exit(0); break;
				case FRAME_KILL: handle_kill(); break;
				default: reply_proto_error(conn, "unknown frame type"); break;
				}
			}
			memmove(inbuf, inbuf + need, inlen - need);
			inlen -= need;
			continue;
		}
		if (need > inalloc) {
			size_t na = inalloc ? inalloc : 65536;
			while (na < need)
				na *= 2;
			uint8_t *nb = realloc(inbuf, na);
			if (!nb)
				die("out of memory");
			inbuf = nb;
			inalloc = na;
		}
		short ev = idle_poll(conn);

		if (ev) {
			ssize_t r = read(conn, inbuf + inlen, inalloc - inlen);
			if (r == 0)
				return;
			if (r < 0) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				return;
			}
			inlen += (size_t)r;
		}
	}
}

static void usage(FILE *f)
{
	fputs("usage: hearth-shim --socket PATH [--prestart python|node]\n"
	      "                   [--python-bootstrap PATH] [--node-bootstrap PATH]\n"
	      "Runs one Hearth function runtime and serves hearthd's frames\n"
	      "(runtimes/PROTOCOL.md) on the unix socket PATH.\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "prestart", required_argument, NULL, 'p' },
		{ "python-bootstrap", required_argument, NULL, 'y' },
		{ "node-bootstrap", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "s:p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': opt_socket = optarg; break;
		case 'p': opt_prestart = optarg; break;
		case 'y': opt_py_boot = optarg; break;
		case 'n': opt_node_boot = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!opt_socket) {
		usage(stderr);
		return 2;
	}
	if (opt_prestart && strcmp(opt_prestart, "javascript") == 0)
		opt_prestart = "node";
	if (opt_prestart && strcmp(opt_prestart, "python") != 0 &&
	    strcmp(opt_prestart, "node") != 0)
		die("--prestart takes python or node");

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd < 0)
		die("signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	int r = runtime_setup(opt_py_boot, opt_node_boot, sigfd);
	if (r < 0)
		warnx("PR_SET_CHILD_SUBREAPER: %s", strerror(-r));

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int sl = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", opt_socket);
	if (sl < 0 || (size_t)sl >= sizeof(sa.sun_path))
		die("socket path too long (max %zu bytes): %s", sizeof(sa.sun_path) - 1,
		    opt_socket);
	listenfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listenfd < 0)
		die("socket: %s", strerror(errno));
	unlink(opt_socket); /* a stale socket of an earlier run */
	if (bind(listenfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind %s: %s", opt_socket, strerror(errno));
	/* hearthd may run as another user than the container's. */
	chmod(opt_socket, 0666);
	if (listen(listenfd, 4) < 0)
		die("listen: %s", strerror(errno));

	prestart_if_asked();

	for (;;) {
		if (idle_poll(listenfd) & POLLIN) {
			conn = accept4(listenfd, NULL, NULL, SOCK_CLOEXEC);
			if (conn < 0)
				continue;
			/* A hearthd that stops reading must not wedge us forever. */
			struct timeval tv = { .tv_sec = 30 };
			setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			serve();
			close(conn);
			conn = -1;
		}
	}
}
