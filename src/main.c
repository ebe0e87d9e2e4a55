/* main.c — hearthd: reads its settings, opens the store and the code
 * store, starts the pool and the HTTP API on one libevent loop, and on
 * SIGTERM/SIGINT stops accepting, lets requests in flight finish (bounded
 * by --shutdown-grace) and closes everything before exiting 0. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "api.h"
#include "auth.h"
#include "asyncq.h"
#include "codestore.h"
#include "config.h"
#include "conns.h"
#include "docker.h"
#include "events.h"
#include "heap.h"
#include "bounds.h"
#include "log.h"
#include "loop.h"
#include "invoke.h"
#include "metrics.h"
#include "pool.h"
#include "records.h"
#include "registry.h"
#include "store.h"
#include "tls.h"
#include "util.h"

struct daemon {
	struct hearth_config cfg;
	struct event_base *base;
	struct store *store;
	struct codestore *codes;
	struct pool *pool;
	struct records *records;
	struct metrics *metrics;
	struct registry *registry;
	struct invoker *invoker;
	struct asyncq *asyncq;
	struct events *events;
	struct api *api;
	struct tls *tls;
	struct event *sigterm, *sigint, *drain;
	int64_t drain_deadline_ns;
	int lock_fd;
};

static void on_pool_down(void *arg)
{
	struct daemon *d = arg;

	event_base_loopexit(d->base, NULL);
}

static void drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	int left = api_inflight(d->api), attempts = asyncq_running(d->asyncq);

	/* Attempts of async calls get the same grace as requests; one cut
	 * short goes back to its queue. */
	if ((left == 0 && attempts == 0) || util_mono_ns() >= d->drain_deadline_ns) {
		if (left || attempts)
			log_warn("shutdown: %d request(s) and %d async attempt(s) still in flight "
				 "after %d s; stopping anyway",
				 left, attempts, d->cfg.shutdown_grace_s);
		/* Then every container goes, so none outlives its daemon. */
		pool_shutdown(d->pool, 15, on_pool_down, d);
		return;
	}
	struct timeval tv = { 0, 20000 };
	evtimer_add(d->drain, &tv);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	if (d->drain_deadline_ns) {
		log_warn("second signal: stopping now");
		event_base_loopexit(d->base, NULL);
		return;
	}
	log_info("received %s: no longer accepting, finishing %d request(s) in flight",
		 sig == SIGTERM ? "SIGTERM" : "SIGINT", api_inflight(d->api));
	api_stop_accepting(d->api);
	asyncq_stop(d->asyncq);
	/* Event streams never end by themselves: end them, so the drain waits
	 * only for calls; their clients reconnect to the next hearthd. */
	events_close_all(d->events);
	d->drain_deadline_ns = util_mono_ns() + (int64_t)d->cfg.shutdown_grace_s * 1000000000LL;
	drain_tick(-1, 0, d);
}

/* The data dir must exist (made if missing), be writable, and belong to no
 * other running hearthd: a second daemon on the same files would race the
 * code store and the pool's containers. */
static int prepare_data_dir(struct daemon *d, struct hearth_error **err)
{
	char abs[PATH_MAX], lock[PATH_MAX + 16];
	int r;

	if ((r = util_mkdir_p(d->cfg.data_dir, 1, err)) < 0)
		return hearth_error_wrap(err, "data dir %s is unusable", d->cfg.data_dir);
	if (!realpath(d->cfg.data_dir, abs))
		return hearth_error_errno(err, errno, "data dir %s is unusable", d->cfg.data_dir);
	if (access(abs, W_OK | X_OK) < 0)
		return hearth_error_errno(err, errno, "data dir %s is not writable", abs);
	if (util_snprintf(d->cfg.data_dir, sizeof(d->cfg.data_dir), err, "%s", abs) < 0 ||
	    util_snprintf(lock, sizeof(lock), err, "%s/hearth.lock", abs) < 0)
		return hearth_error_wrap(err, "data dir");
	d->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd < 0)
		return hearth_error_errno(err, errno, "data dir %s is unusable: %s", abs, lock);
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return hearth_error_make(err, EBUSY,
					 "data dir %s is in use by another hearthd (lock %s held)",
					 abs, lock);
	return 0;
}

/* Every client connection is a file descriptor: the soft limit goes up
 * to the hard one (Debian's default soft limit is 1024).  Returns the
 * limit in force. */
static long raise_nofile(void)
{
	struct rlimit rl;
	rlim_t was;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	was = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			rl.rlim_cur = was; /* valgrind, for one, keeps its own */
		else
			log_debug("open-file limit raised from %llu to %llu",
				  (unsigned long long)was, (unsigned long long)rl.rlim_cur);
	}
	return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)INT32_MAX ? INT32_MAX
									       : (long)rl.rlim_cur;
}

/* The cap on connections: --max-connections, or what the open-file limit
 * leaves (conns_default_max). */
static int connection_cap(const struct hearth_config *cfg, long nofile)
{
	int room = conns_default_max(nofile, cfg->max_containers);

	if (!cfg->max_connections) {
		log_info("connections: at most %d at once (open-file limit %ld; --max-connections "
			 "sets it)",
			 room, nofile);
		return room;
	}
	if (cfg->max_connections > room)
		log_warn(
			"--max-connections %d: the open-file limit (%ld) leaves room for about %d; "
			"past that, accepting fails until descriptors free (raise ulimit -n)",
			cfg->max_connections, nofile, room);
	return cfg->max_connections;
}

/* Hands every stored function to the pool, which removes what an earlier
 * run left behind and warms them, and to the async queue, which picks up
 * the calls an earlier run accepted. */
static int warm_all(struct daemon *d, struct hearth_error **err)
{
	struct fn **fns = NULL;
	size_t n = 0;
	int r;

	if ((r = registry_list(d->registry, &fns, &n, err)) < 0)
		return hearth_error_wrap(err, "loading functions");
	if ((r = pool_start(d->pool, fns, n, err)) == 0)
		r = asyncq_start(d->asyncq, fns, n, err);
	registry_list_free(fns, n);
	return r;
}

/* The registry tells the pool of every change it commits, then the feed. */
static int on_function_changed(void *arg, const struct fn *f, struct hearth_error **err)
{
	struct daemon *d = arg;
	int r = pool_function_changed(d->pool, f, err);

	if (r == 0)
		asyncq_function_changed(d->asyncq, f);
	if (r == 0)
		events_function(d->events, f->revision == 1 ? "created" : "updated", f->id,
				f->revision);
	return r;
}

static void on_function_removed(void *arg, int64_t id)
{
	struct daemon *d = arg;

	pool_function_removed(d->pool, id);
	asyncq_function_removed(d->asyncq, id);
	events_function(d->events, "deleted", id, 0);
}

static int start(struct daemon *d, struct hearth_error **err)
{
	char path[PATH_MAX];
	enum log_level lvl;
	long nofile;
	int r;

	if (log_level_parse(d->cfg.log_level, &lvl) < 0)
		return hearth_error_make(err, EINVAL,
					 "--log-level: '%s' is not debug, info, warn or error",
					 d->cfg.log_level);
	log_set_level(lvl);
	nofile = raise_nofile();
	/* A bad certificate or key is found before anything else starts. */
	if (d->cfg.tls_cert[0] && (r = tls_new(&d->tls, d->cfg.tls_cert, d->cfg.tls_key, err)) < 0)
		return r;
	if ((r = prepare_data_dir(d, err)) < 0)
		return r;
	if (util_snprintf(path, sizeof(path), err, "%s/hearth.db", d->cfg.data_dir) < 0 ||
	    (r = store_open(&d->store, path, err)) < 0)
		return hearth_error_wrap(err, "store");
	if ((r = codestore_open(&d->codes, d->cfg.data_dir, err)) < 0)
		return hearth_error_wrap(err, "code store");
	d->base = loop_new();
	if (!d->base)
		return hearth_error_make(err, ENOMEM, "cannot create the event loop");
	if (heap_trim_start(d->base) < 0)
		return hearth_error_make(err, ENOMEM, "cannot create the heap's trim timer");
	/* The one place that knows which container engine runs the pool. */
	struct docker *engine = NULL;

	if ((r = docker_new(&engine, d->base, d->cfg.docker_socket, err)) < 0)
		return hearth_error_wrap(err, "docker");
	struct pool_config pc = {
		.backend = docker_backend(engine),
		.data_dir = d->cfg.data_dir,
		.idle_ttl_s = d->cfg.idle_ttl_s,
		.max_containers = d->cfg.max_containers,
		.stem_cells = d->cfg.stem_cells,
		.stem_memory_mb = FN_MEMORY_DEFAULT,
		.queue_size = d->cfg.queue_size,
		.image_python = d->cfg.image_python,
		.image_node = d->cfg.image_node,
	};
	if ((r = pool_new(&d->pool, d->base, &pc, err)) < 0)
		return hearth_error_wrap(err, "pool");
	if ((r = records_new(&d->records, path, d->cfg.retention, err)) < 0 ||
	    (r = metrics_new(&d->metrics, err)) < 0)
		return r;
	store_on_busy(d->store, records_boost, d->records);
	if ((r = events_new(&d->events, d->base, d->pool, err)) < 0)
		return r;
	struct invoke_deps xd = { .base = d->base,
				  .pool = d->pool,
				  .records = d->records,
				  .metrics = d->metrics,
				  .observer = events_invocation,
				  .observer_arg = d->events };
	if ((r = invoke_new(&d->invoker, &xd, err)) < 0)
		return r;
	struct asyncq_config aqc = { .base = d->base,
				     .store = d->store,
				     .invoker = d->invoker,
				     .pool = d->pool,
				     .queue_max = d->cfg.async_queue_max,
				     .queue_total = d->cfg.async_queue_total,
				     .max_containers = d->cfg.max_containers,
				     .time_scale = d->cfg.time_scale };
	if ((r = asyncq_new(&d->asyncq, &aqc, err)) < 0)
		return r;
	struct registry_listener rl = { .changed = on_function_changed,
					.removed = on_function_removed,
					.arg = d };
	if ((r = registry_new(&d->registry, d->store, d->codes, &rl, err)) < 0)
		return r;
	if ((r = warm_all(d, err)) < 0)
		return r;
	struct api_deps deps = { .base = d->base,
				 .registry = d->registry,
				 .store = d->store,
				 .records = d->records,
				 .metrics = d->metrics,
				 .pool = d->pool,
				 .invoker = d->invoker,
				 .asyncq = d->asyncq,
				 .events = d->events,
				 .web_dir = d->cfg.web_dir,
				 .aws_region = d->cfg.aws_region,
				 .aws_access_key_id = d->cfg.aws_access_key_id[0]
							      ? d->cfg.aws_access_key_id
							      : NULL,
				 .aws_secret_access_key = d->cfg.aws_secret_access_key,
				 .token = d->cfg.token[0] ? d->cfg.token : NULL,
				 .conns = {
					 .max = connection_cap(&d->cfg, nofile),
					 .header_timeout_s = d->cfg.header_timeout_s,
					 .body_timeout_s = d->cfg.body_timeout_s,
					 .max_head = HTTP_HEADERS_MAX,
					 .max_body = HTTP_BODY_MAX,
					 .tls = d->tls,
				 } };
	if ((r = api_new(&d->api, &deps, err)) < 0)
		return hearth_error_wrap(err, "api");
	if ((r = api_listen(d->api, d->cfg.listen_host, d->cfg.listen_port, err)) < 0)
		return r;
	d->sigterm = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->sigint = evsignal_new(d->base, SIGINT, on_signal, d);
	d->drain = evtimer_new(d->base, drain_tick, d);
	if (!d->sigterm || !d->sigint || !d->drain || evsignal_add(d->sigterm, NULL) < 0 ||
	    evsignal_add(d->sigint, NULL) < 0)
		return hearth_error_make(err, ENOMEM, "cannot install signal handlers");
	return 0;
}

static void stop(struct daemon *d)
{
	if (d->sigterm)
		event_free(d->sigterm);
	if (d->sigint)
		event_free(d->sigint);
	if (d->drain)
		event_free(d->drain);
	events_free(d->events); /* before the api: its streams are requests */
	api_free(d->api);
	tls_free(d->tls);
	asyncq_free(d->asyncq); /* before the invoker: it abandons its attempts */
	invoke_free(d->invoker);
	registry_free(d->registry);
	if (d->store)
		store_on_busy(d->store, NULL, NULL);
	records_free(d->records); /* flushes the last batch */
	pool_free(d->pool);
	metrics_free(d->metrics);
	codestore_close(d->codes);
	store_close(d->store);
	heap_trim_stop();
	if (d->base)
		loop_free(d->base);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
}

int main(int argc, char **argv)
{
	struct daemon d = { .lock_fd = -1 };
	struct hearth_error *err = NULL;
	int rc = 0;

	signal(SIGPIPE, SIG_IGN);
	heap_setup();
	if (config_load(&d.cfg, argc, argv, &err) < 0) {
		fprintf(stderr, "hearthd: %s\n", err->msg);
		hearth_error_free(err);
		return 2;
	}
	if (d.cfg.show_help) {
		config_usage(stdout, "hearthd");
		return 0;
	}
	if (d.cfg.show_version) {
		printf("hearthd %s\n", PACKAGE_VERSION);
		return 0;
	}
	/* Before anything starts: no token, no network beyond this machine. */
	if (auth_listen_check(d.cfg.listen_host, d.cfg.token[0] != '\0', d.cfg.insecure, &err) <
	    0) {
		fprintf(stderr, "hearthd: %s\n", err->msg);
		hearth_error_free(err);
		return 2;
	}
	if (start(&d, &err) < 0) {
		log_error("cannot start: %s", err->msg);
		hearth_error_free(err);
		rc = 1;
		goto out;
	}
	log_info("hearthd %s listening on %s://%s:%d (data %s)", PACKAGE_VERSION,
		 d.tls ? "https" : "http", d.cfg.listen_host, d.cfg.listen_port, d.cfg.data_dir);
	if (d.cfg.token[0])
		log_info("the API and /events need the bearer token; the dashboard asks for it");
	else if (d.cfg.insecure)
		log_warn("--insecure: no token, and anyone who can reach %s:%d can run code here",
			 d.cfg.listen_host, d.cfg.listen_port);
	if (d.cfg.token[0] && strlen(d.cfg.token) < 16)
		log_warn("the token is %zu characters: 32 random ones (openssl rand -hex 16) are "
			 "better",
			 strlen(d.cfg.token));
	event_base_dispatch(d.base);
	log_info("hearthd stopped");
out:
	stop(&d);
	return rc;
}
