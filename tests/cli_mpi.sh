#!/usr/bin/env bash
# cli_mpi.sh — `mpirun -n 2 implreg <analysis>` (./configure --with-mpi):
# the cells of each sweep are spread over the ranks, rank 0 assembles, and
# the tables are the same bits as one process's.  Skipped (77) in a build
# without MPI (IR_MPIRUN empty).
set -u
NAME=cli_mpi
if [ -z "${IMPLREG:-}" ] || [ ! -x "$IMPLREG" ]; then
  echo "$NAME: IMPLREG='${IMPLREG:-}' is not an executable" >&2
  exit 99
fi
if [ -z "${IR_MPIRUN:-}" ]; then
  echo "$NAME: built without MPI (./configure --with-mpi): skipped"
  exit 77
fi
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
# Open MPI refuses root unless told; CI containers run as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
T=$(mktemp -d "${TMPDIR:-/tmp}/implreg-$NAME.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 99
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() {
  fail=$((fail + 1))
  echo "FAIL: $*"
}
check() {
  local l=$1
  shift
  if "$@"; then ok; else bad "$l"; fi
}
run() {
  timeout 300 "$IMPLREG" "$@" >out 2>err </dev/null
  rc=$?
}
mpi() {
  timeout 300 "$IR_MPIRUN" -n 2 --oversubscribe "$IMPLREG" "$@" >out 2>err \
    </dev/null
  rc=$?
}
same_tables() {
  local f n=0
  for f in "$1"/*.csv; do
    n=$((n + 1))
    cmp -s "$f" "$2/$(basename "$f")" || { echo "differs: $f"; return 1; }
  done
  [ "$n" -gt 0 ]
}

for an in nn-double-descent:width flatness:networks; do
  sweep=${an#*:}
  an=${an%:*}
  run "$an" --quick --quiet --out "one-$an"
  check "$an in one process (rc $rc)" [ "$rc" = 0 ]
  mpi "$an" --quick --quiet --out "two-$an"
  check "$an on 2 ranks (rc $rc)" [ "$rc" = 0 ]
  [ "$rc" = 0 ] || cat err
  check "$an: 2 ranks give one process's bits" same_tables "one-$an" "two-$an"
  check "$an: the manifest lists the cells of both ranks" \
    grep -q "\"cells/$sweep-000001.json\"" "two-$an/manifest.json"
done
mpi gd-vs-minnorm --quick --quiet --out gd
check "an analysis without cells refused on 2 ranks (rc $rc)" [ "$rc" != 0 ]
check "says to run it as one process" grep -q "run it as one process" err
mpi nn-double-descent --quick --quiet --out sh --shard 0/2
check "--shard under MPI refused (rc $rc)" [ "$rc" != 0 ]

echo "$NAME: $pass passed, $fail failed"
[ "$fail" = 0 ]
