# pool/ — warm pools, scheduling, the shim connections, and backend.h, the
# interface every container engine (engines/) implements.
src_libhearth_a_SOURCES += pool/backend.h \
	pool/pool.c pool/pool.h \
	pool/shimconn.c pool/shimconn.h
EXTRA_DIST += pool/README.md
