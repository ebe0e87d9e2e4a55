# web/ — the dashboard, served by hearthd at "/".
#
# The built files in web/dist/ are committed, so a build of hearthd needs no
# Node.js; `make web` rebuilds them from web/src/ (npm ci, then esbuild
# through web/build.mjs, which prints the gzipped size of all JS and CSS and
# fails over its 250 KB budget).  The build is deterministic: rebuilding an
# unchanged tree leaves web/dist/ byte for byte as it was.
webdir = $(pkgdatadir)/web
WEB_DIST = web/dist/index.html web/dist/app.js web/dist/app.css
dist_web_DATA = $(WEB_DIST) $(WEB_DIST:=.gz)
# The placeholder page, until tests/api/static.sh no longer reads it.
EXTRA_DIST += web/README.md web/package.json web/package-lock.json web/build.mjs \
	web/.gitignore web/.gitattributes web/src

NPM = npm
.PHONY: web web-check
web:
	@command -v $(NPM) >/dev/null || { echo "make web: npm is not installed (Debian package npm)" >&2; exit 1; }
	cd $(srcdir)/web && $(NPM) ci --no-audit --no-fund --loglevel=error && $(NPM) run --silent build
# Rebuilds and fails when web/dist/ is not what its sources make.
web-check: web
	git -C $(srcdir) diff --exit-code --stat -- web/dist
