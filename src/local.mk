# src/ — hearthd: its HTTP API, the registry, invocations, config.
# One library holds the whole daemon (every folder's sources), so the unit
# tests link exactly what hearthd runs.
noinst_LIBRARIES += src/libhearth.a
src_libhearth_a_CFLAGS = $(HEARTH_CFLAGS)
src_libhearth_a_CPPFLAGS = $(AM_CPPFLAGS) -DHEARTH_DEFAULT_WEB_DIR='"$(pkgdatadir)/web"'
src_libhearth_a_SOURCES = \
	src/base/error.c src/base/error.h \
	src/base/buf.c src/base/buf.h \
	src/base/log.c src/base/log.h \
	src/base/loop.c src/base/loop.h \
	src/base/util.c src/base/util.h \
	src/base/jsontext.c src/base/jsontext.h \
	src/base/promtext.c src/base/promtext.h \
	src/base/strmap.c src/base/strmap.h \
	src/base/b64.c src/base/b64.h \
	src/base/heap.c src/base/heap.h src/base/idlegroup.c src/base/idlegroup.h \
	src/config.c src/config.h \
	src/registry/function.c src/registry/function.h \
	src/registry/store.c src/registry/store.h \
	src/registry/codestore.c src/registry/codestore.h \
	src/registry/registry.c src/registry/registry.h \
	src/invoke/invoke.c src/invoke/invoke.h \
	src/invoke/envelope.c src/invoke/envelope.h \
	src/invoke/records.c src/invoke/records.h \
	src/invoke/metrics.c src/invoke/metrics.h \
	src/invoke/asyncq.c src/invoke/asyncq.h \
	src/api/api.c src/api/api.h src/api/routes.h src/api/auth.c src/api/auth.h \
	src/api/http.c src/api/http.h \
	src/api/functions.c src/api/execute.c src/api/bench.c src/api/invocations.c \
	src/api/monitor.c src/api/webfiles.c src/api/events.c src/api/events.h src/api/fnurl.c \
	src/api/conns.c src/api/conns.h src/api/reqcheck.c src/api/reqcheck.h \
	src/api/tls.c src/api/tls.h \
	src/api/async.c \
	src/api/sigv4.c src/api/sigv4.h src/api/lambda.c src/api/lambdajson.c src/api/lambdajson.h \
	$(COMMON_SOURCES)

bin_PROGRAMS += src/hearthd
src_hearthd_CFLAGS = $(HEARTH_CFLAGS)
src_hearthd_LDFLAGS = $(SAN_LDFLAGS)
src_hearthd_SOURCES = src/main.c
src_hearthd_LDADD = src/libhearth.a $(HEARTH_LIBS)
