#!/bin/bash
# fuzz_regress.sh — replays the seed corpus (tests/fuzz/corpus/<reader>) and
# every input that once crashed a reader (tests/fuzz/regress/<reader>)
# through the fuzz harnesses built without libFuzzer
# (tests/fuzz/replay_<reader>): each file must be read or refused without a
# crash, a sanitizer report or a broken contract (tests/fuzz/fuzz_*.c).  The
# regressions run again under valgrind when VALGRIND is set.  IR_SAN_PRELOAD
# (set in the sanitizer build) turns the address-space limit off.
#
# Environment (Makefile.am AM_TESTS_ENVIRONMENT): top_srcdir,
# abs_top_builddir, VALGRIND (path or empty), OPENBLAS_NUM_THREADS.
set -u
src=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
build=${abs_top_builddir:-$src}
VALGRIND=${VALGRIND:-}
pass=0 fail=0
for r in csv npy idx config; do
  prog=$build/tests/fuzz/replay_$r
  if [ ! -x "$prog" ]; then
    echo "fuzz_regress: $prog is not built (run through make check)" >&2
    exit 99
  fi
  for kind in corpus regress; do
    dir=$src/tests/fuzz/$kind/$r
    [ -d "$dir" ] || continue
    for f in "$dir"/*; do
      [ -f "$f" ] || continue
      label="$r $kind/$(basename "$f")"
      # A 4 GB address-space limit makes a reader that allocates what a
      # header claims fail (IR_ENOMEM breaks the contract); not under the
      # sanitizers, whose shadow memory needs terabytes of address space.
      if out=$(if [ -z "${IR_SAN_PRELOAD:-}" ]; then ulimit -v 4194304; fi
        "$prog" "$f" 2>&1 >/dev/null); then
        rc=0
      else
        rc=$?
      fi
      # The config reader prints one line per refused file; anything from a
      # sanitizer or an abort is a failure whatever the exit status.
      if [ "$rc" -ne 0 ] || grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|contract violated' <<<"$out"; then
        fail=$((fail + 1))
        echo "FAIL $label (exit $rc)"
        printf '%s\n' "$out" | grep -vE '^implreg: ' | head -20 | sed 's/^/  /'
        continue
      fi
      pass=$((pass + 1))
      if [ "$kind" = regress ] && [ -n "$VALGRIND" ]; then
        if "$VALGRIND" -q --error-exitcode=99 --leak-check=full \
          --errors-for-leak-kinds=definite,indirect "$prog" "$f" >/dev/null 2>"$build/fuzz_regress.vg.$$"; then
          pass=$((pass + 1))
        else
          fail=$((fail + 1))
          echo "FAIL $label [valgrind]"
          grep -v '^implreg: ' "$build/fuzz_regress.vg.$$" | head -20 | sed 's/^/  /'
        fi
        rm -f "$build/fuzz_regress.vg.$$"
      fi
    done
  done
done
[ -n "$VALGRIND" ] || echo "fuzz_regress: note: VALGRIND is empty, valgrind replays skipped"
echo "fuzz_regress: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
