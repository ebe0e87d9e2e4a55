/* chan.c — the pure parts of the runtime's channel and pipes (chan.h):
 * what the shim and, on the direct lane, hearthd lay out and take apart
 * the same way.  libc only. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "chan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void chan_nonce_next(uint64_t *state, uint8_t nonce[CHAN_NONCE_LEN])
{
	for (int i = 0; i < 2; i++) {
		uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		memcpy(nonce + 8 * i, &z, 8);
	}
}

size_t chan_invoke_head(uint8_t *hdr, const uint8_t *nonce, uint32_t deadline_ms,
			uint32_t payload_len, const uint8_t *rid, uint32_t rid_len)
{
	size_t hl = 0;

	hdr[hl++] = CHAN_INVOKE;
	memcpy(hdr + hl, nonce, CHAN_NONCE_LEN);
	hl += CHAN_NONCE_LEN;
	chan_put32(hdr + hl, deadline_ms);
	chan_put32(hdr + hl + 4, payload_len);
	hdr[hl + 8] = (uint8_t)(rid_len >> 8);
	hdr[hl + 9] = (uint8_t)rid_len;
	hl += 10;
	memcpy(hdr + hl, rid, rid_len);
	return hl + rid_len;
}

void chan_in_trailer(uint8_t *t, uint32_t msg_len)
{
	chan_put32(t, msg_len);
	memcpy(t + 4, CHAN_IN_MAGIC, 4);
}

bool chan_res_take(uint8_t *buf, size_t *len, const uint8_t *nonce, uint8_t *out, size_t *out_len)
{
	uint8_t *p = memmem(buf, *len, nonce, CHAN_NONCE_LEN);

	if (!p) { /* keep a tail that may be the start of the nonce */
		if (*len > CHAN_NONCE_LEN - 1) {
			memmove(buf, buf + *len - (CHAN_NONCE_LEN - 1), CHAN_NONCE_LEN - 1);
			*len = CHAN_NONCE_LEN - 1;
		}
		return false;
	}
	size_t avail = *len - (size_t)(p - buf);
	const size_t hl = CHAN_NONCE_LEN + 1 + 8; /* nonce 'S' rss len */
	if (avail >= hl) {
		size_t need = hl + chan_get32(p + CHAN_NONCE_LEN + 5);
		if (need > CHAN_PIPE_MSG_MAX)
			need = CHAN_NONCE_LEN + 1; /* too long for the lane: a violation */
		if (avail >= need) {
			memcpy(out, p, need);
			*out_len = need;
			*len = 0;
			return true;
		}
	}
	/* Not whole yet: less than its length, so under CHAN_PIPE_MSG_MAX. */
	memmove(buf, p, avail);
	*len = avail;
	return false;
}

size_t chan_logs_marker(char *buf, uint64_t dropped)
{
	int r;

	if (!dropped)
		return 0;
	r = snprintf(buf, CHAN_LOGS_MARKER_MAX, "\n[hearth: logs truncated, %llu bytes dropped]\n",
		     (unsigned long long)dropped);
	return r > 0 && r < CHAN_LOGS_MARKER_MAX ? (size_t)r : 0;
}

void chan_answer_start(struct chan_answer *a)
{
	a->started = false;
	a->is_error = false;
	a->rss_kb = a->total = a->got = 0;
	a->result = NULL;
	a->nerr = 0;
}

int chan_answer_feed(struct chan_answer *a, const uint8_t *msg, size_t n)
{
	uint8_t kind = msg[CHAN_NONCE_LEN];
	const uint8_t *body = msg + CHAN_NONCE_LEN + 1, *end = msg + n;

	if (!a->started) {
		if (n < CHAN_NONCE_LEN + 5)
			return CHAN_ANSWER_BAD;
		a->started = true;
		a->rss_kb = chan_get32(body);
		body += 4;
		if (kind == CHAN_ERROR) {
			a->is_error = true;
			a->nerr = chan_strings(body, end, a->err, 3);
			return CHAN_ANSWER_DONE;
		}
		if (kind != CHAN_RESULT || end - body < 4)
			return CHAN_ANSWER_BAD;
		a->total = chan_get32(body);
		body += 4;
		if (a->total > INVOKE_PAYLOAD_MAX || (size_t)(end - body) > a->total)
			return CHAN_ANSWER_BAD;
		a->got = (uint32_t)(end - body);
		if (a->got == a->total) { /* the common case: one message */
			a->result = body;
			return CHAN_ANSWER_DONE;
		}
		if (a->alloc < a->total + 1) {
			uint8_t *nb = realloc(a->buf, a->total + 1);
			if (!nb)
				return CHAN_ANSWER_NOMEM;
			a->buf = nb;
			a->alloc = a->total + 1;
		}
		memcpy(a->buf, body, a->got);
		return CHAN_ANSWER_MORE;
	}
	if (n < CHAN_NONCE_LEN + 1 || kind != CHAN_MORE || a->is_error || a->result ||
	    (size_t)(end - body) > a->total - a->got)
		return CHAN_ANSWER_BAD;
	memcpy(a->buf + a->got, body, (size_t)(end - body));
	a->got += (uint32_t)(end - body);
	if (a->got < a->total)
		return CHAN_ANSWER_MORE;
	a->buf[a->total] = 0;
	a->result = a->buf;
	return CHAN_ANSWER_DONE;
}

uint8_t *chan_answer_take(struct chan_answer *a)
{
	uint8_t *p = a->buf;

	if (!p || a->result != p)
		return NULL;
	a->buf = NULL;
	a->alloc = 0;
	return p;
}

void chan_answer_free(struct chan_answer *a)
{
	free(a->buf);
	a->buf = NULL;
	a->alloc = 0;
}
