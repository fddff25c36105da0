#!/usr/bin/env bash
# check.sh - model-checking gate for the SHMF/1 ring (see README.md in this directory).
#
# Verifies ring.pml exhaustively with SPIN in every configuration below and prints a table.
# Exits 0 only if every "real" configuration verifies with zero errors (the default one reaching
# every statement), every mutant is caught with the expected kind of violation, and every reach,
# control and rule row gives its expected result. SHMF_MODEL_PLANT=MUTANT_X plants a defect
# into the real rows. Needs spin and gcc only; builds in a temporary directory that it removes;
# runs JOBS verifications at a time (default 2).
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
model="$here/ring.pml"
jobs=${JOBS:-2}

for tool in spin gcc; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "check.sh: $tool not found (Debian: apt-get install -y spin gcc)" >&2
		exit 2
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/shmf-model.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT INT TERM

# name | kind | expect | spin -D flags | pan flags | gcc -O level (default -O1: the small runs
# spend more time compiling pan.c than searching) | "all": the run must also leave no statement
# of ring.pml unreached (only where every kind of kill is on: without reader kills, the reader's
# restart and the writer's slice cannot happen)
#   kind:   real     the protocol as shipped, in a geometry that obeys PROTOCOL.md 2.4
#                    (2 * MAXSZ <= CAP); SHMF_MODEL_PLANT adds its defect to these rows
#           reach    a REACH=k probe on the real model: event k must be reachable
#           control  the real reader against a broken writer or reader (fail-closed)
#           mutant   one ordering or check removed: must be caught
#           rule     the geometry rule of 2.4: broken, the writer stalls; kept, it verifies
#           info     documents something; printed, never gates
#   expect: pass; reached (the REACH probe's own assertion); or the violation spin must report:
#           assert (an assertion) or deadlock (an invalid end state: a process blocked for ever)
# The defaults of ring.pml are the real geometry: CAP=6, frames of 2..3 units, N=4, one kill
# of each side. W2 is two writer kills in a row (and no reader kill, to keep the state space
# small): the second writer can tear the frame the first one left, which the writer repair's
# store of wseq is for (PROTOCOL.md 7); REPAIR_PRIVATE is the repair without that store. R2 is
# two reader kills in a row: the reader repair needs no store (PROTOCOL.md 7).
# The rows are started in this order, JOBS at a time: the two long real rows first.
FULL="-DCAP=3 -DMINSZ=3 -DMAXSZ=3 -DN=5"          # every frame fills a whole lap: breaks 2.4
FC="-DFAILCLOSED -DMUTANT_PUBLISH_EARLY -DWKILLS=0" # a writer that publishes before it writes
FC2="-DFAILCLOSED -DMUTANT_CONSUME_EARLY -DRKILLS=0" # a reader that frees a frame before copying it
W2="-DWKILLS=2 -DRKILLS=0"                          # two writer deaths in a row
R2="-DWKILLS=0 -DRKILLS=2"                          # two reader deaths in a row
configs=(
	"ring|real|pass|||-O2|all"
	"ring-wkills2|real|pass|$W2||-O2"
	"ring-rkills2|real|pass|$R2||-O2"
	"reach-pad|reach|reached|-DREACH=1||-O0"
	"reach-writer-skip|reach|reached|-DREACH=2||-O0"
	"reach-reader-skip|reach|reached|-DREACH=3||-O0"
	"reach-wait-tail+size|reach|reached|-DREACH=4||-O0"
	"reach-writer-repair|reach|reached|-DREACH=5||-O0"
	"reach-reader-repair|reach|reached|-DREACH=6||-O0"
	"reach-torn-frame|reach|reached|$W2 -DN=1 -DREACH=7||-O0"
	"failclosed-publish|control|pass|$FC|-E"
	"failclosed-consume|control|pass|$FC2|-E"
	"PUBLISH_EARLY|mutant|assert|-DMUTANT_PUBLISH_EARLY|"
	"NO_WAITER_FLAG|mutant|deadlock|-DMUTANT_NO_WAITER_FLAG|"
	"NO_RECHECK|mutant|deadlock|-DMUTANT_NO_RECHECK|"
	"NO_FENCE_SLEEPER|mutant|deadlock|-DMUTANT_NO_FENCE_SLEEPER|"
	"WAKE_BEFORE_PUBLISH|mutant|deadlock|-DMUTANT_WAKE_BEFORE_PUBLISH|"
	"NO_SEQ_CHECK|mutant|assert|$FC -DMUTANT_NO_SEQ_CHECK|-E"
	"NO_CRC_CHECK|mutant|assert|$FC2 -DMUTANT_NO_CRC_CHECK|-E"
	"NO_REPAIR|mutant|assert|-DMUTANT_NO_REPAIR|"
	"REPAIR_NO_SEQ|mutant|assert|-DMUTANT_REPAIR_NO_SEQ|"
	"REPAIR_PRIVATE|mutant|assert|$W2 -DMUTANT_REPAIR_PRIVATE|"
	"NO_READER_REPAIR|mutant|assert|-DMUTANT_NO_READER_REPAIR|"
	"CONSUME_EARLY|mutant|assert|-DMUTANT_CONSUME_EARLY|"
	"RSEQ_AFTER_RPOS|mutant|assert|-DMUTANT_RSEQ_AFTER_RPOS|"
	"rule-broken-cap6-max4|rule|deadlock|-DMAXSZ=4|"
	"rule-broken-cap4-max3|rule|deadlock|-DCAP=4|"
	"rule-kept-cap4-max2|rule|pass|-DCAP=4 -DMAXSZ=2|"
	"no-slice-after-kill|info|deadlock|-DNO_SLICE|"
	"fullring|info|pass|$FULL|"
	"REPAIR_NO_STAMP-fullring|info|assert|$FULL -DMUTANT_REPAIR_NO_STAMP|"
	"NO_STAMPS_IN_REPAIRS-n3|info|pass|-DN=3 -DMUTANT_REPAIR_NO_STAMP -DMUTANT_READER_REPAIR_NO_STAMP|"
)

# SHMF_MODEL_PLANT=MUTANT_X plants that defect into the "real" rows, which must then fail
# (ci/teeth.sh uses it to show that this gate bites).
plant=${SHMF_MODEL_PLANT:-}
if [ -n "$plant" ]; then
	if ! [[ "$plant" =~ ^MUTANT_[A-Z0-9_]+$ ]] || ! grep -q "defined($plant)\|def $plant\b" "$model"; then
		echo "check.sh: SHMF_MODEL_PLANT=$plant is not a mutant switch of ring.pml" >&2
		exit 2
	fi
	echo "check.sh: SHMF_MODEL_PLANT=$plant: planted in the real rows, which must now fail"
fi

# One verification in its own directory; writes "result|states|seconds|detail" to $dir/row.
# result: pass, reached, assert, deadlock, other, incomplete, error; and "unreached" for a
# clean run (with $5 = 1) that left a statement of ring.pml unreached.
verify() {
	local dir=$1 dflags=$2 pflags=$3 opt=${4:--O1} allreached=${5:-0}
	mkdir -p "$dir" && cd "$dir" || return
	cp "$model" ring.pml
	# shellcheck disable=SC2086
	if ! spin -a $dflags ring.pml >spin.log 2>&1; then
		echo "error|-|-|spin -a failed: $(head -c 200 spin.log | tr '\n|' '  ')" >row
		return
	fi
	if ! gcc "$opt" -DSAFETY -DCOLLAPSE -o pan pan.c >gcc.log 2>&1; then
		echo "error|-|-|gcc failed: $(head -c 200 gcc.log | tr '\n|' '  ')" >row
		return
	fi
	# shellcheck disable=SC2086
	./pan -m50000 $pflags >pan.log 2>&1
	local errors states secs detail result unreached
	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.log | head -1)
	states=$(sed -n 's/^ *\([0-9][0-9]*\) states, stored.*/\1/p' pan.log | head -1)
	secs=$(sed -n 's/^pan: elapsed time \([0-9.e+-]*\) seconds.*/\1/p' pan.log | head -1)
	detail=$(grep -m1 -E '^pan:[0-9]+: ' pan.log | sed 's/^pan:[0-9]*: //; s/ (at depth [0-9]*)//' | tr '|' '/')
	if [ -z "$errors" ]; then
		result=error
		detail="pan did not finish: $(tail -c 200 pan.log | tr '\n|' '  ')"
	elif grep -q -e 'max search depth too small' -e 'Search not completed' pan.log &&
	     [ "$errors" = 0 ]; then
		result=incomplete
		detail="search not completed"
	elif [ "$errors" = 0 ]; then
		result=pass
		# statements (outside d_steps) that no run reached: the geometry lost a case
		unreached=$(grep -E '^[[:space:]]+ring\.pml:[0-9]+, state' pan.log)
		if [ "$allreached" = 1 ] && [ -n "$unreached" ]; then
			result=unreached
			detail="$(printf '%s\n' "$unreached" | wc -l) statement(s) never reached, e.g.$(printf '%s\n' "$unreached" | head -1 | tr '\t|' ' /')"
		fi
	elif grep -q -E '^pan:[0-9]+: assertion violated \(\(([0-9]+)!=\1\)' pan.log; then
		result=reached                  # the REACH=k probe fired
		detail="the probe fired: $(grep -m1 -o -E 'at depth [0-9]+' pan.log)"
	elif grep -q -E '^pan:[0-9]+: invalid end state' pan.log; then
		result=deadlock
	elif grep -q -E '^pan:[0-9]+: assertion violated' pan.log; then
		result=assert
	else
		result=other
	fi
	echo "$result|${states:--}|${secs:--}|${detail}" >row
}

start=$(date +%s.%N)
i=0
for c in "${configs[@]}"; do
	IFS='|' read -r name kind expect dflags pflags opt reach <<<"$c"
	allreached=0
	[ "$reach" = all ] && allreached=1  # must reach every statement of ring.pml
	if [ "$kind" = real ] && [ -n "$plant" ]; then
		dflags="$dflags -D$plant"
	fi
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n 2>/dev/null || sleep 0.1
	done
	(verify "$work/$i" "$dflags" "$pflags" "$opt" "$allreached") &
	i=$((i + 1))
done
wait
end=$(date +%s.%N)

printf '%-28s %-8s %-9s %-10s %11s %8s  %s\n' "model / mutant" kind expected result states seconds "what spin reported"
printf '%s\n' "-------------------------------------------------------------------------------------------------------------------"
i=0
bad=0
nmut=0
caught=0
realbad=0
for c in "${configs[@]}"; do
	IFS='|' read -r name kind expect dflags pflags opt reach <<<"$c"
	row=$(cat "$work/$i/row" 2>/dev/null || echo "error|-|-|no result")
	IFS='|' read -r result states secs detail <<<"$row"
	[ "$kind" = real ] && [ -n "$plant" ] && name="$name+${plant#MUTANT_}"
	verdict=ok
	if [ "$result" != "$expect" ]; then
		if [ "$kind" = info ]; then
			verdict=note
		else
			verdict=FAIL
			bad=$((bad + 1))
			[ "$kind" = real ] && realbad=$((realbad + 1))
		fi
	fi
	printf '%-28s %-8s %-9s %-10s %11s %8s  %-4s %s\n' "$name" "$kind" "$expect" "$result" "$states" "$secs" "$verdict" "$detail"
	if [ "$kind" = mutant ]; then
		nmut=$((nmut + 1))
		[ "$result" = "$expect" ] && caught=$((caught + 1))
	fi
	i=$((i + 1))
done
printf '%s\n' "-------------------------------------------------------------------------------------------------------------------"
wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')
echo "spin $(spin -V 2>/dev/null | sed -n 's/^Spin Version \([^ ]*\).*/\1/p'), ${#configs[@]} runs, $jobs at a time"
if [ "$realbad" -eq 0 ]; then
	real="real pass"
else
	real="real FAIL"
fi
[ -n "$plant" ] && real="$real (planted $plant)"
others=""
[ "$((bad - realbad - (nmut - caught)))" -gt 0 ] && others=", $((bad - realbad - (nmut - caught))) other row(s) FAIL"
if [ "$bad" -ne 0 ]; then
	echo "check.sh: $bad row(s) did not give the expected result" >&2
	rc=1
else
	rc=0
fi
# the last line: ci/lib.sh shows it in the CI summary (it greps for 'mutants caught')
echo "model: $real, $caught/$nmut mutants caught$others, $wall s"
exit "$rc"
