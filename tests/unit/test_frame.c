/* test_frame.c — the frame writer against the parser (common/frame.c):
 * what the writer lays out parses back field for field; small values are
 * copied and coalesce into one piece, large ones are referenced in place;
 * its errors are sticky and reported once; the parser refuses what it
 * must. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "tap.h"

/* The iovec laid end to end, as the peer's stream would see it. */
static size_t flatten(const struct iovec *iov, int n, uint8_t *out)
{
	size_t at = 0;
	for (int i = 0; i < n; i++) {
		memcpy(out + at, iov[i].iov_base, iov[i].iov_len);
		at += iov[i].iov_len;
	}
	return at;
}

/* The next field of it, or tag 0 when there is none. */
static struct frame_field next(struct frame_iter *it)
{
	struct frame_field f = { 0 };
	if (frame_iter_next(it, &f) != 1)
		f.tag = 0;
	return f;
}

static int same(const struct frame_field *f, uint16_t tag, const void *val, size_t len)
{
	return f->tag == tag && f->len == len && memcmp(f->val, val, len) == 0;
}

static void round_trip(void)
{
	static uint8_t big[100000], wire[200000];
	uint8_t scratch[1024];
	struct iovec iov[8];
	struct frame_writer w;
	size_t len, logs_len = 3000, need;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);

	frame_writer_init(&w, FRAME_REPLY, scratch, sizeof(scratch), iov, 8);
	frame_write_u64(&w, FT_STATUS, INVOCATION_SUCCESS);
	frame_write_u64(&w, FT_DURATION_US, 0x0102030405060708ull);
	frame_write_str(&w, FT_ERROR_TYPE, "Type");
	frame_write_str(&w, FT_ERROR_STACK, NULL);
	frame_write_bytes(&w, FT_RESULT, big, sizeof(big));
	frame_write_field(&w, FT_LOGS, logs_len + 5);
	frame_write_piece(&w, big + 1, logs_len);
	frame_write_copy(&w, "[end]", 5);
	frame_write_bytes(&w, FT_ERROR_MESSAGE, "", 0);
	int n = frame_writer_finish(&w, &len);
	/* header..RESULT's header | big | LOGS' header | big+1 | "[end]" + last field */
	is_int(n, 5, "small fields coalesce, large values take their own entries");
	if (n != 5)
		return;
	ok(iov[1].iov_base == big && iov[1].iov_len == sizeof(big) && iov[3].iov_base == big + 1,
	   "large values are referenced where they lie, not copied");
	ok(iov[0].iov_base == scratch && iov[2].iov_base == scratch + iov[0].iov_len &&
		   iov[4].iov_base == scratch + iov[0].iov_len + iov[2].iov_len,
	   "scratch pieces after a reference continue where the scratch left off");
	size_t wl = flatten(iov, n, wire);
	is_int(wl, len, "finish counts the whole frame");

	struct frame f;
	ok(frame_parse(wire, wl, &f, &need) == 1 && need == wl && f.type == FRAME_REPLY &&
		   f.body_len == wl - FRAME_HDR_LEN,
	   "the header parses back: type and body length");
	is_int(frame_validate(&f), 0, "the fields tile the body");
	struct frame_iter it;
	frame_iter_init(&it, &f);
	struct frame_field fld = next(&it);
	uint64_t v = 9;
	ok(fld.tag == FT_STATUS && frame_field_u64(&fld, &v) == 0 && v == INVOCATION_SUCCESS,
	   "u64 field");
	fld = next(&it);
	ok(fld.tag == FT_DURATION_US && frame_field_u64(&fld, &v) == 0 &&
		   v == 0x0102030405060708ull && fld.val[0] == 1 && fld.val[7] == 8,
	   "u64 field, big-endian on the wire");
	fld = next(&it);
	ok(same(&fld, FT_ERROR_TYPE, "Type", 4), "string field");
	fld = next(&it);
	ok(fld.tag == FT_ERROR_STACK && fld.len == 0, "NULL string is an empty field");
	fld = next(&it);
	ok(same(&fld, FT_RESULT, big, sizeof(big)), "referenced bytes field");
	fld = next(&it);
	ok(fld.tag == FT_LOGS && fld.len == logs_len + 5 &&
		   memcmp(fld.val, big + 1, logs_len) == 0 &&
		   memcmp(fld.val + logs_len, "[end]", 5) == 0,
	   "a field written in pieces");
	fld = next(&it);
	ok(fld.tag == FT_ERROR_MESSAGE && fld.len == 0, "empty bytes field");
	ok(next(&it).tag == 0, "nothing after the last field");
}

static void small_frames(void)
{
	uint8_t scratch[64], wire[64];
	struct iovec iov[2];
	struct frame_writer w;
	struct frame f;
	size_t len, need;

	frame_writer_init(&w, FRAME_PING, scratch, sizeof(scratch), iov, 2);
	int n = frame_writer_finish(&w, &len);
	ok(n == 1 && len == FRAME_HDR_LEN && frame_parse(scratch, len, &f, &need) == 1 &&
		   f.type == FRAME_PING && f.body_len == 0,
	   "an empty frame is its header alone");

	frame_writer_init(&w, FRAME_INVOKE, scratch, sizeof(scratch), iov, 1);
	frame_write_bytes(&w, FT_PAYLOAD, "{}", 2);
	n = frame_writer_finish(&w, &len);
	ok(n == 1 && len == FRAME_HDR_LEN + FRAME_FIELD_HDR_LEN + 2 && iov[0].iov_len == len,
	   "a small value is copied: the whole frame one piece");
	flatten(iov, 1, wire);
	ok(frame_parse(wire, len - 1, &f, &need) == 0 && need == len,
	   "a frame short of one byte waits, saying how many it needs");
}

static void errors(void)
{
	uint8_t scratch[32], big[FRAME_COPY_MAX + 1] = { 0 };
	struct iovec iov[4];
	struct frame_writer w;
	size_t len;

	frame_writer_init(&w, FRAME_REPLY, scratch, FRAME_HDR_LEN - 1, iov, 4);
	is_int(frame_writer_finish(&w, &len), FRAME_ENOSPC, "scratch smaller than a header");

	frame_writer_init(&w, FRAME_REPLY, scratch, sizeof(scratch), iov, 4);
	frame_write_str(&w, FT_ERROR_TYPE, "this string is longer than what is left");
	frame_write_u64(&w, FT_STATUS, 1);
	is_int(frame_writer_finish(&w, &len), FRAME_ENOSPC,
	       "out of scratch: sticky, reported at the end");
	is_int(w.len, FRAME_HDR_LEN + FRAME_FIELD_HDR_LEN, "nothing written after the first error");

	frame_writer_init(&w, FRAME_REPLY, scratch, sizeof(scratch), iov, 2);
	frame_write_bytes(&w, FT_RESULT, big, sizeof(big));
	frame_write_bytes(&w, FT_LOGS, big, sizeof(big));
	is_int(frame_writer_finish(&w, &len), FRAME_ENOSPC, "out of iovec entries");

	frame_writer_init(&w, FRAME_REPLY, scratch, sizeof(scratch), iov, 4);
	frame_write_field(&w, FT_LOGS, 10);
	frame_write_copy(&w, "abc", 3);
	frame_write_u64(&w, FT_STATUS, 1);
	is_int(frame_writer_finish(&w, &len), FRAME_EFIELD, "a field left short before the next");

	frame_writer_init(&w, FRAME_REPLY, scratch, sizeof(scratch), iov, 4);
	frame_write_field(&w, FT_LOGS, 2);
	frame_write_copy(&w, "abc", 3);
	is_int(frame_writer_finish(&w, &len), FRAME_EFIELD, "pieces over the field's length");

	frame_writer_init(&w, FRAME_REPLY, scratch, sizeof(scratch), iov, 4);
	frame_write_field(&w, FT_LOGS, 2);
	is_int(frame_writer_finish(&w, &len), FRAME_EFIELD, "the last field left short");

	/* Over the body limit, by referencing one buffer twice. */
	uint8_t *half = calloc(1, FRAME_MAX_BODY / 2 + 1);
	frame_writer_init(&w, FRAME_REPLY, scratch, sizeof(scratch), iov, 4);
	frame_write_bytes(&w, FT_RESULT, half, FRAME_MAX_BODY / 2 + 1);
	frame_write_bytes(&w, FT_LOGS, half, FRAME_MAX_BODY / 2 + 1);
	is_int(frame_writer_finish(&w, &len), FRAME_ETOOBIG, "a body over FRAME_MAX_BODY");
	free(half);
	ok(strcmp(frame_strerror(FRAME_ENOSPC), "unknown frame error") != 0,
	   "the new error has words");
}

static void parse_refusals(void)
{
	static const uint8_t magic[] = { 'H', 'X' }, version[] = { 'H', 'F', 2 },
			     huge[] = { 'H', 'F', 1, FRAME_INVOKE, 0x10, 0, 0, 0 },
			     overrun[] = { 'H', 'F', 1, FRAME_INVOKE, 0, 0,   0,  8, 0,
					   18,	0,   0, 0x10,	      0, 'x', 'y' },
			     shortu64[] = { 'H', 'F', 1, FRAME_REPLY, 0, 0, 0, 7,
					    0,	 32,  0, 0,	      0, 1, 0 };
	struct frame f;
	size_t need;

	is_int(frame_parse(magic, sizeof(magic), &f, &need), FRAME_EMAGIC,
	       "bad magic, judged early");
	is_int(frame_parse(version, sizeof(version), &f, &need), FRAME_EVERSION, "unknown version");
	is_int(frame_parse(huge, sizeof(huge), &f, &need), FRAME_ETOOBIG,
	       "a header announcing too much");
	ok(frame_parse(overrun, sizeof(overrun), &f, &need) == 1 &&
		   frame_validate(&f) == FRAME_EFIELD,
	   "a field overrunning its frame");
	struct frame_iter it;
	struct frame_field fld;
	uint64_t v;
	frame_parse(shortu64, sizeof(shortu64), &f, &need);
	frame_iter_init(&it, &f);
	ok(frame_iter_next(&it, &fld) == 1 && frame_field_u64(&fld, &v) == FRAME_EFIELD,
	   "an integer field that is not 8 bytes");
}

int main(void)
{
	round_trip();
	small_frames();
	errors();
	parse_refusals();
	return tap_done();
}
