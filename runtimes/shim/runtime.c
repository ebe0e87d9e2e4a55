/* runtime.c — the runtime process, its channel and pipes, its logs
 * (runtime.h). */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bounds.h"
#include "chan.h"

static const char *py_boot, *node_boot;
static int sigfd = -1;
static bool is_pid1;

/* The runtime process and our ends of its pipes. */
static struct {
	pid_t pid;  /* 0 when none */
	pid_t pgid; /* its process group; outlives it while children do */
	int chan;   /* SEQPACKET, our end */
	int in;	    /* write end of its input pipe (chan.h fast lanes) */
	int res;    /* read end of its result pipe */
	int logfd;  /* read end of its stdout+stderr */
	char lang[8];
	bool inited;	/* it answered an init with CHAN_READY */
	bool lane;	/* hearthd drives it directly (runtime_lane) */
	int wstatus;	/* valid after it died */
	long maxrss_kb; /* from wait4, after it died */
} rt = { .chan = -1, .in = -1, .res = -1, .logfd = -1 };

/* Logs of the current invocation: capped; the rest is read and dropped. */
static char logbuf[INVOKE_LOGS_MAX];
static size_t loglen;
static uint64_t logdropped;

static uint8_t nonce[CHAN_NONCE_LEN]; /* of the request in flight */
static uint8_t msg[CHAN_MSG_MAX];     /* one channel message */
/* Bytes read from the result pipe not yet matched to a message. */
static uint8_t resbuf[CHAN_RES_BUF];
static size_t reslen;
static uint64_t rng_state; /* chan_nonce_next's, seeded from getrandom */

static void new_nonce(void)
{
	chan_nonce_next(&rng_state, nonce);
}

int runtime_setup(const char *python_bootstrap, const char *node_bootstrap, int signal_fd)
{
	py_boot = python_bootstrap;
	node_boot = node_bootstrap;
	sigfd = signal_fd;
	is_pid1 = getpid() == 1;
	if (getrandom(&rng_state, sizeof(rng_state), 0) != sizeof(rng_state))
		rng_state ^= (uint64_t)runtime_now_ns() ^ (uint64_t)getpid() << 32;
	/* Outside a container we are not PID 1: become the reaper of our
	 * descendants' orphans so they do not linger as zombies either. */
	if (!is_pid1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return -errno;
	return 0;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* One read of a non-blocking pipe of the runtime's: the bytes read, or 0
 * when there is nothing more for now.  When every writer is gone, *fd is
 * closed and set to -1. */
static ssize_t pipe_read(int *fd, void *buf, size_t len)
{
	for (;;) {
		ssize_t r = read(*fd, buf, len);
		if (r > 0)
			return r;
		if (r == 0) {
			close(*fd);
			*fd = -1;
			return 0;
		}
		if (errno != EINTR)
			return 0;
	}
}

static void drain_logs(void)
{
	static char sink[65536];
	while (rt.logfd >= 0) {
		bool keep = loglen < INVOKE_LOGS_MAX;
		ssize_t r = pipe_read(&rt.logfd, keep ? logbuf + loglen : sink,
				      keep ? INVOKE_LOGS_MAX - loglen : sizeof(sink));
		if (r <= 0)
			return;
		if (keep)
			loglen += (size_t)r;
		else
			logdropped += (uint64_t)r;
	}
}

struct runtime_logs runtime_logs(void)
{
	return (struct runtime_logs){ logbuf, loglen, logdropped };
}

void runtime_logs_reset(void)
{
	loglen = 0;
	logdropped = 0;
}

static void note_death(int st, const struct rusage *ru)
{
	rt.wstatus = st;
	rt.maxrss_kb = ru->ru_maxrss;
	rt.pid = 0;
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
			note_death(st, &ru);
			rt_died = true;
		}
	}
	return rt_died;
}

/* Reads every pending signal: children are reaped on SIGCHLD, *term set
 * on SIGTERM or SIGINT.  Returns true if the runtime died. */
static bool read_signals(bool *term)
{
	struct signalfd_siginfo si;
	bool died = false;
	while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			died |= reap_children();
		else
			*term = true;
	}
	return died;
}

void runtime_close(void)
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
	/* On the lane the logs are hearthd's: it reads them to the end. */
	if (rt.logfd >= 0 && !rt.lane) {
		drain_logs();
		if (rt.logfd >= 0)
			close(rt.logfd);
	}
	rt.logfd = -1;
	rt.inited = false;
	rt.lane = false;
}

void runtime_kill(void)
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
		if (wait4(rt.pid, &st, 0, &ru) == rt.pid)
			note_death(st, &ru);
		rt.pid = 0;
	}
	reap_children();
	runtime_close();
}

void runtime_terminate(int grace_ms)
{
	if (rt.pid <= 0)
		return;
	kill(-rt.pgid, SIGTERM);
	if (is_pid1)
		kill(-1, SIGTERM);
	int64_t until = runtime_now_ns() + (int64_t)grace_ms * 1000000;
	while (rt.pid > 0 && runtime_now_ns() < until) {
		struct pollfd pf = { .fd = sigfd, .events = POLLIN };
		poll(&pf, 1, 50);
		struct signalfd_siginfo si;
		while (read(sigfd, &si, sizeof(si)) == sizeof(si))
			;
		reap_children();
	}
}

static void close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* The container's memory limit in MB (cgroup v2, then v1), or 0 when it
 * has none or it cannot be read. */
static unsigned long container_memory_mb(void)
{
	static const char *const paths[] = { "/sys/fs/cgroup/memory.max",
					     "/sys/fs/cgroup/memory/memory.limit_in_bytes" };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char text[32] = "";
		int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
		char *end;
		unsigned long long bytes;

		if (fd >= 0)
			close(fd);
		if (n <= 0)
			continue;
		text[n] = '\0';
		errno = 0;
		bytes = strtoull(text, &end, 10);
		/* "max" (v2), or v1's "no limit" near 2^63 */
		if (errno || end == text || bytes >= (1ULL << 50))
			return 0;
		return (unsigned long)(bytes >> 20);
	}
	return 0;
}

bool runtime_spawn(const char *lang)
{
	/* Node's young generation sized from the container's memory as
	 * Lambda's node bootstrap sizes it, semi-spaces of 5%, and never
	 * smaller than V8's own maximum without a limit (16 MB).  V8's sizing
	 * under a cgroup limit leaves them at a few MB, and a large payload
	 * paid for it in scavenges: 1.55x the CPU of an unlimited node on a
	 * 1 MB JSON echo in a 512 MB container.  A stem cell is spawned at
	 * the stem's limit (128 MB: 5% would be 6 MB, short for a 6 MB
	 * payload) and given its function's later.  The old generation keeps
	 * V8's default: Lambda's 90% of a stem's limit would be less than it
	 * (115 MB against 259 MB). */
	unsigned long mem_mb = strcmp(lang, "node") == 0 ? container_memory_mb() : 0;
	char semi[48] = "";

	if (mem_mb > 0)
		snprintf(semi, sizeof(semi), "--max-semi-space-size=%lu",
			 mem_mb * 5 / 100 > 16 ? mem_mb * 5 / 100 : 16);
	bool python = strcmp(lang, "python") == 0;
	if (!python && strcmp(lang, "node") != 0) {
		errno = EINVAL;
		return false;
	}
	/* Pairs of (our end, its end), in the order they are made. */
	enum { CHAN_OURS, CHAN_ITS, LOG_OURS, LOG_ITS, IN_ITS, IN_OURS, RES_OURS, RES_ITS, NFDS };
	int fds[NFDS] = { -1, -1, -1, -1, -1, -1, -1, -1 };
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds + CHAN_OURS) < 0 ||
	    pipe2(fds + LOG_OURS, O_CLOEXEC) < 0 || pipe2(fds + IN_ITS, O_CLOEXEC) < 0 ||
	    pipe2(fds + RES_OURS, O_CLOEXEC) < 0) {
		close_fds(fds, NFDS);
		return false;
	}
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid_t pid = fork();
	if (pid < 0) {
		close_fds(fds, NFDS);
		close_fds(&devnull, 1);
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
		dup2(fds[LOG_ITS], 1);
		dup2(fds[LOG_ITS], 2);
		dup2(fds[CHAN_ITS], CHAN_FD);
		dup2(fds[IN_ITS], CHAN_IN_FD);
		dup2(fds[RES_ITS], CHAN_RES_FD);
		char fdstr[16];
		snprintf(fdstr, sizeof(fdstr), "%d", CHAN_FD);
		setenv("HEARTH_CHANNEL_FD", fdstr, 1);
		/* The result cap is bounds.h's; the bootstraps take it from here
		 * rather than write the number again. */
		snprintf(fdstr, sizeof(fdstr), "%u", INVOKE_PAYLOAD_MAX);
		setenv("HEARTH_RESULT_MAX", fdstr, 1);
		/* Logs must survive os._exit and crashes, so no stdio buffer. */
		setenv("PYTHONUNBUFFERED", "1", 1);
		if (python)
			execlp("python3", "python3", "-u", "-B", py_boot, (char *)NULL);
		else if (semi[0])
			execlp("node", "node", semi, node_boot, (char *)NULL);
		else
			execlp("node", "node", node_boot, (char *)NULL);
		dprintf(2, "hearth-shim: cannot run the %s runtime: %s\n", lang, strerror(errno));
		_exit(127);
	}
	int its[] = { fds[CHAN_ITS], fds[LOG_ITS], fds[IN_ITS], fds[RES_ITS], devnull };
	close_fds(its, 5);
	rt.in = fds[IN_OURS];
	rt.res = fds[RES_OURS];
	reslen = 0;
	set_nonblock(rt.in);
	set_nonblock(rt.res);
	rt.pid = pid;
	rt.pgid = pid;
	rt.chan = fds[CHAN_OURS];
	rt.logfd = fds[LOG_OURS];
	rt.inited = false;
	rt.lane = false;
	rt.wstatus = 0;
	rt.maxrss_kb = 0;
	snprintf(rt.lang, sizeof(rt.lang), "%s", lang);
	set_nonblock(rt.logfd);
	/* A runtime that stops reading must not hang the shim past a deadline. */
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(rt.chan, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return true;
}

bool runtime_running(void)
{
	return rt.pid > 0;
}

bool runtime_loaded(void)
{
	return rt.inited;
}

void runtime_set_loaded(void)
{
	rt.inited = true;
}

const char *runtime_lang(void)
{
	return rt.lang;
}

uint64_t runtime_maxrss_kb(void)
{
	return (uint64_t)rt.maxrss_kb;
}

void runtime_death_reason(char *buf, size_t len)
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

void runtime_lane(int fds[4])
{
	fds[0] = rt.in;
	fds[1] = rt.res;
	fds[2] = rt.chan;
	fds[3] = rt.logfd;
	rt.lane = true;
}

/* ---- sending ---------------------------------------------------------- */

bool runtime_send_init(uint8_t *m, size_t len)
{
	new_nonce();
	memcpy(m + 1, nonce, CHAN_NONCE_LEN);
	return send(rt.chan, m, len, MSG_NOSIGNAL) >= 0;
}

/* One message of at most PIPE_BUF bytes on the runtime's input pipe,
 * followed by its trailer; atomic, so it arrives whole.  The pipe is
 * normally empty here; if a handler filled it with junk, wait for the
 * runtime to drain it, until the deadline.  False if it cannot be sent. */
static bool in_send(const void *a, size_t alen, const void *b, size_t blen, int64_t deadline)
{
	uint8_t trailer[CHAN_IN_TRAILER];
	chan_in_trailer(trailer, (uint32_t)(alen + blen));
	struct iovec iov[3] = { { (void *)a, alen },
				{ (void *)b, blen },
				{ trailer, sizeof(trailer) } };
	for (;;) {
		ssize_t w = writev(rt.in, iov, 3);
		if (w >= 0)
			return (size_t)w == alen + blen + sizeof(trailer);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return false; /* EPIPE: the runtime is gone */
		int64_t left = deadline - runtime_now_ns();
		if (left <= 0)
			return false;
		struct pollfd pf = { .fd = rt.in, .events = POLLOUT };
		poll(&pf, 1, (int)(left / 1000000) + 1);
	}
}

/* One message on the channel: head, then body bytes. */
static bool chan_send(const void *head, size_t hlen, const void *body, size_t blen)
{
	struct iovec iov[2] = { { (void *)head, hlen }, { (void *)body, blen } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	return sendmsg(rt.chan, &mh, MSG_NOSIGNAL) >= 0;
}

void runtime_send_invoke(uint32_t deadline_ms, const uint8_t *rid, uint32_t rid_len,
			 const uint8_t *payload, uint32_t payload_len, int64_t deadline)
{
	new_nonce();
	uint8_t hdr[CHAN_INVOKE_HEAD_MAX];
	size_t hl = chan_invoke_head(hdr, nonce, deadline_ms, payload_len, rid, rid_len);

	reslen = 0; /* nothing read from the result pipe so far is for this call */
	if (hl + payload_len + CHAN_IN_TRAILER <= CHAN_PIPE_MSG_MAX) {
		/* The fast lane: the whole invoke in one pipe write, gathered
		 * straight from the frame buffer. */
		in_send(hdr, hl, payload, payload_len, deadline);
		return;
	}
	/* Announce it on the input pipe, then header + as much payload as
	 * fits on the channel, then 'C' chunks. */
	static const uint8_t on_chan = CHAN_INVOKE_ON_CHAN, more = CHAN_MORE;
	if (!in_send(&on_chan, 1, NULL, 0, deadline))
		return;
	size_t off = CHAN_MSG_MAX - hl;
	if (off > payload_len)
		off = payload_len;
	bool sent = chan_send(hdr, hl, payload, off);
	while (sent && off < payload_len) {
		size_t n = payload_len - off;
		if (n > CHAN_MSG_MAX - 1)
			n = CHAN_MSG_MAX - 1;
		sent = chan_send(&more, 1, payload + off, n);
		off += n;
	}
}

/* ---- waiting ---------------------------------------------------------- */

/* Reads what the result pipe holds (non-blocking); true if that
 * completed the message with the nonce. */
static bool res_read(size_t *len)
{
	ssize_t r;
	while (rt.res >= 0 &&
	       (r = pipe_read(&rt.res, resbuf + reslen, sizeof(resbuf) - reslen)) > 0) {
		reslen += (size_t)r;
		if (chan_res_take(resbuf, &reslen, nonce, msg, len))
			return true;
	}
	return false;
}

/* One channel message, if it carries the nonce: its length; 0 if none
 * did (anything else is a handler writing into our channel, or a stale
 * message of an earlier request: dropped); -1 at the end of the channel. */
static ssize_t chan_take(void)
{
	ssize_t n = recv(rt.chan, msg, sizeof(msg), MSG_DONTWAIT);
	if (n >= CHAN_NONCE_LEN + 1 && memcmp(msg, nonce, CHAN_NONCE_LEN) == 0)
		return n;
	return n == 0 ? -1 : 0;
}

/* The runtime died: a reply on the result pipe just before still counts. */
static enum runtime_outcome after_death(size_t *len)
{
	if (res_read(len))
		return RUNTIME_MSG;
	drain_logs();
	return RUNTIME_DIED;
}

static enum runtime_outcome wait_msg(int64_t deadline, size_t *len)
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
			int64_t left = deadline - runtime_now_ns();
			if (left <= 0)
				return RUNTIME_TIMEOUT;
			ts.tv_sec = left / 1000000000;
			ts.tv_nsec = left % 1000000000;
			tsp = &ts;
		}
		int r = ppoll(pf, 4, tsp, NULL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return RUNTIME_BROKEN;
		}
		if (r == 0)
			continue; /* the deadline check above answers */
		/* The bootstrap writes its logs before it replies, and poll
		 * scans the fds in array order, the reply lanes before the log
		 * pipe: if the reply was readable and the log pipe was not, no
		 * log of this invocation is still in flight, no extra read. */
		if (pf[P_LOG].revents)
			drain_logs();
		if (pf[P_RES].revents && res_read(len))
			return RUNTIME_MSG;
		if (pf[P_CHAN].revents & POLLIN) {
			ssize_t n = chan_take();
			if (n > 0) {
				*len = (size_t)n;
				return RUNTIME_MSG;
			}
			if (n < 0)
				pf[P_CHAN].revents |= POLLHUP;
		}
		if (pf[P_SIG].revents & POLLIN) {
			bool term = false, died = read_signals(&term);
			if (term)
				return RUNTIME_TERM;
			if (died) {
				ssize_t n = chan_take();
				if (n > 0) {
					*len = (size_t)n;
					return RUNTIME_MSG;
				}
				return after_death(len);
			}
		}
		if ((pf[P_CHAN].revents & (POLLHUP | POLLERR)) && !(pf[P_CHAN].revents & POLLIN)) {
			/* The runtime closed its end but has not been reaped yet:
			 * wait for it a bounded while (never wait4(0): that is
			 * "any child of our group"). */
			if (rt.pid <= 0)
				return RUNTIME_DIED;
			int st;
			struct rusage ru;
			int64_t until = runtime_now_ns() + 1000000000;
			while (runtime_now_ns() < until) {
				if (wait4(rt.pid, &st, WNOHANG, &ru) == rt.pid) {
					note_death(st, &ru);
					return after_death(len);
				}
				struct timespec nap = { 0, 1000000 };
				nanosleep(&nap, NULL);
			}
			return RUNTIME_BROKEN;
		}
	}
}

enum runtime_outcome runtime_wait(int64_t deadline, const uint8_t **m, size_t *len)
{
	enum runtime_outcome o = wait_msg(deadline, len);
	*m = msg;
	return o;
}

int runtime_idle(int fd, bool *term)
{
	struct pollfd pf[3] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = sigfd, .events = POLLIN },
		{ .fd = rt.lane ? -1 : rt.logfd, .events = POLLIN },
	};

	*term = false;
	if (poll(pf, 3, -1) < 0)
		return errno == EINTR ? 0 : -1;
	if (pf[2].revents)
		drain_logs();
	if ((pf[1].revents & POLLIN) && read_signals(term)) {
		/* On the lane, hearthd learns of the death from its ends of the
		 * pipes: everything else that holds them goes too (runtime_kill
		 * as PID 1), so they close now. */
		if (rt.lane)
			runtime_kill();
		else
			runtime_close();
	}
	return *term ? 0 : pf[0].revents;
}
