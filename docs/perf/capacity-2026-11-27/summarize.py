#!/usr/bin/env python3
"""Summarize the ring-capacity sweeps of 2026-11-27 (docs/PERFORMANCE.md, "The default capacity").

Each CSV is `shmframe bench --csv` output with two columns in front: the invocation (the sweep ran
the capacities one after the other, then again, so each invocation number is one round of all of
them) and the capacity it was run with. Ratios are per rep, against the same rep of pipe (and, for
ping-pong, the same rep's cache line at 8 B or the same size); "median [min - max]" is over every
rep of every invocation.

    python3 summarize.py A.csv B.csv C.csv D.csv E.csv
    python3 summarize.py ../prefault-2026-11-27/pingpong.csv   (capacity "4M+prefault": a
        scratch build of the same sources whose mmap of the segment passed MAP_POPULATE, not
        the madvise of the committed prefault; 4 MiB rings)
"""
import collections
import csv
import statistics as st
import sys


def cap_key(c):
    """1M < 4M < 4M+prefault < 8M: the capacity, then any suffix."""
    n = len(c) - len(c.lstrip("0123456789"))
    return (int(c[:n]), c[n:])


def throughput(rows):
    by = collections.defaultdict(dict)  # (invocation, capacity, rep, size) -> transport -> MB/s
    for r in rows:
        if r["mode"] == "throughput" and r["status"] == "ok":
            by[(r["invocation"], r["capacity"], r["rep"], int(r["size"]))][r["transport"]] = float(
                r["mb_per_s"])
    ratio = collections.defaultdict(list)
    rate = collections.defaultdict(list)
    for (_, cap, _, size), t in by.items():
        for tr, v in t.items():
            rate[(size, tr, cap)].append(v)
            if tr != "pipe" and "pipe" in t:
                ratio[(size, tr, cap)].append(v / t["pipe"])
    caps = sorted({k[2] for k in rate}, key=cap_key)
    for size in sorted({k[0] for k in rate}):
        for tr in sorted({k[1] for k in rate}):
            cells = []
            for c in caps:
                v = rate.get((size, tr, c))
                if not v:
                    continue
                cell = f"{c}: {st.median(v):7.0f} MB/s"
                q = ratio.get((size, tr, c))
                if q:
                    cell += f" {st.median(q):5.2f}x [{min(q):5.2f} - {max(q):5.2f}] n={len(q)}"
                cells.append(cell)
            print(f"{size:>6} B {tr:10} " + " | ".join(cells))


def pingpong(rows):
    by = collections.defaultdict(dict)
    for r in rows:
        if r["mode"] == "pingpong" and r["status"] == "ok":
            by[(r["invocation"], r["capacity"], r["rep"])][(int(r["size"]), r["transport"])] = (
                float(r["lat_p50_ns"]), float(r["lat_p999_ns"]))
    p50 = collections.defaultdict(list)
    p999 = collections.defaultdict(list)
    xcl = collections.defaultdict(list)
    for (_, cap, _), t in by.items():
        floor = t.get((8, "cacheline"))
        for (size, tr), (a, b) in t.items():
            p50[(size, tr, cap)].append(a)
            p999[(size, tr, cap)].append(b)
            fl = floor or t.get((size, "cacheline"))
            if fl and tr != "cacheline":
                xcl[(size, tr, cap)].append(a / fl[0])
    caps = sorted({k[2] for k in p50}, key=cap_key)
    for size in sorted({k[0] for k in p50}):
        for tr in sorted({k[1] for k in p50 if k[0] == size}):
            cells = []
            for c in caps:
                a = p50.get((size, tr, c))
                if not a:
                    continue
                cell = f"{c}: p50 {st.median(a):6.0f} ns [{min(a):6.0f} - {max(a):6.0f}]"
                cell += f" p99.9 {st.median(p999[(size, tr, c)]):6.0f}"
                q = xcl.get((size, tr, c))
                if q:
                    cell += f" {st.median(q):4.2f}x line"
                cells.append(cell)
            print(f"{size:>6} B {tr:10} " + " | ".join(cells))


for path in sys.argv[1:]:
    rows = list(csv.DictReader(open(path, newline="")))
    print(f"== {path}: {len(rows)} rows, {rows[0]['date']} .. {rows[-1]['date']}, "
          f"git {rows[0]['git_sha']}")
    throughput(rows)
    pingpong(rows)
    print()
