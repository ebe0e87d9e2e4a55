# engines/ — container engines behind pool/backend.h: Docker's Engine API
# over its unix socket, on libcurl's multi-socket API driven by libevent.
src_libhearth_a_SOURCES += \
	engines/curlev.c engines/curlev.h \
	engines/docker.c engines/docker.h \
	engines/docker_spec.c engines/docker_spec.h
