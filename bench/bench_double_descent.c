/* bench_double_descent.c — the model-wise double-descent sweep as implreg
 * runs it (analyses/an_double_descent.c, dd_sweep_model), on the data and
 * random Fourier feature parameters written by bench_double_descent.py, for
 * the comparison with NumPy made by bench/double-descent.
 *
 * Usage:
 *   bench_double_descent --info
 *   bench_double_descent --data DIR [--tag T] [--rcond R] [--accuracy A]
 *
 * Inputs (DIR/NAME.npy): X (n×d), Xt (ntest×d), Y (n×K), Yt (ntest×K), W
 * (Nmax×d), b (Nmax) and grid (the model sizes N, increasing, <= Nmax).
 *
 * The features are computed once for Nmax: Φ = cos(X Wᵀ + 1bᵀ) (n×Nmax) and
 * Φt likewise, by one dgemm and a cos loop each.  Size N uses the first N
 * columns.  The normalization √(2/N) of random Fourier features is left out
 * on purpose: the min-norm solution of the scaled problem is W/c for
 * features cΦ, so the predictions (cΦt)(W/c) are the same, and so are the
 * rank cutoff (relative to σ_max) and the conditioning test of the Cholesky
 * route (a condition number).  The test MSE therefore does not depend on the
 * scale; bench_double_descent.py compares it with NumPy's, computed with
 * √(2/N), which checks this numerically.
 *
 * Then, as dd_sweep_model does: ir_nested_alloc, and per grid point
 * ir_nested_grow + ir_nested_minnorm (rcond, accuracy: the analysis'
 * defaults −1 = eps·max(n, N) and 1e-8), test MSE = ‖P − Yt‖²_F / ntest.
 * (dd_sweep_model also calls ir_nested_set_scale per point, to report ‖W‖
 * and ridge at the per-N normalization; that is O(1) and does not change
 * the predictions, so it is left out here.)
 * (dd_sweep_model also runs a ridge path per point, ir_nested_ridge; NumPy's
 * side has no counterpart, so it is not timed here.)
 *
 * Output (one run; bench/double-descent alternates runs of the two sides
 * and keeps the best of each, so T, default 1, numbers the run): lines
 * "name.T seconds" — implreg.dgemm2000.T (a 2000×2000 dgemm, best of 3),
 * implreg.features.T, implreg.features_cos.T (the part of the features spent
 * in cos) and implreg.sweep.T —, lines starting with '#' (CPU seconds of all
 * threads as "cpu="), and DIR/dd.implreg.T.npy with one row per grid point:
 * N, test MSE, train MSE, method (1 Cholesky, 2 SVD, 4 COD, 5 CSNE), cond(Φ_N) (exact from
 * the SVD, or √ of the Cholesky route's estimate of cond(Gram)), rank,
 * rcond, grow seconds, minnorm seconds.
 *
 * OpenBLAS's own <cblas.h> clashes with GSL's headers (docs/stack.md trap 2),
 * so the OpenBLAS extensions used here are declared directly. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_matrix.h>

#include "implreg/data.h"
#include "implreg/linalg.h"
#include "implreg/nested.h"
#include "implreg/status.h"

char *openblas_get_config(void);
char *openblas_get_corename(void);
int openblas_get_num_threads(void);

enum { COLS = 9 };
/* Size of the square dgemm that measures the machine's rate. */
static const size_t DGEMM_N = 2000;

static double clock_seconds(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static double now(void) {
  return clock_seconds(CLOCK_MONOTONIC);
}
static double cpu_now(void) {
  return clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

static int fail(const char *what, int status) {
  fprintf(stderr, "bench_double_descent: %s: %s (%s)\n", what,
          ir_error_message(), ir_strerror(status));
  return 1;
}

/* DIR/NAME.npy into *m. */
static int load(const char *dir, const char *name, gsl_matrix **m) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.npy", dir, name);
  int s = ir_data_read_npy(path, m);
  return s == IR_OK ? 0 : fail(path, s);
}

/* Prints the OpenBLAS build and core, and makes one BLAS call through
 * ir_nested so that the bindings can be checked with LD_DEBUG=bindings. */
static int run_info(void) {
  printf("# openblas_config %s\n", openblas_get_config());
  printf("# openblas_corename %s\n", openblas_get_corename());
  printf("# openblas_threads %d\n", openblas_get_num_threads());
  gsl_matrix *Phi = gsl_matrix_alloc(3, 2), *Y = gsl_matrix_alloc(3, 1);
  for (size_t i = 0; i < 3; i++) {
    gsl_matrix_set(Phi, i, 0, 1.0);
    gsl_matrix_set(Phi, i, 1, (double)i);
    gsl_matrix_set(Y, i, 0, 1.0 + 2.0 * (double)i);
  }
  ir_nested *w = ir_nested_alloc(Phi, Y, NULL);
  gsl_matrix *W = gsl_matrix_alloc(2, 1);
  ir_nested_fit fit;
  int s = w ? ir_nested_grow(w, 2) : IR_ENOMEM;
  if (s == IR_OK)
    s = ir_nested_minnorm(w, -1, 1e-8, NULL, W, &fit);
  if (s == IR_OK)
    printf("# selftest W = [%g, %g] (expected [1, 2])\n",
           gsl_matrix_get(W, 0, 0), gsl_matrix_get(W, 1, 0));
  ir_nested_free(w);
  gsl_matrix_free(Phi);
  gsl_matrix_free(Y);
  gsl_matrix_free(W);
  return s == IR_OK ? 0 : fail("selftest", s);
}

/* Seconds of a DGEMM_N² dgemm (2·DGEMM_N³ flops), best of 3. */
static double dgemm_seconds(void) {
  const size_t m = DGEMM_N;
  gsl_matrix *A = gsl_matrix_alloc(m, m), *B = gsl_matrix_alloc(m, m),
             *C = gsl_matrix_alloc(m, m);
  if (!A || !B || !C) {
    fprintf(stderr, "bench_double_descent: out of memory (dgemm)\n");
    exit(1);
  }
  for (size_t i = 0; i < m * m; i++) {
    A->data[i] = sin((double)i);
    B->data[i] = cos((double)i);
  }
  double t = INFINITY;
  for (int r = 0; r < 3; r++) {
    double t0 = now();
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, A, B, 0.0, C);
    t = fmin(t, now() - t0);
  }
  gsl_matrix_free(A);
  gsl_matrix_free(B);
  gsl_matrix_free(C);
  return t;
}

/* F = cos(X Wᵀ + 1bᵀ): one dgemm, then the phases and cos in place (one
 * thread, like NumPy's cos).  Adds the seconds of the cos loop to *tcos. */
static void features(const gsl_matrix *X, const gsl_matrix *W,
                     const gsl_matrix *b, gsl_matrix *F, double *tcos) {
  gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, X, W, 0.0, F);
  const double t0 = now();
  for (size_t i = 0; i < F->size1; i++) {
    double *row = F->data + i * F->tda;
    for (size_t j = 0; j < F->size2; j++)
      row[j] = cos(row[j] + b->data[j * b->tda]);
  }
  *tcos += now() - t0;
}

/* The sweep of dd_sweep_model (min-norm part): one row of out per grid
 * point. */
static int sweep(const gsl_matrix *Phi, const gsl_matrix *Y,
                 const gsl_matrix *Phit, const gsl_matrix *Yt,
                 const gsl_matrix *grid, double rcond, double accuracy,
                 gsl_matrix *out) {
  ir_nested *w = ir_nested_alloc(Phi, Y, Phit);
  gsl_matrix *P = gsl_matrix_alloc(Phit->size1, Y->size2);
  int s = (w && P) ? IR_OK : IR_ENOMEM;
  for (size_t g = 0; g < grid->size1 && s == IR_OK; g++) {
    const size_t N = (size_t)gsl_matrix_get(grid, g, 0);
    ir_nested_fit fit;
    double t0 = now();
    if ((s = ir_nested_grow(w, N)) != IR_OK)
      break;
    double t1 = now();
    if ((s = ir_nested_minnorm(w, rcond, accuracy, P, NULL, &fit)) != IR_OK)
      break;
    double t2 = now();
    const double e = ir_matrix_fro_diff(P, Yt);
    const double row[COLS] = {
        (double)N, e * e / (double)P->size1, fit.train_mse, (double)fit.method,
        fit.cond,  (double)fit.rank,         fit.rcond,     t1 - t0,
        t2 - t1,
    };
    for (size_t c = 0; c < COLS; c++)
      gsl_matrix_set(out, g, c, row[c]);
  }
  ir_nested_free(w);
  if (P)
    gsl_matrix_free(P);
  return s == IR_OK ? 0 : fail("sweep", s);
}

static const char usage[] =
    "Usage: bench_double_descent --info\n"
    "       bench_double_descent --data DIR [--tag T] [--rcond R] "
    "[--accuracy A]\n";

int main(int argc, char **argv) {
  const char *dir = NULL, *tag = "1";
  double rcond = -1, accuracy = 1e-8;
  int info = 0;
  static const struct option longopts[] = {
      {"info", no_argument, NULL, 'i'},
      {"data", required_argument, NULL, 'd'},
      {"tag", required_argument, NULL, 't'},
      {"rcond", required_argument, NULL, 'c'},
      {"accuracy", required_argument, NULL, 'a'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (c) {
    case 'i': info = 1; break;
    case 'd': dir = optarg; break;
    case 't': tag = optarg; break;
    case 'c':
    case 'a': {
      char *end;
      double v = strtod(optarg, &end);
      if (*optarg == '\0' || *end != '\0' || !isfinite(v)) {
        fprintf(stderr, "bench_double_descent: bad number %s\n", optarg);
        return 2;
      }
      *(c == 'c' ? &rcond : &accuracy) = v;
      break;
    }
    case 'h': fputs(usage, stdout); return 0;
    default: fputs(usage, stderr); return 2;
    }
  }
  if (optind != argc || (!info && dir == NULL)) {
    fputs(usage, stderr);
    return 2;
  }
  ir_error_install_gsl_handler();
  if (info)
    return run_info();

  gsl_matrix *X = NULL, *Xt = NULL, *Y = NULL, *Yt = NULL, *W = NULL, *b = NULL,
             *grid = NULL, *Phi = NULL, *Phit = NULL, *out = NULL;
  int rc = load(dir, "X", &X) || load(dir, "Xt", &Xt) || load(dir, "Y", &Y) ||
           load(dir, "Yt", &Yt) || load(dir, "W", &W) || load(dir, "b", &b) ||
           load(dir, "grid", &grid);
  if (rc == 0) {
    const size_t Nmax = W->size1, ng = grid->size1;
    if (Xt->size2 != X->size2 || W->size2 != X->size2 || b->size1 != Nmax ||
        Y->size1 != X->size1 || Yt->size1 != Xt->size1 ||
        Yt->size2 != Y->size2 || gsl_matrix_get(grid, ng - 1, 0) > Nmax) {
      fprintf(stderr, "bench_double_descent: inconsistent shapes in %s\n", dir);
      rc = 1;
    }
  }
  if (rc == 0) {
    Phi = gsl_matrix_alloc(X->size1, W->size1);
    Phit = gsl_matrix_alloc(Xt->size1, W->size1);
    out = gsl_matrix_alloc(grid->size1, COLS);
    if (!Phi || !Phit || !out)
      rc = fail("features", IR_ENOMEM);
  }
  if (rc == 0) {
    printf("implreg.dgemm2000.%s %.6f\n", tag, dgemm_seconds());
    fflush(stdout);
    double t0 = now(), c0 = cpu_now(), tcos = 0;
    features(X, W, b, Phi, &tcos);
    features(Xt, W, b, Phit, &tcos);
    double t1 = now(), c1 = cpu_now();
    rc = sweep(Phi, Y, Phit, Yt, grid, rcond, accuracy, out);
    double t2 = now(), c2 = cpu_now();
    if (rc == 0) {
      printf("implreg.features.%s %.6f\n", tag, t1 - t0);
      printf("implreg.features_cos.%s %.6f\n", tag, tcos);
      printf("# implreg.features.%s cpu=%.3f n=%zu ntest=%zu d=%zu Nmax=%zu\n",
             tag, c1 - c0, X->size1, Xt->size1, X->size2, W->size1);
      printf("implreg.sweep.%s %.6f\n", tag, t2 - t1);
      printf("# implreg.sweep.%s cpu=%.3f points=%zu rcond=%g accuracy=%g\n",
             tag, c2 - c1, grid->size1, rcond, accuracy);
      char path[4096];
      snprintf(path, sizeof path, "%s/dd.implreg.%s.npy", dir, tag);
      int s = ir_data_write_npy(path, out);
      if (s != IR_OK)
        rc = fail(path, s);
    }
  }
  gsl_matrix *all[] = {X, Xt, Y, Yt, W, b, grid, Phi, Phit, out};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (all[i])
      gsl_matrix_free(all[i]);
  return rc;
}
