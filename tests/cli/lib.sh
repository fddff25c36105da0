# lib.sh - helpers for the shmframe command tests (ctest -L cli). Sourced by each test:
#
#   bash tests/cli/TEST.sh PATH/TO/shmframe SOURCE_DIR
#
# Every segment a test makes is named /shmfcli-<pid>-..., and the EXIT trap removes all of them,
# kills every background process the test started (by pid), and removes the scratch directory,
# whether the test passed, failed or was stopped by ctest's timeout.
#
# expect CODE WHAT ARGS...        run shmframe ARGS (stdin /dev/null), assert its exit status
# expect_in FILE CODE WHAT ARGS...    the same with FILE on standard input
# assert_rc CODE ACTUAL WHAT      assert a status collected some other way (background jobs)
# out_has / err_has / out_lacks REGEX   assert on the last run's stdout / stderr
# meddle FUNCTION... / meddle_stop       call FUNCTION over and over in the background
# The status of every run is checked against the sanitizers too: a report on stderr fails it.
# tests/cli/exitcodes.sh checks that every status in the man page's table is asserted by one of
# these, with a literal number, somewhere in tests/cli.

set -u
SHMF=${1:?usage: TEST.sh SHMFRAME SOURCE_DIR}
SRC=${2:?usage: TEST.sh SHMFRAME SOURCE_DIR}
case "$SHMF" in /*) ;; *) SHMF="$PWD/$SHMF" ;; esac
PREFIX="shmfcli-$$"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/shmfcli.XXXXXX")
PIDS=()
CHECKS=0
FAILS=0
TEST_NAME=$(basename "$0" .sh)
# A sanitizer's own exit status must not pass for one of ours (1 is "damage found").
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=87:print_stacktrace=1"

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	# names and files of this test only: the prefix carries our pid
	rm -rf /dev/shm/"$PREFIX"-* 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

# name TAG -> /shmfcli-<pid>-TAG
name() { printf '/%s-%s' "$PREFIX" "$1"; }
# shmpath TAG -> /dev/shm/shmfcli-<pid>-TAG
shmpath() { printf '/dev/shm/%s-%s' "$PREFIX" "$1"; }

pass() { CHECKS=$((CHECKS + 1)); }
fail() {
	CHECKS=$((CHECKS + 1))
	FAILS=$((FAILS + 1))
	echo "FAIL: $*" >&2
	if [ -s "$TMP/out" ]; then echo "  stdout:" >&2; head -c 2000 "$TMP/out" | sed 's/^/    /' >&2; fi
	if [ -s "$TMP/err" ]; then echo "  stderr:" >&2; head -c 2000 "$TMP/err" | sed 's/^/    /' >&2; fi
}

sanitizer_clean() { ! grep -qE 'Sanitizer|runtime error:' "$1" 2>/dev/null; }

# run_status CODE WHAT: judge the run whose status is in RC
judge() {
	local want=$1 what=$2
	if ! sanitizer_clean "$TMP/err"; then
		fail "$what: sanitizer report"
	elif [ "$RC" -ne "$want" ]; then
		fail "$what: exit $RC, want $want"
	else
		pass
	fi
}

expect() {
	local want=$1 what=$2
	shift 2
	"$SHMF" "$@" </dev/null >"$TMP/out" 2>"$TMP/err" 3>&- 4>&-
	RC=$?
	judge "$want" "$what"
}

expect_in() {
	local input=$1 want=$2 what=$3
	shift 3
	"$SHMF" "$@" <"$input" >"$TMP/out" 2>"$TMP/err" 3>&- 4>&-
	RC=$?
	judge "$want" "$what"
}

assert_rc() {
	local want=$1 got=$2 what=$3
	if [ "$got" -eq "$want" ]; then pass; else fail "$what: exit $got, want $want"; fi
}

out_has() { if grep -qE -- "$1" "$TMP/out"; then pass; else fail "stdout lacks /$1/ (${2:-})"; fi; }
out_lacks() { if grep -qE -- "$1" "$TMP/out"; then fail "stdout has /$1/ (${2:-})"; else pass; fi; }
err_has() { if grep -qE -- "$1" "$TMP/err"; then pass; else fail "stderr lacks /$1/ (${2:-})"; fi; }
out_is() {
	if [ "$(cat "$TMP/out")" = "$1" ]; then pass; else fail "stdout is not '$1' (${2:-})"; fi
}
check() { # check WHAT COMMAND...: a shell condition
	local what=$1
	shift
	if "$@"; then pass; else fail "$what"; fi
}

# bg ARGS...: run shmframe in the background; its pid is in BG, its output in $TMP/bg.<pid>.*
bg() {
	# 3>&- 4>&-: the tests hold FIFOs open on those; a child must not keep them open
	"$SHMF" "$@" </dev/null >"$TMP/bg.out" 2>"$TMP/bg.err" 3>&- 4>&- &
	BG=$!
	PIDS+=("$BG")
}

# wait_role NAME SIDE: wait (up to 10 s) until a live process holds SIDE (A or B) of NAME.
wait_role() {
	local i
	for i in $(seq 1 200); do
		if "$SHMF" inspect "$1" --json 2>/dev/null 3>&- 4>&- |
			grep -qE "\"side\":\"$2\",[^}]*\"lock\":\"held\""; then
			return 0
		fi
		sleep 0.05
	done
	fail "side $2 of $1 never became held"
	return 1
}

# meddle FUNCTION...: call FUNCTION over and over in a background process (for at most 30 s)
# until meddle_stop; the tests that change a segment under a reader use it.
meddle() {
	touch "$TMP/meddling"
	(
		exec 3>&- 4>&-
		end=$((SECONDS + 30))
		while [ -e "$TMP/meddling" ] && [ $SECONDS -lt $end ]; do "$@"; done
	) &
	MEDDLER=$!
	PIDS+=("$MEDDLER")
}
meddle_stop() {
	rm -f "$TMP/meddling"
	wait "$MEDDLER"
}

# kill9 PID: kill a background process and reap it, quietly
kill9() {
	{
		kill -9 "$1"
		wait "$1"
	} 2>/dev/null
}

# wait_gone PID: wait for a background process; its status is in RC.
wait_gone() {
	wait "$1"
	RC=$?
}

# flip FILE OFFSET BIT: flip one bit of one byte, in place.
flip() {
	local f=$1 off=$2 bit=$3 b v
	b=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
	v=$((b ^ (1 << bit)))
	printf "\\$(printf '%03o' "$v")" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}

# le32 N: 4 bytes, little-endian
le32() {
	local n=$1
	printf "\\$(printf '%03o' $((n & 255)))\\$(printf '%03o' $(((n >> 8) & 255)))"
	printf "\\$(printf '%03o' $(((n >> 16) & 255)))\\$(printf '%03o' $(((n >> 24) & 255)))"
}

finish() {
	echo "$TEST_NAME: $CHECKS checks, $FAILS failed"
	[ "$FAILS" -eq 0 ]
	exit $?
}
