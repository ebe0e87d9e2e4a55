/* frame.h — the hearthd <-> shim frame protocol (runtimes/PROTOCOL.md):
 * pure encode/parse functions over caller-owned buffers.  No I/O, no
 * libevent, only libc, so hearthd's pool and the shim compile this very
 * file and cannot drift apart: frame_parse and its iterator read frames,
 * the frame writer lays them out, for everyone who sends one.
 *
 * A frame is an 8-byte header (magic "HF", version, type, u32 big-endian
 * body length) followed by a body made of fields: u16 tag, u32 length,
 * bytes.  Integers inside fields are u64 big-endian.  Unknown tags are
 * skipped, so either side may add fields without a version bump. */
#ifndef HEARTH_FRAME_H
#define HEARTH_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "invocation.h"
#include "bounds.h"

#define FRAME_MAGIC0 0x48 /* 'H' */
#define FRAME_MAGIC1 0x46 /* 'F' */
#define FRAME_VERSION 1
#define FRAME_HDR_LEN 8
#define FRAME_FIELD_HDR_LEN 6
/* A payload or a result may be INVOKE_PAYLOAD_MAX (bounds.h); the rest of
 * a frame (ids, error text, INVOKE_LOGS_MAX of logs) fits in the margin. */
#define FRAME_MAX_BODY (INVOKE_PAYLOAD_MAX + 512u * 1024)

enum frame_type {
	FRAME_INIT = 1,	       /* hearthd -> shim */
	FRAME_READY = 2,       /* shim -> hearthd */
	FRAME_INIT_ERROR = 3,  /* shim -> hearthd */
	FRAME_INVOKE = 4,      /* hearthd -> shim */
	FRAME_REPLY = 5,       /* shim -> hearthd */
	FRAME_PING = 6,	       /* hearthd -> shim */
	FRAME_PONG = 7,	       /* shim -> hearthd */
	FRAME_SHUTDOWN = 8,    /* hearthd -> shim */
	FRAME_PROTO_ERROR = 9, /* shim -> hearthd: the last frame was refused */
	FRAME_KILL = 10,       /* hearthd -> shim: end the runtime (direct lane) */
	FRAME_DIED = 11,       /* shim -> hearthd: the runtime is gone, and why */
};

enum frame_tag {
	/* init */
	FT_CODE_DIR = 1,      /* bytes: path as the shim sees it */
	FT_HANDLER = 2,	      /* bytes: "main.handler" */
	FT_LANGUAGE = 3,      /* bytes: "python" | "node" */
	FT_ENV = 4,	      /* bytes: "KEY=VALUE"; repeated */
	FT_FUNCTION_NAME = 5, /* bytes */
	FT_MEMORY_MB = 6,     /* u64 */
	FT_TIMEOUT_MS = 7,    /* u64: the function's timeout, also the init budget */
	FT_LANE = 8,	      /* u64: 1 asks for the direct lane (READY passes its fds) */
	/* invoke */
	FT_REQUEST_ID = 16,  /* bytes, at most 128 */
	FT_DEADLINE_MS = 17, /* u64: milliseconds the handler may run from receipt */
	FT_PAYLOAD = 18,     /* bytes: the event, passed through untouched */
	/* reply, ready, init_error, proto_error */
	FT_STATUS = 32,	       /* u64: enum invocation_status (invocation.h) */
	FT_RESULT = 33,	       /* bytes: JSON text */
	FT_ERROR_TYPE = 34,    /* bytes */
	FT_ERROR_MESSAGE = 35, /* bytes */
	FT_ERROR_STACK = 36,   /* bytes: JSON array of strings */
	FT_LOGS = 37,	       /* bytes: stdout+stderr, capped, maybe truncated */
	FT_DURATION_US = 38,   /* u64 */
	FT_MAX_RSS_KB = 39,    /* u64 */
	FT_INIT_US = 40,       /* u64: in ready/init_error */
};

enum frame_err {
	FRAME_OK = 0,
	FRAME_EMAGIC = -1,   /* not a Hearth frame: the stream is lost */
	FRAME_EVERSION = -2, /* unknown protocol version: stream lost */
	FRAME_ETOOBIG = -3,  /* body over FRAME_MAX_BODY: stream lost */
	FRAME_EFIELD = -4,   /* fields do not tile the body: frame refused */
	FRAME_ENOSPC = -5,   /* a writer ran out of scratch or iovec room */
};

/* A parsed frame: a view into the caller's buffer. */
struct frame {
	uint8_t type;
	uint32_t body_len;
	const uint8_t *body;
};

struct frame_field {
	uint16_t tag;
	uint32_t len;
	const uint8_t *val;
};

struct frame_iter {
	const uint8_t *p, *end;
};

/* Incremental parse of the bytes received so far.  Returns 1 and fills
 * *f and *frame_len (header + body) when buf holds a whole frame; 0 when
 * more bytes are needed (*frame_len then says how many the whole frame
 * will need once the header is in, else FRAME_HDR_LEN); a negative
 * enum frame_err when the stream cannot be trusted any more.  It looks
 * at the header only, so calling it again as bytes arrive is cheap. */
int frame_parse(const uint8_t *buf, size_t len, struct frame *f, size_t *frame_len);

/* Checks that the fields tile the body exactly (FRAME_EFIELD if not). */
int frame_validate(const struct frame *f);

void frame_iter_init(struct frame_iter *it, const struct frame *f);
/* 1 with *out filled, 0 at the end, FRAME_EFIELD on a truncated field. */
int frame_iter_next(struct frame_iter *it, struct frame_field *out);
/* FRAME_EFIELD unless the field is exactly 8 bytes. */
int frame_field_u64(const struct frame_field *fld, uint64_t *out);

/* ---- the frame writer -------------------------------------------------
 *
 * Lays a frame out as an iovec, for writev or an evbuffer.  The frame
 * header, field headers, integers and copied values go into a scratch
 * buffer the caller provides; larger values are referenced where they lie,
 * so a payload or a result is never copied on its way out.  Consecutive
 * scratch pieces share one iovec entry, so a frame of small fields is one
 * flat piece.  Errors are sticky: after the first, calls do nothing, and
 * frame_writer_finish reports it, so callers check once.
 *
 * Whatever is referenced must stay put until the iovec has been written.
 * The writer's layout is visible so that it can live on the stack; its
 * fields are the functions' business. */

/* frame_write_piece copies values up to this size instead of referencing
 * them: gathering a tiny piece costs more than copying it. */
#define FRAME_COPY_MAX 256

struct frame_writer {
	struct iovec *iov; /* the caller's */
	size_t iov_cap, iov_n;
	uint8_t *scratch; /* the caller's */
	size_t scratch_cap, scratch_used;
	size_t len;	   /* of the whole frame so far */
	size_t field_left; /* value bytes the open field still expects */
	int err;	   /* the first error (enum frame_err), sticky */
};

void frame_writer_init(struct frame_writer *w, uint8_t type, void *scratch, size_t scratch_len,
		       struct iovec *iov, size_t iov_len);
/* A field's header: its value follows as pieces adding up to len. */
void frame_write_field(struct frame_writer *w, uint16_t tag, size_t len);
/* Value bytes: copied when at most FRAME_COPY_MAX and the scratch has
 * room, else referenced. */
void frame_write_piece(struct frame_writer *w, const void *p, size_t len);
/* Value bytes, always copied: for bytes about to be reused. */
void frame_write_copy(struct frame_writer *w, const void *p, size_t len);
/* Whole fields.  A C string is copied (NULL is ""): strings are names and
 * messages, short and often in a buffer about to be reused. */
void frame_write_bytes(struct frame_writer *w, uint16_t tag, const void *val, size_t len);
void frame_write_str(struct frame_writer *w, uint16_t tag, const char *s);
void frame_write_u64(struct frame_writer *w, uint16_t tag, uint64_t v);
/* Ends the frame (its body length goes into the header).  Returns how many
 * entries of the caller's iovec the frame takes, *len bytes in all; or the
 * first error: FRAME_ENOSPC, FRAME_ETOOBIG (the body over FRAME_MAX_BODY),
 * FRAME_EFIELD (a field's pieces did not add up to its length). */
int frame_writer_finish(struct frame_writer *w, size_t *len);

const char *frame_strerror(int err);

#endif
