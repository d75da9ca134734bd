/* test_features.c — random feature maps against the kernels they
 * approximate, nesting of columns, and errors. */
#include "testutil.h"

#include "implreg/features.h"
#include "implreg/rng.h"

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

static Suite *features_suite(void) {
  Suite *s = suite_create("features");
  TCase *tc = tcase_create("kernels");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_rff_kernel);
  tcase_add_test(tc, test_relu_kernel);
  suite_add_tcase(s, tc);
  tc = tcase_create("normal");
  tcase_add_test(tc, test_nested_columns);
  tcase_add_test(tc, test_reproducible);
  suite_add_tcase(s, tc);
  tc = tcase_create("errors");
  tcase_add_test(tc, test_errors);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ir_test_run(features_suite());
}
