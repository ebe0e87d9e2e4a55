/* reply.c — the shim's frames to hearthd (reply.h). */
#include "reply.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "chan.h"
#include "frame.h"

/* The frame being laid out; the shim answers one request at a time.  The
 * scratch holds headers, integers and small values: a small reply (the
 * common case) is one flat piece of it.  Larger values (the result in
 * the runtime's message buffer, the log buffer) are referenced. */
static struct frame_writer w;
static struct iovec iov[16];
static uint8_t scratch[4096];

static void begin(uint8_t type)
{
	frame_writer_init(&w, type, scratch, sizeof(scratch), iov, sizeof(iov) / sizeof(iov[0]));
}

static void put_errors(const struct bytes *err, int n)
{
	static const uint16_t tags[3] = { FT_ERROR_TYPE, FT_ERROR_MESSAGE, FT_ERROR_STACK };
	for (int i = 0; i < n && i < 3; i++)
		frame_write_bytes(&w, tags[i], err[i].ptr, err[i].len);
}

/* The logs plus a truncation marker, as one field. */
static void put_logs(const struct runtime_logs *logs)
{
	char marker[CHAN_LOGS_MARKER_MAX];
	size_t mlen = chan_logs_marker(marker, logs->dropped);
	frame_write_field(&w, FT_LOGS, logs->len + mlen);
	frame_write_piece(&w, logs->buf, logs->len);
	frame_write_copy(&w, marker, mlen);
}

/* Blocking write of the whole frame; a hearthd that went away shows at
 * the next read of the connection.  nfds descriptors (at most 4) go with
 * the frame's first bytes. */
static void finish_fds(int fd, const int *fds, int nfds)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	size_t len;
	int n = frame_writer_finish(&w, &len);
	if (n < 0) {
		/* Only a bug gets here (every reply's fields are bounded); a
		 * corrupt frame would be worse than ending the container. */
		fprintf(stderr, "hearth-shim: cannot lay out a reply: %s\n", frame_strerror(n));
		exit(1);
	}
	struct iovec *v = iov;
	while (n > 0) {
		struct msghdr mh = { .msg_iov = v, .msg_iovlen = (size_t)n }; /* n <= 16 */
		if (nfds > 0) {
			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
			struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
			memcpy(CMSG_DATA(cm), fds, (size_t)nfds * sizeof(int));
		}
		ssize_t wr = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (wr < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (wr > 0)
			nfds = 0; /* they went with the first bytes */
		while (n > 0 && (size_t)wr >= v->iov_len) {
			wr -= (ssize_t)v->iov_len;
			v++;
			n--;
		}
		if (n > 0) {
			v->iov_base = (char *)v->iov_base + wr;
			v->iov_len -= (size_t)wr;
		}
	}
}

static void finish(int fd)
{
	finish_fds(fd, NULL, 0);
}

void reply_pong(int fd)
{
	begin(FRAME_PONG);
	finish(fd);
}

static void error_only(int fd, uint8_t type, const char *etype, const char *why)
{
	begin(type);
	frame_write_str(&w, FT_ERROR_TYPE, etype);
	frame_write_str(&w, FT_ERROR_MESSAGE, why);
	finish(fd);
}

void reply_proto_error(int fd, const char *why)
{
	error_only(fd, FRAME_PROTO_ERROR, "Hearth.ProtocolError", why);
}

void reply_init_refused(int fd, const char *why)
{
	error_only(fd, FRAME_INIT_ERROR, "Runtime.InitError", why);
}

void reply_ready(int fd, uint64_t init_us, uint64_t rss_kb, const struct runtime_logs *logs,
		 const int *lane_fds)
{
	begin(FRAME_READY);
	frame_write_u64(&w, FT_INIT_US, init_us);
	frame_write_u64(&w, FT_MAX_RSS_KB, rss_kb);
	if (lane_fds)
		frame_write_u64(&w, FT_LANE, 1);
	put_logs(logs);
	finish_fds(fd, lane_fds, lane_fds ? 4 : 0);
}

void reply_died(int fd, const char *why, uint64_t rss_kb)
{
	begin(FRAME_DIED);
	frame_write_str(&w, FT_ERROR_TYPE, "Runtime.ExitError");
	frame_write_str(&w, FT_ERROR_MESSAGE, why);
	frame_write_u64(&w, FT_MAX_RSS_KB, rss_kb);
	finish(fd);
}

void reply_init_error(int fd, const struct bytes *err, int n, uint64_t init_us,
		      const struct runtime_logs *logs)
{
	begin(FRAME_INIT_ERROR);
	put_errors(err, n);
	frame_write_u64(&w, FT_INIT_US, init_us);
	put_logs(logs);
	finish(fd);
}

static void begin_reply(enum invocation_status status, uint64_t duration_us, uint64_t rss_kb)
{
	begin(FRAME_REPLY);
	frame_write_u64(&w, FT_STATUS, status);
	frame_write_u64(&w, FT_DURATION_US, duration_us);
	frame_write_u64(&w, FT_MAX_RSS_KB, rss_kb);
}

void reply_result(int fd, uint64_t duration_us, uint64_t rss_kb, const void *result, size_t len,
		  const struct runtime_logs *logs)
{
	begin_reply(INVOCATION_SUCCESS, duration_us, rss_kb);
	frame_write_bytes(&w, FT_RESULT, result, len);
	put_logs(logs);
	finish(fd);
}

void reply_error(int fd, enum invocation_status status, uint64_t duration_us, uint64_t rss_kb,
		 const struct bytes *err, int n, const struct runtime_logs *logs)
{
	begin_reply(status, duration_us, rss_kb);
	put_errors(err, n);
	put_logs(logs);
	finish(fd);
}
