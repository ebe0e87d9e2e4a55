/* registry.c — see registry.h. */
#include "registry.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codestore.h"
#include "jsontext.h"
#include "log.h"
#include "store.h"
#include "strmap.h"
#include "util.h"

struct registry {
	struct store *store;
	struct codestore *codes;
	struct registry_listener listener;
	/* In memory, for the request path: names and routes to ids, kept by
	 * every commit and delete. */
	struct strmap *names, *routes;
};

struct registry_draft {
	struct fn *cur;	     /* the stored function an update starts from; NULL: create */
	struct fn *next;     /* the function as the body wants it (no code yet) */
	struct fn_upload up; /* the code that came with the body, if any */
};

/* The indexes follow the function: its old name and route out, its new
 * ones in (old or new may be NULL). */
static int index_swap(struct registry *r, const struct fn *old, const struct fn *nf)
{
	int rc = 0;

	if (old) {
		strmap_del(r->names, old->name, strlen(old->name));
		if (old->route)
			strmap_del(r->routes, old->route, strlen(old->route));
	}
	if (nf && (rc = strmap_put(r->names, nf->name, strlen(nf->name), nf->id)) == 0 && nf->route)
		rc = strmap_put(r->routes, nf->route, strlen(nf->route), nf->id);
	if (rc < 0)
		log_error("registry: out of memory indexing function %" PRId64, nf->id);
	return rc;
}

static int index_all(struct registry *r, struct hearth_error **err)
{
	struct fn **list = NULL;
	size_t n = 0;
	int rc;

	if ((rc = store_function_list(r->store, &list, &n, err)) < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = index_swap(r, NULL, list[i]);
	store_function_list_free(list, n);
	return rc < 0 ? hearth_error_make(err, ENOMEM, "out of memory") : 0;
}

int registry_new(struct registry **out, struct store *store, struct codestore *codes,
		 const struct registry_listener *listener, struct hearth_error **err)
{
	struct registry *r = calloc(1, sizeof(*r));
	int rc = 0;

	if (!r)
		return hearth_error_make(err, ENOMEM, "out of memory");
	r->store = store;
	r->codes = codes;
	if (listener)
		r->listener = *listener;
	r->names = strmap_new();
	r->routes = strmap_new();
	if (!r->names || !r->routes || (rc = index_all(r, err)) < 0) {
		registry_free(r);
		return rc < 0 ? rc : hearth_error_make(err, ENOMEM, "out of memory");
	}
	*out = r;
	return 0;
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	strmap_free(r->names);
	strmap_free(r->routes);
	free(r);
}

void registry_draft_free(struct registry_draft *d)
{
	if (!d)
		return;
	fn_free(d->cur);
	fn_free(d->next);
	fn_upload_release(&d->up);
	free(d);
}

static int draft(struct registry *r, int64_t id, const char *body, size_t len,
		 struct registry_draft **out, struct hearth_error **err)
{
	_cleanup_json_ json_object *j = NULL;
	struct registry_draft *d = calloc(1, sizeof(*d));
	int rc;

	*out = NULL;
	if (!d)
		return hearth_error_make(err, ENOMEM, "out of memory");
	/* An update of a function that does not exist is a 404 whatever the
	 * body says, so the row is read before the body is. */
	if (id && (rc = store_function_get(r->store, id, &d->cur, err)) < 0)
		goto fail;
	if ((rc = fn_parse_body(body, len, &j, err)) < 0)
		goto fail;
	rc = d->cur ? fn_apply_update_json(d->cur, j, &d->next, &d->up, err)
		    : fn_from_create_json(j, &d->next, &d->up, err);
	if (rc < 0)
		goto fail;
	*out = d;
	return 0;
fail:
	registry_draft_free(d);
	return rc;
}

int registry_draft_create(struct registry *r, const char *body, size_t len,
			  struct registry_draft **out, struct hearth_error **err)
{
	return draft(r, 0, body, len, out, err);
}

int registry_draft_update(struct registry *r, int64_t id, const char *body, size_t len,
			  struct registry_draft **out, struct hearth_error **err)
{
	if (id <= 0)
		return hearth_error_make(err, ENOENT, "no function %" PRId64, id);
	return draft(r, id, body, len, out, err);
}

/* ---- the code store's side ---------------------------------------------- */

static int put_code(struct registry *r, const struct fn *f, const struct fn_upload *up,
		    char sha[65], char **path, struct hearth_error **err)
{
	char name[FN_FILE_MAX];
	int rc;

	if (up->kind == FN_CODE_FILE) {
		if ((rc = fn_source_filename(f, name, err)) < 0)
			return rc;
		if ((rc = codestore_put_file(r->codes, name, up->data, up->len, sha, path, err)) <
		    0)
			return hearth_error_wrap(err, "code");
		return 0;
	}
	/* codestore's zip errors name the field already ("zip: ...") */
	return codestore_put_zip(r->codes, up->data, up->len, sha, path, err);
}

/* Drops a code folder unless a function uses it (the same code can belong
 * to several functions).  Containers of an old revision keep running on
 * hard links of it in their own folders. */
static void drop_code(struct registry *r, const char *sha)
{
	_cleanup_error_ struct hearth_error *e = NULL;
	int rc = store_code_in_use(r->store, sha, &e);

	if (rc == 0)
		rc = codestore_remove(r->codes, sha, &e);
	if (rc < 0)
		log_warn("code %s left in the code store: %s", sha, e ? e->msg : "?");
}

/* The handler's module must be in the code folder: a function that can
 * never start is refused now rather than at its first invocation. */
static int check_handler_file(struct registry *r, const struct fn *f, const char *sha,
			      enum fn_code_kind kind, struct hearth_error **err)
{
	char files[3][FN_FILE_MAX];
	char list[3 * FN_FILE_MAX + 16] = "";
	int n = fn_handler_files(f, files);

	for (int i = 0; i < n; i++) {
		if (codestore_has_file(r->codes, sha, files[i]) == 1)
			return 0;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 i ? (i == n - 1 ? " or " : ", ") : "", files[i]);
	}
	if (kind == FN_CODE_ZIP)
		return hearth_error_make(err, EINVAL, "zip: the archive has no %s for handler '%s'",
					 list, f->handler);
	return hearth_error_make(err, EINVAL,
				 "handler: the function's code has no %s for handler '%s' "
				 "(%s); send 'code' or 'zip' with it",
				 list, f->handler, f->language);
}

/* The listener's refusal, as the registry reports it: whatever the pool
 * said, for the client it is a fault of ours (500), and nothing changed. */
static int refused(struct hearth_error **err, struct hearth_error *why, const char *what)
{
	int rc = hearth_error_make(err, EIO, "%s was not applied (nothing changed): %s", what,
				   why ? why->msg : "refused");

	hearth_error_free(why);
	return rc;
}

/* ---- commit ------------------------------------------------------------------- */

static int commit_create(struct registry *r, struct registry_draft *d, struct fn **out,
			 struct hearth_error **err)
{
	_cleanup_free_ char *path = NULL;
	struct fn *f = d->next;
	struct hearth_error *why = NULL;
	enum fn_code_kind kind = d->up.kind;
	char sha[65];
	int rc;

	/* Code first: if the row cannot be written, the folder goes again. */
	if ((rc = put_code(r, f, &d->up, sha, &path, err)) < 0)
		return rc;
	fn_upload_release(&d->up);
	if ((rc = check_handler_file(r, f, sha, kind, err)) < 0)
		goto fail;
	memcpy(f->code_sha256, sha, sizeof(f->code_sha256));
	free(f->code_path);
	f->code_path = path;
	path = NULL;
	f->created_at = f->updated_at = util_now_ms();
	f->revision = 1;
	if ((rc = store_function_create(r->store, f, err)) < 0)
		goto fail;
	if (r->listener.changed && r->listener.changed(r->listener.arg, f, &why) < 0) {
		_cleanup_error_ struct hearth_error *e2 = NULL;

		if (store_function_delete(r->store, f->id, &e2) < 0)
			log_error("function %" PRId64 ": rolling back a refused create: %s", f->id,
				  e2->msg);
		rc = refused(err, why, "the create");
		goto fail;
	}
	index_swap(r, NULL, f);
	log_info("function %" PRId64 " '%s' created (%s, code %.12s)", f->id, f->name, f->language,
		 f->code_sha256);
	*out = f;
	d->next = NULL;
	return 0;
fail:
	drop_code(r, sha);
	return rc;
}

static int commit_update(struct registry *r, struct registry_draft *d, struct fn **out,
			 bool *changed, struct hearth_error **err)
{
	_cleanup_free_ char *path = NULL;
	struct fn *cur = d->cur, *nf = d->next;
	struct hearth_error *why = NULL;
	enum fn_code_kind kind = d->up.kind;
	bool new_code = false;
	char sha[65];
	int rc;

	memcpy(sha, cur->code_sha256, sizeof(sha));
	if (kind != FN_CODE_NONE) {
		if ((rc = put_code(r, nf, &d->up, sha, &path, err)) < 0)
			return rc;
		fn_upload_release(&d->up);
		new_code = strcmp(sha, cur->code_sha256) != 0;
	}
	if ((rc = check_handler_file(r, nf, sha, kind, err)) < 0)
		goto fail;
	if (!new_code && fn_same_config(cur, nf)) {
		/* nothing changed: no new revision, nobody to tell */
		*out = cur;
		d->cur = NULL;
		if (changed)
			*changed = false;
		return 0;
	}
	if (new_code) {
		memcpy(nf->code_sha256, sha, sizeof(nf->code_sha256));
		free(nf->code_path);
		nf->code_path = path;
		path = NULL;
	}
	nf->revision = cur->revision + 1;
	nf->updated_at = util_now_ms();
	if ((rc = store_function_update(r->store, nf, err)) < 0)
		goto fail;
	if (r->listener.changed && r->listener.changed(r->listener.arg, nf, &why) < 0) {
		_cleanup_error_ struct hearth_error *e2 = NULL;

		if (store_function_update(r->store, cur, &e2) < 0)
			log_error("function %" PRId64 ": rolling back a refused update: %s",
				  cur->id, e2->msg);
		rc = refused(err, why, "the update");
		goto fail;
	}
	index_swap(r, cur, nf);
	log_info("function %" PRId64 " '%s' updated to revision %" PRId64, nf->id, nf->name,
		 nf->revision);
	if (new_code)
		drop_code(r, cur->code_sha256);
	*out = nf;
	d->next = NULL;
	if (changed)
		*changed = true;
	return 0;
fail:
	if (new_code)
		drop_code(r, sha);
	return rc;
}

int registry_commit(struct registry *r, struct registry_draft *d, struct fn **out, bool *changed,
		    struct hearth_error **err)
{
	*out = NULL;
	if (changed)
		*changed = true;
	return d->cur ? commit_update(r, d, out, changed, err) : commit_create(r, d, out, err);
}

int registry_delete(struct registry *r, int64_t id, struct hearth_error **err)
{
	_cleanup_fn_ struct fn *f = NULL;
	int rc;

	if ((rc = registry_get(r, id, &f, err)) < 0 ||
	    (rc = store_function_delete(r->store, f->id, err)) < 0)
		return rc;
	index_swap(r, f, NULL);
	log_info("function %" PRId64 " '%s' deleted", f->id, f->name);
	if (r->listener.removed)
		r->listener.removed(r->listener.arg, f->id);
	drop_code(r, f->code_sha256);
	return 0;
}

/* ---- reads ---------------------------------------------------------------------- */

int registry_get(struct registry *r, int64_t id, struct fn **out, struct hearth_error **err)
{
	if (id <= 0)
		return hearth_error_make(err, ENOENT, "no function %" PRId64, id);
	return store_function_get(r->store, id, out, err);
}

int registry_resolve(struct registry *r, const char *ref, int64_t *id, struct hearth_error **err)
{
	static const char arn[] = "arn:aws:lambda:";
	const char *name = ref, *fn;
	size_t len;

	if (ref[0] >= '0' && ref[0] <= '9' && strspn(ref, "0123456789") == strlen(ref))
		return fn_parse_id(ref, id, err); /* ids are all digits, names never */
	if (strncmp(ref, arn, sizeof(arn) - 1) == 0) {
		fn = strstr(ref, ":function:");
		if (!fn)
			return hearth_error_make(err, ENOENT, "no function %s (not a function ARN)",
						 ref);
		name = fn + strlen(":function:");
	}
	len = strcspn(name, ":");
	if (name[len] && strcmp(name + len, ":$LATEST") != 0)
		return hearth_error_make(err, ENOENT,
					 "no function %s (versions and aliases: only $LATEST)",
					 ref);
	if (!strmap_get(r->names, name, len, id))
		return hearth_error_make(err, ENOENT, "no function %s", ref);
	return 0;
}

bool registry_route_match(struct registry *r, const char *path, int64_t *id, size_t *route_len)
{
	size_t len = strcspn(path, "?");

	/* The whole path, then each shorter prefix ending before a '/'. */
	while (len > 1) {
		if (strmap_get(r->routes, path, len, id)) {
			*route_len = len;
			return true;
		}
		while (len > 0 && path[len - 1] != '/')
			len--;
		if (len > 0)
			len--; /* the '/' itself */
	}
	return false;
}

int registry_list(struct registry *r, struct fn ***out, size_t *n, struct hearth_error **err)
{
	return store_function_list(r->store, out, n, err);
}

void registry_list_free(struct fn **list, size_t n)
{
	store_function_list_free(list, n);
}

int registry_code_size(struct registry *r, const struct fn *f, int64_t *bytes,
		       struct hearth_error **err)
{
	return codestore_size(r->codes, f->code_sha256, bytes, err);
}

int registry_read_source(struct registry *r, const struct fn *f, struct buf *out,
			 char file[FN_FILE_MAX], struct hearth_error **err)
{
	char files[3][FN_FILE_MAX];
	int n = fn_handler_files(f, files);

	for (int i = 0; i < n; i++) {
		if (codestore_has_file(r->codes, f->code_sha256, files[i]) != 1)
			continue;
		memcpy(file, files[i], FN_FILE_MAX);
		return codestore_read_file(r->codes, f->code_sha256, files[i], out, err);
	}
	return hearth_error_make(err, ENOENT,
				 "function %" PRId64 ": no source file for its handler", f->id);
}

/* ---- test events ------------------------------------------------------------ */

/* {"events": <array>} around the stored array. */
static int wrap_events(const char *array, char **out, struct hearth_error **err)
{
	if (asprintf(out, "{\"events\":%s}", array) < 0) {
		*out = NULL;
		return hearth_error_make(err, ENOMEM, "out of memory");
	}
	return 0;
}

int registry_test_events_get(struct registry *r, int64_t id, char **out, struct hearth_error **err)
{
	_cleanup_free_ char *array = NULL;
	int rc;

	*out = NULL;
	if (id <= 0)
		return hearth_error_make(err, ENOENT, "no function %" PRId64, id);
	if ((rc = store_test_events_get(r->store, id, &array, err)) < 0)
		return rc;
	return wrap_events(array, out, err);
}

/* Checks entry i, a {"name","payload"} object, against the ones before it. */
static int check_event(json_object *arr, size_t i, struct hearth_error **err)
{
	json_object *ev = json_object_array_get_idx(arr, i), *name, *payload;
	const char *n;
	size_t nlen;

	if (!json_object_is_type(ev, json_type_object))
		return hearth_error_make(err, EINVAL, "events[%zu]: expected an object", i);
	json_object_object_foreach(ev, key, val) {
		(void)val;
		if (strcmp(key, "name") != 0 && strcmp(key, "payload") != 0)
			return hearth_error_make(err, EINVAL, "events[%zu].%s: unknown field", i,
						 key);
	}
	if (!json_object_object_get_ex(ev, "name", &name) ||
	    !json_object_is_type(name, json_type_string))
		return hearth_error_make(err, EINVAL, "events[%zu].name: expected a string", i);
	n = json_object_get_string(name);
	nlen = (size_t)json_object_get_string_len(name);
	if (nlen == 0 || nlen > REGISTRY_TEST_EVENT_NAME_MAX || strlen(n) != nlen)
		return hearth_error_make(err, EINVAL,
					 "events[%zu].name: must be 1 to %d characters", i,
					 REGISTRY_TEST_EVENT_NAME_MAX);
	for (size_t j = 0; j < i; j++) {
		json_object *other = json_object_object_get(json_object_array_get_idx(arr, j),
							    "name");

		if (strcmp(json_object_get_string(other), n) == 0)
			return hearth_error_make(err, EINVAL,
						 "events[%zu].name: '%s' is already the name of "
						 "events[%zu]",
						 i, n, j);
	}
	if (!json_object_object_get_ex(ev, "payload", &payload))
		return hearth_error_make(err, EINVAL, "events[%zu].payload: is required (any JSON)",
					 i);
	if (strlen(json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN)) >
	    REGISTRY_TEST_EVENT_PAYLOAD_MAX)
		return hearth_error_make(err, EINVAL, "events[%zu].payload: over %u KB", i,
					 REGISTRY_TEST_EVENT_PAYLOAD_MAX / 1024);
	return 0;
}

int registry_test_events_put(struct registry *r, int64_t id, const char *body, size_t len,
			     char **out, struct hearth_error **err)
{
	_cleanup_json_ json_object *j = NULL;
	json_object *arr;
	const char *text;
	size_t n;
	int rc;

	*out = NULL;
	if (id <= 0)
		return hearth_error_make(err, ENOENT, "no function %" PRId64, id);
	if ((rc = jsontext_parse(body, len, JSONTEXT_NOT_NULL, "body", &j, err)) < 0)
		return rc;
	if (!json_object_is_type(j, json_type_object) ||
	    !json_object_object_get_ex(j, "events", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return hearth_error_make(err, EINVAL,
					 "events: expected {\"events\":[{\"name\":...,"
					 "\"payload\":...},...]}");
	json_object_object_foreach(j, key, val) {
		(void)val;
		if (strcmp(key, "events") != 0)
			return hearth_error_make(err, EINVAL, "%s: unknown field", key);
	}
	n = json_object_array_length(arr);
	if (n > REGISTRY_TEST_EVENTS_MAX)
		return hearth_error_make(err, EINVAL, "events: %zu of them, at most %d", n,
					 REGISTRY_TEST_EVENTS_MAX);
	for (size_t i = 0; i < n; i++)
		if ((rc = check_event(arr, i, err)) < 0)
			return rc;
	text = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	if ((rc = store_test_events_put(r->store, id, text, err)) < 0)
		return rc;
	return wrap_events(text, out, err);
}
