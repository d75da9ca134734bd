/* data_csv.c — CSV matrix files.  See implreg/data.h. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "implreg/data.h"

#include "data_internal.h"
#include "atomic.h"
#include "implreg/status.h"

#include <errno.h>
#include <float.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================== */
/* CSV                                                                       */
/* ======================================================================== */

/* Field and line padding that the reader ignores: spaces, tabs and the '\r'
 * of CRLF line ends. */
static inline int ir_csv_pad(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

/* Parses the number at p (before le, p not at padding); returns its end and
 * sets *v to the value strtod gives, or NULL when no number starts at p.
 * The end is checked against le because strtod skips leading white space
 * such as '\v' and '\n' and could otherwise read the next line. */
static inline const char *ir_csv_scan(const char *p, const char *le,
                                      double *v) {
  if (p == le)
    return NULL;
  char *e;
  *v = strtod(p, &e);
  if (e == p || e > le)
    return NULL;
  /* strtod also reads C99 hexadecimal floats ("0x1p3"); data files hold
   * decimal numbers, so those are refused like any other text. */
  if (memchr(p, 'x', (size_t)(e - p)) || memchr(p, 'X', (size_t)(e - p)))
    return NULL;
  return e;
}

/* 1 when the trimmed, non-empty cell [s, e) is exactly one number. */
static inline int ir_csv_number(const char *s, const char *e, double *v) {
  return ir_csv_scan(s, e, v) == e;
}

/* Trims padding from both ends of [*s, *e). */
static inline void ir_csv_trim(const char **s, const char **e) {
  while (*s < *e && ir_csv_pad(**s))
    (*s)++;
  while (*e > *s && ir_csv_pad((*e)[-1]))
    (*e)--;
}

/* True when every field of the line [ls, le) is empty or a number, i.e. the
 * line is data rather than a header.  Empty fields do not make a header
 * (they are reported as empty cells later); NaN and Inf count as numbers
 * (they are reported as bad data later). */
static int ir_csv_numeric_line(const char *ls, const char *le) {
  const char *fs = ls;
  for (;;) {
    const char *fe = memchr(fs, ',', (size_t)(le - fs));
    const char *next = fe;
    if (fe == NULL)
      fe = le;
    const char *a = fs, *b = fe;
    ir_csv_trim(&a, &b);
    double v;
    if (a < b && !ir_csv_number(a, b, &v))
      return 0;
    if (next == NULL)
      return 1;
    fs = next + 1;
  }
}

/* Quotes at most IR_CELL_QUOTE_MAX bytes of a cell in a message. */
static int ir_quote_len(const char *a, const char *b) {
  size_t n = (size_t)(b - a);
  return (int)(n > IR_CELL_QUOTE_MAX ? IR_CELL_QUOTE_MAX : n);
}

/* Number of comma-separated fields of the line [ls, le). */
static size_t ir_csv_count_fields(const char *ls, const char *le) {
  size_t nf = 1;
  for (const char *q = ls; (q = memchr(q, ',', (size_t)(le - q))) != NULL; q++)
    nf++;
  return nf;
}

/* The error for a row of nf fields where ncols are expected; the column is
 * the first extra field, or the first missing one. */
static int ir_csv_ragged(const char *path, size_t lineno, size_t nf,
                         size_t ncols, size_t first_line, size_t header_line) {
  return ir_error(
      IR_EFORMAT,
      "%s:%zu:%zu: row has %zu fields, expected %zu (as on line %zu%s); "
      "every row needs the same number of comma-separated values",
      path, lineno, (nf > ncols ? ncols : nf) + 1, nf, ncols, first_line,
      header_line != 0 ? ", the header" : "");
}

/* Parses a CSV buffer (NUL-terminated, len bytes).  Line numbers count every
 * physical line from 1; column numbers are 1-based field (matrix column)
 * indices.  Values are appended row after row to a buffer that doubles when
 * full, so the cost is linear in the file size.  Errors are reported for
 * the first bad cell from the left, so "1,x" with 3 expected fields reports
 * the non-numeric cell rather than the missing one. */
static int ir_csv_parse(const char *path, const char *buf, size_t len,
                        gsl_matrix **out) {
  const char *p = buf, *end = buf + len;
  if (len >= 6 && memcmp(buf, "\x93NUMPY", 6) == 0)
    return ir_error(IR_EFORMAT,
                    "%s: this is a NumPy .npy file, not CSV; give it the "
                    "extension .npy",
                    path);
  /* A UTF-8 byte-order mark (spreadsheet exports) is not part of the data. */
  if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
    p += 3;

  size_t lineno = 0, ncols = 0, first_line = 0, header_line = 0;
  int have_first = 0;
  double *vals = NULL;
  size_t nvals = 0, cap = 0;
  int status = IR_OK;

  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *ls = p, *le = nl != NULL ? nl : end;
    p = nl != NULL ? nl + 1 : end;
    lineno++;
    ir_csv_trim(&ls, &le);
    if (ls == le)
      continue; /* blank line */

    if (!have_first) {
      have_first = 1;
      ncols = ir_csv_count_fields(ls, le);
      first_line = lineno;
      if (!ir_csv_numeric_line(ls, le)) {
        header_line = lineno;
        continue;
      }
    }

    if (cap - nvals < ncols) {
      size_t ncap = cap == 0 ? (ncols > 4096 ? ncols : 4096) : cap;
      while (ncap - nvals < ncols) {
        if (ncap > SIZE_MAX / 2 / sizeof(double)) {
          status = ir_error(IR_ENOMEM, "%s: too many values to hold in memory",
                            path);
          goto done;
        }
        ncap *= 2;
      }
      double *nv = realloc(vals, ncap * sizeof *nv);
      if (nv == NULL) {
        status = ir_error(IR_ENOMEM, "%s:%zu: out of memory (%zu values)", path,
                          lineno, ncap);
        goto done;
      }
      vals = nv;
      cap = ncap;
    }

    /* One pass over the line: a number, optional padding, then ',' or the
     * end of the line.  Anything else is classified (empty, non-numeric)
     * only when it happens. */
    const char *q = ls;
    size_t col = 1;
    for (;; col++) {
      if (col > ncols) {
        status = ir_csv_ragged(path, lineno, ir_csv_count_fields(ls, le), ncols,
                               first_line, header_line);
        goto done;
      }
      while (q < le && ir_csv_pad(*q))
        q++;
      double v;
      const char *ne = ir_csv_scan(q, le, &v);
      const char *after = ne;
      if (after != NULL)
        while (after < le && ir_csv_pad(*after))
          after++;
      if (ne == NULL || (after < le && *after != ',')) {
        const char *b = memchr(q, ',', (size_t)(le - q));
        if (b == NULL)
          b = le;
        ir_csv_trim(&q, &b);
        if (q == b)
          status = ir_error(IR_EFORMAT,
                            "%s:%zu:%zu: empty cell; every cell needs a number",
                            path, lineno, col);
        else
          status = ir_error(
              IR_EFORMAT,
              "%s:%zu:%zu: non-numeric cell '%.*s%s'; expected a decimal "
              "number such as -1.5e-3",
              path, lineno, col, ir_quote_len(q, b), q,
              (size_t)(b - q) > (size_t)ir_quote_len(q, b) ? "..." : "");
        goto done;
      }
      if (!isfinite(v)) {
        status = ir_error(IR_EBADDATA,
                          "%s:%zu:%zu: non-finite value '%.*s' (%s); the data "
                          "must be finite, so remove or impute missing values",
                          path, lineno, col, ir_quote_len(q, ne), q,
                          ir_nonfinite_name(v));
        goto done;
      }
      vals[nvals++] = v;
      if (after == le)
        break;
      q = after + 1;
    }
    if (col < ncols) {
      status = ir_csv_ragged(path, lineno, col, ncols, first_line, header_line);
      goto done;
    }
  }

  if (!have_first) {
    status =
        ir_error(IR_EFORMAT, "%s: empty file, expected a CSV matrix", path);
    goto done;
  }
  if (nvals == 0) {
    status = ir_error(IR_EFORMAT,
                      "%s:%zu: header line but no data rows; expected rows of "
                      "numbers after the header",
                      path, header_line);
    goto done;
  }
  gsl_matrix *m;
  status = ir_data_mat_new(nvals / ncols, ncols, 0, &m);
  if (status != IR_OK) {
    ir_error_context(status, "%s", path);
    goto done;
  }
  /* A freshly allocated matrix is contiguous (tda == size2). */
  memcpy(m->data, vals, nvals * sizeof *vals);
  *out = m;
done:
  free(vals);
  return status;
}

int ir_data_read_csv(const char *path, gsl_matrix **out) {
  if (out != NULL)
    *out = NULL;
  if (path == NULL || out == NULL)
    return ir_error(IR_EINVAL, "ir_data_read_csv: path and out must not be "
                               "NULL");
  char *buf;
  size_t len;
  int s = ir_data_read_all(path, &buf, &len);
  if (s != IR_OK)
    return s;
  s = ir_csv_parse(path, buf, len, out);
  free(buf);
  return s;
}

/* Writes one value so that strtod gives back the same double: %.17g for
 * finite values (17 significant digits identify every binary64 number);
 * "nan", "inf", "-inf" otherwise (glibc would print "-nan" for a NaN with
 * the sign bit set). */
static void ir_csv_put(FILE *fp, double x) {
  if (isfinite(x))
    fprintf(fp, "%.17g", x);
  else if (isnan(x))
    fputs("nan", fp);
  else
    fputs(x > 0 ? "inf" : "-inf", fp);
}

/* Non-finite entries are written ("nan", "inf") rather than refused, so that
 * a result matrix with a diverged entry is still saved; the readers of this
 * module reject such files, as documented in data.h. */
int ir_data_write_csv(const char *path, const gsl_matrix *m,
                      const char *header) {
  if (path == NULL || m == NULL)
    return ir_error(IR_EINVAL, "ir_data_write_csv: path and matrix must not "
                               "be NULL");
  if (header != NULL) {
    if (strpbrk(header, "\r\n") != NULL)
      return ir_error(IR_EINVAL,
                      "cannot write %s: the header contains a "
                      "line break; it must be a single line",
                      path);
    const char *ls = header, *le = header + strlen(header);
    ir_csv_trim(&ls, &le);
    /* A header that reads as numbers would come back as a data row. */
    if (ir_csv_numeric_line(ls, le))
      return ir_error(IR_EINVAL,
                      "cannot write %s: the header '%.*s' has no non-numeric "
                      "field, so readers would take it for data; use column "
                      "names",
                      path, ir_quote_len(header, header + strlen(header)),
                      header);
  }
  ir_atomic_file f;
  int s = ir_atomic_open(&f, path);
  if (s != IR_OK)
    return s;
  if (header != NULL) {
    fputs(header, f.fp);
    fputc('\n', f.fp);
  }
  for (size_t i = 0; i < m->size1; i++) {
    const double *row = ir_crow(m, i);
    for (size_t j = 0; j < m->size2; j++) {
      if (j > 0)
        fputc(',', f.fp);
      ir_csv_put(f.fp, row[j]);
    }
    fputc('\n', f.fp);
  }
  return ir_atomic_commit(&f);
}
