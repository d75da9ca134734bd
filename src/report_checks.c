/* report_checks.c — the theory checks: one PASS/FAIL row per claim, written
 * through the table writers.
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
  /* Every check in the paper; each row is another quantity, so numbers
   * are right-aligned rather than aligned on the decimal point. */
  if (s == IR_OK && (s = ir_table_set_paper_rows(t, 0)) == IR_OK) {
    t->tex_rnum = 1;
    s = ir_table_write_tex(t, dir, NULL);
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
