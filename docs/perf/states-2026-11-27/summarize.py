#!/usr/bin/env python3
"""summarize.py - the runs of 2026-11-27 21:07-21:23 UTC (docs/PERFORMANCE.md, "States that flip
within a run"). Each rep is put in a state by the cache line's own p50 in that rep: fast (<= 80
ns), normal (81-200 ns), slow (> 200 ns); then, per state, the medians of the per-rep ratios.

  python3 summarize.py             both parts, from the CSVs beside this file
  s1-s4.csv        four runs of 11 reps, 64 B: ping-pong (x the cache line) and throughput (x pipe)
  prefetch-B-N.csv the A/B of the reader's prefetch, 20 rounds of 5 reps, alternating:
                   B = rb (git ab11b10) or pf (the same plus prefetch.patch)
"""
import collections
import csv
import glob
import os
import statistics as st

HERE = os.path.dirname(os.path.abspath(__file__))


def state(cl):
    return 'fast' if cl <= 80 else ('normal' if cl <= 200 else 'slow')


def load(pattern, key):
    rows = collections.defaultdict(dict)
    for f in sorted(glob.glob(os.path.join(HERE, pattern))):
        for r in csv.DictReader(open(f)):
            if r['status'] != 'ok':
                continue
            k = (key(f), f, r['rep'])
            if r['mode'] == 'pingpong':
                rows[k]['pp-' + r['transport']] = float(r['lat_p50_ns'])
            else:
                rows[k]['tp-' + r['transport']] = float(r['msg_per_s'])
    return rows


def report(rows):
    agg = collections.defaultdict(lambda: collections.defaultdict(list))
    for (group, _, _), d in rows.items():
        cl = d['pp-cacheline']
        a = agg[(group, state(cl))]
        a['cache line, ns'].append(cl)
        for t, v in d.items():
            if t.startswith('pp-') and t != 'pp-cacheline':
                a[t[3:] + ' p50 x cache line'].append(v / cl)
                if t not in ('pp-ring-crc', 'pp-pipe') and 'pp-ring-crc' in d:
                    a[t[3:] + ' p50 x ring-crc'].append(v / d['pp-ring-crc'])
            if t.startswith('tp-') and t != 'tp-pipe':
                a[t[3:] + ' rate x pipe'].append(v / d['tp-pipe'])
    for k in sorted(agg):
        n = len(agg[k]['cache line, ns'])
        print(f"== {k[0]}, {k[1]} state: {n} reps")
        for t, v in sorted(agg[k].items()):
            v = sorted(v)
            extra = ''
            if 'x pipe' in t:
                extra = f"; >= 14x in {sum(x >= 14 for x in v)}, < 8x in {sum(x < 8 for x in v)}"
            if 'x cache line' in t:
                extra = f"; <= 2x in {sum(x <= 2 for x in v)}"
            print(f"   {t:32s} median {st.median(v):8.2f}  [{v[0]:.2f} - {v[-1]:.2f}]{extra}")


print("# four runs of 11 reps (21:20-21:22)")
report(load('s[0-9].csv', lambda f: 'runs'))
print("\n# the reader's prefetch, A/B (21:07-21:11): rb = unchanged, pf = prefetch")
report(load('prefetch-*.csv', lambda f: os.path.basename(f).split('-')[1]))
