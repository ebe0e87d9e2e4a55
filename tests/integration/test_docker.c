/* Tests for engines/docker.c against the real dockerd (no mocks); the
 * create body it sends is pinned without Docker by
 * tests/unit/test_docker_spec.c.
 *
 * Needs dockerd at $HEARTH_DOCKER_SOCKET (default /var/run/docker.sock) and
 * builds the local image hearth-test/busybox:latest with
 * tests/integration/make-test-image.sh.  An unreachable dockerd fails the
 * test.  Every container made here carries hearth.test=docker and
 * hearth.test.run=<pid>; only those are ever removed. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "backend.h"
#include "docker.h"
#include "error.h"
#include "tap.h"
#include "testfs.h"
#include "util.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

#define IMAGE "hearth-test/busybox:latest"
#define NCONC 5

static struct event_base *base;
static char run_label[64];
static const char *test_labels[3];

/* ---- loop helpers ---- */

static struct event *ticker;
static int64_t tick_last_ns, tick_max_gap_ns;
static long ticks;

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	int64_t now = util_mono_ns();

	if (tick_last_ns && now - tick_last_ns > tick_max_gap_ns)
		tick_max_gap_ns = now - tick_last_ns;
	tick_last_ns = now;
	ticks++;
}

static void tick_reset(void)
{
	tick_last_ns = 0;
	tick_max_gap_ns = 0;
	ticks = 0;
}

/* Runs the loop until *flag or timeout; the ticker keeps it from sleeping
 * long, so each pass re-checks. */
static bool run_until(const int *flag, int timeout_ms)
{
	int64_t deadline = util_mono_ns() + (int64_t)timeout_ms * 1000000;

	while (!*flag && util_mono_ns() < deadline)
		event_base_loop(base, EVLOOP_ONCE);
	return *flag != 0;
}

static double ms_since(int64_t t0)
{
	return (double)(util_mono_ns() - t0) / 1e6;
}

/* ---- a generic result slot ---- */

struct res {
	int done;
	int calls;
	int status; /* errno from the error, 0 on success */
	char msg[512];
	char id[80];
	long http;
	bool running, oom;
	int exit_code;
	int64_t t_done;
	struct json_object *json;
	int n;
	bool found;
	const char *want_id;
	char state[32];
};

/* Clears the result slot r, makes the request `call` (which answers into
 * &r) and runs the loop until it answers or timeout_ms pass. */
#define SYNC(r, timeout_ms, call) \
	do { \
		memset(&(r), 0, sizeof(r)); \
		call; \
		run_until(&(r).done, (timeout_ms)); \
	} while (0)

static void res_err(struct res *r, const struct hearth_error *err)
{
	r->calls++;
	r->done = 1;
	r->t_done = util_mono_ns();
	r->status = err ? err->status : 0;
	snprintf(r->msg, sizeof(r->msg), "%s", err ? err->msg : "");
}

static void done_cb(void *arg, const struct hearth_error *err)
{
	res_err(arg, err);
}

static void json_cb(void *arg, long status, struct json_object *body,
		    const struct hearth_error *err)
{
	struct res *r = arg;

	res_err(r, err);
	r->http = status;
	r->json = body ? json_object_get(body) : NULL;
}

static void create_cb(void *arg, const char *id, const struct hearth_error *err)
{
	struct res *r = arg;

	res_err(r, err);
	snprintf(r->id, sizeof(r->id), "%s", id ? id : "");
}

static void inspect_cb(void *arg, const struct backend_state *st, const struct hearth_error *err)
{
	struct res *r = arg;

	res_err(r, err);
	if (st) {
		r->running = st->running;
		r->oom = st->oom_killed;
		r->exit_code = st->exit_code;
		snprintf(r->state, sizeof(r->state), "%s", st->status);
		snprintf(r->id, sizeof(r->id), "%s", st->name ? st->name : "");
	}
}

static void list_cb(void *arg, const struct backend_container *v, size_t n,
		    const struct hearth_error *err)
{
	struct res *r = arg;

	res_err(r, err);
	r->n = (int)n;
	for (size_t i = 0; i < n; i++) {
		if (r->want_id && strcmp(v[i].id, r->want_id) == 0) {
			struct json_object *l;

			r->found = true;
			snprintf(r->state, sizeof(r->state), "%s", v[i].state);
			if (json_object_object_get_ex(v[i].labels, "hearth.test", &l))
				snprintf(r->msg, sizeof(r->msg), "%s", json_object_get_string(l));
		}
	}
}

/* ---- the event watch ---- */

struct watch {
	int connected;
	int errors;
	int cancelled;
	const char *id; /* the container we wait on */
	int die, destroy, start, oom;
	int die_code;
};

static void event_cb(void *arg, const struct backend_event *ev, const struct hearth_error *err)
{
	struct watch *w = arg;

	if (!ev) {
		if (!err)
			w->connected++;
		else if (err->status == ECANCELED)
			w->cancelled++;
		else
			w->errors++;
		return;
	}
	if (!w->id || strcmp(ev->id, w->id) != 0)
		return;
	if (ev->kind == BACKEND_EVENT_START)
		w->start++;
	if (ev->kind == BACKEND_EVENT_DIE) {
		w->die++;
		w->die_code = ev->exit_code;
	}
	if (ev->kind == BACKEND_EVENT_DESTROY)
		w->destroy++;
	if (ev->kind == BACKEND_EVENT_OOM)
		w->oom++;
}

/* ---- cleanup of what earlier runs of this test left ---- */

static void cleanup_list_cb(void *arg, const struct backend_container *v, size_t n,
			    const struct hearth_error *err)
{
	struct docker *d = arg;

	for (size_t i = 0; i < n; i++) {
		struct hearth_error *e = NULL;
		static struct res sink;

		if (docker_container_remove(d, v[i].id, done_cb, &sink, NULL, &e) < 0)
			hearth_error_free(e);
	}
}

static void remove_leftovers(struct docker *d, const char *label)
{
	const char *labels[] = { label, NULL };
	struct hearth_error *err = NULL;

	if (docker_container_list(d, labels, cleanup_list_cb, d, NULL, &err) < 0) {
		hearth_error_free(err);
		return;
	}
	/* the removes it starts finish within a few hundred ms */
	{
		int never = 0;

		run_until(&never, 1500);
	}
}

/* ---- the pieces ---- */

static void test_unreachable(void)
{
	struct docker *d = NULL;
	struct hearth_error *err = NULL;
	struct res r = { 0 };

	is_int(docker_new(&d, base, "/tmp/hearth-test-no-such-docker.sock", &err), 0,
	       "a client for a socket that does not exist can be made");
	ok(!docker_is_up(d) && docker_last_error(d) != NULL,
	   "before contact the client reports down with a reason");
	is_int(docker_ping(d, done_cb, &r, NULL, &err), 0, "ping starts");
	ok(run_until(&r.done, 10000), "ping to a missing socket completes");
	is_int(r.status, EHOSTDOWN, "an unreachable Docker is EHOSTDOWN");
	ok(strstr(r.msg, "cannot reach Docker at /tmp/hearth-test-no-such-docker.sock") != NULL,
	   "the message names the socket: %s", r.msg);
	ok(!docker_is_up(d), "docker_is_up() is false");
	ok(docker_last_error(d) && strstr(docker_last_error(d), "cannot reach Docker"),
	   "docker_last_error() says why");
	{
		struct watch w = { 0 };
		int never = 0;

		is_int(docker_events_watch(d, test_labels, event_cb, &w, NULL, &err), 0,
		       "a watch of an unreachable Docker starts");
		run_until(&never, 1000);
		ok(w.errors >= 2 && w.connected == 0,
		   "it keeps retrying with a back-off (%d tries)", w.errors);
		ok(w.errors <= 5, "but not in a busy loop");
		docker_free(d);
		is_int(w.cancelled, 1, "and ends with ECANCELED on docker_free");
	}
}

static void test_cancel_and_free(void)
{
	struct docker *d = NULL;
	struct docker_req *req = NULL;
	struct hearth_error *err = NULL;
	struct res cancelled = { 0 }, pending = { 0 };
	struct watch w = { 0 };
	int never = 0;

	if (docker_new(&d, base, NULL, &err) < 0) {
		ok(0, "docker_new: %s", err->msg);
		hearth_error_free(err);
		return;
	}
	is_int(docker_ping(d, done_cb, &cancelled, &req, &err), 0, "a ping to cancel starts");
	docker_cancel(d, req);
	run_until(&never, 300);
	is_int(cancelled.calls, 0, "a cancelled request calls no callback");

	is_int(docker_container_list(d, test_labels, list_cb, &pending, NULL, &err), 0,
	       "a list to be cut off starts");
	is_int(docker_events_watch(d, test_labels, event_cb, &w, NULL, &err), 0,
	       "a watch to be cut off starts");
	docker_free(d);
	is_int(pending.calls, 1, "docker_free calls a pending callback once");
	is_int(pending.status, ECANCELED, "... with ECANCELED");
	is_int(w.cancelled, 1, "the watch hears ECANCELED once");
	run_until(&never, 200);
	is_int(pending.calls + w.cancelled, 2, "nothing is called after docker_free");
}

/* docker_free and docker_cancel from inside callbacks */
struct reentry {
	struct docker *d;
	struct docker_req *watch;
	struct res list;
	int ping_calls, event_calls, more_after_free;
};

static void reentry_ping(void *arg, const struct hearth_error *err)
{
	struct reentry *re = arg;
	struct hearth_error *e = NULL;

	re->ping_calls++;
	docker_free(re->d);
	/* the client is closing: new requests fail at once */
	if (docker_ping(re->d, done_cb, &re->list, NULL, &e) == -ECANCELED)
		re->more_after_free = 1;
	hearth_error_free(e);
}

static void reentry_event(void *arg, const struct backend_event *ev, const struct hearth_error *err)
{
	struct reentry *re = arg;

	re->event_calls++;
	if (!ev && !err)
		docker_cancel(re->d, re->watch); /* on connect: stop at once */
}

static void test_reentry(void)
{
	struct reentry re;
	struct hearth_error *err = NULL;
	struct res ping_ok = { 0 };
	int never = 0;

	memset(&re, 0, sizeof(re));
	if (docker_new(&re.d, base, NULL, &err) < 0) {
		ok(0, "docker_new: %s", err->msg);
		hearth_error_free(err);
		return;
	}
	docker_events_watch(re.d, test_labels, reentry_event, &re, &re.watch, &err);
	/* the watch connects and is cancelled by its own callback */
	run_until(&re.event_calls, 10000);
	docker_ping(re.d, done_cb, &ping_ok, NULL, &err);
	run_until(&ping_ok.done, 10000);
	is_int(re.event_calls, 1, "a watch cancelled from its callback is called no more");
	is_int(ping_ok.status, 0, "and the client goes on working");

	docker_container_list(re.d, test_labels, list_cb, &re.list, NULL, &err);
	docker_ping(re.d, reentry_ping, &re, NULL, &err);
	run_until(&re.ping_calls, 10000);
	run_until(&re.list.done, 10000);
	is_int(re.ping_calls, 1, "docker_free inside a callback");
	ok(re.list.done, "the other request completes or is cancelled (%s)",
	   re.list.status ? re.list.msg : "completed first");
	ok(re.more_after_free, "requests after docker_free fail with -ECANCELED");
	run_until(&never, 100);
	is_int(re.list.calls, 1, "each callback runs once");
}

struct conc {
	struct backend *b;
	struct backend_spec *spec;
	char id[80];
	int created, started, removed;
	int status;
	char msg[256];
	int64_t t0, t_created, t_started;
};

/* c's container is done with: it failed with err. */
static void conc_fail(struct conc *c, const struct hearth_error *err)
{
	c->status = err->status;
	snprintf(c->msg, sizeof(c->msg), "%s", err->msg);
	c->started = 1;
}

static void conc_started(void *arg, const struct hearth_error *err)
{
	struct conc *c = arg;

	c->t_started = util_mono_ns();
	c->started = 1;
	if (err)
		conc_fail(c, err);
}

static void conc_created(void *arg, const char *id, const struct hearth_error *err)
{
	struct conc *c = arg;
	struct hearth_error *e = NULL;

	c->t_created = util_mono_ns();
	c->created = 1;
	if (err) {
		conc_fail(c, err);
		return;
	}
	snprintf(c->id, sizeof(c->id), "%s", id);
	/* from inside a callback: a new request on the same client */
	if (backend_start(c->b, c->id, conc_started, c, NULL, &e) < 0) {
		conc_fail(c, e);
		hearth_error_free(e);
	}
}

static void conc_removed(void *arg, const struct hearth_error *err)
{
	struct conc *c = arg;

	c->removed = err ? -err->status : 1;
}

static void test_concurrent(struct docker *d, struct backend_spec *spec)
{
	struct backend *b = docker_backend(d);
	struct conc c[NCONC];
	struct hearth_error *err = NULL;
	int all = 0, n_ok = 0, i;
	int64_t t0;
	double worst = 0;

	memset(c, 0, sizeof(c));
	tick_reset();
	t0 = util_mono_ns();
	for (i = 0; i < NCONC; i++) {
		c[i].b = b;
		c[i].t0 = t0;
		if (backend_create(b, spec, conc_created, &c[i], NULL, &err) < 0) {
			ok(0, "create %d: %s", i, err->msg);
			hearth_error_clear(&err);
			c[i].started = 1;
		}
	}
	while (!all && util_mono_ns() - t0 < 60000000000LL) {
		event_base_loop(base, EVLOOP_ONCE);
		all = 1;
		for (i = 0; i < NCONC; i++)
			all &= c[i].started;
	}
	for (i = 0; i < NCONC; i++) {
		if (c[i].started && !c[i].status && c[i].id[0]) {
			double ms = (double)(c[i].t_started - t0) / 1e6;

			n_ok++;
			if (ms > worst)
				worst = ms;
		} else if (c[i].status) {
			printf("# container %d: %s\n", i, c[i].msg);
		}
	}
	is_int(n_ok, NCONC, "%d containers created and started at once (backend interface)", NCONC);
	printf("# concurrent create+start of %d: all done in %.1f ms (%.1f ms/container)\n", NCONC,
	       ms_since(t0), ms_since(t0) / NCONC);
	printf("# loop stayed responsive: %ld ticks of 5 ms, longest gap %.1f ms\n", ticks,
	       (double)tick_max_gap_ns / 1e6);
	ok(ticks >= (long)(worst / 5 / 4), "the timer kept firing during the requests (%ld ticks)",
	   ticks);
	ok(tick_max_gap_ns < 100000000LL, "no loop stall over 100 ms (longest %.1f ms)",
	   (double)tick_max_gap_ns / 1e6);

	t0 = util_mono_ns();
	for (i = 0; i < NCONC; i++) {
		if (!c[i].id[0]) {
			c[i].removed = 1;
			continue;
		}
		if (backend_remove(b, c[i].id, conc_removed, &c[i], NULL, &err) < 0) {
			hearth_error_clear(&err);
			c[i].removed = -1;
		}
	}
	all = 0;
	while (!all && util_mono_ns() - t0 < 60000000000LL) {
		event_base_loop(base, EVLOOP_ONCE);
		all = 1;
		for (i = 0; i < NCONC; i++)
			all &= c[i].removed != 0;
	}
	n_ok = 0;
	for (i = 0; i < NCONC; i++)
		n_ok += c[i].removed == 1;
	is_int(n_ok, NCONC, "all %d removed concurrently", NCONC);
	printf("# concurrent remove of %d (running): %.1f ms\n", NCONC, ms_since(t0));
}

/* ---- a unix-socket proxy to dockerd, to take "Docker" away and back ---- */

struct pair {
	struct bufferevent *a, *b;
	struct pair *next;
};

static struct evconnlistener *proxy_listener;
static struct pair *proxy_pairs;
static char proxy_path[108];
static const char *docker_path;

static void pair_free(struct pair *p)
{
	struct pair **pp;

	for (pp = &proxy_pairs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	bufferevent_free(p->a);
	bufferevent_free(p->b);
	free(p);
}

static void pair_read(struct bufferevent *bev, void *arg)
{
	struct pair *p = arg;
	struct bufferevent *other = bev == p->a ? p->b : p->a;

	evbuffer_add_buffer(bufferevent_get_output(other), bufferevent_get_input(bev));
}

static void pair_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		pair_free(arg);
}

static void proxy_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
			 void *arg)
{
	struct pair *p = calloc(1, sizeof(*p));
	struct sockaddr_un up = { .sun_family = AF_UNIX };

	snprintf(up.sun_path, sizeof(up.sun_path), "%s", docker_path);
	p->a = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	p->b = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	p->next = proxy_pairs;
	proxy_pairs = p;
	bufferevent_setcb(p->a, pair_read, NULL, pair_event, p);
	bufferevent_setcb(p->b, pair_read, NULL, pair_event, p);
	bufferevent_enable(p->a, EV_READ | EV_WRITE);
	bufferevent_enable(p->b, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(p->b, (struct sockaddr *)&up, sizeof(up)) < 0)
		pair_free(p);
}

static bool proxy_up(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", proxy_path);
	unlink(proxy_path);
	proxy_listener = evconnlistener_new_bind(base, proxy_accept, NULL, LEV_OPT_CLOSE_ON_FREE,
						 16, (struct sockaddr *)&sa, sizeof(sa));
	return proxy_listener != NULL;
}

/* Docker "goes away": no listener, every open connection cut. */
static void proxy_down(void)
{
	if (proxy_listener)
		evconnlistener_free(proxy_listener);
	proxy_listener = NULL;
	unlink(proxy_path);
	while (proxy_pairs)
		pair_free(proxy_pairs);
}

static void test_outage(struct docker *d, const struct backend_spec *spec)
{
	struct docker *dp = NULL;
	struct hearth_error *err = NULL;
	struct watch w = { 0 };
	struct res r;
	char id[80];
	int errors_before;

	snprintf(proxy_path, sizeof(proxy_path), "/tmp/hearth-test-docker-%ld.sock",
		 (long)getpid());
	docker_path = docker_socket_path(d);
	ok(proxy_up(), "a proxy to dockerd listens at %s", proxy_path);
	if (docker_new(&dp, base, proxy_path, &err) < 0) {
		ok(0, "docker_new: %s", err->msg);
		hearth_error_clear(&err);
		return;
	}
	SYNC(r, 10000, docker_ping(dp, done_cb, &r, NULL, &err));
	is_int(r.status, 0, "ping through the proxy");
	docker_events_watch(dp, test_labels, event_cb, &w, NULL, &err);
	ok(run_until(&w.connected, 10000), "the event stream connects through the proxy");

	SYNC(r, 30000, docker_container_create(d, spec, create_cb, &r, NULL, &err));
	snprintf(id, sizeof(id), "%s", r.id);
	SYNC(r, 30000, docker_container_start(d, id, done_cb, &r, NULL, &err));
	is_int(r.status, 0, "a container for the outage test runs");
	w.id = id;

	/* Docker goes away */
	errors_before = w.errors;
	proxy_down();
	SYNC(r, 10000, docker_ping(dp, done_cb, &r, NULL, &err));
	is_int(r.status, EHOSTDOWN, "ping while Docker is away: EHOSTDOWN");
	ok(!docker_is_up(dp), "docker_is_up() turns false: %s",
	   docker_last_error(dp) ? docker_last_error(dp) : "(null)");
	{
		int two = 0;
		int64_t deadline = util_mono_ns() + 3000000000LL;

		while (!two && util_mono_ns() < deadline) {
			event_base_loop(base, EVLOOP_ONCE);
			two = w.errors - errors_before >= 2;
		}
		ok(two, "the watch reports the break and failed reconnects (%d)",
		   w.errors - errors_before);
	}
	/* the container dies while nobody watches */
	SYNC(r, 10000, docker_container_kill(d, id, SIGKILL, done_cb, &r, NULL, &err));
	is_int(r.status, 0, "kill while the watcher is cut off");
	ok(w.die == 0, "no die event yet");

	/* and comes back */
	ok(proxy_up(), "Docker is back");
	{
		int connected2 = 0;
		int64_t deadline = util_mono_ns() + 15000000000LL;

		while (!connected2 && util_mono_ns() < deadline) {
			event_base_loop(base, EVLOOP_ONCE);
			connected2 = w.connected >= 2;
		}
		ok(connected2, "the watch reconnects by itself");
	}
	ok(run_until(&w.die, 10000), "the die missed during the outage is replayed (since=)");
	is_int(w.die, 1, "exactly once");
	ok(docker_is_up(dp), "docker_is_up() is true again");

	SYNC(r, 30000, docker_container_remove(dp, id, done_cb, &r, NULL, &err));
	is_int(r.status, 0, "remove through the proxy");
	docker_free(dp);
	proxy_down();
}

static bool wait_file(const char *path, int timeout_ms)
{
	int64_t deadline = util_mono_ns() + (int64_t)timeout_ms * 1000000;
	struct stat st;

	while (util_mono_ns() < deadline) {
		if (stat(path, &st) == 0)
			return true;
		event_base_loop(base, EVLOOP_ONCE);
	}
	return false;
}

static char *slurp(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	buf[0] = '\0';
	if (!f)
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	fclose(f);
	return buf;
}

static int json_path_int(struct json_object *o, const char *a, const char *b2)
{
	struct json_object *x, *y;

	if (!json_object_object_get_ex(o, a, &x) || !json_object_object_get_ex(x, b2, &y))
		return -1;
	return json_object_get_int(y);
}

static const char *json_path_str(struct json_object *o, const char *a, const char *b2)
{
	struct json_object *x, *y;

	if (!json_object_object_get_ex(o, a, &x) || !json_object_object_get_ex(x, b2, &y))
		return "";
	return json_object_to_json_string_ext(y, JSON_C_TO_STRING_PLAIN);
}

int main(void)
{
	struct docker *d = NULL;
	struct hearth_error *err = NULL;
	struct res r;
	struct watch w = { 0 };
	const char *sock = getenv("HEARTH_DOCKER_SOCKET");
	const char *srcdir = getenv("top_srcdir");
	char cmdline[1024], sockdir[] = "/tmp/hearth-test-sock-XXXXXX",
			    codedir[] = "/tmp/hearth-test-code-XXXXXX", path[256];
	char id[80], name[64];
	int64_t t0;
	struct timeval tick_tv = { 0, 5000 };

	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	ticker = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	event_add(ticker, &tick_tv);
	snprintf(run_label, sizeof(run_label), "hearth.test.run=%ld", (long)getpid());
	snprintf(name, sizeof(name), "hearth-test-docker-%ld", (long)getpid());
	test_labels[0] = "hearth.test=docker";
	test_labels[1] = run_label;
	test_labels[2] = NULL;

	/* -- reachability: a missing dockerd is a failure, not a skip -- */
	if (docker_new(&d, base, sock, &err) < 0) {
		printf("Bail out! docker_new: %s\n", err->msg);
		return 1;
	}
	SYNC(r, 10000, docker_ping(d, done_cb, &r, NULL, &err));
	ok(r.done && r.status == 0, "ping %s", docker_socket_path(d));
	if (r.status) {
		printf("Bail out! dockerd is not reachable: %s\n", r.msg);
		docker_free(d);
		return 1;
	}
	ok(docker_is_up(d) && docker_last_error(d) == NULL, "docker_is_up() after a ping");

	SYNC(r, 10000, is_int(docker_version(d, json_cb, &r, NULL, &err), 0, "version starts"));
	ok(r.status == 0 && r.json, "version answers");
	printf("# docker %s, API %s\n",
	       json_object_get_string(json_object_object_get(r.json, "Version")),
	       json_object_get_string(json_object_object_get(r.json, "ApiVersion")));
	json_object_put(r.json);

	/* -- the test image -- */
	snprintf(cmdline, sizeof(cmdline), "sh '%s/tests/integration/make-test-image.sh' >&2",
		 srcdir ? srcdir : TOP_SRCDIR);
	if (system(cmdline) != 0) {
		printf("Bail out! could not build %s with %s\n", IMAGE, cmdline);
		docker_free(d);
		return 1;
	}

	/* -- images -- */
	SYNC(r, 10000,
	     docker_image_inspect(d, "hearth-test/no-such-image:latest", json_cb, &r, NULL, &err));
	is_int(r.status, ENOENT, "a missing image is ENOENT");
	ok(strstr(r.msg, "make images") && strstr(r.msg, "hearth-test/no-such-image"),
	   "and says to run make images: %s", r.msg);
	json_object_put(r.json);
	SYNC(r, 10000, backend_image_check(docker_backend(d), IMAGE, done_cb, &r, NULL, &err));
	is_int(r.status, 0, "the test image exists (backend image_check)");

	remove_leftovers(d, "hearth.test=docker");

	/* -- the event watch -- */
	is_int(docker_events_watch(d, test_labels, event_cb, &w, NULL, &err), 0, "watch starts");
	ok(run_until(&w.connected, 10000), "the event stream connects");

	/* -- one container through its life -- */
	if (!mkdtemp(sockdir) || !mkdtemp(codedir)) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	chmod(sockdir, 0777); /* the container runs as 65534 */
	chmod(codedir, 0755);
	testfs_write(codedir, "main.py", "def handler(e, c): return e\n");
	{
		static const char *const cmd[] = {
			"/bin/sh", "-c",
			"id -u > /run/hearth/uid; "
			"(echo x > /x) 2>/dev/null && echo rw > /run/hearth/root || echo ro > /run/hearth/root; "
			"echo t > /tmp/t && echo ok > /run/hearth/tmp; "
			"ls /var/task > /run/hearth/task; "
			"(echo x > /var/task/y) 2>/dev/null && echo rw > /run/hearth/code || echo ro > /run/hearth/code; "
			"echo $HEARTH_X > /run/hearth/env; "
			"echo done > /run/hearth/done; exec sleep 300",
			NULL
		};
		static const char *const env[] = { "HEARTH_X=42", NULL };
		struct backend_label labels[] = {
			{ "hearth.test", "docker" },
			{ "hearth.test.run", run_label + strlen("hearth.test.run=") },
			{ "hearth.function", "7" },
		};
		struct backend_spec spec = {
			.image = IMAGE,
			.cmd = cmd,
			.env = env,
			.labels = labels,
			.n_labels = 3,
			.sock_dir = sockdir,
			.code_dir = codedir,
			.memory_mb = 64,
			.pids_limit = 32,
			.tmp_mb = 8,
			.name = name,
		};
		/* What the script above wrote to the socket folder. */
		static const struct {
			const char *file, *want, *what;
		} inside[] = {
			{ "uid", "65534", "runs as 65534" },
			{ "root", "ro", "the root filesystem is read-only" },
			{ "tmp", "ok", "/tmp is writable" },
			{ "task", "main.py", "the code dir is at /var/task" },
			{ "code", "ro", "/var/task is read-only" },
			{ "env", "42", "env is passed" },
		};
		struct backend_spec spec_sleep = spec;
		static const char *const cmd_sleep[] = { "sleep", "300", NULL };
		struct json_object *hc;

		t0 = util_mono_ns();
		SYNC(r, 30000,
		     is_int(docker_container_create(d, &spec, create_cb, &r, NULL, &err), 0,
			    "create starts"));
		is_int(r.status, 0, "container created %s", r.msg);
		ok(strlen(r.id) == 64, "create returns the id");
		printf("# latency: create %.1f ms\n", (double)(r.t_done - t0) / 1e6);
		snprintf(id, sizeof(id), "%s", r.id);
		w.id = id;

		t0 = util_mono_ns();
		SYNC(r, 30000, docker_container_start(d, id, done_cb, &r, NULL, &err));
		is_int(r.status, 0, "started %s", r.msg);
		printf("# latency: start %.1f ms\n", (double)(r.t_done - t0) / 1e6);

		memset(&r, 0, sizeof(r));
		r.want_id = id;
		docker_container_list(d, test_labels, list_cb, &r, NULL, &err);
		run_until(&r.done, 10000);
		ok(r.status == 0 && r.found, "listed by label (%d of ours)", r.n);
		is_str(r.state, "running", "listed as running");
		is_str(r.msg, "docker", "labels come back");

		SYNC(r, 10000, docker_container_inspect(d, id, inspect_cb, &r, NULL, &err));
		ok(r.status == 0 && r.running && !r.oom, "inspect: running, not OOM-killed");
		is_str(r.id, name, "inspect: the name asked for");

		snprintf(path, sizeof(path), "/containers/%s/json", id);
		SYNC(r, 10000, docker_request(d, "GET", path, NULL, json_cb, &r, NULL, &err));
		hc = json_object_object_get(r.json, "HostConfig");
		ok(json_object_get_boolean(json_object_object_get(hc, "ReadonlyRootfs")),
		   "hardened: read-only root");
		is_str(json_object_get_string(json_object_object_get(hc, "NetworkMode")), "none",
		       "hardened: network none");
		is_str(json_path_str(r.json, "HostConfig", "CapDrop"), "[\"ALL\"]",
		       "hardened: all capabilities dropped");
		is_str(json_path_str(r.json, "HostConfig", "SecurityOpt"),
		       "[\"no-new-privileges\"]", "hardened: no-new-privileges");
		ok(json_object_get_int64(json_object_object_get(hc, "Memory")) == 64 << 20 &&
			   json_object_get_int64(json_object_object_get(hc, "MemorySwap")) ==
				   64 << 20,
		   "memory = memory+swap = 64 MB (no swap)");
		is_int(json_path_int(r.json, "HostConfig", "PidsLimit"), 32, "pids limit");
		is_int(json_path_int(r.json, "HostConfig", "CpuShares"), 64,
		       "cpu shares follow memory");
		is_str(json_path_str(r.json, "Config", "User"), "\"65534:65534\"", "non-root user");
		json_object_put(r.json);

		snprintf(path, sizeof(path), "%s/done", sockdir);
		ok(wait_file(path, 10000), "the container ran its script");
		for (size_t i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", sockdir, inside[i].file);
			is_str(slurp(path), inside[i].want, "inside: %s", inside[i].what);
		}
		ok(w.start >= 1, "the start event was seen");

		SYNC(r, 10000, docker_container_kill(d, id, SIGKILL, done_cb, &r, NULL, &err));
		is_int(r.status, 0, "kill");
		ok(run_until(&w.die, 10000), "the die event arrives on the stream");
		is_int(w.die_code, 137, "with exit code 137");

		SYNC(r, 10000, docker_container_kill(d, id, SIGKILL, done_cb, &r, NULL, &err));
		is_int(r.status, 0, "killing a stopped container succeeds");

		SYNC(r, 10000, docker_container_inspect(d, id, inspect_cb, &r, NULL, &err));
		ok(r.status == 0 && !r.running && r.exit_code == 137,
		   "inspect after kill: exited %d (%s)", r.exit_code, r.state);

		t0 = util_mono_ns();
		SYNC(r, 30000, docker_container_remove(d, id, done_cb, &r, NULL, &err));
		is_int(r.status, 0, "removed");
		printf("# latency: remove (exited) %.1f ms\n", (double)(r.t_done - t0) / 1e6);
		ok(run_until(&w.destroy, 10000), "the destroy event arrives");

		SYNC(r, 10000, docker_container_inspect(d, id, inspect_cb, &r, NULL, &err));
		is_int(r.status, ENOENT, "inspect of a removed container is ENOENT");

		/* a running one: remove is forced */
		spec_sleep.cmd = cmd_sleep;
		spec_sleep.name = NULL;
		spec_sleep.sock_dir = NULL;
		spec_sleep.code_dir = NULL;
		SYNC(r, 30000, docker_container_create(d, &spec_sleep, create_cb, &r, NULL, &err));
		snprintf(id, sizeof(id), "%s", r.id);
		SYNC(r, 30000, docker_container_start(d, id, done_cb, &r, NULL, &err));
		t0 = util_mono_ns();
		SYNC(r, 30000, docker_container_remove(d, id, done_cb, &r, NULL, &err));
		is_int(r.status, 0, "a running container is removed (forced)");
		printf("# latency: remove (running) %.1f ms\n", (double)(r.t_done - t0) / 1e6);

		/* a bad spec fails at once, without a callback */
		spec_sleep.memory_mb = 1;
		memset(&r, 0, sizeof(r));
		is_int(docker_container_create(d, &spec_sleep, create_cb, &r, NULL, &err), -EINVAL,
		       "an invalid spec fails synchronously");
		hearth_error_clear(&err);
		spec_sleep.memory_mb = 64;
		spec_sleep.image = "hearth-test/no-such-image:latest";
		SYNC(r, 10000, docker_container_create(d, &spec_sleep, create_cb, &r, NULL, &err));
		ok(r.status == ENOENT && strstr(r.msg, "make images"),
		   "create from a missing image: %s", r.msg);
		spec_sleep.image = IMAGE;

		/* out of memory: the oom and die events, OOMKilled */
		{
			static const char *const cmd_oom[] = {
				"/bin/sh", "-c",
				"x=$(busybox head -c 200000000 /dev/zero | busybox tr '\\0' a); sleep 5",
				NULL
			};
			struct backend_spec spec_oom = spec_sleep;

			spec_oom.cmd = cmd_oom;
			spec_oom.memory_mb = 16;
			SYNC(r, 30000,
			     docker_container_create(d, &spec_oom, create_cb, &r, NULL, &err));
			snprintf(id, sizeof(id), "%s", r.id);
			w.id = id;
			w.die = w.oom = 0;
			SYNC(r, 30000, docker_container_start(d, id, done_cb, &r, NULL, &err));
			is_int(r.status, 0, "a container that will run out of memory starts");
			ok(run_until(&w.die, 20000), "it dies");
			is_int(w.die_code, 137, "killed (137)");
			ok(w.oom >= 1, "the oom event was seen");
			SYNC(r, 10000, docker_container_inspect(d, id, inspect_cb, &r, NULL, &err));
			ok(r.status == 0 && r.oom, "inspect says OOMKilled");
			SYNC(r, 30000, docker_container_remove(d, id, done_cb, &r, NULL, &err));
			is_int(r.status, 0, "removed");
		}

		test_concurrent(d, &spec_sleep);
		test_outage(d, &spec_sleep);
	}
	ok(w.errors == 0, "the event stream had no errors");

	remove_leftovers(d, run_label);
	docker_free(d);
	is_int(w.cancelled, 1, "docker_free ends the watch with ECANCELED");

	test_cancel_and_free();
	test_reentry();
	test_unreachable();

	testfs_remove(codedir);
	testfs_remove(sockdir);
	event_free(ticker);
	event_base_free(base);
	libevent_global_shutdown();
	return tap_done();
}
