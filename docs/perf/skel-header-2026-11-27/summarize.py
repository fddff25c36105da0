#!/usr/bin/env python3
"""The skeleton's header store, before (C: a build of 6e7a1fb) and after (B: the commit that stores it as three
words), 64 B, 2026-11-27 13:39-13:44, alternating C1 B1 C2 B2 C3 B3, 11 reps each. Per run: each
transport's median of the per-rep ratios, to pipe (throughput, msg/s: median/worst rep) and to
the cache line (ping-pong p50: median/highest rep).

    python3 summarize.py . C B
    python3 summarize.py . 4k-C 4k-B   (4 KiB throughput, ring, ring-crc, pipe, 14:22-14:23,
        the same two binaries; their CSVs say 035169be0744, the tree's commit when they ran)

Both builds' CSVs say 6e7a1fb76020-dirty: the bench asks git about its source tree when it runs,
and the tree held the change during all six runs.
"""
import csv,glob,statistics as st,collections,sys
d=sys.argv[1]
for v in sys.argv[2:]:
    for f in sorted(glob.glob(f'{d}/{v}[0-9].csv')):
        rows=[r for r in csv.DictReader(open(f)) if r['status']=='ok']
        by=collections.defaultdict(dict)
        for r in rows: by[(r['rep'],r['mode'],r['size'])][r['transport']]=r
        out=[]
        for mode,base,key in (('throughput','pipe','msg_per_s'),('pingpong','cacheline','lat_p50_ns')):
            rat=collections.defaultdict(list)
            for (rep,m,size),t in by.items():
                if m!=mode or base not in t: continue
                for tr,r in t.items():
                    if tr!=base: rat[tr].append(float(r[key])/float(t[base][key]))
            if not rat:
                continue
            out.append(mode[:4]+': '+' '.join(f"{tr} {st.median(x):.2f}/{(min(x) if mode=='throughput' else max(x)):.2f}" for tr,x in sorted(rat.items())))
        print(f.split('/')[-1], rows[0]['git_sha'], *out, sep='\n  ')
