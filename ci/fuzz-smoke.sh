#!/usr/bin/env bash
# ci/fuzz-smoke.sh [SECONDS]  (default 30)
#
# The fuzzing stage of CI: every fuzz target for SECONDS with libFuzzer, and the segment target
# for SECONDS with AFL++, through fuzz/run.sh (which builds into build/fuzz-<engine>/ and leaves
# logs and reproducers in ci-artifacts/fuzz/<engine>/<target>/). Then the ClusterFuzzLite build:
# ci/cfl-build-test.sh runs .clusterfuzzlite/build.sh with OSS-Fuzz's variables and every fuzzer
# it leaves on its seed zip (row "cfl-build", engine "oss-fuzz"; skipped without zip).
# Installs nothing: it needs clang (with its libFuzzer runtime), cmake, and afl-clang-fast +
# afl-fuzz (Debian's afl++). Prints a table (target, engine, execs, exec/s, crashes) and exits
# non-zero when any run found a crash, or could not build or run. Bounded: each run is stopped at
# SECONDS + 15 minutes (build included) whatever happens. Runs from any directory.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-30}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -le 0 ]; then
	echo "usage: $0 [SECONDS]   (a positive number of seconds per run, default 30)" >&2
	exit 2
fi

missing=()
for tool in clang cmake afl-clang-fast afl-fuzz timeout; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "fuzz-smoke: missing tool(s): ${missing[*]}" >&2
	echo "fuzz-smoke: it needs clang, cmake and AFL++'s afl-clang-fast/afl-fuzz (apt-get install clang cmake afl++)" >&2
	exit 2
fi

# every fuzz/<target>.c but the driver is a target
targets=$(for f in "$repo/fuzz"/*.c; do
	b=$(basename "$f" .c)
	[ "$b" = standalone_driver ] || echo "$b"
done)
runs=()
for t in $targets; do
	runs+=("$t libfuzzer")
done
runs+=("segment afl")

results=()
failed=0
for r in "${runs[@]}"; do
	# shellcheck disable=SC2086 # "target engine" splits in two
	set -- $r
	t=$1
	e=$2
	echo "== fuzz-smoke: $t with $e for ${seconds}s"
	out=$(timeout -k 30 $((seconds + 900)) "$repo/fuzz/run.sh" "$t" "$seconds" "$e" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -v '^RESULT '
	line=$(printf '%s\n' "$out" | grep '^RESULT ' | tail -1)
	if [ -z "$line" ]; then
		line="RESULT target=$t engine=$e execs=0 execs_per_sec=0 crashes=0 status=error"
	fi
	status=$(sed -n 's/.* status=\([a-z]*\).*/\1/p' <<<"$line")
	if [ "$rc" -ne 0 ] || [ "$status" != ok ]; then
		failed=$((failed + 1))
		[ "$status" = ok ] && line=${line/status=ok/status=error}
	fi
	results+=("$line")
done

echo "== fuzz-smoke: the ClusterFuzzLite build (ci/cfl-build-test.sh)"
timeout -k 30 900 bash "$repo/ci/cfl-build-test.sh"
rc=$?
nruns=$((${#runs[@]} + 1))
case $rc in
0) status=ok ;;
77) status=skipped nruns=$((nruns - 1)) ;;
*) status=error failed=$((failed + 1)) ;;
esac
results+=("RESULT target=cfl-build engine=oss-fuzz execs=- execs_per_sec=- crashes=0 status=$status")

echo
printf '%-16s %-10s %12s %10s %8s  %s\n' target engine execs exec/s crashes status
for line in "${results[@]}"; do
	get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
	printf '%-16s %-10s %12s %10s %8s  %s\n' "$(get target)" "$(get engine)" "$(get execs)" \
		"$(get execs_per_sec)" "$(get crashes)" "$(get status)"
done
echo "fuzz-smoke: $((nruns - failed)) passed, $failed failed"
if [ "$failed" -ne 0 ]; then
	echo "fuzz-smoke: reproducers and logs are in $repo/ci-artifacts/fuzz/" >&2
	exit 1
fi
exit 0
