/* records.c — see records.h.
 *
 * The batches are written by a thread of their own, on a SQLite connection
 * of its own: a transaction of a few hundred rows takes milliseconds, a WAL
 * checkpoint (fdatasync) tens of them on a busy disk, and neither may stall
 * the event loop that answers calls.
 *
 * Memory is bounded whatever the store does: the records waiting for the
 * writer are capped in number and in bytes (a record keeps up to 64 KB
 * each of logs, result and event), and when the store cannot take a batch
 * (the disk is full, say) the batch is dropped, counted and logged (once
 * when it starts, then every RECORDS_LOG_EVERY_S), never kept to retry.
 *
 * The loop's share is one allocation and a few copies per call
 * (records_entry_new), and a pointer pushed on a lock-free stack; the
 * writer thread formats the record (Lambda's log lines, the error's JSON)
 * before it writes the batch.
 *
 * The writer runs at SCHED_IDLE while it formats and writes a quiet
 * flush: on a 2-CPU machine its millisecond-long slices (a batch's
 * INSERT and commit, the index) otherwise sit on the CPU where the
 * warm call's next process wakes, and they were the c=1 tail (bench/
 * RESULTS.md).  Within hearthd's cgroup (the loop, and a load generator
 * beside it) a woken thread now takes the CPU from the writer at once;
 * a runtime in its container's cgroup does not (the kernel weighs the
 * groups, not the writer), so the writer's slices still cost that
 * wake-up some of the time.  At idle priority it could be left off the
 * CPU for long while holding something the loop waits for, so it holds
 * none there that a call takes: the hand-over takes no lock, a reader
 * (the control plane) and the loop's connection waiting on SQLite's
 * write lock raise the writer to SCHED_OTHER first (records_boost), and
 * a long queue (a writer behind) is written at SCHED_OTHER.  Where the
 * writer could not come back from SCHED_IDLE (an unprivileged hearthd:
 * RLIMIT_NICE) it never goes there. */
#include "records.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <lz4.h>

#include "envelope.h"
#include "idlegroup.h"
#include "jsontext.h"
#include "log.h"
#include "promtext.h"
#include "strmap.h"
#include "util.h"

#define RECORDS_FLUSH_MS 100
/* A record's head in its batch, and the longest id it holds (with NUL). */
#define RECORDS_HEAD 160
#define RECORDS_ID_MAX 40
/* The writer lets the CPU go after this many records formatted. */
#define RECORDS_YIELD_EVERY 16
/* Beyond either (a writer far behind) a call's record is not kept. */
#define RECORDS_MAX_PENDING 20000
#define RECORDS_MAX_PENDING_BYTES (32u << 20)
#define RECORDS_LOG_EVERY_S 10 /* while batches fail, a line this often */
/* A flush of this many records or more is written at SCHED_OTHER. */
#define RECORDS_QUIET_MAX 2048

/* ---- the index: where each kept record is ----
 *
 * In memory, rebuilt from the batches' heads at start: a ring of entries
 * in the order the records were written (a sequence number each), a hash
 * table from id to sequence number (open addressing, linear probing,
 * deletion by backward shift), and per function its records' sequence
 * numbers sorted by (created_at, id), the order lists are paged in.
 * Retention drops the oldest entries; a batch whose records are all
 * dropped is deleted with the next batch written.  About 130 bytes a
 * record in all (13 MB at the default retention of 100,000, rebuilt in
 * 0.1-0.3 s at start: bench figures in bench/RESULTS.md). */
struct records_ent {
	int64_t batch; /* its batch's row id */
	int64_t function_id;
	int64_t created_at;
	uint32_t slot; /* its head's index in the batch */
	uint32_t hash;
	char id[RECORDS_ID_MAX];
};

struct records_fn {
	int64_t function_id;
	uint64_t *seqs; /* sorted by (created_at, id); those < head are dropped */
	size_t len, alloc, dead;
};

struct records_index {
	struct records_ent *ring; /* cap entries */
	size_t cap, ring_max;	  /* ring_max: retention + 1, the most needed */
	uint64_t head, tail;	  /* kept: the sequence numbers in [head, tail) */
	uint64_t *slots;	  /* a sequence number + 1; 0 free */
	size_t nslots;		  /* a power of 2, at least twice the entries */
	struct records_fn *fns;	  /* by function_id */
	size_t nfns, afns;
	int64_t last_batch;   /* the newest batch's row id */
	int64_t dropped_thru; /* batches up to it hold no kept record */
};

struct records {
	struct store *wstore; /* the writer thread's connection */
	pthread_t thread;
	bool off;     /* retention 0: no records, no writer thread */
	bool idle_ok; /* the writer can go to SCHED_IDLE and come back */
	/* A cpu cgroup of the writer's own, idle when it is (idlegroup.h);
	 * NULL where none can be made: SCHED_IDLE alone then. */
	struct idlegroup *group;
	int64_t retention;
	/* the hand-over, no lock taken: */
	_Atomic(struct records_entry *) top; /* pushed, newest first */
	atomic_size_t n, bytes;		     /* what the stack holds */
	atomic_uint_least64_t queued;	     /* records pushed */
	atomic_uint_least64_t dropped;	     /* not written: store failing, writer behind */
	atomic_bool flush_now, stop;
	atomic_bool busy;    /* the loop's connection waited on the write lock */
	atomic_int readers;  /* readers waiting or reading: the writer at SCHED_OTHER */
	sem_t wake;	     /* posted: a first record pushed, a flush asked, stop */
	pthread_mutex_t mu;  /* never taken by the writer at SCHED_IDLE */
	pthread_cond_t done; /* under mu: written moved */
	uint64_t written;    /* under mu: records taken and written, or dropped */
	/* the writer thread's: */
	struct buf heads, bodies; /* the batch being written */
	LZ4_stream_t *lz4;	  /* packing the records' tails (NULL: none packed) */
	int64_t dropped_done;	  /* batches deleted up to this row id */
	/* readers' and the writer's, under imu (never taken with mu held): */
	pthread_mutex_t imu;
	struct records_index ix;
};

/* A call's ending as the pool told it, its bytes copied behind it: all the
 * record needs, nothing formatted yet. */
struct records_entry {
	struct records_entry *next; /* on the hand-over stack */
	struct pool_result res;	    /* its strings and bytes point into data */
	int64_t created_ms, ended_ms;
	const char *payload; /* NUL-terminated, or NULL (over the record's cap) */
	size_t size;	     /* the allocation */
	char data[];
};

static char *put(char **at, const char *src, size_t len)
{
	char *p = *at;

	if (len)
		memcpy(p, src, len);
	p[len] = '\0';
	*at += len + 1;
	return p;
}

static struct bytes put_bytes(char **at, struct bytes b)
{
	return (struct bytes){ b.len ? put(at, b.ptr, b.len) : NULL, b.len };
}

/* An error's part kept in a record: the writer keeps the error's JSON up
 * to 1 MiB, so more would be held only to be dropped. */
#define RECORDS_ERROR_PART_MAX (256u * HEARTH_KiB)

static struct bytes capped(struct bytes b)
{
	return (struct bytes){ b.ptr,
			       b.len > RECORDS_ERROR_PART_MAX ? RECORDS_ERROR_PART_MAX : b.len };
}

struct records_entry *records_entry_new(const struct pool_result *res, int64_t created_ms,
					const char *payload, size_t payload_len)
{
	bool ok = res->status == INVOCATION_SUCCESS;
	size_t logs = res->logs.len > INVOKE_LOGS_MAX ? INVOKE_LOGS_MAX : res->logs.len;
	size_t result = ok && res->result.len <= INVOKE_RECORD_BODY_MAX ? res->result.len : 0;
	bool keep_payload = payload && payload_len <= INVOKE_RECORD_BODY_MAX;
	size_t size = sizeof(struct records_entry) + strlen(res->request_id) + 1 + logs + 1 +
		      (result ? result + 1 : 0) + (keep_payload ? payload_len + 1 : 0);
	struct records_entry *e;
	char *at;

	if (!ok)
		size += capped(res->error_type).len + capped(res->error_message).len +
			capped(res->error_stack).len + 3;
	e = malloc(size);
	if (!e)
		return NULL;
	at = e->data;
	e->size = size;
	e->created_ms = created_ms;
	e->ended_ms = util_now_ms();
	e->res = *res;
	e->res.request_id = put(&at, res->request_id, strlen(res->request_id));
	e->res.logs = put_bytes(&at, (struct bytes){ res->logs.ptr, logs });
	e->res.result = result ? put_bytes(&at, res->result) : (struct bytes){ NULL, 0 };
	if (ok) {
		e->res.error_type = e->res.error_message = e->res.error_stack = (struct bytes){
			NULL, 0
		};
	} else {
		e->res.error_type = put_bytes(&at, capped(res->error_type));
		e->res.error_message = put_bytes(&at, capped(res->error_message));
		e->res.error_stack = put_bytes(&at, capped(res->error_stack));
	}
	e->payload = keep_payload ? put(&at, payload, payload_len) : NULL;
	return e;
}

/* The row of an entry, formatted (on the writer thread); *owned gets what
 * was allocated for it. */
static void entry_row(const struct records_entry *e, struct store_invocation *v, char *owned[2])
{
	const struct pool_result *res = &e->res;
	struct buf ej = BUF_INIT(1u << 20);

	memset(v, 0, sizeof(*v));
	v->id = (char *)res->request_id;
	v->function_id = res->function_id;
	v->revision = res->revision;
	v->status = (char *)invocation_status_name(res->status);
	v->start_kind = (char *)pool_start_name(res->start);
	v->created_at = e->created_ms;
	v->duration_ms = res->duration_ms;
	v->init_ms = res->init_ms;
	v->queue_ms = res->queue_ms;
	v->max_memory_mb = (int64_t)(res->max_memory_mb + 0.5);
	owned[0] = owned[1] = NULL;
	if (res->status != INVOCATION_SUCCESS && envelope_write_error(&ej, res, NULL) == 0)
		v->error_json = owned[0] = buf_detach(&ej, NULL);
	buf_release(&ej);
	/* A crash's REPORT line names its error type, read back from the
	 * error: without the error stored (out of memory), the lines now. */
	if (res->memory_mb > 0 && (res->status != INVOCATION_CRASHED || v->error_json)) {
		/* What the function printed, as it is: Lambda's lines around
		 * it are made when the record is read (records_logs). */
		v->memory_mb = res->memory_mb;
		v->timeout_s = res->timeout_s;
		v->ended_at = e->ended_ms;
		v->logs = (char *)res->logs.ptr;
	} else {
		struct buf logs = BUF_INIT(ENVELOPE_LAMBDA_LOGS_MAX);

		/* Nothing to make them from later: the lines now (out of
		 * memory, the record keeps what was written). */
		(void)envelope_write_lambda_logs(&logs, res, INVOKE_LOGS_MAX, e->ended_ms, NULL);
		v->logs = owned[1] = buf_detach(&logs, NULL);
	}
	v->result = (char *)res->result.ptr;
	v->payload = (char *)e->payload;
}

char *records_logs(const struct store_invocation *r)
{
	struct pool_result res = { 0 };
	struct buf b = BUF_INIT(ENVELOPE_LAMBDA_LOGS_MAX);
	json_object *ej = NULL, *type;
	char *out;

	if (r->memory_mb <= 0)
		return strdup(r->logs ? r->logs : "");
	res.request_id = r->id ? r->id : "";
	res.logs = r->logs ? bytes_of_str(r->logs) : (struct bytes){ NULL, 0 };
	res.status = INVOCATION_CRASHED;
	for (int i = 0; i < INVOCATION_STATUS_N; i++)
		if (r->status && strcmp(r->status, invocation_status_name(i)) == 0)
			res.status = i;
	res.start = r->start_kind && strcmp(r->start_kind, pool_start_name(POOL_START_WARM)) == 0
			    ? POOL_START_WARM
			    : POOL_START_COLD;
	res.duration_ms = r->duration_ms;
	res.init_ms = r->init_ms;
	res.max_memory_mb = (double)r->max_memory_mb;
	res.memory_mb = (int)r->memory_mb;
	res.timeout_s = (int)r->timeout_s;
	if (res.status == INVOCATION_CRASHED && r->error_json &&
	    (ej = jsontext_tree(r->error_json)) != NULL &&
	    json_object_object_get_ex(ej, "type", &type) &&
	    json_object_is_type(type, json_type_string))
		res.error_type = (struct bytes){ json_object_get_string(type),
						 (size_t)json_object_get_string_len(type) };
	/* Past the buffer's bound (a crash's long error type), what was
	 * written, as the writer kept before schema 6; NULL only when
	 * nothing could be. */
	(void)envelope_write_lambda_logs(&b, &res, INVOKE_LOGS_MAX, r->ended_at, NULL);
	out = b.len > 0 ? buf_detach(&b, NULL) : NULL;
	buf_release(&b);
	json_object_put(ej);
	return out;
}

/* ---- a record's layout in its batch ----
 *
 * A batch row (store_batch_write) holds n heads of RECORDS_HEAD bytes,
 * one per record, and the records' bodies one after another.  A head
 * holds the record's fixed fields, little-endian, and where its body is:
 *
 *   0    id, NUL-padded (RECORDS_ID_MAX)
 *   40   function_id  48 revision  56 created_at  64 ended_at
 *   72   memory_mb    80 timeout_s 88 max_memory_mb          (int64)
 *   96   duration_ms  104 init_ms  112 queue_ms              (double)
 *   120  the body's offset in the batch's bodies               (uint64)
 *   128  the lengths of error_json, logs, result, payload     (uint32;
 *        HEAD_NULL for NULL), which the body holds in that order
 *   144  status, start_kind: their index in invocation_status_name and
 *        pool_start_name (HEAD_NONE for NULL)
 *   146  how the body is kept: 0 as it is; HEAD_PACK_LZ4 error_json as it
 *        is, then logs, result and payload LZ4-packed (lz4.h) in
 *   148  this many bytes (uint32): the three blocks' lengths (uint32
 *        each), then the blocks, one stream (each packed against the
 *        parts before it, read where they lie: no copy to gather them)
 *   152  zeroes to RECORDS_HEAD
 *
 * A record whose logs, result and payload come to RECORDS_PACK_MIN bytes
 * or more keeps them compressed when that saves an eighth: a 64 KB event
 * and its echo are ~128 KB for the writer to put through SQLite (the WAL,
 * then the checkpoint), and a list of JSON objects packs 4x at about
 * 1.8 GB/s on this machine (bench/RESULTS.md).  error_json, the one part
 * a listing reads, stays as it is in front. */
enum {
	H_ID = 0,
	H_FN = 40,
	H_REV = 48,
	H_CREATED = 56,
	H_ENDED = 64,
	H_MEM = 72,
	H_TIMEOUT = 80,
	H_MAXMEM = 88,
	H_DUR = 96,
	H_INIT = 104,
	H_QUEUE = 112,
	H_BODY = 120,
	H_LENS = 128,
	H_STATUS = 144,
	H_START = 145,
	H_PACK = 146,
	H_PACKED = 148,
};
#define HEAD_PACK_LZ4 1
#define RECORDS_PACK_MIN 4096
#define HEAD_NULL UINT32_MAX
#define HEAD_NONE 0xff
#define BODY_PARTS 4 /* error_json, logs, result, payload */

static void put64(unsigned char *at, uint64_t v)
{
	v = htole64(v);
	memcpy(at, &v, 8);
}

static uint64_t get64(const unsigned char *at)
{
	uint64_t v;

	memcpy(&v, at, 8);
	return le64toh(v);
}

static void put32(unsigned char *at, uint32_t v)
{
	v = htole32(v);
	memcpy(at, &v, 4);
}

static uint32_t get32(const unsigned char *at)
{
	uint32_t v;

	memcpy(&v, at, 4);
	return le32toh(v);
}

static void put_double(unsigned char *at, double d)
{
	uint64_t v;

	memcpy(&v, &d, 8);
	put64(at, v);
}

static double get_double(const unsigned char *at)
{
	uint64_t v = get64(at);
	double d;

	memcpy(&d, &v, 8);
	return d;
}

static unsigned char name_code(const char *name, const char *(*name_of)(int), int n)
{
	if (name)
		for (int i = 0; i < n; i++)
			if (strcmp(name, name_of(i)) == 0)
				return (unsigned char)i;
	return HEAD_NONE;
}

static const char *status_name_of(int i)
{
	return invocation_status_name((enum invocation_status)i);
}

static const char *start_name_of(int i)
{
	return pool_start_name((enum pool_start)i);
}

#define PACK_LENS (4 * (BODY_PARTS - 1)) /* the blocks' lengths, in front */

/* Appends parts 1.. (tail bytes in all) to bodies LZ4-packed, as the
 * head's layout says, and returns how many bytes that took; 0 (nothing
 * appended) when it would not save an eighth, or without lz4 or memory:
 * the caller keeps them as they are.  The parts must stay where they are
 * until this returns (the stream refers back to them). */
static size_t pack_tail(LZ4_stream_t *lz4, const char *const part[BODY_PARTS],
			const size_t len[BODY_PARTS], size_t tail, struct buf *bodies)
{
	size_t room = PACK_LENS, at = bodies->len, used = PACK_LENS;

	if (!lz4 || tail < RECORDS_PACK_MIN || tail > (size_t)LZ4_MAX_INPUT_SIZE)
		return 0;
	for (int i = 1; i < BODY_PARTS; i++)
		room += (size_t)LZ4_compressBound((int)len[i]);
	if (buf_reserve(bodies, room, NULL) < 0)
		return 0;
	LZ4_resetStream_fast(lz4);
	for (int i = 1; i < BODY_PARTS; i++) {
		unsigned char *lens = (unsigned char *)bodies->ptr + at;
		int n = 0;

		if (len[i]) {
			n = LZ4_compress_fast_continue(lz4, part[i], bodies->ptr + at + used,
						       (int)len[i], (int)(room - used), 1);
			if (n <= 0)
				return 0;
		}
		put32(lens + 4 * (i - 1), (uint32_t)n);
		used += (size_t)n;
	}
	if (used > tail - tail / 8)
		return 0;
	bodies->len += used;
	bodies->ptr[bodies->len] = '\0'; /* buf's NUL after its bytes */
	return used;
}

/* Appends v's head to heads and its body to bodies (the tail packed
 * with lz4 where it pays); -EINVAL for an id that does not fit, -E2BIG
 * past a buffer's bound (neither changed). */
static int record_encode(const struct store_invocation *v, struct buf *heads, struct buf *bodies,
			 LZ4_stream_t *lz4, struct hearth_error **err)
{
	const char *part[BODY_PARTS] = { v->error_json, v->logs, v->result, v->payload };
	unsigned char h[RECORDS_HEAD] = { 0 };
	size_t len[BODY_PARTS], idlen = v->id ? strlen(v->id) : 0, total = 0, mark = bodies->len;
	size_t packed;
	int r;

	if (idlen == 0 || idlen >= RECORDS_ID_MAX)
		return hearth_error_make(err, EINVAL, "an invocation id of %zu bytes", idlen);
	for (int i = 0; i < BODY_PARTS; i++) {
		len[i] = part[i] ? strlen(part[i]) : 0;
		if (len[i] >= HEAD_NULL)
			return hearth_error_make(err, E2BIG, "a record's part of %zu bytes",
						 len[i]);
		total += len[i];
	}
	memcpy(h + H_ID, v->id, idlen);
	put64(h + H_FN, (uint64_t)v->function_id);
	put64(h + H_REV, (uint64_t)v->revision);
	put64(h + H_CREATED, (uint64_t)v->created_at);
	put64(h + H_ENDED, (uint64_t)v->ended_at);
	put64(h + H_MEM, (uint64_t)v->memory_mb);
	put64(h + H_TIMEOUT, (uint64_t)v->timeout_s);
	put64(h + H_MAXMEM, (uint64_t)v->max_memory_mb);
	put_double(h + H_DUR, v->duration_ms);
	put_double(h + H_INIT, v->init_ms);
	put_double(h + H_QUEUE, v->queue_ms);
	put64(h + H_BODY, bodies->len);
	for (int i = 0; i < BODY_PARTS; i++)
		put32(h + H_LENS + 4 * i, part[i] ? (uint32_t)len[i] : HEAD_NULL);
	h[H_STATUS] = name_code(v->status, status_name_of, INVOCATION_STATUS_N);
	h[H_START] = name_code(v->start_kind, start_name_of, POOL_START_N);
	if ((r = buf_reserve(bodies, total, err)) < 0 ||
	    (r = buf_reserve(heads, RECORDS_HEAD, err)) < 0)
		return r;
	if ((r = buf_append(bodies, part[0], len[0], err)) < 0)
		return r; /* reserved above: cannot happen */
	if ((packed = pack_tail(lz4, part, len, total - len[0], bodies)) > 0) {
		h[H_PACK] = HEAD_PACK_LZ4;
		put32(h + H_PACKED, (uint32_t)packed);
	} else {
		for (int i = 1; i < BODY_PARTS; i++)
			if ((r = buf_append(bodies, part[i], len[i], err)) < 0) {
				bodies->len = mark; /* reserved above: cannot happen */
				return r;
			}
	}
	return buf_append(heads, h, RECORDS_HEAD, err);
}

/* A head's fixed fields into v (strings: the id, status and start kind
 * only); the body's offset and its parts' lengths into off and len, and
 * the packed tail's length into packed (0: the tail as it is). */
static int head_decode(const unsigned char *h, struct store_invocation *v, uint64_t *off,
		       uint32_t len[BODY_PARTS], uint32_t *packed, struct hearth_error **err)
{
	memset(v, 0, sizeof(*v));
	v->id = strndup((const char *)h + H_ID, RECORDS_ID_MAX - 1);
	v->function_id = (int64_t)get64(h + H_FN);
	v->revision = (int64_t)get64(h + H_REV);
	v->created_at = (int64_t)get64(h + H_CREATED);
	v->ended_at = (int64_t)get64(h + H_ENDED);
	v->memory_mb = (int64_t)get64(h + H_MEM);
	v->timeout_s = (int64_t)get64(h + H_TIMEOUT);
	v->max_memory_mb = (int64_t)get64(h + H_MAXMEM);
	v->duration_ms = get_double(h + H_DUR);
	v->init_ms = get_double(h + H_INIT);
	v->queue_ms = get_double(h + H_QUEUE);
	*off = get64(h + H_BODY);
	for (int i = 0; i < BODY_PARTS; i++)
		len[i] = get32(h + H_LENS + 4 * i);
	*packed = h[H_PACK] == HEAD_PACK_LZ4 ? get32(h + H_PACKED) : 0;
	if (h[H_PACK] > HEAD_PACK_LZ4 || (h[H_PACK] == HEAD_PACK_LZ4 && *packed == 0)) {
		int r = hearth_error_make(err, EIO, "records: '%s' is kept in a way unknown here",
					  v->id ? v->id : "?");

		store_invocation_clear(v);
		return r;
	}
	if (h[H_STATUS] < INVOCATION_STATUS_N)
		v->status = strdup(status_name_of(h[H_STATUS]));
	if (h[H_START] < POOL_START_N)
		v->start_kind = strdup(start_name_of(h[H_START]));
	if (!v->id || (h[H_STATUS] < INVOCATION_STATUS_N && !v->status) ||
	    (h[H_START] < POOL_START_N && !v->start_kind)) {
		store_invocation_clear(v);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	return 0;
}

static uint32_t id_hash(const char *id)
{
	return (uint32_t)strmap_hash(id, strlen(id));
}

static struct records_ent *ix_ent(const struct records_index *ix, uint64_t seq)
{
	return &ix->ring[seq % ix->cap];
}

/* The slot holding id's sequence number, or the free slot where it
 * would go. */
static size_t ix_slot(const struct records_index *ix, const char *id, uint32_t hash)
{
	size_t m = ix->nslots - 1, i = hash & m;

	while (ix->slots[i] && strcmp(ix_ent(ix, ix->slots[i] - 1)->id, id) != 0)
		i = (i + 1) & m;
	return i;
}

static const struct records_ent *ix_find(const struct records_index *ix, const char *id)
{
	size_t i;

	if (!ix->nslots)
		return NULL;
	i = ix_slot(ix, id, id_hash(id));
	return ix->slots[i] ? ix_ent(ix, ix->slots[i] - 1) : NULL;
}

static void ix_hash_del(struct records_index *ix, const struct records_ent *e)
{
	size_t m = ix->nslots - 1, i = ix_slot(ix, e->id, e->hash), j = i;

	if (!ix->slots[i])
		return;
	for (;;) {
		size_t k;

		j = (j + 1) & m;
		if (!ix->slots[j])
			break;
		k = ix_ent(ix, ix->slots[j] - 1)->hash & m;
		/* j's entry stays when its home k lies cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		ix->slots[i] = ix->slots[j];
		i = j;
	}
	ix->slots[i] = 0;
}

static struct records_fn *ix_fn(const struct records_index *ix, int64_t function_id, size_t *at)
{
	size_t lo = 0, hi = ix->nfns;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix->fns[mid].function_id < function_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (at)
		*at = lo;
	return lo < ix->nfns && ix->fns[lo].function_id == function_id ? &ix->fns[lo] : NULL;
}

static int ent_cmp(const struct records_ent *a, int64_t created_at, const char *id)
{
	if (a->created_at != created_at)
		return a->created_at < created_at ? -1 : 1;
	return strcmp(a->id, id);
}

/* Drops f's sequence numbers that are no longer kept. */
static void fn_compact(const struct records_index *ix, struct records_fn *f)
{
	size_t k = 0;

	for (size_t i = 0; i < f->len; i++)
		if (f->seqs[i] >= ix->head)
			f->seqs[k++] = f->seqs[i];
	f->len = k;
	f->dead = 0;
}

static void ix_drop_oldest(struct records_index *ix)
{
	struct records_ent *e = ix_ent(ix, ix->head);
	size_t at;
	struct records_fn *f = ix_fn(ix, e->function_id, &at);

	ix_hash_del(ix, e);
	ix->head++;
	if (ix->head == ix->tail)
		ix->dropped_thru = ix->last_batch;
	else if (ix_ent(ix, ix->head)->batch - 1 > ix->dropped_thru)
		ix->dropped_thru = ix_ent(ix, ix->head)->batch - 1;
	if (!f)
		return;
	if (++f->dead == f->len) {
		free(f->seqs);
		memmove(f, f + 1, (ix->nfns - at - 1) * sizeof(*f));
		ix->nfns--;
	} else if (f->dead > 32 && f->dead * 2 > f->len) {
		fn_compact(ix, f);
	}
}

static int ix_grow(struct records_index *ix)
{
	uint64_t n = ix->tail - ix->head;

	if (n + 1 > ix->cap) {
		/* doubled, but no more than the retention bound needs */
		size_t cap = ix->cap ? ix->cap * 2 : 1024;

		if (ix->ring_max > 0 && cap > ix->ring_max && ix->ring_max >= n + 1)
			cap = ix->ring_max;
		struct records_ent *ring = malloc(cap * sizeof(*ring));

		if (!ring)
			return -ENOMEM;
		for (uint64_t s = ix->head; s < ix->tail; s++)
			ring[s % cap] = *ix_ent(ix, s);
		free(ix->ring);
		ix->ring = ring;
		ix->cap = cap;
	}
	if ((n + 1) * 2 > ix->nslots) {
		size_t ns = ix->nslots ? ix->nslots * 2 : 2048;
		uint64_t *slots = calloc(ns, sizeof(*slots));

		if (!slots)
			return -ENOMEM;
		free(ix->slots);
		ix->slots = slots;
		ix->nslots = ns;
		for (uint64_t s = ix->head; s < ix->tail; s++) {
			struct records_ent *e = ix_ent(ix, s);

			ix->slots[ix_slot(ix, e->id, e->hash)] = s + 1;
		}
	}
	return 0;
}

/* Indexes a record written in batch at slot; a record whose id is
 * indexed already stays out (-EEXIST), as does one out of memory. */
static int ix_add(struct records_index *ix, const char *id, int64_t function_id, int64_t created_at,
		  int64_t batch, uint32_t slot)
{
	size_t at, pos, len = strnlen(id, RECORDS_ID_MAX);
	struct records_fn *f;
	struct records_ent *e;
	uint64_t seq;

	if (len == 0 || len >= RECORDS_ID_MAX)
		return -EINVAL;
	if (ix_find(ix, id))
		return -EEXIST;
	if (ix_grow(ix) < 0)
		return -ENOMEM;
	if (!(f = ix_fn(ix, function_id, &at))) {
		if (ix->nfns == ix->afns) {
			size_t na = ix->afns ? ix->afns * 2 : 16;
			struct records_fn *nf = realloc(ix->fns, na * sizeof(*nf));

			if (!nf)
				return -ENOMEM;
			ix->fns = nf;
			ix->afns = na;
		}
		memmove(&ix->fns[at + 1], &ix->fns[at], (ix->nfns - at) * sizeof(*f));
		ix->nfns++;
		f = &ix->fns[at];
		*f = (struct records_fn){ .function_id = function_id };
	}
	if (f->len == f->alloc) {
		size_t na = f->alloc ? f->alloc * 2 : 64;
		uint64_t *ns = realloc(f->seqs, na * sizeof(*ns));

		if (!ns) {
			if (f->len == 0) {
				memmove(f, f + 1, (ix->nfns - at - 1) * sizeof(*f));
				ix->nfns--;
			}
			return -ENOMEM;
		}
		f->seqs = ns;
		f->alloc = na;
	}
	seq = ix->tail++;
	e = ix_ent(ix, seq);
	memset(e, 0, sizeof(*e));
	memcpy(e->id, id, len);
	e->hash = id_hash(e->id);
	e->batch = batch;
	e->slot = slot;
	e->function_id = function_id;
	e->created_at = created_at;
	ix->slots[ix_slot(ix, e->id, e->hash)] = seq + 1;
	/* Mostly the newest: found from the end, past the kept ones that
	 * sort after it (and dropped ones between, not compared). */
	pos = f->len;
	while (pos > 0 && (f->seqs[pos - 1] < ix->head ||
			   ent_cmp(ix_ent(ix, f->seqs[pos - 1]), created_at, e->id) > 0))
		pos--;
	memmove(&f->seqs[pos + 1], &f->seqs[pos], (f->len - pos) * sizeof(*f->seqs));
	f->seqs[pos] = seq;
	f->len++;
	return 0;
}

static void ix_free(struct records_index *ix)
{
	for (size_t i = 0; i < ix->nfns; i++)
		free(ix->fns[i].seqs);
	free(ix->fns);
	free(ix->ring);
	free(ix->slots);
	memset(ix, 0, sizeof(*ix));
}

/* Indexes a batch just written (or read at start) and drops the oldest
 * past retention; under imu.  Returns how many records could not be
 * indexed (out of memory): written, but never found. */
static size_t ix_add_batch(struct records *r, int64_t rowid, const unsigned char *heads, size_t n)
{
	size_t lost = 0;

	/* first: dropping the last kept record marks this batch too */
	if (rowid > r->ix.last_batch)
		r->ix.last_batch = rowid;
	for (size_t i = 0; i < n; i++) {
		const unsigned char *h = heads + i * RECORDS_HEAD;
		char id[RECORDS_ID_MAX];

		memcpy(id, h + H_ID, RECORDS_ID_MAX - 1);
		id[RECORDS_ID_MAX - 1] = '\0';
		if (ix_add(&r->ix, id, (int64_t)get64(h + H_FN), (int64_t)get64(h + H_CREATED),
			   rowid, (uint32_t)i) == -ENOMEM)
			lost++;
		while (r->ix.tail - r->ix.head > (uint64_t)r->retention)
			ix_drop_oldest(&r->ix);
	}
	if (r->ix.head == r->ix.tail)
		r->ix.dropped_thru = r->ix.last_batch;
	return lost;
}

/* ---- writing ---- */

/* Records to a batch row at most, and its bytes (a batch past them is
 * cut; a single record may pass the bytes).  Each batch is one
 * transaction.  The bytes bound what the writer holds (its buffers, and
 * SQLite's copy of the row as it writes it): with 4 MiB, 400 echoes of
 * 64 KB left hearthd 13 MB larger than schema 6's writer did; with
 * 512 KiB, within a megabyte of it. */
#define RECORDS_BATCH_MAX 1024
#define RECORDS_BATCH_BYTES (512u << 10)

/* The batch staged in the writer's buffers, as the store takes it. */
static struct store_batch staged(const struct records *r)
{
	return (struct store_batch){
		.heads = r->heads.ptr,
		.heads_len = r->heads.len,
		.bodies = r->bodies.ptr,
		.bodies_len = r->bodies.len,
		.n = (int64_t)(r->heads.len / RECORDS_HEAD),
	};
}

/* Writes the entries from at on that fit one batch row; *k gets how many
 * it took (lost or written).  The batches that hold no kept record go in
 * the same commit. */
static int batch_write(struct records *r, struct records_entry **batch, size_t n, size_t *k,
		       struct hearth_error **err)
{
	struct store_batch b;
	int64_t drop;
	size_t i, skipped = 0;
	int64_t rowid;
	int rc = 0;

	buf_reset(&r->heads);
	buf_reset(&r->bodies);
	for (i = 0; i < n && i < RECORDS_BATCH_MAX &&
		    (i == 0 || r->heads.len + r->bodies.len < RECORDS_BATCH_BYTES);
	     i++) {
		struct store_invocation v;
		char *owned[2];

		entry_row(batch[i], &v, owned);
		if (record_encode(&v, &r->heads, &r->bodies, r->lz4, NULL) < 0)
			skipped++; /* an id or a part that cannot be kept: lost */
		free(owned[0]);
		free(owned[1]);
		if ((i + 1) % RECORDS_YIELD_EVERY == 0)
			sched_yield();
	}
	*k = i;
	pthread_mutex_lock(&r->imu);
	drop = r->ix.dropped_thru > r->dropped_done ? r->ix.dropped_thru : 0;
	pthread_mutex_unlock(&r->imu);
	b = staged(r);
	b.drop_through = drop;
	if ((rc = store_batch_write(r->wstore, &b, &rowid, err)) < 0)
		return rc;
	if (b.drop_through)
		r->dropped_done = b.drop_through;
	pthread_mutex_lock(&r->imu);
	skipped += ix_add_batch(r, rowid, (const unsigned char *)r->heads.ptr, (size_t)b.n);
	pthread_mutex_unlock(&r->imu);
	if (skipped)
		atomic_fetch_add(&r->dropped, skipped);
	return 0;
}

/* Writes a flush's entries, a batch row at a time, letting the CPU go
 * between rows.  *lost counts the records of the rows the store refused;
 * the first refusal is the error. */
static int flush_write(struct records *r, struct records_entry **batch, size_t n, size_t *lost,
		       struct hearth_error **err)
{
	int rc = 0;

	*lost = 0;
	for (size_t at = 0, k; at < n; at += k) {
		int w = batch_write(r, batch + at, n - at, &k, rc < 0 ? NULL : err);

		if (w < 0) {
			*lost += k;
			rc = rc < 0 ? rc : w;
		}
		sched_yield();
	}
	return rc;
}
static void batch_free(struct records_entry **b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b[i]);
	free(b);
}

/* t's policy: SCHED_IDLE (it gives way to any other thread of its
 * cgroup at once) or SCHED_OTHER. */
static int writer_sched(pthread_t t, bool idle)
{
	struct sched_param sp = { 0 };

	return pthread_setschedparam(t, idle ? SCHED_IDLE : SCHED_OTHER, &sp);
}

static void *idle_probe(void *arg)
{
	*(bool *)arg = writer_sched(pthread_self(), true) == 0 &&
		       writer_sched(pthread_self(), false) == 0;
	return NULL;
}

/* Whether a thread can go to SCHED_IDLE and back: coming back needs
 * CAP_SYS_NICE or an RLIMIT_NICE of 20, so it is tried, on a thread of
 * its own (one left at SCHED_IDLE ends there). */
static bool idle_possible(void)
{
	pthread_t t;
	bool ok = false;

	if (pthread_create(&t, NULL, idle_probe, &ok) != 0)
		return false;
	pthread_join(t, NULL);
	return ok;
}

/* The writer thread t (itself, or from another thread) idle or not: its
 * policy and its cgroup's cpu.idle. */
static int writer_mode(struct records *r, pthread_t t, bool idle)
{
	if (r->group)
		idlegroup_set_idle(r->group, idle);
	return writer_sched(t, idle);
}

/* The writer's cgroup, where one can be made (as root, on cgroup v1). */
static void group_new(struct records *r)
{
	struct hearth_error *err = NULL;

	if (idlegroup_new(&r->group, &err) < 0)
		log_debug("records: no cgroup of the writer's own (%s): SCHED_IDLE alone",
			  err->msg);
	else
		log_info("records: the writer runs in cgroup %s, idle (cpu.idle) in quiet flushes",
			 idlegroup_path(r->group));
	hearth_error_free(err);
}

/* The writer to SCHED_OTHER: a reader or the loop waits for it. */
static void writer_raise(struct records *r)
{
	if (r->idle_ok)
		writer_mode(r, r->thread, false);
}

void records_boost(void *arg)
{
	struct records *r = arg;

	if (!r || r->off)
		return;
	atomic_store(&r->busy, true);
	writer_raise(r);
}

/* k records taken are written, or dropped: readers waiting are told. */
static void written_add(struct records *r, size_t k)
{
	pthread_mutex_lock(&r->mu);
	r->written += k;
	pthread_cond_broadcast(&r->done);
	pthread_mutex_unlock(&r->mu);
}

/* A flush's entries: the stack taken whole, oldest first. */
static struct records_entry **take(struct records *r, size_t *n)
{
	struct records_entry *e = atomic_exchange(&r->top, NULL), **batch;
	size_t k = 0, bytes = 0;

	*n = 0;
	for (struct records_entry *i = e; i; i = i->next)
		k++;
	if (!k)
		return NULL;
	if (!(batch = malloc(k * sizeof(*batch)))) {
		/* lost, and counted: the writer holds nothing it cannot write */
		while (e) {
			struct records_entry *next = e->next;

			bytes += e->size;
			free(e);
			e = next;
		}
		atomic_fetch_add(&r->dropped, k);
		atomic_fetch_sub(&r->n, k);
		atomic_fetch_sub(&r->bytes, bytes);
		written_add(r, k);
		return NULL;
	}
	for (size_t i = k; i-- > 0; e = e->next) {
		batch[i] = e;
		bytes += e->size;
	}
	atomic_fetch_sub(&r->n, k);
	atomic_fetch_sub(&r->bytes, bytes);
	*n = k;
	return batch;
}

/* Waits for a first record, then lets a batch pile up (or a reader ask
 * for it).  false: stopping, nothing left. */
static bool writer_wait(struct records *r)
{
	struct timespec ts;

	while (!atomic_load(&r->top) && !atomic_load(&r->stop))
		sem_wait(&r->wake);
	if (!atomic_load(&r->top))
		return false;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += RECORDS_FLUSH_MS * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	while (!atomic_load(&r->flush_now) && !atomic_load(&r->stop) &&
	       (sem_timedwait(&r->wake, &ts) == 0 || errno == EINTR))
		;
	atomic_store(&r->flush_now, false);
	return true;
}

static void *writer(void *arg)
{
	struct records *r = arg;
	int64_t last_log_ns = 0;
	uint64_t dropped_at_failure = 0;
	bool failing = false;

	if (r->group) {
		struct hearth_error *err = NULL;

		if (idlegroup_join(r->group, gettid(), &err) < 0)
			log_debug("records: %s; the writer stays in hearthd's cgroup", err->msg);
		hearth_error_free(err);
	}
	while (writer_wait(r)) {
		struct hearth_error *err = NULL;
		struct records_entry **batch;
		size_t bn, lost;
		bool quiet;
		int rc;

		if (!(batch = take(r, &bn)))
			continue;
		/* Idle priority for a quiet flush no one waits for; checked
		 * again once there, for a reader come meanwhile. */
		quiet = r->idle_ok && bn < RECORDS_QUIET_MAX && !atomic_exchange(&r->busy, false) &&
			atomic_load(&r->readers) == 0;
		if (quiet && (writer_mode(r, pthread_self(), true) != 0 ||
			      atomic_load(&r->readers) > 0 || atomic_load(&r->busy))) {
			writer_mode(r, pthread_self(), false);
			quiet = false;
		}
		rc = flush_write(r, batch, bn, &lost, &err);
		if (quiet)
			writer_mode(r, pthread_self(), false);
		if (rc < 0) {
			int64_t now = util_mono_ns();
			uint64_t dropped = atomic_load(&r->dropped);

			/* Dropped, not kept: a full disk must not become a
			 * full memory.  One line when it starts, then a few. */
			if (!failing) {
				log_error("records: %s: dropping invocation records until the "
					  "store takes them again (%zu now)",
					  err->msg, lost);
				last_log_ns = now;
				dropped_at_failure = dropped;
			} else if (now - last_log_ns >= RECORDS_LOG_EVERY_S * 1000000000LL) {
				log_error("records: still failing (%s): %" PRIu64
					  " records dropped so far",
					  err->msg, dropped + lost - dropped_at_failure);
				last_log_ns = now;
			}
			hearth_error_free(err);
			atomic_fetch_add(&r->dropped, lost);
		} else if (failing) {
			log_info("records: written again after %" PRIu64 " records were dropped",
				 atomic_load(&r->dropped) - dropped_at_failure);
		}
		failing = rc < 0;
		batch_free(batch, bn);
		written_add(r, bn);
	}
	return NULL;
}

/* Records from before schema 7 (rows of their own) into batches, a few
 * hundred at a time, each move one transaction. */
static int load_legacy(struct records *r, struct hearth_error **err)
{
	size_t moved = 0, lost = 0;

	for (;;) {
		struct store_invocation *recs;
		struct store_batch b = { 0 };
		int64_t through;
		size_t n;
		int rc;

		if ((rc = store_legacy_take(r->wstore, 256, &recs, &n, &through, err)) < 0)
			return rc;
		if (n == 0)
			break;
		if (r->retention == 0) {
			/* none to keep: deleted, not moved */
			store_invocations_free(recs, n);
			b.legacy_through = through;
			if ((rc = store_batch_write(r->wstore, &b, NULL, err)) < 0)
				return rc;
			continue;
		}
		buf_reset(&r->heads);
		buf_reset(&r->bodies);
		for (size_t i = 0; i < n; i++)
			if (record_encode(&recs[i], &r->heads, &r->bodies, r->lz4, NULL) < 0)
				lost++;
		store_invocations_free(recs, n);
		b = staged(r);
		b.legacy_through = through;
		if ((rc = store_batch_write(r->wstore, &b, NULL, err)) < 0)
			return rc;
		moved += (size_t)b.n;
	}
	if (moved || lost)
		log_info("records: moved %zu invocation records into batches (schema 7)%s", moved,
			 lost ? "; some could not be kept" : "");
	/* The buffer a move took (a few hundred records, errors and all)
	 * is not held for the writer's far smaller batches. */
	buf_release(&r->bodies);
	return 0;
}

static int load_batch(void *arg, int64_t rowid, int64_t n, const void *heads, size_t heads_len,
		      struct hearth_error **err)
{
	struct records *r = arg;
	size_t k = heads_len / RECORDS_HEAD;

	(void)err;
	if (n < 0 || (size_t)n != k || heads_len % RECORDS_HEAD)
		log_warn("records: batch %" PRId64 " holds %zu bytes of heads for %" PRId64
			 " records; indexing %zu",
			 rowid, heads_len, n, k);
	r->dropped += ix_add_batch(r, rowid, heads, k);
	return 0;
}

/* The index, from the batches; then the batches retention no longer
 * keeps go. */
static int load(struct records *r, struct hearth_error **err)
{
	struct store_batch b = { 0 };
	int rc;

	if ((rc = load_legacy(r, err)) < 0 ||
	    (rc = store_batches_each(r->wstore, load_batch, r, err)) < 0)
		return rc;
	if (r->ix.dropped_thru > 0) {
		b.drop_through = r->ix.dropped_thru;
		if ((rc = store_batch_write(r->wstore, &b, NULL, err)) < 0)
			return rc;
		r->dropped_done = b.drop_through;
	}
	return 0;
}

int records_new(struct records **out, const char *db_path, int64_t retention,
		struct hearth_error **err)
{
	struct records *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return hearth_error_make(err, ENOMEM, "out of memory");
	r->retention = retention < 0 ? 0 : retention;
	r->ix.ring_max = (size_t)r->retention + 1;
	buf_init(&r->heads, (size_t)RECORDS_BATCH_MAX * RECORDS_HEAD);
	buf_init(&r->bodies, SIZE_MAX);
	r->lz4 = LZ4_createStream(); /* NULL: records kept as they are */
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->imu, NULL);
	pthread_cond_init(&r->done, NULL);
	sem_init(&r->wake, 0, 0);
	if ((rc = store_open(&r->wstore, db_path, err)) < 0 || (rc = load(r, err)) < 0)
		goto fail;
	if (r->retention == 0) {
		/* None kept: the ones an earlier run kept went in load(), and
		 * no thread is started. */
		if (r->ix.tail > 0)
			log_info("records: --retention 0: deleted the %" PRIu64
				 " invocation records kept before",
				 r->ix.tail);
		store_close(r->wstore);
		r->wstore = NULL;
		ix_free(&r->ix);
		buf_release(&r->heads);
		buf_release(&r->bodies);
		r->off = true;
	} else {
		if ((r->idle_ok = idle_possible()))
			group_new(r);
		if ((rc = pthread_create(&r->thread, NULL, writer, r)) != 0) {
			rc = hearth_error_errno(err, rc, "records: cannot start the writer thread");
			goto fail;
		}
	}
	*out = r;
	return 0;
fail:
	r->off = true;
	records_free(r);
	return rc;
}

bool records_on(const struct records *r)
{
	return !r->off;
}

void records_push(struct records *r, struct records_entry *e)
{
	struct records_entry *top;

	if (r->off) {
		free(e);
		return;
	}
	if (!e) {
		/* records_entry_new ran out of memory: lost, and counted */
		atomic_fetch_add(&r->dropped, 1);
		return;
	}
	if (atomic_load(&r->n) >= RECORDS_MAX_PENDING ||
	    atomic_load(&r->bytes) >= RECORDS_MAX_PENDING_BYTES) {
		if (atomic_fetch_add(&r->dropped, 1) % 1000 == 0)
			log_warn("records: the store is not keeping up; records are dropped");
		free(e);
		return;
	}
	/* A writer behind is raised, the queue being long. */
	if (atomic_fetch_add(&r->n, 1) + 1 == RECORDS_QUIET_MAX)
		records_boost(r);
	atomic_fetch_add(&r->bytes, e->size);
	top = atomic_load(&r->top);
	do
		e->next = top;
	while (!atomic_compare_exchange_weak(&r->top, &top, e));
	atomic_fetch_add(&r->queued, 1);
	if (!top)
		sem_post(&r->wake);
}

/* A reader comes: the writer at SCHED_OTHER until it leaves. */
static void reader_enter(struct records *r)
{
	atomic_fetch_add(&r->readers, 1);
	writer_raise(r);
}

static void reader_leave(struct records *r)
{
	atomic_fetch_sub(&r->readers, 1);
}

/* Every record pushed so far written, or dropped. */
static void flush_wait(struct records *r)
{
	uint64_t want = atomic_load(&r->queued);

	pthread_mutex_lock(&r->mu);
	if (r->written < want) {
		atomic_store(&r->flush_now, true);
		sem_post(&r->wake);
		while (r->written < want)
			pthread_cond_wait(&r->done, &r->mu);
	}
	pthread_mutex_unlock(&r->mu);
}

/* Readers wait (on the loop: a control-plane request) until every record
 * handed over so far is written, or dropped: what could not be written is
 * counted and logged, and the reader gets what the store has. */
int records_flush(struct records *r, struct hearth_error **err)
{
	(void)err;
	if (r->off)
		return 0;
	reader_enter(r);
	flush_wait(r);
	reader_leave(r);
	return 0;
}

/* ---- reading ---- */

static char *part_dup(const char *at, uint32_t len)
{
	char *p = malloc((size_t)len + 1);

	if (p) {
		memcpy(p, at, len);
		p[len] = '\0';
	}
	return p;
}

/* *body holds head bytes as they are, then packed bytes of parts 1..
 * (pack_tail's layout): into a new *body of total bytes, the head's
 * then each part's, which must come to len[i] bytes exactly. */
static int unpack_tail(char **body, size_t head, size_t packed, const uint32_t len[BODY_PARTS],
		       size_t total, struct hearth_error **err)
{
	const unsigned char *in = (const unsigned char *)*body + head;
	LZ4_streamDecode_t sd;
	size_t used = PACK_LENS, at = head;
	char *out;

	/* LZ4 makes at most 255 bytes of one (a 64 KiB part: 258 packed) */
	if (total < head || packed < PACK_LENS || packed > INT_MAX || (total - head) / 255 > packed)
		return hearth_error_make(err, EIO, "records: a packed body of %zu bytes", packed);
	if (!(out = malloc(total)))
		return hearth_error_make(err, ENOMEM, "out of memory");
	memcpy(out, *body, head);
	LZ4_setStreamDecode(&sd, NULL, 0);
	for (int i = 1; i < BODY_PARTS; i++) {
		size_t want = len[i] == HEAD_NULL ? 0 : len[i], n = get32(in + 4 * (i - 1));
		int got = 0;

		if (n > packed - used || want > total - at || want > (size_t)LZ4_MAX_INPUT_SIZE ||
		    (n == 0) != (want == 0) ||
		    (n && (got = LZ4_decompress_safe_continue(&sd, (const char *)in + used,
							      out + at, (int)n, (int)want)) < 0) ||
		    (size_t)got != want) {
			free(out);
			return hearth_error_make(err, EIO,
						 "records: a packed body that does not unpack");
		}
		used += n;
		at += want;
	}
	free(*body);
	*body = out;
	if (used != packed || at != total)
		return hearth_error_make(err, EIO, "records: a packed body that does not unpack");
	return 0;
}

/* The record at slot of batch, whose id must be id: everything (full),
 * or without logs, result and payload.  -ENOENT when its batch is gone
 * (deleted since it was found: retention). */
static int record_read(struct store *s, int64_t batch, uint32_t slot, const char *id, bool full,
		       struct store_invocation *v, struct hearth_error **err)
{
	unsigned char h[RECORDS_HEAD];
	uint32_t len[BODY_PARTS], packed;
	char **part[BODY_PARTS] = { &v->error_json, &v->logs, &v->result, &v->payload };
	size_t total = 0, nparts = full ? BODY_PARTS : 1, stored;
	uint64_t off;
	char *body;
	int rc;

	memset(v, 0, sizeof(*v));
	if ((rc = store_batch_read(s, batch, STORE_BATCH_HEADS, (size_t)slot * RECORDS_HEAD, h,
				   sizeof(h), err)) < 0 ||
	    (rc = head_decode(h, v, &off, len, &packed, err)) < 0)
		return rc;
	if (strcmp(v->id, id) != 0) {
		rc = hearth_error_make(err, EIO,
				       "records: batch %" PRId64 " holds '%s' where '%s' was",
				       batch, v->id, id);
		store_invocation_clear(v);
		return rc;
	}
	for (size_t i = 0; i < nparts; i++)
		total += len[i] == HEAD_NULL ? 0 : len[i];
	if (total == 0) {
		/* nothing in the body to read: empty strings where not NULL */
		for (size_t i = 0; i < nparts; i++)
			if (len[i] != HEAD_NULL && !(*part[i] = strdup(""))) {
				store_invocation_clear(v);
				return hearth_error_make(err, ENOMEM, "out of memory");
			}
		return 0;
	}
	/* what the batch holds of it: the tail packed, or all as it is */
	if (!full || !packed)
		packed = 0;
	stored = packed ? (len[0] == HEAD_NULL ? 0 : len[0]) + packed : total;
	if (stored > INT_MAX) { /* more than a batch can hold (a damaged head) */
		store_invocation_clear(v);
		return hearth_error_make(err, ERANGE, "records: a body past its batch");
	}
	if (!(body = malloc(stored))) {
		store_invocation_clear(v);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	if (off > SIZE_MAX - stored ||
	    (rc = store_batch_read(s, batch, STORE_BATCH_BODIES, (size_t)off, body, stored, err)) <
		    0) {
		if (rc == 0)
			rc = hearth_error_make(err, ERANGE, "records: a body past its batch");
		free(body);
		store_invocation_clear(v);
		return rc;
	}
	if (packed && (rc = unpack_tail(&body, stored - packed, packed, len, total, err)) < 0) {
		free(body);
		store_invocation_clear(v);
		return rc;
	}
	for (size_t i = 0, at = 0; i < nparts; i++) {
		if (len[i] == HEAD_NULL)
			continue;
		if (!(*part[i] = part_dup(body + at, len[i]))) {
			free(body);
			store_invocation_clear(v);
			return hearth_error_make(err, ENOMEM, "out of memory");
		}
		at += len[i];
	}
	free(body);
	return 0;
}

/* records_get's and records_list's reading, the writer flushed and
 * raised. */
static int get_read(struct records *r, struct store *s, const char *id,
		    struct store_invocation *out, struct hearth_error **err)
{
	const struct records_ent *e;
	int64_t batch = 0;
	uint32_t slot = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&r->imu);
	if ((e = ix_find(&r->ix, id)) != NULL) {
		batch = e->batch;
		slot = e->slot;
	}
	pthread_mutex_unlock(&r->imu);
	if (!e || (rc = record_read(s, batch, slot, id, true, out, err)) == -ENOENT) {
		hearth_error_clear(err);
		return hearth_error_make(err, ENOENT, "no invocation '%s'", id);
	}
	return rc;
}

static int list_read(struct records *r, struct store *s, int64_t function_id, const char *before,
		     size_t limit, struct store_invocation **out, size_t *n, bool *more,
		     struct hearth_error **err)
{
	struct loc {
		int64_t batch;
		uint32_t slot;
		char id[RECORDS_ID_MAX];
	} *locs = NULL;
	struct store_invocation *recs = NULL;
	const struct records_ent *c = NULL; /* the cursor's */
	struct records_fn *f;
	size_t k = 0, got = 0, end;
	int rc;

	*out = NULL;
	*n = 0;
	*more = false;
	if (limit > STORE_INVOCATIONS_LIST_MAX)
		limit = STORE_INVOCATIONS_LIST_MAX;
	pthread_mutex_lock(&r->imu);
	if (before && !(c = ix_find(&r->ix, before))) {
		pthread_mutex_unlock(&r->imu);
		return hearth_error_make(err, ENOENT, "no invocation '%s'", before);
	}
	if (limit == 0 || !(f = ix_fn(&r->ix, function_id, NULL))) {
		pthread_mutex_unlock(&r->imu);
		return 0;
	}
	if (f->dead)
		fn_compact(&r->ix, f);
	end = f->len;
	if (c) {
		size_t lo = 0, hi = f->len;

		/* the first at or after the cursor */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (ent_cmp(ix_ent(&r->ix, f->seqs[mid]), c->created_at, c->id) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		end = lo;
	}
	k = end < limit ? end : limit;
	*more = k == limit; /* as a full page always said: maybe more */
	if (k && !(locs = malloc(k * sizeof(*locs)))) {
		pthread_mutex_unlock(&r->imu);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < k; i++) {
		const struct records_ent *e = ix_ent(&r->ix, f->seqs[end - 1 - i]);

		locs[i].batch = e->batch;
		locs[i].slot = e->slot;
		memcpy(locs[i].id, e->id, RECORDS_ID_MAX);
	}
	pthread_mutex_unlock(&r->imu);
	if (k && !(recs = calloc(k, sizeof(*recs)))) {
		free(locs);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < k; i++) {
		rc = record_read(s, locs[i].batch, locs[i].slot, locs[i].id, false, &recs[got],
				 err);
		if (rc == -ENOENT || rc == -EIO || rc == -ERANGE) {
			/* Aged out since (the page is shorter; *more still
			 * says what follows), or a batch that does not hold
			 * what its head says: that one record is skipped. */
			if (rc != -ENOENT)
				log_warn("records: listing function %" PRId64 ": %s", function_id,
					 err && *err ? (*err)->msg : "a record unreadable");
			hearth_error_clear(err);
			continue;
		}
		if (rc < 0) {
			free(locs);
			store_invocations_free(recs, got);
			return rc;
		}
		got++;
	}
	free(locs);
	if (got == 0) {
		free(recs);
		recs = NULL;
	}
	*out = recs;
	*n = got;
	return 0;
}

int records_get(struct records *r, struct store *s, const char *id, struct store_invocation *out,
		struct hearth_error **err)
{
	int rc;

	reader_enter(r);
	flush_wait(r);
	rc = get_read(r, s, id, out, err);
	reader_leave(r);
	return rc;
}

int records_list(struct records *r, struct store *s, int64_t function_id, const char *before,
		 size_t limit, struct store_invocation **out, size_t *n, bool *more,
		 struct hearth_error **err)
{
	int rc;

	reader_enter(r);
	flush_wait(r);
	rc = list_read(r, s, function_id, before, limit, out, n, more, err);
	reader_leave(r);
	return rc;
}

int records_metrics(struct records *r, struct buf *out, struct hearth_error **err)
{
	uint64_t dropped = atomic_load(&r->dropped), pending = atomic_load(&r->n),
		 bytes = atomic_load(&r->bytes);
	int rc;

	if ((rc = promtext_single(out, "hearth_records_dropped_total", "counter",
				  "Invocation records never written (store failing, or behind).",
				  dropped, err)) < 0 ||
	    (rc = promtext_single(out, "hearth_records_pending", "gauge",
				  "Invocation records waiting for the next batch.", pending, err)) <
		    0)
		return rc;
	return promtext_single(out, "hearth_records_pending_bytes", "gauge",
			       "Memory held by the records waiting for the next batch.", bytes,
			       err);
}

void records_free(struct records *r)
{
	if (!r)
		return;
	if (!r->off) {
		atomic_store(&r->stop, true);
		sem_post(&r->wake);
		pthread_join(r->thread, NULL); /* it writes what is pending first */
	}
	idlegroup_free(r->group); /* empty: the writer is gone */
	for (struct records_entry *e = atomic_load(&r->top), *next; e; e = next) {
		next = e->next;
		free(e);
	}
	store_close(r->wstore);
	ix_free(&r->ix);
	buf_release(&r->heads);
	buf_release(&r->bodies);
	LZ4_freeStream(r->lz4);
	sem_destroy(&r->wake);
	pthread_cond_destroy(&r->done);
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->imu);
	free(r);
}
