#!/usr/bin/env python3
"""chart.py — latency distributions per start kind as one SVG (log x axis).

usage: chart.py -o latency.svg [--title T] FILE...

Each FILE is JSON, one of:
  * a hearth-loadgen --json object (its "label" names the row; "histogram"
    gives the shape, "latency_us" the percentiles);
  * {"label": "...", "kind": "cold", "samples_us": [...]}  (a few samples,
    e.g. 20 cold starts timed one by one);
  * {"scenarios": [ ...objects as above... ]}  (bench/results.json).
An object may carry "kind" (warm, stem, cold, docker-run, docker-exec,
floor, work) for its colour and "label" for its row name; an object with
"chart": false is skipped.

Each row: the density of the latencies (log bins), a line from min to max,
a box from p25 to p75, a tick at the median and a diamond at p99.
Python 3 standard library only.
"""
import argparse
import json
import math
import os
import sys
from xml.sax.saxutils import escape

COLOURS = {
    "floor": "#7f7f7f",
    "warm": "#2ca02c",
    "stem": "#1f77b4",
    "cold": "#9467bd",
    "docker-exec": "#ff7f0e",
    "docker-run": "#d62728",
    "work": "#17becf",
}
DEFAULT_COLOUR = "#8c564b"


def guess_kind(label):
    l = label.lower()
    for k in ("floor", "docker-run", "docker run", "docker-exec", "docker exec",
              "stem", "cold", "warm"):
        if k in l:
            return k.replace(" ", "-")
    return ""


class Dist:
    """A distribution from histogram buckets [(lo, hi, count)] in µs."""

    def __init__(self, label, kind, buckets, given=None, n=None, coarse=False):
        self.coarse = coarse  # percentiles only: no density, no min/max
        self.label = label
        self.kind = kind or guess_kind(label)
        self.buckets = sorted(b for b in buckets if b[2] > 0)
        self.n = n if n is not None else sum(b[2] for b in self.buckets)
        self.given = given or {}

    def pct(self, p):
        key = {50: "p50", 75: "p75", 90: "p90", 99: "p99", 99.9: "p99_9"}.get(p)
        if key and key in self.given:
            return self.given[key]
        if p == 0 and "min" in self.given:
            return self.given["min"]
        if p == 100 and "max" in self.given:
            return self.given["max"]
        if not self.buckets:
            return 0.0
        rank = max(1, math.ceil(p * self.n / 100.0 - 1e-9))
        seen = 0
        for lo, hi, c in self.buckets:
            if seen + c >= rank:
                # interpolate inside the bucket
                frac = (rank - seen) / c
                return lo + (hi - lo) * frac
            seen += c
        return self.buckets[-1][1]


def from_samples(label, kind, samples):
    samples = sorted(float(s) for s in samples)
    buckets = [(s, s, 1) for s in samples]
    d = Dist(label, kind, buckets)
    d.given = {"min": samples[0], "max": samples[-1]} if samples else {}

    def pct(p, s=samples):
        if not s:
            return 0.0
        rank = max(1, math.ceil(p * len(s) / 100.0 - 1e-9))
        return s[min(rank, len(s)) - 1]
    d.pct = pct
    return d


def load(obj, where):
    if isinstance(obj, dict) and "scenarios" in obj:
        out = []
        for s in obj["scenarios"]:
            out.extend(load(s, where))
        return out
    if not isinstance(obj, dict) or obj.get("chart") is False:
        return []
    label = obj.get("label") or obj.get("name") or where
    kind = obj.get("kind", "")
    inner = obj.get("loadgen") if isinstance(obj.get("loadgen"), dict) else obj
    if "samples_us" in obj:
        if not obj["samples_us"]:
            return []
        return [from_samples(label, kind, obj["samples_us"])]
    lat = inner.get("latency_us")
    if isinstance(lat, dict) and lat.get("count", 1):
        hist = [(float(b[0]), float(b[1]), int(b[2])) for b in inner.get("histogram", [])]
        coarse = not hist
        if coarse:  # percentiles only
            hist = [(lat[k], lat[k], 1) for k in ("min", "p50", "p90", "p99", "max") if k in lat]
        return [Dist(label, kind, hist, given=lat, n=lat.get("count"), coarse=coarse)]
    print(f"chart.py: {where}: no latency figures, skipped", file=sys.stderr)
    return []


def fmt_us(us):
    if us >= 1e6:
        v, u = us / 1e6, "s"
    elif us >= 1e3:
        v, u = us / 1e3, "ms"
    else:
        v, u = us, "µs"
    return f"{v:.3g} {u}"


def render(dists, title, subtitle):
    longest = max(len(d.label) for d in dists)
    left = max(150, min(420, int(longest * 6.6) + 20))
    W, right, top, row_h = 870 + left, 330, 70, 46
    plot_w = W - left - right
    H = top + row_h * len(dists) + 84
    lo = min(max(d.pct(0), 1e-3) for d in dists)
    hi = max(d.pct(100) for d in dists)
    dec_lo = math.floor(math.log10(lo))
    dec_hi = math.ceil(math.log10(hi)) if hi > 0 else dec_lo + 1
    if dec_hi <= dec_lo:
        dec_hi = dec_lo + 1

    def x(us):
        us = max(us, 10 ** dec_lo)
        return left + (math.log10(us) - dec_lo) / (dec_hi - dec_lo) * plot_w

    o = []
    o.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
             f'viewBox="0 0 {W} {H}" font-family="Helvetica, Arial, sans-serif" font-size="12">')
    o.append(f'<rect width="{W}" height="{H}" fill="#ffffff"/>')
    o.append(f'<text x="{left}" y="24" font-size="16" font-weight="bold">{escape(title)}</text>')
    if subtitle:
        o.append(f'<text x="{left}" y="42" fill="#555">{escape(subtitle)}</text>')
    y0, y1 = top - 8, top + row_h * len(dists)
    # grid: decades and 2x/5x minor lines
    for dec in range(dec_lo, dec_hi + 1):
        xv = x(10 ** dec)
        o.append(f'<line x1="{xv:.1f}" y1="{y0}" x2="{xv:.1f}" y2="{y1}" stroke="#ccc"/>')
        o.append(f'<text x="{xv:.1f}" y="{y1 + 16}" text-anchor="middle">{fmt_us(10 ** dec)}</text>')
        if dec < dec_hi:
            for m in (2, 5):
                xm = x(m * 10 ** dec)
                o.append(f'<line x1="{xm:.1f}" y1="{y0}" x2="{xm:.1f}" y2="{y1}" '
                         f'stroke="#eee"/>')
    o.append(f'<text x="{left + plot_w / 2:.0f}" y="{y1 + 34}" text-anchor="middle" fill="#333">'
             'latency per call (log scale)</text>')
    bins_per_dec = 24
    for i, d in enumerate(dists):
        cy = top + row_h * i + row_h / 2
        col = COLOURS.get(d.kind, DEFAULT_COLOUR)
        if i % 2:
            o.append(f'<rect x="0" y="{cy - row_h / 2:.1f}" width="{W}" height="{row_h}" '
                     'fill="#f7f7f7"/>')
        o.append(f'<text x="{left - 10}" y="{cy + 4:.1f}" text-anchor="end">{escape(d.label)}</text>')
        # density on log bins, normalised to the row's peak
        nb = (dec_hi - dec_lo) * bins_per_dec
        dens = [0.0] * nb
        for blo, bhi, c in d.buckets:
            mid = max((blo + bhi) / 2, 10 ** dec_lo)
            k = int((math.log10(mid) - dec_lo) * bins_per_dec)
            dens[min(max(k, 0), nb - 1)] += c
        peak = max(dens) or 1
        half = row_h * 0.36
        if d.coarse:
            pass
        elif sum(dens) > 0 and d.n >= 50:
            pts_top, pts_bot = [], []
            for k in range(nb):
                if dens[k] == 0 and (k == 0 or dens[k - 1] == 0) and (k == nb - 1 or dens[k + 1] == 0):
                    continue
                xv = left + (k + 0.5) / nb * plot_w
                h = half * dens[k] / peak
                pts_top.append(f"{xv:.1f},{cy - h:.1f}")
                pts_bot.append(f"{xv:.1f},{cy + h:.1f}")
            if pts_top:
                poly = " ".join(pts_top + pts_bot[::-1])
                o.append(f'<polygon points="{poly}" fill="{col}" fill-opacity="0.25" stroke="none"/>')
        else:  # few samples: one dot each
            for blo, bhi, c in d.buckets:
                o.append(f'<circle cx="{x((blo + bhi) / 2):.1f}" cy="{cy:.1f}" r="2.5" '
                         f'fill="{col}" fill-opacity="0.45"/>')
        pmin, p25, p50, p75, p99, pmax = (d.pct(p) for p in (0, 25, 50, 75, 99, 100))
        if d.coarse:  # what is known: box p50-p90, no whiskers
            p25, p75 = p50, d.pct(90)
            pmin = pmax = p50
        o.append(f'<line x1="{x(pmin):.1f}" y1="{cy:.1f}" x2="{x(pmax):.1f}" y2="{cy:.1f}" '
                 f'stroke="{col}" stroke-width="1.2"/>')
        bw = max(x(p75) - x(p25), 1.5)
        o.append(f'<rect x="{x(p25):.1f}" y="{cy - 7:.1f}" width="{bw:.1f}" height="14" '
                 f'fill="{col}" fill-opacity="0.7" stroke="{col}"/>')
        o.append(f'<line x1="{x(p50):.1f}" y1="{cy - 11:.1f}" x2="{x(p50):.1f}" y2="{cy + 11:.1f}" '
                 'stroke="#000" stroke-width="2"/>')
        xp = x(p99)
        o.append(f'<path d="M{xp:.1f},{cy - 6:.1f} L{xp + 5:.1f},{cy:.1f} L{xp:.1f},{cy + 6:.1f} '
                 f'L{xp - 5:.1f},{cy:.1f} Z" fill="#fff" stroke="{col}" stroke-width="1.5"/>')
        o.append(f'<text x="{left + plot_w + 12}" y="{cy + 4:.1f}" fill="#333">'
                 f'p50 {escape(fmt_us(p50))} · p99 {escape(fmt_us(p99))} · n={d.n}'
                 f'{" (p50–p90 box)" if d.coarse else ""}</text>')
    # legend
    ly = H - 10
    o.append(f'<text x="{left}" y="{ly - 20}" fill="#555">box p25–p75, black tick median, '
             'diamond p99, line min–max, shading: density (dots when few samples)</text>')
    lx = left
    for k in ("floor", "warm", "stem", "cold", "docker-exec", "docker-run"):
        if any(d.kind == k for d in dists):
            o.append(f'<rect x="{lx}" y="{ly - 10}" width="10" height="10" fill="{COLOURS[k]}"/>')
            o.append(f'<text x="{lx + 14}" y="{ly}">{k}</text>')
            lx += 32 + 7 * len(k)
    o.append("</svg>")
    return "\n".join(o) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--title", default="Hearth: latency per call by start kind")
    ap.add_argument("--subtitle", default="")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    dists = []
    for f in a.files:
        with open(f) as fh:
            dists.extend(load(json.load(fh), f))
    if not dists:
        sys.exit("chart.py: nothing to draw")
    svg = render(dists, a.title, a.subtitle)
    tmp = a.output + ".tmp"
    with open(tmp, "w") as fh:
        fh.write(svg)
    os.replace(tmp, a.output)


if __name__ == "__main__":
    main()
