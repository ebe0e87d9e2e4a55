/* Unit tests for records.c: a call's record as the store keeps it, made
 * from the pool's result on the loop (records_entry_new, one copy) and
 * formatted by the writer thread, and its logs as a reader gets them
 * (records_logs: Lambda's lines made from the record).  The expected logs
 * are written here with printf and the formats the loop used before the
 * writer formatted them, so the ways agree byte for byte. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <unistd.h>

#include "bounds.h"
#include "buf.h"
#include "records.h"
#include "store.h"
#include "tap.h"
#include "testfs.h"

static char *lambda_logs(const struct pool_result *res, const char *own)
{
	static char out[8192];
	double billed = ceil(res->duration_ms);
	int n = snprintf(out, sizeof(out), "START RequestId: %s Version: $LATEST\n%s%s",
			 res->request_id, own, own[0] && own[strlen(own) - 1] != '\n' ? "\n" : "");

	if (res->status == INVOCATION_TIMEOUT)
		n += snprintf(out + n, sizeof(out) - (size_t)n,
			      "TIME %s Task timed out after %d.00 seconds\n", res->request_id,
			      res->timeout_s);
	n += snprintf(out + n, sizeof(out) - (size_t)n,
		      "END RequestId: %s\nREPORT RequestId: %s\tDuration: %.2f ms\t"
		      "Billed Duration: %.0f ms\tMemory Size: %d MB\tMax Memory Used: %lld MB\t",
		      res->request_id, res->request_id, res->duration_ms, billed < 1 ? 1 : billed,
		      res->memory_mb, (long long)floor(res->max_memory_mb + 0.5));
	if (res->start != POOL_START_WARM)
		n += snprintf(out + n, sizeof(out) - (size_t)n, "Init Duration: %.2f ms\t",
			      res->init_ms);
	if (res->status == INVOCATION_TIMEOUT)
		n += snprintf(out + n, sizeof(out) - (size_t)n, "Status: timeout\t");
	if (res->status == INVOCATION_CRASHED)
		n += snprintf(out + n, sizeof(out) - (size_t)n, "Status: error\tError Type: %.*s\t",
			      (int)res->error_type.len, res->error_type.ptr);
	snprintf(out + n, sizeof(out) - (size_t)n, "\n");
	return out;
}

/* The stored logs with the timeout line's time (the writer's clock) put
 * back to "TIME", so they compare with lambda_logs. */
static void untime(char *logs)
{
	char *p = strstr(logs, " Task timed out after ");
	char *line;

	if (!p)
		return;
	while (p > logs && p[-1] != '\n')
		p--;
	line = p;
	p = strchr(line, ' '); /* the ISO-8601 time, then " <id> Task ..." */
	if (p && (size_t)(p - line) >= 4) {
		memcpy(line, "TIME", 4);
		memmove(line + 4, p, strlen(p) + 1);
	}
}

/* res's record through the writer and the store: pushed, flushed (a
 * point), read back into *got (a point named what) and its logs as a
 * reader gets them (records_logs; free them), NULL when either failed. */
static char *round_trip(struct records *r, struct store *s, const struct pool_result *res,
			int64_t created_ms, struct store_invocation *got, const char *what)
{
	struct hearth_error *err = NULL;
	bool stored;

	records_push(r, records_entry_new(res, created_ms, NULL, 0));
	is_int(records_flush(r, &err), 0, "flushed");
	stored = records_get(r, s, res->request_id, got, &err) == 0;
	ok(stored, "%s", what);
	hearth_error_free(err);
	return stored ? records_logs(got) : NULL;
}

/* A no-op success of function fn with id, created at created_ms. */
static void push_call(struct records *r, const char *id, int64_t fn, int64_t created_ms)
{
	char result[] = "{\"ok\":true}";
	struct pool_result res = {
		.request_id = id,
		.function_id = fn,
		.revision = 1,
		.status = INVOCATION_SUCCESS,
		.result = { result, sizeof(result) - 1 },
		.start = POOL_START_WARM,
		.memory_mb = 128,
		.timeout_s = 3,
	};

	records_push(r, records_entry_new(&res, created_ms, "{}", 2));
}

/* A page's ids, joined by spaces ("" when empty). */
static void page_ids(const struct store_invocation *recs, size_t n, char *dst, size_t size)
{
	dst[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(dst + strlen(dst), size - strlen(dst), "%s%s", i ? " " : "", recs[i].id);
}

/* Lists: newest first by (created_at, id) whatever order the calls ended
 * in, a function's own records only, pages by cursor. */
static void lists(const char *db, struct store *s)
{
	struct records *r = NULL;
	struct hearth_error *err = NULL;
	struct store_invocation *recs = NULL;
	char ids[512];
	size_t n = 0;
	bool more = false;

	is_int(records_new(&r, db, 1000, &err), 0, "lists: records start");
	if (!r)
		return;
	push_call(r, "l-b", 21, 2000);
	push_call(r, "l-a", 21, 1000);
	push_call(r, "l-x", 22, 1500);
	is_int(records_flush(r, &err), 0, "  one batch");
	push_call(r, "l-d", 21, 3000);
	push_call(r, "l-c", 21, 2000); /* the same ms as l-b: after it by id */
	push_call(r, "l-0", 21, 500);  /* ended last, created first */
	is_int(records_list(r, s, 21, NULL, 100, &recs, &n, &more, &err), 0, "  list function 21");
	page_ids(recs, n, ids, sizeof(ids));
	is_str(ids, "l-d l-c l-b l-a l-0", "  newest first, by created_at then id");
	ok(n > 0 && recs[0].result == NULL && recs[0].logs == NULL && recs[0].payload == NULL,
	   "  without bodies");
	ok(n > 0 && recs[0].status && !strcmp(recs[0].status, "success") && recs[0].start_kind &&
		   !strcmp(recs[0].start_kind, "warm") && recs[0].created_at == 3000 &&
		   recs[0].function_id == 21 && recs[0].revision == 1,
	   "  with the fixed fields");
	store_invocations_free(recs, n);
	is_int(records_list(r, s, 21, NULL, 2, &recs, &n, &more, &err), 0, "  a page of 2");
	page_ids(recs, n, ids, sizeof(ids));
	is_str(ids, "l-d l-c", "  the first page");
	ok(more, "  says more may follow");
	store_invocations_free(recs, n);
	is_int(records_list(r, s, 21, "l-c", 2, &recs, &n, &more, &err), 0, "  the next page");
	page_ids(recs, n, ids, sizeof(ids));
	is_str(ids, "l-b l-a", "  after the cursor");
	store_invocations_free(recs, n);
	is_int(records_list(r, s, 21, "l-a", 2, &recs, &n, &more, &err), 0, "  the last page");
	page_ids(recs, n, ids, sizeof(ids));
	is_str(ids, "l-0", "  shorter");
	ok(!more, "  and says none follows");
	store_invocations_free(recs, n);
	is_int(records_list(r, s, 22, NULL, 100, &recs, &n, &more, &err), 0, "  list function 22");
	page_ids(recs, n, ids, sizeof(ids));
	is_str(ids, "l-x", "  its own record only");
	store_invocations_free(recs, n);
	is_int(records_list(r, s, 23, NULL, 100, &recs, &n, &more, &err), 0,
	       "  a function without any");
	is_int((long long)n, 0, "  lists none");
	store_invocations_free(recs, n);
	is_int(records_list(r, s, 21, "l-nope", 2, &recs, &n, &more, &err), -ENOENT,
	       "  an unknown cursor is -ENOENT");
	hearth_error_clear(&err);
	records_free(r);
	r = NULL;
	is_int(records_new(&r, db, 1000, &err), 0, "  records start again");
	if (r) {
		is_int(records_list(r, s, 21, "l-d", 100, &recs, &n, &more, &err), 0,
		       "  the rebuilt index lists");
		page_ids(recs, n, ids, sizeof(ids));
		is_str(ids, "l-c l-b l-a l-0", "  in the same order");
		store_invocations_free(recs, n);
		records_free(r);
	}
	hearth_error_free(err);
}

/* The raw count of a table's rows, or -1. */
static long long count_rows(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	long long n = -1;

	if (sqlite3_open(db, &h) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

/* Retention: the newest kept, exactly, across batches and restarts; the
 * batches that hold none of them deleted. */
static void retention(const char *dir)
{
	char db[256], id[32], ids[512];
	struct records *r = NULL;
	struct store *s = NULL;
	struct hearth_error *err = NULL;
	struct store_invocation got = { 0 }, *recs = NULL;
	size_t n = 0;
	bool more = false;

	snprintf(db, sizeof(db), "%s/retention.db", dir);
	is_int(store_open(&s, db, &err), 0, "retention: a store");
	is_int(records_new(&r, db, 3, &err), 0, "  records keeping 3");
	if (!s || !r)
		return;
	for (int b = 0; b < 4; b++) {
		for (int i = 0; i < 2; i++) {
			snprintf(id, sizeof(id), "k-%d", b * 2 + i);
			push_call(r, id, 5, 1000 + b * 2 + i);
		}
		is_int(records_flush(r, &err), 0, "  a batch of 2");
	}
	is_int(records_list(r, s, 5, NULL, 100, &recs, &n, &more, &err), 0, "  list");
	page_ids(recs, n, ids, sizeof(ids));
	is_str(ids, "k-7 k-6 k-5", "  the newest 3 only");
	store_invocations_free(recs, n);
	is_int(records_get(r, s, "k-4", &got, &err), -ENOENT, "  an older one is not found");
	hearth_error_clear(&err);
	is_int(records_get(r, s, "k-5", &got, &err), 0, "  the oldest kept is");
	store_invocation_clear(&got);
	/* k-0..k-3's batches hold no kept record: the first went with the
	 * last batch written, the second waits for the next one. */
	is_int(count_rows(db, "SELECT count(*) FROM invocation_batches"), 3,
	       "  the batches left: the two that hold them and one to go");
	records_free(r);
	r = NULL;
	is_int(records_new(&r, db, 1, &err), 0, "  records keeping 1, on the same store");
	if (r) {
		is_int(records_list(r, s, 5, NULL, 100, &recs, &n, &more, &err), 0, "  list");
		page_ids(recs, n, ids, sizeof(ids));
		is_str(ids, "k-7", "  the newest only");
		store_invocations_free(recs, n);
		is_int(count_rows(db, "SELECT count(*) FROM invocation_batches"), 1,
		       "  one batch left");
		records_free(r);
	}
	store_close(s);
	hearth_error_free(err);
}

static int exec_sql(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	int rc = sqlite3_open(db, &h);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
	sqlite3_close(h);
	return rc;
}

/* len bytes of text into dst (NUL-terminated): JSON objects as the
 * benchmark's payloads are (compressible), or bytes 1..255 from a
 * xorshift started at seed (not). */
static void fill(char *dst, size_t len, bool json, uint32_t seed)
{
	uint32_t x = seed;
	size_t n = 0;

	if (json) {
		n = (size_t)snprintf(dst, len + 1, "{\"items\":[");
		for (int i = 0; n + 80 < len; i++)
			n += (size_t)snprintf(dst + n, len + 1 - n,
					      "{\"id\":%d,\"name\":\"item-%d\",\"score\":0.%06d},",
					      i, i, (i * 7919) % 1000000);
	}
	while (n < len) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		dst[n++] = json ? ' ' : (char)(1 + x % 255);
	}
	dst[len] = '\0';
}

/* Records whose logs, result and event come to 4 KiB or more keep them
 * LZ4-packed when that pays: read back byte for byte, the batch smaller
 * than they are; bytes that do not pack are kept as they are; the error
 * in front is read by a listing without unpacking; a packed body that is
 * damaged, or kept in a way this build does not know, is an error, not a
 * crash. */
static void packed(const char *dir)
{
	size_t big = INVOKE_RECORD_BODY_MAX - 100;
	char db[256], *json = malloc(big + 1), *noise = malloc(big + 1), *noise2 = malloc(big + 1);
	char logs[6000];
	char type[] = "Runtime.ExitError", msg[] = "exit status 3";
	struct records *r = NULL;
	struct store *s = NULL;
	struct hearth_error *err = NULL;
	struct store_invocation got = { 0 }, *recs = NULL;
	size_t n = 0;
	bool more = false;
	long long stored;
	struct pool_result res = {
		.request_id = "p-json",
		.function_id = 9,
		.revision = 1,
		.status = INVOCATION_CRASHED,
		.error_type = { type, sizeof(type) - 1 },
		.error_message = { msg, sizeof(msg) - 1 },
		.start = POOL_START_WARM,
		.memory_mb = 128,
		.timeout_s = 3,
	};

	snprintf(db, sizeof(db), "%s/packed.db", dir);
	is_int(store_open(&s, db, &err), 0, "packed: a store");
	is_int(records_new(&r, db, 100, &err), 0, "  records");
	if (!s || !r || !json || !noise || !noise2)
		goto out;
	fill(json, big, true, 1);
	fill(noise, big, false, 2463534242u);
	fill(noise2, big, false, 88675123u);
	for (size_t i = 0; i + 1 < sizeof(logs); i++)
		logs[i] = (char)('a' + i % 26);
	logs[sizeof(logs) - 1] = '\0';
	res.logs = (struct bytes){ logs, sizeof(logs) - 1 };
	/* a crash keeps no result: the event and the logs are the tail */
	records_push(r, records_entry_new(&res, 1700000001000, json, big));
	is_int(records_flush(r, &err), 0, "  flushed");
	stored = count_rows(db, "SELECT length(bodies) FROM invocation_batches "
				"ORDER BY id DESC LIMIT 1");
	ok(stored > 0 && stored < (long long)(big + sizeof(logs)) / 2,
	   "  a JSON event and logs are kept packed (%lld bytes for %zu)", stored,
	   big + sizeof(logs) - 1);
	is_int(records_get(r, s, "p-json", &got, &err), 0, "  read back");
	ok(got.payload && strcmp(got.payload, json) == 0, "  the event, byte for byte");
	ok(got.logs && strcmp(got.logs, logs) == 0, "  the logs, byte for byte");
	ok(got.error_json && strstr(got.error_json, "Runtime.ExitError"), "  the error");
	ok(got.result == NULL, "  no result");
	store_invocation_clear(&got);
	is_int(records_list(r, s, 9, NULL, 10, &recs, &n, &more, &err), 0, "  listed");
	ok(n == 1 && recs[0].error_json && strstr(recs[0].error_json, "exit status 3"),
	   "  the listing reads the error in front of the packed tail");
	store_invocations_free(recs, n);

	res.request_id = "p-noise";
	res.status = INVOCATION_SUCCESS;
	res.error_type = (struct bytes){ 0 };
	res.error_message = (struct bytes){ 0 };
	res.logs = (struct bytes){ 0 };
	res.result = (struct bytes){ noise2, big }; /* an echo's would pack: the same bytes */
	records_push(r, records_entry_new(&res, 1700000002000, noise, big));
	is_int(records_flush(r, &err), 0, "  flushed");
	stored = count_rows(db, "SELECT length(bodies) FROM invocation_batches "
				"ORDER BY id DESC LIMIT 1");
	is_int(stored, (long long)(2 * big), "  bytes that do not pack are kept as they are");
	is_int(records_get(r, s, "p-noise", &got, &err), 0, "  read back");
	ok(got.payload && got.result && strcmp(got.payload, noise) == 0 &&
		   strcmp(got.result, noise2) == 0,
	   "  the event and the result, byte for byte");
	store_invocation_clear(&got);

	/* the JSON one's blocks damaged (64 zero bytes amid them, their
	 * lengths whole), then zeroed past its error; the other's head marked
	 * with a packing unknown here */
	/* (|| makes text of blobs: cast back, or length() stops at a NUL) */
	is_int(exec_sql(db,
			"UPDATE invocation_batches SET bodies = CAST(substr(bodies, 1, 300) || "
			"zeroblob(64) || substr(bodies, 365) AS BLOB) WHERE id = (SELECT min(id) "
			"FROM invocation_batches)"),
	       SQLITE_OK, "  (64 bytes of the packed blocks zeroed)");
	is_int(records_get(r, s, "p-json", &got, &err), -EIO, "  damaged blocks: an error");
	hearth_error_clear(&err);
	/* (its error is 66 bytes: from byte 60 on, the lengths go too) */
	is_int(exec_sql(db, "UPDATE invocation_batches SET bodies = CAST(substr(bodies, 1, 60) || "
			    "zeroblob(length(bodies) - 60) AS BLOB) WHERE id = (SELECT min(id) "
			    "FROM invocation_batches)"),
	       SQLITE_OK, "  (the packed blocks zeroed, their lengths too)");
	is_int(records_get(r, s, "p-json", &got, &err), -EIO, "  zeroed blocks: an error");
	ok(err && strstr(err->msg, "does not unpack"), "  which says so (%s)",
	   err ? err->msg : "none");
	hearth_error_clear(&err);
	is_int(exec_sql(db, "UPDATE invocation_batches SET heads = substr(heads, 1, 146) || "
			    "x'07' || substr(heads, 148) WHERE id = (SELECT max(id) FROM "
			    "invocation_batches)"),
	       SQLITE_OK, "  (a head's packing unknown)");
	is_int(records_get(r, s, "p-noise", &got, &err), -EIO, "  an unknown packing: an error");
	hearth_error_clear(&err);

	/* Echoes in one batch: no error in front, the result the event's
	 * bytes again (packed against it, 64 KiB back), three records each
	 * packed with the stream started again. */
	res.status = INVOCATION_SUCCESS;
	res.result = (struct bytes){ json, big };
	for (int i = 0; i < 3; i++) {
		char id[16];

		snprintf(id, sizeof(id), "p-echo-%d", i);
		res.request_id = id;
		json[20] = (char)('a' + i); /* each its own bytes */
		records_push(r, records_entry_new(&res, 1700000003000 + i, json, big));
	}
	is_int(records_flush(r, &err), 0, "  three echoes flushed");
	is_int(count_rows(db, "SELECT count(*) FROM invocation_batches WHERE id = (SELECT max(id) "
			      "FROM invocation_batches) AND n = 3"),
	       1, "  in one batch");
	stored = count_rows(db, "SELECT length(bodies) FROM invocation_batches "
				"ORDER BY id DESC LIMIT 1");
	ok(stored > 0 && stored < (long long)(2 * big),
	   "  packed under a third: %lld bytes for 3 events and 3 results of %zu", stored, big);
	for (int i = 0; i < 3; i++) {
		char id[16];

		snprintf(id, sizeof(id), "p-echo-%d", i);
		json[20] = (char)('a' + i);
		is_int(records_get(r, s, id, &got, &err), 0, "  %s read back", id);
		ok(got.payload && got.result && strcmp(got.payload, json) == 0 &&
			   strcmp(got.result, json) == 0 && got.error_json == NULL,
		   "  its event and result, byte for byte, and no error");
		store_invocation_clear(&got);
	}
out:
	records_free(r);
	store_close(s);
	hearth_error_free(err);
	free(json);
	free(noise);
	free(noise2);
}

/* ---- the hand-over, from threads at once ---- */

#define PUSHERS 4
#define PUSHES 3000

struct pusher {
	struct records *r;
	int t;
};

static void *pushes(void *arg)
{
	const struct pusher *p = arg;

	for (int i = 0; i < PUSHES; i++) {
		char id[32];

		snprintf(id, sizeof(id), "p%d-%05d", p->t, i);
		push_call(p->r, id, 40 + p->t, 1000 + i);
		if (i % 500 == 0)
			records_boost(p->r); /* as the loop's connection does, waiting */
	}
	return NULL;
}

/* Every record pushed by threads at once, while a reader flushes, is
 * written once, in its thread's order, and none counts as dropped. */
static void pushers(const char *dir)
{
	struct pusher p[PUSHERS];
	pthread_t t[PUSHERS];
	struct records *r = NULL;
	struct hearth_error *err = NULL;
	struct store *s = NULL;
	struct buf metrics = BUF_INIT(1 << 16);
	char db[256];
	int started = 0, whole = 0;

	snprintf(db, sizeof(db), "%s/pushers.db", dir);
	is_int(store_open(&s, db, &err), 0, "pushers: the store opens");
	is_int(records_new(&r, db, 100000, &err), 0, "  records start");
	if (!s || !r) {
		store_close(s);
		records_free(r);
		return;
	}
	for (int i = 0; i < PUSHERS; i++) {
		p[i] = (struct pusher){ r, i };
		started += pthread_create(&t[i], NULL, pushes, &p[i]) == 0;
	}
	is_int(started, PUSHERS, "  4 threads push 3,000 records each");
	for (int i = 0; i < 20; i++)
		is_int(records_flush(r, &err), 0, i ? "  a flush" : "  a flush meanwhile");
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < PUSHERS; i++) {
		/* a function's records, newest first: ids PUSHES-1 .. 0 */
		struct store_invocation *recs = NULL;
		size_t n = 0, seen = 0;
		bool more = true, inorder = true;
		char before[32] = "";

		while (more) {
			if (records_list(r, s, 40 + i, before[0] ? before : NULL, 100, &recs, &n,
					 &more, &err) < 0 ||
			    n == 0)
				break;
			for (size_t k = 0; k < n; k++) {
				char want[32];

				snprintf(want, sizeof(want), "p%d-%05d", i,
					 PUSHES - 1 - (int)(seen + k));
				inorder = inorder && strcmp(recs[k].id, want) == 0;
			}
			seen += n;
			snprintf(before, sizeof(before), "%s", recs[n - 1].id);
			store_invocations_free(recs, n);
		}
		whole += seen == PUSHES && inorder;
	}
	is_int(whole, PUSHERS, "  each thread's records are all kept, once each");
	is_int(records_metrics(r, &metrics, &err), 0, "  metrics");
	ok(metrics.ptr && strstr(metrics.ptr, "hearth_records_dropped_total 0\n") &&
		   strstr(metrics.ptr, "hearth_records_pending 0\n") &&
		   strstr(metrics.ptr, "hearth_records_pending_bytes 0\n"),
	   "  none dropped, none pending");
	buf_release(&metrics);
	records_free(r);
	store_close(s);
	hearth_error_free(err);
}

int main(void)
{
	char dir[] = "/tmp/hearth-test-records-XXXXXX";
	char db[256];
	struct store *s = NULL;
	struct records *r = NULL;
	struct hearth_error *err = NULL;
	struct store_invocation got = { 0 };
	struct buf metrics = BUF_INIT(1 << 16);

	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(db, sizeof(db), "%s/hearth.db", dir);
	is_int(store_open(&s, db, &err), 0, "the store opens");
	is_int(records_new(&r, db, 1000, &err), 0, "the records writer starts");
	if (!s || !r) {
		printf("Bail out! %s\n", err ? err->msg : "no store");
		return 1;
	}

	/* A timeout after a stem start: every line Lambda writes. */
	{
		char id[] = "req-timeout", logs[] = "hello\nworld", type[] = "Runtime.Timeout",
		     msg[] = "Task timed out after 3.00 seconds", payload[] = "{\"a\":1}";
		struct pool_result res = {
			.request_id = id,
			.function_id = 7,
			.revision = 2,
			.status = INVOCATION_TIMEOUT,
			.logs = { logs, sizeof(logs) - 1 },
			.error_type = { type, sizeof(type) - 1 },
			.error_message = { msg, sizeof(msg) - 1 },
			.start = POOL_START_STEM,
			.duration_ms = 3000.0004,
			.init_ms = 12.345,
			.queue_ms = 0.5,
			.max_memory_mb = 12.5,
			.memory_mb = 128,
			.timeout_s = 3,
		};
		struct records_entry *e = records_entry_new(&res, 1700000000123, payload,
							    sizeof(payload) - 1);
		char want[8192], *logs_read;

		ok(e != NULL, "an entry is made");
		/* 12.5 MB: the REPORT line rounds half up, as the record does */
		snprintf(want, sizeof(want), "%s", lambda_logs(&res, "hello\nworld"));
		ok(strstr(want, "Max Memory Used: 13 MB") != NULL, "  (13 MB expected)");
		/* the entry holds copies: the caller's bytes may go */
		memset(id, 'x', sizeof(id) - 1);
		memset(logs, 'x', sizeof(logs) - 1);
		memset(type, 'x', sizeof(type) - 1);
		memset(msg, 'x', sizeof(msg) - 1);
		memset(payload, 'x', sizeof(payload) - 1);
		records_push(r, e);
		is_int(records_flush(r, &err), 0, "flushed");
		is_int(records_get(r, s, "req-timeout", &got, &err), 0, "the record is stored");
		is_str(got.logs ? got.logs : "(null)", "hello\nworld",
		       "its logs are the function's output only");
		ok(got.memory_mb == 128 && got.timeout_s == 3 && got.ended_at >= 1700000000123,
		   "  with the memory size, timeout and end the lines need");
		logs_read = records_logs(&got);
		if (logs_read)
			untime(logs_read);
		is_str(logs_read ? logs_read : "(null)", want,
		       "read, they are the lines the loop used to write, byte for byte");
		free(logs_read);
		is_str(got.error_json ? got.error_json : "(null)",
		       "{\"type\":\"Runtime.Timeout\",\"message\":\"Task timed out after 3.00 "
		       "seconds\",\"stack\":[]}",
		       "its error is the envelope's error member");
		is_str(got.payload ? got.payload : "(null)", "{\"a\":1}", "the event is kept");
		ok(got.result == NULL, "a timeout keeps no result");
		is_str(got.status ? got.status : "", "timeout", "status");
		is_str(got.start_kind ? got.start_kind : "", "stem", "start kind");
		ok(got.function_id == 7 && got.revision == 2 && got.created_at == 1700000000123 &&
			   got.max_memory_mb == 13 && fabs(got.duration_ms - 3000.0004) < 1e-9 &&
			   fabs(got.init_ms - 12.345) < 1e-9 && fabs(got.queue_ms - 0.5) < 1e-9,
		   "the figures are stored as given (memory rounded)");
		store_invocation_clear(&got);
	}

	/* A warm success: no Init Duration, the result kept; a result over the
	 * record's cap is not. */
	{
		char result[] = "{\"ok\":true}";
		struct pool_result res = {
			.request_id = "req-ok",
			.function_id = 7,
			.revision = 2,
			.status = INVOCATION_SUCCESS,
			.result = { result, sizeof(result) - 1 },
			.start = POOL_START_WARM,
			.duration_ms = 0.0451,
			.max_memory_mb = 9.0,
			.memory_mb = 256,
			.timeout_s = 3,
		};
		char *big = malloc(INVOKE_RECORD_BODY_MAX + 2);
		char want[8192];

		snprintf(want, sizeof(want), "%s", lambda_logs(&res, ""));
		records_push(r, records_entry_new(&res, 1700000000200, NULL, 0));
		if (big) {
			memset(big, '1', INVOKE_RECORD_BODY_MAX + 1);
			big[INVOKE_RECORD_BODY_MAX + 1] = '\0';
			res.request_id = "req-big";
			res.result = (struct bytes){ big, INVOKE_RECORD_BODY_MAX + 1 };
			records_push(r, records_entry_new(&res, 1700000000300, big,
							  INVOKE_RECORD_BODY_MAX + 1));
			free(big);
		}
		is_int(records_flush(r, &err), 0, "flushed");
		is_int(records_get(r, s, "req-ok", &got, &err), 0, "the success is stored");
		ok(got.logs == NULL, "no output: no logs stored");
		{
			char *logs_read = records_logs(&got);

			is_str(logs_read ? logs_read : "(null)", want,
			       "read: START, END and REPORT, no Init Duration");
			free(logs_read);
		}
		is_str(got.result ? got.result : "(null)", "{\"ok\":true}", "the result is kept");
		ok(got.error_json == NULL && got.payload == NULL, "no error, no event");
		store_invocation_clear(&got);
		is_int(records_get(r, s, "req-big", &got, &err), 0, "the big one is stored");
		ok(got.result == NULL && got.payload == NULL,
		   "a result and an event over the record's cap are not kept");
		store_invocation_clear(&got);
	}

	/* A crash: the REPORT line names the error's type, from the record's
	 * error; output without a final newline gets one. */
	{
		char type[] = "Runtime.ExitError", msg[] = "exit status 3";
		struct pool_result res = {
			.request_id = "req-crash",
			.function_id = 7,
			.revision = 2,
			.status = INVOCATION_CRASHED,
			.logs = { "dying", 5 },
			.error_type = { type, sizeof(type) - 1 },
			.error_message = { msg, sizeof(msg) - 1 },
			.start = POOL_START_COLD,
			.duration_ms = 4.5,
			.init_ms = 100.25,
			.max_memory_mb = 20,
			.memory_mb = 512,
			.timeout_s = 30,
		};
		char want[8192], *logs_read;

		snprintf(want, sizeof(want), "%s", lambda_logs(&res, "dying"));
		logs_read = round_trip(r, s, &res, 1700000000250, &got, "the crash is stored");
		is_str(logs_read ? logs_read : "(null)", want,
		       "read: Init Duration, Status: error and the error's type");
		free(logs_read);
		store_invocation_clear(&got);
	}

	/* A crash whose error the writer cannot store (its parts escape to
	 * more than the record's 1 MiB): the lines, with the error's type,
	 * are written with the record, as before schema 6. */
	{
		size_t big = 256 * 1024;
		char *msg = malloc(big);
		struct pool_result res = {
			.request_id = "req-crash-big",
			.function_id = 7,
			.revision = 2,
			.status = INVOCATION_CRASHED,
			.error_type = { "Runtime.ExitError", 17 },
			.start = POOL_START_WARM,
			.duration_ms = 2,
			.max_memory_mb = 20,
			.memory_mb = 512,
			.timeout_s = 30,
		};
		char *logs_read;

		if (msg) {
			memset(msg, 1, big); /* each byte escapes to \u0001 */
			res.error_message = (struct bytes){ msg, big };
			res.error_stack = (struct bytes){ msg, big };
		}
		logs_read = round_trip(r, s, &res, 1700000000255, &got,
				       "a crash with an error too big to store is stored");
		free(msg);
		ok(got.error_json == NULL && got.memory_mb == 0,
		   "  without its error, the old way");
		ok(logs_read &&
			   strstr(logs_read, "\tStatus: error\tError Type: Runtime.ExitError\t\n"),
		   "  and its REPORT line still names the error's type");
		free(logs_read);
		store_invocation_clear(&got);
	}

	/* A crash whose error type is longer than the logs' room: read, the
	 * logs are what fits (START and END at least), not an error. */
	{
		size_t big = 200 * 1024;
		char *type = malloc(big);
		struct pool_result res = {
			.request_id = "req-crash-long",
			.function_id = 7,
			.revision = 2,
			.status = INVOCATION_CRASHED,
			.error_message = { "x", 1 },
			.start = POOL_START_WARM,
			.duration_ms = 2,
			.max_memory_mb = 20,
			.memory_mb = 512,
			.timeout_s = 30,
		};
		char *logs_read;

		if (type) {
			memset(type, 'T', big);
			res.error_type = (struct bytes){ type, big };
		}
		logs_read = round_trip(r, s, &res, 1700000000256, &got,
				       "a crash with a 200 KB error type is stored");
		free(type);
		ok(got.memory_mb == 512, "  its lines to be made on read");
		ok(logs_read && !strncmp(logs_read, "START RequestId: req-crash-long", 31) &&
			   strstr(logs_read, "\nEND RequestId: req-crash-long\n"),
		   "  read, its logs are what fits");
		free(logs_read);
		store_invocation_clear(&got);
	}

	/* A result without a memory size (none of the pool's has none): the
	 * lines are written with the record, as before schema 6, and read
	 * back as they are. */
	{
		struct pool_result res = {
			.request_id = "req-nomem",
			.function_id = 7,
			.revision = 2,
			.status = INVOCATION_SUCCESS,
			.logs = { "out\n", 4 },
			.result = { "1", 1 },
			.start = POOL_START_WARM,
			.duration_ms = 1,
			.timeout_s = 3,
		};
		char want[8192], *logs_read;

		snprintf(want, sizeof(want), "%s", lambda_logs(&res, "out\n"));
		logs_read = round_trip(r, s, &res, 1700000000260, &got, "it is stored");
		ok(got.memory_mb == 0, "  with no memory size");
		is_str(got.logs ? got.logs : "(null)", want, "  its logs hold the lines");
		is_str(logs_read ? logs_read : "(null)", want, "  and read back as they are");
		free(logs_read);
		store_invocation_clear(&got);
	}

	/* A record lost to out of memory is counted. */
	records_push(r, NULL);
	is_int(records_metrics(r, &metrics, &err), 0, "metrics");
	ok(strstr(metrics.ptr, "hearth_records_dropped_total 1\n") != NULL,
	   "a record lost to out of memory counts as dropped");

	buf_release(&metrics);
	records_free(r);

	/* The index is rebuilt from the batches when records start again. */
	is_int(records_new(&r, db, 1000, &err), 0, "records start again on the same store");
	is_int(records_get(r, s, "req-ok", &got, &err), 0, "  a record written before is found");
	is_str(got.result ? got.result : "(null)", "{\"ok\":true}", "  with its result");
	store_invocation_clear(&got);
	is_int(records_get(r, s, "req-nope", &got, &err), -ENOENT, "  an unknown id is -ENOENT");
	hearth_error_clear(&err);
	records_free(r);

	lists(db, s);
	retention(dir);
	packed(dir);
	pushers(dir);

	/* Retention 0: the records kept before go, none is kept from now on,
	 * and nothing counts as dropped. */
	{
		char result[] = "{\"ok\":true}";
		struct pool_result res = {
			.request_id = "req-off",
			.function_id = 7,
			.revision = 2,
			.status = INVOCATION_SUCCESS,
			.result = { result, sizeof(result) - 1 },
			.start = POOL_START_WARM,
			.memory_mb = 128,
			.timeout_s = 3,
		};

		is_int(records_new(&r, db, 1000, &err), 0, "records start");
		is_int(records_get(r, s, "req-ok", &got, &err), 0, "  before: a record is kept");
		store_invocation_clear(&got);
		records_free(r);
		is_int(count_rows(db, "SELECT count(*) FROM invocation_batches") > 0, 1,
		       "  in a batch");
		is_int(records_new(&r, db, 0, &err), 0, "records with retention 0 start");
		is_int(count_rows(db, "SELECT count(*) FROM invocation_batches"), 0,
		       "  and delete every batch");
		ok(!records_on(r), "  and say they are off");
		is_int(records_get(r, s, "req-ok", &got, &err), -ENOENT,
		       "  the records kept before are gone");
		hearth_error_clear(&err);
		records_push(r, records_entry_new(&res, 1700000000400, "{}", 2));
		records_push(r, NULL);
		is_int(records_flush(r, &err), 0, "  a flush returns at once");
		is_int(records_get(r, s, "req-off", &got, &err), -ENOENT,
		       "  a record pushed is not kept");
		hearth_error_clear(&err);
		buf_init(&metrics, 1 << 20);
		is_int(records_metrics(r, &metrics, &err), 0, "  metrics");
		ok(metrics.ptr && strstr(metrics.ptr, "hearth_records_dropped_total 0\n") != NULL,
		   "  nothing counts as dropped");
		buf_release(&metrics);
		records_free(r);
		is_int(records_new(&r, db, 1000, &err), 0, "  records kept again");
		is_int(records_get(r, s, "req-ok", &got, &err), -ENOENT,
		       "  the ones from before retention 0 did not come back");
		hearth_error_clear(&err);
		records_free(r);
	}

	store_close(s);
	hearth_error_free(err);
	testfs_remove(dir);
	return tap_done();
}
