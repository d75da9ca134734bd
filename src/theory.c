/* theory.c — closed forms: the GD trajectory from the SVD, the
 * ridgeless/ridge risk of isotropic least squares, the Marchenko–Pastur law
 * and the ridgeless random-features risk of Mei & Montanari. */
#include "implreg/theory.h"

#include "implreg/minnorm.h"
#include "implreg/status.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_math.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
  if (isnan(eta) || isnan(beta) || isnan(lambda))
    return NAN;
  const double x = eta * lambda, a = 1 + beta - x;
  if (beta < 0) {
    /* β < 0: real roots of opposite signs, disc = a² + 4|β| > 0 (hypot
     * does not overflow); NaN stays NaN. */
    return 0.5 * fabs(a) + 0.5 * hypot(a, 2 * sqrt(-beta));
  }
  /* disc = a² − 4β = (a − 2√β)(a + 2√β) = (x − ℓ₋)(x − ℓ₊) with
   * ℓ± = (1 ± √β)²: the factored form does not overflow for huge ηλ (a²
   * would beyond 1e154), and ℓ₋ = ((1 − β)/(1 + √β))² keeps its relative
   * accuracy as β → 1. */
  const double rb = sqrt(beta), dm = (1 - beta) / (1 + rb);
  const double f1 = x - dm * dm, f2 = x - (1 + rb) * (1 + rb);
  if ((f1 > 0 && f2 < 0) || (f1 < 0 && f2 > 0))
    return rb; /* complex roots of modulus √β */
  /* Real roots (a ± √disc)/2; the larger modulus has the sign of a. */
  return 0.5 * fabs(a) + 0.5 * (sqrt(fabs(f1)) * sqrt(fabs(f2)));
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
  /* 1 − 1/γ as (γ − 1)/γ: γ − 1 is exact near γ = 1 (Sterbenz), whereas
   * the rounding of 1/γ would cost eps/(γ − 1) relative. */
  double B, V;
  if (gamma < 1) {
    B = 0;
    V = sigma2 * (gamma / (1 - gamma));
  } else if (gamma > 1) {
    B = r2 * ((gamma - 1) / gamma);
    V = sigma2 / (gamma - 1);
  } else {
    B = 0;
    V = INFINITY;
  }
  if (!isfinite(B) || (!isfinite(V) && gamma != 1))
    return ir_error(IR_EDOM,
                    "ridgeless risk at gamma = %g, r2 = %g, sigma2 = %g "
                    "exceeds double precision (rescale r2 and sigma2)",
                    gamma, r2, sigma2);
  *bias = B;
  *var = V;
  return IR_OK;
}

int ir_theory_hastie_exact(size_t n, size_t p, double r2, double sigma2,
                           double *bias, double *var) {
  if (n == 0 || p == 0)
    return ir_error(IR_EDOM, "n = %zu and p = %zu must be >= 1", n, p);
  int s = ir_check_r2s2(r2, sigma2);
  if (s != IR_OK)
    return s;
  /* Differences of the integers are formed exactly in size_t (n + 2 and
   * p + 2 could wrap around; 1 − n/p would round n/p first, costing
   * eps·p/(p − n) relative), then converted with one rounding each. */
  const double dn = (double)n, dp = (double)p;
  double B, V;
  int finite = 1; /* p <= n − 2 or p >= n + 2: V is finite */
  if (n >= 2 && p <= n - 2) {
    B = 0;
    V = sigma2 * (dp / (double)(n - p - 1));
  } else if (p >= 2 && n <= p - 2) {
    B = r2 * ((double)(p - n) / dp);
    V = sigma2 * (dn / (double)(p - n - 1));
  } else {
    B = p > n ? r2 * ((double)(p - n) / dp) : 0;
    V = INFINITY;
    finite = 0;
  }
  if (!isfinite(B) || (!isfinite(V) && finite))
    return ir_error(IR_EDOM,
                    "finite-n risk at n = %zu, p = %zu, r2 = %g, sigma2 = %g "
                    "exceeds double precision (rescale r2 and sigma2)",
                    n, p, r2, sigma2);
  *bias = B;
  *var = V;
  return IR_OK;
}

/* The Marchenko–Pastur Stieltjes transform at z = −λ and the two ridge
 * integrals, in a form without cancellation, overflow or division by a
 * vanishing quantity for every finite γ > 0 and λ > 0.
 *
 * With b = 1 − γ + λ, c = 1 − γ − λ and D = √(b² + 4γλ) = √(c² + 4λ) (the
 * two agree: b² − c² = 4λ(1 − γ)), the root of γλm² + bm − 1 = 0 is
 *   m = 2/(b + D)          (b >= 0),   λm = (D − b)/(2γ)   (b < 0),
 * each a sum of non-negative terms.  Differentiating the quadratic gives
 * m′ = m(1 + γm)/D (2γλm + b = D), hence the bias integral
 *   λ²m′ = ∫λ²/(x + λ)² dμ = q(λ + γq)/D,   q = λm = ∫λ/(x + λ) dμ ∈ (0, 1],
 * and the variance integral, whose textbook form m − λm′ cancels two terms
 * of size (1 − 1/γ)/λ when γ > 1 and λ → 0 (relative error eps/λ: 1e-4 at
 * λ = 1e-12, a negative variance below 1e-16):
 *   γ(m − λm′) = γ∫x/(x + λ)² dμ = γm(D + c)/(2D),
 * where D + c = 4λ/(D − c) when c < 0 (D² − c² = 4λ), so that
 *   γ(m − λm′) = 2γq/(D(D − c))   (c < 0),
 * again free of cancellation and of 1/λ.  Everything is computed from the
 * halves h = b/2, k = c/2, E = D/2 = hypot(h, √γ·√λ), which cannot
 * overflow for λ up to DBL_MAX (D² and λ² would beyond 1e154); m itself
 * (≈ (1 − 1/γ)/λ for γ > 1) is formed only when asked for. */
typedef struct {
  double q;     /* λ·m(−λ) */
  double m;     /* m(−λ) (+Inf when beyond double precision) */
  double bias1; /* λ²m′(−λ) */
  double var1;  /* γ[m(−λ) − λm′(−λ)] */
  double h, E;  /* b/2 and D/2 */
} ir_mp_point;

static void ir_mp_point_eval(double gamma, double lambda, ir_mp_point *o) {
  const double h = 0.5 * (1 - gamma) + 0.5 * lambda;
  const double k = 0.5 * (1 - gamma) - 0.5 * lambda;
  const double E = hypot(h, sqrt(gamma) * sqrt(lambda));
  o->h = h;
  o->E = E;
  if (h >= 0) {
    const double den = h + E; /* (b + D)/2 */
    o->m = 1 / den;
    o->q = lambda / den;
  } else {
    o->q = (E - h) / gamma; /* (D + |b|)/(2γ) */
    o->m = o->q / lambda;
  }
  o->bias1 = o->q * ((0.5 * lambda + 0.5 * gamma * o->q) / E);
  if (k >= 0) /* then h >= k >= 0 and m = 1/(h + E) is finite */
    o->var1 = gamma * o->m * ((E + k) / (2 * E));
  else
    o->var1 = 0.5 * ((gamma * o->q / E) / (E - k));
}

static int ir_check_gamma_lambda(double gamma, double lambda) {
  if (!(gamma > 0) || !isfinite(gamma) || !(lambda > 0) || !isfinite(lambda))
    return ir_error(IR_EDOM,
                    "Stieltjes transform needs finite gamma > 0 and lambda > 0 "
                    "(got %g, %g)",
                    gamma, lambda);
  return IR_OK;
}

int ir_theory_mp_stieltjes(double gamma, double lambda, double *m, double *dm) {
  int s = ir_check_gamma_lambda(gamma, lambda);
  if (s != IR_OK)
    return s;
  ir_mp_point pt;
  ir_mp_point_eval(gamma, lambda, &pt);
  /* m′ = m(1 + γm)/D where m is bounded (b >= 0); for b < 0 (γ > 1 + λ),
   * where m ≈ (1 − 1/γ)/λ, as (λ²m′)/λ² in two divisions: it exceeds
   * double precision for λ below about 1e-154. */
  const double d = pt.h >= 0 ? pt.m * ((1 + gamma * pt.m) / (2 * pt.E))
                             : (pt.bias1 / lambda) / lambda;
  if (!isfinite(pt.m) || (dm != NULL && !isfinite(d)))
    return ir_error(IR_EDOM,
                    "Stieltjes transform at gamma = %g, lambda = %g: m = %g "
                    "or m' = %g exceeds double precision (the ridge risk "
                    "terms are finite there)",
                    gamma, lambda, pt.m, d);
  *m = pt.m;
  if (dm != NULL)
    *dm = d;
  return IR_OK;
}

/* The two ridge terms r²λ²m′ and σ²γ(m − λm′) from ir_mp_point_eval. */
static int ir_ridge_terms(double gamma, double lambda, double r2,
                          double sigma2, double *bias, double *var) {
  int s = ir_check_r2s2(r2, sigma2);
  if (s == IR_OK)
    s = ir_check_gamma_lambda(gamma, lambda);
  if (s != IR_OK)
    return s;
  ir_mp_point pt;
  ir_mp_point_eval(gamma, lambda, &pt);
  const double B = r2 * pt.bias1, V = sigma2 * pt.var1;
  if (!isfinite(B) || !isfinite(V) || !isfinite(B + V))
    return ir_error(IR_EDOM,
                    "ridge risk at gamma = %g, lambda = %g, r2 = %g, sigma2 = "
                    "%g exceeds double precision (rescale r2 and sigma2)",
                    gamma, lambda, r2, sigma2);
  *bias = B;
  *var = V;
  return IR_OK;
}

int ir_theory_ridge_risk(double gamma, double lambda, double r2, double sigma2,
                         double *risk) {
  double B, V;
  int s = ir_ridge_terms(gamma, lambda, r2, sigma2, &B, &V);
  if (s == IR_OK)
    *risk = B + V;
  return s;
}

int ir_theory_ridge_optimal(double gamma, double r2, double sigma2,
                            double *lambda, double *risk) {
  if (!(r2 > 0) || !(sigma2 > 0) || !isfinite(r2) || !isfinite(sigma2) ||
      !(gamma > 0) || !isfinite(gamma))
    return ir_error(IR_EDOM, "optimal ridge needs finite r2 > 0, sigma2 > 0 "
                             "and gamma > 0 (got %g, %g, %g)",
                    r2, sigma2, gamma);
  const double l = sigma2 * (gamma / r2);
  if (!(l > 0) || !isfinite(l))
    return ir_error(IR_EDOM,
                    "optimal ridge lambda* = sigma2 gamma/r2 = %g (sigma2 = "
                    "%g, gamma = %g, r2 = %g) is outside double precision",
                    l, sigma2, gamma, r2);
  /* R(λ*) = σ²γm(−λ*) analytically; the sum of the two non-negative terms
   * is computed instead, because m alone overflows where λ* is tiny. */
  double B, V;
  int s = ir_ridge_terms(gamma, l, r2, sigma2, &B, &V);
  if (s != IR_OK)
    return s;
  *lambda = l;
  *risk = B + V;
  return IR_OK;
}

int ir_theory_ridge_terms(double gamma, double lambda, double r2, double sigma2,
                          double *bias, double *var) {
  /* The same helper as ir_theory_ridge_risk, so that bias + var reproduces
   * its risk exactly. */
  return ir_ridge_terms(gamma, lambda, r2, sigma2, bias, var);
}

int ir_theory_hastie_gamma_star(double r2, double sigma2, double *gamma_star,
                                double *risk) {
  if (!isfinite(r2) || !isfinite(sigma2) || !(sigma2 > 0) || !(r2 > sigma2))
    return ir_error(IR_EDOM,
                    "gamma* needs finite r2 > sigma2 > 0 (SNR > 1; got r2 = "
                    "%g, sigma2 = %g): otherwise the ridgeless risk decreases "
                    "towards r2 as gamma grows",
                    r2, sigma2);
  /* R(γ) = r²(1 − 1/γ) + σ²/(γ − 1) has R′(γ) = r²/γ² − σ²/(γ − 1)², zero
   * where (γ − 1)/γ = 1/√SNR; there 1 − 1/γ = 1/√SNR and γ − 1 =
   * 1/(√SNR − 1), so R = r²/√SNR + σ²(√SNR − 1) = σ²(2√SNR − 1). */
  /* s = √r²/√σ² cannot overflow as r²/σ² could.  Near SNR = 1, s − 1
   * would inherit the rounding of s (relative error eps/(s − 1) in γ*);
   * there s − 1 = (r² − σ²)/(σ²(s + 1)), and r² − σ² is exact for
   * r² <= 2σ² (Sterbenz). */
  const double s = sqrt(r2) / sqrt(sigma2);
  const double g = s >= 2 ? s / (s - 1) : s * (s + 1) * (sigma2 / (r2 - sigma2));
  const double R = sigma2 * (2 * s - 1);
  if (!isfinite(g) || (risk != NULL && !isfinite(R)))
    return ir_error(IR_EDOM,
                    "gamma* at r2 = %g, sigma2 = %g exceeds double precision",
                    r2, sigma2);
  *gamma_star = g;
  if (risk != NULL)
    *risk = R;
  return IR_OK;
}

/* ---- Marchenko–Pastur law
 * ---------------------------------------------------------- */

static int ir_check_gamma(double gamma) {
  if (!(gamma > 0) || !isfinite(gamma))
    return ir_error(IR_EDOM, "gamma = %g must be finite and > 0", gamma);
  return IR_OK;
}

int ir_theory_mp_edges(double gamma, double *lo, double *hi) {
  int s = ir_check_gamma(gamma);
  if (s != IR_OK)
    return s;
  const double r = sqrt(gamma);
  /* (1 − √γ)² written as ((1 − γ)/(1 + √γ))²: 1 − γ is exact near γ = 1
   * (Sterbenz), whereas 1 − √γ would carry the rounding of √γ, relatively
   * large when the edge is small. */
  const double d = (1 - gamma) / (1 + r);
  *lo = d * d;
  *hi = (1 + r) * (1 + r);
  return IR_OK;
}

/* The distances x − λ₋ and λ₊ − x from x to the edges of the support,
 * accurate to a few eps·√γ (not eps·λ±, which is far larger when γ is
 * small or large and the support is narrow relative to its position):
 * with u = x − (1 + γ) formed with the exact sum 1 + γ (TwoSum),
 * λ₊ − x = 2√γ − u and x − λ₋ = 2√γ + u.  Where λ₋ < 2√γ (γ near 1, λ₋
 * near 0) x − λ₋ itself is the more accurate. */
static void mp_edge_distances(double gamma, double x, double lo, double *dlo,
                              double *dhi) {
  const double s = 1 + gamma, bb = s - 1;
  const double serr = (1 - (s - bb)) + (gamma - bb); /* 1 + γ = s + serr */
  const double u = (x - s) - serr, r2 = 2 * sqrt(gamma);
  *dhi = r2 - u;
  *dlo = lo < r2 ? x - lo : r2 + u;
}

double ir_theory_mp_density(double gamma, double x) {
  double lo, hi, dlo, dhi;
  if (isnan(x) || ir_theory_mp_edges(gamma, &lo, &hi) != IR_OK)
    return NAN;
  /* Inside or outside by the accurate distances, not by the rounded edges:
   * for γ = 1e-300 both edges round to 1, yet the density at 1 is 3e149.
   * (At a rounded edge the density is then 0 or tiny, within the
   * conditioning |d log ρ/d log x| ~ x/(2·distance) there.) */
  if (!(x > 0))
    return 0.0;
  mp_edge_distances(gamma, x, lo, &dlo, &dhi);
  if (!(dlo > 0 && dhi > 0))
    return 0.0;
  /* Split so that nothing overflows for huge γ (the product of the two
   * distances, or 2πγx, would beyond 1e154). */
  return (sqrt(dhi) / (2 * M_PI * gamma)) * (sqrt(dlo) / x);
}

double ir_theory_mp_atom(double gamma) {
  if (ir_check_gamma(gamma) != IR_OK)
    return NAN;
  /* (γ − 1)/γ rather than 1 − 1/γ: exact numerator near γ = 1. */
  return gamma > 1 ? (gamma - 1) / gamma : 0.0;
}

/* ∫_{λ₋}^{min(x, λ₊)} t^k ρ(t) dt by the substitution t = c − r cos φ
 * (c, r the centre and half-width of the support), which turns the
 * square-root edges into a smooth integrand in φ; the midpoint rule on
 * [0, φ(x)] then converges geometrically on the whole support (and
 * algebraically, at about 1e-10 with m = 4000, when x cuts it). */
static double mp_integral(double gamma, double x, int k) {
  double lo, hi;
  if (ir_theory_mp_edges(gamma, &lo, &hi) != IR_OK)
    return NAN;
  if (!(x > lo))
    return 0.0;
  const double c = (lo + hi) / 2, r = (hi - lo) / 2;
  const double top = x >= hi ? M_PI : acos((c - x) / r);
  const size_t m = 4000;
  double sum = 0;
  for (size_t i = 0; i < m; i++) {
    const double ph = top * ((double)i + 0.5) / (double)m;
    const double t = c - r * cos(ph);
    sum += pow(t, k) * ir_theory_mp_density(gamma, t) * r * sin(ph);
  }
  return sum * top / (double)m;
}

/* sin²φ/(c − r cos φ), the density in the angle of mp_cdf. */
static double mp_cdf_integrand(double phi, void *p) {
  const double *cr = p, s = sin(phi);
  return s * s / (cr[0] - cr[1] * cos(phi));
}

/* P(λ <= x).  With c = 1 + γ, r = 2√γ (centre and half-width of the
 * support) and x = c − r cos θ, the density becomes ρ dx =
 * (2/π)·sin²φ/(c − r cos φ) dφ (r² = 4γ).  θ = atan2(√((x − λ₋)(λ₊ − x)),
 * (1 + γ) − x) from the accurate distances to the edges.
 * Where ρ = r/c = 2√γ/(1 + γ) > 0.2 (0.0102 < γ < 98), in closed form:
 * sin²φ = (c − r cos φ)(cos φ/r + c/r²) + 1 − c²/r² with c² − r² =
 * λ₋λ₊ = (1 − γ)², and atan(kt) − θ/2 = atan((k − 1)t/(1 + kt²)) for
 * t = tan(θ/2), k = √(λ₊/λ₋), give
 *   F(θ) = [r sin θ + 2 min(1, γ)θ − 2|1 − γ|·atan((k − 1)t/(1 + kt²))]/(2πγ)
 * (the last term is 0 when γ = 1, λ₋ = 0).  Its terms cancel by a factor of
 * about 1/ρ, so elsewhere (narrow supports) the integrand, analytic in a
 * strip of half-width acosh(1/ρ) >= 2.3, is integrated by 32-point
 * Gauss–Legendre (error far below eps).  The error is a few eps absolute,
 * not relative: near λ₋, F ~ θ³ is not resolved relatively. */
double ir_theory_mp_cdf(double gamma, double x) {
  double lo, hi, dlo, dhi;
  if (isnan(x) || ir_theory_mp_edges(gamma, &lo, &hi) != IR_OK)
    return NAN;
  if (x < 0)
    return 0.0;
  const double atom = ir_theory_mp_atom(gamma);
  mp_edge_distances(gamma, x, lo, &dlo, &dhi);
  if (!(dlo > 0))
    return atom;
  if (!(dhi > 0))
    return 1.0;
  const double r = 2 * sqrt(gamma), c = 1 + gamma;
  const double th = atan2(sqrt(dlo) * sqrt(dhi), 0.5 * (dhi - dlo));
  double F;
  if (r > 0.2 * c) {
    double at = 0;
    if (lo > 0) {
      const double t = tan(0.5 * th), k = sqrt(hi / lo);
      /* k − 1 = (√λ₊ − √λ₋)/√λ₋ = 2 min(1, √γ)/|1 − √γ| */
      const double rg = sqrt(gamma);
      const double km1 = 2 * fmin(1.0, rg) / fabs(1 - rg);
      at = isinf(t) ? 0.0 : atan(km1 * t / (1 + k * t * t));
    }
    F = (r * sin(th) + 2 * fmin(1.0, gamma) * th - 2 * fabs(1 - gamma) * at) /
        (2 * M_PI * gamma);
  } else {
    gsl_integration_glfixed_table *tab = gsl_integration_glfixed_table_alloc(32);
    if (tab == NULL)
      return NAN;
    double cr[2] = {c, r};
    gsl_function fn = {mp_cdf_integrand, cr};
    F = (2 / M_PI) * gsl_integration_glfixed(&fn, 0.0, th, tab);
    gsl_integration_glfixed_table_free(tab);
  }
  return fmin(1.0, atom + fmax(0.0, F));
}

double ir_theory_mp_density_moment(double gamma, int k) {
  if (k < 0 || ir_check_gamma(gamma) != IR_OK)
    return NAN;
  return mp_integral(gamma, INFINITY, k) + (k == 0 ? ir_theory_mp_atom(gamma)
                                                   : 0.0);
}

double ir_theory_mp_moment(double gamma, int k) {
  if (k < 0 || ir_check_gamma(gamma) != IR_OK)
    return NAN;
  if (k == 0)
    return 1.0;
  /* Narayana: Σ_{j<k} t_j, t_j = C(k, j) C(k, j+1) γ^j / k, with t_0 = 1
   * and t_j/t_{j−1} = γ(k − j)(k − j + 1)/(j(j + 1)).  The terms are formed
   * by that recursion rather than from the binomials, which overflow for
   * k beyond ~500 (Inf·0 = NaN when γ^j underflows).  They are log-concave
   * in j, so once past their peak a term that underflows to 0 stays
   * negligible.  All terms are positive: relative error <= ~3k·eps.  The
   * result is +Inf when the moment exceeds double precision. */
  double sum = 1, t = 1;
  for (int j = 1; j < k; j++) {
    t *= gamma * ((double)(k - j) * (double)(k - j + 1)) /
         ((double)j * (double)(j + 1));
    sum += t;
  }
  return sum;
}

/* ---- Random features (Mei & Montanari, arXiv:1908.05355)
 * ---------------------------- */

static double ir_act_relu(double x, void *p) {
  (void)p;
  return x > 0 ? x : 0.0;
}

static double ir_act_abs(double x, void *p) {
  (void)p;
  return fabs(x);
}

static double ir_act_tanh(double x, void *p) {
  (void)p;
  return tanh(x);
}

static double ir_act_sigmoid(double x, void *p) {
  (void)p;
  return 1 / (1 + exp(-x));
}

static double ir_act_softplus(double x, void *p) {
  (void)p;
  /* log(1 + eˣ) = x + log(1 + e⁻ˣ): the second form for x > 0 never
   * overflows. */
  return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static double ir_act_gelu(double x, void *p) {
  (void)p;
  /* The exact GELU x·Φ(x) (Hendrycks & Gimpel, arXiv:1606.08415), not its
   * tanh approximation; erfc keeps Φ accurate in the lower tail. */
  return 0.5 * x * erfc(-x / M_SQRT2);
}

static double ir_act_erf(double x, void *p) {
  (void)p;
  return erf(x);
}

static double ir_act_linear(double x, void *p) {
  (void)p;
  return x;
}

static const struct {
  const char *name;
  ir_activation f;
} ir_activations[] = {
    {"relu", ir_act_relu},         {"abs", ir_act_abs},
    {"tanh", ir_act_tanh},         {"sigmoid", ir_act_sigmoid},
    {"softplus", ir_act_softplus}, {"gelu", ir_act_gelu},
    {"erf", ir_act_erf},           {"linear", ir_act_linear},
};

#define IR_NACT (sizeof ir_activations / sizeof ir_activations[0])

const char *ir_theory_rf_activation_names(void) {
  return "relu, abs, tanh, sigmoid, softplus, gelu, erf, linear";
}

int ir_theory_rf_activation(const char *name, ir_activation *sigma) {
  for (size_t i = 0; name != NULL && i < IR_NACT; i++)
    if (strcmp(name, ir_activations[i].name) == 0) {
      *sigma = ir_activations[i].f;
      return IR_OK;
    }
  return ir_error(IR_EINVAL, "unknown activation '%s' (expected one of: %s)",
                  name ? name : "(null)", ir_theory_rf_activation_names());
}

/* Which Gaussian moment ir_rf_integrand computes. */
enum { IR_MOM_MEAN, IR_MOM_FIRST, IR_MOM_SECOND, IR_MOM_RESIDUAL };

/* Their names in error messages, in the order of the enum. */
static const char *const ir_mom_names[] = {"E sigma(G)", "E G sigma(G)",
                                           "E sigma(G)^2",
                                           "E (sigma(G) - mu0 - mu1 G)^2"};

typedef struct {
  ir_activation f;
  void *params;
  int kind;
  double mu0, mu1; /* for IR_MOM_RESIDUAL */
} ir_rf_moment;

/* The integrand of one moment, times the standard normal density. */
static double ir_rf_integrand(double x, void *arg) {
  const ir_rf_moment *m = arg;
  const double phi = exp(-0.5 * x * x) / sqrt(2 * M_PI);
  /* Far in the tails φ underflows to 0; returning 0 there avoids 0·Inf for
   * activations that grow fast. */
  if (phi == 0)
    return 0.0;
  const double s = m->f(x, m->params);
  switch (m->kind) {
  case IR_MOM_MEAN: return s * phi;
  case IR_MOM_FIRST: return x * s * phi;
  case IR_MOM_SECOND: return s * s * phi;
  default: {
    const double r = s - m->mu0 - m->mu1 * x;
    return r * r * phi;
  }
  }
}

/* Target relative accuracy of each half-line integral; the Gauss–Kronrod
 * rules reach it for smooth integrands with a few dozen subintervals. */
#define IR_RF_EPSREL 1e-12
/* Subintervals the adaptive quadrature may use. */
#define IR_RF_LIMIT 1000

/* ∫ over ℝ as (−∞, 0] + [0, ∞): the split puts ReLU's kink at an endpoint
 * of both pieces, where the adaptive rules converge fast. */
static int ir_rf_integrate(ir_rf_moment *m, int kind, double epsabs,
                           gsl_integration_workspace *w, double *out) {
  m->kind = kind;
  gsl_function F = {ir_rf_integrand, m};
  double lo, hi, elo, ehi;
  int g = gsl_integration_qagil(&F, 0.0, epsabs, IR_RF_EPSREL, IR_RF_LIMIT, w,
                                &lo, &elo);
  if (g == 0)
    g = gsl_integration_qagiu(&F, 0.0, epsabs, IR_RF_EPSREL, IR_RF_LIMIT, w,
                              &hi, &ehi);
  if (g != 0)
    return ir_error(IR_ENOCONV,
                    "activation coefficients: the quadrature of %s failed "
                    "(GSL: %s); is the activation finite with a finite "
                    "Gaussian second moment?",
                    ir_mom_names[kind], gsl_strerror(g));
  *out = lo + hi;
  if (!isfinite(*out))
    return ir_error(IR_EBADDATA, "activation coefficients: %s is not finite",
                    ir_mom_names[kind]);
  return IR_OK;
}

int ir_theory_rf_coeffs(ir_activation sigma, void *params, ir_rf_coeffs *c) {
  if (sigma == NULL)
    return ir_error(IR_EINVAL, "activation coefficients: NULL activation");
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(IR_RF_LIMIT);
  if (w == NULL)
    return ir_error(IR_ENOMEM, "out of memory (activation coefficients)");
  ir_rf_moment m = {sigma, params, 0, 0.0, 0.0};
  double m2 = 0, mu0 = 0, mu1 = 0, res = 0;
  /* E σ² first: by Cauchy–Schwarz it bounds |μ0|, |μ1| by √(E σ²) and μ*²
   * by E σ², so it sets the absolute accuracy the other moments need
   * (a relative target alone cannot be met by moments that vanish, such as
   * μ0 of an odd activation). */
  int s = ir_rf_integrate(&m, IR_MOM_SECOND, 0.0, w, &m2);
  const double scale = sqrt(m2);
  if (s == IR_OK)
    s = ir_rf_integrate(&m, IR_MOM_MEAN, IR_RF_EPSREL * scale, w, &mu0);
  if (s == IR_OK)
    s = ir_rf_integrate(&m, IR_MOM_FIRST, IR_RF_EPSREL * scale, w, &mu1);
  if (s == IR_OK) {
    /* μ*² = E σ² − μ0² − μ1² is the squared distance of σ from span{1, G}
     * in L²(N(0, 1)) (1 and G are orthonormal there): integrating that
     * distance directly avoids the cancellation of the difference, which
     * would leave only a few correct digits for a nearly linear σ. */
    m.mu0 = mu0;
    m.mu1 = mu1;
    /* Errors δ0, δ1 in μ0, μ1 add only δ0² + δ1² to this integral (the
     * residual is orthogonal to 1 and G).  The absolute target need only
     * resolve residuals above the threshold IR_RF_LINEAR_TOL·E σ² below
     * which σ counts as linear; above it the relative target governs. */
    s = ir_rf_integrate(&m, IR_MOM_RESIDUAL,
                        IR_RF_EPSREL * IR_RF_LINEAR_TOL * m2, w, &res);
  }
  gsl_integration_workspace_free(w);
  if (s != IR_OK)
    return s;
  /* Below IR_RF_LINEAR_TOL·E σ² the residual is quadrature noise. */
  if (res <= IR_RF_LINEAR_TOL * m2)
    res = 0;
  if (res == 0 && mu1 * mu1 <= IR_RF_LINEAR_TOL * m2)
    return ir_error(IR_EDOM,
                    "the activation is constant almost everywhere (mu1 = "
                    "mu* = 0): zeta is undefined");
  c->mu0 = mu0;
  c->mu1 = mu1;
  c->m2 = m2;
  c->mustar = sqrt(res);
  c->zeta = res > 0 ? mu1 / c->mustar : copysign(INFINITY, mu1);
  return IR_OK;
}

/* Mei & Montanari's ridgeless formula, with u = χζ² so that every term of
 * docs/theory.md §3 is a product of powers of χ and u (χ⁵ζ⁶ = χ²u³,
 * χ⁴ζ⁴ = χ²u², χ³ζ⁶ = u³, χ³ζ⁴ = χu², χ³ζ² = χ²u, χ²ζ⁴ = u², χ²ζ² = χu,
 * χζ² = u), which stay finite at ζ = 0 (then u = 0).
 *
 * E0 is computed in factored form.  Its coefficients are symmetric in
 * (ψ1, ψ2) and affine in each, and χ depends only on ψ = min(ψ1, ψ2).  One
 * checks by expanding that E0 + E2 = ψ2·D(ψ1) with
 *   D(ψ) = (ψ − 1)u³ + (1 − 3ψ)u² + 3ψu − ψ,
 * and E0 vanishes on ψ1 = ψ2 (there χ solves ζ²χ² + (ψζ² − ζ² − 1)χ − ψ
 * = 0; checked to 50 digits, and by the unit tests), so
 * E0 = |ψ1 − ψ2|·D(ψ).  The expanded E0 is a sum of terms that stay of
 * order one while E0 → 0 at the peak, so it loses ~1/|ψ1 − ψ2| of its
 * relative accuracy there; the factored form loses none and is exactly 0
 * at ψ1 = ψ2.  (A by-product: for ψ1 < ψ2, E2 = ψ1·D, so E2/E0 =
 * ψ1/(ψ2 − ψ1) whatever ζ, the variance of least squares on N features.)
 *
 * Why μ* = 0 is refused rather than handled as the limit ζ → ∞: with
 * σ(x) = x the features XΘᵀ/√d have rank min(N, n, d), and for
 * ψ1 > ψ2 > 1 the ridgeless fit is ordinary least squares on x, whose
 * variance term is τ²/(ψ2 − 1); the formula tends instead to
 * E2/E0 → [(ψ2 − 1)² + ψ1 − 1]/[(ψ2 − 1)(ψ1 − ψ2)] (13/14 rather than 1/2
 * at ψ1 = 10, ψ2 = 3): for any μ* > 0 the N features have full rank and the
 * interpolant uses them all.  For ψ1 < min(1, ψ2) the limits agree: the
 * formula tends to least squares on the N random directions. */
int ir_theory_mei_montanari(double zeta, double psi1, double psi2, double F1,
                            double Fstar, double tau2, ir_rf_risk *r) {
  if (!(psi1 > 0) || !(psi2 > 0) || !isfinite(psi1) || !isfinite(psi2))
    return ir_error(IR_EDOM, "psi1 = %g and psi2 = %g must be finite and > 0",
                    psi1, psi2);
  if (!(F1 >= 0) || !(Fstar >= 0) || !(tau2 >= 0) || !isfinite(F1) ||
      !isfinite(Fstar) || !isfinite(tau2))
    return ir_error(IR_EDOM,
                    "F1 = %g, Fstar = %g and tau2 = %g must be finite and >= 0",
                    F1, Fstar, tau2);
  if (isinf(zeta))
    return ir_error(IR_EDOM,
                    "zeta = mu1/mu* is infinite (mu* = 0, a linear "
                    "activation): the ridgeless random-features formula "
                    "needs a nonlinear activation");
  if (!(fabs(zeta) <= IR_RF_ZETA_MAX))
    return ir_error(IR_EDOM, "zeta = %g must be finite with |zeta| <= %g", zeta,
                    IR_RF_ZETA_MAX);
  const double z2 = zeta * zeta;
  const double psi = fmin(psi1, psi2);
  const double a = (psi - 1) * z2 - 1;
  const double disc = sqrt(a * a + 4 * psi * z2);
  /* χ is the negative root of ζ²χ² + aχ − ψ = 0.  For a < 0 the textbook
   * form −(a + disc)/(2ζ²) cancels (and is 0/0 at ζ = 0); the product of the
   * roots, −ψ/ζ², gives the equivalent −2ψ/(disc − a) without cancellation. */
  const double chi = a >= 0 ? -(a + disc) / (2 * z2) : -2 * psi / (disc - a);
  const double u = chi * z2, c2 = chi * chi;
  const double u2 = u * u, u3 = u2 * u;
  const double E1 = psi2 * (chi * u2 - chi * u + psi1 * u - psi1);
  const double E2 = c2 * u3 - 3 * c2 * u2 + (psi1 - 1) * u3 + 2 * chi * u2 +
                    3 * c2 * u - (psi1 + 1) * u2 - 2 * chi * u - c2;
  const double D = (psi - 1) * u3 + (1 - 3 * psi) * u2 + 3 * psi * u - psi;
  double B = INFINITY, V = INFINITY;
  if (psi1 != psi2) {
    const double E0 = fabs(psi1 - psi2) * D;
    B = E1 / E0;
    V = E2 / E0;
    if (!isfinite(B) || !isfinite(V))
      return ir_error(IR_EDOM,
                      "Mei-Montanari risk at zeta = %g, psi1 = %g, psi2 = %g "
                      "is not representable in double precision",
                      zeta, psi1, psi2);
  }
  const double noise = tau2 + Fstar * Fstar;
  /* At the peak B = V = +Inf; a term whose coefficient is 0 stays 0. */
  r->bias = F1 > 0 ? F1 * F1 * B : 0.0;
  r->variance = noise > 0 ? noise * V : 0.0;
  r->nonlinear = Fstar * Fstar;
  r->risk = r->bias + r->variance + r->nonlinear;
  return IR_OK;
}

/* ---- Constant-step SGD without interpolation --------------------------- */

/* Everything in H's eigenbasis: Z = XQ (n×p), H = diag(lam). */
typedef struct {
  const gsl_matrix *Z;
  const double *lam;
  double eta, invB;
  gsl_matrix *ZS; /* n×p scratch */
  double *q;      /* n */
} sf_ctx;

/* out = HS + SH − η[(1/B)M(S) + (1 − 1/B)HSH] for symmetric S (p×p). */
static void sf_apply(sf_ctx *c, const gsl_matrix *S, gsl_matrix *out) {
  const size_t n = c->Z->size1, p = c->Z->size2;
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, c->Z, S, 0.0, c->ZS);
  for (size_t i = 0; i < n; i++) {
    double qi = 0;
    for (size_t j = 0; j < p; j++)
      qi += gsl_matrix_get(c->ZS, i, j) * gsl_matrix_get(c->Z, i, j);
    c->q[i] = qi;
  }
  /* M = (1/n) Zᵀ diag(q) Z, written into out through ZS = diag(q) Z. */
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < p; j++)
      gsl_matrix_set(c->ZS, i, j, c->q[i] * gsl_matrix_get(c->Z, i, j));
  gsl_blas_dgemm(CblasTrans, CblasNoTrans, -c->eta * c->invB / (double)n,
                 c->Z, c->ZS, 0.0, out);
  for (size_t j = 0; j < p; j++)
    for (size_t k = 0; k < p; k++) {
      const double sjk = gsl_matrix_get(S, j, k);
      const double lj = c->lam[j], lk = c->lam[k];
      gsl_matrix_set(out, j, k,
                     gsl_matrix_get(out, j, k) + (lj + lk) * sjk -
                         c->eta * (1 - c->invB) * lj * sjk * lk);
    }
}

static double sf_dot(const gsl_matrix *A, const gsl_matrix *B) {
  double s = 0;
  for (size_t i = 0; i < A->size1 * A->size2; i++)
    s += A->data[i] * B->data[i];
  return s;
}

int ir_theory_sgd_floor(const gsl_matrix *X, const gsl_matrix *R, double eta,
                        size_t B, double *msd) {
  const size_t n = X->size1, p = X->size2, K = R->size2;
  if (R->size1 != n || B == 0 || !(eta > 0) || n <= p || X->tda != p ||
      R->tda != K)
    return ir_error(IR_EINVAL, "sgd floor: bad arguments (need n > p, "
                               "B >= 1, eta > 0, contiguous matrices)");
  gsl_matrix *H = gsl_matrix_alloc(p, p), *Q = gsl_matrix_alloc(p, p);
  gsl_vector *lam = gsl_vector_alloc(p);
  gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc(p);
  gsl_matrix *Z = gsl_matrix_alloc(n, p), *ZS = gsl_matrix_alloc(n, p);
  gsl_matrix *b = gsl_matrix_calloc(p, p), *x = gsl_matrix_calloc(p, p),
             *r = gsl_matrix_alloc(p, p), *z = gsl_matrix_alloc(p, p),
             *d = gsl_matrix_alloc(p, p), *Ad = gsl_matrix_alloc(p, p);
  double *q = malloc(n * sizeof *q);
  int s = (H && Q && lam && ws && Z && ZS && b && x && r && z && d && Ad && q)
              ? IR_OK
              : ir_error(IR_ENOMEM, "out of memory (sgd floor)");
  if (s == IR_OK) {
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0 / (double)n, X, X, 0.0, H);
    gsl_eigen_symmv(H, lam, Q, ws);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, X, Q, 0.0, Z);
    double lmax = 0;
    for (size_t j = 0; j < p; j++)
      lmax = fmax(lmax, gsl_vector_get(lam, j));
    for (size_t j = 0; j < p; j++)
      if (!(gsl_vector_get(lam, j) > 1e-14 * lmax))
        s = ir_error(IR_EINVAL, "sgd floor: X is rank deficient");
  }
  if (s == IR_OK) {
    /* b = (η/B)·(1/n) Σ_i ‖r_i‖² z_i z_iᵀ. */
    for (size_t i = 0; i < n; i++) {
      double r2 = 0;
      for (size_t k = 0; k < K; k++)
        r2 += gsl_matrix_get(R, i, k) * gsl_matrix_get(R, i, k);
      q[i] = r2;
    }
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < p; j++)
        gsl_matrix_set(ZS, i, j, q[i] * gsl_matrix_get(Z, i, j));
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, eta / (double)B / (double)n, Z,
                   ZS, 0.0, b);
    sf_ctx c = {Z, lam->data, eta, 1.0 / (double)B, ZS, q};
    /* Preconditioned CG: P(S)_jk = S_jk / (λ_j + λ_k). */
    gsl_matrix_memcpy(r, b);
    const double bn = sqrt(sf_dot(b, b));
    double rz = 0;
    for (size_t j = 0; j < p; j++)
      for (size_t k = 0; k < p; k++)
        gsl_matrix_set(z, j, k,
                       gsl_matrix_get(r, j, k) /
                           (lam->data[j] + lam->data[k]));
    gsl_matrix_memcpy(d, z);
    rz = sf_dot(r, z);
    int done = !(bn > 0);
    for (int it = 0; it < 1000 && !done && s == IR_OK; it++) {
      sf_apply(&c, d, Ad);
      const double dAd = sf_dot(d, Ad);
      if (!(dAd > 0)) {
        s = ir_error(IR_EINVAL, "sgd floor: step %g is not stable in mean "
                                "square",
                     eta);
        break;
      }
      const double a = rz / dAd;
      for (size_t i = 0; i < p * p; i++) {
        x->data[i] += a * d->data[i];
        r->data[i] -= a * Ad->data[i];
      }
      if (sqrt(sf_dot(r, r)) <= 1e-13 * bn) {
        done = 1;
        break;
      }
      for (size_t j = 0; j < p; j++)
        for (size_t k = 0; k < p; k++)
          gsl_matrix_set(z, j, k,
                         gsl_matrix_get(r, j, k) /
                             (lam->data[j] + lam->data[k]));
      const double rz2 = sf_dot(r, z);
      const double beta = rz2 / rz;
      rz = rz2;
      for (size_t i = 0; i < p * p; i++)
        d->data[i] = z->data[i] + beta * d->data[i];
    }
    if (s == IR_OK && !done)
      s = ir_error(IR_EINVAL, "sgd floor: conjugate gradients did not "
                              "converge (step too close to instability)");
    if (s == IR_OK) {
      double tr = 0;
      for (size_t j = 0; j < p; j++)
        tr += gsl_matrix_get(x, j, j);
      *msd = tr;
    }
  }
  gsl_matrix *all[10] = {H, Q, Z, ZS, b, x, r, z, d, Ad};
  for (int i = 0; i < 10; i++)
    if (all[i])
      gsl_matrix_free(all[i]);
  if (lam)
    gsl_vector_free(lam);
  if (ws)
    gsl_eigen_symmv_free(ws);
  free(q);
  return s;
}
