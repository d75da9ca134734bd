/* an_gd_vs_minnorm.c — `implreg gd-vs-minnorm`: gradient methods on least
 * squares against the minimum-norm interpolator X⁺y and against the GD
 * trajectory predicted from the SVD (docs/theory.md §1).
 *
 * For each data set (a synthetic linear teacher with n < p, and random-
 * feature regression on a Fashion-MNIST subset when the Debian package is
 * installed) and each seed:
 *   - the min-norm solution W* = X⁺Y from the SVD;
 *   - GD from 0 and from a random W₀, compared at every recorded step with
 *     the closed-form trajectory (theory.h);
 *   - SGD (batch 1, 10, n/4, with and without replacement) and heavy-ball
 *     momentum from 0, against W*;
 *   - GD with step sizes that are multiples of 2/λ_max, below and above the
 *     stability threshold.
 * This file only orchestrates: the numerics are library calls.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_randist.h>

#include "cli.h"

static const char *const AN = "gd-vs-minnorm";
static const char *const PROG = "implreg gd-vs-minnorm";

/* Test hook.  IMPLREG_BREAK (comma-separated names) breaks one computation
 * on purpose, as a plausible bug would, so that tests/cli_analyses.sh can
 * show which checks catch it: "traj" (the SVD prediction made with a step
 * 1e-3 too long), "pinv" (the reference X⁺Y scaled by 1 + 1e-3), "w0" (GD
 * from random w0 starts at (1 + 1e-3)w0), "start" (SGD and heavy ball start
 * 1e-3·‖X⁺Y‖ away from 0), "sweep" (the step-size sweep's predictions made
 * with a step 1e-3 too long), "floor" (the noise floor of SGD without
 * interpolation predicted with a step 5% too long).  Never set it
 * otherwise. */

static const char help[] =
    "Usage: implreg gd-vs-minnorm [options]\n\n"
    "Checks that gradient methods on least squares L(W) = (1/2n)||XW - "
    "Y||_F^2\n"
    "converge to the minimum-norm interpolator X+Y, step by step along the\n"
    "trajectory the SVD predicts (docs/theory.md section 1), on a synthetic "
    "linear\n"
    "teacher (n < p) and on random-feature regression of a Fashion-MNIST\n"
    "subset (skipped with a note when dataset-fashion-mnist is not "
    "installed).\n"
    "Claims are made only where their premise holds: convergence to X+y only\n"
    "for runs long enough to contract the slowest direction (else only the\n"
    "trajectory is checked); SGD's convergence only when X interpolates\n"
    "(rank X = n; otherwise constant-step SGD ends in a noise ball); the\n"
    "row-space claims only when rank X < p (else they are vacuous).\n\n"
    "Options:\n"
    "  --data LIST        linear, fashion or both (default linear,fashion)\n"
    "  --n N              synthetic training samples (default 200; quick 20)\n"
    "  --p P              synthetic dimension (default 500; quick 50)\n"
    "  --ntest M          test samples for both data sets (default 1000; quick "
    "200)\n"
    "  --r2 R             synthetic ||beta||^2 (default 1)\n"
    "  --sigma2 S         synthetic noise variance (default 0.25)\n"
    "  --fashion-n N      Fashion-MNIST training images (default 200; quick "
    "100)\n"
    "  --features N       random ReLU features for Fashion-MNIST (default 4n)\n"
    "  --max-steps T      cap on GD and momentum steps (default 5000; quick\n"
    "                     2000); below the cap, runs last until the slowest\n"
    "                     direction has contracted by 1e-13\n"
    "  --sweep-steps T    cap on the steps of each step-size run (default "
    "2000;\n"
    "                     quick 1000)\n"
    "  --max-epochs E     cap on SGD epochs (default 500; quick 200); below "
    "the\n"
    "                     cap, SGD runs until its expected slowest "
    "contraction\n"
    "                     reaches 1e-12, and convergence to X+y is checked\n"
    "  --multiples LIST   step sizes as multiples of 2/lambda_max for the\n"
    "                     stability sweep (default "
    "0.25,0.5,0.9,0.99,1.01,1.1,2)\n";

/* Values kept per result row (one row per optimizer setting). */
enum {
  V_LR,
  V_LR_REL,
  V_STEPS,
  V_EPOCHS,
  V_TRAIN,
  V_DIST_W,
  V_DIST_LIM,
  V_DIST_PRED,
  V_NORM,
  V_TEST_MSE,
  V_TEST_ERR,
  V_COUNT
};

typedef struct {
  char dataset[24], optimizer[32], setting[48], status[48];
  double v[V_COUNT];
} gv_row;

typedef struct {
  gv_row *rows;
  size_t n, cap;
} gv_rows;

/* A claim measured on one seed; aggregated over seeds by its worst case. */
enum { CK_MAX, CK_ABS, CK_RATE };
typedef struct {
  char claim[256], source[96];
  double predicted, measured, tol;
  int kind, pass;
} gv_claim;

typedef struct {
  gv_claim *c;
  size_t n, cap;
} gv_claims;

/* Trajectory points for the figure and table. */
typedef struct {
  char dataset[24], init[8];
  unsigned long seed;
  double step, measured, predicted, deviation;
} gv_traj_pt;

typedef struct {
  gv_traj_pt *p;
  size_t n, cap;
} gv_trajs;

typedef struct {
  ir_cli_common common;
  int use_linear, use_fashion;
  size_t n, p, ntest, fashion_n, features, max_steps, max_epochs, sweep_steps;
  double r2, sigma2;
  double *multiples;
  size_t nmult;
} gv_opts;

typedef struct {
  const char *name;
  gsl_matrix *X, *Y, *Xt, *Yt;
  size_t *labels_test; /* NULL for regression */
  char description[160];
} gv_data;

/* Makes room for one more element in a growing array. */
static int grow(void **arr, size_t *cap, size_t n, size_t size) {
  if (n < *cap)
    return IR_OK;
  size_t nc = *cap ? 2 * *cap : 32;
  void *np = realloc(*arr, nc * size);
  if (np == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  *arr = np;
  *cap = nc;
  return IR_OK;
}

static int push_row(gv_rows *l, const gv_row *r) {
  void *a = l->rows;
  int s = grow(&a, &l->cap, l->n, sizeof *l->rows);
  l->rows = a;
  if (s == IR_OK)
    l->rows[l->n++] = *r;
  return s;
}

static int push_claim(gv_claims *l, const char *dataset, const char *claim,
                      const char *source, double pred, double meas, double tol,
                      int kind, int pass) {
  void *a = l->c;
  int s = grow(&a, &l->cap, l->n, sizeof *l->c);
  l->c = a;
  if (s != IR_OK)
    return s;
  gv_claim *c = &l->c[l->n++];
  memset(c, 0, sizeof *c);
  snprintf(c->claim, sizeof c->claim, "[%s] %s", dataset, claim);
  snprintf(c->source, sizeof c->source, "%s", source);
  c->predicted = pred;
  c->measured = meas;
  c->tol = tol;
  c->kind = kind;
  c->pass = pass;
  return IR_OK;
}

static int push_traj(gv_trajs *l, const gv_traj_pt *pt) {
  void *a = l->p;
  int s = grow(&a, &l->cap, l->n, sizeof *l->p);
  l->p = a;
  if (s == IR_OK)
    l->p[l->n++] = *pt;
  return s;
}

static const char SRC_BIAS[] = "docs/theory.md s1 (SVD argument); Gunasekar "
                               "et al. 2018 arXiv:1802.08246";
static const char SRC_SGD[] =
    "docs/theory.md s1 (row-space argument); step: Ma, "
    "Bassily, Belkin arXiv:1712.06559";
static const char SRC_FLOOR[] =
    "docs/theory.md s1 (stationary second moment of SGD with replacement)";
static const char SRC_STAB[] =
    "GD on a quadratic: stable iff eta < 2/lambda_max "
    "(docs/theory.md s7)";

/* ---- Data
 * ---------------------------------------------------------------------- */

static void data_free(gv_data *d) {
  if (d->X)
    gsl_matrix_free(d->X);
  if (d->Y)
    gsl_matrix_free(d->Y);
  if (d->Xt)
    gsl_matrix_free(d->Xt);
  if (d->Yt)
    gsl_matrix_free(d->Yt);
  free(d->labels_test);
  memset(d, 0, sizeof *d);
}

/* Moves X, Y (and labels) out of a data set, which is then freed. */
static void take(ir_dataset *ds, gsl_matrix **X, gsl_matrix **Y,
                 size_t **labels) {
  *X = ds->X;
  *Y = ds->Y;
  ds->X = ds->Y = NULL;
  if (labels) {
    *labels = ds->labels;
    ds->labels = NULL;
  }
  ir_dataset_free(ds);
}

static int data_linear(const gv_opts *o, unsigned long seed, gv_data *d) {
  gsl_rng *r = ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_DATA, 1, 0));
  if (r == NULL)
    return IR_ENOMEM;
  ir_teacher_params tp = {o->n, o->ntest, o->p, o->r2, o->sigma2, NULL, 0};
  ir_dataset *tr = NULL, *te = NULL;
  int s = ir_data_linear_teacher(&tp, r, &tr, &te, NULL);
  ir_rng_free(r);
  if (s != IR_OK)
    return s;
  d->name = "linear";
  take(tr, &d->X, &d->Y, NULL);
  take(te, &d->Xt, &d->Yt, NULL);
  snprintf(d->description, sizeof d->description,
           "linear teacher: n = %zu, p = %zu, x ~ N(0, I), ||beta||^2 = %g, "
           "noise variance %g",
           o->n, o->p, o->r2, o->sigma2);
  return IR_OK;
}

static int data_fashion(const gv_opts *o, unsigned long seed, gv_data *d) {
  gsl_rng *r = ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_DATA, 2, 0));
  gsl_rng *rf = ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_FEATURES, 2, 0));
  ir_dataset *tr = NULL, *te = NULL;
  ir_features *f = NULL;
  int s = (r && rf) ? IR_OK : IR_ENOMEM;
  if (s == IR_OK)
    s = ir_data_fashion_mnist(NULL, 0, o->fashion_n, r, &tr);
  if (s == IR_OK)
    s = ir_data_fashion_mnist(NULL, 1, o->ntest, r, &te);
  if (s == IR_OK) {
    f = ir_features_alloc(IR_FEAT_RELU, tr->d, o->features, 1.0, rf);
    if (f == NULL)
      s = IR_ENOMEM;
  }
  if (s == IR_OK) {
    d->X = gsl_matrix_alloc(tr->n, o->features);
    d->Xt = gsl_matrix_alloc(te->n, o->features);
    if (!d->X || !d->Xt)
      s = ir_error(IR_ENOMEM, "out of memory (features)");
  }
  if (s == IR_OK)
    s = ir_features_apply(f, tr->X, o->features, d->X);
  if (s == IR_OK)
    s = ir_features_apply(f, te->X, o->features, d->Xt);
  if (s == IR_OK) {
    gsl_matrix *dummy;
    d->name = "fashion";
    take(tr, &dummy, &d->Y, NULL);
    gsl_matrix_free(dummy);
    take(te, &dummy, &d->Yt, &d->labels_test);
    gsl_matrix_free(dummy);
    tr = te = NULL;
    snprintf(d->description, sizeof d->description,
             "Fashion-MNIST: n = %zu images, %zu random ReLU features, one-hot "
             "targets (K = 10)",
             o->fashion_n, o->features);
  }
  ir_dataset_free(tr);
  ir_dataset_free(te);
  ir_features_free(f);
  ir_rng_free(r);
  ir_rng_free(rf);
  return s;
}

/* ---- Metrics
 * ------------------------------------------------------------------- */

typedef struct {
  const gv_data *d;
  ir_model *model;
  const gsl_matrix *Wstar; /* X⁺Y */
  gsl_matrix *P;           /* test predictions scratch */
  gsl_matrix *Pstar;       /* X_test W* */
  double wnorm;            /* ‖W*‖_F */
  double pnorm;            /* ‖X_test W*‖_F */
  double lmax;             /* λ_max(XᵀX/n) */
} gv_ctx;

/* Fills the metric values of a row for parameters θ. */
static int metrics(gv_ctx *c, const gsl_vector *theta, const gsl_matrix *Wlim,
                   gv_row *row) {
  const size_t p = c->d->X->size2, K = c->d->Y->size2;
  gsl_matrix_const_view W = gsl_matrix_const_view_vector(theta, p, K);
  double loss = 0;
  int s = ir_model_loss_grad(c->model, theta, NULL, 0, &loss, NULL);
  if (s != IR_OK)
    return s;
  row->v[V_TRAIN] = loss;
  row->v[V_DIST_W] = ir_matrix_fro_diff(&W.matrix, c->Wstar) / c->wnorm;
  row->v[V_DIST_LIM] = ir_matrix_fro_diff(&W.matrix, Wlim) / c->wnorm;
  row->v[V_NORM] = ir_matrix_fro(&W.matrix);
  s = ir_model_predict(c->model, theta, c->d->Xt, c->P);
  if (s != IR_OK)
    return s;
  row->v[V_DIST_PRED] = ir_matrix_fro_diff(c->P, c->Pstar) / c->pnorm;
  double mse = ir_matrix_fro_diff(c->P, c->d->Yt);
  row->v[V_TEST_MSE] = mse * mse / (double)c->d->Xt->size1;
  row->v[V_TEST_ERR] = NAN;
  if (c->d->labels_test != NULL) {
    size_t wrong = 0;
    for (size_t i = 0; i < c->P->size1; i++) {
      gsl_vector_const_view r = gsl_matrix_const_row(c->P, i);
      if ((size_t)gsl_vector_max_index(&r.vector) != c->d->labels_test[i])
        wrong++;
    }
    row->v[V_TEST_ERR] = (double)wrong / (double)c->P->size1;
  }
  return IR_OK;
}

static void status_text(const ir_optim_result *res, char *buf, size_t len) {
  if (res->diverged)
    snprintf(buf, len, "diverged at step %zu", res->diverged_at);
  else if (res->reason == IR_OPTIM_GOAL)
    snprintf(buf, len, "reached loss goal");
  else
    snprintf(buf, len, "ran %zu steps", res->steps);
}

/* ---- Observers
 * ------------------------------------------------------------------- */

/* Records, at log-spaced steps, the distance of GD's iterate and of the
 * predicted iterate to the limit, and the largest deviation between them. */
typedef struct {
  const ir_gd_traj *traj;
  const gsl_matrix *Wlim;
  gsl_matrix *What;
  double scale, max_dev;
  size_t next, last; /* next step to record, last one recorded */
  const char *dataset, *init;
  gv_trajs *out;
  int status;
  unsigned long seed;
} gv_traj_obs;

static size_t next_record(size_t t) {
  if (t < 10)
    return t + 1;
  /* About 12 points per decade: 10, 12, 15, 17, 20, ... */
  size_t nx = (size_t)ceil((double)t * 1.2);
  return nx > t ? nx : t + 1;
}

static int traj_observe(void *ctx, size_t step, const gsl_vector *theta) {
  gv_traj_obs *o = ctx;
  if (step != o->next)
    return 0;
  o->next = next_record(step);
  o->last = step;
  gsl_matrix_const_view W =
      gsl_matrix_const_view_vector(theta, o->What->size1, o->What->size2);
  if ((o->status = ir_gd_traj_at(o->traj, (double)step, o->What)) != IR_OK)
    return 1;
  gv_traj_pt pt;
  memset(&pt, 0, sizeof pt);
  snprintf(pt.dataset, sizeof pt.dataset, "%s", o->dataset);
  snprintf(pt.init, sizeof pt.init, "%s", o->init);
  pt.step = (double)step;
  pt.seed = o->seed;
  pt.measured = ir_matrix_fro_diff(&W.matrix, o->Wlim) / o->scale;
  pt.predicted = ir_matrix_fro_diff(o->What, o->Wlim) / o->scale;
  pt.deviation = ir_matrix_fro_diff(&W.matrix, o->What) / o->scale;
  o->max_dev = fmax(o->max_dev, pt.deviation);
  if (o->out && (o->status = push_traj(o->out, &pt)) != IR_OK)
    return 1;
  return 0;
}

/* Keeps the distance to W* after every step (for growth-rate estimates). */
typedef struct {
  const gsl_matrix *Wstar;
  double *dist;
  size_t cap;
} gv_dist_obs;

static int dist_observe(void *ctx, size_t step, const gsl_vector *theta) {
  gv_dist_obs *o = ctx;
  if (step < o->cap) {
    gsl_matrix_const_view W =
        gsl_matrix_const_view_vector(theta, o->Wstar->size1, o->Wstar->size2);
    o->dist[step] = ir_matrix_fro_diff(&W.matrix, o->Wstar);
  }
  return 0;
}

/* Batch means of ‖W_t − W*‖²_F over steps t0 < t <= t0 + NB·len, for the
 * noise-floor claim (the batches make the standard error honest for an
 * autocorrelated series). */
enum { FLOOR_NB = 20 };
typedef struct {
  const gsl_matrix *Wstar;
  size_t t0, len;
  double sum[FLOOR_NB];
} gv_floor_obs;

static int floor_observe(void *ctx, size_t step, const gsl_vector *theta) {
  gv_floor_obs *o = ctx;
  if (step <= o->t0 || step > o->t0 + FLOOR_NB * o->len)
    return 0;
  gsl_matrix_const_view W =
      gsl_matrix_const_view_vector(theta, o->Wstar->size1, o->Wstar->size2);
  const double d = ir_matrix_fro_diff(&W.matrix, o->Wstar);
  o->sum[(step - o->t0 - 1) / o->len] += d * d;
  return 0;
}

/* ---- One data set, one seed
 * ---------------------------------------------------- */

static void row_init(gv_row *r, const char *dataset, const char *opt,
                     const char *setting) {
  memset(r, 0, sizeof *r);
  snprintf(r->dataset, sizeof r->dataset, "%s", dataset);
  snprintf(r->optimizer, sizeof r->optimizer, "%s", opt);
  snprintf(r->setting, sizeof r->setting, "%s", setting);
  for (int i = 0; i < V_COUNT; i++)
    r->v[i] = NAN;
}

typedef struct {
  gv_rows *rows;
  gv_claims *claims;
  gv_trajs *trajs;      /* every seed's recorded GD steps */
  int rowspace_skipped; /* some data set had rank X = p */
  int no_interp;        /* some data set had rank X < n */
} gv_out;

/* Runs one GD from W0 (NULL: zero) along with its predicted trajectory;
 * returns the final iterate's distance to the limit. */
static int run_gd_traj(gv_ctx *c, const gsl_matrix *W0, const gsl_matrix *Wlim,
                       ir_gd_traj *traj, double eta, size_t T,
                       unsigned long seed, gv_out *out, const char *init,
                       double *max_dev, gsl_matrix *W_T) {
  const size_t p = c->d->X->size2, K = c->d->Y->size2;
  gsl_vector *theta = gsl_vector_calloc(p * K);
  gsl_matrix *What = gsl_matrix_alloc(p, K);
  if (!theta || !What) {
    if (theta)
      gsl_vector_free(theta);
    if (What)
      gsl_matrix_free(What);
    return ir_error(IR_ENOMEM, "out of memory (GD)");
  }
  if (W0) {
    gsl_vector_const_view w0 = gsl_vector_const_view_array(W0->data, p * K);
    gsl_vector_memcpy(theta, &w0.vector);
    /* Break "w0": GD starts 1e-3 (relative) away from the W0 the prediction
     * and the claims assume. */
    if (ir_cli_broken("w0"))
      gsl_vector_scale(theta, 1 + 1e-3);
  }
  ir_optim_params op;
  ir_optim_params_default(&op);
  op.lr = eta;
  op.max_steps = T;
  op.seed = seed;
  gv_traj_obs obs = {traj,       Wlim,       What, c->wnorm,   0,    0,
                     (size_t)-1, c->d->name, init, out->trajs, IR_OK, seed};
  ir_optim_result res;
  int s = ir_optim_run(c->model, &op, theta, traj_observe, &obs, &res);
  if (s == IR_OK)
    s = obs.status;
  if (s == IR_OK) {
    /* The final step is always compared and recorded. */
    if (obs.last != res.steps) {
      obs.next = res.steps;
      traj_observe(&obs, res.steps, theta);
      s = obs.status;
    }
  }
  if (s == IR_OK) {
    gsl_matrix_const_view W = gsl_matrix_const_view_vector(theta, p, K);
    *max_dev = obs.max_dev;
    gsl_matrix_memcpy(W_T, &W.matrix);
    gv_row row;
    char setting[48];
    snprintf(setting, sizeof setting, "init %s", init);
    row_init(&row, c->d->name, "GD", setting);
    row.v[V_LR] = eta;
    row.v[V_LR_REL] = eta * c->lmax / 2;
    row.v[V_STEPS] = (double)res.steps;
    row.v[V_EPOCHS] = (double)res.steps;
    status_text(&res, row.status, sizeof row.status);
    s = metrics(c, theta, Wlim, &row);
    if (s == IR_OK)
      s = push_row(out->rows, &row);
  }
  gsl_vector_free(theta);
  gsl_matrix_free(What);
  return s;
}

/* Gradient methods from 0 never leave the row space of X: the mechanism
 * behind the min-norm limit, checkable after any number of steps. */
static int claim_rowspace(gv_out *out, const char *dataset,
                          const ir_minnorm *mn, const gsl_vector *theta,
                          size_t p, size_t K, const char *opt,
                          const char *setting) {
  gsl_matrix_const_view W = gsl_matrix_const_view_vector(theta, p, K);
  double f = ir_minnorm_nullspace_fraction(mn, -1, &W.matrix);
  char buf[256];
  snprintf(buf, sizeof buf,
           "%s %s from 0 stays in the row space of X: "
           "||(I - X+X)w_T|| / ||w_T||",
           opt, setting);
  return push_claim(out->claims, dataset, buf, SRC_BIAS, 0, f, 1e-10, CK_MAX,
                    f <= 1e-10);
}

static int analyse_one(const gv_opts *o, unsigned long seed, gv_data *d,
                       gv_out *out) {
  const size_t n = d->X->size1, p = d->X->size2, K = d->Y->size2;
  int s;
  char buf[256];
  ir_minnorm *mn = ir_minnorm_alloc(n, p, K);
  gsl_matrix *Wstar = gsl_matrix_alloc(p, K);
  gsl_matrix *W0 = gsl_matrix_alloc(p, K);
  gsl_matrix *Wlim0 = gsl_matrix_alloc(p, K);
  gsl_vector *theta = gsl_vector_alloc(p * K);
  gsl_matrix *What = gsl_matrix_alloc(p, K);
  gsl_matrix *WT = gsl_matrix_alloc(p, K);
  gsl_matrix *R = gsl_matrix_alloc(n, K); /* Y − XW*, for the noise floor */
  gv_ctx c = {d,
              NULL,
              Wstar,
              gsl_matrix_alloc(d->Xt->size1, K),
              gsl_matrix_alloc(d->Xt->size1, K),
              0,
              0,
              0};
  ir_gd_traj *traj = NULL, *traj0 = NULL;
  gsl_rng *rinit = ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_INIT, 1, 0));
  double *dist = NULL;
  if (!mn || !Wstar || !W0 || !Wlim0 || !theta || !What || !WT || !R || !c.P ||
      !c.Pstar || !rinit) {
    s = ir_error(IR_ENOMEM, "out of memory (%s)", d->name);
    goto done;
  }
  ir_cli_progress(&o->common, AN, "%s, seed %lu: SVD of %zux%zu", d->name, seed,
                  n, p);
  if ((s = ir_minnorm_factor(mn, d->X)) != IR_OK ||
      (s = ir_minnorm_set_rhs(mn, d->Y)) != IR_OK ||
      (s = ir_minnorm_pinv(mn, -1, Wstar)) != IR_OK)
    goto done;
  gsl_matrix_memcpy(R, d->Y);
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, -1.0, d->X, Wstar, 1.0, R);
  /* Break "pinv": the reference X⁺Y off by 1e-3 (relative). */
  if (ir_cli_broken("pinv"))
    gsl_matrix_scale(Wstar, 1 + 1e-3);
  c.model = ir_model_linear_alloc(d->X, d->Y);
  if (c.model == NULL) {
    s = IR_ENOMEM;
    goto done;
  }
  gsl_vector_const_view ws = gsl_vector_const_view_array(Wstar->data, p * K);
  if ((s = ir_model_predict(c.model, &ws.vector, d->Xt, c.Pstar)) != IR_OK)
    goto done;
  c.wnorm = ir_matrix_fro(Wstar);
  c.pnorm = ir_matrix_fro(c.Pstar);
  if (!(c.wnorm > 0) || !(c.pnorm > 0)) {
    s = ir_error(IR_EBADDATA, "%s: the min-norm solution is zero (Y = 0?)",
                 d->name);
    goto done;
  }
  const ir_svd *svd = ir_minnorm_svd(mn);
  const size_t rank = ir_minnorm_rank(mn, -1);
  const double smax = gsl_vector_get(svd->s, 0);
  const double smin = gsl_vector_get(svd->s, rank - 1);
  const double lmax = smax * smax / (double)n, lmin = smin * smin / (double)n;
  c.lmax = lmax;
  /* rank X = p: every vector lies in the row space, so the row-space claims
   * say nothing and are skipped.  rank X = n: every Y is interpolated, the
   * premise of SGD's convergence to a point. */
  const int full_rank = rank == p, interp = rank == n;
  if (full_rank)
    out->rowspace_skipped = 1;
  if (!interp)
    out->no_interp = 1;

  /* The min-norm solution itself, as the reference row. */
  gv_row row;
  row_init(&row, d->name, "min-norm (SVD)", "X+Y");
  snprintf(row.status, sizeof row.status, "rank %zu, cond %.3g", rank,
           smax / smin);
  gsl_vector_memcpy(theta, &ws.vector);
  if ((s = metrics(&c, theta, Wstar, &row)) != IR_OK ||
      (s = push_row(out->rows, &row)) != IR_OK)
    goto done;

  /* GD with η = 1/λ_max for enough steps to contract the slowest direction
   * by 1e-13 (capped). */
  const double eta = 1.0 / lmax;
  double need = ceil(log(1e-13) / log1p(-eta * lmin));
  size_t T = need < (double)o->max_steps ? (size_t)need : o->max_steps;
  if (T < 10)
    T = 10;
  const int gd_long = need <= (double)o->max_steps;
  ir_cli_progress(&o->common, AN,
                  "%s: GD, %zu steps (lambda_max %.4g, "
                  "lambda_min+ %.4g)",
                  d->name, T, lmax, lmin);
  /* Break "traj": the prediction made with a step 1e-3 too long. */
  const double eta_pred = ir_cli_broken("traj") ? eta * (1 + 1e-3) : eta;
  traj = ir_gd_traj_alloc(svd, d->Y, NULL, eta_pred);
  if (traj == NULL) {
    s = IR_ENOMEM;
    goto done;
  }
  double dev;
  if ((s = run_gd_traj(&c, NULL, Wstar, traj, eta, T, seed, out, "zero", &dev,
                       WT)) != IR_OK)
    goto done;
  snprintf(buf, sizeof buf,
           "GD from 0 follows the predicted SVD trajectory: max_t "
           "||w_t - w_t(SVD)||/||X+y|| (%zu steps)",
           T);
  push_claim(out->claims, d->name, buf, SRC_BIAS, 0, dev, 1e-10, CK_MAX,
             dev <= 1e-10);
  /* Independent of the trajectory check (which never looks at X⁺y): the
   * limit GD reached against the pseudo-inverse from the SVD.  Claimed only
   * when the run was long enough for the slowest direction to contract by
   * 1e-13. */
  if (gd_long) {
    const double dT = ir_matrix_fro_diff(WT, Wstar) / c.wnorm;
    snprintf(buf, sizeof buf,
             "GD from 0 reaches X+y: ||w_T - X+y||/||X+y||, T = %zu (slowest "
             "direction contracted by 1e-13)",
             T);
    push_claim(out->claims, d->name, buf, SRC_BIAS, 0, dT, 1e-10, CK_MAX,
               dT <= 1e-10);
  }

  /* GD from a random W₀ (entries N(0, 1) scaled to ‖W₀‖ ≈ ‖W*‖): the limit is
   * X⁺Y + (I − X⁺X)W₀, the W₀ part outside the row space never moves. */
  const double sc = c.wnorm / sqrt((double)(p * K));
  for (size_t i = 0; i < p; i++)
    for (size_t k = 0; k < K; k++)
      gsl_matrix_set(W0, i, k, sc * gsl_ran_gaussian(rinit, 1.0));
  traj0 = ir_gd_traj_alloc(svd, d->Y, W0, eta_pred);
  if (traj0 == NULL || (s = ir_gd_traj_limit(traj0, -1, Wlim0)) != IR_OK) {
    s = traj0 ? s : IR_ENOMEM;
    goto done;
  }
  if ((s = run_gd_traj(&c, W0, Wlim0, traj0, eta, T, seed, out, "random", &dev,
                       WT)) != IR_OK)
    goto done;
  snprintf(buf, sizeof buf,
           "GD from random w0 follows the predicted trajectory to X+y + "
           "(I - X+X)w0: max_t ||w_t - w_t(SVD)||/||X+y|| (%zu steps)",
           T);
  push_claim(out->claims, d->name, buf, SRC_BIAS, 0, dev, 1e-10, CK_MAX,
             dev <= 1e-10);
  if (!full_rank) {
    /* The part of w0 outside the row space never moves:
     * ‖(I − X⁺X)(w_T − w0)‖ / ‖(I − X⁺X)w0‖, from the SVD's projector and
     * the actual iterate (not the prediction). */
    gsl_matrix_sub(WT, W0);
    const double fd = ir_minnorm_nullspace_fraction(mn, -1, WT);
    const double f0 = ir_minnorm_nullspace_fraction(mn, -1, W0);
    const double moved = fd * ir_matrix_fro(WT) / (f0 * ir_matrix_fro(W0));
    snprintf(buf, sizeof buf,
             "GD from random w0 leaves its null-space part alone: "
             "||(I - X+X)(w_T - w0)|| / ||(I - X+X)w0||");
    push_claim(out->claims, d->name, buf, SRC_BIAS, 0, moved, 1e-10, CK_MAX,
               moved <= 1e-10);
  }

  /* SGD from 0 with the step of Ma, Bassily & Belkin for interpolation,
   * η_B = B/(β + (B − 1)λ_max), β = max_i ‖x_i‖²: convergent for every batch
   * size, ≈ 1/β for B = 1 and ≈ 1/λ_max for B = n. */
  double beta = 0;
  for (size_t i = 0; i < n; i++) {
    gsl_vector_const_view xi = gsl_matrix_const_row(d->X, i);
    double nr = gsl_blas_dnrm2(&xi.vector);
    beta = fmax(beta, nr * nr);
  }
  /* Break "start": SGD and heavy ball start 1e-3·‖X⁺Y‖ away from 0, in a
   * random direction (a momentum buffer or an iterate not reset). */
  gsl_vector *start = NULL;
  if (ir_cli_broken("start")) {
    start = gsl_vector_alloc(p * K);
    if (start == NULL) {
      s = IR_ENOMEM;
      goto done;
    }
    for (size_t j = 0; j < p * K; j++)
      gsl_vector_set(start, j, 1e-3 * sc * gsl_ran_gaussian(rinit, 1.0));
  }
  const size_t batches[3] = {1, 10, n / 4 > 0 ? n / 4 : 1};
  for (int bi = 0; bi < 3; bi++) {
    for (int repl = 0; repl <= 1; repl++) {
      const size_t B = batches[bi] < n ? batches[bi] : n;
      const double etaB = (double)B / (beta + (double)(B - 1) * lmax);
      const size_t spe = (n + B - 1) / B;
      /* Expected contraction of the slowest direction per epoch:
       * (1 − η_B λ_min)^(n/B); epochs to reach 1e-12, capped. */
      double ep = ceil(log(1e-12) / ((double)spe * log1p(-etaB * lmin)));
      size_t E = ep < (double)o->max_epochs ? (size_t)ep : o->max_epochs;
      if (E < 1)
        E = 1;
      /* Without interpolation, SGD with replacement runs the whole epoch
       * budget: the second half measures its noise floor. */
      const int floor_run = !interp && repl;
      if (floor_run)
        E = o->max_epochs;
      ir_optim_params op;
      ir_optim_params_default(&op);
      op.lr = etaB;
      op.batch = B;
      op.replacement = repl;
      op.max_steps = E * spe;
      op.seed = seed;
      op.stream = ir_rng_stream(IR_STREAM_SGD, B, (uint64_t)repl);
      if (start)
        gsl_vector_memcpy(theta, start);
      else
        gsl_vector_set_zero(theta);
      ir_cli_progress(&o->common, AN,
                      "%s: SGD batch %zu %s replacement, %zu "
                      "epochs",
                      d->name, B, repl ? "with" : "without", E);
      ir_optim_result res;
      gv_floor_obs fo;
      memset(&fo, 0, sizeof fo);
      fo.Wstar = Wstar;
      fo.t0 = op.max_steps / 2;
      fo.len = (op.max_steps - fo.t0) / FLOOR_NB;
      if ((s = ir_optim_run(c.model, &op, theta, floor_run ? floor_observe : NULL,
                            &fo, &res)) != IR_OK)
        break;
      char setting[48];
      snprintf(setting, sizeof setting, "B = %zu, %s replacement", B,
               repl ? "with" : "without");
      row_init(&row, d->name, "SGD", setting);
      row.v[V_LR] = etaB;
      row.v[V_LR_REL] = etaB * lmax / 2;
      row.v[V_STEPS] = (double)res.steps;
      row.v[V_EPOCHS] = (double)res.steps / (double)spe;
      status_text(&res, row.status, sizeof row.status);
      if ((s = metrics(&c, theta, Wstar, &row)) != IR_OK ||
          (s = push_row(out->rows, &row)) != IR_OK)
        break;
      if (!full_rank &&
          (s = claim_rowspace(out, d->name, mn, theta, p, K, "SGD", setting)))
        break;
      /* Constant-step SGD converges to a point only when every sample's
       * gradient vanishes there (interpolation); otherwise it keeps moving
       * in a noise ball of size ~ eta * residual, and no convergence is
       * claimed. */
      /* Without interpolation: the measured mean of ‖W_t − X⁺Y‖² over the
       * second half against the stationary value of the second-moment
       * recursion (theory.h), when the second half spans at least 200
       * relaxation times 1/(2 η_B λ_min) of that recursion (so that the
       * start is forgotten and the 20 batch means are nearly
       * independent). */
      const double tau = 1.0 / (2 * etaB * lmin);
      if (floor_run && !res.diverged && fo.len > 0 &&
          (double)(FLOOR_NB * fo.len) >= 200 * tau) {
        double msd = NAN;
        /* Break "floor": the prediction made with a step 5% too long. */
        if ((s = ir_theory_sgd_floor(
                 d->X, R, ir_cli_broken("floor") ? etaB * 1.05 : etaB, B, &msd)) !=
            IR_OK)
          break;
        double bm[FLOOR_NB], mean = 0, var = 0;
        for (int k = 0; k < FLOOR_NB; k++) {
          bm[k] = fo.sum[k] / (double)fo.len / (c.wnorm * c.wnorm);
          mean += bm[k] / FLOOR_NB;
        }
        for (int k = 0; k < FLOOR_NB; k++)
          var += (bm[k] - mean) * (bm[k] - mean) / (FLOOR_NB - 1);
        const double se = sqrt(var / FLOOR_NB);
        const double pred = msd / (c.wnorm * c.wnorm);
        snprintf(buf, sizeof buf,
                 "SGD %s ends in its predicted noise ball: mean ||w_t - "
                 "X+y||^2/||X+y||^2 over the last %zu steps (4 se of 20 "
                 "batch means)",
                 setting, FLOOR_NB * fo.len);
        push_claim(out->claims, d->name, buf, SRC_FLOOR, pred, mean, 4 * se,
                   CK_ABS, fabs(mean - pred) <= 4 * se);
      }
      if (interp && ep <= (double)o->max_epochs) {
        snprintf(buf, sizeof buf,
                 "SGD %s, from 0, converges to X+y "
                 "(relative distance after %zu epochs)",
                 setting, E);
        push_claim(out->claims, d->name, buf, SRC_SGD, 0, row.v[V_DIST_W], 1e-8,
                   CK_MAX, row.v[V_DIST_W] <= 1e-8);
      }
    }
    if (s != IR_OK)
      break;
  }
  if (s != IR_OK) {
    if (start)
      gsl_vector_free(start);
    goto done;
  }

  /* Heavy-ball momentum, full batch: stable for η < (2 + 2β)/λ_max. */
  {
    const double mom = 0.9;
    /* Steps for the slowest mode of the momentum iteration to contract by
     * 1e-13 (capped). */
    const double rho = ir_theory_heavy_ball_rate(svd, eta, mom, -1);
    const double need_hb = ceil(log(1e-13) / log(rho));
    const size_t Thb =
        need_hb < (double)o->max_steps ? (size_t)need_hb : o->max_steps;
    ir_optim_params op;
    ir_optim_params_default(&op);
    op.lr = eta;
    op.momentum = mom;
    op.max_steps = Thb;
    op.seed = seed;
    if (start)
      gsl_vector_memcpy(theta, start);
    else
      gsl_vector_set_zero(theta);
    if (start)
      gsl_vector_free(start);
    start = NULL;
    ir_optim_result res;
    if ((s = ir_optim_run(c.model, &op, theta, NULL, NULL, &res)) != IR_OK)
      goto done;
    row_init(&row, d->name, "heavy ball", "beta = 0.9, full batch");
    row.v[V_LR] = eta;
    row.v[V_LR_REL] = eta * lmax / 2;
    row.v[V_STEPS] = (double)res.steps;
    row.v[V_EPOCHS] = (double)res.steps;
    status_text(&res, row.status, sizeof row.status);
    if ((s = metrics(&c, theta, Wstar, &row)) != IR_OK ||
        (s = push_row(out->rows, &row)) != IR_OK)
      goto done;
    if (!full_rank && (s = claim_rowspace(out, d->name, mn, theta, p, K,
                                          "heavy ball", "beta = 0.9")))
      goto done;
    /* Full-batch: converges to X⁺Y with or without interpolation. */
    if (need_hb <= (double)o->max_steps) {
      snprintf(buf, sizeof buf,
               "heavy-ball momentum (beta = 0.9), from 0, "
               "converges to X+y (relative distance after %zu steps)",
               Thb);
      push_claim(out->claims, d->name, buf, SRC_BIAS, 0, row.v[V_DIST_W], 1e-8,
                 CK_MAX, row.v[V_DIST_W] <= 1e-8);
    }
  }
  /* Step sizes as multiples of the stability threshold 2/λ_max. */
  size_t Ts = 2 * T > 2000 ? 2 * T : 2000;
  if (Ts > o->sweep_steps)
    Ts = o->sweep_steps;
  dist = malloc((Ts + 1) * sizeof *dist);
  if (dist == NULL) {
    s = ir_error(IR_ENOMEM, "out of memory");
    goto done;
  }
  ir_cli_progress(&o->common, AN, "%s: step-size sweep, %zu steps each",
                  d->name, Ts);
  for (size_t mi = 0; mi < o->nmult; mi++) {
    const double m = o->multiples[mi];
    const double lr = m * 2.0 / lmax;
    ir_optim_params op;
    ir_optim_params_default(&op);
    op.lr = lr;
    op.max_steps = Ts;
    op.seed = seed;
    gsl_vector_set_zero(theta);
    for (size_t t = 0; t <= Ts; t++)
      dist[t] = NAN;
    gv_dist_obs dobs = {Wstar, dist, Ts + 1};
    ir_optim_result res;
    if ((s = ir_optim_run(c.model, &op, theta, dist_observe, &dobs, &res)) !=
        IR_OK)
      goto done;
    char setting[48];
    snprintf(setting, sizeof setting, "eta = %g x 2/lambda_max", m);
    row_init(&row, d->name, "GD (step sweep)", setting);
    row.v[V_LR] = lr;
    row.v[V_LR_REL] = m;
    row.v[V_STEPS] = (double)res.steps;
    row.v[V_EPOCHS] = (double)res.steps;
    status_text(&res, row.status, sizeof row.status);
    if ((s = metrics(&c, theta, Wstar, &row)) != IR_OK ||
        (s = push_row(out->rows, &row)) != IR_OK)
      goto done;
    /* Predicted contraction (or growth) factor per step of the error:
     * max_i |1 − η s_i²/n| (theory.h). */
    ir_gd_traj *tm =
        ir_gd_traj_alloc(svd, d->Y, NULL, ir_cli_broken("sweep") ? lr * (1 + 1e-3) : lr);
    if (tm == NULL) {
      s = IR_ENOMEM;
      goto done;
    }
    const double rate = ir_gd_traj_rate(tm);
    /* Deviation of the last iterate from the SVD prediction at that step. */
    double dev_T = NAN;
    if ((s = ir_gd_traj_at(tm, (double)res.steps, What)) == IR_OK) {
      gsl_matrix_const_view W = gsl_matrix_const_view_vector(theta, p, K);
      dev_T = ir_matrix_fro_diff(&W.matrix, What) / c.wnorm;
    }
    ir_gd_traj_free(tm);
    if (s != IR_OK)
      goto done;
    if (fabs(m - 0.99) < 1e-12) {
      snprintf(buf, sizeof buf,
               "GD with eta = 0.99 x 2/lambda_max is stable (rate %.4f < 1) "
               "and follows the SVD prediction: ||w_T - w_T(SVD)||/||X+y||, "
               "T = %zu",
               rate, res.steps);
      push_claim(out->claims, d->name, buf, SRC_STAB, 0, dev_T, 1e-10, CK_MAX,
                 !res.diverged && rate < 1 && dev_T <= 1e-10);
    }
    if (fabs(m - 1.01) < 1e-12) {
      /* Growth factor per step over the last stretch before the stop: the
       * top direction dominates, so it is |1 − η λ_max|. */
      size_t t2 = res.steps, t1 = t2 > 50 ? t2 - 50 : 0;
      double g = NAN;
      if (t2 > t1 && dist[t1] > 0 && isfinite(dist[t2]))
        g = pow(dist[t2] / dist[t1], 1.0 / (double)(t2 - t1));
      snprintf(buf, sizeof buf,
               "GD with eta = 1.01 x 2/lambda_max diverges: "
               "error growth factor per step vs max|1 - eta s^2/n|");
      push_claim(out->claims, d->name, buf, SRC_STAB, rate, g, 1e-3, CK_RATE,
                 res.diverged && fabs(g - rate) <= 1e-3);
    }
  }
  s = IR_OK;
done:
  free(dist);
  ir_gd_traj_free(traj);
  ir_gd_traj_free(traj0);
  ir_model_free(c.model);
  ir_minnorm_free(mn);
  ir_rng_free(rinit);
  if (Wstar)
    gsl_matrix_free(Wstar);
  if (W0)
    gsl_matrix_free(W0);
  if (Wlim0)
    gsl_matrix_free(Wlim0);
  if (theta)
    gsl_vector_free(theta);
  if (What)
    gsl_matrix_free(What);
  if (WT)
    gsl_matrix_free(WT);
  if (R)
    gsl_matrix_free(R);
  if (c.P)
    gsl_matrix_free(c.P);
  if (c.Pstar)
    gsl_matrix_free(c.Pstar);
  return s;
}

/* ---- Options
 * -------------------------------------------------------------------- */

enum {
  OPT_DATA = 1,
  OPT_N,
  OPT_P,
  OPT_NTEST,
  OPT_R2,
  OPT_SIGMA2,
  OPT_FN,
  OPT_FEATURES,
  OPT_MAXSTEPS,
  OPT_MAXEPOCHS,
  OPT_MULT,
  OPT_SWEEP
};

static int parse_data_list(const char *arg, gv_opts *o) {
  o->use_linear = o->use_fashion = 0;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", arg);
  char *save = NULL;
  for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (strcmp(t, "linear") == 0)
      o->use_linear = 1;
    else if (strcmp(t, "fashion") == 0)
      o->use_fashion = 1;
    else
      return ir_cli_usage_error(PROG,
                                "--data: unknown data set '%s' (expected "
                                "linear or fashion)",
                                t);
  }
  return 0;
}

static int parse(int argc, char **argv, gv_opts *o, ir_cli_config *cfg) {
  static const struct option longopts[] = {
      {"data", required_argument, NULL, OPT_DATA},
      {"n", required_argument, NULL, OPT_N},
      {"p", required_argument, NULL, OPT_P},
      {"ntest", required_argument, NULL, OPT_NTEST},
      {"r2", required_argument, NULL, OPT_R2},
      {"sigma2", required_argument, NULL, OPT_SIGMA2},
      {"fashion-n", required_argument, NULL, OPT_FN},
      {"features", required_argument, NULL, OPT_FEATURES},
      {"max-steps", required_argument, NULL, OPT_MAXSTEPS},
      {"max-epochs", required_argument, NULL, OPT_MAXEPOCHS},
      {"multiples", required_argument, NULL, OPT_MULT},
      {"sweep-steps", required_argument, NULL, OPT_SWEEP},
      IR_CLI_COMMON_OPTIONS,
      {NULL, 0, NULL, 0}};
  /* Sizes given on the command line win over --quick's defaults. */
  size_t n = 0, p = 0, ntest = 0, fn = 0, feat = 0, ms = 0, me = 0, sw = 0;
  o->r2 = 1;
  o->sigma2 = 0.25;
  o->use_linear = o->use_fashion = 1;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    int bad = 0;
    switch (c) {
    case OPT_DATA: bad = parse_data_list(optarg, o); break;
    case OPT_N: bad = ir_cli_size(PROG, "n", optarg, 2, 1000000, &n); break;
    case OPT_P: bad = ir_cli_size(PROG, "p", optarg, 1, 1000000, &p); break;
    case OPT_NTEST:
      bad = ir_cli_size(PROG, "ntest", optarg, 1, 10000, &ntest);
      break;
    case OPT_R2:
      bad = ir_cli_double(PROG, "r2", optarg, 1e-12, 1e12, &o->r2);
      break;
    case OPT_SIGMA2:
      bad = ir_cli_double(PROG, "sigma2", optarg, 0, 1e12, &o->sigma2);
      break;
    case OPT_FN:
      bad = ir_cli_size(PROG, "fashion-n", optarg, 2, 60000, &fn);
      break;
    case OPT_FEATURES:
      bad = ir_cli_size(PROG, "features", optarg, 1, 1000000, &feat);
      break;
    case OPT_MAXSTEPS:
      bad = ir_cli_size(PROG, "max-steps", optarg, 10, 100000000, &ms);
      break;
    case OPT_MAXEPOCHS:
      bad = ir_cli_size(PROG, "max-epochs", optarg, 1, 100000000, &me);
      break;
    case OPT_SWEEP:
      bad = ir_cli_size(PROG, "sweep-steps", optarg, 10, 100000000, &sw);
      break;
    case OPT_MULT:
      free(o->multiples);
      o->multiples = NULL;
      bad = ir_cli_double_list(PROG, "multiples", optarg, 1e-6, 100,
                               &o->multiples, &o->nmult);
      break;
    default:
      bad = ir_cli_default_option(PROG, &o->common, c, optarg, argv, help);
      if (bad < 0)
        return -1;
      break;
    }
    if (bad)
      return IR_EXIT_USAGE;
  }
  if (optind < argc)
    return ir_cli_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
  const int q = o->common.quick;
  o->n = n ? n : (q ? 20 : 200);
  o->p = p ? p : (q ? 50 : 500);
  o->ntest = ntest ? ntest : (q ? 200 : 1000);
  o->fashion_n = fn ? fn : (q ? 100 : 200);
  o->features = feat ? feat : 4 * o->fashion_n;
  o->max_steps = ms ? ms : (q ? 2000 : 5000);
  o->sweep_steps = sw ? sw : (q ? 1000 : 2000);
  o->max_epochs = me ? me : (q ? 200 : 500);
  if (o->nmult == 0) {
    static const double def[] = {0.25, 0.5, 0.9, 0.99, 1.01, 1.1, 2};
    o->nmult = sizeof def / sizeof def[0];
    o->multiples = malloc(sizeof def);
    if (o->multiples == NULL)
      return IR_EXIT_INTERNAL;
    memcpy(o->multiples, def, sizeof def);
  }
  if (o->use_fashion && o->fashion_n > 60000)
    return ir_cli_usage_error(PROG,
                              "--fashion-n %zu exceeds the 60000 training "
                              "images",
                              o->fashion_n);
  ir_cli_config_common(cfg, &o->common);
  ir_cli_config_set(cfg, "data", "%s%s%s", o->use_linear ? "linear" : "",
                    o->use_linear && o->use_fashion ? "," : "",
                    o->use_fashion ? "fashion" : "");
  ir_cli_config_set(cfg, "n", "%zu", o->n);
  ir_cli_config_set(cfg, "p", "%zu", o->p);
  ir_cli_config_set(cfg, "ntest", "%zu", o->ntest);
  char num[32];
  ir_cli_config_set(cfg, "r2", "%s", ir_cli_fmt_double(num, sizeof num, o->r2));
  ir_cli_config_set(cfg, "sigma2", "%s",
                    ir_cli_fmt_double(num, sizeof num, o->sigma2));
  ir_cli_config_set(cfg, "fashion-n", "%zu", o->fashion_n);
  ir_cli_config_set(cfg, "features", "%zu", o->features);
  ir_cli_config_set(cfg, "max-steps", "%zu", o->max_steps);
  ir_cli_config_set(cfg, "max-epochs", "%zu", o->max_epochs);
  ir_cli_config_set(cfg, "sweep-steps", "%zu", o->sweep_steps);
  char buf[512] = "";
  size_t len = 0;
  for (size_t i = 0; i < o->nmult && len < sizeof buf; i++)
    len +=
        (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? "," : "",
                         ir_cli_fmt_double(num, sizeof num, o->multiples[i]));
  ir_cli_config_set(cfg, "multiples", "%s", buf);
  return 0;
}

/* ---- Output
 * ---------------------------------------------------------------------- */

static const struct {
  const char *name;
  const char *desc;
} value_cols[V_COUNT] = {
    {"lr", "step size eta"},
    {"lr_over_threshold", "eta / (2/lambda_max), lambda_max of X'X/n"},
    {"steps", "parameter updates"},
    {"epochs", "passes over the training set"},
    {"train_loss", "final L = (1/2n)||XW - Y||_F^2"},
    {"dist_minnorm", "||W - X+Y||_F / ||X+Y||_F"},
    {"dist_limit",
     "||W - W_limit||_F / ||X+Y||_F, W_limit = X+Y + (I - X+X)W0"},
    {"dist_pred", "||X_test (W - X+Y)||_F / ||X_test X+Y||_F"},
    {"norm", "||W||_F"},
    {"test_mse",
     "mean over test samples of ||W'x - y||^2 (summed over outputs)"},
    {"test_err",
     "test 0-1 error (argmax of the K outputs; classification only)"},
};

/* One table row per optimizer setting; mean ± std over seeds when seeds > 1
 * (rows come in the same order for every seed). */
static int build_runs_table(const gv_rows *rows, size_t nseeds,
                            const gv_out *flags, ir_table **out) {
  const size_t per = rows->n / nseeds;
  ir_table *t = ir_table_alloc("runs", "Gradient methods against the "
                                       "minimum-norm solution X+Y");
  if (t == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  ir_table_add_note(t, "loss L(W) = (1/2n)||XW - Y||_F^2 (half mean over "
                       "samples, sum over outputs); lambda_max = s_max^2/n");
  ir_table_add_note(t, "distances are relative to ||X+Y||_F; the GD rows "
                       "'init random' measure dist_limit against X+Y + "
                       "(I - X+X)W0");
  if (nseeds > 1)
    ir_table_add_note(t, "mean +- std over seeds; status of the first seed");
  if (flags->rowspace_skipped)
    ir_table_add_note(t, "rank X = p: every vector lies in the row space, so "
                         "no row-space claim is made (it would be vacuous)");
  if (flags->no_interp)
    ir_table_add_note(t, "rank X < n: no interpolation, so constant-step SGD "
                         "does not converge to a point (it keeps moving in a "
                         "noise ball around X+Y); no convergence claim is "
                         "made for SGD.  With replacement it runs every epoch "
                         "and the mean squared distance over the second half "
                         "is checked against the stationary value of its "
                         "second-moment recursion; without replacement "
                         "(reshuffling) there is no closed form and no "
                         "claim");
  int cd = ir_table_add_column(t, "dataset", IR_COL_STRING, "data set");
  int co = ir_table_add_column(t, "optimizer", IR_COL_STRING, "method");
  int cs = ir_table_add_column(t, "setting", IR_COL_STRING, "its setting");
  int cst = ir_table_add_column(t, "status", IR_COL_STRING,
                                "how the run ended (divergence is a result)");
  int cv[V_COUNT];
  for (int v = 0; v < V_COUNT; v++)
    cv[v] = ir_table_add_column(t, value_cols[v].name,
                                nseeds > 1 ? IR_COL_MEANSTD : IR_COL_DOUBLE,
                                value_cols[v].desc);
  double *x = malloc(nseeds * sizeof *x);
  if (x == NULL) {
    ir_table_free(t);
    return ir_error(IR_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < per; i++) {
    const gv_row *r = &rows->rows[i];
    ir_table_add_row(t);
    ir_table_set_string(t, cd, r->dataset);
    ir_table_set_string(t, co, r->optimizer);
    ir_table_set_string(t, cs, r->setting);
    ir_table_set_string(t, cst, r->status);
    for (int v = 0; v < V_COUNT; v++) {
      if (isnan(r->v[v]))
        continue; /* not applicable: the cell stays empty */
      if (nseeds == 1) {
        ir_table_set_double(t, cv[v], r->v[v]);
        continue;
      }
      for (size_t sd = 0; sd < nseeds; sd++)
        x[sd] = rows->rows[sd * per + i].v[v];
      ir_summary sm;
      if (ir_stats_summary(x, nseeds, 0.95, &sm) == IR_OK)
        ir_table_set_meanstd(t, cv[v], sm.mean, sm.std);
    }
  }
  free(x);
  *out = t;
  return IR_OK;
}

/* Worst case over seeds of each claim (claims come in the same order). */
static int build_checks(const gv_claims *cl, size_t nseeds, ir_checks *chk) {
  const size_t per = cl->n / nseeds;
  for (size_t i = 0; i < per; i++) {
    const gv_claim *w = &cl->c[i];
    int pass = 1;
    for (size_t sd = 0; sd < nseeds; sd++) {
      const gv_claim *c = &cl->c[sd * per + i];
      pass = pass && c->pass;
      double err_c =
          c->kind == CK_MAX ? c->measured : fabs(c->measured - c->predicted);
      double err_w =
          w->kind == CK_MAX ? w->measured : fabs(w->measured - w->predicted);
      if (!(err_c <= err_w) || !c->pass)
        w = c;
    }
    char claim[300];
    snprintf(claim, sizeof claim, "%s%s", w->claim,
             nseeds > 1 ? " (worst seed)" : "");
    int s = ir_checks_add(chk, claim, w->source, w->predicted, w->measured,
                          w->tol, pass);
    if (s != IR_OK)
      return s;
  }
  return IR_OK;
}

static int build_traj_table(const gv_trajs *tr, ir_table **out) {
  ir_table *t = ir_table_alloc(
      "trajectory", "GD iterates against the "
                    "trajectory predicted from the SVD");
  if (t == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  ir_table_add_note(t, "w_t = W0 - VV'W0 + V z_t, z_t = z* + (I - eta S^2/n)^t "
                       "(V'W0 - z*), z* = S^-1 U'Y; distances relative to "
                       "||X+Y||_F");
  int c0 = ir_table_add_column(t, "dataset", IR_COL_STRING, NULL);
  int c1 = ir_table_add_column(t, "init", IR_COL_STRING, "zero or random W0");
  int cseed = ir_table_add_column(t, "seed", IR_COL_INT, NULL);
  int c2 = ir_table_add_column(t, "step", IR_COL_INT, "GD step t");
  int c3 = ir_table_add_column(t, "dist_measured", IR_COL_DOUBLE,
                               "||w_t - w_limit|| of the GD iterate");
  int c4 = ir_table_add_column(t, "dist_predicted", IR_COL_DOUBLE,
                               "the same from the SVD formula");
  int c5 =
      ir_table_add_column(t, "deviation", IR_COL_DOUBLE, "||w_t - w_t(SVD)||");
  for (size_t i = 0; i < tr->n; i++) {
    const gv_traj_pt *p = &tr->p[i];
    ir_table_add_row(t);
    ir_table_set_string(t, c0, p->dataset);
    ir_table_set_string(t, c1, p->init);
    ir_table_set_int(t, cseed, (long)p->seed);
    ir_table_set_int(t, c2, (long)p->step);
    ir_table_set_double(t, c3, p->measured);
    ir_table_set_double(t, c4, p->predicted);
    ir_table_set_double(t, c5, p->deviation);
  }
  *out = t;
  return IR_OK;
}

/* Mean and standard error over the seeds of GD-from-0's distance at each
 * recorded step that every seed recorded (the schedule is the same; only
 * the last step, T, may differ).  Fills x (step), m (mean measured), e (its
 * standard error), q (mean predicted); returns the count. */
static size_t traj_mean(const gv_trajs *tr, const char *dataset,
                        unsigned long seed0, size_t nseeds, double *x,
                        double *m, double *e, double *q) {
  size_t k = 0;
  for (size_t i = 0; i < tr->n; i++) {
    const gv_traj_pt *a = &tr->p[i];
    if (a->seed != seed0 || strcmp(a->dataset, dataset) != 0 ||
        strcmp(a->init, "zero") != 0)
      continue;
    double sum = 0, sum2 = 0, sp = 0;
    size_t cnt = 0;
    for (size_t j = 0; j < tr->n; j++) {
      const gv_traj_pt *b = &tr->p[j];
      if (b->step == a->step && strcmp(b->dataset, dataset) == 0 &&
          strcmp(b->init, "zero") == 0) {
        sum += b->measured;
        sum2 += b->measured * b->measured;
        sp += b->predicted;
        cnt++;
      }
    }
    if (cnt != nseeds)
      continue;
    const double mu = sum / (double)cnt;
    const double var =
        cnt > 1 ? fmax(0, (sum2 - cnt * mu * mu) / (double)(cnt - 1)) : 0;
    x[k] = a->step;
    m[k] = mu;
    e[k] = sqrt(var / (double)cnt);
    q[k] = sp / (double)cnt;
    k++;
  }
  return k;
}

/* With --seeds > 1: the table of mean ± standard error per step. */
static int build_traj_mean_table(const gv_trajs *tr, unsigned long seed0,
                                 size_t nseeds, ir_table **out) {
  ir_table *t = ir_table_alloc("trajectory_mean",
                               "GD from 0: distance to X+Y over seeds, mean "
                               "and standard error per step");
  double *x = malloc((tr->n + 1) * 4 * sizeof *x);
  if (t == NULL || x == NULL) {
    ir_table_free(t);
    free(x);
    return ir_error(IR_ENOMEM, "out of memory");
  }
  char note[96];
  snprintf(note, sizeof note, "%zu seeds (fresh data each); distances relative "
                              "to ||X+Y||_F", nseeds);
  ir_table_add_note(t, note);
  int c0 = ir_table_add_column(t, "dataset", IR_COL_STRING, NULL);
  int c1 = ir_table_add_column(t, "step", IR_COL_INT, "GD step t");
  int c2 = ir_table_add_column(t, "dist_mean", IR_COL_DOUBLE,
                               "mean over seeds of ||w_t - X+Y||");
  int c3 = ir_table_add_column(t, "dist_se", IR_COL_DOUBLE,
                               "its standard error (std / sqrt(seeds))");
  int c4 = ir_table_add_column(t, "predicted_mean", IR_COL_DOUBLE,
                               "mean over seeds of the SVD prediction");
  const char *names[2] = {"linear", "fashion"};
  double *m = x + tr->n + 1, *e = m + tr->n + 1, *q = e + tr->n + 1;
  for (int di = 0; di < 2; di++) {
    size_t k = traj_mean(tr, names[di], seed0, nseeds, x, m, e, q);
    for (size_t i = 0; i < k; i++) {
      ir_table_add_row(t);
      ir_table_set_string(t, c0, names[di]);
      ir_table_set_int(t, c1, (long)x[i]);
      ir_table_set_double(t, c2, m[i]);
      ir_table_set_double(t, c3, e[i]);
      ir_table_set_double(t, c4, q[i]);
    }
  }
  free(x);
  *out = t;
  return IR_OK;
}

/* Distance against step, measured (points) and predicted (lines), log y.
 * With several seeds: the mean over seeds with a ± standard error band. */
static int write_figure(const gv_trajs *tr, unsigned long seed0, size_t nseeds,
                        const char *dir) {
  ir_figure *f = ir_figure_alloc(
      "gd_distance",
      nseeds > 1 ? "GD from 0: distance to X⁺y over seeds (mean, ± se band), "
                   "measured and predicted by the SVD"
                 : "GD from 0: distance to X⁺y, measured and predicted by "
                   "the SVD",
      "GD step t (log scale; t = 0 not shown)", "‖w_t − X⁺y‖ / ‖X⁺y‖");
  if (f == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  ir_figure_set_log(f, 1, 1);
  ir_figure_set_key(f, "bottom left");
  const size_t cap = tr->n + 1;
  double *x = malloc(cap * sizeof *x), *ym = malloc(cap * sizeof *ym),
         *yp = malloc(cap * sizeof *yp), *se = malloc(cap * sizeof *se);
  int s = (x && ym && yp && se) ? IR_OK : ir_error(IR_ENOMEM, "out of memory");
  const char *names[2] = {"linear", "fashion"};
  for (int di = 0; di < 2 && s == IR_OK; di++) {
    size_t m = traj_mean(tr, names[di], seed0, nseeds, x, ym, se, yp);
    if (m == 0)
      continue;
    char lab[64];
    snprintf(lab, sizeof lab, "%s: GD iterates%s", names[di],
             nseeds > 1 ? " (mean ± se)" : "");
    s = ir_figure_add_series_err(f, lab, x, ym, nseeds > 1 ? se : NULL, m,
                                 "points");
    snprintf(lab, sizeof lab, "%s: SVD prediction", names[di]);
    if (s == IR_OK)
      s = ir_figure_add_series(f, lab, x, yp, m, "lines");
  }
  int rendered = 0;
  if (s == IR_OK)
    s = ir_figure_write(f, dir, 1, &rendered);
  free(x);
  free(ym);
  free(yp);
  free(se);
  ir_figure_free(f);
  return s;
}

/* The columns and headers a paper shows (report.h, ir_table_set_paper);
 * the CSV keeps every column. */
static const char *const gd_paper[] = {
    "runs: dataset,optimizer,setting,steps,dist_minnorm=$\\|W - X^{+}Y\\|_\\mathrm{rel}$,test_mse=$\\mathrm{MSE}_\\mathrm{test}$",
    NULL};

int ir_an_gd_vs_minnorm(int argc0, char **argv0) {
  int argc;
  char **argv;
  int rc = ir_cli_expand_config(PROG, argc0, argv0, &argc, &argv);
  if (rc != 0)
    return rc;
  const double t_start = ir_wall_time();
  gv_opts o;
  memset(&o, 0, sizeof o);
  ir_cli_common_init(&o.common, AN);
  ir_cli_config cfg = {0, 0, NULL, NULL};
  gv_rows rows = {NULL, 0, 0};
  gv_claims claims = {NULL, 0, 0};
  gv_trajs trajs = {NULL, 0, 0};
  ir_table *runs = NULL, *traj = NULL, *tmean = NULL;
  ir_checks *chk = NULL;
  gv_data d;
  memset(&d, 0, sizeof d);
  rc = parse(argc, argv, &o, &cfg);
  if (rc != 0) {
    rc = rc < 0 ? IR_EXIT_OK : rc;
    goto done;
  }
  /* The linear data (--n + --ntest) x --p, refused up front when they
   * cannot fit. */
  if ((rc = ir_cli_check_memory(
           PROG, "the data (--n + --ntest) x --p",
           ir_cli_bytes(o.n + o.ntest, o.p, sizeof(double)))) != 0)
    goto done;
  /* Every option checked before any work (`all` stops here). */
  if ((rc = ir_cli_check_run(PROG, &o.common, NULL, 0)) != 0 ||
      ir_cli_validating)
    goto done;
  /* The thread count in force is recorded in the manifest's environment. */
  ir_cli_apply_threads(&o.common);
  int fashion = o.use_fashion && ir_data_fashion_mnist_available(NULL);
  if (o.use_fashion && !fashion && !o.common.quiet)
    printf("note: Fashion-MNIST not found in /usr/share/datasets/fashion-mnist "
           "(install dataset-fashion-mnist); skipping that data set\n");
  if (!o.use_linear && !fashion) {
    rc = ir_cli_usage_error(PROG, "no data set to analyse");
    goto done;
  }
  if ((rc = ir_cli_prepare_out(PROG, o.common.out)) != 0)
    goto done;
  double stage_t[3] = {0, 0, 0};
  int s = IR_OK;
  gv_out flags = {NULL, NULL, NULL, 0, 0};
  for (size_t sd = 0; sd < o.common.seeds && s == IR_OK; sd++) {
    const unsigned long seed = o.common.seed + sd;
    gv_out out = {&rows, &claims, &trajs, 0, 0};
    for (int di = 0; di < 2 && s == IR_OK; di++) {
      if ((di == 0 && !o.use_linear) || (di == 1 && !fashion))
        continue;
      double t0 = ir_wall_time();
      s = di == 0 ? data_linear(&o, seed, &d) : data_fashion(&o, seed, &d);
      double t1 = ir_wall_time();
      stage_t[0] += t1 - t0;
      if (s == IR_OK)
        s = analyse_one(&o, seed, &d, &out);
      stage_t[1 + di] += ir_wall_time() - t1;
      data_free(&d);
      flags.rowspace_skipped |= out.rowspace_skipped;
      flags.no_interp |= out.no_interp;
    }
  }
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  double t_w = ir_wall_time();
  chk = ir_checks_alloc();
  if (chk == NULL || (s = build_runs_table(&rows, o.common.seeds, &flags, &runs)) ||
      (s = build_traj_table(&trajs, &traj)) ||
      (s = build_checks(&claims, o.common.seeds, chk)) ||
      (s = ir_table_set_paper_from(runs, gd_paper)) ||
      (s = ir_table_write(runs, o.common.out, o.common.formats)) ||
      (s = ir_table_write(traj, o.common.out, o.common.formats)) ||
      (s = ir_checks_write(chk, o.common.out, o.common.formats)) ||
      (o.common.seeds > 1 &&
       ((s = build_traj_mean_table(&trajs, o.common.seed, o.common.seeds,
                                   &tmean)) ||
        (s = ir_table_write(tmean, o.common.out, o.common.formats)))) ||
      (s = write_figure(&trajs, o.common.seed, o.common.seeds,
                        o.common.out))) {
    rc = ir_cli_fail(PROG, chk ? s : IR_ENOMEM, NULL);
    goto done;
  }
  const char *stages[4] = {"data", "linear", "fashion", "write"};
  double secs[4] = {stage_t[0], stage_t[1], stage_t[2], ir_wall_time() - t_w};
  s = ir_cli_write_manifest(o.common.out, AN, &cfg, stages, secs, 4, chk,
                            ir_wall_time() - t_start);
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  if (!o.common.quiet) {
    ir_table_print(runs, stdout);
    putchar('\n');
    ir_checks_print(chk, stdout);
    printf("\nwritten to %s/\n", o.common.out);
  }
  if (ir_cli_collect != NULL)
    ir_checks_merge(ir_cli_collect, chk, AN);
  rc = ir_cli_exit_status(&o.common, chk);
done:
  data_free(&d);
  free(rows.rows);
  free(claims.c);
  free(trajs.p);
  free(o.multiples);
  ir_table_free(runs);
  ir_table_free(traj);
  ir_table_free(tmean);
  ir_checks_free(chk);
  ir_cli_config_free(&cfg);
  ir_cli_argv_free(argc, argv);
  return rc;
}
