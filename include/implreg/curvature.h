/* implreg/curvature.h — the curvature engine: eigenvalues, trace and
 * spectral density of a symmetric operator known only through products.
 *
 * Every estimator works on an ir_linop: a symmetric n×n operator given by a
 * callback y = A x (for a model, the Hessian-vector product at θ on a batch;
 * for tests, a dense matrix).  Costs are stated in operator applications
 * ("matvecs", one HVP each for a Hessian) plus the dense work around them.
 *
 * - Lanczos with full reorthogonalization and thick restarts (Wu & Simon):
 *   the k largest or k smallest (most negative) algebraic eigenpairs, or
 *   the k largest in magnitude, *with multiplicity*: after the first run,
 *   runs from fresh random vectors in the complement of the pairs found so
 *   far (deflation) find the copies of repeated eigenvalues that one Krylov
 *   space cannot see, until a run finds nothing better (the certificate).
 *   Each returned pair carries its residual ‖Av − λv‖ computed explicitly
 *   (one extra matvec per pair), never a change between iterates
 *   (docs/theory.md trap 4).
 * - Power iteration, with PyHessian's stopping rule (relative change of the
 *   Rayleigh quotient; kept for comparison only — it stops early) and with a
 *   residual rule.
 * - Hutchinson's trace estimator (Rademacher probes) with its standard error,
 *   and Hutch++ (Meyer, Musco, Musco, Woodruff 2021).
 * - Stochastic Lanczos quadrature (Ghorbani et al. 2019; PyHessian): runs ×
 *   steps, nodes = eigenvalues of each tridiagonal T_m (dstev), weights =
 *   squared first components of its eigenvectors; Gaussian smoothing on a
 *   grid with a pointwise standard error over runs.
 * - Dense spectrum of a small operator (materialize with n matvecs, check
 *   symmetry, dsyevr).
 *
 * Randomness (starting and probe vectors) comes from ir_rng_alloc(seed,
 * stream): results are reproducible bit for bit for a given BLAS thread count.
 * Ownership: result structs own their arrays; free them with the matching
 * *_free function (NULL-safe).  Nothing here keeps a pointer to the operator.
 */
#ifndef IMPLREG_CURVATURE_H
#define IMPLREG_CURVATURE_H

#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <stddef.h>
#include <stdint.h>

#include "implreg/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Operators ----------------------------------------------------------- */

/* y = A x for x, y of length n (never aliased).  Returns IR_OK or an error
 * status (with ir_error's message), which every estimator passes on. */
typedef int (*ir_linop_fn)(void *ctx, const double *x, double *y);

/* Y = X Aᵀ for r vectors at once: row j of Y (r×n, row-major) is A times
 * row j of X.  Optional: operators that batch the products (a network's
 * HVPs as wide dgemms) supply it. */
typedef int (*ir_linop_many_fn)(void *ctx, const double *X, double *Y,
                                size_t r);

/* q[j] = x_jᵀ A x_j for the r rows of X.  Optional: a network's Hessian
 * gives these by forward mode at about half the cost of the products. */
typedef int (*ir_linop_quad_fn)(void *ctx, const double *X, double *q,
                                size_t r);

typedef struct {
  size_t n;          /* dimension */
  ir_linop_fn apply; /* y = A x */
  void *ctx;         /* passed to apply */
  size_t nmatvec;    /* incremented by ir_linop_apply: the work done */
  ir_linop_many_fn apply_many; /* NULL: one apply per vector */
  ir_linop_quad_fn quad_many;  /* NULL: products and dot products */
  size_t nquad; /* quadratic forms computed by quad_many (not in nmatvec) */
} ir_linop;

/* Applies op (counting the matvec). */
int ir_linop_apply(ir_linop *op, const double *x, double *y);

/* Applies op to r vectors (rows of X into rows of Y), counting r matvecs;
 * batched when the operator supplies apply_many.  The trace estimators and
 * the dense matrix use it in blocks of IR_LINOP_BLOCK vectors. */
int ir_linop_apply_many(ir_linop *op, const double *X, double *Y, size_t r);

/* q[j] = x_jᵀ A x_j for the r rows of X (r×n): by quad_many when the
 * operator has it (counted in nquad), else by products (counted in
 * nmatvec) and dot products.  Y (r×n) is scratch for the latter; it may be
 * NULL when op->quad_many is set. */
int ir_linop_quad_many(ir_linop *op, const double *X, double *Y, double *q,
                       size_t r);
enum { IR_LINOP_BLOCK = 32 };

/* An operator for a dense symmetric matrix A (borrowed, must outlive op).
 * Cost of a matvec: one dgemv. */
ir_linop ir_linop_dense(const gsl_matrix *A);

/* The Hessian of a model's loss at θ on a batch (idx == NULL: whole training
 * set).  h, model, theta and idx are borrowed; the ir_linop points at h, so
 * keep h alive (e.g. on the caller's stack) while using the operator. */
typedef struct {
  ir_model *model;
  const gsl_vector *theta;
  const size_t *idx;
  size_t nb;
} ir_hessian_op;
ir_linop ir_linop_hessian(ir_hessian_op *h);

/* ---- Lanczos eigensolver ------------------------------------------------- */

typedef enum {
  IR_EIG_LARGEST = 0,  /* largest algebraic (the "top" of the spectrum) */
  IR_EIG_SMALLEST = 1, /* smallest algebraic (most negative first) */
  IR_EIG_MAGNITUDE = 2 /* largest |λ| */
} ir_eig_which;

typedef struct {
  size_t k;           /* wanted eigenpairs, 1 <= k <= n */
  ir_eig_which which; /* which end of the spectrum */
  double tol; /* converged when ‖Av − λv‖ <= tol·‖A‖_est, where
                 ‖A‖_est = the largest |Ritz value| seen */
  size_t max_basis;   /* Lanczos vectors kept before a thick restart
                         (0: n when n <= 1000, else min(n, max(2k + 20,
                         40))) */
  size_t max_matvec;  /* budget of matvecs over all runs (0: max(2000,
                         40k)); when it is spent the pairs found are
                         returned, unconverged ones with converged = 0, and
                         certified = 0 */
  unsigned long seed; /* >= 1; random start vector when v0 == NULL */
  uint64_t stream;
  const double *v0; /* optional start vector of length n (warm start, e.g.
                       the previous step's top eigenvector); NULL: random */
  int certify; /* 1: deflated runs find multiplicities and certify the k
                  values (see ir_eig_result.certified); 0: the first run
                  only — cheaper, e.g. for tracking λ_max along training
                  where k = 1 and the value, not its multiplicity, counts;
                  certified is then 0 */
} ir_lanczos_params;

/* Defaults: k 1, largest, tol 1e-10, max_basis 0, max_matvec 0, seed 1,
 * stream ir_rng_stream(IR_STREAM_PROBE, 0, 0), v0 NULL, certify 1. */
void ir_lanczos_params_default(ir_lanczos_params *p);

typedef struct {
  size_t n, k;         /* dimension, pairs returned */
  double *values;      /* k eigenvalues, in the order of `which` (largest
                          first for LARGEST, most negative first for
                          SMALLEST, largest |λ| first for MAGNITUDE) */
  gsl_matrix *vectors; /* n×k, orthonormal columns */
  double *residuals;   /* k explicit residual norms ‖Av − λv‖₂ */
  int *converged;      /* k flags: residual <= tol·‖A‖_est */
  double anorm;        /* ‖A‖_est used in the test */
  size_t nmatvec;      /* matvecs used, residual checks included */
  size_t nrestart;     /* thick restarts performed (all runs) */
  size_t nrun;         /* Lanczos runs: 1 + the deflated ones */
  int certified;       /* 1: every pair converged and a deflated run from a
                          fresh random vector found no further eigenvalue at
                          the wanted end, so values[0..k) are the k extreme
                          eigenvalues of A with multiplicity (each within
                          its residual — Bauer–Fike — and up to the
                          probability zero of a start vector orthogonal to
                          an eigenvector); 0: not shown (budget spent or a
                          pair did not converge) — do not rely on the
                          multiplicities */
} ir_eig_result;

void ir_eig_result_free(ir_eig_result *r);

/* Runs Lanczos on op.  Returns IR_OK also when some pairs did not converge
 * within max_matvec or the multiplicities could not be certified (the flags
 * say so); an error only for bad parameters (IR_EINVAL), memory, or an
 * operator failure.  Fewer than k pairs come back only when the budget ran
 * out (certified = 0).  Cost: one run for the k pairs, then deflated runs
 * for 1, 2, 4, ... pairs while copies keep entering: about one small extra
 * run when the wanted eigenvalues are simple, about K runs for a K-fold
 * one.  Memory: max_basis + 1 vectors of length n plus O(max_basis²), and
 * k locked vectors. */
int ir_lanczos_eigs(ir_linop *op, const ir_lanczos_params *p,
                    ir_eig_result **out);

/* ---- Power iteration (for comparison) -------------------------------------
 */

typedef enum {
  IR_POWER_PYHESSIAN = 0, /* stop when |λ_t − λ_{t−1}| / (|λ_{t−1}| + 1e-6)
                             < tol, as PyHessian does (tol 1e-3, 100 its) */
  IR_POWER_RESIDUAL = 1 /* stop when ‖Av − λv‖ <= tol·|λ| */
} ir_power_rule;

typedef struct {
  double value;    /* Rayleigh quotient at the last iterate */
  double residual; /* explicit ‖Av − λv‖ at the returned v */
  size_t nmatvec;  /* matvecs used (the residual rule needs none extra: A v
                      of the iterate gives both λ and the residual) */
  size_t iters;
  int converged; /* the stopping rule fired before max_iter */
} ir_power_result;

/* Power iteration from a Gaussian random start (seed, stream) for at most
 * max_iter iterations; v (length n, may be NULL) receives the unit vector. */
int ir_power_iteration(ir_linop *op, ir_power_rule rule, double tol,
                       size_t max_iter, unsigned long seed, uint64_t stream,
                       double *v, ir_power_result *out);

/* ---- Trace ----------------------------------------------------------------
 */

typedef struct {
  double trace;   /* the estimate */
  double se;      /* standard error: sample std of the per-probe estimates
                     / √nprobe (Hutchinson); of the stochastic part (Hutch++) */
  size_t nprobe;  /* Rademacher probes in the stochastic part */
  size_t nmatvec; /* operator products */
  size_t nquad;   /* quadratic forms zᵀAz computed without a product
                     (ir_linop quad_many; 0 for operators without it) */
} ir_trace_result;

/* Hutchinson: mean of zᵀAz over nprobe >= 2 Rademacher vectors. Cost:
 * nprobe quadratic forms (quad_many) or matvecs. */
int ir_trace_hutchinson(ir_linop *op, size_t nprobe, unsigned long seed,
                        uint64_t stream, ir_trace_result *out);

/* Hutch++ with a budget of nmatvec >= 4 matvecs (split in thirds; 4, not 3,
 * so that the stochastic part has >= 2 probes for its standard error): exact
 * trace on the range of A S for a sketch S, Hutchinson on the complement. */
int ir_trace_hutchpp(ir_linop *op, size_t nmatvec, unsigned long seed,
                     uint64_t stream, ir_trace_result *out);

/* ---- Spectral density (stochastic Lanczos quadrature) ----------------------
 */

typedef struct {
  size_t nruns, nsteps; /* runs (probes) and Lanczos steps per run */
  double *nodes;        /* nruns × nsteps (row r = run r), Ritz values */
  double *weights;      /* same layout, squared first eigenvector
                           components; each row sums to 1 */
  size_t *nnodes;       /* nodes actually produced by run r (<= nsteps;
                           fewer when the Krylov space is exhausted; the
                           rest of the row is 0 with weight 0) */
  double lmin, lmax;    /* smallest and largest node over all runs */
  double trace_est;     /* n · mean over runs of Σ τ_k θ_k */
  double trace_se;      /* its standard error over runs */
  size_t nmatvec;
} ir_slq_result;

void ir_slq_result_free(ir_slq_result *r);

/* SLQ: nruns >= 1 runs of nsteps >= 1 Lanczos steps with full
 * reorthogonalization, each from a normalized Rademacher vector. */
int ir_slq(ir_linop *op, size_t nruns, size_t nsteps, unsigned long seed,
           uint64_t stream, ir_slq_result **out);

/* Smoothed density on a grid: density[j] = mean over runs of
 * Σ_k τ_k g_σ(grid[j] − θ_k), g_σ the N(0, σ²) density; se[j] its standard
 * error over runs (NULL: not wanted; 0 when nruns == 1).  sigma2 <= 0 picks
 * the common choice σ² = 1e-5·max(1, lmax − lmin). */
int ir_slq_density(const ir_slq_result *r, double sigma2, const double *grid,
                   size_t ngrid, double *density, double *se);

/* ---- Dense spectrum ---------------------------------------------------------
 */

/* Materializes op into H (n×n) with n matvecs on unit vectors, checks
 * symmetry — IR_EINTERNAL when max|H − Hᵀ| > symtol·max|H| (a Hessian code
 * with a bug, or a non-smooth point) — and only then symmetrizes
 * (H + Hᵀ)/2.  asym (may be NULL) receives max|H − Hᵀ|/max|H|. */
int ir_linop_dense_matrix(ir_linop *op, double symtol, gsl_matrix *H,
                          double *asym);

/* All eigenvalues of op, ascending, into values (length n); vectors (n×n,
 * may be NULL) receives the eigenvectors as columns.  Cost: n matvecs plus
 * one dsyevr (about 9n³ flops with vectors, 4n³/3 without). */
int ir_dense_spectrum(ir_linop *op, double symtol, double *values,
                      gsl_matrix *vectors, double *asym);

#ifdef __cplusplus
}
#endif
#endif
