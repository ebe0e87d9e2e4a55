/* frame_hearthd.c — fuzz harness: the byte stream a shim sends, read by
 * hearthd's side of the connection (pool/shimconn.c, over common/frame.c)
 * exactly as the pool uses it: a real unix socket, a libevent loop, an
 * init first, the next invoke sent from inside each reply's callback.
 * The input is what the container writes; it arrives in pieces whose
 * sizes come from the input, so frames straddle reads.
 *
 * Beyond not crashing:
 *   - the callbacks are the ones a straightforward reading of the stream
 *     predicts (the model below): each reply with its status and every
 *     field's bytes, in order; one failure (EBADMSG for a bad frame, an
 *     unasked answer or an unknown type; ECONNRESET at the end of the
 *     stream) and nothing after it, whether the callback frees the
 *     connection (as the pool does) or not;
 *   - the codec agrees with a reading of the format written here
 *     independently (the header, the fields tiling the body), and the
 *     frame writer lays every frame it parsed out again byte for byte;
 *   - what hearthd sent the shim meanwhile is the init and the invokes it
 *     was asked to send, in order, each a well-formed frame. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "frame.h"
#include "fuzz.h"
#include "loop.h"
#include "shimconn.h"

#define INPUT_MAX (64 * 1024)
#define LOOPS_MAX 100000

/* ---- the codec, read independently -------------------------------------------- */

struct ref_field {
	uint16_t tag;
	const uint8_t *val;
	uint32_t len;
};

/* The fields of a body as the format says (u16 tag, u32 length, bytes):
 * how many whole ones there are from its start (*n), and whether they
 * tile it exactly. */
static bool ref_fields(const uint8_t *body, size_t len, struct ref_field *out, long *n)
{
	size_t pos = 0;

	*n = 0;
	while (pos < len) {
		uint32_t flen;

		if (len - pos < 6)
			return false;
		flen = fuzz_get32(body + pos + 2);
		if (flen > len - pos - 6)
			return false;
		out[*n].tag = fuzz_get16(body + pos);
		out[*n].len = flen;
		out[*n].val = body + pos + 6;
		(*n)++;
		pos += 6 + (size_t)flen;
	}
	return true;
}

/* frame.c's reading of a whole frame against ours (nf fields, tiling the
 * body or not), and its writer laying the same frame out again. */
static void check_codec(const uint8_t *p, size_t len, const struct frame *f, struct ref_field *rf,
			long nf, bool tiles)
{
	struct frame_iter it;
	struct frame_field fld;
	long i = 0;
	int k;

	FUZZ_CHECK(p[0] == 'H' && p[1] == 'F' && p[2] == FRAME_VERSION &&
			   fuzz_get32(p + 4) == len - FRAME_HDR_LEN && f->type == p[3] &&
			   f->body == p + FRAME_HDR_LEN && f->body_len == len - FRAME_HDR_LEN,
		   "frame_parse misread a header");
	FUZZ_CHECK((frame_validate(f) == 0) == tiles, "frame_validate %d, reference %d",
		   frame_validate(f), tiles);
	frame_iter_init(&it, f);
	while ((k = frame_iter_next(&it, &fld)) == 1) {
		FUZZ_CHECK(i < nf && fld.tag == rf[i].tag && fld.len == rf[i].len &&
				   fld.val == rf[i].val,
			   "frame_iter_next misread field %ld", i);
		i++;
	}
	FUZZ_CHECK(i == nf && k == (tiles ? 0 : FRAME_EFIELD),
		   "frame_iter_next ended with %d after %ld of %ld fields", k, i, nf);
	if (!tiles)
		return;

	/* The writer, copying every value, lays out the very same bytes. */
	{
		size_t scratch_len = len + 16, out_len = 0;
		uint8_t *scratch = malloc(scratch_len);
		struct frame_writer w;
		struct iovec iov[1];
		int n;

		FUZZ_CHECK(scratch != NULL, "out of memory");
		frame_writer_init(&w, f->type, scratch, scratch_len, iov, 1);
		for (i = 0; i < nf; i++) {
			frame_write_field(&w, rf[i].tag, rf[i].len);
			frame_write_copy(&w, rf[i].val, rf[i].len);
		}
		n = frame_writer_finish(&w, &out_len);
		FUZZ_CHECK(n == 1 && out_len == len && iov[0].iov_base == scratch &&
				   !memcmp(scratch, p, len),
			   "the writer laid the frame out differently (%d, %zu of %zu bytes)", n,
			   out_len, len);
		free(scratch);
	}
}

/* ---- what hearthd is expected to do --------------------------------------------- */

enum { EV_REPLY = 1, EV_FAIL = 2 };
enum { B_RESULT, B_ETYPE, B_EMSG, B_ESTACK, B_LOGS, B_N };

struct ev {
	int kind;
	int status; /* a reply's invocation status; a failure's errno */
	bool init;  /* the answer to init */
	uint64_t duration_us, max_rss_kb;
	size_t len[B_N];
	uint64_t hash[B_N];
};

static bool same_ev(const struct ev *a, const struct ev *b)
{
	if (a->kind != b->kind || a->status != b->status)
		return false;
	if (a->kind == EV_FAIL)
		return true;
	if (a->init != b->init || a->duration_us != b->duration_us ||
	    a->max_rss_kb != b->max_rss_kb)
		return false;
	for (int i = 0; i < B_N; i++)
		if (a->len[i] != b->len[i] || a->hash[i] != b->hash[i])
			return false;
	return true;
}

/* A reply's fields as shimconn must read them (the last of a tag wins);
 * false when one is malformed. */
static bool model_fields(const struct ref_field *rf, long nf, bool tiles, struct ev *e)
{
	static const uint16_t tags[B_N] = { FT_RESULT, FT_ERROR_TYPE, FT_ERROR_MESSAGE,
					    FT_ERROR_STACK, FT_LOGS };

	if (!tiles)
		return false;
	for (int b = 0; b < B_N; b++)
		e->hash[b] = fuzz_hash("", 0);
	for (long i = 0; i < nf; i++) {
		uint64_t v;

		if (rf[i].tag == FT_STATUS || rf[i].tag == FT_DURATION_US ||
		    rf[i].tag == FT_MAX_RSS_KB) {
			if (rf[i].len != 8)
				return false;
			v = (uint64_t)fuzz_get32(rf[i].val) << 32 | fuzz_get32(rf[i].val + 4);
			if (rf[i].tag == FT_STATUS) {
				if (v > INVOCATION_CRASHED)
					return false;
				e->status = (int)v;
			} else if (rf[i].tag == FT_DURATION_US) {
				e->duration_us = v;
			} else {
				e->max_rss_kb = v;
			}
		}
		for (int b = 0; b < B_N; b++)
			if (rf[i].tag == tags[b]) {
				e->len[b] = rf[i].len;
				e->hash[b] = fuzz_hash(rf[i].val, rf[i].len);
			}
	}
	return true;
}

/* The events a straightforward reading of the stream predicts: hearthd
 * looks at a header once its 8 bytes are in, at a frame once it is whole;
 * init is asked first, an invoke after every answer; a PONG is never
 * asked (hearthd sends no PING), so it fails the connection like any
 * other frame out of turn. */
static size_t model(const uint8_t *data, size_t size, struct ev *out, struct ref_field *rf)
{
	size_t pos = 0, n = 0;
	bool init_pending = true;

	for (;;) {
		struct frame f;
		struct ev e = { 0 };
		size_t need;
		long nf;
		bool tiles;
		int r;

		if (size - pos < FRAME_HDR_LEN)
			break;
		r = frame_parse(data + pos, FRAME_HDR_LEN, &f, &need);
		if (r < 0)
			goto fail;
		if (size - pos < need)
			break;
		FUZZ_CHECK(frame_parse(data + pos, need, &f, &need) == 1, "a whole frame is not");
		tiles = ref_fields(f.body, f.body_len, rf, &nf);
		check_codec(data + pos, need, &f, rf, nf, tiles);
		if (!model_fields(rf, nf, tiles, &e))
			goto fail;
		switch (f.type) {
		case FRAME_READY:
		case FRAME_INIT_ERROR:
			if (!init_pending)
				goto fail;
			e.kind = EV_REPLY;
			e.init = true;
			e.status = f.type == FRAME_READY ? INVOCATION_SUCCESS : INVOCATION_ERROR;
			out[n++] = e;
			init_pending = false;
			break;
		case FRAME_REPLY:
			if (init_pending)
				goto fail;
			e.kind = EV_REPLY;
			out[n++] = e;
			break;
		default: goto fail;
		}
		pos += need;
	}
	out[n++] = (struct ev){ .kind = EV_FAIL, .status = ECONNRESET };
	return n;
fail:
	out[n++] = (struct ev){ .kind = EV_FAIL, .status = EBADMSG };
	return n;
}

/* ---- what hearthd does ------------------------------------------------------------- */

static const char env_json[] = "{\"A\":\"1\",\"B\":\"two\"}";

static struct {
	struct event_base *base;
	char sock_path[256];
	int listen_fd;
	struct shimconn *c;
	bool free_on_error; /* as the pool does; else the harness frees at the end */
	bool freed;
	struct ev *got;
	size_t n_got;
	unsigned invokes; /* sent */
	uint8_t *sent;	  /* what the shim end received */
	size_t n_sent, cap_sent;
} h;

static void on_reply(void *arg, const struct shimconn_reply *r, const struct hearth_error *err);

static void send_invoke(void)
{
	char rid[32], payload[32];
	struct hearth_error *err = NULL;

	snprintf(rid, sizeof(rid), "req-%u", h.invokes);
	snprintf(payload, sizeof(payload), "{\"n\":%u}", h.invokes);
	FUZZ_CHECK(shimconn_invoke(h.c, rid, 3000, payload, strlen(payload), on_reply, NULL,
				   &err) == 0,
		   "shimconn_invoke after an answer: %s", err ? err->msg : "");
	h.invokes++;
}

static void record(const struct ev *e)
{
	FUZZ_CHECK(h.n_got == 0 || h.got[h.n_got - 1].kind != EV_FAIL,
		   "a callback came after the connection failed");
	h.got[h.n_got++] = *e;
}

static void on_failure(int status)
{
	record(&(struct ev){ .kind = EV_FAIL, .status = status });
	if (h.free_on_error) {
		shimconn_free(h.c);
		h.freed = true;
	}
}

static void on_reply(void *arg, const struct shimconn_reply *r, const struct hearth_error *err)
{
	const struct bytes *b[B_N];
	struct ev e = { .kind = EV_REPLY };

	(void)arg;
	if (!r) {
		FUZZ_CHECK(err && err->msg, "a failure without an error");
		on_failure(err->status);
		return;
	}
	FUZZ_CHECK(!err, "a reply with an error");
	b[B_RESULT] = &r->result;
	b[B_ETYPE] = &r->error_type;
	b[B_EMSG] = &r->error_message;
	b[B_ESTACK] = &r->error_stack;
	b[B_LOGS] = &r->logs;
	e.status = (int)r->status;
	e.init = h.invokes == 0;
	e.duration_us = r->duration_us;
	e.max_rss_kb = r->max_rss_kb;
	for (int i = 0; i < B_N; i++) {
		e.len[i] = b[i]->len;
		e.hash[i] = fuzz_hash(b[i]->ptr, b[i]->len);
	}
	record(&e);
	send_invoke();
}

static void on_closed(void *arg, const struct hearth_error *err)
{
	(void)arg;
	FUZZ_CHECK(err && err->msg, "closed without an error");
	on_failure(err->status);
}

static bool failed(void)
{
	return h.n_got > 0 && h.got[h.n_got - 1].kind == EV_FAIL;
}

/* Takes in what hearthd wrote to the shim so far. */
static void drain_peer(int peer)
{
	for (;;) {
		ssize_t r;

		if (h.cap_sent - h.n_sent < 4096) {
			h.cap_sent = h.cap_sent ? h.cap_sent * 2 : 65536;
			h.sent = realloc(h.sent, h.cap_sent);
			FUZZ_CHECK(h.sent != NULL, "out of memory");
		}
		r = read(peer, h.sent + h.n_sent, h.cap_sent - h.n_sent);
		if (r <= 0)
			return;
		h.n_sent += (size_t)r;
	}
}

/* Runs the loop until hearthd has read everything written to it, or has
 * stopped reading because the connection failed. */
static void settle(int peer)
{
	int i;

	for (i = 0; i < LOOPS_MAX; i++) {
		int outq = 0;

		drain_peer(peer);
		if (failed())
			return;
		FUZZ_CHECK(ioctl(peer, SIOCOUTQ, &outq) == 0, "SIOCOUTQ: %s", strerror(errno));
		if (outq == 0)
			return;
		event_base_loop(h.base, EVLOOP_NONBLOCK);
	}
	fuzz_fail(__FILE__, __LINE__, "hearthd reads", "hearthd stopped reading its shim");
}

static void setup(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (h.base)
		return;
	h.base = loop_new();
	FUZZ_PATH(h.sock_path, "%s/shim.sock", fuzz_sandbox("frame_hearthd"));
	FUZZ_CHECK(h.base && strlen(h.sock_path) < sizeof(sa.sun_path), "setup");
	memcpy(sa.sun_path, h.sock_path, strlen(h.sock_path) + 1);
	h.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	FUZZ_CHECK(h.listen_fd >= 0 && bind(h.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
			   listen(h.listen_fd, 4) == 0,
		   "listen on %s: %s", h.sock_path, strerror(errno));
}

/* The requests hearthd sent: the init, then the invokes in order. */
static void check_requests(void)
{
	static const struct {
		uint16_t tag;
		const char *val;
	} init_strs[] = { { FT_CODE_DIR, "/code" },
			  { FT_HANDLER, "main.handler" },
			  { FT_LANGUAGE, "python" },
			  { FT_FUNCTION_NAME, "f" } };
	size_t pos = 0;
	unsigned k = 0;
	struct ref_field *rf = malloc(sizeof(*rf) * (h.n_sent / 6 + 1));

	FUZZ_CHECK(rf != NULL, "out of memory");
	while (pos < h.n_sent) {
		struct frame f;
		size_t need;
		long nf;
		bool tiles;
		int r = frame_parse(h.sent + pos, h.n_sent - pos, &f, &need);

		FUZZ_CHECK(r >= 0, "hearthd sent a bad frame header");
		if (r == 0)
			break;
		tiles = ref_fields(f.body, f.body_len, rf, &nf);
		check_codec(h.sent + pos, need, &f, rf, nf, tiles);
		FUZZ_CHECK(tiles, "hearthd sent malformed fields");
		if (pos == 0) {
			FUZZ_CHECK(f.type == FRAME_INIT && nf == 8,
				   "the first frame is not the init");
			for (int i = 0; i < 4; i++)
				FUZZ_CHECK(rf[i].tag == init_strs[i].tag &&
						   rf[i].len == strlen(init_strs[i].val) &&
						   !memcmp(rf[i].val, init_strs[i].val, rf[i].len),
					   "init field %d", i);
			FUZZ_CHECK(rf[6].tag == FT_ENV && rf[6].len == 3 &&
					   !memcmp(rf[6].val, "A=1", 3) && rf[7].tag == FT_ENV &&
					   rf[7].len == 5 && !memcmp(rf[7].val, "B=two", 5),
				   "init env");
		} else {
			char rid[32], payload[32];

			snprintf(rid, sizeof(rid), "req-%u", k);
			snprintf(payload, sizeof(payload), "{\"n\":%u}", k);
			FUZZ_CHECK(f.type == FRAME_INVOKE && nf == 3 && k < h.invokes,
				   "frame %u is not an invoke asked for", k);
			FUZZ_CHECK(rf[0].tag == FT_REQUEST_ID && rf[0].len == strlen(rid) &&
					   !memcmp(rf[0].val, rid, rf[0].len) &&
					   rf[2].tag == FT_PAYLOAD &&
					   rf[2].len == strlen(payload) &&
					   !memcmp(rf[2].val, payload, rf[2].len),
				   "invoke %u is not the one asked for", k);
			k++;
		}
		pos += need;
	}
	/* Whatever follows is a frame cut short: the connection always ends
	 * failed here, and a failed one drops what it had not written. */
	FUZZ_CHECK(pos > 0, "hearthd did not send its init");
	free(rf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shimconn_init in = { .code_dir = "/code",
				    .handler = "main.handler",
				    .language = "python",
				    .function_name = "f",
				    .env_json = env_json,
				    .memory_mb = 128,
				    .timeout_ms = 3000 };
	struct hearth_error *err = NULL;
	struct ref_field *rf;
	struct ev *want;
	size_t n_want, pos = 0;
	uint64_t rnd = fuzz_hash(data, size) | 1;
	int peer;

	if (size > INPUT_MAX)
		return 0;
	setup();
	rf = malloc(sizeof(*rf) * (size / 6 + 1));
	want = calloc(size / 8 + 2, sizeof(*want));
	h.got = calloc(size / 8 + 4, sizeof(*h.got));
	FUZZ_CHECK(rf && want && h.got, "out of memory");
	n_want = model(data, size, want, rf);

	h.free_on_error = rnd & 2;
	h.freed = false;
	h.n_got = 0;
	h.invokes = 0;
	h.n_sent = 0;
	FUZZ_CHECK(shimconn_connect(&h.c, h.base, h.sock_path, on_closed, NULL, &err) == 0,
		   "connect: %s", err ? err->msg : "");
	peer = accept4(h.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	FUZZ_CHECK(peer >= 0, "accept: %s", strerror(errno));
	FUZZ_CHECK(shimconn_init(h.c, &in, on_reply, NULL, &err) == 0, "init: %s",
		   err ? err->msg : "");
	for (int i = 0; i < 16 && h.n_sent == 0; i++) {
		event_base_loop(h.base, EVLOOP_NONBLOCK);
		drain_peer(peer);
	}

	/* The stream, in pieces of 1 to size/4+1 bytes chosen by the input. */
	while (pos < size && !failed()) {
		size_t piece, off = 0;

		rnd ^= rnd << 13;
		rnd ^= rnd >> 7;
		rnd ^= rnd << 17;
		piece = 1 + (size_t)(rnd % (size / 4 + 1));
		if (piece > size - pos)
			piece = size - pos;
		while (off < piece) {
			ssize_t w = write(peer, data + pos + off, piece - off);

			if (w < 0 && errno == EAGAIN) {
				event_base_loop(h.base, EVLOOP_NONBLOCK);
				continue;
			}
			FUZZ_CHECK(w > 0, "write to hearthd: %s", strerror(errno));
			off += (size_t)w;
		}
		pos += piece;
		settle(peer);
	}
	shutdown(peer, SHUT_WR);
	for (int i = 0; i < LOOPS_MAX && !failed(); i++) {
		event_base_loop(h.base, EVLOOP_NONBLOCK);
		drain_peer(peer);
	}
	FUZZ_CHECK(failed(), "hearthd did not notice the end of the stream");
	/* The loop once more: nothing may come after the failure. */
	event_base_loop(h.base, EVLOOP_NONBLOCK);
	drain_peer(peer);
	if (!h.freed)
		shimconn_free(h.c);
	h.c = NULL;

	for (size_t i = 0; i < n_want || i < h.n_got; i++)
		FUZZ_CHECK(i < n_want && i < h.n_got && same_ev(&want[i], &h.got[i]),
			   "event %zu: got kind %d status %d, want kind %d status %d (%zu vs %zu "
			   "events)",
			   i, i < h.n_got ? h.got[i].kind : 0, i < h.n_got ? h.got[i].status : 0,
			   i < n_want ? want[i].kind : 0, i < n_want ? want[i].status : 0, h.n_got,
			   n_want);
	check_requests();
	close(peer);
	free(rf);
	free(want);
	free(h.got);
	h.got = NULL;
	return 0;
}
