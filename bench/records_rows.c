/* records_rows.c — what the invocation records writer spends per record
 * (issue 12: hearthd's CPU per warm call), on real SQLite files: schema
 * 6's writer, one row per record, against the batch rows of
 * src/invoke/records.c, one row per batch of records.  Records come in
 * flushes of --batch (one flush's worth: 2,000 is 100 ms at 20,000
 * calls/s) and look like a no-op call's: no output (since schema 6 no
 * Lambda lines are stored; they are made on read), a small result and
 * event, 128 MB and 3 s, ids shaped as hearthd makes them (a prefix per
 * run and a counter: invoke_new_id).
 *
 * Two setups, in alternating rounds on fresh files, CPU time (getrusage
 * RUSAGE_SELF: user + system of every thread) per record over the
 * flushes written once --retention records are stored:
 *   rows     schema 6's writer, rebuilt here with sqlite3 calls on a file
 *            of its own (its store and writer code are gone): the
 *            invocations table of schema 6 (id TEXT PRIMARY KEY, the
 *            index on (function_id, created_at, id)), WAL, synchronous
 *            NORMAL for these commits, INSERT OR IGNORE of the 17
 *            columns, --batch/16 rows a transaction (16 to 64), the CPU
 *            let go every 4 rows and between transactions, and in each
 *            transaction the rows past the bound deleted 4 at a time, 256
 *            at most (schema 6's prune statement);
 *   batches  the real module: records_new on a fresh file, then for each
 *            flush records_entry_new and records_push per record and
 *            records_flush; its writer thread formats the records into
 *            batch rows (up to 1,024 records each, one transaction each)
 *            and keeps their index in memory.
 * "batches" counts the loop's share as well: records_entry_new and
 * records_push, the copy hearthd's loop makes of every call.  Schema 6's
 * hearthd made the same copy, but "rows" writes from the bench's own
 * values and does not count it, so the ratio errs against "batches" by
 * that share, printed apart (CLOCK_THREAD_CPUTIME_ID of the thread that
 * makes the entries).
 * Besides CPU per record, the longest single transaction ("rows") and
 * flush (both) once at the bound, in wall time and, apart, the most CPU
 * one took: how long the writer holds a CPU and SQLite's write lock at a
 * stretch (wall time counts checkpoints' fsync too).  A flush is several
 * transactions, the CPU let go between ("batches": one per 1,024 records),
 * and a "batches" flush's wall time counts the writer thread's wake-up.
 * The ratio is batches / rows, measured in the same run.
 *
 * usage: records_rows [--dir DIR] [--rounds N] [--batch N] [--retention N] */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "invoke.h"
#include "log.h"
#include "pool.h"
#include "records.h"
#include "store.h"

enum setup { SETUP_ROWS, SETUP_BATCHES, SETUP__N };
static const char *const setup_name[SETUP__N] = { "rows", "batches" };

/* What records.c writes a batch row of at most (its RECORDS_BATCH_MAX),
 * and the most records it lets wait (RECORDS_MAX_PENDING): a bigger
 * flush would lose its oldest. */
#define BATCH_ROW_MAX 1024
#define PENDING_MAX 20000

/* ---- the records: a no-op call's, the same in both setups ---- */

#define REC_EPOCH_MS 1764560000000LL /* created_at of record 0 */
#define REC_PER_MS 20		     /* 20,000 calls/s */
#define REC_FUNCTIONS 3
#define REC_RESULT "{\"ok\":true}"
#define REC_PAYLOAD "{}"

/* Record n's id, as invoke_new_id makes them: a fixed prefix and a
 * counter. */
static void rec_id(char dst[INVOKE_ID_LEN], uint64_t n)
{
	invoke_id_format(0x6f1c2a3b9d4ea1b7ULL, n, dst);
}

static int64_t rec_function(uint64_t n)
{
	return 1 + (int64_t)(n % REC_FUNCTIONS);
}

static int64_t rec_created(uint64_t n)
{
	return REC_EPOCH_MS + (int64_t)(n / REC_PER_MS);
}

/* ---- measuring ---- */

static double rusage_s(int who)
{
	struct rusage u;

	getrusage(who, &u);
	return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
	       (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

/* A clock's seconds: a CPU clock's (precise, where getrusage's
 * RUSAGE_THREAD is adjusted to stay monotonic and lags over short spans)
 * or CLOCK_MONOTONIC's. */
static double clock_s(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A transaction or a flush: its wall time, and the CPU it took (the
 * thread's when it runs on the calling thread; the process's when the
 * caller only waits for the writer thread). */
struct stretch {
	clockid_t cpu_clock;
	double wall0, cpu0;
};

static void stretch_begin(struct stretch *s, clockid_t cpu_clock)
{
	s->cpu_clock = cpu_clock;
	s->cpu0 = clock_s(cpu_clock);
	s->wall0 = clock_s(CLOCK_MONOTONIC);
}

/* The longest wall time and, apart, the most CPU of a stretch (in ms),
 * once measuring. */
static void stretch_end(const struct stretch *s, bool measuring, double longest[2])
{
	double wall = (clock_s(CLOCK_MONOTONIC) - s->wall0) * 1e3,
	       cpu = (clock_s(s->cpu_clock) - s->cpu0) * 1e3;

	if (!measuring)
		return;
	if (wall > longest[0])
		longest[0] = wall;
	if (cpu > longest[1])
		longest[1] = cpu;
}

static void remove_db(const char *path)
{
	char p[PATH_MAX + 8];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

/* ---- rows: schema 6's writer ---- */

/* Schema 6's store_open and writer (git show of src/registry/store.c and
 * src/invoke/records.c before schema 7). */
#define V6_BUSY_TIMEOUT_MS 5000
#define V6_CACHE_KIB 2048
#define V6_HEAP_SOFT_LIMIT (24LL << 20)
#define V6_WAL_KEEP_BYTES (16LL << 20)
#define V6_PIECE_MIN 16
#define V6_PIECE_MAX 64
#define V6_YIELD_EVERY 4
#define V6_PRUNE_PIECE 256

/* The invocations table as migrations 1, 2, 5 and 6 left it. */
static const char v6_schema[] =
	"BEGIN IMMEDIATE;"
	"CREATE TABLE invocations ("
	"  id TEXT PRIMARY KEY,"
	"  function_id INTEGER NOT NULL,"
	"  revision INTEGER NOT NULL,"
	"  status TEXT,"
	"  start_kind TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  duration_ms REAL NOT NULL DEFAULT 0,"
	"  init_ms REAL NOT NULL DEFAULT 0,"
	"  queue_ms REAL NOT NULL DEFAULT 0,"
	"  max_memory_mb INTEGER NOT NULL DEFAULT 0,"
	"  error_json TEXT,"
	"  logs TEXT,"
	"  result TEXT,"
	"  payload TEXT,"
	"  memory_mb INTEGER,"
	"  timeout_s INTEGER,"
	"  ended_at INTEGER"
	");"
	"CREATE INDEX invocations_function_created ON invocations (function_id, created_at, id);"
	"COMMIT;";

enum v6_stmt { V6_SYNC_NORMAL, V6_BEGIN, V6_COMMIT, V6_ROLLBACK, V6_INSERT, V6_PRUNE, V6__N };

static const char *const v6_sql[V6__N] = {
	[V6_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
	[V6_BEGIN] = "BEGIN IMMEDIATE",
	[V6_COMMIT] = "COMMIT",
	[V6_ROLLBACK] = "ROLLBACK",
	[V6_INSERT] = "INSERT OR IGNORE INTO invocations (id, function_id, revision, status, "
		      "start_kind, created_at, duration_ms, init_ms, queue_ms, max_memory_mb, "
		      "error_json, memory_mb, timeout_s, ended_at, logs, result, payload) "
		      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
		      "?16, ?17)",
	[V6_PRUNE] = "DELETE FROM invocations "
		     "WHERE rowid <= min((SELECT max(rowid) FROM invocations) - ?1, "
		     "(SELECT min(rowid) FROM invocations) + ?2 - 1)",
};

struct v6 {
	sqlite3 *db;
	sqlite3_stmt *st[V6__N];
};

static int v6_fail(const struct v6 *v, const char *what)
{
	fprintf(stderr, "records_rows: %s: %s\n", what,
		v->db ? sqlite3_errmsg(v->db) : "out of memory");
	return -1;
}

/* As schema 6's stmt(): reset, bindings cleared. */
static sqlite3_stmt *v6_stmt(const struct v6 *v, enum v6_stmt k)
{
	sqlite3_stmt *st = v->st[k];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static int v6_step(const struct v6 *v, sqlite3_stmt *st, const char *what)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		v6_fail(v, what);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

static void v6_close(struct v6 *v)
{
	for (int i = 0; i < V6__N; i++)
		sqlite3_finalize(v->st[i]);
	sqlite3_close(v->db);
	memset(v, 0, sizeof(*v));
}

static int v6_open(struct v6 *v, const char *path)
{
	sqlite3_stmt *st = NULL;
	char sql[160];
	bool wal;

	memset(v, 0, sizeof(*v));
	sqlite3_soft_heap_limit64(V6_HEAP_SOFT_LIMIT);
	if (sqlite3_open_v2(path, &v->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW,
			    NULL) != SQLITE_OK)
		return v6_fail(v, path);
	sqlite3_extended_result_codes(v->db, 1);
	sqlite3_busy_timeout(v->db, V6_BUSY_TIMEOUT_MS);
	if (sqlite3_prepare_v2(v->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK)
		return v6_fail(v, "PRAGMA journal_mode");
	wal = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
	      strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	if (!wal)
		return v6_fail(v, "PRAGMA journal_mode = WAL");
	snprintf(sql, sizeof(sql),
		 "PRAGMA synchronous = FULL; PRAGMA cache_size = -%d; "
		 "PRAGMA journal_size_limit = %lld",
		 V6_CACHE_KIB, V6_WAL_KEEP_BYTES);
	if (sqlite3_exec(v->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return v6_fail(v, sql);
	if (sqlite3_exec(v->db, v6_schema, NULL, NULL, NULL) != SQLITE_OK)
		return v6_fail(v, "creating the invocations table");
	for (int i = 0; i < V6__N; i++)
		if (sqlite3_prepare_v3(v->db, v6_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &v->st[i],
				       NULL) != SQLITE_OK)
			return v6_fail(v, v6_sql[i]);
	return 0;
}

/* In the open transaction: the rows past the last keep, 4 at a time (the
 * CPU let go between), 256 at most: schema 6's prune_steps. */
static int v6_prune(const struct v6 *v, int64_t keep)
{
	for (size_t done = 0; done < V6_PRUNE_PIECE; done += V6_YIELD_EVERY) {
		sqlite3_stmt *st = v6_stmt(v, V6_PRUNE);

		sqlite3_bind_int64(st, 1, keep);
		sqlite3_bind_int64(st, 2, V6_YIELD_EVERY);
		if (v6_step(v, st, "pruning invocation records") < 0)
			return -1;
		if (sqlite3_changes(v->db) == 0)
			break;
		sched_yield();
	}
	return 0;
}

#define BIND(rc, call) ((rc) = (rc) != SQLITE_OK ? (rc) : (call))

/* Records first .. first + k - 1 in one transaction, the rows past keep
 * deleted in it: schema 6's store_invocations_insert. */
static int v6_transaction(const struct v6 *v, uint64_t first, size_t k, int64_t keep)
{
	int r = 0;

	if (v6_step(v, v6_stmt(v, V6_SYNC_NORMAL), "PRAGMA synchronous") < 0 ||
	    v6_step(v, v6_stmt(v, V6_BEGIN), "BEGIN IMMEDIATE") < 0)
		return -1;
	for (size_t i = 0; i < k && r == 0; i++) {
		uint64_t n = first + i;
		sqlite3_stmt *st = v6_stmt(v, V6_INSERT);
		char id[INVOKE_ID_LEN];
		int rc = SQLITE_OK;

		rec_id(id, n);
		BIND(rc, sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC));
		BIND(rc, sqlite3_bind_int64(st, 2, rec_function(n)));
		BIND(rc, sqlite3_bind_int64(st, 3, 1));
		BIND(rc, sqlite3_bind_text(st, 4, "success", -1, SQLITE_STATIC));
		BIND(rc, sqlite3_bind_text(st, 5, "warm", -1, SQLITE_STATIC));
		BIND(rc, sqlite3_bind_int64(st, 6, rec_created(n)));
		BIND(rc, sqlite3_bind_double(st, 7, 0.21));
		BIND(rc, sqlite3_bind_double(st, 8, 0));
		BIND(rc, sqlite3_bind_double(st, 9, 0.01));
		BIND(rc, sqlite3_bind_int64(st, 10, 9));
		BIND(rc, sqlite3_bind_null(st, 11));
		BIND(rc, sqlite3_bind_int64(st, 12, 128));
		BIND(rc, sqlite3_bind_int64(st, 13, 3));
		BIND(rc, sqlite3_bind_int64(st, 14, rec_created(n) + 1));
		BIND(rc, sqlite3_bind_null(st, 15)); /* a no-op prints nothing */
		BIND(rc, sqlite3_bind_text(st, 16, REC_RESULT, -1, SQLITE_STATIC));
		BIND(rc, sqlite3_bind_text(st, 17, REC_PAYLOAD, -1, SQLITE_STATIC));
		if (rc != SQLITE_OK)
			r = v6_fail(v, "binding an invocation record");
		else
			r = v6_step(v, st, "inserting an invocation record");
		if (r == 0 && (i + 1) % V6_YIELD_EVERY == 0 && i + 1 < k)
			sched_yield();
	}
	if (r == 0)
		r = v6_prune(v, keep);
	if (r == 0 && (r = v6_step(v, v6_stmt(v, V6_COMMIT), "COMMIT")) == 0)
		return 0;
	if (!sqlite3_get_autocommit(v->db))
		(void)v6_step(v, v6_stmt(v, V6_ROLLBACK), "ROLLBACK");
	return -1;
}

/* The rows the table holds, or < 0. */
static int64_t v6_count(const struct v6 *v)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	if (sqlite3_prepare_v2(v->db, "SELECT count(*) FROM invocations", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Schema 6's rows of a batch: --batch/16 of them a transaction. */
static size_t v6_piece_rows(size_t batch)
{
	size_t piece = batch / 16;

	return piece < V6_PIECE_MIN ? V6_PIECE_MIN : piece > V6_PIECE_MAX ? V6_PIECE_MAX : piece;
}

struct figures {
	double us;	/* CPU per record, µs */
	double loop_us; /* of which the entries made (batches) */
	double tx[2];	/* ms: the longest transaction, the most CPU of one (rows) */
	double fl[2];	/* ms: the same of a flush */
};

static int rows_round(const char *path, size_t batch, int64_t retention, struct figures *f)
{
	struct v6 v;
	size_t piece = v6_piece_rows(batch);
	uint64_t total = (uint64_t)retention * 3 / 2, written = 0, measured = 0;
	bool measuring = false;
	double t0 = 0;
	int64_t kept;
	int r = -1;

	remove_db(path);
	if (v6_open(&v, path) < 0)
		goto out;
	while (written < total) {
		struct stretch fl;

		if (written >= (uint64_t)retention && !measuring) {
			measuring = true;
			t0 = rusage_s(RUSAGE_SELF);
			measured = written;
		}
		stretch_begin(&fl, CLOCK_THREAD_CPUTIME_ID);
		/* As the writer: the CPU let go between transactions. */
		for (size_t at = 0; at < batch; at += piece) {
			struct stretch tx;

			stretch_begin(&tx, CLOCK_THREAD_CPUTIME_ID);
			if (v6_transaction(&v, written + at,
					   batch - at < piece ? batch - at : piece, retention) < 0)
				goto out;
			stretch_end(&tx, measuring, f->tx);
			sched_yield();
		}
		stretch_end(&fl, measuring, f->fl);
		written += batch;
	}
	f->us = (rusage_s(RUSAGE_SELF) - t0) * 1e6 / (double)(written - measured);
	if ((kept = v6_count(&v)) != retention)
		fprintf(stderr, "records_rows: rows: %" PRId64 " rows kept, not %" PRId64 "\n",
			kept, retention);
	r = 0;
out:
	v6_close(&v);
	remove_db(path);
	return r;
}

/* ---- batches: src/invoke/records.c ---- */

/* hearth_records_dropped_total, or < 0. */
static int64_t batches_dropped(struct records *r)
{
	struct buf b = BUF_INIT(1u << 16);
	const char *at;
	int64_t n = -1;

	if (records_metrics(r, &b, NULL) == 0 &&
	    (at = strstr(b.ptr, "\nhearth_records_dropped_total ")) != NULL)
		n = strtoll(at + strlen("\nhearth_records_dropped_total "), NULL, 10);
	buf_release(&b);
	return n;
}

/* What a reader sees at the end: the last retention records, no older. */
static void batches_check(struct records *r, const char *path, uint64_t written, int64_t retention)
{
	struct hearth_error *err = NULL;
	struct store *s = NULL;
	struct store_invocation got;
	char id[INVOKE_ID_LEN];
	uint64_t first = written - (uint64_t)retention;
	int64_t dropped = batches_dropped(r);

	if (dropped != 0)
		fprintf(stderr, "records_rows: batches: %" PRId64 " records dropped\n", dropped);
	if (store_open(&s, path, &err) < 0) {
		fprintf(stderr, "records_rows: batches: %s\n", err->msg);
		hearth_error_free(err);
		return;
	}
	rec_id(id, first);
	if (records_get(r, s, id, &got, &err) < 0)
		fprintf(stderr, "records_rows: batches: the oldest record kept: %s\n", err->msg);
	else if (got.function_id != rec_function(first) || got.created_at != rec_created(first) ||
		 !got.result || strcmp(got.result, REC_RESULT) != 0 || !got.payload ||
		 strcmp(got.payload, REC_PAYLOAD) != 0)
		fprintf(stderr, "records_rows: batches: record %s reads back changed\n", id);
	store_invocation_clear(&got);
	hearth_error_clear(&err);
	if (first > 0) {
		rec_id(id, first - 1);
		if (records_get(r, s, id, &got, &err) != -ENOENT)
			fprintf(stderr, "records_rows: batches: record %s is kept past the bound\n",
				id);
		store_invocation_clear(&got);
		hearth_error_clear(&err);
	}
	store_close(s);
}

/* The batch rows the file holds and the records in them, or < 0. */
static int batches_stored(const char *path, int64_t *rows, int64_t *recs)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int r = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT count(*), total(n) FROM invocation_batches", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		*rows = sqlite3_column_int64(st, 0);
		*recs = sqlite3_column_int64(st, 1);
		r = 0;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}

static int batches_round(const char *path, size_t batch, int64_t retention, struct figures *f)
{
	struct hearth_error *err = NULL;
	struct records *r = NULL;
	uint64_t total = (uint64_t)retention * 3 / 2, written = 0, measured = 0;
	bool measuring = false;
	double t0 = 0, loop = 0;
	int64_t rows, recs;
	int rc = -1;

	remove_db(path);
	if (records_new(&r, path, retention, &err) < 0)
		goto out;
	while (written < total) {
		double l0;
		struct stretch fl;

		if (written >= (uint64_t)retention && !measuring) {
			measuring = true;
			t0 = rusage_s(RUSAGE_SELF);
			measured = written;
		}
		l0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		for (size_t i = 0; i < batch; i++) {
			uint64_t n = written + i;
			char id[INVOKE_ID_LEN];
			struct pool_result res = {
				.request_id = id,
				.function_id = rec_function(n),
				.revision = 1,
				.status = INVOCATION_SUCCESS,
				.result = { REC_RESULT, sizeof(REC_RESULT) - 1 },
				.start = POOL_START_WARM,
				.duration_ms = 0.21,
				.queue_ms = 0.01,
				.max_memory_mb = 9,
				.memory_mb = 128,
				.timeout_s = 3,
			};

			rec_id(id, n);
			records_push(r, records_entry_new(&res, rec_created(n), REC_PAYLOAD,
							  sizeof(REC_PAYLOAD) - 1));
		}
		if (measuring)
			loop += clock_s(CLOCK_THREAD_CPUTIME_ID) - l0;
		/* This thread only waits: the CPU is the writer thread's. */
		stretch_begin(&fl, CLOCK_PROCESS_CPUTIME_ID);
		if (records_flush(r, &err) < 0)
			goto out;
		stretch_end(&fl, measuring, f->fl);
		written += batch;
	}
	f->us = (rusage_s(RUSAGE_SELF) - t0) * 1e6 / (double)(written - measured);
	f->loop_us = loop * 1e6 / (double)(written - measured);
	batches_check(r, path, written, retention);
	rc = 0;
out:
	if (err)
		fprintf(stderr, "records_rows: batches: %s\n", err->msg);
	hearth_error_free(err);
	records_free(r);
	/* Kept: the batches with a record within the bound, and one more
	 * until the next write deletes it. */
	if (rc == 0 && batches_stored(path, &rows, &recs) == 0 &&
	    recs > retention + 2 * BATCH_ROW_MAX + (int64_t)batch)
		fprintf(stderr,
			"records_rows: batches: %" PRId64 " records in %" PRId64
			" batch rows for %" PRId64 " kept\n",
			recs, rows, retention);
	remove_db(path);
	return rc;
}

/* ---- main ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return v[n / 2];
}

/* A whole number in [min, max] (all of arg), or -1. */
static long long parse_num(const char *arg, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	const char *dir = "/tmp";
	long long rounds = 3, batch = 2000, retention = 100000;
	struct figures got[SETUP__N][16];
	double us[SETUP__N][16], tx[2][16], fl[SETUP__N][2][16], loop[16];
	char path[SETUP__N][PATH_MAX];

	for (int i = 1; i + 1 < argc; i += 2) {
		const char *opt = argv[i], *val = argv[i + 1];

		if (!strcmp(opt, "--dir"))
			dir = val;
		else if (!strcmp(opt, "--rounds"))
			rounds = parse_num(val, 1, 16);
		else if (!strcmp(opt, "--batch"))
			batch = parse_num(val, 1, PENDING_MAX);
		else if (!strcmp(opt, "--retention"))
			retention = parse_num(val, 1, INT64_MAX / 2);
		else
			goto usage;
	}
	if (argc % 2 == 0)
		goto usage;
	if (rounds < 0 || batch < 0 || retention < 0) {
		fprintf(stderr, "records_rows: --rounds 1-16, --batch 1-%d, --retention >= 1\n",
			PENDING_MAX);
		return 2;
	}
	log_set_level(LOG_LVL_WARN); /* not a line per fresh database */
	for (int k = 0; k < SETUP__N; k++)
		if (snprintf(path[k], sizeof(path[k]), "%s/records-rows-%d-%s.db", dir,
			     (int)getpid(), setup_name[k]) >= (int)sizeof(path[k])) {
			fprintf(stderr, "records_rows: --dir is too long\n");
			return 2;
		}
	printf("records_rows: flushes of %lld records, %lld kept, %lld rounds; \"rows\" writes "
	       "%zu rows a transaction, \"batches\" up to %d records a batch row\n",
	       batch, retention, rounds, v6_piece_rows((size_t)batch), BATCH_ROW_MAX);
	for (int r = 0; r < rounds; r++) {
		/* Which goes first alternates: neither always finds the other's
		 * pages in the kernel's cache, nor a warmer CPU. */
		for (int j = 0; j < SETUP__N; j++) {
			int k = (j + r) % SETUP__N;
			struct figures *f = &got[k][r];

			memset(f, 0, sizeof(*f));
			if ((k == SETUP_ROWS ? rows_round : batches_round)(path[k], (size_t)batch,
									   retention, f) < 0)
				return 1;
		}
		printf("round %d:  rows %.2f µs/record (longest transaction %.1f ms, %.1f ms CPU; "
		       "flush %.1f ms, %.1f ms CPU)  batches %.2f µs/record (entries %.2f; longest "
		       "flush %.1f ms, %.1f ms CPU)\n",
		       r + 1, got[SETUP_ROWS][r].us, got[SETUP_ROWS][r].tx[0],
		       got[SETUP_ROWS][r].tx[1], got[SETUP_ROWS][r].fl[0], got[SETUP_ROWS][r].fl[1],
		       got[SETUP_BATCHES][r].us, got[SETUP_BATCHES][r].loop_us,
		       got[SETUP_BATCHES][r].fl[0], got[SETUP_BATCHES][r].fl[1]);
		fflush(stdout);
	}
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < SETUP__N; k++) {
			us[k][r] = got[k][r].us;
			for (int w = 0; w < 2; w++)
				fl[k][w][r] = got[k][r].fl[w];
		}
		for (int w = 0; w < 2; w++)
			tx[w][r] = got[SETUP_ROWS][r].tx[w];
		loop[r] = got[SETUP_BATCHES][r].loop_us;
	}
	{
		double rows = median(us[SETUP_ROWS], (int)rounds),
		       batches = median(us[SETUP_BATCHES], (int)rounds),
		       entries = median(loop, (int)rounds);
		size_t piece = v6_piece_rows((size_t)batch);
		long long brows = (batch + BATCH_ROW_MAX - 1) / BATCH_ROW_MAX;

		printf("median µs of CPU per record: rows %.2f, batches %.2f (%.2f× rows, measured "
		       "in the same run; of it the loop's entries %.2f, which \"rows\" does not "
		       "count: without them %.2f×)\n",
		       rows, batches, batches / rows, entries, (batches - entries) / rows);
		printf("median of the longest stretch once at the bound, wall / CPU: rows %.1f / "
		       "%.1f ms a transaction, %.1f / %.1f ms a flush of %lld (%zu transactions, "
		       "the CPU let go between); batches %.1f / %.1f ms a flush (%lld batch row%s)\n",
		       median(tx[0], (int)rounds), median(tx[1], (int)rounds),
		       median(fl[SETUP_ROWS][0], (int)rounds),
		       median(fl[SETUP_ROWS][1], (int)rounds), batch,
		       ((size_t)batch + piece - 1) / piece,
		       median(fl[SETUP_BATCHES][0], (int)rounds),
		       median(fl[SETUP_BATCHES][1], (int)rounds), brows,
		       brows > 1 ? "s, the CPU let go between" : "");
	}
	return 0;
usage:
	fprintf(stderr, "usage: records_rows [--dir DIR] [--rounds N (1-16)] [--batch N] "
			"[--retention N]\n");
	return 2;
}
