/* data_idx.c — IDX files (raw or gzip) and the Fashion-MNIST loader.  See
 * implreg/data.h.
 *
 * A gzip file is inflated whole by libdeflate when its data fit in
 * IR_IDX_WHOLE_MAX bytes (0.09 s for Fashion-MNIST's 47 MB of training
 * images, against 0.25–0.5 s through zlib's stream on this project's VMs),
 * and streamed through zlib otherwise (memory O(chunk)).  Whatever
 * libdeflate cannot read exactly — a truncated or corrupt stream, data
 * shorter or longer than the header declares — is read again through
 * zlib, so both paths accept the same files, return the same bytes and
 * fail with the same messages.
 *
 * References: IDX is described on Y. LeCun's MNIST page; the random subsets
 * are the first steps of the Fisher–Yates shuffle (Knuth, TAOCP vol. 2, 3rd
 * ed., Algorithm 3.4.2P); gzip is RFC 1952.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "implreg/data.h"

#include "bigalloc.h"
#include "data_internal.h"
#include "implreg/status.h"

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <inttypes.h>
#include <limits.h>
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

/* Size of the zlib input buffer (its default, 8 KiB, makes gzread slower on
 * the 26 MB Fashion-MNIST image file). */
#define IR_GZ_BUFFER (128u * 1024u)

/* Bytes converted per step when IDX data become doubles. */
#define IR_IDX_CHUNK ((size_t)1 << 16)

/* Gzip files whose IDX data (header included) fit in this many bytes are
 * inflated whole; IMPLREG_IDX_WHOLE_MAX (bytes) replaces it, so that tests
 * reach the streamed path with small files. */
#define IR_IDX_WHOLE_MAX ((uintmax_t)1 << 30)

/* gzread takes an unsigned int length and returns an int: read in pieces
 * that fit both. */
#define IR_GZ_PIECE ((size_t)1 << 30)

/* Fashion-MNIST has ten classes (T-shirt/top, ..., ankle boot). */
#define IR_FMNIST_CLASSES 10

/* ======================================================================== */
/* IDX                                                                       */
/* ======================================================================== */

/* An open IDX file, read item by item.  zlib's gzread reads gzip streams and
 * passes other files through unchanged, so the compression is detected by
 * the gzip magic bytes, not by the name.  When the gzip file was inflated
 * whole, mem holds its decompressed bytes and gz is closed. */
typedef struct {
  gzFile gz;
  unsigned char *mem; /* the whole decompressed file, or NULL */
  size_t mlen, mpos;  /* its length and the read position */
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
  free(f->mem);
  f->mem = NULL;
}

static uintmax_t ir_idx_whole_max(void) {
  const char *v = getenv("IMPLREG_IDX_WHOLE_MAX");
  return v != NULL ? strtoumax(v, NULL, 10) : IR_IDX_WHOLE_MAX;
}

/* The gzip file at f->path inflated whole by libdeflate: 1 when it holds
 * exactly `total` bytes of data in one or more members (anything after
 * them ignored, as the streamed reader ignores it) and hdr (hlen bytes)
 * is their beginning; f->mem then holds them, read from hlen on.  0, with
 * f unchanged, otherwise — the caller goes on with zlib's stream. */
static int ir_idx_inflate_whole(ir_idx_file *f, size_t total,
                                const unsigned char *hdr, size_t hlen) {
  int fd = open(f->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  struct stat st;
  unsigned char *in = NULL, *out = NULL;
  struct libdeflate_decompressor *dc = NULL;
  int ok = 0;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
      (uintmax_t)st.st_size > SIZE_MAX)
    goto done;
  const size_t insize = (size_t)st.st_size;
  in = ir_alloc_big(insize);
  out = ir_alloc_big(total > 0 ? total : 1);
  dc = libdeflate_alloc_decompressor();
  if (in == NULL || out == NULL || dc == NULL)
    goto done;
  size_t got = 0;
  while (got < insize) {
    ssize_t r = read(fd, in + got, insize - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      goto done; /* changed under us: zlib's stream reports it */
    got += (size_t)r;
  }
  size_t ipos = 0, opos = 0;
  while (opos < total && ipos < insize) {
    size_t used, made;
    if (libdeflate_gzip_decompress_ex(dc, in + ipos, insize - ipos,
                                      out + opos, total - opos, &used,
                                      &made) != LIBDEFLATE_SUCCESS)
      goto done;
    ipos += used;
    opos += made;
  }
  if (opos != total || memcmp(out, hdr, hlen) != 0)
    goto done;
  f->mem = out;
  f->mlen = total;
  f->mpos = hlen;
  out = NULL;
  ok = 1;
done:
  if (dc != NULL)
    libdeflate_free_decompressor(dc);
  free(in);
  free(out);
  close(fd);
  return ok;
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
  if (!S_ISREG(st.st_mode)) {
    /* A FIFO would block gzopen, a device never end: refused by the same
     * check as CSV and NPY files. */
    FILE *fp;
    uintmax_t size;
    int s = ir_data_open_regular(path, &fp, &size);
    if (s == IR_OK) { /* replaced by a regular file meanwhile */
      fclose(fp);
      s = ir_error(IR_EIO, "cannot read %s: it changed while opened", path);
    }
    return s;
  }
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
    if ((uintmax_t)st.st_size >= 4 + hbytes && have > need) {
      ir_idx_close(f);
      return ir_error(IR_EFORMAT,
                      "%s: %ju unexpected bytes after the IDX data: the header "
                      "declares %zu items of %zu bytes (%ju bytes), found %ju",
                      path, have - need, f->n, f->itemsize, need, have);
    }
    if ((uintmax_t)st.st_size < 4 + hbytes || have < need) {
      ir_idx_close(f);
      return ir_error(IR_EFORMAT,
                      "%s: truncated IDX data: expected %ju bytes for %zu "
                      "items of %zu bytes, found %ju",
                      path, need, f->n, f->itemsize,
                      (uintmax_t)st.st_size < 4 + hbytes ? (uintmax_t)0 : have);
    }
  } else {
    /* Deflate expands at most 1032:1: a header declaring more data than
     * the compressed file can hold is refused before allocating. */
    uintmax_t need = (uintmax_t)f->n * f->itemsize;
    uintmax_t most = (uintmax_t)st.st_size * 1032u + 4096u;
    if (need > most) {
      ir_idx_close(f);
      return ir_error(IR_EFORMAT,
                      "%s: the IDX header declares %ju bytes of data, more "
                      "than a gzip file of %ju bytes can hold; the file is "
                      "truncated or corrupt",
                      path, need, (uintmax_t)st.st_size);
    }
    const size_t hlen = 4 + hbytes;
    const uintmax_t whole = ir_idx_whole_max();
    if (whole >= hlen && need <= whole - hlen && need <= SIZE_MAX - hlen &&
        ir_idx_inflate_whole(f, (size_t)need + hlen, h, hlen)) {
      gzclose(f->gz);
      f->gz = NULL;
    }
  }
  return IR_OK;
}

/* The next k items: *items points at them, into the decompressed file when
 * it is held whole (no copy), else into buf (k·itemsize bytes), read
 * there. */
static int ir_idx_take(ir_idx_file *f, unsigned char *buf, size_t k,
                       const unsigned char **items) {
  *items = NULL;
  if (k > f->n - f->done)
    return ir_error(IR_EINTERNAL, "%s: reading past the last IDX item",
                    f->path);
  size_t want = k * f->itemsize, got;
  if (f->mem != NULL) { /* all of it is there: the header said so */
    *items = f->mem + f->mpos;
    f->mpos += want;
    f->done += k;
    return IR_OK;
  }
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
  *items = buf;
  return IR_OK;
}

/* Reads the next k items into buf (k·itemsize bytes). */
static int ir_idx_read(ir_idx_file *f, unsigned char *buf, size_t k) {
  const unsigned char *items;
  int s = ir_idx_take(f, buf, k, &items);
  if (s == IR_OK && items != buf)
    memcpy(buf, items, k * f->itemsize);
  return s;
}

int ir_idx_probe(const char *path, int *whole) {
  ir_idx_file f;
  int s = ir_idx_open(&f, path);
  *whole = s == IR_OK && f.mem != NULL;
  if (s == IR_OK)
    ir_idx_close(&f);
  return s;
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
  if (s == IR_OK && (s = ir_data_mat_new(rows, f.itemsize, 0, &A)) != IR_OK)
    ir_error_context(s, "%s", path);
  for (size_t i = 0; s == IR_OK && i < rows; i += per) {
    size_t k = rows - i < per ? rows - i : per;
    const unsigned char *items;
    s = ir_idx_take(&f, buf, k, &items);
    for (size_t r = 0; s == IR_OK && r < k; r++) {
      double *x = ir_row(A, i + r);
      const unsigned char *b = items + r * f.itemsize;
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
    if ((s = ir_data_check_range(r, N, "Fashion-MNIST")) != IR_OK)
      goto done;
    ir_data_partial_shuffle(r, perm, N, n);
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
    const unsigned char *items;
    if ((s = ir_idx_take(&imgs, buf, k, &items)) != IR_OK)
      goto done;
    for (size_t t = 0; t < k; t++) {
      size_t row = where[i + t];
      if (row == SIZE_MAX)
        continue;
      double *x = ir_row(ds->X, row);
      const unsigned char *b = items + t * d;
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
