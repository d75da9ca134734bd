#!/bin/bash
# cli_nn_double_descent.sh — `implreg nn-double-descent` through the
# command line.
#
# --help names the options and says that --threads counts worker
# processes.  Bad input and bad usage (noise outside [0, 0.9] or not
# increasing, a pooling that does not divide 28, an unknown loss or
# activation, decreasing widths, an empty width range, options of a part
# switched off, stray arguments): exit status exactly 2, one stderr line
# naming the problem, nothing on stdout, no file left (tests/cli_lib.sh:
# expect_fail), a few under valgrind when VALGRIND is set.
#
# With Fashion-MNIST installed (skipped otherwise): the quick run writes
# every table, figure and the manifest with every check passing under
# --strict; its cells are the same bits with 1 and 2 worker processes and
# when replayed from manifest.json; a run where wide networks reach the
# loss goal carries the interpolation check; each IMPLREG_BREAK mutation
# (label-noise, train-labels, cell-state) makes its check FAIL under
# --strict (exit 3), is announced on stderr and recorded in the manifest.
#
# Environment (Makefile.am AM_TESTS_ENVIRONMENT): IMPLREG, VALGRIND (or
# empty), top_srcdir (for tests/cli_lib.sh), OPENBLAS_NUM_THREADS=1.
# Writes only into a mktemp -d folder, removed on exit.
set -u

if [ -n "${top_srcdir:-}" ]; then TESTS_DIR=$top_srcdir/tests; else TESTS_DIR=$(dirname "$0"); fi
# shellcheck source=tests/cli_lib.sh
. "$TESTS_DIR/cli_lib.sh" || exit 99
cli_init cli_nn_double_descent
unset IMPLREG_BREAK
FASHION_DIR=/usr/share/datasets/fashion-mnist
cd "$T" || exit 99

# ---- --help ------------------------------------------------------------------------
if "$IMPLREG" nn-double-descent --help >"$T/help" 2>&1 &&
  grep -q 'worker processes' "$T/help" && grep -q -- '--noise LIST' "$T/help" &&
  grep -q -- '--pool K' "$T/help" && grep -q -- '--reuse' "$T/help" &&
  grep -q 'Common options' "$T/help"; then
  record "--help: options, workers, common options"
else
  record "--help" "$(head -n 3 "$T/help")"
fi

# ---- bad input: one line, exit 2, no file ------------------------------------------
OUT=@D@/OUT
ND=(nn-double-descent --quick --out "$OUT")
expect_fail "--noise 1.5" 2 '--noise' '1\.5' -- "${ND[@]}" --noise 0,1.5
expect_fail_novg "--noise not increasing" 2 '--noise' 'increasing' -- "${ND[@]}" --noise 0.2,0.1
expect_fail_novg "--noise x" 2 '--noise' "'x'" -- "${ND[@]}" --noise 0,x
expect_fail "--pool 3" 2 '--pool 3' '28' -- "${ND[@]}" --pool 3
expect_fail_novg "--losses hinge" 2 "'hinge'" 'half-mse' -- "${ND[@]}" --losses ce,hinge
expect_fail_novg "--losses ce,ce" 2 'twice' -- "${ND[@]}" --losses ce,ce
expect_fail_novg "--act identity" 2 "'identity'" 'relu' -- "${ND[@]}" --act identity
expect_fail_novg "--widths decreasing" 2 '--widths' 'increasing' -- "${ND[@]}" --widths 5,3
expect_fail_novg "--widths 2.5" 2 '--widths' 'whole' -- "${ND[@]}" --widths 2.5,4
expect_fail_novg "--width-range 2,1" 2 '--width-range' 'LO < HI' -- "${ND[@]}" --width-range 2,1
expect_fail_novg "--n 5" 2 '--n' -- "${ND[@]}" --n 5
expect_fail_novg "--lr 0" 2 '--lr' -- "${ND[@]}" --lr 0
expect_fail_novg "--no-emc with --emc-eps" 2 '--no-emc' 'emc' -- "${ND[@]}" --no-emc --emc-eps 0.2
expect_fail_novg "--no-epoch with --epoch-steps" 2 '--no-epoch' -- "${ND[@]}" --no-epoch --epoch-steps 10
expect_fail_novg "--emc-grid >= --emc-nmax" 2 '--emc-grid' '--emc-nmax' -- "${ND[@]}" --emc-grid 500 --emc-nmax 400
expect_fail_novg "unknown option" 2 '--bogus' -- "${ND[@]}" --bogus
expect_fail_novg "stray argument" 2 "'stray'" -- "${ND[@]}" stray

# ---- runs ------------------------------------------------------------------------------
if [ ! -d "$FASHION_DIR" ]; then
  echo "SKIP runs: $FASHION_DIR not installed (Debian package dataset-fashion-mnist)"
  skip=$((skip + 1))
  cli_collect_vg
  cli_summary
  exit
fi

if run_ok "--quick --strict" "$T" nn-double-descent --quick --strict --quiet --threads 2 --out Q; then
  has_tables "quick: tables, figures, manifest" Q sweep.csv sweep.md sweep.tex sweep.json \
    cells.csv emc.csv epochwise.csv findings.csv findings.md checks.csv checks.tex \
    manifest.json test_error_half-mse.gp test_error_half-mse.dat test_loss_ce.dat \
    train_loss_ce.dat theta_norm_ce.dat epochwise.dat emc.dat
  all_checks_pass "quick: every check passes" Q/checks.csv
  # the threshold n K as a vertical line, one series per noise level
  if grep -q 'label "n K"' Q/test_error_ce.gp &&
    [ "$(grep -c '^# index [0-9]*: noise' Q/test_error_ce.dat)" -ge 2 ] &&
    grep -q 'logscale x' Q/test_error_ce.gp && grep -q 'yerrorbars' Q/test_error_ce.gp; then
    record "quick: sweep figure with n K and a series per noise level"
  else
    record "quick: sweep figure" "$(head -n 20 Q/test_error_ce.gp)"
  fi
  # loss goal, step cap and whether the goal was reached, per row
  head -n 1 Q/cells.csv | grep -q 'loss_goal,step_cap,steps,goal_reached' &&
    record "cells.csv: goal, cap, reached per row" ||
    record "cells.csv header" "$(head -n 1 Q/cells.csv)"
fi

# The same bits with one worker process, and replayed from the manifest.
if run_ok "--quick --threads 1" "$T" nn-double-descent --quick --quiet --threads 1 --out Q1; then
  cmp -s Q/cells.csv Q1/cells.csv && cmp -s Q/epochwise.csv Q1/epochwise.csv &&
    cmp -s Q/emc.csv Q1/emc.csv && record "1 and 2 workers: the same bits" ||
    record "1 and 2 workers" "cells.csv, epochwise.csv or emc.csv differ"
fi
if run_ok "--config manifest.json" "$T" nn-double-descent --config Q/manifest.json --quiet --out Q2; then
  cmp -s Q/cells.csv Q2/cells.csv && record "replay from manifest.json: the same bits" ||
    record "replay from manifest.json" "cells.csv differs"
fi

# A small run whose wide networks reach the loss goal: the interpolation
# check is there and passes.
TINY=(nn-double-descent --quick --n 100 --ntest 200 --widths 2,40 --losses ce
  --noise 0,0.2 --seeds 2 --steps 1500 --lr 0.1 --no-emc --no-epoch --quiet)
if run_ok "tiny run, wide networks interpolate" "$T" "${TINY[@]}" --strict --out TY; then
  grep -q 'reached the loss goal.*,PASS$' TY/checks.csv &&
    record "tiny: interpolation check present and passing" ||
    record "tiny: interpolation check" "$(cat TY/checks.csv)"
fi

# ---- IMPLREG_BREAK: each plausible bug is caught by its check -------------------------
for c in "label-noise label noise 0.2" "train-labels reached the loss goal" \
  "cell-state recomputed in this process"; do
  read -r b pat <<<"$c"
  RUN_ENV=("IMPLREG_BREAK=$b")
  RUN_CODE=3
  if run_ok "IMPLREG_BREAK=$b --strict: exit 3" "$T" "${TINY[@]}" --strict --out "BRK-$b"; then
    if grep -q "$pat.*,FAIL\$" "BRK-$b/checks.csv" && grep -q "IMPLREG_BREAK=$b" "$RUN_ERR" &&
      grep -q "\"break\": \"$b\"" "BRK-$b/manifest.json"; then
      record "IMPLREG_BREAK=$b: caught by '$pat', announced, recorded"
    else
      record "IMPLREG_BREAK=$b" "$(grep -c ',FAIL$' "BRK-$b/checks.csv") failed claims; stderr: $(head -n 2 "$RUN_ERR")" \
        "$(grep ',FAIL$' "BRK-$b/checks.csv" | cut -c1-120)"
    fi
  fi
  RUN_ENV=()
  RUN_CODE=0
done

cli_collect_vg
cli_summary
