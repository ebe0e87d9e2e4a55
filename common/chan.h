/* chan.h — the private channel to a function's runtime (runtimes/PROTOCOL.md,
 * "Inside the container").  A SOCK_SEQPACKET socketpair: one message per
 * send, so a handler that writes junk into the runtime's end can only add
 * whole messages, which the shim drops unless they start with the current
 * per-invocation nonce.  The bootstraps implement the other side. */
#ifndef HEARTH_CHAN_H
#define HEARTH_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "bytes.h"

/* Where the runtime finds its end (also passed as HEARTH_CHANNEL_FD). */
#define CHAN_FD 63
/* Largest message either side sends; chunks of big payloads/results are
 * cut to fit.  Well under the default 208 KiB socket send buffer, which
 * bounds a SEQPACKET message. */
#define CHAN_MSG_MAX 65536
#define CHAN_NONCE_LEN 16

/* shim -> runtime: kind byte first, then a nonce the runtime must echo. */
#define CHAN_INIT \
	'I' /* nonce, then u32-length-prefixed strings:
				 * code_dir handler function_name memory_mb
				 * timeout_ms, then "KEY=VALUE" env entries */
#define CHAN_INVOKE \
	'V'	      /* nonce, u32 deadline_ms, u32 payload_len,
				 * u16 id_len, id, first payload bytes */
#define CHAN_MORE 'C' /* further payload bytes */

/* runtime -> shim: nonce first, then the kind byte, then u32 max_rss_kb
 * (getrusage of the runtime), then: */
#define CHAN_READY 'R'	  /* nothing */
#define CHAN_INIT_ERR 'E' /* u32-prefixed strings: type message stack */
#define CHAN_RESULT 'S'	  /* u32 result_len, first result bytes */
#define CHAN_ERROR 'X'	  /* u32-prefixed strings: type message stack */
/* result continuation: nonce, 'C', bytes (no max_rss field) */

/* The fast lanes: two pipes beside the channel, because on the warm path
 * a pipe hand-off is cheaper than a unix socket's (~1 us each way on the
 * build VM).  Every write on them is at most PIPE_BUF, so it is atomic:
 * it lands in the pipe whole and contiguous, whatever else is written.
 *
 * Input pipe (runtime's fd CHAN_IN_FD, shim -> runtime): every message is
 * followed by a trailer, u32 message length + CHAN_IN_MAGIC, and the runtime
 * takes the message that ends its read, so bytes a handler wrote into its
 * own input are skipped.  An invoke that fits is sent whole here; a larger
 * one is announced by a one-byte CHAN_INVOKE_ON_CHAN message and then sent
 * on the channel as 'V' + 'C' chunks.  Init stays on the channel.
 *
 * Result pipe (runtime's fd CHAN_RES_FD, runtime -> shim): a CHAN_RESULT
 * message that fits in CHAN_PIPE_MSG_MAX may come here instead of on the
 * channel.  The shim scans the pipe's bytes for the current nonce, so only
 * a message that starts with it counts, as on the channel. */
#define CHAN_IN_FD 62
#define CHAN_RES_FD 61
#define CHAN_PIPE_MSG_MAX 4096 /* PIPE_BUF on Linux */
#define CHAN_IN_MAGIC "HRTV"
#define CHAN_IN_TRAILER 8 /* u32 length + magic */
#define CHAN_INVOKE_ON_CHAN 'v'

/* Integers in messages are big-endian, as in frames. */
static inline uint32_t chan_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void chan_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The u32-prefixed strings from p to end (type, message, stack of an 'E'
 * or 'X' message): up to max of them into s[], views into the message.
 * Returns how many were whole; the rest of s[] is left empty. */
static inline int chan_strings(const uint8_t *p, const uint8_t *end, struct bytes *s, int max)
{
	int n = 0;
	for (int i = 0; i < max; i++)
		s[i] = (struct bytes){ "", 0 };
	while (n < max && end - p >= 4) {
		uint32_t l = chan_get32(p);
		if (l > (size_t)(end - p) - 4)
			break;
		s[n++] = (struct bytes){ (const char *)p + 4, l };
		p += 4 + l;
	}
	return n;
}

/* ---- the pure parts both ends of the runtime's lanes use (chan.c) ------
 * The shim drives the runtime through them; with the direct lane
 * (PROTOCOL.md) hearthd does, on the very same fds. */

/* Room for an invoke's head: kind, nonce, u32 deadline, u32 payload
 * length, u16 id length, the id. */
#define CHAN_INVOKE_HEAD_MAX (1 + CHAN_NONCE_LEN + 10 + INVOKE_REQUEST_ID_MAX)

/* A fresh unguessable nonce from *state (splitmix64, seeded once from
 * getrandom by the caller): one getrandom per invoke would be a syscall
 * on the hot path for no extra safety (the handler shares the bootstrap's
 * address space anyway; see PROTOCOL.md). */
void chan_nonce_next(uint64_t *state, uint8_t nonce[CHAN_NONCE_LEN]);

/* Lays out the head of an invoke ('V', nonce, deadline, payload length,
 * request id) in hdr; returns its length.  rid_len <= INVOKE_REQUEST_ID_MAX. */
size_t chan_invoke_head(uint8_t *hdr, const uint8_t *nonce, uint32_t deadline_ms,
			uint32_t payload_len, const uint8_t *rid, uint32_t rid_len);

/* The trailer that follows every message on the input pipe. */
void chan_in_trailer(uint8_t *t, uint32_t msg_len);

/* Looks in buf[0..*len) (bytes read from the result pipe) for a whole
 * message that starts with the nonce and copies it to out (room for
 * CHAN_PIPE_MSG_MAX bytes), its length in *out_len.  Bytes before it are
 * whatever a handler wrote into the pipe: dropped.  The bootstrap writes a
 * message in one write of at most PIPE_BUF, so it is contiguous in the
 * pipe and the bytes after its nonce are its own.  Without a whole
 * message, buf keeps only what may still become one (at most
 * CHAN_PIPE_MSG_MAX bytes), so the caller reads into buf + *len with
 * room for CHAN_PIPE_MSG_MAX more. */
bool chan_res_take(uint8_t *buf, size_t *len, const uint8_t *nonce, uint8_t *out, size_t *out_len);
#define CHAN_RES_BUF (2 * CHAN_PIPE_MSG_MAX)

/* The line that ends an invocation's logs when the capture dropped
 * bytes (at most CHAN_LOGS_MARKER_MAX): its length, 0 when none dropped. */
#define CHAN_LOGS_MARKER_MAX 96
size_t chan_logs_marker(char *buf, uint64_t dropped);

/* The runtime's answer to one invoke, gathered from its messages: a
 * result (whole in one message, or 'S' and then 'C' continuations) or a
 * handler error.  buf and alloc are kept across answers for reuse. */
struct chan_answer {
	bool started, is_error;
	uint32_t rss_kb, total, got;
	const uint8_t *result; /* when done and !is_error: total bytes (a NUL
				* follows those gathered from several messages) */
	struct bytes err[3];   /* when done and is_error: type message stack */
	int nerr;
	uint8_t *buf;
	size_t alloc;
};
enum { CHAN_ANSWER_MORE = 0, CHAN_ANSWER_DONE = 1, CHAN_ANSWER_BAD = -1, CHAN_ANSWER_NOMEM = -2 };
/* Before the first message of an invoke's answer. */
void chan_answer_start(struct chan_answer *a);
/* Takes one message that carried the nonce (msg[0..n), nonce first):
 * CHAN_ANSWER_DONE when the answer is whole (views into msg or a's
 * buffer, valid until the next feed), MORE when continuations are due,
 * BAD when the runtime broke the protocol, NOMEM. */
int chan_answer_feed(struct chan_answer *a, const uint8_t *msg, size_t n);
void chan_answer_free(struct chan_answer *a);
/* A whole result gathered from several messages lies in a's own buffer:
 * that buffer, now the caller's to free() (a allocates anew for the next
 * one).  NULL for a result inside the last message, or no result. */
uint8_t *chan_answer_take(struct chan_answer *a);

#endif
