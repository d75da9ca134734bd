# shellcheck shell=bash
# cli_lib.sh — helpers shared by the command-line test scripts
# (tests/cli_errors.sh, tests/cli_hessian.sh).  Not a test itself: a script
# sources it, then calls cli_init NAME first.
#
#   if [ -n "${top_srcdir:-}" ]; then CLI_LIB=$top_srcdir/tests/cli_lib.sh
#   else CLI_LIB=$(dirname "$0")/cli_lib.sh; fi
#   . "$CLI_LIB" || exit 99
#   cli_init my_test
#
# What it gives:
#   cli_init NAME        checks IMPLREG, pins OPENBLAS_NUM_THREADS (1 unless
#                        set), makes the scratch folder T (removed on exit)
#                        with T/res for case results, zeroes pass/fail/skip
#   byte, f8, npy_header, npy_f8
#                        .npy files in pure shell (no Python needed)
#   snapshot DIR         a listing with checksums, to prove nothing changed
#   run_case, count_result
#                        one run of implreg judged as a failure that must be
#                        clean (status, one stderr line, empty stdout, no file
#                        left behind), and its verdict counted
#   expect_fail, expect_fail_novg
#                        the same as one call, repeated under valgrind in the
#                        background when VALGRIND is set (and vg=1)
#   record LABEL [WHY...] counts a pass (no WHY) or prints a failure
#   run_ok, checker      a run that must succeed; a PASS/FAIL-line checker
#   has_tables, all_checks_pass
#                        an analysis's output files and its checks.csv
#   tally FILE           counts the PASS/FAIL lines of a checker's report
#   cli_collect_vg       waits for the valgrind runs and counts them
#   cli_summary          "NAME: N passed, M failed" and the exit status
#   check LABEL CMD...   counts a pass when CMD succeeds, else a failure
#   same_tables D1 D2    every table CSV of D1 has the same bytes in D2
#
# Environment (Makefile.am AM_TESTS_ENVIRONMENT): IMPLREG (the built binary),
# VALGRIND (path or empty), OPENBLAS_NUM_THREADS.

# ---- set-up and summary -----------------------------------------------------

cli_init() {
  NAME=$1
  if [ -z "${IMPLREG:-}" ] || [ ! -x "$IMPLREG" ]; then
    echo "$NAME: IMPLREG='${IMPLREG:-}' is not an executable (run through make check)" >&2
    exit 99
  fi
  VALGRIND=${VALGRIND:-}
  export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
  T=$(mktemp -d "${TMPDIR:-/tmp}/implreg-$NAME.XXXXXX") || exit 99
  trap 'rm -rf "$T"' EXIT
  trap 'exit 130' HUP INT TERM
  pass=0 fail=0 skip=0 ncase=0
  mkdir "$T/res" || exit 99
  # Concurrent valgrind jobs (valgrind is slow; the cases are independent).
  VGJOBS=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
  [ "$VGJOBS" -ge 1 ] 2>/dev/null || VGJOBS=2
  [ "$VGJOBS" -le 4 ] || VGJOBS=4
  VGCMD=()
  if [ -n "$VALGRIND" ]; then
    # shellcheck disable=SC2054 # definite,indirect is one argument
    VGCMD=("$VALGRIND" -q --error-exitcode=99 --leak-check=full
      --errors-for-leak-kinds=definite,indirect)
  fi
  vg=1 # whether the next expect_fail cases are repeated under valgrind
  nrun=0     # run_ok and checker runs so far
  RUN_ENV=() # environment assignments for run_ok
  PRE= # shell snippet run in the case folder before the command
}

# record LABEL [WHY...]: a check's verdict, a pass when no reason is given;
# a failure prints "FAIL LABEL" and each reason indented.  Returns 0 on a
# pass, 1 on a failure.
record() {
  local label=$1
  shift
  if [ $# -eq 0 ]; then
    pass=$((pass + 1))
    return 0
  fi
  fail=$((fail + 1))
  printf 'FAIL %s\n' "$label"
  printf '  %s\n' "$@"
  return 1
}

# tally FILE: counts the "PASS what" and "FAIL what" lines of a checker's
# report (e.g. tests/net_ref.py) and prints each failure with the indented
# lines that follow it.
tally() {
  local line show=0
  while IFS= read -r line; do
    case $line in
    PASS\ *) pass=$((pass + 1)); show=0 ;;
    FAIL\ *) fail=$((fail + 1)); show=1; printf '%s\n' "$line" ;;
    *) if [ "$show" = 1 ]; then printf '%s\n' "$line"; fi ;;
    esac
  done <"$1"
}

cli_collect_vg() {
  wait
  local r
  for r in "$T"/res/*.vg; do
    [ -e "$r" ] || continue
    count_result "$r"
  done
}

# The closing line (", K skipped" only when something was skipped); returns
# 0 only when nothing failed.
check() {
  local l=$1
  shift
  if "$@"; then record "$l"; else record "$l" "the condition failed: $*"; fi
}

same_tables() {
  local f n=0
  for f in "$1"/*.csv; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    cmp -s "$f" "$2/$(basename "$f")" || { echo "  differs: $f"; return 1; }
  done
  [ "$n" -gt 0 ]
}

cli_summary() {
  [ ${#VGCMD[@]} -gt 0 ] || echo "$NAME: note: VALGRIND is empty, memory checks skipped"
  if [ "$skip" -gt 0 ]; then
    echo "$NAME: $pass passed, $fail failed, $skip skipped"
  else
    echo "$NAME: $pass passed, $fail failed"
  fi
  [ "$fail" -eq 0 ]
}

# ---- runs that must succeed, checkers, tables ---------------------------------

# run_ok LABEL DIR ARGS...: runs implreg ARGS in DIR (made if needed), with
# the environment assignments of the array RUN_ENV; counts a pass when it
# exits with RUN_CODE (default 0).  Its stdout and stderr stay in $RUN_OUT
# and $RUN_ERR.  Returns 1 on a failure.
run_ok() {
  local label=$1 dir=$2 rc want=${RUN_CODE:-0}
  shift 2
  nrun=$((nrun + 1))
  RUN_OUT=$T/res/run$nrun.out
  RUN_ERR=$T/res/run$nrun.err
  mkdir -p "$dir" || return 1
  (cd "$dir" && exec env "${RUN_ENV[@]}" "$IMPLREG" "$@") >"$RUN_OUT" 2>"$RUN_ERR" </dev/null
  rc=$?
  if [ "$rc" -eq "$want" ]; then
    record "$label"
    return
  fi
  record "$label" "command: (cd $dir && ${RUN_ENV[*]:+${RUN_ENV[*]} }implreg $*)" \
    "exit status $rc, expected $want" "stderr: $(head -n 3 "$RUN_ERR")"
  return 1
}

# checker LABEL CMD...: runs a checker that prints PASS/FAIL lines (its
# standard input is the caller's: a here-document script) and counts them;
# exit status 77 is a skip.  Its report stays in $CHECK_OUT.
checker() {
  local label=$1 rc
  shift
  nrun=$((nrun + 1))
  CHECK_OUT=$T/res/check$nrun
  "$@" >"$CHECK_OUT" 2>&1
  rc=$?
  case $rc in
  0 | 1)
    tally "$CHECK_OUT"
    if [ "$rc" -eq 1 ] && ! grep -q '^FAIL' "$CHECK_OUT"; then
      record "$label" "exit status 1 without a FAIL line:" "$(tail -n 5 "$CHECK_OUT")"
    fi
    ;;
  77)
    echo "SKIP $label: $(tail -n 1 "$CHECK_OUT")"
    skip=$((skip + 1))
    ;;
  *) record "$label" "checker exit status $rc:" "$(tail -n 20 "$CHECK_OUT")" ;;
  esac
}

# has_tables LABEL DIR FILE...: each file exists and is not empty.
has_tables() {
  local label=$1 dir=$2 f missing=()
  shift 2
  for f in "$@"; do [ -s "$dir/$f" ] || missing+=("$f"); done
  if [ ${#missing[@]} -eq 0 ]; then record "$label"; else record "$label" "missing or empty in $dir: ${missing[*]}"; fi
}

# all_checks_pass LABEL CHECKS.csv: at least one claim, every verdict (the
# last field) PASS, no temporary file left beside it.
all_checks_pass() {
  local label=$1 f=$2 rows bad left
  if [ ! -s "$f" ]; then
    record "$label" "no $f"
    return
  fi
  rows=$(tail -n +2 "$f" | grep -c .)
  bad=$(tail -n +2 "$f" | grep . | grep -v ',PASS$')
  left=$(find "$(dirname "$f")" -name '*.tmp.*' -print)
  if [ "$rows" -gt 0 ] && [ -z "$bad" ] && [ -z "$left" ]; then
    record "$label"
  else
    record "$label" "$rows claims; not PASS: ${bad:-none}; temporary files: ${left:-none}"
  fi
}

# ---- .npy files in pure shell -------------------------------------------------

# Writes one byte given as a number 0..255 (an octal escape built into the
# format string, on purpose).
# shellcheck disable=SC2059
byte() { printf "\\$(printf '%03o' "$1")"; }

# The 8 little-endian bytes of a double: an integer (|k| < 2^52), nan, inf or
# -inf.  Pure shell, so that no Python is needed to make .npy files.
f8() {
  local k=$1 s=0 e=0 m bits i
  case $k in
  nan) bits=$((0x7ff8 << 48)) ;;
  inf) bits=$((0x7ff0 << 48)) ;;
  -inf) bits=$((0xfff0 << 48)) ;;
  0) bits=0 ;;
  *)
    if [ "$k" -lt 0 ]; then s=1; k=$((-k)); fi
    while [ $((k >> (e + 1))) -gt 0 ]; do e=$((e + 1)); done
    m=$(((k << (52 - e)) & ((1 << 52) - 1)))
    bits=$(((s << 63) | ((1023 + e) << 52) | m))
    ;;
  esac
  for i in 0 1 2 3 4 5 6 7; do byte $(((bits >> (8 * i)) & 255)); done
}

# npy_header DESCR SHAPE: a version 1.0 header, padded to 64 bytes as numpy
# writes it.
npy_header() {
  local dict="{'descr': '$1', 'fortran_order': False, 'shape': $2, }"
  local pad=$(((64 - (10 + ${#dict} + 1) % 64) % 64))
  local hlen=$((${#dict} + pad + 1))
  printf '\223NUMPY\001\000'
  byte $((hlen & 255))
  byte $((hlen >> 8))
  printf '%s%*s\n' "$dict" "$pad" ''
}

# npy_f8 SHAPE V1 V2 ...: a complete '<f8' file on stdout.
npy_f8() {
  local shape=$1 v
  shift
  npy_header '<f8' "$shape"
  for v in "$@"; do f8 "$v"; done
}

# ---- failing runs ---------------------------------------------------------------

# A listing of a folder (names, types, sizes, checksums), to prove that a
# failed command changed nothing in it.
snapshot() {
  (cd "$1" && find . -print | LC_ALL=C sort | while IFS= read -r f; do
    if [ -f "$f" ]; then printf '%s %s\n' "$f" "$(cksum <"$f")"
    elif [ -d "$f" ]; then printf '%s/\n' "$f"
    else printf '%s ?\n' "$f"; fi
  done)
}

# run_case RESULT_FILE LABEL CODE NPAT PAT... PRE WRAPPER... -- ARGS...
# Runs "$IMPLREG ARGS" (prefixed by WRAPPER, e.g. valgrind) in a fresh folder
# D after running the shell snippet PRE there; @D@ in ARGS stands for D.
# Writes "PASS label" or one "FAIL label: why" line (plus detail lines
# starting with two spaces) to RESULT_FILE.
run_case() {
  local res=$1 label=$2 code=$3 npat=$4
  shift 4
  local pats=() i
  for ((i = 0; i < npat; i++)); do pats+=("$1"); shift; done
  local pre=$1
  shift
  local wrap=()
  while [ "$1" != -- ]; do wrap+=("$1"); shift; done
  shift
  local d out err args=() a why=()
  d=$(mktemp -d "$T/case.XXXXXX") || { echo "FAIL $label: mktemp" >"$res"; return; }
  out=$d.stdout
  err=$d.stderr
  for a in "$@"; do args+=("${a//@D@/$d}"); done
  if [ -n "$pre" ]; then (cd "$d" && eval "$pre") || why+=("setup failed: $pre"); fi
  local before after rc
  before=$(snapshot "$d")
  (cd "$d" && exec "${wrap[@]}" "$IMPLREG" "${args[@]}") >"$out" 2>"$err" </dev/null
  rc=$?
  after=$(snapshot "$d")
  if [ "$rc" -ne "$code" ]; then
    if [ "$rc" -eq 99 ] && [ ${#wrap[@]} -gt 0 ]; then
      why+=("valgrind reported errors (exit 99), expected exit $code")
    elif [ "$rc" -gt 128 ]; then
      why+=("killed by signal $((rc - 128)) (exit $rc), expected exit $code")
    else
      why+=("exit status $rc, expected $code")
    fi
  fi
  local nl
  nl=$(wc -l <"$err")
  if [ "$nl" -ne 1 ] || [ "$(wc -c <"$err")" -le 1 ]; then
    why+=("stderr has $nl line(s), expected exactly one non-empty line")
  fi
  if ! head -n 1 "$err" | grep -q '^implreg'; then
    why+=("stderr does not start with the program name 'implreg'")
  fi
  for a in "${pats[@]}"; do
    grep -Eq -- "$a" "$err" || why+=("stderr does not match /$a/")
  done
  if [ -s "$out" ]; then
    why+=("stdout is not empty ($(wc -l <"$out") lines; first: $(head -n 1 "$out"))")
  fi
  if [ "$before" != "$after" ]; then
    why+=("files changed in the run folder (output or temporary file left behind):")
    why+=("$(diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | grep '^[<>]' | sed "s|^|    |")")
  fi
  if [ ${#why[@]} -eq 0 ]; then
    echo "PASS $label" >"$res"
  else
    {
      echo "FAIL $label"
      printf '  command: %s\n' "${wrap[*]:+${wrap[*]} }implreg ${args[*]}"
      for a in "${why[@]}"; do printf '  %s\n' "$a"; done
      printf '  stderr: %s\n' "$(head -c 600 "$err" | head -n 5)"
    } >"$res"
  fi
}

count_result() {
  if grep -q '^PASS' "$1"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    cat "$1"
  fi
}

# expect_fail LABEL CODE PATTERN... -- ARGS...
expect_fail() {
  local label=$1 code=$2
  shift 2
  local pats=()
  while [ "$1" != -- ]; do pats+=("$1"); shift; done
  shift
  ncase=$((ncase + 1))
  local res=$T/res/$ncase
  run_case "$res" "$label" "$code" ${#pats[@]} "${pats[@]}" "$PRE" -- "$@"
  count_result "$res"
  if [ ${#VGCMD[@]} -gt 0 ] && [ "$vg" = 1 ]; then
    while [ "$(jobs -rp | wc -l)" -ge "$VGJOBS" ]; do wait -n; done
    run_case "$res.vg" "$label [valgrind]" "$code" ${#pats[@]} "${pats[@]}" \
      "$PRE" "${VGCMD[@]}" -- "$@" &
  fi
  PRE=
}

# The same, never under valgrind: variants of a case that valgrind already
# covers (each valgrind run costs about a second of start-up).
expect_fail_novg() {
  local vg=0
  expect_fail "$@"
}
