/* bench_minnorm.c — timings of implreg's minimum-norm and ridge solvers on
 * matrices written by bench_minnorm.py, for the comparison with NumPy made by
 * bench/minnorm.
 *
 * Usage:
 *   bench_minnorm --info
 *   bench_minnorm --data DIR --case NAME [--reps R] [--methods svd,cod,gram]
 *   bench_minnorm --data DIR --case NAME --ridge [--reps R] [--no-baselines]
 *
 * Inputs are DIR/NAME.X.npy (n×p), DIR/NAME.Y.npy (n×K) and, for --ridge,
 * DIR/lambdas.npy (L values).  Every measurement is printed on stdout as one
 * line "name seconds" (the best of R repetitions); other lines start with '#'.
 * Solutions are written next to the inputs for the agreement check:
 *   NAME.W.implreg.METHOD.npy          p×K, one-shot ir_minnorm_solve
 *   NAME.ridge.implreg.path.npy        (L·p)×K, W(λ_l) in rows l·p..l·p+p-1
 *   NAME.ridge.implreg.svdpath.npy     (L·p)×K, same layout
 *   NAME.ridge.implreg.separate.npy    (L·p)×K, same layout
 *
 * The ridge path is the library's: ir_ridge_factor (one tridiagonal
 * reduction of the smaller Gram matrix) + ir_ridge_set_rhs and one call of
 * ir_ridge_solve_path_resid (solutions and residuals), best of R.  For information, and timed once: the same path
 * from one thin SVD (ir_minnorm_factor + L calls of ir_minnorm_ridge), and
 * the "separate" baseline, which solves (XᵀX + λI)W = XᵀY (n >= p) or
 * W = Xᵀ(XXᵀ + λI)⁻¹Y (n < p) from scratch for each λ, forming the Gram
 * matrix with dsyrk and factoring it with Cholesky (dposv), as a C user
 * without implreg would.
 *
 * OpenBLAS's own <cblas.h> clashes with GSL's headers (docs/stack.md trap 2),
 * so the few OpenBLAS extensions used here are declared directly. */
#include <getopt.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_matrix.h>

#include "implreg/data.h"
#include "implreg/linalg.h"
#include "implreg/minnorm.h"
#include "implreg/status.h"

char *openblas_get_config(void);
char *openblas_get_corename(void);
int openblas_get_num_threads(void);

/* Relative accuracy asked of --methods gram (as `implreg minnorm`'s default).
 */
static const double GRAM_ACCURACY = 1e-8;
/* Upper bound on the number of repetitions (a typo guard). */
static const unsigned long MAX_REPS = 100;

typedef struct {
  const char *data, *casename, *methods;
  unsigned long reps;
  int info, ridge, baselines;
} bench_opts;

static double clock_seconds(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Wall-clock time: what is compared. */
static double now(void) {
  return clock_seconds(CLOCK_MONOTONIC);
}

/* CPU time of all threads of this process: printed for information, since
 * on a shared machine it shows how much of the wall time was spent waiting
 * for a core. */
static double cpu_now(void) {
  return clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

static int fail(const char *what, int status) {
  fprintf(stderr, "bench_minnorm: %s: %s (%s)\n", what, ir_error_message(),
          ir_strerror(status));
  return 1;
}

static char *path_of(const bench_opts *o, const char *suffix) {
  size_t len = strlen(o->data) + strlen(o->casename) + strlen(suffix) + 3;
  char *s = malloc(len);
  if (s != NULL)
    snprintf(s, len, "%s/%s.%s", o->data, o->casename, suffix);
  return s;
}

static int read_input(const bench_opts *o, const char *suffix, gsl_matrix **m) {
  char *path = path_of(o, suffix);
  if (path == NULL)
    return fail("path", IR_ENOMEM);
  int s = ir_data_read_npy(path, m);
  if (s != IR_OK)
    fail(path, s);
  free(path);
  return s == IR_OK ? 0 : 1;
}

static int write_output(const bench_opts *o, const char *suffix,
                        const gsl_matrix *m) {
  char *path = path_of(o, suffix);
  if (path == NULL)
    return fail("path", IR_ENOMEM);
  int s = ir_data_write_npy(path, m);
  if (s != IR_OK)
    fail(path, s);
  free(path);
  return s == IR_OK ? 0 : 1;
}

/* Prints the OpenBLAS build and core this process uses, then solves a 3×2
 * problem so that the BLAS and LAPACK symbols get bound (the driver checks
 * the bindings with LD_DEBUG=bindings). */
static int run_info(void) {
  printf("# openblas_config %s\n", openblas_get_config());
  printf("# openblas_corename %s\n", openblas_get_corename());
  printf("# openblas_threads %d\n", openblas_get_num_threads());
  gsl_matrix *X = gsl_matrix_alloc(3, 2), *Y = gsl_matrix_alloc(3, 1);
  gsl_matrix *W = gsl_matrix_alloc(2, 1);
  for (size_t i = 0; i < 3; i++) {
    gsl_matrix_set(X, i, 0, 1.0);
    gsl_matrix_set(X, i, 1, (double)i);
    gsl_matrix_set(Y, i, 0, 1.0 + 2.0 * (double)i);
  }
  int s = ir_minnorm_solve(X, Y, IR_MINNORM_SVD, -1, 0, W, NULL);
  if (s == IR_OK)
    printf("# selftest W = [%g, %g] (expected [1, 2])\n",
           gsl_matrix_get(W, 0, 0), gsl_matrix_get(W, 1, 0));
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
  gsl_matrix_free(W);
  return s == IR_OK ? 0 : fail("selftest", s);
}

/* One-shot solves W = X⁺Y by each method in o->methods, best of o->reps. */
static int run_solve(const bench_opts *o, const gsl_matrix *X,
                     const gsl_matrix *Y) {
  const size_t n = X->size1, p = X->size2, K = Y->size2;
  gsl_matrix *W = gsl_matrix_alloc(p, K);
  char *list = strdup(o->methods);
  int rc = 0;
  if (W == NULL || list == NULL) {
    rc = fail("solve", IR_ENOMEM);
    goto done;
  }
  for (char *save = NULL, *name = strtok_r(list, ",", &save); name != NULL;
       name = strtok_r(NULL, ",", &save)) {
    int method;
    int s = ir_minnorm_parse_method(name, &method);
    if (s != IR_OK) {
      rc = fail("--methods", s);
      goto done;
    }
    double best = INFINITY, best_cpu = NAN;
    ir_minnorm_diag d;
    for (unsigned long r = 0; r < o->reps; r++) {
      double t0 = now(), c0 = cpu_now();
      s = ir_minnorm_solve(X, Y, method, -1, GRAM_ACCURACY, W, &d);
      double t = now() - t0, c = cpu_now() - c0;
      if (s != IR_OK)
        break;
      if (t < best) {
        best = t;
        best_cpu = c;
      }
    }
    if (s != IR_OK) {
      /* gram may be refused on an ill-conditioned matrix: report and go on. */
      printf("# implreg.%s.%s failed: %s\n", name, o->casename,
             ir_error_message());
      continue;
    }
    printf("implreg.%s.%s %.6f\n", name, o->casename, best);
    printf("# implreg.%s.%s cpu=%.3f n=%zu p=%zu K=%zu rank=%zu "
           "rel_residual=%.3e\n",
           name, o->casename, best_cpu, n, p, K, d.rank, d.rel_residual);
    fflush(stdout);
    char suffix[64];
    snprintf(suffix, sizeof suffix, "W.implreg.%s.npy", name);
    if (write_output(o, suffix, W) != 0) {
      rc = 1;
      goto done;
    }
  }
done:
  if (W)
    gsl_matrix_free(W);
  free(list);
  return rc;
}

/* The ridge path as `implreg minnorm --ridge` computes it: one reduction of
 * the smaller Gram matrix to tridiagonal form (ir_ridge_factor: dsyrk,
 * dsytrd), the right-hand side projected once, then every λ by a tridiagonal
 * solve and one wide application of the Householder factor (and of Xᵀ in the
 * dual form), with the residuals ‖XW − Y‖ of all λ from the reduced form
 * (ir_ridge_solve_path_resid).  The solutions go into consecutive p-row
 * blocks of Wall. */
static int ridge_path(const gsl_matrix *X, const gsl_matrix *Y,
                      const gsl_vector *lam, gsl_matrix *Wall) {
  const size_t n = X->size1, p = X->size2, K = Y->size2, L = lam->size;
  ir_ridge *r = ir_ridge_alloc(n, p, K);
  gsl_matrix *Wp = gsl_matrix_alloc(p, L * K);
  double *res = malloc(L * sizeof(double));
  if (r == NULL || Wp == NULL || res == NULL) {
    ir_ridge_free(r);
    if (Wp)
      gsl_matrix_free(Wp);
    free(res);
    return fail("ir_ridge_alloc", IR_ENOMEM);
  }
  int s = ir_ridge_factor(r, X);
  if (s == IR_OK)
    s = ir_ridge_set_rhs(r, Y);
  double *lv = malloc(L * sizeof(double));
  for (size_t l = 0; lv && l < L; l++)
    lv[l] = gsl_vector_get(lam, l); /* lam may be strided */
  if (s == IR_OK)
    s = lv ? ir_ridge_solve_path_resid(r, lv, L, Wp, res) : IR_ENOMEM;
  free(lv);
  if (s == IR_OK) {
    for (size_t l = 0; l < L; l++) {
      gsl_matrix_view src = gsl_matrix_submatrix(Wp, 0, l * K, p, K);
      gsl_matrix_view dst = gsl_matrix_submatrix(Wall, l * p, 0, p, K);
      gsl_matrix_memcpy(&dst.matrix, &src.matrix);
    }
  }
  ir_ridge_free(r);
  gsl_matrix_free(Wp);
  free(res);
  return s == IR_OK ? 0 : fail("ridge path (ir_ridge)", s);
}

/* The same path from one thin SVD (ir_minnorm_factor, ir_minnorm_ridge):
 * exact down to λ = 0, but the SVD with singular vectors costs more. */
static int ridge_path_svd(const gsl_matrix *X, const gsl_matrix *Y,
                          const gsl_vector *lam, gsl_matrix *Wall) {
  const size_t p = X->size2, K = Y->size2;
  ir_minnorm *w = ir_minnorm_alloc(X->size1, p, K);
  if (w == NULL)
    return fail("ir_minnorm_alloc", IR_ENOMEM);
  int s = ir_minnorm_factor(w, X);
  if (s == IR_OK)
    s = ir_minnorm_set_rhs(w, Y);
  for (size_t l = 0; s == IR_OK && l < lam->size; l++) {
    gsl_matrix_view Wl = gsl_matrix_submatrix(Wall, l * p, 0, p, K);
    s = ir_minnorm_ridge(w, gsl_vector_get(lam, l), &Wl.matrix);
  }
  ir_minnorm_free(w);
  return s == IR_OK ? 0 : fail("ridge path (ir_minnorm)", s);
}

/* Solves the SPD system G Z = B in place (B ← Z) with dposv; the row-major
 * symmetric G reads the same column-major. */
static int spd_solve(gsl_matrix *G, gsl_matrix *B) {
  /* A row-major m×K block B is the column-major K×m matrix Bᵀ; dposv wants
   * B column-major m×K, so solve with the transposed copy. */
  const size_t m = G->size1, K = B->size2;
  gsl_matrix *Bt = gsl_matrix_alloc(K, m);
  if (Bt == NULL)
    return IR_ENOMEM;
  gsl_matrix_transpose_memcpy(Bt, B);
  lapack_int info =
      LAPACKE_dposv_work(LAPACK_COL_MAJOR, 'L', (lapack_int)m, (lapack_int)K,
                         G->data, (lapack_int)G->tda, Bt->data, (lapack_int)m);
  if (info == 0)
    gsl_matrix_transpose_memcpy(B, Bt);
  gsl_matrix_free(Bt);
  return info == 0 ? IR_OK
                   : ir_error(IR_ESING, "dposv failed (info %d)", (int)info);
}

/* L separate ridge solves, each forming its Gram matrix from scratch. */
static int ridge_separate(const gsl_matrix *X, const gsl_matrix *Y,
                          const gsl_vector *lam, gsl_matrix *Wall) {
  const size_t n = X->size1, p = X->size2, K = Y->size2;
  const int primal = n >= p;
  const size_t m = primal ? p : n;
  int s = IR_OK;
  for (size_t l = 0; s == IR_OK && l < lam->size; l++) {
    gsl_matrix_view Wl = gsl_matrix_submatrix(Wall, l * p, 0, p, K);
    gsl_matrix *G = gsl_matrix_alloc(m, m);
    gsl_matrix *B = gsl_matrix_alloc(m, K);
    if (G == NULL || B == NULL) {
      s = ir_error(IR_ENOMEM, "out of memory (separate ridge solve)");
    } else {
      s = ir_linalg_gram(X, !primal, G);
      for (size_t i = 0; s == IR_OK && i < m; i++)
        G->data[i * G->tda + i] += gsl_vector_get(lam, l);
      if (s == IR_OK) {
        if (primal)
          gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, X, Y, 0.0, B);
        else
          gsl_matrix_memcpy(B, Y);
        s = spd_solve(G, B);
      }
      if (s == IR_OK) {
        if (primal)
          gsl_matrix_memcpy(&Wl.matrix, B);
        else
          gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, X, B, 0.0, &Wl.matrix);
      }
    }
    if (G)
      gsl_matrix_free(G);
    if (B)
      gsl_matrix_free(B);
  }
  return s == IR_OK ? 0 : fail("separate ridge solves", s);
}

static int run_ridge(const bench_opts *o, const gsl_matrix *X,
                     const gsl_matrix *Y) {
  gsl_matrix *L = NULL;
  char *lpath = malloc(strlen(o->data) + sizeof "/lambdas.npy");
  if (lpath == NULL)
    return fail("path", IR_ENOMEM);
  sprintf(lpath, "%s/lambdas.npy", o->data);
  int s = ir_data_read_npy(lpath, &L);
  free(lpath);
  if (s != IR_OK)
    return fail("lambdas.npy", s);
  gsl_vector_view lam = gsl_matrix_column(L, 0);
  const size_t nl = L->size1, p = X->size2, K = Y->size2;
  gsl_matrix *Wall = gsl_matrix_alloc(nl * p, K);
  int rc = 0;
  if (Wall == NULL) {
    rc = fail("ridge", IR_ENOMEM);
    goto done;
  }
  double best = INFINITY, best_cpu = NAN;
  for (unsigned long r = 0; r < o->reps && rc == 0; r++) {
    double t0 = now(), c0 = cpu_now();
    rc = ridge_path(X, Y, &lam.vector, Wall);
    double t = now() - t0, c = cpu_now() - c0;
    if (t < best) {
      best = t;
      best_cpu = c;
    }
  }
  if (rc != 0)
    goto done;
  printf("implreg.ridge_path.%s %.6f\n", o->casename, best);
  printf("# implreg.ridge_path.%s cpu=%.3f lambdas=%zu\n", o->casename,
         best_cpu, nl);
  fflush(stdout);
  if ((rc = write_output(o, "ridge.implreg.path.npy", Wall)) != 0)
    goto done;
  if (o->baselines) {
    /* The two baselines below are long (many factorizations each): timed
     * once. */
    double t0 = now(), c0 = cpu_now();
    rc = ridge_path_svd(X, Y, &lam.vector, Wall);
    double t = now() - t0, c = cpu_now() - c0;
    if (rc != 0)
      goto done;
    printf("implreg.ridge_svd_path.%s %.6f\n", o->casename, t);
    printf("# implreg.ridge_svd_path.%s cpu=%.3f\n", o->casename, c);
    fflush(stdout);
    if ((rc = write_output(o, "ridge.implreg.svdpath.npy", Wall)) != 0)
      goto done;
    t0 = now();
    c0 = cpu_now();
    rc = ridge_separate(X, Y, &lam.vector, Wall);
    t = now() - t0;
    c = cpu_now() - c0;
    if (rc != 0)
      goto done;
    printf("implreg.ridge_separate.%s %.6f\n", o->casename, t);
    printf("# implreg.ridge_separate.%s cpu=%.3f\n", o->casename, c);
    fflush(stdout);
    rc = write_output(o, "ridge.implreg.separate.npy", Wall);
  }
done:
  gsl_matrix_free(L);
  if (Wall)
    gsl_matrix_free(Wall);
  return rc;
}

static const char usage[] =
    "Usage: bench_minnorm --info\n"
    "       bench_minnorm --data DIR --case NAME [--reps R] "
    "[--methods svd,cod,gram]\n"
    "       bench_minnorm --data DIR --case NAME --ridge [--reps R] "
    "[--no-baselines]\n";

int main(int argc, char **argv) {
  bench_opts o = {NULL, NULL, "svd,cod,gram", 3, 0, 0, 1};
  static const struct option longopts[] = {
      {"info", no_argument, NULL, 'i'},
      {"data", required_argument, NULL, 'd'},
      {"case", required_argument, NULL, 'c'},
      {"reps", required_argument, NULL, 'r'},
      {"methods", required_argument, NULL, 'm'},
      {"ridge", no_argument, NULL, 'R'},
      {"no-baselines", no_argument, NULL, 'S'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (c) {
    case 'i': o.info = 1; break;
    case 'd': o.data = optarg; break;
    case 'c': o.casename = optarg; break;
    case 'm': o.methods = optarg; break;
    case 'R': o.ridge = 1; break;
    case 'S': o.baselines = 0; break;
    case 'r': {
      char *end;
      o.reps = strtoul(optarg, &end, 10);
      if (*optarg == '\0' || *end != '\0' || optarg[0] == '-' || o.reps == 0 ||
          o.reps > MAX_REPS) {
        fprintf(stderr, "bench_minnorm: --reps %s: expected 1..%lu\n", optarg,
                MAX_REPS);
        return 2;
      }
      break;
    }
    case 'h': fputs(usage, stdout); return 0;
    default: fputs(usage, stderr); return 2;
    }
  }
  if (optind != argc || (!o.info && (o.data == NULL || o.casename == NULL))) {
    fputs(usage, stderr);
    return 2;
  }
  ir_error_install_gsl_handler();
  if (o.info)
    return run_info();
  gsl_matrix *X = NULL, *Y = NULL;
  int rc = read_input(&o, "X.npy", &X);
  if (rc == 0)
    rc = read_input(&o, "Y.npy", &Y);
  if (rc == 0 && X->size1 != Y->size1) {
    fprintf(stderr, "bench_minnorm: X has %zu rows, Y has %zu\n", X->size1,
            Y->size1);
    rc = 1;
  }
  if (rc == 0)
    rc = o.ridge ? run_ridge(&o, X, Y) : run_solve(&o, X, Y);
  if (X)
    gsl_matrix_free(X);
  if (Y)
    gsl_matrix_free(Y);
  return rc;
}
