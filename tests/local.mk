# tests/ — `make check` runs what needs no Docker, anywhere:
#   unit/         C unit tests (TAP, unit/tap.h)
#   runtimes/     the shim and both bootstraps driven directly
#   api/          a real hearthd (its pool pointed at a socket that does
#                 not exist), through its HTTP API
#   bench/        the benchmarks' own tools (the load generator) on real
#                 servers of this build
# `make check-docker` runs what needs a real dockerd and the hearth/* images:
#   integration/  the Docker backend, the shim in containers, execution
# `make check-faults` runs the load and fault suites (dockerd, the images,
# root; minutes, not seconds: test.sh runs them once):
#   faults/       64 clients for a minute, kill -9 under load, dockerd
#                 stopped and started, a full disk, SIGSTOP mid-call
# lib.sh is the shell library of api/, bench/, integration/ and faults/.
EXTRA_DIST += tests/unit/tap.h tests/unit/testfs.h tests/lib.sh

# Unit tests: the program tests/unit/NAME is built from tests/unit/NAME.c
# with hearthd's flags and library (AM_CFLAGS and LDADD, Makefile.am).  A
# new test is a word in this list, plus a _SOURCES line if it compiles more
# than its own file.
UNIT_TESTS = tests/unit/test_buf tests/unit/test_store tests/unit/test_codestore \
	tests/unit/test_function tests/unit/test_docker_spec tests/unit/test_hdr \
	tests/unit/test_registry tests/unit/test_frame tests/unit/test_strmap tests/unit/test_b64 \
	tests/unit/test_jsontext tests/unit/test_asyncstore tests/unit/test_auth \
	tests/unit/test_sigv4 tests/unit/test_lambdajson tests/unit/test_reqcheck \
	tests/unit/test_records tests/unit/test_loop tests/unit/test_envelope tests/unit/test_heap \
	tests/unit/test_routes tests/unit/test_util tests/unit/test_idlegroup
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
# The load generator's histogram (bench/hdr.c).
tests_unit_test_hdr_SOURCES = tests/unit/test_hdr.c bench/hdr.c bench/hdr.h

# The shim and both bootstraps driven directly; with SHIM_LAUNCHER set, the
# same cases against containers (tests/integration/shim-docker.sh).
check_PROGRAMS += tests/runtimes/test_shim
tests_runtimes_test_shim_SOURCES = tests/runtimes/test_shim.c $(COMMON_SOURCES) tests/unit/tap.h
tests_runtimes_test_shim_CPPFLAGS = -D_GNU_SOURCE -I$(top_srcdir)/common -I$(top_srcdir)/runtimes/shim -I$(top_srcdir)/tests/unit \
	-DTEST_TOP_SRCDIR='"$(abs_top_srcdir)"' -DTEST_TOP_BUILDDIR='"$(abs_top_builddir)"'
tests_runtimes_test_shim_CFLAGS = -std=c11 $(WARN_CFLAGS) -O2
# libc only, like the shim it drives: not the default LDADD (Makefile.am).
tests_runtimes_test_shim_LDADD =
TESTS += tests/runtimes/test_shim
EXTRA_DIST += tests/runtimes/fixtures

# The API against a real hearthd on a free port with a temporary data dir
# (curl, jq, python3; durability.sh also the sqlite3 CLI).
HEARTH_API_TESTS = tests/api/functions.sh tests/api/bad-input.sh tests/api/test-events.sh \
	tests/api/durability.sh tests/api/static.sh tests/api/engine-down.sh tests/api/auth.sh \
	tests/api/async.sh tests/api/lambda.sh tests/api/connections.sh tests/api/tls.sh \
	tests/api/power-cut.sh tests/api/idlegroup.sh
TESTS += $(HEARTH_API_TESTS)
dist_noinst_SCRIPTS += $(HEARTH_API_TESTS)
# The benchmarks' own tools on real servers of this build (no Docker).
HEARTH_BENCH_TESTS = tests/bench/loadgen.sh
TESTS += $(HEARTH_BENCH_TESTS)
dist_noinst_SCRIPTS += $(HEARTH_BENCH_TESTS)
# The raw clients of the connection-layer suites (api/ and integration/).
EXTRA_DIST += tests/connclient.py
# power-cut.sh preloads this into hearthd: a disk image that keeps only
# what was fsynced.  A plain shared object (no sanitizer, whatever the
# build: it goes into an ASan hearthd as well as a plain one), built by
# make check; power-cut.sh also runs tests/faults/client.py.
check_DATA = tests/api/powercut.so
tests/api/powercut.so: $(srcdir)/tests/api/powercut.c
	@$(MKDIR_P) tests/api
	$(AM_V_CC)$(CC) -std=c11 -D_GNU_SOURCE $(WARN_CFLAGS) -O2 -shared -fPIC \
		-o $@ $(srcdir)/tests/api/powercut.c -ldl -lpthread
CLEANFILES += tests/api/powercut.so
EXTRA_DIST += tests/api/powercut.c tests/faults/client.py

# ---- make check-docker ----------------------------------------------------
# Each of these fails, never skips, without dockerd (or `make images`), and
# touches only containers it labelled itself.

# The Docker backend against the real dockerd; builds
# hearth-test/busybox:latest with make-test-image.sh.
check_PROGRAMS += tests/integration/test_docker
tests_integration_test_docker_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit \
	-DTOP_SRCDIR='"$(abs_top_srcdir)"'
dist_noinst_SCRIPTS += tests/integration/make-test-image.sh

# The test_shim cases again inside hardened containers of hearth/python and
# hearth/node, through launch-docker.sh.
dist_noinst_SCRIPTS += tests/integration/shim-docker.sh tests/integration/launch-docker.sh

# Execution against a real hearthd, dockerd and the hearth/* images; they
# only touch containers labelled with their own hearthd's hearth.instance.
HEARTH_EXEC_TESTS = tests/integration/exec-basic.sh tests/integration/exec-limits.sh \
	tests/integration/exec-lifecycle.sh tests/integration/exec-lane.sh tests/integration/exec-engine.sh \
	tests/integration/exec-image.sh tests/integration/exec-disconnect.sh \
	tests/integration/events.sh tests/integration/bench-api.sh tests/integration/fnurl.sh \
	tests/integration/async-basic.sh tests/integration/async-limits.sh \
	tests/integration/async-fairness.sh tests/integration/async-durability.sh \
	tests/integration/lambda-sdk.sh tests/integration/lambda-readme.sh \
	tests/integration/connections.sh
dist_noinst_SCRIPTS += $(HEARTH_EXEC_TESTS)
# The Lambda API through the AWS SDKs: lambda-sdk.sh runs tests/lambda/sdk.mjs
# with @aws-sdk/client-lambda from npm (package-lock.json pins it; `npm ci`
# in tests/lambda installs it, ./test.sh does); lambda-readme.sh runs the
# README's examples with it, Debian's python3-boto3 and Debian's awscli.
EXTRA_DIST += tests/lambda/package.json tests/lambda/package-lock.json tests/lambda/sdk.mjs
EXTRA_DIST += tests/integration/exec-common.sh

DOCKER_TESTS = tests/integration/test_docker tests/integration/shim-docker.sh \
	$(HEARTH_EXEC_TESTS)
# Automake writes the rule that runs a test only for what TESTS may hold;
# this condition never holds, so it writes those rules for DOCKER_TESTS
# while make check leaves them out.
if HEARTH_NEVER
TESTS += $(DOCKER_TESTS)
endif

# The same TAP driver and summary as make check, with its own summary log;
# a subset runs with DOCKER_TESTS='...'.
.PHONY: check-docker
check-docker:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(DOCKER_TESTS)' TEST_SUITE_LOG=test-suite-docker.log
MOSTLYCLEANFILES = test-suite-docker.log

# ---- make check-faults ----------------------------------------------------
# Load and faults against a real hearthd and dockerd (and the images), as
# root: each fails, never skips, without them, and touches only what it
# made (its containers by label; disk-full.sh its tmpfs; dockerd-restart.sh
# a dockerd of its own, never the machine's).  load.sh runs for
# HEARTH_LOAD_SECONDS (60 by default).  A subset runs with
# FAULT_TESTS='...'.
FAULT_TESTS = tests/faults/load.sh tests/faults/crash.sh tests/faults/dockerd-restart.sh \
	tests/faults/disk-full.sh tests/faults/sigstop.sh
dist_noinst_SCRIPTS += $(FAULT_TESTS)
EXTRA_DIST += tests/faults/faults-common.sh
if HEARTH_NEVER
TESTS += $(FAULT_TESTS)
endif
.PHONY: check-faults
# (FAULT_TESTS on one line: it goes inside a shell command, as DOCKER_TESTS)
check-faults:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(FAULT_TESTS)' TEST_SUITE_LOG=test-suite-faults.log
MOSTLYCLEANFILES += test-suite-faults.log
