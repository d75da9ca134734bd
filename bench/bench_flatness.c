/* bench_flatness.c — implreg's side of bench/flatness: the end-point
 * measures of `implreg flatness` (flatness.h) through the library, each
 * stage timed, on the inputs bench_flatness.py gen wrote.
 *
 * Usage:
 *   bench_flatness --info
 *   bench_flatness --data DIR --prep      writes DIR/sharp.y0.npy
 *   bench_flatness --data DIR --run       the measures, one JSON object
 *   bench_flatness --data DIR --power     PyHessian's power iteration (info)
 *   bench_flatness --data DIR --measure   ir_flatness_measure, whole (info)
 *
 * Inputs: DIR/theta.npy (p), X.npy (n×784), Yonehot.npy (n×10), Z.npy
 * (30×p, ±1), d1.npy, d2.npy, dtop.npy (p).  Network 784-32-10 relu, ce.
 *
 * --run does what ir_flatness_measure and the slices of an_flatness.c do
 * at one end point, with the same parameters, seeds and streams
 * (ir_flatness_params_default), stage by stage:
 *   load     read the files, ir_model_mlp_alloc, loss and gradient at θ
 *   lanczos  ir_lanczos_eigs on ir_linop_hessian, k = 1, tol 1e-8, no
 *            certification (flatness.c's top_eig); the residual it returns
 *   trace    ir_linop_quad_many on the 30 probes of Z (the call
 *            ir_trace_hutchinson makes, on given probes so that the torch
 *            side uses the same ones)
 *   slices   ir_landscape_slice along d1 and dtop (41 points of [-1, 1]),
 *            ir_landscape_slice2 on d1, d2 (21×21)
 *   sharp    ir_sharpness_eps, A = I, ε 1e-3, 20 iterations, stream
 *            flatness' base + 2
 * and, after the total, for information: the same 523 slice losses by
 * ir_landscape_slice_mlp (batched over points; keys bslice_*).
 * --prep writes the random start of that ascent (the same generator and
 * draws as src/sharpness.c with A = I), so that the torch side can run the
 * same algorithm from the same point.
 *
 * OpenBLAS's own <cblas.h> clashes with GSL's headers (docs/stack.md trap 2),
 * so the few OpenBLAS extensions used here are declared directly. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_vector.h>

#include "implreg/curvature.h"
#include "implreg/data.h"
#include "implreg/flatness.h"
#include "implreg/landscape.h"
#include "implreg/mlp.h"
#include "implreg/model.h"
#include "implreg/rng.h"
#include "implreg/sharpness.h"
#include "implreg/status.h"

#define BENCH_PROG "bench_flatness"
#include "bench_util.h"

char *openblas_get_config(void);
char *openblas_get_corename(void);
int openblas_get_num_threads(void);

#define NT 41  /* an_flatness.c's NT and NS2 */
#define NS2 21
static const double PYH_TOL = 1e-3; /* PyHessian's rule and budget */
static const size_t PYH_MAX = 100;

typedef struct {
  ir_mlp_arch arch;
  gsl_matrix *X, *Y, *Z;
  gsl_vector *theta, *d1, *d2, *dtop;
  ir_model *model;
} problem;

static void problem_free(problem *pb) {
  ir_model_free(pb->model);
  gsl_matrix_free(pb->X);
  gsl_matrix_free(pb->Y);
  gsl_matrix_free(pb->Z);
  gsl_vector_free(pb->theta);
  gsl_vector_free(pb->d1);
  gsl_vector_free(pb->d2);
  gsl_vector_free(pb->dtop);
}

static int read_mat(const char *dir, const char *what, gsl_matrix **m) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.npy", dir, what);
  int s = ir_data_read_npy(path, m);
  return s == IR_OK ? 0 : fail(path, s);
}

/* A (p,) .npy file as a vector of length p. */
static int read_vec(const char *dir, const char *what, size_t p,
                    gsl_vector **v) {
  gsl_matrix *M = NULL;
  if (read_mat(dir, what, &M))
    return 1;
  if (M->size1 * M->size2 != p) {
    fprintf(stderr, BENCH_PROG ": %s/%s.npy has %zu entries, want %zu\n", dir,
            what, M->size1 * M->size2, p);
    gsl_matrix_free(M);
    return 1;
  }
  *v = gsl_vector_alloc(p);
  memcpy((*v)->data, M->data, p * sizeof(double)); /* p×1 or 1×p, tda = size2 */
  gsl_matrix_free(M);
  return 0;
}

static int problem_load(const char *dir, int all, problem *pb) {
  memset(pb, 0, sizeof *pb);
  int s = ir_mlp_arch_parse("784-32-10", &pb->arch);
  if (s != IR_OK)
    return fail("architecture", s);
  pb->arch.act = IR_ACT_RELU;
  pb->arch.loss = IR_LOSS_CE;
  const size_t p = ir_mlp_nparams(&pb->arch);
  if (read_vec(dir, "theta", p, &pb->theta) || read_mat(dir, "X", &pb->X) ||
      read_mat(dir, "Yonehot", &pb->Y))
    return 1;
  if (all && (read_mat(dir, "Z", &pb->Z) || read_vec(dir, "d1", p, &pb->d1) ||
              read_vec(dir, "d2", p, &pb->d2) ||
              read_vec(dir, "dtop", p, &pb->dtop)))
    return 1;
  if (pb->X->size2 != 784 || pb->Y->size2 != 10 ||
      pb->Y->size1 != pb->X->size1 || (all && pb->Z->size2 != p)) {
    fprintf(stderr, BENCH_PROG ": X is %zu×%zu (want n×784), Yonehot %zu×%zu "
                    "(n×10), Z %zu columns (want %zu)\n",
            pb->X->size1, pb->X->size2, pb->Y->size1, pb->Y->size2,
            all ? pb->Z->size2 : p, p);
    return 1;
  }
  pb->model = ir_model_mlp_alloc(&pb->arch, pb->X, pb->Y);
  if (pb->model == NULL)
    return fail("ir_model_mlp_alloc", IR_EINVAL);
  return 0;
}

static int run_info(void) {
  printf("# openblas_config %s\n", openblas_get_config());
  printf("# openblas_corename %s\n", openblas_get_corename());
  printf("# openblas_threads %d\n", openblas_get_num_threads());
  /* Bind the cblas calls the library makes (for LD_DEBUG=bindings). */
  gsl_matrix *A = gsl_matrix_alloc(8, 8), *C = gsl_matrix_alloc(8, 8);
  gsl_matrix_set_identity(A);
  gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, A, A, 0.0, C);
  gsl_vector_view v = gsl_matrix_row(C, 0);
  double dot = 0;
  gsl_blas_ddot(&v.vector, &v.vector, &dot);
  printf("# check %g\n", gsl_blas_dnrm2(&v.vector) + dot);
  gsl_matrix_free(A);
  gsl_matrix_free(C);
  return 0;
}

/* The ε-sharpness start of ir_flatness_measure's A = I ascent: the same
 * generator (seed, base stream + 2) and draws as src/sharpness.c. */
static int run_prep(const char *dir) {
  problem pb;
  int rc = problem_load(dir, 0, &pb);
  if (rc == 0) {
    ir_flatness_params fp;
    ir_flatness_params_default(&fp);
    const size_t p = pb.theta->size;
    gsl_rng *r = ir_rng_alloc(fp.seed, fp.stream + 2);
    gsl_matrix *y = gsl_matrix_alloc(p, 1);
    for (size_t i = 0; i < p; i++) {
      double b = fp.sharp_eps * (fabs(pb.theta->data[i]) + 1.0);
      y->data[i] = b * (2.0 * gsl_rng_uniform(r) - 1.0);
    }
    ir_rng_free(r);
    char path[4096];
    snprintf(path, sizeof path, "%s/sharp.y0.npy", dir);
    int s = ir_data_write_npy(path, y);
    if (s != IR_OK)
      rc = fail(path, s);
    gsl_matrix_free(y);
  }
  problem_free(&pb);
  return rc;
}

static int run_measures(const char *dir) {
  const double t_start = now();
  ir_flatness_params fp;
  ir_flatness_params_default(&fp);
  problem pb;
  int rc = problem_load(dir, 1, &pb);
  if (rc) {
    problem_free(&pb);
    return rc;
  }
  const size_t p = pb.theta->size, nz = pb.Z->size1;
  gsl_vector *g = gsl_vector_alloc(p);
  double *q = malloc(nz * sizeof(double)), *scratch = malloc(nz * p * sizeof(double));
  double sl_r[NT], sl_v[NT], sl_2[NS2 * NS2], t[NT], t2[NS2];
  double loss = NAN, T[5], lam = NAN, res = NAN;
  size_t lam_hvps = 0;
  ir_sharpness_result sr;
  memset(&sr, 0, sizeof sr);
  int s = ir_model_loss_grad(pb.model, pb.theta, NULL, 0, &loss, g);
  double t0 = now();
  T[0] = t0 - t_start;
  /* λ_max: flatness.c's top_eig. */
  ir_hessian_op h = {pb.model, pb.theta, NULL, 0};
  ir_linop op = ir_linop_hessian(&h);
  if (s == IR_OK) {
    ir_lanczos_params lp;
    ir_lanczos_params_default(&lp);
    lp.tol = fp.lanczos_tol;
    lp.seed = fp.seed;
    lp.stream = fp.stream;
    lp.certify = 0;
    ir_eig_result *e = NULL;
    s = ir_lanczos_eigs(&op, &lp, &e);
    if (s == IR_OK) {
      lam = e->values[0];
      res = e->residuals[0];
      lam_hvps = e->nmatvec;
    }
    ir_eig_result_free(e);
  }
  double t1 = now();
  T[1] = t1 - t0;
  if (s == IR_OK)
    s = ir_linop_quad_many(&op, pb.Z->data, scratch, q, nz);
  double t2_ = now();
  T[2] = t2_ - t1;
  for (size_t i = 0; i < NT; i++)
    t[i] = -1.0 + 2.0 * (double)i / (NT - 1);
  for (size_t i = 0; i < NS2; i++)
    t2[i] = -1.0 + 2.0 * (double)i / (NS2 - 1);
  if (s == IR_OK)
    s = ir_landscape_slice(pb.model, pb.theta, pb.d1, NULL, 0, t, NT, sl_r);
  if (s == IR_OK)
    s = ir_landscape_slice(pb.model, pb.theta, pb.dtop, NULL, 0, t, NT, sl_v);
  if (s == IR_OK)
    s = ir_landscape_slice2(pb.model, pb.theta, pb.d1, pb.d2, NULL, 0, t2, NS2,
                            t2, NS2, sl_2);
  double t3 = now();
  T[3] = t3 - t2_;
  if (s == IR_OK) {
    ir_sharpness_params sp;
    ir_sharpness_params_default(&sp);
    sp.eps = fp.sharp_eps;
    sp.max_iter = fp.sharp_iter;
    sp.seed = fp.seed;
    sp.rank = 0;
    sp.stream = fp.stream + 2;
    s = ir_sharpness_eps(pb.model, pb.theta, NULL, 0, &sp, &sr);
  }
  double t4 = now();
  T[4] = t4 - t3;
  /* For information: the same slices batched over points
   * (ir_landscape_slice_mlp), not part of the total. */
  double bl_r[NT], bl_v[NT], bl_2[NS2 * NS2];
  double t5 = now();
  if (s == IR_OK)
    s = ir_landscape_slice_mlp(&pb.arch, pb.X, pb.Y, pb.theta, pb.d1, NULL, t,
                               NT, NULL, 0, bl_r);
  if (s == IR_OK)
    s = ir_landscape_slice_mlp(&pb.arch, pb.X, pb.Y, pb.theta, pb.dtop, NULL,
                               t, NT, NULL, 0, bl_v);
  if (s == IR_OK)
    s = ir_landscape_slice_mlp(&pb.arch, pb.X, pb.Y, pb.theta, pb.d1, pb.d2,
                               t2, NS2, t2, NS2, bl_2);
  const double t_batched = now() - t5;
  if (s != IR_OK) {
    rc = fail("measures", s);
  } else {
    double mean = 0, var = 0;
    for (size_t i = 0; i < nz; i++)
      mean += q[i];
    mean /= (double)nz;
    for (size_t i = 0; i < nz; i++)
      var += (q[i] - mean) * (q[i] - mean);
    var /= (double)(nz - 1);
    printf("{\"side\": \"implreg\", \"threads\": %d, \"p\": %zu, ",
           openblas_get_num_threads(), p);
    jnum("loss", loss, ", ");
    jnum("grad_norm", gsl_blas_dnrm2(g), ", ");
    jnum("lambda", lam, ", ");
    jnum("lambda_res", res, ", ");
    printf("\"lambda_hvps\": %zu, ", lam_hvps);
    jarr("q", q, nz, ", ");
    jnum("trace", mean, ", ");
    jnum("trace_se", sqrt(var / (double)nz), ", ");
    printf("\"trace_hvps\": %zu, ", op.nquad + op.nmatvec - lam_hvps);
    jarr("slice_r", sl_r, NT, ", ");
    jarr("slice_v", sl_v, NT, ", ");
    jarr("slice2", sl_2, NS2 * NS2, ", ");
    jarr("bslice_r", bl_r, NT, ", ");
    jarr("bslice_v", bl_v, NT, ", ");
    jarr("bslice2", bl_2, NS2 * NS2, ", ");
    printf("\"sharp\": {");
    jnum("phi", sr.phi, ", ");
    jnum("f0", sr.f0, ", ");
    jnum("fmax", sr.fmax, ", ");
    printf("\"evals\": %zu, \"iters\": %zu}, \"seconds\": {", sr.nevals,
           sr.iters);
    const char *names[5] = {"load", "lanczos", "trace", "slices", "sharp"};
    for (int i = 0; i < 5; i++)
      jnum(names[i], T[i], ", ");
    jnum("import", 0.0, ", ");
    jnum("cpu", cpu_now(), ", ");
    jnum("slices_batched", t_batched, ", ");
    jnum("total", t4 - t_start, "}}\n");
  }
  gsl_vector_free(g);
  free(q);
  free(scratch);
  problem_free(&pb);
  return rc;
}

static int run_power(const char *dir) {
  problem pb;
  int rc = problem_load(dir, 0, &pb);
  if (rc == 0) {
    ir_flatness_params fp;
    ir_flatness_params_default(&fp);
    double loss;
    int s = ir_model_loss_grad(pb.model, pb.theta, NULL, 0, &loss, NULL);
    ir_hessian_op h = {pb.model, pb.theta, NULL, 0};
    ir_linop op = ir_linop_hessian(&h);
    ir_power_result pr;
    double t0 = now();
    if (s == IR_OK)
      s = ir_power_iteration(&op, IR_POWER_PYHESSIAN, PYH_TOL, PYH_MAX,
                             fp.seed, fp.stream, NULL, &pr);
    double t1 = now();
    if (s != IR_OK) {
      rc = fail("power iteration", s);
    } else {
      printf("{\"side\": \"implreg\", ");
      jnum("value", pr.value, ", ");
      printf("\"hvps\": %zu, ", pr.nmatvec);
      jnum("residual", pr.residual, ", ");
      jnum("seconds", t1 - t0, "}\n");
    }
  }
  problem_free(&pb);
  return rc;
}

static int run_flatness_measure(const char *dir) {
  problem pb;
  int rc = problem_load(dir, 0, &pb);
  if (rc == 0) {
    ir_flatness_params fp;
    ir_flatness_params_default(&fp);
    ir_flatness_measures fm;
    double t0 = now();
    int s = ir_flatness_measure(pb.model, &pb.arch, pb.theta, &fp, &fm, NULL);
    double t1 = now();
    if (s != IR_OK) {
      rc = fail("ir_flatness_measure", s);
    } else {
      printf("{\"threads\": %d, ", openblas_get_num_threads());
      jnum("seconds", t1 - t0, ", ");
      jnum("lambda", fm.lambda_max, ", ");
      printf("\"lambda_hvps\": %zu, ", fm.lambda_hvps);
      jnum("trace", fm.trace, ", ");
      jnum("trace_se", fm.trace_se, ", ");
      jnum("sharp_full", fm.sharp_full, ", ");
      printf("\"sharp_full_evals\": %zu, ", fm.sharp_full_evals);
      jnum("sharp_sub", fm.sharp_sub, ", ");
      printf("\"sharp_sub_evals\": %zu, ", fm.sharp_sub_evals);
      jnum("lambda_bal", fm.lambda_bal, "}\n");
    }
  }
  problem_free(&pb);
  return rc;
}

int main(int argc, char **argv) {
  enum { O_INFO = 1, O_DATA, O_PREP, O_RUN, O_POWER, O_MEASURE };
  static const struct option opts[] = {
      {"info", no_argument, NULL, O_INFO},
      {"data", required_argument, NULL, O_DATA},
      {"prep", no_argument, NULL, O_PREP},
      {"run", no_argument, NULL, O_RUN},
      {"power", no_argument, NULL, O_POWER},
      {"measure", no_argument, NULL, O_MEASURE},
      {NULL, 0, NULL, 0}};
  (void)parse_double; /* bench_util.h's; no numeric options here */
  const char *dir = NULL;
  int mode = 0, c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c == O_DATA)
      dir = optarg;
    else if (c >= O_INFO && c <= O_MEASURE && mode == 0)
      mode = c;
    else
      mode = -1;
  }
  if (mode <= 0 || optind != argc || (mode != O_INFO && dir == NULL)) {
    fprintf(stderr, "usage: bench_flatness --info | --data DIR "
                    "(--prep | --run | --power | --measure)\n");
    return 2;
  }
  switch (mode) {
  case O_INFO: return run_info();
  case O_PREP: return run_prep(dir);
  case O_RUN: return run_measures(dir);
  case O_POWER: return run_power(dir);
  default: return run_flatness_measure(dir);
  }
}
