/* implreg/theory.h — closed-form predictions the analyses check against.
 *
 * Each function names its source.  Conventions of docs/theory.md: n samples, p
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

/* ---- GD on least squares from the SVD (docs/theory.md §1)
 * ----------------------------- */

/* For L(W) = (1/2n)‖XW − Y‖_F² and X = U S Vᵀ, GD with step η from W₀ is
 *   W_t = W₀ − VVᵀW₀ + V z_t,  z_t = z* + (I − ηS²/n)^t (VᵀW₀ − z*),
 *   z* = S⁻¹UᵀY  (components with s_i = 0 keep their initial value),
 * i.e. each singular direction converges at rate |1 − η s_i²/n|; from W₀ = 0
 * this is V diag(1 − (1 − η s_i²/n)^t) S⁻¹ UᵀY.  1 − (1 − a)^t is evaluated as
 * −expm1(t·log1p(−a)) for a < 1, so tiny s_i lose no accuracy.
 * The Landweber iteration's classical analysis (Engl, Hanke, Neubauer 1996,
 * §6.1); Gunasekar et al. 2018 (arXiv:1802.08246). */
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
 * docs/theory.md §7).  √β when the roots are complex. */
double ir_theory_heavy_ball_radius(double eta, double beta, double lambda);
/* (Evaluated in factored form, finite for ηλ up to DBL_MAX; β < 0 is
 * allowed (real roots); NaN for a NaN argument.) */

/* The largest heavy-ball radius over the curvatures λ_i = s_i²/n of the
 * singular values s_i > rcond·s_max of X (rcond < 0: the default): the
 * linear rate at which momentum from 0 approaches X⁺Y. */
double ir_theory_heavy_ball_rate(const ir_svd *svd, double eta, double beta,
                                 double rcond);

/* Stability threshold of GD on a quadratic with Hessian eigenvalue λ_max:
 * η < 2/λ_max (Cohen et al. arXiv:2103.00065, docs/theory.md §7). */
double ir_theory_gd_max_lr(double lambda_max);

/* ---- Ridgeless least squares (Hastie et al. arXiv:1903.08560, §2)
 * ----------------- */

/* Asymptotic bias and variance of the min-norm estimator for isotropic
 * Gaussian features, p/n → γ: γ < 1: B = 0, V = σ²γ/(1 − γ); γ > 1:
 * B = r²(1 − 1/γ), V = σ²/(γ − 1); γ = 1: +Inf. IR_EDOM for γ <= 0, and
 * for a finite value beyond double precision. */
int ir_theory_hastie(double gamma, double r2, double sigma2, double *bias,
                     double *var);

/* Exact finite-n expectations (Gaussian X): p <= n − 2: B = 0,
 * V = σ²p/(n − p − 1); p >= n + 2: B = r²(1 − n/p), V = σ²n/(p − n − 1);
 * n − 1 <= p <= n + 1: V = +Inf.  The integer differences are exact (no
 * wrap-around near SIZE_MAX); IR_EDOM for a finite value beyond double
 * precision. */
int ir_theory_hastie_exact(size_t n, size_t p, double r2, double sigma2,
                           double *bias, double *var);

/* Stieltjes transform m(z) of the Marchenko–Pastur law of XᵀX/n with ratio
 * γ (atom 1 − 1/γ at 0 included when γ > 1) at z = −λ < 0, and its
 * derivative m′(z) (dm may be NULL), from γ z m² − (1 − γ − z) m + 1 = 0,
 * in a form free of cancellation and overflow (src/theory.c): a few eps
 * relative for every finite γ > 0, λ > 0.  For γ > 1, m ≈ (1 − 1/γ)/λ and
 * m′ ≈ (1 − 1/γ)/λ² exceed double precision for λ below about 1e-308 and
 * 1e-154: IR_EDOM there (the ridge risk terms stay finite).  m′ underflows
 * gracefully for λ beyond 1e154. */
int ir_theory_mp_stieltjes(double gamma, double lambda, double *m, double *dm);

/* Asymptotic risk of ridge β̂_λ = (XᵀX + nλI)⁻¹Xᵀy:
 * R(λ) = r²λ²m′(−λ) + σ²γ[m(−λ) − λm′(−λ)] (λ > 0), each term computed
 * without cancellation and without forming λ² or 1/λ: relative error a
 * few eps times the condition number for every finite γ > 0 and λ > 0
 * (tests/theory_mpmath.py checks λ from 5e-324 to 1.7e308 against
 * 50-digit quadrature).  A term below ~1e-308 underflows.  IR_EDOM for a
 * bad argument or a result beyond double precision. */
int ir_theory_ridge_risk(double gamma, double lambda, double r2, double sigma2,
                         double *risk);

/* Optimal ridge λ* = σ²γ/r² and its risk σ²γ m(−λ*) (computed as the sum
 * of the two ridge terms at λ*, which stays finite where m overflows).
 * IR_EDOM unless r², σ², γ are finite and > 0 and λ* is a positive finite
 * double. */
int ir_theory_ridge_optimal(double gamma, double r2, double sigma2,
                            double *lambda, double *risk);

/* The two terms of ir_theory_ridge_risk: bias r²λ²m′(−λ) and variance
 * σ²γ[m(−λ) − λm′(−λ)] (λ > 0); their sum is ir_theory_ridge_risk's risk
 * bit for bit.  Hastie et al. (arXiv:1903.08560); docs/theory.md §2. */
int ir_theory_ridge_terms(double gamma, double lambda, double r2, double sigma2,
                          double *bias, double *var);

/* The γ > 1 minimizing the ridgeless risk r²(1 − 1/γ) + σ²/(γ − 1) when
 * SNR = r²/σ² > 1: γ* = √SNR/(√SNR − 1), with risk σ²(2√SNR − 1) (risk may
 * be NULL).  For SNR <= 1 the risk decreases towards r² as γ → ∞ and has no
 * minimizer: IR_EDOM, as for σ² <= 0 or non-finite arguments.  Hastie et al.
 * (arXiv:1903.08560); docs/theory.md §2. */
int ir_theory_hastie_gamma_star(double r2, double sigma2, double *gamma_star,
                                double *risk);

/* ---- Marchenko–Pastur law (Marchenko & Pastur 1967; docs/theory.md §2)
 * ---------------- */

/* The law of the eigenvalues of XᵀX/n, x ~ N(0, I_p), p/n → γ: a density
 *   (1/(2πγx))·√((λ₊ − x)(x − λ₋))  on [λ₋, λ₊],  λ± = (1 ± √γ)²,
 * of mass min(1, 1/γ), plus an atom 1 − 1/γ at 0 when γ > 1.  Its mean is 1
 * and its second moment 1 + γ. */

/* The edges λ₋ <= λ₊ of the continuous part.  IR_EDOM unless 0 < γ < ∞. */
int ir_theory_mp_edges(double gamma, double *lo, double *hi);

/* The continuous part of the density at x: 0 outside the open interval
 * (λ₋, λ₊) (the atom is not included; for γ = 1 the density is unbounded
 * near 0 but integrable).  NaN when γ is not in (0, ∞) or x is NaN.  The
 * distances to the edges are formed to a few eps·√γ, so the relative error
 * is a few eps times the condition number also where the support is
 * narrow (γ far from 1). */
double ir_theory_mp_density(double gamma, double x);

/* The mass of the atom at 0: max(0, 1 − 1/γ).  NaN when γ is not in
 * (0, ∞). */
double ir_theory_mp_atom(double gamma);

/* P(λ <= x) under the law (the atom included), in closed form (an
 * antiderivative of the density) for 0.0102 < γ < 98 and by 32-point
 * Gauss–Legendre on the smooth angular form elsewhere: absolute error a
 * few eps (not relative near the lower edge, where F ~ (x − λ₋)^{3/2}).
 * NaN for a bad γ or x. */
double ir_theory_mp_cdf(double gamma, double x);

/* E[λ^k] in closed form (Narayana polynomials): 1, 1 + γ, 1 + 3γ + γ²,
 * 1 + 6γ + 6γ² + γ³, …  (k >= 0; NaN for a bad γ or k < 0).  A sum of
 * positive terms: relative error <= ~3k·eps; +Inf when the moment exceeds
 * double precision. */
double ir_theory_mp_moment(double gamma, int k);

/* The same moment as a numerical integral of ir_theory_mp_density (plus
 * the atom for k = 0), accurate to about 1e-13: an independent check of
 * the density's formula against the closed form. */
double ir_theory_mp_density_moment(double gamma, int k);

/* ---- Random features: Mei & Montanari (arXiv:1908.05355; docs/theory.md §3)
 * ----------- */

/* An activation σ(x; params), called at finite x. */
typedef double (*ir_activation)(double x, void *params);

/* The Gaussian coefficients of an activation, G ~ N(0, 1). */
typedef struct {
  double mu0; /* E σ(G) */
  double mu1; /* E[G σ(G)] */
  double m2;  /* E σ(G)² */
  double mustar; /* μ* = √(E σ(G)² − μ0² − μ1²) >= 0; 0 for linear σ */
  double zeta; /* ζ = μ1/μ*; ±Inf when μ* = 0 */
} ir_rf_coeffs;

/* μ0, μ1, E σ², μ* and ζ by adaptive Gauss–Kronrod quadrature
 * (gsl_integration_qagil/qagiu, split at 0 where ReLU-like activations have
 * their kink) to a relative accuracy of about 1e-12.  μ*² is integrated as
 * E[(σ(G) − μ0 − μ1G)²], a non-negative integrand, rather than formed as a
 * difference, so that it is accurate even when σ is nearly linear; μ*² below
 * IR_RF_LINEAR_TOL·E σ² (beyond what the quadrature resolves) counts as 0.
 * σ must have a finite Gaussian second moment.  IR_ENOCONV when the
 * quadrature fails (with GSL's abort handler off: see
 * ir_error_install_gsl_handler), IR_EBADDATA when a moment is not finite,
 * IR_EDOM when σ is constant almost everywhere (μ1 = μ* = 0: ζ is
 * undefined). */
#define IR_RF_LINEAR_TOL 1e-14
int ir_theory_rf_coeffs(ir_activation sigma, void *params, ir_rf_coeffs *c);

/* The built-in activation called name: relu, abs, tanh, sigmoid, softplus
 * (log(1 + eˣ)), gelu (x·Φ(x), exact), erf, linear.  They take no
 * parameters (pass NULL).  IR_EINVAL for an unknown name. */
int ir_theory_rf_activation(const char *name, ir_activation *sigma);

/* The names accepted by ir_theory_rf_activation, comma-separated. */
const char *ir_theory_rf_activation_names(void);

/* The terms of the asymptotic excess test risk of ridgeless random-features
 * regression. */
typedef struct {
  double bias;      /* F1²·E1/E0: the learnable linear part of the target */
  double variance;  /* (τ² + F*²)·E2/E0: noise plus the unlearnable part */
  double nonlinear; /* F*²: the nonlinear part, never learned when N, n ∝ d */
  double risk;      /* the sum */
} ir_rf_risk;

/* Mei & Montanari (arXiv:1908.05355), the ridgeless limit λ → 0 of their
 * random-features risk, exactly as transcribed in docs/theory.md §3: N features
 * σ(⟨θ_a, x⟩/√d), n samples, ψ1 = N/d, ψ2 = n/d, target ⟨β₁, x⟩ + f_NL(x)
 * + ε with ‖β₁‖ = F1, (E f_NL²)^½ = Fstar, Var ε = tau2, and ζ = μ1/μ*
 * from ir_theory_rf_coeffs (only ζ² matters).  With ψ = min(ψ1, ψ2) and
 * χ = −[(ψζ² − ζ² − 1) + √((ψζ² − ζ² − 1)² + 4ψζ²)]/(2ζ²):
 *   R = F1²·E1/E0 + (τ² + F*²)·E2/E0 + F*².
 * E0 vanishes on ψ1 = ψ2 (the interpolation peak, N = n): there the terms
 * with a nonzero coefficient are +Inf.  ζ = 0 (an even activation, μ1 = 0)
 * is allowed.  IR_EDOM unless ψ1, ψ2 > 0 and finite, F1, Fstar, tau2 >= 0
 * and finite, and |ζ| <= IR_RF_ZETA_MAX: in particular for μ* = 0 (linear
 * σ, ζ = ±Inf), because the formula's limit ζ → ∞ is not the risk of
 * linear random features when ψ1 > 1 (the ridgeless limit and μ* → 0 do
 * not commute: see src/theory.c). */
#define IR_RF_ZETA_MAX 1e30
int ir_theory_mei_montanari(double zeta, double psi1, double psi2, double F1,
                            double Fstar, double tau2, ir_rf_risk *r);

/* ---- Constant-step SGD without interpolation (docs/theory.md §1) ----------
 */

/* The stationary mean squared distance E‖W − W*‖²_F of SGD with constant
 * step η and batches of B indices drawn uniformly with replacement, on
 * L(W) = (1/2n)‖XW − Y‖²_F, around the least-squares solution W* when X
 * (n×p) has full column rank and the residuals R = Y − XW* (n×K) do not
 * vanish: it never converges to a point.  With H = XᵀX/n,
 * M(Σ) = (1/n)Σ_i (x_iᵀΣx_i) x_i x_iᵀ and D = (1/n)Σ_i ‖r_i‖² x_i x_iᵀ, the
 * second moment Σ = E[(W − W*)(W − W*)ᵀ] of the stationary law solves
 *   HΣ + ΣH − η[(1/B)M(Σ) + (1 − 1/B)HΣH] = (η/B)D
 * (the mean is 0 there because XᵀR = 0), and *msd = tr Σ.  Solved by
 * conjugate gradients on symmetric matrices, preconditioned by the
 * Lyapunov part HΣ + ΣH (diagonal in H's eigenbasis), to a relative
 * residual of 1e-13.  IR_EINVAL when X is rank deficient or the step is
 * unstable in mean square (the operator is not positive definite).  Cost
 * O(p³ + (np² + p³) · iterations); a few dozen iterations for small η. */
int ir_theory_sgd_floor(const gsl_matrix *X, const gsl_matrix *R, double eta,
                        size_t B, double *msd);

#ifdef __cplusplus
}
#endif
#endif
