/* chan.h — the private shim <-> runtime channel (runtimes/PROTOCOL.md,
 * "Inside the container").  A SOCK_SEQPACKET socketpair: one message per
 * send, so a handler that writes junk into the runtime's end can only add
 * whole messages, which the shim drops unless they start with the current
 * per-invocation nonce.  The bootstraps implement the other side. */
#ifndef HEARTH_CHAN_H
#define HEARTH_CHAN_H

#include <stdint.h>

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

#endif
