/* Unit tests for the asynchronous calls in store.c: enqueue, the due
 * order, claim, an attempt's outcome (success, retry, dead letter),
 * requeue, expiry, recovery of calls left running, redrive, pruning, the
 * cascade from a deleted function, and what survives a kill -9 of the
 * process that wrote it. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "function.h"
#include "store.h"
#include "tap.h"
#include "testfs.h"

static char dir[] = "/tmp/hearth-test-asyncstore-XXXXXX";
static char db_path[256];

static struct fn *make_fn(const char *name, char shachar)
{
	struct fn *f = fn_new();

	free(f->name);
	f->name = strdup(name);
	free(f->language);
	f->language = strdup("python");
	free(f->handler);
	f->handler = strdup("main.handler");
	f->revision = 1;
	memset(f->code_sha256, shachar, 64);
	f->code_sha256[64] = '\0';
	return f;
}

static int64_t raw_int(const char *sql)
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

static int enqueue(struct store *s, const char *id, int64_t fid, const char *payload, int64_t at,
		   int64_t expires)
{
	struct store_async_new c = { .id = id,
				     .function_id = fid,
				     .payload = payload,
				     .payload_len = strlen(payload),
				     .created_at = at,
				     .next_at = at,
				     .expires_at = expires };

	return store_async_enqueue(s, &c, 1, NULL);
}

/* A finished attempt with the fields an invocation record has. */
static struct store_async_attempt attempt(const char *req, const char *status)
{
	struct store_async_attempt a = { 0 };

	a.request_id = (char *)req;
	a.status = (char *)status;
	a.start_kind = (char *)"warm";
	a.at = 5000;
	a.duration_ms = 1.5;
	a.max_memory_mb = 12;
	a.logs = (char *)"a log line\n";
	if (strcmp(status, "success") == 0)
		a.result = (char *)"{\"ok\":true}";
	else
		a.error_json =
			(char *)"{\"type\":\"ValueError\",\"message\":\"boom\",\"stack\":[]}";
	return a;
}

static void test_queue(struct store *s, int64_t fid)
{
	struct hearth_error *err = NULL;
	struct store_async_due due[8];
	struct store_async_counts cnt;
	struct store_async_new two[2] = {
		{ "c2", fid, "{\"n\":2}", 7, 1000, 1000, 100000 },
		{ "c3", fid, "{\"n\":3}xx", 7, 1001, 1001, 100000 }, /* only 7 bytes are its */
	};
	char *payload = NULL;
	size_t n = 0, len = 0;

	is_int(enqueue(s, "c1", fid, "{\"n\":1}", 1000, 100000), 0, "enqueue one call");
	is_int(store_async_enqueue(s, two, 2, &err), 0, "enqueue two in one transaction");
	is_int(enqueue(s, "c1", fid, "{}", 1000, 100000), -EEXIST, "an id is taken once");
	is_int(enqueue(s, "cx", 999, "{}", 1000, 100000), -ENOENT,
	       "a call of a missing function is refused");
	is_int(store_async_counts(s, fid, &cnt, &err), 0, "counts");
	ok(cnt.queued == 3 && cnt.running == 0 && cnt.dead == 0 && cnt.next_at == 1000 &&
		   cnt.expires_at == 100000,
	   "three queued, earliest due at 1000");

	is_int(store_async_due(s, fid, 8, due, &n, &err), 0, "the due list");
	ok(n == 3 && !strcmp(due[0].id, "c1") && !strcmp(due[1].id, "c2") &&
		   !strcmp(due[2].id, "c3"),
	   "in next_at order, then arrival");
	is_int(store_async_due(s, fid, 2, due, &n, &err), 0, "a shorter list");
	is_int(n, 2, "is cut at the limit");

	is_int(store_async_claim(s, "c3", &payload, &len, &err), 0, "claim c3");
	ok(payload && len == 7 && !strcmp(payload, "{\"n\":3}"), "its payload, %zu bytes", len);
	free(payload);
	payload = NULL;
	is_int(store_async_claim(s, "c3", &payload, &len, &err), -ENOENT,
	       "a running call cannot be claimed again");
	hearth_error_clear(&err);
	ok(payload == NULL, "and hands out nothing");
	is_int(store_async_counts(s, fid, &cnt, &err), 0, "counts");
	ok(cnt.queued == 2 && cnt.running == 1, "two queued, one running");
	is_int(store_async_requeue(s, "c3", 500, &err), 0, "a requeue (uncounted)");
	is_int(store_async_due(s, fid, 8, due, &n, &err), 0, "the due list");
	ok(n == 3 && !strcmp(due[0].id, "c3") && due[0].tries == 0,
	   "the requeued call comes first (next_at 500), no try counted");
	is_int(store_async_requeue(s, "c3", 500, &err), -ENOENT, "only a running call requeues");
	hearth_error_clear(&err);
}

static void test_outcomes(struct store *s, int64_t fid)
{
	struct hearth_error *err = NULL;
	struct store_async_call c = { 0 };
	struct store_async_attempt *att = NULL;
	struct store_async_attempt a;
	struct store_async_counts cnt;
	struct store_async_outcome retry = { "queued", 9000, NULL, 6000 };
	struct store_async_outcome dead = { "failed", 0, "retries_exhausted", 7000 };
	struct store_async_outcome done = { "succeeded", 0, NULL, 8000 };
	char *payload = NULL;
	size_t n = 0, len;

	/* c1: fails, is retried, fails for good */
	store_async_claim(s, "c1", &payload, &len, NULL);
	free(payload);
	a = attempt("r1", "error");
	is_int(store_async_finish(s, "c1", &a, &retry, &err), 0, "a failed attempt, to retry");
	is_int(store_async_call_get(s, "c1", &c, &att, &n, &err), 0, "read c1");
	ok(!strcmp(c.status, "queued") && c.next_at == 9000 && c.tries == 1 && c.attempts == 1 &&
		   c.finished_at == 0 && c.last_error && strstr(c.last_error, "boom"),
	   "queued again at 9000, one try, its last error kept");
	ok(n == 1 && att[0].n == 1 && !strcmp(att[0].request_id, "r1") &&
		   !strcmp(att[0].status, "error") && !strcmp(att[0].logs, "a log line\n") &&
		   att[0].result == NULL && att[0].duration_ms == 1.5 && att[0].max_memory_mb == 12,
	   "its attempt is recorded whole");
	ok(!strcmp(c.payload, "{\"n\":1}"), "the payload comes with one call");
	store_async_call_clear(&c);
	store_async_attempts_free(att, n);
	is_int(store_async_finish(s, "c1", &a, &retry, &err), -ENOENT,
	       "an outcome for a call not running is refused");
	hearth_error_clear(&err);
	is_int(raw_int("SELECT count(*) FROM async_attempts WHERE call_id = 'c1'"), 1,
	       "and writes no attempt (the transaction rolled back)");

	store_async_claim(s, "c1", &payload, &len, NULL);
	free(payload);
	a = attempt("r2", "timeout");
	is_int(store_async_finish(s, "c1", &a, &dead, &err), 0, "the last attempt fails");
	is_int(store_async_call_get(s, "c1", &c, &att, &n, &err), 0, "read c1");
	ok(!strcmp(c.status, "failed") && !strcmp(c.reason, "retries_exhausted") &&
		   c.finished_at == 7000 && c.attempts == 2,
	   "a dead letter: failed, retries_exhausted, two attempts");
	ok(n == 2 && att[1].n == 2 && !strcmp(att[1].status, "timeout"), "both attempts, in order");
	store_async_call_clear(&c);
	store_async_attempts_free(att, n);

	/* c2: succeeds */
	store_async_claim(s, "c2", &payload, &len, NULL);
	free(payload);
	a = attempt("r3", "success");
	is_int(store_async_finish(s, "c2", &a, &done, &err), 0, "a successful attempt");
	is_int(store_async_call_get(s, "c2", &c, &att, &n, &err), 0, "read c2");
	ok(!strcmp(c.status, "succeeded") && c.finished_at == 8000 && !c.last_error && !c.reason,
	   "succeeded, no error");
	ok(n == 1 && !strcmp(att[0].result, "{\"ok\":true}"), "its result is kept");
	store_async_call_clear(&c);
	store_async_attempts_free(att, n);
	is_int(store_async_claim(s, "c2", &payload, &len, &err), -ENOENT,
	       "a succeeded call is never claimed again");
	hearth_error_clear(&err);

	is_int(store_async_counts(s, fid, &cnt, &err), 0, "counts");
	ok(cnt.queued == 1 && cnt.dead == 1 && cnt.running == 0, "one queued (c3), one dead (c1)");
	is_int(store_async_call_get(s, "nope", &c, &att, &n, &err), -ENOENT, "an unknown id");
	hearth_error_clear(&err);
}

static void test_expiry_and_redrive(struct store *s, int64_t fid)
{
	struct hearth_error *err = NULL;
	struct store_async_call *dl = NULL, c = { 0 };
	struct store_async_attempt *att = NULL;
	size_t n = 0, na = 0;

	is_int(enqueue(s, "e1", fid, "{}", 2000, 3000), 0, "a call that expires at 3000");
	is_int(store_async_expire(s, fid, 2999, &err), 0, "nothing expires before");
	is_int(store_async_expire(s, fid, 3000, &err), 1, "it expires at 3000");
	is_int(store_async_call_get(s, "e1", &c, &att, &na, &err), 0, "read e1");
	ok(!strcmp(c.status, "expired") && !strcmp(c.reason, "expired") && c.finished_at == 3000 &&
		   na == 0,
	   "expired, never tried");
	store_async_call_clear(&c);
	store_async_attempts_free(att, na);

	is_int(store_async_dead_letters(s, fid, NULL, 10, &dl, &n, &err), 0, "dead letters");
	ok(n == 2 && !strcmp(dl[0].id, "c1") && !strcmp(dl[1].id, "e1") && dl[0].payload == NULL,
	   "newest first (c1 failed at 7000, e1 at 3000), no payloads");
	if (n == 2) {
		struct store_async_call *page = NULL;
		size_t pn = 0;

		is_int(store_async_dead_letters(s, fid, &dl[0], 10, &page, &pn, &err), 0,
		       "the page after c1");
		ok(pn == 1 && !strcmp(page[0].id, "e1"), "is e1");
		store_async_calls_free(page, pn);
	}
	store_async_calls_free(dl, n);

	is_int(store_async_redrive(s, fid, "c2", 10000, 20000, &err), -EEXIST,
	       "a succeeded call is not a dead letter");
	hearth_error_clear(&err);
	is_int(store_async_redrive(s, fid, "zz", 10000, 20000, &err), -ENOENT, "an unknown one");
	hearth_error_clear(&err);
	is_int(store_async_redrive(s, fid + 1000, "c1", 10000, 20000, &err), -ENOENT,
	       "another function's");
	hearth_error_clear(&err);
	is_int(store_async_redrive(s, fid, "c1", 10000, 20000, &err), 0, "redrive c1");
	is_int(store_async_call_get(s, "c1", &c, &att, &na, &err), 0, "read c1");
	ok(!strcmp(c.status, "queued") && c.tries == 0 && c.attempts == 2 && c.redrives == 1 &&
		   c.next_at == 10000 && c.expires_at == 20000 && !c.reason && c.finished_at == 0,
	   "queued with fresh tries, a fresh age, its attempts kept");
	store_async_call_clear(&c);
	store_async_attempts_free(att, na);
	is_int(store_async_redrive_all(s, fid, 10000, 20000, 100, &err), 1,
	       "redrive all: the one left (e1)");
	is_int(store_async_redrive_all(s, fid, 10000, 20000, 100, &err), 0, "then none");
}

static void test_recover_and_crash(int64_t fid)
{
	struct hearth_error *err = NULL;
	struct store *s = NULL;
	struct store_async_counts cnt;
	int pfd[2], status = 0;
	char ch = 0;
	pid_t pid;

	fflush(stdout);
	if (pipe(pfd) < 0) {
		ok(0, "pipe");
		return;
	}
	pid = fork();
	if (pid == 0) {
		char *payload = NULL;
		size_t len;

		close(pfd[0]);
		/* One call accepted, one claimed (running) when the process
		 * dies, one succeeded. */
		if (store_open(&s, db_path, NULL) < 0 ||
		    enqueue(s, "k1", fid, "{\"k\":1}", 100, 1000000) < 0 ||
		    enqueue(s, "k2", fid, "{\"k\":2}", 100, 1000000) < 0 ||
		    enqueue(s, "k3", fid, "{\"k\":3}", 100, 1000000) < 0 ||
		    store_async_claim(s, "k2", &payload, &len, NULL) < 0)
			_exit(3);
		free(payload);
		if (store_async_claim(s, "k3", &payload, &len, NULL) < 0)
			_exit(3);
		free(payload);
		struct store_async_attempt a = attempt("rk3", "success");
		struct store_async_outcome done = { "succeeded", 0, NULL, 200 };

		if (store_async_finish(s, "k3", &a, &done, NULL) < 0)
			_exit(3);
		if (write(pfd[1], "k", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(pfd[1]);
	ok(read(pfd[0], &ch, 1) == 1 && ch == 'k', "a child queued, claimed and finished calls");
	close(pfd[0]);
	kill(pid, SIGKILL);
	ok(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status), "and was killed with SIGKILL");
	is_int(store_open(&s, db_path, &err), 0, "open after the crash");
	if (!s)
		return;
	is_int(raw_int("SELECT count(*) FROM async_calls WHERE id IN ('k1','k2','k3')"), 3,
	       "every accepted call survived");
	is_int(raw_int("SELECT count(*) FROM async_calls WHERE id = 'k2' AND status = 'running'"),
	       1, "the claimed one is still marked running");
	is_int(store_async_recover(s, &err), 1, "recovery queues it again");
	is_int(raw_int("SELECT count(*) FROM async_calls WHERE id = 'k3' AND status = 'succeeded'"),
	       1, "the succeeded one stays succeeded");
	is_int(raw_int("SELECT count(*) FROM async_attempts WHERE call_id = 'k3'"), 1,
	       "with its one attempt");
	is_int(store_async_counts(s, fid, &cnt, &err), 0, "counts");
	ok(cnt.running == 0 && cnt.queued >= 3, "nothing running; k1 and k2 queued (%" PRId64 ")",
	   cnt.queued);
	store_close(s);
	hearth_error_clear(&err);
}

static void test_prune_and_cascade(int64_t fid, int64_t other)
{
	struct hearth_error *err = NULL;
	struct store *s = NULL;
	struct store_async_outcome done = { "succeeded", 0, NULL, 0 };
	char id[16], sql[128], *payload = NULL;
	size_t len;

	is_int(store_open(&s, db_path, &err), 0, "open");
	if (!s)
		return;
	for (int i = 0; i < 5; i++) {
		struct store_async_attempt a = attempt("rp", "success");

		snprintf(id, sizeof(id), "p%d", i);
		enqueue(s, id, other, "{}", 100, 1000000);
		store_async_claim(s, id, &payload, &len, NULL);
		free(payload);
		a.request_id = id;
		done.now = 1000 + i;
		store_async_finish(s, id, &a, &done, NULL);
	}
	is_int(store_async_prune(s, other, 2, &err), 3, "prune keeps the two newest succeeded");
	is_int(raw_int("SELECT count(*) FROM async_calls WHERE id IN ('p3', 'p4')"), 2,
	       "p3 and p4 stay");
	is_int(raw_int("SELECT count(*) FROM async_attempts WHERE call_id IN ('p0','p1','p2')"), 0,
	       "the pruned calls' attempts went with them");
	is_int(store_function_delete(s, fid, &err), 0, "delete the first function");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM async_calls WHERE function_id = %" PRId64,
		 fid);
	is_int(raw_int(sql), 0, "its async calls went with it");
	is_int(raw_int("SELECT count(*) FROM async_attempts WHERE call_id IN ('c1', 'c2', 'k3')"),
	       0, "and their attempts");
	is_int(raw_int("SELECT count(*) FROM async_calls"), 2, "the other function's stay");
	store_close(s);
	hearth_error_clear(&err);
}

int main(void)
{
	struct hearth_error *err = NULL;
	struct store *s = NULL;
	struct fn *f = make_fn("one", 'a'), *g = make_fn("two", 'b');

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(db_path, sizeof(db_path), "%s/hearth.db", dir);
	if (store_open(&s, db_path, &err) < 0 || store_function_create(s, f, &err) < 0 ||
	    store_function_create(s, g, &err) < 0) {
		printf("Bail out! %s\n", err ? err->msg : "?");
		return 1;
	}
	test_queue(s, f->id);
	test_outcomes(s, f->id);
	test_expiry_and_redrive(s, f->id);
	store_close(s);
	test_recover_and_crash(f->id);
	test_prune_and_cascade(f->id, g->id);
	fn_free(f);
	fn_free(g);
	testfs_remove(dir);
	return tap_done();
}
