/* store.c — see store.h.
 *
 * Durability.  The database runs in WAL mode.  A commit appends the
 * transaction to the -wal file with write() before sqlite3_step() returns,
 * so once a reply is sent the bytes are in the kernel's page cache, which
 * outlives the process: kill -9 of hearthd loses nothing that was answered,
 * even with synchronous=NORMAL (which fsyncs only at checkpoints and never
 * leaves a torn database, since a WAL frame without its commit record is
 * ignored on recovery).  NORMAL only risks the last transactions on power
 * loss or a kernel crash.  So: the function registry (rare management
 * writes, answered 201/200/204 to a user) commits with synchronous=FULL,
 * which fsyncs the WAL at every commit and survives power loss too; the
 * invocation records (telemetry, written in batches from the event loop)
 * commit with NORMAL so an fsync never stalls the loop that serves warm
 * calls.
 *
 * Memory.  Each connection's page cache is capped (STORE_CACHE_KIB: it
 * fills as the database grows to the retention bound, then stays), and
 * the process's SQLite heap has a soft limit beyond which SQLite gives
 * cache pages back; the WAL file is cut back to STORE_WAL_KEEP_BYTES
 * after a checkpoint so a burst does not keep its size on disk. */
#include "store.h"

#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define STORE_BUSY_TIMEOUT_MS 5000
#define STORE_CACHE_KIB 2048		   /* per connection */
#define STORE_HEAP_SOFT_LIMIT (24LL << 20) /* every connection of the process */
#define STORE_WAL_KEEP_BYTES (16LL << 20)
/* Schema migrations: step i takes user_version i to i + 1.  Append only;
 * never edit a step that has shipped. */
static const char *const migrations[] = {
	/* v1: the function registry and the invocation records. */
	"CREATE TABLE functions ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT," /* ids are never reused */
	"  name TEXT NOT NULL,"
	"  language TEXT NOT NULL,"
	"  handler TEXT NOT NULL,"
	"  route TEXT,"
	"  timeout_s INTEGER NOT NULL,"
	"  memory_mb INTEGER NOT NULL,"
	"  env_json TEXT NOT NULL DEFAULT '{}',"
	"  min_warm INTEGER NOT NULL,"
	"  max_concurrency INTEGER NOT NULL,"
	"  revision INTEGER NOT NULL,"
	"  code_sha256 TEXT NOT NULL,"
	"  code_path TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  CONSTRAINT functions_name_unique UNIQUE (name),"
	"  CONSTRAINT functions_route_unique UNIQUE (route)"
	");"
	"CREATE INDEX functions_code_sha256 ON functions (code_sha256);"
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
	"  result TEXT"
	");"
	"CREATE INDEX invocations_function_created ON invocations (function_id, created_at, id);"
	"CREATE INDEX invocations_created ON invocations (created_at, id);",
	/* v2: the event a call was given (kept when small), and each
	 * function's saved test events (one JSON array, replaced whole). */
	"ALTER TABLE invocations ADD COLUMN payload TEXT;"
	"CREATE TABLE test_events ("
	"  function_id INTEGER PRIMARY KEY REFERENCES functions (id) ON DELETE CASCADE,"
	"  events_json TEXT NOT NULL"
	");",
	/* v3: what the Lambda API carries, function URLs' auth, and the
	 * asynchronous calls' retries and age. */
	"ALTER TABLE functions ADD COLUMN description TEXT;"
	"ALTER TABLE functions ADD COLUMN runtime TEXT;"
	"ALTER TABLE functions ADD COLUMN role TEXT;"
	"ALTER TABLE functions ADD COLUMN architectures TEXT NOT NULL DEFAULT '[\"x86_64\"]';"
	"ALTER TABLE functions ADD COLUMN route_auth TEXT;"
	"ALTER TABLE functions ADD COLUMN async_retries INTEGER NOT NULL DEFAULT 2;"
	"ALTER TABLE functions ADD COLUMN async_max_age_s INTEGER NOT NULL DEFAULT 21600;",
	/* v4: asynchronous calls and their attempts.  The dispatcher scans a
	 * function's queued calls by next_at and by expires_at; dead letters
	 * are listed by finished_at. */
	"CREATE TABLE async_calls ("
	"  id TEXT PRIMARY KEY,"
	"  function_id INTEGER NOT NULL REFERENCES functions (id) ON DELETE CASCADE,"
	"  status TEXT NOT NULL CHECK (status IN "
	"    ('queued', 'running', 'succeeded', 'failed', 'expired')),"
	"  payload TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  next_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  finished_at INTEGER,"
	"  tries INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  redrives INTEGER NOT NULL DEFAULT 0,"
	"  reason TEXT,"
	"  last_error TEXT"
	");"
	"CREATE INDEX async_calls_queue ON async_calls (function_id, status, next_at);"
	"CREATE INDEX async_calls_expiry ON async_calls (function_id, status, expires_at);"
	"CREATE INDEX async_calls_finished ON async_calls (function_id, status, finished_at);"
	"CREATE TABLE async_attempts ("
	"  call_id TEXT NOT NULL REFERENCES async_calls (id) ON DELETE CASCADE,"
	"  n INTEGER NOT NULL,"
	"  request_id TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  start_kind TEXT,"
	"  at INTEGER NOT NULL,"
	"  duration_ms REAL NOT NULL DEFAULT 0,"
	"  init_ms REAL NOT NULL DEFAULT 0,"
	"  queue_ms REAL NOT NULL DEFAULT 0,"
	"  max_memory_mb INTEGER NOT NULL DEFAULT 0,"
	"  error_json TEXT,"
	"  logs TEXT,"
	"  result TEXT,"
	"  PRIMARY KEY (call_id, n)"
	") WITHOUT ROWID;",
	/* v5: one index entry fewer for every record written (issue 12: the
	 * records writer's cost per call).  Records are pruned in the order
	 * they were written (rowid), and no API lists them across functions
	 * by time. */
	"DROP INDEX IF EXISTS invocations_created;",
	/* v6: a record keeps the function's own output as its logs, and
	 * what Lambda's START, END and REPORT lines around it need; the
	 * lines are made when the record is read (issue 12: 260 bytes less
	 * per call for the records writer).  Rows from before keep their
	 * lines in logs and NULL here. */
	"ALTER TABLE invocations ADD COLUMN memory_mb INTEGER;"
	"ALTER TABLE invocations ADD COLUMN timeout_s INTEGER;"
	"ALTER TABLE invocations ADD COLUMN ended_at INTEGER;",
	/* v7: invocation records in batches, one row per batch the records
	 * writer wrote (issue 12: a b-tree row and two index entries per call
	 * cost the writer ~8 µs; a batch's row costs it well under 1 µs a
	 * record).  Each row holds its records' heads (fixed size) and
	 * bodies, in the layout src/invoke/records.c owns; records are found
	 * through an index it keeps in memory.  The rows from before wait in
	 * invocations_v6 until records.c has moved them into batches (then
	 * the table goes). */
	"ALTER TABLE invocations RENAME TO invocations_v6;"
	"CREATE TABLE invocation_batches ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT," /* never reused */
	"  n INTEGER NOT NULL,"
	"  heads BLOB NOT NULL,"
	"  bodies BLOB NOT NULL"
	");",
	/* v8: no table changes.  A record's logs, result and event may be
	 * kept LZ4-packed in its batch (src/invoke/records.c), which a
	 * hearthd of schema 7 would read as the bytes themselves; at 8 it
	 * refuses the store instead ("newer than this hearthd knows"). */
	"SELECT 1;",
};
#define STORE_SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

#define FN_COLUMNS \
	"id, name, language, handler, route, timeout_s, memory_mb, env_json, min_warm, " \
	"max_concurrency, revision, code_sha256, code_path, created_at, updated_at, " \
	"description, runtime, role, architectures, route_auth, async_retries, async_max_age_s"
#define INV_COLUMNS \
	"id, function_id, revision, status, start_kind, created_at, duration_ms, init_ms, " \
	"queue_ms, max_memory_mb, error_json, memory_mb, timeout_s, ended_at"

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SYNC_FULL,
	ST_SYNC_NORMAL,
	ST_FN_INSERT,
	ST_FN_GET,
	ST_FN_LIST,
	ST_FN_UPDATE,
	ST_FN_DELETE,
	ST_FN_NAME_TAKEN,
	ST_FN_ROUTE_TAKEN,
	ST_FN_CODE_IN_USE,
	ST_BATCH_INSERT,
	ST_BATCH_DROP,
	ST_BATCH_EACH,
	ST_TE_GET,
	ST_TE_PUT,
	ST_AQ_INSERT,
	ST_AQ_DUE,
	ST_AQ_PAYLOAD,
	ST_AQ_SET_RUNNING,
	ST_AQ_REQUEUE,
	ST_AQ_ATTEMPTS_OF,
	ST_AQ_ATT_INSERT,
	ST_AQ_FINISH,
	ST_AQ_EXPIRE,
	ST_AQ_RECOVER,
	ST_AQ_COUNT_QUEUED,
	ST_AQ_COUNT_OTHER,
	ST_AQ_GET,
	ST_AQ_ATTEMPTS,
	ST_AQ_DEAD,
	ST_AQ_DEAD_BEFORE,
	ST_AQ_REDRIVE,
	ST_AQ_STATUS_OF,
	ST_AQ_REDRIVE_ALL,
	ST_AQ_PRUNE_OK,
	ST_AQ_PRUNE_DEAD,
	ST__COUNT
};

#define AQ_COLUMNS \
	"id, function_id, status, created_at, next_at, expires_at, finished_at, tries, " \
	"attempts, redrives, reason, last_error"
#define AQ_DEAD "status IN ('failed', 'expired')"
/* A redrive: queued again now, with fresh tries and a fresh age. */
#define AQ_REDRIVE_SET \
	"SET status = 'queued', tries = 0, redrives = redrives + 1, next_at = ?3, " \
	"expires_at = ?4, finished_at = NULL, reason = NULL "

static const char *const stmt_sql[ST__COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SYNC_FULL] = "PRAGMA synchronous = FULL",
	[ST_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
	[ST_FN_INSERT] =
		"INSERT INTO functions (name, language, handler, route, timeout_s, "
		"memory_mb, env_json, min_warm, max_concurrency, revision, code_sha256, "
		"code_path, created_at, updated_at, description, runtime, role, "
		"architectures, route_auth, async_retries, async_max_age_s) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
		"?16, ?17, ?18, ?19, ?20, ?21)",
	[ST_FN_GET] = "SELECT " FN_COLUMNS " FROM functions WHERE id = ?1",
	[ST_FN_LIST] = "SELECT " FN_COLUMNS " FROM functions ORDER BY id",
	[ST_FN_UPDATE] =
		"UPDATE functions SET name = ?1, language = ?2, handler = ?3, route = ?4, "
		"timeout_s = ?5, memory_mb = ?6, env_json = ?7, min_warm = ?8, "
		"max_concurrency = ?9, revision = ?10, code_sha256 = ?11, code_path = ?12, "
		"created_at = ?13, updated_at = ?14, description = ?15, runtime = ?16, "
		"role = ?17, architectures = ?18, route_auth = ?19, async_retries = ?20, "
		"async_max_age_s = ?21 WHERE id = ?22",
	[ST_FN_DELETE] = "DELETE FROM functions WHERE id = ?1",
	[ST_FN_NAME_TAKEN] = "SELECT 1 FROM functions WHERE name = ?1 AND id != ?2",
	[ST_FN_ROUTE_TAKEN] = "SELECT 1 FROM functions WHERE route = ?1 AND id != ?2",
	[ST_FN_CODE_IN_USE] = "SELECT 1 FROM functions WHERE code_sha256 = ?1 LIMIT 1",
	[ST_BATCH_INSERT] = "INSERT INTO invocation_batches (n, heads, bodies) VALUES (?1, ?2, ?3)",
	[ST_BATCH_DROP] = "DELETE FROM invocation_batches WHERE id <= ?1",
	[ST_BATCH_EACH] = "SELECT id, n, heads FROM invocation_batches ORDER BY id",
	[ST_TE_GET] = "SELECT events_json FROM test_events WHERE function_id = ?1",
	[ST_TE_PUT] = "INSERT INTO test_events (function_id, events_json) VALUES (?1, ?2) "
		      "ON CONFLICT (function_id) DO UPDATE SET events_json = excluded.events_json",
	[ST_AQ_INSERT] = "INSERT INTO async_calls (id, function_id, status, payload, created_at, "
			 "next_at, expires_at) VALUES (?1, ?2, 'queued', ?3, ?4, ?5, ?6)",
	[ST_AQ_DUE] =
		"SELECT id, next_at, expires_at, tries FROM async_calls "
		"WHERE function_id = ?1 AND status = 'queued' ORDER BY next_at, rowid LIMIT ?2",
	[ST_AQ_PAYLOAD] = "SELECT payload FROM async_calls WHERE id = ?1 AND status = 'queued'",
	[ST_AQ_SET_RUNNING] = "UPDATE async_calls SET status = 'running' WHERE id = ?1",
	[ST_AQ_REQUEUE] = "UPDATE async_calls SET status = 'queued', next_at = ?2 "
			  "WHERE id = ?1 AND status = 'running'",
	[ST_AQ_ATTEMPTS_OF] = "SELECT attempts FROM async_calls WHERE id = ?1 AND status = "
			      "'running'",
	[ST_AQ_ATT_INSERT] = "INSERT INTO async_attempts (call_id, n, request_id, status, "
			     "start_kind, at, duration_ms, init_ms, queue_ms, max_memory_mb, "
			     "error_json, logs, result) "
			     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[ST_AQ_FINISH] = "UPDATE async_calls SET status = ?2, next_at = coalesce(?3, next_at), "
			 "reason = ?4, finished_at = ?5, last_error = ?6, "
			 "attempts = attempts + 1, tries = tries + 1 "
			 "WHERE id = ?1 AND status = 'running'",
	[ST_AQ_EXPIRE] = "UPDATE async_calls SET status = 'expired', reason = 'expired', "
			 "finished_at = ?2 "
			 "WHERE function_id = ?1 AND status = 'queued' AND expires_at <= ?2",
	[ST_AQ_RECOVER] = "UPDATE async_calls SET status = 'queued' WHERE status = 'running'",
	[ST_AQ_COUNT_QUEUED] = "SELECT count(*), min(next_at), min(expires_at) FROM async_calls "
			       "WHERE function_id = ?1 AND status = 'queued'",
	[ST_AQ_COUNT_OTHER] =
		"SELECT count(*) FILTER (WHERE status = 'running'), "
		"count(*) FILTER (WHERE " AQ_DEAD ") FROM async_calls "
		"WHERE function_id = ?1 AND status IN ('running', 'failed', 'expired')",
	[ST_AQ_GET] = "SELECT " AQ_COLUMNS ", payload FROM async_calls WHERE id = ?1",
	[ST_AQ_ATTEMPTS] = "SELECT n, request_id, status, start_kind, at, duration_ms, init_ms, "
			   "queue_ms, max_memory_mb, error_json, logs, result "
			   "FROM async_attempts WHERE call_id = ?1 ORDER BY n",
	[ST_AQ_DEAD] = "SELECT " AQ_COLUMNS " FROM async_calls WHERE function_id = ?1 AND " AQ_DEAD
		       " ORDER BY finished_at DESC, id DESC LIMIT ?2",
	[ST_AQ_DEAD_BEFORE] = "SELECT " AQ_COLUMNS
			      " FROM async_calls WHERE function_id = ?1 AND " AQ_DEAD
			      " AND (finished_at, id) < (?3, ?4) "
			      "ORDER BY finished_at DESC, id DESC LIMIT ?2",
	[ST_AQ_REDRIVE] = "UPDATE async_calls " AQ_REDRIVE_SET
			  "WHERE function_id = ?1 AND id = ?2 AND " AQ_DEAD,
	[ST_AQ_STATUS_OF] = "SELECT status FROM async_calls WHERE function_id = ?1 AND id = ?2",
	[ST_AQ_REDRIVE_ALL] =
		"UPDATE async_calls " AQ_REDRIVE_SET
		"WHERE rowid IN (SELECT rowid FROM async_calls WHERE function_id = ?1 "
		"AND " AQ_DEAD " ORDER BY finished_at, rowid LIMIT ?2)",
	[ST_AQ_PRUNE_OK] = "DELETE FROM async_calls WHERE rowid IN (SELECT rowid FROM async_calls "
			   "WHERE function_id = ?1 AND status = 'succeeded' "
			   "ORDER BY finished_at DESC LIMIT -1 OFFSET ?2)",
	[ST_AQ_PRUNE_DEAD] = "DELETE FROM async_calls WHERE rowid IN (SELECT rowid FROM "
			     "async_calls WHERE function_id = ?1 AND " AQ_DEAD
			     " ORDER BY finished_at DESC LIMIT -1 OFFSET ?2)",
};

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[ST__COUNT];
	void (*on_busy)(void *arg); /* store_on_busy's */
	void *on_busy_arg;
};

/* The errno-like status of a SQLite result code. */
static int status_of(struct store *s, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return EBUSY;
	case SQLITE_NOMEM: return ENOMEM;
	case SQLITE_FULL: return ENOSPC;
	case SQLITE_IOERR:
		/* A write the disk had no room for can also come back as an
		 * I/O error (the WAL index, a sync): the system errno says. */
		return s->db && sqlite3_system_errno(s->db) == ENOSPC ? ENOSPC : EIO;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH: return EACCES;
	case SQLITE_TOOBIG: return E2BIG;
	case SQLITE_CONSTRAINT: return EEXIST;
	default: return EIO;
	}
}

static int db_error(struct store *s, struct hearth_error **err, int rc, const char *what)
{
	return hearth_error_make(err, status_of(s, rc), "%s: %s (sqlite %d)", what,
				 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), rc);
}

/* A kept statement, reset and with bindings cleared, ready to bind. */
static sqlite3_stmt *stmt(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* Runs a statement that returns no rows (or whose rows we ignore). */
static int step_done(struct store *s, sqlite3_stmt *st, struct hearth_error **err, const char *what)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		int r = db_error(s, err, sqlite3_extended_errcode(s->db), what);

		sqlite3_reset(st);
		return r;
	}
	sqlite3_reset(st);
	return 0;
}

static int exec_sql(struct store *s, const char *sql, struct hearth_error **err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		int r = hearth_error_make(err, status_of(s, rc), "%s: %s", sql,
					  msg ? msg : sqlite3_errstr(rc));

		sqlite3_free(msg);
		return r;
	}
	return 0;
}

/* durable: commit with synchronous=FULL (see the top of the file). */
static int tx_begin(struct store *s, int durable, struct hearth_error **err)
{
	int r = step_done(s, stmt(s, durable ? ST_SYNC_FULL : ST_SYNC_NORMAL), err,
			  "set synchronous");

	if (r < 0)
		return r;
	return step_done(s, stmt(s, ST_BEGIN), err, "BEGIN IMMEDIATE");
}

static int tx_commit(struct store *s, struct hearth_error **err)
{
	return step_done(s, stmt(s, ST_COMMIT), err, "COMMIT");
}

/* Safe to call whether or not a transaction is open (a failed COMMIT may
 * have rolled back already). */
static void tx_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		step_done(s, stmt(s, ST_ROLLBACK), NULL, "ROLLBACK");
}

/* Ends a write transaction: commits when the work went well (r >= 0), else
 * rolls back; returns r, or the commit's failure. */
static int tx_end(struct store *s, int r, struct hearth_error **err)
{
	if (r >= 0 && (r = tx_commit(s, err)) >= 0)
		return 0;
	tx_rollback(s);
	return r;
}

static int pragma_int(struct store *s, const char *sql, int64_t *out, struct hearth_error **err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(s, err, rc, sql);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		int r = db_error(s, err, rc, sql);

		sqlite3_finalize(st);
		return r;
	}
	*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int set_wal(struct store *s, struct hearth_error **err)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_error(s, err, rc, "PRAGMA journal_mode");
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = db_error(s, err, rc, "PRAGMA journal_mode = WAL");
		goto out;
	}
	/* The pragma answers with the mode in force, which is not WAL on
	 * file systems without shared memory or for in-memory databases. */
	mode = sqlite3_column_text(st, 0);
	if (!mode || strcmp((const char *)mode, "wal") != 0)
		r = hearth_error_make(err, EIO, "journal_mode is '%s', WAL could not be enabled",
				      mode ? (const char *)mode : "?");
out:
	sqlite3_finalize(st);
	return r;
}

static int migrate(struct store *s, struct hearth_error **err)
{
	int64_t v;
	char sql[64];
	int r;

	r = pragma_int(s, "PRAGMA user_version", &v, err);
	if (r < 0)
		return r;
	if (v > STORE_SCHEMA_VERSION)
		return hearth_error_make(err, EPROTO,
					 "schema version %" PRId64 " is newer than this hearthd "
					 "knows (%d); use a newer hearthd",
					 v, STORE_SCHEMA_VERSION);
	if (v == STORE_SCHEMA_VERSION)
		return 0;

	r = exec_sql(s, "BEGIN IMMEDIATE", err);
	if (r < 0)
		return r;
	/* Read again under the write lock: another process may have migrated
	 * between our read and BEGIN. */
	r = pragma_int(s, "PRAGMA user_version", &v, err);
	if (r < 0)
		goto fail;
	if (v < 0 || v > STORE_SCHEMA_VERSION) {
		r = hearth_error_make(err, EPROTO, "schema version %" PRId64 " is unknown", v);
		goto fail;
	}
	for (int64_t i = v; i < STORE_SCHEMA_VERSION; i++) {
		r = exec_sql(s, migrations[i], err);
		if (r < 0) {
			hearth_error_wrap(err, "migrating schema to version %" PRId64, i + 1);
			goto fail;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
	r = exec_sql(s, sql, err);
	if (r < 0)
		goto fail;
	r = exec_sql(s, "COMMIT", err);
	if (r < 0)
		goto fail;
	log_info("store: %s migrated from schema %" PRId64 " to %d", s->path, v,
		 STORE_SCHEMA_VERSION);
	return 0;
fail:
	if (!sqlite3_get_autocommit(s->db))
		exec_sql(s, "ROLLBACK", NULL);
	return r;
}

/* SQLite's own busy timeout (sqlite3_busy_timeout: sleeps of 1, 2, 5 ...
 * 100 ms, to STORE_BUSY_TIMEOUT_MS in all), with the hook called when a
 * statement first finds the database locked. */
static int on_busy(void *arg, int count)
{
	static const int delays[] = { 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 };
	static const int totals[] = { 0, 1, 3, 8, 18, 33, 53, 78, 103, 128, 178, 228 };
	const int last = (int)(sizeof(delays) / sizeof(delays[0])) - 1;
	struct store *s = arg;
	int delay, prior;

	if (count == 0 && s->on_busy)
		s->on_busy(s->on_busy_arg);
	if (count <= last) {
		delay = delays[count];
		prior = totals[count];
	} else {
		delay = delays[last];
		prior = totals[last] + delay * (count - last);
	}
	if (prior + delay > STORE_BUSY_TIMEOUT_MS) {
		delay = STORE_BUSY_TIMEOUT_MS - prior;
		if (delay <= 0)
			return 0;
	}
	sqlite3_sleep(delay);
	return 1;
}

void store_on_busy(struct store *s, void (*fn)(void *arg), void *arg)
{
	s->on_busy = fn;
	s->on_busy_arg = arg;
}

int store_open(struct store **out, const char *db_path, struct hearth_error **err)
{
	struct store *s;
	char sql[128];
	int64_t v;
	int rc, r;

	/* Process-wide and idempotent: every connection shares it. */
	sqlite3_soft_heap_limit64(STORE_HEAP_SOFT_LIMIT);
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(db_path))) {
		free(s);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	rc = sqlite3_open_v2(db_path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW,
			     NULL);
	if (rc != SQLITE_OK) {
		r = db_error(s, err, rc, db_path);
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	rc = sqlite3_busy_handler(s->db, on_busy, s);
	if (rc != SQLITE_OK) {
		r = db_error(s, err, rc, "busy_handler");
		goto fail;
	}
	r = set_wal(s, err);
	if (r < 0)
		goto fail;
	r = exec_sql(s, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", err);
	if (r < 0)
		goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d; PRAGMA journal_size_limit = %lld",
		 STORE_CACHE_KIB, STORE_WAL_KEEP_BYTES);
	r = exec_sql(s, sql, err);
	if (r < 0)
		goto fail;
	r = pragma_int(s, "PRAGMA foreign_keys", &v, err);
	if (r < 0)
		goto fail;
	if (v != 1) {
		r = hearth_error_make(err, EIO, "foreign_keys could not be enabled");
		goto fail;
	}
	r = migrate(s, err);
	if (r < 0)
		goto fail;
	for (int i = 0; i < ST__COUNT; i++) {
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&s->st[i], NULL);
		if (rc != SQLITE_OK) {
			r = db_error(s, err, rc, stmt_sql[i]);
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	hearth_error_wrap(err, "opening the store %s", db_path);
	store_close(s);
	return r;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db && sqlite3_close(s->db) != SQLITE_OK)
		log_error("store: closing %s: %s", s->path, sqlite3_errmsg(s->db));
	free(s->path);
	free(s);
}

/* ---- functions ---- */

static int bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static int fn_check(const struct fn *f, struct hearth_error **err)
{
	if (!f->name || !f->language || !f->handler)
		return hearth_error_make(err, EINVAL,
					 "a function needs a name, a language and a handler");
	if (strlen(f->code_sha256) != 64)
		return hearth_error_make(err, EINVAL, "function '%s' has no code_sha256", f->name);
	return 0;
}

/* Binds in order; rc keeps the first failure, and the binds after it are
 * skipped. */
#define BIND(rc, call) ((rc) = (rc) != SQLITE_OK ? (rc) : (call))

/* Binds ?1..?21 (every field but id) in the order both INSERT and UPDATE use. */
static int fn_bind(struct store *s, sqlite3_stmt *st, const struct fn *f, struct hearth_error **err)
{
	int rc = SQLITE_OK;

	BIND(rc, sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC));
	BIND(rc, sqlite3_bind_text(st, 2, f->language, -1, SQLITE_STATIC));
	BIND(rc, sqlite3_bind_text(st, 3, f->handler, -1, SQLITE_STATIC));
	BIND(rc, bind_text_or_null(st, 4, f->route));
	BIND(rc, sqlite3_bind_int(st, 5, f->timeout_s));
	BIND(rc, sqlite3_bind_int(st, 6, f->memory_mb));
	BIND(rc, sqlite3_bind_text(st, 7, f->env_json ? f->env_json : "{}", -1, SQLITE_STATIC));
	BIND(rc, sqlite3_bind_int(st, 8, f->min_warm));
	BIND(rc, sqlite3_bind_int(st, 9, f->max_concurrency));
	BIND(rc, sqlite3_bind_int64(st, 10, f->revision));
	BIND(rc, sqlite3_bind_text(st, 11, f->code_sha256, -1, SQLITE_STATIC));
	BIND(rc, bind_text_or_null(st, 12, f->code_path));
	BIND(rc, sqlite3_bind_int64(st, 13, f->created_at));
	BIND(rc, sqlite3_bind_int64(st, 14, f->updated_at));
	BIND(rc, bind_text_or_null(st, 15, f->description));
	BIND(rc, bind_text_or_null(st, 16, f->runtime));
	BIND(rc, bind_text_or_null(st, 17, f->role));
	BIND(rc, sqlite3_bind_text(st, 18,
				   f->architectures_json ? f->architectures_json : "[\"x86_64\"]",
				   -1, SQLITE_STATIC));
	BIND(rc, bind_text_or_null(st, 19, f->route_auth));
	BIND(rc, sqlite3_bind_int(st, 20, f->async_retries));
	BIND(rc, sqlite3_bind_int(st, 21, f->async_max_age_s));
	if (rc != SQLITE_OK)
		return db_error(s, err, sqlite3_errcode(s->db), "binding a function");
	return 0;
}

static char *col_strdup(sqlite3_stmt *st, int i, int *oom)
{
	const unsigned char *v = sqlite3_column_text(st, i);
	char *d;

	if (!v) {
		if (sqlite3_column_type(st, i) != SQLITE_NULL)
			*oom = 1;
		return NULL;
	}
	d = strdup((const char *)v);
	if (!d)
		*oom = 1;
	return d;
}

static int fn_from_row(sqlite3_stmt *st, struct fn **out, struct hearth_error **err)
{
	struct fn *f = fn_new();
	const unsigned char *sha;
	int oom = 0;

	if (!f)
		return hearth_error_make(err, ENOMEM, "out of memory");
	f->id = sqlite3_column_int64(st, 0);
	free(f->name);
	f->name = col_strdup(st, 1, &oom);
	free(f->language);
	f->language = col_strdup(st, 2, &oom);
	free(f->handler);
	f->handler = col_strdup(st, 3, &oom);
	free(f->route);
	f->route = col_strdup(st, 4, &oom);
	f->timeout_s = sqlite3_column_int(st, 5);
	f->memory_mb = sqlite3_column_int(st, 6);
	free(f->env_json);
	f->env_json = col_strdup(st, 7, &oom);
	f->min_warm = sqlite3_column_int(st, 8);
	f->max_concurrency = sqlite3_column_int(st, 9);
	f->revision = sqlite3_column_int64(st, 10);
	sha = sqlite3_column_text(st, 11);
	snprintf(f->code_sha256, sizeof(f->code_sha256), "%s", sha ? (const char *)sha : "");
	free(f->code_path);
	f->code_path = col_strdup(st, 12, &oom);
	f->created_at = sqlite3_column_int64(st, 13);
	f->updated_at = sqlite3_column_int64(st, 14);
	f->description = col_strdup(st, 15, &oom);
	f->runtime = col_strdup(st, 16, &oom);
	f->role = col_strdup(st, 17, &oom);
	free(f->architectures_json);
	f->architectures_json = col_strdup(st, 18, &oom);
	f->route_auth = col_strdup(st, 19, &oom);
	f->async_retries = sqlite3_column_int(st, 20);
	f->async_max_age_s = sqlite3_column_int(st, 21);
	if (oom) {
		fn_free(f);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	*out = f;
	return 0;
}

/* 1 when the query (text ?1, id ?2) finds a row, 0 when not. */
static int taken(struct store *s, enum stmt_id id, const char *v, int64_t self,
		 struct hearth_error **err)
{
	sqlite3_stmt *st = stmt(s, id);
	int rc;

	sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, self);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_error(s, err, rc, "checking for a clash");
}

/* Inside the write transaction, so nothing can slip in between the check
 * and the write.  The UNIQUE constraints stay as the last line of defence. */
static int check_clash(struct store *s, const struct fn *f, int64_t self, struct hearth_error **err)
{
	int r = taken(s, ST_FN_NAME_TAKEN, f->name, self, err);

	if (r < 0)
		return r;
	if (r)
		return hearth_error_make(err, EEXIST, "name '%s' is taken", f->name);
	if (!f->route)
		return 0;
	r = taken(s, ST_FN_ROUTE_TAKEN, f->route, self, err);
	if (r < 0)
		return r;
	if (r)
		return hearth_error_make(err, EEXIST, "route '%s' is taken", f->route);
	return 0;
}

/* A UNIQUE failure that got past check_clash: name the column from the
 * message ("UNIQUE constraint failed: functions.route"). */
static int constraint_error(struct store *s, const struct fn *f, struct hearth_error **err,
			    const char *what)
{
	int rc = sqlite3_extended_errcode(s->db);
	const char *msg = sqlite3_errmsg(s->db);

	if (rc == SQLITE_CONSTRAINT_UNIQUE && strstr(msg, "functions.route"))
		return hearth_error_make(err, EEXIST, "route '%s' is taken",
					 f->route ? f->route : "");
	if (rc == SQLITE_CONSTRAINT_UNIQUE && strstr(msg, "functions.name"))
		return hearth_error_make(err, EEXIST, "name '%s' is taken", f->name);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return hearth_error_make(err, EINVAL, "%s: %s", what, msg);
	return db_error(s, err, rc, what);
}

/* The INSERT (f->id 0) or UPDATE of one function row, in a durable
 * transaction with its clash check. */
static int fn_write(struct store *s, struct fn *f, struct hearth_error **err)
{
	bool update = f->id != 0;
	sqlite3_stmt *st;
	int r;

	if ((r = fn_check(f, err)) < 0 || (r = tx_begin(s, 1, err)) < 0)
		return r;
	if ((r = check_clash(s, f, f->id, err)) < 0)
		goto out;
	st = stmt(s, update ? ST_FN_UPDATE : ST_FN_INSERT);
	if ((r = fn_bind(s, st, f, err)) < 0)
		goto out;
	if (update)
		sqlite3_bind_int64(st, 22, f->id);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = constraint_error(s, f, err,
				     update ? "updating a function" : "inserting a function");
	sqlite3_reset(st);
	if (r >= 0 && update && sqlite3_changes(s->db) == 0)
		r = hearth_error_make(err, ENOENT, "no function %" PRId64, f->id);
	if (r >= 0 && !update)
		f->id = sqlite3_last_insert_rowid(s->db);
out:
	r = tx_end(s, r, err);
	if (r < 0 && !update)
		f->id = 0;
	return r;
}

int store_function_create(struct store *s, struct fn *f, struct hearth_error **err)
{
	f->id = 0;
	return fn_write(s, f, err);
}

int store_function_get(struct store *s, int64_t id, struct fn **out, struct hearth_error **err)
{
	sqlite3_stmt *st = stmt(s, ST_FN_GET);
	int rc, r;

	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = fn_from_row(st, out, err);
	else if (rc == SQLITE_DONE)
		r = hearth_error_make(err, ENOENT, "no function %" PRId64, id);
	else
		r = db_error(s, err, rc, "reading a function");
	sqlite3_reset(st);
	return r;
}

int store_function_list(struct store *s, struct fn ***out, size_t *n, struct hearth_error **err)
{
	sqlite3_stmt *st = stmt(s, ST_FN_LIST);
	struct fn **list = NULL, **tmp;
	size_t len = 0, cap = 0;
	int rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			tmp = realloc(list, cap * sizeof(*list));
			if (!tmp) {
				r = hearth_error_make(err, ENOMEM, "out of memory");
				goto fail;
			}
			list = tmp;
		}
		r = fn_from_row(st, &list[len], err);
		if (r < 0)
			goto fail;
		len++;
	}
	if (rc != SQLITE_DONE) {
		r = db_error(s, err, rc, "listing functions");
		goto fail;
	}
	sqlite3_reset(st);
	*out = list;
	*n = len;
	return 0;
fail:
	sqlite3_reset(st);
	store_function_list_free(list, len);
	return r;
}

void store_function_list_free(struct fn **list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++)
		fn_free(list[i]);
	free(list);
}

int store_function_update(struct store *s, const struct fn *f, struct hearth_error **err)
{
	struct fn copy = *f; /* fn_write writes the id back on inserts only */

	if (f->id <= 0)
		return hearth_error_make(err, ENOENT, "no function %" PRId64, f->id);
	return fn_write(s, &copy, err);
}

int store_function_delete(struct store *s, int64_t id, struct hearth_error **err)
{
	sqlite3_stmt *st;
	int r;

	if ((r = tx_begin(s, 1, err)) < 0)
		return r;
	st = stmt(s, ST_FN_DELETE);
	sqlite3_bind_int64(st, 1, id);
	if ((r = step_done(s, st, err, "deleting a function")) < 0)
		goto out;
	if (sqlite3_changes(s->db) == 0)
		r = hearth_error_make(err, ENOENT, "no function %" PRId64, id);
out:
	return tx_end(s, r, err);
}

int store_code_in_use(struct store *s, const char *sha256, struct hearth_error **err)
{
	sqlite3_stmt *st = stmt(s, ST_FN_CODE_IN_USE);
	int rc;

	sqlite3_bind_text(st, 1, sha256, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_error(s, err, rc, "checking code references");
}

/* ---- invocations ---- */

void store_invocation_clear(struct store_invocation *r)
{
	if (!r)
		return;
	free(r->id);
	free(r->status);
	free(r->start_kind);
	free(r->error_json);
	free(r->logs);
	free(r->result);
	free(r->payload);
	memset(r, 0, sizeof(*r));
}

void store_invocations_free(struct store_invocation *recs, size_t n)
{
	if (!recs)
		return;
	for (size_t i = 0; i < n; i++)
		store_invocation_clear(&recs[i]);
	free(recs);
}

int store_batch_write(struct store *s, const struct store_batch *b, int64_t *rowid,
		      struct hearth_error **err)
{
	sqlite3_stmt *st;
	int r;

	if (rowid)
		*rowid = 0;
	if ((b->n > 0 && (!b->heads || !b->bodies)) || b->n < 0)
		return hearth_error_make(err, EINVAL, "a batch of %" PRId64 " records without them",
					 b->n);
	if (b->n == 0 && b->drop_through <= 0 && b->legacy_through <= 0)
		return 0;
	if ((r = tx_begin(s, 0, err)) < 0)
		return r;
	if (b->drop_through > 0) {
		st = stmt(s, ST_BATCH_DROP);
		sqlite3_bind_int64(st, 1, b->drop_through);
		if ((r = step_done(s, st, err, "deleting old invocation records")) < 0)
			goto out;
	}
	if (b->legacy_through > 0) {
		char sql[96];

		snprintf(sql, sizeof(sql), "DELETE FROM invocations_v6 WHERE rowid <= %" PRId64,
			 b->legacy_through);
		if ((r = exec_sql(s, sql, err)) < 0)
			goto out;
	}
	if (b->n > 0) {
		int rc = SQLITE_OK;

		st = stmt(s, ST_BATCH_INSERT);
		BIND(rc, sqlite3_bind_int64(st, 1, b->n));
		BIND(rc, sqlite3_bind_blob64(st, 2, b->heads, b->heads_len, SQLITE_STATIC));
		BIND(rc, sqlite3_bind_blob64(st, 3, b->bodies, b->bodies_len, SQLITE_STATIC));
		if (rc != SQLITE_OK) {
			r = db_error(s, err, rc, "binding a batch of invocation records");
			goto out;
		}
		if ((r = step_done(s, st, err, "writing a batch of invocation records")) < 0)
			goto out;
		if (rowid)
			*rowid = sqlite3_last_insert_rowid(s->db);
	}
out:
	r = tx_end(s, r, err);
	if (r < 0 && rowid)
		*rowid = 0;
	return r;
}

int store_batches_each(struct store *s, store_batch_fn fn, void *arg, struct hearth_error **err)
{
	sqlite3_stmt *st = stmt(s, ST_BATCH_EACH);
	int rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const void *heads = sqlite3_column_blob(st, 2);
		size_t len = (size_t)sqlite3_column_bytes(st, 2);

		if (!heads && len > 0) {
			r = hearth_error_make(err, ENOMEM, "out of memory");
			break;
		}
		if ((r = fn(arg, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), heads,
			    len, err)) < 0)
			break;
		r = 0;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(s, err, rc, "reading the invocation batches");
	sqlite3_reset(st);
	return r;
}

int store_batch_read(struct store *s, int64_t rowid, enum store_batch_part part, size_t off,
		     void *dst, size_t len, struct hearth_error **err)
{
	sqlite3_blob *blob = NULL;
	int rc;

	if (off > INT_MAX || len > (size_t)INT_MAX - off)
		return hearth_error_make(err, ERANGE, "batch %" PRId64 ": bytes past its end",
					 rowid);
	rc = sqlite3_blob_open(s->db, "main", "invocation_batches",
			       part == STORE_BATCH_HEADS ? "heads" : "bodies", rowid, 0, &blob);
	if (rc != SQLITE_OK) {
		/* No such row: deleted since (retention).  SQLITE_ERROR also
		 * comes of a schema that could not be read: told apart by
		 * its message, which sqlite3_blob_open sets for a row. */
		int r = rc == SQLITE_ERROR &&
					strncmp(sqlite3_errmsg(s->db), "no such rowid", 13) == 0
				? hearth_error_make(err, ENOENT, "no invocation batch %" PRId64,
						    rowid)
				: db_error(s, err, rc, "opening an invocation batch");

		sqlite3_blob_close(blob);
		return r;
	}
	if ((size_t)sqlite3_blob_bytes(blob) < off + len) {
		sqlite3_blob_close(blob);
		return hearth_error_make(err, ERANGE, "batch %" PRId64 ": bytes past its end",
					 rowid);
	}
	rc = len ? sqlite3_blob_read(blob, dst, (int)len, (int)off) : SQLITE_OK;
	sqlite3_blob_close(blob);
	if (rc != SQLITE_OK)
		return db_error(s, err, rc, "reading an invocation batch");
	return 0;
}

#define LEGACY_COLUMNS \
	"id, function_id, revision, status, start_kind, created_at, duration_ms, init_ms, " \
	"queue_ms, max_memory_mb, error_json, memory_mb, timeout_s, ended_at, logs, result, " \
	"payload, rowid"

static int legacy_from_row(sqlite3_stmt *st, struct store_invocation *v, int64_t *rowid,
			   struct hearth_error **err)
{
	int oom = 0;

	memset(v, 0, sizeof(*v));
	v->id = col_strdup(st, 0, &oom);
	v->function_id = sqlite3_column_int64(st, 1);
	v->revision = sqlite3_column_int64(st, 2);
	v->status = col_strdup(st, 3, &oom);
	v->start_kind = col_strdup(st, 4, &oom);
	v->created_at = sqlite3_column_int64(st, 5);
	v->duration_ms = sqlite3_column_double(st, 6);
	v->init_ms = sqlite3_column_double(st, 7);
	v->queue_ms = sqlite3_column_double(st, 8);
	v->max_memory_mb = sqlite3_column_int64(st, 9);
	v->error_json = col_strdup(st, 10, &oom);
	v->memory_mb = sqlite3_column_int64(st, 11); /* NULL (before schema 6) reads 0 */
	v->timeout_s = sqlite3_column_int64(st, 12);
	v->ended_at = sqlite3_column_int64(st, 13);
	v->logs = col_strdup(st, 14, &oom);
	v->result = col_strdup(st, 15, &oom);
	v->payload = col_strdup(st, 16, &oom);
	*rowid = sqlite3_column_int64(st, 17);
	if (oom) {
		store_invocation_clear(v);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	return 0;
}

int store_legacy_take(struct store *s, size_t limit, struct store_invocation **out, size_t *n,
		      int64_t *through, struct hearth_error **err)
{
	struct store_invocation *recs;
	sqlite3_stmt *st = NULL;
	size_t len = 0;
	int rc, r = 0;

	*out = NULL;
	*n = 0;
	*through = 0;
	rc = sqlite3_prepare_v2(s->db,
				"SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
				"name = 'invocations_v6'",
				-1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_DONE) {
		/* Gone already: every record was moved. */
		sqlite3_finalize(st);
		return 0;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_ROW)
		return db_error(s, err, rc, "looking for old records");
	rc = sqlite3_prepare_v2(s->db,
				"SELECT " LEGACY_COLUMNS " FROM invocations_v6 ORDER BY rowid "
				"LIMIT ?1",
				-1, &st, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		return db_error(s, err, rc, "reading old records");
	}
	if (limit == 0 || !(recs = calloc(limit, sizeof(*recs)))) {
		sqlite3_finalize(st);
		return limit ? hearth_error_make(err, ENOMEM, "out of memory") : 0;
	}
	sqlite3_bind_int64(st, 1, (int64_t)limit);
	while (len < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = legacy_from_row(st, &recs[len], through, err)) < 0)
			break;
		len++;
	}
	if (r == 0 && len < limit && rc != SQLITE_DONE)
		r = db_error(s, err, rc, "reading old records");
	sqlite3_finalize(st);
	if (r == 0 && len == 0)
		/* All moved: the old table goes. */
		r = exec_sql(s, "DROP TABLE invocations_v6", err);
	if (r < 0 || len == 0) {
		store_invocations_free(recs, len);
		*through = 0;
		return r;
	}
	*out = recs;
	*n = len;
	return 0;
}

void store_memory(int64_t *used, int64_t *highwater)
{
	*used = sqlite3_memory_used();
	*highwater = sqlite3_memory_highwater(0);
}

/* ---- test events ---- */

int store_test_events_get(struct store *s, int64_t function_id, char **out,
			  struct hearth_error **err)
{
	_cleanup_fn_ struct fn *f = NULL;
	sqlite3_stmt *st;
	int rc, r, oom = 0;

	*out = NULL;
	if ((r = store_function_get(s, function_id, &f, err)) < 0)
		return r;
	st = stmt(s, ST_TE_GET);
	sqlite3_bind_int64(st, 1, function_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = col_strdup(st, 0, &oom);
	else if (rc == SQLITE_DONE)
		*out = strdup("[]");
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(s, err, rc, "reading test events");
	if (!*out || oom)
		return hearth_error_make(err, ENOMEM, "out of memory");
	return 0;
}

int store_test_events_put(struct store *s, int64_t function_id, const char *events_json,
			  struct hearth_error **err)
{
	_cleanup_fn_ struct fn *f = NULL;
	sqlite3_stmt *st;
	int r;

	if ((r = tx_begin(s, 1, err)) < 0)
		return r;
	/* Inside the transaction: the function cannot go between the check
	 * and the write. */
	if ((r = store_function_get(s, function_id, &f, err)) < 0)
		goto out;
	st = stmt(s, ST_TE_PUT);
	sqlite3_bind_int64(st, 1, function_id);
	sqlite3_bind_text(st, 2, events_json, -1, SQLITE_STATIC);
	r = step_done(s, st, err, "saving test events");
out:
	return tx_end(s, r, err);
}

/* ---- asynchronous calls ---- */

void store_async_call_clear(struct store_async_call *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->status);
	free(c->reason);
	free(c->last_error);
	free(c->payload);
	memset(c, 0, sizeof(*c));
}

void store_async_calls_free(struct store_async_call *calls, size_t n)
{
	if (!calls)
		return;
	for (size_t i = 0; i < n; i++)
		store_async_call_clear(&calls[i]);
	free(calls);
}

void store_async_attempts_free(struct store_async_attempt *a, size_t n)
{
	if (!a)
		return;
	for (size_t i = 0; i < n; i++) {
		free(a[i].request_id);
		free(a[i].status);
		free(a[i].start_kind);
		free(a[i].error_json);
		free(a[i].logs);
		free(a[i].result);
	}
	free(a);
}

static int bind_int64_or_null(sqlite3_stmt *st, int i, int64_t v, bool null)
{
	return null ? sqlite3_bind_null(st, i) : sqlite3_bind_int64(st, i, v);
}

int store_async_enqueue(struct store *s, const struct store_async_new *calls, size_t n,
			struct hearth_error **err)
{
	int r;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!calls[i].id || !calls[i].payload || calls[i].payload_len > INT_MAX)
			return hearth_error_make(err, EINVAL, "async call %zu: no id or payload",
						 i);
	if ((r = tx_begin(s, 1, err)) < 0)
		return r;
	for (size_t i = 0; i < n && r >= 0; i++) {
		const struct store_async_new *c = &calls[i];
		sqlite3_stmt *st = stmt(s, ST_AQ_INSERT);
		int rc = SQLITE_OK;

		BIND(rc, sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC));
		BIND(rc, sqlite3_bind_int64(st, 2, c->function_id));
		BIND(rc, sqlite3_bind_text(st, 3, c->payload, (int)c->payload_len, SQLITE_STATIC));
		BIND(rc, sqlite3_bind_int64(st, 4, c->created_at));
		BIND(rc, sqlite3_bind_int64(st, 5, c->next_at));
		BIND(rc, sqlite3_bind_int64(st, 6, c->expires_at));
		if (rc != SQLITE_OK) {
			r = db_error(s, err, sqlite3_errcode(s->db), "binding an async call");
			break;
		}
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = sqlite3_extended_errcode(s->db);
			if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
				r = hearth_error_make(err, ENOENT, "no function %" PRId64,
						      c->function_id);
			else if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
				r = hearth_error_make(err, EEXIST, "async call '%s' exists", c->id);
			else
				r = db_error(s, err, rc, "queueing an async call");
		}
		sqlite3_reset(st);
	}
	return tx_end(s, r, err);
}

int store_async_due(struct store *s, int64_t function_id, size_t limit, struct store_async_due *out,
		    size_t *n, struct hearth_error **err)
{
	sqlite3_stmt *st = stmt(s, ST_AQ_DUE);
	size_t len = 0;
	int rc = SQLITE_DONE;

	sqlite3_bind_int64(st, 1, function_id);
	sqlite3_bind_int64(st, 2, (int64_t)limit);
	while (len < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *id = sqlite3_column_text(st, 0);

		snprintf(out[len].id, sizeof(out[len].id), "%s", id ? (const char *)id : "");
		out[len].next_at = sqlite3_column_int64(st, 1);
		out[len].expires_at = sqlite3_column_int64(st, 2);
		out[len].tries = sqlite3_column_int(st, 3);
		len++;
	}
	sqlite3_reset(st);
	*n = len;
	if (len < limit && rc != SQLITE_DONE)
		return db_error(s, err, rc, "reading the async queue");
	return 0;
}

int store_async_claim(struct store *s, const char *id, char **payload, size_t *len,
		      struct hearth_error **err)
{
	sqlite3_stmt *st;
	char *p = NULL;
	int rc, r;

	*payload = NULL;
	*len = 0;
	/* Not durable: a claim lost in a crash only means the call runs again,
	 * as it would after a crash during its attempt. */
	if ((r = tx_begin(s, 0, err)) < 0)
		return r;
	st = stmt(s, ST_AQ_PAYLOAD);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int n = sqlite3_column_bytes(st, 0);
		const void *v = sqlite3_column_blob(st, 0);

		p = malloc((size_t)n + 1);
		if (!p) {
			r = hearth_error_make(err, ENOMEM, "out of memory");
		} else {
			if (n > 0)
				memcpy(p, v, (size_t)n);
			p[n] = '\0';
			*len = (size_t)n;
		}
	} else if (rc == SQLITE_DONE) {
		r = hearth_error_make(err, ENOENT, "async call '%s' is not queued", id);
	} else {
		r = db_error(s, err, rc, "claiming an async call");
	}
	sqlite3_reset(st);
	if (r >= 0) {
		st = stmt(s, ST_AQ_SET_RUNNING);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		r = step_done(s, st, err, "claiming an async call");
	}
	if ((r = tx_end(s, r, err)) < 0) {
		free(p);
		*len = 0;
		return r;
	}
	*payload = p;
	return 0;
}

int store_async_requeue(struct store *s, const char *id, int64_t next_at, struct hearth_error **err)
{
	sqlite3_stmt *st;
	int r;

	if ((r = tx_begin(s, 0, err)) < 0)
		return r;
	st = stmt(s, ST_AQ_REQUEUE);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, next_at);
	r = step_done(s, st, err, "queueing an async call again");
	if (r >= 0 && sqlite3_changes(s->db) == 0)
		r = hearth_error_make(err, ENOENT, "async call '%s' is not running", id);
	return tx_end(s, r, err);
}

int store_async_finish(struct store *s, const char *id, const struct store_async_attempt *a,
		       const struct store_async_outcome *o, struct hearth_error **err)
{
	bool queued = strcmp(o->status, "queued") == 0;
	bool finished = !queued;
	sqlite3_stmt *st;
	int64_t attempts = 0;
	int rc = SQLITE_OK, r;

	if (!a->request_id || !a->status)
		return hearth_error_make(err, EINVAL, "an attempt needs a request id and a status");
	if ((r = tx_begin(s, 1, err)) < 0)
		return r;
	st = stmt(s, ST_AQ_ATTEMPTS_OF);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		attempts = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		r = hearth_error_make(err, ENOENT, "async call '%s' is not running", id);
	else
		r = db_error(s, err, rc, "reading an async call");
	sqlite3_reset(st);
	if (r < 0)
		goto out;
	rc = SQLITE_OK;
	st = stmt(s, ST_AQ_ATT_INSERT);
	BIND(rc, sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC));
	BIND(rc, sqlite3_bind_int64(st, 2, attempts + 1));
	BIND(rc, sqlite3_bind_text(st, 3, a->request_id, -1, SQLITE_STATIC));
	BIND(rc, sqlite3_bind_text(st, 4, a->status, -1, SQLITE_STATIC));
	BIND(rc, bind_text_or_null(st, 5, a->start_kind));
	BIND(rc, sqlite3_bind_int64(st, 6, a->at));
	BIND(rc, sqlite3_bind_double(st, 7, a->duration_ms));
	BIND(rc, sqlite3_bind_double(st, 8, a->init_ms));
	BIND(rc, sqlite3_bind_double(st, 9, a->queue_ms));
	BIND(rc, sqlite3_bind_int64(st, 10, a->max_memory_mb));
	BIND(rc, bind_text_or_null(st, 11, a->error_json));
	BIND(rc, bind_text_or_null(st, 12, a->logs));
	BIND(rc, bind_text_or_null(st, 13, a->result));
	if (rc != SQLITE_OK) {
		r = db_error(s, err, sqlite3_errcode(s->db), "binding an attempt");
		goto out;
	}
	if ((r = step_done(s, st, err, "recording an attempt")) < 0)
		goto out;
	rc = SQLITE_OK;
	st = stmt(s, ST_AQ_FINISH);
	BIND(rc, sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC));
	BIND(rc, sqlite3_bind_text(st, 2, o->status, -1, SQLITE_STATIC));
	BIND(rc, bind_int64_or_null(st, 3, o->next_at, !queued));
	BIND(rc, bind_text_or_null(st, 4, finished ? o->reason : NULL));
	BIND(rc, bind_int64_or_null(st, 5, o->now, !finished));
	BIND(rc, bind_text_or_null(st, 6, a->error_json));
	if (rc != SQLITE_OK) {
		r = db_error(s, err, sqlite3_errcode(s->db), "binding an async call");
		goto out;
	}
	r = step_done(s, st, err, "recording an async call's outcome");
out:
	return tx_end(s, r, err);
}

/* One UPDATE of many rows in a transaction; how many it changed. */
static int64_t update_many(struct store *s, sqlite3_stmt *st, int durable, const char *what,
			   struct hearth_error **err)
{
	int64_t changed;
	int r;

	if ((r = tx_begin(s, durable, err)) < 0)
		return r;
	r = step_done(s, st, err, what);
	changed = r < 0 ? 0 : sqlite3_changes(s->db);
	r = tx_end(s, r, err);
	return r < 0 ? r : changed;
}

int64_t store_async_expire(struct store *s, int64_t function_id, int64_t now,
			   struct hearth_error **err)
{
	sqlite3_stmt *st = stmt(s, ST_AQ_EXPIRE);

	sqlite3_bind_int64(st, 1, function_id);
	sqlite3_bind_int64(st, 2, now);
	return update_many(s, st, 1, "expiring async calls", err);
}

int64_t store_async_recover(struct store *s, struct hearth_error **err)
{
	return update_many(s, stmt(s, ST_AQ_RECOVER), 1, "recovering async calls", err);
}

int store_async_counts(struct store *s, int64_t function_id, struct store_async_counts *out,
		       struct hearth_error **err)
{
	sqlite3_stmt *st = stmt(s, ST_AQ_COUNT_QUEUED);
	int rc;

	memset(out, 0, sizeof(*out));
	sqlite3_bind_int64(st, 1, function_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->queued = sqlite3_column_int64(st, 0);
		out->next_at = sqlite3_column_type(st, 1) == SQLITE_NULL
				       ? INT64_MAX
				       : sqlite3_column_int64(st, 1);
		out->expires_at = sqlite3_column_type(st, 2) == SQLITE_NULL
					  ? INT64_MAX
					  : sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return db_error(s, err, rc, "counting async calls");
	st = stmt(s, ST_AQ_COUNT_OTHER);
	sqlite3_bind_int64(st, 1, function_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->running = sqlite3_column_int64(st, 0);
		out->dead = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return db_error(s, err, rc, "counting async calls");
	return 0;
}

static int aq_from_row(sqlite3_stmt *st, struct store_async_call *c, struct hearth_error **err)
{
	int oom = 0;

	memset(c, 0, sizeof(*c));
	c->id = col_strdup(st, 0, &oom);
	c->function_id = sqlite3_column_int64(st, 1);
	c->status = col_strdup(st, 2, &oom);
	c->created_at = sqlite3_column_int64(st, 3);
	c->next_at = sqlite3_column_int64(st, 4);
	c->expires_at = sqlite3_column_int64(st, 5);
	c->finished_at = sqlite3_column_int64(st, 6); /* NULL reads 0 */
	c->tries = sqlite3_column_int(st, 7);
	c->attempts = sqlite3_column_int(st, 8);
	c->redrives = sqlite3_column_int(st, 9);
	c->reason = col_strdup(st, 10, &oom);
	c->last_error = col_strdup(st, 11, &oom);
	if (sqlite3_column_count(st) > 12)
		c->payload = col_strdup(st, 12, &oom);
	if (oom) {
		store_async_call_clear(c);
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	return 0;
}

static int attempts_of(struct store *s, const char *id, struct store_async_attempt **out, size_t *n,
		       struct hearth_error **err)
{
	sqlite3_stmt *st = stmt(s, ST_AQ_ATTEMPTS);
	struct store_async_attempt *list = NULL, *tmp, *a;
	size_t len = 0, cap = 0;
	int rc, r = 0, oom = 0;

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4;
			tmp = realloc(list, cap * sizeof(*list));
			if (!tmp) {
				oom = 1;
				break;
			}
			list = tmp;
		}
		a = &list[len++];
		memset(a, 0, sizeof(*a));
		a->n = sqlite3_column_int(st, 0);
		a->request_id = col_strdup(st, 1, &oom);
		a->status = col_strdup(st, 2, &oom);
		a->start_kind = col_strdup(st, 3, &oom);
		a->at = sqlite3_column_int64(st, 4);
		a->duration_ms = sqlite3_column_double(st, 5);
		a->init_ms = sqlite3_column_double(st, 6);
		a->queue_ms = sqlite3_column_double(st, 7);
		a->max_memory_mb = sqlite3_column_int64(st, 8);
		a->error_json = col_strdup(st, 9, &oom);
		a->logs = col_strdup(st, 10, &oom);
		a->result = col_strdup(st, 11, &oom);
		if (oom)
			break;
	}
	if (oom)
		r = hearth_error_make(err, ENOMEM, "out of memory");
	else if (rc != SQLITE_DONE)
		r = db_error(s, err, rc, "reading attempts");
	sqlite3_reset(st);
	if (r < 0) {
		store_async_attempts_free(list, len);
		return r;
	}
	*out = list;
	*n = len;
	return 0;
}

int store_async_call_get(struct store *s, const char *id, struct store_async_call *out,
			 struct store_async_attempt **attempts, size_t *n_attempts,
			 struct hearth_error **err)
{
	sqlite3_stmt *st = stmt(s, ST_AQ_GET);
	int rc, r;

	*attempts = NULL;
	*n_attempts = 0;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = aq_from_row(st, out, err);
	else if (rc == SQLITE_DONE)
		r = hearth_error_make(err, ENOENT, "no async call '%s'", id);
	else
		r = db_error(s, err, rc, "reading an async call");
	sqlite3_reset(st);
	if (r < 0)
		return r;
	if ((r = attempts_of(s, id, attempts, n_attempts, err)) < 0)
		store_async_call_clear(out);
	return r;
}

int store_async_dead_letters(struct store *s, int64_t function_id,
			     const struct store_async_call *before, size_t limit,
			     struct store_async_call **out, size_t *n, struct hearth_error **err)
{
	struct store_async_call *list = NULL;
	sqlite3_stmt *st;
	size_t len = 0;
	int rc = SQLITE_DONE, r = 0;

	*out = NULL;
	*n = 0;
	if (before && !before->id)
		return hearth_error_make(err, EINVAL, "a list cursor needs an id");
	if (limit > STORE_INVOCATIONS_LIST_MAX)
		limit = STORE_INVOCATIONS_LIST_MAX;
	if (limit == 0)
		return 0;
	list = calloc(limit, sizeof(*list));
	if (!list)
		return hearth_error_make(err, ENOMEM, "out of memory");
	st = stmt(s, before ? ST_AQ_DEAD_BEFORE : ST_AQ_DEAD);
	sqlite3_bind_int64(st, 1, function_id);
	sqlite3_bind_int64(st, 2, (int64_t)limit);
	if (before) {
		sqlite3_bind_int64(st, 3, before->finished_at);
		sqlite3_bind_text(st, 4, before->id, -1, SQLITE_STATIC);
	}
	while (len < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = aq_from_row(st, &list[len], err)) < 0)
			goto fail;
		len++;
	}
	if (len < limit && rc != SQLITE_DONE) {
		r = db_error(s, err, rc, "listing dead letters");
		goto fail;
	}
	sqlite3_reset(st);
	if (len == 0) {
		free(list);
		list = NULL;
	}
	*out = list;
	*n = len;
	return 0;
fail:
	sqlite3_reset(st);
	store_async_calls_free(list, len);
	return r;
}

int store_async_redrive(struct store *s, int64_t function_id, const char *id, int64_t now,
			int64_t expires_at, struct hearth_error **err)
{
	sqlite3_stmt *st;
	int rc, r;

	if ((r = tx_begin(s, 1, err)) < 0)
		return r;
	st = stmt(s, ST_AQ_REDRIVE);
	sqlite3_bind_int64(st, 1, function_id);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, expires_at);
	if ((r = step_done(s, st, err, "redriving an async call")) < 0 ||
	    sqlite3_changes(s->db) == 1)
		goto out;
	/* Nothing changed: say why. */
	st = stmt(s, ST_AQ_STATUS_OF);
	sqlite3_bind_int64(st, 1, function_id);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = hearth_error_make(err, EEXIST, "async call '%s' is %s, not a dead letter", id,
				      (const char *)sqlite3_column_text(st, 0));
	else if (rc == SQLITE_DONE)
		r = hearth_error_make(err, ENOENT, "function %" PRId64 " has no async call '%s'",
				      function_id, id);
	else
		r = db_error(s, err, rc, "reading an async call");
	sqlite3_reset(st);
out:
	return tx_end(s, r, err);
}

int64_t store_async_redrive_all(struct store *s, int64_t function_id, int64_t now,
				int64_t expires_at, int64_t limit, struct hearth_error **err)
{
	sqlite3_stmt *st = stmt(s, ST_AQ_REDRIVE_ALL);

	sqlite3_bind_int64(st, 1, function_id);
	sqlite3_bind_int64(st, 2, limit);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, expires_at);
	return update_many(s, st, 1, "redriving dead letters", err);
}

int64_t store_async_prune(struct store *s, int64_t function_id, int64_t keep,
			  struct hearth_error **err)
{
	int64_t total = 0, n;

	if (keep < 0)
		return hearth_error_make(err, EINVAL, "keep must be >= 0");
	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *st = stmt(s, i == 0 ? ST_AQ_PRUNE_OK : ST_AQ_PRUNE_DEAD);

		sqlite3_bind_int64(st, 1, function_id);
		sqlite3_bind_int64(st, 2, keep);
		/* Old history: losing a prune in a crash costs nothing. */
		if ((n = update_many(s, st, 0, "pruning async calls", err)) < 0)
			return n;
		total += n;
	}
	return total;
}
