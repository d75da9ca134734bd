/* an_double_descent.c — `implreg double-descent`: test error, training error
 * and solution norm against model size (model-wise), sample size
 * (sample-wise) and GD time (epoch-wise), with the interpolation threshold
 * and the ridgeless theory of docs/theory.md §2–§4.
 *
 * Without --data/--sweep the analysis runs its suite: the model-wise sweep
 * on Fashion-MNIST with random features (min-norm and ridge), the
 * isotropic linear model against Hastie et al.'s exact finite-n risk, the
 * sample-wise sweep of the linear model (more data can hurt), the
 * epoch-wise curve from the SVD, and the classical 1-D U-curve and second
 * descent (a step target, weighted Fourier features).  The numerics are library
 * calls (nested.h for the sweeps).
 */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "cli.h"

static const char *const AN = "double-descent";
static const char *const PROG = "implreg double-descent";

/* Test hook.  IMPLREG_BREAK (comma-separated names) breaks one computation
 * on purpose, as a plausible bug would, so that tests/cli_double_descent.sh
 * can show that some check catches it (the pattern of an_igr.c):
 * "feature-scale" (model-wise prefixes not rescaled to sqrt(2/N)), "norm"
 * and "test-mse" (the model-wise ||W|| or test MSE times 1 + 1e-3),
 * "linear-noise" and "relu-noise" (data drawn with sigma for sigma^2),
 * "gd-step" (real GD with a step 1e-3 too long), "classical-weights" (the
 * unweighted Fourier basis).  It is announced on stderr and recorded in
 * the manifest; never set it otherwise. */

static const char help[] =
    "Usage: implreg double-descent [--data fashion-mnist|linear|teacher-1d]\n"
    "         [--sweep model|samples|epochs|all] [options]\n\n"
    "Test error, training error and the norm of the min-norm solution against\n"
    "model size N (nested random features: feature j is drawn from its own\n"
    "stream (seed, j), so size N uses the first N features whatever the grid,\n"
    "normalized by sqrt(2/N) (rff) or sqrt(1/N) (relu) at every N), sample\n"
    "size n, and GD time; the peak at the interpolation threshold N = n; the\n"
    "ridgeless theory of Hastie et al. (arXiv:1903.08560) for the isotropic\n"
    "linear model.  Without --data it runs the whole suite (model-wise on\n"
    "Fashion-MNIST, linear model against theory, ReLU features against Mei &\n"
    "Montanari, sample-wise, epoch-wise, classical U-curve), each part at its\n"
    "own sizes: the suite takes --sweep and --seeds only.\n\n"
    "Options, and the parts that use them (any other is refused):\n"
    "  --n N              training samples: fashion-mnist model and epochs\n"
    "                     (default 1000, quick 200); linear model and epochs\n"
    "                     (default 100 and 400, quick 50 and 100); teacher-1d\n"
    "                     (default 30, quick 20)\n"
    "  --ntest M          test samples: fashion-mnist (default 2000, quick\n"
    "                     500), linear epochs, teacher-1d (default 2000)\n"
    "  --p P              features of the linear sample-wise sweep (>= 20;\n"
    "                     default 100, quick 50)\n"
    "  --r2 R             ||beta||^2 of the linear teacher (default 1)\n"
    "  --sigma2 S         noise variance: linear (default 0.25; sample-wise\n"
    "                     0.1), teacher-1d (default 0.01)\n"
    "  --features KIND    fashion-mnist: rff (default), rff-pair, relu,\n"
    "                     relu-centered, relu-sphere, fft, identity;\n"
    "                     teacher-1d: fourier-weighted (the only one)\n"
    "  --sigma S|median   fashion-mnist: bandwidth/scale of the features\n"
    "                     (default: median heuristic for rff/fft, 1 for relu)\n"
    "  --grid LIST        fashion-mnist model: model sizes N (comma list); or\n"
    "  --N-max M --points P  P sizes up to M, dense around N = n (default\n"
    "                     10n and 28 points; quick 4n and 16)\n"
    "  --ridge LIST       fashion-mnist model: ridge values lambda > 0 for\n"
    "                     the size-N model (default 1e-4,1e-3,1e-2,1e-1,1);\n"
    "                     the optimal-ridge curve is the best over the list\n"
    "  --no-ridge         fashion-mnist model: min-norm only\n"
    "  --label-noise P    fashion-mnist: fraction of training labels replaced\n"
    "                     by a random wrong label, drawn once (default 0;\n"
    "                     epoch-wise 0.2)\n"
    "  --rcond R          pseudo-inverse cutoff (default eps*max(n, N)): the\n"
    "                     model-wise and sample-wise sweeps\n"
    "  --accuracy A       fashion-mnist model, teacher-1d: Cholesky of the\n"
    "                     Gram matrix is used where eps*cond(Gram) <= A\n"
    "                     (default 1e-8), the SVD elsewhere\n"
    "  --seeds K          every part but the epoch-wise curve, which uses the\n"
    "                     first seed (--sweep epochs refuses K > 1); the\n"
    "                     linear and ReLU parts use K as their number of\n"
    "                     Monte Carlo draws (default 100 / 10)\n";

/* ---- Experiments' shared pieces --------------------------------------------
 */

enum { DATA_DEFAULT = 0, DATA_FASHION, DATA_LINEAR, DATA_CURVE };
enum { SWEEP_ALL = 0, SWEEP_MODEL, SWEEP_SAMPLES, SWEEP_EPOCHS };

/* Option groups, for what each part of the analysis uses. */
enum {
  DD_O_N = 1u << 0,
  DD_O_NTEST = 1u << 1,
  DD_O_SIGMA = 1u << 2,
  DD_O_GRID = 1u << 3,  /* --grid, --N-max, --points */
  DD_O_RIDGE = 1u << 4, /* --ridge, --no-ridge */
  DD_O_NOISE = 1u << 5,
  DD_O_RCOND = 1u << 6,
  DD_O_ACC = 1u << 7,
  DD_O_FEAT = 1u << 8,
  DD_O_P = 1u << 9,
  DD_O_R2 = 1u << 10,
  DD_O_SIGMA2 = 1u << 11,
  DD_O_SEEDS = 1u << 12
};

typedef struct {
  ir_cli_common common;
  int data, sweep, features;
  size_t n, ntest, Nmax, points;
  int n_set, ntest_set; /* --n, --ntest given */
  unsigned given;       /* DD_O_* bits of the options given */
  size_t p;             /* --p: features of the sample-wise linear sweep */
  double r2, sigma2;    /* --r2, --sigma2 (NAN: the part's default) */
  double sigma;
  int sigma_median;
  double *grid;
  size_t ngrid;
  double *ridge;
  size_t nridge;
  int no_ridge;
  double label_noise;
  double rcond, accuracy;
} dd_opts;

/* A data set with its test set; Y one-hot for classification. */
typedef struct {
  gsl_matrix *X, *Y, *Xt, *Yt;
  size_t *labels_t;
  double sigma; /* the feature scale used */
} dd_data;

static void dd_data_free(dd_data *d) {
  gsl_matrix *m[] = {d->X, d->Y, d->Xt, d->Yt};
  for (int i = 0; i < 4; i++)
    if (m[i])
      gsl_matrix_free(m[i]);
  free(d->labels_t);
  memset(d, 0, sizeof *d);
}

/* Moves the matrices out of a train/test pair of data sets. */
static void dd_take(ir_dataset *tr, ir_dataset *te, dd_data *d) {
  d->X = tr->X;
  d->Y = tr->Y;
  d->Xt = te->X;
  d->Yt = te->Y;
  d->labels_t = te->labels;
  tr->X = tr->Y = te->X = te->Y = NULL;
  te->labels = NULL;
  ir_dataset_free(tr);
  ir_dataset_free(te);
}

/* Mean over test samples of ‖ŷ − y‖² (summed over outputs) and the 0-1
 * error of the argmax when labels are given (NAN otherwise). */
static void dd_test_metrics(const gsl_matrix *P, const gsl_matrix *Yt,
                            const size_t *labels, double *mse, double *err) {
  double e = ir_matrix_fro_diff(P, Yt);
  *mse = e * e / (double)P->size1;
  *err = NAN;
  if (labels == NULL)
    return;
  size_t wrong = 0;
  for (size_t i = 0; i < P->size1; i++) {
    gsl_vector_const_view r = gsl_matrix_const_row(P, i);
    wrong += (size_t)gsl_vector_max_index(&r.vector) != labels[i];
  }
  *err = (double)wrong / (double)P->size1;
}

/* Model sizes: P points up to Nmax, log-spaced from 1 to Nmax with extra
 * points at N/n in {0.8, 0.9, 0.95, 1, 1.05, 1.1, 1.25} so the threshold is
 * resolved; unique and sorted. */
static size_t *dd_default_grid(size_t n, size_t Nmax, size_t points,
                               size_t *m) {
  static const double near[] = {0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25};
  const size_t nn = sizeof near / sizeof near[0];
  size_t cap = points + nn, k = 0;
  size_t *g = malloc(cap * sizeof *g);
  if (g == NULL)
    return NULL;
  const size_t base = points > nn ? points - nn : 2;
  const double lo = fmax(1.0, (double)n / 20.0);
  for (size_t i = 0; i < base; i++) {
    double t = base > 1 ? (double)i / (double)(base - 1) : 1.0;
    g[k++] = (size_t)llround(lo * pow((double)Nmax / lo, t));
  }
  for (size_t i = 0; i < nn; i++) {
    size_t v = (size_t)llround(near[i] * (double)n);
    if (v >= 1 && v <= Nmax)
      g[k++] = v;
  }
  /* Sort and remove duplicates. */
  for (size_t i = 1; i < k; i++)
    for (size_t j = i; j > 0 && g[j - 1] > g[j]; j--) {
      size_t t = g[j];
      g[j] = g[j - 1];
      g[j - 1] = t;
    }
  size_t u = 0;
  for (size_t i = 0; i < k; i++)
    if (u == 0 || g[i] != g[u - 1])
      g[u++] = g[i];
  *m = u;
  return g;
}

/* ---- Model-wise sweep -------------------------------------------------------
 */

/* Per grid point and seed. */
typedef struct {
  double train_mse, test_mse, test_err, norm, cond, rcond, opt_mse, opt_lambda;
  double rank;
  int method;
} dd_point;

/* Wall-clock seconds of the model-wise Fashion-MNIST sweep by stage, summed
 * over seeds, reported in manifest.json under timings_seconds
 * ("model_fashion.<stage>"). */
static struct {
  double load, features, grow, solve, direct;
} dd_t;

/* One seed of a model-wise sweep on precomputed features: Phi and Phit are
 * the map f applied at Nmax = Phi->size2, and size N fits their first N
 * columns rescaled to f's normalization at N (features.h), so that ‖W‖
 * and ridge λ are those of the size-N model (docs/theory.md §3). */
/* Streamed features (dd_sweep_model_impl): the map f applied in column
 * blocks to X and Xt as the sweep goes, the first Nkeep columns held. */
typedef struct {
  const gsl_matrix *X, *Xt;
  size_t Nkeep, Nmax;
} dd_stream;

/* Columns up to N appended to a streaming workspace, in blocks of at most
 * DD_STREAM_BLOCK columns (2·(n + ntest)·DD_STREAM_BLOCK doubles of
 * scratch), at the normalization of Nmax like the held matrices. */
#define DD_STREAM_BLOCK 2048
static int dd_stream_to(ir_nested *w, const ir_features *f,
                        const dd_stream *st, size_t N, gsl_matrix *B,
                        gsl_matrix *Bt) {
  int s = IR_OK;
  for (size_t j0 = ir_nested_size(w); j0 < N && s == IR_OK;) {
    const size_t j1 = N - j0 < DD_STREAM_BLOCK ? N : j0 + DD_STREAM_BLOCK;
    gsl_matrix_view Bv = gsl_matrix_submatrix(B, 0, 0, B->size1, j1 - j0);
    gsl_matrix_view Btv = gsl_matrix_submatrix(Bt, 0, 0, Bt->size1, j1 - j0);
    if ((s = ir_features_apply_cols(f, st->X, j0, j1, st->Nmax,
                                    &Bv.matrix)) == IR_OK &&
        (s = ir_features_apply_cols(f, st->Xt, j0, j1, st->Nmax,
                                    &Btv.matrix)) == IR_OK)
      s = ir_nested_append(w, &Bv.matrix, &Btv.matrix);
    j0 = j1;
  }
  return s;
}

/* The column source of the streaming workspace (nested.h): the training
 * columns j0..j1 made again, by the call that made them for dd_stream_to
 * (the same block, so the same bits), for the corrected semi-normal
 * equations past the held columns. */
typedef struct {
  const ir_features *f;
  const dd_stream *st;
} dd_source_ctx;

static int dd_source(void *ctx, size_t j0, size_t j1, gsl_matrix *D) {
  const dd_source_ctx *c = ctx;
  return ir_features_apply_cols(c->f, c->st->X, j0, j1, c->st->Nmax, D);
}

static int dd_sweep_model_impl(const dd_opts *o, const ir_features *f,
                               const gsl_matrix *Phi, const gsl_matrix *Y,
                               const gsl_matrix *Phit, const gsl_matrix *Yt,
                               const size_t *labels, const size_t *grid,
                               size_t ng, dd_point *pts, const dd_stream *st) {
  const size_t nt = st ? st->Xt->size1 : Phit->size1, K = Y->size2;
  const size_t Nmax = st ? st->Nmax : Phi->size2;
  ir_nested *w = st ? ir_nested_alloc_stream(Y, nt, st->Nkeep, Nmax)
                    : ir_nested_alloc(Phi, Y, Phit);
  gsl_matrix *B = NULL, *Bt = NULL;
  dd_source_ctx src = {f, st};
  if (st && w && ir_nested_set_source(w, dd_source, &src) != IR_OK) {
    ir_nested_free(w);
    w = NULL;
  }
  if (st && w) {
    B = ir_matrix_alloc_big(st->X->size1, DD_STREAM_BLOCK);
    Bt = ir_matrix_alloc_big(nt, DD_STREAM_BLOCK);
    if (!B || !Bt) {
      ir_nested_free(w);
      w = NULL;
    }
  }
  gsl_matrix *P = gsl_matrix_alloc(nt, K);
  size_t nl = o->no_ridge ? 0 : o->nridge;
  gsl_matrix **Pr = calloc(nl ? nl : 1, sizeof *Pr);
  ir_nested_fit *fr = calloc(nl ? nl : 1, sizeof *fr);
  int s = (w && P && Pr && fr) ? IR_OK : IR_ENOMEM;
  for (size_t j = 0; j < nl && s == IR_OK; j++)
    if ((Pr[j] = gsl_matrix_alloc(nt, K)) == NULL)
      s = IR_ENOMEM;
  for (size_t g = 0; g < ng && s == IR_OK; g++) {
    ir_nested_fit fit;
    /* IMPLREG_BREAK=feature-scale: the prefix of the Nmax columns fitted
     * as it is (normalization sqrt(2/Nmax) at every N, the old bug). */
    const double c = ir_cli_broken("feature-scale") ? 1.0
                                             : ir_features_norm(f, grid[g]) /
                                                   ir_features_norm(f, Nmax);
    double t0 = ir_wall_time();
    if ((s = st ? dd_stream_to(w, f, st, grid[g], B, Bt)
                : ir_nested_grow(w, grid[g])) != IR_OK)
      break;
    double t1 = ir_wall_time();
    dd_t.grow += t1 - t0;
    /* Min-norm and every ridge λ in one pass (nested.h). */
    if ((s = ir_nested_set_scale(w, c)) != IR_OK ||
        (s = ir_nested_solve(w, o->rcond, o->accuracy, P, &fit, o->ridge, nl,
                             Pr, fr)) != IR_OK)
      break;
    dd_t.solve += ir_wall_time() - t1;
    dd_point *pt = &pts[g];
    pt->train_mse = fit.train_mse;
    pt->norm = fit.norm;
    pt->cond = fit.cond;
    pt->rcond = fit.rcond;
    pt->rank = (double)fit.rank;
    pt->method = fit.method;
    dd_test_metrics(P, Yt, labels, &pt->test_mse, &pt->test_err);
    /* IMPLREG_BREAK=norm, test-mse: one core number off by 1e-3. */
    if (ir_cli_broken("norm"))
      pt->norm *= 1.0 + 1e-3;
    if (ir_cli_broken("test-mse"))
      pt->test_mse *= 1.0 + 1e-3;
    pt->opt_mse = NAN;
    pt->opt_lambda = NAN;
    if (nl > 0) {
      for (size_t j = 0; j < nl; j++) {
        double mse, err;
        dd_test_metrics(Pr[j], Yt, NULL, &mse, &err);
        if (isnan(pt->opt_mse) || mse < pt->opt_mse) {
          pt->opt_mse = mse;
          pt->opt_lambda = o->ridge[j];
        }
      }
    }
  }
  for (size_t j = 0; j < nl; j++)
    if (Pr[j])
      gsl_matrix_free(Pr[j]);
  free(Pr);
  free(fr);
  if (P)
    gsl_matrix_free(P);
  if (B)
    gsl_matrix_free(B);
  if (Bt)
    gsl_matrix_free(Bt);
  ir_nested_free(w);
  return s == IR_ENOMEM ? ir_error(IR_ENOMEM, "out of memory (sweep)") : s;
}

static int dd_sweep_model(const dd_opts *o, const ir_features *f,
                          const gsl_matrix *Phi, const gsl_matrix *Y,
                          const gsl_matrix *Phit, const gsl_matrix *Yt,
                          const size_t *labels, const size_t *grid, size_t ng,
                          dd_point *pts) {
  return dd_sweep_model_impl(o, f, Phi, Y, Phit, Yt, labels, grid, ng, pts,
                             NULL);
}

/* Features of a data set: Phi (n×Nmax) and Phit for the kind in o, and
 * the map itself in *fout (owned by the caller) for its normalization.
 * Feature j is drawn from its own stream (seed, j), so the features of
 * size N do not depend on Nmax (features.h); the median heuristic, when
 * used, draws its pairs from a separate stream. */
static int dd_features_pre(const dd_opts *o, int kind, const dd_data *d,
                           size_t Nmax, unsigned long seed, ir_features *pre,
                           gsl_matrix **Phi, gsl_matrix **Phit,
                           double *sigma_used, ir_features **fout) {
  *fout = NULL;
  gsl_rng *r = ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_FEATURES, 3, kind));
  if (r == NULL)
    return IR_ENOMEM;
  double sigma = o->sigma;
  int s = IR_OK;
  if (o->sigma_median || !(sigma > 0)) {
    if (kind == IR_FEAT_RFF || kind == IR_FEAT_RFF_PAIR || kind == IR_FEAT_FFT)
      s = ir_features_median_heuristic(d->X, 20000, r, &sigma);
    else
      sigma = 1.0;
  }
  ir_features *f = NULL;
  if (s == IR_OK && pre != NULL) /* drawn while the data loaded */
    f = pre;
  else if (s == IR_OK &&
           (f = ir_features_alloc_streams(
                kind, d->X->size2, Nmax, sigma, seed,
                ir_rng_stream(IR_STREAM_FEATURES, 8, (uint64_t)kind))) == NULL)
    s = IR_ENOMEM;
  /* Phi NULL: the map only (the sweep streams it). */
  if (s == IR_OK && Phi != NULL) {
    *Phi = ir_matrix_alloc_big(d->X->size1, Nmax);
    *Phit = ir_matrix_alloc_big(d->Xt->size1, Nmax);
    if (!*Phi || !*Phit)
      s = ir_error(IR_ENOMEM, "out of memory (features %zu x %zu)", d->X->size1,
                   Nmax);
  }
  if (s == IR_OK && Phi != NULL)
    s = ir_features_apply(f, d->X, Nmax, *Phi);
  if (s == IR_OK && Phi != NULL)
    s = ir_features_apply(f, d->Xt, Nmax, *Phit);
  *sigma_used = sigma;
  if (s == IR_OK)
    *fout = f;
  else
    ir_features_free(f);
  ir_rng_free(r);
  return s;
}

static int dd_features(const dd_opts *o, int kind, const dd_data *d,
                       size_t Nmax, unsigned long seed, gsl_matrix **Phi,
                       gsl_matrix **Phit, double *sigma_used,
                       ir_features **fout) {
  return dd_features_pre(o, kind, d, Nmax, seed, NULL, Phi, Phit, sigma_used,
                         fout);
}

/* ---- Aggregation over seeds into tables
 * -------------------------------------- */

/* mean and std of field `off` of pts[seed·ng + g] over seeds. */
static void dd_mean_std(const dd_point *pts, size_t ng, size_t nseeds, size_t g,
                        size_t off, double *mean, double *std) {
  double x[1024];
  size_t k = 0;
  for (size_t sd = 0; sd < nseeds && k < 1024; sd++) {
    const double v = *(const double *)((const char *)&pts[sd * ng + g] + off);
    if (!isnan(v))
      x[k++] = v;
  }
  *mean = NAN;
  *std = NAN;
  ir_summary sm;
  if (k > 0 && ir_stats_summary(x, k, 0.95, &sm) == IR_OK) {
    *mean = sm.mean;
    *std = sm.std;
  }
}

/* Median and quartiles of field `off` of pts[seed·ng + g] over seeds (NaN
 * values skipped; all NaN when none is left). */
static void dd_quartiles(const dd_point *pts, size_t ng, size_t nseeds,
                         size_t g, size_t off, double q[3]) {
  double x[1024];
  size_t k = 0;
  for (size_t sd = 0; sd < nseeds && k < 1024; sd++) {
    const double v = *(const double *)((const char *)&pts[sd * ng + g] + off);
    if (!isnan(v))
      x[k++] = v;
  }
  q[0] = q[1] = q[2] = NAN;
  if (k == 0)
    return;
  gsl_sort(x, 1, k);
  q[0] = gsl_stats_quantile_from_sorted_data(x, 1, k, 0.25);
  q[1] = gsl_stats_quantile_from_sorted_data(x, 1, k, 0.5);
  q[2] = gsl_stats_quantile_from_sorted_data(x, 1, k, 0.75);
}

/* Sets a numeric column: a plain value for one seed, mean ± std otherwise. */
static void dd_set(ir_table *t, int col, size_t nseeds, double mean,
                   double std) {
  if (isnan(mean))
    return;
  if (nseeds > 1)
    ir_table_set_meanstd(t, col, mean, std);
  else
    ir_table_set_double(t, col, mean);
}

static const char *dd_method_name(int m) {
  switch (m) {
  case IR_NESTED_CHOLESKY: return "cholesky";
  case IR_NESTED_SVD: return "svd";
  case IR_NESTED_COD: return "cod";
  case IR_NESTED_CSNE: return "csne";
  default: return "eigen";
  }
}

/* The model-wise table: one row per N. */
static ir_table *dd_model_table(const char *name, const char *caption, size_t n,
                                const size_t *grid, size_t ng,
                                const dd_point *pts, size_t nseeds,
                                int classification, int ridge, int quartiles,
                                int random_features) {
  ir_table *t = ir_table_alloc(name, caption);
  if (t == NULL)
    return NULL;
  ir_table_add_note(t, "min-norm fit of the first N features; train_mse and "
                       "test_mse are means over samples of ||y_hat - y||^2 "
                       "summed over outputs (one-hot targets for "
                       "classification)");
  if (random_features)
    ir_table_add_note(t, "random features are normalized at each N (sqrt(2/N) "
                         "for rff, sqrt(1/N) for relu): norm and the ridge "
                         "lambda are those of the size-N model "
                         "(docs/theory.md s3)");
  const int vt = nseeds > 1 ? IR_COL_MEANSTD : IR_COL_DOUBLE;
  int cN = ir_table_add_column(t, "N", IR_COL_INT, "model size (features)");
  int cn = ir_table_add_column(t, "n", IR_COL_INT, "training samples");
  int cr = ir_table_add_column(t, "N_over_n", IR_COL_DOUBLE, "N/n");
  int ctr = ir_table_add_column(t, "train_mse", vt, "training MSE");
  int cte = ir_table_add_column(t, "test_mse", vt, "test MSE");
  int cse = nseeds > 1 ? ir_table_add_column(t, "test_mse_se", IR_COL_DOUBLE,
                                             "standard error of the mean "
                                             "test MSE over seeds")
                       : -1;
  const int qt = quartiles && nseeds > 1;
  int cq0 = qt ? ir_table_add_column(t, "test_mse_q25", IR_COL_DOUBLE,
                                     "lower quartile of the test MSE over "
                                     "seeds")
               : -1;
  int cq1 = qt ? ir_table_add_column(t, "test_mse_median", IR_COL_DOUBLE,
                                     "median of the test MSE over seeds")
               : -1;
  int cq2 = qt ? ir_table_add_column(t, "test_mse_q75", IR_COL_DOUBLE,
                                     "upper quartile of the test MSE over "
                                     "seeds")
               : -1;
  int cer = classification ? ir_table_add_column(t, "test_err", vt,
                                                 "test 0-1 error (argmax)")
                           : -1;
  int cno = ir_table_add_column(t, "norm", vt, "||W||_F of the min-norm fit");
  int crk = ir_table_add_column(t, "rank", vt, "numerical rank");
  int cco = ir_table_add_column(t, "cond", vt, "condition number of Phi_N");
  int crc = ir_table_add_column(t, "rcond", IR_COL_DOUBLE,
                                "pseudo-inverse cutoff (SVD route only)");
  int cme = ir_table_add_column(
      t, "method", IR_COL_STRING,
      "cholesky (Gram, well conditioned), cod or svd (Phi_N itself)");
  int cop = ridge ? ir_table_add_column(t, "test_mse_opt_ridge", vt,
                                        "best test MSE over the ridge list")
                  : -1;
  int col = ridge ? ir_table_add_column(t, "opt_lambda", IR_COL_DOUBLE,
                                        "the ridge value achieving it (first "
                                        "seed)")
                  : -1;
  for (size_t g = 0; g < ng; g++) {
    double m, s;
    ir_table_add_row(t);
    ir_table_set_int(t, cN, (long)grid[g]);
    ir_table_set_int(t, cn, (long)n);
    ir_table_set_double(t, cr, (double)grid[g] / (double)n);
#define DD_COL(c, field)                                                       \
  do {                                                                         \
    dd_mean_std(pts, ng, nseeds, g, offsetof(dd_point, field), &m, &s);        \
    dd_set(t, c, nseeds, m, s);                                                \
  } while (0)
    DD_COL(ctr, train_mse);
    DD_COL(cte, test_mse);
    if (cse >= 0 && !isnan(s))
      ir_table_set_double(t, cse, s / sqrt((double)nseeds));
    if (qt) {
      double q[3];
      dd_quartiles(pts, ng, nseeds, g, offsetof(dd_point, test_mse), q);
      ir_table_set_double(t, cq0, q[0]);
      ir_table_set_double(t, cq1, q[1]);
      ir_table_set_double(t, cq2, q[2]);
    }
    if (cer >= 0)
      DD_COL(cer, test_err);
    DD_COL(cno, norm);
    DD_COL(crk, rank);
    DD_COL(cco, cond);
    if (cop >= 0)
      DD_COL(cop, opt_mse);
#undef DD_COL
    if (!isnan(pts[g].rcond))
      ir_table_set_double(t, crc, pts[g].rcond);
    ir_table_set_string(t, cme, dd_method_name(pts[g].method));
    if (col >= 0 && !isnan(pts[g].opt_lambda))
      ir_table_set_double(t, col, pts[g].opt_lambda);
  }
  return t;
}

/* Index of the grid point with the largest mean of a field. */
static size_t dd_argmax(const dd_point *pts, size_t ng, size_t nseeds,
                        size_t off) {
  size_t best = 0;
  double bv = -INFINITY;
  for (size_t g = 0; g < ng; g++) {
    double m, s;
    dd_mean_std(pts, ng, nseeds, g, off, &m, &s);
    if (m > bv) {
      bv = m;
      best = g;
    }
  }
  return best;
}

/* Index of the grid point closest to N = n. */
static size_t dd_threshold_index(const size_t *grid, size_t ng, size_t n) {
  size_t best = 0;
  for (size_t g = 1; g < ng; g++)
    if (llabs((long long)grid[g] - (long long)n) <
        llabs((long long)grid[best] - (long long)n))
      best = g;
  return best;
}

/* ---- The run: options, outputs, checks
 * --------------------------------------- */

typedef struct {
  const dd_opts *o;
  ir_checks *checks;
  ir_table *tables[12];
  size_t ntables;
  ir_figure *figs[12];
  size_t nfigs;
  ir_cli_config *cfg;
} dd_run;

static int dd_keep_table(dd_run *r, ir_table *t) {
  if (t == NULL)
    return ir_error(IR_ENOMEM, "out of memory (table)");
  r->tables[r->ntables++] = t;
  return IR_OK;
}

static int dd_keep_fig(dd_run *r, ir_figure *f) {
  if (f == NULL)
    return ir_error(IR_ENOMEM, "out of memory (figure)");
  r->figs[r->nfigs++] = f;
  return IR_OK;
}

/* Loads the Fashion-MNIST subset for a seed, with label noise. */
static int dd_load_fashion(const dd_opts *o, size_t n, unsigned long seed,
                           dd_data *d) {
  gsl_rng *r = ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_DATA, 3, n));
  ir_dataset *tr = NULL, *te = NULL;
  int s = r ? IR_OK : IR_ENOMEM;
  if (s == IR_OK)
    s = ir_data_fashion_mnist(NULL, 0, n, r, &tr);
  if (s == IR_OK)
    s = ir_data_fashion_mnist(NULL, 1, o->ntest, r, &te);
  if (s == IR_OK && o->label_noise > 0)
    s = ir_data_label_noise(tr, o->label_noise, r);
  if (s == IR_OK)
    dd_take(tr, te, d);
  else {
    ir_dataset_free(tr);
    ir_dataset_free(te);
  }
  ir_rng_free(r);
  return s;
}

/* The size-N model solved directly, independently of the nested sweep: the
 * map applied at N (its own normalization), the least-squares (min-norm)
 * solution by the QR (LQ) factorization of Φ_N (dgels; the SVD, dgelsd, took
 * 45% of a run at n = 4000), ‖W‖ and the test MSE. */
static int dd_direct(const ir_features *f, const dd_data *d, size_t N,
                     double *norm, double *mse) {
  const size_t n = d->X->size1, nt = d->Xt->size1, K = d->Y->size2;
  gsl_matrix *A = ir_matrix_alloc_big(n, N), *At = ir_matrix_alloc_big(nt, N);
  gsl_matrix *W = gsl_matrix_alloc(N, K), *P = gsl_matrix_alloc(nt, K);
  int s = (A && At && W && P) ? IR_OK : ir_error(IR_ENOMEM, "out of memory");
  if (s == IR_OK)
    s = ir_features_apply(f, d->X, N, A);
  if (s == IR_OK)
    s = ir_features_apply(f, d->Xt, N, At);
  /* Φ_N has full rank at the two sizes (away from the threshold): its
   * QR (or LQ) factorization gives the least-squares (min-norm) solution
   * with the SVD's backward stability at a fraction of its cost. */
  if (s == IR_OK)
    s = ir_linalg_lstsq_qr(A, d->Y, W);
  if (s == IR_OK) {
    double err;
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, At, W, 0.0, P);
    dd_test_metrics(P, d->Yt, NULL, mse, &err);
    *norm = ir_matrix_fro(W);
  }
  gsl_matrix *m[] = {A, At, W, P};
  for (int i = 0; i < 4; i++)
    if (m[i])
      gsl_matrix_free(m[i]);
  return s;
}

/* Features drawn on a thread of their own (ir_features_alloc_streams with
 * dd_features' streams) while the data load; f NULL when it failed (the
 * draw is then repeated, and its error reported, by dd_features_pre). */
#define DD_FMNIST_D 784 /* 28×28 pixels */
#define DD_HOLD_BYTES 4e9 /* Φ and Φt held whole up to 4 GB */
typedef struct {
  int kind;
  size_t d, Nmax;
  double sigma;
  unsigned long seed;
  ir_features *f;
} dd_draw_job;

static void *dd_draw_thread(void *arg) {
  dd_draw_job *j = arg;
  j->f = ir_features_alloc_streams(
      j->kind, j->d, j->Nmax, j->sigma, j->seed,
      ir_rng_stream(IR_STREAM_FEATURES, 8, (uint64_t)j->kind));
  return NULL;
}

/* Model-wise sweep on Fashion-MNIST with random features. */
static int dd_exp_model_fashion(dd_run *run) {
  const dd_opts *o = run->o;
  const size_t n = o->n, nseeds = o->common.seeds;
  const int kind = o->features ? o->features : IR_FEAT_RFF;
  size_t ng = 0, *grid = NULL;
  if (o->ngrid > 0) {
    grid = malloc(o->ngrid * sizeof *grid);
    if (grid != NULL)
      for (size_t i = 0; i < o->ngrid; i++)
        grid[i] = (size_t)o->grid[i];
    ng = o->ngrid;
  } else {
    grid = dd_default_grid(n, o->Nmax, o->points, &ng);
  }
  dd_point *pts = calloc(ng * nseeds, sizeof *pts);
  if (grid == NULL || pts == NULL) {
    free(grid);
    free(pts);
    return ir_error(IR_ENOMEM, "out of memory");
  }
  const size_t Nmax = grid[ng - 1];
  /* Feature matrices larger than DD_HOLD_BYTES are streamed in column
   * blocks (nested.h): the first Nkeep columns held — the first grid size
   * >= 2n, past the threshold's ill-conditioned sizes — and the rest
   * consumed as they are made.  Same numbers within the prefix, rounding
   * past it.  Only the dense random kinds can be applied in blocks. */
  const double hold = (double)(n + o->ntest) * (double)Nmax * sizeof(double);
  /* IMPLREG_DD_HOLD (bytes) replaces the limit: tests stream small runs. */
  const char *hv = getenv("IMPLREG_DD_HOLD");
  const double hold_max = hv != NULL ? strtod(hv, NULL) : DD_HOLD_BYTES;
  const int stream = hold > hold_max &&
                     (kind == IR_FEAT_RFF || kind == IR_FEAT_RELU ||
                      kind == IR_FEAT_RELU_CENTERED ||
                      kind == IR_FEAT_RELU_SPHERE);
  size_t Nkeep = Nmax;
  for (size_t g = ng; stream && g-- > 0;)
    if (grid[g] >= 2 * n)
      Nkeep = grid[g];
  if (Nkeep < n)
    Nkeep = n < Nmax ? n : Nmax;
  double sigma_used = NAN, direct_dev = 0;
  size_t direct_N[2] = {0, 0};
  int s = IR_OK;
  for (size_t sd = 0; sd < nseeds && s == IR_OK; sd++) {
    dd_data d;
    memset(&d, 0, sizeof d);
    gsl_matrix *Phi = NULL, *Phit = NULL;
    ir_features *f = NULL;
    ir_cli_progress(&o->common, AN,
                    "model-wise, Fashion-MNIST n = %zu, %s "
                    "features up to N = %zu, seed %lu",
                    n, ir_features_name(kind), Nmax, o->common.seed + sd);
    double t0 = ir_wall_time();
    /* With the bandwidth given, the features (which do not depend on the
     * data, only on its dimension) are drawn while the data decompress. */
    dd_draw_job dj = {kind, DD_FMNIST_D, Nmax, o->sigma,
                      o->common.seed + sd, NULL};
    pthread_t tid;
    const int early = !o->sigma_median && o->sigma > 0 &&
                      pthread_create(&tid, NULL, dd_draw_thread, &dj) == 0;
    s = dd_load_fashion(o, n, o->common.seed + sd, &d);
    if (early) {
      pthread_join(tid, NULL);
      if (dj.f != NULL && (s != IR_OK || d.X->size2 != DD_FMNIST_D)) {
        ir_features_free(dj.f); /* not the dimension assumed: drawn again */
        dj.f = NULL;
      }
    }
    double t1 = ir_wall_time();
    dd_t.load += t1 - t0;
    if (s == IR_OK)
      s = dd_features_pre(o, kind, &d, Nmax, o->common.seed + sd, dj.f,
                          stream ? NULL : &Phi, &Phit, &sigma_used, &f);
    dd_t.features += ir_wall_time() - t1;
    const dd_stream st = {d.X, d.Xt, Nkeep, Nmax};
    if (s == IR_OK)
      s = dd_sweep_model_impl(o, f, Phi, d.Y, Phit, d.Yt, d.labels_t, grid,
                              ng, pts + sd * ng, stream ? &st : NULL);
    t1 = ir_wall_time();
    /* First seed: two sizes, one on each side of N = n, solved directly. */
    for (int k = 0; k < 2 && s == IR_OK && sd == 0; k++) {
      const size_t g = dd_threshold_index(grid, ng, k == 0 ? n / 2 : 2 * n);
      double nm = NAN, ms = NAN;
      if ((s = dd_direct(f, &d, grid[g], &nm, &ms)) != IR_OK)
        break;
      const dd_point *pt = &pts[g];
      const double cd = pt->cond; /* the nested route's estimate */
      const double dev =
          fmax(fabs(pt->norm - nm) / nm, fabs(pt->test_mse - ms) / ms);
      /* The nested route solves the Gram system by Cholesky (forward
       * error ~eps·cond(Gram) = eps·cond(Φ_N)²) or factors Φ_N itself
       * (~eps·cond); the QR solve adds ~eps·cond. */
      const double tol = 100 * DBL_EPSILON * cd * cd;
      direct_dev = fmax(direct_dev, dev / tol);
      direct_N[k] = grid[g];
    }
    dd_t.direct += ir_wall_time() - t1;
    ir_features_free(f);
    if (Phi)
      gsl_matrix_free(Phi);
    if (Phit)
      gsl_matrix_free(Phit);
    dd_data_free(&d);
  }
  if (s != IR_OK)
    goto done;
  ir_cli_config_set(run->cfg, "derived.sigma_model", "%.17g", sigma_used);
  if (stream)
    ir_cli_config_set(run->cfg, "derived.streamed_after", "%zu", Nkeep);
  char cap[160];
  snprintf(cap, sizeof cap,
           "Model-wise double descent: Fashion-MNIST, n = %zu, "
           "%s features (sigma = %.4g)",
           n, ir_features_name(kind), sigma_used);
  int ridge = !o->no_ridge && o->nridge > 0;
  if ((s = dd_keep_table(run, dd_model_table("model", cap, n, grid, ng, pts,
                                             nseeds, 1, ridge, 0, 1))) != IR_OK)
    goto done;
  /* Checks (Belkin, Hsu, Ma, Mandal, arXiv:1812.11118; docs/theory.md §3). */
  const char *src = "Belkin et al. 2019 arXiv:1812.11118";
  const size_t ti = dd_threshold_index(grid, ng, n);
  const double step =
      (double)(ti + 1 < ng ? grid[ti + 1] - grid[ti] : grid[ti] - grid[ti - 1]);
  size_t pk = dd_argmax(pts, ng, nseeds, offsetof(dd_point, test_mse));
  ir_checks_add(run->checks,
                "[model] test MSE peaks within one grid step "
                "of the interpolation threshold N = n (N at the peak)",
                src, (double)n, (double)grid[pk], step,
                pk + 1 >= ti && pk <= ti + 1);
  char claim[240];
  snprintf(claim, sizeof claim,
           "[model] the nested sweep equals the size-N model solved directly "
           "(features at N, QR/LQ of Phi_N) at N = %zu and %zu: largest relative "
           "difference of ||W|| and test MSE in units of 100 eps "
           "cond(Phi_N)^2",
           direct_N[0], direct_N[1]);
  ir_checks_add_max(run->checks, claim, "docs/theory.md s3 (feature scaling)",
                    0, direct_dev, 1);
  pk = dd_argmax(pts, ng, nseeds, offsetof(dd_point, norm));
  ir_checks_add(run->checks,
                "[model] ||W|| peaks within one grid step of "
                "N = n (N at the peak)",
                src, (double)n, (double)grid[pk], step,
                pk + 1 >= ti && pk <= ti + 1);
  /* Interpolation for N >= n: the residual of a backward-stable solve is
   * ~eps·cond(Φ_N)·‖y‖ per sample, ‖y‖ = 1 for one-hot targets, so the
   * training MSE is measured in units of (100 eps cond)². */
  double worst = 0;
  for (size_t g = 0; g < ng; g++)
    if (grid[g] >= n)
      for (size_t sd = 0; sd < nseeds; sd++) {
        const dd_point *pt = &pts[sd * ng + g];
        const double u = 100 * DBL_EPSILON * fmax(pt->cond, 1.0);
        worst = fmax(worst, pt->train_mse / (u * u));
      }
  ir_checks_add_max(run->checks,
                    "[model] min-norm fits interpolate for N >= n: largest "
                    "training MSE over N >= n and seeds, in units of "
                    "(100 eps cond(Phi_N))^2",
                    src, 0, worst, 1);
  size_t ups = 0;
  for (size_t g = pk + 1; g < ng; g++) {
    double a, b, sa, sb;
    dd_mean_std(pts, ng, nseeds, g - 1, offsetof(dd_point, norm), &a, &sa);
    dd_mean_std(pts, ng, nseeds, g, offsetof(dd_point, norm), &b, &sb);
    ups += b > a;
  }
  ir_checks_add_max(run->checks,
                    "[model] ||W|| decreases past the threshold "
                    "(number of increases after the peak)",
                    src, 0, (double)ups, 0);
  if (ridge) {
    double at, sat, best_before = INFINITY;
    dd_mean_std(pts, ng, nseeds, ti, offsetof(dd_point, opt_mse), &at, &sat);
    for (size_t g = 0; g < ti; g++) {
      double m, sm;
      dd_mean_std(pts, ng, nseeds, g, offsetof(dd_point, opt_mse), &m, &sm);
      best_before = fmin(best_before, m);
    }
    double mn, smn;
    dd_mean_std(pts, ng, nseeds, ti, offsetof(dd_point, test_mse), &mn, &smn);
    snprintf(claim, sizeof claim,
             "[model] optimally tuned ridge has no peak: its test MSE at "
             "N = n over its best at N < n is <= 1 (+5%% for the finite "
             "lambda list; min-norm's ratio: %.3g)",
             mn / best_before);
    ir_checks_add_max(run->checks, claim,
                      "Nakkiran et al. 2020 arXiv:2003.01897; docs/theory.md "
                      "s2",
                      1.0, at / best_before, 1.05);
  }
  /* Figures: test MSE and norm against N/n, threshold marked. */
  double *x = malloc(ng * sizeof *x), *y1 = malloc(ng * sizeof *y1);
  double *y2 = malloc(ng * sizeof *y2), *y3 = malloc(ng * sizeof *y3);
  double *e1 = malloc(ng * sizeof *e1);
  if (!x || !y1 || !y2 || !y3 || !e1) {
    free(x);
    free(y1);
    free(y2);
    free(y3);
    free(e1);
    s = ir_error(IR_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t g = 0; g < ng; g++) {
    double sdv;
    x[g] = (double)grid[g] / (double)n;
    dd_mean_std(pts, ng, nseeds, g, offsetof(dd_point, test_mse), &y1[g], &sdv);
    e1[g] = sdv / sqrt((double)nseeds);
    dd_mean_std(pts, ng, nseeds, g, offsetof(dd_point, opt_mse), &y2[g], &sdv);
    dd_mean_std(pts, ng, nseeds, g, offsetof(dd_point, norm), &y3[g], &sdv);
  }
  ir_figure *f = ir_figure_alloc("model_risk", cap, "N / n (log scale)",
                                 "test MSE (log scale)");
  if ((s = dd_keep_fig(run, f)) == IR_OK) {
    ir_figure_set_log(f, 1, 1);
    ir_figure_add_series_err(
        f, nseeds > 1 ? "min-norm (mean ± standard error over seeds)"
                      : "min-norm",
        x, y1, nseeds > 1 ? e1 : NULL, ng, "linespoints");
    if (ridge)
      ir_figure_add_series(f, "optimal ridge", x, y2, ng, "linespoints");
    ir_figure_add_vline(f, 1.0, "N = n");
    ir_figure_set_key(f, "top left"); /* the peak is at N = n, mid-plot */
    f = ir_figure_alloc("model_norm", "Norm of the min-norm solution",
                        "N / n (log scale)", "‖W‖_F (log scale)");
    if ((s = dd_keep_fig(run, f)) == IR_OK) {
      ir_figure_set_log(f, 1, 1);
      ir_figure_add_series(f, "‖W‖_F", x, y3, ng, "linespoints");
      ir_figure_add_vline(f, 1.0, "N = n");
    }
  }
  free(x);
  free(y1);
  free(y2);
  free(y3);
  free(e1);
done:
  free(grid);
  free(pts);
  return s;
}

/* ---- The isotropic linear model (Hastie et al.)
 * -------------------------------- */

/* Excess risk ‖β̂ − β‖² of the min-norm estimator on fresh data y = xᵀβ + ε,
 * x ~ N(0, I_p): for isotropic x the excess test risk equals that distance. */
static int dd_linear_risk(size_t n, size_t p, double r2, double sigma2,
                          unsigned long seed, double rcond, double *risk) {
  /* IMPLREG_BREAK=linear-noise: the data drawn with σ in place of σ². */
  if (ir_cli_broken("linear-noise"))
    sigma2 = sqrt(sigma2);
  gsl_rng *r = ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_DATA, 4 + n, p));
  double *beta = malloc(p * sizeof *beta);
  gsl_matrix *W = gsl_matrix_alloc(p, 1);
  ir_dataset *tr = NULL;
  int s = (r && beta && W) ? IR_OK : ir_error(IR_ENOMEM, "out of memory");
  ir_teacher_params tp = {n, 0, p, r2, sigma2, NULL, 0};
  if (s == IR_OK)
    s = ir_data_linear_teacher(&tp, r, &tr, NULL, beta);
  if (s == IR_OK)
    s = ir_minnorm_solve(tr->X, tr->Y, IR_MINNORM_SVD, rcond, 1.0, W, NULL);
  if (s == IR_OK) {
    double e = 0;
    for (size_t j = 0; j < p; j++) {
      double d = gsl_matrix_get(W, j, 0) - beta[j];
      e += d * d;
    }
    *risk = e;
  }
  ir_dataset_free(tr);
  ir_rng_free(r);
  free(beta);
  if (W)
    gsl_matrix_free(W);
  return s;
}

/* Mean and standard error over seeds of the linear model's risk. */
static int dd_linear_mc(const dd_opts *o, size_t n, size_t p, double r2,
                        double sigma2, size_t nseeds, ir_summary *sm) {
  double *x = malloc(nseeds * sizeof *x);
  if (x == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  int s = IR_OK;
  for (size_t sd = 0; sd < nseeds && s == IR_OK; sd++)
    s = dd_linear_risk(n, p, r2, sigma2, o->common.seed + sd, o->rcond, &x[sd]);
  if (s == IR_OK)
    s = ir_stats_summary(x, nseeds, 0.95, sm);
  free(x);
  return s;
}

/* A risk-against-ratio table and figure with the exact and asymptotic
 * theory, and the largest z-score against the exact formula. */
typedef struct {
  size_t n, p;
  ir_summary sm;
  double exact, asym;
} dd_lin_pt;

/* One point: measured risk over seeds, exact and asymptotic theory. */
static int dd_linear_point(const dd_opts *o, size_t n, size_t p, double r2,
                           double sigma2, size_t nseeds, dd_lin_pt *q) {
  double b, v;
  q->n = n;
  q->p = p;
  int s = dd_linear_mc(o, n, p, r2, sigma2, nseeds, &q->sm);
  if (s == IR_OK)
    s = ir_theory_hastie_exact(n, p, r2, sigma2, &b, &v);
  if (s != IR_OK)
    return s;
  q->exact = b + v;
  if ((s = ir_theory_hastie((double)p / (double)n, r2, sigma2, &b, &v)) !=
      IR_OK)
    return s;
  q->asym = b + v;
  return IR_OK;
}

/* Monte-Carlo checks judge a mean by its own standard error; with fewer
 * draws than this the standard error is itself too uncertain (a 4-SE band
 * from 5 draws is a t-quantile with 4 degrees of freedom: 1.6% false alarms
 * per point, about 20% over a dozen points), so the check is not made and
 * the table says so. */
#define DD_MIN_MC 20
#define DD_MIN_MC_RELU 8

static int dd_linear_outputs(dd_run *run, const char *name, const char *cap,
                             const char *xname, const dd_lin_pt *pt, size_t m,
                             int over_n, double *zmax) {
  ir_table *t = ir_table_alloc(name, cap);
  if (t == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  ir_table_add_note(t, "risk = ||beta_hat - beta||^2, the excess test risk of "
                       "the min-norm estimator for x ~ N(0, I); mean, std "
                       "and standard error over seeds (fresh data each)");
  if (m > 0 && pt[0].sm.n < DD_MIN_MC)
    ir_table_add_note(t, "z is shown but nothing here is checked: fewer "
                         "than 20 Monte-Carlo seeds leave the standard error "
                         "itself too uncertain (give --seeds 20 or more)");
  int c[9];
  c[0] = ir_table_add_column(t, "n", IR_COL_INT, "training samples");
  c[1] = ir_table_add_column(t, "p", IR_COL_INT, "features");
  c[2] = ir_table_add_column(t, xname, IR_COL_DOUBLE,
                             over_n ? "gamma = p/n" : "n/p");
  c[3] = ir_table_add_column(t, "risk", IR_COL_MEANSTD, "measured risk");
  c[4] = ir_table_add_column(t, "risk_se", IR_COL_DOUBLE, "standard error");
  c[5] = ir_table_add_column(t, "risk_theory", IR_COL_DOUBLE,
                             "exact finite-n expectation (Hastie et al. s2)");
  c[6] = ir_table_add_column(t, "risk_asymptotic", IR_COL_DOUBLE,
                             "limit n, p -> infinity at this ratio");
  c[7] = ir_table_add_column(t, "z", IR_COL_DOUBLE,
                             "(measured - exact) / standard error");
  double *x = malloc(m * sizeof *x), *y = malloc(m * sizeof *y);
  double *ye = malloc(m * sizeof *ye), *ya = malloc(m * sizeof *ya);
  double *yse = malloc(m * sizeof *yse);
  if (!x || !y || !ye || !ya || !yse) {
    free(x);
    free(y);
    free(ye);
    free(ya);
    free(yse);
    ir_table_free(t);
    return ir_error(IR_ENOMEM, "out of memory");
  }
  *zmax = 0;
  for (size_t i = 0; i < m; i++) {
    const dd_lin_pt *q = &pt[i];
    double ratio =
        over_n ? (double)q->p / (double)q->n : (double)q->n / (double)q->p;
    double z = (q->sm.mean - q->exact) / q->sm.sem;
    *zmax = fmax(*zmax, fabs(z));
    ir_table_add_row(t);
    ir_table_set_int(t, c[0], (long)q->n);
    ir_table_set_int(t, c[1], (long)q->p);
    ir_table_set_double(t, c[2], ratio);
    ir_table_set_meanstd(t, c[3], q->sm.mean, q->sm.std);
    ir_table_set_double(t, c[4], q->sm.sem);
    ir_table_set_double(t, c[5], q->exact);
    ir_table_set_double(t, c[6], q->asym);
    ir_table_set_double(t, c[7], z);
    x[i] = ratio;
    y[i] = q->sm.mean;
    yse[i] = q->sm.sem;
    ye[i] = q->exact;
    ya[i] = q->asym;
  }
  int s = dd_keep_table(run, t);
  ir_figure *f = NULL;
  if (s == IR_OK)
    s = dd_keep_fig(run, f = ir_figure_alloc(name, cap,
                                             over_n ? "gamma = p/n (log scale)"
                                                    : "n/p (log scale)",
                                             "excess risk (log scale)"));
  if (s == IR_OK) {
    ir_figure_set_log(f, 1, 1);
    ir_figure_add_series_err(f, "measured (mean ± standard error over seeds)",
                             x, y, yse, m, "points");
    ir_figure_add_series(f, "exact finite-n theory", x, ye, m, "lines");
    ir_figure_add_series(f, "asymptotic theory", x, ya, m, "lines dashtype 2");
    ir_figure_add_vline(f, 1.0, over_n ? "p = n" : "n = p");
  }
  free(x);
  free(y);
  free(ye);
  free(ya);
  free(yse);
  return s;
}

/* Model-wise: n fixed, p over a grid of gamma (docs/theory.md §2). */
static int dd_exp_model_linear(dd_run *run) {
  const dd_opts *o = run->o;
  const size_t n = o->n_set ? o->n : (o->common.quick ? 50 : 100);
  const size_t nseeds =
      o->common.seeds > 1 ? o->common.seeds : (o->common.quick ? 30 : 100);
  const double r2 = isnan(o->r2) ? 1.0 : o->r2;
  const double sigma2 = isnan(o->sigma2) ? 0.25 : o->sigma2;
  static const double gam[] = {0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9,
                               1.1, 1.2, 1.3, 1.5, 2.0, 3.0, 4.0};
  const size_t m = sizeof gam / sizeof gam[0];
  dd_lin_pt pt[sizeof gam / sizeof gam[0]];
  size_t k = 0;
  int s = IR_OK;
  for (size_t i = 0; i < m && s == IR_OK; i++) {
    const size_t p = (size_t)llround(gam[i] * (double)n);
    if (p + 2 > n && p < n + 2)
      continue; /* the exact risk is infinite at p in {n-1, n, n+1} */
    ir_cli_progress(&o->common, AN, "linear model: n = %zu, p = %zu, %zu seeds",
                    n, p, nseeds);
    if ((s = dd_linear_point(o, n, p, r2, sigma2, nseeds, &pt[k])) != IR_OK)
      break;
    k++;
  }
  if (s != IR_OK)
    return s;
  double zmax;
  char cap[160];
  snprintf(cap, sizeof cap,
           "Isotropic linear model, min-norm least squares: "
           "risk against γ = p/n (n = %zu, r² = %g, σ² = %g)",
           n, r2, sigma2);
  if ((s = dd_linear_outputs(run, "model_linear", cap, "gamma", pt, k, 1,
                             &zmax)) != IR_OK)
    return s;
  /* |z| <= 4: a 4-sigma band for each of ~12 points (the risk's sampling
   * distribution is skewed near gamma = 1, where the band is widest). */
  if (nseeds < DD_MIN_MC)
    return IR_OK;
  ir_checks_add_max(run->checks,
                    "[linear] measured risk matches Hastie et "
                    "al.'s exact finite-n formula at every gamma (largest "
                    "|measured - exact| / standard error)",
                    "Hastie et al. arXiv:1903.08560 s2", 0, zmax, 4);
  return IR_OK;
}

/* Sample-wise: p fixed, n over a grid (Nakkiran, arXiv:1912.07242). */
static int dd_exp_samples_linear(dd_run *run) {
  const dd_opts *o = run->o;
  const size_t p = o->p ? o->p : (o->common.quick ? 50 : 100);
  const size_t nseeds =
      o->common.seeds > 1 ? o->common.seeds : (o->common.quick ? 30 : 100);
  const double r2 = isnan(o->r2) ? 1.0 : o->r2;
  const double sigma2 = isnan(o->sigma2) ? 0.1 : o->sigma2;
  static const double ratio[] = {0.2,  0.3, 0.5, 0.6, 0.75, 0.9, 0.95,
                                 1.05, 1.1, 1.3, 1.6, 2.0,  3.0};
  const size_t m = sizeof ratio / sizeof ratio[0];
  dd_lin_pt pt[sizeof ratio / sizeof ratio[0]];
  size_t k = 0, i75 = 0, i90 = 0;
  int s = IR_OK;
  for (size_t i = 0; i < m && s == IR_OK; i++) {
    const size_t n = (size_t)llround(ratio[i] * (double)p);
    if (p + 2 > n && p < n + 2)
      continue;
    ir_cli_progress(&o->common, AN, "sample-wise: p = %zu, n = %zu", p, n);
    if ((s = dd_linear_point(o, n, p, r2, sigma2, nseeds, &pt[k])) != IR_OK)
      break;
    if (ratio[i] == 0.75)
      i75 = k;
    if (ratio[i] == 0.9)
      i90 = k;
    k++;
  }
  if (s != IR_OK)
    return s;
  double zmax;
  char cap[160];
  snprintf(cap, sizeof cap,
           "Sample-wise: isotropic linear model, p = %zu, "
           "r² = %g, σ² = %g, risk against n/p",
           p, r2, sigma2);
  if ((s = dd_linear_outputs(run, "samples", cap, "n_over_p", pt, k, 0,
                             &zmax)) != IR_OK)
    return s;
  if (nseeds < DD_MIN_MC)
    return IR_OK; /* the table's note says why nothing is checked */
  ir_checks_add_max(run->checks,
                    "[samples] measured risk matches the exact "
                    "finite-n formula at every n (largest |z|)",
                    "Hastie et al. arXiv:1903.08560 s2", 0, zmax, 4);
  /* More data hurts: the risk at n = 0.9p exceeds that at n = 0.75p,
   * significantly (the difference minus two standard errors > 0). */
  const dd_lin_pt *a = &pt[i75], *b = &pt[i90];
  const double diff = b->sm.mean - a->sm.mean;
  const double se = sqrt(a->sm.sem * a->sm.sem + b->sm.sem * b->sm.sem);
  ir_checks_add(run->checks,
                "[samples] more data hurts: risk(n = 0.9p) - "
                "risk(n = 0.75p) > 2 standard errors",
                "Nakkiran arXiv:1912."
                "07242; docs/theory.md s2",
                b->exact - a->exact, diff, 2 * se, diff > 2 * se);
  return IR_OK;
}

/* ---- Sample-wise on Fashion-MNIST features
 * ------------------------------------ */

/* N random Fourier features fixed, n over a grid around N: the first n rows
 * of one training draw of 3N images, min-norm fit of each (dgelsd, since
 * the row set changes, not the columns).  Test error peaks at n = N: more
 * data hurts there (Nakkiran, arXiv:1912.07242). */
static int dd_exp_samples_fashion(dd_run *run) {
  const dd_opts *o = run->o;
  const size_t N = o->common.quick ? 150 : 500, nseeds = o->common.seeds;
  static const double ratio[] = {0.2,  0.4, 0.6,  0.8, 0.9, 0.95, 1.0,
                                 1.05, 1.1, 1.25, 1.5, 2.0, 3.0};
  const size_t ng = sizeof ratio / sizeof ratio[0];
  size_t grid[sizeof ratio / sizeof ratio[0]];
  for (size_t g = 0; g < ng; g++)
    grid[g] = (size_t)llround(ratio[g] * (double)N);
  const size_t nmax = grid[ng - 1];
  dd_point *pts = calloc(ng * nseeds, sizeof *pts);
  if (pts == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  int s = IR_OK;
  for (size_t sd = 0; sd < nseeds && s == IR_OK; sd++) {
    const unsigned long seed = o->common.seed + sd;
    ir_cli_progress(&o->common, AN,
                    "sample-wise, Fashion-MNIST: N = %zu, n "
                    "up to %zu, seed %lu",
                    N, nmax, seed);
    dd_data d;
    memset(&d, 0, sizeof d);
    gsl_matrix *Phi = NULL, *Phit = NULL, *P = NULL;
    double sg;
    ir_features *f = NULL;
    s = dd_load_fashion(o, nmax, seed, &d);
    if (s == IR_OK)
      s = dd_features(o, o->features ? o->features : IR_FEAT_RFF, &d, N, seed,
                      &Phi, &Phit, &sg, &f);
    ir_features_free(f);
    if (s == IR_OK && sd == 0)
      ir_cli_config_set(run->cfg, "derived.sigma_samples", "%.17g", sg);
    if (s == IR_OK && (P = gsl_matrix_alloc(Phit->size1, d.Y->size2)) == NULL)
      s = ir_error(IR_ENOMEM, "out of memory");
    for (size_t g = 0; g < ng && s == IR_OK; g++) {
      const size_t n = grid[g], K = d.Y->size2;
      gsl_matrix_const_view A = gsl_matrix_const_submatrix(Phi, 0, 0, n, N);
      gsl_matrix_const_view B = gsl_matrix_const_submatrix(d.Y, 0, 0, n, K);
      gsl_matrix *W = gsl_matrix_alloc(N, K);
      ir_minnorm_diag dg;
      s = W ? ir_minnorm_solve(&A.matrix, &B.matrix, IR_MINNORM_SVD, o->rcond,
                               1.0, W, &dg)
            : IR_ENOMEM;
      if (s == IR_OK) {
        dd_point *pt = &pts[sd * ng + g];
        gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, Phit, W, 0.0, P);
        dd_test_metrics(P, d.Yt, d.labels_t, &pt->test_mse, &pt->test_err);
        pt->train_mse = dg.residual * dg.residual / (double)n;
        pt->norm = dg.norm;
        pt->rank = (double)dg.rank;
        pt->cond = dg.cond;
        pt->rcond = dg.rcond;
        pt->method = IR_NESTED_SVD;
        pt->opt_mse = pt->opt_lambda = NAN;
      }
      if (W)
        gsl_matrix_free(W);
    }
    gsl_matrix *mm[] = {Phi, Phit, P};
    for (int i = 0; i < 3; i++)
      if (mm[i])
        gsl_matrix_free(mm[i]);
    dd_data_free(&d);
  }
  if (s != IR_OK) {
    free(pts);
    return s;
  }
  char cap[160];
  snprintf(cap, sizeof cap,
           "Sample-wise: Fashion-MNIST, N = %zu random "
           "Fourier features, n training images",
           N);
  ir_table *t = ir_table_alloc("samples_fashion", cap);
  if ((s = dd_keep_table(run, t)) != IR_OK) {
    free(pts);
    return s;
  }
  ir_table_add_note(t, "min-norm fit on the first n images of one draw; "
                       "MSEs are means over samples of ||y_hat - y||^2 "
                       "summed over the 10 one-hot outputs");
  const int vt = nseeds > 1 ? IR_COL_MEANSTD : IR_COL_DOUBLE;
  int cn = ir_table_add_column(t, "n", IR_COL_INT, "training samples");
  int cN = ir_table_add_column(t, "N", IR_COL_INT, "features");
  int cr = ir_table_add_column(t, "n_over_N", IR_COL_DOUBLE, NULL);
  int ctr = ir_table_add_column(t, "train_mse", vt, NULL);
  int cte = ir_table_add_column(t, "test_mse", vt, NULL);
  int cer = ir_table_add_column(t, "test_err", vt, "test 0-1 error");
  int cno = ir_table_add_column(t, "norm", vt, "||W||_F");
  int cco = ir_table_add_column(t, "cond", vt, "cond of the n x N features");
  double x[16], y[16], ys[16];
  int cse = nseeds > 1 ? ir_table_add_column(t, "test_mse_se", IR_COL_DOUBLE,
                                             "standard error of the mean "
                                             "test MSE over seeds")
                       : -1;
  for (size_t g = 0; g < ng; g++) {
    double m, sdv;
    ir_table_add_row(t);
    ir_table_set_int(t, cn, (long)grid[g]);
    ir_table_set_int(t, cN, (long)N);
    ir_table_set_double(t, cr, ratio[g]);
    const int cols[5] = {ctr, cte, cer, cno, cco};
    const size_t offs[5] = {offsetof(dd_point, train_mse),
                            offsetof(dd_point, test_mse),
                            offsetof(dd_point, test_err),
                            offsetof(dd_point, norm), offsetof(dd_point, cond)};
    for (int c = 0; c < 5; c++) {
      dd_mean_std(pts, ng, nseeds, g, offs[c], &m, &sdv);
      dd_set(t, cols[c], nseeds, m, sdv);
    }
    dd_mean_std(pts, ng, nseeds, g, offsetof(dd_point, test_mse), &y[g], &sdv);
    ys[g] = sdv / sqrt((double)nseeds);
    if (cse >= 0)
      ir_table_set_double(t, cse, ys[g]);
    x[g] = ratio[g];
  }
  const size_t pk = dd_argmax(pts, ng, nseeds, offsetof(dd_point, test_mse));
  const size_t ti = dd_threshold_index(grid, ng, N);
  ir_checks_add(run->checks,
                "[samples, Fashion-MNIST] more data hurts near "
                "n = N: test MSE peaks within one grid step of n = N (n at "
                "the peak)",
                "Nakkiran arXiv:1912.07242", (double)N, (double)grid[pk],
                (double)(grid[ti + 1] - grid[ti]),
                pk + 1 >= ti && pk <= ti + 1);
  free(pts);
  ir_figure *f = ir_figure_alloc("samples_fashion", cap, "n / N (log scale)",
                                 "test MSE (log scale)");
  if ((s = dd_keep_fig(run, f)) == IR_OK) {
    ir_figure_set_log(f, 1, 1);
    ir_figure_add_series_err(
        f, nseeds > 1 ? "min-norm (mean ± standard error over seeds)"
                      : "min-norm",
        x, y, nseeds > 1 ? ys : NULL, ng, "linespoints");
    ir_figure_add_vline(f, 1.0, "n = N");
  }
  return s;
}

/* ---- Random ReLU features on the sphere (Mei & Montanari)
 * --------------------- */

/* Ridgeless random-features regression in the proportional regime of
 * arXiv:1908.05355: x and θ_a uniform on the sphere of radius √d, target
 * ⟨β, x⟩ + ε (F1 = 1, F* = 0, τ² = 0.1), n = ψ2·d = 3d, N = ψ1·d.  The test
 * targets are noiseless, so the test MSE is the excess risk R. */
static int dd_exp_model_relu(dd_run *run) {
  const dd_opts *o = run->o;
  const size_t d = o->common.quick ? 40 : 100, n = 3 * d, nt = 1000;
  const size_t nseeds =
      o->common.seeds > 1 ? o->common.seeds : (o->common.quick ? 8 : 10);
  const double tau2 = 0.1, F1 = 1.0, psi2 = 3.0;
  static const double psi1[] = {0.25, 0.5, 1.0, 1.5, 2.0, 2.5,
                                3.5,  4.0, 5.0, 7.5, 10.0};
  const size_t ng = sizeof psi1 / sizeof psi1[0];
  size_t grid[sizeof psi1 / sizeof psi1[0]];
  for (size_t g = 0; g < ng; g++)
    grid[g] = (size_t)llround(psi1[g] * (double)d);
  const size_t Nmax = grid[ng - 1];
  dd_point *pts = calloc(ng * nseeds, sizeof *pts);
  if (pts == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  dd_opts oo = *o;
  oo.no_ridge = 1;
  int s = IR_OK;
  for (size_t sd = 0; sd < nseeds && s == IR_OK; sd++) {
    const unsigned long seed = o->common.seed + sd;
    ir_cli_progress(&o->common, AN,
                    "ReLU features on the sphere: d = %zu, "
                    "n = %zu, seed %lu",
                    d, n, seed);
    gsl_rng *r = ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_DATA, 7, d));
    ir_dataset *tr = NULL, *te = NULL;
    ir_features *f = NULL;
    gsl_matrix *Phi = NULL, *Phit = NULL;
    /* IMPLREG_BREAK=relu-noise: the data drawn with τ in place of τ². */
    s = r ? ir_data_sphere_teacher(n, nt, d, F1,
                                   ir_cli_broken("relu-noise") ? sqrt(tau2) : tau2, r,
                                   &tr, &te)
          : IR_ENOMEM;
    if (s == IR_OK && (f = ir_features_alloc_streams(
                           IR_FEAT_RELU_SPHERE, d, Nmax, 1.0, seed,
                           ir_rng_stream(IR_STREAM_FEATURES, 7, d))) == NULL)
      s = IR_ENOMEM;
    if (s == IR_OK) {
      Phi = ir_matrix_alloc_big(n, Nmax);
      Phit = ir_matrix_alloc_big(nt, Nmax);
      s = (Phi && Phit) ? IR_OK : ir_error(IR_ENOMEM, "out of memory");
    }
    if (s == IR_OK)
      s = ir_features_apply(f, tr->X, Nmax, Phi);
    if (s == IR_OK)
      s = ir_features_apply(f, te->X, Nmax, Phit);
    if (s == IR_OK)
      s = dd_sweep_model(&oo, f, Phi, tr->Y, Phit, te->Y, NULL, grid, ng,
                         pts + sd * ng);
    if (Phi)
      gsl_matrix_free(Phi);
    if (Phit)
      gsl_matrix_free(Phit);
    ir_features_free(f);
    ir_dataset_free(tr);
    ir_dataset_free(te);
    ir_rng_free(r);
  }
  ir_activation relu;
  ir_rf_coeffs cf;
  if (s == IR_OK && (s = ir_theory_rf_activation("relu", &relu)) == IR_OK)
    s = ir_theory_rf_coeffs(relu, NULL, &cf);
  if (s != IR_OK) {
    free(pts);
    return s;
  }
  char cap[200];
  snprintf(cap, sizeof cap,
           "Random ReLU features on the sphere against Mei & "
           "Montanari: d = %zu, n = 3d, τ² = 0.1, F₁ = 1, F* = 0",
           d);
  ir_table *t = ir_table_alloc("model_relu", cap);
  if ((s = dd_keep_table(run, t)) != IR_OK) {
    free(pts);
    return s;
  }
  ir_table_add_note(t, "risk = test MSE on noiseless targets = excess risk; "
                       "mean, std and standard error over seeds; theory: "
                       "the ridgeless limit d -> infinity (arXiv:1908.05355)");
  if (nseeds < DD_MIN_MC_RELU)
    ir_table_add_note(t, "not checked against the formula: fewer than 8 "
                         "seeds leave the standard error too uncertain (give "
                         "--seeds 8 or more)");
  int c0 = ir_table_add_column(t, "psi1", IR_COL_DOUBLE, "N/d");
  int c1 = ir_table_add_column(t, "N", IR_COL_INT, NULL);
  int c2 = ir_table_add_column(t, "n", IR_COL_INT, NULL);
  int c3 = ir_table_add_column(t, "risk", IR_COL_MEANSTD, "measured");
  int c4 = ir_table_add_column(t, "risk_se", IR_COL_DOUBLE, "standard error");
  int c5 = ir_table_add_column(t, "risk_theory", IR_COL_DOUBLE,
                               "Mei-Montanari formula");
  int c6 = ir_table_add_column(t, "rel_diff", IR_COL_DOUBLE,
                               "(measured - theory) / theory");
  double x[16], ym[16], yt[16], ys[16], worst = 0, worst_z = 0;
  for (size_t g = 0; g < ng; g++) {
    double m, sdv;
    dd_mean_std(pts, ng, nseeds, g, offsetof(dd_point, test_mse), &m, &sdv);
    ir_rf_risk rr;
    if ((s = ir_theory_mei_montanari(cf.zeta, psi1[g], psi2, F1, 0.0, tau2,
                                     &rr)) != IR_OK)
      break;
    const double se = sdv / sqrt((double)nseeds);
    const double rel = (m - rr.risk) / rr.risk;
    /* The formula is the d → ∞ limit: allow 3 standard errors of the Monte
     * Carlo mean plus a finite-size term of the order of its corrections,
     * R/√d (5% at d = 100). */
    worst =
        fmax(worst, fabs(m - rr.risk) / (3 * se + rr.risk / sqrt((double)d)));
    worst_z = fmax(worst_z, fabs(m - rr.risk) / se);
    ir_table_add_row(t);
    ir_table_set_double(t, c0, psi1[g]);
    ir_table_set_int(t, c1, (long)grid[g]);
    ir_table_set_int(t, c2, (long)n);
    ir_table_set_meanstd(t, c3, m, sdv);
    ir_table_set_double(t, c4, se);
    ir_table_set_double(t, c5, rr.risk);
    ir_table_set_double(t, c6, rel);
    x[g] = psi1[g];
    ym[g] = m;
    ys[g] = se;
    yt[g] = rr.risk;
  }
  free(pts);
  if (s != IR_OK)
    return s;
  char claim[200];
  snprintf(claim, sizeof claim,
           "[relu] measured risk of random ReLU features "
           "follows the Mei-Montanari formula over psi1: largest |measured - "
           "theory| / (3 SE + theory/sqrt(d)) (largest |z| = %.2f)",
           worst_z);
  if (nseeds >= DD_MIN_MC_RELU)
    ir_checks_add_max(run->checks, claim,
                      "Mei & Montanari arXiv:1908.05355; "
                      "docs/theory.md s3",
                      0, worst, 1);
  ir_figure *f = ir_figure_alloc("model_relu", cap, "psi1 = N/d (log scale)",
                                 "excess risk (log scale)");
  if ((s = dd_keep_fig(run, f)) == IR_OK) {
    ir_figure_set_log(f, 1, 1);
    ir_figure_add_series_err(f, "measured (mean ± standard error over seeds)",
                             x, ym, ys, ng, "points");
    ir_figure_add_series(f, "Mei-Montanari", x, yt, ng, "lines");
    ir_figure_add_vline(f, psi2, "N = n");
  }
  return s;
}

/* ---- Epoch-wise: GD time on a fixed model, from the SVD
 * ------------------------ */

typedef struct {
  const ir_gd_traj *traj;
  gsl_matrix *What;
  double max_dev;
  int status;
} dd_spot;

/* Compares real GD iterates with the SVD formula at steps 1, 10, 100, ... */
static int dd_spot_observe(void *ctx, size_t step, const gsl_vector *theta) {
  dd_spot *sp = ctx;
  size_t k = step;
  while (k >= 10 && k % 10 == 0)
    k /= 10;
  if (step == 0 || k != 1)
    return 0;
  if ((sp->status = ir_gd_traj_at(sp->traj, (double)step, sp->What)) != IR_OK)
    return 1;
  gsl_matrix_const_view W =
      gsl_matrix_const_view_vector(theta, sp->What->size1, sp->What->size2);
  double dev = ir_matrix_fro_diff(&W.matrix, sp->What) /
               fmax(ir_matrix_fro(sp->What), DBL_MIN);
  sp->max_dev = fmax(sp->max_dev, dev);
  return 0;
}

static int dd_exp_epochs(dd_run *run, int fashion) {
  const dd_opts *o = run->o;
  /* Label noise: 0.2 unless --label-noise is given (0 included). */
  const double noise = (o->given & DD_O_NOISE) ? o->label_noise : 0.2;
  dd_opts oo = *o;
  oo.label_noise = noise;
  const size_t n = fashion || o->n_set ? o->n : (o->common.quick ? 100 : 400);
  const double r2 = isnan(o->r2) ? 1.0 : o->r2;
  const double sigma2 = isnan(o->sigma2) ? 0.25 : o->sigma2;
  dd_data d;
  memset(&d, 0, sizeof d);
  gsl_matrix *Phi = NULL, *Phit = NULL, *W = NULL, *P = NULL, *R = NULL;
  ir_minnorm *mn = NULL;
  ir_gd_traj *traj = NULL;
  ir_model *model = NULL;
  gsl_vector *theta = NULL;
  int s;
  const unsigned long seed = o->common.seed;
  if (fashion) {
    s = dd_load_fashion(&oo, n, seed, &d);
    double sg;
    ir_features *f = NULL;
    if (s == IR_OK)
      s = dd_features(o, o->features ? o->features : IR_FEAT_RFF, &d, n, seed,
                      &Phi, &Phit, &sg, &f);
    ir_features_free(f);
    if (s == IR_OK)
      ir_cli_config_set(run->cfg, "derived.sigma_epochs", "%.17g", sg);
  } else {
    /* The linear teacher with p = n: the model at its threshold. */
    gsl_rng *r = ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_DATA, 5, n));
    ir_teacher_params tp = {n, o->ntest, n, r2, sigma2, NULL, 0};
    ir_dataset *tr = NULL, *te = NULL;
    s = r ? ir_data_linear_teacher(&tp, r, &tr, &te, NULL) : IR_ENOMEM;
    ir_rng_free(r);
    if (s == IR_OK) {
      dd_take(tr, te, &d);
      Phi = d.X;
      Phit = d.Xt;
      d.X = d.Xt = NULL;
    }
  }
  if (s != IR_OK)
    goto done;
  const size_t N = Phi->size2, K = d.Y->size2, nt = Phit->size1;
  ir_cli_progress(&o->common, AN,
                  "epoch-wise: %s, n = N = %zu, label noise "
                  "%g",
                  fashion ? "Fashion-MNIST" : "linear teacher", n,
                  fashion ? noise : 0.0);
  mn = ir_minnorm_alloc(n, N, K);
  W = gsl_matrix_alloc(N, K);
  P = gsl_matrix_alloc(nt, K);
  R = gsl_matrix_alloc(n, K);
  theta = gsl_vector_calloc(N * K);
  if (!mn || !W || !P || !R || !theta) {
    s = ir_error(IR_ENOMEM, "out of memory (epoch-wise)");
    goto done;
  }
  if ((s = ir_minnorm_factor(mn, Phi)) != IR_OK)
    goto done;
  const ir_svd *svd = ir_minnorm_svd(mn);
  const double smax = gsl_vector_get(svd->s, 0);
  const double eta = (double)n / (smax * smax); /* 1/λ_max of ΦᵀΦ/n */
  if ((traj = ir_gd_traj_alloc(svd, d.Y, NULL, eta)) == NULL) {
    s = IR_ENOMEM;
    goto done;
  }
  /* GD time t on a log grid: 8 points per decade up to 1e8 steps (the
   * formula's cost does not depend on t). */
  char ecap[200];
  if (fashion)
    snprintf(ecap, sizeof ecap,
             "Epoch-wise: GD on Fashion-MNIST random features at N = n = %zu, "
             "label noise %g (seed %lu)",
             n, noise, seed);
  else
    snprintf(ecap, sizeof ecap,
             "Epoch-wise: GD on the linear teacher at p = n = %zu, r^2 = %g, "
             "sigma^2 = %g (seed %lu)",
             n, r2, sigma2, seed);
  ir_table *t = ir_table_alloc("epochs", ecap);
  if ((s = dd_keep_table(run, t)) != IR_OK)
    goto done;
  ir_table_add_note(t,
                    "GD from 0 with eta = 1/lambda_max on L = (1/2n)"
                    "||Phi W - Y||^2, iterates from the SVD formula "
                    "(docs/theory.md s1); MSEs are means over samples, summed "
                    "over outputs");
  if (o->common.seeds > 1)
    ir_table_add_note(t, "one seed (the first): the epoch-wise curve does not "
                         "average over --seeds");
  int ct = ir_table_add_column(t, "t", IR_COL_DOUBLE, "GD steps");
  int ctr = ir_table_add_column(t, "train_mse", IR_COL_DOUBLE, NULL);
  int cte = ir_table_add_column(t, "test_mse", IR_COL_DOUBLE, NULL);
  int cer = d.labels_t ? ir_table_add_column(t, "test_err", IR_COL_DOUBLE,
                                             "test 0-1 error")
                       : -1;
  int cno = ir_table_add_column(t, "norm", IR_COL_DOUBLE, "||W_t||_F");
  enum { NT = 65 };
  double xs[NT], yte[NT], ytr[NT];
  size_t m = 0;
  for (int i = 0; i < NT; i++) {
    const double tt = floor(pow(10.0, (double)i / 8.0));
    if (m > 0 && tt == xs[m - 1])
      continue;
    if ((s = ir_gd_traj_at(traj, tt, W)) != IR_OK)
      goto done;
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, Phit, W, 0.0, P);
    double mse, err;
    dd_test_metrics(P, d.Yt, d.labels_t, &mse, &err);
    gsl_matrix_memcpy(R, d.Y);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, Phi, W, -1.0, R);
    const double rr = ir_matrix_fro(R);
    xs[m] = tt;
    yte[m] = mse;
    ytr[m] = rr * rr / (double)n;
    ir_table_add_row(t);
    ir_table_set_double(t, ct, tt);
    ir_table_set_double(t, ctr, ytr[m]);
    ir_table_set_double(t, cte, mse);
    if (cer >= 0)
      ir_table_set_double(t, cer, err);
    ir_table_set_double(t, cno, ir_matrix_fro(W));
    m++;
  }
  /* Spot check: real GD iterations against the formula. */
  const size_t Ts = o->common.quick ? 100 : 1000;
  if ((model = ir_model_linear_alloc(Phi, d.Y)) == NULL) {
    s = IR_ENOMEM;
    goto done;
  }
  dd_spot sp = {traj, W, 0, IR_OK};
  ir_optim_params op;
  ir_optim_params_default(&op);
  /* IMPLREG_BREAK=gd-step: real GD run with a step 1e-3 too long. */
  op.lr = ir_cli_broken("gd-step") ? eta * (1.0 + 1e-3) : eta;
  op.max_steps = Ts;
  ir_optim_result res;
  if ((s = ir_optim_run(model, &op, theta, dd_spot_observe, &sp, &res)) !=
          IR_OK ||
      (s = sp.status) != IR_OK)
    goto done;
  char claim[200];
  snprintf(claim, sizeof claim,
           "[epochs] real GD iterates equal the SVD "
           "formula at t = 1, 10, ..., %zu (largest relative deviation)",
           Ts);
  /* Rounding: each GD step adds a relative error of a few eps, which a step
   * eta <= 1/lambda_max does not amplify (I - eta Phi'Phi/n is a
   * contraction), so after Ts steps the deviation is at most ~Ts eps. */
  ir_checks_add_max(run->checks, claim, "docs/theory.md s1", 0, sp.max_dev,
                    10.0 * (double)Ts * DBL_EPSILON);
  ir_figure *f = ir_figure_alloc("epochs",
                                 t ? "Epoch-wise: error against GD "
                                     "time"
                                   : "",
                                 "GD steps t (log scale)", "MSE (log scale)");
  if ((s = dd_keep_fig(run, f)) == IR_OK) {
    ir_figure_set_log(f, 1, 1);
    ir_figure_add_series(f, "test MSE", xs, yte, m, "linespoints");
    ir_figure_add_series(f, "train MSE", xs, ytr, m, "linespoints");
  }
done:
  ir_model_free(model);
  ir_gd_traj_free(traj);
  ir_minnorm_free(mn);
  gsl_matrix *mm[] = {Phi, Phit, W, P, R};
  for (int i = 0; i < 5; i++)
    if (mm[i])
      gsl_matrix_free(mm[i]);
  if (theta)
    gsl_vector_free(theta);
  dd_data_free(&d);
  return s;
}

/* ---- Classical U-curve and second descent: 1-D step, weighted Fourier
 * ------------------------- */

/* y = sign(x) + 0.1ε on x ~ U[−1, 1], min-norm fits of the first N
 * weighted Fourier features (frequency-k pair divided by k; features.h):
 * below N = n least squares does not see the weights and gives the
 * classical U-curve (bias of the truncated series of a discontinuous
 * target against variance), the peak sits at N = n, and past it the
 * min-norm fit with decaying weights converges to a smooth (H¹)
 * interpolant whose error goes below the U-curve's minimum (Muthukumar et
 * al. arXiv:1903.09139 §4; Belkin et al. arXiv:1812.11118;
 * docs/theory.md §3). */
static int dd_exp_classical(dd_run *run) {
  const dd_opts *o = run->o;
  const size_t n = o->n_set ? o->n : (o->common.quick ? 20 : 30);
  const size_t nt = o->ntest_set ? o->ntest : 2000;
  const size_t nseeds = o->common.seeds > 1 ? o->common.seeds : 20;
  const double noise = sqrt(isnan(o->sigma2) ? 0.01 : o->sigma2);
  /* IMPLREG_BREAK=classical-weights: the unweighted basis (the weights
   * forgotten), whose min-norm fits do not come back down. */
  const int kind =
      ir_cli_broken("classical-weights") ? IR_FEAT_FOURIER : IR_FEAT_FOURIER_WEIGHTED;
  /* Every N up to 2n, then ×1.25 up to 40n. */
  size_t *grid = malloc((2 * n + 64) * sizeof *grid), ng = 0;
  if (grid == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  for (size_t N = 1; N <= 2 * n; N++)
    grid[ng++] = N;
  for (double N = 2.0 * (double)n * 1.25; N <= 40.0 * (double)n; N *= 1.25)
    grid[ng++] = (size_t)llround(N);
  const size_t Nmax = grid[ng - 1];
  dd_point *pts = calloc(ng * nseeds, sizeof *pts);
  ir_features *f = ir_features_alloc(kind, 1, Nmax, 1.0, NULL);
  int s = (pts && f) ? IR_OK : ir_error(IR_ENOMEM, "out of memory");
  dd_opts oo = *o;
  oo.no_ridge = 1;
  enum { NX = 401 };
  double *xg = malloc(NX * sizeof *xg), *truth = malloc(NX * sizeof *truth);
  double *yg = malloc(3 * NX * sizeof *yg);
  double *xtr = malloc(n * sizeof *xtr), *ytr = malloc(n * sizeof *ytr);
  if (!xg || !truth || !yg || !xtr || !ytr)
    s = ir_error(IR_ENOMEM, "out of memory");
  size_t show[3] = {0, n, Nmax};
  gsl_matrix *Phi0 = NULL, *Y0 = NULL; /* the first seed's data, for the fits */
  for (size_t sd = 0; sd < nseeds && s == IR_OK; sd++) {
    gsl_rng *r =
        ir_rng_alloc(o->common.seed + sd, ir_rng_stream(IR_STREAM_DATA, 6, 1));
    ir_dataset *tr = NULL, *te = NULL;
    gsl_matrix *Phi = NULL, *Phit = NULL;
    s = r ? ir_data_step_1d(n, nt, noise, 0, r, &tr, &te) : IR_ENOMEM;
    if (s == IR_OK) {
      Phi = ir_matrix_alloc_big(n, Nmax);
      Phit = ir_matrix_alloc_big(nt, Nmax);
      s = (Phi && Phit) ? IR_OK : ir_error(IR_ENOMEM, "out of memory");
    }
    if (s == IR_OK)
      s = ir_features_apply(f, tr->X, Nmax, Phi);
    if (s == IR_OK)
      s = ir_features_apply(f, te->X, Nmax, Phit);
    if (s == IR_OK)
      s = dd_sweep_model(&oo, f, Phi, tr->Y, Phit, te->Y, NULL, grid, ng,
                         pts + sd * ng);
    if (s == IR_OK && sd == 0) {
      for (size_t i = 0; i < n; i++) {
        xtr[i] = gsl_matrix_get(tr->X, i, 0);
        ytr[i] = gsl_matrix_get(tr->Y, i, 0);
      }
      Phi0 = Phi;
      Y0 = tr->Y;
      tr->Y = NULL;
      Phi = NULL;
    }
    if (Phi)
      gsl_matrix_free(Phi);
    if (Phit)
      gsl_matrix_free(Phit);
    ir_dataset_free(tr);
    ir_dataset_free(te);
    ir_rng_free(r);
  }
  if (s != IR_OK)
    goto done;
  /* Median and quartiles over seeds per N: the test MSE of a draw whose
   * inputs nearly coincide is larger by orders of magnitude near and past
   * N = n (the mean over 20 seeds is one draw's value there), so the curve
   * and the checks use the median, with the standard error of a median
   * from the interquartile range (normal approximation: 1.2533·σ/√k, σ =
   * IQR/1.349). */
  double *mse = malloc(ng * sizeof *mse), *se = malloc(ng * sizeof *se);
  double *lo = malloc(ng * sizeof *lo), *hi = malloc(ng * sizeof *hi);
  if (!mse || !se || !lo || !hi) {
    free(mse);
    free(se);
    free(lo);
    free(hi);
    s = ir_error(IR_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t g = 0; g < ng; g++) {
    double q[3];
    dd_quartiles(pts, ng, nseeds, g, offsetof(dd_point, test_mse), q);
    lo[g] = q[0];
    mse[g] = q[1];
    hi[g] = q[2];
    se[g] = nseeds > 1 ? 1.2533 * (q[2] - q[0]) / 1.349 / sqrt((double)nseeds)
                       : 0.0;
  }
  size_t umin = 0, best2 = 0, pk = 0;
  for (size_t g = 0; g < ng; g++) {
    if (grid[g] < n && mse[g] < mse[umin])
      umin = g;
    if (grid[g] >= 2 * n && (grid[best2] < 2 * n || mse[g] < mse[best2]))
      best2 = g;
    if (mse[g] > mse[pk])
      pk = g;
  }
  show[0] = grid[umin];
  /* The fits at the U-curve's best N, at N = n and at Nmax (first seed). */
  {
    gsl_matrix *Xg = gsl_matrix_alloc(NX, 1), *Fg = gsl_matrix_alloc(NX, Nmax);
    ir_nested *w = Phi0 ? ir_nested_alloc(Phi0, Y0, NULL) : NULL;
    s = (Xg && Fg && w) ? IR_OK : ir_error(IR_ENOMEM, "out of memory");
    for (size_t i = 0; i < NX && s == IR_OK; i++) {
      xg[i] = -1.0 + 2.0 * (double)i / (NX - 1);
      truth[i] = ir_data_step_1d_f(xg[i]);
      gsl_matrix_set(Xg, i, 0, xg[i]);
    }
    if (s == IR_OK)
      s = ir_features_apply(f, Xg, Nmax, Fg);
    for (int c = 0; c < 3 && s == IR_OK; c++) {
      gsl_matrix *Wc = gsl_matrix_alloc(show[c], 1);
      ir_nested_fit fit;
      s = Wc ? ir_nested_grow(w, show[c]) : IR_ENOMEM;
      if (s == IR_OK)
        s = ir_nested_minnorm(w, o->rcond, o->accuracy, NULL, Wc, &fit);
      if (s == IR_OK) {
        gsl_matrix_const_view Fc =
            gsl_matrix_const_submatrix(Fg, 0, 0, NX, show[c]);
        gsl_vector_view yv = gsl_vector_view_array(yg + c * NX, NX);
        gsl_vector_const_view wv = gsl_matrix_const_column(Wc, 0);
        gsl_blas_dgemv(CblasNoTrans, 1.0, &Fc.matrix, &wv.vector, 0.0,
                       &yv.vector);
      }
      if (Wc)
        gsl_matrix_free(Wc);
    }
    ir_nested_free(w);
    if (Xg)
      gsl_matrix_free(Xg);
    if (Fg)
      gsl_matrix_free(Fg);
  }
  char cap[200];
  snprintf(cap, sizeof cap,
           "Classical U-curve and second descent: y = sign(x) + 0.1 noise, "
           "n = %zu, %s Fourier features",
           n,
           kind == IR_FEAT_FOURIER_WEIGHTED ? "weighted (pair k / k)"
                                            : "unweighted");
  if (s == IR_OK)
    s = dd_keep_table(run, dd_model_table("classical", cap, n, grid, ng, pts,
                                          nseeds, 0, 0, 1, 0));
  const char *src = "Belkin et al. arXiv:1812.11118; Muthukumar et al. "
                    "arXiv:1903.09139 s4; docs/theory.md s3";
  if (s == IR_OK) {
    ir_checks_add(run->checks,
                  "[classical] median test MSE peaks within one step of "
                  "the interpolation threshold N = n (N at the peak)",
                  src, (double)n, (double)grid[pk], 1,
                  grid[pk] + 1 >= n && grid[pk] <= n + 1);
    /* The U: both ends of N < n are well above its minimum — the fit with
     * one feature (the mean) by the bias, N = n − 1 by the variance. */
    size_t last = 0;
    for (size_t g = 0; g < ng; g++)
      if (grid[g] < n)
        last = g;
    const double ends = fmin(mse[0], mse[last]) / mse[umin];
    char claim[240];
    snprintf(claim, sizeof claim,
             "[classical] U-curve below N = n: median test MSE at N = 1 and at "
             "N = n - 1 over its minimum at N = %zu (smaller of the two "
             "ratios, >= 2)",
             grid[umin]);
    ir_checks_add(run->checks, claim, src, 2.0, ends, 0,
                  ends >= 2.0 && umin > 0 && umin < last);
    /* The second descent reaches the U-curve's minimum: best mean test MSE
     * over N >= 2n at most the U-curve's minimum plus two standard errors
     * of the difference (one seed: no allowance). */
    const double tol = 2 * sqrt(se[umin] * se[umin] + se[best2] * se[best2]);
    snprintf(claim, sizeof claim,
             "[classical] second descent reaches the U-curve: best median "
             "test MSE over N >= 2n (at N = %zu) <= the minimum over N < n "
             "(predicted) + 2 SE of the difference",
             grid[best2]);
    ir_checks_add(run->checks, claim, src, mse[umin], mse[best2], tol,
                  mse[best2] <= mse[umin] + tol);
  }
  /* Figures: log-log curve with the threshold and the U-curve's minimum. */
  double *x = malloc(ng * sizeof *x);
  if (s == IR_OK && !x)
    s = ir_error(IR_ENOMEM, "out of memory");
  ir_figure *fg = NULL;
  if (s == IR_OK)
    s = dd_keep_fig(run, fg = ir_figure_alloc("classical", cap, "N (log scale)",
                                              "test MSE (log scale)"));
  if (s == IR_OK) {
    for (size_t g = 0; g < ng; g++)
      x[g] = (double)grid[g];
    ir_figure_set_log(fg, 1, 1);
    ir_figure_add_series(fg, "min-norm fit (median over seeds)", x, mse, ng,
                         "linespoints");
    if (nseeds > 1) {
      ir_figure_add_series(fg, "quartiles over seeds", x, lo, ng,
                           "lines dt 3 lc rgb 0x666666");
      ir_figure_add_series(fg, "", x, hi, ng, "lines dt 3 lc rgb 0x666666");
    }
    const double hx[2] = {1.0, (double)Nmax}, hy[2] = {mse[umin], mse[umin]};
    ir_figure_add_series(fg, "U-curve minimum", hx, hy, 2, "lines dashtype 2");
    ir_figure_add_vline(fg, (double)n, "N = n");
    fg = ir_figure_alloc("classical_fits", "Fitted curves (first seed)", "x",
                         "y");
    s = dd_keep_fig(run, fg);
  }
  if (s == IR_OK) {
    ir_figure_set_key(fg, "bottom right");
    ir_figure_add_series(fg, "sign(x)", xg, truth, NX, "lines dashtype 2");
    for (int c = 0; c < 3; c++) {
      char lab[48];
      snprintf(lab, sizeof lab, "N = %zu", show[c]);
      /* Clip the interpolating fit's excursions so the plot stays readable. */
      for (size_t i = 0; i < NX; i++)
        yg[c * NX + i] = fmax(-3.0, fmin(3.0, yg[c * NX + i]));
      ir_figure_add_series(fg, lab, xg, yg + c * NX, NX, "lines");
    }
    ir_figure_add_series(fg, "training data", xtr, ytr, n, "points");
  }
  free(x);
  free(lo);
  free(hi);
  free(mse);
  free(se);
done:
  if (Phi0)
    gsl_matrix_free(Phi0);
  if (Y0)
    gsl_matrix_free(Y0);
  ir_features_free(f);
  free(pts);
  free(grid);
  free(xg);
  free(truth);
  free(yg);
  free(xtr);
  free(ytr);
  return s;
}

/* ---- Options and the driver
 * ----------------------------------------------------- */

enum {
  OPT_DATA = 1,
  OPT_FEAT,
  OPT_SWEEP,
  OPT_N,
  OPT_NTEST,
  OPT_SIGMA,
  OPT_GRID,
  OPT_NMAX,
  OPT_POINTS,
  OPT_RIDGE,
  OPT_NORIDGE,
  OPT_NOISE,
  OPT_RCOND,
  OPT_ACC,
  OPT_P,
  OPT_R2,
  OPT_SIGMA2
};

static const struct {
  unsigned bit;
  const char *name;
} dd_opt_names[] = {{DD_O_N, "--n"},
                    {DD_O_NTEST, "--ntest"},
                    {DD_O_SIGMA, "--sigma"},
                    {DD_O_GRID, "--grid/--N-max/--points"},
                    {DD_O_RIDGE, "--ridge/--no-ridge"},
                    {DD_O_NOISE, "--label-noise"},
                    {DD_O_RCOND, "--rcond"},
                    {DD_O_ACC, "--accuracy"},
                    {DD_O_FEAT, "--features"},
                    {DD_O_P, "--p"},
                    {DD_O_R2, "--r2"},
                    {DD_O_SIGMA2, "--sigma2"},
                    {DD_O_SEEDS, "--seeds > 1"}};

/* The options the selected parts use (docs in the help text). */
static unsigned dd_allowed(int data, int sweep) {
  const int model = sweep == SWEEP_ALL || sweep == SWEEP_MODEL;
  const int samples = sweep == SWEEP_ALL || sweep == SWEEP_SAMPLES;
  const int epochs = sweep == SWEEP_ALL || sweep == SWEEP_EPOCHS;
  unsigned a = 0;
  switch (data) {
  case DATA_FASHION:
    if (model)
      a |= DD_O_N | DD_O_NTEST | DD_O_SIGMA | DD_O_GRID | DD_O_RIDGE |
           DD_O_NOISE | DD_O_RCOND | DD_O_ACC | DD_O_FEAT | DD_O_SEEDS;
    if (samples)
      a |= DD_O_NTEST | DD_O_SIGMA | DD_O_NOISE | DD_O_RCOND | DD_O_FEAT |
           DD_O_SEEDS;
    if (epochs)
      a |= DD_O_N | DD_O_NTEST | DD_O_SIGMA | DD_O_NOISE | DD_O_FEAT;
    break;
  case DATA_LINEAR:
    if (model)
      a |= DD_O_N | DD_O_R2 | DD_O_SIGMA2 | DD_O_RCOND | DD_O_SEEDS;
    if (samples)
      a |= DD_O_P | DD_O_R2 | DD_O_SIGMA2 | DD_O_RCOND | DD_O_SEEDS;
    if (epochs)
      a |= DD_O_N | DD_O_NTEST | DD_O_R2 | DD_O_SIGMA2;
    break;
  case DATA_CURVE:
    if (model)
      a |= DD_O_N | DD_O_NTEST | DD_O_SIGMA2 | DD_O_FEAT | DD_O_RCOND |
           DD_O_ACC | DD_O_SEEDS;
    break;
  default: /* the suite: each part at its own sizes */
    if (sweep != SWEEP_EPOCHS)
      a |= DD_O_SEEDS;
    break;
  }
  return a;
}

static int dd_parse(int argc, char **argv, dd_opts *o, ir_cli_config *cfg) {
  static const struct option longopts[] = {
      {"data", required_argument, NULL, OPT_DATA},
      {"features", required_argument, NULL, OPT_FEAT},
      {"sweep", required_argument, NULL, OPT_SWEEP},
      {"n", required_argument, NULL, OPT_N},
      {"ntest", required_argument, NULL, OPT_NTEST},
      {"sigma", required_argument, NULL, OPT_SIGMA},
      {"grid", required_argument, NULL, OPT_GRID},
      {"N-max", required_argument, NULL, OPT_NMAX},
      {"points", required_argument, NULL, OPT_POINTS},
      {"ridge", required_argument, NULL, OPT_RIDGE},
      {"no-ridge", no_argument, NULL, OPT_NORIDGE},
      {"label-noise", required_argument, NULL, OPT_NOISE},
      {"rcond", required_argument, NULL, OPT_RCOND},
      {"accuracy", required_argument, NULL, OPT_ACC},
      {"p", required_argument, NULL, OPT_P},
      {"r2", required_argument, NULL, OPT_R2},
      {"sigma2", required_argument, NULL, OPT_SIGMA2},
      IR_CLI_COMMON_OPTIONS,
      {NULL, 0, NULL, 0}};
  size_t n = 0, ntest = 0, Nmax = 0, points = 0;
  o->sigma_median = 1;
  o->r2 = NAN;
  o->sigma2 = NAN;
  o->rcond = -1;
  o->accuracy = 1e-8;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    int bad = 0;
    switch (c) {
    case OPT_DATA:
      if (strcmp(optarg, "fashion-mnist") == 0)
        o->data = DATA_FASHION;
      else if (strcmp(optarg, "linear") == 0)
        o->data = DATA_LINEAR;
      else if (strcmp(optarg, "teacher-1d") == 0)
        o->data = DATA_CURVE;
      else
        return ir_cli_usage_error(PROG,
                                  "--data: unknown data set '%s' "
                                  "(expected fashion-mnist, linear or "
                                  "teacher-1d)",
                                  optarg);
      break;
    case OPT_FEAT:
      o->given |= DD_O_FEAT;
      if (ir_features_parse(optarg, &o->features) != IR_OK)
        return ir_cli_fail(PROG, IR_EINVAL, NULL);
      break;
    case OPT_SWEEP:
      if (strcmp(optarg, "model") == 0)
        o->sweep = SWEEP_MODEL;
      else if (strcmp(optarg, "samples") == 0)
        o->sweep = SWEEP_SAMPLES;
      else if (strcmp(optarg, "epochs") == 0)
        o->sweep = SWEEP_EPOCHS;
      else if (strcmp(optarg, "all") == 0)
        o->sweep = SWEEP_ALL;
      else
        return ir_cli_usage_error(PROG,
                                  "--sweep: unknown sweep '%s' "
                                  "(expected model, samples, epochs or all)",
                                  optarg);
      break;
    case OPT_N:
      bad = ir_cli_size(PROG, "n", optarg, 2, 60000, &n);
      o->n_set = 1;
      o->given |= DD_O_N;
      break;
    case OPT_NTEST:
      bad = ir_cli_size(PROG, "ntest", optarg, 1, 10000, &ntest);
      o->ntest_set = 1;
      o->given |= DD_O_NTEST;
      break;
    case OPT_SIGMA:
      o->given |= DD_O_SIGMA;
      if (strcmp(optarg, "median") == 0) {
        o->sigma_median = 1;
      } else {
        bad = ir_cli_double(PROG, "sigma", optarg, 1e-300, 1e300, &o->sigma);
        o->sigma_median = 0;
      }
      break;
    case OPT_GRID:
      o->given |= DD_O_GRID;
      free(o->grid);
      o->grid = NULL;
      bad =
          ir_cli_double_list(PROG, "grid", optarg, 1, 1e6, &o->grid, &o->ngrid);
      for (size_t i = 0; !bad && i < o->ngrid; i++)
        if (o->grid[i] != floor(o->grid[i]) ||
            (i > 0 && o->grid[i] <= o->grid[i - 1]))
          return ir_cli_usage_error(PROG, "--grid: model sizes must be "
                                          "increasing whole numbers >= 1");
      break;
    case OPT_NMAX:
      o->given |= DD_O_GRID;
      bad = ir_cli_size(PROG, "N-max", optarg, 2, 1000000, &Nmax);
      break;
    case OPT_POINTS:
      o->given |= DD_O_GRID;
      bad = ir_cli_size(PROG, "points", optarg, 3, 200, &points);
      break;
    case OPT_RIDGE:
      o->given |= DD_O_RIDGE;
      free(o->ridge);
      o->ridge = NULL;
      bad = ir_cli_double_list(PROG, "ridge", optarg, 1e-300, 1e300, &o->ridge,
                               &o->nridge);
      break;
    case OPT_NORIDGE:
      o->no_ridge = 1;
      o->given |= DD_O_RIDGE;
      break;
    case OPT_NOISE:
      o->given |= DD_O_NOISE;
      bad = ir_cli_double(PROG, "label-noise", optarg, 0, 1, &o->label_noise);
      break;
    case OPT_RCOND:
      o->given |= DD_O_RCOND;
      bad = ir_cli_double(PROG, "rcond", optarg, 0, 1, &o->rcond);
      break;
    case OPT_P:
      o->given |= DD_O_P;
      bad = ir_cli_size(PROG, "p", optarg, 2, 100000, &o->p);
      break;
    case OPT_R2:
      o->given |= DD_O_R2;
      bad = ir_cli_double(PROG, "r2", optarg, 0, 1e6, &o->r2);
      break;
    case OPT_SIGMA2:
      o->given |= DD_O_SIGMA2;
      bad = ir_cli_double(PROG, "sigma2", optarg, 0, 1e6, &o->sigma2);
      break;
    case OPT_ACC:
      o->given |= DD_O_ACC;
      bad =
          ir_cli_double(PROG, "accuracy", optarg, DBL_EPSILON, 1, &o->accuracy);
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
  o->n = n ? n : (q ? 200 : 1000);
  o->ntest = ntest ? ntest : (q ? 500 : 2000);
  o->Nmax = Nmax ? Nmax : (q ? 4 : 10) * o->n;
  o->points = points ? points : (q ? 16 : 28);
  if (o->nridge == 0 && !o->no_ridge) {
    static const double def[] = {1e-4, 1e-3, 1e-2, 1e-1, 1};
    o->ridge = malloc(sizeof def);
    if (o->ridge == NULL)
      return IR_EXIT_INTERNAL;
    memcpy(o->ridge, def, sizeof def);
    o->nridge = sizeof def / sizeof def[0];
  }
  if (o->ngrid > 0 && (size_t)o->grid[o->ngrid - 1] > 1000000)
    return ir_cli_usage_error(PROG, "--grid: model sizes above 1e6");
  if ((o->data == DATA_FASHION || o->data == DATA_DEFAULT) && o->n > 60000)
    return ir_cli_usage_error(PROG,
                              "--n %zu exceeds the 60000 Fashion-MNIST "
                              "training images",
                              o->n);
  if (o->data == DATA_FASHION && !ir_data_fashion_mnist_available(NULL)) {
    fprintf(stderr,
            "%s: --data fashion-mnist: the data set is not installed "
            "(apt-get install dataset-fashion-mnist)\n",
            PROG);
    return IR_EXIT_USAGE;
  }
  static const char *dn[] = {"suite", "fashion-mnist", "linear", "teacher-1d"};
  static const char *sn[] = {"all", "model", "samples", "epochs"};
  if (o->data == DATA_CURVE &&
      (o->sweep == SWEEP_SAMPLES || o->sweep == SWEEP_EPOCHS))
    return ir_cli_usage_error(PROG,
                              "--data teacher-1d has only the model-wise "
                              "sweep (--sweep model); --sweep %s needs "
                              "--data linear or fashion-mnist",
                              sn[o->sweep]);
  /* Every option given must be used by the selected parts. */
  const unsigned allowed = dd_allowed(o->data, o->sweep);
  unsigned given = o->given | (o->common.seeds > 1 ? DD_O_SEEDS : 0u);
  for (size_t i = 0; i < sizeof dd_opt_names / sizeof dd_opt_names[0]; i++)
    if ((given & dd_opt_names[i].bit) && !(allowed & dd_opt_names[i].bit)) {
      if (o->data == DATA_DEFAULT)
        return ir_cli_usage_error(PROG,
                                  "%s: the suite (no --data) runs each part "
                                  "at its own sizes; choose --data (and "
                                  "--sweep) to set it",
                                  dd_opt_names[i].name);
      return ir_cli_usage_error(PROG,
                                "%s is not used by --data %s --sweep %s; "
                                "drop it",
                                dd_opt_names[i].name, dn[o->data],
                                sn[o->sweep]);
    }
  if (o->given & DD_O_FEAT) {
    const int f = o->features;
    const int basis = f == IR_FEAT_LEGENDRE || f == IR_FEAT_FOURIER ||
                      f == IR_FEAT_FOURIER_WEIGHTED;
    if (o->data == DATA_CURVE && f != IR_FEAT_FOURIER_WEIGHTED)
      return ir_cli_usage_error(PROG,
                                "--data teacher-1d fits fourier-weighted "
                                "features only (the construction whose "
                                "second descent docs/theory.md s3 "
                                "describes); drop --features %s",
                                ir_features_name(f));
    if (o->data == DATA_FASHION && basis)
      return ir_cli_usage_error(PROG,
                                "--features %s is a 1-D basis; Fashion-MNIST "
                                "needs rff, rff-pair, relu, relu-centered, "
                                "relu-sphere, fft or identity",
                                ir_features_name(f));
  }
  if (o->data == DATA_CURVE && o->n_set && o->n > 1000)
    return ir_cli_usage_error(PROG,
                              "--n %zu: the 1-D sweep fits up to 40n "
                              "features; use n <= 1000",
                              o->n);
  if (o->data == DATA_LINEAR && (o->given & DD_O_N) && o->n < 10)
    return ir_cli_usage_error(PROG,
                              "--n %zu: the linear sweeps need n >= 10 "
                              "(the grid of p/n must avoid p = n +- 1)",
                              o->n);
  if (o->data == DATA_LINEAR && (o->given & DD_O_P) && o->p < 20)
    return ir_cli_usage_error(PROG,
                              "--p %zu: the sample-wise sweep needs "
                              "p >= 20 (its grid of n/p must avoid "
                              "n = p +- 1)",
                              o->p);
  /* The manifest's config lists what was given (defaults follow from
   * --quick, which ir_cli_config_common records), so a replay passes only
   * options the run used. */
  ir_cli_config_common(cfg, &o->common);
  char num[32];
  if (o->data != DATA_DEFAULT)
    ir_cli_config_set(cfg, "data", "%s", dn[o->data]);
  if (o->sweep != SWEEP_ALL)
    ir_cli_config_set(cfg, "sweep", "%s", sn[o->sweep]);
  if (o->given & DD_O_FEAT)
    ir_cli_config_set(cfg, "features", "%s", ir_features_name(o->features));
  if (o->given & DD_O_N)
    ir_cli_config_set(cfg, "n", "%zu", o->n);
  if (o->given & DD_O_NTEST)
    ir_cli_config_set(cfg, "ntest", "%zu", o->ntest);
  if (o->given & DD_O_P)
    ir_cli_config_set(cfg, "p", "%zu", o->p);
  if (o->given & DD_O_R2)
    ir_cli_config_set(cfg, "r2", "%s",
                      ir_cli_fmt_double(num, sizeof num, o->r2));
  if (o->given & DD_O_SIGMA2)
    ir_cli_config_set(cfg, "sigma2", "%s",
                      ir_cli_fmt_double(num, sizeof num, o->sigma2));
  if (o->given & DD_O_GRID) {
    if (o->ngrid > 0) {
      char gb[4096] = "";
      size_t gl = 0;
      for (size_t i = 0; i < o->ngrid && gl < sizeof gb; i++)
        gl += (size_t)snprintf(gb + gl, sizeof gb - gl, "%s%.0f", i ? "," : "",
                               o->grid[i]);
      ir_cli_config_set(cfg, "grid", "%s", gb);
    } else {
      ir_cli_config_set(cfg, "N-max", "%zu", o->Nmax);
      ir_cli_config_set(cfg, "points", "%zu", o->points);
    }
  }
  if ((o->given & DD_O_SIGMA) && !o->sigma_median)
    ir_cli_config_set(cfg, "sigma", "%s",
                      ir_cli_fmt_double(num, sizeof num, o->sigma));
  if (o->given & DD_O_NOISE)
    ir_cli_config_set(cfg, "label-noise", "%s",
                      ir_cli_fmt_double(num, sizeof num, o->label_noise));
  if (o->given & DD_O_RCOND)
    ir_cli_config_set(cfg, "rcond", "%s",
                      ir_cli_fmt_double(num, sizeof num, o->rcond));
  if (o->given & DD_O_ACC)
    ir_cli_config_set(cfg, "accuracy", "%s",
                      ir_cli_fmt_double(num, sizeof num, o->accuracy));
  if (o->given & DD_O_RIDGE) {
    if (o->no_ridge)
      ir_cli_config_set(cfg, "no-ridge", "true");
    char buf[1024] = "";
    size_t len = 0;
    for (size_t i = 0; !o->no_ridge && i < o->nridge && len < sizeof buf; i++)
      len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? "," : "",
                              ir_cli_fmt_double(num, sizeof num, o->ridge[i]));
    if (!o->no_ridge && o->nridge)
      ir_cli_config_set(cfg, "ridge", "%s", buf);
  }
  return 0;
}

/* The columns and headers a paper shows (report.h, ir_table_set_paper);
 * the CSV keeps every column. */
static const char *const dd_paper[] = {
    "model: N=$N$,N_over_n=$N/n$,train_mse=$\\mathrm{MSE}_\\mathrm{train}$,test_mse=$\\mathrm{MSE}_\\mathrm{test}$,norm=$\\|W\\|_F$,cond=$\\kappa(\\Phi_N)$,?test_mse_opt_ridge=$\\mathrm{MSE}_\\mathrm{test}^\\mathrm{ridge}$",
    "classical: N=$N$,N_over_n=$N/n$,test_mse=$\\mathrm{MSE}_\\mathrm{test}$,norm=$\\|W\\|_F$",
    "model_linear: n=$n$,p=$p$,gamma=$\\gamma$,risk=$\\hat R$,risk_theory=$R$ (exact),risk_asymptotic=$R_\\infty$,z=$z$",
    "samples: n=$n$,p=$p$,n_over_p=$n/p$,risk=$\\hat R$,risk_theory=$R$ (exact),risk_asymptotic=$R_\\infty$,z=$z$",
    NULL};

int ir_an_double_descent(int argc0, char **argv0) {
  int argc;
  char **argv;
  int rc = ir_cli_expand_config(PROG, argc0, argv0, &argc, &argv);
  if (rc != 0)
    return rc;
  const double t0 = ir_wall_time();
  dd_opts o;
  memset(&o, 0, sizeof o);
  ir_cli_common_init(&o.common, AN);
  ir_cli_config cfg = {0, 0, NULL, NULL};
  dd_run run;
  memset(&run, 0, sizeof run);
  run.o = &o;
  run.cfg = &cfg;
  rc = dd_parse(argc, argv, &o, &cfg);
  if (rc != 0) {
    rc = rc < 0 ? IR_EXIT_OK : rc;
    goto done;
  }
  {
    /* The feature matrices (n + ntest) x Nmax, refused up front when they
     * cannot fit. */
    double nmax = (double)o.Nmax;
    for (size_t i = 0; i < o.ngrid; i++)
      nmax = o.grid[i] > nmax ? o.grid[i] : nmax;
    if ((rc = ir_cli_check_memory(
             PROG, "the feature matrices (--n + --ntest) x N-max",
             ir_cli_bytes(o.n + o.ntest, (size_t)nmax, sizeof(double)))) != 0)
      goto done;
  }
  /* Every option checked before any work (`all` stops here). */
  if ((rc = ir_cli_check_run(PROG, &o.common, NULL, 0)) != 0 ||
      ir_cli_validating)
    goto done;
  ir_cli_apply_threads(&o.common);
  ir_cli_break_announce(PROG, &cfg);
  if ((rc = ir_cli_prepare_out(PROG, o.common.out)) != 0)
    goto done;
  run.checks = ir_checks_alloc();
  if (run.checks == NULL) {
    rc = ir_cli_fail(PROG, IR_ENOMEM, "out of memory");
    goto done;
  }
  const int fashion = ir_data_fashion_mnist_available(NULL);
  const int all = o.sweep == SWEEP_ALL;
  const char *stage[20];
  double secs[20];
  size_t ns = 0;
  int s = IR_OK;
#define DD_STAGE(name, call)                                                   \
  do {                                                                         \
    double ts_ = ir_wall_time();                                               \
    if (s == IR_OK)                                                            \
      s = (call);                                                              \
    stage[ns] = name;                                                          \
    secs[ns++] = ir_wall_time() - ts_;                                         \
  } while (0)
  if ((all || o.sweep == SWEEP_MODEL) &&
      (o.data == DATA_FASHION || (o.data == DATA_DEFAULT && fashion)))
  {
    DD_STAGE("model_fashion", dd_exp_model_fashion(&run));
    /* Its parts (the rest of it: tables, checks and figures in memory). */
    const struct {
      const char *name;
      double t;
    } part[] = {{"model_fashion.load", dd_t.load},
                {"model_fashion.features", dd_t.features},
                {"model_fashion.grow", dd_t.grow},
                {"model_fashion.solve", dd_t.solve},
                {"model_fashion.direct", dd_t.direct}};
    for (size_t i = 0; i < sizeof part / sizeof part[0]; i++) {
      stage[ns] = part[i].name;
      secs[ns++] = part[i].t;
    }
  }
  if ((all || o.sweep == SWEEP_MODEL) &&
      (o.data == DATA_LINEAR || o.data == DATA_DEFAULT))
    DD_STAGE("model_linear", dd_exp_model_linear(&run));
  if ((all || o.sweep == SWEEP_MODEL) && o.data == DATA_DEFAULT)
    DD_STAGE("model_relu", dd_exp_model_relu(&run));
  if ((all || o.sweep == SWEEP_SAMPLES) &&
      (o.data == DATA_LINEAR || o.data == DATA_DEFAULT))
    DD_STAGE("samples", dd_exp_samples_linear(&run));
  if ((all || o.sweep == SWEEP_SAMPLES) &&
      (o.data == DATA_FASHION || (o.data == DATA_DEFAULT && fashion)))
    DD_STAGE("samples_fashion", dd_exp_samples_fashion(&run));
  if ((all || o.sweep == SWEEP_EPOCHS) && o.data != DATA_CURVE)
    DD_STAGE("epochs",
             dd_exp_epochs(&run, o.data == DATA_FASHION ||
                                     (o.data == DATA_DEFAULT && fashion)));
  if ((all || o.sweep == SWEEP_MODEL) &&
      (o.data == DATA_CURVE || o.data == DATA_DEFAULT))
    DD_STAGE("classical", dd_exp_classical(&run));
#undef DD_STAGE
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  if (!fashion && o.data == DATA_DEFAULT && !o.common.quiet)
    printf("note: Fashion-MNIST not found (install dataset-fashion-mnist): "
           "the model-wise sweep on it was skipped\n");
  const double tw = ir_wall_time();
  for (size_t i = 0; i < run.ntables && s == IR_OK; i++)
    if ((s = ir_table_set_paper_from(run.tables[i], dd_paper)) == IR_OK)
      s = ir_table_write(run.tables[i], o.common.out, o.common.formats);
  if (s == IR_OK)
    s = ir_checks_write(run.checks, o.common.out, o.common.formats);
  const double tf = ir_wall_time();
  if (s == IR_OK)
    s = ir_figures_write((const ir_figure *const *)run.figs, run.nfigs,
                         o.common.out, 1, NULL);
  stage[ns] = "write";
  secs[ns++] = ir_wall_time() - tw;
  stage[ns] = "write.figures";
  secs[ns++] = ir_wall_time() - tf;
  if (s == IR_OK)
    s = ir_cli_write_manifest(o.common.out, AN, &cfg, stage, secs, ns,
                              run.checks, ir_wall_time() - t0);
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  if (!o.common.quiet) {
    for (size_t i = 0; i < run.ntables; i++) {
      ir_table_print(run.tables[i], stdout);
      putchar('\n');
    }
    ir_checks_print(run.checks, stdout);
    printf("\nwritten to %s/\n", o.common.out);
  }
  if (ir_cli_collect != NULL)
    ir_checks_merge(ir_cli_collect, run.checks, AN);
  rc = ir_cli_exit_status(&o.common, run.checks);
done:
  for (size_t i = 0; i < run.ntables; i++)
    ir_table_free(run.tables[i]);
  for (size_t i = 0; i < run.nfigs; i++)
    ir_figure_free(run.figs[i]);
  ir_checks_free(run.checks);
  free(o.grid);
  free(o.ridge);
  ir_cli_config_free(&cfg);
  ir_cli_argv_free(argc, argv);
  return rc;
}
