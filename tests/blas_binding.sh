#!/bin/bash
# blas_binding.sh — GSL's BLAS calls go to OpenBLAS, not to GSL's slow
# reference CBLAS (libgslcblas) (docs/stack.md trap 1): with LD_DEBUG=bindings,
# the dynamic linker's record of a small `implreg minnorm` run must show
# cblas_dgemm bound to libopenblas and no symbol bound to libgslcblas; and
# implreg must not be linked against libgslcblas itself.
#
# On Debian 12, libgsl.so.27 itself has libgslcblas.so.0 as a NEEDED entry,
# so `ldd implreg` lists libgslcblas whatever implreg's link line says.  In
# that case (and only then) the ldd check is that libopenblas comes earlier
# in the load order — the order in which the linker searches for cblas_*
# symbols — so that gslcblas is loaded but never used; otherwise ldd must not
# list libgslcblas at all.
#
# Environment: IMPLREG (a real ELF executable, not a libtool wrapper).
# Writes only into a mktemp -d folder, removed on exit.
set -u

NAME=blas_binding
if [ -z "${IMPLREG:-}" ] || [ ! -x "$IMPLREG" ]; then
  echo "$NAME: IMPLREG='${IMPLREG:-}' is not an executable (run through make check)" >&2
  exit 99
fi
OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
export OPENBLAS_NUM_THREADS

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

if [ "$(head -c 4 "$IMPLREG" | od -An -c | tr -d ' \n')" != '177ELF' ]; then
  echo "$NAME: $IMPLREG is not an ELF executable (a libtool wrapper?)" >&2
  exit 99
fi

# ---- the bindings of a run ---------------------------------------------------------

# A problem large enough that the solve goes through BLAS level 3.
awk 'BEGIN { for (i = 1; i <= 12; i++) { s = ""; for (j = 1; j <= 20; j++)
  s = s (j > 1 ? "," : "") ((i * 7 + j * 13) % 17 - 8 + (i == j ? 20 : 0)); print s } }' >x.csv
awk 'BEGIN { for (i = 1; i <= 12; i++) print i % 5 - 2 "," (i * 3) % 7 }' >y.csv

LD_DEBUG=bindings LD_DEBUG_OUTPUT=$T/ld "$IMPLREG" minnorm --X x.csv --Y y.csv --out W.csv \
  >out.txt 2>err.txt </dev/null
rc=$?
if [ "$rc" -eq 0 ] && [ -s W.csv ]; then ok; else
  bad "implreg minnorm runs under LD_DEBUG=bindings" "exit $rc; stderr: $(head -n 3 err.txt)"
fi
cat "$T"/ld.* >ld.txt 2>/dev/null
# Without LD_DEBUG_OUTPUT support the record goes to stderr.
[ -s ld.txt ] || grep 'binding file' err.txt >ld.txt
if ! grep -q 'binding file' ld.txt; then
  echo "$NAME: SKIP: the dynamic linker wrote no LD_DEBUG=bindings record (not glibc?)"
  exit 77
fi

dgemm=$(grep "symbol \`cblas_dgemm'" ld.txt)
if [ -z "$dgemm" ]; then
  bad "cblas_dgemm is bound during a minnorm run" "no binding line for cblas_dgemm; cblas lines:" \
    "$(grep "symbol \`cblas_" ld.txt | sed 's/^[[:space:]]*[0-9]*:[[:space:]]*//' | head -n 5)"
elif echo "$dgemm" | grep -v 'to [^ ]*libopenblas[^ ]* ' | grep -q .; then
  bad "cblas_dgemm binds to libopenblas" "$(echo "$dgemm" | sed 's/^[[:space:]]*[0-9]*:[[:space:]]*//' | head -n 3)"
else
  ok
fi
cblas_gslcblas=$(grep "symbol \`cblas_" ld.txt | grep 'gslcblas')
[ -z "$cblas_gslcblas" ] && ok || bad "no cblas_* binding line mentions libgslcblas" \
  "$(echo "$cblas_gslcblas" | sed 's/^[[:space:]]*[0-9]*:[[:space:]]*//' | head -n 5)"
into_gslcblas=$(grep 'binding file' ld.txt | grep 'to [^ ]*libgslcblas')
[ -z "$into_gslcblas" ] && ok || bad "no symbol at all is bound to libgslcblas" \
  "$(echo "$into_gslcblas" | sed 's/^[[:space:]]*[0-9]*:[[:space:]]*//' | head -n 5)"

# ---- the link ----------------------------------------------------------------------

# implreg's own NEEDED entries (what its link line asked for).
needed=
if command -v readelf >/dev/null 2>&1; then
  needed=$(readelf -d "$IMPLREG" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p')
elif command -v objdump >/dev/null 2>&1; then
  needed=$(objdump -p "$IMPLREG" | awk '$1 == "NEEDED" { print $2 }')
fi
if [ -n "$needed" ]; then
  if echo "$needed" | grep -q gslcblas; then
    bad "implreg is not linked against libgslcblas (NEEDED)" "$(echo "$needed" | tr '\n' ' ')"
  else
    ok
  fi
  echo "$needed" | grep -q openblas && ok || bad "implreg is linked against libopenblas (NEEDED)" "$(echo "$needed" | tr '\n' ' ')"
else
  echo "$NAME: note: neither readelf nor objdump found; NEEDED check skipped"
fi

if command -v ldd >/dev/null 2>&1; then
  ldd "$IMPLREG" >ldd.txt 2>&1
  if ! grep -q gslcblas ldd.txt; then
    ok
  else
    # Allowed only when libgsl itself pulls libgslcblas in, and then
    # libopenblas must come first in the search order.
    libgsl=$(awk '$1 ~ /^libgsl\.so/ { print $3 }' ldd.txt)
    gsl_needs=
    if [ -n "$libgsl" ] && command -v readelf >/dev/null 2>&1; then
      readelf -d "$libgsl" | grep -q 'NEEDED.*libgslcblas' && gsl_needs=yes
    fi
    first_blas=$(grep -Eo 'lib(openblas|gslcblas)[^ ]*' ldd.txt | head -n 1)
    if [ "$gsl_needs" = yes ] && case $first_blas in libopenblas*) true ;; *) false ;; esac; then
      ok
      echo "$NAME: note: ldd lists libgslcblas only because $libgsl needs it; libopenblas precedes it"
    else
      bad "ldd $IMPLREG does not list libgslcblas" "$(grep -E 'gslcblas|openblas|libgsl' ldd.txt | tr -s ' \t' ' ')" \
        "libgsl needs libgslcblas: ${gsl_needs:-no}; first BLAS in load order: $first_blas"
    fi
  fi
else
  echo "$NAME: note: ldd not found; ldd check skipped"
fi

echo "$NAME: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
