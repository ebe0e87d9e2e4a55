#!/bin/sh
# The browser suite through automake's TAP driver (make check-browser):
# run.mjs prints TAP itself.  playwright-core comes from the build folder's
# tests/browser/node_modules (make check-browser puts it there with npm ci)
# or from this folder's (cd tests/browser && npm ci).
command -v node >/dev/null || { echo "Bail out! node is not installed (Debian package nodejs)"; exit 1; }
exec node "${top_srcdir:-$(dirname "$0")/../..}/tests/browser/run.mjs"
