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
	pool/pool.c pool/pool.h

bin_PROGRAMS += src/hearthd
src_hearthd_CFLAGS = $(HEARTH_CFLAGS)
src_hearthd_LDFLAGS = $(SAN_LDFLAGS)
src_hearthd_SOURCES = src/main.c
src_hearthd_LDADD = src/libhearth.a $(HEARTH_LIBS)
src_libhearth_a_CPPFLAGS = $(AM_CPPFLAGS) -DHEARTH_DEFAULT_WEB_DIR='"$(pkgdatadir)/web"'
