/* bench_hessian.c — implreg's side of bench/hessian: per-call times of the
 * network model's gradient and Hessian-vector products, HVP counts of
 * Lanczos against power iteration, and the work of `implreg hessian --top K
 * --trace` through the library, on inputs written by bench_hessian.py.
 *
 * Usage:
 *   bench_hessian --info
 *   bench_hessian --data DIR --case small|mnist [--reps R] [--min-time S]
 *   bench_hessian --data DIR --case mnist --e2e [--top K] [--probes P]
 *                 [--tol T]
 *
 * Inputs: DIR/CASE.theta.npy (p), CASE.X.npy (n×d), CASE.Y.npy ((n, 1)
 * targets for small; (n,) integer labels for mnist, turned into one-hot rows
 * here: the model takes Y as n×K).  Networks (as bench_hessian.py's CASES):
 *   small  4-32-1 tanh, half-mse      mnist  784-64-10 relu, ce
 *
 * Output: one JSON object on stdout with the same keys as the torch side
 * (bench_hessian.py time / e2e); --info prints '#' lines.  The timed
 * direction v is DIR/CASE.v.npy; ∇L and H v at θ are written as
 * DIR/CASE.grad.implreg.npy and CASE.hv.implreg.npy (p×1) for the report's
 * agreement check.
 *
 * Timed operations (best of R loops of N calls, N doubled until a loop
 * lasts --min-time seconds; per-call seconds):
 *   grad      ir_model_loss_grad on the whole set (always a forward and a
 *             backward pass)
 *   gd_step   the same + θ ← θ − lr·∇L (daxpy), θ moving
 *   hvp       ir_model_hvp at a fixed θ: the model keeps the forward and
 *             backward pass of (θ, batch), so a call costs the R-passes only
 *   hvp_full  ir_model_hvp alternating between θ and θ with one entry moved
 *             by one ulp: the cache never hits, every call redoes forward
 *             and backward (the torch side's hvp_full)
 * For small also: the dense spectrum (ir_dense_spectrum), ir_power_iteration
 * with the residual rule (tol 1e-8) and PyHessian's rule, ir_lanczos_eigs
 * k = 1 with tol 1e-8 (its test is ‖r‖ <= tol·max|Ritz value|, here
 * λ_max since λ_max > |λ_min|), their HVP counts.
 *
 * --e2e: from reading the files to the end: model, loss and ‖∇L‖,
 * ir_lanczos_eigs (k = --top, largest, tol --tol, implreg's default 1e-10),
 * the explicit residuals it returns, ir_trace_hutchinson (--probes).
 *
 * OpenBLAS's own <cblas.h> clashes with GSL's headers (docs/stack.md trap 2),
 * so the few OpenBLAS extensions used here are declared directly. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>

#include "implreg/curvature.h"
#include "implreg/data.h"
#include "implreg/mlp.h"
#include "implreg/model.h"
#include "implreg/rng.h"
#include "implreg/status.h"

#define BENCH_PROG "bench_hessian"
#include "bench_util.h"

char *openblas_get_config(void);
char *openblas_get_corename(void);
int openblas_get_num_threads(void);

static const unsigned long SEED = 20241201; /* bench_hessian.py's SEED */
static const double LR = 0.01;              /* bench_hessian.py's LR */
static const double POWER_TOL = 1e-8;
static const size_t POWER_MAX = 200000;
static const double LANCZOS1_TOL = 1e-8;
#define MAX_REPS 100 /* a typo guard on --reps */

typedef struct {
  const char *data, *casename;
  unsigned long reps, top, probes;
  double min_time, tol;
  int info, e2e;
} bench_opts;

typedef struct {
  const char *name, *arch, *act, *loss;
} bench_case;

static const bench_case CASES[] = {{"small", "4-32-1", "tanh", "half-mse"},
                                   {"mnist", "784-64-10", "relu", "ce"}};

/* The machine's dgemm rate through the same OpenBLAS: a 2000×2000×2000
 * product (1.6e10 flops), best of 3, in GFLOP/s.  The goal for the mnist
 * kernels is stated against it. */
static double dgemm_gflops(void) {
  const size_t m = 2000;
  gsl_matrix *A = gsl_matrix_alloc(m, m), *B = gsl_matrix_alloc(m, m),
             *C = gsl_matrix_alloc(m, m);
  if (!A || !B || !C) {
    fprintf(stderr, "bench_hessian: out of memory (dgemm)\n");
    exit(1);
  }
  for (size_t i = 0; i < m * m; i++) {
    A->data[i] = sin((double)i);
    B->data[i] = cos((double)i);
  }
  double t = INFINITY;
  for (int r = 0; r < 3; r++) {
    double t0 = now();
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, A, B, 0.0, C);
    t = fmin(t, now() - t0);
  }
  gsl_matrix_free(A);
  gsl_matrix_free(B);
  gsl_matrix_free(C);
  return 2.0 * (double)m * (double)m * (double)m / t / 1e9;
}

/* ---- The problem --------------------------------------------------------- */

typedef struct {
  const bench_case *c;
  ir_mlp_arch arch;
  gsl_matrix *X, *Y;
  gsl_vector *theta;
  ir_model *model;
} problem;

static void problem_free(problem *pb) {
  ir_model_free(pb->model);
  gsl_matrix_free(pb->X);
  gsl_matrix_free(pb->Y);
  gsl_vector_free(pb->theta);
  memset(pb, 0, sizeof *pb);
}

static int read_npy(const bench_opts *o, const char *what, gsl_matrix **m) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.%s.npy", o->data, o->casename, what);
  int s = ir_data_read_npy(path, m);
  return s == IR_OK ? 0 : fail(path, s);
}

static int problem_load(const bench_opts *o, problem *pb) {
  memset(pb, 0, sizeof *pb);
  for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
    if (strcmp(o->casename, CASES[i].name) == 0)
      pb->c = &CASES[i];
  if (pb->c == NULL) {
    fprintf(stderr, "bench_hessian: unknown case %s (small, mnist)\n",
            o->casename);
    return 1;
  }
  int s = ir_mlp_arch_parse(pb->c->arch, &pb->arch);
  if (s == IR_OK)
    s = ir_act_parse(pb->c->act, &pb->arch.act);
  if (s == IR_OK)
    s = ir_loss_parse(pb->c->loss, &pb->arch.loss);
  if (s != IR_OK)
    return fail("architecture", s);
  gsl_matrix *T = NULL, *Y = NULL;
  if (read_npy(o, "theta", &T) || read_npy(o, "X", &pb->X) ||
      read_npy(o, "Y", &Y)) {
    gsl_matrix_free(T);
    gsl_matrix_free(Y);
    return 1;
  }
  const size_t p = ir_mlp_nparams(&pb->arch);
  const size_t K = pb->arch.width[pb->arch.nlayers];
  if (T->size1 * T->size2 != p || pb->X->size2 != pb->arch.width[0] ||
      Y->size1 != pb->X->size1) {
    fprintf(stderr,
            "bench_hessian: %s: theta has %zu entries (want %zu), X %zu "
            "columns (want %zu), Y %zu rows (X %zu)\n",
            o->casename, T->size1 * T->size2, p, pb->X->size2,
            pb->arch.width[0], Y->size1, pb->X->size1);
    gsl_matrix_free(T);
    gsl_matrix_free(Y);
    return 1;
  }
  pb->theta = gsl_vector_alloc(p);
  memcpy(pb->theta->data, T->data, p * sizeof(double)); /* p×1, tda 1 */
  gsl_matrix_free(T);
  if (pb->arch.loss == IR_LOSS_CE && Y->size2 == 1) {
    /* Integer labels → one-hot rows. */
    pb->Y = gsl_matrix_calloc(Y->size1, K);
    for (size_t i = 0; i < Y->size1; i++) {
      double l = gsl_matrix_get(Y, i, 0);
      if (!(l >= 0 && l < (double)K && l == floor(l))) {
        fprintf(stderr, "bench_hessian: label %g in row %zu not in 0..%zu\n", l,
                i, K - 1);
        gsl_matrix_free(Y);
        return 1;
      }
      gsl_matrix_set(pb->Y, i, (size_t)l, 1.0);
    }
    gsl_matrix_free(Y);
  } else {
    pb->Y = Y;
  }
  pb->model = ir_model_mlp_alloc(&pb->arch, pb->X, pb->Y);
  if (pb->model == NULL)
    return fail("ir_model_mlp_alloc", IR_EINVAL);
  return 0;
}

/* Writes x as DIR/CASE.WHAT.npy (a p×1 array). */
static int write_vector(const bench_opts *o, const char *what,
                        const gsl_vector *x) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.%s.npy", o->data, o->casename, what);
  gsl_matrix_const_view m = gsl_matrix_const_view_vector(x, x->size, 1);
  int s = ir_data_write_npy(path, &m.matrix);
  if (s != IR_OK)
    fail(path, s);
  return s;
}

/* Flops per call: bench_hessian.py's flop_count (F_l = in_l·out_l):
 * gradient 4m ΣF_l + 2m Σ_{l>=2} F_l, HVP 4m F_1 + 12m Σ_{l>=2} F_l. */
static void flop_count(const problem *pb, double *grad, double *hvp) {
  const double m = (double)pb->X->size1;
  double F1 = 0, inner = 0;
  for (size_t l = 0; l < pb->arch.nlayers; l++) {
    double F = (double)pb->arch.width[l] * (double)pb->arch.width[l + 1];
    if (l == 0)
      F1 = F;
    else
      inner += F;
  }
  *grad = 4 * m * (F1 + inner) + 2 * m * inner;
  *hvp = 4 * m * F1 + 12 * m * inner;
}

/* ---- Timing ----------------------------------------------------------------
 */

typedef struct {
  problem *pb;
  gsl_vector *v, *out, *th_work, *th_alt;
  unsigned long flip;
  int status;
} op_ctx;

typedef int (*op_fn)(op_ctx *);

static int op_grad(op_ctx *c) {
  double loss;
  return ir_model_loss_grad(c->pb->model, c->pb->theta, NULL, 0, &loss, c->out);
}

static int op_gd_step(op_ctx *c) {
  double loss;
  int s = ir_model_loss_grad(c->pb->model, c->th_work, NULL, 0, &loss, c->out);
  if (s == IR_OK)
    gsl_blas_daxpy(-LR, c->out, c->th_work);
  return s;
}

static int op_hvp(op_ctx *c) {
  return ir_model_hvp(c->pb->model, c->pb->theta, NULL, 0, c->v, c->out);
}

static int op_hvp_full(op_ctx *c) {
  c->flip ^= 1;
  return ir_model_hvp(c->pb->model, c->flip ? c->th_alt : c->pb->theta, NULL, 0,
                      c->v, c->out);
}

typedef struct {
  double seconds, cpu_seconds;
  unsigned long calls;
  double all[MAX_REPS];
} timing;

/* Best of o->reps loops of N calls, per call, after a warm-up call; N
 * doubles until one loop lasts at least o->min_time seconds. */
static int time_op(const bench_opts *o, op_fn f, op_ctx *c, timing *t) {
  int s = f(c);
  unsigned long calls = 1;
  double el;
  for (;;) {
    double t0 = now();
    for (unsigned long i = 0; i < calls && s == IR_OK; i++)
      s = f(c);
    el = now() - t0;
    if (s != IR_OK)
      return s;
    if (el >= o->min_time || calls >= (1UL << 22))
      break;
    double want = ceil((double)calls * 1.2 * o->min_time / fmax(el, 1e-9));
    calls = want > 2.0 * (double)calls ? (unsigned long)want : 2 * calls;
  }
  t->calls = calls;
  t->seconds = t->cpu_seconds = INFINITY;
  for (unsigned long r = 0; r < o->reps; r++) {
    double c0 = cpu_now(), t0 = now();
    for (unsigned long i = 0; i < calls && s == IR_OK; i++)
      s = f(c);
    double w = (now() - t0) / (double)calls;
    double cpu = (cpu_now() - c0) / (double)calls;
    if (s != IR_OK)
      return s;
    t->all[r] = w;
    if (w < t->seconds) {
      t->seconds = w;
      t->cpu_seconds = cpu;
    }
  }
  return IR_OK;
}

static void print_timing(const char *name, const timing *t, unsigned long reps,
                         double flops, const char *sep) {
  printf("\"%s\": {", name);
  jnum("seconds", t->seconds, ", ");
  jnum("cpu_seconds", t->cpu_seconds, ", ");
  printf("\"calls\": %lu, \"reps\": %lu, ", t->calls, reps);
  jarr("all", t->all, reps, ", ");
  jnum("flops", flops, ", ");
  jnum("gflops", flops / t->seconds / 1e9, "");
  printf("}%s", sep);
}

/* Dense spectrum and HVP counts of power iteration and Lanczos (small). */
static int counts_small(problem *pb) {
  ir_hessian_op h = {pb->model, pb->theta, NULL, 0};
  ir_linop op = ir_linop_hessian(&h);
  const size_t p = op.n;
  double *ev = malloc(p * sizeof(double));
  double asym = NAN;
  if (ev == NULL)
    return fail("counts", IR_ENOMEM);
  int s = ir_dense_spectrum(&op, 1e-10, ev, NULL, &asym);
  if (s != IR_OK) {
    free(ev);
    return fail("ir_dense_spectrum", s);
  }
  const double lmax = ev[p - 1];
  double top5[5];
  for (size_t i = 0; i < 5 && i < p; i++)
    top5[i] = ev[p - 1 - i];
  printf("\"counts\": {\"dense\": {");
  jnum("asymmetry", asym, ", ");
  jarr("top5", top5, p < 5 ? p : 5, ", ");
  jnum("lambda_min", ev[0], ", ");
  double tr = 0;
  for (size_t i = 0; i < p; i++)
    tr += ev[i];
  jnum("trace", tr, ", ");
  jnum("ratio_l2_l1", fabs(ev[p - 2]) / fabs(lmax), ", ");
  printf("\"hvps\": %zu}, ", p);
  free(ev);

  const uint64_t stream = ir_rng_stream(IR_STREAM_PROBE, 0, 0);
  ir_power_result pr;
  double t0 = now();
  s = ir_power_iteration(&op, IR_POWER_RESIDUAL, POWER_TOL, POWER_MAX, SEED,
                         stream, NULL, &pr);
  double tp = now() - t0;
  if (s != IR_OK)
    return fail("ir_power_iteration", s);
  printf("\"power\": {\"rule\": \"residual <= %g |lambda|\", ", POWER_TOL);
  jnum("lambda", pr.value, ", ");
  jnum("residual", pr.residual, ", ");
  jnum("rel_residual", pr.residual / fabs(pr.value), ", ");
  printf("\"hvps\": %zu, \"converged\": %s, ", pr.nmatvec,
         pr.converged ? "true" : "false");
  jnum("rel_err_vs_dense", fabs(pr.value - lmax) / fabs(lmax), ", ");
  jnum("seconds", tp, "}, ");

  s = ir_power_iteration(&op, IR_POWER_PYHESSIAN, 1e-3, 100, SEED, stream, NULL,
                         &pr);
  if (s != IR_OK)
    return fail("ir_power_iteration (PyHessian)", s);
  printf("\"power_pyhessian\": {\"rule\": \"PyHessian: rel. change < 1e-3, "
         "<= 100 its\", ");
  jnum("lambda", pr.value, ", ");
  printf("\"hvps\": %zu, ", pr.nmatvec);
  jnum("rel_err_vs_dense", fabs(pr.value - lmax) / fabs(lmax), "}, ");

  ir_lanczos_params lp;
  ir_lanczos_params_default(&lp);
  lp.k = 1;
  lp.which = IR_EIG_LARGEST;
  lp.tol = LANCZOS1_TOL;
  lp.seed = SEED;
  ir_eig_result *er = NULL;
  t0 = now();
  s = ir_lanczos_eigs(&op, &lp, &er);
  double tl = now() - t0;
  if (s != IR_OK)
    return fail("ir_lanczos_eigs", s);
  printf("\"lanczos\": {\"method\": \"ir_lanczos_eigs k=1 tol=%g (residual "
         "checks included)\", ",
         LANCZOS1_TOL);
  jnum("lambda", er->values[0], ", ");
  jnum("residual", er->residuals[0], ", ");
  jnum("rel_residual", er->residuals[0] / fabs(er->values[0]), ", ");
  printf("\"hvps\": %zu, \"restarts\": %zu, \"converged\": %s, ", er->nmatvec,
         er->nrestart, er->converged[0] ? "true" : "false");
  jnum("rel_err_vs_dense", fabs(er->values[0] - lmax) / fabs(lmax), ", ");
  jnum("seconds", tl, "}}");
  ir_eig_result_free(er);
  return 0;
}

static int run_time(const bench_opts *o) {
  problem pb;
  if (problem_load(o, &pb)) {
    problem_free(&pb);
    return 1;
  }
  const size_t p = pb.theta->size;
  op_ctx c = {&pb,
              gsl_vector_alloc(p),
              gsl_vector_alloc(p),
              gsl_vector_alloc(p),
              gsl_vector_alloc(p),
              0,
              IR_OK};
  /* v: the direction bench_hessian.py drew (CASE.v.npy); H v and ∇L are
   * written next to the inputs for the report's agreement check. */
  gsl_matrix *V = NULL;
  if (read_npy(o, "v", &V) || V->size1 * V->size2 != p) {
    if (V)
      fprintf(stderr, "bench_hessian: %s.v.npy: %zu entries, want %zu\n",
              o->casename, V->size1 * V->size2, p);
    gsl_matrix_free(V);
    gsl_vector_free(c.v);
    gsl_vector_free(c.out);
    gsl_vector_free(c.th_work);
    gsl_vector_free(c.th_alt);
    problem_free(&pb);
    return 1;
  }
  memcpy(c.v->data, V->data, p * sizeof(double));
  gsl_matrix_free(V);
  gsl_vector_memcpy(c.th_work, pb.theta);
  gsl_vector_memcpy(c.th_alt, pb.theta);
  gsl_vector_set(c.th_alt, 0, nextafter(gsl_vector_get(pb.theta, 0), INFINITY));

  double loss = NAN, gnorm = NAN, hvnorm = NAN;
  int s = ir_model_loss_grad(pb.model, pb.theta, NULL, 0, &loss, c.out);
  if (s == IR_OK) {
    gnorm = gsl_blas_dnrm2(c.out);
    s = write_vector(o, "grad.implreg", c.out);
  }
  if (s == IR_OK)
    s = ir_model_hvp(pb.model, pb.theta, NULL, 0, c.v, c.out);
  if (s == IR_OK) {
    hvnorm = gsl_blas_dnrm2(c.out);
    s = write_vector(o, "hv.implreg", c.out);
  }
  double fl_grad, fl_hvp;
  flop_count(&pb, &fl_grad, &fl_hvp);
  timing tg, th, thf, tgd;
  if (s == IR_OK)
    s = time_op(o, op_grad, &c, &tg);
  if (s == IR_OK)
    s = time_op(o, op_hvp, &c, &th);
  if (s == IR_OK)
    s = time_op(o, op_hvp_full, &c, &thf);
  if (s == IR_OK)
    s = time_op(o, op_gd_step, &c, &tgd);
  int rc = 0;
  if (s != IR_OK) {
    rc = fail("timing", s);
    goto done;
  }
  printf("{\"side\": \"implreg\", \"case\": \"%s\", \"threads\": %d, "
         "\"p\": %zu, \"m\": %zu, ",
         pb.c->name, openblas_get_num_threads(), p, pb.X->size1);
  jnum("loss", loss, ", ");
  jnum("grad_norm", gnorm, ", ");
  jnum("norm_hv", hvnorm, ", ");
  jnum("lr", LR, ", ");
  if (strcmp(pb.c->name, "mnist") == 0)
    jnum("dgemm_gflops", dgemm_gflops(), ", ");
  printf("\"ops\": {");
  print_timing("grad", &tg, o->reps, fl_grad, ", ");
  print_timing("hvp", &th, o->reps, fl_hvp, ", ");
  print_timing("hvp_full", &thf, o->reps, fl_grad + fl_hvp, ", ");
  print_timing("gd_step", &tgd, o->reps, fl_grad, "");
  printf("}");
  if (strcmp(pb.c->name, "small") == 0) {
    printf(", ");
    fflush(stdout);
    rc = counts_small(&pb);
  }
  printf("}\n");
done:
  gsl_vector_free(c.v);
  gsl_vector_free(c.out);
  gsl_vector_free(c.th_work);
  gsl_vector_free(c.th_alt);
  problem_free(&pb);
  return rc;
}

/* The work of `implreg hessian --top K --trace`, timed from reading the
 * files to the end. */
static int run_e2e(const bench_opts *o) {
  double t0 = now();
  problem pb;
  if (problem_load(o, &pb)) {
    problem_free(&pb);
    return 1;
  }
  const size_t p = pb.theta->size;
  gsl_vector *g = gsl_vector_alloc(p);
  double loss = NAN;
  int s = ir_model_loss_grad(pb.model, pb.theta, NULL, 0, &loss, g);
  double gnorm = gsl_blas_dnrm2(g);
  gsl_vector_free(g);
  if (s != IR_OK) {
    problem_free(&pb);
    return fail("ir_model_loss_grad", s);
  }
  double t_setup = now();
  ir_hessian_op h = {pb.model, pb.theta, NULL, 0};
  ir_linop op = ir_linop_hessian(&h);
  ir_lanczos_params lp;
  ir_lanczos_params_default(&lp);
  lp.k = o->top;
  lp.which = IR_EIG_LARGEST;
  lp.tol = o->tol;
  lp.seed = 1;
  ir_eig_result *er = NULL;
  s = ir_lanczos_eigs(&op, &lp, &er);
  if (s != IR_OK) {
    problem_free(&pb);
    return fail("ir_lanczos_eigs", s);
  }
  const size_t mv_eig = op.nmatvec;
  double t_eig = now();
  ir_trace_result tr;
  s = ir_trace_hutchinson(&op, o->probes, 1,
                          ir_rng_stream(IR_STREAM_PROBE, 1, 0), &tr);
  double t_end = now();
  if (s != IR_OK) {
    ir_eig_result_free(er);
    problem_free(&pb);
    return fail("ir_trace_hutchinson", s);
  }
  printf("{\"side\": \"implreg\", \"case\": \"%s\", \"threads\": %d, "
         "\"p\": %zu, \"m\": %zu, ",
         pb.c->name, openblas_get_num_threads(), p, pb.X->size1);
  jnum("loss", loss, ", ");
  jnum("grad_norm", gnorm, ", ");
  printf("\"k\": %zu, ", er->k);
  jnum("tol", o->tol, ", ");
  jarr("eigenvalues", er->values, er->k, ", ");
  jarr("residuals", er->residuals, er->k, ", ");
  printf("\"rel_residuals\": [");
  for (size_t i = 0; i < er->k; i++)
    printf("%.17g%s", er->residuals[i] / fabs(er->values[0]),
           i + 1 < er->k ? ", " : "");
  printf("], \"converged\": [");
  for (size_t i = 0; i < er->k; i++)
    printf("%s%s", er->converged[i] ? "true" : "false",
           i + 1 < er->k ? ", " : "");
  printf("], ");
  jnum("trace", tr.trace, ", ");
  jnum("trace_se", tr.se, ", ");
  printf("\"probes\": %zu, \"hvps\": %zu, \"hvps_eig\": %zu, "
         "\"hvps_trace\": %zu, \"quad_forms\": %zu, \"restarts\": %zu, ",
         tr.nprobe, op.nmatvec, mv_eig, tr.nmatvec, tr.nquad, er->nrestart);
  jnum("seconds", t_end - t0, ", ");
  jnum("seconds_setup", t_setup - t0, ", ");
  jnum("seconds_eig", t_eig - t_setup, ", ");
  jnum("seconds_trace", t_end - t_eig, ", ");
  printf("\"method\": \"ir_lanczos_eigs (largest, thick restarts) + "
         "ir_trace_hutchinson\"}\n");
  ir_eig_result_free(er);
  problem_free(&pb);
  return 0;
}

/* OpenBLAS build and core; a tiny network's gradient and HVP so that the
 * BLAS symbols get bound (the driver checks them with LD_DEBUG=bindings). */
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
  double loss = NAN;
  if (m != NULL) {
    gsl_vector *th = gsl_vector_alloc(m->nparams);
    gsl_vector *gr = gsl_vector_alloc(m->nparams);
    gsl_vector *hv = gsl_vector_alloc(m->nparams);
    for (size_t i = 0; i < m->nparams; i++)
      gsl_vector_set(th, i, 0.1 * (double)(i % 5) - 0.2);
    s = ir_model_loss_grad(m, th, NULL, 0, &loss, gr);
    if (s == IR_OK)
      s = ir_model_hvp(m, th, NULL, 0, gr, hv);
    gsl_vector_free(th);
    gsl_vector_free(gr);
    gsl_vector_free(hv);
  } else if (s == IR_OK) {
    s = IR_EINVAL;
  }
  if (s == IR_OK)
    printf("# selftest 2-3-1 tanh network: loss %.6g, gradient and HVP ok\n",
           loss);
  ir_model_free(m);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
  return s == IR_OK ? 0 : fail("selftest", s);
}

static int parse_ulong(const char *opt, const char *arg, unsigned long lo,
                       unsigned long hi, unsigned long *out) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(arg, &end, 10);
  if (errno || *end || end == arg || arg[0] == '-' || v < lo || v > hi) {
    fprintf(stderr, "bench_hessian: %s takes an integer in [%lu, %lu]\n", opt,
            lo, hi);
    return 1;
  }
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  bench_opts o = {NULL, NULL, 3, 5, 100, 0.3, 1e-10, 0, 0};
  enum {
    O_INFO = 1,
    O_DATA,
    O_CASE,
    O_REPS,
    O_MINT,
    O_E2E,
    O_TOP,
    O_PROBES,
    O_TOL
  };
  static const struct option longopts[] = {
      {"info", no_argument, NULL, O_INFO},
      {"data", required_argument, NULL, O_DATA},
      {"case", required_argument, NULL, O_CASE},
      {"reps", required_argument, NULL, O_REPS},
      {"min-time", required_argument, NULL, O_MINT},
      {"e2e", no_argument, NULL, O_E2E},
      {"top", required_argument, NULL, O_TOP},
      {"probes", required_argument, NULL, O_PROBES},
      {"tol", required_argument, NULL, O_TOL},
      {NULL, 0, NULL, 0}};
  int ch;
  while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (ch) {
    case O_INFO: o.info = 1; break;
    case O_DATA: o.data = optarg; break;
    case O_CASE: o.casename = optarg; break;
    case O_REPS:
      if (parse_ulong("--reps", optarg, 1, MAX_REPS, &o.reps))
        return 2;
      break;
    case O_MINT:
      if (parse_double("--min-time", optarg, &o.min_time))
        return 2;
      break;
    case O_E2E: o.e2e = 1; break;
    case O_TOP:
      if (parse_ulong("--top", optarg, 1, 1000, &o.top))
        return 2;
      break;
    case O_PROBES:
      if (parse_ulong("--probes", optarg, 2, 1000000, &o.probes))
        return 2;
      break;
    case O_TOL:
      if (parse_double("--tol", optarg, &o.tol))
        return 2;
      break;
    default:
      fprintf(stderr, "usage: bench_hessian --info | --data DIR --case "
                      "small|mnist [--reps R] [--min-time S] [--e2e "
                      "[--top K] [--probes P] [--tol T]]\n");
      return 2;
    }
  }
  if (o.info)
    return run_info();
  if (o.data == NULL || o.casename == NULL || optind != argc) {
    fprintf(stderr, "bench_hessian: --data DIR and --case NAME are needed\n");
    return 2;
  }
  return o.e2e ? run_e2e(&o) : run_time(&o);
}
