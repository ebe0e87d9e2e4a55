# tests/ — unit (C, TAP), integration (real hearthd + dockerd), browser.
EXTRA_DIST += tests/unit/tap.h
UNIT_LIBS = src/libhearth.a $(HEARTH_LIBS)
UNIT_CF = $(HEARTH_CFLAGS)
UNIT_LF = $(SAN_LDFLAGS)

check_PROGRAMS += tests/unit/test_buf
tests_unit_test_buf_SOURCES = tests/unit/test_buf.c
tests_unit_test_buf_CFLAGS = $(UNIT_CF)
tests_unit_test_buf_LDFLAGS = $(UNIT_LF)
tests_unit_test_buf_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_buf

check_PROGRAMS += tests/unit/test_store
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_CFLAGS = $(UNIT_CF)
tests_unit_test_store_LDFLAGS = $(UNIT_LF)
tests_unit_test_store_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_store

check_PROGRAMS += tests/unit/test_codestore
tests_unit_test_codestore_SOURCES = tests/unit/test_codestore.c
tests_unit_test_codestore_CFLAGS = $(UNIT_CF)
tests_unit_test_codestore_LDFLAGS = $(UNIT_LF)
tests_unit_test_codestore_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_codestore

# The Engine API create body (engines/docker_spec.c), without Docker.
check_PROGRAMS += tests/unit/test_docker_spec
tests_unit_test_docker_spec_SOURCES = tests/unit/test_docker_spec.c
tests_unit_test_docker_spec_CFLAGS = $(UNIT_CF)
tests_unit_test_docker_spec_LDFLAGS = $(UNIT_LF)
tests_unit_test_docker_spec_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_docker_spec

# The shim and both bootstraps driven directly (no Docker); with
# SHIM_LAUNCHER set, the same cases against containers (tests/runtimes/).
check_PROGRAMS += tests/runtimes/test_shim
tests_runtimes_test_shim_SOURCES = tests/runtimes/test_shim.c $(COMMON_SOURCES) tests/unit/tap.h
tests_runtimes_test_shim_CPPFLAGS = -D_GNU_SOURCE -I$(top_srcdir)/common -I$(top_srcdir)/runtimes/shim -I$(top_srcdir)/tests/unit \
	-DTEST_TOP_SRCDIR='"$(abs_top_srcdir)"' -DTEST_TOP_BUILDDIR='"$(abs_top_builddir)"'
tests_runtimes_test_shim_CFLAGS = -std=c11 $(WARN_CFLAGS) -O2
TESTS += tests/runtimes/test_shim
EXTRA_DIST += tests/runtimes/fixtures

# The Docker backend against the real dockerd (fails when it is unreachable);
# builds hearth-test/busybox:latest with tests/integration/make-test-image.sh.
check_PROGRAMS += tests/unit/test_docker
tests_unit_test_docker_SOURCES = tests/unit/test_docker.c
tests_unit_test_docker_CPPFLAGS = $(AM_CPPFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_docker_CFLAGS = $(UNIT_CF)
tests_unit_test_docker_LDFLAGS = $(UNIT_LF)
tests_unit_test_docker_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_docker
dist_noinst_SCRIPTS += tests/integration/make-test-image.sh

check_PROGRAMS += tests/unit/test_function
tests_unit_test_function_SOURCES = tests/unit/test_function.c
tests_unit_test_function_CFLAGS = $(UNIT_CF)
tests_unit_test_function_LDFLAGS = $(UNIT_LF)
tests_unit_test_function_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_function

# The test_shim cases again inside hardened containers of hearth/python and
# hearth/node (needs dockerd and `make images`; fails, never skips, without).
TESTS += tests/runtimes/docker.sh
dist_noinst_SCRIPTS += tests/runtimes/docker.sh tests/runtimes/launch-docker.sh

# The API against a real hearthd on a free port with a temporary data dir
# (curl, jq, python3; durability.sh also the sqlite3 CLI).  No Docker needed.
HEARTH_API_TESTS = tests/integration/functions.sh tests/integration/bad-input.sh \
	tests/integration/durability.sh tests/integration/static.sh
TESTS += $(HEARTH_API_TESTS)
dist_noinst_SCRIPTS += $(HEARTH_API_TESTS)
EXTRA_DIST += tests/integration/lib.sh

# Execution against a real hearthd, dockerd and the hearth/* images (fail,
# never skip, without dockerd or `make images`); they only touch containers
# labelled with their own hearthd's hearth.instance.
HEARTH_EXEC_TESTS = tests/integration/exec-basic.sh tests/integration/exec-limits.sh \
	tests/integration/exec-lifecycle.sh tests/integration/exec-engine.sh \
	tests/integration/exec-image.sh tests/integration/exec-disconnect.sh
TESTS += $(HEARTH_EXEC_TESTS)
dist_noinst_SCRIPTS += $(HEARTH_EXEC_TESTS)
EXTRA_DIST += tests/integration/exec-common.sh

# The load generator's histogram (bench/hdr.c).
check_PROGRAMS += tests/unit/test_hdr
tests_unit_test_hdr_SOURCES = tests/unit/test_hdr.c bench/hdr.c bench/hdr.h
tests_unit_test_hdr_CFLAGS = $(UNIT_CF)
tests_unit_test_hdr_LDFLAGS = $(UNIT_LF)
tests_unit_test_hdr_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_hdr
