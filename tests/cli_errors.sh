#!/bin/bash
# cli_errors.sh — bad input and bad usage of `implreg` never crash and never
# leave a file behind: exit status exactly 2, exactly one non-empty line on
# stderr that names what is wrong and where (file, line, column), nothing on
# stdout, and no output file (nor a temporary OUT.csv.tmp.*) afterwards.
# With VALGRIND set, the minnorm cases and a few gd-vs-minnorm ones are
# repeated under valgrind (memcheck errors and definite/indirect leaks give
# exit status 99, which fails the case).
#
# Environment (Makefile.am AM_TESTS_ENVIRONMENT): IMPLREG (the built binary),
# VALGRIND (path or empty), top_srcdir (to find tests/cli_lib.sh, the
# helpers; else the script's own folder); PYTHON3 is not needed here.
# Writes only into a mktemp -d folder, removed on exit.
set -u

if [ -n "${top_srcdir:-}" ]; then CLI_LIB=$top_srcdir/tests/cli_lib.sh; else CLI_LIB=$(dirname "$0")/cli_lib.sh; fi
# shellcheck source=tests/cli_lib.sh
. "$CLI_LIB" || exit 99
cli_init cli_errors
IN=$T/in
mkdir "$IN" || exit 99

# ---- inputs --------------------------------------------------------------------

cd "$IN" || exit 99
printf '1,2,3\n4,5,7\n' >x.csv
printf '1\n2\n' >y.csv
printf '1\n2\n3\n' >y3.csv
printf '1,2,3\n4,5\n' >ragged.csv
printf '1,2,3\n4,5,6\n7,8,9,10\n' >ragged3.csv
printf '1,2,3\n4,abc,6\n' >nonnum.csv
printf 'a,b,c\n1,2,3\n4,5,zz\n' >nonnum_hdr.csv
printf '1,2,3\n4,,6\n' >emptycell.csv
printf '1,2,3\n4,nan,6\n' >nan.csv
printf '1,2,3\n4,5,NaN\n' >nan2.csv
printf '1,2,3\n4,inf,6\n' >inf.csv
printf '1,2,3\n-Infinity,5,6\n' >ninf.csv
printf '1,2,3\n4,1e400,6\n' >overflow.csv
printf '1\nnan\n' >ynan.csv
: >empty.csv
printf '\n\n' >blank.csv
printf 'a,b,c\n' >hdronly.csv
mkdir xdir.csv
npy_f8 '(2, 3)' 1 2 3 4 5 7 >x.npy
npy_f8 '(2,)' 1 2 >y.npy
# Truncated data: 3 of the 6 doubles.
npy_f8 '(2, 3)' 1 2 3 >trunc.npy
# Truncated header: the magic and the length, then half the dict.
npy_header '<f8' '(2, 3)' | head -c 40 >trunc_hdr.npy
{ npy_header '<c16' '(2, 3)'; for i in 1 2 3 4 5 6; do f8 "$i"; f8 0; done; } >complex.npy
{ npy_header '<U3' '(2, 3)'; head -c 72 /dev/zero; } >string.npy
{ npy_header '>f8' '(2, 3)'; for i in 1 2 3 4 5 6; do f8 "$i"; done; } >bigendian.npy
npy_f8 '(2, 3)' 1 2 3 4 nan 6 >nan.npy
npy_f8 '(2, 3)' 1 inf 3 4 5 6 >inf.npy
npy_f8 '(2, 3, 1)' 1 2 3 4 5 6 >threed.npy
printf 'this is not a .npy file\n' >fake.npy
printf 'X = %s\nY = %s\nthis line has no equals sign\n' "$IN/x.csv" "$IN/y.csv" >bad.conf
printf 'quick = true\n\n# comment\ndata linear\n' >bad_gd.conf
printf 'config = other.conf\n' >nested.conf
cd / || exit 99
IN_BEFORE=$(snapshot "$IN")

X=$IN/x.csv
Y=$IN/y.csv
OUT=@D@/OUT.csv

# ---- minnorm: bad data ---------------------------------------------------------

expect_fail "ragged CSV row" 2 'ragged\.csv:2\b' 'field|column|row' -- minnorm --X "$IN/ragged.csv" --Y "$IN/y3.csv" --out "$OUT"
expect_fail_novg "ragged CSV row (line 3)" 2 'ragged3\.csv:3\b' -- minnorm --X "$IN/ragged3.csv" --Y "$IN/y3.csv" --out "$OUT"
expect_fail "non-numeric cell" 2 'nonnum\.csv:2:2\b' 'abc' -- minnorm --X "$IN/nonnum.csv" --Y "$Y" --out "$OUT"
expect_fail_novg "non-numeric cell after a header" 2 'nonnum_hdr\.csv:3:3\b' 'zz' -- minnorm --X "$IN/nonnum_hdr.csv" --Y "$Y" --out "$OUT"
expect_fail "empty cell" 2 'emptycell\.csv:2:2\b' 'empty' -- minnorm --X "$IN/emptycell.csv" --Y "$Y" --out "$OUT"
expect_fail "NaN in CSV" 2 'nan\.csv:2:2\b' '[Nn]a[Nn]' -- minnorm --X "$IN/nan.csv" --Y "$Y" --out "$OUT"
expect_fail_novg "NaN in CSV (NaN spelling)" 2 'nan2\.csv:2:3\b' -- minnorm --X "$IN/nan2.csv" --Y "$Y" --out "$OUT"
expect_fail "Inf in CSV" 2 'inf\.csv:2:2\b' '[Ii]nf' -- minnorm --X "$IN/inf.csv" --Y "$Y" --out "$OUT"
expect_fail_novg "-Infinity in CSV" 2 'ninf\.csv:2:1\b' -- minnorm --X "$IN/ninf.csv" --Y "$Y" --out "$OUT"
expect_fail_novg "overflow 1e400 in CSV" 2 'overflow\.csv:2:2\b' -- minnorm --X "$IN/overflow.csv" --Y "$Y" --out "$OUT"
expect_fail "NaN in Y" 2 'ynan\.csv:2\b' -- minnorm --X "$X" --Y "$IN/ynan.csv" --out "$OUT"
expect_fail "empty file" 2 'empty\.csv' 'empty' -- minnorm --X "$IN/empty.csv" --Y "$Y" --out "$OUT"
expect_fail_novg "file of blank lines" 2 'blank\.csv' -- minnorm --X "$IN/blank.csv" --Y "$Y" --out "$OUT"
expect_fail "header but no data" 2 'hdronly\.csv' -- minnorm --X "$IN/hdronly.csv" --Y "$Y" --out "$OUT"
expect_fail "X and Y row counts differ" 2 'x\.csv' 'y3\.csv' '\b2\b' '\b3\b' -- minnorm --X "$X" --Y "$IN/y3.csv" --out "$OUT"
expect_fail "truncated .npy data" 2 'trunc\.npy' '[Tt]runcat' -- minnorm --X "$IN/trunc.npy" --Y "$IN/y.npy" --out "$OUT"
expect_fail "truncated .npy header" 2 'trunc_hdr\.npy' -- minnorm --X "$IN/trunc_hdr.npy" --Y "$IN/y.npy" --out "$OUT"
expect_fail "complex .npy dtype <c16" 2 'complex\.npy' 'c16' -- minnorm --X "$IN/complex.npy" --Y "$IN/y.npy" --out "$OUT"
expect_fail "string .npy dtype <U3" 2 'string\.npy' 'U3' -- minnorm --X "$IN/string.npy" --Y "$IN/y.npy" --out "$OUT"
expect_fail_novg "big-endian .npy dtype >f8" 2 'bigendian\.npy' '>f8' -- minnorm --X "$IN/bigendian.npy" --Y "$IN/y.npy" --out "$OUT"
expect_fail "NaN in .npy" 2 'nan\.npy' '[Nn]a[Nn]' -- minnorm --X "$IN/nan.npy" --Y "$IN/y.npy" --out "$OUT"
expect_fail "Inf in .npy" 2 'inf\.npy' '[Ii]nf' -- minnorm --X "$IN/inf.npy" --Y "$IN/y.npy" --out "$OUT"
expect_fail_novg "3-D .npy" 2 'threed\.npy' -- minnorm --X "$IN/threed.npy" --Y "$IN/y.npy" --out "$OUT"
expect_fail "not a .npy file" 2 'fake\.npy' -- minnorm --X "$IN/fake.npy" --Y "$IN/y.npy" --out "$OUT"
expect_fail "missing file" 2 'missing\.csv' -- minnorm --X "$IN/missing.csv" --Y "$Y" --out "$OUT"
expect_fail_novg "missing Y file" 2 'nothere\.npy' -- minnorm --X "$X" --Y "$IN/nothere.npy" --out "$OUT"
expect_fail "directory given as --X" 2 'xdir\.csv' 'director|folder' -- minnorm --X "$IN/xdir.csv" --Y "$Y" --out "$OUT"
PRE='printf "old\n" >OUT.csv'
expect_fail "bad input leaves an existing OUT.csv untouched" 2 'ragged\.csv:2\b' -- minnorm --X "$IN/ragged.csv" --Y "$IN/y3.csv" --out "$OUT"

# ---- minnorm: outputs ----------------------------------------------------------

expect_fail "--out in a non-existent folder" 2 'nodir' -- minnorm --X "$X" --Y "$Y" --out @D@/nodir/OUT.csv
expect_fail "--out in a folder whose parent does not exist" 2 'noparent/nodir' -- minnorm --X "$X" --Y "$Y" --out @D@/noparent/nodir/OUT.csv
if [ "$(id -u)" -ne 0 ]; then
  PRE='mkdir ro && chmod a-w ro'
  expect_fail "--out in a read-only folder" 2 'ro/OUT\.csv|ro\b' -- minnorm --X "$X" --Y "$Y" --out @D@/ro/OUT.csv
fi
if [ -d /proc/self ]; then
  # /proc: a folder where nobody, root included, can create a file (access(2)
  # may still say it is writable for root): the write itself fails, after
  # the computation, and still nothing may be printed or left behind.
  expect_fail "--out in /proc (creating the file fails)" 2 '/proc/implreg-test\.csv' -- minnorm --X "$X" --Y "$Y" --out /proc/implreg-test.csv
  expect_fail "--diagnostics in /proc after a good --out" 2 '/proc/implreg-test\.json' -- minnorm --X "$X" --Y "$Y" --out "$OUT" --diagnostics /proc/implreg-test.json
fi
PRE='mkdir OUT.csv'
expect_fail "--out names an existing directory" 2 'OUT\.csv' 'director|folder' -- minnorm --X "$X" --Y "$Y" --out "$OUT"
PRE='mkdir d.json'
expect_fail_novg "--diagnostics names an existing directory" 2 'd\.json' 'director|folder' -- minnorm --X "$X" --Y "$Y" --out "$OUT" --diagnostics @D@/d.json
expect_fail_novg "--diagnostics in a non-existent folder" 2 'nodir' -- minnorm --X "$X" --Y "$Y" --out "$OUT" --diagnostics @D@/nodir/d.json
expect_fail "--out with an empty file name" 2 '--out' -- minnorm --X "$X" --Y "$Y" --out ''

# ---- minnorm: options ----------------------------------------------------------

expect_fail "negative --rcond" 2 '--rcond' '-1' -- minnorm --X "$X" --Y "$Y" --out "$OUT" --rcond -1
expect_fail "non-numeric --rcond" 2 '--rcond' 'abc' -- minnorm --X "$X" --Y "$Y" --out "$OUT" --rcond abc
expect_fail_novg "--rcond nan" 2 '--rcond' -- minnorm --X "$X" --Y "$Y" --out "$OUT" --rcond nan
expect_fail "negative --ridge" 2 '--ridge' '-1' -- minnorm --X "$X" --Y "$Y" --out "$OUT" --ridge -1
expect_fail_novg "negative --ridge in a list" 2 '--ridge' '-0\.5' -- minnorm --X "$X" --Y "$Y" --out "$OUT" --ridge 1,-0.5
expect_fail "unknown option" 2 '--bogus' -- minnorm --X "$X" --Y "$Y" --out "$OUT" --bogus
expect_fail_novg "option without its value" 2 '--rcond' -- minnorm --X "$X" --Y "$Y" --out "$OUT" --rcond
expect_fail_novg "stray argument" 2 'stray' -- minnorm --X "$X" --Y "$Y" --out "$OUT" stray
expect_fail "missing required --X" 2 '--X' -- minnorm --Y "$Y" --out "$OUT"
expect_fail "minnorm --seeds: refused, nothing is random" 2 '--seeds' 'nothing at random' -- minnorm --X "$X" --Y "$Y" --out "$OUT" --seeds 3
expect_fail_novg "minnorm --seed=2: refused" 2 '--seed' 'nothing at random' -- minnorm --X "$X" --Y "$Y" --out "$OUT" --seed=2
expect_fail_novg "theory mp --seeds: refused" 2 '--seeds' 'closed forms' -- theory mp --gamma 0.5 --seeds 2
expect_fail_novg "theory hastie --seed: refused" 2 '--seed' 'closed forms' -- theory hastie --gamma 2 --r2 1 --sigma2 0.1 --seed 3
expect_fail_novg "train --seeds 2: refused" 2 '--seeds 2' 'one seed' -- train --arch 4-8-1 --data teacher --lr 0.1 --seeds 2 --out @D@/G
expect_fail_novg "hessian --seeds 2: refused" 2 '--seeds 2' 'one seed' -- hessian --arch 4-8-1 --data teacher --params x.npy --seeds 2 --out @D@/G
expect_fail "unknown --method" 2 'qr' 'svd' -- minnorm --X "$X" --Y "$Y" --out "$OUT" --method qr
expect_fail_novg "--ridge with --method cod" 2 '--ridge' -- minnorm --X "$X" --Y "$Y" --out "$OUT" --ridge 1 --method cod
expect_fail "config file with a malformed line" 2 'bad\.conf:3\b' -- minnorm --config "$IN/bad.conf" --out "$OUT"
expect_fail_novg "missing config file" 2 'nope\.conf' -- minnorm --config "$IN/nope.conf" --X "$X" --Y "$Y" --out "$OUT"

# ---- the command and gd-vs-minnorm ---------------------------------------------

expect_fail "unknown analysis" 2 'nonsense' -- nonsense
vg=0
GD=(gd-vs-minnorm --quick --data linear --quiet)
GOUT=@D@/G
expect_fail "gd-vs-minnorm --n 0" 2 '--n' '\b0\b' -- "${GD[@]}" --out "$GOUT" --n 0
expect_fail "gd-vs-minnorm --seed 0" 2 '--seed' -- "${GD[@]}" --out "$GOUT" --seed 0
expect_fail "gd-vs-minnorm --seed abc" 2 '--seed' 'abc' -- "${GD[@]}" --out "$GOUT" --seed abc
expect_fail "gd-vs-minnorm --seeds 0" 2 '--seeds' -- "${GD[@]}" --out "$GOUT" --seeds 0
expect_fail "gd-vs-minnorm --format xls" 2 '--format' 'xls' -- "${GD[@]}" --out "$GOUT" --format xls
expect_fail "gd-vs-minnorm --data nonsense" 2 '--data|nonsense' -- "${GD[@]}" --out "$GOUT" --data nonsense
expect_fail "gd-vs-minnorm --multiples -1" 2 '--multiples' -- "${GD[@]}" --out "$GOUT" --multiples 0.5,-1
expect_fail "gd-vs-minnorm unknown option" 2 '--bogus' -- "${GD[@]}" --out "$GOUT" --bogus
expect_fail "gd-vs-minnorm missing option value" 2 '--n' -- "${GD[@]}" --out "$GOUT" --n
expect_fail "gd-vs-minnorm nested config" 2 'nested\.conf:1\b' -- "${GD[@]}" --out "$GOUT" --config "$IN/nested.conf"
expect_fail "gd-vs-minnorm missing config file" 2 'nope\.conf' -- "${GD[@]}" --out "$GOUT" --config "$IN/nope.conf"
expect_fail "all unknown option" 2 '--bogus' -- all --quick --quiet --out "$GOUT" --bogus
vg=1
expect_fail "gd-vs-minnorm --n 0 (valgrind)" 2 '--n' -- "${GD[@]}" --out "$GOUT" --n 0
expect_fail "gd-vs-minnorm --format xls (valgrind)" 2 'xls' -- "${GD[@]}" --out "$GOUT" --format xls
PRE='printf "x\n" >afile'
expect_fail "gd-vs-minnorm --out under a regular file" 2 'afile' -- "${GD[@]}" --out @D@/afile/sub
expect_fail "gd-vs-minnorm config file with a malformed line" 2 'bad_gd\.conf:4\b' -- "${GD[@]}" --out "$GOUT" --config "$IN/bad_gd.conf"

# ---- valgrind results and the inputs ------------------------------------------

cli_collect_vg
if [ "$(snapshot "$IN")" = "$IN_BEFORE" ]; then
  pass=$((pass + 1))
else
  fail=$((fail + 1))
  echo "FAIL the input folder was modified by the runs:"
  diff <(printf '%s\n' "$IN_BEFORE") <(snapshot "$IN") | sed 's/^/  /'
fi
cli_summary
