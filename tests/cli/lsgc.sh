#!/usr/bin/env bash
# lsgc.sh - ls and gc: segments recognised by their header, not their name; other files only
# with --all; symbolic links, directories and FIFOs never followed nor listed; gc never removes
# a segment with a live holder, a file that is not a segment, another user's file, or a young
# segment, and removes dead ones. Every ls and gc here is limited with --match to this test's
# names, so that it cannot touch anyone else's segment.
. "$(dirname "$0")/lib.sh"

all="/$PREFIX-*"
seg=$(name seg)
expect 0 "create" create "$seg"
expect 0 "send" send "$seg" a b c
expect 0 "send the other way" send "$seg" --side b x
printf 'some bytes that are not a segment' >"$(shmpath junk)"
cp "$(shmpath seg)" "$(shmpath notseg)"
printf 'XXXX' | dd of="$(shmpath notseg)" bs=1 conv=notrunc status=none # bad magic
ln -s "$(shmpath seg)" "$(shmpath link)"
ln -s /etc/passwd "$(shmpath elsewhere)"
mkdir "$(shmpath dir)"
mkfifo "$(shmpath fifo)"

# ---- ls ------------------------------------------------------------------------------------
expect 0 "ls" ls --match "$all"
out_has '^NAME +SIZE +OWNER +MODE +VER +A +B +WAITING +REJECTS +STATUS$'
out_has "^$seg +8392704 +[^ ]+ +0600 +1\.0 +closed +closed +3,1 +0,0 +ok$"
out_lacks "junk|notseg|link|elsewhere|dir|fifo" "only segments without --all"
check "two lines" test "$(wc -l <"$TMP/out")" = 2
expect 0 "ls --all" ls --all --match "$all"
out_has "^$(name junk) +33 .* not a shmframe segment$"
out_has "^$(name notseg) +8392704 .* not a shmframe segment$"
out_lacks "link|elsewhere|dir|fifo" "never a symbolic link, directory or FIFO"
expect 0 "ls -a -j" ls -a -j --match "$all"
out_has '^\{"schema":1,"directory":"/dev/shm","entries":\['
out_has "\"name\":\"$seg\",\"segment\":true,\"size\":8392704,"
out_has '"roles":\[\{"side":"A","state":"detached","lock":"free","alive":false,"summary":"closed"\}'
out_has '"rings":\[\{"index":0,"messages_waiting":3,"rerrors":0,"rlasterr":0\},\{"index":1,"messages_waiting":1,'
out_has "\"name\":\"$(name junk)\",\"segment\":false,"
if command -v python3 >/dev/null 2>&1; then
	check "the JSON parses" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/out"
fi
expect 0 "ls --match that matches nothing" ls --match "/$PREFIX-nothing-*"
check "only the heading" test "$(wc -l <"$TMP/out")" = 1
simplex=$(name simplex)
expect 0 "create --simplex" create "$simplex" --simplex --mode 0640
expect 0 "ls a simplex segment" ls --match "$simplex"
out_has "^$simplex +4198400 +[^ ]+ +0640 +1\.0 +closed +- +0,- +0,- +ok$"

# ---- gc: live holders are never removed ------------------------------------------------------
bg recv "$seg" --follow
holder=$BG
wait_role "$seg" B
expect 0 "ls shows the live holder" ls --match "$seg"
out_has "^$seg .* closed +live +0,1 "
expect 0 "gc --min-age 0 with a live holder" gc --min-age 0 --match "$all" --verbose
out_has "^kept $seg: side B is held by a live process"
out_lacks "^removed $seg\$"
check "the held segment is still there" test -f "$(shmpath seg)"
out_has "^kept $(name junk): not a shmframe segment$"
out_has "^kept $(name notseg): not a shmframe segment$"
out_has "^kept $(name dir): not a regular file$"
out_has "^kept $(name link): not a regular file$"
out_has "^removed $simplex$" "a dead simplex segment is removed"
# a holder of side A, reading its standard input
mkfifo "$TMP/in"
"$SHMF" send "$seg" <"$TMP/in" >/dev/null 2>&1 3>&- &
sender=$!
PIDS+=("$sender")
exec 3>"$TMP/in"
wait_role "$seg" A
kill9 "$holder"
expect 0 "gc with side A held" gc --min-age 0 --match "$seg" -v
out_has "^kept $seg: side A is held by a live process"
check "still there" test -f "$(shmpath seg)"

# ---- gc: dead holders; min-age; dry run --------------------------------------------------------
kill9 "$sender"
exec 3>&-
expect 0 "ls shows the dead holders" ls --match "$seg"
out_has "^$seg .* dead +dead +0,1 "
expect 0 "gc with the default min-age keeps a young segment" gc --match "$seg" -v
out_has "^kept $seg: younger than 60 s$"
expect 0 "gc --min-age 3600" gc --min-age 3600 --match "$seg" --verbose
out_has "younger than 3600 s"
expect 0 "gc --dry-run" gc --dry-run --min-age 0 --match "$seg"
out_is "would remove $seg"
check "dry run removed nothing" test -f "$(shmpath seg)"
expect 0 "gc --min-age 0" gc --min-age 0 --match "$all"
out_is "removed $seg"
check "the dead segment is gone" test ! -e "$(shmpath seg)"
check "the link is still there (dangling now)" test -L "$(shmpath link)"
check "the link's target elsewhere is untouched" test -f /etc/passwd
check "junk is still there" test -f "$(shmpath junk)"
check "a file with a bad magic is still there" test -f "$(shmpath notseg)"
check "the directory is still there" test -d "$(shmpath dir)"
check "the FIFO is still there" test -p "$(shmpath fifo)"
expect 0 "gc again removes nothing" gc --min-age 0 --match "$all"
out_is ""

# ---- gc: a segment older than min-age by its mtime and created_ns ----------------------------
old=$(name old)
expect 0 "create" create "$old"
touch -d '2 hours ago' "$(shmpath old)"
expect 0 "gc --min-age 3600: created_ns is young" gc --min-age 3600 --match "$old" -v
out_has "younger than 3600 s"
check "kept" test -f "$(shmpath old)"

# ---- gc: only --match, and never another user's segment --------------------------------------
keep=$(name keepme)
expect 0 "create a segment outside the pattern" create "$keep"
expect 0 "gc of another pattern" gc --min-age 0 --match "/$PREFIX-zzz*"
check "outside the pattern: kept" test -f "$(shmpath keepme)"
if [ "$(id -u)" -eq 0 ]; then
	theirs=$(name theirs)
	expect 0 "create" create "$theirs"
	chown 65534 "$(shmpath theirs)"
	expect 0 "gc does not remove another user's segment" gc --min-age 0 --match "$theirs" -v
	out_has "^kept $theirs: owned by uid 65534, not 0$"
	check "kept" test -f "$(shmpath theirs)"
	expect 0 "ls lists it with its owner" ls --match "$theirs"
	out_has "^$theirs +8392704 +(nobody|65534) +0600 .* damaged: segment is owned by another user$"
else
	echo "note: not root: the other-owner case is not tested"
fi

# ---- unreadable names, and ls/gc of a directory that is gone are errors, not crashes ----------
expect 2 "gc --min-age with a bad number" gc --min-age ten
finish
