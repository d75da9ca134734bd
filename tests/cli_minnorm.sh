#!/bin/bash
# cli_minnorm.sh — `implreg minnorm` gives the right answers through the
# command line: small problems with known exact solutions (CSV with and
# without a header, .npy written by hand and by Python), the three methods,
# --intercept, --ridge, --rcond, --diagnostics, --rcond-scan, --config, the
# refusal of --method gram on a rank-deficient X, --help and --version; then,
# when PYTHON3 has numpy, tests/lstsq_ref.py compares against
# numpy.linalg.lstsq(rcond=None) on every shape, and must catch
# IMPLREG_BREAK=solution, the solution scaled by 1 + 1e-3 (that part alone
# is skipped without numpy).
#
# Environment (Makefile.am AM_TESTS_ENVIRONMENT): IMPLREG, PYTHON3 (or
# empty), top_srcdir.  Writes only into a mktemp -d folder, removed on exit.
set -u

NAME=cli_minnorm
if [ -z "${IMPLREG:-}" ] || [ ! -x "$IMPLREG" ]; then
  echo "$NAME: IMPLREG='${IMPLREG:-}' is not an executable (run through make check)" >&2
  exit 99
fi
PYTHON3=${PYTHON3:-}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
export OPENBLAS_NUM_THREADS

T=$(mktemp -d "${TMPDIR:-/tmp}/implreg-$NAME.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
trap 'exit 130' HUP INT TERM
cd "$T" || exit 99

pass=0
fail=0
skip=0
ok() { pass=$((pass + 1)); }
bad() {
  fail=$((fail + 1))
  echo "FAIL $1"
  shift
  for l in "$@"; do printf '  %s\n' "$l"; done
}

# run NAME ARGS...: runs implreg ARGS with stdout in $T/out, stderr in
# $T/err; sets rc; reports (and returns 1) unless the exit status is 0 and
# stderr is empty.
run() {
  local name=$1
  shift
  "$IMPLREG" "$@" >"$T/out" 2>"$T/err" </dev/null
  rc=$?
  if [ "$rc" -ne 0 ] || [ -s "$T/err" ]; then
    bad "$name" "command: implreg $*" "exit status $rc (expected 0); stderr: $(head -n 3 "$T/err")"
    return 1
  fi
  return 0
}

calc() { awk "BEGIN { printf \"%.17g\", $1 }"; }

# The values of a CSV file, one per line, row-major; the first SKIP lines
# are skipped.
values() { tail -n +$(($2 + 1)) "$1" | tr -d '\r' | tr ',' '\n'; }

# shape FILE SKIP: "rows cols" of a CSV file (after SKIP lines).
shape() {
  tail -n +$(($2 + 1)) "$1" | awk -F, 'NF { r++; c = NF } END { print r + 0, c + 0 }'
}

# check_values NAME FILE SKIP TOL V...: the file holds exactly the values V
# (row-major), each within TOL * max(1, |V|).
check_values() {
  local name=$1 file=$2 skip=$3 tol=$4
  shift 4
  if [ ! -f "$file" ]; then
    bad "$name" "no output file $file"
    return
  fi
  local msg
  msg=$(values "$file" "$skip" | awk -v tol="$tol" -v want="$*" '
    BEGIN { n = split(want, w, " ") }
    { k++; if (k > n) next
      d = $1 - w[k]; if (d < 0) d = -d
      s = w[k] < 0 ? -w[k] : w[k]; if (s < 1) s = 1
      if (!(d <= tol * s)) { printf "value %d is %s, expected %s (tolerance %g)\n", k, $1, w[k], tol; bad = 1 } }
    END { if (k != n) printf "%d values, expected %d\n", k, n; else if (!bad) print "ok" }')
  if [ "$msg" = ok ]; then ok; else bad "$name" "file $(basename "$file"): $(echo "$msg" | head -n 3)"; fi
}

# same_values NAME A B SKIP TOL: two CSV files agree to TOL, relative to the
# largest magnitude in B.
same_values() {
  local name=$1 a=$2 b=$3 skip=$4 tol=$5 msg
  msg=$(paste -d' ' <(values "$a" "$skip") <(values "$b" "$skip") | awk -v tol="$tol" '
    NF != 2 { short = 1; next }
    { d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d
      s = $2 < 0 ? -$2 : $2; if (s > big) big = s; n++ }
    END { if (short || n == 0) print "different numbers of values"
          else if (m > tol * (big > 0 ? big : 1)) printf "max difference %g > %g\n", m, tol * big
          else print "ok" }')
  if [ "$msg" = ok ]; then ok; else bad "$name" "$(basename "$a") vs $(basename "$b"): $msg"; fi
}

# max_residual X W Y: max |XW - Y| over all entries (headerless CSVs).
max_residual() {
  awk -F, '
    FILENAME == ARGV[1] && NF { n++; for (j = 1; j <= NF; j++) X[n, j] = $j; p = NF; next }
    FILENAME == ARGV[2] && NF { i++; for (k = 1; k <= NF; k++) W[i, k] = $k; K = NF; next }
    FILENAME == ARGV[3] && NF { r++; for (k = 1; k <= NF; k++) { s = -$k
        for (j = 1; j <= p; j++) s += X[r, j] * W[j, k]
        if (s < 0) s = -s; if (s > m) m = s } }
    END { printf "%.3g\n", m }' "$1" "$2" "$3"
}

lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }

byte() { printf "\\$(printf '%03o' "$1")"; }
# The 8 little-endian bytes of an integer-valued double (|k| < 2^52).
f8() {
  local k=$1 s=0 e=0 m bits i
  if [ "$k" -eq 0 ]; then
    bits=0
  else
    if [ "$k" -lt 0 ]; then s=1; k=$((-k)); fi
    while [ $((k >> (e + 1))) -gt 0 ]; do e=$((e + 1)); done
    m=$(((k << (52 - e)) & ((1 << 52) - 1)))
    bits=$(((s << 63) | ((1023 + e) << 52) | m))
  fi
  for i in 0 1 2 3 4 5 6 7; do byte $(((bits >> (8 * i)) & 255)); done
}
# npy_f8 SHAPE V...: a version 1.0 '<f8' C-order .npy on stdout, by hand.
npy_f8() {
  local shape=$1 v
  shift
  local dict="{'descr': '<f8', 'fortran_order': False, 'shape': $shape, }"
  local pad=$(((64 - (10 + ${#dict} + 1) % 64) % 64))
  local hlen=$((${#dict} + pad + 1))
  printf '\223NUMPY\001\000'
  byte $((hlen & 255))
  byte $((hlen >> 8))
  printf '%s%*s\n' "$dict" "$pad" ''
  for v in "$@"; do f8 "$v"; done
}

# ---- a full-row-rank n < p problem with a known answer --------------------------
# X = [1 1 0; 0 1 1], y = (1, 2): XX' = [2 1; 1 2], W = X'(XX')^-1 y = (0, 1, 1).

printf '1,1,0\n0,1,1\n' >x.csv
printf '1\n2\n' >y.csv
printf 'a,b,c\r\n1,1,0\r\n0,1,1\r\n' >xh.csv
printf 'target\n1\n2\n' >yh.csv
printf '1,0,0\n0,1,0\n0,0,1\n' >eye3.csv

for m in svd cod gram; do
  if run "minnorm --method $m" minnorm --X x.csv --Y y.csv --out "W_$m.csv" --method "$m"; then
    check_values "minnorm --method $m: W = (0, 1, 1)" "W_$m.csv" 0 1e-12 0 1 1
    grep -q "method $m" "$T/out" && ok || bad "minnorm --method $m: stdout names the method" "$(head -n 1 "$T/out")"
  fi
done
if run "minnorm, CSV with headers and CRLF" minnorm --X xh.csv --Y yh.csv --out Wh.csv --quiet; then
  check_values "minnorm, CSV with headers and CRLF" Wh.csv 0 1e-12 0 1 1
  [ -s "$T/out" ] && bad "--quiet prints nothing" "$(head -n 2 "$T/out")" || ok
fi

# Several right-hand sides, n < p, full row rank: the three methods agree,
# interpolate, and agree with column-by-column solves.
printf '2,1,0,1,3\n0,1,4,1,1\n1,0,1,5,2\n' >x3.csv
printf '1,0\n2,-1\n3,0.5\n' >y3.csv
printf '1\n2\n3\n' >y3a.csv
printf '0\n-1\n0.5\n' >y3b.csv
for m in svd cod gram; do
  run "minnorm K=2 --method $m" minnorm --X x3.csv --Y y3.csv --out "W3_$m.csv" --method "$m" --quiet || continue
  [ "$(shape "W3_$m.csv" 0)" = "5 2" ] && ok || bad "K=2 --method $m: W is 5 x 2" "shape $(shape "W3_$m.csv" 0)"
  r=$(max_residual x3.csv "W3_$m.csv" y3.csv)
  lt "$r" 1e-12 && ok || bad "K=2 --method $m interpolates" "max |XW - Y| = $r"
done
same_values "svd and cod agree (n < p, K = 2)" W3_cod.csv W3_svd.csv 0 1e-10
same_values "svd and gram agree (n < p, K = 2)" W3_gram.csv W3_svd.csv 0 1e-10
if run "K=1 solves" minnorm --X x3.csv --Y y3a.csv --out W3a.csv --quiet &&
  run "K=1 solves" minnorm --X x3.csv --Y y3b.csv --out W3b.csv --quiet; then
  paste -d, W3a.csv W3b.csv >W3ab.csv
  same_values "K=2 equals two K=1 solves" W3ab.csv W3_svd.csv 0 1e-12
fi

# ---- .npy in and out --------------------------------------------------------------

npy_f8 '(2, 3)' 1 1 0 0 1 1 >x.npy
npy_f8 '(2,)' 1 2 >y.npy
if run "minnorm, hand-written .npy" minnorm --X x.npy --Y y.npy --out Wn.csv --quiet; then
  check_values "minnorm, hand-written .npy" Wn.csv 0 1e-12 0 1 1
fi
npy_f8 '(2, 1)' 1 2 >y21.npy
if run "minnorm, .npy X with CSV Y" minnorm --X x.npy --Y y21.npy --out Wn2.csv --quiet; then
  check_values "minnorm, 2-D (n, 1) .npy Y" Wn2.csv 0 1e-12 0 1 1
fi
if run "minnorm --out W.npy" minnorm --X x.csv --Y y.csv --out W.npy --quiet; then
  # 128-byte header (numpy pads to 64) + 3 doubles.
  if [ "$(head -c 6 W.npy | od -An -c | tr -d ' \n')" = '223NUMPY' ] &&
    head -c 128 W.npy | grep -q "'descr': '<f8'" &&
    head -c 128 W.npy | grep -Eq "'shape': \(3, 1\)|'shape': \(3,\)"; then
    ok
  else
    bad "--out W.npy has a .npy header for a 3 x 1 '<f8' array" "$(head -c 128 W.npy | tr -c '[:print:]' '.')"
  fi
  size=$(wc -c <W.npy)
  hl=$(($(od -An -tu1 -j8 -N1 W.npy) + 256 * $(od -An -tu1 -j9 -N1 W.npy)))
  [ "$size" -eq $((10 + hl + 24)) ] && ok || bad "--out W.npy size" "$size bytes, header length $hl, expected $((10 + hl + 24))"
  # Read back through implreg itself: W.npy as a 3 x 1 Y of a 3 x 3 identity.
  if run "W.npy read back" minnorm --X eye3.csv --Y W.npy --out Wback.csv --quiet; then
    same_values "W.npy round trip" Wback.csv W_svd.csv 0 1e-15
  fi
fi

if [ -n "$PYTHON3" ]; then
  # .npy written by Python's own struct module (numpy not required), with
  # values that are not integers; the CSV of the same decimals gives the same
  # doubles, hence bit-identical results.
  if "$PYTHON3" - <<'EOF'; then
import struct
def save(path, rows, fortran=False):
    n, m = len(rows), len(rows[0])
    d = "{'descr': '<f8', 'fortran_order': %s, 'shape': (%d, %d), }" % (
        "True" if fortran else "False", n, m)
    pad = (64 - (10 + len(d) + 1) % 64) % 64
    h = (d + " " * pad + "\n").encode("latin1")
    vals = [rows[i][j] for j in range(m) for i in range(n)] if fortran else \
           [v for r in rows for v in r]
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h)
        f.write(struct.pack("<%dd" % len(vals), *vals))
X = [[0.5, 1.25, -2.0, 3.0], [1.5, -0.75, 0.125, 2.5], [-1.0, 2.0, 0.0, 0.25]]
Y = [[1.0, -0.5], [0.25, 2.0], [-3.0, 1.0]]
save("xp.npy", X)
save("xpf.npy", X, fortran=True)
save("yp.npy", Y)
for name, m in (("xp.csv", X), ("yp.csv", Y)):
    with open(name, "w") as f:
        f.write("".join(",".join(repr(v) for v in r) + "\n" for r in m))
EOF
    if run "minnorm, Python-written .npy" minnorm --X xp.npy --Y yp.npy --out Wp.csv --quiet &&
      run "minnorm, Fortran-order .npy" minnorm --X xpf.npy --Y yp.npy --out Wpf.csv --quiet &&
      run "minnorm, same data as CSV" minnorm --X xp.csv --Y yp.csv --out Wpc.csv --quiet; then
      cmp -s Wp.csv Wpc.csv && ok || bad ".npy and CSV of the same data give identical W" "$(diff Wp.csv Wpc.csv | head -n 4)"
      cmp -s Wp.csv Wpf.csv && ok || bad "C and Fortran order .npy give identical W" "$(diff Wp.csv Wpf.csv | head -n 4)"
      r=$(max_residual xp.csv Wpc.csv yp.csv)
      lt "$r" 1e-12 && ok || bad "Python-written problem interpolated" "max |XW - Y| = $r"
    fi
  else
    bad "writing .npy files with $PYTHON3"
  fi
fi

# ---- --intercept -------------------------------------------------------------------
# [X 1] = [1 1 0 1; 0 1 1 1]: W = [X 1]'([X 1][X 1]')^-1 y = (-0.2, 0.6, 0.8, 0.6).

if run "minnorm --intercept" minnorm --X x.csv --Y y.csv --out Wi.csv --intercept; then
  [ "$(shape Wi.csv 0)" = "4 1" ] && ok || bad "--intercept adds a row to W" "shape $(shape Wi.csv 0), expected 4 1"
  check_values "minnorm --intercept (intercept penalized)" Wi.csv 0 1e-12 -0.2 0.6 0.8 0.6
  grep -q 'p = 4' "$T/out" && ok || bad "--intercept: p counts the ones column" "$(head -n 1 "$T/out")"
fi

# ---- --ridge -----------------------------------------------------------------------
# W_l = X'(XX' + l I)^-1 y: l = 0.1: (0.1, 3.3, 3.2)/3.41; l = 1: (1, 6, 5)/8.

if run "minnorm --ridge 0.1,1" minnorm --X x.csv --Y y.csv --ridge 0.1,1 --out Wr.csv; then
  [ "$(shape Wr.csv 1)" = "3 2" ] && ok || bad "--ridge 0.1,1: p x 2K values" "shape $(shape Wr.csv 1) after the header, expected 3 2"
  h=$(head -n 1 Wr.csv)
  case $h in
  *lambda=0.1*lambda=1*) ok ;;
  *) bad "--ridge: header names the lambdas" "header: $h" ;;
  esac
  check_values "minnorm --ridge 0.1,1 values" Wr.csv 1 1e-12 \
    "$(calc 0.1/3.41)" 0.125 "$(calc 3.3/3.41)" 0.75 "$(calc 3.2/3.41)" 0.625
  grep -qi 'ridge' "$T/out" && ok || bad "--ridge prints the ridge path" "$(cat "$T/out")"
fi
# --ridge with a .npy --out: the same numbers, no header (read back through
# implreg as the Y of an identity X).
if run "minnorm --ridge 0.1,1 --out Wr.npy" minnorm --X x.csv --Y y.csv --ridge 0.1,1 --out Wr.npy --quiet; then
  if run "Wr.npy read back" minnorm --X eye3.csv --Y Wr.npy --out Wrback.csv --quiet; then
    tail -n +2 Wr.csv >Wr_nohdr.csv
    same_values "--ridge: .npy and CSV outputs agree" Wrback.csv Wr_nohdr.csv 0 1e-15
  fi
fi
if run "minnorm --ridge K=2" minnorm --X x3.csv --Y y3.csv --ridge 0,0.5 --out Wr3.csv --quiet; then
  [ "$(shape Wr3.csv 1)" = "5 4" ] && ok || bad "--ridge 0,0.5 with K=2: 5 x 4" "shape $(shape Wr3.csv 1)"
  # lambda = 0 is the min-norm solution: the first K columns equal W3_svd.
  cut -d, -f1,2 <(tail -n +2 Wr3.csv) >Wr3a.csv
  same_values "--ridge 0 equals the min-norm solution" Wr3a.csv W3_svd.csv 0 1e-12
fi

# ---- --rcond, rank deficiency ---------------------------------------------------------
# X = diag(1, 1e-3), y = (1, 1): default W = (1, 1000); --rcond 1e-2 cuts the
# second direction: W = (1, 0).

printf '1,0\n0,0.001\n' >xd.csv
printf '1\n1\n' >yd.csv
run "default rcond" minnorm --X xd.csv --Y yd.csv --out Wd.csv --quiet &&
  check_values "default rcond keeps sigma = 1e-3" Wd.csv 0 1e-9 1 1000
run "--rcond 1e-2" minnorm --X xd.csv --Y yd.csv --rcond 1e-2 --out Wd2.csv --diagnostics dd.json --quiet &&
  check_values "--rcond 1e-2 drops sigma = 1e-3" Wd2.csv 0 1e-12 1 0
if [ -f dd.json ]; then
  grep -Eq '"rank": *1\b' dd.json && ok || bad "--rcond 1e-2: diagnostics rank 1" "$(grep rank dd.json)"
fi
# Rank 1, n > p: X = a b', a = (1, 2, 3), b = (1, 2), y = a: W = b (a.y)/(|a|^2 |b|^2) = (0.2, 0.4).
printf '1,2\n2,4\n3,6\n' >xr.csv
printf '1\n2\n3\n' >yr.csv
for m in svd cod; do
  run "rank-deficient --method $m" minnorm --X xr.csv --Y yr.csv --method "$m" --out "Wr_$m.csv" &&
    check_values "rank-deficient X, --method $m: W = (0.2, 0.4)" "Wr_$m.csv" 0 1e-12 0.2 0.4
  grep -Eq 'rank +1$' "$T/out" && ok || bad "rank-deficient --method $m: rank 1 printed" "$(grep rank "$T/out")"
done
"$IMPLREG" minnorm --X xr.csv --Y yr.csv --method gram --out Wg.csv >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q -- '--method svd' "$T/err" &&
  [ ! -s "$T/out" ] && [ ! -e Wg.csv ] && [ -z "$(find . -name 'Wg.csv.tmp*')" ]; then
  ok
else
  bad "--method gram refuses a rank-deficient X" "command: implreg minnorm --X xr.csv --Y yr.csv --method gram --out Wg.csv" \
    "exit $rc (expected 2); stderr: $(head -n 3 "$T/err")" "stdout lines: $(wc -l <"$T/out"); Wg.csv exists: $([ -e Wg.csv ] && echo yes || echo no)"
fi

# ---- --diagnostics, --rcond-scan -------------------------------------------------------
# X = [1 1 0; 0 1 1]: singular values sqrt(3) and 1, ||W|| = sqrt(2).

if run "minnorm --diagnostics" minnorm --X x.csv --Y y.csv --out Wdg.csv --diagnostics d.json --quiet; then
  if [ -n "$PYTHON3" ]; then
    msg=$("$PYTHON3" - d.json <<'EOF' 2>&1
import json, math, sys
d = json.load(open(sys.argv[1]))
want = {"n": 2, "p": 3, "K": 1, "rank": 2, "sigma_max": math.sqrt(3),
        "cond": math.sqrt(3), "norm": math.sqrt(2)}
errs = [k for k in ("n", "p", "K", "rank", "sigma_max", "cond", "rcond",
                    "norm", "residual") if k not in d]
if errs:
    print("missing keys: " + ", ".join(errs)); sys.exit(1)
for k, v in want.items():
    if not isinstance(d[k], (int, float)) or abs(d[k] - v) > 1e-12 * max(1, abs(v)):
        print("%s = %r, expected %r" % (k, d[k], v)); sys.exit(1)
if not 0 <= d["residual"] < 1e-12:
    print("residual = %r" % d["residual"]); sys.exit(1)
if not 0 < d["rcond"] < 1e-12:
    print("rcond = %r, expected eps * max(n, p)" % d["rcond"]); sys.exit(1)
print("ok")
EOF
    )
    [ "$msg" = ok ] && ok || bad "--diagnostics d.json is valid JSON with the right values" "$msg"
  else
    missing=
    for k in n p K rank sigma_max cond rcond norm residual; do
      grep -q "\"$k\": *[-0-9]" d.json || missing="$missing $k"
    done
    [ -z "$missing" ] && ok || bad "--diagnostics d.json has numeric keys" "missing:$missing"
  fi
fi
if run "minnorm --rcond-scan" minnorm --X x.csv --Y y.csv --rcond-scan; then
  rows=$(grep -Ec '^ *1e[-+][0-9]+ +[0-9]+ ' "$T/out")
  if grep -qi 'rcond' "$T/out" && [ "$rows" -eq 17 ]; then ok; else
    bad "--rcond-scan prints a table of 17 cutoffs 1e-16..1" "$rows rows; stdout:" "$(head -n 30 "$T/out")"
  fi
  grep -Eq '^ *1e-01 +2 ' "$T/out" && ok || bad "--rcond-scan: rank 2 at rcond 0.1" "$(grep -E '^ *1e-01' "$T/out")"
fi

# ---- --config ----------------------------------------------------------------------

printf '# minnorm options\nX = %s\nY = %s\n\nmethod = cod\n' "$T/x.csv" "$T/y.csv" >mn.conf
if run "minnorm --config" minnorm --config mn.conf --out Wc.csv; then
  check_values "minnorm --config FILE" Wc.csv 0 1e-12 0 1 1
  grep -q 'method cod' "$T/out" && ok || bad "--config: method = cod applied" "$(head -n 1 "$T/out")"
fi
if run "minnorm --config, command line wins" minnorm --config mn.conf --method gram --out Wc2.csv; then
  grep -q 'method gram' "$T/out" && ok || bad "--config: the command line wins" "$(head -n 1 "$T/out")"
fi

# ---- --help, --version -------------------------------------------------------------

if run "minnorm --help" minnorm --help; then
  grep -q -- '--intercept' "$T/out" && ok || bad "minnorm --help mentions --intercept"
  grep -q -- '--rcond' "$T/out" && grep -q -- '--ridge' "$T/out" && ok || bad "minnorm --help mentions --rcond and --ridge"
fi
if run "implreg --help" --help; then
  grep -q 'minnorm' "$T/out" && ok || bad "implreg --help lists minnorm"
fi
if run "implreg --version" --version; then
  want=$(sed -n 's/^AC_INIT(\[implreg\], *\[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac" 2>/dev/null)
  got=$(cat "$T/out")
  if [ "$(wc -l <"$T/out")" -eq 1 ] && case $got in "implreg ${want:-}"*) true ;; *) false ;; esac; then
    ok
  else
    bad "implreg --version prints 'implreg ${want:-VERSION}'" "got: $got"
  fi
fi

# ---- numpy.linalg.lstsq ------------------------------------------------------------

if [ -z "$PYTHON3" ]; then
  echo "SKIP numpy.linalg.lstsq comparison: PYTHON3 is empty"
  skip=$((skip + 1))
else
  "$PYTHON3" "$top_srcdir/tests/lstsq_ref.py" "$IMPLREG" "$T/lstsq" >"$T/lstsq.log" 2>&1
  rc=$?
  case $rc in
  0) ok ;;
  77)
    echo "SKIP numpy.linalg.lstsq comparison: $(tail -n 1 "$T/lstsq.log")"
    skip=$((skip + 1))
    ;;
  *) bad "implreg minnorm agrees with numpy.linalg.lstsq(rcond=None) to 1e-10 (tests/lstsq_ref.py, exit $rc)" \
    "$(sed 's/^/  /' "$T/lstsq.log")" ;;
  esac
  # The reference must see a solution 1e-3 off (IMPLREG_BREAK=solution).
  if [ "$rc" -eq 0 ]; then
    IMPLREG_BREAK=solution "$PYTHON3" "$top_srcdir/tests/lstsq_ref.py" "$IMPLREG" "$T/lstsq-broken" \
      >"$T/lstsq-broken.log" 2>&1
    rcb=$?
    [ "$rcb" -eq 1 ] && ok || bad "tests/lstsq_ref.py detects IMPLREG_BREAK=solution (exit 1)" \
      "exit $rcb" "$(tail -n 3 "$T/lstsq-broken.log")"
  fi
fi

if [ "$skip" -gt 0 ]; then echo "$NAME: $pass passed, $fail failed, $skip skipped"; else echo "$NAME: $pass passed, $fail failed"; fi
[ "$fail" -eq 0 ]
