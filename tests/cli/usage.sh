#!/usr/bin/env bash
# usage.sh - help, version, and malformed command lines: every one is a usage error (status 2)
# with a message on stderr, never a crash, and never touches a segment.
. "$(dirname "$0")/lib.sh"

# ---- help and version: stdout, status 0, nothing on stderr ------------------------------------
for args in "--help" "-h" "help" "--version" "-V"; do
	# shellcheck disable=SC2086
	expect 0 "shmframe $args" $args
	check "shmframe $args writes to stdout" test -s "$TMP/out"
	check "shmframe $args writes nothing to stderr" test ! -s "$TMP/err"
done
expect 0 "--version" --version
out_has '^shmframe 1\.[0-9]+\.[0-9]+ \(libshmframe .*protocol SHMF/1\.0\)$'
expect 0 "--help lists the commands" --help
for c in create send recv inspect ls gc unlink help; do out_has "^  $c" "--help names $c"; done
out_has "exit status: 0 ok, 1 damage"

for c in create send recv inspect ls gc unlink; do
	expect 0 "help $c" help "$c"
	out_has "^usage: shmframe $c" "help $c"
	cp "$TMP/out" "$TMP/help1"
	expect 0 "$c --help" "$c" --help
	check "$c --help is help $c" cmp -s "$TMP/out" "$TMP/help1"
	expect 0 "$c -h" "$c" -h
	check "$c -h is help $c" cmp -s "$TMP/out" "$TMP/help1"
	# --help wins over anything else on the line, even errors
	expect 0 "$c --bogus --help" "$c" --bogus x y --help
	out_has "^usage: shmframe $c"
done

# ---- malformed command lines: 2, "shmframe: ..." and a hint on stderr -------------------------
n=$(name u)
long=$(printf 'x%.0s' $(seq 1 300))
bad() { # bad WHAT ARGS...
	local what=$1
	shift
	expect 2 "$what" "$@"
	err_has '^shmframe: ' "$what: message"
	err_has "^Try 'shmframe .*--help'" "$what: hint"
	check "$what: nothing on stdout" test ! -s "$TMP/out"
}
bad "no command"
bad "unknown command" frobnicate
bad "unknown global option" --frobnicate
bad "--help with an argument" --help recv
bad "--version with an argument" --version x
bad "help of an unknown command" help frobnicate
bad "help with two commands" help send recv
bad "unknown option" recv "$n" --frobnicate
bad "unknown short option" recv "$n" -Z
bad "option of another command" send "$n" --follow
bad "option of another command (create)" create "$n" --count 3
bad "stress --verbose: removed, it never changed anything" stress --verbose --messages 1
bad "missing NAME" recv
bad "missing NAME (create)" create
bad "missing NAME (unlink)" unlink
bad "missing NAME (inspect)" inspect
bad "extra argument" recv "$n" extra
bad "extra argument (unlink)" unlink "$n" extra
bad "extra argument (ls)" ls extra
bad "extra argument (gc)" gc extra
bad "NAME and --file" inspect "$n" --file /etc/hostname
bad "empty --file" inspect --file ""
bad "--binary with --json" recv "$n" --binary --json
bad "--binary with MESSAGE" send "$n" --binary hello
# missing values
bad "--count without a value" recv "$n" --count
bad "-n without a value" recv "$n" -n
bad "--timeout without a value" send "$n" --timeout
bad "--side without a value" send "$n" --side
bad "--capacity without a value" create "$n" --capacity
bad "--max-message without a value" create "$n" --max-message
bad "--mode without a value" create "$n" --mode
bad "--file without a value" inspect --file
bad "--min-age without a value" gc --min-age
bad "--match without a value" ls --match
err_has "needs a value"
# bad numbers
for v in abc "" -1 0 1.5 0x10 " 3" "3 " +3 99999999999999999999999; do
	bad "--count '$v'" recv "$n" --count "$v"
done
for v in abc "" -2 1e3 2147483648 99999999999999999999 " 5" 5ms; do
	bad "--timeout '$v'" recv "$n" --timeout "$v"
done
for v in abc "" -1 60s 10000000001 99999999999999999999; do
	bad "--min-age '$v'" gc --min-age "$v"
done
for v in x c AB ab ""; do
	bad "--side '$v'" recv "$n" --side "$v"
done
for v in 8 999 1000 01000 0x1ff rw- "" -1; do
	bad "--mode '$v'" create "$n" --mode "$v"
done
# sizes and geometry, huge ones included
for v in abc "" 1000 255 128 0 -1 2G 4G 1T 1KB 1k1 16777216K 99999999999999999999 \
	18446744073709551615 18446744073709551616 17179869184G; do
	bad "--capacity '$v'" create "$n" --capacity "$v"
done
err_has "not a size|power of two"
for v in abc "" -1 1G 99999999999999999999 4294967296 18446744073709551615; do
	bad "--max-message '$v'" create "$n" --max-message "$v"
done
# beyond any capacity: the largest there is, not a wrapped-around minimum capacity
for v in 18446744073709551615 18446744073709551608 9223372036854775808 536870889; do
	bad "--max-message $v: too large for any capacity" create "$n" --max-message "$v"
	err_has "^shmframe: create: --max-message $v is too large \(at most 536870888\)$"
	bad "--max-message $v with --capacity 256" create "$n" --capacity 256 --max-message "$v"
	err_has "^shmframe: create: --max-message $v is too large \(at most 536870888\)$"
done
bad "--max-message too big for the capacity" create "$n" --capacity 256 --max-message 105
err_has "needs a --capacity of at least 512"
bad "--max-message too big for the default capacity" create "$n" --max-message 2100K
# bad names
for v in "" "/" "a/b" "/a/b" "/." "/.." "." ".." "a b" "$(printf 'a\tb')" "$(printf 'caf\xc3\xa9')" \
	"$long" "/$long" "$(printf 'a\x7f')"; do
	bad "name '$v'" recv "$v"
	err_has "not a valid segment name"
done
bad "name of 255 characters after the slash" create "/$(printf 'y%.0s' $(seq 1 255))"
# a name of 254 characters is valid (and is not created here: the command fails later)
s254="$PREFIX-$(printf 'z%.0s' $(seq 1 254))"
expect 3 "name of 254 characters is valid" recv "${s254:0:254}"

check "no segment was left by a usage error" test -z "$(ls /dev/shm | grep "^$PREFIX" || true)"
finish
