#!/bin/bash
# python_api.sh — runs tests/python_api.py on the package in python/ with
# the library just built (IMPLREG_LIB), when PYTHON3 can import numpy.
set -u
if [ -n "${top_srcdir:-}" ]; then TESTS_DIR=$top_srcdir/tests; else TESTS_DIR=$(dirname "$0"); fi
if [ -z "${PYTHON3:-}" ]; then echo "SKIP: PYTHON3 is empty"; exit 77; fi
LIB=$(dirname "$IMPLREG")/.libs/libimplreg.so
[ -e "$LIB" ] || { echo "python_api: no shared library at $LIB"; exit 99; }
out=$(IMPLREG_LIB=$LIB PYTHONPATH="$TESTS_DIR/../python${PYTHONPATH:+:$PYTHONPATH}" \
  "$PYTHON3" "$TESTS_DIR/python_api.py" 2>&1)
rc=$?
printf '%s\n' "$out"
echo "python_api: $(grep -c '^PASS' <<<"$out") passed, $(grep -c '^FAIL' <<<"$out") failed"
exit $rc
