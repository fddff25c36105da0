#!/usr/bin/env bash
# callgrind.sh - the instruction count of the fast path, against a committed baseline (issue #8).
#
#   ci/callgrind.sh            measure, print, and fail (exit 1) when a figure is more than 10%
#                              above bench/callgrind-baseline.txt
#   ci/callgrind.sh --update   measure and write the baseline (commit it with the change that
#                              explains the new figures)
#
# Deterministic: bench/probe/callgrind_probe.c sends and receives N messages in one thread on one
# channel (timeout 0; for wait-64 timeout -1, which never waits there either: no system call),
# valgrind --tool=callgrind counts the instructions of its loop only
# (--toggle-collect=probe_loop), and each figure is the difference between two runs, N2 and N1
# messages, divided by N2 - N1: one send plus one receive, with the fixed costs of the first
# messages cancelled out. The probe is built Release (-O3), standalone
# (cmake -S bench), in build/ci/callgrind. Needs valgrind, cmake and a C compiler.
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BASELINE="$ROOT/bench/callgrind-baseline.txt"
BUILD="$ROOT/build/ci/callgrind"
LIMIT_PCT=10
update=0
case "${1:-}" in
--update) update=1 ;;
"") ;;
*) echo "usage: ci/callgrind.sh [--update]" >&2; exit 2 ;;
esac
command -v valgrind >/dev/null || { echo "callgrind: valgrind is not installed" >&2; exit 2; }
t0=$(date +%s)

mkdir -p "$BUILD"
cmake -S "$ROOT/bench" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$BUILD.configure.log" 2>&1 ||
	{ cat "$BUILD.configure.log"; exit 2; }
cmake --build "$BUILD" -j "$(nproc 2>/dev/null || echo 2)" >"$BUILD.build.log" 2>&1 ||
	{ cat "$BUILD.build.log"; exit 2; }
probe="$BUILD/shmf_callgrind_probe"

# name mode size N1 N2
CASES="copy-8 copy 8 2000 6000
copy-64 copy 64 2000 6000
wait-64 wait 64 2000 6000
copy-4096 copy 4096 1000 2000
copy-65536 copy 65536 200 400
zero-64 zero 64 2000 6000
zero-4096 zero 4096 1000 2000"

count() { # mode size n -> instructions in probe_loop
	local out
	out=$(mktemp)
	valgrind --tool=callgrind --toggle-collect=probe_loop --callgrind-out-file="$out" \
		"$probe" "$1" "$2" "$3" 2>&1 | grep -q 'Collected' || { rm -f "$out"; return 1; }
	awk '/^summary:/ {print $2}' "$out"
	rm -f "$out"
}

declare -A base
if [ -f "$BASELINE" ]; then
	while read -r name ir _; do
		case "$name" in '#'* | '') continue ;; esac
		base[$name]=$ir
	done <"$BASELINE"
fi

fail=0
results=()
printf '%-12s %12s %12s %8s\n' case baseline now change
while read -r name mode size n1 n2; do
	a=$(count "$mode" "$size" "$n1") && b=$(count "$mode" "$size" "$n2") ||
		{ echo "callgrind: the probe failed ($name)" >&2; exit 2; }
	per=$(((b - a) / (n2 - n1)))
	results+=("$name $per")
	old=${base[$name]:-}
	if [ -z "$old" ]; then
		printf '%-12s %12s %12d %8s\n' "$name" - "$per" new
		[ $update -eq 1 ] || fail=1
		continue
	fi
	pct=$(awk -v n="$per" -v o="$old" 'BEGIN { printf "%+.1f%%", (n - o) * 100 / o }')
	over=$(awk -v n="$per" -v o="$old" -v l="$LIMIT_PCT" 'BEGIN { print (n > o * (1 + l / 100)) }')
	flag=""
	if [ "$over" = 1 ]; then flag="  REGRESSION (> +$LIMIT_PCT%)"; fail=1; fi
	printf '%-12s %12d %12d %8s%s\n' "$name" "$old" "$per" "$pct" "$flag"
done <<<"$CASES"

if [ $update -eq 1 ]; then
	{
		echo "# ci/callgrind.sh baseline: instructions for one send + one receive (callgrind, Release)"
		echo "# case instructions  (written by ci/callgrind.sh --update on $(date -u +%Y-%m-%d), $(gcc --version | head -1))"
		printf '%s\n' "${results[@]}"
	} >"$BASELINE"
	echo "callgrind: baseline written to bench/callgrind-baseline.txt"
	fail=0
fi
echo "callgrind: $( [ $fail -eq 0 ] && echo pass || echo FAIL ), copy-64 $(printf '%s\n' "${results[@]}" | awk '$1 == "copy-64" {print $2}') instructions per message, $(($(date +%s) - t0)) s"
exit $fail
