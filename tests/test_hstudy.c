/* test_hstudy.c — the Hessian study on operators whose answers are known:
 * a symmetric matrix with a triple top eigenvalue (certified multiplicity,
 * dense spectrum, exact trace), its checks passing, and each check failing
 * on the bug it is there for (an asymmetric product, a product off by a
 * scale against the gradient's differences); bad parameters and operator
 * errors. */
#include "implreg/hstudy.h"

#include "implreg/rng.h"
#include "implreg/status.h"
#include "testutil.h"

#include <gsl/gsl_blas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { N = 40 };

/* A symmetric matrix with a planted spectrum: 5 (three times), 3, then
 * 36 values spread over [-2, 2]. */
static const double lam_top[4] = {5, 5, 5, 3};
static gsl_matrix *known_matrix(double *lam) {
  for (size_t i = 0; i < N; i++)
    lam[i] = i < 4 ? lam_top[i] : 2.0 - 4.0 * (double)(i - 4) / (N - 5);
  return ir_test_sym_with_spectrum(lam, N, 7);
}

/* The operator under test: A x, times (1 + scale), plus asym·x_1 in y_0,
 * failing with IR_EINVAL at product fail_at (0: never). */
typedef struct {
  const gsl_matrix *A;
  double scale, asym;
  size_t calls, fail_at;
} op_ctx;

static int apply(void *ctx, const double *x, double *y) {
  op_ctx *c = ctx;
  if (c->fail_at && ++c->calls == c->fail_at)
    return ir_error(IR_EINVAL, "operator failed on purpose");
  gsl_vector_const_view xv = gsl_vector_const_view_array(x, N);
  gsl_vector_view yv = gsl_vector_view_array(y, N);
  gsl_blas_dgemv(CblasNoTrans, 1 + c->scale, c->A, &xv.vector, 0, &yv.vector);
  y[0] += c->asym * x[1];
  return IR_OK;
}

/* The gradient of ½θᵀAθ at θ₀ + t v: A(θ₀ + t v), the true A. */
static double theta0[N];
static int grad(void *ctx, const double *v, double t, double *g) {
  const gsl_matrix *A = ctx;
  for (size_t i = 0; i < N; i++) {
    double s = 0;
    for (size_t j = 0; j < N; j++)
      s += gsl_matrix_get(A, i, j) * (theta0[j] + t * v[j]);
    g[i] = s;
  }
  return IR_OK;
}

static void params(ir_hstudy_params *p, const gsl_matrix *A) {
  ir_hstudy_params_default(p);
  p->top = 4;
  p->bottom = 2;
  p->trace = 1;
  p->probes = 60;
  p->density = 1;
  p->slq_runs = 4;
  p->slq_steps = 20;
  p->power = 1;
  p->grad = grad;
  p->grad_ctx = (void *)A;
  for (size_t i = 0; i < N; i++)
    theta0[i] = sin(1.0 + (double)i);
}

/* The checks as (failed, total). */
static void verdicts(const ir_hstudy *h, size_t *failed, size_t *total) {
  ir_checks *c = ir_checks_alloc();
  IR_ASSERT_OK(ir_hstudy_checks(h, c));
  *failed = ir_checks_failed(c);
  *total = ir_checks_count(c);
  ir_checks_free(c);
}

START_TEST(test_known_spectrum) {
  double lam[N];
  gsl_matrix *A = known_matrix(lam);
  op_ctx c = {A, 0, 0, 0, 0};
  ir_linop op = {N, apply, &c, 0, NULL, NULL, 0};
  ir_hstudy_params p;
  params(&p, A);
  p.full = 1;
  ir_hstudy *h = NULL;
  IR_ASSERT_OK(ir_hstudy_run(&op, &p, &h));
  /* The triple eigenvalue comes back three times, certified. */
  ck_assert_uint_eq(h->top->k, 4);
  for (int k = 0; k < 4; k++)
    ck_assert(fabs(h->top->values[k] - lam_top[k]) <= h->top->residuals[k] + 1e-12);
  ck_assert_int_eq(h->top->certified, 1);
  ck_assert(fabs(h->bottom->values[0] + 2) < 1e-9);
  /* The dense spectrum is the known one; the trace is their sum. */
  double tr = 0;
  for (size_t i = 0; i < N; i++)
    tr += lam[i];
  ck_assert(fabs(h->spectrum[N - 1] - 5) < 1e-12 && fabs(h->spectrum[0] + 2) < 1e-12);
  ck_assert(fabs(h->hutch.trace - tr) < 4 * h->hutch.se);
  ck_assert(h->fd_done && h->fd_err < 1e-8);
  size_t failed, total;
  verdicts(h, &failed, &total);
  /* fd, Lanczos vs power, 2 × dense eigenvalues, 2 × trace, symmetry. */
  ck_assert_uint_eq(total, 7);
  ck_assert_uint_eq(failed, 0);
  /* The report: every table of `implreg hessian` and the summary. */
  char dir[] = "/tmp/test_hstudy.XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  ir_hstudy_info info = {.model = "known", .loss_formula = "1/2 t'At",
                         .n_samples = 1, .hessian_samples = 1,
                         .loss = 0.5, .grad_norm = 1, .subset_loss = NAN};
  IR_ASSERT_OK(ir_hstudy_write(h, &info, dir, IR_FMT_CSV));
  const char *files[] = {"eigenvalues.csv", "trace.csv", "density.csv",
                         "slq_nodes.csv", "spectrum.csv", "estimators.csv",
                         "power.csv", "summary.json"};
  char path[512];
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    ck_assert_msg(access(path, R_OK) == 0, "%s missing", files[i]);
    unlink(path);
  }
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
  ir_hstudy_free(h);
  gsl_matrix_free(A);
}
END_TEST

/* Each bug makes its check fail. */
START_TEST(test_checks_fail_on_bugs) {
  double lam[N];
  gsl_matrix *A = known_matrix(lam);
  ir_hstudy_params p;
  params(&p, A);
  p.density = 0;
  size_t failed, total;
  /* An asymmetric product: the probe (no dense matrix) fails ... */
  op_ctx c = {A, 0, 1e-6, 0, 0};
  ir_linop op = {N, apply, &c, 0, NULL, NULL, 0};
  ir_hstudy *h = NULL;
  IR_ASSERT_OK(ir_hstudy_run(&op, &p, &h));
  verdicts(h, &failed, &total);
  ck_assert_uint_ge(failed, 1);
  ck_assert(fabs(h->sym_u_hv - h->sym_v_hu) > 0);
  ir_hstudy_free(h);
  /* ... and so does the dense matrix's symmetry. */
  p.full = 1;
  IR_ASSERT_OK(ir_hstudy_run(&op, &p, &h));
  ck_assert(h->asym > 1e-10);
  verdicts(h, &failed, &total);
  ck_assert_uint_ge(failed, 1);
  ir_hstudy_free(h);
  /* A product 1e-3 too large disagrees with the gradient's differences
   * (the only check that sees a uniform scale without the dense matrix). */
  p.full = 0;
  c.asym = 0;
  c.scale = 1e-3;
  IR_ASSERT_OK(ir_hstudy_run(&op, &p, &h));
  ck_assert(h->fd_err > 1e-4);
  verdicts(h, &failed, &total);
  ck_assert_uint_eq(failed, 1);
  ir_hstudy_free(h);
  gsl_matrix_free(A);
}
END_TEST

START_TEST(test_bad_parameters_and_errors) {
  double lam[N];
  gsl_matrix *A = known_matrix(lam);
  op_ctx c = {A, 0, 0, 0, 0};
  ir_linop op = {N, apply, &c, 0, NULL, NULL, 0};
  ir_hstudy_params p;
  params(&p, A);
  ir_hstudy *h = (ir_hstudy *)&c;
  p.probes = 3;
  ck_assert_int_eq(ir_hstudy_run(&op, &p, &h), IR_EINVAL);
  ck_assert_ptr_null(h);
  ck_assert_uint_eq(op.nmatvec, 0); /* refused before any product */
  params(&p, A);
  p.top = N + 1;
  ck_assert_int_eq(ir_hstudy_run(&op, &p, &h), IR_EINVAL);
  params(&p, A);
  p.slq_runs = 0;
  ck_assert_int_eq(ir_hstudy_run(&op, &p, &h), IR_EINVAL);
  ir_linop big = {7000, apply, &c, 0, NULL, NULL, 0};
  params(&p, A);
  p.full = 1;
  ck_assert_int_eq(ir_hstudy_run(&big, &p, &h), IR_EINVAL);
  ck_assert_uint_eq(big.nmatvec, 0);
  /* An operator error stops the study and is passed on. */
  params(&p, A);
  c.fail_at = 30;
  ck_assert_int_eq(ir_hstudy_run(&op, &p, &h), IR_EINVAL);
  ck_assert_ptr_null(h);
  ck_assert(strstr(ir_error_message(), "on purpose") != NULL);
  ir_hstudy_free(NULL);
  gsl_matrix_free(A);
}
END_TEST

int main(void) {
  Suite *s = suite_create("hstudy");
  TCase *tc = tcase_create("hstudy");
  tcase_add_test(tc, test_known_spectrum);
  tcase_add_test(tc, test_checks_fail_on_bugs);
  tcase_add_test(tc, test_bad_parameters_and_errors);
  suite_add_tcase(s, tc);
  return ir_test_run(s);
}
