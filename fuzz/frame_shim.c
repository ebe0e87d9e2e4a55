/* frame_shim.c — fuzz harness: the byte stream hearthd sends, read by the
 * shim as runtimes/shim/ reads it: this file includes shim.c itself, so
 * its connection loop (serve), its frame handlers (handle_init,
 * handle_invoke) and reply.c run unchanged, over a real socket pair.  Only
 * runtime.c, the language runtime, is played here, by a script the input
 * carries, so the runtime's answers (well-formed or not, in pieces,
 * timeouts, deaths) are fuzzed too.
 *
 * The input: a u16 (big-endian) n, then n bytes of the stream hearthd
 * sends, then the runtime's script: records of a kind byte, a u16 length
 * and that many bytes.  Kinds (mod 6): 0 a channel message (after its
 * nonce), 1 timeout, 2 the runtime died, 3 the channel broke, 4 SIGTERM
 * came, 5 output for the logs.  When the script runs out the runtime
 * answers READY to an init and the result null to an invoke.
 *
 * Beyond not crashing:
 *   - one answer per request, of the right kind: PONG to a ping, READY or
 *     INIT_ERROR to an init, REPLY to an invoke, PROTO_ERROR to a frame
 *     that is malformed or of an unknown type (and nothing after a broken
 *     header), nothing after SHUTDOWN; as a reading of the stream written
 *     here predicts;
 *   - every answer is a well-formed frame: a REPLY with a status of
 *     enum invocation_status, its duration and peak memory; a PROTO_ERROR
 *     with its type and message;
 *   - what the shim hands the runtime is well-formed: an init message
 *     whose strings tile it exactly (code dir and handler not empty, the
 *     numbers decimal), within CHAN_MSG_MAX; an invoke with a request id
 *     of at most 128 bytes, a payload within 6 MiB and a deadline of
 *     1 ms to 15 minutes;
 *   - the shim exits only when asked (SHUTDOWN, SIGTERM), never on
 *     its own (die). */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"

/* shim.c's exit() comes back here. */
static jmp_buf shim_exit_to;
static bool shim_exit_armed;
static int shim_exit_code;

__attribute__((noreturn)) static void shim_exit(int code)
{
	FUZZ_CHECK(shim_exit_armed, "the shim exited outside a run");
	shim_exit_code = code;
	longjmp(shim_exit_to, 1);
}

int shim_main(int argc, char **argv);
#define exit(code) shim_exit(code)
#define main shim_main
#include "shim.c"
#undef main
#undef exit

#define STREAM_MAX (64 * 1024)

/* ---- the runtime, played by the script ----------------------------------------- */

static struct fake_runtime {
	const uint8_t *script, *end;
	bool running, loaded, in_invoke, termed;
	char lang[8];
	uint8_t msg[CHAN_MSG_MAX];
	char logs[INVOKE_LOGS_MAX];
	size_t logs_len;
	uint64_t dropped;
} rt;

int runtime_setup(const char *python_bootstrap, const char *node_bootstrap, int sigfd)
{
	(void)python_bootstrap;
	(void)node_bootstrap;
	(void)sigfd;
	return 0;
}

bool runtime_spawn(const char *lang)
{
	FUZZ_CHECK(!strcmp(lang, "python") || !strcmp(lang, "node"), "spawn of '%s'", lang);
	FUZZ_CHECK(!rt.running, "a second runtime");
	rt.running = true;
	rt.loaded = false;
	snprintf(rt.lang, sizeof(rt.lang), "%s", lang);
	return true;
}

void runtime_kill(void)
{
	rt.running = false;
	rt.loaded = false;
}

void runtime_close(void)
{
	runtime_kill();
}

void runtime_terminate(int grace_ms)
{
	(void)grace_ms;
	runtime_kill();
}

bool runtime_running(void)
{
	return rt.running;
}

bool runtime_loaded(void)
{
	return rt.loaded;
}

void runtime_set_loaded(void)
{
	FUZZ_CHECK(rt.running, "loaded without a runtime");
	rt.loaded = true;
}

const char *runtime_lang(void)
{
	return rt.lang;
}

void runtime_death_reason(char *buf, size_t len)
{
	snprintf(buf, len, "Runtime exited with error: signal: killed");
}

/* The direct lane's descriptors: any will do for the shim, which only
 * passes them on with READY (the answers' reader drops them). */
void runtime_lane(int fds[4])
{
	static int devnull = -1;

	if (devnull < 0)
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	FUZZ_CHECK(devnull >= 0, "open /dev/null");
	for (int i = 0; i < 4; i++)
		fds[i] = devnull;
}

uint64_t runtime_maxrss_kb(void)
{
	return 4242;
}

/* The u32-prefixed strings from p to end tile it: how many, or -1. */
static int strings_tile(const uint8_t *p, const uint8_t *end, struct bytes *s, int max)
{
	int n = 0;

	while (p < end) {
		uint32_t l;

		if (end - p < 4)
			return -1;
		l = chan_get32(p);
		if (l > (size_t)(end - p) - 4)
			return -1;
		if (n < max)
			s[n] = (struct bytes){ (const char *)p + 4, l };
		n++;
		p += 4 + l;
	}
	return n;
}

bool runtime_send_init(uint8_t *msg, size_t len)
{
	struct bytes s[5];
	int n;

	FUZZ_CHECK(rt.running, "init sent to no runtime");
	FUZZ_CHECK(len >= 1 + CHAN_NONCE_LEN && len <= CHAN_MSG_MAX && msg[0] == CHAN_INIT,
		   "init message of %zu bytes, kind %d", len, len ? msg[0] : -1);
	memset(msg + 1, 'N', CHAN_NONCE_LEN);
	n = strings_tile(msg + 1 + CHAN_NONCE_LEN, msg + len, s, 5);
	FUZZ_CHECK(n >= 5, "init strings do not tile the message (%d)", n);
	FUZZ_CHECK(s[0].len > 0 && s[1].len > 0, "init without a code dir or handler");
	for (int i = 3; i < 5; i++)
		FUZZ_CHECK(s[i].len > 0 && s[i].len <= 20 &&
				   strspn(s[i].ptr, "0123456789") >= s[i].len,
			   "init number %d is not decimal", i);
	rt.in_invoke = false;
	return true;
}

void runtime_send_invoke(uint32_t deadline_ms, const uint8_t *rid, uint32_t rid_len,
			 const uint8_t *payload, uint32_t payload_len, int64_t deadline)
{
	(void)deadline;
	FUZZ_CHECK(rt.running && rt.loaded, "invoke sent to no loaded runtime");
	FUZZ_CHECK(rid_len <= INVOKE_REQUEST_ID_MAX && payload_len <= INVOKE_PAYLOAD_MAX,
		   "invoke of a %u-byte id, %u-byte payload", rid_len, payload_len);
	FUZZ_CHECK(deadline_ms >= 1 && deadline_ms <= FN_TIMEOUT_MAX * 1000u, "deadline %u ms",
		   deadline_ms);
	/* Touch every byte: a view past its frame shows in ASan. */
	(void)fuzz_hash(rid, rid_len);
	(void)fuzz_hash(payload, payload_len);
	rt.in_invoke = true;
}

/* A message the runtime sends: the nonce, then body. */
static enum runtime_outcome message(const uint8_t *body, size_t n, const uint8_t **msg, size_t *len)
{
	if (n > CHAN_MSG_MAX - CHAN_NONCE_LEN)
		n = CHAN_MSG_MAX - CHAN_NONCE_LEN;
	memset(rt.msg, 'N', CHAN_NONCE_LEN);
	memcpy(rt.msg + CHAN_NONCE_LEN, body, n);
	*msg = rt.msg;
	*len = CHAN_NONCE_LEN + n;
	return RUNTIME_MSG;
}

enum runtime_outcome runtime_wait(int64_t deadline, const uint8_t **msg, size_t *len)
{
	(void)deadline;
	FUZZ_CHECK(rt.running, "a wait on no runtime");
	while (rt.end - rt.script >= 3) {
		uint8_t kind = rt.script[0] % 6;
		size_t n = fuzz_get16(rt.script + 1);
		const uint8_t *body = rt.script + 3;

		if (n > (size_t)(rt.end - body))
			n = (size_t)(rt.end - body);
		rt.script = body + n;
		switch (kind) {
		case 0:
			/* runtime.c hands over only messages with the nonce and
			 * a kind byte */
			if (n == 0)
				return message((const uint8_t *)"?", 1, msg, len);
			return message(body, n, msg, len);
		case 1: return RUNTIME_TIMEOUT;
		case 2: rt.running = false; return RUNTIME_DIED;
		case 3: return RUNTIME_BROKEN;
		case 4: rt.termed = true; return RUNTIME_TERM;
		default:
			for (size_t i = 0; i < n; i++) {
				if (rt.logs_len < sizeof(rt.logs))
					rt.logs[rt.logs_len++] = (char)body[i];
				else
					rt.dropped++;
			}
		}
	}
	if (rt.in_invoke)
		return message((const uint8_t *)"S\0\0\0\x10\0\0\0\x04null", 13, msg, len);
	return message((const uint8_t *)"R\0\0\0\x10", 5, msg, len);
}

int runtime_idle(int fd, bool *term)
{
	(void)fd;
	*term = false;
	return POLLIN;
}

struct runtime_logs runtime_logs(void)
{
	return (struct runtime_logs){ rt.logs, rt.logs_len, rt.dropped };
}

void runtime_logs_reset(void)
{
	rt.logs_len = 0;
	rt.dropped = 0;
}

/* ---- what the shim is expected to answer ---------------------------------------- */

/* 'I' stands for READY or INIT_ERROR. */
static size_t model(const uint8_t *s, size_t len, uint8_t *want)
{
	size_t pos = 0, n = 0;

	for (;;) {
		struct frame f;
		size_t need;
		int r = frame_parse(s + pos, len - pos, &f, &need);

		if (r < 0) {
			want[n++] = FRAME_PROTO_ERROR;
			break;
		}
		if (r == 0)
			break;
		if (frame_validate(&f) < 0)
			want[n++] = FRAME_PROTO_ERROR;
		else if (f.type == FRAME_PING)
			want[n++] = FRAME_PONG;
		else if (f.type == FRAME_INIT)
			want[n++] = 'I';
		else if (f.type == FRAME_INVOKE)
			want[n++] = FRAME_REPLY;
		else if (f.type == FRAME_KILL)
			want[n++] = FRAME_DIED;
		else if (f.type == FRAME_SHUTDOWN)
			break;
		else
			want[n++] = FRAME_PROTO_ERROR;
		pos += need;
	}
	return n;
}

/* One answer: a whole frame whose fields tile it, with what its kind
 * carries. */
static void check_answer(const struct frame *f)
{
	struct frame_iter it;
	struct frame_field fld;
	bool status = false, duration = false, rss = false, etype = false, emsg = false;
	uint64_t v;
	int k;

	FUZZ_CHECK(frame_validate(f) == 0, "the shim answered with malformed fields");
	frame_iter_init(&it, f);
	while ((k = frame_iter_next(&it, &fld)) == 1) {
		switch (fld.tag) {
		case FT_STATUS:
			FUZZ_CHECK(frame_field_u64(&fld, &v) == 0 && v <= INVOCATION_CRASHED,
				   "status field");
			status = true;
			break;
		case FT_DURATION_US: duration = frame_field_u64(&fld, &v) == 0; break;
		case FT_MAX_RSS_KB: rss = frame_field_u64(&fld, &v) == 0; break;
		case FT_ERROR_TYPE: etype = fld.len > 0; break;
		case FT_ERROR_MESSAGE: emsg = true; break;
		case FT_INIT_US: FUZZ_CHECK(frame_field_u64(&fld, &v) == 0, "init_us field"); break;
		}
	}
	if (f->type == FRAME_REPLY)
		FUZZ_CHECK(status && duration && rss, "a reply without status, duration or rss");
	if (f->type == FRAME_DIED)
		FUZZ_CHECK(etype && emsg && rss, "DIED without its type, message or rss");
	/* The shim's own refusals say what and why; a runtime's error goes
	 * out with the strings the runtime gave, however many. */
	if (f->type == FRAME_PROTO_ERROR)
		FUZZ_CHECK(etype && emsg, "a refusal without its type or message");
}

/* ---- the harness ------------------------------------------------------------------- */

struct answers {
	int fd;
	uint8_t *buf;
	size_t len, cap;
};

/* The hearthd end: reads every answer until the shim's end closes. */
static void *read_answers(void *arg)
{
	struct answers *a = arg;

	for (;;) {
		ssize_t r;

		if (a->cap - a->len < 65536) {
			a->cap = a->cap ? a->cap * 2 : 262144;
			a->buf = realloc(a->buf, a->cap);
			FUZZ_CHECK(a->buf != NULL, "out of memory");
		}
		r = read(a->fd, a->buf + a->len, a->cap - a->len);
		if (r <= 0)
			break;
		a->len += (size_t)r;
	}
	return NULL;
}

/* serve() on fd as main() runs it, until the stream ends or the shim
 * exits (and comes back through shim_exit). */
static void run_shim(int fd)
{
	conn = fd;
	shim_exit_armed = true;
	shim_exit_code = -1;
	if (setjmp(shim_exit_to) == 0) {
		serve();
		close(conn);
	} else {
		FUZZ_CHECK(shim_exit_code == 0, "the shim died (exit %d)", shim_exit_code);
		/* shutdown_and_exit closed the connection already */
	}
	shim_exit_armed = false;
	conn = -1;
}

/* Back to a shim that has served nobody yet. */
static void reset_shim(const uint8_t *script, size_t script_len)
{
	free(init_msg);
	init_msg = NULL;
	init_msg_len = 0;
	init_budget_ms = 0;
	init_lang[0] = init_failure[0] = '\0';
	memset(&rt, 0, offsetof(struct fake_runtime, msg));
	rt.logs_len = 0;
	rt.dropped = 0;
	rt.script = script;
	rt.end = script + script_len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t slen = size >= 2 ? fuzz_get16(data) : 0, n_want, n_got = 0, pos = 0;
	const uint8_t *stream = data + (size >= 2 ? 2 : size);
	struct answers a = { .fd = -1 };
	uint8_t *want, *got;
	pthread_t reader;
	int sv[2];

	if (slen > size - (size_t)(stream - data))
		slen = size - (size_t)(stream - data);
	if (slen > STREAM_MAX)
		return 0;
	reset_shim(stream + slen, size - (size_t)(stream - data) - slen);
	want = malloc(slen / 8 + 2);
	got = malloc(slen / 8 + 2);
	FUZZ_CHECK(want && got, "out of memory");
	n_want = model(stream, slen, want);

	/* The stream is in the socket before the shim runs; the answers are
	 * read as they come, so a long run of them never blocks the shim. */
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair: %s",
		   strerror(errno));
	for (size_t off = 0; off < slen;) {
		ssize_t w = write(sv[1], stream + off, slen - off);

		FUZZ_CHECK(w > 0, "writing the stream: %s", strerror(errno));
		off += (size_t)w;
	}
	shutdown(sv[1], SHUT_WR);
	a.fd = sv[1];
	FUZZ_CHECK(pthread_create(&reader, NULL, read_answers, &a) == 0, "pthread_create");

	run_shim(sv[0]);
	pthread_join(reader, NULL);
	close(sv[1]);

	while (pos < a.len) {
		struct frame f;
		size_t need;
		int r = frame_parse(a.buf + pos, a.len - pos, &f, &need);

		FUZZ_CHECK(r == 1, "the shim sent a broken or partial frame (%d)", r);
		check_answer(&f);
		FUZZ_CHECK(n_got < n_want, "more answers than requests (%zu)", n_got + 1);
		got[n_got++] = f.type == FRAME_READY || f.type == FRAME_INIT_ERROR ? 'I' : f.type;
		pos += need;
	}
	/* SIGTERM ends the shim wherever it is: the answers until then. */
	FUZZ_CHECK(n_got == n_want || (rt.termed && n_got < n_want), "%zu answers to %zu requests",
		   n_got, n_want);
	for (size_t i = 0; i < n_got; i++)
		FUZZ_CHECK(got[i] == want[i], "answer %zu is %d, want %d", i, got[i], want[i]);
	runtime_kill();
	free(a.buf);
	free(want);
	free(got);
	return 0;
}
