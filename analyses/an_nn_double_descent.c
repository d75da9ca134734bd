/* an_nn_double_descent.c — `implreg nn-double-descent`: model-wise and
 * epoch-wise double descent of trained two-layer networks on a
 * Fashion-MNIST subset, with label noise (Nakkiran et al. 2019), the
 * effective model complexity, and optional weight reuse (Belkin et al.
 * 2019).  The numerics are in widthsweep.h; the sweep runs as independent
 * cells (cells.h) over --threads worker processes.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "cli.h"

static const char *const AN = "nn-double-descent";
static const char *const PROG = "implreg nn-double-descent";

/* Test hook.  IMPLREG_BREAK (comma-separated names) breaks one computation
 * on purpose, as a plausible bug would, so that tests/cli_nn_double_descent.sh
 * can show that a check catches it: "label-noise" (noisy labels drawn
 * uniformly over all K classes, so some keep their class), "train-labels"
 * (the training error recounted against the clean labels instead of those
 * trained on), "cell-state" (a cell's initialization seeded from how many
 * cells its process computed before, i.e. from a loop position).  Never set
 * it otherwise. */

static const char help[] =
    "Usage: implreg nn-double-descent [options]\n\n"
    "Double descent of trained two-layer networks d -> H -> 10 on a\n"
    "Fashion-MNIST subset (Belkin et al. 2019; Nakkiran et al. 2019): for\n"
    "widths H whose parameter counts P = H(d + 1) + 10(H + 1) span about\n"
    "0.1 n K to 10 n K (K = 10 classes), with several widths near the\n"
    "interpolation threshold P = n K, each network is trained from PyTorch's\n"
    "initialization towards interpolation (full-batch heavy ball until the\n"
    "training loss reaches a goal or a step cap; both are reported per row,\n"
    "with whether the goal was reached: runs that miss it are kept and\n"
    "marked), for each loss, label-noise level and seed.  Label noise: a\n"
    "fraction f of the training labels is replaced by a random *incorrect*\n"
    "class, drawn once per (f, seed) and shared by every width; the test\n"
    "labels are clean.\n\n"
    "Also: the effective model complexity (EMC, Nakkiran et al.: the largest\n"
    "number of training samples the procedure fits to training error <=\n"
    "eps, by bisection over nested subsets) for a few widths and training\n"
    "lengths, with the first seed; and the epoch-wise curve (test error\n"
    "against steps, no loss goal) at the width nearest P = n K, every noise\n"
    "level and seed.\n\n"
    "Inputs: the 28 x 28 images are average-pooled --pool k x k (default 2:\n"
    "14 x 14 = 196 inputs, so that the narrowest networks reach 0.1 n K\n"
    "parameters; --pool 1 keeps the full 784 pixels).  Pixels / 255.\n\n"
    "Options:\n"
    "  --n N              training samples (default 500; quick 200)\n"
    "  --ntest M          test samples, clean labels (default 2000; quick "
    "500)\n"
    "  --pool K           K x K average pooling, K in 1, 2, 4, 7 (default 2)\n"
    "  --noise LIST       label-noise fractions (default 0,0.1,0.2;\n"
    "                     quick 0,0.2)\n"
    "  --losses LIST      half-mse (squared loss on one-hot targets,\n"
    "                     (1/2n) sum ||f - y||^2), mse (torch MSELoss), ce\n"
    "                     (default half-mse,ce)\n"
    "  --act NAME         relu, tanh, softplus, gelu (default relu)\n"
    "  --widths LIST      hidden widths (default: --width-range points)\n"
    "  --width-range LO,HI  parameter counts LO n K .. HI n K (default\n"
    "                     0.1,10)\n"
    "  --width-points M   geometric points in that range, plus 5 near n K\n"
    "                     (default 10; quick 5)\n"
    "  --lr ETA           step size (default 0.05)\n"
    "  --momentum BETA    heavy ball (default 0.9)\n"
    "  --batch B          mini-batch size (default 0: full batch)\n"
    "  --steps T          step cap (default 2000; quick 300)\n"
    "  --loss-goal G      training-loss goal for every loss (default, per\n"
    "                     loss: 0.8 x the bound below which the goal implies\n"
    "                     zero training error: 1/(4n) half-mse, 1/(2nK) mse,\n"
    "                     ln 2/n ce)\n"
    "  --reuse            Belkin et al.'s weight reuse below the threshold:\n"
    "                     each width with P < n K starts from the trained\n"
    "                     next smaller width (new weights N(0, 0.1^2)); each\n"
    "                     such cell retrains the chain from the smallest\n"
    "                     width, so that cells stay independent (default off)\n"
    "  --emc-widths LIST  widths for the EMC (default: nearest 0.5, 1, 2 n K)\n"
    "  --emc-steps LIST   training lengths for the EMC (default T/4,T;\n"
    "                     quick T)\n"
    "  --emc-eps EPS      training-error tolerance (default 0.1)\n"
    "  --emc-nmax N       largest subset tried (default 2n; <= 60000)\n"
    "  --emc-grid S       subset sizes nmin, nmin + S, ... (default n/10)\n"
    "  --emc-noise F      label noise of the EMC runs (default: the largest\n"
    "                     --noise)\n"
    "  --epoch-steps T    length of the epoch-wise run (default 4 x --steps)\n"
    "  --epoch-points M   logged steps, log-spaced (default 30)\n"
    "  --no-emc, --no-epoch  skip those parts\n\n";

static const char help2[] =
    "--threads N is the number of worker processes (default: the number of\n"
    "online processors), each cell using one BLAS thread, so that results\n"
    "are the same bits whatever N.  --seeds K (default 3; quick 2): seeds\n"
    "N..N+K-1 of the initialization and the label noise; the training subset\n"
    "is drawn once from --seed.\n\n"
    "Outputs (OUT, default results/nn-double-descent): cells (one row per\n"
    "trained network: loss goal, step cap, goal reached), sweep (means and\n"
    "std over seeds per loss, noise, width), emc, epochwise, findings\n"
    "(measured tendencies with intervals: where the peak falls, how noise\n"
    "moves its height, EMC, epoch-wise), checks, figures per loss (test\n"
    "error, test loss, training loss, ||theta|| against P, log x, error\n"
    "bars = standard errors over seeds, the threshold n K as a vertical\n"
    "line), the epoch-wise curve and the EMC, manifest.json.\n\n"
    "Checks: every (noise, seed) target set differs from the clean labels\n"
    "in exactly round(f n) rows, all one-hot; every network that reached a\n"
    "loss goal below the zero-error bound has zero training error, recounted\n"
    "from its predictions against the labels it was trained on; one cell\n"
    "recomputed in this process after all others gives the same bits.\n\n";

enum {
  OPT_N = 1,
  OPT_NTEST,
  OPT_POOL,
  OPT_NOISE,
  OPT_LOSSES,
  OPT_ACT,
  OPT_WIDTHS,
  OPT_WRANGE,
  OPT_WPOINTS,
  OPT_LR,
  OPT_MOM,
  OPT_BATCH,
  OPT_STEPS,
  OPT_GOAL,
  OPT_REUSE,
  OPT_EMCW,
  OPT_EMCS,
  OPT_EMCEPS,
  OPT_EMCNMAX,
  OPT_EMCGRID,
  OPT_EMCNOISE,
  OPT_EPSTEPS,
  OPT_EPPOINTS,
  OPT_NOEMC,
  OPT_NOEPOCH
};

#define MAXL 8   /* losses */
#define MAXNZ 16 /* noise levels */
#define MAXW 64  /* widths */
#define MAXE 16  /* EMC widths / lengths */
#define NOUT 9   /* doubles per sweep cell */

typedef struct {
  ir_cli_common common;
  size_t n, ntest, pool, wpoints, steps, batch, emc_nmax, emc_grid;
  size_t ep_steps, ep_points;
  int n_set, ntest_set, wpoints_set, steps_set, noise_set, seeds_set;
  int emc_steps_set, emc_noise_set, reuse, no_emc, no_epoch;
  int emc_opt, epoch_opt; /* an --emc-* / --epoch-* option was given */
  double noise[MAXNZ];
  size_t nnoise;
  ir_loss losses[MAXL];
  size_t nloss;
  ir_act act;
  size_t widths[MAXW];
  size_t nwidths; /* given by --widths (0: from the range) */
  double wlo, whi, lr, momentum, goal, emc_eps, emc_noise;
  size_t emc_w[MAXE], nemc_w, emc_s[MAXE], nemc_s;
} nd_opts;

/* ---- option parsing --------------------------------------------------------
 */

static int size_list(const char *name, const char *arg, size_t min, size_t max,
                     size_t *out, size_t cap, size_t *n) {
  double *v = NULL;
  size_t m = 0;
  if (ir_cli_double_list(PROG, name, arg, (double)min, (double)max, &v, &m))
    return IR_EXIT_USAGE;
  int rc = 0;
  if (m > cap) {
    fprintf(stderr, "%s: --%s: at most %zu values\n", PROG, name, cap);
    rc = IR_EXIT_USAGE;
  }
  for (size_t i = 0; rc == 0 && i < m; i++) {
    if (v[i] != floor(v[i])) {
      fprintf(stderr, "%s: --%s: '%g' is not a whole number\n", PROG, name,
              v[i]);
      rc = IR_EXIT_USAGE;
    } else {
      out[i] = (size_t)v[i];
      for (size_t j = 0; j < i; j++)
        if (out[j] >= out[i]) {
          fprintf(stderr, "%s: --%s: give increasing values\n", PROG, name);
          rc = IR_EXIT_USAGE;
          break;
        }
    }
  }
  free(v);
  *n = m;
  return rc;
}

static int parse(int argc, char **argv, nd_opts *o, ir_cli_config *cfg) {
  static const struct option longopts[] = {
      {"n", required_argument, NULL, OPT_N},
      {"ntest", required_argument, NULL, OPT_NTEST},
      {"pool", required_argument, NULL, OPT_POOL},
      {"noise", required_argument, NULL, OPT_NOISE},
      {"losses", required_argument, NULL, OPT_LOSSES},
      {"act", required_argument, NULL, OPT_ACT},
      {"widths", required_argument, NULL, OPT_WIDTHS},
      {"width-range", required_argument, NULL, OPT_WRANGE},
      {"width-points", required_argument, NULL, OPT_WPOINTS},
      {"lr", required_argument, NULL, OPT_LR},
      {"momentum", required_argument, NULL, OPT_MOM},
      {"batch", required_argument, NULL, OPT_BATCH},
      {"steps", required_argument, NULL, OPT_STEPS},
      {"loss-goal", required_argument, NULL, OPT_GOAL},
      {"reuse", no_argument, NULL, OPT_REUSE},
      {"emc-widths", required_argument, NULL, OPT_EMCW},
      {"emc-steps", required_argument, NULL, OPT_EMCS},
      {"emc-eps", required_argument, NULL, OPT_EMCEPS},
      {"emc-nmax", required_argument, NULL, OPT_EMCNMAX},
      {"emc-grid", required_argument, NULL, OPT_EMCGRID},
      {"emc-noise", required_argument, NULL, OPT_EMCNOISE},
      {"epoch-steps", required_argument, NULL, OPT_EPSTEPS},
      {"epoch-points", required_argument, NULL, OPT_EPPOINTS},
      {"no-emc", no_argument, NULL, OPT_NOEMC},
      {"no-epoch", no_argument, NULL, OPT_NOEPOCH},
      IR_CLI_COMMON_OPTIONS,
      {NULL, 0, NULL, 0}};
  char full_help[sizeof help + sizeof help2];
  snprintf(full_help, sizeof full_help, "%s%s", help, help2);
  optind = 1;
  opterr = 0;
  int c, r;
  double *v = NULL;
  size_t m = 0;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_N:
      if (ir_cli_size(PROG, "n", optarg, 10, 60000, &o->n))
        return IR_EXIT_USAGE;
      o->n_set = 1;
      break;
    case OPT_NTEST:
      if (ir_cli_size(PROG, "ntest", optarg, 1, 10000, &o->ntest))
        return IR_EXIT_USAGE;
      o->ntest_set = 1;
      break;
    case OPT_POOL:
      if (ir_cli_size(PROG, "pool", optarg, 1, 28, &o->pool))
        return IR_EXIT_USAGE;
      if (28 % o->pool != 0 || o->pool > 7)
        return ir_cli_usage_error(PROG,
                                  "--pool %zu: use 1, 2, 4 or 7 (it must "
                                  "divide the image side 28)",
                                  o->pool);
      break;
    case OPT_NOISE:
      if (ir_cli_double_list(PROG, "noise", optarg, 0, 0.9, &v, &m))
        return IR_EXIT_USAGE;
      if (m > MAXNZ) {
        free(v);
        return ir_cli_usage_error(PROG, "--noise: at most %d levels", MAXNZ);
      }
      for (size_t i = 0; i < m; i++) {
        o->noise[i] = v[i];
        for (size_t j = 0; j < i; j++)
          if (!(v[j] < v[i])) {
            const double vi = v[i], vj = v[j]; /* read before the free */
            free(v);
            return ir_cli_usage_error(
                PROG, "--noise: give increasing fractions (got %g after %g)",
                vi, vj);
          }
      }
      free(v);
      o->nnoise = m;
      o->noise_set = 1;
      break;
    case OPT_LOSSES: {
      char buf[256];
      snprintf(buf, sizeof buf, "%s", optarg);
      o->nloss = 0;
      for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
           tok = strtok_r(NULL, ",", &save)) {
        ir_loss l;
        if (ir_loss_parse(tok, &l) != IR_OK)
          return ir_cli_usage_error(
              PROG, "--losses: '%s' is not a loss (use half-mse, mse, ce)",
              tok);
        for (size_t j = 0; j < o->nloss; j++)
          if (o->losses[j] == l)
            return ir_cli_usage_error(PROG, "--losses: '%s' given twice", tok);
        if (o->nloss == MAXL)
          return ir_cli_usage_error(PROG, "--losses: too many");
        o->losses[o->nloss++] = l;
      }
      if (o->nloss == 0)
        return ir_cli_usage_error(PROG, "--losses: empty list");
      break;
    }
    case OPT_ACT:
      if (ir_act_parse(optarg, &o->act) != IR_OK || o->act == IR_ACT_IDENTITY)
        return ir_cli_usage_error(
            PROG, "--act '%s': use relu, tanh, softplus or gelu", optarg);
      break;
    case OPT_WIDTHS:
      if (size_list("widths", optarg, 1, 100000, o->widths, MAXW, &o->nwidths))
        return IR_EXIT_USAGE;
      break;
    case OPT_WRANGE:
      if (ir_cli_double_list(PROG, "width-range", optarg, 1e-4, 1e4, &v, &m))
        return IR_EXIT_USAGE;
      if (m != 2 || !(v[0] < v[1])) {
        free(v);
        return ir_cli_usage_error(PROG,
                                  "--width-range: give LO,HI with LO < HI "
                                  "(multiples of n K)");
      }
      o->wlo = v[0];
      o->whi = v[1];
      free(v);
      break;
    case OPT_WPOINTS:
      if (ir_cli_size(PROG, "width-points", optarg, 2, MAXW - 5, &o->wpoints))
        return IR_EXIT_USAGE;
      o->wpoints_set = 1;
      break;
    case OPT_LR:
      if (ir_cli_double(PROG, "lr", optarg, DBL_MIN, 1e6, &o->lr))
        return IR_EXIT_USAGE;
      break;
    case OPT_MOM:
      if (ir_cli_double(PROG, "momentum", optarg, 0, 0.999999, &o->momentum))
        return IR_EXIT_USAGE;
      break;
    case OPT_BATCH:
      if (ir_cli_size(PROG, "batch", optarg, 0, 60000, &o->batch))
        return IR_EXIT_USAGE;
      break;
    case OPT_STEPS:
      if (ir_cli_size(PROG, "steps", optarg, 1, 100000000, &o->steps))
        return IR_EXIT_USAGE;
      o->steps_set = 1;
      break;
    case OPT_GOAL:
      if (ir_cli_double(PROG, "loss-goal", optarg, 0, 1e6, &o->goal))
        return IR_EXIT_USAGE;
      break;
    case OPT_REUSE: o->reuse = 1; break;
    case OPT_EMCW:
      o->emc_opt = 1;
      if (size_list("emc-widths", optarg, 1, 100000, o->emc_w, MAXE,
                    &o->nemc_w))
        return IR_EXIT_USAGE;
      break;
    case OPT_EMCS:
      o->emc_opt = 1;
      if (size_list("emc-steps", optarg, 1, 100000000, o->emc_s, MAXE,
                    &o->nemc_s))
        return IR_EXIT_USAGE;
      o->emc_steps_set = 1;
      break;
    case OPT_EMCEPS:
      o->emc_opt = 1;
      if (ir_cli_double(PROG, "emc-eps", optarg, 0, 0.999, &o->emc_eps))
        return IR_EXIT_USAGE;
      break;
    case OPT_EMCNMAX:
      o->emc_opt = 1;
      if (ir_cli_size(PROG, "emc-nmax", optarg, 2, 60000, &o->emc_nmax))
        return IR_EXIT_USAGE;
      break;
    case OPT_EMCGRID:
      o->emc_opt = 1;
      if (ir_cli_size(PROG, "emc-grid", optarg, 1, 60000, &o->emc_grid))
        return IR_EXIT_USAGE;
      break;
    case OPT_EMCNOISE:
      o->emc_opt = 1;
      if (ir_cli_double(PROG, "emc-noise", optarg, 0, 0.9, &o->emc_noise))
        return IR_EXIT_USAGE;
      o->emc_noise_set = 1;
      break;
    case OPT_EPSTEPS:
      o->epoch_opt = 1;
      if (ir_cli_size(PROG, "epoch-steps", optarg, 2, 100000000, &o->ep_steps))
        return IR_EXIT_USAGE;
      break;
    case OPT_EPPOINTS:
      o->epoch_opt = 1;
      if (ir_cli_size(PROG, "epoch-points", optarg, 2, 200, &o->ep_points))
        return IR_EXIT_USAGE;
      break;
    case OPT_NOEMC: o->no_emc = 1; break;
    case OPT_NOEPOCH: o->no_epoch = 1; break;
    case IR_OPT_SEEDS:
      o->seeds_set = 1;
      /* fall through */
    default:
      if ((r = ir_cli_default_option(PROG, &o->common, c, optarg, argv,
                                     full_help)) != 0)
        return r;
    }
  }
  if (optind < argc)
    return ir_cli_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
  if (o->no_emc && o->emc_opt)
    return ir_cli_usage_error(PROG, "--no-emc with an --emc-* option: the "
                                    "option would not be used");
  if (o->no_epoch && o->epoch_opt)
    return ir_cli_usage_error(PROG, "--no-epoch with an --epoch-* option: "
                                    "the option would not be used");
  const int q = o->common.quick;
  if (!o->n_set)
    o->n = q ? 200 : 500;
  if (!o->ntest_set)
    o->ntest = q ? 500 : 2000;
  if (!o->wpoints_set)
    o->wpoints = q ? 5 : 10;
  if (!o->steps_set)
    o->steps = q ? 300 : 2000;
  if (!o->seeds_set)
    o->common.seeds = q ? 2 : 3;
  if (!o->noise_set) {
    o->nnoise = q ? 2 : 3;
    o->noise[0] = 0;
    o->noise[1] = q ? 0.2 : 0.1;
    o->noise[2] = 0.2;
  }
  if (o->batch >= o->n)
    o->batch = 0;
  if (!o->emc_noise_set)
    o->emc_noise = o->noise[o->nnoise - 1];
  if (o->emc_nmax == 0)
    o->emc_nmax = 2 * o->n;
  if (o->emc_grid == 0)
    o->emc_grid = o->n / 10 ? o->n / 10 : 1;
  if (o->emc_grid >= o->emc_nmax)
    return ir_cli_usage_error(PROG,
                              "--emc-grid %zu must be smaller than --emc-nmax "
                              "%zu",
                              o->emc_grid, o->emc_nmax);
  if (!o->emc_steps_set) {
    if (q) {
      o->nemc_s = 1;
      o->emc_s[0] = o->steps;
    } else {
      o->nemc_s = 2;
      o->emc_s[0] = o->steps / 4 ? o->steps / 4 : 1;
      o->emc_s[1] = o->steps;
      if (o->emc_s[0] == o->emc_s[1])
        o->nemc_s = 1;
    }
  }
  if (o->ep_steps == 0)
    o->ep_steps = 4 * o->steps;
  if (o->ep_points == 0)
    o->ep_points = 30;

  char b[40];
  ir_cli_config_common(cfg, &o->common);
  ir_cli_config_set(cfg, "n", "%zu", o->n);
  ir_cli_config_set(cfg, "ntest", "%zu", o->ntest);
  ir_cli_config_set(cfg, "pool", "%zu", o->pool);
  char list[1024] = "";
  for (size_t i = 0; i < o->nnoise; i++) {
    size_t k = strlen(list);
    snprintf(list + k, sizeof list - k, "%s%s", i ? "," : "",
             ir_cli_fmt_double(b, sizeof b, o->noise[i]));
  }
  ir_cli_config_set(cfg, "noise", "%s", list);
  list[0] = '\0';
  for (size_t i = 0; i < o->nloss; i++) {
    size_t k = strlen(list);
    snprintf(list + k, sizeof list - k, "%s%s", i ? "," : "",
             ir_loss_name(o->losses[i]));
  }
  ir_cli_config_set(cfg, "losses", "%s", list);
  ir_cli_config_set(cfg, "act", "%s", ir_act_name(o->act));
  if (o->nwidths) {
    list[0] = '\0';
    for (size_t i = 0; i < o->nwidths; i++) {
      size_t k = strlen(list);
      snprintf(list + k, sizeof list - k, "%s%zu", i ? "," : "", o->widths[i]);
    }
    ir_cli_config_set(cfg, "widths", "%s", list);
  } else {
    char b2[40];
    ir_cli_config_set(cfg, "width-range", "%s,%s",
                      ir_cli_fmt_double(b, sizeof b, o->wlo),
                      ir_cli_fmt_double(b2, sizeof b2, o->whi));
    ir_cli_config_set(cfg, "width-points", "%zu", o->wpoints);
  }
  ir_cli_config_set(cfg, "lr", "%s", ir_cli_fmt_double(b, sizeof b, o->lr));
  ir_cli_config_set(cfg, "momentum", "%s",
                    ir_cli_fmt_double(b, sizeof b, o->momentum));
  ir_cli_config_set(cfg, "batch", "%zu", o->batch);
  ir_cli_config_set(cfg, "steps", "%zu", o->steps);
  if (o->goal >= 0)
    ir_cli_config_set(cfg, "loss-goal", "%s",
                      ir_cli_fmt_double(b, sizeof b, o->goal));
  if (o->reuse)
    ir_cli_config_set(cfg, "reuse", "true");
  if (o->no_emc) {
    ir_cli_config_set(cfg, "no-emc", "true");
  } else {
    if (o->nemc_w) {
      list[0] = '\0';
      for (size_t i = 0; i < o->nemc_w; i++) {
        size_t k = strlen(list);
        snprintf(list + k, sizeof list - k, "%s%zu", i ? "," : "", o->emc_w[i]);
      }
      ir_cli_config_set(cfg, "emc-widths", "%s", list);
    }
    list[0] = '\0';
    for (size_t i = 0; i < o->nemc_s; i++) {
      size_t k = strlen(list);
      snprintf(list + k, sizeof list - k, "%s%zu", i ? "," : "", o->emc_s[i]);
    }
    ir_cli_config_set(cfg, "emc-steps", "%s", list);
    ir_cli_config_set(cfg, "emc-eps", "%s",
                      ir_cli_fmt_double(b, sizeof b, o->emc_eps));
    ir_cli_config_set(cfg, "emc-nmax", "%zu", o->emc_nmax);
    ir_cli_config_set(cfg, "emc-grid", "%zu", o->emc_grid);
    ir_cli_config_set(cfg, "emc-noise", "%s",
                      ir_cli_fmt_double(b, sizeof b, o->emc_noise));
  }
  if (o->no_epoch) {
    ir_cli_config_set(cfg, "no-epoch", "true");
  } else {
    ir_cli_config_set(cfg, "epoch-steps", "%zu", o->ep_steps);
    ir_cli_config_set(cfg, "epoch-points", "%zu", o->ep_points);
  }
  return 0;
}

/* ---- the run's state, shared with the cells (inherited through fork) ----- */

typedef struct {
  const nd_opts *o;
  size_t d, K;
  gsl_matrix *X, *Xt;   /* pooled training (n rows) and test inputs */
  gsl_matrix *Yt;       /* clean one-hot test targets */
  ir_dataset *clean;    /* the n training rows, clean */
  ir_dataset **noisy;   /* [noise·nseeds + seed]: the targets trained on */
  ir_dataset *emc_data; /* emc_nmax rows with --emc-noise (first seed) */
  gsl_matrix *Xemc;     /* its pooled inputs */
  size_t widths[MAXW], nw;
  size_t nseeds;
  double goal[MAXL];
  size_t ep_width;
  size_t ep_step[256], nep;
  size_t emc_w[MAXE], nemc_w;
  long calls; /* cells computed in this process (break hook) */
  const ir_cli_config *cfg; /* the run's configuration (cells' hash) */
} nd_run;

static unsigned long seed_of(const nd_run *R, size_t si) {
  return R->o->common.seed + si;
}

/* The zero-training-error bound of a loss goal (see help): a loss <= the
 * bound forces every sample's argmax onto its target class. */
static double goal_bound(ir_loss l, size_t n, size_t K) {
  switch (l) {
  case IR_LOSS_HALF_SSE: return 1.0 / (4.0 * (double)n);
  case IR_LOSS_MSE: return 1.0 / (2.0 * (double)n * (double)K);
  default: return log(2.0) / (double)n;
  }
}

static void params_for(const nd_run *R, size_t li, size_t width, size_t steps,
                       double goal, ir_widthsweep_params *p) {
  const nd_opts *o = R->o;
  ir_widthsweep_params_default(p);
  p->width = width;
  p->act = o->act;
  p->loss = o->losses[li];
  p->lr = o->lr;
  p->momentum = o->momentum;
  p->batch = o->batch;
  p->max_steps = steps;
  p->loss_goal = goal;
}

/* Sweep cell index → coordinates; the widest networks come first so that
 * the longest cells do not finish last. */
static void sweep_coords(const nd_run *R, size_t cell, size_t *wi, size_t *li,
                         size_t *ni, size_t *si) {
  const size_t ns = R->nseeds, nn = R->o->nnoise, nl = R->o->nloss;
  *si = cell % ns;
  cell /= ns;
  *ni = cell % nn;
  cell /= nn;
  *li = cell % nl;
  cell /= nl;
  *wi = R->nw - 1 - cell;
}

/* The training error recounted from the predictions: argmax of f(x_i)
 * against the integer labels (a second path beside ir_mlp_accuracy, which
 * compares with the argmax of the one-hot targets). */
static int recount_train_error(const nd_run *R, const ir_widthsweep_params *p,
                               const gsl_vector *theta, const size_t *labels,
                               double *err) {
  ir_mlp_arch arch;
  memset(&arch, 0, sizeof arch);
  arch.nlayers = 2;
  arch.width[0] = R->d;
  arch.width[1] = p->width;
  arch.width[2] = R->K;
  arch.act = p->act;
  arch.loss = p->loss;
  const gsl_matrix *Y = R->clean->Y;
  ir_model *m = ir_model_mlp_alloc(&arch, R->X, Y);
  gsl_matrix *F = gsl_matrix_alloc(R->X->size1, R->K);
  int s = (m && F) ? IR_OK : IR_ENOMEM;
  if (s == IR_OK)
    s = ir_model_predict(m, theta, R->X, F);
  if (s == IR_OK) {
    size_t wrong = 0;
    for (size_t i = 0; i < F->size1; i++) {
      size_t am = 0;
      for (size_t k = 1; k < R->K; k++)
        if (gsl_matrix_get(F, i, k) > gsl_matrix_get(F, i, am))
          am = k;
      if (am != labels[i])
        wrong++;
    }
    *err = (double)wrong / (double)F->size1;
  }
  ir_model_free(m);
  if (F)
    gsl_matrix_free(F);
  return s;
}

/* One sweep cell: out = nparams, steps, reason, train_loss, train_err,
 * test_loss, test_err, ‖θ‖, recounted train error. */
static int sweep_cell(void *ctx, size_t cell, double *out) {
  nd_run *R = ctx;
  const nd_opts *o = R->o;
  size_t wi, li, ni, si;
  sweep_coords(R, cell, &wi, &li, &ni, &si);
  unsigned long seed = seed_of(R, si);
  if (ir_cli_broken("cell-state"))
    seed += (unsigned long)R->calls;
  R->calls++;
  const ir_dataset *D = R->noisy[ni * R->nseeds + si];
  const size_t nK = o->n * R->K;
  ir_widthsweep_params p;
  ir_widthsweep_result res;
  gsl_vector *theta = NULL, *prev = NULL;
  int s = IR_OK;
  /* Belkin's reuse: below the threshold, the chain from the smallest width
   * up to this one, each started from the previous one grown. */
  size_t first = wi;
  if (o->reuse && ir_widthsweep_nparams(R->d, R->widths[wi], R->K) < nK)
    first = 0;
  for (size_t w = first; w <= wi && s == IR_OK; w++) {
    params_for(R, li, R->widths[w], o->steps, R->goal[li], &p);
    gsl_vector *th0 = NULL;
    if (prev != NULL) {
      gsl_rng *r = ir_rng_alloc(
          seed, ir_rng_stream(IR_STREAM_INIT, R->widths[w], 1000 + li));
      if (r == NULL)
        s = IR_EINVAL;
      else
        s = ir_widthsweep_grow(R->d, R->K, R->widths[w - 1], prev, R->widths[w],
                               0.1, r, &th0);
      ir_rng_free(r);
      gsl_vector_free(prev);
      prev = NULL;
    }
    if (s == IR_OK)
      s = ir_widthsweep_train(R->X, D->Y, R->Xt, R->Yt, &p, seed, th0, &theta,
                              NULL, &res);
    if (th0)
      gsl_vector_free(th0);
    if (s == IR_OK && w < wi) {
      prev = theta;
      theta = NULL;
    }
  }
  double rerr = NAN;
  if (s == IR_OK)
    s = recount_train_error(
        R, &p, theta,
        ir_cli_broken("train-labels") ? R->clean->labels : D->labels, &rerr);
  if (theta)
    gsl_vector_free(theta);
  if (prev)
    gsl_vector_free(prev);
  if (s != IR_OK)
    return s;
  out[0] = (double)res.nparams;
  out[1] = (double)res.steps;
  out[2] = (double)res.reason;
  out[3] = res.train_loss;
  out[4] = res.train_err;
  out[5] = res.test_loss;
  out[6] = res.test_err;
  out[7] = res.theta_norm;
  out[8] = rerr;
  return IR_OK;
}

/* One epoch-wise cell (noise ni, seed si): test error and training loss at
 * the logged steps. */
static int epoch_cell(void *ctx, size_t cell, double *out) {
  nd_run *R = ctx;
  const size_t si = cell % R->nseeds, ni = cell / R->nseeds;
  ir_widthsweep_params p;
  params_for(R, 0, R->ep_width, R->o->ep_steps, -1, &p);
  ir_widthsweep_curve cv = {R->ep_step, R->nep, out, out + R->nep};
  ir_widthsweep_result res;
  return ir_widthsweep_train(R->X, R->noisy[ni * R->nseeds + si]->Y, R->Xt,
                             R->Yt, &p, seed_of(R, si), NULL, NULL, &cv, &res);
}

/* One EMC cell (width index, length index): EMC, censored, trainings. */
static int emc_cell(void *ctx, size_t cell, double *out) {
  nd_run *R = ctx;
  const size_t wi = cell / R->o->nemc_s, ti = cell % R->o->nemc_s;
  ir_widthsweep_params p;
  params_for(R, 0, R->emc_w[wi], R->o->emc_s[ti], R->goal[0], &p);
  ir_widthsweep_emc_net e = {R->Xemc, R->emc_data->Y, &p, seed_of(R, 0)};
  size_t emc = 0, ev = 0;
  int cens = 0;
  const size_t g = R->o->emc_grid;
  int s = ir_widthsweep_emc(ir_widthsweep_emc_net_fit, &e, g, R->o->emc_nmax, g,
                            R->o->emc_eps, &emc, &cens, &ev);
  out[0] = (double)emc;
  out[1] = cens;
  out[2] = (double)ev;
  return s;
}

/* The reproducibility check's second computation of one sweep cell, in
 * this process (cells.h runs it with one BLAS thread, as in the workers). */
typedef struct {
  nd_run *R;
  size_t cell;
} nd_again;

static int again_fn(void *ctx, size_t cell, double *out) {
  nd_again *a = ctx;
  (void)cell;
  return sweep_cell(a->R, a->cell, out);
}

static void progress_fn(void *ctx, size_t done, size_t total, double el) {
  const nd_run *R = ctx;
  ir_cli_progress(&R->o->common, AN, "%zu/%zu cells, %.1f s, about %.0f s "
                  "left",
                  done, total, el,
                  done ? el / (double)done * (double)(total - done) : 0.0);
}

static int run_cells(const nd_run *R, const char *sweep, size_t ncells,
                     size_t nout, ir_cell_fn fn, double *out) {
  ir_cells_params cp;
  ir_cells_params_default(&cp);
  cp.ncells = ncells;
  cp.nout = nout;
  cp.workers =
      R->o->common.threads > 0 ? R->o->common.threads : ir_cells_ncpu();
  cp.cell_threads = 1;
  cp.progress = progress_fn;
  cp.progress_ctx = (void *)R;
  /* Every sweep here depends on the data only: all are sharded. */
  return ir_cli_cells_run(PROG, &R->o->common, R->cfg, sweep,
                          IR_CLI_CELLS_SHARDED, &cp, fn, (void *)R, out);
}

/* ---- data ------------------------------------------------------------------
 */

/* The plausible bug behind the "label-noise" break: round(f n) rows get a
 * class drawn uniformly from all K (about 1/K of them keep theirs). */
static int broken_noise(ir_dataset *ds, double frac, unsigned long seed) {
  gsl_rng *r = ir_rng_alloc(seed, ir_widthsweep_noise_stream(frac));
  if (r == NULL)
    return IR_EINVAL;
  const size_t n = ds->X->size1, m = (size_t)llround(frac * (double)n);
  for (size_t k = 0; k < m; k++) {
    size_t i = gsl_rng_uniform_int(r, n), c = gsl_rng_uniform_int(r, ds->K);
    ds->labels[i] = c;
    for (size_t j = 0; j < ds->K; j++)
      gsl_matrix_set(ds->Y, i, j, j == c);
  }
  ir_rng_free(r);
  return IR_OK;
}

static int load_data(nd_run *R) {
  const nd_opts *o = R->o;
  if (!ir_data_fashion_mnist_available(NULL)) {
    fprintf(stderr,
            "%s: Fashion-MNIST not found in its default folder (install the "
            "Debian package dataset-fashion-mnist)\n",
            PROG);
    return IR_EXIT_USAGE;
  }
  const size_t pool_n =
      o->no_emc ? o->n : (o->emc_nmax > o->n ? o->emc_nmax : o->n);
  ir_dataset *tr = NULL, *te = NULL;
  gsl_rng *r =
      ir_rng_alloc(o->common.seed, ir_rng_stream(IR_STREAM_DATA, 0, 1));
  gsl_rng *rt =
      ir_rng_alloc(o->common.seed, ir_rng_stream(IR_STREAM_TEST, 0, 1));
  int s = (r && rt) ? IR_OK : IR_EINVAL;
  if (s == IR_OK)
    s = ir_data_fashion_mnist(NULL, 0, pool_n, r, &tr);
  if (s == IR_OK)
    s = ir_data_fashion_mnist(NULL, 1, o->ntest, rt, &te);
  ir_rng_free(r);
  ir_rng_free(rt);
  size_t *idx = NULL;
  if (s == IR_OK) {
    idx = malloc(pool_n * sizeof *idx);
    if (idx == NULL)
      s = ir_error(IR_ENOMEM, "out of memory");
    for (size_t i = 0; s == IR_OK && i < pool_n; i++)
      idx[i] = i;
  }
  if (s == IR_OK)
    s = ir_data_subset(tr, idx, o->n, &R->clean);
  if (s == IR_OK)
    s = ir_widthsweep_pool(R->clean->X, 28, o->pool, &R->X);
  if (s == IR_OK)
    s = ir_widthsweep_pool(te->X, 28, o->pool, &R->Xt);
  if (s == IR_OK) {
    R->Yt = gsl_matrix_alloc(te->Y->size1, te->Y->size2);
    if (R->Yt == NULL)
      s = ir_error(IR_ENOMEM, "out of memory");
    else
      gsl_matrix_memcpy(R->Yt, te->Y);
  }
  R->noisy = calloc(o->nnoise * R->nseeds, sizeof *R->noisy);
  if (s == IR_OK && R->noisy == NULL)
    s = ir_error(IR_ENOMEM, "out of memory");
  const int brk = ir_cli_broken("label-noise");
  for (size_t ni = 0; s == IR_OK && ni < o->nnoise; ni++)
    for (size_t si = 0; s == IR_OK && si < R->nseeds; si++) {
      ir_dataset **dst = &R->noisy[ni * R->nseeds + si];
      if (brk) {
        s = ir_widthsweep_noisy_copy(R->clean, 0, seed_of(R, si), dst);
        if (s == IR_OK)
          s = broken_noise(*dst, o->noise[ni], seed_of(R, si));
      } else {
        s = ir_widthsweep_noisy_copy(R->clean, o->noise[ni], seed_of(R, si),
                                     dst);
      }
    }
  if (s == IR_OK && !o->no_emc) {
    s = ir_widthsweep_noisy_copy(tr, o->emc_noise, seed_of(R, 0), &R->emc_data);
    if (s == IR_OK)
      s = ir_widthsweep_pool(R->emc_data->X, 28, o->pool, &R->Xemc);
  }
  free(idx);
  ir_dataset_free(tr);
  ir_dataset_free(te);
  if (s != IR_OK)
    return ir_cli_fail(PROG, s, NULL);
  R->d = R->X->size2;
  R->K = 10;
  return 0;
}

/* ---- tables, findings, figures ---------------------------------------------
 */

static const char *const paper[] = {
    "sweep: loss,noise,width,params,params_over_nK=$P/nK$,test_error=test "
    "err.,test_loss=$L_\\mathrm{test}$,train_loss=$L_\\mathrm{train}$,"
    "theta_norm=$\\|\\theta\\|$,goal_reached=goal",
    "cells: loss,noise,seed,width,params,steps,goal_reached=goal,test_error="
    "test err.,train_error=train err.",
    "emc: width,params_over_nK=$P/nK$,steps,emc=EMC,emc_over_n=EMC$/n$,"
    "censored",
    "epochwise: noise,step,test_error=test err.,train_loss=$L_\\mathrm{train}$",
    "findings: loss,claim,measured,ci_lo,ci_hi,status",
    NULL};

typedef struct {
  double *sw;  /* sweep cells × NOUT */
  double *ep;  /* epoch cells × 2·nep */
  double *emc; /* emc cells × 3 */
} nd_out;

static const double *cell_out(const nd_run *R, const nd_out *O, size_t wi,
                              size_t li, size_t ni, size_t si) {
  const size_t ns = R->nseeds, nn = R->o->nnoise, nl = R->o->nloss;
  size_t cell = (((R->nw - 1 - wi) * nl + li) * nn + ni) * ns + si;
  return O->sw + cell * NOUT;
}

/* Mean and sample standard deviation by ir_stats_summary; NaN for both
 * when a value is not finite (a missing cell). */
static void mean_std(const double *v, size_t n, double *m, double *sd) {
  ir_summary sm;
  if (n >= 1 && ir_stats_summary(v, n, 0.95, &sm) == IR_OK) {
    *m = sm.mean;
    *sd = sm.std;
  } else {
    *m = *sd = NAN;
    ir_error_clear();
  }
}

static ir_table *cells_table(const nd_run *R, const nd_out *O) {
  const nd_opts *o = R->o;
  ir_table *t = ir_table_alloc("cells", "Every trained network (one cell)");
  if (t == NULL)
    return NULL;
  ir_table_add_column(t, "loss", IR_COL_STRING, NULL);
  ir_table_add_column(t, "noise", IR_COL_DOUBLE, "label-noise fraction");
  ir_table_add_column(t, "seed", IR_COL_INT, NULL);
  ir_table_add_column(t, "width", IR_COL_INT, "hidden units H");
  ir_table_add_column(t, "params", IR_COL_INT, "P = H(d+1) + K(H+1)");
  ir_table_add_column(t, "params_over_nK", IR_COL_DOUBLE, "P / (n K)");
  ir_table_add_column(t, "loss_goal", IR_COL_DOUBLE, "training-loss goal");
  ir_table_add_column(t, "step_cap", IR_COL_INT, NULL);
  ir_table_add_column(t, "steps", IR_COL_INT, "updates done");
  ir_table_add_column(t, "goal_reached", IR_COL_INT,
                      "1: stopped at the goal; 0: at the cap (or diverged)");
  ir_table_add_column(t, "diverged", IR_COL_INT, NULL);
  ir_table_add_column(t, "train_loss", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "train_error", IR_COL_DOUBLE,
                      "against the (noisy) labels trained on");
  ir_table_add_column(t, "test_loss", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "test_error", IR_COL_DOUBLE, "clean test labels");
  ir_table_add_column(t, "theta_norm", IR_COL_DOUBLE, "||theta||_2");
  const double nK = (double)(o->n * R->K);
  for (size_t li = 0; li < o->nloss; li++)
    for (size_t ni = 0; ni < o->nnoise; ni++)
      for (size_t si = 0; si < R->nseeds; si++)
        for (size_t wi = 0; wi < R->nw; wi++) {
          const double *c = cell_out(R, O, wi, li, ni, si);
          int k = 0;
          ir_table_add_row(t);
          ir_table_set_string(t, k++, ir_loss_name(o->losses[li]));
          ir_table_set_double(t, k++, o->noise[ni]);
          ir_table_set_int(t, k++, (long)seed_of(R, si));
          ir_table_set_int(t, k++, (long)R->widths[wi]);
          ir_table_set_int(t, k++, (long)c[0]);
          ir_table_set_double(t, k++, c[0] / nK);
          ir_table_set_double(t, k++, R->goal[li]);
          ir_table_set_int(t, k++, (long)o->steps);
          ir_table_set_int(t, k++, (long)c[1]);
          ir_table_set_int(t, k++, c[2] == IR_OPTIM_GOAL);
          ir_table_set_int(t, k++, c[2] == IR_OPTIM_DIVERGED);
          for (int j = 3; j <= 7; j++)
            ir_table_set_double(t, k++, c[j]);
        }
  return t;
}

static ir_table *sweep_table(const nd_run *R, const nd_out *O) {
  const nd_opts *o = R->o;
  ir_table *t = ir_table_alloc(
      "sweep", "Width sweep: means and standard deviations over seeds");
  if (t == NULL)
    return NULL;
  ir_table_add_column(t, "loss", IR_COL_STRING, NULL);
  ir_table_add_column(t, "noise", IR_COL_DOUBLE, "label-noise fraction");
  ir_table_add_column(t, "width", IR_COL_INT, "hidden units H");
  ir_table_add_column(t, "params", IR_COL_INT, "P");
  ir_table_add_column(t, "params_over_nK", IR_COL_DOUBLE, "P / (n K)");
  const char *f[5] = {"test_error", "test_loss", "train_loss", "train_error",
                      "theta_norm"};
  const int fi[5] = {6, 5, 3, 4, 7};
  for (int j = 0; j < 5; j++)
    ir_table_add_column(t, f[j], IR_COL_MEANSTD, NULL);
  ir_table_add_column(t, "test_error_se", IR_COL_DOUBLE,
                      "standard error of the mean test error");
  ir_table_add_column(t, "steps", IR_COL_DOUBLE, "mean updates done");
  ir_table_add_column(t, "goal_reached", IR_COL_STRING,
                      "seeds that reached the loss goal / seeds");
  ir_table_add_column(t, "loss_goal", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "step_cap", IR_COL_INT, NULL);
  char note[512];
  snprintf(note, sizeof note,
           "n = %zu Fashion-MNIST training images (%zux%zu average pooling: "
           "d = %zu), %zu clean test images; n K = %zu; heavy ball lr %g, "
           "momentum %g, %s; %s activation",
           o->n, o->pool, o->pool, R->d, o->ntest, o->n * R->K, o->lr,
           o->momentum, o->batch ? "mini-batches" : "full batch",
           ir_act_name(o->act));
  ir_table_add_note(t, note);
  for (size_t li = 0; li < o->nloss; li++) {
    snprintf(note, sizeof note, "%s: %s", ir_loss_name(o->losses[li]),
             ir_loss_formula(o->losses[li]));
    ir_table_add_note(t, note);
  }
  if (o->reuse)
    ir_table_add_note(t, "weight reuse below n K (Belkin et al.)");
  double v[1024];
  for (size_t li = 0; li < o->nloss; li++)
    for (size_t ni = 0; ni < o->nnoise; ni++)
      for (size_t wi = 0; wi < R->nw; wi++) {
        int k = 0;
        const double *c0 = cell_out(R, O, wi, li, ni, 0);
        ir_table_add_row(t);
        ir_table_set_string(t, k++, ir_loss_name(o->losses[li]));
        ir_table_set_double(t, k++, o->noise[ni]);
        ir_table_set_int(t, k++, (long)R->widths[wi]);
        ir_table_set_int(t, k++, (long)c0[0]);
        ir_table_set_double(t, k++, c0[0] / (double)(o->n * R->K));
        double m, sd, mte = 0, sdte = 0;
        for (int j = 0; j < 5; j++) {
          for (size_t si = 0; si < R->nseeds; si++)
            v[si] = cell_out(R, O, wi, li, ni, si)[fi[j]];
          mean_std(v, R->nseeds, &m, &sd);
          ir_table_set_meanstd(t, k++, m, sd);
          if (j == 0) {
            mte = m;
            sdte = sd;
          }
        }
        (void)mte;
        ir_table_set_double(t, k++, sdte / sqrt((double)R->nseeds));
        size_t reached = 0;
        for (size_t si = 0; si < R->nseeds; si++) {
          const double *c = cell_out(R, O, wi, li, ni, si);
          v[si] = c[1];
          reached += c[2] == IR_OPTIM_GOAL;
        }
        mean_std(v, R->nseeds, &m, &sd);
        ir_table_set_double(t, k++, m);
        char b[64];
        snprintf(b, sizeof b, "%zu/%zu", reached, R->nseeds);
        ir_table_set_string(t, k++, b);
        ir_table_set_double(t, k++, R->goal[li]);
        ir_table_set_int(t, k++, (long)o->steps);
      }
  return t;
}

/* Findings: measured tendencies with intervals (not checks). */
typedef struct {
  ir_table *t;
  FILE *fp; /* the text output (NULL when quiet) */
} nd_find;

static void finding(nd_find *F, const char *loss, const char *claim,
                    double measured, double lo, double hi,
                    const char *direction, const char *status) {
  ir_table *t = F->t;
  ir_table_add_row(t);
  ir_table_set_string(t, 0, loss);
  ir_table_set_string(t, 1, claim);
  ir_table_set_double(t, 2, measured);
  ir_table_set_double(t, 3, lo);
  ir_table_set_double(t, 4, hi);
  ir_table_set_string(t, 5, direction);
  ir_table_set_string(t, 6, status);
  if (F->fp)
    fprintf(F->fp, "  [%s] %s: %.4g [%.4g, %.4g] (%s) -> %s\n", loss, claim,
            measured, lo, hi, direction, status);
}

/* The peak per (loss, noise) and the noise effect on its height. */
static int sweep_findings(const nd_run *R, const nd_out *O, nd_find *F) {
  const nd_opts *o = R->o;
  const size_t ns = R->nseeds, nw = R->nw, nn = o->nnoise;
  const double nK = (double)(o->n * R->K);
  double *err = malloc(ns * nw * sizeof *err);
  double *h = malloc(nn * ns * sizeof *h);
  if (err == NULL || h == NULL) {
    free(err);
    free(h);
    return ir_error(IR_ENOMEM, "out of memory");
  }
  int s = IR_OK;
  char claim[256];
  for (size_t li = 0; s == IR_OK && li < o->nloss; li++) {
    const char *ln = ir_loss_name(o->losses[li]);
    for (size_t ni = 0; s == IR_OK && ni < nn; ni++) {
      for (size_t si = 0; si < ns; si++)
        for (size_t wi = 0; wi < nw; wi++)
          err[si * nw + wi] = cell_out(R, O, wi, li, ni, si)[6];
      size_t ip, i0;
      if ((s = ir_widthsweep_peak(err, ns, nw, &ip, &i0, h + ni * ns)) != IR_OK)
        break;
      /* Per seed: where its own curve peaks, for the interval. */
      double lo = INFINITY, hi = -INFINITY;
      for (size_t si = 0; si < ns; si++) {
        size_t ips, i0s;
        double hs;
        ir_widthsweep_peak(err + si * nw, 1, nw, &ips, &i0s, &hs);
        double x = cell_out(R, O, ips, li, ni, si)[0] / nK;
        lo = fmin(lo, x);
        hi = fmax(hi, x);
      }
      const double x = cell_out(R, O, ip, li, ni, 0)[0] / nK;
      snprintf(claim, sizeof claim,
               "noise %g: the test-error peak lies at P/(nK) (interval: the "
               "seeds' own peaks)",
               o->noise[ni]);
      const int edge = ip == i0 || ip == nw - 1;
      finding(F, ln, claim, x, lo, hi, "near 1 (Belkin; Nakkiran)",
              ip == i0 ? "not resolved (no rise after the classical descent)"
              : edge   ? "not resolved (peak at the end of the grid)"
              : (x >= 0.5 && x <= 2) ? "supported (within a factor 2 of nK)"
                                     : "not supported (farther than 2x)");
      ir_summary sm;
      if (ns >= 2 &&
          (s = ir_stats_summary(h + ni * ns, ns, 0.95, &sm)) == IR_OK) {
        snprintf(claim, sizeof claim,
                 "noise %g: peak height over the widest network (test "
                 "error), 95%% t-interval over seeds",
                 o->noise[ni]);
        finding(F, ln, claim, sm.mean, sm.ci_lo, sm.ci_hi, "> 0",
                sm.ci_lo > 0 ? "supported" : "not resolved");
      } else if (s == IR_OK) {
        snprintf(claim, sizeof claim,
                 "noise %g: peak height over the widest network (one seed)",
                 o->noise[ni]);
        finding(F, ln, claim, h[ni * ns], NAN, NAN, "> 0", "not resolved");
      }
    }
    if (s == IR_OK && nn >= 2) {
      double d[1024];
      for (size_t si = 0; si < ns; si++)
        d[si] = h[(nn - 1) * ns + si] - h[si];
      snprintf(claim, sizeof claim,
               "label noise %g vs %g: change of the peak height (paired by "
               "seed, 95%% t-interval)",
               o->noise[nn - 1], o->noise[0]);
      ir_summary sm;
      if (ns >= 2 && (s = ir_stats_summary(d, ns, 0.95, &sm)) == IR_OK)
        finding(F, ln, claim, sm.mean, sm.ci_lo, sm.ci_hi,
                "> 0 (noise raises the peak, Nakkiran)",
                sm.ci_lo > 0   ? "supported"
                : sm.ci_hi < 0 ? "contradicted"
                               : "not resolved");
      else if (s == IR_OK)
        finding(F, ln, claim, d[0], NAN, NAN, "> 0", "not resolved");
    }
  }
  free(err);
  free(h);
  return s;
}

static int emc_findings(const nd_run *R, const nd_out *O, nd_find *F) {
  const nd_opts *o = R->o;
  char claim[256];
  const double nK = (double)(o->n * R->K);
  for (size_t wi = 0; wi < R->nemc_w; wi++)
    for (size_t ti = 0; ti < o->nemc_s; ti++) {
      const double *e = O->emc + (wi * o->nemc_s + ti) * 3;
      const double P = (double)ir_widthsweep_nparams(R->d, R->emc_w[wi], R->K);
      snprintf(claim, sizeof claim,
               "EMC/n at H = %zu (P/(nK) = %.3g), %zu steps, eps %g, noise %g",
               R->emc_w[wi], P / nK, o->emc_s[ti], o->emc_eps, o->emc_noise);
      const double r = e[0] / (double)o->n;
      finding(F, ir_loss_name(o->losses[0]), claim, r, NAN, NAN,
              "the peak is expected where EMC ~ n (Nakkiran)",
              e[1]        ? "measured (censored: at least this)"
              : e[0] == 0 ? "measured (not even the smallest subset fitted)"
                          : "measured");
    }
  /* Nakkiran et al.'s hypothesis: the test error peaks where EMC ≈ n.
   * With the longest training: the bracket of P/(nK) in which the EMC
   * first reaches n, against the peak of the same loss at the EMC's noise
   * level (when that level is swept). */
  size_t ni = o->nnoise;
  for (size_t k = 0; k < o->nnoise; k++)
    if (o->noise[k] == o->emc_noise)
      ni = k;
  if (ni == o->nnoise || R->nemc_w == 0)
    return IR_OK;
  const size_t ti = o->nemc_s - 1, ns = R->nseeds, nw = R->nw;
  size_t k = 0;
  while (k < R->nemc_w && O->emc[(k * o->nemc_s + ti) * 3] < (double)o->n)
    k++;
  const double lo =
      k == 0 ? 0
             : (double)ir_widthsweep_nparams(R->d, R->emc_w[k - 1], R->K) / nK;
  const double hi =
      k == R->nemc_w
          ? INFINITY
          : (double)ir_widthsweep_nparams(R->d, R->emc_w[k], R->K) / nK;
  double *err = malloc(ns * nw * sizeof *err), *h = malloc(ns * sizeof *h);
  if (err == NULL || h == NULL) {
    free(err);
    free(h);
    return ir_error(IR_ENOMEM, "out of memory");
  }
  for (size_t si = 0; si < ns; si++)
    for (size_t wi = 0; wi < nw; wi++)
      err[si * nw + wi] = cell_out(R, O, wi, 0, ni, si)[6];
  size_t ip, i0;
  int s = ir_widthsweep_peak(err, ns, nw, &ip, &i0, h);
  free(err);
  free(h);
  if (s != IR_OK)
    return s;
  const double x = cell_out(R, O, ip, 0, ni, 0)[0] / nK;
  snprintf(claim, sizeof claim,
           "the test-error peak (noise %g) lies where EMC reaches n: the "
           "interval is the P/(nK) bracket of that crossing (%zu steps)",
           o->emc_noise, o->emc_s[ti]);
  finding(F, ir_loss_name(o->losses[0]), claim, x, lo, hi,
          "inside (Nakkiran's hypothesis)",
          ip == i0               ? "not resolved (no peak)"
          : (x >= lo && x <= hi) ? "supported"
                                 : "not supported");
  return IR_OK;
}

/* Epoch-wise: after the early minimum of the mean test error, does it rise
 * (and fall again)?  Per seed: rise = max after the minimum − minimum;
 * fall = that max − the final error. */
static int epoch_findings(const nd_run *R, const nd_out *O, nd_find *F) {
  const nd_opts *o = R->o;
  const size_t ns = R->nseeds, np = R->nep;
  double mean[256], rise[1024], fall[1024];
  char claim[256];
  for (size_t ni = 0; ni < o->nnoise; ni++) {
    for (size_t k = 0; k < np; k++) {
      mean[k] = 0;
      for (size_t si = 0; si < ns; si++)
        mean[k] += O->ep[(ni * ns + si) * 2 * np + k] / (double)ns;
    }
    size_t kmin = 0, kmax;
    for (size_t k = 0; k < np; k++)
      if (mean[k] < mean[kmin])
        kmin = k;
    kmax = kmin;
    for (size_t k = kmin; k < np; k++)
      if (mean[k] > mean[kmax])
        kmax = k;
    for (size_t si = 0; si < ns; si++) {
      const double *e = O->ep + (ni * ns + si) * 2 * np;
      rise[si] = e[kmax] - e[kmin];
      fall[si] = e[kmax] - e[np - 1];
    }
    ir_summary a, b;
    int ok = ns >= 2 && ir_stats_summary(rise, ns, 0.95, &a) == IR_OK &&
             ir_stats_summary(fall, ns, 0.95, &b) == IR_OK;
    snprintf(claim, sizeof claim,
             "epoch-wise, H = %zu, noise %g: test error rises after its "
             "minimum at step %zu (to its maximum at step %zu)",
             R->ep_width, o->noise[ni], R->ep_step[kmin], R->ep_step[kmax]);
    finding(F, ir_loss_name(o->losses[0]), claim, ok ? a.mean : rise[0],
            ok ? a.ci_lo : NAN, ok ? a.ci_hi : NAN, "> 0",
            ok && a.ci_lo > 0 ? "supported" : "not resolved");
    snprintf(claim, sizeof claim,
             "epoch-wise, H = %zu, noise %g: and falls again by step %zu "
             "(second descent)",
             R->ep_width, o->noise[ni], R->ep_step[np - 1]);
    finding(F, ir_loss_name(o->losses[0]), claim, ok ? b.mean : fall[0],
            ok ? b.ci_lo : NAN, ok ? b.ci_hi : NAN, "> 0",
            kmax == np - 1      ? "not seen (highest at the last step)"
            : ok && b.ci_lo > 0 ? "supported"
                                : "not resolved");
  }
  return IR_OK;
}

static ir_table *emc_table(const nd_run *R, const nd_out *O) {
  const nd_opts *o = R->o;
  ir_table *t = ir_table_alloc(
      "emc", "Effective model complexity (Nakkiran et al.): the largest n "
             "fitted to training error <= eps");
  if (t == NULL)
    return NULL;
  ir_table_add_column(t, "width", IR_COL_INT, NULL);
  ir_table_add_column(t, "params", IR_COL_INT, NULL);
  ir_table_add_column(t, "params_over_nK", IR_COL_DOUBLE,
                      "P / (n K), n of the sweep");
  ir_table_add_column(t, "steps", IR_COL_INT, "training length (step cap)");
  ir_table_add_column(t, "emc", IR_COL_INT, NULL);
  ir_table_add_column(t, "emc_over_n", IR_COL_DOUBLE, "EMC / n");
  ir_table_add_column(t, "censored", IR_COL_INT,
                      "1: the largest subset tried was fitted");
  ir_table_add_column(t, "trainings", IR_COL_INT, "bisection evaluations");
  char note[256];
  snprintf(note, sizeof note,
           "subsets n = %zu, %zu, ... <= %zu (nested, first rows), eps %g, "
           "label noise %g, loss %s, seed %lu, loss goal %g",
           o->emc_grid, 2 * o->emc_grid, o->emc_nmax, o->emc_eps, o->emc_noise,
           ir_loss_name(o->losses[0]), o->common.seed, R->goal[0]);
  ir_table_add_note(t, note);
  for (size_t wi = 0; wi < R->nemc_w; wi++)
    for (size_t ti = 0; ti < o->nemc_s; ti++) {
      const double *e = O->emc + (wi * o->nemc_s + ti) * 3;
      const size_t P = ir_widthsweep_nparams(R->d, R->emc_w[wi], R->K);
      ir_table_add_row(t);
      ir_table_set_int(t, 0, (long)R->emc_w[wi]);
      ir_table_set_int(t, 1, (long)P);
      ir_table_set_double(t, 2, (double)P / (double)(o->n * R->K));
      ir_table_set_int(t, 3, (long)o->emc_s[ti]);
      ir_table_set_int(t, 4, (long)e[0]);
      ir_table_set_double(t, 5, e[0] / (double)o->n);
      ir_table_set_int(t, 6, (long)e[1]);
      ir_table_set_int(t, 7, (long)e[2]);
    }
  return t;
}

static ir_table *epoch_table(const nd_run *R, const nd_out *O) {
  const nd_opts *o = R->o;
  ir_table *t =
      ir_table_alloc("epochwise", "Epoch-wise curve: test error against steps");
  if (t == NULL)
    return NULL;
  ir_table_add_column(t, "noise", IR_COL_DOUBLE, NULL);
  ir_table_add_column(t, "step", IR_COL_INT, NULL);
  ir_table_add_column(t, "test_error", IR_COL_MEANSTD, "over seeds");
  ir_table_add_column(t, "train_loss", IR_COL_MEANSTD, "over seeds");
  char note[256];
  snprintf(note, sizeof note,
           "H = %zu (P/(nK) = %.3g), loss %s, no loss goal, %zu steps",
           R->ep_width,
           (double)ir_widthsweep_nparams(R->d, R->ep_width, R->K) /
               (double)(o->n * R->K),
           ir_loss_name(o->losses[0]), o->ep_steps);
  ir_table_add_note(t, note);
  const size_t ns = R->nseeds, np = R->nep;
  double v[1024], m, sd;
  for (size_t ni = 0; ni < o->nnoise; ni++)
    for (size_t k = 0; k < np; k++) {
      ir_table_add_row(t);
      ir_table_set_double(t, 0, o->noise[ni]);
      ir_table_set_int(t, 1, (long)R->ep_step[k]);
      for (int j = 0; j < 2; j++) {
        for (size_t si = 0; si < ns; si++)
          v[si] = O->ep[(ni * ns + si) * 2 * np + (size_t)j * np + k];
        mean_std(v, ns, &m, &sd);
        ir_table_set_meanstd(t, 2 + j, m, sd);
      }
    }
  return t;
}

static int write_figures(const nd_run *R, const nd_out *O, const char *dir) {
  const nd_opts *o = R->o;
  const size_t ns = R->nseeds, nw = R->nw;
  const double nK = (double)(o->n * R->K);
  double x[MAXW], y[MAXW], e[MAXW], v[1024];
  int s = IR_OK, rendered;
  static const char *const what[4] = {"test_error", "test_loss", "train_loss",
                                      "theta_norm"};
  static const char *const ylab[4] = {"test error", "test loss",
                                      "training loss", "‖θ‖₂"};
  static const int fi[4] = {6, 5, 3, 7};
  char name[128], title[256], lab[64];
  for (size_t li = 0; s == IR_OK && li < o->nloss; li++)
    for (int q = 0; s == IR_OK && q < 4; q++) {
      snprintf(name, sizeof name, "%s_%s", what[q],
               ir_loss_name(o->losses[li]));
      snprintf(title, sizeof title,
               "%s against parameters: %zu-H-10 %s, %s loss, n = %zu", ylab[q],
               R->d, ir_act_name(o->act), ir_loss_name(o->losses[li]), o->n);
      ir_figure *f =
          ir_figure_alloc(name, title, "parameters P (log scale)", ylab[q]);
      if (f == NULL)
        return ir_error(IR_ENOMEM, "out of memory");
      ir_figure_set_log(f, 1, q == 2);
      for (size_t ni = 0; s == IR_OK && ni < o->nnoise; ni++) {
        for (size_t wi = 0; wi < nw; wi++) {
          for (size_t si = 0; si < ns; si++)
            v[si] = cell_out(R, O, wi, li, ni, si)[fi[q]];
          double m, sd;
          mean_std(v, ns, &m, &sd);
          x[wi] = cell_out(R, O, wi, li, ni, 0)[0];
          y[wi] = m;
          e[wi] = ns > 1 ? sd / sqrt((double)ns) : NAN;
        }
        snprintf(lab, sizeof lab, "noise %g", o->noise[ni]);
        s = ir_figure_add_series_err(f, lab, x, y, ns > 1 ? e : NULL, nw,
                                     "linespoints");
      }
      if (s == IR_OK)
        s = ir_figure_add_vline(f, nK, "n K");
      if (s == IR_OK)
        s = ir_figure_write(f, dir, 1, &rendered);
      ir_figure_free(f);
    }
  if (s == IR_OK && O->ep) {
    const size_t np = R->nep;
    double *xs = malloc(np * sizeof *xs), *ys = malloc(np * sizeof *ys),
           *es = malloc(np * sizeof *es);
    snprintf(title, sizeof title,
             "Epoch-wise test error: %zu-%zu-10 %s, %s loss, n = %zu", R->d,
             R->ep_width, ir_act_name(o->act), ir_loss_name(o->losses[0]),
             o->n);
    ir_figure *f =
        ir_figure_alloc("epochwise", title, "step (log scale)", "test error");
    if (f == NULL || !xs || !ys || !es)
      s = ir_error(IR_ENOMEM, "out of memory");
    if (s == IR_OK)
      ir_figure_set_log(f, 1, 0);
    for (size_t ni = 0; s == IR_OK && ni < o->nnoise; ni++) {
      for (size_t k = 0; k < np; k++) {
        for (size_t si = 0; si < ns; si++)
          v[si] = O->ep[(ni * ns + si) * 2 * np + k];
        double m, sd;
        mean_std(v, ns, &m, &sd);
        xs[k] = (double)R->ep_step[k];
        ys[k] = m;
        es[k] = ns > 1 ? sd / sqrt((double)ns) : NAN;
      }
      snprintf(lab, sizeof lab, "noise %g", o->noise[ni]);
      s = ir_figure_add_series_err(f, lab, xs, ys, ns > 1 ? es : NULL, np,
                                   "linespoints");
    }
    if (s == IR_OK)
      s = ir_figure_write(f, dir, 1, &rendered);
    ir_figure_free(f);
    free(xs);
    free(ys);
    free(es);
  }
  if (s == IR_OK && O->emc) {
    snprintf(title, sizeof title,
             "Effective model complexity: %zu-H-10 %s, %s loss, noise %g", R->d,
             ir_act_name(o->act), ir_loss_name(o->losses[0]), o->emc_noise);
    ir_figure *f = ir_figure_alloc("emc", title, "parameters P",
                                   "EMC (training samples fitted)");
    if (f == NULL)
      return ir_error(IR_ENOMEM, "out of memory");
    /* A few widths within a factor of about 4: a linear P axis reads
     * better than a log one without a full decade. */
    ir_figure_set_log(f, 0, 0);
    for (size_t ti = 0; s == IR_OK && ti < o->nemc_s; ti++) {
      for (size_t wi = 0; wi < R->nemc_w; wi++) {
        x[wi] = (double)ir_widthsweep_nparams(R->d, R->emc_w[wi], R->K);
        y[wi] = O->emc[(wi * o->nemc_s + ti) * 3];
      }
      snprintf(lab, sizeof lab, "%zu steps", o->emc_s[ti]);
      s = ir_figure_add_series(f, lab, x, y, R->nemc_w, "linespoints");
    }
    if (s == IR_OK && R->nemc_w >= 1) {
      double xx[2] = {x[0], x[R->nemc_w - 1]},
             yy[2] = {(double)o->n, (double)o->n};
      s = ir_figure_add_series(f, "n (the sweep's samples)", xx, yy, 2,
                               "lines dashtype 2");
    }
    if (s == IR_OK)
      s = ir_figure_add_vline(f, nK, "n K");
    if (s == IR_OK)
      s = ir_figure_write(f, dir, 1, &rendered);
    ir_figure_free(f);
  }
  return s;
}

/* ---- checks
 * ------------------------------------------------------------------ */

static int build_checks(const nd_run *R, const nd_out *O, const double *again,
                        size_t again_cell, ir_checks *c) {
  const nd_opts *o = R->o;
  int s = IR_OK;
  char claim[320];
  /* Label noise: recounted from the targets trained on. */
  for (size_t ni = 0; s == IR_OK && ni < o->nnoise; ni++) {
    const size_t want = (size_t)llround(o->noise[ni] * (double)o->n);
    double worst = 0;
    for (size_t si = 0; si < R->nseeds; si++) {
      size_t ch = 0, bad = 0;
      s = ir_widthsweep_count_changed(R->noisy[ni * R->nseeds + si]->Y,
                                      R->clean->labels, &ch, &bad);
      if (s != IR_OK)
        break;
      worst = fmax(worst, fabs((double)ch - (double)want) + (double)bad);
    }
    snprintf(claim, sizeof claim,
             "label noise %g: every seed's training targets differ from the "
             "clean labels in exactly round(f n) = %zu rows, all one-hot "
             "(measured: worst |changed - %zu| + non-one-hot rows)",
             o->noise[ni], want, want);
    if (s == IR_OK)
      s = ir_checks_add_abs(c, claim,
                            "Nakkiran et al. 2019 (noise: a random incorrect "
                            "label)",
                            0, worst, 0);
  }
  /* Interpolation premise. */
  for (size_t li = 0; s == IR_OK && li < o->nloss; li++) {
    const double bound = goal_bound(o->losses[li], o->n, R->K);
    if (!(R->goal[li] < bound))
      continue;
    size_t nreach = 0;
    double worst = 0;
    for (size_t ni = 0; ni < o->nnoise; ni++)
      for (size_t si = 0; si < R->nseeds; si++)
        for (size_t wi = 0; wi < R->nw; wi++) {
          const double *x = cell_out(R, O, wi, li, ni, si);
          if (x[2] != IR_OPTIM_GOAL)
            continue;
          nreach++;
          worst = fmax(worst, x[8]);
        }
    if (nreach == 0)
      continue;
    snprintf(claim, sizeof claim,
             "%s: the %zu networks that reached the loss goal %.3g (< %.3g, "
             "the bound that forces every argmax onto its target) have zero "
             "training error, recounted from their predictions against the "
             "labels trained on (worst)",
             ir_loss_name(o->losses[li]), nreach, R->goal[li], bound);
    s = ir_checks_add_abs(c, claim,
                          o->losses[li] == IR_LOSS_CE
                              ? "per-sample CE < ln 2 gives p_y > 1/2"
                              : "||f - e_y||^2 < 1/2 gives argmax f = y",
                          0, worst, 0);
  }
  /* Reproducibility of one cell. */
  if (s == IR_OK && again) {
    const double *first = O->sw + again_cell * NOUT;
    size_t diff = 0;
    for (size_t j = 0; j < NOUT; j++)
      diff += memcmp(&first[j], &again[j], sizeof(double)) != 0;
    size_t wi, li, ni, si;
    sweep_coords(R, again_cell, &wi, &li, &ni, &si);
    snprintf(claim, sizeof claim,
             "cell H = %zu, %s, noise %g, seed %lu recomputed in this process "
             "after all others: the same bits (measured: outputs that differ "
             "of %d)",
             R->widths[wi], ir_loss_name(o->losses[li]), o->noise[ni],
             seed_of(R, si), NOUT);
    s = ir_checks_add_abs(c, claim,
                          "cells.h: a cell is a pure function of its "
                          "coordinates",
                          0, (double)diff, 0);
  }
  return s;
}

/* ---- main -----------------------------------------------------------------
 */

int ir_an_nn_double_descent(int argc0, char **argv0) {
  int argc;
  char **argv;
  int rc = ir_cli_expand_config(PROG, argc0, argv0, &argc, &argv);
  if (rc != 0)
    return rc;
  const double t_start = ir_wall_time();
  nd_opts o;
  memset(&o, 0, sizeof o);
  ir_cli_common_init(&o.common, AN);
  o.pool = 2;
  o.nloss = 2;
  o.losses[0] = IR_LOSS_HALF_SSE;
  o.losses[1] = IR_LOSS_CE;
  o.act = IR_ACT_RELU;
  o.wlo = 0.1;
  o.whi = 10;
  o.lr = 0.05;
  o.momentum = 0.9;
  o.goal = -1;
  o.emc_eps = 0.1;
  ir_cli_config cfg = {0, 0, NULL, NULL};
  nd_run R;
  memset(&R, 0, sizeof R);
  nd_out O = {NULL, NULL, NULL};
  ir_checks *chk = NULL;
  ir_table *tabs[6] = {NULL};
  double again[NOUT];
  int have_again = 0;
  size_t again_cell = 0;
  FILE *txt = NULL;
  char *txtbuf = NULL;
  size_t txtlen = 0;
  rc = parse(argc, argv, &o, &cfg);
  if (rc != 0) {
    rc = rc < 0 ? IR_EXIT_OK : rc;
    goto done;
  }
  if (o.common.seeds > 1024) {
    rc = ir_cli_usage_error(PROG, "--seeds at most 1024");
    goto done;
  }
  /* Every option checked before any work (`all` stops here). */
  ir_cli_uses_cells(&o.common);
  if ((rc = ir_cli_check_run(PROG, &o.common, NULL, 0)) != 0 ||
      ir_cli_validating)
    goto done;
  ir_cli_break_announce(PROG, &cfg);
  R.o = &o;
  R.cfg = &cfg;
  R.nseeds = o.common.seeds;
  if ((rc = load_data(&R)) != 0)
    goto done;
  const size_t nK = o.n * R.K;
  int s = IR_OK;
  if (o.nwidths) {
    memcpy(R.widths, o.widths, o.nwidths * sizeof *R.widths);
    R.nw = o.nwidths;
  } else if ((s = ir_widthsweep_widths(R.d, R.K, o.n, o.wlo, o.whi, o.wpoints,
                                       R.widths, &R.nw)) != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  for (size_t li = 0; li < o.nloss; li++)
    R.goal[li] =
        o.goal >= 0 ? o.goal : 0.8 * goal_bound(o.losses[li], o.n, R.K);
  /* The width nearest the threshold (epoch-wise curve, reproducibility). */
  size_t wnear = 0;
  for (size_t wi = 0; wi < R.nw; wi++)
    if (fabs(log((double)ir_widthsweep_nparams(R.d, R.widths[wi], R.K) /
                 (double)nK)) <
        fabs(log((double)ir_widthsweep_nparams(R.d, R.widths[wnear], R.K) /
                 (double)nK)))
      wnear = wi;
  R.ep_width = R.widths[wnear];
  if (o.nemc_w) {
    memcpy(R.emc_w, o.emc_w, o.nemc_w * sizeof *R.emc_w);
    R.nemc_w = o.nemc_w;
  } else {
    static const double f[3] = {0.5, 1, 2};
    for (int k = 0; k < 3; k++) {
      double h = ((double)nK * f[k] - (double)R.K) / (double)(R.d + 1 + R.K);
      size_t H = h < 1 ? 1 : (size_t)llround(h);
      if (R.nemc_w == 0 || H > R.emc_w[R.nemc_w - 1])
        R.emc_w[R.nemc_w++] = H;
    }
  }
  /* Log-spaced steps 0 < t_1 < ... <= T for the epoch-wise curve. */
  if (!o.no_epoch) {
    for (size_t k = 0; k < o.ep_points; k++) {
      size_t t = (size_t)llround(
          pow((double)o.ep_steps, (double)k / (double)(o.ep_points - 1)));
      if (R.nep == 0 || t > R.ep_step[R.nep - 1])
        R.ep_step[R.nep++] = t;
    }
  }

  const size_t nsw = R.nw * o.nloss * o.nnoise * R.nseeds;
  O.sw = malloc(nsw * NOUT * sizeof(double));
  if (O.sw == NULL) {
    rc = ir_cli_fail(PROG, IR_ENOMEM, "out of memory");
    goto done;
  }
  double t0 = ir_wall_time();
  ir_cli_progress(&o.common, AN, "width sweep: %zu cells", nsw);
  if ((s = run_cells(&R, "width", nsw, NOUT, sweep_cell, O.sw)) != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  const double t_sweep = ir_wall_time() - t0;
  double t_ep = 0, t_emc = 0;
  if (!o.no_epoch) {
    t0 = ir_wall_time();
    const size_t nc = o.nnoise * R.nseeds;
    O.ep = malloc(nc * 2 * R.nep * sizeof(double));
    if (O.ep == NULL) {
      rc = ir_cli_fail(PROG, IR_ENOMEM, "out of memory");
      goto done;
    }
    ir_cli_progress(&o.common, AN, "epoch-wise: %zu cells", nc);
    if ((s = run_cells(&R, "epoch", nc, 2 * R.nep, epoch_cell, O.ep)) != IR_OK) {
      rc = ir_cli_fail(PROG, s, NULL);
      goto done;
    }
    t_ep = ir_wall_time() - t0;
  }
  if (!o.no_emc) {
    t0 = ir_wall_time();
    const size_t nc = R.nemc_w * o.nemc_s;
    O.emc = malloc(nc * 3 * sizeof(double));
    if (O.emc == NULL) {
      rc = ir_cli_fail(PROG, IR_ENOMEM, "out of memory");
      goto done;
    }
    ir_cli_progress(&o.common, AN, "EMC: %zu cells", nc);
    if ((s = run_cells(&R, "emc", nc, 3, emc_cell, O.emc)) != IR_OK) {
      rc = ir_cli_fail(PROG, s, NULL);
      goto done;
    }
    t_emc = ir_wall_time() - t0;
  }

  /* A shard's run (or an MPI rank but 0) ends here with its cells. */
  if (ir_cli_shard_done(PROG, &o.common, AN, &cfg, &rc))
    goto done;
  /* Reproducibility: the cell nearest the threshold at the largest noise,
   * first seed and loss, again in this process. */
  {
    const size_t ns = R.nseeds, nn = o.nnoise, nl = o.nloss;
    again_cell = (((R.nw - 1 - wnear) * nl + 0) * nn + (nn - 1)) * ns + 0;
    nd_again A = {&R, again_cell};
    ir_cells_params cp;
    ir_cells_params_default(&cp);
    cp.ncells = 1;
    cp.nout = NOUT;
    cp.workers = 1;
    cp.cell_threads = 1;
    if ((s = ir_cells_run(&cp, again_fn, &A, again)) != IR_OK) {
      rc = ir_cli_fail(PROG, s, NULL);
      goto done;
    }
    have_again = 1;
  }
  /* Findings go to a table and to the text output (built in memory, so
   * that nothing is printed before everything is written). */
  txt = open_memstream(&txtbuf, &txtlen);
  if (txt == NULL) {
    rc = ir_cli_fail(PROG, IR_ENOMEM, "out of memory");
    goto done;
  }
  nd_find F = {ir_table_alloc("findings",
                              "Findings: measured tendencies with intervals "
                              "(not pass/fail checks)"),
               txt};
  tabs[5] = F.t;
  if (F.t == NULL) {
    rc = ir_cli_fail(PROG, IR_ENOMEM, "out of memory");
    goto done;
  }
  ir_table_add_column(F.t, "loss", IR_COL_STRING, NULL);
  ir_table_add_column(F.t, "claim", IR_COL_STRING, NULL);
  ir_table_add_column(F.t, "measured", IR_COL_DOUBLE, NULL);
  ir_table_add_column(F.t, "ci_lo", IR_COL_DOUBLE, "interval, lower end");
  ir_table_add_column(F.t, "ci_hi", IR_COL_DOUBLE, "interval, upper end");
  ir_table_add_column(F.t, "direction", IR_COL_STRING, "what is expected");
  ir_table_add_column(F.t, "status", IR_COL_STRING,
                      "supported / not resolved / ...");
  fprintf(txt, "findings:\n");
  s = sweep_findings(&R, &O, &F);
  if (s == IR_OK && O.emc)
    s = emc_findings(&R, &O, &F);
  if (s == IR_OK && O.ep)
    s = epoch_findings(&R, &O, &F);
  fclose(txt);
  txt = NULL;
  chk = ir_checks_alloc();
  if (s == IR_OK && chk == NULL)
    s = ir_error(IR_ENOMEM, "out of memory");
  if (s == IR_OK)
    s = build_checks(&R, &O, have_again ? again : NULL, again_cell, chk);
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  /* Everything computed: now the files. */
  if ((rc = ir_cli_prepare_out(PROG, o.common.out)) != 0)
    goto done;
  const double t_w = ir_wall_time();
  tabs[0] = sweep_table(&R, &O);
  tabs[1] = cells_table(&R, &O);
  tabs[2] = O.emc ? emc_table(&R, &O) : NULL;
  tabs[3] = O.ep ? epoch_table(&R, &O) : NULL;
  for (int k = 0; s == IR_OK && k < 6; k++) {
    if (k == 4)
      continue;
    if ((k <= 1 || k == 5) && tabs[k] == NULL)
      s = ir_error(IR_ENOMEM, "out of memory");
    if (s == IR_OK && tabs[k] &&
        (s = ir_table_set_paper_from(tabs[k], paper)) == IR_OK)
      s = ir_table_write(tabs[k], o.common.out, o.common.formats);
  }
  if (s == IR_OK)
    s = write_figures(&R, &O, o.common.out);
  if (s == IR_OK)
    s = ir_checks_write(chk, o.common.out, o.common.formats);
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  {
    char b[64];
    ir_cli_config_set(&cfg, "derived.widths_count", "%zu", R.nw);
    ir_cli_config_set(&cfg, "derived.epoch_width", "%zu", R.ep_width);
    ir_cli_config_set(&cfg, "derived.workers", "%d",
                      o.common.threads > 0 ? o.common.threads
                                           : ir_cells_ncpu());
    for (size_t li = 0; li < o.nloss; li++) {
      char key[64];
      snprintf(key, sizeof key, "derived.loss_goal_%s",
               ir_loss_name(o.losses[li]));
      ir_cli_config_set(&cfg, key, "%s",
                        ir_cli_fmt_double(b, sizeof b, R.goal[li]));
    }
  }
  const char *stages[5] = {"sweep", "epochwise", "emc", "write", "total"};
  double secs[5] = {t_sweep, t_ep, t_emc, ir_wall_time() - t_w, 0};
  secs[4] = ir_wall_time() - t_start;
  s = ir_cli_write_manifest(o.common.out, AN, &cfg, stages, secs, 4, chk,
                            ir_wall_time() - t_start);
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  if (ir_cli_collect)
    ir_checks_merge(ir_cli_collect, chk, AN);
  if (!o.common.quiet) {
    printf("nn-double-descent: n = %zu, d = %zu (pool %zu), n K = %zu, %zu "
           "widths (H %zu..%zu), %zu seeds, %zu cells in %.1f s\n",
           o.n, R.d, o.pool, nK, R.nw, R.widths[0], R.widths[R.nw - 1],
           R.nseeds, nsw, t_sweep);
    ir_table_print(tabs[0], stdout);
    if (tabs[2])
      ir_table_print(tabs[2], stdout);
    fputs(txtbuf ? txtbuf : "", stdout);
    putchar('\n');
    ir_checks_print(chk, stdout);
  }
  rc = ir_cli_exit_status(&o.common, chk);
done:
  if (txt)
    fclose(txt);
  free(txtbuf);
  for (int k = 0; k < 6; k++)
    ir_table_free(tabs[k]);
  ir_checks_free(chk);
  free(O.sw);
  free(O.ep);
  free(O.emc);
  if (R.noisy)
    for (size_t i = 0; i < o.nnoise * R.nseeds; i++)
      ir_dataset_free(R.noisy[i]);
  free(R.noisy);
  ir_dataset_free(R.clean);
  ir_dataset_free(R.emc_data);
  if (R.X)
    gsl_matrix_free(R.X);
  if (R.Xt)
    gsl_matrix_free(R.Xt);
  if (R.Yt)
    gsl_matrix_free(R.Yt);
  if (R.Xemc)
    gsl_matrix_free(R.Xemc);
  ir_cli_config_free(&cfg);
  ir_cli_argv_free(argc, argv);
  return rc;
}
