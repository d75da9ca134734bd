/* linalg.c — SVD, symmetric eigensolver and Gram matrices via LAPACKE. */
#include "implreg/linalg.h"

#include "implreg/status.h"

#include <gsl/gsl_blas.h>
#include <lapacke.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- SVD
 * --------------------------------------------------------------------- */

void ir_svd_free(ir_svd *w) {
  if (w == NULL)
    return;
  if (w->U)
    gsl_matrix_free(w->U);
  if (w->s)
    gsl_vector_free(w->s);
  if (w->Vt)
    gsl_matrix_free(w->Vt);
  free(w->a);
  free(w->work);
  free(w->iwork);
  free(w);
}

ir_svd *ir_svd_alloc(size_t n, size_t p) {
  if (n == 0 || p == 0 || n > INT32_MAX || p > INT32_MAX) {
    ir_error(IR_EINVAL, "SVD of a %zux%zu matrix: both sizes must be >= 1", n,
             p);
    return NULL;
  }
  ir_svd *w = calloc(1, sizeof *w);
  if (w == NULL) {
    ir_error(IR_ENOMEM, "out of memory (SVD workspace)");
    return NULL;
  }
  size_t k = n < p ? n : p;
  w->n = n;
  w->p = p;
  w->k = k;
  w->U = gsl_matrix_alloc(n, k);
  w->s = gsl_vector_alloc(k);
  w->Vt = gsl_matrix_alloc(k, p);
  w->a = malloc(n * p * sizeof(double));
  w->iwork = malloc(8 * k * sizeof(int));
  if (!w->U || !w->s || !w->Vt || !w->a || !w->iwork)
    goto nomem;
  /* Workspace queries on the column-major p×n matrix Xᵀ (see the header). */
  lapack_int m = (lapack_int)p, nn = (lapack_int)n;
  double q1 = 0, q2 = 0;
  lapack_int info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'S', m, nn, w->a, m,
                                        w->s->data, w->Vt->data, m, w->U->data,
                                        (lapack_int)k, &q1, -1, w->iwork);
  if (info != 0)
    goto query;
  info = LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'S', 'S', m, nn, w->a, m,
                             w->s->data, w->Vt->data, m, w->U->data,
                             (lapack_int)k, &q2, -1);
  if (info != 0)
    goto query;
  w->lwork = (size_t)fmax(q1, q2) + 1;
  w->work = malloc(w->lwork * sizeof(double));
  if (w->work == NULL)
    goto nomem;
  return w;
query:
  ir_error(IR_EINTERNAL, "LAPACK workspace query failed (info %d)", (int)info);
  ir_svd_free(w);
  return NULL;
nomem:
  ir_error(IR_ENOMEM, "out of memory (SVD of a %zux%zu matrix)", n, p);
  ir_svd_free(w);
  return NULL;
}

int ir_svd_decomp(ir_svd *w, const gsl_matrix *X) {
  if (X->size1 != w->n || X->size2 != w->p)
    return ir_error(IR_ESHAPE,
                    "SVD workspace is for %zux%zu, matrix is %zux%zu", w->n,
                    w->p, X->size1, X->size2);
  const size_t n = w->n, p = w->p, k = w->k;
  for (size_t i = 0; i < n; i++) {
    const double *row = X->data + i * X->tda;
    for (size_t j = 0; j < p; j++)
      if (!isfinite(row[j]))
        return ir_error(IR_EBADDATA,
                        "matrix has a non-finite entry at row %zu, column %zu",
                        i + 1, j + 1);
    memcpy(w->a + i * p, row, p * sizeof(double));
  }
  /* The row-major n×p copy is the column-major p×n matrix A = Xᵀ.  With
   * A = U' S V'ᵀ we have X = V' S U'ᵀ: LAPACK's U' (p×k, column-major, ld p)
   * is, read row-major, exactly Vt (k×p), and its V'ᵀ (k×n, column-major,
   * ld k) is, read row-major, exactly U (n×k).  So we pass Vt as LAPACK's U
   * and U as LAPACK's VT, and nothing is transposed. */
  lapack_int m = (lapack_int)p, nn = (lapack_int)n, kk = (lapack_int)k;
  w->used_fallback = 0;
  lapack_int info = LAPACKE_dgesdd_work(
      LAPACK_COL_MAJOR, 'S', m, nn, w->a, m, w->s->data, w->Vt->data, m,
      w->U->data, kk, w->work, (lapack_int)w->lwork, w->iwork);
  if (info < 0)
    return ir_error(IR_EINTERNAL, "dgesdd: argument %d had an illegal value",
                    (int)-info);
  if (info > 0) {
    /* dgesdd's divide and conquer failed to converge: retry with the slower
     * but more robust QR iteration on a fresh copy. */
    for (size_t i = 0; i < n; i++)
      memcpy(w->a + i * p, X->data + i * X->tda, p * sizeof(double));
    w->used_fallback = 1;
    info = LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'S', 'S', m, nn, w->a, m,
                               w->s->data, w->Vt->data, m, w->U->data, kk,
                               w->work, (lapack_int)w->lwork);
    if (info < 0)
      return ir_error(IR_EINTERNAL, "dgesvd: argument %d had an illegal value",
                      (int)-info);
    if (info > 0)
      return ir_error(
          IR_ENOCONV,
          "SVD did not converge (dgesdd and dgesvd, %d superdiagonals "
          "left)",
          (int)info);
  }
  return IR_OK;
}

/* ---- Symmetric eigensolver
 * --------------------------------------------------- */

void ir_eigen_symm_free(ir_eigen_symm *w) {
  if (w == NULL)
    return;
  if (w->eval)
    gsl_vector_free(w->eval);
  if (w->evec)
    gsl_matrix_free(w->evec);
  free(w->a);
  free(w->work);
  free(w->iwork);
  free(w->isuppz);
  free(w);
}

ir_eigen_symm *ir_eigen_symm_alloc(size_t n) {
  if (n == 0 || n > INT32_MAX) {
    ir_error(IR_EINVAL, "eigendecomposition of a %zux%zu matrix", n, n);
    return NULL;
  }
  ir_eigen_symm *w = calloc(1, sizeof *w);
  if (w == NULL) {
    ir_error(IR_ENOMEM, "out of memory (eigen workspace)");
    return NULL;
  }
  w->n = n;
  w->eval = gsl_vector_alloc(n);
  w->evec = gsl_matrix_alloc(n, n);
  w->a = malloc(n * n * sizeof(double));
  w->isuppz = malloc(2 * n * sizeof(int));
  if (!w->eval || !w->evec || !w->a || !w->isuppz) {
    ir_error(IR_ENOMEM, "out of memory (eigen workspace, n = %zu)", n);
    ir_eigen_symm_free(w);
    return NULL;
  }
  double qw = 0;
  lapack_int qi = 0, m = 0, nn = (lapack_int)n;
  lapack_int info = LAPACKE_dsyevr_work(
      LAPACK_COL_MAJOR, 'V', 'A', 'U', nn, w->a, nn, 0, 0, 0, 0, 0, &m,
      w->eval->data, w->evec->data, nn, w->isuppz, &qw, -1, &qi, -1);
  if (info != 0) {
    ir_error(IR_EINTERNAL, "dsyevr workspace query failed (info %d)",
             (int)info);
    ir_eigen_symm_free(w);
    return NULL;
  }
  w->lwork = (size_t)qw + 1;
  w->liwork = (size_t)qi + 1;
  w->work = malloc(w->lwork * sizeof(double));
  w->iwork = malloc(w->liwork * sizeof(int));
  if (!w->work || !w->iwork) {
    ir_error(IR_ENOMEM, "out of memory (eigen workspace, n = %zu)", n);
    ir_eigen_symm_free(w);
    return NULL;
  }
  return w;
}

/* Copies A into w->a after checking its lower triangle is finite. */
static int eigen_load(ir_eigen_symm *w, const gsl_matrix *A) {
  const size_t n = w->n;
  if (A->size1 != n || A->size2 != n)
    return ir_error(IR_ESHAPE,
                    "eigen workspace is for %zux%zu, matrix is %zux%zu", n, n,
                    A->size1, A->size2);
  for (size_t i = 0; i < n; i++) {
    const double *row = A->data + i * A->tda;
    for (size_t j = 0; j <= i; j++)
      if (!isfinite(row[j]))
        return ir_error(IR_EBADDATA,
                        "symmetric matrix has a non-finite entry "
                        "at row %zu, column %zu",
                        i + 1, j + 1);
    memcpy(w->a + i * n, row, n * sizeof(double));
  }
  return IR_OK;
}

int ir_eigen_symm_decomp_dc(ir_eigen_symm *w, const gsl_matrix *A) {
  int s = eigen_load(w, A);
  if (s != IR_OK)
    return s;
  const size_t n = w->n;
  lapack_int nn = (lapack_int)n, qi = 0;
  double qw = 0;
  lapack_int info = LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'V', 'U', nn, w->a,
                                        nn, w->eval->data, &qw, -1, &qi, -1);
  if (info != 0)
    return ir_error(IR_EINTERNAL, "dsyevd workspace query failed (info %d)",
                    (int)info);
  const size_t lw = (size_t)qw + 1, li = (size_t)qi + 1;
  double *work = malloc(lw * sizeof(double));
  lapack_int *iwork = malloc(li * sizeof(lapack_int));
  if (work == NULL || iwork == NULL) {
    free(work);
    free(iwork);
    return ir_error(IR_ENOMEM, "out of memory (dsyevd workspace, n = %zu)",
                    n);
  }
  /* Row-major lower triangle = column-major upper triangle. */
  info = LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'V', 'U', nn, w->a, nn,
                             w->eval->data, work, (lapack_int)lw, iwork,
                             (lapack_int)li);
  free(work);
  free(iwork);
  if (info < 0)
    return ir_error(IR_EINTERNAL, "dsyevd: argument %d had an illegal value",
                    (int)-info);
  if (info > 0)
    return ir_error(IR_ENOCONV, "dsyevd failed to converge (info %d)",
                    (int)info);
  /* Eigenvector j is column j of the column-major a, i.e. row j read
   * row-major: transpose into the columns of evec. */
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++)
      w->evec->data[i * w->evec->tda + j] = w->a[j * n + i];
  return IR_OK;
}

int ir_eigen_symm_decomp(ir_eigen_symm *w, const gsl_matrix *A) {
  const size_t n = w->n;
  int s = eigen_load(w, A);
  if (s != IR_OK)
    return s;
  /* Row-major lower triangle = column-major upper triangle. */
  lapack_int m = 0, nn = (lapack_int)n;
  lapack_int info = LAPACKE_dsyevr_work(
      LAPACK_COL_MAJOR, 'V', 'A', 'U', nn, w->a, nn, 0, 0, 0, 0, 0, &m,
      w->eval->data, w->evec->data, nn, w->isuppz, w->work,
      (lapack_int)w->lwork, w->iwork, (lapack_int)w->liwork);
  if (info < 0)
    return ir_error(IR_EINTERNAL, "dsyevr: argument %d had an illegal value",
                    (int)-info);
  if (info > 0)
    return ir_error(IR_ENOCONV, "dsyevr failed to converge (info %d)",
                    (int)info);
  /* LAPACK stored eigenvector j in column j of a column-major array, which
   * reads row-major as row j; transpose in place so columns hold them, as
   * gsl_eigen_symmv does. */
  gsl_matrix_transpose(w->evec);
  return IR_OK;
}

/* ---- Gram matrices
 * ------------------------------------------------------------- */

int ir_linalg_gram(const gsl_matrix *X, int trans, gsl_matrix *G) {
  size_t m = trans ? X->size1 : X->size2;
  if (G->size1 != m || G->size2 != m)
    return ir_error(IR_ESHAPE, "Gram matrix must be %zux%zu, is %zux%zu", m, m,
                    G->size1, G->size2);
  int s = gsl_blas_dsyrk(CblasLower, trans ? CblasNoTrans : CblasTrans, 1.0, X,
                         0.0, G);
  if (s != 0)
    return ir_error(ir_status_from_gsl(s), "dsyrk failed (GSL status %d)", s);
  for (size_t i = 0; i < m; i++)
    for (size_t j = i + 1; j < m; j++)
      G->data[i * G->tda + j] = G->data[j * G->tda + i];
  return IR_OK;
}

/* Adds |a| to a scaled sum of squares (scale, ssq) as LAPACK's dlassq does,
 * so that the norm neither overflows nor underflows. */
static void ir_lassq(double a, double *scale, double *ssq) {
  a = fabs(a);
  if (a == 0)
    return;
  if (!isfinite(a) || !isfinite(*scale)) {
    *scale = isnan(a) ? a : (isnan(*scale) ? *scale : INFINITY);
    return;
  }
  if (*scale < a) {
    *ssq = 1 + *ssq * (*scale / a) * (*scale / a);
    *scale = a;
  } else {
    *ssq += (a / *scale) * (a / *scale);
  }
}

double ir_matrix_fro(const gsl_matrix *A) {
  double scale = 0, ssq = 1;
  for (size_t i = 0; i < A->size1; i++)
    for (size_t j = 0; j < A->size2; j++)
      ir_lassq(A->data[i * A->tda + j], &scale, &ssq);
  return isfinite(scale) ? scale * sqrt(ssq) : scale;
}

double ir_matrix_fro_diff(const gsl_matrix *A, const gsl_matrix *B) {
  if (A->size1 != B->size1 || A->size2 != B->size2)
    return NAN;
  double scale = 0, ssq = 1;
  for (size_t i = 0; i < A->size1; i++)
    for (size_t j = 0; j < A->size2; j++)
      ir_lassq(A->data[i * A->tda + j] - B->data[i * B->tda + j], &scale, &ssq);
  return isfinite(scale) ? scale * sqrt(ssq) : scale;
}

/* ---- Cholesky with a condition estimate --------------------------------- */

int ir_linalg_spd_solve(gsl_matrix *G, gsl_matrix *B, double accuracy,
                        double *cond_est) {
  const size_t m = G->size1;
  *cond_est = INFINITY;
  if (G->size2 != m || B->size1 != m)
    return ir_error(IR_ESHAPE, "Cholesky solve: G is %zux%zu, B has %zu rows",
                    G->size1, G->size2, B->size1);
  /* 1-norm of a symmetric matrix: the largest absolute column sum, which
   * for G = Gᵀ is the row sum with the same terms in the same order — the
   * same bits, read along rows (the column walk missed the cache on every
   * element: ~10 ms at m = 1000). */
  double anorm = 0;
  for (size_t j = 0; j < m; j++) {
    double c = 0;
    const double *row = G->data + j * G->tda;
    for (size_t i = 0; i < m; i++)
      c += fabs(row[i]);
    anorm = fmax(anorm, c);
  }
  /* Column-major 'U' on the row-major buffer is the row-major lower
   * triangle: afterwards G's lower triangle holds L with G = L Lᵀ. */
  lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', (lapack_int)m,
                                        G->data, (lapack_int)G->tda);
  if (info > 0)
    return ir_error(IR_ESING,
                    "Cholesky breaks down at column %d (the matrix is singular "
                    "or nearly so)",
                    (int)info);
  if (info < 0)
    return ir_error(IR_EINTERNAL, "dpotrf: argument %d illegal", (int)-info);
  double rc = 0;
  /* The work vectors on a 64-byte boundary: OpenBLAS's level-1/2 kernels
   * inside dpocon sum in an order that depends on the vectors' alignment,
   * so with malloc's 16 bytes the estimate's last bit followed the heap's
   * state (double-descent's cond column differed in the 16th digit between
   * `implreg double-descent` and the same run inside `implreg all`). */
  double *work = NULL;
  lapack_int *iwork = NULL;
  if (posix_memalign((void **)&work, 64, 3 * m * sizeof(double)) != 0)
    work = NULL;
  if (posix_memalign((void **)&iwork, 64, m * sizeof(lapack_int)) != 0)
    iwork = NULL;
  if (!work || !iwork) {
    free(work);
    free(iwork);
    return ir_error(IR_ENOMEM, "out of memory (condition estimate)");
  }
  info = LAPACKE_dpocon_work(LAPACK_COL_MAJOR, 'U', (lapack_int)m, G->data,
                             (lapack_int)G->tda, anorm, &rc, work, iwork);
  free(work);
  free(iwork);
  if (info != 0)
    return ir_error(IR_EINTERNAL, "dpocon: info %d", (int)info);
  *cond_est = rc > 0 ? 1.0 / rc : INFINITY;
  if (!(rc > 0) || DBL_EPSILON / rc > accuracy)
    return ir_error(IR_ESING,
                    "estimated condition number %.3g, so the solution is "
                    "accurate only to ~%.1e > requested %.1e",
                    *cond_est, DBL_EPSILON * *cond_est, accuracy);
  ir_linalg_chol_apply(G, B);
  return IR_OK;
}

void ir_linalg_chol_apply(const gsl_matrix *L, gsl_matrix *B) {
  const size_t m = B->size1, c = B->size2;
  /* Column-major 'U' on the row-major buffer is its lower triangle: the
   * factor U = Lᵀ of L Lᵀ = UᵀU, as dpotrf left it. */
  double *Bc = m > 0 && c > 0 ? malloc(m * c * sizeof *Bc) : NULL;
  if (Bc == NULL) {
    gsl_blas_dtrsm(CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, 1.0, L,
                   B);
    gsl_blas_dtrsm(CblasLeft, CblasLower, CblasTrans, CblasNonUnit, 1.0, L, B);
    return;
  }
  for (size_t i = 0; i < m; i++)
    for (size_t k = 0; k < c; k++)
      Bc[k * m + i] = B->data[i * B->tda + k];
  /* Its arguments are valid by construction: dpotrs cannot fail. */
  (void)LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'U', (lapack_int)m,
                            (lapack_int)c, L->data, (lapack_int)L->tda, Bc,
                            (lapack_int)m);
  for (size_t i = 0; i < m; i++)
    for (size_t k = 0; k < c; k++)
      B->data[i * B->tda + k] = Bc[k * m + i];
  free(Bc);
}

int ir_linalg_lstsq_qr(const gsl_matrix *A, const gsl_matrix *Y,
                       gsl_matrix *W) {
  const size_t m = A->size1, N = A->size2, K = Y->size2;
  if (Y->size1 != m || W->size1 != N || W->size2 != K)
    return ir_error(IR_ESHAPE,
                    "QR least squares: A %zux%zu, Y %zux%zu, W %zux%zu", m, N,
                    Y->size1, K, W->size1, W->size2);
  const size_t rows = m > N ? m : N;
  /* The row-major copy of A is the column-major Aᵀ (N×m): dgels with
   * TRANS = 'T' on it solves A X = Y — least squares by the QR of A when
   * m >= N, minimum norm by its LQ when m < N — without LAPACKE's
   * transposed copies (one copy of A in all). B is column-major rows×K. */
  gsl_matrix *Ac = ir_matrix_alloc_big(m, N);
  double *B = calloc(rows * K, sizeof *B);
  if (!Ac || !B) {
    if (Ac)
      gsl_matrix_free(Ac);
    free(B);
    return ir_error(IR_ENOMEM, "out of memory (QR least squares)");
  }
  gsl_matrix_memcpy(Ac, A);
  for (size_t i = 0; i < m; i++)
    for (size_t k = 0; k < K; k++)
      B[k * rows + i] = gsl_matrix_get(Y, i, k);
  lapack_int info = LAPACKE_dgels(LAPACK_COL_MAJOR, 'T', (lapack_int)N,
                                  (lapack_int)m, (lapack_int)K, Ac->data,
                                  (lapack_int)Ac->tda, B, (lapack_int)rows);
  int s = IR_OK;
  if (info > 0)
    s = ir_error(IR_ESING,
                 "QR least squares: the triangular factor is singular at %d "
                 "(A is not of full rank)",
                 (int)info);
  else if (info < 0)
    s = ir_error(IR_EINTERNAL, "dgels: argument %d illegal", (int)-info);
  else
    for (size_t i = 0; i < N; i++)
      for (size_t k = 0; k < K; k++)
        gsl_matrix_set(W, i, k, B[k * rows + i]);
  gsl_matrix_free(Ac);
  free(B);
  return s;
}
