# bench/ — benchmarks (make bench).
EXTRA_DIST += bench/README.md

# bench-shim: the shim's warm round trip vs a bare pipe to the same python3.
noinst_PROGRAMS += bench/shim_rtt
bench_shim_rtt_SOURCES = bench/shim_rtt.c $(COMMON_SOURCES)
bench_shim_rtt_CPPFLAGS = -D_GNU_SOURCE -I$(top_srcdir)/common -I$(top_srcdir)/runtimes/shim
bench_shim_rtt_CFLAGS = -std=c11 $(WARN_CFLAGS) -O2
# libc only: not the default LDADD (Makefile.am).
bench_shim_rtt_LDADD =
.PHONY: bench-shim
# Run twice: as the scheduler places things, and all on one CPU.
bench-shim: bench/shim_rtt$(EXEEXT) runtimes/shim/hearth-shim$(EXEEXT)
	-bench/shim_rtt$(EXEEXT) --shim runtimes/shim/hearth-shim$(EXEEXT) \
		--bootstrap $(abs_top_srcdir)/runtimes/python/bootstrap.py $(BENCH_SHIM_ARGS)
	-bench/shim_rtt$(EXEEXT) --shim runtimes/shim/hearth-shim$(EXEEXT) \
		--bootstrap $(abs_top_srcdir)/runtimes/python/bootstrap.py --cpu 1 $(BENCH_SHIM_ARGS)

# hearth-loadgen: the closed-loop HTTP load generator with an HDR-style
# histogram (bench/hdr.c); echo-server: a trivial evhttp target to check
# it against wrk.
noinst_PROGRAMS += bench/loadgen bench/echo-server
bench_loadgen_SOURCES = bench/loadgen.c bench/hdr.c bench/hdr.h
bench_loadgen_CFLAGS = -std=c11 $(WARN_CFLAGS) -O2 $(LIBEVENT_CFLAGS)
bench_loadgen_LDADD = $(LIBEVENT_LIBS) -lm
bench_echo_server_SOURCES = bench/echo-server.c
bench_echo_server_CFLAGS = -std=c11 $(WARN_CFLAGS) -O2 $(LIBEVENT_CFLAGS)
bench_echo_server_LDADD = $(LIBEVENT_LIBS)

# floor-server: the floor a warm call is measured against (issue 12): an
# evhttp server that hands each body over a pipe to 4 long-lived python3
# or node workers (bench/floor-worker.py, .js) running the same handler.
noinst_PROGRAMS += bench/floor-server
bench_floor_server_SOURCES = bench/floor-server.c
bench_floor_server_CPPFLAGS = -D_GNU_SOURCE
bench_floor_server_CFLAGS = -std=c11 $(WARN_CFLAGS) -O2 $(LIBEVENT_CFLAGS)
bench_floor_server_LDADD = $(LIBEVENT_LIBS)
dist_noinst_DATA += bench/floor-worker.py bench/floor-worker.js


# make bench: everything in one go against a hearthd of this build tree
# (bench/run-bench.sh; BENCH_ARGS passes options, e.g. BENCH_ARGS=--quick,
# or BENCH_ARGS=--warm-path for only the warm path vs the floor).
# The report goes to $(BENCH_OUT), by default bench/ in the source tree.
BENCH_OUT = $(abs_top_srcdir)/bench
dist_noinst_SCRIPTS += bench/run-bench.sh bench/chart.py bench/floor.py bench/sched-tail.py \
	bench/instr-per-call.sh
.PHONY: bench
bench: bench/loadgen$(EXEEXT) bench/echo-server$(EXEEXT) bench/floor-server$(EXEEXT) \
		src/hearthd$(EXEEXT)
	$(SHELL) $(abs_top_srcdir)/bench/run-bench.sh --builddir $(abs_top_builddir) \
		--srcdir $(abs_top_srcdir) --out $(BENCH_OUT) $(BENCH_ARGS)

# records_rows: the invocation records writer's CPU per record: schema 6's
# row per record (rebuilt in the bench with sqlite3 calls) against the batch
# rows of src/invoke/records.c (issue 12).  The default LDADD: libhearth.
noinst_PROGRAMS += bench/records_rows
bench_records_rows_SOURCES = bench/records_rows.c
.PHONY: bench-records
bench-records: bench/records_rows$(EXEEXT)
	bench/records_rows$(EXEEXT) $(BENCH_RECORDS_ARGS)

# json_scan: hearthd's JSON check (src/base/jsontext.c) in ns per byte on
# three shapes of a 1 MB text, against json-c building the same tree.
noinst_PROGRAMS += bench/json_scan
bench_json_scan_SOURCES = bench/json_scan.c
.PHONY: bench-json
bench-json: bench/json_scan$(EXEEXT)
	bench/json_scan$(EXEEXT) $(BENCH_JSON_ARGS)
