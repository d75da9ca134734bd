/* an_minnorm.c — `implreg minnorm`: the min-norm solution of given data. */
#include <errno.h>
#include <float.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_blas.h>

#include "cli.h"
#include "atomic.h"

static const char *const PROG = "implreg minnorm";

/* Test hook.  IMPLREG_BREAK=solution scales the min-norm solution by
 * 1 + 1e-3 before it is written, as a plausible bug would, so that
 * tests/cli_minnorm.sh can show that its numpy.linalg.lstsq reference
 * (tests/lstsq_ref.py) catches it.  Never set it otherwise. */

static const char help[] =
    "Usage: implreg minnorm --X FILE --Y FILE [--out FILE] [options]\n\n"
    "Minimum-l2-norm least-squares solution W = X+ Y (p x K) of X (n x p) and\n"
    "Y (n x K, several columns are solved together), with diagnostics.\n"
    "Files are CSV (with or without a header line) or NumPy .npy, chosen by\n"
    "extension.\n\n"
    "Options:\n"
    "  --X FILE           design matrix, one sample per row\n"
    "  --Y FILE           targets, one row per sample\n"
    "  --out FILE         write W here (.csv or .npy)\n"
    "  --rcond R          singular values below R*sigma_max count as zero\n"
    "                     (default eps*max(n, p), as numpy.linalg.lstsq)\n"
    "  --ridge L[,L2...]  ridge solutions (X'X + L I)^-1 X'Y for each L >= 0,\n"
    "                     all from one SVD; --out then holds the solutions "
    "side\n"
    "                     by side, K columns per L, in the order given\n"
    "  --intercept        append a column of ones to X.  The intercept is "
    "then\n"
    "                     PART OF THE NORM (unlike libraries that leave it\n"
    "                     unpenalized): only this way is the result the\n"
    "                     min-norm interpolator of [X 1]. Its weight is the "
    "last\n"
    "                     row of W.\n"
    "  --method M         svd (default): thin SVD, exact rank decision;\n"
    "                     cod: complete orthogonal decomposition (dgelsy);\n"
    "                     gram: Cholesky of X'X or XX' (fastest; refused when\n"
    "                     the Gram matrix is too ill-conditioned for "
    "--accuracy)\n"
    "  --accuracy A       relative accuracy --method gram must guarantee\n"
    "                     (default 1e-8): refused when cond(Gram)*eps > A\n"
    "  --diagnostics FILE write the diagnostics as JSON\n"
    "  --rcond-scan       print rank, ||W|| and residual for cutoffs 1e-16..1\n"
    "                     (near the interpolation threshold the answer "
    "depends\n"
    "                     on the cutoff)\n"
    "  --threads N        BLAS threads\n"
    "  --quiet            print nothing on stdout\n"
    "  --config FILE      options from a key = value file\n"
    "  --help             this text\n\n"
    "Exit status: 0 done, 2 bad usage or input (one line on stderr, no file\n"
    "written), 1 internal error.\n";

enum {
  OPT_X = 1,
  OPT_Y,
  OPT_OUTFILE,
  OPT_RCOND,
  OPT_RIDGE,
  OPT_INTERCEPT,
  OPT_METHOD,
  OPT_ACCURACY,
  OPT_DIAG,
  OPT_SCAN,
  OPT_NOSEED
};

typedef struct {
  const char *xpath, *ypath, *out, *diag;
  double rcond; /* < 0: default */
  double *ridge;
  size_t nridge;
  int intercept, method, scan;
  double accuracy;
  ir_cli_common common;
} mn_opts;

/* Fails early (before any computation) when a result file could not be
 * written: a folder in its place, or a parent folder that is missing or
 * read-only. */
static int check_writable(const char *opt, const char *path) {
  struct stat st;
  if (path[0] == '\0') {
    fprintf(stderr, "%s: --%s: empty file name\n", PROG, opt);
    return IR_EXIT_USAGE;
  }
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    fprintf(stderr, "%s: --%s %s: is a folder, expected a file name\n", PROG,
            opt, path);
    return IR_EXIT_USAGE;
  }
  char *copy = strdup(path);
  if (copy == NULL)
    return IR_EXIT_INTERNAL;
  const char *dir = dirname(copy);
  int ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && access(dir, W_OK) == 0;
  if (!ok)
    fprintf(stderr,
            "%s: --%s %s: folder %s does not exist or is not writable\n", PROG,
            opt, path, dir);
  free(copy);
  return ok ? 0 : IR_EXIT_USAGE;
}

static int parse(int argc, char **argv, mn_opts *o) {
  static const struct option longopts[] = {
      {"X", required_argument, NULL, OPT_X},
      {"Y", required_argument, NULL, OPT_Y},
      {"out", required_argument, NULL, OPT_OUTFILE},
      {"rcond", required_argument, NULL, OPT_RCOND},
      {"ridge", required_argument, NULL, OPT_RIDGE},
      {"intercept", no_argument, NULL, OPT_INTERCEPT},
      {"method", required_argument, NULL, OPT_METHOD},
      {"accuracy", required_argument, NULL, OPT_ACCURACY},
      {"diagnostics", required_argument, NULL, OPT_DIAG},
      {"rcond-scan", no_argument, NULL, OPT_SCAN},
      {"seed", required_argument, NULL, OPT_NOSEED},
      {"seeds", required_argument, NULL, OPT_NOSEED},
      {"threads", required_argument, NULL, IR_OPT_THREADS},
      {"quiet", no_argument, NULL, IR_OPT_QUIET},
      {"help", no_argument, NULL, IR_OPT_HELP},
      {NULL, 0, NULL, 0}};
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_X: o->xpath = optarg; break;
    case OPT_Y: o->ypath = optarg; break;
    case OPT_OUTFILE: o->out = optarg; break;
    case OPT_DIAG: o->diag = optarg; break;
    case OPT_RCOND:
      if (ir_cli_double(PROG, "rcond", optarg, 0, 1, &o->rcond))
        return IR_EXIT_USAGE;
      break;
    case OPT_RIDGE:
      free(o->ridge);
      o->ridge = NULL;
      if (ir_cli_double_list(PROG, "ridge", optarg, 0, DBL_MAX, &o->ridge,
                             &o->nridge))
        return IR_EXIT_USAGE;
      break;
    case OPT_INTERCEPT: o->intercept = 1; break;
    case OPT_SCAN: o->scan = 1; break;
    case OPT_NOSEED:
      /* Refused, not ignored: nothing here is random. */
      return ir_cli_usage_error(PROG,
                                "--seed/--seeds: minnorm draws nothing at "
                                "random (X+Y is deterministic), so it takes "
                                "neither; leave the option out");
    case OPT_METHOD:
      if (ir_minnorm_parse_method(optarg, &o->method) != IR_OK)
        return ir_cli_fail(PROG, IR_EINVAL, NULL);
      break;
    case OPT_ACCURACY:
      if (ir_cli_double(PROG, "accuracy", optarg, DBL_EPSILON, 1, &o->accuracy))
        return IR_EXIT_USAGE;
      break;
    case IR_OPT_HELP: fputs(help, stdout); return -1;
    case ':':
      return ir_cli_usage_error(PROG, "option %s needs a value",
                                argv[optind - 1]);
    case '?':
      return ir_cli_usage_error(PROG, "unknown option '%s'", argv[optind - 1]);
    default:
      if (ir_cli_common_option(PROG, &o->common, c, optarg) != 0)
        return IR_EXIT_USAGE;
    }
  }
  if (optind < argc)
    return ir_cli_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
  if (o->xpath == NULL || o->ypath == NULL)
    return ir_cli_usage_error(PROG, "--X FILE and --Y FILE are required");
  if (o->nridge > 0 && o->method != IR_MINNORM_SVD)
    return ir_cli_usage_error(PROG,
                              "--ridge needs --method svd (one SVD serves "
                              "every ridge value)");
  if (o->out && check_writable("out", o->out))
    return IR_EXIT_USAGE;
  if (o->diag && check_writable("diagnostics", o->diag))
    return IR_EXIT_USAGE;
  if (ir_cli_check_input(PROG, "X", o->xpath) ||
      ir_cli_check_input(PROG, "Y", o->ypath) ||
      (o->out && ir_cli_check_output(PROG, "out", o->out)) ||
      (o->diag && ir_cli_check_output(PROG, "diagnostics", o->diag)))
    return IR_EXIT_USAGE;
  const ir_cli_path files[] = {{"X", o->xpath, IR_PATH_IN},
                               {"Y", o->ypath, IR_PATH_IN},
                               {"out", o->out, IR_PATH_OUT},
                               {"diagnostics", o->diag, IR_PATH_OUT}};
  if (ir_cli_check_distinct(PROG, files, 4))
    return IR_EXIT_USAGE;
  return 0;
}

/* "n/a" for fields a method does not compute (NAN), else %.6g. */
static const char *num(char *buf, size_t len, double x) {
  if (isnan(x))
    snprintf(buf, len, "n/a");
  else
    snprintf(buf, len, "%.6g", x);
  return buf;
}

static void print_diag(FILE *fp, const ir_minnorm_diag *d, int intercept) {
  char b[32];
  fprintf(fp, "minnorm: n = %zu, p = %zu%s, K = %zu, method %s\n", d->n, d->p,
          intercept ? " (including the intercept column)" : "", d->K,
          ir_minnorm_method_name(d->method));
  fprintf(fp, "  rank                  %zu\n", d->rank);
  fprintf(fp, "  sigma_max             %s\n", num(b, sizeof b, d->sigma_max));
  fprintf(fp, "  smallest kept sigma   %s\n",
          num(b, sizeof b, d->sigma_min_kept));
  fprintf(fp, "  condition number      %s%s\n", num(b, sizeof b, d->cond),
          d->method == IR_MINNORM_GRAM ? " (estimate from the Gram matrix)"
                                       : "");
  fprintf(fp, "  rcond used            %.6g\n", d->rcond);
  fprintf(fp, "  ||W||_F               %.10g\n", d->norm);
  fprintf(fp, "  ||XW - Y||_F          %.6g (relative %.3g)\n", d->residual,
          d->rel_residual);
}

static void json_diag(ir_json *j, const ir_minnorm_diag *d, int intercept) {
  ir_json_int(j, "n", (long)d->n);
  ir_json_int(j, "p", (long)d->p);
  ir_json_int(j, "K", (long)d->K);
  ir_json_string(j, "method", ir_minnorm_method_name(d->method));
  ir_json_bool(j, "intercept", intercept);
  ir_json_int(j, "rank", (long)d->rank);
  ir_json_number(j, "sigma_max", d->sigma_max);
  ir_json_number(j, "sigma_min_kept", d->sigma_min_kept);
  ir_json_number(j, "sigma_min", d->sigma_min);
  ir_json_number(j, "cond", d->cond);
  ir_json_number(j, "rcond", d->rcond);
  ir_json_number(j, "norm", d->norm);
  ir_json_number(j, "residual", d->residual);
  ir_json_number(j, "rel_residual", d->rel_residual);
}

/* The ridge path: solutions side by side in Wall (p × K·m) from one
 * tridiagonal reduction of the Gram matrix and one wide application of its
 * Householder factor for every λ > 0, with their residuals ‖XW − Y‖ from
 * the reduced form (ir_ridge_solve_path_resid); λ = 0 is the min-norm
 * solution W0 computed by the chosen method, its residual from X·W0 − Y. */
static int ridge_path(const gsl_matrix *X, const gsl_matrix *Y,
                      const gsl_matrix *W0, const mn_opts *o, gsl_matrix *Wall,
                      ir_json *j, FILE *fp) {
  const size_t n = X->size1, p = X->size2, K = Y->size2, L = o->nridge;
  double *pos = malloc(L * sizeof(double));
  size_t *at = malloc(L * sizeof(size_t)), np = 0;
  ir_ridge *r = ir_ridge_alloc(n, p, K);
  double *rp = malloc(L * sizeof(double)), res0 = NAN; /* rp: per pos[] */
  gsl_matrix *R = gsl_matrix_alloc(n, K);
  int s = (pos && at && r && R && rp) ? IR_OK
                                : ir_error(IR_ENOMEM, "out of memory (ridge)");
  for (size_t l = 0; s == IR_OK && l < L; l++)
    if (o->ridge[l] > 0) {
      pos[np] = o->ridge[l];
      at[np++] = l;
    } else {
      gsl_matrix_view blk = gsl_matrix_submatrix(Wall, 0, l * K, p, K);
      gsl_matrix_memcpy(&blk.matrix, W0);
    }
  gsl_matrix *Wp = s == IR_OK && np ? gsl_matrix_alloc(p, np * K) : NULL;
  if (s == IR_OK && np && Wp == NULL)
    s = ir_error(IR_ENOMEM, "out of memory (ridge path, %zux%zu)", p, np * K);
  if (s == IR_OK && np)
    s = ir_ridge_factor(r, X);
  if (s == IR_OK && np)
    s = ir_ridge_set_rhs(r, Y);
  if (s == IR_OK && np)
    s = ir_ridge_solve_path_resid(r, pos, np, Wp, rp);
  for (size_t q = 0; s == IR_OK && q < np; q++) {
    gsl_matrix_view src = gsl_matrix_submatrix(Wp, 0, q * K, p, K);
    gsl_matrix_view dst = gsl_matrix_submatrix(Wall, 0, at[q] * K, p, K);
    gsl_matrix_memcpy(&dst.matrix, &src.matrix);
  }
  if (s == IR_OK && np < L) {
    /* λ = 0: the residual of W0, explicitly. */
    gsl_matrix_memcpy(R, Y);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, X, W0, -1.0, R);
    double rr = 0;
    for (size_t i = 0; i < n; i++)
      for (size_t k = 0; k < K; k++)
        rr += gsl_matrix_get(R, i, k) * gsl_matrix_get(R, i, k);
    res0 = sqrt(rr);
  }
  fprintf(fp,
          "ridge path (one tridiagonal reduction of the %s Gram matrix):\n"
          "  %-12s %-14s %-14s\n",
          n < p ? "n x n" : "p x p", "lambda", "||W||_F", "||XW - Y||_F");
  ir_json_begin_array(j, "ridge");
  for (size_t l = 0, q = 0; l < L && s == IR_OK; l++) {
    double norm = 0;
    for (size_t i = 0; i < p; i++)
      for (size_t k = 0; k < K; k++) {
        const double w = gsl_matrix_get(Wall, i, l * K + k);
        norm += w * w;
      }
    const double res = o->ridge[l] > 0 ? rp[q++] : res0;
    fprintf(fp, "  %-12.6g %-14.8g %-14.6g\n", o->ridge[l], sqrt(norm), res);
    ir_json_begin_object(j, NULL);
    ir_json_number(j, "lambda", o->ridge[l]);
    ir_json_number(j, "norm", sqrt(norm));
    ir_json_number(j, "residual", res);
    ir_json_end_object(j);
  }
  ir_json_end_array(j);
  ir_ridge_free(r);
  if (Wp)
    gsl_matrix_free(Wp);
  if (R)
    gsl_matrix_free(R);
  free(pos);
  free(at);
  free(rp);
  return s;
}

/* Rank, ‖W‖ and residual for cutoffs 1e-16 .. 1 (decades) from one SVD. */
static int rcond_scan(ir_minnorm *w, const gsl_matrix *X, const gsl_matrix *Y,
                      ir_json *j, FILE *fp) {
  gsl_matrix *W = gsl_matrix_alloc(X->size2, Y->size2);
  if (W == NULL)
    return ir_error(IR_ENOMEM, "out of memory (rcond scan)");
  if (fp)
    fprintf(fp, "rcond scan:\n  %-10s %-6s %-14s %-14s\n", "rcond", "rank",
            "||W||_F", "||XW - Y||_F");
  ir_json_begin_array(j, "rcond_scan");
  int s = IR_OK;
  for (int e = -16; e <= 0 && s == IR_OK; e++) {
    double rc = pow(10.0, e);
    ir_minnorm_diag d;
    s = ir_minnorm_pinv(w, rc, W);
    if (s == IR_OK)
      s = ir_minnorm_diagnose(w, rc, X, Y, W, &d);
    if (s != IR_OK)
      break;
    if (fp)
      fprintf(fp, "  %-10.0e %-6zu %-14.8g %-14.6g\n", rc, d.rank, d.norm,
              d.residual);
    ir_json_begin_object(j, NULL);
    ir_json_number(j, "rcond", rc);
    ir_json_int(j, "rank", (long)d.rank);
    ir_json_number(j, "norm", d.norm);
    ir_json_number(j, "residual", d.residual);
    ir_json_end_object(j);
  }
  ir_json_end_array(j);
  gsl_matrix_free(W);
  return s;
}

/* CSV header naming the columns of the ridge solutions. */
static char *ridge_header(const mn_opts *o, size_t K) {
  size_t cap = o->nridge * K * 48 + 1;
  char *h = malloc(cap);
  if (h == NULL)
    return NULL;
  size_t len = 0;
  for (size_t l = 0; l < o->nridge; l++)
    for (size_t k = 0; k < K; k++)
      len += (size_t)snprintf(h + len, cap - len, "%slambda=%.6g:y%zu",
                              len ? "," : "", o->ridge[l], k + 1);
  return h;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* "DIR/.implreg-PID-BASE": a sibling of path (same file system, so rename is
 * atomic) that keeps its extension (which selects the format). */
static char *temp_name(const char *path) {
  char *copy = strdup(path), *copy2 = strdup(path);
  char *out = NULL;
  if (copy && copy2) {
    const char *dir = dirname(copy), *base = basename(copy2);
    size_t len = strlen(dir) + strlen(base) + 48;
    out = malloc(len);
    if (out)
      snprintf(out, len, "%s/.implreg-%ld-%s", dir, (long)getpid(), base);
  }
  free(copy);
  free(copy2);
  return out;
}

/* A failed write names the user's file, not the temporary one. */
static int fail_write(const char *path, int status) {
  const char *m = ir_error_message();
  size_t pl = strlen(path);
  if (strncmp(m, "cannot write ", 13) == 0 && strncmp(m + 13, path, pl) == 0 &&
      m[13 + pl] == ':') /* already names the user's file */
    ir_cli_eprintf("%s: %s", PROG, m);
  else
    ir_cli_eprintf("%s: cannot write %s (%s)", PROG, path,
                   m[0] ? m : ir_strerror(status));
  return status == IR_ENOMEM ? IR_EXIT_INTERNAL : IR_EXIT_USAGE;
}

int ir_an_minnorm(int argc0, char **argv0) {
  int argc;
  char **argv;
  int rc = ir_cli_expand_config(PROG, argc0, argv0, &argc, &argv);
  if (rc != 0)
    return rc;
  mn_opts o;
  memset(&o, 0, sizeof o);
  o.rcond = -1;
  o.accuracy = 1e-8;
  ir_cli_common_init(&o.common, "minnorm");
  gsl_matrix *X = NULL, *Y = NULL, *W = NULL;
  ir_minnorm *w = NULL;
  ir_json *j = NULL;
  char *header = NULL, *tmp_out = NULL, *tmp_diag = NULL, *report_text = NULL;
  char *out_target = NULL, *diag_target = NULL;
  ir_atomic_kind kout = IR_ATOMIC_NEW, kdiag = IR_ATOMIC_NEW;
  size_t report_len = 0;
  FILE *report = NULL;
  gsl_matrix *Wmn = NULL;
  rc = parse(argc, argv, &o);
  if (rc != 0) {
    rc = rc < 0 ? IR_EXIT_OK : rc;
    goto done;
  }
  ir_cli_apply_threads(&o.common);
  int s = ir_data_read_matrix(o.xpath, &X);
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  s = ir_data_read_matrix(o.ypath, &Y);
  if (s != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  if (X->size1 != Y->size1) {
    fprintf(stderr,
            "%s: %s has %zu rows but %s has %zu: X and Y need one row "
            "per sample\n",
            PROG, o.xpath, X->size1, o.ypath, Y->size1);
    rc = IR_EXIT_USAGE;
    goto done;
  }
  if (o.intercept && (s = ir_matrix_append_ones(&X)) != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  const size_t n = X->size1, p = X->size2, K = Y->size2;
  const size_t ncols = o.nridge > 0 ? K * o.nridge : K;
  W = gsl_matrix_alloc(p, ncols);
  j = ir_json_alloc();
  if (W == NULL || j == NULL) {
    rc = ir_cli_fail(PROG, IR_ENOMEM, "out of memory");
    goto done;
  }
  ir_json_begin_object(j, NULL);
  ir_minnorm_diag d;
  gsl_matrix_view W0 = gsl_matrix_submatrix(W, 0, 0, p, K);
  Wmn = o.nridge > 0 ? gsl_matrix_alloc(p, K) : NULL;
  if (o.nridge > 0 && Wmn == NULL) {
    rc = ir_cli_fail(PROG, IR_ENOMEM, "out of memory");
    goto done;
  }
  /* The min-norm solution goes to W's first block (or, with --ridge, to
   * Wmn, since W then holds the ridge solutions). */
  gsl_matrix *Wsol = Wmn ? Wmn : &W0.matrix;
  if (o.scan) {
    /* The scan needs the singular vectors: one SVD serves it and the
     * solution. */
    w = ir_minnorm_alloc(n, p, K);
    if (w == NULL || (s = ir_minnorm_factor(w, X)) != IR_OK ||
        (s = ir_minnorm_set_rhs(w, Y)) != IR_OK ||
        (s = ir_minnorm_pinv(w, o.rcond, Wsol)) != IR_OK ||
        (s = ir_minnorm_diagnose(w, o.rcond, X, Y, Wsol, &d)) != IR_OK) {
      rc = ir_cli_fail(PROG, w ? s : IR_ENOMEM, NULL);
      goto done;
    }
  }
  if (!o.scan || o.method != IR_MINNORM_SVD) {
    s = ir_minnorm_solve(X, Y, o.method, o.rcond, o.accuracy, Wsol, &d);
    if (s != IR_OK) {
      rc = ir_cli_fail(PROG, s, NULL);
      goto done;
    }
  }
  if (ir_cli_broken("solution"))
    gsl_matrix_scale(Wsol, 1 + 1e-3);
  /* The report goes to memory first and is printed only once every file is
   * written: a failed run prints one line on stderr and nothing else. */
  report = open_memstream(&report_text, &report_len);
  if (report == NULL) {
    rc = ir_cli_fail(PROG, IR_ENOMEM, "out of memory");
    goto done;
  }
  print_diag(report, &d, o.intercept);
  json_diag(j, &d, o.intercept);
  if (o.nridge > 0 && (s = ridge_path(X, Y, Wsol, &o, W, j, report)) != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  if (o.scan && (s = rcond_scan(w, X, Y, j, report)) != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  ir_json_end_object(j);
  fclose(report);
  report = NULL;
  /* Both result files are written under temporary names and renamed only
   * when both succeeded, so a failure leaves neither (and an existing file
   * of the same name untouched). */
  /* A symlink is followed (its target replaced in its own folder); a
   * character device or FIFO is written through, after the files renamed
   * into place (src/atomic.h). */
  if (o.out && (s = ir_atomic_classify(o.out, &kout, &out_target)) != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  if (o.diag &&
      (s = ir_atomic_classify(o.diag, &kdiag, &diag_target)) != IR_OK) {
    rc = ir_cli_fail(PROG, s, NULL);
    goto done;
  }
  if (o.out && kout != IR_ATOMIC_THROUGH &&
      (tmp_out = temp_name(out_target)) == NULL) {
    rc = ir_cli_fail(PROG, IR_ENOMEM, "out of memory");
    goto done;
  }
  if (o.diag && kdiag != IR_ATOMIC_THROUGH &&
      (tmp_diag = temp_name(diag_target)) == NULL) {
    rc = ir_cli_fail(PROG, IR_ENOMEM, "out of memory");
    goto done;
  }
  if (o.out) {
    /* A CSV gets a header naming the ridge columns; .npy has no header. */
    if (o.nridge > 0 && !ends_with(o.out, ".npy") &&
        (header = ridge_header(&o, K)) == NULL) {
      rc = ir_cli_fail(PROG, IR_ENOMEM, "out of memory");
      goto done;
    }
    if (tmp_out && (s = ir_data_write_matrix(tmp_out, W, header)) != IR_OK) {
      rc = fail_write(o.out, s);
      goto done;
    }
  }
  if (tmp_diag && (s = ir_json_write(j, tmp_diag)) != IR_OK) {
    rc = fail_write(o.diag, s);
    goto done;
  }
  if ((tmp_out && rename(tmp_out, out_target) != 0) ||
      (tmp_diag && rename(tmp_diag, diag_target) != 0)) {
    ir_cli_eprintf("%s: cannot write %s: %s", PROG, o.out ? o.out : o.diag,
                   strerror(errno));
    rc = IR_EXIT_USAGE;
    goto done;
  }
  if (o.out && !tmp_out && (s = ir_data_write_matrix(o.out, W, header))) {
    rc = fail_write(o.out, s);
    goto done;
  }
  if (o.diag && !tmp_diag && (s = ir_json_write(j, o.diag)) != IR_OK) {
    rc = fail_write(o.diag, s);
    goto done;
  }
  if (!o.common.quiet)
    fputs(report_text, stdout);
  rc = IR_EXIT_OK;
done:
  if (Wmn != NULL)
    gsl_matrix_free(Wmn);
  if (report != NULL)
    fclose(report);
  free(report_text);
  if (tmp_out != NULL) {
    unlink(tmp_out);
    free(tmp_out);
  }
  if (tmp_diag != NULL) {
    unlink(tmp_diag);
    free(tmp_diag);
  }
  free(header);
  free(out_target);
  free(diag_target);
  free(o.ridge);
  ir_json_free(j);
  ir_minnorm_free(w);
  if (X)
    gsl_matrix_free(X);
  if (Y)
    gsl_matrix_free(Y);
  if (W)
    gsl_matrix_free(W);
  ir_cli_argv_free(argc, argv);
  return rc;
}
