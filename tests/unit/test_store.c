/* Unit tests for store.c: schema and migration, the function registry and
 * the invocation records' batches, and the records from before them. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "function.h"
#include "store.h"
#include "tap.h"
#include "testfs.h"

static char dir[] = "/tmp/hearth-test-store-XXXXXX";
static char db_path[256];

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static struct fn *make_fn(const char *name, const char *route, char shachar)
{
	struct fn *f = fn_new();

	free(f->name);
	f->name = xstrdup(name);
	free(f->language);
	f->language = xstrdup("python");
	free(f->handler);
	f->handler = xstrdup("main.handler");
	free(f->route);
	f->route = xstrdup(route);
	free(f->env_json);
	f->env_json = xstrdup("{\"A\":\"1\"}");
	f->timeout_s = 5;
	f->memory_mb = 256;
	f->min_warm = 2;
	f->max_concurrency = 7;
	f->revision = 1;
	memset(f->code_sha256, shachar, 64);
	f->code_sha256[64] = '\0';
	free(f->code_path);
	f->code_path = xstrdup("/data/code/x");
	f->created_at = 1700000000123;
	f->updated_at = 1700000000456;
	f->description = xstrdup("a function");
	f->runtime = xstrdup("python3.12");
	f->role = xstrdup("arn:aws:iam::123456789012:role/r");
	free(f->architectures_json);
	f->architectures_json = xstrdup("[\"arm64\"]");
	f->route_auth = xstrdup("none");
	f->async_retries = 1;
	f->async_max_age_s = 600;
	return f;
}

static int count_functions(struct store *s)
{
	struct fn **list = NULL;
	size_t n = 0;

	if (store_function_list(s, &list, &n, NULL) < 0)
		return -1;
	store_function_list_free(list, n);
	return (int)n;
}

/* Reads a one-integer pragma through a separate connection. */
static int64_t raw_pragma(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_open(db_path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static char *raw_text(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *v = NULL;

	if (sqlite3_open(db_path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int raw_exec(const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open(db_path, &db);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

static void test_functions(void)
{
	struct hearth_error *err = NULL;
	struct store *s = NULL;
	struct fn *a = make_fn("alpha", "/hello", 'a');
	struct fn *b = make_fn("beta", NULL, 'b');
	struct fn *c = make_fn("gamma", NULL, 'c');
	struct fn *got = NULL;
	struct fn **list = NULL;
	size_t n = 0;
	char *mode;

	is_int(store_open(&s, db_path, &err), 0, "open creates the database");
	if (!s) {
		printf("# %s\n", err ? err->msg : "?");
		exit(1);
	}
	is_int(raw_pragma("PRAGMA user_version"), 8, "user_version is the schema version (8)");
	mode = raw_text("PRAGMA journal_mode");
	is_str(mode, "wal", "journal_mode is WAL");
	free(mode);

	is_int(store_function_create(s, a, &err), 0, "create alpha");
	ok(a->id > 0, "create sets the id (%" PRId64 ")", a->id);
	is_int(store_function_create(s, b, &err), 0, "create beta with no route");
	is_int(store_function_create(s, c, &err), 0, "create gamma, a second NULL route");
	ok(b->id != a->id && c->id != b->id, "ids differ");
	ok(err == NULL, "no error left behind");

	is_int(store_function_get(s, a->id, &got, &err), 0, "get alpha");
	if (got) {
		is_str(got->name, "alpha", "name round-trips");
		is_str(got->language, "python", "language round-trips");
		is_str(got->handler, "main.handler", "handler round-trips");
		is_str(got->route, "/hello", "route round-trips");
		is_int(got->timeout_s, 5, "timeout round-trips");
		is_int(got->memory_mb, 256, "memory round-trips");
		is_str(got->env_json, "{\"A\":\"1\"}", "env round-trips");
		is_int(got->min_warm, 2, "min_warm round-trips");
		is_int(got->max_concurrency, 7, "max_concurrency round-trips");
		is_int(got->revision, 1, "revision round-trips");
		is_str(got->code_sha256, a->code_sha256, "code_sha256 round-trips");
		is_str(got->code_path, "/data/code/x", "code_path round-trips");
		is_int(got->created_at, 1700000000123, "created_at round-trips");
		is_int(got->updated_at, 1700000000456, "updated_at round-trips");
		is_int(got->id, a->id, "id round-trips");
		is_str(got->description, "a function", "description round-trips");
		is_str(got->runtime, "python3.12", "runtime round-trips");
		is_str(got->role, "arn:aws:iam::123456789012:role/r", "role round-trips");
		is_str(got->architectures_json, "[\"arm64\"]", "architectures round-trip");
		is_str(got->route_auth, "none", "route_auth round-trips");
		ok(got->async_retries == 1 && got->async_max_age_s == 600,
		   "async_retries and async_max_age round-trip");
	}
	fn_free(got);
	got = NULL;
	is_int(store_function_get(s, b->id, &got, &err), 0, "get beta");
	ok(got && got->route == NULL, "a NULL route stays NULL");
	fn_free(got);
	got = NULL;

	is_int(store_function_get(s, 999, &got, &err), -ENOENT, "get of a missing id is -ENOENT");
	ok(err && err->status == ENOENT, "with an ENOENT error");
	ok(got == NULL, "and no object");
	hearth_error_clear(&err);

	/* clashes */
	{
		struct fn *dup = make_fn("alpha", "/other", 'd');
		struct fn *dup2 = make_fn("delta", "/hello", 'd');

		is_int(store_function_create(s, dup, &err), -EEXIST, "a taken name is -EEXIST");
		is_str(err ? err->msg : NULL, "name 'alpha' is taken",
		       "the message names the name");
		hearth_error_clear(&err);
		is_int(store_function_create(s, dup2, &err), -EEXIST, "a taken route is -EEXIST");
		is_str(err ? err->msg : NULL, "route '/hello' is taken",
		       "the message names the route");
		hearth_error_clear(&err);
		is_int(count_functions(s), 3, "a refused create changes nothing");
		ok(dup2->id == 0, "a refused create sets no id");

		/* update clashes */
		free(b->route);
		b->route = xstrdup("/hello");
		b->revision = 2;
		is_int(store_function_update(s, b, &err), -EEXIST,
		       "update onto a taken route is -EEXIST");
		is_str(err ? err->msg : NULL, "route '/hello' is taken", "naming the route");
		hearth_error_clear(&err);
		free(b->name);
		b->name = xstrdup("alpha");
		free(b->route);
		b->route = NULL;
		is_int(store_function_update(s, b, &err), -EEXIST,
		       "update onto a taken name is -EEXIST");
		hearth_error_clear(&err);
		is_int(store_function_get(s, b->id, &got, &err), 0, "beta is still there");
		ok(got && !strcmp(got->name, "beta") && got->revision == 1 && !got->route,
		   "and unchanged by the refused updates");
		fn_free(got);
		got = NULL;
		fn_free(dup);
		fn_free(dup2);
	}

	/* update */
	free(b->name);
	b->name = xstrdup("beta2");
	free(b->route);
	b->route = xstrdup("/b");
	b->revision = 2;
	b->memory_mb = 512;
	b->updated_at = 1700000009999;
	is_int(store_function_update(s, b, &err), 0, "update beta");
	is_int(store_function_get(s, b->id, &got, &err), 0, "get after update");
	ok(got && !strcmp(got->name, "beta2") && got->route && !strcmp(got->route, "/b") &&
		   got->revision == 2 && got->memory_mb == 512 && got->updated_at == 1700000009999,
	   "update replaced the fields");
	fn_free(got);
	got = NULL;
	/* keeping its own name and route is not a clash */
	b->revision = 3;
	is_int(store_function_update(s, b, &err), 0, "update keeping its own name and route");
	{
		struct fn *ghost = make_fn("ghost", NULL, 'g');

		ghost->id = 4242;
		is_int(store_function_update(s, ghost, &err), -ENOENT,
		       "update of a missing id is -ENOENT");
		hearth_error_clear(&err);
		fn_free(ghost);
	}

	/* code in use */
	is_int(store_code_in_use(s, a->code_sha256, &err), 1, "alpha's code is in use");
	is_int(store_code_in_use(s,
				 "0000000000000000000000000000000000000000000000000000000000000000",
				 &err),
	       0, "unknown code is not in use");

	/* list */
	is_int(store_function_list(s, &list, &n, &err), 0, "list");
	is_int(n, 3, "three functions");
	if (n == 3)
		ok(list[0]->id < list[1]->id && list[1]->id < list[2]->id, "by id ascending");
	store_function_list_free(list, n);

	/* delete */
	is_int(store_function_delete(s, c->id, &err), 0, "delete gamma");
	is_int(store_function_delete(s, c->id, &err), -ENOENT, "delete again is -ENOENT");
	hearth_error_clear(&err);
	is_int(count_functions(s), 2, "two left");
	is_int(store_code_in_use(s, c->code_sha256, &err), 0, "gamma's code is no longer in use");
	{
		struct fn *again = make_fn("gamma", NULL, 'c');

		is_int(store_function_create(s, again, &err), 0, "a deleted name can be reused");
		ok(again->id > c->id, "and ids are never reused");
		fn_free(again);
	}

	store_close(s);
	s = NULL;

	/* reopen */
	is_int(store_open(&s, db_path, &err), 0, "reopen");
	is_int(count_functions(s), 3, "the data survived the reopen");
	is_int(store_function_get(s, a->id, &got, &err), 0, "alpha after reopen");
	is_str(got ? got->route : NULL, "/hello", "with its route");
	fn_free(got);
	store_close(s);
	fn_free(a);
	fn_free(b);
	fn_free(c);
	ok(err == NULL, "no stray error");
	hearth_error_clear(&err);
}

/* ---- invocation records, in batches ---- */

/* Bytes no two batches share, zeroes among them (xorshift32). */
static unsigned char *make_bytes(size_t len, uint32_t seed)
{
	unsigned char *p = malloc(len ? len : 1);

	for (size_t i = 0; p && i < len; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		p[i] = i % 7 == 0 ? 0 : (unsigned char)seed;
	}
	return p;
}

/* A batch as written, to compare with what comes back. */
struct want {
	int64_t id, n;
	unsigned char *heads, *bodies;
	size_t heads_len, bodies_len;
};

static void want_make(struct want *w, int64_t n, size_t heads_len, size_t bodies_len, uint32_t seed)
{
	memset(w, 0, sizeof(*w));
	w->n = n;
	w->heads_len = heads_len;
	w->bodies_len = bodies_len;
	w->heads = make_bytes(heads_len, seed);
	w->bodies = make_bytes(bodies_len, seed * 31 + 7);
}

static void want_free(struct want *w)
{
	free(w->heads);
	free(w->bodies);
	memset(w, 0, sizeof(*w));
}

static struct store_batch batch_of(const struct want *w)
{
	struct store_batch b = { 0 };

	b.heads = w->heads;
	b.heads_len = w->heads_len;
	b.bodies = w->bodies;
	b.bodies_len = w->bodies_len;
	b.n = w->n;
	return b;
}

/* 1 when a part of the batch reads back as written, read whole and then
 * in chunks of an odd size at every offset they fall on. */
static int part_matches(struct store *s, int64_t id, enum store_batch_part part,
			const unsigned char *want, size_t len)
{
	unsigned char *got = malloc(len ? len : 1);
	int same = got != NULL;
	size_t off, step = 4093;

	if (same && store_batch_read(s, id, part, 0, got, len, NULL) < 0)
		same = 0;
	if (same && len && memcmp(got, want, len) != 0)
		same = 0;
	if (got)
		memset(got, 0, len ? len : 1);
	for (off = 0; same && off < len; off += step) {
		size_t k = len - off < step ? len - off : step;

		same = store_batch_read(s, id, part, off, got + off, k, NULL) == 0 &&
		       memcmp(got + off, want + off, k) == 0;
	}
	free(got);
	return same;
}

static int batch_matches(struct store *s, const struct want *w)
{
	return part_matches(s, w->id, STORE_BATCH_HEADS, w->heads, w->heads_len) &&
	       part_matches(s, w->id, STORE_BATCH_BODIES, w->bodies, w->bodies_len);
}

/* What store_batches_each handed over. */
#define SEEN_MAX 16
struct seen {
	struct store *s;
	int calls;
	int stop_at;   /* the call (1, 2, ...) that answers -EINTR; 0: none */
	int read_fail; /* a store_batch_read during the walk failed */
	int64_t ids[SEEN_MAX], n[SEEN_MAX];
	unsigned char *heads[SEEN_MAX];
	size_t lens[SEEN_MAX];
};

static int seen_batch(void *arg, int64_t rowid, int64_t n, const void *heads, size_t heads_len,
		      struct hearth_error **err)
{
	struct seen *sn = arg;
	unsigned char one;
	int i = sn->calls++;

	(void)err;
	if (i < SEEN_MAX) {
		sn->ids[i] = rowid;
		sn->n[i] = n;
		sn->lens[i] = heads_len;
		sn->heads[i] = malloc(heads_len ? heads_len : 1);
		if (sn->heads[i] && heads_len)
			memcpy(sn->heads[i], heads, heads_len);
	}
	/* A batch read while the walk is on (its statement still stepping)
	 * agrees with the heads handed over. */
	if (heads_len &&
	    store_batch_read(sn->s, rowid, STORE_BATCH_HEADS, heads_len - 1, &one, 1, NULL) < 0)
		sn->read_fail = 1;
	else if (heads_len && one != ((const unsigned char *)heads)[heads_len - 1])
		sn->read_fail = 1;
	return sn->stop_at && sn->calls == sn->stop_at ? -EINTR : 0;
}

static void seen_clear(struct seen *sn)
{
	for (int i = 0; i < sn->calls && i < SEEN_MAX; i++)
		free(sn->heads[i]);
	memset(sn, 0, sizeof(*sn));
}

/* Walks the batches into sn (cleared first); store_batches_each's return. */
static int walk(struct store *s, struct seen *sn)
{
	seen_clear(sn);
	sn->s = s;
	return store_batches_each(s, seen_batch, sn, NULL);
}

/* 1 when the walk handed over exactly these batches, in this order, with
 * their n and their heads byte for byte. */
static int seen_is(const struct seen *sn, const struct want *const *w, int count)
{
	if (sn->calls != count || sn->read_fail)
		return 0;
	for (int i = 0; i < count; i++)
		if (sn->ids[i] != w[i]->id || sn->n[i] != w[i]->n ||
		    sn->lens[i] != w[i]->heads_len || !sn->heads[i] ||
		    (w[i]->heads_len && memcmp(sn->heads[i], w[i]->heads, w[i]->heads_len) != 0))
			return 0;
	return 1;
}

static int64_t count_batches(void)
{
	return raw_pragma("SELECT count(*) FROM invocation_batches");
}

static int64_t count_tables(const char *name)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master WHERE name = '%s'", name);
	return raw_pragma(sql);
}

/* A write that fails on its insert: what it deleted comes back. */
#define REFUSE_INSERTS \
	"CREATE TRIGGER refuse_batches BEFORE INSERT ON invocation_batches " \
	"BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
#define ALLOW_INSERTS "DROP TRIGGER refuse_batches;"

static void test_batches(void)
{
	struct hearth_error *err = NULL;
	struct store *s = NULL, *other = NULL;
	struct store_invocation *recs = NULL, sentinel = { 0 };
	struct store_batch b;
	struct want A, B, C, D, E, F, G;
	struct seen sn = { 0 };
	unsigned char buf[64];
	size_t n = 99;
	int64_t through = 99, rowid = -1;

	is_int(store_open(&s, db_path, &err), 0, "open for invocation batches");
	if (!s)
		exit(1);
	is_int(count_tables("invocations"), 0, "no table invocations any more (schema 7)");
	is_int(count_tables("invocation_batches"), 1, "a table invocation_batches instead");
	is_int(count_tables("invocations_v6"), 1, "a fresh database has invocations_v6 too");
	is_int(raw_pragma("SELECT count(*) FROM invocations_v6"), 0, "  empty");

	/* A fresh database: no old records, and their table goes. */
	recs = &sentinel; /* must come back NULL */
	is_int(store_legacy_take(s, 10, &recs, &n, &through, &err), 0, "legacy take on it");
	ok(n == 0 && recs == NULL && through == 0, "  no records, NULL, through 0");
	is_int(count_tables("invocations_v6"), 0, "  and the empty table was dropped");
	n = 99;
	is_int(store_legacy_take(s, 10, &recs, &n, &through, &err), 0,
	       "a take once the table is gone");
	ok(n == 0 && recs == NULL && through == 0, "  finds none");
	ok(err == NULL, "  without an error");

	is_int(walk(s, &sn), 0, "walking no batches");
	is_int(sn.calls, 0, "  calls nobody");
	is_int(store_batch_read(s, 1, STORE_BATCH_HEADS, 0, buf, 1, &err), -ENOENT,
	       "reading a batch that is not there: -ENOENT");
	ok(err && err->status == ENOENT, "  with an ENOENT error");
	hearth_error_clear(&err);

	/* Three batches: one with bodies over many pages, a small one, one
	 * with no body bytes at all. */
	want_make(&A, 3, 3 * 150, 200000, 1);
	want_make(&B, 1, 150, 7, 2);
	want_make(&C, 2, 2 * 150, 0, 3);
	b = batch_of(&A);
	is_int(store_batch_write(s, &b, &A.id, &err), 0, "write batch A (200000 body bytes)");
	ok(A.id > 0, "  its row id (%" PRId64 ")", A.id);
	b = batch_of(&B);
	is_int(store_batch_write(s, &b, &B.id, &err), 0, "write batch B");
	ok(B.id > A.id, "  numbered after A");
	b = batch_of(&C);
	is_int(store_batch_write(s, &b, NULL, &err), 0, "write batch C (no body bytes; no rowid)");
	C.id = raw_pragma("SELECT max(id) FROM invocation_batches");
	ok(C.id > B.id, "  numbered after B");
	is_int(count_batches(), 3, "three rows");
	is_int(raw_pragma("SELECT n FROM invocation_batches ORDER BY id LIMIT 1"), 3,
	       "  each with its n");

	is_int(walk(s, &sn), 0, "walk the batches");
	{
		const struct want *abc[] = { &A, &B, &C };

		ok(seen_is(&sn, abc, 3), "  A, B, C oldest first: ids, n and heads byte for byte");
	}
	ok(batch_matches(s, &A), "A's heads and bodies read back byte for byte, at any offset");
	ok(batch_matches(s, &B), "B's too");
	ok(batch_matches(s, &C), "C's too");

	/* Reads at offsets, and their bounds. */
	memset(buf, 0, sizeof(buf));
	is_int(store_batch_read(s, A.id, STORE_BATCH_HEADS, 150, buf, 20, &err), 0,
	       "read A's second head");
	ok(!memcmp(buf, A.heads + 150, 20), "  the bytes at that offset");
	is_int(store_batch_read(s, A.id, STORE_BATCH_BODIES, 4090, buf, 64, &err), 0,
	       "read A's bodies across a page boundary");
	ok(!memcmp(buf, A.bodies + 4090, 64), "  the bytes at that offset");
	is_int(store_batch_read(s, A.id, STORE_BATCH_BODIES, A.bodies_len - 64, buf, 64, &err), 0,
	       "read A's last 64 body bytes");
	ok(!memcmp(buf, A.bodies + A.bodies_len - 64, 64), "  the last bytes");
	is_int(store_batch_read(s, B.id, STORE_BATCH_BODIES, 0, buf, 7, &err), 0,
	       "read B's bodies whole");
	ok(!memcmp(buf, B.bodies, 7), "  all 7 bytes");
	is_int(store_batch_read(s, B.id, STORE_BATCH_BODIES, 7, buf, 0, &err), 0,
	       "a zero-length read at the end is fine");
	is_int(store_batch_read(s, C.id, STORE_BATCH_BODIES, 0, buf, 0, &err), 0,
	       "so is one of empty bodies");
	is_int(store_batch_read(s, B.id, STORE_BATCH_BODIES, 7, buf, 1, &err), -ERANGE,
	       "a byte past the end: -ERANGE");
	ok(err && err->status == ERANGE, "  with an ERANGE error");
	hearth_error_clear(&err);
	is_int(store_batch_read(s, B.id, STORE_BATCH_BODIES, 0, buf, 8, &err), -ERANGE,
	       "a read running past the end: -ERANGE");
	hearth_error_clear(&err);
	is_int(store_batch_read(s, B.id, STORE_BATCH_BODIES, 8, buf, 0, &err), -ERANGE,
	       "an empty read past the end: -ERANGE");
	hearth_error_clear(&err);
	is_int(store_batch_read(s, B.id, STORE_BATCH_HEADS, 100, buf, 51, &err), -ERANGE,
	       "heads have their own end: -ERANGE at 151 of 150");
	hearth_error_clear(&err);
	is_int(store_batch_read(s, C.id, STORE_BATCH_BODIES, 0, buf, 1, &err), -ERANGE,
	       "any byte of empty bodies: -ERANGE");
	hearth_error_clear(&err);
	is_int(store_batch_read(s, A.id, STORE_BATCH_BODIES, SIZE_MAX - 2, buf, 4, &err), -ERANGE,
	       "an offset near SIZE_MAX: -ERANGE, not a wrap");
	hearth_error_clear(&err);
	is_int(store_batch_read(s, C.id + 1000, STORE_BATCH_BODIES, 0, buf, 0, &err), -ENOENT,
	       "a batch id never written: -ENOENT");
	hearth_error_clear(&err);

	/* A walk stops at a negative answer, and the next walks whole. */
	seen_clear(&sn);
	sn.s = s;
	sn.stop_at = 2;
	is_int(store_batches_each(s, seen_batch, &sn, &err), -EINTR,
	       "a walk whose callback answers -EINTR returns it");
	is_int(sn.calls, 2, "  after the second batch");
	is_int(walk(s, &sn), 0, "the next walk");
	is_int(sn.calls, 3, "  sees all three again");

	/* Bad writes change nothing. */
	b = batch_of(&B);
	b.heads = NULL;
	rowid = 77;
	is_int(store_batch_write(s, &b, &rowid, &err), -EINVAL, "n > 0 without heads: -EINVAL");
	ok(err && err->status == EINVAL, "  with an EINVAL error");
	is_int(rowid, 0, "  and *rowid 0");
	hearth_error_clear(&err);
	b = batch_of(&B);
	b.bodies = NULL;
	b.drop_through = C.id;
	is_int(store_batch_write(s, &b, NULL, &err), -EINVAL,
	       "n > 0 without bodies (and a drop): -EINVAL");
	hearth_error_clear(&err);
	b = batch_of(&B);
	b.n = -1;
	is_int(store_batch_write(s, &b, NULL, &err), -EINVAL, "n < 0: -EINVAL");
	hearth_error_clear(&err);
	is_int(count_batches(), 3, "  none of them wrote or deleted a row");
	memset(&b, 0, sizeof(b));
	rowid = 77;
	is_int(store_batch_write(s, &b, &rowid, &err), 0, "n == 0 and nothing to delete: 0");
	is_int(rowid, 0, "  *rowid 0");
	is_int(count_batches(), 3, "  no row");

	/* Retention: the batches up to drop_through go as a new one comes. */
	want_make(&D, 4, 4 * 150, 1000, 4);
	b = batch_of(&D);
	b.drop_through = A.id;
	is_int(store_batch_write(s, &b, &D.id, &err), 0, "write D, dropping through A");
	ok(D.id > C.id, "  D numbered after C");
	is_int(walk(s, &sn), 0, "walk");
	{
		const struct want *bcd[] = { &B, &C, &D };

		ok(seen_is(&sn, bcd, 3), "  B, C, D: exactly A went");
	}
	is_int(store_batch_read(s, A.id, STORE_BATCH_BODIES, 0, buf, 1, &err), -ENOENT,
	       "reading A now: -ENOENT");
	hearth_error_clear(&err);
	ok(batch_matches(s, &B) && batch_matches(s, &C) && batch_matches(s, &D),
	   "B, C and D read back as written");

	/* The delete and the insert are one transaction. */
	is_int(raw_exec(REFUSE_INSERTS), SQLITE_OK, "(a trigger refuses inserts)");
	want_make(&E, 1, 150, 10, 5);
	b = batch_of(&E);
	b.drop_through = C.id;
	rowid = 77;
	ok(store_batch_write(s, &b, &rowid, &err) < 0, "a write whose insert fails fails");
	is_int(rowid, 0, "  *rowid 0");
	hearth_error_clear(&err);
	is_int(raw_exec(ALLOW_INSERTS), SQLITE_OK, "(trigger dropped)");
	is_int(walk(s, &sn), 0, "walk");
	{
		const struct want *bcd[] = { &B, &C, &D };

		ok(seen_is(&sn, bcd, 3), "  B, C, D: its delete was rolled back");
	}
	ok(batch_matches(s, &B), "  B reads back whole");

	/* Only a delete. */
	memset(&b, 0, sizeof(b));
	b.drop_through = C.id;
	rowid = 77;
	is_int(store_batch_write(s, &b, &rowid, &err), 0, "n == 0 with drop_through C");
	is_int(rowid, 0, "  writes no row: *rowid 0");
	is_int(walk(s, &sn), 0, "walk");
	{
		const struct want *d[] = { &D };

		ok(seen_is(&sn, d, 1), "  D alone: B and C went");
	}
	is_int(store_open(&other, db_path, &err), 0,
	       "a second connection (the records' readers have their own)");
	if (!other)
		exit(1);
	ok(batch_matches(other, &D), "  reads D as written");

	/* Row ids keep growing even when every batch went (records.c drops
	 * every batch once none holds a kept record; an id used again would
	 * send a reader holding the old one to another batch's bytes). */
	b = batch_of(&E);
	b.drop_through = D.id;
	is_int(store_batch_write(s, &b, &E.id, &err), 0, "write E, dropping every batch");
	ok(E.id > D.id, "  E numbered after D, not from 1 again (%" PRId64 " > %" PRId64 ")", E.id,
	   D.id);
	is_int(store_batch_read(other, D.id, STORE_BATCH_HEADS, 0, buf, 1, &err), -ENOENT,
	       "  the second connection finds D gone");
	hearth_error_clear(&err);
	ok(batch_matches(other, &E), "  and reads E");
	store_close(other);
	is_int(walk(s, &sn), 0, "walk");
	{
		const struct want *e[] = { &E };

		ok(seen_is(&sn, e, 1), "  E alone");
	}
	memset(&b, 0, sizeof(b));
	b.drop_through = E.id;
	is_int(store_batch_write(s, &b, NULL, &err), 0, "drop every batch alone");
	is_int(count_batches(), 0, "  none left");
	want_make(&F, 2, 300, 33, 6);
	b = batch_of(&F);
	is_int(store_batch_write(s, &b, &F.id, &err), 0, "write F");
	ok(F.id > E.id, "  numbered after E (%" PRId64 " > %" PRId64 ")", F.id, E.id);
	ok(batch_matches(s, &F), "  and reads back");

	/* Deleting a function leaves the batches alone. */
	{
		struct fn *f = make_fn("batched", NULL, 'h');

		is_int(store_function_create(s, f, &err), 0, "a function");
		is_int(store_function_delete(s, f->id, &err), 0, "deleted");
		is_int(count_batches(), 1, "  the batches stay (records.c hides its records)");
		fn_free(f);
	}

	/* Batches survive a reopen, and ids still grow after it. */
	store_close(s);
	s = NULL;
	is_int(store_open(&s, db_path, &err), 0, "reopen");
	is_int(walk(s, &sn), 0, "walk after the reopen");
	{
		const struct want *f[] = { &F };

		ok(seen_is(&sn, f, 1), "  F is there");
	}
	ok(batch_matches(s, &F), "  byte for byte");
	memset(&b, 0, sizeof(b));
	b.drop_through = F.id;
	is_int(store_batch_write(s, &b, NULL, &err), 0, "drop it");
	store_close(s);
	s = NULL;
	is_int(store_open(&s, db_path, &err), 0, "reopen with no batches");
	want_make(&G, 1, 150, 5, 7);
	b = batch_of(&G);
	is_int(store_batch_write(s, &b, &G.id, &err), 0, "write G");
	ok(G.id > F.id, "  numbered after F across the reopen (%" PRId64 " > %" PRId64 ")", G.id,
	   F.id);
	ok(batch_matches(s, &G), "  and reads back");

	seen_clear(&sn);
	store_close(s);
	want_free(&A);
	want_free(&B);
	want_free(&C);
	want_free(&D);
	want_free(&E);
	want_free(&F);
	want_free(&G);
	ok(err == NULL, "no stray error");
	hearth_error_clear(&err);
}

/* A create and a batch written that returned 0 survive kill -9 right
 * after them. */
static void test_crash(void)
{
	struct hearth_error *err = NULL;
	struct store *s = NULL;
	struct fn **list = NULL;
	size_t n = 0;
	int status = 0, found = 0;
	char *check;
	pid_t pid;

	int pfd[2];
	char c = 0;
	struct want w;
	int64_t batch = 0;

	fflush(stdout);
	if (pipe(pfd) < 0) {
		ok(0, "pipe");
		return;
	}
	want_make(&w, 5, 5 * 150, 3000, 42);
	pid = fork();
	if (pid == 0) {
		struct fn *f = make_fn("crashy", "/crashy", 'f');
		struct store_batch b = batch_of(&w);

		close(pfd[0]);
		if (store_open(&s, db_path, NULL) < 0 || store_function_create(s, f, NULL) < 0 ||
		    store_batch_write(s, &b, &batch, NULL) < 0)
			_exit(3);
		/* "answered": tell the parent, then wait to be killed */
		if (write(pfd[1], "k", 1) != 1 ||
		    write(pfd[1], &batch, sizeof(batch)) != sizeof(batch))
			_exit(4);
		for (;;)
			pause();
	}
	close(pfd[1]);
	ok(read(pfd[0], &c, 1) == 1 && c == 'k', "a child created a function");
	ok(read(pfd[0], &batch, sizeof(batch)) == sizeof(batch) && batch > 0,
	   "  and wrote a batch (%" PRId64 ")", batch);
	close(pfd[0]);
	kill(pid, SIGKILL);
	ok(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	   "and was killed with SIGKILL");
	is_int(store_open(&s, db_path, &err), 0, "open after the crash");
	if (s && store_function_list(s, &list, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			found |= !strcmp(list[i]->name, "crashy");
		store_function_list_free(list, n);
	}
	ok(found, "the answered create survived");
	w.id = batch;
	ok(s && batch > 0 && batch_matches(s, &w), "the answered batch survived, byte for byte");
	store_close(s);
	want_free(&w);
	check = raw_text("PRAGMA integrity_check");
	is_str(check, "ok", "integrity_check passes");
	free(check);
	hearth_error_clear(&err);
}

static void test_test_events(void)
{
	struct hearth_error *err = NULL;
	struct store *s = NULL;
	struct fn *f = make_fn("evented", NULL, 'v');
	char *json = NULL;

	is_int(store_open(&s, db_path, &err), 0, "open for test events");
	is_int(store_function_create(s, f, &err), 0, "create a function");
	is_int(store_test_events_get(s, f->id, &json, &err), 0, "its test events");
	is_str(json, "[]", "none yet: []");
	free(json);
	is_int(store_test_events_put(s, f->id, "[{\"name\":\"a\",\"payload\":1}]", &err), 0,
	       "save one");
	is_int(store_test_events_put(s, f->id, "[{\"name\":\"b\",\"payload\":{}}]", &err), 0,
	       "save another list");
	is_int(store_test_events_get(s, f->id, &json, &err), 0, "read them back");
	is_str(json, "[{\"name\":\"b\",\"payload\":{}}]", "the list was replaced whole");
	free(json);
	is_int(store_test_events_get(s, 424242, &json, &err), -ENOENT, "no function: ENOENT");
	hearth_error_clear(&err);
	is_int(store_test_events_put(s, 424242, "[]", &err), -ENOENT,
	       "saving for no function: ENOENT");
	hearth_error_clear(&err);
	is_int(store_function_delete(s, f->id, &err), 0, "delete the function");
	is_int(raw_pragma("SELECT count(*) FROM test_events"), 0, "its test events went with it");
	store_close(s);
	fn_free(f);
	hearth_error_clear(&err);
}

/* Schema 1's tables, as the first hearthd made them. */
#define SCHEMA_V1 \
	"CREATE TABLE functions (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL," \
	" language TEXT NOT NULL, handler TEXT NOT NULL, route TEXT, timeout_s INTEGER NOT NULL," \
	" memory_mb INTEGER NOT NULL, env_json TEXT NOT NULL DEFAULT '{}'," \
	" min_warm INTEGER NOT NULL, max_concurrency INTEGER NOT NULL," \
	" revision INTEGER NOT NULL, code_sha256 TEXT NOT NULL, code_path TEXT," \
	" created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL," \
	" CONSTRAINT functions_name_unique UNIQUE (name)," \
	" CONSTRAINT functions_route_unique UNIQUE (route));" \
	"CREATE INDEX functions_code_sha256 ON functions (code_sha256);" \
	"CREATE TABLE invocations (id TEXT PRIMARY KEY, function_id INTEGER NOT NULL," \
	" revision INTEGER NOT NULL, status TEXT, start_kind TEXT," \
	" created_at INTEGER NOT NULL, duration_ms REAL NOT NULL DEFAULT 0," \
	" init_ms REAL NOT NULL DEFAULT 0, queue_ms REAL NOT NULL DEFAULT 0," \
	" max_memory_mb INTEGER NOT NULL DEFAULT 0, error_json TEXT, logs TEXT, result TEXT);" \
	"CREATE INDEX invocations_function_created ON invocations (function_id, created_at, id);" \
	"CREATE INDEX invocations_created ON invocations (created_at, id);"

/* What schemas 2 to 6 added to it, as their hearthd made it. */
#define SCHEMA_V2_TO_V6 \
	"ALTER TABLE invocations ADD COLUMN payload TEXT;" \
	"CREATE TABLE test_events (function_id INTEGER PRIMARY KEY REFERENCES functions (id)" \
	" ON DELETE CASCADE, events_json TEXT NOT NULL);" \
	"ALTER TABLE functions ADD COLUMN description TEXT;" \
	"ALTER TABLE functions ADD COLUMN runtime TEXT;" \
	"ALTER TABLE functions ADD COLUMN role TEXT;" \
	"ALTER TABLE functions ADD COLUMN architectures TEXT NOT NULL DEFAULT '[\"x86_64\"]';" \
	"ALTER TABLE functions ADD COLUMN route_auth TEXT;" \
	"ALTER TABLE functions ADD COLUMN async_retries INTEGER NOT NULL DEFAULT 2;" \
	"ALTER TABLE functions ADD COLUMN async_max_age_s INTEGER NOT NULL DEFAULT 21600;" \
	"CREATE TABLE async_calls (id TEXT PRIMARY KEY, function_id INTEGER NOT NULL" \
	" REFERENCES functions (id) ON DELETE CASCADE, status TEXT NOT NULL CHECK (status IN" \
	" ('queued', 'running', 'succeeded', 'failed', 'expired')), payload TEXT NOT NULL," \
	" created_at INTEGER NOT NULL, next_at INTEGER NOT NULL, expires_at INTEGER NOT NULL," \
	" finished_at INTEGER, tries INTEGER NOT NULL DEFAULT 0," \
	" attempts INTEGER NOT NULL DEFAULT 0, redrives INTEGER NOT NULL DEFAULT 0," \
	" reason TEXT, last_error TEXT);" \
	"CREATE INDEX async_calls_queue ON async_calls (function_id, status, next_at);" \
	"CREATE INDEX async_calls_expiry ON async_calls (function_id, status, expires_at);" \
	"CREATE INDEX async_calls_finished ON async_calls (function_id, status, finished_at);" \
	"CREATE TABLE async_attempts (call_id TEXT NOT NULL REFERENCES async_calls (id)" \
	" ON DELETE CASCADE, n INTEGER NOT NULL, request_id TEXT NOT NULL," \
	" status TEXT NOT NULL, start_kind TEXT, at INTEGER NOT NULL," \
	" duration_ms REAL NOT NULL DEFAULT 0, init_ms REAL NOT NULL DEFAULT 0," \
	" queue_ms REAL NOT NULL DEFAULT 0, max_memory_mb INTEGER NOT NULL DEFAULT 0," \
	" error_json TEXT, logs TEXT, result TEXT, PRIMARY KEY (call_id, n)) WITHOUT ROWID;" \
	"DROP INDEX IF EXISTS invocations_created;" \
	"ALTER TABLE invocations ADD COLUMN memory_mb INTEGER;" \
	"ALTER TABLE invocations ADD COLUMN timeout_s INTEGER;" \
	"ALTER TABLE invocations ADD COLUMN ended_at INTEGER;"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* A database of schema 1, as an earlier hearthd left it, is migrated: its
 * rows stay, what later schemas added works, and its one record comes
 * back through store_legacy_take. */
static void test_migration_from_v1(void)
{
	static const char v1[] = SCHEMA_V1
		"INSERT INTO functions VALUES (7, 'old', 'python', 'main.handler', NULL, 3, 128, '{}',"
		" 1, 10, 4, '" SHA_A "', '/x', 1, 2);"
		"INSERT INTO invocations (id, function_id, revision, status, created_at, result)"
		" VALUES ('old-call', 7, 4, 'success', 100, '1');"
		"PRAGMA user_version = 1;";
	struct hearth_error *err = NULL;
	struct store *s = NULL;
	struct store_invocation *recs = NULL;
	struct fn *f = NULL;
	char *json = NULL;
	size_t n = 0;
	int64_t through = 0;

	unlink(db_path);
	is_int(raw_exec(v1), SQLITE_OK, "a database of schema 1");
	is_int(store_open(&s, db_path, &err), 0, "opens, migrating");
	if (!s)
		exit(1);
	is_int(raw_pragma("PRAGMA user_version"), 8, "now at schema 8");
	is_int(count_tables("invocations_created"), 0,
	       "schema 5 dropped the index by time over all functions");
	ok(store_function_get(s, 7, &f, &err) == 0 && f->revision == 4 && !strcmp(f->name, "old"),
	   "its function is still there");
	ok(f && f->async_retries == 2 && f->async_max_age_s == 21600 && !f->runtime &&
		   !strcmp(f->architectures_json, "[\"x86_64\"]"),
	   "  with schema 3's defaults");
	is_int(store_legacy_take(s, 10, &recs, &n, &through, &err), 0, "take its old records");
	is_int(n, 1, "  its one record");
	if (n == 1) {
		is_str(recs[0].id, "old-call", "  old-call");
		ok(recs[0].function_id == 7 && recs[0].revision == 4 && recs[0].created_at == 100,
		   "  its function, revision and time");
		is_str(recs[0].status, "success", "  its status");
		is_str(recs[0].result, "1", "  its result");
		ok(recs[0].payload == NULL && recs[0].start_kind == NULL && recs[0].logs == NULL &&
			   recs[0].error_json == NULL,
		   "  no event (schema 2), no start kind, logs or error");
		ok(recs[0].memory_mb == 0 && recs[0].timeout_s == 0 && recs[0].ended_at == 0,
		   "  and no memory size (schema 6): its logs are read as they are");
	}
	is_int(through, 1, "  through its rowid");
	store_invocations_free(recs, n);
	is_int(store_test_events_get(s, 7, &json, &err), 0, "test events work on it");
	is_str(json, "[]", "none");
	free(json);
	fn_free(f);
	store_close(s);
	hearth_error_clear(&err);
}

/* A database of schema 6 with records: store_legacy_take hands them over,
 * oldest (by rowid) first, with every column, a page at a time;
 * store_batch_write's legacy_through deletes exactly those moved; once
 * none is left their table goes. */
static void test_legacy_from_v6(void)
{
	static const char v6[] = SCHEMA_V1 SCHEMA_V2_TO_V6
		"INSERT INTO functions (id, name, language, handler, timeout_s, memory_mb,"
		" min_warm, max_concurrency, revision, code_sha256, created_at, updated_at)"
		" VALUES (7, 'old', 'python', 'main.handler', 3, 128, 1, 10, 4, '" SHA_A "', 1, 2);"
		/* Neither their ids nor their times are in rowid order. */
		"INSERT INTO invocations (rowid, id, function_id, revision, status, start_kind,"
		" created_at, duration_ms, init_ms, queue_ms, max_memory_mb, error_json, logs,"
		" result, payload, memory_mb, timeout_s, ended_at) VALUES"
		" (3, 'c-pre6', 7, 4, 'success', 'cold', 300, 1.5, 120.25, 0.125, 30, NULL,"
		"  'START\nhi\nEND\nREPORT\n', '1', NULL, NULL, NULL, NULL),"
		" (5, 'a-v6', 7, 4, 'error', 'warm', 200, 2.5, 0, 0.25, 31,"
		"  '{\"type\":\"ValueError\"}', 'hello\n', NULL, '{\"n\":2}', 256, 9, 210),"
		" (6, 'b-v6', 8, 1, 'timeout', 'stem', 100, 3000, 0, 0, 64, NULL, NULL, NULL,"
		"  NULL, 128, 3, 3100),"
		" (10, 'd-v6', 7, 4, 'crashed', NULL, 50, 4, 0, 0, 0, NULL, '', 'null', '{}',"
		"  512, 30, 60),"
		" (11, 'e-v6', 7, 5, 'success', 'warm', 400, 0.5, 0, 0, 20, NULL, 'x', '2', NULL,"
		"  128, 3, 401);"
		"PRAGMA user_version = 6;";
	struct hearth_error *err = NULL;
	struct store *s = NULL;
	struct store_invocation *recs = NULL;
	struct store_batch b;
	struct want w;
	size_t n = 0;
	int64_t through = 0, rowid = 0, total = 0;
	char *ids;

	unlink(db_path);
	is_int(raw_exec(v6), SQLITE_OK, "a database of schema 6 with 5 records");
	is_int(store_open(&s, db_path, &err), 0, "opens, migrating");
	if (!s)
		exit(1);
	is_int(raw_pragma("PRAGMA user_version"), 8, "now at schema 8");
	is_int(count_tables("invocations"), 0, "invocations was renamed");
	is_int(raw_pragma("SELECT count(*) FROM invocations_v6"), 5, "  to invocations_v6, all 5");
	is_int(count_batches(), 0, "no batches yet");
	is_int(store_function_delete(s, 7, &err), 0, "delete the function of 4 of them");
	is_int(raw_pragma("SELECT count(*) FROM invocations_v6"), 5, "  its old records stay");

	is_int(store_legacy_take(s, 2, &recs, &n, &through, &err), 0, "take 2");
	is_int(n, 2, "  two");
	is_int(through, 5, "  through rowid 5");
	if (n == 2) {
		struct store_invocation *c = &recs[0], *a = &recs[1];

		is_str(c->id, "c-pre6", "  the first by rowid (not by id or time)");
		ok(c->function_id == 7 && c->revision == 4 && c->created_at == 300,
		   "  its function, revision and time");
		is_str(c->status, "success", "  its status");
		is_str(c->start_kind, "cold", "  its start kind");
		ok(c->duration_ms == 1.5 && c->init_ms == 120.25 && c->queue_ms == 0.125,
		   "  its durations, to the fraction");
		is_int(c->max_memory_mb, 30, "  its max memory");
		is_str(c->logs, "START\nhi\nEND\nREPORT\n", "  its logs, with their lines");
		is_str(c->result, "1", "  its result");
		ok(c->error_json == NULL && c->payload == NULL, "  NULL error and event stay NULL");
		ok(c->memory_mb == 0 && c->timeout_s == 0 && c->ended_at == 0,
		   "  a record from before schema 6: NULL memory_mb, timeout, end read 0");
		is_str(a->id, "a-v6", "  then the second by rowid");
		is_str(a->status, "error", "  its status");
		is_str(a->start_kind, "warm", "  its start kind");
		ok(a->duration_ms == 2.5 && a->queue_ms == 0.25 && a->max_memory_mb == 31,
		   "  its numbers");
		is_str(a->error_json, "{\"type\":\"ValueError\"}", "  its error");
		is_str(a->logs, "hello\n", "  its own output");
		ok(a->result == NULL, "  no result");
		is_str(a->payload, "{\"n\":2}", "  its event");
		ok(a->memory_mb == 256 && a->timeout_s == 9 && a->ended_at == 210,
		   "  the memory size, timeout and end schema 6 keeps");
	}
	store_invocations_free(recs, n);
	is_int(store_legacy_take(s, 2, &recs, &n, &through, &err), 0, "take 2 again");
	ok(n == 2 && through == 5 && !strcmp(recs[0].id, "c-pre6"),
	   "  the same two: a take deletes nothing");
	store_invocations_free(recs, n);

	/* Moved into a batch: deleted in its transaction. */
	want_make(&w, 2, 300, 40, 9);
	b = batch_of(&w);
	b.legacy_through = through;
	is_int(store_batch_write(s, &b, &w.id, &err), 0, "write their batch, legacy_through 5");
	ok(w.id > 0 && batch_matches(s, &w), "  the batch is there");
	ids = raw_text("SELECT group_concat(rowid) FROM (SELECT rowid FROM invocations_v6 "
		       "ORDER BY rowid)");
	is_str(ids, "6,10,11", "  exactly rowids 3 and 5 went");
	free(ids);
	want_free(&w);

	is_int(store_legacy_take(s, 2, &recs, &n, &through, &err), 0, "take the next 2");
	ok(n == 2 && !strcmp(recs[0].id, "b-v6") && !strcmp(recs[1].id, "d-v6"), "  b-v6 and d-v6");
	is_int(through, 10, "  through rowid 10");
	if (n == 2) {
		ok(recs[0].function_id == 8 && recs[0].duration_ms == 3000 &&
			   recs[0].memory_mb == 128 && recs[0].ended_at == 3100 &&
			   !strcmp(recs[0].start_kind, "stem") && !recs[0].logs,
		   "  b-v6's columns");
		ok(recs[1].start_kind == NULL && recs[1].logs && !strcmp(recs[1].logs, "") &&
			   recs[1].result && !strcmp(recs[1].result, "null") && recs[1].payload &&
			   !strcmp(recs[1].payload, "{}") && recs[1].timeout_s == 30,
		   "  d-v6's: NULL start kind, empty logs (not NULL), result null");
	}
	store_invocations_free(recs, n);

	/* A batch whose insert fails keeps the old records too. */
	is_int(raw_exec(REFUSE_INSERTS), SQLITE_OK, "(a trigger refuses inserts)");
	want_make(&w, 2, 300, 40, 10);
	b = batch_of(&w);
	b.legacy_through = 10;
	ok(store_batch_write(s, &b, &rowid, &err) < 0, "a batch whose insert fails fails");
	hearth_error_clear(&err);
	is_int(raw_exec(ALLOW_INSERTS), SQLITE_OK, "(trigger dropped)");
	is_int(raw_pragma("SELECT count(*) FROM invocations_v6"), 3,
	       "  and deleted no old record: one transaction");

	/* Through a rowid between two: the ones up to it only. */
	b.legacy_through = 8;
	is_int(store_batch_write(s, &b, &w.id, &err), 0, "a batch with legacy_through 8");
	ids = raw_text("SELECT group_concat(rowid) FROM (SELECT rowid FROM invocations_v6 "
		       "ORDER BY rowid)");
	is_str(ids, "10,11", "  deleted rowid 6 only");
	free(ids);
	want_free(&w);

	is_int(store_legacy_take(s, 10, &recs, &n, &through, &err), 0, "take up to 10");
	ok(n == 2 && !strcmp(recs[0].id, "d-v6") && !strcmp(recs[1].id, "e-v6"),
	   "  the last two: d-v6, e-v6");
	is_int(through, 11, "  through rowid 11");
	ok(n == 2 && recs[1].revision == 5 && recs[1].ended_at == 401, "  e-v6's columns");
	store_invocations_free(recs, n);
	total = count_batches();
	memset(&b, 0, sizeof(b));
	b.legacy_through = through;
	rowid = 77;
	is_int(store_batch_write(s, &b, &rowid, &err), 0, "n == 0 with only legacy_through 11");
	is_int(rowid, 0, "  writes no row");
	is_int(count_batches(), total, "  no batch");
	is_int(raw_pragma("SELECT count(*) FROM invocations_v6"), 0, "  and deletes the rest");
	is_int(count_tables("invocations_v6"), 1, "  the table is still there");

	recs = NULL;
	n = 99;
	through = 99;
	is_int(store_legacy_take(s, 10, &recs, &n, &through, &err), 0, "take from the empty table");
	ok(n == 0 && recs == NULL && through == 0, "  nothing, through 0");
	is_int(count_tables("invocations_v6"), 0, "  and the table went");
	is_int(count_tables("invocations_function_created"), 0, "  with its index");
	is_int(store_legacy_take(s, 10, &recs, &n, &through, &err), 0, "take again");
	ok(n == 0 && recs == NULL, "  nothing");
	store_close(s);
	s = NULL;
	is_int(store_open(&s, db_path, &err), 0, "reopen");
	is_int(raw_pragma("PRAGMA user_version"), 8, "  still schema 8");
	is_int(count_tables("invocations_v6"), 0, "  no old table came back");
	is_int(store_legacy_take(s, 10, &recs, &n, &through, &err), 0, "  take");
	ok(n == 0 && recs == NULL, "  nothing");
	is_int(count_batches(), total, "  the batches stayed");
	store_close(s);
	ok(err == NULL, "no stray error");
	hearth_error_clear(&err);
}

static void test_newer_schema(void)
{
	struct hearth_error *err = NULL;
	struct store *s = NULL;

	is_int(raw_exec("PRAGMA user_version = 99"), SQLITE_OK, "bump user_version to 99");
	ok(store_open(&s, db_path, &err) < 0, "a newer schema is refused");
	ok(s == NULL, "no store handed out");
	ok(err && strstr(err->msg, "newer"), "with a clear message: %s", err ? err->msg : "(none)");
	hearth_error_clear(&err);
	is_int(raw_pragma("PRAGMA user_version"), 99, "and the database was not touched");
}

/* ---- store_on_busy ---- */

struct holder {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int state; /* 1: the write lock held, 2: given up */
	int rc;
};

/* Holds the write lock from another connection for 150 ms. */
static void *hold_lock(void *arg)
{
	struct holder *h = arg;
	sqlite3 *db = NULL;
	struct timespec ts = { 0, 150 * 1000000L };

	h->rc = sqlite3_open(db_path, &db);
	if (h->rc == SQLITE_OK)
		h->rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	pthread_mutex_lock(&h->mu);
	h->state = 1;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	if (h->rc == SQLITE_OK) {
		nanosleep(&ts, NULL);
		h->rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	sqlite3_close(db);
	return NULL;
}

static void count_busy(void *arg)
{
	(*(int *)arg)++;
}

/* The hook is called once when a write finds the lock taken, and the
 * write waits for it as SQLite's busy timeout did. */
static void test_busy_hook(void)
{
	struct holder h = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	struct hearth_error *err = NULL;
	struct store *s = NULL;
	struct fn *f = make_fn("busy", NULL, 'e');
	pthread_t t;
	int called = 0;

	is_int(store_open(&s, db_path, &err), 0, "busy: the store opens");
	if (!s || pthread_create(&t, NULL, hold_lock, &h) != 0) {
		ok(0, "  a thread holds the write lock");
		store_close(s);
		fn_free(f);
		return;
	}
	store_on_busy(s, count_busy, &called);
	pthread_mutex_lock(&h.mu);
	while (h.state == 0)
		pthread_cond_wait(&h.cv, &h.mu);
	pthread_mutex_unlock(&h.mu);
	is_int(h.rc, SQLITE_OK, "  another connection holds the write lock");
	is_int(store_function_create(s, f, &err), 0, "  a write waits for it, then is done");
	pthread_join(t, NULL);
	is_int(h.rc, SQLITE_OK, "  the other connection committed");
	is_int(called, 1, "  the hook was called once");
	called = 0;
	is_int(store_function_delete(s, f->id, &err), 0, "  a write with the lock free");
	is_int(called, 0, "  calls no hook");
	store_on_busy(s, NULL, NULL);
	store_close(s);
	fn_free(f);
	hearth_error_free(err);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(db_path, sizeof(db_path), "%s/hearth.db", dir);
	test_functions();
	test_batches();
	test_crash();
	test_test_events();
	test_busy_hook();
	test_legacy_from_v6();
	test_migration_from_v1();
	test_newer_schema();
	testfs_remove(dir);
	return tap_done();
}
