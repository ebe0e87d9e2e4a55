/* shim_rtt.c — what the shim adds to a warm call: the round trip of a
 * no-op Python handler through hearth-shim (frame over a unix socket ->
 * shim -> input pipe -> bootstrap -> handler -> result pipe -> shim, see
 * runtimes/PROTOCOL.md) against a bare pipe round trip to the same python3
 * running a minimal loop that does the same JSON work (json.loads of the
 * event, json.dumps of the result).  Both in one run, in alternating
 * blocks so that drift hits both alike.
 *
 * --cpu N pins this program, the shim and both pythons to one CPU: on a
 * VM, where waking an idle vCPU costs tens of microseconds, that separates
 * the shim's own cost from the scheduler's placement of three processes.
 *
 * usage: shim_rtt --shim PATH --bootstrap PATH [--calls N] [--payload JSON] [--cpu N] */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"

#define BLOCK 1000

static const char baseline_py[] =
	"import os, json\n"
	"def handler(event, context):\n"
	"    return None\n"
	"read, write, loads, dumps = os.read, os.write, json.loads, json.dumps\n"
	"while True:\n"
	"    m = read(0, 65536)\n"
	"    if not m:\n"
	"        break\n"
	"    out = dumps(handler(loads(m[4:]), None)).encode()\n"
	"    write(1, len(out).to_bytes(4, 'big') + out)\n";

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void fail(const char *what)
{
	fprintf(stderr, "shim_rtt: %s: %s\n", what, errno ? strerror(errno) : "failed");
	exit(1);
}

static void write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			fail("write");
		b += w;
		n -= (size_t)w;
	}
}

/* The frame the writer laid out, as one flat piece: the bench writes the
 * same bytes every call, as hearthd's output buffer would hold them, so
 * every value here is copied into the scratch. */
static const uint8_t *frame_flat(struct frame_writer *w, size_t *len)
{
	if (frame_writer_finish(w, len) != 1)
		fail("frame writer");
	return w->iov[0].iov_base;
}

/* Reads one whole frame into buf (blocking: this is the measured loop). */
static struct frame read_frame(int fd, uint8_t *buf, size_t cap)
{
	size_t len = 0, need;
	struct frame f;
	for (;;) {
		int r = frame_parse(buf, len, &f, &need);
		if (r < 0 || need > cap)
			fail("bad frame from the shim");
		if (r == 1) {
			if (len != need) /* one request in flight: nothing may follow */
				fail("extra bytes after a frame from the shim");
			return f;
		}
		/* Greedy, as hearthd's buffered reads are: the whole reply
		 * usually comes in one read, like the baseline's. */
		ssize_t n = read(fd, buf + len, cap - len);
		if (n <= 0)
			fail("read from the shim");
		len += (size_t)n;
	}
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(int64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return (double)v[i] / 1000.0;
}

int main(int argc, char **argv)
{
	const char *shim = NULL, *boot = NULL, *payload = "{}";
	long calls = 20000;
	int cpu = -1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: shim_rtt --shim PATH --bootstrap PATH [--calls N>=%d] [--payload JSON] [--cpu N]\n"
			       "  --shim PATH       the hearth-shim binary\n"
			       "  --bootstrap PATH  runtimes/python/bootstrap.py\n"
			       "  --calls N         calls through each path (default 20000, in blocks of %d)\n"
			       "  --payload JSON    the event (default {})\n"
			       "  --cpu N           pin this program, the shim and both pythons to CPU N\n"
			       "Exits 0 when the shim adds at most 20 us at the median.\n",
			       BLOCK, BLOCK);
			return 0;
		}
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--shim") == 0)
			shim = argv[i + 1];
		else if (strcmp(argv[i], "--bootstrap") == 0)
			boot = argv[i + 1];
		else if (strcmp(argv[i], "--calls") == 0)
			calls = strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--payload") == 0)
			payload = argv[i + 1];
		else if (strcmp(argv[i], "--cpu") == 0)
			cpu = (int)strtol(argv[i + 1], NULL, 10);
	}
	if (!shim || !boot || calls < BLOCK) {
		fprintf(stderr,
			"usage: shim_rtt --shim PATH --bootstrap PATH [--calls N>=%d] [--payload JSON] [--cpu N]\n",
			BLOCK);
		return 2;
	}
	calls = (calls + BLOCK - 1) / BLOCK * BLOCK;
	if (cpu >= 0) { /* inherited by the shim, its runtime and the baseline */
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			fail("sched_setaffinity");
	}
	signal(SIGPIPE, SIG_IGN);

	char dir[] = "/tmp/hearth-shim-rtt.XXXXXX";
	if (!mkdtemp(dir))
		fail("mkdtemp");
	char path[100], sock[100];
	snprintf(path, sizeof(path), "%s/noop.py", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		fail("noop.py");
	fputs("def handler(event, context):\n    return None\n", f);
	fclose(f);
	snprintf(sock, sizeof(sock), "%s/shim.sock", dir);

	/* The shim, with a prestarted python, and its connection. */
	pid_t sp = fork();
	if (sp == 0) {
		execl(shim, "hearth-shim", "--socket", sock, "--prestart", "python",
		      "--python-bootstrap", boot, (char *)NULL);
		_exit(127);
	}
	int sfd = -1;
	for (int i = 0; i < 500 && sfd < 0; i++) {
		sfd = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		if (connect(sfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			close(sfd);
			sfd = -1;
			usleep(10000);
		}
	}
	if (sfd < 0)
		fail("connect to the shim");
	static uint8_t rbuf[1 << 20];
	static uint8_t scratch[4096];
	struct frame_writer w;
	struct iovec iov;
	const uint8_t *fp;
	size_t fl;
	frame_writer_init(&w, FRAME_INIT, scratch, sizeof(scratch), &iov, 1);
	frame_write_str(&w, FT_CODE_DIR, dir);
	frame_write_str(&w, FT_HANDLER, "noop.handler");
	frame_write_str(&w, FT_LANGUAGE, "python");
	frame_write_str(&w, FT_FUNCTION_NAME, "noop");
	frame_write_u64(&w, FT_MEMORY_MB, 128);
	frame_write_u64(&w, FT_TIMEOUT_MS, 3000);
	fp = frame_flat(&w, &fl);
	write_all(sfd, fp, fl);
	if (read_frame(sfd, rbuf, sizeof(rbuf)).type != FRAME_READY)
		fail("init (is the bootstrap path right?)");

	/* The invoke frame is the same every call, as hearthd's would be. */
	size_t plen = strlen(payload), invlen;
	uint8_t *invbuf = malloc(256 + plen);
	if (!invbuf)
		fail("malloc");
	frame_writer_init(&w, FRAME_INVOKE, invbuf, 256 + plen, &iov, 1);
	frame_write_str(&w, FT_REQUEST_ID, "bench-00000000-0000-0000-0000-000000000000");
	frame_write_u64(&w, FT_DEADLINE_MS, 3000);
	frame_write_str(&w, FT_PAYLOAD, payload);
	const uint8_t *inv = frame_flat(&w, &invlen);

	/* The baseline: python3 over two pipes. */
	int to[2], from[2];
	if (pipe(to) < 0 || pipe(from) < 0)
		fail("pipe");
	pid_t bp = fork();
	if (bp == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		execlp("python3", "python3", "-u", "-c", baseline_py, (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	uint8_t *bmsg = malloc(4 + plen);
	bmsg[0] = (uint8_t)(plen >> 24);
	bmsg[1] = (uint8_t)(plen >> 16);
	bmsg[2] = (uint8_t)(plen >> 8);
	bmsg[3] = (uint8_t)plen;
	memcpy(bmsg + 4, payload, plen);

	int64_t *ts = calloc((size_t)calls, sizeof(*ts)), *tb = calloc((size_t)calls, sizeof(*tb));
	long ns = 0, nb = 0;
	for (int warm = 1; warm >= 0; warm--) {
		long blocks = warm ? 2 : calls / BLOCK;
		for (long k = 0; k < blocks; k++) {
			for (int i = 0; i < BLOCK; i++) {
				int64_t t0 = now_ns();
				write_all(sfd, inv, invlen);
				struct frame rf = read_frame(sfd, rbuf, sizeof(rbuf));
				int64_t dt = now_ns() - t0;
				if (rf.type != FRAME_REPLY)
					fail("unexpected frame from the shim");
				if (!warm)
					ts[ns++] = dt;
			}
			for (int i = 0; i < BLOCK; i++) {
				int64_t t0 = now_ns();
				write_all(to[1], bmsg, 4 + plen);
				ssize_t n = read(from[0], rbuf, sizeof(rbuf));
				int64_t dt = now_ns() - t0;
				if (n < 4)
					fail("read from the baseline");
				if (!warm)
					tb[nb++] = dt;
			}
		}
	}
	/* Sanity: the shim's reply is a success with result null. */
	write_all(sfd, inv, invlen);
	struct frame rf = read_frame(sfd, rbuf, sizeof(rbuf));
	struct frame_iter it;
	struct frame_field fld;
	uint64_t status = 99;
	frame_iter_init(&it, &rf);
	while (frame_iter_next(&it, &fld) == 1)
		if (fld.tag == FT_STATUS)
			frame_field_u64(&fld, &status);
	if (status != INVOCATION_SUCCESS)
		fail("the no-op handler did not succeed");

	qsort(ts, (size_t)ns, sizeof(*ts), cmp64);
	qsort(tb, (size_t)nb, sizeof(*tb), cmp64);
	struct utsname u;
	uname(&u);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char where[32] = "unpinned";
	if (cpu >= 0)
		snprintf(where, sizeof(where), "all on cpu %d", cpu);
	printf("shim round trip, no-op python handler, payload %zu bytes, %ld calls each, %s (%s %s, %ld cpus)\n",
	       plen, ns, where, u.sysname, u.release, ncpu);
	printf("%-34s %9s %9s %9s\n", "", "p50 us", "p90 us", "p99 us");
	printf("%-34s %9.1f %9.1f %9.1f\n", "via hearth-shim + bootstrap", pct(ts, (size_t)ns, .5),
	       pct(ts, (size_t)ns, .9), pct(ts, (size_t)ns, .99));
	printf("%-34s %9.1f %9.1f %9.1f\n", "bare pipe to python3 (json loop)",
	       pct(tb, (size_t)nb, .5), pct(tb, (size_t)nb, .9), pct(tb, (size_t)nb, .99));
	double d = pct(ts, (size_t)ns, .5) - pct(tb, (size_t)nb, .5);
	printf("shim adds %.1f us at the median (target <= 20 us): %s\n", d,
	       d <= 20.0 ? "PASS" : "FAIL");

	close(to[1]);
	frame_writer_init(&w, FRAME_SHUTDOWN, scratch, sizeof(scratch), &iov, 1);
	fp = frame_flat(&w, &fl);
	write_all(sfd, fp, fl);
	close(sfd);
	waitpid(bp, NULL, 0);
	waitpid(sp, NULL, 0);
	unlink(path);
	rmdir(dir);
	free(ts);
	free(tb);
	free(bmsg);
	free(invbuf);
	return d <= 20.0 ? 0 : 1;
}
