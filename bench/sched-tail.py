#!/usr/bin/env python3
"""sched-tail.py — what kept a call's processes off the CPU (issue 12's tail).

Reads `perf sched timehist` text (one line per switch-out: time, CPU,
task, wait time, scheduling delay, run time) and a list of the PIDs
that serve a call (hearthd, the shims, the runtimes; or floor-server and
its workers; the load generator if wanted), and prints:
  - the distribution of their scheduling delay (runnable, not running)
    and of their run slices;
  - for every switch-in of theirs delayed more than --threshold ms: which
    tasks ran on that CPU meanwhile (ms, summed), ours apart by thread
    when --name-threads is given (e.g. hearthd's records writer);
  - our own run slices longer than the threshold, per thread.

usage:
  perf sched record -a -o sched.data -- sleep 10   # while the c=1 run goes
  perf sched timehist -i sched.data > th.txt
  bench/sched-tail.py th.txt --pids PID,PID,... [--comms loadgen]
                      [--name-threads TID=name,...] [--threshold MS]
"""
import argparse
import bisect
import collections
import re


def parse(path):
    rows = []
    for line in open(path, errors="replace"):
        p = line.split()
        if len(p) < 6 or not re.match(r"^\d+\.\d+$", p[0]):
            continue
        try:
            t, cpu = float(p[0]), int(p[1].strip("[]"))
            m = re.match(r"(.*)\[(\d+)(?:/(\d+))?\]$", p[2])
            name, tid, pid = m.group(1), int(m.group(2)), int(m.group(3) or m.group(2))
            wait, delay, run = float(p[3]), float(p[4]), float(p[5])
        except (ValueError, AttributeError):
            continue
        rows.append((t, cpu, name, tid, pid, wait, delay, run))
    return rows


def pct(vals, p):
    vals = sorted(vals)
    return vals[min(len(vals) - 1, int(len(vals) * p))] if vals else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("timehist")
    ap.add_argument("--pids", required=True, help="comma-separated: the processes of a call")
    ap.add_argument("--comms", default="", help="comma-separated task names that are ours "
                    "too (e.g. loadgen, whose PID is gone by then)")
    ap.add_argument("--name-threads", default="", help="TID=label,... for our own threads")
    ap.add_argument("--threshold", type=float, default=0.5, help="ms")
    a = ap.parse_args()
    ours = {int(x) for x in a.pids.split(",") if x}
    comms = {x for x in a.comms.split(",") if x}
    labels = dict((int(k), v) for k, v in (x.split("=") for x in a.name_threads.split(",") if x))
    rows = parse(a.timehist)

    def mine(r):
        return r[4] in ours or r[3] in ours or r[2] in comms

    def label(r):
        if r[3] in labels:
            return "ours: " + labels[r[3]]
        return ("ours: " + r[2]) if mine(r) else r[2]

    o = [r for r in rows if mine(r)]
    span = (rows[-1][0] - rows[0][0]) if rows else 0
    print(f"{len(rows)} switch-outs over {span:.1f} s; ours {len(o)}: "
          f"{collections.Counter(label(r) for r in o).most_common()}")
    for what, i in (("scheduling delay", 6), ("run slice", 7)):
        v = [r[i] for r in o]
        print(f"  {what}: p50 {pct(v, .5):.3f}  p99 {pct(v, .99):.3f}  p99.9 {pct(v, .999):.3f}  "
              f"max {max(v, default=0):.3f} ms")
    percpu = collections.defaultdict(list)
    for r in rows:
        percpu[r[1]].append(r)
    ends = {c: [r[0] for r in v] for c, v in percpu.items()}
    late = [r for r in o if r[6] > a.threshold]
    total = sum(r[6] for r in late)
    print(f"our switch-ins that waited > {a.threshold} ms runnable: {len(late)} "
          f"({total:.1f} ms in all); by task: "
          f"{collections.Counter(label(r) for r in late).most_common()}")
    occ = collections.Counter()
    for r in late:
        t_in = r[0] - r[7] / 1e3
        t0 = t_in - r[6] / 1e3
        lst = percpu[r[1]]
        i = bisect.bisect_right(ends[r[1]], t0)
        while i < len(lst) and lst[i][0] - lst[i][7] / 1e3 < t_in:
            q = lst[i]
            s, e = max(q[0] - q[7] / 1e3, t0), min(q[0], t_in)
            if e > s:
                occ[label(q)] += (e - s) * 1e3
            i += 1
    print("  what ran on that CPU meanwhile (ms):")
    for k, v in occ.most_common(15):
        print(f"    {v:8.1f}  {k}")
    long = [r for r in o if r[7] > a.threshold]
    print(f"our run slices > {a.threshold} ms: "
          f"{collections.Counter(label(r) for r in long).most_common()}")


if __name__ == "__main__":
    main()
