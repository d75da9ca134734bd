/* data_npy.c — NumPy .npy matrix files.  See implreg/data.h.
 *
 * Reference: NumPy Enhancement Proposal 1 ("A simple file format for NumPy
 * arrays", numpy/lib/format.py).
 */
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
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The .npy data start at a multiple of this many bytes (numpy's
 * ARRAY_ALIGN), so that the data can be memory-mapped with any alignment. */
#define IR_NPY_ALIGN 64

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

/* u holds the first len bytes of a file of total bytes (len == total when
 * the whole file was read).  With out == NULL only the header is parsed
 * and its shape checked against total, before anything is allocated. */
static int ir_npy_parse(const char *path, const unsigned char *u, size_t len,
                        size_t total, gsl_matrix **out) {
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
  if (hlen > total - off)
    return ir_error(IR_EFORMAT,
                    "%s: truncated .npy header: it declares %zu bytes but "
                    "only %zu follow",
                    path, hlen, total - off);
  if (hlen > len - off)
    return ir_error(IR_EINTERNAL, "%s: .npy header not read whole", path);
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
  size_t data = off + hlen, avail = total - data;
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
  if (out == NULL)
    return IR_OK;

  gsl_matrix *A;
  s = ir_data_mat_new(n, m, 0, &A);
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
  /* The header first: its shape times the item size must match the file's
   * size before the file is read whole. */
  FILE *fp;
  uintmax_t size;
  int s = ir_data_open_regular(path, &fp, &size);
  if (s != IR_OK)
    return s;
  if (size > (uintmax_t)SIZE_MAX / 2) {
    fclose(fp);
    return ir_error(IR_EFORMAT, "%s: too large (%ju bytes)", path, size);
  }
  unsigned char head[12];
  size_t got = fread(head, 1, sizeof head, fp);
  size_t hend = (size_t)size; /* bytes up to the end of the header */
  if (got >= 10 && head[6] == 1)
    hend = 10 + ((size_t)head[8] | (size_t)head[9] << 8);
  else if (got >= 12 && (head[6] == 2 || head[6] == 3))
    hend = 12 + (size_t)ir_le32(head + 8);
  if (hend > (size_t)size)
    hend = (size_t)size;
  unsigned char *h = malloc(hend > 0 ? hend : 1);
  if (h == NULL) {
    fclose(fp);
    return ir_error(IR_ENOMEM, "out of memory reading %s", path);
  }
  rewind(fp);
  size_t hgot = fread(h, 1, hend, fp);
  fclose(fp);
  s = ir_npy_parse(path, h, hgot, (size_t)size, NULL);
  free(h);
  if (s != IR_OK)
    return s;
  char *buf;
  size_t len;
  s = ir_data_read_all(path, &buf, &len);
  if (s != IR_OK)
    return s;
  s = ir_npy_parse(path, (const unsigned char *)buf, len, len, out);
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
