/* bench_mlp_paths.c — where the fused small-network kernels (mlp.h, "Small
 * networks") stop beating the BLAS path: times a GD step (loss and
 * gradient) and an HVP (cached forward pass) through both paths
 * (ir_model_mlp_set_kernels) on a grid of shapes, and prints the forward
 * flops 2·m·Σ in·out of each shape with the ratio BLAS / fused.
 * IR_MLP_SMALL_FLOPS was set from this table.
 *
 * Build and run (in a configured, built tree; one BLAS thread, the AVX-512
 * kernels as the implreg program selects them):
 *   gcc -O2 -std=c17 -D_POSIX_C_SOURCE=200809L -Iinclude $(IR_CFLAGS) \
 *     bench/bench_mlp_paths.c .libs/libimplreg.a $(IR_LIBS) -o /tmp/paths
 *   OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=SkylakeX /tmp/paths [MIN_TIME]
 * (IR_CFLAGS and IR_LIBS as in the Makefile.)  Times are the best of 5
 * loops of N calls, N chosen so that a loop lasts MIN_TIME seconds (default
 * 0.02). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>

#include "implreg/mlp.h"
#include "implreg/rng.h"

#define BENCH_PROG "bench_mlp_paths"
#include "bench_util.h"

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Seconds per call of n calls of op (0: GD step, 1: HVP). */
static double loop_op(ir_model *m, gsl_vector *th, const gsl_vector *v,
                      gsl_vector *out, int op, unsigned long n) {
  double L;
  double t0 = now();
  for (unsigned long i = 0; i < n; i++) {
    if (op == 0) {
      ir_model_loss_grad(m, th, NULL, 0, &L, out);
      gsl_blas_daxpy(-1e-12, out, th);
    } else {
      ir_model_hvp(m, th, NULL, 0, v, out);
    }
  }
  return (now() - t0) / (double)n;
}

/* Best of 5 loops of per-call seconds (the machine is shared: the best
 * is the least disturbed) of op; n doubles until a loop lasts min_time. */
static double time_op(ir_model *m, gsl_vector *th, const gsl_vector *v,
                      gsl_vector *out, int op, double min_time) {
  double t[5];
  unsigned long n = 1;
  for (;;) {
    t[0] = loop_op(m, th, v, out, op, n);
    if (t[0] * (double)n >= min_time || n >= (1UL << 24))
      break;
    n *= 2;
  }
  for (int r = 1; r < 5; r++)
    t[r] = loop_op(m, th, v, out, op, n);
  qsort(t, 5, sizeof t[0], cmp);
  return t[0];
}

int main(int argc, char **argv) {
  double min_time = 0.02;
  if (argc > 1 && parse_double("MIN_TIME", argv[1], &min_time))
    return 2;
  const char *specs[] = {"4-32-1",   "4-64-1",   "4-128-1",  "10-32-10",
                         "10-64-10", "32-32-1",  "32-64-10", "64-64-10",
                         "100-32-10", "4-32-32-1", "784-16-10"};
  const size_t ms[] = {16, 64, 256, 1024};
  printf("%-11s %5s %10s %10s %10s %6s %10s %10s %6s\n", "network", "m",
         "MFLOP fwd", "GD fused", "GD BLAS", "ratio", "HVP fused", "HVP BLAS",
         "ratio");
  for (size_t a = 0; a < sizeof specs / sizeof specs[0]; a++)
    for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++) {
      ir_mlp_arch arch;
      if (ir_mlp_arch_parse(specs[a], &arch) != IR_OK)
        return fail(specs[a], IR_EINVAL);
      arch.act = IR_ACT_TANH;
      arch.loss = IR_LOSS_MSE;
      const size_t m = ms[k], d = arch.width[0], K = arch.width[arch.nlayers];
      gsl_rng *r = ir_rng_alloc(7, 0);
      gsl_matrix *X = gsl_matrix_alloc(m, d), *Y = gsl_matrix_alloc(m, K);
      for (size_t i = 0; i < m * d; i++)
        X->data[i] = gsl_rng_uniform(r) - 0.5;
      for (size_t i = 0; i < m * K; i++)
        Y->data[i] = gsl_rng_uniform(r) - 0.5;
      ir_model *mod = ir_model_mlp_alloc(&arch, X, Y);
      if (mod == NULL)
        return fail("ir_model_mlp_alloc", IR_EINVAL);
      const size_t p = mod->nparams;
      gsl_vector *th = gsl_vector_alloc(p), *v = gsl_vector_alloc(p),
                 *out = gsl_vector_alloc(p);
      ir_mlp_init_torch(&arch, r, th);
      for (size_t j = 0; j < p; j++)
        v->data[j] = gsl_rng_uniform(r) - 0.5;
      double t[2][2];
      for (int path = 0; path < 2; path++) {
        ir_model_mlp_set_kernels(mod, path == 0 ? IR_MLP_KERNELS_SMALL
                                                : IR_MLP_KERNELS_BLAS);
        for (int op = 0; op < 2; op++)
          t[path][op] = time_op(mod, th, v, out, op, min_time);
      }
      double F = 0;
      for (size_t l = 0; l < arch.nlayers; l++)
        F += (double)arch.width[l] * (double)arch.width[l + 1];
      printf("%-11s %5zu %10.4f %8.2fus %8.2fus %6.2f %8.2fus %8.2fus %6.2f\n",
             specs[a], m, 2.0 * (double)m * F / 1e6,
             t[0][0] * 1e6, t[1][0] * 1e6, t[1][0] / t[0][0], t[0][1] * 1e6,
             t[1][1] * 1e6, t[1][1] / t[0][1]);
      fflush(stdout);
      ir_model_free(mod);
      gsl_matrix_free(X);
      gsl_matrix_free(Y);
      gsl_vector_free(th);
      gsl_vector_free(v);
      gsl_vector_free(out);
      gsl_rng_free(r);
    }
  return 0;
}
