/* hstudy.c — the Hessian study of `implreg hessian` on any operator
 * (hstudy.h): measurements, checks, tables, figure and summary.  Moved here
 * from the analysis so that the Python package writes the same report. */
#include "implreg/hstudy.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "implreg/rng.h"
#include "implreg/status.h"

/* Dense spectra above this size are refused (n² doubles plus dsyevr). */
enum { FULL_MAX_N = 6000 };
/* The density grid: 1000 points over the nodes' range (and the dense
 * spectrum's), widened by 5σ on each side. */
enum { NGRID = 1000 };

void ir_hstudy_params_default(ir_hstudy_params *p) {
  memset(p, 0, sizeof *p);
  p->top = 1;
  p->tol = 1e-10;
  p->max_hvp = 5000;
  p->probes = 100;
  p->slq_runs = 10;
  p->slq_steps = 90;
  p->seed = 1;
  p->theta_max = 1;
}

void ir_hstudy_free(ir_hstudy *h) {
  if (h == NULL)
    return;
  ir_eig_result_free(h->top);
  ir_eig_result_free(h->bottom);
  ir_slq_result_free(h->slq);
  free(h->spectrum);
  free(h);
}

static void progress(const ir_hstudy_params *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void progress(const ir_hstudy_params *p, const char *fmt, ...) {
  if (p->progress == NULL)
    return;
  char msg[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  p->progress(p->progress_ctx, msg);
}

/* ---- measurements ------------------------------------------------------- */

/* Two Rademacher vectors u, v (stream 90): uᵀ(Hv) against vᵀ(Hu), a cheap
 * end-to-end test that the products form a symmetric operator. */
static int symmetry_probe(ir_hstudy *h, ir_linop *op) {
  const size_t n = h->n;
  double *u = malloc(n * sizeof(double)), *v = malloc(n * sizeof(double)),
         *hu = malloc(n * sizeof(double)), *hv = malloc(n * sizeof(double));
  gsl_rng *r = ir_rng_alloc(h->p.seed, ir_rng_stream(IR_STREAM_PROBE, 90, 0));
  int s = (u && v && hu && hv && r) ? IR_OK
                                    : ir_error(IR_ENOMEM, "out of memory");
  for (size_t j = 0; s == IR_OK && j < n; j++) {
    u[j] = gsl_rng_uniform_int(r, 2) ? 1.0 : -1.0;
    v[j] = gsl_rng_uniform_int(r, 2) ? 1.0 : -1.0;
  }
  if (s == IR_OK)
    s = ir_linop_apply(op, u, hu);
  if (s == IR_OK)
    s = ir_linop_apply(op, v, hv);
  if (s == IR_OK) {
    double a = 0, b = 0, l1 = 0;
    for (size_t j = 0; j < n; j++) {
      a += u[j] * hv[j];
      b += v[j] * hu[j];
      l1 += fabs(hu[j]) + fabs(hv[j]);
    }
    h->sym_u_hv = a;
    h->sym_v_hu = b;
    h->sym_l1 = l1;
  }
  ir_rng_free(r);
  free(u);
  free(v);
  free(hu);
  free(hv);
  return s;
}

/* Hv for a random unit v (stream 92) against central differences of the
 * gradient, (∇L(θ + εv) − ∇L(θ − εv))/(2ε), extrapolated (Richardson,
 * steps ε and 2ε): an HVP from gradients alone, independent of the
 * R-operator.  fd_err = ‖R − Hv‖/‖Hv‖; fd_trunc = ‖D(2ε) − D(ε)‖/‖Hv‖,
 * the ε² term that R removes, an upper estimate of R's own error. */
static int fd_check(ir_hstudy *h, ir_linop *op) {
  const size_t n = h->n;
  double *buf = malloc(6 * n * sizeof(double));
  gsl_rng *r = ir_rng_alloc(h->p.seed, ir_rng_stream(IR_STREAM_PROBE, 92, 0));
  int s = (buf && r) ? IR_OK : ir_error(IR_ENOMEM, "out of memory");
  double *v = buf, *hv = buf + n, *gp = buf + 2 * n, *gm = buf + 3 * n,
         *d1 = buf + 4 * n, *d2 = buf + 5 * n;
  for (size_t j = 0; s == IR_OK && j < n; j++)
    v[j] = (gsl_rng_uniform_int(r, 2) ? 1.0 : -1.0) / sqrt((double)n);
  if (s == IR_OK)
    s = ir_linop_apply(op, v, hv);
  /* ε = eps^(1/3)·max(1, ‖θ‖_∞): balances the ε² truncation against the
   * eps/ε rounding of the gradient difference. */
  const double eps = cbrt(DBL_EPSILON) * fmax(1.0, h->p.theta_max);
  for (int k = 1; s == IR_OK && k <= 2; k++) {
    const double e = k * eps;
    double *d = k == 1 ? d1 : d2;
    s = h->p.grad(h->p.grad_ctx, v, e, gp);
    if (s == IR_OK)
      s = h->p.grad(h->p.grad_ctx, v, -e, gm);
    for (size_t j = 0; s == IR_OK && j < n; j++)
      d[j] = (gp[j] - gm[j]) / (2 * e);
  }
  if (s == IR_OK) {
    double hn = 0, trunc = 0, err = 0;
    for (size_t j = 0; j < n; j++) {
      const double R = (4 * d1[j] - d2[j]) / 3;
      hn += hv[j] * hv[j];
      trunc += (d2[j] - d1[j]) * (d2[j] - d1[j]);
      err += (R - hv[j]) * (R - hv[j]);
    }
    hn = fmax(sqrt(hn), DBL_MIN);
    h->fd_err = sqrt(err) / hn;
    h->fd_trunc = sqrt(trunc) / hn;
    h->fd_eps = eps;
    h->fd_done = 1;
  }
  ir_rng_free(r);
  free(buf);
  return s;
}

/* Lanczos from the stream named by the end and k (so a rerun with other
 * stages gives the same pairs). */
static int lanczos(ir_hstudy *h, ir_linop *op, ir_eig_which which, size_t k,
                   double tol, int certify, ir_eig_result **out) {
  ir_lanczos_params lp;
  ir_lanczos_params_default(&lp);
  lp.k = k;
  lp.which = which;
  lp.tol = tol;
  lp.max_matvec = h->p.max_hvp;
  lp.seed = h->p.seed;
  lp.stream = ir_rng_stream(IR_STREAM_PROBE, 10 + (uint64_t)which, k);
  lp.certify = certify;
  return ir_lanczos_eigs(op, &lp, out);
}

static int validate(const ir_linop *op, const ir_hstudy_params *p) {
  if (op == NULL || op->apply == NULL || op->n == 0)
    return ir_error(IR_EINVAL, "Hessian study: no operator (n = 0 or no "
                               "product function)");
  if (p->top > op->n || p->bottom > op->n)
    return ir_error(IR_EINVAL,
                    "Hessian study: top = %zu / bottom = %zu eigenvalues "
                    "asked of a %zu-dimensional operator",
                    p->top, p->bottom, op->n);
  if (!(p->tol > 0 && p->tol < 1))
    return ir_error(IR_EINVAL, "Hessian study: tol = %g, need 0 < tol < 1",
                    p->tol);
  if (p->trace && p->probes < 4)
    return ir_error(IR_EINVAL,
                    "Hessian study: %zu probes; the trace needs >= 4 (Hutch++ "
                    "splits its budget in thirds and needs >= 2 probes for "
                    "its standard error)",
                    p->probes);
  if (p->density && (p->slq_runs == 0 || p->slq_steps == 0))
    return ir_error(IR_EINVAL, "Hessian study: the density needs >= 1 SLQ run "
                               "and >= 1 step");
  if (p->full && op->n > FULL_MAX_N)
    return ir_error(IR_EINVAL,
                    "Hessian study: a dense spectrum needs n <= %d; n = %zu "
                    "(%.1f GB): use top, trace or density",
                    FULL_MAX_N, op->n, 8e-9 * (double)op->n * (double)op->n);
  if (!(p->sigma2 <= 0 || isfinite(p->sigma2)))
    return ir_error(IR_EINVAL, "Hessian study: sigma2 = %g is not finite",
                    p->sigma2);
  return IR_OK;
}

int ir_hstudy_run(ir_linop *op, const ir_hstudy_params *p, ir_hstudy **out) {
  *out = NULL;
  int s = validate(op, p);
  if (s != IR_OK)
    return s;
  ir_hstudy *h = calloc(1, sizeof *h);
  if (h == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  h->p = *p;
  h->n = op->n;
  const size_t n = op->n;
  s = symmetry_probe(h, op);
  if (s == IR_OK && p->grad)
    s = fd_check(h, op);
  double t0 = ir_wall_time();
  if (s == IR_OK && p->top > 0) {
    progress(p, "Lanczos: %zu largest eigenvalues", p->top);
    s = lanczos(h, op, IR_EIG_LARGEST, p->top, p->tol, 1, &h->top);
  }
  if (s == IR_OK && p->bottom > 0) {
    progress(p, "Lanczos: %zu smallest eigenvalues", p->bottom);
    s = lanczos(h, op, IR_EIG_SMALLEST, p->bottom, p->tol, 1, &h->bottom);
  }
  if (s == IR_OK && (p->top > 0 || p->power)) {
    /* A second method for λ_max: power iteration to a residual of
     * 1e-8·|λ| (it converges to the largest |λ|; compared only when that
     * is positive). */
    progress(p, "power iteration (residual rule 1e-8)");
    s = ir_power_iteration(op, IR_POWER_RESIDUAL, 1e-8, p->max_hvp, p->seed,
                           ir_rng_stream(IR_STREAM_PROBE, 40, 0), NULL,
                           &h->pw_check);
  }
  h->t_eig = ir_wall_time() - t0;
  t0 = ir_wall_time();
  if (s == IR_OK && p->trace) {
    progress(p, "Hutchinson trace, %zu probes", p->probes);
    s = ir_trace_hutchinson(op, p->probes, p->seed,
                            ir_rng_stream(IR_STREAM_PROBE, 20, 0), &h->hutch);
    if (s == IR_OK)
      s = ir_trace_hutchpp(op, p->probes, p->seed,
                           ir_rng_stream(IR_STREAM_PROBE, 21, 0), &h->hpp);
  }
  h->t_trace = ir_wall_time() - t0;
  t0 = ir_wall_time();
  if (s == IR_OK && p->density) {
    const size_t steps = p->slq_steps < n ? p->slq_steps : n;
    progress(p, "SLQ density, %zu runs x %zu steps", p->slq_runs, steps);
    s = ir_slq(op, p->slq_runs, steps, p->seed,
               ir_rng_stream(IR_STREAM_PROBE, 30, 0), &h->slq);
    if (s == IR_OK)
      h->sigma2 = p->sigma2 > 0 ? p->sigma2
                                : 1e-5 * fmax(1.0, h->slq->lmax - h->slq->lmin);
  }
  h->t_slq = ir_wall_time() - t0;
  t0 = ir_wall_time();
  if (s == IR_OK && p->full) {
    progress(p, "dense Hessian, %zu x %zu", n, n);
    h->spectrum = malloc(n * sizeof(double));
    /* No refusal threshold (HUGE_VAL): the asymmetry is a check's
     * measurement, which must be able to FAIL rather than stop the run;
     * the spectrum is then that of the symmetrized matrix. */
    s = h->spectrum ? ir_dense_spectrum(op, HUGE_VAL, h->spectrum, NULL,
                                        &h->asym)
                    : ir_error(IR_ENOMEM, "out of memory (spectrum)");
  }
  h->t_full = ir_wall_time() - t0;
  t0 = ir_wall_time();
  if (s == IR_OK && p->power) {
    progress(p, "power iteration and Lanczos to 1e-8");
    s = ir_power_iteration(op, IR_POWER_PYHESSIAN, 1e-3, 100, p->seed,
                           ir_rng_stream(IR_STREAM_PROBE, 40, 0), NULL,
                           &h->pw_pyh);
    ir_eig_result *e = NULL;
    if (s == IR_OK)
      s = lanczos(h, op, IR_EIG_LARGEST, 1, 1e-8, 0, &e);
    if (s == IR_OK) {
      h->lanczos_1e8 = e->nmatvec;
      h->lanczos_1e8_value = e->values[0];
      h->lanczos_1e8_res = e->residuals[0];
    }
    ir_eig_result_free(e);
  }
  h->t_power = ir_wall_time() - t0;
  if (s != IR_OK) {
    ir_hstudy_free(h);
    return s;
  }
  *out = h;
  return IR_OK;
}

/* ---- checks ------------------------------------------------------------- */

static double exact_trace(const ir_hstudy *h) {
  double tr = 0;
  for (size_t i = 0; i < h->n; i++)
    tr += h->spectrum[i];
  return tr;
}

int ir_hstudy_checks(const ir_hstudy *h, ir_checks *c) {
  const size_t p = h->n;
  /* |uᵀHv − vᵀHu| for Rademacher u, v is rounding only: each product
   * carries ~(m + p)·eps relative to |H||v| elementwise, and the dot
   * products add p terms, so the bound is 10(m + p)·eps·(‖Hv‖₁ + ‖Hu‖₁).
   * Catches a product that is not symmetric (a wrong transpose, a term
   * added on one side). */
  const size_t m = h->p.nsamples ? h->p.nsamples : p;
  int s = IR_OK;
  /* With the dense matrix its whole symmetry is checked below; the probe
   * would be implied by it. */
  if (!h->spectrum)
    s = ir_checks_add_max(
        c, "HVP is symmetric: |u'Hv - v'Hu| (Rademacher u, v)",
        "Pearlmutter 1994 (exact R-operator)", 0.0,
        fabs(h->sym_u_hv - h->sym_v_hu),
        10.0 * (double)(m + p) * DBL_EPSILON * h->sym_l1);
  /* The HVP against gradients alone.  The extrapolated difference is
   * accurate to O(ε⁴) + rounding eps·‖∇L‖/ε; the tolerance is ten times
   * the ε² term it removed (which bounds its remaining error by orders of
   * magnitude) plus 1e-6 for the rounding of the gradient differences.
   * Catches a product off by a scale or a missing term. */
  if (s == IR_OK && h->fd_done) {
    char claim[200];
    snprintf(claim, sizeof claim,
             "HVP equals central differences of the gradient along a random "
             "unit v (Richardson, steps %.2g and %.2g): ||R - Hv||/||Hv||",
             h->fd_eps, 2 * h->fd_eps);
    s = ir_checks_add_max(c, claim,
                          "Pearlmutter 1994; docs/theory.md 8 (independent of "
                          "the R-operator)",
                          0.0, h->fd_err, 10 * h->fd_trunc + 1e-6);
  }
  /* Lanczos's largest eigenvalue against power iteration: each value lies
   * within its residual of an eigenvalue, so two that belong to the same
   * eigenvalue differ by at most the sum of the residuals (plus rounding
   * of the Rayleigh quotients, p·eps·|λ|).  Lanczos reporting an interior
   * eigenvalue, or one off by a scale, fails; a power iteration that did
   * not converge, or converged to a negative eigenvalue of larger
   * magnitude, makes no claim. */
  if (s == IR_OK && h->top && h->pw_check.converged &&
      h->pw_check.value > 0) {
    const double lz = h->top->values[0], pw = h->pw_check.value;
    const double tol = h->top->residuals[0] + h->pw_check.residual +
                       (double)p * DBL_EPSILON * fabs(pw);
    char claim[200];
    snprintf(claim, sizeof claim,
             "largest eigenvalue: Lanczos against power iteration (residual "
             "<= 1e-8 lambda, %zu HVPs), within the sum of their residuals",
             h->pw_check.nmatvec);
    s = ir_checks_add_abs(c, claim,
                          "docs/theory.md 8 (a second method; residual "
                          "bound for symmetric H)",
                          pw, lz, tol);
  }
  /* Hutchinson (quadratic forms, when the operator has them) and Hutch++
   * (products) are unbiased for the same trace from independent probes:
   * their difference has standard error sqrt(se1² + se2²).  With the dense
   * spectrum each is checked against the exact trace instead. */
  if (s == IR_OK && h->hutch.nprobe && h->hpp.nmatvec && !h->spectrum) {
    const double se = sqrt(h->hutch.se * h->hutch.se + h->hpp.se * h->hpp.se);
    s = ir_checks_add_abs(c,
                          h->hutch.nquad
                              ? "Hutchinson trace (quadratic forms) within 3 "
                                "standard errors of Hutch++ (products)"
                              : "Hutchinson trace within 3 standard errors of "
                                "Hutch++ (independent probes)",
                          "Hutchinson 1989; Meyer et al. 2021 "
                          "arXiv:2010.09649; docs/theory.md 8",
                          h->hpp.trace, h->hutch.trace, 3 * se);
  }
  const ir_eig_result *e[2] = {h->top, h->bottom};
  const char *nm[2] = {"top", "bottom"};
  if (s == IR_OK && h->spectrum) {
    /* A Ritz value with residual r lies within r of an eigenvalue
     * (symmetric matrices); the dense eigenvalues carry ~p·eps·‖H‖ of
     * rounding. */
    const double floor =
        (double)p * DBL_EPSILON *
        fmax(fabs(h->spectrum[p - 1]), fabs(h->spectrum[0]));
    for (int i = 0; i < 2 && s == IR_OK; i++) {
      if (e[i] == NULL)
        continue;
      double worst = 0, bound = 0;
      int pass = 1;
      for (size_t k = 0; k < e[i]->k; k++) {
        double exact = i == 0 ? h->spectrum[p - 1 - k] : h->spectrum[k];
        double err = fabs(e[i]->values[k] - exact);
        double lim = e[i]->residuals[k] + floor;
        pass = pass && err <= lim;
        worst = fmax(worst, err);
        bound = fmax(bound, lim);
      }
      char claim[160];
      snprintf(claim, sizeof claim,
               "Lanczos %s eigenvalues within their residuals (+ p eps "
               "||H||) of the dense spectrum",
               nm[i]);
      s = ir_checks_add(c, claim, "dense dsyevr (independent)", 0.0, worst,
                        bound, pass);
    }
    const double tr = exact_trace(h);
    if (s == IR_OK && h->hutch.nprobe)
      s = ir_checks_add_abs(c,
                            "Hutchinson trace within 3 standard errors of the "
                            "exact trace",
                            "Hutchinson 1989; docs/theory.md 8", tr,
                            h->hutch.trace, 3 * h->hutch.se);
    if (s == IR_OK && h->hpp.nmatvec)
      s = ir_checks_add_abs(c,
                            "Hutch++ trace within 3 standard errors of the "
                            "exact trace",
                            "Meyer et al. 2021 arXiv:2010.09649; "
                            "docs/theory.md 8",
                            tr, h->hpp.trace, 3 * h->hpp.se);
    if (s == IR_OK)
      s = ir_checks_add_max(c,
                            "dense Hessian from HVP columns is symmetric "
                            "(max|H - H'| / max|H|)",
                            "Pearlmutter 1994", 0.0, h->asym, 1e-10);
  }
  return s;
}

/* ---- tables, figure, summary -------------------------------------------- */

static void eig_rows(ir_table *t, const char *which, const ir_eig_result *e) {
  if (e == NULL)
    return;
  for (size_t i = 0; i < e->k; i++) {
    ir_table_add_row(t);
    ir_table_set_string(t, 0, which);
    ir_table_set_int(t, 1, (long)i + 1);
    ir_table_set_double(t, 2, e->values[i]);
    ir_table_set_double(t, 3, e->residuals[i]);
    ir_table_set_double(t, 4, e->residuals[i] / fmax(e->anorm, DBL_MIN));
    ir_table_set_string(t, 5, e->converged[i] ? "yes" : "no");
    ir_table_set_string(t, 6, e->certified ? "yes" : "no");
    ir_table_set_int(t, 7, (long)e->nmatvec);
  }
}

static ir_table *eigen_table(const ir_hstudy *h, const ir_hstudy_info *info) {
  ir_table *t = ir_table_alloc("eigenvalues", "Extreme Hessian eigenvalues "
                                              "(Lanczos, full "
                                              "reorthogonalization)");
  if (t == NULL)
    return NULL;
  ir_table_add_column(t, "end", IR_COL_STRING,
                      "top: largest; bottom: "
                      "smallest (most negative)");
  ir_table_add_column(t, "rank", IR_COL_INT, "1 = the extreme one");
  ir_table_add_column(t, "eigenvalue", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "residual", IR_COL_DOUBLE,
                      "explicit ||Hv - lambda v||_2, v of unit norm");
  ir_table_add_column(t, "rel_residual", IR_COL_DOUBLE,
                      "residual / ||H||_est (largest |Ritz value|)");
  ir_table_add_column(t, "converged", IR_COL_STRING, NULL);
  ir_table_add_column(t, "certified", IR_COL_STRING,
                      "yes: a deflated Lanczos run found nothing beyond "
                      "these values, so they are the extreme ones with "
                      "multiplicity");
  ir_table_add_column(t, "hvps", IR_COL_INT,
                      "Hessian-vector products of all runs at this end");
  char note[320];
  snprintf(note, sizeof note,
           "loss: %s; converged when residual <= %g * "
           "||H||_est",
           info->loss_formula ? info->loss_formula : "(not given)", h->p.tol);
  ir_table_add_note(t, note);
  eig_rows(t, "top", h->top);
  eig_rows(t, "bottom", h->bottom);
  return t;
}

static void trace_row(ir_table *t, const char *name, double tr, double se,
                      size_t hvps, size_t quads) {
  ir_table_add_row(t);
  ir_table_set_string(t, 0, name);
  ir_table_set_double(t, 1, tr);
  ir_table_set_double(t, 2, se);
  ir_table_set_double(t, 3, tr - 1.96 * se);
  ir_table_set_double(t, 4, tr + 1.96 * se);
  ir_table_set_int(t, 5, (long)hvps);
  ir_table_set_int(t, 6, (long)quads);
}

static ir_table *trace_table(const ir_hstudy *h) {
  ir_table *t = ir_table_alloc("trace", "Hessian trace estimates");
  if (t == NULL)
    return NULL;
  ir_table_add_column(t, "estimator", IR_COL_STRING, NULL);
  ir_table_add_column(t, "trace", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "se", IR_COL_DOUBLE,
                      "standard error over the probe vectors");
  ir_table_add_column(t, "ci95_low", IR_COL_DOUBLE, "trace - 1.96 se");
  ir_table_add_column(t, "ci95_high", IR_COL_DOUBLE, "trace + 1.96 se");
  ir_table_add_column(t, "hvps", IR_COL_INT, "Hessian-vector products");
  ir_table_add_column(t, "quad_forms", IR_COL_INT,
                      "z'Hz by forward mode (second derivative along z, "
                      "about half an HVP)");
  if (h->p.trace) {
    trace_row(t, "Hutchinson (Rademacher)", h->hutch.trace, h->hutch.se,
              h->hutch.nmatvec, h->hutch.nquad);
    trace_row(t, "Hutch++", h->hpp.trace, h->hpp.se, h->hpp.nmatvec,
              h->hpp.nquad);
  }
  if (h->slq)
    trace_row(t, "SLQ (n * sum tau theta)", h->slq->trace_est,
              h->slq->trace_se, h->slq->nmatvec, 0);
  if (h->spectrum)
    trace_row(t, "exact (dense spectrum)", exact_trace(h), 0.0, h->n, 0);
  return t;
}

static int density_tables(const ir_hstudy *h, ir_table **dt, ir_table **nt,
                          double *grid, double *dens, double *se,
                          double *dense_dens) {
  const ir_slq_result *r = h->slq;
  double lo = r->lmin, hi = r->lmax;
  const size_t p = h->n;
  if (h->spectrum) {
    lo = fmin(lo, h->spectrum[0]);
    hi = fmax(hi, h->spectrum[p - 1]);
  }
  double sig = sqrt(h->sigma2);
  lo -= 5 * sig;
  hi += 5 * sig;
  for (size_t j = 0; j < NGRID; j++)
    grid[j] = lo + (hi - lo) * (double)j / (NGRID - 1);
  int s = ir_slq_density(r, h->sigma2, grid, NGRID, dens, se);
  if (s != IR_OK)
    return s;
  if (h->spectrum) {
    /* The same smoothing applied to the exact eigenvalues: the quadrature
     * whose nodes are all p eigenvalues, each of weight 1/p. */
    double *w = malloc(p * sizeof(double));
    size_t cnt = p;
    if (w == NULL)
      return ir_error(IR_ENOMEM, "out of memory");
    for (size_t i = 0; i < p; i++)
      w[i] = 1.0 / (double)p;
    ir_slq_result exact = {.nruns = 1,
                           .nsteps = p,
                           .nodes = h->spectrum,
                           .weights = w,
                           .nnodes = &cnt,
                           .lmin = h->spectrum[0],
                           .lmax = h->spectrum[p - 1]};
    s = ir_slq_density(&exact, h->sigma2, grid, NGRID, dense_dens, NULL);
    free(w);
    if (s != IR_OK)
      return s;
  }
  *dt = ir_table_alloc("density", "Hessian spectral density (stochastic "
                                  "Lanczos quadrature, Gaussian smoothing)");
  *nt =
      ir_table_alloc("slq_nodes", "SLQ quadrature nodes and weights, per run");
  if (*dt == NULL || *nt == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  ir_table_add_column(*dt, "t", IR_COL_DOUBLE, "eigenvalue axis");
  ir_table_add_column(*dt, "density", IR_COL_DOUBLE,
                      "mean over runs of sum_k tau_k g_sigma(t - theta_k)");
  ir_table_add_column(*dt, "se", IR_COL_DOUBLE, "standard error over runs");
  if (h->spectrum)
    ir_table_add_column(*dt, "exact", IR_COL_DOUBLE,
                        "the dense spectrum with the same smoothing");
  char note[160];
  snprintf(note, sizeof note, "%zu runs x %zu steps, sigma^2 = %.4g", r->nruns,
           r->nsteps, h->sigma2);
  ir_table_add_note(*dt, note);
  for (size_t j = 0; j < NGRID; j++) {
    ir_table_add_row(*dt);
    ir_table_set_double(*dt, 0, grid[j]);
    ir_table_set_double(*dt, 1, dens[j]);
    ir_table_set_double(*dt, 2, se[j]);
    if (h->spectrum)
      ir_table_set_double(*dt, 3, dense_dens[j]);
  }
  ir_table_add_column(*nt, "run", IR_COL_INT, NULL);
  ir_table_add_column(*nt, "k", IR_COL_INT, NULL);
  ir_table_add_column(*nt, "node", IR_COL_DOUBLE,
                      "eigenvalue of the tridiagonal T_m (Ritz value)");
  ir_table_add_column(*nt, "weight", IR_COL_DOUBLE,
                      "squared first component of its eigenvector");
  for (size_t run = 0; run < r->nruns; run++)
    for (size_t k = 0; k < r->nnodes[run]; k++) {
      ir_table_add_row(*nt);
      ir_table_set_int(*nt, 0, (long)run + 1);
      ir_table_set_int(*nt, 1, (long)k + 1);
      ir_table_set_double(*nt, 2, r->nodes[run * r->nsteps + k]);
      ir_table_set_double(*nt, 3, r->weights[run * r->nsteps + k]);
    }
  return IR_OK;
}

static ir_table *spectrum_table(const ir_hstudy *h) {
  ir_table *t = ir_table_alloc("spectrum", "Dense Hessian spectrum "
                                           "(ascending, dsyevr)");
  if (t == NULL)
    return NULL;
  ir_table_add_column(t, "index", IR_COL_INT, NULL);
  ir_table_add_column(t, "eigenvalue", IR_COL_DOUBLE, NULL);
  for (size_t i = 0; i < h->n; i++) {
    ir_table_add_row(t);
    ir_table_set_int(t, 0, (long)i + 1);
    ir_table_set_double(t, 1, h->spectrum[i]);
  }
  return t;
}

static void est_row(ir_table *t, const char *est, const char *qty,
                    double estimate, double exact, size_t hvps) {
  ir_table_add_row(t);
  ir_table_set_string(t, 0, est);
  ir_table_set_string(t, 1, qty);
  ir_table_set_double(t, 2, estimate);
  ir_table_set_double(t, 3, exact);
  ir_table_set_double(t, 4, fabs(estimate - exact));
  /* A distance (exact 0) has no relative error. */
  ir_table_set_double(t, 5,
                      exact != 0 ? fabs(estimate - exact) / fabs(exact) : NAN);
  ir_table_set_int(t, 6, (long)hvps);
}

/* Each estimator's error against the dense spectrum. */
static ir_table *estimator_table(const ir_hstudy *h, const double *dens,
                                 const double *dense_dens, const double *grid) {
  ir_table *t = ir_table_alloc("estimators", "Each estimator against the "
                                             "dense spectrum");
  if (t == NULL)
    return NULL;
  ir_table_add_column(t, "estimator", IR_COL_STRING, NULL);
  ir_table_add_column(t, "quantity", IR_COL_STRING, NULL);
  ir_table_add_column(t, "estimate", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "exact", IR_COL_DOUBLE, "from the dense spectrum");
  ir_table_add_column(t, "abs_error", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "rel_error", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "hvps", IR_COL_INT,
                      "Hessian-vector products, or quadratic forms z'Hz for "
                      "the traces");
  const size_t p = h->n;
  char q[64];
  for (size_t i = 0; h->top && i < h->top->k; i++) {
    snprintf(q, sizeof q, "lambda_%zu (top)", i + 1);
    est_row(t, "Lanczos", q, h->top->values[i], h->spectrum[p - 1 - i],
            h->top->nmatvec);
  }
  for (size_t i = 0; h->bottom && i < h->bottom->k; i++) {
    snprintf(q, sizeof q, "lambda_%zu (bottom)", i + 1);
    est_row(t, "Lanczos", q, h->bottom->values[i], h->spectrum[i],
            h->bottom->nmatvec);
  }
  const double tr = exact_trace(h);
  if (h->hutch.nprobe)
    est_row(t, "Hutchinson", "trace", h->hutch.trace, tr,
            h->hutch.nmatvec + h->hutch.nquad);
  if (h->hpp.nmatvec)
    est_row(t, "Hutch++", "trace", h->hpp.trace, tr,
            h->hpp.nmatvec + h->hpp.nquad);
  if (h->slq) {
    est_row(t, "SLQ", "trace", h->slq->trace_est, tr, h->slq->nmatvec);
    est_row(t, "SLQ", "lambda_max (largest node)", h->slq->lmax,
            h->spectrum[p - 1], h->slq->nmatvec);
    est_row(t, "SLQ", "lambda_min (smallest node)", h->slq->lmin,
            h->spectrum[0], h->slq->nmatvec);
    /* L1 distance of the smoothed densities (trapezoid rule). */
    double l1 = 0, dx = grid[1] - grid[0];
    for (size_t j = 0; j < NGRID; j++)
      l1 += (j == 0 || j == NGRID - 1 ? 0.5 : 1.0) * dx *
            fabs(dens[j] - dense_dens[j]);
    est_row(t, "SLQ", "density, L1 distance", l1, 0.0, h->slq->nmatvec);
  }
  if (h->pw_pyh.nmatvec) {
    est_row(t, "power (PyHessian rule)", "lambda_max", h->pw_pyh.value,
            h->spectrum[p - 1], h->pw_pyh.nmatvec);
    est_row(t, "power (residual rule)", "lambda_max", h->pw_check.value,
            h->spectrum[p - 1], h->pw_check.nmatvec);
  }
  return t;
}

static ir_table *power_table(const ir_hstudy *h) {
  ir_table *t = ir_table_alloc("power", "lambda_max: Hessian-vector products "
                                        "needed, power iteration against "
                                        "Lanczos");
  if (t == NULL)
    return NULL;
  ir_table_add_column(t, "method", IR_COL_STRING, NULL);
  ir_table_add_column(t, "stopping_rule", IR_COL_STRING, NULL);
  ir_table_add_column(t, "lambda_max", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "residual", IR_COL_DOUBLE,
                      "explicit ||Hv - lambda v||");
  ir_table_add_column(t, "rel_residual", IR_COL_DOUBLE, "residual / lambda");
  ir_table_add_column(t, "hvps", IR_COL_INT, NULL);
  ir_table_add_column(t, "converged", IR_COL_STRING, NULL);
  const ir_power_result *r[2] = {&h->pw_pyh, &h->pw_check};
  const char *rule[2] = {"rel. change of Rayleigh quotient < 1e-3, <= 100 "
                         "its (PyHessian)",
                         "residual <= 1e-8 lambda"};
  for (int i = 0; i < 2; i++) {
    ir_table_add_row(t);
    ir_table_set_string(t, 0, "power iteration");
    ir_table_set_string(t, 1, rule[i]);
    ir_table_set_double(t, 2, r[i]->value);
    ir_table_set_double(t, 3, r[i]->residual);
    ir_table_set_double(t, 4,
                        r[i]->residual / fmax(fabs(r[i]->value), DBL_MIN));
    ir_table_set_int(t, 5, (long)r[i]->nmatvec);
    ir_table_set_string(t, 6, r[i]->converged ? "yes" : "no");
  }
  ir_table_add_row(t);
  ir_table_set_string(t, 0, "Lanczos");
  ir_table_set_string(t, 1, "residual <= 1e-8 ||H||_est");
  ir_table_set_double(t, 2, h->lanczos_1e8_value);
  ir_table_set_double(t, 3, h->lanczos_1e8_res);
  ir_table_set_double(
      t, 4, h->lanczos_1e8_res / fmax(fabs(h->lanczos_1e8_value), DBL_MIN));
  ir_table_set_int(t, 5, (long)h->lanczos_1e8);
  ir_table_set_string(t, 6,
                      h->lanczos_1e8_res <=
                              1e-8 * fabs(h->lanczos_1e8_value) * 1.0001
                          ? "yes"
                          : "no");
  return t;
}

static int write_density_figure(const ir_hstudy *h, const double *grid,
                                const double *dens, const double *dense_dens,
                                const char *dir) {
  ir_figure *f = ir_figure_alloc("density", "Hessian spectral density (SLQ)",
                                 "eigenvalue", "density (log scale)");
  if (f == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  ir_figure_set_log(f, 0, 1);
  ir_figure_set_key(f, "bottom right");
  /* A log axis over Gaussian tails reaches denormals that gnuplot cannot
   * scale: the figure floors the densities at 1e-8 of the peak (the table
   * keeps the values). */
  double *a = malloc(NGRID * sizeof(double)),
         *b = malloc(NGRID * sizeof(double));
  if (a == NULL || b == NULL) {
    free(a);
    free(b);
    ir_figure_free(f);
    return ir_error(IR_ENOMEM, "out of memory");
  }
  double peak = 0;
  for (size_t j = 0; j < NGRID; j++)
    peak = fmax(peak, fmax(dens[j], h->spectrum ? dense_dens[j] : 0.0));
  for (size_t j = 0; j < NGRID; j++) {
    a[j] = fmax(dens[j], 1e-8 * peak);
    b[j] = h->spectrum ? fmax(dense_dens[j], 1e-8 * peak) : NAN;
  }
  int s = ir_figure_add_series(f, "SLQ (dashed line: λ_max)", grid, a, NGRID,
                               "lines");
  if (s == IR_OK && h->spectrum)
    s = ir_figure_add_series(f, "dense spectrum, same smoothing", grid, b,
                             NGRID, "lines dashtype 2");
  free(a);
  free(b);
  if (s == IR_OK && h->top)
    s = ir_figure_add_vline(f, h->top->values[0], "");
  int rendered;
  if (s == IR_OK)
    s = ir_figure_write(f, dir, 1, &rendered);
  ir_figure_free(f);
  return s;
}

static void json_str_or_null(ir_json *j, const char *key, const char *v) {
  if (v)
    ir_json_string(j, key, v);
  else
    ir_json_null(j, key);
}

/* summary.json: the keys every consumer of a Hessian study reads. */
static int write_summary(const ir_hstudy *h, const ir_hstudy_info *info,
                         const char *dir) {
  ir_json *j = ir_json_alloc();
  if (j == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  ir_json_begin_object(j, NULL);
  json_str_or_null(j, "arch", info->model);
  json_str_or_null(j, "act", info->act);
  json_str_or_null(j, "loss_name", info->loss_name);
  json_str_or_null(j, "loss_formula", info->loss_formula);
  json_str_or_null(j, "data", info->data);
  ir_json_int(j, "n_samples", (long)info->n_samples);
  ir_json_int(j, "hessian_samples", (long)info->hessian_samples);
  ir_json_int(j, "n_params", (long)h->n);
  ir_json_number(j, "loss", info->loss);
  ir_json_number(j, "grad_norm", info->grad_norm);
  if (!isnan(info->subset_loss))
    ir_json_number(j, "subset_loss", info->subset_loss);
  const ir_eig_result *e[2] = {h->top, h->bottom};
  const char *key[2] = {"top", "bottom"},
             *rkey[2] = {"top_residuals", "bottom_residuals"};
  const char *ckey[2] = {"top_converged", "bottom_converged"};
  for (int i = 0; i < 2; i++) {
    ir_json_begin_array(j, key[i]);
    for (size_t k = 0; e[i] && k < e[i]->k; k++)
      ir_json_number(j, NULL, e[i]->values[k]);
    ir_json_end_array(j);
    ir_json_begin_array(j, rkey[i]);
    for (size_t k = 0; e[i] && k < e[i]->k; k++)
      ir_json_number(j, NULL, e[i]->residuals[k]);
    ir_json_end_array(j);
    ir_json_begin_array(j, ckey[i]);
    for (size_t k = 0; e[i] && k < e[i]->k; k++)
      ir_json_bool(j, NULL, e[i]->converged[k]);
    ir_json_end_array(j);
    if (e[i] != NULL)
      ir_json_bool(j, i == 0 ? "top_certified" : "bottom_certified",
                   e[i]->certified);
  }
  if (h->p.trace) {
    ir_json_number(j, "trace", h->hutch.trace);
    ir_json_number(j, "trace_se", h->hutch.se);
    ir_json_int(j, "trace_probes", (long)h->hutch.nprobe);
    ir_json_int(j, "trace_hvps", (long)h->hutch.nmatvec);
    ir_json_int(j, "trace_quad_forms", (long)h->hutch.nquad);
    ir_json_number(j, "trace_hutchpp", h->hpp.trace);
    ir_json_number(j, "trace_hutchpp_se", h->hpp.se);
  } else {
    ir_json_null(j, "trace");
    ir_json_null(j, "trace_se");
  }
  if (h->slq) {
    ir_json_begin_object(j, "density");
    ir_json_int(j, "runs", (long)h->slq->nruns);
    ir_json_int(j, "steps", (long)h->slq->nsteps);
    ir_json_number(j, "sigma2", h->sigma2);
    ir_json_number(j, "lambda_min_node", h->slq->lmin);
    ir_json_number(j, "lambda_max_node", h->slq->lmax);
    ir_json_string(j, "table", "density.csv");
    ir_json_string(j, "nodes", "slq_nodes.csv");
    ir_json_end_object(j);
  }
  if (h->spectrum) {
    ir_json_begin_array(j, "spectrum");
    for (size_t i = 0; i < h->n; i++)
      ir_json_number(j, NULL, h->spectrum[i]);
    ir_json_end_array(j);
  }
  if (info->boot && info->nboot > 0) {
    double *b = malloc(info->nboot * sizeof(double));
    if (b) {
      memcpy(b, info->boot, info->nboot * sizeof(double));
      gsl_sort(b, 1, info->nboot);
      ir_json_begin_object(j, "lambda_max_bootstrap");
      ir_json_int(j, "resamples", (long)info->nboot);
      ir_json_number(j, "mean", gsl_stats_mean(b, 1, info->nboot));
      ir_json_number(j, "se",
                     info->nboot > 1 ? gsl_stats_sd(b, 1, info->nboot) : 0.0);
      ir_json_number(
          j, "ci95_low",
          gsl_stats_quantile_from_sorted_data(b, 1, info->nboot, 0.025));
      ir_json_number(
          j, "ci95_high",
          gsl_stats_quantile_from_sorted_data(b, 1, info->nboot, 0.975));
      ir_json_end_object(j);
      free(b);
    }
  }
  ir_json_int(j, "hvps_top", h->top ? (long)h->top->nmatvec : 0);
  ir_json_int(j, "hvps_bottom", h->bottom ? (long)h->bottom->nmatvec : 0);
  ir_json_end_object(j);
  char path[4200];
  snprintf(path, sizeof path, "%s/summary.json", dir);
  int s = ir_json_write(j, path);
  ir_json_free(j);
  return s;
}

/* The columns and headers a paper shows (report.h, ir_table_set_paper);
 * the CSV keeps every column. */
static const char *const hstudy_paper[] = {
    "estimators: estimator,quantity,estimate,exact,rel_error=rel. "
    "error,hvps=HVPs",
    "power: method,stopping_rule=stopping rule,lambda_max=$\\lambda_{\\max}$,"
    "rel_residual=$\\|Hv - \\lambda v\\|/\\lambda$,hvps=HVPs,converged",
    NULL};

int ir_hstudy_write(const ir_hstudy *h, const ir_hstudy_info *info,
                    const char *dir, int formats) {
  ir_table *tabs[7] = {NULL};
  double *grid = NULL, *dens = NULL, *dse = NULL, *ddens = NULL;
  size_t nt = 0;
  int s = IR_OK;
  if ((h->top || h->bottom) && (tabs[nt++] = eigen_table(h, info)) == NULL)
    s = ir_error(IR_ENOMEM, "out of memory");
  if (s == IR_OK && (h->p.trace || h->slq || h->spectrum) &&
      (tabs[nt++] = trace_table(h)) == NULL)
    s = ir_error(IR_ENOMEM, "out of memory");
  if (s == IR_OK && h->slq) {
    grid = malloc(NGRID * sizeof(double));
    dens = malloc(NGRID * sizeof(double));
    dse = malloc(NGRID * sizeof(double));
    ddens = calloc(NGRID, sizeof(double));
    if (!grid || !dens || !dse || !ddens)
      s = ir_error(IR_ENOMEM, "out of memory");
    else {
      s = density_tables(h, &tabs[nt], &tabs[nt + 1], grid, dens, dse, ddens);
      nt += 2;
    }
  }
  if (s == IR_OK && h->spectrum &&
      ((tabs[nt++] = spectrum_table(h)) == NULL ||
       (tabs[nt++] = estimator_table(h, dens, ddens, grid)) == NULL))
    s = ir_error(IR_ENOMEM, "out of memory");
  if (s == IR_OK && h->p.power && (tabs[nt++] = power_table(h)) == NULL)
    s = ir_error(IR_ENOMEM, "out of memory");
  for (size_t i = 0; s == IR_OK && i < nt; i++)
    if ((s = ir_table_set_paper_from(tabs[i], hstudy_paper)) == IR_OK)
      s = ir_table_write(tabs[i], dir, formats);
  if (s == IR_OK && h->slq)
    s = write_density_figure(h, grid, dens, ddens, dir);
  if (s == IR_OK)
    s = write_summary(h, info, dir);
  for (size_t i = 0; i < 7; i++)
    ir_table_free(tabs[i]);
  free(grid);
  free(dens);
  free(dse);
  free(ddens);
  return s;
}
