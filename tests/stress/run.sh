#!/usr/bin/env bash
# run.sh - one stress test (ctest -L stress): run.sh SHMFRAME REGEX... -- ARGS...
# Runs `SHMFRAME stress ARGS --json`, and passes when it exits 0, no sanitizer reported anything,
# its JSON summary matches every REGEX, and no name of the run is left in /dev/shm.
set -u
bin=${1:?usage: run.sh SHMFRAME REGEX... -- ARGS...}
shift
regexes=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	regexes+=("$1")
	shift
done
[ "${1:-}" = "--" ] && shift
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=87:print_stacktrace=1"
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$bin" stress "$@" --json >"$out" 2>"$err" &
pid=$!
wait "$pid"
rc=$?
fail=0
cat "$out"
if [ -s "$err" ]; then
	echo "--- stderr"
	head -c 4000 "$err"
fi
if [ $rc -ne 0 ]; then
	echo "FAIL: exit $rc"
	fail=1
fi
if grep -qE 'Sanitizer|runtime error:' "$err"; then
	echo "FAIL: sanitizer report"
	fail=1
fi
for re in "${regexes[@]}"; do
	if ! grep -qE -- "$re" "$out"; then
		echo "FAIL: the summary lacks /$re/"
		fail=1
	fi
done
# the run names its segments /shmf-stress-<its pid>-N
left=$(find /dev/shm -maxdepth 1 -name "shmf-stress-$pid-*" 2>/dev/null | wc -l)
if [ "$left" -ne 0 ]; then
	echo "FAIL: $left names of the run are left in /dev/shm"
	rm -f /dev/shm/shmf-stress-"$pid"-*
	fail=1
fi
exit $fail
