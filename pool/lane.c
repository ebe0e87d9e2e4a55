/* lane.c — see lane.h.  The runtime's side of the messages is chan.h's,
 * laid out and taken apart by common/chan.c, the very code the shim
 * uses; this file holds the descriptors, their events and the states of
 * one call. */
#include "lane.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bounds.h"
#include "chan.h"
#include "heap.h"
#include "loop.h"
#include "util.h"

enum { L_IN, L_RES, L_CHAN, L_LOG };

enum lane_state {
	LANE_IDLE,
	LANE_CALL,   /* an invoke is with the runtime */
	LANE_KILLED, /* lane_ops.kill was called: waiting for lane_died */
	LANE_DEAD,
};

/* Reads per wake-up of what nobody asked for (a handler writing into the
 * pipes, logs): a writer that keeps a pipe full cannot hold the loop. */
#define READS_MAX 16
/* Bytes a call may send hearthd that are no part of its answer (on the
 * result pipe: any beyond its answer; on the channel: messages without
 * the nonce) before it counts as broken.  The answers are read at the
 * backend priority (loop.h), so a flood of junk must not last. */
#define JUNK_MAX (1u << 20)

struct lane {
	struct event_base *base;
	int fd[4];
	struct loop_watch *w_res, *w_chan; /* the answers: loop.h */
	struct event *ev_out, *ev_log, *ev_timer;
	struct lane_ops ops;
	void *arg;
	enum lane_state state;
	uint64_t rng;
	uint8_t nonce[CHAN_NONCE_LEN];
	unsigned deadline_ms;
	int64_t t0;
	struct chan_answer ans;
	uint8_t resbuf[CHAN_RES_BUF];
	size_t reslen;
	size_t junk; /* JUNK_MAX */
	/* The invoke's head, and what of a large invoke the channel has not
	 * taken yet: the head message (while head_len) and the payload from
	 * out_off on, the caller's until lane_payload_going copies it into
	 * out_buf. */
	uint8_t head[CHAN_INVOKE_HEAD_MAX];
	size_t head_len;
	const uint8_t *out;
	uint8_t *out_buf;
	size_t out_len, out_off;
	/* A failure found while sending, answered from the loop. */
	bool fail_queued;
	/* What lane_ops.kill was told, for the answer after DIED. */
	bool kill_had_call;
	enum invocation_status kill_status;
	char kill_type[32];
	char kill_msg[160];
	/* The logs of the call in flight (those written between calls go to
	 * the next), capped; room behind them for the truncation marker. */
	char logs[INVOKE_LOGS_MAX + CHAN_LOGS_MARKER_MAX];
	size_t loglen;
	uint64_t logdropped;
	bool logs_stale;  /* the last answer's: cleared before the next bytes */
	bool logs_paused; /* full between calls: the writer waits (frozen) */
};

/* One message of the channel (or the pipe's, copied out): the loop is
 * single-threaded and a message is handled before the next is read.  A
 * NUL follows it, so a result is followed by one wherever it lies (the
 * pool's users go by its length; this only keeps a slip from reading
 * stale bytes). */
static uint8_t msgbuf[CHAN_MSG_MAX + 1];

static void close_fd(struct lane *l, int i)
{
	if (l->fd[i] >= 0)
		close(l->fd[i]);
	l->fd[i] = -1;
}

/* ---- logs ----------------------------------------------------------- */

static void logs_reset_if_stale(struct lane *l)
{
	if (l->logs_stale) {
		l->loglen = 0;
		l->logdropped = 0;
		l->logs_stale = false;
	}
}

/* Reads what the log pipe holds, keeping up to INVOKE_LOGS_MAX bytes and
 * counting the rest; at the pipe's end the event goes. */
static void logs_drain(struct lane *l)
{
	static char sink[65536];

	logs_reset_if_stale(l);
	for (int i = 0; i < READS_MAX && l->fd[L_LOG] >= 0; i++) {
		bool keep = l->loglen < INVOKE_LOGS_MAX;
		ssize_t r = read(l->fd[L_LOG], keep ? l->logs + l->loglen : sink,
				 keep ? INVOKE_LOGS_MAX - l->loglen : sizeof(sink));

		if (r > 0) {
			if (keep)
				l->loglen += (size_t)r;
			else
				l->logdropped += (uint64_t)r;
			/* Between calls, output past the cap waits in the pipe
			 * until the next call: Lambda freezes an idle sandbox,
			 * and a background writer costs the loop nothing. */
			if (l->state == LANE_IDLE && l->loglen >= INVOKE_LOGS_MAX) {
				event_del(l->ev_log);
				l->logs_paused = true;
				return;
			}
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || errno != EAGAIN) {
			event_del(l->ev_log);
			close_fd(l, L_LOG);
		}
		return;
	}
}

static void on_log(evutil_socket_t fd, short what, void *arg)
{
	logs_drain(arg);
}

/* The reply's logs: what was captured, then the marker when bytes were
 * dropped; valid until the next capture. */
static struct bytes logs_view(struct lane *l)
{
	size_t m = chan_logs_marker(l->logs + l->loglen, l->logdropped);

	return (struct bytes){ l->logs, l->loglen + m };
}

/* Forgets what of a large invoke the channel has not taken yet. */
static void out_drop(struct lane *l)
{
	event_del(l->ev_out);
	free(l->out_buf);
	l->out_buf = NULL;
	l->out = NULL;
	l->head_len = 0;
	l->out_len = l->out_off = 0;
}

/* ---- ending --------------------------------------------------------- */

/* Stops reading the runtime and asks the owner to have it ended. */
static void lane_kill(struct lane *l, enum invocation_status st, const char *type, const char *msg)
{
	if (l->state == LANE_KILLED || l->state == LANE_DEAD)
		return;
	l->kill_had_call = l->state == LANE_CALL;
	l->kill_status = st;
	snprintf(l->kill_type, sizeof(l->kill_type), "%s", type);
	snprintf(l->kill_msg, sizeof(l->kill_msg), "%s", msg);
	l->state = LANE_KILLED;
	loop_watch_stop(l->w_res);
	loop_watch_stop(l->w_chan);
	evtimer_del(l->ev_timer);
	out_drop(l);
	l->ops.kill(l->arg, st, type, msg); /* may free l: nothing after */
}

/* A failure met while sending: answered from the loop, never from
 * inside lane_invoke's caller. */
static void lane_fail_soon(struct lane *l, const char *type, const char *msg)
{
	if (l->fail_queued)
		return;
	l->fail_queued = true;
	snprintf(l->kill_type, sizeof(l->kill_type), "%s", type);
	snprintf(l->kill_msg, sizeof(l->kill_msg), "%s", msg);
	event_active(l->ev_timer, EV_TIMEOUT, 1);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct lane *l = arg;
	char type[sizeof(l->kill_type)], msg[sizeof(l->kill_msg)];

	if (l->state != LANE_CALL)
		return;
	if (l->fail_queued) {
		l->fail_queued = false;
		memcpy(type, l->kill_type, sizeof(type));
		memcpy(msg, l->kill_msg, sizeof(msg));
		lane_kill(l, INVOCATION_CRASHED, type, msg);
		return;
	}
	/* The same words as the shim's own timeout answer. */
	snprintf(msg, sizeof(msg), "Task timed out after %u ms", l->deadline_ms);
	lane_kill(l, INVOCATION_TIMEOUT, "Runtime.Timeout", msg);
}

/* The runtime's end of a pipe or the channel closed: it died (the shim
 * then ends everything else that held them). */
static void lane_gone(struct lane *l)
{
	lane_kill(l, INVOCATION_CRASHED, "Runtime.ExitError", "");
}

void lane_died(struct lane *l, struct bytes why, uint64_t max_rss_kb)
{
	struct shimconn_reply r = { 0 };
	bool answer = l->state == LANE_KILLED && l->kill_had_call;

	if (l->state == LANE_DEAD)
		return;
	l->state = LANE_DEAD;
	if (!answer)
		return;
	/* Every process of the container is gone: what they wrote is in the
	 * pipe, to its end. */
	logs_drain(l);
	r.status = l->kill_status;
	r.error_type = bytes_of_str(l->kill_type);
	r.error_message = l->kill_msg[0] ? bytes_of_str(l->kill_msg) : why;
	r.logs = logs_view(l);
	r.duration_us = (uint64_t)(util_mono_ns() - l->t0) / 1000;
	r.max_rss_kb = max_rss_kb;
	l->logs_stale = true;
	l->ops.answer(l->arg, &r); /* may free l */
}

/* The runtime wrote on its answer lanes between calls: a runtime only
 * answers what it was asked, so this is a handler at work (or a broken
 * bootstrap).  Like a frame the shim sends unasked, it ends the
 * container: nothing hearthd reads at the backend priority is unasked. */
static void lane_unasked(struct lane *l)
{
	lane_kill(l, INVOCATION_CRASHED, "Runtime.ProtocolError",
		  "the runtime wrote on its answer lanes between calls");
}

/* Counts bytes of a call that are no part of its answer; true when that
 * ended the call (the lane was killed). */
static bool lane_junk(struct lane *l, size_t n)
{
	l->junk += n;
	if (l->junk <= JUNK_MAX)
		return false;
	lane_kill(l, INVOCATION_CRASHED, "Runtime.ProtocolError",
		  "the runtime wrote over 1 MiB that was no answer");
	return true;
}

/* ---- the answer ----------------------------------------------------- */

static void lane_answer(struct lane *l)
{
	struct shimconn_reply r = { 0 };
	/* A result gathered from several messages goes on in its own block:
	 * the reply may take it (pool_result_take), else it is freed here. */
	void *block = chan_answer_take(&l->ans);

	/* The bootstrap writes its logs before its answer, and a pipe write
	 * is whole when it returns: they are in the pipe now. */
	logs_drain(l);
	r.duration_us = (uint64_t)(util_mono_ns() - l->t0) / 1000;
	r.max_rss_kb = l->ans.rss_kb;
	if (l->ans.is_error) {
		r.status = INVOCATION_ERROR;
		r.error_type = l->ans.err[0];
		r.error_message = l->ans.err[1];
		r.error_stack = l->ans.err[2];
	} else {
		r.status = INVOCATION_SUCCESS;
		r.result = (struct bytes){ (const char *)l->ans.result, l->ans.total };
		r.result_block = block ? &block : NULL;
	}
	r.logs = logs_view(l);
	l->state = LANE_IDLE;
	l->fail_queued = false;
	evtimer_del(l->ev_timer);
	/* A runtime that answers before it has its whole payload gets none
	 * of the rest: the next call's messages must not follow it. */
	out_drop(l);
	l->logs_stale = true;
	l->ops.answer(l->arg, &r); /* may free l */
	free(block);
}

/* The message in msgbuf (n bytes) carried the nonce. */
static void take_msg(struct lane *l, size_t n)
{
	msgbuf[n] = 0;
	switch (chan_answer_feed(&l->ans, msgbuf, n)) {
	case CHAN_ANSWER_MORE: break;
	case CHAN_ANSWER_DONE: lane_answer(l); break;
	case CHAN_ANSWER_NOMEM:
		lane_kill(l, INVOCATION_CRASHED, "Runtime.ExitError",
			  "hearthd ran out of memory for the result");
		break;
	default:
		lane_kill(l, INVOCATION_CRASHED, "Runtime.ProtocolError",
			  "the runtime broke the channel protocol");
		break;
	}
}

static void on_res(evutil_socket_t fd, short what, void *arg)
{
	struct lane *l = arg;

	for (int i = 0; i < READS_MAX; i++) {
		ssize_t r = read(l->fd[L_RES], l->resbuf + l->reslen,
				 sizeof(l->resbuf) - l->reslen);
		size_t n;

		if (r > 0) {
			if (l->state != LANE_CALL) {
				lane_unasked(l);
				return;
			}
			l->reslen += (size_t)r;
			if (chan_res_take(l->resbuf, &l->reslen, l->nonce, msgbuf, &n)) {
				take_msg(l, n); /* may free l */
				return;
			}
			if (lane_junk(l, (size_t)r))
				return;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		lane_gone(l);
		return;
	}
}

static void on_chan(evutil_socket_t fd, short what, void *arg)
{
	struct lane *l = arg;

	for (int i = 0; i < READS_MAX; i++) {
		ssize_t n = recv(l->fd[L_CHAN], msgbuf, CHAN_MSG_MAX, MSG_DONTWAIT);

		if (n > 0) {
			if (l->state != LANE_CALL) {
				lane_unasked(l);
				return;
			}
			/* Anything without the nonce is a handler writing into
			 * the channel: dropped. */
			if (n >= CHAN_NONCE_LEN + 1 &&
			    memcmp(msgbuf, l->nonce, CHAN_NONCE_LEN) == 0) {
				take_msg(l, (size_t)n); /* may free l */
				return;
			}
			if (lane_junk(l, (size_t)n))
				return;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		lane_gone(l);
		return;
	}
}

/* ---- sending -------------------------------------------------------- */

/* One message on the input pipe with its trailer, whole (at most
 * PIPE_BUF, so atomic) or not at all. */
static bool in_send(struct lane *l, const void *a, size_t alen, const void *b, size_t blen)
{
	uint8_t trailer[CHAN_IN_TRAILER];
	struct iovec iov[3] = { { (void *)a, alen },
				{ (void *)b, blen },
				{ trailer, sizeof(trailer) } };
	ssize_t w;

	chan_in_trailer(trailer, (uint32_t)(alen + blen));
	do
		w = writev(l->fd[L_IN], iov, 3);
	while (w < 0 && errno == EINTR);
	if (w == (ssize_t)(alen + blen + sizeof(trailer)))
		return true;
	if (w < 0 && errno == EAGAIN)
		/* The runtime reads its input empty before every call: only a
		 * handler that wrote into it can have filled it. */
		lane_fail_soon(l, "Runtime.ProtocolError", "the runtime's input pipe is full");
	else
		lane_fail_soon(l, "Runtime.ExitError", "");
	return false;
}

/* Sends what the channel takes of a large invoke: 1 when all of it went,
 * 0 when the rest waits for room (or, hold_last, for on_out: the last
 * message is left to it), -1 when the channel broke. */
static int out_pump(struct lane *l, bool hold_last)
{
	static const uint8_t more = CHAN_MORE;

	while (l->head_len || l->out_off < l->out_len) {
		const void *h = l->head_len ? (const void *)l->head : (const void *)&more;
		size_t hl = l->head_len ? l->head_len : 1;
		size_t n = l->out_len - l->out_off;
		struct iovec iov[2];
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
		ssize_t w;

		if (n > CHAN_MSG_MAX - hl)
			n = CHAN_MSG_MAX - hl;
		if (hold_last && !l->head_len && l->out_off + n == l->out_len)
			return 0;
		iov[0] = (struct iovec){ (void *)h, hl };
		iov[1] = (struct iovec){ (void *)(l->out + l->out_off), n };
		w = sendmsg(l->fd[L_CHAN], &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == ENOBUFS ? 0 : -1;
		}
		l->head_len = 0;
		l->out_off += n;
	}
	return 1;
}

static void on_out(evutil_socket_t fd, short what, void *arg)
{
	struct lane *l = arg;
	int r = out_pump(l, false);

	if (r == 0)
		return;
	/* All sent from the caller's payload (not a copy of ours): a large
	 * body's block can go now, before the answer (heap.h).  Not from
	 * lane_invoke, whose callers still hold the payload on the stack. */
	if (r > 0 && l->out && !l->out_buf)
		heap_lent_sent(l->out);
	out_drop(l);
	if (r < 0)
		lane_gone(l);
}

void lane_payload_going(struct lane *l, bool keep_sending)
{
	size_t rest = l->out_len - l->out_off;

	if (!keep_sending) {
		out_drop(l);
		return;
	}
	if (!l->out || l->out_buf || rest == 0)
		return;
	if (!(l->out_buf = malloc(rest))) {
		out_drop(l);
		lane_fail_soon(l, "Runtime.ExitError", "hearthd ran out of memory for the payload");
		return;
	}
	memcpy(l->out_buf, l->out + l->out_off, rest);
	l->out = l->out_buf;
	l->out_len = rest;
	l->out_off = 0;
}

void lane_release(struct lane *l)
{
	if (l->ans.alloc > CHAN_MSG_MAX && l->state != LANE_CALL)
		chan_answer_free(&l->ans);
}

int lane_invoke(struct lane *l, const char *request_id, unsigned deadline_ms, const void *payload,
		size_t len, struct hearth_error **err)
{
	size_t rid_len = strlen(request_id);
	size_t hl;
	struct timeval tv;

	if (l->state == LANE_KILLED || l->state == LANE_DEAD)
		return hearth_error_make(err, EPIPE, "the runtime is gone");
	if (l->state != LANE_IDLE)
		return hearth_error_make(err, EBUSY, "the runtime is busy");
	if (rid_len > INVOKE_REQUEST_ID_MAX)
		return hearth_error_make(err, EINVAL, "request id too long");
	if (len > INVOKE_PAYLOAD_MAX)
		return hearth_error_make(err, E2BIG, "payload over %u bytes", INVOKE_PAYLOAD_MAX);
	logs_reset_if_stale(l);
	if (l->logs_paused && l->fd[L_LOG] >= 0) {
		event_add(l->ev_log, NULL);
		l->logs_paused = false;
	}
	l->junk = 0;
	chan_nonce_next(&l->rng, l->nonce);
	hl = chan_invoke_head(l->head, l->nonce, deadline_ms, (uint32_t)len,
			      (const uint8_t *)request_id, (uint32_t)rid_len);
	l->reslen = 0;
	chan_answer_start(&l->ans);
	l->deadline_ms = deadline_ms;
	l->t0 = util_mono_ns();
	l->state = LANE_CALL;
	if (hl + len + CHAN_IN_TRAILER <= CHAN_PIPE_MSG_MAX) {
		/* The fast lane: the whole invoke in one pipe write. */
		in_send(l, l->head, hl, payload, len);
	} else {
		/* Announced on the input pipe, then sent on the channel as
		 * the head message and 'C' chunks. */
		static const uint8_t on_chan = CHAN_INVOKE_ON_CHAN;

		if (in_send(l, &on_chan, 1, NULL, 0)) {
			int r;

			l->head_len = hl;
			l->out = payload;
			l->out_len = len;
			l->out_off = 0;
			/* A large body's last message goes from on_out, so
			 * that its block is freed once sent (heap.h) even
			 * when the channel takes all of it at once. */
			r = out_pump(l, len >= HEAP_LARGE_BODY);
			if (r == 0) {
				/* The rest is sent from the caller's payload as
				 * the channel takes it (lane_payload_going). */
				event_add(l->ev_out, NULL);
			} else {
				l->out = NULL;
				if (r < 0)
					lane_fail_soon(l, "Runtime.ExitError", "");
			}
		}
	}
	tv.tv_sec = deadline_ms / 1000;
	tv.tv_usec = (suseconds_t)(deadline_ms % 1000) * 1000;
	if (!l->fail_queued)
		evtimer_add(l->ev_timer, &tv);
	return 0;
}

/* ---- setting up ----------------------------------------------------- */

/* A received pipe end, checked and opened again: the new description's
 * flags (non-blocking) are ours alone, whatever the container does with
 * its own.  -1 when it is not a pipe open for `mode`. */
static int reopen_pipe(int fd, int mode)
{
	char path[40];
	struct stat st;
	int fl;

	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
		return -1;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) != mode)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, mode | O_NONBLOCK | O_CLOEXEC);
}

static bool is_seqpacket(int fd)
{
	int type = 0, domain = 0;
	socklen_t l1 = sizeof(type), l2 = sizeof(domain);
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
	       getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l1) == 0 && type == SOCK_SEQPACKET &&
	       getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l2) == 0 && domain == AF_UNIX;
}

void lane_free(struct lane *l)
{
	struct event *evs[] = { l ? l->ev_out : NULL, l ? l->ev_log : NULL,
				l ? l->ev_timer : NULL };

	if (!l)
		return;
	/* Before the descriptors close (loop.h). */
	loop_watch_free(l->w_res);
	loop_watch_free(l->w_chan);
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i])
			event_free(evs[i]);
	/* The channel is also the shim's open file, and ev_out's deletion
	 * waits for the next poll (loop.h). */
	loop_close_later(l->base, l->fd[L_CHAN]);
	l->fd[L_CHAN] = -1;
	for (int i = 0; i < 4; i++)
		close_fd(l, i);
	free(l->out_buf);
	chan_answer_free(&l->ans);
	free(l);
}

static struct event *ev_new(struct lane *l, struct event_base *base, int fd, short what,
			    event_callback_fn cb, int prio)
{
	struct event *e = event_new(base, fd, what, cb, l);

	if (e)
		event_priority_set(e, prio);
	return e;
}

int lane_new(struct lane **out, struct event_base *base, const int fds[4],
	     const struct lane_ops *ops, void *arg, struct hearth_error **err)
{
	struct lane *l = calloc(1, sizeof(*l));
	bool ok;

	if (!l) {
		for (int i = 0; i < 4; i++)
			close(fds[i]);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	l->base = base;
	l->ops = *ops;
	l->arg = arg;
	l->fd[L_IN] = reopen_pipe(fds[L_IN], O_WRONLY);
	l->fd[L_RES] = reopen_pipe(fds[L_RES], O_RDONLY);
	l->fd[L_LOG] = reopen_pipe(fds[L_LOG], O_RDONLY);
	l->fd[L_CHAN] = -1;
	if (is_seqpacket(fds[L_CHAN]))
		l->fd[L_CHAN] = fcntl(fds[L_CHAN], F_DUPFD_CLOEXEC, 0);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	ok = l->fd[L_IN] >= 0 && l->fd[L_RES] >= 0 && l->fd[L_LOG] >= 0 && l->fd[L_CHAN] >= 0;
	if (!ok) {
		lane_free(l);
		return hearth_error_make(err, EBADMSG,
					 "the shim passed descriptors that are not the runtime's "
					 "pipes and channel");
	}
	/* The runtime's answers in the loop's set of answers, before any
	 * client (loop.h); its logs are read at the default priority, a
	 * flood of them is no answer. */
	l->w_res = loop_watch_new(base, l->fd[L_RES], on_res, l);
	l->w_chan = loop_watch_new(base, l->fd[L_CHAN], on_chan, l);
	l->ev_out = ev_new(l, base, l->fd[L_CHAN], EV_WRITE | EV_PERSIST, on_out,
			   LOOP_PRIO_BACKEND);
	l->ev_log = ev_new(l, base, l->fd[L_LOG], EV_READ | EV_PERSIST, on_log, LOOP_PRIO_DEFAULT);
	l->ev_timer = ev_new(l, base, -1, 0, on_timer, LOOP_PRIO_BACKEND);
	if (!l->w_res || !l->w_chan) {
		int e = errno;

		lane_free(l);
		return hearth_error_make(err, e, "cannot watch the runtime's pipes: %s",
					 strerror(e));
	}
	if (!l->ev_out || !l->ev_log || !l->ev_timer || event_add(l->ev_log, NULL) < 0) {
		lane_free(l);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	if (getrandom(&l->rng, sizeof(l->rng), 0) != sizeof(l->rng))
		l->rng ^= (uint64_t)util_mono_ns() ^ (uint64_t)(uintptr_t)l;
	*out = l;
	return 0;
}
