/* curlev.c — see curlev.h.
 *
 * libcurl tells us which sockets to watch (socket callback) and when to call
 * it back (timer callback); libevent watches them; on readiness or timeout
 * we hand control back with curl_multi_socket_action and then collect
 * finished transfers.  User code runs only from curlev_check_done(), never
 * from inside libcurl, because libcurl refuses API calls made from its own
 * callbacks (CURLM_RECURSIVE_API_CALL). */
#include "curlev.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"

struct curlev_sock {
	struct curlev *cm;
	struct event *ev;
	curl_socket_t fd;
	struct curlev_sock *prev, *next;
};

struct curlev {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	curlev_done_cb done;
	void *done_arg;
	struct curlev_sock *socks; /* every socket curl asked us to watch */
	int busy;		   /* depth of curlev_check_done() */
	bool dead;		   /* curlev_free() called while busy */
	bool global;		   /* holds a curl_global_init reference */
};

static void curlev_destroy(struct curlev *cm)
{
	struct curlev_sock *s, *next;

	if (cm->multi)
		curl_multi_cleanup(cm->multi); /* may call curlev_socket_cb(REMOVE) */
	for (s = cm->socks; s; s = next) {
		next = s->next;
		event_free(s->ev);
		free(s);
	}
	if (cm->timer)
		event_free(cm->timer);
	if (cm->global)
		curl_global_cleanup();
	free(cm);
}

static void curlev_check_done(struct curlev *cm)
{
	CURLMsg *msg;
	int left;

	cm->busy++;
	while (!cm->dead && (msg = curl_multi_info_read(cm->multi, &left))) {
		CURL *easy;
		CURLcode result;

		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		result = msg->data.result;
		curl_multi_remove_handle(cm->multi, easy);
		cm->done(cm->done_arg, easy, result);
	}
	cm->busy--;
	if (cm->dead && cm->busy == 0)
		curlev_destroy(cm);
}

static void curlev_action(struct curlev *cm, curl_socket_t fd, int what)
{
	int running;
	CURLMcode rc;

	cm->busy++;
	rc = curl_multi_socket_action(cm->multi, fd, what, &running);
	cm->busy--;
	if (rc != CURLM_OK)
		log_warn("curl_multi_socket_action: %s", curl_multi_strerror(rc));
	curlev_check_done(cm);
}

static void curlev_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct curlev_sock *s = arg;
	int action = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	/* s may be freed inside; only its curlev is used after */
	curlev_action(s->cm, fd, action);
}

static void curlev_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	curlev_action(arg, CURL_SOCKET_TIMEOUT, 0);
}

static int curlev_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct curlev *cm = userp;
	struct curlev_sock *s = socketp;
	short events = EV_PERSIST;

	if (what == CURL_POLL_REMOVE) {
		if (!s)
			return 0;
		curl_multi_assign(cm->multi, fd, NULL);
		event_free(s->ev);
		if (s->prev)
			s->prev->next = s->next;
		else
			cm->socks = s->next;
		if (s->next)
			s->next->prev = s->prev;
		free(s);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EV_READ;
	if (what & CURL_POLL_OUT)
		events |= EV_WRITE;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->cm = cm;
		s->fd = fd;
		s->ev = event_new(cm->base, fd, events, curlev_event_cb, s);
		if (!s->ev) {
			free(s);
			return -1;
		}
		s->next = cm->socks;
		if (cm->socks)
			cm->socks->prev = s;
		cm->socks = s;
		curl_multi_assign(cm->multi, fd, s);
	} else {
		event_del(s->ev);
		event_assign(s->ev, cm->base, fd, events, curlev_event_cb, s);
	}
	if (event_add(s->ev, NULL) < 0)
		return -1;
	return 0;
}

static int curlev_timer_set_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct curlev *cm = userp;
	struct timeval tv;

	if (timeout_ms < 0) {
		evtimer_del(cm->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return evtimer_add(cm->timer, &tv) < 0 ? -1 : 0;
}

int curlev_new(struct curlev **out, struct event_base *base, curlev_done_cb done, void *arg,
	       struct hearth_error **err)
{
	struct curlev *cm;

	cm = calloc(1, sizeof(*cm));
	if (!cm)
		return hearth_error_make(err, ENOMEM, "out of memory");
	cm->base = base;
	cm->done = done;
	cm->done_arg = arg;
	/* reference-counted by libcurl; released in curlev_destroy */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(cm);
		return hearth_error_make(err, EIO, "curl_global_init failed");
	}
	cm->global = true;
	cm->multi = curl_multi_init();
	cm->timer = evtimer_new(base, curlev_timer_cb, cm);
	if (!cm->multi || !cm->timer) {
		curlev_destroy(cm);
		return hearth_error_make(err, ENOMEM, "cannot set up libcurl's multi handle");
	}
	curl_multi_setopt(cm->multi, CURLMOPT_SOCKETFUNCTION, curlev_socket_cb);
	curl_multi_setopt(cm->multi, CURLMOPT_SOCKETDATA, cm);
	curl_multi_setopt(cm->multi, CURLMOPT_TIMERFUNCTION, curlev_timer_set_cb);
	curl_multi_setopt(cm->multi, CURLMOPT_TIMERDATA, cm);
	*out = cm;
	return 0;
}

int curlev_add(struct curlev *cm, CURL *easy, struct hearth_error **err)
{
	CURLMcode rc = curl_multi_add_handle(cm->multi, easy);

	if (rc != CURLM_OK)
		return hearth_error_make(err, rc == CURLM_OUT_OF_MEMORY ? ENOMEM : EIO,
					 "curl_multi_add_handle: %s", curl_multi_strerror(rc));
	return 0;
}

void curlev_remove(struct curlev *cm, CURL *easy)
{
	curl_multi_remove_handle(cm->multi, easy);
}

void curlev_set_max_connections(struct curlev *cm, long total)
{
	curl_multi_setopt(cm->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, total);
}

void curlev_free(struct curlev *cm)
{
	if (!cm)
		return;
	if (cm->busy) {
		cm->dead = true;
		return;
	}
	curlev_destroy(cm);
}
