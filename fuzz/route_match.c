/* route_match.c — fuzz harness: function URLs' route index in the registry
 * (registry_route_match, and the name and route maps every commit and
 * delete keep, src/registry/registry.c) against a plain list of the
 * functions.  The registry is a real one (SQLite and code store in a
 * sandbox on /dev/shm); the input is lines:
 *
 *     +ROUTE    create a function with that route ("+" alone: none)
 *     ~K ROUTE  update the K-th live function's route ("~K" alone: null)
 *     -K        delete the K-th live function
 *     ?PATH     look a function URL's path up
 *
 * (at most 8 changes an input; every function is deleted at its end).
 * Beyond not crashing:
 *   - a lookup answers the function whose route is the longest
 *     segment-wise prefix of the path before any '?' (the route itself, or
 *     followed by '/'), with that route's length, or none: what a scan of
 *     the list says;
 *   - a create or update is refused as taken (-EEXIST) exactly when
 *     another function holds the route, and as invalid (-EINVAL) only for
 *     a route the contract refuses;
 *   - every live function resolves by its name, no deleted one does, and
 *     no deleted route is still found. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

#include "codestore.h"
#include "fuzz.h"
#include "jsontext.h"
#include "log.h"
#include "registry.h"
#include "store.h"

#define CHANGES_MAX 8
#define LIVE_MAX CHANGES_MAX

struct live {
	int64_t id;
	char name[32];
	char *route; /* NULL: none */
};

static struct {
	struct registry *r;
	unsigned seq;
	struct live fns[LIVE_MAX];
	size_t n;
	char *gone[64]; /* names and routes gone in this input (at most 2 a change, 2 a live one) */
	size_t n_gone;
} h;

static void setup(void)
{
	struct hearth_error *err = NULL;
	struct codestore *codes = NULL;
	struct store *store = NULL;
	char path[4096];
	const char *dir;

	if (h.r)
		return;
	log_set_level(LOG_LVL_ERROR);
	dir = fuzz_sandbox("route_match");
	FUZZ_PATH(path, "%s/hearth.db", dir);
	FUZZ_CHECK(store_open(&store, path, &err) == 0 && codestore_open(&codes, dir, &err) == 0 &&
			   registry_new(&h.r, store, codes, NULL, &err) == 0,
		   "setup: %s", err ? err->msg : "");
}

/* The contract's route: '/' and non-empty segments of [A-Za-z0-9._~-],
 * none "." or "..", 2 to FN_ROUTE_MAX bytes. */
static bool route_valid(const char *r)
{
	size_t len = strlen(r);

	if (len < 2 || len > FN_ROUTE_MAX || r[0] != '/')
		return false;
	for (const char *seg = r + 1;;) {
		size_t n = strcspn(seg, "/");

		if (n == 0 ||
		    strspn(seg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"0123456789-_.~") < n ||
		    (n == 1 && seg[0] == '.') || (n == 2 && !strncmp(seg, "..", 2)))
			return false;
		if (!seg[n])
			return true;
		seg += n + 1;
	}
}

/* The function holding route, other than `except`; -1 when none. */
static long holder(const char *route, int64_t except)
{
	for (size_t i = 0; i < h.n; i++)
		if (h.fns[i].route && !strcmp(h.fns[i].route, route) && h.fns[i].id != except)
			return (long)i;
	return -1;
}

/* A body with a name and an optional route (JSON-escaped by json-c). */
static char *body_of(const char *name, const char *route, bool with_code)
{
	json_object *o = json_object_new_object();
	char *s;

	if (name)
		json_object_object_add(o, "name", json_object_new_string(name));
	if (with_code) {
		json_object_object_add(o, "language", json_object_new_string("python"));
		json_object_object_add(o, "code", json_object_new_string("x = 1\n"));
	}
	if (route || !with_code)
		json_object_object_add(o, "route", route ? json_object_new_string(route) : NULL);
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	FUZZ_CHECK(s != NULL, "out of memory");
	return s;
}

/* A change through the registry's two steps; its status. */
static int change(int64_t id, const char *body, struct fn **out)
{
	struct hearth_error *err = NULL;
	struct registry_draft *d = NULL;
	int rc;

	*out = NULL;
	rc = id ? registry_draft_update(h.r, id, body, strlen(body), &d, &err)
		: registry_draft_create(h.r, body, strlen(body), &d, &err);
	if (rc == 0)
		rc = registry_commit(h.r, d, out, NULL, &err);
	FUZZ_CHECK(rc == 0 || (err && err->status == -rc), "status %d, error %d", rc,
		   err ? err->status : 0);
	registry_draft_free(d);
	hearth_error_free(err);
	return rc;
}

static void check_outcome(const char *what, int rc, const char *body, const char *route,
			  int64_t self)
{
	if (rc == -EEXIST)
		FUZZ_CHECK(route && holder(route, self) >= 0, "%s %s: taken, but nobody holds it",
			   what, route ? route : "(none)");
	else if (rc == -EINVAL)
		FUZZ_CHECK(route && !route_valid(route), "%s %s: refused as invalid", what,
			   route ? route : "(none)");
	else if (rc == -EBADMSG) /* json-c wrote bytes that are not UTF-8 as they came */
		FUZZ_CHECK(route && !jsontext_is_value(body, strlen(body)), "%s %s: malformed",
			   what, route);
	else
		FUZZ_CHECK(rc == 0, "%s %s: status %d", what, route ? route : "(none)", rc);
	if (rc == 0 && route)
		FUZZ_CHECK(holder(route, self) < 0, "%s %s: accepted, but %s holds it", what, route,
			   h.fns[holder(route, self)].name);
}

static void op_create(const char *route)
{
	char name[32];
	char *body;
	struct fn *f;
	int rc;

	snprintf(name, sizeof(name), "f%u", h.seq++);
	body = body_of(name, route, true);
	rc = change(0, body, &f);
	check_outcome("create", rc, body, route, -1);
	if (rc == 0) {
		struct live *l = &h.fns[h.n++];

		l->id = f->id;
		snprintf(l->name, sizeof(l->name), "%s", name);
		l->route = route ? strdup(route) : NULL;
		FUZZ_CHECK(!route || l->route, "out of memory");
	}
	fn_free(f);
	free(body);
}

static void op_update(size_t k, const char *route)
{
	struct live *l = &h.fns[k % h.n];
	char *body = body_of(NULL, route, false);
	struct fn *f;
	int rc = change(l->id, body, &f);

	check_outcome("update", rc, body, route, l->id);
	if (rc == 0) {
		FUZZ_CHECK(f && f->id == l->id && (!f->route) == (!route) &&
				   (!route || !strcmp(f->route, route)),
			   "update stored another route");
		if (l->route && (!route || strcmp(l->route, route)))
			h.gone[h.n_gone++] = l->route;
		else
			free(l->route);
		l->route = route ? strdup(route) : NULL;
	}
	fn_free(f);
	free(body);
}

static void op_delete(size_t k)
{
	struct live *l = &h.fns[k % h.n];
	struct hearth_error *err = NULL;

	FUZZ_CHECK(registry_delete(h.r, l->id, &err) == 0, "delete: %s", err ? err->msg : "");
	if (l->route)
		h.gone[h.n_gone++] = l->route;
	h.gone[h.n_gone++] = strdup(l->name);
	*l = h.fns[--h.n];
}

/* The longest route that is the path, or a prefix of it followed by '/'. */
static long ref_match(const char *path)
{
	size_t plen = strcspn(path, "?"), best = 0;
	long who = -1;

	for (size_t i = 0; i < h.n; i++) {
		const char *r = h.fns[i].route;
		size_t rl = r ? strlen(r) : 0;

		if (r && rl <= plen && !strncmp(path, r, rl) && (rl == plen || path[rl] == '/') &&
		    rl > best) {
			best = rl;
			who = (long)i;
		}
	}
	return who;
}

static void op_query(const char *path)
{
	long want = ref_match(path);
	int64_t id = 0;
	size_t len = 0;
	bool found = registry_route_match(h.r, path, &id, &len);

	FUZZ_CHECK(found == (want >= 0), "%s: found %d, want %s", path, found,
		   want >= 0 ? h.fns[want].route : "none");
	if (found)
		FUZZ_CHECK(id == h.fns[want].id && len == strlen(h.fns[want].route),
			   "%s: function %lld by %zu bytes, want %s", path, (long long)id, len,
			   h.fns[want].route);
}

/* The maps hold exactly the live functions. */
static void check_maps(void)
{
	for (size_t i = 0; i < h.n; i++) {
		int64_t id = 0;
		size_t len = 0;

		FUZZ_CHECK(registry_resolve(h.r, h.fns[i].name, &id, NULL) == 0 &&
				   id == h.fns[i].id,
			   "%s does not resolve", h.fns[i].name);
		if (h.fns[i].route)
			FUZZ_CHECK(registry_route_match(h.r, h.fns[i].route, &id, &len) &&
					   id == h.fns[i].id,
				   "route %s is not found", h.fns[i].route);
	}
	for (size_t i = 0; i < h.n_gone; i++) {
		int64_t id = 0;
		size_t len = 0;

		if (h.gone[i][0] == '/') {
			long want = ref_match(h.gone[i]);

			FUZZ_CHECK(registry_route_match(h.r, h.gone[i], &id, &len) == (want >= 0) &&
					   (want < 0 || id == h.fns[want].id),
				   "gone route %s is still found", h.gone[i]);
		} else {
			FUZZ_CHECK(registry_resolve(h.r, h.gone[i], &id, NULL) == -ENOENT,
				   "deleted %s still resolves", h.gone[i]);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = strndup((const char *)data, size), *line, *save = NULL;
	int changes = 0;

	FUZZ_CHECK(text != NULL, "out of memory");
	setup();
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp;
		size_t k;

		switch (line[0]) {
		case '+':
			if (changes++ >= CHANGES_MAX || h.n == LIVE_MAX)
				break;
			op_create(line[1] ? line + 1 : NULL);
			break;
		case '~':
			if (changes++ >= CHANGES_MAX || h.n == 0)
				break;
			k = strtoul(line + 1, &sp, 10);
			op_update(k, *sp == ' ' ? sp + 1 : NULL);
			break;
		case '-':
			if (changes++ >= CHANGES_MAX || h.n == 0)
				break;
			op_delete(strtoul(line + 1, NULL, 10));
			break;
		case '?': op_query(line + 1); break;
		}
	}
	check_maps();
	while (h.n > 0)
		op_delete(0);
	check_maps();
	for (size_t i = 0; i < h.n_gone; i++)
		free(h.gone[i]);
	h.n_gone = 0;
	free(text);
	return 0;
}
