# lib.sh - the stages of ci/check.sh, and the little machinery around them. Sourced, not run.
# A stage is a function stage_<name> (dashes become underscores) that returns 0 on success and
# may set FIGURE to a short string for the summary table.

JOBS=$(nproc 2>/dev/null || echo 2)
CI_BUILD="$ROOT/build/ci"
ARTIFACTS="$ROOT/ci-artifacts"
mkdir -p "$CI_BUILD" "$ARTIFACTS"

# Debian packages the stages use. deps installs the missing ones.
PACKAGES="build-essential cmake pkg-config check python3 clang libclang-rt-14-dev clang-tidy
clang-tools clang-format cppcheck valgrind gcovr spin afl++ util-linux gnuplot-nox zip libboost-dev
strace scdoc"

SUMMARY=()
FAILED=0
T0=$(date +%s)

log() { printf '\n==== %s\n' "$*"; }

deps_present() {
	local p missing=0
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing=1
	done
	return $missing
}

stage_deps() {
	local p missing=()
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "installing: ${missing[*]}"
		if [ "$(id -u)" -ne 0 ]; then
			echo "not root: install these first: apt-get install ${missing[*]}" >&2
			return 1
		fi
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq || return 1
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || return 1
	fi
	gcc --version | head -1
	clang --version | head -1
	cmake --version | head -1
	echo "check $(pkg-config --modversion check)"
	python3 --version
	FIGURE="${#missing[@]} installed"
}

# configure_build DIR [cmake args...]: configure and build in $CI_BUILD/DIR.
configure_build() {
	local dir="$CI_BUILD/$1"
	shift
	cmake -S "$ROOT" -B "$dir" -DSHMF_WERROR=ON "$@" >"$dir.configure.log" 2>&1 ||
		{ cat "$dir.configure.log"; return 1; }
	cmake --build "$dir" -j "$JOBS" 2>&1 | grep -vE '^\[ *[0-9]+%\]' || true
	cmake --build "$dir" -j "$JOBS" >/dev/null 2>&1
}

# run_ctest DIR [ctest args...]: run tests, keep the log, set FIGURE to "N tests".
run_ctest() {
	local dir="$CI_BUILD/$1" log rc
	shift
	log="$ARTIFACTS/ctest-$(basename "$dir").log"
	(cd "$dir" && ctest --output-on-failure -j "$JOBS" "$@") 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	FIGURE="$(grep -Eo 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1 |
		awk '{print $NF " tests, " $3 " failed"}')"
	return "$rc"
}

stage_gcc_release() {
	configure_build gcc-release -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_C_FLAGS="-O2 -D_FORTIFY_SOURCE=3 -fstack-protector-strong" || return 1
	run_ctest gcc-release -LE long
}

stage_clang_asan_ubsan() {
	configure_build asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DSHMF_SANITIZE=address,undefined || return 1
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		run_ctest asan -LE long
}

stage_clang_tsan() {
	configure_build tsan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DSHMF_SANITIZE=thread || return 1
	# setarch -R: TSan's fixed shadow layout needs ASLR off where mmap entropy is high.
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
		setarch "$(uname -m)" -R bash -c "$(declare -f run_ctest); CI_BUILD='$CI_BUILD' ARTIFACTS='$ARTIFACTS' JOBS=$JOBS run_ctest tsan -R '^(threads|wake|channel|multiproc)\$'"
	local rc=$?
	FIGURE="$(grep -Eo 'tests passed, [0-9]+ tests failed out of [0-9]+' "$ARTIFACTS/ctest-tsan.log" | tail -1 | awk '{print $NF " tests, " $3 " failed"}')"
	grep -q "ThreadSanitizer" "$ARTIFACTS/ctest-tsan.log" && { echo "TSan reports found"; rc=1; }
	return $rc
}

# memcheck over the unit tests, in-process (CK_FORK=no) so that leaks are seen.
stage_valgrind() {
	configure_build valgrind -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug || return 1
	local t rc=0 n=0 log="$ARTIFACTS/valgrind.log"
	: >"$log"
	for t in crc32c frame name segment ring channel wake liveness vectors os; do
		n=$((n + 1))
		echo "--- valgrind test_$t"
		(cd "$CI_BUILD/valgrind/tests" && CK_FORK=no CK_DEFAULT_TIMEOUT=600 \
			valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
			--errors-for-leak-kinds=definite,indirect --child-silent-after-fork=yes \
			--track-fds=no -q "./test_$t") >>"$log" 2>&1 || { rc=1; echo "test_$t: FAILED"; }
	done
	grep -E "ERROR SUMMARY|definitely lost|indirectly lost|Checks:" "$log" | sort | uniq -c
	FIGURE="$n suites, $(grep -c 'ERROR SUMMARY: [1-9]' "$log") with errors"
	return $rc
}

# instruction counts of one send + one recv (bench/probe, valgrind --tool=callgrind) against
# bench/callgrind-baseline.txt: fails on a regression of more than 10% (ci/callgrind.sh)
stage_callgrind() {
	bash "$ROOT/ci/callgrind.sh" 2>&1 | tee "$ARTIFACTS/callgrind.log"
	local rc=${PIPESTATUS[0]}
	FIGURE="$(grep -E '^callgrind: (pass|FAIL)' "$ARTIFACTS/callgrind.log" | tail -1 | sed 's/^callgrind: //')"
	return "$rc"
}

# gcc --coverage over everything that runs in CI; gate on src/ (ratchet up, never down).
COV_LINE=97
COV_BRANCH=93
stage_coverage() {
	configure_build coverage -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug -DSHMF_COVERAGE=ON || return 1
	find "$CI_BUILD/coverage" -name '*.gcda' -delete
	run_ctest coverage -LE long || return 1
	mkdir -p "$ROOT/coverage/html"
	(cd "$ROOT" && gcovr --config coverage/gcovr.cfg "$CI_BUILD/coverage" \
		--html-details coverage/html/index.html --json-summary coverage/summary.json \
		--fail-under-line "$COV_LINE" --fail-under-branch "$COV_BRANCH" --print-summary) |
		tee "$ARTIFACTS/coverage.txt"
	local rc=${PIPESTATUS[0]}
	FIGURE="$(awk '/^lines:/{l=$2} /^branches:/{b=$2} END{print "lines " l ", branches " b}' "$ARTIFACTS/coverage.txt")"
	return "$rc"
}

stage_static() {
	configure_build static -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DSHMF_BUILD_TESTS=OFF || return 1
	local rc=0 cc tidy sb
	echo "--- cppcheck"
	cppcheck --project="$CI_BUILD/static/compile_commands.json" --file-filter="$ROOT/src/*" \
		--file-filter="$ROOT/tools/*" --file-filter="$ROOT/bench/*" \
		--enable=warning,style,performance,portability --inline-suppr --error-exitcode=1 \
		--suppress=missingIncludeSystem --std=c11 -q --template=gcc 2>&1 | tee "$ARTIFACTS/cppcheck.log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
	cc=$(grep -c ': \(warning\|error\|style\|performance\|portability\):' "$ARTIFACTS/cppcheck.log")
	echo "--- clang-tidy"
	clang-tidy -p "$CI_BUILD/static" --quiet "$ROOT"/src/*.c "$ROOT"/tools/*.c "$ROOT"/bench/*.c 2>/dev/null | tee "$ARTIFACTS/clang-tidy.log"
	tidy=$(grep -c ': \(warning\|error\):' "$ARTIFACTS/clang-tidy.log")
	[ "$tidy" -eq 0 ] || rc=1
	echo "--- scan-build"
	rm -rf "$CI_BUILD/scan" "$ARTIFACTS/scan-build"
	scan-build -o "$ARTIFACTS/scan-build" --status-bugs cmake -S "$ROOT" -B "$CI_BUILD/scan" \
		-DCMAKE_BUILD_TYPE=Debug -DSHMF_BUILD_TESTS=OFF >/dev/null 2>&1
	scan-build -o "$ARTIFACTS/scan-build" --status-bugs cmake --build "$CI_BUILD/scan" -j "$JOBS" \
		2>&1 | tail -3 | tee "$ARTIFACTS/scan-build.log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
	sb=$(grep -Eo '[0-9]+ bugs? found' "$ARTIFACTS/scan-build.log" | grep -Eo '^[0-9]+' || echo 0)
	FIGURE="cppcheck $cc, clang-tidy $tidy, scan-build $sb findings"
	return $rc
}

format_files() {
	if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$ROOT" ls-files '*.c' '*.h' '*.cpp'
	else # a copy without .git (ci/teeth.sh)
		(cd "$ROOT" && find include src tests fuzz examples tools bench \
			-name '*.[ch]' -o -name '*.cpp' 2>/dev/null)
	fi | grep -v 'crc32c_table.h'
}

stage_format() {
	local n
	n=$(format_files | wc -l)
	(cd "$ROOT" && format_files | xargs clang-format --dry-run -Werror)
	local rc=$?
	# The CRC's constant tables are generated (and checked against their definition) by a script:
	# the committed file must be what it prints.
	local tables="CRC tables as generated"
	if ! python3 "$ROOT/tools/gen_crc32c_table.py" | cmp -s - "$ROOT/src/crc32c_table.h"; then
		echo "src/crc32c_table.h differs from what tools/gen_crc32c_table.py prints"
		tables="CRC tables NOT as generated"
		rc=1
	fi
	FIGURE="$n files, $tables"
	return $rc
}

# every fuzz target for FUZZ_SECONDS with libFuzzer, segment with AFL++ (ci/fuzz-smoke.sh)
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
stage_fuzz_smoke() {
	bash "$ROOT/ci/fuzz-smoke.sh" "$FUZZ_SECONDS" 2>&1 | tee "$ARTIFACTS/fuzz-smoke.log"
	local rc=${PIPESTATUS[0]}
	FIGURE="$(grep -E '^fuzz-smoke: [0-9]+ passed' "$ARTIFACTS/fuzz-smoke.log" | tail -1 | sed 's/^fuzz-smoke: //')"
	FIGURE="$FIGURE; $(awk '$2=="libfuzzer"||$2=="afl"{printf "%s/%s %s/s  ", $1, substr($2,1,3), $4}' "$ARTIFACTS/fuzz-smoke.log" | head -c 300)"
	return "$rc"
}

stage_model() {
	bash "$ROOT/tests/model/check.sh" 2>&1 | tee "$ARTIFACTS/model.log"
	local rc=${PIPESTATUS[0]}
	FIGURE="$(grep -Ei 'mutants? caught|summary' "$ARTIFACTS/model.log" | tail -1)"
	return "$rc"
}

stage_install() {
	local prefix rc
	prefix=$(mktemp -d)
	configure_build install -DCMAKE_BUILD_TYPE=Release -DSHMF_BUILD_TESTS=OFF \
		-DCMAKE_INSTALL_PREFIX="$prefix" || return 1
	cmake --install "$CI_BUILD/install" >/dev/null || return 1
	echo "--- find_package(shmframe)"
	rm -rf "$CI_BUILD/consumer"
	cmake -S "$ROOT/tests/install" -B "$CI_BUILD/consumer" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null &&
		cmake --build "$CI_BUILD/consumer" >/dev/null &&
		LD_LIBRARY_PATH="$prefix/lib" "$CI_BUILD/consumer/consumer" &&
		"$CI_BUILD/consumer/consumer_static"
	rc=$?
	echo "--- pkg-config shmframe"
	if [ $rc -eq 0 ]; then
		# shellcheck disable=SC2046
		PKG_CONFIG_PATH="$prefix/lib/pkgconfig" cc -o "$CI_BUILD/consumer/pc" \
			"$ROOT/tests/install/consumer.c" $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs shmframe) &&
			LD_LIBRARY_PATH="$prefix/lib" "$CI_BUILD/consumer/pc"
		rc=$?
	fi
	rm -rf "$prefix"
	FIGURE="cmake + pkg-config consumers"
	return $rc
}

run_stage() {
	local s=$1 fn t rc
	fn="stage_${s//-/_}"
	FIGURE=""
	log "stage $s"
	t=$(date +%s)
	"$fn"
	rc=$?
	t=$(($(date +%s) - t))
	if [ $rc -eq 0 ]; then
		SUMMARY+=("$(printf '%-18s %-6s %6ss  %s' "$s" pass "$t" "$FIGURE")")
	else
		SUMMARY+=("$(printf '%-18s %-6s %6ss  %s' "$s" FAIL "$t" "$FIGURE")")
		FAILED=1
	fi
}

print_summary() {
	local total=$(($(date +%s) - T0)) npass nfail
	printf '\n==== summary\n%-18s %-6s %7s  %s\n' stage result time figures
	printf '%s\n' "${SUMMARY[@]}"
	printf '%-18s %-6s %6ss\n' total "$([ $FAILED -eq 0 ] && echo pass || echo FAIL)" "$total"
	npass=$(printf '%s\n' "${SUMMARY[@]}" | awk '$2=="pass"' | wc -l)
	nfail=$(printf '%s\n' "${SUMMARY[@]}" | awk '$2=="FAIL"' | wc -l)
	echo "stages: $npass passed, $nfail failed"
	return $FAILED
}
