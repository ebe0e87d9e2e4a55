/* floor-server.c — the floor a warm Hearth call is measured against
 * (issue 12, make bench): the least architecture that serves a Python or
 * Node handler over HTTP.  One libevent loop with evhttp; each request's
 * body goes over a pipe to one of N long-lived worker processes
 * (bench/floor-worker.py, bench/floor-worker.js: json.loads of the event,
 * the handler, json.dumps of the result, as the runtimes' bootstraps do),
 * one call in flight per worker, with a FIFO queue in front, bounded like
 * hearthd's per-function queue (--queue-size, default 100): a call that
 * finds it full is answered 429 at once.  No container, no shim, no pool,
 * no records, no envelope: the worker's result is the reply body.
 *
 * Pipe messages, both ways: u32 length (big-endian), then that many bytes.
 * A worker reads its requests on fd 3 and writes its answers on fd 4; its
 * stdout and stderr are this server's.  The request body is moved into the
 * pipe's output buffer without a copy (evbuffer chains), and the answer is
 * read straight into the buffer that becomes the reply body.
 *
 * usage: floor-server [--port N] [--port-file F] [--workers N]
 *                     [--queue-size N] -- WORKER-COMMAND [ARGS...]
 *   --port 0 (the default) binds a free port on 127.0.0.1; --port-file
 *   writes it there once listening.  SIGTERM/SIGINT end it; the workers
 *   see their input close and exit (and are SIGKILLed if this process dies
 *   first: PR_SET_PDEATHSIG). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#define WORKERS_MAX 64
#define BODY_MAX (7u << 20)    /* above hearthd's 6 MiB payload limit */
#define ANSWER_MAX (64u << 20) /* a worker's answer larger than this is a broken worker */
#define READ_CHUNK 16384       /* before an answer's length is known */

struct job {
	TAILQ_ENTRY(job) link;
	struct evhttp_request *req;
};
TAILQ_HEAD(jobq, job);

struct worker {
	struct server *srv;
	int id;
	pid_t pid;
	int wfd, rfd;	      /* our ends: requests out, answers in */
	struct evbuffer *out; /* request bytes not yet in the pipe */
	struct evbuffer *in;  /* answer bytes read so far */
	struct event *ev_read, *ev_write;
	struct job *job; /* the call in flight, NULL when idle */
	uint64_t want;	 /* the answer's length once its header is in, else UINT64_MAX */
	int dead;
};

struct server {
	struct event_base *base;
	struct worker workers[WORKERS_MAX];
	int nworkers, alive;
	struct jobq queue;
	int qlen, qmax;
};

static void die(const char *what)
{
	fprintf(stderr, "floor-server: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void reply_error(struct evhttp_request *req, int code, const char *reason, const char *json)
{
	struct evbuffer *b = evbuffer_new();

	if (b)
		evbuffer_add(b, json, strlen(json));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	evhttp_send_reply(req, code, reason, b);
	if (b)
		evbuffer_free(b);
}

static void worker_flush(struct worker *w)
{
	while (evbuffer_get_length(w->out)) {
		int n = evbuffer_write(w->out, w->wfd);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(w->ev_write, NULL);
			return;
		}
		if (n <= 0) {
			/* The worker is gone; its answer pipe says so too. */
			evbuffer_drain(w->out, evbuffer_get_length(w->out));
			return;
		}
	}
}

static void worker_start_job(struct worker *w, struct job *j)
{
	struct evbuffer *body = evhttp_request_get_input_buffer(j->req);
	size_t len = evbuffer_get_length(body);
	unsigned char hdr[4] = { (unsigned char)(len >> 24), (unsigned char)(len >> 16),
				 (unsigned char)(len >> 8), (unsigned char)len };

	w->job = j;
	w->want = UINT64_MAX;
	evbuffer_add(w->out, hdr, sizeof(hdr));
	evbuffer_add_buffer(w->out, body); /* moves the chains, no copy */
	worker_flush(w);
}

static void server_dispatch(struct server *s)
{
	for (int i = 0; i < s->nworkers && !TAILQ_EMPTY(&s->queue); i++) {
		struct worker *w = &s->workers[i];

		if (w->job || w->dead)
			continue;
		struct job *j = TAILQ_FIRST(&s->queue);
		TAILQ_REMOVE(&s->queue, j, link);
		s->qlen--;
		worker_start_job(w, j);
	}
}

/* The call in flight on w is over: its answer (or a 502) goes out, and
 * the next queued call comes in. */
static void worker_finish(struct worker *w, struct evbuffer *answer)
{
	struct job *j = w->job;

	w->job = NULL;
	w->want = UINT64_MAX;
	if (answer) {
		evhttp_add_header(evhttp_request_get_output_headers(j->req), "Content-Type",
				  "application/json");
		/* Sent also when the client has gone: evhttp then frees the
		 * request, which it detached from the closed connection. */
		evhttp_send_reply(j->req, 200, "OK", answer);
	} else {
		reply_error(j->req, 502, "Bad Gateway",
			    "{\"error\":{\"code\":\"worker\",\"message\":\"the worker died\"}}");
	}
	free(j);
	server_dispatch(w->srv);
}

static void worker_died(struct worker *w)
{
	if (!w->dead)
		fprintf(stderr, "floor-server: worker %d (pid %d) is gone\n", w->id, (int)w->pid);
	struct server *s = w->srv;
	if (!w->dead)
		s->alive--;
	w->dead = 1;
	event_del(w->ev_read);
	event_del(w->ev_write);
	if (w->job)
		worker_finish(w, NULL);
	if (!s->alive) {
		struct job *j;
		while ((j = TAILQ_FIRST(&s->queue))) {
			TAILQ_REMOVE(&s->queue, j, link);
			s->qlen--;
			reply_error(
				j->req, 502, "Bad Gateway",
				"{\"error\":{\"code\":\"worker\",\"message\":\"no worker left\"}}");
			free(j);
		}
	}
}

static void on_worker_write(evutil_socket_t fd, short what, void *arg)
{
	worker_flush(arg);
}

static void on_worker_read(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	for (;;) {
		size_t have = evbuffer_get_length(w->in);

		if (w->want == UINT64_MAX && have >= 4) {
			unsigned char h[4];
			evbuffer_copyout(w->in, h, 4);
			w->want = (uint64_t)h[0] << 24 | (uint64_t)h[1] << 16 |
				  (uint64_t)h[2] << 8 | h[3];
			if (w->want > ANSWER_MAX) {
				fprintf(stderr, "floor-server: worker %d: answer of %llu bytes\n",
					w->id, (unsigned long long)w->want);
				kill(w->pid, SIGKILL);
				worker_died(w);
				return;
			}
		}
		if (w->want != UINT64_MAX && have >= 4 + w->want) {
			if (!w->job) { /* nothing asked for it */
				kill(w->pid, SIGKILL);
				worker_died(w);
				return;
			}
			struct evbuffer *answer = evbuffer_new();
			if (!answer)
				die("evbuffer_new");
			evbuffer_drain(w->in, 4);
			evbuffer_remove_buffer(w->in, answer, (size_t)w->want);
			worker_finish(w, answer);
			evbuffer_free(answer);
			continue;
		}
		/* Read what is still missing of this answer (at least a
		 * chunk) straight into the buffer's own space. */
		size_t room = READ_CHUNK;
		if (w->want != UINT64_MAX && 4 + w->want - have > room)
			room = (size_t)(4 + w->want - have);
		struct evbuffer_iovec v;
		if (evbuffer_reserve_space(w->in, (ev_ssize_t)room, &v, 1) != 1)
			die("evbuffer_reserve_space");
		ssize_t n = read(w->rfd, v.iov_base, v.iov_len);
		if (n < 0 && errno == EINTR) {
			evbuffer_commit_space(w->in, &v, 0);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			evbuffer_commit_space(w->in, &v, 0);
			return;
		}
		if (n <= 0) {
			evbuffer_commit_space(w->in, &v, 0);
			worker_died(w);
			return;
		}
		v.iov_len = (size_t)n;
		evbuffer_commit_space(w->in, &v, 1);
	}
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct server *s = arg;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		reply_error(req, 405, "Method Not Allowed",
			    "{\"error\":{\"code\":\"method\",\"message\":\"POST a JSON event\"}}");
		return;
	}
	if (!s->alive) {
		reply_error(req, 502, "Bad Gateway",
			    "{\"error\":{\"code\":\"worker\",\"message\":\"no worker left\"}}");
		return;
	}
	if (s->qlen >= s->qmax) {
		reply_error(
			req, 429, "Too Many Requests",
			"{\"error\":{\"code\":\"throttled\",\"message\":\"the queue is full\"}}");
		return;
	}
	struct job *j = calloc(1, sizeof(*j));
	if (!j) {
		reply_error(req, 503, "Service Unavailable",
			    "{\"error\":{\"code\":\"memory\",\"message\":\"out of memory\"}}");
		return;
	}
	j->req = req;
	TAILQ_INSERT_TAIL(&s->queue, j, link);
	s->qlen++;
	server_dispatch(s);
}

/* A copy of fd at 10 or above, close-on-exec, so that dup2 onto 3 and 4
 * in the child never meets one of its own sources. */
static int high_fd(int fd)
{
	int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);
	if (h < 0)
		die("fcntl(F_DUPFD_CLOEXEC)");
	return h;
}

static void worker_spawn(struct server *s, int id, char **argv)
{
	struct worker *w = &s->workers[id];
	int req[2], ans[2];

	if (pipe2(req, O_CLOEXEC) < 0 || pipe2(ans, O_CLOEXEC) < 0)
		die("pipe2");
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int r = high_fd(req[0]), a = high_fd(ans[1]);
		if (dup2(r, 3) < 0 || dup2(a, 4) < 0)
			_exit(127);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null >= 0)
			dup2(null, 0);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "floor-server: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(req[0]);
	close(ans[1]);
	w->srv = s;
	w->id = id;
	w->pid = pid;
	w->wfd = req[1];
	w->rfd = ans[0];
	w->want = UINT64_MAX;
	/* Only our ends are non-blocking (each end is its own open file):
	 * the worker reads and writes with plain blocking calls. */
	if (fcntl(w->wfd, F_SETFL, O_NONBLOCK) < 0 || fcntl(w->rfd, F_SETFL, O_NONBLOCK) < 0)
		die("fcntl(O_NONBLOCK)");
	w->out = evbuffer_new();
	w->in = evbuffer_new();
	w->ev_read = event_new(s->base, w->rfd, EV_READ | EV_PERSIST, on_worker_read, w);
	w->ev_write = event_new(s->base, w->wfd, EV_WRITE, on_worker_write, w);
	if (!w->out || !w->in || !w->ev_read || !w->ev_write)
		die("out of memory");
	event_add(w->ev_read, NULL);
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static long parse_long(const char *s, const char *what, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "floor-server: %s: '%s' is not an integer in %ld..%ld\n", what, s,
			lo, hi);
		exit(2);
	}
	return v;
}

static void usage(FILE *f)
{
	fputs("usage: floor-server [--port N] [--port-file F] [--workers N] [--queue-size N]\n"
	      "                    -- WORKER-COMMAND [ARGS...]\n",
	      f);
}

int main(int argc, char **argv)
{
	static struct server s;
	int port = 0, i;
	const char *port_file = NULL;

	s.nworkers = 4;
	s.qmax = 100;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			port = (int)parse_long(argv[++i], "--port", 0, 65535);
		} else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc) {
			port_file = argv[++i];
		} else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
			s.nworkers = (int)parse_long(argv[++i], "--workers", 1, WORKERS_MAX);
		} else if (strcmp(argv[i], "--queue-size") == 0 && i + 1 < argc) {
			s.qmax = (int)parse_long(argv[++i], "--queue-size", 0, 1000000);
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	TAILQ_INIT(&s.queue);
	s.base = event_base_new();
	struct evhttp *http = s.base ? evhttp_new(s.base) : NULL;
	if (!http) {
		fprintf(stderr, "floor-server: out of memory\n");
		return 1;
	}
	for (int k = 0; k < s.nworkers; k++)
		worker_spawn(&s, k, argv + i);
	s.alive = s.nworkers;
	evhttp_set_gencb(http, on_request, &s);
	evhttp_set_max_body_size(http, BODY_MAX);
	evhttp_set_max_headers_size(http, 65536);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	/* The listening socket as hearthd makes it (src/api/api.c): a deep
	 * backlog, so that 256 connections at once meet no SYN retry, and
	 * TCP_NODELAY, so that a reply in pieces waits for no ACK. */
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	struct sockaddr_in bind_to = { .sin_family = AF_INET,
				       .sin_port = htons((uint16_t)port),
				       .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&bind_to, sizeof(bind_to)) < 0 || listen(lfd, 4096) < 0)
		die("bind 127.0.0.1");
	struct evhttp_bound_socket *bs = evhttp_accept_socket_with_handle(http, lfd);
	if (!bs)
		die("evhttp_accept_socket_with_handle");
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &sl) < 0)
		die("getsockname");
	port = ntohs(sin.sin_port);
	if (port_file) {
		char tmp[4096];
		int n = snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		FILE *f = n > 0 && (size_t)n < sizeof(tmp) ? fopen(tmp, "w") : NULL;
		if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 ||
		    rename(tmp, port_file) != 0) {
			fprintf(stderr, "floor-server: cannot write %s\n", port_file);
			return 1;
		}
	} else {
		printf("listening on 127.0.0.1:%d\n", port);
		fflush(stdout);
	}
	struct event *sigterm = evsignal_new(s.base, SIGTERM, on_signal, s.base);
	struct event *sigint = evsignal_new(s.base, SIGINT, on_signal, s.base);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	event_base_dispatch(s.base);

	/* Closing the request pipes ends the workers; a bounded wait, then
	 * SIGKILL for any that does not go. */
	for (int k = 0; k < s.nworkers; k++)
		close(s.workers[k].wfd);
	for (int k = 0; k < s.nworkers; k++) {
		struct worker *w = &s.workers[k];
		int st, waited = 0;
		while (waitpid(w->pid, &st, WNOHANG) == 0) {
			if (waited++ == 200) {
				kill(w->pid, SIGKILL);
				waitpid(w->pid, &st, 0);
				break;
			}
			nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
		}
		close(w->rfd);
		event_free(w->ev_read);
		event_free(w->ev_write);
		evbuffer_free(w->out);
		evbuffer_free(w->in);
	}
	event_free(sigterm);
	event_free(sigint);
	evhttp_free(http);
	event_base_free(s.base);
	return 0;
}
