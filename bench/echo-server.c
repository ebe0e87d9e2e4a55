/* echo-server.c — a trivial evhttp server for checking the load generator
 * (hearth-loadgen against wrk on the same target): any request gets 200
 * with its own body back, or "ok\n" when it had none.  Single-threaded,
 * one event loop, like hearthd, so it is the same kind of target.
 *
 * usage: echo-server [--port N] [--port-file F]
 *   --port 0 (the default) binds a free port; --port-file writes it there
 *   once listening (for scripts). SIGTERM/SIGINT end it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

static void on_request(struct evhttp_request *req, void *arg)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	if (evbuffer_get_length(in))
		evbuffer_add_buffer(out, in);
	else
		evbuffer_add(out, "ok\n", 3);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
	evhttp_send_reply(req, 200, "OK", NULL);
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	int port = 0;
	const char *port_file = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 0 || v > 65535) {
				fprintf(stderr, "echo-server: bad --port\n");
				return 2;
			}
			port = (int)v;
		} else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc) {
			port_file = argv[++i];
		} else {
			fprintf(stderr, "usage: echo-server [--port N] [--port-file F]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	struct event_base *base = event_base_new();
	struct evhttp *http = base ? evhttp_new(base) : NULL;
	if (!http) {
		fprintf(stderr, "echo-server: out of memory\n");
		return 1;
	}
	evhttp_set_gencb(http, on_request, NULL);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
						 EVHTTP_REQ_HEAD | EVHTTP_REQ_DELETE);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(http, "127.0.0.1",
									(ev_uint16_t)port);
	if (!bs) {
		fprintf(stderr, "echo-server: cannot bind 127.0.0.1:%d: %s\n", port,
			strerror(errno));
		return 1;
	}
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &sl) < 0) {
		perror("echo-server: getsockname");
		return 1;
	}
	port = ntohs(sin.sin_port);
	if (port_file) {
		char tmp[4096];
		int n = snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		FILE *f = n > 0 && (size_t)n < sizeof(tmp) ? fopen(tmp, "w") : NULL;
		if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 ||
		    rename(tmp, port_file) != 0) {
			fprintf(stderr, "echo-server: cannot write %s\n", port_file);
			return 1;
		}
	} else {
		printf("listening on 127.0.0.1:%d\n", port);
		fflush(stdout);
	}
	struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	struct event *sigint = evsignal_new(base, SIGINT, on_signal, base);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	event_base_dispatch(base);
	event_free(sigterm);
	event_free(sigint);
	evhttp_free(http);
	event_base_free(base);
	return 0;
}
