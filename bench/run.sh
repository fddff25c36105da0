#!/usr/bin/env bash
# run.sh - one command for the whole benchmark: build the shmframe command Release in
# build/bench, run `shmframe bench` (table on stdout) and write the CSV, JSON, table and SVG plots
# into an output directory (default build/bench-out/). Extra arguments go to `shmframe bench`.
#   bench/run.sh                        the full run (5 reps; about 2 minutes)
#   bench/run.sh --quick                a quick look
#   OUT=docs/perf bench/run.sh          where the files go
# Needs cmake, a C compiler, and gnuplot (Debian: gnuplot-nox) for the SVGs.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${OUT:-$ROOT/build/bench-out}
BUILD=${BUILD:-$ROOT/build/bench}
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSHMF_BUILD_TESTS=OFF \
	-DSHMF_BUILD_EXAMPLES=OFF >"$BUILD.configure.log" 2>&1 || { cat "$BUILD.configure.log"; exit 2; }
cmake --build "$BUILD" -j "$(nproc 2>/dev/null || echo 2)" --target shmframe_cli >"$BUILD.build.log" 2>&1 ||
	{ cat "$BUILD.build.log"; exit 2; }
mkdir -p "$OUT"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
rc=0
SHMF_BENCH_PLOT_GP="$ROOT/bench/plot.gp" "$BUILD/tools/shmframe" bench --plot "$OUT" "$@" || rc=$?
echo "files: $(cd "$OUT" && ls | tr '\n' ' ')" >&2
exit $rc
