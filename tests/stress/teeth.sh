#!/usr/bin/env bash
# teeth.sh - proof that `shmframe stress` has teeth (issue #6). Run by hand, not by ctest:
#
#   tests/stress/teeth.sh [NAME...]      all weakenings, or only those named
#
# It copies the working tree to a temporary directory, and for each weakening below patches the
# copy's src/ (never the tree's own; damager-crash patches the copy's tools/stress.c), rebuilds the copy's shmframe and shmframe_kp, runs the
# stress mode that should catch it, and checks that the run fails, for the planted reason (its
# failure message matches), within the time limit. It prints one line per weakening with the
# time the tool took to catch it, and exits 0 only when every weakening that is expected to be
# caught was. docs/STRESS.md records the results.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIMIT=${TEETH_LIMIT:-120} # seconds a stress run may take to catch a weakening
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shmf-teeth.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 143' INT TERM HUP

# name | file | perl substitutions | binary (plain|kp) | stress arguments | failure regex
# Each substitution is written to apply to src/ring.c as it was when this was written and after
# each rewrite of its fast path (issue #8); one that applies to none, or leaves no TEETH mark in
# the file (only a helper part applied, such as an #include), is reported, not run.
# shellcheck disable=SC2016 # $1 and $2 are perl's, in single quotes on purpose
WEAKENINGS=(
	'publish-early|src/ring.c|s~(\tSHMF_KILL_POINT\(SHMF_KP_AFTER_RESERVE\);\n)~$1\tshmf_sh_store_release64(r->ctl + SHMF_C_WPOS, r->pos + shmf_frame_size(len)); /* TEETH: wpos before the frame */\n~|plain|--duration LIMIT|SHMF_E(CRC|SEQ|LENGTH|TYPE|FLAGS|POS)|corrupt|expected message'
	'no-crc-check|src/ring.c|s~\(rc = shmf_frame_check_crc\(&h, raw, buf\)\) != 0~(rc = 0) != 0 /* TEETH */~; s~(h\.length\);\n\tif \()crc != h\.crc\)~$1 0 /* TEETH */)~g; s~ != \(uint32_t\)w\.w0\)(\n\t\treturn reject\(r, SHMF_ECRC, 1\);)~ != (uint32_t)w.w0 \&\& 0) /* TEETH */$1~g|plain|--duration LIMIT --scribble 200|corrupt|expected message|bytes, expected'
	'no-seq-check|src/ring.c|s~\(rc = shmf_frame_check_seq(_inl)?\(&h, r->seq, r->pos\)\) != 0\)(\n\t\treturn reject\(r, rc, 1\);\n\tconsume)~(rc = 0) != 0 /* TEETH */)$2~; s~\(rc = check_seq\(r, &w\)\) != 0\)(\n\t\treturn reject\(r, rc, 1\);\n\tconsume)~(rc = 0) != 0 /* TEETH */)$1~|plain|--duration LIMIT --scribble 200 --scribble-target positions --sizes 100|expected message|duplicate|lost'
	'no-writer-repair|src/ring.c|s~(frame_at_has_seq\(r, p, r->cap - \(p - rd\), s - 1u\)\) \{\n\t\t)r->seq = s - 1u;~$1(void)0; /* TEETH */~|kp|--duration LIMIT --kill-point seq-published --kp-every 3000|SHMF_ESEQ'
	'no-reader-repair|src/ring.c|s~(frame_at_has_seq\(r, p, w - p, s - 1u\)\)\n\t\t)r->seq = s - 1u;~$1(void)0; /* TEETH */~|kp|--duration LIMIT --kill-point consume --kp-every 3000|SHMF_ESEQ|expected message'
	'no-peer-gone|src/channel.c|s~if \(!check_lock .. shmf_os_lock_free\(ch->fd, ch->peer_lock\) != 1\)~if (check_lock >= 0) /* TEETH: a dead peer looks alive */~|plain|--duration LIMIT --kill-writer 2|did not report SHMF_EPEERGONE'
	'clean-damage|src/ring.c|s~(\tSHMF_KILL_POINT\(SHMF_KP_AFTER_RESERVE\);\n)~$1\tshmf_sh_store_release64(r->ctl + SHMF_C_WPOS, r->pos + shmf_frame_size(len)); /* TEETH: wpos before the frame */\n~|plain|--duration LIMIT --scribble 200|before any fault was injected'
	'spurious-gone|src/channel.c|s~(\tif \(!ch->has_tx\)\n\t\treturn SHMF_ENOTSUP;\n)(\treturn shmf_ring_write_to)~$1\t{ static unsigned teeth_n; if (++teeth_n % 3000u == 0) return SHMF_EPEERGONE; } /* TEETH */\n$2~|plain|--duration LIMIT --kill-writer 2|SHMF_EPEERGONE, but side . is alive'
	'spurious-gone-kp|src/channel.c|s~(\tif \(!ch->has_tx\)\n\t\treturn SHMF_ENOTSUP;\n)(\treturn shmf_ring_write_to)~$1\t{ static unsigned teeth_n; if (++teeth_n % 3000u == 0) return SHMF_EPEERGONE; } /* TEETH */\n$2~|kp|--duration LIMIT --kill-point after-reserve --kp-every 3000|SHMF_EPEERGONE, but side . is alive'
	'late-success|src/channel.c|s~(#include <string.h>\n)~$1#include <time.h>\n~; s~(\tif \(!ch->has_tx\)\n\t\treturn SHMF_ENOTSUP;\n)(\treturn shmf_ring_write_to)~$1\t{ static unsigned teeth_n; struct timespec teeth_ts = {1, 800000000L}; if (timeout_ms > 0 \&\& ++teeth_n % 20000u == 0) nanosleep(\&teeth_ts, NULL); } /* TEETH: a late success */\n$2~|plain|--duration LIMIT|returned after'
	'corrupt-time|src/channel.c|s~\treturn (shmf_ring_read_to\(&ch->rx, buf, cap, len, timeout_ms\));~\t{ static unsigned teeth_n; int teeth_rc = $1; if (timeout_ms != 0 \&\& teeth_rc == 0 \&\& *len >= 16 \&\& ++teeth_n % 10000u == 0) ((unsigned char *)buf)[9] ^= 1; return teeth_rc; } /* TEETH: byte 9 (the send time) */~|plain|--duration LIMIT|bytes 8-15'
	'damager-crash|tools/stress.c|s~(\tsnprintf\(path, sizeof path, "/dev/shm%s", name\);\n)~\tabort(); /* TEETH: the third process crashes */\n$1~|plain|--duration 10 --scribble 200|the damager .* died of signal'
	'extra-frame|src/channel.c|s~(#include <string.h>\n)~${1}static int teeth_sent; /* TEETH: this process has sent (the supervisor never does) */\n~; s~(int shmf_send\(shmf_channel \*ch, const void \*msg, size_t len, int timeout_ms\)\n\{\n)~${1}\tteeth_sent = 1; /* TEETH */\n~; s~(int shmf_close\(shmf_channel \*ch\)\n\{\n\tif \(ch == NULL\)\n\t\treturn 0;\n)~${1}\tif (ch->has_tx \&\& teeth_sent) /* TEETH: a frame after the last message */\n\t\t(void)shmf_ring_write(\&ch->tx, "", 0);\n~|plain|--duration 10|waits after the last message'
	'no-wake|src/ring.c|s~(void shmf_ring_wake\(unsigned char \*word\)\n\{\n)~$1\treturn; /* TEETH: no futex wake */\n~|plain|--duration 20 --stall-reader --stall-ms 500|-'
)

# The committed tree (not another helper's work in progress), with the stress tool as it is now.
echo "teeth: copying HEAD of $ROOT, and its stress files as they are, to $WORK/tree"
mkdir -p "$WORK/tree"
git -C "$ROOT" archive HEAD | tar -x -C "$WORK/tree" || exit 2
(cd "$ROOT" && cp --parents -t "$WORK/tree" tools/stress*.c tests/stress/*) || exit 2
cmake -S "$WORK/tree" -B "$WORK/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$WORK/configure.log" 2>&1 ||
	{ cat "$WORK/configure.log"; exit 2; }

want=" $* "
caught=0
missed=0
printf '%-18s %-8s %8s  %s\n' weakening result seconds "failure message (first line)"
for w in "${WEAKENINGS[@]}"; do
	IFS='|' read -r name file subst bin args regex <<<"$w"
	regex=${w#*|*|*|*|*|}
	[ $# -eq 0 ] || [[ "$want" == *" $name "* ]] || continue
	cp "$WORK/tree/$file" "$WORK/orig"
	perl -0pi -e "$subst" "$WORK/tree/$file"
	if cmp -s "$WORK/orig" "$WORK/tree/$file" || ! grep -q TEETH "$WORK/tree/$file"; then
		printf '%-18s %-8s %8s  %s\n' "$name" ERROR - "the patch did not apply"
		missed=$((missed + 1))
		continue
	fi
	if ! cmake --build "$WORK/build" -j2 --target shmframe_cli shmframe_kp >"$WORK/build.log" 2>&1; then
		printf '%-18s %-8s %8s  %s\n' "$name" ERROR - "build failed: $(grep -m1 error "$WORK/build.log")"
		missed=$((missed + 1))
		cp "$WORK/orig" "$WORK/tree/$file"
		continue
	fi
	exe="$WORK/build/tools/shmframe"
	[ "$bin" = kp ] && exe="$WORK/build/tools/stress/shmframe_kp"
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	timeout $((LIMIT + 60)) "$exe" stress ${args//LIMIT/$LIMIT} >"$WORK/out" 2>&1
	rc=$?
	t=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
	msg=$(grep -m1 'FAILED:' "$WORK/out" | sed 's/^ *FAILED: //')
	if [ "$regex" = "-" ]; then
		# not expected to fail: report what the run saw (latency) instead
		res="ran"
		[ $rc -ne 0 ] && res="caught"
		msg="exit $rc; $(grep -E 'A->B' "$WORK/out" | grep -Eo 'latency.*' | head -1)"
	elif [ $rc -eq 1 ] && grep -qE -- "$regex" <<<"$msg"; then
		res="caught"
		caught=$((caught + 1))
	else
		res="MISSED"
		missed=$((missed + 1))
		msg="exit $rc: ${msg:-$(tail -2 "$WORK/out" | tr '\n' ' ')}"
	fi
	printf '%-18s %-8s %8.1f  %s\n' "$name" "$res" "$t" "$(cut -c1-150 <<<"$msg")"
	grep -m1 'seed' "$WORK/out" | sed 's/^/                             /'
	cp "$WORK/orig" "$WORK/tree/$file"
done
echo "teeth: $caught caught, $missed missed or broken"
[ $missed -eq 0 ]
