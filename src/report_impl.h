/* report_impl.h (private) — what the report module's files share.
 *
 * The module is one file per concern: report_format.c (the format list and
 * the text helpers below), report_table.c (tables and their renderings),
 * report_checks.c (theory checks, written through the table writers),
 * report_json.c (the JSON builder), report_env.c (the run's environment)
 * and report_figure.c (gnuplot figures).  Nothing here is public API: the
 * functions are hidden from the shared library's symbol table.
 */
#ifndef IMPLREG_REPORT_IMPL_H
#define IMPLREG_REPORT_IMPL_H

#include "implreg/report.h"

#include <stddef.h>
#include <stdio.h>

#if defined(__GNUC__)
#define IR_INTERNAL __attribute__((visibility("hidden")))
#else
#define IR_INTERNAL
/* ---- report_tex.c: the paper's LaTeX ------------------------------------- */

/* Writes dir/<name>.tex (or dir/<base>.tex when base is not NULL): the table
 * as a booktabs float or longtable labelled tab:<folder>-<name>, where
 * <folder> is dir's last component. */
IR_INTERNAL int ir_table_write_tex(const ir_table *t, const char *dir,
                                   const char *base);

#endif

/* Significant digits: %.17g round-trips a double exactly (CSV, JSON, .dat);
 * papers get 4 digits, the terminal 6. */
enum { IR_PREC_EXACT = 17, IR_PREC_PAPER = 4, IR_PREC_TERM = 6 };

/* Room for any %.17g number, sign and exponent included. */
enum { IR_NUMBUF = 64 };

/* ---- report_format.c: small helpers -------------------------------------- */

/* A malloc'ed copy of s ("" for NULL); NULL on no memory. */
IR_INTERNAL char *ir_strdup0(const char *s);
/* Grows an array of `size`-byte elements to hold at least `need` of them;
 * returns the (possibly moved) array, or NULL with p and *cap unchanged. */
IR_INTERNAL void *ir_grow(void *p, size_t *cap, size_t need, size_t size);
/* A file base name: [A-Za-z0-9._+-], not starting with '.'. */
IR_INTERNAL int ir_valid_name(const char *s);
/* "dir/base.ext" (ext may be NULL), malloc'ed; NULL on no memory. */
IR_INTERNAL char *ir_join(const char *dir, const char *base, const char *ext);
/* v with prec significant digits into buf (IR_NUMBUF bytes), or the
 * literals inf/-inf/nan. */
IR_INTERNAL const char *ir_num(char *buf, int prec, double v);
IR_INTERNAL size_t ir_utf8_width(const char *s);
IR_INTERNAL void ir_pad(FILE *fp, size_t n);
IR_INTERNAL void ir_put_line_text(FILE *fp, const char *s);
/* IR_EIO when fp has seen a write error. */
IR_INTERNAL int ir_stream_status(FILE *fp, const char *what);

/* Escaping: s followed by suffix as one RFC 4180 field; s as literal
 * Markdown text; s as literal LaTeX text; v as LaTeX math (no dollars). */
IR_INTERNAL void ir_csv_field(FILE *fp, const char *s, const char *suffix);
IR_INTERNAL void ir_md_text(FILE *fp, const char *s);
IR_INTERNAL void ir_tex_text(FILE *fp, const char *s);
IR_INTERNAL void ir_tex_num(FILE *fp, double v);

/* ---- report_table.c: the table and the writers the checks reuse ---------- */

/* Rows a .tex shows by default: a table float of this many rows fits a page. */
enum { IR_TEX_ROWS = 30 };

typedef struct {
  char *name;
  int type;
  char *desc; /* NULL when none was given */
  char *tex;  /* LaTeX header (raw); NULL: the escaped name */
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
  int *paper;        /* the columns the .tex shows, in order; NULL: all */
  size_t npaper;
  size_t paper_rows; /* at most this many rows in the .tex; 0: all */
  int tex_rnum;      /* numbers right-aligned in math, not S columns */
};

/* The cell (r, c), or NULL when empty. */
IR_INTERNAL const ir_cell *ir_cell_at(const ir_table *t, size_t row, size_t col);
IR_INTERNAL int ir_is_numeric(int type);
IR_INTERNAL const char *ir_type_name(int type);

IR_INTERNAL void ir_table_csv(const ir_table *t, FILE *fp);
IR_INTERNAL void ir_table_md(const ir_table *t, FILE *fp);
/* Writes dir/<table name>.ext with w, atomically. */
typedef void (*ir_writer)(const ir_table *t, FILE *fp);
IR_INTERNAL int ir_write_with(const ir_table *t, const char *dir,
                              const char *ext, ir_writer w);
/* Writes j to dir/base.json and frees j (a NULL j is IR_ENOMEM). */
IR_INTERNAL int ir_write_json_doc(ir_json *j, const char *dir,
                                  const char *base);
/* The aligned terminal table with prec digits; strings left-aligned when
 * left_strings. */
IR_INTERNAL int ir_table_fprint(const ir_table *t, FILE *fp, int prec,
                                int left_strings);

/* ---- report_tex.c: the paper's LaTeX ------------------------------------- */

/* Writes dir/<name>.tex (or dir/<base>.tex when base is not NULL): the table
 * as a booktabs float or longtable labelled tab:<folder>-<name>, where
 * <folder> is dir's last component. */
IR_INTERNAL int ir_table_write_tex(const ir_table *t, const char *dir,
                                   const char *base);

#endif
