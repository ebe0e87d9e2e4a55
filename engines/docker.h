/* docker.h — a Docker Engine API client over its unix socket, and the
 * `struct backend` (backend.h) built on it.
 *
 * Every call is asynchronous: requests are libcurl transfers on the
 * caller's libevent loop (curlev.h), speaking API v1.41 to
 * http://localhost/v1.41/... through CURLOPT_UNIX_SOCKET_PATH.  The rules of
 * backend.h hold for every function here: a call fails at once (negative
 * errno, *err filled, no callback) or returns 0 and calls its callback
 * exactly once later from the loop; docker_cancel() silences a request;
 * docker_free() calls each pending callback once with ECANCELED (the event
 * watch's too) and is safe inside a callback.
 *
 * Docker unreachable: callbacks get EHOSTDOWN, "cannot reach Docker at
 * /var/run/docker.sock: ...", and docker_is_up() turns false until a later
 * request (a ping, say) gets an answer again.  A missing image: ENOENT,
 * "image X is missing: run `make images` ...". */
#ifndef HEARTH_DOCKER_H
#define HEARTH_DOCKER_H

#include <stdbool.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "backend.h"
#include "error.h"

#define DOCKER_DEFAULT_SOCKET "/var/run/docker.sock"
#define DOCKER_API_VERSION "v1.41"

struct docker;
struct docker_req;

/* status: the HTTP status (0 when no answer came); body: the parsed JSON
 * reply or NULL (borrowed: json_object_get() it to keep it); err: NULL on
 * a 2xx answer. */
typedef void (*docker_json_cb)(void *arg, long status, struct json_object *body,
			       const struct hearth_error *err);

/* socket_path NULL means DOCKER_DEFAULT_SOCKET.  Contacts nothing: the
 * client starts "down" (docker_last_error says so) until a request gets an
 * answer; ping once to learn. */
int docker_new(struct docker **out, struct event_base *base, const char *socket_path,
	       struct hearth_error **err);
/* Inside a callback d stays usable until that callback returns (requests
 * started meanwhile fail with -ECANCELED). */
void docker_free(struct docker *d);
/* The backend.h view of this client; lives as long as d (backend_free(b)
 * is docker_free(d)). */
struct backend *docker_backend(struct docker *d);

bool docker_is_up(const struct docker *d);
/* NULL when up; else why not (borrowed, changes with the next answer). */
const char *docker_last_error(const struct docker *d);
const char *docker_socket_path(const struct docker *d);
/* Per-request timeout for ordinary calls (default 60 s; ping uses 5 s). */
void docker_set_timeout_ms(struct docker *d, long ms);

/* Any API call: method "GET"/"POST"/"DELETE", path after the version
 * ("/containers/json?all=1"), body NULL or JSON (serialised at once). */
int docker_request(struct docker *d, const char *method, const char *path, struct json_object *body,
		   docker_json_cb cb, void *arg, struct docker_req **reqp,
		   struct hearth_error **err);

int docker_ping(struct docker *d, backend_done_cb cb, void *arg, struct docker_req **reqp,
		struct hearth_error **err);
int docker_version(struct docker *d, docker_json_cb cb, void *arg, struct docker_req **reqp,
		   struct hearth_error **err);
/* The image's JSON; ENOENT "image X is missing: run `make images`" if absent. */
int docker_image_inspect(struct docker *d, const char *image, docker_json_cb cb, void *arg,
			 struct docker_req **reqp, struct hearth_error **err);
/* Same check, success/failure only. */
int docker_image_check(struct docker *d, const char *image, backend_done_cb cb, void *arg,
		       struct docker_req **reqp, struct hearth_error **err);

/* Sends docker_spec_json(spec) (docker_spec.h); a spec it refuses fails
 * at once with EINVAL. */
int docker_container_create(struct docker *d, const struct backend_spec *spec, backend_create_cb cb,
			    void *arg, struct docker_req **reqp, struct hearth_error **err);
int docker_container_start(struct docker *d, const char *id, backend_done_cb cb, void *arg,
			   struct docker_req **reqp, struct hearth_error **err);
int docker_container_kill(struct docker *d, const char *id, int signo, backend_done_cb cb,
			  void *arg, struct docker_req **reqp, struct hearth_error **err);
int docker_container_remove(struct docker *d, const char *id, backend_done_cb cb, void *arg,
			    struct docker_req **reqp, struct hearth_error **err);
int docker_container_list(struct docker *d, const char *const *labels, backend_list_cb cb,
			  void *arg, struct docker_req **reqp, struct hearth_error **err);
/* Changes a container's memory limit (swap stays none) and CPU share. */
int docker_container_update(struct docker *d, const char *id, unsigned memory_mb,
			    backend_done_cb cb, void *arg, struct docker_req **reqp,
			    struct hearth_error **err);
int docker_container_inspect(struct docker *d, const char *id, backend_inspect_cb cb, void *arg,
			     struct docker_req **reqp, struct hearth_error **err);
/* Streams /events for containers with every label in `labels` (start, die,
 * oom, destroy), reconnecting with a back-off (and `since` the last event
 * seen) whenever the stream ends; see backend_event_cb for what cb gets. */
int docker_events_watch(struct docker *d, const char *const *labels, backend_event_cb cb, void *arg,
			struct docker_req **reqp, struct hearth_error **err);

/* Stops a request or a watch; its callback is not called.  req must still
 * be pending (its callback not yet called). */
void docker_cancel(struct docker *d, struct docker_req *req);

#endif
