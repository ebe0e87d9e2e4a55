/* test_envelope.c — a large result sent without a copy: the execute
 * envelope written around the result (src/invoke/envelope.c) is the whole
 * envelope's text, and a result gathered from several channel messages
 * can be taken from the answer that gathered it (common/chan.c) and from
 * the pool's result (pool_result_take). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "envelope.h"
#include "pool.h"
#include "tap.h"

static struct pool_result sample(enum invocation_status st, const char *result, const char *logs)
{
	struct pool_result r = { 0 };

	r.request_id = "a1b2c3";
	r.function_id = 42;
	r.revision = 3;
	r.status = st;
	r.result = (struct bytes){ result, result ? strlen(result) : 0 };
	r.logs = (struct bytes){ logs, strlen(logs) };
	r.start = POOL_START_WARM;
	r.duration_ms = 1.25;
	r.queue_ms = 0.5;
	r.max_memory_mb = 12.0;
	if (st != INVOCATION_SUCCESS) {
		r.error_type = (struct bytes){ "Boom", 4 };
		r.error_message = (struct bytes){ "it \"broke\"", 10 };
	}
	return r;
}

/* head + result + tail, as the reply sends them. */
static void test_around(void)
{
	static const char *const results[] = { "{\"a\":[1,2,3]}", "\"text\"", "null", "0" };

	for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++) {
		struct pool_result r = sample(INVOCATION_SUCCESS, results[i],
					      "a log line\n\"quoted\"\t");
		struct buf whole = BUF_INIT(1 << 20), head = BUF_INIT(1 << 20),
			   tail = BUF_INIT(1 << 20), joined = BUF_INIT(1 << 20);

		ok(envelope_write(&whole, &r, NULL) == 0, "envelope_write (result %s)", results[i]);
		ok(envelope_write_around(&head, &tail, &r, NULL) == 0,
		   "envelope_write_around (result %s)", results[i]);
		ok(head.len > 0 && head.len >= strlen("\"result\":") &&
			   memcmp(head.ptr + head.len - strlen("\"result\":"),
				  "\"result\":", strlen("\"result\":")) == 0,
		   "the head ends with \"result\":");
		ok(buf_append(&joined, head.ptr, head.len, NULL) == 0 &&
			   buf_append(&joined, r.result.ptr, r.result.len, NULL) == 0 &&
			   buf_append(&joined, tail.ptr, tail.len, NULL) == 0,
		   "joined");
		is_str(joined.ptr, whole.ptr,
		       "head, result, tail is the whole envelope (result %s)", results[i]);
		buf_release(&whole);
		buf_release(&head);
		buf_release(&tail);
		buf_release(&joined);
	}
	/* A tail over its buffer's bound fails instead of writing past it. */
	{
		char logs[600];
		struct pool_result r;
		struct buf head = BUF_INIT(1 << 20), tail = BUF_INIT(64);

		memset(logs, 'x', sizeof(logs) - 1);
		logs[sizeof(logs) - 1] = '\0';
		r = sample(INVOCATION_SUCCESS, "1", logs);
		ok(envelope_write_around(&head, &tail, &r, NULL) < 0,
		   "a tail longer than its buffer's bound is an error");
		ok(tail.len <= 64, "and stays within the bound");
		buf_release(&head);
		buf_release(&tail);
	}
}

/* Feeds a result of len bytes as a RESULT message and MORE messages of at
 * most step bytes each. */
static int feed(struct chan_answer *a, const uint8_t *nonce, const char *res, size_t len,
		size_t step)
{
	uint8_t msg[CHAN_NONCE_LEN + 9 + 64];
	size_t off = 0, n;
	int r;

	chan_answer_start(a);
	memcpy(msg, nonce, CHAN_NONCE_LEN);
	msg[CHAN_NONCE_LEN] = CHAN_RESULT;
	chan_put32(msg + CHAN_NONCE_LEN + 1, 2048); /* rss_kb */
	chan_put32(msg + CHAN_NONCE_LEN + 5, (uint32_t)len);
	n = len < step ? len : step;
	memcpy(msg + CHAN_NONCE_LEN + 9, res, n);
	r = chan_answer_feed(a, msg, CHAN_NONCE_LEN + 9 + n);
	off = n;
	while (r == CHAN_ANSWER_MORE) {
		msg[CHAN_NONCE_LEN] = CHAN_MORE;
		n = len - off < step ? len - off : step;
		memcpy(msg + CHAN_NONCE_LEN + 1, res + off, n);
		r = chan_answer_feed(a, msg, CHAN_NONCE_LEN + 1 + n);
		off += n;
	}
	return r;
}

static void test_take(void)
{
	static const char big[] = "{\"items\":[\"abcdefghij\",\"klmnopqrst\",\"uvwxyz\"]}";
	uint8_t nonce[CHAN_NONCE_LEN];
	struct chan_answer a = { 0 };
	uint8_t *block;
	void *slot, *taken;
	struct pool_result r;

	memset(nonce, 7, sizeof(nonce));
	/* In one message: a view into the message, nothing to take. */
	is_int(feed(&a, nonce, "[1]", 3, 64), CHAN_ANSWER_DONE, "a small result is whole at once");
	ok(chan_answer_take(&a) == NULL, "a result inside its message cannot be taken");

	/* Gathered from several: the answer's buffer, handed over once. */
	is_int(feed(&a, nonce, big, strlen(big), 10), CHAN_ANSWER_DONE,
	       "a result in 10-byte messages is whole at the end");
	block = chan_answer_take(&a);
	ok(block != NULL && block == a.result, "the gathered result's buffer is taken");
	ok(block && memcmp(block, big, strlen(big)) == 0 && block[strlen(big)] == '\0',
	   "and holds the result, NUL-terminated");
	ok(a.buf == NULL && a.alloc == 0, "the answer holds no buffer after");
	ok(chan_answer_take(&a) == NULL, "nothing to take a second time");
	/* The answer allocates anew for the next one. */
	is_int(feed(&a, nonce, big, strlen(big), 7), CHAN_ANSWER_DONE,
	       "the next gathered result after a take");
	ok(a.result && a.result != block && memcmp(a.result, big, strlen(big)) == 0,
	   "lies in a new buffer of the answer's");

	/* Through the pool's result, as lane.c passes it. */
	slot = block;
	r = sample(INVOCATION_SUCCESS, (const char *)block, "");
	r.result_block = &slot;
	taken = pool_result_take(&r);
	ok(taken == block && slot == NULL, "pool_result_take hands the block over, once");
	ok(pool_result_take(&r) == NULL, "a second take gets nothing");
	r.result_block = NULL;
	ok(pool_result_take(&r) == NULL, "no block: nothing to take");
	slot = block;
	r.result = (struct bytes){ big, strlen(big) };
	r.result_block = &slot;
	ok(pool_result_take(&r) == NULL && slot == block,
	   "a result that is not the block's start is not taken");
	free(block);
	chan_answer_free(&a);
}

int main(void)
{
	test_around();
	test_take();
	return tap_done();
}
