# tests/browser/ — the dashboard driven in Debian's chromium (playwright-core)
# against a real hearthd, dockerd and the hearth/* images, like the
# check-docker suites.  `make check-browser` installs playwright-core (npm ci
# into the build folder's tests/browser/, from this folder's lockfile) and
# runs run.mjs through the TAP driver; screenshots of every screen (1280 and
# 400 px wide, light and dark) land in the build folder's
# tests/browser/artifacts/.  Needs chromium and npm (Debian packages
# chromium, npm; test.sh installs them).
BROWSER_TESTS = tests/browser/run.sh
dist_noinst_SCRIPTS += tests/browser/run.sh
EXTRA_DIST += tests/browser/run.mjs tests/browser/package.json tests/browser/package-lock.json \
	tests/browser/.gitignore
if HEARTH_NEVER
TESTS += $(BROWSER_TESTS)
endif

# absolute: a relative target would be found through VPATH in the source
# folder, where a developer's own npm ci may have put one
BROWSER_STAMP = $(abs_top_builddir)/tests/browser/node_modules/.package-lock.json
$(BROWSER_STAMP): $(srcdir)/tests/browser/package.json $(srcdir)/tests/browser/package-lock.json
	@command -v $(NPM) >/dev/null || { echo "make check-browser: npm is not installed (Debian package npm)" >&2; exit 1; }
	@$(MKDIR_P) $(abs_top_builddir)/tests/browser
	test "$(abs_top_srcdir)" = "$(abs_top_builddir)" || cp $(srcdir)/tests/browser/package.json $(srcdir)/tests/browser/package-lock.json $(abs_top_builddir)/tests/browser/
	cd $(abs_top_builddir)/tests/browser && $(NPM) ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: check-browser
check-browser: $(BROWSER_STAMP) src/hearthd
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(BROWSER_TESTS)' TEST_SUITE_LOG=test-suite-browser.log
MOSTLYCLEANFILES += test-suite-browser.log
clean-local: clean-browser
.PHONY: clean-browser
clean-browser:
	rm -rf tests/browser/artifacts
