/* implreg/flow.h — gradient flows and modified flows of a model's loss.
 *
 * For a model (model.h) with loss E = (1/n) Σ_i E_i, the flow
 *
 *   θ̇ = −c·∇( E + λ‖∇E‖² + κΓ ),   Γ = (1/n) Σ_i ‖∇E_i − ∇E‖²,
 *     = −c·( ∇E + 2λ ∇²E ∇E + κ ∇Γ ),  ∇Γ = (2/n) Σ_i ∇²E_i ∇E_i − 2 ∇²E ∇E
 *
 * covers every flow implreg compares discrete steps with (docs/theory.md
 * §5–§6): λ = κ = 0 is gradient flow; λ = h/4 the modified flow of GD
 * (Barrett & Dherin); c = 1/(1 − β), λ = h(1 + β)/(4(1 − β)²) that of
 * heavy ball (Ghosh et al.); λ = ε/4 with κ = (N − B)/(N − 1)·ε/(4B) the
 * shuffle-averaged modified flow of SGD (Smith et al.).  One evaluation of
 * the vector field costs one full-batch gradient and, when λ or κ is not
 * 0, one HVP (reusing the gradient's forward pass); κ ≠ 0 adds one
 * gradient and one HVP per sample.
 *
 * Integration: GSL odeiv2 with error control on the local error
 * (‖δy_i‖ <= atol + rtol·|y_i|).  The default stepper is explicit
 * Runge–Kutta–Prince–Dormand 8(9) (rk8pd); the implicit multistep BDF
 * (msbdf) serves stiff problems, with the Jacobian
 *   J = −c·[ H + 2λ(H² + D_g H) + κ∇²Γ ],  D_v H = d/dε ∇²E(θ + εv),
 * assembled from HVPs (p products per dense Hessian; D_g H by a central
 * difference of two dense Hessians along g — third derivatives in one
 * direction only).  IR_FLOW_AUTO tries rk8pd and, when it exceeds its
 * step budget, restarts with msbdf (p <= IR_FLOW_MSBDF_MAX_PARAMS).
 *
 * Outputs land exactly on the requested times (the stepper shortens its
 * last step before each).  With global_error set, the whole integration is
 * repeated at rtol/100 and atol/100, with at least two steps in every
 * output interval (so that the rerun differs even where the outputs, not
 * the tolerance, set the steps): the solution returned is the tighter
 * one and err[j] = ‖θ_loose(t_j) − θ_tight(t_j)‖₂ estimates its global
 * error from above (in the allowed range rtol ∈ [1e-13, 1e-7] the error of
 * the 8th-order method falls in proportion to the tolerance, so the tight
 * run is ~100× more accurate than that difference; it is never below
 * the rounding eps·‖θ‖·√steps).  Callers report a distance between GD and a
 * flow only when it exceeds this estimate 100-fold.
 *
 * Ownership: the model is borrowed and used by one thread; outputs are
 * caller-allocated.
 */
#ifndef IMPLREG_FLOW_H
#define IMPLREG_FLOW_H

#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <stddef.h>

#include "implreg/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  IR_FLOW_AUTO = 0,  /* rk8pd; msbdf when rk8pd exceeds its step budget */
  IR_FLOW_RK8PD = 1, /* explicit Runge–Kutta Prince–Dormand 8(9) */
  IR_FLOW_MSBDF = 2  /* implicit BDF, orders 1–5, Jacobian from HVPs */
} ir_flow_stepper;

/* The implicit stepper needs a dense p×p Jacobian (three dense Hessians, an
 * LU per Newton matrix): beyond this many parameters it is refused. */
#define IR_FLOW_MSBDF_MAX_PARAMS 2000

typedef struct {
  double c;      /* time scale, > 0 (1 for GD) */
  double lambda; /* coefficient of ‖∇E‖² (0: no gradient-norm term) */
  double kappa;  /* coefficient of Γ (0: none; needs nsamples >= 2) */
  ir_flow_stepper stepper;
  double rtol; /* relative local tolerance, in [1e-13, 1e-7] */
  double atol; /* absolute local tolerance; < 0: rtol·max(‖θ₀‖∞, 1) */
  size_t max_steps; /* stepper budget for one integration (all outputs) */
  int global_error; /* repeat at a 100× tighter tolerance (see above) */
} ir_flow_params;

/* Defaults: c 1, λ 0, κ 0, AUTO, rtol 1e-11, atol −1 (auto), max_steps
 * 10⁶, global_error 1. */
void ir_flow_params_default(ir_flow_params *p);

/* IR_EINVAL with a message naming the bad field. */
int ir_flow_params_check(const ir_flow_params *p);

typedef struct {
  ir_flow_stepper used; /* the stepper that produced the solution */
  size_t nsteps;        /* stepper steps, both integrations */
  size_t nevals;        /* vector-field evaluations (gradient + HVP each) */
  size_t njac;          /* Jacobian evaluations (msbdf) */
  double err_max;       /* max_j err[j]; NaN when global_error is off */
} ir_flow_result;

/* The vector field f(θ) = −c·(∇E + 2λ∇²E∇E + κ∇Γ) (full batch). */
int ir_flow_field(ir_model *m, const ir_flow_params *p, const gsl_vector *theta,
                  gsl_vector *f);

/* The Jacobian J = ∂f/∂θ (p×p) described above (symmetric: f is the
 * negative gradient of c·Ẽ).  Cost: 3p HVPs (plus 3p per sample when
 * κ ≠ 0) and two p×p products. */
int ir_flow_jacobian(ir_model *m, const ir_flow_params *p,
                     const gsl_vector *theta, gsl_matrix *J);

/* Integrates from θ(0) = theta0 and stores θ(times[j]) in row j of out
 * (nt × nparams) for nondecreasing times >= 0.  err (length nt, may be
 * NULL) receives the global-error estimate at each time (NaN when
 * global_error is off).  Failures: IR_EINVAL (parameters, times),
 * IR_ESHAPE, IR_EBADDATA (θ₀ not finite), IR_ENOCONV when the stepper cannot
 * finish within max_steps (the message says which stepper and suggests the
 * other), IR_EDIVERGE when the solution or the field stops being finite, or the
 * model's own status. */
int ir_flow_solve(ir_model *m, const ir_flow_params *p,
                  const gsl_vector *theta0, const double *times, size_t nt,
                  gsl_matrix *out, double *err, ir_flow_result *res);

const char *ir_flow_stepper_name(ir_flow_stepper s);
/* "auto", "rk8pd", "msbdf"; IR_EINVAL otherwise. */
int ir_flow_stepper_parse(const char *name, ir_flow_stepper *s);

#ifdef __cplusplus
}
#endif
#endif
