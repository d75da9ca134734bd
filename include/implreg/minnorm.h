/* implreg/minnorm.h — minimum-l2-norm least-squares solutions.
 *
 * For X (n×p, any shape and rank) and Y (n×K), the minimum-norm solution
 * W = X⁺Y (p×K) is the least-squares solution of smallest Frobenius norm;
 * when rank X = n it interpolates (XW = Y).  With the thin SVD X = U S Vᵀ and
 * a cutoff rcond, W = V_r S_r⁻¹ U_rᵀ Y over the r singular values
 * s_i > rcond·s_max (numpy.linalg.lstsq and LAPACK's dgelsd use the same
 * rule).  Ridge solutions (XᵀX + λI)⁻¹XᵀY = V diag(s/(s² + λ)) UᵀY come from
 * the same SVD.
 *
 * The workspace follows FFTW's plan/execute pattern: factor X once
 * (O(np·min(n, p))), set a right-hand side once (O(nkK) for UᵀY), then each
 * cutoff or ridge value costs only O(pkK).
 */
#ifndef IMPLREG_MINNORM_H
#define IMPLREG_MINNORM_H

#include <gsl/gsl_matrix.h>
#include <stddef.h>

#include "implreg/linalg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Solution methods for ir_minnorm_solve. */
enum {
  IR_MINNORM_SVD = 0, /* SVD (dgelsd, as numpy.linalg.lstsq): exact rank
                         decision, singular values for the diagnostics */
  IR_MINNORM_COD = 1, /* complete orthogonal decomposition (dgelsy) */
  IR_MINNORM_GRAM = 2 /* Cholesky of XᵀX (n >= p) or XXᵀ (n < p): fastest,
                         refused when cond(Gram)·eps exceeds the accuracy */
};

/* What a solve reports.  Fields a method cannot supply are NAN. */
typedef struct {
  size_t n, p, K;
  size_t rank;           /* number of singular values kept */
  double sigma_max;      /* largest singular value of X */
  double sigma_min_kept; /* smallest kept singular value */
  double sigma_min;      /* smallest of the min(n, p) singular values */
  double cond;           /* sigma_max / sigma_min_kept (of the kept part) */
  double rcond;          /* the cutoff used, relative to sigma_max */
  double norm;           /* ‖W‖_F */
  double residual;       /* ‖XW − Y‖_F */
  double rel_residual;   /* ‖XW − Y‖_F / ‖Y‖_F (0 when Y = 0) */
  int method;
} ir_minnorm_diag;

/* eps·max(n, p): the default cutoff of numpy.linalg.lstsq (rcond=None). */
double ir_minnorm_default_rcond(size_t n, size_t p);

/* ---- Factor once, solve many
 * ----------------------------------------------------- */

typedef struct ir_minnorm ir_minnorm;

/* Workspace for n×p matrices and up to Kmax right-hand sides. NULL on
 * failure. */
ir_minnorm *ir_minnorm_alloc(size_t n, size_t p, size_t Kmax);
void ir_minnorm_free(ir_minnorm *w);

/* Thin SVD of X. Cost O(np·min(n, p)). */
int ir_minnorm_factor(ir_minnorm *w, const gsl_matrix *X);

/* The SVD computed by the last ir_minnorm_factor (owned by w). */
const ir_svd *ir_minnorm_svd(const ir_minnorm *w);

/* Stores C = UᵀY (k×K) for the solves below. Cost O(nkK). */
int ir_minnorm_set_rhs(ir_minnorm *w, const gsl_matrix *Y);

/* Number of singular values s_i > rcond·s_max (rcond < 0: the default). */
size_t ir_minnorm_rank(const ir_minnorm *w, double rcond);

/* W = V_r S_r⁻¹ C_r (p×K). rcond < 0 selects the default. Cost O(pkK). */
int ir_minnorm_pinv(const ir_minnorm *w, double rcond, gsl_matrix *W);

/* W = V diag(s/(s² + λ)) C, λ >= 0 (λ = 0 is the pseudo-inverse with the
 * default cutoff). Cost O(pkK). */
int ir_minnorm_ridge(const ir_minnorm *w, double lambda, gsl_matrix *W);

/* Fills d for the solution W of the current right-hand side Y with cutoff
 * rcond (singular-value fields from the SVD; residual computed directly as
 * ‖XW − Y‖_F, not from the SVD, so that it is accurate near 0). */
int ir_minnorm_diagnose(const ir_minnorm *w, double rcond, const gsl_matrix *X,
                        const gsl_matrix *Y, const gsl_matrix *W,
                        ir_minnorm_diag *d);

/* ‖(I − X⁺X)W‖_F / ‖W‖_F: the fraction of W outside the row space of X
 * (directions with s_i <= rcond·s_max count as outside; rcond < 0: the
 * default).  Gradient methods from 0 never leave the row space, which is why
 * their limit is X⁺Y.  0 for W = 0. Cost O(pkK). */
double ir_minnorm_nullspace_fraction(const ir_minnorm *w, double rcond,
                                     const gsl_matrix *W);

/* ---- Ridge paths from one tridiagonal reduction ---------------------------
 */

/* Ridge solutions W_λ = (XᵀX + λI)⁻¹XᵀY for many λ > 0 from one reduction
 * of the smaller Gram matrix to tridiagonal form (the kernel trick): G =
 * HTHᵀ with H orthogonal (Householder, dsytrd) and T symmetric tridiagonal,
 * so (G + λI)⁻¹ = H(T + λI)⁻¹Hᵀ.  For n < p, G = XXᵀ and W_λ =
 * XᵀH(T + λI)⁻¹HᵀY (dual form); for n >= p, G = XᵀX and W_λ =
 * H(T + λI)⁻¹HᵀXᵀY (primal form).  Factoring costs m²·max(n, p) for G
 * (dsyrk) plus (4/3)m³ for dsytrd, m = min(n, p) — less than the
 * eigendecomposition (dsyevd adds the tridiagonal eigensolver and 2m³ for
 * the eigenvectors) and far less than an SVD with singular vectors; each λ
 * then costs O(mK) for the tridiagonal solve, plus 2m²K to apply H and, in
 * the dual form, 2npK for Xᵀ — done for all λ at once by the path functions
 * at BLAS-3 speed.  Forming G squares the condition number: W_λ is accurate
 * to about eps·‖G‖/λ relative (the same as a Cholesky of G + λI); use
 * ir_minnorm_pinv for λ = 0 or λ below that. */
typedef struct ir_ridge ir_ridge;

ir_ridge *ir_ridge_alloc(size_t n, size_t p, size_t Kmax);
void ir_ridge_free(ir_ridge *r);

/* Forms the Gram matrix of X and reduces it to tridiagonal form.  The
 * workspace BORROWS X (the dual form needs it for every solve): keep it
 * alive and unchanged. */
int ir_ridge_factor(ir_ridge *r, const gsl_matrix *X);

/* Projects the right-hand side Y (n×K, K <= Kmax) once (Y is copied).
 * Cost O(m·nK + m²K). */
int ir_ridge_set_rhs(ir_ridge *r, const gsl_matrix *Y);

/* W (p×K) = W_λ for λ > 0 (IR_EDOM otherwise). */
int ir_ridge_solve(const ir_ridge *r, double lambda, gsl_matrix *W);

/* The whole path at once: W (p × L·K) holds W_λ for λ = lambdas[l] in
 * columns l·K .. l·K + K − 1 (every λ > 0), from one application of H to
 * all λ side by side (and one product with Xᵀ in the dual form) instead of
 * L narrow ones — the same flops, at BLAS-3 speed.  Cost O(mLK + m²LK +
 * npLK); scratch m·L·K doubles in the dual form, allocated per call.
 * IR_ESING only when some λ lies below the rounding level of G's
 * eigenvalues (T + λI exactly singular in the pivoted fallback). */
int ir_ridge_solve_path(const ir_ridge *r, const double *lambdas, size_t L,
                        gsl_matrix *W);

/* As ir_ridge_solve_path, and resid[l] = ‖XW_λ − Y‖_F (resid: L entries,
 * may be NULL) without forming XW: in the dual form from XW − Y =
 * −λ(G + λI)⁻¹Y = −λHu (u = (T + λI)⁻¹HᵀY, norm preserved by H); in the
 * primal form from ‖Y‖² − 2⟨HᵀXᵀY, u⟩ + ⟨u, Tu⟩, or from X·W_λ − Y for the
 * λ where that difference cancels to below 1e-3 of its terms.  Accurate to
 * about eps·‖G‖/λ relative, as W_λ. */
int ir_ridge_solve_path_resid(const ir_ridge *r, const double *lambdas,
                              size_t L, gsl_matrix *W, double *resid);

/* Fills d->norm (‖W‖_F), d->residual (‖XW − Y‖_F) and d->rel_residual;
 * other fields are untouched. Cost O(npK). */
int ir_minnorm_residual(const gsl_matrix *X, const gsl_matrix *Y,
                        const gsl_matrix *W, ir_minnorm_diag *d);

/* ---- One-shot solve
 * -------------------------------------------------------------- */

/* W = X⁺Y by the given method (IR_MINNORM_*).  rcond < 0: the default.
 * For IR_MINNORM_GRAM, accuracy (> 0) is the relative accuracy asked for:
 * the solve is refused with IR_ESING when the estimated condition number of
 * the Gram matrix times eps exceeds it, or when the Cholesky factorization
 * breaks down (rank deficiency).  d may be NULL. */
int ir_minnorm_solve(const gsl_matrix *X, const gsl_matrix *Y, int method,
                     double rcond, double accuracy, gsl_matrix *W,
                     ir_minnorm_diag *d);

/* Parses "svd", "cod" or "gram". */
int ir_minnorm_parse_method(const char *name, int *method);
const char *ir_minnorm_method_name(int method);

#ifdef __cplusplus
}
#endif
#endif
