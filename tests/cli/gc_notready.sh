#!/usr/bin/env bash
# gc_notready.sh - gc --not-ready: the files a creator killed before its segment was ready leaves
# behind (PROTOCOL.md 9.1: empty; full size with a header all zero; a header complete but for
# magic and init_state) are kept without it, with --verbose saying why, and removed with it once
# neither role lock is held and the file's ctime and mtime are old enough, 100 ms at least. Files
# that only look alike are kept: a size no geometry gives, another program's bytes, a header of
# another size, another user's file; so are files with a live holder, and --dry-run removes
# nothing. Every gc here is limited with --match to this test's names.
. "$(dirname "$0")/lib.sh"

all="/$PREFIX-*"
expect 2 "--not-ready is gc's alone" ls --not-ready
err_has "^shmframe: ls: unknown option --not-ready$"

# zero_at FILE OFFSET COUNT: overwrite COUNT bytes at OFFSET with zeros, in place
zero_at() {
	dd if=/dev/zero of="$1" bs=1 seek="$2" count="$3" conv=notrunc status=none
}

# mk TAG KIND: a file as a creator that died at that step leaves it (12288 bytes: duplex, two
# rings of 4096): empty (before ftruncate), zero (before the header), nomagic (before the
# magic), noinit (before init_state). The last two keep header_crc, which the creator writes
# with the other fields.
mk() {
	local p
	p=$(shmpath "$1")
	if [ "$2" = empty ]; then
		: >"$p"
		return
	fi
	expect 0 "create $1" create "$(name "$1")" --capacity 4096
	case $2 in
	zero) zero_at "$p" 0 128 ;;
	nomagic) zero_at "$p" 0 4 && zero_at "$p" 124 4 ;;
	noinit) zero_at "$p" 124 4 ;;
	esac
}

# ---- what a dying creator leaves, and files that only look like it --------------------------
mk empty empty
mk zero zero
mk nomagic nomagic
# an all-zero header at a size no geometry gives (PROTOCOL.md 2.4)
head -c 5000 /dev/zero >"$(shmpath oddsize)"
mk oddsize2 zero
truncate -s 12289 "$(shmpath oddsize2)"
# another program's bytes at a segment's size
printf 'GIF89a, not a segment' >"$(shmpath foreign)"
truncate -s 8192 "$(shmpath foreign)"
check "foreign is 8192 bytes" test "$(stat -c %s "$(shmpath foreign)")" = 8192
# magic and init_state 0, but the rest is not a header: one byte of created_ns is not zero
head -c 8192 /dev/zero >"$(shmpath junkhdr)"
printf 'x' | dd of="$(shmpath junkhdr)" bs=1 seek=48 conv=notrunc status=none
# a header complete but for magic, of a 12288-byte segment, in a file of another segment's size
mk othersize nomagic
truncate -s 2101248 "$(shmpath othersize)"
# magic 0 in a ready header: no creator writes init_state before the magic
mk nomagicready nomagic
printf 'REDY' | dd of="$(shmpath nomagicready)" bs=1 seek=124 conv=notrunc status=none
# a header complete but for magic whose CRC is wrong (one bit of created_ns): torn, or foreign
mk badcrc nomagic
flip "$(shmpath badcrc)" 48 0
sleep 0.2 # older than the 100 ms that a creator may still be at work

expect 0 "gc without --not-ready, verbose" gc --min-age 0 --match "$all" --verbose
for k in empty:"empty file" zero:"header all zero" nomagic:"header without magic"; do
	out_has "^kept $(name "${k%%:*}"): never ready \(${k#*:}\), its creator is gone: --not-ready removes it$"
done
out_has "^kept $(name oddsize): not a shmframe segment: its header is all zero, but no segment is 5000 bytes$"
out_has "^kept $(name oddsize2): not a shmframe segment: its header is all zero, but no segment is 12289 bytes$"
out_has "^kept $(name foreign): not a shmframe segment$"
out_has "^kept $(name nomagicready): not a shmframe segment$"
out_has "^kept $(name junkhdr): not a shmframe segment: magic and init_state are 0, but the rest is not the SHMF/1 header of this file$"
out_has "^kept $(name othersize): not a shmframe segment: magic and init_state are 0, but the rest"
out_has "^kept $(name badcrc): not a shmframe segment: magic and init_state are 0, but the rest"
out_lacks "^removed" "nothing removed without --not-ready"
expect 0 "gc without --not-ready says nothing" gc --min-age 0 --match "$all"
out_is ""
for t in empty zero nomagic oddsize oddsize2 foreign nomagicready junkhdr othersize badcrc; do
	check "$t is still there" test -e "$(shmpath "$t")"
done

# ---- the age: the later of ctime and mtime, --min-age, 100 ms at least -----------------------
expect 0 "gc --not-ready with the default min-age" gc --not-ready --match "$(name zero)" -v
out_is "kept $(name zero): not ready (header all zero): younger than 60 s"
expect 0 "without --not-ready, the default min-age" gc --match "$(name zero)" -v
out_is "kept $(name zero): never ready (header all zero), its creator is gone: --not-ready removes it once it is 60 s old"
# the mtime can be set back, the ctime cannot: it is the one that counts here
touch -d '2 hours ago' "$(shmpath empty)"
sleep 0.2
expect 0 "an old mtime with a young ctime" gc --not-ready --min-age 3600 --match "$(name empty)" -v
out_is "kept $(name empty): not ready (empty file): younger than 3600 s"
future=$(name future)
mk future empty
touch -d 'tomorrow' "$(shmpath future)"
sleep 0.2
expect 0 "an mtime in the future" gc --not-ready --min-age 0 --match "$future" -v
out_is "kept $future: not ready (empty file): changed less than 100 ms ago, or in the future: its creator may be at work"
check "kept" test -e "$(shmpath future)"
# A file younger than 100 ms is kept even with --min-age 0: its creator may be between
# O_EXCL and taking role A's lock. gc within 100 ms of the file's creation is the only proof
# of that; a try that took longer (a loaded machine) proves nothing and is tried again.
fresh=$(name fresh)
proved=0
for try in 1 2 3 4 5 6 7 8; do
	rm -f "$(shmpath fresh)"
	t0=$(date +%s%N)
	: >"$(shmpath fresh)"
	"$SHMF" gc --not-ready --min-age 0 --match "$fresh" -v </dev/null >"$TMP/out" 2>"$TMP/err" 3>&- 4>&-
	RC=$?
	t1=$(date +%s%N)
	if [ $(((t1 - t0) / 1000000)) -lt 100 ]; then
		proved=1
		break
	fi
done
if [ "$proved" = 1 ]; then
	judge 0 "gc --not-ready on a file made just now"
	out_is "kept $fresh: not ready (empty file): changed less than 100 ms ago, or in the future: its creator may be at work"
	check "the fresh file is kept" test -e "$(shmpath fresh)"
else
	echo "note: no gc ran within 100 ms of making a file: the 100 ms floor is not tested"
fi

# ---- live holders: side A (a creator at work) and side B --------------------------------------
helda=$(name helda)
expect 0 "create" create "$helda" --capacity 4096
rm -f "$TMP/hold"
mkfifo "$TMP/hold"
sleep 600 >"$TMP/hold" 3>&- 4>&- &
PIDS+=("$!")
"$SHMF" send "$helda" <"$TMP/hold" >/dev/null 2>&1 3>&- 4>&- &
senda=$!
PIDS+=("$senda")
wait_role "$helda" A
heldb=$(name heldb)
expect 0 "create" create "$heldb" --capacity 4096
bg recv "$heldb" --follow
recvb=$BG
wait_role "$heldb" B
# the holders keep their locks while their headers become a dying creator's
zero_at "$(shmpath helda)" 0 128
zero_at "$(shmpath heldb)" 0 4
zero_at "$(shmpath heldb)" 124 4
sleep 0.2
expect 0 "gc --not-ready with live holders" gc --not-ready --min-age 0 --match "/$PREFIX-held*" -v
out_has "^kept $helda: not ready \(header all zero\): side A is held by a live process \(or unknown\)$"
out_has "^kept $heldb: not ready \(header without magic\): side B is held by a live process \(or unknown\)$"
check "helda is kept" test -e "$(shmpath helda)"
check "heldb is kept" test -e "$(shmpath heldb)"
kill9 "$senda"
kill9 "$recvb"

# ---- another user's file -------------------------------------------------------------------
if [ "$(id -u)" -eq 0 ]; then
	theirs=$(name theirs)
	mk theirs empty
	chown 65534 "$(shmpath theirs)"
	sleep 0.2
	expect 0 "gc --not-ready and another user's file" gc --not-ready --min-age 0 --match "$theirs" -v
	out_is "kept $theirs: owned by uid 65534, not 0"
	check "kept" test -e "$(shmpath theirs)"
	rm -f "$(shmpath theirs)"
else
	echo "note: not root: the other-owner case is not tested"
fi

# ---- --dry-run, then the removal ------------------------------------------------------------
rm -f "$(shmpath future)" "$(shmpath fresh)"
expect 0 "gc --not-ready --dry-run" gc --not-ready --dry-run --min-age 0 --match "$all"
out_is "would remove $(name empty)
would remove $(name helda)
would remove $(name heldb)
would remove $(name nomagic)
would remove $(name zero)"
for t in empty zero nomagic helda heldb; do
	check "dry run: $t is still there" test -e "$(shmpath "$t")"
done
expect 0 "gc --not-ready" gc --not-ready --min-age 0 --match "$all" -v
for t in empty zero nomagic helda heldb; do
	out_has "^removed $(name $t)$"
	check "$t is gone" test ! -e "$(shmpath "$t")"
done
for t in oddsize oddsize2 foreign nomagicready junkhdr othersize badcrc; do
	check "$t is still there" test -e "$(shmpath "$t")"
done
expect 0 "gc --not-ready again removes nothing" gc --not-ready --min-age 0 --match "$all"
out_is ""

# ---- a header complete but for init_state is an SHMF/1 header: gc removed it before ---------
# --not-ready, and still does, by the rules for segments (the header's created_ns counts)
mk noinit noinit
sleep 0.2
expect 0 "gc --min-age 3600" gc --min-age 3600 --match "$(name noinit)" -v
out_is "kept $(name noinit): younger than 3600 s"
expect 0 "gc --min-age 0 without --not-ready" gc --min-age 0 --match "$(name noinit)"
out_is "removed $(name noinit)"

# ---- a creator killed by SIGKILL while it allocates 2 GiB -----------------------------------
avail_kb=$(df -Pk /dev/shm | awk 'NR == 2 {print $4}')
if [ "${avail_kb:-0}" -gt $((6 * 1024 * 1024)) ]; then
	big=$(name big)
	"$SHMF" create "$big" --capacity 1G </dev/null >/dev/null 2>&1 3>&- 4>&- &
	creator=$!
	PIDS+=("$creator")
	# once the file has its size, the creator is in posix_fallocate or just past it
	end=$((SECONDS + 20))
	while [ ! -s "$(shmpath big)" ] && [ $SECONDS -lt $end ]; do :; done
	kill9 "$creator"
	check "the killed creator left its file" test -s "$(shmpath big)"
	sleep 0.2
	expect 0 "gc without --not-ready" gc --min-age 0 --match "$big" -v
	if grep -q "^removed $big\$" "$TMP/out"; then
		echo "note: the creator finished before it was killed: nothing to prove"
	else
		out_has "^kept $big: never ready \((header all zero|header without magic)\), its creator is gone: --not-ready removes it$"
		expect 0 "gc --not-ready" gc --not-ready --min-age 0 --match "$big"
		out_is "removed $big"
		check "gone" test ! -e "$(shmpath big)"
	fi
else
	echo "note: less than 6 GiB free in /dev/shm: a creator killed in posix_fallocate is not tested"
fi
finish
