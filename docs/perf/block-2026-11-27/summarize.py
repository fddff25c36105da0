#!/usr/bin/env python3
"""Per-rep p50 ratios of the blocking ping-pong runs in DIR (run*.csv): each run's median of
the per-rep ratio, rep by rep in the same run (the transports of a rep ran back to back)."""
import csv, glob, statistics, sys
d = sys.argv[1] if len(sys.argv) > 1 else '.'
pairs = [('shm-block', 'pipe'), ('futex', 'pipe'), ('futex-slice', 'pipe'), ('ring-block', 'pipe'),
         ('futex-slice', 'futex'), ('shm-block', 'futex'), ('shm-block', 'futex-slice'),
         ('ring-block', 'futex')]
print('run      pipe p50 us  cacheline ns  ' + '  '.join('%s/%s' % p for p in pairs))
allr = {p: [] for p in pairs}
runmed = {p: [] for p in pairs}
for f in sorted(glob.glob(d + '/run*.csv'), key=lambda x: int(x.split('run')[-1][:-4])):
    reps = {}
    for r in csv.DictReader(open(f)):
        if r['mode'] == 'pingpong' and r['status'] == 'ok':
            reps.setdefault(r['rep'], {})[r['transport']] = float(r['lat_p50_ns'])
    out = []
    for p in pairs:
        v = [x[p[0]] / x[p[1]] for x in reps.values() if p[0] in x and p[1] in x]
        allr[p] += v
        if v:
            runmed[p].append(statistics.median(v))
        out.append('%.3f' % statistics.median(v) if v else '-')
    pipe = statistics.median(x['pipe'] for x in reps.values() if 'pipe' in x) / 1000
    cl = statistics.median(x['cacheline'] for x in reps.values() if 'cacheline' in x)
    name = f.split('/')[-1][:-4]
    print('%-8s %8.1f %12.0f  ' % (name, pipe, cl) + '  '.join('%*s' % (len('%s/%s' % p), o) for p, o in zip(pairs, out)))
print('runs whose median is at or below 1; all reps (median of every per-rep ratio, n):')
for p in pairs:
    v = allr[p]
    if not v:
        continue
    m = runmed[p]
    print('  %-24s %d of %d runs; %.3f  (n %d; below 1 in %d)' % (
        '%s/%s' % p, sum(1 for x in m if x <= 1), len(m), statistics.median(v), len(v),
        sum(1 for x in v if x < 1)))
