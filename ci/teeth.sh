#!/usr/bin/env bash
# teeth.sh - prove that the CI gates bite. For each gate, copy the tree, plant one defect that the
# gate exists to catch, run that one stage (or test) on the copy, and expect it to FAIL. Not part
# of ci/check.sh (it takes several minutes); run it after changing a gate.
#
#   ci/teeth.sh              every gate
#   ci/teeth.sh asan tsan    some of them (asan tsan valgrind callgrind coverage static format model
#                            no-wake)
#
# Exit 0 when every planted defect was caught.
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
ALL="asan tsan valgrind callgrind coverage static format model no-wake"
[ $# -gt 0 ] || set -- $ALL
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
logs="$ROOT/ci-artifacts/teeth"
mkdir -p "$logs"
results=()
failed=0

# replace_once FILE OLD NEW: the first OLD in FILE becomes NEW; fails when FILE has no OLD.
replace_once() {
	python3 - "$@" <<'PY'
import sys
p, old, new = sys.argv[1:4]
s = open(p).read()
if old not in s:
    sys.exit("teeth: not found in " + p + ": " + old)
open(p, "w").write(s.replace(old, new, 1))
PY
}

# plant GATE: apply the defect for GATE to the copy in $work/tree; echo what was planted.
plant() {
	local t="$work/tree" old
	case "$1" in
	asan) # use after free: read the channel after freeing it
		old=$'\tdestroy(ch); /* closing the descriptor drops the role lock */\n\treturn 0;'
		replace_once "$t/src/channel.c" "$old" \
			"${old%return 0;}return ch->fd > 1000000 ? 1 : 0; /* PLANTED: use after free */" ||
			return 1
		echo "use after free in shmf_close()" ;;
	tsan) # the race TSan once found: both threads of a channel write peer_seen
		old=$'\tcase SHMF_ROLE_ATTACHED:\n'
		replace_once "$t/src/channel.c" "$old" \
			"$old"$'\t\tch->peer_seen = 1; /* PLANTED: written by send and recv threads */\n' ||
			return 1
		echo "data race on peer_seen between the send and receive threads" ;;
	valgrind) # a leak: shmf_close no longer frees the handle
		sed -i 's/^\tfree(ch);$/\t\/* PLANTED: leak *\//' "$t/src/channel.c"
		grep -q PLANTED "$t/src/channel.c" || return 1
		echo "leak of the channel handle in shmf_close()" ;;
	callgrind) # a slower send: 200 more instructions per message
		old=$'\thdr_words h = msg_words(r, len);\n\tuint32_t crc;\n'
		replace_once "$t/src/ring.c" "$old" \
			"$old"$'\tfor (volatile int k = 0; k < 40; k++) { } /* PLANTED: slower */\n' ||
			return 1
		echo "a busy loop in shmf_ring_write()" ;;
	coverage) # a deleted test: the system-call fault suite
		sed -i '/^  os:unit+security$/d' "$t/tests/CMakeLists.txt"
		sed -i "/target_link_options(test_os/,/--wrap=open)/d" "$t/tests/CMakeLists.txt"
		rm "$t/tests/test_os.c"
		echo "tests/test_os.c deleted" ;;
	static) # an out-of-bounds write cppcheck sees
		old=$'\tif (strcmp(name, "/.") == 0'
		replace_once "$t/src/name.c" "$old" $'\t{\n\t\tchar tmp[4];\n\t\tfor (size_t k = 0; k <= sizeof tmp; k++) /* PLANTED: one too far */\n\t\t\ttmp[k] = name[0];\n\t\tif (tmp[0] == 0)\n\t\t\treturn SHMF_ENAME;\n\t}\n'"$old" ||
			return 1
		echo "out-of-bounds write in shmf_name_check()" ;;
	format) # one badly formatted line
		sed -i 's/^int shmf_name_check(const char \*name)$/int   shmf_name_check( const char *name )/' "$t/src/name.c"
		echo "a misformatted function header in src/name.c" ;;
	model) # the protocol model with the publish moved before the write
		echo "SHMF_MODEL_PLANT=MUTANT_PUBLISH_EARLY" ;;
	no-wake) # nobody wakes a sleeping peer: only latency (the 100 ms slice ends each sleep),
		# which tests/test_wake.c catches without a clock
		old=$'void shmf_ring_wake(unsigned char *word)\n{\n'
		replace_once "$t/src/ring.c" "$old" "$old"$'\treturn; /* PLANTED: no futex wake */\n' ||
			return 1
		echo "no futex wake in shmf_ring_wake()" ;;
	esac
}

for gate in "$@"; do
	rm -rf "$work/tree"
	mkdir -p "$work/tree"
	git ls-files -z | xargs -0 cp --parents -t "$work/tree"
	what=$(plant "$gate") || { echo "cannot plant for $gate"; failed=1; continue; }
	stage=$gate
	case "$gate" in asan) stage=clang-asan-ubsan ;; tsan) stage=clang-tsan ;; esac
	run="ci/check.sh $stage"
	[ "$gate" = no-wake ] && run="ctest -R ^wake\$ (test_wake alone)"
	echo "==== $gate: planted $what; running $run (expect FAIL)"
	t0=$(date +%s)
	if [ "$gate" = model ]; then
		(cd "$work/tree" && SHMF_MODEL_PLANT=MUTANT_PUBLISH_EARLY bash tests/model/check.sh) >"$work/$gate.log" 2>&1
	elif [ "$gate" = no-wake ]; then
		(cd "$work/tree" && cmake -S . -B build/teeth -DSHMF_WERROR=ON -DSHMF_BUILD_TOOLS=OFF \
			-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
			cmake --build build/teeth -j "$(nproc)" --target test_wake >/dev/null &&
			ctest --test-dir build/teeth -R '^wake$' --output-on-failure) >"$work/$gate.log" 2>&1
	else
		(cd "$work/tree" && ci/check.sh "$stage") >"$work/$gate.log" 2>&1
	fi
	rc=$?
	t=$(($(date +%s) - t0))
	# Caught only if it failed for the reason the defect should cause, not for another.
	case "$gate" in
	asan) why="ERROR: AddressSanitizer: heap-use-after-free" ;;
	tsan) why="WARNING: ThreadSanitizer: data race" ;;
	valgrind) why="definitely lost" ;;
	callgrind) why="callgrind: FAIL" ;;
	coverage) why="failed minimum (line|branch) coverage" ;;
	static) why="arrayIndexOutOfBounds" ;;
	format) why="clang-format-violations" ;;
	model) why="real FAIL \(planted" ;;
	no-wake) why="lost wake" ;;
	esac
	if [ $rc -ne 0 ] && ! grep -Eq "$why" "$work/$gate.log"; then
		results+=("$(printf '%-9s WRONG    %4ss  failed, but not with: %s' "$gate" "$t" "$why")")
		failed=1
		tail -20 "$work/$gate.log"
	elif [ $rc -ne 0 ]; then
		results+=("$(printf '%-9s caught   %4ss  %s' "$gate" "$t" "$what")")
	else
		results+=("$(printf '%-9s MISSED   %4ss  %s' "$gate" "$t" "$what")")
		failed=1
		tail -20 "$work/$gate.log"
	fi
	cp "$work/$gate.log" "$logs/$gate.log"
	grep -E "ERROR: AddressSanitizer|WARNING: ThreadSanitizer|definitely lost|failed minimum|error: .*PLANTED|bufferAccessOutOfBounds|outOfBounds|array-bounds|clang-format-violations|violated|errors: [1-9]|lost wake" "$work/$gate.log" | head -3
done
printf '\n==== teeth\n'
printf '%s\n' "${results[@]}"
exit $failed
