/* lane_chan.c — fuzz harness: what a runtime writes back on its lanes, read
 * by common/chan.c the way hearthd's direct lane (pool/lane.c) and the
 * shim read it: the result pipe's bytes, arriving in pieces, scanned for
 * the call's nonce (chan_res_take), and the answer gathered from
 * messages (chan_answer_feed).  The input is a runtime at its worst: any
 * bytes, with the real nonce planted where the input says.
 *
 * The input: 1 byte of flags, then records `u8 kind, u16 length, bytes`:
 *   kind 0: bytes read from the result pipe (at most CHAN_RES_BUF less
 *           what is buffered, as lane.c reads them);
 *   kind 1: the same, with the nonce written over their first 16 bytes;
 *   kind 2: a channel message (nonce first: written over its start);
 *   kind 3: a channel message without the nonce (dropped, as lane.c does).
 *
 * Beyond not crashing:
 *   - chan_res_take keeps under CHAN_PIPE_MSG_MAX bytes between reads (so
 *     lane.c's next read always has room), and a message it takes is the
 *     one a plain reading of the stream finds: the bytes from the first
 *     nonce on, as long as the message says (or the nonce and one byte
 *     when it claims more than the pipe can hold at once);
 *   - chan_answer_feed on the messages, in order, gives a result exactly
 *     when the model does (a first 'S' message with a total it does not
 *     exceed, then 'C' continuations that add up to it), whose bytes are
 *     the bodies joined, a NUL after them when gathered; an 'X' is an
 *     error with its strings; anything else is BAD, and nothing is taken
 *     after an answer ends;
 *   - the invoke head and trailer hearthd writes read back, by a reading
 *     written here, as what was asked. */
#include <stdbool.h>
#include <string.h>

#include "chan.h"
#include "fuzz.h"

#define MODEL_MAX (8 * 1024 * 1024)

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The answer as a plain reading of the messages says it. */
struct model {
	int state; /* 0 nothing yet, 1 gathering, 2 done, 3 broken */
	bool error;
	uint32_t total, got;
	uint8_t *bytes;
};

/* 1 done, 0 more, -1 broken: what chan_answer_feed must say. */
static int model_feed(struct model *m, const uint8_t *msg, size_t n)
{
	uint8_t kind = msg[CHAN_NONCE_LEN];
	const uint8_t *body = msg + CHAN_NONCE_LEN + 1;
	size_t blen = n - CHAN_NONCE_LEN - 1;

	if (m->state == 2 || m->state == 3) {
		m->state = 3;
		return -1;
	}
	if (m->state == 0) {
		if (n < CHAN_NONCE_LEN + 5) {
			m->state = 3;
			return -1;
		}
		if (kind == CHAN_ERROR) {
			m->error = true;
			m->state = 2;
			return 1;
		}
		if (kind != CHAN_RESULT || blen < 8) {
			m->state = 3;
			return -1;
		}
		m->total = get32(body + 4);
		if (m->total > INVOKE_PAYLOAD_MAX || blen - 8 > m->total) {
			m->state = 3;
			return -1;
		}
		m->got = (uint32_t)(blen - 8);
		memcpy(m->bytes, body + 8, m->got);
		m->state = m->got == m->total ? 2 : 1;
		return m->state == 2 ? 1 : 0;
	}
	if (kind != CHAN_MORE || blen > m->total - m->got) {
		m->state = 3;
		return -1;
	}
	memcpy(m->bytes + m->got, body, blen);
	m->got += (uint32_t)blen;
	m->state = m->got == m->total ? 2 : 1;
	return m->state == 2 ? 1 : 0;
}

static void check_head(const uint8_t *data, size_t size)
{
	uint8_t nonce[CHAN_NONCE_LEN], hdr[CHAN_INVOKE_HEAD_MAX], t[CHAN_IN_TRAILER];
	uint64_t rng = size;
	uint32_t rid_len = size % (INVOKE_REQUEST_ID_MAX + 1);
	uint32_t deadline = (uint32_t)(size * 2654435761u), plen = (uint32_t)(size * 40503u);
	size_t hl;

	chan_nonce_next(&rng, nonce);
	uint8_t rid[INVOKE_REQUEST_ID_MAX];
	for (uint32_t i = 0; i < rid_len; i++)
		rid[i] = i < size ? data[i] : (uint8_t)i;
	hl = chan_invoke_head(hdr, nonce, deadline, plen, rid, rid_len);
	FUZZ_CHECK(hl == 1 + CHAN_NONCE_LEN + 10 + rid_len && hl <= sizeof(hdr), "head length %zu",
		   hl);
	FUZZ_CHECK(hdr[0] == 'V' && memcmp(hdr + 1, nonce, CHAN_NONCE_LEN) == 0 &&
			   get32(hdr + 17) == deadline && get32(hdr + 21) == plen &&
			   (uint32_t)(hdr[25] << 8 | hdr[26]) == rid_len &&
			   memcmp(hdr + 27, rid, rid_len) == 0,
		   "the invoke head does not read back");
	chan_in_trailer(t, (uint32_t)hl);
	FUZZ_CHECK(get32(t) == hl && memcmp(t + 4, CHAN_IN_MAGIC, 4) == 0, "trailer");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *stream, *mbytes;
	static struct chan_answer a;
	uint8_t nonce[CHAN_NONCE_LEN], buf[CHAN_RES_BUF], out[CHAN_PIPE_MSG_MAX];
	uint8_t msg[CHAN_MSG_MAX + 1];
	size_t len = 0, slen = 0, pos = 1, n;
	struct model m = { 0 };
	uint64_t rng = 7;
	bool answered = false;

	if (!stream) {
		stream = malloc(MODEL_MAX);
		mbytes = malloc(INVOKE_PAYLOAD_MAX);
		FUZZ_CHECK(stream && mbytes, "out of memory");
	}
	m.bytes = mbytes;
	check_head(data, size);
	if (size < 1)
		return 0;
	chan_nonce_next(&rng, nonce);
	chan_answer_start(&a);
	while (pos + 3 <= size && !answered) {
		uint8_t kind = data[pos] % 4;
		size_t l = (size_t)data[pos + 1] << 8 | data[pos + 2];
		const uint8_t *p = data + pos + 3;
		const uint8_t *mp;

		pos += 3;
		if (l > size - pos)
			l = size - pos;
		pos += l;
		if (kind <= 1) {
			/* A read of the result pipe: at most the room lane.c
			 * leaves, the model's stream grows by the same bytes. */
			size_t room = sizeof(buf) - len, k = l < room ? l : room;

			memcpy(buf + len, p, k);
			if (kind == 1 && k >= CHAN_NONCE_LEN)
				memcpy(buf + len, nonce, CHAN_NONCE_LEN);
			FUZZ_CHECK(slen + k <= MODEL_MAX, "model stream full");
			memcpy(stream + slen, buf + len, k);
			slen += k;
			len += k;
			if (!chan_res_take(buf, &len, nonce, out, &n)) {
				FUZZ_CHECK(len < CHAN_PIPE_MSG_MAX, "%zu bytes kept between reads",
					   len);
				/* The model: a message not whole yet (or no nonce). */
				uint8_t *at = memmem(stream, slen, nonce, CHAN_NONCE_LEN);
				if (at) {
					size_t avail = slen - (size_t)(at - stream), need = 0;

					if (avail >= CHAN_NONCE_LEN + 9) {
						need = CHAN_NONCE_LEN + 9 + (size_t)get32(at + 21);
						if (need > CHAN_PIPE_MSG_MAX)
							need = CHAN_NONCE_LEN + 1;
					}
					FUZZ_CHECK(
						need == 0 || avail < need,
						"a whole message (%zu of %zu bytes) was not taken",
						avail, need);
				}
				continue;
			}
			uint8_t *at = memmem(stream, slen, nonce, CHAN_NONCE_LEN);
			FUZZ_CHECK(at, "a message taken without the nonce in the stream");
			size_t avail = slen - (size_t)(at - stream);
			size_t need = CHAN_NONCE_LEN + 9 + (size_t)get32(at + 21);
			if (need > CHAN_PIPE_MSG_MAX)
				need = CHAN_NONCE_LEN + 1;
			FUZZ_CHECK(n == need && avail >= need && memcmp(out, at, n) == 0,
				   "the message taken (%zu bytes) is not the stream's (%zu)", n,
				   need);
			FUZZ_CHECK(len == 0, "bytes kept after a message");
			slen = 0;
			mp = out;
		} else {
			if (l > CHAN_MSG_MAX)
				l = CHAN_MSG_MAX;
			memcpy(msg, p, l);
			if (kind == 3 || l < CHAN_NONCE_LEN + 1)
				continue; /* no nonce: lane.c drops it unread */
			memcpy(msg, nonce, CHAN_NONCE_LEN);
			n = l;
			mp = msg;
		}
		int want = model_feed(&m, mp, n);
		int got = chan_answer_feed(&a, mp, n);
		FUZZ_CHECK(got != CHAN_ANSWER_NOMEM, "out of memory");
		FUZZ_CHECK((want == 1 && got == CHAN_ANSWER_DONE) ||
				   (want == 0 && got == CHAN_ANSWER_MORE) ||
				   (want == -1 && got == CHAN_ANSWER_BAD),
			   "chan_answer_feed says %d, the model %d", got, want);
		if (got == CHAN_ANSWER_BAD)
			break;
		if (got == CHAN_ANSWER_DONE) {
			FUZZ_CHECK(a.is_error == m.error, "error or result");
			if (!a.is_error) {
				FUZZ_CHECK(a.total == m.total && a.result &&
						   memcmp(a.result, m.bytes, a.total) == 0,
					   "the result's bytes (%u)", a.total);
				if (a.result == a.buf)
					FUZZ_CHECK(a.result[a.total] == 0, "no NUL after a result");
			} else {
				FUZZ_CHECK(a.nerr >= 0 && a.nerr <= 3, "%d error strings", a.nerr);
				for (int i = 0; i < a.nerr; i++)
					FUZZ_CHECK((const uint8_t *)a.err[i].ptr >= mp &&
							   (const uint8_t *)a.err[i].ptr +
									   a.err[i].len <=
								   mp + n,
						   "error string %d outside its message", i);
			}
			answered = true;
		}
	}
	if (a.alloc > CHAN_MSG_MAX)
		chan_answer_free(&a);
	return 0;
}
