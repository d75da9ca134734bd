/* report_table.c — result tables: cells, and their CSV, Markdown, LaTeX,
 * JSON and terminal renderings.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "implreg/report.h"

#include "atomic.h"
#include "implreg/status.h"
#include "report_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- tables -------------------------------------------------------------- */

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
  t->paper_rows = IR_TEX_ROWS;
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
    free(t->cols[c].tex);
  }
  free(t->paper);
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
  k->tex = NULL;
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

const char *ir_type_name(int type) {
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
const ir_cell *ir_cell_at(const ir_table *t, size_t row, size_t col) {
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

int ir_is_numeric(int type) {
  return type != IR_COL_STRING;
}
/* -- CSV (RFC 4180) -- */

void ir_table_csv(const ir_table *t, FILE *fp) {
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

void ir_table_md(const ir_table *t, FILE *fp) {
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


int ir_write_with(const ir_table *t, const char *dir, const char *ext,
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

int ir_write_json_doc(ir_json *j, const char *dir, const char *base) {
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
    s = ir_table_write_tex(t, dir, NULL);
  if (s == IR_OK && (formats & IR_FMT_JSON))
    s = ir_write_json_doc(ir_table_json(t), dir, t->name);
  return s;
}

/* -- terminal -- */

/* Caption, notes, then the columns aligned under their headers with a
 * dashed rule, numbers with prec digits; numbers are right-aligned, strings
 * too unless left_strings. */
int ir_table_fprint(const ir_table *t, FILE *fp, int prec,
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
