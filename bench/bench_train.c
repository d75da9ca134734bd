/* bench_train.c — implreg's side of bench/train: SGD and GD steps of small
 * networks through ir_optim_run (the loop every implreg analysis trains
 * with), on inputs written by bench_train.py.
 *
 * Usage:
 *   bench_train --info
 *   bench_train --data DIR --case NAME --arch A --act F --loss L
 *               --batch B --lr ETA  MODE
 * with MODE one of
 *   --check K     K steps from θ₀ through a model wrapper that logs every
 *                 mini-batch ir_optim_run asks for: writes DIR/NAME.order.npy
 *                 (K×B row indices, the batch order torch replays),
 *                 DIR/NAME.implreg.npy (θ_K) and DIR/NAME.pert.npy (θ_K from
 *                 θ₀ with every entry moved by one ulp up or down at random:
 *                 how much the dynamics amplify rounding-size differences,
 *                 the yardstick of the agreement check)
 *   --time        steady-state steps/s: --reps blocks (default 5) of N
 *                 steps each (N calibrated so that steps 10..N last >=
 *                 --min-time s, default 0.3, and span at least two epochs),
 *                 each block one ir_optim_run from θ₀; the
 *                 rate is measured by the observer between step 10 and the
 *                 last step, so the run's set-up (initial and final full-batch
 *                 loss) is excluded and the per-epoch checks are included.
 *                 Also the floor: the same step's dgemm calls alone.
 *   --whole S     load the data and run S steps, for the driver's whole-
 *                 process time (startup included); prints the final loss
 *
 * Inputs: DIR/NAME.theta.npy (p), NAME.X.npy (n×d), NAME.Y.npy (n×K, one-hot
 * for classification).  Output: one JSON object on stdout.  OpenBLAS's own
 * <cblas.h> clashes with GSL's headers (docs/stack.md trap 2), so the few
 * OpenBLAS extensions used here are declared directly. */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_vector.h>

#include "implreg/data.h"
#include "implreg/mlp.h"
#include "implreg/model.h"
#include "implreg/optim.h"
#include "implreg/status.h"

#define BENCH_PROG "bench_train"
#include "bench_util.h"

char *openblas_get_config(void);
char *openblas_get_corename(void);
int openblas_get_num_threads(void);

#define PROG BENCH_PROG
#define WARM 10 /* steps before the steady-state clock starts */

typedef struct {
  const char *data, *name, *arch, *act, *loss;
  size_t batch, check, whole;
  double lr, min_time;
  int info, time, reps;
} opts;

typedef struct {
  ir_mlp_arch a;
  gsl_matrix *X, *Y;
  gsl_vector *theta0;
  ir_model *m;
} problem;

static void problem_free(problem *pb) {
  ir_model_free(pb->m);
  gsl_matrix_free(pb->X);
  gsl_matrix_free(pb->Y);
  gsl_vector_free(pb->theta0);
  memset(pb, 0, sizeof *pb);
}

static int read_npy(const opts *o, const char *what, gsl_matrix **m) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.%s.npy", o->data, o->name, what);
  int s = ir_data_read_npy(path, m);
  return s == IR_OK ? 0 : fail(path, s);
}

static int write_npy(const opts *o, const char *what, const gsl_matrix *m) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.%s.npy", o->data, o->name, what);
  int s = ir_data_write_npy(path, m);
  return s == IR_OK ? 0 : fail(path, s);
}

static int problem_load(const opts *o, problem *pb) {
  memset(pb, 0, sizeof *pb);
  int s = ir_mlp_arch_parse(o->arch, &pb->a);
  if (s == IR_OK)
    s = ir_act_parse(o->act, &pb->a.act);
  if (s == IR_OK)
    s = ir_loss_parse(o->loss, &pb->a.loss);
  if (s != IR_OK)
    return fail("architecture", s);
  gsl_matrix *T = NULL;
  if (read_npy(o, "theta", &T) || read_npy(o, "X", &pb->X) ||
      read_npy(o, "Y", &pb->Y)) {
    gsl_matrix_free(T);
    problem_free(pb);
    return 1;
  }
  const size_t p = T->size1 * T->size2;
  pb->theta0 = gsl_vector_alloc(p);
  memcpy(pb->theta0->data, T->data, p * sizeof(double)); /* contiguous */
  gsl_matrix_free(T);
  pb->m = ir_model_mlp_alloc(&pb->a, pb->X, pb->Y);
  if (pb->m == NULL) {
    problem_free(pb);
    return fail("network", IR_EINVAL);
  }
  if (pb->m->nparams != p) {
    fprintf(stderr, PROG ": %s.theta.npy has %zu entries, %s has %zu\n",
            o->name, p, o->arch, pb->m->nparams);
    problem_free(pb);
    return 1;
  }
  return 0;
}

static void set_params(const opts *o, ir_optim_params *p, size_t steps) {
  ir_optim_params_default(p);
  p->lr = o->lr;
  p->batch = o->batch;
  p->max_steps = steps;
}

/* ---- --check: a wrapper model that logs the mini-batches ------------------
 */

typedef struct {
  ir_model base;
  ir_model *inner;
  double *log; /* rows of B indices, as doubles for the .npy */
  size_t rows, cap, B;
} logger;

static int log_loss_grad(ir_model *m, const double *theta, const size_t *idx,
                         size_t nb, double *loss, double *grad) {
  logger *l = (logger *)m;
  if (idx != NULL && grad != NULL) {
    if (nb != l->B || l->rows == l->cap)
      return ir_error(IR_EINTERNAL, "batch log: batch of %zu at row %zu", nb,
                      l->rows);
    for (size_t i = 0; i < nb; i++)
      l->log[l->rows * l->B + i] = (double)idx[i];
    l->rows++;
  }
  return l->inner->ops->loss_grad(l->inner, theta, idx, nb, loss, grad);
}

static const ir_model_ops log_ops = {"logger", log_loss_grad, NULL, NULL,
                                     NULL,     NULL,          NULL};

static int run_check(const opts *o, problem *pb) {
  const size_t K = o->check, p = pb->m->nparams;
  const int full = o->batch == 0 || o->batch >= pb->X->size1;
  logger lg;
  memset(&lg, 0, sizeof lg);
  lg.base = *pb->m;
  lg.base.ops = &log_ops;
  lg.inner = pb->m;
  lg.B = o->batch;
  lg.cap = K;
  lg.log = full ? NULL : malloc(K * o->batch * sizeof(double));
  gsl_vector *th = gsl_vector_alloc(p);
  gsl_matrix *out = gsl_matrix_alloc(1, p);
  ir_optim_params prm;
  ir_optim_result res;
  set_params(o, &prm, K);
  int rc = 0;
  gsl_vector_memcpy(th, pb->theta0);
  int s = ir_optim_run(full ? pb->m : &lg.base, &prm, th, NULL, NULL, &res);
  if (s != IR_OK)
    rc = fail("ir_optim_run", s);
  else if (res.steps != K || res.diverged) {
    fprintf(stderr, PROG ": %s ran %zu of %zu steps (reason %d)\n", o->name,
            res.steps, K, res.reason);
    rc = 1;
  }
  if (!rc) {
    memcpy(out->data, th->data, p * sizeof(double));
    rc = write_npy(o, "implreg", out);
  }
  if (!rc && !full) {
    gsl_matrix_view ov = gsl_matrix_view_array(lg.log, K, o->batch);
    rc = write_npy(o, "order", &ov.matrix);
  }
  const double final = res.final_loss;
  if (!rc) {
    /* θ₀ moved by one ulp per entry, random direction. */
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 12345);
    for (size_t i = 0; i < p; i++) {
      double x = gsl_vector_get(pb->theta0, i);
      th->data[i] = nextafter(x, gsl_rng_uniform(r) < 0.5 ? -INFINITY
                                                           : INFINITY);
    }
    gsl_rng_free(r);
    s = ir_optim_run(pb->m, &prm, th, NULL, NULL, &res);
    if (s != IR_OK)
      rc = fail("ir_optim_run (perturbed)", s);
    else {
      memcpy(out->data, th->data, p * sizeof(double));
      rc = write_npy(o, "pert", out);
    }
  }
  if (!rc) {
    printf("{\"case\": \"%s\", \"steps\": %zu, ", o->name, K);
    jnum("final_loss", final, "}\n");
  }
  free(lg.log);
  gsl_vector_free(th);
  gsl_matrix_free(out);
  return rc;
}

/* ---- --time ---------------------------------------------------------------
 */

typedef struct {
  double t_warm, t_last;
  size_t last;
} clock_obs;

static int clock_observe(void *ctx, size_t step, const gsl_vector *theta) {
  (void)theta;
  clock_obs *c = ctx;
  if (step == WARM)
    c->t_warm = now();
  c->t_last = now();
  c->last = step;
  return 0;
}

/* One ir_optim_run of `steps` steps from θ₀; the steady-state rate in
 * steps/s, or a negative number on failure. */
static double timed_block(const opts *o, problem *pb, gsl_vector *th,
                          size_t steps) {
  ir_optim_params prm;
  ir_optim_result res;
  set_params(o, &prm, steps);
  clock_obs c = {0, 0, 0};
  gsl_vector_memcpy(th, pb->theta0);
  int s = ir_optim_run(pb->m, &prm, th, clock_observe, &c, &res);
  if (s != IR_OK) {
    fail("ir_optim_run", s);
    return -1;
  }
  if (res.steps != steps || res.diverged) {
    fprintf(stderr, PROG ": %s ran %zu of %zu steps (reason %d)\n", o->name,
            res.steps, steps, res.reason);
    return -1;
  }
  return (double)(steps - WARM) / (c.t_last - c.t_warm);
}

/* The dgemm calls of one step alone (forward X_b·W_lᵀ, weight gradient
 * G_lᵀ·A_{l−1}, input gradient G_l·W_l for l >= 1) on the batch's shapes:
 * the BLAS floor of a step.  Seconds per step, median of 5 loops. */
static double dgemm_floor(const problem *pb, size_t m, double min_time) {
  const ir_mlp_arch *a = &pb->a;
  size_t maxw = 0;
  for (size_t l = 0; l <= a->nlayers; l++)
    maxw = a->width[l] > maxw ? a->width[l] : maxw;
  double *in = calloc(m * maxw, sizeof(double));
  double *out = calloc(m * maxw, sizeof(double));
  double *W = calloc(maxw * maxw, sizeof(double));
  double *g = calloc(maxw * maxw, sizeof(double));
  double t[5] = {0};
  if (in && out && W && g) {
    for (size_t i = 0; i < m * maxw; i++)
      in[i] = out[i] = 0.001 * (double)(i % 97);
    for (int r = 0; r < 5; r++) {
      size_t calls = 0;
      double t0 = now(), t1 = t0;
      while (t1 - t0 < min_time / 5) {
        for (size_t l = 0; l < a->nlayers; l++) {
          const int i = (int)a->width[l], o = (int)a->width[l + 1];
          cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, o, i,
                      1.0, in, i, W, i, 0.0, out, o);
          cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o, i, (int)m,
                      1.0, out, o, in, i, 0.0, g, i);
          if (l > 0)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, i,
                        o, 1.0, out, o, W, i, 0.0, in, i);
        }
        calls++;
        t1 = now();
      }
      t[r] = (t1 - t0) / (double)calls;
    }
  }
  free(in);
  free(out);
  free(W);
  free(g);
  for (int i = 1; i < 5; i++) /* insertion sort, median */
    for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
      double x = t[j];
      t[j] = t[j - 1];
      t[j - 1] = x;
    }
  return t[2];
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int run_time(const opts *o, problem *pb) {
  gsl_vector *th = gsl_vector_alloc(pb->m->nparams);
  /* Calibration (also the warm-up): grow N until the timed part of a block
   * (steps WARM..N) lasts long enough; for mini-batches it spans at least
   * two epochs, so that the per-epoch work of ir_optim_run is in it. */
  const size_t n = pb->X->size1;
  const size_t epoch =
      o->batch == 0 || o->batch >= n ? 1 : (n + o->batch - 1) / o->batch;
  size_t steps = WARM + (2 * epoch > 3 * WARM ? 2 * epoch : 3 * WARM);
  double rate = -1;
  for (;;) {
    rate = timed_block(o, pb, th, steps);
    if (rate < 0) {
      gsl_vector_free(th);
      return 1;
    }
    const double dt = (double)(steps - WARM) / rate;
    if (dt >= o->min_time)
      break;
    steps = WARM + (size_t)((double)(steps - WARM) *
                            fmin(8.0, 1.1 * o->min_time / dt)) +
            1;
  }
  size_t nb = (size_t)o->reps;
  double *r = malloc(nb * sizeof(double));
  for (size_t i = 0; i < nb; i++) {
    r[i] = timed_block(o, pb, th, steps);
    if (r[i] < 0) {
      free(r);
      gsl_vector_free(th);
      return 1;
    }
  }
  const size_t m = o->batch == 0 || o->batch >= pb->X->size1 ? pb->X->size1
                                                            : o->batch;
  double floor_s = dgemm_floor(pb, m, o->min_time);
  printf("{\"case\": \"%s\", \"threads\": %d, \"steps_per_block\": %zu, ",
         o->name, openblas_get_num_threads(), steps);
  jarr("rates", r, nb, ", ");
  qsort(r, nb, sizeof(double), cmp_double);
  jnum("median", nb % 2 ? r[nb / 2] : 0.5 * (r[nb / 2 - 1] + r[nb / 2]), ", ");
  jnum("dgemm_floor_s", floor_s, "}\n");
  free(r);
  gsl_vector_free(th);
  return 0;
}

static int run_whole(const opts *o, problem *pb) {
  ir_optim_params prm;
  ir_optim_result res;
  set_params(o, &prm, o->whole);
  gsl_vector *th = gsl_vector_alloc(pb->m->nparams);
  gsl_vector_memcpy(th, pb->theta0);
  int s = ir_optim_run(pb->m, &prm, th, NULL, NULL, &res);
  gsl_vector_free(th);
  if (s != IR_OK)
    return fail("ir_optim_run", s);
  printf("{\"case\": \"%s\", \"steps\": %zu, ", o->name, res.steps);
  jnum("cpu_s", cpu_now(), ", ");
  jnum("final_loss", res.final_loss, "}\n");
  return 0;
}

static int run_info(void) {
  printf("# openblas_config %s\n", openblas_get_config());
  printf("# openblas_corename %s\n", openblas_get_corename());
  printf("# openblas_threads %d\n", openblas_get_num_threads());
  /* Bind the BLAS symbols (the driver checks them with LD_DEBUG=bindings). */
  double a[4] = {1, 2, 3, 4}, c[4];
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 2, 2, 2, 1.0, a, 2, a,
              2, 0.0, c, 2);
  cblas_dgemv(CblasRowMajor, CblasNoTrans, 2, 2, 1.0, a, 2, a, 1, 0.0, c, 1);
  cblas_daxpy(2, 1.0, a, 1, c, 1);
  printf("# selftest dgemm %g\n", c[0]);
  return 0;
}

static int parse_size(const char *opt, const char *arg, size_t *out,
                      size_t least) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(arg, &end, 10);
  if (errno || *end || end == arg || arg[0] == '-' || v < least) {
    fprintf(stderr, PROG ": %s takes an integer >= %zu\n", opt, least);
    return 1;
  }
  *out = (size_t)v;
  return 0;
}

int main(int argc, char **argv) {
  opts o;
  memset(&o, 0, sizeof o);
  o.min_time = 0.3;
  o.reps = 5;
  enum {
    O_INFO = 1,
    O_DATA,
    O_CASE,
    O_ARCH,
    O_ACT,
    O_LOSS,
    O_BATCH,
    O_LR,
    O_CHECK,
    O_TIME,
    O_WHOLE,
    O_MINT,
    O_REPS
  };
  static const struct option longopts[] = {
      {"info", no_argument, NULL, O_INFO},
      {"data", required_argument, NULL, O_DATA},
      {"case", required_argument, NULL, O_CASE},
      {"arch", required_argument, NULL, O_ARCH},
      {"act", required_argument, NULL, O_ACT},
      {"loss", required_argument, NULL, O_LOSS},
      {"batch", required_argument, NULL, O_BATCH},
      {"lr", required_argument, NULL, O_LR},
      {"check", required_argument, NULL, O_CHECK},
      {"time", no_argument, NULL, O_TIME},
      {"whole", required_argument, NULL, O_WHOLE},
      {"min-time", required_argument, NULL, O_MINT},
      {"reps", required_argument, NULL, O_REPS},
      {NULL, 0, NULL, 0}};
  gsl_set_error_handler_off();
  int ch;
  size_t reps = 5;
  while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    int bad = 0;
    switch (ch) {
    case O_INFO: o.info = 1; break;
    case O_DATA: o.data = optarg; break;
    case O_CASE: o.name = optarg; break;
    case O_ARCH: o.arch = optarg; break;
    case O_ACT: o.act = optarg; break;
    case O_LOSS: o.loss = optarg; break;
    case O_BATCH: bad = parse_size("--batch", optarg, &o.batch, 0); break;
    case O_LR: bad = parse_double("--lr", optarg, &o.lr); break;
    case O_CHECK: bad = parse_size("--check", optarg, &o.check, 1); break;
    case O_TIME: o.time = 1; break;
    case O_WHOLE: bad = parse_size("--whole", optarg, &o.whole, 1); break;
    case O_MINT: bad = parse_double("--min-time", optarg, &o.min_time); break;
    case O_REPS: bad = parse_size("--reps", optarg, &reps, 1); break;
    default: bad = 1;
    }
    if (bad) {
      fprintf(stderr, "usage: " PROG " --info | --data DIR --case NAME --arch "
                      "A --act F --loss L --batch B --lr ETA (--check K | "
                      "--time [--min-time S] [--reps R] | --whole S)\n");
      return 2;
    }
  }
  o.reps = (int)(reps > 1000 ? 1000 : reps);
  if (o.info)
    return run_info();
  if (!o.data || !o.name || !o.arch || !o.act || !o.loss || !(o.lr > 0) ||
      optind != argc || (o.check > 0) + o.time + (o.whole > 0) != 1) {
    fprintf(stderr, PROG ": need --data, --case, --arch, --act, --loss, --lr "
                    "and exactly one of --check, --time, --whole\n");
    return 2;
  }
  problem pb;
  if (problem_load(&o, &pb))
    return 1;
  int rc = o.check ? run_check(&o, &pb)
                   : o.time ? run_time(&o, &pb) : run_whole(&o, &pb);
  problem_free(&pb);
  return rc;
}
