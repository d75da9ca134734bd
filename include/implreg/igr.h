/* implreg/igr.h — implicit gradient regularization, measured.
 *
 * Backward error analysis (docs/theory.md §5–§6): gradient descent
 * θ_{k+1} = θ_k − h∇E(θ_k) follows, to higher order in h, the flow of the
 * modified loss E + λ‖∇E‖² with λ = h/4 (Barrett & Dherin 2021); heavy ball
 * with momentum β follows, after its start-up transient, the flow with time
 * scale c = 1/(1 − β) and λ = h(1 + β)/(4(1 − β)²) (Ghosh et al. 2023); the
 * mean SGD iterate after one epoch follows the flow of
 * E + (ε/4)‖∇E‖² + κΓ, κ = (N − B)/(N − 1)·ε/(4B) (Smith et al. 2021).
 * This module gives those coefficients, their closed forms on quadratics,
 * and measures them from actual iterates:
 *
 * - ir_igr_trajectory records θ₀ … θ_k of GD, heavy ball or SGD (optim.h).
 * - ir_igr_fit finds λ (and optionally c) for which the modified flow
 *   (flow.h) passes closest to the recorded iterates, with a bootstrap
 *   interval over windows of the run.
 * - ir_igr_sgd_* run one epoch of SGD for every shuffle (N! of them, or a
 *   Monte-Carlo sample) and fit the coefficient of Γ to the mean iterate.
 *
 * Ownership: models are borrowed and used by one thread at a time; outputs
 * are caller-allocated unless a *_free function is named.
 */
#ifndef IMPLREG_IGR_H
#define IMPLREG_IGR_H

#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <stddef.h>
#include <stdint.h>

#include "implreg/flow.h"
#include "implreg/model.h"
#include "implreg/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Coefficients predicted by the theory -------------------------------- */

/* GD: λ = h/4. */
double ir_igr_lambda_gd(double h);
/* Heavy ball: λ = h(1 + β)/(4(1 − β)²), with time scale c = 1/(1 − β). */
double ir_igr_lambda_hb(double h, double beta);
double ir_igr_timescale_hb(double beta);
/* The alternative the heavy-ball theory rejects: GD's coefficient at the
 * effective step h/(1 − β), i.e. λ = h/(4(1 − β)) (a factor (1 + β)/(1 − β)
 * below the β-formula). */
double ir_igr_lambda_hb_effective_gd(double h, double beta);
/* SGD without replacement, N samples, batch B: the coefficient of
 * Γ = (1/N)Σ‖∇E_i − ∇E‖² in the shuffle-averaged modified loss,
 * (N − B)/(N − 1)·ε/(4B). */
double ir_igr_kappa_sgd(size_t N, size_t B, double eps);

/* ---- Closed forms on quadratics ------------------------------------------ */

/* Decay rate of the flow θ̇ = −c∇(E + λ‖∇E‖²) along an eigendirection of
 * curvature μ of a quadratic: c(μ + 2λμ²). */
double ir_igr_quad_rate(double mu, double c, double lambda);

/* The λ for which that flow reproduces GD exactly along a direction of
 * curvature μ > 0: e^{−(μ + 2λμ²)h} = 1 − hμ, i.e.
 * λ = (−log(1 − hμ)/h − μ)/(2μ²) = h/4 + h²μ/6 + O(h³μ²); NaN when
 * hμ >= 1 (GD's factor is not positive: no flow matches it). */
double ir_igr_quad_lambda_gd(double h, double mu);

/* Heavy ball on a direction of curvature μ: the characteristic polynomial
 * z² − (1 + β − hμ)z + β.  *rate = −log|z₁| per step for the root of
 * largest modulus z₁ (the rate the iterates decay at after the transient),
 * *ratio = |z₂/z₁| (how fast the transient dies).  IR_EDOM when the roots
 * are complex (hμ outside the real-root range: the iterates spiral) or the
 * dominant root is negative (they alternate in sign): no flow follows
 * them. */
int ir_igr_hb_rate(double h, double beta, double mu, double *rate,
                   double *ratio);

/* The flow θ̇ = −c∇(E + λ‖∇E‖²) of E = ½θᵀAθ − bᵀθ (A symmetric p×p, b
 * may be NULL) in closed form: in the eigenbasis A = QΛQᵀ, u = Qᵀθ,
 * β = Qᵀb, each u_i relaxes to β_i/μ_i at the rate c(μ_i + 2λμ_i²)
 * (μ_i = 0: drifts as u_i + cβ_i t).  Row j of out (nt × p) is θ(times[j]).
 * An independent check of ir_flow_solve.  Cost: one eigendecomposition
 * (9p³) plus 2p² per time. */
int ir_igr_quadratic_flow(const gsl_matrix *A, const gsl_vector *b,
                          const gsl_vector *theta0, double c, double lambda,
                          const double *times, size_t nt, gsl_matrix *out);

/* ---- Trajectories ---------------------------------------------------------
 */

/* Runs the optimizer p (GD, heavy ball, SGD; optim.h) for p->max_steps
 * steps from theta0 and stores θ_t in row t of iterates ((max_steps + 1) ×
 * nparams).  A loss goal must be off.  IR_EDIVERGE (message with the step
 * and the step size) when the run diverges: a trajectory that blew up is
 * not one a flow can follow. */
int ir_igr_trajectory(ir_model *m, const ir_optim_params *p,
                      const gsl_vector *theta0, gsl_matrix *iterates,
                      ir_optim_result *res);

/* Steps of heavy ball's start-up transient to skip before comparing with a
 * flow: the smallest j with β^j <= 1e-3·min(1, (hμ_max/(1 − β))²), i.e.
 * until the memory of v₀ = 0 is well below the O((hμ)²) relative effect the
 * fit measures.  0 for β = 0. */
size_t ir_igr_transient_steps(double h, double beta, double mu_max);

/* ---- The estimator --------------------------------------------------------
 */

#define IR_IGR_MAX_SEGMENTS 64
/* The fit searches λ within ±IR_IGR_LAMBDA_RANGE·λ₀: a coefficient a
 * thousand times the theory's means no modified flow follows the steps. */
#define IR_IGR_LAMBDA_RANGE 1000

typedef struct {
  double h;           /* step size: iterate j sits at time t_j = j·h */
  size_t start;       /* first iterate of the window */
  size_t end;         /* last iterate of the window (0: the last row) */
  size_t segments;    /* S: the window is cut into S equal segments */
  size_t stride;      /* compare every stride-th iterate of a segment */
  double c;           /* time scale (held fixed unless fit_c) */
  int fit_c;          /* also fit c (when the data identify it) */
  double lambda0;     /* starting value of λ, > 0 (e.g. the theory's) */
  size_t max_iter;    /* Gauss–Newton iterations */
  double level;       /* confidence level of the interval */
  size_t nboot;       /* bootstrap resamples of the segments */
  unsigned long seed; /* bootstrap randomness, with stream */
  uint64_t stream;
  ir_flow_params flow; /* stepper and tolerances (c, λ, κ are the fit's) */
} ir_igr_fit_params;

/* Defaults: h 0 (must be set), start 0, end 0, 8 segments, stride 1, c 1,
 * λ₀ 0 (must be set), 12 iterations, level 0.95, 2000 resamples, seed 1,
 * stream ir_rng_stream(IR_STREAM_PROBE, 80, 0), flow defaults with the
 * global-error estimate off during the iterations (it is computed once at
 * the fit). */
void ir_igr_fit_params_default(ir_igr_fit_params *p);

typedef struct {
  double lambda, lambda_lo, lambda_hi; /* the fit and its interval */
  double c, c_lo, c_hi;                /* c (lo = hi = c when held) */
  int c_fitted;      /* 0: c held fixed (not asked, or not identifiable) */
  double rss;        /* Σ‖θ_j − φ(t_j)‖² over the compared iterates */
  double rss_flow;   /* the same for gradient flow (λ = 0, same c) */
  double rms;        /* √(rss / npoints) */
  double global_err; /* flow global-error estimate at the fit (max) */
  double lambda_int; /* how far that error can move λ: global_err·√npoints
                        /‖∂R/∂λ‖ (included in the interval) */
  size_t npoints;    /* compared iterates */
  size_t segments, seg_len;               /* S and the steps per segment */
  double seg_lambda[IR_IGR_MAX_SEGMENTS]; /* each segment's own λ */
  size_t iterations;                      /* Gauss–Newton iterations done */
  int converged; /* the last step changed λ by < 1e-9 relative */
  size_t nflows; /* flow integrations, all segments counted */
  size_t nevals; /* vector-field evaluations */
} ir_igr_fit_result;

/* Fits the modified flow to the iterates (rows of iterates, spaced by h in
 * time).  The window [start, end] is cut into S segments of L steps (L the
 * largest multiple of stride with S·L <= end − start); on segment s the
 * flow restarts from the iterate θ_{b_s} at its beginning, and the fit
 * minimizes over λ (and c)
 *
 *   Σ_s Σ_{i = 1..L/stride} ‖θ_{b_s + i·stride} − φ_{λ,c}(i·stride·h;
 * θ_{b_s})‖²
 *
 * by Gauss–Newton: for λ alone a secant sensitivity (from gradient flow
 * and λ₀; one integration of every segment per iteration) until the steps
 * fall below 0.1%, then central differences of 0.1% (3 per iteration; 5
 * with c); steps that raise the residual are halved, and trial flows that
 * leave ±IR_IGR_LAMBDA_RANGE·λ₀ or exceed 20 steps per iterate count as
 * worse.  Restarting keeps every comparison within L steps, where backward
 * error analysis holds, and lets the coefficient vary along the run.  The
 * interval is a percentile bootstrap over segments (resampling their
 * normal equations at the fit), widened by lambda_int; seg_lambda holds
 * each segment's own λ (linearized at the fit).  c is fitted only when
 * asked and when the 2×2 normal matrix is well conditioned (on E = θ²/2
 * only the product c(1 + 2λ) is identified).  Failures: IR_EINVAL
 * (parameters, window), IR_ESHAPE, IR_ENOCONV (no step lowers the
 * residual, or λ runs off: no modified flow follows the iterates), the
 * flow's. */
int ir_igr_fit(ir_model *m, const gsl_matrix *iterates,
               const ir_igr_fit_params *p, ir_igr_fit_result *res);

/* The same objective as ir_igr_fit (window, segments, stride, c held
 * fixed) for E = ½θᵀAθ − bᵀθ, with the flows in closed form
 * (in the eigenbasis of A, with ∂φ/∂λ in closed form too) and the
 * minimum over λ found as the root of d rss/dλ (log-spaced scan, then
 * bisection to rounding) instead of by Gauss–Newton on integrated flows:
 * an independent computation of the same estimate, for checks.
 * IR_ENOCONV when the objective has no interior minimum on
 * λ₀·[1e-4, 1e4].  Cost: one eigendecomposition, then O(S·L·p) per λ. */
int ir_igr_fit_quadratic(const gsl_matrix *A, const gsl_vector *b,
                         const gsl_matrix *iterates, const ir_igr_fit_params *p,
                         double *lambda);

/* ---- Error orders ---------------------------------------------------------
 */

/* The three flows a discrete method is compared with: gradient flow
 * (λ = 0), the theory's modified flow (λ = h/4 for GD, the heavy-ball
 * formula for β > 0) and, for heavy ball, the alternative it rejects
 * (GD's coefficient at the effective step, λ = h/(4(1 − β))), all with the
 * time scale c = 1/(1 − β). */
enum { IR_IGR_FLOW = 0, IR_IGR_MODIFIED = 1, IR_IGR_ALTERNATIVE = 2 };

/* The longest run ir_igr_errors_measure takes (skip + T/h steps). */
#define IR_IGR_MAX_STEPS 10000000

typedef struct {
  double h, beta, c;
  double lambda[3]; /* the flows' coefficients (NaN: no alternative) */
  size_t skip;      /* transient steps before the comparison starts */
  size_t k;         /* steps to the fixed horizon */
  double t;         /* the horizon k·h */
  double d_step[3]; /* ‖θ_{skip+1} − φ(h; θ_skip)‖ */
  double d_T[3];    /* ‖θ_{skip+k} − φ(k·h; θ_skip)‖ */
  double gerr[3];   /* each flow's global-error estimate (max of both) */
  size_t nevals;    /* vector-field evaluations */
} ir_igr_errors;

/* Runs GD (β = 0) or heavy ball with step h for skip + k steps from theta0
 * (k = max(1, round(T/h))) and measures the distances above to each flow
 * started at θ_skip, integrated with fp's stepper and tolerances (global
 * error on).  lambda (may be NULL: the theory's three) gives other
 * coefficients to compare with, NaN skipping a flow.  IR_EINVAL beyond
 * IR_IGR_MAX_STEPS steps; IR_EDIVERGE when the run diverges. */
int ir_igr_errors_measure(ir_model *m, const gsl_vector *theta0, double h,
                          double beta, double T, size_t skip,
                          const double *lambda, const ir_flow_params *fp,
                          ir_igr_errors *out);

/* ---- SGD --------------------------------------------------------------------
 */

/* All N! permutations of 0..N−1 in lexicographic order (N <= 9), as rows
 * of a malloc'd (N! × N) array; *count = N!.  Free with free(). */
int ir_igr_permutations_all(size_t N, size_t **perms, size_t *count);

/* S uniformly random permutations, row s drawn from the stream
 * (seed, ir_rng_stream(IR_STREAM_SGD, 90, s)): the same rows whatever S.
 * malloc'd (S × N). */
int ir_igr_permutations_random(size_t N, size_t S, unsigned long seed,
                               size_t **perms);

/* One epoch of SGD without replacement for each permutation: the batches
 * are consecutive blocks of B indices of the permutation (B divides
 * N = nsamples), ω ← ω − ε∇Ĉ_k on each.  Row s of out (S × nparams) is the
 * iterate after the epoch from theta0 under permutation s.  Cost: S·N/B
 * batch gradients. */
int ir_igr_sgd_epochs(ir_model *m, const gsl_vector *theta0, double eps,
                      size_t B, const size_t *perms, size_t S, gsl_matrix *out);

typedef struct {
  size_t N, B, nshuffle;
  int exact;     /* 1: every permutation (the mean is exact) */
  double eps, T; /* step and epoch time T = (N/B)·ε */
  /* ‖mean iterate − φ(T)‖ for gradient flow of E, the flow of GD's modified
   * loss E + (ε/4)‖∇E‖², and of SGD's E + (ε/4)‖∇E‖² + κ_theory·Γ; their
   * Monte-Carlo standard errors (0 when exact). */
  double dist_flow, dist_gd, dist_sgd;
  double se_flow, se_gd, se_sgd;
  double global_err;                /* max flow global-error estimate */
  double kappa, kappa_lo, kappa_hi; /* κ fitted to the mean, interval */
  double kappa_theory;
} ir_igr_sgd_result;

/* Compares the mean of the S epoch-end iterates (rows of epochs) with the
 * three flows from theta0 over one epoch, and fits κ (λ held at ε/4) so
 * that the flow of E + (ε/4)‖∇E‖² + κΓ ends closest to the mean.  Interval:
 * exact runs have none (lo = hi = κ); Monte-Carlo runs get a Student-t
 * interval at level from the per-shuffle linearized estimates.  fp gives
 * the stepper and tolerances. */
int ir_igr_sgd_analyze(ir_model *m, const gsl_vector *theta0, double eps,
                       size_t B, const gsl_matrix *epochs, int exact,
                       double level, const ir_flow_params *fp,
                       ir_igr_sgd_result *res);

/* ---- Orders
 * ------------------------------------------------------------------ */

typedef struct {
  double slope, se, lo, hi; /* log-log slope, standard error, interval */
  size_t n;                 /* points used (finite, positive errors) */
} ir_igr_order;

/* Slope of log err against log h over the points whose err is finite and
 * > 0 (unreported distances are NaN), with a Student-t interval at level.
 * IR_EINVAL with fewer than 3 such points. */
int ir_igr_order_fit(const double *h, const double *err, size_t n, double level,
                     ir_igr_order *out);

#ifdef __cplusplus
}
#endif
#endif
