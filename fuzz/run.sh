#!/usr/bin/env bash
# fuzz/run.sh TARGET SECONDS [libfuzzer|afl]
#
# Build fuzz_TARGET for the engine (into build/fuzz-ENGINE/ under the repository, configured
# once, rebuilt incrementally) and fuzz it for SECONDS with its seed corpus (fuzz/corpus/TARGET),
# dictionary (fuzz/dict/TARGET.dict) and options (fuzz/TARGET.options, [libfuzzer] section).
# Everything it finds goes to ci-artifacts/fuzz/ENGINE/TARGET/:
#   libfuzzer  crash-*, leak-*, timeout-*, oom-* reproducers; corpus/ (new inputs); fuzz.log
#   afl        out/default/{crashes,hangs,queue}; out.prev/ (the run before); fuzz.log
# Prints execs and exec/s, and a last line "RESULT target=... engine=... execs=...
# execs_per_sec=... crashes=... status=ok|crash|error" for ci/fuzz-smoke.sh. Exits 0 when the
# run ended without a finding, 1 when it found a crash (or hang, or leak), 2 on a usage or build
# error. Runs from any directory; needs clang (libfuzzer) or afl-clang-fast + afl-fuzz (afl).
# FUZZ_EXTRA_FLAGS (environment), when set, is added to every compile and link of the build
# (CMake SHMF_FUZZ_EXTRA_FLAGS), which then lives in build/fuzz-ENGINE-extra/: e.g.
# FUZZ_EXTRA_FLAGS=-fno-sanitize=pointer-overflow keeps a campaign going past a reported finding.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
# every fuzz/<target>.c but the driver is a target
targets=$(for f in "$here"/*.c; do
	b=$(basename "$f" .c)
	[ "$b" = standalone_driver ] || echo "$b"
done)

usage() {
	echo "usage: $0 TARGET SECONDS [libfuzzer|afl]" >&2
	# shellcheck disable=SC2086 # one line, the names split
	echo "targets:" $targets >&2
	exit 2
}

if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
target=$1
seconds=$2
engine=${3:-libfuzzer}
echo "$targets" | grep -qx -- "$target" || { echo "unknown target '$target'" >&2; usage; }
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -le 0 ]; then
	echo "SECONDS must be a positive integer" >&2
	usage
fi

result() { # status execs execs_per_sec crashes
	echo "RESULT target=$target engine=$engine execs=$2 execs_per_sec=$3 crashes=$4 status=$1"
}
die() {
	echo "run.sh: $*" >&2
	result error 0 0 0
	exit 2
}

case "$engine" in
libfuzzer) cc=clang ;;
afl)
	cc=afl-clang-fast
	command -v afl-fuzz >/dev/null || die "afl-fuzz not found: install Debian's afl++"
	;;
*) usage ;;
esac
command -v "$cc" >/dev/null || die "$cc not found (libfuzzer needs clang, afl needs Debian's afl++)"
command -v cmake >/dev/null || die "cmake not found"

bdir=$repo/build/fuzz-$engine
extra=()
if [ -n "${FUZZ_EXTRA_FLAGS:-}" ]; then
	bdir=$repo/build/fuzz-$engine-extra
	extra=(-DSHMF_FUZZ_EXTRA_FLAGS="$FUZZ_EXTRA_FLAGS")
	echo "run.sh: FUZZ_EXTRA_FLAGS=$FUZZ_EXTRA_FLAGS (build in $bdir)"
fi
art=$repo/ci-artifacts/fuzz/$engine/$target
mkdir -p "$art" || die "cannot create $art"
log=$art/fuzz.log

# ---- build ------------------------------------------------------------------------------------
# One build at a time per build directory: two campaigns started together must not both compile
# the same objects (flock, from util-linux, is released when this shell exits or closes fd 9).
mkdir -p "$bdir" || die "cannot create $bdir"
if command -v flock >/dev/null; then
	exec 9>"$bdir/.run-sh.lock"
	flock 9
fi
if [ ! -f "$bdir/CMakeCache.txt" ]; then
	cmake -S "$repo" -B "$bdir" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DSHMF_BUILD_FUZZERS=ON -DSHMF_FUZZ_ENGINE="$engine" -DSHMF_BUILD_TESTS=OFF \
		-DSHMF_BUILD_EXAMPLES=OFF "${extra[@]}" >"$art/build.log" 2>&1 ||
		{ tail -20 "$art/build.log" >&2; rm -f "$bdir/CMakeCache.txt"; die "configure failed (see $art/build.log)"; }
else
	# regenerate, so that a target added since the last configure exists
	cmake "${extra[@]}" "$bdir" >"$art/build.log" 2>&1 || { tail -20 "$art/build.log" >&2; die "configure failed (see $art/build.log)"; }
fi
cmake --build "$bdir" --target "fuzz_$target" -j"$(nproc 2>/dev/null || echo 2)" >>"$art/build.log" 2>&1 ||
	{ tail -30 "$art/build.log" >&2; die "build failed (see $art/build.log)"; }
bin=$bdir/fuzz/fuzz_$target
[ -x "$bin" ] || die "no $bin after the build"
exec 9>&- # the build is done: the next campaign may build while this one runs

seeds=$here/corpus/$target
dict=$here/dict/$target.dict
opts=()
if [ -f "$here/$target.options" ]; then
	# key = value lines of the [libfuzzer] section become -key=value
	while IFS= read -r line; do
		opts+=("$line")
	done < <(awk '/^\[/{s=($0=="[libfuzzer]")} s && /^[[:space:]]*[A-Za-z_]+[[:space:]]*=/{
		gsub(/[[:space:]]/,""); print "-" $0}' "$here/$target.options")
fi
stamp=$art/.started
: >"$stamp"
limit=$((seconds + 120)) # hard stop: engine start-up, corpus loading, final stats

# ---- run --------------------------------------------------------------------------------------
if [ "$engine" = libfuzzer ]; then
	mkdir -p "$art/corpus"
	dictarg=()
	[ -f "$dict" ] && dictarg=(-dict="$dict")
	echo "fuzz_$target [libfuzzer] for ${seconds}s: $bin ${opts[*]} ${dictarg[*]}"
	timeout -k 10 "$limit" "$bin" -max_total_time="$seconds" -artifact_prefix="$art/" \
		-print_final_stats=1 "${dictarg[@]}" "${opts[@]}" "$art/corpus" "$seeds" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	mapfile -t found < <(find "$art" -maxdepth 1 -type f -newer "$stamp" \
		\( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
else
	out=$art/out
	if [ -d "$out" ]; then
		rm -rf "$art/out.prev"
		mv "$out" "$art/out.prev"
	fi
	dictarg=()
	[ -f "$dict" ] && dictarg=(-x "$dict")
	echo "fuzz_$target [afl] for ${seconds}s: afl-fuzz -i $seeds -o $out ${dictarg[*]} -- $bin"
	# afl-fuzz insists on these ASan settings; leaks are libFuzzer's job here.
	env AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 \
		ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=1 \
		UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:symbolize=0 \
		timeout -k 10 "$limit" afl-fuzz -i "$seeds" -o "$out" -V "$seconds" -t 2000 -m none \
		"${dictarg[@]}" -- "$bin" >"$log" 2>&1
	rc=$?
	stats=$out/default/fuzzer_stats
	execs=$(sed -n 's/^execs_done *: *//p' "$stats" 2>/dev/null | tail -1)
	eps=$(sed -n 's/^execs_per_sec *: *//p' "$stats" 2>/dev/null | tail -1)
	mapfile -t found < <(find "$out/default/crashes" "$out/default/hangs" -type f \
		! -name README.txt 2>/dev/null | sort)
fi
rm -f "$stamp"
execs=${execs:-0}
eps=${eps:-0}
n=${#found[@]}
echo "fuzz_$target [$engine]: $execs execs, $eps exec/s, $n finding(s); log $log"
if [ "$n" -gt 0 ]; then
	printf '  reproducer: %s\n' "${found[@]}"
	echo "  replay: $bin FILE (libFuzzer) or the standalone build"
	result crash "$execs" "$eps" "$n"
	exit 1
fi
if [ "$rc" -ne 0 ]; then
	tail -25 "$log" >&2
	die "$engine exited with $rc and left no reproducer (see $log)"
fi
result ok "$execs" "$eps" 0
exit 0
