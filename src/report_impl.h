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

/* ---- report_table.c: the writers the checks reuse ------------------------- */

IR_INTERNAL void ir_table_csv(const ir_table *t, FILE *fp);
IR_INTERNAL void ir_table_md(const ir_table *t, FILE *fp);
IR_INTERNAL void ir_table_tex(const ir_table *t, FILE *fp);
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

#endif
