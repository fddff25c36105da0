#!/bin/bash -eu
# .clusterfuzzlite/build.sh - build every shmframe fuzz target the OSS-Fuzz way.
#
# Honours the OSS-Fuzz build environment: CC, CXX, CFLAGS, CXXFLAGS (sanitizers, coverage and
# -fsanitize=fuzzer-no-link come in through them), LIB_FUZZING_ENGINE (what links the engine's
# main, e.g. -fsanitize=fuzzer), OUT (where the fuzzers go), WORK (scratch), SRC (the sources).
# The repository is the current directory when it holds fuzz/CMakeLists.txt (the Dockerfile's
# WORKDIR, or a local checkout), else $SRC/shmframe.
#
# For every fuzz/<target>.c (but standalone_driver.c) it leaves in $OUT:
#   fuzz_<target>                  the fuzzer (CMake: SHMF_FUZZ_ENGINE=oss-fuzz)
#   fuzz_<target>_seed_corpus.zip  fuzz/corpus/<target>/
#   fuzz_<target>.dict             fuzz/dict/<target>.dict
#   fuzz_<target>.options          fuzz/<target>.options ([libfuzzer] max_len, timeout)
# ci/cfl-build-test.sh runs this script with local values and checks what it leaves.

if [ -f "$PWD/fuzz/CMakeLists.txt" ]; then
	repo=$PWD
else
	repo=$SRC/shmframe
fi
build=$WORK/shmframe-build
jobs=$(nproc 2>/dev/null || echo 2)

# The engine's flags come from the environment; a fresh configure each time, so that a CFLAGS
# changed between builds (address, undefined, coverage) cannot be mixed with stale objects.
rm -rf "$build"
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE= -DSHMF_BUILD_FUZZERS=ON \
	-DSHMF_FUZZ_ENGINE=oss-fuzz -DSHMF_FUZZ_LINK="$LIB_FUZZING_ENGINE" \
	-DSHMF_BUILD_TESTS=OFF -DSHMF_BUILD_EXAMPLES=OFF -DSHMF_BUILD_TOOLS=OFF
cmake --build "$build" -j"$jobs"

n=0
for src in "$repo"/fuzz/*.c; do
	t=$(basename "$src" .c)
	[ "$t" = standalone_driver ] && continue
	name=fuzz_$t
	cp "$build/fuzz/$name" "$OUT/$name"
	rm -f "$OUT/${name}_seed_corpus.zip"
	(cd "$repo/fuzz/corpus/$t" && zip -q -X -r "$OUT/${name}_seed_corpus.zip" .)
	cp "$repo/fuzz/dict/$t.dict" "$OUT/$name.dict"
	cp "$repo/fuzz/$t.options" "$OUT/$name.options"
	n=$((n + 1))
done
echo "build.sh: $n fuzz targets in $OUT"
