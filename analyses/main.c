/* main.c — `implreg <analysis> [options]`: dispatch to the analyses. */
#include <config.h>

#include <stdio.h>
#include <string.h>

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
    {"all", ir_an_all, "every analysis at its default size (the main job)"},
};

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
              "3 a check failed\nunder --strict, 1 internal error.\n");
}

int main(int argc, char **argv) {
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
    if (strcmp(argv[1], analyses[i].name) == 0)
      return analyses[i].run(argc - 1, argv + 1);
  fprintf(stderr, "implreg: unknown analysis '%s' (see 'implreg --help')\n",
          argv[1]);
  return IR_EXIT_USAGE;
}
