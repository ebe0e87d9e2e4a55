# bench/ — benchmarks (make bench).
EXTRA_DIST += bench/README.md
