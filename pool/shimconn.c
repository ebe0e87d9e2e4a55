/* shimconn.c — see shimconn.h.  The shim's socket is read with recvmsg
 * (READY may carry the direct lane's descriptors) and written through a
 * bufferevent; the frame codec is common/frame.c, the very file the shim
 * uses.  With a lane, invokes go to lane.c and the frames here only
 * supervise: INIT, and KILL → DIED when the lane needs its runtime
 * ended. */
#include "shimconn.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <json-c/json.h>

#include "frame.h"
#include "lane.h"
#include "loop.h"
#include "util.h"

enum pending {
	PEND_NONE,
	PEND_INIT,
	PEND_INVOKE, /* over frames */
	PEND_LANE,   /* with the runtime, on the lane */
	PEND_KILL,   /* the lane's call waits for the shim's DIED */
};

/* How long the shim may take to answer KILL. */
#define KILL_ANSWER_S 5

struct shimconn {
	struct bufferevent *bev; /* writes; reads are rev's */
	struct event *rev;
	struct evbuffer *in;
	struct lane *lane;
	struct event *guard; /* KILL_ANSWER_S after KILL */
	bool want_lane;	     /* the pending init asked for it */
	int rx_fds[4];	     /* received with READY */
	int nrx;
	enum pending pending;
	shimconn_reply_cb reply_cb; /* for the pending init or invoke */
	void *req_arg;
	shimconn_closed_cb closed_cb;
	void *closed_arg;
	bool in_cb; /* inside a user callback: free later */
	bool dead;
	bool failed; /* told once; nothing is read or answered after */
};

static void close_rx(struct shimconn *c)
{
	for (int i = 0; i < c->nrx; i++)
		close(c->rx_fds[i]);
	c->nrx = 0;
}

static void conn_destroy(struct shimconn *c)
{
	lane_free(c->lane);
	if (c->guard)
		event_free(c->guard);
	close_rx(c);
	if (c->rev)
		event_free(c->rev);
	if (c->in)
		evbuffer_free(c->in);
	if (c->bev)
		bufferevent_free(c->bev);
	free(c);
}

/* Tells whoever waits that the connection is gone, once: the rest of what
 * the shim sent is not read, whether the callback frees the connection or
 * not.  Returns true when the connection was freed meanwhile. */
static bool conn_fail(struct shimconn *c, int status, const char *msg)
{
	_cleanup_error_ struct hearth_error *e = NULL;
	enum pending p = c->pending;

	if (c->failed)
		return false;
	c->failed = true;
	hearth_error_make(&e, status, "%s", msg);
	c->pending = PEND_NONE;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	event_del(c->rev);
	lane_free(c->lane); /* nothing more is read from the runtime either */
	c->lane = NULL;
	if (c->guard)
		evtimer_del(c->guard);
	close_rx(c);
	c->in_cb = true;
	if (p != PEND_NONE)
		c->reply_cb(c->req_arg, NULL, e);
	else if (c->closed_cb)
		c->closed_cb(c->closed_arg, e);
	c->in_cb = false;
	if (c->dead) {
		conn_destroy(c);
		return true;
	}
	return false;
}

static void bytes_of(const struct frame_field *fld, struct bytes *out)
{
	out->ptr = (const char *)fld->val;
	out->len = fld->len;
}

static int parse_reply(const struct frame *f, struct shimconn_reply *r, uint64_t *init_status,
		       uint64_t *lane)
{
	struct frame_iter it;
	struct frame_field fld;
	uint64_t v;
	int k;

	memset(r, 0, sizeof(*r));
	*init_status = 0;
	if (lane)
		*lane = 0;
	frame_iter_init(&it, f);
	while ((k = frame_iter_next(&it, &fld)) == 1) {
		switch (fld.tag) {
		case FT_STATUS:
			if (frame_field_u64(&fld, &v) < 0 || v > INVOCATION_CRASHED)
				return -1;
			r->status = (enum invocation_status)v;
			*init_status = v;
			break;
		case FT_RESULT: bytes_of(&fld, &r->result); break;
		case FT_ERROR_TYPE: bytes_of(&fld, &r->error_type); break;
		case FT_ERROR_MESSAGE: bytes_of(&fld, &r->error_message); break;
		case FT_ERROR_STACK: bytes_of(&fld, &r->error_stack); break;
		case FT_LOGS: bytes_of(&fld, &r->logs); break;
		case FT_DURATION_US:
			if (frame_field_u64(&fld, &r->duration_us) < 0)
				return -1;
			break;
		case FT_MAX_RSS_KB:
			if (frame_field_u64(&fld, &r->max_rss_kb) < 0)
				return -1;
			break;
		case FT_LANE:
			/* Only where it was asked for: elsewhere an unknown tag. */
			if (f->type == FRAME_READY && lane && frame_field_u64(&fld, lane) < 0)
				return -1;
			break;
		default: break; /* unknown tags are skipped, as PROTOCOL.md says */
		}
	}
	return k < 0 ? -1 : 0;
}

/* Ends a user callback begun with in_cb set: the connection is freed now
 * if the callback asked for it.  Returns true when it was. */
static bool cb_end(struct shimconn *c)
{
	c->in_cb = false;
	if (!c->dead)
		return false;
	conn_destroy(c);
	return true;
}

/* ---- the lane's owner ------------------------------------------------ */

static void lane_on_answer(void *arg, const struct shimconn_reply *r)
{
	struct shimconn *c = arg;
	bool outer = !c->in_cb; /* from the lane's own events, not a frame */

	if (c->guard)
		evtimer_del(c->guard);
	c->pending = PEND_NONE;
	c->in_cb = true;
	c->reply_cb(c->req_arg, r, NULL);
	if (outer && !cb_end(c) && c->lane)
		lane_release(c->lane);
}

static int send_frame(struct shimconn *c, struct frame_writer *w, struct hearth_error **err);

static void lane_on_kill(void *arg, enum invocation_status status, const char *type,
			 const char *msg)
{
	struct shimconn *c = arg;
	_cleanup_error_ struct hearth_error *err = NULL;
	uint8_t scratch[FRAME_HDR_LEN];
	struct iovec iov;
	struct frame_writer w;
	struct timeval tv = { .tv_sec = KILL_ANSWER_S };

	if (c->pending != PEND_LANE) {
		/* Between calls: nothing waits for why; the container goes. */
		conn_fail(c, ECONNRESET, "the runtime died between calls");
		return;
	}
	frame_writer_init(&w, FRAME_KILL, scratch, sizeof(scratch), &iov, 1);
	if (send_frame(c, &w, &err) < 0) {
		conn_fail(c, err->status, err->msg);
		return;
	}
	c->pending = PEND_KILL;
	evtimer_add(c->guard, &tv);
}

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
	conn_fail(arg, ETIMEDOUT, "the shim did not answer KILL");
}

static const struct lane_ops lane_ops = { lane_on_answer, lane_on_kill };

/* READY for an init that asked for the lane: with the four descriptors
 * and the field saying so, the lane is set up; with neither, the frames
 * serve; anything between is a broken shim. */
static int take_lane(struct shimconn *c, uint64_t lane, struct hearth_error **err)
{
	struct event_base *base = bufferevent_get_base(c->bev);
	int r;

	if (lane != 1 || c->nrx != 4) {
		bool none = lane == 0 && c->nrx == 0;

		close_rx(c);
		return none ? 0
			    : hearth_error_make(err, EBADMSG,
						"the shim passed an incomplete direct lane");
	}
	c->nrx = 0; /* lane_new takes them, in every case */
	c->guard = evtimer_new(base, on_guard, c);
	if (!c->guard) {
		for (int i = 0; i < 4; i++)
			close(c->rx_fds[i]);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	event_priority_set(c->guard, LOOP_PRIO_BACKEND);
	r = lane_new(&c->lane, base, c->rx_fds, &lane_ops, c, err);
	return r;
}

/* Handles one whole frame; returns true when the connection was freed. */
static bool handle_frame(struct shimconn *c, const struct frame *f)
{
	_cleanup_error_ struct hearth_error *err = NULL;
	struct shimconn_reply r;
	uint64_t st, lane;

	if (frame_validate(f) < 0 ||
	    parse_reply(f, &r, &st, c->pending == PEND_INIT && c->want_lane ? &lane : NULL) < 0)
		return conn_fail(c, EBADMSG, "the shim sent a malformed frame");
	switch (f->type) {
	case FRAME_PONG:
		/* hearthd sends no PING: a PONG is unasked.  Every frame a shim
		 * may send answers a request, so what it can make the loop do at
		 * the backend priority (loop.h) is bounded by what was asked. */
		return conn_fail(c, EBADMSG, "the shim sent a PONG unasked");
	case FRAME_READY:
	case FRAME_INIT_ERROR:
		if (c->pending != PEND_INIT)
			return conn_fail(c, EBADMSG, "the shim answered init unasked");
		if (f->type == FRAME_READY && c->want_lane && take_lane(c, lane, &err) < 0)
			return conn_fail(c, EBADMSG, err->msg);
		c->pending = PEND_NONE;
		c->in_cb = true;
		r.status = f->type == FRAME_READY ? INVOCATION_SUCCESS : INVOCATION_ERROR;
		c->reply_cb(c->req_arg, &r, NULL);
		break;
	case FRAME_REPLY:
		if (c->pending != PEND_INVOKE)
			return conn_fail(c, EBADMSG, "the shim sent a reply unasked");
		c->pending = PEND_NONE;
		c->in_cb = true;
		c->reply_cb(c->req_arg, &r, NULL);
		break;
	case FRAME_DIED:
		if (c->pending != PEND_KILL)
			return conn_fail(c, EBADMSG, "the shim sent DIED unasked");
		c->in_cb = true;
		lane_died(c->lane, r.error_message, r.max_rss_kb);
		break;
	case FRAME_PROTO_ERROR: return conn_fail(c, EBADMSG, "the shim refused a frame");
	default: return conn_fail(c, EBADMSG, "the shim sent an unknown frame type");
	}
	return cb_end(c);
}

/* The frames read so far, in order. */
static void take_frames(struct shimconn *c)
{
	struct evbuffer *in = c->in;

	for (;;) {
		size_t have = evbuffer_get_length(in), need = FRAME_HDR_LEN;
		struct frame f;
		const uint8_t *p;
		int r;

		if (have < FRAME_HDR_LEN)
			return;
		p = evbuffer_pullup(in, FRAME_HDR_LEN);
		r = frame_parse(p, FRAME_HDR_LEN, &f, &need);
		if (r < 0) {
			conn_fail(c, EBADMSG, frame_strerror(r));
			return;
		}
		if (have < need)
			return;
		p = evbuffer_pullup(in, (ssize_t)need);
		if (!p || frame_parse(p, need, &f, &need) != 1) {
			conn_fail(c, EBADMSG, "the shim sent a malformed frame");
			return;
		}
		if (handle_frame(c, &f) || c->failed)
			return;
		evbuffer_drain(in, need);
	}
}

/* Descriptors that came with the bytes: only READY's, for an init that
 * asked for the lane, four at most.  False (all of them closed) if not. */
static bool take_fds(struct shimconn *c, struct msghdr *mh)
{
	bool ok = !(mh->msg_flags & MSG_CTRUNC);

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t n;
		int *fds = (int *)CMSG_DATA(cm);

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, fds + i, sizeof(fd));
			if (ok && c->pending == PEND_INIT && c->want_lane && c->nrx < 4)
				c->rx_fds[c->nrx++] = fd;
			else {
				ok = false;
				close(fd);
			}
		}
	}
	return ok;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct shimconn *c = arg;
	struct evbuffer_iovec v[2];
	struct iovec iov[2];
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct msghdr mh = { .msg_iov = iov,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	int nv = evbuffer_reserve_space(c->in, 65536, v, 2);
	ssize_t n;
	char msg[128];

	if (nv < 0) {
		conn_fail(c, ENOMEM, "out of memory");
		return;
	}
	for (int i = 0; i < nv; i++)
		iov[i] = (struct iovec){ v[i].iov_base, v[i].iov_len };
	mh.msg_iovlen = (size_t)nv;
	n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && !take_fds(c, &mh)) {
		conn_fail(c, EBADMSG, "the shim passed descriptors unasked");
		return;
	}
	if (n <= 0) {
		if (n == 0)
			snprintf(msg, sizeof(msg), "the shim closed the connection");
		else
			snprintf(msg, sizeof(msg), "shim connection: %s", strerror(errno));
		conn_fail(c, n == 0 ? ECONNRESET : EPIPE, msg);
		return;
	}
	int used = 0;
	for (size_t left = (size_t)n; used < nv && left > 0; used++) {
		if (v[used].iov_len > left)
			v[used].iov_len = left;
		left -= v[used].iov_len;
	}
	evbuffer_commit_space(c->in, v, used);
	take_frames(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct shimconn *c = arg;
	char msg[128];

	if (what & BEV_EVENT_EOF)
		snprintf(msg, sizeof(msg), "the shim closed the connection");
	else
		snprintf(msg, sizeof(msg), "shim connection: %s",
			 strerror(EVUTIL_SOCKET_ERROR() ? EVUTIL_SOCKET_ERROR() : EPIPE));
	conn_fail(c, (what & BEV_EVENT_EOF) ? ECONNRESET : EPIPE, msg);
}

int shimconn_connect(struct shimconn **out, struct event_base *base, const char *path,
		     shimconn_closed_cb closed, void *arg, struct hearth_error **err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int dirfd = -1;
	struct shimconn *c;
	int fd, r;

	/* A socket path longer than sun_path is reached through its folder's
	 * descriptor, so a deep --data-dir still works. */
	if (strlen(path) >= sizeof(sa.sun_path)) {
		char dir[4096];
		const char *base_name = strrchr(path, '/');

		if (!base_name ||
		    util_snprintf(dir, sizeof(dir), err, "%.*s", (int)(base_name - path), path) < 0)
			return hearth_error_make(err, ENAMETOOLONG, "socket path %s is too long",
						 path);
		dirfd = open(dir, O_PATH | O_CLOEXEC);
		if (dirfd < 0)
			return hearth_error_errno(err, errno, "open %s", dir);
		if (util_snprintf(sa.sun_path, sizeof(sa.sun_path), err, "/proc/self/fd/%d%s",
				  dirfd, base_name) < 0)
			return -ENAMETOOLONG;
	} else {
		memcpy(sa.sun_path, path, strlen(path) + 1);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return hearth_error_errno(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		r = errno;
		close(fd);
		return hearth_error_errno(err, r, "connect %s", path);
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev)
		close(fd);
	c->in = evbuffer_new();
	c->rev = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, c);
	if (!c->bev || !c->in || !c->rev) {
		conn_destroy(c);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	c->closed_cb = closed;
	c->closed_arg = arg;
	/* A reply is read before any client's request (loop.h). */
	bufferevent_priority_set(c->bev, LOOP_PRIO_BACKEND);
	event_priority_set(c->rev, LOOP_PRIO_BACKEND);
	bufferevent_setcb(c->bev, NULL, NULL, on_event, c);
	event_add(c->rev, NULL);
	*out = c;
	return 0;
}

/* Sends the request's frame and makes it the one awaiting an answer.  With
 * nothing queued before it (the usual case) the frame goes straight to the
 * socket, one writev, with no wait for the loop's next turn and no
 * epoll_ctl; what the socket does not take (or all of it, on any error:
 * the bufferevent then meets the error itself) is copied into the
 * connection's output, so nothing the writer referenced needs to outlive
 * this call. */
static int send_frame(struct shimconn *c, struct frame_writer *w, struct hearth_error **err)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	size_t len, skip = 0;
	int n = frame_writer_finish(w, &len);

	if (n < 0)
		return hearth_error_make(err, E2BIG, "frame: %s", frame_strerror(n));
	if (fd >= 0 && evbuffer_get_length(out) == 0) {
		struct msghdr mh = { .msg_iov = w->iov, .msg_iovlen = (size_t)n };
		ssize_t sent = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (sent > 0)
			skip = (size_t)sent;
	}
	for (int i = 0; i < n; i++) {
		const char *base = w->iov[i].iov_base;
		size_t l = w->iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		if (evbuffer_add(out, base + skip, l - skip) < 0) {
			/* Part of the frame may be out already: the stream is
			 * past saving. */
			c->failed = true;
			return hearth_error_make(err, ENOMEM, "out of memory");
		}
		skip = 0;
	}
	return 0;
}

/* The request now awaits its answer (a frame's, or the lane's). */
static void set_pending(struct shimconn *c, enum pending p, shimconn_reply_cb cb, void *arg)
{
	c->pending = p;
	c->reply_cb = cb;
	c->req_arg = arg;
}

static int send_request(struct shimconn *c, struct frame_writer *w, enum pending p,
			shimconn_reply_cb cb, void *arg, struct hearth_error **err)
{
	int r = send_frame(c, w, err);

	if (r == 0)
		set_pending(c, p, cb, arg);
	return r;
}

/* An env entry as its KEY=VALUE field value, or 0 when it is too long to
 * send (hearthd's registry keeps the whole env far below that). */
static size_t env_entry(char *kv, size_t size, const char *key, json_object *val)
{
	int n = snprintf(kv, size, "%s=%s", key, json_object_get_string(val));

	return n >= 0 && (size_t)n < size ? (size_t)n : 0;
}

int shimconn_init(struct shimconn *c, const struct shimconn_init *in, shimconn_reply_cb cb,
		  void *arg, struct hearth_error **err)
{
	const char *strs[] = { in->code_dir, in->handler, in->language, in->function_name };
	static const uint16_t str_tags[] = { FT_CODE_DIR, FT_HANDLER, FT_LANGUAGE,
					     FT_FUNCTION_NAME };
	_cleanup_free_ uint8_t *scratch = NULL;
	json_object *env = NULL;
	struct frame_writer w;
	struct iovec iov;
	char kv[8192];
	size_t size = FRAME_HDR_LEN + 3 * (FRAME_FIELD_HDR_LEN + 8);

	if (c->failed)
		return hearth_error_make(err, EPIPE, "the shim connection failed");
	if (c->pending != PEND_NONE || c->dead)
		return hearth_error_make(err, EBUSY, "the shim connection is busy");
	/* Init is off the hot path: every value is copied, into a scratch
	 * sized for them all, and the frame is one piece. */
	env = in->env_json ? json_tokener_parse(in->env_json) : NULL;
	if (env && !json_object_is_type(env, json_type_object)) {
		json_object_put(env);
		env = NULL;
	}
	for (size_t i = 0; i < 4; i++)
		size += FRAME_FIELD_HDR_LEN + bytes_of_str(strs[i]).len;
	if (env) {
		json_object_object_foreach(env, k, v)
			size += FRAME_FIELD_HDR_LEN + env_entry(kv, sizeof(kv), k, v);
	}
	scratch = malloc(size);
	if (!scratch) {
		json_object_put(env);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	frame_writer_init(&w, FRAME_INIT, scratch, size, &iov, 1);
	for (size_t i = 0; i < 4; i++)
		frame_write_str(&w, str_tags[i], strs[i]);
	frame_write_u64(&w, FT_MEMORY_MB, in->memory_mb);
	frame_write_u64(&w, FT_TIMEOUT_MS, in->timeout_ms);
	if (in->lane)
		frame_write_u64(&w, FT_LANE, 1);
	if (env) {
		json_object_object_foreach(env, k, v) {
			if (env_entry(kv, sizeof(kv), k, v))
				frame_write_str(&w, FT_ENV, kv);
		}
	}
	json_object_put(env);
	c->want_lane = in->lane && !c->lane;
	return send_request(c, &w, PEND_INIT, cb, arg, err);
}

int shimconn_invoke(struct shimconn *c, const char *request_id, unsigned deadline_ms,
		    const void *payload, size_t len, shimconn_reply_cb cb, void *arg,
		    struct hearth_error **err)
{
	/* Room for the header, the request id and deadline fields, the
	 * payload's field header, and a payload small enough to be copied
	 * (a larger one is referenced, and copied once, into the output). */
	uint8_t scratch[FRAME_HDR_LEN + 3 * FRAME_FIELD_HDR_LEN + INVOKE_REQUEST_ID_MAX + 8 +
			FRAME_COPY_MAX];
	struct iovec iov[2];
	struct frame_writer w;

	if (c->failed)
		return hearth_error_make(err, EPIPE, "the shim connection failed");
	if (c->pending != PEND_NONE || c->dead)
		return hearth_error_make(err, EBUSY, "the shim connection is busy");
	if (strlen(request_id) > INVOKE_REQUEST_ID_MAX)
		return hearth_error_make(err, EINVAL, "request id too long");
	if (len > INVOKE_PAYLOAD_MAX)
		return hearth_error_make(err, E2BIG, "payload over %u bytes", INVOKE_PAYLOAD_MAX);
	if (c->lane) {
		int r = lane_invoke(c->lane, request_id, deadline_ms, payload, len, err);

		if (r == 0)
			set_pending(c, PEND_LANE, cb, arg);
		return r;
	}
	frame_writer_init(&w, FRAME_INVOKE, scratch, sizeof(scratch), iov, 2);
	frame_write_str(&w, FT_REQUEST_ID, request_id);
	frame_write_u64(&w, FT_DEADLINE_MS, deadline_ms);
	frame_write_bytes(&w, FT_PAYLOAD, payload, len);
	return send_request(c, &w, PEND_INVOKE, cb, arg, err);
}

void shimconn_payload_going(struct shimconn *c, bool keep_sending)
{
	if (c && c->lane)
		lane_payload_going(c->lane, keep_sending);
}

void shimconn_free(struct shimconn *c)
{
	if (!c)
		return;
	if (c->in_cb) {
		c->dead = true;
		return;
	}
	conn_destroy(c);
}
