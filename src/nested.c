/* nested.c — least squares over nested column sets with Gram matrices
 * updated as columns are added (see nested.h). */
#include "implreg/nested.h"

#include "implreg/data.h"
#include "implreg/linalg.h"
#include "implreg/minnorm.h"
#include "implreg/status.h"

#include <gsl/gsl_blas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ir_nested {
  size_t n, Nmax, K, ntest, N, mp;
  double scale; /* the fitted matrix is scale·Φ[:, :N] (ir_nested_set_scale) */
  const gsl_matrix *Phi, *Y, *Phit;
  gsl_matrix *Gd; /* n×n: Φ_N Φ_Nᵀ, lower triangle maintained */
  gsl_matrix *Gp; /* mp×mp: Φ_NᵀΦ_N for N <= mp, full */
  gsl_matrix *G;  /* n×n scratch for factorizations */
  gsl_matrix *B;  /* n×K scratch: right-hand sides and solutions */
  gsl_matrix *R;  /* n×K scratch: residuals */
  gsl_matrix *Wd; /* Nmax×K scratch: weights Φᵀα of a dual solution */
};

void ir_nested_free(ir_nested *w) {
  if (w == NULL)
    return;
  gsl_matrix *m[] = {w->Gd, w->Gp, w->G, w->B, w->R, w->Wd};
  for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
    if (m[i] != NULL)
      gsl_matrix_free(m[i]);
  free(w);
}

ir_nested *ir_nested_alloc(const gsl_matrix *Phi, const gsl_matrix *Y,
                           const gsl_matrix *Phit) {
  if (Phi->size1 != Y->size1 || (Phit && Phit->size2 != Phi->size2)) {
    ir_error(IR_ESHAPE,
             "nested: features %zux%zu, targets %zux%zu and test "
             "features with %zu columns do not match",
             Phi->size1, Phi->size2, Y->size1, Y->size2,
             Phit ? Phit->size2 : Phi->size2);
    return NULL;
  }
  ir_nested *w = calloc(1, sizeof *w);
  if (w == NULL) {
    ir_error(IR_ENOMEM, "out of memory (nested workspace)");
    return NULL;
  }
  w->n = Phi->size1;
  w->Nmax = Phi->size2;
  w->K = Y->size2;
  w->ntest = Phit ? Phit->size1 : 0;
  w->mp = w->n < w->Nmax ? w->n : w->Nmax;
  w->Phi = Phi;
  w->Y = Y;
  w->Phit = Phit;
  w->scale = 1.0;
  w->Gd = gsl_matrix_calloc(w->n, w->n);
  w->Gp = gsl_matrix_calloc(w->mp, w->mp);
  w->Wd = gsl_matrix_alloc(w->Nmax, w->K);
  w->G = gsl_matrix_alloc(w->n, w->n);
  w->B = gsl_matrix_alloc(w->n, w->K);
  w->R = gsl_matrix_alloc(w->n, w->K);
  if (!w->Gd || !w->Gp || !w->Wd || !w->G || !w->B || !w->R) {
    ir_error(IR_ENOMEM, "out of memory (nested workspace, n = %zu)", w->n);
    ir_nested_free(w);
    return NULL;
  }
  return w;
}

size_t ir_nested_size(const ir_nested *w) {
  return w->N;
}

int ir_nested_set_scale(ir_nested *w, double c) {
  if (!(c > 0) || !isfinite(c))
    return ir_error(IR_EDOM, "nested: column scale %g must be finite and > 0",
                    c);
  w->scale = c;
  return IR_OK;
}

int ir_nested_grow(ir_nested *w, size_t N) {
  if (N < w->N || N > w->Nmax)
    return ir_error(IR_EINVAL,
                    "nested: cannot go from %zu to %zu columns "
                    "(increasing, at most %zu)",
                    w->N, N, w->Nmax);
  if (N == w->N)
    return IR_OK;
  const size_t j0 = w->N, d = N - j0;
  gsl_matrix_const_view D = gsl_matrix_const_submatrix(w->Phi, 0, j0, w->n, d);
  gsl_blas_dsyrk(CblasLower, CblasNoTrans, 1.0, &D.matrix, 1.0, w->Gd);
  if (j0 < w->mp) {
    /* The primal Gram gains rows and columns j0..Np−1: the block
     * Φ[:, :Np]ᵀ Φ[:, j0:Np], mirrored. */
    const size_t Np = N < w->mp ? N : w->mp;
    gsl_matrix_const_view A =
        gsl_matrix_const_submatrix(w->Phi, 0, 0, w->n, Np);
    gsl_matrix_const_view C =
        gsl_matrix_const_submatrix(w->Phi, 0, j0, w->n, Np - j0);
    gsl_matrix_view blk = gsl_matrix_submatrix(w->Gp, 0, j0, Np, Np - j0);
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &A.matrix, &C.matrix, 0.0,
                   &blk.matrix);
    for (size_t i = 0; i < Np; i++)
      for (size_t j = j0; j < Np; j++)
        gsl_matrix_set(w->Gp, j, i, gsl_matrix_get(w->Gp, i, j));
  }
  w->N = N;
  return IR_OK;
}

/* The Gram matrix of the current N as a full m×m matrix in the scratch G:
 * primal (N <= n) or dual. */
static gsl_matrix_view ir_nested_gram(ir_nested *w, int *dual) {
  *dual = w->N > w->n;
  const size_t m = *dual ? w->n : w->N;
  gsl_matrix_view G = gsl_matrix_submatrix(w->G, 0, 0, m, m);
  if (*dual) {
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j <= i; j++) {
        double g = gsl_matrix_get(w->Gd, i, j);
        gsl_matrix_set(&G.matrix, i, j, g);
        gsl_matrix_set(&G.matrix, j, i, g);
      }
  } else {
    gsl_matrix_const_view S = gsl_matrix_const_submatrix(w->Gp, 0, 0, m, m);
    gsl_matrix_memcpy(&G.matrix, &S.matrix);
  }
  return G;
}

/* Train MSE, norm and test predictions for primal weights W (N×K). */
static void ir_nested_primal_eval(ir_nested *w, const gsl_matrix *W,
                                  gsl_matrix *P, ir_nested_fit *fit) {
  gsl_matrix_const_view Phi =
      gsl_matrix_const_submatrix(w->Phi, 0, 0, w->n, w->N);
  gsl_matrix_memcpy(w->R, w->Y);
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &Phi.matrix, W, -1.0, w->R);
  const double r = ir_matrix_fro(w->R);
  fit->train_mse = r * r / (double)w->n;
  fit->norm = ir_matrix_fro(W);
  if (P != NULL && w->Phit != NULL) {
    gsl_matrix_const_view Pt =
        gsl_matrix_const_submatrix(w->Phit, 0, 0, w->ntest, w->N);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &Pt.matrix, W, 0.0, P);
  }
}

/* The same for dual coefficients α (n×K): W = Φ_Nᵀα, then as primal.
 * Forming W costs n·N·K and its predictions ntest·N·K, far less than
 * keeping a test kernel Φt Φᵀ up to date (ntest·n per added column) when K
 * is small. */
static void ir_nested_dual_eval(ir_nested *w, const gsl_matrix *alpha,
                                gsl_matrix *P, gsl_matrix *W,
                                ir_nested_fit *fit) {
  gsl_matrix_const_view Phi =
      gsl_matrix_const_submatrix(w->Phi, 0, 0, w->n, w->N);
  gsl_matrix_view Wd = gsl_matrix_submatrix(w->Wd, 0, 0, w->N, w->K);
  gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &Phi.matrix, alpha, 0.0,
                 &Wd.matrix);
  ir_nested_primal_eval(w, &Wd.matrix, P, fit);
  if (W != NULL)
    gsl_matrix_memcpy(W, &Wd.matrix);
}

/* Evaluates a solution B of the Gram system: dual coefficients α (dual)
 * or the weights themselves; W (may be NULL) receives the weights. */
static void ir_nested_eval(ir_nested *w, const gsl_matrix *B, int dual,
                           gsl_matrix *P, gsl_matrix *W, ir_nested_fit *fit) {
  if (dual) {
    ir_nested_dual_eval(w, B, P, W, fit);
  } else {
    ir_nested_primal_eval(w, B, P, fit);
    if (W != NULL)
      gsl_matrix_memcpy(W, B);
  }
}

/* The right-hand side of the Gram system in w->B (m×K): Y (dual) or Φ_NᵀY
 * (primal). */
static gsl_matrix_view ir_nested_rhs(ir_nested *w, int dual, size_t m) {
  gsl_matrix_view B = gsl_matrix_submatrix(w->B, 0, 0, m, w->K);
  if (dual) {
    gsl_matrix_memcpy(&B.matrix, w->Y);
  } else {
    gsl_matrix_const_view Phi =
        gsl_matrix_const_submatrix(w->Phi, 0, 0, w->n, w->N);
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &Phi.matrix, w->Y, 0.0,
                   &B.matrix);
  }
  return B;
}

static int ir_nested_check_out(const ir_nested *w, const gsl_matrix *P,
                               const gsl_matrix *W) {
  if (w->N == 0)
    return ir_error(IR_EINVAL, "nested: no columns yet (call ir_nested_grow)");
  if (P && (P->size1 != w->ntest || P->size2 != w->K))
    return ir_error(IR_ESHAPE, "nested: predictions must be %zux%zu", w->ntest,
                    w->K);
  if (W && (W->size1 != w->N || W->size2 != w->K))
    return ir_error(IR_ESHAPE, "nested: weights must be %zux%zu", w->N, w->K);
  return IR_OK;
}

/* The routes that factor Φ_N itself: dgelsd (method IR_MINNORM_SVD) or
 * dgelsy (IR_MINNORM_COD). cond_est is the Cholesky estimate, used for COD
 * (dgelsy reports no singular values). */
static int ir_nested_direct(ir_nested *w, int method, double rcond,
                            double cond_est, gsl_matrix *P, gsl_matrix *W,
                            ir_nested_fit *fit) {
  gsl_matrix_const_view Phi =
      gsl_matrix_const_submatrix(w->Phi, 0, 0, w->n, w->N);
  gsl_matrix *Wt = W ? W : gsl_matrix_alloc(w->N, w->K);
  if (Wt == NULL)
    return ir_error(IR_ENOMEM, "out of memory (nested solve)");
  ir_minnorm_diag d;
  int s = ir_minnorm_solve(&Phi.matrix, w->Y, method, rcond, 1.0, Wt, &d);
  if (s == IR_OK) {
    ir_nested_primal_eval(w, Wt, P, fit);
    fit->method = method == IR_MINNORM_SVD ? IR_NESTED_SVD : IR_NESTED_COD;
    fit->rank = d.rank;
    fit->cond = method == IR_MINNORM_SVD ? d.cond : sqrt(cond_est);
    fit->rcond = d.rcond;
  }
  if (Wt != W)
    gsl_matrix_free(Wt);
  return s;
}

/* Applies (L Lᵀ)⁻¹ to B in place, L the lower triangle of Lf. */
static void chol_apply(const gsl_matrix *Lf, gsl_matrix *B) {
  gsl_blas_dtrsm(CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, 1.0, Lf,
                 B);
  gsl_blas_dtrsm(CblasLeft, CblasLower, CblasTrans, CblasNonUnit, 1.0, Lf, B);
}

/* Corrected semi-normal equations (Björck 1987) with the Cholesky factor
 * L of the Gram matrix in Lf: the solution from L alone, then refinement
 * steps whose residuals come from Φ_N, not from the Gram matrix, so that
 * the accuracy is that of Φ_N's conditioning once eps·cond(Gram) < 1.
 * Primal (B: ΦᵀY in, W out): W += (LLᵀ)⁻¹Φᵀ(Y − ΦW).  Dual (B: Y in, α
 * out, W = Φᵀα): α += (LLᵀ)⁻¹(Y − ΦΦᵀα).  At most 3 steps, until the
 * correction is below accuracy relative to the solution; IR_ESING when it
 * is not (the caller factors Φ_N instead). */
static int ir_nested_csne(ir_nested *w, const gsl_matrix *Lf, gsl_matrix *B,
                          int dual, double accuracy) {
  gsl_matrix_const_view Phi =
      gsl_matrix_const_submatrix(w->Phi, 0, 0, w->n, w->N);
  gsl_matrix_view Wd = gsl_matrix_submatrix(w->Wd, 0, 0, w->N, w->K);
  chol_apply(Lf, B);
  double corr = INFINITY;
  for (int it = 0; it < 3 && !(corr <= accuracy); it++) {
    /* R = Y − Φ_N W, with W = B (primal) or Φᵀα (dual). */
    const gsl_matrix *Wc = B;
    if (dual) {
      gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &Phi.matrix, B, 0.0,
                     &Wd.matrix);
      Wc = &Wd.matrix;
    }
    gsl_matrix_memcpy(w->R, w->Y);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, -1.0, &Phi.matrix, Wc, 1.0,
                   w->R);
    gsl_matrix *D = w->R; /* dual: the correction of α in place */
    if (!dual) {
      gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &Phi.matrix, w->R, 0.0,
                     &Wd.matrix);
      D = &Wd.matrix;
    }
    chol_apply(Lf, D);
    const double dn = ir_matrix_fro(D);
    gsl_matrix_add(B, D);
    const double bn = ir_matrix_fro(B);
    corr = bn > 0 ? dn / bn : dn;
  }
  if (!(corr <= accuracy))
    return ir_error(IR_ESING,
                    "corrected semi-normal equations: the last correction is "
                    "%.2g of the solution (> %.1e)",
                    corr, accuracy);
  return IR_OK;
}

/* Min-norm on the unscaled columns Φ[:, :N]. */
static int ir_nested_minnorm_raw(ir_nested *w, double rcond, double accuracy,
                                 gsl_matrix *P, gsl_matrix *W,
                                 ir_nested_fit *fit) {
  int s = ir_nested_check_out(w, P, W);
  if (s != IR_OK)
    return s;
  memset(fit, 0, sizeof *fit);
  fit->N = w->N;
  fit->rcond = NAN;
  int dual;
  gsl_matrix_view G = ir_nested_gram(w, &dual);
  const size_t m = G.matrix.size1;
  gsl_matrix_view B = ir_nested_rhs(w, dual, m);
  double cg = INFINITY;
  s = ir_linalg_spd_solve(&G.matrix, &B.matrix, accuracy, &cg);
  if (s == IR_ESING && isfinite(cg) && DBL_EPSILON * cg <= IR_NESTED_CSNE_MAX) {
    /* Cholesky completed but its solution alone is not accurate enough:
     * refine it with residuals of Φ_N itself (corrected semi-normal
     * equations) — G holds the factor, B the right-hand side. */
    ir_error_clear();
    s = ir_nested_csne(w, &G.matrix, &B.matrix, dual, accuracy);
    if (s == IR_OK) {
      fit->method = IR_NESTED_CSNE;
      fit->rank = m;
      fit->cond = sqrt(cg);
      ir_nested_eval(w, &B.matrix, dual, P, W, fit);
      return IR_OK;
    }
    if (s != IR_ESING)
      return s;
  }
  if (s == IR_ESING) {
    /* Too ill-conditioned for the Gram route: factor Φ_N itself — by COD
     * when Cholesky completed (full rank, the estimate is finite), by the
     * SVD when it broke down (the rank decision needs singular values). */
    ir_error_clear();
    return ir_nested_direct(w, isfinite(cg) ? IR_MINNORM_COD : IR_MINNORM_SVD,
                            rcond, cg, P, W, fit);
  }
  if (s != IR_OK)
    return s;
  fit->method = IR_NESTED_CHOLESKY;
  fit->rank = m;
  fit->cond = sqrt(cg);
  ir_nested_eval(w, &B.matrix, dual, P, W, fit);
  return IR_OK;
}

/* Ridge by one Cholesky of G + λI per λ (G the Gram matrix of the
 * smaller side).  IR_ESING when a factorization breaks down (λ below the
 * rounding of G): the caller then takes the eigen route. */
static int ir_nested_ridge_chol(ir_nested *w, const double *lambda,
                                size_t nl, gsl_matrix **P,
                                ir_nested_fit *fit) {
  for (size_t j = 0; j < nl; j++) {
    int dual;
    gsl_matrix_view G = ir_nested_gram(w, &dual);
    const size_t m = G.matrix.size1;
    for (size_t i = 0; i < m; i++)
      G.matrix.data[i * G.matrix.tda + i] += lambda[j];
    gsl_matrix_view B = ir_nested_rhs(w, dual, m);
    double cg = INFINITY;
    int s = ir_linalg_spd_solve(&G.matrix, &B.matrix, 1.0, &cg);
    if (s != IR_OK)
      return s;
    ir_nested_fit *ft = &fit[j];
    memset(ft, 0, sizeof *ft);
    ft->N = w->N;
    ft->method = IR_NESTED_CHOLESKY;
    ft->rank = m;
    ft->cond = NAN; /* the factor is of G + λI: it says nothing of Φ_N */
    ft->rcond = NAN;
    ft->lambda = lambda[j];
    ir_nested_eval(w, &B.matrix, dual, P ? P[j] : NULL, NULL, ft);
  }
  return IR_OK;
}

/* Ridge on the unscaled columns Φ[:, :N]. */
static int ir_nested_ridge_raw(ir_nested *w, const double *lambda, size_t nl,
                               gsl_matrix **P, ir_nested_fit *fit) {
  int s = ir_nested_check_out(w, NULL, NULL);
  if (s != IR_OK)
    return s;
  for (size_t j = 0; j < nl; j++)
    if (!(lambda[j] > 0) || !isfinite(lambda[j]))
      return ir_error(IR_EDOM, "ridge lambda = %g must be finite and > 0",
                      lambda[j]);
  int dual;
  gsl_matrix_view G = ir_nested_gram(w, &dual);
  const size_t m = G.matrix.size1, K = w->K;
  /* A handful of λ: one Cholesky of G + λI each (m³/3 flops, conditioned
   * by λ: eps·(μ_max + λ)/λ, the eigen route's own accuracy) instead of an
   * eigendecomposition (about 9m³ with vectors). */
  if (nl <= IR_NESTED_RIDGE_CHOL_MAX) {
    s = ir_nested_ridge_chol(w, lambda, nl, P, fit);
    if (s != IR_ESING)
      return s;
    ir_error_clear(); /* rounding broke a factorization: eigen route */
    G = ir_nested_gram(w, &dual);
  }
  ir_eigen_symm *eig = ir_eigen_symm_alloc(m);
  gsl_matrix *C = gsl_matrix_alloc(m, K), *D = gsl_matrix_alloc(m, K);
  if (!eig || !C || !D) {
    s = ir_error(IR_ENOMEM, "out of memory (nested ridge, m = %zu)", m);
    goto done;
  }
  if ((s = ir_eigen_symm_decomp(eig, &G.matrix)) != IR_OK)
    goto done;
  const gsl_vector *ev = eig->eval;
  const gsl_matrix *Q = eig->evec;
  /* C = Qᵀ(ΦᵀY) (primal) or QᵀY (dual). */
  if (dual) {
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, Q, w->Y, 0.0, C);
  } else {
    gsl_matrix_const_view Phi =
        gsl_matrix_const_submatrix(w->Phi, 0, 0, w->n, w->N);
    gsl_matrix_view B = gsl_matrix_submatrix(w->B, 0, 0, m, K);
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &Phi.matrix, w->Y, 0.0,
                   &B.matrix);
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, Q, &B.matrix, 0.0, C);
  }
  /* The Gram matrix is positive semi-definite: negative eigenvalues are
   * rounding. */
  const double emax = fmax(gsl_vector_get(ev, m - 1), 0.0);
  const double emin = fmax(gsl_vector_get(ev, 0), 0.0);
  for (size_t j = 0; j < nl; j++) {
    for (size_t i = 0; i < m; i++) {
      const double f = 1.0 / (fmax(gsl_vector_get(ev, i), 0.0) + lambda[j]);
      for (size_t k = 0; k < K; k++)
        gsl_matrix_set(D, i, k, f * gsl_matrix_get(C, i, k));
    }
    ir_nested_fit *ft = &fit[j];
    memset(ft, 0, sizeof *ft);
    ft->N = w->N;
    ft->method = IR_NESTED_EIGEN;
    ft->rank = m;
    ft->cond = emin > 0 ? sqrt(emax / emin) : INFINITY;
    ft->rcond = NAN;
    ft->lambda = lambda[j];
    gsl_matrix_view B = gsl_matrix_submatrix(w->B, 0, 0, m, K);
    /* B = Q D: the weights (primal) or the dual coefficients α. */
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, Q, D, 0.0, &B.matrix);
    ir_nested_eval(w, &B.matrix, dual, P ? P[j] : NULL, NULL, ft);
  }
done:
  ir_eigen_symm_free(eig);
  if (C)
    gsl_matrix_free(C);
  if (D)
    gsl_matrix_free(D);
  return s;
}

/* With the fitted matrix cΦ_N: the min-norm weights of cΦ_N are W/c (W
 * those of Φ_N), the ridge solution for λ is (c²ΦᵀΦ + λI)⁻¹cΦᵀY = (1/c)·(the
 * ridge solution of Φ_N for λ/c²); predictions cΦ_t(W/c), training
 * residuals and condition numbers do not change. */
int ir_nested_minnorm(ir_nested *w, double rcond, double accuracy,
                      gsl_matrix *P, gsl_matrix *W, ir_nested_fit *fit) {
  int s = ir_nested_minnorm_raw(w, rcond, accuracy, P, W, fit);
  if (s == IR_OK && w->scale != 1.0) {
    fit->norm /= w->scale;
    if (W != NULL)
      gsl_matrix_scale(W, 1.0 / w->scale);
  }
  return s;
}

int ir_nested_ridge(ir_nested *w, const double *lambda, size_t nl,
                    gsl_matrix **P, ir_nested_fit *fit) {
  for (size_t j = 0; j < nl; j++)
    if (!(lambda[j] > 0) || !isfinite(lambda[j]))
      return ir_error(IR_EDOM, "ridge lambda = %g must be finite and > 0",
                      lambda[j]);
  const double c = w->scale;
  if (c == 1.0)
    return ir_nested_ridge_raw(w, lambda, nl, P, fit);
  double *lr = calloc(nl ? nl : 1, sizeof *lr);
  if (lr == NULL)
    return ir_error(IR_ENOMEM, "out of memory (nested ridge)");
  for (size_t j = 0; j < nl; j++)
    lr[j] = lambda[j] / (c * c);
  int s = ir_nested_ridge_raw(w, lr, nl, P, fit);
  free(lr);
  for (size_t j = 0; s == IR_OK && j < nl; j++) {
    fit[j].norm /= c;
    fit[j].lambda = lambda[j];
  }
  return s;
}
