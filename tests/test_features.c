/* test_features.c — random feature maps against the kernels they
 * approximate, nesting of columns, and errors. */
#include "testutil.h"

#include <gsl/gsl_blas.h>

#include "implreg/features.h"
#include "implreg/rng.h"

#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_legendre.h>
#include <stdint.h>
#include <string.h>

/* π, spelled out: M_PI is not part of strict C17. */
#define IR_PI 3.14159265358979323846264338327950288

/* Monte Carlo error of a kernel estimate from N features: each entry of
 * Φ Φᵀ is a mean of N i.i.d. terms, so its error is O(1/√N); we bound the
 * largest error over an m×m block by 6/√N (a 6-sigma margin per entry with
 * per-term variance <= 1 after normalization, union over m² <= 100 entries). */
static double max_kernel_error(int kind, size_t N, double sigma) {
  const size_t m = 8, d = 5;
  gsl_matrix *X = ir_test_gaussian(m, d, 11);
  gsl_matrix_scale(X, 0.5);
  gsl_rng *r = ir_rng_alloc(3, ir_rng_stream(IR_STREAM_FEATURES, N, 0));
  ir_features *f = ir_features_alloc(kind, d, N, sigma, r);
  ck_assert_ptr_nonnull(f);
  gsl_matrix *Phi = gsl_matrix_alloc(m, N);
  IR_ASSERT_OK(ir_features_apply(f, X, N, Phi));
  double err = 0;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < m; j++) {
      double est = 0;
      for (size_t k = 0; k < N; k++)
        est += gsl_matrix_get(Phi, i, k) * gsl_matrix_get(Phi, j, k);
      gsl_vector_view xi = gsl_matrix_row(X, i), xj = gsl_matrix_row(X, j);
      double nx = 0, ny = 0, dot = 0, d2 = 0;
      for (size_t l = 0; l < d; l++) {
        double a = gsl_vector_get(&xi.vector, l),
               b = gsl_vector_get(&xj.vector, l);
        nx += a * a;
        ny += b * b;
        dot += a * b;
        d2 += (a - b) * (a - b);
      }
      double exact;
      if (kind == IR_FEAT_RFF) {
        exact = exp(-d2 / (2 * sigma * sigma));
      } else {
        /* Arc-cosine kernel of degree 1 (Cho & Saul 2009) for w ~ N(0, σ²I/d).
         */
        double c = dot / sqrt(nx * ny);
        c = c > 1 ? 1 : (c < -1 ? -1 : c);
        double th = acos(c);
        exact = sigma * sigma * sqrt(nx * ny) / (2 * IR_PI * (double)d) *
                (sin(th) + (IR_PI - th) * cos(th));
      }
      err = fmax(err, fabs(est - exact));
    }
  gsl_matrix_free(Phi);
  ir_features_free(f);
  ir_rng_free(r);
  gsl_matrix_free(X);
  return err;
}

START_TEST(test_rff_kernel) {
  double e1 = max_kernel_error(IR_FEAT_RFF, 2000, 1.5);
  double e2 = max_kernel_error(IR_FEAT_RFF, 200000, 1.5);
  ck_assert_msg(e1 <= 6 / sqrt(2000.0), "N = 2000: error %g", e1);
  ck_assert_msg(e2 <= 6 / sqrt(200000.0), "N = 200000: error %g", e2);
  /* 100× more features: the error must shrink (≈ 10×; ask for 3×). */
  ck_assert_msg(e2 < e1 / 3, "error %g -> %g does not shrink like 1/sqrt(N)",
                e1, e2);
}
END_TEST

START_TEST(test_relu_kernel) {
  double e1 = max_kernel_error(IR_FEAT_RELU, 2000, 1.0);
  double e2 = max_kernel_error(IR_FEAT_RELU, 200000, 1.0);
  ck_assert_msg(e1 <= 6 / sqrt(2000.0), "N = 2000: error %g", e1);
  ck_assert_msg(e2 <= 6 / sqrt(200000.0), "N = 200000: error %g", e2);
  ck_assert(e2 < e1 / 3);
}
END_TEST

START_TEST(test_nested_columns) {
  /* Model size N uses the first N features of the same draw: columns agree
   * up to the normalization √(c/N). */
  const size_t m = 6, d = 4, Nmax = 50, N = 20;
  gsl_matrix *X = ir_test_gaussian(m, d, 5);
  for (int kind = IR_FEAT_RFF; kind <= IR_FEAT_RELU; kind++) {
    gsl_rng *r = ir_rng_alloc(1, 1);
    ir_features *f = ir_features_alloc(kind, d, Nmax, 1.0, r);
    gsl_matrix *A = gsl_matrix_alloc(m, Nmax), *B = gsl_matrix_alloc(m, N);
    IR_ASSERT_OK(ir_features_apply(f, X, Nmax, A));
    IR_ASSERT_OK(ir_features_apply(f, X, N, B));
    const double ratio = sqrt((double)Nmax / (double)N);
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < N; j++)
        IR_ASSERT_CLOSE(gsl_matrix_get(B, i, j),
                        ratio * gsl_matrix_get(A, i, j), 1e-14, 1e-300);
    gsl_matrix_free(A);
    gsl_matrix_free(B);
    ir_features_free(f);
    ir_rng_free(r);
  }
  gsl_matrix_free(X);
}
END_TEST

START_TEST(test_reproducible) {
  gsl_matrix *X = ir_test_gaussian(3, 4, 2);
  gsl_matrix *A = gsl_matrix_alloc(3, 10), *B = gsl_matrix_alloc(3, 10);
  for (int k = 0; k < 2; k++) {
    gsl_rng *r = ir_rng_alloc(7, 9);
    ir_features *f = ir_features_alloc(IR_FEAT_RFF, 4, 10, 2.0, r);
    IR_ASSERT_OK(ir_features_apply(f, X, 10, k ? B : A));
    ir_features_free(f);
    ir_rng_free(r);
  }
  ck_assert(gsl_matrix_equal(A, B));
  gsl_matrix_free(A);
  gsl_matrix_free(B);
  gsl_matrix_free(X);
}
END_TEST

START_TEST(test_cos_kernel) {
  /* ir_features_cos against libm's cos: within 2 ulp of 1 (4.5e-16
   * absolute) for |x| <= 1e5 — random arguments at several scales, and the
   * neighbours of multiples of π/2, where the reduction matters most (x −
   * k·fl(π/2) in one part leaves errors ~k·6e-17, 1e-12 at |x| ~ 5e4); huge and
   * non-finite arguments go to libm itself (the same bits); y may be x. */
  const size_t n = 200000;
  double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
  ck_assert_ptr_nonnull(x);
  ck_assert_ptr_nonnull(y);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 77);
  const double scale[] = {1.0, 10.0, 300.0, 1e5};
  for (size_t i = 0; i < n; i++) {
    if (i % 5 == 4) { /* next to k·π/2 */
      const double k = floor(gsl_rng_uniform(r) * 6e4) - 3e4;
      x[i] = nextafter(k * M_PI_2, i % 2 ? INFINITY : -INFINITY);
    } else {
      x[i] = (2 * gsl_rng_uniform(r) - 1) * scale[i % 4];
    }
  }
  ir_features_cos(x, y, n);
  double worst = 0;
  for (size_t i = 0; i < n; i++)
    worst = fmax(worst, fabs(y[i] - cos(x[i])));
  ck_assert_msg(worst <= 2 * DBL_EPSILON, "worst error %.3g", worst);
  /* In place, and the libm path for a huge argument in the array. */
  memcpy(y, x, n * sizeof *y);
  y[7] = 3e6;
  x[7] = 3e6;
  ir_features_cos(y, y, n);
  for (size_t i = 0; i < n; i++)
    ck_assert(y[i] == cos(x[i]));
  double z[3] = {NAN, INFINITY, 0.5}, o[3];
  ir_features_cos(z, o, 3);
  ck_assert(isnan(o[0]) && isnan(o[1]) && o[2] == cos(0.5));
  gsl_rng_free(r);
  free(x);
  free(y);
}
END_TEST

START_TEST(test_apply_cols) {
  /* Column blocks of the map at N, side by side, against ir_features_apply
   * at N: the same dgemm over each column (the k-sum does not depend on
   * which columns are computed together) and the same elementwise
   * operations, so the same bits; the kinds without per-feature
   * parameters are refused. */
  const size_t n = 17, d = 6, N = 53;
  gsl_matrix *X = gsl_matrix_alloc(n, d);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 5);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++)
      gsl_matrix_set(X, i, j, gsl_rng_uniform(r) - 0.5);
  const int kinds[] = {IR_FEAT_RFF, IR_FEAT_RELU, IR_FEAT_RELU_CENTERED,
                       IR_FEAT_RELU_SPHERE};
  for (size_t k = 0; k < 4; k++) {
    ir_features *f = ir_features_alloc_streams(kinds[k], d, 80, 1.3, 3, 8);
    ck_assert_ptr_nonnull(f);
    gsl_matrix *A = gsl_matrix_alloc(n, N), *B = gsl_matrix_alloc(n, N);
    IR_ASSERT_OK(ir_features_apply(f, X, N, A));
    const size_t cut[] = {0, 1, 9, 30, 31, N};
    for (size_t c = 0; c + 1 < 6; c++) {
      gsl_matrix_view Bb =
          gsl_matrix_submatrix(B, 0, cut[c], n, cut[c + 1] - cut[c]);
      IR_ASSERT_OK(
          ir_features_apply_cols(f, X, cut[c], cut[c + 1], N, &Bb.matrix));
    }
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < N; j++)
        ck_assert(gsl_matrix_get(A, i, j) == gsl_matrix_get(B, i, j));
    gsl_matrix_view B1 = gsl_matrix_submatrix(B, 0, 0, n, 1);
    ck_assert_int_eq(ir_features_apply_cols(f, X, 80, 81, N, &B1.matrix),
                     IR_EINVAL);
    ck_assert_int_eq(ir_features_apply_cols(f, X, 0, 2, N, &B1.matrix),
                     IR_ESHAPE);
    gsl_matrix_free(A);
    gsl_matrix_free(B);
    ir_features_free(f);
  }
  ir_features *g = ir_features_alloc_streams(IR_FEAT_RFF_PAIR, d, 80, 1.3, 3, 8);
  gsl_matrix *C = gsl_matrix_alloc(n, 4);
  ck_assert_int_eq(ir_features_apply_cols(g, X, 0, 4, 4, C), IR_EINVAL);
  gsl_matrix_free(C);
  ir_features_free(g);
  gsl_rng_free(r);
  gsl_matrix_free(X);
}
END_TEST

START_TEST(test_errors) {
  gsl_rng *r = ir_rng_alloc(1, 1);
  ck_assert_ptr_null(ir_features_alloc(IR_FEAT_RFF, 4, 10, 0.0, r));
  ck_assert_ptr_null(ir_features_alloc(IR_FEAT_RFF, 4, 10, NAN, r));
  ck_assert_ptr_null(ir_features_alloc(IR_FEAT_RFF, 0, 10, 1.0, r));
  ck_assert_ptr_null(ir_features_alloc(99, 4, 10, 1.0, r));
  ir_features *f = ir_features_alloc(IR_FEAT_RELU, 4, 10, 1.0, r);
  gsl_matrix *X = gsl_matrix_calloc(2, 3), *P = gsl_matrix_alloc(2, 5);
  ck_assert_int_eq(ir_features_apply(f, X, 5, P), IR_ESHAPE);
  gsl_matrix *X4 = gsl_matrix_calloc(2, 4);
  ck_assert_int_eq(ir_features_apply(f, X4, 11, P), IR_EINVAL);
  ck_assert_int_eq(ir_features_apply(f, X4, 4, P), IR_ESHAPE);
  int kind;
  ck_assert_int_eq(ir_features_parse("relu", &kind), IR_OK);
  ck_assert_int_eq(kind, IR_FEAT_RELU);
  ck_assert_int_eq(ir_features_parse("rbf", &kind), IR_EINVAL);
  ck_assert_str_eq(ir_features_name(IR_FEAT_RFF), "rff");
  gsl_matrix_free(X);
  gsl_matrix_free(X4);
  gsl_matrix_free(P);
  ir_features_free(f);
  ir_rng_free(r);
}
END_TEST

/* ---- the kinds added after rff and relu ------------------------------------
 */

/* The kernel that E[Φ Φᵀ] equals for a random kind, at rows x and y of
 * length d (relu-centered: the arc-cosine kernel minus the product of the
 * means σ‖x‖/√(2πd), see features.h). */
static double exact_kernel(int kind, const double *x, const double *y, size_t d,
                           double sigma) {
  double nx = 0, ny = 0, dot = 0, d2 = 0;
  for (size_t l = 0; l < d; l++) {
    nx += x[l] * x[l];
    ny += y[l] * y[l];
    dot += x[l] * y[l];
    d2 += (x[l] - y[l]) * (x[l] - y[l]);
  }
  if (kind == IR_FEAT_RFF || kind == IR_FEAT_RFF_PAIR || kind == IR_FEAT_FFT)
    return exp(-d2 / (2 * sigma * sigma));
  double c = dot / sqrt(nx * ny);
  c = c > 1 ? 1 : (c < -1 ? -1 : c);
  const double th = acos(c);
  const double j1 = sin(th) + (IR_PI - th) * cos(th);
  const double pre = sigma * sigma * sqrt(nx * ny) / (2 * IR_PI * (double)d);
  return kind == IR_FEAT_RELU_CENTERED ? pre * (j1 - 1) : pre * j1;
}

/* m inputs of dimension d: Gaussian rows scaled by xscale/√d (so that
 * ‖x − y‖² ≈ 2 xscale²), and, as the last row, the constant vector with the
 * same expected norm — the input on which a circulant projection without
 * random signs would give one value to a whole block. */
static gsl_matrix *kernel_inputs(size_t m, size_t d, double xscale,
                                 unsigned long seed) {
  gsl_matrix *X = ir_test_gaussian(m, d, seed);
  gsl_matrix_scale(X, xscale / sqrt((double)d));
  for (size_t l = 0; l < d; l++)
    gsl_matrix_set(X, m - 1, l, xscale / sqrt((double)d));
  return X;
}

/* Features of kind for the rows of X, drawn from stream (seed, N, stream). */
static gsl_matrix *features_of(int kind, const gsl_matrix *X, size_t N,
                               double sigma, unsigned long seed,
                               uint64_t stream) {
  gsl_rng *r = ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_FEATURES, N, stream));
  ir_features *f = ir_features_alloc(kind, X->size2, N, sigma, r);
  ck_assert_msg(f != NULL, "%s", ir_error_message());
  gsl_matrix *Phi = gsl_matrix_alloc(X->size1, N);
  IR_ASSERT_OK(ir_features_apply(f, X, N, Phi));
  ir_features_free(f);
  ir_rng_free(r);
  return Phi;
}

/* Φ_i·Φ_j, the estimate of the kernel at rows i and j. */
static double row_dot(const gsl_matrix *Phi, size_t i, size_t j) {
  double s = 0;
  for (size_t k = 0; k < Phi->size2; k++)
    s += gsl_matrix_get(Phi, i, k) * gsl_matrix_get(Phi, j, k);
  return s;
}

/* The largest |Φ Φᵀ − K| over all m×m entries, for m = 8 inputs. */
static double max_error(int kind, size_t d, size_t N, double sigma,
                        double xscale) {
  const size_t m = 8;
  gsl_matrix *X = kernel_inputs(m, d, xscale, 11);
  gsl_matrix *Phi = features_of(kind, X, N, sigma, 3, (uint64_t)kind);
  double err = 0;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < m; j++) {
      const double *x = X->data + i * X->tda, *y = X->data + j * X->tda;
      err = fmax(err,
                 fabs(row_dot(Phi, i, j) - exact_kernel(kind, x, y, d, sigma)));
    }
  gsl_matrix_free(Phi);
  gsl_matrix_free(X);
  return err;
}

/* The root-mean-square kernel error over the 8 disjoint pairs of 16 inputs
 * (0–1, 2–3, ...) and over `seeds` independent draws. */
static double rms_error(int kind, size_t d, size_t N, double sigma,
                        size_t seeds) {
  const size_t m = 16;
  gsl_matrix *X = kernel_inputs(m, d, 1.0, 21);
  double ss = 0;
  for (size_t s = 0; s < seeds; s++) {
    gsl_matrix *Phi = features_of(kind, X, N, sigma, 1 + s, (uint64_t)kind);
    for (size_t p = 0; p < m; p += 2) {
      const double *x = X->data + p * X->tda, *y = x + X->tda;
      const double e =
          row_dot(Phi, p, p + 1) - exact_kernel(kind, x, y, d, sigma);
      ss += e * e;
    }
    gsl_matrix_free(Phi);
  }
  gsl_matrix_free(X);
  return sqrt(ss / (double)(seeds * m / 2));
}

START_TEST(test_rff_pair_kernel) {
  /* Each pair contributes (2/N)cos(wᵀ(x − y)) ∈ [−2/N, 2/N] per two
   * columns, so the per-term variance bound of the rff test holds. */
  double e1 = max_error(IR_FEAT_RFF_PAIR, 5, 2000, 1.5, 0.5 * sqrt(5.0));
  double e2 = max_error(IR_FEAT_RFF_PAIR, 5, 200000, 1.5, 0.5 * sqrt(5.0));
  ck_assert_msg(e1 <= 6 / sqrt(2000.0), "N = 2000: error %g", e1);
  ck_assert_msg(e2 <= 6 / sqrt(200000.0), "N = 200000: error %g", e2);
  ck_assert_msg(e2 < e1 / 3, "error %g -> %g does not shrink like 1/sqrt(N)",
                e1, e2);
}
END_TEST

START_TEST(test_rff_pair_structure) {
  /* Replay the documented draw (⌈Nmax/2⌉ rows of N(0, σ⁻²) entries) and
   * compare with the definition, for even and odd N; then the pair identity
   * Φ_2k² + Φ_2k+1² = 2/N. */
  const size_t m = 4, d = 3, Nmax = 9;
  const double sigma = 0.8;
  gsl_matrix *X = ir_test_gaussian(m, d, 4);
  gsl_rng *r = ir_rng_alloc(5, 6);
  ir_features *f = ir_features_alloc(IR_FEAT_RFF_PAIR, d, Nmax, sigma, r);
  ir_rng_free(r);
  r = ir_rng_alloc(5, 6);
  double W[5][3];
  for (size_t k = 0; k < 5; k++)
    for (size_t l = 0; l < d; l++)
      W[k][l] = gsl_ran_gaussian(r, 1.0 / sigma);
  for (size_t N = 1; N <= Nmax; N++) {
    gsl_matrix *Phi = gsl_matrix_alloc(m, N);
    IR_ASSERT_OK(ir_features_apply(f, X, N, Phi));
    const double c = sqrt(2.0 / (double)N);
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < N; j++) {
        double a = 0;
        for (size_t l = 0; l < d; l++)
          a += W[j / 2][l] * gsl_matrix_get(X, i, l);
        IR_ASSERT_CLOSE(gsl_matrix_get(Phi, i, j),
                        c * (j % 2 == 0 ? cos(a) : sin(a)), 1e-13, 1e-14);
        if (j % 2 == 1) {
          double p = gsl_matrix_get(Phi, i, j - 1),
                 q = gsl_matrix_get(Phi, i, j);
          IR_ASSERT_CLOSE(p * p + q * q, c * c, 1e-14, 0);
        }
      }
    gsl_matrix_free(Phi);
  }
  ir_rng_free(r);
  ir_features_free(f);
  gsl_matrix_free(X);
}
END_TEST

START_TEST(test_relu_centered_kernel) {
  /* For these inputs (‖x‖ ≈ 1.1, σ = 1, d = 5) each term is O(0.1), far
   * below the per-term variance 1 that the rff bound 6/√N allows. */
  double e1 = max_error(IR_FEAT_RELU_CENTERED, 5, 2000, 1.0, 0.5 * sqrt(5.0));
  double e2 = max_error(IR_FEAT_RELU_CENTERED, 5, 200000, 1.0, 0.5 * sqrt(5.0));
  ck_assert_msg(e1 <= 6 / sqrt(2000.0), "N = 2000: error %g", e1);
  ck_assert_msg(e2 <= 6 / sqrt(200000.0), "N = 200000: error %g", e2);
  ck_assert(e2 < e1 / 3);
}
END_TEST

START_TEST(test_relu_centered_is_relu_minus_mean) {
  /* Same stream, same W: relu-centered = relu − √(1/N) σ‖x‖/√(2πd). */
  const size_t m = 5, d = 7, N = 30;
  const double sigma = 1.7;
  gsl_matrix *X = ir_test_gaussian(m, d, 8);
  gsl_matrix *A = features_of(IR_FEAT_RELU, X, N, sigma, 2, 0);
  gsl_matrix *B = features_of(IR_FEAT_RELU_CENTERED, X, N, sigma, 2, 0);
  for (size_t i = 0; i < m; i++) {
    double nx = 0;
    for (size_t l = 0; l < d; l++)
      nx += gsl_matrix_get(X, i, l) * gsl_matrix_get(X, i, l);
    const double mu = sigma * sqrt(nx) / sqrt(2 * IR_PI * (double)d);
    for (size_t j = 0; j < N; j++)
      IR_ASSERT_CLOSE(gsl_matrix_get(B, i, j),
                      gsl_matrix_get(A, i, j) - mu / sqrt((double)N), 1e-14,
                      1e-15);
  }
  gsl_matrix_free(A);
  gsl_matrix_free(B);
  gsl_matrix_free(X);
}
END_TEST

START_TEST(test_fft_matches_explicit) {
  /* Replay the documented draw, build the projections v_j explicitly,
   * v_{t d' + i, k} = g_t[(i − k) mod d'] s_t[k] / σ, and compare with the
   * FFT path in O(N d): d = 11 is padded to d' = 12 (2²·3), Nmax = 30 is 2½
   * blocks, N = 27 cuts the third block. */
  const size_t m = 3, d = 11, dp = 12, Nmax = 30, N = 27, nb = 3;
  const double sigma = 1.3;
  gsl_matrix *X = ir_test_gaussian(m, d, 9);
  gsl_rng *r = ir_rng_alloc(4, 2);
  ir_features *f = ir_features_alloc(IR_FEAT_FFT, d, Nmax, sigma, r);
  ck_assert_ptr_nonnull(f);
  ir_rng_free(r);
  r = ir_rng_alloc(4, 2);
  double g[3][12], s[3][11], b[3][12];
  for (size_t t = 0; t < nb; t++) {
    for (size_t k = 0; k < dp; k++)
      g[t][k] = gsl_ran_gaussian(r, 1.0);
    for (size_t k = 0; k < d; k++)
      s[t][k] = gsl_rng_uniform(r) < 0.5 ? -1.0 : 1.0;
    for (size_t k = 0; k < dp; k++)
      b[t][k] = 2 * IR_PI * gsl_rng_uniform(r);
  }
  gsl_matrix *Phi = gsl_matrix_alloc(m, N);
  IR_ASSERT_OK(ir_features_apply(f, X, N, Phi));
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < N; j++) {
      const size_t t = j / dp, q = j % dp;
      double a = 0;
      for (size_t k = 0; k < d; k++)
        a +=
            g[t][(q + dp - k) % dp] * s[t][k] / sigma * gsl_matrix_get(X, i, k);
      IR_ASSERT_CLOSE(gsl_matrix_get(Phi, i, j),
                      sqrt(2.0 / (double)N) * cos(a + b[t][q]), 1e-12, 1e-13);
    }
  gsl_matrix_free(Phi);
  ir_rng_free(r);
  ir_features_free(f);
  gsl_matrix_free(X);
}
END_TEST

START_TEST(test_fft_kernel_bound) {
  /* The rff bound 6/√N at N = 2^11 and 2^15, for a prime d (d' = d = 5), a
   * padded d (11 -> 12) and a power of two (64), with the constant input
   * among the rows.  Within a block the terms are dependent, which inflates
   * the variance of a block sum by 1 + (the sum of their correlations); the
   * projections' correlations are of order 1/√d (features.h), and the RMS
   * error of fft features is measured 15–20% above rff's (test_fft_rate),
   * which the 6-sigma margin absorbs (the measured maxima here stay below
   * 0.4 of the bound); rff itself is checked alongside. */
  static const size_t dims[] = {5, 11, 64};
  for (size_t k = 0; k < 3; k++) {
    const size_t d = dims[k];
    for (size_t N = 2048; N <= 32768; N *= 16) {
      const double bound = 6 / sqrt((double)N);
      double ef = max_error(IR_FEAT_FFT, d, N, 1.5, 1.1);
      double er = max_error(IR_FEAT_RFF, d, N, 1.5, 1.1);
      ck_assert_msg(ef <= bound, "fft d = %zu N = %zu: error %g > %g", d, N, ef,
                    bound);
      ck_assert_msg(er <= bound, "rff d = %zu N = %zu: error %g > %g", d, N, er,
                    bound);
    }
  }
}
END_TEST

START_TEST(test_fft_rate) {
  /* The kernel error of fft features shrinks with N like that of rff.
   * Both estimates are unbiased and, with N a multiple of d' = 64, are means
   * of N/d' i.i.d. blocks, so E[err²] ∝ 1/N exactly and the RMS error ratio
   * between N = 2^11 and 2^15 is √16 = 4 for both.  Tolerance: each error
   * is near Gaussian (>= 32 independent blocks), so the mean of K squared
   * errors is about χ²_K/K, relative sd √(2/K).  With K = 16 seeds × 8
   * disjoint pairs = 128 (pairs of distinct random points in d = 64 are
   * nearly independent), log RMS has sd ≈ ½√(2/128) = 0.0625, a log ratio
   * sd 0.088 and the log of the ratio of two ratios sd 0.125.  Over 100
   * independent repetitions of this test (other seeds and inputs) we
   * measured 0.10 and 0.134, a little more, since the pairs share W.  We
   * accept 4 measured sd: |log(ρ_fft/ρ_rff)| <= 0.55 and |log(ρ/4)| <= 0.4
   * for each kind.  A 1/N^{1/4} rate (ρ = 2, log(2/4) = −0.69) or a plateau
   * (ρ = 1) fails both. */
  const size_t d = 64, seeds = 16;
  const double sigma = 1.0;
  double rf1 = rms_error(IR_FEAT_FFT, d, 2048, sigma, seeds);
  double rf2 = rms_error(IR_FEAT_FFT, d, 32768, sigma, seeds);
  double rr1 = rms_error(IR_FEAT_RFF, d, 2048, sigma, seeds);
  double rr2 = rms_error(IR_FEAT_RFF, d, 32768, sigma, seeds);
  const double rho_fft = rf1 / rf2, rho_rff = rr1 / rr2;
  ck_assert_msg(fabs(log(rho_fft / rho_rff)) <= 0.55,
                "fft error ratio %g (%g -> %g) vs rff %g (%g -> %g)", rho_fft,
                rf1, rf2, rho_rff, rr1, rr2);
  ck_assert_msg(fabs(log(rho_fft / 4)) <= 0.4, "fft ratio %g", rho_fft);
  ck_assert_msg(fabs(log(rho_rff / 4)) <= 0.4, "rff ratio %g", rho_rff);
}
END_TEST

/* The random kinds, for the loops below. */
static const int random_kinds[] = {IR_FEAT_RFF, IR_FEAT_RELU, IR_FEAT_RFF_PAIR,
                                   IR_FEAT_RELU_CENTERED, IR_FEAT_FFT};
#define N_RANDOM_KINDS (sizeof random_kinds / sizeof random_kinds[0])

START_TEST(test_nested_all_kinds) {
  /* Every random kind: the first N columns at size N are the first N columns
   * at size Nmax times √(Nmax/N).  N = 21 is odd (rff-pair cuts a pair) and
   * not a multiple of the fft block (d' = 5). */
  const size_t m = 6, d = 5, Nmax = 50, N = 21;
  gsl_matrix *X = ir_test_gaussian(m, d, 5);
  for (size_t k = 0; k < N_RANDOM_KINDS; k++) {
    gsl_rng *r = ir_rng_alloc(1, 1);
    ir_features *f = ir_features_alloc(random_kinds[k], d, Nmax, 1.0, r);
    gsl_matrix *A = gsl_matrix_alloc(m, Nmax), *B = gsl_matrix_alloc(m, N);
    IR_ASSERT_OK(ir_features_apply(f, X, Nmax, A));
    IR_ASSERT_OK(ir_features_apply(f, X, N, B));
    const double ratio = sqrt((double)Nmax / (double)N);
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < N; j++)
        IR_ASSERT_CLOSE(gsl_matrix_get(B, i, j),
                        ratio * gsl_matrix_get(A, i, j), 1e-14, 1e-300);
    gsl_matrix_free(A);
    gsl_matrix_free(B);
    ir_features_free(f);
    ir_rng_free(r);
  }
  /* The deterministic kinds are not rescaled: equal columns. */
  static const int fixed[] = {IR_FEAT_LEGENDRE, IR_FEAT_FOURIER};
  gsl_matrix *x = gsl_matrix_alloc(m, 1);
  for (size_t i = 0; i < m; i++)
    gsl_matrix_set(x, i, 0, -1 + 2 * (double)i / (double)(m - 1));
  for (size_t k = 0; k < 2; k++) {
    ir_features *f = ir_features_alloc(fixed[k], 1, Nmax, 0.0, NULL);
    ck_assert_ptr_nonnull(f);
    gsl_matrix *A = gsl_matrix_alloc(m, Nmax), *B = gsl_matrix_alloc(m, N);
    IR_ASSERT_OK(ir_features_apply(f, x, Nmax, A));
    IR_ASSERT_OK(ir_features_apply(f, x, N, B));
    gsl_matrix_view As = gsl_matrix_submatrix(A, 0, 0, m, N);
    ck_assert(gsl_matrix_equal(&As.matrix, B));
    gsl_matrix_free(A);
    gsl_matrix_free(B);
    ir_features_free(f);
  }
  gsl_matrix_free(x);
  gsl_matrix_free(X);
}
END_TEST

START_TEST(test_draw_prefix) {
  /* For every random kind but rff, a draw for Nmax = 20 gives the same
   * features as the first 20 of a draw for Nmax = 57 from the same stream,
   * bit for bit (fft: d' = 4 divides 20). */
  const size_t m = 3, d = 4, N = 20;
  gsl_matrix *X = ir_test_gaussian(m, d, 6);
  for (size_t k = 1; k < N_RANDOM_KINDS; k++) {
    gsl_matrix *A = gsl_matrix_alloc(m, N), *B = gsl_matrix_alloc(m, N);
    for (int pass = 0; pass < 2; pass++) {
      gsl_rng *r = ir_rng_alloc(3, 4);
      ir_features *f =
          ir_features_alloc(random_kinds[k], d, pass ? 57 : N, 0.9, r);
      IR_ASSERT_OK(ir_features_apply(f, X, N, pass ? B : A));
      ir_features_free(f);
      ir_rng_free(r);
    }
    ck_assert_msg(gsl_matrix_equal(A, B), "%s",
                  ir_features_name(random_kinds[k]));
    gsl_matrix_free(A);
    gsl_matrix_free(B);
  }
  gsl_matrix_free(X);
}
END_TEST

START_TEST(test_reproducible_all_kinds) {
  /* Same seed, same bits, for every random kind; another seed differs. */
  gsl_matrix *X = ir_test_gaussian(3, 6, 2);
  for (size_t k = 0; k < N_RANDOM_KINDS; k++) {
    gsl_matrix *P[3];
    for (int pass = 0; pass < 3; pass++) {
      gsl_rng *r = ir_rng_alloc(pass == 2 ? 8 : 7, 9);
      ir_features *f = ir_features_alloc(random_kinds[k], 6, 13, 2.0, r);
      P[pass] = gsl_matrix_alloc(3, 13);
      IR_ASSERT_OK(ir_features_apply(f, X, 13, P[pass]));
      ir_features_free(f);
      ir_rng_free(r);
    }
    ck_assert(gsl_matrix_equal(P[0], P[1]));
    ck_assert(!gsl_matrix_equal(P[0], P[2]));
    for (int pass = 0; pass < 3; pass++)
      gsl_matrix_free(P[pass]);
  }
  gsl_matrix_free(X);
}
END_TEST

START_TEST(test_identity) {
  /* Phi = the first N columns of X, unscaled, also from a strided view. */
  const size_t m = 5, d = 7;
  gsl_matrix *big = ir_test_gaussian(m, d + 3, 3);
  gsl_matrix_view Xv = gsl_matrix_submatrix(big, 0, 1, m, d);
  ir_features *f = ir_features_alloc(IR_FEAT_IDENTITY, d, d, NAN, NULL);
  ck_assert_ptr_nonnull(f);
  for (size_t N = 1; N <= d; N++) {
    gsl_matrix *Phi = gsl_matrix_alloc(m, N);
    IR_ASSERT_OK(ir_features_apply(f, &Xv.matrix, N, Phi));
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < N; j++)
        ck_assert(gsl_matrix_get(Phi, i, j) == gsl_matrix_get(big, i, j + 1));
    gsl_matrix_free(Phi);
  }
  ir_features_free(f);
  gsl_matrix_free(big);
}
END_TEST

/* Gram matrix ∫ φ_k φ_l dx/2 on [−1, 1] of the first N columns of a 1-D
 * basis by n-point Gauss–Legendre quadrature; returns max |G − I|. */
static double basis_gram_error(int kind, size_t N, size_t n) {
  gsl_integration_glfixed_table *t = gsl_integration_glfixed_table_alloc(n);
  gsl_matrix *x = gsl_matrix_alloc(n, 1), *Phi = gsl_matrix_alloc(n, N);
  double *w = malloc(n * sizeof(double));
  for (size_t i = 0; i < n; i++) {
    double xi;
    gsl_integration_glfixed_point(-1, 1, i, &xi, &w[i], t);
    gsl_matrix_set(x, i, 0, xi);
  }
  ir_features *f = ir_features_alloc(kind, 1, N, 1.0, NULL);
  ck_assert_ptr_nonnull(f);
  IR_ASSERT_OK(ir_features_apply(f, x, N, Phi));
  double err = 0;
  for (size_t k = 0; k < N; k++)
    for (size_t l = 0; l < N; l++) {
      double g = 0;
      for (size_t i = 0; i < n; i++)
        g += w[i] * gsl_matrix_get(Phi, i, k) * gsl_matrix_get(Phi, i, l);
      err = fmax(err, fabs(g / 2 - (k == l ? 1.0 : 0.0)));
    }
  ir_features_free(f);
  free(w);
  gsl_matrix_free(x);
  gsl_matrix_free(Phi);
  gsl_integration_glfixed_table_free(t);
  return err;
}

START_TEST(test_legendre) {
  /* 64 Gauss–Legendre nodes integrate products of degree <= 2·59 < 127
   * exactly, so the Gram matrix of 60 columns is I up to rounding. */
  const size_t N = 60;
  double e = basis_gram_error(IR_FEAT_LEGENDRE, N, 64);
  ck_assert_msg(e <= 1e-12, "Legendre Gram error %g", e);
  /* Values against GSL's P_l at the ends, the middle and a few points. */
  static const double xs[] = {-1, -0.93, -0.5, -1e-3, 0, 0.31, 0.77, 1};
  const size_t m = sizeof xs / sizeof xs[0];
  gsl_matrix *x = gsl_matrix_alloc(m, 1), *Phi = gsl_matrix_alloc(m, N);
  for (size_t i = 0; i < m; i++)
    gsl_matrix_set(x, i, 0, xs[i]);
  ir_features *f = ir_features_alloc(IR_FEAT_LEGENDRE, 1, N, 0.0, NULL);
  IR_ASSERT_OK(ir_features_apply(f, x, N, Phi));
  for (size_t i = 0; i < m; i++)
    for (size_t k = 0; k < N; k++)
      IR_ASSERT_CLOSE(gsl_matrix_get(Phi, i, k),
                      sqrt(2.0 * (double)k + 1) *
                          gsl_sf_legendre_Pl((int)k, xs[i]),
                      1e-12, 1e-12);
  ir_features_free(f);
  gsl_matrix_free(x);
  gsl_matrix_free(Phi);
}
END_TEST

START_TEST(test_fourier) {
  /* 41 columns (frequencies up to 20π): products oscillate at up to 40π,
   * which 128 Gauss–Legendre nodes integrate to machine precision (the
   * Chebyshev coefficients of cos(40πx) beyond degree ~140 are below
   * 1e-16, and 128 nodes are exact to degree 255). */
  double e = basis_gram_error(IR_FEAT_FOURIER, 41, 128);
  ck_assert_msg(e <= 1e-12, "Fourier Gram error %g", e);
  /* The column order: 1, √2 cos(πx), √2 sin(πx), √2 cos(2πx), ... */
  gsl_matrix *x = gsl_matrix_alloc(1, 1), *Phi = gsl_matrix_alloc(1, 5);
  gsl_matrix_set(x, 0, 0, 0.25);
  ir_features *f = ir_features_alloc(IR_FEAT_FOURIER, 1, 5, 0.0, NULL);
  IR_ASSERT_OK(ir_features_apply(f, x, 5, Phi));
  const double h = sqrt(0.5); /* cos(π/4) = sin(π/4) */
  const double want[] = {1, sqrt(2.0) * h, sqrt(2.0) * h, 0, sqrt(2.0)};
  for (size_t j = 0; j < 5; j++)
    IR_ASSERT_CLOSE(gsl_matrix_get(Phi, 0, j), want[j], 1e-15, 1e-15);
  ir_features_free(f);
  gsl_matrix_free(x);
  gsl_matrix_free(Phi);
}
END_TEST

START_TEST(test_streams_prefix_all_kinds) {
  /* ir_features_alloc_streams: feature j comes from stream (seed, j), so
   * the first N features are the same bits whatever Nmax is — for rff too
   * (whose shared-generator order draws all of W before the phases), and
   * for relu-sphere.  fft: d' = 4 divides N = 20. */
  const size_t m = 3, d = 4, N = 20;
  gsl_matrix *X = ir_test_gaussian(m, d, 6);
  const int kinds[] = {IR_FEAT_RFF,      IR_FEAT_RELU,
                       IR_FEAT_RFF_PAIR, IR_FEAT_RELU_CENTERED,
                       IR_FEAT_FFT,      IR_FEAT_RELU_SPHERE};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    gsl_matrix *A = gsl_matrix_alloc(m, N), *B = gsl_matrix_alloc(m, N);
    gsl_matrix *C = gsl_matrix_alloc(m, N);
    for (int pass = 0; pass < 3; pass++) {
      ir_features *f = ir_features_alloc_streams(
          kinds[k], d, pass == 1 ? 57 : N, 0.9, pass == 2 ? 4 : 3, 77);
      ck_assert_ptr_nonnull(f);
      IR_ASSERT_OK(ir_features_apply(f, X, N,
                                     pass == 0   ? A
                                     : pass == 1 ? B
                                                 : C));
      ir_features_free(f);
    }
    ck_assert_msg(gsl_matrix_equal(A, B), "%s", ir_features_name(kinds[k]));
    ck_assert_msg(!gsl_matrix_equal(A, C), "%s: another seed, same features",
                  ir_features_name(kinds[k]));
    gsl_matrix_free(A);
    gsl_matrix_free(B);
    gsl_matrix_free(C);
  }
  ck_assert_ptr_null(ir_features_alloc_streams(IR_FEAT_RFF, d, N, 1.0, 0, 1));
  gsl_matrix_free(X);
}
END_TEST

START_TEST(test_norm_rescales_prefix) {
  /* ir_features_norm: the first N columns of an apply at Nmax times
   * norm(N)/norm(Nmax) are the apply at N (one rounding of the product
   * apart), for every kind; the values are the documented constants. */
  const size_t m = 4, d = 3, N = 12, Nmax = 48;
  gsl_matrix *X = ir_test_gaussian(m, d, 8);
  gsl_matrix_scale(X, 0.3); /* inside [−1, 1] for the 1-D bases' column 0 */
  gsl_matrix *X1 = gsl_matrix_alloc(m, 1);
  for (size_t i = 0; i < m; i++)
    gsl_matrix_set(X1, i, 0, tanh(gsl_matrix_get(X, i, 0)));
  const int kinds[] = {
      IR_FEAT_RFF,           IR_FEAT_RELU,    IR_FEAT_RFF_PAIR,
      IR_FEAT_RELU_CENTERED, IR_FEAT_FFT,     IR_FEAT_RELU_SPHERE,
      IR_FEAT_LEGENDRE,      IR_FEAT_FOURIER, IR_FEAT_FOURIER_WEIGHTED};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    const int one_d = kinds[k] == IR_FEAT_LEGENDRE ||
                      kinds[k] == IR_FEAT_FOURIER ||
                      kinds[k] == IR_FEAT_FOURIER_WEIGHTED;
    const gsl_matrix *Xk = one_d ? X1 : X;
    ir_features *f =
        ir_features_alloc_streams(kinds[k], Xk->size2, Nmax, 0.8, 5, 6);
    ck_assert_ptr_nonnull(f);
    gsl_matrix *Pm = gsl_matrix_alloc(m, Nmax), *Pn = gsl_matrix_alloc(m, N);
    IR_ASSERT_OK(ir_features_apply(f, Xk, Nmax, Pm));
    IR_ASSERT_OK(ir_features_apply(f, Xk, N, Pn));
    const double c = ir_features_norm(f, N) / ir_features_norm(f, Nmax);
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < N; j++)
        IR_ASSERT_CLOSE(c * gsl_matrix_get(Pm, i, j), gsl_matrix_get(Pn, i, j),
                        4e-16, 1e-300);
    double want = 1.0;
    if (kinds[k] == IR_FEAT_RFF || kinds[k] == IR_FEAT_RFF_PAIR ||
        kinds[k] == IR_FEAT_FFT)
      want = sqrt(2.0 / (double)N);
    else if (!one_d)
      want = sqrt(1.0 / (double)N);
    ck_assert_double_eq(ir_features_norm(f, N), want);
    ck_assert(isnan(ir_features_norm(f, 0)));
    gsl_matrix_free(Pm);
    gsl_matrix_free(Pn);
    ir_features_free(f);
  }
  gsl_matrix_free(X1);
  gsl_matrix_free(X);
}
END_TEST

START_TEST(test_fourier_weighted) {
  /* Column j of fourier-weighted is column j of fourier divided by its
   * frequency k = ⌈j/2⌉ (column 0 is the constant, weight 1). */
  const size_t m = 7, N = 23;
  gsl_matrix *x = gsl_matrix_alloc(m, 1);
  for (size_t i = 0; i < m; i++)
    gsl_matrix_set(x, i, 0, -1.0 + 2.0 * (double)i / (double)(m - 1));
  ir_features *a = ir_features_alloc(IR_FEAT_FOURIER, 1, N, 0.0, NULL);
  ir_features *b = ir_features_alloc(IR_FEAT_FOURIER_WEIGHTED, 1, N, 0.0, NULL);
  gsl_matrix *A = gsl_matrix_alloc(m, N), *B = gsl_matrix_alloc(m, N);
  IR_ASSERT_OK(ir_features_apply(a, x, N, A));
  IR_ASSERT_OK(ir_features_apply(b, x, N, B));
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < N; j++) {
      const double k = j == 0 ? 1.0 : (double)((j + 1) / 2);
      IR_ASSERT_CLOSE(gsl_matrix_get(B, i, j), gsl_matrix_get(A, i, j) / k,
                      1e-15, 1e-15);
    }
  int kind;
  IR_ASSERT_OK(ir_features_parse("fourier-weighted", &kind));
  ck_assert_int_eq(kind, IR_FEAT_FOURIER_WEIGHTED);
  ck_assert_str_eq(ir_features_name(kind), "fourier-weighted");
  gsl_matrix_set(x, 0, 0, 1.5);
  ck_assert_int_eq(ir_features_apply(b, x, N, B), IR_EDOM);
  ir_features_free(a);
  ir_features_free(b);
  gsl_matrix_free(A);
  gsl_matrix_free(B);
  gsl_matrix_free(x);
}
END_TEST

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median of all pairwise distances by sorting (brute force). */
static double brute_median(const gsl_matrix *X) {
  const size_t n = X->size1, P = n * (n - 1) / 2;
  double *dist = malloc(P * sizeof(double));
  size_t c = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) {
      double s = 0;
      for (size_t l = 0; l < X->size2; l++) {
        const double t = gsl_matrix_get(X, i, l) - gsl_matrix_get(X, j, l);
        s += t * t;
      }
      dist[c++] = sqrt(s);
    }
  qsort(dist, P, sizeof(double), cmp_double);
  const double med =
      P % 2 ? dist[P / 2] : 0.5 * (dist[P / 2 - 1] + dist[P / 2]);
  free(dist);
  return med;
}

START_TEST(test_median_small) {
  /* n = 9 (36 pairs, even) and n = 6 (15 pairs, odd), all pairs. */
  static const size_t ns[] = {9, 6};
  for (size_t k = 0; k < 2; k++) {
    gsl_matrix *X = ir_test_gaussian(ns[k], 3, 12 + k);
    double sigma = -1;
    IR_ASSERT_OK(ir_features_median_heuristic(X, 1000, NULL, &sigma));
    IR_ASSERT_CLOSE(sigma, brute_median(X), 1e-15, 0);
    gsl_matrix_free(X);
  }
}
END_TEST

/* The median distance of the points 0, 1, ..., m on a line, from the
 * counts: distance k occurs m + 1 − k times, so C(k) = k(m+1) − k(k+1)/2
 * distances are <= k; the q-th smallest is the least k with C(k) >= q. */
static double line_median(size_t m) {
  const size_t P = m * (m + 1) / 2;
  double stat[2] = {0, 0};
  const size_t q[2] = {P % 2 ? (P + 1) / 2 : P / 2,
                       P % 2 ? (P + 1) / 2 : P / 2 + 1};
  for (int s = 0; s < 2; s++)
    for (size_t k = 1; k <= m; k++)
      if (k * (m + 1) - k * (k + 1) / 2 >= q[s]) {
        stat[s] = (double)k;
        break;
      }
  return 0.5 * (stat[0] + stat[1]);
}

START_TEST(test_median_line) {
  /* Exact: m = 40 on the real line (820 pairs), and the same points along
   * the unit direction (2, 1, 2)/3 in R³. */
  const size_t m = 40;
  gsl_matrix *X1 = gsl_matrix_alloc(m + 1, 1), *X3 = gsl_matrix_alloc(m + 1, 3);
  for (size_t i = 0; i <= m; i++) {
    gsl_matrix_set(X1, i, 0, (double)i);
    gsl_matrix_set(X3, i, 0, 2.0 * (double)i / 3);
    gsl_matrix_set(X3, i, 1, 1.0 * (double)i / 3);
    gsl_matrix_set(X3, i, 2, 2.0 * (double)i / 3);
  }
  double s1, s3;
  IR_ASSERT_OK(ir_features_median_heuristic(X1, 100000, NULL, &s1));
  IR_ASSERT_OK(ir_features_median_heuristic(X3, 100000, NULL, &s3));
  ck_assert(s1 == line_median(m));
  IR_ASSERT_CLOSE(s3, line_median(m), 1e-14, 0);
  gsl_matrix_free(X1);
  gsl_matrix_free(X3);
  /* Sampled: m = 400 (80 200 pairs), K = 5000 sampled pairs.  The sample
   * median has sd ≈ 1/(2√K f) with f the density of distances at the
   * median; here f(k) = (m + 1 − k)/P ≈ √2/m at k ≈ m(1 − 1/√2), so sd ≈
   * m/(2√(2K)) ≈ 2.0; we allow 5 sd.  The same seed gives the same σ. */
  const size_t M = 400, K = 5000;
  gsl_matrix *X = gsl_matrix_alloc(M + 1, 1);
  for (size_t i = 0; i <= M; i++)
    gsl_matrix_set(X, i, 0, (double)i);
  double sa, sb;
  gsl_rng *r = ir_rng_alloc(1, ir_rng_stream(IR_STREAM_DATA, 1, 0));
  IR_ASSERT_OK(ir_features_median_heuristic(X, K, r, &sa));
  ir_rng_free(r);
  r = ir_rng_alloc(1, ir_rng_stream(IR_STREAM_DATA, 1, 0));
  IR_ASSERT_OK(ir_features_median_heuristic(X, K, r, &sb));
  ir_rng_free(r);
  ck_assert(sa == sb);
  const double exact = line_median(M), sd = (double)M / (2 * sqrt(2.0 * K));
  ck_assert_msg(fabs(sa - exact) <= 5 * sd, "sampled median %g, exact %g", sa,
                exact);
  gsl_matrix_free(X);
}
END_TEST

START_TEST(test_errors_new_kinds) {
  gsl_rng *r = ir_rng_alloc(1, 1);
  /* identity: Nmax <= d. */
  ck_assert_ptr_null(ir_features_alloc(IR_FEAT_IDENTITY, 3, 4, 1.0, NULL));
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "N <= d"));
  /* 1-D bases: d = 1. */
  ck_assert_ptr_null(ir_features_alloc(IR_FEAT_LEGENDRE, 2, 4, 1.0, NULL));
  ck_assert_ptr_null(ir_features_alloc(IR_FEAT_FOURIER, 2, 4, 1.0, NULL));
  /* Random kinds need r and a scale. */
  ck_assert_ptr_null(ir_features_alloc(IR_FEAT_FFT, 4, 4, 1.0, NULL));
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "random generator"));
  ck_assert_ptr_null(ir_features_alloc(IR_FEAT_RFF_PAIR, 4, 4, -1.0, r));
  ck_assert_ptr_null(
      ir_features_alloc(IR_FEAT_RELU_CENTERED, 4, 4, INFINITY, r));
  ck_assert_ptr_null(ir_features_alloc(IR_FEAT_FFT, 4, 0, 1.0, r));
  ck_assert_ptr_null(ir_features_alloc(0, 4, 4, 1.0, r));
  ir_features_free(NULL);
  /* N outside 1..Nmax and shapes, for fft. */
  ir_features *f = ir_features_alloc(IR_FEAT_FFT, 4, 10, 1.0, r);
  ck_assert_ptr_nonnull(f);
  gsl_matrix *X = gsl_matrix_calloc(2, 4), *P = gsl_matrix_alloc(2, 10);
  ck_assert_int_eq(ir_features_apply(f, X, 0, P), IR_EINVAL);
  ck_assert_int_eq(ir_features_apply(f, X, 11, P), IR_EINVAL);
  ck_assert_int_eq(ir_features_apply(f, X, 9, P), IR_ESHAPE);
  ir_features_free(f);
  /* 1-D bases reject |x| > 1 and NaN before writing Phi. */
  f = ir_features_alloc(IR_FEAT_LEGENDRE, 1, 3, 0.0, NULL);
  gsl_matrix *x = gsl_matrix_calloc(2, 1), *Q = gsl_matrix_calloc(2, 3);
  gsl_matrix_set(x, 1, 0, 1.5);
  ck_assert_int_eq(ir_features_apply(f, x, 3, Q), IR_EDOM);
  ck_assert(gsl_matrix_isnull(Q));
  gsl_matrix_set(x, 1, 0, NAN);
  ck_assert_int_eq(ir_features_apply(f, x, 3, Q), IR_EDOM);
  ir_features_free(f);
  f = ir_features_alloc(IR_FEAT_FOURIER, 1, 3, 0.0, NULL);
  ck_assert_int_eq(ir_features_apply(f, x, 3, Q), IR_EDOM);
  ir_features_free(f);
  /* Median heuristic. */
  double sigma = 7;
  gsl_matrix *one = gsl_matrix_calloc(1, 2);
  ck_assert_int_eq(ir_features_median_heuristic(one, 10, r, &sigma), IR_EINVAL);
  gsl_matrix *same = gsl_matrix_calloc(5, 2);
  ck_assert_int_eq(ir_features_median_heuristic(same, 10, r, &sigma), IR_EDOM);
  ck_assert_int_eq(ir_features_median_heuristic(same, 0, r, &sigma), IR_EINVAL);
  ck_assert_int_eq(ir_features_median_heuristic(same, 3, NULL, &sigma),
                   IR_EINVAL);
  gsl_matrix_set(same, 2, 1, NAN);
  ck_assert_int_eq(ir_features_median_heuristic(same, 10, r, &sigma),
                   IR_EBADDATA);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "X[2][1]"));
  gsl_matrix_set(same, 2, 1, 1e300); /* finite, but the distance overflows */
  gsl_matrix_set(same, 3, 1, -1e300);
  ck_assert_int_eq(ir_features_median_heuristic(same, 10, r, &sigma),
                   IR_EBADDATA);
  ck_assert(sigma == 7); /* untouched on failure */
  /* Names round-trip. */
  static const char *names[] = {"identity",      "rff", "rff-pair", "relu",
                                "relu-centered", "fft", "legendre", "fourier"};
  for (size_t k = 0; k < 8; k++) {
    int kind = -1;
    IR_ASSERT_OK(ir_features_parse(names[k], &kind));
    ck_assert_str_eq(ir_features_name(kind), names[k]);
  }
  int kind = 0;
  ck_assert_int_eq(ir_features_parse("rff_pair", &kind), IR_EINVAL);
  ck_assert_int_eq(ir_features_parse("", &kind), IR_EINVAL);
  ck_assert_str_eq(ir_features_name(0), "unknown");
  ck_assert_str_eq(ir_features_name(IR_FEAT_FFT), "fft");
  gsl_matrix_free(one);
  gsl_matrix_free(same);
  gsl_matrix_free(x);
  gsl_matrix_free(Q);
  gsl_matrix_free(X);
  gsl_matrix_free(P);
  ir_rng_free(r);
}
END_TEST

START_TEST(test_relu_sphere) {
  /* Weights uniform on the sphere of radius σ: every row has norm σ, and
   * for x on the sphere of radius √d the pre-activation ⟨w, x⟩ = σ⟨θ, x⟩/√d
   * with ‖θ‖ = √d has mean 0 and variance σ²·‖x‖²/d = σ² (the second moment of
   * a uniform direction's coordinate is 1/d).  The features are
   * √(1/N)·max(0, ⟨w, x⟩), so Σ_j φ_j(x)² → E max(0, g)² = σ²/2 for
   * g ~ N(0, σ²) as d → ∞; at d = 50, N = 20000 the Monte-Carlo error is
   * ~σ²/√N and the finite-d correction O(σ²/d): tolerance 0.03·σ². */
  const size_t d = 50, N = 20000;
  const double sigma = 1.5;
  gsl_rng *r = ir_rng_alloc(5, 77);
  ir_features *f = ir_features_alloc(IR_FEAT_RELU_SPHERE, d, N, sigma, r);
  ck_assert_ptr_nonnull(f);
  gsl_matrix *X = ir_test_gaussian(1, d, 8);
  gsl_vector_view x0 = gsl_matrix_row(X, 0);
  gsl_vector_scale(&x0.vector, sqrt((double)d) / gsl_blas_dnrm2(&x0.vector));
  gsl_matrix *Phi = gsl_matrix_alloc(1, N);
  IR_ASSERT_OK(ir_features_apply(f, X, N, Phi));
  double ss = 0;
  for (size_t j = 0; j < N; j++) {
    double v = gsl_matrix_get(Phi, 0, j);
    ck_assert(v >= 0);
    ss += v * v;
  }
  IR_ASSERT_CLOSE(ss, sigma * sigma / 2, 0, 0.03 * sigma * sigma);
  int kind;
  IR_ASSERT_OK(ir_features_parse("relu-sphere", &kind));
  ck_assert_int_eq(kind, IR_FEAT_RELU_SPHERE);
  ck_assert_str_eq(ir_features_name(IR_FEAT_RELU_SPHERE), "relu-sphere");
  gsl_matrix_free(Phi);
  gsl_matrix_free(X);
  ir_features_free(f);
  ir_rng_free(r);
}
END_TEST

static Suite *features_suite(void) {
  Suite *s = suite_create("features");
  TCase *tc = tcase_create("kernels");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_rff_kernel);
  tcase_add_test(tc, test_relu_kernel);
  tcase_add_test(tc, test_relu_sphere);
  tcase_add_test(tc, test_rff_pair_kernel);
  tcase_add_test(tc, test_relu_centered_kernel);
  tcase_add_test(tc, test_fft_kernel_bound);
  tcase_add_test(tc, test_fft_rate);
  suite_add_tcase(s, tc);
  tc = tcase_create("normal");
  tcase_add_test(tc, test_nested_columns);
  tcase_add_test(tc, test_reproducible);
  tcase_add_test(tc, test_rff_pair_structure);
  tcase_add_test(tc, test_relu_centered_is_relu_minus_mean);
  tcase_add_test(tc, test_fft_matches_explicit);
  tcase_add_test(tc, test_nested_all_kinds);
  tcase_add_test(tc, test_draw_prefix);
  tcase_add_test(tc, test_reproducible_all_kinds);
  tcase_add_test(tc, test_identity);
  tcase_add_test(tc, test_legendre);
  tcase_add_test(tc, test_fourier);
  tcase_add_test(tc, test_fourier_weighted);
  tcase_add_test(tc, test_streams_prefix_all_kinds);
  tcase_add_test(tc, test_norm_rescales_prefix);
  tcase_add_test(tc, test_median_small);
  tcase_add_test(tc, test_median_line);
  tcase_add_test(tc, test_cos_kernel);
  tcase_add_test(tc, test_apply_cols);
  suite_add_tcase(s, tc);
  tc = tcase_create("errors");
  tcase_add_test(tc, test_errors);
  tcase_add_test(tc, test_errors_new_kinds);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ir_test_run(features_suite());
}
