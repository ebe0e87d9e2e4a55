/* records_rows.c — what the invocation records writer spends per record
 * (issue 12: hearthd's CPU per warm call), on the real store
 * (src/registry/store.c) and a real SQLite file, the way the writer
 * thread (src/invoke/records.c) writes: batches of --batch rows (one
 * flush's worth: 2,000 is 100 ms at 20,000 calls/s), cut into
 * transactions, old rows pruned every 10 batches once --retention rows are
 * stored.  Rows look like a no-op call's record (Lambda's START, END and
 * REPORT lines as logs, a small result and event).
 *
 * Three setups, in alternating rounds on fresh files, CPU time
 * (getrusage: user + system) per row once the table is at its bound:
 *   before   the index schema 5 dropped put back, 16 rows a transaction
 *            (hearthd until schema 5, but pruned as schema 5 prunes);
 *   index    schema 5, still 16 rows a transaction;
 *   pieces   schema 5, records_piece_rows() rows a transaction, the rows
 *            past the bound deleted in the same commits
 *            (store_set_retention): hearthd until schema 6;
 *   now      as pieces, and schema 6's rows: no Lambda lines in the logs
 *            (a no-op prints nothing), the memory size, timeout and end
 *            they are made from on read instead: as hearthd writes now.
 * "before" and "index" prune every 10 batches in one transaction, as the
 * writer did.  Besides CPU per row, the longest single store call once at
 * the bound: how long the writer holds a CPU and SQLite's write lock at a
 * stretch (the loop thread's own writes wait for that lock).
 * The ratios are against "before", measured in the same run.
 *
 * usage: records_rows [--dir DIR] [--rounds N] [--batch N] [--retention N] */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "records.h"
#include "store.h"

enum setup { SETUP_BEFORE, SETUP_INDEX, SETUP_PIECES, SETUP_NOW, SETUP__N };
static const char *const setup_name[SETUP__N] = { "before", "index", "pieces", "now" };

static double cpu_s(void)
{
	struct rusage u;

	getrusage(RUSAGE_SELF, &u);
	return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
	       (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

static void remove_db(const char *path)
{
	char p[4200];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

/* The index by time over all functions that schema 5 dropped. */
static int put_back_index(const char *path)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open(path, &db);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(
			db, "CREATE INDEX invocations_created ON invocations (created_at, id)",
			NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The longest store call since t (begun at start), once measuring. */
static void longest(int64_t start, double measuring, double *ms)
{
	double d = (double)(mono_ns() - start) / 1e6;

	if (measuring > 0 && d > *ms)
		*ms = d;
}

/* One round of a setup: µs of CPU per row over the rows written after
 * the table reached its bound (and the longest single store call then,
 * in *longest_ms), or < 0. */
static double round_of(enum setup setup, const char *path, size_t batch, int64_t retention,
		       double *longest_ms)
{
	struct hearth_error *err = NULL;
	struct store *s = NULL;
	struct store_invocation *rows = calloc(batch, sizeof(*rows));
	char(*ids)[48] = calloc(batch, sizeof(*ids));
	char(*logs)[400] = calloc(batch, sizeof(*logs));
	size_t total = (size_t)retention * 3 / 2, written = 0, measured = 0;
	unsigned batches = 0;
	double t0 = 0, us = -1;

	remove_db(path);
	if (!rows || !ids || !logs || store_open(&s, path, &err) < 0 ||
	    (setup == SETUP_BEFORE && put_back_index(path) < 0))
		goto out;
	store_set_yield_every(s, RECORDS_YIELD_EVERY);
	/* hearthd's writer prunes with each insert; the others every 10
	 * batches, as it did before. */
	if (setup >= SETUP_PIECES)
		store_set_retention(s, retention);
	while (written < total) {
		size_t piece = setup >= SETUP_PIECES ? records_piece_rows(batch)
						     : RECORDS_PIECE_MIN;

		if (written >= (size_t)retention && t0 == 0) {
			t0 = cpu_s();
			measured = written;
		}
		for (size_t i = 0; i < batch; i++) {
			size_t n = written + i;

			snprintf(ids[i], sizeof(ids[i]), "6f1c2a3b-9d4e-4a1b-a000-%012zx", n);
			snprintf(logs[i], sizeof(logs[i]),
				 "START RequestId: %s Version: $LATEST\nEND RequestId: %s\n"
				 "REPORT RequestId: %s\tDuration: 0.21 ms\tBilled Duration: 1 ms\t"
				 "Memory Size: 128 MB\tMax Memory Used: 9 MB\t\n",
				 ids[i], ids[i], ids[i]);
			rows[i] = (struct store_invocation){
				.id = ids[i],
				.function_id = 1 + (int64_t)(n % 3),
				.revision = 1,
				.status = (char *)"success",
				.start_kind = (char *)"warm",
				.created_at = 1764560000000 + (int64_t)(n / 20),
				.duration_ms = 0.21,
				.queue_ms = 0.01,
				.max_memory_mb = 9,
				.logs = setup == SETUP_NOW ? NULL : logs[i],
				.memory_mb = setup == SETUP_NOW ? 128 : 0,
				.timeout_s = setup == SETUP_NOW ? 3 : 0,
				.ended_at = setup == SETUP_NOW ? 1764560000001 + (int64_t)(n / 20)
							       : 0,
				.result = (char *)"{\"ok\":true}",
				.payload = (char *)"{\"n\":1}",
			};
		}
		/* As the writer: the CPU let go between pieces and, inside one,
		 * every RECORDS_YIELD_EVERY rows. */
		for (size_t at = 0; at < batch; at += piece) {
			int64_t t = mono_ns();

			if (store_invocations_insert(s, rows + at,
						     batch - at < piece ? batch - at : piece,
						     &err) < 0)
				goto out;
			longest(t, t0, longest_ms);
			sched_yield();
		}
		written += batch;
		if (setup < SETUP_PIECES && ++batches % 10 == 1) {
			int64_t t = mono_ns();

			if (store_invocations_prune(s, retention, &err) < 0)
				goto out;
			longest(t, t0, longest_ms);
		}
	}
	us = (cpu_s() - t0) * 1e6 / (double)(written - measured);
out:
	if (err)
		fprintf(stderr, "records_rows: %s\n", err->msg);
	hearth_error_free(err);
	store_close(s);
	remove_db(path);
	free(rows);
	free(ids);
	free(logs);
	return us;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *dir = "/tmp";
	int rounds = 3;
	size_t batch = 2000;
	int64_t retention = 100000;
	double got[SETUP__N][16], med[SETUP__N], lng[SETUP__N][16], lmed[SETUP__N];
	char path[4096];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
			batch = (size_t)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--retention") && i + 1 < argc)
			retention = strtoll(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: records_rows [--dir DIR] [--rounds N (1-16)] "
					"[--batch N] [--retention N]\n");
			return 2;
		}
	}
	if (rounds < 1 || rounds > 16 || batch < 1 || batch > 100000 || retention < 1) {
		fprintf(stderr,
			"records_rows: --rounds 1-16, --batch 1-100000, --retention >= 1\n");
		return 2;
	}
	log_set_level(LOG_LVL_WARN); /* not a line per fresh database */
	snprintf(path, sizeof(path), "%s/records-rows-%d.db", dir, (int)getpid());
	printf("records_rows: batches of %zu rows, %" PRId64 " rows kept, %d rounds; "
	       "\"pieces\" and \"now\" write %zu rows a transaction, the others %d\n",
	       batch, retention, rounds, records_piece_rows(batch), RECORDS_PIECE_MIN);
	for (int r = 0; r < rounds; r++) {
		printf("round %d:", r + 1);
		for (int k = 0; k < SETUP__N; k++) {
			lng[k][r] = 0;
			got[k][r] = round_of((enum setup)k, path, batch, retention, &lng[k][r]);
			if (got[k][r] < 0)
				return 1;
			printf("  %s %.2f µs/row (longest call %.1f ms)", setup_name[k], got[k][r],
			       lng[k][r]);
			fflush(stdout);
		}
		printf("\n");
	}
	for (int k = 0; k < SETUP__N; k++) {
		qsort(got[k], (size_t)rounds, sizeof(double), cmp_double);
		med[k] = got[k][rounds / 2];
		qsort(lng[k], (size_t)rounds, sizeof(double), cmp_double);
		lmed[k] = lng[k][rounds / 2];
	}
	printf("median µs of CPU per record: before %.2f, index %.2f (%.2f×), pieces %.2f "
	       "(%.2f×), now %.2f (%.2f×; %.2f× pieces)\n",
	       med[SETUP_BEFORE], med[SETUP_INDEX], med[SETUP_INDEX] / med[SETUP_BEFORE],
	       med[SETUP_PIECES], med[SETUP_PIECES] / med[SETUP_BEFORE], med[SETUP_NOW],
	       med[SETUP_NOW] / med[SETUP_BEFORE], med[SETUP_NOW] / med[SETUP_PIECES]);
	printf("median of the longest store call (the CPU and SQLite's write lock held at a "
	       "stretch): before %.1f ms, index %.1f ms, pieces %.1f ms, now %.1f ms\n",
	       lmed[SETUP_BEFORE], lmed[SETUP_INDEX], lmed[SETUP_PIECES], lmed[SETUP_NOW]);
	return 0;
}
