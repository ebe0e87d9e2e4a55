#!/bin/bash
# Durability against a power cut, not only a kill -9 (no Docker needed).
# A kill -9 loses nothing the kernel holds, so a store that never fsyncs
# passes durability.sh; this suite runs hearthd with powercut.so preloaded
# (tests/api/powercut.c), which keeps beside the data dir the image a disk
# would hold after a power cut: each file as of its last fsync.  While
# clients create, update and delete functions and queue async calls
# (each answer written down by tests/faults/client.py), hearthd is killed,
# and a hearthd started on that image must have every change answered and
# every async call answered 202, in a store that passes integrity_check.
# Also: the model itself (a write without fsync is lost, one with it kept)
# and the WAL synced at least once per answered write.
. "$(dirname "$0")/../lib.sh"

command -v sqlite3 >/dev/null 2>&1 || bail "the sqlite3 CLI is not installed"
SHIM="$top_builddir/tests/api/powercut.so"
CLIENT="$top_srcdir/tests/faults/client.py"
[ -f "$SHIM" ] || bail "no $SHIM: make check builds it"
IMAGE="$TEST_TMP/image"
mkdir -p "$HEARTH_DATA" "$IMAGE"
# An ASan hearthd wants its runtime first; the shim may come before it.
PCUT_ENV="LD_PRELOAD=$SHIM PCUT_DIR=$HEARTH_DATA PCUT_SHADOW=$IMAGE PCUT_LOG=$TEST_TMP/sync.log"
PCUT_ENV="$PCUT_ENV ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# ---- the model --------------------------------------------------------------------------
mkdir -p "$TEST_TMP/m/d" "$TEST_TMP/m/s"
env $PCUT_ENV PCUT_DIR="$TEST_TMP/m/d" PCUT_SHADOW="$TEST_TMP/m/s" PCUT_LOG= python3 -c '
import os, sys
d = sys.argv[1]
open(d + "/lost", "w").write("lost")
with open(d + "/kept", "w") as f:
    f.write("kept"); f.flush(); os.fsync(f.fileno())
    f.write(" and more")
os.makedirs(d + "/tmp/sub")
with open(d + "/tmp/sub/file", "w") as f:
    f.write("moved"); f.flush(); os.fsync(f.fileno())
os.rename(d + "/tmp", d + "/final")
' "$TEST_TMP/m/d"
is "$(cat "$TEST_TMP/m/s/lost" 2>&1)" "" "the model: a write never fsynced is lost (the file is empty)"
is "$(cat "$TEST_TMP/m/s/kept" 2>&1)" kept "the model: an fsynced write is kept, what came after it is lost"
is "$(cat "$TEST_TMP/m/s/final/sub/file" 2>&1)" moved "the model: a synced file keeps its data through a rename"

# ---- hearthd under load, then the power cut -------------------------------------------------------
HEARTH_ENV=$PCUT_ENV hearth_start
req_json POST /functions/ '{"name":"pc-async","language":"python","code":"def handler(e, c):\n    return 1\n"}'
is "$STATUS" 201 "create the async calls' function"
AQ=$(jqr .id)
mkdir -p "$TEST_TMP/out"
python3 "$CLIENT" --url "$HEARTH_URL" --out "$TEST_TMP/out" --mutators 3 --async "$AQ:2" \
	--prefix pc 2>"$TEST_TMP/client.err" &
CLIENTS=$!
answers() { cat "$TEST_TMP"/out/* 2>/dev/null | awk '$2 ~ /^20[0-4]$/' | wc -l; }
ok "clients get answers (at least 200 within 60 s)" wait_until 60 eval '[ "$(answers)" -ge 200 ]'
KILL_MS=$(( $(date +%s%N) / 1000000 ))
hearth_kill9
wait "$CLIENTS"
ANSWERED=$(answers)
diag "$ANSWERED changes and async calls answered before the kill"
WAL_SYNCS=$(grep -c '^sync hearth.db-wal ' "$TEST_TMP/sync.log")
diag "syncs: $(awk '{ k = $2; if (k ~ /^code\//) k = "code/*"; n[k]++ } END { for (k in n) printf "%s %d, ", k, n[k] }' "$TEST_TMP/sync.log")"
ok "the WAL was synced at least once per answered write ($WAL_SYNCS syncs, $ANSWERED answers)" \
	test "$WAL_SYNCS" -ge "$ANSWERED"

# What a power cut now would leave: the image (SQLite rebuilds -shm).
rm -f "$IMAGE"/*-shm
is "$(sqlite3 "$IMAGE/hearth.db" 'PRAGMA integrity_check' 2>&1)" ok "the image passes PRAGMA integrity_check"
HEARTH_DATA=$IMAGE HEARTH_ENV= hearth_start
V=$(python3 "$CLIENT" verify --url "$HEARTH_URL" --out "$TEST_TMP/out" --kill-ms "$KILL_MS")
diag "verify: $(printf '%s' "$V" | jq -c '{mutations: .mutations | {answered, functions}, async: .async | {answered, n_missing}}')"
is "$(printf '%s' "$V" | jq -c .mutations.bad)" "{}" \
	"after the power cut, every function change answered is there, with its code" ||
	diag "$(printf '%s' "$V" | jq -c '.mutations.bad | to_entries[:5]')"
is "$(printf '%s' "$V" | jq .async.n_missing)" 0 "every async call answered 202 is there" ||
	diag "missing: $(printf '%s' "$V" | jq -c .async.missing)"
ok "(and there were some: $(printf '%s' "$V" | jq .async.answered) calls)" test "$(printf '%s' "$V" | jq .async.answered)" -gt 0
req_json POST /functions/ '{"name":"after-cut","language":"python","code":"x = 1\n"}'
is "$STATUS" 201 "writes work on the image"
hearth_stop
done_testing
