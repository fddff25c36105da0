#!/usr/bin/env bash
# check.sh - every CI gate of shmframe, from one command on a fresh Debian 12 machine.
#
#   ci/check.sh             run every stage, in order, and print a summary table
#   ci/check.sh STAGE...    run only those stages (e.g. ci/check.sh asan)
#   ci/check.sh --list      list the stages
#
# Each stage builds in its own directory under build/ci/, so stages can run alone and in any
# order. The deps stage installs the Debian packages that are missing (it is run first whenever
# something is missing, even when not asked for). Exit status: 0 when every stage that ran passed.
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
export ROOT
# shellcheck source=ci/lib.sh
. "$ROOT/ci/lib.sh"

ALL_STAGES="deps format gcc-release clang-asan-ubsan clang-tsan valgrind callgrind coverage static fuzz-smoke model install"

usage() {
	echo "usage: ci/check.sh [--list] [STAGE...]"
	echo "stages: $ALL_STAGES"
	echo "aliases: release=gcc-release asan=clang-asan-ubsan tsan=clang-tsan fuzz=fuzz-smoke"
}

stages=()
for arg in "$@"; do
	case "$arg" in
	-h | --help) usage; exit 0 ;;
	--list) echo "$ALL_STAGES" | tr ' ' '\n'; exit 0 ;;
	release) stages+=(gcc-release) ;;
	asan) stages+=(clang-asan-ubsan) ;;
	tsan) stages+=(clang-tsan) ;;
	fuzz) stages+=(fuzz-smoke) ;;
	*)
		if [[ " $ALL_STAGES " == *" $arg "* ]]; then stages+=("$arg"); else
			usage >&2; exit 2
		fi ;;
	esac
done
[ ${#stages[@]} -gt 0 ] || read -r -a stages <<<"$ALL_STAGES"
if [[ " ${stages[*]} " != *" deps "* ]] && ! deps_present; then
	stages=(deps "${stages[@]}")
fi

for s in "${stages[@]}"; do
	run_stage "$s"
done
print_summary
