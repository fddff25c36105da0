#!/usr/bin/env bash
# ci/cfl-build-test.sh - run .clusterfuzzlite/build.sh here, as OSS-Fuzz would run it in its
# image, and check what it leaves: for every fuzz/<target>.c (but standalone_driver.c), an
# executable $OUT/fuzz_<target> with its _seed_corpus.zip, .dict and .options, and the fuzzer
# runs its unzipped seed corpus, then RUNS more inputs with the dictionary and the options'
# [libfuzzer] values, without a finding.
#
# Local values for the OSS-Fuzz variables: CC=clang, CXX=clang++, ASan + UBSan flags as OSS-Fuzz
# gives them, LIB_FUZZING_ENGINE=-fsanitize=fuzzer, OUT and WORK fresh temporary directories
# (removed at exit unless KEEP=1), SRC the repository's parent. Needs clang with its libFuzzer
# runtime, cmake, zip and python3 (to unzip); exits 77 (ctest: skipped) when one is missing.
# Usage: ci/cfl-build-test.sh [RUNS]   (default 200). Exits 0 when every check passed.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-200}
for tool in clang clang++ cmake zip python3 timeout; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "cfl-build-test: SKIP: $tool not found (apt-get install clang cmake zip python3)"
		exit 77
	fi
done
# clang without its libFuzzer runtime (Debian: libclang-rt-14-dev) cannot link a fuzzer
probe=$(mktemp -d)
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; return (int)n & 0; }\n' \
	>"$probe/p.c"
if ! clang -fsanitize=fuzzer "$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
	rm -rf "$probe"
	echo "cfl-build-test: SKIP: clang cannot link -fsanitize=fuzzer (install libclang-rt-14-dev)"
	exit 77
fi
rm -rf "$probe"

tmp=$(mktemp -d /tmp/cfl-build-test.XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/out" "$tmp/work" "$tmp/run"
flags="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,undefined"
flags="$flags -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"

t0=$(date +%s)
echo "cfl-build-test: build.sh into $tmp/out"
if ! (cd "$repo" && env CC=clang CXX=clang++ CFLAGS="$flags" CXXFLAGS="$flags" \
	LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT="$tmp/out" WORK="$tmp/work" \
	SRC="$(dirname "$repo")" bash "$repo/.clusterfuzzlite/build.sh") >"$tmp/build.log" 2>&1; then
	tail -30 "$tmp/build.log"
	echo "cfl-build-test: FAIL: build.sh failed"
	exit 1
fi
tail -1 "$tmp/build.log"
echo "cfl-build-test: build took $(($(date +%s) - t0)) s"

# A UBSan report must fail the run, as it does on OSS-Fuzz (its UBSan builds add
# -fno-sanitize-recover; these CFLAGS do not, so say it at run time). And nothing may land in the
# caller's directory: libFuzzer writes crash-* files into its working directory by default.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
cd "$tmp/run" || exit 1

pass=0
fail=0
check() { # target description command...
	local t=$1 what=$2
	shift 2
	if "$@"; then
		return 0
	fi
	echo "cfl-build-test: FAIL: $t: $what"
	return 1
}
for src in "$repo"/fuzz/*.c; do
	t=$(basename "$src" .c)
	[ "$t" = standalone_driver ] && continue
	bin=$tmp/out/fuzz_$t
	ok=1
	check "$t" "no executable $bin" test -x "$bin" || ok=0
	for f in "${bin}_seed_corpus.zip" "$bin.dict" "$bin.options"; do
		check "$t" "no $f" test -s "$f" || ok=0
	done
	if [ $ok = 1 ]; then
		seeds=$tmp/run/$t
		mkdir -p "$seeds"
		python3 -m zipfile -e "${bin}_seed_corpus.zip" "$seeds" || ok=0
		nzip=$(find "$seeds" -type f | wc -l)
		ncorp=$(find "$repo/fuzz/corpus/$t" -type f | wc -l)
		check "$t" "the zip holds $nzip files, fuzz/corpus/$t $ncorp" test "$nzip" -eq "$ncorp" || ok=0
		# the [libfuzzer] section of the options file, as -key=value flags
		mapfile -t opts < <(awk '/^\[/{s=($0=="[libfuzzer]")} s && /^[[:space:]]*[A-Za-z_]+[[:space:]]*=/{
			gsub(/[[:space:]]/,""); print "-" $0}' "$bin.options")
		if ! timeout -k 10 120 "$bin" -runs=0 "${opts[@]}" -artifact_prefix="$tmp/run/$t-" \
			"$seeds" >"$tmp/run/$t.seeds.log" 2>&1; then
			tail -20 "$tmp/run/$t.seeds.log"
			echo "cfl-build-test: FAIL: $t: the seed corpus does not run clean"
			ok=0
		elif ! timeout -k 10 120 "$bin" -runs="$runs" -seed=1 -dict="$bin.dict" "${opts[@]}" \
			-artifact_prefix="$tmp/run/$t-" "$seeds" >"$tmp/run/$t.runs.log" 2>&1; then
			tail -20 "$tmp/run/$t.runs.log"
			echo "cfl-build-test: FAIL: $t: $runs runs with the dictionary found something"
			ok=0
		fi
	fi
	if [ $ok = 1 ]; then
		echo "cfl-build-test: ok   fuzz_$t ($nzip seeds, dict, options, $runs runs)"
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
done
echo "cfl-build-test: $(($(date +%s) - t0)) s"
echo "cfl-build-test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
