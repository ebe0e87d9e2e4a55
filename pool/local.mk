# pool/ — warm pools, scheduling, the container backend (sources are listed
# in src/local.mk's libhearth.a so one library holds the daemon).
EXTRA_DIST += pool/README.md
