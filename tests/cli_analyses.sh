#!/bin/bash
# cli_analyses.sh — the analyses run end to end through the command line:
# `implreg gd-vs-minnorm --quick` writes every table, the checks, the figure
# and the manifest; every check passes; the manifest repeats the run bit for
# bit (--config DIR/manifest.json); --format and --strict behave; `implreg all
# --quick` writes the combined checks and one folder per analysis; and, when
# the Debian package dataset-fashion-mnist is installed, a quick Fashion-MNIST
# run passes too.  Claims follow their premises: with n > p no row-space
# and no SGD-convergence claim (and runs.md says why), but SGD with
# replacement is checked against its predicted noise floor; a GD run capped
# before convergence claims no limit; each IMPLREG_BREAK mutation of
# gd-vs-minnorm (traj, pinv, w0, start, sweep, floor) makes a named check FAIL
# under --strict (exit 3).
#
# Environment (Makefile.am AM_TESTS_ENVIRONMENT): IMPLREG, PYTHON3 (or empty),
# OPENBLAS_NUM_THREADS=1 (bit-identical reruns need the same thread count).
# Writes only into a mktemp -d folder, removed on exit.
set -u

NAME=cli_analyses
if [ -z "${IMPLREG:-}" ] || [ ! -x "$IMPLREG" ]; then
  echo "$NAME: IMPLREG='${IMPLREG:-}' is not an executable (run through make check)" >&2
  exit 99
fi
PYTHON3=${PYTHON3:-}
OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
export OPENBLAS_NUM_THREADS
FASHION_DIR=/usr/share/datasets/fashion-mnist

T=$(mktemp -d "${TMPDIR:-/tmp}/implreg-$NAME.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
trap 'exit 130' HUP INT TERM
cd "$T" || exit 99

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
  fail=$((fail + 1))
  echo "FAIL $1"
  shift
  for l in "$@"; do printf '  %s\n' "$l"; done
}

# run NAME EXPECTED_STATUS ARGS...: runs implreg ARGS (stdout in $T/out,
# stderr in $T/err) and checks the exit status; returns 1 on a mismatch.
run() {
  local name=$1 want=$2
  shift 2
  "$IMPLREG" "$@" >"$T/out" 2>"$T/err" </dev/null
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    bad "$name" "command: implreg $*" "exit status $rc, expected $want" "stderr: $(head -n 3 "$T/err")"
    return 1
  fi
  ok
  return 0
}

# has_files NAME DIR FILE...: each file exists and is not empty.
has_files() {
  local name=$1 dir=$2 f missing=
  shift 2
  for f in "$@"; do [ -s "$dir/$f" ] || missing="$missing $f"; done
  [ -z "$missing" ] && ok || bad "$name" "missing or empty in $(basename "$dir"):$missing"
}

# lacks_files NAME DIR FILE...: none of the files exists.
lacks_files() {
  local name=$1 dir=$2 f present=
  shift 2
  for f in "$@"; do [ -e "$dir/$f" ] && present="$present $f"; done
  [ -z "$present" ] && ok || bad "$name" "present in $(basename "$dir"):$present"
}

# checks_pass NAME FILE: a checks.csv with the documented header, at least
# one claim, every verdict PASS (the last field; claims may hold quoted
# commas, the verdict never does).
checks_pass() {
  local name=$1 f=$2 msg
  if [ ! -s "$f" ]; then
    bad "$name" "no $f"
    return
  fi
  msg=$(awk -F, '
    NR == 1 { if ($0 != "claim,source,predicted,measured,tolerance,verdict") { print "header: " $0; bad = 1 }; next }
    NF { n++; v = $NF; sub(/\r$/, "", v); if (v != "PASS") { print "not PASS: " $0; bad = 1 } }
    END { if (n == 0) print "no claims"; else if (!bad) print "ok" }' "$f")
  [ "$msg" = ok ] && ok || bad "$name" "$(echo "$msg" | head -n 5)"
}

# no_temp_files NAME DIR: no temporary file of an atomic write left over.
no_temp_files() {
  local left
  left=$(find "$2" -name '*.tmp.*' -print)
  [ -z "$left" ] && ok || bad "$1" "left over: $left"
}

# json_config NAME FILE: valid JSON with a "config" object (Python's json when
# PYTHON3 is set, a textual check otherwise).
json_config() {
  local name=$1 f=$2 msg
  if [ -n "$PYTHON3" ]; then
    msg=$("$PYTHON3" -c '
import json, sys
m = json.load(open(sys.argv[1]))
c = m.get("config")
if not isinstance(c, dict) or not c:
    print("no non-empty config object"); sys.exit()
for k in ("seed", "quick", "data"):
    if k not in c:
        print("config lacks " + k); sys.exit()
if m.get("analysis") != "gd-vs-minnorm":
    print("analysis is %r" % m.get("analysis")); sys.exit()
print("ok")' "$f" 2>&1 | tail -n 1)
  else
    if grep -q '"config": *{' "$f" && [ "$(head -c 1 "$f")" = '{' ]; then msg=ok; else msg="no config object"; fi
  fi
  [ "$msg" = ok ] && ok || bad "$name" "$msg"
}

TABLES="runs.csv runs.md runs.tex runs.json trajectory.csv checks.csv checks.md manifest.json gd_distance.gp gd_distance.dat"
GD=(gd-vs-minnorm --quick --data linear --quiet)

# ---- one quick run -----------------------------------------------------------------

if run "gd-vs-minnorm --quick --data linear" 0 "${GD[@]}" --out "$T/A"; then
  has_files "gd-vs-minnorm writes every output" "$T/A" $TABLES
  [ -s "$T/out" ] && bad "--quiet prints nothing on stdout" "$(head -n 3 "$T/out")" || ok
  checks_pass "gd-vs-minnorm: every check passes (checks.csv)" "$T/A/checks.csv"
  json_config "manifest.json is valid JSON with a config object" "$T/A/manifest.json"
  no_temp_files "no temporary files left in the output folder" "$T/A"
  grep -q '^dataset,optimizer,setting,status,' "$T/A/runs.csv" && ok ||
    bad "runs.csv has its header" "$(head -n 1 "$T/A/runs.csv")"
  grep -q 'tabular\|toprule' "$T/A/runs.tex" && ok || bad "runs.tex is a LaTeX table"
  grep -q '^|' "$T/A/runs.md" && ok || bad "runs.md is a Markdown table"
fi

# ---- reproducibility ---------------------------------------------------------------

if run "same seed, same run" 0 "${GD[@]}" --out "$T/A1"; then
  cmp -s "$T/A/runs.csv" "$T/A1/runs.csv" && ok ||
    bad "a rerun with the same options gives a bit-identical runs.csv" "$(diff "$T/A/runs.csv" "$T/A1/runs.csv" | head -n 4)"
fi
if [ -s "$T/A/manifest.json" ] &&
  run "rerun from the manifest: --config A/manifest.json --out A2" 0 gd-vs-minnorm --config "$T/A/manifest.json" --out "$T/A2" --quiet; then
  for f in runs.csv trajectory.csv checks.csv; do
    cmp -s "$T/A/$f" "$T/A2/$f" && ok ||
      bad "--config manifest.json reproduces $f bit for bit" "$(diff "$T/A/$f" "$T/A2/$f" | head -n 4)"
  done
fi

# ---- --format, --strict, --seeds ---------------------------------------------------------

if run "--format csv" 0 "${GD[@]}" --format csv --out "$T/C"; then
  has_files "--format csv writes the CSV tables" "$T/C" runs.csv trajectory.csv checks.csv manifest.json
  # checks.md is written whatever --format says (report.h: ir_checks_write).
  lacks_files "--format csv writes no .md/.tex/.json tables" "$T/C" \
    runs.md runs.tex runs.json trajectory.md trajectory.tex trajectory.json checks.json
fi
if run "--format md,tex" 0 "${GD[@]}" --format md,tex --out "$T/M"; then
  has_files "--format md,tex writes .md and .tex tables" "$T/M" runs.md runs.tex trajectory.md trajectory.tex
  lacks_files "--format md,tex writes no .csv/.json tables" "$T/M" runs.csv runs.json trajectory.csv
fi
if run "--strict, all checks passing: exit 0" 0 gd-vs-minnorm --quick --data linear --strict --out "$T/S"; then
  grep -q 'PASS' "$T/out" && grep -q "$T/S" "$T/out" && ok ||
    bad "without --quiet, stdout shows the checks and the output folder" "$(tail -n 5 "$T/out")"
fi
if run "--seeds 2" 0 "${GD[@]}" --seeds 2 --out "$T/S2"; then
  checks_pass "--seeds 2: every check passes (worst seed)" "$T/S2/checks.csv"
  grep -q '"seeds": *"2"' "$T/S2/manifest.json" && ok || bad "--seeds 2 recorded in the manifest"
  # Mean and standard error per step over the seeds, and the figure's band.
  has_files "--seeds 2 writes trajectory_mean" "$T/S2" trajectory_mean.csv trajectory_mean.md
  awk -F, 'NR == 1 { ok = ($4 == "dist_se") } NR > 1 && $4 > 0 { pos++ } END { exit !(ok && pos > 5) }' \
    "$T/S2/trajectory_mean.csv" && ok || bad "trajectory_mean.csv has positive standard errors" \
    "$(head -n 3 "$T/S2/trajectory_mean.csv")"
  grep -q 'mean ± se' "$T/S2/gd_distance.gp" && grep -q '^# x y se' "$T/S2/gd_distance.dat" && ok || bad "--seeds 2: gd_distance draws the mean ± se band"
  cut -d, -f3 "$T/S2/trajectory.csv" | sort -u | grep -qx 2 && ok || bad "trajectory.csv holds the second seed's steps"
fi

# ---- claims only where their premise holds --------------------------------------

# n > p (rank X = p, no interpolation): no row-space claim (vacuous), no SGD
# convergence claim (constant-step SGD ends in a noise ball); GD and heavy
# ball still reach X+y; every claim made passes; the table says why.
if run "gd-vs-minnorm --n 100 --p 20 (n > p)" 0 gd-vs-minnorm --quick --data linear --n 100 --p 20 \
  --quiet --out "$T/NP"; then
  checks_pass "n > p: every claim made passes" "$T/NP/checks.csv"
  if grep -q 'row space' "$T/NP/checks.csv"; then bad "n > p: no row-space claim (rank X = p)" \
    "$(grep 'row space' "$T/NP/checks.csv" | head -n 2)"; else ok; fi
  if grep -q 'SGD.*converges' "$T/NP/checks.csv"; then bad "n > p: no SGD convergence claim" \
    "$(grep 'SGD' "$T/NP/checks.csv" | head -n 2)"; else ok; fi
  grep -q 'GD from 0 reaches X+y' "$T/NP/checks.csv" && grep -q 'heavy-ball.*converges' "$T/NP/checks.csv" &&
    ok || bad "n > p: GD and heavy ball still claim X+y"
  grep -q 'rank X = p' "$T/NP/runs.md" && grep -q 'no interpolation' "$T/NP/runs.md" && ok ||
    bad "n > p: runs.md says why claims were skipped"
  # Instead: SGD with replacement ends in the noise ball the stationary
  # second moment predicts (theory.h: ir_theory_sgd_floor).
  grep -q 'B = 1, with replacement ends in its predicted noise ball' "$T/NP/checks.csv" && ok ||
    bad "n > p: SGD B = 1 with replacement is checked against its noise floor" "$(cut -c1-100 "$T/NP/checks.csv")"
fi
# The noise-floor claim must see a prediction made with a 5% longer step
# (default epochs, n = 400, p = 100: the 4-se tolerance is about 3% there).
IMPLREG_BREAK=floor "$IMPLREG" gd-vs-minnorm --data linear --n 400 --p 100 --quiet --strict \
  --out "$T/NPB" >"$T/out" 2>"$T/err" </dev/null
rc=$?
nf=$(grep 'noise ball' "$T/NPB/checks.csv" 2>/dev/null | grep -c ',FAIL$')
[ "$rc" -eq 3 ] && [ "$nf" -ge 1 ] && ok || bad "IMPLREG_BREAK=floor: the noise-ball check fails (exit 3)" \
  "exit $rc, $nf such FAILs" "$(head -n 2 "$T/err")"
# A GD run capped before convergence (--max-steps 10) makes no convergence
# claim; its trajectory is still checked.
if run "gd-vs-minnorm --max-steps 10" 0 "${GD[@]}" --max-steps 10 --out "$T/CAP"; then
  checks_pass "capped GD: every claim made passes" "$T/CAP/checks.csv"
  if grep -q 'reaches X+y' "$T/CAP/checks.csv"; then bad "capped GD: no 'reaches X+y' claim"; else ok; fi
  grep -q 'follows the predicted SVD trajectory' "$T/CAP/checks.csv" && ok || bad "capped GD: trajectory still checked"
fi

# ---- each IMPLREG_BREAK mutation fails some check ----------------------------------

# break PATTERN: the claims (a grep -E pattern) that must FAIL under it.
for case in "traj:follows the predicted" "pinv:GD from 0 reaches X\+y" \
  "w0:random w0 leaves its null-space part" "start:stays in the row space" \
  "sweep:1.01 x 2/lambda_max diverges"; do
  b=${case%%:*} pat=${case#*:}
  IMPLREG_BREAK=$b "$IMPLREG" "${GD[@]}" --strict --out "$T/B$b" >"$T/out" 2>"$T/err" </dev/null
  rc=$?
  nf=$(grep -E -- "$pat" "$T/B$b/checks.csv" 2>/dev/null | grep -c ',FAIL$')
  if [ "$rc" -eq 3 ] && [ "$nf" -ge 1 ]; then ok; else
    bad "IMPLREG_BREAK=$b: a check matching /$pat/ fails (exit 3)" "exit $rc, $nf such FAILs" \
      "$(grep ',FAIL$' "$T/B$b/checks.csv" 2>/dev/null | head -n 3)"
  fi
done
unset IMPLREG_BREAK

# ---- implreg all ------------------------------------------------------------------

if run "implreg all --quick" 0 all --quick --out "$T/ALL" --quiet; then
  has_files "all writes the combined checks" "$T/ALL" checks.csv checks.md
  has_files "all writes gd-vs-minnorm/" "$T/ALL/gd-vs-minnorm" runs.csv checks.csv manifest.json
  checks_pass "all: every check passes" "$T/ALL/checks.csv"
  no_temp_files "all: no temporary files left" "$T/ALL"
  if [ -d "$FASHION_DIR" ]; then
    grep -q 'fashion' "$T/ALL/checks.csv" && ok || bad "all --quick includes the Fashion-MNIST checks ($FASHION_DIR exists)"
  fi
fi

# ---- Fashion-MNIST ------------------------------------------------------------------

if [ -d "$FASHION_DIR" ]; then
  if run "gd-vs-minnorm --quick --data fashion" 0 gd-vs-minnorm --quick --data fashion \
    --fashion-n 40 --ntest 50 --out "$T/F" --quiet; then
    checks_pass "Fashion-MNIST: every check passes" "$T/F/checks.csv"
    grep -q '^fashion,' "$T/F/runs.csv" && ok || bad "Fashion-MNIST rows in runs.csv"
  fi
else
  echo "$NAME: note: $FASHION_DIR not installed; Fashion-MNIST run skipped"
fi

echo "$NAME: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
