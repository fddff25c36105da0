# lib.sh - the stages of ci/check.sh, and the little machinery around them. Sourced, not run.
# A stage is a function stage_<name> (dashes become underscores) that returns 0 on success and
# may set FIGURE to a short string for the summary table.

JOBS=$(nproc 2>/dev/null || echo 2)
CI_BUILD="$ROOT/build/ci"
ARTIFACTS="$ROOT/ci-artifacts"
mkdir -p "$CI_BUILD" "$ARTIFACTS"

# Debian packages the stages use. deps installs the missing ones.
PACKAGES="build-essential cmake pkg-config check python3 clang libclang-rt-14-dev"

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
	local total=$(($(date +%s) - T0))
	printf '\n==== summary\n%-18s %-6s %7s  %s\n' stage result time figures
	printf '%s\n' "${SUMMARY[@]}"
	printf '%-18s %-6s %6ss\n' total "$([ $FAILED -eq 0 ] && echo pass || echo FAIL)" "$total"
	return $FAILED
}
