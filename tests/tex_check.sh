#!/usr/bin/env bash
# tex_check.sh — `make check`'s LaTeX test: two analyses' quick outputs
# (tables of every kind: S columns, MEANSTD, text, cut rows, longtable
# checks) must compile in a plain article (tests/tex_compile.sh).  CI runs
# tex_compile.sh on the whole `implreg all --quick` output as well.
# Skipped (77) without pdflatex.
set -u
src=${top_srcdir:-$(dirname "$0")/..}
if ! command -v pdflatex >/dev/null 2>&1; then
  echo "tex_check: SKIP: pdflatex not found"
  exit 77
fi
if [ -z "${IMPLREG:-}" ] || [ ! -x "$IMPLREG" ]; then
  echo "tex_check: IMPLREG='${IMPLREG:-}' is not an executable" >&2
  exit 99
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/implreg-texcheck.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
for a in gd-vs-minnorm double-descent; do
  "$IMPLREG" "$a" --quick --quiet --out "$T/out/$a" >"$T/$a.log" 2>&1 || {
    echo "tex_check: implreg $a --quick failed:"
    cat "$T/$a.log"
    exit 1
  }
done
# The compiler test itself must fail on what it promises to catch: a table
# wider than the text, an undefined command, a label defined twice.
mkdir -p "$T/bad/wide" "$T/bad/err" "$T/bad/dup"
printf '%% implreg table; needs booktabs\n\\begin{tabular}{l}%s\\\\\n\\end{tabular}\n' \
  "$(printf 'x%.0s' $(seq 300))" >"$T/bad/wide/w.tex"
printf '%% implreg table; needs booktabs\n\\undefinedcommand\n' >"$T/bad/err/e.tex"
printf '%% implreg table; needs booktabs\n\\begin{table}\\caption{a}\\label{tab:x}\\end{table}\n' \
  | tee "$T/bad/dup/a.tex" >"$T/bad/dup/b.tex"
for b in wide err dup; do
  if bash "$src/tests/tex_compile.sh" "$T/bad/$b" >"$T/bad/$b.log" 2>&1; then
    echo "tex_check: FAIL: tex_compile.sh passed a broken file ($b):"
    cat "$T/bad/$b.log"
    exit 1
  fi
done
bash "$src/tests/tex_compile.sh" "$T/out"
