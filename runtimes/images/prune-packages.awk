# prune-packages.awk — read a dpkg status file; print the installed packages
# that neither the Essential set nor WANT (space-separated) needs through
# Depends/Pre-Depends. build-images.sh purges them from a fresh rootfs
# (apt, gnutls, e2fsprogs, passwd… have no use in a runtime container).
# usage: awk -v WANT="python3 tzdata" -f prune-packages.awk ROOT/var/lib/dpkg/status
BEGIN { RS = ""; FS = "\n" }
{
	pkg = ""; st = ""; ess = ""; dep = ""; prv = ""; last = ""
	for (i = 1; i <= NF; i++) {
		l = $i
		if (l ~ /^[ \t]/) { if (last == "d") dep = dep l; continue }
		last = ""
		if (l ~ /^Package:/) pkg = substr(l, 10)
		else if (l ~ /^Status:/) st = l
		else if (l ~ /^Essential: yes/) ess = 1
		else if (l ~ /^(Pre-)?Depends:/) { sub(/^[A-Za-z-]+:/, "", l); dep = dep "," l; last = "d" }
		else if (l ~ /^Provides:/) prv = substr(l, 11)
	}
	if (pkg == "" || st !~ / installed$/) next
	inst[pkg] = 1; deps[pkg] = dep
	if (ess) queue[++nq] = pkg
	n = split(prv, pv, ",")
	for (j = 1; j <= n; j++) { p = pv[j]; gsub(/^ +| .*$/, "", p); if (p != "" && !(p in provider)) provider[p] = pkg }
}
function resolve(name) { sub(/:.*/, "", name); if (name in inst) return name; if (name in provider) return provider[name]; return "" }
END {
	n = split(WANT, w, " ")
	for (j = 1; j <= n; j++) queue[++nq] = w[j]
	while (nq > 0) {
		p = resolve(queue[nq--])
		if (p == "" || (p in keep)) continue
		keep[p] = 1
		na = split(deps[p], alts, ",")
		for (k = 1; k <= na; k++) {
			if (alts[k] ~ /^ *$/) continue
			nb = split(alts[k], opts, "|")
			for (m = 1; m <= nb; m++) {
				o = opts[m]; gsub(/^ +/, "", o); sub(/[ (].*$/, "", o)
				r = resolve(o)
				if (r != "") { queue[++nq] = r; break }
			}
		}
	}
	for (p in inst) if (!(p in keep)) print p
}
