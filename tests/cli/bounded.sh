#!/usr/bin/env bash
# bounded.sh - inspect and ls read only what they report: the control area and the frames
# waiting, never the whole segment; their memory does not grow with the segment (an audit
# measured 2.1 GB of RSS for `ls` next to a 1 GiB segment); and a segment that shrinks and
# grows while they read it gives a verdict, never a crash (SIGBUS) or a hang.
. "$(dirname "$0")/lib.sh"

# ---- the bytes read: inspect --json counts them -----------------------------------------------
e=$(name empty)
expect 0 "create" create "$e"
expect 0 "inspect --json of an empty 8 MiB segment" inspect "$e" --json
out_has '"file":\{"size":8392704,"bytes_read":4096,' "the control area only"
expect 0 "send" send "$e" one two three
expect 0 "inspect --json with three frames waiting" inspect "$e" --json
out_has '"file":\{"size":8392704,"bytes_read":4192,' "the control area and the 96 bytes published"
out_has '"messages_waiting":3,'
expect 0 "inspect --file of the same" inspect --file "$(shmpath empty)" --json
out_has '"file":\{"size":8392704,"bytes_read":4192\}'

# ---- memory: a 128 MiB segment with 63.5 MiB waiting ----------------------------------------
# maxrss ARGS...: run shmframe ARGS like expect, and put its peak RSS in KiB in RSS ("" when
# nothing here can measure it).
maxrss() {
	RSS=""
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%M' -o "$TMP/rss" "$SHMF" "$@" </dev/null >"$TMP/out" 2>"$TMP/err" 3>&- 4>&-
		RC=$?
		RSS=$(tail -n 1 "$TMP/rss")
	elif command -v python3 >/dev/null 2>&1; then
		# getrusage(RUSAGE_CHILDREN) of a wrapper whose only child is the command
		RSS=$(python3 -c '
import resource, subprocess, sys
with open(sys.argv[1], "wb") as o, open(sys.argv[2], "wb") as e:
    rc = subprocess.call(sys.argv[3:], stdin=subprocess.DEVNULL, stdout=o, stderr=e)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)' "$TMP/out" "$TMP/err" "$SHMF" "$@" 3>&- 4>&-)
		RC=${RSS#* }
		RSS=${RSS% *}
	else
		"$SHMF" "$@" </dev/null >"$TMP/out" 2>"$TMP/err" 3>&- 4>&-
		RC=$?
	fi
}
LIMIT_KIB=$((48 * 1024))
b=$(name big)
expect 0 "create a segment of 2 x 64 MiB rings" create "$b" --capacity 64M
# 1024 records of 65000 bytes (1024 frames of 65024 bytes fill 99.2% of the ring): a 4-byte
# length, then the payload; doubled from one
{
	le32 65000
	head -c 65000 /dev/zero | tr '\0' 'b'
} >"$TMP/rec"
for i in $(seq 1 10); do cat "$TMP/rec" "$TMP/rec" >"$TMP/rec2" && mv "$TMP/rec2" "$TMP/rec"; done
expect_in "$TMP/rec" 0 "send 1024 messages" send "$b" --binary --timeout 0
rm -f "$TMP/rec"
for args in "ls --match $b" "ls --json --match $b" "inspect $b" "inspect $b --json" \
	"inspect --file $(shmpath big)"; do
	# shellcheck disable=SC2086
	maxrss $args
	judge 0 "$args"
	if [ -n "$RSS" ]; then
		check "$args: peak RSS $RSS KiB, under $LIMIT_KIB KiB next to a 128 MiB segment" \
			test "$RSS" -lt "$LIMIT_KIB"
	else
		echo "note: neither /usr/bin/time nor python3: the RSS of '$args' is not measured"
	fi
done
maxrss ls --match "$b"
out_has "^$b +134221824 .* closed +- +1024,0 +0,0 +ok$" "ls still counts every message waiting"
maxrss inspect "$b"
out_has '^  waiting: 1024 message\(s\), 66560000 payload bytes, in 66584576 bytes$'
out_has '^verdict: consistent$'
expect 0 "unlink" unlink "$b"

# ---- a segment that shrinks and grows while it is read ----------------------------------------
s=$(name shrink)
m=$(head -c 1000 /dev/zero | tr '\0' s)
expect 0 "create" create "$s" --capacity 64K
for i in $(seq 1 60); do echo "$m"; done >"$TMP/lines"
expect_in "$TMP/lines" 0 "fill ring 0" send "$s" --timeout 0
cp "$(shmpath shrink)" "$TMP/full.img"
size=$(stat -c %s "$TMP/full.img")
shrink() {
	# cut it inside the frames (the header stays), then put every byte back
	truncate -s $((4096 + RANDOM * 2 % (size - 4096))) "$(shmpath shrink)" 2>/dev/null
	dd if="$TMP/full.img" of="$(shmpath shrink)" bs=64K conv=notrunc,nocreat status=none 2>/dev/null
}
meddle shrink
ok=0
for i in $(seq 1 25); do
	"$SHMF" inspect "$s" >/dev/null 2>"$TMP/err" 3>&- 4>&-
	RC=$?
	"$SHMF" ls --match "$s" >/dev/null 2>>"$TMP/err" 3>&- 4>&-
	RC2=$?
	if { [ $RC -eq 0 ] || [ $RC -eq 1 ]; } && [ $RC2 -eq 0 ] && sanitizer_clean "$TMP/err"; then
		ok=$((ok + 1))
	else
		fail "read $i of a shrinking segment: inspect $RC, ls $RC2"
	fi
done
meddle_stop
check "25 inspections and listings of a segment that shrinks: exit 0 or 1, never a signal" \
	test $ok -eq 25
finish
