# tests/ — unit (C, TAP), integration (real hearthd + dockerd), browser.
EXTRA_DIST += tests/unit/tap.h

# Unit tests: the program tests/unit/NAME is built from tests/unit/NAME.c
# with hearthd's flags and library (AM_CFLAGS and LDADD, Makefile.am).  A
# new test is a word in this list, plus a _SOURCES line if it compiles more
# than its own file.
UNIT_TESTS = tests/unit/test_buf tests/unit/test_store tests/unit/test_codestore \
	tests/unit/test_function tests/unit/test_docker_spec tests/unit/test_hdr
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
# The load generator's histogram (bench/hdr.c).
tests_unit_test_hdr_SOURCES = tests/unit/test_hdr.c bench/hdr.c bench/hdr.h

# The shim and both bootstraps driven directly (no Docker); with
# SHIM_LAUNCHER set, the same cases against containers (tests/runtimes/).
check_PROGRAMS += tests/runtimes/test_shim
tests_runtimes_test_shim_SOURCES = tests/runtimes/test_shim.c $(COMMON_SOURCES) tests/unit/tap.h
tests_runtimes_test_shim_CPPFLAGS = -D_GNU_SOURCE -I$(top_srcdir)/common -I$(top_srcdir)/runtimes/shim -I$(top_srcdir)/tests/unit \
	-DTEST_TOP_SRCDIR='"$(abs_top_srcdir)"' -DTEST_TOP_BUILDDIR='"$(abs_top_builddir)"'
tests_runtimes_test_shim_CFLAGS = -std=c11 $(WARN_CFLAGS) -O2
# libc only, like the shim it drives: not the default LDADD (Makefile.am).
tests_runtimes_test_shim_LDADD =
TESTS += tests/runtimes/test_shim
EXTRA_DIST += tests/runtimes/fixtures

# The Docker backend against the real dockerd (fails when it is unreachable);
# builds hearth-test/busybox:latest with tests/integration/make-test-image.sh.
check_PROGRAMS += tests/unit/test_docker
tests_unit_test_docker_SOURCES = tests/unit/test_docker.c
tests_unit_test_docker_CPPFLAGS = $(AM_CPPFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
TESTS += tests/unit/test_docker
dist_noinst_SCRIPTS += tests/integration/make-test-image.sh

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
