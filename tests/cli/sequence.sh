#!/usr/bin/env bash
# sequence.sh - the shell sequence of issue #4: create, send three, recv three, inspect (0), gc
# (removes nothing while a holder is alive, then removes the segment once it is dead), ls.
. "$(dirname "$0")/lib.sh"

q=$(name q)
expect 0 "create" create "$q"
expect 0 "send three" send "$q" a b c
expect 0 "recv three" recv "$q" --count 3
out_is "$(printf 'a\nb\nc')"
expect 0 "inspect: consistent" inspect "$q"
out_has '^verdict: consistent$'
# a live holder: a follower on side B
bg recv "$q" --follow
holder=$BG
wait_role "$q" B
expect 0 "gc while a holder is alive" gc --min-age 0 --match "$q"
out_is ""
check "gc removed nothing" test -f "$(shmpath q)"
expect 0 "ls while a holder is alive" ls --match "$q"
out_has "^$q +8392704 +[^ ]+ +0600 +1\.0 +closed +live +0,0 +0,0 +ok$"
kill9 "$holder"
expect 0 "ls once the holder is dead" ls --match "$q"
out_has "^$q .* closed +dead +0,0 +0,0 +ok$"
expect 0 "inspect: a dead holder is not damage" inspect "$q"
out_has 'its holder died without detaching'
expect 0 "gc once the holder is dead" gc --min-age 0 --match "$q"
out_is "removed $q"
check "the segment is gone" test ! -e "$(shmpath q)"
expect 0 "ls: nothing left" ls --match "$q"
check "only the heading" test "$(wc -l <"$TMP/out")" = 1
expect 3 "recv of the removed segment" recv "$q"
finish
