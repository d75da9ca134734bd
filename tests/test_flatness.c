/* test_flatness.c — the end-point measures against closed forms and dense
 * spectra (least squares: the Hessian is X'X/n), and Dinh et al.'s
 * rescaling study against the dense D⁻¹HD⁻¹. */
#include "implreg/flatness.h"

#include "implreg/curvature.h"
#include "implreg/landscape.h"
#include "implreg/mlp.h"
#include "implreg/model.h"
#include "implreg/rng.h"
#include "implreg/status.h"
#include "testutil.h"

#include <float.h>
#include <gsl/gsl_blas.h>
#include <string.h>

static void fill(gsl_matrix *A, unsigned long seed, uint64_t stream) {
  gsl_rng *r = ir_rng_alloc(seed, stream);
  for (size_t i = 0; i < A->size1; i++)
    for (size_t j = 0; j < A->size2; j++)
      gsl_matrix_set(A, i, j, gsl_ran_gaussian(r, 1.0));
  ir_rng_free(r);
}

/* Largest eigenvalue of a symmetric matrix by GSL's QR algorithm (an
 * independent path from LAPACK's dsyevr in ir_dense_spectrum). */
static double gsl_lmax(const gsl_matrix *A, double *lmin) {
  gsl_matrix *B = gsl_matrix_alloc(A->size1, A->size1);
  gsl_matrix_memcpy(B, A);
  gsl_vector *ev = gsl_vector_alloc(A->size1);
  gsl_eigen_symm_workspace *w = gsl_eigen_symm_alloc(A->size1);
  gsl_eigen_symm(B, ev, w);
  double mx = gsl_vector_max(ev);
  if (lmin)
    *lmin = gsl_vector_min(ev);
  gsl_eigen_symm_free(w);
  gsl_vector_free(ev);
  gsl_matrix_free(B);
  return mx;
}

START_TEST(test_least_squares) {
  const size_t n = 30, p = 8;
  gsl_matrix *X = gsl_matrix_alloc(n, p), *Y = gsl_matrix_alloc(n, 1);
  fill(X, 3, 1);
  fill(Y, 3, 2);
  ir_model *m = ir_model_linear_alloc(X, Y);
  gsl_vector *w = gsl_vector_alloc(p);
  for (size_t i = 0; i < p; i++)
    gsl_vector_set(w, i, 0.1 * (double)i - 0.3);
  ir_flatness_params fp;
  ir_flatness_params_default(&fp);
  fp.trace_probes = 400;
  ir_flatness_measures r;
  double vtop[8];
  IR_ASSERT_OK(ir_flatness_measure(m, NULL, w, &fp, &r, vtop));
  /* H = X'X/n: its trace is ||X||_F^2/n. */
  gsl_matrix *H = gsl_matrix_alloc(p, p);
  gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0 / (double)n, X, X, 0.0, H);
  double tr = 0;
  for (size_t i = 0; i < p; i++)
    tr += gsl_matrix_get(H, i, i);
  double lmin;
  const double lmax = gsl_lmax(H, &lmin);
  ck_assert_int_eq(r.exact, 1);
  IR_ASSERT_CLOSE(r.trace_exact, tr, 1e-13, 0);
  IR_ASSERT_CLOSE(r.lambda_dense, lmax, 1e-13, 0);
  IR_ASSERT_CLOSE(r.lambda_min_dense, lmin, 1e-11, 1e-14);
  IR_ASSERT_CLOSE(r.lambda_max, lmax, 0, r.lambda_res + 1e-13 * lmax);
  ck_assert(r.lambda_conv);
  ck_assert_msg(fabs(r.trace - tr) < 5 * r.trace_se, "trace %g vs %g (se %g)",
                r.trace, tr, r.trace_se);
  /* The gradient X'(Xw - y)/n. */
  gsl_vector *res = gsl_vector_alloc(n), *g = gsl_vector_alloc(p);
  gsl_vector_const_view y = gsl_matrix_const_column(Y, 0);
  gsl_vector_memcpy(res, &y.vector);
  gsl_blas_dgemv(CblasNoTrans, 1.0, X, w, -1.0, res);
  gsl_blas_dgemv(CblasTrans, 1.0 / (double)n, X, res, 0.0, g);
  const double gg = gsl_blas_dnrm2(g);
  IR_ASSERT_CLOSE(r.grad_norm2, gg * gg, 1e-13, 0);
  IR_ASSERT_CLOSE(r.theta_norm, gsl_blas_dnrm2(w), 1e-15, 0);
  /* The eigenvector: H v = lambda v to its residual. */
  gsl_vector_view v = gsl_vector_view_array(vtop, p);
  gsl_vector *Hv = gsl_vector_alloc(p);
  gsl_blas_dgemv(CblasNoTrans, 1.0, H, &v.vector, 0.0, Hv);
  gsl_blas_daxpy(-r.lambda_max, &v.vector, Hv);
  ck_assert(gsl_blas_dnrm2(Hv) <= 2 * r.lambda_res + 1e-13 * lmax);
  /* No subspace sharpness when r >= p, no balanced value without layers. */
  ck_assert(isnan(r.sharp_sub) && isnan(r.lambda_bal));
  ck_assert(r.sharp_full > 0 && r.sharp_full_evals >= 2);
  /* A subspace of rank 3 < p. */
  fp.sharp_rank = 3;
  IR_ASSERT_OK(ir_flatness_measure(m, NULL, w, &fp, &r, NULL));
  ck_assert(isfinite(r.sharp_sub) && r.sharp_sub >= 0);
  /* No exact path above exact_max_p. */
  fp.exact_max_p = 4;
  IR_ASSERT_OK(ir_flatness_measure(m, NULL, w, &fp, &r, NULL));
  ck_assert(r.exact == 0 && isnan(r.trace_exact));
  gsl_vector_free(Hv);
  gsl_vector_free(res);
  gsl_vector_free(g);
  gsl_matrix_free(H);
  gsl_vector_free(w);
  ir_model_free(m);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

/* A small ReLU network with random data and weights. */
typedef struct {
  ir_mlp_arch a;
  gsl_matrix *X, *Y;
  ir_model *m;
  gsl_vector *th;
} net_fix;

static net_fix small_net(ir_act act) {
  net_fix f;
  memset(&f, 0, sizeof f);
  ck_assert_int_eq(ir_mlp_arch_parse("5-7-3", &f.a), IR_OK);
  f.a.act = act;
  f.a.loss = IR_LOSS_MSE;
  f.X = gsl_matrix_alloc(20, 5);
  f.Y = gsl_matrix_alloc(20, 3);
  fill(f.X, 5, 1);
  fill(f.Y, 5, 2);
  f.m = ir_model_mlp_alloc(&f.a, f.X, f.Y);
  ck_assert_ptr_nonnull(f.m);
  f.th = gsl_vector_alloc(f.m->nparams);
  gsl_rng *r = ir_rng_alloc(5, 3);
  ir_mlp_init_torch(&f.a, r, f.th);
  ir_rng_free(r);
  return f;
}

static void net_free(net_fix *f) {
  ir_model_free(f->m);
  gsl_matrix_free(f->X);
  gsl_matrix_free(f->Y);
  gsl_vector_free(f->th);
}

START_TEST(test_rescale_dense) {
  net_fix f = small_net(IR_ACT_RELU);
  const size_t p = f.m->nparams;
  ir_flatness_params fp;
  ir_flatness_params_default(&fp);
  fp.lanczos_tol = 1e-11;
  /* Dense H(θ) once. */
  ir_hessian_op h = {f.m, f.th, NULL, 0};
  ir_linop op = ir_linop_hessian(&h);
  gsl_matrix *H = gsl_matrix_alloc(p, p), *C = gsl_matrix_alloc(p, p);
  IR_ASSERT_OK(ir_linop_dense_matrix(&op, 1e-8, H, NULL));
  double L0;
  IR_ASSERT_OK(ir_model_loss_grad(f.m, f.th, NULL, 0, &L0, NULL));
  ir_rescale_row ref;
  IR_ASSERT_OK(ir_flatness_rescale(f.m, &f.a, f.X, f.th, 0, 1.0, &fp, &ref));
  const double alphas[] = {1e-2, 0.5, 3.0, 100.0};
  for (size_t k = 0; k < 4; k++) {
    const double al = alphas[k];
    ir_rescale_row r;
    IR_ASSERT_OK(ir_flatness_rescale(f.m, &f.a, f.X, f.th, 0, al, &fp, &r));
    IR_ASSERT_CLOSE(r.loss, L0, 1e-13, 0);
    ck_assert_msg(r.pred_maxdiff < 1e-12, "predictions moved by %g",
                  r.pred_maxdiff);
    /* D⁻¹ H D⁻¹ densely: the diagonal scaling of rows and columns. */
    gsl_vector *dinv = gsl_vector_alloc(p);
    gsl_vector_set_all(dinv, 1.0);
    IR_ASSERT_OK(ir_mlp_rescale(&f.a, dinv, 0, 1.0 / al, dinv));
    for (size_t i = 0; i < p; i++)
      for (size_t j = 0; j < p; j++)
        gsl_matrix_set(C, i, j, gsl_matrix_get(H, i, j) *
                                    gsl_vector_get(dinv, i) *
                                    gsl_vector_get(dinv, j));
    const double lmax = gsl_lmax(C, NULL);
    IR_ASSERT_CLOSE(r.lambda_max, lmax, 1e-9, r.lambda_res);
    IR_ASSERT_CLOSE(r.lambda_pred, lmax, 1e-9, r.lambda_pred_res);
    IR_ASSERT_CLOSE(r.lambda_bal, ref.lambda_bal, 1e-9,
                    r.lambda_bal_res + ref.lambda_bal_res);
    gsl_vector_free(dinv);
  }
  /* Far from 1 the curvature is huge: λ_max grows like α² (layer 2's
   * weights' block) and like α⁻² (layer 1's). */
  ir_rescale_row big, small;
  IR_ASSERT_OK(ir_flatness_rescale(f.m, &f.a, f.X, f.th, 0, 1e3, &fp, &big));
  IR_ASSERT_OK(ir_flatness_rescale(f.m, &f.a, f.X, f.th, 0, 1e-3, &fp,
                                   &small));
  ck_assert(big.lambda_max > 1e4 * ref.lambda_max);
  ck_assert(small.lambda_max > 1e4 * ref.lambda_max);
  gsl_matrix_free(H);
  gsl_matrix_free(C);
  net_free(&f);
}
END_TEST

START_TEST(test_errors) {
  net_fix f = small_net(IR_ACT_TANH);
  ir_flatness_params fp;
  ir_flatness_params_default(&fp);
  ir_rescale_row r;
  ck_assert_int_eq(ir_flatness_rescale(f.m, &f.a, f.X, f.th, 0, 2, &fp, &r),
                   IR_EINVAL);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "tanh"));
  net_free(&f);
  f = small_net(IR_ACT_RELU);
  ck_assert_int_eq(ir_flatness_rescale(f.m, &f.a, f.X, f.th, 1, 2, &fp, &r),
                   IR_EINVAL);
  ck_assert_int_eq(ir_flatness_rescale(f.m, &f.a, f.X, f.th, 0, 0, &fp, &r),
                   IR_EINVAL);
  ck_assert_int_eq(ir_flatness_rescale(f.m, &f.a, f.X, f.th, 0, NAN, &fp, &r),
                   IR_EINVAL);
  ir_flatness_measures mm;
  fp.trace_probes = 1;
  ck_assert_int_eq(ir_flatness_measure(f.m, &f.a, f.th, &fp, &mm, NULL),
                   IR_EINVAL);
  ir_flatness_params_default(&fp);
  fp.seed = 0;
  ck_assert_int_eq(ir_flatness_measure(f.m, &f.a, f.th, &fp, &mm, NULL),
                   IR_EINVAL);
  ir_flatness_params_default(&fp);
  gsl_vector *bad = gsl_vector_alloc(3);
  ck_assert_int_eq(ir_flatness_measure(f.m, &f.a, bad, &fp, &mm, NULL),
                   IR_ESHAPE);
  gsl_vector_free(bad);
  /* The balanced value is there for ReLU and not for tanh. */
  IR_ASSERT_OK(ir_flatness_measure(f.m, &f.a, f.th, &fp, &mm, NULL));
  ck_assert(isfinite(mm.lambda_bal));
  net_free(&f);
  f = small_net(IR_ACT_TANH);
  IR_ASSERT_OK(ir_flatness_measure(f.m, &f.a, f.th, &fp, &mm, NULL));
  ck_assert(isnan(mm.lambda_bal));
  net_free(&f);
}
END_TEST

int main(void) {
  Suite *s = suite_create("flatness");
  TCase *tc = tcase_create("measures");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_least_squares);
  tcase_add_test(tc, test_rescale_dense);
  tcase_add_test(tc, test_errors);
  suite_add_tcase(s, tc);
  return ir_test_run(s);
}
