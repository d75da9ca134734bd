/* curvature.c — eigenvalues, trace and spectral density of a symmetric
 * operator known only through products y = A x.
 *
 * Everything here is built on one kernel, ir_krylov_expand: a Lanczos step
 * with full reorthogonalization by classical Gram–Schmidt applied twice
 * (Giraud, Langou, Rozložník 2005, "twice is enough"), each pass two dgemv
 * calls over the basis stored as contiguous rows.  Full reorthogonalization
 * costs O(j·n) per step, negligible next to a Hessian-vector product, and
 * removes the ghost eigenvalues of plain Lanczos (Parlett, "The Symmetric
 * Eigenvalue Problem", ch. 13), which matters both for the eigensolver and
 * for the quadrature nodes of SLQ.
 */
#include "implreg/curvature.h"

#include "implreg/rng.h"
#include "implreg/status.h"

#include <float.h>
#include <gsl/gsl_blas.h> /* brings gsl_cblas.h (docs/stack.md trap 2) */
#include <gsl/gsl_math.h> /* M_PI, which strict C17 does not define */
#include <gsl/gsl_randist.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A Lanczos step "breaks down" (the Krylov space is invariant) when the new
 * direction is no longer than the rounding error of the product A v itself,
 * about √n·eps·‖A‖ for a product made of dot products.  The factor leaves a
 * margin for the Gram–Schmidt rounding on top of it. */
#define IR_BREAKDOWN_FACTOR 8.0

/* Early convergence tests every this many new Lanczos vectors (besides the
 * test when the basis is full): dsyevr on the small projected matrix costs
 * O(m³), nothing next to a few Hessian-vector products, and a warm start
 * may converge long before the basis fills. */
#define IR_LANCZOS_CHECK_EVERY 8

/* Columns per block when the thick restart rotates the basis in place. */
#define IR_RESTART_BLOCK 256

/* PyHessian's guard against division by a zero eigenvalue. */
#define IR_PYHESSIAN_EPS 1e-6

static size_t ir_min_sz(size_t a, size_t b) {
  return a < b ? a : b;
}
static size_t ir_max_sz(size_t a, size_t b) {
  return a > b ? a : b;
}

/* ---- Operators ----------------------------------------------------------- */

int ir_linop_apply(ir_linop *op, const double *x, double *y) {
  op->nmatvec++;
  return op->apply(op->ctx, x, y);
}

int ir_linop_apply_many(ir_linop *op, const double *X, double *Y, size_t r) {
  op->nmatvec += r;
  if (op->apply_many != NULL)
    return op->apply_many(op->ctx, X, Y, r);
  int s = IR_OK;
  for (size_t j = 0; j < r && s == IR_OK; j++)
    s = op->apply(op->ctx, X + j * op->n, Y + j * op->n);
  return s;
}

int ir_linop_quad_many(ir_linop *op, const double *X, double *Y, double *q,
                       size_t r) {
  if (op->quad_many != NULL) {
    op->nquad += r;
    return op->quad_many(op->ctx, X, q, r);
  }
  int s = ir_linop_apply_many(op, X, Y, r);
  for (size_t j = 0; j < r && s == IR_OK; j++)
    q[j] = cblas_ddot((int)op->n, X + j * op->n, 1, Y + j * op->n, 1);
  return s;
}

static int ir_dense_apply(void *ctx, const double *x, double *y) {
  const gsl_matrix *A = ctx;
  cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)A->size1, (int)A->size2, 1.0,
              A->data, (int)A->tda, x, 1, 0.0, y, 1);
  return IR_OK;
}

/* A non-square matrix gives an operator of dimension 0, which every
 * estimator rejects with IR_EINVAL (this constructor cannot fail). */
ir_linop ir_linop_dense(const gsl_matrix *A) {
  ir_linop op = {0, ir_dense_apply, (void *)A, 0, NULL, NULL, 0};
  if (A != NULL && A->size1 == A->size2)
    op.n = A->size1;
  return op;
}

static int ir_hessian_apply(void *ctx, const double *x, double *y) {
  ir_hessian_op *h = ctx;
  if (h->theta == NULL)
    return ir_error(IR_EINVAL, "Hessian operator without a parameter vector");
  const size_t n = h->model->nparams;
  gsl_vector_const_view xv = gsl_vector_const_view_array(x, n);
  gsl_vector_view yv = gsl_vector_view_array(y, n);
  return ir_model_hvp(h->model, h->theta, h->idx, h->nb, &xv.vector,
                      &yv.vector);
}

static int ir_hessian_apply_many(void *ctx, const double *X, double *Y,
                                 size_t r) {
  ir_hessian_op *h = ctx;
  if (h->theta == NULL)
    return ir_error(IR_EINVAL, "Hessian operator without a parameter vector");
  const size_t n = h->model->nparams;
  gsl_matrix_const_view xv = gsl_matrix_const_view_array(X, r, n);
  gsl_matrix_view yv = gsl_matrix_view_array(Y, r, n);
  return ir_model_hvp_many(h->model, h->theta, h->idx, h->nb, &xv.matrix,
                           &yv.matrix);
}

static int ir_hessian_quad_many(void *ctx, const double *X, double *q,
                                size_t r) {
  ir_hessian_op *h = ctx;
  if (h->theta == NULL)
    return ir_error(IR_EINVAL, "Hessian operator without a parameter vector");
  gsl_matrix_const_view xv =
      gsl_matrix_const_view_array(X, r, h->model->nparams);
  return ir_model_quad_many(h->model, h->theta, h->idx, h->nb, &xv.matrix, q);
}

ir_linop ir_linop_hessian(ir_hessian_op *h) {
  ir_linop op = {0, ir_hessian_apply,      h,
                 0, ir_hessian_apply_many, ir_hessian_quad_many,
                 0};
  if (h != NULL && h->model != NULL)
    op.n = h->model->nparams;
  return op;
}

static int ir_linop_check(const ir_linop *op, const char *who) {
  if (op == NULL || op->apply == NULL)
    return ir_error(IR_EINVAL, "%s: no operator", who);
  if (op->n == 0)
    return ir_error(IR_EINVAL,
                    "%s: operator of dimension 0 (non-square dense matrix?)",
                    who);
  if (op->n > INT_MAX)
    return ir_error(IR_EINVAL, "%s: dimension %zu exceeds the BLAS int range",
                    who, op->n);
  return IR_OK;
}

/* ---- Shared kernels ------------------------------------------------------ */

/* z = independent ±scale signs.  The generator of ir_rng_alloc (xoshiro256**)
 * gives uniformly random bits in every position, so one draw serves 32 signs
 * (32, not 64, so that the code is right for a 32-bit unsigned long too). */
static void ir_rademacher(gsl_rng *r, double *z, size_t n, double scale) {
  unsigned long bits = 0;
  for (size_t i = 0; i < n; i++) {
    if (i % 32 == 0)
      bits = gsl_rng_get(r);
    z[i] = (bits & 1UL) ? scale : -scale;
    bits >>= 1;
  }
}

/* The status of a failed ir_rng_alloc, whose message is already recorded:
 * it fails on a zero seed or for want of memory. */
static int ir_rng_fail(unsigned long seed) {
  return seed == 0 ? IR_EINVAL : IR_ENOMEM;
}

/* Mean and sample standard error (n − 1 denominator, / √cnt) of x[0..cnt)
 * by Welford's recurrence; se = 0 when cnt < 2. */
static void ir_mean_se(const double *x, size_t cnt, double *mean, double *se) {
  double mu = 0, m2 = 0;
  for (size_t i = 0; i < cnt; i++) {
    double d = x[i] - mu;
    mu += d / (double)(i + 1);
    m2 += d * (x[i] - mu);
  }
  *mean = mu;
  *se = cnt >= 2 ? sqrt(m2 / (double)(cnt - 1) / (double)cnt) : 0.0;
}

/* ‖y − λx‖₂ without forming the difference vector. */
static double ir_residual_norm(const double *x, const double *y, double lam,
                               size_t n) {
  double scale = 0, ssq = 1;
  for (size_t i = 0; i < n; i++) {
    double a = fabs(y[i] - lam * x[i]);
    if (a == 0)
      continue;
    if (scale < a) {
      ssq = 1 + ssq * (scale / a) * (scale / a);
      scale = a;
    } else {
      ssq += (a / scale) * (a / scale);
    }
  }
  return scale * sqrt(ssq);
}

/* One Lanczos step: w = A v_j into row j+1 of V (rows 0..j orthonormal,
 * row-major with leading dimension n), then w ← (I − V Vᵀ) w.
 *
 * The components along v_j and v_{j−1} (the three-term couplings, large) are
 * removed first with two dot products; one classical Gram–Schmidt pass over
 * the whole basis (h = V w, w −= Vᵀ h: two dgemv) then removes the rest, and
 * a second pass runs only when that pass shrank w by more than 1/√2 (the
 * DGKS criterion, as ARPACK): w was then mostly made of basis directions and
 * rounding may have left some in.  This halves the memory traffic over the
 * basis, which at n ≈ 5e4 costs about as much as a network's HVP.  The
 * coefficients of v_j sum to α_j = v_jᵀ A v_j.  Returns α_j, β_j = ‖w‖ (w is
 * NOT normalized) and ‖A v_j‖.  Cost: one matvec + 4(j+1)n flops (8(j+1)n
 * when the second pass runs). */
/* Vectors a deflated Lanczos run stays orthogonal to: L orthonormal rows
 * of length n (the pairs already locked), and L doubles of scratch. */
typedef struct {
  const double *Y;
  size_t L;
  double *hy;
} ir_locked;

/* w ← (I − YᵀY) w: one classical Gram–Schmidt pass against the locked rows
 * (two dgemv; nothing when there are none). */
static void ir_locked_project(const ir_locked *lk, double *w, size_t n) {
  if (lk == NULL || lk->L == 0)
    return;
  cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)lk->L, (int)n, 1.0, lk->Y,
              (int)n, w, 1, 0.0, lk->hy, 1);
  cblas_dgemv(CblasRowMajor, CblasTrans, (int)lk->L, (int)n, -1.0, lk->Y,
              (int)n, lk->hy, 1, 1.0, w, 1);
}

static int ir_krylov_expand(ir_linop *op, const ir_locked *lk, double *V,
                            size_t j, double *h, double *alpha, double *beta,
                            double *avnorm) {
  const size_t n = op->n;
  const int nn = (int)n, nv = (int)(j + 1);
  double *w = V + (j + 1) * n;
  int s = ir_linop_apply(op, V + j * n, w);
  if (s != IR_OK)
    return s;
  double wn = cblas_dnrm2(nn, w, 1);
  if (!isfinite(wn))
    return ir_error(IR_EBADDATA,
                    "operator returned a non-finite vector (Lanczos step %zu)",
                    j + 1);
  double a = cblas_ddot(nn, V + j * n, 1, w, 1);
  cblas_daxpy(nn, -a, V + j * n, 1, w, 1);
  if (j > 0) {
    double b = cblas_ddot(nn, V + (j - 1) * n, 1, w, 1);
    cblas_daxpy(nn, -b, V + (j - 1) * n, 1, w, 1);
  }
  double before = cblas_dnrm2(nn, w, 1), after = before;
  for (int pass = 0; pass < 2; pass++) {
    ir_locked_project(lk, w, n);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, nv, nn, 1.0, V, nn, w, 1, 0.0, h,
                1);
    cblas_dgemv(CblasRowMajor, CblasTrans, nv, nn, -1.0, V, nn, h, 1, 1.0, w,
                1);
    a += h[j];
    after = cblas_dnrm2(nn, w, 1);
    if (after > 0.70710678118654752 * before)
      break;
    before = after;
  }
  *alpha = a;
  *beta = after;
  *avnorm = wn;
  return IR_OK;
}

/* ---- Lanczos eigensolver ------------------------------------------------- */

void ir_lanczos_params_default(ir_lanczos_params *p) {
  p->k = 1;
  p->which = IR_EIG_LARGEST;
  p->tol = 1e-10;
  p->max_basis = 0;
  p->max_matvec = 0;
  p->seed = 1;
  p->stream = ir_rng_stream(IR_STREAM_PROBE, 0, 0);
  p->v0 = NULL;
  p->certify = 1;
}

void ir_eig_result_free(ir_eig_result *r) {
  if (r == NULL)
    return;
  free(r->values);
  if (r->vectors)
    gsl_matrix_free(r->vectors);
  free(r->residuals);
  free(r->converged);
  free(r);
}

static ir_eig_result *ir_eig_result_alloc(size_t n, size_t k) {
  ir_eig_result *r = calloc(1, sizeof *r);
  if (r == NULL)
    return NULL;
  r->n = n;
  r->k = k;
  r->values = malloc(k * sizeof(double));
  r->vectors = gsl_matrix_alloc(n, k);
  r->residuals = malloc(k * sizeof(double));
  r->converged = malloc(k * sizeof(int));
  if (!r->values || !r->vectors || !r->residuals || !r->converged) {
    ir_eig_result_free(r);
    return NULL;
  }
  return r;
}

/* Working storage of one Lanczos run with a basis of at most m vectors. */
typedef struct {
  size_t n, m;
  double *V;          /* (m+1)×n: Lanczos vectors as rows */
  double *T;          /* m×m projected matrix VᵀAV (row-major, symmetric) */
  double *Ta;         /* copy of T that dsyevr destroys */
  double *Z;          /* eigenvectors of T: number i at Z + i·m */
  double *theta;      /* Ritz values, ascending */
  double *Zsel;       /* selected eigenvectors of T as rows (ld m) */
  double *h;          /* m+1 Gram–Schmidt coefficients */
  double *blk;        /* m × IR_RESTART_BLOCK scratch for the restart */
  double *x, *y;      /* n each: explicit residuals */
  size_t *order;      /* Ritz indices, wanted first */
  lapack_int *isuppz; /* 2m, for dsyevr */
} ir_lanczos_ws;

static void ir_lanczos_ws_free(ir_lanczos_ws *w) {
  if (w == NULL)
    return;
  free(w->V);
  free(w->T);
  free(w->Ta);
  free(w->Z);
  free(w->theta);
  free(w->Zsel);
  free(w->h);
  free(w->blk);
  free(w->x);
  free(w->y);
  free(w->order);
  free(w->isuppz);
  free(w);
}

static ir_lanczos_ws *ir_lanczos_ws_alloc(size_t n, size_t m) {
  if (n > SIZE_MAX / sizeof(double) / (m + 1))
    return NULL;
  ir_lanczos_ws *w = calloc(1, sizeof *w);
  if (w == NULL)
    return NULL;
  w->n = n;
  w->m = m;
  w->V = malloc((m + 1) * n * sizeof(double));
  w->T = calloc(m * m, sizeof(double));
  w->Ta = malloc(m * m * sizeof(double));
  w->Z = malloc(m * m * sizeof(double));
  w->theta = malloc(m * sizeof(double));
  w->Zsel = malloc(m * m * sizeof(double));
  w->h = malloc((m + 1) * sizeof(double));
  w->blk = malloc(m * IR_RESTART_BLOCK * sizeof(double));
  w->x = malloc(n * sizeof(double));
  w->y = malloc(n * sizeof(double));
  w->order = malloc(m * sizeof(size_t));
  w->isuppz = malloc(2 * m * sizeof(lapack_int));
  if (!w->V || !w->T || !w->Ta || !w->Z || !w->theta || !w->Zsel || !w->h ||
      !w->blk || !w->x || !w->y || !w->order || !w->isuppz) {
    ir_lanczos_ws_free(w);
    return NULL;
  }
  return w;
}

static int ir_lanczos_check(const ir_linop *op, const ir_lanczos_params *p) {
  int s = ir_linop_check(op, "Lanczos");
  if (s != IR_OK)
    return s;
  if (p == NULL)
    return ir_error(IR_EINVAL, "Lanczos: no parameters");
  if (p->k == 0 || p->k > op->n)
    return ir_error(IR_EINVAL, "Lanczos: k = %zu, need 1 <= k <= n = %zu", p->k,
                    op->n);
  if (!(p->tol > 0) || !isfinite(p->tol))
    return ir_error(IR_EINVAL, "Lanczos: tol = %g, need a finite tol > 0",
                    p->tol);
  if (p->which != IR_EIG_LARGEST && p->which != IR_EIG_SMALLEST &&
      p->which != IR_EIG_MAGNITUDE)
    return ir_error(IR_EINVAL, "Lanczos: unknown spectrum end %d",
                    (int)p->which);
  /* A thick restart keeps k Ritz vectors and must add at least one. */
  if (p->max_basis != 0 && p->max_basis < op->n && p->max_basis < p->k + 1)
    return ir_error(IR_EINVAL,
                    "Lanczos: max_basis = %zu, need >= k + 1 = %zu (or >= n)",
                    p->max_basis, p->k + 1);
  /* k steps to have k Ritz pairs at all, then k residual checks. */
  if (p->max_matvec != 0 && p->max_matvec < 2 * p->k)
    return ir_error(IR_EINVAL, "Lanczos: max_matvec = %zu, need >= 2k = %zu",
                    p->max_matvec, 2 * p->k);
  if (p->seed == 0 && p->v0 == NULL)
    return ir_error(IR_EINVAL, "Lanczos: seed 0 (seeds start at 1)");
  return IR_OK;
}

/* Row 0 of V = the normalized start vector: v0, or Gaussian from (seed,
 * stream), with the locked directions removed (twice: one pass leaves
 * rounding along them, and a deflated run must never see them). */
static int ir_lanczos_start(ir_lanczos_ws *w, const double *v0,
                            unsigned long seed, uint64_t stream,
                            const ir_locked *lk) {
  const size_t n = w->n;
  double *v = w->V;
  if (v0 != NULL) {
    memcpy(v, v0, n * sizeof(double));
  } else {
    gsl_rng *r = ir_rng_alloc(seed, stream);
    if (r == NULL)
      return IR_ENOMEM;
    for (size_t i = 0; i < n; i++)
      v[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
    ir_rng_free(r);
  }
  ir_locked_project(lk, v, n);
  ir_locked_project(lk, v, n);
  double nrm = cblas_dnrm2((int)n, v, 1);
  if (!(nrm > 0) || !isfinite(nrm))
    return ir_error(IR_EINVAL,
                    "Lanczos: start vector v0 has norm %g (need finite, > 0)",
                    nrm);
  cblas_dscal((int)n, 1.0 / nrm, v, 1);
  return IR_OK;
}

/* order[0..nb) = indices of theta (ascending) in the order of `which`.
 * For MAGNITUDE the largest |θ| sit at the two ends: merge them inwards
 * (ties go to the positive end). */
static void ir_ritz_order(const double *theta, size_t nb, ir_eig_which which,
                          size_t *order) {
  if (which == IR_EIG_SMALLEST) {
    for (size_t i = 0; i < nb; i++)
      order[i] = i;
  } else if (which == IR_EIG_LARGEST) {
    for (size_t i = 0; i < nb; i++)
      order[i] = nb - 1 - i;
  } else {
    size_t lo = 0, hi = nb - 1;
    for (size_t i = 0; i < nb; i++)
      order[i] = fabs(theta[hi]) >= fabs(theta[lo]) ? hi-- : lo++;
  }
}

/* Ritz pairs of the leading nb×nb block of T by dsyevr, then their order.
 * Cost O(nb³). */
static int ir_lanczos_ritz(ir_lanczos_ws *w, size_t nb, ir_eig_which which) {
  const size_t m = w->m;
  for (size_t i = 0; i < nb; i++)
    memcpy(w->Ta + i * m, w->T + i * m, nb * sizeof(double));
  lapack_int found = 0;
  lapack_int info = LAPACKE_dsyevr(
      LAPACK_COL_MAJOR, 'V', 'A', 'U', (lapack_int)nb, w->Ta, (lapack_int)m, 0,
      0, 0, 0, 0.0, &found, w->theta, w->Z, (lapack_int)m, w->isuppz);
  if (info < 0)
    return ir_error(IR_EINTERNAL, "dsyevr: argument %d had an illegal value",
                    (int)-info);
  if (info > 0)
    return ir_error(IR_ENOCONV,
                    "dsyevr failed on the %zux%zu Lanczos matrix (info %d)", nb,
                    nb, (int)info);
  ir_ritz_order(w->theta, nb, which, w->order);
  return IR_OK;
}

/* Thick restart (Wu & Simon 2000): the basis becomes the l wanted Ritz
 * vectors V_nbᵀ y_i plus the residual vector v_nb, and the projected matrix
 * the arrowhead [diag(θ) s; sᵀ ·] with s_i = β·(last component of y_i), so
 * that A V_l = V_l diag(θ) + v_l sᵀ holds exactly in exact arithmetic.  The
 * rotation V ← Y_lᵀ V runs in place, by column blocks (memory m·block).
 * Cost: 2·l·nb·n flops. */
static void ir_lanczos_restart(ir_lanczos_ws *w, size_t nb, size_t l,
                               double beta) {
  const size_t n = w->n, m = w->m;
  for (size_t i = 0; i < l; i++)
    memcpy(w->Zsel + i * m, w->Z + w->order[i] * m, nb * sizeof(double));
  for (size_t c0 = 0; c0 < n; c0 += IR_RESTART_BLOCK) {
    const size_t nc = ir_min_sz(IR_RESTART_BLOCK, n - c0);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)l, (int)nc,
                (int)nb, 1.0, w->Zsel, (int)m, w->V + c0, (int)n, 0.0, w->blk,
                (int)nc);
    for (size_t i = 0; i < l; i++)
      memcpy(w->V + i * n + c0, w->blk + i * nc, nc * sizeof(double));
  }
  memcpy(w->V + l * n, w->V + nb * n, n * sizeof(double));
  memset(w->T, 0, m * m * sizeof(double));
  for (size_t i = 0; i < l; i++) {
    const size_t oi = w->order[i];
    w->T[i * m + i] = w->theta[oi];
    const double si = beta * w->Z[oi * m + nb - 1];
    w->T[i * m + l] = si;
    w->T[l * m + i] = si;
  }
}

/* The first kret Ritz pairs (in `order`) into res, with explicit residuals
 * ‖Av − θv‖ (kret matvecs) and flags residual <= tol·anorm; *nconv counts
 * them.  vectors = V_nbᵀ Y_sel in one dgemm. */
static int ir_lanczos_extract(ir_linop *op, ir_lanczos_ws *w, size_t nb,
                              double tol, double anorm, ir_eig_result *res,
                              size_t *nconv) {
  const size_t n = w->n, m = w->m, kret = res->k;
  for (size_t i = 0; i < kret; i++)
    memcpy(w->Zsel + i * m, w->Z + w->order[i] * m, nb * sizeof(double));
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasTrans, (int)n, (int)kret, (int)nb,
              1.0, w->V, (int)n, w->Zsel, (int)m, 0.0, res->vectors->data,
              (int)res->vectors->tda);
  *nconv = 0;
  for (size_t i = 0; i < kret; i++) {
    const double th = w->theta[w->order[i]];
    for (size_t r = 0; r < n; r++)
      w->x[r] = res->vectors->data[r * res->vectors->tda + i];
    int s = ir_linop_apply(op, w->x, w->y);
    if (s != IR_OK)
      return s;
    res->values[i] = th;
    res->residuals[i] = ir_residual_norm(w->x, w->y, th, n);
    res->converged[i] = res->residuals[i] <= tol * anorm;
    *nconv += (size_t)res->converged[i];
  }
  return IR_OK;
}

/* Ritz vectors kept at a thick restart: the k wanted plus up to k more of
 * the wanted end (keeping the neighbours of the k-th improves its effective
 * gap, as in Wu & Simon), never more than half of the free space, so that
 * each cycle adds at least (m − k)/2 new vectors. */
static size_t ir_lanczos_nkeep(size_t k, size_t m) {
  return k + ir_min_sz(k, (m - k) / 2);
}

/* How many of the first min(k, nb) wanted Ritz pairs pass the estimated
 * test ‖A x_i − θ_i x_i‖ = |β·(last component of y_i)| <= tol·anorm
 * (exact in exact arithmetic; free, unlike the explicit residual). */
static size_t ir_lanczos_nest(const ir_lanczos_ws *w, size_t nb, size_t k,
                              double beta, double tol, double anorm) {
  size_t nest = 0;
  for (size_t i = 0; i < ir_min_sz(k, nb); i++)
    nest += fabs(beta * w->Z[w->order[i] * w->m + nb - 1]) <= tol * anorm;
  return nest;
}

/* One thick-restart Lanczos run for the k wanted pairs of A restricted to
 * the complement of the locked rows (all of R^n when lk->L == 0): expand
 * the basis one vector at a time; test convergence at a breakdown, when
 * the basis is full, when the budget of maxmv matvecs is spent, and every
 * IR_LANCZOS_CHECK_EVERY steps; confirm by explicit residuals (with the
 * whole operator); restart thick when the basis is full.  *anorm is the
 * running ‖A‖ estimate, shared by the runs of one solve. */
static int ir_lanczos_run(ir_linop *op, const ir_lanczos_params *p, size_t k,
                          size_t maxmv, const double *v0, uint64_t stream,
                          const ir_locked *lk, double *anorm,
                          ir_eig_result **out) {
  const size_t n = op->n, nd = n - lk->L; /* dimension of the complement */
  /* Default basis: the whole complement when n <= 1000 (at most 8 MB; no
   * restart ever, so clustered ends such as a Hessian's near-zero
   * eigenvalues converge in at most n steps), else 2k + 20, at least 40. */
  const size_t m0 = p->max_basis ? p->max_basis
                    : n <= 1000  ? n
                                 : ir_max_sz(2 * k + 20, 40);
  const size_t m = ir_max_sz(ir_min_sz(m0, nd), ir_min_sz(k + 1, nd));
  *out = NULL;
  ir_lanczos_ws *w = ir_lanczos_ws_alloc(n, m);
  if (w == NULL)
    return ir_error(IR_ENOMEM, "Lanczos: out of memory (n = %zu, basis %zu)", n,
                    m);
  ir_eig_result *res = NULL;
  int s = ir_lanczos_start(w, v0, p->seed, stream, lk);
  if (s != IR_OK)
    goto fail;

  const size_t mv0 = op->nmatvec;
  const double brk = IR_BREAKDOWN_FACTOR * sqrt((double)n) * DBL_EPSILON;
  size_t nb = 0, l = 0, nrestart = 0;
  double aref = 0;
  int early = 1; /* early tests allowed in this cycle */
  for (;;) {
    double alpha, beta, avn;
    s = ir_krylov_expand(op, lk, w->V, nb, w->h, &alpha, &beta, &avn);
    if (s != IR_OK)
      goto fail;
    w->T[nb * m + nb] = alpha;
    aref = fmax(aref, avn);
    nb++;
    /* With nb = nd vectors the Krylov space is the whole complement. */
    const int breakdown = nb == nd || beta <= brk * aref;
    if (breakdown) {
      beta = 0;
    } else {
      cblas_dscal((int)n, 1.0 / beta, w->V + nb * n, 1);
      if (nb < m)
        w->T[(nb - 1) * m + nb] = w->T[nb * m + nb - 1] = beta;
    }
    /* No room for one more matvec and the k residual checks. */
    const int budget_out = op->nmatvec - mv0 + k >= maxmv;
    const int full = nb == m;
    const int early_now =
        early && nb >= k && (nb - l) % IR_LANCZOS_CHECK_EVERY == 0;
    if (!(breakdown || full || budget_out || early_now))
      continue;

    s = ir_lanczos_ritz(w, nb, p->which);
    if (s != IR_OK)
      goto fail;
    for (size_t i = 0; i < nb; i++)
      *anorm = fmax(*anorm, fabs(w->theta[i]));
    const size_t kk = ir_min_sz(k, nb);
    if (breakdown || budget_out ||
        ir_lanczos_nest(w, nb, k, beta, p->tol, *anorm) == k) {
      ir_eig_result_free(res);
      res = ir_eig_result_alloc(n, kk);
      if (res == NULL) {
        s = ir_error(IR_ENOMEM, "Lanczos: out of memory (%zu vectors)", kk);
        goto fail;
      }
      size_t nconv;
      s = ir_lanczos_extract(op, w, nb, p->tol, *anorm, res, &nconv);
      if (s != IR_OK)
        goto fail;
      if (nconv == kk || breakdown || op->nmatvec - mv0 + 1 + k > maxmv)
        break;
      /* The estimates passed but an explicit residual did not (loss of
       * orthogonality): go on, testing again only when the basis is full
       * so that a stubborn pair does not cost k matvecs every few steps. */
      early = 0;
    }
    if (full) {
      l = ir_lanczos_nkeep(k, m);
      ir_lanczos_restart(w, nb, l, beta);
      nb = l;
      nrestart++;
      early = 1;
    }
  }
  res->nmatvec = op->nmatvec - mv0;
  res->nrestart = nrestart;
  ir_lanczos_ws_free(w);
  *out = res;
  return IR_OK;
fail:
  ir_eig_result_free(res);
  ir_lanczos_ws_free(w);
  return s;
}

/* Sort key: larger is better for every end of the spectrum. */
static double ir_eig_key(double lam, ir_eig_which which) {
  return which == IR_EIG_LARGEST    ? lam
         : which == IR_EIG_SMALLEST ? -lam
                                    : fabs(lam);
}

/* The pairs locked so far: at most k, vectors as rows of Y (k×n). */
typedef struct {
  size_t k, n, cnt;
  double *val, *resid, *Y;
} ir_lock_set;

/* Index of the worst locked pair (the one a better new pair displaces). */
static size_t ir_lock_worst(const ir_lock_set *ls, ir_eig_which which) {
  size_t w = 0;
  for (size_t i = 1; i < ls->cnt; i++)
    if (ir_eig_key(ls->val[i], which) < ir_eig_key(ls->val[w], which))
      w = i;
  return w;
}

/* Offers the pairs of one run (best first) to the locked set: a pair enters
 * while the set has room, or when it beats the worst locked value by more
 * than delta (a copy of a value already locked — the same eigenvalue within
 * the accuracy the residuals certify — does not: the set already holds that
 * value the right number of times).  Returns the number that entered. */
static size_t ir_lock_offer(ir_lock_set *ls, const ir_eig_result *r,
                            ir_eig_which which, double delta) {
  size_t entered = 0;
  for (size_t i = 0; i < r->k; i++) {
    size_t slot = ls->cnt;
    if (ls->cnt == ls->k) {
      slot = ir_lock_worst(ls, which);
      if (!(ir_eig_key(r->values[i], which) >
            ir_eig_key(ls->val[slot], which) + delta))
        break; /* the rest of the run is worse still */
    } else {
      ls->cnt++;
    }
    ls->val[slot] = r->values[i];
    ls->resid[slot] = r->residuals[i];
    for (size_t j = 0; j < ls->n; j++)
      ls->Y[slot * ls->n + j] = gsl_matrix_get(r->vectors, j, i);
    entered++;
  }
  return entered;
}

/* The driver.  A single-vector Krylov space holds one direction of each
 * eigenspace (in exact arithmetic), so one run cannot see a multiplicity:
 * of an eigenvalue repeated K times it returns one copy, and the k "largest"
 * pairs it reports skip the other K − 1.  So the pairs of the first run are
 * locked, and further runs from fresh random vectors in the orthogonal
 * complement of the locked ones (deflation by explicit orthogonalization;
 * Saad, "Numerical Methods for Large Eigenvalue Problems", §4.2) look for
 * more: a copy of a repeated eigenvalue, or a value the first run missed.
 * Every new pair better than the worst locked one replaces it; the solve is
 * certified when a run's best pair enters no more — then no eigenvalue of A
 * beyond the locked ones (with multiplicity) remains at the wanted end,
 * because A on the complement of exact eigenvectors has exactly the
 * remaining spectrum.  Deflated runs ask for few pairs (1, doubling while
 * all of them enter), so certifying a spectrum without multiplicities costs
 * one small run; a K-fold eigenvalue costs about K runs. */
int ir_lanczos_eigs(ir_linop *op, const ir_lanczos_params *p,
                    ir_eig_result **out) {
  if (out == NULL)
    return ir_error(IR_EINVAL, "Lanczos: no output pointer");
  *out = NULL;
  int s = ir_lanczos_check(op, p);
  if (s != IR_OK)
    return s;
  const size_t n = op->n, k = p->k;
  const size_t maxmv = p->max_matvec ? p->max_matvec : ir_max_sz(2000, 40 * k);
  const size_t mv0 = op->nmatvec;
  double anorm = 0;
  ir_locked lk = {NULL, 0, NULL};
  ir_eig_result *r = NULL;
  s = ir_lanczos_run(op, p, k, maxmv, p->v0, p->stream, &lk, &anorm, &r);
  if (s != IR_OK)
    return s;
  size_t nrun = 1, nrestart = r->nrestart, nconv = 0;
  for (size_t i = 0; i < r->k; i++)
    nconv += (size_t)r->converged[i];
  if (nconv < r->k || !p->certify) { /* nothing certified to deflate with,
                                         or no certificate wanted */
    r->anorm = anorm;
    r->nmatvec = op->nmatvec - mv0;
    r->nrun = 1;
    r->certified = 0;
    *out = r;
    return IR_OK;
  }

  ir_lock_set ls = {k, n, 0, malloc(k * sizeof(double)),
                    malloc(k * sizeof(double)), malloc(k * n * sizeof(double))};
  double *hy = malloc(k * sizeof(double));
  ir_eig_result *res = NULL;
  if (!ls.val || !ls.resid || !ls.Y || !hy) {
    s = ir_error(IR_ENOMEM, "Lanczos: out of memory (%zu locked vectors)", k);
    goto done;
  }
  ir_lock_offer(&ls, r, p->which, 0.0);
  ir_eig_result_free(r);
  r = NULL;
  int certified = 0;
  size_t want = 1;
  for (;;) {
    if (ls.cnt == n) { /* the locked pairs span R^n: nothing is left */
      certified = 1;
      break;
    }
    /* A run for fewer pairs than the set lacks would certify nothing. */
    const size_t kr =
        ir_min_sz(n - ls.cnt, ir_max_sz(want, ls.k - ls.cnt));
    const size_t used = op->nmatvec - mv0;
    if (used + 2 * kr + 1 > maxmv)
      break; /* budget spent before the certificate */
    ir_lanczos_params pr = *p;
    pr.k = kr;
    lk = (ir_locked){ls.Y, ls.cnt, hy};
    s = ir_lanczos_run(op, &pr, kr, maxmv - used, NULL,
                       ir_rng_mix64(p->stream + nrun), &lk, &anorm, &r);
    if (s != IR_OK)
      goto done;
    nrun++;
    nrestart += r->nrestart;
    int allconv = 1;
    for (size_t i = 0; i < r->k; i++)
      allconv &= r->converged[i] && r->residuals[i] <= p->tol * anorm;
    if (!allconv)
      break; /* an unconverged pair can neither enter nor certify */
    const size_t entered = ir_lock_offer(&ls, r, p->which, p->tol * anorm);
    const size_t got = r->k;
    ir_eig_result_free(r);
    r = NULL;
    if (entered == 0 && ls.cnt == ls.k) {
      certified = 1;
      break;
    }
    want = entered == got ? ir_min_sz(2 * got, k) : ir_max_sz(entered, 1);
  }

  /* The locked pairs, in the order of `which`. */
  res = ir_eig_result_alloc(n, ls.cnt);
  if (res == NULL) {
    s = ir_error(IR_ENOMEM, "Lanczos: out of memory (%zu vectors)", ls.cnt);
    goto done;
  }
  for (size_t i = 0; i < ls.cnt; i++) {
    size_t best = i; /* selection sort on the small set: k² compares */
    for (size_t j = i + 1; j < ls.cnt; j++)
      if (ir_eig_key(ls.val[j], p->which) > ir_eig_key(ls.val[best], p->which))
        best = j;
    if (best != i) {
      double t = ls.val[i];
      ls.val[i] = ls.val[best];
      ls.val[best] = t;
      t = ls.resid[i];
      ls.resid[i] = ls.resid[best];
      ls.resid[best] = t;
      for (size_t j = 0; j < n; j++) {
        t = ls.Y[i * n + j];
        ls.Y[i * n + j] = ls.Y[best * n + j];
        ls.Y[best * n + j] = t;
      }
    }
    res->values[i] = ls.val[i];
    res->residuals[i] = ls.resid[i];
    res->converged[i] = ls.resid[i] <= p->tol * anorm;
    for (size_t j = 0; j < n; j++)
      gsl_matrix_set(res->vectors, j, i, ls.Y[i * n + j]);
  }
  res->anorm = anorm;
  res->nmatvec = op->nmatvec - mv0;
  res->nrestart = nrestart;
  res->nrun = nrun;
  res->certified = certified;
  *out = res;
  res = NULL;
  s = IR_OK;
done:
  ir_eig_result_free(r);
  ir_eig_result_free(res);
  free(ls.val);
  free(ls.resid);
  free(ls.Y);
  free(hy);
  return s;
}

/* ---- Power iteration ----------------------------------------------------- */

static int ir_power_check(const ir_linop *op, ir_power_rule rule, double tol,
                          size_t max_iter, const ir_power_result *out) {
  int s = ir_linop_check(op, "power iteration");
  if (s != IR_OK)
    return s;
  if (out == NULL)
    return ir_error(IR_EINVAL, "power iteration: no output");
  if (rule != IR_POWER_PYHESSIAN && rule != IR_POWER_RESIDUAL)
    return ir_error(IR_EINVAL, "power iteration: unknown rule %d", (int)rule);
  if (!(tol > 0) || !isfinite(tol))
    return ir_error(IR_EINVAL, "power iteration: tol = %g, need finite > 0",
                    tol);
  if (max_iter == 0)
    return ir_error(IR_EINVAL, "power iteration: max_iter = 0");
  return IR_OK;
}

/* Iterate t: y = A v_t (the only matvec), λ_t = v_tᵀy, r_t = ‖y − λ_t v_t‖,
 * then v_{t+1} = y/‖y‖.  Both rules are tested on the same y, so the
 * residual costs nothing and is reported for either rule. */
int ir_power_iteration(ir_linop *op, ir_power_rule rule, double tol,
                       size_t max_iter, unsigned long seed, uint64_t stream,
                       double *v, ir_power_result *out) {
  int s = ir_power_check(op, rule, tol, max_iter, out);
  if (s != IR_OK)
    return s;
  memset(out, 0, sizeof *out);
  const size_t n = op->n;
  double *x = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double));
  gsl_rng *r = ir_rng_alloc(seed, stream);
  if (!x || !y || !r) {
    s = r ? ir_error(IR_ENOMEM, "power iteration: out of memory (n = %zu)", n)
          : ir_rng_fail(seed);
    goto done;
  }
  for (size_t i = 0; i < n; i++)
    x[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
  double nrm = cblas_dnrm2((int)n, x, 1);
  if (nrm == 0) /* probability zero; any unit vector will do */
    x[0] = nrm = 1;
  cblas_dscal((int)n, 1.0 / nrm, x, 1);

  const size_t mv0 = op->nmatvec;
  double lam = 0, lam_prev = 0, res = 0;
  size_t t = 0;
  int conv = 0;
  while (t < max_iter) {
    t++;
    s = ir_linop_apply(op, x, y);
    if (s != IR_OK)
      goto done;
    lam = cblas_ddot((int)n, x, 1, y, 1);
    const double ynorm = cblas_dnrm2((int)n, y, 1);
    if (!isfinite(ynorm)) {
      s = ir_error(IR_EBADDATA, "power iteration: non-finite A v at step %zu",
                   t);
      goto done;
    }
    res = ir_residual_norm(x, y, lam, n);
    if (rule == IR_POWER_RESIDUAL)
      conv = res <= tol * fabs(lam);
    else
      conv = t > 1 &&
             fabs(lam - lam_prev) / (fabs(lam_prev) + IR_PYHESSIAN_EPS) < tol;
    if (ynorm == 0) /* A v = 0: v is an exact eigenvector */
      conv = 1;
    if (conv || t == max_iter)
      break;
    for (size_t i = 0; i < n; i++)
      x[i] = y[i] / ynorm;
    lam_prev = lam;
  }
  out->value = lam;
  out->residual = res;
  out->nmatvec = op->nmatvec - mv0;
  out->iters = t;
  out->converged = conv;
  if (v != NULL)
    memcpy(v, x, n * sizeof(double));
done:
  free(x);
  free(y);
  ir_rng_free(r);
  return s;
}

/* ---- Trace --------------------------------------------------------------- */

int ir_trace_hutchinson(ir_linop *op, size_t nprobe, unsigned long seed,
                        uint64_t stream, ir_trace_result *out) {
  int s = ir_linop_check(op, "Hutchinson");
  if (s != IR_OK)
    return s;
  if (out == NULL)
    return ir_error(IR_EINVAL, "Hutchinson: no output");
  if (nprobe < 2)
    return ir_error(IR_EINVAL, "Hutchinson: nprobe = %zu, need >= 2", nprobe);
  const size_t n = op->n, mv0 = op->nmatvec, q0 = op->nquad;
  /* Probes go through the operator in blocks (batched HVPs); they are
   * drawn in the same order as one at a time, so the block size does not
   * change the probes. */
  const size_t B = ir_min_sz(nprobe, IR_LINOP_BLOCK);
  double *z = malloc(B * n * sizeof(double)),
         *y = malloc(B * n * sizeof(double));
  double *samp = malloc(nprobe * sizeof(double));
  gsl_rng *r = ir_rng_alloc(seed, stream);
  if (!z || !y || !samp || !r) {
    s = r ? ir_error(IR_ENOMEM, "Hutchinson: out of memory")
          : ir_rng_fail(seed);
    goto done;
  }
  for (size_t i0 = 0; i0 < nprobe; i0 += B) {
    const size_t b = ir_min_sz(B, nprobe - i0);
    for (size_t j = 0; j < b; j++)
      ir_rademacher(r, z + j * n, n, 1.0);
    s = ir_linop_quad_many(op, z, y, samp + i0, b);
    if (s != IR_OK)
      goto done;
  }
  memset(out, 0, sizeof *out);
  ir_mean_se(samp, nprobe, &out->trace, &out->se);
  out->nprobe = nprobe;
  out->nmatvec = op->nmatvec - mv0;
  out->nquad = op->nquad - q0;
done:
  free(z);
  free(y);
  free(samp);
  ir_rng_free(r);
  return s;
}

/* Q (n×s, column-major, ld n) ← an orthonormal basis of range(Y) by
 * Householder QR (dgeqrf + dorgqr).  Unlike Gram–Schmidt it stays
 * orthonormal when Y is rank deficient (rank(A) < s): the extra columns are
 * then arbitrary orthonormal directions, which keeps Hutch++ exact.
 * Cost 4ns² − 4s³/3 flops. */
static int ir_orth_columns(double *Y, size_t n, size_t s) {
  double *tau = malloc(s * sizeof(double));
  if (tau == NULL)
    return ir_error(IR_ENOMEM, "Hutch++: out of memory");
  lapack_int info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (lapack_int)n,
                                   (lapack_int)s, Y, (lapack_int)n, tau);
  if (info == 0)
    info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)s,
                          (lapack_int)s, Y, (lapack_int)n, tau);
  free(tau);
  if (info == LAPACK_WORK_MEMORY_ERROR)
    return ir_error(IR_ENOMEM, "Hutch++: out of memory in dgeqrf/dorgqr");
  if (info != 0)
    return ir_error(IR_EINTERNAL, "Hutch++: dgeqrf/dorgqr info %d", (int)info);
  return IR_OK;
}

/* Hutch++ (Meyer, Musco, Musco, Woodruff 2021, Algorithm 1): s = ⌊m/3⌋
 * (at most n) sketch columns, Q = orth(A S), exact tr(QᵀAQ), then
 * Hutchinson with g = m − 2s probes on (I − QQᵀ)A(I − QQᵀ).  When s = n the
 * sketch spans everything and the trace is exact with no probes. */
int ir_trace_hutchpp(ir_linop *op, size_t nmatvec, unsigned long seed,
                     uint64_t stream, ir_trace_result *out) {
  int s = ir_linop_check(op, "Hutch++");
  if (s != IR_OK)
    return s;
  if (out == NULL)
    return ir_error(IR_EINVAL, "Hutch++: no output");
  if (nmatvec < 4)
    return ir_error(IR_EINVAL,
                    "Hutch++: budget nmatvec = %zu, need >= 4 (>= 2 probes "
                    "for the standard error)",
                    nmatvec);
  const size_t n = op->n, mv0 = op->nmatvec, q0 = op->nquad;
  const size_t ns = ir_min_sz(nmatvec / 3, n);
  const size_t g = ns == n ? 0 : nmatvec - 2 * ns;
  const size_t B = IR_LINOP_BLOCK;
  double *Q = malloc(n * (ns ? ns : 1) * sizeof(double));
  double *z = malloc(B * n * sizeof(double)),
         *y = malloc(B * n * sizeof(double));
  double *c = malloc((ns ? ns : 1) * sizeof(double));
  double *samp = malloc((g ? g : 1) * sizeof(double));
  gsl_rng *r = ir_rng_alloc(seed, stream);
  if (!Q || !z || !y || !c || !samp || !r) {
    s = r ? ir_error(IR_ENOMEM, "Hutch++: out of memory") : ir_rng_fail(seed);
    goto done;
  }
  /* Q ← A S (ns matvecs in blocks: column j of Q is contiguous, so a block
   * of products lands in place), then orth. */
  for (size_t j0 = 0; j0 < ns; j0 += B) {
    const size_t b = ir_min_sz(B, ns - j0);
    for (size_t j = 0; j < b; j++)
      ir_rademacher(r, z + j * n, n, 1.0);
    if ((s = ir_linop_apply_many(op, z, Q + j0 * n, b)) != IR_OK)
      goto done;
  }
  if (ns > 0 && (s = ir_orth_columns(Q, n, ns)) != IR_OK)
    goto done;
  double t1 = 0; /* tr(QᵀAQ): ns matvecs */
  for (size_t j0 = 0; j0 < ns; j0 += B) {
    const size_t b = ir_min_sz(B, ns - j0);
    if ((s = ir_linop_apply_many(op, Q + j0 * n, y, b)) != IR_OK)
      goto done;
    for (size_t j = 0; j < b; j++)
      t1 += cblas_ddot((int)n, Q + (j0 + j) * n, 1, y + j * n, 1);
  }
  for (size_t i0 = 0; i0 < g; i0 += B) {
    const size_t b = ir_min_sz(B, g - i0);
    for (size_t j = 0; j < b; j++) {
      /* z' = (I − QQᵀ) z: Q is orthonormal to rounding, one pass suffices. */
      double *zj = z + j * n;
      ir_rademacher(r, zj, n, 1.0);
      cblas_dgemv(CblasColMajor, CblasTrans, (int)n, (int)ns, 1.0, Q, (int)n,
                  zj, 1, 0.0, c, 1);
      cblas_dgemv(CblasColMajor, CblasNoTrans, (int)n, (int)ns, -1.0, Q, (int)n,
                  c, 1, 1.0, zj, 1);
    }
    if ((s = ir_linop_quad_many(op, z, y, samp + i0, b)) != IR_OK)
      goto done;
  }
  memset(out, 0, sizeof *out);
  double t2 = 0, se = 0;
  if (g > 0)
    ir_mean_se(samp, g, &t2, &se);
  out->trace = t1 + t2;
  out->se = se;
  out->nprobe = g;
  out->nmatvec = op->nmatvec - mv0;
  out->nquad = op->nquad - q0;
done:
  free(Q);
  free(z);
  free(y);
  free(c);
  free(samp);
  ir_rng_free(r);
  return s;
}

/* ---- Stochastic Lanczos quadrature --------------------------------------- */

void ir_slq_result_free(ir_slq_result *r) {
  if (r == NULL)
    return;
  free(r->nodes);
  free(r->weights);
  free(r->nnodes);
  free(r);
}

static ir_slq_result *ir_slq_result_alloc(size_t nruns, size_t nsteps) {
  ir_slq_result *r = calloc(1, sizeof *r);
  if (r == NULL)
    return NULL;
  r->nruns = nruns;
  r->nsteps = nsteps;
  r->nodes = calloc(nruns * nsteps, sizeof(double));
  r->weights = calloc(nruns * nsteps, sizeof(double));
  r->nnodes = calloc(nruns, sizeof(size_t));
  if (!r->nodes || !r->weights || !r->nnodes) {
    ir_slq_result_free(r);
    return NULL;
  }
  return r;
}

/* Scratch for SLQ runs of at most mb = min(nsteps, n) steps. */
typedef struct {
  double *V;     /* (mb+1)×n basis rows */
  double *h;     /* mb+1 coefficients */
  double *d, *e; /* diagonal and off-diagonal of T */
  double *Z;     /* mb×mb eigenvectors from dstev */
} ir_slq_ws;

static void ir_slq_ws_free(ir_slq_ws *w) {
  free(w->V);
  free(w->h);
  free(w->d);
  free(w->e);
  free(w->Z);
}

/* One SLQ run: Lanczos from the normalized Rademacher vector in row 0 of V
 * for at most mb steps, stopping early when the Krylov space is invariant;
 * then the Gauss quadrature rule of T: nodes θ_k (dstev), weights τ_k =
 * (e₁ᵀ y_k)² (Golub & Meurant, "Matrices, Moments and Quadrature", ch. 6).
 * Writes nodes/weights (row of the result) and returns the count. */
static int ir_slq_run(ir_linop *op, ir_slq_ws *w, size_t mb, double *nodes,
                      double *weights, size_t *cnt) {
  const size_t n = op->n;
  const double brk = IR_BREAKDOWN_FACTOR * sqrt((double)n) * DBL_EPSILON;
  double aref = 0;
  size_t j = 0;
  for (;;) {
    double beta, avn;
    int s = ir_krylov_expand(op, NULL, w->V, j, w->h, &w->d[j], &beta, &avn);
    if (s != IR_OK)
      return s;
    aref = fmax(aref, avn);
    j++;
    if (j == mb || j == n || beta <= brk * aref)
      break;
    cblas_dscal((int)n, 1.0 / beta, w->V + j * n, 1);
    w->e[j - 1] = beta;
  }
  /* dstev overwrites d with the nodes (ascending) and Z (column-major, ld
   * j) with the eigenvectors: the first component of vector k is Z[k·j]. */
  lapack_int info = LAPACKE_dstev(LAPACK_COL_MAJOR, 'V', (lapack_int)j, w->d,
                                  w->e, w->Z, (lapack_int)j);
  if (info < 0)
    return ir_error(IR_EINTERNAL, "dstev: argument %d had an illegal value",
                    (int)-info);
  if (info > 0)
    return ir_error(IR_ENOCONV, "dstev failed on a %zux%zu tridiagonal (%d)", j,
                    j, (int)info);
  for (size_t k = 0; k < j; k++) {
    const double z0 = w->Z[k * j];
    nodes[k] = w->d[k];
    weights[k] = z0 * z0;
  }
  *cnt = j;
  return IR_OK;
}

int ir_slq(ir_linop *op, size_t nruns, size_t nsteps, unsigned long seed,
           uint64_t stream, ir_slq_result **out) {
  if (out == NULL)
    return ir_error(IR_EINVAL, "SLQ: no output pointer");
  *out = NULL;
  int s = ir_linop_check(op, "SLQ");
  if (s != IR_OK)
    return s;
  if (nruns == 0 || nsteps == 0)
    return ir_error(IR_EINVAL, "SLQ: nruns = %zu, nsteps = %zu, need >= 1",
                    nruns, nsteps);
  const size_t n = op->n, mb = ir_min_sz(nsteps, n), mv0 = op->nmatvec;
  ir_slq_ws w = {malloc((mb + 1) * n * sizeof(double)),
                 malloc((mb + 1) * sizeof(double)), malloc(mb * sizeof(double)),
                 malloc(mb * sizeof(double)), malloc(mb * mb * sizeof(double))};
  double *tr = malloc(nruns * sizeof(double));
  ir_slq_result *res = ir_slq_result_alloc(nruns, nsteps);
  gsl_rng *r = ir_rng_alloc(seed, stream);
  if (!w.V || !w.h || !w.d || !w.e || !w.Z || !tr || !res || !r) {
    s = r ? ir_error(IR_ENOMEM, "SLQ: out of memory (n = %zu, %zu steps)", n,
                     nsteps)
          : ir_rng_fail(seed);
    goto fail;
  }
  res->lmin = INFINITY;
  res->lmax = -INFINITY;
  for (size_t run = 0; run < nruns; run++) {
    double *nd = res->nodes + run * nsteps, *wt = res->weights + run * nsteps;
    ir_rademacher(r, w.V, n, 1.0 / sqrt((double)n));
    s = ir_slq_run(op, &w, mb, nd, wt, &res->nnodes[run]);
    if (s != IR_OK)
      goto fail;
    /* Σ τ_k θ_k = e₁ᵀ T e₁ = zᵀAz/‖z‖²: Hutchinson's sample / n. */
    double q = 0;
    for (size_t k = 0; k < res->nnodes[run]; k++) {
      q += wt[k] * nd[k];
      res->lmin = fmin(res->lmin, nd[k]);
      res->lmax = fmax(res->lmax, nd[k]);
    }
    tr[run] = (double)n * q;
  }
  ir_mean_se(tr, nruns, &res->trace_est, &res->trace_se);
  res->nmatvec = op->nmatvec - mv0;
  ir_slq_ws_free(&w);
  free(tr);
  ir_rng_free(r);
  *out = res;
  return IR_OK;
fail:
  ir_slq_ws_free(&w);
  free(tr);
  ir_slq_result_free(res);
  ir_rng_free(r);
  return s;
}

/* Per grid point and run, d_r = Σ_k τ_k g_σ(t − θ_k); the density is the
 * mean over runs and se the standard error of that mean.
 * Cost: ngrid · Σ_r nnodes_r exponentials. */
int ir_slq_density(const ir_slq_result *r, double sigma2, const double *grid,
                   size_t ngrid, double *density, double *se) {
  if (r == NULL || r->nruns == 0)
    return ir_error(IR_EINVAL, "SLQ density: no SLQ result");
  if (ngrid > 0 && (grid == NULL || density == NULL))
    return ir_error(IR_EINVAL, "SLQ density: no grid or output");
  if (isnan(sigma2) || isinf(sigma2))
    return ir_error(IR_EINVAL, "SLQ density: sigma2 = %g", sigma2);
  if (sigma2 <= 0)
    sigma2 = 1e-5 * fmax(1.0, r->lmax - r->lmin);
  double *dr = malloc(r->nruns * sizeof(double));
  if (dr == NULL)
    return ir_error(IR_ENOMEM, "SLQ density: out of memory");
  const double c = 1.0 / sqrt(2.0 * M_PI * sigma2);
  for (size_t j = 0; j < ngrid; j++) {
    for (size_t run = 0; run < r->nruns; run++) {
      const double *nd = r->nodes + run * r->nsteps;
      const double *wt = r->weights + run * r->nsteps;
      double acc = 0;
      for (size_t k = 0; k < r->nnodes[run]; k++) {
        const double d = grid[j] - nd[k];
        acc += wt[k] * c * exp(-d * d / (2.0 * sigma2));
      }
      dr[run] = acc;
    }
    double sej;
    ir_mean_se(dr, r->nruns, &density[j], &sej);
    if (se != NULL)
      se[j] = sej;
  }
  free(dr);
  return IR_OK;
}

/* ---- Dense spectrum ------------------------------------------------------ */

/* Column j of H = A e_j.  Each product is written into row j (contiguous)
 * and H is transposed once at the end. */
int ir_linop_dense_matrix(ir_linop *op, double symtol, gsl_matrix *H,
                          double *asym) {
  int s = ir_linop_check(op, "dense matrix");
  if (s != IR_OK)
    return s;
  const size_t n = op->n;
  if (H == NULL || H->size1 != n || H->size2 != n)
    return ir_error(IR_ESHAPE, "dense matrix: H must be %zux%zu", n, n);
  if (!(symtol >= 0))
    return ir_error(IR_EINVAL, "dense matrix: symtol = %g, need >= 0", symtol);
  /* Unit vectors in blocks (batched products), each product written into
   * row j (contiguous); H is transposed once at the end. */
  const size_t B = ir_min_sz(n, IR_LINOP_BLOCK);
  double *e = calloc(B * n, sizeof(double));
  double *hb = H->tda == n ? NULL : malloc(B * n * sizeof(double));
  if (e == NULL || (H->tda != n && hb == NULL)) {
    free(e);
    free(hb);
    return ir_error(IR_ENOMEM, "dense matrix: out of memory");
  }
  for (size_t j0 = 0; j0 < n && s == IR_OK; j0 += B) {
    const size_t b = ir_min_sz(B, n - j0);
    for (size_t j = 0; j < b; j++)
      e[j * n + j0 + j] = 1;
    s = ir_linop_apply_many(op, e, hb ? hb : H->data + j0 * n, b);
    for (size_t j = 0; j < b; j++) {
      e[j * n + j0 + j] = 0;
      if (hb && s == IR_OK)
        memcpy(H->data + (j0 + j) * H->tda, hb + j * n, n * sizeof(double));
    }
  }
  free(e);
  free(hb);
  if (s != IR_OK)
    return s;
  gsl_matrix_transpose(H);
  double hmax = 0, dmax = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      const double a = H->data[i * H->tda + j];
      if (!isfinite(a))
        return ir_error(IR_EBADDATA,
                        "dense matrix: non-finite entry at (%zu, %zu)", i + 1,
                        j + 1);
      hmax = fmax(hmax, fabs(a));
      dmax = fmax(dmax, fabs(a - H->data[j * H->tda + i]));
    }
  const double rel = hmax > 0 ? dmax / hmax : 0.0;
  if (asym != NULL)
    *asym = rel;
  if (rel > symtol)
    return ir_error(IR_EINTERNAL,
                    "operator is not symmetric: max|H - H'| / max|H| = %.3g "
                    "> %.3g",
                    rel, symtol);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++) {
      double *a = H->data + i * H->tda + j, *b = H->data + j * H->tda + i;
      *a = *b = 0.5 * (*a + *b);
    }
  return IR_OK;
}

/* dsyevr on the symmetrized matrix (lower = upper triangle).  With vectors,
 * LAPACK writes eigenvector j into column j of a column-major array with
 * leading dimension tda, which row-major reads as row j: transpose in
 * place (the matrix is square). */
int ir_dense_spectrum(ir_linop *op, double symtol, double *values,
                      gsl_matrix *vectors, double *asym) {
  int s = ir_linop_check(op, "dense spectrum");
  if (s != IR_OK)
    return s;
  const size_t n = op->n;
  if (values == NULL)
    return ir_error(IR_EINVAL, "dense spectrum: no output for the values");
  if (vectors && (vectors->size1 != n || vectors->size2 != n))
    return ir_error(IR_ESHAPE, "dense spectrum: vectors must be %zux%zu", n, n);
  gsl_matrix *H = gsl_matrix_alloc(n, n);
  lapack_int *isuppz = malloc(2 * n * sizeof(lapack_int));
  if (H == NULL || isuppz == NULL) {
    s = ir_error(IR_ENOMEM, "dense spectrum: out of memory (n = %zu)", n);
    goto done;
  }
  s = ir_linop_dense_matrix(op, symtol, H, asym);
  if (s != IR_OK)
    goto done;
  lapack_int found = 0;
  lapack_int info =
      LAPACKE_dsyevr(LAPACK_COL_MAJOR, vectors ? 'V' : 'N', 'A', 'U',
                     (lapack_int)n, H->data, (lapack_int)H->tda, 0, 0, 0, 0,
                     0.0, &found, values, vectors ? vectors->data : NULL,
                     vectors ? (lapack_int)vectors->tda : 1, isuppz);
  if (info < 0)
    s = ir_error(IR_EINTERNAL, "dsyevr: argument %d had an illegal value",
                 (int)-info);
  else if (info > 0)
    s = ir_error(IR_ENOCONV, "dsyevr failed to converge (info %d)", (int)info);
  else if (vectors)
    gsl_matrix_transpose(vectors);
done:
  if (H)
    gsl_matrix_free(H);
  free(isuppz);
  return s;
}
