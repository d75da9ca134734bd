/* an_hessian.c — `implreg hessian`: curvature of a trained network someone
 * already has.  Loads θ (PyTorch layout) and data, then measures the loss,
 * ‖∇L‖, extreme eigenpairs with explicit residuals (Lanczos), the trace
 * (Hutchinson, Hutch++), the spectral density (SLQ) and, for small p, the
 * dense spectrum with every estimator's error against it.  The numerics
 * are library calls (mlp.h, curvature.h); this file orchestrates and
 * reports.
 */
#include <float.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "cli.h"
#include "netio.h"

static const char *const AN = "hessian";
static const char *const PROG = "implreg hessian";

/* Test hook.  IMPLREG_BREAK (comma-separated names) breaks one computation
 * on purpose, as a plausible bug would, so that tests/cli_hessian.sh can
 * show which checks catch it: "hvp-scale" (every Hessian-vector product
 * scaled by 1 + 1e-3), "hvp-asym" (an asymmetric term 1e-3·|H|·x_1 added
 * to the first component of every product), "lanczos" (the Lanczos
 * eigenvalues scaled by 1 + 1e-3 after the run), "quad" (the forward-mode
 * quadratic forms z'Hz of the trace doubled, as a forgotten 1/2 would).
 * Never set it otherwise. */

/* Dense Hessians above this size are refused (p² doubles plus dsyevr). */
enum { FULL_MAX_P = 6000 };

static const char help[] =
    "Usage: implreg hessian --arch D-H-...-K --params THETA.npy\n"
    "         (--X FILE --Y FILE | --data fashion-mnist|teacher)\n"
    "         [--top K] [--bottom K] [--trace] [--density] [--full] "
    "[options]\n\n"
    "Curvature of the training loss at given weights: loss, gradient norm,\n"
    "the extreme Hessian eigenvalues with residuals ||Hv - lambda v||\n"
    "(Lanczos with full reorthogonalization on exact Hessian-vector "
    "products),\n"
    "the trace (Hutchinson, with its standard error), the spectral density\n"
    "(stochastic Lanczos quadrature) and, for small models, the dense "
    "spectrum\n"
    "with each estimator's error against it.  THETA is a .npy (or .csv) in\n"
    "PyTorch's layout: export it with\n"
    "  np.save('theta.npy', torch.cat([p.detach().flatten() for p in\n"
    "          model.parameters()]).double().numpy())\n\n"
    "Curvature options:\n"
    "  --params FILE      the weights (required, unless --from-run)\n"
    "  --from-run DIR     the folder of an `implreg train` run: its --arch,\n"
    "                     --act, --loss, data (--data/--X/--Y/--n/--x-scale)\n"
    "                     and --seed, and its weights (the run's --save, else\n"
    "                     DIR/theta.npy); options given here win.  --config\n"
    "                     DIR/manifest.json of a train run does the same\n"
    "  --top K            K largest eigenvalues (default 1; 0: none); the\n"
    "                     largest is checked against power iteration to a\n"
    "                     residual of 1e-8 lambda (up to --max-hvp products)\n"
    "  --bottom K         K smallest (most negative) eigenvalues (default 0)\n"
    "  --tol T            eigenpairs converge when ||Hv - lambda v|| <= "
    "T*||H||\n"
    "                     (default 1e-10)\n"
    "  --max-hvp N        Lanczos budget per end of the spectrum (default "
    "5000)\n"
    "  --trace            the trace by Hutchinson (forward-mode z'Hz) and by\n"
    "                     Hutch++ (products), each with its standard error;\n"
    "                     the two are checked against each other\n"
    "  --probes P         Rademacher probes (Hutchinson), and the products\n"
    "                     of Hutch++ (default 100)\n"
    "  --hutchpp          the same as --trace\n"
    "  --density          spectral density by stochastic Lanczos quadrature\n"
    "  --slq-runs R       SLQ runs (default 10)\n"
    "  --slq-steps S      Lanczos steps per run (default 90)\n"
    "  --sigma2 S         Gaussian smoothing variance (default\n"
    "                     1e-5*max(1, lambda_max - lambda_min))\n"
    "  --full             dense Hessian and its whole spectrum (p <= 6000),\n"
    "                     and every estimator's error against it\n"
    "  --power            also power iteration, with PyHessian's stopping "
    "rule\n"
    "                     and with a residual rule, and the Hessian-vector\n"
    "                     products each needs against Lanczos (to 1e-8)\n"
    "  --subset M         take the Hessian on M samples drawn without\n"
    "                     replacement (default: all)\n"
    "  --bootstrap B      with --subset: bootstrap lambda_max over B "
    "resamples\n"
    "                     of the subset (default 20)\n"
    "  --save-vectors F   write the eigenvectors (top ones, then bottom ones)\n"
    "                     as a .npy of shape (k, p), one per row, in theta's\n"
    "                     layout (default: not written)\n\n";

enum {
  OPT_PARAMS = 1,
  OPT_TOP,
  OPT_BOTTOM,
  OPT_TOL,
  OPT_MAXHVP,
  OPT_TRACE,
  OPT_PROBES,
  OPT_HUTCHPP,
  OPT_DENSITY,
  OPT_SLQRUNS,
  OPT_SLQSTEPS,
  OPT_SIGMA2,
  OPT_FULL,
  OPT_POWER,
  OPT_SUBSET,
  OPT_BOOT,
  OPT_SAVEVEC
};

typedef struct {
  ir_cli_common common;
  ir_net_opts net;
  const char *params, *save_vectors;
  size_t top, bottom, max_hvp, probes, slq_runs, slq_steps, subset, boot;
  double tol, sigma2;
  int trace, hutchpp, density, full, power;
} hs_opts;

static int parse(int argc, char **argv, hs_opts *o, ir_cli_config *cfg) {
  static const struct option longopts[] = {
      IR_NET_OPTIONS,
      {"params", required_argument, NULL, OPT_PARAMS},
      {"top", required_argument, NULL, OPT_TOP},
      {"bottom", required_argument, NULL, OPT_BOTTOM},
      {"tol", required_argument, NULL, OPT_TOL},
      {"max-hvp", required_argument, NULL, OPT_MAXHVP},
      {"trace", no_argument, NULL, OPT_TRACE},
      {"probes", required_argument, NULL, OPT_PROBES},
      {"hutchpp", no_argument, NULL, OPT_HUTCHPP},
      {"density", no_argument, NULL, OPT_DENSITY},
      {"slq-runs", required_argument, NULL, OPT_SLQRUNS},
      {"slq-steps", required_argument, NULL, OPT_SLQSTEPS},
      {"sigma2", required_argument, NULL, OPT_SIGMA2},
      {"full", no_argument, NULL, OPT_FULL},
      {"power", no_argument, NULL, OPT_POWER},
      {"subset", required_argument, NULL, OPT_SUBSET},
      {"bootstrap", required_argument, NULL, OPT_BOOT},
      {"save-vectors", required_argument, NULL, OPT_SAVEVEC},
      IR_CLI_COMMON_OPTIONS,
      {NULL, 0, NULL, 0}};
  char full_help[sizeof help + 4096];
  snprintf(full_help, sizeof full_help, "%s%s\n", help, ir_net_help);
  optind = 1;
  opterr = 0;
  int c, r;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    if ((r = ir_net_option(PROG, &o->net, c, optarg, cfg)) != 1) {
      if (r != 0)
        return r;
      continue;
    }
    switch (c) {
    case OPT_PARAMS:
      o->params = optarg;
      ir_cli_config_set(cfg, "params", "%s", optarg);
      break;
    case OPT_TOP:
      if (ir_cli_size(PROG, "top", optarg, 0, 1000, &o->top))
        return IR_EXIT_USAGE;
      break;
    case OPT_BOTTOM:
      if (ir_cli_size(PROG, "bottom", optarg, 0, 1000, &o->bottom))
        return IR_EXIT_USAGE;
      break;
    case OPT_TOL:
      if (ir_cli_double(PROG, "tol", optarg, 1e-15, 0.1, &o->tol))
        return IR_EXIT_USAGE;
      break;
    case OPT_MAXHVP:
      if (ir_cli_size(PROG, "max-hvp", optarg, 1, 100000000, &o->max_hvp))
        return IR_EXIT_USAGE;
      break;
    case OPT_TRACE: o->trace = o->hutchpp = 1; break;
    case OPT_PROBES:
      if (ir_cli_size(PROG, "probes", optarg, 2, 100000000, &o->probes))
        return IR_EXIT_USAGE;
      break;
    case OPT_HUTCHPP: o->hutchpp = o->trace = 1; break;
    case OPT_DENSITY: o->density = 1; break;
    case OPT_SLQRUNS:
      if (ir_cli_size(PROG, "slq-runs", optarg, 1, 100000, &o->slq_runs))
        return IR_EXIT_USAGE;
      break;
    case OPT_SLQSTEPS:
      if (ir_cli_size(PROG, "slq-steps", optarg, 1, 100000, &o->slq_steps))
        return IR_EXIT_USAGE;
      break;
    case OPT_SIGMA2:
      if (ir_cli_double(PROG, "sigma2", optarg, DBL_MIN, 1e300, &o->sigma2))
        return IR_EXIT_USAGE;
      break;
    case OPT_FULL: o->full = 1; break;
    case OPT_POWER: o->power = 1; break;
    case OPT_SUBSET:
      if (ir_cli_size(PROG, "subset", optarg, 1, 100000000, &o->subset))
        return IR_EXIT_USAGE;
      break;
    case OPT_SAVEVEC:
      o->save_vectors = optarg;
      ir_cli_config_set(cfg, "save-vectors", "%s", optarg);
      break;
    case OPT_BOOT:
      if (ir_cli_size(PROG, "bootstrap", optarg, 0, 100000, &o->boot))
        return IR_EXIT_USAGE;
      break;
    default:
      if ((r = ir_cli_default_option(PROG, &o->common, c, optarg, argv,
                                     full_help)) != 0)
        return r;
    }
  }
  if ((r = ir_net_finish(PROG, argc, argv, &o->common, &o->net)) != 0)
    return r;
  if (o->params == NULL)
    return ir_cli_usage_error(PROG, "--params FILE is required (the weights "
                                    "to measure; see --help for the layout)");
  if (o->save_vectors != NULL) {
    /* Refused before any computation: the folder must exist. */
    char *copy = strdup(o->save_vectors);
    const char *dir = copy ? dirname(copy) : ".";
    struct stat sb;
    int ok =
        stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && access(dir, W_OK) == 0;
    if (!ok)
      fprintf(stderr,
              "%s: --save-vectors %s: folder %s does not exist or is not "
              "writable\n",
              PROG, o->save_vectors, dir);
    free(copy);
    if (!ok)
      return IR_EXIT_USAGE;
  }
  const size_t p = ir_mlp_nparams(&o->net.arch);
  if (o->full && p > FULL_MAX_P)
    return ir_cli_usage_error(PROG,
                              "--full needs p <= %d; this network has %zu "
                              "parameters (a dense Hessian of %.1f GB): use "
                              "--top/--trace/--density",
                              FULL_MAX_P, p, 8e-9 * (double)p * (double)p);
  if (o->top > p || o->bottom > p)
    return ir_cli_usage_error(PROG, "--top/--bottom exceed the %zu parameters",
                              p);
  if (o->probes == 0)
    o->probes = 100;
  if (o->hutchpp && o->probes < 3)
    o->probes = 3;
  ir_cli_config_common(cfg, &o->common);
  ir_cli_config_set(cfg, "top", "%zu", o->top);
  ir_cli_config_set(cfg, "bottom", "%zu", o->bottom);
  char b[40];
  ir_cli_config_set(cfg, "tol", "%s", ir_cli_fmt_double(b, sizeof b, o->tol));
  ir_cli_config_set(cfg, "max-hvp", "%zu", o->max_hvp);
  if (o->trace) {
    ir_cli_config_set(cfg, "trace", "true");
    ir_cli_config_set(cfg, "probes", "%zu", o->probes);
  }
  if (o->hutchpp)
    ir_cli_config_set(cfg, "hutchpp", "true");
  if (o->density) {
    ir_cli_config_set(cfg, "density", "true");
    ir_cli_config_set(cfg, "slq-runs", "%zu", o->slq_runs);
    ir_cli_config_set(cfg, "slq-steps", "%zu", o->slq_steps);
    if (o->sigma2 > 0)
      ir_cli_config_set(cfg, "sigma2", "%s",
                        ir_cli_fmt_double(b, sizeof b, o->sigma2));
  }
  if (o->full)
    ir_cli_config_set(cfg, "full", "true");
  if (o->power)
    ir_cli_config_set(cfg, "power", "true");
  if (o->subset) {
    ir_cli_config_set(cfg, "subset", "%zu", o->subset);
    ir_cli_config_set(cfg, "bootstrap", "%zu", o->boot);
  }
  return 0;
}

/* ---- the measurements ------------------------------------------------------
 */

typedef struct {
  ir_model *m;
  gsl_vector *theta;
  size_t *idx, nb; /* the Hessian's batch (NULL: all samples) */
  double loss, grad_norm, batch_loss;
  ir_eig_result *top, *bottom;
  ir_trace_result hutch, hpp;
  ir_slq_result *slq;
  double sigma2;
  double *spectrum; /* --full: ascending */
  double asym;
  double sym_u_hv, sym_v_hu, sym_l1; /* uᵀHv, vᵀHu, ‖Hv‖₁ + ‖Hu‖₁ */
  ir_power_result pw_pyh, pw_res;
  ir_power_result pw_chk; /* residual-rule power iteration, the check's */
  int fd_done;            /* the finite-difference HVP check ran */
  double fd_err, fd_trunc, fd_eps; /* its relative error, truncation
                                      estimate and step */
  size_t lanczos_1e8;
  double lanczos_1e8_value, lanczos_1e8_res;
  double *boot;
  size_t nboot;
  double t_eig, t_trace, t_slq, t_full, t_power;
} hs_state;

static void state_free(hs_state *st) {
  ir_model_free(st->m);
  if (st->theta)
    gsl_vector_free(st->theta);
  free(st->idx);
  ir_eig_result_free(st->top);
  ir_eig_result_free(st->bottom);
  ir_slq_result_free(st->slq);
  free(st->spectrum);
  free(st->boot);
}

/* The Hessian operator, wrapped when an IMPLREG_BREAK names it. */
typedef struct {
  ir_linop inner;
  double asym; /* hvp-asym: coefficient of the x_1 term added to y_0 */
} brk_op;

static int brk_apply(void *ctx, const double *x, double *y) {
  brk_op *b = ctx;
  int s = b->inner.apply(b->inner.ctx, x, y);
  if (s == IR_OK && ir_cli_broken("hvp-scale"))
    for (size_t j = 0; j < b->inner.n; j++)
      y[j] *= 1 + 1e-3;
  if (s == IR_OK && ir_cli_broken("hvp-asym") && b->inner.n > 1)
    y[0] += b->asym * x[1];
  return s;
}

static int brk_quad(void *ctx, const double *X, double *q, size_t r) {
  brk_op *b = ctx;
  int s = b->inner.quad_many(b->inner.ctx, X, q, r);
  for (size_t j = 0; s == IR_OK && j < r; j++)
    q[j] *= 2;
  return s;
}

/* The Hessian on (idx, nb) as an operator; h and b are the caller's
 * storage and must outlive it. */
static ir_linop make_op(hs_state *st, const size_t *idx, size_t nb,
                        ir_hessian_op *h, brk_op *b) {
  h->model = st->m;
  h->theta = st->theta;
  h->idx = idx;
  h->nb = nb;
  ir_linop op = ir_linop_hessian(h);
  const int any = ir_cli_broken("hvp-scale") || ir_cli_broken("hvp-asym") ||
                  (ir_cli_broken("quad") && op.quad_many != NULL);
  if (!any)
    return op;
  b->inner = op;
  b->asym = 1e-3 * (1.0 + fabs(st->loss));
  ir_linop w = {op.n, brk_apply, b, 0, NULL, NULL, 0};
  if (ir_cli_broken("quad") && op.quad_many != NULL)
    w.quad_many = brk_quad;
  return w;
}

static ir_linop hessian_op(hs_state *st, ir_hessian_op *h, brk_op *b) {
  return make_op(st, st->idx, st->nb, h, b);
}

/* uᵀ(Hv) against vᵀ(Hu) for two Rademacher vectors: a cheap end-to-end
 * check that the HVP is a symmetric operator at this θ. */
static int symmetry_probe(hs_state *st, unsigned long seed) {
  const size_t p = st->m->nparams;
  gsl_vector *u = gsl_vector_alloc(p), *v = gsl_vector_alloc(p),
             *hu = gsl_vector_alloc(p), *hv = gsl_vector_alloc(p);
  gsl_rng *r = ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_PROBE, 90, 0));
  int s =
      (u && v && hu && hv && r) ? IR_OK : ir_error(IR_ENOMEM, "out of memory");
  for (size_t j = 0; s == IR_OK && j < p; j++) {
    u->data[j] = gsl_rng_uniform_int(r, 2) ? 1.0 : -1.0;
    v->data[j] = gsl_rng_uniform_int(r, 2) ? 1.0 : -1.0;
  }
  ir_hessian_op h;
  brk_op b;
  ir_linop op = hessian_op(st, &h, &b);
  if (s == IR_OK)
    s = ir_linop_apply(&op, u->data, hu->data);
  if (s == IR_OK)
    s = ir_linop_apply(&op, v->data, hv->data);
  if (s == IR_OK) {
    gsl_blas_ddot(u, hv, &st->sym_u_hv);
    gsl_blas_ddot(v, hu, &st->sym_v_hu);
    st->sym_l1 = gsl_blas_dasum(hu) + gsl_blas_dasum(hv);
  }
  ir_rng_free(r);
  gsl_vector_free(u);
  gsl_vector_free(v);
  gsl_vector_free(hu);
  gsl_vector_free(hv);
  return s;
}

static int run_lanczos(hs_state *st, const hs_opts *o, ir_eig_which which,
                       size_t k, double tol, int certify, const double *v0,
                       const size_t *idx, size_t nb, ir_eig_result **out) {
  ir_hessian_op h;
  brk_op b;
  ir_linop op = make_op(st, idx, nb, &h, &b);
  ir_lanczos_params lp;
  ir_lanczos_params_default(&lp);
  lp.k = k;
  lp.which = which;
  lp.tol = tol;
  lp.max_matvec = o->max_hvp;
  lp.seed = o->common.seed;
  lp.stream = ir_rng_stream(IR_STREAM_PROBE, 10 + (uint64_t)which, k);
  lp.v0 = v0;
  lp.certify = certify;
  int s = ir_lanczos_eigs(&op, &lp, out);
  if (s == IR_OK && ir_cli_broken("lanczos"))
    for (size_t i = 0; i < (*out)->k; i++)
      (*out)->values[i] *= 1 + 1e-3;
  return s;
}

/* Percentile bootstrap of λ_max over resamples of the subset (with
 * replacement), each Lanczos run warm-started from the subset's top
 * eigenvector so that it costs a few dozen products. */
static int bootstrap(hs_state *st, const hs_opts *o) {
  const size_t p = st->m->nparams;
  st->boot = malloc(o->boot * sizeof(double));
  size_t *ib = malloc(st->nb * sizeof(size_t));
  double *v0 = malloc(p * sizeof(double));
  if (v0)
    for (size_t j = 0; j < p; j++)
      v0[j] = gsl_matrix_get(st->top->vectors, j, 0);
  gsl_rng *r =
      ir_rng_alloc(o->common.seed, ir_rng_stream(IR_STREAM_DATA, 91, st->nb));
  int s = (st->boot && ib && r && v0) ? IR_OK
                                      : ir_error(IR_ENOMEM, "out of memory");
  for (size_t b = 0; s == IR_OK && b < o->boot; b++) {
    for (size_t i = 0; i < st->nb; i++)
      ib[i] = st->idx[gsl_rng_uniform_int(r, st->nb)];
    ir_eig_result *e = NULL;
    s = run_lanczos(st, o, IR_EIG_LARGEST, 1, o->tol, 0, v0, ib, st->nb,
                    &e); /* a warm-started tracker: nothing to certify */
    if (s == IR_OK) {
      st->boot[b] = e->values[0];
      st->nboot = b + 1;
    }
    ir_eig_result_free(e);
    ir_cli_progress(&o->common, AN, "bootstrap %zu/%zu", b + 1, o->boot);
  }
  ir_rng_free(r);
  free(ib);
  free(v0);
  return s;
}

/* Hv for a random unit v against central differences of the gradient,
 * (∇L(θ + εv) − ∇L(θ − εv))/(2ε), extrapolated (Richardson, steps ε and
 * 2ε) — an HVP computed without the R-operator, from gradients alone.
 * Only for smooth activations: with ReLU the gradient jumps where a
 * pre-activation changes sign, and a step that crosses one gives O(1/ε).
 * fd_err = ‖R − Hv‖/‖Hv‖ with R the extrapolated difference; fd_trunc =
 * ‖D(2ε) − D(ε)‖/‖Hv‖, the size of the ε² term that R removes, an upper
 * estimate of R's own error. */
static int fd_check(hs_state *st, const hs_opts *o) {
  const size_t p = st->m->nparams;
  gsl_vector *v = gsl_vector_alloc(p), *hv = gsl_vector_alloc(p),
             *tp = gsl_vector_alloc(p), *gp = gsl_vector_alloc(p),
             *gm = gsl_vector_alloc(p), *d1 = gsl_vector_alloc(p),
             *d2 = gsl_vector_alloc(p);
  gsl_rng *r = ir_rng_alloc(o->common.seed, ir_rng_stream(IR_STREAM_PROBE, 92, 0));
  int s = (v && hv && tp && gp && gm && d1 && d2 && r)
              ? IR_OK
              : ir_error(IR_ENOMEM, "out of memory");
  for (size_t j = 0; s == IR_OK && j < p; j++)
    v->data[j] = (gsl_rng_uniform_int(r, 2) ? 1.0 : -1.0) / sqrt((double)p);
  ir_hessian_op h;
  brk_op b;
  ir_linop op = hessian_op(st, &h, &b);
  if (s == IR_OK)
    s = ir_linop_apply(&op, v->data, hv->data);
  /* ε = eps^(1/3)·max(1, ‖θ‖_∞): balances the ε² truncation against the
   * eps/ε rounding of the gradient difference. */
  double tmax = 1;
  for (size_t j = 0; j < p; j++)
    tmax = fmax(tmax, fabs(st->theta->data[j]));
  const double eps = cbrt(DBL_EPSILON) * tmax;
  for (int k = 1; s == IR_OK && k <= 2; k++) {
    const double e = k * eps;
    gsl_vector *d = k == 1 ? d1 : d2;
    double l;
    gsl_vector_memcpy(tp, st->theta);
    gsl_blas_daxpy(e, v, tp);
    s = ir_model_loss_grad(st->m, tp, st->idx, st->nb, &l, gp);
    if (s != IR_OK)
      break;
    gsl_vector_memcpy(tp, st->theta);
    gsl_blas_daxpy(-e, v, tp);
    s = ir_model_loss_grad(st->m, tp, st->idx, st->nb, &l, gm);
    if (s != IR_OK)
      break;
    gsl_vector_memcpy(d, gp);
    gsl_vector_sub(d, gm);
    gsl_vector_scale(d, 1 / (2 * e));
  }
  if (s == IR_OK) {
    const double hn = gsl_blas_dnrm2(hv);
    double trunc = 0, err = 0;
    for (size_t j = 0; j < p; j++) {
      const double R = (4 * d1->data[j] - d2->data[j]) / 3;
      trunc += (d2->data[j] - d1->data[j]) * (d2->data[j] - d1->data[j]);
      err += (R - hv->data[j]) * (R - hv->data[j]);
    }
    st->fd_err = sqrt(err) / fmax(hn, DBL_MIN);
    st->fd_trunc = sqrt(trunc) / fmax(hn, DBL_MIN);
    st->fd_eps = eps;
    st->fd_done = 1;
  }
  ir_rng_free(r);
  gsl_vector *all[7] = {v, hv, tp, gp, gm, d1, d2};
  for (int i = 0; i < 7; i++)
    if (all[i])
      gsl_vector_free(all[i]);
  return s;
}

static int measure(hs_state *st, const hs_opts *o) {
  const size_t p = st->m->nparams;
  gsl_vector *g = gsl_vector_alloc(p);
  if (g == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  int s = ir_model_loss_grad(st->m, st->theta, NULL, 0, &st->loss, g);
  st->grad_norm = s == IR_OK ? gsl_blas_dnrm2(g) : NAN;
  gsl_vector_free(g);
  if (s == IR_OK && !(isfinite(st->loss) && isfinite(st->grad_norm)))
    s = ir_error(IR_EBADDATA,
                 "the loss or its gradient is not finite at these weights");
  st->batch_loss = st->loss;
  if (s == IR_OK && st->idx)
    s = ir_model_loss_grad(st->m, st->theta, st->idx, st->nb, &st->batch_loss,
                           NULL);
  if (s == IR_OK)
    s = symmetry_probe(st, o->common.seed);
  if (s == IR_OK && o->net.arch.act != IR_ACT_RELU)
    s = fd_check(st, o);
  double t0 = ir_wall_time();
  if (s == IR_OK && o->top > 0) {
    ir_cli_progress(&o->common, AN, "Lanczos: %zu largest eigenvalues", o->top);
    s = run_lanczos(st, o, IR_EIG_LARGEST, o->top, o->tol, 1, NULL, st->idx,
                    st->nb, &st->top);
  }
  if (s == IR_OK && o->bottom > 0) {
    ir_cli_progress(&o->common, AN, "Lanczos: %zu smallest eigenvalues",
                    o->bottom);
    s = run_lanczos(st, o, IR_EIG_SMALLEST, o->bottom, o->tol, 1, NULL, st->idx,
                    st->nb, &st->bottom);
  }
  if (s == IR_OK && (o->top > 0 || o->power)) {
    /* A second method for λ_max: power iteration to a residual of
     * 1e-8·|λ| (it converges to the largest |λ|; compared only when that
     * is positive). */
    ir_hessian_op hc;
    brk_op bc;
    ir_linop opc = hessian_op(st, &hc, &bc);
    ir_cli_progress(&o->common, AN, "power iteration (residual rule 1e-8)");
    s = ir_power_iteration(&opc, IR_POWER_RESIDUAL, 1e-8, o->max_hvp,
                           o->common.seed, ir_rng_stream(IR_STREAM_PROBE, 40, 0),
                           NULL, &st->pw_chk);
  }
  st->t_eig = ir_wall_time() - t0;
  ir_hessian_op h;
  brk_op bo;
  ir_linop op = hessian_op(st, &h, &bo);
  t0 = ir_wall_time();
  if (s == IR_OK && o->trace) {
    ir_cli_progress(&o->common, AN, "Hutchinson trace, %zu probes", o->probes);
    s = ir_trace_hutchinson(&op, o->probes, o->common.seed,
                            ir_rng_stream(IR_STREAM_PROBE, 20, 0), &st->hutch);
    if (s == IR_OK && o->hutchpp)
      s = ir_trace_hutchpp(&op, o->probes, o->common.seed,
                           ir_rng_stream(IR_STREAM_PROBE, 21, 0), &st->hpp);
  }
  st->t_trace = ir_wall_time() - t0;
  t0 = ir_wall_time();
  if (s == IR_OK && o->density) {
    size_t steps = o->slq_steps < p ? o->slq_steps : p;
    ir_cli_progress(&o->common, AN, "SLQ density, %zu runs x %zu steps",
                    o->slq_runs, steps);
    s = ir_slq(&op, o->slq_runs, steps, o->common.seed,
               ir_rng_stream(IR_STREAM_PROBE, 30, 0), &st->slq);
    if (s == IR_OK)
      st->sigma2 = o->sigma2 > 0
                       ? o->sigma2
                       : 1e-5 * fmax(1.0, st->slq->lmax - st->slq->lmin);
  }
  st->t_slq = ir_wall_time() - t0;
  t0 = ir_wall_time();
  if (s == IR_OK && o->full) {
    ir_cli_progress(&o->common, AN, "dense Hessian, %zu x %zu", p, p);
    st->spectrum = malloc(p * sizeof(double));
    /* No refusal threshold (HUGE_VAL): the asymmetry is a check's
     * measurement (1e-10), which must be able to FAIL rather than stop the
     * run; the spectrum is then that of the symmetrized matrix. */
    s = st->spectrum
            ? ir_dense_spectrum(&op, HUGE_VAL, st->spectrum, NULL, &st->asym)
            : ir_error(IR_ENOMEM, "out of memory (spectrum)");
  }
  st->t_full = ir_wall_time() - t0;
  t0 = ir_wall_time();
  if (s == IR_OK && o->power) {
    ir_cli_progress(&o->common, AN, "power iteration and Lanczos to 1e-8");
    s = ir_power_iteration(&op, IR_POWER_PYHESSIAN, 1e-3, 100, o->common.seed,
                           ir_rng_stream(IR_STREAM_PROBE, 40, 0), NULL,
                           &st->pw_pyh);
    /* The residual-rule run is the check's (same rule, start and budget). */
    st->pw_res = st->pw_chk;
    ir_eig_result *e = NULL;
    if (s == IR_OK)
      s = run_lanczos(st, o, IR_EIG_LARGEST, 1, 1e-8, 0, NULL, st->idx, st->nb,
                      &e);
    if (s == IR_OK) {
      st->lanczos_1e8 = e->nmatvec;
      st->lanczos_1e8_value = e->values[0];
      st->lanczos_1e8_res = e->residuals[0];
    }
    ir_eig_result_free(e);
  }
  st->t_power = ir_wall_time() - t0;
  if (s == IR_OK && st->idx && o->boot > 0 && st->top)
    s = bootstrap(st, o);
  return s;
}

/* ---- tables, checks, summary
 * -------------------------------------------------- */

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

static ir_table *eigen_table(const hs_state *st, const hs_opts *o) {
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
  char note[256];
  snprintf(note, sizeof note,
           "loss: %s; converged when residual <= %g * "
           "||H||_est",
           ir_loss_formula(o->net.arch.loss), o->tol);
  ir_table_add_note(t, note);
  eig_rows(t, "top", st->top);
  eig_rows(t, "bottom", st->bottom);
  return t;
}

static ir_table *trace_table(const hs_state *st, const hs_opts *o) {
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
  const ir_trace_result *r[2] = {o->trace ? &st->hutch : NULL,
                                 o->hutchpp ? &st->hpp : NULL};
  const char *name[2] = {"Hutchinson (Rademacher)", "Hutch++"};
  for (int i = 0; i < 2; i++) {
    if (r[i] == NULL)
      continue;
    ir_table_add_row(t);
    ir_table_set_string(t, 0, name[i]);
    ir_table_set_double(t, 1, r[i]->trace);
    ir_table_set_double(t, 2, r[i]->se);
    ir_table_set_double(t, 3, r[i]->trace - 1.96 * r[i]->se);
    ir_table_set_double(t, 4, r[i]->trace + 1.96 * r[i]->se);
    ir_table_set_int(t, 5, (long)r[i]->nmatvec);
    ir_table_set_int(t, 6, (long)r[i]->nquad);
  }
  if (st->slq) {
    ir_table_add_row(t);
    ir_table_set_string(t, 0, "SLQ (n * sum tau theta)");
    ir_table_set_double(t, 1, st->slq->trace_est);
    ir_table_set_double(t, 2, st->slq->trace_se);
    ir_table_set_double(t, 3, st->slq->trace_est - 1.96 * st->slq->trace_se);
    ir_table_set_double(t, 4, st->slq->trace_est + 1.96 * st->slq->trace_se);
    ir_table_set_int(t, 5, (long)st->slq->nmatvec);
    ir_table_set_int(t, 6, 0);
  }
  if (st->spectrum) {
    double tr = 0;
    for (size_t i = 0; i < st->m->nparams; i++)
      tr += st->spectrum[i];
    ir_table_add_row(t);
    ir_table_set_string(t, 0, "exact (dense spectrum)");
    ir_table_set_double(t, 1, tr);
    ir_table_set_double(t, 2, 0.0);
    ir_table_set_double(t, 3, tr);
    ir_table_set_double(t, 4, tr);
    ir_table_set_int(t, 5, (long)st->m->nparams);
    ir_table_set_int(t, 6, 0);
  }
  return t;
}

/* The density grid: the nodes' range (and the dense spectrum's, when
 * known) widened by 5σ on each side, 1000 points. */
enum { NGRID = 1000 };

static int density_tables(const hs_state *st, ir_table **dt, ir_table **nt,
                          double *grid, double *dens, double *se,
                          double *dense_dens) {
  const ir_slq_result *r = st->slq;
  double lo = r->lmin, hi = r->lmax;
  const size_t p = st->m->nparams;
  if (st->spectrum) {
    lo = fmin(lo, st->spectrum[0]);
    hi = fmax(hi, st->spectrum[p - 1]);
  }
  double sig = sqrt(st->sigma2);
  lo -= 5 * sig;
  hi += 5 * sig;
  for (size_t j = 0; j < NGRID; j++)
    grid[j] = lo + (hi - lo) * (double)j / (NGRID - 1);
  int s = ir_slq_density(r, st->sigma2, grid, NGRID, dens, se);
  if (s != IR_OK)
    return s;
  if (st->spectrum) {
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
                           .nodes = st->spectrum,
                           .weights = w,
                           .nnodes = &cnt,
                           .lmin = st->spectrum[0],
                           .lmax = st->spectrum[p - 1]};
    s = ir_slq_density(&exact, st->sigma2, grid, NGRID, dense_dens, NULL);
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
  if (st->spectrum)
    ir_table_add_column(*dt, "exact", IR_COL_DOUBLE,
                        "the dense spectrum with the same smoothing");
  char note[160];
  snprintf(note, sizeof note, "%zu runs x %zu steps, sigma^2 = %.4g", r->nruns,
           r->nsteps, st->sigma2);
  ir_table_add_note(*dt, note);
  for (size_t j = 0; j < NGRID; j++) {
    ir_table_add_row(*dt);
    ir_table_set_double(*dt, 0, grid[j]);
    ir_table_set_double(*dt, 1, dens[j]);
    ir_table_set_double(*dt, 2, se[j]);
    if (st->spectrum)
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

static ir_table *spectrum_table(const hs_state *st) {
  ir_table *t = ir_table_alloc("spectrum", "Dense Hessian spectrum "
                                           "(ascending, dsyevr)");
  if (t == NULL)
    return NULL;
  ir_table_add_column(t, "index", IR_COL_INT, NULL);
  ir_table_add_column(t, "eigenvalue", IR_COL_DOUBLE, NULL);
  for (size_t i = 0; i < st->m->nparams; i++) {
    ir_table_add_row(t);
    ir_table_set_int(t, 0, (long)i + 1);
    ir_table_set_double(t, 1, st->spectrum[i]);
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

/* Each estimator's error against the dense spectrum (--full). */
static ir_table *estimator_table(const hs_state *st, const double *dens,
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
  const size_t p = st->m->nparams;
  char q[64];
  for (size_t i = 0; st->top && i < st->top->k; i++) {
    snprintf(q, sizeof q, "lambda_%zu (top)", i + 1);
    est_row(t, "Lanczos", q, st->top->values[i], st->spectrum[p - 1 - i],
            st->top->nmatvec);
  }
  for (size_t i = 0; st->bottom && i < st->bottom->k; i++) {
    snprintf(q, sizeof q, "lambda_%zu (bottom)", i + 1);
    est_row(t, "Lanczos", q, st->bottom->values[i], st->spectrum[i],
            st->bottom->nmatvec);
  }
  double tr = 0;
  for (size_t i = 0; i < p; i++)
    tr += st->spectrum[i];
  if (st->hutch.nprobe)
    est_row(t, "Hutchinson", "trace", st->hutch.trace, tr,
            st->hutch.nmatvec + st->hutch.nquad);
  if (st->hpp.nmatvec)
    est_row(t, "Hutch++", "trace", st->hpp.trace, tr,
            st->hpp.nmatvec + st->hpp.nquad);
  if (st->slq) {
    est_row(t, "SLQ", "trace", st->slq->trace_est, tr, st->slq->nmatvec);
    est_row(t, "SLQ", "lambda_max (largest node)", st->slq->lmax,
            st->spectrum[p - 1], st->slq->nmatvec);
    est_row(t, "SLQ", "lambda_min (smallest node)", st->slq->lmin,
            st->spectrum[0], st->slq->nmatvec);
    /* L1 distance of the smoothed densities (trapezoid rule). */
    double l1 = 0, h = grid[1] - grid[0];
    for (size_t j = 0; j < NGRID; j++)
      l1 += (j == 0 || j == NGRID - 1 ? 0.5 : 1.0) * h *
            fabs(dens[j] - dense_dens[j]);
    est_row(t, "SLQ", "density, L1 distance", l1, 0.0, st->slq->nmatvec);
  }
  if (st->pw_pyh.nmatvec) {
    est_row(t, "power (PyHessian rule)", "lambda_max", st->pw_pyh.value,
            st->spectrum[p - 1], st->pw_pyh.nmatvec);
    est_row(t, "power (residual rule)", "lambda_max", st->pw_res.value,
            st->spectrum[p - 1], st->pw_res.nmatvec);
  }
  return t;
}

static ir_table *power_table(const hs_state *st) {
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
  const ir_power_result *r[2] = {&st->pw_pyh, &st->pw_res};
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
  ir_table_set_double(t, 2, st->lanczos_1e8_value);
  ir_table_set_double(t, 3, st->lanczos_1e8_res);
  ir_table_set_double(
      t, 4, st->lanczos_1e8_res / fmax(fabs(st->lanczos_1e8_value), DBL_MIN));
  ir_table_set_int(t, 5, (long)st->lanczos_1e8);
  ir_table_set_string(t, 6,
                      st->lanczos_1e8_res <=
                              1e-8 * fabs(st->lanczos_1e8_value) * 1.0001
                          ? "yes"
                          : "no");
  return t;
}

static int build_checks(const hs_state *st, ir_checks *c) {
  const size_t p = st->m->nparams;
  /* |uᵀHv − vᵀHu| for Rademacher u, v is rounding only: each product
   * carries ~(m + p)·eps relative to |H||v| elementwise, and the dot
   * products add p terms, so the bound is 10(m + p)·eps·(‖Hv‖₁ + ‖Hu‖₁). */
  const size_t m = st->idx ? st->nb : st->m->nsamples;
  int s = IR_OK;
  /* With --full the whole dense matrix is checked for symmetry below; the
   * probe would be implied by it. */
  if (!st->spectrum)
    s = ir_checks_add_max(
        c, "HVP is symmetric: |u'Hv - v'Hu| (Rademacher u, v)",
        "Pearlmutter 1994 (exact R-operator)", 0.0,
        fabs(st->sym_u_hv - st->sym_v_hu),
        10.0 * (double)(m + p) * DBL_EPSILON * st->sym_l1);
  /* The HVP against gradients alone.  The extrapolated difference is
   * accurate to O(ε⁴) + rounding eps·‖∇L‖/ε; the tolerance is ten times the
   * ε² term it removed (which bounds its remaining error by orders of
   * magnitude) plus 1e-6 for the rounding of the gradient differences
   * (eps^(2/3) ≈ 4e-11 relative to ‖θ‖_∞-scaled steps, with room for
   * cancellation). */
  if (s == IR_OK && st->fd_done) {
    char claim[200];
    snprintf(claim, sizeof claim,
             "HVP equals central differences of the gradient along a random "
             "unit v (Richardson, steps %.2g and %.2g): ||R - Hv||/||Hv||",
             st->fd_eps, 2 * st->fd_eps);
    s = ir_checks_add_max(c, claim,
                          "Pearlmutter 1994; docs/theory.md 8 (independent of "
                          "the R-operator)",
                          0.0, st->fd_err, 10 * st->fd_trunc + 1e-6);
  }
  /* Lanczos's largest eigenvalue against power iteration: each value lies
   * within its residual of an eigenvalue, so two that belong to the same
   * eigenvalue differ by at most the sum of the residuals (plus rounding of
   * the Rayleigh quotients, p·eps·|λ|).  Lanczos reporting an interior
   * eigenvalue, or one off by a scale, fails; a power iteration that did
   * not converge, or converged to a negative eigenvalue of larger
   * magnitude, makes no claim. */
  if (s == IR_OK && st->top && st->pw_chk.converged && st->pw_chk.value > 0) {
    const double lz = st->top->values[0], pw = st->pw_chk.value;
    const double tol = st->top->residuals[0] + st->pw_chk.residual +
                       (double)p * DBL_EPSILON * fabs(pw);
    char claim[200];
    snprintf(claim, sizeof claim,
             "largest eigenvalue: Lanczos against power iteration (residual "
             "<= 1e-8 lambda, %zu HVPs), within the sum of their residuals",
             st->pw_chk.nmatvec);
    s = ir_checks_add_abs(c, claim,
                          "docs/theory.md 8 (a second method; residual "
                          "bound for symmetric H)",
                          pw, lz, tol);
  }
  /* Hutchinson (forward-mode quadratic forms z'Hz) and Hutch++ (products
   * Hz) are unbiased for the same trace along different code paths, from
   * independent probes: their difference has standard error
   * sqrt(se1² + se2²).  With --full each is checked against the exact
   * trace instead. */
  if (s == IR_OK && st->hutch.nprobe && st->hpp.nmatvec && !st->spectrum) {
    const double se = sqrt(st->hutch.se * st->hutch.se + st->hpp.se * st->hpp.se);
    s = ir_checks_add_abs(c,
                          "Hutchinson trace (quadratic forms) within 3 "
                          "standard errors of Hutch++ (products)",
                          "Hutchinson 1989; Meyer et al. 2021 "
                          "arXiv:2010.09649; docs/theory.md 8",
                          st->hpp.trace, st->hutch.trace, 3 * se);
  }
  const ir_eig_result *e[2] = {st->top, st->bottom};
  const char *nm[2] = {"top", "bottom"};
  if (s == IR_OK && st->spectrum) {
    /* A Ritz value with residual r lies within r of an eigenvalue (symmetric
     * matrices); the dense eigenvalues carry ~p·eps·‖H‖ of rounding. */
    const double floor = (double)p * DBL_EPSILON * fabs(st->spectrum[p - 1]);
    for (int i = 0; i < 2 && s == IR_OK; i++) {
      if (e[i] == NULL)
        continue;
      double worst = 0, bound = 0;
      int pass = 1;
      for (size_t k = 0; k < e[i]->k; k++) {
        double exact = i == 0 ? st->spectrum[p - 1 - k] : st->spectrum[k];
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
    double tr = 0;
    for (size_t i = 0; i < p; i++)
      tr += st->spectrum[i];
    if (s == IR_OK && st->hutch.nprobe) {
      s = ir_checks_add_abs(c,
                            "Hutchinson trace within 3 standard errors of the "
                            "exact trace",
                            "Hutchinson 1989; docs/theory.md 8", tr,
                            st->hutch.trace, 3 * st->hutch.se);
    }
    if (s == IR_OK && st->hpp.nmatvec)
      s = ir_checks_add_abs(c,
                            "Hutch++ trace within 3 standard errors of the "
                            "exact trace",
                            "Meyer et al. 2021 arXiv:2010.09649; "
                            "docs/theory.md 8",
                            tr, st->hpp.trace, 3 * st->hpp.se);
    if (s == IR_OK)
      s = ir_checks_add_max(c,
                            "dense Hessian from HVP columns is symmetric "
                            "(max|H - H'| / max|H|)",
                            "Pearlmutter 1994", 0.0, st->asym, 1e-10);
  }
  return s;
}

/* summary.json: the keys every consumer of this analysis reads. */
static int write_summary(const hs_state *st, const hs_opts *o, const char *desc,
                         const char *dir) {
  ir_json *j = ir_json_alloc();
  if (j == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  ir_json_begin_object(j, NULL);
  ir_json_string(j, "arch", o->net.arch_spec);
  ir_json_string(j, "act", ir_act_name(o->net.arch.act));
  ir_json_string(j, "loss_name", ir_loss_name(o->net.arch.loss));
  ir_json_string(j, "loss_formula", ir_loss_formula(o->net.arch.loss));
  ir_json_string(j, "data", desc);
  ir_json_int(j, "n_samples", (long)st->m->nsamples);
  ir_json_int(j, "hessian_samples", (long)(st->idx ? st->nb : st->m->nsamples));
  ir_json_int(j, "n_params", (long)st->m->nparams);
  ir_json_number(j, "loss", st->loss);
  ir_json_number(j, "grad_norm", st->grad_norm);
  if (st->idx)
    ir_json_number(j, "subset_loss", st->batch_loss);
  const ir_eig_result *e[2] = {st->top, st->bottom};
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
  if (o->trace) {
    ir_json_number(j, "trace", st->hutch.trace);
    ir_json_number(j, "trace_se", st->hutch.se);
    ir_json_int(j, "trace_probes", (long)st->hutch.nprobe);
    ir_json_int(j, "trace_hvps", (long)st->hutch.nmatvec);
    ir_json_int(j, "trace_quad_forms", (long)st->hutch.nquad);
  } else {
    ir_json_null(j, "trace");
    ir_json_null(j, "trace_se");
  }
  if (o->hutchpp) {
    ir_json_number(j, "trace_hutchpp", st->hpp.trace);
    ir_json_number(j, "trace_hutchpp_se", st->hpp.se);
  }
  if (st->slq) {
    ir_json_begin_object(j, "density");
    ir_json_int(j, "runs", (long)st->slq->nruns);
    ir_json_int(j, "steps", (long)st->slq->nsteps);
    ir_json_number(j, "sigma2", st->sigma2);
    ir_json_number(j, "lambda_min_node", st->slq->lmin);
    ir_json_number(j, "lambda_max_node", st->slq->lmax);
    ir_json_string(j, "table", "density.csv");
    ir_json_string(j, "nodes", "slq_nodes.csv");
    ir_json_end_object(j);
  }
  if (st->spectrum) {
    ir_json_begin_array(j, "spectrum");
    for (size_t i = 0; i < st->m->nparams; i++)
      ir_json_number(j, NULL, st->spectrum[i]);
    ir_json_end_array(j);
  }
  if (st->nboot > 0) {
    double *b = malloc(st->nboot * sizeof(double));
    if (b) {
      memcpy(b, st->boot, st->nboot * sizeof(double));
      gsl_sort(b, 1, st->nboot);
      ir_json_begin_object(j, "lambda_max_bootstrap");
      ir_json_int(j, "resamples", (long)st->nboot);
      ir_json_number(j, "mean", gsl_stats_mean(b, 1, st->nboot));
      ir_json_number(j, "se",
                     st->nboot > 1 ? gsl_stats_sd(b, 1, st->nboot) : 0.0);
      ir_json_number(
          j, "ci95_low",
          gsl_stats_quantile_from_sorted_data(b, 1, st->nboot, 0.025));
      ir_json_number(
          j, "ci95_high",
          gsl_stats_quantile_from_sorted_data(b, 1, st->nboot, 0.975));
      ir_json_end_object(j);
      free(b);
    }
  }
  ir_json_int(j, "hvps_top", st->top ? (long)st->top->nmatvec : 0);
  ir_json_int(j, "hvps_bottom", st->bottom ? (long)st->bottom->nmatvec : 0);
  ir_json_end_object(j);
  char path[4200];
  snprintf(path, sizeof path, "%s/summary.json", dir);
  int s = ir_json_write(j, path);
  ir_json_free(j);
  return s;
}

static int write_density_figure(const hs_state *st, const double *grid,
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
    peak = fmax(peak, fmax(dens[j], st->spectrum ? dense_dens[j] : 0.0));
  for (size_t j = 0; j < NGRID; j++) {
    a[j] = fmax(dens[j], 1e-8 * peak);
    b[j] = st->spectrum ? fmax(dense_dens[j], 1e-8 * peak) : NAN;
  }
  int s = ir_figure_add_series(f, "SLQ (dashed line: λ_max)", grid, a, NGRID,
                               "lines");
  if (s == IR_OK && st->spectrum)
    s = ir_figure_add_series(f, "dense spectrum, same smoothing", grid, b,
                             NGRID, "lines dashtype 2");
  free(a);
  free(b);
  if (s == IR_OK && st->top)
    s = ir_figure_add_vline(f, st->top->values[0], "");
  int rendered;
  if (s == IR_OK)
    s = ir_figure_write(f, dir, 1, &rendered);
  ir_figure_free(f);
  return s;
}

/* The eigenvectors as rows of a (k_top + k_bottom) × p matrix (.npy or
 * .csv by extension, written atomically). */
static int save_vectors(const hs_state *st, const char *path) {
  const size_t p = st->m->nparams;
  const size_t kt = st->top ? st->top->k : 0,
               kb = st->bottom ? st->bottom->k : 0;
  if (kt + kb == 0)
    return IR_OK;
  gsl_matrix *M = gsl_matrix_alloc(kt + kb, p);
  if (M == NULL)
    return ir_error(IR_ENOMEM, "out of memory (eigenvectors)");
  for (size_t i = 0; i < kt; i++)
    for (size_t j = 0; j < p; j++)
      gsl_matrix_set(M, i, j, gsl_matrix_get(st->top->vectors, j, i));
  for (size_t i = 0; i < kb; i++)
    for (size_t j = 0; j < p; j++)
      gsl_matrix_set(M, kt + i, j, gsl_matrix_get(st->bottom->vectors, j, i));
  int s = ir_data_write_matrix(path, M, NULL);
  gsl_matrix_free(M);
  return s;
}

static void print_report(const hs_state *st, const hs_opts *o,
                         const char *desc) {
  printf("hessian: %s, act %s, %zu parameters\n", o->net.arch_spec,
         ir_act_name(o->net.arch.act), st->m->nparams);
  printf("  data       %s\n", desc);
  printf("  loss       %.10g  (%s)\n", st->loss,
         ir_loss_formula(o->net.arch.loss));
  printf("  ||grad||   %.6g\n", st->grad_norm);
  if (st->idx)
    printf("  Hessian on a subset of %zu samples (loss there %.10g)\n", st->nb,
           st->batch_loss);
  const ir_eig_result *e[2] = {st->top, st->bottom};
  const char *nm[2] = {"top", "bottom"};
  for (int i = 0; i < 2; i++)
    for (size_t k = 0; e[i] && k < e[i]->k; k++)
      printf("  %-6s %-3zu %.12g   residual %.2e%s\n", nm[i], k + 1,
             e[i]->values[k], e[i]->residuals[k],
             e[i]->converged[k] ? "" : "  (NOT converged)");
  for (int i = 0; i < 2; i++)
    if (e[i] && !e[i]->certified)
      printf("  %s: not certified to be the %zu extreme eigenvalues with "
             "multiplicity (a pair did not converge or --max-hvp was spent "
             "first: raise --max-hvp)\n",
             nm[i], e[i]->k);
  if (o->trace)
    printf("  trace      %.8g +- %.3g (Hutchinson, %zu probes)\n",
           st->hutch.trace, st->hutch.se, st->hutch.nprobe);
  if (o->hutchpp)
    printf("  trace      %.8g +- %.3g (Hutch++, %zu products)\n", st->hpp.trace,
           st->hpp.se, st->hpp.nmatvec);
  if (st->spectrum)
    printf("  spectrum   [%.6g, %.6g] (dense)\n", st->spectrum[0],
           st->spectrum[st->m->nparams - 1]);
  if (o->power)
    printf("  lambda_max: power iteration %zu HVPs (residual rule 1e-8), "
           "PyHessian rule %zu HVPs (value %.8g), Lanczos %zu HVPs\n",
           st->pw_res.nmatvec, st->pw_pyh.nmatvec, st->pw_pyh.value,
           st->lanczos_1e8);
}

/* Appends a copy of s to the growing argv list. */
static int push_arg(char ***list, int *n, int *cap, const char *s) {
  if (*n + 2 > *cap) {
    int nc = 2 * *cap + 8;
    char **l = realloc(*list, (size_t)nc * sizeof **list);
    if (l == NULL)
      return IR_EXIT_INTERNAL;
    *list = l;
    *cap = nc;
  }
  char *d = strdup(s);
  if (d == NULL)
    return IR_EXIT_INTERNAL;
  (*list)[(*n)++] = d;
  (*list)[*n] = NULL;
  return 0;
}

/* Whether FILE looks like JSON (first non-blank byte '{'). */
static int is_json_file(const char *path) {
  FILE *fp = fopen(path, "r");
  if (fp == NULL)
    return 0;
  int c;
  while ((c = fgetc(fp)) == ' ' || c == '\n' || c == '\r' || c == '\t')
    ;
  fclose(fp);
  return c == '{';
}

/* The options a training run's manifest passes on: the network, the data
 * and the seed (the teacher set is drawn from it). */
static const char *const run_keys[] = {"arch", "act",     "loss", "data", "X",
                                       "Y",    "x-scale", "n",    "seed"};

/* Inserts the options of one `implreg train` run (manifest at mpath, run
 * folder dir) into list: run_keys, then --params (the run's --save, else
 * dir/theta.npy). */
static int from_run(const char *mpath, const char *dir, const char *how,
                    char ***list, int *n, int *cap) {
  char analysis[64];
  int mc = 0;
  char **mv = NULL;
  int rc = ir_cli_read_manifest(PROG, mpath, analysis, sizeof analysis, &mc,
                                &mv);
  if (rc != 0)
    return rc;
  if (strcmp(analysis, "train") != 0) {
    fprintf(stderr,
            "%s: %s: %s is from '%s', not from an `implreg train` run (give "
            "--arch, --data and --params yourself)\n",
            PROG, how, mpath, analysis[0] ? analysis : "an unknown analysis");
    ir_cli_argv_free(mc, mv);
    return IR_EXIT_USAGE;
  }
  char theta[4200];
  snprintf(theta, sizeof theta, "%s/theta.npy", dir);
  for (int i = 0; i < mc && rc == 0; i++) {
    if (strncmp(mv[i], "--", 2) != 0)
      continue;
    const char *key = mv[i] + 2;
    const char *val = i + 1 < mc && strncmp(mv[i + 1], "--", 2) != 0
                          ? mv[i + 1]
                          : NULL;
    if (strcmp(key, "save") == 0 && val)
      snprintf(theta, sizeof theta, "%s", val);
    for (size_t k = 0; k < sizeof run_keys / sizeof run_keys[0]; k++)
      if (strcmp(key, run_keys[k]) == 0) {
        rc = push_arg(list, n, cap, mv[i]);
        if (rc == 0 && val)
          rc = push_arg(list, n, cap, val);
      }
  }
  ir_cli_argv_free(mc, mv);
  if (rc == 0)
    rc = push_arg(list, n, cap, "--params");
  if (rc == 0)
    rc = push_arg(list, n, cap, theta);
  if (rc == IR_EXIT_INTERNAL)
    fprintf(stderr, "%s: out of memory\n", PROG);
  return rc;
}

/* `--from-run DIR`, or `--config DIR/manifest.json` of an `implreg train`
 * run: that run's network, data, seed and weights, inserted before the
 * other options (so the command line overrides them; a --config of
 * another kind is left to ir_cli_expand_config). */
static int expand_from_run(int argc, char **argv, int *argc_out,
                           char ***argv_out) {
  int n = 0, cap = argc + 32, rc = 0;
  char **list = calloc((size_t)cap, sizeof *list);
  if (list == NULL || push_arg(&list, &n, &cap, argv[0]) != 0) {
    free(list);
    fprintf(stderr, "%s: out of memory\n", PROG);
    return IR_EXIT_INTERNAL;
  }
  for (int i = 1; i < argc && rc == 0; i++) {
    const char *dir = NULL, *cfgfile = NULL;
    if (strcmp(argv[i], "--from-run") == 0) {
      if (i + 1 >= argc) {
        rc = ir_cli_usage_error(PROG, "option --from-run needs a value");
        break;
      }
      dir = argv[++i];
    } else if (strncmp(argv[i], "--from-run=", 11) == 0) {
      dir = argv[i] + 11;
    } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
      cfgfile = argv[i + 1];
    } else if (strncmp(argv[i], "--config=", 9) == 0) {
      cfgfile = argv[i] + 9;
    }
    if (dir != NULL) {
      char mpath[4200];
      snprintf(mpath, sizeof mpath, "%s/manifest.json", dir);
      if (access(mpath, R_OK) != 0) {
        fprintf(stderr,
                "%s: --from-run %s: no readable manifest.json there (give the "
                "--out folder of an `implreg train` run)\n",
                PROG, dir);
        rc = IR_EXIT_USAGE;
        break;
      }
      rc = from_run(mpath, dir, "--from-run", &list, &n, &cap);
      continue;
    }
    if (cfgfile != NULL && is_json_file(cfgfile)) {
      char analysis[64];
      int mc = 0;
      char **mv = NULL;
      if (ir_cli_read_manifest(PROG, cfgfile, analysis, sizeof analysis, &mc,
                               &mv) == 0) {
        ir_cli_argv_free(mc, mv);
        if (strcmp(analysis, "train") == 0) {
          char *copy = strdup(cfgfile);
          rc = copy ? from_run(cfgfile, dirname(copy), "--config", &list, &n,
                               &cap)
                    : IR_EXIT_INTERNAL;
          free(copy);
          if (strcmp(argv[i], "--config") == 0)
            i++;
          continue;
        }
      } else {
        rc = IR_EXIT_USAGE; /* the reader printed why */
        break;
      }
    }
    rc = push_arg(&list, &n, &cap, argv[i]);
    if (rc != 0)
      fprintf(stderr, "%s: out of memory\n", PROG);
  }
  if (rc != 0) {
    ir_cli_argv_free(n, list);
    return rc;
  }
  *argc_out = n;
  *argv_out = list;
  return 0;
}

/* The columns and headers a paper shows (report.h, ir_table_set_paper);
 * the CSV keeps every column. */
static const char *const hessian_paper[] = {
    "estimators: estimator,quantity,estimate,exact,rel_error=rel. error,hvps=HVPs",
    "power: method,stopping_rule=stopping rule,lambda_max=$\\lambda_{\\max}$,rel_residual=$\\|Hv - \\lambda v\\|/\\lambda$,hvps=HVPs,converged",
    NULL};

int ir_an_hessian(int argc0, char **argv0) {
  int argc, argc1;
  char **argv, **argv1;
  int rc = expand_from_run(argc0, argv0, &argc1, &argv1);
  if (rc != 0)
    return rc;
  rc = ir_cli_expand_config(PROG, argc1, argv1, &argc, &argv);
  ir_cli_argv_free(argc1, argv1);
  if (rc != 0)
    return rc;
  const double t_start = ir_wall_time();
  hs_opts o;
  memset(&o, 0, sizeof o);
  ir_cli_common_init(&o.common, AN);
  ir_net_opts_init(&o.net);
  o.top = 1;
  o.tol = 1e-10;
  o.max_hvp = 5000;
  o.slq_runs = 10;
  o.slq_steps = 90;
  o.boot = 20;
  ir_cli_config cfg = {0, 0, NULL, NULL};
  hs_state st;
  memset(&st, 0, sizeof st);
  gsl_matrix *X = NULL, *Y = NULL;
  ir_table *tabs[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
  ir_table *ptab = NULL;
  ir_checks *chk = NULL;
  double *grid = NULL, *dens = NULL, *dse = NULL, *ddens = NULL;
  char desc[512] = "";
  rc = parse(argc, argv, &o, &cfg);
  if (rc != 0) {
    rc = rc < 0 ? IR_EXIT_OK : rc;
    goto done;
  }
  ir_cli_apply_threads(&o.common);
  if ((rc = ir_net_load(PROG, &o.net, o.common.seed, &X, &Y, desc,
                        sizeof desc)) != 0)
    goto done;
  if ((rc = ir_net_load_params(PROG, "params", o.params, &o.net.arch,
                               &st.theta)) != 0)
    goto done;
  st.m = ir_model_mlp_alloc(&o.net.arch, X, Y);
  if (st.m == NULL) {
    rc = ir_cli_fail(PROG, IR_EINVAL, NULL);
    goto done;
  }
  if (o.subset && o.subset < X->size1) {
    st.nb = o.subset;
    st.idx = malloc(X->size1 * sizeof(size_t));
    gsl_rng *r = ir_rng_alloc(o.common.seed,
                              ir_rng_stream(IR_STREAM_DATA, 90, o.subset));
    if (st.idx == NULL || r == NULL) {
      ir_rng_free(r);
      rc = ir_cli_fail(PROG, IR_ENOMEM, "out of memory");
      goto done;
    }
    ir_rng_permutation(r, st.idx, X->size1);
    ir_rng_free(r);
  }
  /* Nothing is written before the measurements succeeded: a failure leaves
   * no output folder behind. */
  int s = measure(&st, &o);
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  if ((rc = ir_cli_prepare_out(PROG, o.common.out)) != 0)
    goto done;
  double t_w = ir_wall_time();
  chk = ir_checks_alloc();
  if (chk == NULL || (s = build_checks(&st, chk)) != IR_OK) {
    rc = ir_cli_fail(PROG, chk ? s : IR_ENOMEM, NULL);
    goto done;
  }
  size_t nt = 0;
  if ((o.top || o.bottom) && (tabs[nt++] = eigen_table(&st, &o)) == NULL)
    s = IR_ENOMEM;
  if (s == IR_OK && (o.trace || st.slq || st.spectrum) &&
      (tabs[nt++] = trace_table(&st, &o)) == NULL)
    s = IR_ENOMEM;
  if (s == IR_OK && st.slq) {
    grid = malloc(NGRID * sizeof(double));
    dens = malloc(NGRID * sizeof(double));
    dse = malloc(NGRID * sizeof(double));
    ddens = calloc(NGRID, sizeof(double));
    if (!grid || !dens || !dse || !ddens)
      s = IR_ENOMEM;
    else {
      s = density_tables(&st, &tabs[nt], &tabs[nt + 1], grid, dens, dse, ddens);
      nt += 2;
    }
  }
  if (s == IR_OK && st.spectrum) {
    if ((tabs[nt++] = spectrum_table(&st)) == NULL ||
        (tabs[nt++] = estimator_table(&st, dens, ddens, grid)) == NULL)
      s = IR_ENOMEM;
    if (s == IR_OK && st.slq == NULL) {
      /* The estimator table reads the densities only when SLQ ran. */
    }
  }
  if (s == IR_OK && o.power && (ptab = power_table(&st)) == NULL)
    s = IR_ENOMEM;
  for (size_t i = 0; s == IR_OK && i < nt; i++)
    if ((s = ir_table_set_paper_from(tabs[i], hessian_paper)) == IR_OK)
      s = ir_table_write(tabs[i], o.common.out, o.common.formats);
  if (s == IR_OK && ptab &&
      (s = ir_table_set_paper_from(ptab, hessian_paper)) == IR_OK)
    s = ir_table_write(ptab, o.common.out, o.common.formats);
  if (s == IR_OK && st.slq)
    s = write_density_figure(&st, grid, dens, ddens, o.common.out);
  if (s == IR_OK)
    s = ir_checks_write(chk, o.common.out, o.common.formats);
  if (s == IR_OK)
    s = write_summary(&st, &o, desc, o.common.out);
  if (s == IR_OK && o.save_vectors)
    s = save_vectors(&st, o.save_vectors);
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, s == IR_ENOMEM ? "out of memory" : NULL);
    goto done;
  }
  ir_cli_config_set(&cfg, "derived.n_params", "%zu", st.m->nparams);
  const char *stages[6] = {"eigenvalues", "trace", "density",
                           "dense",       "power", "write"};
  double secs[6] = {st.t_eig,  st.t_trace, st.t_slq,
                    st.t_full, st.t_power, ir_wall_time() - t_w};
  s = ir_cli_write_manifest(o.common.out, AN, &cfg, stages, secs, 6, chk,
                            ir_wall_time() - t_start);
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  if (ir_cli_collect)
    ir_checks_merge(ir_cli_collect, chk, AN);
  if (!o.common.quiet) {
    print_report(&st, &o, desc);
    putchar('\n');
    ir_checks_print(chk, stdout);
  }
  rc = ir_cli_exit_status(&o.common, chk);
done:
  for (size_t i = 0; i < 6; i++)
    ir_table_free(tabs[i]);
  ir_table_free(ptab);
  ir_checks_free(chk);
  free(grid);
  free(dens);
  free(dse);
  free(ddens);
  state_free(&st);
  if (X)
    gsl_matrix_free(X);
  if (Y)
    gsl_matrix_free(Y);
  ir_cli_config_free(&cfg);
  ir_cli_argv_free(argc, argv);
  return rc;
}
