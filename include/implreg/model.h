/* implreg/model.h — models over a flat parameter vector θ.
 *
 * A model evaluates, on the whole training set or on a mini-batch (a list
 * of row indices), the loss, its gradient and Hessian-vector products, and
 * predicts on new inputs.  Optimizers (optim.h) and curvature estimators
 * work only through this interface.  A model keeps scratch buffers and a
 * cache of its last forward pass, so one model must not be used by two
 * threads at once: give each thread its own (they can share X and Y).
 *
 * First implementation: linear least squares on a design matrix,
 *   L(W) = (1/2m) Σ_{i ∈ batch} ‖x_iᵀW − y_i‖²   (½·mean over samples, summed
 *   over the K outputs — docs/theory.md §1),
 * with θ = vec(W) in row-major order (θ[j·K + k] = W_jk), gradient
 * (1/m) X_bᵀ(X_b W − Y_b) and Hessian-vector product (1/m) X_bᵀX_b V.
 */
#ifndef IMPLREG_MODEL_H
#define IMPLREG_MODEL_H

#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ir_model ir_model;

/* The operations an implementation supplies.  idx == NULL means the whole
 * training set (nb is then ignored); otherwise idx[0..nb) are row indices
 * (repeats allowed, as in sampling with replacement). grad may be NULL. */
typedef struct {
  const char *name;
  int (*loss_grad)(ir_model *m, const double *theta, const size_t *idx,
                   size_t nb, double *loss, double *grad);
  int (*hvp)(ir_model *m, const double *theta, const size_t *idx, size_t nb,
             const double *v, double *hv);
  int (*predict)(ir_model *m, const double *theta, const gsl_matrix *X,
                 gsl_matrix *out);
  void (*destroy)(ir_model *m);
  /* Optional: HVPs with r vectors at once, V and HV r×nparams row-major
   * (vector j is row j).  Models that can batch the products over vectors
   * with BLAS level 3 supply it; NULL means one hvp per vector. */
  int (*hvp_many)(ir_model *m, const double *theta, const size_t *idx,
                  size_t nb, const double *V, double *HV, size_t r);
  /* Optional: the quadratic forms q_j = v_jᵀ ∇²L v_j of r vectors (rows of
   * V), which some models get more cheaply than the products (forward
   * mode only: the second derivative of L along v_j); NULL means
   * hvp_many plus dot products. */
  int (*quad_many)(ir_model *m, const double *theta, const size_t *idx,
                   size_t nb, const double *V, double *q, size_t r);
} ir_model_ops;

struct ir_model {
  const ir_model_ops *ops;
  size_t nparams;        /* length of θ */
  size_t nsamples;       /* training-set size n */
  size_t nin;            /* input dimension */
  size_t nout;           /* output dimension K */
  const char *loss_name; /* e.g. "L = (1/2m) sum ||x_i'W - y_i||^2" */
};

/* Linear least squares on X (n×p) and Y (n×K).  The model BORROWS X and Y:
 * they must outlive it.  Scratch for mini-batches is allocated on first use
 * and reused.  NULL on failure (message recorded). */
ir_model *ir_model_linear_alloc(const gsl_matrix *X, const gsl_matrix *Y);

/* The quadratic E(θ) = ½θᵀAθ − bᵀθ for a symmetric p×p matrix A and b of
 * length p (b == NULL: zero), both BORROWED.  ∇E = Aθ − b and ∇²E = A;
 * every flow of E or of E + λ‖∇E‖² is linear, with known rates along the
 * eigenvectors of A (igr.h), which is what makes it the test bed of the
 * flow integrators.  One "sample" (nsamples = 1): every batch is the
 * whole loss.  E = θ²/2 is A = [1], b = NULL.  No inputs, so
 * ir_model_predict fails.  Cost: one dgemv (p²) per gradient or HVP.
 * NULL on failure (A not square or not symmetric to 1e-14 relative,
 * shapes, non-finite entries; message recorded). */
ir_model *ir_model_quadratic_alloc(const gsl_matrix *A, const gsl_vector *b);

/* The scalar two-layer linear network f(x) = a·b·x on n samples (x_i,
 * y_i), both vectors BORROWED:
 *   E(a, b) = (1/2m) Σ_{i ∈ batch} (y_i − a b x_i)²,   θ = (a, b).
 * With n = 1 it is Barrett & Dherin's two-parameter model
 * E = ½(y − abx)²: its minima form the hyperbola ab = y/x, where the
 * Hessian has eigenvalues {0, x²(a² + b²)}, so the balanced minimum
 * |a| = |b| is the flattest (docs/theory.md §5).  Inputs for prediction
 * are one column.  NULL on failure (sizes, non-finite values). */
ir_model *ir_model_product_alloc(const gsl_vector *x, const gsl_vector *y);

/* Frees any model; NULL is a no-op. */
void ir_model_free(ir_model *m);

/* Loss and (if grad != NULL) gradient at θ on the batch. Cost for the
 * linear model: 2·m·p·K multiply-adds. */
int ir_model_loss_grad(ir_model *m, const gsl_vector *theta, const size_t *idx,
                       size_t nb, double *loss, gsl_vector *grad);

/* hv = ∇²L(θ) v on the batch. */
int ir_model_hvp(ir_model *m, const gsl_vector *theta, const size_t *idx,
                 size_t nb, const gsl_vector *v, gsl_vector *hv);

/* Row j of HV = ∇²L(θ) (row j of V) on the batch, for r = V->size1 >= 1
 * vectors (V and HV r×nparams, contiguous rows).  Same numbers as r calls
 * of ir_model_hvp up to rounding; faster when the model batches them. */
int ir_model_hvp_many(ir_model *m, const gsl_vector *theta, const size_t *idx,
                      size_t nb, const gsl_matrix *V, gsl_matrix *HV);

/* q[j] = v_jᵀ ∇²L(θ) v_j for the r = V->size1 rows v_j of V (r×nparams,
 * contiguous rows): what Hutchinson's trace estimator needs.  Equal to the
 * dot products with ir_model_hvp_many up to rounding. */
int ir_model_quad_many(ir_model *m, const gsl_vector *theta, const size_t *idx,
                       size_t nb, const gsl_matrix *V, double *q);

/* out (rows of X × nout) = predictions at θ for the inputs X. */
int ir_model_predict(ir_model *m, const gsl_vector *theta, const gsl_matrix *X,
                     gsl_matrix *out);

#ifdef __cplusplus
}
#endif
#endif
