/* igr.c — implicit gradient regularization: coefficients, closed forms on
 * quadratics, trajectories, the fitted coefficient, SGD over shuffles
 * (igr.h). */
#include "implreg/igr.h"

#include "implreg/linalg.h"
#include "implreg/rng.h"
#include "implreg/stats.h"
#include "implreg/status.h"

#include <float.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Coefficients ----------------------------------------------------------
 */

double ir_igr_lambda_gd(double h) {
  return h / 4;
}

double ir_igr_lambda_hb(double h, double beta) {
  return h * (1 + beta) / (4 * (1 - beta) * (1 - beta));
}

double ir_igr_timescale_hb(double beta) {
  return 1 / (1 - beta);
}

double ir_igr_lambda_hb_effective_gd(double h, double beta) {
  return h / (4 * (1 - beta));
}

double ir_igr_kappa_sgd(size_t N, size_t B, double eps) {
  if (N < 2)
    return 0;
  return ((double)(N - B) / (double)(N - 1)) * eps / (4 * (double)B);
}

/* ---- Closed forms on quadratics
 * ----------------------------------------------- */

double ir_igr_quad_rate(double mu, double c, double lambda) {
  return c * (mu + 2 * lambda * mu * mu);
}

/* −log(1 − x) − x = Σ_{k>=2} x^k/k without the cancellation of the direct
 * form for small x (series below 0.1: 17 digits within 16 terms). */
static double ir_nlog1m_minus_x(double x) {
  if (fabs(x) >= 0.1)
    return -log1p(-x) - x;
  double term = x * x, sum = 0;
  for (int k = 2; k < 40; k++) {
    double add = term / k;
    sum += add;
    if (fabs(add) <= 1e-18 * fabs(sum))
      break;
    term *= x;
  }
  return sum;
}

double ir_igr_quad_lambda_gd(double h, double mu) {
  const double x = h * mu;
  if (!(mu > 0) || !(h > 0) || !(x < 1))
    return NAN;
  /* −log(1 − x)/h − μ = (−log(1 − x) − x)/h. */
  return ir_nlog1m_minus_x(x) / (2 * h * mu * mu);
}

int ir_igr_hb_rate(double h, double beta, double mu, double *rate,
                   double *ratio) {
  const double s = 1 + beta - h * mu;
  const double disc = s * s - 4 * beta;
  if (!(disc >= 0))
    return ir_error(IR_EDOM,
                    "heavy ball with h*mu = %g, beta = %g has complex roots: "
                    "the iterates spiral and no flow follows them",
                    h * mu, beta);
  if (!(s > 0))
    return ir_error(IR_EDOM,
                    "heavy ball with h*mu = %g, beta = %g has a negative "
                    "dominant root: the iterates alternate in sign",
                    h * mu, beta);
  /* The larger root without cancellation; the other from z₁z₂ = β. */
  const double z1 = 0.5 * (s + sqrt(disc));
  const double z2 = beta / z1;
  *rate = -log(z1);
  if (ratio)
    *ratio = fabs(z2 / z1);
  return IR_OK;
}

int ir_igr_quadratic_flow(const gsl_matrix *A, const gsl_vector *b,
                          const gsl_vector *theta0, double c, double lambda,
                          const double *times, size_t nt, gsl_matrix *out) {
  const size_t p = A->size1;
  if (A->size2 != p || theta0->size != p || (b && b->size != p) ||
      out->size1 != nt || out->size2 != p)
    return ir_error(IR_ESHAPE, "quadratic flow: shapes do not match (p = %zu)",
                    p);
  ir_eigen_symm *es = ir_eigen_symm_alloc(p);
  gsl_vector *u0 = gsl_vector_alloc(p), *bb = gsl_vector_calloc(p),
             *u = gsl_vector_alloc(p);
  int s = (es && u0 && bb && u)
              ? IR_OK
              : ir_error(IR_ENOMEM, "out of memory (p = %zu)", p);
  if (s == IR_OK)
    s = ir_eigen_symm_decomp(es, A);
  if (s == IR_OK) {
    gsl_blas_dgemv(CblasTrans, 1.0, es->evec, theta0, 0.0, u0);
    if (b)
      gsl_blas_dgemv(CblasTrans, 1.0, es->evec, b, 0.0, bb);
    double mmax = 0;
    for (size_t i = 0; i < p; i++)
      mmax = fmax(mmax, fabs(gsl_vector_get(es->eval, i)));
    for (size_t j = 0; j < nt; j++) {
      for (size_t i = 0; i < p; i++) {
        const double mu = gsl_vector_get(es->eval, i);
        const double ui = gsl_vector_get(u0, i), bi = gsl_vector_get(bb, i);
        double v;
        if (fabs(mu) <= 1e-14 * mmax) {
          v = ui + c * bi * times[j];
        } else {
          const double star = bi / mu;
          v = star +
              (ui - star) * exp(-ir_igr_quad_rate(mu, c, lambda) * times[j]);
        }
        gsl_vector_set(u, i, v);
      }
      gsl_vector_view row = gsl_matrix_row(out, j);
      gsl_blas_dgemv(CblasNoTrans, 1.0, es->evec, u, 0.0, &row.vector);
    }
  }
  ir_eigen_symm_free(es);
  if (u0)
    gsl_vector_free(u0);
  if (bb)
    gsl_vector_free(bb);
  if (u)
    gsl_vector_free(u);
  return s;
}

/* ---- Trajectories
 * ---------------------------------------------------------------- */

static int ir_igr_store(void *ctx, size_t step, const gsl_vector *theta) {
  gsl_matrix *it = ctx;
  if (step < it->size1) {
    gsl_vector_view row = gsl_matrix_row(it, step);
    gsl_vector_memcpy(&row.vector, theta);
  }
  return 0;
}

int ir_igr_trajectory(ir_model *m, const ir_optim_params *p,
                      const gsl_vector *theta0, gsl_matrix *iterates,
                      ir_optim_result *res) {
  if (iterates->size1 != p->max_steps + 1 || iterates->size2 != m->nparams ||
      theta0->size != m->nparams)
    return ir_error(IR_ESHAPE,
                    "trajectory: need (%zu + 1) x %zu iterates, got %zu x %zu",
                    p->max_steps, m->nparams, iterates->size1, iterates->size2);
  if (p->loss_goal >= 0)
    return ir_error(IR_EINVAL, "trajectory: a loss goal would cut the run "
                               "short; switch it off");
  gsl_vector *th = gsl_vector_alloc(m->nparams);
  if (th == NULL)
    return ir_error(IR_ENOMEM, "out of memory (trajectory)");
  gsl_vector_memcpy(th, theta0);
  int s = ir_optim_run(m, p, th, ir_igr_store, iterates, res);
  gsl_vector_free(th);
  if (s != IR_OK)
    return s;
  if (res->diverged)
    return ir_error(IR_EDIVERGE,
                    "the run with step size %g%s diverged at step %zu (loss "
                    "%g -> beyond %g times the initial loss); use a smaller "
                    "step size",
                    p->lr, p->momentum > 0 ? " and momentum" : "",
                    res->diverged_at, res->initial_loss, p->diverge_ratio);
  if (res->steps != p->max_steps)
    return ir_error(IR_EINTERNAL, "trajectory stopped after %zu of %zu steps",
                    res->steps, p->max_steps);
  return IR_OK;
}

size_t ir_igr_transient_steps(double h, double beta, double mu_max) {
  if (!(beta > 0))
    return 0;
  const double x = h * mu_max / (1 - beta);
  const double target = 1e-3 * fmin(1.0, x * x);
  if (!(target > 0))
    return 0;
  return (size_t)ceil(log(target) / log(beta));
}

/* ---- The estimator
 * -------------------------------------------------------------- */

void ir_igr_fit_params_default(ir_igr_fit_params *p) {
  memset(p, 0, sizeof *p);
  p->segments = 8;
  p->stride = 1;
  p->c = 1;
  p->max_iter = 12;
  p->level = 0.95;
  p->nboot = 2000;
  p->seed = 1;
  p->stream = ir_rng_stream(IR_STREAM_PROBE, 80, 0);
  ir_flow_params_default(&p->flow);
  p->flow.global_error = 0;
}

typedef struct {
  ir_model *m;
  const gsl_matrix *it;
  const ir_igr_fit_params *p;
  size_t n, S, L, npts;
  double *times; /* npts: i·stride·h, i = 1..npts */
  gsl_matrix *phi;
  size_t nflows, nevals;
} ir_fit_ws;

/* R (S·npts × n): R[s·npts + i] = θ_{b_s + (i+1)·stride} − φ_{λ,c}(t_i;
 * θ_{b_s}); *rss = ‖R‖_F²; *gerr the largest global-error estimate
 * (global_error on) or NaN. */
static int ir_fit_residuals(ir_fit_ws *w, double lambda, double c,
                            int global_error, gsl_matrix *R, double *rss,
                            double *gerr) {
  ir_flow_params fp = w->p->flow;
  fp.lambda = lambda;
  fp.c = c;
  fp.kappa = 0;
  fp.global_error = global_error;
  /* A budget of 20 steps per iterate plus 2000: a flow near the theory's λ
   * needs a few per iterate (h·λ_max < 2), while a trial λ far off makes
   * the flow stiff; such trials fail fast and count as worse instead of
   * running to the global budget (AUTO means rk8pd here: no implicit
   * fallback for trials). */
  const size_t budget = 20 * w->L + 2000;
  if (fp.max_steps > budget)
    fp.max_steps = budget;
  if (fp.stepper == IR_FLOW_AUTO)
    fp.stepper = IR_FLOW_RK8PD;
  double ss = 0, ge = global_error ? 0 : NAN;
  for (size_t s = 0; s < w->S; s++) {
    const size_t b = w->p->start + s * w->L;
    gsl_vector_const_view th0 = gsl_matrix_const_row(w->it, b);
    ir_flow_result fr;
    int st = ir_flow_solve(w->m, &fp, &th0.vector, w->times, w->npts, w->phi,
                           NULL, &fr);
    w->nflows++;
    w->nevals += fr.nevals;
    if (st != IR_OK)
      return ir_error_context(st,
                              "segment %zu (iterates %zu..%zu), lambda = "
                              "%g",
                              s, b, b + w->L, lambda);
    if (global_error)
      ge = fmax(ge, fr.err_max);
    for (size_t i = 0; i < w->npts; i++) {
      gsl_vector_const_view a =
          gsl_matrix_const_row(w->it, b + (i + 1) * w->p->stride);
      gsl_vector_view ph = gsl_matrix_row(w->phi, i);
      gsl_vector_view r = gsl_matrix_row(R, s * w->npts + i);
      gsl_vector_memcpy(&r.vector, &a.vector);
      gsl_vector_sub(&r.vector, &ph.vector);
      const double nr = gsl_blas_dnrm2(&r.vector);
      ss += nr * nr;
    }
  }
  *rss = ss;
  if (gerr)
    *gerr = ge;
  return IR_OK;
}

/* Rows [r0, r1) of A and B as one vector each: Σ a·b. */
static double ir_rows_dot(const gsl_matrix *A, const gsl_matrix *B, size_t r0,
                          size_t r1) {
  double s = 0;
  for (size_t i = r0; i < r1; i++) {
    gsl_vector_const_view a = gsl_matrix_const_row(A, i);
    gsl_vector_const_view b = gsl_matrix_const_row(B, i);
    double d;
    gsl_blas_ddot(&a.vector, &b.vector, &d);
    s += d;
  }
  return s;
}

/* Solves the k×k (k = 1, 2) system A x = g; returns 0 when A is singular
 * or its condition number exceeds 1e10. */
static int ir_solve_small(size_t k, const double A[4], const double g[2],
                          double x[2]) {
  if (k == 1) {
    if (!(A[0] > 0))
      return 0;
    x[0] = g[0] / A[0];
    return 1;
  }
  const double tr = A[0] + A[3], det = A[0] * A[3] - A[1] * A[2];
  const double disc = sqrt(fmax(0.0, 0.25 * tr * tr - det));
  const double emax = 0.5 * tr + disc, emin = 0.5 * tr - disc;
  if (!(emin > 0) || emax / emin > 1e10)
    return 0;
  x[0] = (A[3] * g[0] - A[1] * g[1]) / det;
  x[1] = (A[0] * g[1] - A[2] * g[0]) / det;
  return 1;
}

static int ir_cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int ir_igr_fit(ir_model *m, const gsl_matrix *iterates,
               const ir_igr_fit_params *p, ir_igr_fit_result *res) {
  const size_t n = m->nparams;
  if (iterates->size2 != n || iterates->size1 < 2)
    return ir_error(IR_ESHAPE,
                    "fit: iterates are %zux%zu, model has %zu "
                    "parameters",
                    iterates->size1, iterates->size2, n);
  if (!(p->h > 0) || !isfinite(p->h))
    return ir_error(IR_EINVAL, "fit: step size h = %g must be > 0", p->h);
  if (!(p->lambda0 > 0) || !isfinite(p->lambda0))
    return ir_error(IR_EINVAL, "fit: starting value lambda0 = %g must be > 0",
                    p->lambda0);
  if (!(p->c > 0) || !isfinite(p->c))
    return ir_error(IR_EINVAL, "fit: time scale c = %g must be > 0", p->c);
  if (p->segments < 1 || p->segments > IR_IGR_MAX_SEGMENTS || p->stride < 1)
    return ir_error(IR_EINVAL,
                    "fit: %zu segments (1..%d) and stride %zu "
                    "(>= 1)",
                    p->segments, IR_IGR_MAX_SEGMENTS, p->stride);
  if (!(p->level > 0 && p->level < 1) || p->max_iter < 1)
    return ir_error(IR_EINVAL,
                    "fit: level %g must be in (0, 1) and max_iter "
                    ">= 1",
                    p->level);
  const size_t end = p->end ? p->end : iterates->size1 - 1;
  if (end >= iterates->size1 || p->start >= end)
    return ir_error(IR_EINVAL,
                    "fit: window [%zu, %zu] is empty or beyond the "
                    "%zu iterates",
                    p->start, end, iterates->size1);
  ir_fit_ws w;
  memset(&w, 0, sizeof w);
  w.m = m;
  w.it = iterates;
  w.p = p;
  w.n = n;
  w.S = p->segments;
  w.L = (end - p->start) / w.S / p->stride * p->stride;
  if (w.L == 0)
    return ir_error(IR_EINVAL,
                    "fit: the window [%zu, %zu] is too short for %zu segments "
                    "with stride %zu",
                    p->start, end, w.S, p->stride);
  w.npts = w.L / p->stride;
  const size_t rows = w.S * w.npts;
  const int fit_c0 = p->fit_c != 0;
  w.times = malloc(w.npts * sizeof(double));
  w.phi = gsl_matrix_alloc(w.npts, n);
  gsl_matrix *R0 = gsl_matrix_alloc(rows, n), *Rp = gsl_matrix_alloc(rows, n),
             *Rm = gsl_matrix_alloc(rows, n);
  gsl_matrix *Jl = gsl_matrix_alloc(rows, n),
             *Jc = fit_c0 ? gsl_matrix_alloc(rows, n) : NULL;
  double *boot = malloc((p->nboot ? p->nboot : 1) * sizeof(double));
  double *bootc = malloc((p->nboot ? p->nboot : 1) * sizeof(double));
  /* Per-segment normal equations at the last iterate: A_s (2×2), g_s. */
  double(*As)[4] = malloc(w.S * sizeof *As);
  double(*gs)[2] = malloc(w.S * sizeof *gs);
  gsl_rng *rng = ir_rng_alloc(p->seed, p->stream);
  int s = IR_OK;
  if (!w.times || !w.phi || !R0 || !Rp || !Rm || !Jl || (fit_c0 && !Jc) ||
      !boot || !bootc || !As || !gs || !rng) {
    s = ir_error(IR_ENOMEM, "out of memory (fit: %zu x %zu residuals)", rows,
                 n);
    goto done;
  }
  for (size_t i = 0; i < w.npts; i++)
    w.times[i] = (double)((i + 1) * p->stride) * p->h;
  memset(res, 0, sizeof *res);
  res->segments = w.S;
  res->seg_len = w.L;
  res->npoints = rows;

  double lambda = p->lambda0, c = p->c, rss = 0;
  double lin_l = lambda, lin_c = c; /* where the last Jacobian was taken */
  double last_step = INFINITY;
  int fit_c = fit_c0;
  double q[2] = {0, 0};
  /* λ alone: a secant Gauss–Newton.  The sensitivity ∂R/∂λ is the secant
   * through the last two points (R_prev in Rm at lam_prev), starting from
   * gradient flow (λ = 0, whose residual the result reports anyway) and
   * the theory's λ₀: one set of flows per iteration, superlinear
   * convergence on a residual that is nearly linear in λ, and no bias at
   * the fixed point (the secant tends to the derivative). */
  double lam_prev = 0, rss_flow = NAN;
  int have_prev = 0, polish = 0;
  if ((s = ir_fit_residuals(&w, lambda, c, 0, R0, &rss, NULL)) != IR_OK)
    goto done;
  for (size_t iter = 1; iter <= p->max_iter; iter++) {
    if (!fit_c && !polish && !have_prev) {
      if ((s = ir_fit_residuals(&w, 0.0, c, 0, Rm, &rss_flow, NULL)) != IR_OK)
        goto done;
      lam_prev = 0;
      have_prev = 1;
    }
    if (fit_c || polish) {
      /* Central differences of 0.1% (the fixed point of Gauss–Newton
       * solves J_FDᵀR = 0, so the difference's own O(δ²) error biases the
       * fit; the integration error, ~rtol, stays far below the change it
       * measures).  For λ alone they take over from the secant once the
       * steps are small ("polish"): a secant then spans either a tiny
       * interval (dividing the flows' error by it) or a wide one (an O(δ)
       * bias). */
      const double dl = 1e-3 * fmax(fabs(lambda), p->lambda0);
      const double dc = 1e-3 * c;
      if ((s = ir_fit_residuals(&w, lambda + dl, c, 0, Rp, &q[0], NULL)) !=
              IR_OK ||
          (s = ir_fit_residuals(&w, lambda - dl, c, 0, Rm, &q[1], NULL)) !=
              IR_OK ||
          (fit_c && ((s = ir_fit_residuals(&w, lambda, c + dc, 0, Jc, &q[0],
                                           NULL)) != IR_OK ||
                     (s = ir_fit_residuals(&w, lambda, c - dc, 0, Jl, &q[1],
                                           NULL)) != IR_OK))) {
        s = ir_error_context(IR_ENOCONV,
                             "fit: no flow near lambda = %g, c = %g follows "
                             "the iterates",
                             lambda, c);
        goto done;
      }
      /* J_c = (R(c+) − R(c−))/2dc (held in Jc and Jl), then
       * J_λ = (R(λ+) − R(λ−))/2dλ into Jl. */
      if (fit_c) {
        gsl_matrix_sub(Jc, Jl);
        gsl_matrix_scale(Jc, 1 / (2 * dc));
      }
      gsl_matrix_memcpy(Jl, Rp);
      gsl_matrix_sub(Jl, Rm);
      gsl_matrix_scale(Jl, 1 / (2 * dl));
    } else {
      gsl_matrix_memcpy(Jl, R0);
      gsl_matrix_sub(Jl, Rm);
      gsl_matrix_scale(Jl, 1 / (lambda - lam_prev));
    }
    /* Normal equations, per segment and summed. */
    const size_t k = fit_c ? 2 : 1;
    double A[4] = {0, 0, 0, 0}, g[2] = {0, 0};
    for (size_t sg = 0; sg < w.S; sg++) {
      const size_t r0 = sg * w.npts, r1 = r0 + w.npts;
      As[sg][0] = ir_rows_dot(Jl, Jl, r0, r1);
      gs[sg][0] = ir_rows_dot(Jl, R0, r0, r1);
      As[sg][1] = As[sg][2] = fit_c ? ir_rows_dot(Jl, Jc, r0, r1) : 0;
      As[sg][3] = fit_c ? ir_rows_dot(Jc, Jc, r0, r1) : 0;
      gs[sg][1] = fit_c ? ir_rows_dot(Jc, R0, r0, r1) : 0;
      for (int t = 0; t < 4; t++)
        A[t] += As[sg][t];
      g[0] += gs[sg][0];
      g[1] += gs[sg][1];
    }
    double d[2];
    if (!ir_solve_small(k, A, g, d)) {
      if (fit_c) {
        /* c and λ are not separately identified (one curvature, or
         * collinear sensitivities): hold c and fit λ alone. */
        fit_c = 0;
        have_prev = 0;
        iter--;
        continue;
      }
      s = ir_error(IR_ENOCONV,
                   "fit: the iterates do not depend on lambda (zero "
                   "sensitivity: the window holds no motion to fit)");
      goto done;
    }
    lin_l = lambda;
    lin_c = c;
    res->iterations = iter;
    const int was_polish = polish;
    if (!fit_c && fabs(d[0]) < 1e-3 * fmax(fabs(lambda), p->lambda0))
      polish = 1;
    /* Gauss–Newton, δ = −(JᵀJ)⁻¹JᵀR.  A small step (under 10% of λ) is
     * taken as it is: there the problem is nearly linear, and comparing
     * residuals would only compare the flows' rounding-level jitter.  A
     * large one is taken only if it lowers the residual (a trial whose flow
     * fails counts as worse), halved up to 30 times. */
    const int small = fabs(d[0]) <= 0.1 * fmax(fabs(lambda), p->lambda0) &&
                      (!fit_c || fabs(d[1]) <= 0.1 * c);
    double t = 1, rss_new = INFINITY;
    int accepted = 0;
    for (int bt = 0; bt < 30 && !accepted; bt++, t *= 0.5) {
      const double cl = lambda - t * d[0], cc = fit_c ? c - t * d[1] : c;
      /* Trials far beyond the theory's scale (the expansion has no
       * meaning there, and the flows turn stiff) count as worse. */
      if (!(cc > 0) || fabs(cl) > IR_IGR_LAMBDA_RANGE * p->lambda0)
        continue;
      int st = ir_fit_residuals(&w, cl, cc, 0, Rp, &rss_new, NULL);
      if (st == IR_EDIVERGE || st == IR_ENOCONV) {
        ir_error_clear();
        continue;
      }
      if (st != IR_OK) {
        s = st;
        goto done;
      }
      if (small || rss_new <= rss) {
        accepted = 1;
        if (!fit_c && !polish) {
          /* The current point becomes the secant's previous one. */
          gsl_matrix *tmp = Rm;
          Rm = R0;
          R0 = Rp;
          Rp = tmp;
          lam_prev = lambda;
        } else {
          gsl_matrix *tmp = R0;
          R0 = Rp;
          Rp = tmp;
        }
        lambda = cl;
        c = cc;
        rss = rss_new;
      }
    }
    const double step_l = t * 2 * fabs(d[0]), step_c = t * 2 * fabs(d[1]);
    /* Converged: no step lowers the residual, the step is below 1e-9
     * relative, or a small step no longer shrinks (Gauss–Newton contracts
     * fast on a nearly linear problem; a step that stalls is the flows'
     * integration error, the fit's resolution). */
    const int stalled = small && was_polish && step_l > 0.5 * last_step;
    last_step = step_l;
    if (!accepted) {
      /* Every halving of a large step raised the residual: the linear model
       * points the wrong way (no minimum in reach); λ₀ is no fit. */
      s = ir_error(IR_ENOCONV,
                   "fit: no step from lambda = %g lowers the "
                   "residual: no modified flow follows these "
                   "iterates",
                   lambda);
      goto done;
    }
    if (stalled || ((fit_c || was_polish) &&
                    step_l <= 1e-9 * fmax(fabs(lambda), p->lambda0) &&
                    (!fit_c || step_c <= 1e-9 * c))) {
      res->converged = 1;
      break;
    }
  }
  if (fabs(lambda) > 0.5 * IR_IGR_LAMBDA_RANGE * p->lambda0) {
    s = ir_error(IR_ENOCONV,
                 "fit: lambda ran off to %g times its start %g: no modified "
                 "flow follows these iterates",
                 lambda / p->lambda0, p->lambda0);
    goto done;
  }
  /* Each segment's own estimate and the bootstrap, from the normal
   * equations of the last iteration, linearized at (lin_l, lin_c). */
  const size_t k = fit_c ? 2 : 1;
  {
    double d[2];
    for (size_t sg = 0; sg < w.S; sg++)
      res->seg_lambda[sg] =
          ir_solve_small(k, As[sg], gs[sg], d) ? lin_l - d[0] : NAN;
    size_t nb = 0;
    for (size_t b = 0; b < p->nboot; b++) {
      double Ab[4] = {0, 0, 0, 0}, gb[2] = {0, 0};
      for (size_t j = 0; j < w.S; j++) {
        const size_t sg = (size_t)gsl_rng_uniform_int(rng, (unsigned long)w.S);
        for (int t = 0; t < 4; t++)
          Ab[t] += As[sg][t];
        gb[0] += gs[sg][0];
        gb[1] += gs[sg][1];
      }
      if (ir_solve_small(k, Ab, gb, d)) {
        boot[nb] = lin_l - d[0];
        bootc[nb] = lin_c - (fit_c ? d[1] : 0);
        nb++;
      }
    }
    res->lambda_lo = res->lambda_hi = lambda;
    res->c_lo = res->c_hi = c;
    if (nb >= 2) {
      qsort(boot, nb, sizeof(double), ir_cmp_dbl);
      qsort(bootc, nb, sizeof(double), ir_cmp_dbl);
      const double a = 0.5 * (1 - p->level);
      size_t ilo = (size_t)floor(a * (double)(nb - 1));
      size_t ihi = (size_t)ceil((1 - a) * (double)(nb - 1));
      /* The percentile interval of a statistic that equals the fit on the
       * original sample: widen to contain the fit (bootstrap distributions
       * of a weighted mean can sit beside it by rounding). */
      res->lambda_lo = fmin(boot[ilo], lambda);
      res->lambda_hi = fmax(boot[ihi], lambda);
      if (fit_c) {
        res->c_lo = fmin(bootc[ilo], c);
        res->c_hi = fmax(bootc[ihi], c);
      }
    }
  }
  res->lambda = lambda;
  res->c = c;
  res->c_fitted = fit_c;
  /* The fit's residual with the flows' global-error estimate, and gradient
   * flow's for comparison. */
  if ((s = ir_fit_residuals(&w, lambda, c, 1, R0, &res->rss,
                            &res->global_err)) != IR_OK)
    goto done;
  res->rss_flow = rss_flow;
  if (fit_c || !have_prev || isnan(rss_flow))
    if ((s = ir_fit_residuals(&w, 0.0, c, 0, Rp, &res->rss_flow, NULL)) !=
        IR_OK)
      goto done;
  res->rms = sqrt(res->rss / (double)rows);
  {
    /* The flows' own error moves the fit by up to ‖e‖/‖J_λ‖ with
     * ‖e‖ <= global_err·√rows: the interval includes that. */
    double Jn2 = 0;
    for (size_t sg = 0; sg < w.S; sg++)
      Jn2 += As[sg][0];
    if (Jn2 > 0 && isfinite(res->global_err)) {
      const double widen = res->global_err * sqrt((double)rows) / sqrt(Jn2);
      res->lambda_int = widen;
      res->lambda_lo -= widen;
      res->lambda_hi += widen;
    }
  }
done:
  res->nflows = w.nflows;
  res->nevals = w.nevals;
  free(w.times);
  if (w.phi)
    gsl_matrix_free(w.phi);
  gsl_matrix *mats[] = {R0, Rp, Rm, Jl, Jc};
  for (size_t i = 0; i < 5; i++)
    if (mats[i])
      gsl_matrix_free(mats[i]);
  free(boot);
  free(bootc);
  free(As);
  free(gs);
  ir_rng_free(rng);
  return s;
}

/* ---- The closed-form fit on quadratics
 * --------------------------------------------- */

/* Everything in the eigenbasis A = QΛQᵀ: the rotation keeps distances, so
 * the residual of segment s at time t_i is ‖Qᵀθ_j − u(t_i)‖ with each
 * u_k(t) = β_k/μ_k + (u_k(0) − β_k/μ_k)e^{−c(μ_k + 2λμ_k²)t} in closed form,
 * and so is ∂u_k/∂λ = −2cμ_k² t (u_k(0) − β_k/μ_k) e^{−r_k t}. */
typedef struct {
  size_t n, S, npts;
  const double *mu; /* eigenvalues */
  double mmax;
  const gsl_matrix *U; /* rotated iterates Qᵀθ_j, one row per iterate */
  const double *beta;  /* Qᵀb */
  const size_t *rows0; /* iterate index at each segment start */
  size_t stride;
  double c, h;
} ir_qfit;

/* rss(λ) and its derivative d rss/dλ = −2 Σ r·∂u/∂λ. */
static void ir_qfit_eval(const ir_qfit *q, double lambda, double *rss,
                         double *drss) {
  double ss = 0, ds = 0;
  for (size_t s = 0; s < q->S; s++) {
    const double *u0 = q->U->data + q->rows0[s] * q->U->tda;
    for (size_t i = 0; i < q->npts; i++) {
      const double t = (double)((i + 1) * q->stride) * q->h;
      const double *uj =
          q->U->data + (q->rows0[s] + (i + 1) * q->stride) * q->U->tda;
      for (size_t k = 0; k < q->n; k++) {
        const double mu = q->mu[k];
        double u, du;
        if (fabs(mu) <= 1e-14 * q->mmax) {
          u = u0[k] + q->c * q->beta[k] * t;
          du = 0;
        } else {
          const double star = q->beta[k] / mu;
          const double e = exp(-ir_igr_quad_rate(mu, q->c, lambda) * t);
          u = star + (u0[k] - star) * e;
          du = -2 * q->c * mu * mu * t * (u0[k] - star) * e;
        }
        const double r = uj[k] - u;
        ss += r * r;
        ds += -2 * r * du;
      }
    }
  }
  *rss = ss;
  *drss = ds;
}

int ir_igr_fit_quadratic(const gsl_matrix *A, const gsl_vector *b,
                         const gsl_matrix *iterates, const ir_igr_fit_params *p,
                         double *lambda) {
  const size_t n = A->size1;
  if (A->size2 != n || iterates->size2 != n || iterates->size1 < 2 ||
      (b && b->size != n))
    return ir_error(IR_ESHAPE, "quadratic fit: shapes do not match");
  const size_t end = p->end ? p->end : iterates->size1 - 1;
  if (!(p->h > 0) || !(p->lambda0 > 0) || !(p->c > 0) || p->segments < 1 ||
      p->stride < 1 || end >= iterates->size1 || p->start >= end)
    return ir_error(IR_EINVAL, "quadratic fit: bad parameters or window");
  ir_qfit q;
  memset(&q, 0, sizeof q);
  q.n = n;
  q.S = p->segments;
  const size_t L = (end - p->start) / q.S / p->stride * p->stride;
  if (L == 0)
    return ir_error(IR_EINVAL, "quadratic fit: window too short");
  q.npts = L / p->stride;
  q.stride = p->stride;
  q.c = p->c;
  q.h = p->h;
  ir_eigen_symm *es = ir_eigen_symm_alloc(n);
  gsl_matrix *U = gsl_matrix_alloc(iterates->size1, n);
  gsl_vector *bb = gsl_vector_calloc(n);
  size_t *rows0 = malloc(q.S * sizeof(size_t));
  int s =
      (es && U && bb && rows0) ? IR_OK : ir_error(IR_ENOMEM, "out of memory");
  if (s == IR_OK)
    s = ir_eigen_symm_decomp(es, A);
  if (s != IR_OK)
    goto done;
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, iterates, es->evec, 0.0, U);
  if (b)
    gsl_blas_dgemv(CblasTrans, 1.0, es->evec, b, 0.0, bb);
  for (size_t k = 0; k < n; k++)
    q.mmax = fmax(q.mmax, fabs(gsl_vector_get(es->eval, k)));
  for (size_t sg = 0; sg < q.S; sg++)
    rows0[sg] = p->start + sg * L;
  q.mu = es->eval->data;
  q.U = U;
  q.beta = bb->data;
  q.rows0 = rows0;
  /* A log-spaced scan over λ₀·[1e-4, 1e4] finds the sign change of
   * d rss/dλ next to the smallest rss; bisection on the derivative then
   * pins the root to rounding (the derivative, unlike rss itself, is not
   * flat at the minimum). */
  enum { NSCAN = 161 };
  double best = INFINITY, grid[NSCAN], der[NSCAN];
  size_t ib = 0;
  for (size_t i = 0; i < NSCAN; i++) {
    double r;
    grid[i] = p->lambda0 * pow(10.0, -4.0 + 8.0 * (double)i / (NSCAN - 1));
    ir_qfit_eval(&q, grid[i], &r, &der[i]);
    if (r < best) {
      best = r;
      ib = i;
    }
  }
  size_t lo_i = NSCAN, hi_i = NSCAN;
  if (ib > 0 && der[ib - 1] <= 0 && der[ib] >= 0)
    lo_i = ib - 1, hi_i = ib;
  else if (ib + 1 < NSCAN && der[ib] <= 0 && der[ib + 1] >= 0)
    lo_i = ib, hi_i = ib + 1;
  if (lo_i == NSCAN) {
    s = ir_error(IR_ENOCONV,
                 "quadratic fit: no interior minimum in [%g, %g] (best at %g)",
                 grid[0], grid[NSCAN - 1], grid[ib]);
    goto done;
  }
  double lo = grid[lo_i], hi = grid[hi_i];
  for (int it = 0; it < 200 && hi - lo > 4 * DBL_EPSILON * hi; it++) {
    const double mid = 0.5 * (lo + hi);
    double r, d;
    ir_qfit_eval(&q, mid, &r, &d);
    if (d < 0)
      lo = mid;
    else
      hi = mid;
  }
  *lambda = 0.5 * (lo + hi);
done:
  ir_eigen_symm_free(es);
  if (U)
    gsl_matrix_free(U);
  if (bb)
    gsl_vector_free(bb);
  free(rows0);
  return s;
}

/* ---- Error orders
 * ------------------------------------------------------------------- */

int ir_igr_errors_measure(ir_model *m, const gsl_vector *theta0, double h,
                          double beta, double T, size_t skip,
                          const double *lambda, const ir_flow_params *fp,
                          ir_igr_errors *out) {
  const size_t n = m->nparams;
  if (!(h > 0) || !isfinite(h) || !(beta >= 0 && beta < 1) || !(T > 0))
    return ir_error(IR_EINVAL, "errors: h = %g, beta = %g, T = %g", h, beta, T);
  memset(out, 0, sizeof *out);
  out->h = h;
  out->beta = beta;
  out->c = ir_igr_timescale_hb(beta);
  out->lambda[IR_IGR_FLOW] = 0;
  out->lambda[IR_IGR_MODIFIED] =
      beta > 0 ? ir_igr_lambda_hb(h, beta) : ir_igr_lambda_gd(h);
  out->lambda[IR_IGR_ALTERNATIVE] =
      beta > 0 ? ir_igr_lambda_hb_effective_gd(h, beta) : NAN;
  if (lambda)
    for (int f = 0; f < 3; f++)
      out->lambda[f] = lambda[f];
  out->skip = skip;
  const double kk = round(T / h);
  if (!(kk + (double)skip <= IR_IGR_MAX_STEPS))
    return ir_error(IR_EINVAL,
                    "errors: T/h = %g/%g plus %zu transient steps is more "
                    "than %g steps",
                    T, h, skip, (double)IR_IGR_MAX_STEPS);
  out->k = kk < 1 ? 1 : (size_t)kk;
  out->t = (double)out->k * h;
  for (int f = 0; f < 3; f++)
    out->d_step[f] = out->d_T[f] = out->gerr[f] = NAN;
  ir_optim_params op;
  ir_optim_params_default(&op);
  op.lr = h;
  op.momentum = beta;
  op.max_steps = skip + out->k;
  gsl_matrix *it = gsl_matrix_alloc(op.max_steps + 1, n);
  gsl_matrix *phi = gsl_matrix_alloc(2, n);
  gsl_vector *d = gsl_vector_alloc(n);
  int s = (it && phi && d) ? IR_OK
                           : ir_error(IR_ENOMEM,
                                      "out of memory (%zu x %zu "
                                      "iterates)",
                                      op.max_steps + 1, n);
  ir_optim_result ores;
  if (s == IR_OK)
    s = ir_igr_trajectory(m, &op, theta0, it, &ores);
  const double times[2] = {h, out->t};
  for (int f = 0; f < 3 && s == IR_OK; f++) {
    gsl_vector_const_view start = gsl_matrix_const_row(it, skip);
    if (isnan(out->lambda[f]))
      continue;
    ir_flow_params p = *fp;
    p.c = out->c;
    p.lambda = out->lambda[f];
    p.kappa = 0;
    p.global_error = 1;
    ir_flow_result fr;
    double err[2];
    s = ir_flow_solve(m, &p, &start.vector, times, 2, phi, err, &fr);
    if (s != IR_OK) {
      ir_error_context(s, "flow with lambda = %g from iterate %zu", p.lambda,
                       skip);
      break;
    }
    out->nevals += fr.nevals;
    out->gerr[f] = fr.err_max;
    for (int j = 0; j < 2; j++) {
      gsl_vector_const_view a =
          gsl_matrix_const_row(it, skip + (j ? out->k : 1));
      gsl_vector_view ph = gsl_matrix_row(phi, j);
      gsl_vector_memcpy(d, &a.vector);
      gsl_vector_sub(d, &ph.vector);
      (j ? out->d_T : out->d_step)[f] = gsl_blas_dnrm2(d);
    }
  }
  if (it)
    gsl_matrix_free(it);
  if (phi)
    gsl_matrix_free(phi);
  if (d)
    gsl_vector_free(d);
  return s;
}

/* ---- SGD
 * ------------------------------------------------------------------------- */

int ir_igr_permutations_all(size_t N, size_t **perms, size_t *count) {
  if (N < 1 || N > 9)
    return ir_error(
        IR_EINVAL, "every shuffle of %zu samples: N must be 1..9 (N! rows)", N);
  size_t f = 1;
  for (size_t i = 2; i <= N; i++)
    f *= i;
  size_t *P = malloc(f * N * sizeof(size_t));
  if (P == NULL)
    return ir_error(IR_ENOMEM, "out of memory (%zu permutations)", f);
  size_t *a = P;
  for (size_t i = 0; i < N; i++)
    a[i] = i;
  for (size_t r = 1; r < f; r++) {
    size_t *b = P + r * N;
    memcpy(b, a, N * sizeof(size_t));
    /* Next permutation in lexicographic order. */
    size_t i = N - 1;
    while (i > 0 && b[i - 1] >= b[i])
      i--;
    size_t j = N - 1;
    while (b[j] <= b[i - 1])
      j--;
    size_t t = b[i - 1];
    b[i - 1] = b[j];
    b[j] = t;
    for (size_t lo = i, hi = N - 1; lo < hi; lo++, hi--) {
      t = b[lo];
      b[lo] = b[hi];
      b[hi] = t;
    }
    a = b;
  }
  *perms = P;
  *count = f;
  return IR_OK;
}

int ir_igr_permutations_random(size_t N, size_t S, unsigned long seed,
                               size_t **perms) {
  if (N < 1 || S < 1)
    return ir_error(IR_EINVAL,
                    "random shuffles: N = %zu and S = %zu must be "
                    ">= 1",
                    N, S);
  size_t *P = malloc(S * N * sizeof(size_t));
  if (P == NULL)
    return ir_error(IR_ENOMEM, "out of memory (%zu permutations of %zu)", S, N);
  for (size_t s = 0; s < S; s++) {
    gsl_rng *r = ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_SGD, 90, s));
    if (r == NULL) {
      free(P);
      return IR_EINVAL;
    }
    ir_rng_permutation(r, P + s * N, N);
    ir_rng_free(r);
  }
  *perms = P;
  return IR_OK;
}

int ir_igr_sgd_epochs(ir_model *m, const gsl_vector *theta0, double eps,
                      size_t B, const size_t *perms, size_t S,
                      gsl_matrix *out) {
  const size_t N = m->nsamples, n = m->nparams;
  if (!(eps > 0) || !isfinite(eps))
    return ir_error(IR_EINVAL, "SGD step %g must be > 0", eps);
  if (B < 1 || B > N || N % B != 0)
    return ir_error(IR_EINVAL, "batch size %zu must divide N = %zu", B, N);
  if (out->size1 != S || out->size2 != n || theta0->size != n)
    return ir_error(IR_ESHAPE, "SGD epochs: out must be %zu x %zu", S, n);
  gsl_vector *g = gsl_vector_alloc(n);
  if (g == NULL)
    return ir_error(IR_ENOMEM, "out of memory (SGD)");
  int st = IR_OK;
  for (size_t s = 0; s < S && st == IR_OK; s++) {
    gsl_vector_view w = gsl_matrix_row(out, s);
    gsl_vector_memcpy(&w.vector, theta0);
    for (size_t k = 0; k < N / B && st == IR_OK; k++) {
      double loss;
      st = ir_model_loss_grad(m, &w.vector, perms + s * N + k * B, B, &loss, g);
      if (st == IR_OK)
        gsl_blas_daxpy(-eps, g, &w.vector);
    }
  }
  gsl_vector_free(g);
  return st;
}

/* ‖mean − φ‖ and its Monte-Carlo standard error by the delta method: the
 * variance over shuffles of the epoch-end iterates projected on the unit
 * vector from φ to the mean, divided by S. */
static void ir_sgd_distance(const gsl_matrix *E, const gsl_vector *mean,
                            const gsl_vector *phi, int exact, gsl_vector *u,
                            double *dist, double *se) {
  gsl_vector_memcpy(u, mean);
  gsl_vector_sub(u, phi);
  *dist = gsl_blas_dnrm2(u);
  *se = 0;
  const size_t S = E->size1;
  if (exact || S < 2 || *dist == 0)
    return;
  gsl_vector_scale(u, 1 / *dist);
  double mu, var = 0;
  gsl_blas_ddot(u, mean, &mu);
  for (size_t s = 0; s < S; s++) {
    gsl_vector_const_view r = gsl_matrix_const_row(E, s);
    double v;
    gsl_blas_ddot(u, &r.vector, &v);
    var += (v - mu) * (v - mu);
  }
  var /= (double)(S - 1);
  *se = sqrt(var / (double)S);
}

int ir_igr_sgd_analyze(ir_model *m, const gsl_vector *theta0, double eps,
                       size_t B, const gsl_matrix *epochs, int exact,
                       double level, const ir_flow_params *fp,
                       ir_igr_sgd_result *res) {
  const size_t N = m->nsamples, n = m->nparams, S = epochs->size1;
  if (B < 1 || B > N || N % B != 0 || !(eps > 0))
    return ir_error(IR_EINVAL,
                    "SGD: batch %zu must divide N = %zu, step %g "
                    "> 0",
                    B, N, eps);
  if (epochs->size2 != n || S < 1)
    return ir_error(IR_ESHAPE, "SGD: epochs must be S x %zu", n);
  if (!(level > 0 && level < 1))
    return ir_error(IR_EINVAL, "SGD: level %g not in (0, 1)", level);
  memset(res, 0, sizeof *res);
  res->N = N;
  res->B = B;
  res->nshuffle = S;
  res->exact = exact;
  res->eps = eps;
  res->T = (double)(N / B) * eps;
  res->kappa_theory = ir_igr_kappa_sgd(N, B, eps);
  gsl_vector *mean = gsl_vector_calloc(n), *u = gsl_vector_alloc(n);
  gsl_matrix *phi = gsl_matrix_alloc(1, n), *phip = gsl_matrix_alloc(1, n),
             *phim = gsl_matrix_alloc(1, n);
  double *ks = malloc(S * sizeof(double));
  int s = (mean && u && phi && phip && phim && ks)
              ? IR_OK
              : ir_error(IR_ENOMEM, "out of memory (SGD analysis)");
  if (s != IR_OK)
    goto done;
  for (size_t r = 0; r < S; r++) {
    gsl_vector_const_view row = gsl_matrix_const_row(epochs, r);
    gsl_vector_add(mean, &row.vector);
  }
  gsl_vector_scale(mean, 1 / (double)S);
  ir_flow_params f = *fp;
  f.c = 1;
  f.global_error = 1;
  ir_flow_result fr;
  res->global_err = 0;
  const double lam = ir_igr_lambda_gd(eps);
  const double lams[3] = {0, lam, lam}, kaps[3] = {0, 0, res->kappa_theory};
  double *dist[3] = {&res->dist_flow, &res->dist_gd, &res->dist_sgd};
  double *se[3] = {&res->se_flow, &res->se_gd, &res->se_sgd};
  for (int k = 0; k < 3 && s == IR_OK; k++) {
    f.lambda = lams[k];
    f.kappa = kaps[k];
    s = ir_flow_solve(m, &f, theta0, &res->T, 1, phi, NULL, &fr);
    if (s == IR_OK) {
      res->global_err = fmax(res->global_err, fr.err_max);
      gsl_vector_view ph = gsl_matrix_row(phi, 0);
      ir_sgd_distance(epochs, mean, &ph.vector, exact, u, dist[k], se[k]);
    }
  }
  if (s != IR_OK)
    goto done;
  /* κ by Gauss–Newton on r(κ) = mean − φ_κ(T), central differences. */
  const double scale = eps / (4 * (double)B);
  double kappa = res->kappa_theory, Jn2 = 0;
  f.lambda = lam;
  f.global_error = 0;
  gsl_vector *J = u; /* reused: ∂r/∂κ */
  for (int iter = 0; iter < 12 && s == IR_OK; iter++) {
    const double dk = 0.05 * fmax(fabs(kappa), scale);
    f.kappa = kappa;
    s = ir_flow_solve(m, &f, theta0, &res->T, 1, phi, NULL, &fr);
    if (s == IR_OK) {
      f.kappa = kappa + dk;
      s = ir_flow_solve(m, &f, theta0, &res->T, 1, phip, NULL, &fr);
    }
    if (s == IR_OK) {
      f.kappa = kappa - dk;
      s = ir_flow_solve(m, &f, theta0, &res->T, 1, phim, NULL, &fr);
    }
    if (s != IR_OK)
      break;
    gsl_vector_view a = gsl_matrix_row(phip, 0), b = gsl_matrix_row(phim, 0),
                    c0 = gsl_matrix_row(phi, 0);
    /* J = −∂φ/∂κ, r = mean − φ. */
    gsl_vector_memcpy(J, &b.vector);
    gsl_vector_sub(J, &a.vector);
    gsl_vector_scale(J, 1 / (2 * dk));
    gsl_vector_sub(&c0.vector, mean); /* −r */
    double Jr;
    gsl_blas_ddot(J, &c0.vector, &Jr); /* −Jᵀr */
    Jn2 = 0;
    gsl_blas_ddot(J, J, &Jn2);
    if (!(Jn2 > 0)) {
      s = ir_error(IR_ENOCONV, "SGD: the flow does not depend on kappa");
      break;
    }
    const double d = Jr / Jn2; /* δ = −Jᵀr/JᵀJ */
    kappa += d;
    if (fabs(d) <= 1e-10 * fmax(fabs(kappa), scale))
      break;
  }
  if (s != IR_OK)
    goto done;
  res->kappa = res->kappa_lo = res->kappa_hi = kappa;
  if (!exact && S >= 2) {
    /* Per-shuffle estimates linearized at the fit: κ_s = κ − Jᵀ(θ_s −
     * mean)/JᵀJ; their mean is κ, their spread gives the interval. */
    for (size_t r = 0; r < S; r++) {
      gsl_vector_const_view row = gsl_matrix_const_row(epochs, r);
      double a, b;
      gsl_blas_ddot(J, &row.vector, &a);
      gsl_blas_ddot(J, mean, &b);
      ks[r] = kappa - (a - b) / Jn2;
    }
    ir_summary sum;
    if ((s = ir_stats_summary(ks, S, level, &sum)) != IR_OK)
      goto done;
    const double half = 0.5 * (sum.ci_hi - sum.ci_lo);
    res->kappa_lo = kappa - half;
    res->kappa_hi = kappa + half;
  }
done:
  if (mean)
    gsl_vector_free(mean);
  if (u)
    gsl_vector_free(u);
  gsl_matrix *mm[] = {phi, phip, phim};
  for (int k = 0; k < 3; k++)
    if (mm[k])
      gsl_matrix_free(mm[k]);
  free(ks);
  return s;
}

/* ---- Orders
 * ------------------------------------------------------------------------ */

int ir_igr_order_fit(const double *h, const double *err, size_t n, double level,
                     ir_igr_order *out) {
  double *x = malloc(2 * (n ? n : 1) * sizeof(double));
  if (x == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  double *y = x + n;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(err[i]) && err[i] > 0 && h[i] > 0) {
      x[k] = h[i];
      y[k] = err[i];
      k++;
    }
  memset(out, 0, sizeof *out);
  out->n = k;
  out->slope = out->se = out->lo = out->hi = NAN;
  if (k < 3) {
    free(x);
    return ir_error(IR_EINVAL,
                    "an order needs 3 reported errors, %zu are above the "
                    "integration error",
                    k);
  }
  int s = ir_stats_loglog_slope(x, y, k, &out->slope, &out->se);
  free(x);
  if (s != IR_OK)
    return s;
  const double t = gsl_cdf_tdist_Pinv(0.5 * (1 + level), (double)(k - 2));
  out->lo = out->slope - t * out->se;
  out->hi = out->slope + t * out->se;
  return IR_OK;
}
