#!/bin/bash
# cli_double_descent.sh — `implreg double-descent` end to end: the quick
# suite writes its tables, figures and manifest with every check passing;
# reruns are bit-identical; impossible options (an empty or decreasing grid,
# n larger than the data set, a bandwidth <= 0, label noise outside [0, 1],
# an unknown data set, sweep or feature map) give one line on stderr, exit
# status 2 and no output folder.
#
# Environment (Makefile.am AM_TESTS_ENVIRONMENT): IMPLREG,
# OPENBLAS_NUM_THREADS=1.  Writes only into a mktemp -d folder.
set -u
NAME=cli_double_descent
if [ -z "${IMPLREG:-}" ] || [ ! -x "$IMPLREG" ]; then
  echo "$NAME: IMPLREG='${IMPLREG:-}' is not an executable (run through make check)" >&2
  exit 99
fi
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
T=$(mktemp -d "${TMPDIR:-/tmp}/implreg-$NAME.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 99
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
  fail=$((fail + 1))
  echo "FAIL $*"
}

# The quick suite (the Fashion-MNIST part only when the data set is there).
if "$IMPLREG" double-descent --quick --out "$T/a" --quiet; then ok; else bad "quick suite exit $?"; fi
for f in model_linear.csv samples.csv epochs.csv classical.csv checks.csv \
  checks.md manifest.json classical.gp classical_fits.dat; do
  [ -s "$T/a/$f" ] && ok || bad "missing $f"
done
if [ -d /usr/share/datasets/fashion-mnist ]; then
  [ -s "$T/a/model.csv" ] && ok || bad "missing model.csv (Fashion-MNIST installed)"
  head -n 1 "$T/a/model.csv" | grep -q '^N,n,N_over_n,train_mse,test_mse,test_err,norm,rank,cond' &&
    ok || bad "model.csv header: $(head -n 1 "$T/a/model.csv")"
fi
if grep -q ',FAIL$' "$T/a/checks.csv"; then bad "a check failed: $(grep ',FAIL$' "$T/a/checks.csv")"; else ok; fi
# Same seed and threads: the same bits.
"$IMPLREG" double-descent --quick --data linear --sweep samples --out "$T/b1" --quiet &&
  "$IMPLREG" double-descent --quick --data linear --sweep samples --out "$T/b2" --quiet &&
  cmp -s "$T/b1/samples.csv" "$T/b2/samples.csv" && ok || bad "rerun not bit-identical"

# The manifest replays the run (the median-heuristic bandwidth is recorded
# under "derived", outside the replayable "config").
if [ -d /usr/share/datasets/fashion-mnist ]; then
  "$IMPLREG" double-descent --quick --data fashion-mnist --sweep samples --out "$T/c1" --quiet &&
    "$IMPLREG" double-descent --config "$T/c1/manifest.json" --out "$T/c2" --quiet &&
    cmp -s "$T/c1/samples_fashion.csv" "$T/c2/samples_fashion.csv" && ok ||
    bad "replay from manifest.json differs"
  grep -q '"derived"' "$T/c1/manifest.json" && ok || bad "manifest has no derived object"
fi

# Feature j is drawn from its own stream (seed, j) and normalized at the N
# fitted: the numbers at N = 100, 200 and 400 do not depend on how far the
# sweep goes (bit for bit), and ||W|| is that of the size-N model.
if [ -d /usr/share/datasets/fashion-mnist ]; then
  "$IMPLREG" double-descent --data fashion-mnist --sweep model --n 300 \
    --grid 100,200,400 --seed 1 --out "$T/g1" --quiet &&
    "$IMPLREG" double-descent --data fashion-mnist --sweep model --n 300 \
      --grid 100,200,400,1600 --seed 1 --out "$T/g2" --quiet &&
    cmp -s <(head -n 4 "$T/g1/model.csv") <(head -n 4 "$T/g2/model.csv") && ok ||
    bad "model-wise numbers at N <= 400 depend on the grid's end: $(sed -n 2p "$T/g1/model.csv" | cut -c1-80) vs $(sed -n 2p "$T/g2/model.csv" | cut -c1-80)"
fi

# Streamed features (IMPLREG_DD_HOLD=0 streams any size; normally past
# 4 GB of features): the same numbers as the held matrices within the held
# prefix (N <= 2n: the first 12 rows, bit for bit, the condition estimate
# included) and past it the test MSE.  At --accuracy 1e-12 the last size
# (N = 1200, eps*cond(Gram) = 3.4e-12) needs the corrected semi-normal
# equations past the 496 held columns, from a regenerated block of 704
# columns — wider than the prefix (a scratch sized by the prefix broke it)
# to rounding (1e-12 relative; measured 5e-15), every check still passing.
if [ -d /usr/share/datasets/fashion-mnist ]; then
  "$IMPLREG" double-descent --data fashion-mnist --sweep model --n 120 \
    --ntest 200 --N-max 1200 --points 14 --accuracy 1e-12 --out "$T/h1" \
    --quiet &&
    IMPLREG_DD_HOLD=0 "$IMPLREG" double-descent --data fashion-mnist \
      --sweep model --n 120 --ntest 200 --N-max 1200 --points 14 \
      --accuracy 1e-12 --out "$T/h2" --quiet --strict &&
    grep -q '"streamed_after"' "$T/h2/manifest.json" &&
    tail -n 1 "$T/h2/model.csv" | grep -q '^1200,.*,csne,' &&
    cmp -s <(head -n 12 "$T/h1/model.csv") <(head -n 12 "$T/h2/model.csv") &&
    paste -d, "$T/h1/model.csv" "$T/h2/model.csv" | awk -F, -v c=5 '
      NR > 1 { k = NF / 2; a = $c; b = $(c + k); d = (a - b) / a;
               if (d < 0) d = -d; if (d > 1e-12) bad = 1 }
      END { exit bad }' && ok ||
    bad "streamed features differ from held ones beyond rounding"
fi

# The same bits whatever the heap's layout (GLIBC_TUNABLES moves every
# allocation): the condition estimate's last bit followed the alignment of
# dpocon's work vectors (OpenBLAS sums in an alignment-dependent order)
# until they were put on a 64-byte boundary; this grid showed it.  And
# --no-ridge: the table without the optimal-ridge column, its check left out.
if [ -d /usr/share/datasets/fashion-mnist ]; then
  dd_small() {
    "$IMPLREG" double-descent --data fashion-mnist --sweep model --n 400 \
      --ntest 200 --grid 300,400,500,800 --quiet "$@"
  }
  dd_small --out "$T/m1" &&
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4096 dd_small --out "$T/m2" &&
    GLIBC_TUNABLES=glibc.malloc.top_pad=4000 dd_small --out "$T/m3" &&
    cmp -s "$T/m1/model.csv" "$T/m2/model.csv" &&
    cmp -s "$T/m1/model.csv" "$T/m3/model.csv" && ok ||
    bad "model-wise numbers depend on the heap's layout: $(diff "$T/m1/model.csv" "$T/m2/model.csv" | head -n 2 | cut -c1-120)"
  if dd_small --no-ridge --out "$T/m4" &&
    ! head -n 1 "$T/m4/model.csv" | grep -q ridge &&
    ! grep -q 'optimally tuned ridge' "$T/m4/checks.csv" &&
    grep -q 'peaks within one grid step' "$T/m4/checks.csv" &&
    cmp -s <(cut -d, -f1-11 "$T/m1/model.csv") "$T/m4/model.csv"; then ok
  else bad "--no-ridge: $(head -n 1 "$T/m4/model.csv" 2>&1 | cut -c1-120)"; fi
fi

# expect_usage NAME ARGS...: exit status 2, one line on stderr, no output.
expect_usage() {
  local name=$1
  shift
  rm -rf "$T/x"
  "$IMPLREG" double-descent "$@" --out "$T/x" >"$T/out" 2>"$T/err" </dev/null
  local rc=$? lines
  lines=$(wc -l <"$T/err")
  if [ "$rc" -ne 2 ]; then bad "$name: exit $rc, expected 2 ($(head -n 2 "$T/err"))"; return; fi
  if [ "$lines" -ne 1 ]; then bad "$name: $lines lines on stderr"; return; fi
  if [ -e "$T/x" ]; then bad "$name: output folder was created"; return; fi
  ok
}
expect_usage "grid with zero" --grid 0,10
expect_usage "decreasing grid" --grid 20,10
expect_usage "fractional grid" --grid 10.5
expect_usage "n above the data set" --n 70000
expect_usage "bandwidth zero" --sigma 0
expect_usage "bandwidth negative" --sigma -1
expect_usage "label noise above 1" --label-noise 1.5
expect_usage "label noise negative" --label-noise -0.1
expect_usage "unknown data" --data cifar
expect_usage "unknown sweep" --sweep width
expect_usage "unknown features" --features rbf
expect_usage "samples on the 1-D curve" --data teacher-1d --sweep samples
expect_usage "unknown option" --bogus

# Options the selected parts do not use are refused (one line, exit 2).
expect_usage "teacher-1d has no epoch-wise sweep" --data teacher-1d --sweep epochs
expect_usage "linear with random features" --data linear --features rff
expect_usage "linear with label noise" --data linear --label-noise 0.1
expect_usage "n for the sample-wise linear sweep" --data linear --sweep samples --n 50
expect_usage "ntest for the linear model-wise sweep" --data linear --sweep model --ntest 100
expect_usage "bandwidth for teacher-1d" --data teacher-1d --sigma 1
expect_usage "seeds for the epoch-wise curve" --data linear --sweep epochs --seeds 3
expect_usage "seeds for the suite's epoch-wise curve" --sweep epochs --seeds 3
expect_usage "n for the suite" --n 300
expect_usage "a 1-D basis on teacher-1d other than fourier-weighted" --data teacher-1d --features legendre
expect_usage "p for the model-wise linear sweep" --data linear --sweep model --p 40
expect_usage "p too small" --data linear --sweep samples --p 12
expect_usage "grid for the sample-wise Fashion-MNIST sweep" --data fashion-mnist --sweep samples --grid 5,6

# Options are honoured: the linear sweeps take n, p, r2 and sigma2 (and the
# captions say so), a replay from the manifest gives the same bits, and the
# manifest lists only what was given.
if "$IMPLREG" double-descent --quick --data linear --sweep model --n 40 --r2 2 --sigma2 0.5 \
  --out "$T/l1" --quiet; then
  [ "$(sed -n 2p "$T/l1/model_linear.csv" | cut -d, -f1)" = 40 ] && ok || bad "--n 40 not used: $(sed -n 2p "$T/l1/model_linear.csv")"
  grep -q 'n = 40, r² = 2, σ² = 0.5' "$T/l1/model_linear.md" && ok || bad "--r2/--sigma2 not in the caption"
  "$IMPLREG" double-descent --config "$T/l1/manifest.json" --out "$T/l2" --quiet &&
    cmp -s "$T/l1/model_linear.csv" "$T/l2/model_linear.csv" && ok || bad "linear replay differs"
  grep -q '"ntest"\|"label-noise"\|"N-max"' "$T/l1/manifest.json" && bad "manifest records unused options" || ok
else
  bad "linear model-wise with --n --r2 --sigma2: exit $?"
fi
"$IMPLREG" double-descent --quick --data linear --sweep samples --p 30 --seeds 7 --out "$T/l3" --quiet &&
  [ "$(sed -n 2p "$T/l3/samples.csv" | cut -d, -f2)" = 30 ] && ok || bad "--p 30 not used"
"$IMPLREG" double-descent --quick --data linear --sweep epochs --n 50 --ntest 100 --sigma2 0 \
  --out "$T/l4" --quiet && grep -q 'p = n = 50, r^2 = 1, sigma^2 = 0 ' "$T/l4/epochs.md" && ok ||
  bad "linear epoch-wise options not used"
if [ -d /usr/share/datasets/fashion-mnist ]; then
  "$IMPLREG" double-descent --quick --data fashion-mnist --sweep epochs --label-noise 0 \
    --out "$T/e0" --quiet && grep -q 'label noise 0 ' "$T/e0/epochs.md" && ok ||
    bad "epoch-wise --label-noise 0 not honoured: $(head -n 1 "$T/e0/epochs.md")"
fi
# --seeds on teacher-1d: quartiles and standard errors over the seeds.
"$IMPLREG" double-descent --quick --data teacher-1d --seeds 5 --n 12 --out "$T/t5" --quiet
head -n 1 "$T/t5/classical.csv" | grep -q 'test_mse_se,test_mse_q25,test_mse_median,test_mse_q75' &&
  [ "$(sed -n 2p "$T/t5/classical.csv" | cut -d, -f2)" = 12 ] && ok ||
  bad "teacher-1d --seeds 5 --n 12: $(head -n 2 "$T/t5/classical.csv")"

# --seeds > 1: standard-error columns and a mean +- SE band in the figures.
"$IMPLREG" double-descent --quick --data linear --sweep model --seeds 4 --out "$T/s4" --quiet &&
  grep -q '^# x y se' "$T/s4/model_linear.dat" && grep -q 'standard error' "$T/s4/model_linear.gp" && ok ||
  bad "no SE column or band in model_linear"
# With 4 Monte-Carlo draws the standard error is too uncertain to judge a
# mean by: no z check, and the table says why (20 draws make the check).
grep -q 'measured risk matches' "$T/s4/checks.csv" && bad "z check made with 4 seeds" || ok
grep -q 'nothing here is checked: fewer than 20' "$T/s4/model_linear.md" && ok ||
  bad "model_linear.md does not say why the z check is missing"
"$IMPLREG" double-descent --quick --data linear --sweep model --seeds 20 --out "$T/s20" --quiet &&
  grep -q 'measured risk matches' "$T/s20/checks.csv" && ok || bad "no z check with 20 seeds"
if [ -d /usr/share/datasets/fashion-mnist ]; then
  "$IMPLREG" double-descent --quick --data fashion-mnist --sweep model --seeds 2 --out "$T/s2" --quiet &&
    head -n 1 "$T/s2/model.csv" | grep -q ',test_mse_se,' &&
    grep -q '^# x y se' "$T/s2/model_risk.dat" && ok || bad "model-wise --seeds 2: no SE column or band"
fi

# IMPLREG_BREAK: each plausible bug is caught by some check (announced on
# stderr, recorded in the manifest).
brk() {
  local name=$1
  shift
  rm -rf "$T/brk"
  IMPLREG_BREAK=$name "$IMPLREG" double-descent --quick "$@" --out "$T/brk" --quiet 2>"$T/brk.err"
  if ! grep -q ',FAIL$' "$T/brk/checks.csv" 2>/dev/null; then
    bad "IMPLREG_BREAK=$name ($*): no check failed"
  elif ! grep -q "IMPLREG_BREAK=$name" "$T/brk.err" || ! grep -q '"break"' "$T/brk/manifest.json"; then
    bad "IMPLREG_BREAK=$name: not announced or not in the manifest"
  else
    ok
  fi
}
if [ -d /usr/share/datasets/fashion-mnist ]; then
  brk feature-scale --data fashion-mnist --sweep model
  brk norm --data fashion-mnist --sweep model
  brk test-mse --data fashion-mnist --sweep model
fi
brk linear-noise --data linear --sweep model
brk linear-noise --data linear --sweep samples
brk relu-noise --sweep model
brk gd-step --data linear --sweep epochs
brk classical-weights --data teacher-1d

echo "$NAME: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
