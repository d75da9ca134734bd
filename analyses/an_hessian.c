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
  /* The dense Hessian and its eigenvectors: two p x p matrices. */
  if (o->full && ir_cli_check_memory(PROG,
                                     "--full (dense p x p Hessian and "
                                     "eigenvectors)",
                                     ir_cli_bytes(p, p, 2 * sizeof(double))))
    return IR_EXIT_USAGE;
  if (o->top > p || o->bottom > p)
    return ir_cli_usage_error(PROG, "--top/--bottom exceed the %zu parameters",
                              p);
  if (o->probes == 0)
    o->probes = 100;
  if (o->trace && o->probes < 4)
    return ir_cli_usage_error(PROG,
                              "--probes %zu: the trace needs >= 4 (Hutch++ "
                              "splits its products in thirds and needs >= 2 "
                              "probes for its standard error)",
                              o->probes);
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
 * The study itself (hstudy.h) is the library's; this file supplies the
 * network's Hessian and gradient, the bootstrap over a subset, and the
 * test hooks. */

typedef struct {
  ir_model *m;
  gsl_vector *theta;
  size_t *idx, nb; /* the Hessian's batch (NULL: all samples) */
  double loss, grad_norm, batch_loss;
  ir_hstudy *h;
  double *boot;
  size_t nboot;
} hs_state;

static void state_free(hs_state *st) {
  ir_model_free(st->m);
  if (st->theta)
    gsl_vector_free(st->theta);
  free(st->idx);
  ir_hstudy_free(st->h);
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

/* ∇L(θ + t·v) on the Hessian's batch, for the finite-difference check. */
typedef struct {
  hs_state *st;
  gsl_vector *tp, *g;
} grad_ctx;

static int shifted_grad(void *ctx, const double *v, double t, double *g) {
  grad_ctx *c = ctx;
  const size_t p = c->tp->size;
  for (size_t j = 0; j < p; j++)
    c->tp->data[j] = c->st->theta->data[j] + t * v[j];
  double l;
  int s = ir_model_loss_grad(c->st->m, c->tp, c->st->idx, c->st->nb, &l, c->g);
  if (s == IR_OK)
    memcpy(g, c->g->data, p * sizeof(double));
  return s;
}

static void study_progress(void *ctx, const char *stage) {
  ir_cli_progress(ctx, AN, "%s", stage);
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
      v0[j] = gsl_matrix_get(st->h->top->vectors, j, 0);
  gsl_rng *r =
      ir_rng_alloc(o->common.seed, ir_rng_stream(IR_STREAM_DATA, 91, st->nb));
  int s = (st->boot && ib && r && v0) ? IR_OK
                                      : ir_error(IR_ENOMEM, "out of memory");
  for (size_t b = 0; s == IR_OK && b < o->boot; b++) {
    for (size_t i = 0; i < st->nb; i++)
      ib[i] = st->idx[gsl_rng_uniform_int(r, st->nb)];
    ir_hessian_op hop;
    brk_op bop;
    ir_linop op = make_op(st, ib, st->nb, &hop, &bop);
    ir_lanczos_params lp;
    ir_lanczos_params_default(&lp);
    lp.tol = o->tol;
    lp.max_matvec = o->max_hvp;
    lp.seed = o->common.seed;
    lp.stream = ir_rng_stream(IR_STREAM_PROBE, 10, 1);
    lp.v0 = v0;
    lp.certify = 0; /* a warm-started tracker: nothing to certify */
    ir_eig_result *e = NULL;
    s = ir_lanczos_eigs(&op, &lp, &e);
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

static int measure(hs_state *st, hs_opts *o) {
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
  if (s != IR_OK)
    return s;
  ir_hstudy_params hp;
  ir_hstudy_params_default(&hp);
  hp.top = o->top;
  hp.bottom = o->bottom;
  hp.tol = o->tol;
  hp.max_hvp = o->max_hvp;
  hp.trace = o->trace;
  hp.probes = o->probes;
  hp.density = o->density;
  hp.slq_runs = o->slq_runs;
  hp.slq_steps = o->slq_steps;
  hp.sigma2 = o->sigma2;
  hp.full = o->full;
  hp.power = o->power;
  hp.seed = o->common.seed;
  hp.nsamples = st->idx ? st->nb : st->m->nsamples;
  hp.progress = study_progress;
  hp.progress_ctx = &o->common;
  /* Finite differences only for smooth activations: with ReLU the
   * gradient jumps where a pre-activation changes sign, and a step that
   * crosses one gives O(1/ε). */
  grad_ctx gc = {st, NULL, NULL};
  if (o->net.arch.act != IR_ACT_RELU) {
    gc.tp = gsl_vector_alloc(p);
    gc.g = gsl_vector_alloc(p);
    if (gc.tp == NULL || gc.g == NULL)
      s = ir_error(IR_ENOMEM, "out of memory");
    hp.grad = shifted_grad;
    hp.grad_ctx = &gc;
    for (size_t j = 0; j < p; j++)
      hp.theta_max = fmax(hp.theta_max, fabs(st->theta->data[j]));
  }
  ir_hessian_op hop;
  brk_op bop;
  ir_linop op = make_op(st, st->idx, st->nb, &hop, &bop);
  if (s == IR_OK)
    s = ir_hstudy_run(&op, &hp, &st->h);
  if (gc.tp)
    gsl_vector_free(gc.tp);
  if (gc.g)
    gsl_vector_free(gc.g);
  if (s == IR_OK && ir_cli_broken("lanczos")) {
    ir_eig_result *e[2] = {st->h->top, st->h->bottom};
    for (int i = 0; i < 2; i++)
      for (size_t k = 0; e[i] && k < e[i]->k; k++)
        e[i]->values[k] *= 1 + 1e-3;
  }
  if (s == IR_OK && st->idx && o->boot > 0 && st->h->top)
    s = bootstrap(st, o);
  return s;
}

/* The eigenvectors as rows of a (k_top + k_bottom) × p matrix (.npy or
 * .csv by extension, written atomically). */
static int save_vectors(const hs_state *st, const char *path) {
  const size_t p = st->m->nparams;
  const size_t kt = st->h->top ? st->h->top->k : 0,
               kb = st->h->bottom ? st->h->bottom->k : 0;
  if (kt + kb == 0)
    return IR_OK;
  gsl_matrix *M = gsl_matrix_alloc(kt + kb, p);
  if (M == NULL)
    return ir_error(IR_ENOMEM, "out of memory (eigenvectors)");
  for (size_t i = 0; i < kt; i++)
    for (size_t j = 0; j < p; j++)
      gsl_matrix_set(M, i, j, gsl_matrix_get(st->h->top->vectors, j, i));
  for (size_t i = 0; i < kb; i++)
    for (size_t j = 0; j < p; j++)
      gsl_matrix_set(M, kt + i, j, gsl_matrix_get(st->h->bottom->vectors, j, i));
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
  const ir_eig_result *e[2] = {st->h->top, st->h->bottom};
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
           st->h->hutch.trace, st->h->hutch.se, st->h->hutch.nprobe);
  if (o->hutchpp)
    printf("  trace      %.8g +- %.3g (Hutch++, %zu products)\n", st->h->hpp.trace,
           st->h->hpp.se, st->h->hpp.nmatvec);
  if (st->h->spectrum)
    printf("  spectrum   [%.6g, %.6g] (dense)\n", st->h->spectrum[0],
           st->h->spectrum[st->m->nparams - 1]);
  if (o->power)
    printf("  lambda_max: power iteration %zu HVPs (residual rule 1e-8), "
           "PyHessian rule %zu HVPs (value %.8g), Lanczos %zu HVPs\n",
           st->h->pw_check.nmatvec, st->h->pw_pyh.nmatvec, st->h->pw_pyh.value,
           st->h->lanczos_1e8);
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
  ir_checks *chk = NULL;
  char desc[512] = "";
  rc = parse(argc, argv, &o, &cfg);
  if (rc != 0) {
    rc = rc < 0 ? IR_EXIT_OK : rc;
    goto done;
  }
  /* Every option and file checked before any work (`all` stops here). */
  {
    const ir_cli_path files[] = {{"X", o.net.xpath, IR_PATH_IN},
                                 {"Y", o.net.ypath, IR_PATH_IN},
                                 {"params", o.params, IR_PATH_IN},
                                 {"save-vectors", o.save_vectors, IR_PATH_OUT}};
    if ((rc = ir_cli_check_run(PROG, &o.common, files, 4)) != 0 ||
        ir_cli_validating)
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
  if (chk == NULL || (s = ir_hstudy_checks(st.h, chk)) != IR_OK) {
    rc = ir_cli_fail(PROG, chk ? s : IR_ENOMEM, NULL);
    goto done;
  }
  ir_hstudy_info info = {.model = o.net.arch_spec,
                         .act = ir_act_name(o.net.arch.act),
                         .loss_name = ir_loss_name(o.net.arch.loss),
                         .loss_formula = ir_loss_formula(o.net.arch.loss),
                         .data = desc,
                         .n_samples = st.m->nsamples,
                         .hessian_samples = st.idx ? st.nb : st.m->nsamples,
                         .loss = st.loss,
                         .grad_norm = st.grad_norm,
                         .subset_loss = st.idx ? st.batch_loss : NAN,
                         .boot = st.boot,
                         .nboot = st.nboot};
  s = ir_hstudy_write(st.h, &info, o.common.out, o.common.formats);
  if (s == IR_OK)
    s = ir_checks_write(chk, o.common.out, o.common.formats);
  if (s == IR_OK && o.save_vectors)
    s = save_vectors(&st, o.save_vectors);
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, s == IR_ENOMEM ? "out of memory" : NULL);
    goto done;
  }
  ir_cli_config_set(&cfg, "derived.n_params", "%zu", st.m->nparams);
  const char *stages[6] = {"eigenvalues", "trace", "density",
                           "dense",       "power", "write"};
  double secs[6] = {st.h->t_eig,  st.h->t_trace, st.h->t_slq,
                    st.h->t_full, st.h->t_power, ir_wall_time() - t_w};
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
  ir_checks_free(chk);
  state_free(&st);
  if (X)
    gsl_matrix_free(X);
  if (Y)
    gsl_matrix_free(Y);
  ir_cli_config_free(&cfg);
  ir_cli_argv_free(argc, argv);
  return rc;
}
