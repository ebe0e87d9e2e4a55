/* loop.c — see loop.h. */
#include "loop.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Answers taken from the set per run at most; more wait for the next. */
#define LOOP_BATCH 16

struct loop_set {
	struct event_base *base;
	int epfd;
	struct event *ev; /* epfd readable: the set runs */
	unsigned ticks;
	bool running;
	/* The run's polled watches; a stopped one is set to NULL. */
	struct loop_watch *batch[LOOP_BATCH];
	int batch_n, batch_i;
	struct loop_set *next;
};

struct loop_watch {
	struct loop_set *set;
	int fd; /* -1 once stopped */
	event_callback_fn cb;
	void *arg;
};

/* The sets of the loop_new bases (hearthd has one). */
static struct loop_set *sets;

static struct loop_set *set_of(const struct event_base *base)
{
	for (struct loop_set *s = sets; s; s = s->next)
		if (s->base == base)
			return s;
	return NULL;
}

static void set_run(struct loop_set *s)
{
	struct epoll_event evs[LOOP_BATCH];
	int n;

	if (s->running)
		return;
	n = epoll_wait(s->epfd, evs, LOOP_BATCH, 0);
	if (n <= 0)
		return;
	s->running = true;
	for (int i = 0; i < n; i++)
		s->batch[i] = evs[i].data.ptr;
	s->batch_n = n;
	for (s->batch_i = 0; s->batch_i < s->batch_n; s->batch_i++) {
		struct loop_watch *w = s->batch[s->batch_i];

		if (w)
			w->cb(w->fd, EV_READ, w->arg); /* may stop or free any watch */
	}
	s->batch_n = s->batch_i = 0;
	s->running = false;
}

static void on_set_ready(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	set_run(arg);
}

static void set_free(struct loop_set *s)
{
	if (!s)
		return;
	if (s->ev)
		event_free(s->ev);
	if (s->epfd >= 0)
		close(s->epfd);
	free(s);
}

struct event_base *loop_new(void)
{
	const struct timeval max_low = { 0, LOOP_MAX_LOW_US };
	struct event_config *cfg = event_config_new();
	struct loop_set *s = calloc(1, sizeof(*s));
	struct event_base *base = NULL;

	if (s)
		s->epfd = -1; /* set_free closes nothing else */
	if (!cfg || !s)
		goto fail;
	/* After LOOP_MAX_LOW_US of callbacks of the default priority, the
	 * loop polls again, so backend events never wait behind a long pass
	 * (a time, not a count: each poll returns every ready
	 * level-triggered connection again, loop.h). */
	event_config_set_max_dispatch_interval(cfg, &max_low, -1, LOOP_PRIO_DEFAULT);
	/* epoll_ctl once per descriptor and pass, for what changed since the
	 * last poll: evhttp turns reading off and writing on, then the other
	 * way round, for every request (4 epoll_ctl a call, 1.3 with it).
	 * Deletions wait for the next poll, hence loop_close_later (loop.h). */
	if (event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) < 0)
		goto fail;
	base = event_base_new_with_config(cfg);
	if (!base || event_base_priority_init(base, LOOP_PRIORITIES) < 0)
		goto fail;
	s->base = base;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		goto fail;
	s->ev = event_new(base, s->epfd, EV_READ | EV_PERSIST, on_set_ready, s);
	if (!s->ev || event_priority_set(s->ev, LOOP_PRIO_BACKEND) < 0 ||
	    event_add(s->ev, NULL) < 0)
		goto fail;
	event_config_free(cfg);
	s->next = sets;
	sets = s;
	return base;
fail:
	set_free(s);
	if (base)
		event_base_free(base);
	if (cfg)
		event_config_free(cfg);
	return NULL;
}

void loop_free(struct event_base *base)
{
	for (struct loop_set **p = &sets; *p; p = &(*p)->next)
		if ((*p)->base == base) {
			struct loop_set *s = *p;

			*p = s->next;
			set_free(s);
			break;
		}
	if (base)
		event_base_free(base);
}

struct loop_watch *loop_watch_new(struct event_base *base, int fd, event_callback_fn cb, void *arg)
{
	struct loop_set *s = set_of(base);
	struct loop_watch *w;
	struct epoll_event ev = { .events = EPOLLIN };

	if (!s) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	*w = (struct loop_watch){ s, fd, cb, arg };
	ev.data.ptr = w;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;

		free(w);
		errno = e;
		return NULL;
	}
	return w;
}

void loop_watch_stop(struct loop_watch *w)
{
	struct loop_set *s = w ? w->set : NULL;

	if (!w || w->fd < 0)
		return;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->fd = -1;
	/* Polled in the run going on, not called yet: not called at all. */
	for (int i = s->batch_i + 1; i < s->batch_n; i++)
		if (s->batch[i] == w)
			s->batch[i] = NULL;
}

void loop_watch_free(struct loop_watch *w)
{
	loop_watch_stop(w);
	free(w);
}

void loop_tick(struct event_base *base)
{
	struct loop_set *s = set_of(base);

	if (s && ++s->ticks % LOOP_TICK_EVERY == 0)
		set_run(s);
}

static void on_close_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; /* -1: a timer has none */
	(void)what;
	close((int)(intptr_t)arg);
}

void loop_close_later(struct event_base *base, int fd)
{
	/* A timer, not an active event: timers run after the next poll, which
	 * applies the deletions first (an event made active at once could
	 * run in this very pass). */
	static const struct timeval soon = { 0, 1 };

	if (fd < 0)
		return;
	if (!base ||
	    event_base_once(base, -1, EV_TIMEOUT, on_close_later, (void *)(intptr_t)fd, &soon) < 0)
		close(fd); /* out of memory: the descriptor, not the loop, goes first */
}
