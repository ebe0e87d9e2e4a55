/* Unit tests for loop.c: the set of answers (loop_watch_*) and loop_tick,
 * on a real event_base and real pipes. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop.h"
#include "tap.h"

struct pipe_w {
	int fd[2];
	int calls;
	char got[64];
	size_t len;
	struct loop_watch *w;
	struct loop_watch **stop_other; /* stopped from this callback */
	bool free_self;
};

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct pipe_w *p = arg;
	ssize_t n = read(fd, p->got + p->len, sizeof(p->got) - 1 - p->len);

	p->calls++;
	if (n > 0)
		p->len += (size_t)n;
	if (p->stop_other && *p->stop_other)
		loop_watch_stop(*p->stop_other);
	if (p->free_self) {
		loop_watch_free(p->w);
		p->w = NULL;
	}
	(void)what;
}

static bool open_pipe(struct pipe_w *p)
{
	memset(p, 0, sizeof(*p));
	return pipe2(p->fd, O_CLOEXEC | O_NONBLOCK) == 0;
}

static void close_pipe(struct pipe_w *p)
{
	close(p->fd[0]);
	close(p->fd[1]);
}

/* How many of this process's epoll sets register descriptor fd: their
 * /proc/self/fdinfo lines "tfd: N" (kept for an open file that another
 * descriptor still holds, even once fd itself is closed). */
static int epoll_entries(int fd)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[64], target[64], line[256];
		int efd = atoi(e->d_name);
		ssize_t len;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", efd);
		len = readlink(path, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		if (strcmp(target, "anon_inode:[eventpoll]") != 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", efd);
		if (!(f = fopen(path, "re")))
			continue;
		while (fgets(line, sizeof(line), f)) {
			int tfd;

			if (sscanf(line, "tfd: %d", &tfd) == 1 && tfd == fd)
				n++;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

static void on_nothing(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* A socket whose open file another descriptor also holds (as a container
 * holds the lane's channel), with a libevent event: sv[0] is it, *other
 * the second descriptor. */
static struct event *shared_socket(struct event_base *base, int sv[2], int *other)
{
	struct event *ev;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return NULL;
	*other = fcntl(sv[0], F_DUPFD_CLOEXEC, 0);
	ev = event_new(base, sv[0], EV_WRITE | EV_PERSIST, on_nothing, NULL);
	if (ev && event_add(ev, NULL) == 0)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK); /* the add applied */
	return ev;
}

int main(void)
{
	struct event_base *base = loop_new(), *plain = event_base_new();
	struct pipe_w a, b;
	bool all = true;

	ok(base != NULL && plain != NULL, "a loop");
	ok(open_pipe(&a) && open_pipe(&b), "two pipes");

	/* Only a loop_new base has a set. */
	errno = 0;
	ok(loop_watch_new(plain, a.fd[0], on_read, &a) == NULL && errno == EINVAL,
	   "a base not from loop_new: no watch (EINVAL)");

	a.w = loop_watch_new(base, a.fd[0], on_read, &a);
	b.w = loop_watch_new(base, b.fd[0], on_read, &b);
	ok(a.w && b.w, "two watches");

	/* The loop wakes for an answer: the set is a descriptor of the loop. */
	ok(write(a.fd[1], "one", 3) == 3, "the first answer written");
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ok(a.calls == 1 && a.len == 3 && !memcmp(a.got, "one", 3) && b.calls == 0,
	   "the loop ran the ready watch's callback, and only it");

	/* Nothing ready: a tick calls nothing. */
	for (int i = 0; i < LOOP_TICK_EVERY; i++)
		loop_tick(base);
	ok(a.calls == 1 && b.calls == 0, "ticks with nothing ready call nothing");

	/* Ready, and read between the clients' reads: every LOOP_TICK_EVERY. */
	ok(write(b.fd[1], "two", 3) == 3, "the second answer written");
	for (int i = 0; i < LOOP_TICK_EVERY - 1; i++)
		loop_tick(base);
	all = b.calls == 0;
	loop_tick(base);
	ok(all && b.calls == 1 && b.len == 3, "the tick of every %d runs the watches",
	   LOOP_TICK_EVERY);

	/* Level-triggered: what the callback leaves is reported again. */
	{
		char big[200];

		memset(big, 'x', sizeof(big));
		ok(write(a.fd[1], big, sizeof(big)) == (ssize_t)sizeof(big),
		   "more than the callback reads at once");
		a.len = 0;
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		a.len = 0;
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		a.len = 0;
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		a.len = 0;
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		ok(a.calls == 5, "called until it was all read (4 reads of 63)");
	}

	/* Stopped from another's callback while both are polled: the second
	 * is not called (it may be freed by then). */
	a.calls = b.calls = 0;
	a.stop_other = &b.w;
	b.stop_other = &a.w;
	ok(write(a.fd[1], "x", 1) == 1 && write(b.fd[1], "y", 1) == 1, "both ready");
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ok(a.calls + b.calls == 1, "the first called stops the other: one call in all");
	a.stop_other = b.stop_other = NULL;
	{
		int before = a.calls + b.calls;

		ok(write(a.fd[1], "x", 1) == 1 && write(b.fd[1], "y", 1) == 1, "both ready again");
		for (int i = 0; i < 2 * LOOP_TICK_EVERY; i++)
			loop_tick(base);
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		ok(a.calls + b.calls == before + 1,
		   "the stopped one is never called again, the other is, once");
	}
	loop_watch_stop(a.w);
	loop_watch_stop(a.w);
	ok(1, "stopping twice is no error");
	loop_watch_free(a.w);
	loop_watch_free(b.w);
	loop_watch_free(NULL);

	/* A callback freeing its own watch. */
	close_pipe(&a);
	ok(open_pipe(&a), "a new pipe");
	a.w = loop_watch_new(base, a.fd[0], on_read, &a);
	a.free_self = true;
	ok(a.w && write(a.fd[1], "z", 1) == 1, "a watch that frees itself when called");
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ok(a.calls == 1 && a.w == NULL, "called once, then gone");
	ok(write(a.fd[1], "z", 1) == 1, "more on its pipe");
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ok(a.calls == 1, "nothing calls it any more");

	/* loop_close_later: the deletion reaches epoll before the close. */
	{
		int sv[2] = { -1, -1 }, other = -1, fd, passes = 0;
		struct event *ev = shared_socket(base, sv, &other);

		fd = sv[0];
		ok(ev && other >= 0 && epoll_entries(fd) == 1,
		   "a shared socket with an event is in the loop's epoll set");
		event_free(ev);
		loop_close_later(base, fd);
		ok(fcntl(fd, F_GETFD) >= 0, "loop_close_later: still open in this pass");
		while (fcntl(fd, F_GETFD) >= 0 && passes++ < 100) {
			event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
			if (fcntl(fd, F_GETFD) >= 0)
				usleep(1000);
		}
		ok(fcntl(fd, F_GETFD) < 0 && errno == EBADF,
		   "closed after the next poll (%d passes)", passes);
		ok(epoll_entries(fd) == 0,
		   "and epoll no longer lists it, its open file held elsewhere");
		close(other);
		close(sv[1]);

		/* Why: closed at once, the deletion comes too late. */
		ev = shared_socket(base, sv, &other);
		fd = sv[0];
		event_free(ev);
		close(fd);
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		ok(epoll_entries(fd) == 1, "closed at once instead: epoll still lists it");
		close(other);
		ok(epoll_entries(fd) == 0, "until the last descriptor of its open file closes");
		close(sv[1]);
		ok(epoll_entries(-1) == 0 && epoll_entries(0) >= 0, "(the count reads /proc)");
	}

	close_pipe(&a);
	close_pipe(&b);
	loop_free(base);
	loop_free(NULL);
	event_base_free(plain);
	return tap_done();
}
