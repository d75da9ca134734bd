#!/usr/bin/env bash
# tex_compile.sh DIR — every .tex implreg wrote under DIR must compile in a
# plain article.
#
# Each file's first line names the packages it needs ("% implreg: needs
# booktabs, siunitx"); the file is wrapped in
#   \documentclass{article} \usepackage{<those>} \begin{document}
#   \input{file} \end{document}
# and compiled with pdflatex in batch mode in a temporary folder.  A file
# fails on any TeX error, on "Float too large", or on an overfull hbox wider
# than TEX_OVERFULL_PT points (default 1: a table that sticks out of the text
# width by more than that is not paper-ready).  Then all files of DIR are
# compiled together in one document, which fails on a label defined twice.
#
# Exit status: 0 all compiled, 1 a file failed, 77 pdflatex (or DIR's .tex
# files) missing, so that `make check` skips it, 99 a usage error.
set -u
NAME=tex_compile
dir=${1:-}
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
  echo "usage: $0 DIR (a folder implreg wrote)" >&2
  exit 99
fi
if ! command -v pdflatex >/dev/null 2>&1; then
  echo "$NAME: SKIP: pdflatex not found (install texlive-latex-base," \
    "texlive-latex-recommended and texlive-science)"
  exit 77
fi
limit=${TEX_OVERFULL_PT:-1}
dir=$(cd "$dir" && pwd)
mapfile -t files < <(find "$dir" -name '*.tex' -type f | LC_ALL=C sort)
if [ "${#files[@]}" -eq 0 ]; then
  echo "$NAME: SKIP: no .tex file under $dir"
  exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/implreg-tex.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
pass=0 fail=0

# The packages a file's first line asks for, comma-separated.
needs() {
  head -n 1 "$1" | sed -n 's/^%.*needs[: ]*\([A-Za-z0-9, -]*\).*/\1/p' |
    tr -d ' ' | sed 's/,$//'
}

# wrap OUT PACKAGES FILE... — a minimal article that inputs the files.
wrap() {
  local out=$1 pk=$2
  shift 2
  {
    echo '\documentclass{article}'
    [ -n "$pk" ] && echo "\\usepackage{$pk}"
    echo '\begin{document}'
    for f in "$@"; do
      printf '\\input{%s}\n\\clearpage\n' "$f"
    done
    echo '\end{document}'
  } >"$out"
}

# judge LOG LABEL — prints why the log shows a failure; status 1 if it does.
judge() {
  local log=$1 why=""
  if grep -q '^! ' "$log"; then
    why="error: $(grep -m 1 -A 2 '^! ' "$log" | tr '\n' ' ')"
  elif grep -q 'Float too large' "$log"; then
    why="$(grep -m 1 'Float too large' "$log")"
  else
    # "Overfull \hbox (12.3pt too wide) in alignment at lines 5--20"
    local worst
    worst=$(sed -n 's/^Overfull \\hbox (\([0-9.]*\)pt too wide).*/\1/p' "$log" |
      LC_ALL=C sort -g | tail -n 1)
    if [ -n "$worst" ] && awk -v w="$worst" -v l="$limit" 'BEGIN{exit !(w > l)}'; then
      why="overfull hbox ${worst}pt too wide (limit ${limit}pt): $(grep -m 1 -F "(${worst}pt too wide)" "$log")"
    elif grep -q 'multiply defined' "$log"; then
      why="$(grep -m 1 'multiply defined' "$log")"
    fi
  fi
  [ -z "$why" ] && return 0
  echo "$why"
  return 1
}

# compile JOB — pdflatex on T/JOB.tex, twice when labels need it; status 1
# when pdflatex itself failed.
compile() {
  (cd "$T" && timeout 120 pdflatex -interaction=batchmode -halt-on-error \
    "$1.tex" </dev/null >/dev/null 2>&1)
}

allpk=""
i=0
for f in "${files[@]}"; do
  i=$((i + 1))
  pk=$(needs "$f")
  rel=${f#"$dir"/}
  if [ -z "$pk" ]; then
    echo "FAIL: $rel: the first line does not say which packages it needs"
    fail=$((fail + 1))
    continue
  fi
  allpk="$allpk,$pk"
  wrap "$T/one$i.tex" "$pk" "$f"
  compile "one$i"
  if ! why=$(judge "$T/one$i.log"); then
    echo "FAIL: $rel: $why"
    fail=$((fail + 1))
  elif [ ! -s "$T/one$i.pdf" ]; then
    echo "FAIL: $rel: pdflatex made no PDF"
    fail=$((fail + 1))
  else
    pass=$((pass + 1))
  fi
done

# All together: the packages of every file, each once; labels must be unique.
allpk=$(echo "$allpk" | tr ',' '\n' | sed '/^$/d' | awk '!seen[$0]++' | paste -sd, -)
wrap "$T/all.tex" "$allpk" "${files[@]}"
compile all
compile all
if grep -q 'multiply defined' "$T/all.log"; then
  echo "FAIL: labels defined twice: $(grep 'multiply defined' "$T/all.log" | head -n 3 | tr '\n' ' ')"
  fail=$((fail + 1))
elif grep -q '^! ' "$T/all.log"; then
  echo "FAIL: all files together: $(grep -m 1 -A 2 '^! ' "$T/all.log" | tr '\n' ' ')"
  fail=$((fail + 1))
else
  pass=$((pass + 1))
fi

echo "$NAME: ${#files[@]} files under $dir"
echo "$NAME: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
