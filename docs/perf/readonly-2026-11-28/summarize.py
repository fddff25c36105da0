#!/usr/bin/env python3
"""The read-only ring A/B of 2026-11-28 (docs/PERFORMANCE.md, "The read-only ring").

ro-N.csv: the library as it was (the reader maps the ring it reads read-only, git 0429d66);
rw-N.csv: the same with that mprotect() gone. The invocations alternated ro-1, rw-1, ro-2, ...
For each case this prints the median over all reps of each build of the per-rep ratio (throughput
to pipe's rate in the same rep, round-trip p50 to the cache line's in the same rep), with the
lowest and highest rep, and the median rate or p50 itself.

    python3 summarize.py [DIR]
"""
import csv
import glob
import os
import statistics
import sys

d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))


def load(build):
    rows = []
    for f in sorted(glob.glob(os.path.join(d, build + "-*.csv"))):
        inv = os.path.basename(f)[len(build) + 1:-4]
        for r in csv.DictReader(open(f)):
            if r["status"] == "ok":
                r["inv"] = inv
                rows.append(r)
    return rows


def ratios(rows, mode, tr, size):
    out, raw = [], []
    for r in rows:
        if r["mode"] != mode or r["transport"] != tr or r["size"] != size:
            continue
        if mode == "throughput":
            base = [x for x in rows if x["inv"] == r["inv"] and x["rep"] == r["rep"]
                    and x["mode"] == mode and x["transport"] == "pipe" and x["size"] == size]
            v, b = float(r["msg_per_s"]), float(base[0]["msg_per_s"]) if base else 0
            raw.append(float(r["mb_per_s"]))
        else:
            base = [x for x in rows if x["inv"] == r["inv"] and x["rep"] == r["rep"]
                    and x["mode"] == mode and x["transport"] == "cacheline"]
            v, b = float(r["lat_p50_ns"]), float(base[0]["lat_p50_ns"]) if base else 0
            raw.append(v)
        if b > 0:
            out.append(v / b)
    return out, raw


builds = {b: load(b) for b in ("ro", "rw")}
print("%-11s %-12s %-6s | %-34s | %-34s" % ("mode", "transport", "size",
      "read-only (as it was): median [min-max]", "writable: median [min-max]"))
for mode, trs, sizes in (("throughput", ("shm", "shm-batch", "shm-zc", "ring-crc", "ring-batch"),
                          ("64", "4096", "65536")),
                         ("pingpong", ("shm-busy", "shm", "shm-zc-busy", "ring-crc"),
                          ("64", "4096", "65536"))):
    for size in sizes:
        for tr in trs:
            cells = []
            for b in ("ro", "rw"):
                q, raw = ratios(builds[b], mode, tr, size)
                if not q:
                    cells.append("-")
                    continue
                unit = "MB/s" if mode == "throughput" else "ns"
                cells.append("%6.2fx [%5.2f-%5.2f] %7.0f %s n=%d" % (
                    statistics.median(q), min(q), max(q), statistics.median(raw), unit, len(q)))
            print("%-11s %-12s %-6s | %-34s | %-34s" % (mode, tr, size, cells[0], cells[1]))
print("\nthroughput: x pipe, per rep; pingpong: p50 x the cache line's p50, per rep")
