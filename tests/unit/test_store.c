/* Unit tests for store.c: schema and migration, the function registry and
 * the invocation records. */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
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
	is_int(raw_pragma("PRAGMA user_version"), 6, "user_version is the schema version");
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

static void test_invocations(void)
{
	struct hearth_error *err = NULL;
	struct store *s = NULL;
	struct store_invocation recs[5], one, *page = NULL, *page2 = NULL;
	char ids[5][16];
	size_t n = 0, n2 = 0;

	is_int(store_open(&s, db_path, &err), 0, "open for invocations");
	memset(recs, 0, sizeof(recs));
	for (int i = 0; i < 5; i++) {
		snprintf(ids[i], sizeof(ids[i]), "req-%d", i);
		recs[i].id = ids[i];
		recs[i].function_id = i < 4 ? 1 : 2;
		recs[i].revision = 1;
		recs[i].status = (char *)(i == 2 ? "error" : "success");
		recs[i].start_kind = (char *)(i == 0 ? "cold" : "warm");
		recs[i].created_at = 1000 + (i < 4 ? i : 1); /* req-4 shares req-1's time */
		recs[i].duration_ms = 1.5 + i;
		recs[i].init_ms = i == 0 ? 120.25 : 0;
		recs[i].queue_ms = 0.125;
		recs[i].max_memory_mb = 30 + i;
		recs[i].error_json = (char *)(i == 2 ? "{\"type\":\"ValueError\"}" : NULL);
		recs[i].logs = (char *)"hello\n";
		recs[i].result = (char *)"{\"ok\":true}";
		recs[i].payload = (char *)(i == 2 ? "{\"n\":2}" : NULL);
		if (i == 2) { /* the lines around the logs are made on read */
			recs[i].memory_mb = 256;
			recs[i].timeout_s = 9;
			recs[i].ended_at = 1010;
		}
	}
	is_int(store_invocations_insert(s, recs, 5, &err), 0, "insert a batch of 5");
	is_int(store_invocations_insert(s, recs, 2, &err), 0, "a retried batch is harmless");
	is_int(raw_pragma("SELECT count(*) FROM invocations"), 5, "5 rows, no duplicates");

	is_int(store_invocation_get(s, "req-2", &one, &err), 0, "get one record");
	is_str(one.id, "req-2", "id");
	is_int(one.function_id, 1, "function_id");
	is_str(one.status, "error", "status");
	is_str(one.start_kind, "warm", "start kind");
	ok(one.duration_ms == 3.5, "duration_ms keeps its fraction");
	ok(one.queue_ms == 0.125, "queue_ms");
	is_int(one.max_memory_mb, 32, "max_memory_mb");
	is_str(one.error_json, "{\"type\":\"ValueError\"}", "error_json");
	is_str(one.logs, "hello\n", "get carries the logs");
	is_str(one.result, "{\"ok\":true}", "and the result");
	is_str(one.payload, "{\"n\":2}", "and the event it was given");
	ok(one.memory_mb == 256 && one.timeout_s == 9 && one.ended_at == 1010,
	   "the memory size, timeout and end the logs' lines need");
	store_invocation_clear(&one);
	is_int(store_invocation_get(s, "req-1", &one, &err), 0, "a record without them");
	ok(one.memory_mb == 0 && one.timeout_s == 0 && one.ended_at == 0,
	   "  reads 0 for each (NULL in the table)");
	is_int(raw_pragma("SELECT count(*) FROM invocations WHERE memory_mb IS NULL AND "
			  "timeout_s IS NULL AND ended_at IS NULL"),
	       4, "  the other four rows hold NULL there");
	store_invocation_clear(&one);
	is_int(store_invocation_get(s, "nope", &one, &err), -ENOENT, "a missing record is -ENOENT");
	hearth_error_clear(&err);

	is_int(store_invocations_list(s, 1, NULL, 2, 0, &page, &n, &err), 0, "list page 1");
	is_int(n, 2, "two records");
	if (n == 2) {
		is_str(page[0].id, "req-3", "newest first");
		is_str(page[1].id, "req-2", "then the next");
		ok(page[0].logs == NULL && page[0].result == NULL && page[1].payload == NULL,
		   "a list leaves out the bodies and the event");
		is_int(store_invocations_list(s, 1, &page[1], 10, 0, &page2, &n2, &err), 0,
		       "list page 2 after the cursor");
		is_int(n2, 2, "the remaining two");
		if (n2 == 2) {
			is_str(page2[0].id, "req-1", "page 2 starts after the cursor");
			is_str(page2[1].id, "req-0", "and ends with the oldest");
		}
		store_invocations_free(page2, n2);
	}
	store_invocations_free(page, n);
	is_int(store_invocations_list(s, 0, NULL, 100, STORE_INV_WITH_BODIES, &page, &n, &err), 0,
	       "list across functions, with bodies");
	is_int(n, 5, "all five");
	if (n == 5) {
		is_str(page[2].id, "req-4", "equal times are ordered by id, descending");
		is_str(page[3].id, "req-1", "both of them");
		is_str(page[1].logs, "hello\n", "bodies when asked");
	}
	store_invocations_free(page, n);

	is_int(store_invocations_prune(s, 3, &err), 2, "prune keeps the newest 3");
	is_int(store_invocation_get(s, "req-0", &one, &err), -ENOENT, "the oldest went");
	hearth_error_clear(&err);
	is_int(store_invocation_get(s, "req-3", &one, &err), 0, "the newest stayed");
	store_invocation_clear(&one);
	is_int(store_invocations_prune(s, 3, &err), 0, "pruning again deletes nothing");
	{
		/* Pruning goes by the order records were written, not by their
		 * times: a call that started long ago but was written last
		 * stays. */
		struct store_invocation late = recs[0];

		late.id = (char *)"req-late";
		late.created_at = 10;
		is_int(store_invocations_insert(s, &late, 1, &err), 0,
		       "a late record, written last");
		is_int(store_invocations_prune(s, 3, &err), 1, "prune keeps the 3 written last");
		is_int(store_invocation_get(s, "req-late", &one, &err), 0,
		       "the one written last stayed, though its time is the oldest");
		store_invocation_clear(&one);
		is_int(store_invocation_get(s, "req-2", &one, &err), -ENOENT,
		       "the one written first went");
		hearth_error_clear(&err);
		is_int(store_invocations_prune(s, 0, &err), 3, "keeping none deletes all");
		is_int(raw_pragma("SELECT count(*) FROM invocations"), 0, "none left");
		is_int(store_invocations_insert(s, recs, 5, &err), 0, "the batch again");
	}
	{
		/* With a retention bound, each insert deletes what is past it,
		 * in its own commit, at most 256 rows at a time. */
		static struct store_invocation many[300];
		static char many_ids[300][16];
		struct store_invocation late = recs[0];

		store_set_retention(s, 2);
		late.id = (char *)"req-late2";
		is_int(store_invocations_insert(s, &late, 1, &err), 0,
		       "an insert with a bound of 2");
		is_int(raw_pragma("SELECT count(*) FROM invocations"), 2, "2 rows left");
		is_int(store_invocation_get(s, "req-late2", &one, &err), 0,
		       "the new one among them");
		store_invocation_clear(&one);
		store_set_retention(s, -1);
		for (int i = 0; i < 300; i++) {
			snprintf(many_ids[i], sizeof(many_ids[i]), "many-%d", i);
			many[i] = recs[1];
			many[i].id = many_ids[i];
		}
		is_int(store_invocations_insert(s, many, 300, &err), 0, "300 rows, no bound");
		is_int(raw_pragma("SELECT count(*) FROM invocations"), 302, "302 rows");
		/* In steps of 16, the CPU let go between them. */
		store_set_yield_every(s, 16);
		store_set_retention(s, 0);
		late.id = (char *)"req-late3";
		is_int(store_invocations_insert(s, &late, 1, &err), 0,
		       "an insert with a bound of 0");
		is_int(raw_pragma("SELECT count(*) FROM invocations"), 303 - 256,
		       "deleted 256 rows, the most one transaction deletes");
		late.id = (char *)"req-late4";
		is_int(store_invocations_insert(s, &late, 1, &err), 0, "another");
		is_int(raw_pragma("SELECT count(*) FROM invocations"), 0, "the rest went");
		store_set_retention(s, -1);
		store_set_yield_every(s, 0);
		/* A prune goes on past a gap wider than its steps (records
		 * deleted with their function). */
		for (int i = 0; i < 300; i++)
			many_ids[i][0] = 'M';
		is_int(store_invocations_insert(s, many, 300, &err), 0, "300 rows again");
		is_int(raw_exec("DELETE FROM invocations WHERE rowid IN (SELECT rowid FROM "
				"invocations ORDER BY rowid LIMIT 280 OFFSET 10)"),
		       SQLITE_OK, "a gap of 280 rowids after the first 10");
		is_int(store_invocations_prune(s, 1, &err), 19,
		       "prune keeps only the last, across it");
		is_int(raw_pragma("SELECT count(*) FROM invocations"), 1, "1 row left");
		is_int(store_invocations_insert(s, recs, 5, &err), 0, "the batch once more");
	}

	/* deleting a function deletes its records */
	{
		struct fn *f = make_fn("withrecs", NULL, 'e');
		struct store_invocation r = { 0 };

		store_function_create(s, f, &err);
		r.id = (char *)"req-del";
		r.function_id = f->id;
		r.created_at = 5000;
		is_int(store_invocations_insert(s, &r, 1, &err), 0,
		       "insert a record for a function");
		is_int(store_function_delete(s, f->id, &err), 0, "delete that function");
		is_int(store_invocation_get(s, "req-del", &one, &err), -ENOENT,
		       "its records went with it");
		hearth_error_clear(&err);
		fn_free(f);
	}
	store_close(s);
	ok(err == NULL, "no stray error");
	hearth_error_clear(&err);
}

/* A create that returned 0 survives kill -9 right after it. */
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

	fflush(stdout);
	if (pipe(pfd) < 0) {
		ok(0, "pipe");
		return;
	}
	pid = fork();
	if (pid == 0) {
		struct fn *f = make_fn("crashy", "/crashy", 'f');

		close(pfd[0]);
		if (store_open(&s, db_path, NULL) < 0 || store_function_create(s, f, NULL) < 0)
			_exit(3);
		/* "answered": tell the parent, then wait to be killed */
		if (write(pfd[1], "k", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(pfd[1]);
	ok(read(pfd[0], &c, 1) == 1 && c == 'k', "a child created a function");
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
	store_close(s);
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

/* A database of schema 1, as an earlier hearthd left it, is migrated: its
 * rows stay, and what schemas 2 and 3 added works. */
static void test_migration_from_v1(void)
{
	static const char v1[] =
		"CREATE TABLE functions (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,"
		" language TEXT NOT NULL, handler TEXT NOT NULL, route TEXT, timeout_s INTEGER NOT NULL,"
		" memory_mb INTEGER NOT NULL, env_json TEXT NOT NULL DEFAULT '{}',"
		" min_warm INTEGER NOT NULL, max_concurrency INTEGER NOT NULL,"
		" revision INTEGER NOT NULL, code_sha256 TEXT NOT NULL, code_path TEXT,"
		" created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
		" CONSTRAINT functions_name_unique UNIQUE (name),"
		" CONSTRAINT functions_route_unique UNIQUE (route));"
		"CREATE INDEX functions_code_sha256 ON functions (code_sha256);"
		"CREATE TABLE invocations (id TEXT PRIMARY KEY, function_id INTEGER NOT NULL,"
		" revision INTEGER NOT NULL, status TEXT, start_kind TEXT,"
		" created_at INTEGER NOT NULL, duration_ms REAL NOT NULL DEFAULT 0,"
		" init_ms REAL NOT NULL DEFAULT 0, queue_ms REAL NOT NULL DEFAULT 0,"
		" max_memory_mb INTEGER NOT NULL DEFAULT 0, error_json TEXT, logs TEXT, result TEXT);"
		"CREATE INDEX invocations_function_created ON invocations (function_id, created_at, id);"
		"CREATE INDEX invocations_created ON invocations (created_at, id);"
		"INSERT INTO functions VALUES (7, 'old', 'python', 'main.handler', NULL, 3, 128, '{}',"
		" 1, 10, 4, '"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"',"
		" '/x', 1, 2);"
		"INSERT INTO invocations (id, function_id, revision, status, created_at, result)"
		" VALUES ('old-call', 7, 4, 'success', 100, '1');"
		"PRAGMA user_version = 1;";
	struct hearth_error *err = NULL;
	struct store *s = NULL;
	struct store_invocation one = { 0 };
	struct fn *f = NULL;
	char *json = NULL;

	unlink(db_path);
	is_int(raw_exec(v1), SQLITE_OK, "a database of schema 1");
	is_int(store_open(&s, db_path, &err), 0, "opens, migrating");
	is_int(raw_pragma("PRAGMA user_version"), 6, "now at schema 6");
	is_int(raw_pragma("SELECT count(*) FROM sqlite_master WHERE name = 'invocations_created'"),
	       0, "schema 5 dropped the index by time over all functions");
	ok(store_function_get(s, 7, &f, &err) == 0 && f->revision == 4 && !strcmp(f->name, "old"),
	   "its function is still there");
	ok(f && f->async_retries == 2 && f->async_max_age_s == 21600 && !f->runtime &&
		   !strcmp(f->architectures_json, "[\"x86_64\"]"),
	   "  with schema 3's defaults");
	ok(store_invocation_get(s, "old-call", &one, &err) == 0 && !strcmp(one.result, "1") &&
		   one.payload == NULL,
	   "its record too, with no event");
	ok(one.memory_mb == 0 && one.timeout_s == 0 && one.ended_at == 0,
	   "  and no memory size (schema 6): its logs are read as they are");
	is_int(store_test_events_get(s, 7, &json, &err), 0, "test events work on it");
	is_str(json, "[]", "none");
	free(json);
	store_invocation_clear(&one);
	fn_free(f);
	store_close(s);
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

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(db_path, sizeof(db_path), "%s/hearth.db", dir);
	test_functions();
	test_invocations();
	test_crash();
	test_test_events();
	test_migration_from_v1();
	test_newer_schema();
	testfs_remove(dir);
	return tap_done();
}
