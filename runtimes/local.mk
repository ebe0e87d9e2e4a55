# runtimes/ — the shim, the bootstraps, the images.
EXTRA_DIST += runtimes/README.md
