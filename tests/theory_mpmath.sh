#!/bin/bash
# theory_mpmath.sh — runs tests/theory_mpmath.py: every closed form of
# include/implreg/theory.h against 50-digit mpmath references (quadrature of
# the Marchenko–Pastur law for the ridge risk, over lambda in [5e-324,
# 1.7e308] and gamma on both sides of 1), through the library just built.
# Skipped (77) without PYTHON3 or without mpmath (Debian: python3-mpmath).
# THEORY_MPMATH_ARGS=--full runs the denser lambda grid (every 10 decades).
set -u
if [ -n "${top_srcdir:-}" ]; then TESTS_DIR=$top_srcdir/tests; else TESTS_DIR=$(dirname "$0"); fi
if [ -z "${PYTHON3:-}" ]; then echo "SKIP: PYTHON3 is empty"; exit 77; fi
if ! "$PYTHON3" -c "import mpmath" 2>/dev/null; then
  echo "SKIP: $PYTHON3 has no mpmath (Debian: python3-mpmath)"; exit 77
fi
LIB=$(dirname "$IMPLREG")/.libs/libimplreg.so
[ -e "$LIB" ] || { echo "theory_mpmath: no shared library at $LIB"; exit 99; }
# Sanitizer build (IR_SAN_PRELOAD, as in python_api.sh): the ASan/UBSan
# runtimes are preloaded into python3, its leak report off.
SAN_ENV=()
if [ -n "${IR_SAN_PRELOAD:-}" ]; then
  SAN_ENV=(LD_PRELOAD="$IR_SAN_PRELOAD" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
fi
# shellcheck disable=SC2086  # word splitting of the optional arguments
env ${SAN_ENV[@]+"${SAN_ENV[@]}"} IMPLREG_LIB=$LIB \
  PYTHONPATH="$TESTS_DIR/../python${PYTHONPATH:+:$PYTHONPATH}" \
  "$PYTHON3" "$TESTS_DIR/theory_mpmath.py" ${THEORY_MPMATH_ARGS:-}
