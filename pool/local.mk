# pool/ — warm pools, scheduling, the shim connections, and backend.h, the
# interface every container engine (engines/) implements.
src_libhearth_a_SOURCES += pool/backend.h \
	pool/pool.c pool/pool.h pool/pool_private.h \
	pool/call.c pool/schedule.c pool/container.c pool/engine.c pool/status.c pool/bench.c \
	pool/shimconn.c pool/shimconn.h pool/lane.c pool/lane.h
EXTRA_DIST += pool/README.md
