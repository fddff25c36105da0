#!/usr/bin/env bash
# enospc.sh - create when /dev/shm is full: status 8. /dev/shm is replaced, in a private mount
# namespace of this test alone, by a 64 KiB tmpfs (unshare -m as root, unshare -rm otherwise);
# where no namespace can be made the test is skipped (77).
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -eq 0 ]; then ns=(unshare -m); else ns=(unshare -rm); fi
if ! "${ns[@]}" sh -c 'mount -t tmpfs -o size=64k tmpfs /dev/shm' 2>/dev/null; then
	echo "skipped: cannot mount a private tmpfs on /dev/shm here (${ns[*]})"
	exit 77
fi
# Inside: an 8 MiB segment does not fit in 64 KiB; an 8 KiB one does.
"${ns[@]}" bash -c '
	mount -t tmpfs -o size=64k tmpfs /dev/shm || exit 99
	"$1" create /big 2>"$2/err1"; echo "big $?"
	test -e /dev/shm/big && echo "big left behind"
	"$1" create /small --capacity 256 --simplex 2>"$2/err2"; echo "small $?"
' bash "$SHMF" "$TMP" >"$TMP/ns.out" 2>&1
cat "$TMP/ns.out"
RC=$(sed -n 's/^big //p' "$TMP/ns.out")
assert_rc 8 "${RC:-99}" "create a segment larger than /dev/shm"
check "the message" grep -q "^shmframe: create: /big: no space left for the segment$" "$TMP/err1"
check "no partial segment left behind" test -z "$(grep "left behind" "$TMP/ns.out")"
RC=$(sed -n 's/^small //p' "$TMP/ns.out")
assert_rc 0 "${RC:-99}" "a segment that fits"
check "no sanitizer report" sanitizer_clean "$TMP/err1"
finish
