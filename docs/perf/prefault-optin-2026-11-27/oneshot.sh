#!/bin/bash
# usage: oneshot.sh BIN N -> seconds for N one-shot send + recv pairs on one segment
B=$1; N=${2:-100}; name=/osh$$
$B create $name >/dev/null || exit 1
s=$(date +%s.%N)
for ((i=0;i<N;i++)); do $B send $name "m$i" >/dev/null || exit 1; $B recv $name >/dev/null || exit 1; done
e=$(date +%s.%N)
$B unlink $name
echo "$e - $s" | bc
