# runtimes/ — the shim, the bootstraps, the images.
EXTRA_DIST += runtimes/README.md

# hearth-shim: static so one binary runs in any image (Debian rootfs, slim
# images, distroless); no sanitizers (they do not link statically) and
# only libc, hence its own flags instead of HEARTH_CFLAGS.
noinst_PROGRAMS += runtimes/shim/hearth-shim
runtimes_shim_hearth_shim_SOURCES = runtimes/shim/shim.c \
	runtimes/shim/runtime.c runtimes/shim/runtime.h runtimes/shim/reply.c runtimes/shim/reply.h \
	$(COMMON_SOURCES)
runtimes_shim_hearth_shim_CPPFLAGS = -D_GNU_SOURCE -I$(top_srcdir)/common
runtimes_shim_hearth_shim_CFLAGS = -std=c11 $(WARN_CFLAGS) -O2
runtimes_shim_hearth_shim_LDFLAGS = -static
runtimes_shim_hearth_shim_LDADD =
EXTRA_DIST += runtimes/PROTOCOL.md runtimes/python/bootstrap.py runtimes/node/bootstrap.js

# Runtime images hearth/python and hearth/node (tagged $(PACKAGE_VERSION) and
# latest), built without a registry: debootstrap'ed Debian bases cached under
# /var/cache/hearth (see runtimes/images/build-images.sh). Where a registry is
# reachable: make images BASE_PYTHON=python:3.12-slim BASE_NODE=node:20-slim
EXTRA_DIST += runtimes/python/Dockerfile runtimes/node/Dockerfile \
	runtimes/images/build-images.sh runtimes/images/prune-packages.awk
IMAGES_BUILD = $(SHELL) $(srcdir)/runtimes/images/build-images.sh \
	--version $(PACKAGE_VERSION) --srcdir $(srcdir)/runtimes \
	--shim runtimes/shim/hearth-shim$(EXEEXT) --context runtimes/images/context \
	--base-python "$(BASE_PYTHON)" --base-node "$(BASE_NODE)"
.PHONY: images images-if-missing clean-images-context
images: runtimes/shim/hearth-shim$(EXEEXT)
	$(IMAGES_BUILD)
# Builds only when hearth/{python,node}:$(PACKAGE_VERSION) are missing or hold
# another shim or bootstrap than this tree (run.sh and test.sh use it).
images-if-missing: runtimes/shim/hearth-shim$(EXEEXT)
	$(IMAGES_BUILD) --if-missing
clean-local: clean-images-context
clean-images-context:
	-rm -rf runtimes/images/context
