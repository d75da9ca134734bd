/* an_train.c — `implreg train`: train a network (mlp.h) with GD, SGD,
 * heavy-ball momentum or explicit gradient regularization (optim.h); log
 * loss, accuracy, ‖∇L‖² and, on request, the sharpness λ_max (Lanczos,
 * warm-started from the previous eigenvector, curvature.h) every k steps;
 * save θ in PyTorch's layout.  The edge-of-stability claim of docs/theory.md §7
 * (full-batch GD's sharpness does not settle above 2/η; heavy ball:
 * (2 + 2β)/η) is checked when the sharpness is tracked.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>

#include "cli.h"
#include "netio.h"

static const char *const AN = "train";
static const char *const PROG = "implreg train";

/* Test hook.  IMPLREG_BREAK (comma-separated names) breaks one computation
 * on purpose, as a plausible bug would, so that tests/cli_hessian.sh can
 * show which checks catch it: "sharpness" (the logged sharpness scaled by
 * 1 + 1e-3), "lr" (the optimizer steps with 1.1 eta while everything else
 * uses eta), "threshold" (the stability threshold 2/eta whatever the
 * momentum).  Never set it otherwise. */

static const char help[] =
    "Usage: implreg train --arch D-H-...-K (--X FILE --Y FILE | --data NAME)\n"
    "         --lr ETA [--batch B] [--momentum BETA] [--egr MU] [--steps T]\n"
    "         [--sharpness] [--save THETA.npy] [options]\n\n"
    "Trains the network from PyTorch's default initialization (or --init\n"
    "FILE) and logs the full-batch loss, accuracy, ||grad L||^2 and, with\n"
    "--sharpness, lambda_max of the Hessian every --log-every steps.  Stops\n"
    "at --steps, at --loss-goal, or on divergence (reported, never NaN:\n"
    "the last finite iterate is kept).  Writes log.csv (and .md/.tex/.json),\n"
    "a figure, summary.json, checks and the weights theta.npy, whose layout\n"
    "is PyTorch's (load with torch.nn.utils.vector_to_parameters).\n\n"
    "Training options:\n"
    "  --lr ETA           step size (required)\n"
    "  --batch B          mini-batch size (default 0: full batch, i.e. GD)\n"
    "  --replacement      draw each mini-batch with replacement (default: a\n"
    "                     fresh shuffle every epoch)\n"
    "  --momentum BETA    heavy ball v <- beta v + g, theta <- theta - eta v\n"
    "  --egr MU           explicit gradient regularization: descend on\n"
    "                     L + MU ||grad L||^2 (one extra Hessian-vector "
    "product\n"
    "                     per step)\n"
    "  --steps T          parameter updates (default 1000; quick 200)\n"
    "  --loss-goal L      stop once the full-batch loss is <= L\n"
    "  --log-every K      log every K steps (default: about 100 rows)\n"
    "  --sharpness        also log lambda_max (Lanczos, warm-started)\n"
    "  --sharpness-tol T  relative residual for it (default 1e-6)\n"
    "  --init FILE        start from these weights instead of torch's init\n"
    "  --ntest M          test samples for --data (default 1000; 0: none)\n"
    "  --save FILE        where to write theta (default OUT/theta.npy)\n\n"
    "Checks (with --sharpness): the last logged sharpness against a cold-\n"
    "start Lanczos to 1e-10; for full-batch GD or heavy ball without EGR\n"
    "that reached 95% of the threshold (2 + 2 beta)/eta, the median\n"
    "sharpness over the second half within 3% of it (edge of stability).\n"
    "--seeds > 1 is refused: give --seed N and repeat the command.\n\n";

enum {
  OPT_LR = 1,
  OPT_BATCH,
  OPT_REPL,
  OPT_MOM,
  OPT_EGR,
  OPT_STEPS,
  OPT_GOAL,
  OPT_LOGEVERY,
  OPT_SHARP,
  OPT_SHARPTOL,
  OPT_INIT,
  OPT_NTEST,
  OPT_SAVE
};

typedef struct {
  ir_cli_common common;
  ir_net_opts net;
  ir_optim_params op;
  size_t log_every, ntest;
  int sharpness, steps_set, ntest_set;
  double sharp_tol;
  const char *init, *save;
} tr_opts;

static int parse(int argc, char **argv, tr_opts *o, ir_cli_config *cfg) {
  static const struct option longopts[] = {
      IR_NET_OPTIONS,
      IR_NET_TEST_OPTIONS,
      {"lr", required_argument, NULL, OPT_LR},
      {"batch", required_argument, NULL, OPT_BATCH},
      {"replacement", no_argument, NULL, OPT_REPL},
      {"momentum", required_argument, NULL, OPT_MOM},
      {"egr", required_argument, NULL, OPT_EGR},
      {"steps", required_argument, NULL, OPT_STEPS},
      {"loss-goal", required_argument, NULL, OPT_GOAL},
      {"log-every", required_argument, NULL, OPT_LOGEVERY},
      {"sharpness", no_argument, NULL, OPT_SHARP},
      {"sharpness-tol", required_argument, NULL, OPT_SHARPTOL},
      {"init", required_argument, NULL, OPT_INIT},
      {"ntest", required_argument, NULL, OPT_NTEST},
      {"save", required_argument, NULL, OPT_SAVE},
      IR_CLI_COMMON_OPTIONS,
      {NULL, 0, NULL, 0}};
  char full_help[sizeof help + 4096];
  snprintf(full_help, sizeof full_help, "%s%s%s\n", help, ir_net_help,
           ir_net_test_help);
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
    case OPT_LR:
      if (ir_cli_double(PROG, "lr", optarg, DBL_MIN, 1e300, &o->op.lr))
        return IR_EXIT_USAGE;
      break;
    case OPT_BATCH:
      if (ir_cli_size(PROG, "batch", optarg, 0, 100000000, &o->op.batch))
        return IR_EXIT_USAGE;
      break;
    case OPT_REPL: o->op.replacement = 1; break;
    case OPT_MOM:
      if (ir_cli_double(PROG, "momentum", optarg, 0, 0.999999, &o->op.momentum))
        return IR_EXIT_USAGE;
      break;
    case OPT_EGR:
      if (ir_cli_double(PROG, "egr", optarg, 0, 1e300, &o->op.egr))
        return IR_EXIT_USAGE;
      break;
    case OPT_STEPS:
      if (ir_cli_size(PROG, "steps", optarg, 1, 1000000000, &o->op.max_steps))
        return IR_EXIT_USAGE;
      o->steps_set = 1;
      break;
    case OPT_GOAL:
      if (ir_cli_double(PROG, "loss-goal", optarg, 0, 1e300, &o->op.loss_goal))
        return IR_EXIT_USAGE;
      break;
    case OPT_LOGEVERY:
      if (ir_cli_size(PROG, "log-every", optarg, 1, 1000000000, &o->log_every))
        return IR_EXIT_USAGE;
      break;
    case OPT_SHARP: o->sharpness = 1; break;
    case OPT_SHARPTOL:
      if (ir_cli_double(PROG, "sharpness-tol", optarg, 1e-15, 0.1,
                        &o->sharp_tol))
        return IR_EXIT_USAGE;
      break;
    case OPT_INIT: o->init = optarg; break;
    case OPT_NTEST:
      if (ir_cli_size(PROG, "ntest", optarg, 0, 100000000, &o->ntest))
        return IR_EXIT_USAGE;
      o->ntest_set = 1;
      break;
    case OPT_SAVE: o->save = optarg; break;
    default:
      if ((r = ir_cli_default_option(PROG, &o->common, c, optarg, argv,
                                     full_help)) != 0)
        return r;
    }
  }
  if ((r = ir_net_finish(PROG, argc, argv, &o->common, &o->net)) != 0)
    return r;
  if (!(o->op.lr > 0))
    return ir_cli_usage_error(PROG, "--lr ETA is required (the step size)");
  if (!o->steps_set && o->common.quick)
    o->op.max_steps = 200;
  if (!o->ntest_set)
    o->ntest = o->common.quick ? 200 : 1000;
  if (o->log_every == 0)
    o->log_every = o->op.max_steps >= 100 ? o->op.max_steps / 100 : 1;
  char b[40];
  ir_cli_config_common(cfg, &o->common);
  ir_cli_config_set(cfg, "lr", "%s", ir_cli_fmt_double(b, sizeof b, o->op.lr));
  ir_cli_config_set(cfg, "batch", "%zu", o->op.batch);
  if (o->op.replacement)
    ir_cli_config_set(cfg, "replacement", "true");
  ir_cli_config_set(cfg, "momentum", "%s",
                    ir_cli_fmt_double(b, sizeof b, o->op.momentum));
  ir_cli_config_set(cfg, "egr", "%s",
                    ir_cli_fmt_double(b, sizeof b, o->op.egr));
  ir_cli_config_set(cfg, "steps", "%zu", o->op.max_steps);
  if (o->op.loss_goal >= 0)
    ir_cli_config_set(cfg, "loss-goal", "%s",
                      ir_cli_fmt_double(b, sizeof b, o->op.loss_goal));
  ir_cli_config_set(cfg, "log-every", "%zu", o->log_every);
  if (o->sharpness) {
    ir_cli_config_set(cfg, "sharpness", "true");
    ir_cli_config_set(cfg, "sharpness-tol", "%s",
                      ir_cli_fmt_double(b, sizeof b, o->sharp_tol));
  }
  if (o->init)
    ir_cli_config_set(cfg, "init", "%s", o->init);
  ir_cli_config_set(cfg, "ntest", "%zu", o->ntest);
  if (o->save)
    ir_cli_config_set(cfg, "save", "%s", o->save);
  return 0;
}

/* ---- the log
 * ----------------------------------------------------------------- */

typedef struct {
  size_t step;
  double loss, acc, grad2, sharp, sharp_res, test_loss, test_acc;
  size_t sharp_hvps;
} tr_row;

typedef struct {
  const tr_opts *o;
  ir_model *m, *mtest;
  const gsl_matrix *Xtest, *Ytest, *X, *Y;
  int classify;
  gsl_vector *grad;
  double *v; /* previous top eigenvector (warm start) */
  int have_v;
  tr_row *rows;
  size_t nrows, cap;
  int status; /* first library error inside the observer */
  double t_log;
  int cold_done;          /* the cold-start check ran */
  double cold, cold_res;  /* its λ_max and residual */
} tr_log;

static int log_row(tr_log *L, size_t step, const gsl_vector *theta) {
  const double t0 = ir_wall_time();
  if (L->nrows == L->cap) {
    size_t cap = L->cap ? 2 * L->cap : 128;
    tr_row *r = realloc(L->rows, cap * sizeof *r);
    if (r == NULL)
      return ir_error(IR_ENOMEM, "out of memory (training log)");
    L->rows = r;
    L->cap = cap;
  }
  tr_row *row = &L->rows[L->nrows];
  memset(row, 0, sizeof *row);
  row->step = step;
  row->acc = row->test_loss = row->test_acc = NAN;
  row->sharp = row->sharp_res = NAN;
  int s = ir_model_loss_grad(L->m, theta, NULL, 0, &row->loss, L->grad);
  if (s != IR_OK)
    return s;
  row->grad2 = gsl_blas_dnrm2(L->grad);
  row->grad2 *= row->grad2;
  if (L->classify)
    s = ir_mlp_accuracy(L->m, theta, L->X, L->Y, &row->acc);
  if (s == IR_OK && L->mtest) {
    s = ir_model_loss_grad(L->mtest, theta, NULL, 0, &row->test_loss, NULL);
    if (s == IR_OK && L->classify)
      s = ir_mlp_accuracy(L->mtest, theta, L->Xtest, L->Ytest, &row->test_acc);
  }
  if (s == IR_OK && L->o->sharpness && isfinite(row->loss)) {
    ir_hessian_op h = {L->m, theta, NULL, 0};
    ir_linop op = ir_linop_hessian(&h);
    ir_lanczos_params lp;
    ir_lanczos_params_default(&lp);
    lp.tol = L->o->sharp_tol;
    lp.seed = L->o->common.seed;
    lp.stream = ir_rng_stream(IR_STREAM_PROBE, 50, 0);
    lp.v0 = L->have_v ? L->v : NULL;
    /* One value per logged step: no multiplicity to certify, and the
     * deflated run would cost several times the warm start.  The final
     * value is checked against a cold-start solve instead. */
    lp.certify = 0;
    ir_eig_result *e = NULL;
    s = ir_lanczos_eigs(&op, &lp, &e);
    if (s == IR_OK) {
      row->sharp = e->values[0] * (ir_cli_broken("sharpness") ? 1 + 1e-3 : 1);
      row->sharp_res = e->residuals[0];
      row->sharp_hvps = e->nmatvec;
      for (size_t j = 0; j < L->m->nparams; j++)
        L->v[j] = gsl_matrix_get(e->vectors, j, 0);
      L->have_v = 1;
    }
    ir_eig_result_free(e);
  }
  if (s != IR_OK)
    return s;
  L->nrows++;
  L->t_log += ir_wall_time() - t0;
  ir_cli_progress(&L->o->common, AN, "step %zu/%zu  loss %.6g%s", step,
                  L->o->op.max_steps, row->loss,
                  L->o->sharpness ? "  (sharpness logged)" : "");
  return IR_OK;
}

/* The optimizer's observer: log every k steps. */
static int observe(void *ctx, size_t step, const gsl_vector *theta) {
  tr_log *L = ctx;
  if (step % L->o->log_every != 0)
    return 0;
  int s = log_row(L, step, theta);
  if (s != IR_OK) {
    L->status = s;
    return 1;
  }
  return 0;
}

/* Stability threshold of the method on a quadratic (docs/theory.md §7):
 * 2/eta for GD, (2 + 2 beta)/eta for heavy ball (Cohen et al. 2021). */
static double threshold(const tr_opts *o) {
  if (ir_cli_broken("threshold"))
    return 2.0 / o->op.lr;
  return (2.0 + 2.0 * o->op.momentum) / o->op.lr;
}

static ir_table *log_table(const tr_log *L) {
  const tr_opts *o = L->o;
  ir_table *t = ir_table_alloc("log", "Training log (full-batch quantities)");
  if (t == NULL)
    return NULL;
  ir_table_add_column(t, "step", IR_COL_INT, "parameter updates done");
  ir_table_add_column(t, "loss", IR_COL_DOUBLE, "training loss");
  ir_table_add_column(t, "grad_norm2", IR_COL_DOUBLE, "||grad L||^2");
  if (L->classify)
    ir_table_add_column(t, "accuracy", IR_COL_DOUBLE, "training accuracy");
  if (L->mtest) {
    ir_table_add_column(t, "test_loss", IR_COL_DOUBLE, NULL);
    if (L->classify)
      ir_table_add_column(t, "test_accuracy", IR_COL_DOUBLE, NULL);
  }
  if (o->sharpness) {
    ir_table_add_column(t, "sharpness", IR_COL_DOUBLE,
                        "lambda_max of the training-loss Hessian");
    ir_table_add_column(t, "sharpness_residual", IR_COL_DOUBLE,
                        "||Hv - lambda v||");
    ir_table_add_column(t, "sharpness_hvps", IR_COL_INT,
                        "Lanczos products (warm start)");
    ir_table_add_column(t, "sharpness_over_threshold", IR_COL_DOUBLE,
                        o->op.momentum > 0
                            ? "S / ((2 + 2 beta)/eta), 1 at heavy ball's "
                              "stability threshold"
                            : "S / (2/eta) = S eta / 2, 1 at GD's stability "
                              "threshold");
  }
  char note[512];
  snprintf(note, sizeof note,
           "loss: %s; lr %g, batch %zu%s, momentum %g, egr %g",
           ir_loss_formula(o->net.arch.loss), o->op.lr, o->op.batch,
           o->op.batch ? (o->op.replacement ? " (with replacement)"
                                            : " (reshuffled every epoch)")
                       : " (full)",
           o->op.momentum, o->op.egr);
  ir_table_add_note(t, note);
  for (size_t i = 0; i < L->nrows; i++) {
    const tr_row *r = &L->rows[i];
    int c = 0;
    ir_table_add_row(t);
    ir_table_set_int(t, c++, (long)r->step);
    ir_table_set_double(t, c++, r->loss);
    ir_table_set_double(t, c++, r->grad2);
    if (L->classify)
      ir_table_set_double(t, c++, r->acc);
    if (L->mtest) {
      ir_table_set_double(t, c++, r->test_loss);
      if (L->classify)
        ir_table_set_double(t, c++, r->test_acc);
    }
    if (o->sharpness) {
      ir_table_set_double(t, c++, r->sharp);
      ir_table_set_double(t, c++, r->sharp_res);
      ir_table_set_int(t, c++, (long)r->sharp_hvps);
      ir_table_set_double(t, c++, r->sharp / threshold(o));
    }
  }
  return t;
}


/* The checks, when the sharpness is logged:
 *  - the last logged sharpness (Lanczos warm-started from the previous
 *    eigenvector, tolerance --sharpness-tol) against a cold-start Lanczos
 *    at the final weights to 1e-10: both values lie within their residuals
 *    of an eigenvalue, so they agree to the sum of the residuals unless the
 *    warm start locked onto another eigenvalue (or the logged number is
 *    wrong).
 *  - edge of stability (Cohen et al.; docs/theory.md §7), for full-batch
 *    GD or heavy ball without EGR that did not diverge, when the sharpness
 *    reached 95% of the threshold (2 + 2β)/η at some logged step: its
 *    median over the second half of the run is within 3% of the threshold
 *    (it hovers there rather than falling back or exploding).  The median,
 *    not the maximum: at the edge S oscillates by several percent from
 *    step to step.  No "S <= threshold" claim is made: where the premise
 *    holds it is implied by this one, and where it does not the sharpness
 *    stayed below 95% of the threshold, so it would hold trivially. */
static int build_checks(const tr_log *L, const ir_optim_result *res,
                        ir_checks *c) {
  const tr_opts *o = L->o;
  if (!o->sharpness || L->nrows == 0)
    return IR_OK;
  int s = IR_OK;
  const tr_row *last = &L->rows[L->nrows - 1];
  if (L->cold_done && isfinite(last->sharp)) {
    const double tol = last->sharp_res + L->cold_res +
                       (double)L->m->nparams * DBL_EPSILON * fabs(L->cold);
    char claim[200];
    snprintf(claim, sizeof claim,
             "final sharpness (warm-started Lanczos, step %zu) against a "
             "cold-start Lanczos to 1e-10, within the sum of their residuals",
             last->step);
    s = ir_checks_add_abs(c, claim,
                          "docs/theory.md 8 (residual bound for symmetric H)",
                          L->cold, last->sharp, tol);
  }
  const int full = o->op.batch == 0 || o->op.batch >= L->m->nsamples;
  if (s != IR_OK || !full || o->op.egr > 0 || res->diverged || L->nrows < 8)
    return s;
  const double lastst = (double)last->step, thr = threshold(o);
  double *v = malloc(L->nrows * sizeof(double)), smax = 0;
  if (v == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  size_t m = 0;
  for (size_t i = 0; i < L->nrows; i++) {
    smax = fmax(smax, L->rows[i].sharp);
    if ((double)L->rows[i].step >= lastst / 2)
      v[m++] = L->rows[i].sharp;
  }
  ir_summary sum;
  s = ir_stats_summary(v, m, 0.95, &sum);
  free(v);
  if (s != IR_OK)
    return s;
  if (smax >= 0.95 * thr) {
    const char *name = o->op.momentum > 0 ? "(2 + 2 beta)/eta" : "2/eta";
    char claim[200];
    snprintf(claim, sizeof claim,
             "edge of stability: median sharpness over the second half "
             "within 3%% of %s, eta = %g%s",
             name, o->op.lr, o->op.momentum > 0 ? ", heavy ball" : "");
    char src[160];
    snprintf(src, sizeof src,
             "Cohen et al. 2021 arXiv:2103.00065; docs/theory.md 7 (|S/thr - "
             "1| < 3%%, thr = %s)",
             name);
    s = ir_checks_add_rel(c, claim, src, thr, sum.median, 0.03);
  }
  return s;
}

static int write_figures(const tr_log *L, const char *dir) {
  const size_t n = L->nrows;
  double *x = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double)),
         *z = malloc(n * sizeof(double));
  /* Titles name the network and the method with its step: the figures of
   * several runs look alike otherwise. */
  const ir_optim_params *op = &L->o->op;
  char method[96], t1[256], t2[256];
  if (op->batch > 0 && op->batch < L->m->nsamples)
    snprintf(method, sizeof method, "SGD, B = %zu%s, η = %g", op->batch,
             op->replacement ? " (with replacement)" : "", op->lr);
  else if (op->momentum > 0)
    snprintf(method, sizeof method, "heavy ball, β = %g, η = %g",
             op->momentum, op->lr);
  else
    snprintf(method, sizeof method, "GD, η = %g", op->lr);
  if (op->egr > 0) {
    const size_t k = strlen(method);
    snprintf(method + k, sizeof method - k, ", EGR μ = %g", op->egr);
  }
  snprintf(t1, sizeof t1, "Training loss: %s %s, %s", L->o->net.arch_spec,
           ir_act_name(L->o->net.arch.act), method);
  snprintf(t2, sizeof t2, "Sharpness during training: %s %s, %s",
           L->o->net.arch_spec, ir_act_name(L->o->net.arch.act), method);
  ir_figure *f = ir_figure_alloc("loss", t1, "step", "loss (log scale)");
  int s = (x && y && z && f) ? IR_OK : ir_error(IR_ENOMEM, "out of memory");
  int rendered;
  if (s == IR_OK) {
    for (size_t i = 0; i < n; i++) {
      x[i] = (double)L->rows[i].step;
      y[i] = L->rows[i].loss;
      z[i] = L->rows[i].test_loss;
    }
    ir_figure_set_log(f, 0, 1);
    s = ir_figure_add_series(f, "train", x, y, n, "lines");
    if (s == IR_OK && L->mtest)
      s = ir_figure_add_series(f, "test", x, z, n, "lines dashtype 2");
    if (s == IR_OK)
      s = ir_figure_write(f, dir, 1, &rendered);
  }
  ir_figure_free(f);
  f = NULL;
  if (s == IR_OK && L->o->sharpness) {
    f = ir_figure_alloc("sharpness", t2, "step", "λ_max of the Hessian");
    if (f == NULL)
      s = ir_error(IR_ENOMEM, "out of memory");
    for (size_t i = 0; s == IR_OK && i < n; i++) {
      y[i] = L->rows[i].sharp;
      z[i] = threshold(L->o);
    }
    if (s == IR_OK)
      s = ir_figure_add_series(f, "λ_max (Lanczos)", x, y, n, "linespoints");
    if (s == IR_OK)
      s = ir_figure_add_series(f, L->o->op.momentum > 0 ? "(2 + 2β)/η" : "2/η",
                               x, z, n, "lines dashtype 2");
    if (s == IR_OK)
      s = ir_figure_write(f, dir, 1, &rendered);
    ir_figure_free(f);
  }
  free(x);
  free(y);
  free(z);
  return s;
}

static const char *reason_name(const ir_optim_result *r) {
  switch (r->reason) {
  case IR_OPTIM_GOAL: return "loss goal reached";
  case IR_OPTIM_DIVERGED: return "diverged";
  case IR_OPTIM_STOPPED: return "stopped";
  default: return "step limit";
  }
}

static int write_summary(const tr_log *L, const ir_optim_result *res,
                         const char *desc, const char *theta_path,
                         const char *dir) {
  const tr_opts *o = L->o;
  ir_json *j = ir_json_alloc();
  if (j == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  const tr_row *last = L->nrows ? &L->rows[L->nrows - 1] : NULL;
  ir_json_begin_object(j, NULL);
  ir_json_string(j, "arch", o->net.arch_spec);
  ir_json_string(j, "act", ir_act_name(o->net.arch.act));
  ir_json_string(j, "loss_name", ir_loss_name(o->net.arch.loss));
  ir_json_string(j, "loss_formula", ir_loss_formula(o->net.arch.loss));
  ir_json_string(j, "data", desc);
  ir_json_int(j, "n_params", (long)L->m->nparams);
  ir_json_int(j, "n_samples", (long)L->m->nsamples);
  ir_json_int(j, "steps", (long)res->steps);
  ir_json_string(j, "stopped_by", reason_name(res));
  ir_json_bool(j, "diverged", res->diverged);
  if (res->diverged)
    ir_json_int(j, "diverged_at", (long)res->diverged_at);
  ir_json_number(j, "initial_loss", res->initial_loss);
  ir_json_number(j, "final_loss", res->final_loss);
  if (last) {
    ir_json_number(j, "final_grad_norm2", last->grad2);
    if (L->classify)
      ir_json_number(j, "final_accuracy", last->acc);
    if (L->mtest) {
      ir_json_number(j, "final_test_loss", last->test_loss);
      if (L->classify)
        ir_json_number(j, "final_test_accuracy", last->test_acc);
    }
    if (o->sharpness) {
      ir_json_number(j, "final_sharpness", last->sharp);
      ir_json_number(j, "stability_threshold", threshold(o));
    }
  }
  ir_json_string(j, "theta", theta_path);
  ir_json_end_object(j);
  char path[4200];
  snprintf(path, sizeof path, "%s/summary.json", dir);
  int s = ir_json_write(j, path);
  ir_json_free(j);
  return s;
}

/* The columns and headers a paper shows (report.h, ir_table_set_paper);
 * the CSV keeps every column. */
static const char *const train_paper[] = {
    "log: step,loss=$L$,?grad_norm2=$\\|\\nabla L\\|^2$,?test_loss=$L_\\mathrm{test}$,?test_accuracy=test acc.,?sharpness=$\\lambda_{\\max}$,?sharpness_x_lr_over_2=$\\eta\\lambda_{\\max}/2$",
    NULL};

int ir_an_train(int argc0, char **argv0) {
  int argc;
  char **argv;
  int rc = ir_cli_expand_config(PROG, argc0, argv0, &argc, &argv);
  if (rc != 0)
    return rc;
  const double t_start = ir_wall_time();
  tr_opts o;
  memset(&o, 0, sizeof o);
  ir_cli_common_init(&o.common, AN);
  ir_net_opts_init(&o.net);
  ir_optim_params_default(&o.op);
  o.sharp_tol = 1e-6;
  ir_cli_config cfg = {0, 0, NULL, NULL};
  gsl_matrix *X = NULL, *Y = NULL, *Xt = NULL, *Yt = NULL;
  gsl_vector *theta = NULL;
  ir_table *tab = NULL;
  ir_checks *chk = NULL;
  tr_log L;
  memset(&L, 0, sizeof L);
  char desc[512] = "", theta_path[4200];
  rc = parse(argc, argv, &o, &cfg);
  if (rc != 0) {
    rc = rc < 0 ? IR_EXIT_OK : rc;
    goto done;
  }
  /* Held-out teacher data: --ntest rows of the input width. */
  if (o.net.data != NULL &&
      (rc = ir_cli_check_memory(PROG, "--ntest rows of test data",
                                ir_cli_bytes(o.ntest, o.net.arch.width[0] + 1,
                                             sizeof(double)))) != 0)
    goto done;
  /* Every option and file checked before any work (`all` stops here). */
  {
    const ir_cli_path files[] = {{"X", o.net.xpath, IR_PATH_IN},
                                 {"Y", o.net.ypath, IR_PATH_IN},
                                 {"X-test", o.net.xtest, IR_PATH_IN},
                                 {"Y-test", o.net.ytest, IR_PATH_IN},
                                 {"init", o.init, IR_PATH_IN},
                                 {"save", o.save, IR_PATH_OUT}};
    if ((rc = ir_cli_check_run(PROG, &o.common, files, 6)) != 0 ||
        ir_cli_validating)
      goto done;
  }
  ir_cli_apply_threads(&o.common);
  if ((rc = ir_net_load(PROG, &o.net, o.common.seed, &X, &Y, desc,
                        sizeof desc)) != 0 ||
      (rc = ir_net_load_test(PROG, &o.net, o.common.seed, o.ntest, &Xt, &Yt)) !=
          0)
    goto done;
  L.o = &o;
  L.X = X;
  L.Y = Y;
  L.Xtest = Xt;
  L.Ytest = Yt;
  L.classify =
      o.net.arch.loss == IR_LOSS_CE || o.net.arch.width[o.net.arch.nlayers] > 1;
  L.m = ir_model_mlp_alloc(&o.net.arch, X, Y);
  if (L.m == NULL ||
      (Xt && (L.mtest = ir_model_mlp_alloc(&o.net.arch, Xt, Yt)) == NULL)) {
    rc = ir_cli_fail(PROG, IR_EINVAL, NULL);
    goto done;
  }
  if (o.init) {
    if ((rc = ir_net_load_params(PROG, "init", o.init, &o.net.arch, &theta)) !=
        0)
      goto done;
  } else {
    theta = gsl_vector_alloc(L.m->nparams);
    gsl_rng *r = ir_rng_alloc(o.common.seed,
                              ir_rng_stream(IR_STREAM_INIT, 1, L.m->nparams));
    if (theta == NULL || r == NULL) {
      ir_rng_free(r);
      rc = ir_cli_fail(PROG, IR_ENOMEM, "out of memory");
      goto done;
    }
    ir_mlp_init_torch(&o.net.arch, r, theta);
    ir_rng_free(r);
  }
  L.grad = gsl_vector_alloc(L.m->nparams);
  L.v = malloc(L.m->nparams * sizeof(double));
  if (L.grad == NULL || L.v == NULL) {
    rc = ir_cli_fail(PROG, IR_ENOMEM, "out of memory");
    goto done;
  }
  snprintf(theta_path, sizeof theta_path, "%s", o.save ? o.save : "");
  if (!o.save)
    snprintf(theta_path, sizeof theta_path, "%s/theta.npy", o.common.out);
  o.op.seed = o.common.seed;
  ir_optim_params op = o.op;
  if (ir_cli_broken("lr"))
    op.lr *= 1.1;
  ir_optim_result res;
  const double t_train = ir_wall_time();
  int s = ir_optim_run(L.m, &op, theta, observe, &L, &res);
  if (s == IR_OK && L.status != IR_OK)
    s = L.status;
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  /* The last iterate is always logged (after a stop or divergence too). */
  if ((L.nrows == 0 || L.rows[L.nrows - 1].step != res.steps) &&
      (s = log_row(&L, res.steps, theta)) != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  const double train_secs = ir_wall_time() - t_train - L.t_log;
  if (o.sharpness && isfinite(L.rows[L.nrows - 1].sharp)) {
    /* The check's second computation of the final sharpness: Lanczos from
     * a fresh random start, to 1e-10. */
    ir_hessian_op h = {L.m, theta, NULL, 0};
    ir_linop hop = ir_linop_hessian(&h);
    ir_lanczos_params lp;
    ir_lanczos_params_default(&lp);
    lp.tol = 1e-10;
    lp.seed = o.common.seed;
    lp.stream = ir_rng_stream(IR_STREAM_PROBE, 52, 0);
    ir_eig_result *e = NULL;
    s = ir_lanczos_eigs(&hop, &lp, &e);
    if (s == IR_OK && e->converged[0]) {
      L.cold = e->values[0];
      L.cold_res = e->residuals[0];
      L.cold_done = 1;
    }
    ir_eig_result_free(e);
    if (s != IR_OK) {
      rc = ir_cli_fail(PROG, s, NULL);
      goto done;
    }
  }
  /* Nothing is written before training succeeded (divergence is a result;
   * bad data are not). */
  if ((rc = ir_cli_prepare_out(PROG, o.common.out)) != 0)
    goto done;
  double t_w = ir_wall_time();
  chk = ir_checks_alloc();
  if (chk == NULL || (s = build_checks(&L, &res, chk)) != IR_OK ||
      (tab = log_table(&L)) == NULL ||
      (s = ir_table_set_paper_from(tab, train_paper)) != IR_OK ||
      (s = ir_table_write(tab, o.common.out, o.common.formats)) != IR_OK ||
      (s = write_figures(&L, o.common.out)) != IR_OK ||
      (s = ir_checks_write(chk, o.common.out, o.common.formats)) != IR_OK ||
      (s = write_summary(&L, &res, desc, theta_path, o.common.out)) != IR_OK) {
    rc = ir_cli_fail(PROG, s ? s : IR_ENOMEM, s ? NULL : "out of memory");
    goto done;
  }
  if ((rc = ir_net_save_params(PROG, theta_path, theta)) != 0)
    goto done;
  const char *stages[3] = {"train", "log", "write"};
  double secs[3] = {train_secs, L.t_log, ir_wall_time() - t_w};
  s = ir_cli_write_manifest(o.common.out, AN, &cfg, stages, secs, 3, chk,
                            ir_wall_time() - t_start);
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  if (ir_cli_collect)
    ir_checks_merge(ir_cli_collect, chk, AN);
  if (!o.common.quiet) {
    const tr_row *last = &L.rows[L.nrows - 1];
    printf("train: %s, act %s, %zu parameters; %s\n", o.net.arch_spec,
           ir_act_name(o.net.arch.act), L.m->nparams, desc);
    printf("  %zu steps (%s%s), loss %.6g -> %.6g\n", res.steps,
           reason_name(&res),
           res.diverged ? ", the last finite iterate is kept" : "",
           res.initial_loss, res.final_loss);
    if (L.classify)
      printf("  training accuracy %.4f", last->acc);
    if (L.classify && L.mtest)
      printf(", test accuracy %.4f", last->test_acc);
    if (L.classify)
      putchar('\n');
    if (o.sharpness)
      printf("  sharpness %.6g (threshold %s = %.6g, ratio %.4f)\n",
             last->sharp, o.op.momentum > 0 ? "(2 + 2 beta)/eta" : "2/eta",
             threshold(&o), last->sharp / threshold(&o));
    printf("  weights: %s\n", theta_path);
    if (ir_checks_count(chk) > 0) {
      putchar('\n');
      ir_checks_print(chk, stdout);
    }
  }
  rc = ir_cli_exit_status(&o.common, chk);
done:
  ir_table_free(tab);
  ir_checks_free(chk);
  free(L.rows);
  free(L.v);
  if (L.grad)
    gsl_vector_free(L.grad);
  ir_model_free(L.m);
  ir_model_free(L.mtest);
  if (theta)
    gsl_vector_free(theta);
  if (X)
    gsl_matrix_free(X);
  if (Y)
    gsl_matrix_free(Y);
  if (Xt)
    gsl_matrix_free(Xt);
  if (Yt)
    gsl_matrix_free(Yt);
  ir_cli_config_free(&cfg);
  ir_cli_argv_free(argc, argv);
  return rc;
}
