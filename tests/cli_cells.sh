#!/usr/bin/env bash
# cli_cells.sh — sweeps that survive (issue 12), on the command line:
#   - one lock per output folder: a second run into it is refused, naming
#     the first one's pid, and leaves the first run's results alone;
#   - an interrupt during a sweep keeps the finished cells, exits 130 and
#     says how to resume; --resume then computes only the missing cells and
#     ends with the same bits as an uninterrupted run;
#   - --resume refuses cells of another configuration;
#   - --shard I/K runs merged with `implreg merge` give the bits of one run;
#     merge refuses missing shards, differing configurations and an output
#     that is a shard's folder;
#   - an interrupt outside a sweep publishes nothing: the folder keeps its
#     earlier results, no staging folder, temporary file or gnuplot is left;
#   - a user's own files in the folder are never touched;
#   - --resume and --shard are refused by analyses without cells.
set -u
if [ -n "${top_srcdir:-}" ]; then CLI_LIB=$top_srcdir/tests/cli_lib.sh
else CLI_LIB=$(dirname "$0")/cli_lib.sh; fi
# shellcheck source=tests/cli_lib.sh
. "$CLI_LIB" || exit 99
cli_init cli_cells
cd "$T" || exit 99
run() {
  timeout 300 "$IMPLREG" "$@" >out 2>err </dev/null
  rc=$?
}
has() { grep -q -- "$1" "$2"; }
# wait_for COUNT DIR: until DIR/cells holds COUNT cell files (or 120 s).
wait_for() {
  local i
  for i in $(seq 1 1200); do
    [ "$(ls "$2/cells" 2>/dev/null | grep -c -- '-[0-9]*\.json$')" -ge "$1" ] &&
      return 0
    sleep 0.1
  done
  return 1
}

ND="nn-double-descent --quick --quiet"
FL="flatness --quick --quiet"

# ---- one uninterrupted run of each: the reference bits ----
run $ND --out ref_nd
check "nn-dd reference run (rc $rc)" [ "$rc" = 0 ]
run $FL --out ref_fl
check "flatness reference run (rc $rc)" [ "$rc" = 0 ]
check "cells stored with the config" [ -f ref_fl/cells/config.json ]
check "manifest lists the cells" has '"cells/networks-000000.json"' ref_fl/manifest.json
check "manifest has the config hash" has '"config_hash"' ref_fl/manifest.json

# ---- the lock ----
echo "mine" >ref_fl/notes.txt
timeout 300 "$IMPLREG" $ND --out lock_nd >lock.out 2>lock.err </dev/null &
first=$!
wait_for 1 lock_nd
run $ND --out lock_nd
check "second run into a locked folder refused (rc $rc)" [ "$rc" = 2 ]
holder=$(sed -n 's/.*another implreg run (pid \([0-9]*\)).*/\1/p' err)
is_child() { [ -n "$1" ] && [ "$(ps -o ppid= -p "$1" | tr -d ' ')" = "$2" ]; }
check "refusal names the first run's pid ('$holder')" is_child "$holder" "$first"
check "refusal is one line" [ "$(wc -l <err)" = 1 ]
wait "$first"
check "first run unharmed (rc $?)" [ -f lock_nd/manifest.json ]
check "first run's tables are the reference's" same_tables ref_nd lock_nd
check "no lock file left" [ ! -e lock_nd/.implreg.lock ]

# ---- interrupt during the sweep, then --resume ----
timeout 300 "$IMPLREG" $FL --out int_fl >int.out 2>int.err </dev/null &
pid=$!
wait_for 3 int_fl
kill -TERM "$pid"
wait "$pid"
rc=$?
check "interrupted sweep exits 130 (rc $rc)" [ "$rc" = 130 ]
check "says the cells are kept and how to resume" has "the same command with --resume continues" int.err
check "nothing published" [ ! -e int_fl/manifest.json ]
check "no staging folder left" [ ! -e int_fl/.implreg-staging ]
kept=$(ls int_fl/cells | grep -c 'networks-.*\.json$')
check "finished cells kept ($kept)" [ "$kept" -ge 3 ]
run $FL --out int_fl --resume --progress
check "resume (rc $rc)" [ "$rc" = 0 ]
check "resume read the kept cells back" has "read back" err
read_back=$(sed -n 's/.*sweep networks: \([0-9]*\) cells computed, \([0-9]*\) read back.*/\2/p' err)
check "resume read $kept cells back (got '$read_back')" [ "$read_back" = "$kept" ]
check "resumed tables are the uninterrupted run's bits" same_tables ref_fl int_fl

# ---- --resume with another configuration ----
run flatness --quick --quiet --seed 2 --out int_fl --resume
check "resume of another configuration refused (rc $rc)" [ "$rc" = 2 ]
check "says the cells are of another configuration" has "cells of another configuration" err
check "refused before touching the results" same_tables ref_fl int_fl

# ---- shards and merge ----
run $ND --out s0 --shard 0/3
check "shard 0/3 (rc $rc)" [ "$rc" = 0 ]
run $ND --out s1 --shard 1/3
check "shard 1/3 (rc $rc)" [ "$rc" = 0 ]
run $ND --out s2 --shard 2/3
check "shard 2/3 (rc $rc)" [ "$rc" = 0 ]
check "a shard writes no tables" [ ! -e s0/sweep.csv ]
check "a shard's manifest records it" has '"shard": "0/3"' s0/manifest.json
run merge --out merged --quiet s2 s0
check "merge with a shard missing refused (rc $rc)" [ "$rc" = 2 ]
check "names the missing shard" has "shards missing (1)" err
run merge --out s0 --quiet s0 s1 s2
check "merge into a shard's folder refused (rc $rc)" [ "$rc" = 2 ]
run nn-double-descent --quick --quiet --seed 3 --out t1 --shard 1/3
run merge --out merged --quiet s0 t1 s2
check "merge of different configurations refused (rc $rc)" [ "$rc" = 2 ]
check "says the configurations differ" has "configurations differ" err
run merge --out merged --quiet s2 s0 s1
check "merge (rc $rc)" [ "$rc" = 0 ]
check "merged tables are one run's bits" same_tables ref_nd merged
check "merged manifest has no shard" sh -c '! grep -q "\"shard\"" merged/manifest.json'
run merge --out merged2 --quiet s0 s1 s2 s1
check "a shard named twice refused (rc $rc)" [ "$rc" = 2 ]
for bad_shard in 3/3 -1/2 1/0 1 a/b 1/2x; do
  run $ND --out bad --shard "$bad_shard"
  check "--shard $bad_shard refused (rc $rc)" [ "$rc" = 2 ]
done

# ---- interrupt outside a sweep: nothing published ----
run gd-vs-minnorm --quick --quiet --out gd
check "gd-vs-minnorm run (rc $rc)" [ "$rc" = 0 ]
echo "mine" >gd/notes.txt
cp gd/manifest.json gd.manifest
timeout 300 "$IMPLREG" gd-vs-minnorm --quiet --out gd >gd.out 2>gd.err </dev/null &
pid=$!
for i in $(seq 1 100); do [ -e gd/.implreg.lock ] && break; sleep 0.05; done
sleep 0.5
kill -TERM "$pid"
wait "$pid"
rc=$?
check "interrupted run exits 130 (rc $rc)" [ "$rc" = 130 ]
check "says nothing was published" has "nothing was published" gd.err
sleep 0.5 # the staging folder is removed by an rm the handler started
check "the earlier manifest stays" cmp -s gd.manifest gd/manifest.json
check "no staging folder left" [ ! -e gd/.implreg-staging ]
check "no temporary files left" [ -z "$(find gd -name '*.tmp.*')" ]
check "no lock file left" [ ! -e gd/.implreg.lock ]
check "the user's file stays" has mine gd/notes.txt
check "the user's file stays (flatness)" has mine ref_fl/notes.txt
run gd-vs-minnorm --quick --quiet --out gd
check "a rerun after the interrupt (rc $rc)" [ "$rc" = 0 ]
check "the user's file stays after a rerun" has mine gd/notes.txt

# ---- options only analyses with cells take ----
run gd-vs-minnorm --quick --quiet --out gd2 --resume
check "--resume refused without cells (rc $rc)" [ "$rc" = 2 ]
check "says which analyses have cells" has "only flatness and nn-double-descent" err
check "refused before writing" [ ! -e gd2/manifest.json ]
run gd-vs-minnorm --quick --quiet --out gd2 --shard 0/2
check "--shard refused without cells (rc $rc)" [ "$rc" = 2 ]
run all --quick --quiet --out allr --resume
check "all --resume refused (rc $rc)" [ "$rc" = 2 ]

cli_summary
