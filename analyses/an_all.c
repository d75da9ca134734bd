/* an_all.c — `implreg all`: every analysis at its default size (the main
 * job), each into its own folder under --out, with one combined checks
 * table. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *const PROG = "implreg all";

static const char help[] =
    "Usage: implreg all [options]\n\n"
    "Runs every analysis at its default size (or --quick) into\n"
    "OUT/<analysis>/ (default OUT = results) and writes OUT/checks.csv and\n"
    "OUT/checks.md and OUT/checks.tex with every theory check.\n"
    "Analyses: gd-vs-minnorm, double-descent; train at the edge of\n"
    "stability (docs/theory.md 7: 4-32-1 tanh network, full-batch GD with eta "
    "=\n"
    "0.3 and 0.05) into train-eos/ and train-stable/; hessian of the\n"
    "trained eta = 0.3 network with every estimator against its dense\n"
    "spectrum into hessian/; the same on Fashion-MNIST (784-32-10 tanh,\n"
    "MSE, eta = 0.2) into train-fashion/ and hessian-fashion/;\n"
    "nn-double-descent (trained two-layer networks on Fashion-MNIST: width\n"
    "sweep with label noise, EMC, epoch-wise curve) into\n"
    "nn-double-descent/; igr (every\n"
    "model: error orders, the fitted regularizer, SGD, flatness, networks)\n"
    "into igr/; flatness (GD/SGD end points over step and batch sizes,\n"
    "flatness against the gap, Dinh's rescaling, Marchenko-Pastur) into\n"
    "flatness/.\n"
    "--seeds K goes to gd-vs-minnorm, double-descent, nn-double-descent, igr\n"
    "and flatness (means and\n"
    "standard errors over K seeds); train and hessian measure one network\n"
    "(seed N) in every case.\n\n";

typedef struct {
  const char *name; /* the analysis */
  const char *dir;  /* its folder under OUT */
  int (*run)(int argc, char **argv);
  const char *const *args; /* extra arguments; "@OUT@" stands for OUT */
  int seeds; /* takes --seeds (train and hessian measure one network) */
} all_entry;

/* docs/theory.md §7's small case: n = 64, x ∈ R⁴, one tanh layer of 32 units,
 * L = ½·mean(r²), full-batch GD. */
#define EOS_NET                                                                \
  "--arch", "4-32-1", "--act", "tanh", "--loss", "half-mse", "--data", "teacher"
static const char *const train_eos[] = {
    EOS_NET, "--lr", "0.3", "--steps", "5000", "--sharpness", NULL};
static const char *const train_stable[] = {
    EOS_NET, "--lr", "0.05", "--steps", "5000", "--sharpness", NULL};
static const char *const hessian_eos[] = {
    EOS_NET,     "--params", "@OUT@/train-eos/theta.npy",
    "--top",     "5",        "--bottom",
    "3",         "--trace",
    "--density", "--full",   "--power",
    NULL};

/* The same on real data: 784-32-10 tanh with MSE on one-hot targets (as
 * Cohen et al.'s MSE experiments), full-batch GD on 1000 Fashion-MNIST
 * images at eta = 0.2 (1000 steps also with --quick: the sharpness starts
 * above 2/eta and needs a few hundred steps to settle), then the network's
 * top eigenvalues, trace and spectral density (25,450 parameters: no dense
 * spectrum). */
#define FASHION_NET                                                            \
  "--arch", "784-32-10", "--act", "tanh", "--loss", "mse", "--data",           \
      "fashion-mnist", "--n", "1000"
static const char *const train_fashion[] = {
    FASHION_NET, "--lr", "0.2", "--steps", "1000", "--sharpness", NULL};
static const char *const hessian_fashion[] = {
    FASHION_NET, "--params", "@OUT@/train-fashion/theta.npy",
    "--top",     "10",       "--trace",
    "--density", NULL};

static const all_entry entries[] = {
    {"gd-vs-minnorm", "gd-vs-minnorm", ir_an_gd_vs_minnorm, NULL, 1},
    {"double-descent", "double-descent", ir_an_double_descent, NULL, 1},
    {"train", "train-eos", ir_an_train, train_eos, 0},
    {"train", "train-stable", ir_an_train, train_stable, 0},
    {"hessian", "hessian", ir_an_hessian, hessian_eos, 0},
    {"train", "train-fashion", ir_an_train, train_fashion, 0},
    {"hessian", "hessian-fashion", ir_an_hessian, hessian_fashion, 0},
    {"nn-double-descent", "nn-double-descent", ir_an_nn_double_descent, NULL,
     1},
    {"igr", "igr", ir_an_igr, NULL, 1},
    {"flatness", "flatness", ir_an_flatness, NULL, 1}};

/* Runs one entry with the common options, in its own sub-folder. */
static int run_entry(const all_entry *e, const ir_cli_common *c,
                     int seeds_given) {
  char out[4200], seed[32], seeds[32], threads[32], subst[8][4200];
  snprintf(out, sizeof out, "%s/%s", c->out, e->dir);
  snprintf(seed, sizeof seed, "%lu", c->seed);
  snprintf(seeds, sizeof seeds, "%zu", c->seeds);
  snprintf(threads, sizeof threads, "%d", c->threads);
  char *sub[48];
  int k = 0, ns = 0;
  sub[k++] = (char *)e->name;
  for (const char *const *a = e->args; a && *a; a++) {
    const char *at = strstr(*a, "@OUT@");
    if (at && ns < 8) {
      snprintf(subst[ns], sizeof subst[ns], "%.*s%s%s", (int)(at - *a), *a,
               c->out, at + 5);
      sub[k++] = subst[ns++];
    } else {
      sub[k++] = (char *)*a;
    }
  }
  sub[k++] = "--out";
  sub[k++] = out;
  sub[k++] = "--seed";
  sub[k++] = seed;
  if (seeds_given && e->seeds) {
    sub[k++] = "--seeds";
    sub[k++] = seeds;
  }
  if (c->threads > 0) {
    sub[k++] = "--threads";
    sub[k++] = threads;
  }
  if (c->quick)
    sub[k++] = "--quick";
  if (c->quiet)
    sub[k++] = "--quiet";
  if (c->progress)
    sub[k++] = "--progress";
  sub[k] = NULL;
  if (!ir_cli_validating && !c->quiet)
    printf("== implreg %s (%s) ==\n", e->name, e->dir);
  return e->run(k, sub);
}

int ir_an_all(int argc0, char **argv0) {
  int argc;
  char **argv;
  int rc = ir_cli_expand_config(PROG, argc0, argv0, &argc, &argv);
  if (rc != 0)
    return rc;
  static const struct option longopts[] = {IR_CLI_COMMON_OPTIONS,
                                           {NULL, 0, NULL, 0}};
  ir_cli_common c;
  ir_cli_common_init(&c, "all");
  snprintf(c.out, sizeof c.out, "results");
  ir_checks *all = NULL;
  int seeds_given = 0; /* passed on only when given: igr's default is 3 */
  optind = 1;
  opterr = 0;
  int code;
  while ((code = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    if (code == IR_OPT_HELP) {
      fputs(help, stdout);
      fputs(ir_cli_common_help, stdout);
      rc = IR_EXIT_OK;
      goto done;
    }
    if (code == ':' || code == '?') {
      rc = ir_cli_usage_error(PROG, "%s '%s'",
                              code == ':' ? "option needs a "
                                            "value:"
                                          : "unknown option",
                              argv[optind - 1]);
      goto done;
    }
    seeds_given |= code == IR_OPT_SEEDS;
    if (ir_cli_common_option(PROG, &c, code, optarg) != 0) {
      rc = IR_EXIT_USAGE;
      goto done;
    }
  }
  if (optind < argc) {
    rc = ir_cli_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
    goto done;
  }
  if (c.resume || c.nshards > 1) {
    rc = ir_cli_usage_error(PROG, "%s: give it to one analysis with cells "
                                  "(flatness, nn-double-descent), not to all",
                            c.resume ? "--resume" : "--shard");
    goto done;
  }
  /* First every analysis's options are validated (each returns right
   * after its checks, ir_cli_validating), so that a bad option is refused
   * before anything runs or is written. */
  if ((rc = ir_cli_check_out_dir(PROG, c.out)) != 0)
    goto done;
  ir_cli_validating = 1;
  for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
    int r = run_entry(&entries[i], &c, seeds_given);
    if (r != IR_EXIT_OK) {
      fprintf(stderr,
              "%s: refused before running anything: the options above do "
              "not suit '%s' (%s/)\n",
              PROG, entries[i].name, entries[i].dir);
      rc = r;
      goto done;
    }
  }
  ir_cli_validating = 0;
  if ((rc = ir_cli_lock_out(PROG, c.out)) != 0)
    goto done;
  all = ir_checks_alloc();
  if (all == NULL) {
    rc = ir_cli_fail(PROG, IR_ENOMEM, "out of memory");
    goto done;
  }
  ir_cli_collect = all;
  for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
    int r = run_entry(&entries[i], &c, seeds_given);
    if (r != IR_EXIT_OK && r != IR_EXIT_CHECK) {
      rc = r;
      goto done;
    }
  }
  int s = ir_checks_write(all, c.out, IR_FMT_CSV | IR_FMT_MD);
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  if (!c.quiet)
    printf("\nall: %zu of %zu checks passed; summary in %s/checks.md\n",
           ir_checks_count(all) - ir_checks_failed(all), ir_checks_count(all),
           c.out);
  rc = ir_cli_exit_status(&c, all);
done:
  ir_cli_validating = 0;
  ir_cli_collect = NULL;
  ir_checks_free(all);
  ir_cli_argv_free(argc, argv);
  return rc;
}
