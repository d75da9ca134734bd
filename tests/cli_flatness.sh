#!/bin/bash
# cli_flatness.sh — `implreg flatness` through the command line.
#
# Bad usage (data names, lists, ranges, options that do not apply): exit 2,
# one stderr line naming the problem, nothing written (tests/cli_lib.sh:
# expect_fail).  A small sweep on the teacher set writes every table and
# figure with every check passing under --strict; the cells give the same
# bits on 1 and on 2 worker processes, and a cell's row is the same in a
# grid that also holds other step sizes (cells are seeded by their
# coordinates, not by their position).  Each IMPLREG_BREAK mutation makes
# the check that guards it FAIL (exit 3 under --strict): rescale-bias (the
# loss-invariance check), balance (the balanced λ_max), conj (D instead of
# D⁻¹ in the predicted curvature), hutchinson (a biased trace), keskar-box
# (the quadratic example), mp-norm (the Wishart moments), toy-point
# (λ_max = α² + α⁻²).  With Fashion-MNIST installed, a small sweep on it
# too.  tests/flatness_ref.py recomputes the findings (Kendall tau_b of
# every measure against the gap, the batch comparisons' counts) with scipy
# from endpoints.csv when PYTHON3 is set.
#
# Environment: as tests/cli_hessian.sh (IMPLREG, VALGRIND, top_srcdir,
# OPENBLAS_NUM_THREADS=1).  Writes only into a mktemp -d folder.
set -u

if [ -n "${top_srcdir:-}" ]; then TESTS_DIR=$top_srcdir/tests; else TESTS_DIR=$(dirname "$0"); fi
# shellcheck source=tests/cli_lib.sh
. "$TESTS_DIR/cli_lib.sh" || exit 99
cli_init cli_flatness

# ---- bad usage --------------------------------------------------------------
expect_fail "--data bogus" 2 "--data: 'bogus'" -- flatness --data bogus --out @D@/o
expect_fail_novg "--lrs with a negative step" 2 "--lrs" -- flatness --lrs 0.1,-1 --out @D@/o
expect_fail_novg "--batches 1.5" 2 "whole number" -- flatness --batches 16,1.5 --out @D@/o
expect_fail_novg "--n 5" 2 "--n" -- flatness --n 5 --out @D@/o
expect_fail_novg "--n for the teacher alone" 2 "64 samples" -- flatness --data teacher --n 100 --out @D@/o
expect_fail_novg "--alphas 0" 2 "--alphas" -- flatness --alphas 0,1 --out @D@/o
expect_fail_novg "--mp-p > 4 --mp-n" 2 "mostly zeros" -- flatness --mp-n 20 --mp-p 100 --out @D@/o
expect_fail_novg "--probes 1" 2 "--probes" -- flatness --probes 1 --out @D@/o
expect_fail_novg "unknown option" 2 "unknown option|unrecognized" -- flatness --bogus --out @D@/o
expect_fail_novg "stray argument" 2 "unexpected argument" -- flatness extra --out @D@/o
expect_fail_novg "--seeds 0" 2 "--seeds" -- flatness --seeds 0 --out @D@/o
expect_fail_novg "--batches 128,0 on 64 samples" 2 "same batch size" -- flatness --data teacher --batches 128,0 --out @D@/o

# ---- a small sweep on the teacher set -----------------------------------------
SMALL=(flatness --data teacher --lrs 0.1,0.2 --batches 16,0 --seeds 2 --max-steps 3000
  --loss-goal 0.005 --mp-n 100 --mp-p 50 --mp-draws 8 --alphas 0.01,1,100 --quiet)
cd "$T" || exit 99
if run_ok "teacher sweep, 2 workers, --strict" "$T" "${SMALL[@]}" --threads 2 --strict --out A; then
  has_tables "teacher sweep: tables and figures" A endpoints.csv findings.csv rescaling.csv \
    barriers.csv slices.csv slices2d.csv mp.csv checks.csv summary.json manifest.json \
    rescaling-teacher.dat sharpness-vs-lr-teacher.dat measures-vs-gap-teacher.dat \
    slices-teacher.dat path-teacher.dat mp.dat
  all_checks_pass "teacher sweep: every check passes" A/checks.csv
  if [ -n "${PYTHON3:-}" ]; then
    checker "findings against scipy" "$PYTHON3" "$TESTS_DIR/flatness_ref.py" A
  else
    echo "SKIP findings against scipy: PYTHON3 is empty"
    skip=$((skip + 1))
  fi
  rows=$(tail -n +2 A/endpoints.csv | grep -c .)
  if [ "$rows" -eq 8 ]; then record "endpoints.csv: 2 steps x 2 batches x 2 seeds = 8 rows"; else
    record "endpoints.csv: 8 rows" "found $rows"; fi
fi
if run_ok "the same sweep on 1 worker" "$T" "${SMALL[@]}" --threads 1 --out B; then
  for f in endpoints.csv rescaling.csv barriers.csv slices.csv; do
    if cmp -s "A/$f" "B/$f"; then record "$f: same bits on 1 and 2 workers"; else
      record "$f: same bits on 1 and 2 workers" "$(diff "A/$f" "B/$f" | head -n 4)"; fi
  done
fi
# A cell's numbers depend on its coordinates only: (eta 0.2, batch 16) is
# the same end point in a grid with eta 0.05 and 0.2 in the other order.
if run_ok "another grid holding the same cells" "$T" flatness --data teacher --lrs 0.2,0.05 \
  --batches 16 --seeds 2 --max-steps 3000 --loss-goal 0.005 --mp-n 100 --mp-p 50 --mp-draws 8 \
  --alphas 1 --quiet --threads 2 --out C; then
  a=$(grep '^teacher,0.2[0-9]*,16,' A/endpoints.csv)
  c=$(grep '^teacher,0.2[0-9]*,16,' C/endpoints.csv)
  if [ -n "$a" ] && [ "$a" = "$c" ]; then record "cells seeded by coordinates: equal rows"; else
    record "cells seeded by coordinates: equal rows" "A: $a" "C: $c"; fi
fi

# ---- each mutation is caught ------------------------------------------------------
RUN_CODE=3
for case in "rescale-bias:keeps the training loss" "balance:after balancing" \
  "conj:D\^-1 H\(theta\) D\^-1" "hutchinson:Hutchinson trace unbiased" \
  "keskar-box:Keskar epsilon-sharpness" "mp-norm:mean eigenvalue" \
  "toy-point:alpha\^2 \+ alpha\^-2"; do
  b=${case%%:*} pat=${case#*:}
  RUN_ENV=("IMPLREG_BREAK=$b")
  if run_ok "IMPLREG_BREAK=$b: exit 3 under --strict" "$T" "${SMALL[@]}" --threads 2 --strict \
    --out "X$b"; then
    nf=$(grep -E -- "$pat" "X$b/checks.csv" | grep -c ',FAIL$')
    if [ "$nf" -ge 1 ]; then record "IMPLREG_BREAK=$b: the check /$pat/ fails"; else
      record "IMPLREG_BREAK=$b: the check /$pat/ fails" "$(grep FAIL "X$b/checks.csv")"; fi
  fi
done
RUN_ENV=()
RUN_CODE=0

# ---- Fashion-MNIST ----------------------------------------------------------------
if [ -d /usr/share/datasets/fashion-mnist ]; then
  if run_ok "Fashion-MNIST sweep" "$T" flatness --data fashion-mnist --n 100 --ntest 200 \
    --lrs 0.2 --batches 32,0 --seeds 2 --max-steps 2000 --mp-n 100 --mp-p 50 --mp-draws 8 \
    --alphas 0.1,1,10 --quiet --threads 2 --strict --out F; then
    all_checks_pass "Fashion-MNIST sweep: every check passes" F/checks.csv
    [ -z "${PYTHON3:-}" ] || checker "Fashion-MNIST findings against scipy" "$PYTHON3" \
      "$TESTS_DIR/flatness_ref.py" F
    has_tables "Fashion-MNIST sweep: figures" F rescaling-fashion-mnist.dat \
      measures-vs-gap-fashion-mnist.dat
  fi
else
  echo "SKIP Fashion-MNIST sweep: /usr/share/datasets/fashion-mnist not installed"
  skip=$((skip + 1))
fi

cli_collect_vg
cli_summary
