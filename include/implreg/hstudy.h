/* implreg/hstudy.h — a Hessian study: the measurements, tables, checks and
 * figure of `implreg hessian`, on any symmetric operator.
 *
 * The command line runs it on the Hessian of an MLP it built; the Python
 * package (implreg.torch) runs the same code on the Hessian of any PyTorch
 * model, whose products cross from Python as an ir_linop.  One module for
 * both keeps "the same tables and checks" literal rather than a promise.
 *
 * A study, in order (each stage optional, each from its own random stream
 * named by the stage, so that adding a stage never changes another's
 * numbers):
 *   - symmetry probe uᵀ(Hv) against vᵀ(Hu) for Rademacher u, v;
 *   - finite differences of the gradient along a random unit v against
 *     Hv (only when a gradient is supplied: smooth models);
 *   - the top and bottom eigenpairs by certified Lanczos (curvature.h),
 *     and λ_max by power iteration to a residual of 1e-8 λ (the check's
 *     second method);
 *   - the trace by Hutchinson and Hutch++;
 *   - the spectral density by stochastic Lanczos quadrature;
 *   - the dense spectrum (n products and dsyevr: small n only);
 *   - power iteration with PyHessian's stopping rule and Lanczos to 1e-8,
 *     with the products each needs.
 * Cost: the sum of the stages' costs in curvature.h, in products of op.
 *
 * Ownership: ir_hstudy_run allocates the study (free it with
 * ir_hstudy_free, NULL-safe); the operator and the callbacks are borrowed
 * during the run only.  Nothing here prints.
 */
#ifndef IMPLREG_HSTUDY_H
#define IMPLREG_HSTUDY_H

#include <stddef.h>

#include "implreg/curvature.h"
#include "implreg/report.h"

#ifdef __cplusplus
extern "C" {
#endif

/* g = ∇L(θ + t·v) (length n) for the finite-difference check: the caller
 * evaluates the gradient at the shifted point without changing θ. */
typedef int (*ir_hstudy_grad_fn)(void *ctx, const double *v, double t,
                                 double *g);

typedef struct {
  size_t top, bottom; /* extreme eigenpairs wanted at each end (0: none) */
  double tol;         /* Lanczos: residual <= tol·‖H‖_est */
  size_t max_hvp;     /* Lanczos budget per end, and the power budget */
  int trace;          /* Hutchinson (quadratic forms) and Hutch++ */
  size_t probes;      /* Hutchinson probes = Hutch++ products (>= 4) */
  int density;        /* SLQ */
  size_t slq_runs, slq_steps;
  double sigma2; /* smoothing variance; <= 0: 1e-5·max(1, span) */
  int full;      /* dense spectrum (n products, n² doubles) */
  int power;     /* power iteration (two rules) against Lanczos to 1e-8 */
  unsigned long seed;
  size_t nsamples; /* samples the loss averages over: the rounding scale
                      of the symmetry check (0: taken as n) */
  ir_hstudy_grad_fn grad; /* NULL: no finite-difference check (a model
                             with kinks, e.g. ReLU, where a difference
                             step that crosses one gives O(1/ε)) */
  void *grad_ctx;
  double theta_max; /* max(1, ‖θ‖_∞): scales the difference step */
  void (*progress)(void *ctx, const char *stage); /* may be NULL */
  void *progress_ctx;
} ir_hstudy_params;

/* Defaults: top 1, bottom 0, tol 1e-10, max_hvp 5000, trace 0, probes 100,
 * density 0, 10 runs × 90 steps, sigma2 0, full 0, power 0, seed 1,
 * nsamples 0, no gradient, theta_max 1, no progress. */
void ir_hstudy_params_default(ir_hstudy_params *p);

typedef struct {
  ir_hstudy_params p; /* as run */
  size_t n;           /* dimension */
  ir_eig_result *top, *bottom;
  ir_power_result pw_check; /* residual rule 1e-8 (the check's) */
  ir_power_result pw_pyh;   /* PyHessian's rule (with power) */
  size_t lanczos_1e8;       /* products of Lanczos to 1e-8 (with power) */
  double lanczos_1e8_value, lanczos_1e8_res;
  ir_trace_result hutch, hpp; /* nprobe/nmatvec 0 when not run */
  ir_slq_result *slq;
  double sigma2;    /* the smoothing used */
  double *spectrum; /* ascending, length n (full), else NULL */
  double asym;      /* max|H − Hᵀ|/max|H| of the dense matrix */
  double sym_u_hv, sym_v_hu, sym_l1; /* uᵀHv, vᵀHu, ‖Hv‖₁ + ‖Hu‖₁ */
  int fd_done;
  double fd_err, fd_trunc, fd_eps; /* ‖R − Hv‖/‖Hv‖, the ε² term R removed
                                      (relative), the step */
  double t_eig, t_trace, t_slq, t_full, t_power; /* seconds per stage */
} ir_hstudy;

/* Runs the study on op (a symmetric operator).  Fails (IR_EINVAL) on bad
 * parameters before any product: probes < 4 with trace, full with n above
 * 6000, zero runs or steps with density.  Operator errors are passed on. */
int ir_hstudy_run(ir_linop *op, const ir_hstudy_params *p, ir_hstudy **out);
void ir_hstudy_free(ir_hstudy *h);

/* The checks of `implreg hessian` for this study (see src/hstudy.c for
 * the bug each catches): HVP symmetry (or, with the dense matrix, its
 * symmetry), finite differences, Lanczos against power iteration, the
 * trace estimators against each other or against the exact trace, the
 * Lanczos values against the dense spectrum. */
int ir_hstudy_checks(const ir_hstudy *h, ir_checks *c);

/* What the caller knows about the model, for the tables and summary. */
typedef struct {
  const char *model;        /* e.g. "784-32-10" or a torch class name */
  const char *act;          /* activation, or NULL (null in the summary) */
  const char *loss_name;    /* e.g. "cross-entropy" */
  const char *loss_formula; /* shown in the eigenvalue table's note */
  const char *data;         /* a description of the data */
  size_t n_samples;         /* samples in the loss */
  size_t hessian_samples;   /* samples the Hessian is taken on */
  double loss, grad_norm;
  double subset_loss; /* the loss on the Hessian's subset; NaN: none */
  const double *boot; /* λ_max over bootstrap resamples (may be NULL) */
  size_t nboot;
} ir_hstudy_info;

/* Writes the tables (eigenvalues, trace, density and slq_nodes, spectrum
 * and estimators, power — those the study has) in the given formats, the
 * density figure, and summary.json into dir (which must exist); each file
 * atomically.  Checks are written by the caller (ir_checks_write), who may
 * add its own. */
int ir_hstudy_write(const ir_hstudy *h, const ir_hstudy_info *info,
                    const char *dir, int formats);

#ifdef __cplusplus
}
#endif
#endif
