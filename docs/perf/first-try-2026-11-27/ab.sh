#!/bin/bash
# A/B of the first-try change: old = /tmp/old-*, new = /tmp/rb, /tmp/cg. Output dir $1.
out=$1; mkdir -p $out
OLDB=/tmp/old-rb/tools/shmframe; NEWB=/tmp/rb/tools/shmframe
OLDP=/tmp/old-cg/shmf_callgrind_probe; NEWP=/tmp/cg/shmf_callgrind_probe
# 1. one thread, 10^7 send+recv of 64 B, pinned to CPU 1, alternating
for i in 1 2 3 4 5; do
  for v in old new; do
    P=OLDP; [ $v = new ] && P=NEWP
    for m in copy wait; do
      s=$(date +%s.%N); taskset -c 1 ${!P} $m 64 10000000 || echo FAIL; e=$(date +%s.%N)
      echo "$i $v $m $(echo "($e - $s) * 100" | bc -l)" >> $out/onethread.txt   # ns per pair (1e7 pairs)
    done
  done
done
# 2. 64 B throughput, 3 alternating runs of 11 reps each
for i in 1 2 3; do
  for v in old new; do
    B=OLDB; [ $v = new ] && B=NEWB
    ${!B} bench --modes throughput --sizes 64 --transports shm,shm-batch,ring-batch,ring-crc-batch,pipe --reps 11 --csv $out/tput-$i-$v.csv > $out/tput-$i-$v.txt 2>/dev/null
  done
done
# 3. 64 B ping-pong, 3 alternating runs of 11 reps
for i in 1 2 3; do
  for v in old new; do
    B=OLDB; [ $v = new ] && B=NEWB
    ${!B} bench --modes pingpong --sizes 64 --transports shm-busy,shm,ring-crc,cacheline --reps 11 --csv $out/pp-$i-$v.csv > $out/pp-$i-$v.txt 2>/dev/null
  done
done
echo done > $out/DONE
