#!/usr/bin/env bash
# cli_mpi.sh — `mpirun -n 2 implreg <analysis>` (./configure --with-mpi):
# the cells of each sweep are spread over the ranks, rank 0 assembles, and
# the tables are the same bits as one process's.  Skipped (77) in a build
# without MPI (IR_MPIRUN empty).
set -u
if [ -n "${top_srcdir:-}" ]; then CLI_LIB=$top_srcdir/tests/cli_lib.sh
else CLI_LIB=$(dirname "$0")/cli_lib.sh; fi
# shellcheck source=tests/cli_lib.sh
. "$CLI_LIB" || exit 99
cli_init cli_mpi
cd "$T" || exit 99
if [ -z "${IR_MPIRUN:-}" ]; then
  echo "cli_mpi: built without MPI (./configure --with-mpi): skipped"
  exit 77
fi
# Open MPI refuses root unless told; CI containers run as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
run() {
  timeout 300 "$IMPLREG" "$@" >out 2>err </dev/null
  rc=$?
}
mpi() {
  timeout 300 "$IR_MPIRUN" -n 2 --oversubscribe "$IMPLREG" "$@" >out 2>err \
    </dev/null
  rc=$?
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

cli_summary
