/* data_synth.c — synthetic data: the linear teacher, the 1-D regression
 * curve and the linear target on the sphere.  See implreg/data.h. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "implreg/data.h"

#include "data_internal.h"
#include "implreg/status.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================== */
/* Linear teacher                                                            */
/* ======================================================================== */

/* Fills ds with rows x ~ N(0, diag(scale²)), y = xᵀβ + σε.  Every row draws
 * its d inputs and then one ε, whether or not the noise is used, so that X
 * depends only on the seed and not on σ² or test_noise. */
static void ir_teacher_fill(ir_dataset *ds, const double *scale,
                            const double *beta, double sigma, int noise,
                            gsl_rng *r) {
  for (size_t i = 0; i < ds->n; i++) {
    double *x = ir_row(ds->X, i);
    double y = 0.0;
    for (size_t j = 0; j < ds->d; j++) {
      x[j] = scale[j] * gsl_ran_gaussian_ziggurat(r, 1.0);
      y += x[j] * beta[j];
    }
    double eps = gsl_ran_gaussian_ziggurat(r, 1.0);
    ir_row(ds->Y, i)[0] = noise ? y + sigma * eps : y;
  }
}

/* Draws, in this order from r: β = sqrt(r2)·g/‖g‖ with g ~ N(0, I_d) (a
 * uniform direction on the sphere, Muller 1959), the n training rows, the
 * ntest test rows.  Gaussians come from GSL's ziggurat sampler (Marsaglia and
 * Tsang 2000), the fastest of GSL's exact Gaussian methods.  Cost
 * O((n + ntest)·d). */
int ir_data_linear_teacher(const ir_teacher_params *p, gsl_rng *r,
                           ir_dataset **train, ir_dataset **test,
                           double *beta) {
  if (train != NULL)
    *train = NULL;
  if (test != NULL)
    *test = NULL;
  if (p == NULL || r == NULL || train == NULL)
    return ir_error(IR_EINVAL, "linear teacher: params, generator and train "
                               "must not be NULL");
  if (p->n == 0 || p->d == 0)
    return ir_error(IR_EINVAL,
                    "linear teacher: n = %zu, d = %zu; both must "
                    "be at least 1",
                    p->n, p->d);
  if (p->ntest > 0 && test == NULL)
    return ir_error(IR_EINVAL, "linear teacher: ntest = %zu but test is NULL",
                    p->ntest);
  if (!(p->r2 >= 0 && isfinite(p->r2)))
    return ir_error(IR_EINVAL,
                    "linear teacher: r2 = %g; expected a finite "
                    "value >= 0",
                    p->r2);
  if (!(p->sigma2 >= 0 && isfinite(p->sigma2)))
    return ir_error(IR_EINVAL,
                    "linear teacher: sigma2 = %g; expected a "
                    "finite value >= 0",
                    p->sigma2);
  if (p->spectrum != NULL)
    for (size_t j = 0; j < p->d; j++)
      if (!(p->spectrum[j] >= 0 && isfinite(p->spectrum[j])))
        return ir_error(IR_EINVAL,
                        "linear teacher: spectrum[%zu] = %g; expected finite "
                        "eigenvalues >= 0",
                        j, p->spectrum[j]);

  double *b = malloc(p->d * sizeof *b);
  double *scale = malloc(p->d * sizeof *scale);
  ir_dataset *tr = NULL, *te = NULL;
  int s = IR_OK;
  if (b == NULL || scale == NULL) {
    s = ir_error(IR_ENOMEM, "linear teacher: out of memory (d = %zu)", p->d);
    goto done;
  }
  for (size_t j = 0; j < p->d; j++)
    scale[j] = p->spectrum != NULL ? sqrt(p->spectrum[j]) : 1.0;

  /* g = 0 has probability zero, but redrawing costs nothing. */
  double g2;
  do {
    g2 = 0.0;
    for (size_t j = 0; j < p->d; j++) {
      b[j] = gsl_ran_gaussian_ziggurat(r, 1.0);
      g2 += b[j] * b[j];
    }
  } while (g2 == 0.0);
  double c = sqrt(p->r2 / g2);
  for (size_t j = 0; j < p->d; j++)
    b[j] *= c;

  tr = ir_dataset_alloc(p->n, p->d, 1, 0);
  if (tr == NULL) {
    s = IR_ENOMEM;
    goto done;
  }
  if (p->ntest > 0 && (te = ir_dataset_alloc(p->ntest, p->d, 1, 0)) == NULL) {
    s = IR_ENOMEM;
    goto done;
  }
  double sigma = sqrt(p->sigma2);
  ir_teacher_fill(tr, scale, b, sigma, 1, r);
  if (te != NULL)
    ir_teacher_fill(te, scale, b, sigma, p->test_noise, r);
  if (beta != NULL)
    memcpy(beta, b, p->d * sizeof *b);
  *train = tr;
  if (test != NULL)
    *test = te;
  tr = te = NULL;
done:
  ir_dataset_free(tr);
  ir_dataset_free(te);
  free(b);
  free(scale);
  return s;
}

/* ---- 1-D regression curve ------------------------------------------------ */

double ir_data_curve_1d_f(double x) {
  /* sin(2πx), with 2π spelled out (M_PI is not in strict C17). */
  return sin(6.283185307179586476925286766559 * x);
}

/* x ~ U[−1, 1], y = f(x) + σε, train then test (see data.h). */
static int ir_data_target_1d(double (*f)(double), const char *what, size_t n,
                             size_t ntest, double sigma, int test_noise,
                             gsl_rng *r, ir_dataset **train,
                             ir_dataset **test) {
  *train = NULL;
  if (test != NULL)
    *test = NULL;
  if (n == 0 || !(sigma >= 0) || !isfinite(sigma))
    return ir_error(IR_EINVAL,
                    "%s: n = %zu must be >= 1 and the noise "
                    "level %g finite and >= 0",
                    what, n, sigma);
  ir_dataset *sets[2] = {NULL, NULL};
  const size_t sizes[2] = {n, test != NULL ? ntest : 0};
  for (int k = 0; k < 2; k++) {
    if (sizes[k] == 0)
      continue;
    sets[k] = ir_dataset_alloc(sizes[k], 1, 1, 0);
    if (sets[k] == NULL) {
      ir_dataset_free(sets[0]);
      return IR_ENOMEM;
    }
    for (size_t i = 0; i < sizes[k]; i++) {
      double x = 2 * gsl_rng_uniform(r) - 1;
      double e = gsl_ran_gaussian(r, 1.0);
      gsl_matrix_set(sets[k]->X, i, 0, x);
      gsl_matrix_set(sets[k]->Y, i, 0,
                     f(x) + (k == 0 || test_noise ? sigma * e : 0.0));
    }
  }
  *train = sets[0];
  if (test != NULL)
    *test = sets[1];
  return IR_OK;
}

int ir_data_curve_1d(size_t n, size_t ntest, double sigma, int test_noise,
                     gsl_rng *r, ir_dataset **train, ir_dataset **test) {
  return ir_data_target_1d(ir_data_curve_1d_f, "1-D curve", n, ntest, sigma,
                           test_noise, r, train, test);
}

double ir_data_step_1d_f(double x) {
  return x < 0 ? -1.0 : 1.0;
}

int ir_data_step_1d(size_t n, size_t ntest, double sigma, int test_noise,
                    gsl_rng *r, ir_dataset **train, ir_dataset **test) {
  return ir_data_target_1d(ir_data_step_1d_f, "1-D step", n, ntest, sigma,
                           test_noise, r, train, test);
}

/* ---- Linear target on the sphere ----------------------------------------- */

/* A uniform point on the sphere of radius rad in R^d: a normalized Gaussian
 * vector (Muller 1959). */
static void ir_sphere_point(gsl_rng *r, double *x, size_t d, double rad) {
  double ss = 0;
  for (size_t i = 0; i < d; i++) {
    x[i] = gsl_ran_gaussian(r, 1.0);
    ss += x[i] * x[i];
  }
  const double f = ss > 0 ? rad / sqrt(ss) : 0.0;
  for (size_t i = 0; i < d; i++)
    x[i] *= f;
}

int ir_data_sphere_teacher(size_t n, size_t ntest, size_t d, double F1,
                           double tau2, gsl_rng *r, ir_dataset **train,
                           ir_dataset **test) {
  *train = NULL;
  *test = NULL;
  if (n == 0 || ntest == 0 || d == 0 || !(F1 >= 0) || !isfinite(F1) ||
      !(tau2 >= 0) || !isfinite(tau2))
    return ir_error(IR_EINVAL,
                    "sphere teacher: n = %zu, ntest = %zu, d = %zu "
                    "must be >= 1, F1 = %g and tau2 = %g finite and >= 0",
                    n, ntest, d, F1, tau2);
  double *beta = malloc(d * sizeof *beta);
  ir_dataset *tr = ir_dataset_alloc(n, d, 1, 0);
  ir_dataset *te = ir_dataset_alloc(ntest, d, 1, 0);
  if (!beta || !tr || !te) {
    free(beta);
    ir_dataset_free(tr);
    ir_dataset_free(te);
    return ir_error(IR_ENOMEM, "out of memory (sphere teacher)");
  }
  ir_sphere_point(r, beta, d, F1);
  const double tau = sqrt(tau2);
  ir_dataset *sets[2] = {tr, te};
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < sets[k]->n; i++) {
      double *x = sets[k]->X->data + i * sets[k]->X->tda;
      ir_sphere_point(r, x, d, sqrt((double)d));
      double y = 0;
      for (size_t j = 0; j < d; j++)
        y += beta[j] * x[j];
      if (k == 0)
        y += tau * gsl_ran_gaussian(r, 1.0);
      gsl_matrix_set(sets[k]->Y, i, 0, y);
    }
  free(beta);
  *train = tr;
  *test = te;
  return IR_OK;
}
