/* minnorm.c — minimum-norm least squares by SVD, COD and Cholesky of the
 * Gram matrix, with ridge paths from one SVD. */
#include "implreg/minnorm.h"

#include "implreg/data.h"
#include "implreg/status.h"

#include <float.h>
#include <gsl/gsl_blas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ir_minnorm {
  size_t n, p, k, Kmax, K;
  ir_svd *svd;
  gsl_matrix *C; /* k×Kmax: UᵀY, first K columns valid */
  gsl_matrix *D; /* k×Kmax scratch: scaled C */
  int have_factor, have_rhs;
};

double ir_minnorm_default_rcond(size_t n, size_t p) {
  return DBL_EPSILON * (double)(n > p ? n : p);
}

void ir_minnorm_free(ir_minnorm *w) {
  if (w == NULL)
    return;
  ir_svd_free(w->svd);
  if (w->C)
    gsl_matrix_free(w->C);
  if (w->D)
    gsl_matrix_free(w->D);
  free(w);
}

ir_minnorm *ir_minnorm_alloc(size_t n, size_t p, size_t Kmax) {
  if (Kmax == 0) {
    ir_error(IR_EINVAL, "minnorm workspace needs at least one right-hand side");
    return NULL;
  }
  ir_minnorm *w = calloc(1, sizeof *w);
  if (w == NULL) {
    ir_error(IR_ENOMEM, "out of memory (minnorm workspace)");
    return NULL;
  }
  w->n = n;
  w->p = p;
  w->Kmax = Kmax;
  w->svd = ir_svd_alloc(n, p);
  if (w->svd == NULL) {
    ir_minnorm_free(w);
    return NULL;
  }
  w->k = w->svd->k;
  w->C = gsl_matrix_alloc(w->k, Kmax);
  w->D = gsl_matrix_alloc(w->k, Kmax);
  if (!w->C || !w->D) {
    ir_error(IR_ENOMEM, "out of memory (minnorm workspace)");
    ir_minnorm_free(w);
    return NULL;
  }
  return w;
}

int ir_minnorm_factor(ir_minnorm *w, const gsl_matrix *X) {
  w->have_factor = w->have_rhs = 0;
  int s = ir_svd_decomp(w->svd, X);
  if (s == IR_OK)
    w->have_factor = 1;
  return s;
}

const ir_svd *ir_minnorm_svd(const ir_minnorm *w) {
  return w->svd;
}

int ir_minnorm_set_rhs(ir_minnorm *w, const gsl_matrix *Y) {
  if (!w->have_factor)
    return ir_error(IR_EINVAL, "ir_minnorm_set_rhs before ir_minnorm_factor");
  if (Y->size1 != w->n || Y->size2 == 0 || Y->size2 > w->Kmax)
    return ir_error(IR_ESHAPE,
                    "right-hand side is %zux%zu; expected %zu rows and 1..%zu "
                    "columns",
                    Y->size1, Y->size2, w->n, w->Kmax);
  int s = ir_matrix_check_finite(Y, "Y");
  if (s != IR_OK)
    return s;
  w->K = Y->size2;
  gsl_matrix_view C = gsl_matrix_submatrix(w->C, 0, 0, w->k, w->K);
  gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, w->svd->U, Y, 0.0, &C.matrix);
  w->have_rhs = 1;
  return IR_OK;
}

size_t ir_minnorm_rank(const ir_minnorm *w, double rcond) {
  if (rcond < 0)
    rcond = ir_minnorm_default_rcond(w->n, w->p);
  const gsl_vector *s = w->svd->s;
  double cut = rcond * gsl_vector_get(s, 0);
  size_t r = 0;
  /* Singular values are sorted in decreasing order. A zero matrix has
   * rank 0 whatever the cutoff. */
  while (r < w->k && gsl_vector_get(s, r) > cut && gsl_vector_get(s, r) > 0)
    r++;
  return r;
}

/* W = Vt[0:k, :]ᵀ · diag(f) · C with f_i = filter(s_i); f_i = 0 beyond k. */
static int ir_minnorm_filtered(const ir_minnorm *w, const double *f, size_t k,
                               gsl_matrix *W) {
  if (!w->have_rhs)
    return ir_error(IR_EINVAL, "minnorm solve before ir_minnorm_set_rhs");
  if (W->size1 != w->p || W->size2 != w->K)
    return ir_error(IR_ESHAPE, "solution matrix is %zux%zu, expected %zux%zu",
                    W->size1, W->size2, w->p, w->K);
  if (k == 0) {
    gsl_matrix_set_zero(W);
    return IR_OK;
  }
  for (size_t i = 0; i < k; i++)
    for (size_t j = 0; j < w->K; j++)
      w->D->data[i * w->D->tda + j] = f[i] * w->C->data[i * w->C->tda + j];
  gsl_matrix_const_view V =
      gsl_matrix_const_submatrix(w->svd->Vt, 0, 0, k, w->p);
  gsl_matrix_const_view D = gsl_matrix_const_submatrix(w->D, 0, 0, k, w->K);
  gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &V.matrix, &D.matrix, 0.0, W);
  return IR_OK;
}

int ir_minnorm_pinv(const ir_minnorm *w, double rcond, gsl_matrix *W) {
  size_t r = ir_minnorm_rank(w, rcond);
  double *f = malloc((r > 0 ? r : 1) * sizeof(double));
  if (f == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  for (size_t i = 0; i < r; i++)
    f[i] = 1.0 / gsl_vector_get(w->svd->s, i);
  int s = ir_minnorm_filtered(w, f, r, W);
  free(f);
  return s;
}

int ir_minnorm_ridge(const ir_minnorm *w, double lambda, gsl_matrix *W) {
  if (!(lambda >= 0) || !isfinite(lambda))
    return ir_error(IR_EDOM, "ridge lambda = %g must be finite and >= 0",
                    lambda);
  if (lambda == 0)
    return ir_minnorm_pinv(w, -1, W);
  double *f = malloc(w->k * sizeof(double));
  if (f == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  for (size_t i = 0; i < w->k; i++) {
    double s = gsl_vector_get(w->svd->s, i);
    /* s/(s² + λ) written as 1/(s + λ/s), so that s² cannot overflow. */
    f[i] = s > 0 ? 1.0 / (s + lambda / s) : 0.0;
  }
  int st = ir_minnorm_filtered(w, f, w->k, W);
  free(f);
  return st;
}

/* Fills the norm and residual fields of d: ‖W‖_F and ‖XW − Y‖_F. */
int ir_minnorm_residual(const gsl_matrix *X, const gsl_matrix *Y,
                        const gsl_matrix *W, ir_minnorm_diag *d) {
  if (X->size1 != Y->size1 || X->size2 != W->size1 || Y->size2 != W->size2)
    return ir_error(IR_ESHAPE,
                    "residual: X %zux%zu, W %zux%zu, Y %zux%zu do "
                    "not match",
                    X->size1, X->size2, W->size1, W->size2, Y->size1, Y->size2);
  gsl_matrix *R = gsl_matrix_alloc(Y->size1, Y->size2);
  if (R == NULL)
    return ir_error(IR_ENOMEM, "out of memory (residual)");
  gsl_matrix_memcpy(R, Y);
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, X, W, -1.0, R);
  d->residual = ir_matrix_fro(R);
  double ny = ir_matrix_fro(Y);
  d->rel_residual = ny > 0 ? d->residual / ny : 0.0;
  d->norm = ir_matrix_fro(W);
  gsl_matrix_free(R);
  return IR_OK;
}

int ir_minnorm_diagnose(const ir_minnorm *w, double rcond, const gsl_matrix *X,
                        const gsl_matrix *Y, const gsl_matrix *W,
                        ir_minnorm_diag *d) {
  if (!w->have_factor)
    return ir_error(IR_EINVAL, "ir_minnorm_diagnose before ir_minnorm_factor");
  if (X->size1 != w->n || X->size2 != w->p || Y->size1 != w->n ||
      W->size1 != w->p || W->size2 != Y->size2)
    return ir_error(IR_ESHAPE,
                    "diagnose: X is %zux%zu, Y %zux%zu, W %zux%zu; expected X "
                    "%zux%zu, Y %zu rows, W %zu rows and Y's columns",
                    X->size1, X->size2, Y->size1, Y->size2, W->size1, W->size2,
                    w->n, w->p, w->n, w->p);
  if (rcond < 0)
    rcond = ir_minnorm_default_rcond(w->n, w->p);
  const gsl_vector *s = w->svd->s;
  d->n = w->n;
  d->p = w->p;
  d->K = Y->size2;
  d->method = IR_MINNORM_SVD;
  d->rcond = rcond;
  d->rank = ir_minnorm_rank(w, rcond);
  d->sigma_max = gsl_vector_get(s, 0);
  d->sigma_min = gsl_vector_get(s, w->k - 1);
  d->sigma_min_kept = d->rank > 0 ? gsl_vector_get(s, d->rank - 1) : NAN;
  d->cond = d->rank > 0 ? d->sigma_max / d->sigma_min_kept : NAN;
  return ir_minnorm_residual(X, Y, W, d);
}

double ir_minnorm_nullspace_fraction(const ir_minnorm *w, double rcond,
                                     const gsl_matrix *W) {
  if (!w->have_factor || W->size1 != w->p)
    return NAN;
  const size_t r = ir_minnorm_rank(w, rcond), K = W->size2;
  const double nw = ir_matrix_fro(W);
  if (nw == 0)
    return 0;
  gsl_matrix *Z = gsl_matrix_alloc(r > 0 ? r : 1, K);
  gsl_matrix *P = gsl_matrix_alloc(w->p, K);
  if (!Z || !P) {
    if (Z)
      gsl_matrix_free(Z);
    if (P)
      gsl_matrix_free(P);
    return NAN;
  }
  /* P = V_r V_rᵀ W, the projection onto the row space; then ‖W − P‖. */
  gsl_matrix_set_zero(P);
  if (r > 0) {
    gsl_matrix_const_view Vr =
        gsl_matrix_const_submatrix(w->svd->Vt, 0, 0, r, w->p);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &Vr.matrix, W, 0.0, Z);
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &Vr.matrix, Z, 0.0, P);
  }
  double out = ir_matrix_fro_diff(W, P) / nw;
  gsl_matrix_free(Z);
  gsl_matrix_free(P);
  return out;
}

/* ---- Ridge paths from the tridiagonal form of the Gram matrix ------------
 *
 * G = H T Hᵀ (dsytrd: Householder reduction to a symmetric tridiagonal T);
 * then (G + λI)⁻¹ = H (T + λI)⁻¹ Hᵀ, and T + λI is solved in O(m) per
 * column.  Against the eigendecomposition G = QΛQᵀ (dsyevd) this drops
 * the tridiagonal eigensolver and the back-transformation of the
 * eigenvectors (≈ 2m³ flops): H is applied once to all λ side by side
 * (dormtr, blocked reflectors) instead of forming Q.  See minnorm.h. */

/* Above this share of the residual's terms, the primal residual from the
 * quadratic form ‖Y‖² − 2⟨HᵀXᵀY, u⟩ + ⟨u, Tu⟩ is trusted: its rounding
 * error is ~m·eps·scale, so the relative error of ‖XW − Y‖² stays below
 * m·eps/RESID_GUARD (4e-10 at m = 2000).  Below it the residual is formed
 * explicitly (X·W − Y for that λ, O(npK)). */
static const double RESID_GUARD = 1e-3;

struct ir_ridge {
  size_t n, p, m, Kmax, K;
  int dual;            /* 1: G = XXᵀ (n < p); 0: G = XᵀX */
  const gsl_matrix *X; /* borrowed */
  gsl_matrix *G;       /* m×m Gram matrix; after factoring, H's reflectors */
  double *d, *e, *tau; /* T's diagonal (m) and off-diagonal (m−1); H */
  double *work;        /* dsytrd workspace */
  size_t lwork;
  double tnorm;        /* ‖T‖_∞ >= ‖T‖₂ */
  gsl_matrix *C;       /* m×Kmax: HᵀY (dual) or HᵀXᵀY (primal) */
  gsl_matrix *D;       /* m×Kmax scratch */
  gsl_matrix *Y;       /* n×Kmax: copy of Y (explicit residuals) */
  double yy;           /* ‖Y‖_F² */
  int have_factor, have_rhs;
};

void ir_ridge_free(ir_ridge *r) {
  if (r == NULL)
    return;
  if (r->G)
    gsl_matrix_free(r->G);
  free(r->d);
  free(r->e);
  free(r->tau);
  free(r->work);
  if (r->C)
    gsl_matrix_free(r->C);
  if (r->D)
    gsl_matrix_free(r->D);
  if (r->Y)
    gsl_matrix_free(r->Y);
  free(r);
}

ir_ridge *ir_ridge_alloc(size_t n, size_t p, size_t Kmax) {
  if (n == 0 || p == 0 || Kmax == 0) {
    ir_error(IR_EINVAL, "ridge workspace for %zux%zu with %zu right-hand sides",
             n, p, Kmax);
    return NULL;
  }
  ir_ridge *r = calloc(1, sizeof *r);
  if (r == NULL) {
    ir_error(IR_ENOMEM, "out of memory (ridge workspace)");
    return NULL;
  }
  r->n = n;
  r->p = p;
  r->Kmax = Kmax;
  r->dual = n < p;
  r->m = r->dual ? n : p;
  const size_t m = r->m;
  r->G = gsl_matrix_alloc(m, m);
  r->d = malloc(m * sizeof(double));
  r->e = malloc(m * sizeof(double)); /* m − 1 used; >= 1 for m = 1 */
  r->tau = malloc(m * sizeof(double));
  r->C = gsl_matrix_alloc(m, Kmax);
  r->D = gsl_matrix_alloc(m, Kmax);
  r->Y = gsl_matrix_alloc(n, Kmax);
  if (!r->G || !r->d || !r->e || !r->tau || !r->C || !r->D || !r->Y) {
    ir_error(IR_ENOMEM, "out of memory (ridge workspace, %zux%zu Gram)", m, m);
    ir_ridge_free(r);
    return NULL;
  }
  double q = 0;
  lapack_int info =
      LAPACKE_dsytrd_work(LAPACK_COL_MAJOR, 'L', (lapack_int)m, r->G->data,
                          (lapack_int)r->G->tda, r->d, r->e, r->tau, &q, -1);
  r->lwork = info == 0 && q >= 1 ? (size_t)q : m;
  r->work = malloc(r->lwork * sizeof(double));
  if (r->work == NULL) {
    ir_error(IR_ENOMEM, "out of memory (dsytrd workspace, m = %zu)", m);
    ir_ridge_free(r);
    return NULL;
  }
  return r;
}

int ir_ridge_factor(ir_ridge *r, const gsl_matrix *X) {
  r->have_factor = r->have_rhs = 0;
  if (X->size1 != r->n || X->size2 != r->p)
    return ir_error(IR_ESHAPE, "ridge workspace is for %zux%zu, X is %zux%zu",
                    r->n, r->p, X->size1, X->size2);
  int s = ir_matrix_check_finite(X, "X");
  if (s != IR_OK)
    return s;
  /* The upper triangle of the row-major G (dsyrk; the lower one is never
   * read) is the lower triangle of the column-major G that dsytrd reads
   * (dsytrd 'L' measured ~15% faster than 'U' here). */
  s = gsl_blas_dsyrk(CblasUpper, r->dual ? CblasNoTrans : CblasTrans, 1.0, X,
                     0.0, r->G);
  if (s != 0)
    return ir_error(ir_status_from_gsl(s), "dsyrk failed (GSL status %d)", s);
  const size_t m = r->m;
  lapack_int info = LAPACKE_dsytrd_work(
      LAPACK_COL_MAJOR, 'L', (lapack_int)m, r->G->data, (lapack_int)r->G->tda,
      r->d, r->e, r->tau, r->work, (lapack_int)r->lwork);
  if (info != 0)
    return ir_error(IR_EINTERNAL, "dsytrd: argument %d had an illegal value",
                    (int)-info);
  r->tnorm = 0;
  for (size_t i = 0; i < m; i++) {
    double row = fabs(r->d[i]);
    if (i > 0)
      row += fabs(r->e[i - 1]);
    if (i + 1 < m)
      row += fabs(r->e[i]);
    if (row > r->tnorm)
      r->tnorm = row;
  }
  r->X = X;
  r->have_factor = 1;
  return IR_OK;
}

/* B ← H·B (trans = 0) or Hᵀ·B (trans = 1) for the row-major m×ncols block B
 * with leading dimension ldb.  Row-major B is the column-major ncols×m
 * matrix Bᵀ, so H acts from the right: (HB)ᵀ = BᵀHᵀ, (HᵀB)ᵀ = BᵀH.  dormtr
 * applies the reflectors in blocks (dlarfb): BLAS-3, 2m²·ncols flops. */
static int apply_h(const ir_ridge *r, int trans, double *b, size_t ncols,
                   size_t ldb) {
  const lapack_int m = (lapack_int)r->m, nc = (lapack_int)ncols;
  const char t = trans ? 'N' : 'T';
  double q = 0;
  lapack_int info =
      LAPACKE_dormtr_work(LAPACK_COL_MAJOR, 'R', 'L', t, nc, m, r->G->data,
                          (lapack_int)r->G->tda, r->tau, b, (lapack_int)ldb,
                          &q, -1);
  if (info != 0)
    return ir_error(IR_EINTERNAL, "dormtr workspace query failed (info %d)",
                    (int)info);
  const size_t lw = q >= 1 ? (size_t)q : 1;
  double *work = malloc(lw * sizeof(double));
  if (work == NULL)
    return ir_error(IR_ENOMEM, "out of memory (dormtr workspace, %zu)", lw);
  info = LAPACKE_dormtr_work(LAPACK_COL_MAJOR, 'R', 'L', t, nc, m, r->G->data,
                             (lapack_int)r->G->tda, r->tau, b, (lapack_int)ldb,
                             work, (lapack_int)lw);
  free(work);
  return info == 0 ? IR_OK
                   : ir_error(IR_EINTERNAL,
                              "dormtr: argument %d had an illegal value",
                              (int)-info);
}

int ir_ridge_set_rhs(ir_ridge *r, const gsl_matrix *Y) {
  if (!r->have_factor)
    return ir_error(IR_EINVAL, "ir_ridge_set_rhs before ir_ridge_factor");
  if (Y->size1 != r->n || Y->size2 == 0 || Y->size2 > r->Kmax)
    return ir_error(IR_ESHAPE,
                    "Y is %zux%zu; expected %zu rows and 1..%zu "
                    "columns",
                    Y->size1, Y->size2, r->n, r->Kmax);
  int s = ir_matrix_check_finite(Y, "Y");
  if (s != IR_OK)
    return s;
  r->have_rhs = 0;
  r->K = Y->size2;
  gsl_matrix_view Yc = gsl_matrix_submatrix(r->Y, 0, 0, r->n, r->K);
  gsl_matrix_memcpy(&Yc.matrix, Y);
  r->yy = 0;
  for (size_t i = 0; i < r->n; i++)
    for (size_t j = 0; j < r->K; j++) {
      const double y = gsl_matrix_get(Y, i, j);
      r->yy += y * y;
    }
  gsl_matrix_view C = gsl_matrix_submatrix(r->C, 0, 0, r->m, r->K);
  if (r->dual)
    gsl_matrix_memcpy(&C.matrix, Y);
  else
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, r->X, Y, 0.0, &C.matrix);
  s = apply_h(r, 1, r->C->data, r->K, r->C->tda);
  if (s == IR_OK)
    r->have_rhs = 1;
  return s;
}

/* u (m×K row-major, leading dimension ldu) = (T + λI)⁻¹ C.  LDLᵀ without
 * pivoting, as dpttrf/dpttrs: backward stable when T + λI is positive
 * definite, which it is for λ > 0 unless λ is below the rounding level of
 * T's eigenvalues (~m·eps·‖G‖); then Gaussian elimination with partial
 * pivoting (dgtsv).  piv and lo: m doubles of scratch each. */
static int tridiag_solve(const ir_ridge *r, double lambda, double *u,
                         size_t ldu, double *piv, double *lo) {
  const size_t m = r->m, K = r->K, ldc = r->C->tda;
  const double *d = r->d, *e = r->e, *c = r->C->data;
  int pd = 1;
  piv[0] = d[0] + lambda;
  pd = piv[0] > 0;
  for (size_t i = 1; pd && i < m; i++) {
    lo[i - 1] = e[i - 1] / piv[i - 1];
    piv[i] = d[i] + lambda - lo[i - 1] * e[i - 1];
    pd = piv[i] > 0 && isfinite(piv[i]);
  }
  if (pd) {
    for (size_t j = 0; j < K; j++)
      u[j] = c[j];
    for (size_t i = 1; i < m; i++) {
      const double l = lo[i - 1];
      const double *ci = c + i * ldc, *up = u + (i - 1) * ldu;
      double *ui = u + i * ldu;
      for (size_t j = 0; j < K; j++)
        ui[j] = ci[j] - l * up[j];
    }
    for (size_t i = m; i-- > 0;) {
      const double f = 1.0 / piv[i];
      double *ui = u + i * ldu;
      if (i + 1 == m) {
        for (size_t j = 0; j < K; j++)
          ui[j] *= f;
      } else {
        const double l = lo[i], *un = u + (i + 1) * ldu;
        for (size_t j = 0; j < K; j++)
          ui[j] = ui[j] * f - l * un[j];
      }
    }
    return IR_OK;
  }
  /* Not numerically positive definite: pivoted elimination on copies. */
  double *dl = malloc(3 * m * sizeof(double)), *b = malloc(m * K * sizeof(double));
  if (dl == NULL || b == NULL) {
    free(dl);
    free(b);
    return ir_error(IR_ENOMEM, "out of memory (tridiagonal solve, m = %zu)",
                    m);
  }
  double *dd = dl + m, *du = dl + 2 * m;
  for (size_t i = 0; i < m; i++) {
    dd[i] = d[i] + lambda;
    if (i + 1 < m)
      dl[i] = du[i] = e[i];
    for (size_t j = 0; j < K; j++)
      b[j * m + i] = c[i * ldc + j];
  }
  lapack_int info =
      LAPACKE_dgtsv_work(LAPACK_COL_MAJOR, (lapack_int)m, (lapack_int)K, dl,
                         dd, du, b, (lapack_int)m);
  if (info == 0)
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < K; j++)
        u[i * ldu + j] = b[j * m + i];
  free(dl);
  free(b);
  if (info > 0)
    return ir_error(IR_ESING,
                    "ridge lambda = %g is below the rounding level of the "
                    "Gram matrix (T + lambda I singular at %d): use a larger "
                    "lambda or the pseudo-inverse",
                    lambda, (int)info);
  return info == 0 ? IR_OK
                   : ir_error(IR_EINTERNAL,
                              "dgtsv: argument %d had an illegal value",
                              (int)-info);
}

/* ‖XW − Y‖_F² of the primal solution W = Hu from the quadratic form
 * ‖Y‖² − 2⟨HᵀXᵀY, u⟩ + ⟨u, Tu⟩ (exact for any u), or NAN when cancellation
 * makes it untrustworthy (see RESID_GUARD). */
static double primal_resid2(const ir_ridge *r, const double *u, size_t ldu) {
  const size_t m = r->m, K = r->K, ldc = r->C->tda;
  double cu = 0, utu = 0, uu = 0;
  for (size_t i = 0; i < m; i++) {
    const double *ui = u + i * ldu, *ci = r->C->data + i * ldc;
    const double *un = i + 1 < m ? u + (i + 1) * ldu : NULL;
    for (size_t j = 0; j < K; j++) {
      cu += ci[j] * ui[j];
      uu += ui[j] * ui[j];
      utu += r->d[i] * ui[j] * ui[j];
      if (un)
        utu += 2.0 * r->e[i] * ui[j] * un[j];
    }
  }
  const double rho2 = r->yy - 2.0 * cu + utu;
  const double scale = r->yy + 2.0 * fabs(cu) + r->tnorm * uu;
  return rho2 >= RESID_GUARD * scale ? rho2 : NAN;
}

/* The path: W (p × L·K) and, if resid != NULL, resid[l] = ‖XW_λ − Y‖_F.
 * The tridiagonal solves go straight into W in the primal form (p = m), into
 * scratch in the dual form (r->D when L = 1). */
static int ridge_path(const ir_ridge *r, const double *lambdas, size_t L,
                      gsl_matrix *W, double *resid) {
  const size_t m = r->m, K = r->K, LK = L * K;
  double *piv = malloc(2 * m * sizeof(double));
  gsl_matrix *Ubuf = NULL;
  double *u = W->data;
  size_t ldu = W->tda;
  if (r->dual) {
    if (LK <= r->Kmax) {
      u = r->D->data;
      ldu = r->D->tda;
    } else {
      Ubuf = gsl_matrix_alloc(m, LK);
      if (Ubuf) {
        u = Ubuf->data;
        ldu = Ubuf->tda;
      }
    }
  }
  int s = IR_OK, explicit = 0;
  if (piv == NULL || (r->dual && LK > r->Kmax && Ubuf == NULL))
    s = ir_error(IR_ENOMEM, "out of memory (ridge path, %zux%zu)", m, LK);
  for (size_t l = 0; s == IR_OK && l < L; l++) {
    double *ul = u + l * K;
    s = tridiag_solve(r, lambdas[l], ul, ldu, piv, piv + m);
    if (s != IR_OK || resid == NULL)
      continue;
    if (r->dual) {
      /* XW − Y = G(G + λI)⁻¹Y − Y = −λ(G + λI)⁻¹Y = −λHu, H orthogonal. */
      double uu = 0;
      for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < K; j++)
          uu += ul[i * ldu + j] * ul[i * ldu + j];
      resid[l] = lambdas[l] * sqrt(uu);
    } else {
      resid[l] = sqrt(primal_resid2(r, ul, ldu));
      explicit |= isnan(resid[l]);
    }
  }
  if (s == IR_OK)
    s = apply_h(r, 0, u, LK, ldu);
  if (s == IR_OK && r->dual) {
    gsl_matrix_const_view U = gsl_matrix_const_view_array_with_tda(u, m, LK, ldu);
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, r->X, &U.matrix, 0.0, W);
  }
  if (s == IR_OK && explicit) {
    gsl_matrix *R = gsl_matrix_alloc(r->n, K);
    if (R == NULL)
      s = ir_error(IR_ENOMEM, "out of memory (ridge residual, %zux%zu)", r->n,
                   K);
    for (size_t l = 0; s == IR_OK && l < L; l++) {
      if (!isnan(resid[l]))
        continue;
      gsl_matrix_const_view Wl =
          gsl_matrix_const_submatrix(W, 0, l * K, r->p, K);
      gsl_matrix_const_view Yc =
          gsl_matrix_const_submatrix(r->Y, 0, 0, r->n, K);
      gsl_matrix_memcpy(R, &Yc.matrix);
      gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, r->X, &Wl.matrix, -1.0,
                     R);
      double rr = 0;
      for (size_t i = 0; i < r->n; i++)
        for (size_t j = 0; j < K; j++)
          rr += gsl_matrix_get(R, i, j) * gsl_matrix_get(R, i, j);
      resid[l] = sqrt(rr);
    }
    if (R)
      gsl_matrix_free(R);
  }
  free(piv);
  if (Ubuf)
    gsl_matrix_free(Ubuf);
  return s;
}

int ir_ridge_solve(const ir_ridge *r, double lambda, gsl_matrix *W) {
  if (!r->have_rhs)
    return ir_error(IR_EINVAL, "ir_ridge_solve before ir_ridge_set_rhs");
  if (!(lambda > 0) || !isfinite(lambda))
    return ir_error(IR_EDOM,
                    "ridge lambda = %g must be finite and > 0 (use "
                    "the pseudo-inverse for 0)",
                    lambda);
  if (W->size1 != r->p || W->size2 != r->K)
    return ir_error(IR_ESHAPE, "W is %zux%zu, expected %zux%zu", W->size1,
                    W->size2, r->p, r->K);
  /* Scratch r->D is owned by the workspace: solves on one workspace are
   * not reentrant. */
  return ridge_path(r, &lambda, 1, W, NULL);
}

int ir_ridge_solve_path_resid(const ir_ridge *r, const double *lambdas,
                              size_t L, gsl_matrix *W, double *resid) {
  if (!r->have_rhs)
    return ir_error(IR_EINVAL, "ir_ridge_solve_path before ir_ridge_set_rhs");
  if (L == 0 || lambdas == NULL)
    return ir_error(IR_EINVAL, "ridge path with no lambda");
  for (size_t l = 0; l < L; l++)
    if (!(lambdas[l] > 0) || !isfinite(lambdas[l]))
      return ir_error(IR_EDOM,
                      "ridge lambda[%zu] = %g must be finite and > 0 (use "
                      "the pseudo-inverse for 0)",
                      l, lambdas[l]);
  const size_t LK = L * r->K;
  if (W->size1 != r->p || W->size2 != LK)
    return ir_error(IR_ESHAPE, "W is %zux%zu, expected %zux%zu", W->size1,
                    W->size2, r->p, LK);
  return ridge_path(r, lambdas, L, W, resid);
}

int ir_ridge_solve_path(const ir_ridge *r, const double *lambdas, size_t L,
                        gsl_matrix *W) {
  return ir_ridge_solve_path_resid(r, lambdas, L, W, NULL);
}

/* ---- LAPACK least-squares drivers (dgelsd, dgelsy) ---------------------- */

/* W = X⁺Y by dgelsd (SVD by divide and conquer, applied to Y without
 * forming the singular vectors: the fastest exact route, as in
 * numpy.linalg.lstsq) or dgelsy (complete orthogonal decomposition).  The
 * drivers have no "transposed" mode, so X and Y are copied to column-major
 * once (they overwrite their inputs anyway).  sv (min(n, p) entries, dgelsd
 * only, may be NULL) receives the singular values. */
static int ir_minnorm_lapack(int method, const gsl_matrix *X,
                             const gsl_matrix *Y, double rcond, gsl_matrix *W,
                             size_t *rank, double *sv) {
  const size_t n = X->size1, p = X->size2, K = Y->size2;
  const size_t ldb = n > p ? n : p, k = n < p ? n : p;
  const int svd = method == IR_MINNORM_SVD;
  const char *name = svd ? "dgelsd" : "dgelsy";
  double *a = malloc(n * p * sizeof(double));
  double *b = calloc(ldb * K, sizeof(double));
  double *s = malloc(k * sizeof(double));
  lapack_int *jpvt = calloc(p, sizeof(lapack_int));
  double *work = NULL;
  lapack_int *iwork = NULL;
  int status = IR_OK;
  if (!a || !b || !s || !jpvt) {
    status = ir_error(IR_ENOMEM, "out of memory (%s on %zux%zu)", name, n, p);
    goto done;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < p; j++)
      a[j * n + i] = X->data[i * X->tda + j];
  for (size_t i = 0; i < n; i++)
    for (size_t c = 0; c < K; c++)
      b[c * ldb + i] = Y->data[i * Y->tda + c];
  const lapack_int m = (lapack_int)n, nn = (lapack_int)p, nr = (lapack_int)K;
  lapack_int r = 0, info, qi = 0;
  double q = 0;
  info = svd ? LAPACKE_dgelsd_work(LAPACK_COL_MAJOR, m, nn, nr, a, m, b,
                                   (lapack_int)ldb, s, rcond, &r, &q, -1, &qi)
             : LAPACKE_dgelsy_work(LAPACK_COL_MAJOR, m, nn, nr, a, m, b,
                                   (lapack_int)ldb, jpvt, rcond, &r, &q, -1);
  if (info != 0) {
    status = ir_error(IR_EINTERNAL, "%s workspace query failed (info %d)", name,
                      (int)info);
    goto done;
  }
  const size_t lwork = (size_t)q + 1;
  work = malloc(lwork * sizeof(double));
  iwork = malloc(((size_t)qi + 1) * sizeof(lapack_int));
  if (work == NULL || iwork == NULL) {
    status = ir_error(IR_ENOMEM, "out of memory (%s workspace)", name);
    goto done;
  }
  info = svd ? LAPACKE_dgelsd_work(LAPACK_COL_MAJOR, m, nn, nr, a, m, b,
                                   (lapack_int)ldb, s, rcond, &r, work,
                                   (lapack_int)lwork, iwork)
             : LAPACKE_dgelsy_work(LAPACK_COL_MAJOR, m, nn, nr, a, m, b,
                                   (lapack_int)ldb, jpvt, rcond, &r, work,
                                   (lapack_int)lwork);
  if (info < 0) {
    status = ir_error(IR_EINTERNAL, "%s: argument %d had an illegal value",
                      name, (int)-info);
    goto done;
  }
  if (info > 0) {
    status = ir_error(IR_ENOCONV,
                      "%s: the SVD did not converge (%d "
                      "off-diagonal elements)",
                      name, (int)info);
    goto done;
  }
  for (size_t j = 0; j < p; j++)
    for (size_t c = 0; c < K; c++)
      W->data[j * W->tda + c] = b[c * ldb + j];
  *rank = (size_t)r;
  if (sv != NULL && svd)
    memcpy(sv, s, k * sizeof(double));
done:
  free(a);
  free(b);
  free(s);
  free(jpvt);
  free(work);
  free(iwork);
  return status;
}

/* ---- Cholesky of the Gram matrix
 * ----------------------------------------------------- */

/* The Gram route's messages name the command-line option to use instead. */
static int ir_gram_solve(gsl_matrix *G, gsl_matrix *B, double accuracy,
                         const char *what, double *cond_est) {
  int s = ir_linalg_spd_solve(G, B, accuracy, cond_est);
  if (s == IR_ESING)
    return ir_error(IR_ESING, "--method gram: %s: %s; use --method svd", what,
                    ir_error_message());
  return s;
}

static int ir_minnorm_gram(const gsl_matrix *X, const gsl_matrix *Y,
                           double accuracy, gsl_matrix *W, double *cond_est) {
  const size_t n = X->size1, p = X->size2, K = Y->size2;
  int s;
  if (n >= p) {
    /* Normal equations XᵀX W = XᵀY. */
    gsl_matrix *G = gsl_matrix_alloc(p, p);
    if (G == NULL)
      return ir_error(IR_ENOMEM, "out of memory (Gram matrix %zux%zu)", p, p);
    s = ir_linalg_gram(X, 0, G);
    if (s == IR_OK) {
      gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, X, Y, 0.0, W);
      s = ir_gram_solve(G, W, accuracy, "X'X", cond_est);
    }
    gsl_matrix_free(G);
    return s;
  }
  /* n < p: W = Xᵀ (XXᵀ)⁻¹ Y, the min-norm interpolator when rank X = n. */
  gsl_matrix *G = gsl_matrix_alloc(n, n);
  gsl_matrix *A = gsl_matrix_alloc(n, K);
  if (G == NULL || A == NULL) {
    if (G)
      gsl_matrix_free(G);
    if (A)
      gsl_matrix_free(A);
    return ir_error(IR_ENOMEM, "out of memory (Gram matrix %zux%zu)", n, n);
  }
  s = ir_linalg_gram(X, 1, G);
  if (s == IR_OK) {
    gsl_matrix_memcpy(A, Y);
    s = ir_gram_solve(G, A, accuracy, "XX'", cond_est);
  }
  if (s == IR_OK)
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, X, A, 0.0, W);
  gsl_matrix_free(G);
  gsl_matrix_free(A);
  return s;
}

/* ---- One-shot
 * ------------------------------------------------------------------------ */

int ir_minnorm_solve(const gsl_matrix *X, const gsl_matrix *Y, int method,
                     double rcond, double accuracy, gsl_matrix *W,
                     ir_minnorm_diag *d) {
  const size_t n = X->size1, p = X->size2, K = Y->size2;
  if (Y->size1 != n)
    return ir_error(IR_ESHAPE, "X has %zu rows but Y has %zu", n, Y->size1);
  if (W->size1 != p || W->size2 != K)
    return ir_error(IR_ESHAPE, "W is %zux%zu, expected %zux%zu", W->size1,
                    W->size2, p, K);
  if (!isfinite(rcond))
    return ir_error(IR_EDOM, "rcond = %g is not finite", rcond);
  if (rcond < 0)
    rcond = ir_minnorm_default_rcond(n, p);
  int s = ir_matrix_check_finite(X, "X");
  if (s == IR_OK)
    s = ir_matrix_check_finite(Y, "Y");
  if (s != IR_OK)
    return s;
  ir_minnorm_diag dd;
  memset(&dd, 0, sizeof dd);
  dd.sigma_max = dd.sigma_min = dd.sigma_min_kept = dd.cond = NAN;
  switch (method) {
  case IR_MINNORM_SVD:
  case IR_MINNORM_COD: {
    const size_t k = n < p ? n : p;
    double *sv = method == IR_MINNORM_SVD ? malloc(k * sizeof(double)) : NULL;
    if (method == IR_MINNORM_SVD && sv == NULL)
      return ir_error(IR_ENOMEM, "out of memory");
    size_t r = 0;
    s = ir_minnorm_lapack(method, X, Y, rcond, W, &r, sv);
    dd.rank = r;
    if (s == IR_OK && sv != NULL) {
      dd.sigma_max = sv[0];
      dd.sigma_min = sv[k - 1];
      dd.sigma_min_kept = r > 0 ? sv[r - 1] : NAN;
      dd.cond = r > 0 ? sv[0] / sv[r - 1] : NAN;
    }
    free(sv);
    if (s == IR_OK)
      s = ir_minnorm_residual(X, Y, W, &dd);
    break;
  }
  case IR_MINNORM_GRAM: {
    if (!(accuracy > 0))
      return ir_error(IR_EDOM, "accuracy = %g must be > 0", accuracy);
    double ce = NAN;
    s = ir_minnorm_gram(X, Y, accuracy, W, &ce);
    dd.rank = n < p ? n : p;
    /* cond(Gram) = cond(X)², so the square root estimates cond(X). */
    dd.cond = sqrt(ce);
    if (s == IR_OK)
      s = ir_minnorm_residual(X, Y, W, &dd);
    break;
  }
  default: return ir_error(IR_EINVAL, "unknown minnorm method %d", method);
  }
  dd.n = n;
  dd.p = p;
  dd.K = K;
  dd.rcond = rcond;
  dd.method = method;
  if (s == IR_OK && d != NULL)
    *d = dd;
  return s;
}

int ir_minnorm_parse_method(const char *name, int *method) {
  if (strcmp(name, "svd") == 0)
    *method = IR_MINNORM_SVD;
  else if (strcmp(name, "cod") == 0)
    *method = IR_MINNORM_COD;
  else if (strcmp(name, "gram") == 0)
    *method = IR_MINNORM_GRAM;
  else
    return ir_error(IR_EINVAL,
                    "unknown method '%s' (expected svd, cod or gram)", name);
  return IR_OK;
}

const char *ir_minnorm_method_name(int method) {
  switch (method) {
  case IR_MINNORM_SVD: return "svd";
  case IR_MINNORM_COD: return "cod";
  case IR_MINNORM_GRAM: return "gram";
  default: return "unknown";
  }
}
