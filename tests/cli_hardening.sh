#!/usr/bin/env bash
# cli_hardening.sh — inputs and outputs that must not do damage (issue 12):
# devices, FIFOs and symlinks as outputs are written through, followed or
# refused, never replaced; an output equal to an input or another output
# is refused before any work; every option (of every analysis `all` runs)
# is checked before the first computation; only regular files are read;
# --threads and sizes are refused up front with the number; control
# characters in messages are escaped; manifests round-trip through
# --config with every escape the writer emits.
#
# As root, a character device is a private copy of /dev/null (mknod in the
# test's folder): the test never risks the real one.
set -u
NAME=cli_hardening
if [ -z "${IMPLREG:-}" ] || [ ! -x "$IMPLREG" ]; then
  echo "$NAME: IMPLREG='${IMPLREG:-}' is not an executable" >&2
  exit 99
fi
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
PY=${PYTHON3:-/usr/bin/python3}
T=$(mktemp -d "${TMPDIR:-/tmp}/implreg-$NAME.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 99
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() {
  fail=$((fail + 1))
  echo "FAIL: $*"
}
check() { # check LABEL CONDITION...
  local l=$1
  shift
  if "$@"; then ok; else bad "$l"; fi
}
# run: the command with a time limit (a FIFO must never block), its exit
# status in $rc, its stderr in err.
run() {
  timeout 60 "$IMPLREG" "$@" >out 2>err </dev/null
  rc=$?
}
# expect_refused LABEL REGEX -- ARGS: exit 2, one stderr line matching REGEX.
expect_refused() {
  local l=$1 re=$2
  shift 3
  run "$@"
  local lines
  lines=$(grep -c . err)
  if [ "$rc" -ne 2 ]; then
    bad "$l: exit $rc, expected 2 ($(head -c 300 err))"
  elif [ "$lines" -ne 1 ]; then
    bad "$l: $lines stderr lines, expected one: $(head -c 300 err)"
  elif ! grep -Eq -- "$re" err; then
    bad "$l: stderr does not match /$re/: $(cat err)"
  else
    ok
  fi
}

printf '1,0,2\n0,1,1\n1,1,0\n2,0,1\n0,2,2\n' >X.csv
printf '1\n2\n3\n4\n5\n' >Y.csv
cp X.csv X.orig
MN=(minnorm --X X.csv --Y Y.csv --quiet)

# ---- output paths: devices, FIFOs, symlinks --------------------------------

# A character device is written through and stays a device.
if [ "$(id -u)" -eq 0 ]; then
  mknod null c 1 3 && DEV=$T/null
else
  DEV=/dev/null # not replaceable without root: safe to use
fi
run "${MN[@]}" --out "$DEV"
check "--out DEVICE exits 0 ($(cat err))" [ "$rc" -eq 0 ]
check "--out DEVICE stays a character device" [ -c "$DEV" ]
run "${MN[@]}" --diagnostics "$DEV"
check "--diagnostics DEVICE stays a character device" [ -c "$DEV" ]
run train --arch 4-4-1 --data teacher --n 16 --lr 0.1 --steps 3 --quiet \
  --out tr --save "$DEV"
check "train --save DEVICE exits 0 ($(cat err))" [ "$rc" -eq 0 ]
check "train --save DEVICE stays a character device" [ -c "$DEV" ]
# The real /dev/null, whatever ran above, is still a device.
check "/dev/null is a character device" [ -c /dev/null ]

# A FIFO with no reader: refused at once (not blocked on), stays a FIFO.
mkfifo ff
expect_refused "--out FIFO without reader" 'FIFO with no reader' -- "${MN[@]}" --out ff
check "the FIFO stays a FIFO" [ -p ff ]
# With a reader: written through.
timeout 30 cat ff >fifo.txt &
reader=$!
sleep 0.3
run "${MN[@]}" --out ff
wait "$reader"
check "--out FIFO with a reader exits 0 ($(cat err))" [ "$rc" -eq 0 ]
check "the reader got W (3 rows)" [ "$(grep -c . fifo.txt)" -eq 3 ]
check "the FIFO stays a FIFO after the write" [ -p ff ]

# A symlink is followed: the target gets the result, the link stays.
mkdir tgt
echo old >tgt/W.csv
ln -s tgt/W.csv link.csv
run "${MN[@]}" --out link.csv
check "--out SYMLINK exits 0 ($(cat err))" [ "$rc" -eq 0 ]
check "--out SYMLINK stays a symlink" [ -L link.csv ]
check "--out SYMLINK wrote the target" [ "$(grep -c . tgt/W.csv)" -eq 3 ]
check "no temporary file left beside the link or target" \
  [ -z "$(ls -a . tgt | grep -e '\.tmp\.' -e '^\.implreg-')" ]
ln -s nowhere.csv dangling.csv
expect_refused "--out dangling symlink" 'symbolic link to a missing file' -- "${MN[@]}" --out dangling.csv
check "the dangling link is untouched" [ -L dangling.csv ]
check "no file made behind the dangling link" [ ! -e nowhere.csv ]
# Table folders: a symlinked table file is followed too.
run theory hastie --gamma 2 --r2 1 --sigma2 0.5 --out th --quiet
mv th/theory_hastie.csv th/real_hastie.csv
if check "theory wrote theory_hastie.csv" [ -f th/real_hastie.csv ]; then
  ln -s real_hastie.csv th/theory_hastie.csv
  run theory hastie --gamma 2 --r2 1 --sigma2 0.5 --out th --quiet
  check "a table behind a symlink: the link kept" [ -L th/theory_hastie.csv ]
  check "a table behind a symlink: the target rewritten" [ -s th/real_hastie.csv ]
fi

# ---- collisions, refused before any work -----------------------------------

echo keep >W.csv
expect_refused "--out = --diagnostics" '--out W.csv and --diagnostics W.csv name the same file' -- "${MN[@]}" --out W.csv --diagnostics W.csv
check "W.csv untouched" [ "$(cat W.csv)" = keep ]
expect_refused "--out = --X" '--X X.csv and --out X.csv name the same file' -- "${MN[@]}" --out X.csv
check "X.csv untouched" cmp -s X.csv X.orig
ln X.csv Xhard.csv
expect_refused "--out = a hard link of --X" 'name the same file' -- "${MN[@]}" --out Xhard.csv
ln -s X.csv Xsym.csv
expect_refused "--diagnostics = a symlink to --X" 'name the same file' -- "${MN[@]}" --diagnostics Xsym.csv
expect_refused "--out ./W.csv = --diagnostics W.csv (not existing)" 'name the same file' -- "${MN[@]}" --out ./new.csv --diagnostics new.csv
check "collisions wrote nothing" cmp -s X.csv X.orig
check "no new.csv" [ ! -e new.csv ]
mkdir -p run1
cp X.csv run1/theta.npy
expect_refused "train --init inside --out" 'inside the output folder' -- train --arch 4-4-1 --data teacher --lr 0.1 --out run1 --init run1/theta.npy
expect_refused "hessian --params = --save-vectors" 'name the same file' -- hessian --arch 4-4-1 --data teacher --params run1/theta.npy --top 1 --out h --save-vectors run1/theta.npy
check "no folder h made" [ ! -e h ]

# ---- every option checked before the first computation ---------------------

expect_refused "train --save in a missing folder" 'folder nodir does not exist' -- train --arch 4-4-1 --data teacher --lr 0.1 --steps 100000 --out tr2 --save nodir/t.npy
check "train wrote nothing" [ ! -e tr2 ]
expect_refused "train --out is a file" 'not a folder' -- train --arch 4-4-1 --data teacher --lr 0.1 --out X.csv
SECONDS=0
run all --quick --seeds 2000 --out allout
check "all: a sub-analysis's bad option exits 2 ($rc)" [ "$rc" -eq 2 ]
check "all: refused before running anything" grep -q 'refused before running anything' err
check "all: nothing written" [ ! -e allout ]
check "all: refused within seconds ($SECONDS s)" [ "$SECONDS" -lt 10 ]

# ---- inputs: regular files only --------------------------------------------

mkfifo in.fifo
expect_refused "--X FIFO" 'FIFO' -- "${MN[@]}" --X in.fifo
expect_refused "--X /dev/zero" 'character device' -- minnorm --X /dev/zero --Y Y.csv
expect_refused "train --X FIFO" 'FIFO' -- train --arch 3-2-1 --X in.fifo --Y Y.csv --lr 0.1 --out tr3
expect_refused "hessian --params /dev/zero" 'character device' -- hessian --arch 4-4-1 --data teacher --params /dev/zero --top 1 --out h
expect_refused "--config FIFO" 'FIFO|regular' -- theory hastie --config in.fifo
# NPY: a header that disagrees with the file's size is refused.
"$PY" - <<'EOF'
import struct
d = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 3), }"
d += b" " * ((64 - (10 + len(d) + 1) % 64) % 64) + b"\n"
open("huge.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(d)) + d + b"\0" * 48)
EOF
expect_refused "NPY header larger than the file" 'truncated data: expected 24000000000 bytes' -- minnorm --X huge.npy --Y Y.csv

# ---- threads and memory ----------------------------------------------------

expect_refused "--threads above MAX_THREADS" 'out of range \[1, [0-9]+\]' -- "${MN[@]}" --threads 1025
# Not in the sanitizer build: ASan reserves terabytes of shadow memory and
# cannot start under an address-space limit.
[ -n "${IR_SAN_PRELOAD:-}" ] || (
  ulimit -v 4000000 2>/dev/null || exit 0
  timeout 60 "$IMPLREG" "${MN[@]}" --threads 48 >out 2>err </dev/null
  echo $? >rc.txt
)
if [ -f rc.txt ]; then
  check "--threads 48 under ulimit -v 4000000: refused (exit $(cat rc.txt))" [ "$(cat rc.txt)" -eq 2 ]
  check "... with the number that fits" grep -q 'at most [0-9]* BLAS threads fit' err
fi
expect_refused "train --n beyond memory" 'needs [0-9]+ bytes' -- train --arch 4-5000-5000-1 --data teacher --n 100000000 --lr 0.1 --out tr4
expect_refused "gd-vs-minnorm data beyond memory" 'needs 8008000000000 bytes' -- gd-vs-minnorm --n 1000000 --p 1000000 --out g
expect_refused "train --ntest beyond memory" 'ntest rows of test data needs' -- train --arch 1000-4-1 --data teacher --lr 0.1 --ntest 100000000 --out g
expect_refused "igr --ntest beyond memory" 'ntest rows of test data needs' -- igr --ntest 100000000 --out ig
check "memory refusals wrote nothing" [ ! -e g ]
expect_refused "double-descent features beyond memory" 'needs [0-9]+ bytes' -- double-descent --data fashion-mnist --n 60000 --ntest 10000 --grid 1000000 --out dd

# ---- control characters in messages ----------------------------------------

printf '1,2,3\n4,\033[31mEVIL\007,6\n' >ctl.csv
run minnorm --X ctl.csv --Y Y.csv
check "control characters: exit 2" [ "$rc" -eq 2 ]
check "control characters: no raw ESC or BEL on stderr" \
  [ "$(tr -d '\n' <err | LC_ALL=C tr -d '[:print:]' | wc -c)" -eq 0 ]
check "control characters: shown escaped" grep -qF '\x1b[31mEVIL\x07' err
run minnorm --X "$(printf 'x\033]0;title\007.csv')" --Y Y.csv
check "escape in a file name: escaped" grep -qF '\x1b]0;title\x07' err

# ---- manifests: the reader takes what the writer emits ---------------------

# A real manifest with an --out holding quotes, backslashes, UTF-8 and a
# control character, replayed: the same configuration comes back.
WEIRD=$(printf 'o"q\\b ü\tx\001y')
run theory hastie --gamma 2 --r2 1 --sigma2 0.5 --out "$WEIRD" --quiet
check "weird --out: the run succeeded ($(cat err))" [ "$rc" -eq 0 ]
if [ "$rc" -eq 0 ]; then
  run theory hastie --config "$WEIRD/manifest.json" --quiet
  check "weird --out: the manifest replays ($(cat err))" [ "$rc" -eq 0 ]
  "$PY" - "$WEIRD" <<'EOF' || bad "the replayed manifest's config differs"
import json, sys
m = json.load(open(sys.argv[1] + "/manifest.json"))
assert m["config"]["out"] == sys.argv[1], m["config"]["out"]
EOF
  ok
fi
# Every escape form a JSON writer may emit (\b \f \r \t \n \" \\ \/ \u00XX,
# \u escapes of non-ASCII text and a surrogate pair), for every analysis
# that writes a manifest: --config reads them back (checked with a value
# that must arrive intact: the --out folder's name).
"$PY" - <<'EOF'
import json
val = 'd\b\f\r\t\n"\\/\x01\x1b é ü 😀'
m = {"analysis": "theory hastie", "implreg_version": "x",
     "config": {"gamma": "2", "r2": "1", "sigma2": "0.5", "out": "esc/" + val.replace("/", "_"), "quick": "false"},
     "derived": {}, "environment": {"nested": {"a": [1, 2, {"b": None}]}}}
open("ascii.json", "w").write(json.dumps(m, ensure_ascii=True, indent=2))
open("utf8.json", "w").write(json.dumps(m, ensure_ascii=False))
open("expect.txt", "w").write(m["config"]["out"])
EOF
for f in ascii.json utf8.json; do
  rm -rf esc
  run theory hastie --config "$f" --quiet
  check "$f: every escape reads back ($(head -c 200 err))" [ "$rc" -eq 0 ]
  check "$f: the --out name arrived intact" [ -f "$(cat expect.txt)/manifest.json" ]
done
# Real manifests of the analyses that run in seconds replay to the same
# configuration (igr, flatness and nn-double-descent take minutes: their
# manifests come from the same writer and reader).
run train --arch 4-4-1 --data teacher --n 16 --lr 0.1 --steps 3 --quiet --out tr5
run hessian --arch 4-4-1 --data teacher --n 16 --params tr5/theta.npy --top 1 --quiet --out hq
run gd-vs-minnorm --quick --n 10 --p 12 --ntest 10 --fashion-n 10 --quiet --out gq
run double-descent --quick --quiet --out ddq
for d in tr th tr5 hq gq ddq; do
  if ! [ -f "$d/manifest.json" ]; then
    bad "no manifest in $d"
    continue
  fi
  an=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["analysis"])' "$d/manifest.json")
  # shellcheck disable=SC2086
  run $an --config "$d/manifest.json" --out "replay-$d" --quiet
  check "replay of $d ($an): exit 0 ($(head -c 200 err))" [ "$rc" -eq 0 ]
  "$PY" - "$d/manifest.json" "replay-$d/manifest.json" <<'EOF' || bad "replay of $d: another configuration"
import json, sys
a, b = (json.load(open(f))["config"] for f in sys.argv[1:3])
a.pop("out"); b.pop("out")
assert a == b, (a, b)
EOF
done
printf '{"config": {"gamma": "2", "grid": {"a": "1"}}}' >nested.json
expect_refused "a nested object in config" 'config\.grid is an object' -- theory hastie --config nested.json
printf '{"config": {"config": "other.json"}}' >cc.json
expect_refused "config.config" 'config\.config' -- theory hastie --config cc.json
printf '{"config": {"gamma": "2", "r2": "1", "sigma2": "0.5", "out": "bad \\q"}}' >badesc.json
expect_refused "an unknown escape" "unknown escape" -- theory hastie --config badesc.json
printf '{"a": {"config": {"x": "1"}}}' >deep.json
expect_refused "config only nested deeper" 'no "config" object' -- theory hastie --config deep.json

# ---- the new code paths under valgrind (when configured) -------------------

if [ -n "${VALGRIND:-}" ] && [ -x "${VALGRIND%% *}" ]; then
  printf '{"analysis": "theory hastie", "config": {"gamma": "2", "r2": "1", "sigma2": "0.5", "out": "vg\\u00fc\\ud83d\\ude00\\b\\t"}, "x": [1, {"y": null}]}' >vg.json
  vg() { # vg LABEL EXPECTED-EXIT ARGS...
    local l=$1 want=$2
    shift 2
    timeout 300 $VALGRIND -q --error-exitcode=99 --leak-check=full \
      --errors-for-leak-kinds=definite,indirect "$IMPLREG" "$@" >out 2>err </dev/null
    local got=$?
    check "valgrind: $l (exit $got, expected $want): $(grep -v '^implreg' err | head -c 300)" [ "$got" -eq "$want" ]
  }
  vg "manifest with every escape" 0 theory hastie --config vg.json --quiet
  vg "nested config object" 2 theory hastie --config nested.json
  vg "output collision" 2 "${MN[@]}" --out W.csv --diagnostics W.csv
  vg "symlinked output" 0 "${MN[@]}" --out link.csv
  vg "input FIFO" 2 "${MN[@]}" --X in.fifo
  vg "all: validation pass" 2 all --quick --seeds 2000 --out vga
  vg "NPY header mismatch" 2 minnorm --X huge.npy --Y Y.csv
fi

echo "$NAME: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
