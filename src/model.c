/* model.c — the model interface and linear least squares. */
#include "implreg/model.h"

#include "implreg/status.h"

#include <gsl/gsl_blas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Interface
 * ------------------------------------------------------------------- */

void ir_model_free(ir_model *m) {
  if (m != NULL)
    m->ops->destroy(m);
}

static int ir_model_check_batch(const ir_model *m, const size_t *idx,
                                size_t nb) {
  if (idx == NULL)
    return IR_OK;
  if (nb == 0)
    return ir_error(IR_EINVAL, "empty mini-batch");
  for (size_t i = 0; i < nb; i++)
    if (idx[i] >= m->nsamples)
      return ir_error(IR_EINVAL, "mini-batch index %zu out of range (n = %zu)",
                      idx[i], m->nsamples);
  return IR_OK;
}

int ir_model_loss_grad(ir_model *m, const gsl_vector *theta, const size_t *idx,
                       size_t nb, double *loss, gsl_vector *grad) {
  if (theta->size != m->nparams || theta->stride != 1 ||
      (grad && (grad->size != m->nparams || grad->stride != 1)))
    return ir_error(IR_ESHAPE, "parameter vector has length %zu, model has %zu",
                    theta->size, m->nparams);
  int s = ir_model_check_batch(m, idx, nb);
  if (s != IR_OK)
    return s;
  return m->ops->loss_grad(m, theta->data, idx, nb, loss,
                           grad ? grad->data : NULL);
}

int ir_model_hvp(ir_model *m, const gsl_vector *theta, const size_t *idx,
                 size_t nb, const gsl_vector *v, gsl_vector *hv) {
  if (theta->size != m->nparams || v->size != m->nparams ||
      hv->size != m->nparams || theta->stride != 1 || v->stride != 1 ||
      hv->stride != 1)
    return ir_error(IR_ESHAPE, "HVP vectors must have length %zu", m->nparams);
  int s = ir_model_check_batch(m, idx, nb);
  if (s != IR_OK)
    return s;
  return m->ops->hvp(m, theta->data, idx, nb, v->data, hv->data);
}

int ir_model_hvp_many(ir_model *m, const gsl_vector *theta, const size_t *idx,
                      size_t nb, const gsl_matrix *V, gsl_matrix *HV) {
  const size_t p = m->nparams;
  if (theta->size != p || theta->stride != 1 || V->size2 != p ||
      HV->size2 != p || V->size1 != HV->size1 || V->size1 == 0 || V->tda != p ||
      HV->tda != p)
    return ir_error(IR_ESHAPE,
                    "HVP blocks must be r x %zu with contiguous rows (got "
                    "%zux%zu and %zux%zu)",
                    p, V->size1, V->size2, HV->size1, HV->size2);
  int s = ir_model_check_batch(m, idx, nb);
  if (s != IR_OK)
    return s;
  if (m->ops->hvp_many)
    return m->ops->hvp_many(m, theta->data, idx, nb, V->data, HV->data,
                            V->size1);
  for (size_t j = 0; j < V->size1 && s == IR_OK; j++)
    s = m->ops->hvp(m, theta->data, idx, nb, V->data + j * p, HV->data + j * p);
  return s;
}

int ir_model_quad_many(ir_model *m, const gsl_vector *theta, const size_t *idx,
                       size_t nb, const gsl_matrix *V, double *q) {
  const size_t p = m->nparams, r = V->size1;
  if (theta->size != p || theta->stride != 1 || V->size2 != p || r == 0 ||
      V->tda != p)
    return ir_error(IR_ESHAPE,
                    "quadratic forms need r x %zu vectors with contiguous "
                    "rows (got %zux%zu)",
                    p, V->size1, V->size2);
  int s = ir_model_check_batch(m, idx, nb);
  if (s != IR_OK)
    return s;
  if (m->ops->quad_many)
    return m->ops->quad_many(m, theta->data, idx, nb, V->data, q, r);
  gsl_matrix *HV = gsl_matrix_alloc(r, p);
  if (HV == NULL)
    return ir_error(IR_ENOMEM, "out of memory (%zu HVPs)", r);
  s = ir_model_hvp_many(m, theta, idx, nb, V, HV);
  for (size_t j = 0; j < r && s == IR_OK; j++) {
    gsl_vector_const_view a = gsl_matrix_const_row(V, j);
    gsl_vector_view b = gsl_matrix_row(HV, j);
    gsl_blas_ddot(&a.vector, &b.vector, &q[j]);
  }
  gsl_matrix_free(HV);
  return s;
}

int ir_model_predict(ir_model *m, const gsl_vector *theta, const gsl_matrix *X,
                     gsl_matrix *out) {
  if (theta->size != m->nparams || theta->stride != 1)
    return ir_error(IR_ESHAPE, "parameter vector has length %zu, model has %zu",
                    theta->size, m->nparams);
  if (X->size2 != m->nin || out->size1 != X->size1 || out->size2 != m->nout)
    return ir_error(IR_ESHAPE,
                    "prediction: inputs %zux%zu, outputs %zux%zu; model maps "
                    "%zu -> %zu",
                    X->size1, X->size2, out->size1, out->size2, m->nin,
                    m->nout);
  return m->ops->predict(m, theta->data, X, out);
}

/* ---- Linear least squares
 * -------------------------------------------------------- */

typedef struct {
  ir_model base;
  const gsl_matrix *X, *Y;
  gsl_matrix *Xb, *Yb; /* gathered mini-batch rows (capacity cap) */
  gsl_matrix *R;       /* residuals, n×K (full batch) */
  size_t cap;
  gsl_matrix_view xbv, ybv; /* the current batch inside Xb, Yb */
} ir_linear;

static void ir_linear_destroy(ir_model *m) {
  ir_linear *l = (ir_linear *)m;
  if (l->Xb)
    gsl_matrix_free(l->Xb);
  if (l->Yb)
    gsl_matrix_free(l->Yb);
  if (l->R)
    gsl_matrix_free(l->R);
  free(l);
}

/* Points *Xp, *Yp, *Rp at the batch rows: the data themselves for the full
 * batch, otherwise rows gathered into the scratch (grown geometrically). */
static int ir_linear_batch(ir_linear *l, const size_t *idx, size_t nb,
                           const gsl_matrix **Xp, const gsl_matrix **Yp,
                           gsl_matrix **Rp) {
  const size_t p = l->X->size2, K = l->Y->size2;
  if (idx == NULL) {
    *Xp = l->X;
    *Yp = l->Y;
    *Rp = l->R;
    return IR_OK;
  }
  if (nb > l->cap) {
    size_t cap = l->cap ? l->cap : 16;
    while (cap < nb)
      cap *= 2;
    gsl_matrix *Xb = gsl_matrix_alloc(cap, p);
    gsl_matrix *Yb = gsl_matrix_alloc(cap, K);
    if (!Xb || !Yb) {
      if (Xb)
        gsl_matrix_free(Xb);
      if (Yb)
        gsl_matrix_free(Yb);
      return ir_error(IR_ENOMEM, "out of memory (mini-batch of %zu rows)", nb);
    }
    if (l->Xb)
      gsl_matrix_free(l->Xb);
    if (l->Yb)
      gsl_matrix_free(l->Yb);
    l->Xb = Xb;
    l->Yb = Yb;
    l->cap = cap;
  }
  for (size_t i = 0; i < nb; i++) {
    memcpy(l->Xb->data + i * l->Xb->tda, l->X->data + idx[i] * l->X->tda,
           p * sizeof(double));
    memcpy(l->Yb->data + i * l->Yb->tda, l->Y->data + idx[i] * l->Y->tda,
           K * sizeof(double));
  }
  l->xbv = gsl_matrix_submatrix(l->Xb, 0, 0, nb, p);
  l->ybv = gsl_matrix_submatrix(l->Yb, 0, 0, nb, K);
  *Xp = &l->xbv.matrix;
  *Yp = &l->ybv.matrix;
  /* The residual of a batch fits in the first rows of R only when nb <= n;
   * with replacement nb can exceed n, so residuals go into Yb's rows after
   * copying Y: reuse Yb itself (it is not needed after). */
  *Rp = &l->ybv.matrix;
  return IR_OK;
}

static int ir_linear_loss_grad(ir_model *m, const double *theta,
                               const size_t *idx, size_t nb, double *loss,
                               double *grad) {
  ir_linear *l = (ir_linear *)m;
  const size_t p = l->X->size2, K = l->Y->size2;
  const gsl_matrix *Xb, *Yb;
  gsl_matrix *R;
  int s = ir_linear_batch(l, idx, nb, &Xb, &Yb, &R);
  if (s != IR_OK)
    return s;
  const size_t mrows = Xb->size1;
  gsl_matrix_const_view W = gsl_matrix_const_view_array(theta, p, K);
  /* R = X_b W − Y_b (R may alias Y_b for mini-batches: copy first). */
  if (R != Yb)
    gsl_matrix_memcpy(R, Yb);
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, Xb, &W.matrix, -1.0, R);
  double ss = 0;
  for (size_t i = 0; i < mrows; i++)
    for (size_t k = 0; k < K; k++) {
      double r = R->data[i * R->tda + k];
      ss += r * r;
    }
  *loss = ss / (2.0 * (double)mrows);
  if (grad != NULL) {
    gsl_matrix_view G = gsl_matrix_view_array(grad, p, K);
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0 / (double)mrows, Xb, R, 0.0,
                   &G.matrix);
  }
  return IR_OK;
}

static int ir_linear_hvp(ir_model *m, const double *theta, const size_t *idx,
                         size_t nb, const double *v, double *hv) {
  (void)theta; /* the Hessian of a quadratic does not depend on θ */
  ir_linear *l = (ir_linear *)m;
  const size_t p = l->X->size2, K = l->Y->size2;
  const gsl_matrix *Xb, *Yb;
  gsl_matrix *R;
  int s = ir_linear_batch(l, idx, nb, &Xb, &Yb, &R);
  if (s != IR_OK)
    return s;
  const size_t mrows = Xb->size1;
  gsl_matrix_const_view V = gsl_matrix_const_view_array(v, p, K);
  gsl_matrix_view H = gsl_matrix_view_array(hv, p, K);
  /* X_b V goes into the residual scratch, then (1/m) X_bᵀ (X_b V). */
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, Xb, &V.matrix, 0.0, R);
  gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0 / (double)mrows, Xb, R, 0.0,
                 &H.matrix);
  return IR_OK;
}

static int ir_linear_predict(ir_model *m, const double *theta,
                             const gsl_matrix *X, gsl_matrix *out) {
  ir_linear *l = (ir_linear *)m;
  gsl_matrix_const_view W =
      gsl_matrix_const_view_array(theta, l->X->size2, l->Y->size2);
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, X, &W.matrix, 0.0, out);
  return IR_OK;
}

static const ir_model_ops ir_linear_ops = {"linear least squares",
                                           ir_linear_loss_grad,
                                           ir_linear_hvp,
                                           ir_linear_predict,
                                           ir_linear_destroy,
                                           NULL,
                                           NULL};

ir_model *ir_model_linear_alloc(const gsl_matrix *X, const gsl_matrix *Y) {
  if (X->size1 != Y->size1) {
    ir_error(IR_ESHAPE, "X has %zu rows but Y has %zu", X->size1, Y->size1);
    return NULL;
  }
  ir_linear *l = calloc(1, sizeof *l);
  if (l == NULL) {
    ir_error(IR_ENOMEM, "out of memory (linear model)");
    return NULL;
  }
  l->X = X;
  l->Y = Y;
  l->R = gsl_matrix_alloc(X->size1, Y->size2);
  if (l->R == NULL) {
    free(l);
    ir_error(IR_ENOMEM, "out of memory (linear model)");
    return NULL;
  }
  l->base.ops = &ir_linear_ops;
  l->base.nparams = X->size2 * Y->size2;
  l->base.nsamples = X->size1;
  l->base.nin = X->size2;
  l->base.nout = Y->size2;
  l->base.loss_name = "L = (1/2m) sum_i ||x_i'W - y_i||^2 (half mean over "
                      "samples, sum over outputs)";
  return &l->base;
}
