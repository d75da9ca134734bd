/* collect.c — one table across runs, one figure's series from several runs.
 *
 * The files are small (tables of at most a few thousand rows), so each is
 * read whole into memory and parsed there: CSV by the RFC 4180 rules that
 * report writes with (fields in double quotes when they hold a comma, a
 * quote or a line break; a quote inside doubled), figure data by the block
 * layout of ir_figure_write (".dat": "# index i: label" above each block,
 * blocks separated by blank lines) and the few `set` lines of its ".gp".
 */
#include "implreg/collect.h"

#include "data_internal.h"
#include "implreg/status.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Refuse files beyond this size: a table or figure implreg wrote is far
 * smaller, and reading /dev/zero or a huge unrelated file must not exhaust
 * memory. */
#define IR_COLLECT_MAX_BYTES ((size_t)256 << 20)

/* The whole file, NUL-terminated (ir_data_read_all), after checking that
 * it is a regular file of a plausible size: a FIFO or a device such as
 * /dev/zero would block or read until memory runs out. */
static int ir_slurp(const char *path, char **out, size_t *len) {
  *out = NULL;
  struct stat st;
  if (stat(path, &st) != 0)
    return ir_error(IR_EIO, "%s: cannot open (%s)", path, strerror(errno));
  if (!S_ISREG(st.st_mode))
    return ir_error(IR_EFORMAT, "%s: not a regular file, not an implreg output",
                    path);
  if ((uintmax_t)st.st_size > (uintmax_t)IR_COLLECT_MAX_BYTES)
    return ir_error(IR_EFORMAT, "%s: larger than %zu MB, not an implreg output",
                    path, IR_COLLECT_MAX_BYTES >> 20);
  int s = ir_data_read_all(path, out, len);
  if (s != IR_OK)
    return s;
  if (memchr(*out, '\0', *len) != NULL) {
    free(*out);
    *out = NULL;
    return ir_error(IR_EFORMAT, "%s: binary data (a NUL byte), not a text file",
                    path);
  }
  return IR_OK;
}

/* ---- CSV ----------------------------------------------------------------- */

/* A parsed CSV: nrow rows (the header is row 0) of ncol[r] fields each. */
typedef struct {
  char ***cell;
  size_t *ncol;
  size_t nrow, cap;
} ir_csv;

static void ir_csv_free(ir_csv *c) {
  for (size_t r = 0; r < c->nrow; r++) {
    for (size_t j = 0; j < c->ncol[r]; j++)
      free(c->cell[r][j]);
    free(c->cell[r]);
  }
  free(c->cell);
  free(c->ncol);
}

/* Splits text into rows and fields.  A quoted field may hold commas and
 * line breaks; a stray quote inside an unquoted field, or an unterminated
 * quoted one, is a format error with its line number. */
static int ir_csv_parse(const char *path, const char *t, ir_csv *c) {
  memset(c, 0, sizeof *c);
  size_t line = 1;
  const char *p = t;
  while (*p != '\0') {
    if (*p == '\n' || (*p == '\r' && p[1] == '\n')) { /* blank line */
      p += *p == '\r' ? 2 : 1;
      line++;
      continue;
    }
    char **row = NULL;
    size_t nf = 0, cf = 0;
    for (;;) { /* one field */
      size_t cap = 32, n = 0;
      char *f = malloc(cap);
      if (f == NULL)
        goto nomem;
      if (*p == '"') {
        const size_t qline = line;
        p++;
        for (;;) {
          if (*p == '\0') {
            free(f);
            for (size_t j = 0; j < nf; j++)
              free(row[j]);
            free(row);
            ir_csv_free(c);
            return ir_error(IR_EFORMAT,
                            "%s:%zu: a quoted field is never closed", path,
                            qline);
          }
          if (*p == '"' && p[1] == '"') {
            p += 2;
          } else if (*p == '"') {
            p++;
            break;
          } else {
            line += *p == '\n';
            p++;
          }
          const char ch = p[-1];
          if (n + 2 > cap) {
            char *g = realloc(f, cap *= 2);
            if (g == NULL) {
              free(f);
              goto nomem;
            }
            f = g;
          }
          f[n++] = ch;
        }
      } else {
        while (*p != ',' && *p != '\n' && *p != '\0' &&
               !(*p == '\r' && p[1] == '\n')) {
          if (*p == '"') {
            free(f);
            for (size_t j = 0; j < nf; j++)
              free(row[j]);
            free(row);
            ir_csv_free(c);
            return ir_error(IR_EFORMAT,
                            "%s:%zu: a quote inside an unquoted field", path,
                            line);
          }
          if (n + 2 > cap) {
            char *g = realloc(f, cap *= 2);
            if (g == NULL) {
              free(f);
              goto nomem;
            }
            f = g;
          }
          f[n++] = *p++;
        }
      }
      f[n] = '\0';
      if (nf == cf) {
        cf = cf ? 2 * cf : 8;
        char **g = realloc(row, cf * sizeof *g);
        if (g == NULL) {
          free(f);
          goto nomem;
        }
        row = g;
      }
      row[nf++] = f;
      if (*p == ',') {
        p++;
        continue;
      }
      if (*p == '\r')
        p++;
      if (*p == '\n') {
        p++;
        line++;
      } else if (*p != '\0') {
        for (size_t j = 0; j < nf; j++)
          free(row[j]);
        free(row);
        ir_csv_free(c);
        return ir_error(IR_EFORMAT,
                        "%s:%zu: text after a closing quote (expected ',' "
                        "or a line break)",
                        path, line);
      }
      break;
    }
    if (c->nrow == c->cap) {
      size_t cap = c->cap ? 2 * c->cap : 64;
      char ***g = realloc(c->cell, cap * sizeof *g);
      size_t *h = g ? realloc(c->ncol, cap * sizeof *h) : NULL;
      if (g)
        c->cell = g;
      if (h == NULL) {
        for (size_t j = 0; j < nf; j++)
          free(row[j]);
        free(row);
        goto nomem;
      }
      c->ncol = h;
      c->cap = cap;
    }
    c->cell[c->nrow] = row;
    c->ncol[c->nrow++] = nf;
    continue;
  nomem:
    ir_csv_free(c);
    return ir_error(IR_ENOMEM, "%s: out of memory", path);
  }
  return IR_OK;
}

/* A cell as a number: all of it must read (strtod accepts nan and inf). */
static int ir_cell_number(const char *s, double *v) {
  if (*s == '\0')
    return 0;
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  return *end == '\0' && errno != ERANGE;
}

/* Reads and checks one CSV: a header and rows of its width. */
static int ir_csv_read(const char *path, ir_csv *c) {
  char *text;
  size_t len;
  int s = ir_slurp(path, &text, &len);
  if (s != IR_OK)
    return s;
  s = ir_csv_parse(path, text, c);
  free(text);
  if (s != IR_OK)
    return s;
  if (c->nrow == 0) {
    ir_csv_free(c);
    return ir_error(IR_EFORMAT, "%s: empty (no header row)", path);
  }
  for (size_t r = 1; r < c->nrow; r++)
    if (c->ncol[r] != c->ncol[0]) {
      s = ir_error(IR_EFORMAT, "%s:%zu: %zu fields, the header has %zu", path,
                   r + 1, c->ncol[r], c->ncol[0]);
      ir_csv_free(c);
      return s;
    }
  for (size_t j = 0; j < c->ncol[0]; j++)
    for (size_t i = 0; i < j; i++)
      if (strcmp(c->cell[0][i], c->cell[0][j]) == 0) {
        s = ir_error(IR_EFORMAT, "%s: column '%s' appears twice", path,
                     c->cell[0][j]);
        ir_csv_free(c);
        return s;
      }
  return IR_OK;
}

/* Column j of c holds only numbers (or empty cells). */
static int ir_csv_numeric(const ir_csv *c, size_t j) {
  double v;
  for (size_t r = 1; r < c->nrow; r++)
    if (c->cell[r][j][0] != '\0' && !ir_cell_number(c->cell[r][j], &v))
      return 0;
  return 1;
}

/* The union of the runs' columns: names (borrowed from the CSVs) in order of
 * first appearance, numeric unless text in some run. */
typedef struct {
  const char **name;
  int *numeric;
  size_t n;
} ir_colset;

static int ir_colset_build(const ir_csv *csv, size_t nrun, ir_colset *u) {
  size_t cap = 0;
  for (size_t i = 0; i < nrun; i++)
    cap += csv[i].ncol[0];
  u->name = malloc((cap ? cap : 1) * sizeof *u->name);
  u->numeric = malloc((cap ? cap : 1) * sizeof *u->numeric);
  u->n = 0;
  if (u->name == NULL || u->numeric == NULL)
    return ir_error(IR_ENOMEM, "collect: out of memory");
  for (size_t i = 0; i < nrun; i++)
    for (size_t j = 0; j < csv[i].ncol[0]; j++) {
      size_t k = 0;
      while (k < u->n && strcmp(u->name[k], csv[i].cell[0][j]) != 0)
        k++;
      if (k == u->n) {
        u->name[u->n] = csv[i].cell[0][j];
        u->numeric[u->n++] = 1;
      }
      u->numeric[k] &= ir_csv_numeric(&csv[i], j);
    }
  return IR_OK;
}

/* Appends the rows of one CSV to t, whose columns are `first` (a label
 * column, or none when label is NULL) followed by u's. */
static int ir_table_append_csv(ir_table *t, const ir_csv *c, const ir_colset *u,
                               const char *label) {
  const int off = label != NULL;
  for (size_t r = 1; r < c->nrow; r++) {
    int s = ir_table_add_row(t);
    if (s == IR_OK && label != NULL)
      s = ir_table_set_string(t, 0, label);
    for (size_t j = 0; j < c->ncol[0] && s == IR_OK; j++) {
      const char *x = c->cell[r][j];
      if (x[0] == '\0')
        continue;
      size_t k = 0;
      while (strcmp(u->name[k], c->cell[0][j]) != 0)
        k++;
      double v;
      s = u->numeric[k] && ir_cell_number(x, &v)
              ? ir_table_set_double(t, (int)k + off, v)
              : ir_table_set_string(t, (int)k + off, x);
    }
    if (s != IR_OK)
      return s;
  }
  return IR_OK;
}

/* Builds the table of nrun parsed CSVs (labels NULL: one run, no label
 * column). */
static int ir_table_from_csvs(const ir_csv *csv, const char *const *labels,
                              size_t nrun, const char *name,
                              const char *caption, ir_table **out) {
  ir_colset u = {NULL, NULL, 0};
  int s = ir_colset_build(csv, nrun, &u);
  ir_table *t = s == IR_OK ? ir_table_alloc(name, caption) : NULL;
  if (s == IR_OK && t == NULL)
    s = ir_error(IR_EINVAL, "collect: cannot make a table called '%s'", name);
  if (s == IR_OK && labels != NULL &&
      ir_table_add_column(t, "run", IR_COL_STRING, "the run (folder)") < 0)
    s = ir_error(IR_EFORMAT,
                 "collect: table '%s' has a column 'run' of its own", name);
  for (size_t k = 0; k < u.n && s == IR_OK; k++)
    if (ir_table_add_column(t, u.name[k],
                            u.numeric[k] ? IR_COL_DOUBLE : IR_COL_STRING,
                            NULL) < 0)
      s = ir_error(IR_EFORMAT, "collect: column '%s' of table '%s' cannot be "
                   "added (empty, or 'run' twice)", u.name[k], name);
  for (size_t i = 0; i < nrun && s == IR_OK; i++)
    s = ir_table_append_csv(t, &csv[i], &u, labels ? labels[i] : NULL);
  free(u.name);
  free(u.numeric);
  if (s != IR_OK) {
    ir_table_free(t);
    return s;
  }
  *out = t;
  return IR_OK;
}

int ir_collect_read_table(const char *path, const char *name,
                          const char *caption, ir_table **out) {
  if (out == NULL || path == NULL || name == NULL)
    return ir_error(IR_EINVAL, "ir_collect_read_table: no path, name or output");
  *out = NULL;
  ir_csv c;
  int s = ir_csv_read(path, &c);
  if (s != IR_OK)
    return s;
  s = ir_table_from_csvs(&c, NULL, 1, name, caption, out);
  ir_csv_free(&c);
  return s;
}

/* dir/name.ext into buf; IR_EINVAL when it does not fit. */
static int ir_join(char *buf, size_t len, const char *dir, const char *name,
                   const char *ext) {
  int w = snprintf(buf, len, "%s/%s.%s", dir, name, ext);
  if (w < 0 || (size_t)w >= len)
    return ir_error(IR_EINVAL, "collect: path '%s/%s.%s' is too long", dir,
                    name, ext);
  return IR_OK;
}

int ir_collect_tables(const char *const *dirs, const char *const *labels,
                      size_t nrun, const char *name, ir_table **out) {
  if (out == NULL || dirs == NULL || labels == NULL || name == NULL ||
      nrun == 0)
    return ir_error(IR_EINVAL, "ir_collect_tables: no runs, name or output");
  *out = NULL;
  ir_csv *csv = calloc(nrun, sizeof *csv);
  if (csv == NULL)
    return ir_error(IR_ENOMEM, "collect: out of memory");
  size_t nread = 0;
  int s = IR_OK;
  char path[4096];
  for (; nread < nrun && s == IR_OK; nread++) {
    s = ir_join(path, sizeof path, dirs[nread], name, "csv");
    if (s == IR_OK)
      s = ir_csv_read(path, &csv[nread]);
    if (s != IR_OK)
      break;
  }
  if (s == IR_OK) {
    char caption[512];
    snprintf(caption, sizeof caption, "Table '%s' of %zu runs, one block of "
             "rows per run (column run)", name, nrun);
    s = ir_table_from_csvs(csv, labels, nrun, name, caption, out);
  }
  for (size_t i = 0; i < nread; i++)
    ir_csv_free(&csv[i]);
  free(csv);
  return s;
}

/* ---- Figures ------------------------------------------------------------- */

/* One series read from a .dat block. */
typedef struct {
  char *label;
  double *x, *y;
  size_t m, cap;
} ir_dat_series;

typedef struct {
  ir_dat_series *s;
  size_t n, cap;
} ir_dat;

static void ir_dat_free(ir_dat *d) {
  for (size_t i = 0; i < d->n; i++) {
    free(d->s[i].label);
    free(d->s[i].x);
    free(d->s[i].y);
  }
  free(d->s);
}

/* Parses a figure's .dat: "# index i: label" starts series i; lines of at
 * least two numbers are its points (columns beyond x and y, such as a
 * standard error, are ignored); other comments and blank lines separate. */
static int ir_dat_parse(const char *path, char *t, ir_dat *d) {
  memset(d, 0, sizeof *d);
  size_t line = 0;
  for (char *p = t; *p != '\0';) {
    char *e = strchr(p, '\n');
    if (e != NULL)
      *e = '\0';
    line++;
    size_t blk;
    int off = 0;
    if (sscanf(p, "# index %zu: %n", &blk, &off) == 1 && off > 0) {
      if (blk != d->n)
        return ir_error(IR_EFORMAT, "%s:%zu: block %zu where %zu was expected",
                        path, line, blk, d->n);
      if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 8;
        ir_dat_series *g = realloc(d->s, cap * sizeof *g);
        if (g == NULL)
          return ir_error(IR_ENOMEM, "%s: out of memory", path);
        d->s = g;
        d->cap = cap;
      }
      ir_dat_series *s = &d->s[d->n];
      memset(s, 0, sizeof *s);
      s->label = strdup(p + off);
      if (s->label == NULL)
        return ir_error(IR_ENOMEM, "%s: out of memory", path);
      d->n++;
    } else if (p[0] != '#' && p[strspn(p, " \t\r")] != '\0') {
      char *q;
      double x = strtod(p, &q), y;
      char *r;
      if (q == p || (y = strtod(q, &r), r == q))
        return ir_error(IR_EFORMAT, "%s:%zu: not two numbers", path, line);
      if (d->n == 0)
        return ir_error(IR_EFORMAT, "%s:%zu: data before the first '# index' "
                        "line (not a figure implreg wrote)", path, line);
      ir_dat_series *s = &d->s[d->n - 1];
      if (s->m == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        double *gx = realloc(s->x, cap * sizeof *gx);
        if (gx != NULL)
          s->x = gx;
        double *gy = gx ? realloc(s->y, cap * sizeof *gy) : NULL;
        if (gy == NULL)
          return ir_error(IR_ENOMEM, "%s: out of memory", path);
        s->y = gy;
        s->cap = cap;
      }
      s->x[s->m] = x;
      s->y[s->m++] = y;
    }
    if (e == NULL)
      break;
    p = e + 1;
  }
  if (d->n == 0)
    return ir_error(IR_EFORMAT, "%s: no '# index' block (not a figure implreg "
                    "wrote)", path);
  return IR_OK;
}

/* The settings of a figure's .gp that a combined figure keeps. */
typedef struct {
  char title[512], xlabel[512], ylabel[512];
  int logx, logy;
} ir_gp_info;

/* The text of the gnuplot string literal after `key` at the start of a
 * line: the inverse of report's quoting, which makes the enhanced-text
 * rendering equal the text — `\\\\` (four backslashes) is a backslash,
 * `\\X` an enhanced-text special X (_ ^ @ & ~ { }), `\"` a quote, `\n` a
 * line break. */
static void ir_gp_value(const char *line, const char *key, char *out,
                        size_t len) {
  size_t kl = strlen(key);
  if (strncmp(line, key, kl) != 0 || line[kl] != '"')
    return;
  size_t n = 0;
  for (const char *p = line + kl + 1; *p != '\0' && *p != '"' && n + 1 < len;
       p++) {
    if (strncmp(p, "\\\\\\\\", 4) == 0) {
      out[n++] = '\\';
      p += 3;
    } else if (p[0] == '\\' && p[1] == '\\' && p[2] != '\0' &&
               strchr("_^@&~{}", p[2]) != NULL) {
      out[n++] = p[2];
      p += 2;
    } else if (p[0] == '\\' && (p[1] == '"' || p[1] == 'n')) {
      out[n++] = p[1] == 'n' ? '\n' : '"';
      p++;
    } else {
      out[n++] = *p;
    }
  }
  out[n] = '\0';
}

static int ir_gp_read(const char *path, ir_gp_info *g) {
  memset(g, 0, sizeof *g);
  char *t;
  size_t len;
  int s = ir_slurp(path, &t, &len);
  if (s != IR_OK)
    return s;
  for (char *p = t; p != NULL && *p != '\0';) {
    char *e = strchr(p, '\n');
    if (e != NULL)
      *e = '\0';
    ir_gp_value(p, "set title ", g->title, sizeof g->title);
    ir_gp_value(p, "set xlabel ", g->xlabel, sizeof g->xlabel);
    ir_gp_value(p, "set ylabel ", g->ylabel, sizeof g->ylabel);
    if (strncmp(p, "set logscale ", 13) == 0) {
      g->logx |= p[13] == 'x';
      g->logy |= p[13] == 'y' || p[14] == 'y';
    }
    p = e ? e + 1 : NULL;
  }
  free(t);
  return IR_OK;
}

int ir_collect_figure(const char *const *dirs, const char *const *labels,
                      size_t nrun, const char *name, const char *series,
                      const char *title, ir_figure **out) {
  if (out == NULL || dirs == NULL || labels == NULL || name == NULL ||
      nrun == 0)
    return ir_error(IR_EINVAL, "ir_collect_figure: no runs, name or output");
  *out = NULL;
  char path[4096];
  ir_gp_info g;
  int s = ir_join(path, sizeof path, dirs[0], name, "gp");
  if (s == IR_OK)
    s = ir_gp_read(path, &g);
  if (s != IR_OK)
    return s;
  ir_figure *f = ir_figure_alloc(name, title ? title : g.title, g.xlabel,
                                 g.ylabel);
  if (f == NULL)
    return ir_error(IR_EINVAL, "collect: cannot make a figure called '%s'",
                    name);
  s = ir_figure_set_log(f, g.logx, g.logy);
  if (s == IR_OK)
    s = ir_figure_set_key(f, "outside");
  for (size_t i = 0; i < nrun && s == IR_OK; i++) {
    char *t = NULL;
    size_t len;
    ir_dat d = {NULL, 0, 0};
    s = ir_join(path, sizeof path, dirs[i], name, "dat");
    if (s == IR_OK)
      s = ir_slurp(path, &t, &len);
    if (s == IR_OK)
      s = ir_dat_parse(path, t, &d);
    size_t nsel = 0;
    for (size_t j = 0; j < d.n && s == IR_OK; j++)
      nsel += series == NULL || strcmp(d.s[j].label, series) == 0;
    if (s == IR_OK && nsel == 0)
      s = ir_error(IR_EINVAL, "%s: no series labelled '%s' (see the "
                   "'# index' lines of that file)", path, series);
    for (size_t j = 0; j < d.n && s == IR_OK; j++) {
      const ir_dat_series *ds = &d.s[j];
      if (series != NULL && strcmp(ds->label, series) != 0)
        continue;
      char lab[1024];
      if (nsel == 1)
        snprintf(lab, sizeof lab, "%s", labels[i]);
      else
        snprintf(lab, sizeof lab, "%s: %s", labels[i], ds->label);
      /* One colour per run, one dash pattern per series of a run. */
      char style[64];
      snprintf(style, sizeof style, "%s lc %zu dashtype %zu",
               ds->m <= 30 ? "linespoints" : "lines", i + 1, j + 1);
      s = ir_figure_add_series(f, lab, ds->x, ds->y, ds->m, style);
    }
    ir_dat_free(&d);
    free(t);
  }
  if (s != IR_OK) {
    ir_figure_free(f);
    return s;
  }
  *out = f;
  return IR_OK;
}
