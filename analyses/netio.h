/* netio.h — what `implreg hessian` and `implreg train` share: the network
 * options (--arch, --act, --loss), the data (--X/--Y files in NPY, CSV or
 * IDX, or a named data set) and θ files in PyTorch's layout.
 *
 * Every function here prints one line "PROG: what, where, what to do" on
 * failure and returns an exit status (0 on success, 2 for bad input).
 */
#ifndef IMPLREG_NETIO_H
#define IMPLREG_NETIO_H

#include "cli.h"

typedef struct {
  const char *arch_spec;     /* --arch (required) */
  ir_mlp_arch arch;          /* parsed, with act and loss */
  const char *xpath, *ypath; /* --X, --Y */
  const char *xtest, *ytest; /* --X-test, --Y-test (train only) */
  const char *data;          /* --data fashion-mnist | teacher */
  const char *test_data;     /* the matching test split ("" when none) */
  size_t n;                  /* --n: rows used (0: all, or the data default) */
  double xscale;             /* --x-scale (< 0: 1/255 for IDX images, else 1) */
} ir_net_opts;

/* Defaults: act relu, loss mse, no data, n 0, xscale −1. */
void ir_net_opts_init(ir_net_opts *o);

/* Help text for the options above, and for IR_NET_TEST_OPTIONS. */
extern const char ir_net_help[];
extern const char ir_net_test_help[];

/* Long-option codes handled by ir_net_option (500..599). */
enum {
  IR_NET_OPT_ARCH = 500,
  IR_NET_OPT_ACT,
  IR_NET_OPT_LOSS,
  IR_NET_OPT_X,
  IR_NET_OPT_Y,
  IR_NET_OPT_DATA,
  IR_NET_OPT_N,
  IR_NET_OPT_XSCALE,
  IR_NET_OPT_XTEST,
  IR_NET_OPT_YTEST
};

/* The test-data options, for analyses that evaluate on held-out data. */
#define IR_NET_TEST_OPTIONS                                                    \
  {"X-test", required_argument, NULL, IR_NET_OPT_XTEST}, {                     \
    "Y-test", required_argument, NULL, IR_NET_OPT_YTEST                        \
  }

#define IR_NET_OPTIONS                                                         \
  {"arch", required_argument, NULL, IR_NET_OPT_ARCH},                          \
      {"act", required_argument, NULL, IR_NET_OPT_ACT},                        \
      {"loss", required_argument, NULL, IR_NET_OPT_LOSS},                      \
      {"X", required_argument, NULL, IR_NET_OPT_X},                            \
      {"Y", required_argument, NULL, IR_NET_OPT_Y},                            \
      {"data", required_argument, NULL, IR_NET_OPT_DATA},                      \
      {"n", required_argument, NULL, IR_NET_OPT_N}, {                          \
    "x-scale", required_argument, NULL, IR_NET_OPT_XSCALE                      \
  }

/* Handles one of the codes above: 0 handled, 1 not a network option,
 * IR_EXIT_USAGE after printing an error.  Records the value in cfg. */
int ir_net_option(const char *prog, ir_net_opts *o, int code, const char *arg,
                  ir_cli_config *cfg);

/* After option parsing: --arch given and parsed, exactly one data source. */
int ir_net_validate(const char *prog, ir_net_opts *o);

/* The end of option parsing for the network analyses: no stray argument
 * (optind), one seed (they run one seed at a time: --seeds > 1 is refused
 * rather than ignored), then ir_net_validate. */
int ir_net_finish(const char *prog, int argc, char **argv,
                  const ir_cli_common *c, ir_net_opts *o);

/* Loads the training inputs X (n×d) and targets Y (n×K: one-hot rows for
 * cross-entropy, converted from integer labels) for the architecture.
 * seed draws the synthetic teacher data.  desc (may be NULL) receives a
 * one-line description of the data. */
int ir_net_load(const char *prog, const ir_net_opts *o, unsigned long seed,
                gsl_matrix **X, gsl_matrix **Y, char *desc, size_t desclen);

/* Test data: --X-test/--Y-test when given (read like --X/--Y, all rows),
 * else the test split of a named data set (Fashion-MNIST's t10k, or fresh
 * teacher draws), ntest rows; *X = *Y = NULL when there is none. */
int ir_net_load_test(const char *prog, const ir_net_opts *o, unsigned long seed,
                     size_t ntest, gsl_matrix **X, gsl_matrix **Y);

/* Reads θ (a .npy or .csv holding exactly nparams values, any shape) and
 * checks its length against the architecture; opt names the option the
 * path came from ("params", "init") in messages.  Rows count from 1. */
int ir_net_load_params(const char *prog, const char *opt, const char *path,
                       const ir_mlp_arch *arch, gsl_vector **theta);

/* Writes θ as a 1-D .npy (float64), atomically. */
int ir_net_save_params(const char *prog, const char *path,
                       const gsl_vector *theta);

#endif
