#!/usr/bin/env bash
# exitcodes.sh - one exit-code table: the man page's EXIT STATUS, the enum in tools/cli.h and
# the summary in `shmframe --help` list the same codes, 77 (ctest's "skipped") is not one of
# them, and every code is asserted, as a literal, by a test in tests/cli.
. "$(dirname "$0")/lib.sh"

scd="$SRC/docs/shmframe.1.scd"
man_codes=$(sed -n '/^# EXIT STATUS$/,/^# EXAMPLES$/p' "$scd" | sed -n 's/^|  \([0-9][0-9]*\)$/\1/p' | sort -n | tr '\n' ' ')
enum_codes=$(sed -n 's/^\s*SHMF_EXIT_[A-Z_]* = \([0-9][0-9]*\),\{0,1\}.*/\1/p' "$SRC/tools/cli.h" | sort -n | tr '\n' ' ')
echo "man page: $man_codes"
echo "cli.h:    $enum_codes"
check "the man page lists codes" test -n "$man_codes"
check "the man page and tools/cli.h agree" test "$man_codes" = "$enum_codes"
case " $man_codes " in *" 77 "*) fail "77 is ctest's skip code" ;; *) pass ;; esac
expect 0 "--help" --help
for c in $man_codes; do
	out_has "(^|: |, )$c [a-z]" "--help's summary names $c"
	# expect CODE, expect_in FILE CODE, assert_rc CODE, judge CODE
	if grep -hE "^\s*(expect|assert_rc|judge|expect_in [^ ]+) $c( |$)" "$SRC"/tests/cli/*.sh |
		grep -q .; then
		pass
	else
		fail "exit code $c is never asserted in tests/cli"
	fi
done
finish
