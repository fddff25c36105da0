#!/usr/bin/env python3
"""summarize.py - the A/B of the first try in ring.c (old = 23c2b82, new = the later build):
one-thread ns per 64 B send + receive, and per run: 64 B throughput (per-rep ratio to pipe,
median and worst) and 64 B ping-pong p50/p99.9 (per-rep ratio of p50 to the cache line's).
Reads onethread.txt, tput-RUN-BUILD.csv and pp-RUN-BUILD.csv in the directory given
(python3 summarize.py quiet-1652 > quiet-1652/summary.txt)."""
import csv, glob, os, statistics as st, collections, sys
here = sys.argv[1]

def rows(path):
    with open(path) as f:
        return [r for r in csv.DictReader(f) if r['status'] == 'ok']

def by_rep(r, transport, field):
    """{rep: value of field} for one transport's rows."""
    return {x['rep']: float(x[field]) for x in r if x['transport'] == transport}

def head(path, r, what, rows_of, field, scale, unit):
    print(f'{os.path.basename(path)}: {r[0]["date"]} git {r[0]["git_sha"]}, {what} '
          f'{st.median(by_rep(r, rows_of, field).values()) * scale:.2f} {unit}')

d = collections.defaultdict(list)
one = os.path.join(here, 'onethread.txt')
for line in open(one) if os.path.exists(one) else []:
    i, v, m, ns = line.split()
    d[(v, m)].append(float(ns))
if d:
    print('one thread, ns per 64 B send + receive (10^7, pinned to CPU 1), median [min - max] of 5:')
for m in ('copy', 'wait'):
    for v in ('old', 'new'):
        x = d.get((v, m))
        if x:
            print(f'  {m:5s} {v:4s} {st.median(x):6.1f} [{min(x):.1f} - {max(x):.1f}]')

for path in sorted(glob.glob(os.path.join(here, 'tput-*.csv'))):
    r = rows(path)
    pipe = by_rep(r, 'pipe', 'msg_per_s')
    head(path, r, 'pipe', 'pipe', 'msg_per_s', 1e-6, 'M msg/s')
    for t in ('shm', 'shm-batch', 'ring-batch', 'ring-crc-batch'):
        ratios = [float(x['msg_per_s']) / pipe[x['rep']] for x in r if x['transport'] == t and x['rep'] in pipe]
        rate = [float(x['msg_per_s']) for x in r if x['transport'] == t]
        if ratios:
            met = 'MET' if st.median(ratios) >= 14 and min(ratios) >= 8 else 'miss'
            print(f'  {t:15s} {st.median(rate)/1e6:6.1f} M msg/s  {st.median(ratios):6.2f}x pipe, worst {min(ratios):5.2f}x  {met}')
    sb = by_rep(r, 'shm-batch', 'msg_per_s')
    for floor in ('ring-batch', 'ring-crc-batch'):
        fl = by_rep(r, floor, 'msg_per_s')
        q = [sb[k] / fl[k] for k in sb if k in fl]
        if q:
            print(f'  shm-batch / {floor} per rep: median {st.median(q):.2f} [{min(q):.2f} - {max(q):.2f}]')

for path in sorted(glob.glob(os.path.join(here, 'pp-*.csv'))):
    r = rows(path)
    cl = by_rep(r, 'cacheline', 'lat_p50_ns')
    head(path, r, 'cache line p50', 'cacheline', 'lat_p50_ns', 1, 'ns')
    rc = by_rep(r, 'ring-crc', 'lat_p50_ns')
    for t in ('shm-busy', 'shm', 'ring-crc'):
        p50 = by_rep(r, t, 'lat_p50_ns')
        p999 = [float(x['lat_p999_ns']) for x in r if x['transport'] == t]
        ratio = [p50[k] / cl[k] for k in p50 if k in cl]
        extra = ''
        if t != 'ring-crc':
            diff = [p50[k] - rc[k] for k in p50 if k in rc]
            extra = f', minus ring-crc per rep: median {st.median(diff):+.0f} ns'
        print(f'  {t:9s} p50 {st.median(p50.values()):5.0f} ns  {st.median(ratio):.2f}x cache line; p99.9 {st.median(p999):6.0f} ns{extra}')
