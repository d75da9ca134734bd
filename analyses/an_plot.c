/* an_plot.c — `implreg table` and `implreg plot`: one table, or one
 * figure, of several runs side by side.
 *
 * Reads NAME.csv from each run's folder (as implreg wrote it), checks that
 * the headers agree, and writes one table NAME with a first column "run"
 * (the folder's last component) in the usual formats.  Numeric columns
 * stay numeric (every cell a number, nan/inf or empty), so the LaTeX gets
 * S columns; the rest are text.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *const PROG = "implreg table";

static const char help[] =
    "Usage: implreg table NAME DIR... --out DIR [--format csv,md,tex,json]\n\n"
    "Concatenates the table NAME (the file DIR/NAME.csv an earlier run\n"
    "wrote) of several runs into one table NAME in --out, with a first\n"
    "column \"run\" naming each run by its folder's last component.  The\n"
    "runs' headers must agree.  Columns whose cells are all numbers stay\n"
    "numeric.  Writes NAME.csv/.md/.tex/.json (--format, default all) and\n"
    "nothing else; --out must not be one of the runs' folders.\n";

/* One parsed CSV file: rows of fields (row 0 the header). */
typedef struct {
  char ***rows;
  size_t *nf;
  size_t n;
} csv_t;

static void csv_free(csv_t *c) {
  for (size_t r = 0; r < c->n; r++) {
    for (size_t k = 0; k < c->nf[r]; k++)
      free(c->rows[r][k]);
    free(c->rows[r]);
  }
  free(c->rows);
  free(c->nf);
  memset(c, 0, sizeof *c);
}

/* RFC 4180: fields separated by commas, quoted when they hold a comma, a
 * quote (doubled) or a line break.  0 on success, -1 on no memory or a
 * malformed file. */
static int csv_parse(const char *s, csv_t *c) {
  memset(c, 0, sizeof *c);
  size_t len = strlen(s);
  char *field = malloc(len + 1);
  if (field == NULL)
    return -1;
  const char *p = s;
  while (*p) {
    char **row = NULL;
    size_t nf = 0;
    for (;;) {
      size_t k = 0;
      if (*p == '"') {
        p++;
        for (;;) {
          if (*p == '\0')
            goto bad;
          if (*p == '"') {
            if (p[1] == '"') {
              field[k++] = '"';
              p += 2;
              continue;
            }
            p++;
            break;
          }
          field[k++] = *p++;
        }
      } else {
        while (*p && *p != ',' && *p != '\n' && *p != '\r')
          field[k++] = *p++;
      }
      field[k] = '\0';
      char **q = realloc(row, (nf + 1) * sizeof *q);
      char *f = strdup(field);
      if (q == NULL || f == NULL) {
        free(f);
        free(q ? q : row);
        row = NULL;
        goto nomem;
      }
      row = q;
      row[nf++] = f;
      if (*p == ',') {
        p++;
        continue;
      }
      if (*p == '\r')
        p++;
      if (*p == '\n')
        p++;
      else if (*p != '\0')
        goto bad_row;
      break;
    }
    char ***qr = realloc(c->rows, (c->n + 1) * sizeof *qr);
    size_t *qn = realloc(c->nf, (c->n + 1) * sizeof *qn);
    if (qr)
      c->rows = qr;
    if (qn)
      c->nf = qn;
    if (!qr || !qn) {
      for (size_t k = 0; k < nf; k++)
        free(row[k]);
      free(row);
      goto nomem;
    }
    c->rows[c->n] = row;
    c->nf[c->n++] = nf;
    continue;
  bad_row:
    for (size_t k = 0; k < nf; k++)
      free(row[k]);
    free(row);
    goto bad;
  }
  free(field);
  return 0;
bad:
nomem:
  free(field);
  csv_free(c);
  return -1;
}

static char *slurp(const char *path) {
  FILE *fp = fopen(path, "rb");
  if (fp == NULL)
    return NULL;
  char *s = NULL;
  long n;
  if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
      fseek(fp, 0, SEEK_SET) == 0 && (s = malloc((size_t)n + 1)) != NULL) {
    if (fread(s, 1, (size_t)n, fp) != (size_t)n) {
      free(s);
      s = NULL;
    } else {
      s[n] = '\0';
    }
  }
  fclose(fp);
  return s;
}

/* A cell implreg's CSV writer would have printed for a number. */
static int is_number(const char *s, double *v) {
  if (s[0] == '\0') {
    *v = NAN;
    return 1;
  }
  char *e;
  *v = strtod(s, &e);
  return *e == '\0';
}

static const char *base_of(const char *dir) {
  size_t l = strlen(dir);
  while (l > 1 && dir[l - 1] == '/')
    l--;
  size_t b = l;
  while (b > 0 && dir[b - 1] != '/')
    b--;
  static char buf[256];
  snprintf(buf, sizeof buf, "%.*s", (int)(l - b), dir + b);
  return buf;
}

int ir_an_table(int argc, char **argv) {
  static const struct option opts[] = {
      {"out", required_argument, NULL, 'o'},
      {"format", required_argument, NULL, 'f'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *out = NULL;
  int formats = IR_FMT_ALL;
  int code;
  opterr = 0;
  optind = 1;
  while ((code = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
    switch (code) {
    case 'o': out = optarg; break;
    case 'f':
      if (ir_report_parse_formats(optarg, &formats) != IR_OK) {
        fprintf(stderr, "%s: --format: %s\n", PROG, ir_error_message());
        return IR_EXIT_USAGE;
      }
      break;
    case 'h': fputs(help, stdout); return IR_EXIT_OK;
    case ':':
      return ir_cli_usage_error(PROG, "option %s needs a value",
                                argv[optind - 1]);
    default:
      return ir_cli_usage_error(PROG, "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (argc - optind < 2)
    return ir_cli_usage_error(PROG, "give a table NAME and at least one run "
                                    "folder");
  if (out == NULL)
    return ir_cli_usage_error(PROG, "--out DIR is required");
  const char *name = argv[optind];
  int nrun = argc - optind - 1;
  char **dirs = argv + optind + 1;
  for (int i = 0; i < nrun; i++)
    if (strcmp(dirs[i], out) == 0)
      return ir_cli_usage_error(PROG, "--out %s is one of the runs' folders",
                                out);

  csv_t *csv = calloc((size_t)nrun, sizeof *csv);
  ir_table *t = NULL;
  int rc = IR_EXIT_USAGE;
  if (csv == NULL)
    return ir_cli_fail(PROG, IR_ENOMEM, NULL);
  size_t ncol = 0;
  for (int i = 0; i < nrun; i++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.csv", dirs[i], name);
    char *text = slurp(path);
    if (text == NULL) {
      fprintf(stderr, "%s: cannot read %s (is %s a run's folder with a "
                      "table %s?)\n",
              PROG, path, dirs[i], name);
      goto done;
    }
    int bad = csv_parse(text, &csv[i]) != 0 || csv[i].n == 0;
    free(text);
    if (bad) {
      fprintf(stderr, "%s: %s is not a CSV table implreg wrote\n", PROG, path);
      goto done;
    }
    if (i == 0)
      ncol = csv[0].nf[0];
    int same = csv[i].nf[0] == ncol;
    for (size_t k = 0; same && k < ncol; k++)
      same = strcmp(csv[i].rows[0][k], csv[0].rows[0][k]) == 0;
    if (!same) {
      fprintf(stderr, "%s: %s's columns differ from %s/%s.csv's\n", PROG,
              path, dirs[0], name);
      goto done;
    }
    for (size_t r = 1; r < csv[i].n; r++)
      if (csv[i].nf[r] != ncol) {
        fprintf(stderr, "%s: %s: row %zu has %zu fields, the header %zu\n",
                PROG, path, r + 1, csv[i].nf[r], ncol);
        goto done;
      }
  }
  char cap[512];
  snprintf(cap, sizeof cap, "%s of %d runs", name, nrun);
  t = ir_table_alloc(name, cap);
  if (t == NULL || ir_table_add_column(t, "run", IR_COL_STRING,
                                       "the run's folder") != 0) {
    rc = ir_cli_fail(PROG, IR_EINVAL, NULL);
    goto done;
  }
  int *numeric = calloc(ncol + 1, sizeof *numeric);
  if (numeric == NULL) {
    rc = ir_cli_fail(PROG, IR_ENOMEM, NULL);
    goto done;
  }
  for (size_t k = 0; k < ncol; k++) {
    double v;
    numeric[k] = 1;
    for (int i = 0; i < nrun && numeric[k]; i++)
      for (size_t r = 1; r < csv[i].n && numeric[k]; r++)
        numeric[k] = is_number(csv[i].rows[r][k], &v);
    if (ir_table_add_column(t, csv[0].rows[0][k],
                            numeric[k] ? IR_COL_DOUBLE : IR_COL_STRING,
                            NULL) < 0) {
      fprintf(stderr, "%s: column '%s' of %s.csv: %s\n", PROG,
              csv[0].rows[0][k], name, ir_error_message());
      free(numeric);
      goto done;
    }
  }
  int s = IR_OK;
  for (int i = 0; i < nrun && s == IR_OK; i++)
    for (size_t r = 1; r < csv[i].n && s == IR_OK; r++) {
      s = ir_table_add_row(t);
      if (s == IR_OK)
        s = ir_table_set_string(t, 0, base_of(dirs[i]));
      for (size_t k = 0; k < ncol && s == IR_OK; k++) {
        const char *cell = csv[i].rows[r][k];
        double v;
        if (cell[0] == '\0')
          continue;
        if (numeric[k] && is_number(cell, &v))
          s = ir_table_set_double(t, (int)k + 1, v);
        else
          s = ir_table_set_string(t, (int)k + 1, cell);
      }
    }
  free(numeric);
  if (s == IR_OK && (rc = ir_cli_prepare_out(PROG, out)) != 0)
    goto done;
  if (s == IR_OK)
    s = ir_table_write(t, out, formats);
  rc = s == IR_OK ? IR_EXIT_OK : ir_cli_fail(PROG, s, NULL);
done:
  for (int i = 0; i < nrun; i++)
    csv_free(&csv[i]);
  free(csv);
  ir_table_free(t);
  return rc;
}

/* ---- implreg plot ---------------------------------------------------------- */

static const char plot_help[] =
    "Usage: implreg plot NAME DIR... --out DIR [--no-render]\n\n"
    "Overlays the figure NAME (DIR/NAME.dat and DIR/NAME.gp an earlier run\n"
    "wrote) of several runs in one figure NAME in --out: every series of\n"
    "every run, labelled \"<run>: <series>\" with <run> the folder's last\n"
    "component; title, axis labels and log axes from the first run's\n"
    "script, standard-error columns kept.  Writes NAME.dat, NAME.gp and,\n"
    "when gnuplot is installed (and without --no-render), NAME.png and\n"
    "NAME.pdf.\n";

/* The value of `set KEY "..."` in a script implreg wrote, unescaped (the
 * figure module escapes enhanced-text specials and quotes); "" if none. */
static char *gp_setting(const char *gp, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\nset %s \"", key);
  const char *p = strstr(gp, pat);
  if (p == NULL)
    return strdup("");
  p += strlen(pat);
  char *out = malloc(strlen(p) + 1);
  if (out == NULL)
    return NULL;
  size_t k = 0;
  while (*p && *p != '"' && *p != '\n') {
    if (p[0] == '\\' && p[1] == 'n') {
      out[k++] = '\n';
      p += 2;
    } else if (p[0] == '\\' && p[1] == '\\') {
      /* \\c: an escaped special; \\\\\\\\: a backslash. */
      if (p[2] == '\\' && p[3] == '\\') {
        out[k++] = '\\';
        p += 4;
      } else {
        p += 2;
      }
    } else if (p[0] == '\\' && p[1] != '\0') {
      out[k++] = p[1];
      p += 2;
    } else {
      out[k++] = *p++;
    }
  }
  out[k] = '\0';
  return out;
}

/* Adds the series of one run's NAME.dat to f, labelled "run: label". */
static int plot_add_run(ir_figure *f, const char *run, char *dat) {
  char label[512] = "";
  double *x = NULL, *y = NULL, *e = NULL;
  size_t m = 0, cap = 0;
  int has_e = 0, s = IR_OK, open = 0;
  char *line = dat;
  for (;;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    int end = nl == NULL;
    const char *idx = strstr(line, "# index ");
    if (idx == line || end) {
      if (open && m > 0) {
        char full[800];
        snprintf(full, sizeof full, "%s: %s", run, label);
        s = has_e ? ir_figure_add_series_err(f, full, x, y, e, m, "lines")
                  : ir_figure_add_series(f, full, x, y, m, "lines");
      }
      m = 0;
      has_e = 0;
      open = !end;
      const char *c = idx ? strchr(idx + 8, ':') : NULL;
      snprintf(label, sizeof label, "%s", c ? c + 2 - (c[1] != ' ') : "");
    } else if (open && line[0] != '#' && line[0] != '\0') {
      double a, b, c;
      int n = sscanf(line, "%lf %lf %lf", &a, &b, &c);
      if (n >= 2) {
        if (m == cap) {
          cap = cap ? 2 * cap : 256;
          double *qx = realloc(x, cap * sizeof *qx);
          if (qx) x = qx;
          double *qy = realloc(y, cap * sizeof *qy);
          if (qy) y = qy;
          double *qe = realloc(e, cap * sizeof *qe);
          if (qe) e = qe;
          if (!qx || !qy || !qe) {
            s = IR_ENOMEM;
            break;
          }
        }
        x[m] = a, y[m] = b, e[m] = n == 3 ? c : 0;
        has_e |= n == 3;
        m++;
      }
    }
    if (end || s != IR_OK)
      break;
    line = nl + 1;
  }
  free(x);
  free(y);
  free(e);
  return s;
}

int ir_an_plot(int argc, char **argv) {
  static const struct option opts[] = {
      {"out", required_argument, NULL, 'o'},
      {"no-render", no_argument, NULL, 'n'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  static const char *const P = "implreg plot";
  const char *out = NULL;
  int render = 1, code;
  opterr = 0;
  optind = 1;
  while ((code = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
    switch (code) {
    case 'o': out = optarg; break;
    case 'n': render = 0; break;
    case 'h': fputs(plot_help, stdout); return IR_EXIT_OK;
    case ':':
      return ir_cli_usage_error(P, "option %s needs a value", argv[optind - 1]);
    default:
      return ir_cli_usage_error(P, "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (argc - optind < 2)
    return ir_cli_usage_error(P, "give a figure NAME and at least one run "
                                 "folder");
  if (out == NULL)
    return ir_cli_usage_error(P, "--out DIR is required");
  const char *name = argv[optind];
  int nrun = argc - optind - 1;
  char **dirs = argv + optind + 1;
  char **dats = calloc((size_t)nrun, sizeof *dats);
  char *gp = NULL, *title = NULL, *xl = NULL, *yl = NULL;
  ir_figure *f = NULL;
  int rc = IR_EXIT_USAGE;
  if (dats == NULL)
    return ir_cli_fail(P, IR_ENOMEM, NULL);
  /* Read everything first: bad input writes nothing. */
  for (int i = 0; i < nrun; i++) {
    char path[4200];
    if (strcmp(dirs[i], out) == 0) {
      rc = ir_cli_usage_error(P, "--out %s is one of the runs' folders", out);
      goto done;
    }
    snprintf(path, sizeof path, "%s/%s.dat", dirs[i], name);
    if ((dats[i] = slurp(path)) == NULL) {
      fprintf(stderr, "%s: cannot read %s (is %s a run's folder with a "
                      "figure %s?)\n",
              P, path, dirs[i], name);
      goto done;
    }
    if (i == 0) {
      snprintf(path, sizeof path, "%s/%s.gp", dirs[i], name);
      if ((gp = slurp(path)) == NULL) {
        fprintf(stderr, "%s: cannot read %s\n", P, path);
        goto done;
      }
    }
  }
  title = gp_setting(gp, "title");
  xl = gp_setting(gp, "xlabel");
  yl = gp_setting(gp, "ylabel");
  if (!title || !xl || !yl ||
      (f = ir_figure_alloc(name, title, xl, yl)) == NULL) {
    rc = ir_cli_fail(P, IR_ENOMEM, NULL);
    goto done;
  }
  ir_figure_set_log(f, strstr(gp, "\nset logscale x") != NULL,
                    strstr(gp, "\nset logscale y") != NULL);
  int s = IR_OK;
  for (int i = 0; i < nrun && s == IR_OK; i++)
    s = plot_add_run(f, base_of(dirs[i]), dats[i]);
  if (s == IR_OK && (rc = ir_cli_prepare_out(P, out)) != 0)
    goto done;
  int rendered = 0;
  if (s == IR_OK)
    s = ir_figure_write(f, out, render, &rendered);
  rc = s == IR_OK ? IR_EXIT_OK : ir_cli_fail(P, s, NULL);
done:
  for (int i = 0; i < nrun; i++)
    free(dats[i]);
  free(dats);
  free(gp);
  free(title);
  free(xl);
  free(yl);
  ir_figure_free(f);
  return rc;
}
