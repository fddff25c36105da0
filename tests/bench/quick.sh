#!/usr/bin/env bash
# quick.sh - ctest bench_quick (label bench): `shmframe bench --quick` runs every mode and
# transport briefly, exits 0, and writes a table, CSV and JSON that parse. No performance
# assertion: this checks that the benchmark works, not how fast anything is.
#   usage: quick.sh PATH/TO/shmframe
set -u
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bin" help bench >"$dir/help.txt" || fail "help bench exits $?"
grep -q -- '--quick' "$dir/help.txt" || fail "help bench does not list --quick"
"$bin" bench --bogus >/dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown option is not a usage error (exit 2)"

"$bin" bench --quick --quiet --out "$dir/out" >"$dir/stdout.txt" 2>"$dir/stderr.txt"
rc=$?
[ $rc -eq 0 ] || { cat "$dir/stdout.txt" "$dir/stderr.txt"; fail "bench --quick exits $rc"; }
for f in bench.txt bench.csv bench.json; do
	[ -s "$dir/out/$f" ] || fail "no $f"
done
grep -q '^One-way throughput' "$dir/stdout.txt" || fail "no throughput table"
grep -q '^Ping-pong round trip' "$dir/stdout.txt" || fail "no ping-pong table"
grep -q '^Paced stream' "$dir/stdout.txt" || fail "no paced table"
grep -q '^64 B  *shm ' "$dir/stdout.txt" || fail "no 64 B shm row"
head -1 "$dir/out/bench.csv" | grep -q '^rep,mode,transport,size,status' || fail "CSV header"
# every case of both reps is a row; shm runs are never failed
rows=$(($(wc -l <"$dir/out/bench.csv") - 1))
[ "$rows" -ge 40 ] || fail "only $rows CSV rows"
grep -q ',shm,64,ok,' "$dir/out/bench.csv" || fail "no successful 64 B shm run in the CSV"
if grep -E ',shm[a-z-]*,[0-9]+,failed,' "$dir/out/bench.csv"; then fail "a shm run failed"; fi
if grep -E ',ring[a-z-]*,[0-9]+,failed,' "$dir/out/bench.csv"; then fail "a ring run failed"; fi
# ring-crc checks each frame's CRC on receipt (a wrong one fails the run): both paths ran
grep -q ',ring-crc,64,ok,' "$dir/out/bench.csv" || fail "no successful 64 B ring-crc run"
grep -q ',ring-crc,4096,ok,' "$dir/out/bench.csv" || fail "no successful 4 KiB ring-crc run"
# ring-batch: the skeleton whose reader holds for a batch, as shmf_set_batch does
grep -q ',ring-batch,64,ok,' "$dir/out/bench.csv" || fail "no successful 64 B ring-batch run"
# ring-crc-batch: the same with each frame's CRC checked on receipt
grep -q ',ring-crc-batch,64,ok,' "$dir/out/bench.csv" || fail "no successful 64 B ring-crc-batch run"
# ring-zc the same in place (it also checks each payload where it lies, before the release)
grep -q ',ring-zc,64,ok,' "$dir/out/bench.csv" || fail "no successful 64 B ring-zc run"
grep -q ',ring-zc,4096,ok,' "$dir/out/bench.csv" || fail "no successful 4 KiB ring-zc run"
if command -v python3 >/dev/null; then
	python3 - "$dir/out/bench.json" "$(uname -m)" <<'PY' || fail "JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["meta"]["git_sha"] and d["meta"]["cpu"] and d["meta"]["kernel"], d["meta"]
runs = d["runs"]
assert any(r["transport"] == "shm" and r["mode"] == "throughput" and r["status"] == "ok"
           and r["msg_per_s"] > 0 for r in runs)
assert any(r["transport"] == "cacheline" and r["lat_ns"]["p50"] > 0 for r in runs)
assert any(r["transport"] == "ring" and r["mode"] == "pingpong" and r["status"] == "ok"
           and r["lat_ns"]["p50"] > 0 for r in runs), "no ring ping-pong"
assert any(r["transport"] == "futex" and r["mode"] == "pingpong" and r["status"] == "ok"
           and r["lat_ns"]["p50"] > 0 for r in runs), "no futex ping-pong"
assert any(r["transport"] == "futex-slice" and r["mode"] == "pingpong" and r["status"] == "ok"
           and r["lat_ns"]["p50"] > 0 for r in runs), "no futex-slice ping-pong"
assert any(r["transport"] == "shm-batch" and r["mode"] == "throughput" and r["status"] == "ok"
           and r["msg_per_s"] > 0 for r in runs), "no shm-batch throughput"
if sys.argv[2] == "x86_64":
    assert any(r["transport"] == "crc32-peak" and r["mode"] == "ceiling" and r["status"] == "ok"
               and r["mb_per_s"] > 0 for r in runs), "no crc32-peak"
PY
fi
# boost-mq (Boost.Interprocess message_queue): built in where CMake found libboost-dev's headers.
# Where it is, one tiny run of each of its modes, 64 KiB included (no kernel limit applies), must
# give an ok row each; where not, the help says so and naming it gives skipped rows, not a failure.
boost=absent
if grep -q '^  boost-mq  *built in' "$dir/help.txt"; then
	boost=ok
	before=$(echo /dev/shm/shmf-bench-boost-*)
	"$bin" bench --quick --transports boost-mq --modes throughput,pingpong,paced --sizes 64,64K \
		--reps 1 --quiet --csv "$dir/boost.csv" >"$dir/boost.txt" 2>&1
	rc=$?
	[ $rc -eq 0 ] || { cat "$dir/boost.txt"; fail "bench --transports boost-mq exits $rc"; }
	for m in throughput pingpong paced; do
		for s in 64 65536; do
			grep -q "^1,$m,boost-mq,$s,ok," "$dir/boost.csv" ||
				{ cat "$dir/boost.txt"; fail "no ok boost-mq $m row at $s B"; }
		done
	done
	grep -q '^64 B  *boost-mq ' "$dir/boost.txt" || fail "no 64 B boost-mq row in the table"
	[ "$(echo /dev/shm/shmf-bench-boost-*)" = "$before" ] ||
		fail "a boost-mq queue was left in /dev/shm"
else
	grep -q '^  boost-mq  *not built' "$dir/help.txt" || fail "help bench says nothing of boost-mq"
	if grep -q ',boost-mq,' "$dir/out/bench.csv"; then fail "boost-mq ran, but is not built"; fi
	"$bin" bench --quick --transports boost-mq --modes throughput --sizes 64 --reps 1 --quiet \
		--csv "$dir/boost.csv" >"$dir/boost.txt" 2>&1
	rc=$?
	[ $rc -eq 0 ] || { cat "$dir/boost.txt"; fail "bench --transports boost-mq (not built) exits $rc"; }
	grep -q '^1,throughput,boost-mq,64,skipped,' "$dir/boost.csv" ||
		fail "boost-mq, not built, is not a skipped row"
fi
echo "bench --quick: $rows runs, table, CSV and JSON ok; boost-mq $boost"
