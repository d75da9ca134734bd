/* an_theory.c — `implreg theory`: the closed-form predictions of
 * docs/theory.md §2–§3 as tables, one row per grid value (Hastie et al.
 * arXiv:1903.08560, Mei & Montanari arXiv:1908.05355, the Marchenko–Pastur
 * law).  A thin driver: every formula and every domain check is in
 * src/theory.c; this file parses options, fills a table and writes it. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "Usage: implreg theory <sub-command> [options]\n"
    "       implreg theory <sub-command> --help\n\n"
    "Closed-form predictions of docs/theory.md as tables, one row per grid "
    "value.\n\n"
    "Sub-commands:\n"
    "  hastie         asymptotic ridgeless (or ridge) risk of isotropic least\n"
    "                 squares against gamma = p/n (Hastie et al. "
    "arXiv:1903.08560)\n"
    "  hastie-exact   exact finite-n expected risk of min-norm least squares\n"
    "                 with Gaussian X, against p at fixed n\n"
    "  mei-montanari  ridgeless random-features risk against psi1 = N/d\n"
    "                 (Mei & Montanari arXiv:1908.05355)\n"
    "  mp             Marchenko-Pastur density of X'X/n on a grid, its edges\n"
    "                 and its atom at 0\n\n"
    "LIST arguments are comma-separated values, ranges a:b:k (k points from\n"
    "a to b, evenly spaced), or a mix of both: 0.1:0.9:9,1.5,2:10:9.\n"
    "Output: an aligned table on stdout; --format csv prints CSV (%.17g)\n"
    "instead; --out DIR also writes DIR/<table>.csv, .md, .tex, .json (the\n"
    "formats of --format, default all) and DIR/manifest.json.\n"
    "Exit status: 0 done, 2 bad usage or input (one line on stderr), 1\n"
    "internal error.\n";

static const char out_help[] =
    "Output options:\n"
    "  --format LIST  csv prints CSV on stdout instead of the aligned table;\n"
    "                 with --out, the file formats (csv,md,tex,json or all;\n"
    "                 default all)\n"
    "  --out DIR      also write the table files and manifest.json to DIR\n"
    "  --quiet        print nothing on stdout\n"
    "  --config FILE  options from a key = value file or an earlier run's\n"
    "                 manifest.json (the command line wins)\n"
    "  --help         this text\n"
    "Exit status: 0 done, 2 bad usage or input (one line on stderr), 1\n"
    "internal error.\n";

static const char hastie_help[] =
    "Usage: implreg theory hastie --gamma LIST --r2 R --sigma2 S "
    "[--ridge L|opt]\n\n"
    "Asymptotic excess risk of least squares with isotropic Gaussian "
    "features,\n"
    "p/n -> gamma, ||beta||^2 = r2, noise variance sigma2 (Hastie et al.\n"
    "arXiv:1903.08560; docs/theory.md section 2).  Without --ridge: the "
    "min-norm\n"
    "(ridgeless) estimator X+ y, bias r2(1 - 1/gamma) and variance\n"
    "sigma2/(gamma - 1) for gamma > 1, sigma2 gamma/(1 - gamma) for gamma < "
    "1,\n"
    "inf at gamma = 1.  With --ridge L: ridge (X'X + n L I)^-1 X'y from the\n"
    "Marchenko-Pastur Stieltjes transform; --ridge opt: the optimal\n"
    "L* = sigma2 gamma/r2 at each gamma.\n\n"
    "Options:\n"
    "  --gamma LIST   values of gamma = p/n (> 0)\n"
    "  --r2 R         signal strength ||beta||^2 (>= 0)\n"
    "  --sigma2 S     noise variance (>= 0)\n"
    "  --ridge L|opt  ridge penalty L > 0, or opt\n\n";

static const char exact_help[] =
    "Usage: implreg theory hastie-exact --n N --p LIST --r2 R --sigma2 S\n\n"
    "Exact expected excess risk of min-norm least squares at finite n with\n"
    "Gaussian X (docs/theory.md section 2): p <= n - 2: bias 0, variance\n"
    "sigma2 p/(n - p - 1); p >= n + 2: bias r2(1 - n/p), variance\n"
    "sigma2 n/(p - n - 1); inf for n - 1 <= p <= n + 1.\n\n"
    "Options:\n"
    "  --n N          number of samples (>= 1)\n"
    "  --p LIST       numbers of parameters (whole numbers >= 1; range points\n"
    "                 are rounded to whole numbers, repeats dropped)\n"
    "  --r2 R         signal strength ||beta||^2 (>= 0)\n"
    "  --sigma2 S     noise variance (>= 0)\n\n";

static const char mm_help_head[] =
    "Usage: implreg theory mei-montanari --act NAME --psi1 LIST --psi2 X\n"
    "           --tau2 T --F1 A --Fstar B\n\n"
    "Asymptotic excess test risk of ridgeless random-features regression\n"
    "(Mei & Montanari arXiv:1908.05355; docs/theory.md section 3): N features\n"
    "act(<theta_a, x>/sqrt(d)), n samples, psi1 = N/d, psi2 = n/d, target\n"
    "<beta1, x> + f_NL(x) + noise with ||beta1|| = F1, E f_NL^2 = Fstar^2,\n"
    "noise variance tau2.  risk = bias + variance + nonlinear with\n"
    "bias = F1^2 E1/E0, variance = (tau2 + Fstar^2) E2/E0, nonlinear = "
    "Fstar^2;\n"
    "inf at psi1 = psi2.  The activation enters through mu0 = E act(G),\n"
    "mu1 = E G act(G), mu*^2 = E act(G)^2 - mu0^2 - mu1^2 (G ~ N(0, 1), by\n"
    "quadrature) and zeta = mu1/mu*, printed above the table; a linear\n"
    "activation (mu* = 0) is refused.\n\n"
    "Options:\n";

static const char mm_help_tail[] =
    "  --psi1 LIST    values of psi1 = N/d (> 0)\n"
    "  --psi2 X       psi2 = n/d (> 0)\n"
    "  --tau2 T       noise variance (>= 0)\n"
    "  --F1 A         norm of the linear part of the target (>= 0)\n"
    "  --Fstar B      norm of the nonlinear part of the target (>= 0)\n\n";

static const char mp_help[] =
    "Usage: implreg theory mp --gamma G [--points K]\n\n"
    "The Marchenko-Pastur law of the eigenvalues of X'X/n, x ~ N(0, I_p),\n"
    "p/n -> gamma: density (1/(2 pi gamma x)) sqrt((l+ - x)(x - l-)) on\n"
    "[l-, l+], l+- = (1 +- sqrt(gamma))^2, plus an atom 1 - 1/gamma at 0 when\n"
    "gamma > 1.  The table holds the continuous density at the midpoints of\n"
    "K equal cells of [l-, l+] (the density is unbounded at 0 for gamma = 1);\n"
    "the edges and the atom are printed above it.\n\n"
    "Options:\n"
    "  --gamma G      ratio gamma = p/n (> 0)\n"
    "  --points K     number of grid points (default 100)\n\n";

/* Long-option codes of the sub-commands (< 1000, below the common ones). */
enum {
  OPT_GAMMA = 1,
  OPT_R2,
  OPT_SIGMA2,
  OPT_RIDGE,
  OPT_N,
  OPT_P,
  OPT_ACT,
  OPT_PSI1,
  OPT_PSI2,
  OPT_TAU2,
  OPT_F1,
  OPT_FSTAR,
  OPT_POINTS
};

/* The largest grid a LIST may describe. */
#define TH_MAX_LIST 1000000
/* The largest --points. */
#define TH_MAX_POINTS 1000000

/* What every sub-command shares: its name, output options, the resolved
 * configuration for the manifest. */
typedef struct {
  char prog[64];
  const char *sub;
  ir_cli_common common;
  int have_out, have_format;
  ir_cli_config cfg;
} th_ctx;

/* A parsed LIST. */
typedef struct {
  double *v;
  size_t n;
} th_list;

static void th_list_free(th_list *l) {
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

static int th_list_push(const char *prog, th_list *l, size_t *cap, double x) {
  if (l->n == TH_MAX_LIST) {
    fprintf(stderr, "%s: a LIST may hold at most %d values\n", prog,
            TH_MAX_LIST);
    return IR_EXIT_USAGE;
  }
  if (l->n == *cap) {
    size_t nc = *cap ? 2 * *cap : 16;
    double *v = realloc(l->v, nc * sizeof *v);
    if (v == NULL) {
      fprintf(stderr, "%s: out of memory\n", prog);
      return IR_EXIT_INTERNAL;
    }
    l->v = v;
    *cap = nc;
  }
  l->v[l->n++] = x;
  return 0;
}

/* Parses "a:b:k" into k evenly spaced points from a to b.  Each point is
 * a(1 − t) + bt with t = i/(k − 1), which gives a and b exactly at the
 * ends.  whole: the points are rounded to whole numbers and a point equal
 * to the previous one is dropped. */
static int th_parse_range(const char *prog, const char *name, char *item,
                          int whole, th_list *l, size_t *cap) {
  char *c1 = strchr(item, ':');
  char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
  if (c2 == NULL || strchr(c2 + 1, ':') != NULL) {
    fprintf(stderr, "%s: --%s: '%s' is not a range a:b:k\n", prog, name, item);
    return IR_EXIT_USAGE;
  }
  *c1 = '\0';
  *c2 = '\0';
  double a, b;
  size_t k;
  if (ir_cli_double(prog, name, item, -DBL_MAX, DBL_MAX, &a) ||
      ir_cli_double(prog, name, c1 + 1, -DBL_MAX, DBL_MAX, &b))
    return IR_EXIT_USAGE;
  if (ir_cli_size(prog, name, c2 + 1, 0, TH_MAX_LIST, &k))
    return IR_EXIT_USAGE;
  if (k < 2) {
    fprintf(stderr,
            "%s: --%s: range '%s:%s:%zu' needs k >= 2 points (give a single "
            "value as a number)\n",
            prog, name, item, c1 + 1, k);
    return IR_EXIT_USAGE;
  }
  for (size_t i = 0; i < k; i++) {
    const double t = (double)i / (double)(k - 1);
    double x = a * (1 - t) + b * t;
    if (whole) {
      x = nearbyint(x);
      if (l->n > 0 && x == l->v[l->n - 1])
        continue;
    }
    int rc = th_list_push(prog, l, cap, x);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* A LIST: comma-separated items, each a number or a range a:b:k.  whole:
 * whole numbers >= 1 (for p). */
static int th_parse_list(const char *prog, const char *name, const char *arg,
                         int whole, th_list *l) {
  th_list_free(l);
  size_t len = strlen(arg), cap = 0;
  char *copy = malloc(len + 1);
  if (copy == NULL) {
    fprintf(stderr, "%s: out of memory\n", prog);
    return IR_EXIT_INTERNAL;
  }
  memcpy(copy, arg, len + 1);
  int rc = 0;
  char *tok = copy;
  while (rc == 0 && tok != NULL) {
    /* Split by hand so that an empty item ("1,,2") is an error. */
    char *comma = strchr(tok, ',');
    if (comma != NULL)
      *comma = '\0';
    while (*tok == ' ')
      tok++;
    char *end = tok + strlen(tok);
    while (end > tok && end[-1] == ' ')
      *--end = '\0';
    if (*tok == '\0') {
      fprintf(stderr, "%s: --%s: empty item in the list '%s'\n", prog, name,
              arg);
      rc = IR_EXIT_USAGE;
    } else if (strchr(tok, ':') != NULL) {
      rc = th_parse_range(prog, name, tok, whole, l, &cap);
    } else {
      double x;
      rc = ir_cli_double(prog, name, tok, -DBL_MAX, DBL_MAX, &x);
      if (rc == 0)
        rc = th_list_push(prog, l, &cap, x);
    }
    tok = comma ? comma + 1 : NULL;
  }
  free(copy);
  for (size_t i = 0; rc == 0 && whole && i < l->n; i++)
    if (!(l->v[i] >= 1) || l->v[i] != floor(l->v[i]) || l->v[i] > 1e15) {
      fprintf(stderr, "%s: --%s: %g is not a whole number >= 1\n", prog, name,
              l->v[i]);
      rc = IR_EXIT_USAGE;
    }
  if (rc != 0)
    th_list_free(l);
  return rc;
}

/* Handles the output options and --help; returns 0 when handled, 1 when c
 * is not one of them, -1 after printing the help, or an exit status. */
static int th_output_option(th_ctx *x, int c, const char *arg,
                            const char *sub_help, char **argv) {
  switch (c) {
  case IR_OPT_OUT:
    x->have_out = 1;
    ir_cli_config_set(&x->cfg, "out", "%s", arg);
    return ir_cli_common_option(x->prog, &x->common, c, arg);
  case IR_OPT_FORMAT:
    x->have_format = 1;
    ir_cli_config_set(&x->cfg, "format", "%s", arg);
    return ir_cli_common_option(x->prog, &x->common, c, arg);
  case IR_OPT_QUIET: x->common.quiet = 1; return 0;
  case IR_OPT_SEED:
  case IR_OPT_SEEDS:
    /* Refused, not ignored: closed forms draw nothing at random. */
    return ir_cli_usage_error(x->prog,
                              "--seed/--seeds: theory evaluates closed forms "
                              "and draws nothing at random, so it takes "
                              "neither; leave the option out");
  case IR_OPT_HELP:
    fputs(sub_help, stdout);
    if (strcmp(x->sub, "mei-montanari") == 0) {
      printf("  --act NAME     activation, one of:\n"
             "                 %s\n"
             "                 (linear is refused: mu* = 0)\n",
             ir_theory_rf_activation_names());
      fputs(mm_help_tail, stdout);
    }
    fputs(out_help, stdout);
    return -1;
  case ':':
    return ir_cli_usage_error(x->prog, "option %s needs a value",
                              argv[optind - 1]);
  case '?':
    return ir_cli_usage_error(x->prog, "unknown option '%s'", argv[optind - 1]);
  default: return 1;
  }
}

#define TH_OUTPUT_OPTIONS                                                      \
  {"out", required_argument, NULL, IR_OPT_OUT},                                \
      {"format", required_argument, NULL, IR_OPT_FORMAT},                      \
      {"quiet", no_argument, NULL, IR_OPT_QUIET},                              \
      {"seed", required_argument, NULL, IR_OPT_SEED},                          \
      {"seeds", required_argument, NULL, IR_OPT_SEEDS}, {                      \
    "help", no_argument, NULL, IR_OPT_HELP                                     \
  }

/* A required option that was not given. */
static int th_missing(const th_ctx *x, const char *what) {
  return ir_cli_usage_error(x->prog, "%s is required", what);
}

/* One column of a table: its name, whether it holds whole numbers, and
 * its description (JSON and the Markdown legend). */
typedef struct {
  const char *name;
  int whole;
  const char *desc;
} th_col;

static ir_table *th_table(const char *name, const char *caption,
                          const th_col *cols, size_t ncols) {
  ir_table *t = ir_table_alloc(name, caption);
  for (size_t i = 0; t != NULL && i < ncols; i++)
    if (ir_table_add_column(t, cols[i].name,
                            cols[i].whole ? IR_COL_INT : IR_COL_DOUBLE,
                            cols[i].desc) < 0) {
      ir_table_free(t);
      t = NULL;
    }
  return t;
}

/* Adds a row of values in column order. */
static int th_row(ir_table *t, const th_col *cols, size_t ncols,
                  const double *v) {
  int s = ir_table_add_row(t);
  for (size_t i = 0; s == IR_OK && i < ncols; i++)
    s = cols[i].whole ? ir_table_set_int(t, (int)i, (long)v[i])
                      : ir_table_set_double(t, (int)i, v[i]);
  return s;
}

static int th_note(ir_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int th_note(ir_table *t, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return ir_table_add_note(t, buf);
}

/* The table as CSV on stdout, as ir_table_write writes it: a header of
 * column names, numbers with %.17g, non-finite numbers as inf/-inf/nan. */
static void th_print_csv(const ir_table *t, const th_col *cols, size_t ncols) {
  for (size_t c = 0; c < ncols; c++)
    printf("%s%s", c ? "," : "", cols[c].name);
  putchar('\n');
  for (size_t r = 0; r < ir_table_nrows(t); r++) {
    for (size_t c = 0; c < ncols; c++) {
      const double v = ir_table_get(t, r, (int)c);
      if (c > 0)
        putchar(',');
      if (isnan(v))
        fputs("nan", stdout);
      else if (isinf(v))
        fputs(v > 0 ? "inf" : "-inf", stdout);
      else if (cols[c].whole)
        printf("%ld", (long)v);
      else
        printf("%.17g", v);
    }
    putchar('\n');
  }
}

/* Writes the files (--out) and then prints the table, so that a failed
 * write leaves stdout empty. */
static int th_emit(th_ctx *x, const ir_table *t, const th_col *cols,
                   size_t ncols, double t0) {
  if (x->have_out) {
    int rc = ir_cli_prepare_out(x->prog, x->common.out);
    if (rc != 0)
      return rc;
    char analysis[96];
    snprintf(analysis, sizeof analysis, "theory %s", x->sub);
    int s = ir_table_write(t, x->common.out, x->common.formats);
    if (s == IR_OK)
      s = ir_cli_write_manifest(x->common.out, analysis, &x->cfg, NULL, NULL, 0,
                                NULL, ir_wall_time() - t0);
    if (s != IR_OK)
      return ir_cli_fail(x->prog, s, NULL);
  }
  if (x->common.quiet)
    return IR_EXIT_OK;
  if (x->have_format && x->common.formats == IR_FMT_CSV)
    th_print_csv(t, cols, ncols);
  else if (ir_table_print(t, stdout) != IR_OK)
    return ir_cli_fail(x->prog, IR_EIO, NULL);
  return fflush(stdout) == 0
             ? IR_EXIT_OK
             : ir_cli_fail(x->prog, IR_EIO, "cannot write stdout");
}

/* Formats a double for a note: the shortest round-trip form. */
static const char *th_num(char *buf, size_t len, double v) {
  return ir_cli_fmt_double(buf, len, v);
}

/* ---- hastie
 * -------------------------------------------------------------------- */

static int th_hastie(th_ctx *x, int argc, char **argv) {
  static const struct option longopts[] = {
      {"gamma", required_argument, NULL, OPT_GAMMA},
      {"r2", required_argument, NULL, OPT_R2},
      {"sigma2", required_argument, NULL, OPT_SIGMA2},
      {"ridge", required_argument, NULL, OPT_RIDGE},
      TH_OUTPUT_OPTIONS,
      {NULL, 0, NULL, 0}};
  th_list gamma = {NULL, 0};
  double r2 = NAN, sigma2 = NAN, lambda = 0;
  int have_r2 = 0, have_s2 = 0, ridge = 0; /* ridge: 0 none, 1 L, 2 opt */
  ir_table *t = NULL;
  int rc = 0, c;
  const double t0 = ir_wall_time();
  while (rc == 0 && (c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_GAMMA:
      rc = th_parse_list(x->prog, "gamma", optarg, 0, &gamma);
      ir_cli_config_set(&x->cfg, "gamma", "%s", optarg);
      break;
    case OPT_R2:
      rc = ir_cli_double(x->prog, "r2", optarg, -DBL_MAX, DBL_MAX, &r2);
      have_r2 = 1;
      ir_cli_config_set(&x->cfg, "r2", "%s", optarg);
      break;
    case OPT_SIGMA2:
      rc = ir_cli_double(x->prog, "sigma2", optarg, -DBL_MAX, DBL_MAX, &sigma2);
      have_s2 = 1;
      ir_cli_config_set(&x->cfg, "sigma2", "%s", optarg);
      break;
    case OPT_RIDGE:
      ir_cli_config_set(&x->cfg, "ridge", "%s", optarg);
      if (strcmp(optarg, "opt") == 0) {
        ridge = 2;
        break;
      }
      ridge = 1;
      rc = ir_cli_double(x->prog, "ridge", optarg, -DBL_MAX, DBL_MAX, &lambda);
      if (rc == 0 && !(lambda > 0))
        rc = ir_cli_usage_error(x->prog,
                                "--ridge: lambda = %s must be > 0 or 'opt' "
                                "(leave --ridge out for the ridgeless risk)",
                                optarg);
      break;
    default: rc = th_output_option(x, c, optarg, hastie_help, argv);
    }
  }
  if (rc == 0 && optind < argc)
    rc = ir_cli_usage_error(x->prog, "unexpected argument '%s'", argv[optind]);
  if (rc == 0 && gamma.n == 0)
    rc = th_missing(x, "--gamma LIST");
  if (rc == 0 && !have_r2)
    rc = th_missing(x, "--r2 R");
  if (rc == 0 && !have_s2)
    rc = th_missing(x, "--sigma2 S");
  if (rc != 0)
    goto done;

  static const th_col cols_ridgeless[] = {
      {"gamma", 0, "p/n"},
      {"bias", 0, "r2 (1 - 1/gamma) for gamma > 1, else 0"},
      {"variance", 0, "sigma2 gamma/(1 - gamma) or sigma2/(gamma - 1)"},
      {"risk", 0, "excess test risk bias + variance (without sigma2)"}};
  static const th_col cols_ridge[] = {
      {"gamma", 0, "p/n"},
      {"lambda", 0, "ridge penalty: (X'X + n lambda I)^-1 X'y"},
      {"bias", 0, "r2 lambda^2 m'(-lambda)"},
      {"variance", 0, "sigma2 gamma [m(-lambda) - lambda m'(-lambda)]"},
      {"risk", 0, "excess test risk bias + variance (without sigma2)"}};
  const th_col *cols = ridge ? cols_ridge : cols_ridgeless;
  const size_t ncols = ridge ? 5 : 4;
  t = th_table("theory_hastie",
               ridge == 0   ? "Ridgeless least squares, isotropic features "
                              "(Hastie et al. arXiv:1903.08560)"
               : ridge == 1 ? "Ridge regression, isotropic features (Hastie "
                              "et al. arXiv:1903.08560)"
                            : "Optimally tuned ridge, isotropic features "
                              "(Hastie et al. arXiv:1903.08560)",
               cols, ncols);
  if (t == NULL) {
    rc = ir_cli_fail(x->prog, IR_ENOMEM, "out of memory");
    goto done;
  }
  char b1[32], b2[32], b3[32];
  th_note(t,
          "r2 = %s, sigma2 = %s; risk = E(x'(beta_hat - beta))^2, "
          "without the noise sigma2",
          th_num(b1, sizeof b1, r2), th_num(b2, sizeof b2, sigma2));
  if (ridge == 0) {
    th_note(t, "estimator: min-norm least squares X+ y; inf at gamma = 1");
    double gs, rs;
    if (ir_theory_hastie_gamma_star(r2, sigma2, &gs, &rs) == IR_OK)
      th_note(t,
              "SNR = r2/sigma2 = %s > 1: over gamma > 1 the risk is smallest "
              "at gamma* = sqrt(SNR)/(sqrt(SNR) - 1) = %s (risk %s)",
              th_num(b1, sizeof b1, r2 / sigma2), th_num(b2, sizeof b2, gs),
              th_num(b3, sizeof b3, rs));
    ir_error_clear();
  } else if (ridge == 1) {
    th_note(t,
            "estimator: ridge (X'X + n lambda I)^-1 X'y, lambda = %s; "
            "m = Stieltjes transform of Marchenko-Pastur",
            th_num(b1, sizeof b1, lambda));
  } else {
    th_note(t, "estimator: ridge with lambda* = sigma2 gamma/r2, risk "
               "sigma2 gamma m(-lambda*)");
  }
  for (size_t i = 0; i < gamma.n; i++) {
    const double g = gamma.v[i];
    double B, V, l = lambda, R = 0;
    int s;
    if (ridge == 0) {
      s = ir_theory_hastie(g, r2, sigma2, &B, &V);
    } else {
      /* The optimal risk R = σ²γm(−λ*) equals B + V at λ*; the table shows
       * B + V so that its columns add up. */
      s = ridge == 2 ? ir_theory_ridge_optimal(g, r2, sigma2, &l, &R) : IR_OK;
      if (s == IR_OK)
        s = ir_theory_ridge_terms(g, l, r2, sigma2, &B, &V);
    }
    if (s != IR_OK) {
      rc = ir_cli_fail(x->prog, s, NULL);
      goto done;
    }
    const double row_ridgeless[] = {g, B, V, B + V};
    const double row_ridge[] = {g, l, B, V, B + V};
    if ((s = th_row(t, cols, ncols, ridge ? row_ridge : row_ridgeless)) !=
        IR_OK) {
      rc = ir_cli_fail(x->prog, s, NULL);
      goto done;
    }
  }
  rc = th_emit(x, t, cols, ncols, t0);
done:
  ir_table_free(t);
  th_list_free(&gamma);
  return rc;
}

/* ---- hastie-exact
 * -------------------------------------------------------------- */

static int th_hastie_exact(th_ctx *x, int argc, char **argv) {
  static const struct option longopts[] = {
      {"n", required_argument, NULL, OPT_N},
      {"p", required_argument, NULL, OPT_P},
      {"r2", required_argument, NULL, OPT_R2},
      {"sigma2", required_argument, NULL, OPT_SIGMA2},
      TH_OUTPUT_OPTIONS,
      {NULL, 0, NULL, 0}};
  th_list p = {NULL, 0};
  size_t n = 0;
  double r2 = NAN, sigma2 = NAN;
  int have_n = 0, have_r2 = 0, have_s2 = 0;
  ir_table *t = NULL;
  int rc = 0, c;
  const double t0 = ir_wall_time();
  while (rc == 0 && (c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_N:
      rc = ir_cli_size(x->prog, "n", optarg, 1, (size_t)1e15, &n);
      have_n = 1;
      ir_cli_config_set(&x->cfg, "n", "%s", optarg);
      break;
    case OPT_P:
      rc = th_parse_list(x->prog, "p", optarg, 1, &p);
      ir_cli_config_set(&x->cfg, "p", "%s", optarg);
      break;
    case OPT_R2:
      rc = ir_cli_double(x->prog, "r2", optarg, -DBL_MAX, DBL_MAX, &r2);
      have_r2 = 1;
      ir_cli_config_set(&x->cfg, "r2", "%s", optarg);
      break;
    case OPT_SIGMA2:
      rc = ir_cli_double(x->prog, "sigma2", optarg, -DBL_MAX, DBL_MAX, &sigma2);
      have_s2 = 1;
      ir_cli_config_set(&x->cfg, "sigma2", "%s", optarg);
      break;
    default: rc = th_output_option(x, c, optarg, exact_help, argv);
    }
  }
  if (rc == 0 && optind < argc)
    rc = ir_cli_usage_error(x->prog, "unexpected argument '%s'", argv[optind]);
  if (rc == 0 && !have_n)
    rc = th_missing(x, "--n N");
  if (rc == 0 && p.n == 0)
    rc = th_missing(x, "--p LIST");
  if (rc == 0 && !have_r2)
    rc = th_missing(x, "--r2 R");
  if (rc == 0 && !have_s2)
    rc = th_missing(x, "--sigma2 S");
  if (rc != 0)
    goto done;

  static const th_col cols[] = {
      {"n", 1, "samples"},
      {"p", 1, "parameters"},
      {"gamma", 0, "p/n"},
      {"bias", 0, "E bias: r2 (1 - n/p) for p >= n + 2, else 0"},
      {"variance", 0,
       "E variance: sigma2 p/(n - p - 1) or sigma2 n/(p - n - 1)"},
      {"risk", 0, "expected excess test risk (without sigma2)"}};
  const size_t ncols = sizeof cols / sizeof cols[0];
  t = th_table("theory_hastie_exact",
               "Min-norm least squares, exact finite-n expectation, Gaussian "
               "X (docs/theory.md section 2)",
               cols, ncols);
  if (t == NULL) {
    rc = ir_cli_fail(x->prog, IR_ENOMEM, "out of memory");
    goto done;
  }
  char b1[32], b2[32];
  th_note(t, "r2 = %s, sigma2 = %s; inf for n - 1 <= p <= n + 1",
          th_num(b1, sizeof b1, r2), th_num(b2, sizeof b2, sigma2));
  for (size_t i = 0; i < p.n; i++) {
    double B, V;
    const size_t pi = (size_t)p.v[i];
    int s = ir_theory_hastie_exact(n, pi, r2, sigma2, &B, &V);
    const double row[] = {(double)n, (double)pi, (double)pi / (double)n,
                          B,         V,          B + V};
    if (s == IR_OK)
      s = th_row(t, cols, ncols, row);
    if (s != IR_OK) {
      rc = ir_cli_fail(x->prog, s, NULL);
      goto done;
    }
  }
  rc = th_emit(x, t, cols, ncols, t0);
done:
  ir_table_free(t);
  th_list_free(&p);
  return rc;
}

/* ---- mei-montanari
 * ------------------------------------------------------------- */

static int th_mei_montanari(th_ctx *x, int argc, char **argv) {
  static const struct option longopts[] = {
      {"act", required_argument, NULL, OPT_ACT},
      {"psi1", required_argument, NULL, OPT_PSI1},
      {"psi2", required_argument, NULL, OPT_PSI2},
      {"tau2", required_argument, NULL, OPT_TAU2},
      {"F1", required_argument, NULL, OPT_F1},
      {"Fstar", required_argument, NULL, OPT_FSTAR},
      TH_OUTPUT_OPTIONS,
      {NULL, 0, NULL, 0}};
  th_list psi1 = {NULL, 0};
  const char *act = NULL;
  /* Scalars in the order psi2, tau2, F1, Fstar. */
  double v[4] = {NAN, NAN, NAN, NAN};
  int have[4] = {0, 0, 0, 0};
  static const char *const names[4] = {"psi2", "tau2", "F1", "Fstar"};
  ir_table *t = NULL;
  int rc = 0, c;
  const double t0 = ir_wall_time();
  while (rc == 0 && (c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_ACT:
      act = optarg;
      ir_cli_config_set(&x->cfg, "act", "%s", optarg);
      break;
    case OPT_PSI1:
      rc = th_parse_list(x->prog, "psi1", optarg, 0, &psi1);
      ir_cli_config_set(&x->cfg, "psi1", "%s", optarg);
      break;
    case OPT_PSI2:
    case OPT_TAU2:
    case OPT_F1:
    case OPT_FSTAR: {
      const int k = c - OPT_PSI2;
      rc = ir_cli_double(x->prog, names[k], optarg, -DBL_MAX, DBL_MAX, &v[k]);
      have[k] = 1;
      ir_cli_config_set(&x->cfg, names[k], "%s", optarg);
      break;
    }
    default: rc = th_output_option(x, c, optarg, mm_help_head, argv);
    }
  }
  if (rc == 0 && optind < argc)
    rc = ir_cli_usage_error(x->prog, "unexpected argument '%s'", argv[optind]);
  if (rc == 0 && act == NULL)
    rc = th_missing(x, "--act NAME");
  if (rc == 0 && psi1.n == 0)
    rc = th_missing(x, "--psi1 LIST");
  for (int k = 0; rc == 0 && k < 4; k++)
    if (!have[k]) {
      char what[32];
      snprintf(what, sizeof what, "--%s", names[k]);
      rc = th_missing(x, what);
    }
  if (rc != 0)
    goto done;
  const double psi2 = v[0], tau2 = v[1], F1 = v[2], Fstar = v[3];

  ir_activation sigma;
  ir_rf_coeffs co;
  int s = ir_theory_rf_activation(act, &sigma);
  if (s == IR_OK)
    s = ir_theory_rf_coeffs(sigma, NULL, &co);
  if (s != IR_OK) {
    rc = ir_cli_fail(x->prog, s, NULL);
    goto done;
  }
  static const th_col cols[] = {
      {"psi1", 0, "N/d (features per input dimension)"},
      {"psi2", 0, "n/d (samples per input dimension)"},
      {"bias", 0, "F1^2 E1/E0"},
      {"variance", 0, "(tau2 + Fstar^2) E2/E0"},
      {"nonlinear", 0, "Fstar^2 (never learned when N, n ~ d)"},
      {"risk", 0, "excess test risk bias + variance + nonlinear"}};
  const size_t ncols = sizeof cols / sizeof cols[0];
  t = th_table("theory_mei_montanari",
               "Ridgeless random-features regression (Mei & Montanari "
               "arXiv:1908.05355)",
               cols, ncols);
  if (t == NULL) {
    rc = ir_cli_fail(x->prog, IR_ENOMEM, "out of memory");
    goto done;
  }
  char b1[32], b2[32], b3[32], b4[32];
  th_note(t, "activation %s: mu0 = %s, mu1 = %s, mu* = %s, zeta = mu1/mu* = %s",
          act, th_num(b1, sizeof b1, co.mu0), th_num(b2, sizeof b2, co.mu1),
          th_num(b3, sizeof b3, co.mustar), th_num(b4, sizeof b4, co.zeta));
  th_note(t,
          "target: F1 = %s, Fstar = %s, tau2 = %s; "
          "inf at psi1 = psi2 (N = n)",
          th_num(b1, sizeof b1, F1), th_num(b2, sizeof b2, Fstar),
          th_num(b3, sizeof b3, tau2));
  for (size_t i = 0; i < psi1.n; i++) {
    ir_rf_risk r;
    s = ir_theory_mei_montanari(co.zeta, psi1.v[i], psi2, F1, Fstar, tau2, &r);
    const double row[] = {psi1.v[i],  psi2,        r.bias,
                          r.variance, r.nonlinear, r.risk};
    if (s == IR_OK)
      s = th_row(t, cols, ncols, row);
    if (s != IR_OK) {
      rc = ir_cli_fail(x->prog, s, NULL);
      goto done;
    }
  }
  rc = th_emit(x, t, cols, ncols, t0);
done:
  ir_table_free(t);
  th_list_free(&psi1);
  return rc;
}

/* ---- mp
 * ------------------------------------------------------------------------ */

static int th_mp(th_ctx *x, int argc, char **argv) {
  static const struct option longopts[] = {
      {"gamma", required_argument, NULL, OPT_GAMMA},
      {"points", required_argument, NULL, OPT_POINTS},
      TH_OUTPUT_OPTIONS,
      {NULL, 0, NULL, 0}};
  double gamma = NAN;
  size_t points = 100;
  int have_gamma = 0;
  ir_table *t = NULL;
  int rc = 0, c;
  const double t0 = ir_wall_time();
  while (rc == 0 && (c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_GAMMA:
      rc = ir_cli_double(x->prog, "gamma", optarg, -DBL_MAX, DBL_MAX, &gamma);
      have_gamma = 1;
      ir_cli_config_set(&x->cfg, "gamma", "%s", optarg);
      break;
    case OPT_POINTS:
      rc = ir_cli_size(x->prog, "points", optarg, 1, TH_MAX_POINTS, &points);
      ir_cli_config_set(&x->cfg, "points", "%s", optarg);
      break;
    default: rc = th_output_option(x, c, optarg, mp_help, argv);
    }
  }
  if (rc == 0 && optind < argc)
    rc = ir_cli_usage_error(x->prog, "unexpected argument '%s'", argv[optind]);
  if (rc == 0 && !have_gamma)
    rc = th_missing(x, "--gamma G");
  if (rc != 0)
    goto done;

  double lo, hi;
  int s = ir_theory_mp_edges(gamma, &lo, &hi);
  if (s != IR_OK) {
    rc = ir_cli_fail(x->prog, s, NULL);
    goto done;
  }
  static const th_col cols[] = {
      {"x", 0, "eigenvalue of X'X/n (cell midpoint)"},
      {"density", 0, "continuous part of the Marchenko-Pastur density"}};
  t = th_table("theory_mp", "Marchenko-Pastur law of X'X/n, x ~ N(0, I_p)",
               cols, 2);
  if (t == NULL) {
    rc = ir_cli_fail(x->prog, IR_ENOMEM, "out of memory");
    goto done;
  }
  char b1[32], b2[32], b3[32], b4[32];
  th_note(t,
          "gamma = p/n = %s: edges lambda- = %s, lambda+ = %s; "
          "atom at 0: %s",
          th_num(b1, sizeof b1, gamma), th_num(b2, sizeof b2, lo),
          th_num(b3, sizeof b3, hi),
          th_num(b4, sizeof b4, ir_theory_mp_atom(gamma)));
  th_note(t,
          "density at the midpoints of %zu equal cells of [lambda-, "
          "lambda+]; it integrates to 1 - atom",
          points);
  for (size_t i = 0; i < points; i++) {
    const double xi = lo + (hi - lo) * ((double)i + 0.5) / (double)points;
    const double row[] = {xi, ir_theory_mp_density(gamma, xi)};
    if ((s = th_row(t, cols, 2, row)) != IR_OK) {
      rc = ir_cli_fail(x->prog, s, NULL);
      goto done;
    }
  }
  rc = th_emit(x, t, cols, 2, t0);
done:
  ir_table_free(t);
  return rc;
}

/* ---- dispatch
 * ------------------------------------------------------------------ */

typedef struct {
  const char *name;
  int (*run)(th_ctx *x, int argc, char **argv);
} th_sub;

static const th_sub subs[] = {{"hastie", th_hastie},
                              {"hastie-exact", th_hastie_exact},
                              {"mei-montanari", th_mei_montanari},
                              {"mp", th_mp}};

int ir_an_theory(int argc, char **argv) {
  static const char *const prog = "implreg theory";
  if (argc < 2)
    return ir_cli_usage_error(prog, "missing sub-command");
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(help, stdout);
    return IR_EXIT_OK;
  }
  const th_sub *sub = NULL;
  for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
    if (strcmp(argv[1], subs[i].name) == 0)
      sub = &subs[i];
  if (sub == NULL && argv[1][0] == '-')
    return ir_cli_usage_error(prog,
                              "the sub-command (hastie, hastie-exact, "
                              "mei-montanari or mp) comes before '%s'",
                              argv[1]);
  if (sub == NULL)
    return ir_cli_usage_error(prog,
                              "unknown sub-command '%s' (expected hastie, "
                              "hastie-exact, mei-montanari or mp)",
                              argv[1]);

  th_ctx x;
  memset(&x, 0, sizeof x);
  x.sub = sub->name;
  snprintf(x.prog, sizeof x.prog, "implreg theory %s", sub->name);
  ir_cli_common_init(&x.common, "theory");
  int sargc;
  char **sargv;
  int rc = ir_cli_expand_config(x.prog, argc - 1, argv + 1, &sargc, &sargv);
  if (rc != 0)
    return rc;
  optind = 1;
  opterr = 0;
  rc = sub->run(&x, sargc, sargv);
  ir_cli_config_free(&x.cfg);
  ir_cli_argv_free(sargc, sargv);
  return rc < 0 ? IR_EXIT_OK : rc;
}
