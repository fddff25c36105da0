#!/usr/bin/env bash
# successive_deaths.sh - a role that dies twice in a row, at every pair of the write path's kill
# points, and then once more in the reader (ctest: stress_successive_deaths).
#
#   bash tests/stress/successive_deaths.sh PATH/TO/shmframe_kp
#
# shmframe_kp is the command built over the library with its kill points (src/internal.h): with
# SHMF_KILL_POINT=NAME it SIGKILLs itself at that step. For each ordered pair (k1, k2) of the
# writer's points, on a fresh segment: send "zero"; a writer that dies at k1 sending "one"; a
# writer that dies at k2 sending "two"; a writer that sends "three"; then one receive must print
# exactly "zero" and "three": nothing that was not committed, no gap. Before the writer repair
# was made durable (PROTOCOL.md 7), k1 = seq-published then k2 = mid-copy gave SHMF_ESEQ here:
# the second writer reclaimed the dead frame's number in private, tore the frame, died, and the
# third found no frame to tell it (CI's stress_cycles met it once). Then the reader: two
# receivers that die inside the consume step, and a third that must get every message once.
set -u
KP=${1:?usage: successive_deaths.sh SHMFRAME_KP}
NAME="/shmf-deaths-$$"
fails=0
trap '"$KP" unlink "$NAME" >/dev/null 2>&1' EXIT

die_at() { # POINT ARGS...: run the command, which must die by SIGKILL at POINT
	local point=$1 rc
	shift
	{ SHMF_KILL_POINT=$point "$KP" "$@" >/dev/null 2>&1; rc=$?; } 2>/dev/null # no "Killed" line
	[ "$rc" -eq 137 ] && return 0
	echo "FAIL: SHMF_KILL_POINT=$point shmframe $*: exit $rc, not death by SIGKILL"
	fails=$((fails + 1))
}

expect_recv() { # WHAT EXPECTED: one receive (no waiting) must print EXPECTED and exit 0
	local got rc
	got=$("$KP" recv "$NAME" --timeout 0 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] || [ "$got" != "$2" ]; then
		echo "FAIL: $1: recv exit $rc, printed: $(echo "$got" | tr '\n' '|')"
		fails=$((fails + 1))
	fi
}

points="after-reserve mid-copy before-publish seq-published"
for k1 in $points; do
	for k2 in $points; do
		"$KP" unlink "$NAME" >/dev/null 2>&1
		"$KP" create "$NAME" || exit 2
		"$KP" send "$NAME" zero || exit 2
		die_at "$k1" send "$NAME" one
		die_at "$k2" send "$NAME" two
		"$KP" send "$NAME" three || { echo "FAIL: $k1, $k2: the third writer"; fails=$((fails + 1)); }
		expect_recv "writer dies at $k1, then at $k2" "zero
three"
	done
done

"$KP" unlink "$NAME" >/dev/null 2>&1
"$KP" create "$NAME" || exit 2
"$KP" send "$NAME" a b c || exit 2
die_at consume recv "$NAME" --timeout 0
die_at consume recv "$NAME" --timeout 0
expect_recv "reader dies twice in consume" "a
b
c"

echo "successive deaths: 16 writer pairs and a reader pair, $fails failures"
[ "$fails" -eq 0 ]
