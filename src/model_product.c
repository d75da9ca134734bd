/* model_product.c — the scalar two-layer linear network f(x) = a·b·x with
 * E(a, b) = (1/2m) Σ (y_i − a b x_i)² on the model interface (model.h). */
#include "implreg/model.h"

#include "implreg/status.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
  ir_model base;
  const gsl_vector *x, *y;
} ir_product;

static void ir_product_destroy(ir_model *m) {
  free(m);
}

/* The sums the loss, gradient and Hessian need over the batch:
 * sxx = Σ x_i², sxr = Σ x_i r_i, srr = Σ r_i² with r_i = a b x_i − y_i. */
static void ir_product_sums(const ir_product *q, const double *theta,
                            const size_t *idx, size_t nb, double *m,
                            double *sxx, double *sxr, double *srr) {
  const size_t n = idx ? nb : q->x->size;
  const double ab = theta[0] * theta[1];
  double a1 = 0, a2 = 0, a3 = 0;
  for (size_t k = 0; k < n; k++) {
    const size_t i = idx ? idx[k] : k;
    const double xi = gsl_vector_get(q->x, i);
    const double r = ab * xi - gsl_vector_get(q->y, i);
    a1 += xi * xi;
    a2 += xi * r;
    a3 += r * r;
  }
  *m = (double)n;
  *sxx = a1;
  *sxr = a2;
  *srr = a3;
}

static int ir_product_loss_grad(ir_model *mod, const double *theta,
                                const size_t *idx, size_t nb, double *loss,
                                double *grad) {
  const ir_product *q = (const ir_product *)mod;
  double m, sxx, sxr, srr;
  ir_product_sums(q, theta, idx, nb, &m, &sxx, &sxr, &srr);
  (void)sxx;
  *loss = srr / (2 * m);
  if (grad) {
    /* ∂E/∂a = (1/m) Σ r_i b x_i, ∂E/∂b = (1/m) Σ r_i a x_i. */
    grad[0] = theta[1] * sxr / m;
    grad[1] = theta[0] * sxr / m;
  }
  return IR_OK;
}

/* ∇²E = (1/m) [[b² Σx², Σ(x r) + ab Σx²], [Σ(x r) + ab Σx², a² Σx²]]. */
static int ir_product_hvp(ir_model *mod, const double *theta, const size_t *idx,
                          size_t nb, const double *v, double *hv) {
  const ir_product *q = (const ir_product *)mod;
  double m, sxx, sxr, srr;
  ir_product_sums(q, theta, idx, nb, &m, &sxx, &sxr, &srr);
  const double a = theta[0], b = theta[1];
  const double haa = b * b * sxx / m, hbb = a * a * sxx / m,
               hab = (sxr + a * b * sxx) / m;
  const double v0 = v[0], v1 = v[1];
  hv[0] = haa * v0 + hab * v1;
  hv[1] = hab * v0 + hbb * v1;
  return IR_OK;
}

static int ir_product_predict(ir_model *mod, const double *theta,
                              const gsl_matrix *X, gsl_matrix *out) {
  (void)mod;
  for (size_t i = 0; i < X->size1; i++)
    gsl_matrix_set(out, i, 0, theta[0] * theta[1] * gsl_matrix_get(X, i, 0));
  return IR_OK;
}

static const ir_model_ops ir_product_ops = {"product a*b*x",
                                            ir_product_loss_grad,
                                            ir_product_hvp,
                                            ir_product_predict,
                                            ir_product_destroy,
                                            NULL,
                                            NULL};

ir_model *ir_model_product_alloc(const gsl_vector *x, const gsl_vector *y) {
  if (x->size == 0 || y->size != x->size) {
    ir_error(IR_ESHAPE, "product model: x has %zu values and y %zu", x->size,
             y->size);
    return NULL;
  }
  for (size_t i = 0; i < x->size; i++)
    if (!isfinite(gsl_vector_get(x, i)) || !isfinite(gsl_vector_get(y, i))) {
      ir_error(IR_EBADDATA, "product model: sample %zu is (%g, %g)", i,
               gsl_vector_get(x, i), gsl_vector_get(y, i));
      return NULL;
    }
  ir_product *q = calloc(1, sizeof *q);
  if (q == NULL) {
    ir_error(IR_ENOMEM, "out of memory (product model)");
    return NULL;
  }
  q->x = x;
  q->y = y;
  q->base.ops = &ir_product_ops;
  q->base.nparams = 2;
  q->base.nsamples = x->size;
  q->base.nin = 1;
  q->base.nout = 1;
  q->base.loss_name = "E = (1/2m) sum_i (y_i - a b x_i)^2";
  return &q->base;
}
