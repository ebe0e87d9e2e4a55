/* shim.c — hearth-shim: PID 1 of every function container.
 *
 * Serves one hearthd connection at a time on a unix socket (frames of
 * frame.h), runs one language runtime (python3/node + bootstrap) as its
 * own session/process group, and talks to it over a private SEQPACKET
 * channel plus two pipes for the warm path (chan.h).  The runtime's stdout and stderr are one pipe whose
 * bytes become the current invocation's logs.  The shim owns the deadline:
 * at the timeout it SIGKILLs the runtime's whole process group.  It reaps
 * every child (PID 1 in a container, a child subreaper otherwise).
 *
 * Single-threaded and sequential on purpose: one request at a time is the
 * contract, so a poll loop with a deadline is all the machinery needed,
 * and the warm path stays at 6 syscalls (poll, read, writev to the input
 * pipe, ppoll, read of the result pipe, writev of the reply). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "chan.h"
#include "frame.h"

#define INIT_MIN_BUDGET_MS 10000
#define TERM_GRACE_MS 2000

static const char *opt_socket;
static const char *opt_prestart;
static const char *opt_py_boot = "/opt/hearth/bootstrap.py";
static const char *opt_node_boot = "/opt/hearth/bootstrap.js";

static int sigfd = -1, listenfd = -1, conn = -1;
static bool is_pid1;

/* The runtime process and our ends of its pipes. */
static struct {
	pid_t pid;		/* 0 when none */
	pid_t pgid;		/* its process group; outlives it while children do */
	int chan;		/* SEQPACKET, our end */
	int in;			/* write end of its input pipe (chan.h fast lanes) */
	int res;		/* read end of its result pipe */
	int logfd;		/* read end of its stdout+stderr */
	char lang[8];
	bool inited;
	int wstatus;		/* valid after it died */
	long maxrss_kb;		/* from wait4, after it died */
} rt = { .chan = -1, .in = -1, .res = -1, .logfd = -1 };

/* The last init, kept to re-init after a crash or timeout. */
static uint8_t *init_msg;
static size_t init_msg_len;
static uint64_t init_budget_ms;
static char init_lang[8];
static char init_failure[512];	/* why the last (re)init failed */

/* Logs of the current invocation: capped; the rest is read and dropped. */
static char logbuf[INVOKE_LOGS_MAX];
static size_t loglen;
static uint64_t logdropped;

static uint8_t msg[CHAN_MSG_MAX];	/* one channel message */
/* Bytes read from the result pipe not yet matched to a message. */
static uint8_t resbuf[CHAN_MSG_MAX + CHAN_PIPE_MSG_MAX];
static size_t reslen;
static uint64_t rng_state;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("hearth-shim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void warnx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("hearth-shim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* splitmix64 seeded from getrandom: a nonce must be unguessable to a
 * handler writing blindly, and one getrandom per invoke would be a
 * syscall on the hot path for no extra safety (the handler shares the
 * bootstrap's address space anyway; see PROTOCOL.md). */
static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void new_nonce(uint8_t n[CHAN_NONCE_LEN])
{
	uint64_t a = rng_next(), b = rng_next();
	memcpy(n, &a, 8);
	memcpy(n + 8, &b, 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* ---- output to hearthd ---------------------------------------------- */

/* A reply is laid out by the frame writer: headers, integers and small
 * values in the scratch, larger values (the result in the channel
 * buffer, the log buffer) referenced where they lie, not copied.  A small
 * reply (the common case) is then one flat piece of the scratch. */
struct out {
	struct frame_writer w;
	struct iovec iov[16];
	uint8_t scratch[4096];
};

static void out_init(struct out *o, uint8_t type)
{
	frame_writer_init(&o->w, type, o->scratch, sizeof(o->scratch), o->iov, 16);
}

static void out_bytes(struct out *o, uint16_t tag, const void *p, size_t len)
{
	frame_write_bytes(&o->w, tag, p, len);
}

static void out_str(struct out *o, uint16_t tag, const char *s)
{
	frame_write_str(&o->w, tag, s);
}

static void out_u64(struct out *o, uint16_t tag, uint64_t v)
{
	frame_write_u64(&o->w, tag, v);
}

/* The logs plus a truncation marker, as one field. */
static void out_logs(struct out *o)
{
	char marker[96];
	size_t mlen = 0;
	if (logdropped) {
		int r = snprintf(marker, sizeof(marker),
				 "\n[hearth: logs truncated, %llu bytes dropped]\n",
				 (unsigned long long)logdropped);
		mlen = r > 0 && (size_t)r < sizeof(marker) ? (size_t)r : 0;
	}
	frame_write_field(&o->w, FT_LOGS, loglen + mlen);
	frame_write_piece(&o->w, logbuf, loglen);
	frame_write_copy(&o->w, marker, mlen);
}

static void logs_reset(void)
{
	loglen = 0;
	logdropped = 0;
}

/* Blocking write of the whole frame; false when hearthd went away. */
static bool out_send(struct out *o)
{
	size_t len;
	int n = frame_writer_finish(&o->w, &len);
	if (n < 0)	/* a bug: every reply's fields are bounded */
		die("cannot lay out a reply: %s", frame_strerror(n));
	struct iovec *iov = o->iov;
	while (n > 0) {
		ssize_t w = writev(conn, iov, n);	/* n <= 16 < IOV_MAX */
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return true;
}

static void send_proto_error(const char *why)
{
	struct out o;
	out_init(&o, FRAME_PROTO_ERROR);
	out_str(&o, FT_ERROR_TYPE, "Hearth.ProtocolError");
	out_str(&o, FT_ERROR_MESSAGE, why);
	out_send(&o);
}

/* ---- the runtime process ------------------------------------------- */

static void drain_logs(void)
{
	static char sink[65536];
	while (rt.logfd >= 0) {
		char *dst = loglen < INVOKE_LOGS_MAX ? logbuf + loglen : sink;
		size_t room = loglen < INVOKE_LOGS_MAX ? INVOKE_LOGS_MAX - loglen : sizeof(sink);
		ssize_t r = read(rt.logfd, dst, room);
		if (r > 0) {
			if (dst == sink)
				logdropped += (uint64_t)r;
			else
				loglen += (size_t)r;
			continue;
		}
		if (r == 0) {	/* every writer is gone */
			close(rt.logfd);
			rt.logfd = -1;
		} else if (errno == EINTR) {
			continue;
		}
		return;
	}
}

/* Reaps every child that has exited: the runtime, and orphans that were
 * reparented to us (PID 1 or subreaper).  Returns true if the runtime died. */
static bool reap_children(void)
{
	bool rt_died = false;
	for (;;) {
		int st;
		struct rusage ru;
		pid_t p = wait4(-1, &st, WNOHANG, &ru);
		if (p <= 0)
			break;
		if (p == rt.pid) {
			rt.wstatus = st;
			rt.maxrss_kb = ru.ru_maxrss;
			rt.pid = 0;
			rt_died = true;
		}
	}
	return rt_died;
}

static void close_rt_fds(void)
{
	if (rt.chan >= 0)
		close(rt.chan);
	rt.chan = -1;
	if (rt.in >= 0)
		close(rt.in);
	rt.in = -1;
	if (rt.res >= 0)
		close(rt.res);
	rt.res = -1;
	reslen = 0;
	if (rt.logfd >= 0) {
		drain_logs();
		if (rt.logfd >= 0)
			close(rt.logfd);
	}
	rt.logfd = -1;
	rt.inited = false;
}

/* Kills the runtime's process group (children that ignore SIGTERM or fork
 * included) and waits for the runtime itself.  As PID 1 we also kill
 * every other process of the container, which catches descendants that
 * left the group with setsid(). */
static void kill_runtime(void)
{
	if (rt.pgid > 0)
		kill(-rt.pgid, SIGKILL);
	if (rt.pgid > 0 && is_pid1)
		kill(-1, SIGKILL);
	rt.pgid = 0;
	if (rt.pid > 0) {
		kill(rt.pid, SIGKILL);
		int st;
		struct rusage ru;
		if (wait4(rt.pid, &st, 0, &ru) == rt.pid) {
			rt.wstatus = st;
			rt.maxrss_kb = ru.ru_maxrss;
		}
		rt.pid = 0;
	}
	reap_children();
	close_rt_fds();
}

static bool spawn_runtime(const char *lang)
{
	int sv[2], lp[2];
	const char *boot;
	if (strcmp(lang, "python") == 0)
		boot = opt_py_boot;
	else if (strcmp(lang, "node") == 0)
		boot = opt_node_boot;
	else
		return false;
	int ip[2], rp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return false;
	if (pipe2(lp, O_CLOEXEC) < 0) {
		close(sv[0]);
		close(sv[1]);
		return false;
	}
	if (pipe2(ip, O_CLOEXEC) < 0) {
		close(sv[0]); close(sv[1]); close(lp[0]); close(lp[1]);
		return false;
	}
	if (pipe2(rp, O_CLOEXEC) < 0) {
		close(sv[0]); close(sv[1]); close(lp[0]); close(lp[1]); close(ip[0]); close(ip[1]);
		return false;
	}
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]); close(sv[1]); close(lp[0]); close(lp[1]);
		close(ip[0]); close(ip[1]); close(rp[0]); close(rp[1]);
		if (devnull >= 0)
			close(devnull);
		return false;
	}
	if (pid == 0) {
		/* Own session and group: the deadline kill is one killpg, and
		 * the runtime cannot signal the shim's group by accident. */
		setsid();
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(lp[1], 1);
		dup2(lp[1], 2);
		dup2(sv[1], CHAN_FD);
		dup2(ip[0], CHAN_IN_FD);
		dup2(rp[1], CHAN_RES_FD);
		char fdstr[16];
		snprintf(fdstr, sizeof(fdstr), "%d", CHAN_FD);
		setenv("HEARTH_CHANNEL_FD", fdstr, 1);
		/* Logs must survive os._exit and crashes, so no stdio buffer. */
		setenv("PYTHONUNBUFFERED", "1", 1);
		if (boot == opt_py_boot)
			execlp("python3", "python3", "-u", "-B", boot, (char *)NULL);
		else
			execlp("node", "node", boot, (char *)NULL);
		dprintf(2, "hearth-shim: cannot run the %s runtime: %s\n", lang, strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	close(lp[1]);
	close(ip[0]);
	close(rp[1]);
	if (devnull >= 0)
		close(devnull);
	rt.in = ip[1];
	rt.res = rp[0];
	reslen = 0;
	set_nonblock(rt.in);
	set_nonblock(rt.res);
	rt.pid = pid;
	rt.pgid = pid;
	rt.chan = sv[0];
	rt.logfd = lp[0];
	rt.inited = false;
	rt.wstatus = 0;
	rt.maxrss_kb = 0;
	snprintf(rt.lang, sizeof(rt.lang), "%s", lang);
	set_nonblock(rt.logfd);
	/* A runtime that stops reading must not hang the shim past a deadline. */
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(rt.chan, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return true;
}

/* One message of at most PIPE_BUF bytes on the runtime's input pipe,
 * followed by its trailer; atomic, so it arrives whole.  The pipe is
 * normally empty here; if a handler filled it with junk, wait for the
 * runtime to drain it, until the deadline.  False if it cannot be sent. */
static bool in_send(const void *a, size_t alen, const void *b, size_t blen, int64_t deadline)
{
	uint8_t trailer[CHAN_IN_TRAILER];
	put32(trailer, (uint32_t)(alen + blen));
	memcpy(trailer + 4, CHAN_IN_MAGIC, 4);
	struct iovec iov[3] = { { (void *)a, alen }, { (void *)b, blen }, { trailer, sizeof(trailer) } };
	for (;;) {
		ssize_t w = writev(rt.in, iov, 3);
		if (w >= 0)
			return (size_t)w == alen + blen + sizeof(trailer);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return false;	/* EPIPE: the runtime is gone */
		int64_t left = deadline - now_ns();
		if (left <= 0)
			return false;
		struct pollfd pf = { .fd = rt.in, .events = POLLOUT };
		poll(&pf, 1, (int)(left / 1000000) + 1);
	}
}

/* Why the runtime died, Lambda-ish wording. */
static void death_reason(char *buf, size_t len)
{
	int st = rt.wstatus;
	if (WIFEXITED(st)) {
		snprintf(buf, len, "Runtime exited with code %d", WEXITSTATUS(st));
	} else if (WIFSIGNALED(st)) {
		int sig = WTERMSIG(st);
		const char *name = sigabbrev_np(sig);
		snprintf(buf, len, "Runtime killed by signal %d (SIG%s)%s", sig, name ? name : "?",
			 sig == SIGKILL ? ": out of memory?" : "");
	} else {
		snprintf(buf, len, "Runtime ended (status 0x%x)", st);
	}
}

enum wres { W_MSG, W_TIMEOUT, W_DIED, W_TERM, W_BROKEN };

static void handle_term(void);

/* Looks in resbuf for a whole result-pipe message that starts with
 * `nonce` and moves it to msg[].  Bytes before it are whatever a handler
 * wrote into the pipe: dropped.  The bootstrap writes a message in one
 * write of at most PIPE_BUF, so it is contiguous in the pipe and the
 * bytes after its nonce are its own. */
static bool res_take(const uint8_t nonce[CHAN_NONCE_LEN], size_t *len)
{
	uint8_t *p = memmem(resbuf, reslen, nonce, CHAN_NONCE_LEN);
	if (!p) {	/* keep a tail that may be the start of the nonce */
		if (reslen > CHAN_NONCE_LEN - 1) {
			memmove(resbuf, resbuf + reslen - (CHAN_NONCE_LEN - 1), CHAN_NONCE_LEN - 1);
			reslen = CHAN_NONCE_LEN - 1;
		}
		return false;
	}
	size_t avail = reslen - (size_t)(p - resbuf);
	const size_t hl = CHAN_NONCE_LEN + 1 + 8;	/* nonce 'S' rss len */
	if (avail >= hl) {
		size_t need = hl + get32(p + CHAN_NONCE_LEN + 5);
		if (need > CHAN_PIPE_MSG_MAX)
			need = CHAN_NONCE_LEN + 1;	/* too long for the lane: a violation */
		if (avail >= need) {
			memcpy(msg, p, need);
			*len = need;
			reslen = 0;
			return true;
		}
	}
	memmove(resbuf, p, avail);
	reslen = avail;
	return false;
}

/* Reads what the result pipe holds (non-blocking); true if that
 * completed the message with `nonce`. */
static bool res_read(const uint8_t nonce[CHAN_NONCE_LEN], size_t *len)
{
	while (rt.res >= 0) {
		ssize_t r = read(rt.res, resbuf + reslen, sizeof(resbuf) - reslen);
		if (r > 0) {
			reslen += (size_t)r;
			if (res_take(nonce, len))
				return true;
			continue;
		}
		if (r == 0) {	/* every writer is gone */
			close(rt.res);
			rt.res = -1;
		} else if (errno == EINTR) {
			continue;
		}
		break;
	}
	return false;
}

/* Waits for the next channel message carrying `nonce`, draining logs and
 * reaping children meanwhile.  deadline 0 means none.  *len is set on
 * W_MSG; the message is in msg[]. */
static enum wres wait_msg(const uint8_t nonce[CHAN_NONCE_LEN], int64_t deadline, size_t *len)
{
	enum { P_CHAN, P_RES, P_LOG, P_SIG };
	for (;;) {
		/* The reply's two lanes before the logs: see the note below. */
		struct pollfd pf[4] = {
			[P_CHAN] = { .fd = rt.chan, .events = POLLIN },
			[P_RES] = { .fd = rt.res, .events = POLLIN },
			[P_LOG] = { .fd = rt.logfd, .events = POLLIN },
			[P_SIG] = { .fd = sigfd, .events = POLLIN },
		};
		struct timespec ts, *tsp = NULL;
		if (deadline) {
			int64_t left = deadline - now_ns();
			if (left <= 0)
				return W_TIMEOUT;
			ts.tv_sec = left / 1000000000;
			ts.tv_nsec = left % 1000000000;
			tsp = &ts;
		}
		int r = ppoll(pf, 4, tsp, NULL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return W_BROKEN;
		}
		if (r == 0)
			continue;	/* the deadline check above answers */
		/* The bootstrap writes its logs before it replies, and poll
		 * scans the fds in array order, the reply lanes before the log
		 * pipe: if the reply was readable and the log pipe was not, no
		 * log of this invocation is still in flight, no extra read. */
		if (pf[P_LOG].revents)
			drain_logs();
		if (pf[P_RES].revents && res_read(nonce, len))
			return W_MSG;
		if (pf[P_CHAN].revents & POLLIN) {
			ssize_t n = recv(rt.chan, msg, sizeof(msg), MSG_DONTWAIT);
			if (n >= CHAN_NONCE_LEN + 1 && memcmp(msg, nonce, CHAN_NONCE_LEN) == 0) {
				*len = (size_t)n;
				return W_MSG;
			}
			/* Anything else is a handler writing into our channel, or
			 * a stale message of an earlier invocation: dropped. */
			if (n == 0)
				pf[P_CHAN].revents |= POLLHUP;
		}
		if (pf[P_SIG].revents & POLLIN) {
			struct signalfd_siginfo si;
			bool died = false, term = false;
			while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD)
					died |= reap_children();
				else
					term = true;
			}
			if (term)
				return W_TERM;
			if (died) {
				/* A reply sent just before the exit still counts. */
				ssize_t n = recv(rt.chan, msg, sizeof(msg), MSG_DONTWAIT);
				if (n >= CHAN_NONCE_LEN + 1 && memcmp(msg, nonce, CHAN_NONCE_LEN) == 0) {
					*len = (size_t)n;
					return W_MSG;
				}
				if (res_read(nonce, len))
					return W_MSG;
				drain_logs();
				return W_DIED;
			}
		}
		if ((pf[P_CHAN].revents & (POLLHUP | POLLERR)) && !(pf[P_CHAN].revents & POLLIN)) {
			/* The runtime closed its end but has not been reaped yet:
			 * wait for it a bounded while (never wait4(0): that is
			 * "any child of our group"). */
			if (rt.pid <= 0)
				return W_DIED;
			int st;
			struct rusage ru;
			int64_t until = now_ns() + 1000000000;
			while (now_ns() < until) {
				pid_t p = wait4(rt.pid, &st, WNOHANG, &ru);
				if (p == rt.pid) {
					rt.wstatus = st;
					rt.maxrss_kb = ru.ru_maxrss;
					rt.pid = 0;
					if (res_read(nonce, len))
						return W_MSG;
					drain_logs();
					return W_DIED;
				}
				struct timespec nap = { 0, 1000000 };
				nanosleep(&nap, NULL);
			}
			return W_BROKEN;
		}
	}
}

/* u32-prefixed string i of a message body, or NULL. */
static const uint8_t *msg_str(const uint8_t *p, const uint8_t *end, uint32_t *len,
			      const uint8_t **next)
{
	if (end - p < 4)
		return NULL;
	uint32_t l = get32(p);
	if (l > (size_t)(end - p) - 4)
		return NULL;
	*len = l;
	*next = p + 4 + l;
	return p + 4;
}

/* Copies the type/message/stack strings of an 'E' or 'X' message into
 * the reply, pointing into msg[] (which stays intact until sent). */
static void out_error_strings(struct out *o, const uint8_t *p, const uint8_t *end)
{
	static const uint16_t tags[3] = { FT_ERROR_TYPE, FT_ERROR_MESSAGE, FT_ERROR_STACK };
	for (int i = 0; i < 3; i++) {
		uint32_t l;
		const uint8_t *next, *s = msg_str(p, end, &l, &next);
		if (!s)
			break;
		out_bytes(o, tags[i], s, l);
		p = next;
	}
}

/* Sends the saved init to the (fresh) runtime and waits for its answer.
 * When `o` is given, the answer is put there as READY/INIT_ERROR;
 * otherwise failures are remembered in init_failure. */
static bool do_init(struct out *o, int64_t t0)
{
	uint8_t nonce[CHAN_NONCE_LEN];
	new_nonce(nonce);
	memcpy(init_msg + 1, nonce, CHAN_NONCE_LEN);
	char why[256];
	const char *etype = "Runtime.InitError";
	if (send(rt.chan, init_msg, init_msg_len, MSG_NOSIGNAL) < 0) {
		snprintf(why, sizeof(why), "cannot send init to the runtime: %s", strerror(errno));
	} else {
		size_t n;
		enum wres w = wait_msg(nonce, t0 + (int64_t)init_budget_ms * 1000000, &n);
		if (w == W_MSG && n >= CHAN_NONCE_LEN + 5) {
			uint8_t kind = msg[CHAN_NONCE_LEN];
			uint32_t rss = get32(msg + CHAN_NONCE_LEN + 1);
			if (kind == CHAN_READY) {
				rt.inited = true;
				if (o) {
					out_init(o, FRAME_READY);
					out_u64(o, FT_INIT_US, (uint64_t)(now_ns() - t0) / 1000);
					out_u64(o, FT_MAX_RSS_KB, rss);
					out_logs(o);
				}
				return true;
			}
			if (kind == CHAN_INIT_ERR) {
				if (o) {
					out_init(o, FRAME_INIT_ERROR);
					out_error_strings(o, msg + CHAN_NONCE_LEN + 5, msg + n);
					out_u64(o, FT_INIT_US, (uint64_t)(now_ns() - t0) / 1000);
					out_logs(o);
				} else {
					uint32_t l1, l2;
					const uint8_t *nx, *nx2, *t, *m;
					t = msg_str(msg + CHAN_NONCE_LEN + 5, msg + n, &l1, &nx);
					m = t ? msg_str(nx, msg + n, &l2, &nx2) : NULL;
					snprintf(init_failure, sizeof(init_failure), "re-init failed: %.*s: %.*s",
						 t ? (int)(l1 > 100 ? 100 : l1) : 0, t ? (const char *)t : "",
						 m ? (int)(l2 > 300 ? 300 : l2) : 0, m ? (const char *)m : "");
				}
				kill_runtime();
				return false;
			}
			snprintf(why, sizeof(why), "unexpected message '%c' from the runtime during init", kind);
		} else if (w == W_TIMEOUT) {
			etype = "Runtime.InitTimeout";
			snprintf(why, sizeof(why), "init did not finish within %llu ms",
				 (unsigned long long)init_budget_ms);
		} else if (w == W_DIED) {
			etype = "Runtime.ExitError";
			death_reason(why, sizeof(why));
		} else if (w == W_TERM) {
			handle_term();
		} else {
			snprintf(why, sizeof(why), "runtime channel broken during init");
		}
	}
	kill_runtime();
	if (o) {
		out_init(o, FRAME_INIT_ERROR);
		out_str(o, FT_ERROR_TYPE, etype);
		out_str(o, FT_ERROR_MESSAGE, why);
		out_u64(o, FT_INIT_US, (uint64_t)(now_ns() - t0) / 1000);
		out_logs(o);
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
	if (!spawn_runtime(init_lang)) {
		snprintf(init_failure, sizeof(init_failure), "cannot start the %s runtime: %s",
			 init_lang, strerror(errno));
		return;
	}
	logs_reset();
	do_init(NULL, now_ns());
	logs_reset();	/* restart noise does not belong to the next call */
}

static void prestart_if_asked(void)
{
	if (opt_prestart && rt.pid == 0 && !spawn_runtime(opt_prestart))
		warnx("cannot prestart %s: %s", opt_prestart, strerror(errno));
}

/* ---- frame handlers ------------------------------------------------- */

static void handle_init(const struct frame *f)
{
	struct frame_iter it;
	struct frame_field fld;
	const struct frame_field *code = NULL, *handler = NULL, *lang = NULL, *fname = NULL;
	struct frame_field fcode, fhandler, flang, fname_;
	uint64_t mem = 128, tmo = 3000;
	size_t envsz = 0;
	struct out o;
	int64_t t0 = now_ns();

	frame_iter_init(&it, f);
	while (frame_iter_next(&it, &fld) == 1) {
		switch (fld.tag) {
		case FT_CODE_DIR: fcode = fld; code = &fcode; break;
		case FT_HANDLER: fhandler = fld; handler = &fhandler; break;
		case FT_LANGUAGE: flang = fld; lang = &flang; break;
		case FT_FUNCTION_NAME: fname_ = fld; fname = &fname_; break;
		case FT_MEMORY_MB: frame_field_u64(&fld, &mem); break;
		case FT_TIMEOUT_MS: frame_field_u64(&fld, &tmo); break;
		case FT_ENV: envsz += 4 + fld.len; break;
		}
	}
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
		out_init(&o, FRAME_INIT_ERROR);
		out_str(&o, FT_ERROR_TYPE, "Runtime.InitError");
		out_str(&o, FT_ERROR_MESSAGE, bad);
		out_send(&o);
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
		put32(p, (uint32_t)sl[i]);
		memcpy(p + 4, sv[i], sl[i]);
		p += 4 + sl[i];
	}
	frame_iter_init(&it, f);
	while (frame_iter_next(&it, &fld) == 1) {
		if (fld.tag != FT_ENV)
			continue;
		put32(p, fld.len);
		memcpy(p + 4, fld.val, fld.len);
		p += 4 + fld.len;
	}
	init_msg_len = (size_t)(p - init_msg);
	init_budget_ms = tmo > INIT_MIN_BUDGET_MS ? tmo : INIT_MIN_BUDGET_MS;
	snprintf(init_lang, sizeof(init_lang), "%s", langs);

	/* A prestarted runtime of the right language that has not loaded a
	 * function yet is the stem cell: reuse it.  Anything else is replaced. */
	if (rt.pid > 0 && (rt.inited || strcmp(rt.lang, langs) != 0))
		kill_runtime();
	if (rt.pid == 0) {
		close_rt_fds();
		if (!spawn_runtime(langs)) {
			char why[160];
			snprintf(why, sizeof(why), "cannot start the %s runtime: %s", langs, strerror(errno));
			out_init(&o, FRAME_INIT_ERROR);
			out_str(&o, FT_ERROR_TYPE, "Runtime.InitError");
			out_str(&o, FT_ERROR_MESSAGE, why);
			out_send(&o);
			return;
		}
	}
	init_failure[0] = 0;
	bool ok = do_init(&o, t0);
	out_send(&o);
	logs_reset();
	if (!ok) {
		free(init_msg);
		init_msg = NULL;
		prestart_if_asked();
	}
}

static void reply_simple(uint8_t status, const char *type, const char *message,
			 uint64_t dur_us, uint64_t rss)
{
	struct out o;
	out_init(&o, FRAME_REPLY);
	out_u64(&o, FT_STATUS, status);
	out_u64(&o, FT_DURATION_US, dur_us);
	out_u64(&o, FT_MAX_RSS_KB, rss);
	out_str(&o, FT_ERROR_TYPE, type);
	out_str(&o, FT_ERROR_MESSAGE, message);
	out_logs(&o);
	out_send(&o);
	logs_reset();
}

static void handle_invoke(const struct frame *f)
{
	static uint8_t *result;		/* multi-chunk results; kept for reuse */
	static size_t result_alloc;
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
		reply_simple(INVOCATION_ERROR, "Hearth.BadRequest",
			     rid_len > INVOKE_REQUEST_ID_MAX ? "request id too long"
						      : "payload over 6 MiB", 0, 0);
		return;
	}
	if (!init_msg) {
		reply_simple(INVOCATION_CRASHED, "Hearth.NotInitialised",
			     "invoke before a successful init", 0, 0);
		return;
	}
	if (!rt.inited) {
		if (rt.pid > 0)
			kill_runtime();
		restart_runtime();
		if (!rt.inited) {
			reply_simple(INVOCATION_CRASHED, "Runtime.InitError", init_failure, 0, 0);
			return;
		}
	}
	if (deadline_ms == 0)
		deadline_ms = init_budget_ms;	/* the function's timeout (>= 10 s) */
	if (deadline_ms > FN_TIMEOUT_MAX * 1000ull)
		deadline_ms = FN_TIMEOUT_MAX * 1000ull;

	uint8_t nonce[CHAN_NONCE_LEN];
	new_nonce(nonce);
	uint8_t hdr[1 + CHAN_NONCE_LEN + 10 + INVOKE_REQUEST_ID_MAX];
	size_t hl = 0;
	hdr[hl++] = CHAN_INVOKE;
	memcpy(hdr + hl, nonce, CHAN_NONCE_LEN);
	hl += CHAN_NONCE_LEN;
	put32(hdr + hl, (uint32_t)deadline_ms);
	put32(hdr + hl + 4, payload_len);
	hdr[hl + 8] = (uint8_t)(rid_len >> 8);
	hdr[hl + 9] = (uint8_t)rid_len;
	hl += 10;
	memcpy(hdr + hl, rid, rid_len);
	hl += rid_len;

	int64_t t0 = now_ns();
	int64_t deadline = t0 + (int64_t)deadline_ms * 1000000;
	reslen = 0;	/* nothing read from the result pipe so far is for this call */
	size_t off = payload_len;
	bool sent, big = hl + payload_len + CHAN_IN_TRAILER > CHAN_PIPE_MSG_MAX;
	if (!big) {
		/* The fast lane: the whole invoke in one pipe write, gathered
		 * straight from the frame buffer. */
		sent = in_send(hdr, hl, payload, payload_len, deadline);
	} else {
		/* Announce it on the input pipe, then header + as much payload
		 * as fits on the channel, then 'C' chunks. */
		static const uint8_t on_chan = CHAN_INVOKE_ON_CHAN;
		sent = in_send(&on_chan, 1, NULL, 0, deadline);
		off = 0;
	}
	if (sent && big) {
		size_t first = CHAN_MSG_MAX - hl;
		if (first > payload_len)
			first = payload_len;
		struct iovec iov[2] = { { hdr, hl }, { (void *)payload, first } };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
		if (sendmsg(rt.chan, &mh, MSG_NOSIGNAL) < 0)
			sent = false;
		off = first;
	}
	while (sent && off < payload_len) {
		static uint8_t more = CHAN_MORE;
		size_t n = payload_len - off;
		if (n > CHAN_MSG_MAX - 1)
			n = CHAN_MSG_MAX - 1;
		struct iovec iov[2] = { { &more, 1 }, { (void *)(payload + off), n } };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
		if (sendmsg(rt.chan, &mh, MSG_NOSIGNAL) < 0)
			sent = false;
		off += n;
	}

	struct out o;
	size_t n = 0;
	enum wres w = W_BROKEN;
	uint32_t total = 0, got = 0, rss = 0;
	const uint8_t *res = NULL;
	char why[200];
	bool violated = false;
	/* Even when sending failed, the wait tells us why (death, timeout). */
	while ((w = wait_msg(nonce, deadline, &n)) == W_MSG) {
		uint8_t kind = msg[CHAN_NONCE_LEN];
		const uint8_t *body = msg + CHAN_NONCE_LEN + 1, *end = msg + n;
		if (total == 0 && got == 0 && res == NULL) {
			if (n < CHAN_NONCE_LEN + 5) {
				violated = true;
				break;
			}
			rss = get32(body);
			body += 4;
			if (kind == CHAN_ERROR) {
				out_init(&o, FRAME_REPLY);
				out_u64(&o, FT_STATUS, INVOCATION_ERROR);
				out_u64(&o, FT_DURATION_US, (uint64_t)(now_ns() - t0) / 1000);
				out_u64(&o, FT_MAX_RSS_KB, rss);
				out_error_strings(&o, body, end);
				out_logs(&o);
				out_send(&o);
				logs_reset();
				return;
			}
			if (kind != CHAN_RESULT || end - body < 4) {
				violated = true;
				break;
			}
			total = get32(body);
			body += 4;
			if (total > INVOKE_PAYLOAD_MAX || (size_t)(end - body) > total) {
				violated = true;
				break;
			}
			got = (uint32_t)(end - body);
			if (got == total) {	/* the common case: one message */
				res = body;
				break;
			}
			if (result_alloc < total) {
				uint8_t *nr = realloc(result, total);
				if (!nr)
					die("out of memory for a %u-byte result", total);
				result = nr;
				result_alloc = total;
			}
			memcpy(result, body, got);
			res = result;
			continue;
		}
		if (kind != CHAN_MORE || (size_t)(end - body) > total - got) {
			violated = true;
			break;
		}
		memcpy(result + got, body, (size_t)(end - body));
		got += (uint32_t)(end - body);
		if (got == total)
			break;
	}
	uint64_t dur = (uint64_t)(now_ns() - t0) / 1000;
	if (w == W_MSG && !violated) {
		out_init(&o, FRAME_REPLY);
		out_u64(&o, FT_STATUS, INVOCATION_SUCCESS);
		out_u64(&o, FT_DURATION_US, dur);
		out_u64(&o, FT_MAX_RSS_KB, rss);
		out_bytes(&o, FT_RESULT, res, total);
		out_logs(&o);
		out_send(&o);
		logs_reset();
		return;
	}
	if (w == W_TERM)
		handle_term();
	uint8_t status = INVOCATION_CRASHED;
	const char *type = "Runtime.ExitError";
	if (w == W_TIMEOUT) {
		status = INVOCATION_TIMEOUT;
		type = "Runtime.Timeout";
		snprintf(why, sizeof(why), "Task timed out after %llu ms",
			 (unsigned long long)deadline_ms);
		kill_runtime();
	} else if (w == W_DIED) {
		death_reason(why, sizeof(why));
		kill_runtime();	/* its leftover children too */
	} else {
		type = "Runtime.ProtocolError";
		snprintf(why, sizeof(why), "%s", violated ? "the runtime broke the channel protocol"
							  : "the runtime channel broke");
		kill_runtime();
	}
	reply_simple(status, type, why, dur, (uint64_t)rt.maxrss_kb);
	restart_runtime();
}

static void send_pong(void)
{
	struct out o;
	out_init(&o, FRAME_PONG);
	out_send(&o);
}

static void shutdown_and_exit(int code)
{
	kill_runtime();
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
	if (rt.pid > 0) {
		kill(-rt.pgid, SIGTERM);
		if (is_pid1)
			kill(-1, SIGTERM);
		int64_t until = now_ns() + (int64_t)TERM_GRACE_MS * 1000000;
		while (rt.pid > 0 && now_ns() < until) {
			struct pollfd pf = { .fd = sigfd, .events = POLLIN };
			poll(&pf, 1, 50);
			struct signalfd_siginfo si;
			while (read(sigfd, &si, sizeof(si)) == sizeof(si))
				;
			reap_children();
		}
	}
	shutdown_and_exit(0);
}

/* ---- the connection loop -------------------------------------------- */

static uint8_t *inbuf;
static size_t inlen, inalloc;

/* Serves one hearthd connection until it closes or breaks the stream. */
/* Waits, between invocations, until fd has something: meanwhile drains
 * the runtime's output and handles signals (a runtime that died while
 * idle is restarted at the next invoke).  Returns fd's revents, 0 when
 * poll was interrupted. */
static short idle_poll(int fd)
{
	struct pollfd pf[3] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = sigfd, .events = POLLIN },
		{ .fd = rt.logfd, .events = POLLIN },
	};

	if (poll(pf, 3, -1) < 0) {
		if (errno != EINTR)
			die("poll: %s", strerror(errno));
		return 0;
	}
	if (pf[2].revents)
		drain_logs();
	if (pf[1].revents & POLLIN) {
		struct signalfd_siginfo si;
		bool term = false;

		while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGCHLD) {
				if (reap_children())
					close_rt_fds();
			} else {
				term = true;
			}
		}
		if (term)
			handle_term();
	}
	return pf[0].revents;
}

static void serve(void)
{
	inlen = 0;
	for (;;) {
		struct frame f;
		size_t need;
		int pr = frame_parse(inbuf, inlen, &f, &need);
		if (pr < 0) {
			send_proto_error(frame_strerror(pr));
			return;	/* the stream cannot be resynchronised */
		}
		if (pr == 1) {
			int v = frame_validate(&f);
			if (v < 0) {
				send_proto_error(frame_strerror(v));
			} else {
				switch (f.type) {
				case FRAME_PING: send_pong(); break;
				case FRAME_INIT: handle_init(&f); break;
				case FRAME_INVOKE: handle_invoke(&f); break;
				case FRAME_SHUTDOWN: shutdown_and_exit(0); break;
				default: send_proto_error("unknown frame type"); break;
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
	      "(runtimes/PROTOCOL.md) on the unix socket PATH.\n", f);
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
	if (opt_prestart && strcmp(opt_prestart, "python") != 0 && strcmp(opt_prestart, "node") != 0)
		die("--prestart takes python or node");

	is_pid1 = getpid() == 1;
	/* Outside a container we are not PID 1: become the reaper of our
	 * descendants' orphans so they do not linger as zombies either. */
	if (!is_pid1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		warnx("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	if (getrandom(&rng_state, sizeof(rng_state), 0) != sizeof(rng_state))
		rng_state ^= (uint64_t)now_ns() ^ (uint64_t)getpid() << 32;

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd < 0)
		die("signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int sl = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", opt_socket);
	if (sl < 0 || (size_t)sl >= sizeof(sa.sun_path))
		die("socket path too long (max %zu bytes): %s", sizeof(sa.sun_path) - 1, opt_socket);
	listenfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listenfd < 0)
		die("socket: %s", strerror(errno));
	unlink(opt_socket);	/* a stale socket of an earlier run */
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
