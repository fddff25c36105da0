#!/usr/bin/env python3
"""Summarize the 64 B batch-floor runs of 2026-11-27 (docs/PERFORMANCE.md, "The batched floor").

Each CSV is one `shmframe bench --modes throughput --sizes 64 --reps 11 --csv` run. For each run
and transport: the median and the worst of the per-rep ratios to the same rep's pipe (the bench's
own method), the median rate, and whether the target of issue #8 (median >= 14x, no rep below 8x)
holds. Then each run's shm-batch / ring-batch ratio, per rep, by the median.

    python3 summarize.py 1251-run*.csv 1255-run*.csv 1335-run*.csv
    python3 summarize.py ../prefault-optin-2026-11-27/tput-*.csv   (A: git fcb8752, B: e7bf3ef,
        alternating A1 B1 A2 B2 A3 B3, 12:53-12:54; shm, shm-batch, ring, pipe)
"""
import collections
import csv
import statistics as st
import sys

ORDER = ["shm", "shm-batch", "ring", "ring-crc", "ring-batch", "ring-crc-batch"]

for path in sys.argv[1:]:
    rows = [r for r in csv.DictReader(open(path)) if r["status"] == "ok"]
    rate = collections.defaultdict(dict)  # rep -> transport -> msg/s
    for r in rows:
        rate[r["rep"]][r["transport"]] = float(r["msg_per_s"])
    first = rows[0]
    print(f"{path}: {first['date']} git {first['git_sha']}, {len(rate)} reps, "
          f"pipe {st.median(v['pipe'] for v in rate.values()) / 1e6:.2f} M msg/s")
    for tr in ORDER:
        ratios = [v[tr] / v["pipe"] for v in rate.values() if tr in v and "pipe" in v]
        if not ratios:
            continue
        med, worst = st.median(ratios), min(ratios)
        mrate = st.median(v[tr] for v in rate.values() if tr in v) / 1e6
        met = "MET " if med >= 14 and worst >= 8 else "miss"
        print(f"  {tr:15s} {mrate:6.1f} M msg/s  {med:6.2f}x pipe, worst {worst:5.2f}x  {met}")
    pairs = [v["shm-batch"] / v["ring-batch"] for v in rate.values()
             if "shm-batch" in v and "ring-batch" in v]
    if pairs:
        print(f"  shm-batch / ring-batch per rep: median {st.median(pairs):.2f} "
              f"[{min(pairs):.2f} - {max(pairs):.2f}]")
