# web/ — the dashboard, served by hearthd at "/".
webdir = $(pkgdatadir)/web
dist_web_DATA = web/index.html
