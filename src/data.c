/* data.c — data sets, matrix files (CSV, NPY, IDX), Fashion-MNIST, the
 * linear-teacher generator and data transforms.  See implreg/data.h.
 *
 * References: the .npy format is NumPy Enhancement Proposal 1 ("A simple
 * file format for NumPy arrays", numpy/lib/format.py); IDX is described on
 * Y. LeCun's MNIST page; the random subsets are the first steps of the
 * Fisher–Yates shuffle (Knuth, TAOCP vol. 2, 3rd ed., Algorithm 3.4.2P).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "implreg/data.h"

#include "atomic.h"
#include "implreg/status.h"

#include <errno.h>
#include <float.h>
#include <gsl/gsl_randist.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#ifndef IR_FASHION_MNIST_DIR
#define IR_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"
#endif

/* The first CSV or NPY bytes quoted in a message are cut to this length so
 * that a binary file cannot flood the one-line message. */
#define IR_CELL_QUOTE_MAX 40

/* Size of the zlib input buffer (its default, 8 KiB, makes gzread slower on
 * the 26 MB Fashion-MNIST image file). */
#define IR_GZ_BUFFER (128u * 1024u)

/* Bytes converted per step when IDX data become doubles. */
#define IR_IDX_CHUNK ((size_t)1 << 16)

/* gzread takes an unsigned int length and returns an int: read in pieces
 * that fit both. */
#define IR_GZ_PIECE ((size_t)1 << 30)

/* Fashion-MNIST has ten classes (T-shirt/top, ..., ankle boot). */
#define IR_FMNIST_CLASSES 10

/* The .npy data start at a multiple of this many bytes (numpy's
 * ARRAY_ALIGN), so that the data can be memory-mapped with any alignment. */
#define IR_NPY_ALIGN 64

/* ======================================================================== */
/* Small helpers                                                             */
/* ======================================================================== */

/* Allocates a rows×cols matrix (zeroed when zero != 0).  GSL cannot represent
 * empty matrices, so both sizes must be at least 1. */
static int ir_mat_new(size_t rows, size_t cols, int zero, gsl_matrix **out) {
  *out = NULL;
  if (rows == 0 || cols == 0)
    return ir_error(IR_EINVAL,
                    "cannot allocate a %zux%zu matrix: both sizes must be at "
                    "least 1",
                    rows, cols);
  if (cols > SIZE_MAX / sizeof(double) / rows)
    return ir_error(IR_ENOMEM,
                    "a %zux%zu matrix of doubles does not fit in "
                    "the address space",
                    rows, cols);
  gsl_matrix *m =
      zero ? gsl_matrix_calloc(rows, cols) : gsl_matrix_alloc(rows, cols);
  if (m == NULL)
    return ir_error(IR_ENOMEM,
                    "out of memory allocating a %zux%zu matrix "
                    "(%.3g MB)",
                    rows, cols, (double)rows * (double)cols * 8.0 / 1e6);
  *out = m;
  return IR_OK;
}

/* Pointer to row i of m (rows are contiguous; consecutive rows are tda
 * doubles apart). */
static inline double *ir_row(gsl_matrix *m, size_t i) {
  return m->data + i * m->tda;
}

static inline const double *ir_crow(const gsl_matrix *m, size_t i) {
  return m->data + i * m->tda;
}

/* A uniform integer in [0, n) from r; n must not exceed the generator's
 * range (checked by ir_check_range). */
static inline size_t ir_uniform_index(gsl_rng *r, size_t n) {
  return (size_t)gsl_rng_uniform_int(r, (unsigned long)n);
}

/* gsl_rng_uniform_int(r, n) needs n <= max − min + 1 (2^32 for MT19937). */
static int ir_check_range(const gsl_rng *r, size_t n, const char *what) {
  unsigned long span = gsl_rng_max(r) - gsl_rng_min(r);
  if (n == 0 || (n - 1) > span)
    return ir_error(IR_EINVAL,
                    "%s: cannot draw uniformly among %zu items with generator "
                    "%s (range %lu); use a 32-bit or wider generator",
                    what, n, gsl_rng_name(r), span);
  return IR_OK;
}

/* Fills perm[0..N) with 0..N−1, then moves a uniformly random ordered sample
 * of m distinct indices into perm[0..m): the first m steps of the
 * Fisher–Yates shuffle, where step k swaps perm[k] with perm[j], j uniform
 * in [k, N).  Every ordered m-subset is equally likely.  Draws exactly m
 * numbers from r.  Cost O(N + m). */
static void ir_partial_shuffle(gsl_rng *r, size_t *perm, size_t N, size_t m) {
  for (size_t i = 0; i < N; i++)
    perm[i] = i;
  for (size_t k = 0; k < m; k++) {
    size_t j = k + ir_uniform_index(r, N - k);
    size_t t = perm[k];
    perm[k] = perm[j];
    perm[j] = t;
  }
}

/* Describes a non-finite value for messages. */
static const char *ir_nonfinite_name(double x) {
  if (isnan(x))
    return "NaN";
  return x > 0 ? "+Inf" : "-Inf";
}

/* Reads a whole file into a NUL-terminated buffer owned by the caller
 * (*len excludes the NUL).  Regular files are read with one allocation of
 * the right size; pipes and other streams grow the buffer geometrically. */
static int ir_read_all(const char *path, char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  FILE *fp = fopen(path, "rb");
  if (fp == NULL) {
    int e = errno;
    return ir_error(IR_EIO, "cannot open %s: %s", path, strerror(e));
  }
  struct stat st;
  if (fstat(fileno(fp), &st) != 0) {
    int e = errno;
    fclose(fp);
    return ir_error(IR_EIO, "cannot read %s: %s", path, strerror(e));
  }
  if (S_ISDIR(st.st_mode)) {
    fclose(fp);
    return ir_error(IR_EIO,
                    "cannot read %s: it is a directory; expected a "
                    "file",
                    path);
  }
  size_t cap = 65536;
  if (S_ISREG(st.st_mode) && st.st_size > 0 &&
      (uintmax_t)st.st_size < (uintmax_t)SIZE_MAX - 1)
    cap = (size_t)st.st_size + 1;
  char *buf = malloc(cap);
  if (buf == NULL) {
    fclose(fp);
    return ir_error(IR_ENOMEM, "out of memory reading %s (%zu bytes)", path,
                    cap);
  }
  size_t n = 0;
  for (;;) {
    size_t want = cap - 1 - n;
    size_t got = fread(buf + n, 1, want, fp);
    n += got;
    if (got < want)
      break;
    /* The buffer is full: probe for one more byte before growing it, so that
     * a regular file of known size needs no reallocation. */
    int c = fgetc(fp);
    if (c == EOF)
      break;
    if (cap > SIZE_MAX / 2) {
      free(buf);
      fclose(fp);
      return ir_error(IR_ENOMEM, "%s is too large to read into memory", path);
    }
    char *nb = realloc(buf, cap * 2);
    if (nb == NULL) {
      free(buf);
      fclose(fp);
      return ir_error(IR_ENOMEM, "out of memory reading %s (%zu bytes)", path,
                      cap * 2);
    }
    buf = nb;
    cap *= 2;
    buf[n++] = (char)c;
  }
  if (ferror(fp)) {
    int e = errno;
    free(buf);
    fclose(fp);
    return ir_error(IR_EIO, "read error on %s: %s", path, strerror(e));
  }
  fclose(fp);
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return IR_OK;
}

/* True when path ends in ".npy" (any letter case). */
static int ir_is_npy_name(const char *path) {
  size_t n = strlen(path);
  if (n < 4 || path[n - 4] != '.')
    return 0;
  const char *e = path + n - 3;
  return (e[0] == 'n' || e[0] == 'N') && (e[1] == 'p' || e[1] == 'P') &&
         (e[2] == 'y' || e[2] == 'Y');
}

/* ======================================================================== */
/* Data sets                                                                 */
/* ======================================================================== */

ir_dataset *ir_dataset_alloc(size_t n, size_t d, size_t K, size_t nclasses) {
  if (n == 0 || d == 0 || K == 0) {
    ir_error(IR_EINVAL,
             "cannot allocate a data set with n = %zu, d = %zu, K = %zu: "
             "every size must be at least 1",
             n, d, K);
    return NULL;
  }
  ir_dataset *ds = calloc(1, sizeof *ds);
  if (ds == NULL) {
    ir_error(IR_ENOMEM, "out of memory allocating a data set");
    return NULL;
  }
  ds->n = n;
  ds->d = d;
  ds->K = K;
  ds->nclasses = nclasses;
  if (ir_mat_new(n, d, 1, &ds->X) != IR_OK ||
      ir_mat_new(n, K, 1, &ds->Y) != IR_OK) {
    ir_dataset_free(ds);
    return NULL;
  }
  if (nclasses > 0) {
    ds->labels = calloc(n, sizeof *ds->labels);
    if (ds->labels == NULL) {
      ir_dataset_free(ds);
      ir_error(IR_ENOMEM, "out of memory allocating %zu labels", n);
      return NULL;
    }
  }
  return ds;
}

void ir_dataset_free(ir_dataset *ds) {
  if (ds == NULL)
    return;
  if (ds->X != NULL)
    gsl_matrix_free(ds->X);
  if (ds->Y != NULL)
    gsl_matrix_free(ds->Y);
  free(ds->labels);
  free(ds);
}

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
  status = ir_mat_new(nvals / ncols, ncols, 0, &m);
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
  int s = ir_read_all(path, &buf, &len);
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

/* ======================================================================== */
/* NPY                                                                       */
/* ======================================================================== */

enum { IR_NPY_F8, IR_NPY_F4, IR_NPY_I4, IR_NPY_I8, IR_NPY_U1, IR_NPY_B1 };

static const struct {
  const char *descr;
  int type;
  size_t size;
} ir_npy_dtypes[] = {
    {"<f8", IR_NPY_F8, 8}, {"<f4", IR_NPY_F4, 4}, {"<i4", IR_NPY_I4, 4},
    {"<i8", IR_NPY_I8, 8}, {"<u1", IR_NPY_U1, 1}, {"|u1", IR_NPY_U1, 1},
    {"|b1", IR_NPY_B1, 1},
};
#define IR_NPY_NDTYPES (sizeof ir_npy_dtypes / sizeof ir_npy_dtypes[0])

/* The parsed header dictionary. */
typedef struct {
  int type;
  size_t itemsize;
  char descr[16];
  int fortran;
  size_t ndim;
  size_t dims[2]; /* the first two dimensions */
} ir_npy_info;

/* A cursor over the header text [s, e); off is the file offset of s, so that
 * messages give byte positions in the file. */
typedef struct {
  const char *path;
  const char *s, *p, *e;
  size_t off;
} ir_npy_cursor;

static void ir_npy_ws(ir_npy_cursor *c) {
  while (c->p < c->e &&
         (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static int ir_npy_bad(const ir_npy_cursor *c, const char *expected) {
  return ir_error(IR_EFORMAT,
                  "%s: malformed .npy header at byte %zu: expected %s; the "
                  "header must be the dict literal written by numpy.save",
                  c->path, c->off + (size_t)(c->p - c->s), expected);
}

/* A quoted Python string (no escapes occur in valid headers). */
static int ir_npy_string(ir_npy_cursor *c, const char **str, size_t *n) {
  if (c->p >= c->e || (*c->p != '\'' && *c->p != '"'))
    return ir_npy_bad(c, "a quoted string");
  char q = *c->p++;
  const char *close = memchr(c->p, q, (size_t)(c->e - c->p));
  if (close == NULL)
    return ir_npy_bad(c, "a closing quote");
  *str = c->p;
  *n = (size_t)(close - c->p);
  c->p = close + 1;
  return IR_OK;
}

static int ir_npy_word(ir_npy_cursor *c, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(c->e - c->p) >= n && memcmp(c->p, w, n) == 0) {
    c->p += n;
    return 1;
  }
  return 0;
}

/* A shape tuple: "()", "(3,)", "(3, 4)", "(3, 4,)"; Python 2 files may carry
 * an "L" suffix ("(3L, 4L)"). */
static int ir_npy_shape(ir_npy_cursor *c, ir_npy_info *info) {
  if (c->p >= c->e || *c->p != '(')
    return ir_npy_bad(c, "a shape tuple such as (3, 4)");
  c->p++;
  info->ndim = 0;
  for (;;) {
    ir_npy_ws(c);
    if (c->p < c->e && *c->p == ')') {
      c->p++;
      return IR_OK;
    }
    if (c->p >= c->e || *c->p < '0' || *c->p > '9')
      return ir_npy_bad(c, "a non-negative dimension or ')'");
    size_t v = 0;
    while (c->p < c->e && *c->p >= '0' && *c->p <= '9') {
      size_t digit = (size_t)(*c->p - '0');
      if (v > (SIZE_MAX - digit) / 10)
        return ir_error(IR_EFORMAT, "%s: .npy dimension too large at byte %zu",
                        c->path, c->off + (size_t)(c->p - c->s));
      v = v * 10 + digit;
      c->p++;
    }
    if (c->p < c->e && (*c->p == 'L' || *c->p == 'l'))
      c->p++;
    if (info->ndim < 2)
      info->dims[info->ndim] = v;
    info->ndim++;
    ir_npy_ws(c);
    if (c->p < c->e && *c->p == ',') {
      c->p++;
      continue;
    }
    if (c->p < c->e && *c->p == ')') {
      c->p++;
      return IR_OK;
    }
    return ir_npy_bad(c, "',' or ')' in the shape");
  }
}

/* Parses {'descr': ..., 'fortran_order': ..., 'shape': ...} (any key order,
 * optional trailing comma, padding after the closing brace). */
static int ir_npy_header(const char *path, const char *h, size_t hlen,
                         size_t off, ir_npy_info *info) {
  ir_npy_cursor c = {path, h, h, h + hlen, off};
  int seen_descr = 0, seen_fortran = 0, seen_shape = 0, s;
  ir_npy_ws(&c);
  if (c.p >= c.e || *c.p != '{')
    return ir_npy_bad(&c, "'{'");
  c.p++;
  for (;;) {
    ir_npy_ws(&c);
    if (c.p < c.e && *c.p == '}') {
      c.p++;
      break;
    }
    const char *key;
    size_t klen;
    if ((s = ir_npy_string(&c, &key, &klen)) != IR_OK)
      return s;
    ir_npy_ws(&c);
    if (c.p >= c.e || *c.p != ':')
      return ir_npy_bad(&c, "':'");
    c.p++;
    ir_npy_ws(&c);
    if (klen == 5 && memcmp(key, "descr", 5) == 0 && !seen_descr) {
      const char *v;
      size_t vlen;
      if ((s = ir_npy_string(&c, &v, &vlen)) != IR_OK)
        return s;
      size_t k;
      for (k = 0; k < IR_NPY_NDTYPES; k++)
        if (strlen(ir_npy_dtypes[k].descr) == vlen &&
            memcmp(ir_npy_dtypes[k].descr, v, vlen) == 0)
          break;
      if (k == IR_NPY_NDTYPES) {
        int q = (int)(vlen > IR_CELL_QUOTE_MAX ? IR_CELL_QUOTE_MAX : vlen);
        return ir_error(IR_EFORMAT,
                        "%s: unsupported .npy dtype '%.*s'; expected one of "
                        "<f8 <f4 <i4 <i8 <u1 |u1 |b1 (convert with "
                        "a.astype('<f8'))",
                        path, q, v);
      }
      info->type = ir_npy_dtypes[k].type;
      info->itemsize = ir_npy_dtypes[k].size;
      snprintf(info->descr, sizeof info->descr, "%s", ir_npy_dtypes[k].descr);
      seen_descr = 1;
    } else if (klen == 13 && memcmp(key, "fortran_order", 13) == 0 &&
               !seen_fortran) {
      if (ir_npy_word(&c, "True"))
        info->fortran = 1;
      else if (ir_npy_word(&c, "False"))
        info->fortran = 0;
      else
        return ir_npy_bad(&c, "True or False");
      seen_fortran = 1;
    } else if (klen == 5 && memcmp(key, "shape", 5) == 0 && !seen_shape) {
      if ((s = ir_npy_shape(&c, info)) != IR_OK)
        return s;
      seen_shape = 1;
    } else {
      int q = (int)(klen > IR_CELL_QUOTE_MAX ? IR_CELL_QUOTE_MAX : klen);
      return ir_error(IR_EFORMAT,
                      "%s: unexpected or repeated key '%.*s' in the .npy "
                      "header; expected exactly descr, fortran_order, shape",
                      path, q, key);
    }
    ir_npy_ws(&c);
    if (c.p < c.e && *c.p == ',') {
      c.p++;
      continue;
    }
    if (c.p < c.e && *c.p == '}') {
      c.p++;
      break;
    }
    return ir_npy_bad(&c, "',' or '}'");
  }
  ir_npy_ws(&c);
  if (c.p != c.e)
    return ir_npy_bad(&c, "only padding after '}'");
  if (!seen_descr || !seen_fortran || !seen_shape)
    return ir_error(IR_EFORMAT,
                    "%s: the .npy header lacks the key '%s'; expected descr, "
                    "fortran_order and shape",
                    path,
                    !seen_descr ? "descr"
                                : (!seen_fortran ? "fortran_order" : "shape"));
  return IR_OK;
}

static inline uint32_t ir_le32(const unsigned char *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
         (uint32_t)b[3] << 24;
}

static inline uint64_t ir_le64(const unsigned char *b) {
  return (uint64_t)ir_le32(b) | (uint64_t)ir_le32(b + 4) << 32;
}

/* Decodes one little-endian element (the file layout, whatever the host's
 * byte order) as a double.  Integers beyond 2^53 are rounded. */
static inline double ir_npy_value(const unsigned char *b, int type) {
  switch (type) {
  case IR_NPY_F8: {
    uint64_t u = ir_le64(b);
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
  }
  case IR_NPY_F4: {
    uint32_t u = ir_le32(b);
    float x;
    memcpy(&x, &u, sizeof x);
    return (double)x;
  }
  case IR_NPY_I4: {
    uint32_t u = ir_le32(b);
    int32_t x;
    memcpy(&x, &u, sizeof x);
    return (double)x;
  }
  case IR_NPY_I8: {
    uint64_t u = ir_le64(b);
    int64_t x;
    memcpy(&x, &u, sizeof x);
    return (double)x;
  }
  case IR_NPY_U1: return (double)b[0];
  default: /* IR_NPY_B1: numpy stores booleans as bytes 0 and 1. */
    return b[0] != 0 ? 1.0 : 0.0;
  }
}

static int ir_npy_parse(const char *path, const unsigned char *u, size_t len,
                        gsl_matrix **out) {
  if (len < 10 || memcmp(u, "\x93NUMPY", 6) != 0)
    return ir_error(IR_EFORMAT,
                    "%s: not a NumPy .npy file (no \\x93NUMPY magic at the "
                    "start); expected a file written by numpy.save",
                    path);
  int major = u[6], minor = u[7];
  size_t hlen, off;
  if (major == 1 && minor == 0) {
    hlen = (size_t)u[8] | (size_t)u[9] << 8;
    off = 10;
  } else if ((major == 2 || major == 3) && minor == 0) {
    if (len < 12)
      return ir_error(IR_EFORMAT, "%s: truncated .npy header (%zu bytes)", path,
                      len);
    hlen = ir_le32(u + 8);
    off = 12;
  } else {
    return ir_error(IR_EFORMAT,
                    "%s: unsupported .npy format version %d.%d; expected "
                    "1.0, 2.0 or 3.0",
                    path, major, minor);
  }
  if (hlen > len - off)
    return ir_error(IR_EFORMAT,
                    "%s: truncated .npy header: it declares %zu bytes but "
                    "only %zu follow",
                    path, hlen, len - off);
  ir_npy_info info = {0};
  int s = ir_npy_header(path, (const char *)u + off, hlen, off, &info);
  if (s != IR_OK)
    return s;

  if (info.ndim == 0)
    return ir_error(IR_EFORMAT,
                    "%s: 0-d array (a scalar); expected a 1-D or 2-D array",
                    path);
  if (info.ndim > 2)
    return ir_error(IR_EFORMAT,
                    "%s: %zu-D array; expected a 1-D or 2-D array (reshape "
                    "it to 2-D first)",
                    path, info.ndim);
  size_t n = info.dims[0], m = info.ndim == 2 ? info.dims[1] : 1;
  char shape[64];
  if (info.ndim == 1)
    snprintf(shape, sizeof shape, "(%zu,)", n);
  else
    snprintf(shape, sizeof shape, "(%zu, %zu)", n, m);
  if (n == 0 || m == 0)
    return ir_error(IR_EFORMAT,
                    "%s: empty array of shape %s; expected at least one row "
                    "and one column",
                    path, shape);
  if (m > SIZE_MAX / n || n * m > SIZE_MAX / info.itemsize)
    return ir_error(IR_EFORMAT, "%s: shape %s is too large", path, shape);
  size_t count = n * m, need = count * info.itemsize;
  size_t data = off + hlen, avail = len - data;
  if (avail < need)
    return ir_error(IR_EFORMAT,
                    "%s: truncated data: expected %zu bytes for shape %s of "
                    "%s, found %zu",
                    path, need, shape, info.descr, avail);
  if (avail > need)
    return ir_error(IR_EFORMAT,
                    "%s: %zu unexpected bytes after the data: expected %zu "
                    "bytes for shape %s of %s, found %zu",
                    path, avail - need, need, shape, info.descr, avail);

  gsl_matrix *A;
  s = ir_mat_new(n, m, 0, &A);
  if (s != IR_OK)
    return ir_error_context(s, "%s", path);
  const unsigned char *b = u + data;
  for (size_t k = 0; k < count; k++, b += info.itemsize) {
    size_t i = info.fortran ? k % n : k / m;
    size_t j = info.fortran ? k / n : k % m;
    ir_row(A, i)[j] = ir_npy_value(b, info.type);
  }
  if (info.type == IR_NPY_F8 || info.type == IR_NPY_F4) {
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < m; j++) {
        double x = ir_crow(A, i)[j];
        if (!isfinite(x)) {
          gsl_matrix_free(A);
          return ir_error(IR_EBADDATA,
                          "%s: element (%zu, %zu) is %s; the data must be "
                          "finite, so remove or impute missing values",
                          path, i + 1, j + 1, ir_nonfinite_name(x));
        }
      }
  }
  *out = A;
  return IR_OK;
}

int ir_data_read_npy(const char *path, gsl_matrix **out) {
  if (out != NULL)
    *out = NULL;
  if (path == NULL || out == NULL)
    return ir_error(IR_EINVAL, "ir_data_read_npy: path and out must not be "
                               "NULL");
  char *buf;
  size_t len;
  int s = ir_read_all(path, &buf, &len);
  if (s != IR_OK)
    return s;
  s = ir_npy_parse(path, (const unsigned char *)buf, len, out);
  free(buf);
  return s;
}

/* Layout written: magic, version 1.0, the 2-byte header length, then the
 * dict padded with spaces and ended by '\n' so that the data start at a
 * multiple of IR_NPY_ALIGN bytes, then the rows as little-endian doubles.
 * Non-finite entries are written as they are (see ir_data_write_csv). */
int ir_data_write_npy(const char *path, const gsl_matrix *m) {
  if (path == NULL || m == NULL)
    return ir_error(IR_EINVAL, "ir_data_write_npy: path and matrix must not "
                               "be NULL");
  char dict[128];
  int dlen = snprintf(dict, sizeof dict,
                      "{'descr': '<f8', 'fortran_order': False, "
                      "'shape': (%zu, %zu), }",
                      m->size1, m->size2);
  size_t prefix = 10;
  size_t total = prefix + (size_t)dlen + 1;
  size_t padded = (total + IR_NPY_ALIGN - 1) / IR_NPY_ALIGN * IR_NPY_ALIGN;
  size_t hlen = padded - prefix;

  unsigned char *row = malloc(m->size2 * 8);
  if (row == NULL)
    return ir_error(IR_ENOMEM, "out of memory writing %s", path);
  ir_atomic_file f;
  int s = ir_atomic_open(&f, path);
  if (s != IR_OK) {
    free(row);
    return s;
  }
  unsigned char pre[10] = {0x93,
                           'N',
                           'U',
                           'M',
                           'P',
                           'Y',
                           1,
                           0,
                           (unsigned char)(hlen & 0xff),
                           (unsigned char)(hlen >> 8)};
  fwrite(pre, 1, sizeof pre, f.fp);
  fwrite(dict, 1, (size_t)dlen, f.fp);
  for (size_t k = total; k < padded; k++)
    fputc(' ', f.fp);
  fputc('\n', f.fp);
  for (size_t i = 0; i < m->size1; i++) {
    const double *x = ir_crow(m, i);
    for (size_t j = 0; j < m->size2; j++) {
      uint64_t bits;
      memcpy(&bits, &x[j], sizeof bits);
      for (int k = 0; k < 8; k++)
        row[8 * j + (size_t)k] = (unsigned char)(bits >> (8 * k));
    }
    fwrite(row, 8, m->size2, f.fp);
  }
  free(row);
  return ir_atomic_commit(&f);
}

int ir_data_read_matrix(const char *path, gsl_matrix **out) {
  if (path != NULL && ir_is_npy_name(path))
    return ir_data_read_npy(path, out);
  return ir_data_read_csv(path, out);
}

int ir_data_write_matrix(const char *path, const gsl_matrix *m,
                         const char *header) {
  if (path != NULL && ir_is_npy_name(path)) {
    if (header != NULL)
      return ir_error(IR_EINVAL,
                      "cannot write %s: a .npy file has no "
                      "header line; pass NULL",
                      path);
    return ir_data_write_npy(path, m);
  }
  return ir_data_write_csv(path, m, header);
}

/* ======================================================================== */
/* IDX                                                                       */
/* ======================================================================== */

/* An open IDX file, read item by item.  zlib's gzread reads gzip streams and
 * passes other files through unchanged, so the compression is detected by
 * the gzip magic bytes, not by the name. */
typedef struct {
  gzFile gz;
  const char *path;
  int ndim;
  size_t dims[3];
  size_t n;        /* number of items, dims[0] */
  size_t itemsize; /* bytes per item: product of the other dimensions */
  size_t done;     /* items read so far */
} ir_idx_file;

/* Reads up to len bytes; *got < len only at the end of the data.  A zlib
 * error (corrupt or truncated gzip stream) leaves *zerr set to its text. */
static int ir_gz_read(ir_idx_file *f, unsigned char *buf, size_t len,
                      size_t *got, const char **zerr) {
  *got = 0;
  *zerr = NULL;
  while (*got < len) {
    size_t want = len - *got;
    if (want > IR_GZ_PIECE)
      want = IR_GZ_PIECE;
    int r = gzread(f->gz, buf + *got, (unsigned)want);
    if (r < 0) {
      int err;
      const char *msg = gzerror(f->gz, &err);
      if (err == Z_ERRNO) {
        int e = errno;
        return ir_error(IR_EIO, "read error on %s: %s", f->path, strerror(e));
      }
      *zerr = msg;
      return IR_OK;
    }
    *got += (size_t)r;
    if ((size_t)r < want) {
      int err;
      const char *msg = gzerror(f->gz, &err);
      if (err != Z_OK)
        *zerr = msg;
      break;
    }
  }
  return IR_OK;
}

static void ir_idx_close(ir_idx_file *f) {
  if (f->gz != NULL)
    gzclose(f->gz);
  f->gz = NULL;
}

/* Opens an IDX file and parses its header: 0x00 0x00, the element type,
 * the number of dimensions, then each dimension as a big-endian 32-bit
 * integer.  For an uncompressed file the size is checked against the header
 * at once; for a gzip file, as the data are read. */
static int ir_idx_open(ir_idx_file *f, const char *path) {
  memset(f, 0, sizeof *f);
  f->path = path;
  struct stat st;
  if (stat(path, &st) != 0) {
    int e = errno;
    return ir_error(IR_EIO, "cannot open %s: %s", path, strerror(e));
  }
  if (S_ISDIR(st.st_mode))
    return ir_error(IR_EIO,
                    "cannot read %s: it is a directory; expected a "
                    "file",
                    path);
  errno = 0;
  f->gz = gzopen(path, "rb");
  if (f->gz == NULL) {
    int e = errno;
    return ir_error(IR_EIO, "cannot open %s: %s", path,
                    e != 0 ? strerror(e) : "out of memory");
  }
  gzbuffer(f->gz, IR_GZ_BUFFER);

  unsigned char h[4 + 4 * 3];
  size_t got;
  const char *zerr;
  int s = ir_gz_read(f, h, 4, &got, &zerr);
  if (s == IR_OK && got < 4)
    s = ir_error(IR_EFORMAT,
                 "%s: %zu bytes, too short for an IDX header%s%s%s; expected "
                 "an MNIST-style IDX file",
                 path, got, zerr != NULL ? " (zlib: " : "",
                 zerr != NULL ? zerr : "", zerr != NULL ? ")" : "");
  if (s == IR_OK && (h[0] != 0 || h[1] != 0))
    s = ir_error(IR_EFORMAT,
                 "%s: bad IDX magic %02x %02x %02x %02x; expected 00 00 08 "
                 "<dims> (an MNIST-style IDX file, raw or gzip)",
                 path, h[0], h[1], h[2], h[3]);
  if (s == IR_OK && h[2] != 0x08)
    s = ir_error(IR_EFORMAT,
                 "%s: IDX element type 0x%02x is not supported; only unsigned "
                 "bytes (0x08)",
                 path, h[2]);
  if (s == IR_OK && (h[3] < 1 || h[3] > 3))
    s = ir_error(IR_EFORMAT, "%s: IDX file with %d dimensions; expected 1 to 3",
                 path, h[3]);
  if (s != IR_OK) {
    ir_idx_close(f);
    return s;
  }
  f->ndim = h[3];
  size_t hbytes = 4 * (size_t)f->ndim;
  s = ir_gz_read(f, h + 4, hbytes, &got, &zerr);
  if (s == IR_OK && got < hbytes)
    s = ir_error(IR_EFORMAT,
                 "%s: truncated IDX header: expected %zu dimension bytes, "
                 "found %zu",
                 path, hbytes, got);
  if (s != IR_OK) {
    ir_idx_close(f);
    return s;
  }
  f->itemsize = 1;
  for (int k = 0; k < f->ndim; k++) {
    const unsigned char *b = h + 4 + 4 * k;
    f->dims[k] = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 |
                 (size_t)b[3];
    if (k > 0)
      f->itemsize *= f->dims[k]; /* at most 2^64, as both factors < 2^32 */
  }
  f->n = f->dims[0];
  if (f->n == 0 || f->itemsize == 0) {
    ir_idx_close(f);
    return ir_error(IR_EFORMAT, "%s: empty IDX array (a dimension is 0)", path);
  }
  if (f->itemsize > SIZE_MAX / f->n) {
    ir_idx_close(f);
    return ir_error(IR_EFORMAT, "%s: IDX dimensions too large", path);
  }
  if (gzdirect(f->gz)) {
    uintmax_t have = (uintmax_t)st.st_size - (4 + hbytes);
    uintmax_t need = (uintmax_t)f->n * f->itemsize;
    if ((uintmax_t)st.st_size < 4 + hbytes || have < need) {
      ir_idx_close(f);
      return ir_error(IR_EFORMAT,
                      "%s: truncated IDX data: expected %ju bytes for %zu "
                      "items of %zu bytes, found %ju",
                      path, need, f->n, f->itemsize,
                      (uintmax_t)st.st_size < 4 + hbytes ? (uintmax_t)0 : have);
    }
  }
  return IR_OK;
}

/* Reads the next k items into buf (k·itemsize bytes). */
static int ir_idx_read(ir_idx_file *f, unsigned char *buf, size_t k) {
  if (k > f->n - f->done)
    return ir_error(IR_EINTERNAL, "%s: reading past the last IDX item",
                    f->path);
  size_t want = k * f->itemsize, got;
  const char *zerr;
  int s = ir_gz_read(f, buf, want, &got, &zerr);
  if (s != IR_OK)
    return s;
  if (got < want) {
    size_t expected = (f->done + k) * f->itemsize;
    size_t found = f->done * f->itemsize + got;
    return ir_error(IR_EFORMAT,
                    "%s: truncated IDX data: expected %zu bytes for %zu items "
                    "of %zu bytes, found %zu%s%s%s",
                    f->path, expected, f->done + k, f->itemsize, found,
                    zerr != NULL ? " (zlib: " : "", zerr != NULL ? zerr : "",
                    zerr != NULL ? ")" : "");
  }
  f->done += k;
  return IR_OK;
}

int ir_data_read_idx(const char *path, size_t max_rows, gsl_matrix **out) {
  if (out != NULL)
    *out = NULL;
  if (path == NULL || out == NULL)
    return ir_error(IR_EINVAL, "ir_data_read_idx: path and out must not be "
                               "NULL");
  ir_idx_file f;
  int s = ir_idx_open(&f, path);
  if (s != IR_OK)
    return s;
  size_t rows = (max_rows > 0 && max_rows < f.n) ? max_rows : f.n;
  size_t per = IR_IDX_CHUNK / f.itemsize;
  if (per == 0)
    per = 1;
  if (per > rows)
    per = rows;
  gsl_matrix *A = NULL;
  unsigned char *buf = malloc(per * f.itemsize);
  if (buf == NULL)
    s = ir_error(IR_ENOMEM, "out of memory reading %s", path);
  if (s == IR_OK && (s = ir_mat_new(rows, f.itemsize, 0, &A)) != IR_OK)
    ir_error_context(s, "%s", path);
  for (size_t i = 0; s == IR_OK && i < rows; i += per) {
    size_t k = rows - i < per ? rows - i : per;
    s = ir_idx_read(&f, buf, k);
    for (size_t r = 0; s == IR_OK && r < k; r++) {
      double *x = ir_row(A, i + r);
      const unsigned char *b = buf + r * f.itemsize;
      for (size_t j = 0; j < f.itemsize; j++)
        x[j] = (double)b[j];
    }
  }
  free(buf);
  ir_idx_close(&f);
  if (s != IR_OK) {
    if (A != NULL)
      gsl_matrix_free(A);
    return s;
  }
  *out = A;
  return IR_OK;
}

/* ======================================================================== */
/* Fashion-MNIST                                                             */
/* ======================================================================== */

static const char *const ir_fmnist_names[2][2] = {
    {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"},
    {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"},
};

/* "dir/name", owned by the caller; NULL when out of memory. */
static char *ir_path_join(const char *dir, const char *name) {
  size_t a = strlen(dir), b = strlen(name);
  char *p = malloc(a + b + 2);
  if (p != NULL) {
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
  }
  return p;
}

int ir_data_fashion_mnist_available(const char *dir) {
  if (dir == NULL)
    dir = IR_FASHION_MNIST_DIR;
  for (int split = 0; split < 2; split++)
    for (int k = 0; k < 2; k++) {
      char *p = ir_path_join(dir, ir_fmnist_names[split][k]);
      struct stat st;
      int ok = p != NULL && stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
               access(p, R_OK) == 0;
      free(p);
      if (!ok)
        return 0;
    }
  return 1;
}

/* The subset is drawn before any pixel is converted: the image file is
 * decompressed in chunks of items, and only the chosen items become doubles
 * (written straight into their rows of X), so memory stays O(n·d + N).
 * When n equals the split size the file order is kept and r is not used, so
 * that the full split is the same with or without a generator. */
int ir_data_fashion_mnist(const char *dir, int split, size_t n, gsl_rng *r,
                          ir_dataset **out) {
  if (out == NULL)
    return ir_error(IR_EINVAL, "ir_data_fashion_mnist: out must not be NULL");
  *out = NULL;
  if (split != 0 && split != 1)
    return ir_error(IR_EINVAL,
                    "Fashion-MNIST split = %d; expected 0 (train) or 1 (test)",
                    split);
  if (n == 0)
    return ir_error(IR_EINVAL, "Fashion-MNIST: n = 0 images requested; ask "
                               "for at least one");
  if (dir == NULL)
    dir = IR_FASHION_MNIST_DIR;
  const char *split_name = split == 0 ? "train" : "test";

  char *img_path = ir_path_join(dir, ir_fmnist_names[split][0]);
  char *lab_path = ir_path_join(dir, ir_fmnist_names[split][1]);
  unsigned char *labels = NULL, *buf = NULL;
  size_t *perm = NULL, *where = NULL;
  ir_dataset *ds = NULL;
  ir_idx_file imgs = {0}, labs = {0};
  int s = IR_OK;
  if (img_path == NULL || lab_path == NULL) {
    s = ir_error(IR_ENOMEM, "out of memory");
    goto done;
  }
  const char *paths[2] = {img_path, lab_path};
  for (int k = 0; k < 2; k++) {
    struct stat st;
    if (stat(paths[k], &st) != 0) {
      int e = errno;
      s = ir_error(IR_EIO,
                   "cannot open %s: %s; install dataset-fashion-mnist "
                   "(apt-get install dataset-fashion-mnist) or pass the "
                   "directory that holds the Fashion-MNIST files",
                   paths[k], strerror(e));
      goto done;
    }
  }

  /* Labels: one byte per image, all read (N ≤ 60000 bytes). */
  if ((s = ir_idx_open(&labs, lab_path)) != IR_OK)
    goto done;
  if (labs.ndim != 1) {
    s = ir_error(IR_EFORMAT, "%s: expected a 1-D label file, found %d-D",
                 lab_path, labs.ndim);
    goto done;
  }
  size_t N = labs.n;
  labels = malloc(N);
  if (labels == NULL) {
    s = ir_error(IR_ENOMEM, "out of memory reading %s", lab_path);
    goto done;
  }
  if ((s = ir_idx_read(&labs, labels, N)) != IR_OK)
    goto done;
  for (size_t i = 0; i < N; i++)
    if (labels[i] >= IR_FMNIST_CLASSES) {
      s = ir_error(IR_EFORMAT, "%s: label %d of item %zu is outside 0..%d",
                   lab_path, labels[i], i + 1, IR_FMNIST_CLASSES - 1);
      goto done;
    }

  if ((s = ir_idx_open(&imgs, img_path)) != IR_OK)
    goto done;
  if (imgs.ndim != 3 || imgs.n != N) {
    s = ir_error(IR_EFORMAT,
                 "%s: expected %zu images (n x rows x cols) to match %s, "
                 "found a %d-D file with %zu items",
                 img_path, N, lab_path, imgs.ndim, imgs.n);
    goto done;
  }
  if (n > N) {
    s = ir_error(IR_EINVAL,
                 "Fashion-MNIST: n = %zu exceeds the %zu images of the %s "
                 "split",
                 n, N, split_name);
    goto done;
  }

  /* perm[k] is the file index of output row k. */
  perm = malloc(N * sizeof *perm);
  where = malloc(N * sizeof *where);
  if (perm == NULL || where == NULL) {
    s = ir_error(IR_ENOMEM, "out of memory drawing a Fashion-MNIST subset");
    goto done;
  }
  if (n < N) {
    if (r == NULL) {
      s = ir_error(IR_EINVAL,
                   "Fashion-MNIST: a random generator is needed to draw %zu "
                   "of the %zu %s images",
                   n, N, split_name);
      goto done;
    }
    if ((s = ir_check_range(r, N, "Fashion-MNIST")) != IR_OK)
      goto done;
    ir_partial_shuffle(r, perm, N, n);
  } else {
    for (size_t i = 0; i < N; i++)
      perm[i] = i;
  }
  size_t last = 0;
  for (size_t i = 0; i < N; i++)
    where[i] = SIZE_MAX;
  for (size_t k = 0; k < n; k++) {
    where[perm[k]] = k;
    if (perm[k] > last)
      last = perm[k];
  }

  size_t d = imgs.itemsize;
  ds = ir_dataset_alloc(n, d, IR_FMNIST_CLASSES, IR_FMNIST_CLASSES);
  if (ds == NULL) {
    s = IR_ENOMEM;
    goto done;
  }
  size_t per = IR_IDX_CHUNK / d > 0 ? IR_IDX_CHUNK / d : 1;
  buf = malloc(per * d);
  if (buf == NULL) {
    s = ir_error(IR_ENOMEM, "out of memory reading %s", img_path);
    goto done;
  }
  /* Items after the last chosen one are never decompressed. */
  for (size_t i = 0; i <= last; i += per) {
    size_t k = last + 1 - i < per ? last + 1 - i : per;
    if ((s = ir_idx_read(&imgs, buf, k)) != IR_OK)
      goto done;
    for (size_t t = 0; t < k; t++) {
      size_t row = where[i + t];
      if (row == SIZE_MAX)
        continue;
      double *x = ir_row(ds->X, row);
      const unsigned char *b = buf + t * d;
      for (size_t j = 0; j < d; j++)
        x[j] = (double)b[j] / 255.0;
    }
  }
  for (size_t k = 0; k < n; k++) {
    size_t c = labels[perm[k]];
    ds->labels[k] = c;
    ir_row(ds->Y, k)[c] = 1.0;
  }
  *out = ds;
  ds = NULL;
done:
  ir_idx_close(&imgs);
  ir_idx_close(&labs);
  ir_dataset_free(ds);
  free(buf);
  free(perm);
  free(where);
  free(labels);
  free(img_path);
  free(lab_path);
  return s;
}

/* ======================================================================== */
/* Linear teacher                                                            */
/* ======================================================================== */

/* Fills ds with rows x ~ N(0, diag(scale²)), y = xᵀβ + σε.  Every row draws
 * its d inputs and then one ε, whether or not the noise is used, so that X
 * depends only on the seed and not on σ² or test_noise. */
static void ir_teacher_fill(ir_dataset *ds, const double *scale,
                            const double *beta, double sigma, int noise,
                            gsl_rng *r) {
  for (size_t i = 0; i < ds->n; i++) {
    double *x = ir_row(ds->X, i);
    double y = 0.0;
    for (size_t j = 0; j < ds->d; j++) {
      x[j] = scale[j] * gsl_ran_gaussian_ziggurat(r, 1.0);
      y += x[j] * beta[j];
    }
    double eps = gsl_ran_gaussian_ziggurat(r, 1.0);
    ir_row(ds->Y, i)[0] = noise ? y + sigma * eps : y;
  }
}

/* Draws, in this order from r: β = sqrt(r2)·g/‖g‖ with g ~ N(0, I_d) (a
 * uniform direction on the sphere, Muller 1959), the n training rows, the
 * ntest test rows.  Gaussians come from GSL's ziggurat sampler (Marsaglia and
 * Tsang 2000), the fastest of GSL's exact Gaussian methods.  Cost
 * O((n + ntest)·d). */
int ir_data_linear_teacher(const ir_teacher_params *p, gsl_rng *r,
                           ir_dataset **train, ir_dataset **test,
                           double *beta) {
  if (train != NULL)
    *train = NULL;
  if (test != NULL)
    *test = NULL;
  if (p == NULL || r == NULL || train == NULL)
    return ir_error(IR_EINVAL, "linear teacher: params, generator and train "
                               "must not be NULL");
  if (p->n == 0 || p->d == 0)
    return ir_error(IR_EINVAL,
                    "linear teacher: n = %zu, d = %zu; both must "
                    "be at least 1",
                    p->n, p->d);
  if (p->ntest > 0 && test == NULL)
    return ir_error(IR_EINVAL, "linear teacher: ntest = %zu but test is NULL",
                    p->ntest);
  if (!(p->r2 >= 0 && isfinite(p->r2)))
    return ir_error(IR_EINVAL,
                    "linear teacher: r2 = %g; expected a finite "
                    "value >= 0",
                    p->r2);
  if (!(p->sigma2 >= 0 && isfinite(p->sigma2)))
    return ir_error(IR_EINVAL,
                    "linear teacher: sigma2 = %g; expected a "
                    "finite value >= 0",
                    p->sigma2);
  if (p->spectrum != NULL)
    for (size_t j = 0; j < p->d; j++)
      if (!(p->spectrum[j] >= 0 && isfinite(p->spectrum[j])))
        return ir_error(IR_EINVAL,
                        "linear teacher: spectrum[%zu] = %g; expected finite "
                        "eigenvalues >= 0",
                        j, p->spectrum[j]);

  double *b = malloc(p->d * sizeof *b);
  double *scale = malloc(p->d * sizeof *scale);
  ir_dataset *tr = NULL, *te = NULL;
  int s = IR_OK;
  if (b == NULL || scale == NULL) {
    s = ir_error(IR_ENOMEM, "linear teacher: out of memory (d = %zu)", p->d);
    goto done;
  }
  for (size_t j = 0; j < p->d; j++)
    scale[j] = p->spectrum != NULL ? sqrt(p->spectrum[j]) : 1.0;

  /* g = 0 has probability zero, but redrawing costs nothing. */
  double g2;
  do {
    g2 = 0.0;
    for (size_t j = 0; j < p->d; j++) {
      b[j] = gsl_ran_gaussian_ziggurat(r, 1.0);
      g2 += b[j] * b[j];
    }
  } while (g2 == 0.0);
  double c = sqrt(p->r2 / g2);
  for (size_t j = 0; j < p->d; j++)
    b[j] *= c;

  tr = ir_dataset_alloc(p->n, p->d, 1, 0);
  if (tr == NULL) {
    s = IR_ENOMEM;
    goto done;
  }
  if (p->ntest > 0 && (te = ir_dataset_alloc(p->ntest, p->d, 1, 0)) == NULL) {
    s = IR_ENOMEM;
    goto done;
  }
  double sigma = sqrt(p->sigma2);
  ir_teacher_fill(tr, scale, b, sigma, 1, r);
  if (te != NULL)
    ir_teacher_fill(te, scale, b, sigma, p->test_noise, r);
  if (beta != NULL)
    memcpy(beta, b, p->d * sizeof *b);
  *train = tr;
  if (test != NULL)
    *test = te;
  tr = te = NULL;
done:
  ir_dataset_free(tr);
  ir_dataset_free(te);
  free(b);
  free(scale);
  return s;
}

/* ======================================================================== */
/* Transforms                                                                */
/* ======================================================================== */

int ir_matrix_append_ones(gsl_matrix **m) {
  if (m == NULL || *m == NULL)
    return ir_error(IR_EINVAL, "ir_matrix_append_ones: matrix must not be "
                               "NULL");
  const gsl_matrix *A = *m;
  gsl_matrix *B;
  int s = ir_mat_new(A->size1, A->size2 + 1, 0, &B);
  if (s != IR_OK)
    return s;
  for (size_t i = 0; i < A->size1; i++) {
    double *y = ir_row(B, i);
    memcpy(y, ir_crow(A, i), A->size2 * sizeof *y);
    y[A->size2] = 1.0;
  }
  gsl_matrix_free(*m);
  *m = B;
  return IR_OK;
}

int ir_data_append_ones(ir_dataset *ds) {
  if (ds == NULL || ds->X == NULL)
    return ir_error(IR_EINVAL, "ir_data_append_ones: data set must not be "
                               "NULL");
  int s = ir_matrix_append_ones(&ds->X);
  if (s == IR_OK)
    ds->d = ds->X->size2;
  return s;
}

int ir_data_subset(const ir_dataset *ds, const size_t *idx, size_t m,
                   ir_dataset **out) {
  if (out != NULL)
    *out = NULL;
  if (ds == NULL || idx == NULL || out == NULL)
    return ir_error(IR_EINVAL, "ir_data_subset: arguments must not be NULL");
  if (m == 0)
    return ir_error(IR_EINVAL, "ir_data_subset: empty subset (m = 0)");
  for (size_t k = 0; k < m; k++)
    if (idx[k] >= ds->n)
      return ir_error(IR_EINVAL,
                      "ir_data_subset: idx[%zu] = %zu is out of range; the "
                      "data set has n = %zu rows (indices from 0)",
                      k, idx[k], ds->n);
  ir_dataset *o = ir_dataset_alloc(m, ds->X->size2, ds->Y->size2,
                                   ds->labels != NULL ? ds->nclasses : 0);
  if (o == NULL)
    return IR_ENOMEM;
  for (size_t k = 0; k < m; k++) {
    memcpy(ir_row(o->X, k), ir_crow(ds->X, idx[k]),
           o->X->size2 * sizeof(double));
    memcpy(ir_row(o->Y, k), ir_crow(ds->Y, idx[k]),
           o->Y->size2 * sizeof(double));
    if (o->labels != NULL)
      o->labels[k] = ds->labels[idx[k]];
  }
  *out = o;
  return IR_OK;
}

/* Column means μ and population standard deviations s (divisor n) by the
 * corrected two-pass algorithm (Chan, Golub, LeVeque 1983), accumulated row
 * by row for cache efficiency.  A column whose entries are all equal is only
 * centered (s := 1): testing equality rather than s == 0 keeps rounding in
 * the mean from being blown up into O(1) values. */
int ir_data_standardize(ir_dataset *train, ir_dataset *test) {
  if (train == NULL || train->X == NULL)
    return ir_error(IR_EINVAL, "ir_data_standardize: train must not be NULL");
  const gsl_matrix *X = train->X;
  size_t n = X->size1, d = X->size2;
  if (test != NULL && (test->X == NULL || test->X->size2 != d))
    return ir_error(IR_ESHAPE,
                    "ir_data_standardize: test X has %zu columns, train X "
                    "has %zu",
                    test->X != NULL ? test->X->size2 : 0, d);
  int s = ir_matrix_check_finite(X, "train X");
  if (s != IR_OK)
    return s;
  double *mu = calloc(d, sizeof *mu);
  double *ss = calloc(d, sizeof *ss);
  double *dev = calloc(d, sizeof *dev);
  unsigned char *constant = malloc(d);
  if (mu == NULL || ss == NULL || dev == NULL || constant == NULL) {
    s = ir_error(IR_ENOMEM, "ir_data_standardize: out of memory (d = %zu)", d);
    goto done;
  }
  memset(constant, 1, d);
  const double *x0 = ir_crow(X, 0);
  for (size_t i = 0; i < n; i++) {
    const double *x = ir_crow(X, i);
    for (size_t j = 0; j < d; j++) {
      mu[j] += x[j];
      if (x[j] != x0[j])
        constant[j] = 0;
    }
  }
  /* An all-equal column gets its common value as mean, so it centers to
   * exact zeros (the computed mean of n copies of x may differ from x). */
  for (size_t j = 0; j < d; j++)
    mu[j] = constant[j] ? x0[j] : mu[j] / (double)n;
  for (size_t i = 0; i < n; i++) {
    const double *x = ir_crow(X, i);
    for (size_t j = 0; j < d; j++) {
      double t = x[j] - mu[j];
      dev[j] += t;
      ss[j] += t * t;
    }
  }
  for (size_t j = 0; j < d; j++) {
    double var = (ss[j] - dev[j] * dev[j] / (double)n) / (double)n;
    double sd = var > 0 ? sqrt(var) : 0.0;
    ss[j] = constant[j] || sd == 0.0 ? 1.0 : 1.0 / sd; /* now the scale */
  }
  ir_dataset *sets[2] = {train, test};
  for (int k = 0; k < 2; k++) {
    if (sets[k] == NULL)
      continue;
    gsl_matrix *A = sets[k]->X;
    for (size_t i = 0; i < A->size1; i++) {
      double *x = ir_row(A, i);
      for (size_t j = 0; j < d; j++)
        x[j] = (x[j] - mu[j]) * ss[j];
    }
  }
done:
  free(mu);
  free(ss);
  free(dev);
  free(constant);
  return s;
}

/* Chooses m = round(frac·n) distinct rows with a partial Fisher–Yates
 * shuffle (m draws), then for each draws c uniform in [0, nclasses − 1) and
 * uses c when c < old, c + 1 otherwise: uniform over the other classes. */
int ir_data_label_noise(ir_dataset *ds, double frac, gsl_rng *r) {
  if (ds == NULL || r == NULL)
    return ir_error(IR_EINVAL, "ir_data_label_noise: data set and generator "
                               "must not be NULL");
  if (ds->labels == NULL || ds->nclasses < 2)
    return ir_error(IR_EINVAL,
                    "ir_data_label_noise: needs class labels and at least 2 "
                    "classes (nclasses = %zu)",
                    ds->nclasses);
  if (!(frac >= 0.0 && frac <= 1.0))
    return ir_error(IR_EINVAL,
                    "ir_data_label_noise: frac = %g; expected a "
                    "fraction in [0, 1]",
                    frac);
  size_t n = ds->X->size1, C = ds->nclasses;
  if (ds->Y == NULL || ds->Y->size2 != C || ds->Y->size1 != n)
    return ir_error(IR_ESHAPE,
                    "ir_data_label_noise: Y must be one-hot n x nclasses "
                    "(%zu x %zu)",
                    n, C);
  for (size_t i = 0; i < n; i++)
    if (ds->labels[i] >= C)
      return ir_error(IR_EBADDATA,
                      "ir_data_label_noise: label %zu of row %zu is not in "
                      "0..%zu",
                      ds->labels[i], i + 1, C - 1);
  size_t m = (size_t)round(frac * (double)n);
  if (m > n)
    m = n;
  if (m == 0)
    return IR_OK;
  int s = ir_check_range(r, n, "ir_data_label_noise");
  if (s != IR_OK)
    return s;
  size_t *perm = malloc(n * sizeof *perm);
  if (perm == NULL)
    return ir_error(IR_ENOMEM, "ir_data_label_noise: out of memory (n = %zu)",
                    n);
  ir_partial_shuffle(r, perm, n, m);
  for (size_t k = 0; k < m; k++) {
    size_t i = perm[k], old = ds->labels[i];
    size_t c = ir_uniform_index(r, C - 1);
    if (c >= old)
      c++;
    ds->labels[i] = c;
    double *y = ir_row(ds->Y, i);
    for (size_t j = 0; j < C; j++)
      y[j] = 0.0;
    y[c] = 1.0;
  }
  free(perm);
  return IR_OK;
}

int ir_matrix_check_finite(const gsl_matrix *m, const char *what) {
  if (what == NULL)
    what = "matrix";
  if (m == NULL)
    return ir_error(IR_EINVAL, "%s: matrix is NULL", what);
  for (size_t i = 0; i < m->size1; i++) {
    const double *x = ir_crow(m, i);
    for (size_t j = 0; j < m->size2; j++)
      if (!isfinite(x[j]))
        return ir_error(IR_EBADDATA,
                        "%s: entry (%zu, %zu) is %s; the data must be finite",
                        what, i + 1, j + 1, ir_nonfinite_name(x[j]));
  }
  return IR_OK;
}

/* ---- 1-D regression curve ------------------------------------------------ */

double ir_data_curve_1d_f(double x) {
  /* sin(2πx), with 2π spelled out (M_PI is not in strict C17). */
  return sin(6.283185307179586476925286766559 * x);
}

int ir_data_curve_1d(size_t n, size_t ntest, double sigma, int test_noise,
                     gsl_rng *r, ir_dataset **train, ir_dataset **test) {
  *train = NULL;
  if (test != NULL)
    *test = NULL;
  if (n == 0 || !(sigma >= 0) || !isfinite(sigma))
    return ir_error(IR_EINVAL,
                    "1-D curve: n = %zu must be >= 1 and the noise "
                    "level %g finite and >= 0",
                    n, sigma);
  ir_dataset *sets[2] = {NULL, NULL};
  const size_t sizes[2] = {n, test != NULL ? ntest : 0};
  for (int k = 0; k < 2; k++) {
    if (sizes[k] == 0)
      continue;
    sets[k] = ir_dataset_alloc(sizes[k], 1, 1, 0);
    if (sets[k] == NULL) {
      ir_dataset_free(sets[0]);
      return IR_ENOMEM;
    }
    for (size_t i = 0; i < sizes[k]; i++) {
      double x = 2 * gsl_rng_uniform(r) - 1;
      double e = gsl_ran_gaussian(r, 1.0);
      gsl_matrix_set(sets[k]->X, i, 0, x);
      gsl_matrix_set(sets[k]->Y, i, 0,
                     ir_data_curve_1d_f(x) +
                         (k == 0 || test_noise ? sigma * e : 0.0));
    }
  }
  *train = sets[0];
  if (test != NULL)
    *test = sets[1];
  return IR_OK;
}

/* ---- Linear target on the sphere ----------------------------------------- */

/* A uniform point on the sphere of radius rad in R^d: a normalized Gaussian
 * vector (Muller 1959). */
static void ir_sphere_point(gsl_rng *r, double *x, size_t d, double rad) {
  double ss = 0;
  for (size_t i = 0; i < d; i++) {
    x[i] = gsl_ran_gaussian(r, 1.0);
    ss += x[i] * x[i];
  }
  const double f = ss > 0 ? rad / sqrt(ss) : 0.0;
  for (size_t i = 0; i < d; i++)
    x[i] *= f;
}

int ir_data_sphere_teacher(size_t n, size_t ntest, size_t d, double F1,
                           double tau2, gsl_rng *r, ir_dataset **train,
                           ir_dataset **test) {
  *train = NULL;
  *test = NULL;
  if (n == 0 || ntest == 0 || d == 0 || !(F1 >= 0) || !isfinite(F1) ||
      !(tau2 >= 0) || !isfinite(tau2))
    return ir_error(IR_EINVAL,
                    "sphere teacher: n = %zu, ntest = %zu, d = %zu "
                    "must be >= 1, F1 = %g and tau2 = %g finite and >= 0",
                    n, ntest, d, F1, tau2);
  double *beta = malloc(d * sizeof *beta);
  ir_dataset *tr = ir_dataset_alloc(n, d, 1, 0);
  ir_dataset *te = ir_dataset_alloc(ntest, d, 1, 0);
  if (!beta || !tr || !te) {
    free(beta);
    ir_dataset_free(tr);
    ir_dataset_free(te);
    return ir_error(IR_ENOMEM, "out of memory (sphere teacher)");
  }
  ir_sphere_point(r, beta, d, F1);
  const double tau = sqrt(tau2);
  ir_dataset *sets[2] = {tr, te};
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < sets[k]->n; i++) {
      double *x = sets[k]->X->data + i * sets[k]->X->tda;
      ir_sphere_point(r, x, d, sqrt((double)d));
      double y = 0;
      for (size_t j = 0; j < d; j++)
        y += beta[j] * x[j];
      if (k == 0)
        y += tau * gsl_ran_gaussian(r, 1.0);
      gsl_matrix_set(sets[k]->Y, i, 0, y);
    }
  free(beta);
  *train = tr;
  *test = te;
  return IR_OK;
}
