/* frame.c — encode/parse of the hearthd <-> shim frames (frame.h).
 * Dependency-free on purpose: hearthd's pool links this same file. */
#include "frame.h"

#include <string.h>

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int frame_parse(const uint8_t *buf, size_t len, struct frame *f, size_t *frame_len)
{
	*frame_len = FRAME_HDR_LEN;
	/* Judge the magic as soon as its bytes are in, so garbage is refused
	 * without waiting for a full header that may never come. */
	if ((len >= 1 && buf[0] != FRAME_MAGIC0) || (len >= 2 && buf[1] != FRAME_MAGIC1))
		return FRAME_EMAGIC;
	if (len >= 3 && buf[2] != FRAME_VERSION)
		return FRAME_EVERSION;
	if (len < FRAME_HDR_LEN)
		return 0;
	uint32_t body = get_u32(buf + 4);
	if (body > FRAME_MAX_BODY)
		return FRAME_ETOOBIG;
	*frame_len = FRAME_HDR_LEN + (size_t)body;
	if (len < *frame_len)
		return 0;
	f->type = buf[3];
	f->body_len = body;
	f->body = buf + FRAME_HDR_LEN;
	return 1;
}

void frame_iter_init(struct frame_iter *it, const struct frame *f)
{
	it->p = f->body;
	it->end = f->body + f->body_len;
}

int frame_iter_next(struct frame_iter *it, struct frame_field *out)
{
	size_t left = (size_t)(it->end - it->p);
	if (left == 0)
		return 0;
	if (left < FRAME_FIELD_HDR_LEN)
		return FRAME_EFIELD;
	uint16_t tag = (uint16_t)(it->p[0] << 8 | it->p[1]);
	uint32_t flen = get_u32(it->p + 2);
	if (flen > left - FRAME_FIELD_HDR_LEN)
		return FRAME_EFIELD;
	out->tag = tag;
	out->len = flen;
	out->val = it->p + FRAME_FIELD_HDR_LEN;
	it->p += FRAME_FIELD_HDR_LEN + (size_t)flen;
	return 1;
}

int frame_validate(const struct frame *f)
{
	struct frame_iter it;
	struct frame_field fld;
	int r;
	frame_iter_init(&it, f);
	while ((r = frame_iter_next(&it, &fld)) == 1)
		;
	return r;
}

int frame_field_u64(const struct frame_field *fld, uint64_t *out)
{
	if (fld->len != 8)
		return FRAME_EFIELD;
	*out = (uint64_t)get_u32(fld->val) << 32 | get_u32(fld->val + 4);
	return 0;
}

static void frame_header_encode(uint8_t out[FRAME_HDR_LEN], uint8_t type, uint32_t body_len)
{
	out[0] = FRAME_MAGIC0;
	out[1] = FRAME_MAGIC1;
	out[2] = FRAME_VERSION;
	out[3] = type;
	put_u32(out + 4, body_len);
}

static void frame_field_header_encode(uint8_t out[FRAME_FIELD_HDR_LEN], uint16_t tag, uint32_t len)
{
	out[0] = (uint8_t)(tag >> 8);
	out[1] = (uint8_t)tag;
	put_u32(out + 2, len);
}

static void frame_u64_encode(uint8_t out[8], uint64_t v)
{
	put_u32(out, (uint32_t)(v >> 32));
	put_u32(out + 4, (uint32_t)v);
}

/* Room for n bytes at the end of the scratch, in the frame's iovec: the
 * last entry grows when it ends where these bytes begin. */
static uint8_t *writer_take(struct frame_writer *w, size_t n)
{
	if (w->err)
		return NULL;
	if (n > w->scratch_cap - w->scratch_used) {
		w->err = FRAME_ENOSPC;
		return NULL;
	}
	uint8_t *p = w->scratch + w->scratch_used;
	struct iovec *last = w->iov_n ? &w->iov[w->iov_n - 1] : NULL;
	if (last && (uint8_t *)last->iov_base + last->iov_len == p) {
		last->iov_len += n;
	} else if (w->iov_n < w->iov_cap) {
		w->iov[w->iov_n].iov_base = p;
		w->iov[w->iov_n].iov_len = n;
		w->iov_n++;
	} else {
		w->err = FRAME_ENOSPC;
		return NULL;
	}
	w->scratch_used += n;
	w->len += n;
	return p;
}

/* Counts n value bytes against the open field. */
static int writer_value(struct frame_writer *w, size_t n)
{
	if (w->err)
		return -1;
	if (n > w->field_left) {
		w->err = FRAME_EFIELD;
		return -1;
	}
	w->field_left -= n;
	return 0;
}

void frame_writer_init(struct frame_writer *w, uint8_t type, void *scratch, size_t scratch_len,
		       struct iovec *iov, size_t iov_len)
{
	*w = (struct frame_writer){
		.iov = iov, .iov_cap = iov_len, .scratch = scratch, .scratch_cap = scratch_len
	};
	uint8_t *h = writer_take(w, FRAME_HDR_LEN);
	if (h)
		frame_header_encode(h, type, 0);
}

void frame_write_field(struct frame_writer *w, uint16_t tag, size_t len)
{
	if (!w->err && w->field_left)
		w->err = FRAME_EFIELD; /* the last field was left short */
	if (!w->err && len > UINT32_MAX)
		w->err = FRAME_ETOOBIG;
	uint8_t *h = writer_take(w, FRAME_FIELD_HDR_LEN);
	if (!h)
		return;
	frame_field_header_encode(h, tag, (uint32_t)len);
	w->field_left = len;
}

void frame_write_copy(struct frame_writer *w, const void *p, size_t len)
{
	if (len == 0 || writer_value(w, len) < 0)
		return;
	uint8_t *dst = writer_take(w, len);
	if (dst)
		memcpy(dst, p, len);
}

void frame_write_piece(struct frame_writer *w, const void *p, size_t len)
{
	if (len <= FRAME_COPY_MAX && len <= w->scratch_cap - w->scratch_used) {
		frame_write_copy(w, p, len);
		return;
	}
	if (writer_value(w, len) < 0)
		return;
	if (w->iov_n == w->iov_cap) {
		w->err = FRAME_ENOSPC;
		return;
	}
	w->iov[w->iov_n].iov_base = (void *)p;
	w->iov[w->iov_n].iov_len = len;
	w->iov_n++;
	w->len += len;
}

void frame_write_bytes(struct frame_writer *w, uint16_t tag, const void *val, size_t len)
{
	frame_write_field(w, tag, len);
	frame_write_piece(w, val, len);
}

void frame_write_str(struct frame_writer *w, uint16_t tag, const char *s)
{
	size_t len = s ? strlen(s) : 0;
	frame_write_field(w, tag, len);
	frame_write_copy(w, s, len);
}

void frame_write_u64(struct frame_writer *w, uint16_t tag, uint64_t v)
{
	uint8_t be[8];
	frame_u64_encode(be, v);
	frame_write_field(w, tag, sizeof(be));
	frame_write_copy(w, be, sizeof(be));
}

int frame_writer_finish(struct frame_writer *w, size_t *len)
{
	if (!w->err && w->field_left)
		w->err = FRAME_EFIELD;
	if (!w->err && w->len - FRAME_HDR_LEN > FRAME_MAX_BODY)
		w->err = FRAME_ETOOBIG;
	if (w->err)
		return w->err;
	/* The header is the first bytes of the scratch and of the iovec. */
	put_u32(w->scratch + 4, (uint32_t)(w->len - FRAME_HDR_LEN));
	*len = w->len;
	return (int)w->iov_n;
}

const char *frame_strerror(int err)
{
	switch (err) {
	case FRAME_OK: return "ok";
	case FRAME_EMAGIC: return "bad frame magic";
	case FRAME_EVERSION: return "unsupported frame version";
	case FRAME_ETOOBIG: return "frame too large";
	case FRAME_EFIELD: return "malformed frame field";
	case FRAME_ENOSPC: return "frame writer out of room";
	}
	return "unknown frame error";
}
