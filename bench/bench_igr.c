/* bench_igr.c — implreg's side of bench/igr: the modified gradient flow
 *
 *   θ̇ = −(∇E + 2λ ∇²E ∇E),   λ = h/4   (flow.h with c = 1, κ = 0),
 *
 * of a network's training loss, integrated by ir_flow_solve (rk8pd, GSL
 * odeiv2) from θ₀ to the grid times read from DIR/times.npy, on inputs
 * written by bench_igr.py.
 *
 * Usage:
 *   bench_igr --info
 *   bench_igr --data DIR --case teacher|fashion --h H --rtol R
 *             [--min-time S] [--fashion DIR] [--no-global]
 *
 * Inputs: DIR/times.npy (K grid times t_j = j·h), DIR/CASE.theta.npy (p),
 * CASE.X.npy (n×d), CASE.Y.npy (n×K outputs).  Networks (as bench_igr.py's
 * CASES):
 *   teacher  4-32-1 tanh, half-mse     fashion  784-16-10 tanh, mse
 *
 * One invocation (the driver alternates it with bench_igr.py and keeps the
 * best of its runs):
 *   1. per-call times, which also warm the process up (the first
 *      integration in a fresh process ran up to 1.5× slower than the next
 *      ones here, on both sides): ir_flow_field (one gradient + one HVP
 *      reusing its forward pass, what the integrator pays per evaluation)
 *      and ir_model_loss_grad alone, each a loop of N calls lasting at least
 *      --min-time seconds, at θ₀ and θ₀ with one entry moved by one ulp in
 *      turn, so that no call finds the model's cache warm;
 *   2. the timed integration: ir_flow_solve with stepper IR_FLOW_RK8PD,
 *      rtol R, atol −1 (the library's rtol·max(‖θ₀‖∞, 1), which the torch
 *      side uses too), global_error 0; θ(t_j) written as
 *      DIR/CASE.implreg.npy (K×p);
 *   3. for information: the same with global_error 1 (a second integration
 *      at rtol/100, atol/100; its tighter solution is written as
 *      DIR/CASE.tight.npy, the reference both sides are compared with), and
 *      the same with the last grid time as the only output (how many
 *      evaluations the grid's exact landings cost); for fashion, the
 *      machine's dgemm rates (dgemm_rates).
 * For fashion it also checks that CASE.X.npy holds the first n images of
 * the IDX file read by ir_data_read_idx, scaled by 1/255.
 *
 * Output: one JSON object on stdout; --info prints '#' lines.  OpenBLAS's
 * own <cblas.h> clashes with GSL's headers (docs/stack.md trap 2), so the few
 * OpenBLAS extensions used here are declared directly. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>

#include "implreg/data.h"
#include "implreg/flow.h"
#include "implreg/mlp.h"
#include "implreg/model.h"
#include "implreg/status.h"

#define BENCH_PROG "bench_igr"
#include "bench_util.h"

char *openblas_get_config(void);
char *openblas_get_corename(void);
int openblas_get_num_threads(void);

#define PROG "bench_igr"
#define MAX_CALLS (1UL << 22) /* a cap on the per-call loops */

typedef struct {
  const char *data, *casename, *fashion;
  double h, rtol, min_time;
  int info, global;
} bench_opts;

typedef struct {
  const char *name, *arch, *act, *loss;
} bench_case;

static const bench_case CASES[] = {{"teacher", "4-32-1", "tanh", "half-mse"},
                                   {"fashion", "784-16-10", "tanh", "mse"}};

/* ---- The problem --------------------------------------------------------- */

typedef struct {
  const bench_case *c;
  ir_mlp_arch arch;
  gsl_matrix *X, *Y;
  gsl_vector *theta;
  double *times;
  size_t nt;
  ir_model *model;
} problem;

static void problem_free(problem *pb) {
  ir_model_free(pb->model);
  gsl_matrix_free(pb->X);
  gsl_matrix_free(pb->Y);
  gsl_vector_free(pb->theta);
  free(pb->times);
  memset(pb, 0, sizeof *pb);
}

static int read_npy(const bench_opts *o, const char *name, gsl_matrix **m) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.npy", o->data, name);
  int s = ir_data_read_npy(path, m);
  return s == IR_OK ? 0 : fail(path, s);
}

static int problem_load(const bench_opts *o, problem *pb) {
  memset(pb, 0, sizeof *pb);
  for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
    if (strcmp(o->casename, CASES[i].name) == 0)
      pb->c = &CASES[i];
  if (pb->c == NULL) {
    fprintf(stderr, PROG ": unknown case %s (teacher, fashion)\n", o->casename);
    return 1;
  }
  int s = ir_mlp_arch_parse(pb->c->arch, &pb->arch);
  if (s == IR_OK)
    s = ir_act_parse(pb->c->act, &pb->arch.act);
  if (s == IR_OK)
    s = ir_loss_parse(pb->c->loss, &pb->arch.loss);
  if (s != IR_OK)
    return fail("architecture", s);
  char name[256];
  gsl_matrix *T = NULL, *G = NULL;
  int bad = read_npy(o, "times", &G);
  snprintf(name, sizeof name, "%s.theta", pb->c->name);
  bad = bad || read_npy(o, name, &T);
  snprintf(name, sizeof name, "%s.X", pb->c->name);
  bad = bad || read_npy(o, name, &pb->X);
  snprintf(name, sizeof name, "%s.Y", pb->c->name);
  bad = bad || read_npy(o, name, &pb->Y);
  if (bad) {
    gsl_matrix_free(T);
    gsl_matrix_free(G);
    return 1;
  }
  const size_t p = ir_mlp_nparams(&pb->arch);
  const size_t K = pb->arch.width[pb->arch.nlayers];
  if (T->size1 * T->size2 != p || pb->X->size2 != pb->arch.width[0] ||
      pb->Y->size1 != pb->X->size1 || pb->Y->size2 != K) {
    fprintf(stderr,
            PROG ": %s: theta has %zu entries (want %zu), X %zu columns (want "
                 "%zu), Y is %zux%zu (want %zux%zu)\n",
            pb->c->name, T->size1 * T->size2, p, pb->X->size2,
            pb->arch.width[0], pb->Y->size1, pb->Y->size2, pb->X->size1, K);
    gsl_matrix_free(T);
    gsl_matrix_free(G);
    return 1;
  }
  pb->theta = gsl_vector_alloc(p);
  memcpy(pb->theta->data, T->data, p * sizeof(double)); /* p×1 or 1×p */
  gsl_matrix_free(T);
  pb->nt = G->size1 * G->size2;
  pb->times = malloc(pb->nt * sizeof(double));
  if (pb->times == NULL) {
    gsl_matrix_free(G);
    return fail("times", IR_ENOMEM);
  }
  memcpy(pb->times, G->data, pb->nt * sizeof(double));
  gsl_matrix_free(G);
  pb->model = ir_model_mlp_alloc(&pb->arch, pb->X, pb->Y);
  if (pb->model == NULL)
    return fail("ir_model_mlp_alloc", IR_EINVAL);
  return 0;
}

static int write_matrix(const bench_opts *o, const char *name,
                        const gsl_matrix *m) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.npy", o->data, name);
  int s = ir_data_write_npy(path, m);
  return s == IR_OK ? 0 : fail(path, s);
}

/* max |X_ij − round(255·X_ij)/255 read back from the IDX file|: whether
 * CASE.X.npy holds the first n images of the training file, pixels / 255.
 * NaN (and a note on stderr) when the files are not there. */
static double idx_check(const bench_opts *o, const problem *pb) {
  if (!ir_data_fashion_mnist_available(o->fashion)) {
    fprintf(stderr, PROG ": Fashion-MNIST not found in %s: X not checked\n",
            o->fashion);
    return NAN;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", o->fashion);
  gsl_matrix *M = NULL;
  int s = ir_data_read_idx(path, pb->X->size1, &M);
  if (s != IR_OK) {
    fail(path, s);
    return NAN;
  }
  double d =
      M->size1 == pb->X->size1 && M->size2 == pb->X->size2 ? 0 : INFINITY;
  for (size_t i = 0; i < M->size1 && isfinite(d); i++)
    for (size_t j = 0; j < M->size2; j++)
      d = fmax(d, fabs(gsl_matrix_get(M, i, j) / 255.0 -
                       gsl_matrix_get(pb->X, i, j)));
  gsl_matrix_free(M);
  return d;
}

/* The machine's dgemm rate through the same OpenBLAS, in GFLOP/s, best of
 * 3: a 2000×2000×2000 product (as bench_hessian), and the product the
 * fashion field is made of, X (n×d) times a d×16 matrix (the forward pass
 * X·W₁ᵀ; the R-forward pass and the two first-layer weight gradients have
 * the same size), each repeated until it lasts 0.1 s. */
static void dgemm_rates(const gsl_matrix *X, size_t width, double *square,
                        double *field) {
  const size_t m = 2000;
  gsl_matrix *A = gsl_matrix_alloc(m, m), *B = gsl_matrix_alloc(m, m),
             *C = gsl_matrix_alloc(m, m),
             *W = gsl_matrix_alloc(width, X->size2),
             *Z = gsl_matrix_alloc(X->size1, width);
  *square = *field = NAN;
  if (A && B && C && W && Z) {
    for (size_t i = 0; i < m * m; i++) {
      A->data[i] = sin((double)i);
      B->data[i] = cos((double)i);
    }
    for (size_t i = 0; i < width * X->size2; i++)
      W->data[i] = sin((double)i);
    double t = INFINITY, tf = INFINITY;
    for (int r = 0; r < 3; r++) {
      double t0 = now();
      gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, A, B, 0.0, C);
      t = fmin(t, now() - t0);
      unsigned long calls = 0;
      t0 = now();
      do {
        gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, X, W, 0.0, Z);
        calls++;
      } while (now() - t0 < 0.1);
      tf = fmin(tf, (now() - t0) / (double)calls);
    }
    *square = 2.0 * (double)m * (double)m * (double)m / t / 1e9;
    *field =
        2.0 * (double)X->size1 * (double)X->size2 * (double)width / tf / 1e9;
  }
  gsl_matrix_free(A);
  gsl_matrix_free(B);
  gsl_matrix_free(C);
  gsl_matrix_free(W);
  gsl_matrix_free(Z);
}

/* ---- Timing ----------------------------------------------------------------
 */

typedef struct {
  problem *pb;
  const ir_flow_params *fp;
  gsl_vector *th_alt, *out;
  unsigned long flip;
} op_ctx;

typedef int (*op_fn)(op_ctx *);

static int op_field(op_ctx *c) {
  c->flip ^= 1;
  return ir_flow_field(c->pb->model, c->fp, c->flip ? c->th_alt : c->pb->theta,
                       c->out);
}

static int op_grad(op_ctx *c) {
  double loss;
  c->flip ^= 1;
  return ir_model_loss_grad(c->pb->model, c->flip ? c->th_alt : c->pb->theta,
                            NULL, 0, &loss, c->out);
}

typedef struct {
  double seconds, cpu_seconds; /* per call */
  unsigned long calls;
} timing;

/* One loop of N calls lasting at least min_time seconds (N doubled from 1,
 * after a warm-up call); per-call wall and CPU seconds of that loop. */
static int time_op(double min_time, op_fn f, op_ctx *c, timing *t) {
  int s = f(c);
  unsigned long calls = 1;
  for (;;) {
    double c0 = cpu_now(), t0 = now();
    for (unsigned long i = 0; i < calls && s == IR_OK; i++)
      s = f(c);
    double el = now() - t0, cpu = cpu_now() - c0;
    if (s != IR_OK)
      return s;
    if (el >= min_time || calls >= MAX_CALLS) {
      t->calls = calls;
      t->seconds = el / (double)calls;
      t->cpu_seconds = cpu / (double)calls;
      return IR_OK;
    }
    double want = ceil((double)calls * 1.2 * min_time / fmax(el, 1e-9));
    calls = want > 2.0 * (double)calls ? (unsigned long)want : 2 * calls;
  }
}

/* One timed integration to the times of pb (or the last one only, when
 * last_only) with global_error ge.  Rejected steps: every rk8pd step
 * attempt, accepted or not, costs 13 evaluations (12 stages, and f at the
 * new point, which GSL's evolve reuses as the next step's k1); each
 * integration adds 2 (ir_flow_integrate's starting-step estimate, and
 * GSL's k1 of the first step). */
typedef struct {
  double seconds, cpu_seconds, err_max;
  size_t nevals, nsteps;
  long nrejected;
} flow_run;

static int run_flow(problem *pb, const ir_flow_params *fp, int last_only,
                    gsl_matrix *out, double *err, flow_run *r) {
  ir_flow_result res;
  const double *times = last_only ? pb->times + pb->nt - 1 : pb->times;
  const size_t nt = last_only ? 1 : pb->nt;
  gsl_matrix_view o = gsl_matrix_submatrix(out, 0, 0, nt, out->size2);
  double c0 = cpu_now(), t0 = now();
  int s =
      ir_flow_solve(pb->model, fp, pb->theta, times, nt, &o.matrix, err, &res);
  r->seconds = now() - t0;
  r->cpu_seconds = cpu_now() - c0;
  if (s != IR_OK)
    return s;
  r->nevals = res.nevals;
  r->nsteps = res.nsteps;
  r->err_max = res.err_max;
  const long integrations = fp->global_error ? 2 : 1;
  r->nrejected =
      ((long)res.nevals - 2 * integrations - 13 * (long)res.nsteps) / 13;
  return IR_OK;
}

static void print_run(const char *key, const flow_run *r, const char *sep) {
  printf("\"%s\": {", key);
  jnum("seconds", r->seconds, ", ");
  jnum("cpu_seconds", r->cpu_seconds, ", ");
  printf("\"nfev\": %zu, \"nsteps\": %zu, \"nrejected\": %ld, ", r->nevals,
         r->nsteps, r->nrejected);
  jnum("err_max", r->err_max, "");
  printf("}%s", sep);
}

static void print_timing(const char *key, const timing *t, const char *sep) {
  printf("\"%s\": {", key);
  jnum("seconds", t->seconds, ", ");
  jnum("cpu_seconds", t->cpu_seconds, ", ");
  printf("\"calls\": %lu}%s", t->calls, sep);
}

static int run_case(const bench_opts *o) {
  problem pb;
  if (problem_load(o, &pb)) {
    problem_free(&pb);
    return 1;
  }
  const size_t p = pb.theta->size;
  ir_flow_params fp;
  ir_flow_params_default(&fp);
  fp.c = 1;
  fp.lambda = o->h / 4;
  fp.kappa = 0;
  fp.stepper = IR_FLOW_RK8PD;
  fp.rtol = o->rtol;
  fp.atol = -1; /* rtol·max(‖θ₀‖∞, 1) */
  fp.global_error = 0;
  double th_inf = 0;
  for (size_t i = 0; i < p; i++)
    th_inf = fmax(th_inf, fabs(gsl_vector_get(pb.theta, i)));
  const double atol = fp.rtol * fmax(th_inf, 1.0);

  gsl_matrix *out = gsl_matrix_alloc(pb.nt, p);
  double *err = malloc(pb.nt * sizeof(double));
  op_ctx c = {&pb, &fp, gsl_vector_alloc(p), gsl_vector_alloc(p), 0};
  int rc = 1, s = IR_OK;
  if (!out || !err || !c.th_alt || !c.out) {
    fail("allocation", IR_ENOMEM);
    goto done;
  }
  gsl_vector_memcpy(c.th_alt, pb.theta);
  gsl_vector_set(c.th_alt, 0, nextafter(gsl_vector_get(pb.theta, 0), INFINITY));
  double idx_diff = NAN;
  if (strcmp(pb.c->name, "fashion") == 0)
    idx_diff = idx_check(o, &pb);

  double loss0 = NAN;
  if ((s = ir_model_loss_grad(pb.model, pb.theta, NULL, 0, &loss0, c.out)) !=
      IR_OK) {
    fail("ir_model_loss_grad", s);
    goto done;
  }
  /* Warm-up: the model's buffers, the BLAS threads. */
  if ((s = ir_flow_field(pb.model, &fp, pb.theta, c.out)) != IR_OK) {
    fail("ir_flow_field", s);
    goto done;
  }

  timing tf, tg; /* first: they warm the process up */
  if ((s = time_op(o->min_time, op_field, &c, &tf)) != IR_OK ||
      (s = time_op(o->min_time, op_grad, &c, &tg)) != IR_OK) {
    fail("per-call timing", s);
    goto done;
  }

  flow_run main_run, ge_run = {NAN, NAN, NAN, 0, 0, 0},
                     last_run = {NAN, NAN, NAN, 0, 0, 0};
  if ((s = run_flow(&pb, &fp, 0, out, NULL, &main_run)) != IR_OK) {
    fail("ir_flow_solve (global_error 0)", s);
    goto done;
  }
  char name[256];
  snprintf(name, sizeof name, "%s.implreg", pb.c->name);
  if (write_matrix(o, name, out))
    goto done;
  if (o->global) {
    ir_flow_params fg = fp;
    fg.global_error = 1;
    if ((s = run_flow(&pb, &fg, 0, out, err, &ge_run)) != IR_OK) {
      fail("ir_flow_solve (global_error 1)", s);
      goto done;
    }
    snprintf(name, sizeof name, "%s.tight", pb.c->name);
    if (write_matrix(o, name, out))
      goto done;
    if ((s = run_flow(&pb, &fp, 1, out, NULL, &last_run)) != IR_OK) {
      fail("ir_flow_solve (last time only)", s);
      goto done;
    }
  }

  printf("{\"side\": \"implreg\", \"case\": \"%s\", \"threads\": %d, "
         "\"p\": %zu, \"n\": %zu, \"K\": %zu, ",
         pb.c->name, openblas_get_num_threads(), p, pb.X->size1, pb.nt);
  jnum("h", o->h, ", ");
  jnum("lambda", fp.lambda, ", ");
  jnum("rtol", fp.rtol, ", ");
  jnum("atol", atol, ", ");
  jnum("theta0_inf", th_inf, ", ");
  jnum("loss0", loss0, ", ");
  jnum("idx_max_diff", idx_diff, ", ");
  printf("\"stepper\": \"%s\", ", ir_flow_stepper_name(fp.stepper));
  print_run("flow", &main_run, ", ");
  if (o->global) {
    print_run("flow_global_error", &ge_run, ", ");
    jarr("err", err, pb.nt, ", ");
    print_run("flow_last_only", &last_run, ", ");
  }
  if (strcmp(pb.c->name, "fashion") == 0) {
    double sq, fd;
    dgemm_rates(pb.X, pb.arch.width[1], &sq, &fd);
    jnum("dgemm_gflops", sq, ", ");
    jnum("dgemm_field_gflops", fd, ", ");
  }
  print_timing("field", &tf, ", ");
  print_timing("grad", &tg, "");
  printf("}\n");
  rc = 0;
done:
  gsl_matrix_free(out);
  free(err);
  gsl_vector_free(c.th_alt);
  gsl_vector_free(c.out);
  problem_free(&pb);
  return rc;
}

/* OpenBLAS build and core; a tiny network's flow field so that the BLAS
 * symbols get bound (the driver checks them with LD_DEBUG=bindings). */
static int run_info(void) {
  printf("# openblas_config %s\n", openblas_get_config());
  printf("# openblas_corename %s\n", openblas_get_corename());
  printf("# openblas_threads %d\n", openblas_get_num_threads());
  ir_mlp_arch a;
  memset(&a, 0, sizeof a);
  int s = ir_mlp_arch_parse("2-3-1", &a);
  a.act = IR_ACT_TANH;
  a.loss = IR_LOSS_HALF_SSE;
  gsl_matrix *X = gsl_matrix_alloc(4, 2), *Y = gsl_matrix_alloc(4, 1);
  for (size_t i = 0; i < 4; i++) {
    gsl_matrix_set(X, i, 0, (double)i);
    gsl_matrix_set(X, i, 1, 1.0 - (double)i);
    gsl_matrix_set(Y, i, 0, 0.5 * (double)i);
  }
  ir_model *m = s == IR_OK ? ir_model_mlp_alloc(&a, X, Y) : NULL;
  if (m != NULL) {
    gsl_vector *th = gsl_vector_alloc(m->nparams);
    gsl_vector *f = gsl_vector_alloc(m->nparams);
    for (size_t i = 0; i < m->nparams; i++)
      gsl_vector_set(th, i, 0.1 * (double)(i % 5) - 0.2);
    ir_flow_params fp;
    ir_flow_params_default(&fp);
    fp.lambda = 0.01;
    s = ir_flow_field(m, &fp, th, f);
    gsl_vector_free(th);
    gsl_vector_free(f);
  } else if (s == IR_OK) {
    s = IR_EINVAL;
  }
  if (s == IR_OK)
    printf("# selftest 2-3-1 tanh network: flow field ok\n");
  ir_model_free(m);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
  return s == IR_OK ? 0 : fail("selftest", s);
}

int main(int argc, char **argv) {
  bench_opts o = {
      NULL, NULL, "/usr/share/datasets/fashion-mnist", 0.05, 1e-10, 0.3, 0, 1};
  enum { O_INFO = 1, O_DATA, O_CASE, O_H, O_RTOL, O_MINT, O_FASHION, O_NOGE };
  static const struct option longopts[] = {
      {"info", no_argument, NULL, O_INFO},
      {"data", required_argument, NULL, O_DATA},
      {"case", required_argument, NULL, O_CASE},
      {"h", required_argument, NULL, O_H},
      {"rtol", required_argument, NULL, O_RTOL},
      {"min-time", required_argument, NULL, O_MINT},
      {"fashion", required_argument, NULL, O_FASHION},
      {"no-global", no_argument, NULL, O_NOGE},
      {NULL, 0, NULL, 0}};
  gsl_set_error_handler_off();
  int ch;
  while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (ch) {
    case O_INFO: o.info = 1; break;
    case O_DATA: o.data = optarg; break;
    case O_CASE: o.casename = optarg; break;
    case O_H:
      if (parse_double("--h", optarg, &o.h))
        return 2;
      break;
    case O_RTOL:
      if (parse_double("--rtol", optarg, &o.rtol))
        return 2;
      break;
    case O_MINT:
      if (parse_double("--min-time", optarg, &o.min_time))
        return 2;
      break;
    case O_FASHION: o.fashion = optarg; break;
    case O_NOGE: o.global = 0; break;
    default:
      fprintf(stderr, "usage: " PROG " --info | --data DIR --case "
                      "teacher|fashion [--h H] [--rtol R] [--min-time S] "
                      "[--fashion DIR] [--no-global]\n");
      return 2;
    }
  }
  if (o.info)
    return run_info();
  if (o.data == NULL || o.casename == NULL || optind != argc) {
    fprintf(stderr, PROG ": --data DIR and --case NAME are needed\n");
    return 2;
  }
  return run_case(&o);
}
