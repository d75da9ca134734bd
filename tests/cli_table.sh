#!/usr/bin/env bash
# cli_table.sh — `implreg table NAME DIR...` concatenates one table of
# several runs with a "run" column, `implreg plot NAME DIR...` overlays one
# figure's series; both refuse bad input (missing file, headers that
# differ, unknown option) with one line, exit 2 and no output.
set -u
NAME=cli_table
if [ -z "${IMPLREG:-}" ] || [ ! -x "$IMPLREG" ]; then
  echo "$NAME: IMPLREG='${IMPLREG:-}' is not an executable" >&2
  exit 99
fi
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
T=$(mktemp -d "${TMPDIR:-/tmp}/implreg-$NAME.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
check() {
  local l=$1
  shift
  if "$@"; then pass=$((pass + 1)); else
    fail=$((fail + 1))
    echo "FAIL: $l"
  fi
}
for s in 1 2; do
  "$IMPLREG" gd-vs-minnorm --quick --quiet --seed $s --out "$T/seed$s" \
    >/dev/null 2>&1 || { echo "$NAME: run seed $s failed"; exit 1; }
done
"$IMPLREG" table runs "$T/seed1" "$T/seed2" --out "$T/cat" >"$T/o" 2>"$T/e"
check "table exits 0" test $? -eq 0
n1=$(($(wc -l <"$T/seed1/runs.csv") - 1))
n2=$(($(wc -l <"$T/seed2/runs.csv") - 1))
n=$(($(wc -l <"$T/cat/runs.csv") - 1))
check "rows: $n = $n1 + $n2" test "$n" -eq $((n1 + n2))
check "header is run + the runs' header" \
  test "$(head -n 1 "$T/cat/runs.csv")" = "run,$(head -n 1 "$T/seed1/runs.csv")"
check "seed1's rows say run seed1" test "$(grep -c '^seed1,' "$T/cat/runs.csv")" -eq "$n1"
check "seed2's rows say run seed2" test "$(grep -c '^seed2,' "$T/cat/runs.csv")" -eq "$n2"
# Row k of seed2 is row n1+k of the result, with "seed2," in front.
check "a row is copied whole" \
  test "$(sed -n 3p "$T/cat/runs.csv" | cut -d, -f2-)" = "$(sed -n 3p "$T/seed1/runs.csv")"
check "tex and md written" test -s "$T/cat/runs.tex" -a -s "$T/cat/runs.md"

refuse() { # refuse LABEL ARGS... — exit 2, one stderr line, no --out made
  local l=$1
  shift
  "$IMPLREG" table "$@" --out "$T/bad" >"$T/o" 2>"$T/e"
  local st=$?
  check "$l: exit 2 (got $st)" test "$st" -eq 2
  check "$l: one line on stderr" test "$(wc -l <"$T/e")" -eq 1
  check "$l: no output folder" test ! -e "$T/bad"
}
refuse "missing table" nope "$T/seed1"
refuse "headers differ" runs "$T/seed1" "$T/cat"
refuse "unknown option" runs "$T/seed1" --bogus
refuse "no folder" runs

# implreg plot: every series of every run, labelled by run, in one figure.
"$IMPLREG" plot gd_distance "$T/seed1" "$T/seed2" --no-render --out "$T/pl" \
  >"$T/o" 2>"$T/e"
check "plot exits 0" test $? -eq 0
k1=$(grep -c '^# index' "$T/seed1/gd_distance.dat")
k2=$(grep -c '^# index' "$T/seed2/gd_distance.dat")
check "plot has every series ($k1 + $k2)" \
  test "$(grep -c '^# index' "$T/pl/gd_distance.dat")" -eq $((k1 + k2))
check "plot labels series by run" grep -q '^# index 0: seed1: ' "$T/pl/gd_distance.dat"
check "plot labels series by run (2)" grep -q "^# index $k1: seed2: " "$T/pl/gd_distance.dat"
check "plot keeps the title" grep -qF "$(grep '^set title' "$T/seed1/gd_distance.gp")" "$T/pl/gd_distance.gp"
check "plot keeps the log axes" grep -q '^set logscale y' "$T/pl/gd_distance.gp"
# The data points are the runs' own, in order.
check "plot copies the points" test "$(grep -v '^#' "$T/seed1/gd_distance.dat" | sed '/^$/d' | head -n 5)" = \
  "$(grep -v '^#' "$T/pl/gd_distance.dat" | sed '/^$/d' | head -n 5)"
refuse_plot() {
  local l=$1
  shift
  "$IMPLREG" plot "$@" --out "$T/badp" >"$T/o" 2>"$T/e"
  local st=$?
  check "$l: exit 2 (got $st)" test "$st" -eq 2
  check "$l: one line on stderr" test "$(wc -l <"$T/e")" -eq 1
  check "$l: no output folder" test ! -e "$T/badp"
}
refuse_plot "plot: missing figure" nope "$T/seed1"
refuse_plot "plot: unknown option" gd_distance "$T/seed1" --bogus
echo "$NAME: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
