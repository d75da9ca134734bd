/* implreg/theory.h — closed-form predictions the analyses check against.
 *
 * Each function names its source.  Conventions of THEORY.md: n samples, p
 * parameters, γ = p/n, risk = excess test risk (without the noise σ²).
 */
#ifndef IMPLREG_THEORY_H
#define IMPLREG_THEORY_H

#include <gsl/gsl_matrix.h>
#include <stddef.h>

#include "implreg/linalg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- GD on least squares from the SVD (THEORY.md §1)
 * ----------------------------- */

/* For L(W) = (1/2n)‖XW − Y‖_F² and X = U S Vᵀ, GD with step η from W₀ is
 *   W_t = W₀ − VVᵀW₀ + V z_t,  z_t = z* + (I − ηS²/n)^t (VᵀW₀ − z*),
 *   z* = S⁻¹UᵀY  (components with s_i = 0 keep their initial value),
 * i.e. each singular direction converges at rate |1 − η s_i²/n|; from W₀ = 0
 * this is V diag(1 − (1 − η s_i²/n)^t) S⁻¹ UᵀY.  1 − (1 − a)^t is evaluated as
 * −expm1(t·log1p(−a)) for a < 1, so tiny s_i lose no accuracy.
 * Soudry et al. 2018 (arXiv:1710.10345); Gunasekar et al. 2018. */
typedef struct ir_gd_traj ir_gd_traj;

/* Precomputes UᵀY and VᵀW₀ (W0 == NULL: zero) from a computed SVD of X
 * (n rows, used for the 1/n).  The trajectory BORROWS svd: keep it alive.
 * Cost O((n + p)·k·K). */
ir_gd_traj *ir_gd_traj_alloc(const ir_svd *svd, const gsl_matrix *Y,
                             const gsl_matrix *W0, double eta);
void ir_gd_traj_free(ir_gd_traj *g);

/* W_t (p×K) for a whole number of steps t >= 0. Cost O(pkK). */
int ir_gd_traj_at(const ir_gd_traj *g, double t, gsl_matrix *Wt);

/* The limit t → ∞ when every |1 − η s_i²/n| < 1 over the kept directions:
 * X⁺Y + (I − X⁺X)W₀, with singular values <= rcond·s_max treated as zero
 * (rcond < 0: eps·max(n, p)). */
int ir_gd_traj_limit(const ir_gd_traj *g, double rcond, gsl_matrix *Winf);

/* The largest contraction factor max_i |1 − η s_i²/n| over s_i > 0: the
 * linear rate of convergence (>= 1 means no convergence). */
double ir_gd_traj_rate(const ir_gd_traj *g);

/* Spectral radius of heavy-ball momentum (v ← βv + g, θ ← θ − ηv) on a
 * quadratic with curvature λ: the largest |r| over the roots of
 * r² − (1 + β − ηλ)r + β = 0; < 1 iff 0 < ηλ < 2 + 2β (Polyak 1964;
 * THEORY.md §7).  √β when the roots are complex. */
double ir_theory_heavy_ball_radius(double eta, double beta, double lambda);

/* The largest heavy-ball radius over the curvatures λ_i = s_i²/n of the
 * singular values s_i > rcond·s_max of X (rcond < 0: the default): the
 * linear rate at which momentum from 0 approaches X⁺Y. */
double ir_theory_heavy_ball_rate(const ir_svd *svd, double eta, double beta,
                                 double rcond);

/* Stability threshold of GD on a quadratic with Hessian eigenvalue λ_max:
 * η < 2/λ_max (Cohen et al. arXiv:2103.00065, THEORY.md §7). */
double ir_theory_gd_max_lr(double lambda_max);

/* ---- Ridgeless least squares (Hastie et al. arXiv:1903.08560, §2)
 * ----------------- */

/* Asymptotic bias and variance of the min-norm estimator for isotropic
 * Gaussian features, p/n → γ: γ < 1: B = 0, V = σ²γ/(1 − γ); γ > 1:
 * B = r²(1 − 1/γ), V = σ²/(γ − 1); γ = 1: +Inf. IR_EDOM for γ <= 0. */
int ir_theory_hastie(double gamma, double r2, double sigma2, double *bias,
                     double *var);

/* Exact finite-n expectations (Gaussian X): p <= n − 2: B = 0,
 * V = σ²p/(n − p − 1); p >= n + 2: B = r²(1 − n/p), V = σ²n/(p − n − 1);
 * n − 1 <= p <= n + 1: +Inf. */
int ir_theory_hastie_exact(size_t n, size_t p, double r2, double sigma2,
                           double *bias, double *var);

/* Stieltjes transform m(z) of the Marchenko–Pastur law of XᵀX/n with ratio
 * γ (atom 1 − 1/γ at 0 included when γ > 1) at z = −λ < 0, and its
 * derivative m′(z), from γ z m² − (1 − γ − z) m + 1 = 0. */
int ir_theory_mp_stieltjes(double gamma, double lambda, double *m, double *dm);

/* Asymptotic risk of ridge β̂_λ = (XᵀX + nλI)⁻¹Xᵀy:
 * R(λ) = r²λ²m′(−λ) + σ²γ[m(−λ) − λm′(−λ)] (λ > 0). */
int ir_theory_ridge_risk(double gamma, double lambda, double r2, double sigma2,
                         double *risk);

/* Optimal ridge λ* = σ²γ/r² and its risk σ²γ m(−λ*). */
int ir_theory_ridge_optimal(double gamma, double r2, double sigma2,
                            double *lambda, double *risk);

#ifdef __cplusplus
}
#endif
#endif
