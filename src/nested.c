/* nested.c — least squares over nested column sets with Gram matrices
 * updated as columns are added (see nested.h). */
#include "implreg/nested.h"

#include "implreg/data.h"
#include "implreg/linalg.h"
#include "implreg/minnorm.h"
#include "implreg/status.h"

#include <gsl/gsl_blas.h>
#include <lapacke.h>
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
  /* ir_nested_solve's scratch for c = (1 + #λ)·K stacked right-hand sides
   * (allocated on first use, grown when c grows): solutions S (n×c),
   * weights transposed (c×Nphi: Wᵀ = αᵀΦ runs at twice the speed of
   * W = Φᵀα in OpenBLAS, 13 against 29 ms at n = 1000, N = 10⁴, c = 60),
   * predictions (ntest×c), residuals (n×c). */
  size_t cap;
  gsl_matrix *S, *Wall, *Pall, *Rall;
  /* Streaming (ir_nested_alloc_stream): Φ and Φt are owned and hold the
   * first Nphi columns only (Nphi = Nmax otherwise); C = Φt_N Φ_Nᵀ
   * (ntest×n) is accumulated for the points past Nphi. */
  size_t Nphi;
  int stream;
  gsl_matrix *own_Phi, *own_Phit, *C;
  /* The column source (ir_nested_set_source), the blocks appended past
   * Nphi (starts and ends, in order) and the scratch they are regenerated
   * into. */
  ir_nested_source src;
  void *src_ctx;
  size_t *cut0, *cut1, ncut, capcut;
  gsl_matrix *D, *DT; /* widest block: n × w and its products w × K */
};

/* True when the current N is past the columns held (streamed points: the
 * Gram matrices and C only). */
static int ir_nested_streamed(const ir_nested *w) {
  return w->N > w->Nphi;
}

void ir_nested_free(ir_nested *w) {
  if (w == NULL)
    return;
  gsl_matrix *m[] = {w->Gd,   w->Gp,   w->G,       w->B,        w->R,
                     w->Wd,   w->S,    w->Wall,    w->Pall,     w->Rall,
                     w->own_Phi, w->own_Phit, w->C};
  for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
    if (m[i] != NULL)
      gsl_matrix_free(m[i]);
  if (w->D != NULL)
    gsl_matrix_free(w->D);
  if (w->DT != NULL)
    gsl_matrix_free(w->DT);
  free(w->cut0);
  free(w->cut1);
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
  w->Nphi = w->Nmax;
  w->K = Y->size2;
  w->ntest = Phit ? Phit->size1 : 0;
  w->mp = w->n < w->Nmax ? w->n : w->Nmax;
  w->Phi = Phi;
  w->Y = Y;
  w->Phit = Phit;
  w->scale = 1.0;
  w->Gd = ir_matrix_alloc_big(w->n, w->n);
  w->Gp = ir_matrix_alloc_big(w->mp, w->mp);
  w->Wd = ir_matrix_alloc_big(w->Nmax, w->K);
  w->G = ir_matrix_alloc_big(w->n, w->n);
  w->B = ir_matrix_alloc_big(w->n, w->K);
  w->R = ir_matrix_alloc_big(w->n, w->K);
  if (!w->Gd || !w->Gp || !w->Wd || !w->G || !w->B || !w->R) {
    ir_error(IR_ENOMEM, "out of memory (nested workspace, n = %zu)", w->n);
    ir_nested_free(w);
    return NULL;
  }
  gsl_matrix_set_zero(w->Gd);
  gsl_matrix_set_zero(w->Gp);
  return w;
}

ir_nested *ir_nested_alloc_stream(const gsl_matrix *Y, size_t ntest,
                                  size_t Nkeep, size_t Nmax) {
  const size_t n = Y->size1;
  if (Nmax == 0 || Nkeep > Nmax || Nkeep < (n < Nmax ? n : Nmax)) {
    ir_error(IR_EINVAL,
             "nested stream: keep %zu of %zu columns (at least min(n, Nmax) "
             "= %zu)",
             Nkeep, Nmax, n < Nmax ? n : Nmax);
    return NULL;
  }
  gsl_matrix *P = ir_matrix_alloc_big(n, Nkeep);
  gsl_matrix *Pt = ntest ? ir_matrix_alloc_big(ntest, Nkeep) : NULL;
  gsl_matrix *C =
      ntest && Nmax > Nkeep ? ir_matrix_alloc_big(ntest, n) : NULL;
  ir_nested *w = NULL;
  if (P && (Pt || !ntest) && (C || !(ntest && Nmax > Nkeep)))
    w = ir_nested_alloc(P, Y, Pt);
  if (w == NULL) {
    if (P)
      gsl_matrix_free(P);
    if (Pt)
      gsl_matrix_free(Pt);
    if (C)
      gsl_matrix_free(C);
    ir_error(IR_ENOMEM, "out of memory (nested stream, %zu x %zu kept)", n,
             Nkeep);
    return NULL;
  }
  w->own_Phi = P;
  w->own_Phit = Pt;
  w->C = C;
  if (C)
    gsl_matrix_set_zero(C);
  w->stream = 1;
  w->Nphi = Nkeep;
  w->Nmax = Nmax;
  w->mp = n < Nmax ? n : Nmax;
  return w;
}

/* Gram matrices extended from columns j0 to N = j0 + D->size2 whose new
 * columns are D (n×d); the primal part reads Φ[:, :N] (held). */
static void ir_nested_update(ir_nested *w, const gsl_matrix *D, size_t N) {
  const size_t j0 = w->N;
  gsl_blas_dsyrk(CblasLower, CblasNoTrans, 1.0, D, 1.0, w->Gd);
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
}

int ir_nested_append(ir_nested *w, const gsl_matrix *B, const gsl_matrix *Bt) {
  if (!w->stream)
    return ir_error(IR_EINVAL, "nested: append needs a streaming workspace "
                               "(ir_nested_alloc_stream)");
  const size_t d = B->size2, j0 = w->N;
  if (B->size1 != w->n || (w->ntest ? (Bt == NULL || Bt->size1 != w->ntest ||
                                       Bt->size2 != d)
                                    : Bt != NULL))
    return ir_error(IR_ESHAPE,
                    "nested append: blocks %zux%zu and test block must have "
                    "%zu and %zu rows and the same columns",
                    B->size1, d, w->n, w->ntest);
  if (d > w->Nmax - j0)
    return ir_error(IR_EINVAL, "nested append: %zu + %zu columns exceed %zu",
                    j0, d, w->Nmax);
  /* The part of the block inside the held prefix is copied in. */
  if (j0 < w->Nphi) {
    const size_t h = (j0 + d < w->Nphi ? j0 + d : w->Nphi) - j0;
    gsl_matrix_const_view Bs = gsl_matrix_const_submatrix(B, 0, 0, w->n, h);
    gsl_matrix_view Ps = gsl_matrix_submatrix(w->own_Phi, 0, j0, w->n, h);
    gsl_matrix_memcpy(&Ps.matrix, &Bs.matrix);
    if (w->ntest) {
      gsl_matrix_const_view Bts =
          gsl_matrix_const_submatrix(Bt, 0, 0, w->ntest, h);
      gsl_matrix_view Pts =
          gsl_matrix_submatrix(w->own_Phit, 0, j0, w->ntest, h);
      gsl_matrix_memcpy(&Pts.matrix, &Bts.matrix);
    }
  }
  /* Blocks reaching past the held prefix are recorded: a refinement asks
   * the source for them again. */
  if (j0 + d > w->Nphi) {
    if (w->ncut == w->capcut) {
      const size_t c = w->capcut ? 2 * w->capcut : 16;
      size_t *a = realloc(w->cut0, c * sizeof *a);
      if (a != NULL)
        w->cut0 = a;
      size_t *b = a ? realloc(w->cut1, c * sizeof *b) : NULL;
      if (b == NULL)
        return ir_error(IR_ENOMEM, "out of memory (nested append)");
      w->cut1 = b;
      w->capcut = c;
    }
    w->cut0[w->ncut] = j0;
    w->cut1[w->ncut++] = j0 + d;
  }
  if (w->C != NULL)
    gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, Bt, B, 1.0, w->C);
  ir_nested_update(w, B, j0 + d);
  return IR_OK;
}

int ir_nested_set_source(ir_nested *w, ir_nested_source fn, void *ctx) {
  if (!w->stream)
    return ir_error(IR_EINVAL, "nested: a column source needs a streaming "
                               "workspace (ir_nested_alloc_stream)");
  w->src = fn;
  w->src_ctx = fn ? ctx : NULL;
  return IR_OK;
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
  if (w->stream)
    return ir_error(IR_EINVAL, "nested: a streaming workspace grows by "
                               "ir_nested_append");
  if (N == w->N)
    return IR_OK;
  const size_t j0 = w->N, d = N - j0;
  gsl_matrix_const_view D = gsl_matrix_const_submatrix(w->Phi, 0, j0, w->n, d);
  ir_nested_update(w, &D.matrix, N);
  return IR_OK;
}

/* The lower triangle (diagonal included) of the dual Gram S into D. */
static void ir_nested_copy_lower(const gsl_matrix *S, gsl_matrix *D) {
  for (size_t i = 0; i < D->size1; i++)
    memcpy(D->data + i * D->tda, S->data + i * S->tda,
           (i + 1) * sizeof(double));
}

/* The Gram matrix of the current N as a full m×m matrix in the scratch G:
 * primal (N <= n) or dual. */
static gsl_matrix_view ir_nested_gram(ir_nested *w, int *dual) {
  *dual = w->N > w->n;
  const size_t m = *dual ? w->n : w->N;
  gsl_matrix_view G = gsl_matrix_submatrix(w->G, 0, 0, m, m);
  if (*dual) {
    ir_nested_copy_lower(w->Gd, &G.matrix);
    /* Mirror in 64×64 tiles (the row-by-column copy is cache-hostile). */
    double *g = G.matrix.data;
    const size_t td = G.matrix.tda, T = 64;
    for (size_t i0 = 0; i0 < m; i0 += T)
      for (size_t j0 = 0; j0 <= i0; j0 += T) {
        const size_t i1 = i0 + T < m ? i0 + T : m;
        for (size_t i = i0; i < i1; i++) {
          const size_t j1 = j0 + T < i ? j0 + T : i;
          for (size_t j = j0; j < j1; j++)
            g[j * td + i] = g[i * td + j];
        }
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

/* A dual solution α (n×K) at a streamed point, from the Gram matrices
 * alone: T = Gα (dsymm on the lower triangle), ‖W‖² = Σ αᵀGα, training
 * residual Y − Gα, predictions C α. */
static void ir_nested_gram_eval(ir_nested *w, const gsl_matrix *alpha,
                                gsl_matrix *P, ir_nested_fit *fit) {
  gsl_matrix_view T = gsl_matrix_submatrix(w->R, 0, 0, w->n, w->K);
  gsl_blas_dsymm(CblasLeft, CblasLower, 1.0, w->Gd, alpha, 0.0, &T.matrix);
  double q = 0;
  for (size_t i = 0; i < w->n; i++)
    for (size_t k = 0; k < w->K; k++)
      q += alpha->data[i * alpha->tda + k] * T.matrix.data[i * T.matrix.tda + k];
  fit->norm = sqrt(fmax(q, 0.0));
  const double r = ir_matrix_fro_diff(w->Y, &T.matrix);
  fit->train_mse = r * r / (double)w->n;
  if (P != NULL && w->C != NULL)
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, w->C, alpha, 0.0, P);
}

/* Evaluates a solution B of the Gram system: dual coefficients α (dual)
 * or the weights themselves; W (may be NULL) receives the weights. */
static void ir_nested_eval(ir_nested *w, const gsl_matrix *B, int dual,
                           gsl_matrix *P, gsl_matrix *W, ir_nested_fit *fit) {
  if (ir_nested_streamed(w)) {
    ir_nested_gram_eval(w, B, P, fit); /* W refused by check_out */
  } else if (dual) {
    ir_nested_dual_eval(w, B, P, W, fit);
  } else {
    ir_nested_primal_eval(w, B, P, fit);
    if (W != NULL)
      gsl_matrix_memcpy(W, B);
  }
}

/* The right-hand side of the Gram system in the top m×K block of dst
 * (w->B for the min-norm solve, w->R for the ridge stack): Y (dual) or
 * Φ_NᵀY (primal). */
static gsl_matrix_view ir_nested_rhs(ir_nested *w, int dual, size_t m,
                                     gsl_matrix *dst) {
  gsl_matrix_view B = gsl_matrix_submatrix(dst, 0, 0, m, w->K);
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
  if (W && ir_nested_streamed(w))
    return ir_error(IR_EINVAL, "nested: no weights past the %zu held "
                               "columns of a streaming workspace",
                    w->Nphi);
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


/* R = Y − Φ_N(Φ_Nᵀα) (dual): the held columns Φ[:, :min(N, Nphi)] from
 * the workspace and, at a streamed point, the others made again by the
 * source in the blocks they were appended in, each block's part below N
 * used. */
static int ir_nested_dual_resid(ir_nested *w, const gsl_matrix *alpha,
                                gsl_matrix *R) {
  const size_t n = w->n, K = w->K, Nh = w->N < w->Nphi ? w->N : w->Nphi;
  gsl_matrix_memcpy(R, w->Y);
  gsl_matrix_const_view Ph = gsl_matrix_const_submatrix(w->Phi, 0, 0, n, Nh);
  gsl_matrix_view T = gsl_matrix_submatrix(w->Wd, 0, 0, Nh, K);
  gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &Ph.matrix, alpha, 0.0,
                 &T.matrix);
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, -1.0, &Ph.matrix, &T.matrix, 1.0,
                 R);
  if (!ir_nested_streamed(w))
    return IR_OK;
  if (w->D == NULL || w->DT == NULL) {
    size_t wide = 1;
    for (size_t b = 0; b < w->ncut; b++)
      wide = w->cut1[b] - w->cut0[b] > wide ? w->cut1[b] - w->cut0[b] : wide;
    /* (not in Wd: a streaming workspace's Wd has only Nphi rows) */
    if (w->D == NULL)
      w->D = ir_matrix_alloc_big(n, wide);
    if (w->DT == NULL)
      w->DT = ir_matrix_alloc_big(wide, K);
    if (w->D == NULL || w->DT == NULL)
      return ir_error(IR_ENOMEM, "out of memory (nested refinement, %zu x %zu)",
                      n, wide);
  }
  for (size_t b = 0; b < w->ncut && w->cut0[b] < w->N; b++) {
    const size_t j0 = w->cut0[b], j1 = w->cut1[b];
    if (j1 - j0 > w->D->size2)
      return ir_error(IR_EINTERNAL, "nested refinement: block %zu..%zu "
                      "wider than its scratch", j0, j1);
    gsl_matrix_view D = gsl_matrix_submatrix(w->D, 0, 0, n, j1 - j0);
    int s = w->src(w->src_ctx, j0, j1, &D.matrix);
    if (s != IR_OK)
      return s;
    const size_t c0 = (j0 < w->Nphi ? w->Nphi : j0) - j0,
                 c1 = (j1 < w->N ? j1 : w->N) - j0;
    gsl_matrix_view Dv = gsl_matrix_submatrix(&D.matrix, 0, c0, n, c1 - c0);
    gsl_matrix_view Tb = gsl_matrix_submatrix(w->DT, 0, 0, c1 - c0, K);
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &Dv.matrix, alpha, 0.0,
                   &Tb.matrix);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, -1.0, &Dv.matrix, &Tb.matrix,
                   1.0, R);
  }
  return IR_OK;
}

/* Corrected semi-normal equations (Björck 1987) with the Cholesky factor
 * L of the Gram matrix in Lf: the solution from L alone, then refinement
 * steps whose residuals come from Φ_N, not from the Gram matrix, so that
 * the accuracy is that of Φ_N's conditioning once eps·cond(Gram) < 1.
 * Primal (B: ΦᵀY in, W out): W += (LLᵀ)⁻¹Φᵀ(Y − ΦW).  Dual (B: Y in, α
 * out, W = Φᵀα): α += (LLᵀ)⁻¹(Y − ΦΦᵀα), at a streamed point with the
 * columns past the held ones made again by the source.  At most 3 steps,
 * until the correction is below accuracy relative to the solution;
 * IR_ESING when it is not (the caller factors Φ_N instead, or refuses a
 * streamed point). */
static int ir_nested_csne(ir_nested *w, const gsl_matrix *Lf, gsl_matrix *B,
                          int dual, double accuracy) {
  ir_linalg_chol_apply(Lf, B);
  double corr = INFINITY;
  /* primal: the correction Φ_Nᵀ R in Wd (declared here: D points into it) */
  gsl_matrix_view Wd =
      gsl_matrix_submatrix(w->Wd, 0, 0, dual ? 1 : w->N, w->K);
  for (int it = 0; it < 3 && !(corr <= accuracy); it++) {
    gsl_matrix *D = w->R; /* dual: the correction of α in place */
    if (dual) {
      int s = ir_nested_dual_resid(w, B, w->R);
      if (s != IR_OK)
        return s;
    } else {
      /* R = Y − Φ_N W, then Φ_Nᵀ R */
      gsl_matrix_const_view Phi =
          gsl_matrix_const_submatrix(w->Phi, 0, 0, w->n, w->N);
      gsl_matrix_memcpy(w->R, w->Y);
      gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, -1.0, &Phi.matrix, B, 1.0,
                     w->R);
      gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &Phi.matrix, w->R, 0.0,
                     &Wd.matrix);
      D = &Wd.matrix;
    }
    ir_linalg_chol_apply(Lf, D);
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

/* Min-norm on the unscaled columns Φ[:, :N], up to the evaluation: when
 * *pending is set on return, the solution of the Gram system (α when
 * *dual, else the weights) is in w->B (m×K) and the caller evaluates it
 * (ir_nested_eval); otherwise the fit is complete (the direct routes). */
static int ir_nested_minnorm_solve(ir_nested *w, double rcond,
                                   double accuracy, gsl_matrix *P,
                                   gsl_matrix *W, ir_nested_fit *fit,
                                   int *pending, int *dual_out) {
  *pending = 0;
  int s = ir_nested_check_out(w, P, W);
  if (s != IR_OK)
    return s;
  memset(fit, 0, sizeof *fit);
  fit->N = w->N;
  fit->rcond = NAN;
  int dual;
  gsl_matrix_view G = ir_nested_gram(w, &dual);
  const size_t m = G.matrix.size1;
  gsl_matrix_view B = ir_nested_rhs(w, dual, m, w->B);
  double cg = INFINITY;
  s = ir_linalg_spd_solve(&G.matrix, &B.matrix, accuracy, &cg);
  /* Cholesky completed but its solution alone is not accurate enough:
   * refine it by the corrected semi-normal equations, with residuals of
   * Φ_N itself — held, or made again by the column source past the held
   * columns — G holds the factor, B the right-hand side. */
  const int streamed = ir_nested_streamed(w);
  const int refine = s == IR_ESING && isfinite(cg) &&
                     DBL_EPSILON * cg <= IR_NESTED_CSNE_MAX &&
                     (!streamed || w->src != NULL);
  if (refine) {
    ir_error_clear();
    s = ir_nested_csne(w, &G.matrix, &B.matrix, dual, accuracy);
    if (s == IR_OK) {
      fit->method = IR_NESTED_CSNE;
      fit->rank = m;
      fit->cond = sqrt(cg);
      *pending = 1;
      *dual_out = dual;
      return IR_OK;
    }
    if (s != IR_ESING)
      return s;
  }
  if (s == IR_ESING && streamed)
    /* no COD or SVD without Φ_N */
    return ir_error(IR_ESING,
                    "nested stream: at N = %zu (past the %zu held columns) "
                    "eps*cond(Gram) = %.1e exceeds the accuracy %.1e%s; keep "
                    "more columns",
                    w->N, w->Nphi, DBL_EPSILON * cg, accuracy,
                    refine ? " and the refinement from the streamed columns "
                             "did not reach it"
                           : w->src ? "" : " (no column source to refine "
                                           "from)");
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
  *pending = 1;
  *dual_out = dual;
  return IR_OK;
}

static int ir_nested_minnorm_raw(ir_nested *w, double rcond, double accuracy,
                                 gsl_matrix *P, gsl_matrix *W,
                                 ir_nested_fit *fit) {
  int pending, dual;
  int s = ir_nested_minnorm_solve(w, rcond, accuracy, P, W, fit, &pending,
                                  &dual);
  if (s == IR_OK && pending) {
    const size_t m = dual ? w->n : w->N;
    gsl_matrix_view B = gsl_matrix_submatrix(w->B, 0, 0, m, w->K);
    ir_nested_eval(w, &B.matrix, dual, P, W, fit);
  }
  return s;
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
    gsl_matrix_view B = ir_nested_rhs(w, dual, m, w->B);
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

/* The stacked scratch of ir_nested_solve for c columns. */
static int ir_nested_reserve(ir_nested *w, size_t c) {
  if (c <= w->cap)
    return IR_OK;
  gsl_matrix **m[] = {&w->S, &w->Wall, &w->Pall, &w->Rall};
  const size_t rows[] = {w->n, c, w->ntest ? w->ntest : 1, w->n};
  const size_t cols[] = {c, w->Nphi, c, c};
  for (size_t i = 0; i < 4; i++) {
    if (*m[i] != NULL)
      gsl_matrix_free(*m[i]);
    *m[i] = ir_matrix_alloc_big(rows[i], cols[i]);
  }
  w->cap = c;
  for (size_t i = 0; i < 4; i++)
    if (*m[i] == NULL) {
      w->cap = 0;
      return ir_error(IR_ENOMEM, "out of memory (nested solve, %zu columns)",
                      c);
    }
  return IR_OK;
}

/* Ridge on the unscaled columns by one Cholesky of G + λ_jI per λ into the
 * blocks 1..nl of S (m×(1+nl)K): α_j (dual) or the weights (primal).
 * IR_ESING when a factorization breaks down.  (Running two of the
 * factorizations side by side on one BLAS thread each was measured: no
 * faster than one after the other on two, 1.27 against 1.22 s for the
 * solves of the n = 1000 sweep of bench/README.md.) */
static int ir_nested_ridge_stack(ir_nested *w, int dual, const double *lr,
                                 size_t nl, gsl_matrix *S) {
  const size_t m = dual ? w->n : w->N, K = w->K;
  gsl_matrix_view G = gsl_matrix_submatrix(w->G, 0, 0, m, m);
  gsl_matrix_view rhs = ir_nested_rhs(w, dual, m, w->R);
  for (size_t j = 0; j < nl; j++) {
    /* The lower triangle suffices: dpotrf reads and writes only it. */
    if (dual) {
      ir_nested_copy_lower(w->Gd, &G.matrix);
    } else {
      gsl_matrix_const_view Sp = gsl_matrix_const_submatrix(w->Gp, 0, 0, m, m);
      ir_nested_copy_lower(&Sp.matrix, &G.matrix);
    }
    for (size_t i = 0; i < m; i++)
      G.matrix.data[i * G.matrix.tda + i] += lr[j];
    /* Column-major 'U' on the row-major buffer is its lower triangle. */
    lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U',
                                          (lapack_int)m, G.matrix.data,
                                          (lapack_int)G.matrix.tda);
    if (info > 0)
      return ir_error(IR_ESING, "ridge Cholesky breaks down at column %d",
                      (int)info);
    if (info < 0)
      return ir_error(IR_EINTERNAL, "dpotrf: argument %d illegal", (int)-info);
    gsl_matrix_view Bj = gsl_matrix_submatrix(S, 0, (j + 1) * K, m, K);
    gsl_matrix_memcpy(&Bj.matrix, &rhs.matrix);
    ir_linalg_chol_apply(&G.matrix, &Bj.matrix);
  }
  return IR_OK;
}

/* Evaluates the stacked solutions: block 0 of S the min-norm solution (when
 * mn), blocks 1..nl the ridge ones (raw λ in lr): one product with Φ_Nᵀ
 * (dual), one with Φt_N and one for the training residuals of all blocks
 * (primal) or of the min-norm block only (dual: the ridge residual is
 * Y − Gα = λα exactly). */
static void ir_nested_eval_stack(ir_nested *w, int dual, int mn,
                                 const gsl_matrix *S, const double *lr,
                                 size_t nl, gsl_matrix *P, ir_nested_fit *fit,
                                 gsl_matrix **Pr, ir_nested_fit *fr) {
  const size_t K = w->K, c0 = mn ? 0 : K, c = (1 + nl) * K - c0;
  (void)lr;
  if (ir_nested_streamed(w)) {
    for (size_t b = c0 / K; b <= nl; b++) {
      gsl_matrix_const_view Ab =
          gsl_matrix_const_submatrix(S, 0, b * K, w->n, K);
      ir_nested_gram_eval(w, &Ab.matrix, b == 0 ? P : (Pr ? Pr[b - 1] : NULL),
                          b == 0 ? fit : &fr[b - 1]);
    }
    return;
  }
  gsl_matrix_const_view Phi =
      gsl_matrix_const_submatrix(w->Phi, 0, 0, w->n, w->N);
  gsl_matrix_const_view Sc = gsl_matrix_const_submatrix(S, 0, c0, S->size1, c);
  /* The weights transposed, Wᵀ (c×N): see w->Wall. */
  gsl_matrix_view Wc = gsl_matrix_submatrix(w->Wall, c0, 0, c, w->N);
  if (dual)
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &Sc.matrix, &Phi.matrix,
                   0.0, &Wc.matrix);
  else
    gsl_matrix_transpose_memcpy(&Wc.matrix, &Sc.matrix);
  /* Training residuals Y − Φ_N W. */
  const size_t cr = dual ? (mn ? K : 0) : c;
  for (size_t b = c0 / K; b < c0 / K + cr / K; b++) {
    gsl_matrix_view Rb = gsl_matrix_submatrix(w->Rall, 0, b * K, w->n, K);
    gsl_matrix_memcpy(&Rb.matrix, w->Y);
  }
  if (cr > 0) {
    gsl_matrix_view Rc = gsl_matrix_submatrix(w->Rall, 0, c0, w->n, cr);
    gsl_matrix_view Wr = gsl_matrix_submatrix(w->Wall, c0, 0, cr, w->N);
    gsl_blas_dgemm(CblasNoTrans, CblasTrans, -1.0, &Phi.matrix, &Wr.matrix,
                   1.0, &Rc.matrix);
  }
  int want_p = w->Phit != NULL && P != NULL && mn;
  for (size_t j = 0; j < nl; j++)
    want_p |= w->Phit != NULL && Pr != NULL && Pr[j] != NULL;
  if (want_p) {
    gsl_matrix_const_view Pt =
        gsl_matrix_const_submatrix(w->Phit, 0, 0, w->ntest, w->N);
    gsl_matrix_view Pc = gsl_matrix_submatrix(w->Pall, 0, c0, w->ntest, c);
    gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, &Pt.matrix, &Wc.matrix,
                   0.0, &Pc.matrix);
  }
  for (size_t b = c0 / K; b <= nl; b++) {
    ir_nested_fit *ft = b == 0 ? fit : &fr[b - 1];
    gsl_matrix_view Wb = gsl_matrix_submatrix(w->Wall, b * K, 0, K, w->N);
    ft->norm = ir_matrix_fro(&Wb.matrix);
    double r;
    if (b > 0 && dual) {
      gsl_matrix_const_view Ab =
          gsl_matrix_const_submatrix(S, 0, b * K, w->n, K);
      r = lr[b - 1] * ir_matrix_fro(&Ab.matrix);
    } else {
      gsl_matrix_view Rb = gsl_matrix_submatrix(w->Rall, 0, b * K, w->n, K);
      r = ir_matrix_fro(&Rb.matrix);
    }
    ft->train_mse = r * r / (double)w->n;
    gsl_matrix *Pb = b == 0 ? P : (Pr ? Pr[b - 1] : NULL);
    if (want_p && Pb != NULL) {
      gsl_matrix_view Pv = gsl_matrix_submatrix(w->Pall, 0, b * K, w->ntest, K);
      gsl_matrix_memcpy(Pb, &Pv.matrix);
    }
  }
}

int ir_nested_solve(ir_nested *w, double rcond, double accuracy,
                    gsl_matrix *P, ir_nested_fit *fit, const double *lambda,
                    size_t nl, gsl_matrix **Pr, ir_nested_fit *fr) {
  int s = ir_nested_check_out(w, P, NULL);
  for (size_t j = 0; s == IR_OK && j < nl; j++) {
    if (!(lambda[j] > 0) || !isfinite(lambda[j]))
      return ir_error(IR_EDOM, "ridge lambda = %g must be finite and > 0",
                      lambda[j]);
    if (Pr && Pr[j] && (Pr[j]->size1 != w->ntest || Pr[j]->size2 != w->K))
      return ir_error(IR_ESHAPE, "nested: predictions must be %zux%zu",
                      w->ntest, w->K);
  }
  if (s != IR_OK)
    return s;
  const size_t K = w->K;
  const double c = w->scale;
  double *lr = malloc((nl ? nl : 1) * sizeof *lr);
  if (lr == NULL || ir_nested_reserve(w, (1 + nl) * K) != IR_OK) {
    free(lr);
    return ir_error(IR_ENOMEM, "out of memory (nested solve)");
  }
  for (size_t j = 0; j < nl; j++)
    lr[j] = lambda[j] / (c * c);
  int pending = 0, dual = w->N > w->n;
  s = ir_nested_minnorm_solve(w, rcond, accuracy, P, NULL, fit, &pending,
                              &dual);
  const size_t m = dual ? w->n : w->N;
  if (s == IR_OK && pending) {
    gsl_matrix_view B0 = gsl_matrix_submatrix(w->S, 0, 0, m, K);
    gsl_matrix_view B = gsl_matrix_submatrix(w->B, 0, 0, m, K);
    gsl_matrix_memcpy(&B0.matrix, &B.matrix);
  }
  int ridge_stacked = 0;
  if (s == IR_OK && nl > 0 && nl <= IR_NESTED_RIDGE_CHOL_MAX) {
    gsl_matrix_view Sm = gsl_matrix_submatrix(w->S, 0, 0, m, (1 + nl) * K);
    s = ir_nested_ridge_stack(w, dual, lr, nl, &Sm.matrix);
    if (s == IR_OK)
      ridge_stacked = 1;
    else if (s == IR_ESING) {
      ir_error_clear(); /* rounding broke a factorization: eigen route */
      s = IR_OK;
    }
  }
  if (s == IR_OK && (pending || ridge_stacked)) {
    gsl_matrix_view Sm = gsl_matrix_submatrix(w->S, 0, 0, m, (1 + nl) * K);
    ir_nested_eval_stack(w, dual, pending, &Sm.matrix, lr,
                         ridge_stacked ? nl : 0, P, fit, Pr, fr);
  }
  for (size_t j = 0; s == IR_OK && ridge_stacked && j < nl; j++) {
    ir_nested_fit *ft = &fr[j];
    ft->N = w->N;
    ft->method = IR_NESTED_CHOLESKY;
    ft->rank = m;
    ft->cond = NAN; /* the factor is of G + λI: it says nothing of Φ_N */
    ft->rcond = NAN;
  }
  if (s == IR_OK && nl > 0 && !ridge_stacked)
    s = ir_nested_ridge_raw(w, lr, nl, Pr, fr);
  free(lr);
  if (s != IR_OK)
    return s;
  fit->norm /= c;
  for (size_t j = 0; j < nl; j++) {
    fr[j].norm /= c;
    fr[j].lambda = lambda[j];
  }
  return IR_OK;
}
