/* loadgen.c — hearth-loadgen: an HTTP/1.1 load generator on libevent for
 * the benchmarks (make bench).  Closed loop by default: each of N
 * keep-alive connections sends a pre-built request, waits for the whole
 * answer, and sends the next one.  With --rate R it is open loop instead:
 * requests are due at a fixed rate whatever the answers do, each goes out
 * on an idle connection of the N (or waits, in order, for one), and its
 * latency counts from when it was due, not from when it went out (as
 * wrk2 does: a slow server cannot hide its queue by slowing the client).
 * Every latency goes into an HDR-style histogram (hdr.h) with ~0.1 %
 * resolution.  The HTTP client is hand-written over
 * raw non-blocking sockets and plain events (no bufferevent, no evhttp):
 * one send() and usually one recv() per request, so the generator costs
 * a few µs per call and is not what a benchmark measures.
 *
 * It understands Content-Length, chunked bodies and read-until-close
 * answers (HTTP/1.0 servers); "Connection: close" or an HTTP/1.0 answer
 * without keep-alive makes it reconnect, and that connect time counts in
 * the next request's latency (as in wrk).
 *
 * usage: loadgen --url http://HOST:PORT/PATH [options]   (see --help) */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "hdr.h"

#define RBUF_MIN 16384
#define RBUF_MAX (64u << 20) /* an answer larger than this is an error */
#define MAX_HEADERS 64

enum err_kind { E_CONNECT, E_READ, E_WRITE, E_TIMEOUT, E_PARSE, E_CLOSED, E__N };
static const char *const err_names[E__N] = { "connect", "read",	 "write",
					     "timeout", "parse", "closed" };

struct opts {
	const char *url;
	const char *method;
	char *body;
	size_t body_len;
	const char *headers[MAX_HEADERS];
	int nheaders;
	int connections;
	uint64_t requests; /* 0: by duration */
	double duration;   /* 0: by count */
	uint64_t warmup;
	int timeout_ms;
	int json, strict, verbose;
	const char *label;
	double rate; /* requests due per second (open loop); 0: closed loop */
};

enum parse_state {
	P_HEAD,
	P_BODY_LEN,
	P_CHUNK_SIZE,
	P_CHUNK_DATA,
	P_CHUNK_CRLF,
	P_TRAILER,
	P_BODY_EOF
};

struct conn {
	struct lg *lg;
	int id;
	int fd;
	struct event *ev_read, *ev_write, *ev_timer, *ev_retry;
	int connected;
	size_t wpos; /* bytes of the request sent so far */
	uint64_t t0; /* when the current request was issued (open loop: due) */
	int busy;    /* a request is outstanding */
	/* answer parser */
	char *rbuf;
	size_t rlen, rcap, rpos;
	enum parse_state ps;
	int status;
	int keepalive;
	uint64_t remain; /* body or chunk bytes still to come */
	uint64_t body_bytes;
	int first_shown;
};

struct lg {
	struct opts o;
	struct event_base *base;
	struct addrinfo *ai;
	char *req;
	size_t req_len;
	struct conn *conns;
	struct hdr *hist;
	struct event *ev_deadline, *ev_sigint;
	const struct timeval *tv_timeout; /* a libevent common timeout: O(1) re-arming */
	uint64_t issued;		  /* requests started, warmup included */
	uint64_t done;			  /* requests finished (ok or error), warmup included */
	uint64_t target;		  /* requests to start in all; UINT64_MAX by duration */
	uint64_t measured;		  /* answers recorded after the warmup */
	uint64_t status[600];
	uint64_t status_other;
	struct hdr *by_status[600]; /* each status's own latencies, made on its first answer */
	uint64_t errors[E__N];
	uint64_t bytes_read;
	uint64_t t_start, t_measure, t_end, t_last;
	int measuring;
	int stopping;
	int active; /* connections with a request outstanding */
	int verbose_left;
	/* open loop (--rate): */
	struct event *ev_tick; /* at the next request's due time */
	uint64_t t_sched;      /* when request 0 was due */
	uint64_t k_next;       /* the next request's number: due at due_at(k_next) */
	int *idle, nidle;      /* connections with nothing to send */
	/* Requests due and waiting for a connection: the late_n before k_next
	 * (a connection goes idle only when none waits, and a due request
	 * waits only when none is idle, so they are always the last ones). */
	uint64_t late_n;
	struct hdr *send_lag; /* went out minus due, the measured ones */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	fputs("loadgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* ---- options ------------------------------------------------------------ */

static void usage(FILE *f)
{
	fputs("usage: loadgen --url http://HOST:PORT/PATH [options]\n"
	      "  --method M          GET (default; POST when a body is given) or any verb\n"
	      "  --body STRING       request body\n"
	      "  --body-file F       request body from a file\n"
	      "  --header 'K: V'     extra header (repeatable)\n"
	      "  --connections N     keep-alive connections, one request in flight each (default 1)\n"
	      "  --requests N        measured requests in all (after the warmup)\n"
	      "  --duration S        measure for S seconds (default 10 when --requests is not given;\n"
	      "                      with both, whichever comes first)\n"
	      "  --warmup N          requests answered before measuring starts (default 0)\n"
	      "  --rate R            open loop: R requests due per second, each sent on an idle\n"
	      "                      connection or queued until one is; latency counts from\n"
	      "                      when the request was due\n"
	      "  --timeout-ms MS     per-request timeout (default 30000)\n"
	      "  --label NAME        a name copied into the JSON output\n"
	      "  --json              one JSON object on stdout instead of the table\n"
	      "  --strict            exit 1 when any request errored or answered non-2xx\n"
	      "  --verbose           print the first answer of each connection to stderr\n",
	      f);
}

static uint64_t parse_u64(const char *s, const char *what, uint64_t lo, uint64_t hi)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
		die("%s: '%s' is not an integer in %" PRIu64 "..%" PRIu64, what, s, lo, hi);
	return v;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("--body-file %s: %s", path, strerror(errno));
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	size_t r;
	while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			if (cap > RBUF_MAX)
				die("--body-file %s: larger than %u bytes", path, RBUF_MAX);
			char *nb = realloc(b, cap *= 2);
			if (!nb)
				free(b);
			b = nb;
		}
	}
	if (!b)
		die("out of memory");
	if (ferror(f))
		die("--body-file %s: %s", path, strerror(errno));
	fclose(f);
	*len = n;
	return b;
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
	enum {
		O_URL = 256,
		O_METHOD,
		O_BODY,
		O_BODY_FILE,
		O_HEADER,
		O_CONNS,
		O_REQS,
		O_DUR,
		O_WARMUP,
		O_TIMEOUT,
		O_JSON,
		O_STRICT,
		O_VERBOSE,
		O_LABEL,
		O_RATE,
		O_HELP
	};
	static const struct option lo[] = {
		{ "url", required_argument, NULL, O_URL },
		{ "method", required_argument, NULL, O_METHOD },
		{ "body", required_argument, NULL, O_BODY },
		{ "body-file", required_argument, NULL, O_BODY_FILE },
		{ "header", required_argument, NULL, O_HEADER },
		{ "connections", required_argument, NULL, O_CONNS },
		{ "requests", required_argument, NULL, O_REQS },
		{ "duration", required_argument, NULL, O_DUR },
		{ "warmup", required_argument, NULL, O_WARMUP },
		{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
		{ "label", required_argument, NULL, O_LABEL },
		{ "rate", required_argument, NULL, O_RATE },
		{ "json", no_argument, NULL, O_JSON },
		{ "strict", no_argument, NULL, O_STRICT },
		{ "verbose", no_argument, NULL, O_VERBOSE },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;

	memset(o, 0, sizeof(*o));
	o->connections = 1;
	o->timeout_ms = 30000;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_URL: o->url = optarg; break;
		case O_METHOD: o->method = optarg; break;
		case O_BODY:
			free(o->body);
			o->body = strdup(optarg);
			if (!o->body)
				die("out of memory");
			o->body_len = strlen(optarg);
			break;
		case O_BODY_FILE:
			free(o->body);
			o->body = read_file(optarg, &o->body_len);
			break;
		case O_HEADER:
			if (o->nheaders == MAX_HEADERS)
				die("--header: at most %d", MAX_HEADERS);
			if (!strchr(optarg, ':') || strpbrk(optarg, "\r\n"))
				die("--header '%s': want 'Name: value' on one line", optarg);
			o->headers[o->nheaders++] = optarg;
			break;
		case O_CONNS:
			o->connections = (int)parse_u64(optarg, "--connections", 1, 10000);
			break;
		case O_REQS:
			o->requests = parse_u64(optarg, "--requests", 1, UINT64_C(1) << 40);
			break;
		case O_DUR:
			errno = 0;
			o->duration = strtod(optarg, &end);
			if (errno || end == optarg || *end ||
			    !(o->duration > 0 && o->duration <= 86400))
				die("--duration: '%s' is not a number of seconds in (0, 86400]",
				    optarg);
			break;
		case O_WARMUP:
			o->warmup = parse_u64(optarg, "--warmup", 0, UINT64_C(1) << 40);
			break;
		case O_TIMEOUT:
			o->timeout_ms = (int)parse_u64(optarg, "--timeout-ms", 1, 3600000);
			break;
		case O_LABEL: o->label = optarg; break;
		case O_RATE:
			errno = 0;
			o->rate = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->rate >= 1 && o->rate <= 1e7))
				die("--rate: '%s' is not a number of requests per second in "
				    "[1, 1e7]",
				    optarg);
			break;
		case O_JSON: o->json = 1; break;
		case O_STRICT: o->strict = 1; break;
		case O_VERBOSE: o->verbose = 1; break;
		case O_HELP: usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc)
		die("unexpected argument '%s' (see --help)", argv[optind]);
	if (!o->url)
		die("--url is required (see --help)");
	if (!o->method)
		o->method = o->body ? "POST" : "GET";
	if (!o->requests && o->duration == 0)
		o->duration = 10;
}

/* ---- the request -------------------------------------------------------- */

struct url {
	char host[256];
	char port[8];
	char hostport[300];
	const char *path;
};

static void parse_url(const char *u, struct url *out)
{
	const char *p, *slash, *colon;
	size_t hl;

	if (strncmp(u, "http://", 7) != 0)
		die("--url '%s': only http:// URLs", u);
	p = u + 7;
	slash = strchr(p, '/');
	if (!slash)
		slash = p + strlen(p);
	out->path = *slash ? slash : "/";
	if (*p == '[') { /* [v6]:port */
		const char *rb = memchr(p, ']', (size_t)(slash - p));
		if (!rb)
			die("--url '%s': bad IPv6 host", u);
		hl = (size_t)(rb - p - 1);
		if (hl == 0 || hl >= sizeof(out->host))
			die("--url '%s': bad host", u);
		memcpy(out->host, p + 1, hl);
		out->host[hl] = 0;
		colon = rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(p, ':', (size_t)(slash - p));
		hl = (size_t)((colon ? colon : slash) - p);
		if (hl == 0 || hl >= sizeof(out->host))
			die("--url '%s': bad host", u);
		memcpy(out->host, p, hl);
		out->host[hl] = 0;
	}
	if (colon) {
		size_t pl = (size_t)(slash - colon - 1);
		if (pl == 0 || pl >= sizeof(out->port))
			die("--url '%s': bad port", u);
		memcpy(out->port, colon + 1, pl);
		out->port[pl] = 0;
		parse_u64(out->port, "--url port", 1, 65535);
	} else {
		snprintf(out->port, sizeof(out->port), "80");
	}
	int n = snprintf(out->hostport, sizeof(out->hostport), "%.*s", (int)(slash - p), p);
	if (n < 0 || (size_t)n >= sizeof(out->hostport))
		die("--url '%s': host too long", u);
}

static int has_header(const struct opts *o, const char *name)
{
	size_t nl = strlen(name);
	for (int i = 0; i < o->nheaders; i++)
		if (strncasecmp(o->headers[i], name, nl) == 0 && o->headers[i][nl] == ':')
			return 1;
	return 0;
}

static void build_request(struct lg *lg, const struct url *u)
{
	const struct opts *o = &lg->o;
	size_t cap = 1024 + strlen(u->path) + o->body_len;
	for (int i = 0; i < o->nheaders; i++)
		cap += strlen(o->headers[i]) + 2;
	char *r = malloc(cap);
	if (!r)
		die("out of memory");
	int n = snprintf(r, cap, "%s %s HTTP/1.1\r\n", o->method, u->path);
	if (!has_header(o, "Host"))
		n += snprintf(r + n, cap - (size_t)n, "Host: %s\r\n", u->hostport);
	if (!has_header(o, "User-Agent"))
		n += snprintf(r + n, cap - (size_t)n, "User-Agent: hearth-loadgen\r\n");
	if (o->body && !has_header(o, "Content-Type"))
		n += snprintf(r + n, cap - (size_t)n, "Content-Type: application/json\r\n");
	for (int i = 0; i < o->nheaders; i++)
		n += snprintf(r + n, cap - (size_t)n, "%s\r\n", o->headers[i]);
	if (o->body || strcmp(o->method, "POST") == 0 || strcmp(o->method, "PUT") == 0)
		n += snprintf(r + n, cap - (size_t)n, "Content-Length: %zu\r\n", o->body_len);
	n += snprintf(r + n, cap - (size_t)n, "\r\n");
	if ((size_t)n + o->body_len >= cap)
		die("internal: request buffer too small");
	if (o->body_len)
		memcpy(r + n, o->body, o->body_len);
	lg->req = r;
	lg->req_len = (size_t)n + o->body_len;
}

/* ---- connections -------------------------------------------------------- */

static void conn_start_request(struct conn *c, uint64_t due);
static void conn_next(struct conn *c);
static void conn_open(struct conn *c);
static void lg_maybe_finish(struct lg *lg);

static void conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		event_del(c->ev_read);
		event_del(c->ev_write);
		close(c->fd);
		c->fd = -1;
	}
	c->connected = 0;
	c->rlen = c->rpos = 0;
	c->ps = P_HEAD;
}

static void reset_parser(struct conn *c)
{
	c->ps = P_HEAD;
	c->status = 0;
	c->keepalive = 1;
	c->remain = 0;
	c->body_bytes = 0;
}

/* The request on c is over (ok or not): account for it and go on. */
static void conn_request_done(struct conn *c, int err)
{
	struct lg *lg = c->lg;
	uint64_t t = now_ns();

	evtimer_del(c->ev_timer);
	/* The rest of a request the server answered early must not go out
	 * on a connection that is idle (or carrying the next request): such a
	 * connection is not used again. */
	event_del(c->ev_write);
	if (c->wpos < lg->req_len)
		c->keepalive = 0;
	c->busy = 0;
	lg->active--;
	lg->done++;
	if (lg->measuring) {
		if (err >= 0) {
			lg->errors[err]++;
		} else {
			hdr_record(lg->hist, t - c->t0);
			lg->measured++;
			if (c->status >= 0 && c->status < 600) {
				lg->status[c->status]++;
				struct hdr **h = &lg->by_status[c->status];
				if (!*h && !(*h = hdr_new()))
					die("out of memory");
				hdr_record(*h, t - c->t0);
			} else {
				lg->status_other++;
			}
		}
		lg->t_last = t;
	} else if (lg->done >= lg->o.warmup) {
		/* The warmup ends here.  Requests still in flight on other
		 * connections are measured when they answer, so that exactly
		 * --requests answers are recorded; they started at most one
		 * request earlier, which the interval's start ignores. */
		lg->measuring = 1;
		lg->t_measure = t;
		lg->t_last = t;
		if (lg->o.duration > 0) {
			struct timeval tv = { (time_t)lg->o.duration,
					      (suseconds_t)((lg->o.duration -
							     (double)(time_t)lg->o.duration) *
							    1e6) };
			evtimer_add(lg->ev_deadline, &tv);
		}
	}
	if (lg->stopping) {
		lg_maybe_finish(lg);
		return;
	}
	if (err >= 0) {
		conn_close(c);
		/* A refused or reset connection: back off a little so a dead
		 * server does not turn this into a busy loop. */
		struct timeval tv = { 0, err == E_CONNECT ? 10000 : 0 };
		evtimer_add(c->ev_retry, &tv);
		return;
	}
	if (!c->keepalive)
		conn_close(c);
	conn_next(c);
}

static int conn_write(struct conn *c)
{
	struct lg *lg = c->lg;
	while (c->wpos < lg->req_len) {
		ssize_t n = send(c->fd, lg->req + c->wpos, lg->req_len - c->wpos, MSG_NOSIGNAL);
		if (n > 0) {
			c->wpos += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(c->ev_write, NULL);
			return 0;
		}
		return -1;
	}
	return 0;
}

static void show_first(struct conn *c, size_t head_end)
{
	if (!c->lg->o.verbose || c->first_shown)
		return;
	c->first_shown = 1;
	size_t n = c->rlen - c->rpos;
	if (n > 2048)
		n = 2048;
	fprintf(stderr, "loadgen: connection %d, first answer (%zu bytes of head):\n%.*s\n", c->id,
		head_end, (int)n, c->rbuf + c->rpos);
}

/* Parses the head at rbuf[rpos..rlen); returns bytes consumed, 0 when it
 * is not complete yet, -1 when malformed. */
static ssize_t parse_head(struct conn *c)
{
	const char *b = c->rbuf + c->rpos;
	size_t n = c->rlen - c->rpos;
	const char *end = NULL;

	for (size_t i = 3; i < n; i++)
		if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r') {
			end = b + i + 1;
			break;
		}
	if (!end)
		return n > 65536 ? -1 : 0;
	show_first(c, (size_t)(end - b));
	/* HTTP/1.x NNN */
	if (end - b < 12 || memcmp(b, "HTTP/1.", 7) != 0 || b[8] != ' ')
		return -1;
	int minor = b[7] - '0';
	if (b[9] < '0' || b[9] > '9' || b[10] < '0' || b[10] > '9' || b[11] < '0' || b[11] > '9')
		return -1;
	c->status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
	c->keepalive = minor >= 1;
	int have_len = 0, chunked = 0;
	uint64_t clen = 0;
	const char *line = memchr(b, '\n', (size_t)(end - b)) + 1;
	while (line < end - 2) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		const char *colon = memchr(line, ':', (size_t)(eol - line));
		if (colon) {
			size_t nl = (size_t)(colon - line);
			const char *v = colon + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			size_t vl = (size_t)(eol - v);
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			if (nl == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
				clen = 0;
				have_len = 1;
				for (size_t i = 0; i < vl; i++) {
					if (v[i] < '0' || v[i] > '9' || clen > RBUF_MAX)
						return -1;
					clen = clen * 10 + (uint64_t)(v[i] - '0');
				}
			} else if (nl == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
				if (vl >= 7 && strncasecmp(v + vl - 7, "chunked", 7) == 0)
					chunked = 1;
			} else if (nl == 10 && strncasecmp(line, "Connection", 10) == 0) {
				if (vl == 5 && strncasecmp(v, "close", 5) == 0)
					c->keepalive = 0;
				else if (vl == 10 && strncasecmp(v, "keep-alive", 10) == 0)
					c->keepalive = 1;
			}
		}
		line = eol + 1;
	}
	if (c->status == 204 || c->status == 304 || (c->status >= 100 && c->status < 200) ||
	    strcmp(c->lg->o.method, "HEAD") == 0) {
		c->ps = P_BODY_LEN;
		c->remain = 0;
	} else if (chunked) {
		c->ps = P_CHUNK_SIZE;
	} else if (have_len) {
		c->ps = P_BODY_LEN;
		c->remain = clen;
	} else {
		c->ps = P_BODY_EOF;
		c->keepalive = 0;
	}
	return end - b;
}

/* Reads a CRLF-terminated line at rpos; returns its length without CRLF
 * and advances past it, or -1 when not complete. */
static ssize_t take_line(struct conn *c, const char **line)
{
	const char *b = c->rbuf + c->rpos;
	const char *nl = memchr(b, '\n', c->rlen - c->rpos);
	if (!nl)
		return -1;
	*line = b;
	size_t len = (size_t)(nl - b);
	c->rpos += len + 1;
	if (len && b[len - 1] == '\r')
		len--;
	return (ssize_t)len;
}

/* Advances the parser over what is buffered: 1 when an answer is
 * complete, 0 when more bytes are needed, -1 on a protocol error. */
static int parse(struct conn *c)
{
	for (;;) {
		size_t avail = c->rlen - c->rpos;
		switch (c->ps) {
		case P_HEAD: {
			ssize_t r = parse_head(c);
			if (r <= 0)
				return (int)r;
			c->rpos += (size_t)r;
			break;
		}
		case P_BODY_LEN: {
			uint64_t take = avail < c->remain ? avail : c->remain;
			c->rpos += take;
			c->remain -= take;
			c->body_bytes += take;
			return c->remain == 0 ? 1 : 0;
		}
		case P_CHUNK_SIZE: {
			const char *line;
			ssize_t l = take_line(c, &line);
			if (l < 0)
				return avail > 1024 ? -1 : 0;
			uint64_t sz = 0;
			ssize_t i = 0;
			for (; i < l; i++) {
				int ch = line[i], d;
				if (ch >= '0' && ch <= '9')
					d = ch - '0';
				else if (ch >= 'a' && ch <= 'f')
					d = ch - 'a' + 10;
				else if (ch >= 'A' && ch <= 'F')
					d = ch - 'A' + 10;
				else
					break;
				sz = sz * 16 + (uint64_t)d;
				if (sz > RBUF_MAX)
					return -1;
			}
			if (i == 0)
				return -1;
			c->remain = sz;
			c->ps = sz ? P_CHUNK_DATA : P_TRAILER;
			break;
		}
		case P_CHUNK_DATA: {
			uint64_t take = avail < c->remain ? avail : c->remain;
			c->rpos += take;
			c->remain -= take;
			c->body_bytes += take;
			if (c->remain)
				return 0;
			c->ps = P_CHUNK_CRLF;
			break;
		}
		case P_CHUNK_CRLF: {
			const char *line;
			ssize_t l = take_line(c, &line);
			if (l < 0)
				return 0;
			if (l != 0)
				return -1;
			c->ps = P_CHUNK_SIZE;
			break;
		}
		case P_TRAILER: {
			const char *line;
			ssize_t l = take_line(c, &line);
			if (l < 0)
				return 0;
			if (l == 0)
				return 1;
			break;
		}
		case P_BODY_EOF:
			c->body_bytes += avail;
			c->rpos += avail;
			return 0; /* complete only at EOF */
		}
	}
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct lg *lg = c->lg;

	for (;;) {
		if (c->rpos == c->rlen)
			c->rpos = c->rlen = 0;
		if (c->rcap - c->rlen < 4096) {
			if (c->rpos) {
				memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
				c->rlen -= c->rpos;
				c->rpos = 0;
			}
			if (c->rcap - c->rlen < 4096) {
				if (c->rcap >= RBUF_MAX) {
					conn_request_done(c, E_PARSE);
					return;
				}
				char *nb = realloc(c->rbuf, c->rcap * 2);
				if (!nb)
					die("out of memory");
				c->rbuf = nb;
				c->rcap *= 2;
			}
		}
		ssize_t n = recv(fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			if (!c->busy) { /* an idle keep-alive connection closed */
				conn_close(c);
				return;
			}
			if (n == 0 && c->ps == P_BODY_EOF) {
				c->keepalive = 0;
				conn_request_done(c, -1);
				return;
			}
			conn_request_done(c, n == 0 ? E_CLOSED : E_READ);
			return;
		}
		lg->bytes_read += (uint64_t)n;
		c->rlen += (size_t)n;
		if (!c->busy) { /* bytes nobody asked for */
			conn_close(c);
			return;
		}
		int r = parse(c);
		if (r < 0) {
			conn_request_done(c, E_PARSE);
			return;
		}
		if (r > 0) {
			if (c->rpos != c->rlen) /* no pipelining: extra bytes are wrong */
				c->keepalive = 0;
			conn_request_done(c, -1);
			return;
		}
		if ((size_t)n < c->rcap - (c->rlen - (size_t)n))
			return; /* a short read: the socket is drained */
	}
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (!c->busy)
		return;
	if (!c->connected) {
		int e = 0;
		socklen_t el = sizeof(e);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e) {
			conn_request_done(c, E_CONNECT);
			return;
		}
		c->connected = 1;
		event_add(c->ev_read, NULL);
	}
	if (conn_write(c) < 0)
		conn_request_done(c, E_WRITE);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->busy)
		conn_request_done(c, E_TIMEOUT);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	conn_next(arg);
}

static void conn_open(struct conn *c)
{
	struct lg *lg = c->lg;
	int fd = socket(lg->ai->ai_family, lg->ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			lg->ai->ai_protocol);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->connected = 0;
	event_assign(c->ev_read, lg->base, fd, EV_READ | EV_PERSIST, on_read, c);
	event_assign(c->ev_write, lg->base, fd, EV_WRITE, on_write, c);
	if (connect(fd, lg->ai->ai_addr, lg->ai->ai_addrlen) == 0) {
		c->connected = 1;
		event_add(c->ev_read, NULL);
	} else if (errno == EINPROGRESS) {
		event_add(c->ev_write, NULL);
	} else {
		c->connected = -1; /* failed at once */
	}
}

/* Sends a request on c; its latency counts from due (0: now). */
static void conn_start_request(struct conn *c, uint64_t due)
{
	struct lg *lg = c->lg;
	uint64_t now = now_ns();

	if (lg->stopping || lg->issued >= lg->target) {
		lg_maybe_finish(lg);
		return;
	}
	lg->issued++;
	lg->active++;
	c->busy = 1;
	c->wpos = 0;
	reset_parser(c);
	c->t0 = due ? due : now;
	if (due && lg->measuring)
		hdr_record(lg->send_lag, now > due ? now - due : 0);
	evtimer_add(c->ev_timer, lg->tv_timeout);
	if (c->fd < 0) {
		conn_open(c);
		if (c->connected < 0) {
			conn_request_done(c, E_CONNECT);
			return;
		}
		if (!c->connected)
			return; /* on_write sends once connected */
	}
	if (conn_write(c) < 0)
		conn_request_done(c, E_WRITE);
}

/* Open loop: request k is due at t_sched + k / rate (computed from k, so
 * the rate does not drift with a rounded interval). */
static uint64_t due_at(const struct lg *lg, uint64_t k)
{
	return lg->t_sched + (uint64_t)((double)k * 1e9 / lg->o.rate);
}

/* c has nothing in flight: closed loop, its next request; open loop, the
 * oldest request due and waiting, else c waits for one. */
static void conn_next(struct conn *c)
{
	struct lg *lg = c->lg;

	if (lg->o.rate <= 0) {
		conn_start_request(c, 0);
	} else if (lg->late_n) {
		uint64_t due = due_at(lg, lg->k_next - lg->late_n);

		lg->late_n--;
		conn_start_request(c, due);
	} else {
		lg->idle[lg->nidle++] = c->id;
		lg_maybe_finish(lg);
	}
}

/* Open loop: every request due by now goes out on an idle connection, or
 * waits in order for one; then the timer is set for the next one due. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct lg *lg = arg;
	uint64_t now = now_ns(), next;

	while (!lg->stopping && due_at(lg, lg->k_next) <= now &&
	       lg->issued + lg->late_n < lg->target) {
		uint64_t due = due_at(lg, lg->k_next++);

		if (lg->nidle)
			conn_start_request(&lg->conns[lg->idle[--lg->nidle]], due);
		else
			lg->late_n++;
	}
	if (lg->stopping || lg->issued + lg->late_n >= lg->target) {
		lg_maybe_finish(lg);
		return;
	}
	/* Rounded up: a timer that fires early would only arm itself again. */
	next = due_at(lg, lg->k_next);
	uint64_t wait_us = next > now ? (next - now + 999) / 1000 : 0;
	struct timeval tv = { (time_t)(wait_us / 1000000u), (suseconds_t)(wait_us % 1000000u) };
	evtimer_add(lg->ev_tick, &tv);
}

/* ---- the run ------------------------------------------------------------ */

static void lg_maybe_finish(struct lg *lg)
{
	if (lg->active == 0 && (lg->stopping || lg->issued >= lg->target)) {
		if (!lg->t_end)
			lg->t_end = lg->measuring ? lg->t_last : now_ns();
		event_base_loopbreak(lg->base);
	}
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct lg *lg = arg;
	/* By duration: answers still in flight are dropped (as wrk does); the
	 * interval ends now. */
	lg->t_end = now_ns();
	lg->stopping = 1;
	event_base_loopbreak(lg->base);
}

static void on_sigint(evutil_socket_t fd, short what, void *arg)
{
	on_deadline(fd, what, arg);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static const struct {
	const char *key, *label;
	double p;
} pcts[] = {
	{ "p50", "50%", 50 }, { "p75", "75%", 75 },	  { "p90", "90%", 90 },
	{ "p99", "99%", 99 }, { "p99_9", "99.9%", 99.9 }, { "p99_99", "99.99%", 99.99 },
};

static void report(struct lg *lg)
{
	const struct opts *o = &lg->o;
	struct hdr *h = lg->hist;
	double secs = lg->t_end > lg->t_measure && lg->measuring
			      ? (double)(lg->t_end - lg->t_measure) / 1e9
			      : 0.0;
	uint64_t errs = 0, non2xx = 0;
	for (int i = 0; i < E__N; i++)
		errs += lg->errors[i];
	for (int i = 0; i < 600; i++)
		if (lg->status[i] && (i < 200 || i > 299))
			non2xx += lg->status[i];
	non2xx += lg->status_other;
	double rps = secs > 0 ? (double)lg->measured / secs : 0.0;
	uint64_t good = 0;
	for (int i = 200; i < 300; i++)
		good += lg->status[i];
	double good_rps = secs > 0 ? (double)good / secs : 0.0;
	FILE *f = stdout;

	if (o->json) {
		fprintf(f, "{\"tool\":\"hearth-loadgen\",\"label\":");
		json_str(f, o->label ? o->label : "");
		fprintf(f, ",\"url\":");
		json_str(f, o->url);
		fprintf(f, ",\"method\":");
		json_str(f, o->method);
		fprintf(f,
			",\"body_bytes\":%zu,\"connections\":%d,\"warmup\":%" PRIu64
			",\"requests\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"non_2xx\":%" PRIu64
			",\"elapsed_s\":%.6f,\"throughput_rps\":%.1f,\"bytes_read\":%" PRIu64,
			o->body_len, o->connections, o->warmup, lg->measured, errs, non2xx, secs,
			rps, lg->bytes_read);
		fprintf(f, ",\"error_kinds\":{");
		for (int i = 0; i < E__N; i++)
			fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", err_names[i], lg->errors[i]);
		fprintf(f, "},\"status\":{");
		int first = 1;
		for (int i = 0; i < 600; i++)
			if (lg->status[i]) {
				fprintf(f, "%s\"%d\":%" PRIu64, first ? "" : ",", i, lg->status[i]);
				first = 0;
			}
		if (lg->status_other)
			fprintf(f, "%s\"other\":%" PRIu64, first ? "" : ",", lg->status_other);
		fprintf(f,
			"},\"latency_us\":{\"count\":%" PRIu64
			",\"min\":%.3f,\"mean\":%.3f,\"stdev\":%.3f",
			hdr_count(h), hdr_min(h) / 1e3, hdr_mean(h) / 1e3, hdr_stddev(h) / 1e3);
		for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
			fprintf(f, ",\"%s\":%.3f", pcts[i].key, hdr_percentile(h, pcts[i].p) / 1e3);
		fprintf(f, ",\"max\":%.3f}", hdr_max(h) / 1e3);
		/* Per status: a fast 429 and a slow 200 are different stories. */
		fprintf(f, ",\"goodput_rps\":%.1f,\"latency_by_status_us\":{", good_rps);
		first = 1;
		for (int i = 0; i < 600; i++) {
			const struct hdr *hs = lg->by_status[i];
			if (!hs)
				continue;
			fprintf(f, "%s\"%d\":{\"count\":%" PRIu64 ",\"mean\":%.3f",
				first ? "" : ",", i, hdr_count(hs), hdr_mean(hs) / 1e3);
			for (size_t k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++)
				fprintf(f, ",\"%s\":%.3f", pcts[k].key,
					hdr_percentile(hs, pcts[k].p) / 1e3);
			fprintf(f, ",\"max\":%.3f}", hdr_max(hs) / 1e3);
			first = 0;
		}
		fprintf(f, "}");
		/* Open loop: what was offered, how late requests went out
		 * (waiting for a connection, or the generator behind), and the
		 * ones due but never sent when the run ended. */
		if (o->rate > 0) {
			const struct hdr *sl = lg->send_lag;

			fprintf(f,
				",\"offered_rps\":%.1f,\"waiting_at_end\":%" PRIu64 ","
				"\"send_lag_us\":{\"count\":%" PRIu64
				",\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
				o->rate, lg->late_n, hdr_count(sl), hdr_percentile(sl, 50) / 1e3,
				hdr_percentile(sl, 99) / 1e3, hdr_max(sl) / 1e3);
		}
		/* Non-empty buckets as [low_us, high_us, count]: enough for
		 * the chart to draw the distribution and to merge runs. */
		fprintf(f, ",\"histogram\":[");
		size_t it = 0;
		uint64_t lo, hi, cnt;
		first = 1;
		while (hdr_next(h, &it, &lo, &hi, &cnt)) {
			fprintf(f, "%s[%.3f,%.3f,%" PRIu64 "]", first ? "" : ",", lo / 1e3,
				(hi + 1) / 1e3, cnt);
			first = 0;
		}
		fprintf(f, "]}\n");
		return;
	}
	fprintf(f, "%s %s, %d connection%s%s%s%s\n", o->method, o->url, o->connections,
		o->connections == 1 ? "" : "s", o->rate > 0 ? ", open loop" : "",
		o->label ? ", " : "", o->label ? o->label : "");
	fprintf(f, "  requests   %12" PRIu64 "   in %.3f s (warmup %" PRIu64 " not counted)\n",
		lg->measured, secs, o->warmup);
	fprintf(f, "  throughput %12.1f req/s\n", rps);
	fprintf(f, "  latency (µs)   min %10.1f   mean %10.1f   stdev %10.1f   max %10.1f\n",
		hdr_min(h) / 1e3, hdr_mean(h) / 1e3, hdr_stddev(h) / 1e3, hdr_max(h) / 1e3);
	fprintf(f, "               ");
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
		fprintf(f, " %6s %9.1f", pcts[i].label, hdr_percentile(h, pcts[i].p) / 1e3);
	fputc('\n', f);
	fprintf(f, "  status    ");
	for (int i = 0; i < 600; i++)
		if (lg->status[i])
			fprintf(f, "  %d: %" PRIu64, i, lg->status[i]);
	if (lg->status_other)
		fprintf(f, "  other: %" PRIu64, lg->status_other);
	fputc('\n', f);
	for (int i = 0; i < 600; i++) {
		const struct hdr *hs = lg->by_status[i];
		if (!hs || hdr_count(hs) == lg->measured)
			continue;
		fprintf(f, "  %d (µs)    p50 %9.1f   p99 %9.1f   p99.9 %9.1f   max %9.1f\n", i,
			hdr_percentile(hs, 50) / 1e3, hdr_percentile(hs, 99) / 1e3,
			hdr_percentile(hs, 99.9) / 1e3, hdr_max(hs) / 1e3);
	}
	fprintf(f, "  goodput    %12.1f 2xx/s\n", good_rps);
	if (o->rate > 0)
		fprintf(f,
			"  open loop  %12.1f req/s offered; sent late by (µs) p50 %.1f  p99 %.1f  "
			"max %.1f; %" PRIu64 " due but unsent at the end\n",
			o->rate, hdr_percentile(lg->send_lag, 50) / 1e3,
			hdr_percentile(lg->send_lag, 99) / 1e3, hdr_max(lg->send_lag) / 1e3,
			lg->late_n);
	fprintf(f, "  non-2xx %" PRIu64 ", errors %" PRIu64, non2xx, errs);
	for (int i = 0; i < E__N; i++)
		if (lg->errors[i])
			fprintf(f, " (%s %" PRIu64 ")", err_names[i], lg->errors[i]);
	fputc('\n', f);
}

int main(int argc, char **argv)
{
	static struct lg lg;
	struct url u;

	parse_opts(&lg.o, argc, argv);
	parse_url(lg.o.url, &u);
	signal(SIGPIPE, SIG_IGN);

	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	int gr = getaddrinfo(u.host, u.port, &hints, &lg.ai);
	if (gr)
		die("%s:%s: %s", u.host, u.port, gai_strerror(gr));
	build_request(&lg, &u);

	struct event_config *cfg = event_config_new();
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	/* Open loop: requests go out at their due time to the µs (timerfd),
	 * not to epoll_wait's millisecond. */
	if (lg.o.rate > 0)
		event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	lg.base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (!lg.base)
		die("event_base_new failed");
	struct timeval tv_to = { lg.o.timeout_ms / 1000, (lg.o.timeout_ms % 1000) * 1000 };
	lg.tv_timeout = event_base_init_common_timeout(lg.base, &tv_to);
	if (!lg.tv_timeout)
		die("event_base_init_common_timeout failed");
	lg.hist = hdr_new();
	if (!lg.hist)
		die("out of memory");
	lg.target = lg.o.requests ? lg.o.requests + lg.o.warmup : UINT64_MAX;
	lg.ev_deadline = evtimer_new(lg.base, on_deadline, &lg);
	lg.ev_sigint = evsignal_new(lg.base, SIGINT, on_sigint, &lg);
	event_add(lg.ev_sigint, NULL);
	lg.conns = calloc((size_t)lg.o.connections, sizeof(*lg.conns));
	lg.idle = calloc((size_t)lg.o.connections, sizeof(*lg.idle));
	lg.send_lag = hdr_new();
	lg.ev_tick = evtimer_new(lg.base, on_tick, &lg);
	if (!lg.conns || !lg.idle || !lg.send_lag || !lg.ev_tick)
		die("out of memory");

	lg.t_start = now_ns();
	if (lg.o.warmup == 0) {
		lg.measuring = 1;
		lg.t_measure = lg.t_last = lg.t_start;
		if (lg.o.duration > 0) {
			struct timeval tv = {
				(time_t)lg.o.duration,
				(suseconds_t)((lg.o.duration - (double)(time_t)lg.o.duration) * 1e6)
			};
			evtimer_add(lg.ev_deadline, &tv);
		}
	}
	for (int i = 0; i < lg.o.connections; i++) {
		struct conn *c = &lg.conns[i];
		c->lg = &lg;
		c->id = i;
		c->fd = -1;
		c->rcap = RBUF_MIN;
		c->rbuf = malloc(c->rcap);
		c->ev_read = event_new(lg.base, -1, 0, on_read, c);
		c->ev_write = event_new(lg.base, -1, 0, on_write, c);
		c->ev_timer = evtimer_new(lg.base, on_timeout, c);
		c->ev_retry = evtimer_new(lg.base, on_retry, c);
		if (!c->rbuf || !c->ev_read || !c->ev_write || !c->ev_timer || !c->ev_retry)
			die("out of memory");
	}
	if (lg.o.rate > 0) {
		for (int i = lg.o.connections - 1; i >= 0; i--)
			lg.idle[lg.nidle++] = i;
		lg.t_sched = now_ns();
		on_tick(-1, 0, &lg);
	} else {
		for (int i = 0; i < lg.o.connections; i++)
			conn_start_request(&lg.conns[i], 0);
	}
	event_base_dispatch(lg.base);
	if (!lg.t_end)
		lg.t_end = lg.measuring ? lg.t_last : now_ns();

	report(&lg);

	uint64_t bad = 0;
	for (int i = 0; i < E__N; i++)
		bad += lg.errors[i];
	for (int i = 0; i < 600; i++)
		if (i < 200 || i > 299)
			bad += lg.status[i];
	bad += lg.status_other;

	for (int i = 0; i < lg.o.connections; i++) {
		struct conn *c = &lg.conns[i];
		if (c->fd >= 0)
			close(c->fd);
		event_free(c->ev_read);
		event_free(c->ev_write);
		event_free(c->ev_timer);
		event_free(c->ev_retry);
		free(c->rbuf);
	}
	free(lg.conns);
	free(lg.idle);
	hdr_free(lg.send_lag);
	event_free(lg.ev_tick);
	event_free(lg.ev_deadline);
	event_free(lg.ev_sigint);
	event_base_free(lg.base);
	hdr_free(lg.hist);
	for (int i = 0; i < 600; i++)
		hdr_free(lg.by_status[i]);
	freeaddrinfo(lg.ai);
	free(lg.req);
	free(lg.o.body);
	return lg.o.strict && bad ? 1 : 0;
}
