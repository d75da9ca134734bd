/* implreg/nested.h — least squares over nested column sets.
 *
 * A model-size sweep fits Φ_N = Φ[:, :N] (the first N columns of one
 * feature matrix Φ, n×Nmax) for increasing N.  Instead of factoring every
 * Φ_N afresh, the workspace keeps the Gram matrices up to date as columns
 * are added — the dual Gram ΦΦᵀ (n×n) by a rank-ΔN update (dsyrk), the
 * primal Gram ΦᵀΦ (N×N, while N <= n) by appending ΔN rows and columns —
 * so that a grid point costs one factorization of a min(n, N)-sized matrix:
 *
 *   - min-norm, well conditioned: Cholesky of the Gram matrix with a
 *     condition estimate (m³/3), used when eps·cond(Gram) <= accuracy;
 *   - min-norm, ill conditioned for the Gram route but of full rank (next to
 *     the interpolation threshold N = n, where Cholesky completes but
 *     eps·cond(Gram) > accuracy): the corrected semi-normal equations —
 *     the same Cholesky factor, refined (at most 3 steps of 2·n·N·K) with
 *     residuals of Φ_N itself — while eps·cond(Gram) <= 1e-2 and the
 *     refinement reaches the accuracy; beyond, the complete orthogonal
 *     decomposition of Φ_N (dgelsy, about twice as fast as the SVD), cutoff
 *     rcond;
 *   - min-norm when Cholesky breaks down (numerically rank deficient): the
 *     SVD of Φ_N (dgelsd), with the cutoff rcond on singular values
 *     (σ_i <= rcond·σ_max count as zero);
 *   - ridge (ΦᵀΦ + λI)⁻¹ΦᵀY: one eigendecomposition of the Gram matrix
 *     serves every λ of a list and every output column.
 * Test predictions come from the same factorization (W = Φᵀα in the dual
 * form, then Φ_test W), never from a second solve.
 */
#ifndef IMPLREG_NESTED_H
#define IMPLREG_NESTED_H

#include <gsl/gsl_matrix.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How a grid point was solved. */
enum {
  IR_NESTED_CHOLESKY = 1,
  IR_NESTED_SVD = 2,
  IR_NESTED_EIGEN = 3,
  IR_NESTED_COD = 4,
  IR_NESTED_CSNE = 5
};

/* Min-norm fits whose Cholesky completes with accuracy < eps·cond(Gram) <=
 * IR_NESTED_CSNE_MAX are refined by the corrected semi-normal equations
 * before the complete orthogonal decomposition is tried. */
#define IR_NESTED_CSNE_MAX 1e-2

/* Ridge with at most this many λ takes one Cholesky of Gram + λI per λ;
 * more λ share one eigendecomposition of the Gram matrix. */
#define IR_NESTED_RIDGE_CHOL_MAX 8

typedef struct {
  size_t N;         /* number of columns used */
  size_t rank;      /* min(n, N) for Cholesky; numerical rank for the SVD */
  int method;       /* IR_NESTED_* */
  double cond;      /* cond(Φ_N): exact (SVD, eigen) or √(estimate of
                       cond(Gram)) (Cholesky, COD); NAN for ridge by
                       Cholesky (its factor is of Gram + λI) */
  double rcond;     /* the cutoff used by the SVD and COD routes (NAN
                       otherwise) */
  double lambda;    /* 0 for min-norm */
  double norm;      /* ‖W‖_F */
  double train_mse; /* (1/n)‖Φ_N W − Y‖_F² (mean over samples, summed over
                       outputs) */
} ir_nested_fit;

typedef struct ir_nested ir_nested;

/* Phi (n×Nmax), Y (n×K) and Phit (ntest×Nmax, may be NULL) are BORROWED:
 * keep them alive and unchanged.  Memory: 2n² + min(n, Nmax)² + Nmax·K
 * doubles plus scratch.  NULL on failure. */
ir_nested *ir_nested_alloc(const gsl_matrix *Phi, const gsl_matrix *Y,
                           const gsl_matrix *Phit);
void ir_nested_free(ir_nested *w);

/* Streaming: a workspace that owns its columns and is fed them in blocks
 * (ir_nested_append) instead of borrowing Φ whole, for feature matrices
 * too large to hold (n = 10⁴, Nmax = 10⁵: 8 GB).  It keeps the first Nkeep
 * columns of Φ and Φt (min(n, Nmax) <= Nkeep <= Nmax: the primal Gram and
 * every route of the threshold need them) and accumulates, besides the
 * Gram matrices, the test cross-Gram C = Φt_N Φ_Nᵀ (ntest×n, when Nmax >
 * Nkeep; 2·ntest·n flops per column).  Past Nkeep a point is solved from
 * the dual Gram matrix alone — Cholesky, predictions Cα, ‖W‖² = Σ αᵀGα,
 * training residual Y − Gα.  Where the Cholesky route is not accurate
 * enough there, the corrected semi-normal equations refine it when the
 * workspace has a column source (ir_nested_set_source); without one the
 * point is refused (IR_ESING: keep more columns; no COD or SVD without
 * Φ_N), as are weights (IR_EINVAL).  Within the prefix it runs
 * exactly the borrowed workspace's operations.  Y (n×K) is BORROWED.
 * Memory: that of ir_nested_alloc plus (n + ntest)·Nkeep + ntest·n
 * doubles.  ntest may be 0 (blocks Bt NULL then).  NULL on failure. */
ir_nested *ir_nested_alloc_stream(const gsl_matrix *Y, size_t ntest,
                                  size_t Nkeep, size_t Nmax);

/* Where a streaming workspace gets the columns it did not keep again:
 * fn(ctx, j0, j1, D) writes columns j0..j1−1 of Φ (unscaled, as appended)
 * into D (n×(j1−j0)) and returns IR_OK or an error status (passed on).
 * It is asked for exactly the blocks that were appended past Nkeep, so a
 * deterministic source gives the appended bits.  With a source, a point
 * past Nkeep whose Cholesky route misses the accuracy (eps·cond(Gram) up
 * to the CSNE limit) is refined by the corrected semi-normal equations
 * with residuals Y − Φ_N(Φ_Nᵀα) computed from the columns: each step
 * regenerates the N − Nkeep streamed columns (the source's cost) and costs
 * 4·n·N·K flops, at most 3 steps.  Memory: n × (the widest appended block)
 * doubles, at the first refinement.  fn NULL removes the source.  IR_EINVAL
 * on a workspace that does not stream. */
typedef int (*ir_nested_source)(void *ctx, size_t j0, size_t j1,
                                gsl_matrix *D);
int ir_nested_set_source(ir_nested *w, ir_nested_source fn, void *ctx);

/* Appends the next columns: B (n×d) of Φ and Bt (ntest×d) of Φt, d >= 1,
 * in the order of the columns, at most Nmax in all; N grows by d.  Cost:
 * n²d (dsyrk), + 2·ntest·n·d (C), + n·N·d while N <= n. */
int ir_nested_append(ir_nested *w, const gsl_matrix *B, const gsl_matrix *Bt);

/* Extends the Gram matrices to the first N columns (N >= the current N,
 * <= Nmax).  Cost of growing from N₀ to N: n²(N − N₀) (dual, dsyrk, half of
 * a dgemm) and n·N·(N − N₀) while N <= n (primal). */
int ir_nested_grow(ir_nested *w, size_t N);

/* The current N. */
size_t ir_nested_size(const ir_nested *w);

/* Fits c·Φ[:, :N] instead of Φ[:, :N] from now on (c finite, > 0; 1 at
 * alloc), without touching the Gram matrices: for random features applied
 * once at Nmax, c = ir_features_norm(f, N)/ir_features_norm(f, Nmax) turns
 * the prefix into the size-N model (features.h).  Min-norm weights and
 * norms are divided by c, ridge λ is the λ of the scaled problem (solved as
 * λ/c² on Φ), predictions, training MSE and condition numbers are those of
 * the scaled problem too (the first and last do not change).  IR_EDOM for a
 * bad c.  O(1). */
int ir_nested_set_scale(ir_nested *w, double c);

/* Min-norm solution at the current N.  P (ntest×K, may be NULL) receives the
 * test predictions, W (N×K, may be NULL) the weights. */
int ir_nested_minnorm(ir_nested *w, double rcond, double accuracy,
                      gsl_matrix *P, gsl_matrix *W, ir_nested_fit *fit);

/* Ridge solutions for m values λ_j > 0 at the current N: P[j] (ntest×K, or
 * NULL) and fit[j] for each.  Up to IR_NESTED_RIDGE_CHOL_MAX values by one
 * Cholesky of Gram + λI each (method IR_NESTED_CHOLESKY; the eigen route if
 * one breaks down), more from one eigendecomposition (IR_NESTED_EIGEN).
 * Either is accurate to about eps·(μ_max + λ)/λ relative. */
int ir_nested_ridge(ir_nested *w, const double *lambda, size_t m,
                    gsl_matrix **P, ir_nested_fit *fit);

/* Min-norm (as ir_nested_minnorm, without the weights) and ridge for the
 * m values λ_j > 0 (as ir_nested_ridge) at the current N in one pass: the
 * solutions of the Gram systems (min-norm and one Cholesky of Gram + λI per
 * λ) are stacked into one n×(1+m)K block and evaluated together — one
 * product with Φ_Nᵀ (dual), one with Φt_N for all predictions, one for the
 * training residuals (the ridge ones are λα exactly in the dual form) —
 * instead of reading Φ_N and Φt_N three times per solution.  The results
 * equal those of the two calls to rounding (the products are blocked
 * differently).  P, Pr and Pr[j] may be NULL.  Scratch: (1 + m)·K·(2n +
 * Nmax + ntest) doubles, kept for later calls. */
int ir_nested_solve(ir_nested *w, double rcond, double accuracy,
                    gsl_matrix *P, ir_nested_fit *fit, const double *lambda,
                    size_t m, gsl_matrix **Pr, ir_nested_fit *fr);

#ifdef __cplusplus
}
#endif
#endif
