/* report.c — result tables (CSV, Markdown, LaTeX, JSON, terminal), theory
 * checks, the JSON builder behind manifests, and gnuplot figures.
 *
 * Every file goes through ir_atomic_open/commit (temporary name + rename),
 * so a failed or interrupted run never leaves a partial file behind; the
 * images gnuplot renders are made under temporary names too and renamed
 * once gnuplot has succeeded.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "implreg/report.h"

#include "atomic.h"
#include "implreg/status.h"

#include <errno.h>
#include <fcntl.h>
#include <fftw3.h>
#include <gsl/gsl_version.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* OpenBLAS's own <cblas.h> clashes with GSL's CBLAS declarations (docs/stack.md
 * trap 2), so the two introspection functions are declared here. */
char *openblas_get_config(void);
int openblas_get_num_threads(void);

/* Significant digits: %.17g round-trips a double exactly (CSV, JSON, .dat);
 * papers get 4 digits, the terminal 6. */
enum { IR_PREC_EXACT = 17, IR_PREC_PAPER = 4, IR_PREC_TERM = 6 };

/* Room for any %.17g number, sign and exponent included. */
enum { IR_NUMBUF = 64 };

/* ---- small helpers ------------------------------------------------------- */

static char *ir_strdup0(const char *s) {
  if (s == NULL)
    s = "";
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d != NULL)
    memcpy(d, s, n);
  return d;
}

/* Grows an array of `size`-byte elements to hold at least `need` of them;
 * returns the (possibly moved) array, or NULL with p and *cap unchanged. */
static void *ir_grow(void *p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap)
    return p;
  size_t nc = *cap ? *cap : 8;
  while (nc < need) {
    if (nc > SIZE_MAX / 2)
      return NULL;
    nc *= 2;
  }
  if (nc > SIZE_MAX / size)
    return NULL;
  void *q = realloc(p, nc * size);
  if (q == NULL)
    return NULL;
  *cap = nc;
  return q;
}

/* File base names end up in shell-free gnuplot scripts and in paths: keep
 * them to a portable character set and forbid hidden or relative names. */
static int ir_valid_name(const char *s) {
  if (s == NULL || s[0] == '\0' || s[0] == '.')
    return 0;
  for (const char *p = s; *p; p++) {
    char c = *p;
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
             c == '+';
    if (!ok)
      return 0;
  }
  return 1;
}

/* "dir/base.ext" (ext may be NULL), malloc'ed; NULL on no memory. */
static char *ir_join(const char *dir, const char *base, const char *ext) {
  size_t ld = strlen(dir), lb = strlen(base), le = ext ? strlen(ext) : 0;
  char *p = malloc(ld + lb + le + 3);
  if (p == NULL)
    return NULL;
  size_t k = 0;
  memcpy(p, dir, ld);
  k = ld;
  if (ld > 0 && dir[ld - 1] != '/')
    p[k++] = '/';
  memcpy(p + k, base, lb);
  k += lb;
  if (ext != NULL) {
    p[k++] = '.';
    memcpy(p + k, ext, le);
    k += le;
  }
  p[k] = '\0';
  return p;
}

/* v with `prec` significant digits, or inf/-inf/nan (glibc would print
 * "-nan" for some NaNs; one spelling is easier to parse). */
static const char *ir_num(char *buf, int prec, double v) {
  if (isnan(v))
    return "nan";
  if (isinf(v))
    return v > 0 ? "inf" : "-inf";
  snprintf(buf, IR_NUMBUF, "%.*g", prec, v);
  return buf;
}

/* Display width of UTF-8 text in a fixed-width terminal: one column per code
 * point (continuation bytes 10xxxxxx do not count). */
static size_t ir_utf8_width(const char *s) {
  size_t w = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if ((*p & 0xC0) != 0x80)
      w++;
  return w;
}

static void ir_pad(FILE *fp, size_t n) {
  while (n-- > 0)
    fputc(' ', fp);
}

/* Text on one terminal line: control characters become spaces. */
static void ir_put_line_text(FILE *fp, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    fputc(*p < 0x20 ? ' ' : *p, fp);
}

static int ir_stream_status(FILE *fp, const char *what) {
  if (ferror(fp))
    return ir_error(IR_EIO, "%s: write error on the output stream", what);
  return IR_OK;
}

/* ---- formats ------------------------------------------------------------- */

static int ir_word_eq(const char *w, size_t n, const char *lit) {
  return strlen(lit) == n && strncmp(w, lit, n) == 0;
}

int ir_report_parse_formats(const char *list, int *mask) {
  if (list == NULL || mask == NULL)
    return ir_error(IR_EINVAL, "ir_report_parse_formats: NULL argument");
  int m = 0;
  const char *p = list;
  while (*p != '\0') {
    while (*p == ' ' || *p == '\t')
      p++;
    const char *w = p;
    while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
      p++;
    size_t n = (size_t)(p - w);
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p != '\0' && *p != ',') {
      /* Two words without a comma between them, e.g. "csv md". */
      const char *e = p;
      while (*e != '\0' && *e != ',')
        e++;
      return ir_error(IR_EINVAL,
                      "unknown format '%.*s' (expected csv, md, tex, json or "
                      "all)",
                      (int)(e - w), w);
    }
    if (*p == ',')
      p++;
    if (n == 0)
      continue;
    if (ir_word_eq(w, n, "csv"))
      m |= IR_FMT_CSV;
    else if (ir_word_eq(w, n, "md"))
      m |= IR_FMT_MD;
    else if (ir_word_eq(w, n, "tex"))
      m |= IR_FMT_TEX;
    else if (ir_word_eq(w, n, "json"))
      m |= IR_FMT_JSON;
    else if (ir_word_eq(w, n, "all"))
      m |= IR_FMT_ALL;
    else
      return ir_error(IR_EINVAL,
                      "unknown format '%.*s' (expected csv, md, tex, json or "
                      "all)",
                      (int)n, w);
  }
  if (m == 0)
    return ir_error(IR_EINVAL,
                    "empty format list '%s' (expected csv, md, "
                    "tex, json or all)",
                    list);
  *mask = m;
  return IR_OK;
}

/* ---- tables -------------------------------------------------------------- */

typedef struct {
  char *name;
  int type;
  char *desc; /* NULL when none was given */
} ir_col;

typedef struct {
  int set;
  double v;  /* IR_COL_DOUBLE, or the mean of IR_COL_MEANSTD */
  double sd; /* the standard deviation of IR_COL_MEANSTD */
  long i;    /* IR_COL_INT */
  char *s;   /* IR_COL_STRING (owned) */
} ir_cell;

/* A row holds as many cells as there were columns when it was last set;
 * cells past its end are empty, so columns may be added at any time. */
typedef struct {
  ir_cell *cells;
  size_t n;
} ir_row;

struct ir_table {
  char *name, *caption;
  ir_col *cols;
  size_t ncols, ccols;
  char **notes;
  size_t nnotes, cnotes;
  ir_row *rows;
  size_t nrows, crows;
};

ir_table *ir_table_alloc(const char *name, const char *caption) {
  if (!ir_valid_name(name)) {
    ir_error(IR_EINVAL,
             "ir_table_alloc: table name '%s' is not a plain file base name "
             "(letters, digits, '_', '-', '.', '+')",
             name ? name : "(null)");
    return NULL;
  }
  ir_table *t = calloc(1, sizeof *t);
  if (t == NULL) {
    ir_error(IR_ENOMEM, "ir_table_alloc: no memory for table %s", name);
    return NULL;
  }
  t->name = ir_strdup0(name);
  t->caption = ir_strdup0(caption);
  if (t->name == NULL || t->caption == NULL) {
    ir_table_free(t);
    ir_error(IR_ENOMEM, "ir_table_alloc: no memory for table %s", name);
    return NULL;
  }
  return t;
}

void ir_table_free(ir_table *t) {
  if (t == NULL)
    return;
  for (size_t r = 0; r < t->nrows; r++) {
    for (size_t c = 0; c < t->rows[r].n; c++)
      free(t->rows[r].cells[c].s);
    free(t->rows[r].cells);
  }
  free(t->rows);
  for (size_t c = 0; c < t->ncols; c++) {
    free(t->cols[c].name);
    free(t->cols[c].desc);
  }
  free(t->cols);
  for (size_t k = 0; k < t->nnotes; k++)
    free(t->notes[k]);
  free(t->notes);
  free(t->name);
  free(t->caption);
  free(t);
}

/* Whether `name` equals s, or s followed by "_std" (the second CSV column of
 * a MEANSTD column). */
static int ir_name_is(const char *name, const char *s, int with_std) {
  size_t n = strlen(s);
  if (strncmp(name, s, n) != 0)
    return 0;
  return with_std ? strcmp(name + n, "_std") == 0 : name[n] == '\0';
}

/* CSV and JSON use column names as field names, so they must stay unique
 * after MEANSTD columns expand to name and name_std. */
static int ir_name_taken(const ir_table *t, const char *name, int type) {
  for (size_t c = 0; c < t->ncols; c++) {
    const ir_col *k = &t->cols[c];
    if (strcmp(k->name, name) == 0)
      return 1;
    if (k->type == IR_COL_MEANSTD && ir_name_is(name, k->name, 1))
      return 1;
    if (type == IR_COL_MEANSTD && ir_name_is(k->name, name, 1))
      return 1;
  }
  return 0;
}

int ir_table_add_column(ir_table *t, const char *name, int type,
                        const char *description) {
  if (t == NULL || name == NULL || name[0] == '\0') {
    ir_error(IR_EINVAL, "ir_table_add_column: NULL table or empty name");
    return -1;
  }
  if (type != IR_COL_DOUBLE && type != IR_COL_INT && type != IR_COL_STRING &&
      type != IR_COL_MEANSTD) {
    ir_error(IR_EINVAL,
             "ir_table_add_column: column %s of table %s has "
             "unknown type %d",
             name, t->name, type);
    return -1;
  }
  if (ir_name_taken(t, name, type)) {
    ir_error(IR_EINVAL,
             "ir_table_add_column: table %s already has a column "
             "named %s (or %s_std)",
             t->name, name, name);
    return -1;
  }
  ir_col *cols = ir_grow(t->cols, &t->ccols, t->ncols + 1, sizeof *cols);
  if (cols == NULL) {
    ir_error(IR_ENOMEM, "ir_table_add_column: no memory for column %s", name);
    return -1;
  }
  t->cols = cols;
  ir_col *k = &cols[t->ncols];
  k->name = ir_strdup0(name);
  k->desc = description ? ir_strdup0(description) : NULL;
  k->type = type;
  if (k->name == NULL || (description != NULL && k->desc == NULL)) {
    free(k->name);
    free(k->desc);
    ir_error(IR_ENOMEM, "ir_table_add_column: no memory for column %s", name);
    return -1;
  }
  return (int)t->ncols++;
}

int ir_table_column(const ir_table *t, const char *name) {
  if (t == NULL || name == NULL)
    return -1;
  for (size_t c = 0; c < t->ncols; c++)
    if (strcmp(t->cols[c].name, name) == 0)
      return (int)c;
  return -1;
}

int ir_table_add_note(ir_table *t, const char *note) {
  if (t == NULL || note == NULL)
    return ir_error(IR_EINVAL, "ir_table_add_note: NULL argument");
  char **notes = ir_grow(t->notes, &t->cnotes, t->nnotes + 1, sizeof *notes);
  if (notes == NULL)
    return ir_error(IR_ENOMEM, "ir_table_add_note: no memory (table %s)",
                    t->name);
  t->notes = notes;
  notes[t->nnotes] = ir_strdup0(note);
  if (notes[t->nnotes] == NULL)
    return ir_error(IR_ENOMEM, "ir_table_add_note: no memory (table %s)",
                    t->name);
  t->nnotes++;
  return IR_OK;
}

int ir_table_add_row(ir_table *t) {
  if (t == NULL)
    return ir_error(IR_EINVAL, "ir_table_add_row: NULL table");
  ir_row *rows = ir_grow(t->rows, &t->crows, t->nrows + 1, sizeof *rows);
  if (rows == NULL)
    return ir_error(IR_ENOMEM, "ir_table_add_row: no memory (table %s)",
                    t->name);
  t->rows = rows;
  rows[t->nrows].cells = NULL;
  rows[t->nrows].n = 0;
  t->nrows++;
  return IR_OK;
}

static const char *ir_type_name(int type) {
  switch (type) {
  case IR_COL_DOUBLE: return "double";
  case IR_COL_INT: return "int";
  case IR_COL_STRING: return "string";
  default: return "meanstd";
  }
}

/* The cell of the last row in column col, checked against `type` and grown
 * into existence; *out is NULL when a status other than IR_OK is returned. */
static int ir_cell_for_set(ir_table *t, int col, int type, const char *fn,
                           ir_cell **out) {
  *out = NULL;
  if (t == NULL)
    return ir_error(IR_EINVAL, "%s: NULL table", fn);
  if (col < 0 || (size_t)col >= t->ncols)
    return ir_error(IR_EINVAL, "%s: column %d out of range (table %s has %zu)",
                    fn, col, t->name, t->ncols);
  if (t->cols[col].type != type)
    return ir_error(IR_EINVAL, "%s: column %s of table %s holds %s values", fn,
                    t->cols[col].name, t->name,
                    ir_type_name(t->cols[col].type));
  if (t->nrows == 0)
    return ir_error(IR_EINVAL,
                    "%s: table %s has no row yet "
                    "(call ir_table_add_row first)",
                    fn, t->name);
  ir_row *r = &t->rows[t->nrows - 1];
  if ((size_t)col >= r->n) {
    size_t cap = r->n;
    ir_cell *cells = ir_grow(r->cells, &cap, t->ncols, sizeof *cells);
    if (cells == NULL)
      return ir_error(IR_ENOMEM, "%s: no memory (table %s)", fn, t->name);
    memset(cells + r->n, 0, (cap - r->n) * sizeof *cells);
    r->cells = cells;
    r->n = cap;
  }
  *out = &r->cells[col];
  return IR_OK;
}

int ir_table_set_double(ir_table *t, int col, double v) {
  ir_cell *c;
  int s = ir_cell_for_set(t, col, IR_COL_DOUBLE, "ir_table_set_double", &c);
  if (s != IR_OK)
    return s;
  c->v = v;
  c->set = 1;
  return IR_OK;
}

int ir_table_set_int(ir_table *t, int col, long v) {
  ir_cell *c;
  int s = ir_cell_for_set(t, col, IR_COL_INT, "ir_table_set_int", &c);
  if (s != IR_OK)
    return s;
  c->i = v;
  c->set = 1;
  return IR_OK;
}

/* A NULL string empties the cell. */
int ir_table_set_string(ir_table *t, int col, const char *str) {
  ir_cell *c;
  int s = ir_cell_for_set(t, col, IR_COL_STRING, "ir_table_set_string", &c);
  if (s != IR_OK)
    return s;
  char *copy = NULL;
  if (str != NULL && (copy = ir_strdup0(str)) == NULL)
    return ir_error(IR_ENOMEM, "ir_table_set_string: no memory (table %s)",
                    t->name);
  free(c->s);
  c->s = copy;
  c->set = copy != NULL;
  return IR_OK;
}

int ir_table_set_meanstd(ir_table *t, int col, double mean, double std) {
  ir_cell *c;
  int s = ir_cell_for_set(t, col, IR_COL_MEANSTD, "ir_table_set_meanstd", &c);
  if (s != IR_OK)
    return s;
  c->v = mean;
  c->sd = std;
  c->set = 1;
  return IR_OK;
}

size_t ir_table_nrows(const ir_table *t) {
  return t ? t->nrows : 0;
}
size_t ir_table_ncols(const ir_table *t) {
  return t ? t->ncols : 0;
}

/* The cell at (row, col) when it has been set, else NULL. */
static const ir_cell *ir_cell_at(const ir_table *t, size_t row, size_t col) {
  if (row >= t->nrows || col >= t->ncols || col >= t->rows[row].n)
    return NULL;
  const ir_cell *c = &t->rows[row].cells[col];
  return c->set ? c : NULL;
}

double ir_table_get(const ir_table *t, size_t row, int col) {
  if (t == NULL || col < 0)
    return NAN;
  const ir_cell *c = ir_cell_at(t, row, (size_t)col);
  if (c == NULL)
    return NAN;
  switch (t->cols[col].type) {
  case IR_COL_DOUBLE:
  case IR_COL_MEANSTD: return c->v;
  case IR_COL_INT: return (double)c->i;
  default: return NAN;
  }
}

static int ir_is_numeric(int type) {
  return type != IR_COL_STRING;
}

/* -- CSV (RFC 4180) -- */

/* Writes s followed by suffix as one field, quoted only when it contains a
 * comma, a double quote or a line break (quotes doubled inside). */
static void ir_csv_field(FILE *fp, const char *s, const char *suffix) {
  int q = strpbrk(s, ",\"\r\n") != NULL || strpbrk(suffix, ",\"\r\n") != NULL;
  if (!q) {
    fputs(s, fp);
    fputs(suffix, fp);
    return;
  }
  fputc('"', fp);
  for (int part = 0; part < 2; part++)
    for (const char *p = part ? suffix : s; *p; p++) {
      if (*p == '"')
        fputc('"', fp);
      fputc(*p, fp);
    }
  fputc('"', fp);
}

static void ir_table_csv(const ir_table *t, FILE *fp) {
  char b[IR_NUMBUF];
  for (size_t c = 0; c < t->ncols; c++) {
    if (c > 0)
      fputc(',', fp);
    ir_csv_field(fp, t->cols[c].name, "");
    if (t->cols[c].type == IR_COL_MEANSTD) {
      fputc(',', fp);
      ir_csv_field(fp, t->cols[c].name, "_std");
    }
  }
  fputc('\n', fp);
  for (size_t r = 0; r < t->nrows; r++) {
    for (size_t c = 0; c < t->ncols; c++) {
      const ir_cell *x = ir_cell_at(t, r, c);
      int type = t->cols[c].type;
      if (c > 0)
        fputc(',', fp);
      if (type == IR_COL_MEANSTD) {
        if (x != NULL) {
          fputs(ir_num(b, IR_PREC_EXACT, x->v), fp);
          fputc(',', fp);
          fputs(ir_num(b, IR_PREC_EXACT, x->sd), fp);
        } else {
          fputc(',', fp);
        }
        continue;
      }
      if (x == NULL)
        continue;
      if (type == IR_COL_DOUBLE)
        fputs(ir_num(b, IR_PREC_EXACT, x->v), fp);
      else if (type == IR_COL_INT)
        fprintf(fp, "%ld", x->i);
      else
        ir_csv_field(fp, x->s, "");
    }
    fputc('\n', fp);
  }
}

/* -- Markdown -- */

/* Backslash-escapes the characters that would start emphasis, code, links
 * or HTML, or end a table cell (CommonMark allows escaping any ASCII
 * punctuation); line breaks become spaces so a cell stays on its line. */
static void ir_md_text(FILE *fp, const char *s) {
  for (const char *p = s; *p; p++) {
    if (strchr("\\`*_|[]<>", *p) != NULL)
      fputc('\\', fp);
    fputc(*p == '\n' || *p == '\r' ? ' ' : *p, fp);
  }
}

/* One table cell as text with `prec` digits; MEANSTD as "m ± s".  Returns s
 * or buf (of size 2 * IR_NUMBUF + 8). */
static const char *ir_cell_text(const ir_table *t, size_t r, size_t c, int prec,
                                char *buf) {
  const ir_cell *x = ir_cell_at(t, r, c);
  if (x == NULL)
    return "";
  char b1[IR_NUMBUF], b2[IR_NUMBUF];
  switch (t->cols[c].type) {
  case IR_COL_DOUBLE: return strcpy(buf, ir_num(b1, prec, x->v));
  case IR_COL_INT: snprintf(buf, IR_NUMBUF, "%ld", x->i); return buf;
  case IR_COL_MEANSTD:
    snprintf(buf, 2 * IR_NUMBUF + 8, "%s \xC2\xB1 %s", ir_num(b1, prec, x->v),
             ir_num(b2, prec, x->sd));
    return buf;
  default: return x->s;
  }
}

static void ir_table_md(const ir_table *t, FILE *fp) {
  char buf[2 * IR_NUMBUF + 8];
  if (t->caption[0] != '\0') {
    fputs("**", fp);
    ir_md_text(fp, t->caption);
    fputs("**\n\n", fp);
  }
  /* Notes are separate paragraphs; consecutive lines would be joined. */
  for (size_t k = 0; k < t->nnotes; k++) {
    fputc('*', fp);
    ir_md_text(fp, t->notes[k]);
    fputs("*\n\n", fp);
  }
  if (t->ncols == 0)
    return;
  fputc('|', fp);
  for (size_t c = 0; c < t->ncols; c++) {
    fputc(' ', fp);
    ir_md_text(fp, t->cols[c].name);
    fputs(" |", fp);
  }
  fputs("\n|", fp);
  for (size_t c = 0; c < t->ncols; c++)
    fputs(ir_is_numeric(t->cols[c].type) ? " ---: |" : " :--- |", fp);
  fputc('\n', fp);
  for (size_t r = 0; r < t->nrows; r++) {
    fputc('|', fp);
    for (size_t c = 0; c < t->ncols; c++) {
      fputc(' ', fp);
      ir_md_text(fp, ir_cell_text(t, r, c, IR_PREC_PAPER, buf));
      fputs(" |", fp);
    }
    fputc('\n', fp);
  }
  int legend = 0;
  for (size_t c = 0; c < t->ncols; c++) {
    const ir_col *k = &t->cols[c];
    if (k->desc == NULL || k->desc[0] == '\0')
      continue;
    if (!legend)
      fputs("\nColumns:\n\n", fp);
    legend = 1;
    fputs("- ", fp);
    if (strchr(k->name, '`') == NULL)
      fprintf(fp, "`%s`", k->name);
    else
      ir_md_text(fp, k->name);
    if (k->type == IR_COL_MEANSTD)
      fputs(" (mean \xC2\xB1 std)", fp);
    fputs(": ", fp);
    ir_md_text(fp, k->desc);
    fputc('\n', fp);
  }
}

/* -- LaTeX (booktabs) -- */

/* Escapes LaTeX's special characters so that s prints literally in text
 * mode; line breaks become spaces. */
static void ir_tex_text(FILE *fp, const char *s) {
  for (const char *p = s; *p; p++) {
    switch (*p) {
    case '_': fputs("\\_", fp); break;
    case '%': fputs("\\%", fp); break;
    case '&': fputs("\\&", fp); break;
    case '#': fputs("\\#", fp); break;
    case '$': fputs("\\$", fp); break;
    case '{': fputs("\\{", fp); break;
    case '}': fputs("\\}", fp); break;
    case '~': fputs("\\textasciitilde{}", fp); break;
    case '^': fputs("\\textasciicircum{}", fp); break;
    case '\\': fputs("\\textbackslash{}", fp); break;
    case '\n':
    case '\r': fputc(' ', fp); break;
    default: fputc(*p, fp);
    }
  }
}

/* v in math mode (without the dollars): %.4g, with "1.5e-07" rendered as
 * 1.5 \times 10^{-7}. */
static void ir_tex_num(FILE *fp, double v) {
  if (isnan(v)) {
    fputs("\\mathrm{NaN}", fp);
    return;
  }
  if (isinf(v)) {
    fputs(v > 0 ? "\\infty" : "-\\infty", fp);
    return;
  }
  char b[IR_NUMBUF];
  snprintf(b, sizeof b, "%.*g", IR_PREC_PAPER, v);
  char *e = strchr(b, 'e');
  if (e == NULL) {
    fputs(b, fp);
    return;
  }
  *e = '\0';
  long k = strtol(e + 1, NULL, 10);
  if (strcmp(b, "1") == 0)
    fprintf(fp, "10^{%ld}", k);
  else if (strcmp(b, "-1") == 0)
    fprintf(fp, "-10^{%ld}", k);
  else
    fprintf(fp, "%s \\times 10^{%ld}", b, k);
}

static void ir_table_tex(const ir_table *t, FILE *fp) {
  fputs("% Generated by implreg; needs \\usepackage{booktabs}.\n", fp);
  fputs("\\begin{table}[htbp]\n  \\centering\n  \\caption{", fp);
  ir_tex_text(fp, t->caption[0] != '\0' ? t->caption : t->name);
  /* The name is restricted to [A-Za-z0-9._+-], all legal in a label. */
  fprintf(fp, "}\n  \\label{tab:%s}\n", t->name);
  for (size_t k = 0; k < t->nnotes; k++) {
    fputs("  {\\footnotesize\\itshape ", fp);
    ir_tex_text(fp, t->notes[k]);
    fputs("\\par}\n", fp);
  }
  if (t->nnotes > 0)
    fputs("  \\smallskip\n", fp);
  fputs("  \\begin{tabular}{", fp);
  for (size_t c = 0; c < t->ncols; c++)
    fputc(ir_is_numeric(t->cols[c].type) ? 'r' : 'l', fp);
  fputs("}\n    \\toprule\n    ", fp);
  for (size_t c = 0; c < t->ncols; c++) {
    if (c > 0)
      fputs(" & ", fp);
    ir_tex_text(fp, t->cols[c].name);
  }
  fputs(" \\\\\n    \\midrule\n", fp);
  for (size_t r = 0; r < t->nrows; r++) {
    fputs("    ", fp);
    for (size_t c = 0; c < t->ncols; c++) {
      if (c > 0)
        fputs(" & ", fp);
      const ir_cell *x = ir_cell_at(t, r, c);
      if (x == NULL)
        continue;
      switch (t->cols[c].type) {
      case IR_COL_DOUBLE:
        fputc('$', fp);
        ir_tex_num(fp, x->v);
        fputc('$', fp);
        break;
      case IR_COL_INT: fprintf(fp, "$%ld$", x->i); break;
      case IR_COL_MEANSTD:
        fputc('$', fp);
        ir_tex_num(fp, x->v);
        fputs(" \\pm ", fp);
        ir_tex_num(fp, x->sd);
        fputc('$', fp);
        break;
      default: ir_tex_text(fp, x->s);
      }
    }
    fputs(" \\\\\n", fp);
  }
  fputs("    \\bottomrule\n  \\end{tabular}\n\\end{table}\n", fp);
}

/* -- JSON -- */

static ir_json *ir_table_json(const ir_table *t) {
  ir_json *j = ir_json_alloc();
  if (j == NULL)
    return NULL;
  ir_json_begin_object(j, NULL);
  ir_json_string(j, "name", t->name);
  ir_json_string(j, "caption", t->caption);
  ir_json_begin_array(j, "notes");
  for (size_t k = 0; k < t->nnotes; k++)
    ir_json_string(j, NULL, t->notes[k]);
  ir_json_end_array(j);
  ir_json_begin_array(j, "columns");
  for (size_t c = 0; c < t->ncols; c++) {
    ir_json_begin_object(j, NULL);
    ir_json_string(j, "name", t->cols[c].name);
    ir_json_string(j, "type", ir_type_name(t->cols[c].type));
    ir_json_string(j, "description", t->cols[c].desc);
    ir_json_end_object(j);
  }
  ir_json_end_array(j);
  ir_json_begin_array(j, "rows");
  for (size_t r = 0; r < t->nrows; r++) {
    ir_json_begin_object(j, NULL);
    for (size_t c = 0; c < t->ncols; c++) {
      const char *key = t->cols[c].name;
      const ir_cell *x = ir_cell_at(t, r, c);
      if (x == NULL) {
        ir_json_null(j, key);
        continue;
      }
      switch (t->cols[c].type) {
      case IR_COL_DOUBLE: ir_json_number(j, key, x->v); break;
      case IR_COL_INT: ir_json_int(j, key, x->i); break;
      case IR_COL_MEANSTD:
        ir_json_begin_object(j, key);
        ir_json_number(j, "mean", x->v);
        ir_json_number(j, "std", x->sd);
        ir_json_end_object(j);
        break;
      default: ir_json_string(j, key, x->s);
      }
    }
    ir_json_end_object(j);
  }
  ir_json_end_array(j);
  ir_json_end_object(j);
  return j;
}

/* -- writing -- */

typedef void (*ir_writer)(const ir_table *t, FILE *fp);

static int ir_write_with(const ir_table *t, const char *dir, const char *ext,
                         ir_writer w) {
  char *path = ir_join(dir, t->name, ext);
  if (path == NULL)
    return ir_error(IR_ENOMEM, "no memory for the path of %s.%s", t->name, ext);
  ir_atomic_file f;
  int s = ir_atomic_open(&f, path);
  if (s == IR_OK) {
    w(t, f.fp);
    s = ir_atomic_commit(&f);
  }
  free(path);
  return s;
}

static int ir_write_json_doc(ir_json *j, const char *dir, const char *base) {
  if (j == NULL)
    return ir_error(IR_ENOMEM, "no memory for %s.json", base);
  char *path = ir_join(dir, base, "json");
  int s = path ? ir_json_write(j, path)
               : ir_error(IR_ENOMEM, "no memory for the path of %s.json", base);
  free(path);
  ir_json_free(j);
  return s;
}

int ir_table_write(const ir_table *t, const char *dir, int formats) {
  if (t == NULL || dir == NULL)
    return ir_error(IR_EINVAL, "ir_table_write: NULL argument");
  if (formats & ~IR_FMT_ALL)
    return ir_error(IR_EINVAL, "ir_table_write: bad format mask %d (table %s)",
                    formats, t->name);
  int s = IR_OK;
  if (s == IR_OK && (formats & IR_FMT_CSV))
    s = ir_write_with(t, dir, "csv", ir_table_csv);
  if (s == IR_OK && (formats & IR_FMT_MD))
    s = ir_write_with(t, dir, "md", ir_table_md);
  if (s == IR_OK && (formats & IR_FMT_TEX))
    s = ir_write_with(t, dir, "tex", ir_table_tex);
  if (s == IR_OK && (formats & IR_FMT_JSON))
    s = ir_write_json_doc(ir_table_json(t), dir, t->name);
  return s;
}

/* -- terminal -- */

/* Caption, notes, then the columns aligned under their headers with a
 * dashed rule, numbers with prec digits; numbers are right-aligned, strings
 * too unless left_strings. */
static int ir_table_fprint(const ir_table *t, FILE *fp, int prec,
                           int left_strings) {
  char buf[2 * IR_NUMBUF + 8];
  if (t->caption[0] != '\0') {
    ir_put_line_text(fp, t->caption);
    fputc('\n', fp);
  }
  for (size_t k = 0; k < t->nnotes; k++) {
    fputs("  ", fp);
    ir_put_line_text(fp, t->notes[k]);
    fputc('\n', fp);
  }
  if (t->ncols == 0)
    return IR_OK;
  size_t *w = calloc(t->ncols, sizeof *w);
  if (w == NULL)
    return ir_error(IR_ENOMEM, "ir_table_print: no memory (table %s)", t->name);
  for (size_t c = 0; c < t->ncols; c++) {
    w[c] = ir_utf8_width(t->cols[c].name);
    for (size_t r = 0; r < t->nrows; r++) {
      size_t x = ir_utf8_width(ir_cell_text(t, r, c, prec, buf));
      if (x > w[c])
        w[c] = x;
    }
  }
  for (size_t r = 0; r < t->nrows + 2; r++) {
    for (size_t c = 0; c < t->ncols; c++) {
      int left = left_strings && !ir_is_numeric(t->cols[c].type);
      if (c > 0)
        fputs("  ", fp);
      if (r == 1) {
        for (size_t k = 0; k < w[c]; k++)
          fputc('-', fp);
        continue;
      }
      const char *s =
          r == 0 ? t->cols[c].name : ir_cell_text(t, r - 2, c, prec, buf);
      size_t pad = w[c] - ir_utf8_width(s);
      if (!left)
        ir_pad(fp, pad);
      ir_put_line_text(fp, s);
      if (left && c + 1 < t->ncols)
        ir_pad(fp, pad);
    }
    fputc('\n', fp);
  }
  free(w);
  return IR_OK;
}

int ir_table_print(const ir_table *t, FILE *fp) {
  if (t == NULL || fp == NULL)
    return ir_error(IR_EINVAL, "ir_table_print: NULL argument");
  int s = ir_table_fprint(t, fp, IR_PREC_TERM, 0);
  return s != IR_OK ? s : ir_stream_status(fp, "ir_table_print");
}

/* ---- theory checks ------------------------------------------------------- */

typedef struct {
  char *claim, *source;
  double predicted, measured, tolerance;
  int pass;
} ir_check;

struct ir_checks {
  ir_check *v;
  size_t n, cap;
};

ir_checks *ir_checks_alloc(void) {
  ir_checks *c = calloc(1, sizeof *c);
  if (c == NULL)
    ir_error(IR_ENOMEM, "ir_checks_alloc: no memory");
  return c;
}

void ir_checks_free(ir_checks *c) {
  if (c == NULL)
    return;
  for (size_t i = 0; i < c->n; i++) {
    free(c->v[i].claim);
    free(c->v[i].source);
  }
  free(c->v);
  free(c);
}

/* Appends a row whose claim is "prefix: claim" (or claim alone). */
static int ir_checks_push(ir_checks *c, const char *prefix, const char *claim,
                          const char *source, double predicted, double measured,
                          double tolerance, int pass) {
  ir_check *v = ir_grow(c->v, &c->cap, c->n + 1, sizeof *v);
  if (v == NULL)
    return ir_error(IR_ENOMEM, "no memory for check '%s'", claim);
  c->v = v;
  ir_check *k = &v[c->n];
  if (prefix != NULL) {
    size_t lp = strlen(prefix), lc = strlen(claim);
    k->claim = malloc(lp + lc + 3);
    if (k->claim != NULL) {
      memcpy(k->claim, prefix, lp);
      memcpy(k->claim + lp, ": ", 2);
      memcpy(k->claim + lp + 2, claim, lc + 1);
    }
  } else {
    k->claim = ir_strdup0(claim);
  }
  k->source = ir_strdup0(source);
  if (k->claim == NULL || k->source == NULL) {
    free(k->claim);
    free(k->source);
    return ir_error(IR_ENOMEM, "no memory for check '%s'", claim);
  }
  k->predicted = predicted;
  k->measured = measured;
  k->tolerance = tolerance;
  k->pass = pass != 0;
  c->n++;
  return IR_OK;
}

int ir_checks_add(ir_checks *c, const char *claim, const char *source,
                  double predicted, double measured, double tolerance,
                  int pass) {
  if (c == NULL || claim == NULL)
    return ir_error(IR_EINVAL, "ir_checks_add: NULL checks or claim");
  return ir_checks_push(c, NULL, claim, source, predicted, measured, tolerance,
                        pass);
}

/* The comparisons below are false for a NaN operand, so a NaN prediction or
 * tolerance fails as well; isfinite(measured) makes Inf fail too (Inf − Inf
 * would be NaN, but Inf <= tolerance could pass for ir_checks_add_max). */
int ir_checks_add_abs(ir_checks *c, const char *claim, const char *source,
                      double predicted, double measured, double tolerance) {
  int pass = isfinite(measured) && fabs(measured - predicted) <= tolerance;
  return ir_checks_add(c, claim, source, predicted, measured, tolerance, pass);
}

int ir_checks_add_rel(ir_checks *c, const char *claim, const char *source,
                      double predicted, double measured, double tolerance) {
  int pass = isfinite(measured) &&
             fabs(measured - predicted) <= tolerance * fabs(predicted);
  return ir_checks_add(c, claim, source, predicted, measured, tolerance, pass);
}

int ir_checks_add_max(ir_checks *c, const char *claim, const char *source,
                      double predicted, double measured, double tolerance) {
  int pass = isfinite(measured) && measured <= tolerance;
  return ir_checks_add(c, claim, source, predicted, measured, tolerance, pass);
}

size_t ir_checks_count(const ir_checks *c) {
  return c ? c->n : 0;
}

size_t ir_checks_failed(const ir_checks *c) {
  size_t f = 0;
  for (size_t i = 0; c != NULL && i < c->n; i++)
    f += !c->v[i].pass;
  return f;
}

int ir_checks_merge(ir_checks *dst, const ir_checks *src, const char *prefix) {
  if (dst == NULL || src == NULL)
    return ir_error(IR_EINVAL, "ir_checks_merge: NULL argument");
  /* Reserve first: dst and src may be the same object, whose array would
   * otherwise move under the loop. */
  size_t n0 = dst->n, m = src->n;
  ir_check *v = ir_grow(dst->v, &dst->cap, n0 + m, sizeof *v);
  if (v == NULL)
    return ir_error(IR_ENOMEM, "ir_checks_merge: no memory for %zu checks", m);
  dst->v = v;
  for (size_t i = 0; i < m; i++) {
    const ir_check *k = &src->v[i];
    int s = ir_checks_push(dst, prefix, k->claim, k->source, k->predicted,
                           k->measured, k->tolerance, k->pass);
    if (s != IR_OK) {
      /* All or nothing: drop the rows this call added. */
      while (dst->n > n0) {
        dst->n--;
        free(dst->v[dst->n].claim);
        free(dst->v[dst->n].source);
      }
      return s;
    }
  }
  return IR_OK;
}

/* The checks as a table, so that CSV, Markdown and the terminal share the
 * table writers. */
static ir_table *ir_checks_table(const ir_checks *c) {
  ir_table *t = ir_table_alloc("checks", "Theory checks");
  if (t == NULL)
    return NULL;
  int ok =
      ir_table_add_column(t, "claim", IR_COL_STRING,
                          "the theoretical statement tested") == 0 &&
      ir_table_add_column(t, "source", IR_COL_STRING,
                          "where the claim comes from") == 1 &&
      ir_table_add_column(t, "predicted", IR_COL_DOUBLE,
                          "value the theory predicts") == 2 &&
      ir_table_add_column(t, "measured", IR_COL_DOUBLE,
                          "value measured in this run") == 3 &&
      ir_table_add_column(t, "tolerance", IR_COL_DOUBLE,
                          "allowed deviation (absolute, relative or "
                          "an upper bound, as the claim states)") == 4 &&
      ir_table_add_column(t, "verdict", IR_COL_STRING, "PASS or FAIL") == 5;
  for (size_t i = 0; ok && i < c->n; i++) {
    const ir_check *k = &c->v[i];
    ok = ir_table_add_row(t) == IR_OK &&
         ir_table_set_string(t, 0, k->claim) == IR_OK &&
         ir_table_set_string(t, 1, k->source) == IR_OK &&
         ir_table_set_double(t, 2, k->predicted) == IR_OK &&
         ir_table_set_double(t, 3, k->measured) == IR_OK &&
         ir_table_set_double(t, 4, k->tolerance) == IR_OK &&
         ir_table_set_string(t, 5, k->pass ? "PASS" : "FAIL") == IR_OK;
  }
  if (!ok) {
    ir_table_free(t);
    return NULL;
  }
  return t;
}

static void ir_checks_summary_line(const ir_checks *c, FILE *fp) {
  fprintf(fp, "%zu of %zu checks passed\n", c->n - ir_checks_failed(c), c->n);
}

static ir_json *ir_checks_json(const ir_checks *c) {
  ir_json *j = ir_json_alloc();
  if (j == NULL)
    return NULL;
  size_t failed = ir_checks_failed(c);
  ir_json_begin_object(j, NULL);
  ir_json_int(j, "total", (long)c->n);
  ir_json_int(j, "passed", (long)(c->n - failed));
  ir_json_int(j, "failed", (long)failed);
  ir_json_begin_array(j, "checks");
  for (size_t i = 0; i < c->n; i++) {
    const ir_check *k = &c->v[i];
    ir_json_begin_object(j, NULL);
    ir_json_string(j, "claim", k->claim);
    ir_json_string(j, "source", k->source);
    ir_json_number(j, "predicted", k->predicted);
    ir_json_number(j, "measured", k->measured);
    ir_json_number(j, "tolerance", k->tolerance);
    ir_json_string(j, "verdict", k->pass ? "PASS" : "FAIL");
    ir_json_end_object(j);
  }
  ir_json_end_array(j);
  ir_json_end_object(j);
  return j;
}

int ir_checks_write(const ir_checks *c, const char *dir, int formats) {
  if (c == NULL || dir == NULL)
    return ir_error(IR_EINVAL, "ir_checks_write: NULL argument");
  ir_table *t = ir_checks_table(c);
  if (t == NULL)
    return ir_error(IR_ENOMEM, "ir_checks_write: no memory");
  int s = ir_write_with(t, dir, "csv", ir_table_csv);
  if (s == IR_OK) {
    char *path = ir_join(dir, "checks", "md");
    ir_atomic_file f;
    if (path == NULL)
      s = ir_error(IR_ENOMEM, "ir_checks_write: no memory");
    else if ((s = ir_atomic_open(&f, path)) == IR_OK) {
      ir_table_md(t, f.fp);
      fputc('\n', f.fp);
      ir_checks_summary_line(c, f.fp);
      s = ir_atomic_commit(&f);
    }
    free(path);
  }
  ir_table_free(t);
  if (s == IR_OK && (formats & IR_FMT_JSON))
    s = ir_write_json_doc(ir_checks_json(c), dir, "checks");
  return s;
}

int ir_checks_print(const ir_checks *c, FILE *fp) {
  if (c == NULL || fp == NULL)
    return ir_error(IR_EINVAL, "ir_checks_print: NULL argument");
  ir_table *t = ir_checks_table(c);
  if (t == NULL)
    return ir_error(IR_ENOMEM, "ir_checks_print: no memory");
  /* The terminal gets 4 digits here, like the paper formats: a check's
   * numbers are compared by eye, not copied. */
  int s = ir_table_fprint(t, fp, IR_PREC_PAPER, 1);
  if (s == IR_OK)
    ir_checks_summary_line(c, fp);
  ir_table_free(t);
  return s != IR_OK ? s : ir_stream_status(fp, "ir_checks_print");
}

/* ---- JSON builder -------------------------------------------------------- */

typedef struct {
  char kind; /* 'o' object, 'a' array */
  size_t count;
} ir_jframe;

struct ir_json {
  char *buf;
  size_t len, cap;
  ir_jframe *st;
  size_t depth, cst;
  size_t ntop; /* values written at top level */
  int oom;
  int bad;
  char err[256]; /* the first misuse */
};

ir_json *ir_json_alloc(void) {
  ir_json *j = calloc(1, sizeof *j);
  if (j == NULL) {
    ir_error(IR_ENOMEM, "ir_json_alloc: no memory");
    return NULL;
  }
  j->cap = 256;
  j->buf = malloc(j->cap);
  if (j->buf == NULL) {
    free(j);
    ir_error(IR_ENOMEM, "ir_json_alloc: no memory");
    return NULL;
  }
  j->buf[0] = '\0';
  return j;
}

void ir_json_free(ir_json *j) {
  if (j == NULL)
    return;
  free(j->buf);
  free(j->st);
  free(j);
}

static void ir_json_fail(ir_json *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void ir_json_fail(ir_json *j, const char *fmt, ...) {
  if (!j->bad) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->err, sizeof j->err, fmt, ap);
    va_end(ap);
  }
  j->bad = 1;
}

static void ir_json_put(ir_json *j, const char *s, size_t n) {
  if (j->oom)
    return;
  char *b = ir_grow(j->buf, &j->cap, j->len + n + 1, 1);
  if (b == NULL) {
    j->oom = 1;
    return;
  }
  j->buf = b;
  memcpy(b + j->len, s, n);
  j->len += n;
  b[j->len] = '\0';
}

static void ir_json_puts(ir_json *j, const char *s) {
  ir_json_put(j, s, strlen(s));
}

/* A JSON string literal: quotes, backslashes and control characters escaped
 * (RFC 8259 section 7); other bytes, UTF-8 included, pass through. */
static void ir_json_putstr(ir_json *j, const char *s) {
  ir_json_put(j, "\"", 1);
  const char *run = s;
  for (const char *p = s;; p++) {
    unsigned char c = (unsigned char)*p;
    if (c != '\0' && c != '"' && c != '\\' && c >= 0x20)
      continue;
    ir_json_put(j, run, (size_t)(p - run));
    run = p + 1;
    if (c == '\0')
      break;
    char e[8];
    switch (c) {
    case '"': ir_json_puts(j, "\\\""); break;
    case '\\': ir_json_puts(j, "\\\\"); break;
    case '\n': ir_json_puts(j, "\\n"); break;
    case '\t': ir_json_puts(j, "\\t"); break;
    case '\r': ir_json_puts(j, "\\r"); break;
    case '\b': ir_json_puts(j, "\\b"); break;
    case '\f': ir_json_puts(j, "\\f"); break;
    default: snprintf(e, sizeof e, "\\u%04x", c); ir_json_puts(j, e);
    }
  }
  ir_json_put(j, "\"", 1);
}

static void ir_json_indent(ir_json *j, size_t depth) {
  static const char spaces[] = "                ";
  size_t n = 2 * depth;
  while (n > 0) {
    size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
    ir_json_put(j, spaces, k);
    n -= k;
  }
}

/* Writes what precedes a value: the comma, newline and indentation, and the
 * key inside an object.  A misplaced or missing key is recorded; the value
 * is still written so that the nesting stays balanced. */
static void ir_json_prefix(ir_json *j, const char *key) {
  if (j->depth == 0) {
    if (key != NULL)
      ir_json_fail(j, "key \"%s\" given for a top-level value", key);
    if (j->ntop++ > 0) {
      ir_json_fail(j, "more than one top-level value");
      ir_json_put(j, "\n", 1);
    }
    return;
  }
  ir_jframe *f = &j->st[j->depth - 1];
  if (f->kind == 'o' && key == NULL)
    ir_json_fail(j, "value without a key inside an object (depth %zu)",
                 j->depth);
  if (f->kind == 'a' && key != NULL)
    ir_json_fail(j, "key \"%s\" given inside an array (depth %zu)", key,
                 j->depth);
  if (f->count++ > 0)
    ir_json_put(j, ",", 1);
  ir_json_put(j, "\n", 1);
  ir_json_indent(j, j->depth);
  if (key != NULL && f->kind == 'o') {
    ir_json_putstr(j, key);
    ir_json_put(j, ": ", 2);
  }
}

static void ir_json_begin(ir_json *j, const char *key, char kind) {
  if (j == NULL)
    return;
  ir_json_prefix(j, key);
  ir_jframe *st = ir_grow(j->st, &j->cst, j->depth + 1, sizeof *st);
  if (st == NULL) {
    j->oom = 1;
    return;
  }
  j->st = st;
  st[j->depth].kind = kind;
  st[j->depth].count = 0;
  j->depth++;
  ir_json_put(j, kind == 'o' ? "{" : "[", 1);
}

static void ir_json_end(ir_json *j, char kind) {
  if (j == NULL)
    return;
  const char *what = kind == 'o' ? "object" : "array";
  if (j->depth == 0) {
    ir_json_fail(j, "end of %s without a matching begin", what);
    return;
  }
  ir_jframe *f = &j->st[j->depth - 1];
  if (f->kind != kind)
    ir_json_fail(j, "end of %s closes an %s (depth %zu)", what,
                 f->kind == 'o' ? "object" : "array", j->depth);
  j->depth--;
  if (f->count > 0) {
    ir_json_put(j, "\n", 1);
    ir_json_indent(j, j->depth);
  }
  /* Close what is actually open, so the text stays balanced. */
  ir_json_put(j, f->kind == 'o' ? "}" : "]", 1);
}

void ir_json_begin_object(ir_json *j, const char *key) {
  ir_json_begin(j, key, 'o');
}
void ir_json_end_object(ir_json *j) {
  ir_json_end(j, 'o');
}
void ir_json_begin_array(ir_json *j, const char *key) {
  ir_json_begin(j, key, 'a');
}
void ir_json_end_array(ir_json *j) {
  ir_json_end(j, 'a');
}

/* A NULL string is written as null. */
void ir_json_string(ir_json *j, const char *key, const char *value) {
  if (j == NULL)
    return;
  ir_json_prefix(j, key);
  if (value == NULL)
    ir_json_puts(j, "null");
  else
    ir_json_putstr(j, value);
}

void ir_json_number(ir_json *j, const char *key, double value) {
  if (j == NULL)
    return;
  ir_json_prefix(j, key);
  char b[IR_NUMBUF];
  if (isfinite(value)) {
    snprintf(b, sizeof b, "%.17g", value);
    ir_json_puts(j, b);
  } else {
    ir_json_puts(j, "null");
  }
}

void ir_json_int(ir_json *j, const char *key, long value) {
  if (j == NULL)
    return;
  ir_json_prefix(j, key);
  char b[IR_NUMBUF];
  snprintf(b, sizeof b, "%ld", value);
  ir_json_puts(j, b);
}

void ir_json_bool(ir_json *j, const char *key, int value) {
  if (j == NULL)
    return;
  ir_json_prefix(j, key);
  ir_json_puts(j, value ? "true" : "false");
}

void ir_json_null(ir_json *j, const char *key) {
  if (j == NULL)
    return;
  ir_json_prefix(j, key);
  ir_json_puts(j, "null");
}

const char *ir_json_text(const ir_json *j) {
  return j != NULL && j->buf != NULL ? j->buf : "";
}

int ir_json_write(const ir_json *j, const char *path) {
  if (j == NULL || path == NULL)
    return ir_error(IR_EINVAL, "ir_json_write: NULL argument");
  if (j->oom)
    return ir_error(IR_ENOMEM,
                    "cannot write %s: ran out of memory building "
                    "the JSON document",
                    path);
  if (j->bad)
    return ir_error(IR_EINVAL, "cannot write %s: JSON builder misuse: %s", path,
                    j->err);
  if (j->depth > 0)
    return ir_error(IR_EINVAL,
                    "cannot write %s: JSON document incomplete "
                    "(%zu unclosed object/array)",
                    path, j->depth);
  if (j->ntop == 0)
    return ir_error(IR_EINVAL, "cannot write %s: empty JSON document", path);
  ir_atomic_file f;
  int s = ir_atomic_open(&f, path);
  if (s != IR_OK)
    return s;
  fwrite(j->buf, 1, j->len, f.fp);
  fputc('\n', f.fp);
  return ir_atomic_commit(&f);
}

/* ---- run environment ----------------------------------------------------- */

void ir_report_environment(ir_json *j) {
  if (j == NULL)
    return;
  char host[256];
  if (gethostname(host, sizeof host) != 0)
    strcpy(host, "unknown");
  host[sizeof host - 1] = '\0';

  char when[32] = "unknown";
  time_t now = time(NULL);
  struct tm tm;
  if (now != (time_t)-1 && gmtime_r(&now, &tm) != NULL)
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);

#ifdef __VERSION__
  const char *compiler = __VERSION__;
#else
  const char *compiler = "unknown";
#endif

  ir_json_begin_object(j, "environment");
  ir_json_string(j, "implreg_version", PACKAGE_VERSION);
  ir_json_string(j, "gsl_version", gsl_version);
  ir_json_string(j, "openblas_config", openblas_get_config());
  const char *ct = getenv("OPENBLAS_CORETYPE");
  if (ct)
    ir_json_string(j, "openblas_coretype", ct);
  else
    ir_json_null(j, "openblas_coretype");
  ir_json_int(j, "blas_threads", (long)openblas_get_num_threads());
  ir_json_string(j, "fftw_version", fftw_version);
  ir_json_string(j, "host", host);
  ir_json_string(j, "compiler", compiler);
  ir_json_string(j, "time_utc", when);
  ir_json_end_object(j);
}

double ir_wall_time(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
    return 0.0;
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- figures ------------------------------------------------------------- */

typedef struct {
  char *label, *style;
  double *x, *y;
  size_t m;
} ir_series;

typedef struct {
  double x;
  char *label;
} ir_vline;

struct ir_figure {
  char *name, *title, *xlabel, *ylabel;
  int logx, logy;
  char key[32]; /* gnuplot key position, e.g. "top right" */
  ir_series *s;
  size_t ns, cs;
  ir_vline *v;
  size_t nv, cv;
};

ir_figure *ir_figure_alloc(const char *name, const char *title,
                           const char *xlabel, const char *ylabel) {
  if (!ir_valid_name(name)) {
    ir_error(IR_EINVAL,
             "ir_figure_alloc: figure name '%s' is not a plain file base name "
             "(letters, digits, '_', '-', '.', '+')",
             name ? name : "(null)");
    return NULL;
  }
  ir_figure *f = calloc(1, sizeof *f);
  if (f != NULL)
    snprintf(f->key, sizeof f->key, "top right");
  if (f == NULL) {
    ir_error(IR_ENOMEM, "ir_figure_alloc: no memory for figure %s", name);
    return NULL;
  }
  f->name = ir_strdup0(name);
  f->title = ir_strdup0(title);
  f->xlabel = ir_strdup0(xlabel);
  f->ylabel = ir_strdup0(ylabel);
  if (!f->name || !f->title || !f->xlabel || !f->ylabel) {
    ir_figure_free(f);
    ir_error(IR_ENOMEM, "ir_figure_alloc: no memory for figure %s", name);
    return NULL;
  }
  return f;
}

void ir_figure_free(ir_figure *f) {
  if (f == NULL)
    return;
  for (size_t i = 0; i < f->ns; i++) {
    free(f->s[i].label);
    free(f->s[i].style);
    free(f->s[i].x);
  }
  free(f->s);
  for (size_t i = 0; i < f->nv; i++)
    free(f->v[i].label);
  free(f->v);
  free(f->name);
  free(f->title);
  free(f->xlabel);
  free(f->ylabel);
  free(f);
}

int ir_figure_set_log(ir_figure *f, int logx, int logy) {
  if (f == NULL)
    return ir_error(IR_EINVAL, "ir_figure_set_log: NULL figure");
  f->logx = logx != 0;
  f->logy = logy != 0;
  return IR_OK;
}

int ir_figure_set_key(ir_figure *f, const char *position) {
  static const char *const allowed[] = {
      "top right", "top left", "bottom right", "bottom left", "outside", "off"};
  if (f == NULL || position == NULL)
    return ir_error(IR_EINVAL, "ir_figure_set_key: NULL argument");
  for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
    if (strcmp(position, allowed[i]) == 0) {
      snprintf(f->key, sizeof f->key, "%s", position);
      return IR_OK;
    }
  return ir_error(IR_EINVAL, "ir_figure_set_key: unknown position '%s'",
                  position);
}

int ir_figure_add_series(ir_figure *f, const char *label, const double *x,
                         const double *y, size_t m, const char *style) {
  if (f == NULL || (m > 0 && (x == NULL || y == NULL)))
    return ir_error(IR_EINVAL, "ir_figure_add_series: NULL figure or data");
  if (style == NULL || style[0] == '\0')
    style = "lines";
  /* The style is pasted into the script after "with": refuse anything that
   * could end the command or open a string. */
  if (strpbrk(style, "\"'\\;#\n\r`") != NULL)
    return ir_error(IR_EINVAL,
                    "ir_figure_add_series: style '%s' of figure "
                    "%s is not a plain gnuplot style",
                    style, f->name);
  if (m > SIZE_MAX / (2 * sizeof(double)))
    return ir_error(IR_ENOMEM, "ir_figure_add_series: %zu points", m);
  ir_series *s = ir_grow(f->s, &f->cs, f->ns + 1, sizeof *s);
  if (s == NULL)
    return ir_error(IR_ENOMEM, "ir_figure_add_series: no memory (figure %s)",
                    f->name);
  f->s = s;
  ir_series *k = &s[f->ns];
  k->label = ir_strdup0(label);
  k->style = ir_strdup0(style);
  k->x = malloc((m > 0 ? 2 * m : 1) * sizeof(double));
  if (!k->label || !k->style || !k->x) {
    free(k->label);
    free(k->style);
    free(k->x);
    return ir_error(IR_ENOMEM,
                    "ir_figure_add_series: no memory for %zu "
                    "points (figure %s)",
                    m, f->name);
  }
  k->y = k->x + m;
  if (m > 0) {
    memcpy(k->x, x, m * sizeof(double));
    memcpy(k->y, y, m * sizeof(double));
  }
  k->m = m;
  f->ns++;
  return IR_OK;
}

int ir_figure_add_vline(ir_figure *f, double x, const char *label) {
  if (f == NULL)
    return ir_error(IR_EINVAL, "ir_figure_add_vline: NULL figure");
  ir_vline *v = ir_grow(f->v, &f->cv, f->nv + 1, sizeof *v);
  if (v == NULL)
    return ir_error(IR_ENOMEM, "ir_figure_add_vline: no memory (figure %s)",
                    f->name);
  f->v = v;
  v[f->nv].x = x;
  v[f->nv].label = ir_strdup0(label);
  if (v[f->nv].label == NULL)
    return ir_error(IR_ENOMEM, "ir_figure_add_vline: no memory (figure %s)",
                    f->name);
  f->nv++;
  return IR_OK;
}

/* Whether (x, y) can be drawn: finite, and positive on a log axis. */
static int ir_fig_keep(const ir_figure *f, double x, double y) {
  return isfinite(x) && isfinite(y) && (!f->logx || x > 0) &&
         (!f->logy || y > 0);
}

static size_t ir_fig_points(const ir_figure *f, const ir_series *s) {
  size_t n = 0;
  for (size_t i = 0; i < s->m; i++)
    n += ir_fig_keep(f, s->x[i], s->y[i]);
  return n;
}

/* A gnuplot double-quoted string: backslash and quote escaped, line breaks
 * as \n (which gnuplot turns back into line breaks). */
static void ir_gp_string(FILE *fp, const char *s) {
  fputc('"', fp);
  for (const char *p = s; *p; p++) {
    if (*p == '\n') {
      fputs("\\n", fp);
      continue;
    }
    if (*p == '\r')
      continue;
    if (*p == '"' || *p == '\\')
      fputc('\\', fp);
    fputc(*p, fp);
  }
  fputc('"', fp);
}

/* Series with no drawable point get no block: gnuplot's "index" would
 * otherwise have to count empty blocks, which it does not do reliably. */
static void ir_fig_dat(const ir_figure *f, FILE *fp) {
  char b[IR_NUMBUF];
  fprintf(fp,
          "# %s.dat: the data of %s.gp, one block per series, selected with\n"
          "# gnuplot's \"index\" (blocks are separated by two blank lines).\n",
          f->name, f->name);
  size_t block = 0;
  for (size_t i = 0; i < f->ns; i++) {
    const ir_series *s = &f->s[i];
    if (ir_fig_points(f, s) == 0)
      continue;
    if (block > 0)
      fputs("\n\n", fp);
    fprintf(fp, "# index %zu: ", block);
    ir_put_line_text(fp, s->label);
    fputs("\n# x y\n", fp);
    for (size_t k = 0; k < s->m; k++) {
      if (!ir_fig_keep(f, s->x[k], s->y[k]))
        continue;
      fputs(ir_num(b, IR_PREC_EXACT, s->x[k]), fp);
      fputc(' ', fp);
      fputs(ir_num(b, IR_PREC_EXACT, s->y[k]), fp);
      fputc('\n', fp);
    }
    block++;
  }
}

static void ir_fig_gp(const ir_figure *f, FILE *fp) {
  const char *n = f->name;
  char b[IR_NUMBUF];
  fprintf(fp,
          "# %s.gp: written by implreg.  Run it in its directory:\n"
          "#   gnuplot %s.gp\n"
          "# to render %s.png (pngcairo, or png when gnuplot has no cairo)\n"
          "# and %s.pdf (pdfcairo).  The variables ir_png and ir_pdf name\n"
          "# other outputs: implreg renders into temporary files and renames\n"
          "# them only when gnuplot succeeded, so no half-written image\n"
          "# appears.\n",
          n, n, n, n);
  fprintf(fp, "if (!exists(\"ir_png\")) ir_png = \"%s.png\"\n", n);
  fprintf(fp, "if (!exists(\"ir_pdf\")) ir_pdf = \"%s.pdf\"\n", n);
  fputs("set encoding utf8\n", fp);
  if (f->title[0] != '\0') {
    fputs("set title ", fp);
    ir_gp_string(fp, f->title);
    fputc('\n', fp);
  }
  fputs("set xlabel ", fp);
  ir_gp_string(fp, f->xlabel);
  fputs("\nset ylabel ", fp);
  ir_gp_string(fp, f->ylabel);
  if (strcmp(f->key, "off") == 0)
    fputs("\nset grid\nset key off\n", fp);
  else
    fprintf(fp, "\nset grid\nset key %s box opaque\n", f->key);
  if (f->logx)
    fputs("set logscale x 10\n", fp);
  if (f->logy)
    fputs("set logscale y 10\n", fp);
  for (size_t i = 0; i < f->nv; i++) {
    double x = f->v[i].x;
    if (!isfinite(x) || (f->logx && !(x > 0)))
      continue;
    const char *xs = ir_num(b, IR_PREC_EXACT, x);
    fprintf(fp,
            "set arrow from first %s, graph 0 to first %s, graph 1 nohead "
            "dashtype 2 linecolor rgb \"#505050\" front\n",
            xs, xs);
    if (f->v[i].label[0] != '\0') {
      fputs("set label ", fp);
      ir_gp_string(fp, f->v[i].label);
      fprintf(fp,
              " at first %s, graph 0.96 offset character 0.5, 0 left "
              "textcolor rgb \"#505050\" front\n",
              xs);
    }
  }

  /* The PNG terminal is chosen before the first plot: the default terminal
   * may be an interactive one that would open a window. */
  fputs("\nif (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
        "  set terminal pngcairo size 900,600 enhanced font \"sans,11\"\n"
        "} else {\n"
        "  set terminal png size 900,600 enhanced\n"
        "}\n"
        "set output ir_png\n",
        fp);
  size_t nplot = 0;
  for (size_t i = 0; i < f->ns; i++)
    nplot += ir_fig_points(f, &f->s[i]) > 0;
  if (nplot == 0) {
    /* Nothing drawable: gnuplot refuses to autoscale an empty plot, so fix
     * the ranges and say so on the canvas. */
    fprintf(fp, "set xrange [%s]\nset yrange [%s]\n", f->logx ? "1:10" : "0:1",
            f->logy ? "1:10" : "0:1");
    fputs("set label \"no finite data\" at graph 0.5, graph 0.5 center\n"
          "plot NaN notitle\n",
          fp);
  } else {
    fputs("plot ", fp);
    size_t block = 0;
    for (size_t i = 0; i < f->ns; i++) {
      const ir_series *s = &f->s[i];
      if (ir_fig_points(f, s) == 0)
        continue;
      if (block > 0)
        fputs(", \\\n     ", fp);
      fprintf(fp, "\"%s.dat\" index %zu using 1:2 with %s ", n, block,
              s->style);
      if (s->label[0] != '\0') {
        fputs("title ", fp);
        ir_gp_string(fp, s->label);
      } else {
        fputs("notitle", fp);
      }
      block++;
    }
    fputc('\n', fp);
  }
  /* Closing the output finishes the file; the PDF replays the same plot. */
  fputs("unset output\n"
        "if (strstrt(GPVAL_TERMINALS, \"pdfcairo\") > 0) {\n"
        "  set terminal pdfcairo size 6in,4in enhanced font \"sans,10\"\n"
        "  set output ir_pdf\n"
        "  replot\n"
        "  unset output\n"
        "} else {\n",
        fp);
  fprintf(fp,
          "  print \"%s.gp: this gnuplot has no pdfcairo terminal, no "
          "PDF made\"\n}\n",
          n);
}

/* Creates an empty, uniquely named "<dir>/<name>.<ext>.tmp.XXXXXX" for
 * gnuplot to fill; returns the malloc'ed path or NULL (status in *s). */
static char *ir_fig_tmp(const ir_figure *f, const char *dir, const char *ext,
                        int *s) {
  char *base = ir_join(dir, f->name, ext);
  char *p = base ? malloc(strlen(base) + 12) : NULL;
  if (p == NULL) {
    free(base);
    *s = ir_error(IR_ENOMEM, "no memory for the paths of figure %s", f->name);
    return NULL;
  }
  sprintf(p, "%s.tmp.XXXXXX", base);
  free(base);
  int fd = mkstemp(p);
  if (fd < 0) {
    int e = errno;
    *s = ir_error(IR_EIO, "cannot create a temporary file for %s: %s", p,
                  strerror(e));
    free(p);
    return NULL;
  }
  /* mkstemp creates mode 0600; gnuplot keeps the mode when it truncates
   * the file, and images are meant to be shared like every other output. */
  mode_t um = umask(0);
  umask(um);
  fchmod(fd, 0666 & ~um);
  close(fd);
  *s = IR_OK;
  return p;
}

/* Whether an executable file `prog` is in a directory of $PATH (execvp's
 * search; with PATH unset, glibc's default /bin:/usr/bin).  Looking first
 * spares a fork when gnuplot is absent, the common case on servers. */
static int ir_on_path(const char *prog) {
  const char *path = getenv("PATH");
  if (path == NULL)
    path = "/bin:/usr/bin";
  size_t lp = strlen(prog);
  char *buf = malloc(strlen(path) + lp + 3);
  if (buf == NULL)
    return 1; /* cannot tell: let execvp decide */
  int found = 0;
  for (const char *d = path; !found;) {
    const char *e = strchr(d, ':');
    size_t n = e ? (size_t)(e - d) : strlen(d);
    /* An empty entry means the current directory. */
    if (n == 0) {
      buf[0] = '.';
      n = 1;
    } else {
      memcpy(buf, d, n);
    }
    buf[n] = '/';
    memcpy(buf + n + 1, prog, lp + 1);
    struct stat st;
    found =
        stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0;
    if (e == NULL)
      break;
    d = e + 1;
  }
  free(buf);
  return found;
}

/* How the child reports a failure before gnuplot runs: which step failed
 * and errno. */
enum { IR_CHILD_CHDIR = 1, IR_CHILD_EXEC = 2 };

/* Runs `gnuplot -e "ir_png='...'; ir_pdf='...'" name.gp` in dir with all
 * standard streams on /dev/null.  *found is 0 when gnuplot could not be
 * executed at all. */
static int ir_run_gnuplot(const char *dir, const char *gp, const char *png,
                          const char *pdf, int *found) {
  *found = 1;
  size_t len = strlen(png) + strlen(pdf) + 32;
  char *vars = malloc(len);
  if (vars == NULL)
    return ir_error(IR_ENOMEM, "no memory to run gnuplot");
  snprintf(vars, len, "ir_png='%s'; ir_pdf='%s'", png, pdf);
  char *argv[] = {"gnuplot", "-e", vars, (char *)gp, NULL};

  /* A close-on-exec pipe tells the parent whether exec succeeded: it is
   * closed unread on success and carries the error otherwise. */
  int pfd[2];
  if (pipe(pfd) != 0) {
    int e = errno;
    free(vars);
    return ir_error(IR_EIO, "cannot run gnuplot: pipe: %s", strerror(e));
  }
  fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
  fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(pfd[0]);
    close(pfd[1]);
    free(vars);
    return ir_error(IR_EIO, "cannot run gnuplot: fork: %s", strerror(e));
  }
  if (pid == 0) {
    /* Child: only async-signal-safe calls until exec. */
    int report[2];
    close(pfd[0]);
    int nul = open("/dev/null", O_RDWR);
    if (nul >= 0) {
      dup2(nul, 0);
      dup2(nul, 1);
      dup2(nul, 2);
      if (nul > 2)
        close(nul);
    }
    report[0] = IR_CHILD_CHDIR;
    if (chdir(dir) == 0) {
      execvp("gnuplot", argv);
      report[0] = IR_CHILD_EXEC;
    }
    report[1] = errno;
    ssize_t w = write(pfd[1], report, sizeof report);
    (void)w;
    _exit(127);
  }
  close(pfd[1]);
  int report[2] = {0, 0};
  ssize_t got;
  do
    got = read(pfd[0], report, sizeof report);
  while (got < 0 && errno == EINTR);
  close(pfd[0]);
  int wst = 0;
  pid_t r;
  do
    r = waitpid(pid, &wst, 0);
  while (r < 0 && errno == EINTR);
  free(vars);
  if (got == (ssize_t)sizeof report) {
    if (report[0] == IR_CHILD_EXEC) {
      *found = 0;
      return IR_OK;
    }
    return ir_error(IR_EIO, "cannot run gnuplot in %s: %s", dir,
                    strerror(report[1]));
  }
  if (r < 0) {
    int e = errno;
    return ir_error(IR_EIO, "cannot wait for gnuplot: %s", strerror(e));
  }
  if (WIFEXITED(wst) && WEXITSTATUS(wst) == 0)
    return IR_OK;
  if (WIFEXITED(wst))
    return ir_error(IR_EIO,
                    "gnuplot failed on %s/%s (exit status %d); run "
                    "`cd %s && gnuplot %s` to see why",
                    dir, gp, WEXITSTATUS(wst), dir, gp);
  return ir_error(IR_EIO, "gnuplot was killed by signal %d on %s/%s",
                  WIFSIGNALED(wst) ? WTERMSIG(wst) : 0, dir, gp);
}

/* Size of the file at path, or -1. */
static long long ir_file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static int ir_fig_render(const ir_figure *f, const char *dir, int *rendered) {
  if (!ir_on_path("gnuplot"))
    return IR_OK;
  int s;
  char *png_tmp = ir_fig_tmp(f, dir, "png", &s);
  if (png_tmp == NULL)
    return s;
  char *pdf_tmp = ir_fig_tmp(f, dir, "pdf", &s);
  if (pdf_tmp == NULL) {
    unlink(png_tmp);
    free(png_tmp);
    return s;
  }
  char *gp = malloc(strlen(f->name) + 4);
  char *png = ir_join(dir, f->name, "png");
  char *pdf = ir_join(dir, f->name, "pdf");
  int found = 0;
  if (gp == NULL || png == NULL || pdf == NULL) {
    s = ir_error(IR_ENOMEM, "no memory to render figure %s", f->name);
  } else {
    sprintf(gp, "%s.gp", f->name);
    /* gnuplot runs inside dir, so it gets the base names. */
    const char *png_base = strrchr(png_tmp, '/');
    const char *pdf_base = strrchr(pdf_tmp, '/');
    png_base = png_base ? png_base + 1 : png_tmp;
    pdf_base = pdf_base ? pdf_base + 1 : pdf_tmp;
    s = ir_run_gnuplot(dir, gp, png_base, pdf_base, &found);
  }
  int png_done = 0, pdf_done = 0;
  if (s == IR_OK && found) {
    if (ir_file_size(png_tmp) <= 0)
      s = ir_error(IR_EIO, "gnuplot made no image from %s/%s", dir, gp);
    else if (rename(png_tmp, png) != 0)
      s = ir_error(IR_EIO, "cannot rename onto %s: %s", png, strerror(errno));
    else
      png_done = 1;
    /* An empty PDF means this gnuplot lacks pdfcairo (the script says so);
     * the PNG alone still counts as rendered. */
    if (s == IR_OK && ir_file_size(pdf_tmp) > 0) {
      if (rename(pdf_tmp, pdf) != 0)
        s = ir_error(IR_EIO, "cannot rename onto %s: %s", pdf, strerror(errno));
      else
        pdf_done = 1;
    }
    if (s == IR_OK)
      *rendered = 1;
  }
  /* Whatever remains under a temporary name is removed. */
  if (!png_done)
    unlink(png_tmp);
  if (!pdf_done)
    unlink(pdf_tmp);
  free(png_tmp);
  free(pdf_tmp);
  free(gp);
  free(png);
  free(pdf);
  return s;
}

typedef void (*ir_fig_writer)(const ir_figure *f, FILE *fp);

static int ir_fig_write_file(const ir_figure *f, const char *dir,
                             const char *ext, ir_fig_writer w) {
  char *path = ir_join(dir, f->name, ext);
  if (path == NULL)
    return ir_error(IR_ENOMEM, "no memory for the path of %s.%s", f->name, ext);
  ir_atomic_file a;
  int s = ir_atomic_open(&a, path);
  if (s == IR_OK) {
    w(f, a.fp);
    s = ir_atomic_commit(&a);
  }
  free(path);
  return s;
}

int ir_figure_write(const ir_figure *f, const char *dir, int render,
                    int *rendered) {
  if (rendered != NULL)
    *rendered = 0;
  if (f == NULL || dir == NULL)
    return ir_error(IR_EINVAL, "ir_figure_write: NULL argument");
  int s = ir_fig_write_file(f, dir, "dat", ir_fig_dat);
  if (s == IR_OK)
    s = ir_fig_write_file(f, dir, "gp", ir_fig_gp);
  if (s == IR_OK && render) {
    int done = 0;
    s = ir_fig_render(f, dir, &done);
    if (rendered != NULL)
      *rendered = done;
  }
  return s;
}
