#!/bin/bash
# cli_igr.sh — `implreg igr` through the command line.
#
# Bad input and bad usage (step sizes, momentum, batches, seeds, the
# --X/--Y problem and its files, tolerances and steppers, the window of
# the λ fits, a step the user chose that diverges, a stiff problem the
# explicit stepper cannot finish): exit status exactly 2, exactly one
# stderr line that starts with 'implreg' and names what is wrong, nothing
# on stdout, no file left in the run folder (tests/cli_lib.sh:
# expect_fail); several of them again under valgrind when VALGRIND is set.
# An empty --model list is refused too.  Inputs that must neither crash
# nor garble the options: --h and --momentum lists longer than the
# analysis's fixed arrays, a horizon --T whose iterates cannot be stored,
# and --momentum 0.9 on quad1d (run, or refused naming --momentum).
#
# Results: `--model quad1d --strict` writes every table, figure and the
# manifest, every check passes, and errors.csv at h = 0.1, t = 1 holds
# docs/theory.md's 1.920e-2 (gradient flow) and 1.259e-3 (modified flow);
# `--config DIR/manifest.json` repeats a run bit for bit (quad1d and
# teacher); two-param's GD ends at a^2 + b^2 = 9.08331 (flatness.csv);
# small linear, teacher, --X/--Y least-squares (with SGD) and --X/--Y
# network runs pass their checks; each IMPLREG_BREAK mutation is caught by
# at least one check under --strict (exit 3).  Against tests/igr_ref.py,
# an independent numpy/scipy reference (GD, heavy ball, the flows by
# solve_ivp DOP853, the λ fits by minimize_scalar and least_squares) on a
# Gaussian least-squares problem it makes, and a torch float64 reference
# on the teacher network with PyTorch's initialization; the reference must
# also see IMPLREG_BREAK=coefficient,fit-step.
#
# Environment (Makefile.am AM_TESTS_ENVIRONMENT): IMPLREG, VALGRIND (or
# empty), PYTHON3 (or empty, or without numpy/scipy: the reference is
# skipped, with a message; without torch only its network part),
# top_srcdir (for tests/cli_lib.sh and tests/igr_ref.py; else the script's
# own folder), OPENBLAS_NUM_THREADS=1 (bit-identical reruns need the same
# thread count).  Writes only into a mktemp -d folder, removed on exit.
set -u

if [ -n "${top_srcdir:-}" ]; then TESTS_DIR=$top_srcdir/tests; else TESTS_DIR=$(dirname "$0"); fi
# shellcheck source=tests/cli_lib.sh
. "$TESTS_DIR/cli_lib.sh" || exit 99
cli_init cli_igr
unset IMPLREG_BREAK
PYTHON3=${PYTHON3:-}
IGR_REF=$TESTS_DIR/igr_ref.py
IN=$T/in
mkdir "$IN" || exit 99

# ---- helpers ------------------------------------------------------------------

# same_files LABEL DIR1 DIR2 FILE...: each file is identical in both.
same_files() {
  local label=$1 a=$2 b=$3 f
  shift 3
  for f in "$@"; do
    if cmp -s "$a/$f" "$b/$f"; then record "$label: $f bit for bit"; else
      record "$label: $f bit for bit" "$(diff "$a/$f" "$b/$f" 2>&1 | head -n 4)"
    fi
  done
}

# no_crash LABEL OPTPAT DIR ARGS...: implreg must either succeed (exit 0,
# nothing on stderr under --quiet, OUT/errors.csv written and, when
# NC_ROWS="METHOD COUNT" is set, COUNT rows of that method in it) or refuse
# cleanly (exit 2 or, for memory, 1; one stderr line starting with
# 'implreg' that matches OPTPAT; nothing on stdout; no output folder) —
# never die of a signal or act on garbled options.
no_crash() {
  local label=$1 pat=$2 dir=$3 rc nl n
  shift 3
  nrun=$((nrun + 1))
  mkdir -p "$dir" || return 1
  (cd "$dir" && exec "$IMPLREG" "$@") >"$T/res/nc$nrun.out" 2>"$T/res/nc$nrun.err" </dev/null
  rc=$?
  nl=$(wc -l <"$T/res/nc$nrun.err")
  local why=()
  if [ "$rc" -gt 128 ]; then
    why+=("killed by signal $((rc - 128)) (exit $rc)")
  elif [ "$rc" -eq 0 ]; then
    [ "$nl" -eq 0 ] || why+=("exit 0 with $nl stderr lines under --quiet")
    if [ ! -s "$dir/OUT/errors.csv" ]; then
      why+=("exit 0 without OUT/errors.csv")
    elif [ -n "${NC_ROWS:-}" ]; then
      read -r m n <<<"$NC_ROWS"
      nl=$(awk -F, -v m="$m" 'NR > 1 && $2 == m' "$dir/OUT/errors.csv" | wc -l)
      [ "$nl" -eq "$n" ] || why+=("errors.csv has $nl rows of method $m, expected $n")
    fi
  elif [ "$rc" -eq 1 ] || [ "$rc" -eq 2 ]; then
    [ "$nl" -eq 1 ] || why+=("exit $rc with $nl stderr lines, expected one")
    grep -Eq -- "^implreg.*($pat)" "$T/res/nc$nrun.err" ||
      why+=("exit $rc, but stderr does not name /$pat/")
    [ ! -s "$T/res/nc$nrun.out" ] || why+=("stdout is not empty")
    [ ! -e "$dir/OUT" ] || why+=("the failed run left $dir/OUT")
  else
    why+=("exit status $rc")
  fi
  if [ ${#why[@]} -eq 0 ]; then record "$label"; else
    record "$label" "command: (cd $dir && implreg ${*:1:8} ...)" "${why[@]}" \
      "stderr: $(head -c 300 "$T/res/nc$nrun.err" | head -n 3)"
  fi
}

# csv_field FILE COLUMN FILTER: the values of COLUMN (by header name) on
# the rows where the awk condition FILTER (over the columns as c["name"])
# holds, one a line.
csv_field() {
  awk -F, -v col="$2" '
    NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
    { for (k in idx) c[k] = $(idx[k]); if ('"$3"') print $(idx[col]) }' "$1"
}

# ---- inputs (pure shell: no Python needed outside the reference) ----------------------

cd "$IN" || exit 99
printf '1,2\n3,nan\n5,6\n' >xnan.csv
printf '1,2\n3\n5,6\n' >xrag.csv
printf '1,2\n3,4\n5,7\n' >x.csv
printf '1\n2\n3\n' >y.csv
printf '1\n2\n' >y2.csv
printf '1\n2\n3\n' >init3.csv
# A small least-squares problem (8 x 4) and a network problem (12 x 3),
# smooth deterministic functions of the row index.
awk 'BEGIN { for (i = 1; i <= 8; i++)
  printf "%.6f,%.6f,%.6f,%.6f\n", sin(1.7*i+0.3), cos(0.9*i*i+0.1), sin(0.5*i)*cos(1.3*i), 0.3+0.1*i }' >ux.csv
awk 'BEGIN { for (i = 1; i <= 8; i++) printf "%.6f\n", sin(0.8*i) + 0.2*cos(3.1*i) }' >uy.csv
awk 'BEGIN { for (i = 1; i <= 12; i++)
  printf "%.6f,%.6f,%.6f\n", sin(1.7*i+0.3), cos(0.9*i*i+0.1), sin(0.5*i)*cos(1.3*i) }' >nx.csv
awk 'BEGIN { for (i = 1; i <= 12; i++) printf "%.6f\n", sin(0.8*i) + 0.2*cos(3.1*i) }' >ny.csv
cd "$T" || exit 99
IN_BEFORE=$(snapshot "$IN")

OUT=@D@/OUT
Q=(igr --model quad1d --out "$OUT")
LIN0=(igr --model linear --n 10 --p 20 --steps 48 --segments 4 --shuffles 200)
LIN=("${LIN0[@]}" --out "$OUT")
U=(igr --X "$IN/x.csv" --Y "$IN/y.csv" --out "$OUT")
NET=(igr --X "$IN/nx.csv" --Y "$IN/ny.csv" --arch 3-4-1 --act tanh --loss half-mse --out "$OUT")

# ---- step sizes, momentum, batches, seeds ------------------------------------------------

expect_fail_novg "--h 0" 2 '--h' '\b0 is out of range' -- "${Q[@]}" --h 0
expect_fail_novg "--h -1" 2 '--h' '-1' 'range' -- "${Q[@]}" --h -1
expect_fail "--h abc" 2 '--h' "'abc'" -- "${Q[@]}" --h abc
expect_fail_novg "--h ''" 2 '--h' 'empty' -- "${Q[@]}" --h ''
expect_fail_novg "--h 1,,2 (an empty item)" 2 '--h' 'empty' '1,,2' -- "${Q[@]}" --h 1,,2
expect_fail_novg "--momentum 1" 2 '--momentum' '\b1\b' -- "${Q[@]}" --momentum 1
expect_fail_novg "--momentum -0.1" 2 '--momentum' '-0\.1' -- "${Q[@]}" --momentum -0.1
expect_fail "--momentum 0 (GD always runs)" 2 '--momentum 0' 'GD' 'always runs' -- "${Q[@]}" --momentum 0
expect_fail_novg "--batch 3 (must divide 8)" 2 '--batch 3' 'divide 8' -- "${LIN[@]}" --batch 3
expect_fail_novg "--batch with --model quad1d only" 2 '--batch' 'least squares' -- "${Q[@]}" --batch 2
expect_fail_novg "--shuffles with --model quad1d only" 2 '--shuffles' 'least squares' -- "${Q[@]}" --shuffles 100
expect_fail_novg "--seeds 2 with quad1d only" 2 '--seeds 2' 'network' -- "${Q[@]}" --seeds 2
expect_fail_novg "--T 0" 2 '--T' '\b0\b' -- "${Q[@]}" --T 0

# ---- models and the --X/--Y problem ----------------------------------------------------------

expect_fail_novg "unknown --model name" 2 "'foo'" 'quad1d' 'two-param' -- igr --model foo --out "$OUT"
# An empty list selects nothing: a run that measures nothing must not
# succeed silently.
expect_fail_novg "--model ',' (no model named)" 2 '--model' -- igr --model , --out "$OUT"
expect_fail_novg "--arch without --X/--Y" 2 '--arch' '--X/--Y' -- "${Q[@]}" --arch 3-4-1
expect_fail_novg "--X without --Y" 2 '--X' '--Y' -- igr --X "$IN/x.csv" --out "$OUT"
expect_fail_novg "--Y without --X" 2 '--X' '--Y' -- igr --Y "$IN/y.csv" --out "$OUT"
expect_fail_novg "--X/--Y with --model" 2 '--model' '--X/--Y' -- "${U[@]}" --model quad1d
expect_fail "--X file holding a NaN" 2 '--X' 'xnan\.csv' ':2:' '[Nn]a[Nn]' -- igr --X "$IN/xnan.csv" --Y "$IN/y.csv" --out "$OUT"
expect_fail_novg "--X ragged CSV" 2 '--X' 'xrag\.csv' ':2:' 'fields' -- igr --X "$IN/xrag.csv" --Y "$IN/y.csv" --out "$OUT"
expect_fail_novg "--X file does not exist" 2 '--X' 'nothere\.csv' -- igr --X "$IN/nothere.csv" --Y "$IN/y.csv" --out "$OUT"
expect_fail_novg "--Y with the wrong number of rows" 2 '--Y' 'y2\.csv' '\b3\b' -- igr --X "$IN/x.csv" --Y "$IN/y2.csv" --out "$OUT"
expect_fail_novg "--init of the wrong length (least squares)" 2 '--init' 'init3\.csv' '\b3 values' '\b2 columns' -- "${U[@]}" --init "$IN/init3.csv"
expect_fail "--init of the wrong length (network)" 2 '--init' 'init3\.csv' '\b3 values' '\b21 parameters' -- "${NET[@]}" --init "$IN/init3.csv"
expect_fail_novg "--X with 3 columns for --arch 4-8-1" 2 '3 columns' '4-8-1' -- igr --X "$IN/nx.csv" --Y "$IN/ny.csv" --arch 4-8-1 --out "$OUT"
expect_fail_novg "--n with --X/--Y" 2 '--n' -- "${U[@]}" --n 3
expect_fail_novg "--p with --model quad1d" 2 '--p\b' 'linear' -- "${Q[@]}" --p 5
expect_fail_novg "--loss-goal with --model quad1d" 2 '--loss-goal' 'network' -- "${Q[@]}" --loss-goal 0.1

# ---- flows and the fit window -------------------------------------------------------------------

expect_fail_novg "--rtol 1e-3 (range [1e-13, 1e-7])" 2 '--rtol' '1e-3' '1e-13' -- "${Q[@]}" --rtol 1e-3
expect_fail_novg "--rtol 1e-15" 2 '--rtol' '1e-15' -- "${Q[@]}" --rtol 1e-15
expect_fail_novg "--stepper foo" 2 '--stepper' "'?foo'?" 'msbdf' -- "${Q[@]}" --stepper foo
expect_fail_novg "--flow-max-steps 0" 2 '--flow-max-steps' -- "${Q[@]}" --flow-max-steps 0
expect_fail_novg "--steps 4 (at least 8)" 2 '--steps' '\b4\b' '\b8\b' -- "${Q[@]}" --steps 4
expect_fail_novg "--segments larger than steps/2" 2 '--segments 5' '--steps >= 10' -- "${Q[@]}" --steps 8 --segments 5
expect_fail_novg "unknown option" 2 '--bogus' -- "${Q[@]}" --bogus
expect_fail_novg "stray argument" 2 "'stray'" -- "${Q[@]}" stray

# ---- failed computations ---------------------------------------------------------------------------

# A step the user chose that diverges: one clear line, no partial files.
expect_fail "GD diverging at the chosen --h 2.5" 2 'diverged' '2\.5' -- "${Q[@]}" --h 2.5
# rk8pd with a budget of 5 steps cannot finish: the message points to msbdf.
expect_fail "stiff: --stepper rk8pd --flow-max-steps 5" 2 'rk8pd' 'msbdf' -- "${LIN[@]}" --stepper rk8pd --flow-max-steps 5

# Inputs that must not crash implreg or garble its options.  1000 step
# sizes or momenta (the analysis keeps lists in fixed arrays of 64) must
# either run completely or be refused naming the option; --T 1e12 asks for
# 5e12 iterates, which cannot be allocated: a clean failure.  A momentum
# the help allows, 0.9, must run on quad1d or be refused naming --momentum.
H1000=$(awk 'BEGIN { for (i = 1; i <= 1000; i++) printf "%s%g", (i > 1 ? "," : ""), 0.00005 * i }')
M1000=$(awk 'BEGIN { for (i = 1; i <= 1000; i++) printf "%s0.5", (i > 1 ? "," : "") }')
NC_ROWS="gd 2000" no_crash "--h with 1000 step sizes" '--h' "$T/big-h" \
  igr --model quad1d --h "$H1000" --momentum 0.5 --steps 8 --segments 2 --out OUT --quiet
NC_ROWS="hb 2000" no_crash "--momentum with 1000 values" '--momentum' "$T/big-m" \
  igr --model quad1d --h 0.01 --momentum "$M1000" --steps 8 --segments 2 --out OUT --quiet
no_crash "--T 1e12 (iterates that cannot be stored)" '--T|memory|iterates' "$T/big-T" \
  igr --model quad1d --T 1e12 --steps 8 --segments 2 --out OUT --quiet
no_crash "--model quad1d --momentum 0.9" '--momentum' "$T/beta09" \
  igr --model quad1d --momentum 0.9 --out OUT --quiet

# ---- quad1d: every output, the reference numbers, the manifest ------------------------------------

cd "$T" || exit 99
if run_ok "igr --model quad1d --strict" "$T" igr --model quad1d --strict --quiet --out Q; then
  has_tables "quad1d writes its tables and manifest" Q errors.csv slopes.csv lambda.csv rates.csv \
    checks.csv manifest.json
  has_tables "quad1d writes its figures (.gp and .dat)" Q errors-quad1d-gd.gp errors-quad1d-gd.dat \
    errors-quad1d-hb0.5.gp errors-quad1d-hb0.5.dat lambda.gp lambda.dat
  if command -v gnuplot >/dev/null 2>&1; then
    has_tables "quad1d renders .png figures (gnuplot is installed)" Q errors-quad1d-gd.png \
      errors-quad1d-hb0.5.png lambda.png
  fi
  all_checks_pass "quad1d: every check passes (checks.csv)" Q/checks.csv
  if [ -s "$RUN_OUT" ]; then record "--quiet prints nothing" "stdout: $(head -n 2 "$RUN_OUT")"; else record "--quiet prints nothing"; fi
  # docs/theory.md 5: GD with h = 0.1 on theta^2/2 at t = 1.
  row=$(csv_field Q/errors.csv t 'c["model"] == "quad1d" && c["method"] == "gd" && c["horizon"] == "T" && c["h"] + 0 == 0.1')
  for want in "err_flow 1.920e-2" "err_modified 1.259e-3"; do
    read -r col ref <<<"$want"
    got=$(csv_field Q/errors.csv "$col" 'c["model"] == "quad1d" && c["method"] == "gd" && c["horizon"] == "T" && c["h"] + 0 == 0.1')
    if [ "$row" = 1 ] && awk -v g="$got" -v r="$ref" 'BEGIN { d = g - r; if (d < 0) d = -d; exit !(d <= 1e-3 * r) }'; then
      record "quad1d errors.csv, h = 0.1, t = 1: $col = $got ~ $ref"
    else
      record "quad1d errors.csv, h = 0.1, t = 1: $col ~ $ref" "t = '$row', $col = '$got'"
    fi
  done
  # Every reported fit moved from its start (the theory's value: a fit
  # that returns it unchanged measured nothing) and lies in its interval,
  # which stays in the searched range +-1000 lambda_theory (igr.h,
  # IR_IGR_LAMBDA_RANGE).  NaN (a failed fit) is fine.
  bad=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { f = $c["lambda_fit"]; lo = $c["lambda_lo"]; hi = $c["lambda_hi"]; th = $c["lambda_theory"] }
    f == "nan" || f == "" { next }
    f == th || lo + 0 > f + 0 || hi + 0 < f + 0 || lo + 0 < -1000 * th || hi + 0 > 1000 * th {
      printf "%s h %s: fit %s, interval [%s, %s], theory %s; ", $c["method"], $c["h"], f, lo, hi, th }' Q/lambda.csv)
  if [ -z "$bad" ]; then record "quad1d lambda.csv: every fit moved from lambda_theory and lies in its interval within +-1000 lambda_theory"; else
    record "quad1d lambda.csv: every fit moved from lambda_theory and lies in its interval within +-1000 lambda_theory" "$bad"
  fi
  # Rerun from the manifest (same OPENBLAS_NUM_THREADS, exported by cli_init).
  if run_ok "igr --config Q/manifest.json --out Q2 (quad1d)" "$T" igr --config Q/manifest.json --out Q2 --quiet; then
    same_files "quad1d --config manifest.json" Q Q2 errors.csv slopes.csv lambda.csv rates.csv checks.csv
  fi
fi

# ---- two-param: where GD ends ------------------------------------------------------------------------

if run_ok "igr --model two-param --strict" "$T" igr --model two-param --strict --quiet --out TP; then
  has_tables "two-param writes flatness.csv and the plane figure" TP flatness.csv plane.gp plane.dat errors.csv
  all_checks_pass "two-param: every check passes (checks.csv)" TP/checks.csv
  gd=$(csv_field TP/flatness.csv a2_plus_b2 'c["run"] == "GD" && c["h"] + 0 == 0.02')
  g6=$(awk -v g="$gd" 'BEGIN { printf "%.6g", g }')
  if [ "$g6" = 9.08331 ]; then record "two-param: GD at h = 0.02 ends at a^2 + b^2 = $gd (9.08331 to 6 digits)"; else
    record "two-param: GD at h = 0.02 ends at a^2 + b^2 = 9.08331 to 6 digits" "flatness.csv: '$gd'"
  fi
  gf=$(csv_field TP/flatness.csv a2_plus_b2 'c["run"] == "gradient flow"')
  mf=$(csv_field TP/flatness.csv a2_plus_b2 'c["run"] == "modified flow"')
  if awk -v a="$gd" -v b="$mf" -v c="$gf" 'BEGIN { exit !(a < b && b < c) }'; then
    record "two-param: GD ($gd) < modified flow ($mf) < gradient flow ($gf) in a^2 + b^2"
  else
    record "two-param: GD < modified flow < gradient flow in a^2 + b^2" "GD '$gd', modified '$mf', flow '$gf'"
  fi
fi

# ---- linear, teacher, and the user's problems ------------------------------------------------------

if run_ok "${LIN0[*]} --strict" "$T" "${LIN0[@]}" --strict --quiet --out LIN; then
  has_tables "linear writes errors, lambda, sgd tables" LIN errors.csv lambda.csv sgd.csv slopes.csv
  all_checks_pass "linear: every check passes (checks.csv)" LIN/checks.csv
fi

TEACH=(igr --model teacher --steps 48 --segments 4 --quick --strict --quiet)
if run_ok "igr --model teacher --steps 48 --segments 4 --quick --strict" "$T" "${TEACH[@]}" --out TE; then
  has_tables "teacher writes the network tables" TE errors.csv lambda.csv networks.csv network_runs.csv egr.csv
  all_checks_pass "teacher: every check passes (checks.csv)" TE/checks.csv
  if run_ok "igr --config TE/manifest.json --out TE2 (teacher)" "$T" igr --config TE/manifest.json --out TE2 --quiet; then
    same_files "teacher --config manifest.json" TE TE2 errors.csv lambda.csv networks.csv network_runs.csv egr.csv checks.csv
  fi
fi

if run_ok "igr --X ux.csv --Y uy.csv (least squares, SGD --batch 1,2) --strict" "$T" igr --X "$IN/ux.csv" \
  --Y "$IN/uy.csv" --steps 48 --segments 4 --quick --batch 1,2 --strict --quiet --out UL; then
  has_tables "--X/--Y least squares writes errors, lambda, sgd tables" UL errors.csv lambda.csv sgd.csv
  all_checks_pass "--X/--Y least squares: every check passes (checks.csv)" UL/checks.csv
  # GD's fitted coefficient at the smallest h: finite and within 5% of h/4.
  r=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["method"] == "gd" && (m == "" || $c["h"] + 0 < m) { m = $c["h"] + 0; r = $c["ratio"] }
    END { print r }' UL/lambda.csv)
  if awk -v r="$r" 'BEGIN { exit !(r + 0 == r + 0 && r > 0.95 && r < 1.05) }' && [ "$r" != nan ]; then
    record "--X/--Y least squares: lambda_fit/(h/4) = $r at the smallest h (finite, within 5% of 1)"
  else
    record "--X/--Y least squares: lambda_fit/(h/4) near 1 at the smallest h" "ratio '$r'"
  fi
  n=$(csv_field UL/sgd.csv set 'c["set"] == "user" && c["exact"] == 1' | wc -l)
  if [ "$n" -eq 8 ]; then record "--X/--Y SGD: 8 exact rows (B = 1, 2 x 4 steps) for the user's set"; else
    record "--X/--Y SGD: 8 exact rows for the user's set" "$n rows"
  fi
fi

if run_ok "igr --X nx.csv --Y ny.csv --arch 3-4-1 --act tanh --loss half-mse --strict" "$T" \
  igr --X "$IN/nx.csv" --Y "$IN/ny.csv" --arch 3-4-1 --act tanh --loss half-mse --steps 48 \
  --segments 4 --quick --strict --quiet --out UN; then
  has_tables "--X/--Y network writes the network tables" UN errors.csv lambda.csv networks.csv egr.csv
  all_checks_pass "--X/--Y network: every check passes (checks.csv)" UN/checks.csv
fi

# ---- IMPLREG_BREAK: each plausible bug is caught by a check -------------------------------------

# NAME and the smallest run whose checks cover it; under --strict the run
# must exit 3 with at least one failed claim (listed for the log).
for c in "coefficient quad1d" "fit-step quad1d" "momentum quad1d" "closed-form quad1d" \
  "start quad1d" "flatness two-param" "sign two-param" "kappa linear" "egr teacher"; do
  read -r b m <<<"$c"
  case $m in
  quad1d) args=(igr --model quad1d --quick --steps 48 --segments 4) ;;
  linear) args=("${LIN0[@]}" --quick --batch 1) ;;
  teacher) args=(igr --model teacher --steps 48 --segments 4 --quick) ;;
  *) args=(igr --model "$m" --quick) ;;
  esac
  RUN_ENV=("IMPLREG_BREAK=$b")
  RUN_CODE=3
  if run_ok "IMPLREG_BREAK=$b --model $m --strict: a check fails (exit 3)" "$T" "${args[@]}" \
    --strict --quiet --out "BRK-$b"; then
    nf=$(grep -c ',FAIL$' "BRK-$b/checks.csv")
    if [ "$nf" -ge 1 ] && grep -q "IMPLREG_BREAK=$b" "$RUN_ERR" &&
      grep -q "\"break\": \"$b\"" "BRK-$b/manifest.json"; then
      record "IMPLREG_BREAK=$b: announced, recorded in the manifest, $nf failed claim(s)"
      echo "  IMPLREG_BREAK=$b caught by: $(grep ',FAIL$' "BRK-$b/checks.csv" | head -n 1 | cut -c1-110)"
    else
      record "IMPLREG_BREAK=$b: announced, recorded in the manifest, a failed claim" \
        "$nf FAIL rows; stderr: $(head -n 1 "$RUN_ERR")"
    fi
  fi
  RUN_ENV=()
  unset RUN_CODE
done

# ---- against the independent reference (numpy/scipy, torch) ------------------------------------------

if [ -z "$PYTHON3" ]; then
  echo "SKIP the numpy/scipy reference (tests/igr_ref.py): PYTHON3 is empty"
  skip=$((skip + 1))
elif ! "$PYTHON3" -c 'import numpy, scipy' 2>/dev/null; then
  echo "SKIP the numpy/scipy reference (tests/igr_ref.py): $PYTHON3 cannot import numpy and scipy"
  skip=$((skip + 1))
else
  R=$T/ref/lsq
  if ! "$PYTHON3" "$IGR_REF" make-lsq "$R" >"$T/res/make-lsq.out" 2>&1; then
    record "tests/igr_ref.py make-lsq" "$(tail -n 5 "$T/res/make-lsq.out")"
  else
    HL=$(cat "$R/h.txt")
    REFARGS=(igr --X X.csv --Y Y.csv --h "$HL" --momentum 0.5 --steps 48 --segments 4 --quiet)
    if run_ok "igr --X X.csv --Y Y.csv --h (3 values) --momentum 0.5 --steps 48 --segments 4" "$R" \
      "${REFARGS[@]}" --out D; then
      checker "reference, least squares" "$PYTHON3" "$IGR_REF" check-lsq "$R" "$R/D"
    fi
    # The reference must see a wrong coefficient and a wrong fit step.
    RUN_ENV=("IMPLREG_BREAK=coefficient,fit-step")
    if run_ok "IMPLREG_BREAK=coefficient,fit-step igr --X X.csv --Y Y.csv ..." "$R" "${REFARGS[@]}" --out DB; then
      "$PYTHON3" "$IGR_REF" check-lsq "$R" "$R/DB" >"$T/res/ref-broken" 2>&1
      rc=$?
      nmod=$(grep -c '^FAIL .*err_modified' "$T/res/ref-broken")
      nflow=$(grep -c '^FAIL .*err_flow' "$T/res/ref-broken")
      ngd=$(grep -Ec '^FAIL .* gd h = .*lambda_fit' "$T/res/ref-broken")
      nhb=$(grep -Ec '^FAIL .* hb h = .*(lambda_fit|c_fit)' "$T/res/ref-broken")
      # A step 5% off: GD's lambda moves; heavy ball's fitted time scale c
      # absorbs it (phi(1.05 t; c) = phi(t; 1.05 c)).
      if [ "$rc" -eq 1 ] && [ "$nmod" -eq 12 ] && [ "$nflow" -eq 0 ] && [ "$ngd" -eq 3 ] && [ "$nhb" -ge 3 ]; then
        record "reference detects IMPLREG_BREAK=coefficient,fit-step (12 err_modified, 3 GD lambda_fit, $nhb heavy-ball c_fit/lambda_fit FAILs; err_flow agrees)"
      else
        record "reference detects IMPLREG_BREAK=coefficient,fit-step" \
          "exit $rc; FAIL lines: err_modified $nmod (want 12), err_flow $nflow (want 0), GD lambda_fit $ngd (want 3), heavy ball $nhb (want >= 3)" \
          "$(grep -v '^PASS' "$T/res/ref-broken" | head -n 6)"
      fi
    fi
    RUN_ENV=()
  fi
  if ! "$PYTHON3" -c 'import torch' 2>/dev/null; then
    echo "SKIP the torch reference of the teacher network: $PYTHON3 cannot import torch"
    skip=$((skip + 1))
  else
    R=$T/ref/net
    if ! "$PYTHON3" "$IGR_REF" make-net "$R" >"$T/res/make-net.out" 2>&1; then
      record "tests/igr_ref.py make-net" "$(tail -n 5 "$T/res/make-net.out")"
    elif run_ok "igr --X X.npy --Y Y.npy --arch 4-32-1 --act tanh --loss half-mse --init theta.npy" "$R" \
      igr --X X.npy --Y Y.npy --arch 4-32-1 --act tanh --loss half-mse --init theta.npy \
      --h "$(cat "$R/h.txt")" --steps 48 --segments 4 --quick --quiet --out D; then
      checker "reference, teacher network (torch)" "$PYTHON3" "$IGR_REF" check-net "$R" "$R/D"
    fi
  fi
fi

# ---- valgrind results and the inputs --------------------------------------------------------------

cli_collect_vg
if [ "$(snapshot "$IN")" = "$IN_BEFORE" ]; then record "the input folder is unchanged"; else
  record "the input folder is unchanged" "$(diff <(printf '%s\n' "$IN_BEFORE") <(snapshot "$IN"))"
fi
cli_summary
