#!/usr/bin/env bash
# pkgconfig.sh — implreg.pc links a program that uses the public API (GSL
# types included) against the library, and its BLAS calls bind to OpenBLAS,
# not to GSL's reference CBLAS (docs/stack.md trap 1).
#
# The build tree's implreg.pc is used with libdir and includedir pointed at
# the build and source trees (what `make install` would put in place), so
# the test needs no install and works under distcheck.  The program calls
# gsl_blas_dgemm (GSL's cblas_dgemm call) and ir_minnorm on a gsl_matrix;
# LD_DEBUG=bindings must show cblas_dgemm bound to libopenblas and nothing
# bound to libgslcblas, and `pkg-config --libs` must not name -lgslcblas.
set -u
NAME=pkgconfig
b=${abs_top_builddir:-$(pwd)}
s=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
if ! command -v pkg-config >/dev/null 2>&1; then
  echo "$NAME: SKIP: pkg-config not found"
  exit 77
fi
if [ ! -f "$b/implreg.pc" ] || [ ! -e "$b/.libs/libimplreg.so" ]; then
  echo "$NAME: no implreg.pc or .libs/libimplreg.so under $b" >&2
  exit 99
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/implreg-$NAME.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() {
  fail=$((fail + 1))
  echo "FAIL: $*"
}

pc() {
  PKG_CONFIG_PATH=$b${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH} pkg-config \
    --define-variable=libdir="$b/.libs" \
    --define-variable=includedir="$s/include" "$@" implreg
}
libs=$(pc --libs) || { bad "pkg-config --libs implreg failed"; libs=""; }
cflags=$(pc --cflags) || { bad "pkg-config --cflags implreg failed"; cflags=""; }
echo "$NAME: --libs: $libs"
case " $libs " in
*" -lgslcblas "*) bad "pkg-config --libs names -lgslcblas: $libs" ;;
*) ok ;;
esac
case " $libs " in
*" -lgsl "*) ok ;;
*) bad "pkg-config --libs does not name -lgsl (GSL types are public): $libs" ;;
esac

cat >"$T/prog.c" <<'C'
#include <gsl/gsl_blas.h>
#include <gsl/gsl_matrix.h>
#include <implreg/minnorm.h>
#include <math.h>
#include <stdio.h>

/* The min-norm solution of a 2x3 system through the public API, and a
 * product through GSL's BLAS (cblas_dgemm). */
int main(void) {
  gsl_matrix *X = gsl_matrix_alloc(2, 3), *Y = gsl_matrix_alloc(2, 1);
  gsl_matrix *W = gsl_matrix_alloc(3, 1), *R = gsl_matrix_alloc(2, 1);
  double x[] = {1, 0, 1, 0, 2, 0};
  for (int i = 0; i < 6; i++)
    X->data[i] = x[i];
  gsl_matrix_set(Y, 0, 0, 2);
  gsl_matrix_set(Y, 1, 0, 4);
  ir_minnorm *w = ir_minnorm_alloc(2, 3, 1);
  if (w == NULL || ir_minnorm_factor(w, X) || ir_minnorm_set_rhs(w, Y) ||
      ir_minnorm_pinv(w, -1, W))
    return 1;
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, X, W, 0.0, R);
  /* X+Y = (1, 2, 1): the interpolator with the smallest norm. */
  int good = fabs(gsl_matrix_get(W, 0, 0) - 1) < 1e-12 &&
             fabs(gsl_matrix_get(W, 1, 0) - 2) < 1e-12 &&
             fabs(gsl_matrix_get(W, 2, 0) - 1) < 1e-12 &&
             fabs(gsl_matrix_get(R, 1, 0) - 4) < 1e-12;
  printf("%s\n", good ? "ok" : "wrong");
  ir_minnorm_free(w);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
  gsl_matrix_free(W);
  gsl_matrix_free(R);
  return good ? 0 : 1;
}
C
# shellcheck disable=SC2086 # the flags are words
if ${CC:-cc} -o "$T/prog" "$T/prog.c" $cflags $libs 2>"$T/cc.log"; then
  ok
else
  bad "compiling and linking with implreg.pc's flags failed:"
  cat "$T/cc.log"
fi
if [ -x "$T/prog" ]; then
  # Sanitizer build (IR_SAN_PRELOAD, Makefile.am): the library needs the
  # sanitizer runtimes first in an uninstrumented program.
  out=$(env ${IR_SAN_PRELOAD:+LD_PRELOAD="$IR_SAN_PRELOAD"} OPENBLAS_NUM_THREADS=1 \
    LD_LIBRARY_PATH="$b/.libs" LD_DEBUG=bindings LD_DEBUG_OUTPUT="$T/bind" "$T/prog")
  [ "$out" = ok ] && ok || bad "the program printed '$out', not ok"
  bind=$(cat "$T"/bind.* 2>/dev/null)
  if printf '%s\n' "$bind" | grep -q "symbol \`cblas_dgemm'"; then
    if printf '%s\n' "$bind" | grep "symbol \`cblas_dgemm'" | grep -q openblas; then
      ok
    else
      bad "cblas_dgemm is not bound to libopenblas: $(printf '%s\n' "$bind" | grep -m 1 "cblas_dgemm")"
    fi
  else
    bad "no binding of cblas_dgemm recorded (LD_DEBUG=bindings)"
  fi
  if printf '%s\n' "$bind" | grep -q "to .*libgslcblas"; then
    bad "a symbol is bound to libgslcblas: $(printf '%s\n' "$bind" | grep -m 1 'to .*libgslcblas')"
  else
    ok
  fi
  if printf '%s\n' "$bind" | grep -q "libimplreg"; then ok; else
    bad "the program did not load the build tree's libimplreg"
  fi
fi
echo "$NAME: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
