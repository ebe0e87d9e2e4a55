# src/ — hearthd: HTTP API, store, code store, config, logging.
noinst_LIBRARIES += src/libhearth.a
src_libhearth_a_CFLAGS = $(HEARTH_CFLAGS)
src_libhearth_a_SOURCES = \
	src/error.c src/error.h \
	src/buf.c src/buf.h \
	src/log.c src/log.h \
	src/util.c src/util.h \
	src/config.c src/config.h \
	src/function.c src/function.h \
	src/store.c src/store.h \
	src/codestore.c src/codestore.h \
	src/api.c src/api.h \
	src/http.c src/http.h \
	src/exec.c src/exec.h \
	src/records.c src/records.h \
	src/metrics.c src/metrics.h \
	pool/pool.c pool/pool.h \
	pool/shimconn.c pool/shimconn.h \
	runtimes/shim/frame.c runtimes/shim/frame.h

bin_PROGRAMS += src/hearthd
src_hearthd_CFLAGS = $(HEARTH_CFLAGS)
src_hearthd_LDFLAGS = $(SAN_LDFLAGS)
src_hearthd_SOURCES = src/main.c
src_hearthd_LDADD = src/libhearth.a $(HEARTH_LIBS)
src_libhearth_a_CPPFLAGS = $(AM_CPPFLAGS) -DHEARTH_DEFAULT_WEB_DIR='"$(pkgdatadir)/web"'
# the container backend interface and its Docker Engine API client
src_libhearth_a_SOURCES += pool/backend.h pool/curlev.c pool/curlev.h pool/docker.c pool/docker.h
