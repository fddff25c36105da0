#!/usr/bin/env bash
# robust.sh - shmframe in a hostile environment, as CI jobs and shell pipelines run it:
#   - started with descriptor 0, 1 or 2 closed: the segment must not land on it (recv >&- wrote
#     its output into the header, send 2>&- its error line, send <&- read the segment as input);
#     the segment stays intact and the messages in it are received as they were sent;
#   - writing into a closed pipe (recv | head -1, inspect or ls into a dead FIFO): status 9, not
#     death by SIGPIPE (141), and recv loses only the message it could not write;
#   - recv --follow --timeout with a writer killed by SIGKILL: status 5 once the timeout has
#     passed since the last message, instead of waiting for a new writer for ever.
. "$(dirname "$0")/lib.sh"

# hold_writer NAME [LINE...]: `send NAME` in the background holding side A, its pid in WPID. It
# reads the LINEs, then waits on an input that never ends: a FIFO held open by `sleep 600` (two
# separate jobs, not a pipeline, so that `wait $WPID` waits for send alone). Both die at exit.
hold_writer() {
	local n=$1
	shift
	rm -f "$TMP/hold"
	mkfifo "$TMP/hold"
	{
		[ $# -gt 0 ] && printf '%s\n' "$@"
		exec sleep 600
	} >"$TMP/hold" 3>&- 4>&- &
	PIDS+=("$!")
	"$SHMF" send "$n" <"$TMP/hold" >/dev/null 2>"$TMP/w.err" 3>&- 4>&- &
	WPID=$!
	PIDS+=("$WPID")
	wait_role "$n" A
}

m104=$(head -c 104 /dev/zero | tr '\0' m)

# ---- descriptor 1 closed: recv -------------------------------------------------------------
# Closed descriptors are reopened on /dev/null the wrong way round (docs/CLI.md, Safety): recv
# sees that it has nowhere to write and takes nothing (9); the segment is untouched.
q=$(name out)
expect 0 "create" create "$q"
expect 0 "send four" send "$q" one "two words" three four
"$SHMF" recv "$q" --count 1 </dev/null >&- 2>"$TMP/err" 3>&- 4>&-
RC=$?
judge 9 "recv --count 1 with standard output closed"
err_has "^shmframe: recv: $q: standard output is closed: nothing received$"
expect 0 "inspect: the segment is intact after recv >&-" inspect "$q" --json
out_has '"messages_waiting":4,'
expect 0 "recv takes the first" recv "$q" --count 1
out_is one
# --follow writes each message out while attached: with the segment on descriptor 1 that was
# a write into the header. Side A receives on ring 1, so ring 0's messages stay for the check.
expect 0 "send two on ring 1" send "$q" --side b "to a" "and a"
"$SHMF" recv "$q" --side a --follow --timeout 200 </dev/null >&- 2>"$TMP/err" 3>&- 4>&-
RC=$?
judge 9 "recv --follow --timeout 200 with standard output closed"
err_has "^shmframe: recv: $q: standard output is closed: nothing received$"
expect 0 "inspect: the segment is intact after recv --follow >&-" inspect "$q"
expect 0 "ring 1 was not touched" recv "$q" --side a
out_is "$(printf 'to a\nand a')"
expect 0 "the other messages are received intact" recv "$q"
out_is "$(printf 'two words\nthree\nfour')"

# ---- descriptor 2 closed: a send that fails ------------------------------------------------
# The error line (a message too large: 11) goes nowhere, the status still says it; it used to
# be written over the segment's header while send was attached.
e=$(name err)
expect 0 "create a 256-byte ring" create "$e" --capacity 256
expect 0 "send two" send "$e" one two
"$SHMF" send "$e" "${m104}x" </dev/null >"$TMP/out" 2>&- 3>&- 4>&-
RC=$?
: >"$TMP/err"
judge 11 "send of max_message + 1 bytes with standard error closed"
check "send printed nothing on stdout" test ! -s "$TMP/out"
printf '%s\n' three "${m104}x" >"$TMP/long"
"$SHMF" send "$e" <"$TMP/long" >"$TMP/out" 2>&- 3>&- 4>&-
RC=$?
judge 11 "send of a line longer than max_message, standard error closed"
expect 0 "inspect: the segment is intact after send 2>&-" inspect "$e"
expect 0 "the messages sent before are received intact" recv "$e"
out_is "$(printf 'one\ntwo\nthree')"

# ---- descriptor 0 closed: send with no message arguments fails to read, sends nothing ------
i=$(name in)
expect 0 "create" create "$i"
expect 0 "send two" send "$i" one two
"$SHMF" send "$i" <&- >"$TMP/out" 2>"$TMP/err" 3>&- 4>&-
RC=$?
judge 9 "send with standard input closed: a read error"
err_has "^shmframe: send: $i: standard input: Bad file descriptor$"
"$SHMF" send "$i" --binary <&- >"$TMP/out" 2>"$TMP/err" 3>&- 4>&-
RC=$?
judge 9 "send --binary with standard input closed: a read error"
expect 0 "inspect: the segment is intact after send <&-" inspect "$i" --json
out_has '"messages_waiting":2,'
expect 0 "exactly the messages sent before are received" recv "$i"
out_is "$(printf 'one\ntwo')"

# ---- all three closed at once -------------------------------------------------------------
expect 0 "send on ring 1" send "$i" --side b back
"$SHMF" recv "$i" --side a --follow --timeout 200 <&- >&- 2>&- 3>&- 4>&-
RC=$?
: >"$TMP/err"
judge 9 "recv --follow --timeout 200 with descriptors 0, 1 and 2 closed"
"$SHMF" send "$i" "$(head -c 65537 /dev/zero | tr '\0' m)" <&- >&- 2>&- 3>&- 4>&-
RC=$?
judge 11 "a send of 64 KiB + 1 bytes with descriptors 0, 1 and 2 closed"
expect 0 "inspect: intact" inspect "$i"
expect 0 "a send after them" send "$i" three
expect 0 "is received" recv "$i"
out_is three

# ---- a closed pipe: 9, not SIGPIPE ----------------------------------------------------------
# SIGPIPE at its default, whatever the caller of this test ignores (ignored signals are
# inherited), so that the old death by SIGPIPE cannot hide.
dflpipe=(env --default-signal=PIPE)
"${dflpipe[@]}" true 2>/dev/null || dflpipe=()
p=$(name pipe)
expect 0 "create" create "$p"
# 5000 messages of 100 bytes: 500 KB, far more than a pipe holds, so recv is still writing
# when head exits, however the two are scheduled.
awk 'BEGIN { for (i = 1; i <= 5000; i++) printf "%04d-%095d\n", i, 0 }' >"$TMP/lines"
expect_in "$TMP/lines" 0 "send 5000 lines" send "$p"
t0=$(date +%s%N)
"${dflpipe[@]}" "$SHMF" recv "$p" </dev/null 2>"$TMP/err" 3>&- 4>&- | head -n 1 >"$TMP/out"
RC=${PIPESTATUS[0]}
t1=$(date +%s%N)
judge 9 "recv | head -1: a write error, not SIGPIPE"
err_has "^shmframe: recv: write error on standard output: Broken pipe$"
out_is "$(head -n 1 "$TMP/lines")"
expect 0 "inspect after the closed pipe" inspect "$p" --json
out_has '"messages_waiting":[1-9][0-9]*,'
expect 0 "recv the rest" recv "$p"
left=$(wc -l <"$TMP/out")
check "recv stopped with messages left ($left)" test "$left" -gt 0 -a "$left" -lt 5000
check "what is left is the tail of what was sent, in order" \
	cmp -s "$TMP/out" <(tail -n "$left" "$TMP/lines")
echo "recv | head -1: $(((t1 - t0) / 1000000)) ms, $((5000 - left)) messages taken"

# A FIFO whose reader has gone before the first write: recv takes one message, cannot write
# it, and stops; that one is lost and no other.
mkfifo "$TMP/dead"
exec 4<>"$TMP/dead" # a reader, so that opening the writing end does not block
exec 3>"$TMP/dead"
exec 4<&- # no reader left: a write on 3 fails with EPIPE
expect_in "$TMP/lines" 0 "send 5000 lines again" send "$p"
"${dflpipe[@]}" "$SHMF" recv "$p" </dev/null >&3 2>"$TMP/err" 3>&- 4>&-
RC=$?
judge 9 "recv into a FIFO with no reader"
err_has "write error on standard output: Broken pipe"
expect 0 "recv the rest" recv "$p"
check "only the first message was lost" cmp -s "$TMP/out" <(tail -n +2 "$TMP/lines")
expect 0 "send two" send "$p" x y
"${dflpipe[@]}" "$SHMF" recv "$p" --follow --timeout 200 </dev/null >&3 2>"$TMP/err" 3>&- 4>&-
RC=$?
judge 9 "recv --follow into a FIFO with no reader"
expect 0 "the other one is still there" recv "$p"
out_is y
"${dflpipe[@]}" "$SHMF" inspect "$p" </dev/null >&3 2>"$TMP/err" 3>&- 4>&-
RC=$?
judge 9 "inspect into a FIFO with no reader"
"${dflpipe[@]}" "$SHMF" inspect "$p" --json </dev/null >&3 2>"$TMP/err" 3>&- 4>&-
RC=$?
judge 9 "inspect --json into a FIFO with no reader"
"${dflpipe[@]}" "$SHMF" ls --match "$p" </dev/null >&3 2>"$TMP/err" 3>&- 4>&-
RC=$?
judge 9 "ls into a FIFO with no reader"
exec 3>&-
expect 0 "inspect: the segment is fine" inspect "$p"

# ---- recv --follow --timeout when the writer is killed ---------------------------------------
# The writer holds side A, waiting on an input that never ends (hold_writer). Once it is killed
# and no writer comes back, recv must end with 5 when --timeout has passed since the last
# message (or its start), not before, and not wait on for ever: a recv that does is killed by
# timeout(1) at 10 s (137).

# follower NAME MS: recv NAME --follow --timeout MS in the background, under timeout -s KILL 10;
# its pid in FPID, the time just before it started in FSTART (ns), its output in $TMP/f.*
follower() {
	FSTART=$(date +%s%N)
	timeout -s KILL 10 "$SHMF" recv "$1" --follow --timeout "$2" </dev/null >"$TMP/f.out" \
		2>"$TMP/f.err" 3>&- 4>&- &
	FPID=$!
	PIDS+=("$FPID")
}
# follower_ends MS WHAT SINCE: wait for it; assert 5, "timed out", not before MS after SINCE
# (ns: a time before its last message or its start; 10 ms spared for the two clocks) and
# within 10 s of the writer's kill (now)
follower_ends() {
	local want=$1 what=$2 since=$3 t0 t1
	t0=$(date +%s%N)
	wait_gone "$FPID"
	t1=$(date +%s%N)
	echo "$what: ended $(((t1 - t0) / 1000000)) ms after the kill, $(((t1 - since) / 1000000)) ms after the last message or the start"
	assert_rc 5 "$RC" "$what"
	check "$what: timed out" grep -q "^shmframe: recv: .*: timed out$" "$TMP/f.err"
	check "$what: no sanitizer report" sanitizer_clean "$TMP/f.err"
	check "$what: not before its --timeout" test $(((t1 - since) / 1000000)) -ge "$want"
	check "$what: within 10 s of the kill" test $(((t1 - t0) / 1000000)) -lt 10000
}

# a message, then the writer dies
f=$(name follow)
expect 0 "create" create "$f"
hold_writer "$f" before
follower "$f" 1000
for _ in $(seq 1 200); do [ -s "$TMP/f.out" ] && break; sleep 0.05; done
check "the follower received the message" test "$(cat "$TMP/f.out")" = before
kill9 "$WPID"
follower_ends 990 "recv --follow --timeout 1000, writer killed after one message" "$FSTART"
expect 0 "ls: the writer died holding side A" ls --match "$f"
out_has "$f +[0-9]+ +[^ ]+ +0600 +1\.0 +dead +closed "
expect 0 "a new writer takes the role over" send "$f" after
expect 0 "and is received" recv "$f"
out_is after

# no message at all: the timeout counts from the start of recv
g=$(name follow2)
expect 0 "create" create "$g"
hold_writer "$g"
follower "$g" 1000
wait_role "$g" B
kill9 "$WPID"
follower_ends 990 "recv --follow --timeout 1000, writer killed, no message" "$FSTART"
check "nothing printed" test ! -s "$TMP/f.out"

# a writer that comes back within the timeout is followed, and the timeout starts again from
# its message: --follow still means "while senders come and go"
h=$(name follow3)
expect 0 "create" create "$h"
hold_writer "$h" first
follower "$h" 2000
wait_role "$h" B
kill9 "$WPID"
tsend=$(date +%s%N) # recv cannot have received "second" before this
expect 0 "a new writer, right after the kill" send "$h" second
follower_ends 1990 "recv --follow --timeout 2000, a writer killed, another one sends" "$tsend"
check "the follower received both" test "$(cat "$TMP/f.out")" = "$(printf 'first\nsecond')"

finish
