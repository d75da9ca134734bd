/* model_quadratic.c — the quadratic E(θ) = ½θᵀAθ − bᵀθ on the model
 * interface (model.h). */
#include "implreg/model.h"

#include "implreg/status.h"

#include <gsl/gsl_blas.h>
#include <math.h>
#include <stdlib.h>

typedef struct {
  ir_model base;
  const gsl_matrix *A;
  const gsl_vector *b; /* NULL: zero */
  gsl_vector *Ax;      /* scratch: A θ */
} ir_quadratic;

static void ir_quadratic_destroy(ir_model *m) {
  ir_quadratic *q = (ir_quadratic *)m;
  if (q->Ax)
    gsl_vector_free(q->Ax);
  free(q);
}

/* Every batch of the single sample is the whole loss: idx is ignored. */
static int ir_quadratic_loss_grad(ir_model *m, const double *theta,
                                  const size_t *idx, size_t nb, double *loss,
                                  double *grad) {
  (void)idx;
  (void)nb;
  ir_quadratic *q = (ir_quadratic *)m;
  const size_t p = q->A->size1;
  gsl_vector_const_view th = gsl_vector_const_view_array(theta, p);
  gsl_blas_dsymv(CblasUpper, 1.0, q->A, &th.vector, 0.0, q->Ax);
  double xAx, bx = 0;
  gsl_blas_ddot(&th.vector, q->Ax, &xAx);
  if (q->b)
    gsl_blas_ddot(&th.vector, q->b, &bx);
  *loss = 0.5 * xAx - bx;
  if (grad) {
    for (size_t i = 0; i < p; i++)
      grad[i] = gsl_vector_get(q->Ax, i) - (q->b ? gsl_vector_get(q->b, i) : 0);
  }
  return IR_OK;
}

static int ir_quadratic_hvp(ir_model *m, const double *theta, const size_t *idx,
                            size_t nb, const double *v, double *hv) {
  (void)theta;
  (void)idx;
  (void)nb;
  ir_quadratic *q = (ir_quadratic *)m;
  const size_t p = q->A->size1;
  gsl_vector_const_view vv = gsl_vector_const_view_array(v, p);
  gsl_vector_view hh = gsl_vector_view_array(hv, p);
  gsl_blas_dsymv(CblasUpper, 1.0, q->A, &vv.vector, 0.0, &hh.vector);
  return IR_OK;
}

static int ir_quadratic_predict(ir_model *m, const double *theta,
                                const gsl_matrix *X, gsl_matrix *out) {
  (void)m;
  (void)theta;
  (void)X;
  (void)out;
  return ir_error(IR_EINVAL, "the quadratic model has no inputs to predict on");
}

static const ir_model_ops ir_quadratic_ops = {"quadratic",
                                              ir_quadratic_loss_grad,
                                              ir_quadratic_hvp,
                                              ir_quadratic_predict,
                                              ir_quadratic_destroy,
                                              NULL,
                                              NULL};

ir_model *ir_model_quadratic_alloc(const gsl_matrix *A, const gsl_vector *b) {
  const size_t p = A->size1;
  if (p == 0 || A->size2 != p || (b && b->size != p)) {
    ir_error(IR_ESHAPE, "quadratic model: A is %zux%zu and b has length %zu",
             A->size1, A->size2, b ? b->size : p);
    return NULL;
  }
  double amax = 0;
  for (size_t i = 0; i < p; i++)
    for (size_t j = 0; j < p; j++) {
      double a = gsl_matrix_get(A, i, j);
      if (!isfinite(a)) {
        ir_error(IR_EBADDATA, "quadratic model: A[%zu][%zu] is %g", i, j, a);
        return NULL;
      }
      amax = fmax(amax, fabs(a));
    }
  for (size_t i = 0; b && i < p; i++)
    if (!isfinite(gsl_vector_get(b, i))) {
      ir_error(IR_EBADDATA, "quadratic model: b[%zu] is %g", i,
               gsl_vector_get(b, i));
      return NULL;
    }
  /* dsymv reads one triangle: a non-symmetric A would silently become a
   * different matrix. */
  for (size_t i = 0; i < p; i++)
    for (size_t j = i + 1; j < p; j++)
      if (fabs(gsl_matrix_get(A, i, j) - gsl_matrix_get(A, j, i)) >
          1e-14 * amax) {
        ir_error(IR_EINVAL,
                 "quadratic model: A is not symmetric (A[%zu][%zu] "
                 "= %g, A[%zu][%zu] = %g)",
                 i, j, gsl_matrix_get(A, i, j), j, i, gsl_matrix_get(A, j, i));
        return NULL;
      }
  ir_quadratic *q = calloc(1, sizeof *q);
  if (q == NULL || (q->Ax = gsl_vector_alloc(p)) == NULL) {
    free(q);
    ir_error(IR_ENOMEM, "out of memory (quadratic model)");
    return NULL;
  }
  q->A = A;
  q->b = b;
  q->base.ops = &ir_quadratic_ops;
  q->base.nparams = p;
  q->base.nsamples = 1;
  q->base.nin = 0;
  q->base.nout = 0;
  q->base.loss_name = "E = (1/2) theta'A theta - b'theta";
  return &q->base;
}
