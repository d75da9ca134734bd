/* main.c — `implreg <analysis> [options]`: dispatch to the analyses. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

typedef struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} ir_analysis;

static const ir_analysis analyses[] = {
    {"minnorm", ir_an_minnorm,
     "min-l2-norm (pseudo-inverse) solution of given data, with diagnostics"},
    {"gd-vs-minnorm", ir_an_gd_vs_minnorm,
     "GD/SGD/momentum iterates against the min-norm interpolator and the "
     "SVD-predicted trajectory"},
    {"double-descent", ir_an_double_descent,
     "test error, train error and norm against model size, sample size and "
     "GD time; peak at the interpolation threshold; ridgeless theory"},
    {"theory", ir_an_theory,
     "closed-form predictions (Hastie et al., Mei-Montanari, "
     "Marchenko-Pastur)"},
    {"hessian", ir_an_hessian,
     "curvature of given weights: loss, gradient norm, extreme Hessian "
     "eigenvalues with residuals, trace, spectral density, dense spectrum"},
    {"train", ir_an_train,
     "train networks with GD, SGD, heavy ball or explicit gradient "
     "regularization; log loss, accuracy, sharpness; save the weights"},
    {"igr", ir_an_igr,
     "discrete steps against gradient flow and modified flows; the implicit "
     "regularizer's coefficient fitted from the iterates; SGD's modified "
     "loss; flatness"},
    {"nn-double-descent", ir_an_nn_double_descent,
     "double descent of trained two-layer networks on Fashion-MNIST: width "
     "sweep with label noise, EMC, epoch-wise curve"},
    {"flatness", ir_an_flatness,
     "which minima are flat: GD/SGD end points over step and batch sizes, "
     "flatness measures against the gap, Dinh's rescaling, loss slices, "
     "Marchenko-Pastur"},
    {"all", ir_an_all, "every analysis at its default size (the main job)"},
    {"table", ir_an_table,
     "one table of several finished runs stacked, with a run column"},
    {"plot", ir_an_plot,
     "one figure's series from several finished runs overlaid"},
    {"merge", ir_an_merge,
     "assemble a sweep computed in shards (--shard I/K) into one run's "
     "tables"},
};

/* OpenBLAS's introspection (its <cblas.h> clashes with GSL's, docs/stack.md).
 */
char *openblas_get_corename(void);

/* OpenBLAS (0.3.21 in Debian 12) picks its kernels from the CPU model when
 * it loads.  On a model it does not know (a newer CPU, or a VM that hides
 * the model name) it falls back to the generic Prescott (SSE3) kernels,
 * 3-5x slower than the AVX-512 or AVX2 kernels the CPU has.  The choice is
 * made before main runs, so implreg re-executes itself once with
 * OPENBLAS_CORETYPE set to the kernels the CPU supports.  A user's own
 * OPENBLAS_CORETYPE (any value) is kept, IMPLREG_KEEP_BLAS_KERNELS=1 turns
 * this off, and under valgrind (which would not follow the exec) nothing
 * happens.  Manifests record the kernels in use (openblas_config). */
static void select_blas_kernels(char **argv) {
#if defined(__x86_64__) || defined(__i386__)
  if (getenv("OPENBLAS_CORETYPE") || getenv("IMPLREG_KEEP_BLAS_KERNELS"))
    return;
  const char *core = openblas_get_corename();
  if (core == NULL || strcasecmp(core, "prescott") != 0)
    return;
  const char *pre = getenv("LD_PRELOAD");
  if (pre && strstr(pre, "vgpreload"))
    return;
  __builtin_cpu_init();
  const char *want = NULL;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    want = "SkylakeX";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    want = "Haswell";
  if (want == NULL || setenv("OPENBLAS_CORETYPE", want, 1) != 0)
    return;
  execv("/proc/self/exe", argv);
  unsetenv("OPENBLAS_CORETYPE"); /* exec failed: keep the kernels we have */
#else
  (void)argv;
#endif
}

static void usage(FILE *fp) {
  fprintf(
      fp,
      "Usage: implreg <analysis> [options]\n"
      "       implreg <analysis> --help\n"
      "       implreg --version\n\n"
      "implreg checks theory about implicit regularization numerically and\n"
      "writes tables, figures and a PASS/FAIL verdict per theoretical "
      "claim.\n\nAnalyses:\n");
  for (size_t i = 0; i < sizeof analyses / sizeof analyses[0]; i++)
    fprintf(fp, "  %-15s %s\n", analyses[i].name, analyses[i].summary);
  fprintf(fp, "\nExit status: 0 done, 2 bad usage/input or failed computation, "
              "3 a check failed\nunder --strict, 1 internal error, 130 interrupted.\n");
}

int main(int argc, char **argv) {
  select_blas_kernels(argv);
  ir_error_install_gsl_handler();
  if (argc < 2) {
    usage(stderr);
    return IR_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(stdout);
    return IR_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("implreg %s\n", PACKAGE_VERSION);
    return IR_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof analyses / sizeof analyses[0]; i++)
    if (strcmp(argv[1], analyses[i].name) == 0) {
      ir_cli_signals_install();
      if (ir_cli_mpi_init(&argc, &argv) != 0)
        return IR_EXIT_INTERNAL;
      int rc = analyses[i].run(argc - 1, argv + 1);
      ir_cli_mpi_finalize(rc);
      return rc;
    }
  fprintf(stderr, "implreg: unknown analysis '%s' (see 'implreg --help')\n",
          argv[1]);
  return IR_EXIT_USAGE;
}
