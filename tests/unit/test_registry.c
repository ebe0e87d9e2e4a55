/* Unit tests for registry.c: the create, update and delete sequence over a
 * real SQLite file and a real code store, with a listener standing in for
 * the pool — above all the failure paths, which must leave nothing behind
 * (no row, no orphan code folder, the old revision intact). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codestore.h"
#include "error.h"
#include "function.h"
#include "registry.h"
#include "store.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/hearth-test-registry-XXXXXX";

/* The listener: counts what it hears, refuses when told to. */
static struct {
	int changed, removed;
	int refuse; /* the next `changed` fails with this status */
	int64_t last_id, last_rev;
} heard;

static int on_changed(void *arg, const struct fn *f, struct hearth_error **err)
{
	(void)arg;
	if (heard.refuse) {
		int st = heard.refuse;

		heard.refuse = 0;
		return hearth_error_make(err, st, "the pool is out of memory (test)");
	}
	heard.changed++;
	heard.last_id = f->id;
	heard.last_rev = f->revision;
	return 0;
}

static void on_removed(void *arg, int64_t id)
{
	(void)arg;
	heard.removed++;
	heard.last_id = id;
}

/* Code folders in the store (names not starting with '.'). */
static int count_code(void)
{
	char path[512];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/code", dir);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int count_fns(struct registry *r)
{
	struct fn **list = NULL;
	size_t n = 0;

	if (registry_list(r, &list, &n, NULL) < 0)
		return -1;
	registry_list_free(list, n);
	return (int)n;
}

/* Drafts and commits one body; the status (0 or negative), *out when it
 * worked, and the error text in msg. */
static int change(struct registry *r, int64_t id, const char *body, struct fn **out, bool *changed,
		  char *msg, size_t msgsz)
{
	struct registry_draft *d = NULL;
	struct hearth_error *err = NULL;
	struct fn *f = NULL;
	int rc = id ? registry_draft_update(r, id, body, strlen(body), &d, &err)
		    : registry_draft_create(r, body, strlen(body), &d, &err);

	if (rc == 0)
		rc = registry_commit(r, d, &f, changed, &err);
	registry_draft_free(d);
	snprintf(msg, msgsz, "%s", err ? err->msg : "");
	hearth_error_free(err);
	if (out)
		*out = f;
	else
		fn_free(f);
	return rc;
}

#define CODE_A "\"code\":\"def handler(e, c):\\n    return 'a'\\n\""
#define CODE_B "\"code\":\"def handler(e, c):\\n    return 'b'\\n\""

int main(void)
{
	struct registry_listener l = { on_changed, on_removed, NULL };
	struct store *store = NULL;
	struct codestore *codes = NULL;
	struct registry *r = NULL;
	struct fn *f = NULL, *g = NULL;
	char db[512], msg[512];
	bool changed;
	int rc;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(db, sizeof(db), "%s/hearth.db", dir);
	ok(store_open(&store, db, NULL) == 0, "store opens");
	ok(codestore_open(&codes, dir, NULL) == 0, "code store opens");
	ok(registry_new(&r, store, codes, &l, NULL) == 0, "registry opens");

	/* ---- create */
	rc = change(r, 0, "{\"name\":\"one\",\"language\":\"python\"," CODE_A "}", &f, NULL, msg,
		    sizeof(msg));
	is_int(rc, 0, "create: stored (%s)", msg);
	ok(f && f->id > 0 && f->revision == 1, "create: an id and revision 1");
	is_int(heard.changed, 1, "create: the listener heard it");
	is_int(heard.last_rev, 1, "create: at revision 1");
	is_int(count_code(), 1, "create: one code folder");

	heard.refuse = ENOMEM;
	rc = change(r, 0, "{\"name\":\"two\",\"language\":\"python\"," CODE_B "}", NULL, NULL, msg,
		    sizeof(msg));
	is_int(rc, -EIO, "create refused by the listener: EIO, a 500 (%s)", msg);
	ok(strstr(msg, "nothing changed") && strstr(msg, "out of memory"),
	   "create refused: the message says nothing changed, and why");
	is_int(count_fns(r), 1, "create refused: no row");
	is_int(count_code(), 1, "create refused: its code folder is gone again");
	rc = change(r, 0, "{\"name\":\"two\",\"language\":\"python\"," CODE_B "}", &g, NULL, msg,
		    sizeof(msg));
	is_int(rc, 0, "create refused: the name is free for the next try (%s)", msg);
	is_int(count_code(), 2, "two functions, two code folders");

	rc = change(r, 0, "{\"name\":\"one\",\"language\":\"python\"," CODE_B "}", NULL, NULL, msg,
		    sizeof(msg));
	is_int(rc, -EEXIST, "create with a taken name: EEXIST (%s)", msg);
	is_int(count_code(), 2, "taken name: the shared code folder stays (function two uses it)");
	rc = change(
		r, 0,
		"{\"name\":\"one\",\"language\":\"python\",\"code\":\"def handler(e, c): pass\\n\"}",
		NULL, NULL, msg, sizeof(msg));
	is_int(rc, -EEXIST, "create with a taken name and new code: EEXIST");
	is_int(count_code(), 2, "taken name: the new code folder is gone again");
	rc = change(
		r, 0,
		"{\"name\":\"three\",\"language\":\"python\",\"handler\":\"app.handler\"," CODE_A
		"}",
		NULL, NULL, msg, sizeof(msg));
	ok(rc == 0, "create with a handler module of another name stores its code under it (%s)",
	   msg);
	rc = change(r, 0, "{\"name\":\"four\",\"language\":\"python\",", NULL, NULL, msg,
		    sizeof(msg));
	is_int(rc, -EBADMSG, "create from malformed JSON: EBADMSG (%s)", msg);
	rc = change(r, 0, "{\"name\":\"four\",\"language\":\"cobol\"," CODE_A "}", NULL, NULL, msg,
		    sizeof(msg));
	is_int(rc, -EINVAL, "create with a bad field: EINVAL (%s)", msg);
	rc = change(
		r, 0,
		"{\"name\":\"four\",\"language\":\"python\",\"zip\":\"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\"}",
		NULL, NULL, msg, sizeof(msg));
	is_int(rc, -EINVAL, "create from a zip without the handler's file: EINVAL (%s)", msg);
	is_int(count_fns(r), 3, "three functions stored");
	is_int(count_code(), 3, "and three code folders, nothing left over");

	/* ---- update */
	heard.changed = 0;
	rc = change(r, f->id, "{\"timeout\":7}", NULL, &changed, msg, sizeof(msg));
	is_int(rc, 0, "update: stored (%s)", msg);
	ok(changed && heard.changed == 1 && heard.last_rev == 2,
	   "update: a new revision, and the listener heard it");
	rc = change(r, f->id, "{\"timeout\":7}", NULL, &changed, msg, sizeof(msg));
	ok(rc == 0 && !changed && heard.changed == 1,
	   "update that changes nothing: no new revision, nobody told");

	heard.refuse = ENOMEM;
	rc = change(r, f->id, "{\"memory\":512," CODE_B "}", NULL, &changed, msg, sizeof(msg));
	is_int(rc, -EIO, "update refused by the listener: EIO (%s)", msg);
	{
		int64_t id = f->id;

		fn_free(f);
		f = NULL;
		ok(registry_get(r, id, &f, NULL) == 0 && f->revision == 2 && f->memory_mb == 128 &&
			   f->timeout_s == 7,
		   "update refused: the row is back at revision 2, as it was");
	}
	if (!f)
		return tap_done();
	is_int(count_code(), 3, "update refused: the old code stays, nothing new");

	heard.refuse = ENOMEM;
	rc = change(r, f->id, "{\"code\":\"def handler(e, c):\\n    return 'new'\\n\"}", NULL,
		    &changed, msg, sizeof(msg));
	is_int(rc, -EIO, "update with new code refused: EIO");
	is_int(count_code(), 3, "update with new code refused: the new folder is gone again");
	{
		struct fn *h = NULL;

		ok(registry_get(r, f->id, &h, NULL) == 0 &&
			   strcmp(h->code_sha256, f->code_sha256) == 0,
		   "update with new code refused: the function keeps its code");
		fn_free(h);
	}
	rc = change(r, f->id, "{\"name\":\"two\"}", NULL, &changed, msg, sizeof(msg));
	is_int(rc, -EEXIST, "update to a taken name: EEXIST (%s)", msg);
	rc = change(r, 9999, "{\"timeout\":7}", NULL, &changed, msg, sizeof(msg));
	is_int(rc, -ENOENT, "update of no function: ENOENT (%s)", msg);
	rc = change(r, 9999, "not json", NULL, &changed, msg, sizeof(msg));
	is_int(rc, -ENOENT, "update of no function with a bad body: ENOENT first");
	rc = change(r, f->id, "{\"code\":\"def handler(e, c):\\n    return 'new'\\n\"}", NULL,
		    &changed, msg, sizeof(msg));
	ok(rc == 0 && changed, "update with new code: stored (%s)", msg);
	is_int(count_code(), 3, "update with new code: the old folder went, the new one came");

	/* ---- delete */
	heard.removed = 0;
	{
		struct hearth_error *err = NULL;

		rc = registry_delete(r, g->id, &err);
		is_int(rc, 0, "delete: done");
		hearth_error_free(err);
	}
	ok(heard.removed == 1 && heard.last_id == g->id, "delete: the listener heard it");
	is_int(count_fns(r), 2, "delete: the row is gone");
	is_int(count_code(), 2, "delete: its code folder is gone");
	ok(registry_delete(r, g->id, NULL) == -ENOENT, "delete again: ENOENT");
	ok(registry_delete(r, 0, NULL) == -ENOENT, "delete of id 0: ENOENT");

	/* ---- reads */
	{
		_cleanup_buf_ struct buf src = BUF_INIT(1 << 20);
		char file[FN_FILE_MAX];
		struct fn *cur = NULL;

		ok(registry_get(r, f->id, &cur, NULL) == 0 && cur->revision == 3,
		   "get: the function at its latest revision");
		ok(cur && registry_read_source(r, cur, &src, file, NULL) == 0 &&
			   strcmp(file, "main.py") == 0 && strstr(src.ptr, "return 'new'"),
		   "the source of a function, with its file name");
		fn_free(cur);
	}

	fn_free(f);
	fn_free(g);
	registry_free(r);
	codestore_close(codes);
	store_close(store);
	util_rm_rf(dir, NULL);
	return tap_done();
}
