#!/usr/bin/env bash
# inspect.sh - inspect: 0 on healthy segments and on the golden vectors, 1 with the damage named
# for a bit flipped in a payload, a length, a position and the magic (in images and in live
# segments), and for other damage; it writes nothing and takes no role; it cannot be opened (3,
# 4); and it neither crashes nor hangs on random, corrupted, huge or changing segments.
. "$(dirname "$0")/lib.sh"

sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---- a healthy segment with messages waiting --------------------------------------------------
h=$(name h)
expect 0 "create" create "$h"
expect 0 "send" send "$h" one two three
expect 0 "inspect a healthy segment" inspect "$h"
out_has '^segment /shmfcli-[0-9]+-h \(8392704 bytes, owner [0-9]+, mode 0600\)$'
out_has '^  magic +0x464d4853 \(SHMF\)$'
out_has '^  ring_count +2 \(duplex\)$'
out_has '^  A +detached +epoch 2 '
out_has '^  B +never +epoch 0 '
out_has '^ +0 +0 +0x00001000 +MSG +3 +0x[0-9a-f]{8} ok +ok +one$'
out_has '^ +2 +64 +0x00001040 +MSG +5 +0x[0-9a-f]{8} ok +ok +three$'
out_has '^  waiting: 3 message\(s\), 11 payload bytes, in 96 bytes$'
out_has '^verdict: consistent$'
check "nothing on stderr" test ! -s "$TMP/err"
expect 0 "inspect --json" inspect "$h" --json
out_has '^\{"schema":1,"source":\{"name":"/shmfcli-[0-9]+-h"\}'
out_has '"frames":\[\{"seq":0,"expected_seq":0,"position":0,"offset":4096,"type":"MSG"'
out_has '"messages_waiting":3,'
out_has '"problems":\[\],"problems_total":0,"consistent":true\}$'
check "one line of JSON" test "$(wc -l <"$TMP/out")" = 1
if command -v python3 >/dev/null 2>&1; then
	check "the JSON parses" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/out"
fi

cp "$(shmpath h)" "$TMP/good.img" # three frames waiting: the base of the damage tests below

# ---- read-only: no byte written, no role taken, works on a read-only file ---------------------
before=$(sha "$(shmpath h)")
mtime=$(stat -c '%Y %Z' "$(shmpath h)")
chmod 0400 "$(shmpath h)"
expect 0 "inspect a 0400 segment" inspect "$h"
chmod 0600 "$(shmpath h)"
expect 0 "inspect again" inspect "$h" --json
check "inspect wrote nothing" test "$(sha "$(shmpath h)")" = "$before"
check "inspect did not touch the file" test "$(stat -c '%Y' "$(shmpath h)")" = "${mtime% *}"
out_has '"side":"A","state":"detached","state_value":2,"epoch":2,'
bg recv "$h" --follow
wait_role "$h" B
expect 0 "inspect next to a live holder" inspect "$h"
out_has '^  B +attached +epoch 1 +pid [0-9]+ +attached [-0-9T:.]+Z +lock held: alive$'
kill -TERM "$BG"
wait_gone "$BG"

# ---- the golden vectors of PROTOCOL.md 11 ----------------------------------------------------
V="$SRC/tests/vectors"
expect 0 "segment_two.bin" inspect --file "$V/segment_two.bin"
out_has '^segment .*segment_two.bin \(image: 12288 bytes\)$'
out_has ' 0 +0 +0x00001000 +MSG +18 +0x5045040b ok +ok +Hello from Writer!$'
out_has ' 1 +48 +0x00001030 +MSG +11 +0x8b98108d ok +ok +Hello again$'
expect 0 "segment_wrap.bin" inspect --file "$V/segment_wrap.bin"
out_has '^  wpos 584  wseq 9  rpos 584  rseq 9 '
out_has '^  empty$'
expect 0 "segment_skip.bin" inspect --file "$V/segment_skip.bin" --json
out_has '"ring_count":1,'

# ---- a PAD and a skipped tail waiting ---------------------------------------------------------
p=$(name pad)
m44=$(head -c 44 /dev/zero | tr '\0' p)
expect 0 "create a 256-byte ring" create "$p" --capacity 256
expect 0 "three 72-byte frames" send "$p" "$m44" "$m44" "$m44"
expect 0 "consumed" recv "$p" --count 3
expect 0 "a fourth needs a PAD at 216" send "$p" "$m44"
expect 0 "inspect shows the PAD" inspect "$p"
out_has ' 3 +216 +0x000010d8 +PAD +16 +0x[0-9a-f]{8} ok +ok +$'
out_has ' 4 +256 +0x00001000 +MSG +44 '
out_has 'waiting: 1 message\(s\), 44 payload bytes, in 112 bytes \(1 PAD, 0 skipped tail\)'
k=$(name skip)
m56=$(head -c 56 /dev/zero | tr '\0' k)
expect 0 "create" create "$k" --capacity 256
expect 0 "three 80-byte frames" send "$k" "$m56" "$m56" "$m56"
expect 0 "consumed" recv "$k" --count 3
expect 0 "a fourth skips the 16-byte tail" send "$k" "$m56"
expect 0 "inspect shows the skip" inspect "$k"
out_has '\(0 PAD, 1 skipped tail\)'
expect 0 "receive it" recv "$k"

# ---- the four kinds of damage, in images and in live segments -----------------------------------
damage() { # damage TAG OFFSET BIT REGEX-ON-STDOUT REGEX-ON-STDERR
	local tag=$1 off=$2 bit=$3 outre=$4 errre=$5
	cp "$TMP/good.img" "$TMP/$tag.img"
	flip "$TMP/$tag.img" "$off" "$bit"
	expect 1 "$tag flipped in an image" inspect --file "$TMP/$tag.img"
	out_has "$outre" "$tag"
	out_has '^verdict: damaged'
	err_has "$errre" "$tag"
	expect 1 "$tag flipped in an image, JSON" inspect --file "$TMP/$tag.img" --json
	out_has '"consistent":false\}$'
	# the same damage in a live segment
	local n
	n=$(name "live-$tag")
	cp "$TMP/good.img" "$(shmpath "live-$tag")"
	flip "$(shmpath "live-$tag")" "$off" "$bit"
	expect 1 "$tag flipped in a live segment" inspect "$n"
	out_has "$outre" "$tag (live)"
	err_has "^shmframe: inspect: $n: " "$tag (live)"
}
# a payload bit: the first frame's CRC no longer matches
damage payload $((0x1018)) 3 \
	'^  ring 0 at 0x1000: frame CRC mismatch: MSG frame at position 0 \(seq 0, length 3\): CRC 0x[0-9a-f]+ stored, 0x[0-9a-f]+ computed \(SHMF_ECRC\)$' \
	'frame CRC mismatch \(ring 0 at 0x1000: '
out_has '^ +0 +0 +0x00001000 +MSG +3 +0x[0-9a-f]{8} bad +SHMF_ECRC +' "the table row says bad"
out_has '^ +1 +32 +0x00001020 +MSG +3 +0x[0-9a-f]{8} ok +ok +two$' "the frames after it are checked"
# a high bit of a length: out of range
damage length $((0x1007)) 6 \
	'^  ring 0 at 0x1004: frame length out of range: MSG frame at position 0: length 1073741827 does not fit' \
	'frame length out of range \(ring 0 at 0x1004'
out_has '^ +0 +0 +0x00001000 +MSG +1073741827 +0x[0-9a-f]{8} - +SHMF_ELENGTH *$' "no CRC for a bad length"
out_has '96 published bytes from the bad frame on were not examined'
# a low bit of a length: the CRC covers the length
damage length-low $((0x1004)) 0 'SHMF_ECRC' 'frame CRC mismatch'
# a position: wpos no longer a multiple of 8
damage wpos $((0x100)) 0 \
	'^  ring 0 at 0x100: misaligned ring position: wpos 97 is not a multiple of 8 \(SHMF_EALIGN\)$' \
	'misaligned ring position \(ring 0 at 0x100'
# a position: rpos far beyond wpos
damage rpos $((0x187)) 4 'ring position out of range: wpos 96 - rpos 1152921504606846976 is not within' \
	'ring position out of range'
# a position: wpos past the last frame, inside where a header would be
damage wpos-past $((0x100)) 3 \
	'ring position out of range: wpos 104 ends inside the frame header at position 96' \
	'ring position out of range'
# the magic
damage magic 0 1 \
	'^  header at 0x0: bad magic: not an SHMF segment: magic is 0x464d4851, not 0x464d4853' \
	'bad magic: not an SHMF segment \(header at 0x0: '
out_has 'header at 0x78: segment header checksum mismatch'

# ---- other damage, one name each ----------------------------------------------------------------
other() { # other TAG OFFSET BYTE-VALUE CODE
	cp "$TMP/good.img" "$TMP/$1.img"
	printf "\\$(printf '%03o' "$3")" | dd of="$TMP/$1.img" bs=1 seek="$2" conv=notrunc status=none
	expect 1 "$1" inspect --file "$TMP/$1.img" --json
	out_has "\"code\":\"$4\"" "$1"
}
other type $((0x1010)) 3 SHMF_ETYPE
other flags $((0x1012)) 1 SHMF_EFLAGS
other seq $((0x1008)) 9 SHMF_ECRC
other role-state $((0x80)) 7 SHMF_EROLE
other version $((0x04)) 2 SHMF_EVERSION
other header-field $((0x20)) 1 SHMF_EHDRCRC
other init-state $((0x7c)) 0 SHMF_ENOTREADY
other rseq $((0x188)) 2 SHMF_ESEQ
# rseq one ahead of the frame at rpos is what a reader that died between its two stores leaves
# (PROTOCOL.md 7): the next reader repairs it, so it is not damage
cp "$TMP/good.img" "$TMP/rseq1.img"
printf '\001' | dd of="$TMP/rseq1.img" bs=1 seek=$((0x188)) conv=notrunc status=none
expect 0 "rseq one ahead: a reader's takeover state" inspect --file "$TMP/rseq1.img"
out_has 'a reader died between storing rseq and rpos'
# wseq one ahead of the frames: a writer that died between its two stores
cp "$TMP/good.img" "$TMP/wseq1.img"
printf '\004' | dd of="$TMP/wseq1.img" bs=1 seek=$((0x108)) conv=notrunc status=none
expect 0 "wseq one ahead: a writer's takeover state" inspect --file "$TMP/wseq1.img"
out_has 'a writer died between publishing wseq and wpos'

head -c 5000 "$TMP/good.img" >"$TMP/short.img"
expect 1 "a truncated image" inspect --file "$TMP/short.img"
out_has 'SHMF_ESIZE'
cp "$TMP/good.img" "$TMP/long.img"
printf x >>"$TMP/long.img"
expect 1 "an image with a byte more" inspect --file "$TMP/long.img"
out_has 'the file is 8392705 bytes, the geometry gives 8392704'
: >"$TMP/empty.img"
expect 1 "an empty file" inspect --file "$TMP/empty.img"
err_has "not ready"
printf 'hello' >"$TMP/tiny.img"
expect 1 "a 5-byte file" inspect --file "$TMP/tiny.img"
err_has "too small for the 128-byte header"
truncate -s 5G "$TMP/huge.img"
t0=$(date +%s)
expect 1 "a 5 GiB sparse file is not read whole" inspect --file "$TMP/huge.img"
check "quickly" test $(($(date +%s) - t0)) -lt 10
rm -f "$TMP/huge.img"

# ---- cannot inspect: 3, 4 --------------------------------------------------------------------
expect 3 "a missing segment" inspect "$(name missing)"
err_has "^shmframe: inspect: /shmfcli-[0-9]+-missing: no such segment$"
expect 3 "a missing file" inspect --file "$TMP/missing.img"
expect 4 "a character device" inspect --file /dev/null
err_has "not a regular file"
expect 4 "a directory" inspect --file "$TMP"
if [ "$(id -u)" -ne 0 ]; then
	cp "$TMP/good.img" "$TMP/noread.img"
	chmod 0200 "$TMP/noread.img"
	expect 4 "an unreadable file" inspect --file "$TMP/noread.img"
fi

# ---- not ready: 3 while it is being created, 1 once its creator is dead (PROTOCOL.md 9.2) -----
# A creator holds role A's lock from the moment it makes the file until it is ready (9.1 step
# 2), and stores magic and init_state last (step 4). A live holder of side A next to a header
# set back to those stores not yet made is what inspect sees of a segment being created.
nr=$(name notready)
expect 0 "create" create "$nr"
mkfifo "$TMP/nr.in"
"$SHMF" send "$nr" <"$TMP/nr.in" >/dev/null 2>&1 3>&- 4>&- &
nrsend=$!
PIDS+=("$nrsend")
exec 4>"$TMP/nr.in"
wait_role "$nr" A
printf '\000\000\000\000' | dd of="$(shmpath notready)" bs=1 seek=$((0x7c)) conv=notrunc status=none
expect 3 "inspect of a segment between its creator's last two stores" inspect "$nr"
err_has "^shmframe: inspect: $nr: segment not ready"
out_has '^verdict: not ready: still being created$'
expect 3 "the same, JSON" inspect "$nr" --json
out_has '"code":"SHMF_ENOTREADY"'
out_has '"consistent":false\}$'
head -c 128 /dev/zero | dd of="$(shmpath notready)" bs=1 conv=notrunc status=none
expect 3 "inspect of a segment whose header is not written yet" inspect "$nr"
out_has '^verdict: not ready: still being created$'
kill9 "$nrsend"
exec 4>&-
# the same bytes with nobody holding side A, 100 ms after the file last changed: dead creator
sleep 0.2
expect 1 "inspect of a segment whose creator died before it was ready" inspect "$nr"
out_has "its creator died before it was ready"
out_has '^verdict: damaged'
: >"$(shmpath dead)"
sleep 0.2
expect 1 "an empty file that nobody holds, 200 ms old" inspect "$(name dead)"
out_has "its creator died before it was ready"
# an image is a copy: nobody is making it, it is what it is
cp "$(shmpath notready)" "$TMP/notready.img"
expect 1 "an image of a segment not ready" inspect --file "$TMP/notready.img"

# ---- never a crash or a hang: random and corrupted images ---------------------------------------
SEED=${SHMF_TEST_SEED:-$$}
echo "random images: seed $SEED (rerun with SHMF_TEST_SEED=$SEED)"
RANDOM=$SEED
r=$(name rnd)
expect 0 "create a small segment" create "$r" --capacity 256
expect 0 "fill it" send "$r" "$m44" "$(head -c 20 /dev/zero | tr '\0' z)"
cp "$(shmpath rnd)" "$TMP/small.img"
ok=0
for i in $(seq 1 60); do
	cp "$TMP/small.img" "$TMP/rnd.img"
	for j in $(seq 1 $((RANDOM % 6 + 1))); do
		# mostly the control blocks and the first frames, sometimes the header
		case $((RANDOM % 4)) in
		0) off=$((RANDOM % 128)) ;;
		1) off=$((0x80 + RANDOM % 384)) ;;
		*) off=$((0x1000 + RANDOM % 256)) ;;
		esac
		head -c $((RANDOM % 8 + 1)) /dev/urandom |
			dd of="$TMP/rnd.img" bs=1 seek="$off" conv=notrunc status=none
	done
	"$SHMF" inspect --file "$TMP/rnd.img" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	"$SHMF" inspect --file "$TMP/rnd.img" --json >/dev/null 2>>"$TMP/err"
	RC2=$?
	if { [ $RC -eq 0 ] || [ $RC -eq 1 ]; } && [ $RC2 -eq $RC ] && sanitizer_clean "$TMP/err"; then
		ok=$((ok + 1))
	else
		cp "$TMP/rnd.img" "$TMP/../shmfcli-failed-$SEED-$i.img" 2>/dev/null
		fail "corrupted image $i (seed $SEED): exit $RC / $RC2"
	fi
done
check "60 corrupted images: exit 0 or 1, text and JSON agree" test $ok -eq 60
ok=0
for i in $(seq 1 20); do
	head -c $((RANDOM * 4 % 20000)) /dev/urandom >"$TMP/rnd.img"
	"$SHMF" inspect --file "$TMP/rnd.img" >/dev/null 2>"$TMP/err"
	RC=$?
	if [ $RC -eq 1 ] && sanitizer_clean "$TMP/err"; then ok=$((ok + 1)); else fail "random file $i: exit $RC"; fi
done
check "20 random files: exit 1" test $ok -eq 20

# ---- a segment that changes while inspect reads it ---------------------------------------------
c=$(name chg)
expect 0 "create" create "$c" --capacity 4K
scribble() {
	# conv=nocreat: never recreate the name once the test has removed it
	head -c 64 /dev/urandom | dd of="$(shmpath chg)" bs=1 seek=$((0x100 + RANDOM % 512)) \
		conv=notrunc,nocreat status=none 2>/dev/null
	head -c 256 /dev/urandom | dd of="$(shmpath chg)" bs=1 seek=$((0x1000 + RANDOM % 3800)) \
		conv=notrunc,nocreat status=none 2>/dev/null
}
meddle scribble
ok=0
for i in $(seq 1 20); do
	"$SHMF" inspect "$c" >/dev/null 2>"$TMP/err"
	RC=$?
	if { [ $RC -eq 0 ] || [ $RC -eq 1 ]; } && sanitizer_clean "$TMP/err"; then ok=$((ok + 1)); fi
done
meddle_stop
check "20 inspections of a segment being scribbled on: exit 0 or 1" test $ok -eq 20

# honest traffic: a sender and a follower; inspect sees a consistent segment
t=$(name traffic)
expect 0 "create" create "$t" --capacity 4K
bg recv "$t" --follow
wait_role "$t" B
seq 1 20000 | "$SHMF" send "$t" 3>&- 4>&- &
PIDS+=($!)
ok=0
for i in $(seq 1 20); do
	"$SHMF" inspect "$t" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	if [ $RC -eq 0 ] && sanitizer_clean "$TMP/err"; then ok=$((ok + 1)); fi
	if [ $RC -ne 0 ] && ! grep -q "torn copy" "$TMP/out"; then
		fail "inspect under honest traffic found damage"
		cat "$TMP/out" >&2
		break
	fi
done
check "inspect under honest traffic: consistent ($ok of 20 runs)" test $ok -ge 1

finish
