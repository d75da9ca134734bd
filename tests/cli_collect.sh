#!/usr/bin/env bash
# cli_collect.sh — `implreg table` and `implreg plot` read finished runs back:
# stacked tables equal to an independent concatenation (Python's csv module
# when available, else fixed expectations), figures with every run's series,
# real runs of `implreg theory` round-tripped exactly, and bad input refused
# with one line, exit 2, nothing written.
if [ -n "${top_srcdir:-}" ]; then CLI_LIB=$top_srcdir/tests/cli_lib.sh
else CLI_LIB=$(dirname "$0")/cli_lib.sh; fi
# shellcheck source=tests/cli_lib.sh
. "$CLI_LIB" || exit 99
cli_init cli_collect

# ---- two hand-written runs: different columns, quoting, text columns ----------
mkdir -p "$T/r1" "$T/r2"
cat >"$T/r1/errs.csv" <<'EOF'
N,mse,note
10,0.5,"a, quoted ""note"""
20,1e-300,plain
EOF
cat >"$T/r2/errs.csv" <<'EOF'
N,mse,extra
10,0.25,7
30,nan,
EOF
run_ok "table of two runs" "$T" table errs r1 r2 --out out/t --quiet
want='run,N,mse,note,extra
r1,10,0.5,"a, quoted ""note""",
r1,20,1e-300,plain,
r2,10,0.25,,7
r2,30,nan,,'
got=$(cat "$T/out/t/errs.csv" 2>/dev/null)
if [ "$got" = "$want" ]; then record "stacked CSV"; else
  record "stacked CSV" "got:" "$got" "want:" "$want"; fi
has_tables "table formats" "$T/out/t" errs.csv errs.md errs.tex errs.json manifest.json
grep -q '"run1": *"r1"' "$T/out/t/manifest.json" && record "manifest names the runs" ||
  record "manifest names the runs" "$(head -c 400 "$T/out/t/manifest.json")"

run_ok "labels" "$T" table errs r1 r2/ --labels 'seed 1,seed 2' --out out/l --quiet
if [ "$(cut -d, -f1 "$T/out/l/errs.csv" | sort -u | tr '\n' '|')" = "run|seed 1|seed 2|" ]; then
  record "labels used"; else record "labels used" "$(cut -d, -f1 "$T/out/l/errs.csv")"; fi

# ---- real runs: values round-trip to the last bit -----------------------------
run_ok "theory run a" "$T" theory hastie --gamma 0.5,2,4 --r2 1 --sigma2 0.25 --out runs/a --quiet
run_ok "theory run b" "$T" theory hastie --gamma 0.5,2,4 --r2 1 --sigma2 1 --out runs/b --quiet
run_ok "table of real runs" "$T" table theory_hastie runs/a runs/b --out out/h --quiet
# Every data row of each run, prefixed with its label, in order.
exp=$( (head -n 1 "$T/runs/a/theory_hastie.csv" | sed 's/^/run,/'
  tail -n +2 "$T/runs/a/theory_hastie.csv" | sed 's/^/a,/'
  tail -n +2 "$T/runs/b/theory_hastie.csv" | sed 's/^/b,/'))
if [ "$exp" = "$(cat "$T/out/h/theory_hastie.csv")" ]; then record "real tables bit for bit"
else record "real tables bit for bit" "$(diff <(echo "$exp") "$T/out/h/theory_hastie.csv" | head)"; fi

# ---- figures -------------------------------------------------------------------
for r in r1 r2; do
  cat >"$T/$r/curve.gp" <<'EOF'
set title "Risk of \"min-norm\" fits"
set xlabel "N"
set ylabel "test MSE"
set logscale y 10
EOF
done
printf '# curve.dat\n# index 0: min-norm\n# x y\n1 2\n2 3\n\n\n# index 1: ridge\n# x y\n1 1.5\n2 2.5\n' >"$T/r1/curve.dat"
printf '# index 0: min-norm\n# x y se\n1 4 0.1\n2 5 0.1\n3 6 0.1\n\n\n# index 1: ridge\n# x y\n1 3\n' >"$T/r2/curve.dat"
run_ok "plot of two runs" "$T" plot curve r1 r2 --out out/p --no-render --quiet
labels=$(grep '^# index' "$T/out/p/curve.dat" | cut -d: -f2- | tr '\n' '|')
if [ "$labels" = " r1: min-norm| r1: ridge| r2: min-norm| r2: ridge|" ]; then record "plot series labels"
else record "plot series labels" "$labels"; fi
npts=$(grep -c '^[0-9]' "$T/out/p/curve.dat")
[ "$npts" = 8 ] && record "plot points" || record "plot points" "$npts points, want 8"
grep -q 'set logscale y' "$T/out/p/curve.gp" && grep -q 'min-norm' "$T/out/p/curve.gp" &&
  grep -Fq 'set title "Risk of \"min-norm\" fits"' "$T/out/p/curve.gp" &&
  record "plot keeps title and log scale" ||
  record "plot keeps title and log scale" "$(grep -E 'title|logscale' "$T/out/p/curve.gp" | head -3)"
# Titles round-trip through report's quoting (enhanced-text specials,
# backslashes, quotes): the combined figure's title line equals the run's.
mkdir -p "$T/r3"
printf '%s\n' 'set title "E\\_0 = ||g||\\^2 \\\\ \"q\" \\{x\\}"' 'set xlabel "h"' 'set ylabel "y"' >"$T/r3/sp.gp"
printf '# index 0: s\n# x y\n1 2\n' >"$T/r3/sp.dat"
run_ok "plot with specials" "$T" plot sp r3 --out out/sp --no-render --quiet
if [ "$(grep '^set title' "$T/r3/sp.gp")" = "$(grep '^set title' "$T/out/sp/sp.gp")" ]; then
  record "title round trip"; else
  record "title round trip" "$(grep '^set title' "$T/r3/sp.gp")" "$(grep '^set title' "$T/out/sp/sp.gp")"; fi
run_ok "plot one series" "$T" plot curve r1 r2 --series ridge --title T --out out/s --no-render --quiet
labels=$(grep '^# index' "$T/out/s/curve.dat" | cut -d: -f2- | tr '\n' '|')
[ "$labels" = " r1| r2|" ] && record "series filter" || record "series filter" "$labels"

# ---- refusals: one line, exit 2, nothing written ------------------------------
printf 'a,b\n1,"open\n' >"$T/r1/bad.csv"
printf 'a,b\n1,2,3\n' >"$T/r1/wide.csv"
printf 'a\0b\n' >"$T/r1/bin.csv"
expect_fail "missing table" 2 'r1/none\.csv' -- table none "$T/r1" --out @D@/o
expect_fail "unterminated quote" 2 'bad\.csv:2' -- table bad "$T/r1" --out @D@/o
expect_fail "ragged row" 2 'wide\.csv:2' -- table wide "$T/r1" --out @D@/o
expect_fail "binary file" 2 'binary' -- table bin "$T/r1" --out @D@/o
ln -s /dev/zero "$T/r1/dev.csv"
expect_fail "a device, not a file" 2 'not a regular file' -- table dev "$T/r1" --out @D@/o
expect_fail "no run" 2 'RUN_DIR' -- table errs
expect_fail "label count" 2 '2 labels for 1 runs' -- table errs "$T/r1" --labels a,b --out @D@/o
expect_fail "seed refused" 2 "'--seed' is not an option" -- table errs "$T/r1" --seed 3 --out @D@/o
expect_fail "format on plot" 2 "'--format' is not an option" -- plot curve "$T/r1" --format csv --out @D@/o
expect_fail "out is a run" 2 'is the run folder' -- table errs "$T/r1" "$T/r2" --out "$T/r2/."
expect_fail "unknown series" 2 "no series labelled 'lasso'" -- plot curve "$T/r1" --series lasso --out @D@/o
printf 'set title "x"\n' >"$T/r1/fake.gp"
printf '1 2\n' >"$T/r1/fake.dat"
expect_fail "not a figure" 2 'fake\.dat:1: data before' -- plot fake "$T/r1" --out @D@/o
expect_fail "no figure" 2 'errs\.gp: cannot open' -- plot errs "$T/r1" --out @D@/o
cli_collect_vg
cli_summary
