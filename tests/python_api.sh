#!/bin/bash
# python_api.sh — runs tests/python_api.py (the package against numpy) and
# tests/python_torch.py (implreg.torch against torch.autograd; skipped
# without torch) on the package in python/ with the library just built
# (IMPLREG_LIB), when PYTHON3 is set; python_report.py (density,
# Gauss-Newton, gradient overlap, report) and python_igr.py (igr against
# closed forms and implreg igr) likewise need torch; python_run.py runs
# analyses through implreg.run (IMPLREG_BIN).
set -u
if [ -n "${top_srcdir:-}" ]; then TESTS_DIR=$top_srcdir/tests; else TESTS_DIR=$(dirname "$0"); fi
if [ -z "${PYTHON3:-}" ]; then echo "SKIP: PYTHON3 is empty"; exit 77; fi
LIB=$(dirname "$IMPLREG")/.libs/libimplreg.so
[ -e "$LIB" ] || { echo "python_api: no shared library at $LIB"; exit 99; }
# Sanitizer build (IR_SAN_PRELOAD set by Makefile.am): libimplreg needs the
# ASan/UBSan runtimes loaded first, so they are preloaded into python3;
# LeakSanitizer is off there (CPython and torch keep their allocations at
# exit; the library's leaks are the C tests' business).
SAN_ENV=()
if [ -n "${IR_SAN_PRELOAD:-}" ]; then
  SAN_ENV=(LD_PRELOAD="$IR_SAN_PRELOAD" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
fi
status=0
for script in python_api.py python_run.py python_torch.py python_report.py python_igr.py; do
  out=$(env ${SAN_ENV[@]+"${SAN_ENV[@]}"} IMPLREG_BIN=$IMPLREG IMPLREG_LIB=$LIB PYTHONPATH="$TESTS_DIR/../python${PYTHONPATH:+:$PYTHONPATH}" \
    "$PYTHON3" "$TESTS_DIR/$script" 2>&1)
  rc=$?
  printf '%s\n' "$out"
  echo "$script: $(grep -c '^PASS' <<<"$out") passed, $(grep -c '^FAIL' <<<"$out") failed (exit $rc)"
  case $rc in
  0) ;;
  77) [ "$script" = python_api.py ] && status=77 ;;
  *) status=1 ;;
  esac
done
exit $status
