#!/bin/sh
# demo.sh - run the writer and the reader together, as the original tutorial did, and fail if
# either fails or if the segment's name is left behind.
# usage: examples/demo.sh [WRITER READER]   (defaults: build/shmf_writer build/shmf_reader)
set -u
writer=${1:-build/shmf_writer}
reader=${2:-build/shmf_reader}
name="/shmframe-demo-$$"

"$writer" "$name" &
wpid=$!
"$reader" "$name"
rrc=$?
wait "$wpid"
wrc=$?
if [ -e "/dev/shm/${name#/}" ]; then
	echo "demo: $name was left in /dev/shm" >&2
	rm -f "/dev/shm/${name#/}"
	exit 1
fi
[ "$wrc" -eq 0 ] && [ "$rrc" -eq 0 ] || { echo "demo: writer exit $wrc, reader exit $rrc" >&2; exit 1; }
echo "demo: 10 messages each way, name removed"
