#!/usr/bin/env python3
"""summarize.py - the floors runs on the Zen 4 machine, 2026-11-28 (docs/PERFORMANCE.md,
"Where we stand"). Issue #8's targets, run by run, for shmframe and for the floors in the same
run, as medians of the per-rep ratios (as `shmframe bench` computes them); then the same per
state, each rep put in a state by the cache line's own p50 in that rep: fast (<= 80 ns), normal
(81-200 ns), slow (> 200 ns).

  python3 summarize.py [CSV ...]     default: floors-*.csv beside this file
"""
import collections
import csv
import glob
import os
import statistics as st
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
files = sys.argv[1:] or sorted(glob.glob(os.path.join(HERE, 'floors-*.csv')))


def state(cl):
    return 'fast' if cl <= 80 else ('normal' if cl <= 200 else 'slow')


def reps(f):
    out = collections.defaultdict(dict)
    for r in csv.DictReader(open(f)):
        if r['status'] != 'ok':
            continue
        d = out[r['rep']]
        if r['mode'] == 'pingpong':
            d[('pp', r['transport'], r['size'])] = (float(r['lat_p50_ns']), float(r['lat_p999_ns']))
        elif r['mode'] == 'throughput':
            d[('tp', r['transport'], r['size'])] = float(r['msg_per_s'])
    return out


# (name, transport, size, kind, limit): kind tp = rate x pipe >= limit; pp = p50 x cache line
# <= limit; p999 = p99.9 in ns <= limit; blk = p50 x pipe's p50 <= limit
TARGETS = [
    ('64 B >= 14x pipe', ['shm', 'shm-batch', 'shm-zc', 'ring-crc', 'ring-batch', 'ring'], '64', 'tp', 14),
    ('4 KiB >= 3x pipe', ['shm', 'shm-zc', 'ring-crc', 'ring'], '4096', 'tp', 3),
    ('64 KiB >= 13x pipe', ['shm', 'shm-zc', 'ring-crc', 'ring'], '65536', 'tp', 13),
    ('busy p50 <= 2x cache line', ['shm-busy', 'shm-zc-busy', 'ring-crc', 'ring'], '64', 'pp', 2),
    ('busy p99.9 <= 1 us', ['shm-busy', 'ring-crc'], '64', 'p999', 1000),
    ('blocking p50 <= pipe', ['shm-block', 'ring-block', 'futex'], '64', 'blk', 1),
    ('default p50 <= 3x cache line', ['shm'], '64', 'pp', 3),
]


def value(d, kind, tr, size):
    if kind == 'tp':
        a, p = d.get(('tp', tr, size)), d.get(('tp', 'pipe', size))
        return a / p if a and p else None
    cl = d.get(('pp', 'cacheline', '64'))
    x = d.get(('pp', tr, size))
    if x is None or cl is None:
        return None
    if kind == 'pp':
        return x[0] / cl[0]
    if kind == 'p999':
        return x[1]
    p = d.get(('pp', 'pipe', size))
    return x[0] / p[0] if p else None


def met(kind, v, limit):
    return v >= limit if kind == 'tp' else v <= limit


def line(vals, kind, limit):
    if not vals:
        return '-'
    m = st.median(vals)
    s = f"{m:7.2f}" if kind != 'p999' else f"{m:7.0f}"
    extra = f" worst {min(vals):.2f}" if kind == 'tp' else ''
    return f"{s}{'*' if met(kind, m, limit) else ' '}{extra}"


runs = [(os.path.basename(f), reps(f)) for f in files]
print("Per run: median of the per-rep ratios; * = the target's limit met by that median")
for name, kind_tr, size, kind, limit in TARGETS:
    print(f"\n{name}")
    for tr in kind_tr:
        cells = []
        for fn, rs in runs:
            vals = [v for d in rs.values() if (v := value(d, kind, tr, size)) is not None]
            cells.append(line(vals, kind, limit))
        print(f"  {tr:12s} " + " | ".join(cells))

print("\nPer state (all runs' reps pooled): median [min - max], reps meeting the limit")
pool = collections.defaultdict(list)
for fn, rs in runs:
    for d in rs.values():
        cl = d.get(('pp', 'cacheline', '64'))
        if cl:
            pool[state(cl[0])].append(d)
for stt in ('fast', 'normal', 'slow'):
    ds = pool.get(stt, [])
    if not ds:
        continue
    cls = sorted(d[('pp', 'cacheline', '64')][0] for d in ds)
    print(f"\n== {stt}: {len(ds)} reps, cache line {cls[0]:.0f}-{cls[-1]:.0f} ns")
    for name, trs, size, kind, limit in TARGETS:
        for tr in trs:
            v = sorted(x for d in ds if (x := value(d, kind, tr, size)) is not None)
            if v:
                n = sum(met(kind, x, limit) for x in v)
                fmt = (lambda x: f"{x:.0f}") if kind == 'p999' else (lambda x: f"{x:.2f}")
                print(f"  {name:30s} {tr:12s} {fmt(st.median(v)):>8s} [{fmt(v[0])} - {fmt(v[-1])}]"
                      f"  met in {n} of {len(v)}")
