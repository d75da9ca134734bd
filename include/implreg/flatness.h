/* implreg/flatness.h — how flat is a minimum: the measures of one end
 * point, and Dinh et al.'s rescaling study of them.
 *
 * ir_flatness_measure takes a model at θ (an end point of training) and
 * returns every measure `implreg flatness` compares with the
 * generalization gap:
 *   - the loss, ‖∇L‖², ‖θ‖;
 *   - λ_max of the Hessian (Lanczos, its residual ‖Hv − λv‖ and products);
 *   - the trace: Hutchinson with Rademacher probes ± its standard error, and
 *     exactly when p <= exact_max_p: the sum of the dense spectrum (p
 *     unit-vector products and one dsyevr), which also gives an
 *     independent λ_max;
 *   - Keskar et al.'s ε-sharpness with A = I and with a random p×r A
 *     (sharpness.h: a lower bound from projected ascent; evaluations
 *     reported);
 *   - λ_max after balancing the layers' norms (landscape.h,
 *     ir_mlp_balance) for networks whose activation is positively
 *     homogeneous (ReLU, identity): a measure every rescaling of the
 *     network maps to the same value, so it survives Dinh et al.'s
 *     objection; NaN otherwise.
 *
 * ir_flatness_rescale is that objection as an experiment (Dinh, Pascanu,
 * Bengio, Bengio 2017, arXiv:1703.04933; docs/theory.md §9).  Rescaling
 * layer l by α (ir_mlp_rescale) is the linear map θ ↦ Dθ with D = α on
 * layer l's weights and bias, 1/α on layer l+1's weights, 1 elsewhere.
 * Since L(Dθ) = L(θ) for every θ, differentiating twice gives
 *   H(Dθ) = D⁻¹ H(θ) D⁻¹   (exactly, at every θ),
 * so the curvature at the rescaled weights is predicted from the Hessian at
 * θ alone.  The study measures λ_max at Dθ (products at Dθ) and, as a second
 * computation, λ_max of the operator D⁻¹H(θ)D⁻¹ (products at θ): the two
 * agree to their residuals exactly when the rescaling keeps the function
 * and the Hessian-vector products are right at both points.  For α → ∞,
 * λ_max(Dθ) ≈ α²·λ_max(H_{l+1,l+1}) grows without bound; for α → 0 it is
 * ≈ α⁻²·λ_max(H_{l,l}); the loss, the predictions and the balanced λ_max do
 * not move.
 *
 * Cost (products are Hessian-vector products on the batch, each about two
 * gradients): Lanczos ~20–100 products; Hutchinson `trace_probes` quadratic
 * forms; the exact trace p products and an O(p³) eigendecomposition;
 * ε-sharpness `sharp_iter` × (1 + backtracking) gradients per A.  Memory:
 * O(p·(Lanczos basis)), p² doubles for the exact path, p·r for the random
 * A.  Randomness from (seed, stream + k) for the k-th estimator:
 * reproducible.
 */
#ifndef IMPLREG_FLATNESS_H
#define IMPLREG_FLATNESS_H

#include <gsl/gsl_vector.h>
#include <stddef.h>
#include <stdint.h>

#include "implreg/mlp.h"
#include "implreg/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  double lanczos_tol;  /* relative residual for λ_max (default 1e-8) */
  size_t trace_probes; /* Hutchinson probes (>= 2; default 30) */
  size_t exact_max_p;  /* exact trace and dense spectrum when p <= this
                          (default 600; 0: never) */
  double sharp_eps;    /* ε of ε-sharpness (default 1e-3) */
  size_t sharp_rank;   /* r of the random subspace (default 100; 0: skip;
                          skipped too when r >= p) */
  size_t sharp_iter;   /* ascent iterations per A (default 20) */
  int balanced;        /* also λ_max after balancing (default 1) */
  unsigned long seed;  /* >= 1 */
  uint64_t stream;     /* base stream; estimator k uses stream + k */
} ir_flatness_params;

void ir_flatness_params_default(ir_flatness_params *p);

typedef struct {
  double loss, grad_norm2, theta_norm;
  double lambda_max, lambda_res; /* Lanczos, with ‖Hv − λv‖ */
  int lambda_conv;
  size_t lambda_hvps;
  double trace, trace_se; /* Hutchinson */
  size_t trace_hvps;
  int exact;              /* 1: the exact values below were computed */
  double trace_exact;     /* Σ λ_i of the dense spectrum = tr H (NaN when
                             exact == 0) */
  double lambda_dense;    /* λ_max of the dense spectrum (NaN likewise) */
  double lambda_min_dense;
  double sharp_full;      /* ε-sharpness, A = I */
  size_t sharp_full_evals;
  double sharp_sub;       /* ε-sharpness, random p×r A (NaN when skipped) */
  size_t sharp_sub_evals;
  double lambda_bal, lambda_bal_res; /* NaN when not applicable */
} ir_flatness_measures;

/* The measures of model m at θ on all its training samples.  arch (may be
 * NULL) enables the balanced λ_max for ReLU/identity networks.  vtop (may
 * be NULL, length p) receives the unit eigenvector of λ_max, e.g. for a
 * loss slice along it.  IR_EINVAL for bad parameters; model errors pass
 * through. */
int ir_flatness_measure(ir_model *m, const ir_mlp_arch *arch,
                        const gsl_vector *theta, const ir_flatness_params *p,
                        ir_flatness_measures *out, double *vtop);

typedef struct {
  double alpha;
  double loss;          /* L(Dθ) */
  double pred_maxdiff;  /* max |f_Dθ(x) − f_θ(x)| over the training inputs */
  double lambda_max, lambda_res;   /* Lanczos on H(Dθ) */
  double lambda_pred, lambda_pred_res; /* Lanczos on D⁻¹H(θ)D⁻¹ */
  double trace, trace_se;          /* Hutchinson on H(Dθ) */
  double sharp;                    /* ε-sharpness (A = I) at Dθ */
  double lambda_bal, lambda_bal_res; /* λ_max at the balanced Dθ */
} ir_rescale_row;

/* One row of the rescaling study: layer `layer` (0-based, < nlayers − 1) of
 * the network scaled by alpha > 0.  X (the model's training inputs,
 * borrowed) gives the predictions compared.  IR_EINVAL when the activation
 * is not positively homogeneous. */
int ir_flatness_rescale(ir_model *m, const ir_mlp_arch *arch,
                        const gsl_matrix *X, const gsl_vector *theta,
                        size_t layer, double alpha,
                        const ir_flatness_params *p, ir_rescale_row *out);

#ifdef __cplusplus
}
#endif
#endif
