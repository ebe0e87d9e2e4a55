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
