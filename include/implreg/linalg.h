/* implreg/linalg.h — SVD, symmetric eigensolver and Gram matrices on
 * row-major gsl_matrix, through LAPACKE/CBLAS on OpenBLAS.
 *
 * A row-major n×p block is the column-major p×n matrix Xᵀ.  The routines
 * below call the column-major LAPACK drivers on that block and swap the roles
 * of the factors, so that no transposed copy is made (docs/stack.md trap 4).
 * Workspaces are allocated once (sizes from LAPACK's workspace queries) and
 * reused for any matrix of the same shape.
 */
#ifndef IMPLREG_LINALG_H
#define IMPLREG_LINALG_H

#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Thin SVD X = U diag(s) Vt of an n×p matrix, k = min(n, p): U is n×k with
 * orthonormal columns, s has k entries in decreasing order, Vt is k×p with
 * orthonormal rows.  The workspace owns U, s, Vt and its scratch. */
typedef struct {
  size_t n, p, k;
  gsl_matrix *U;
  gsl_vector *s;
  gsl_matrix *Vt;
  int used_fallback; /* 1 when dgesdd failed and dgesvd was used */
  /* private */
  double *a;    /* n·p copy of X (LAPACK overwrites its input) */
  double *work; /* sized by the workspace queries of dgesdd and dgesvd */
  int *iwork;   /* 8k integers for dgesdd */
  size_t lwork;
} ir_svd;

/* Allocates the factors and scratch for n×p matrices (n, p >= 1).  Memory:
 * (2np + k² + k) doubles plus LAPACK's workspace. NULL on failure. */
ir_svd *ir_svd_alloc(size_t n, size_t p);
void ir_svd_free(ir_svd *w); /* NULL is a no-op */

/* Computes the thin SVD of X (n×p, any tda) with dgesdd (divide and
 * conquer), falling back to dgesvd (QR iteration) when dgesdd reports no
 * convergence.  X is not modified.  Cost: O(n p min(n, p)).
 * IR_ESHAPE on a shape mismatch, IR_EBADDATA on a non-finite entry,
 * IR_ENOCONV when both drivers fail. Golub & Van Loan §8.6. */
int ir_svd_decomp(ir_svd *w, const gsl_matrix *X);

/* Symmetric eigendecomposition A = Z diag(eval) Zᵀ (all eigenpairs, eval in
 * increasing order, eigenvectors in the COLUMNS of Z, as in GSL) by dsyevr
 * (MRRR).  Only the lower triangle of A is read. */
typedef struct {
  size_t n;
  gsl_vector *eval;
  gsl_matrix *evec;
  /* private */
  double *a;
  double *work;
  int *iwork;
  int *isuppz;
  size_t lwork, liwork;
} ir_eigen_symm;

ir_eigen_symm *ir_eigen_symm_alloc(size_t n);
void ir_eigen_symm_free(ir_eigen_symm *w);
/* Cost: O(n³). IR_ENOCONV when dsyevr fails. */
int ir_eigen_symm_decomp(ir_eigen_symm *w, const gsl_matrix *A);
/* The same by divide and conquer (dsyevd), faster than MRRR for all the
 * eigenvectors of a large matrix (the ridge path's Gram matrix) at the
 * price of 2n² + 6n doubles of workspace, allocated per call. */
int ir_eigen_symm_decomp_dc(ir_eigen_symm *w, const gsl_matrix *A);

/* Gram matrices with dsyrk (half the flops of dgemm), both triangles filled:
 * trans == 0: G = XᵀX (p×p); trans != 0: G = XXᵀ (n×n).  Cost: n p² or
 * n² p multiply-adds. */
int ir_linalg_gram(const gsl_matrix *X, int trans, gsl_matrix *G);

/* Solves G Z = B in place (B ← Z, any number of columns) for a symmetric
 * positive definite G (full row-major; overwritten by its Cholesky factor L
 * in the lower triangle) by dpotrf, after estimating cond₁(G) with dpocon
 * (*cond_est; +Inf when the factorization breaks down).  Refuses with
 * IR_ESING when Cholesky breaks down or eps·cond(G) > accuracy: the forward
 * error of the solution is about eps·cond(G).  Cost m³/3 + m²·cols. */
int ir_linalg_spd_solve(gsl_matrix *G, gsl_matrix *B, double accuracy,
                        double *cond_est);

/* B ← (L Lᵀ)⁻¹ B in place for L the lower triangle of the row-major L
 * (m×m, the factor ir_linalg_spd_solve leaves), B m×cols: two triangular
 * solves, 2m²·cols flops.  A right-hand side of few columns is solved in a
 * column-major copy (LAPACK dpotrs), so that OpenBLAS's left-side solve
 * runs along m: at m = 1000 and 10 columns 0.6 against 1.8 ms on the
 * row-major block (2 threads).  The copy (m·cols doubles) is allocated per
 * call; without memory the solve runs on B as it is. */
void ir_linalg_chol_apply(const gsl_matrix *L, gsl_matrix *B);

/* Frobenius norm, scaled to avoid overflow and underflow (as dnrm2). */
double ir_matrix_fro(const gsl_matrix *A);

/* gsl_matrix_alloc for large matrices (free with gsl_matrix_free): from
 * 1 MiB on, the block is 2 MiB-aligned and marked for transparent huge
 * pages (Linux madvise(MADV_HUGEPAGE); a hint, ignored where unsupported),
 * so that its first touch costs one page fault per 2 MiB instead of one per
 * 4 KiB — on this project's VMs 2.6 ms per MB touched with small pages,
 * 0.1–0.2 ms with huge ones.  Up to 2 MiB more memory than asked for.
 * Contents uninitialized, as gsl_matrix_alloc.  NULL (message recorded)
 * when out of memory. */
gsl_matrix *ir_matrix_alloc_big(size_t rows, size_t cols);

/* W (N×K) = the least-squares solution of A W ≈ Y for A (m×N) of full
 * rank: by the QR factorization of A when m >= N, the minimum-norm one by
 * its LQ factorization when m < N (LAPACK dgels: blocked Householder,
 * about 2mN² − 2N³/3 flops, mostly BLAS-3, against the SVD's
 * bidiagonalization, half BLAS-2).  Backward stable: forward error
 * ~eps·cond(A) (m <= N) or eps·cond(A)² with a large residual.  No rank
 * decision: IR_ESING only when a diagonal of the factor is exactly 0 (A = 0
 * is not refused: W = 0).  Memory: one copy of A. */
int ir_linalg_lstsq_qr(const gsl_matrix *A, const gsl_matrix *Y,
                       gsl_matrix *W);

/* ‖A − B‖_F for matrices of equal shape (NAN on a shape mismatch). */
double ir_matrix_fro_diff(const gsl_matrix *A, const gsl_matrix *B);

#ifdef __cplusplus
}
#endif
#endif
