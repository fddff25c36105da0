#!/usr/bin/env bash
# docs.sh - the man page: docs/shmframe.1 is what scdoc makes of docs/shmframe.1.scd (when scdoc
# is installed: ci/check.sh's deps stage installs it; a bare ctest without it skips that), and
# the example between "; BEGIN SEQUENCE" and "; END SEQUENCE" runs exactly as written there,
# output included. The example's name "jobs" becomes this test's own name, the
# owner "alice" becomes the user running the test, ls and gc get a --match for that name only,
# and after a command that ends in "&" the test waits until that process holds its role.
. "$(dirname "$0")/lib.sh"

scd="$SRC/docs/shmframe.1.scd"
roff="$SRC/docs/shmframe.1"
check "docs/shmframe.1 exists" test -s "$roff"
if command -v scdoc >/dev/null 2>&1; then
	# The .TH line carries the date scdoc ran on: compare everything else, or the check would
	# fail on every day after the page was made.
	scdoc <"$scd" | grep -v '^\.TH ' >"$TMP/shmframe.1"
	grep -v '^\.TH ' "$roff" >"$TMP/committed.1"
	check "docs/shmframe.1 is up to date: scdoc < docs/shmframe.1.scd > docs/shmframe.1" \
		cmp -s "$TMP/shmframe.1" "$TMP/committed.1"
else
	echo "note: scdoc is not installed: the generated page is not compared with its source"
fi
if command -v man >/dev/null 2>&1; then
	check "man renders the page" test -n "$(MANWIDTH=80 man -l "$roff" 2>/dev/null | grep 'EXIT STATUS')"
fi

# ---- every option the code accepts is documented ---------------------------------------------
# The long options of each command come from its option table in the sources; each must be in
# `shmframe help CMD` and in the man page's paragraph for CMD, and, for the commands that
# docs/CLI.md lists in full (all but stress and bench, whose rows end in "..."), in its row.
# long_opts FILE TABLE: the names in the struct option table TABLE of FILE, one a line
long_opts() {
	awk -v t="$2" 'index($0, t "[] = {") {on = 1} on {print} on && /\{NULL, 0, NULL, 0\}/ {exit}' "$1" |
		grep -o '{"[a-z0-9-]*", *[a-z_]*_argument' | sed 's/^{"\([^"]*\)".*/\1/'
}
# man_section CMD: the man page's paragraph for CMD under COMMANDS, from "*CMD*" to the next
man_section() {
	awk -v c="*$1*" 'on && (/^\*[a-z]+\*/ || /^# /) {exit} /^# COMMANDS$/ {cmds = 1}
		cmds && index($0, c) == 1 {on = 1} on' "$scd"
}
for spec in create:tools/cli_parse.c:opts_create send:tools/cli_parse.c:opts_send \
	recv:tools/cli_parse.c:opts_recv inspect:tools/cli_parse.c:opts_inspect \
	ls:tools/cli_parse.c:opts_ls gc:tools/cli_parse.c:opts_gc \
	stress:tools/stress.c:longopts bench:bench/bench.c:opts; do
	IFS=: read -r cmd file table <<<"$spec"
	[ -f "$SRC/$file" ] || continue
	long_opts "$SRC/$file" "$table" >"$TMP/opts"
	check "$cmd: options found in $file" test -s "$TMP/opts"
	"$SHMF" help "$cmd" >"$TMP/help" 2>&1 3>&- 4>&-
	man_section "$cmd" >"$TMP/man"
	grep "^| \`$cmd " "$SRC/docs/CLI.md" >"$TMP/row"
	while read -r opt; do
		[ "$opt" = help ] && continue
		check "$cmd --$opt is in 'shmframe help $cmd'" grep -qE -- "--$opt([^a-z-]|\$)" "$TMP/help"
		check "$cmd --$opt is in the man page's $cmd" grep -qF -- "*--$opt*" "$TMP/man"
		case "$cmd" in
		stress | bench) ;;
		*) check "$cmd --$opt is in docs/CLI.md's row for $cmd" grep -qF -- "--$opt" "$TMP/row" ;;
		esac
	done <"$TMP/opts"
done

# ---- the example sequence -------------------------------------------------------------------
n="$PREFIX-doc"
user=$(id -un)
mkdir -p "$TMP/bin" "$TMP/run"
ln -s "$SHMF" "$TMP/bin/shmframe"
awk '/^; BEGIN SEQUENCE$/ {on = 1; next} /^; END SEQUENCE$/ {on = 0} on && $0 != "```"' "$scd" \
	>"$TMP/block"
check "the man page has the example" test "$(grep -c '^\$ ' "$TMP/block")" -ge 10
if [ -f "$SRC/docs/CLI.md" ]; then
	awk '/^<!-- BEGIN SEQUENCE -->$/ {on = 1; next} /^<!-- END SEQUENCE -->$/ {on = 0} on && $0 != "```"' \
		"$SRC/docs/CLI.md" >"$TMP/block.md"
	check "docs/CLI.md shows the man page's example" cmp -s "$TMP/block" "$TMP/block.md"
	if [ -f "$SRC/README.md" ]; then
		awk '/^<!-- BEGIN SEQUENCE -->$/ {on = 1; next} /^<!-- END SEQUENCE -->$/ {on = 0} on && $0 != "```"' \
			"$SRC/README.md" >"$TMP/block.readme"
		check "README.md shows the man page's example" cmp -s "$TMP/block" "$TMP/block.readme"
	fi
	for c in $(sed -n '/^# EXIT STATUS$/,/^# EXAMPLES$/p' "$scd" | sed -n 's/^|  \([0-9][0-9]*\)$/\1/p'); do
		check "docs/CLI.md lists exit status $c" grep -q "^| $c |" "$SRC/docs/CLI.md"
	done
fi
{
	echo 'cd "$1" || exit 99'
	echo 'wait_live() { for i in $(seq 1 200); do shmframe inspect "$1" --json 2>/dev/null | grep -q "\"lock\":\"held\"" && return; sleep 0.05; done; }'
} >"$TMP/script"
: >"$TMP/expected"
i=0
while IFS= read -r line; do
	line=${line//jobs/$n}
	if [ "${line:0:2}" = '$ ' ]; then
		cmd=${line:2}
		case "$cmd" in
		"shmframe ls"* | "shmframe gc"*) cmd="$cmd --match /$n" ;;
		esac
		i=$((i + 1))
		echo "echo '@@ $i'" >>"$TMP/script"
		echo "$cmd" >>"$TMP/script"
		case "$cmd" in *'&') echo "wait_live /$n" >>"$TMP/script" ;; esac
		echo "@@ $i" >>"$TMP/expected"
	else
		line=${line//alice/${user:0:8}}
		echo "$line" >>"$TMP/expected"
	fi
done <"$TMP/block"
PATH="$TMP/bin:$PATH" bash "$TMP/script" "$TMP/run" >"$TMP/actual" 2>"$TMP/err" 3>&- 4>&-
RC=$?
assert_rc 0 "$RC" "the example sequence"
tr -s ' ' <"$TMP/expected" >"$TMP/expected.n"
tr -s ' ' <"$TMP/actual" >"$TMP/actual.n"
if cmp -s "$TMP/expected.n" "$TMP/actual.n"; then
	pass
else
	fail "the example's output differs from the man page's"
	diff -u "$TMP/expected.n" "$TMP/actual.n" >&2
fi
check "the example wrote nothing on stderr" test ! -s "$TMP/err"
check "the example removed its segment" test ! -e "/dev/shm/$n"
finish
