/* an_flatness.c — `implreg flatness`: which minima are flat, does flatness
 * predict the generalization gap, and does the answer survive Dinh et al.'s
 * rescaling objection (docs/theory.md §7–§9).
 *
 * The sweep is a set of cells (cells.h): one cell is one network (data set ×
 * step size × batch size × seed) trained from PyTorch's initialization to a
 * loss goal, then measured at its end point (flatness.h: λ_max, trace,
 * ε-sharpness with A = I and a random A, the balanced λ_max, ‖θ‖, ‖∇L‖²)
 * and sliced (landscape.h).  Every random stream of a cell is named by its
 * coordinates — the initialization by (data set, seed), the batch order
 * and the estimators' probes by (data set, seed, step size, batch size) —
 * so a cell gives the same bits in any grid that contains it, in any
 * order, on any number of worker processes.  The assembly (tables, Kendall
 * τ, comparisons, figures) reads the cells' outputs only.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "cli.h"
#include "netio.h"

static const char *const AN = "flatness";
static const char *const PROG = "implreg flatness";

/* Test hook (IMPLREG_BREAK, comma-separated; tests/cli_flatness.sh):
 * "rescale-bias" rescales the weights but not the bias of the scaled layer
 * (the function changes), "balance" reports λ_max without balancing (a
 * balancing that does nothing), "hutchinson" scales the Hutchinson estimate by 1.25
 * (a biased trace), "keskar-box" takes a random A where A = I was meant,
 * "mp-norm" normalizes the least-squares Hessian by p instead of n, "conj"
 * conjugates by D instead of D⁻¹ in the predicted curvature, "toy-point"
 * evaluates the two-parameter example at (α, α).  Never set it
 * otherwise. */

static const char help[] =
    "Usage: implreg flatness [--data LIST] [--lrs LIST] [--batches LIST]\n"
    "         [--seeds K] [options]\n\n"
    "Trains two-layer ReLU networks over a grid of step sizes x batch sizes\n"
    "x seeds, each to a loss goal, on a Fashion-MNIST subset (784-H-10,\n"
    "cross-entropy) and on the teacher set of docs/theory.md 7 (4-H-1,\n"
    "L = 1/2 mean r^2), and measures every end point: train and test loss and\n"
    "error, the generalization gap, lambda_max (Lanczos, residual), the trace\n"
    "(Hutchinson +- se; exact where p <= 600), Keskar et al.'s epsilon-\n"
    "sharpness (A = I and a random p x r A), lambda_max after balancing the\n"
    "layers, ||theta|| and ||grad L||^2 (endpoints.csv, one row per run; runs\n"
    "that miss the goal are kept and marked).  Then: Kendall tau with a 95%\n"
    "interval between each measure and the gap (findings.csv: directions\n"
    "with their strength, not verdicts); large vs small batch at equal step\n"
    "and step size at equal batch; loss slices through the end points along\n"
    "filter-normalized random directions and the top Hessian eigenvector, and\n"
    "the linear path between the minima of two seeds (barrier); Dinh et\n"
    "al.'s rescaling (alpha W1, alpha b1, W2/alpha) over several decades of\n"
    "alpha; the least-squares Hessian X'X/n against the Marchenko-Pastur law.\n\n"
    "Options:\n"
    "  --data LIST        fashion-mnist,teacher (default both)\n"
    "  --n N              Fashion-MNIST training images (default 1000; quick\n"
    "                     200); the teacher set has 64 samples\n"
    "  --ntest M          test samples (default 2000; quick 500)\n"
    "  --width H          hidden units per layer (default 32)\n"
    "  --depth L          hidden layers (default 1: two-layer networks)\n"
    "  --lrs LIST         step sizes (default 0.05,0.1,0.2)\n"
    "  --batches LIST     mini-batch sizes, 0 = full batch (GD); default\n"
    "                     32,128,0 for Fashion-MNIST and 8,16,0 for the teacher\n"
    "  --loss-goal L      stop at this training loss (default 0.01 for cross-\n"
    "                     entropy, 0.001 for the teacher; quick 0.005)\n"
    "  --max-steps T      step cap per run (default 20000; quick 4000)\n"
    "  --eps E            epsilon of the epsilon-sharpness (default 1e-3)\n"
    "  --sharp-rank R     columns of the random A (default 100)\n"
    "  --sharp-iter I     ascent iterations per sharpness (default 20)\n"
    "  --probes P         Hutchinson probes (default 30)\n"
    "  --alphas LIST      rescaling factors (default 1e-3,1e-2,0.1,1,10,100,"
    "1e3)\n"
    "  --mp-n N, --mp-p P least-squares data for the Marchenko-Pastur part\n"
    "                     (default 400 x 200; quick 200 x 100)\n"
    "  --mp-draws R       independent draws of X (default 20)\n"
    "--seeds K: seeds per grid point (default 3; quick 2).  --threads N: cells\n"
    "run in N worker processes with one BLAS thread each (default: the\n"
    "number of cores); results do not depend on N.\n\n"
    "Checks: Keskar's quadratic example (1.4375e-3); lambda_max = a^2 + a^-2\n"
    "on f(a, b) = (ab - 1)^2/2 at (a, 1/a); the network's loss and predictions\n"
    "unchanged by rescaling (to rounding); lambda_max at the rescaled weights\n"
    "against D^-1 H D^-1 from the unscaled Hessian; the balanced lambda_max\n"
    "the same for every alpha; Hutchinson against the exact trace (teacher);\n"
    "the spectrum's first two moments against the Wishart expectations and\n"
    "the Marchenko-Pastur density's against 1 and 1 + gamma.\n\n";

enum {
  OPT_DATA = 1,
  OPT_N,
  OPT_NTEST,
  OPT_WIDTH,
  OPT_DEPTH,
  OPT_LRS,
  OPT_BATCHES,
  OPT_GOAL,
  OPT_MAXSTEPS,
  OPT_EPS,
  OPT_SRANK,
  OPT_SITER,
  OPT_PROBES,
  OPT_ALPHAS,
  OPT_MPN,
  OPT_MPP,
  OPT_MPDRAWS
};

#define MAXSETS 2
#define NT 41   /* points of a 1-D slice, t in [-1, 1] */
#define NS2 21  /* 2-D slice: NS2 x NS2 */
#define NPATH 21

typedef struct {
  ir_cli_common common;
  int use[MAXSETS]; /* fashion-mnist, teacher */
  size_t n, ntest, width, depth, max_steps, srank, siter, probes;
  size_t mp_n, mp_p, mp_draws;
  double *lrs, *alphas, *batches_given, goal, eps;
  size_t nlr, nalpha, nbatch_given;
  int n_set, ntest_set, steps_set, seeds_set, mpn_set, mpp_set, goal_set;
} fl_opts;

typedef struct {
  const char *name, *label;
  ir_mlp_arch arch;
  char spec[64];
  gsl_matrix *X, *Y, *Xt, *Yt;
  ir_model *m, *mt; /* training and test models (the parent's) */
  size_t batch[8], nbatch;
  double goal;
  int classify;
  size_t p;
  char desc[512];
} fl_set;

/* The layout of a cell's output. */
enum {
  C_STEPS,
  C_GOAL,
  C_DIVERGED,
  C_TRAIN_LOSS,
  C_TRAIN_ERR,
  C_TEST_LOSS,
  C_TEST_ERR,
  C_LMAX,
  C_LRES,
  C_LHVPS,
  C_LCONV,
  C_TRACE,
  C_TRACE_SE,
  C_TRACE_EXACT,
  C_LDENSE,
  C_SHARP_I,
  C_SHARP_I_EVALS,
  C_SHARP_A,
  C_SHARP_A_EVALS,
  C_THETA_NORM,
  C_GRAD2,
  C_LBAL,
  C_LBAL_RES,
  C_SECS_TRAIN,
  C_SECS_MEASURE,
  C_NSCAL = 32
};
#define OFF_SLICE_R C_NSCAL
#define OFF_SLICE_V (OFF_SLICE_R + NT)
#define OFF_SLICE2 (OFF_SLICE_V + NT)
#define OFF_THETA (OFF_SLICE2 + NS2 * NS2)

typedef struct {
  const fl_opts *o;
  fl_set sets[MAXSETS];
  size_t nsets;
  size_t ncell, nout, pmax, seeds;
  double *out; /* ncell × nout */
  const ir_cli_config *cfg; /* the run's configuration (cells' hash) */
} fl_run;

/* ---- options --------------------------------------------------------- */

static int parse(int argc, char **argv, fl_opts *o, ir_cli_config *cfg) {
  static const struct option longopts[] = {
      {"data", required_argument, NULL, OPT_DATA},
      {"n", required_argument, NULL, OPT_N},
      {"ntest", required_argument, NULL, OPT_NTEST},
      {"width", required_argument, NULL, OPT_WIDTH},
      {"depth", required_argument, NULL, OPT_DEPTH},
      {"lrs", required_argument, NULL, OPT_LRS},
      {"batches", required_argument, NULL, OPT_BATCHES},
      {"loss-goal", required_argument, NULL, OPT_GOAL},
      {"max-steps", required_argument, NULL, OPT_MAXSTEPS},
      {"eps", required_argument, NULL, OPT_EPS},
      {"sharp-rank", required_argument, NULL, OPT_SRANK},
      {"sharp-iter", required_argument, NULL, OPT_SITER},
      {"probes", required_argument, NULL, OPT_PROBES},
      {"alphas", required_argument, NULL, OPT_ALPHAS},
      {"mp-n", required_argument, NULL, OPT_MPN},
      {"mp-p", required_argument, NULL, OPT_MPP},
      {"mp-draws", required_argument, NULL, OPT_MPDRAWS},
      IR_CLI_COMMON_OPTIONS,
      {NULL, 0, NULL, 0}};
  optind = 1;
  opterr = 0;
  int c, r;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_DATA: {
      o->use[0] = o->use[1] = 0;
      char buf[256];
      snprintf(buf, sizeof buf, "%s", optarg);
      for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (strcmp(tok, "fashion-mnist") == 0)
          o->use[0] = 1;
        else if (strcmp(tok, "teacher") == 0)
          o->use[1] = 1;
        else
          return ir_cli_usage_error(PROG, "--data: '%s' is not fashion-mnist "
                                    "or teacher", tok);
      }
      break;
    }
    case OPT_N:
      if (ir_cli_size(PROG, "n", optarg, 20, 60000, &o->n))
        return IR_EXIT_USAGE;
      o->n_set = 1;
      break;
    case OPT_NTEST:
      if (ir_cli_size(PROG, "ntest", optarg, 10, 10000, &o->ntest))
        return IR_EXIT_USAGE;
      o->ntest_set = 1;
      break;
    case OPT_WIDTH:
      if (ir_cli_size(PROG, "width", optarg, 1, 4096, &o->width))
        return IR_EXIT_USAGE;
      break;
    case OPT_DEPTH:
      if (ir_cli_size(PROG, "depth", optarg, 1, 8, &o->depth))
        return IR_EXIT_USAGE;
      break;
    case OPT_LRS:
      free(o->lrs);
      o->lrs = NULL;
      if (ir_cli_double_list(PROG, "lrs", optarg, 1e-8, 100, &o->lrs,
                             &o->nlr))
        return IR_EXIT_USAGE;
      break;
    case OPT_BATCHES:
      free(o->batches_given);
      o->batches_given = NULL;
      if (ir_cli_double_list(PROG, "batches", optarg, 0, 1e8,
                             &o->batches_given, &o->nbatch_given))
        return IR_EXIT_USAGE;
      if (o->nbatch_given > 8)
        return ir_cli_usage_error(PROG, "--batches: at most 8 sizes");
      for (size_t i = 0; i < o->nbatch_given; i++)
        if (o->batches_given[i] != floor(o->batches_given[i]))
          return ir_cli_usage_error(PROG, "--batches: '%g' is not a whole "
                                    "number", o->batches_given[i]);
      break;
    case OPT_GOAL:
      if (ir_cli_double(PROG, "loss-goal", optarg, 0, 1e300, &o->goal))
        return IR_EXIT_USAGE;
      o->goal_set = 1;
      break;
    case OPT_MAXSTEPS:
      if (ir_cli_size(PROG, "max-steps", optarg, 1, 100000000, &o->max_steps))
        return IR_EXIT_USAGE;
      o->steps_set = 1;
      break;
    case OPT_EPS:
      if (ir_cli_double(PROG, "eps", optarg, 1e-12, 1, &o->eps))
        return IR_EXIT_USAGE;
      break;
    case OPT_SRANK:
      if (ir_cli_size(PROG, "sharp-rank", optarg, 1, 100000, &o->srank))
        return IR_EXIT_USAGE;
      break;
    case OPT_SITER:
      if (ir_cli_size(PROG, "sharp-iter", optarg, 1, 10000, &o->siter))
        return IR_EXIT_USAGE;
      break;
    case OPT_PROBES:
      if (ir_cli_size(PROG, "probes", optarg, 2, 100000, &o->probes))
        return IR_EXIT_USAGE;
      break;
    case OPT_ALPHAS:
      free(o->alphas);
      o->alphas = NULL;
      if (ir_cli_double_list(PROG, "alphas", optarg, 1e-6, 1e6, &o->alphas,
                             &o->nalpha))
        return IR_EXIT_USAGE;
      break;
    case OPT_MPN:
      if (ir_cli_size(PROG, "mp-n", optarg, 10, 20000, &o->mp_n))
        return IR_EXIT_USAGE;
      o->mpn_set = 1;
      break;
    case OPT_MPP:
      if (ir_cli_size(PROG, "mp-p", optarg, 2, 4000, &o->mp_p))
        return IR_EXIT_USAGE;
      o->mpp_set = 1;
      break;
    case OPT_MPDRAWS:
      if (ir_cli_size(PROG, "mp-draws", optarg, 3, 1000, &o->mp_draws))
        return IR_EXIT_USAGE;
      break;
    default:
      if (c == IR_OPT_SEEDS)
        o->seeds_set = 1;
      if ((r = ir_cli_default_option(PROG, &o->common, c, optarg, argv,
                                     help)) != 0)
        return r;
    }
  }
  if (optind < argc)
    return ir_cli_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
  if (!o->use[0] && !o->use[1])
    return ir_cli_usage_error(PROG, "--data: give fashion-mnist, teacher or "
                              "both");
  if (o->use[1] && o->n_set && !o->use[0])
    return ir_cli_usage_error(PROG, "--n sets the Fashion-MNIST subset; the "
                              "teacher set has 64 samples");
  const int q = o->common.quick;
  if (!o->n_set)
    o->n = q ? 200 : 1000;
  if (!o->ntest_set)
    o->ntest = q ? 500 : 2000;
  if (!o->steps_set)
    o->max_steps = q ? 4000 : 20000;
  if (!o->seeds_set)
    o->common.seeds = q ? 2 : 3;
  if (!o->mpn_set)
    o->mp_n = q ? 200 : 400;
  if (!o->mpp_set)
    o->mp_p = q ? 100 : 200;
  if (o->mp_p > o->mp_n * 4)
    return ir_cli_usage_error(PROG, "--mp-p %zu > 4 --mp-n: the spectrum is "
                              "mostly zeros", o->mp_p);
  if (o->lrs == NULL) {
    static const double d[] = {0.05, 0.1, 0.2};
    o->lrs = malloc(sizeof d);
    if (o->lrs == NULL)
      return ir_cli_fail(PROG, IR_ENOMEM, "out of memory");
    memcpy(o->lrs, d, sizeof d);
    o->nlr = 3;
  }
  if (o->alphas == NULL) {
    static const double d[] = {1e-3, 1e-2, 0.1, 1, 10, 100, 1e3};
    o->alphas = malloc(sizeof d);
    if (o->alphas == NULL)
      return ir_cli_fail(PROG, IR_ENOMEM, "out of memory");
    memcpy(o->alphas, d, sizeof d);
    o->nalpha = 7;
  }
  char b[64], list[1024];
  ir_cli_config_common(cfg, &o->common);
  ir_cli_config_set(cfg, "data", "%s%s%s", o->use[0] ? "fashion-mnist" : "",
                    o->use[0] && o->use[1] ? "," : "",
                    o->use[1] ? "teacher" : "");
  if (o->use[0]) {
    ir_cli_config_set(cfg, "n", "%zu", o->n);
  }
  ir_cli_config_set(cfg, "ntest", "%zu", o->ntest);
  ir_cli_config_set(cfg, "width", "%zu", o->width);
  ir_cli_config_set(cfg, "depth", "%zu", o->depth);
  list[0] = '\0';
  for (size_t i = 0; i < o->nlr; i++)
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
             i ? "," : "", ir_cli_fmt_double(b, sizeof b, o->lrs[i]));
  ir_cli_config_set(cfg, "lrs", "%s", list);
  if (o->batches_given) {
    list[0] = '\0';
    for (size_t i = 0; i < o->nbatch_given; i++)
      snprintf(list + strlen(list), sizeof list - strlen(list), "%s%.0f",
               i ? "," : "", o->batches_given[i]);
    ir_cli_config_set(cfg, "batches", "%s", list);
  }
  if (o->goal_set)
    ir_cli_config_set(cfg, "loss-goal", "%s",
                      ir_cli_fmt_double(b, sizeof b, o->goal));
  ir_cli_config_set(cfg, "max-steps", "%zu", o->max_steps);
  ir_cli_config_set(cfg, "eps", "%s", ir_cli_fmt_double(b, sizeof b, o->eps));
  ir_cli_config_set(cfg, "sharp-rank", "%zu", o->srank);
  ir_cli_config_set(cfg, "sharp-iter", "%zu", o->siter);
  ir_cli_config_set(cfg, "probes", "%zu", o->probes);
  list[0] = '\0';
  for (size_t i = 0; i < o->nalpha; i++)
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
             i ? "," : "", ir_cli_fmt_double(b, sizeof b, o->alphas[i]));
  ir_cli_config_set(cfg, "alphas", "%s", list);
  ir_cli_config_set(cfg, "mp-n", "%zu", o->mp_n);
  ir_cli_config_set(cfg, "mp-p", "%zu", o->mp_p);
  ir_cli_config_set(cfg, "mp-draws", "%zu", o->mp_draws);
  return 0;
}

/* ---- data sets ---------------------------------------------------------- */

static int load_sets(fl_run *R) {
  const fl_opts *o = R->o;
  for (int k = 0; k < MAXSETS; k++) {
    if (!o->use[k])
      continue;
    fl_set *S = &R->sets[R->nsets];
    ir_net_opts net;
    ir_net_opts_init(&net);
    const int fashion = k == 0;
    S->name = fashion ? "fashion-mnist" : "teacher";
    S->label = fashion ? "Fashion-MNIST" : "teacher";
    size_t pos = (size_t)snprintf(S->spec, sizeof S->spec, "%d",
                                  fashion ? 784 : 4);
    for (size_t l = 0; l < o->depth; l++)
      pos += (size_t)snprintf(S->spec + pos, sizeof S->spec - pos, "-%zu",
                              o->width);
    snprintf(S->spec + pos, sizeof S->spec - pos, "-%d", fashion ? 10 : 1);
    net.arch_spec = S->spec;
    net.data = S->name;
    net.n = fashion ? o->n : 64;
    if (ir_mlp_arch_parse(S->spec, &net.arch) != IR_OK)
      return ir_cli_fail(PROG, IR_EINVAL, NULL);
    net.arch.act = IR_ACT_RELU;
    net.arch.loss = fashion ? IR_LOSS_CE : IR_LOSS_HALF_SSE;
    S->arch = net.arch;
    int rc = ir_net_load(PROG, &net, R->o->common.seed, &S->X, &S->Y, S->desc,
                         sizeof S->desc);
    if (rc == 0)
      rc = ir_net_load_test(PROG, &net, R->o->common.seed, o->ntest, &S->Xt,
                            &S->Yt);
    if (rc != 0)
      return rc;
    S->m = ir_model_mlp_alloc(&S->arch, S->X, S->Y);
    S->mt = ir_model_mlp_alloc(&S->arch, S->Xt, S->Yt);
    if (S->m == NULL || S->mt == NULL)
      return ir_cli_fail(PROG, IR_EINVAL, NULL);
    S->p = S->m->nparams;
    S->classify = fashion;
    S->goal = o->goal_set ? o->goal
              : fashion   ? 0.01
              : o->common.quick ? 5e-3
                                : 1e-3;
    static const size_t bf[] = {32, 128, 0}, bt[] = {8, 16, 0};
    if (o->batches_given) {
      S->nbatch = o->nbatch_given;
      for (size_t i = 0; i < S->nbatch; i++) {
        size_t b = (size_t)o->batches_given[i];
        S->batch[i] = b >= S->m->nsamples ? 0 : b;
        for (size_t j = 0; j < i; j++)
          if (S->batch[j] == S->batch[i])
            return ir_cli_usage_error(
                PROG, "--batches: %.0f and %.0f are the same batch size for "
                "the %s set (%zu samples; a size >= n is the full batch)",
                o->batches_given[j], o->batches_given[i], S->name,
                S->m->nsamples);
      }
    } else {
      S->nbatch = 3;
      memcpy(S->batch, fashion ? bf : bt, sizeof bf);
    }
    if (R->pmax < S->p)
      R->pmax = S->p;
    R->nsets++;
  }
  return 0;
}

/* ---- cells ---------------------------------------------------------------- */

typedef struct {
  size_t set, lr, batch, seed;
} fl_coord;

static size_t cells_per_set(const fl_run *R) {
  return R->o->nlr * R->sets[0].nbatch * R->seeds;
}

static fl_coord coord_of(const fl_run *R, size_t cell) {
  fl_coord c;
  const size_t per = cells_per_set(R), nb = R->sets[0].nbatch;
  c.set = cell / per;
  size_t r = cell % per;
  c.lr = r / (nb * R->seeds);
  r %= nb * R->seeds;
  c.batch = r / R->seeds;
  c.seed = r % R->seeds;
  return c;
}

static size_t cell_of(const fl_run *R, size_t set, size_t lr, size_t batch,
                      size_t seed) {
  return ((set * R->o->nlr + lr) * R->sets[0].nbatch + batch) * R->seeds +
         seed;
}

/* The stream of a cell's (set, step size, batch size): the step size by its
 * bits, so that a cell's numbers do not depend on the rest of the grid. */
static uint64_t cell_key(const fl_set *S, double lr, size_t batch) {
  uint64_t bits;
  memcpy(&bits, &lr, sizeof bits);
  return ir_rng_mix64(bits ^ ir_rng_mix64((uint64_t)batch + 1) ^
                      ir_rng_mix64((uint64_t)S->p));
}

static int error_rate(ir_model *m, const gsl_vector *th, const gsl_matrix *X,
                      const gsl_matrix *Y, double *err) {
  double acc;
  int s = ir_mlp_accuracy(m, th, X, Y, &acc);
  *err = 1 - acc;
  return s;
}

static void flat_params(const fl_opts *o, unsigned long seed, uint64_t key,
                        ir_flatness_params *fp) {
  ir_flatness_params_default(fp);
  fp->trace_probes = o->probes;
  fp->sharp_eps = o->eps;
  fp->sharp_rank = o->srank;
  fp->sharp_iter = o->siter;
  fp->seed = seed;
  fp->stream = ir_rng_stream(IR_STREAM_PROBE, 300, key);
}

static int run_cell(void *ctx, size_t cell, double *out) {
  fl_run *R = ctx;
  const fl_opts *o = R->o;
  const fl_coord c = coord_of(R, cell);
  fl_set *S = &R->sets[c.set];
  const double lr = o->lrs[c.lr];
  const size_t batch = S->batch[c.batch];
  const unsigned long seed = o->common.seed + c.seed;
  const uint64_t key = cell_key(S, lr, batch);
  for (size_t i = 0; i < R->nout; i++)
    out[i] = NAN;
  gsl_vector *th = gsl_vector_alloc(S->p), *d1 = gsl_vector_alloc(S->p),
             *d2 = gsl_vector_alloc(S->p);
  double *vtop = malloc(S->p * sizeof(double));
  if (!th || !d1 || !d2 || !vtop) {
    free(vtop);
    if (th) gsl_vector_free(th);
    if (d1) gsl_vector_free(d1);
    if (d2) gsl_vector_free(d2);
    return ir_error(IR_ENOMEM, "out of memory");
  }
  /* The initialization depends on (set, seed) only: every step size and
   * batch size of a seed starts from the same weights (paired runs). */
  gsl_rng *r = ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_INIT, 400 + c.set,
                                                S->p));
  int s = r ? IR_OK : IR_ENOMEM;
  if (s == IR_OK)
    ir_mlp_init_torch(&S->arch, r, th);
  ir_rng_free(r);
  ir_optim_params op;
  ir_optim_params_default(&op);
  op.lr = lr;
  op.batch = batch;
  op.max_steps = o->max_steps;
  op.loss_goal = S->goal;
  op.seed = seed;
  op.stream = ir_rng_stream(IR_STREAM_SGD, 400 + c.set, key);
  ir_optim_result res;
  double t0 = ir_wall_time();
  if (s == IR_OK)
    s = ir_optim_run(S->m, &op, th, NULL, NULL, &res);
  if (s != IR_OK)
    goto done;
  out[C_SECS_TRAIN] = ir_wall_time() - t0;
  t0 = ir_wall_time();
  out[C_STEPS] = (double)res.steps;
  out[C_GOAL] = res.reason == IR_OPTIM_GOAL;
  out[C_DIVERGED] = res.diverged;
  if ((s = ir_model_loss_grad(S->mt, th, NULL, 0, &out[C_TEST_LOSS], NULL)) !=
      IR_OK)
    goto done;
  if (S->classify &&
      ((s = error_rate(S->m, th, S->X, S->Y, &out[C_TRAIN_ERR])) != IR_OK ||
       (s = error_rate(S->mt, th, S->Xt, S->Yt, &out[C_TEST_ERR])) != IR_OK))
    goto done;
  ir_flatness_params fp;
  flat_params(o, seed, key, &fp);
  ir_flatness_measures fm;
  if ((s = ir_flatness_measure(S->m, &S->arch, th, &fp, &fm, vtop)) != IR_OK)
    goto done;
  out[C_TRAIN_LOSS] = fm.loss;
  out[C_LMAX] = fm.lambda_max;
  out[C_LRES] = fm.lambda_res;
  out[C_LHVPS] = (double)fm.lambda_hvps;
  out[C_LCONV] = fm.lambda_conv;
  out[C_TRACE] = fm.trace * (ir_cli_broken("hutchinson") ? 1.25 : 1.0);
  out[C_TRACE_SE] = fm.trace_se;
  out[C_TRACE_EXACT] = fm.trace_exact;
  out[C_LDENSE] = fm.lambda_dense;
  out[C_SHARP_I] = fm.sharp_full;
  out[C_SHARP_I_EVALS] = (double)fm.sharp_full_evals;
  out[C_SHARP_A] = fm.sharp_sub;
  out[C_SHARP_A_EVALS] = (double)fm.sharp_sub_evals;
  out[C_THETA_NORM] = fm.theta_norm;
  out[C_GRAD2] = fm.grad_norm2;
  out[C_LBAL] = fm.lambda_bal;
  out[C_LBAL_RES] = fm.lambda_bal_res;
  /* Slices: t in [-1, 1] along a filter-normalized random direction and
   * along the top eigenvector (filter-normalized the same way, so the two
   * are on the network's own scale). */
  double t[NT], t2[NS2];
  for (size_t i = 0; i < NT; i++)
    t[i] = -1.0 + 2.0 * (double)i / (NT - 1);
  for (size_t i = 0; i < NS2; i++)
    t2[i] = -1.0 + 2.0 * (double)i / (NS2 - 1);
  const uint64_t dstream = ir_rng_stream(IR_STREAM_PROBE, 310, key);
  s = ir_landscape_direction(&S->arch, th, seed, dstream, d1);
  if (s == IR_OK)
    s = ir_landscape_slice_mlp(&S->arch, S->X, S->Y, th, d1, NULL, t, NT,
                               NULL, 0, out + OFF_SLICE_R);
  if (s == IR_OK) {
    memcpy(d2->data, vtop, S->p * sizeof(double));
    s = ir_landscape_normalize(&S->arch, th, d2);
  }
  if (s == IR_OK)
    s = ir_landscape_slice_mlp(&S->arch, S->X, S->Y, th, d2, NULL, t, NT,
                               NULL, 0, out + OFF_SLICE_V);
  /* The 2-D picture for the first seed at every step size and batch. */
  if (s == IR_OK && c.seed == 0) {
    s = ir_landscape_direction(&S->arch, th, seed, dstream + 1, d2);
    if (s == IR_OK)
      s = ir_landscape_slice_mlp(&S->arch, S->X, S->Y, th, d1, d2, t2, NS2,
                                 t2, NS2, out + OFF_SLICE2);
  }
  if (s == IR_OK)
    memcpy(out + OFF_THETA, th->data, S->p * sizeof(double));
  out[C_SECS_MEASURE] = ir_wall_time() - t0;
done:
  free(vtop);
  gsl_vector_free(th);
  gsl_vector_free(d1);
  gsl_vector_free(d2);
  return s;
}

static void cell_progress(void *ctx, size_t done, size_t total,
                          double elapsed) {
  const fl_run *R = ctx;
  const double eta = done ? elapsed * (double)(total - done) / (double)done : 0;
  ir_cli_progress(&R->o->common, AN, "cell %zu/%zu done, %.0f s, about %.0f s "
                  "left", done, total, elapsed, eta);
}

static const double *cell_out(const fl_run *R, size_t cell) {
  return R->out + cell * R->nout;
}

/* ---- assembly: the end points ---------------------------------------- */

static double gap_loss(const double *c) { return c[C_TEST_LOSS] - c[C_TRAIN_LOSS]; }
static double gap_err(const double *c) { return c[C_TEST_ERR] - c[C_TRAIN_ERR]; }

static ir_table *endpoints_table(const fl_run *R) {
  ir_table *t = ir_table_alloc("endpoints", "End points of the sweep: one "
                               "row per trained network");
  if (t == NULL)
    return NULL;
  ir_table_add_column(t, "data", IR_COL_STRING, NULL);
  ir_table_add_column(t, "lr", IR_COL_DOUBLE, "step size eta");
  ir_table_add_column(t, "batch", IR_COL_INT, "mini-batch size (n: GD)");
  ir_table_add_column(t, "method", IR_COL_STRING, "GD or SGD");
  ir_table_add_column(t, "seed", IR_COL_INT, NULL);
  ir_table_add_column(t, "steps", IR_COL_INT, "parameter updates");
  ir_table_add_column(t, "goal_reached", IR_COL_INT,
                      "1: training loss <= the goal; 0: step cap (kept, "
                      "marked, left out of the correlations)");
  ir_table_add_column(t, "train_loss", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "test_loss", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "gap", IR_COL_DOUBLE, "test loss - train loss");
  ir_table_add_column(t, "train_error", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "test_error", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "error_gap", IR_COL_DOUBLE,
                      "test error - train error");
  ir_table_add_column(t, "lambda_max", IR_COL_DOUBLE,
                      "largest Hessian eigenvalue (Lanczos)");
  ir_table_add_column(t, "lambda_residual", IR_COL_DOUBLE, "||Hv - lambda v||");
  ir_table_add_column(t, "lambda_hvps", IR_COL_INT, "Lanczos products");
  ir_table_add_column(t, "eta_lambda_over_2", IR_COL_DOUBLE,
                      "eta lambda_max / 2 (1 at GD's stability threshold)");
  ir_table_add_column(t, "trace", IR_COL_DOUBLE, "Hutchinson estimate");
  ir_table_add_column(t, "trace_se", IR_COL_DOUBLE, "its standard error");
  ir_table_add_column(t, "trace_exact", IR_COL_DOUBLE,
                      "sum of the Hessian's diagonal (p <= 600)");
  ir_table_add_column(t, "sharpness_I", IR_COL_DOUBLE,
                      "Keskar epsilon-sharpness, A = I (a lower bound)");
  ir_table_add_column(t, "sharpness_I_evals", IR_COL_INT,
                      "loss-and-gradient evaluations");
  ir_table_add_column(t, "sharpness_A", IR_COL_DOUBLE,
                      "the same in a random p x r subspace");
  ir_table_add_column(t, "sharpness_A_evals", IR_COL_INT, NULL);
  ir_table_add_column(t, "lambda_balanced", IR_COL_DOUBLE,
                      "lambda_max after balancing the layers' norms "
                      "(invariant to rescaling)");
  ir_table_add_column(t, "theta_norm", IR_COL_DOUBLE, "||theta||_2");
  ir_table_add_column(t, "grad_norm2", IR_COL_DOUBLE, "||grad L||^2");
  for (size_t i = 0; i < R->ncell; i++) {
    const fl_coord c = coord_of(R, i);
    const fl_set *S = &R->sets[c.set];
    const double *v = cell_out(R, i);
    const size_t b = S->batch[c.batch];
    int k = 0;
    ir_table_add_row(t);
    ir_table_set_string(t, k++, S->name);
    ir_table_set_double(t, k++, R->o->lrs[c.lr]);
    ir_table_set_int(t, k++, (long)(b ? b : S->m->nsamples));
    ir_table_set_string(t, k++, b ? "SGD" : "GD");
    ir_table_set_int(t, k++, (long)(R->o->common.seed + c.seed));
    ir_table_set_int(t, k++, (long)v[C_STEPS]);
    ir_table_set_int(t, k++, (long)v[C_GOAL]);
    ir_table_set_double(t, k++, v[C_TRAIN_LOSS]);
    ir_table_set_double(t, k++, v[C_TEST_LOSS]);
    ir_table_set_double(t, k++, gap_loss(v));
    ir_table_set_double(t, k++, v[C_TRAIN_ERR]);
    ir_table_set_double(t, k++, v[C_TEST_ERR]);
    ir_table_set_double(t, k++, gap_err(v));
    ir_table_set_double(t, k++, v[C_LMAX]);
    ir_table_set_double(t, k++, v[C_LRES]);
    ir_table_set_int(t, k++, (long)v[C_LHVPS]);
    ir_table_set_double(t, k++, R->o->lrs[c.lr] * v[C_LMAX] / 2);
    ir_table_set_double(t, k++, v[C_TRACE]);
    ir_table_set_double(t, k++, v[C_TRACE_SE]);
    ir_table_set_double(t, k++, v[C_TRACE_EXACT]);
    ir_table_set_double(t, k++, v[C_SHARP_I]);
    ir_table_set_int(t, k++, (long)v[C_SHARP_I_EVALS]);
    ir_table_set_double(t, k++, v[C_SHARP_A]);
    ir_table_set_int(t, k++, isfinite(v[C_SHARP_A_EVALS])
                                 ? (long)v[C_SHARP_A_EVALS] : 0);
    ir_table_set_double(t, k++, v[C_LBAL]);
    ir_table_set_double(t, k++, v[C_THETA_NORM]);
    ir_table_set_double(t, k++, v[C_GRAD2]);
  }
  char note[512];
  snprintf(note, sizeof note, "epsilon = %g, random subspace r = %zu, %zu "
           "ascent iterations; %zu Hutchinson probes; slices and paths in "
           "their own tables", R->o->eps, R->o->srank, R->o->siter,
           R->o->probes);
  ir_table_add_note(t, note);
  for (size_t s = 0; s < R->nsets; s++) {
    snprintf(note, sizeof note, "%s: %s ReLU, %s, loss goal %g, step cap "
             "%zu; %s", R->sets[s].name, R->sets[s].spec,
             ir_loss_formula(R->sets[s].arch.loss), R->sets[s].goal,
             R->o->max_steps, R->sets[s].desc);
    ir_table_add_note(t, note);
  }
  return t;
}

/* ---- findings: directions with their strength ------------------------- */

typedef struct {
  const char *name, *label;
  int col;
} fl_measure;

static const fl_measure measures[] = {
    {"lambda_max", "λ_max", C_LMAX},
    {"trace", "trace", C_TRACE},
    {"sharpness_I", "ε-sharpness (A = I)", C_SHARP_I},
    {"sharpness_A", "ε-sharpness (random A)", C_SHARP_A},
    {"lambda_balanced", "balanced λ_max", C_LBAL},
    {"theta_norm", "‖θ‖", C_THETA_NORM}};
#define NMEAS (sizeof measures / sizeof measures[0])

typedef struct {
  ir_table *t;
  int c_data, c_question, c_x, c_y, c_n, c_stat, c_val, c_lo, c_hi, c_dir;
} fl_findings;

static void finding(fl_findings *F, const char *data, const char *question,
                    const char *x, const char *y, size_t n, const char *stat,
                    double val, double lo, double hi, const char *dir) {
  ir_table_add_row(F->t);
  ir_table_set_string(F->t, F->c_data, data);
  ir_table_set_string(F->t, F->c_question, question);
  ir_table_set_string(F->t, F->c_x, x);
  ir_table_set_string(F->t, F->c_y, y);
  ir_table_set_int(F->t, F->c_n, (long)n);
  ir_table_set_string(F->t, F->c_stat, stat);
  ir_table_set_double(F->t, F->c_val, val);
  ir_table_set_double(F->t, F->c_lo, lo);
  ir_table_set_double(F->t, F->c_hi, hi);
  ir_table_set_string(F->t, F->c_dir, dir);
}

static const char *tau_direction(double lo, double hi) {
  if (lo == hi && lo != 0)
    return lo > 0 ? "increasing in every pair that differs (jackknife "
                    "interval degenerate)"
                  : "decreasing in every pair that differs (jackknife "
                    "interval degenerate)";
  if (lo > 0)
    return "increasing (95% interval above 0)";
  if (hi < 0)
    return "decreasing (95% interval below 0)";
  return "not resolved (interval contains 0)";
}

static double sign_test(size_t k, size_t m) {
  double pv = NAN;
  if (m > 0 && ir_stats_sign_test(k, m, &pv) != IR_OK)
    pv = NAN;
  return pv;
}

/* τ of each measure against the gap, over the runs that reached the goal. */
static int tau_findings(const fl_run *R, size_t s, fl_findings *F,
                        double taus[NMEAS]) {
  const fl_set *S = &R->sets[s];
  const size_t per = cells_per_set(R);
  double *x = malloc(per * sizeof(double)), *y = malloc(per * sizeof(double));
  if (x == NULL || y == NULL) {
    free(x);
    free(y);
    return ir_error(IR_ENOMEM, "out of memory");
  }
  for (int g = 0; g < 1 + S->classify; g++)
    for (size_t k = 0; k < NMEAS; k++) {
      size_t n = 0;
      for (size_t i = 0; i < per; i++) {
        const double *v = cell_out(R, s * per + i);
        const double xv = v[measures[k].col], yv = g ? gap_err(v) : gap_loss(v);
        if (v[C_GOAL] == 1 && isfinite(xv) && isfinite(yv)) {
          x[n] = xv;
          y[n++] = yv;
        }
      }
      double tau = NAN, se, lo = NAN, hi = NAN;
      if (n >= 3 && ir_stats_kendall_tau_ci(x, y, n, 0.95, &tau, &se, &lo,
                                            &hi) != IR_OK) {
        tau = lo = hi = NAN; /* a constant measure: no rank correlation */
        ir_error_clear();
      }
      if (g == 0)
        taus[k] = tau;
      finding(F, S->name, "does flatness predict the gap?",
              measures[k].name, g ? "error gap" : "loss gap", n,
              "Kendall tau_b", tau, lo, hi,
              isfinite(tau) ? tau_direction(lo, hi) : "too few runs");
    }
  free(x);
  free(y);
  return IR_OK;
}

/* Keskar et al.: large vs small batch at equal step, paired by seed (same
 * initialization); and the step size at equal batch (τ of η against
 * λ_max over step sizes and seeds). */
static void batch_findings(const fl_run *R, size_t s, fl_findings *F) {
  const fl_set *S = &R->sets[s];
  if (S->nbatch < 2)
    return;
  /* Small: the smallest mini-batch; large: full batch when present, else
   * the largest. */
  size_t small = 0, large = 0;
  for (size_t j = 0; j < S->nbatch; j++) {
    const size_t bj = S->batch[j] ? S->batch[j] : SIZE_MAX;
    const size_t bs = S->batch[small] ? S->batch[small] : SIZE_MAX;
    const size_t bl = S->batch[large] ? S->batch[large] : SIZE_MAX;
    if (bj < bs)
      small = j;
    if (bj > bl)
      large = j;
  }
  if (small == large)
    return;
  const int cols[3] = {C_LMAX, C_SHARP_I, -1};
  const char *names[3] = {"lambda_max", "sharpness_I", "loss gap"};
  for (int q = 0; q < 3; q++) {
    size_t m = 0, k = 0;
    double *ratio = malloc(R->o->nlr * R->seeds * sizeof(double));
    if (ratio == NULL)
      return;
    for (size_t i = 0; i < R->o->nlr; i++)
      for (size_t sd = 0; sd < R->seeds; sd++) {
        const double *a = cell_out(R, cell_of(R, s, i, small, sd)),
                     *b = cell_out(R, cell_of(R, s, i, large, sd));
        if (a[C_GOAL] != 1 || b[C_GOAL] != 1)
          continue;
        const double va = cols[q] >= 0 ? a[cols[q]] : gap_loss(a),
                     vb = cols[q] >= 0 ? b[cols[q]] : gap_loss(b);
        if (!isfinite(va) || !isfinite(vb) || va == vb)
          continue; /* a tie tells neither way (sign test) */
        ratio[m] = cols[q] >= 0 ? vb / va : vb - va;
        k += vb > va;
        m++;
      }
    double med = NAN;
    if (m > 0) {
      ir_summary sum;
      if (ir_stats_summary(ratio, m, 0.95, &sum) == IR_OK)
        med = sum.median;
    }
    free(ratio);
    const double pv = sign_test(k, m);
    char x[128], dir[160], stat[96];
    snprintf(x, sizeof x, "batch %zu vs %zu", S->batch[large]
             ? S->batch[large] : S->m->nsamples, S->batch[small]);
    snprintf(stat, sizeof stat, cols[q] >= 0 ? "median ratio large/small; "
             "larger in %zu of %zu pairs" : "median difference large - "
             "small; larger in %zu of %zu pairs", k, m);
    if (m == 0)
      snprintf(dir, sizeof dir, "no pair reached the goal");
    else if (pv < 0.05)
      snprintf(dir, sizeof dir, "%s with the large batch (sign test p = "
               "%.2g)", 2 * k > m ? "larger" : "smaller", pv);
    else
      snprintf(dir, sizeof dir, "not resolved (sign test p = %.2g)", pv);
    finding(F, S->name, "large vs small batch at equal step (Keskar)", x,
            names[q], m, stat, med, (double)k, (double)m, dir);
  }
  /* Step size at equal batch. */
  for (size_t j = 0; j < S->nbatch; j++) {
    double x[256], y[256];
    size_t n = 0;
    for (size_t i = 0; i < R->o->nlr; i++)
      for (size_t sd = 0; sd < R->seeds && n < 256; sd++) {
        const double *v = cell_out(R, cell_of(R, s, i, j, sd));
        if (v[C_GOAL] == 1 && isfinite(v[C_LMAX])) {
          x[n] = R->o->lrs[i];
          y[n++] = v[C_LMAX];
        }
      }
    double tau = NAN, se, lo = NAN, hi = NAN;
    if (n >= 3 &&
        ir_stats_kendall_tau_ci(x, y, n, 0.95, &tau, &se, &lo, &hi) != IR_OK) {
      tau = lo = hi = NAN;
      ir_error_clear();
    }
    char bx[64];
    snprintf(bx, sizeof bx, "step size at batch %zu",
             S->batch[j] ? S->batch[j] : S->m->nsamples);
    finding(F, S->name, "step size at equal batch", bx, "lambda_max", n,
            "Kendall tau_b", tau, lo, hi,
            isfinite(tau) ? tau_direction(lo, hi) : "too few runs");
  }
  /* GD's end points against its stability threshold 2/η. */
  for (size_t j = 0; j < S->nbatch; j++) {
    if (S->batch[j] != 0)
      continue;
    double lo = INFINITY, hi = -INFINITY, v2[256];
    size_t n = 0;
    for (size_t i = 0; i < R->o->nlr; i++)
      for (size_t sd = 0; sd < R->seeds && n < 256; sd++) {
        const double *v = cell_out(R, cell_of(R, s, i, j, sd));
        if (v[C_GOAL] != 1 || !isfinite(v[C_LMAX]))
          continue;
        v2[n] = R->o->lrs[i] * v[C_LMAX] / 2;
        lo = fmin(lo, v2[n]);
        hi = fmax(hi, v2[n]);
        n++;
      }
    ir_summary sum;
    if (n >= 1 && ir_stats_summary(v2, n, 0.95, &sum) == IR_OK) {
      char dir[128];
      snprintf(dir, sizeof dir, hi <= 1 ? "all at or below 2/eta" :
               "some above 2/eta (edge of stability)");
      finding(F, S->name, "GD end points against 2/eta (Cohen et al.)",
              "eta lambda_max / 2", "", n, "median (min, max)", sum.median, lo,
              hi, dir);
    }
  }
}

static ir_table *findings_table(fl_findings *F) {
  ir_table *t = ir_table_alloc("findings", "What the sweep shows: directions "
                               "with their measured strength (not verdicts)");
  if (t == NULL)
    return NULL;
  F->t = t;
  F->c_data = ir_table_add_column(t, "data", IR_COL_STRING, NULL);
  F->c_question = ir_table_add_column(t, "question", IR_COL_STRING, NULL);
  F->c_x = ir_table_add_column(t, "x", IR_COL_STRING, "measure or comparison");
  F->c_y = ir_table_add_column(t, "y", IR_COL_STRING, "against");
  F->c_n = ir_table_add_column(t, "n", IR_COL_INT,
                               "runs (or pairs) that reached the goal");
  F->c_stat = ir_table_add_column(t, "statistic", IR_COL_STRING, NULL);
  F->c_val = ir_table_add_column(t, "value", IR_COL_DOUBLE, NULL);
  F->c_lo = ir_table_add_column(t, "lo", IR_COL_DOUBLE,
                                "95% interval (tau: jackknife, atanh); "
                                "comparisons: pairs larger");
  F->c_hi = ir_table_add_column(t, "hi", IR_COL_DOUBLE,
                                "(comparisons: pairs in all)");
  F->c_dir = ir_table_add_column(t, "direction", IR_COL_STRING, NULL);
  ir_table_add_note(t, "Kendall tau_b over the runs that reached the loss "
                    "goal; intervals do not assume independence.  The "
                    "sweep is small: a direction 'not resolved' says the "
                    "data do not decide, not that there is no effect.");
  return t;
}

/* ---- landscape: slices and paths ---------------------------------------- */

/* The middle step size: where the pictures are drawn. */
static size_t mid_lr(const fl_run *R) { return R->o->nlr / 2; }

static int slices_output(const fl_run *R, const char *dir) {
  ir_table *t = ir_table_alloc("slices", "Loss slices L(theta + t d) through "
                               "the end points of the first seed");
  if (t == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  ir_table_add_column(t, "data", IR_COL_STRING, NULL);
  ir_table_add_column(t, "lr", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "batch", IR_COL_INT, NULL);
  ir_table_add_column(t, "t", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "loss_random", IR_COL_DOUBLE,
                      "along a filter-normalized Gaussian direction");
  ir_table_add_column(t, "loss_top_eigvec", IR_COL_DOUBLE,
                      "along the top Hessian eigenvector, filter-normalized");
  ir_table_add_note(t, "Directions filter-normalized as Li et al. 2018: each "
                    "row of each weight matrix scaled to the norm of the "
                    "same row of theta, biases 0; t in [-1, 1]");
  int s = IR_OK;
  for (size_t k = 0; k < R->nsets && s == IR_OK; k++) {
    const fl_set *S = &R->sets[k];
    for (size_t i = 0; i < R->o->nlr; i++)
      for (size_t j = 0; j < S->nbatch; j++) {
        const double *v = cell_out(R, cell_of(R, k, i, j, 0));
        for (size_t q = 0; q < NT; q++) {
          ir_table_add_row(t);
          ir_table_set_string(t, 0, S->name);
          ir_table_set_double(t, 1, R->o->lrs[i]);
          ir_table_set_int(t, 2, (long)(S->batch[j] ? S->batch[j]
                                                    : S->m->nsamples));
          ir_table_set_double(t, 3, -1.0 + 2.0 * (double)q / (NT - 1));
          ir_table_set_double(t, 4, v[OFF_SLICE_R + q]);
          ir_table_set_double(t, 5, v[OFF_SLICE_V + q]);
        }
      }
    /* Figure: the slices at the middle step size, one series per batch. */
    char name[64], title[256];
    snprintf(name, sizeof name, "slices-%s", S->name);
    snprintf(title, sizeof title, "Loss slices through end points: %s %s, "
             "η = %g", S->label, S->spec, R->o->lrs[mid_lr(R)]);
    ir_figure *f = ir_figure_alloc(name, title, "t (filter-normalized units)",
                                   "training loss (log scale)");
    if (f == NULL)
      s = ir_error(IR_ENOMEM, "out of memory");
    else
      ir_figure_set_log(f, 0, 1);
    double tt[NT];
    for (size_t q = 0; q < NT; q++)
      tt[q] = -1.0 + 2.0 * (double)q / (NT - 1);
    for (size_t j = 0; j < S->nbatch && s == IR_OK; j++) {
      const double *v = cell_out(R, cell_of(R, k, mid_lr(R), j, 0));
      char lab[96];
      snprintf(lab, sizeof lab, "%s, random", S->batch[j] ? "SGD" : "GD");
      if (S->batch[j])
        snprintf(lab, sizeof lab, "B = %zu, random", S->batch[j]);
      s = ir_figure_add_series(f, lab, tt, v + OFF_SLICE_R, NT, "lines");
      snprintf(lab + strlen(lab) - 6, 7, "top ev");
      if (s == IR_OK)
        s = ir_figure_add_series(f, lab, tt, v + OFF_SLICE_V, NT,
                                 "lines dashtype 2");
    }
    int rendered;
    if (s == IR_OK)
      s = ir_figure_write(f, dir, 1, &rendered);
    ir_figure_free(f);
  }
  if (s == IR_OK)
    s = ir_table_write(t, dir, R->o->common.formats & ~IR_FMT_TEX);
  ir_table_free(t);
  if (s != IR_OK)
    return s;
  /* The 2-D slices (first seed): a grid table for contour plots. */
  t = ir_table_alloc("slices2d", "2-D loss slices L(theta + s d1 + t d2) "
                     "through the end points of the first seed");
  if (t == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  ir_table_add_column(t, "data", IR_COL_STRING, NULL);
  ir_table_add_column(t, "lr", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "batch", IR_COL_INT, NULL);
  ir_table_add_column(t, "s", IR_COL_DOUBLE, "along d1");
  ir_table_add_column(t, "t", IR_COL_DOUBLE, "along d2");
  ir_table_add_column(t, "loss", IR_COL_DOUBLE, NULL);
  ir_table_add_note(t, "d1, d2: independent filter-normalized Gaussian "
                    "directions (d1 the direction of the 1-D slice)");
  for (size_t k = 0; k < R->nsets; k++) {
    const fl_set *S = &R->sets[k];
    for (size_t i = 0; i < R->o->nlr; i++)
      for (size_t j = 0; j < S->nbatch; j++) {
        const double *v = cell_out(R, cell_of(R, k, i, j, 0));
        for (size_t a = 0; a < NS2; a++)
          for (size_t b = 0; b < NS2; b++) {
            ir_table_add_row(t);
            ir_table_set_string(t, 0, S->name);
            ir_table_set_double(t, 1, R->o->lrs[i]);
            ir_table_set_int(t, 2, (long)(S->batch[j] ? S->batch[j]
                                                      : S->m->nsamples));
            ir_table_set_double(t, 3, -1.0 + 2.0 * (double)a / (NS2 - 1));
            ir_table_set_double(t, 4, -1.0 + 2.0 * (double)b / (NS2 - 1));
            ir_table_set_double(t, 5, v[OFF_SLICE2 + a * NS2 + b]);
          }
      }
  }
  s = ir_table_write(t, dir, R->o->common.formats & ~IR_FMT_TEX);
  ir_table_free(t);
  /* Maps at the middle step size: every batch size, first seed. */
  double g[NS2];
  for (size_t a = 0; a < NS2; a++)
    g[a] = -1.0 + 2.0 * (double)a / (NS2 - 1);
  for (size_t k = 0; k < R->nsets && s == IR_OK; k++) {
    const fl_set *S = &R->sets[k];
    for (size_t j = 0; j < S->nbatch && s == IR_OK; j++) {
      const double *v = cell_out(R, cell_of(R, k, mid_lr(R), j, 0));
      char name[96], title[256], b[32];
      if (S->batch[j])
        snprintf(b, sizeof b, "SGD, B = %zu", S->batch[j]);
      else
        snprintf(b, sizeof b, "GD");
      snprintf(name, sizeof name, "slice2d-%s-%zu", S->name,
               S->batch[j] ? S->batch[j] : S->m->nsamples);
      snprintf(title, sizeof title, "Loss around an end point: %s %s, %s, "
               "η = %g", S->label, S->spec, b, R->o->lrs[mid_lr(R)]);
      ir_figure *f = ir_figure_alloc(name, title, "s (along d1)",
                                     "t (along d2)");
      s = f ? ir_figure_set_map(f, g, NS2, g, NS2, v + OFF_SLICE2, 1,
                                "training loss")
            : ir_error(IR_ENOMEM, "out of memory");
      int rendered;
      if (s == IR_OK)
        s = ir_figure_write(f, dir, 1, &rendered);
      ir_figure_free(f);
    }
  }
  return s;
}

/* The linear path between the minima of the first two seeds, for every
 * step size and batch size; its barrier. */
static int paths_output(const fl_run *R, const char *dir, ir_table **out) {
  *out = NULL;
  if (R->seeds < 2)
    return IR_OK;
  ir_table *t = ir_table_alloc("barriers", "Linear paths between the minima "
                               "of two seeds: barrier height above the chord");
  if (t == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  ir_table_add_column(t, "data", IR_COL_STRING, NULL);
  ir_table_add_column(t, "lr", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "batch", IR_COL_INT, NULL);
  ir_table_add_column(t, "loss_a", IR_COL_DOUBLE, "seed 1's end point");
  ir_table_add_column(t, "loss_b", IR_COL_DOUBLE, "seed 2's end point");
  ir_table_add_column(t, "path_max", IR_COL_DOUBLE, "largest loss on the path");
  ir_table_add_column(t, "barrier", IR_COL_DOUBLE,
                      "max_t [L(t) - ((1-t)L(0) + tL(1))]");
  ir_table_add_note(t, "L((1 - t) theta_a + t theta_b) at 21 points; "
                    "barrier as Frankle et al. 2020 (no permutation "
                    "alignment of hidden units)");
  int s = IR_OK;
  for (size_t k = 0; k < R->nsets && s == IR_OK; k++) {
    const fl_set *S = &R->sets[k];
    char name[64], title[256];
    snprintf(name, sizeof name, "path-%s", S->name);
    snprintf(title, sizeof title, "Between two seeds' minima: %s %s, η = %g",
             S->label, S->spec, R->o->lrs[mid_lr(R)]);
    ir_figure *f = ir_figure_alloc(name, title, "t (0: seed 1, 1: seed 2)",
                                   "training loss (log scale)");
    if (f == NULL)
      s = ir_error(IR_ENOMEM, "out of memory");
    else
      ir_figure_set_log(f, 0, 1);
    for (size_t i = 0; i < R->o->nlr && s == IR_OK; i++)
      for (size_t j = 0; j < S->nbatch && s == IR_OK; j++) {
        gsl_vector_const_view a = gsl_vector_const_view_array(
            cell_out(R, cell_of(R, k, i, j, 0)) + OFF_THETA, S->p);
        gsl_vector_const_view b = gsl_vector_const_view_array(
            cell_out(R, cell_of(R, k, i, j, 1)) + OFF_THETA, S->p);
        double loss[NPATH], tt[NPATH], barrier, mx = -INFINITY;
        s = ir_landscape_path(S->m, &a.vector, &b.vector, NULL, 0, NPATH,
                              loss, &barrier);
        if (s != IR_OK)
          break;
        for (size_t q = 0; q < NPATH; q++) {
          tt[q] = (double)q / (NPATH - 1);
          mx = fmax(mx, loss[q]);
        }
        ir_table_add_row(t);
        ir_table_set_string(t, 0, S->name);
        ir_table_set_double(t, 1, R->o->lrs[i]);
        ir_table_set_int(t, 2, (long)(S->batch[j] ? S->batch[j]
                                                  : S->m->nsamples));
        ir_table_set_double(t, 3, loss[0]);
        ir_table_set_double(t, 4, loss[NPATH - 1]);
        ir_table_set_double(t, 5, mx);
        ir_table_set_double(t, 6, barrier);
        if (i == mid_lr(R)) {
          char lab[64];
          if (S->batch[j])
            snprintf(lab, sizeof lab, "SGD, B = %zu", S->batch[j]);
          else
            snprintf(lab, sizeof lab, "GD");
          s = ir_figure_add_series(f, lab, tt, loss, NPATH, "linespoints");
        }
      }
    int rendered;
    if (s == IR_OK)
      s = ir_figure_write(f, dir, 1, &rendered);
    ir_figure_free(f);
  }
  if (s != IR_OK) {
    ir_table_free(t);
    return s;
  }
  *out = t;
  return IR_OK;
}

/* ---- figures of the sweep ---------------------------------------------- */

/* Each measure (divided by its median, so that all share one axis)
 * against the loss gap, τ in the legend. */
static int measure_figures(const fl_run *R, const char *dir,
                           double taus[MAXSETS][NMEAS]) {
  int s = IR_OK;
  const size_t per = cells_per_set(R);
  double *x = malloc(per * sizeof(double)), *y = malloc(per * sizeof(double));
  if (x == NULL || y == NULL) {
    free(x);
    free(y);
    return ir_error(IR_ENOMEM, "out of memory");
  }
  for (size_t k = 0; k < R->nsets && s == IR_OK; k++) {
    const fl_set *S = &R->sets[k];
    char name[64], title[256];
    snprintf(name, sizeof name, "measures-vs-gap-%s", S->name);
    snprintf(title, sizeof title, "Flatness against the gap: %s %s (τ: "
             "Kendall)", S->label, S->spec);
    ir_figure *f = ir_figure_alloc(name, title, "test loss − train loss",
                                   "measure / its median (log scale)");
    if (f == NULL) {
      s = ir_error(IR_ENOMEM, "out of memory");
      break;
    }
    ir_figure_set_log(f, 0, 1);
    for (size_t q = 0; q < NMEAS && s == IR_OK; q++) {
      size_t n = 0;
      for (size_t i = 0; i < per; i++) {
        const double *v = cell_out(R, k * per + i);
        if (v[C_GOAL] == 1 && isfinite(v[measures[q].col]) &&
            v[measures[q].col] > 0) {
          x[n] = gap_loss(v);
          y[n++] = v[measures[q].col];
        }
      }
      if (n == 0)
        continue;
      ir_summary sum;
      if ((s = ir_stats_summary(y, n, 0.95, &sum)) != IR_OK)
        break;
      for (size_t i = 0; i < n; i++)
        y[i] /= sum.median;
      char lab[96];
      snprintf(lab, sizeof lab, "%s (τ = %.2f)", measures[q].label,
               taus[k][q]);
      s = ir_figure_add_series(f, lab, x, y, n, "points");
    }
    int rendered;
    if (s == IR_OK)
      s = ir_figure_write(f, dir, 1, &rendered);
    ir_figure_free(f);
  }
  /* λ_max against η, one series per batch (mean over seeds), with 2/η. */
  for (size_t k = 0; k < R->nsets && s == IR_OK; k++) {
    const fl_set *S = &R->sets[k];
    char name[64], title[256];
    snprintf(name, sizeof name, "sharpness-vs-lr-%s", S->name);
    snprintf(title, sizeof title, "End-point λ_max against η: %s %s",
             S->label, S->spec);
    ir_figure *f = ir_figure_alloc(name, title, "step size η",
                                   "λ_max (log scale)");
    if (f == NULL) {
      s = ir_error(IR_ENOMEM, "out of memory");
      break;
    }
    ir_figure_set_log(f, 1, 1);
    const size_t nl = R->o->nlr;
    double *m = malloc(nl * sizeof(double)), *e = malloc(nl * sizeof(double)),
           *thr = malloc(nl * sizeof(double));
    for (size_t j = 0; m && e && thr && j < S->nbatch && s == IR_OK; j++) {
      for (size_t i = 0; i < nl; i++) {
        double vals[64];
        size_t n = 0;
        for (size_t sd = 0; sd < R->seeds && n < 64; sd++) {
          const double *v = cell_out(R, cell_of(R, k, i, j, sd));
          if (isfinite(v[C_LMAX]))
            vals[n++] = v[C_LMAX];
        }
        ir_summary sum;
        m[i] = e[i] = NAN;
        if (n >= 1 && ir_stats_summary(vals, n, 0.95, &sum) == IR_OK) {
          m[i] = sum.mean;
          e[i] = n > 1 ? sum.std / sqrt((double)n) : NAN;
        }
        thr[i] = 2.0 / R->o->lrs[i];
      }
      char lab[64];
      if (S->batch[j])
        snprintf(lab, sizeof lab, "SGD, B = %zu", S->batch[j]);
      else
        snprintf(lab, sizeof lab, "GD (full batch)");
      s = ir_figure_add_series_err(f, lab, R->o->lrs, m, e, nl, "linespoints");
      if (s == IR_OK && j + 1 == S->nbatch)
        s = ir_figure_add_series(f, "2/η", R->o->lrs, thr, nl,
                                 "lines dashtype 2");
    }
    if (!m || !e || !thr)
      s = ir_error(IR_ENOMEM, "out of memory");
    free(m);
    free(e);
    free(thr);
    int rendered;
    if (s == IR_OK)
      s = ir_figure_write(f, dir, 1, &rendered);
    ir_figure_free(f);
  }
  free(x);
  free(y);
  return s;
}

/* ---- Dinh et al.: the rescaling study ---------------------------------- */

enum { D_ALPHA, D_LOSS, D_PRED, D_LMAX, D_LRES, D_LPRED, D_LPRED_RES, D_TRACE,
       D_TRACE_SE, D_SHARP, D_LBAL, D_LBAL_RES, D_NOUT };

typedef struct {
  fl_run *R;
  size_t sets[MAXSETS], nsets; /* the sets with a ReLU network */
} fl_dinh;

/* The end point the study rescales: the first seed's, at the middle step
 * size and the first batch size of the list. */
static size_t dinh_cell(const fl_run *R, size_t set) {
  return cell_of(R, set, mid_lr(R), 0, 0);
}

static int dinh_cell_fn(void *ctx, size_t cell, double *out) {
  fl_dinh *D = ctx;
  fl_run *R = D->R;
  const size_t k = D->sets[cell / R->o->nalpha];
  const double alpha = R->o->alphas[cell % R->o->nalpha];
  fl_set *S = &R->sets[k];
  const size_t c0 = dinh_cell(R, k);
  const fl_coord c = coord_of(R, c0);
  gsl_vector_const_view th = gsl_vector_const_view_array(
      cell_out(R, c0) + OFF_THETA, S->p);
  ir_flatness_params fp;
  flat_params(R->o, R->o->common.seed + c.seed,
              ir_rng_mix64(0xd1a4 + k), &fp);
  ir_rescale_row row;
  int s = ir_flatness_rescale(S->m, &S->arch, S->X, &th.vector, 0, alpha, &fp,
                              &row);
  if (s == IR_OK && ir_cli_broken("conj")) {
    /* D instead of D⁻¹ in the prediction. */
    ir_rescale_row other;
    s = ir_flatness_rescale(S->m, &S->arch, S->X, &th.vector, 0, 1 / alpha,
                            &fp, &other);
    row.lambda_pred = other.lambda_pred;
  }
  if (s == IR_OK && ir_cli_broken("rescale-bias")) {
    /* The scaled layer's bias left unscaled: the function changes. */
    gsl_vector *ta = gsl_vector_alloc(S->p);
    gsl_matrix *F0 = gsl_matrix_alloc(S->X->size1, S->m->nout),
               *F1 = gsl_matrix_alloc(S->X->size1, S->m->nout);
    s = (ta && F0 && F1) ? ir_mlp_rescale(&S->arch, &th.vector, 0, alpha, ta)
                         : IR_ENOMEM;
    const size_t b0 = ir_mlp_bias_offset(&S->arch, 0);
    for (size_t i = 0; s == IR_OK && i < S->arch.width[1]; i++)
      ta->data[b0 + i] /= alpha;
    if (s == IR_OK)
      s = ir_model_loss_grad(S->m, ta, NULL, 0, &row.loss, NULL);
    if (s == IR_OK)
      s = ir_model_predict(S->m, &th.vector, S->X, F0);
    if (s == IR_OK)
      s = ir_model_predict(S->m, ta, S->X, F1);
    if (s == IR_OK) {
      row.pred_maxdiff = 0;
      for (size_t i = 0; i < F0->size1 * F0->size2; i++)
        row.pred_maxdiff = fmax(row.pred_maxdiff,
                                fabs(F0->data[i] - F1->data[i]));
    }
    if (ta) gsl_vector_free(ta);
    if (F0) gsl_matrix_free(F0);
    if (F1) gsl_matrix_free(F1);
  }
  if (s == IR_OK && ir_cli_broken("balance")) {
    row.lambda_bal = row.lambda_max; /* balancing that does nothing */
    row.lambda_bal_res = row.lambda_res;
  }
  if (s != IR_OK)
    return s;
  const double v[D_NOUT] = {alpha, row.loss, row.pred_maxdiff, row.lambda_max,
                            row.lambda_res, row.lambda_pred,
                            row.lambda_pred_res, row.trace, row.trace_se,
                            row.sharp, row.lambda_bal, row.lambda_bal_res};
  memcpy(out, v, sizeof v);
  return IR_OK;
}

/* λ_max of f(a, b) = ½(ab − 1)² at (α, 1/α) by Lanczos on the model's
 * Hessian-vector products (docs/theory.md §9: α² + α⁻²). */
static int toy_lambda(double alpha, double *lam, double *res) {
  double one = 1.0;
  gsl_vector_view x = gsl_vector_view_array(&one, 1);
  gsl_vector_view y = gsl_vector_view_array(&one, 1);
  ir_model *m = ir_model_product_alloc(&x.vector, &y.vector);
  if (m == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  double ab[2] = {alpha, ir_cli_broken("toy-point") ? alpha : 1 / alpha};
  gsl_vector_view th = gsl_vector_view_array(ab, 2);
  ir_hessian_op h = {m, &th.vector, NULL, 0};
  ir_linop op = ir_linop_hessian(&h);
  ir_lanczos_params lp;
  ir_lanczos_params_default(&lp);
  lp.tol = 1e-12;
  ir_eig_result *e = NULL;
  int s = ir_lanczos_eigs(&op, &lp, &e);
  if (s == IR_OK) {
    *lam = e->values[0];
    *res = e->residuals[0];
  }
  ir_eig_result_free(e);
  ir_model_free(m);
  return s;
}

static int dinh_output(fl_run *R, const char *dir, ir_checks *chk,
                       double *dinh_secs) {
  const double t0 = ir_wall_time();
  fl_dinh D;
  memset(&D, 0, sizeof D);
  D.R = R;
  for (size_t k = 0; k < R->nsets; k++)
    if (R->sets[k].arch.nlayers >= 2)
      D.sets[D.nsets++] = k;
  const size_t na = R->o->nalpha;
  double *out = malloc(D.nsets * na * D_NOUT * sizeof(double));
  if (out == NULL && D.nsets > 0)
    return ir_error(IR_ENOMEM, "out of memory");
  ir_cells_params cp;
  ir_cells_params_default(&cp);
  cp.ncells = D.nsets * na;
  cp.nout = D_NOUT;
  cp.workers = R->o->common.threads > 0 ? R->o->common.threads
                                        : ir_cells_ncpu();
  /* Local: it rescales the networks the main sweep trained. */
  int s = ir_cli_cells_run(PROG, &R->o->common, R->cfg, "rescaling",
                           IR_CLI_CELLS_LOCAL, &cp, dinh_cell_fn, &D, out);
  if (s != IR_OK) {
    free(out);
    return s;
  }
  ir_table *t = ir_table_alloc("rescaling", "Dinh et al.'s rescaling: layer 1 "
                               "times alpha, layer 2's weights over alpha");
  if (t == NULL) {
    free(out);
    return ir_error(IR_ENOMEM, "out of memory");
  }
  ir_table_add_column(t, "data", IR_COL_STRING, NULL);
  ir_table_add_column(t, "alpha", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "loss", IR_COL_DOUBLE, "training loss at D theta");
  ir_table_add_column(t, "max_prediction_change", IR_COL_DOUBLE,
                      "max |f_{D theta}(x) - f_theta(x)| over the training "
                      "inputs");
  ir_table_add_column(t, "lambda_max", IR_COL_DOUBLE,
                      "Lanczos on H(D theta)");
  ir_table_add_column(t, "lambda_residual", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "lambda_predicted", IR_COL_DOUBLE,
                      "Lanczos on D^-1 H(theta) D^-1 (products at theta)");
  ir_table_add_column(t, "predicted_residual", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "trace", IR_COL_DOUBLE, "Hutchinson at D theta");
  ir_table_add_column(t, "trace_se", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "sharpness_I", IR_COL_DOUBLE,
                      "epsilon-sharpness, A = I");
  ir_table_add_column(t, "lambda_balanced", IR_COL_DOUBLE,
                      "lambda_max after balancing D theta");
  ir_table_add_column(t, "balanced_residual", IR_COL_DOUBLE, NULL);
  ir_table_add_note(t, "theta: the first seed's end point at the middle step "
                    "size and the first batch size; H(D theta) = D^-1 "
                    "H(theta) D^-1 exactly because L(D theta) = L(theta)");
  for (size_t q = 0; q < D.nsets && s == IR_OK; q++) {
    const fl_set *S = &R->sets[D.sets[q]];
    const double *rows = out + q * na * D_NOUT;
    const double *one = NULL;
    for (size_t a = 0; a < na; a++)
      if (rows[a * D_NOUT + D_ALPHA] == 1)
        one = rows + a * D_NOUT;
    /* The reference point: alpha = 1 when it is in the list, else θ's own
     * loss. */
    double L1 = one ? one[D_LOSS] : NAN;
    if (one == NULL) {
      gsl_vector_const_view th = gsl_vector_const_view_array(
          cell_out(R, dinh_cell(R, D.sets[q])) + OFF_THETA, S->p);
      s = ir_model_loss_grad(S->m, &th.vector, NULL, 0, &L1, NULL);
    }
    double worst_loss = 0;
    double wl_a = 1, wp_meas = NAN, wp_pred = NAN, wp_tol = NAN, wp_ratio = -1;
    double wb_meas = NAN, wb_tol = NAN, wb_ratio = -1;
    for (size_t a = 0; a < na; a++) {
      const double *v = rows + a * D_NOUT;
      int k = 0;
      ir_table_add_row(t);
      ir_table_set_string(t, k++, S->name);
      for (int j = D_ALPHA; j < D_NOUT; j++)
        ir_table_set_double(t, k++, v[j]);
      if (fabs(v[D_LOSS] - L1) > worst_loss) {
        worst_loss = fabs(v[D_LOSS] - L1);
        wl_a = v[D_ALPHA];
      }
      const double tp = v[D_LRES] + v[D_LPRED_RES] +
                        1e3 * DBL_EPSILON * fabs(v[D_LMAX]);
      const double rp = fabs(v[D_LMAX] - v[D_LPRED]) / tp;
      if (!(rp <= wp_ratio)) {
        wp_ratio = rp;
        wp_meas = v[D_LMAX];
        wp_pred = v[D_LPRED];
        wp_tol = tp;
      }
      if (one) {
        const double tb = v[D_LBAL_RES] + one[D_LBAL_RES] +
                          1e3 * DBL_EPSILON * fabs(one[D_LBAL]);
        const double rb = fabs(v[D_LBAL] - one[D_LBAL]) / tb;
        if (!(rb <= wb_ratio)) {
          wb_ratio = rb;
          wb_meas = v[D_LBAL];
          wb_tol = tb;
        }
      }
    }
    /* Rounding bound for the loss: the rescaled forward pass rounds
     * differently, by about (d + H + K) ulps of the loss's scale. */
    const double ltol = 4.0 * (double)(S->arch.width[0] + S->arch.width[1] +
                                       S->arch.width[S->arch.nlayers]) *
                        DBL_EPSILON * fmax(1.0, fabs(L1));
    char claim[256], src[160];
    snprintf(src, sizeof src, "Dinh et al. 2017 arXiv:1703.04933; "
             "docs/theory.md 9");
    snprintf(claim, sizeof claim, "%s: rescaling (alpha W1, alpha b1, W2/alpha) "
             "keeps the training loss, worst alpha = %g (tolerance: rounding "
             "of the forward pass)", S->name, wl_a);
    if (s == IR_OK)
      s = ir_checks_add_abs(chk, claim, src, L1, L1 + worst_loss, ltol);
    snprintf(claim, sizeof claim, "%s: lambda_max at the rescaled weights = "
             "lambda_max of D^-1 H(theta) D^-1 from the unscaled Hessian, "
             "worst of %zu alphas (tolerance: the two residuals)", S->name,
             na);
    if (s == IR_OK)
      s = ir_checks_add_abs(chk, claim, src, wp_pred, wp_meas, wp_tol);
    if (one) {
      snprintf(claim, sizeof claim, "%s: lambda_max after balancing the "
               "layers is the same for every alpha (a rescaling-invariant "
               "sharpness; tolerance: residuals)", S->name);
      if (s == IR_OK)
        s = ir_checks_add_abs(chk, claim, "docs/theory.md 9; implreg "
                              "landscape.h (ir_mlp_balance)", one[D_LBAL],
                              wb_meas, wb_tol);
    }
    /* Figure: the measures against α. */
    char name[64], title[256];
    snprintf(name, sizeof name, "rescaling-%s", S->name);
    snprintf(title, sizeof title, "One function, many sharpnesses: %s %s "
             "rescaled", S->label, S->spec);
    ir_figure *f = ir_figure_alloc(name, title, "α (layer 1 × α, layer 2 ÷ α)",
                                   "value (log scale)");
    double *x = malloc(na * sizeof(double)), *y = malloc(na * sizeof(double));
    if (f == NULL || x == NULL || y == NULL)
      s = ir_error(IR_ENOMEM, "out of memory");
    else
      ir_figure_set_log(f, 1, 1);
    const int cols[5] = {D_LMAX, D_TRACE, D_SHARP, D_LBAL, D_LOSS};
    const char *labs[5] = {"λ_max", "trace (Hutchinson)", "ε-sharpness (A = I)",
                           "balanced λ_max", "training loss"};
    for (int j = 0; j < 5 && s == IR_OK; j++) {
      for (size_t a = 0; a < na; a++) {
        x[a] = rows[a * D_NOUT + D_ALPHA];
        y[a] = rows[a * D_NOUT + cols[j]];
      }
      s = ir_figure_add_series(f, labs[j], x, y, na,
                               j < 3 ? "linespoints" : "lines dashtype 2");
    }
    int rendered;
    if (s == IR_OK)
      s = ir_figure_write(f, dir, 1, &rendered);
    ir_figure_free(f);
    free(x);
    free(y);
  }
  /* The two-parameter example of docs/theory.md 9. */
  double worst = -1, wl = NAN, wpred = NAN, wtol = NAN, wa = NAN;
  for (size_t a = 0; a < na && s == IR_OK; a++) {
    const double al = R->o->alphas[a];
    double lam = NAN, res = NAN;
    s = toy_lambda(al, &lam, &res);
    const double pred = al * al + 1 / (al * al);
    const double tol = res + 8 * DBL_EPSILON * pred;
    if (s == IR_OK && !(fabs(lam - pred) / tol <= worst)) {
      worst = fabs(lam - pred) / tol;
      wl = lam;
      wpred = pred;
      wtol = tol;
      wa = al;
    }
  }
  if (s == IR_OK && na > 0) {
    char claim[200];
    snprintf(claim, sizeof claim, "f(a, b) = (ab - 1)^2/2: lambda_max at "
             "(alpha, 1/alpha) = alpha^2 + alpha^-2 (Lanczos), worst alpha = "
             "%g", wa);
    s = ir_checks_add_abs(chk, claim, "docs/theory.md 9 (Dinh et al.)", wpred,
                          wl, wtol);
  }
  if (s == IR_OK)
    s = ir_table_write(t, dir, R->o->common.formats);
  ir_table_free(t);
  free(out);
  *dinh_secs = ir_wall_time() - t0;
  return s;
}

/* ---- Marchenko–Pastur ---------------------------------------------------- */

static int mp_output(const fl_run *R, const char *dir, ir_checks *chk,
                     double *summary) {
  const fl_opts *o = R->o;
  const size_t n = o->mp_n, p = o->mp_p, nd = o->mp_draws;
  const double gamma = (double)p / (double)n;
  gsl_matrix *X = gsl_matrix_alloc(n, p), *Y = gsl_matrix_calloc(n, 1);
  double *ev = malloc(p * sizeof(double)), *m1 = malloc(nd * sizeof(double)),
         *m2 = malloc(nd * sizeof(double)), *ev0 = malloc(p * sizeof(double));
  int s = (X && Y && ev && m1 && m2 && ev0) ? IR_OK
                                            : ir_error(IR_ENOMEM, "out of memory");
  ir_slq_result *slq = NULL;
  const double norm = ir_cli_broken("mp-norm") ? (double)n / (double)p : 1.0;
  for (size_t d = 0; d < nd && s == IR_OK; d++) {
    gsl_rng *r = ir_rng_alloc(o->common.seed,
                              ir_rng_stream(IR_STREAM_DATA, 500 + d, n * p));
    if (r == NULL) {
      s = ir_error(IR_ENOMEM, "out of memory");
      break;
    }
    for (size_t i = 0; i < n * p; i++)
      X->data[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
    ir_rng_free(r);
    /* The Hessian of L(w) = (1/2n)||Xw - y||^2 is X'X/n: taken from the
     * model's Hessian-vector products, as for any model. */
    ir_model *m = ir_model_linear_alloc(X, Y);
    if (m == NULL) {
      s = ir_error(IR_ENOMEM, "out of memory");
      break;
    }
    gsl_vector *w = gsl_vector_calloc(p);
    ir_hessian_op h = {m, w, NULL, 0};
    ir_linop op = ir_linop_hessian(&h);
    s = w ? ir_dense_spectrum(&op, 1e-12, ev, NULL, NULL) : IR_ENOMEM;
    double a = 0, b = 0;
    for (size_t i = 0; s == IR_OK && i < p; i++) {
      ev[i] *= norm;
      a += ev[i];
      b += ev[i] * ev[i];
    }
    m1[d] = a / (double)p;
    m2[d] = b / (double)p;
    if (s == IR_OK && d == 0) {
      memcpy(ev0, ev, p * sizeof(double));
      s = ir_slq(&op, 10, 80, o->common.seed,
                 ir_rng_stream(IR_STREAM_PROBE, 501, 0), &slq);
    }
    if (w)
      gsl_vector_free(w);
    ir_model_free(m);
  }
  ir_summary s1, s2;
  if (s == IR_OK)
    s = ir_stats_summary(m1, nd, 0.95, &s1);
  if (s == IR_OK)
    s = ir_stats_summary(m2, nd, 0.95, &s2);
  double lo = 0, hi = 0;
  if (s == IR_OK)
    s = ir_theory_mp_edges(gamma, &lo, &hi);
  /* Kolmogorov distance between the first draw's eigenvalues (ascending)
   * and the law's distribution function (for the table; not a check). */
  double ks = 0;
  for (size_t i = 0; s == IR_OK && i < p; i++) {
    const double F = ir_theory_mp_cdf(gamma, ev0[i]);
    ks = fmax(ks, fmax(fabs((double)(i + 1) / (double)p - F),
                       fabs((double)i / (double)p - F)));
  }
  /* Figure and table: MP density, SLQ density, the histogram. */
  const size_t ng = 200, nbins = 40;
  double grid[200], mp[200], sd[200], se[200], bx[40], bh[40];
  if (s == IR_OK) {
    const double top = 1.15 * hi;
    for (size_t i = 0; i < ng; i++) {
      grid[i] = top * ((double)i + 0.5) / (double)ng;
      mp[i] = ir_theory_mp_density(gamma, grid[i]);
    }
    /* Smoothing on the scale of the histogram's bins (σ = width/40): the
     * default σ² = 1e-5·range resolves single eigenvalues of a p = 200
     * spectrum, which is not a density to compare with the law. */
    const double sig = (hi - lo) / 40;
    s = ir_slq_density(slq, sig * sig, grid, ng, sd, se);
    for (size_t i = 0; i < nbins; i++) {
      bx[i] = top * ((double)i + 0.5) / (double)nbins;
      bh[i] = 0;
    }
    for (size_t i = 0; i < p; i++) {
      long b = (long)floor(ev0[i] / top * (double)nbins);
      if (b >= 0 && b < (long)nbins)
        bh[b] += (double)nbins / top / (double)p;
    }
  }
  if (s == IR_OK) {
    ir_table *t = ir_table_alloc("mp", "Least-squares Hessian X'X/n against "
                                 "the Marchenko-Pastur law");
    int rc = t ? IR_OK : IR_ENOMEM;
    if (t) {
      ir_table_add_column(t, "x", IR_COL_DOUBLE, "eigenvalue");
      ir_table_add_column(t, "mp_density", IR_COL_DOUBLE,
                          "Marchenko-Pastur density (implreg theory mp)");
      ir_table_add_column(t, "slq_density", IR_COL_DOUBLE,
                          "stochastic Lanczos quadrature, 10 runs x 80 steps");
      ir_table_add_column(t, "slq_se", IR_COL_DOUBLE, NULL);
      char note[256];
      snprintf(note, sizeof note, "X: %zu x %zu, i.i.d. N(0, 1) (gamma = p/n "
               "= %g); edges %.6g, %.6g; Kolmogorov distance of the first "
               "draw's spectrum to the law %.4f", n, p, gamma, lo, hi, ks);
      ir_table_add_note(t, note);
      for (size_t i = 0; i < ng; i++) {
        ir_table_add_row(t);
        ir_table_set_double(t, 0, grid[i]);
        ir_table_set_double(t, 1, mp[i]);
        ir_table_set_double(t, 2, sd[i]);
        ir_table_set_double(t, 3, se[i]);
      }
      rc = ir_table_write(t, dir, o->common.formats & ~IR_FMT_TEX);
      ir_table_free(t);
    }
    s = rc;
  }
  if (s == IR_OK) {
    char title[200];
    snprintf(title, sizeof title, "X'X/n (n = %zu, p = %zu) against "
             "Marchenko–Pastur", n, p);
    ir_figure *f = ir_figure_alloc("mp", title, "eigenvalue", "density");
    s = f ? IR_OK : ir_error(IR_ENOMEM, "out of memory");
    if (s == IR_OK)
      s = ir_figure_add_series(f, "dense spectrum (histogram)", bx, bh, nbins,
                               "histeps");
    if (s == IR_OK)
      s = ir_figure_add_series_err(f, "SLQ density", grid, sd, se, ng,
                                   "lines");
    if (s == IR_OK)
      s = ir_figure_add_series(f, "Marchenko–Pastur", grid, mp, ng,
                               "lines dashtype 2");
    int rendered;
    if (s == IR_OK)
      s = ir_figure_write(f, dir, 1, &rendered);
    ir_figure_free(f);
  }
  /* Checks.  The mean eigenvalue is tr(X'X)/(np) = chi^2_{np}/(np): mean 1,
   * standard deviation sqrt(2/(np)) exactly, so the mean over the draws
   * has sqrt(2/(np nd)).  E[(1/p) tr (X'X/n)^2] = (n + p + 1)/n exactly for
   * Gaussian X (Wishart moments), tested with the draws' standard error. */
  if (s == IR_OK) {
    char claim[200];
    snprintf(claim, sizeof claim, "mean eigenvalue of X'X/n over %zu draws = "
             "1 (4 exact standard deviations)", nd);
    s = ir_checks_add_abs(chk, claim, "Wishart: tr X'X ~ chi^2_{np}", 1.0,
                          s1.mean, 4 * sqrt(2.0 / ((double)(n * p) * nd)));
  }
  if (s == IR_OK) {
    char claim[200];
    snprintf(claim, sizeof claim, "mean squared eigenvalue of X'X/n over %zu "
             "draws = (n + p + 1)/n (4 standard errors)", nd);
    s = ir_checks_add_abs(chk, claim, "Wishart second moment; MP limit 1 + "
                          "gamma", ((double)(n + p + 1)) / (double)n, s2.mean,
                          4 * s2.sem);
  }
  for (int k = 1; k <= 2 && s == IR_OK; k++) {
    char claim[200];
    snprintf(claim, sizeof claim, "Marchenko-Pastur density (implreg theory "
             "mp): moment %d by quadrature = the closed form %s (to 1e-10)",
             k, k == 1 ? "1" : "1 + gamma");
    s = ir_checks_add_abs(chk, claim, "Marchenko & Pastur 1967; docs/theory.md "
                          "2", ir_theory_mp_moment(gamma, k),
                          ir_theory_mp_density_moment(gamma, k), 1e-10);
  }
  summary[0] = s1.mean;
  summary[1] = s2.mean;
  summary[2] = ks;
  summary[3] = gamma;
  ir_slq_result_free(slq);
  if (X) gsl_matrix_free(X);
  if (Y) gsl_matrix_free(Y);
  free(ev);
  free(ev0);
  free(m1);
  free(m2);
  return s;
}

/* ---- the remaining checks ------------------------------------------------ */

/* Keskar's measure on docs/theory.md 9's quadratic f = ½(x − c)ᵀH(x − c),
 * H = diag(1, 2, 3), c = (1, −2, 0.5), at x = c, ε = 1e-3: 1.4375e-3 (the
 * maximum over the box is at a vertex). */
static int keskar_check(const fl_opts *o, ir_checks *chk) {
  const double h[3] = {1, 2, 3}, cc[3] = {1, -2, 0.5};
  gsl_matrix *X = gsl_matrix_calloc(3, 3), *Y = gsl_matrix_alloc(3, 1);
  if (X == NULL || Y == NULL) {
    if (X) gsl_matrix_free(X);
    if (Y) gsl_matrix_free(Y);
    return ir_error(IR_ENOMEM, "out of memory");
  }
  /* L(w) = (1/6)||Xw − y||² = ½(w − c)ᵀH(w − c) with X = diag(√(3h)). */
  for (size_t i = 0; i < 3; i++) {
    gsl_matrix_set(X, i, i, sqrt(3 * h[i]));
    gsl_matrix_set(Y, i, 0, sqrt(3 * h[i]) * cc[i]);
  }
  ir_model *m = ir_model_linear_alloc(X, Y);
  int s = m ? IR_OK : IR_ENOMEM;
  double w[3] = {cc[0], cc[1], cc[2]};
  gsl_vector_view th = gsl_vector_view_array(w, 3);
  ir_sharpness_params sp;
  ir_sharpness_params_default(&sp);
  sp.eps = 1e-3;
  sp.max_iter = 50;
  sp.seed = o->common.seed;
  if (ir_cli_broken("keskar-box"))
    sp.rank = 2; /* a random A where A = I was meant */
  ir_sharpness_result r;
  if (s == IR_OK)
    s = ir_sharpness_eps(m, &th.vector, NULL, 0, &sp, &r);
  if (s == IR_OK) {
    char claim[200];
    snprintf(claim, sizeof claim, "Keskar epsilon-sharpness of the quadratic "
             "of docs/theory.md 9 at its minimum (A = I, eps = 1e-3; ascent "
             "from a random feasible point, %zu evaluations)", r.nevals);
    s = ir_checks_add_rel(chk, claim, "Keskar et al. 2017 arXiv:1609.04836; "
                          "docs/theory.md 9", 1.4375e-3, r.phi, 1e-9);
  }
  ir_model_free(m);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
  return s;
}

/* Hutchinson against the exact trace where p is small: the end points'
 * z-scores (estimate − exact)/se combined, Σz/√N, is about N(0, 1) when
 * the estimator is unbiased (independent probes per end point). */
static int hutchinson_check(const fl_run *R, ir_checks *chk) {
  double sz = 0;
  size_t nz = 0;
  for (size_t i = 0; i < R->ncell; i++) {
    const double *v = cell_out(R, i);
    if (isfinite(v[C_TRACE_EXACT]) && v[C_TRACE_SE] > 0) {
      sz += (v[C_TRACE] - v[C_TRACE_EXACT]) / v[C_TRACE_SE];
      nz++;
    }
  }
  if (nz < 4)
    return IR_OK;
  char claim[200];
  snprintf(claim, sizeof claim, "Hutchinson trace unbiased: combined z-score "
           "of %zu end points against their exact traces within 4", nz);
  return ir_checks_add_abs(chk, claim, "Hutchinson 1990; docs/theory.md 8",
                           0.0, sz / sqrt((double)nz), 4.0);
}

/* ---- output ---------------------------------------------------------------- */

static const char *const flat_paper[] = {
    "endpoints: data,lr=$\\eta$,batch=$B$,seed,steps,?test_error=test err.,gap=gap,lambda_max=$\\lambda_{\\max}$,trace=$\\mathrm{tr}(H)$,sharpness_I=$\\phi_\\epsilon$,lambda_balanced=$\\lambda_{\\max}^{\\mathrm{bal}}$,theta_norm=$\\|\\theta\\|$",
    "findings: data,x,y,n,value,lo,hi,direction",
    "rescaling: data,alpha=$\\alpha$,loss=$L$,lambda_max=$\\lambda_{\\max}$,lambda_predicted=$\\lambda_{\\max}(D^{-1}HD^{-1})$,trace=$\\mathrm{tr}(H)$,sharpness_I=$\\phi_\\epsilon$,lambda_balanced=$\\lambda_{\\max}^{\\mathrm{bal}}$",
    "barriers: data,lr=$\\eta$,batch=$B$,loss_a=$L(\\theta_a)$,loss_b=$L(\\theta_b)$,barrier",
    NULL};

static int write_summary(const fl_run *R, const double *mp, const char *dir) {
  ir_json *j = ir_json_alloc();
  if (j == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  ir_json_begin_object(j, NULL);
  ir_json_int(j, "cells", (long)R->ncell);
  ir_json_int(j, "seeds", (long)R->seeds);
  ir_json_begin_array(j, "data");
  for (size_t k = 0; k < R->nsets; k++) {
    const fl_set *S = &R->sets[k];
    const size_t per = cells_per_set(R);
    size_t reached = 0;
    for (size_t i = 0; i < per; i++)
      reached += cell_out(R, k * per + i)[C_GOAL] == 1;
    ir_json_begin_object(j, NULL);
    ir_json_string(j, "name", S->name);
    ir_json_string(j, "arch", S->spec);
    ir_json_int(j, "n_params", (long)S->p);
    ir_json_int(j, "n_samples", (long)S->m->nsamples);
    ir_json_string(j, "loss", ir_loss_formula(S->arch.loss));
    ir_json_number(j, "loss_goal", S->goal);
    ir_json_int(j, "runs", (long)per);
    ir_json_int(j, "runs_reaching_goal", (long)reached);
    ir_json_string(j, "description", S->desc);
    ir_json_end_object(j);
  }
  ir_json_end_array(j);
  ir_json_begin_object(j, "marchenko_pastur");
  ir_json_number(j, "gamma", mp[3]);
  ir_json_number(j, "mean_eigenvalue", mp[0]);
  ir_json_number(j, "mean_squared_eigenvalue", mp[1]);
  ir_json_number(j, "kolmogorov_distance", mp[2]);
  ir_json_end_object(j);
  ir_json_end_object(j);
  char path[4200];
  snprintf(path, sizeof path, "%s/summary.json", dir);
  int s = ir_json_write(j, path);
  ir_json_free(j);
  return s;
}

int ir_an_flatness(int argc0, char **argv0) {
  int argc;
  char **argv;
  int rc = ir_cli_expand_config(PROG, argc0, argv0, &argc, &argv);
  if (rc != 0)
    return rc;
  const double t_start = ir_wall_time();
  fl_opts o;
  memset(&o, 0, sizeof o);
  ir_cli_common_init(&o.common, AN);
  o.use[0] = o.use[1] = 1;
  o.width = 32;
  o.depth = 1;
  o.eps = 1e-3;
  o.srank = 100;
  o.siter = 20;
  o.probes = 30;
  o.mp_draws = 20;
  ir_cli_config cfg = {0, 0, NULL, NULL};
  fl_run R;
  memset(&R, 0, sizeof R);
  R.o = &o;
  ir_checks *chk = NULL;
  ir_table *tend = NULL, *tfind = NULL, *tbar = NULL;
  rc = parse(argc, argv, &o, &cfg);
  if (rc != 0) {
    rc = rc < 0 ? IR_EXIT_OK : rc;
    goto done;
  }
  /* Every option checked before any work (`all` stops here). */
  ir_cli_uses_cells(&o.common);
  if ((rc = ir_cli_check_run(PROG, &o.common, NULL, 0)) != 0 ||
      ir_cli_validating)
    goto done;
  ir_cli_break_announce(PROG, &cfg);
  R.cfg = &cfg;
  if ((rc = load_sets(&R)) != 0)
    goto done;
  R.seeds = o.common.seeds;
  for (size_t k = 1; k < R.nsets; k++)
    if (R.sets[k].nbatch != R.sets[0].nbatch) {
      rc = ir_cli_usage_error(PROG, "internal: batch lists differ");
      goto done;
    }
  R.ncell = R.nsets * cells_per_set(&R);
  R.nout = OFF_THETA + R.pmax;
  R.out = malloc(R.ncell * R.nout * sizeof(double));
  if (R.out == NULL) {
    rc = ir_cli_fail(PROG, IR_ENOMEM, "out of memory (cell outputs)");
    goto done;
  }
  ir_cells_params cp;
  ir_cells_params_default(&cp);
  cp.ncells = R.ncell;
  cp.nout = R.nout;
  cp.workers = o.common.threads > 0 ? o.common.threads : ir_cells_ncpu();
  cp.progress = cell_progress;
  cp.progress_ctx = &R;
  ir_cli_progress(&o.common, AN, "%zu cells (networks) on %d worker%s",
                  R.ncell, cp.workers, cp.workers == 1 ? "" : "s");
  const double t_sweep = ir_wall_time();
  int s = ir_cli_cells_run(PROG, &o.common, &cfg, "networks",
                           IR_CLI_CELLS_SHARDED, &cp, run_cell, &R, R.out);
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  /* A shard's run (or an MPI rank but 0) ends here: the rest depends on
   * every network. */
  if (ir_cli_shard_done(PROG, &o.common, AN, &cfg, &rc))
    goto done;
  const double sweep_secs = ir_wall_time() - t_sweep;
  double train_cpu = 0, measure_cpu = 0;
  for (size_t i = 0; i < R.ncell; i++) {
    train_cpu += cell_out(&R, i)[C_SECS_TRAIN];
    measure_cpu += cell_out(&R, i)[C_SECS_MEASURE];
  }
  /* Nothing is written before the sweep succeeded. */
  if ((rc = ir_cli_prepare_out(PROG, o.common.out)) != 0)
    goto done;
  char *dir = o.common.out;
  chk = ir_checks_alloc();
  fl_findings F;
  memset(&F, 0, sizeof F);
  double taus[MAXSETS][NMEAS];
  for (size_t a = 0; a < MAXSETS; a++)
    for (size_t b = 0; b < NMEAS; b++)
      taus[a][b] = NAN;
  s = chk ? IR_OK : IR_ENOMEM;
  if (s == IR_OK && ((tend = endpoints_table(&R)) == NULL ||
                     (tfind = findings_table(&F)) == NULL))
    s = ir_error(IR_ENOMEM, "out of memory");
  for (size_t k = 0; k < R.nsets && s == IR_OK; k++) {
    s = tau_findings(&R, k, &F, taus[k]);
    if (s == IR_OK)
      batch_findings(&R, k, &F);
  }
  double dinh_secs = 0, mp[4] = {NAN, NAN, NAN, NAN};
  const double t_rest = ir_wall_time();
  if (s == IR_OK)
    s = keskar_check(&o, chk);
  if (s == IR_OK)
    s = hutchinson_check(&R, chk);
  if (s == IR_OK)
    s = dinh_output(&R, dir, chk, &dinh_secs);
  if (s == IR_OK)
    s = mp_output(&R, dir, chk, mp);
  if (s == IR_OK)
    s = paths_output(&R, dir, &tbar);
  if (s == IR_OK)
    s = slices_output(&R, dir);
  if (s == IR_OK)
    s = measure_figures(&R, dir, taus);
  if (s == IR_OK)
    s = ir_table_set_paper_from(tend, flat_paper);
  if (s == IR_OK)
    s = ir_table_write(tend, dir, o.common.formats);
  if (s == IR_OK)
    s = ir_table_set_paper_from(tfind, flat_paper);
  if (s == IR_OK)
    s = ir_table_write(tfind, dir, o.common.formats);
  if (s == IR_OK && tbar)
    s = ir_table_set_paper_from(tbar, flat_paper);
  if (s == IR_OK && tbar)
    s = ir_table_write(tbar, dir, o.common.formats);
  if (s == IR_OK)
    s = ir_checks_write(chk, dir, o.common.formats);
  if (s == IR_OK)
    s = write_summary(&R, mp, dir);
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  const char *stages[5] = {"sweep (wall)", "training (cpu, all cells)",
                           "end-point measures (cpu, all cells)",
                           "rescaling study (wall)", "rest (wall)"};
  double secs[5] = {sweep_secs, train_cpu, measure_cpu, dinh_secs,
                    ir_wall_time() - t_rest - dinh_secs};
  s = ir_cli_write_manifest(dir, AN, &cfg, stages, secs, 5, chk,
                            ir_wall_time() - t_start);
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  if (ir_cli_collect)
    ir_checks_merge(ir_cli_collect, chk, AN);
  if (!o.common.quiet) {
    printf("flatness: %zu networks (%zu seeds) in %.1f s on %d workers\n",
           R.ncell, R.seeds, sweep_secs, cp.workers);
    for (size_t k = 0; k < R.nsets; k++) {
      const size_t per = cells_per_set(&R);
      size_t reached = 0;
      for (size_t i = 0; i < per; i++)
        reached += cell_out(&R, k * per + i)[C_GOAL] == 1;
      printf("  %s: %s ReLU, %zu parameters, %zu of %zu runs reached the "
             "loss goal %g\n", R.sets[k].name, R.sets[k].spec, R.sets[k].p,
             reached, per, R.sets[k].goal);
    }
    putchar('\n');
    printf("  findings (directions with their strength; findings.csv):\n");
    ir_table_print(tfind, stdout);
    putchar('\n');
    ir_checks_print(chk, stdout);
  }
  rc = ir_cli_exit_status(&o.common, chk);
done:
  ir_table_free(tend);
  ir_table_free(tfind);
  ir_table_free(tbar);
  ir_checks_free(chk);
  for (size_t k = 0; k < MAXSETS; k++) {
    fl_set *S = &R.sets[k];
    ir_model_free(S->m);
    ir_model_free(S->mt);
    if (S->X) gsl_matrix_free(S->X);
    if (S->Y) gsl_matrix_free(S->Y);
    if (S->Xt) gsl_matrix_free(S->Xt);
    if (S->Yt) gsl_matrix_free(S->Yt);
  }
  free(R.out);
  free(o.lrs);
  free(o.alphas);
  free(o.batches_given);
  ir_cli_config_free(&cfg);
  ir_cli_argv_free(argc, argv);
  return rc;
}
