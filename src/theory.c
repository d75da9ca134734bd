/* theory.c — closed forms: the GD trajectory from the SVD and the
 * ridgeless/ridge risk of isotropic least squares. */
#include "implreg/theory.h"

#include "implreg/minnorm.h"
#include "implreg/status.h"

#include <gsl/gsl_blas.h>
#include <math.h>
#include <stdlib.h>

struct ir_gd_traj {
  const ir_svd *svd;
  size_t n, p, k, K;
  double eta;
  gsl_matrix *C;  /* k×K: UᵀY */
  gsl_matrix *Z0; /* k×K: VᵀW₀ */
  gsl_matrix *N0; /* p×K: W₀ − VVᵀW₀, the part GD never changes */
  gsl_matrix *Z;  /* k×K scratch */
};

void ir_gd_traj_free(ir_gd_traj *g) {
  if (g == NULL)
    return;
  if (g->C)
    gsl_matrix_free(g->C);
  if (g->Z0)
    gsl_matrix_free(g->Z0);
  if (g->N0)
    gsl_matrix_free(g->N0);
  if (g->Z)
    gsl_matrix_free(g->Z);
  free(g);
}

ir_gd_traj *ir_gd_traj_alloc(const ir_svd *svd, const gsl_matrix *Y,
                             const gsl_matrix *W0, double eta) {
  if (Y->size1 != svd->n ||
      (W0 && (W0->size1 != svd->p || W0->size2 != Y->size2))) {
    ir_error(IR_ESHAPE, "GD trajectory: Y or W0 does not match the SVD");
    return NULL;
  }
  if (!(eta > 0) || !isfinite(eta)) {
    ir_error(IR_EDOM, "GD trajectory: step size %g must be > 0", eta);
    return NULL;
  }
  ir_gd_traj *g = calloc(1, sizeof *g);
  if (g == NULL) {
    ir_error(IR_ENOMEM, "out of memory (GD trajectory)");
    return NULL;
  }
  g->svd = svd;
  g->n = svd->n;
  g->p = svd->p;
  g->k = svd->k;
  g->K = Y->size2;
  g->eta = eta;
  g->C = gsl_matrix_alloc(g->k, g->K);
  g->Z0 = gsl_matrix_calloc(g->k, g->K);
  g->N0 = gsl_matrix_calloc(g->p, g->K);
  g->Z = gsl_matrix_alloc(g->k, g->K);
  if (!g->C || !g->Z0 || !g->N0 || !g->Z) {
    ir_error(IR_ENOMEM, "out of memory (GD trajectory)");
    ir_gd_traj_free(g);
    return NULL;
  }
  gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, svd->U, Y, 0.0, g->C);
  if (W0 != NULL) {
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, svd->Vt, W0, 0.0, g->Z0);
    gsl_matrix_memcpy(g->N0, W0);
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, -1.0, svd->Vt, g->Z0, 1.0, g->N0);
  }
  return g;
}

/* 1 − (1 − a)^t, accurate for small a (t a whole number). */
static double ir_one_minus_pow(double a, double t) {
  if (a < 1)
    return -expm1(t * log1p(-a));
  return 1 - pow(1 - a, t);
}

int ir_gd_traj_at(const ir_gd_traj *g, double t, gsl_matrix *Wt) {
  if (Wt->size1 != g->p || Wt->size2 != g->K)
    return ir_error(IR_ESHAPE, "W_t must be %zux%zu", g->p, g->K);
  if (!(t >= 0) || t != floor(t))
    return ir_error(IR_EDOM, "GD step count %g must be a whole number >= 0", t);
  const double n = (double)g->n;
  for (size_t i = 0; i < g->k; i++) {
    double s = gsl_vector_get(g->svd->s, i);
    for (size_t j = 0; j < g->K; j++) {
      double z0 = gsl_matrix_get(g->Z0, i, j);
      double z = z0;
      if (s > 0) {
        /* z_t = z0 + (1 − (1 − ηs²/n)^t)(c/s − z0). */
        double f = ir_one_minus_pow(g->eta * s * s / n, t);
        z = z0 + f * (gsl_matrix_get(g->C, i, j) / s - z0);
      }
      gsl_matrix_set(g->Z, i, j, z);
    }
  }
  gsl_matrix_memcpy(Wt, g->N0);
  gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, g->svd->Vt, g->Z, 1.0, Wt);
  return IR_OK;
}

int ir_gd_traj_limit(const ir_gd_traj *g, double rcond, gsl_matrix *Winf) {
  if (Winf->size1 != g->p || Winf->size2 != g->K)
    return ir_error(IR_ESHAPE, "W_inf must be %zux%zu", g->p, g->K);
  if (rcond < 0)
    rcond = ir_minnorm_default_rcond(g->n, g->p);
  double cut = rcond * gsl_vector_get(g->svd->s, 0);
  for (size_t i = 0; i < g->k; i++) {
    double s = gsl_vector_get(g->svd->s, i);
    for (size_t j = 0; j < g->K; j++)
      gsl_matrix_set(g->Z, i, j,
                     s > cut && s > 0 ? gsl_matrix_get(g->C, i, j) / s
                                      : gsl_matrix_get(g->Z0, i, j));
  }
  gsl_matrix_memcpy(Winf, g->N0);
  gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, g->svd->Vt, g->Z, 1.0, Winf);
  return IR_OK;
}

double ir_gd_traj_rate(const ir_gd_traj *g) {
  double r = 0;
  for (size_t i = 0; i < g->k; i++) {
    double s = gsl_vector_get(g->svd->s, i);
    if (s > 0)
      r = fmax(r, fabs(1 - g->eta * s * s / (double)g->n));
  }
  return r;
}

double ir_theory_heavy_ball_radius(double eta, double beta, double lambda) {
  const double a = 1 + beta - eta * lambda;
  const double disc = a * a - 4 * beta;
  if (disc < 0)
    return sqrt(beta);
  /* Real roots (a ± √disc)/2; the larger modulus has the sign of a. */
  return (fabs(a) + sqrt(disc)) / 2;
}

double ir_theory_heavy_ball_rate(const ir_svd *svd, double eta, double beta,
                                 double rcond) {
  if (rcond < 0)
    rcond = ir_minnorm_default_rcond(svd->n, svd->p);
  const double cut = rcond * gsl_vector_get(svd->s, 0);
  double r = 0;
  for (size_t i = 0; i < svd->k; i++) {
    double s = gsl_vector_get(svd->s, i);
    if (s > cut && s > 0)
      r = fmax(r,
               ir_theory_heavy_ball_radius(eta, beta, s * s / (double)svd->n));
  }
  return r;
}

double ir_theory_gd_max_lr(double lambda_max) {
  return 2.0 / lambda_max;
}

/* ---- Hastie, Montanari, Rosset, Tibshirani
 * ------------------------------------------ */

static int ir_check_r2s2(double r2, double sigma2) {
  if (!(r2 >= 0) || !(sigma2 >= 0) || !isfinite(r2) || !isfinite(sigma2))
    return ir_error(IR_EDOM, "r2 = %g and sigma2 = %g must be finite and >= 0",
                    r2, sigma2);
  return IR_OK;
}

int ir_theory_hastie(double gamma, double r2, double sigma2, double *bias,
                     double *var) {
  if (!(gamma > 0) || !isfinite(gamma))
    return ir_error(IR_EDOM, "gamma = %g must be finite and > 0", gamma);
  int s = ir_check_r2s2(r2, sigma2);
  if (s != IR_OK)
    return s;
  if (gamma < 1) {
    *bias = 0;
    *var = sigma2 * gamma / (1 - gamma);
  } else if (gamma > 1) {
    *bias = r2 * (1 - 1 / gamma);
    *var = sigma2 / (gamma - 1);
  } else {
    *bias = 0;
    *var = INFINITY;
  }
  return IR_OK;
}

int ir_theory_hastie_exact(size_t n, size_t p, double r2, double sigma2,
                           double *bias, double *var) {
  if (n == 0 || p == 0)
    return ir_error(IR_EDOM, "n = %zu and p = %zu must be >= 1", n, p);
  int s = ir_check_r2s2(r2, sigma2);
  if (s != IR_OK)
    return s;
  const double dn = (double)n, dp = (double)p;
  if (p + 2 <= n) {
    *bias = 0;
    *var = sigma2 * dp / (dn - dp - 1);
  } else if (p >= n + 2) {
    *bias = r2 * (1 - dn / dp);
    *var = sigma2 * dn / (dp - dn - 1);
  } else {
    *bias = p > n ? r2 * (1 - dn / dp) : 0;
    *var = INFINITY;
  }
  return IR_OK;
}

int ir_theory_mp_stieltjes(double gamma, double lambda, double *m, double *dm) {
  if (!(gamma > 0) || !isfinite(gamma) || !(lambda > 0) || !isfinite(lambda))
    return ir_error(IR_EDOM,
                    "Stieltjes transform needs gamma > 0 and lambda > 0 "
                    "(got %g, %g)",
                    gamma, lambda);
  const double z = -lambda;
  const double b = 1 - gamma - z;
  const double disc = sqrt(b * b - 4 * gamma * z);
  /* The two roots of γz m² − b m + 1 = 0 have product 1/(γz) < 0: exactly
   * one is positive, m = (b − disc)/(2γz) = 2/(b + disc).  Each form cancels
   * for one sign of b (b < 0 when γ > 1 + λ): use the other one there. */
  double mm = b >= 0 ? 2 / (b + disc) : (b - disc) / (2 * gamma * z);
  *m = mm;
  if (dm != NULL)
    *dm = -(gamma * mm * mm + mm) / (2 * gamma * z * mm - b);
  return IR_OK;
}

int ir_theory_ridge_risk(double gamma, double lambda, double r2, double sigma2,
                         double *risk) {
  int s = ir_check_r2s2(r2, sigma2);
  if (s != IR_OK)
    return s;
  double m, dm;
  s = ir_theory_mp_stieltjes(gamma, lambda, &m, &dm);
  if (s != IR_OK)
    return s;
  *risk = r2 * lambda * lambda * dm + sigma2 * gamma * (m - lambda * dm);
  return IR_OK;
}

int ir_theory_ridge_optimal(double gamma, double r2, double sigma2,
                            double *lambda, double *risk) {
  if (!(r2 > 0) || !(sigma2 > 0))
    return ir_error(IR_EDOM, "optimal ridge needs r2 > 0 and sigma2 > 0");
  double l = sigma2 * gamma / r2, m;
  int s = ir_theory_mp_stieltjes(gamma, l, &m, NULL);
  if (s != IR_OK)
    return s;
  *lambda = l;
  *risk = sigma2 * gamma * m;
  return IR_OK;
}
