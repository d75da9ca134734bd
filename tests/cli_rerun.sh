#!/usr/bin/env bash
# cli_rerun.sh — a rerun into an existing --out folder removes the previous
# run's files it does not rewrite, and nothing else.
#
# Run 1 writes every format; run 2 into the same folder writes only CSV:
# the tables' .md/.json/.tex from run 1 must be gone, the CSVs, figures
# and checks rewritten, and a user's own file (and folder) untouched.  A
# manifest.json that implreg did not write removes nothing, and a listed
# name outside the folder ("../x") is never touched.
set -u
NAME=cli_rerun
if [ -z "${IMPLREG:-}" ] || [ ! -x "$IMPLREG" ]; then
  echo "$NAME: IMPLREG='${IMPLREG:-}' is not an executable" >&2
  exit 99
fi
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
T=$(mktemp -d "${TMPDIR:-/tmp}/implreg-$NAME.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
check() { # check LABEL CONDITION...
  local l=$1
  shift
  if "$@"; then pass=$((pass + 1)); else
    fail=$((fail + 1))
    echo "FAIL: $l"
  fi
}
run() { "$IMPLREG" gd-vs-minnorm --quick --quiet --out "$T/D" "$@" >"$T/log" 2>&1; }

run || { echo "$NAME: run 1 failed"; cat "$T/log"; exit 1; }
check "run 1 wrote runs.md" test -f "$T/D/runs.md"
check "run 1 wrote runs.tex" test -f "$T/D/runs.tex"
check "run 1's manifest lists runs.md" grep -q '"runs.md"' "$T/D/manifest.json"
echo mine >"$T/D/user.txt"
mkdir "$T/D/userdir" && echo mine >"$T/D/userdir/f"
echo outside >"$T/outside.txt"

run --format csv || { echo "$NAME: run 2 failed"; cat "$T/log"; exit 1; }
check "run 2 removed runs.md" test ! -e "$T/D/runs.md"
check "run 2 removed runs.tex" test ! -e "$T/D/runs.tex"
check "run 2 removed runs.json" test ! -e "$T/D/runs.json"
check "run 2 kept runs.csv" test -s "$T/D/runs.csv"
check "run 2 kept checks.csv" test -s "$T/D/checks.csv"
check "run 2 kept checks.tex (always written)" test -s "$T/D/checks.tex"
check "the user's file survives" grep -q mine "$T/D/user.txt"
check "the user's folder survives" grep -q mine "$T/D/userdir/f"
check "run 2's manifest does not list runs.md" \
  sh -c "! grep -q '\"runs.md\"' '$T/D/manifest.json'"
check "run 2's manifest lists runs.csv" grep -q '"runs.csv"' "$T/D/manifest.json"

# A manifest naming files outside the folder, or not written by implreg,
# removes nothing.
cat >"$T/D/manifest.json" <<J
{
  "analysis": "gd-vs-minnorm",
  "implreg_version": "0",
  "files": [
    "../outside.txt",
    "user.txt",
    "userdir"
  ]
}
J
# user.txt is listed (as if an earlier implreg had written it): removed,
# which is what the list means; the folder and ../outside.txt are not.
run --format csv || { echo "$NAME: run 3 failed"; cat "$T/log"; exit 1; }
check "a listed ../ name is never removed" test -f "$T/outside.txt"
check "a listed folder is never removed" test -d "$T/D/userdir"
check "a listed file not rewritten is removed" test ! -e "$T/D/user.txt"
echo mine >"$T/D/user2.txt"
printf '{\n  "files": [\n    "user2.txt"\n  ]\n}\n' >"$T/D/manifest.json"
run --format csv || { echo "$NAME: run 4 failed"; cat "$T/log"; exit 1; }
check "a manifest implreg did not write removes nothing" test -f "$T/D/user2.txt"

echo "$NAME: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
