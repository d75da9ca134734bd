/* test_data.c — Check suite for data.c: file formats (CSV, NPY, IDX), their
 * error messages, the linear teacher, transforms and Fashion-MNIST.
 *
 * Every file is written into a fresh mkdtemp directory under $TMPDIR (default
 * /tmp) that the fixture removes, so the suite runs from a read-only source
 * tree (make distcheck).
 */
#include "implreg/data.h"
#include "implreg/rng.h"
#include "implreg/status.h"
#include "data_internal.h"
#include "testutil.h"
#include <gsl/gsl_blas.h>
#include "implreg/linalg.h"
#include "implreg/minnorm.h"

#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"

/* ---- Fixture: a private temporary directory -------------------------------
 */

static char tmpdir[1024];

static void setup(void) {
  const char *t = getenv("TMPDIR");
  if (t == NULL || t[0] == '\0')
    t = "/tmp";
  snprintf(tmpdir, sizeof tmpdir, "%s/implreg_test_data.XXXXXX", t);
  ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp(%s): %s", tmpdir,
                strerror(errno));
}

/* Removes a directory tree (only regular files and directories occur). */
static void remove_tree(const char *path) {
  DIR *d = opendir(path);
  if (d != NULL) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
        continue;
      char child[2048];
      snprintf(child, sizeof child, "%s/%s", path, e->d_name);
      struct stat st;
      if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
        remove_tree(child);
      else
        unlink(child);
    }
    closedir(d);
  }
  rmdir(path);
}

static void teardown(void) {
  remove_tree(tmpdir);
}

/* tmpdir/name in one of a few rotating buffers, so that several paths can be
 * alive in one expression. */
static const char *tpath(const char *name) {
  static char bufs[8][2048];
  static int k;
  k = (k + 1) % 8;
  snprintf(bufs[k], sizeof bufs[k], "%s/%s", tmpdir, name);
  return bufs[k];
}

static void write_bytes(const char *path, const void *buf, size_t len) {
  FILE *fp = fopen(path, "wb");
  ck_assert_msg(fp != NULL, "cannot create %s: %s", path, strerror(errno));
  ck_assert_uint_eq(fwrite(buf, 1, len, fp), len);
  ck_assert_int_eq(fclose(fp), 0);
}

static void write_text(const char *path, const char *text) {
  write_bytes(path, text, strlen(text));
}

static int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* Number of entries in tmpdir (to prove that failed writes leave nothing). */
static int count_entries(void) {
  DIR *d = opendir(tmpdir);
  ck_assert_ptr_nonnull(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}

static size_t file_size(const char *path) {
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  return (size_t)st.st_size;
}

/* Asserts that expr returns the status want with a one-line message that
 * contains sub1 and sub2 (either may be NULL). */
#define ASSERT_FAILS(expr, want, sub1, sub2)                                   \
  do {                                                                         \
    int s_ = (expr);                                                           \
    const char *m_ = ir_error_message();                                       \
    ck_assert_msg(s_ == (want), "%s returned %d (%s), expected %d: %s", #expr, \
                  s_, ir_strerror(s_), (int)(want), m_);                       \
    ck_assert_msg(strchr(m_, '\n') == NULL, "message has a line break: %s",    \
                  m_);                                                         \
    const char *a_ = (sub1), *b_ = (sub2);                                     \
    ck_assert_msg(a_ == NULL || strstr(m_, a_) != NULL,                        \
                  "message '%s' lacks '%s'", m_, a_ ? a_ : "");                \
    ck_assert_msg(b_ == NULL || strstr(m_, b_) != NULL,                        \
                  "message '%s' lacks '%s'", m_, b_ ? b_ : "");                \
  } while (0)

/* Writes a CSV file tmpdir/name and asserts that reading it fails with want
 * and a message containing "name:where" (where may be NULL) and sub. */
static void csv_fails(const char *name, const char *text, int want,
                      const char *where, const char *sub) {
  const char *p = tpath(name);
  write_text(p, text);
  char loc[256];
  snprintf(loc, sizeof loc, "%s%s", name, where != NULL ? where : "");
  gsl_matrix *m = (gsl_matrix *)1;
  ASSERT_FAILS(ir_data_read_csv(p, &m), want, loc, sub);
  ck_assert_ptr_null(m);
}

static int same_bits(const gsl_matrix *a, const gsl_matrix *b) {
  if (a->size1 != b->size1 || a->size2 != b->size2)
    return 0;
  for (size_t i = 0; i < a->size1; i++)
    for (size_t j = 0; j < a->size2; j++) {
      double x = gsl_matrix_get(a, i, j), y = gsl_matrix_get(b, i, j);
      if (memcmp(&x, &y, sizeof x) != 0)
        return 0;
    }
  return 1;
}

/* A 4×3 matrix of doubles that a careless decimal round trip gets wrong. */
static gsl_matrix *awkward_matrix(void) {
  static const double v[12] = {0.1,
                               1e-300,
                               -2.5e300,
                               1.0 / 3.0,
                               -0.0,
                               4.9406564584124654e-324, /* smallest denormal */
                               DBL_MAX,
                               9007199254740993.0, /* 2^53 + 1 rounds */
                               -123456789.123456789,
                               2.2250738585072014e-308, /* DBL_MIN */
                               3.141592653589793,
                               -1e22};
  gsl_matrix *m = gsl_matrix_alloc(4, 3);
  for (size_t k = 0; k < 12; k++)
    gsl_matrix_set(m, k / 3, k % 3, v[k]);
  return m;
}

/* ---- NPY files written by hand --------------------------------------------
 */

static void put_le32(unsigned char *b, uint32_t u) {
  for (int k = 0; k < 4; k++)
    b[k] = (unsigned char)(u >> (8 * k));
}

static void put_le64(unsigned char *b, uint64_t u) {
  for (int k = 0; k < 8; k++)
    b[k] = (unsigned char)(u >> (8 * k));
}

/* Writes a .npy file of format version major.0 with the header dict (padded
 * to a multiple of 64 bytes and ended by '\n', as numpy does) and the given
 * data bytes. */
static void write_npy(const char *path, int major, const char *dict,
                      const void *data, size_t nbytes) {
  unsigned char buf[4096];
  size_t lenbytes = major == 1 ? 2 : 4, prefix = 8 + lenbytes;
  size_t dlen = strlen(dict);
  size_t total = prefix + dlen + 1, padded = (total + 63) / 64 * 64;
  size_t hlen = padded - prefix;
  ck_assert_uint_lt(padded + nbytes, sizeof buf);
  memcpy(buf, "\x93NUMPY", 6);
  buf[6] = (unsigned char)major;
  buf[7] = 0;
  if (major == 1) {
    buf[8] = (unsigned char)(hlen & 0xff);
    buf[9] = (unsigned char)(hlen >> 8);
  } else {
    put_le32(buf + 8, (uint32_t)hlen);
  }
  memcpy(buf + prefix, dict, dlen);
  memset(buf + prefix + dlen, ' ', padded - 1 - prefix - dlen);
  buf[padded - 1] = '\n';
  if (nbytes > 0)
    memcpy(buf + padded, data, nbytes);
  write_bytes(path, buf, padded + nbytes);
}

static void put_f8(unsigned char *b, double x) {
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  put_le64(b, u);
}

static gsl_matrix *read_ok(const char *path) {
  gsl_matrix *m = NULL;
  IR_ASSERT_OK(ir_data_read_matrix(path, &m));
  ck_assert_ptr_nonnull(m);
  return m;
}

static void assert_matrix(const gsl_matrix *m, size_t r, size_t c,
                          const double *v) {
  ck_assert_uint_eq(m->size1, r);
  ck_assert_uint_eq(m->size2, c);
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < c; j++)
      ck_assert_msg(gsl_matrix_get(m, i, j) == v[i * c + j],
                    "entry (%zu, %zu) = %.17g, expected %.17g", i, j,
                    gsl_matrix_get(m, i, j), v[i * c + j]);
}

/* ---- IDX files written by hand --------------------------------------------
 */

/* Builds an IDX image: 00 00 08 ndim, big-endian dims, then nbytes of data
 * (which may be fewer than the dims declare, to make truncated files). */
static size_t make_idx(unsigned char *buf, int ndim, const uint32_t *dims,
                       const unsigned char *data, size_t nbytes) {
  buf[0] = 0;
  buf[1] = 0;
  buf[2] = 0x08;
  buf[3] = (unsigned char)ndim;
  size_t p = 4;
  for (int k = 0; k < ndim; k++) {
    buf[p++] = (unsigned char)(dims[k] >> 24);
    buf[p++] = (unsigned char)(dims[k] >> 16);
    buf[p++] = (unsigned char)(dims[k] >> 8);
    buf[p++] = (unsigned char)dims[k];
  }
  memcpy(buf + p, data, nbytes);
  return p + nbytes;
}

static void write_gz(const char *path, const void *buf, size_t len) {
  gzFile gz = gzopen(path, "wb");
  ck_assert_ptr_nonnull(gz);
  ck_assert_int_eq(gzwrite(gz, buf, (unsigned)len), (int)len);
  ck_assert_int_eq(gzclose(gz), Z_OK);
}

/* ========================================================================== */
/* formats                                                                    */
/* ========================================================================== */

START_TEST(test_csv_roundtrip) {
  gsl_matrix *a = awkward_matrix();
  const char *p = tpath("a.csv");
  IR_ASSERT_OK(ir_data_write_csv(p, a, NULL));
  gsl_matrix *b = read_ok(p);
  ck_assert_msg(same_bits(a, b), "CSV round trip changed some bits");
  gsl_matrix_free(b);

  /* With a header: written verbatim as the first line, skipped on reading. */
  const char *q = tpath("h.csv");
  IR_ASSERT_OK(ir_data_write_matrix(q, a, "alpha, beta ,gamma"));
  FILE *fp = fopen(q, "r");
  char line[256];
  ck_assert_ptr_nonnull(fgets(line, sizeof line, fp));
  fclose(fp);
  ck_assert_str_eq(line, "alpha, beta ,gamma\n");
  b = read_ok(q);
  ck_assert_msg(same_bits(a, b), "CSV round trip with header changed bits");
  gsl_matrix_free(b);
  gsl_matrix_free(a);
  ck_assert_int_eq(count_entries(), 2); /* no temporary files left */
}
END_TEST

START_TEST(test_csv_lenient) {
  /* BOM, CRLF, blank lines, padding around fields, exponents and signs. */
  const char *p = tpath("l.csv");
  write_text(p,
             "\xEF\xBB\xBFx , y\r\n\r\n 1 ,\t+2.5e1 \r\n\n   \n-3E-1,4\r\n\n");
  gsl_matrix *m = read_ok(p);
  const double v[4] = {1, 25, -0.3, 4};
  assert_matrix(m, 2, 2, v);
  gsl_matrix_free(m);

  /* One column gives n×1; one row gives 1×d; no final newline is fine. */
  write_text(p, "1\n2\n3");
  m = read_ok(p);
  const double c[3] = {1, 2, 3};
  assert_matrix(m, 3, 1, c);
  gsl_matrix_free(m);
  write_text(p, "1,2,3\n");
  m = read_ok(p);
  assert_matrix(m, 1, 3, c);
  gsl_matrix_free(m);
}
END_TEST

START_TEST(test_csv_large) {
  /* Enough rows to make the value buffer grow several times. */
  gsl_matrix *a = ir_test_gaussian(700, 60, 11);
  const char *p = tpath("big.csv");
  IR_ASSERT_OK(ir_data_write_csv(p, a, NULL));
  gsl_matrix *b = read_ok(p);
  ck_assert_msg(same_bits(a, b), "large CSV round trip changed bits");
  gsl_matrix_free(a);
  gsl_matrix_free(b);
}
END_TEST

/* Formats one test number into buf: random doubles in several printf
 * formats, random digit strings with exponents, and exact midpoints between
 * neighbouring doubles (the hardest inputs for decimal conversion). */
static void random_number(gsl_rng *r, char *buf, size_t len) {
  static const char *fmts[6] = {"%.17g", "%.16g", "%.15g",
                                "%.6g",  "%.19e", "%.3f"};
  int kind = (int)gsl_rng_uniform_int(r, 4);
  if (kind == 0) {
    double x;
    do {
      uint64_t u = (uint64_t)gsl_rng_get(r) << 32 | gsl_rng_get(r);
      memcpy(&x, &u, sizeof x);
    } while (!isfinite(x));
    snprintf(buf, len, fmts[gsl_rng_uniform_int(r, 6)], x);
  } else if (kind == 1) {
    /* Moderate magnitudes, the common case in data files. */
    double x =
        gsl_ran_gaussian(r, 1.0) * pow(10.0, gsl_rng_uniform_int(r, 41) - 20.0);
    snprintf(buf, len, fmts[gsl_rng_uniform_int(r, 6)], x);
  } else if (kind == 2) {
    /* Digit strings: sign, 1 to 22 digits, a point, an exponent. */
    size_t p = 0;
    if (gsl_rng_uniform_int(r, 2))
      buf[p++] = '-';
    int nd = 1 + (int)gsl_rng_uniform_int(r, 22);
    int dot = (int)gsl_rng_uniform_int(r, (unsigned long)nd + 2);
    for (int k = 0; k < nd; k++) {
      if (k == dot)
        buf[p++] = '.';
      buf[p++] = (char)('0' + gsl_rng_uniform_int(r, 10));
    }
    if (gsl_rng_uniform_int(r, 2))
      p += (size_t)snprintf(buf + p, len - p, "e%d",
                            (int)gsl_rng_uniform_int(r, 71) - 35);
    buf[p] = '\0';
  } else {
    /* An integer midpoint between two doubles in [2^53, 2^62): the spacing
     * there is 2^(e−52), and the midpoint is a double plus half of it. */
    int e = 53 + (int)gsl_rng_uniform_int(r, 9);
    uint64_t step = (uint64_t)1 << (e - 52);
    uint64_t base =
        ((uint64_t)1 << e) +
        (((uint64_t)gsl_rng_get(r) << 20) % ((uint64_t)1 << e)) / step * step;
    snprintf(buf, len, "%llu", (unsigned long long)(base + step / 2));
  }
}

START_TEST(test_csv_matches_strtod) {
  /* The reader must give strtod's bits for every cell, whatever its format,
   * its padding and its position in the line. */
  const size_t n = 5000;
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 12345);
  char(*txt)[48] = malloc(n * sizeof *txt);
  const char *p = tpath("fuzz.csv");
  FILE *fp = fopen(p, "w");
  for (size_t i = 0; i < n; i++) {
    random_number(r, txt[i], sizeof txt[i]);
    fprintf(fp, "%s\n", txt[i]);
  }
  fclose(fp);
  gsl_rng_free(r);
  gsl_matrix *m = read_ok(p);
  ck_assert_uint_eq(m->size1, n);
  for (size_t i = 0; i < n; i++) {
    double want = strtod(txt[i], NULL), got = gsl_matrix_get(m, i, 0);
    ck_assert_msg(memcmp(&want, &got, sizeof want) == 0,
                  "'%s' read as %.17g, strtod gives %.17g", txt[i], got, want);
  }
  gsl_matrix_free(m);
  free(txt);

  /* Hand-picked midpoints (ties to even) and near-midpoints. */
  static const char *cases[] = {"9007199254740993",
                                "9007199254740995",
                                "-9007199254740993.0",
                                "4503599627370496.5",
                                "4503599627370497.5",
                                "9007199254740993.000000001",
                                "0.30000000000000004",
                                "123456789012345678e-27",
                                "1e23",
                                "8.98846567431158e307",
                                "2.2250738585072011e-308",
                                "0.000000000000000000000000000001"};
  const char *q = tpath("mid.csv");
  fp = fopen(q, "w");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    fprintf(fp, "%s\n", cases[i]);
  fclose(fp);
  m = read_ok(q);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double want = strtod(cases[i], NULL), got = gsl_matrix_get(m, i, 0);
    ck_assert_msg(memcmp(&want, &got, sizeof want) == 0,
                  "'%s' read as %.17g, strtod gives %.17g", cases[i], got,
                  want);
  }
  gsl_matrix_free(m);
}
END_TEST

START_TEST(test_npy_roundtrip) {
  gsl_matrix *a = awkward_matrix();
  const char *p = tpath("a.npy");
  IR_ASSERT_OK(ir_data_write_npy(p, a));
  gsl_matrix *b = read_ok(p);
  ck_assert_msg(same_bits(a, b), "NPY round trip changed bits");
  gsl_matrix_free(b);

  /* The layout numpy expects: version 1.0, data at a multiple of 64, header
   * ended by '\n', '<f8' C order with the right shape. */
  unsigned char h[512];
  FILE *fp = fopen(p, "rb");
  size_t got = fread(h, 1, sizeof h, fp);
  fclose(fp);
  ck_assert_uint_eq(got, file_size(p));
  ck_assert_int_eq(memcmp(h, "\x93NUMPY", 6), 0);
  ck_assert_int_eq(h[6], 1);
  ck_assert_int_eq(h[7], 0);
  size_t hlen = (size_t)h[8] | (size_t)h[9] << 8;
  ck_assert_uint_eq((10 + hlen) % 64, 0);
  ck_assert_int_eq(h[10 + hlen - 1], '\n');
  ck_assert_uint_eq(file_size(p), 10 + hlen + 12 * 8);
  char dict[256];
  memcpy(dict, h + 10, hlen);
  dict[hlen] = '\0';
  ck_assert_ptr_nonnull(strstr(dict, "'descr': '<f8'"));
  ck_assert_ptr_nonnull(strstr(dict, "'fortran_order': False"));
  ck_assert_ptr_nonnull(strstr(dict, "'shape': (4, 3)"));
  /* The first data byte is the low byte of the little-endian 0.1. */
  unsigned char enc[8];
  put_f8(enc, 0.1);
  ck_assert_int_eq(memcmp(h + 10 + hlen, enc, 8), 0);

  /* A non-contiguous view (tda > size2) is written row by row. */
  gsl_matrix_view v = gsl_matrix_submatrix(a, 1, 1, 2, 2);
  IR_ASSERT_OK(ir_data_write_matrix(tpath("v.npy"), &v.matrix, NULL));
  b = read_ok(tpath("v.npy"));
  ck_assert_msg(same_bits(&v.matrix, b), "NPY view round trip changed bits");
  gsl_matrix_free(b);
  gsl_matrix_free(a);
}
END_TEST

START_TEST(test_npy_dtypes) {
  unsigned char d[256];
  gsl_matrix *m;

  /* <f4, C order, 2×3: floats widen exactly to double. */
  const float f[6] = {0.5f, -1.25f, 3.0f, 1e-3f, 7.0f, -2e30f};
  for (int k = 0; k < 6; k++) {
    uint32_t u;
    memcpy(&u, &f[k], 4);
    put_le32(d + 4 * k, u);
  }
  write_npy(tpath("f4.npy"), 1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", d,
            24);
  m = read_ok(tpath("f4.npy"));
  double fv[6];
  for (int k = 0; k < 6; k++)
    fv[k] = (double)f[k];
  assert_matrix(m, 2, 3, fv);
  gsl_matrix_free(m);

  /* <i8, 1-D: an n×1 matrix. */
  const int64_t iv[4] = {-3, 0, 7, (int64_t)1 << 40};
  for (int k = 0; k < 4; k++)
    put_le64(d + 8 * k, (uint64_t)iv[k]);
  write_npy(tpath("i8.npy"), 1,
            "{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }", d, 32);
  m = read_ok(tpath("i8.npy"));
  const double iv_d[4] = {-3, 0, 7, 1099511627776.0};
  assert_matrix(m, 4, 1, iv_d);
  gsl_matrix_free(m);

  /* |u1, 2×2. */
  const unsigned char u1[4] = {0, 255, 17, 128};
  write_npy(tpath("u1.npy"), 1,
            "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", u1,
            4);
  m = read_ok(tpath("u1.npy"));
  const double u1v[4] = {0, 255, 17, 128};
  assert_matrix(m, 2, 2, u1v);
  gsl_matrix_free(m);

  /* <f8 in Fortran order: the file holds the columns one after another. */
  const double colmajor[6] = {1, 4, 2, 5, 3, 6};
  for (int k = 0; k < 6; k++)
    put_f8(d + 8 * k, colmajor[k]);
  write_npy(tpath("fo.npy"), 1,
            "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", d,
            48);
  m = read_ok(tpath("fo.npy"));
  const double rowmajor[6] = {1, 2, 3, 4, 5, 6};
  assert_matrix(m, 2, 3, rowmajor);
  gsl_matrix_free(m);

  /* Version 2.0 (4-byte header length). */
  for (int k = 0; k < 4; k++)
    put_f8(d + 8 * k, 0.25 * k - 1);
  write_npy(tpath("v2.npy"), 2,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", d,
            32);
  m = read_ok(tpath("v2.npy"));
  const double v2[4] = {-1, -0.75, -0.5, -0.25};
  assert_matrix(m, 2, 2, v2);
  gsl_matrix_free(m);

  /* Version 3.0 with <i4. */
  const int32_t i4[3] = {-2147483647 - 1, 5, 2147483647};
  for (int k = 0; k < 3; k++)
    put_le32(d + 4 * k, (uint32_t)i4[k]);
  write_npy(tpath("v3.npy"), 3,
            "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", d, 12);
  m = read_ok(tpath("v3.npy"));
  const double i4v[3] = {-2147483648.0, 5, 2147483647.0};
  assert_matrix(m, 3, 1, i4v);
  gsl_matrix_free(m);

  /* |b1 and <u1; keys in another order, double quotes, Python 2 "L". */
  const unsigned char b1[2] = {1, 0};
  write_npy(tpath("b1.npy"), 1,
            "{\"shape\": (1L, 2L), \"fortran_order\": False, \"descr\": "
            "\"|b1\"}",
            b1, 2);
  m = read_ok(tpath("b1.npy"));
  const double b1v[2] = {1, 0};
  assert_matrix(m, 1, 2, b1v);
  gsl_matrix_free(m);
  write_npy(tpath("lu1.npy"), 1,
            "{'descr': '<u1', 'fortran_order': False, 'shape': (2,), }", u1, 2);
  m = read_ok(tpath("lu1.npy"));
  assert_matrix(m, 2, 1, u1v);
  gsl_matrix_free(m);
}
END_TEST

START_TEST(test_read_matrix_dispatch) {
  gsl_matrix *a = ir_test_gaussian(5, 2, 3);
  IR_ASSERT_OK(ir_data_write_matrix(tpath("m.NPY"), a, NULL));
  IR_ASSERT_OK(ir_data_write_matrix(tpath("m.txt"), a, NULL));
  /* The extension chose the format: the .NPY file starts with the magic. */
  FILE *fp = fopen(tpath("m.NPY"), "rb");
  char magic[6];
  ck_assert_uint_eq(fread(magic, 1, 6, fp), 6);
  fclose(fp);
  ck_assert_int_eq(memcmp(magic, "\x93NUMPY", 6), 0);
  gsl_matrix *b = read_ok(tpath("m.NPY"));
  gsl_matrix *c = read_ok(tpath("m.txt"));
  ck_assert(same_bits(a, b));
  ck_assert(same_bits(a, c));
  gsl_matrix_free(a);
  gsl_matrix_free(b);
  gsl_matrix_free(c);
}
END_TEST

START_TEST(test_idx_roundtrip) {
  unsigned char data[12], buf[64];
  for (int k = 0; k < 12; k++)
    data[k] = (unsigned char)(20 * k + 3);
  const uint32_t dims[3] = {3, 2, 2};
  size_t len = make_idx(buf, 3, dims, data, 12);
  write_bytes(tpath("img.idx"), buf, len);
  write_gz(tpath("img.idx.gz"), buf, len);
  /* The compression is detected from the content, not from the name. */
  write_gz(tpath("img_gz_without_suffix"), buf, len);

  double v[12];
  for (int k = 0; k < 12; k++)
    v[k] = (double)data[k];
  const char *names[3] = {"img.idx", "img.idx.gz", "img_gz_without_suffix"};
  for (int t = 0; t < 3; t++) {
    gsl_matrix *m = NULL;
    IR_ASSERT_OK(ir_data_read_idx(tpath(names[t]), 0, &m));
    assert_matrix(m, 3, 4, v);
    gsl_matrix_free(m);
    IR_ASSERT_OK(ir_data_read_idx(tpath(names[t]), 2, &m));
    assert_matrix(m, 2, 4, v);
    gsl_matrix_free(m);
    IR_ASSERT_OK(ir_data_read_idx(tpath(names[t]), 99, &m));
    assert_matrix(m, 3, 4, v);
    gsl_matrix_free(m);
  }

  /* 1-D (labels) and 2-D files. */
  const uint32_t d1[1] = {5};
  len = make_idx(buf, 1, d1, data, 5);
  write_gz(tpath("lab.gz"), buf, len);
  gsl_matrix *m = NULL;
  IR_ASSERT_OK(ir_data_read_idx(tpath("lab.gz"), 0, &m));
  assert_matrix(m, 5, 1, v);
  gsl_matrix_free(m);
  const uint32_t d2[2] = {2, 6};
  len = make_idx(buf, 2, d2, data, 12);
  write_bytes(tpath("two.idx"), buf, len);
  IR_ASSERT_OK(ir_data_read_idx(tpath("two.idx"), 0, &m));
  assert_matrix(m, 2, 6, v);
  gsl_matrix_free(m);
}
END_TEST

/* ========================================================================== */
/* errors                                                                     */
/* ========================================================================== */

START_TEST(test_csv_errors) {
  csv_fails("ragged.csv", "1,2,3\n4,5,6\n7,8\n", IR_EFORMAT,
            ":3:3:", "row has 2 fields, expected 3");
  csv_fails("long.csv", "1,2\n\n3,4,5\n", IR_EFORMAT,
            ":3:3:", "row has 3 fields, expected 2");
  csv_fails("hdr_ragged.csv", "a,b,c\n1,2\n", IR_EFORMAT,
            ":2:", "row has 2 fields, expected 3 (as on line 1, the header)");
  csv_fails("empty_cell.csv", "1,2,3\n4,,6\n", IR_EFORMAT,
            ":2:2:", "empty cell");
  csv_fails("trailing_comma.csv", "1,2,\n", IR_EFORMAT, ":1:3:", "empty cell");
  csv_fails("text.csv", "x,y\n1,2\n3,abc\n", IR_EFORMAT,
            ":3:2:", "non-numeric cell 'abc'");
  csv_fails("junk.csv", "1,2\n3,4.5kg\n", IR_EFORMAT, ":2:2:", "'4.5kg'");
  csv_fails("nan.csv", "1,2\n3,nan\n", IR_EBADDATA, ":2:2:", "non-finite");
  csv_fails("inf.csv", "-inf,2\n", IR_EBADDATA, ":1:1:", "'-inf'");
  csv_fails("overflow.csv", "1,1e999\n", IR_EBADDATA, ":1:2:", "non-finite");
  csv_fails("empty.csv", "", IR_EFORMAT, NULL,
            ": empty file, expected a CSV matrix");
  csv_fails("blank.csv", "\n  \r\n\n", IR_EFORMAT, NULL, "empty file");
  csv_fails("header_only.csv", "a,b\n\n", IR_EFORMAT,
            ":1:", "header line but no data rows");
  csv_fails("npy_as.csv", "\x93NUMPY\x01", IR_EFORMAT, NULL, ".npy");

  gsl_matrix *m = (gsl_matrix *)1;
  ASSERT_FAILS(ir_data_read_csv(tpath("missing.csv"), &m), IR_EIO,
               "missing.csv", "No such file or directory");
  ck_assert_ptr_null(m);
  ck_assert_int_eq(mkdir(tpath("adir.csv"), 0777), 0);
  ASSERT_FAILS(ir_data_read_matrix(tpath("adir.csv"), &m), IR_EIO, "adir.csv",
               "is a directory");
  ASSERT_FAILS(ir_data_read_npy(tpath("adir.csv"), &m), IR_EIO, "adir.csv",
               "is a directory");
  ASSERT_FAILS(ir_data_read_idx(tpath("adir.csv"), 0, &m), IR_EIO, "adir.csv",
               "is a directory");
  ASSERT_FAILS(ir_data_read_idx(tpath("missing.gz"), 0, &m), IR_EIO,
               "missing.gz", "No such file or directory");
}
END_TEST

START_TEST(test_write_errors) {
  gsl_matrix *a = ir_test_gaussian(3, 2, 5);
  const char *p = tpath("no/such/dir/out.csv");
  ASSERT_FAILS(ir_data_write_csv(p, a, NULL), IR_EIO, "out.csv", NULL);
  ck_assert(!file_exists(p));
  p = tpath("no/such/dir/out.npy");
  ASSERT_FAILS(ir_data_write_matrix(p, a, NULL), IR_EIO, "out.npy", NULL);
  ck_assert(!file_exists(p));

  /* The target is a directory: nothing is written, no temporary remains. */
  ck_assert_int_eq(mkdir(tpath("d.csv"), 0777), 0);
  ASSERT_FAILS(ir_data_write_csv(tpath("d.csv"), a, NULL), IR_EIO, "d.csv",
               "directory");
  ck_assert_int_eq(count_entries(), 1);

  /* Headers that could not be read back. */
  ASSERT_FAILS(ir_data_write_csv(tpath("h.csv"), a, "a,b\nc,d"), IR_EINVAL,
               "h.csv", "line break");
  ASSERT_FAILS(ir_data_write_csv(tpath("h.csv"), a, "1,2"), IR_EINVAL, "h.csv",
               "for data");
  ASSERT_FAILS(ir_data_write_matrix(tpath("h.npy"), a, "a,b"), IR_EINVAL,
               "h.npy", "no header");
  ck_assert_int_eq(count_entries(), 1);
  gsl_matrix_free(a);
}
END_TEST

START_TEST(test_npy_errors) {
  unsigned char d[64];
  gsl_matrix *m = (gsl_matrix *)1;
  for (int k = 0; k < 8; k++)
    put_f8(d + 8 * k, k + 0.5);

  write_text(tpath("magic.npy"), "PK\x03\x04 this is a zip");
  ASSERT_FAILS(ir_data_read_npy(tpath("magic.npy"), &m), IR_EFORMAT,
               "magic.npy", "not a NumPy .npy file");
  ck_assert_ptr_null(m);

  write_npy(tpath("ver.npy"), 4,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", d, 16);
  ASSERT_FAILS(ir_data_read_npy(tpath("ver.npy"), &m), IR_EFORMAT, "ver.npy",
               "version 4.0");

  write_npy(tpath("be.npy"), 1,
            "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", d, 16);
  ASSERT_FAILS(ir_data_read_npy(tpath("be.npy"), &m), IR_EFORMAT, "be.npy",
               "unsupported .npy dtype '>f8'");
  write_npy(tpath("c16.npy"), 1,
            "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", d,
            16);
  ASSERT_FAILS(ir_data_read_npy(tpath("c16.npy"), &m), IR_EFORMAT, "c16.npy",
               "'<c16'");

  write_npy(tpath("3d.npy"), 1,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2, 2), }", d,
            64);
  ASSERT_FAILS(ir_data_read_npy(tpath("3d.npy"), &m), IR_EFORMAT, "3d.npy",
               "3-D array");
  write_npy(tpath("0d.npy"), 1,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", d, 8);
  ASSERT_FAILS(ir_data_read_npy(tpath("0d.npy"), &m), IR_EFORMAT, "0d.npy",
               "0-d array");
  write_npy(tpath("empty.npy"), 1,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }", d,
            0);
  ASSERT_FAILS(ir_data_read_npy(tpath("empty.npy"), &m), IR_EFORMAT,
               "empty.npy", "empty array");

  write_npy(tpath("trunc.npy"), 1,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", d,
            40);
  ASSERT_FAILS(ir_data_read_npy(tpath("trunc.npy"), &m), IR_EFORMAT,
               "trunc.npy",
               "expected 48 bytes for shape (3, 2) of <f8, found 40");
  write_npy(tpath("extra.npy"), 1,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", d,
            40);
  ASSERT_FAILS(ir_data_read_npy(tpath("extra.npy"), &m), IR_EFORMAT,
               "extra.npy", "8 unexpected bytes");

  put_f8(d + 8 * 2, NAN);
  write_npy(tpath("nan.npy"), 1,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", d,
            48);
  ASSERT_FAILS(ir_data_read_npy(tpath("nan.npy"), &m), IR_EBADDATA, "nan.npy",
               "element (2, 1) is NaN");
  const float inf = INFINITY;
  uint32_t u;
  memcpy(&u, &inf, 4);
  put_le32(d, 0);
  put_le32(d + 4, u);
  write_npy(tpath("inf.npy"), 1,
            "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }", d, 8);
  ASSERT_FAILS(ir_data_read_npy(tpath("inf.npy"), &m), IR_EBADDATA, "inf.npy",
               "element (1, 2) is +Inf");

  write_npy(tpath("colon.npy"), 1,
            "{'descr' '<f8', 'fortran_order': False, 'shape': (1,), }", d, 8);
  ASSERT_FAILS(ir_data_read_npy(tpath("colon.npy"), &m), IR_EFORMAT,
               "colon.npy", "malformed .npy header");
  write_npy(tpath("nokey.npy"), 1, "{'descr': '<f8', 'shape': (1,), }", d, 8);
  ASSERT_FAILS(ir_data_read_npy(tpath("nokey.npy"), &m), IR_EFORMAT,
               "nokey.npy", "fortran_order");
  write_npy(tpath("fo.npy"), 1,
            "{'descr': '<f8', 'fortran_order': 0, 'shape': (1,), }", d, 8);
  ASSERT_FAILS(ir_data_read_npy(tpath("fo.npy"), &m), IR_EFORMAT, "fo.npy",
               "True or False");

  /* A header length that runs past the end of the file. */
  unsigned char h[16] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0xff, 0x00, '{'};
  write_bytes(tpath("hdr.npy"), h, 11);
  ASSERT_FAILS(ir_data_read_npy(tpath("hdr.npy"), &m), IR_EFORMAT, "hdr.npy",
               "truncated .npy header");
  ck_assert_ptr_null(m);
}
END_TEST

/* Writes buf as gzip members split at the offsets cut[0..ncut) (several
 * members, as pigz or `cat a.gz b.gz` make), then the extra bytes of tail
 * (ntail) as one more member. */
static void write_gz_members(const char *path, const unsigned char *buf,
                             size_t len, const size_t *cut, int ncut,
                             const unsigned char *tail, size_t ntail) {
  FILE *fp = fopen(path, "wb");
  ck_assert_ptr_nonnull(fp);
  size_t at = 0;
  for (int k = 0; k <= ncut + (ntail > 0); k++) {
    const unsigned char *p = k <= ncut ? buf + at : tail;
    size_t n = k < ncut ? cut[k] - at : k == ncut ? len - at : ntail;
    z_stream z;
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8,
                                  Z_DEFAULT_STRATEGY),
                     Z_OK);
    unsigned char out[8192];
    z.next_in = (unsigned char *)p;
    z.avail_in = (uInt)n;
    int r;
    do {
      z.next_out = out;
      z.avail_out = sizeof out;
      r = deflate(&z, Z_FINISH);
      ck_assert(r == Z_OK || r == Z_STREAM_END);
      fwrite(out, 1, sizeof out - z.avail_out, fp);
    } while (r != Z_STREAM_END);
    deflateEnd(&z);
    if (k < ncut)
      at = cut[k];
  }
  ck_assert_int_eq(fclose(fp), 0);
}

/* The gzip file at path: inflated whole when expected (whole = 1), and
 * with IMPLREG_IDX_WHOLE_MAX = 0 streamed; both read bit for bit as ref. */
static void assert_idx_paths(const char *path, const gsl_matrix *ref,
                             int whole) {
  int w = -1;
  IR_ASSERT_OK(ir_idx_probe(path, &w));
  ck_assert_int_eq(w, whole);
  for (int mode = 0; mode < 2; mode++) {
    if (mode == 1) {
      ck_assert_int_eq(setenv("IMPLREG_IDX_WHOLE_MAX", "0", 1), 0);
      IR_ASSERT_OK(ir_idx_probe(path, &w));
      ck_assert_int_eq(w, 0);
    }
    gsl_matrix *m = NULL;
    IR_ASSERT_OK(ir_data_read_idx(path, 0, &m));
    ck_assert(same_bits(m, ref));
    gsl_matrix_free(m);
  }
  unsetenv("IMPLREG_IDX_WHOLE_MAX");
}

START_TEST(test_idx_whole_and_streamed) {
  /* 64 items of 3×5 bytes, not compressible to nothing. */
  static unsigned char data[64 * 15], buf[64 * 15 + 16], more[40];
  for (size_t k = 0; k < sizeof data; k++)
    data[k] = (unsigned char)((k * 2654435761u) >> 11);
  for (size_t k = 0; k < sizeof more; k++)
    more[k] = (unsigned char)(k + 1);
  const uint32_t dims[3] = {64, 3, 5};
  size_t len = make_idx(buf, 3, dims, data, sizeof data);
  write_bytes(tpath("w.idx"), buf, len);
  gsl_matrix *ref = NULL;
  IR_ASSERT_OK(ir_data_read_idx(tpath("w.idx"), 0, &ref));
  int w = -1;
  IR_ASSERT_OK(ir_idx_probe(tpath("w.idx"), &w));
  ck_assert_int_eq(w, 0); /* not compressed: nothing to inflate */

  /* One member; several (a cut inside the header, one inside an item);
   * one more member after the data (ignored by both paths). */
  write_gz(tpath("w1.gz"), buf, len);
  assert_idx_paths(tpath("w1.gz"), ref, 1);
  const size_t cut[3] = {7, 100, 101};
  write_gz_members(tpath("w3.gz"), buf, len, cut, 3, NULL, 0);
  assert_idx_paths(tpath("w3.gz"), ref, 1);
  write_gz_members(tpath("wt.gz"), buf, len, cut, 1, more, sizeof more);
  assert_idx_paths(tpath("wt.gz"), ref, 1);
  /* More data inside the last member than the header declares: libdeflate
   * cannot stop there, zlib's stream reads what it needs. */
  unsigned char *longer = malloc(len + sizeof more);
  memcpy(longer, buf, len);
  memcpy(longer + len, more, sizeof more);
  write_gz(tpath("wl.gz"), longer, len + sizeof more);
  assert_idx_paths(tpath("wl.gz"), ref, 0);
  free(longer);
  gsl_matrix_free(ref);
}
END_TEST

/* The gzip errors of test_idx_errors, the same on both reading paths. */
static void idx_gzip_errors(void) {
  unsigned char data[12] = {0}, buf[64];
  const uint32_t dims[3] = {3, 2, 2};
  gsl_matrix *m = (gsl_matrix *)1;
  size_t len = make_idx(buf, 3, dims, data, 10);
  /* The content compressed: caught while decompressing. */
  write_gz(tpath("short.gz"), buf, len);
  ASSERT_FAILS(ir_data_read_idx(tpath("short.gz"), 0, &m), IR_EFORMAT,
               "short.gz", "truncated IDX data: expected 12 bytes");
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "found 10"));
  /* Reading only the complete first item still works. */
  IR_ASSERT_OK(ir_data_read_idx(tpath("short.gz"), 1, &m));
  gsl_matrix_free(m);

  /* A gzip stream cut in the middle. */
  static unsigned char big[4096], whole[4096 + 16];
  for (size_t k = 0; k < sizeof big; k++)
    big[k] = (unsigned char)((k * 2654435761u) >> 13);
  const uint32_t bd[2] = {64, 64};
  len = make_idx(whole, 2, bd, big, sizeof big);
  write_gz(tpath("cut.gz"), whole, len);
  size_t zsize = file_size(tpath("cut.gz"));
  FILE *fp = fopen(tpath("cut.gz"), "rb");
  unsigned char *z = malloc(zsize);
  ck_assert_uint_eq(fread(z, 1, zsize, fp), zsize);
  fclose(fp);
  write_bytes(tpath("cut.gz"), z, zsize / 2);
  ASSERT_FAILS(ir_data_read_idx(tpath("cut.gz"), 0, &m), IR_EFORMAT, "cut.gz",
               "truncated");
  /* A corrupt byte in the middle of the stream (its CRC then fails). */
  z[zsize / 2] ^= 0x55;
  write_bytes(tpath("bad.gz"), z, zsize);
  free(z);
  ASSERT_FAILS(ir_data_read_idx(tpath("bad.gz"), 0, &m), IR_EFORMAT, "bad.gz",
               "zlib");
  ck_assert_ptr_null(m);
}

START_TEST(test_idx_errors) {
  unsigned char data[12] = {0}, buf[64];
  const uint32_t dims[3] = {3, 2, 2};
  gsl_matrix *m = (gsl_matrix *)1;

  /* Raw file with 10 of the 12 data bytes: caught from the file size. */
  size_t len = make_idx(buf, 3, dims, data, 10);
  write_bytes(tpath("short.idx"), buf, len);
  ASSERT_FAILS(ir_data_read_idx(tpath("short.idx"), 0, &m), IR_EFORMAT,
               "short.idx", "expected 12 bytes");
  ck_assert_ptr_null(m);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "found 10"));

  /* Compressed: the same messages whether the file is inflated whole or
   * streamed. */
  idx_gzip_errors();
  ck_assert_int_eq(setenv("IMPLREG_IDX_WHOLE_MAX", "0", 1), 0);
  idx_gzip_errors();
  unsetenv("IMPLREG_IDX_WHOLE_MAX");

  /* Wrong magic, element type and dimension count. */
  write_text(tpath("text.idx"), "hello world");
  ASSERT_FAILS(ir_data_read_idx(tpath("text.idx"), 0, &m), IR_EFORMAT,
               "text.idx", "bad IDX magic");
  len = make_idx(buf, 3, dims, data, 12);
  buf[2] = 0x0D;
  write_bytes(tpath("float.idx"), buf, len);
  ASSERT_FAILS(ir_data_read_idx(tpath("float.idx"), 0, &m), IR_EFORMAT,
               "float.idx", "element type 0x0d");
  buf[2] = 0x08;
  buf[3] = 4;
  write_bytes(tpath("4d.idx"), buf, len);
  ASSERT_FAILS(ir_data_read_idx(tpath("4d.idx"), 0, &m), IR_EFORMAT, "4d.idx",
               "4 dimensions");
  write_bytes(tpath("tiny.idx"), buf, 2);
  ASSERT_FAILS(ir_data_read_idx(tpath("tiny.idx"), 0, &m), IR_EFORMAT,
               "tiny.idx", "too short");
  ck_assert_ptr_null(m);
}
END_TEST

START_TEST(test_check_finite) {
  gsl_matrix *a = ir_test_gaussian(3, 4, 2);
  IR_ASSERT_OK(ir_matrix_check_finite(a, "X"));
  gsl_matrix_set(a, 2, 3, -INFINITY);
  gsl_matrix_set(a, 1, 2, NAN);
  ASSERT_FAILS(ir_matrix_check_finite(a, "X"), IR_EBADDATA, "X: entry (2, 3)",
               "NaN");
  gsl_matrix_set(a, 1, 2, 0.0);
  ASSERT_FAILS(ir_matrix_check_finite(a, "Y_test"), IR_EBADDATA,
               "Y_test: entry (3, 4)", "-Inf");
  gsl_matrix_free(a);
}
END_TEST

START_TEST(test_dataset_alloc) {
  ir_dataset_free(NULL);
  ir_dataset *ds = ir_dataset_alloc(0, 3, 1, 0);
  ck_assert_ptr_null(ds);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "n = 0"));
  ds = ir_dataset_alloc(4, 3, 2, 0);
  ck_assert_ptr_nonnull(ds);
  ck_assert_ptr_null(ds->labels);
  ck_assert_uint_eq(ds->X->size1, 4);
  ck_assert_uint_eq(ds->X->size2, 3);
  ck_assert_uint_eq(ds->Y->size2, 2);
  ck_assert(gsl_matrix_isnull(ds->Y));
  ir_dataset_free(ds);
  ds = ir_dataset_alloc(4, 3, 5, 5);
  ck_assert_ptr_nonnull(ds);
  ck_assert_ptr_nonnull(ds->labels);
  ck_assert_uint_eq(ds->nclasses, 5);
  ir_dataset_free(ds);
}
END_TEST

START_TEST(test_teacher_invalid) {
  gsl_rng *r = ir_rng_alloc(1, ir_rng_stream(IR_STREAM_DATA, 0, 0));
  ir_dataset *tr = (ir_dataset *)1, *te = (ir_dataset *)1;
  ir_teacher_params p = {100, 10, 5, 1.0, 0.1, NULL, 0};
  p.r2 = -1;
  ASSERT_FAILS(ir_data_linear_teacher(&p, r, &tr, &te, NULL), IR_EINVAL, "r2",
               NULL);
  ck_assert_ptr_null(tr);
  ck_assert_ptr_null(te);
  p.r2 = 1;
  p.sigma2 = NAN;
  ASSERT_FAILS(ir_data_linear_teacher(&p, r, &tr, &te, NULL), IR_EINVAL,
               "sigma2", NULL);
  p.sigma2 = 0.1;
  p.n = 0;
  ASSERT_FAILS(ir_data_linear_teacher(&p, r, &tr, &te, NULL), IR_EINVAL,
               "n = 0", NULL);
  p.n = 100;
  ASSERT_FAILS(ir_data_linear_teacher(&p, r, &tr, NULL, NULL), IR_EINVAL,
               "test is NULL", NULL);
  const double spec[5] = {1, 1, -1, 1, 1};
  p.spectrum = spec;
  ASSERT_FAILS(ir_data_linear_teacher(&p, r, &tr, &te, NULL), IR_EINVAL,
               "spectrum[2]", NULL);
  /* ntest = 0: no test set. */
  p.spectrum = NULL;
  p.ntest = 0;
  IR_ASSERT_OK(ir_data_linear_teacher(&p, r, &tr, &te, NULL));
  ck_assert_ptr_null(te);
  ir_dataset_free(tr);
  ir_rng_free(r);
}
END_TEST

START_TEST(test_fashion_errors) {
  gsl_rng *r = ir_rng_alloc(1, ir_rng_stream(IR_STREAM_DATA, 0, 0));
  ir_dataset *ds = (ir_dataset *)1;
  ck_assert_int_eq(ir_data_fashion_mnist_available(tmpdir), 0);
  ASSERT_FAILS(ir_data_fashion_mnist(tmpdir, 0, 10, r, &ds), IR_EIO,
               "train-images-idx3-ubyte.gz", "install dataset-fashion-mnist");
  ck_assert_ptr_null(ds);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), tmpdir));
  ASSERT_FAILS(ir_data_fashion_mnist(tmpdir, 2, 10, r, &ds), IR_EINVAL,
               "split = 2", NULL);
  ASSERT_FAILS(ir_data_fashion_mnist(tmpdir, 1, 0, r, &ds), IR_EINVAL, "n = 0",
               NULL);
  ir_rng_free(r);
}
END_TEST

/* ========================================================================== */
/* synthetic                                                                  */
/* ========================================================================== */

/* y − xᵀβ for row i, summed in the order the generator uses. */
static double residual(const ir_dataset *ds, const double *beta, size_t i) {
  double y = 0.0;
  for (size_t j = 0; j < ds->d; j++)
    y += gsl_matrix_get(ds->X, i, j) * beta[j];
  return gsl_matrix_get(ds->Y, i, 0) - y;
}

START_TEST(test_teacher_moments) {
  /* Tolerances are 5 standard errors of each sample moment, so a correct
   * generator fails a check with probability about 6e-7 per check for a
   * random seed (and the seed here is fixed).  For n i.i.d. N(0, v) values
   * the mean has standard error sqrt(v/n) and the mean square (an estimate
   * of v) has standard error v·sqrt(2/n). */
  const size_t n = 20000, d = 5;
  const double r2 = 2.0, s2 = 0.5;
  ir_teacher_params p = {n, 10, d, r2, s2, NULL, 0};
  gsl_rng *r = ir_rng_alloc(3, ir_rng_stream(IR_STREAM_DATA, 1, 2));
  ir_dataset *tr, *te;
  double beta[5];
  IR_ASSERT_OK(ir_data_linear_teacher(&p, r, &tr, &te, beta));
  ck_assert_uint_eq(tr->n, n);
  ck_assert_uint_eq(tr->d, d);
  ck_assert_uint_eq(tr->K, 1);
  ck_assert_ptr_null(tr->labels);
  ck_assert_uint_eq(te->n, 10);

  double b2 = 0;
  for (size_t j = 0; j < d; j++)
    b2 += beta[j] * beta[j];
  IR_ASSERT_CLOSE(b2, r2, 1e-12, 0);

  const double sq = sqrt(2.0 / (double)n), z = 5.0;
  double e1 = 0, e2 = 0, y2 = 0, x2[5] = {0}, xe[5] = {0};
  for (size_t i = 0; i < n; i++) {
    double e = residual(tr, beta, i), y = gsl_matrix_get(tr->Y, i, 0);
    e1 += e;
    e2 += e * e;
    y2 += y * y;
    for (size_t j = 0; j < d; j++) {
      double x = gsl_matrix_get(tr->X, i, j);
      x2[j] += x * x;
      xe[j] += x * e;
    }
  }
  /* Noise: mean 0 (SE σ/√n), variance σ² (SE σ²·√(2/n)). */
  IR_ASSERT_CLOSE(e1 / n, 0.0, 0, z * sqrt(s2 / n));
  IR_ASSERT_CLOSE(e2 / n, s2, 0, z * s2 * sq);
  /* Inputs: E x_j² = 1 (SE √(2/n)); E x_j ε = 0 (SE σ/√n). */
  for (size_t j = 0; j < d; j++) {
    IR_ASSERT_CLOSE(x2[j] / n, 1.0, 0, z * sq);
    IR_ASSERT_CLOSE(xe[j] / n, 0.0, 0, z * sqrt(s2 / n));
  }
  /* Targets: y ~ N(0, ‖β‖² + σ²) given β. */
  IR_ASSERT_CLOSE(y2 / n, r2 + s2, 0, z * (r2 + s2) * sq);

  /* Noiseless test targets are exactly xᵀβ. */
  for (size_t i = 0; i < te->n; i++)
    IR_ASSERT_CLOSE(residual(te, beta, i), 0.0, 0, 1e-14);
  ir_dataset_free(tr);
  ir_dataset_free(te);
  ir_rng_free(r);
}
END_TEST

START_TEST(test_teacher_spectrum) {
  /* x ~ N(0, diag(s)): E x_j² = s_j (SE s_j·√(2/n)); a zero eigenvalue gives
   * a zero column; E y² = Σ s_j β_j² + σ².  Test noise has variance σ². */
  const size_t n = 20000, d = 4;
  const double spec[4] = {4.0, 1.0, 0.25, 0.0}, s2 = 0.3;
  ir_teacher_params p = {n, n, d, 1.5, s2, spec, 1};
  gsl_rng *r = ir_rng_alloc(5, ir_rng_stream(IR_STREAM_DATA, 7, 0));
  ir_dataset *tr, *te;
  double beta[4];
  IR_ASSERT_OK(ir_data_linear_teacher(&p, r, &tr, &te, beta));
  const double sq = sqrt(2.0 / (double)n), z = 5.0;
  double x2[4] = {0}, y2 = 0, e2 = 0, vy = s2;
  for (size_t j = 0; j < d; j++)
    vy += spec[j] * beta[j] * beta[j];
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < d; j++) {
      double x = gsl_matrix_get(tr->X, i, j);
      x2[j] += x * x;
    }
    double y = gsl_matrix_get(tr->Y, i, 0), e = residual(te, beta, i);
    y2 += y * y;
    e2 += e * e;
  }
  for (size_t j = 0; j < 3; j++)
    IR_ASSERT_CLOSE(x2[j] / n, spec[j], 0, z * spec[j] * sq);
  ck_assert(x2[3] == 0.0);
  IR_ASSERT_CLOSE(y2 / n, vy, 0, z * vy * sq);
  IR_ASSERT_CLOSE(e2 / n, s2, 0, z * s2 * sq);
  ir_dataset_free(tr);
  ir_dataset_free(te);
  ir_rng_free(r);
}
END_TEST

static void teacher_run(unsigned long seed, double s2, int test_noise,
                        ir_dataset **tr, ir_dataset **te, double *beta) {
  ir_teacher_params p = {50, 30, 7, 1.0, s2, NULL, test_noise};
  gsl_rng *r = ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_DATA, 0, 0));
  IR_ASSERT_OK(ir_data_linear_teacher(&p, r, tr, te, beta));
  ir_rng_free(r);
}

static int same_data(const ir_dataset *a, const ir_dataset *b) {
  return same_bits(a->X, b->X) && same_bits(a->Y, b->Y);
}

START_TEST(test_teacher_reproducible) {
  ir_dataset *a, *at, *b, *bt, *c, *ct, *e, *et;
  double ba[7], bb[7], bc[7], be[7];
  teacher_run(9, 0.2, 0, &a, &at, ba);
  teacher_run(9, 0.2, 0, &b, &bt, bb);
  teacher_run(10, 0.2, 0, &c, &ct, bc);
  teacher_run(9, 0.7, 1, &e, &et, be);
  /* Same seed: the same bits. */
  ck_assert(same_data(a, b) && same_data(at, bt));
  ck_assert_int_eq(memcmp(ba, bb, sizeof ba), 0);
  /* Another seed: other data. */
  ck_assert(!same_bits(a->X, c->X));
  ck_assert_int_ne(memcmp(ba, bc, sizeof ba), 0);
  /* σ² and test_noise change only the targets, never β or the inputs. */
  ck_assert_int_eq(memcmp(ba, be, sizeof ba), 0);
  ck_assert(same_bits(a->X, e->X) && same_bits(at->X, et->X));
  ck_assert(!same_bits(a->Y, e->Y) && !same_bits(at->Y, et->Y));
  ir_dataset *sets[8] = {a, at, b, bt, c, ct, e, et};
  for (int k = 0; k < 8; k++)
    ir_dataset_free(sets[k]);
}
END_TEST

/* ========================================================================== */
/* transforms                                                                 */
/* ========================================================================== */

/* A classification data set: labels i mod C, one-hot Y, Gaussian X. */
static ir_dataset *make_classes(size_t n, size_t d, size_t C) {
  ir_dataset *ds = ir_dataset_alloc(n, d, C, C);
  ck_assert_ptr_nonnull(ds);
  gsl_matrix *X = ir_test_gaussian(n, d, 17);
  gsl_matrix_memcpy(ds->X, X);
  gsl_matrix_free(X);
  for (size_t i = 0; i < n; i++) {
    ds->labels[i] = i % C;
    gsl_matrix_set(ds->Y, i, i % C, 1.0);
  }
  return ds;
}

static void assert_one_hot(const ir_dataset *ds) {
  for (size_t i = 0; i < ds->n; i++) {
    ck_assert_uint_lt(ds->labels[i], ds->nclasses);
    for (size_t c = 0; c < ds->K; c++)
      ck_assert(gsl_matrix_get(ds->Y, i, c) == (c == ds->labels[i] ? 1 : 0));
  }
}

START_TEST(test_append_ones) {
  ir_dataset *ds = make_classes(6, 3, 2);
  gsl_matrix *X0 = gsl_matrix_alloc(6, 3);
  gsl_matrix_memcpy(X0, ds->X);
  IR_ASSERT_OK(ir_data_append_ones(ds));
  ck_assert_uint_eq(ds->d, 4);
  ck_assert_uint_eq(ds->X->size2, 4);
  for (size_t i = 0; i < 6; i++) {
    for (size_t j = 0; j < 3; j++)
      ck_assert(gsl_matrix_get(ds->X, i, j) == gsl_matrix_get(X0, i, j));
    ck_assert(gsl_matrix_get(ds->X, i, 3) == 1.0);
  }
  gsl_matrix *m = X0;
  IR_ASSERT_OK(ir_matrix_append_ones(&m));
  ck_assert(same_bits(m, ds->X));
  gsl_matrix_free(m);
  ir_dataset_free(ds);
  ASSERT_FAILS(ir_matrix_append_ones(NULL), IR_EINVAL, NULL, NULL);
}
END_TEST

START_TEST(test_subset) {
  ir_dataset *ds = make_classes(10, 3, 4);
  const size_t idx[4] = {7, 0, 7, 9};
  ir_dataset *s;
  IR_ASSERT_OK(ir_data_subset(ds, idx, 4, &s));
  ck_assert_uint_eq(s->n, 4);
  ck_assert_uint_eq(s->d, 3);
  ck_assert_uint_eq(s->K, 4);
  ck_assert_uint_eq(s->nclasses, 4);
  for (size_t k = 0; k < 4; k++) {
    ck_assert_uint_eq(s->labels[k], ds->labels[idx[k]]);
    for (size_t j = 0; j < 3; j++)
      ck_assert(gsl_matrix_get(s->X, k, j) == gsl_matrix_get(ds->X, idx[k], j));
  }
  assert_one_hot(s);
  ir_dataset_free(s);
  const size_t bad[2] = {1, 10};
  s = (ir_dataset *)1;
  ASSERT_FAILS(ir_data_subset(ds, bad, 2, &s), IR_EINVAL, "idx[1] = 10",
               "n = 10");
  ck_assert_ptr_null(s);
  ir_dataset_free(ds);
}
END_TEST

START_TEST(test_standardize) {
  const size_t n = 50, nt = 8;
  ir_dataset *tr = ir_dataset_alloc(n, 3, 1, 0), *te;
  te = ir_dataset_alloc(nt, 3, 1, 0);
  gsl_matrix *G = ir_test_gaussian(n + nt, 2, 23);
  for (size_t i = 0; i < n + nt; i++) {
    gsl_matrix *X = i < n ? tr->X : te->X;
    size_t r = i < n ? i : i - n;
    gsl_matrix_set(X, r, 0, 3.0 * gsl_matrix_get(G, i, 0) + 10.0);
    gsl_matrix_set(X, r, 1, 0.01 * gsl_matrix_get(G, i, 1) - 2.0);
    gsl_matrix_set(X, r, 2, 3.7); /* constant: only centered */
  }
  gsl_matrix_free(G);
  /* The expected map, computed independently: divisor n (population). */
  double mu[3] = {0}, sd[3] = {0};
  for (size_t j = 0; j < 3; j++) {
    for (size_t i = 0; i < n; i++)
      mu[j] += gsl_matrix_get(tr->X, i, j) / n;
    for (size_t i = 0; i < n; i++)
      sd[j] += pow(gsl_matrix_get(tr->X, i, j) - mu[j], 2) / n;
    sd[j] = sqrt(sd[j]);
  }
  double t00 = gsl_matrix_get(te->X, 0, 0), t51 = gsl_matrix_get(te->X, 5, 1);
  IR_ASSERT_OK(ir_data_standardize(tr, te));
  for (size_t j = 0; j < 2; j++) {
    double m1 = 0, m2 = 0;
    for (size_t i = 0; i < n; i++) {
      m1 += gsl_matrix_get(tr->X, i, j);
      m2 += pow(gsl_matrix_get(tr->X, i, j), 2);
    }
    IR_ASSERT_CLOSE(m1 / n, 0.0, 0, 1e-13);
    IR_ASSERT_CLOSE(m2 / n, 1.0, 1e-12, 0);
  }
  for (size_t i = 0; i < n; i++)
    ck_assert(gsl_matrix_get(tr->X, i, 2) == 0.0);
  for (size_t i = 0; i < nt; i++)
    ck_assert(gsl_matrix_get(te->X, i, 2) == 0.0);
  IR_ASSERT_CLOSE(gsl_matrix_get(te->X, 0, 0), (t00 - mu[0]) / sd[0], 1e-12,
                  1e-12);
  IR_ASSERT_CLOSE(gsl_matrix_get(te->X, 5, 1), (t51 - mu[1]) / sd[1], 1e-10,
                  1e-12);

  /* Test sets must have the same columns; NaN in train is refused. */
  ir_dataset *wrong = ir_dataset_alloc(2, 4, 1, 0);
  ASSERT_FAILS(ir_data_standardize(tr, wrong), IR_ESHAPE, "4 columns", NULL);
  gsl_matrix_set(tr->X, 4, 1, NAN);
  ASSERT_FAILS(ir_data_standardize(tr, NULL), IR_EBADDATA, "(5, 2)", NULL);
  ir_dataset_free(wrong);
  ir_dataset_free(tr);
  ir_dataset_free(te);
}
END_TEST

/* Applies label noise to a fresh data set; returns the number of changed
 * labels after checking that no label "changed" to itself and that Y is
 * one-hot and consistent. */
static size_t noisy_count(size_t n, size_t C, double frac, unsigned long seed,
                          ir_dataset **keep) {
  ir_dataset *ds = make_classes(n, 2, C);
  gsl_rng *r = ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_DATA, 3, 0));
  IR_ASSERT_OK(ir_data_label_noise(ds, frac, r));
  ir_rng_free(r);
  assert_one_hot(ds);
  size_t changed = 0;
  for (size_t i = 0; i < n; i++)
    changed += ds->labels[i] != i % C;
  if (keep != NULL)
    *keep = ds;
  else
    ir_dataset_free(ds);
  return changed;
}

START_TEST(test_label_noise) {
  /* Exactly round(frac·n) labels change (each to another class). */
  ck_assert_uint_eq(noisy_count(1000, 10, 0.3, 1, NULL), 300);
  ck_assert_uint_eq(noisy_count(1000, 10, 0.0, 1, NULL), 0);
  ck_assert_uint_eq(noisy_count(1000, 10, 1.0, 1, NULL), 1000);
  ck_assert_uint_eq(noisy_count(7, 3, 0.5, 2, NULL), 4);   /* round(3.5) */
  ck_assert_uint_eq(noisy_count(10, 3, 0.25, 2, NULL), 3); /* round(2.5) */
  ck_assert_uint_eq(noisy_count(999, 2, 1.0, 3, NULL), 999);

  /* The new class is uniform over the C − 1 others: with every label of
   * n = 18000 changed, each shift (new − old) mod C in 1..9 has count
   * Binomial(n, 1/9): mean 2000, standard error sqrt(n·(1/9)·(8/9)) ≈ 42.2;
   * the tolerance is 5 standard errors. */
  const size_t n = 18000, C = 10;
  ir_dataset *ds;
  ck_assert_uint_eq(noisy_count(n, C, 1.0, 4, &ds), n);
  size_t cnt[10] = {0};
  for (size_t i = 0; i < n; i++)
    cnt[(ds->labels[i] + C - i % C) % C]++;
  ck_assert_uint_eq(cnt[0], 0);
  const double se = sqrt(n * (1.0 / 9) * (8.0 / 9));
  for (size_t k = 1; k < C; k++)
    IR_ASSERT_CLOSE((double)cnt[k], n / 9.0, 0, 5 * se);
  ir_dataset_free(ds);

  /* Same seed, same noise. */
  ir_dataset *a, *b;
  noisy_count(500, 5, 0.4, 8, &a);
  noisy_count(500, 5, 0.4, 8, &b);
  ck_assert_int_eq(memcmp(a->labels, b->labels, 500 * sizeof(size_t)), 0);
  ir_dataset_free(a);
  ir_dataset_free(b);
}
END_TEST

START_TEST(test_label_noise_errors) {
  gsl_rng *r = ir_rng_alloc(1, ir_rng_stream(IR_STREAM_DATA, 3, 0));
  ir_dataset *ds = make_classes(10, 2, 3);
  ASSERT_FAILS(ir_data_label_noise(ds, 1.5, r), IR_EINVAL, "frac = 1.5", NULL);
  ASSERT_FAILS(ir_data_label_noise(ds, NAN, r), IR_EINVAL, "frac", NULL);
  ds->labels[4] = 3;
  ASSERT_FAILS(ir_data_label_noise(ds, 0.5, r), IR_EBADDATA, "row 5", NULL);
  ir_dataset_free(ds);
  ds = ir_dataset_alloc(5, 2, 1, 0);
  ASSERT_FAILS(ir_data_label_noise(ds, 0.5, r), IR_EINVAL, "labels", NULL);
  ir_dataset_free(ds);
  ir_rng_free(r);
}
END_TEST

/* ========================================================================== */
/* fashion                                                                    */
/* ========================================================================== */

static int fashion_present(void) {
  if (ir_data_fashion_mnist_available(NULL))
    return 1;
  printf("note: Fashion-MNIST not installed in " FMNIST_DIR
         " (apt-get install dataset-fashion-mnist); test skipped\n");
  return 0;
}

static ir_dataset *fashion(int split, size_t n, unsigned long seed) {
  gsl_rng *r = ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_DATA, 9, 0));
  ir_dataset *ds = NULL;
  IR_ASSERT_OK(ir_data_fashion_mnist(NULL, split, n, r, &ds));
  ir_rng_free(r);
  return ds;
}

static void assert_fashion(const ir_dataset *ds, size_t n) {
  ck_assert_uint_eq(ds->n, n);
  ck_assert_uint_eq(ds->d, 784);
  ck_assert_uint_eq(ds->K, 10);
  ck_assert_uint_eq(ds->nclasses, 10);
  double lo = 1, hi = 0;
  for (size_t i = 0; i < n; i++) {
    double rs = 0;
    for (size_t c = 0; c < 10; c++)
      rs += gsl_matrix_get(ds->Y, i, c);
    ck_assert(rs == 1.0);
    for (size_t j = 0; j < 784; j++) {
      double x = gsl_matrix_get(ds->X, i, j);
      lo = fmin(lo, x);
      hi = fmax(hi, x);
    }
  }
  assert_one_hot(ds);
  ck_assert(lo >= 0.0 && hi <= 1.0);
  ck_assert(hi > 0.5); /* the images are not blank */
}

START_TEST(test_fashion_subset) {
  if (!fashion_present())
    return;
  ir_dataset *tr = fashion(0, 100, 4), *te = fashion(1, 50, 4);
  assert_fashion(tr, 100);
  assert_fashion(te, 50);
  /* The image file inflated whole; streamed through zlib, the same. */
  int whole = 0;
  IR_ASSERT_OK(
      ir_idx_probe(FMNIST_DIR "/train-images-idx3-ubyte.gz", &whole));
  ck_assert_int_eq(whole, 1);
  ck_assert_int_eq(setenv("IMPLREG_IDX_WHOLE_MAX", "0", 1), 0);
  ir_dataset *tr2 = fashion(0, 100, 4);
  unsetenv("IMPLREG_IDX_WHOLE_MAX");
  ir_dataset *tr3 = fashion(0, 100, 5);
  ck_assert(same_data(tr, tr2));
  ck_assert_int_eq(memcmp(tr->labels, tr2->labels, 100 * sizeof(size_t)), 0);
  ck_assert(!same_bits(tr->X, tr3->X));

  /* Cross-check the test subset against the raw files: row k is file item
   * perm[k] of the documented draw (a partial Fisher–Yates shuffle). */
  const size_t N = 10000;
  size_t *perm = malloc(N * sizeof *perm);
  gsl_rng *r = ir_rng_alloc(4, ir_rng_stream(IR_STREAM_DATA, 9, 0));
  for (size_t i = 0; i < N; i++)
    perm[i] = i;
  for (size_t k = 0; k < 50; k++) {
    size_t j = k + gsl_rng_uniform_int(r, N - k), t = perm[k];
    perm[k] = perm[j];
    perm[j] = t;
  }
  ir_rng_free(r);
  gsl_matrix *img = NULL, *lab = NULL;
  IR_ASSERT_OK(
      ir_data_read_idx(FMNIST_DIR "/t10k-images-idx3-ubyte.gz", 0, &img));
  IR_ASSERT_OK(
      ir_data_read_idx(FMNIST_DIR "/t10k-labels-idx1-ubyte.gz", 0, &lab));
  ck_assert_uint_eq(img->size1, N);
  ck_assert_uint_eq(img->size2, 784);
  for (size_t k = 0; k < 50; k++) {
    ck_assert(te->labels[k] == (size_t)gsl_matrix_get(lab, perm[k], 0));
    for (size_t j = 0; j < 784; j++)
      ck_assert(gsl_matrix_get(te->X, k, j) ==
                gsl_matrix_get(img, perm[k], j) / 255.0);
  }
  free(perm);
  gsl_matrix_free(img);
  gsl_matrix_free(lab);
  ir_dataset *sets[4] = {tr, te, tr2, tr3};
  for (int k = 0; k < 4; k++)
    ir_dataset_free(sets[k]);
}
END_TEST

START_TEST(test_fashion_full_split) {
  if (!fashion_present())
    return;
  /* n equal to the split size: file order, no generator needed. */
  ir_dataset *ds = NULL;
  IR_ASSERT_OK(ir_data_fashion_mnist(NULL, 1, 10000, NULL, &ds));
  assert_fashion(ds, 10000);
  gsl_matrix *img = NULL, *lab = NULL;
  IR_ASSERT_OK(
      ir_data_read_idx(FMNIST_DIR "/t10k-images-idx3-ubyte.gz", 3, &img));
  IR_ASSERT_OK(
      ir_data_read_idx(FMNIST_DIR "/t10k-labels-idx1-ubyte.gz", 0, &lab));
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 784; j++)
      ck_assert(gsl_matrix_get(ds->X, i, j) ==
                gsl_matrix_get(img, i, j) / 255.0);
  for (size_t i = 0; i < 10000; i++)
    ck_assert(ds->labels[i] == (size_t)gsl_matrix_get(lab, i, 0));
  gsl_matrix_free(img);
  gsl_matrix_free(lab);
  ir_dataset_free(ds);

  ds = (ir_dataset *)1;
  ASSERT_FAILS(ir_data_fashion_mnist(NULL, 1, 10001, NULL, &ds), IR_EINVAL,
               "10000 images of the test split", NULL);
  ck_assert_ptr_null(ds);
  ASSERT_FAILS(ir_data_fashion_mnist(NULL, 1, 10, NULL, &ds), IR_EINVAL,
               "random generator", NULL);
}
END_TEST

/* ========================================================================== */

START_TEST(test_targets_1d) {
  /* The 1-D curve and step share their draws: the same seed gives the same
   * x (and noise), so y_step − sign(x) = y_curve − sin(2πx) exactly (both
   * are σε); test targets are noiseless with test_noise = 0; the noise has
   * variance σ² within 4 standard errors (σ²·√(2/n)); x lies in [−1, 1]. */
  const size_t n = 5000, nt = 300;
  const double sigma = 0.3;
  ir_dataset *a = NULL, *at = NULL, *b = NULL, *bt = NULL;
  gsl_rng *r = ir_rng_alloc(4, 5);
  IR_ASSERT_OK(ir_data_curve_1d(n, nt, sigma, 0, r, &a, &at));
  ir_rng_free(r);
  r = ir_rng_alloc(4, 5);
  IR_ASSERT_OK(ir_data_step_1d(n, nt, sigma, 0, r, &b, &bt));
  ir_rng_free(r);
  double ss = 0;
  for (size_t i = 0; i < n; i++) {
    const double x = gsl_matrix_get(b->X, i, 0);
    ck_assert(x >= -1 && x <= 1);
    ck_assert(x == gsl_matrix_get(a->X, i, 0));
    const double e = gsl_matrix_get(b->Y, i, 0) - (x < 0 ? -1.0 : 1.0);
    IR_ASSERT_CLOSE(e, gsl_matrix_get(a->Y, i, 0) - ir_data_curve_1d_f(x),
                    1e-15, 1e-15);
    ss += e * e;
  }
  const double var = ss / (double)n, s2 = sigma * sigma;
  ck_assert_msg(fabs(var - s2) <= 4 * s2 * sqrt(2.0 / (double)n),
                "noise variance %g, expected %g", var, s2);
  for (size_t i = 0; i < nt; i++) {
    const double x = gsl_matrix_get(bt->X, i, 0);
    ck_assert(gsl_matrix_get(bt->Y, i, 0) == ir_data_step_1d_f(x));
  }
  ck_assert(ir_data_step_1d_f(0.0) == 1.0 &&
            ir_data_step_1d_f(-1e-300) == -1.0);
  ir_dataset *c = NULL;
  ck_assert_int_eq(ir_data_step_1d(0, 0, sigma, 0, NULL, &c, NULL), IR_EINVAL);
  ck_assert_int_eq(ir_data_step_1d(5, 0, -1.0, 0, NULL, &c, NULL), IR_EINVAL);
  ir_dataset_free(a);
  ir_dataset_free(at);
  ir_dataset_free(b);
  ir_dataset_free(bt);
}
END_TEST

START_TEST(test_sphere_teacher) {
  /* Every input lies on the sphere of radius √d; test targets are exactly
   * ⟨β, x⟩ and training targets add noise of variance τ²: with β recovered
   * from the noiseless test set by least squares (ntest > d), the training
   * residual variance must be τ² within 4 standard errors (τ²·√(2/n)). */
  const size_t n = 4000, nt = 200, d = 10;
  const double F1 = 2.0, tau2 = 0.25;
  gsl_rng *r = ir_rng_alloc(3, 9);
  ir_dataset *tr = NULL, *te = NULL;
  IR_ASSERT_OK(ir_data_sphere_teacher(n, nt, d, F1, tau2, r, &tr, &te));
  for (size_t i = 0; i < n; i++) {
    gsl_vector_const_view x = gsl_matrix_const_row(tr->X, i);
    IR_ASSERT_CLOSE(gsl_blas_dnrm2(&x.vector), sqrt((double)d), 1e-13, 0);
  }
  gsl_matrix *W = gsl_matrix_alloc(d, 1);
  IR_ASSERT_OK(ir_minnorm_solve(te->X, te->Y, IR_MINNORM_SVD, -1, 1, W, NULL));
  IR_ASSERT_CLOSE(ir_matrix_fro(W), F1, 1e-10, 0);
  gsl_matrix *R = gsl_matrix_alloc(n, 1);
  gsl_matrix_memcpy(R, tr->Y);
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, tr->X, W, -1.0, R);
  const double rr = ir_matrix_fro(R);
  IR_ASSERT_CLOSE(rr * rr / (double)n, tau2, 0, 4 * tau2 * sqrt(2.0 / n));
  ir_dataset_free(tr);
  ir_dataset_free(te);
  /* (freed first: the failing call resets the output pointers) */
  ck_assert_int_eq(ir_data_sphere_teacher(0, nt, d, F1, tau2, r, &tr, &te),
                   IR_EINVAL);
  gsl_matrix_free(R);
  gsl_matrix_free(W);
  ir_rng_free(r);
}
END_TEST

static Suite *data_suite(void) {
  Suite *s = suite_create("data");
  TCase *tc;

  tc = tcase_create("formats");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_csv_roundtrip);
  tcase_add_test(tc, test_csv_lenient);
  tcase_add_test(tc, test_csv_large);
  tcase_add_test(tc, test_csv_matches_strtod);
  tcase_add_test(tc, test_npy_roundtrip);
  tcase_add_test(tc, test_npy_dtypes);
  tcase_add_test(tc, test_read_matrix_dispatch);
  tcase_add_test(tc, test_idx_roundtrip);
  tcase_add_test(tc, test_idx_whole_and_streamed);
  tcase_set_timeout(tc, 60);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_csv_errors);
  tcase_add_test(tc, test_write_errors);
  tcase_add_test(tc, test_npy_errors);
  tcase_add_test(tc, test_idx_errors);
  tcase_add_test(tc, test_check_finite);
  tcase_add_test(tc, test_dataset_alloc);
  tcase_add_test(tc, test_teacher_invalid);
  tcase_add_test(tc, test_fashion_errors);
  tcase_add_test(tc, test_label_noise_errors);
  suite_add_tcase(s, tc);

  tc = tcase_create("synthetic");
  tcase_add_test(tc, test_sphere_teacher);
  tcase_add_test(tc, test_targets_1d);
  tcase_add_test(tc, test_teacher_moments);
  tcase_add_test(tc, test_teacher_spectrum);
  tcase_add_test(tc, test_teacher_reproducible);
  tcase_set_timeout(tc, 60);
  suite_add_tcase(s, tc);

  tc = tcase_create("transforms");
  tcase_add_test(tc, test_append_ones);
  tcase_add_test(tc, test_subset);
  tcase_add_test(tc, test_standardize);
  tcase_add_test(tc, test_label_noise);
  suite_add_tcase(s, tc);

  tc = tcase_create("fashion");
  tcase_add_test(tc, test_fashion_subset);
  tcase_add_test(tc, test_fashion_full_split);
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ir_test_run(data_suite());
}
